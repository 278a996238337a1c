//! `kernbench build bench.py`: a Python bench compiled to a component with componentize-py.
//!
//! The bench's sources (the file, or a directory with `bench.py`, and the modules and
//! packages beside it) go into one generated module; the Python SDK (`guest-sdk-py/`, the
//! `torch` and `kernbench` packages) is embedded in this crate; componentize-py, pinned, is
//! installed into a virtual environment in the kernbench cache on first use. A component
//! whose inputs have not changed is not built again.

mod app;
mod error;
mod sources;
mod toolchain;

pub use error::PythonBuildError;
pub use sources::{MAX_PACKAGE_DEPTH, MAX_SOURCE_BYTES, MAX_SOURCE_FILES, Sources, collect};
pub use toolchain::{COMPONENTIZE_PY_VERSION, ensure as ensure_componentize_py, python_program};

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What to build.
#[derive(Debug, Clone)]
pub struct PythonBuild {
    /// A `.py` file, or a directory holding `bench.py`.
    pub bench: PathBuf,
    /// Where the component goes; default `<cache>/python-target/<name>.wasm`.
    pub output: Option<PathBuf>,
    /// The kernbench cache: the virtual environment and the default output live here.
    pub cache_dir: PathBuf,
}

/// A built component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonArtifact {
    /// The bench's name.
    pub name: String,
    /// The component.
    pub path: PathBuf,
    /// Whether an unchanged component was already there (nothing was built).
    pub up_to_date: bool,
}

/// Whether `path` ends with `stamp`, the section this build appends last.
fn ends_with(path: &Path, stamp: &[u8]) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return false;
    };
    let n = stamp.len() as u64;
    if len < n || file.seek(SeekFrom::Start(len - n)).is_err() {
        return false;
    }
    let mut tail = vec![0; stamp.len()];
    file.read_exact(&mut tail).is_ok() && tail == stamp
}

/// Build `spec`, reporting each step to `note`.
pub fn build(
    spec: &PythonBuild,
    note: &mut dyn FnMut(&str),
) -> Result<PythonArtifact, PythonBuildError> {
    let sources = collect(&spec.bench)?;
    let output = spec.output.clone().unwrap_or_else(|| {
        spec.cache_dir
            .join("python-target")
            .join(format!("{}.wasm", sources.name))
    });
    let module = app::sources_module(&sources);
    let stamp = app::stamp(&app::key(&module));
    if ends_with(&output, &stamp) {
        return Ok(PythonArtifact {
            name: sources.name,
            path: output,
            up_to_date: true,
        });
    }
    let componentize = toolchain::ensure(&spec.cache_dir, note)?;
    let scratch_root = spec.cache_dir.join("python");
    let scratch = tempfile::Builder::new()
        .prefix("build-")
        .tempdir_in(&scratch_root)
        .map_err(PythonBuildError::io(&scratch_root))?;
    let dir = scratch.path();
    app::write_tree(dir, &module)?;
    note(&format!(
        "building {} with componentize-py {COMPONENTIZE_PY_VERSION} (CPython in the component; about 15 s)",
        sources.name
    ));
    let built = dir.join("bench.wasm");
    toolchain::run(
        toolchain::clean_command(&componentize)
            .current_dir(dir)
            .arg("-d")
            .arg(dir.join("wit"))
            .args(["-w", app::WORLD, "componentize", "-p"])
            .arg(dir.join("app"))
            .arg(app::APP_MODULE)
            .arg("-o")
            .arg(&built),
        &format!("componentize-py on {}", spec.bench.display()),
        "hint: a SyntaxError or an import that fails at build time is shown above; the bench's own code runs per rank, not at build time\n",
    )?;
    let parent = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(PythonBuildError::io(parent))?;
    let mut bytes = std::fs::read(&built).map_err(PythonBuildError::io(&built))?;
    bytes.extend_from_slice(&stamp);
    let mut file = tempfile::NamedTempFile::new_in(parent).map_err(PythonBuildError::io(parent))?;
    file.write_all(&bytes)
        .map_err(PythonBuildError::io(file.path().to_path_buf()))?;
    file.persist(&output).map_err(|e| PythonBuildError::Io {
        path: output.clone(),
        source: e.error,
    })?;
    Ok(PythonArtifact {
        name: sources.name,
        path: output,
        up_to_date: false,
    })
}
