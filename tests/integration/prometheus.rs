//! The Grafana path as the README gives it: a Kueue run's `metrics.prom` backfilled with
//! `promtool`, a real Prometheus started on the loopback address with the README's flags, and
//! every query of the shipped dashboard run over its HTTP API across the simulated span (that
//! part skipped, with a notice, where Prometheus is not installed; `.ci/run` installs it); and the
//! quickstart's metrics.prom within the sampling and size the README gives.

use crate::common::{find, ok, root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server when the test ends, whether it passes or not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Percent-encodes a query-string value (everything but RFC 3986's unreserved characters).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` on the loopback port: the status code and the body (HTTP/1.0, so the server
/// closes the connection after the body).
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((code, body.to_string()))
}

/// The JSON answer of an API call that must succeed.
fn api(port: u16, path: &str) -> serde_json::Value {
    let (code, body) = get(port, path).unwrap();
    assert_eq!(code, 200, "{path}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success", "{path}: {body}");
    v["data"].clone()
}

/// The instants of the samples of the first series in `prom` whose line starts with `prefix`.
fn sample_times(prom: &str, prefix: &str) -> Vec<u64> {
    let first = prom.lines().find(|l| l.starts_with(prefix)).expect(prefix);
    let labels = first.rsplitn(3, ' ').nth(2).unwrap();
    (prom.lines())
        .filter(|l| l.rsplitn(3, ' ').nth(2) == Some(labels))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect()
}

/// What the README promises of the quickstart's metrics.prom: every series sampled at most
/// 30 minutes apart, through the end of the run, in under 100 MB.
#[test]
fn the_quickstarts_metrics_prom_is_sampled_every_half_hour_in_under_100_mb() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("qs");
    ok(&[
        "run",
        "scenarios/catalog/quickstart.toml",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let span_s = summary["span_s"].as_f64().unwrap();
    let prom = std::fs::read_to_string(dir.join("metrics.prom")).unwrap();
    assert!(prom.len() < 100_000_000, "metrics.prom is {} bytes", prom.len());
    for prefix in [
        "kueue_pending_workloads{",
        "kueue_admission_wait_time_seconds_bucket{",
    ] {
        let at = sample_times(&prom, prefix);
        assert!(
            at.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 1800),
            "{prefix}"
        );
        assert!(*at.last().unwrap() as f64 >= fairway_reports::prom::EPOCH_S as f64 + span_s);
    }
    eprintln!(
        "quickstart metrics.prom: {} bytes over {:.0} days",
        prom.len(),
        span_s / 86400.0
    );
}

#[test]
fn every_dashboard_panel_shows_a_backfilled_kueue_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("k");
    ok(&[
        "run",
        "scenarios/catalog/kueue-reclaim.toml",
        "--quiet",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let span_s = summary["span_s"].as_f64().unwrap();
    let prom_path = dir.join("metrics.prom");
    let prom = std::fs::read_to_string(&prom_path).unwrap();
    // Samples at most 30 minutes apart, from the first submission through the end; and the two
    // Kueue series dashboards read that fairway wrote none of once.
    for prefix in [
        "kueue_pending_workloads{",
        "kueue_admission_wait_time_seconds_bucket{",
    ] {
        let at = sample_times(&prom, prefix);
        assert!(
            at.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 1800),
            "{prefix}"
        );
        assert!(*at.last().unwrap() as f64 >= fairway_reports::prom::EPOCH_S as f64 + span_s);
    }
    for family in [
        "kueue_cluster_queue_resource_reservation{",
        "kueue_cluster_queue_status{",
    ] {
        assert!(prom.contains(family), "{family}");
    }
    eprintln!(
        "kueue-reclaim metrics.prom: {} bytes over {:.0} days",
        prom.len(),
        span_s / 86400.0
    );
    drop(prom);
    // The page has the ClusterQueue table, with ls's quota of 24 GPUs in cohort openb.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<h2>ClusterQueues</h2>"), "no ClusterQueue table");
    assert!(
        html.contains("<tr><td>ls</td><td>openb</td><td>24</td>"),
        "no row for ls"
    );
    // And its quotas per flavor and resource as kueue/reclaim.yaml writes them.
    for row in [
        "<tr><td>ls</td><td>default</td><td>cpu</td><td>480</td><td>no limit</td><td>no limit</td></tr>",
        "<tr><td>ls</td><td>default</td><td>memory</td><td>2400Gi</td>",
        "<tr><td>guaranteed</td><td>default</td><td>fairway.dev/gpu-milli</td><td>4000 (4 GPUs)</td>",
    ] {
        assert!(html.contains(row), "no quota row {row}");
    }

    // The README's steps, with a real Prometheus.
    let (Some(promtool), Some(prometheus)) = (find(&["promtool"]), find(&["prometheus"])) else {
        eprintln!(
            "NOTICE: promtool or prometheus not found; skipping the Grafana part of this test (.ci/run installs them)"
        );
        return;
    };
    let (_server, port) = serve(&promtool, &prometheus, tmp.path(), &prom_path);
    // The quota as a dashboard reads it.
    let t0 = fairway_reports::prom::EPOCH_S;
    let q = encode("kueue_cluster_queue_nominal_quota{cluster_queue=\"ls\"}");
    let v = api(port, &format!("/api/v1/query?query={q}&time={}", t0 + 86400));
    let r = &v["result"][0];
    assert_eq!(
        (r["metric"]["cohort"].as_str(), r["value"][1].as_str()),
        (Some("openb"), Some("24")),
        "{v}"
    );

    // Every query of every panel, over the simulated span at Grafana's usual hourly step: each
    // must give a series with a number in it.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("reports/assets/grafana-dashboard.json")).unwrap(),
    )
    .unwrap();
    let end = t0 + span_s.ceil() as u64;
    let mut asked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            let expr = target["expr"].as_str().unwrap().replace("$cluster_queue", ".*");
            let path = format!(
                "/api/v1/query_range?query={}&start={t0}&end={end}&step=3600",
                encode(&expr)
            );
            let result = api(port, &path)["result"].clone();
            let numbers = (result.as_array().unwrap().iter())
                .flat_map(|s| s["values"].as_array().unwrap())
                .filter(|v| {
                    v[1].as_str()
                        .and_then(|x| x.parse::<f64>().ok())
                        .is_some_and(f64::is_finite)
                })
                .count();
            assert!(
                numbers > 0,
                "panel '{}' query {} gave no data: {result}",
                panel["title"],
                target["refId"]
            );
            asked += 1;
        }
    }
    assert!(asked >= 16, "{asked} queries");
}

/// Backfills `openmetrics` with `promtool` into a block under `dir` and starts a Prometheus on
/// a free loopback port over it, with the README's flags; returns it (killed when dropped)
/// once it answers ready.
fn serve(promtool: &Path, prometheus: &Path, dir: &Path, openmetrics: &Path) -> (Server, u16) {
    let data = dir.join("prom-data");
    let out = Command::new(promtool)
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
        ])
        .arg(openmetrics)
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool rejected {}: {}{}",
        openmetrics.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("replay.yml");
    std::fs::write(&config, "scrape_configs: []\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.join("prometheus.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server = Server(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .args(["--storage.tsdb.retention.time=100y", "--query.lookback-delta=31m"])
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while !matches!(get(port, "/-/ready"), Ok((200, _))) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "Prometheus not ready after 2 minutes: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    (server, port)
}

/// Query answers (`matrix` JSON) as the OpenMetrics text `promtool` backfills: one gauge
/// family per metric name, each series' samples with their instants.
fn openmetrics(answers: &[PathBuf]) -> String {
    let mut families: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in answers {
        let v: serde_json::Value = serde_json::from_str(&crate::common::read(a)).unwrap();
        for series in v["data"]["result"].as_array().unwrap() {
            let m = series["metric"].as_object().unwrap();
            let name = m["__name__"].as_str().unwrap().to_string();
            let labels: Vec<String> = (m.iter())
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| {
                    let v = v.as_str().unwrap().replace('\\', "\\\\").replace('"', "\\\"");
                    format!("{k}=\"{v}\"")
                })
                .collect();
            let lines = families.entry(name.clone()).or_default();
            for p in series["values"].as_array().unwrap() {
                lines.push(format!(
                    "{name}{{{}}} {} {}",
                    labels.join(","),
                    p[1].as_str().unwrap(),
                    p[0]
                ));
            }
        }
    }
    let mut text = String::new();
    for (name, lines) in families {
        text += &format!("# TYPE {name} gauge\n");
        for l in lines {
            text += &l;
            text.push('\n');
        }
    }
    text + "# EOF\n"
}

/// `trace import --from prometheus --url` against a real Prometheus holding the fixture's
/// series writes the same trace as the import of the fixture's files (whose five jobs, one
/// still running, the traces crate's tests check by hand); and a wrong span or format is an
/// error that says which.
#[test]
fn a_real_prometheus_imports_as_its_saved_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let fixtures = root().join("traces/tests/fixtures/import/prometheus");
    let mut answers: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    answers.sort();
    let from_files = tmp.path().join("files.csv");
    let mut args = vec!["trace", "import", "--from", "prometheus", "--out"];
    args.push(from_files.to_str().unwrap());
    args.extend(answers.iter().map(|a| a.to_str().unwrap()));
    ok(&args);
    let files_csv = crate::common::read(&from_files);
    assert_eq!(files_csv.lines().count(), 6, "{files_csv}");

    // Arguments are checked before anything is asked.
    let e = crate::common::fails(&[
        "trace",
        "import",
        "--from",
        "gavel",
        "--url",
        "http://127.0.0.1:9",
        "--start",
        "2026-05-10T10:00:00Z",
        "--end",
        "2026-05-10T12:30:00Z",
        "--out",
        "x.csv",
    ]);
    assert!(
        e.contains("--url http://127.0.0.1:9 is for --from prometheus, not gavel"),
        "{e}"
    );
    let e = crate::common::fails(&[
        "trace",
        "import",
        "--from",
        "prometheus",
        "--url",
        "http://127.0.0.1:9",
        "--start",
        "2026-05-10T12:30:00Z",
        "--end",
        "2026-05-10T10:00:00Z",
        "--out",
        "x.csv",
    ]);
    assert!(
        e.contains("--end: '2026-05-10T10:00:00Z' is not after start"),
        "{e}"
    );

    let (Some(promtool), Some(prometheus)) = (find(&["promtool"]), find(&["prometheus"])) else {
        eprintln!(
            "NOTICE: promtool or prometheus not found; skipping the live part of this test (.ci/run installs them)"
        );
        return;
    };
    let om = tmp.path().join("ksm.om");
    std::fs::write(&om, openmetrics(&answers)).unwrap();
    let (_server, port) = serve(&promtool, &prometheus, tmp.path(), &om);
    let url = format!("http://127.0.0.1:{port}");
    let from_url = tmp.path().join("url.csv");
    let report = ok(&[
        "trace",
        "import",
        "--from",
        "prometheus",
        "--url",
        &url,
        "--start",
        "2026-05-10T10:00:00Z",
        "--end",
        "2026-05-10T12:30:00Z",
        "--step",
        "30m",
        "--out",
        from_url.to_str().unwrap(),
    ]);
    assert_eq!(crate::common::read(&from_url), files_csv, "{report}");

    // The same through a scenario's [trace.prometheus].
    let scenario = tmp.path().join("live.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"live\"\n[trace]\nformat = \"prometheus\"\n[trace.prometheus]\nurl = \"{url}\"\nstart = \"2026-05-10T10:00:00Z\"\nend = \"2026-05-10T12:30:00Z\"\nstep = \"30m\"\n[cluster]\n[[cluster.pool]]\nname = \"a100\"\ngpu_model = \"A100\"\nnodes = 2\ngpus_per_node = 8\ncpu = 128\nmemory_gib = 1024\n[policy]\nname = \"fifo\"\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("run");
    ok(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary: serde_json::Value =
        serde_json::from_str(&crate::common::read(&out.join("summary.json"))).unwrap();
    // The PyTorchJob still running at the span's end stays running.
    assert_eq!(
        (summary["jobs_total"].as_u64(), summary["jobs_running"].as_u64()),
        (Some(5), Some(1)),
        "{summary}"
    );
}
