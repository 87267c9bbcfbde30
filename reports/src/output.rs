//! Output folders: what fairway may write where, and how a folder's files are known to belong
//! together.
//!
//! A folder fairway writes into carries a manifest (`.fairway-output`): the run it holds (an
//! identity the caller gives, such as a digest of the resolved scenario), whether that run
//! finished writing, and every file fairway wrote there with its size. From it follow the rules:
//!
//! - A folder is claimed for a run only if it is new, empty, or fairway's (it has a manifest);
//!   `force` claims any folder, but even then only files the manifest lists are ever removed or
//!   replaced. Claiming removes the previous run's files, so no file of an older run survives
//!   next to a newer one's.
//! - A file is written to a temporary name created exclusively (never through a planted link),
//!   then renamed into place, replacing only a regular file that fairway wrote; the temporary
//!   file is removed on every error path.
//! - A claimed folder is locked (an advisory lock on the folder) until the run ends, so two runs
//!   cannot write into it at once.
//! - A reader checks the manifest: the run finished, and each file it reads is the size the run
//!   wrote. A folder left by a killed run, or holding another run's files, is refused by name.

use crate::files::WriteError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The manifest's file name.
pub const MANIFEST: &str = ".fairway-output";
/// The lock's file name.
const LOCK: &str = ".fairway-lock";
const FORMAT: &str = "fairway.output/1";

/// Whether the run a manifest describes finished writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Writing,
    Complete,
}

/// One file fairway wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub bytes: u64,
    /// The run it was written for.
    pub run: String,
}

/// What a folder holds, as fairway wrote it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The run the folder holds.
    pub run: String,
    pub state: State,
    /// Paths relative to the folder, `/`-separated.
    pub files: BTreeMap<String, Entry>,
}

/// Manifests are read, changed and written under this lock, so that runs writing side by side
/// in one process (a bake-off's) never lose each other's entries.
static MANIFESTS: Mutex<()> = Mutex::new(());

fn err(path: &Path, message: impl Into<String>) -> WriteError {
    WriteError {
        file: path.display().to_string(),
        message: message.into(),
    }
}

fn io_err(path: &Path, e: std::io::Error) -> WriteError {
    err(path, e.to_string())
}

impl Manifest {
    /// The manifest of `dir`, if it has one. A manifest of an older fairway (an empty marker)
    /// reads as a finished run of unknown identity that wrote every regular file of the folder
    /// and of its `charts/`.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, WriteError> {
        let path = dir.join(MANIFEST);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path, e)),
            Ok(m) if !m.is_file() => return Err(err(&path, "is not a regular file")),
            Ok(_) => {}
        }
        let text = fairway_engine::input::read_text(&path, fairway_engine::input::TEXT_CAP)
            .map_err(|e| io_err(&path, e))?;
        if text.trim().is_empty() {
            return Ok(Some(Manifest::legacy(dir)));
        }
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| err(&path, format!("not a fairway output manifest: {e}")))?;
        if m.format != FORMAT {
            return Err(err(
                &path,
                format!("manifest format '{}', expected '{FORMAT}'", m.format),
            ));
        }
        for name in m.files.keys() {
            if !is_plain_relative(name) {
                return Err(err(
                    &path,
                    format!("lists '{name}', which is not a path inside the folder"),
                ));
            }
        }
        Ok(Some(m))
    }

    fn legacy(dir: &Path) -> Manifest {
        let mut files = BTreeMap::new();
        for sub in ["", "charts"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let is_file = e.file_type().is_ok_and(|t| t.is_file());
                if is_file && name != MANIFEST && name != LOCK {
                    let rel = if sub.is_empty() {
                        name
                    } else {
                        format!("{sub}/{name}")
                    };
                    let bytes = e.metadata().map_or(0, |m| m.len());
                    files.insert(
                        rel,
                        Entry {
                            bytes,
                            run: String::new(),
                        },
                    );
                }
            }
        }
        Manifest {
            format: FORMAT.into(),
            run: String::new(),
            state: State::Complete,
            files,
        }
    }

    fn write(&self, dir: &Path) -> Result<(), WriteError> {
        let path = dir.join(MANIFEST);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| err(&path, e.to_string()))?;
        text.push('\n');
        let (tmp, mut f) = temp(&path)?;
        let result = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
        drop(f);
        if let Err(e) = result.and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err(&path, e));
        }
        Ok(())
    }

    /// Checks that the run finished and that each of `files` is listed, written for that run,
    /// and still the size it was written at.
    pub fn check(&self, dir: &Path, files: &[&str]) -> Result<(), WriteError> {
        if self.state != State::Complete {
            return Err(err(
                dir,
                format!(
                    "holds a run that did not finish writing (run {}); run it again",
                    short(&self.run)
                ),
            ));
        }
        for f in files {
            let path = dir.join(f);
            let Some(e) = self.files.get(*f) else {
                return Err(err(&path, "was not written by the run the folder holds"));
            };
            if e.run != self.run {
                return Err(err(
                    &path,
                    format!(
                        "belongs to another run ({}) than the folder's ({})",
                        short(&e.run),
                        short(&self.run)
                    ),
                ));
            }
            let bytes = std::fs::metadata(&path).map_err(|e| io_err(&path, e))?.len();
            if bytes != e.bytes {
                return Err(err(
                    &path,
                    format!("is {bytes} bytes, but the run wrote {}: changed since", e.bytes),
                ));
            }
        }
        Ok(())
    }
}

/// A run identity as people read it.
fn short(run: &str) -> &str {
    if run.is_empty() {
        "unknown"
    } else {
        &run[..run.len().min(16)]
    }
}

/// A relative path of plain names: no root, no `..`.
fn is_plain_relative(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

/// A folder claimed for a run: locked until this is dropped.
#[derive(Debug)]
pub struct Claim {
    dir: PathBuf,
    run: String,
    _lock: File,
}

/// Locks `dir` for writing, or says that another run holds it. The lock is on the folder itself
/// (an advisory lock the system drops when the process ends, however it ends), so it leaves no
/// file behind; where a folder cannot be opened as a file, on a lock file in it.
fn lock(dir: &Path) -> Result<File, WriteError> {
    let f = match File::open(dir) {
        Ok(f) => f,
        Err(_) => {
            let path = dir.join(LOCK);
            if std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
                return Err(err(&path, "is not a regular file"));
            }
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| io_err(&path, e))?
        }
    };
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(err(
            dir,
            "another fairway process is writing into this folder; wait for it, or choose another --out",
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(dir, e)),
    }
}

/// Claims `dir` for the run `run`: creates it if missing; an existing folder must be empty or
/// fairway's (it has a manifest), unless `force`. Removes the files the previous run there
/// wrote (and only those), and marks the folder as being written by `run`.
pub fn claim(dir: &Path, force: bool, run: &str) -> Result<Claim, WriteError> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => return Err(err(dir, "exists and is not a folder")),
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?,
    }
    let lock = lock(dir)?;
    let _guard = MANIFESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let old = Manifest::read(dir)?;
    if old.is_none() && !force {
        let foreign = std::fs::read_dir(dir)
            .map_err(|e| io_err(dir, e))?
            .flatten()
            .any(|e| e.file_name() != LOCK);
        if foreign {
            return Err(err(
                dir,
                "the folder is not empty and holds no earlier fairway output; choose another --out, or pass --force to write into it (fairway then removes nothing it did not write)",
            ));
        }
    }
    if let Some(old) = &old {
        for name in old.files.keys() {
            let path = dir.join(name);
            // Only a regular file is removed: a link or folder put in its place is not fairway's.
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                std::fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
            }
        }
    }
    clean_temps(dir);
    Manifest {
        format: FORMAT.into(),
        run: run.into(),
        state: State::Writing,
        files: BTreeMap::new(),
    }
    .write(dir)?;
    Ok(Claim {
        dir: dir.to_path_buf(),
        run: run.into(),
        _lock: lock,
    })
}

/// The folder whose manifest governs `dir` (itself, or the folder it is a run of, as a
/// bake-off's runs are), with `dir`'s path relative to it.
fn governing(dir: &Path) -> Option<(PathBuf, String)> {
    if dir.join(MANIFEST).is_file() {
        return Some((dir.to_path_buf(), String::new()));
    }
    let parent = dir.parent().filter(|p| p.join(MANIFEST).is_file())?;
    Some((
        parent.to_path_buf(),
        format!("{}/", dir.file_name()?.to_string_lossy()),
    ))
}

/// Checks that `dir` holds a finished run and that each of `files` (relative to `dir`) was
/// written for it and is unchanged since: what a reader of a run's files calls first.
pub fn verify(dir: &Path, files: &[&str]) -> Result<(), WriteError> {
    let (gov, prefix) = governing(dir).ok_or_else(|| {
        err(
            dir,
            "is not a fairway output folder: it has no manifest (.fairway-output)",
        )
    })?;
    let m = Manifest::read(&gov)?.ok_or_else(|| err(&gov, "the manifest is gone"))?;
    let rel: Vec<String> = files.iter().map(|f| format!("{prefix}{f}")).collect();
    let rel: Vec<&str> = rel.iter().map(String::as_str).collect();
    m.check(&gov, &rel)
}

/// Opens a finished folder to add files to it (a report drawn again): locked, and checked to
/// hold a finished run.
pub fn reopen(dir: &Path) -> Result<Claim, WriteError> {
    let (gov, _) = governing(dir).ok_or_else(|| {
        err(
            dir,
            "is not a fairway output folder: it has no manifest (.fairway-output)",
        )
    })?;
    let lock = lock(&gov)?;
    let m = Manifest::read(&gov)?.ok_or_else(|| err(&gov, "the manifest is gone"))?;
    m.check(&gov, &[])?;
    Ok(Claim {
        dir: dir.to_path_buf(),
        run: m.run,
        _lock: lock,
    })
}

impl Claim {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn run(&self) -> &str {
        &self.run
    }

    /// Marks the run's files as all written.
    pub fn complete(&self) -> Result<(), WriteError> {
        let _guard = MANIFESTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut m = Manifest::read(&self.dir)?.ok_or_else(|| err(&self.dir, "the manifest is gone"))?;
        m.state = State::Complete;
        m.write(&self.dir)
    }
}

/// Removes temporary files a killed run left (fairway's own naming, regular files only).
fn clean_temps(dir: &Path) {
    for sub in [PathBuf::new(), PathBuf::from("charts")] {
        let Ok(entries) = std::fs::read_dir(dir.join(&sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(TMP_SUFFIX) && e.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

const TMP_SUFFIX: &str = ".fairway-tmp";

/// A temporary file beside `path`, created exclusively: a name nothing else uses (the process
/// and a counter), and never opened through an existing link or file. It keeps `path`'s
/// extension, for writers that choose a format by it.
pub(crate) fn temp(path: &Path) -> Result<(PathBuf, File), WriteError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let parent = path.parent().unwrap_or(Path::new(""));
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = parent.join(format!(".{stem}.{}-{n}{TMP_SUFFIX}{ext}", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_err(path, e)),
        }
    }
}

/// The folder whose manifest records `path`: the nearest of its folder and the two above it
/// that has one, if any.
fn manifest_dir(path: &Path) -> Option<(PathBuf, String)> {
    let mut dir = path.parent()?;
    let mut rel = vec![path.file_name()?.to_string_lossy().into_owned()];
    // A file of the folder, of its charts/, of a run in it, or of that run's charts/.
    for _ in 0..3 {
        let d = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if d.join(MANIFEST).is_file() {
            rel.reverse();
            return Some((d.to_path_buf(), rel.join("/")));
        }
        rel.push(dir.file_name()?.to_string_lossy().into_owned());
        dir = dir.parent()?;
    }
    None
}

/// Renames the written temporary file `tmp` to `path` and records it. What sits at `path` is
/// replaced only if it is a regular file that fairway wrote (listed in the folder's manifest;
/// where no manifest governs the folder, any regular file, as the user named it as the output).
/// On error, `tmp` is removed.
pub(crate) fn commit(tmp: &Path, path: &Path) -> Result<(), WriteError> {
    let result = commit_inner(tmp, path);
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

fn commit_inner(tmp: &Path, path: &Path) -> Result<(), WriteError> {
    let _guard = MANIFESTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let governed = manifest_dir(path);
    let mut manifest = match &governed {
        Some((dir, _)) => Manifest::read(dir)?,
        None => None,
    };
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if !m.is_file() {
            return Err(err(
                path,
                "exists and is not a regular file; fairway replaces only files it wrote",
            ));
        }
        if let (Some(m), Some((_, rel))) = (&manifest, &governed)
            && !m.files.contains_key(rel)
        {
            return Err(err(
                path,
                "exists and fairway did not write it; move it away first",
            ));
        }
    }
    let bytes = std::fs::metadata(tmp).map_err(|e| io_err(path, e))?.len();
    std::fs::rename(tmp, path).map_err(|e| io_err(path, e))?;
    if let (Some(m), Some((dir, rel))) = (&mut manifest, &governed) {
        let run = m.run.clone();
        m.files.insert(rel.clone(), Entry { bytes, run });
        m.write(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
