//! Content-addressed blobs (components, reports, traces) keyed by their sha256: a directory
//! by default, `ab/cdef...` below it. Writes go to a temporary file and are renamed into
//! place, so a reader never sees half a blob and two writers of the same bytes agree. The
//! same keys map one to one onto an object store's (`PUT` if absent, `GET` by key; ADR-0012).

use crate::error::ServiceError;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A directory of blobs.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    /// The store under `root`, created if missing.
    pub fn open(root: &Path) -> Result<BlobStore, ServiceError> {
        std::fs::create_dir_all(root)
            .map_err(|e| ServiceError::Store(format!("creating {}: {e}", root.display())))?;
        Ok(BlobStore {
            root: root.to_owned(),
        })
    }

    /// The sha256 of `bytes`, in hex: the key they are stored under.
    pub fn key_of(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn path(&self, key: &str) -> Result<PathBuf, ServiceError> {
        let valid = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(ServiceError::Corrupt(format!("not a blob key: {key:?}")));
        }
        Ok(self.root.join(&key[..2]).join(&key[2..]))
    }

    /// Store `bytes`; returns their key. Storing the same bytes twice is one blob.
    pub fn put(&self, bytes: &[u8]) -> Result<String, ServiceError> {
        let key = Self::key_of(bytes);
        let path = self.path(&key)?;
        if path.is_file() {
            return Ok(key);
        }
        let store_err = |what: &str, e: std::io::Error| {
            ServiceError::Store(format!("{what} {}: {e}", path.display()))
        };
        let dir = path
            .parent()
            .ok_or_else(|| ServiceError::Store(format!("{} has no parent", path.display())))?;
        std::fs::create_dir_all(dir).map_err(|e| store_err("creating the folder of", e))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| store_err("writing", e))?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| store_err("writing", e))?;
        tmp.persist(&path)
            .map_err(|e| store_err("renaming into", e.error))?;
        Ok(key)
    }

    /// The blob under `key`.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, ServiceError> {
        let path = self.path(key)?;
        std::fs::read(&path)
            .map_err(|e| ServiceError::Store(format!("reading {}: {e}", path.display())))
    }

    /// The path of the blob under `key` (for handing a component to a child process).
    pub fn file(&self, key: &str) -> Result<PathBuf, ServiceError> {
        self.path(key)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_blob_comes_back_under_its_sha256_and_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let key = store.put(b"hello").unwrap();
        assert_eq!(
            key,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(store.put(b"hello").unwrap(), key);
        assert_eq!(store.get(&key).unwrap(), b"hello");
        assert!(store.get("../../etc/passwd").is_err());
    }
}
