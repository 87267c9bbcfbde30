//! Numbers past what the engine can count: times beyond its bound, speeds below its resolution,
//! sweeps, outages and copies beyond their limits. Each is refused at the input with one line
//! naming the file and the key, or (a run whose sum of times passes the end of simulated time)
//! stops with an error; none panics, none saturates silently.

use fairway_scenarios::Scenario;
use fairway_scenarios::sweep::Sweep;
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
fn a_time_scale_past_the_bound_is_refused_at_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    // Equal submits: the span check sees no span at all.
    let e = error(tmp.path(), TWO, "time_scale = 1e20");
    assert_eq!(
        e,
        "s.toml: trace.time_scale: 1e20 takes the submit time of job 'a', 1 s, past the limit of 9007199254740.992 s (about 285,000 years)"
    );
}

#[test]
fn rare_synthetic_arrivals_are_refused_at_their_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.toml");
    for arrivals in [
        "{ process = \"poisson\", per_hour = 1e-300 }",
        "{ process = \"daily\", per_hour = 1e-300, peak_to_trough = 3 }",
    ] {
        std::fs::write(
            &path,
            format!(
                "name = \"b\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 5\narrivals = {arrivals}\n{POOL}[policy]\nname = \"fifo\"\n"
            ),
        )
        .unwrap();
        let e = Scenario::load(&path).unwrap().resolve().unwrap_err().to_string();
        let e = e.replace(&format!("{}/", tmp.path().display()), "");
        assert!(
            e.starts_with("s.toml: trace.synthetic.arrivals.per_hour: job 0 would arrive at"),
            "{e}"
        );
    }
}

#[test]
fn a_horizon_or_outage_time_past_the_bound_is_refused_at_its_key() {
    let tmp = tempfile::tempdir().unwrap();
    let huge = "[limits]\nmax_span_days = 1e300";
    let e = error(tmp.path(), TWO, &format!("[engine]\nhorizon_s = 1e15\n{huge}"));
    assert_eq!(
        e,
        "s.toml: engine.horizon_s: 1e15 s is past the longest time the engine takes, 9007199254740.992 s (about 285,000 years)"
    );
    // A failure window past the bound used to become no window at all.
    let e = error(
        tmp.path(),
        TWO,
        "[failures]\nmtbf_h = 100\nmttr_h = 1\nuntil_s = 1e20",
    );
    assert!(e.starts_with("s.toml: failures.until_s: 1e20 s is past"), "{e}");
    let e = error(tmp.path(), TWO, "[failures]\nmtbf_h = 1e300\nmttr_h = 1");
    assert!(e.starts_with("s.toml: failures.mtbf_h: "), "{e}");
}

#[test]
fn durations_past_the_bound_are_refused_by_the_reader() {
    let tmp = tempfile::tempdir().unwrap();
    // Past the bound: the reader says so.
    let e = error(tmp.path(), "a,0,1e13,1,x\n", "");
    assert_eq!(
        e,
        "t.csv:2: column 'duration': expected a number of seconds up to 9007199254740.992 (about 285,000 years), found '1e13'"
    );
}

#[test]
fn durations_whose_sum_passes_the_end_of_time_end_the_run_with_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    // Each within the bound, one after another on the slowest GPU: the third would end past
    // the last instant simulated time holds.
    let trace =
        "a,0,9000000000000,1,x\nb,0,9000000000000,1,x\nc,0,9000000000000,1,x\nd,0,9000000000000,1,x\n";
    let slow = "[[whatif]]\nadd_pool = { name = \"slow\", gpu_model = \"T4\", nodes = 1, gpus_per_node = 1, cpu = 8, memory_gib = 64, speed = 0.001 }\n\
        [[whatif]]\nadd_nodes = { pool = \"p\", nodes = -1 }";
    let e = error(tmp.path(), trace, slow);
    assert!(
        e.starts_with("the run would pass the end of simulated time at t=")
            && e.contains("job 'c' would run for"),
        "{e}"
    );
}

#[test]
fn scaled_times_past_the_bound_are_refused_naming_the_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let e = error(tmp.path(), TWO, "[[whatif]]\nscale_duration = 1e300");
    assert_eq!(
        e,
        "s.toml: whatif[0]: scale_duration = 1e300 takes the run time of job 'a', 60 s, past the limit of 9007199254740.992 s (about 285,000 years)"
    );
    let e = error(
        tmp.path(),
        TWO,
        "[[whatif]]\nscale_load = 2.0\n[[whatif]]\nscale_load = 1e-300",
    );
    assert!(
        e.starts_with(
            "s.toml: whatif[1]: scale_load = 1e-300 takes the submit time of job 'a', 0.5 s, past the limit"
        ),
        "{e}"
    );
}

#[test]
fn speeds_below_a_thousandth_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A pool's speed, in the scenario or a what-if.
    let path = write(d, TWO, "");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("memory_gib = 512\n", "memory_gib = 512\nspeed = 1e-300\n"),
    )
    .unwrap();
    let e = Scenario::load(&path).unwrap().resolve().unwrap_err().to_string();
    assert!(
        e.ends_with("s.toml: cluster.pool: pool 'p': speed must be a number from 0.001 to 1000 (1 = the reference GPU), found 1e-300"),
        "{e}"
    );
    let e = error(
        d,
        TWO,
        "[[whatif]]\nadd_pool = { name = \"q\", gpu_model = \"T4\", nodes = 1, gpus_per_node = 1, cpu = 8, memory_gib = 64, speed = 0.0004 }",
    );
    assert!(
        e.ends_with(
            "pool 'q': speed must be a number from 0.001 to 1000 (1 = the reference GPU), found 0.0004"
        ),
        "{e}"
    );
    // A speed table's and a speed matrix's rows.
    std::fs::write(d.join("speeds.csv"), "gpu_model,speed\nA100,1e-300\n").unwrap();
    std::fs::write(d.join("matrix.csv"), "class,gpu_model,speed\nllm,A100,0.0001\n").unwrap();
    let path = write(d, TWO, "");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("[cluster]\n", "[cluster]\nspeed_table = \"speeds.csv\"\n"),
    )
    .unwrap();
    let e = Scenario::load(&path).unwrap().resolve().unwrap_err().to_string();
    assert!(
        e.ends_with("speeds.csv:2: column 'speed': expected a speed from 0.001 to 1000 (1 = the reference GPU), found '1e-300'"),
        "{e}"
    );
    let e = error(d, TWO, "[engine]\nspeed_matrix = \"matrix.csv\"");
    assert_eq!(
        e,
        "matrix.csv:2: column 'speed': expected a speed from 0.001 to 1000 (1 = the reference GPU), found '0.0001'"
    );
}

#[test]
fn tiny_mean_times_between_failures_are_refused_before_drawing() {
    let tmp = tempfile::tempdir().unwrap();
    // One node until 61 s (the last submit plus the longest job), failing and repaired every
    // 3.6 ms on average: millions of outages.
    let e = error(tmp.path(), TWO, "[failures]\nmtbf_h = 1e-9\nmttr_h = 1e-9");
    assert_eq!(
        e,
        "s.toml: failures.mtbf_h: 1 nodes over 61.0 s, failing after 3.6e-6 s and repaired after 3.6e-6 s on average, make about 8472222 outages, more than the limit of 1000000; raise mtbf_h or mttr_h, or set an earlier until_s"
    );
}

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

#[test]
fn a_sweep_of_more_runs_than_the_limit_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = write(tmp.path(), TWO, "");
    let base = std::fs::read_to_string(&path).unwrap();
    let range = "{ from = 1, to = 10001, step = 1 }";
    // 10001^5 x 2 overflows 64 bits; 10001^2 is past the limit alone.
    for (vary, want) in [
        (
            format!(
                "\"engine.max_preemptions_per_job\" = {range}, \"limits.max_jobs\" = {range}, \"engine.horizon_s\" = {range}, \
                 \"cluster.pool.0.nodes\" = {range}, \"cluster.pool.0.cpu\" = {range}"
            ),
            "10001 x 10001 x 10001 x 10001 x 10001 values x 2 seeds",
        ),
        (
            format!("\"engine.horizon_s\" = {range}, \"cluster.pool.0.nodes\" = {range}"),
            "10001 x 10001 values x 2 seeds",
        ),
    ] {
        std::fs::write(
            &path,
            format!("{base}\n[engine]\n[limits]\n[sweep]\nseeds = [1, 2]\nvary = {{ {vary} }}\n"),
        )
        .unwrap();
        let e = Sweep::load(&path).unwrap_err().to_string();
        let e = e.replace(&format!("{}/", tmp.path().display()), "");
        assert_eq!(
            e,
            format!(
                "s.toml: sweep: {want} is more than the limit of 1000000 runs; vary fewer keys or fewer values"
            )
        );
    }
}
