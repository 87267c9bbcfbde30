//! Pods as `kubectl get pods -A -o json|yaml` prints them, for clusters without Kueue: the pods
//! of one owner become one gang job.
//!
//! - grouping: pods of a JobSet (its `jobset.sigs.k8s.io/jobset-name` label), else of their
//!   controlling owner (Job, PyTorchJob, RayCluster, ...); a pod without an owner is a job of
//!   its own. DaemonSet and node (static) pods are not jobs and are passed over;
//! - pods and requests: the group's pod count, each pod's requests (a group of different
//!   shapes asks, per pod, for the largest request of any of its pods; the report counts it);
//! - times: submitted at the first pod's creation, started when the last pod started
//!   (`status.startTime`: a gang runs when all its pods are placed), ended when the last
//!   container finished; a group with a pod still running or pending is reported as such;
//! - team: the namespace unless a mapping rule says otherwise; priority: the pod's priority
//!   class, else `spec.priority`; GPU model: a `nvidia.com/gpu.product` node selector; the
//!   rest of `spec.nodeSelector`: the job's node selector (that of its first pod).
//!
//! The grouping ([`jobs`]) is shared with the [`prometheus`](super::prometheus) importer, which
//! observes the same pods through kube-state-metrics: both build a [`Pod`] per pod.

use super::kube::{self, field_err};
use super::{End, Options, Record, Report};
use crate::error::TraceError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Whom a pod belongs to, as far as grouping goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A JobSet, by its pods' `jobset.sigs.k8s.io/jobset-name` label.
    JobSet(String),
    /// The controlling owner (else the first): kind and name.
    Controller(String, String),
    /// No owner: a job of its own.
    None,
}

impl Owner {
    /// The JobSet label wins over owner references (a JobSet's pods belong to its Jobs).
    pub(crate) fn new(jobset: Option<&str>, owner: Option<(&str, &str)>) -> Owner {
        match (jobset, owner) {
            (Some(js), _) => Owner::JobSet(js.to_string()),
            (None, Some((kind, name))) => Owner::Controller(kind.to_string(), name.to_string()),
            (None, None) => Owner::None,
        }
    }

    /// DaemonSet and node (static) pods are not jobs: counts one as passed over and says so.
    pub(crate) fn passed_over(&self, report: &mut Report) -> bool {
        match self {
            Owner::Controller(kind, _) if kind == "DaemonSet" => {
                report.ignore("pods of DaemonSets");
                true
            }
            Owner::Controller(kind, _) if kind == "Node" => {
                report.ignore("static pods of nodes");
                true
            }
            _ => false,
        }
    }
}

/// One pod as the pod importers (`kubernetes-pods`, `prometheus`) observe it: all that
/// grouping pods into jobs needs. Times in milliseconds since the Unix epoch.
pub(crate) struct Pod {
    /// `file: object`, for messages.
    pub origin: String,
    pub namespace: String,
    pub name: String,
    pub owner: Owner,
    pub created: i64,
    /// When the pod was placed and its kubelet took it (`status.startTime`).
    pub started: Option<i64>,
    /// When its last container finished.
    pub finished: Option<i64>,
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    pub phase: String,
    pub req: kube::Requests,
    /// GPU utilisation samples (instant, fraction of the GPU busy), of every GPU the pod held.
    pub util: Vec<(i64, f64)>,
    /// The rest of the job's record as this pod gives it (namespace, labels, annotations,
    /// priority, GPU model; origin and submission set).
    pub rec: Record,
}

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut pods = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        for (i, obj) in kube::objects(path)?.iter().enumerate() {
            match obj.get("kind").and_then(Value::as_str) {
                Some("Pod") => {}
                other => {
                    report.ignore(format!("objects of kind {}", other.unwrap_or("(none)")));
                    continue;
                }
            }
            pods.extend(pod(obj, i, &file, opts, report)?);
        }
    }
    Ok(jobs(pods, report))
}

/// The jobs of `pods`: the pods of one JobSet, else of one controlling owner, as one gang job
/// (a pod without an owner is a job of its own; DaemonSet and node pods are passed over).
pub(crate) fn jobs(pods: Vec<Pod>, report: &mut Report) -> Vec<Record> {
    let mut groups: BTreeMap<String, Vec<Pod>> = BTreeMap::new();
    for p in pods {
        if p.owner.passed_over(report) {
            continue;
        }
        let ns = &p.namespace;
        let key = match &p.owner {
            Owner::JobSet(js) => format!("{ns}/JobSet/{js}"),
            Owner::Controller(kind, owner) => format!("{ns}/{kind}/{owner}"),
            Owner::None => format!("{ns}/Pod/{}", p.name),
        };
        groups.entry(key).or_default().push(p);
    }
    let mut out = Vec::with_capacity(groups.len());
    for (key, pods) in groups {
        out.extend(group(key, pods, report));
    }
    out
}

fn pod(
    obj: &Value,
    index: usize,
    file: &str,
    opts: &Options,
    report: &mut Report,
) -> Result<Option<Pod>, TraceError> {
    let who = kube::who(obj, index);
    let at = |f: &str, m: String| field_err(file, &who, f, m);
    let name = kube::meta_str(obj, "name").ok_or_else(|| at("metadata.name", "missing".into()))?;
    let ns = kube::meta_str(obj, "namespace").unwrap_or("default");
    let labels = kube::meta_map(obj, "labels");
    let owner = obj
        .get("metadata")
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter()
                .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                .or_else(|| refs.first())
        })
        .and_then(|r| Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?)));
    let owner = Owner::new(
        labels.get("jobset.sigs.k8s.io/jobset-name").map(String::as_str),
        owner,
    );
    // Passed over before the rest is read: a pod that is not a job need not be readable.
    if owner.passed_over(report) {
        return Ok(None);
    }
    let created = kube::time_field(
        obj.get("metadata").and_then(|m| m.get("creationTimestamp")),
        file,
        &who,
        "metadata.creationTimestamp",
    )?
    .ok_or_else(|| at("metadata.creationTimestamp", "missing".into()))?;
    let spec = obj
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| at("spec", "missing".into()))?;
    let req = kube::pod_requests(spec, &opts.gpu_resources, &at, "spec")?;
    let status = obj.get("status");
    let phase = status
        .and_then(|s| s.get("phase"))
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_string();
    let started = kube::time_field(
        status.and_then(|s| s.get("startTime")),
        file,
        &who,
        "status.startTime",
    )?;
    // The last container to finish ends the pod.
    let mut finished: Option<i64> = None;
    for (i, cs) in status
        .and_then(|s| s.get("containerStatuses"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let t = kube::time_field(
            cs.get("state")
                .and_then(|s| s.get("terminated"))
                .and_then(|t| t.get("finishedAt")),
            file,
            &who,
            &format!("status.containerStatuses[{i}].state.terminated.finishedAt"),
        )?;
        finished = finished.max(t);
    }
    let mut rec = Record::new(format!("{file}: {who}"), String::new(), created);
    rec.namespace = Some(ns.to_string());
    rec.labels = labels;
    rec.annotations = kube::meta_map(obj, "annotations");
    rec.priority = spec
        .get("priorityClassName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            spec.get("priority")
                .and_then(Value::as_i64)
                .map(|p| p.to_string())
        });
    rec.node_selector = kube::node_selector(spec);
    rec.gpu_model = spec
        .get("nodeSelector")
        .and_then(|s| s.get("nvidia.com/gpu.product"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Some(Pod {
        origin: format!("{file}: {who}"),
        namespace: ns.to_string(),
        name: name.to_string(),
        owner,
        created,
        started,
        finished,
        phase,
        req,
        util: Vec::new(),
        rec,
    }))
}

fn group(key: String, mut pods: Vec<Pod>, report: &mut Report) -> Option<Record> {
    pods.sort_by_key(|p| p.created);
    let first = &pods[0];
    let mut r = first.rec.clone();
    r.origin = if pods.len() == 1 {
        first.origin.clone()
    } else {
        format!("{} (and {} more pod(s) of {key})", first.origin, pods.len() - 1)
    };
    // The group's name: namespace/owner, or namespace/pod for a pod on its own.
    let mut parts = key.splitn(3, '/');
    let (ns, name) = (parts.next().unwrap_or(""), parts.nth(1).unwrap_or(""));
    r.name = format!("{ns}/{name}");
    r.pods = u32::try_from(pods.len()).unwrap_or(u32::MAX);
    let mut shape = first.req.clone();
    let mut differ = false;
    for p in &pods[1..] {
        if p.req != shape {
            differ = true;
            shape.gpus = shape.gpus.max(p.req.gpus);
            shape.cpu_milli = shape.cpu_milli.max(p.req.cpu_milli);
            shape.mem_bytes = shape.mem_bytes.max(p.req.mem_bytes);
        }
    }
    if differ {
        report.default_("pods of one owner with different requests: every pod asks for the largest");
    }
    for k in shape.other.keys() {
        report.default_(format!("resource '{k}' requested but not modelled: ignored"));
    }
    let at = |f: &str, m: String| TraceError::file(&r.origin, format!("{f}: {m}"));
    match super::workloads::request(&shape, &at) {
        Ok(p) => r.pod = p,
        Err(e) => {
            report.skip(e.to_string(), &r.origin);
            return None;
        }
    }
    let running = pods
        .iter()
        .any(|p| matches!(p.phase.as_str(), "Running" | "Unknown"));
    let pending = pods.iter().any(|p| p.phase == "Pending");
    let all_started = pods.iter().all(|p| p.started.is_some());
    r.start_ms = if all_started {
        pods.iter().filter_map(|p| p.started).max()
    } else {
        None
    };
    r.end = if running || (pending && pods.iter().any(|p| p.started.is_some())) {
        End::StillRunning
    } else if pending {
        End::NeverStarted
    } else {
        match (r.start_ms, pods.iter().filter_map(|p| p.finished).max()) {
            (Some(_), Some(end)) => End::At(end),
            _ => End::LeftUnstarted,
        }
    };
    // Utilisation: the mean of the samples of the group's GPUs while the job ran.
    if let (Some(start), End::At(end)) = (r.start_ms, r.end) {
        let (sum, n) = pods
            .iter()
            .flat_map(|p| &p.util)
            .filter(|(t, u)| (start..=end).contains(t) && u.is_finite())
            .fold((0.0, 0u64), |(s, n), (_, u)| (s + u, n + 1));
        if n > 0 {
            r.gpu_util = Some((sum / n as f64) as f32);
        }
    }
    Some(r)
}
