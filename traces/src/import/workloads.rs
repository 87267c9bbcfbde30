//! Kueue Workloads as `kubectl get workloads -A -o json|yaml` prints them (v1beta1 and
//! v1beta2): one job per Workload.
//!
//! - pods and requests: the pod sets (count, and the requests of each pod template); pod sets
//!   of different shapes become one shape of their largest requests (fairway's job has one pod
//!   shape), which the report counts;
//! - queue: `namespace/queueName` (the LocalQueue, as the `kueue` policy resolves it); team: the
//!   namespace unless a mapping rule says otherwise; priority: the priority class, else
//!   `spec.priority`; node selector: the pod templates' `nodeSelector` labels (those every pod
//!   set asks for, counted where they differ), but for GPU-product labels;
//! - times: submitted at `metadata.creationTimestamp`, started at the `Admitted` condition (or
//!   `QuotaReserved` where Kueue admits without checks and wrote only that), ended at
//!   `Finished`; the flavor `status.admission` gave the GPUs is kept for mapping rules (a
//!   flavor is a quota's name, so a rule says which GPU model it stands for, if any).

use super::kube::{self, field_err};
use super::{End, Options, Record, Report};
use crate::error::TraceError;
use fairway_engine::{GPU_MILLI, PodRequest};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn records(paths: &[PathBuf], opts: &Options, report: &mut Report) -> Result<Vec<Record>, TraceError> {
    let mut out = Vec::new();
    for path in paths {
        let file = path.display().to_string();
        for (i, obj) in kube::objects(path)?.iter().enumerate() {
            if obj.get("kind").and_then(Value::as_str) != Some("Workload") {
                report.ignore(format!(
                    "objects of kind {}",
                    obj.get("kind").and_then(Value::as_str).unwrap_or("(none)")
                ));
                continue;
            }
            out.push(workload(obj, i, &file, opts, report)?);
        }
    }
    Ok(out)
}

fn workload(
    obj: &Value,
    index: usize,
    file: &str,
    opts: &Options,
    report: &mut Report,
) -> Result<Record, TraceError> {
    let who = kube::who(obj, index);
    let at = |f: &str, m: String| field_err(file, &who, f, m);
    let name = kube::meta_str(obj, "name").ok_or_else(|| at("metadata.name", "missing".into()))?;
    let namespace = kube::meta_str(obj, "namespace").map(str::to_string);
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
    let sets = spec
        .get("podSets")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| at("spec.podSets", "missing or empty".into()))?;
    let mut pods: u64 = 0;
    let mut shape: Option<kube::Requests> = None;
    let mut shapes_differ = false;
    let mut selector: Option<BTreeMap<String, String>> = None;
    for (i, ps) in sets.iter().enumerate() {
        let path = format!("spec.podSets[{i}]");
        let count = match ps.get("count") {
            None => 1,
            Some(c) => c.as_u64().filter(|&c| c <= u64::from(u32::MAX)).ok_or_else(|| {
                at(
                    &format!("{path}.count"),
                    format!("expected a whole number >= 0, found {c}"),
                )
            })?,
        };
        let pspec = ps
            .get("template")
            .and_then(|t| t.get("spec"))
            .and_then(Value::as_object)
            .ok_or_else(|| at(&format!("{path}.template.spec"), "missing".into()))?;
        let r = kube::pod_requests(pspec, &opts.gpu_resources, &at, &format!("{path}.template.spec"))?;
        if count == 0 {
            continue;
        }
        // One selector for the job: the labels every pod set asks for.
        let sel = kube::node_selector(pspec);
        match &mut selector {
            None => selector = Some(sel),
            Some(s) if *s == sel => {}
            Some(s) => {
                s.retain(|k, v| sel.get(k) == Some(v));
                report.default_(
                    "pod sets with different node selectors: the job asks for the labels they share",
                );
            }
        }
        pods += count;
        match &mut shape {
            None => shape = Some(r),
            Some(s) if *s == r => {}
            Some(s) => {
                shapes_differ = true;
                s.gpus = s.gpus.max(r.gpus);
                s.cpu_milli = s.cpu_milli.max(r.cpu_milli);
                s.mem_bytes = s.mem_bytes.max(r.mem_bytes);
            }
        }
    }
    let shape = shape.ok_or_else(|| at("spec.podSets", "every pod set has count 0".into()))?;
    if shapes_differ {
        report.default_("pod sets of different shapes: every pod asks for the largest request of any set");
    }
    let mut r = Record::new(
        format!("{file}: {who}"),
        match &namespace {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        },
        created,
    );
    r.pods = u32::try_from(pods).map_err(|_| at("spec.podSets", "more than 2^32 pods".into()))?;
    r.pod = request(&shape, &at)?;
    r.node_selector = selector.unwrap_or_default();
    for k in shape.other.keys() {
        report.default_(format!("resource '{k}' requested but not modelled: ignored"));
    }
    r.queue = spec
        .get("queueName")
        .and_then(Value::as_str)
        .filter(|q| !q.is_empty())
        .map(|q| match &namespace {
            Some(ns) => format!("{ns}/{q}"),
            None => q.to_string(),
        });
    r.priority = spec
        .get("priorityClassRef")
        .and_then(|p| p.get("name"))
        .or_else(|| spec.get("priorityClassName"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            spec.get("priority")
                .and_then(Value::as_i64)
                .map(|p| p.to_string())
        });
    r.namespace = namespace;
    r.labels = kube::meta_map(obj, "labels");
    r.annotations = kube::meta_map(obj, "annotations");
    if let Some(flavors) = obj
        .get("status")
        .and_then(|s| s.get("admission"))
        .and_then(|a| a.get("podSetAssignments"))
        .and_then(Value::as_array)
    {
        // The flavor that served the GPUs, for mapping rules (a rule may name its GPU model).
        let gpu_flavor = flavors.iter().find_map(|psa| {
            let f = psa.get("flavors")?.as_object()?;
            opts.gpu_resources.iter().find_map(|g| f.get(g)?.as_str())
        });
        r.flavor = gpu_flavor.map(str::to_string);
    }
    let conds = kube::conditions(obj);
    let when = |ty: &str| -> Result<Option<i64>, TraceError> {
        match conds.iter().find(|c| c.0 == ty && c.1 == "True") {
            None => Ok(None),
            Some(c) => match c.2 {
                None => Err(at(
                    &format!("status.conditions[{ty}].lastTransitionTime"),
                    "missing".into(),
                )),
                Some(t) => kube::timestamp(t).map(Some).ok_or_else(|| {
                    at(
                        &format!("status.conditions[{ty}].lastTransitionTime"),
                        format!("expected an RFC 3339 time, found '{t}'"),
                    )
                }),
            },
        }
    };
    let admitted = match when("Admitted")? {
        Some(t) => Some(t),
        None => when("QuotaReserved")?,
    };
    let finished = when("Finished")?;
    r.start_ms = admitted;
    r.end = match (admitted, finished) {
        (Some(_), Some(f)) => End::At(f),
        (Some(_), None) => End::StillRunning,
        (None, Some(_)) => End::LeftUnstarted,
        (None, None) => End::NeverStarted,
    };
    if admitted.is_some() && when("Evicted")?.is_some() && finished.is_none() {
        // Evicted and not admitted again: waiting, its run so far lost.
        r.start_ms = None;
        r.end = End::NeverStarted;
    }
    Ok(r)
}

/// One pod's request in fairway's units.
pub(crate) fn request(
    r: &kube::Requests,
    at: &dyn Fn(&str, String) -> TraceError,
) -> Result<PodRequest, TraceError> {
    let gpu_milli = u32::try_from(r.gpus.saturating_mul(i64::from(GPU_MILLI))).map_err(|_| {
        at(
            "requests",
            format!("{} GPUs in one pod is more than fairway holds", r.gpus),
        )
    })?;
    let pod = PodRequest {
        gpu_milli,
        cpu_milli: r.cpu_milli as u64,
        mem_mib: r.mem_mib(),
    };
    PodRequest::validate_gpu(gpu_milli).map_err(|e| at("requests", e.to_string()))?;
    Ok(pod)
}
