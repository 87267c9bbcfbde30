//! The `fairway` binary end to end: the shipped scenarios, determinism, bad input.

use crate::common::{fails, fairway, ok, read, root};
use std::path::{Path, PathBuf};
use std::process::Command;

fn run_to(scenario: &str, dir: &Path) {
    ok(&["run", scenario, "--quiet", "--out", dir.to_str().unwrap()]);
}

#[test]
fn quickstart_matches_its_golden_summary_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_to("scenarios/catalog/quickstart.toml", &a);
    run_to("scenarios/catalog/quickstart.toml", &b);
    assert_same_files(&a, &b);
    let golden = root().join("tests/golden/quickstart/summary.json");
    assert_eq!(
        read(&a.join("summary.json")),
        read(&golden),
        "summary.json changed: review, then update {}",
        golden.display()
    );
    check_summary_against_jobs(&a);
}

/// Every file under `a` (recursively) exists under `b` with the same bytes, and the other way.
fn assert_same_files(a: &Path, b: &Path) {
    fn list(root: &Path, dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                list(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    let (mut fa, mut fb) = (Vec::new(), Vec::new());
    list(a, a, &mut fa);
    list(b, b, &mut fb);
    fa.sort();
    fb.sort();
    assert_eq!(fa, fb, "the two folders hold different files");
    for f in &fa {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
}

/// The columns of jobs.csv, as the README documents them.
const JOBS_HEADER: &[&str] = &[
    "job_id",
    "team",
    "status",
    "submit_time",
    "start_time",
    "end_time",
    "wait_s",
    "jct_s",
    "preemptions",
    "gpus",
    "pods",
    "reason",
    "admit_time",
    "quota_wait_s",
    "node_wait_s",
    "wait_reason",
    "user",
    "queue",
    "priority_class",
    "kind",
    "pending_s",
    "run_s",
    "slowdown",
    "bounded_slowdown",
    "gpu_util",
    "gpu_hours",
    "nodes",
];

/// The data rows of a CSV file, after checking that a jobs.csv header is the documented one.
fn csv_records(path: &Path) -> Vec<csv::StringRecord> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    if path.ends_with("jobs.csv") {
        assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), JOBS_HEADER);
    }
    rdr.records().map(Result::unwrap).collect()
}

/// The first `n` fields of a record, joined by commas (unquoted).
fn first_fields(r: &csv::StringRecord, n: usize) -> String {
    r.iter().take(n).collect::<Vec<_>>().join(",")
}

/// Recomputes summary figures from jobs.csv and the trace, independently of the reports crate.
fn check_summary_against_jobs(dir: &Path) {
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    let mut rdr = csv::Reader::from_path(dir.join("jobs.csv")).unwrap();
    let (mut total, mut finished, mut abandoned) = (0u64, 0u64, 0u64);
    let mut gpu_s = 0.0;
    let mut waits = Vec::new();
    for rec in rdr.records() {
        let r = rec.unwrap();
        total += 1;
        match &r[2] {
            "finished" => {
                finished += 1;
                let (start, end): (f64, f64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
                gpu_s += (end - start) * r[9].parse::<f64>().unwrap() * r[10].parse::<f64>().unwrap();
                assert_eq!(r[11].len(), 0, "a finished job has no reason");
            }
            "abandoned" => {
                abandoned += 1;
                assert!(
                    r[4].is_empty() && r[6].is_empty() && r[7].is_empty(),
                    "never started: empty times"
                );
            }
            other => panic!("unexpected status {other}"),
        }
        if !r[6].is_empty() {
            waits.push(r[6].parse::<f64>().unwrap());
        }
    }
    // The trace has 8,152 pods; 897 were never scheduled in reality and may give up.
    assert_eq!(total, 8152);
    assert_eq!(summary["jobs_total"], 8152);
    assert_eq!(summary["jobs_finished"], finished);
    assert_eq!(summary["jobs_abandoned"], abandoned);
    assert!(abandoned <= 897);
    let hours = summary["gpu_hours"].as_f64().unwrap();
    assert!(
        (hours - gpu_s / 3600.0).abs() < 1e-6 * hours,
        "{hours} vs {}",
        gpu_s / 3600.0
    );
    // Allocation rate = GPU-hours / (48 GPUs x span).
    let span = summary["span_s"].as_f64().unwrap();
    assert_eq!(summary["capacity_gpus"], 48.0);
    let rate = summary["gpu_allocation_rate"].as_f64().unwrap();
    assert!((rate - gpu_s / (48.0 * span)).abs() < 1e-9);
    // Wait percentiles by the numpy rule.
    waits.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (waits.len() - 1) as f64 * p;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        waits[lo] + (h - lo as f64) * (waits[hi] - waits[lo])
    };
    assert_eq!(summary["wait_s"]["count"], waits.len());
    assert!((summary["wait_s"]["p99"].as_f64().unwrap() - q(0.99)).abs() < 1e-3);
    assert_eq!(summary["wait_s"]["max"].as_f64().unwrap(), *waits.last().unwrap());
}

#[test]
fn validate_checks_without_running() {
    let out = ok(&["validate", "scenarios/catalog/quickstart.toml"]);
    assert!(out.contains("8152 jobs, 4 teams"), "{out}");
    assert!(out.contains("12 nodes, 48 GPUs"), "{out}");
    assert!(out.contains("every job fits on the cluster"), "{out}");
}

#[test]
fn trace_stats_reads_the_real_trace() {
    let out = ok(&["trace", "stats", "traces/data/openb/openb_pod_list_default.csv"]);
    assert!(out.contains("8152 in 4 teams"), "{out}");
    assert!(
        out.contains("7255 with a recorded start, 897 that may give up"),
        "{out}"
    );
    // 6,989 pods ask for one GPU or a share of one; 1,088 for none.
    assert!(out.contains("0: 1088"), "{out}");
}

#[test]
fn a_generated_trace_runs_and_its_oversized_job_is_unschedulable_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("gen.csv");
    ok(&[
        "gen",
        "--jobs",
        "300",
        "--seed",
        "5",
        "--out",
        trace.to_str().unwrap(),
    ]);
    // Same seed, same file.
    let again = tmp.path().join("again.csv");
    ok(&[
        "gen",
        "--jobs",
        "300",
        "--seed",
        "5",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(read(&trace), read(&again));
    // Append a job no node can hold: 16 GPUs in one pod.
    let mut text = read(&trace);
    text.push_str("huge,10,60,16,team-a,1,8,64,,0,,,,,,,,,\n");
    std::fs::write(&trace, text).unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"gen\"\n[trace]\nformat = \"canonical\"\npath = \"gen.csv\"\n\
         [cluster]\n[[cluster.pool]]\nname = \"h100\"\ngpu_model = \"H100\"\nnodes = 4\ngpus_per_node = 8\ncpu = 128\nmemory_gib = 1024\n\
         [policy]\nname = \"priority[mode=best-effort]\"\nplacement = \"first-fit\"\n",
    )
    .unwrap();
    let out = ok(&["validate", scenario.to_str().unwrap()]);
    assert!(out.contains("1 jobs can never fit"), "{out}");
    let dir = tmp.path().join("out");
    run_to(scenario.to_str().unwrap(), &dir);
    let records = csv_records(&dir.join("jobs.csv"));
    let row = records.iter().find(|r| &r[0] == "huge").unwrap();
    assert_eq!(
        first_fields(row, 16),
        "huge,team-a,unschedulable,10,,10,,,0,16,1,one pod needs 16 GPU, 8 CPU, 64 GiB; no node offers that (largest: 8 GPU, 128 CPU, 1024 GiB (pool h100)),,0,0,"
    );
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    assert_eq!(summary["jobs_total"], 301);
    assert_eq!(summary["jobs_unschedulable"], 1);
    assert_eq!(summary["jobs_finished"], 300);
}

#[test]
fn broken_scenarios_fail_with_one_precise_line() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let trace = root().join("traces/data/openb/openb_pod_list_default.csv");
    let nodes = root().join("traces/data/openb/openb_node_list_all_node.csv");
    let base = format!(
        "name = \"x\"\n[trace]\nformat = \"openb\"\npath = \"{}\"\n[cluster]\npath = \"{}\"\n[policy]\nname = \"fifo\"\n",
        trace.display(),
        nodes.display()
    );
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{base}colour = \"red\"\n"),
            "unknown field `colour`, expected one of `name`, `placement`, `manifests`, `params`, `placement_params`",
        ),
        (
            base.replace("[policy]\nname = \"fifo\"", "[policy]\nname = \"fofo\""),
            "unknown policy 'fofo'; known: fifo, priority, sjf, srtf, las, drf, fair-share, easy-backfill, kueue, replay",
        ),
        (
            base.replace("name = \"fifo\"", "name = \"fifo[mode=lazy]\""),
            "policy 'fifo': parameter 'mode' must be one of strict, best-effort, not 'lazy'",
        ),
        (
            format!("{base}placement = \"next-fit\"\n"),
            "unknown placement 'next-fit'; known: first-fit, best-fit, spread, random, fgd",
        ),
        (
            base.replace("format = \"openb\"", "format = \"parquet\""),
            "trace.format: unknown format 'parquet'; known: canonical, openb, kueue-workloads, kubernetes-pods,",
        ),
        (
            base.replace("openb_pod_list_default.csv", "missing.csv"),
            "missing.csv: cannot read: No such file or directory",
        ),
        (base.replace("name = \"x\"\n", ""), "missing field `name`"),
        (
            format!("{base}[engine]\nhorizon_s = -5\n"),
            "engine.horizon_s: must be a number of seconds >= 0, found -5",
        ),
        (
            base.replace("[cluster]\n", "[cluster]\nsample_one_in = 0\n"),
            "cluster.sample_one_in: must be at least 1",
        ),
        (
            base.replace("format = \"openb\"", "format = \"canonical\""),
            "missing required column 'job_id'",
        ),
        (String::new(), "missing field `name`"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let p = write(&format!("s{i}.toml"), text);
        let err = fails(&["run", &p, "--quiet"]);
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(want), "case {i}: got {err}\nwant {want}");
        // validate reports the same problem.
        assert!(fails(&["validate", &p]).contains(want));
    }
    assert!(fails(&["run", "no-such-scenario.toml"]).contains("no-such-scenario.toml: cannot read"));
}

#[test]
fn every_subcommand_has_help() {
    for cmd in [
        &["--help"][..],
        &["run", "--help"],
        &["validate", "--help"],
        &["trace", "stats", "--help"],
        &["gen", "--help"],
        &["list", "--help"],
    ] {
        let out = ok(cmd);
        assert!(out.contains("Usage: fairway"), "{cmd:?}: {out}");
    }
    let list = ok(&["list"]);
    for name in ["fifo", "priority", "replay", "first-fit", "best-fit"] {
        assert!(list.contains(name), "{list}");
    }
}

/// Every shipped scenario runs to the end and accounts for every job of its trace (in each run of
/// a bake-off).
#[test]
fn every_shipped_scenario_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let accounted = |dir: &Path, rel: &str| {
        let s: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
        let parts: u64 = [
            "jobs_finished",
            "jobs_unschedulable",
            "jobs_abandoned",
            "jobs_pending",
            "jobs_running",
        ]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum();
        assert_eq!(parts, s["jobs_total"].as_u64().unwrap(), "{rel}");
        assert!(s["jobs_total"].as_u64().unwrap() > 0, "{rel}");
    };
    for entry in std::fs::read_dir(root().join("scenarios/catalog")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let rel = p.strip_prefix(root()).unwrap().to_str().unwrap().to_string();
            let dir = tmp.path().join(p.file_stem().unwrap());
            run_to(&rel, &dir);
            if dir.join("bakeoff.csv").exists() {
                let rows = read(&dir.join("bakeoff.csv")).lines().count() - 1;
                let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.is_dir())
                    .collect();
                runs.sort();
                assert_eq!(runs.len(), rows, "{rel}");
                for r in &runs {
                    accounted(r, &rel);
                }
            } else if dir.join("inflation.csv").exists() {
                // Checked by the_inflation_experiment_ranks_placements.
            } else {
                accounted(&dir, &rel);
            }
        }
    }
}

/// The workload-inflation experiment on the openb lists: one row per arrival and placement, the
/// curve rises with demand and never exceeds it, and the placements rank as the paper found:
/// spreading fragments most, the fragmentation-aware placement least.
#[test]
fn the_inflation_experiment_ranks_placements() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("infl");
    run_to("scenarios/catalog/fgd-inflation.toml", &dir);
    let text = read(&dir.join("inflation.csv"));
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "placement,arrival,job,gpu,placed,arrived_gpu_demand,gpu_allocation_ratio"
    );
    let mut last: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let (demand, ratio): (f64, f64) = (f[5].parse().unwrap(), f[6].parse().unwrap());
        assert!(ratio <= demand + 1e-6, "{l}");
        let prev = last.insert(f[0].to_string(), (demand, ratio));
        if let Some((d0, r0)) = prev {
            assert!(demand >= d0 && ratio >= r0, "{l}");
        }
    }
    assert_eq!(last.len(), 5);
    for (p, (demand, _)) in &last {
        assert!((1.3..1.31).contains(demand), "{p} stopped at {demand}");
    }
    let r = |p: &str| last[p].1;
    assert!(
        r("spread") < r("random") && r("random") < r("first-fit"),
        "{last:?}"
    );
    assert!(
        r("first-fit") <= r("best-fit") && r("best-fit") < r("fgd"),
        "{last:?}"
    );
    assert!((0.92..0.96).contains(&r("best-fit")), "{last:?}");
    let s: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    assert_eq!(s["placements"].as_array().unwrap().len(), 5);
    assert_eq!(s["capacity_gpus"], 6212.0);
}

#[test]
fn every_shipped_scenario_validates() {
    let mut n = 0;
    for entry in std::fs::read_dir(root().join("scenarios/catalog")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let rel = p.strip_prefix(root()).unwrap().to_str().unwrap().to_string();
            let out = ok(&["validate", &rel]);
            assert!(out.ends_with("ok\n"), "{rel}: {out}");
            n += 1;
        }
    }
    assert!(n >= 7, "{n} scenarios");
}

/// The Kueue reclaim scenario: golden summary, determinism, and its files agree with each other.
#[test]
fn kueue_reclaim_matches_its_golden_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_to("scenarios/catalog/kueue-reclaim.toml", &a);
    run_to("scenarios/catalog/kueue-reclaim.toml", &b);
    assert_same_files(&a, &b);
    let golden = root().join("tests/golden/kueue-reclaim/summary.json");
    assert_eq!(
        read(&a.join("summary.json")),
        read(&golden),
        "summary.json changed: review, then update {}",
        golden.display()
    );
    let summary: serde_json::Value = serde_json::from_str(&read(&a.join("summary.json"))).unwrap();
    // One row per preemption, with Kueue's reasons and the preempting queue.
    let rows: Vec<String> = read(&a.join("preemptions.csv"))
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect();
    assert_eq!(rows.len() as u64, summary["preemptions"].as_u64().unwrap());
    let by_reason = summary["preemptions_by_reason"].as_object().unwrap();
    assert_eq!(
        by_reason.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        rows.len() as u64
    );
    for r in &rows {
        let f: Vec<&str> = r.split(',').collect();
        assert!(["InCohortReclamation", "InClusterQueue"].contains(&f[3]), "{r}");
        assert!(
            !f[4].is_empty() && !f[5].is_empty(),
            "every preemption names its preemptor: {r}"
        );
    }
    // Per team, time by pending reason adds up to the pending time split into quota and nodes.
    for (team, t) in summary["per_team"].as_object().unwrap() {
        let reasons: f64 = t["pending_s_by_reason"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_f64().unwrap())
            .sum();
        let split = t["quota_wait_s"].as_f64().unwrap() + t["node_wait_s"].as_f64().unwrap();
        assert!((reasons - split).abs() < 1e-6, "{team}: {reasons} vs {split}");
    }
}

/// A hand trace through the kueue policy (kueue.md 6.2 as a scenario): jobs reach their
/// ClusterQueues through LocalQueues named in the trace's `queue` column (with or without the
/// namespace), priorities are WorkloadPriorityClass names, and the manifests mix v1beta1 and
/// v1beta2. p1 and r1..r3 fill the 24 GPUs; at 10 p2 (prod, within its nominal 16) reclaims
/// r3 and r2 (lowest priority, then newest) and starts at once; p2 ends at 110 and the parked
/// r2 and r3 return at the flush 1 s later, restarting from scratch: they end at 1111.
#[test]
fn kueue_end_to_end_hand_trace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    run_to("tests/data/kueue-e2e/scenario.toml", &dir);
    let records = csv_records(&dir.join("jobs.csv"));
    let rows: Vec<String> = records.iter().map(|r| first_fields(r, 16)).collect();
    assert_eq!(
        rows,
        vec![
            "p1,prod,finished,0,0,1000,0,1000,0,1,8,,0,0,0,",
            "r1,research,finished,1,1,1001,0,1000,0,1,8,,1,0,0,",
            "r2,research,finished,2,2,1111,0,1109,1,1,4,InCohortReclamation,2,101,0,WaitingForQuota",
            "r3,research,finished,3,3,1111,0,1108,1,1,4,InCohortReclamation,3,101,0,WaitingForQuota",
            "p2,prod,finished,10,10,110,0,100,0,1,8,,10,0,0,",
        ]
    );
    // r2 ran 2..10 s, was preempted, waited 10..111 s and ran its 1000 s again: 1008 s running,
    // 101 s pending, JCT 1109 s, slowdown 1109 / 1008; 4 pods of 1 GPU for 1008 s = 1.12 GPU-h.
    let r2 = &records[2];
    let col = |name: &str| {
        r2.get(JOBS_HEADER.iter().position(|c| *c == name).unwrap())
            .unwrap()
    };
    assert_eq!(col("queue"), "research");
    assert_eq!(col("priority_class"), "medium");
    assert_eq!(col("kind"), "batch");
    assert_eq!(col("pending_s"), "101");
    assert_eq!(col("run_s"), "1008");
    assert_eq!(col("slowdown").parse::<f64>().unwrap(), 1109.0 / 1008.0);
    assert_eq!(col("bounded_slowdown").parse::<f64>().unwrap(), 1109.0 / 1008.0);
    assert_eq!(col("gpu_hours").parse::<f64>().unwrap(), 1.12);
    // The ClusterQueues' nominal GPU quotas, 16 and 8, make the entitlements 2/3 and 1/3.
    let summary: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    let q = &summary["queues"];
    assert_eq!(
        (q[0]["name"].as_str(), q[0]["nominal_gpus"].as_f64()),
        (Some("prod"), Some(16.0))
    );
    assert_eq!(
        (q[1]["name"].as_str(), q[1]["cohort"].as_str()),
        (Some("research"), Some("pool"))
    );
    assert_eq!(summary["per_team"]["research"]["entitlement"], 0.333333);
    assert_eq!(summary["fairness"]["basis"], "nominal quota");
    assert_eq!(
        read(&dir.join("preemptions.csv")),
        "time_s,job_id,team,reason,by_job_id,by_team\n10,r2,research,InCohortReclamation,p2,prod\n10,r3,research,InCohortReclamation,p2,prod\n"
    );
}

/// A bake-off runs its policies in parallel yet writes the same bytes every time, and each of its
/// runs is the run the same policy gives alone: its FIFO best-effort row is the quickstart.
#[test]
fn a_bakeoff_is_deterministic_and_each_run_matches_a_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, q) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("q"));
    run_to("scenarios/catalog/bakeoff.toml", &a);
    run_to("scenarios/catalog/bakeoff.toml", &b);
    assert_eq!(read(&a.join("bakeoff.csv")), read(&b.join("bakeoff.csv")));
    run_to("scenarios/catalog/quickstart.toml", &q);
    let json = |p: &Path| -> serde_json::Value { serde_json::from_str(&read(p)).unwrap() };
    let alone = json(&q.join("summary.json"));
    let inside = json(&a.join("02-fifo_mode_best-effort_-best-fit/summary.json"));
    for key in [
        "wait_s",
        "jct_s",
        "gpu_allocation_rate",
        "jobs_finished",
        "per_team",
        "span_s",
    ] {
        assert_eq!(alone[key], inside[key], "{key}");
    }
}

/// The CI gate: a run compared with itself holds (exit 0); the worked example's candidate (spread
/// placement) regresses the mean wait and the allocation rate (exit 1, JUnit failures); a bad
/// check is an error (exit 2).
#[test]
fn compare_gates_on_regressions() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    run_to("scenarios/catalog/ci/baseline.toml", &base);
    let base = base.to_str().unwrap();
    let same = ok(&[
        "compare",
        base,
        "scenarios/catalog/ci/baseline.toml",
        "--fail-on",
        "mean_wait:+0%",
        "--per-team",
    ]);
    assert!(
        same.starts_with("### fairway compare: PASS (5 of 5 checks hold)"),
        "{same}"
    );
    let junit = tmp.path().join("junit.xml");
    let out = fairway(&[
        "compare",
        base,
        "scenarios/catalog/ci/candidate.toml",
        "--fail-on",
        "mean_wait:+10m",
        "--fail-on",
        "gpu_allocation_rate:-2pp",
        "--fail-on",
        "jobs_unschedulable:+0",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.starts_with("### fairway compare: FAIL (1 of 3 checks hold)"),
        "{md}"
    );
    assert!(md.contains("| `jobs_unschedulable:+0` | 0 | 0 |"), "{md}");
    let xml = read(&junit);
    assert!(xml.contains("tests=\"3\" failures=\"2\""), "{xml}");
    assert!(fails(&["compare", base, base, "--fail-on", "p95_wait+5%"]).contains("no ':'"));
    assert!(fails(&["compare", base, "no-such.toml", "--fail-on", "p95_wait:+5%"]).contains("no-such.toml"));
}

/// A sweep gives the same bytes on one thread and on two, and its shards merged equal the whole;
/// a resumed sweep skips finished runs and writes the same file.
#[test]
fn sweeps_are_deterministic_and_shard_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let file = "scenarios/catalog/sweeps/nodes-by-policy.toml";
    let dir = |n: &str| tmp.path().join(n).to_str().unwrap().to_string();
    let (one, two, s0, s1, merged) = (dir("one"), dir("two"), dir("s0"), dir("s1"), dir("merged"));
    ok(&["sweep", file, "--out", &one, "--parallel", "1", "--quiet"]);
    // The older spelling still works, and says it is old.
    let old = fairway(&["sweep", file, "--out", &two, "--jobs", "2", "--quiet"]);
    assert!(old.status.success());
    assert!(
        String::from_utf8_lossy(&old.stderr).contains("sweep --jobs is deprecated; use --parallel"),
        "{}",
        String::from_utf8_lossy(&old.stderr)
    );
    let csv = read(&Path::new(&one).join("sweep.csv"));
    assert_eq!(csv, read(&Path::new(&two).join("sweep.csv")));
    // 3 node counts x 2 policies x 2 seeds, in order.
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(
        lines[0].starts_with("run,point,seed,cluster.pool.0.nodes,policy.name,mean_wait,"),
        "{}",
        lines[0]
    );
    // Per-team columns follow the whole-run metrics, teams by name.
    assert!(
        lines[0].contains(",gpu_availability,team:team-a:mean_wait,")
            && lines[0].ends_with(",team:team-b:jobs_abandoned"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("1,1,1,4,fifo[mode=best-effort],"),
        "{}",
        lines[1]
    );
    assert!(lines[12].starts_with("12,6,2,8,sjf,"), "{}", lines[12]);
    ok(&["sweep", file, "--out", &s0, "--shard", "0/2", "--quiet"]);
    ok(&["sweep", file, "--out", &s1, "--shard", "1/2", "--quiet"]);
    assert_eq!(read(&Path::new(&s0).join("sweep.csv")).lines().count(), 7);
    ok(&["sweep", "merge", &s0, &s1, "--out", &merged]);
    assert_eq!(csv, read(&Path::new(&merged).join("sweep.csv")));
    // The Parquet table and the chart too, byte for byte.
    for f in ["sweep.parquet", "charts/sweep.svg"] {
        let bytes = |d: &str| std::fs::read(Path::new(d).join(f)).unwrap();
        assert!(
            bytes(&one) == bytes(&merged),
            "merged {f} differs from the whole run's"
        );
        assert!(
            bytes(&one) == bytes(&two),
            "{f} differs between 1 and 2 runs at once"
        );
    }
    // The chart has a line per policy (the other swept key) over the node counts.
    let svg = read(&Path::new(&one).join("charts/sweep.svg"));
    assert!(svg.contains("policy.name=sjf") && svg.contains("cluster.pool.0.nodes"));
    // Resume: a finished run's folder is not touched again.
    let marker = Path::new(&one).join("run-00001/jobs.csv");
    std::fs::write(&marker, "kept").unwrap();
    ok(&["sweep", file, "--out", &one, "--resume", "--quiet"]);
    assert_eq!(read(&marker), "kept");
    assert_eq!(csv, read(&Path::new(&one).join("sweep.csv")));
    assert!(fails(&["sweep", "merge", &s0, &s0, "--out", &merged]).contains("is in two shards"));
    assert!(fails(&["sweep", file, "--shard", "2/2"]).contains("0 <= I < N"));
    assert!(fails(&["run", file, "--quiet"]).contains("run it with `fairway sweep`"));
    let v = ok(&["validate", file]);
    assert!(
        v.contains("12 runs = 6 points x 2 seeds") && v.ends_with("ok\n"),
        "{v}"
    );
}

/// Capacity planning on a case worked out by hand: a job every minute, each one GPU for an hour,
/// keeps 60 GPUs busy in steady state (jobs 0..59 overlap in [3540, 3600) s; job 60 arrives as job
/// 0 ends). With 8 GPUs a node, 8 nodes (64 GPUs) never make a job wait; 7 (56) do. From one
/// node, the answer is to add 7. Within 0..5 nothing works: exit 1.
#[test]
fn plan_finds_the_hand_computed_capacity() {
    let tmp = tempfile::tempdir().unwrap();
    let mut trace = String::from("job_id,submit_time,duration,gpus,team\n");
    for k in 0..600 {
        trace.push_str(&format!("j{k},{},3600,1,t\n", 60 * k));
    }
    std::fs::write(tmp.path().join("steady.csv"), trace).unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"steady\"\n[trace]\nformat = \"canonical\"\npath = \"steady.csv\"\n\
         [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
         [policy]\nname = \"fifo\"\nplacement = \"first-fit\"\n",
    )
    .unwrap();
    let s = scenario.to_str().unwrap();
    let out = ok(&[
        "plan",
        s,
        "--target",
        "max_wait<=0",
        "--vary",
        "pool.g.nodes=0..15",
        "--out",
        tmp.path().join("plan").to_str().unwrap(),
    ]);
    assert!(
        out.starts_with("answer: add 7 node(s) (56 GPUs) to pool g\n"),
        "{out}"
    );
    assert!(out.contains("With 6 added, max_wait<=0 would not hold."), "{out}");
    // The marginal-value curve: a row per addition evaluated, and its chart.
    let curve = read(&tmp.path().join("plan/plan.csv"));
    // Five seeds by default; a deterministic trace gives the same wait in each.
    assert!(curve.contains("\n7,56,max_wait<=0,5,0,0,0,met\n"), "{curve}");
    assert!(curve.contains("\n6,48,max_wait<=0,5,"), "{curve}");
    let svg = read(&tmp.path().join("plan/plan-1.svg"));
    assert!(svg.starts_with("<svg") && svg.contains("nodes added to pool g"));
    let none = fairway(&[
        "plan",
        s,
        "--target",
        "max_wait<=0",
        "--vary",
        "pool.g.nodes=0..5",
    ]);
    assert_eq!(none.status.code(), Some(1));
    assert!(
        String::from_utf8(none.stdout)
            .unwrap()
            .starts_with("no addition in 0..5 to pool g meets every target")
    );
    assert!(
        fails(&["plan", s, "--target", "max_wait<=0", "--vary", "pool.g=0..5"])
            .contains("pool.NAME.nodes=A..B")
    );
}

/// A plan over a ClusterQueue's nominal quota: eight one-GPU jobs arrive at once on eight GPUs,
/// so none waits only when the quota admits all eight; at 7 one waits the hour the first take,
/// and one second more: an inadmissible workload is retried once a second (Kueue's delay queue).
/// The answer's manifests are written beside the plan, with the diff that sets the quota.
#[test]
fn plan_finds_the_hand_computed_quota_and_writes_its_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let mut trace = String::from("job_id,submit_time,duration,gpus,team\n");
    for k in 0..8 {
        trace.push_str(&format!("j{k},0,3600,1,cq\n"));
    }
    std::fs::write(tmp.path().join("burst.csv"), trace).unwrap();
    std::fs::write(
        tmp.path().join("kueue.yaml"),
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: default\n---\n\
         apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: cq\nspec:\n  namespaceSelector: {}\n  \
         resourceGroups:\n  - coveredResources: [nvidia.com/gpu]\n    flavors:\n    - name: default\n      resources:\n      \
         - name: nvidia.com/gpu\n        nominalQuota: 4\n",
    )
    .unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"quota\"\n[trace]\nformat = \"canonical\"\npath = \"burst.csv\"\n\
         [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
         [policy]\nname = \"kueue\"\nmanifests = \"kueue.yaml\"\nplacement = \"first-fit\"\n",
    )
    .unwrap();
    let s = scenario.to_str().unwrap();
    let dir = tmp.path().join("plan");
    let out = ok(&[
        "plan",
        s,
        "--target",
        "max_wait<=0",
        "--vary",
        "kueue.cq.default.nvidia.com/gpu.nominal=0..16",
        "--seeds",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.starts_with(
            "answer: set the nominal quota of nvidia.com/gpu in flavor default of ClusterQueue cq to 8\n"
        ),
        "{out}"
    );
    assert!(out.contains("At 7, max_wait<=0 would not hold."), "{out}");
    let curve = read(&dir.join("plan.csv"));
    assert!(curve.starts_with("nominal_quota,"), "{curve}");
    assert!(curve.contains("\n8,max_wait<=0,2,0,0,0,met\n"), "{curve}");
    // One job waits the hour and the second at 7; at 2, four rounds: 3 x 3601 s.
    assert!(
        curve.contains("\n7,max_wait<=0,2,3601,3601,3601,missed\n"),
        "{curve}"
    );
    assert!(
        curve.contains("\n2,max_wait<=0,2,10803,10803,10803,missed\n"),
        "{curve}"
    );
    let diff = read(&dir.join("kueue/manifests.diff"));
    assert!(
        diff.contains("-        nominalQuota: 4") && diff.contains("+        nominalQuota: 8\n"),
        "{diff}"
    );
    assert!(read(&dir.join("kueue/manifests.yaml")).contains("nominalQuota: 8\n"));
    // A quota the manifests do not hold is refused before anything runs.
    let e = fails(&[
        "plan",
        s,
        "--target",
        "max_wait<=0",
        "--vary",
        "kueue.cq.h100.nvidia.com/gpu.nominal=0..16",
    ]);
    assert!(e.contains("h100"), "{e}");
    let e = fails(&[
        "plan",
        s,
        "--target",
        "max_wait<=0",
        "--vary",
        "kueue.cq.default.nvidia.com/gpu.nominal=0..16",
        "--vary",
        "pool.g.nodes=0..1",
    ]);
    assert!(e.contains("one ClusterQueue quota on its own"), "{e}");
}

/// A run writes only into an empty folder or one holding fairway's earlier output; anything else
/// needs --force. Writing again replaces the charts, so none survives from an older run.
#[test]
fn a_run_refuses_a_foreign_non_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let d = dir.to_str().unwrap();
    let q = "scenarios/catalog/quickstart.toml";
    let err = fails(&["run", q, "--quiet", "--out", d]);
    assert!(err.contains("not empty") && err.contains("--force"), "{err}");
    assert!(!dir.join("summary.json").exists(), "nothing written");
    ok(&["run", q, "--quiet", "--out", d, "--force", "--png"]);
    assert_eq!(read(&dir.join("notes.txt")), "mine");
    assert!(dir.join("charts/share.png").exists());
    // Its own output folder is written again without --force; the old PNGs go.
    ok(&["run", q, "--quiet", "--out", d]);
    assert!(!dir.join("charts/share.png").exists());
    assert!(dir.join("charts/share.svg").exists());
    let file = tmp.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert!(fails(&["run", q, "--quiet", "--out", file.to_str().unwrap()]).contains("not a folder"));
}

/// Two runs at once, into two folders, write exactly what each writes alone.
#[test]
fn concurrent_runs_into_different_folders_do_not_interfere() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, alone) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("alone"),
    );
    let spawn = |scenario: &str, dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_fairway"))
            .args(["run", scenario, "--quiet", "--out", dir.to_str().unwrap()])
            .current_dir(root())
            .spawn()
            .unwrap()
    };
    let mut pa = spawn("scenarios/catalog/quickstart.toml", &a);
    let mut pb = spawn("scenarios/catalog/quickstart.toml", &b);
    assert!(pa.wait().unwrap().success() && pb.wait().unwrap().success());
    run_to("scenarios/catalog/quickstart.toml", &alone);
    assert_same_files(&a, &alone);
    assert_same_files(&b, &alone);
}

#[test]
fn no_report_writes_the_summary_and_tables_only_and_report_renders_them_later() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("q");
    let out_s = out.to_str().unwrap();
    ok(&[
        "run",
        "scenarios/catalog/quickstart.toml",
        "--out",
        out_s,
        "--no-report",
        "-q",
    ]);
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            ".fairway-output",
            "jobs.csv",
            "jobs.parquet",
            "preemptions.csv",
            "summary.json",
            "timeseries.csv",
            "timeseries.parquet"
        ]
    );
    // The summary is the same as a full run's (the golden).
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/golden/quickstart/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary, golden);
    ok(&["report", out_s]);
    assert!(out.join("report.html").exists() && out.join("metrics.prom").exists());
    // --png asks for a report, so the two do not go together.
    let both = fairway(&[
        "run",
        "scenarios/catalog/quickstart.toml",
        "--out",
        out_s,
        "--no-report",
        "--png",
    ]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("'--no-report' cannot be used with '--png'"));
}

/// A plan target must name a team the run has and a unit that suits its metric: otherwise an
/// error (exit 2) that says which, never a plan that silently cannot be met.
#[test]
fn plan_targets_are_checked_against_the_run() {
    let sc = "scenarios/catalog/quickstart.toml";
    let vary = "pool.g2-8gpu-96cpu-384gib.nodes=0..1";
    let e = fails(&["plan", sc, "--target", "team:ls:p95_wait<=1d", "--vary", vary]);
    assert!(
        e.contains("the run has no team or queue 'ls' (teams: BE, Burstable, Guaranteed, LS)"),
        "{e}"
    );
    // Under Kueue a team may be named by its ClusterQueue (`ls` holds team LS's jobs); an
    // unknown name lists the ClusterQueues too.
    let kueue = "scenarios/catalog/kueue-fair-sharing.toml";
    let e = fails(&["plan", kueue, "--target", "team:lx:p95_wait<=1d", "--vary", vary]);
    assert!(e.contains("ClusterQueues: be, burstable, guaranteed, ls)"), "{e}");
    let one_point = "pool.g2-8gpu-96cpu-384gib.nodes=2..2";
    let answer = ok(&[
        "plan",
        kueue,
        "--target",
        "team:ls:p95_wait<=1d",
        "--vary",
        one_point,
    ]);
    assert!(
        answer.contains("answer: add 2 node(s) (16 GPUs) to pool g2-8gpu-96cpu-384gib")
            && answer.contains("over 5 seed(s)"),
        "{answer}"
    );
    let e = fails(&["plan", sc, "--target", "p95_wait<=60%", "--vary", vary]);
    assert!(e.contains("unit '%' does not suit p95_wait"), "{e}");
    let e = fails(&[
        "plan",
        sc,
        "--target",
        "team:LS:gpu_allocation_rate>=50%",
        "--vary",
        vary,
    ]);
    assert!(e.contains("is a whole-run metric, not a team's"), "{e}");
}

/// With several pools `--out` writes a row per combination evaluated and target, in cost order;
/// the cheapest combination that meets the target is one of them, marked met.
#[test]
fn a_plan_over_several_pools_writes_its_combinations() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    ok(&[
        "plan",
        "scenarios/catalog/quickstart.toml",
        "--target",
        "p99_wait<=1h",
        "--vary",
        "pool.g2-8gpu-96cpu-384gib.nodes=0..2",
        "--vary",
        "pool.t4-2gpu-104cpu-512gib.nodes=0..2",
        "--cost",
        "pool.g2-8gpu-96cpu-384gib=4",
        "--seeds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let csv = read(&out.join("plan.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "nodes_added:g2-8gpu-96cpu-384gib,gpus_added:g2-8gpu-96cpu-384gib,nodes_added:t4-2gpu-104cpu-512gib,gpus_added:t4-2gpu-104cpu-512gib,cost,target,seeds,mean,lo95,hi95,standing"
    );
    // Nothing added costs 0 and misses; one T4 node (2 GPUs, cost 1) meets.
    assert!(
        lines[1].starts_with("0,0,0,0,0,p99_wait<=1h,2,") && lines[1].ends_with(",missed"),
        "{csv}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("0,0,1,2,1,p99_wait<=1h,2,") && l.ends_with(",met")),
        "{csv}"
    );
}
