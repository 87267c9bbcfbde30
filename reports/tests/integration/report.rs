//! The report on a run small enough to work out by hand, and the files it writes.

use fairway_reports::frame::{JOB_COLUMNS, JobsTable, SERIES_COLUMNS, SeriesTable, read_parquet};
use fairway_reports::render::{RenderOptions, render_dir};
use fairway_reports::{RunInfo, RunSummary, summarize, write_run};
use std::path::{Path, PathBuf};

/// A team name that is markup, a NUL, an ANSI escape sequence, a line break and a forged
/// Markdown cell at once.
const EVIL: &str = "<script>alert(1)</script>\0\x1b[31m\n| ok |";
/// How the summary table, chart labels and page text show it.
const EVIL_SHOWN: &str = "<script>alert(1)</script>\\u{0}\\u{1b}[31m\\u{a}| ok |";
/// As a metrics.prom label value.
const EVIL_LABEL: &str = "<script>alert(1)</script>\0\x1b[31m\\n| ok |";

/// One node of 4 GPUs. j1 (team a, 4 GPUs at 25 % use) runs 0-100 s; j2 (2 GPUs, 50 %) and j3
/// (2 GPUs, 100 %) of the team named like a script wait for it and run 100-200 s and 100-150 s.
/// Fair-share weights a:3, other:1 make the entitlements 3/4 and 1/4.
fn hand_run(dir: &Path) -> RunSummary {
    let resolved = hand_scenario(dir);
    let o = resolved.run();
    let info = RunInfo {
        scenario: "hand".into(),
        seed: 1,
        trace: "trace.csv".into(),
        interactive_target_s: None,
    };
    let s = summarize(&resolved.workload, &o, &info);
    let out = dir.join("out");
    let claim = fairway_reports::output::claim(&out, false, "hand").unwrap();
    write_run(&out, &resolved.workload, &o, &s).unwrap();
    claim.complete().unwrap();
    drop(claim);
    render_dir(
        &out,
        RenderOptions {
            png: true,
            ..Default::default()
        },
    )
    .unwrap();
    // The tables the run wrote equal the ones built from its outcome.
    let (jobs, series) = fairway_reports::frame::read_tables(&out).unwrap();
    assert_eq!(jobs, JobsTable::build(&resolved.workload, &o));
    assert_eq!(series, SeriesTable::build(&resolved.workload, &o));
    s
}

/// The hand run's inputs: the trace (read as a scenario would) on one 4-GPU node, under
/// fair-share with weights a:3 and first-fit.
struct Hand {
    workload: fairway_engine::Workload,
    cluster: fairway_engine::Cluster,
}

impl Hand {
    fn run(&self) -> fairway_engine::Outcome {
        let policy = fairway_policies::policy(&"fair-share[weights=a:3]".parse().unwrap(), 1).unwrap();
        let placement = fairway_policies::placement(&"first-fit".parse().unwrap(), 1).unwrap();
        let opts = fairway_engine::EngineOptions {
            audit: true,
            ..Default::default()
        };
        fairway_engine::Simulation::new(&self.workload, self.cluster.clone(), policy, placement, opts)
            .unwrap()
            .run()
            .unwrap()
    }
}

fn hand_scenario(dir: &Path) -> Hand {
    std::fs::create_dir_all(dir).unwrap();
    let trace = dir.join("trace.csv");
    std::fs::write(
        &trace,
        format!(
            "job_id,submit_time,duration,gpus,team,pods,user,gpu_util\n\
             j1,0,100,4,a,1,alice,0.25\n\
             j2,0,100,2,\"{EVIL}\",1,bob,0.5\n\
             j3,50,50,2,\"{EVIL}\",1,bob,1.0\n"
        ),
    )
    .unwrap();
    let mut workload = fairway_traces::read(&trace, fairway_traces::TraceFormat::Canonical)
        .unwrap()
        .workload;
    let cluster = fairway_engine::Cluster::new(&fairway_engine::ClusterSpec {
        pools: vec![fairway_engine::PoolSpec::new("p", Some("A100"), 1, 4, 64, 512)],
    })
    .unwrap();
    workload.bind_models(&cluster).unwrap();
    Hand { workload, cluster }
}

#[test]
fn tables_written_a_batch_at_a_time_equal_the_whole_tables() {
    use fairway_engine::SeriesSink;
    let tmp = tempfile::tempdir().unwrap();
    let resolved = hand_scenario(tmp.path());
    let (w, o) = (&resolved.workload, resolved.run());
    let whole = tmp.path().join("whole");
    let batched = tmp.path().join("batched");
    for d in [&whole, &batched] {
        std::fs::create_dir_all(d).unwrap();
    }
    fairway_reports::write_jobs(&whole, w, &o, 1000).unwrap();
    fairway_reports::write_jobs(&batched, w, &o, 1).unwrap();
    let shape = || fairway_reports::frame::SeriesShape::of(w, o.fragmentation_tracked);
    let mut s = fairway_reports::SeriesFiles::create(&whole, shape()).unwrap();
    s.write(&o.series);
    s.finish().unwrap();
    // Batches of 2 rows, fed 1 then 3 points at a time, cut the series at other places.
    assert!(o.series.len() >= 5, "{}", o.series.len());
    let mut s = fairway_reports::SeriesFiles::create(&batched, shape())
        .unwrap()
        .with_batch(2);
    s.write(&o.series[..1]);
    for c in o.series[1..].chunks(3) {
        s.write(c);
    }
    s.finish().unwrap();
    for f in ["jobs.csv", "timeseries.csv"] {
        assert_eq!(
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(batched.join(f)).unwrap(),
            "{f}"
        );
    }
    for f in ["jobs.parquet", "timeseries.parquet"] {
        let (a, b) = (
            read_parquet(&whole.join(f)).unwrap(),
            read_parquet(&batched.join(f)).unwrap(),
        );
        assert_eq!(a.height(), b.height());
        assert!(a.equals_missing(&b), "{f}");
    }
    let (jobs, series) = fairway_reports::frame::read_tables(&batched).unwrap();
    assert_eq!(jobs, JobsTable::build(w, &o));
    assert_eq!(series, SeriesTable::build(w, &o));
    // No temporary file is left behind.
    let mut names: Vec<_> = std::fs::read_dir(&batched)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["jobs.csv", "jobs.parquet", "timeseries.csv", "timeseries.parquet"]
    );
}

#[test]
fn an_unfinished_table_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut t = fairway_reports::TableFiles::create(tmp.path(), "jobs").unwrap();
    t.append(&JobsTable::default()).unwrap();
    drop(t);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    // Finished with no rows at all, it is an empty table: the header, and the schema.
    let t: fairway_reports::TableFiles<JobsTable> =
        fairway_reports::TableFiles::create(tmp.path(), "jobs").unwrap();
    t.finish().unwrap();
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("jobs.csv")).unwrap(),
        format!("{}\n", JOB_COLUMNS.join(","))
    );
    let df = read_parquet(&tmp.path().join("jobs.parquet")).unwrap();
    assert_eq!((df.height(), df.width()), (0, JOB_COLUMNS.len()));
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn metrics_of_a_hand_computed_run() {
    let tmp = tempfile::tempdir().unwrap();
    let s = hand_run(tmp.path());
    // 400 + 200 + 100 GPU-seconds allocated of 4 GPUs x 200 s.
    assert!(close(s.gpu_allocation_rate, 700.0 / 800.0));
    // Used: 400 x 0.25 + 200 x 0.5 + 100 x 1.0 = 300 GPU-seconds.
    assert_eq!(s.gpu_utilisation_rate, Some(0.375));
    assert_eq!(s.gpu_util_coverage, Some(1.0));
    assert_eq!(s.per_pool["p"].gpu_allocation_rate, 0.875);
    // Waits 0, 100, 50: type-7 p95 is at rank 0.95 x 2 = 1.9, 50 + 0.9 x 50 = 95.
    assert_eq!(s.wait_s.mean, Some(50.0));
    assert_eq!(s.wait_s.p50, Some(50.0));
    assert_eq!(s.wait_s.p95, Some(95.0));
    // Slowdowns 100/100, 200/100, 100/50.
    // (1 + 2 + 2) / 3, rounded to three decimals as every distribution in the summary.
    assert_eq!(s.slowdown.mean, Some(1.667));
    assert_eq!(s.bounded_slowdown.max, Some(2.0));
    // Shares 4/7 and 3/7 against entitlements 3/4 and 1/4: ratios 16/21 and 12/7;
    // Jain = (52/21)^2 / (2 (16^2 + 36^2) / 21^2) = 2704 / 3104.
    let (a, x) = (&s.per_team["a"], &s.per_team[EVIL]);
    assert_eq!((a.entitlement, x.entitlement), (0.75, 0.25));
    assert!(close(a.share_ratio.unwrap(), 16.0 / 21.0));
    assert!(close(x.share_ratio.unwrap(), 12.0 / 7.0));
    assert_eq!(s.fairness.basis, "weights");
    assert!(close(s.fairness.jain_index.unwrap(), 2704.0 / 3104.0));
    // Demand: a asked for 4 GPUs x 100 s = 400 GPU-seconds, the other team 200 + 100: shares 4/7
    // and 3/7. Team a got its 4/7, below its entitlement of 3/4 only because it asked for no
    // more, and the other team got more than its 1/4: nobody was held below its share.
    assert!(close(a.demand_share, 4.0 / 7.0) && close(x.demand_share, 3.0 / 7.0));
    assert_eq!(s.fairness.worst_served_team, None);
    // Team p95 waits 0 and 50 + 0.95 x 50 = 97.5.
    assert_eq!(s.fairness.wait_p95_spread_s, Some(97.5));
    assert_eq!(a.gpu_utilisation, Some(0.25));
    // Right-sizing: team a asked 4 and used 1, so 1 is enough and 3 GPUs x 100 s are freed.
    let rs = s.right_sizing.as_ref().unwrap();
    assert_eq!(rs.percentile, 90.0);
    let ra = &rs.per_team["a"];
    assert_eq!(
        (ra.requested_gpus_p50, ra.used_gpus_p90, ra.recommended_gpus),
        (4.0, 1.0, 1.0)
    );
    assert_eq!(ra.freed_gpu_hours, 0.083);
    // The other team used 1 and 2 of 2: p90 1.9 rounds up to 2, nothing to free.
    let rx = &rs.per_team[EVIL];
    assert_eq!(
        (rx.used_gpus_p50, rx.used_gpus_p90, rx.recommended_gpus),
        (1.5, 1.9, 2.0)
    );
    assert_eq!(rx.freed_gpu_hours, 0.0);
    let csv = std::fs::read_to_string(tmp.path().join("out/rightsizing.csv")).unwrap();
    assert!(
        csv.contains("\nuser,alice,a,1,4,1,1,1,0.111,0.028,0.083\n"),
        "{csv}"
    );
}

#[test]
fn parquet_tables_have_the_documented_schema() {
    use polars::prelude::DataType;
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let jobs = read_parquet(&tmp.path().join("out/jobs.parquet")).unwrap();
    let names: Vec<String> = jobs.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names, JOB_COLUMNS);
    let dtype = |df: &polars::prelude::DataFrame, c: &str| df.column(c).unwrap().dtype().clone();
    assert_eq!(dtype(&jobs, "job_id"), DataType::String);
    assert_eq!(dtype(&jobs, "submit_time"), DataType::Float64);
    assert_eq!(dtype(&jobs, "wait_s"), DataType::Float64);
    assert_eq!(dtype(&jobs, "pods"), DataType::UInt32);
    assert_eq!(dtype(&jobs, "gpu_util"), DataType::Float32);
    assert_eq!(jobs.height(), 3);
    let waits: Vec<Option<f64>> = jobs.column("wait_s").unwrap().f64().unwrap().iter().collect();
    assert_eq!(waits, vec![Some(0.0), Some(100.0), Some(50.0)]);
    let series = read_parquet(&tmp.path().join("out/timeseries.parquet")).unwrap();
    let names: Vec<String> = series.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names, SERIES_COLUMNS);
    // At 0 s the cluster runs j1: 4 GPUs allocated, 1 used, j2 pending with 2.
    let scope: Vec<Option<&str>> = series.column("scope").unwrap().str().unwrap().iter().collect();
    let row = scope.iter().position(|s| *s == Some("cluster")).unwrap();
    let first: Vec<Option<f64>> = ["gpus_allocated", "gpus_used", "gpus_pending"]
        .iter()
        .map(|c| series.column(c).unwrap().f64().unwrap().get(row))
        .collect();
    assert_eq!(first, vec![Some(4.0), Some(1.0), Some(2.0)]);
}

/// Every file under `dir`, recursively, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn re_rendering_from_parquet_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let out = tmp.path().join("out");
    let before = files(&out);
    // Keep only what the run itself wrote, then render again.
    for f in ["report.html", "metrics.prom", "teams.csv", "rightsizing.csv"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    std::fs::remove_dir_all(out.join("charts")).unwrap();
    std::fs::remove_file(out.join("jobs.csv")).unwrap();
    render_dir(
        &out,
        RenderOptions {
            png: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut after = files(&out);
    // jobs.csv is the run's, not the report's: put it back for the comparison.
    let jobs_csv = before
        .iter()
        .find(|f| f.0 == Path::new("jobs.csv"))
        .unwrap()
        .clone();
    after.push(jobs_csv);
    after.sort();
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert!(b.1 == a.1, "{} differs after re-rendering", b.0.display());
    }
}

#[test]
fn the_html_report_is_well_formed_self_contained_and_escapes_names() {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    // The page is well-formed XML as well as HTML, so a strict parser reads all of it.
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("report.html is not well-formed: {e}"));
    let tags: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_element())
        .map(|n| n.tag_name().name())
        .collect();
    for t in ["script", "link", "img", "iframe", "object", "embed"] {
        assert!(!tags.contains(&t), "report.html has a <{t}> element");
    }
    for n in doc.descendants().filter(|n| n.is_element()) {
        for a in n.attributes() {
            let v = a.value().to_ascii_lowercase();
            assert!(
                !(v.contains("http:") || v.contains("https:") || v.starts_with("//")),
                "external reference in <{} {}=\"{}\">",
                n.tag_name().name(),
                a.name(),
                a.value()
            );
        }
    }
    assert!(!html.contains("url("), "CSS must not fetch anything");
    // The team name is shown as text, escaped, in the tables and the charts.
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let text: String = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(
        text.contains("<script>alert(1)</script>\\u{0}\\u{1b}[31m\n| ok |"),
        "the name is in the page as text, its controls shown"
    );
    assert!(tags.iter().filter(|t| **t == "svg").count() >= 5);
    assert!(tags.contains(&"table"));
}

/// The cells of a Markdown table row: split at each `|` not right after a backslash (GFM
/// tables read `\\|` as a pipe within a cell, even in a code span).
fn cells(row: &str) -> usize {
    let mut prev = ' ';
    let mut n = 0usize;
    for c in row.chars() {
        if c == '|' && prev != '\\' {
            n += 1;
        }
        prev = c;
    }
    n.saturating_sub(1)
}

/// Every table of `md` (runs of lines starting with `|`): each row has its header's cells.
fn tables_are_intact(md: &str) {
    let mut width = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            width = None;
            continue;
        }
        assert!(line.ends_with('|'), "a row ends within a cell: {line:?}\n{md}");
        let w = *width.get_or_insert(cells(line));
        assert_eq!(cells(line), w, "{line:?}\n{md}");
    }
}

/// The hostile team name reaches every output: the tables keep it exactly, and every medium
/// people read shows it inert.
#[test]
fn a_hostile_team_name_stays_inert_in_every_output() {
    let tmp = tempfile::tempdir().unwrap();
    let s = hand_run(tmp.path());
    let out = tmp.path().join("out");
    // Data keeps the name exactly: jobs.csv (a quoted field over two lines) and teams.csv.
    for (file, column) in [("jobs.csv", "team"), ("teams.csv", "team")] {
        let mut rdr = csv::Reader::from_path(out.join(file)).unwrap();
        let k = rdr.headers().unwrap().iter().position(|h| h == column).unwrap();
        let names: Vec<String> = rdr.records().map(|r| r.unwrap()[k].to_string()).collect();
        assert!(names.iter().any(|n| n == EVIL), "{file}: {names:?}");
    }
    // Every chart is well-formed XML and shows the name with its controls visible.
    let mut labelled = 0;
    for e in std::fs::read_dir(out.join("charts")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "svg") {
            let svg = std::fs::read_to_string(&p).unwrap();
            let doc = roxmltree::Document::parse(&svg)
                .unwrap_or_else(|e| panic!("{} is not XML: {e}", p.display()));
            let text: String = doc.descendants().filter_map(|n| n.text()).collect();
            assert!(!text.contains(['\0', '\x1b']), "{}", p.display());
            labelled += usize::from(text.contains(&EVIL_SHOWN[..30]));
        }
    }
    assert!(labelled >= 3, "the name labels {labelled} charts");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains(['\0', '\x1b']));
    // The terminal table: no escape sequence, one line per team.
    let table = fairway_reports::render(&s);
    assert!(!table.contains(['\0', '\x1b']), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.starts_with(EVIL_SHOWN)).count(),
        1,
        "{table}"
    );
    assert!(!table.lines().any(|l| l.starts_with("| ok")), "{table}");
    // The CI gate's Markdown: one row per check, none forged; its JUnit is XML.
    use fairway_reports::compare::{Check, evaluate, junit, markdown};
    let checks: Vec<Check> = ["p95_wait:+5%", "gpu_share:-1pp"]
        .iter()
        .map(|c| c.parse().unwrap())
        .collect();
    let outcomes = evaluate(&checks, std::slice::from_ref(&s), std::slice::from_ref(&s), true).unwrap();
    assert_eq!(
        outcomes.len(),
        5,
        "p95_wait of the run and of 2 teams, gpu_share of 2 teams"
    );
    let md = markdown(&outcomes, "main", "pr`|", 1);
    tables_are_intact(&md);
    let rows = md.lines().filter(|l| l.starts_with("| `")).count();
    assert_eq!(rows, outcomes.len(), "{md}");
    assert!(!md.contains(['\0', '\x1b', '\r']), "{md}");
    roxmltree::Document::parse(&junit(&outcomes)).unwrap();
    // The comparison view's Markdown: as many cells in every row as in its header.
    let cmp = tmp.path().join("cmp");
    let md = fairway_reports::compare_view::write(&[out.clone(), out.clone()], &cmp).unwrap();
    tables_are_intact(&md);
    assert!(!md.contains(['\0', '\x1b']), "{md}");
    assert!(md.lines().any(|l| l.starts_with("| \\<script\\>")), "{md}");
    let html = std::fs::read_to_string(cmp.join("compare.html")).unwrap();
    roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
}

#[test]
fn metrics_prom_carries_kueues_names_and_labels() {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let prom = std::fs::read_to_string(tmp.path().join("out/metrics.prom")).unwrap();
    assert!(prom.ends_with("# EOF\n"));
    for family in [
        "# TYPE kueue_pending_workloads gauge",
        "# TYPE kueue_admitted_active_workloads gauge",
        "# TYPE kueue_cluster_queue_resource_usage gauge",
        "# TYPE kueue_admitted_workloads counter",
        "# TYPE kueue_evicted_workloads counter",
        "# TYPE kueue_admission_wait_time_seconds histogram",
        "# TYPE kueue_cluster_queue_resource_reservation gauge",
        "# TYPE kueue_cluster_queue_status gauge",
        "# TYPE kueue_quota_reserved_workloads counter",
        "# TYPE kueue_quota_reserved_wait_time_seconds histogram",
    ] {
        assert!(prom.contains(family), "{family}");
    }
    // At 60 s (the second sample) team a's queue runs j1 and the other queue has j2 and j3
    // pending; by 180 s both of its jobs were admitted after waits of 100 s and 50 s.
    let t = |s: u64| fairway_reports::prom::EPOCH_S + s;
    let q = EVIL_LABEL;
    for line in [
        format!(
            "kueue_admitted_active_workloads{{cluster_queue=\"a\",replica_role=\"standalone\"}} 1 {}",
            t(60)
        ),
        format!(
            "kueue_pending_workloads{{cluster_queue=\"{q}\",status=\"active\",replica_role=\"standalone\"}} 2 {}",
            t(60)
        ),
        format!(
            "kueue_cluster_queue_resource_usage{{cluster_queue=\"a\",flavor=\"all\",resource=\"nvidia.com/gpu\",replica_role=\"standalone\"}} 4 {}",
            t(60)
        ),
        format!(
            "kueue_admitted_workloads_total{{cluster_queue=\"{q}\",replica_role=\"standalone\"}} 2 {}",
            t(180)
        ),
        format!(
            "kueue_quota_reserved_workloads_total{{cluster_queue=\"{q}\",replica_role=\"standalone\"}} 2 {}",
            t(180)
        ),
        format!(
            "kueue_quota_reserved_wait_time_seconds_sum{{cluster_queue=\"{q}\",replica_role=\"standalone\"}} 150 {}",
            t(180)
        ),
        format!(
            "kueue_cluster_queue_resource_reservation{{cluster_queue=\"a\",flavor=\"all\",resource=\"nvidia.com/gpu\",replica_role=\"standalone\"}} 4 {}",
            t(60)
        ),
        format!(
            "kueue_cluster_queue_status{{cluster_queue=\"a\",status=\"active\",replica_role=\"standalone\"}} 1 {}",
            t(60)
        ),
        format!(
            "kueue_cluster_queue_status{{cluster_queue=\"a\",status=\"pending\",replica_role=\"standalone\"}} 0 {}",
            t(60)
        ),
        format!(
            "kueue_admission_wait_time_seconds_bucket{{cluster_queue=\"{q}\",replica_role=\"standalone\",le=\"80\"}} 1 {}",
            t(180)
        ),
        format!(
            "kueue_admission_wait_time_seconds_bucket{{cluster_queue=\"{q}\",replica_role=\"standalone\",le=\"160\"}} 2 {}",
            t(180)
        ),
        format!(
            "kueue_admission_wait_time_seconds_sum{{cluster_queue=\"{q}\",replica_role=\"standalone\"}} 150 {}",
            t(180)
        ),
    ] {
        assert!(prom.lines().any(|l| l == line), "missing: {line}");
    }
}

/// Records `file` of the run folder `out` at its present size in the folder's manifest, as if
/// the run had written it so: a folder consistent by its manifest but holding a file no fairway
/// writes, to show that the readers check content too.
fn adopt(out: &Path, file: &str) {
    let path = out.join(fairway_reports::output::MANIFEST);
    let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bytes = std::fs::metadata(out.join(file)).unwrap().len();
    m["files"][file]["bytes"] = bytes.into();
    std::fs::write(&path, m.to_string()).unwrap();
}

/// The error of rendering the hand run after `rewrite` replaced its `jobs.parquet` (given the
/// path and the table as written).
fn render_error_after(rewrite: impl FnOnce(&Path, polars::prelude::DataFrame)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let out = tmp.path().join("out");
    let path = out.join("jobs.parquet");
    rewrite(&path, read_parquet(&path).unwrap());
    // Changed behind the run's back: the manifest says so first.
    let quiet = || RenderOptions {
        png: false,
        ..Default::default()
    };
    let e = render_dir(&out, quiet()).unwrap_err().to_string();
    assert!(e.contains("jobs.parquet") && e.contains("changed since"), "{e}");
    adopt(&out, "jobs.parquet");
    render_dir(&out, quiet()).unwrap_err().to_string()
}

#[test]
fn a_job_table_with_a_start_before_its_submission_is_refused_by_name() {
    use polars::prelude::{Column, ParquetWriter};
    let e = render_error_after(|path, mut df| {
        // j3 was submitted at 50 s: say it started at 10 s.
        let starts: Vec<Option<f64>> = (df.column("start_time").unwrap().f64().unwrap().iter())
            .enumerate()
            .map(|(i, s)| if i == 2 { Some(10.0) } else { s })
            .collect();
        df.with_column(Column::new("start_time".into(), starts)).unwrap();
        // Two row groups, as the run writes its batches: j3 is the first row of the second, and
        // the error counts rows from the top of the file.
        let mut w = ParquetWriter::new(std::fs::File::create(path).unwrap())
            .batched(df.schema())
            .unwrap();
        w.write_batch(&df.slice(0, 2)).unwrap();
        w.write_batch(&df.slice(2, 1)).unwrap();
        w.finish().unwrap();
    });
    assert!(
        e.contains("jobs.parquet") && e.contains("row 3: start_time is before submit_time"),
        "{e}"
    );
}

#[test]
fn an_empty_job_table_with_the_wrong_columns_is_refused_by_name() {
    use polars::prelude::{Column, DataFrame, ParquetWriter};
    let e = render_error_after(|path, _| {
        // No rows, so no row group holds the columns: they are checked all the same.
        let mut df = DataFrame::new(0, vec![Column::new("nothing".into(), Vec::<f64>::new())]).unwrap();
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(&mut df)
            .unwrap();
    });
    assert!(
        e.contains("jobs.parquet") && e.contains("not a fairway table"),
        "{e}"
    );
}

/// Renders the hand run again after replacing its `preemptions.csv` with `csv`; the run folder
/// and the render's result.
fn render_with_preemptions(tmp: &Path, csv: &str) -> (PathBuf, Result<(), String>) {
    hand_run(tmp);
    let out = tmp.join("out");
    std::fs::write(out.join("preemptions.csv"), csv).unwrap();
    adopt(&out, "preemptions.csv");
    let r = render_dir(&out, RenderOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string());
    (out, r)
}

#[test]
fn preemptions_count_against_the_queues_of_the_jobs_they_name() {
    let tmp = tempfile::tempdir().unwrap();
    // At 70 s j1 preempts j2; at 80 s j3's node fails; at 90 s j1 preempts a job the job table
    // does not have (which no queue's eviction counts, though j1's queue caused it).
    let csv = format!(
        "time_s,job_id,team,reason,by_job_id,by_team\n\
         70,j2,\"{EVIL}\",InCohortReclamation,j1,a\n\
         80,j3,\"{EVIL}\",{},,\n\
         90,ghost,x,InCohortReclamation,j1,a\n",
        fairway_engine::sim::NODE_FAILURE
    );
    let (out, r) = render_with_preemptions(tmp.path(), &csv);
    r.unwrap();
    let prom = std::fs::read_to_string(out.join("metrics.prom")).unwrap();
    let t = |s: u64| fairway_reports::prom::EPOCH_S + s;
    let q = EVIL_LABEL;
    for line in [
        format!(
            "kueue_evicted_workloads_total{{cluster_queue=\"{q}\",reason=\"Preempted\",replica_role=\"standalone\"}} 1 {}",
            t(120)
        ),
        format!(
            "kueue_evicted_workloads_total{{cluster_queue=\"{q}\",reason=\"NodeFailures\",replica_role=\"standalone\"}} 1 {}",
            t(120)
        ),
        format!(
            "kueue_preempted_workloads_total{{preempting_cluster_queue=\"a\",reason=\"InCohortReclamation\",replica_role=\"standalone\"}} 2 {}",
            t(120)
        ),
    ] {
        assert!(prom.lines().any(|l| l == line), "missing: {line}");
    }
    // Nothing had happened by the sample at 60 s.
    assert!(
        !(prom.lines())
            .any(|l| l.starts_with("kueue_evicted_workloads_total") && l.ends_with(&format!(" 1 {}", t(60)))),
    );
}

#[test]
fn a_preemptions_file_without_its_team_columns_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = "time_s,job_id,reason,by_job_id\n70,j2,InCohortReclamation,j1\n";
    let e = render_with_preemptions(tmp.path(), csv).1.unwrap_err();
    assert!(e.contains("preemptions.csv") && e.contains("team"), "{e}");
}

/// A job table of another run (here: one job fewer) beside the summary is refused, even when
/// the manifest was made to agree.
#[test]
fn a_job_table_of_another_run_is_refused() {
    let e = render_error_after(|path, df| {
        let mut fewer = df.slice(0, 2);
        polars::prelude::ParquetWriter::new(std::fs::File::create(path).unwrap())
            .finish(&mut fewer)
            .unwrap();
    });
    assert!(
        e.contains("has 2 jobs, but summary.json counts 3: they are not of one run"),
        "{e}"
    );
}

/// A folder a run was killed in (its manifest still says it is being written) is refused.
#[test]
fn a_killed_runs_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let out = tmp.path().join("out");
    let path = out.join(fairway_reports::output::MANIFEST);
    let m = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"complete\"", "\"writing\"");
    std::fs::write(&path, m).unwrap();
    let e = render_dir(&out, RenderOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("did not finish writing"), "{e}");
}

/// A time that no run writes (NaN, negative) in a job table is refused by column.
#[test]
fn a_job_table_with_a_nan_time_is_refused_by_name() {
    use polars::prelude::{Column, ParquetWriter};
    for bad in [f64::NAN, -5.0, f64::INFINITY] {
        let e = render_error_after(|path, mut df| {
            let ends: Vec<Option<f64>> = (df.column("end_time").unwrap().f64().unwrap().iter())
                .enumerate()
                .map(|(i, s)| if i == 1 { Some(bad) } else { s })
                .collect();
            df.with_column(Column::new("end_time".into(), ends)).unwrap();
            ParquetWriter::new(std::fs::File::create(path).unwrap())
                .finish(&mut df)
                .unwrap();
        });
        assert!(
            e.contains("jobs.parquet")
                && e.contains("column 'end_time' holds")
                && e.contains("not a time in seconds"),
            "{bad}: {e}"
        );
    }
}

/// One node of 1 GPU, FIFO, stopped at 150 s. b1 (team b) arrives at 0 and runs 0-100 s; a1 and
/// a2 (team a) arrive at 1 s, a1 runs 100-150 s and a2 never starts. Team a asked for 200 of the
/// 300 GPU-seconds (2/3, above its equal entitlement of 1/2) and got 50 of the 150 allocated
/// (1/3): held below its share, ratio 2/3. Team b asked for 1/3 and got 2/3 (ratio 4/3).
#[test]
fn the_worst_served_team_is_one_that_asked_for_its_share_and_did_not_get_it() {
    use fairway_engine::*;
    let mut b = WorkloadBuilder::new("hand");
    let (ta, tb) = (b.team("a").unwrap(), b.team("b").unwrap());
    let pod = PodRequest {
        gpu_milli: 1000,
        cpu_milli: 1000,
        mem_mib: 1024,
    };
    for (name, team, submit) in [("b1", tb, 0), ("a1", ta, 1), ("a2", ta, 1)] {
        let spec = JobSpec::new(
            SimTime::from_secs(submit),
            SimDuration::from_secs(100),
            1,
            pod,
            team,
        );
        b.push(name, 0, spec).unwrap();
    }
    let w = b.finish();
    let cluster = Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("p", Some("A100"), 1, 1, 64, 512)],
    })
    .unwrap();
    let policy = fairway_policies::policy(&"fifo".parse().unwrap(), 1).unwrap();
    let placement = fairway_policies::placement(&"first-fit".parse().unwrap(), 1).unwrap();
    let opts = EngineOptions {
        horizon: Some(SimTime::from_secs(150)),
        ..EngineOptions::default()
    };
    let o = Simulation::new(&w, cluster, policy, placement, opts)
        .unwrap()
        .run()
        .unwrap();
    let info = RunInfo {
        scenario: "hand".into(),
        seed: 1,
        trace: "trace.csv".into(),
        interactive_target_s: None,
    };
    let s = summarize(&w, &o, &info);
    let (a, bt) = (&s.per_team["a"], &s.per_team["b"]);
    assert!(close(a.demand_share, 2.0 / 3.0) && close(bt.demand_share, 1.0 / 3.0));
    assert_eq!((a.entitlement, bt.entitlement), (0.5, 0.5));
    assert!(close(a.share_ratio.unwrap(), 2.0 / 3.0) && close(bt.share_ratio.unwrap(), 4.0 / 3.0));
    assert_eq!(s.fairness.worst_served_team.as_deref(), Some("a"));
    assert!(close(s.fairness.worst_share_ratio.unwrap(), 2.0 / 3.0));
    // a2 is still waiting at 150 s, 149 s after it arrived: wait_s leaves it out (0 and 99 s);
    // the Kaplan-Meier estimate counts it as waiting at least 149 s. At 0 s one of 3 starts
    // (S = 2/3), at 99 s one of 2 (S = 1/3): p50 99 s, p90 never reached; mean 99 x 2/3 + 50 x
    // 1/3 = 82.667 s. Team a alone: 99 s and at least 149 s: p50 99 s, mean 99 + 50 / 2 = 124 s.
    assert_eq!(s.jobs_pending_at_end, 1);
    assert_eq!((s.wait_s.count, s.wait_s.mean), (2, Some(49.5)));
    let k = &s.wait_s_km;
    assert_eq!(
        (k.count, k.p50, k.p90, k.mean, k.max),
        (3, Some(99.0), None, Some(82.667), Some(149.0))
    );
    let ka = &a.wait_s_km;
    assert_eq!(
        (ka.count, ka.p50, ka.p90, ka.mean),
        (2, Some(99.0), None, Some(124.0))
    );
    assert!(s.has_censored_waits());
}

/// The page leads with the answer. In the hand run j1 holds all 4 GPUs from 0 to 100 s while
/// the other team's j2 (2 GPUs, from 0 s) and j3 (2 GPUs, from 50 s) wait for it: 2 x 100 + 2 x
/// 50 = 300 GPU-seconds of requests wait, all with no GPU free (capacity), none beside idle
/// GPUs; that team waits most (p95 of its 100 s and 50 s waits: 97.5 s).
#[test]
fn the_page_says_who_waits_most_and_whether_capacity_or_policy_held_them() {
    let tmp = tempfile::tempdir().unwrap();
    hand_run(tmp.path());
    let run = render_dir(&tmp.path().join("out"), RenderOptions::default()).unwrap();
    assert_eq!(
        run.series.backlog,
        fairway_reports::fold::Backlog {
            full_gpu_h: 300.0 / 3600.0,
            idle_gpu_h: 0.0,
            // j2 waits from 0 to 100 s with all 4 GPUs allocated.
            waiting_h: 100.0 / 3600.0,
            allocated_while_waiting: 1.0,
        }
    );
    let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    let lead = &html[html.find("<h2>In short</h2>").unwrap()..html.find("<h2>Headline</h2>").unwrap()];
    assert!(
        lead.contains("</b> waits most: p95 wait <b>1.6m</b> over its 2 jobs"),
        "{lead}"
    );
    assert!(lead.contains("&lt;script&gt;"), "{lead}");
    assert!(
        lead.contains("<b>100.0 %</b> of them came while no GPU was free for them")
            && lead.contains("<b>0.0 %</b> while as many GPUs stood idle")
            && lead.contains("mostly a question of capacity"),
        "{lead}"
    );
}
