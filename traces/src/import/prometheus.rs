//! Pods as Prometheus saw them through kube-state-metrics (KSM), with DCGM's GPU utilisation:
//! the JSON that Prometheus's HTTP API (or Mimir's, or Thanos's) answers to
//! `/api/v1/query_range` (a `matrix`) or `/api/v1/query` (a `vector`), saved to files (one
//! query a file, or several metrics in one), or fetched from a URL ([`read_url`]: one range
//! query per series below). The pods become jobs exactly as
//! [`kubernetes-pods`](super::pods) makes them: both importers observe each pod the same way
//! and call the same grouping.
//!
//! Series are recognised by `__name__`, a pod by its `namespace`, `pod` and `uid` labels:
//! - times: `kube_pod_created` (submission), `kube_pod_start_time` (`status.startTime`) and
//!   `kube_pod_completion_time` (its last container's end), each the series' *value* (Unix
//!   seconds; the last sample's where a range holds several), not the instants of the samples;
//! - phase: `kube_pod_status_phase{phase}`, the phase whose series reads 1 at the pod's last
//!   sample. A Succeeded or Failed pod without `kube_pod_completion_time` (no container
//!   terminated, e.g. evicted, or the series dropped) ended, as far as KSM tells, at the first
//!   sample in that phase: there KSM offers only presence, so that end is only as fine as the
//!   query's step, and the report counts it;
//! - requests: `kube_pod_container_resource_requests{container, resource, unit}` summed over the
//!   containers, or the largest of `kube_pod_init_container_resource_requests` if larger (as the
//!   scheduler reckons; KSM does not tell sidecars apart, so they count as init containers):
//!   `cpu` in cores, `memory` in bytes, GPUs under the configured resource names as KSM
//!   sanitises them (`nvidia.com/gpu` is `nvidia_com_gpu`), other extended resources counted
//!   and ignored;
//! - grouping: `kube_pod_owner{owner_kind, owner_name, owner_is_controller}` (the controller,
//!   else the first; `<none>` is no owner) and the JobSet label
//!   `label_jobset_sigs_k8s_io_jobset_name` of `kube_pod_labels`;
//! - labels and annotations for mapping rules: `kube_pod_labels{label_*}` and
//!   `kube_pod_annotations{annotation_*}`, under KSM's sanitised names without the prefix
//!   (`app`, `app_kubernetes_io_name`). KSM exports only those its
//!   `--metric-labels-allowlist` / `--metric-annotations-allowlist` name;
//! - priority: `kube_pod_info{priority_class}`; GPU model: `kube_pod_nodeselectors` (opt-in in
//!   KSM) `nodeselector_nvidia_com_gpu_product`;
//! - utilisation: `DCGM_FI_DEV_GPU_UTIL` (percent) of the pod in `exported_pod` /
//!   `exported_namespace` (as a ServiceMonitor relabels dcgm-exporter's), else `pod` /
//!   `namespace`: the job's `gpu_util` is the mean of its GPUs' samples taken while it ran, /100
//!   (here the instants of the samples are the times).
//!
//! Left out, and counted: a pod without `kube_pod_created` (skipped: its submission is
//! unknown), series of other metrics, and GPUs with no pod. A pod whose last phase is Running is
//! still running (one deleted while running looks the same: KSM keeps no record of the
//! deletion). Pod overhead (`kube_pod_overhead_*`) is not read.

use super::kube::{self, field_err};
use super::pods::{self, Owner, Pod};
use super::{Imported, Options, Record, Report};
use crate::error::TraceError;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

/// The most bytes one answer may have, in a file or over HTTP (decoded): a week of a large
/// cluster's pod series at a one-minute step runs to tens of MiB.
pub const ANSWER_CAP: u64 = 512 << 20;

/// The series read, one range query each when fetched from a URL.
pub const SERIES: &[&str] = &[
    "kube_pod_created",
    "kube_pod_start_time",
    "kube_pod_completion_time",
    "kube_pod_status_phase",
    "kube_pod_container_resource_requests",
    "kube_pod_init_container_resource_requests",
    "kube_pod_owner",
    "kube_pod_labels",
    "kube_pod_annotations",
    "kube_pod_info",
    "kube_pod_nodeselectors",
    "DCGM_FI_DEV_GPU_UTIL",
];

/// The most points Prometheus answers per series of a range query.
const MAX_POINTS: i64 = 11_000;

/// The default step of a range query.
pub const DEFAULT_STEP: &str = "60s";

/// One series of an answer: its labels and samples (instant in ms, value).
struct Series {
    /// `name{label="value",...}`, for messages.
    who: String,
    name: String,
    labels: BTreeMap<String, String>,
    samples: Vec<(i64, f64)>,
}

impl Series {
    /// The sample of the latest instant.
    fn last(&self) -> Option<(i64, f64)> {
        self.samples.iter().copied().max_by_key(|s| s.0)
    }

    fn label(&self, k: &str) -> Option<&str> {
        self.labels.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Reads the `prometheus` format's files.
pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut seen = Seen::new(opts);
    for path in paths {
        let file = path.display().to_string();
        let text = fairway_engine::input::read_text(path, ANSWER_CAP).map_err(|source| TraceError::Io {
            file: file.clone(),
            source,
        })?;
        for s in parse(&text, &file)? {
            seen.add(s, &file, report)?;
        }
    }
    Ok(seen.finish(report))
}

/// Seconds since the Unix epoch as milliseconds, if a time fairway can hold.
fn seconds_ms(s: f64) -> Option<i64> {
    // About 285,000 years either way: far inside i64 milliseconds.
    (s.is_finite() && s.abs() < 9.0e12).then(|| (s * 1000.0).round() as i64)
}

/// A value as Prometheus writes it: a float in text, or `NaN`, `+Inf`, `-Inf`.
fn number(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok().filter(|v: &f64| v.is_finite()),
    }
}

/// A number for a message (a huge one in exponent form).
fn show(v: f64) -> String {
    if v.abs() < 1e15 {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// A JSON value, shortened for a message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// `name{a="1",b="2"}`, as PromQL writes a series.
fn selector(name: &str, labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

/// The `error` and `errorType` of an answer of status error.
fn error_text(v: &Value) -> String {
    let kind = v.get("errorType").and_then(Value::as_str);
    let msg = v.get("error").and_then(Value::as_str).unwrap_or("(no message)");
    match kind {
        Some(k) => format!("{k}: {msg}"),
        None => msg.to_string(),
    }
}

/// The series of one answer of the HTTP API.
fn parse(text: &str, file: &str) -> Result<Vec<Series>, TraceError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| TraceError::file(file, format!("invalid JSON: {e}")))?;
    let whole = |f: &str, m: String| field_err(file, "the answer", f, m);
    match v.get("status").and_then(Value::as_str) {
        Some("success") => {}
        Some("error") => {
            return Err(TraceError::file(
                file,
                format!("Prometheus answered status error: {}", error_text(&v)),
            ));
        }
        Some(other) => {
            return Err(whole(
                "status",
                format!("expected 'success' or 'error', found '{other}'"),
            ));
        }
        None => {
            return Err(whole(
                "status",
                "missing: not an answer of Prometheus's HTTP API (/api/v1/query_range)".into(),
            ));
        }
    }
    let data = v.get("data").ok_or_else(|| whole("data", "missing".into()))?;
    let kind = data
        .get("resultType")
        .and_then(Value::as_str)
        .ok_or_else(|| whole("data.resultType", "missing".into()))?;
    let key = match kind {
        "matrix" => "values",
        "vector" => "value",
        other => {
            return Err(whole(
                "data.resultType",
                format!("'{other}': give a query that selects series (a matrix or a vector)"),
            ));
        }
    };
    let result = data
        .get("result")
        .and_then(Value::as_array)
        .ok_or_else(|| whole("data.result", "missing or not a list".into()))?;
    let mut out = Vec::with_capacity(result.len());
    for (i, s) in result.iter().enumerate() {
        let metric = s
            .get("metric")
            .and_then(Value::as_object)
            .ok_or_else(|| whole(&format!("data.result[{i}].metric"), "missing".into()))?;
        let mut labels = BTreeMap::new();
        for (k, v) in metric {
            let text = v.as_str().ok_or_else(|| {
                whole(
                    &format!("data.result[{i}].metric.{k}"),
                    format!("expected text, found {}", short(v)),
                )
            })?;
            labels.insert(k.clone(), text.to_string());
        }
        let name = labels.remove("__name__").unwrap_or_default();
        let who = selector(&name, &labels);
        let at = |f: &str, m: String| field_err(file, &who, f, m);
        let points: Vec<(String, &Value)> = match (kind, s.get(key)) {
            ("matrix", Some(Value::Array(a))) => a
                .iter()
                .enumerate()
                .map(|(j, p)| (format!("values[{j}]"), p))
                .collect(),
            ("vector", Some(p @ Value::Array(_))) => vec![("value".to_string(), p)],
            (_, Some(other)) => {
                return Err(at(key, format!("expected a list, found {}", short(other))));
            }
            (_, None) => return Err(at(key, "missing".into())),
        };
        let mut samples = Vec::with_capacity(points.len());
        for (f, p) in points {
            samples.push(sample(p).map_err(|m| at(&f, m))?);
        }
        out.push(Series {
            who,
            name,
            labels,
            samples,
        });
    }
    Ok(out)
}

/// `[<unix seconds>, "<value>"]`.
fn sample(p: &Value) -> Result<(i64, f64), String> {
    let pair = p
        .as_array()
        .filter(|a| a.len() == 2)
        .ok_or_else(|| format!("expected [time, \"value\"], found {}", short(p)))?;
    let t = pair[0]
        .as_f64()
        .and_then(seconds_ms)
        .ok_or_else(|| format!("expected a time in Unix seconds, found {}", short(&pair[0])))?;
    let text = pair[1]
        .as_str()
        .ok_or_else(|| format!("expected a value as text, found {}", short(&pair[1])))?;
    let v = number(text).ok_or_else(|| format!("expected a number, found '{text}'"))?;
    Ok((t, v))
}

/// KSM's sanitising of a name into a label name or value: every character but ASCII letters,
/// digits and `_` becomes `_` (`nvidia.com/gpu` is `nvidia_com_gpu`).
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A value with the instant it was last seen: a later sample replaces an earlier one.
#[derive(Clone, Debug)]
struct Latest<T> {
    at: i64,
    value: T,
}

fn keep_latest<T>(slot: &mut Option<Latest<T>>, at: i64, value: T) {
    if slot.as_ref().is_none_or(|l| at >= l.at) {
        *slot = Some(Latest { at, value });
    }
}

/// [`keep_latest`] for an entry of a map.
fn keep_latest_in<K: Ord, T>(map: &mut BTreeMap<K, Latest<T>>, key: K, at: i64, value: T) {
    match map.entry(key) {
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(Latest { at, value });
        }
        std::collections::btree_map::Entry::Occupied(mut e) if at >= e.get().at => {
            e.insert(Latest { at, value });
        }
        std::collections::btree_map::Entry::Occupied(_) => {}
    }
}

/// Per (container, resource), the amount requested in fairway's units (milli-cores, bytes,
/// devices).
type Amounts = BTreeMap<(String, String), Latest<i64>>;

/// What the series told of one pod.
#[derive(Default)]
struct PodState {
    /// The file of its creation series, else of the first series that named it.
    file: Option<String>,
    created_file: Option<String>,
    created: Option<Latest<i64>>,
    started: Option<Latest<i64>>,
    completed: Option<Latest<i64>>,
    /// Per phase, the last sample of its series.
    phases: BTreeMap<String, (i64, f64)>,
    /// The first instant a Succeeded or Failed series read 1.
    terminal_from: Option<i64>,
    containers: Amounts,
    init: Amounts,
    /// (not the controller, kind, name): the controller sorts first.
    owners: BTreeSet<(bool, String, String)>,
    labels: Option<Latest<BTreeMap<String, String>>>,
    annotations: Option<Latest<BTreeMap<String, String>>>,
    priority_class: Option<Latest<String>>,
    gpu_model: Option<Latest<String>>,
}

impl PodState {
    /// Takes in what `o` knows that `self` does not (series of a pod without its `uid` label).
    fn merge(&mut self, o: PodState) {
        fn latest<T>(a: &mut Option<Latest<T>>, b: Option<Latest<T>>) {
            if let Some(b) = b {
                keep_latest(a, b.at, b.value);
            }
        }
        if self.file.is_none() {
            self.file = o.file;
        }
        if self.created_file.is_none() {
            self.created_file = o.created_file;
        }
        latest(&mut self.created, o.created);
        latest(&mut self.started, o.started);
        latest(&mut self.completed, o.completed);
        for (p, s) in o.phases {
            let e = self.phases.entry(p).or_insert(s);
            if s.0 > e.0 {
                *e = s;
            }
        }
        self.terminal_from = match (self.terminal_from, o.terminal_from) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (k, v) in o.containers {
            keep_latest_in(&mut self.containers, k, v.at, v.value);
        }
        for (k, v) in o.init {
            keep_latest_in(&mut self.init, k, v.at, v.value);
        }
        self.owners.extend(o.owners);
        latest(&mut self.labels, o.labels);
        latest(&mut self.annotations, o.annotations);
        latest(&mut self.priority_class, o.priority_class);
        latest(&mut self.gpu_model, o.gpu_model);
    }
}

/// (namespace, pod, uid)
type PodKey = (String, String, String);

/// Everything read so far, from one or several answers.
struct Seen {
    /// The GPU resource names as KSM writes them.
    gpu_names: Vec<String>,
    pods: BTreeMap<PodKey, PodState>,
    /// Per (namespace, pod), the utilisation samples of its GPUs (instant, fraction).
    util: BTreeMap<(String, String), Vec<(i64, f64)>>,
}

impl Seen {
    fn new(opts: &Options) -> Self {
        Seen {
            gpu_names: opts.gpu_resources.iter().map(|g| sanitize(g)).collect(),
            pods: BTreeMap::new(),
            util: BTreeMap::new(),
        }
    }

    fn add(&mut self, s: Series, file: &str, report: &mut Report) -> Result<(), TraceError> {
        let at = |f: &str, m: String| field_err(file, &s.who, f, m);
        if s.name == "DCGM_FI_DEV_GPU_UTIL" {
            let (ns, pod) = match (s.label("exported_pod"), s.label("pod")) {
                (Some(p), _) => (s.label("exported_namespace"), p),
                (None, Some(p)) => (s.label("namespace"), p),
                (None, None) => {
                    report.ignore("DCGM_FI_DEV_GPU_UTIL series of GPUs with no pod");
                    return Ok(());
                }
            };
            let ns = ns.unwrap_or("default").to_string();
            let samples = self.util.entry((ns, pod.to_string())).or_default();
            samples.extend(s.samples.iter().map(|&(t, v)| (t, v / 100.0)));
            return Ok(());
        }
        if !SERIES.contains(&s.name.as_str()) {
            if s.name.is_empty() {
                report.ignore("series without a __name__ label (a query that computes drops it)");
            } else {
                report.ignore(format!("series of {} (not read by this importer)", s.name));
            }
            return Ok(());
        }
        let ns = s.label("namespace").ok_or_else(|| {
            at(
                "metric.namespace",
                "missing: a kube-state-metrics pod series names its namespace".into(),
            )
        })?;
        let name = s.label("pod").ok_or_else(|| {
            at(
                "metric.pod",
                "missing: a kube-state-metrics pod series names its pod".into(),
            )
        })?;
        let uid = s.label("uid").unwrap_or("");
        let Some((t, v)) = s.last() else {
            // A series without samples says nothing.
            return Ok(());
        };
        let p = self
            .pods
            .entry((ns.to_string(), name.to_string(), uid.to_string()))
            .or_default();
        if p.file.is_none() {
            p.file = Some(file.to_string());
        }
        let time = || {
            seconds_ms(v).ok_or_else(|| {
                at(
                    "value",
                    format!("expected a time in Unix seconds, found {}", show(v)),
                )
            })
        };
        let prefixed = |prefix: &str| -> BTreeMap<String, String> {
            s.labels
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone())))
                .collect()
        };
        match s.name.as_str() {
            "kube_pod_created" => {
                keep_latest(&mut p.created, t, time()?);
                if p.created_file.is_none() {
                    p.created_file = Some(file.to_string());
                }
            }
            "kube_pod_start_time" => keep_latest(&mut p.started, t, time()?),
            "kube_pod_completion_time" => keep_latest(&mut p.completed, t, time()?),
            "kube_pod_status_phase" => {
                let phase = s
                    .label("phase")
                    .ok_or_else(|| at("metric.phase", "missing".into()))?;
                let e = p.phases.entry(phase.to_string()).or_insert((t, v));
                if t >= e.0 {
                    *e = (t, v);
                }
                if matches!(phase, "Succeeded" | "Failed")
                    && let Some(first) = s.samples.iter().filter(|x| x.1 == 1.0).map(|x| x.0).min()
                {
                    p.terminal_from = Some(p.terminal_from.map_or(first, |f| f.min(first)));
                }
            }
            "kube_pod_container_resource_requests" | "kube_pod_init_container_resource_requests" => {
                let container = s.label("container").unwrap_or("").to_string();
                let resource = s
                    .label("resource")
                    .ok_or_else(|| at("metric.resource", "missing".into()))?
                    .to_string();
                // Cores to milli-cores; bytes and counts as they are.
                let scale = if resource == "cpu" { 1000.0 } else { 1.0 };
                let amount = v * scale;
                if !(0.0..9.0e18).contains(&amount) {
                    return Err(at("value", format!("expected a request >= 0, found {}", show(v))));
                }
                let map = if s.name == "kube_pod_container_resource_requests" {
                    &mut p.containers
                } else {
                    &mut p.init
                };
                keep_latest_in(map, (container, resource), t, amount.round() as i64);
            }
            "kube_pod_owner" => match (s.label("owner_kind"), s.label("owner_name")) {
                (Some("<none>"), _) | (None, _) | (_, None) => {}
                (Some(kind), Some(owner)) => {
                    let controller = s.label("owner_is_controller") == Some("true");
                    p.owners
                        .insert((!controller, kind.to_string(), owner.to_string()));
                }
            },
            "kube_pod_labels" => keep_latest(&mut p.labels, t, prefixed("label_")),
            "kube_pod_annotations" => keep_latest(&mut p.annotations, t, prefixed("annotation_")),
            "kube_pod_info" => {
                if let Some(pc) = s.label("priority_class") {
                    keep_latest(&mut p.priority_class, t, pc.to_string());
                }
            }
            "kube_pod_nodeselectors" => {
                if let Some(m) = s.label("nodeselector_nvidia_com_gpu_product") {
                    keep_latest(&mut p.gpu_model, t, m.to_string());
                }
            }
            // DCGM's series was taken above.
            _ => {}
        }
        Ok(())
    }

    /// The jobs of the pods seen.
    fn finish(mut self, report: &mut Report) -> Vec<Record> {
        // Series without a uid label belong to the pod of that name if only one uid is known.
        let bare: Vec<PodKey> = self.pods.keys().filter(|k| k.2.is_empty()).cloned().collect();
        for k in bare {
            let uids: Vec<PodKey> = self
                .pods
                .range((k.0.clone(), k.1.clone(), String::new())..)
                .take_while(|(o, _)| o.0 == k.0 && o.1 == k.1)
                .filter(|(o, _)| !o.2.is_empty())
                .map(|(o, _)| o.clone())
                .take(2)
                .collect();
            if let [only] = uids.as_slice()
                && let Some(state) = self.pods.remove(&k)
                && let Some(p) = self.pods.get_mut(only)
            {
                p.merge(state);
            }
        }
        let mut names: BTreeMap<(String, String), u32> = BTreeMap::new();
        for k in self.pods.keys() {
            *names.entry((k.0.clone(), k.1.clone())).or_default() += 1;
        }
        let mut out = Vec::with_capacity(self.pods.len());
        for ((ns, name, uid), st) in std::mem::take(&mut self.pods) {
            let file = st.created_file.as_deref().or(st.file.as_deref()).unwrap_or("");
            let origin = if names.get(&(ns.clone(), name.clone())).copied().unwrap_or(0) > 1 {
                format!("{file}: pod {ns}/{name} (uid {uid})")
            } else {
                format!("{file}: pod {ns}/{name}")
            };
            if let Some(p) = self.pod(ns, name, origin, st, report) {
                out.push(p);
            }
        }
        pods::jobs(out, report)
    }

    fn pod(
        &mut self,
        ns: String,
        name: String,
        origin: String,
        st: PodState,
        report: &mut Report,
    ) -> Option<Pod> {
        let labels = st.labels.map(|l| l.value).unwrap_or_default();
        let owner = st
            .owners
            .iter()
            .next()
            .map(|(_, kind, owner)| (kind.as_str(), owner.as_str()));
        let owner = Owner::new(
            labels.get("jobset_sigs_k8s_io_jobset_name").map(String::as_str),
            owner,
        );
        if owner.passed_over(report) {
            return None;
        }
        let Some(created) = st.created.map(|c| c.value) else {
            // Counted as read: a pod left out before grouping.
            report.read += 1;
            report.skip(
                "no kube_pod_created series (its creation, so its submission, is unknown)",
                &origin,
            );
            return None;
        };
        let started = st.started.map(|s| s.value);
        let phase = st
            .phases
            .iter()
            .filter(|(_, s)| s.1 == 1.0)
            .max_by_key(|(_, s)| s.0)
            .map(|(p, _)| p.clone());
        let mut finished = st.completed.map(|c| c.value);
        let phase = match phase {
            Some(p) => p,
            None => {
                report
                    .default_("phase: no kube_pod_status_phase series reads 1, so read from the pod's times");
                match (started, finished) {
                    (_, Some(_)) => "Succeeded",
                    (Some(_), None) => "Running",
                    (None, None) => "Pending",
                }
                .to_string()
            }
        };
        if finished.is_none() && matches!(phase.as_str(), "Succeeded" | "Failed") && started.is_some() {
            finished = st.terminal_from;
            if finished.is_some() {
                report.default_(
                    "end: no kube_pod_completion_time, so the first sample in phase Succeeded or Failed (as fine as the query's step)",
                );
            }
        }
        let req = self.requests(&st.containers, &st.init);
        let mut rec = Record::new(origin.clone(), String::new(), created);
        rec.namespace = Some(ns.clone());
        rec.labels = labels;
        rec.annotations = st.annotations.map(|a| a.value).unwrap_or_default();
        rec.priority = st.priority_class.map(|p| p.value);
        rec.gpu_model = st.gpu_model.map(|m| m.value);
        let util = self
            .util
            .get(&(ns.clone(), name.clone()))
            .cloned()
            .unwrap_or_default();
        Some(Pod {
            origin,
            namespace: ns,
            name,
            owner,
            created,
            started,
            finished,
            phase,
            req,
            util,
            rec,
        })
    }

    /// The scheduler's requests: the containers' sum, or the largest init container if larger.
    fn requests(&self, containers: &Amounts, init: &Amounts) -> kube::Requests {
        let mut sum = kube::Requests::default();
        for r in self.per_container(containers).values() {
            sum.add(r);
        }
        let mut peak = kube::Requests::default();
        for r in self.per_container(init).values() {
            peak.max(r);
        }
        sum.max(&peak);
        sum
    }

    /// Each container's requests, in fairway's resources.
    fn per_container<'m>(&self, m: &'m Amounts) -> BTreeMap<&'m str, kube::Requests> {
        let mut by: BTreeMap<&str, kube::Requests> = BTreeMap::new();
        for ((c, resource), amount) in m {
            let r = by.entry(c.as_str()).or_default();
            let v = amount.value;
            if self.gpu_names.iter().any(|g| g == resource) {
                r.gpus = r.gpus.saturating_add(v);
            } else {
                match resource.as_str() {
                    "cpu" => r.cpu_milli = v,
                    "memory" => r.mem_bytes = v,
                    // Not a capacity a node hands out per pod.
                    "pods" | "ephemeral_storage" | "storage" => {}
                    n if n.starts_with("hugepages_") || n.starts_with("attachable_volumes_") => {}
                    _ => {
                        r.other.insert(resource.clone(), v);
                    }
                }
            }
        }
        by
    }
}

/// A Prometheus to query: its base URL (`http://host:9090`, or a path prefix for Mimir or
/// Thanos), and the range and step of the queries.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub url: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub step_ms: i64,
    /// The longest one query may take, connection included.
    pub timeout: Duration,
    /// The most bytes one answer may have.
    pub max_bytes: u64,
}

/// A setting of a [`Source`] that cannot be used: which (`url`, `start`, `end`, `step`) and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct SourceError {
    pub key: &'static str,
    pub message: String,
}

/// A duration as Prometheus writes one (`60s`, `5m`, `1h30m`, `1d`, `500ms`), or a number of
/// seconds, as milliseconds.
pub fn duration_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(s) = t.parse::<f64>() {
        return seconds_ms(s).filter(|&ms| ms > 0);
    }
    let mut total: i64 = 0;
    let mut rest = t;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit: i64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    (total > 0).then_some(total)
}

impl Source {
    /// Checks and reads the settings: an `http://` or `https://` URL, RFC 3339 times with
    /// `end` after `start`, and a step that keeps a series within Prometheus's 11,000 points.
    pub fn new(url: &str, start: &str, end: &str, step: Option<&str>) -> Result<Source, SourceError> {
        let err = |key: &'static str, message: String| SourceError { key, message };
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#', ' ']) {
            return Err(err(
                "url",
                format!("expected Prometheus's base URL, http://HOST:9090 or https://..., found '{url}'"),
            ));
        }
        let time = |key: &'static str, t: &str| {
            kube::timestamp(t).ok_or_else(|| {
                err(
                    key,
                    format!("expected an RFC 3339 time such as 2026-05-10T00:00:00Z, found '{t}'"),
                )
            })
        };
        let start_ms = time("start", start)?;
        let end_ms = time("end", end)?;
        if end_ms <= start_ms {
            return Err(err("end", format!("'{end}' is not after start '{start}'")));
        }
        let step_text = step.unwrap_or(DEFAULT_STEP);
        let step_ms = duration_ms(step_text).ok_or_else(|| {
            err(
                "step",
                format!("expected a duration such as 60s, 5m or 1h, found '{step_text}'"),
            )
        })?;
        let points = (end_ms - start_ms) / step_ms + 1;
        if points > MAX_POINTS {
            return Err(err(
                "step",
                format!(
                    "{step_text} over {} s is {points} points a series, more than the {MAX_POINTS} Prometheus answers: give a larger step or a shorter range",
                    (end_ms - start_ms) / 1000
                ),
            ));
        }
        Ok(Source {
            url: url.to_string(),
            start_ms,
            end_ms,
            step_ms,
            timeout: Duration::from_secs(300),
            max_bytes: ANSWER_CAP,
        })
    }
}

/// Milliseconds as Unix seconds in text, as the API takes them.
fn unix(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let a = ms.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// Queries a Prometheus (one range query per series read) and imports the answers as the
/// files would be.
pub fn read_url(src: &Source, opts: &Options) -> Result<Imported, TraceError> {
    let mut report = Report {
        format: super::ImportFormat::Prometheus.name().to_string(),
        files: vec![src.url.clone()],
        wall_clock: true,
        ..Report::default()
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(src.timeout.min(Duration::from_secs(10))))
        .timeout_global(Some(src.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut seen = Seen::new(opts);
    for q in SERIES {
        let origin = format!("{}/api/v1/query_range?query={q}", src.url);
        let text = query(&agent, src, q, &origin)?;
        for s in parse(&text, &origin)? {
            seen.add(s, &origin, &mut report)?;
        }
    }
    let records = seen.finish(&mut report);
    super::build(records, opts, report)
}

/// One range query's answer, as text. Errors name the URL and query.
fn query(agent: &ureq::Agent, src: &Source, q: &str, origin: &str) -> Result<String, TraceError> {
    let fail = |m: String| TraceError::file(origin, m);
    let mut resp = agent
        .get(format!("{}/api/v1/query_range", src.url))
        .query("query", q)
        .query("start", unix(src.start_ms))
        .query("end", unix(src.end_ms))
        .query("step", unix(src.step_ms))
        .call()
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => fail(format!(
                "no answer within {} s: is Prometheus at {}? (or give a shorter range)",
                src.timeout.as_secs(),
                src.url
            )),
            e => fail(format!("cannot query Prometheus at {}: {e}", src.url)),
        })?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(src.max_bytes)
        .lossy_utf8(true)
        .read_to_string()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => fail(format!(
                "the answer is larger than {}, the most fairway reads: give a larger step or a shorter range",
                if src.max_bytes >= 1 << 20 {
                    format!("{} MiB", src.max_bytes >> 20)
                } else {
                    format!("{} bytes", src.max_bytes)
                }
            )),
            e => fail(format!("cannot read the answer of {}: {e}", src.url)),
        })?;
    if status != 200 {
        // Prometheus explains a refused query in a JSON body of status error.
        let why = match serde_json::from_str::<Value>(&body) {
            Ok(v) if v.get("status").and_then(Value::as_str) == Some("error") => error_text(&v),
            _ => {
                let text: String = body.trim().chars().take(200).collect();
                if text.is_empty() {
                    "(no body)".to_string()
                } else {
                    text
                }
            }
        };
        return Err(fail(format!("Prometheus answered HTTP {status}: {why}")));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names() {
        assert_eq!(duration_ms("60s"), Some(60_000));
        assert_eq!(duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("90"), Some(90_000));
        assert_eq!(duration_ms("0s"), None);
        assert_eq!(duration_ms("5x"), None);
        assert_eq!(duration_ms("m"), None);
        assert_eq!(duration_ms(""), None);
        assert_eq!(duration_ms("99999999999999999999s"), None);
        assert_eq!(sanitize("nvidia.com/gpu"), "nvidia_com_gpu");
        assert_eq!(sanitize("gpu.intel.com/i915"), "gpu_intel_com_i915");
        assert_eq!(unix(1_500), "1.500");
        assert_eq!(unix(-1_500), "-1.500");
    }

    #[test]
    fn a_source_is_checked() {
        let s = Source::new(
            "http://h:9090/",
            "2026-05-10T00:00:00Z",
            "2026-05-10T01:00:00Z",
            None,
        )
        .unwrap();
        assert_eq!(
            (s.url.as_str(), s.end_ms - s.start_ms, s.step_ms),
            ("http://h:9090", 3_600_000, 60_000)
        );
        let e = |u: &str, a: &str, b: &str, st: Option<&str>| Source::new(u, a, b, st).unwrap_err().key;
        assert_eq!(
            e("h:9090", "2026-05-10T00:00:00Z", "2026-05-11T00:00:00Z", None),
            "url"
        );
        assert_eq!(e("http://h", "yesterday", "2026-05-11T00:00:00Z", None), "start");
        assert_eq!(
            e("http://h", "2026-05-11T00:00:00Z", "2026-05-10T00:00:00Z", None),
            "end"
        );
        assert_eq!(
            e(
                "http://h",
                "2026-05-10T00:00:00Z",
                "2026-05-11T00:00:00Z",
                Some("fast")
            ),
            "step"
        );
        // 30 days at 60 s is 43,201 points a series.
        let e = Source::new("http://h", "2026-05-01T00:00:00Z", "2026-05-31T00:00:00Z", None).unwrap_err();
        assert!(e.message.contains("43201 points"), "{e}");
    }
}
