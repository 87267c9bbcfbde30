//! Builds policies and placements from their names and parameters.
//!
//! A [`Registry`] holds entries: a name, a one-line summary, the parameters (each declared once,
//! see [`ParamDecl`]) and a `resolve` function. Resolving a [`Spec`] checks its parameters,
//! does the work that is the same for every run (Kueue reads and checks its manifests here) and
//! returns a [`ResolvedPolicy`] or [`ResolvedPlacement`], which builds a fresh instance for each
//! run, labelled `name[key=value,...]` from the declarations. [`Registry::builtin`] knows the
//! policies and placements of this crate; a crate outside it adds its own with
//! [`Registry::add_policy`] and [`Registry::add_placement`].
//!
//! ```
//! use fairway_engine::{Cycle, Policy};
//! use fairway_policies::registry::{ParamDecl, PolicyEntry, Registry, Setup, each_run};
//!
//! /// Starts pending jobs in submit order, skipping those that do not fit.
//! struct Greedy;
//! impl Policy for Greedy {
//!     fn schedule(&mut self, cx: &mut Cycle<'_>) {
//!         let pending: Vec<_> = cx.pending().to_vec();
//!         for job in pending {
//!             cx.try_start(job);
//!         }
//!     }
//! }
//!
//! const GREEDY: PolicyEntry = PolicyEntry {
//!     name: "greedy",
//!     summary: "submit order, skipping what does not fit",
//!     params: &[ParamDecl::number("patience_h", "1", "unused here")],
//!     resolve: |_args, _setup| Ok(each_run(|_seed| Greedy)),
//! };
//! let mut registry = Registry::builtin();
//! registry.add_policy(GREEDY).unwrap();
//! let resolved = registry
//!     .resolve_policy(&"greedy".parse().unwrap(), &Setup::default())
//!     .unwrap();
//! assert_eq!(resolved.label(), "greedy[patience_h=1]");
//! assert_eq!(resolved.build(7).unwrap().label(), "greedy[patience_h=1]");
//! // A name nobody registered is an error that lists the known ones.
//! let e = registry.resolve_policy(&"gredy".parse().unwrap(), &Setup::default());
//! assert!(e.unwrap_err().to_string().contains("known: fifo"));
//! ```

mod builtin;
mod params;

pub use params::{Absent, Args, InLabel, Kind, ParamDecl};

use crate::kueue::edit::Edit;
use crate::spec::Spec;
use fairway_engine::{
    Allowed, Cluster, JobId, JobSpec, Placement, PodRequest, PodSlot, Policy, PolicyError, QueueReport,
    SimTime, Transition, Workload,
};
use std::fmt;
use std::sync::Arc;

/// Builds one run's policy from the run's seed.
pub type MakePolicy = Arc<dyn Fn(u64) -> Result<Box<dyn Policy>, RegistryError> + Send + Sync>;
/// Builds one run's placement from the run's seed.
pub type MakePlacement = Arc<dyn Fn(u64) -> Result<Box<dyn Placement>, RegistryError> + Send + Sync>;

/// A policy that needs nothing but its parameters: `make` builds each run's instance.
pub fn each_run<P: Policy + 'static>(make: impl Fn(u64) -> P + Send + Sync + 'static) -> MakePolicy {
    Arc::new(move |seed| Ok(Box::new(make(seed)) as Box<dyn Policy>))
}

/// A placement that needs nothing but its parameters: `make` builds each run's instance.
pub fn each_run_placement<P: Placement + 'static>(
    make: impl Fn(u64) -> P + Send + Sync + 'static,
) -> MakePlacement {
    Arc::new(move |seed| Ok(Box::new(make(seed)) as Box<dyn Placement>))
}

/// What a policy's resolution may need besides its parameters, and what it has to say.
#[derive(Clone, Debug, Default)]
pub struct Setup {
    /// What-if changes to Kueue's manifests (only the `kueue` policy takes them).
    pub kueue_edits: Vec<Edit>,
    /// What the resolution found worth telling the user (e.g. manifest fields Kueue's model
    /// does not read), gathered into the resolved policy's warnings.
    warnings: std::cell::RefCell<Vec<String>>,
    /// Files to write beside every run's outputs, gathered into the resolved policy's outputs.
    outputs: std::cell::RefCell<Vec<(String, String)>>,
}

impl Setup {
    /// Setup with what-if changes to Kueue's manifests.
    pub fn with_kueue_edits(kueue_edits: Vec<Edit>) -> Setup {
        Setup {
            kueue_edits,
            ..Setup::default()
        }
    }

    /// Tells the user something about the policy's configuration (printed before the run).
    pub fn warn(&self, message: impl Into<String>) {
        self.warnings.borrow_mut().push(message.into());
    }

    /// A file every run of the policy writes into its output folder (`path` relative to it,
    /// e.g. the effective Kueue manifests).
    pub fn output(&self, path: impl Into<String>, text: impl Into<String>) {
        self.outputs.borrow_mut().push((path.into(), text.into()));
    }
}

/// A policy the registry knows.
#[derive(Clone, Copy)]
pub struct PolicyEntry {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamDecl],
    /// Checks what the parameters say, reads what every run shares, and returns how to build a
    /// run's instance.
    pub resolve: fn(&Args, &Setup) -> Result<MakePolicy, RegistryError>,
}

/// A placement the registry knows.
#[derive(Clone, Copy)]
pub struct PlacementEntry {
    pub name: &'static str,
    /// Other names accepted for it (its label uses `name`).
    pub aliases: &'static [&'static str],
    pub summary: &'static str,
    pub params: &'static [ParamDecl],
    pub resolve: fn(&Args) -> Result<MakePlacement, RegistryError>,
}

impl fmt::Debug for PolicyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PlacementEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlacementEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The policies and placements a run can name.
#[derive(Clone, Debug)]
pub struct Registry {
    policies: Vec<PolicyEntry>,
    placements: Vec<PlacementEntry>,
}

impl Registry {
    /// Knows nothing.
    pub fn empty() -> Registry {
        Registry {
            policies: Vec::new(),
            placements: Vec::new(),
        }
    }

    /// The policies and placements of this crate.
    pub fn builtin() -> Registry {
        Registry {
            policies: builtin::POLICIES.to_vec(),
            placements: builtin::PLACEMENTS.to_vec(),
        }
    }

    /// Adds a policy; its name must be new.
    pub fn add_policy(&mut self, entry: PolicyEntry) -> Result<(), RegistryError> {
        if self.policies.iter().any(|e| e.name == entry.name) {
            return Err(RegistryError::Duplicate {
                what: "policy",
                name: entry.name.to_string(),
            });
        }
        self.policies.push(entry);
        Ok(())
    }

    /// Adds a placement; its name and aliases must be new.
    pub fn add_placement(&mut self, entry: PlacementEntry) -> Result<(), RegistryError> {
        for name in std::iter::once(&entry.name).chain(entry.aliases) {
            if self.placement_entry(name).is_some() {
                return Err(RegistryError::Duplicate {
                    what: "placement",
                    name: name.to_string(),
                });
            }
        }
        self.placements.push(entry);
        Ok(())
    }

    pub fn policies(&self) -> &[PolicyEntry] {
        &self.policies
    }

    pub fn placements(&self) -> &[PlacementEntry] {
        &self.placements
    }

    fn placement_entry(&self, name: &str) -> Option<&PlacementEntry> {
        self.placements
            .iter()
            .find(|e| e.name == name || e.aliases.contains(&name))
    }

    /// Checks a policy spec and does what every run of it shares.
    pub fn resolve_policy(&self, spec: &Spec, setup: &Setup) -> Result<ResolvedPolicy, RegistryError> {
        let Some(entry) = self.policies.iter().find(|e| e.name == spec.name) else {
            return Err(RegistryError::UnknownName {
                what: "policy",
                name: spec.name.clone(),
                known: self.policies.iter().map(|e| e.name).collect(),
            });
        };
        if !setup.kueue_edits.is_empty() && entry.name != "kueue" {
            return Err(RegistryError::EditsNeedKueue {
                policy: spec.name.clone(),
            });
        }
        let args = Args::check("policy", entry.name, entry.params, spec)?;
        let make = (entry.resolve)(&args, setup)?;
        Ok(ResolvedPolicy {
            label: args.label(),
            make,
            warnings: setup.warnings.take(),
            outputs: Arc::new(setup.outputs.take()),
        })
    }

    /// Checks a placement spec.
    pub fn resolve_placement(&self, spec: &Spec) -> Result<ResolvedPlacement, RegistryError> {
        let Some(entry) = self.placement_entry(&spec.name) else {
            return Err(RegistryError::UnknownName {
                what: "placement",
                name: spec.name.clone(),
                known: self.placements.iter().map(|e| e.name).collect(),
            });
        };
        let args = Args::check("placement", entry.name, entry.params, spec)?;
        let make = (entry.resolve)(&args)?;
        Ok(ResolvedPlacement {
            label: args.label(),
            make,
        })
    }
}

/// A checked policy, ready to build an instance for each run.
#[derive(Clone)]
pub struct ResolvedPolicy {
    label: String,
    make: MakePolicy,
    warnings: Vec<String>,
    outputs: Arc<Vec<(String, String)>>,
}

impl ResolvedPolicy {
    /// Files every run of the policy writes beside its outputs: (path relative to the run's
    /// folder, text).
    pub fn outputs(&self) -> &[(String, String)] {
        &self.outputs
    }

    /// What resolving it found worth telling the user.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// `name[key=value,...]`, which the registry reads back to the same policy.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A fresh instance for one run (`seed`: the run's), labelled as [`ResolvedPolicy::label`].
    pub fn build(&self, seed: u64) -> Result<Box<dyn Policy>, RegistryError> {
        Ok(Box::new(Labelled {
            label: self.label.clone(),
            inner: (self.make)(seed)?,
        }))
    }
}

impl fmt::Debug for ResolvedPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResolvedPolicy").field(&self.label).finish()
    }
}

/// A checked placement, ready to build an instance for each run.
#[derive(Clone)]
pub struct ResolvedPlacement {
    label: String,
    make: MakePlacement,
}

impl ResolvedPlacement {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A fresh instance for one run (`seed` feeds placements that draw random numbers).
    pub fn build(&self, seed: u64) -> Result<Box<dyn Placement>, RegistryError> {
        Ok(Box::new(Labelled {
            label: self.label.clone(),
            inner: (self.make)(seed)?,
        }))
    }
}

impl fmt::Debug for ResolvedPlacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResolvedPlacement").field(&self.label).finish()
    }
}

/// An instance under the label its declarations give; everything else goes to the instance.
struct Labelled<T: ?Sized> {
    label: String,
    inner: Box<T>,
}

impl Policy for Labelled<dyn Policy> {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn prepare(&mut self, workload: &Workload, cluster: &Cluster) -> Result<(), PolicyError> {
        self.inner.prepare(workload, cluster)
    }
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, now: SimTime) {
        self.inner.observe(job, spec, what, now);
    }
    fn schedule(&mut self, cx: &mut fairway_engine::Cycle<'_>) {
        self.inner.schedule(cx);
    }
    fn stats(&self) -> Vec<(String, f64)> {
        self.inner.stats()
    }
    fn queues(&self, workload: &Workload) -> Option<QueueReport> {
        self.inner.queues(workload)
    }
}

impl Placement for Labelled<dyn Placement> {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn observe_arrival(&mut self, job: &JobSpec) {
        self.inner.observe_arrival(job);
    }
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        self.inner.place(cluster, pod, pods, allowed, out)
    }
}

/// Builds the built-in policy a spec names (`seed` feeds policies that draw random numbers).
pub fn policy(spec: &Spec, seed: u64) -> Result<Box<dyn Policy>, RegistryError> {
    Registry::builtin()
        .resolve_policy(spec, &Setup::default())?
        .build(seed)
}

/// Builds the built-in placement a spec names.
pub fn placement(spec: &Spec, seed: u64) -> Result<Box<dyn Placement>, RegistryError> {
    Registry::builtin().resolve_placement(spec)?.build(seed)
}

/// A name or parameter the registry cannot use, or a policy's own configuration that is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// A policy or placement reads a parameter it did not declare (a bug in its entry).
    #[error("{what} '{name}' reads parameter '{param}', which its entry does not declare")]
    Undeclared {
        what: &'static str,
        name: String,
        param: String,
    },
    #[error("{what} '{name}' is registered twice")]
    Duplicate { what: &'static str, name: String },
    #[error("whatif: Kueue edits need the kueue policy, not '{policy}'")]
    EditsNeedKueue { policy: String },
    #[error("whatif: {0}")]
    KueueEdit(#[from] crate::kueue::edit::EditError),
    /// The policy's own configuration (e.g. Kueue's manifests) is wrong.
    #[error(transparent)]
    Setup(Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests;
