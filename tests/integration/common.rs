//! Running the `fairway` binary, for every module.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The package's root, where the binary runs (so `scenarios/...` and `tests/data/...` resolve).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fairway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fairway"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(args: &[&str]) -> String {
    let out = fairway(args);
    assert!(
        out.status.success(),
        "fairway {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A program on PATH (or at a usual place), if installed.
pub fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for n in names {
        for d in std::env::split_paths(&path).chain([PathBuf::from("/usr/bin")]) {
            let p = d.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs a failing command; returns its stderr, which must be one line.
pub fn fails(args: &[&str]) -> String {
    let out = fairway(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "fairway {args:?} should fail with exit code 2"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert_eq!(lines.len(), 1, "one-line error expected, got:\n{err}");
    lines[0].to_string()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
