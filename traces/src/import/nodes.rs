//! Nodes as `kubectl get nodes -o json|yaml` prints them, into pools of identical nodes.
//!
//! Nodes are grouped by GPU product (`nvidia.com/gpu.product`, as GPU feature discovery labels
//! it), instance type (`node.kubernetes.io/instance-type`) and allocatable GPUs, CPU and
//! memory. A pool keeps the labels all its nodes share (for flavors' `nodeLabels` and
//! selectors), except those that name one node. Cordoned nodes are left out and reported.

use super::kube::{self, field_err};
use super::{Options, Report};
use crate::cluster::PoolRow;
use crate::error::TraceError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::kube::GPU_PRODUCT_LABELS;
const INSTANCE_TYPE_LABELS: &[&str] = &[
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];
/// Labels that differ from node to node, never kept on a pool.
const PER_NODE_LABELS: &[&str] = &["kubernetes.io/hostname"];

/// Pools read from node objects, with what the import did.
#[derive(Debug)]
pub struct ImportedCluster {
    pub pools: Vec<PoolRow>,
    pub report: Report,
}

/// What makes two nodes one pool: GPU model, instance type, GPUs, milli-cores, MiB.
type Shape = (Option<String>, Option<String>, u32, u64, u64);

/// One pool being gathered: its shape, and the labels all its nodes share so far.
struct Gather {
    row: PoolRow,
    labels: Option<BTreeMap<String, String>>,
}

pub fn read(paths: &[PathBuf], opts: &Options) -> Result<ImportedCluster, TraceError> {
    let mut report = Report {
        format: "kubernetes-nodes".into(),
        nodes: true,
        files: paths.iter().map(|p| p.display().to_string()).collect(),
        ..Report::default()
    };
    let mut pools: Vec<Gather> = Vec::new();
    let mut index: BTreeMap<Shape, usize> = BTreeMap::new();
    for path in paths {
        let file = path.display().to_string();
        for (i, obj) in kube::objects(path)?.iter().enumerate() {
            if obj.get("kind").and_then(Value::as_str) != Some("Node") {
                report.ignore(format!(
                    "objects of kind {}",
                    obj.get("kind").and_then(Value::as_str).unwrap_or("(none)")
                ));
                continue;
            }
            report.read += 1;
            let who = kube::who(obj, i);
            let origin = format!("{file}: {who}");
            let at = |f: &str, m: String| field_err(&file, &who, f, m);
            if obj
                .get("spec")
                .and_then(|s| s.get("unschedulable"))
                .and_then(Value::as_bool)
                == Some(true)
            {
                report.skip("cordoned (spec.unschedulable)", &origin);
                continue;
            }
            let alloc = obj
                .get("status")
                .and_then(|s| s.get("allocatable"))
                .ok_or_else(|| at("status.allocatable", "missing".into()))?;
            let spec = serde_json::json!({"containers": [{"resources": {"requests": alloc}}]});
            let r = kube::pod_requests(
                spec.as_object().expect("object"),
                &opts.gpu_resources,
                &|f: &str, m: String| {
                    at(
                        &f.replace("spec.containers[0].resources.requests", "status.allocatable"),
                        m,
                    )
                },
                "spec",
            )?;
            let gpus = u32::try_from(r.gpus)
                .ok()
                .filter(|&g| g <= fairway_engine::cluster::MAX_GPUS_PER_NODE)
                .ok_or_else(|| {
                    at(
                        "status.allocatable",
                        format!("{} GPUs: at most 64 per node", r.gpus),
                    )
                })?;
            let labels = kube::meta_map(obj, "labels");
            let model = GPU_PRODUCT_LABELS.iter().find_map(|l| labels.get(*l)).cloned();
            let model = match (gpus, model) {
                (0, _) => None,
                (_, Some(m)) => Some(m),
                (_, None) => {
                    report.default_("GPU model: no product label, named 'gpu'");
                    Some("gpu".to_string())
                }
            };
            let itype = INSTANCE_TYPE_LABELS.iter().find_map(|l| labels.get(*l)).cloned();
            let mem_mib = (r.mem_bytes as u64) >> 20;
            let key = (model.clone(), itype.clone(), gpus, r.cpu_milli as u64, mem_mib);
            let idx = *index.entry(key).or_insert_with(|| {
                pools.push(Gather {
                    row: PoolRow {
                        name: String::new(),
                        gpu_model: model.clone(),
                        nodes: 0,
                        gpus_per_node: gpus,
                        cpu: r.cpu_milli as f64 / 1000.0,
                        memory_gib: mem_mib as f64 / 1024.0,
                        speed: 1.0,
                        labels: BTreeMap::new(),
                    },
                    labels: None,
                });
                pools.len() - 1
            });
            let g = &mut pools[idx];
            g.row.nodes += 1;
            let mine: BTreeMap<String, String> = labels
                .into_iter()
                .filter(|(k, _)| !PER_NODE_LABELS.contains(&k.as_str()))
                .collect();
            g.labels = Some(match g.labels.take() {
                None => mine,
                Some(shared) => shared
                    .into_iter()
                    .filter(|(k, v)| mine.get(k) == Some(v))
                    .collect(),
            });
            for k in r.other.keys() {
                report.default_(format!("allocatable '{k}' not modelled: ignored"));
            }
            report.imported += 1;
        }
    }
    if pools.is_empty() {
        return Err(TraceError::file(
            &report.files.join(", "),
            format!("no node could be imported\n{}", report.render().trim_end()),
        ));
    }
    // Names from the instance type or the shape; a name used twice gets the shape appended.
    let mut names: BTreeMap<String, u32> = BTreeMap::new();
    let mut out = Vec::with_capacity(pools.len());
    for g in pools {
        let mut row = g.row;
        row.labels = g.labels.unwrap_or_default();
        let shape = {
            let model = row
                .gpu_model
                .as_deref()
                .unwrap_or("cpu")
                .to_lowercase()
                .replace(' ', "-");
            let cpu = fairway_engine::resources::fmt_milli((row.cpu * 1000.0).round() as u64);
            if row.gpus_per_node == 0 {
                format!("{model}-{cpu}cpu")
            } else {
                format!("{model}-{}gpu-{cpu}cpu", row.gpus_per_node)
            }
        };
        let base = INSTANCE_TYPE_LABELS
            .iter()
            .find_map(|l| row.labels.get(*l))
            .cloned()
            .unwrap_or(shape);
        let n = names.entry(base.clone()).or_default();
        *n += 1;
        row.name = if *n == 1 { base } else { format!("{base}-{n}") };
        out.push(row);
    }
    Ok(ImportedCluster { pools: out, report })
}

/// The pools as a cluster file (`[[pool]]` tables), with a header saying where they came from.
pub fn to_toml(c: &ImportedCluster) -> String {
    #[derive(serde::Serialize)]
    struct File<'a> {
        pool: &'a [PoolRow],
    }
    let body = toml::to_string(&File { pool: &c.pools }).unwrap_or_default();
    let gpus: u64 = c
        .pools
        .iter()
        .map(|p| u64::from(p.nodes) * u64::from(p.gpus_per_node))
        .sum();
    let nodes: u64 = c.pools.iter().map(|p| u64::from(p.nodes)).sum();
    format!(
        "# Imported by `fairway cluster import --from kubernetes-nodes` from {}:\n# {nodes} node(s), {gpus} GPU(s) in {} pool(s).\n\n{body}",
        c.report.files.join(", "),
        c.pools.len()
    )
}
