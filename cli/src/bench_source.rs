//! Where benches come from: a `.wasm` path, a Python bench (built on demand), or a bundled
//! bench built from this repository.

use super::progress;
use super::run::default_cache_dir;
use anyhow::{Context, Result, bail};
use kernbench_guest_build::{Artifact, GuestBuild};
use kernbench_host::checkout::repo_root;
use kernbench_python_build::PythonBuild;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Names of the bundled benches (`benches-wasm/src/bin/*.rs`), sorted.
pub fn bundled_benches(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("benches-wasm/src/bin");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("listing bundled benches in {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}

/// Print build progress notes on stderr (they are for the user, not the report).
#[allow(clippy::print_stderr)]
pub fn note(message: &str) {
    eprintln!("kernbench: {message}");
}

/// Build bundled benches by name (all of them if `names` is empty).
pub fn build_bundled(names: &[String]) -> Result<Vec<Artifact>> {
    let root = repo_root().context(
        "bundled benches are only available from a KernBench source checkout; pass a .wasm path instead",
    )?;
    let known = bundled_benches(&root)?;
    for name in names {
        if !known.contains(name) {
            bail!(
                "no bundled bench named {name:?}; bundled benches: {}",
                known.join(", ")
            );
        }
    }
    let mut spec = GuestBuild::new(root.join("Cargo.toml"));
    spec.packages = vec!["kernbench-benches".to_owned()];
    spec.bins = names.to_vec();
    Ok(kernbench_guest_build::build(&spec, &mut note)?)
}

/// Build a Python bench (a `.py` file or a directory with `bench.py`) and return its name
/// and component. What it is doing shows as a spinner on a terminal, else as notes.
pub fn build_python(bench: &Path, output: Option<PathBuf>) -> Result<(String, PathBuf)> {
    let cache_dir = default_cache_dir()
        .context("no kernbench cache directory: set KERNBENCH_CACHE_DIR (or HOME)")?;
    let cache_dir = std::path::absolute(&cache_dir)
        .with_context(|| format!("resolving {}", cache_dir.display()))?;
    let spec = PythonBuild {
        bench: bench.to_path_buf(),
        output,
        cache_dir,
    };
    let spinner = progress::wanted(false).then(progress::spinner);
    if let Some(bar) = &spinner {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    let mut tell = |message: &str| match &spinner {
        Some(bar) => bar.set_message(message.to_owned()),
        None => note(message),
    };
    let built = kernbench_python_build::build(&spec, &mut tell);
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let built = built.with_context(|| format!("building Python bench {}", bench.display()))?;
    Ok((built.name, built.path))
}

/// A bench argument resolved to a component on disk and a display name.
pub fn resolve(bench: &str) -> Result<(String, PathBuf)> {
    let path = Path::new(bench);
    let is_python_dir = path.is_dir() && path.join("bench.py").is_file();
    if path.extension().is_some_and(|e| e == "py") || is_python_dir {
        if !path.exists() {
            bail!("Python bench {} does not exist", path.display());
        }
        return build_python(path, None);
    }
    if path.extension().is_some_and(|e| e == "wasm") || path.is_file() {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => bail!("bench component {} is not a regular file", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!("bench component {} does not exist", path.display())
            }
            Err(e) => {
                return Err(e).with_context(|| format!("bench component {}", path.display()));
            }
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(bench)
            .to_owned();
        return Ok((name, path.to_path_buf()));
    }
    let built = build_bundled(&[bench.to_owned()])?;
    let artifact = built
        .into_iter()
        .find(|a| a.name == bench)
        .with_context(|| format!("cargo built no component for bench {bench}"))?;
    Ok((artifact.name, artifact.path))
}
