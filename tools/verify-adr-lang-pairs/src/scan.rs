//! Listing the files of one ADR folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::filename::{AdrId, leading_id};

/// A Markdown file found in an ADR folder.
#[derive(Debug, Clone)]
pub struct MdFile {
    /// The file name, lossily decoded (a non-UTF-8 name then fails the naming rule).
    pub name: String,
    /// The real path, for reading.
    pub path: PathBuf,
}

/// `README.md` explains a folder; it is not an ADR.
fn is_readme(name: &str) -> bool {
    name.eq_ignore_ascii_case("README.md")
}

/// Lists the `.md` files (any case of the extension, so `.MD` is caught as a bad
/// name rather than ignored) directly inside `dir`, sorted by name, skipping
/// `README.md`. Other files and subfolders are not ADRs and are left alone.
/// Returns `Ok(None)` when `dir` does not exist.
pub fn markdown_files(dir: &Path) -> Result<Option<Vec<MdFile>>, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot list", dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("cannot list", dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_md = name.len() > 3
            && name
                .get(name.len() - 3..)
                .is_some_and(|ext| ext.eq_ignore_ascii_case(".md"));
        if !is_md || is_readme(&name) {
            continue;
        }
        // Follow symlinks: a linked file is checked like any other.
        let meta = fs::metadata(&path).map_err(|e| Error::io("cannot inspect", &path, e))?;
        if meta.is_file() {
            files.push(MdFile { name, path });
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(files))
}

/// Every ADR number claimed by a file name anywhere under `dir` (recursively), for
/// choosing the next free number: numbers in the history folder stay taken forever.
pub fn used_ids(dir: &Path) -> Result<Vec<AdrId>, Error> {
    let mut ids = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("cannot list", &dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("cannot list", &dir, e))?;
            let file_type = entry
                .file_type()
                .map_err(|e| Error::io("cannot inspect", entry.path(), e))?;
            if let Some(id) = leading_id(&entry.file_name().to_string_lossy()) {
                ids.push(id);
            }
            if file_type.is_dir() {
                pending.push(entry.path());
            }
        }
    }
    Ok(ids)
}
