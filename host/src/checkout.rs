//! The source checkout this binary was built from, if it is still there: where the bundled
//! benches live, and which components count as built here (trusted by location).

use std::path::{Path, PathBuf};

/// The repository this binary was built from (bundled benches live there).
pub fn repo_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    root.join("benches-wasm")
        .join("Cargo.toml")
        .is_file()
        .then_some(root)
}

/// Whether `component` lies where `cargo build --target wasm32-wasip2` puts this checkout's
/// own guests (the bundled benches, `kernbench build` of them).
pub fn built_here(component: &Path) -> bool {
    let Some(root) = repo_root() else {
        return false;
    };
    let target = root.join("target").join(kernbench_guest_build::TARGET);
    match (component.canonicalize(), target.canonicalize()) {
        (Ok(c), Ok(t)) => c.starts_with(t),
        _ => false,
    }
}
