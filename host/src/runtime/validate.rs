//! Load-time checks, before any instance runs: is it a component at all, does it import only
//! what the bench world offers, was it built for one of the WIT versions this host links,
//! does it export `wasi:cli/run`. Each refusal is a named error listing everything wrong.

pub use crate::model::LoadError;
use serde::Serialize;
use std::fmt;
use wasmtime::wasmparser::{Encoding, Parser, Payload};

/// The versions of it the host links, oldest first.
pub use kernbench_abi::HOST_WIT_VERSIONS;
/// Custom section where the guest SDK stamps its version (see `guest-sdk/src/version.rs`).
pub use kernbench_abi::SDK_SECTION;
/// The WIT package this host implements (from `kernbench-abi`, shared with the SDK).
pub use kernbench_abi::WIT_PACKAGE as HOST_WIT_PACKAGE;
use kernbench_abi::{BENCH_INTERFACES, WASI_INTERFACES};

/// `kernbench:bench@0.1.0 and kernbench:bench@0.2.0`, for messages.
fn host_speaks() -> String {
    let versions: Vec<String> = HOST_WIT_VERSIONS
        .iter()
        .map(|v| format!("{HOST_WIT_PACKAGE}@{v}"))
        .collect();
    versions.join(" and ")
}

/// What a component is, as `kernbench validate` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentInfo {
    /// Size in bytes.
    pub bytes: usize,
    /// The bench API version it imports (`kernbench:bench@0.1.0`), if any.
    pub world: Option<String>,
    /// SDK version stamped into it, if built with the SDK.
    pub sdk_version: Option<String>,
    /// WIT package the SDK stamped.
    pub sdk_wit: Option<String>,
    /// Top-level imports.
    pub imports: Vec<String>,
    /// Top-level exports.
    pub exports: Vec<String>,
}

impl fmt::Display for ComponentInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "size      {} bytes", self.bytes)?;
        writeln!(
            f,
            "world     {} (bench)",
            self.world
                .as_deref()
                .unwrap_or("none: imports no bench API")
        )?;
        writeln!(
            f,
            "sdk       {}",
            self.sdk_version.as_deref().map_or(
                "no stamp (not built with the kernbench SDK)".to_owned(),
                |v| format!("kernbench {v}")
            )
        )?;
        writeln!(f, "imports   {}", self.imports.len())?;
        for i in &self.imports {
            writeln!(f, "  {i}")?;
        }
        writeln!(f, "exports   {}", self.exports.len())?;
        for e in &self.exports {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// `pkg:name/iface@version` split into (`pkg:name/iface`, version).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.rsplit_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Read what the component imports, exports and stamps, without compiling it.
pub fn inspect(bytes: &[u8]) -> Result<ComponentInfo, LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(LoadError::InvalidComponent(format!(
            "not a WebAssembly binary: it starts with [{}] instead of 00 61 73 6d (\"\\0asm\")",
            head.join(" ")
        )));
    }
    if Parser::is_core_wasm(bytes) {
        return Err(LoadError::InvalidComponent(
            "this is a core WebAssembly module, not a component: build the bench for wasm32-wasip2, which emits a component".into(),
        ));
    }
    if !Parser::is_component(bytes) {
        return Err(LoadError::InvalidComponent(
            "unknown WebAssembly binary version (not a component)".into(),
        ));
    }
    let mut info = ComponentInfo {
        bytes: bytes.len(),
        world: None,
        sdk_version: None,
        sdk_wit: None,
        imports: Vec::new(),
        exports: Vec::new(),
    };
    let mut depth = 0usize;
    let mut ended = false;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| {
            LoadError::InvalidComponent(format!(
                "malformed at byte {} of {}: {}",
                e.offset(),
                bytes.len(),
                e.message()
            ))
        })?;
        match payload {
            Payload::Version { encoding, .. } => {
                depth += 1;
                if depth == 1 && encoding != Encoding::Component {
                    return Err(LoadError::InvalidComponent("not a component".into()));
                }
            }
            Payload::End(_) => {
                depth = depth.saturating_sub(1);
                ended = depth == 0;
            }
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import = import.map_err(|e| {
                        LoadError::InvalidComponent(format!(
                            "malformed import at byte {}: {}",
                            e.offset(),
                            e.message()
                        ))
                    })?;
                    info.imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export = export.map_err(|e| {
                        LoadError::InvalidComponent(format!(
                            "malformed export at byte {}: {}",
                            e.offset(),
                            e.message()
                        ))
                    })?;
                    info.exports.push(export.name.name.to_owned());
                }
            }
            Payload::CustomSection(reader) if reader.name() == SDK_SECTION => {
                if let Ok(stamp) = serde_json::from_slice::<serde_json::Value>(reader.data()) {
                    info.sdk_version = stamp["sdk"].as_str().map(str::to_owned);
                    info.sdk_wit = stamp["wit"].as_str().map(str::to_owned);
                }
            }
            _ => {}
        }
    }
    if !ended {
        return Err(LoadError::InvalidComponent(format!(
            "truncated: the component ends early after {} bytes",
            bytes.len()
        )));
    }
    info.world = info
        .imports
        .iter()
        .filter_map(|i| {
            i.strip_prefix(&format!("{HOST_WIT_PACKAGE}/"))
                .map(|rest| (i, rest))
        })
        .find_map(|(_, rest)| {
            split_version(rest)
                .1
                .map(|v| format!("{HOST_WIT_PACKAGE}@{v}"))
        });
    Ok(info)
}

/// Inspect and apply every load-time rule.
pub fn validate(bytes: &[u8]) -> Result<ComponentInfo, LoadError> {
    let info = inspect(bytes)?;
    let mut denied = Vec::new();
    let mut other_version = None;
    let mut spoken: Option<&str> = None;
    for import in &info.imports {
        let (base, version) = split_version(import);
        if let Some(iface) = base.strip_prefix(&format!("{HOST_WIT_PACKAGE}/")) {
            let known = version.filter(|v| HOST_WIT_VERSIONS.contains(v));
            match (known, spoken) {
                (None, _) => {
                    other_version = Some(format!(
                        "{HOST_WIT_PACKAGE}@{}",
                        version.unwrap_or("unversioned")
                    ));
                }
                // One component speaks one version: the host links each separately.
                (Some(v), Some(first)) if v != first => {
                    other_version = Some(format!(
                        "both {HOST_WIT_PACKAGE}@{first} and {HOST_WIT_PACKAGE}@{v}"
                    ));
                }
                (Some(v), _) => spoken = Some(v),
            }
            if !BENCH_INTERFACES.contains(&iface) {
                denied.push(import.clone());
            }
        } else if !(WASI_INTERFACES.contains(&base)
            && version.is_some_and(|v| v.starts_with("0.2.")))
        {
            denied.push(import.clone());
        }
    }
    if let Some(built_for) = other_version {
        return Err(LoadError::IncompatibleWitVersion {
            built_for,
            sdk: info.sdk_version.clone(),
            host_speaks: host_speaks(),
        });
    }
    if !denied.is_empty() {
        return Err(LoadError::ImportDenied(denied));
    }
    let runs = info.exports.iter().any(|e| {
        let (base, version) = split_version(e);
        base == "wasi:cli/run" && version.is_some_and(|v| v.starts_with("0.2."))
    });
    if !runs {
        return Err(LoadError::MissingExport(info.exports.clone()));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_core_modules_are_named() {
        let err = validate(b"hello world!").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a WebAssembly binary: it starts with [68 65 6c 6c] instead of 00 61 73 6d (\"\\0asm\")"
        );
        let core = [0, b'a', b's', b'm', 1, 0, 0, 0];
        let err = validate(&core).unwrap_err();
        assert!(
            err.to_string()
                .contains("core WebAssembly module, not a component"),
            "{err}"
        );
        let empty_component = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        let err = validate(&empty_component).unwrap_err();
        assert_eq!(err.kind(), "missing-export");
    }
}
