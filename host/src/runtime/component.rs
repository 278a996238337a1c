//! From a component (bytes or a file) to a finished run in one call, with every limit of the
//! policy applied inside the library: the entry point of the CLI, the tests and the
//! submission service alike, so none of them can skip a check.

use super::engine::{BenchEngine, EngineOptions, check_component_size};
use crate::model::{Finished, LoadError, Refusal, RunOptions};
use crate::sim::config_file::open_regular;
use anyhow::{Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Read a component file: only regular files, and never more than the policy's
/// `component_bytes` (a larger file is refused without being read whole). `Ok(Err(_))` is a
/// refusal; `Err(_)` a file that cannot be read.
pub fn read_component(path: &Path, options: &RunOptions) -> Result<Result<Vec<u8>, LoadError>> {
    let reading = || format!("reading bench component {}", path.display());
    let Some((file, meta)) = open_regular(path).with_context(reading)? else {
        anyhow::bail!("bench component {} is not a regular file", path.display());
    };
    if let Err(refused) = check_component_size(meta.len(), &options.policy) {
        return Ok(Err(refused));
    }
    let limit = options.policy.limits.component_bytes;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // The file may grow between the size check and the read: read at most one byte more.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .with_context(reading)?;
    Ok(check_component_size(bytes.len() as u64, &options.policy).map(|()| bytes))
}

/// Load and run `bytes` as bench `name` on an engine sized for the run. A component refused
/// at load is a [`Finished::Refused`], so every outcome can be reported the same way; `Err`
/// only when the run could not start (engine, world size, ...).
pub fn run_component(
    name: &str,
    bytes: &[u8],
    options: RunOptions,
    cache_dir: Option<PathBuf>,
) -> Result<Finished> {
    let engine = BenchEngine::new(EngineOptions {
        max_ranks: options.instances_hint(),
        cache_dir,
        fuel: options.policy.limits.fuel_per_rank.is_some(),
        ..EngineOptions::default()
    })?;
    match engine.load(name, bytes, &options.policy) {
        Ok(bench) => Ok(Finished::Ran(super::run(&engine, &bench, options)?)),
        Err(error) => Ok(refused(name, options, error)),
    }
}

/// [`read_component`] then [`run_component`].
pub fn run_file(
    name: &str,
    path: &Path,
    options: RunOptions,
    cache_dir: Option<PathBuf>,
) -> Result<Finished> {
    match read_component(path, &options)? {
        Ok(bytes) => run_component(name, &bytes, options, cache_dir),
        Err(error) => Ok(refused(name, options, error)),
    }
}

fn refused(name: &str, options: RunOptions, error: LoadError) -> Finished {
    Finished::Refused(Refusal {
        bench: name.to_owned(),
        options,
        error,
    })
}
