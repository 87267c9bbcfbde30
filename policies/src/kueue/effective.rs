//! The manifests as a run used them: the objects read, with the what-if edits written into
//! them as Kueue would store them, printed as YAML, and a unified diff against the objects as
//! read. Both sides are printed the same way, so the diff holds the edits and nothing else: it
//! can be reviewed, and applied with `kubectl apply -f manifests.yaml`.

use super::edit::Edit;
use serde_json::{Map, Value};

/// The manifests after the edits, and the diff against the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// Every object read, in order, as YAML documents.
    pub yaml: String,
    /// A unified diff from the input (printed the same way) to `yaml`; empty when the edits
    /// changed nothing.
    pub diff: String,
}

/// Writes `edits` into `objects` (as read by `manifest::load_with_objects`). Edits were checked
/// against the model already (`edit::apply`); one that names what the objects do not hold is an
/// error here too.
pub fn effective(objects: &[Value], edits: &[Edit]) -> Result<Effective, String> {
    let mut edited = objects.to_vec();
    for e in edits {
        apply(&mut edited, e)?;
    }
    let before = print(objects)?;
    let yaml = print(&edited)?;
    let diff = if before == yaml {
        String::new()
    } else {
        similar::TextDiff::from_lines(&before, &yaml)
            .unified_diff()
            .context_radius(3)
            .header("manifests as read", "manifests as run")
            .to_string()
    };
    Ok(Effective { yaml, diff })
}

fn print(objects: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(o).map_err(|e| format!("cannot print a manifest: {e}"))?);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

fn cq_spec<'a>(objects: &'a mut [Value], name: &str) -> Result<&'a mut Map<String, Value>, String> {
    objects
        .iter_mut()
        .find(|o| {
            o.get("kind").and_then(Value::as_str) == Some("ClusterQueue")
                && o.get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(Value::as_str)
                    == Some(name)
        })
        .and_then(|o| o.as_object_mut())
        .map(|o| {
            o.entry("spec")
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("a ClusterQueue's spec is an object (checked when read)")
        })
        .ok_or_else(|| format!("no ClusterQueue '{name}' in the manifests"))
}

/// A child object, made if missing.
fn child<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let v = m.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("made an object")
}

fn apply(objects: &mut [Value], e: &Edit) -> Result<(), String> {
    match e {
        Edit::Quota {
            cluster_queue,
            flavor,
            resource,
            nominal,
            borrowing_limit,
            lending_limit,
        } => {
            let spec = cq_spec(objects, cluster_queue)?;
            let entry = spec
                .get_mut("resourceGroups")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .filter_map(|g| g.get_mut("flavors").and_then(Value::as_array_mut))
                .flatten()
                .filter(|f| f.get("name").and_then(Value::as_str) == Some(flavor))
                .filter_map(|f| f.get_mut("resources").and_then(Value::as_array_mut))
                .flatten()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(resource))
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    format!("ClusterQueue '{cluster_queue}' has no quota for {resource} in flavor {flavor}")
                })?;
            for (key, v) in [
                ("nominalQuota", nominal),
                ("borrowingLimit", borrowing_limit),
                ("lendingLimit", lending_limit),
            ] {
                match v.as_deref() {
                    None => {}
                    Some("none") if key != "nominalQuota" => {
                        entry.remove(key);
                    }
                    Some(t) => {
                        entry.insert(key.to_string(), quantity_value(t));
                    }
                }
            }
        }
        Edit::Weight {
            cluster_queue,
            weight,
        } => {
            let spec = cq_spec(objects, cluster_queue)?;
            child(spec, "fairSharing").insert("weight".into(), Value::String(weight_text(*weight)));
        }
        Edit::Preemption {
            cluster_queue,
            reclaim_within_cohort,
            within_cluster_queue,
        } => {
            let spec = cq_spec(objects, cluster_queue)?;
            let p = child(spec, "preemption");
            if let Some(r) = reclaim_within_cohort {
                p.insert("reclaimWithinCohort".into(), Value::String(r.clone()));
            }
            if let Some(w) = within_cluster_queue {
                p.insert("withinClusterQueue".into(), Value::String(w.clone()));
            }
        }
    }
    Ok(())
}

/// A quantity as a manifest holds it: a plain whole number as a number (as people write
/// `nominalQuota: 16`), anything else (`64Gi`, `500m`) as text.
fn quantity_value(t: &str) -> Value {
    match t.parse::<u64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::String(t.to_string()),
    }
}

/// A weight as a Kubernetes quantity: whole numbers plainly, else in thousandths (`500m`), which
/// is the precision Kueue keeps.
fn weight_text(w: f64) -> String {
    let milli = (w * 1000.0).round() as i64;
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str = "apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata:
  name: team-a
spec:
  namespaceSelector: {}
  cohort: all
  resourceGroups:
  - coveredResources: [nvidia.com/gpu]
    flavors:
    - name: h100
      resources:
      - name: nvidia.com/gpu
        nominalQuota: 16
        borrowingLimit: 8
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata:
  name: h100
";

    fn objects() -> Vec<Value> {
        crate::kueue::manifest::objects(INPUT, "m.yaml").unwrap()
    }

    #[test]
    fn no_edits_write_the_input_and_an_empty_diff() {
        let e = effective(&objects(), &[]).unwrap();
        assert!(e.diff.is_empty());
        // What is written reads back as the same objects.
        assert_eq!(
            crate::kueue::manifest::objects(&e.yaml, "out.yaml").unwrap(),
            objects()
        );
    }

    #[test]
    fn edits_are_written_where_kueue_keeps_them_and_the_diff_holds_only_them() {
        let edits = [
            Edit::Quota {
                cluster_queue: "team-a".into(),
                flavor: "h100".into(),
                resource: "nvidia.com/gpu".into(),
                nominal: Some("24".into()),
                borrowing_limit: Some("none".into()),
                lending_limit: Some("4".into()),
            },
            Edit::Weight {
                cluster_queue: "team-a".into(),
                weight: 0.5,
            },
            Edit::Preemption {
                cluster_queue: "team-a".into(),
                reclaim_within_cohort: Some("Any".into()),
                within_cluster_queue: None,
            },
        ];
        let e = effective(&objects(), &edits).unwrap();
        let back = crate::kueue::manifest::objects(&e.yaml, "out.yaml").unwrap();
        let res = &back[0]["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0];
        assert_eq!(res["nominalQuota"], 24);
        assert_eq!(res.get("borrowingLimit"), None);
        assert_eq!(res["lendingLimit"], 4);
        assert_eq!(back[0]["spec"]["fairSharing"]["weight"], "500m");
        assert_eq!(back[0]["spec"]["preemption"]["reclaimWithinCohort"], "Any");
        assert_eq!(back[1], objects()[1]);
        // The diff's changed lines are the edits' and no other.
        let changed: Vec<&str> = e
            .diff
            .lines()
            .filter(|l| {
                (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")
            })
            .map(str::trim)
            .collect();
        assert_eq!(changed.len(), 8, "{}", e.diff);
        assert!(
            changed
                .iter()
                .any(|l| l.starts_with('-') && l.contains("nominalQuota: 16")),
            "{}",
            e.diff
        );
        assert!(
            changed
                .iter()
                .any(|l| l.starts_with('+') && l.ends_with("nominalQuota: 24")),
            "{}",
            e.diff
        );
        assert!(
            e.diff
                .starts_with("--- manifests as read\n+++ manifests as run\n"),
            "{}",
            e.diff
        );
    }

    #[test]
    fn an_edit_of_what_is_not_there_is_an_error() {
        let e = effective(
            &objects(),
            &[Edit::Weight {
                cluster_queue: "nobody".into(),
                weight: 1.0,
            }],
        )
        .unwrap_err();
        assert_eq!(e, "no ClusterQueue 'nobody' in the manifests");
    }
}
