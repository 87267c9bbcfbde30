//! Opening the files a run reads. Only regular files are read: a FIFO would block until a writer
//! comes, a device such as `/dev/zero` never ends. A file read whole is read up to a cap, so a
//! wrong path cannot hang fairway or exhaust its memory. Every reader in the workspace opens its
//! input here; the simulation itself reads nothing.

use std::fs::File;
use std::io::{Error, ErrorKind, Read};
use std::path::Path;

/// The most bytes a file read whole (a scenario, a manifest, a summary) may have: far more than
/// any real one, little enough to hold in memory.
pub const TEXT_CAP: u64 = 64 << 20;

/// Opens `path` for reading if it is a regular file (following links). Anything else (a folder,
/// a FIFO, a device, a socket) is refused before it is opened, so that opening cannot block.
pub fn open(path: &Path) -> Result<File, Error> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file (a FIFO, a device or a socket)"
        };
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what}; fairway reads regular files only"),
        ));
    }
    File::open(path)
}

/// Reads a regular file whole as UTF-8 text, refusing one larger than `cap` bytes.
pub fn read_text(path: &Path, cap: u64) -> Result<String, Error> {
    let f = open(path)?;
    let too_large = || {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "larger than {} MiB, the most fairway reads of such a file",
                cap >> 20
            ),
        )
    };
    if f.metadata()?.len() > cap {
        return Err(too_large());
    }
    let mut text = String::new();
    f.take(cap + 1).read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_and_others_refused() {
        let dir = std::env::temp_dir().join(format!("fairway-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a.txt");
        std::fs::write(&f, "hello").unwrap();
        assert_eq!(read_text(&f, 100).unwrap(), "hello");
        let e = read_text(&f, 4).unwrap_err();
        assert!(e.to_string().contains("larger than"), "{e}");
        let e = open(&dir).unwrap_err();
        assert!(e.to_string().contains("a folder"), "{e}");
        #[cfg(unix)]
        {
            let e = read_text(Path::new("/dev/zero"), 100).unwrap_err();
            assert!(e.to_string().contains("not a regular file"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
