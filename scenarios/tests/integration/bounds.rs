//! Numbers past what the engine can count: times beyond its bound, speeds below its resolution,
//! sweeps, outages and copies beyond their limits. Each is refused at the input with one line
//! naming the file and the key, or (a run whose sum of times passes the end of simulated time)
//! stops with an error; none panics, none saturates silently.

use fairway_scenarios::Scenario;
use std::path::Path;

const POOL: &str = "[cluster]\n[[cluster.pool]]\nname = \"p\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 1\ncpu = 64\nmemory_gib = 512\n";

/// A scenario over `trace` (canonical rows after the header) with `extra` settings, in `dir`.
fn write(dir: &Path, trace: &str, extra: &str) -> std::path::PathBuf {
    std::fs::write(
        dir.join("t.csv"),
        format!("job_id,submit_time,duration,gpus,team\n{trace}"),
    )
    .unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"b\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n{extra}\n{POOL}[policy]\nname = \"fifo\"\n"
        ),
    )
    .unwrap();
    path
}

/// The error of loading, resolving and running the scenario: one line naming the file.
fn error(dir: &Path, trace: &str, extra: &str) -> String {
    let path = write(dir, trace, extra);
    let e = match Scenario::load(&path).and_then(|s| s.resolve()) {
        Err(e) => e.to_string(),
        Ok(r) => match r.run() {
            Err(e) => return e.to_string(),
            Ok(_) => panic!("accepted: {extra}"),
        },
    };
    assert!(!e.contains('\n'), "one line: {e}");
    assert!(e.contains(".toml") || e.contains(".csv"), "names the file: {e}");
    e.replace(&format!("{}/", dir.display()), "")
}

const TWO: &str = "a,1,60,1,x\nb,1,60,1,x\n";

#[test]
fn copies_of_a_team_past_max_jobs_are_refused_naming_the_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let e = error(
        tmp.path(),
        TWO,
        "[[whatif]]\nwindow = { from_s = 0, to_s = 10 }\n[[whatif]]\nteam_load = { team = \"x\", scale = 100 }\n[limits]\nmax_jobs = 100",
    );
    assert_eq!(
        e,
        "s.toml: whatif[1]: team_load: the trace would have 200 jobs, more than [limits] max_jobs = 100; raise the limit if you mean it"
    );
    // At the limit, the copies are made.
    let path = write(
        tmp.path(),
        TWO,
        "[[whatif]]\nteam_load = { team = \"x\", scale = 50 }\n[limits]\nmax_jobs = 100",
    );
    assert_eq!(Scenario::load(&path).unwrap().workload().unwrap().0.len(), 100);
}
