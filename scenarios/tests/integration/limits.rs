//! `[limits]`: a trace or span beyond the caps is refused with a message that names the limit.

use fairway_scenarios::Scenario;

fn load(dir: &std::path::Path, extra: &str) -> Result<Scenario, fairway_scenarios::ScenarioError> {
    let mut trace = String::from("job_id,submit_time,duration,gpus,team\n");
    for i in 0..5 {
        trace += &format!("j{i},{},60,1,a\n", i * 10);
    }
    std::fs::write(dir.join("t.csv"), trace).unwrap();
    let text = format!(
        "name = \"l\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n{extra}\n\
         [cluster]\n[[cluster.pool]]\nname = \"p\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
         [policy]\nname = \"fifo\"\n"
    );
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path)
}

fn scenario(dir: &std::path::Path, extra: &str) -> Scenario {
    load(dir, extra).unwrap()
}

fn error(s: &Scenario) -> String {
    match s.resolve() {
        Ok(_) => panic!("the scenario should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_trace_longer_than_max_jobs_stops_at_the_first_row_beyond() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario(tmp.path(), "[limits]\nmax_jobs = 3");
    let e = error(&s);
    // Header on line 1, so the fourth job is on line 5.
    assert!(e.contains("t.csv:5: more than 3 rows"), "{e}");
    assert!(e.contains("[limits] max_jobs"), "{e}");
    assert!(scenario(tmp.path(), "[limits]\nmax_jobs = 5").resolve().is_ok());
}

#[test]
fn a_span_beyond_max_span_days_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // 40 s of submissions x 1e4 = 4.6 days.
    let s = scenario(tmp.path(), "time_scale = 1e4\n[limits]\nmax_span_days = 2");
    let e = error(&s);
    assert!(
        e.contains("limits.max_span_days") && e.contains("span 5 days"),
        "{e}"
    );
    let e = load(
        tmp.path(),
        "[engine]\nhorizon_s = 1e9\n[limits]\nmax_span_days = 365",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("engine.horizon_s") && e.contains("max_span_days = 365"),
        "{e}"
    );
    let e = load(tmp.path(), "[limits]\nmax_span_days = -1")
        .unwrap_err()
        .to_string();
    assert!(e.contains("days > 0"), "{e}");
}
