use super::*;
use crate::files::write_atomic;

fn write(path: &Path, text: &str) -> Result<(), WriteError> {
    write_atomic(path, |f| f.write_all(text.as_bytes()))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_records_its_files_and_a_reader_checks_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let c = claim(&dir, false, "run-a").unwrap();
    write(&dir.join("summary.json"), "{}").unwrap();
    std::fs::create_dir_all(dir.join("charts")).unwrap();
    write(&dir.join("charts/wait.svg"), "<svg/>").unwrap();
    // Unfinished: a reader refuses it, as it would a killed run's folder.
    let e = verify(&dir, &["summary.json"]).unwrap_err();
    assert!(e.to_string().contains("did not finish writing"), "{e}");
    c.complete().unwrap();
    verify(&dir, &["summary.json", "charts/wait.svg"]).unwrap();
    let m = Manifest::read(&dir).unwrap().unwrap();
    assert_eq!((m.state, m.run.as_str()), (State::Complete, "run-a"));
    assert_eq!(m.files["summary.json"].bytes, 2);
    assert_eq!(m.files["charts/wait.svg"].bytes, 6);
    // A file changed since, or one the run did not write, is named.
    std::fs::write(dir.join("summary.json"), "{ }").unwrap();
    let e = verify(&dir, &["summary.json"]).unwrap_err();
    assert!(e.to_string().contains("is 3 bytes, but the run wrote 2"), "{e}");
    let e = verify(&dir, &["jobs.parquet"]).unwrap_err();
    assert!(e.to_string().contains("was not written by the run"), "{e}");
}

#[test]
fn a_file_of_another_run_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let c = claim(dir, false, "run-a").unwrap();
    write(&dir.join("summary.json"), "{}").unwrap();
    c.complete().unwrap();
    drop(c);
    let mut m = Manifest::read(dir).unwrap().unwrap();
    m.files.get_mut("summary.json").unwrap().run = "run-b".into();
    m.write(dir).unwrap();
    let e = verify(dir, &["summary.json"]).unwrap_err();
    assert!(
        e.to_string()
            .contains("belongs to another run (run-b) than the folder's (run-a)"),
        "{e}"
    );
}

/// `--force` writes into someone's folder, but never removes or replaces what fairway did not
/// write: not their files, not their charts, not a file named like one of fairway's.
#[test]
fn force_never_touches_the_users_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(dir.join("charts")).unwrap();
    std::fs::write(dir.join("notes.txt"), "keep").unwrap();
    std::fs::write(dir.join("charts/mine.svg"), "keep").unwrap();
    std::fs::write(dir.join("summary.json"), "my own").unwrap();
    let e = claim(&dir, false, "r").unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    let c = claim(&dir, true, "r").unwrap();
    write(&dir.join("jobs.csv"), "a\n").unwrap();
    let e = write(&dir.join("summary.json"), "{}").unwrap_err();
    assert!(e.to_string().contains("fairway did not write it"), "{e}");
    c.complete().unwrap();
    drop(c);
    // Claimed again: the run's own file goes, the user's stay.
    let c = claim(&dir, true, "r2").unwrap();
    drop(c);
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "keep");
    assert_eq!(
        std::fs::read_to_string(dir.join("charts/mine.svg")).unwrap(),
        "keep"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("summary.json")).unwrap(),
        "my own"
    );
    assert!(!dir.join("jobs.csv").exists());
}

/// What sits at an output's final path is replaced only if it is a regular file: not a link
/// (whose target stays untouched), a folder or a FIFO.
#[test]
fn only_regular_files_are_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, "precious").unwrap();
    let link = tmp.path().join("trace.csv");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    #[cfg(unix)]
    {
        let e = write(&link, "x").unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }
    let folder = tmp.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    assert!(write(&folder, "x").is_err());
    let fifo = tmp.path().join("fifo");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(write(&fifo, "x").is_err());
        assert!(
            std::fs::symlink_metadata(&fifo).is_ok_and(|m| !m.is_file()),
            "the FIFO stays"
        );
    }
    // No temporary file is left behind by any of these.
    assert!(
        !names(tmp.path()).iter().any(|n| n.contains(TMP_SUFFIX)),
        "{:?}",
        names(tmp.path())
    );
    // A regular file at a path no manifest governs (a trace the user named) is replaced.
    let plain = tmp.path().join("gen.csv");
    std::fs::write(&plain, "old").unwrap();
    write(&plain, "new").unwrap();
    assert_eq!(std::fs::read_to_string(&plain).unwrap(), "new");
}

#[test]
fn one_run_at_a_time_writes_into_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let first = claim(tmp.path(), false, "a").unwrap();
    let e = claim(tmp.path(), false, "b").unwrap_err();
    assert!(
        e.to_string().contains("another fairway process is writing"),
        "{e}"
    );
    drop(first);
    claim(tmp.path(), false, "b").unwrap();
}

/// A killed run's temporary files (fairway's naming, regular files) go at the next claim; the
/// manifest of an older fairway (an empty marker) reads as a finished run of every file there.
#[test]
fn leftovers_of_a_killed_run_and_older_markers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join(MANIFEST), "").unwrap();
    std::fs::write(dir.join("summary.json"), "{}").unwrap();
    std::fs::write(dir.join(format!(".summary.77-3{TMP_SUFFIX}.json")), "half").unwrap();
    let m = Manifest::read(dir).unwrap().unwrap();
    assert_eq!(m.state, State::Complete);
    assert!(m.files.contains_key("summary.json"));
    drop(claim(dir, false, "new").unwrap());
    assert_eq!(names(dir), [".fairway-output"]);
}

#[test]
fn a_manifest_cannot_point_outside_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(tmp.path().join("victim"), "keep").unwrap();
    let text = format!(
        "{{\"format\":\"{FORMAT}\",\"run\":\"x\",\"state\":\"complete\",\"files\":{{\"../victim\":{{\"bytes\":4,\"run\":\"x\"}}}}}}"
    );
    std::fs::write(dir.join(MANIFEST), text).unwrap();
    let e = claim(&dir, false, "y").unwrap_err();
    assert!(e.to_string().contains("not a path inside the folder"), "{e}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("victim")).unwrap(),
        "keep"
    );
}
