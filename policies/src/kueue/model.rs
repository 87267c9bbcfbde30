//! Kueue's objects as fairway models them, after reading and checking the manifests.

use super::tree::Quota;
use std::collections::BTreeMap;

/// `queueingStrategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queueing {
    StrictFifo,
    BestEffortFifo,
}

/// `preemption.withinClusterQueue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithinCq {
    Never,
    LowerPriority,
    LowerOrNewerEqualPriority,
}

/// `preemption.reclaimWithinCohort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reclaim {
    Never,
    LowerPriority,
    Any,
}

/// `preemption.borrowWithinCohort`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BorrowWithin {
    /// `policy: LowerPriority` (else `Never`).
    pub lower_priority: bool,
    pub max_priority_threshold: Option<i32>,
}

/// One step of `flavorFungibility`: stop at this flavor, or look at the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    MayStopSearch,
    TryNextFlavor,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fungibility {
    pub when_can_borrow: Step,
    pub when_can_preempt: Step,
    /// `preference: PreemptionOverBorrowing` (else `BorrowingOverPreemption`).
    pub preemption_over_borrowing: bool,
}

impl Default for Fungibility {
    fn default() -> Self {
        Fungibility {
            when_can_borrow: Step::MayStopSearch,
            when_can_preempt: Step::TryNextFlavor,
            preemption_over_borrowing: false,
        }
    }
}

/// A resource group: resources that always take the same flavor, and the flavors in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Indexes into `Config::resources`.
    pub resources: Vec<usize>,
    /// Indexes into `Config::flavors`.
    pub flavors: Vec<usize>,
}

/// A ResourceFlavor.
#[derive(Clone, Debug, PartialEq)]
pub struct Flavor {
    pub name: String,
    pub node_labels: BTreeMap<String, String>,
}

/// A ClusterQueue or a Cohort: a node of the quota tree.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaNodeSpec {
    pub name: String,
    /// The cohort (for a ClusterQueue) or the parent cohort (for a Cohort).
    pub parent: Option<String>,
    pub groups: Vec<Group>,
    /// Quota per (flavor, resource) this node lists.
    pub quotas: BTreeMap<(usize, usize), Quota>,
    pub weight: f64,
}

/// What only a ClusterQueue has.
#[derive(Clone, Debug, PartialEq)]
pub struct CqSettings {
    pub queueing: Queueing,
    pub within: WithinCq,
    pub reclaim: Reclaim,
    pub borrow_within: BorrowWithin,
    pub fungibility: Fungibility,
    /// `stopPolicy: Hold` or `HoldAndDrain`: no new admissions.
    pub held: bool,
}

/// A LocalQueue.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalQueue {
    pub name: String,
    pub namespace: Option<String>,
    pub cluster_queue: String,
}

/// waitForPodsReady.
#[derive(Clone, Debug, PartialEq)]
pub struct PodsReady {
    pub timeout_s: f64,
    pub recovery_timeout_s: Option<f64>,
    pub block_admission: bool,
    pub backoff_base_s: f64,
    pub backoff_max_s: f64,
    pub backoff_limit: Option<u32>,
    /// `requeuingStrategy.timestamp: Eviction` (else `Creation`).
    pub requeue_at_eviction_time: bool,
}

/// `fairSharing.preemptionStrategies`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    LessThanOrEqualToFinalShare,
    LessThanInitialShare,
}

/// The global Configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    pub fair_sharing: bool,
    pub strategies: Vec<Strategy>,
    pub pods_ready: Option<PodsReady>,
}

/// Everything the manifests say, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub resources: Vec<String>,
    pub flavors: Vec<Flavor>,
    pub cluster_queues: Vec<(QuotaNodeSpec, CqSettings)>,
    pub cohorts: Vec<QuotaNodeSpec>,
    pub local_queues: Vec<LocalQueue>,
    pub priority_classes: BTreeMap<String, i32>,
    /// The Configuration object, if the manifests hold one (else the version's defaults apply).
    pub global: Option<Global>,
    /// Things the manifests say that fairway does not model, once each.
    pub warnings: Vec<String>,
}
