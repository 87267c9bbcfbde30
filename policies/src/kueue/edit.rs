//! What-if changes to Kueue manifests, applied after they are read: a ClusterQueue's quota for a
//! flavor and resource, its fair-sharing weight, its preemption settings, named as in the
//! manifests.

use super::model::{Config, Reclaim, WithinCq};
use super::quantity;

/// One change.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    /// Quantities as Kueue writes them (`16`, `500m`, `64Gi`); a limit of `none` removes it.
    Quota {
        cluster_queue: String,
        flavor: String,
        resource: String,
        nominal: Option<String>,
        borrowing_limit: Option<String>,
        lending_limit: Option<String>,
    },
    Weight {
        cluster_queue: String,
        weight: f64,
    },
    /// `reclaimWithinCohort` (Never, LowerPriority, Any) and `withinClusterQueue` (Never,
    /// LowerPriority, LowerOrNewerEqualPriority).
    Preemption {
        cluster_queue: String,
        reclaim_within_cohort: Option<String>,
        within_cluster_queue: Option<String>,
    },
}

/// An edit that does not fit the manifests.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    #[error("no ClusterQueue '{name}' in the manifests (ClusterQueues: {})", known.join(", "))]
    NoClusterQueue { name: String, known: Vec<String> },
    #[error("no ResourceFlavor '{0}'")]
    NoFlavor(String),
    #[error("no resource '{name}' in the manifests (resources: {})", known.join(", "))]
    NoResource { name: String, known: Vec<String> },
    /// A quantity of `Edit::Quota` (`field`: nominal, borrowing_limit or lending_limit) that
    /// is not one, is negative or is too large.
    #[error("{field} of ClusterQueue '{cluster_queue}' (flavor {flavor}, resource {resource}): {error}")]
    Quantity {
        cluster_queue: String,
        flavor: String,
        resource: String,
        field: &'static str,
        error: Box<super::quantity::QuantityError>,
    },
    #[error("ClusterQueue '{cluster_queue}' has no quota for {resource} in flavor {flavor}")]
    NoQuota {
        cluster_queue: String,
        resource: String,
        flavor: String,
    },
    #[error("ClusterQueue '{0}': the lending limit is above the nominal quota")]
    LendingAboveNominal(String),
    #[error("weight must be >= 0, found {0}")]
    Weight(f64),
    #[error("{field} is {allowed}, not '{got}'")]
    Choice {
        field: &'static str,
        allowed: &'static str,
        got: String,
    },
}

fn cq_index(cfg: &Config, name: &str) -> Result<usize, EditError> {
    cfg.cluster_queues
        .iter()
        .position(|(n, _)| n.name == name)
        .ok_or_else(|| EditError::NoClusterQueue {
            name: name.to_string(),
            known: cfg.cluster_queues.iter().map(|(n, _)| n.name.clone()).collect(),
        })
}

/// Applies the edits in order.
pub fn apply(cfg: &mut Config, edits: &[Edit]) -> Result<(), EditError> {
    for e in edits {
        match e {
            Edit::Quota {
                cluster_queue,
                flavor,
                resource,
                nominal,
                borrowing_limit,
                lending_limit,
            } => {
                let c = cq_index(cfg, cluster_queue)?;
                let f = cfg
                    .flavors
                    .iter()
                    .position(|x| &x.name == flavor)
                    .ok_or_else(|| EditError::NoFlavor(flavor.clone()))?;
                let r = cfg.resources.iter().position(|x| x == resource).ok_or_else(|| {
                    EditError::NoResource {
                        name: resource.clone(),
                        known: cfg.resources.clone(),
                    }
                })?;
                let amount = |field: &'static str, t: &str| {
                    quantity::parse(resource, t).map_err(|error| EditError::Quantity {
                        cluster_queue: cluster_queue.clone(),
                        flavor: flavor.clone(),
                        resource: resource.clone(),
                        field,
                        error: Box::new(error),
                    })
                };
                let q =
                    cfg.cluster_queues[c]
                        .0
                        .quotas
                        .get_mut(&(f, r))
                        .ok_or_else(|| EditError::NoQuota {
                            cluster_queue: cluster_queue.clone(),
                            resource: resource.clone(),
                            flavor: flavor.clone(),
                        })?;
                if let Some(t) = nominal {
                    q.nominal = amount("nominal", t)?;
                }
                let limit = |field, t: &str| {
                    if t == "none" {
                        Ok(None)
                    } else {
                        amount(field, t).map(Some)
                    }
                };
                if let Some(t) = borrowing_limit {
                    q.borrowing_limit = limit("borrowing_limit", t)?;
                }
                if let Some(t) = lending_limit {
                    q.lending_limit = limit("lending_limit", t)?;
                }
                if q.lending_limit.is_some_and(|l| l > q.nominal) {
                    return Err(EditError::LendingAboveNominal(cluster_queue.clone()));
                }
            }
            Edit::Weight {
                cluster_queue,
                weight,
            } => {
                if !(weight.is_finite() && *weight >= 0.0) {
                    return Err(EditError::Weight(*weight));
                }
                let c = cq_index(cfg, cluster_queue)?;
                cfg.cluster_queues[c].0.weight = *weight;
            }
            Edit::Preemption {
                cluster_queue,
                reclaim_within_cohort,
                within_cluster_queue,
            } => {
                let c = cq_index(cfg, cluster_queue)?;
                let s = &mut cfg.cluster_queues[c].1;
                if let Some(t) = reclaim_within_cohort {
                    s.reclaim = match t.as_str() {
                        "Never" => Reclaim::Never,
                        "LowerPriority" => Reclaim::LowerPriority,
                        "Any" => Reclaim::Any,
                        _ => {
                            return Err(EditError::Choice {
                                field: "reclaimWithinCohort",
                                allowed: "Never, LowerPriority or Any",
                                got: t.clone(),
                            });
                        }
                    };
                }
                if let Some(t) = within_cluster_queue {
                    s.within = match t.as_str() {
                        "Never" => WithinCq::Never,
                        "LowerPriority" => WithinCq::LowerPriority,
                        "LowerOrNewerEqualPriority" => WithinCq::LowerOrNewerEqualPriority,
                        _ => {
                            return Err(EditError::Choice {
                                field: "withinClusterQueue",
                                allowed: "Never, LowerPriority or LowerOrNewerEqualPriority",
                                got: t.clone(),
                            });
                        }
                    };
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n  name: default\n---\n\
apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: team-a\nspec:\n  cohort: all\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: default\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 8\n        borrowingLimit: 4\n";

    #[test]
    fn edits_change_exactly_what_they_name() {
        let mut cfg = super::super::manifest::load_str(YAML, "m.yaml", "nvidia.com/gpu").unwrap();
        let quota = |cfg: &Config| *cfg.cluster_queues[0].0.quotas.values().next().unwrap();
        assert_eq!((quota(&cfg).nominal, quota(&cfg).borrowing_limit), (8, Some(4)));
        let edits = [
            Edit::Quota {
                cluster_queue: "team-a".into(),
                flavor: "default".into(),
                resource: "nvidia.com/gpu".into(),
                nominal: Some("16".into()),
                borrowing_limit: Some("none".into()),
                lending_limit: Some("2".into()),
            },
            Edit::Weight {
                cluster_queue: "team-a".into(),
                weight: 2.5,
            },
            Edit::Preemption {
                cluster_queue: "team-a".into(),
                reclaim_within_cohort: Some("Any".into()),
                within_cluster_queue: Some("LowerPriority".into()),
            },
        ];
        apply(&mut cfg, &edits).unwrap();
        let q = quota(&cfg);
        assert_eq!(
            (q.nominal, q.borrowing_limit, q.lending_limit),
            (16, None, Some(2))
        );
        assert_eq!(cfg.cluster_queues[0].0.weight, 2.5);
        assert_eq!(
            (cfg.cluster_queues[0].1.reclaim, cfg.cluster_queues[0].1.within),
            (Reclaim::Any, WithinCq::LowerPriority)
        );
        let e = apply(
            &mut cfg,
            &[Edit::Weight {
                cluster_queue: "team-b".into(),
                weight: 1.0,
            }],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no ClusterQueue 'team-b' in the manifests (ClusterQueues: team-a)"
        );
    }

    #[test]
    fn edit_quantities_are_read_as_in_the_manifests() {
        let mut cfg = super::super::manifest::load_str(YAML, "m.yaml", "nvidia.com/gpu").unwrap();
        let quota = |nominal: &str, borrowing_limit: &str| Edit::Quota {
            cluster_queue: "team-a".into(),
            flavor: "default".into(),
            resource: "nvidia.com/gpu".into(),
            nominal: Some(nominal.into()),
            borrowing_limit: Some(borrowing_limit.into()),
            lending_limit: None,
        };
        let wrap = "170141183460469231731687303715884105.999";
        let e = apply(&mut cfg, &[quota(wrap, "none")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "nominal of ClusterQueue 'team-a' (flavor default, resource nvidia.com/gpu): invalid quantity '{wrap}': too large, fairway holds at most 1152921504606846974"
            )
        );
        let e = apply(&mut cfg, &[quota("8", "-1")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "borrowing_limit of ClusterQueue 'team-a' (flavor default, resource nvidia.com/gpu): invalid quantity '-1': must be greater than or equal to 0"
        );
        let e = apply(&mut cfg, &[quota("8", "1e400")]).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("invalid quantity '1e400': too large, fairway holds at most 1152921504606846974")
        );
        // 1e3 = 1000; `none` still removes a limit.
        apply(&mut cfg, &[quota("1e3", "none")]).unwrap();
        let q = *cfg.cluster_queues[0].0.quotas.values().next().unwrap();
        assert_eq!((q.nominal, q.borrowing_limit), (1000, None));
    }
}
