//! What-if edits: `[[whatif]]` entries applied, in order, on top of the scenario as written:
//! change the hardware, the load, the policy's parameters, or the span of the trace.

use fairway_engine::{ClusterSpec, SimDuration, SimTime, Workload};
use fairway_traces::PoolRow;
use rand::{RngExt, SeedableRng};
use serde::Deserialize;

/// One edit. In a scenario: `[[whatif]]` followed by exactly one of these keys.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WhatIf {
    /// Add nodes to a pool (a negative number removes them; a pool left empty is dropped).
    AddNodes { pool: String, nodes: i64 },
    /// A whole new pool, written like `[[cluster.pool]]`.
    AddPool(PoolRow),
    /// Multiply the arrival rate: submit times are divided by it (1.2 = 20 % more load).
    ScaleLoad(f64),
    /// Multiply every run time (and runtime estimate).
    ScaleDuration(f64),
    /// Multiply one team's load: below 1, each of its jobs is kept with that probability; above 1,
    /// each job is copied floor(scale) times more and once more with the fractional part as
    /// probability (seeded by the scenario's seed). Copies are named `<id>#<k>`.
    TeamLoad { team: String, scale: f64 },
    /// Set a policy parameter, as in `[policy] params`.
    PolicyParam { key: String, value: toml::Value },
    /// Keep only the jobs submitted in [from_s, to_s).
    Window { from_s: f64, to_s: f64 },
    /// A Kueue ClusterQueue's quota for one flavor and resource (quantities as Kueue writes them;
    /// a limit of "none" removes it).
    KueueQuota {
        cluster_queue: String,
        flavor: String,
        resource: String,
        #[serde(default)]
        nominal: Option<toml::Value>,
        #[serde(default)]
        borrowing_limit: Option<toml::Value>,
        #[serde(default)]
        lending_limit: Option<toml::Value>,
    },
    /// A Kueue ClusterQueue's fair-sharing weight.
    KueueWeight { cluster_queue: String, weight: f64 },
    /// A Kueue ClusterQueue's preemption settings.
    KueuePreemption {
        cluster_queue: String,
        #[serde(default)]
        reclaim_within_cohort: Option<String>,
        #[serde(default)]
        within_cluster_queue: Option<String>,
    },
}

/// A quantity written as a number or as text.
fn quantity(v: &Option<toml::Value>) -> Option<String> {
    v.as_ref().map(|v| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// The Kueue edits among `edits`, in order.
pub fn kueue_edits(edits: &[WhatIf]) -> Vec<fairway_policies::kueue::edit::Edit> {
    use fairway_policies::kueue::edit::Edit;
    edits
        .iter()
        .filter_map(|e| match e {
            WhatIf::KueueQuota {
                cluster_queue,
                flavor,
                resource,
                nominal,
                borrowing_limit,
                lending_limit,
            } => Some(Edit::Quota {
                cluster_queue: cluster_queue.clone(),
                flavor: flavor.clone(),
                resource: resource.clone(),
                nominal: quantity(nominal),
                borrowing_limit: quantity(borrowing_limit),
                lending_limit: quantity(lending_limit),
            }),
            WhatIf::KueueWeight {
                cluster_queue,
                weight,
            } => Some(Edit::Weight {
                cluster_queue: cluster_queue.clone(),
                weight: *weight,
            }),
            WhatIf::KueuePreemption {
                cluster_queue,
                reclaim_within_cohort,
                within_cluster_queue,
            } => Some(Edit::Preemption {
                cluster_queue: cluster_queue.clone(),
                reclaim_within_cohort: reclaim_within_cohort.clone(),
                within_cluster_queue: within_cluster_queue.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// A what-if edit that cannot be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WhatIfError {
    #[error("{what} must be a number > 0, found {found}")]
    NotPositive { what: &'static str, found: f64 },
    #[error("team_load.scale must be in [0, 100], found {0}")]
    TeamScale(f64),
    #[error("window needs 0 <= from_s < to_s, found {from_s} and {to_s}")]
    Window { from_s: f64, to_s: f64 },
    /// The edit names a pool or team the scenario does not have.
    #[error("{edit}: no {what} '{name}' ({what}s: {})", known.join(", "))]
    NoSuch {
        edit: &'static str,
        what: &'static str,
        name: String,
        known: Vec<String>,
    },
    #[error("add_nodes: pool '{pool}' has {has} nodes, cannot add {add}")]
    AddNodes { pool: String, has: u32, add: i64 },
    #[error("add_pool: a pool '{0}' exists already")]
    PoolExists(String),
    #[error(transparent)]
    Pool(#[from] fairway_traces::TraceError),
    #[error("the edits leave the cluster without nodes")]
    NoNodes,
    /// An edit would take a time past [`MAX_MILLIS`](fairway_engine::time::MAX_MILLIS).
    #[error(
        "{edit} = {factor:?} takes the {what} of job '{job}', {} s, past the limit of {} s (about 285,000 years)",
        fairway_engine::resources::fmt_milli(*millis),
        fairway_engine::resources::fmt_milli(fairway_engine::time::MAX_MILLIS)
    )]
    TimeOutOfRange {
        edit: &'static str,
        factor: f64,
        job: String,
        what: &'static str,
        /// The time before the edit.
        millis: u64,
    },
    /// An edit would grow the workload past `[limits] max_jobs`.
    #[error(
        "{edit}: the trace would have {jobs} jobs, more than [limits] max_jobs = {max}; raise the limit if you mean it"
    )]
    TooManyJobs { edit: &'static str, jobs: u64, max: u64 },
}

impl WhatIf {
    /// Checks what can be checked before reading files.
    pub fn check(&self) -> Result<(), WhatIfError> {
        let positive = |x: f64, what: &'static str| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(WhatIfError::NotPositive { what, found: x })
            }
        };
        match self {
            WhatIf::ScaleLoad(x) => positive(*x, "scale_load"),
            WhatIf::ScaleDuration(x) => positive(*x, "scale_duration"),
            WhatIf::TeamLoad { scale, .. } if !(scale.is_finite() && *scale >= 0.0 && *scale <= 100.0) => {
                Err(WhatIfError::TeamScale(*scale))
            }
            WhatIf::Window { from_s, to_s }
                if !(from_s.is_finite() && to_s.is_finite() && 0.0 <= *from_s && from_s < to_s) =>
            {
                Err(WhatIfError::Window {
                    from_s: *from_s,
                    to_s: *to_s,
                })
            }
            _ => Ok(()),
        }
    }
}

/// Applies the hardware edits to a cluster description.
pub fn apply_cluster(edits: &[WhatIf], spec: &mut ClusterSpec, file: &str) -> Result<(), WhatIfError> {
    for e in edits {
        match e {
            WhatIf::AddNodes { pool, nodes } => {
                let known: Vec<String> = spec.pools.iter().map(|p| p.name.clone()).collect();
                let Some(p) = spec.pools.iter_mut().find(|p| &p.name == pool) else {
                    return Err(WhatIfError::NoSuch {
                        edit: "add_nodes",
                        what: "pool",
                        name: pool.clone(),
                        known,
                    });
                };
                let n = i64::from(p.nodes) + nodes;
                if !(0..=i64::from(u32::MAX)).contains(&n) {
                    return Err(WhatIfError::AddNodes {
                        pool: pool.clone(),
                        has: p.nodes,
                        add: *nodes,
                    });
                }
                p.nodes = n as u32;
            }
            WhatIf::AddPool(row) => {
                if spec.pools.iter().any(|p| p.name == row.name) {
                    return Err(WhatIfError::PoolExists(row.name.clone()));
                }
                spec.pools.push(row.to_spec(&format!("{file}: whatif.add_pool"))?);
            }
            _ => {}
        }
    }
    spec.pools.retain(|p| p.nodes > 0);
    if spec.pools.is_empty() {
        return Err(WhatIfError::NoNodes);
    }
    Ok(())
}

/// Applies the load edits to a workload.
pub fn apply_workload(edits: &[WhatIf], mut w: Workload, seed: u64) -> Result<Workload, WhatIfError> {
    for (i, e) in edits.iter().enumerate() {
        w = apply_edit(e, i, w, seed, u64::MAX)?;
    }
    Ok(w)
}

/// Applies edit number `index` of the scenario's list (the number seeds its random choices) to a
/// workload; an edit that is not a load edit leaves it as it is. Refuses to grow the workload past
/// `max_jobs` jobs (counted before the copies are made) or to take a time past
/// [`MAX_MILLIS`](fairway_engine::time::MAX_MILLIS).
pub fn apply_edit(
    edit: &WhatIf,
    index: usize,
    mut w: Workload,
    seed: u64,
    max_jobs: u64,
) -> Result<Workload, WhatIfError> {
    use fairway_engine::time::round_millis;
    match edit {
        WhatIf::ScaleLoad(x) => {
            for (j, name) in w.jobs.iter_mut().zip(w.names.iter()) {
                let scale = |ms: u64, what| {
                    round_millis(ms as f64 / x).ok_or_else(|| WhatIfError::TimeOutOfRange {
                        edit: "scale_load",
                        factor: *x,
                        job: name.to_string(),
                        what,
                        millis: ms,
                    })
                };
                j.submit = SimTime(scale(j.submit.millis(), "submit time")?);
                if let Some(r) = j.recorded_start.get() {
                    j.recorded_start
                        .set(SimTime(scale(r.millis(), "recorded start")?));
                }
            }
        }
        WhatIf::ScaleDuration(x) => {
            for (j, name) in w.jobs.iter_mut().zip(w.names.iter()) {
                let scale = |d: SimDuration, what| match round_millis(d.millis() as f64 * x) {
                    Some(ms) => Ok(SimDuration(ms.max(1))),
                    None => Err(WhatIfError::TimeOutOfRange {
                        edit: "scale_duration",
                        factor: *x,
                        job: name.to_string(),
                        what,
                        millis: d.millis(),
                    }),
                };
                // An open-ended job's run time is unknown: there is nothing to scale.
                if !j.open_ended {
                    j.work = scale(j.work, "run time")?;
                }
                if let Some(e) = j.estimate.get() {
                    j.estimate = scale(e, "runtime estimate")?.into();
                }
            }
        }
        WhatIf::TeamLoad { team, scale } => {
            let Some(t) = w.teams.iter().position(|n| n == team) else {
                return Err(WhatIfError::NoSuch {
                    edit: "team_load",
                    what: "team",
                    name: team.clone(),
                    known: w.teams.clone(),
                });
            };
            let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x7465_616d ^ (index as u64) << 32);
            let (whole, frac) = (scale.floor() as usize, scale.fract());
            // Counted with the same draws before any copy is made: a large scale on a large
            // trace must be refused, not allocated.
            let mut count = rng.clone();
            let jobs: u64 = w
                .jobs
                .iter()
                .map(|j| {
                    if j.team.index() == t {
                        (whole + usize::from(count.random::<f64>() < frac)) as u64
                    } else {
                        1
                    }
                })
                .sum();
            if jobs > max_jobs {
                return Err(WhatIfError::TooManyJobs {
                    edit: "team_load",
                    jobs,
                    max: max_jobs,
                });
            }
            let mut picks = Vec::with_capacity(jobs as usize);
            let mut copies = Vec::with_capacity(jobs as usize);
            for (k, j) in w.jobs.iter().enumerate() {
                if j.team.index() != t {
                    picks.push(k);
                    copies.push(0);
                    continue;
                }
                let n = whole + usize::from(rng.random::<f64>() < frac);
                for c in 0..n {
                    picks.push(k);
                    copies.push(c);
                }
            }
            // The workload is in submit order and so are `picks`, so `select` keeps their
            // order. Copies after the first get a suffix, so every job id stays unique.
            let mut nw = w.select(&picks);
            nw.names = (nw.names.iter().zip(&copies))
                .map(|(name, &c)| {
                    if c > 0 {
                        format!("{name}#{c}")
                    } else {
                        name.to_string()
                    }
                })
                .collect();
            w = nw;
        }
        WhatIf::Window { from_s, to_s } => {
            let (from, to) = ((from_s * 1000.0).round() as u64, (to_s * 1000.0).round() as u64);
            let picks: Vec<usize> = (0..w.len())
                .filter(|&k| (from..to).contains(&w.jobs[k].submit.millis()))
                .collect();
            w = w.select(&picks);
        }
        _ => {}
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_engine::{JobSpec, PodRequest, PoolSpec, WorkloadBuilder};

    fn w() -> Workload {
        let mut b = WorkloadBuilder::new("t");
        let (a, bt) = (b.team("a").unwrap(), b.team("b").unwrap());
        for i in 0..10u64 {
            let pod = PodRequest {
                gpu_milli: 1000,
                cpu_milli: 1000,
                mem_mib: 1024,
            };
            let mut s = JobSpec::new(
                SimTime::from_secs(i * 100),
                SimDuration::from_secs(50),
                1,
                pod,
                if i % 2 == 0 { a } else { bt },
            );
            s.estimate = SimDuration::from_secs(40).into();
            b.push(&format!("j{i}"), i as u32, s).unwrap();
        }
        b.finish()
    }

    fn edits(toml_text: &str) -> Vec<WhatIf> {
        #[derive(Deserialize)]
        struct F {
            whatif: Vec<WhatIf>,
        }
        let f: F = toml::from_str(toml_text).unwrap();
        f.whatif
    }

    /// Ten jobs every 100 s, 50 s each, teams a (even) and b (odd).
    #[test]
    fn load_edits_have_their_exact_effect() {
        let e = edits("[[whatif]]\nscale_load = 2.0\n[[whatif]]\nscale_duration = 1.5\n");
        let out = apply_workload(&e, w(), 1).unwrap();
        assert_eq!(out.jobs[3].submit, SimTime::from_secs(150));
        assert_eq!(out.jobs[3].work, SimDuration::from_secs(75));
        assert_eq!(out.jobs[3].estimate.get(), Some(SimDuration::from_secs(60)));

        let out = apply_workload(
            &edits("[[whatif]]\nwindow = { from_s = 200, to_s = 500 }\n"),
            w(),
            1,
        )
        .unwrap();
        assert_eq!(out.names, ["j2", "j3", "j4"]);

        let out = apply_workload(
            &edits("[[whatif]]\nteam_load = { team = \"a\", scale = 0.0 }\n"),
            w(),
            1,
        )
        .unwrap();
        assert_eq!(out.names, ["j1", "j3", "j5", "j7", "j9"]);

        let out = apply_workload(
            &edits("[[whatif]]\nteam_load = { team = \"b\", scale = 2.0 }\n"),
            w(),
            1,
        )
        .unwrap();
        assert_eq!(out.len(), 15);
        assert_eq!(
            out.names.iter().take(4).collect::<Vec<_>>(),
            ["j0", "j1", "j1#1", "j2"]
        );
        assert_eq!(out.jobs[2].submit, out.jobs[1].submit);

        // 1.5: every b job once, and a second copy with probability one half (seeded).
        let out = apply_workload(
            &edits("[[whatif]]\nteam_load = { team = \"b\", scale = 1.5 }\n"),
            w(),
            1,
        )
        .unwrap();
        assert!((10..=15).contains(&out.len()));
        assert_eq!(
            out.names,
            apply_workload(
                &edits("[[whatif]]\nteam_load = { team = \"b\", scale = 1.5 }\n"),
                w(),
                1
            )
            .unwrap()
            .names
        );

        let err = apply_workload(
            &edits("[[whatif]]\nteam_load = { team = \"c\", scale = 1.0 }\n"),
            w(),
            1,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "team_load: no team 'c' (teams: a, b)");
    }

    #[test]
    fn cluster_edits_have_their_exact_effect() {
        let mut spec = ClusterSpec {
            pools: vec![
                PoolSpec::new("a100", Some("A100"), 4, 8, 128, 1024),
                PoolSpec::new("t4", Some("T4"), 2, 4, 64, 256),
            ],
        };
        let e = edits(
            "[[whatif]]\nadd_nodes = { pool = \"a100\", nodes = 3 }\n[[whatif]]\nadd_nodes = { pool = \"t4\", nodes = -2 }\n\
             [[whatif]]\nadd_pool = { name = \"h100\", gpu_model = \"H100\", nodes = 2, gpus_per_node = 8, cpu = 192, memory_gib = 2048, speed = 3.0 }\n",
        );
        apply_cluster(&e, &mut spec, "s.toml").unwrap();
        let got: Vec<(&str, u32, u32)> = spec
            .pools
            .iter()
            .map(|p| (p.name.as_str(), p.nodes, p.speed_permille))
            .collect();
        assert_eq!(got, [("a100", 7, 1000), ("h100", 2, 3000)]);
        let err = apply_cluster(
            &edits("[[whatif]]\nadd_nodes = { pool = \"a100\", nodes = -8 }\n"),
            &mut spec,
            "s.toml",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "add_nodes: pool 'a100' has 7 nodes, cannot add -8"
        );
    }
}
