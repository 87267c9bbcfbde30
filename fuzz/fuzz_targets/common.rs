// Shared by the targets: the readers take files, so each input is written to one scratch file
// per process first.
use std::path::PathBuf;

pub fn scratch(data: &[u8], ext: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("fairway-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&path, data).expect("the scratch file is writable");
    path
}
