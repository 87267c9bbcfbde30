//! Builds policies and placements from their names and typed parameters.

use crate::spec::{Param, Spec};
use crate::{
    BackfillOrder, BestFit, Drf, EasyBackfill, EstimateMode, FairShare, Fgd, Fifo, FirstFit, Las,
    PriorityQueue, QueueMode, RandomFit, Replay, Sjf, Spread, Srtf,
};
use fairway_engine::{Placement, Policy};
use std::collections::BTreeMap;

/// One entry of the registry, for listings and documentation.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub summary: &'static str,
    /// `key = allowed values (default)`, one per parameter.
    pub params: &'static [&'static str],
}

/// The policies `policy()` knows.
pub const POLICIES: &[Entry] = &[
    Entry {
        name: "fifo",
        summary: "first come, first served in submit order",
        params: &[
            "mode = strict | best-effort (strict): strict stops at the first job that does not fit; best-effort lets later jobs that fit start",
        ],
    },
    Entry {
        name: "priority",
        summary: "highest priority first, then submit order",
        params: &["mode = strict | best-effort (strict)"],
    },
    Entry {
        name: "sjf",
        summary: "shortest job first, on the estimated run time (fixed at submission); not preemptive",
        params: &[
            "estimate = oracle | trace | team-mean (oracle): the true run time, the trace's runtime_estimate (else the team's mean), or the mean of the team's finished jobs",
            "mode = strict | best-effort (best-effort)",
        ],
    },
    Entry {
        name: "srtf",
        summary: "shortest remaining time first: preempts running jobs with a longer remaining time",
        params: &["estimate = oracle | trace | team-mean (oracle)"],
    },
    Entry {
        name: "las",
        summary: "Tiresias 2D-LAS: least attained GPU-time first, in discrete queues; preemptive; starving jobs promoted",
        params: &[
            "thresholds_gpu_h = queue limits in GPU-hours of attained service, separated by ':' (1:10)",
            "promote_after = a waiting job whose wait reaches this multiple of its run time returns to the first queue; 0 never (8)",
        ],
    },
    Entry {
        name: "drf",
        summary: "Dominant Resource Fairness: the team with the smallest dominant share (GPU, CPU or memory) goes next",
        params: &[
            "mode = strict | best-effort (best-effort): strict passes a team over when its first job does not fit; best-effort tries its next",
        ],
    },
    Entry {
        name: "fair-share",
        summary: "weighted fair share on decayed GPU usage (Slurm's fair-share factor): the team with the least usage per weight goes next",
        params: &[
            "half_life_h = hours for past usage to count half (168)",
            "weights = team:weight pairs separated by ';' (every team 1)",
            "mode = strict | best-effort (best-effort)",
        ],
    },
    Entry {
        name: "easy-backfill",
        summary: "EASY backfilling: queue order, a reservation for the blocked head, later jobs start if they do not delay it",
        params: &[
            "order = fifo | priority (fifo)",
            "estimate = trace | oracle | team-mean (trace): where run-time estimates come from",
        ],
    },
    Entry {
        name: "kueue",
        summary: "Kueue's admission (quotas, cohorts, borrowing, preemption, fair sharing) from real manifests",
        params: &[
            "manifests = path to a YAML file or a folder of them (required; a scenario's `manifests` key sets it)",
            "kueue_version = 0.8 .. 0.19 (0.19): which release's behaviour to follow",
            "eviction_latency_s = seconds a preempted workload keeps its quota and pods (0)",
            "gpu_resource = the resource name of GPUs in the manifests (nvidia.com/gpu)",
            "gpu_unit = device | milli (device): a pod's GPUs count as whole devices, rounded up (as Kueue counts nvidia.com/gpu), or in milli-GPU (for a shared-GPU resource)",
            "unknown_queue = error | reject (error): a job whose queue the manifests lack fails the run, or is rejected",
        ],
    },
    Entry {
        name: "replay",
        summary: "starts every job at the start time the trace recorded (for accounting checks)",
        params: &[],
    },
];

/// The placements `placement()` knows.
pub const PLACEMENTS: &[Entry] = &[
    Entry {
        name: "first-fit",
        summary: "the lowest-numbered nodes that fit",
        params: &[],
    },
    Entry {
        name: "best-fit",
        summary: "the fullest nodes that fit (fewest free GPUs, then CPU, then memory): packs",
        params: &[],
    },
    Entry {
        name: "spread",
        summary: "worst-fit (also accepted as `worst-fit`): the emptiest nodes first, one pod per node in turn",
        params: &[],
    },
    Entry {
        name: "random",
        summary: "a random node that fits for each pod (seeded by the scenario's seed)",
        params: &[],
    },
    Entry {
        name: "fgd",
        summary: "fragmentation gradient descent (Weng et al., ATC '23): the node and GPU where expected fragmentation grows least",
        params: &[],
    },
];

/// A name or parameter the registry cannot use.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RegistryError {
    #[error("unknown {what} '{name}'; known: {}", known.join(", "))]
    UnknownName {
        what: &'static str,
        name: String,
        known: Vec<&'static str>,
    },
    #[error("{what} '{name}' has no parameter '{param}'; its parameters: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownParam {
        what: &'static str,
        name: String,
        param: String,
        known: Vec<&'static str>,
    },
    #[error("{what} '{name}': parameter '{param}' must be {expected}, not '{got}'")]
    BadParam {
        what: &'static str,
        name: String,
        param: String,
        expected: String,
        got: String,
    },
    /// The policy's own configuration (e.g. Kueue manifests) is wrong.
    #[error("{0}")]
    Setup(String),
}

/// Reads the parameters of one spec, checking types and refusing leftovers.
pub(crate) struct Params<'a> {
    what: &'static str,
    name: &'a str,
    left: BTreeMap<String, Param>,
    known: Vec<&'static str>,
}

impl<'a> Params<'a> {
    fn new(what: &'static str, spec: &'a Spec) -> Self {
        Params {
            what,
            name: &spec.name,
            left: spec.params.clone(),
            known: Vec::new(),
        }
    }

    pub(crate) fn bad(&self, param: &str, expected: String, got: &Param) -> RegistryError {
        RegistryError::BadParam {
            what: self.what,
            name: self.name.to_string(),
            param: param.to_string(),
            expected,
            got: got.to_string(),
        }
    }

    /// A parameter that takes one of a few words.
    pub(crate) fn choice(
        &mut self,
        key: &'static str,
        options: &[&'static str],
        default: &'static str,
    ) -> Result<&'static str, RegistryError> {
        self.known.push(key);
        match self.left.remove(key) {
            None => Ok(default),
            Some(Param::Str(s)) if options.contains(&s.as_str()) => {
                Ok(options.iter().find(|o| **o == s).expect("checked"))
            }
            Some(other) => Err(self.bad(key, format!("one of {}", options.join(", ")), &other)),
        }
    }

    /// A text parameter.
    pub(crate) fn text(&mut self, key: &'static str) -> Result<Option<String>, RegistryError> {
        self.known.push(key);
        match self.left.remove(key) {
            None => Ok(None),
            Some(Param::Str(s)) => Ok(Some(s)),
            // A bare number where text is expected ("0.19") is still text.
            Some(Param::Float(f)) => Ok(Some(f.to_string())),
            Some(Param::Int(i)) => Ok(Some(i.to_string())),
            Some(other) => Err(self.bad(key, "text".into(), &other)),
        }
    }

    /// A number >= 0.
    pub(crate) fn non_negative(&mut self, key: &'static str, default: f64) -> Result<f64, RegistryError> {
        self.known.push(key);
        match self.left.remove(key) {
            None => Ok(default),
            Some(Param::Int(i)) if i >= 0 => Ok(i as f64),
            Some(Param::Float(f)) if f >= 0.0 && f.is_finite() => Ok(f),
            Some(other) => Err(self.bad(key, "a number >= 0".into(), &other)),
        }
    }

    /// Fails on any parameter nobody asked for.
    pub(crate) fn finish(self) -> Result<(), RegistryError> {
        match self.left.into_keys().next() {
            None => Ok(()),
            Some(param) => Err(RegistryError::UnknownParam {
                what: self.what,
                name: self.name.to_string(),
                param,
                known: self.known,
            }),
        }
    }
}

fn mode(p: &mut Params<'_>, default: &'static str) -> Result<QueueMode, RegistryError> {
    Ok(match p.choice("mode", &["strict", "best-effort"], default)? {
        "strict" => QueueMode::Strict,
        _ => QueueMode::BestEffort,
    })
}

fn estimate(p: &mut Params<'_>, default: &'static str) -> Result<EstimateMode, RegistryError> {
    Ok(
        match p.choice("estimate", &["oracle", "trace", "team-mean"], default)? {
            "oracle" => EstimateMode::Oracle,
            "trace" => EstimateMode::Trace,
            _ => EstimateMode::TeamMean,
        },
    )
}

/// `1:10` -> [1.0, 10.0], ascending and positive.
fn thresholds(p: &mut Params<'_>) -> Result<Vec<f64>, RegistryError> {
    let text = p.text("thresholds_gpu_h")?.unwrap_or_else(|| "1:10".to_string());
    let v: Option<Vec<f64>> = text
        .split(':')
        .map(|x| x.trim().parse::<f64>().ok().filter(|f| *f > 0.0 && f.is_finite()))
        .collect();
    match v {
        Some(v) if !v.is_empty() && v.windows(2).all(|w| w[0] < w[1]) => Ok(v),
        _ => Err(p.bad(
            "thresholds_gpu_h",
            "ascending GPU-hours > 0 separated by ':' (e.g. 1:10)".into(),
            &Param::Str(text),
        )),
    }
}

/// `team-a:2;team-b:1` -> pairs.
fn weights(p: &mut Params<'_>) -> Result<Vec<(String, f64)>, RegistryError> {
    let Some(text) = p.text("weights")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let parsed = item.rsplit_once(':').and_then(|(t, w)| {
            let w: f64 = w.trim().parse().ok()?;
            (w > 0.0 && w.is_finite() && !t.trim().is_empty()).then(|| (t.trim().to_string(), w))
        });
        match parsed {
            Some(x) => out.push(x),
            None => {
                return Err(p.bad(
                    "weights",
                    "team:weight pairs (weight > 0) separated by ';'".into(),
                    &Param::Str(text),
                ));
            }
        }
    }
    Ok(out)
}

/// Builds the policy a spec names. `seed` feeds policies that draw random numbers.
pub fn policy(spec: &Spec, seed: u64) -> Result<Box<dyn Policy>, RegistryError> {
    policy_with_edits(spec, seed, &[])
}

/// Like [`policy`], with what-if changes to Kueue's manifests (an error for other policies).
pub fn policy_with_edits(
    spec: &Spec,
    _seed: u64,
    kueue_edits: &[crate::kueue::edit::Edit],
) -> Result<Box<dyn Policy>, RegistryError> {
    if !kueue_edits.is_empty() && spec.name != "kueue" {
        return Err(RegistryError::Setup(format!(
            "whatif: Kueue edits need the kueue policy, not '{}'",
            spec.name
        )));
    }
    let mut p = Params::new("policy", spec);
    let built: Box<dyn Policy> = match spec.name.as_str() {
        "fifo" => Box::new(Fifo::new(mode(&mut p, "strict")?)),
        "priority" => Box::new(PriorityQueue::new(mode(&mut p, "strict")?)),
        "sjf" => Box::new(Sjf::new(
            estimate(&mut p, "oracle")?,
            mode(&mut p, "best-effort")?,
        )),
        "srtf" => Box::new(Srtf::new(estimate(&mut p, "oracle")?)),
        "las" => {
            let t = thresholds(&mut p)?;
            Box::new(Las::new(&t, p.non_negative("promote_after", 8.0)?))
        }
        "drf" => Box::new(Drf::new(mode(&mut p, "best-effort")?)),
        "fair-share" => {
            let h = p.non_negative("half_life_h", 168.0)?;
            let w = weights(&mut p)?;
            Box::new(FairShare::new(h, w, mode(&mut p, "best-effort")?))
        }
        "easy-backfill" => {
            let order = match p.choice("order", &["fifo", "priority"], "fifo")? {
                "fifo" => BackfillOrder::Fifo,
                _ => BackfillOrder::Priority,
            };
            Box::new(EasyBackfill::new(order, estimate(&mut p, "trace")?))
        }
        "replay" => Box::new(Replay::default()),
        "kueue" => Box::new(kueue_policy(spec, &mut p, kueue_edits)?),
        _ => {
            return Err(RegistryError::UnknownName {
                what: "policy",
                name: spec.name.clone(),
                known: POLICIES.iter().map(|e| e.name).collect(),
            });
        }
    };
    p.finish()?;
    Ok(built)
}

fn kueue_policy(
    spec: &Spec,
    p: &mut Params<'_>,
    edits: &[crate::kueue::edit::Edit],
) -> Result<crate::Kueue, RegistryError> {
    use crate::kueue::{Kueue, Options, Version, manifest};
    let bad = |param: &str, expected: &str, got: String| RegistryError::BadParam {
        what: "policy",
        name: "kueue".into(),
        param: param.into(),
        expected: expected.into(),
        got,
    };
    let path = p
        .text("manifests")?
        .ok_or_else(|| bad("manifests", "a path to Kueue manifests", "nothing".into()))?;
    let version_text = p.text("kueue_version")?;
    let version = match &version_text {
        None => Version::NEWEST,
        Some(t) => {
            Version::parse(t).ok_or_else(|| bad("kueue_version", "a release from 0.8 to 0.19", t.clone()))?
        }
    };
    let latency = p.non_negative("eviction_latency_s", 0.0)?;
    let gpu = p
        .text("gpu_resource")?
        .unwrap_or_else(|| "nvidia.com/gpu".to_string());
    let reject = p.choice("unknown_queue", &["error", "reject"], "error")? == "reject";
    let gpu_milli = p.choice("gpu_unit", &["device", "milli"], "device")? == "milli";
    let files =
        manifest::files(std::path::Path::new(&path)).map_err(|e| RegistryError::Setup(e.to_string()))?;
    let mut cfg = manifest::load(&files, &gpu).map_err(|e| RegistryError::Setup(e.to_string()))?;
    crate::kueue::edit::apply(&mut cfg, edits).map_err(|e| RegistryError::Setup(format!("whatif: {e}")))?;
    let opts = Options {
        version,
        eviction_latency: fairway_engine::SimDuration((latency * 1000.0).round() as u64),
        reject_unknown_queues: reject,
        label: spec.to_string(),
        gpu_milli,
    };
    Kueue::new(cfg, opts).map_err(RegistryError::Setup)
}

/// Builds the placement a spec names.
pub fn placement(spec: &Spec, seed: u64) -> Result<Box<dyn Placement>, RegistryError> {
    let p = Params::new("placement", spec);
    let built: Box<dyn Placement> = match spec.name.as_str() {
        "first-fit" => Box::new(FirstFit),
        "best-fit" => Box::new(BestFit::default()),
        // Worst-fit is the textbook name for the same rule.
        "spread" | "worst-fit" => Box::new(Spread::default()),
        "random" => Box::new(RandomFit::new(seed)),
        "fgd" => Box::new(Fgd::default()),
        _ => {
            return Err(RegistryError::UnknownName {
                what: "placement",
                name: spec.name.clone(),
                known: PLACEMENTS.iter().map(|e| e.name).collect(),
            });
        }
    };
    p.finish()?;
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_the_registry() {
        for text in [
            "fifo",
            "fifo[mode=best-effort]",
            "priority",
            "priority[mode=best-effort]",
            "replay",
            "sjf",
            "sjf[estimate=team-mean,mode=strict]",
            "srtf[estimate=trace]",
            "las[thresholds_gpu_h=0.5:2:8,promote_after=0]",
            "drf",
            "drf[mode=strict]",
            "fair-share[half_life_h=24,weights=a:2;b:1]",
            "fair-share[mode=strict]",
            "easy-backfill[order=priority,estimate=oracle]",
        ] {
            let spec: Spec = text.parse().unwrap();
            let built = policy(&spec, 0).unwrap();
            let again = policy(&built.label().parse().unwrap(), 0).unwrap();
            assert_eq!(built.label(), again.label(), "{text}");
        }
        assert_eq!(
            policy(&"fifo".parse().unwrap(), 0).unwrap().label(),
            "fifo[mode=strict]"
        );
        for text in ["first-fit", "best-fit", "spread", "random", "fgd"] {
            assert_eq!(placement(&text.parse().unwrap(), 0).unwrap().label(), text);
        }
        assert_eq!(
            placement(&"worst-fit".parse().unwrap(), 0).unwrap().label(),
            "spread"
        );
        assert_eq!(
            policy(&"sjf".parse().unwrap(), 0).unwrap().label(),
            "sjf[estimate=oracle,mode=best-effort]"
        );
    }

    #[test]
    fn unknown_names_and_params_list_the_valid_ones() {
        let e = policy(&"fofo".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown policy 'fofo'; known: fifo, priority, sjf, srtf, las, drf, fair-share, easy-backfill, kueue, replay"
        );
        let e = policy(&"fifo[order=lifo]".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "policy 'fifo' has no parameter 'order'; its parameters: mode"
        );
        let e = policy(&"fifo[mode=lazy]".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "policy 'fifo': parameter 'mode' must be one of strict, best-effort, not 'lazy'"
        );
        let e = placement(&"next-fit".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown placement 'next-fit'; known: first-fit, best-fit, spread, random, fgd"
        );
        let e = placement(&"best-fit[x=1]".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "placement 'best-fit' has no parameter 'x'; its parameters: none"
        );
    }
}
