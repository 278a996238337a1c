//! `kernbench build`: compile a bench crate or a bundled bench to a component.

use super::bench_source::{build_bundled, note, repo_root};
use super::exit;
use anyhow::{Context, Result, bail};
use clap::Args;
use kernbench_guest_build::GuestBuild;
use std::path::PathBuf;

/// Arguments of `kernbench build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// A bench crate directory (with Cargo.toml), or the name of a bundled bench; omit to
    /// build every bundled bench.
    bench: Option<String>,
}

/// Build and print the component paths, one per line.
pub fn build(args: BuildArgs) -> Result<u8> {
    let artifacts = match args.bench {
        None => build_bundled(&[])?,
        Some(bench) => {
            let dir = PathBuf::from(&bench);
            if dir.join("Cargo.toml").is_file() {
                let spec = GuestBuild::new(dir.join("Cargo.toml"));
                kernbench_guest_build::build(&spec, &mut note)
                    .with_context(|| format!("building bench crate {}", dir.display()))?
            } else if dir.exists() {
                bail!(
                    "{} has no Cargo.toml: pass a bench crate directory or a bundled bench name",
                    dir.display()
                );
            } else {
                build_bundled(&[bench])?
            }
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
