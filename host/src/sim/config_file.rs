//! Reading a configuration file (topology, CCL config, policy) without letting its size or
//! kind drive the host: only regular files, and never more than a fixed size, checked before
//! and while reading (`/dev/zero` or a FIFO is refused, not read without end).

use std::fs::{File, Metadata};
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// Largest configuration file read. Real ones are a few KiB.
pub const MAX_CONFIG_FILE_BYTES: u64 = 1 << 20;

/// Open `path` for reading, and say what it is, without waiting on it: opening a FIFO
/// blocks until a writer comes, so it is opened non-blocking (which changes nothing for a
/// regular file). Its kind is then read from the open file, not from the path, so nothing
/// can swap the file between the check and the read. `None` when it is not a regular file.
pub fn open_regular(path: &Path) -> std::io::Result<Option<(File, Metadata)>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    Ok(meta.is_file().then_some((file, meta)))
}

/// The text of the configuration file at `path`.
pub fn read_config(path: &Path) -> std::io::Result<String> {
    let Some((file, meta)) = open_regular(path)? else {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a device, FIFO or directory is never read as a config)",
        ));
    };
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
