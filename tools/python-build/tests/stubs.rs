//! The Python SDK's editor stubs (`guest-sdk-py/**/*.pyi`) must match its modules.
//!
//! The modules import bindings that exist only inside a component, so editors and type
//! checkers read the stubs instead; nothing else ties a stub to its module, and one that
//! drifts misleads them silently. `check_stubs.py` compares each stub with its module; these
//! tests run it with `$KERNBENCH_PYTHON` (else `python3`, 3.10 or newer), on the SDK and on
//! copies with a stub broken (a method taken out, a parameter renamed, a default added), to
//! show that the check fails and says where.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sdk_dir() -> PathBuf {
    manifest_dir().join("../../guest-sdk-py")
}

/// `check_stubs.py` run on the SDK at `sdk`.
fn check_stubs(sdk: &Path) -> Output {
    let python = std::env::var("KERNBENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    Command::new(&python)
        .arg(manifest_dir().join("check_stubs.py"))
        .arg(sdk)
        .output()
        .unwrap_or_else(|e| panic!("cannot start `{python}` (set KERNBENCH_PYTHON): {e}"))
}

fn printed(out: &Output) -> String {
    format!(
        "exit: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A directory removed when the test ends, passed or not.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[test]
fn every_sdk_module_has_a_stub_that_matches_it() {
    let out = check_stubs(&sdk_dir());
    assert!(
        out.status.success(),
        "the stubs differ from the modules:\n{}",
        printed(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(" 0 problems"), "{}", printed(&out));
}

/// A copy of the SDK (removed when dropped) whose `torch/_tensor.pyi` has had `edit`
/// applied; panics if the edit changed nothing.
fn sdk_with_tensor_stub(test: &str, edit: impl Fn(&str) -> String) -> TempDir {
    let copy = TempDir(
        std::env::temp_dir().join(format!("kernbench-stubs-{test}-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(&copy.0);
    copy_dir(&sdk_dir(), &copy.0).unwrap();
    let stub = copy.0.join("torch/_tensor.pyi");
    let text = std::fs::read_to_string(&stub).unwrap();
    let edited = edit(&text);
    assert_ne!(
        edited,
        text,
        "the edit changed nothing in {}",
        stub.display()
    );
    std::fs::write(&stub, edited).unwrap();
    copy
}

/// The checker fails on `sdk` and names `name` in a `torch/_tensor.pyi` line holding `why`.
fn assert_named(sdk: &Path, name: &str, why: &str) {
    let out = check_stubs(sdk);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|line| line.starts_with("torch/_tensor.pyi:")
                && line.contains(name)
                && line.contains(why)),
        "no line names {name} ({why}):\n{}",
        printed(&out)
    );
}

#[test]
fn a_method_missing_from_a_stub_is_named() {
    let copy = sdk_with_tensor_stub("missing", |text| {
        let kept: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("def numel("))
            .collect();
        kept.join("\n") + "\n"
    });
    assert_named(&copy.0, "numel", "only in the module");
}

#[test]
fn a_renamed_parameter_or_a_default_only_in_the_stub_is_named() {
    let narrow = "def narrow(self, dim: int, start: int, length: int)";
    let renamed = sdk_with_tensor_stub("renamed", |text| {
        text.replace(
            narrow,
            "def narrow(self, dim: int, begin: int, length: int)",
        )
    });
    assert_named(
        &renamed.0,
        "narrow",
        "parameters (self, dim, start, length)",
    );
    // A stub that makes `length` optional would let an editor accept `t.narrow(0, 1)`,
    // which fails at run time.
    let optional = sdk_with_tensor_stub("optional", |text| {
        text.replace(
            narrow,
            "def narrow(self, dim: int, start: int, length: int = 1)",
        )
    });
    assert_named(
        &optional.0,
        "narrow",
        "a default in the stub but not in the module: length",
    );
}
