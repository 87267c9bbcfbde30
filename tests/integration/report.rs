//! The report of a shipped scenario: every chart as SVG and PNG, the page in a real browser,
//! metrics.prom through Prometheus's own parser, and the comparison view.

use crate::common::{find, ok};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a shipped scenario into `dir`, PNG charts included.
fn run(scenario: &str, dir: &Path) {
    ok(&[
        "run",
        scenario,
        "--quiet",
        "--png",
        "--out",
        dir.to_str().unwrap(),
    ]);
}

/// Width, height and the share of pixels that are not white, of an 8-bit RGB(A) PNG.
fn png_stats(path: &Path) -> (u32, u32, f64, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    assert!(px >= 3, "expected colour pixels");
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::BTreeSet::new();
    let mut inked = 0usize;
    for p in pixels.chunks(px) {
        if p[..3] != [255, 255, 255] {
            inked += 1;
        }
        colours.insert([p[0], p[1], p[2]]);
    }
    let n = pixels.len() / px;
    (info.width, info.height, inked as f64 / n as f64, colours.len())
}

/// The quickstart draws the five charts every run has; the interactive mix, whose sessions carry
/// `gpu_util`, adds allocated-vs-used and right-sizing.
#[test]
fn every_chart_renders_as_svg_and_png() {
    let tmp = tempfile::tempdir().unwrap();
    let (q, im) = (tmp.path().join("q"), tmp.path().join("im"));
    run("scenarios/catalog/quickstart.toml", &q);
    run("scenarios/catalog/interactive-mix.toml", &im);
    let every = ["utilisation", "queue", "wait_cdf", "share", "pending_reasons"];
    assert!(!q.join("charts/rightsizing.svg").exists());
    check_charts(&q.join("charts"), &every);
    check_charts(&im.join("charts"), &["gpu_use", "rightsizing"]);
    // The wait CDF reads in human time on a log axis (the quickstart's longest wait is 26 days):
    // ticks 1m to 30d, no bare hours.
    let cdf = std::fs::read_to_string(q.join("charts/wait_cdf.svg")).unwrap();
    let texts: Vec<String> = roxmltree::Document::parse(&cdf)
        .unwrap()
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    for tick in ["1m", "10m", "1h", "6h", "1d", "7d", "30d"] {
        assert!(texts.iter().any(|t| t == tick), "no tick {tick} in {texts:?}");
    }
    assert!(!texts.iter().any(|t| t.ends_with(".0")), "{texts:?}");
}

fn check_charts(charts: &Path, stems: &[&str]) {
    for &stem in stems {
        let svg = std::fs::read_to_string(charts.join(format!("{stem}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{stem}.svg: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert_eq!(doc.root_element().attribute("width"), Some("900"));
        // Axes, labels and data: a real chart has many elements and some text.
        let elements = doc.descendants().filter(|n| n.is_element()).count();
        assert!(elements > 50, "{stem}.svg has only {elements} elements");
        assert!(doc.descendants().any(|n| n.tag_name().name() == "text"));
        assert!(
            svg.len() > 5_000 && svg.len() < 2_000_000,
            "{stem}.svg is {} bytes",
            svg.len()
        );
        let (w, h, inked, colours) = png_stats(&charts.join(format!("{stem}.png")));
        assert_eq!((w, h), (900, 420), "{stem}.png");
        assert!(
            inked > 0.02 && inked < 0.95,
            "{stem}.png: {inked:.3} of pixels inked"
        );
        assert!(colours > 10, "{stem}.png has {colours} colours");
    }
}

#[test]
fn fairway_report_re_renders_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("q");
    run("scenarios/catalog/quickstart.toml", &dir);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let files = [
        "report.html",
        "metrics.prom",
        "charts/wait_cdf.svg",
        "charts/share.png",
    ];
    let before: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    std::fs::remove_file(dir.join("report.html")).unwrap();
    std::fs::remove_dir_all(dir.join("charts")).unwrap();
    ok(&["report", dir.to_str().unwrap(), "--png"]);
    let after: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect();
    assert!(before == after, "re-rendering changed the output");
}

/// Headless Chromium opens report.html: no console message (the page's Content-Security-Policy
/// turns any attempt to load something into one), every chart and table in the rendered DOM,
/// and a screenshot that is not blank. Skipped, with a notice, where Chromium is not installed.
#[test]
fn report_renders_in_a_real_browser() {
    let Some(chromium) = find(&["chromium", "chromium-browser", "google-chrome"]) else {
        eprintln!("NOTICE: chromium not found; skipping the browser test (.ci/run installs it)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("q");
    run("scenarios/catalog/quickstart.toml", &dir);
    let page = format!("file://{}", dir.join("report.html").display());
    let shot = tmp.path().join("shot.png");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1200,2400",
    ];
    let browse = |extra: &[String]| {
        let profile = tempfile::tempdir().unwrap();
        let out = Command::new(&chromium)
            .args(common)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&page)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = browse(&[format!("--screenshot={}", shot.display())]);
    let log = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let (w, h, inked, colours) = png_stats(&shot);
    assert_eq!((w, h), (1200, 2400));
    assert!(inked > 0.03, "the screenshot is blank ({inked:.4} inked)");
    assert!(colours > 20, "the screenshot has {colours} colours");
    let out = browse(&["--dump-dom".to_string()]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.matches("<svg").count() >= 5,
        "charts missing from the rendered page"
    );
    assert!(
        dom.matches("<table").count() >= 3,
        "tables missing from the rendered page"
    );
    assert!(dom.contains("fairway report: quickstart"));
}

#[test]
fn report_compare_puts_runs_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("baseline"), tmp.path().join("candidate"));
    run("scenarios/catalog/ci/baseline.toml", &a);
    run("scenarios/catalog/ci/candidate.toml", &b);
    let out = tmp.path().join("cmp");
    let md = ok(&[
        "report",
        "--compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(md.starts_with("### fairway comparison\n\n| metric | baseline | candidate |\n"));
    assert_eq!(md, std::fs::read_to_string(out.join("compare.md")).unwrap());
    // Each headline row has both values and the candidate's delta against the baseline.
    let sa: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("summary.json")).unwrap()).unwrap();
    let row = md.lines().find(|l| l.starts_with("| jobs_finished |")).unwrap();
    assert!(
        row.starts_with(&format!("| jobs_finished | {} | ", sa["jobs_finished"])),
        "{row}"
    );
    assert!(
        md.lines()
            .any(|l| l.starts_with("| ") && l.contains("| p95_wait |")),
        "per-team rows"
    );
    // Durations read in s, m, h or d, never raw seconds, and a change is judged.
    let is_duration = |t: &str| {
        t == "–"
            || t.strip_suffix(['s', 'm', 'h', 'd'])
                .is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok())
    };
    let mut duration_rows = 0;
    for line in md.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(at) = cells.iter().position(|c| {
            [
                "mean_wait",
                "p50_wait",
                "p95_wait",
                "p99_wait",
                "max_wait",
                "mean_jct",
                "makespan",
            ]
            .contains(c)
        }) else {
            continue;
        };
        duration_rows += 1;
        for c in &cells[at + 1..cells.len() - 1] {
            let value = c.split(' ').next().unwrap();
            assert!(is_duration(value), "{c} in {line}");
            if let Some(change) = c.split_once(" (") {
                let first = change.1.split([',', ')']).next().unwrap();
                assert!(first == "=" || is_duration(&first[1..]), "{c} in {line}");
            }
        }
    }
    assert!(duration_rows >= 7, "{md}");
    assert!(md.contains(", worse)") || md.contains(", better)"), "{md}");
    // Spread placement ends later, so the allocation rates are over different spans: flagged,
    // and compared instead over the window both cover, the baseline's whole span, where the
    // baseline's figure is its own allocation rate.
    let sb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("summary.json")).unwrap()).unwrap();
    assert!(sb["span_s"].as_f64().unwrap() > 1.01 * sa["span_s"].as_f64().unwrap());
    let row = md
        .lines()
        .find(|l| l.starts_with("| gpu_allocation_rate |"))
        .unwrap();
    assert!(
        row.contains("(not comparable: rates over different spans ("),
        "{row}"
    );
    let window = md
        .lines()
        .find(|l| l.starts_with("| gpu_allocation_rate over the common window (the first "))
        .unwrap();
    let base_rate = format!("{:.1} %", 100.0 * sa["gpu_allocation_rate"].as_f64().unwrap());
    assert_eq!(window.split('|').nth(2).unwrap().trim(), base_rate, "{window}");
    let html = std::fs::read_to_string(out.join("compare.html")).unwrap();
    roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        2,
        "overlaid CDF and allocation charts"
    );
}

/// `promtool`'s parser reads `metrics.prom` (a syntax check: blocks are built and dropped).
fn promtool_accepts(prom: &Path) {
    let Some(promtool) = find(&["promtool"]) else {
        eprintln!(
            "NOTICE: promtool not found; skipping its check of {}",
            prom.display()
        );
        return;
    };
    let tsdb = tempfile::tempdir().unwrap();
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(prom)
        .arg(tsdb.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool rejected {}: {}{}",
        prom.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// 1,500 teams, each its own queue: 4,500 one-GPU jobs of about a minute arriving over about
/// three minutes on ample GPUs, so the run spans a few minutes.
fn many_teams(dir: &Path) -> PathBuf {
    let teams: Vec<String> = (0..1500)
        .map(|k| format!("{{ name = \"t{k:04}\", weight = 1 }}"))
        .collect();
    let scenario = dir.join("many.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"many\"\nseed = 3\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 4500\n\
             arrivals = {{ process = \"poisson\", per_hour = 90000 }}\n\
             duration = {{ dist = \"lognormal\", median_s = 60, sigma = 0.3, max_s = 120 }}\n\
             shapes = [{{ gpus = 1, weight = 1 }}]\nteams = [{}]\n\
             [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 200\ngpus_per_node = 8\ncpu = 128\nmemory_gib = 1024\n\
             [policy]\nname = \"fifo\"\nplacement = \"first-fit\"\n",
            teams.join(", ")
        ),
    )
    .unwrap();
    scenario
}

/// With 1,500 queues, metrics.prom names the 100 busiest and sums the rest as "others", and
/// says so; its size has a bound worked out from its lines. `--prom-queues all` names all. The
/// charts draw 12 teams and say which.
#[test]
fn metrics_prom_of_many_queues_is_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = many_teams(tmp.path());
    let dir = tmp.path().join("out");
    let out = crate::common::fairway(&["run", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("metrics.prom names 100 of 1500 queues (those with the most allocated GPU-hours) and sums the other 1400 as cluster_queue=\"others\""),
        "{stderr}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let span_s = summary["span_s"].as_f64().unwrap();
    assert!(span_s < 600.0, "span {span_s} s");
    let prom_path = dir.join("metrics.prom");
    let prom = std::fs::read_to_string(&prom_path).unwrap();
    let queues: std::collections::BTreeSet<&str> = (prom.lines())
        .filter_map(|l| {
            l.split_once("cluster_queue=\"")
                .map(|x| x.1.split('"').next().unwrap())
        })
        .collect();
    assert_eq!(queues.len(), 101, "100 by name and others");
    assert!(queues.contains("others"));
    // Samples: every 60 s through the end. Per queue and sample, at most 49 lines: 5 gauges,
    // 3 status lines, the admitted, quota-reserved and finished counters (one priority class;
    // FIFO evicts nothing) and two wait histograms of 16 + 1 buckets, count and sum. The
    // longest line, a bucket, is
    //   kueue_quota_reserved_wait_time_seconds_bucket{cluster_queue="t1499",
    //   replica_role="standalone",le="40960"} 9999 1767225600
    // 122 bytes with its newline (125 for "others" with 6-digit counts): 130 a line. Headers
    // (# TYPE, # HELP) add under 4 KB.
    let samples = (span_s.ceil() as usize).div_ceil(60) + 1;
    let bound = 101 * 49 * samples * 130 + 4096;
    let size = prom.len();
    assert!(size < bound, "metrics.prom is {size} bytes, over {bound}");
    eprintln!("metrics.prom: {size} bytes ({samples} samples; bound {bound})");
    promtool_accepts(&prom_path);
    // The charts with a line or bar per team say that they show the busiest 12.
    let share = std::fs::read_to_string(dir.join("charts/share.svg")).unwrap();
    assert!(share.contains("top 12 of 1500 teams by GPU-hours"));
    let util = std::fs::read_to_string(dir.join("charts/utilisation.svg")).unwrap();
    // The rest of the teams with jobs, summed: one legend entry.
    let other = util.matches("other (").count();
    let n: usize = util
        .split("other (")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(other == 1 && n > 1000 && n <= 1488, "{n}");
    // The limit lifted: every queue by name.
    let out = crate::common::fairway(&["report", dir.to_str().unwrap(), "--prom-queues", "all"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("summed"));
    let all = std::fs::read_to_string(&prom_path).unwrap();
    assert!(all.contains("cluster_queue=\"t1499\"") || all.contains("cluster_queue=\"t0000\""));
    assert!(!all.contains("cluster_queue=\"others\""));
    eprintln!("metrics.prom with every queue: {} bytes", all.len());
}

/// A team name with a NUL, an ANSI escape sequence, a line break and a forged Markdown cell,
/// through the CLI: the terminal sees no control character, `compare`'s Markdown has one row
/// per check, and promtool reads the label.
#[test]
fn a_hostile_team_name_reaches_the_terminal_inert() {
    let tmp = tempfile::tempdir().unwrap();
    let evil = "x\0\x1b[31m\n| ok |";
    std::fs::write(
        tmp.path().join("t.csv"),
        format!(
            "job_id,submit_time,duration,gpus,team\nj1,0,600,8,a\nj2,0,600,8,\"{evil}\"\nj3,60,600,8,\"{evil}\"\n"
        ),
    )
    .unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"hostile\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n\
         [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 2\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
         [policy]\nname = \"fifo\"\nplacement = \"first-fit\"\n",
    )
    .unwrap();
    let dir = tmp.path().join("out");
    let out = crate::common::fairway(&["run", scenario.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains(&0x1b) && !stream.contains(&0),
            "{}",
            String::from_utf8_lossy(stream)
        );
    }
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("x\\u{0}\\u{1b}[31m\\u{a}| ok |"), "{table}");
    let d = dir.to_str().unwrap();
    let md = ok(&["compare", d, d, "--fail-on", "p95_wait:+5%", "--per-team"]);
    assert!(!md.contains(['\0', '\x1b']), "{md}");
    // A row per check: the whole run and the two teams; none starts with the forged cell.
    assert_eq!(md.lines().filter(|l| l.starts_with('|')).count(), 2 + 3, "{md}");
    assert!(md.lines().all(|l| !l.starts_with("| ok")), "{md}");
    promtool_accepts(&dir.join("metrics.prom"));
    // An error that lists the names (a plan naming an unknown team) shows them inert too.
    let out = crate::common::fairway(&[
        "plan",
        scenario.to_str().unwrap(),
        "--target",
        "team:zz:p95_wait<=1h",
        "--vary",
        "pool.g.nodes=0..1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !out.stderr.contains(&0x1b) && !out.stderr.contains(&0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no team or queue 'zz'") && err.contains("x\\u{0}\\u{1b}[31m"),
        "{err}"
    );
}
