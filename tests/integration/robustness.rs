//! What fairway guarantees against bad input and against itself (docs/robustness.md): inputs that
//! cannot be read are refused at once, outputs never destroy what fairway did not write, sweeps
//! resume by content, and the CI gate fails closed.

use crate::common::{fairway, ok};
use std::path::Path;

/// A small scenario in `dir`: a synthetic trace of `jobs` jobs on one 8-GPU node.
fn scenario(dir: &Path, extra: &str) -> String {
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"s\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 40\n\
             [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
             [policy]\nname = \"fifo\"\n{extra}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// Exit code and stderr of a command that must fail.
fn refused(args: &[&str]) -> (Option<i32>, String) {
    let out = fairway(args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A FIFO as a scenario, a trace or a manifest, and an endless device as a trace, are refused at
/// once (exit 2) instead of blocking or filling memory.
#[test]
fn fifos_and_devices_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo.toml");
    if !std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("skipped: no mkfifo");
        return;
    }
    let f = fifo.to_str().unwrap();
    let (code, err) = refused(&["validate", f]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    for (format, path) in [
        ("canonical", f),
        ("canonical", "/dev/zero"),
        ("openb", "/dev/zero"),
    ] {
        let text = format!(
            "name = \"t\"\n[trace]\nformat = \"{format}\"\npath = \"{path}\"\n\
             [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
             [policy]\nname = \"fifo\"\n"
        );
        let sc = tmp.path().join("t.toml");
        std::fs::write(&sc, text).unwrap();
        let (code, err) = refused(&["validate", sc.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{path}: {err}");
        assert!(err.contains(path) && err.contains("not a regular file"), "{err}");
    }
    let sc = scenario(tmp.path(), "");
    let kueue = std::fs::read_to_string(&sc).unwrap().replace(
        "name = \"fifo\"",
        &format!("name = \"kueue\"\nmanifests = \"{f}\""),
    );
    std::fs::write(&sc, kueue).unwrap();
    let (code, err) = refused(&["validate", &sc]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

/// `--force` into a folder of the user's own files: they survive the run, and a second run
/// removes only what the first wrote.
#[test]
fn force_keeps_the_users_files() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario(tmp.path(), "");
    let mine = tmp.path().join("mine");
    std::fs::create_dir_all(mine.join("charts")).unwrap();
    std::fs::write(mine.join("charts/keep.svg"), "mine").unwrap();
    std::fs::write(mine.join("notes.md"), "mine").unwrap();
    let out = mine.to_str().unwrap();
    let (code, err) = refused(&["run", &sc, "--out", out, "-q"]);
    assert_eq!(code, Some(2), "{err}");
    ok(&["run", &sc, "--out", out, "--force", "-q"]);
    ok(&["run", &sc, "--out", out, "--force", "--no-report", "-q"]);
    assert_eq!(
        std::fs::read_to_string(mine.join("charts/keep.svg")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_to_string(mine.join("notes.md")).unwrap(), "mine");
    // The second run wrote no report: the first run's report is gone, not left describing
    // another run.
    assert!(!mine.join("report.html").exists());
    assert!(!mine.join("charts/utilisation.svg").exists());
    assert!(mine.join("summary.json").exists());
}

/// A resumed sweep reuses a run only for the very scenario it ran: after the swept values
/// change, every run is run again, and sweep.csv equals a fresh sweep's.
#[test]
fn a_resume_after_the_sweep_changed_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |nodes: &str| {
        scenario(
            tmp.path(),
            &format!("[sweep]\nseeds = [1, 2]\nvary = {{ \"cluster.pool.0.nodes\" = [{nodes}] }}\n"),
        )
    };
    let out = tmp.path().join("sw");
    let out_s = out.to_str().unwrap();
    let file = sweep("1, 2");
    ok(&["sweep", &file, "--out", out_s, "--quiet"]);
    let file = sweep("3, 4");
    let resumed = fairway(&["sweep", &file, "--out", out_s, "--resume"]);
    assert!(resumed.status.success());
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        err.contains("0 of 4 runs kept from before; 4 found for an older version of the sweep, run again"),
        "{err}"
    );
    let fresh = tmp.path().join("fresh");
    ok(&["sweep", &file, "--out", fresh.to_str().unwrap(), "--quiet"]);
    let csv = |d: &Path| std::fs::read_to_string(d.join("sweep.csv")).unwrap();
    assert_eq!(csv(&out), csv(&fresh));
    // Unchanged, a resume keeps every run.
    let again = fairway(&["sweep", &file, "--out", out_s, "--resume"]);
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("4 of 4 runs kept from before; 0 found"), "{err}");
    // Shards of two different sweeps do not merge; varying the seed is an error, not ignored.
    let other = tmp.path().join("other");
    ok(&[
        "sweep",
        &sweep("1, 2"),
        "--out",
        other.to_str().unwrap(),
        "--quiet",
    ]);
    let merged = tmp.path().join("merged");
    let (code, err) = refused(&[
        "sweep",
        "merge",
        out_s,
        other.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("shards of different sweeps"), "{err}");
    let seeded = scenario(tmp.path(), "[sweep]\nvary = { \"seed\" = [1, 2] }\n");
    let (code, err) = refused(&["validate", &seeded]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("seeds = [1, 2, 3]"), "{err}");
}

/// The gate on summaries that lack the checked metric: an error, never a pass.
#[test]
fn the_ci_gate_fails_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario(tmp.path(), "");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&["run", &sc, "--out", a.to_str().unwrap(), "--no-report", "-q"]);
    ok(&["run", &sc, "--out", b.to_str().unwrap(), "--no-report", "-q"]);
    // No interactive jobs: the share within target has no value on either side.
    let (code, err) = refused(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--fail-on",
        "interactive_within_target:-1pp",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cannot evaluate interactive_within_target:-1pp"),
        "{err}"
    );
}

/// Two runs into one folder at once: the second is refused while the first writes.
#[test]
fn one_run_at_a_time_per_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = scenario(tmp.path(), "");
    let out = tmp.path().join("o");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_fairway"))
            .args(["run", &sc, "--out", out.to_str().unwrap(), "-q"])
            .output()
            .unwrap()
    };
    let (x, y) = std::thread::scope(|s| {
        let a = s.spawn(spawn);
        let b = s.spawn(spawn);
        (a.join().unwrap(), b.join().unwrap())
    });
    // Either both ran one after the other, or one was refused with a clear message; never a
    // folder mixing the two.
    for o in [&x, &y] {
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("another fairway process is writing"), "{err}");
        }
    }
    ok(&["report", out.to_str().unwrap()]);
}

/// An output path that is a device is refused, and the device stays one.
#[test]
fn gen_never_replaces_a_device() {
    let (code, err) = refused(&["gen", "--jobs", "5", "--out", "/dev/full"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(std::fs::symlink_metadata("/dev/full").is_ok_and(|m| !m.is_file()));
}
