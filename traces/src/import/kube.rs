//! Kubernetes objects as `kubectl get -o json|yaml` prints them: reading the files, RFC 3339
//! times, labels, and the resource requests of a pod spec.

use crate::error::TraceError;
use fairway_policies::kueue::quantity;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The most bytes one object file may have: a `kubectl get pods -A -o json` of a large cluster
/// runs to hundreds of MiB; this is far beyond, and still fits in memory once parsed.
pub const FILE_CAP: u64 = 2 << 30;

/// Every object in the file (a single object, YAML documents, or `List`s), in order.
pub fn objects(path: &Path) -> Result<Vec<Value>, TraceError> {
    let file = path.display().to_string();
    let text = fairway_engine::input::read_text(path, FILE_CAP).map_err(|source| TraceError::Io {
        file: file.clone(),
        source,
    })?;
    fairway_policies::kueue::manifest::objects(&text, &file).map_err(|e| TraceError::file(&e.file, e.message))
}

/// An object's identity for messages: `kind namespace/name` (or `kind name`, or its index).
pub fn who(obj: &Value, index: usize) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("object");
    let meta = obj.get("metadata");
    let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
    let ns = meta.and_then(|m| m.get("namespace")).and_then(Value::as_str);
    match (ns, name) {
        (Some(ns), Some(n)) => format!("{kind} {ns}/{n}"),
        (None, Some(n)) => format!("{kind} {n}"),
        _ => format!("{kind} #{}", index + 1),
    }
}

/// An error about one field of one object.
pub fn field_err(file: &str, object: &str, field: &str, message: impl std::fmt::Display) -> TraceError {
    TraceError::Object {
        file: file.to_string(),
        object: object.to_string(),
        field: field.to_string(),
        message: message.to_string(),
    }
}

/// `metadata.<key>` as text.
pub fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(key)?.as_str()
}

/// `metadata.labels` or `metadata.annotations` as a map (non-text values are skipped).
pub fn meta_map(obj: &Value, key: &str) -> BTreeMap<String, String> {
    obj.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Labels that say which GPU a node has, in the order they are looked for.
pub const GPU_PRODUCT_LABELS: &[&str] = &[
    "nvidia.com/gpu.product",
    "amd.com/gpu.product",
    "cloud.google.com/gke-accelerator",
];

/// A pod spec's `nodeSelector`, but for the GPU-product labels (read as the job's GPU model,
/// which every pool carries as `gpu_model`).
pub fn node_selector(pod_spec: &Map<String, Value>) -> BTreeMap<String, String> {
    (pod_spec.get("nodeSelector").and_then(Value::as_object))
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !GPU_PRODUCT_LABELS.contains(&k.as_str()))
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// An RFC 3339 time (`2026-03-01T12:00:00Z`, with a fraction or an offset) as milliseconds
/// since the Unix epoch.
pub fn timestamp(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Milliseconds since the Unix epoch as RFC 3339 (UTC, to the second unless a fraction is set).
pub fn rfc3339(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) if ms % 1000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => format!("{ms} ms"),
    }
}

/// A required RFC 3339 field of an object.
pub fn time_field(
    v: Option<&Value>,
    file: &str,
    object: &str,
    field: &str,
) -> Result<Option<i64>, TraceError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => timestamp(s).map(Some).ok_or_else(|| {
            field_err(
                file,
                object,
                field,
                format!("expected an RFC 3339 time, found '{s}'"),
            )
        }),
        Some(other) => Err(field_err(
            file,
            object,
            field,
            format!("expected an RFC 3339 time, found {other}"),
        )),
    }
}

/// What one pod asks for, in fairway's units, and what else it requests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    pub gpus: i64,
    pub cpu_milli: i64,
    pub mem_bytes: i64,
    /// Other requested resources (extended resources such as RDMA devices), by name.
    pub other: BTreeMap<String, i64>,
}

impl Requests {
    pub(crate) fn add(&mut self, o: &Requests) {
        self.gpus = self.gpus.saturating_add(o.gpus);
        self.cpu_milli = self.cpu_milli.saturating_add(o.cpu_milli);
        self.mem_bytes = self.mem_bytes.saturating_add(o.mem_bytes);
        for (k, v) in &o.other {
            let e = self.other.entry(k.clone()).or_default();
            *e = e.saturating_add(*v);
        }
    }

    pub(crate) fn max(&mut self, o: &Requests) {
        self.gpus = self.gpus.max(o.gpus);
        self.cpu_milli = self.cpu_milli.max(o.cpu_milli);
        self.mem_bytes = self.mem_bytes.max(o.mem_bytes);
        for (k, v) in &o.other {
            let e = self.other.entry(k.clone()).or_default();
            *e = (*e).max(*v);
        }
    }

    /// Memory in MiB, rounded up.
    pub fn mem_mib(&self) -> u64 {
        (self.mem_bytes as u64).div_ceil(1 << 20)
    }
}

/// The requests of a list of resources (`resources.requests` of a container, or `overhead`).
fn resource_list(
    v: Option<&Value>,
    gpu_names: &[String],
    at: &dyn Fn(&str, String) -> TraceError,
    path: &str,
) -> Result<Requests, TraceError> {
    let mut r = Requests::default();
    let Some(map) = v.and_then(Value::as_object) else {
        return Ok(r);
    };
    for (name, q) in map {
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                return Err(at(
                    &format!("{path}.{name}"),
                    format!("expected a quantity, found {other}"),
                ));
            }
        };
        let value = quantity::parse(name, &text).map_err(|e| at(&format!("{path}.{name}"), e.to_string()))?;
        if gpu_names.iter().any(|g| g == name) {
            r.gpus = r.gpus.saturating_add(value);
        } else {
            match name.as_str() {
                "cpu" => r.cpu_milli = value,
                "memory" => r.mem_bytes = value,
                // Not a capacity a node hands out per pod.
                "pods" | "ephemeral-storage" => {}
                n if n.starts_with("hugepages-") => {}
                _ => {
                    r.other.insert(name.clone(), value);
                }
            }
        }
    }
    Ok(r)
}

/// The effective requests of a pod spec as the scheduler computes them: the larger of the
/// containers' sum (with sidecars, init containers that keep running) and each other init
/// container, plus the pod's overhead. Limits stand in for requests a container leaves out.
pub fn pod_requests(
    spec: &Map<String, Value>,
    gpu_names: &[String],
    at: &dyn Fn(&str, String) -> TraceError,
    prefix: &str,
) -> Result<Requests, TraceError> {
    let container = |c: &Value, path: &str| -> Result<Requests, TraceError> {
        let res = c.get("resources");
        let req = res.and_then(|r| r.get("requests"));
        let lim = res.and_then(|r| r.get("limits"));
        let mut r = resource_list(lim, gpu_names, at, &format!("{path}.resources.limits"))?;
        let explicit = resource_list(req, gpu_names, at, &format!("{path}.resources.requests"))?;
        // Requests win where given; a limit alone sets the request (Kubernetes' defaulting).
        if let Some(m) = req.and_then(Value::as_object) {
            for (k, _) in m {
                if gpu_names.iter().any(|g| g == k) {
                    r.gpus = explicit.gpus;
                } else {
                    match k.as_str() {
                        "cpu" => r.cpu_milli = explicit.cpu_milli,
                        "memory" => r.mem_bytes = explicit.mem_bytes,
                        other => {
                            if let Some(v) = explicit.other.get(other) {
                                r.other.insert(other.to_string(), *v);
                            }
                        }
                    }
                }
            }
        }
        Ok(r)
    };
    let mut sum = Requests::default();
    for (i, c) in spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        sum.add(&container(c, &format!("{prefix}.containers[{i}]"))?);
    }
    let mut init_peak = Requests::default();
    let mut sidecars = Requests::default();
    for (i, c) in spec
        .get("initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let r = container(c, &format!("{prefix}.initContainers[{i}]"))?;
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            sidecars.add(&r);
        } else {
            // A regular init container runs beside the sidecars started before it.
            let mut with = sidecars.clone();
            with.add(&r);
            init_peak.max(&with);
        }
    }
    sum.add(&sidecars);
    sum.max(&init_peak);
    sum.add(&resource_list(
        spec.get("overhead"),
        gpu_names,
        at,
        &format!("{prefix}.overhead"),
    )?);
    Ok(sum)
}

/// `status.conditions` as (type, status, lastTransitionTime, reason).
pub fn conditions(obj: &Value) -> Vec<(&str, &str, Option<&str>, Option<&str>)> {
    obj.get("status")
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c.get("type")?.as_str()?,
                c.get("status").and_then(Value::as_str).unwrap_or(""),
                c.get("lastTransitionTime").and_then(Value::as_str),
                c.get("reason").and_then(Value::as_str),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reqs(spec: Value) -> Requests {
        let gpus = vec!["nvidia.com/gpu".to_string()];
        let at = |f: &str, m: String| TraceError::file("t", format!("{f}: {m}"));
        pod_requests(spec.as_object().unwrap(), &gpus, &at, "spec").unwrap()
    }

    #[test]
    fn pod_requests_follow_the_schedulers_rules() {
        // Two containers add up; a limit alone stands for the request.
        let r = reqs(json!({"containers": [
            {"resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": 2}}},
            {"resources": {"requests": {"cpu": "1", "rdma/ib": "1"}}}
        ]}));
        assert_eq!((r.gpus, r.cpu_milli, r.mem_bytes), (2, 1500, 1 << 30));
        assert_eq!(r.other.get("rdma/ib"), Some(&1));
        // An init container larger than the containers sets the peak; a sidecar adds to both.
        let r = reqs(json!({
            "initContainers": [
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "100m"}}},
                {"resources": {"requests": {"cpu": "4"}}}
            ],
            "containers": [{"resources": {"requests": {"cpu": "1"}}}],
            "overhead": {"cpu": "10m"}
        }));
        assert_eq!(r.cpu_milli, 4100 + 10);
        // Requests win over limits where both are given.
        let r = reqs(json!({"containers": [
            {"resources": {"requests": {"cpu": "1"}, "limits": {"cpu": "8"}}}
        ]}));
        assert_eq!(r.cpu_milli, 1000);
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(timestamp("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(timestamp("1970-01-01T01:00:01.5+01:00"), Some(1500));
        assert_eq!(timestamp("yesterday"), None);
        assert_eq!(rfc3339(1500), "1970-01-01T00:00:01.500Z");
        assert_eq!(rfc3339(86_400_000), "1970-01-02T00:00:00Z");
    }
}
