//! The importers of public research traces (Helios, Philly, Acme, PAI 2020, Alibaba spot 2026,
//! Tiresias, Gavel): hand-written fixtures in each format (`tests/fixtures/import/<format>/`),
//! imported and checked against values worked out by hand from the fixture; and one broken row
//! per format, whose error names the file, the line (or object) and the column (or field).

use fairway_engine::Workload;
use fairway_traces::import::mapping::{Rule, Set};
use fairway_traces::import::{ImportFormat, Imported, Mapping, Options, Report, read};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

const LEFT: &str = "left the queue without running";
const RUNNING: &str =
    "run time: still running when the trace was taken, so open-ended (it runs to the end of a run)";
const NOT_STARTED: &str = "not started when the trace was taken (its run time is unknown)";
const NO_START: &str = "start: none recorded, so the run time is the duration given";
const DEFAULT_TEAM: &str = "team: none given (no namespace, user or mapping rule), set to 'default'";

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

fn import(format: &str, files: &[&str], opts: &Options) -> Imported {
    let paths: Vec<PathBuf> = files.iter().map(|f| fixture(f)).collect();
    let format = ImportFormat::parse(format).expect("a format name");
    read(&paths, format, opts).unwrap_or_else(|e| panic!("{e}"))
}

/// A mapping rule: jobs whose label `key` matches `pattern` get `set`.
fn rule(key: &str, pattern: &str, set: Set) -> Rule {
    Rule {
        labels: BTreeMap::from([(key.to_string(), pattern.to_string())]),
        set,
        ..Rule::default()
    }
}

fn with_rules(rules: Vec<Rule>) -> Options {
    Options {
        mapping: Mapping { rules },
        ..Options::default()
    }
}

/// One imported job, in plain values.
#[derive(Debug, PartialEq)]
struct Job {
    name: String,
    pods: u32,
    gpu_milli: u32,
    cpu_milli: u64,
    mem_mib: u64,
    team: String,
    user: Option<String>,
    queue: Option<String>,
    priority: i32,
    models: Vec<String>,
    /// Milliseconds after the first submission.
    submit: u64,
    start: Option<u64>,
    work: u64,
}

/// A job of `pods` pods of `gpu_milli` each, times in seconds; the rest unset.
fn job(name: &str, pods: u32, gpu_milli: u32, team: &str, submit: f64, start: Option<f64>, work: f64) -> Job {
    let ms = |s: f64| (s * 1000.0).round() as u64;
    Job {
        name: name.to_string(),
        pods,
        gpu_milli,
        cpu_milli: 0,
        mem_mib: 0,
        team: team.to_string(),
        user: None,
        queue: None,
        priority: 0,
        models: Vec::new(),
        submit: ms(submit),
        start: start.map(ms),
        work: ms(work),
    }
}

fn jobs(w: &Workload) -> Vec<Job> {
    w.jobs
        .iter()
        .enumerate()
        .map(|(i, j)| Job {
            name: w.names.get(i).unwrap().to_string(),
            pods: j.pods,
            gpu_milli: j.pod.gpu_milli,
            cpu_milli: j.pod.cpu_milli,
            mem_mib: j.pod.mem_mib,
            team: w.teams[j.team.index()].clone(),
            user: j.user.map(|u| w.users[u.index()].clone()),
            queue: j.queue.map(|q| w.queues[q as usize].clone()),
            priority: j.priority,
            models: j.models.iter().map(|m| w.models[m.index()].clone()).collect(),
            submit: j.submit.0,
            start: j.recorded_start.get().map(|t| t.0),
            // Open-ended (still running): no run time.
            work: if j.open_ended { u64::MAX } else { j.work.0 },
        })
        .collect()
}

/// The report's records left out: reason, count, and the examples without their folder.
fn skipped(r: &Report) -> Vec<(String, u64, Vec<String>)> {
    r.skipped
        .iter()
        .map(|(why, k)| {
            let examples = k
                .examples
                .iter()
                .map(|e| e.rsplit('/').next().unwrap().to_string())
                .collect();
            (why.clone(), k.count, examples)
        })
        .collect()
}

fn left_out(list: &[(&str, u64, &[&str])]) -> Vec<(String, u64, Vec<String>)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(why, n, ex)| (why.to_string(), *n, ex.iter().map(|e| e.to_string()).collect()))
        .collect();
    v.sort();
    v
}

fn assumed(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(w, n)| (w.to_string(), *n)).collect()
}

/// The error of importing one file of `text` named `name` as `format`, folder cut off.
fn broken(format: &str, name: &str, text: &str) -> String {
    broken_with(format, &[(name, text)])
}

fn broken_with(format: &str, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|(name, text)| {
            let path = dir.path().join(name);
            std::fs::File::create(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            path
        })
        .collect();
    let format = ImportFormat::parse(format).unwrap();
    let e = read(&paths, format, &Options::default()).unwrap_err().to_string();
    e.replace(&format!("{}/", dir.path().display()), "")
}

#[test]
fn every_research_format_has_a_name() {
    for name in [
        "helios",
        "philly",
        "acme",
        "pai",
        "alibaba-spot",
        "tiresias",
        "gavel",
    ] {
        let f = ImportFormat::parse(name).unwrap();
        assert_eq!(f.name(), name);
        assert!(ImportFormat::NAMES.contains(&name));
    }
}

#[test]
fn helios_cluster_log() {
    let got = import("helios", &["helios/cluster_log.csv"], &Options::default());
    // Time 0 is the first submission, 2020-06-09 18:41:01 (job 1425511).
    let u = |s: &str| Some(s.to_string());
    let expected = vec![
        // Started at submission; ran 18:41:01 to 04:55:09 the next day: 10 h 14 min 8 s = 36848 s.
        Job {
            cpu_milli: 1000,
            user: u("uXBbc"),
            ..job("1425511", 1, 1000, "vcJkd", 0.0, Some(0.0), 36848.0)
        },
        // 18:41:27 is 26 s after time 0; FAILED after running 18:41:27 to 18:45:36 = 249 s.
        Job {
            cpu_milli: 16000,
            user: u("uVMrF"),
            ..job("1425512", 1, 4000, "vchbv", 26.0, Some(26.0), 249.0)
        },
        // 16 GPUs on 2 nodes: 2 pods of 8 GPUs and 64 / 2 = 32 cores; submitted 18:42:00 (59 s),
        // started 18:52:00 (659 s), ran 2 h = 7200 s.
        Job {
            cpu_milli: 32000,
            user: u("uzqls"),
            ..job("1425513", 2, 8000, "vcpDC", 59.0, Some(659.0), 7200.0)
        },
        // 10 GPUs on 4 nodes: 2.5 each, rounded up to 3; 40 / 4 = 10 cores; CANCELLED after
        // running 18:43:30 to 18:53:30 = 600 s; submitted 18:43:00 = 119 s, started 149 s.
        Job {
            cpu_milli: 10000,
            user: u("uzqls"),
            ..job("1425514", 4, 3000, "vcpDC", 119.0, Some(149.0), 600.0)
        },
        // RUNNING, no end: open-ended; 18:45:00 is 239 s, started 18:46:00 (299 s); 2 GPUs and
        // 8 cores on one node.
        Job {
            cpu_milli: 8000,
            user: u("uVMrF"),
            ..job("1425516", 1, 2000, "vchbv", 239.0, Some(299.0), f64::INFINITY)
        },
        // A CPU job: 0 GPUs, 4 cores; 18:47:00 is 359 s; ran 60 s.
        Job {
            cpu_milli: 4000,
            user: u("uVMrF"),
            ..job("1425518", 1, 0, "vchbv", 359.0, Some(359.0), 60.0)
        },
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert_eq!(
        skipped(&got.report),
        left_out(&[
            (LEFT, 1, &["cluster_log.csv:6"]),
            (NOT_STARTED, 1, &["cluster_log.csv:8"]),
        ])
    );
    assert_eq!(
        got.report.defaulted,
        assumed(&[
            (
                "GPUs: gpu_num is not a multiple of node_num, so each node's pod asks for the share rounded up",
                1
            ),
            (RUNNING, 1),
        ])
    );
    assert_eq!(got.report.time_zero.as_deref(), Some("2020-06-09T18:41:01Z"));
    assert_eq!((got.report.read, got.report.imported), (8, 6));
}

#[test]
fn philly_job_log() {
    let got = import("philly", &["philly/cluster_job_log"], &Options::default());
    // Time 0 is the first submission, 2017-10-03 02:49:35 (job 10001).
    let u = |s: &str| Some(s.to_string());
    let expected = vec![
        // One GPU on m1; started 02:50:05 (30 s), ran one hour.
        Job {
            user: u("ce2f4c"),
            ..job(
                "application_1506638472019_10001",
                1,
                1000,
                "ee9e8c",
                0.0,
                Some(30.0),
                3600.0,
            )
        },
        // Two attempts of 8 GPUs each: submitted 03:00:00 (625 s), first start 03:00:30
        // (655 s), last end 2017-10-05 08:41:33: 2 days + 5 h 41 min 3 s = 172800 + 20463 s.
        Job {
            user: u("ce2f4c"),
            ..job(
                "application_1506638472019_14199",
                1,
                8000,
                "ee9e8c",
                625.0,
                Some(655.0),
                193263.0,
            )
        },
        // Killed after running on two machines of 8 GPUs: 2 pods; submitted 03:10:00 (1225 s),
        // started 03:20:00 (1825 s), ran 2 h.
        Job {
            user: u("a1b2c3"),
            ..job(
                "application_1506638472019_10003",
                2,
                8000,
                "11cb48",
                1225.0,
                Some(1825.0),
                7200.0,
            )
        },
        // Failed; 4 GPUs on m20 and 2 on m21: 2 pods asking for the most, 4; submitted 03:15:00
        // (1525 s), started 10 s later, ran 60 s.
        Job {
            user: u("a1b2c3"),
            ..job(
                "application_1506638472019_10004",
                2,
                4000,
                "11cb48",
                1525.0,
                Some(1535.0),
                60.0,
            )
        },
        // Its one attempt started 03:30:00 (a minute after submission, 2365 s) and has no end:
        // open-ended, 1 GPU on m30.
        Job {
            user: u("ce2f4c"),
            ..job(
                "application_1506638472019_10006",
                1,
                1000,
                "ee9e8c",
                2365.0,
                Some(2425.0),
                f64::INFINITY,
            )
        },
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert_eq!(
        skipped(&got.report),
        left_out(&[
            (LEFT, 1, &["cluster_job_log: application_1506638472019_10005"]),
            (
                "no attempt has a start time (a logging gap): its run cannot be placed in time",
                1,
                &["cluster_job_log: application_1506638472019_10007"]
            ),
        ])
    );
    assert_eq!(
        got.report.defaulted,
        assumed(&[
            (
                "GPUs: machines gave the job different GPU counts, so every pod asks for the most",
                1
            ),
            (RUNNING, 1),
        ])
    );
    // 6 records built, 1 left out before.
    assert_eq!(got.report.time_zero.as_deref(), Some("2017-10-03T02:49:35Z"));
    assert_eq!((got.report.read, got.report.imported), (7, 5));
}

#[test]
fn acme_seren_and_kalos() {
    let opts = with_rules(vec![rule(
        "type",
        "Pretrain",
        Set {
            queue: Some("pretrain".into()),
            ..Set::default()
        },
    )]);
    let got = import("acme", &["acme/trace_seren.csv", "acme/trace_kalos.csv"], &opts);
    // Time 0 is the first submission: 2023-03-01 00:18:22+08:00 = 2023-02-28 16:18:22 UTC.
    // 2023-03-01 08:00:00+08:00 = 00:00:00 UTC is 7 h 41 min 38 s = 27698 s after it.
    let u = |s: &str| Some(s.to_string());
    let pretrain = u("pretrain");
    let expected = vec![
        // Started 00:18:54 (32 s), ran to 00:20:51: 117 s; 8 GPUs, 128 cores on 1 node.
        Job {
            cpu_milli: 128000,
            user: u("u5907"),
            ..job("5778432", 1, 8000, "u5907", 0.0, Some(32.0), 117.0)
        },
        // 00:23:58 is 336 s, 00:24:11 is 349 s; ran to 01:09:04: 44 min 53 s = 2693 s.
        Job {
            cpu_milli: 128000,
            user: u("u5907"),
            ..job("5778469", 1, 8000, "u5907", 336.0, Some(349.0), 2693.0)
        },
        // 32 GPUs and 512 cores on 4 nodes: 4 pods of 8 GPUs, 128 cores; 08:00:00+08 is 27698 s,
        // started 10 min later (28298 s), ran 4 h; type Pretrain: the rule's queue.
        Job {
            cpu_milli: 128000,
            user: u("u1234"),
            queue: pretrain.clone(),
            ..job("5778500", 4, 8000, "u1234", 27698.0, Some(28298.0), 14400.0)
        },
        // Kalos (UTC): 00:00:58 is 27698 + 58 = 27756 s; started 00:01:08 (27766 s), failed at
        // 00:01:16: 8 s. 64 GPUs, 960 cores on 8 nodes: 8 pods of 8 GPUs, 120 cores, and
        // 1000 GB = 1024000 MiB each.
        Job {
            cpu_milli: 120000,
            mem_mib: 1_024_000,
            user: u("uf794"),
            ..job("dlctk696s0jbvitv", 8, 8000, "uf794", 27756.0, Some(27766.0), 8.0)
        },
        // 4 GPUs on 3 nodes: 1.33 rounded up to 2; 48 / 3 = 16 cores; 08:07:00+08 is
        // 27698 + 420 = 28118 s, started 10 s later, ran 10 min.
        Job {
            cpu_milli: 16000,
            user: u("u2222"),
            ..job("5778503", 3, 2000, "u2222", 28118.0, Some(28128.0), 600.0)
        },
        // Cancelled, no end_time: it stopped at stop_time 00:30:04; submitted 00:28:42 UTC
        // (27698 + 1722 = 29420 s), started 00:28:54 (29432 s): 70 s.
        Job {
            cpu_milli: 120000,
            mem_mib: 1_024_000,
            user: u("uf794"),
            queue: pretrain,
            ..job("dlc1t2ypl09b8qtp", 8, 8000, "uf794", 29420.0, Some(29432.0), 70.0)
        },
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert_eq!(
        skipped(&got.report),
        left_out(&[
            (LEFT, 1, &["trace_seren.csv:5"]),
            (NOT_STARTED, 1, &["trace_seren.csv:6"])
        ])
    );
    assert_eq!(
        got.report.defaulted,
        assumed(&[(
            "GPUs: gpu_num is not a multiple of node_num, so each node's pod asks for the share rounded up",
            1
        )])
    );
    assert_eq!(got.report.time_zero.as_deref(), Some("2023-02-28T16:18:22Z"));
    assert_eq!((got.report.read, got.report.imported), (8, 6));
}

#[test]
fn pai_job_and_task_tables_in_either_order() {
    // The task table first: the importer tells them apart by their columns.
    let got = import(
        "pai",
        &["pai/pai_task_table.csv", "pai/pai_job_table.csv"],
        &Options::default(),
    );
    // Time 0 is the first submission, 4550879 s (job 4f05...).
    let m = |s: &str| vec![s.to_string()];
    let u = |s: &str| Some(s.to_string());
    let expected = vec![
        // Half a GPU (plan_gpu 50), 600 % = 6 cores, 29.296875 GB * 1024 = 30000 MiB; task start
        // 4550881 (2 s), job end 4551416: 535 s.
        Job {
            cpu_milli: 6000,
            mem_mib: 30000,
            models: m("MISC"),
            user: u("58540f191766"),
            ..job(
                "4f057009a5d481acec67b088",
                1,
                500,
                "58540f191766",
                0.0,
                Some(2.0),
                535.0,
            )
        },
        // ps (no GPU) + 2 workers (1 GPU, 4 cores, 15000 MiB): 3 pods of the worker's shape;
        // submitted 4550900 (21 s), earliest task 4550950 (71 s), job end 4554500: 3550 s.
        Job {
            cpu_milli: 4000,
            mem_mib: 15000,
            models: m("V100"),
            user: u("d2d3b77d342e"),
            ..job(
                "a9449d475665e3bf0512520b",
                3,
                1000,
                "d2d3b77d342e",
                21.0,
                Some(71.0),
                3550.0,
            )
        },
        // Failed after running: 4 instances of 8 GPUs (plan_gpu 800), 12 cores, 60000 MiB;
        // submitted 4551000 (121 s), started 4551030 (151 s), ended 4551600: 570 s.
        Job {
            cpu_milli: 12000,
            mem_mib: 60000,
            models: m("V100M32"),
            user: u("58540f191766"),
            ..job(
                "af724763f4f5d0beef445849",
                4,
                8000,
                "58540f191766",
                121.0,
                Some(151.0),
                570.0,
            )
        },
        // Running, no end: open-ended; job start 4551200 (321 s), its task 4551210 (331 s);
        // one T4, 6 cores, 29.296875 GB = 30000 MiB.
        Job {
            cpu_milli: 6000,
            mem_mib: 30000,
            models: m("T4"),
            user: u("9f5c1b2e7a11"),
            ..job(
                "471dda9ed84965451e042145",
                1,
                1000,
                "9f5c1b2e7a11",
                321.0,
                Some(331.0),
                f64::INFINITY,
            )
        },
        // plan_gpu 150: rounded up to 2 GPUs; 4551300 is 421 s; ran 600 s.
        Job {
            cpu_milli: 8000,
            mem_mib: 30000,
            models: m("P100"),
            user: u("58540f191766"),
            ..job(
                "7399a758eb02bae1a3621236",
                1,
                2000,
                "58540f191766",
                421.0,
                Some(421.0),
                600.0,
            )
        },
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert_eq!(
        skipped(&got.report),
        left_out(&[
            (NOT_STARTED, 1, &["pai_job_table.csv:4"]),
            (
                "no rows in pai_task_table.csv: its requests are unknown",
                1,
                &["pai_job_table.csv:6"]
            ),
        ])
    );
    assert_eq!(
        got.report.defaulted,
        assumed(&[
            (
                "GPUs: plan_gpu above 100 and not a multiple of 100, rounded up to whole GPUs",
                1
            ),
            (
                "tasks of different shapes: every instance asks for the requests of the task with the most GPUs",
                1
            ),
            (RUNNING, 1),
        ])
    );
    assert_eq!(
        got.report.ignored,
        assumed(&[("task rows of jobs not in pai_job_table.csv", 1)])
    );
    // 6 records built, 1 left out before.
    assert_eq!(
        got.report.time_zero.as_deref(),
        Some("4550879 s on the trace's clock")
    );
    assert_eq!((got.report.read, got.report.imported), (7, 5));
}

#[test]
fn alibaba_spot_jobs() {
    let got = import(
        "alibaba-spot",
        &["alibaba-spot/job_info_df.csv"],
        &Options::default(),
    );
    // Times are seconds from the first submission already; no recorded starts.
    let m = |s: &str| vec![s.to_string()];
    let expected = vec![
        // HP: priority 1; 1 instance of 1 A10, 20 vCPUs; ran 2764799 s.
        Job {
            cpu_milli: 20000,
            priority: 1,
            models: m("A10"),
            ..job("239255", 1, 1000, "13", 0.0, None, 2764799.0)
        },
        // Spot: priority 0; 16 instances of 1 GPU and 15 vCPUs each.
        Job {
            cpu_milli: 15000,
            models: m("A100-SXM4-80GB"),
            ..job("437260", 16, 1000, "57", 9589663.0, None, 41060.0)
        },
        // Half an A10: 500 thousandths.
        Job {
            cpu_milli: 4000,
            models: m("A10"),
            ..job("500001", 1, 500, "57", 9589700.0, None, 3600.0)
        },
        // 4 instances of 8 H800 and 96 vCPUs.
        Job {
            cpu_milli: 96000,
            priority: 1,
            models: m("H800"),
            ..job("500002", 4, 8000, "21", 9589800.0, None, 7200.0)
        },
        // 1.5 GPUs an instance: rounded up to 2.
        Job {
            cpu_milli: 8000,
            models: m("A10"),
            ..job("500003", 2, 2000, "21", 9589900.0, None, 100.0)
        },
        // No GPU, no model; a duration of 0.
        Job {
            cpu_milli: 8000,
            priority: 1,
            ..job("500004", 1, 0, "13", 9590000.0, None, 0.0)
        },
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert!(got.report.skipped.is_empty());
    assert_eq!(
        got.report.defaulted,
        assumed(&[
            (
                "GPUs: gpu_request above one GPU and not whole, rounded up to whole GPUs",
                1
            ),
            (NO_START, 6),
        ])
    );
    assert_eq!(got.report.time_zero.as_deref(), Some("0 s on the trace's clock"));
    assert_eq!((got.report.read, got.report.imported), (6, 6));
}

#[test]
fn tiresias_job_csv() {
    let opts = with_rules(vec![rule(
        "model_name",
        "vgg*",
        Set {
            team: Some("vgg".into()),
            ..Set::default()
        },
    )]);
    let got = import("tiresias", &["tiresias/60_job.csv"], &opts);
    let expected = vec![
        // vgg models: the rule's team; the others none: 'default'.
        job("0", 1, 1000, "vgg", 0.0, None, 164.0),
        job("1", 1, 8000, "vgg", 30.0, None, 147.0),
        job("2", 1, 2000, "default", 53.0, None, 127.0),
        // 16 GPUs: 2 pods of 8.
        job("3", 2, 8000, "default", 79.0, None, 121.0),
        // 12 GPUs: 2 pods (12 / 8 rounded up), 6 GPUs each.
        job("4", 2, 6000, "default", 99.0, None, 121.0),
        // 9 GPUs: 2 pods of 4.5, rounded up to 5.
        job("5", 2, 5000, "default", 132.0, None, 138.0),
        // A duration of 0.
        job("6", 1, 4000, "default", 176.0, None, 0.0),
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert!(got.report.skipped.is_empty());
    assert_eq!(
        got.report.defaulted,
        assumed(&[
            (
                "GPUs: num_gpu spread over 8-GPU nodes does not divide evenly, so each pod asks for the share rounded up",
                1
            ),
            (NO_START, 7),
            (DEFAULT_TEAM, 5),
        ])
    );
    assert_eq!((got.report.read, got.report.imported), (7, 7));
}

#[test]
fn gavel_trace_with_run_times() {
    let opts = with_rules(vec![
        rule(
            "job_type",
            "LM *",
            Set {
                queue: Some("lm".into()),
                ..Set::default()
            },
        ),
        rule(
            "priority_weight",
            "2",
            Set {
                priority: Some("5".into()),
                ..Set::default()
            },
        ),
    ]);
    let got = import("gavel", &["gavel/shockwave.trace"], &opts);
    let lm = Some("lm".to_string());
    let expected = vec![
        // Named by their place in the trace; scale_factor GPUs; arrival_time and duration in s.
        Job {
            queue: lm.clone(),
            ..job("0", 1, 1000, "default", 0.0, None, 1418.0)
        },
        job("1", 1, 1000, "default", 55.0, None, 3338.0),
        job("2", 1, 1000, "default", 64.0, None, 13462.0),
        Job {
            queue: lm.clone(),
            ..job("3", 1, 2000, "default", 346.0, None, 1942.0)
        },
        Job {
            queue: lm,
            ..job("4", 1, 4000, "default", 1106.0, None, 16778.0)
        },
        // scale_factor 16: 2 pods of 8; priority_weight 2: the rule's priority.
        Job {
            priority: 5,
            ..job("5", 2, 8000, "default", 1200.5, None, 9000.0)
        },
        // scale_factor 12: 2 pods of 6.
        job("6", 2, 6000, "default", 1300.0, None, 2815.0),
    ];
    assert_eq!(jobs(&got.loaded.workload), expected);
    assert!(got.report.skipped.is_empty());
    assert_eq!(got.report.defaulted, assumed(&[(NO_START, 7), (DEFAULT_TEAM, 7)]));
    assert_eq!((got.report.read, got.report.imported), (7, 7));
}

#[test]
fn broken_helios_rows_name_file_line_and_column() {
    let head =
        "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue\n";
    let ok = "1,u1,vc1,1,1,1,COMPLETED,2020-06-09 18:41:01,2020-06-09 18:41:01,2020-06-09 18:42:01,60,0\n";
    let cases = [
        (
            "2,u1,vc1,1,1,1,COMPLETED,2020-13-45 18:41:01,2020-06-09 18:41:01,2020-06-09 18:42:01,60,0\n",
            "cluster_log.csv:3: column 'submit_time': expected a date and time like 2020-06-09 18:41:01 (with or without a UTC offset), found '2020-13-45 18:41:01'",
        ),
        (
            "2,u1,vc1,99999999999999999999,1,1,COMPLETED,2020-06-09 18:41:01,,,,\n",
            "cluster_log.csv:3: column 'gpu_num': expected a whole number, found '99999999999999999999'",
        ),
        (
            "2,u1,vc1,9999999,1,1,COMPLETED,2020-06-09 18:41:01,,,,\n",
            "cluster_log.csv:3: column 'gpu_num': 9999999 GPUs in one pod is more than fairway holds (at most 4294967)",
        ),
    ];
    for (row, want) in cases {
        assert_eq!(
            broken("helios", "cluster_log.csv", &format!("{head}{ok}{row}")),
            want
        );
    }
}

#[test]
fn broken_philly_jobs_name_file_object_and_field() {
    let job = |submitted: &str, attempts: &str| {
        format!(
            "[\n  {{\"status\": \"Pass\", \"vc\": \"ee9e8c\", \"jobid\": \"application_1\",\n   \"attempts\": {attempts},\n   \"submitted_time\": {submitted}, \"user\": \"ce2f4c\"}}\n]\n"
        )
    };
    assert_eq!(
        broken("philly", "cluster_job_log", &job("\"yesterday\"", "[]")),
        "cluster_job_log: application_1: field 'submitted_time': expected a time like 2017-10-03 02:49:35 or None, found 'yesterday'"
    );
    assert_eq!(
        broken(
            "philly",
            "cluster_job_log",
            &job(
                "\"2017-10-03 02:49:35\"",
                "[{\"start_time\": 5, \"end_time\": \"None\", \"detail\": []}]"
            )
        ),
        "cluster_job_log: application_1: field 'attempts[0].start_time': expected a time like 2017-10-03 02:49:35 or None, found 5"
    );
    // The structure itself wrong: the line and the column within it.
    assert_eq!(
        broken(
            "philly",
            "cluster_job_log",
            &job("\"2017-10-03 02:49:35\"", "\"none\"")
        ),
        "cluster_job_log:3: column 21: not a Philly job log (a JSON list of jobs): invalid type: string \"none\", expected a sequence"
    );
}

#[test]
fn broken_acme_rows_name_file_line_and_column() {
    let head = "job_id,user,node_num,gpu_num,cpu_num,type,state,submit_time,start_time,end_time,duration,queue,gpu_time\n";
    let text = format!(
        "{head}1,u1,1,8,128,Other,COMPLETED,2023-03-01 00:18:22+08:00,2023-03-01 00:18:54+08:00,2023-03-01 00:20:51+08:00,117,32,936.0\n\
         2,u1,1,-8,128,Other,COMPLETED,2023-03-01 00:18:22+08:00,2023-03-01 00:18:54+08:00,2023-03-01 00:20:51+08:00,117,32,936.0\n"
    );
    assert_eq!(
        broken("acme", "trace_seren.csv", &text),
        "trace_seren.csv:3: column 'gpu_num': expected a whole number >= 0, found '-8'"
    );
    let text = format!(
        "{head}1,u1,1,8,128,Other,COMPLETED,2023-03-01 00:18:22+08:00,2023-03-01 25:18:54+08:00,,117,32,936.0\n"
    );
    assert_eq!(
        broken("acme", "trace_seren.csv", &text),
        "trace_seren.csv:2: column 'start_time': expected a date and time like 2020-06-09 18:41:01 (with or without a UTC offset), found '2023-03-01 25:18:54+08:00'"
    );
}

#[test]
fn broken_pai_rows_name_file_line_and_column() {
    let jobs = "j1,i1,u1,Terminated,100.0,200.0\n";
    let tasks = "j1,worker,1.0,Terminated,110.0,200.0,600.0,29.296875,100.0,T4\nj1,ps,1.0,Terminated,110.0,200.0,600.0,29.296875,lots,\n";
    assert_eq!(
        broken_with(
            "pai",
            &[("pai_job_table.csv", jobs), ("pai_task_table.csv", tasks)]
        ),
        "pai_task_table.csv:2: column 'plan_gpu': expected a number, found 'lots'"
    );
    let tasks = "j1,worker,1.5,Terminated,110.0,200.0,600.0,29.296875,100.0,T4\n";
    assert_eq!(
        broken_with(
            "pai",
            &[("pai_job_table.csv", jobs), ("pai_task_table.csv", tasks)]
        ),
        "pai_task_table.csv:1: column 'inst_num': expected a whole number of instances, found '1.5'"
    );
    assert_eq!(
        broken_with(
            "pai",
            &[
                ("pai_job_table.csv", jobs),
                ("pai_instance_table.csv", "a,b,c,d,e,f,g,h,i\n")
            ]
        ),
        "pai_instance_table.csv:1: 9 fields: expected pai_job_table's 6 (job_name,inst_id,user,status,start_time,end_time) or pai_task_table's 10 (job_name,task_name,inst_num,status,start_time,end_time,plan_cpu,plan_mem,plan_gpu,gpu_type)"
    );
    assert_eq!(
        broken_with("pai", &[("pai_job_table.csv", jobs)]),
        "pai_job_table.csv: the pai format reads pai_job_table.csv and pai_task_table.csv together: no rows of pai_task_table.csv (10 columns) given"
    );
}

#[test]
fn broken_spot_rows_name_file_line_and_column() {
    let head =
        "job_name,organization,gpu_model,cpu_request,gpu_request,worker_num,submit_time,duration,job_type\n";
    assert_eq!(
        broken(
            "alibaba-spot",
            "job_info_df.csv",
            &format!("{head}1,13,A10,20,1,1,0,100,HP\n2,13,A10,20,1,1,5,100,Urgent\n")
        ),
        "job_info_df.csv:3: column 'job_type': expected HP or Spot, found 'Urgent'"
    );
    assert_eq!(
        broken(
            "alibaba-spot",
            "job_info_df.csv",
            &format!("{head}1,13,A10,20,1e300,1,0,100,HP\n")
        ),
        "job_info_df.csv:2: column 'gpu_request': more GPUs in one pod than fairway holds (at most 4294967), found '1e300'"
    );
}

#[test]
fn broken_tiresias_rows_name_file_line_and_column() {
    let head = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n";
    assert_eq!(
        broken(
            "tiresias",
            "60_job.csv",
            &format!("{head}0,1,0,606,vgg19,164,30\n1,8,soon,133,vgg11,147,23\n")
        ),
        "60_job.csv:3: column 'submit_time': expected a number, found 'soon'"
    );
    assert_eq!(
        broken(
            "tiresias",
            "60_job.csv",
            &format!("{head}0,1,0,606,vgg19,1e30,30\n")
        ),
        "60_job.csv:2: column 'duration': expected a number of seconds up to 9007199254740.992 (about 285,000 years), found '1e30'"
    );
}

#[test]
fn broken_gavel_lines_name_file_line_and_column() {
    let line = |scale: &str, duration: &str| {
        format!(
            "LM (batch size 10)\tpython3 main.py\tlanguage_modeling\t--steps\t1\t134583\t{scale}\tgns\t1\t-1.000000\t{duration}\t0\n"
        )
    };
    assert_eq!(
        broken(
            "gavel",
            "t.trace",
            &format!("{}{}", line("1", "1418"), line("1", "-5"))
        ),
        "t.trace:2: column 'duration': expected a number of seconds >= 0 (up to about 285,000 years), found '-5'"
    );
    assert_eq!(
        broken("gavel", "t.trace", &line("0", "1418")),
        "t.trace:1: column 'scale_factor': expected a whole number of GPUs >= 1, found '0'"
    );
    // Gavel's own 10-field line: no run time.
    let own =
        "LM (batch size 10)\tpython3 main.py\tlanguage_modeling\t--steps\t1\t134583\t1\t1\t-1.000000\t0\n";
    let e = broken("gavel", "t.trace", own);
    assert!(
        e.starts_with("t.trace:1: 10 tab-separated fields: Gavel's own trace line, which has no run time"),
        "{e}"
    );
}
