//! `kernbench build`: compile a bench crate, a Python bench or a bundled bench to a
//! component.

use super::bench_source::{build_bundled, build_python, note};
use super::exit;
use super::run::default_cache_dir;
use anyhow::{Context, Result, bail};
use clap::Args;
use kernbench_guest_build::GuestBuild;
use kernbench_host::checkout::repo_root;
use std::path::{Path, PathBuf};

/// Arguments of `kernbench build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A bench crate directory or its Cargo.toml, a Python bench (a .py file or a directory
    /// with bench.py), or the name of a bundled bench; omit to build every bundled bench.
    bench: Option<String>,
    /// Where a Python bench's component goes. Default: `python-target/<name>.wasm` in the
    /// kernbench cache.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Cargo's target directory for a bench crate. Default: $CARGO_TARGET_DIR, else one
    /// directory shared by every bench crate (`guest-target` in the kernbench cache), so a
    /// new bench does not rebuild the SDK from scratch.
    #[arg(long, value_name = "DIR")]
    target_dir: Option<PathBuf>,
}

/// What a `build` argument names.
#[derive(Debug, PartialEq, Eq)]
enum BuildTarget {
    /// A crate, by its manifest.
    Manifest(PathBuf),
    /// A Python bench: a `.py` file or a directory with `bench.py`.
    Python(PathBuf),
    /// A bundled bench, by name.
    Bundled(String),
}

/// Tell a crate path from a bundled bench name. Anything that looks like a path (has a
/// separator, starts with `.` or `~`) must exist; only a bare word may name a bundled bench.
fn classify(arg: &str) -> Result<BuildTarget> {
    let path = Path::new(arg);
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "py") {
            return Ok(BuildTarget::Python(path.to_path_buf()));
        }
        if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            return Ok(BuildTarget::Manifest(path.to_path_buf()));
        }
        bail!(
            "{arg} is a file, not a bench crate: pass the crate's directory or its Cargo.toml (to run a built component, use `kernbench run {arg}`)"
        );
    }
    if path.is_dir() {
        let manifest = path.join("Cargo.toml");
        if manifest.is_file() {
            return Ok(BuildTarget::Manifest(manifest));
        }
        if path.join("bench.py").is_file() {
            return Ok(BuildTarget::Python(path.to_path_buf()));
        }
        bail!(
            "{arg} has neither a Cargo.toml nor a bench.py: pass a bench crate directory, a Python bench or a bundled bench name"
        );
    }
    let looks_like_path = arg.contains(std::path::MAIN_SEPARATOR)
        || arg.contains('/')
        || arg.starts_with('.')
        || arg.starts_with('~');
    if looks_like_path {
        bail!("{arg} does not exist: pass a bench crate directory or a bundled bench name");
    }
    Ok(BuildTarget::Bundled(arg.to_owned()))
}

/// The target directory for a bench crate: the flag, the user's `CARGO_TARGET_DIR`, or the
/// shared one in the kernbench cache.
fn crate_target_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .or_else(|| default_cache_dir().map(|d| d.join("guest-target")))
}

/// Build and print the component paths, one per line.
pub fn build(args: BuildArgs) -> Result<u8> {
    let target = match args.bench.as_deref() {
        None => None,
        Some(arg) => Some(classify(arg)?),
    };
    if args.output.is_some() && !matches!(target, Some(BuildTarget::Python(_))) {
        bail!(
            "--output is for Python benches; cargo decides where a crate's components go (see --target-dir)"
        );
    }
    let artifacts = match target {
        None => build_bundled(&[])?,
        Some(BuildTarget::Bundled(name)) => build_bundled(&[name])?,
        Some(BuildTarget::Python(bench)) => {
            let (_, built) = build_python(&bench, args.output)?;
            println!("{}", built.display());
            return Ok(exit::OK);
        }
        Some(BuildTarget::Manifest(manifest)) => {
            // Absolute, because cargo runs in the crate's directory.
            let manifest = std::path::absolute(&manifest)
                .with_context(|| format!("resolving {}", manifest.display()))?;
            let mut spec = GuestBuild::new(&manifest);
            spec.target_dir = crate_target_dir(args.target_dir);
            kernbench_guest_build::build(&spec, &mut note)
                .with_context(|| format!("building bench crate {}", manifest.display()))?
        }
    };
    if artifacts.is_empty() {
        bail!(
            "cargo built no binary component: a bench is a crate with `fn main()` (a [[bin]] target)"
        );
    }
    let root = repo_root();
    for a in artifacts {
        // Paths inside this checkout print relative to it, as the README shows them.
        let shown = root
            .as_ref()
            .and_then(|r| a.path.strip_prefix(r).ok())
            .map_or(a.path.clone(), PathBuf::from);
        println!("{}", shown.display());
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names_are_told_apart() {
        let here = env!("CARGO_MANIFEST_DIR");
        let manifest = format!("{here}/Cargo.toml");
        assert_eq!(
            classify(here).unwrap(),
            BuildTarget::Manifest(PathBuf::from(&manifest))
        );
        assert_eq!(
            classify(&manifest).unwrap(),
            BuildTarget::Manifest(PathBuf::from(&manifest))
        );
        assert_eq!(
            classify("hello").unwrap(),
            BuildTarget::Bundled("hello".into())
        );
        let err = classify("/no/such/dir").unwrap_err().to_string();
        assert_eq!(
            err,
            "/no/such/dir does not exist: pass a bench crate directory or a bundled bench name"
        );
        let err = classify("./missing").unwrap_err().to_string();
        assert!(err.starts_with("./missing does not exist"), "{err}");
        let py = format!("{here}/../benches-py/hello.py");
        assert_eq!(
            classify(&py).unwrap(),
            BuildTarget::Python(PathBuf::from(&py))
        );
        let src = format!("{here}/src");
        let err = classify(&src).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "has neither a Cargo.toml nor a bench.py: pass a bench crate directory, a Python bench or a bundled bench name"
            ),
            "{err}"
        );
    }
}
