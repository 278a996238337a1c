//! The bench's own Python sources: the main file and the helper modules and packages beside
//! it, gathered into a map the component carries (it has no filesystem at run time).

use crate::error::PythonBuildError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Python files a bench may bring (main file, helpers, package modules).
pub const MAX_SOURCE_FILES: usize = 512;
/// Bytes of Python source a bench may bring, over all its files.
pub const MAX_SOURCE_BYTES: u64 = 8 << 20;
/// How deep packages may nest below the bench's directory.
pub const MAX_PACKAGE_DEPTH: usize = 16;

/// The key of the main module in [`Sources::modules`]: it runs as `__main__`.
pub const MAIN: &str = "__main__";

/// One module's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Path relative to the bench's directory, as tracebacks show it.
    pub filename: String,
    /// Whether it is a package's `__init__.py`.
    pub is_package: bool,
    /// The source text.
    pub source: String,
}

/// A bench's sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The bench's name (its file's stem, or its directory's name for a `bench.py`).
    pub name: String,
    /// Module name (dotted) -> source; the main file under [`MAIN`].
    pub modules: BTreeMap<String, Module>,
}

/// Whether `s` can name a Python module.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A name fit for a file: letters, digits, `-` and `_`.
fn file_name_of(s: &str) -> String {
    let name: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "bench".to_owned()
    } else {
        name
    }
}

struct Walk {
    root: PathBuf,
    modules: BTreeMap<String, Module>,
    bytes: u64,
}

/// What to do when the files or bytes of a bench's directory exceed their limit.
const OWN_DIRECTORY: &str = "put the bench and its helper modules in a directory of their own";

impl Walk {
    fn limit(
        &self,
        what: &'static str,
        limit: String,
        name: &'static str,
        hint: &'static str,
    ) -> PythonBuildError {
        PythonBuildError::SourceLimit {
            dir: self.root.clone(),
            what,
            limit,
            name,
            hint,
        }
    }

    fn add(&mut self, key: String, path: &Path, is_package: bool) -> Result<(), PythonBuildError> {
        if self.modules.len() >= MAX_SOURCE_FILES {
            return Err(self.limit(
                "its Python files",
                MAX_SOURCE_FILES.to_string(),
                "MAX_SOURCE_FILES",
                OWN_DIRECTORY,
            ));
        }
        // A device or a FIFO named `*.py` would never end (or never start) a read: it is
        // refused by its path without being opened. A file swapped in after that check is
        // opened without waiting (a FIFO's open waits for a writer) and refused by what the
        // open file is.
        let not_a_file = || PythonBuildError::NotABench {
            path: path.to_path_buf(),
            why: "not a regular file".to_owned(),
        };
        if !std::fs::metadata(path)
            .map_err(PythonBuildError::io(path))?
            .is_file()
        {
            return Err(not_a_file());
        }
        let mut open = std::fs::OpenOptions::new();
        open.read(true);
        #[cfg(unix)]
        {
            use rustix::fs::OFlags;
            use std::os::unix::fs::OpenOptionsExt;
            open.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
        }
        let file = open.open(path).map_err(PythonBuildError::io(path))?;
        let meta = file.metadata().map_err(PythonBuildError::io(path))?;
        if !meta.is_file() {
            return Err(not_a_file());
        }
        let too_big = |walk: &Self| {
            walk.limit(
                "its Python sources",
                format!("{} MiB", MAX_SOURCE_BYTES >> 20),
                "MAX_SOURCE_BYTES",
                OWN_DIRECTORY,
            )
        };
        let budget = MAX_SOURCE_BYTES.saturating_sub(self.bytes);
        if meta.len() > budget {
            return Err(too_big(self));
        }
        // Bounded even if the file grows after its size was read.
        let mut bytes = Vec::new();
        file.take(budget + 1)
            .read_to_end(&mut bytes)
            .map_err(PythonBuildError::io(path))?;
        self.bytes += bytes.len() as u64;
        if self.bytes > MAX_SOURCE_BYTES {
            return Err(too_big(self));
        }
        let source = String::from_utf8(bytes).map_err(|_| PythonBuildError::NotABench {
            path: path.to_path_buf(),
            why: "not UTF-8 text (Python sources are UTF-8)".to_owned(),
        })?;
        let filename = path
            .strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned();
        self.modules.insert(
            key,
            Module {
                filename,
                is_package,
                source,
            },
        );
        Ok(())
    }

    /// The `*.py` modules of `dir` and its packages (subdirectories with `__init__.py`),
    /// named below `prefix`; `skip` is the main file.
    fn dir(
        &mut self,
        dir: &Path,
        prefix: &str,
        depth: usize,
        skip: Option<&Path>,
    ) -> Result<(), PythonBuildError> {
        if depth > MAX_PACKAGE_DEPTH {
            return Err(self.limit(
                "its nested packages",
                format!("{MAX_PACKAGE_DEPTH} levels"),
                "MAX_PACKAGE_DEPTH",
                "nest the bench's packages less deeply",
            ));
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(PythonBuildError::io(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !is_identifier(stem) || Some(path.as_path()) == skip {
                continue;
            }
            let name = if prefix.is_empty() {
                stem.to_owned()
            } else {
                format!("{prefix}.{stem}")
            };
            if path.is_dir() {
                let init = path.join("__init__.py");
                if init.is_file() {
                    self.add(name.clone(), &init, true)?;
                    self.dir(&path, &name, depth + 1, Some(&init))?;
                }
            } else if path.extension().is_some_and(|e| e == "py") && stem != "__init__" {
                self.add(name, &path, false)?;
            }
        }
        Ok(())
    }
}

/// Gather a bench: a `.py` file, or a directory holding `bench.py`. Modules beside the main
/// file, and packages (directories with `__init__.py`) below it, come along so the bench can
/// import them; nothing else is read.
pub fn collect(bench: &Path) -> Result<Sources, PythonBuildError> {
    let not_a_bench = |why: &str| PythonBuildError::NotABench {
        path: bench.to_path_buf(),
        why: why.to_owned(),
    };
    let bench = std::path::absolute(bench).map_err(PythonBuildError::io(bench))?;
    let (root, main) = if bench.is_dir() {
        let main = bench.join("bench.py");
        if !main.is_file() {
            return Err(not_a_bench("a Python bench directory needs a bench.py"));
        }
        (bench.clone(), main)
    } else if bench.is_file() {
        if bench.extension().is_none_or(|e| e != "py") {
            return Err(not_a_bench(
                "a Python bench is a .py file or a directory with bench.py",
            ));
        }
        let root = bench.parent().map(Path::to_path_buf).unwrap_or_default();
        (root, bench.clone())
    } else {
        return Err(match std::fs::metadata(&bench) {
            Ok(_) => not_a_bench("not a regular file"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => not_a_bench("does not exist"),
            Err(e) => PythonBuildError::io(&bench)(e),
        });
    };
    let stem = main.file_stem().and_then(|s| s.to_str()).unwrap_or("bench");
    let name = if stem == "bench" {
        root.file_name().and_then(|s| s.to_str()).unwrap_or(stem)
    } else {
        stem
    };
    let mut walk = Walk {
        root: root.clone(),
        modules: BTreeMap::new(),
        bytes: 0,
    };
    walk.add(MAIN.to_owned(), &main, false)?;
    walk.dir(&root, "", 0, Some(&main))?;
    Ok(Sources {
        name: file_name_of(name),
        modules: walk.modules,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_directory_brings_its_modules_and_packages_but_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("my-bench");
        write(&root, "bench.py", "import helper\n");
        write(&root, "helper.py", "X = 1\n");
        write(&root, "util/__init__.py", "");
        write(&root, "util/fmt.py", "def f(): pass\n");
        write(&root, "notes/readme.py", "not a package: no __init__.py\n");
        write(&root, "my-script.py", "not a module name\n");
        write(&root, "data.txt", "not Python\n");
        let s = collect(&root).unwrap();
        assert_eq!(s.name, "my-bench");
        let names: Vec<&str> = s.modules.keys().map(String::as_str).collect();
        assert_eq!(names, ["__main__", "helper", "util", "util.fmt"]);
        assert_eq!(s.modules["__main__"].filename, "bench.py");
        assert!(s.modules["util"].is_package);
        assert_eq!(s.modules["util.fmt"].filename, "util/fmt.py");
    }

    #[test]
    fn a_file_is_named_by_its_stem_and_brings_its_siblings() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "sweep.py", "import common\n");
        write(dir.path(), "common.py", "");
        let s = collect(&dir.path().join("sweep.py")).unwrap();
        assert_eq!(s.name, "sweep");
        let names: Vec<&str> = s.modules.keys().map(String::as_str).collect();
        assert_eq!(names, ["__main__", "common"]);
    }

    #[test]
    fn what_is_not_a_bench_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("a Python bench directory needs a bench.py"),
            "{e}"
        );
        write(dir.path(), "x.txt", "");
        let e = collect(&dir.path().join("x.txt")).unwrap_err().to_string();
        assert!(
            e.ends_with("a Python bench is a .py file or a directory with bench.py"),
            "{e}"
        );
        std::fs::write(dir.path().join("bad.py"), [0xff, 0xfe]).unwrap();
        let e = collect(&dir.path().join("bad.py")).unwrap_err().to_string();
        assert!(
            e.ends_with("not UTF-8 text (Python sources are UTF-8)"),
            "{e}"
        );
    }

    #[test]
    fn too_many_files_are_refused_before_reading_them_all() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bench.py", "");
        for i in 0..MAX_SOURCE_FILES {
            write(dir.path(), &format!("m{i}.py"), "");
        }
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("its Python files exceed 512 (MAX_SOURCE_FILES)"),
            "{e}"
        );
    }

    #[test]
    fn too_many_bytes_are_refused_over_all_files() {
        let dir = tempfile::tempdir().unwrap();
        let half = "#".repeat((MAX_SOURCE_BYTES / 2) as usize);
        write(dir.path(), "bench.py", &half);
        write(dir.path(), "a.py", &half);
        collect(dir.path()).unwrap(); // exactly the limit
        write(dir.path(), "b.py", "x = 1\n");
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("its Python sources exceed 8 MiB (MAX_SOURCE_BYTES)"),
            "{e}"
        );
    }

    #[test]
    fn packages_nest_at_most_max_package_depth_levels() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bench.py", "");
        let nested = |levels: usize| -> String { vec!["p"; levels].join("/") };
        write(
            dir.path(),
            &format!("{}/__init__.py", nested(MAX_PACKAGE_DEPTH)),
            "",
        );
        for level in 1..MAX_PACKAGE_DEPTH {
            write(dir.path(), &format!("{}/__init__.py", nested(level)), "");
        }
        let s = collect(dir.path()).unwrap();
        assert!(
            s.modules
                .contains_key(&vec!["p"; MAX_PACKAGE_DEPTH].join("."))
        );
        write(
            dir.path(),
            &format!("{}/__init__.py", nested(MAX_PACKAGE_DEPTH + 1)),
            "",
        );
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("its nested packages exceed 16 levels (MAX_PACKAGE_DEPTH)"),
            "{e}"
        );
        assert!(e.ends_with("nest the bench's packages less deeply"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_named_like_a_module_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bench.py", "");
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.py")).unwrap();
        let e = collect(dir.path()).unwrap_err().to_string();
        assert!(e.ends_with("zero.py: not a regular file"), "{e}");
    }

    /// A FIFO, as a module or as the bench itself, is refused at once: opening one for
    /// reading waits for a writer.
    #[cfg(unix)]
    #[test]
    fn a_fifo_named_like_a_module_is_refused_without_waiting() {
        use rustix::fs::{CWD, FileType, Mode, mknodat};
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "bench.py", "");
        let fifo = dir.path().join("pipe.py");
        mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (root, bench) = (dir.path().to_path_buf(), fifo.clone());
        std::thread::spawn(move || {
            let as_module = collect(&root).map(|_| ()).map_err(|e| e.to_string());
            let as_bench = collect(&bench).map(|_| ()).map_err(|e| e.to_string());
            tx.send((as_module, as_bench))
        });
        let (as_module, as_bench) = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("collect waited on a FIFO");
        let e = as_module.unwrap_err();
        assert!(e.ends_with("pipe.py: not a regular file"), "{e}");
        let e = as_bench.unwrap_err();
        assert!(e.ends_with("pipe.py: not a regular file"), "{e}");
    }
}
