//! Reading an input file (a topology, CCL config or policy, and for the CLI a component or
//! a suite) without letting its size or kind drive the host: only regular files, and never
//! more than a fixed size, checked before and while reading (`/dev/zero` or a FIFO is
//! refused, not read without end or waited on).

use std::fs::{File, Metadata};
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// Largest configuration file read. Real ones are a few KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Open `path` for reading if it is a regular file; `None` when it is not. A path that is
/// not one is refused without being opened (opening a device can have effects of its own).
/// The file is opened non-blocking, since opening a FIFO would wait for a writer, and its
/// kind is checked again on the open file, so a file swapped in after the first check is
/// refused too. The returned file blocks again, as files normally do.
pub fn open_regular(path: &Path) -> std::io::Result<Option<(File, Metadata)>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Ok(None);
    }
    #[cfg(unix)]
    rustix::fs::fcntl_setfl(&file, rustix::fs::OFlags::empty())?;
    Ok(Some((file, meta)))
}

/// The bytes of the regular file at `path`, refused by name when it is not one or holds
/// more than `limit` bytes (checked before reading, and by reading at most one byte more).
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let Some((file, meta)) = open_regular(path)? else {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or directory is never read)",
        ));
    };
    let too_big = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("larger than {limit} bytes, the most such a file may hold"),
        )
    };
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // A file that grows (or a /proc file that reports 0 bytes) is still read only this far.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// The text of the configuration file at `path`.
pub fn read_config(path: &Path) -> std::io::Result<String> {
    let bytes = read_regular(path, MAX_CONFIG_FILE_BYTES)?;
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
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
        let file = File::create(&big).unwrap();
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

    /// A FIFO is refused at once: opening one for reading used to wait for a writer forever.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        use rustix::fs::{CWD, FileType, Mode, mknodat};
        let dir = std::env::temp_dir().join(format!("kernbench-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("topology.json");
        let _ = std::fs::remove_file(&fifo);
        mknodat(CWD, &fifo, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(read_config(&path).map_err(|e| e.to_string())));
        let got = rx.recv_timeout(std::time::Duration::from_secs(30));
        let _ = std::fs::remove_dir_all(&dir);
        let err = got.expect("read_config waited on a FIFO").unwrap_err();
        assert!(err.starts_with("not a regular file"), "{err}");
    }
}
