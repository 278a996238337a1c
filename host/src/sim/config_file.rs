//! Reading a configuration file (topology, CCL config, policy) without letting its size or
//! kind drive the host: only regular files, and never more than a fixed size, checked before
//! and while reading (`/dev/zero` or a FIFO is refused, not read without end).

use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// Largest configuration file read. Real ones are a few KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// The text of the configuration file at `path`.
pub fn read_config(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or directory is never read as a config)",
        ));
    }
    let too_big = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("larger than {MAX_CONFIG_FILE_BYTES} bytes, the most a config file may hold"),
        )
    };
    if meta.len() > MAX_CONFIG_FILE_BYTES {
        return Err(too_big());
    }
    let mut text = String::new();
    // A file that grows (or a /proc file that reports 0 bytes) is still read only this far.
    file.take(MAX_CONFIG_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(too_big());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_oversized_files_are_refused_before_reading() {
        let err = read_config(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().starts_with("not a regular file"), "{err}");
        let dir = std::env::temp_dir().join(format!("kernbench-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.json");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(MAX_CONFIG_FILE_BYTES + 1).unwrap();
        let err = read_config(&big).unwrap_err();
        assert!(
            err.to_string().starts_with("larger than 1048576 bytes"),
            "{err}"
        );
        let small = dir.join("small.json");
        std::fs::write(&small, "{}").unwrap();
        assert_eq!(read_config(&small).unwrap(), "{}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
