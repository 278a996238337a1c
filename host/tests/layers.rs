//! The layer arrows of ADR-0002, checked on the source: a module may name (`crate::x`) only
//! the layers below it. runtime -> {sched, sim}; report -> sim; every layer may use the leaf
//! vocabulary (`model`, `checkout`). The CLI and the service are crates of their own above
//! this one, so cargo itself keeps the host library from naming them.

#![allow(clippy::unwrap_used)]
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may name.
const ALLOWED: &[(&str, &[&str])] = &[
    ("sim", &[]),
    ("sched", &[]),
    ("checkout", &[]),
    ("model", &["sim", "checkout"]),
    ("runtime", &["model", "sched", "sim"]),
    ("report", &["model", "sim"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `text` names as `crate::<module>`.
fn named_layers(text: &str) -> BTreeSet<String> {
    text.match_indices("crate::")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for (layer, allowed) in ALLOWED {
        let mut files = Vec::new();
        let dir = src.join(layer);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = src.join(format!("{layer}.rs"));
        if file.is_file() {
            files.push(file);
        }
        assert!(!files.is_empty(), "layer {layer} has no source files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            checked += 1;
            for name in named_layers(&text) {
                if name != *layer && !allowed.contains(&name.as_str()) {
                    violations.push(format!("{} names crate::{name}", file.display()));
                }
            }
        }
    }
    assert!(checked > 25, "only {checked} files checked");
    assert!(
        violations.is_empty(),
        "layer arrows broken:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_checker_sees_a_forbidden_arrow() {
    let names = named_layers("use crate::report::RunReport; let x = crate::sim::DType::F32;");
    assert_eq!(
        names,
        BTreeSet::from(["report".to_owned(), "sim".to_owned()])
    );
}
