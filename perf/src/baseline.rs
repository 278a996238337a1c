//! The seed-model baseline: `perf/baseline/greenlet_world.py` run by a Python with greenlet and
//! numpy from PyPI, installed once into a virtual environment under the target directory.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Python interpreter with the baseline's requirements.
#[derive(Debug, Clone)]
pub struct Python {
    /// The interpreter.
    pub exe: PathBuf,
    script: PathBuf,
}

impl Python {
    /// Create (or reuse) `target/perf-venv` and install `perf/baseline/requirements.txt`.
    pub fn prepare(root: &Path) -> Result<Python> {
        let venv = root.join("target/perf-venv");
        let exe = venv.join("bin/python3");
        if !exe.is_file() {
            run(
                Command::new("python3").args(["-m", "venv"]).arg(&venv),
                "python3 -m venv",
            )?;
        }
        let ready = Command::new(&exe)
            .args(["-c", "import greenlet, numpy"])
            .output();
        if !ready.is_ok_and(|o| o.status.success()) {
            let requirements = root.join("perf/baseline/requirements.txt");
            run(
                Command::new(&exe)
                    .args(["-m", "pip", "install", "--quiet", "-r"])
                    .arg(&requirements),
                "pip install greenlet numpy",
            )?;
        }
        Ok(Python {
            exe,
            script: root.join("perf/baseline/greenlet_world.py"),
        })
    }

    /// Run one baseline measurement; its JSON line.
    pub fn measure(&self, args: &[&str]) -> Result<serde_json::Value> {
        let out = Command::new(&self.exe)
            .arg(&self.script)
            .args(args)
            .output()
            .context("running the baseline")?;
        if !out.status.success() {
            bail!(
                "baseline {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        serde_json::from_slice(&out.stdout).context("parsing the baseline's output")
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
