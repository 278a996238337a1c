//! componentize-py, installed on first use into a virtual environment in the kernbench
//! cache, pinned to one version, so no step by hand is needed on a fresh machine.

use crate::error::PythonBuildError;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The componentize-py release every Python bench is built with (it embeds CPython 3.14).
pub const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// Lines of a failing tool's output an error keeps.
const OUTPUT_TAIL_LINES: usize = 40;

/// Written last by an install: a virtual environment without it is half made.
const READY_MARKER: &str = ".kernbench-ready";

/// The interpreter that makes the virtual environment: `$KERNBENCH_PYTHON`, else `python3`.
pub fn python_program() -> String {
    std::env::var("KERNBENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// A command with none of the variables that would point Python at another installation.
pub(crate) fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for var in [
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PIP_REQUIRE_VIRTUALENV",
    ] {
        cmd.env_remove(var);
    }
    // componentize-py is a Rust program: with a backtrace on, its errors end in native
    // frames, and the Python traceback that matters scrolls out of the shown tail.
    cmd.env("RUST_BACKTRACE", "0");
    cmd
}

/// The last lines of a tool's output, without control characters (it is shown on a
/// terminal), each line indented.
pub(crate) fn tail(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(OUTPUT_TAIL_LINES);
    let mut shown = String::new();
    for line in &lines[start..] {
        shown.push_str("  ");
        shown.extend(
            line.chars()
                .map(|c| if c.is_control() && c != '\t' { '?' } else { c }),
        );
        shown.push('\n');
    }
    shown
}

/// Run `cmd`; a failure to start is `NoPython` for the interpreter, else an `Io` error.
pub(crate) fn run(
    cmd: &mut Command,
    step: &str,
    hint: &'static str,
) -> Result<Output, PythonBuildError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            PythonBuildError::NoPython {
                program: program.clone(),
                source,
            }
        } else {
            PythonBuildError::Io {
                path: PathBuf::from(&program),
                source,
            }
        }
    })?;
    if !out.status.success() {
        return Err(PythonBuildError::Tool {
            step: step.to_owned(),
            status: out.status.to_string(),
            output: tail(&out),
            hint,
        });
    }
    Ok(out)
}

/// The `componentize-py` executable of the cached virtual environment under `cache`,
/// installing it first if it is missing. Concurrent builds wait on a lock file, so one
/// installs and the others use the result.
pub fn ensure(cache: &Path, note: &mut dyn FnMut(&str)) -> Result<PathBuf, PythonBuildError> {
    let base = cache.join("python");
    std::fs::create_dir_all(&base).map_err(PythonBuildError::io(&base))?;
    let lock_path = base.join(".install.lock");
    let lock = File::create(&lock_path).map_err(PythonBuildError::io(&lock_path))?;
    lock.lock().map_err(PythonBuildError::io(&lock_path))?;
    let venv = base.join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let exe = venv.join("bin").join("componentize-py");
    if venv.join(READY_MARKER).is_file() && exe.is_file() {
        return Ok(exe);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(PythonBuildError::io(&venv))?;
    }
    let python = python_program();
    note(&format!(
        "installing componentize-py {COMPONENTIZE_PY_VERSION} into {} (first use; needs PyPI)",
        venv.display()
    ));
    run(
        clean_command(&python).arg("-m").arg("venv").arg(&venv),
        &format!("`{python} -m venv`"),
        "hint: Debian and Ubuntu ship the venv module apart: apt install python3-venv\n",
    )?;
    run(
        clean_command(venv.join("bin").join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
            ])
            .arg(format!("componentize-py=={COMPONENTIZE_PY_VERSION}")),
        &format!("installing componentize-py {COMPONENTIZE_PY_VERSION} with pip"),
        "hint: pip needs to reach PyPI (or the index in PIP_INDEX_URL)\n",
    )?;
    if !exe.is_file() {
        return Err(PythonBuildError::Tool {
            step: "installing componentize-py".to_owned(),
            status: "done".to_owned(),
            output: format!("  pip installed no {}\n", exe.display()),
            hint: "",
        });
    }
    let marker = venv.join(READY_MARKER);
    std::fs::write(&marker, COMPONENTIZE_PY_VERSION).map_err(PythonBuildError::io(&marker))?;
    Ok(exe)
}
