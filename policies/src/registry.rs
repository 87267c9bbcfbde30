//! Builds policies and placements from their names and typed parameters.

use crate::spec::{Param, Spec};
use crate::{BestFit, Fifo, FirstFit, PriorityQueue, QueueMode, Replay};
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

    fn bad(&self, param: &str, expected: String, got: &Param) -> RegistryError {
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

fn mode(p: &mut Params<'_>) -> Result<QueueMode, RegistryError> {
    Ok(match p.choice("mode", &["strict", "best-effort"], "strict")? {
        "strict" => QueueMode::Strict,
        _ => QueueMode::BestEffort,
    })
}

/// Builds the policy a spec names. `seed` feeds policies that draw random numbers.
pub fn policy(spec: &Spec, _seed: u64) -> Result<Box<dyn Policy>, RegistryError> {
    let mut p = Params::new("policy", spec);
    let built: Box<dyn Policy> = match spec.name.as_str() {
        "fifo" => Box::new(Fifo::new(mode(&mut p)?)),
        "priority" => Box::new(PriorityQueue::new(mode(&mut p)?)),
        "replay" => Box::new(Replay::default()),
        "kueue" => Box::new(kueue_policy(spec, &mut p)?),
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

fn kueue_policy(spec: &Spec, p: &mut Params<'_>) -> Result<crate::Kueue, RegistryError> {
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
    let cfg = manifest::load(&files, &gpu).map_err(|e| RegistryError::Setup(e.to_string()))?;
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
pub fn placement(spec: &Spec, _seed: u64) -> Result<Box<dyn Placement>, RegistryError> {
    let p = Params::new("placement", spec);
    let built: Box<dyn Placement> = match spec.name.as_str() {
        "first-fit" => Box::new(FirstFit),
        "best-fit" => Box::new(BestFit::default()),
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
        for text in ["first-fit", "best-fit"] {
            assert_eq!(placement(&text.parse().unwrap(), 0).unwrap().label(), text);
        }
    }

    #[test]
    fn unknown_names_and_params_list_the_valid_ones() {
        let e = policy(&"fofo".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown policy 'fofo'; known: fifo, priority, kueue, replay"
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
        let e = placement(&"worst-fit".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "unknown placement 'worst-fit'; known: first-fit, best-fit"
        );
        let e = placement(&"best-fit[x=1]".parse().unwrap(), 0).err().unwrap();
        assert_eq!(
            e.to_string(),
            "placement 'best-fit' has no parameter 'x'; its parameters: none"
        );
    }
}
