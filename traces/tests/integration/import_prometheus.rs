//! The Prometheus importer on hand-written answers of `/api/v1/query_range` (one file a
//! query, a step of 30 minutes from 2026-05-10T10:00:00Z to 12:30:00Z), the same answers served
//! over HTTP by a stand-in Prometheus on the loopback address, and broken answers. Every
//! expected value is worked out from the fixture's values in the comment beside it.

use crate::import_kube::{Row, job, rows};
use fairway_engine::Workload;
use fairway_traces::import::prometheus::{self, Source};
use fairway_traces::import::{self, ImportFormat, Mapping, Options, Report};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/prometheus")
}

/// The fixture's files, in the order the importer queries their series.
fn files() -> Vec<PathBuf> {
    prometheus::SERIES
        .iter()
        .map(|q| dir().join(format!("{q}.json")))
        .filter(|p| p.exists())
        .collect()
}

fn csv(w: &Workload) -> String {
    let mut out = Vec::new();
    fairway_traces::write::canonical(w, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn examples<'a>(r: &'a Report, why: &str) -> &'a [String] {
    r.skipped
        .iter()
        .find(|(k, _)| k.contains(why))
        .map(|(_, v)| v.examples.as_slice())
        .unwrap_or_else(|| panic!("no skip for '{why}': {:?}", r.skipped))
}

#[test]
fn kube_state_metrics_pod_series_become_jobs() {
    let i = import::read(&files(), ImportFormat::Prometheus, &Options::default()).unwrap();
    let w = &i.loaded.workload;
    // Time 0 is the first creation, kube_pod_created of train-x-0: 1778407200, 10:00:00.
    let want: Vec<Row> = vec![
        // Job train-x's two pods: started when the second started (kube_pod_start_time
        // 1778407380, 10:03:00: 180 s), ended at the later kube_pod_completion_time (1778414580,
        // 12:03:00, against 12:02:30): 2 h. Per pod, containers main (15.5 cores, 128 GiB, 2
        // nvidia_com_gpu, ephemeral storage not counted) and logger (0.5 cores, 1 GiB): 16
        // cores, 129 x 1024 = 132096 MiB.
        (
            "research/train-x".into(),
            0.0,
            180.0,
            7200.0,
            2,
            2.0,
            16_000,
            132_096,
        ),
        // A pod of no owner (`<none>`), evicted: Failed from the sample of 11:30 on, with no
        // kube_pod_completion_time, so it ended at 11:30 (presence): created and started 10:10,
        // 600 s; 11:30 - 10:10 = 4800 s. Its init container's 4 cores outweigh main's 1 core;
        // memory max(4 GiB, 1 GiB) = 4096 MiB.
        ("dev/prep".into(), 600.0, 600.0, 4800.0, 1, 0.0, 4000, 4096),
        // A pod on its own: created 10:30:00 (1800 s), started 10:30:05, completed 11:30:05.
        ("dev/notebook".into(), 1800.0, 1805.0, 3600.0, 1, 1.0, 2000, 8192),
        // JobSet js1 (the label_jobset_sigs_k8s_io_jobset_name of kube_pod_labels) over two
        // Jobs: created 11:00:00 (3600 s), the second started 11:00:20 (3620 s), the last
        // completion 11:30:20 (against 11:29:50): 1800 s.
        ("research/js1".into(), 3600.0, 3620.0, 1800.0, 2, 2.0, 4000, 0),
        // PyTorchJob ptj: created 11:50 (1778413800: 6600 s), started 11:51 (6660 s), last
        // phase Running: open-ended; 8 cores and 8 nvidia_com_gpu.
        (
            "research/ptj".into(),
            6600.0,
            6660.0,
            f64::INFINITY,
            1,
            8.0,
            8000,
            0,
        ),
    ];
    assert_eq!(rows(w), want);
    let train = job(w, "research/train-x");
    assert_eq!(w.teams[train.team.index()], "research");
    assert_eq!(w.classes[train.priority_class.unwrap() as usize], "batch-high");
    // DCGM_FI_DEV_GPU_UTIL of the four GPUs (two through exported_pod) within 10:03-12:03, the
    // samples of 10:30, 11:00, 11:30, 12:00 (those of 10:00 and 12:30 fall outside):
    // (80+90+100+70) + (60+70+80+90) + (50x4) + (40+60+80+100) = 1120 over 16 samples = 70 %.
    let util = train.gpu_util.expect("a utilisation");
    assert!((util - 0.70).abs() < 1e-6, "{util}");
    // No DCGM series for the notebook: no utilisation.
    assert_eq!(job(w, "dev/notebook").gpu_util, None);
    let prep = job(w, "dev/prep");
    assert_eq!(w.classes[prep.priority_class.unwrap() as usize], "batch-low");

    let r = &i.report;
    // Four jobs, the still-running PyTorchJob (open-ended), and the pod without creation
    // series.
    assert_eq!((r.read, r.imported), (6, 5));
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(r.defaulted.keys().any(|k| k.contains("open-ended")));
    let orphan = &examples(r, "no kube_pod_created series")[0];
    assert!(
        orphan.ends_with("kube_pod_status_phase.json: pod research/orphan-0"),
        "{orphan}"
    );
    assert_eq!(r.ignored.get("pods of DaemonSets"), Some(&1));
    assert_eq!(
        r.ignored.get("DCGM_FI_DEV_GPU_UTIL series of GPUs with no pod"),
        Some(&1)
    );
    assert_eq!(
        r.defaulted
            .iter()
            .filter(|(k, _)| k.contains("no kube_pod_completion_time"))
            .map(|(_, n)| *n)
            .sum::<u64>(),
        1
    );
    assert_eq!(r.time_zero.as_deref(), Some("2026-05-10T10:00:00Z"));
    let text = r.render();
    assert!(
        text.starts_with("prometheus: 5 job(s) imported, 1 left out, from 6 record(s)"),
        "{text}"
    );
}

#[test]
fn sanitised_labels_meet_mapping_rules() {
    // The kube fixture's rule: label app = coder makes an interactive job of team
    // {namespace}-interactive. KSM's label_app is the label app.
    let mapping: Mapping = fairway_traces::tomlfile::read(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/kube/mapping.toml"),
    )
    .unwrap();
    let opts = Options {
        mapping,
        ..Options::default()
    };
    let w = import::read(&files(), ImportFormat::Prometheus, &opts)
        .unwrap()
        .loaded
        .workload;
    let nb = job(&w, "dev/notebook");
    assert_eq!(w.teams[nb.team.index()], "dev-interactive");
    assert_eq!(nb.kind, fairway_engine::JobKind::Interactive);
    // GPUs are counted under the names given, sanitised as KSM does: with only amd.com/gpu,
    // nvidia_com_gpu is an extended resource, counted and ignored.
    let opts = Options {
        gpu_resources: vec!["amd.com/gpu".into()],
        ..Options::default()
    };
    let i = import::read(&files(), ImportFormat::Prometheus, &opts).unwrap();
    assert_eq!(job(&i.loaded.workload, "research/train-x").pod.gpu_milli, 0);
    assert!(
        i.report
            .defaulted
            .contains_key("resource 'nvidia_com_gpu' requested but not modelled: ignored")
    );
}

#[test]
fn an_instant_query_answers_a_vector() {
    let tmp = tempfile::tempdir().unwrap();
    // /api/v1/query at 12:30: one sample per series, under `value`.
    let labels = r#""namespace":"ml","pod":"solo","uid":"u1""#;
    let text = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[
{{"metric":{{"__name__":"kube_pod_created",{labels}}},"value":[1778416200,"1778407200"]}},
{{"metric":{{"__name__":"kube_pod_start_time",{labels}}},"value":[1778416200,"1778407260.5"]}},
{{"metric":{{"__name__":"kube_pod_completion_time",{labels}}},"value":[1778416200,"1778410860.5"]}},
{{"metric":{{"__name__":"kube_pod_status_phase",{labels},"phase":"Succeeded"}},"value":[1778416200,"1"]}},
{{"metric":{{"__name__":"kube_pod_status_phase",{labels},"phase":"Running"}},"value":[1778416200,"0"]}},
{{"metric":{{"__name__":"kube_pod_container_resource_requests",{labels},"container":"c","resource":"cpu","unit":"core"}},"value":[1778416200,"0.25"]}},
{{"metric":{{"__name__":"kube_pod_container_resource_requests",{labels},"container":"c","resource":"nvidia_com_gpu","unit":"integer"}},"value":[1778416200,"4"]}},
{{"metric":{{"__name__":"kube_node_info","node":"n1"}},"value":[1778416200,"1"]}}
]}}}}"#
    );
    let f = tmp.path().join("instant.json");
    std::fs::write(&f, text).unwrap();
    let i = import::read(&[f], ImportFormat::Prometheus, &Options::default()).unwrap();
    // Created 10:00:00; started 10:01:00.5 (60.5 s); completed 11:01:00.5: 3600 s. 0.25 cores.
    assert_eq!(
        rows(&i.loaded.workload),
        vec![("ml/solo".to_string(), 0.0, 60.5, 3600.0, 1, 4.0, 250, 0)]
    );
    assert_eq!(
        i.report
            .ignored
            .get("series of kube_node_info (not read by this importer)"),
        Some(&1)
    );
}

/// Writes `text` as a file and imports it; returns the error, with the folder taken out.
fn broken(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("answer.json");
    std::fs::write(&f, text).unwrap();
    let e = import::read(&[f], ImportFormat::Prometheus, &Options::default())
        .unwrap_err()
        .to_string();
    e.replace(&format!("{}/", tmp.path().display()), "")
}

#[test]
fn broken_answers_name_the_file_and_the_series() {
    let head = r#"{"status":"success","data":{"resultType":"matrix","result":["#;
    let tail = "]}}";
    let series = r#"{"metric":{"__name__":"kube_pod_created","namespace":"dev","pod":"x"},"#;
    let cases = [
        (
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#.to_string(),
            "answer.json: Prometheus answered status error: bad_data: invalid parameter \"query\": 1:5: parse error",
        ),
        (
            format!(r#"{head}{series}"values":[[1778407200,"1778407200"],[1778409000,"soon"]]}}{tail}"#),
            r#"answer.json: kube_pod_created{namespace="dev",pod="x"}: field 'values[1]': expected a number, found 'soon'"#,
        ),
        (
            format!(r#"{head}{series}"value":[1778407200,"1778407200"]}}{tail}"#),
            r#"answer.json: kube_pod_created{namespace="dev",pod="x"}: field 'values': missing"#,
        ),
        (
            format!(r#"{head}{series}"values":[[1778407200,"1e300"]]}}{tail}"#),
            r#"answer.json: kube_pod_created{namespace="dev",pod="x"}: field 'value': expected a time in Unix seconds, found 1e300"#,
        ),
        (
            format!(r#"{head}{series}"values":[["noon","1"]]}}{tail}"#),
            r#"field 'values[0]': expected a time in Unix seconds, found "noon""#,
        ),
        (
            format!(
                r#"{head}{{"metric":{{"__name__":"kube_pod_created","namespace":"dev"}},"values":[[1778407200,"1"]]}}{tail}"#
            ),
            r#"answer.json: kube_pod_created{namespace="dev"}: field 'metric.pod': missing"#,
        ),
        (
            format!(
                r#"{head}{{"metric":{{"__name__":"kube_pod_container_resource_requests","namespace":"dev","pod":"x","resource":"cpu"}},"values":[[1778407200,"-1"]]}}{tail}"#
            ),
            "field 'value': expected a request >= 0, found -1",
        ),
        (
            r#"{"status":"success","data":{"resultType":"scalar","result":[1778407200,"1"]}}"#.to_string(),
            "answer.json: the answer: field 'data.resultType': 'scalar': give a query that selects series",
        ),
        (
            r#"{"data":{}}"#.to_string(),
            "answer.json: the answer: field 'status': missing",
        ),
        ("{not json".to_string(), "answer.json: invalid JSON"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let e = broken(text);
        assert!(e.contains(want), "case {i}: {e}");
        assert!(e.starts_with("answer.json: "), "case {i}: {e}");
    }
    // Nothing but series of other metrics: no job, and the account says what was passed over.
    let e = broken(&format!(
        r#"{head}{{"metric":{{"__name__":"up"}},"values":[[1778407200,"1"]]}}{tail}"#
    ));
    assert!(
        e.contains("no job could be imported") && e.contains("series of up"),
        "{e}"
    );
}

/// A stand-in Prometheus on the loopback address: answers each request with what `answer`
/// makes of its `query` parameter (status, body), and records the request lines.
struct Stub {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn stub(answer: impl Fn(&str) -> (u16, String) + Send + 'static) -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let _ = serve(stream, &answer, &log);
        }
    });
    Stub { url, requests }
}

fn serve(
    mut stream: TcpStream,
    answer: &dyn Fn(&str) -> (u16, String),
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    let target = line.split(' ').nth(1).unwrap_or("").to_string();
    log.lock().unwrap().push(target.clone());
    let query = target
        .split_once('?')
        .map(|(_, q)| q)
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("query="))
        .unwrap_or("")
        .to_string();
    let (status, body) = answer(&query);
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

/// The fixture's answer to a query, or an empty matrix for a series it has none of.
fn fixture_answer(query: &str) -> (u16, String) {
    match std::fs::read_to_string(dir().join(format!("{query}.json"))) {
        Ok(text) => (200, text),
        Err(_) => (
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#.to_string(),
        ),
    }
}

fn source(url: &str) -> Source {
    Source::new(url, "2026-05-10T10:00:00Z", "2026-05-10T12:30:00Z", Some("30m")).unwrap()
}

#[test]
fn a_url_is_queried_once_per_series_and_read_as_the_files() {
    let s = stub(fixture_answer);
    let i = prometheus::read_url(&source(&s.url), &Options::default()).unwrap();
    let files = import::read(&files(), ImportFormat::Prometheus, &Options::default()).unwrap();
    assert_eq!(csv(&i.loaded.workload), csv(&files.loaded.workload));
    assert_eq!((i.report.read, i.report.imported), (6, 5));
    assert_eq!(i.report.files, std::slice::from_ref(&s.url));
    // The orphan's origin names the URL and the query whose answer first named it.
    let orphan = &examples(&i.report, "no kube_pod_created series")[0];
    assert_eq!(
        orphan,
        &format!(
            "{}/api/v1/query_range?query=kube_pod_status_phase: pod research/orphan-0",
            s.url
        )
    );
    let asked = s.requests.lock().unwrap().clone();
    assert_eq!(asked.len(), prometheus::SERIES.len());
    // 10:00 and 12:30 in Unix seconds, and 30 minutes.
    assert!(
        asked[0].starts_with("/api/v1/query_range?query=kube_pod_created&")
            && asked[0].contains("start=1778407200.000")
            && asked[0].contains("end=1778416200.000")
            && asked[0].contains("step=1800.000"),
        "{asked:?}"
    );
}

#[test]
fn a_prometheus_that_fails_is_named_with_the_query() {
    // Refused: a port nothing listens on (bound, then let go).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let e = prometheus::read_url(&source(&url), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{url}/api/v1/query_range?query=kube_pod_created: cannot query Prometheus at {url}"
        )),
        "{e}"
    );

    // A refused query: HTTP 400 with an error in the body.
    let s = stub(|_| {
        (
            400,
            r#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}"#
                .to_string(),
        )
    });
    let e = prometheus::read_url(&source(&s.url), &Options::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}/api/v1/query_range?query=kube_pod_created: Prometheus answered HTTP 400: bad_data: exceeded maximum resolution of 11,000 points per timeseries",
            s.url
        )
    );

    // A proxy's error page; and status error with HTTP 200, on the fourth query.
    let s = stub(|_| (502, "<html>Bad Gateway</html>".to_string()));
    let e = prometheus::read_url(&source(&s.url), &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("Prometheus answered HTTP 502: <html>Bad Gateway</html>"),
        "{e}"
    );
    let s = stub(|q| {
        if q == "kube_pod_status_phase" {
            (
                200,
                r#"{"status":"error","errorType":"timeout","error":"query timed out"}"#.to_string(),
            )
        } else {
            fixture_answer(q)
        }
    });
    let e = prometheus::read_url(&source(&s.url), &Options::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        format!(
            "{}/api/v1/query_range?query=kube_pod_status_phase: Prometheus answered status error: timeout: query timed out",
            s.url
        )
    );

    // An answer over the cap: the phase file is 12,398 bytes.
    let s = stub(fixture_answer);
    let small = Source {
        max_bytes: 10_000,
        ..source(&s.url)
    };
    let e = prometheus::read_url(&small, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("query=kube_pod_status_phase: the answer is larger than 10000 bytes"),
        "{e}"
    );

    // A server that never answers: the timeout ends the wait.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let quick = Source {
        timeout: Duration::from_secs(1),
        ..source(&url)
    };
    let e = prometheus::read_url(&quick, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no answer within 1 s"), "{e}");
    drop(silent);
}
