//! Reads Kueue manifests as users write them for a real cluster: ResourceFlavor, ClusterQueue,
//! Cohort, LocalQueue, WorkloadPriorityClass and the Configuration, in the v1alpha1, v1beta1 and
//! v1beta2 spellings. What fairway does not model is reported once as a warning naming the object
//! and field; what Kueue's webhooks would refuse is an error in Kueue's words. So is an unknown
//! version of Kueue's API, and a reference Kueue would leave dangling (a missing ResourceFlavor,
//! a cohort cycle, a LocalQueue's missing ClusterQueue): its queues would admit nothing, ever.

use super::model::*;
use super::quantity;
use super::tree::Quota;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A manifest Kueue would refuse, or that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ManifestError {
    pub file: String,
    pub message: String,
}

/// The files a `manifests` setting names: a file, or every `.yaml`/`.yml` in a folder (sorted).
pub fn files(path: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let err = |m: String| ManifestError {
        file: path.display().to_string(),
        message: m,
    };
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| err(format!("cannot read: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(err("the folder has no .yaml or .yml files".into()));
        }
        Ok(v)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        Err(err("cannot read: No such file or directory".into()))
    }
}

/// How many times each manifest file has been read in this process, by its path as given: a
/// scenario's manifests are read once however many runs use them, and tests hold that.
static READS: std::sync::Mutex<std::collections::BTreeMap<PathBuf, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// How many times [`load`] has read the file at `path` (as it was given) in this process.
pub fn reads_of(path: &Path) -> u64 {
    let reads = READS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    reads.get(path).copied().unwrap_or(0)
}

/// Reads and checks every object of every file.
pub fn load(paths: &[PathBuf], gpu_resource: &str) -> Result<Config, ManifestError> {
    load_with_objects(paths, gpu_resource).map(|(cfg, _)| cfg)
}

/// [`load`], also returning every object read, in order (for writing the manifests back with
/// what-if edits applied: [`super::effective`]).
pub fn load_with_objects(
    paths: &[PathBuf],
    gpu_resource: &str,
) -> Result<(Config, Vec<Value>), ManifestError> {
    let mut docs = Vec::new();
    for p in paths {
        let file = p.display().to_string();
        *READS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(p.clone())
            .or_insert(0) += 1;
        let text = fairway_engine::input::read_text(p, fairway_engine::input::TEXT_CAP).map_err(|e| {
            ManifestError {
                file: file.clone(),
                message: format!("cannot read: {e}"),
            }
        })?;
        for (i, v) in parse_yaml(&text, &file)?.into_iter().enumerate() {
            flatten_lists(v, &file, i, &mut docs);
        }
    }
    let files: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let objects: Vec<Value> = docs.iter().map(|d| d.value.clone()).collect();
    let cfg = Reader::new(gpu_resource)
        .read(docs)
        .map_err(|e| name_files(e, &files.join(", ")))?;
    Ok((cfg, objects))
}

/// An error about the manifests as a whole names the files they came from.
fn name_files(mut e: ManifestError, files: &str) -> ManifestError {
    if e.file == WHOLE {
        e.file = files.to_string();
    }
    e
}

/// The `file` of an error about all the manifests together.
const WHOLE: &str = "manifests";

/// Reads manifests from text (for tests and error messages name `file`).
pub fn load_str(text: &str, file: &str, gpu_resource: &str) -> Result<Config, ManifestError> {
    let mut docs = Vec::new();
    for (i, v) in parse_yaml(text, file)?.into_iter().enumerate() {
        flatten_lists(v, file, i, &mut docs);
    }
    Reader::new(gpu_resource)
        .read(docs)
        .map_err(|e| name_files(e, file))
}

/// The Kubernetes objects in a text as `kubectl get -o yaml` or `-o json` prints it: one object,
/// several YAML documents, or `kind: List`s of them (flattened), in order. JSON is read as JSON
/// (faster than as YAML, and large `-o json` dumps are common).
pub fn objects(text: &str, file: &str) -> Result<Vec<Value>, ManifestError> {
    let docs = match text.trim_start().as_bytes().first() {
        Some(b'{' | b'[') => {
            let v: Value = serde_json::from_str(text).map_err(|e| ManifestError {
                file: file.to_string(),
                message: format!("invalid JSON: {e}"),
            })?;
            match v {
                Value::Array(items) => items,
                v => vec![v],
            }
        }
        _ => parse_yaml(text, file)?,
    };
    let mut out = Vec::new();
    for (i, v) in docs.into_iter().enumerate() {
        flatten_lists(v, file, i, &mut out);
    }
    Ok(out.into_iter().map(|d| d.value).collect())
}

fn parse_yaml(text: &str, file: &str) -> Result<Vec<Value>, ManifestError> {
    // Kubernetes reads YAML 1.2: `y`, `no` or `on` are names, not booleans.
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_multiple_with_options::<Value>(text, options).map_err(|e| ManifestError {
        file: file.to_string(),
        message: e
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .trim_start_matches("error: ")
            .to_string(),
    })
}

/// One object, with where it came from.
struct Doc {
    file: String,
    index: usize,
    value: Value,
}

/// `kind: List` (as `kubectl get -o yaml` writes) holds its objects under `items`.
fn flatten_lists(v: Value, file: &str, index: usize, out: &mut Vec<Doc>) {
    if v.is_null() {
        return;
    }
    if v.get("kind").and_then(Value::as_str) == Some("List")
        && let Some(items) = v.get("items").and_then(Value::as_array)
    {
        for item in items {
            flatten_lists(item.clone(), file, index, out);
        }
        return;
    }
    out.push(Doc {
        file: file.to_string(),
        index,
        value: v,
    });
}

/// Quota per (flavor, resource).
type Quotas = BTreeMap<(usize, usize), Quota>;

struct Reader {
    gpu_resource: String,
    resources: Vec<String>,
    flavors: Vec<Flavor>,
    warnings: BTreeSet<String>,
    warned_fields: BTreeSet<(String, String)>,
}

/// Context for errors and warnings about one object.
struct At<'a> {
    file: &'a str,
    what: String,
}

impl At<'_> {
    fn err(&self, path: &str, message: impl std::fmt::Display) -> ManifestError {
        ManifestError {
            file: self.file.to_string(),
            message: format!("{}: {path}: {message}", self.what),
        }
    }
}

impl Reader {
    fn new(gpu_resource: &str) -> Self {
        Reader {
            gpu_resource: gpu_resource.to_string(),
            resources: Vec::new(),
            flavors: Vec::new(),
            warnings: BTreeSet::new(),
            warned_fields: BTreeSet::new(),
        }
    }

    /// Warns once per (kind, field) that a field is not modelled.
    fn unmodelled(&mut self, kind: &str, name: &str, field: &str, why: &str) {
        if self.warned_fields.insert((kind.to_string(), field.to_string())) {
            self.warnings.insert(format!(
                "{kind} '{name}': {field} is not modelled by fairway ({why}); ignored"
            ));
        }
    }

    /// Warns about every key of `map` outside `known`.
    fn check_keys(&mut self, kind: &str, name: &str, prefix: &str, map: &Map<String, Value>, known: &[&str]) {
        let extra: Vec<String> = map
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .cloned()
            .collect();
        for k in extra {
            let field = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            self.unmodelled(kind, name, &field, "unknown to this version of fairway");
        }
    }

    fn resource(&mut self, name: &str) -> usize {
        match self.resources.iter().position(|r| r == name) {
            Some(i) => i,
            None => {
                self.resources.push(name.to_string());
                self.resources.len() - 1
            }
        }
    }

    /// Reads every object, each by its kind's reader, and checks the whole.
    fn read(mut self, docs: Vec<Doc>) -> Result<Config, ManifestError> {
        // Fixed resource order: the ones jobs use, then whatever the manifests add.
        for r in ["cpu", "memory", "pods"] {
            self.resource(r);
        }
        let gpu = self.gpu_resource.clone();
        self.resource(&gpu);
        let mut cqs = Vec::new();
        let mut cohorts: Vec<QuotaNodeSpec> = Vec::new();
        let mut lqs = Vec::new();
        let mut classes = BTreeMap::new();
        let mut global = None;
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        // Where each Cohort and LocalQueue was read, for errors about the references between
        // objects, checked once all are read: the file, and a Cohort's parent field.
        let mut cohort_at: Vec<(String, &'static str)> = Vec::new();
        let mut lq_files: Vec<String> = Vec::new();
        // Flavors first: ClusterQueues refer to them by name.
        let (flavor_docs, rest): (Vec<&Doc>, Vec<&Doc>) = docs
            .iter()
            .partition(|d| d.value.get("kind").and_then(Value::as_str) == Some("ResourceFlavor"));
        for d in flavor_docs.iter().chain(rest.iter()) {
            let head = head(d)?;
            let at = At {
                file: &d.file,
                what: format!("{} '{}'", head.kind, head.name),
            };
            if !self.wanted(&head, &at, &mut seen)? {
                continue;
            }
            let Head { obj, kind, api, name } = head;
            let v1beta1 = api.ends_with("/v1beta1");
            let spec = obj.get("spec").cloned().unwrap_or(Value::Object(Map::new()));
            let spec = spec
                .as_object()
                .ok_or_else(|| at.err("spec", "expected a mapping"))?;
            match kind {
                "ResourceFlavor" => self.resource_flavor(name, spec, &at)?,
                "ClusterQueue" => cqs.push(self.cluster_queue(&name, spec, &at, v1beta1)?),
                "Cohort" => {
                    cohorts.push(self.cohort(name, spec, &at)?);
                    let field = if spec.contains_key("parentName") {
                        "spec.parentName"
                    } else {
                        "spec.parent"
                    };
                    cohort_at.push((d.file.clone(), field));
                }
                "LocalQueue" => {
                    lqs.push(self.local_queue(name, obj, spec, &at, &lqs)?);
                    lq_files.push(d.file.clone());
                }
                "WorkloadPriorityClass" => {
                    let value = priority_class_value(obj, &at)?;
                    classes.insert(name, value);
                }
                "Configuration" => {
                    if global.is_some() {
                        return Err(at.err("(top)", "only one Configuration may be given"));
                    }
                    global = Some(self.configuration(obj, &at, v1beta1)?);
                }
                other => {
                    self.warnings.insert(format!(
                        "{other} '{name}': kind {other} is not modelled by fairway; ignored"
                    ));
                }
            }
        }
        if cqs.is_empty() {
            return Err(ManifestError {
                file: WHOLE.into(),
                message: "no ClusterQueue found".into(),
            });
        }
        check_cohort_cycles(&cohorts, &cohort_at)?;
        check_local_queues(&lqs, &lq_files, &cqs)?;
        Ok(Config {
            resources: self.resources,
            flavors: self.flavors,
            cluster_queues: cqs,
            cohorts,
            local_queues: lqs,
            priority_classes: classes,
            global,
            warnings: self.warnings.into_iter().collect(),
        })
    }

    /// Whether to read an object. Every kind but the Configuration (`config.kueue.x-k8s.io`)
    /// must be `kueue.x-k8s.io`, or it is skipped with a warning; a name appears once per kind
    /// (LocalQueues: once per namespace, checked as they are read).
    fn wanted(
        &mut self,
        head: &Head<'_>,
        at: &At<'_>,
        seen: &mut BTreeSet<(String, String)>,
    ) -> Result<bool, ManifestError> {
        let Head { kind, api, name, .. } = head;
        if !matches!(*kind, "Configuration") && !api.starts_with("kueue.x-k8s.io/") {
            self.warnings.insert(format!(
                "{kind} '{name}': apiVersion '{api}' is not kueue.x-k8s.io; ignored"
            ));
            return Ok(false);
        }
        if !seen.insert((kind.to_string(), name.clone())) && *kind != "Configuration" && *kind != "LocalQueue"
        {
            return Err(at.err("metadata.name", "appears twice"));
        }
        Ok(true)
    }

    /// A ResourceFlavor: the node labels that pick its pools.
    fn resource_flavor(
        &mut self,
        name: String,
        spec: &Map<String, Value>,
        at: &At<'_>,
    ) -> Result<(), ManifestError> {
        let kind = "ResourceFlavor";
        self.check_keys(
            kind,
            &name,
            "spec",
            spec,
            &["nodeLabels", "nodeTaints", "tolerations", "topologyName"],
        );
        for f in ["nodeTaints", "tolerations", "topologyName"] {
            if spec.contains_key(f) {
                self.unmodelled(
                    kind,
                    &name,
                    &format!("spec.{f}"),
                    "pods carry no tolerations and nodes no taints or topology",
                );
            }
        }
        let node_labels = string_map(spec.get("nodeLabels"), at, "spec.nodeLabels")?;
        self.flavors.push(Flavor { name, node_labels });
        Ok(())
    }

    /// A Cohort: its parent, its own quota and its fair-sharing weight.
    fn cohort(
        &mut self,
        name: String,
        spec: &Map<String, Value>,
        at: &At<'_>,
    ) -> Result<QuotaNodeSpec, ManifestError> {
        let kind = "Cohort";
        self.check_keys(
            kind,
            &name,
            "spec",
            spec,
            &["parent", "parentName", "resourceGroups", "fairSharing"],
        );
        let parent = spec
            .get("parentName")
            .or(spec.get("parent"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let (groups, quotas) = self.groups(spec.get("resourceGroups"), at, kind, &name)?;
        if parent.is_none() {
            for ((f, r), q) in &quotas {
                if q.borrowing_limit.is_some() || q.lending_limit.is_some() {
                    return Err(at.err(
                        &format!(
                            "spec.resourceGroups (flavor {}, resource {})",
                            self.flavors[*f].name, self.resources[*r]
                        ),
                        "borrowingLimit and lendingLimit must be nil when parent is empty",
                    ));
                }
            }
        }
        let weight = self.weight(spec, at)?;
        Ok(QuotaNodeSpec {
            name,
            parent,
            groups,
            quotas,
            weight,
        })
    }

    /// A LocalQueue: the ClusterQueue it routes to, unique per namespace among `lqs`.
    fn local_queue(
        &mut self,
        name: String,
        obj: &Map<String, Value>,
        spec: &Map<String, Value>,
        at: &At<'_>,
        lqs: &[LocalQueue],
    ) -> Result<LocalQueue, ManifestError> {
        let kind = "LocalQueue";
        self.check_keys(
            kind,
            &name,
            "spec",
            spec,
            &["clusterQueue", "stopPolicy", "fairSharing"],
        );
        for f in ["stopPolicy", "fairSharing"] {
            if spec.contains_key(f) {
                self.unmodelled(
                    kind,
                    &name,
                    &format!("spec.{f}"),
                    "LocalQueues only route jobs here",
                );
            }
        }
        let namespace = obj
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let cq = spec
            .get("clusterQueue")
            .and_then(Value::as_str)
            .ok_or_else(|| at.err("spec.clusterQueue", "missing"))?;
        if lqs
            .iter()
            .any(|l: &LocalQueue| l.name == name && l.namespace == namespace)
        {
            return Err(at.err("metadata.name", "appears twice in the same namespace"));
        }
        Ok(LocalQueue {
            name,
            namespace,
            cluster_queue: cq.to_string(),
        })
    }

    /// `spec.fairSharing.weight` of a ClusterQueue or Cohort, a quantity (1 when not given).
    fn weight(&self, spec: &Map<String, Value>, at: &At<'_>) -> Result<f64, ManifestError> {
        let Some(w) = spec.get("fairSharing").and_then(|f| f.get("weight")) else {
            return Ok(1.0);
        };
        let text = match w {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(at.err("spec.fairSharing.weight", "expected a quantity")),
        };
        quantity::parse_weight(&text).map_err(|e| at.err("spec.fairSharing.weight", e))
    }

    /// `spec.resourceGroups` of a ClusterQueue or Cohort: the groups, and the quota of every
    /// (flavor, resource) they name.
    fn groups(
        &mut self,
        v: Option<&Value>,
        at: &At<'_>,
        kind: &str,
        name: &str,
    ) -> Result<(Vec<Group>, Quotas), ManifestError> {
        let mut groups = Vec::new();
        let mut so_far = GroupsSoFar::default();
        let Some(v) = v else {
            return Ok((groups, so_far.quotas));
        };
        let arr = v
            .as_array()
            .ok_or_else(|| at.err("spec.resourceGroups", "expected a list"))?;
        for (gi, g) in arr.iter().enumerate() {
            groups.push(self.resource_group(gi, g, at, kind, name, &mut so_far)?);
        }
        Ok((groups, so_far.quotas))
    }

    /// `spec.resourceGroups[gi]`: its covered resources and, per flavor, their quotas.
    fn resource_group(
        &mut self,
        gi: usize,
        g: &Value,
        at: &At<'_>,
        kind: &str,
        name: &str,
        so_far: &mut GroupsSoFar,
    ) -> Result<Group, ManifestError> {
        let gp = format!("spec.resourceGroups[{gi}]");
        let gm = g.as_object().ok_or_else(|| at.err(&gp, "expected a mapping"))?;
        self.check_keys(
            kind,
            name,
            "spec.resourceGroups[]",
            gm,
            &["coveredResources", "flavors"],
        );
        let covered = covered_resources(gm, &gp, at, &mut so_far.resources)?;
        let resources: Vec<usize> = covered.iter().map(|r| self.resource(r)).collect();
        let mut flavors = Vec::new();
        let fl = gm
            .get("flavors")
            .and_then(Value::as_array)
            .ok_or_else(|| at.err(&format!("{gp}.flavors"), "missing"))?;
        for (fi, f) in fl.iter().enumerate() {
            let fp = format!("{gp}.flavors[{fi}]");
            let fname = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| at.err(&format!("{fp}.name"), "missing"))?;
            if !so_far.flavors.insert(fname.to_string()) {
                return Err(at.err(
                    &format!("{fp}.name"),
                    format!("flavor {fname} is in more than one resource group"),
                ));
            }
            let fidx = self.flavor_index(fname, &fp, at)?;
            let rs = f
                .get("resources")
                .and_then(Value::as_array)
                .ok_or_else(|| at.err(&format!("{fp}.resources"), "missing"))?;
            let names: Vec<&str> = rs
                .iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .collect();
            if names != covered.iter().map(String::as_str).collect::<Vec<_>>() {
                return Err(at.err(
                    &format!("{fp}.resources"),
                    "must have the same resources, in the same order, as coveredResources",
                ));
            }
            for (ri, r) in rs.iter().enumerate() {
                let rp = format!("{fp}.resources[{ri}]");
                let rm = r.as_object().ok_or_else(|| at.err(&rp, "expected a mapping"))?;
                self.check_keys(
                    kind,
                    name,
                    "spec.resourceGroups[].flavors[].resources[]",
                    rm,
                    &["name", "nominalQuota", "borrowingLimit", "lendingLimit"],
                );
                let quota = resource_quota(rm, &rp, &covered[ri], at)?;
                so_far.quotas.insert((fidx, resources[ri]), quota);
            }
            flavors.push(fidx);
        }
        Ok(Group { resources, flavors })
    }

    /// The index of the flavor a resource group names (at `fp`). One no ResourceFlavor defines
    /// is an error: Kueue would keep the queue inactive, and its jobs would wait forever.
    fn flavor_index(&self, fname: &str, fp: &str, at: &At<'_>) -> Result<usize, ManifestError> {
        self.flavors.iter().position(|x| x.name == fname).ok_or_else(|| {
            let known = if self.flavors.is_empty() {
                "no ResourceFlavor is defined".to_string()
            } else {
                let names: Vec<&str> = self.flavors.iter().map(|f| f.name.as_str()).collect();
                format!("ResourceFlavors: {}", names.join(", "))
            };
            at.err(
                &format!("{fp}.name"),
                format!("ResourceFlavor '{fname}' does not exist ({known})"),
            )
        })
    }

    /// A ClusterQueue: its place in the cohort tree and quota, and how it queues, preempts,
    /// picks flavors, shares and stops.
    fn cluster_queue(
        &mut self,
        name: &str,
        spec: &Map<String, Value>,
        at: &At<'_>,
        v1beta1: bool,
    ) -> Result<(QuotaNodeSpec, CqSettings), ManifestError> {
        let kind = "ClusterQueue";
        self.check_keys(
            kind,
            name,
            "spec",
            spec,
            &[
                "cohort",
                "cohortName",
                "resourceGroups",
                "queueingStrategy",
                "namespaceSelector",
                "preemption",
                "flavorFungibility",
                "fairSharing",
                "stopPolicy",
                "admissionChecks",
                "admissionChecksStrategy",
                "admissionScope",
            ],
        );
        self.admission_checks(name, spec);
        self.namespace_selector(name, spec);
        let parent = cohort_name(spec, v1beta1);
        let (groups, quotas) = self.groups(spec.get("resourceGroups"), at, kind, name)?;
        if parent.is_none() {
            self.no_limits_without_cohort(&groups, &quotas, at)?;
        }
        let queueing = queueing_strategy(spec, at)?;
        let (within, reclaim, borrow_within) = self.preemption(name, spec, at)?;
        let fungibility = self.flavor_fungibility(name, spec, at)?;
        let weight = self.cq_fair_sharing(spec, at)?;
        let held = stop_policy(spec, at)?;
        Ok((
            QuotaNodeSpec {
                name: name.to_string(),
                parent,
                groups,
                quotas,
                weight,
            },
            CqSettings {
                queueing,
                within,
                reclaim,
                borrow_within,
                fungibility,
                held,
            },
        ))
    }

    /// `spec.admissionChecks`, `spec.admissionChecksStrategy` and `spec.admissionScope` of a
    /// ClusterQueue: read, not simulated.
    fn admission_checks(&mut self, name: &str, spec: &Map<String, Value>) {
        for (f, why) in [
            ("admissionChecks", "admission checks are not simulated"),
            ("admissionChecksStrategy", "admission checks are not simulated"),
            ("admissionScope", "admission fair sharing is not simulated"),
        ] {
            if spec.contains_key(f) {
                self.unmodelled("ClusterQueue", name, &format!("spec.{f}"), why);
            }
        }
    }

    /// `spec.namespaceSelector` of a ClusterQueue: namespaces are not modelled, but a queue
    /// without one admits nothing in Kueue, which deserves a warning.
    fn namespace_selector(&mut self, name: &str, spec: &Map<String, Value>) {
        if !spec.contains_key("namespaceSelector") {
            self.warnings.insert(format!(
                "ClusterQueue '{name}': no spec.namespaceSelector: real Kueue admits nothing from such a queue; fairway ignores namespaces and admits as if it were {{}}"
            ));
        }
    }

    /// A ClusterQueue outside any cohort may not set a borrowing or lending limit.
    fn no_limits_without_cohort(
        &self,
        groups: &[Group],
        quotas: &Quotas,
        at: &At<'_>,
    ) -> Result<(), ManifestError> {
        for (gi, g) in groups.iter().enumerate() {
            for (fi, &f) in g.flavors.iter().enumerate() {
                for (ri, &r) in g.resources.iter().enumerate() {
                    let q = quotas[&(f, r)];
                    let path = format!("spec.resourceGroups[{gi}].flavors[{fi}].resources[{ri}]");
                    if let Some(bl) = q.borrowing_limit {
                        return Err(at.err(
                            &format!("{path}.borrowingLimit"),
                            format!(
                                "Invalid value: {}: must be nil when cohort is empty",
                                quantity::show(&self.resources[r], bl)
                            ),
                        ));
                    }
                    if let Some(ll) = q.lending_limit {
                        return Err(at.err(
                            &format!("{path}.lendingLimit"),
                            format!(
                                "Invalid value: {}: must be nil when cohort is empty",
                                quantity::show(&self.resources[r], ll)
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// `spec.preemption` of a ClusterQueue.
    fn preemption(
        &mut self,
        name: &str,
        spec: &Map<String, Value>,
        at: &At<'_>,
    ) -> Result<(WithinCq, Reclaim, BorrowWithin), ManifestError> {
        let p = spec
            .get("preemption")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        self.check_keys(
            "ClusterQueue",
            name,
            "spec.preemption",
            &p,
            &["withinClusterQueue", "reclaimWithinCohort", "borrowWithinCohort"],
        );
        let within = match p.get("withinClusterQueue").and_then(Value::as_str) {
            None | Some("Never") => WithinCq::Never,
            Some("LowerPriority") => WithinCq::LowerPriority,
            Some("LowerOrNewerEqualPriority") => WithinCq::LowerOrNewerEqualPriority,
            Some(o) => {
                return Err(at.err(
                    "spec.preemption.withinClusterQueue",
                    format!("Unsupported value: \"{o}\""),
                ));
            }
        };
        let reclaim = match p.get("reclaimWithinCohort").and_then(Value::as_str) {
            None | Some("Never") => Reclaim::Never,
            Some("LowerPriority") => Reclaim::LowerPriority,
            Some("Any") => Reclaim::Any,
            Some(o) => {
                return Err(at.err(
                    "spec.preemption.reclaimWithinCohort",
                    format!("Unsupported value: \"{o}\""),
                ));
            }
        };
        let borrow_within = borrow_within_cohort(&p, at)?;
        if borrow_within.lower_priority && reclaim == Reclaim::Never {
            return Err(at.err(
                "spec.preemption",
                "Invalid value: reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never",
            ));
        }
        Ok((within, reclaim, borrow_within))
    }

    /// `spec.flavorFungibility` of a ClusterQueue.
    fn flavor_fungibility(
        &mut self,
        name: &str,
        spec: &Map<String, Value>,
        at: &At<'_>,
    ) -> Result<Fungibility, ManifestError> {
        let ff = spec
            .get("flavorFungibility")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        self.check_keys(
            "ClusterQueue",
            name,
            "spec.flavorFungibility",
            &ff,
            &["whenCanBorrow", "whenCanPreempt", "preference"],
        );
        let step = |key: &str, legacy: &str, default: Step| -> Result<Step, ManifestError> {
            match ff.get(key).and_then(Value::as_str) {
                None => Ok(default),
                Some("MayStopSearch") => Ok(Step::MayStopSearch),
                Some(s) if s == legacy => Ok(Step::MayStopSearch),
                Some("TryNextFlavor") => Ok(Step::TryNextFlavor),
                Some(o) => Err(at.err(
                    &format!("spec.flavorFungibility.{key}"),
                    format!("Unsupported value: \"{o}\""),
                )),
            }
        };
        let when_can_borrow = step("whenCanBorrow", "Borrow", Step::MayStopSearch)?;
        let when_can_preempt = step("whenCanPreempt", "Preempt", Step::TryNextFlavor)?;
        let preemption_over_borrowing = match ff.get("preference").and_then(Value::as_str) {
            None | Some("BorrowingOverPreemption") => false,
            Some("PreemptionOverBorrowing") => true,
            Some(o) => {
                return Err(at.err(
                    "spec.flavorFungibility.preference",
                    format!("Unsupported value: \"{o}\""),
                ));
            }
        };
        if ff.contains_key("preference")
            && !(when_can_borrow == Step::TryNextFlavor && when_can_preempt == Step::TryNextFlavor)
        {
            return Err(at.err("spec.flavorFungibility.preference", "Invalid value: preference can only be set when whenCanBorrow and whenCanPreempt are both TryNextFlavor"));
        }
        Ok(Fungibility {
            when_can_borrow,
            when_can_preempt,
            preemption_over_borrowing,
        })
    }

    /// `spec.fairSharing` of a ClusterQueue: its weight, 0 or above 1e-9.
    fn cq_fair_sharing(&self, spec: &Map<String, Value>, at: &At<'_>) -> Result<f64, ManifestError> {
        let weight = self.weight(spec, at)?;
        if weight != 0.0 && weight <= 1e-9 {
            return Err(at.err("spec.fairSharing.weight", "must be 0 or greater than 1e-9"));
        }
        Ok(weight)
    }

    /// The Configuration: fair sharing and its preemption strategies, and waitForPodsReady.
    fn configuration(
        &mut self,
        obj: &Map<String, Value>,
        at: &At<'_>,
        v1beta1: bool,
    ) -> Result<Global, ManifestError> {
        let kind = "Configuration";
        let known = [
            "apiVersion",
            "kind",
            "metadata",
            "fairSharing",
            "waitForPodsReady",
            "admissionFairSharing",
            "namespace",
            "manageJobsWithoutQueueName",
            "managedJobsNamespaceSelector",
            "health",
            "metrics",
            "webhook",
            "controller",
            "leaderElection",
            "clientConnection",
            "integrations",
            "internalCertManagement",
            "queueVisibility",
            "multiKueue",
            "resources",
            "featureGates",
            "objectRetentionPolicies",
        ];
        self.check_keys(kind, "config", "", obj, &known);
        for f in ["admissionFairSharing", "resources", "featureGates", "multiKueue"] {
            if obj.contains_key(f) {
                self.unmodelled(kind, "config", f, "not simulated");
            }
        }
        let (fair_sharing, strategies) = fair_sharing(obj, at, v1beta1)?;
        let pods_ready = wait_for_pods_ready(obj, at, v1beta1)?;
        Ok(Global {
            fair_sharing,
            strategies,
            pods_ready,
        })
    }
}

/// What every object has: its kind, apiVersion and name.
struct Head<'d> {
    obj: &'d Map<String, Value>,
    kind: &'d str,
    api: &'d str,
    name: String,
}

/// Reads an object's kind, apiVersion and name; every kind but the Configuration needs a name.
fn head(d: &Doc) -> Result<Head<'_>, ManifestError> {
    let at0 = At {
        file: &d.file,
        what: format!("document {}", d.index + 1),
    };
    let Some(obj) = d.value.as_object() else {
        return Err(at0.err("(top)", "expected a Kubernetes object (a mapping)"));
    };
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .ok_or_else(|| at0.err("kind", "missing"))?;
    let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let name = obj
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if kind != "Configuration" && name.is_empty() {
        return Err(at0.err("metadata.name", format!("a {kind} needs a name")));
    }
    check_version(api).map_err(|m| {
        let at = At {
            file: &d.file,
            what: if name.is_empty() {
                format!("document {} ({kind})", d.index + 1)
            } else {
                format!("document {} ({kind} '{name}')", d.index + 1)
            },
        };
        at.err("apiVersion", m)
    })?;
    Ok(Head { obj, kind, api, name })
}

/// The versions of Kueue's API groups fairway reads.
const VERSIONS: &[(&str, &[&str])] = &[
    ("kueue.x-k8s.io", &["v1alpha1", "v1beta1", "v1beta2"]),
    ("config.kueue.x-k8s.io", &["v1beta1", "v1beta2"]),
];

/// An apiVersion in one of Kueue's groups must name a version fairway knows: fields change
/// between versions, and an object of a version fairway has not seen could be misread.
fn check_version(api: &str) -> Result<(), String> {
    let (group, version) = api.split_once('/').unwrap_or((api, ""));
    match VERSIONS.iter().find(|(g, _)| *g == group) {
        Some((_, known)) if !known.contains(&version) => Err(format!(
            "unknown version '{version}' of {group} (known: {})",
            known.join(", ")
        )),
        _ => Ok(()),
    }
}

/// A WorkloadPriorityClass's `value`, an int32.
fn priority_class_value(obj: &Map<String, Value>, at: &At<'_>) -> Result<i32, ManifestError> {
    let value = obj
        .get("value")
        .and_then(Value::as_i64)
        .ok_or_else(|| at.err("value", "missing or not an integer"))?;
    i32::try_from(value).map_err(|_| at.err("value", "out of the int32 range"))
}

/// What the resource groups of one object have named so far: Kueue allows a resource, and a
/// flavor, in one group only.
#[derive(Default)]
struct GroupsSoFar {
    resources: BTreeSet<String>,
    flavors: BTreeSet<String>,
    quotas: Quotas,
}

/// `coveredResources` of the resource group at `gp`, each in no earlier group (`seen`).
fn covered_resources(
    gm: &Map<String, Value>,
    gp: &str,
    at: &At<'_>,
    seen: &mut BTreeSet<String>,
) -> Result<Vec<String>, ManifestError> {
    let covered: Vec<String> = gm
        .get("coveredResources")
        .and_then(Value::as_array)
        .ok_or_else(|| at.err(&format!("{gp}.coveredResources"), "missing"))?
        .iter()
        .map(|r| {
            r.as_str()
                .map(str::to_string)
                .ok_or_else(|| at.err(&format!("{gp}.coveredResources"), "expected names"))
        })
        .collect::<Result<_, _>>()?;
    for r in &covered {
        if !seen.insert(r.clone()) {
            return Err(at.err(
                &format!("{gp}.coveredResources"),
                format!("resource {r} is in more than one resource group"),
            ));
        }
    }
    Ok(covered)
}

/// The quota of resource `rname` of one flavor (`rm`, at `rp`): nominal, and the borrowing and
/// lending limits if set (a lending limit no greater than the nominal quota).
fn resource_quota(
    rm: &Map<String, Value>,
    rp: &str,
    rname: &str,
    at: &At<'_>,
) -> Result<Quota, ManifestError> {
    let qty = |key: &str| -> Result<Option<i64>, ManifestError> {
        match rm.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(at.err(&format!("{rp}.{key}"), "expected a quantity")),
                };
                quantity::parse(rname, &text)
                    .map(Some)
                    .map_err(|e| at.err(&format!("{rp}.{key}"), e))
            }
        }
    };
    let nominal = qty("nominalQuota")?.ok_or_else(|| at.err(&format!("{rp}.nominalQuota"), "missing"))?;
    let bl = qty("borrowingLimit")?;
    let ll = qty("lendingLimit")?;
    if let Some(l) = ll
        && l > nominal
    {
        return Err(at.err(
            &format!("{rp}.lendingLimit"),
            format!(
                "Invalid value: {}: must be less than or equal to the nominalQuota",
                quantity::show(rname, l)
            ),
        ));
    }
    Ok(Quota {
        nominal,
        borrowing_limit: bl,
        lending_limit: ll,
    })
}

/// A ClusterQueue's cohort: `spec.cohort` in v1beta1, `spec.cohortName` in v1beta2, either
/// accepted in both.
fn cohort_name(spec: &Map<String, Value>, v1beta1: bool) -> Option<String> {
    let cohort_key = if v1beta1 { "cohort" } else { "cohortName" };
    spec.get(cohort_key)
        .or(spec.get("cohort"))
        .or(spec.get("cohortName"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// `spec.queueingStrategy` of a ClusterQueue.
fn queueing_strategy(spec: &Map<String, Value>, at: &At<'_>) -> Result<Queueing, ManifestError> {
    match spec.get("queueingStrategy").and_then(Value::as_str) {
        None | Some("BestEffortFIFO") => Ok(Queueing::BestEffortFifo),
        Some("StrictFIFO") => Ok(Queueing::StrictFifo),
        Some(o) => Err(at.err(
            "spec.queueingStrategy",
            format!("Unsupported value: \"{o}\": supported values: \"BestEffortFIFO\", \"StrictFIFO\""),
        )),
    }
}

/// `spec.preemption.borrowWithinCohort` of a ClusterQueue (`p` is `spec.preemption`).
fn borrow_within_cohort(p: &Map<String, Value>, at: &At<'_>) -> Result<BorrowWithin, ManifestError> {
    let bw = p
        .get("borrowWithinCohort")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let lower_priority = match bw.get("policy").and_then(Value::as_str) {
        None | Some("Never") => false,
        Some("LowerPriority") => true,
        Some(o) => {
            return Err(at.err(
                "spec.preemption.borrowWithinCohort.policy",
                format!("Unsupported value: \"{o}\""),
            ));
        }
    };
    let max_priority_threshold = match bw.get("maxPriorityThreshold") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().and_then(|x| i32::try_from(x).ok()).ok_or_else(|| {
            at.err(
                "spec.preemption.borrowWithinCohort.maxPriorityThreshold",
                "expected an int32",
            )
        })?),
    };
    Ok(BorrowWithin {
        lower_priority,
        max_priority_threshold,
    })
}

/// `spec.stopPolicy` of a ClusterQueue: whether it is held.
fn stop_policy(spec: &Map<String, Value>, at: &At<'_>) -> Result<bool, ManifestError> {
    match spec.get("stopPolicy").and_then(Value::as_str) {
        None | Some("None") => Ok(false),
        Some("Hold") | Some("HoldAndDrain") => Ok(true),
        Some(o) => Err(at.err("spec.stopPolicy", format!("Unsupported value: \"{o}\""))),
    }
}

/// The Configuration's `fairSharing`: whether it is on (by default in v1beta2 once the section
/// is there, only if enabled in v1beta1) and its preemption strategies.
fn fair_sharing(
    obj: &Map<String, Value>,
    at: &At<'_>,
    v1beta1: bool,
) -> Result<(bool, Vec<Strategy>), ManifestError> {
    let fs = obj.get("fairSharing").and_then(Value::as_object);
    let fair_sharing = match fs {
        None => false,
        Some(m) if v1beta1 => m.get("enable").and_then(Value::as_bool).unwrap_or(false),
        Some(m) => m.get("enable").and_then(Value::as_bool).unwrap_or(true),
    };
    let strategies = match fs
        .and_then(|m| m.get("preemptionStrategies"))
        .and_then(Value::as_array)
    {
        None => vec![
            Strategy::LessThanOrEqualToFinalShare,
            Strategy::LessThanInitialShare,
        ],
        Some(a) => {
            let v: Vec<Strategy> = a
                .iter()
                .map(|s| match s.as_str() {
                    Some("LessThanOrEqualToFinalShare") => Ok(Strategy::LessThanOrEqualToFinalShare),
                    Some("LessThanInitialShare") => Ok(Strategy::LessThanInitialShare),
                    _ => Err(at.err(
                        "fairSharing.preemptionStrategies",
                        format!("Unsupported value: {s}"),
                    )),
                })
                .collect::<Result<_, _>>()?;
            let ok = matches!(
                v.as_slice(),
                [Strategy::LessThanOrEqualToFinalShare]
                    | [Strategy::LessThanInitialShare]
                    | [
                        Strategy::LessThanOrEqualToFinalShare,
                        Strategy::LessThanInitialShare
                    ]
            );
            if !ok {
                return Err(at.err(
                    "fairSharing.preemptionStrategies",
                    "Unsupported value: supported values: [LessThanOrEqualToFinalShare], [LessThanInitialShare], [LessThanOrEqualToFinalShare, LessThanInitialShare]",
                ));
            }
            v
        }
    };
    Ok((fair_sharing, strategies))
}

/// The Configuration's `waitForPodsReady`, if enabled (by default in v1beta2 once the section is
/// there, only if enabled in v1beta1).
fn wait_for_pods_ready(
    obj: &Map<String, Value>,
    at: &At<'_>,
    v1beta1: bool,
) -> Result<Option<PodsReady>, ManifestError> {
    let Some(w) = obj.get("waitForPodsReady").and_then(Value::as_object) else {
        return Ok(None);
    };
    let enabled = w.get("enable").and_then(Value::as_bool).unwrap_or(!v1beta1);
    if !enabled {
        return Ok(None);
    }
    let dur = |key: &str, default: f64| -> Result<f64, ManifestError> {
        match w.get(key).and_then(Value::as_str) {
            None => Ok(default),
            Some(s) => go_duration(s).ok_or_else(|| {
                at.err(
                    &format!("waitForPodsReady.{key}"),
                    format!("invalid duration '{s}'"),
                )
            }),
        }
    };
    let timeout_s = dur("timeout", 300.0 * 6.0)?;
    let rs = w
        .get("requeuingStrategy")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(Some(PodsReady {
        timeout_s,
        recovery_timeout_s: match w.get("recoveryTimeout").and_then(Value::as_str) {
            None => None,
            Some(s) => Some(go_duration(s).ok_or_else(|| {
                at.err(
                    "waitForPodsReady.recoveryTimeout",
                    format!("invalid duration '{s}'"),
                )
            })?),
        },
        block_admission: w
            .get("blockAdmission")
            .and_then(Value::as_bool)
            .unwrap_or(v1beta1),
        backoff_base_s: rs
            .get("backoffBaseSeconds")
            .and_then(Value::as_f64)
            .unwrap_or(60.0),
        backoff_max_s: rs
            .get("backoffMaxSeconds")
            .and_then(Value::as_f64)
            .unwrap_or(3600.0),
        backoff_limit: rs
            .get("backoffLimitCount")
            .and_then(Value::as_u64)
            .map(|x| x.min(u64::from(u32::MAX)) as u32),
        requeue_at_eviction_time: rs.get("timestamp").and_then(Value::as_str) != Some("Creation"),
    }))
}

fn string_map(v: Option<&Value>, at: &At<'_>, path: &str) -> Result<BTreeMap<String, String>, ManifestError> {
    let mut out = BTreeMap::new();
    if let Some(v) = v {
        let m = v.as_object().ok_or_else(|| at.err(path, "expected a mapping"))?;
        for (k, v) in m {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(at.err(path, format!("label {k}: expected a string"))),
            };
            out.insert(k.clone(), s);
        }
    }
    Ok(out)
}

/// A Go duration ("30m", "1h30m", "90s", "1.5h") in seconds.
pub fn go_duration(s: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(0.0);
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Every Cohort's chain of parents must end (`at`: per cohort, its file and parent field):
/// Kueue keeps the ClusterQueues under a cycle inactive, and their jobs would wait forever. A
/// parent no Cohort object declares is an implicit cohort, as in Kueue, and ends the chain.
fn check_cohort_cycles(cohorts: &[QuotaNodeSpec], at: &[(String, &str)]) -> Result<(), ManifestError> {
    let index: BTreeMap<&str, usize> = (cohorts.iter().enumerate())
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    for (c, (file, field)) in cohorts.iter().zip(at) {
        let err = |m: String| {
            let at = At {
                file,
                what: format!("Cohort '{}'", c.name),
            };
            Err(at.err(field, m))
        };
        if c.parent.as_deref() == Some(c.name.as_str()) {
            return err("a Cohort cannot be its own parent".into());
        }
        let mut path = vec![c.name.as_str()];
        let mut seen = BTreeSet::from([c.name.as_str()]);
        let mut cur = c.parent.as_deref();
        while let Some(p) = cur {
            if p == c.name {
                path.push(p);
                return err(format!("the cohort tree has a cycle: {}", path.join(" -> ")));
            }
            if !seen.insert(p) {
                // A cycle above this cohort, not through it: reported at one of its members.
                break;
            }
            path.push(p);
            cur = index.get(p).and_then(|&i| cohorts[i].parent.as_deref());
        }
    }
    Ok(())
}

/// Every LocalQueue (read from `files`) must point to a ClusterQueue of the manifests.
fn check_local_queues(
    lqs: &[LocalQueue],
    files: &[String],
    cqs: &[(QuotaNodeSpec, CqSettings)],
) -> Result<(), ManifestError> {
    for (lq, file) in lqs.iter().zip(files) {
        if !cqs.iter().any(|(s, _)| s.name == lq.cluster_queue) {
            let known: Vec<&str> = cqs.iter().map(|(s, _)| s.name.as_str()).collect();
            let at = At {
                file,
                what: format!("LocalQueue '{}'", lq.name),
            };
            return Err(at.err(
                "spec.clusterQueue",
                format!(
                    "ClusterQueue '{}' does not exist (ClusterQueues: {})",
                    lq.cluster_queue,
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAVOR: &str =
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: h100\n";

    fn cq(spec: &str) -> String {
        format!(
            "{FLAVOR}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: a\nspec:\n  namespaceSelector: {{}}\n{spec}"
        )
    }

    const GROUP: &str = "  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 8\n";

    fn err(text: &str) -> String {
        load_str(text, "m.yaml", "nvidia.com/gpu")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn kueue_validation_errors() {
        assert_eq!(
            err(&cq(&format!("{GROUP}        borrowingLimit: 2\n"))),
            "m.yaml: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].resources[0].borrowingLimit: Invalid value: 2: must be nil when cohort is empty"
        );
        assert_eq!(
            err(&cq(&format!("  cohortName: c\n{GROUP}        lendingLimit: 9\n"))),
            "m.yaml: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].resources[0].lendingLimit: Invalid value: 9: must be less than or equal to the nominalQuota"
        );
        assert_eq!(
            err(&cq(&format!(
                "  cohortName: c\n{GROUP}  preemption:\n    borrowWithinCohort:\n      policy: LowerPriority\n"
            ))),
            "m.yaml: ClusterQueue 'a': spec.preemption: Invalid value: reclaimWithinCohort=Never and borrowWithinCohort.Policy!=Never"
        );
        assert_eq!(
            err(&cq(&format!(
                "{GROUP}  flavorFungibility:\n    preference: PreemptionOverBorrowing\n"
            ))),
            "m.yaml: ClusterQueue 'a': spec.flavorFungibility.preference: Invalid value: preference can only be set when whenCanBorrow and whenCanPreempt are both TryNextFlavor"
        );
        assert!(
            err(&cq(&GROUP.replace("nominalQuota: 8", "nominalQuota: eight")))
                .ends_with("nominalQuota: invalid quantity 'eight'")
        );
        assert!(
            err(&cq(&format!("{GROUP}  queueingStrategy: LIFO\n"))).contains("Unsupported value: \"LIFO\"")
        );
        assert!(err("a: [1, 2\nb: 3").starts_with("m.yaml: line 2 column 2"));
        assert_eq!(err(FLAVOR), "m.yaml: no ClusterQueue found");
        let two_groups = GROUP.to_string() + "  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors: []\n";
        assert!(err(&cq(&two_groups)).contains("resource nvidia.com/gpu is in more than one resource group"));
    }

    #[test]
    fn both_api_versions_and_the_configuration() {
        let v1 = format!(
            "{FLAVOR}---\napiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: a\nspec:\n  namespaceSelector: {{}}\n  cohort: c\n{GROUP}---\napiVersion: config.kueue.x-k8s.io/v1beta1\nkind: Configuration\nfairSharing:\n  enable: true\n  preemptionStrategies: [LessThanInitialShare]\nwaitForPodsReady:\n  enable: true\n  timeout: 5m\n"
        );
        let c = load_str(&v1, "m.yaml", "nvidia.com/gpu").unwrap();
        assert_eq!(c.cluster_queues[0].0.parent.as_deref(), Some("c"));
        let g = c.global.unwrap();
        assert!(g.fair_sharing);
        assert_eq!(g.strategies, vec![Strategy::LessThanInitialShare]);
        let pr = g.pods_ready.unwrap();
        // v1beta1: blockAdmission defaults to true.
        assert_eq!((pr.timeout_s, pr.block_admission), (300.0, true));
        let v2 = format!(
            "{}---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing: {{}}\n",
            cq(&format!("  cohortName: c\n{GROUP}"))
        );
        let g = load_str(&v2, "m.yaml", "nvidia.com/gpu").unwrap().global.unwrap();
        assert!(g.fair_sharing);
        assert_eq!(g.strategies.len(), 2);
        assert_eq!(g.pods_ready, None);
    }

    #[test]
    fn unmodelled_fields_are_warned_about_once() {
        let text = format!(
            "{}  admissionChecks: [prov]\n  colour: red\n---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: b\nspec:\n  admissionChecks: [prov]\n{GROUP}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: AdmissionCheck\nmetadata:\n  name: prov\n",
            cq(GROUP)
        );
        let c = load_str(&text, "m.yaml", "nvidia.com/gpu").unwrap();
        assert_eq!(
            c.warnings,
            vec![
                "AdmissionCheck 'prov': kind AdmissionCheck is not modelled by fairway; ignored",
                "ClusterQueue 'a': spec.admissionChecks is not modelled by fairway (admission checks are not simulated); ignored",
                "ClusterQueue 'a': spec.colour is not modelled by fairway (unknown to this version of fairway); ignored",
                "ClusterQueue 'b': no spec.namespaceSelector: real Kueue admits nothing from such a queue; fairway ignores namespaces and admits as if it were {}",
            ]
        );
    }

    fn cohort(name: &str, parent_key: &str, parent: &str) -> String {
        format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: {name}\nspec:\n  {parent_key}: {parent}\n"
        )
    }

    #[test]
    fn a_missing_flavor_is_an_error() {
        let a100 = GROUP.replace("name: h100\n      resources", "name: a100\n      resources");
        assert_eq!(
            err(&cq(&a100)),
            "m.yaml: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].name: ResourceFlavor 'a100' does not exist (ResourceFlavors: h100)"
        );
        // In a Cohort's own quota too, and with no ResourceFlavor at all.
        let in_cohort = format!(
            "{}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: c\nspec:\n{a100}",
            cq(GROUP)
        );
        assert_eq!(
            err(&in_cohort),
            "m.yaml: Cohort 'c': spec.resourceGroups[0].flavors[0].name: ResourceFlavor 'a100' does not exist (ResourceFlavors: h100)"
        );
        let alone = cq(GROUP).replace(FLAVOR, "");
        assert_eq!(
            err(&alone),
            "m.yaml: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].name: ResourceFlavor 'h100' does not exist (no ResourceFlavor is defined)"
        );
    }

    #[test]
    fn a_cohort_cycle_is_an_error() {
        let in_x = cq(&format!("  cohortName: x\n{GROUP}"));
        let pair = format!(
            "{in_x}{}{}",
            cohort("x", "parentName", "y"),
            cohort("y", "parentName", "x")
        );
        assert_eq!(
            err(&pair),
            "m.yaml: Cohort 'x': spec.parentName: the cohort tree has a cycle: x -> y -> x"
        );
        // v1alpha1 spells the field `parent`.
        let own = format!("{in_x}{}", cohort("x", "parent", "x"))
            .replace("v1beta2\nkind: Cohort", "v1alpha1\nkind: Cohort");
        assert_eq!(
            err(&own),
            "m.yaml: Cohort 'x': spec.parent: a Cohort cannot be its own parent"
        );
        // x hangs below the cycle y -> z -> y: the error names the cycle.
        let below = format!(
            "{in_x}{}{}{}",
            cohort("x", "parentName", "y"),
            cohort("y", "parentName", "z"),
            cohort("z", "parentName", "y")
        );
        assert_eq!(
            err(&below),
            "m.yaml: Cohort 'y': spec.parentName: the cohort tree has a cycle: y -> z -> y"
        );
        // A chain ending at a cohort no object declares is a tree (the root is implicit).
        let chain = format!(
            "{in_x}{}{}",
            cohort("x", "parentName", "y"),
            cohort("y", "parentName", "root")
        );
        let c = load_str(&chain, "m.yaml", "nvidia.com/gpu").unwrap();
        assert_eq!(c.cohorts[1].parent.as_deref(), Some("root"));
    }

    #[test]
    fn a_local_queue_to_a_missing_cluster_queue_is_an_error() {
        let lq = |target: &str| {
            format!(
                "{}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: LocalQueue\nmetadata:\n  name: team\n  namespace: ns\nspec:\n  clusterQueue: {target}\n",
                cq(GROUP)
            )
        };
        assert!(load_str(&lq("a"), "m.yaml", "nvidia.com/gpu").is_ok());
        assert_eq!(
            err(&lq("b")),
            "m.yaml: LocalQueue 'team': spec.clusterQueue: ClusterQueue 'b' does not exist (ClusterQueues: a)"
        );
    }

    #[test]
    fn an_unknown_kueue_api_version_is_an_error() {
        let v9 = cq(GROUP).replace("v1beta2\nkind: ClusterQueue", "v9\nkind: ClusterQueue");
        assert_eq!(
            err(&v9),
            "m.yaml: document 2 (ClusterQueue 'a'): apiVersion: unknown version 'v9' of kueue.x-k8s.io (known: v1alpha1, v1beta1, v1beta2)"
        );
        let bare = cq(GROUP).replace(
            "kueue.x-k8s.io/v1beta2\nkind: ClusterQueue",
            "kueue.x-k8s.io\nkind: ClusterQueue",
        );
        assert!(err(&bare).ends_with(
            "apiVersion: unknown version '' of kueue.x-k8s.io (known: v1alpha1, v1beta1, v1beta2)"
        ));
        // A kind fairway does not read is refused too: its version is unknown.
        let check = format!(
            "{}---\napiVersion: kueue.x-k8s.io/v2\nkind: AdmissionCheck\nmetadata:\n  name: prov\n",
            cq(GROUP)
        );
        assert_eq!(
            err(&check),
            "m.yaml: document 3 (AdmissionCheck 'prov'): apiVersion: unknown version 'v2' of kueue.x-k8s.io (known: v1alpha1, v1beta1, v1beta2)"
        );
        let config = format!(
            "{}---\napiVersion: config.kueue.x-k8s.io/v1alpha1\nkind: Configuration\n",
            cq(GROUP)
        );
        assert_eq!(
            err(&config),
            "m.yaml: document 3 (Configuration): apiVersion: unknown version 'v1alpha1' of config.kueue.x-k8s.io (known: v1beta1, v1beta2)"
        );
        // Known versions load; other groups are skipped with a warning, as before.
        let other = format!(
            "{}---\napiVersion: example.com/v9\nkind: ResourceFlavor\nmetadata:\n  name: b200\n",
            cq(GROUP).replace("v1beta2\nkind: ResourceFlavor", "v1alpha1\nkind: ResourceFlavor")
        );
        let c = load_str(&other, "m.yaml", "nvidia.com/gpu").unwrap();
        assert_eq!(
            c.warnings,
            vec!["ResourceFlavor 'b200': apiVersion 'example.com/v9' is not kueue.x-k8s.io; ignored"]
        );
    }

    const CPU_GROUP: &str = "  resourceGroups:\n  - coveredResources: [cpu]\n    flavors:\n    - name: h100\n      resources:\n      - name: cpu\n        nominalQuota: ";

    #[test]
    fn quantities_too_large_or_negative_are_errors() {
        // Quoted, the exact text; unquoted, YAML reads a float, written back as 1.7014118346046924e+35.
        let wrap = "170141183460469231731687303715884105.999";
        let path = "m.yaml: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].resources[0].nominalQuota";
        assert_eq!(
            err(&cq(&format!("{CPU_GROUP}\"{wrap}\"\n"))),
            format!(
                "{path}: invalid quantity '{wrap}': too large, fairway holds at most 1152921504606846974m"
            )
        );
        assert_eq!(
            err(&cq(&format!("{CPU_GROUP}{wrap}\n"))),
            format!(
                "{path}: invalid quantity '1.7014118346046924e+35': too large, fairway holds at most 1152921504606846974m"
            )
        );
        assert_eq!(
            err(&cq(&format!("{CPU_GROUP}1e300\n"))),
            format!(
                "{path}: invalid quantity '1e+300': too large, fairway holds at most 1152921504606846974m"
            )
        );
        assert_eq!(
            err(&cq(&format!("{CPU_GROUP}-1\n"))),
            format!("{path}: invalid quantity '-1': must be greater than or equal to 0")
        );
        let limit = cq(&format!(
            "  cohortName: c\n{CPU_GROUP}4\n        borrowingLimit: \"1e400\"\n"
        ));
        assert!(err(&limit).ends_with(
            "resources[0].borrowingLimit: invalid quantity '1e400': too large, fairway holds at most 1152921504606846974m"
        ));
        let weight = cq(&format!("{GROUP}  fairSharing:\n    weight: \"-0.5\"\n"));
        assert_eq!(
            err(&weight),
            "m.yaml: ClusterQueue 'a': spec.fairSharing.weight: invalid quantity '-0.5': must be greater than or equal to 0"
        );
        // Kubernetes' other forms are read: 1e3 cores, .5 cores, 100n cores (rounded up to 1m).
        for (text, milli) in [
            ("\"1e3\"", 1_000_000),
            ("\".5\"", 500),
            ("100n", 1),
            ("\"+8\"", 8000),
        ] {
            let c = load_str(&cq(&format!("{CPU_GROUP}{text}\n")), "m.yaml", "nvidia.com/gpu").unwrap();
            let q = c.cluster_queues[0].0.quotas.values().next().unwrap();
            assert_eq!(q.nominal, milli, "{text}");
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("30m"), Some(1800.0));
        assert_eq!(go_duration("1h30m"), Some(5400.0));
        assert_eq!(go_duration("1.5s"), Some(1.5));
        assert_eq!(go_duration("5x"), None);
        assert_eq!(go_duration(""), None);
    }
}
