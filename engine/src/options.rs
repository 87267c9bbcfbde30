//! How a run treats time limits, preemption costs and per-model speeds, and which checks it
//! makes as it goes.

use crate::ids::ModelId;
use crate::time::{SimDuration, SimTime};

/// How the engine treats time limits and preemption.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineOptions {
    /// Stop at this instant; jobs still pending or running then are reported as such.
    pub horizon: Option<SimTime>,
    /// A preempted job keeps the work done up to its last checkpoint, taken every this much work
    /// (reference-GPU time). `None`: a preempted job restarts from scratch.
    pub checkpoint_every: Option<SimDuration>,
    /// Extra run time every restart after a preemption costs (loading the checkpoint, warm-up).
    pub restart_overhead: SimDuration,
    /// Per job class, a checkpoint interval and restart overhead that replace the two above.
    pub class_costs: Vec<ClassCost>,
    /// Per job class and GPU model, the speed (per-mille of the reference GPU) that replaces the
    /// pool's speed: the same job runs faster on some models than others.
    pub class_speed: Vec<ClassSpeed>,
    /// Recompute every node's allocation from the running jobs after every pass and fail on any
    /// disagreement. Costs O(nodes + jobs) per pass: for tests.
    pub audit: bool,
    /// Record fragmentation (idle GPU capacity no pending pod shape can use) in the cluster time
    /// series. Costs O(GPUs + shapes) per node touched in a pass, O(nodes) when the set of
    /// pending shapes changes.
    pub track_fragmentation: bool,
    /// Stop the run with [`EngineError::Thrashing`] when one job has been preempted this many
    /// times (`None`: [`MAX_PREEMPTIONS_PER_JOB`]): a policy that keeps evicting the same jobs
    /// never lets the run end.
    ///
    /// [`EngineError::Thrashing`]: crate::EngineError::Thrashing
    pub max_preemptions_per_job: Option<u32>,
    /// Stop the run with [`EngineError::Livelock`] after this many wake-ups in a row at which
    /// nothing was running, nothing was left to arrive, and the policy started, stopped
    /// and rejected nothing (`None`: [`MAX_IDLE_WAKES`]). Admitting a workload whose pods then
    /// find no node, evicting it and admitting it again is such a loop: Kueue with
    /// waitForPodsReady and no backoffLimitCount repeats it for ever.
    ///
    /// [`EngineError::Livelock`]: crate::EngineError::Livelock
    pub max_idle_wakes: Option<u32>,
}

/// The default of `EngineOptions::max_preemptions_per_job`.
pub const MAX_PREEMPTIONS_PER_JOB: u32 = 10_000;

/// The default of `EngineOptions::max_idle_wakes`.
pub const MAX_IDLE_WAKES: u32 = 100_000;

/// The preemption cost of one job class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassCost {
    /// Index into `Workload::job_classes`.
    pub class: u32,
    pub checkpoint_every: Option<SimDuration>,
    pub restart_overhead: SimDuration,
}

/// How fast one job class runs on one GPU model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassSpeed {
    /// Index into `Workload::job_classes`.
    pub class: u32,
    pub model: ModelId,
    pub speed_permille: u32,
}

impl EngineOptions {
    pub(crate) fn costs(&self, class: Option<u32>) -> (Option<SimDuration>, SimDuration) {
        match class.and_then(|c| self.class_costs.iter().find(|x| x.class == c)) {
            Some(c) => (c.checkpoint_every, c.restart_overhead),
            None => (self.checkpoint_every, self.restart_overhead),
        }
    }
}
