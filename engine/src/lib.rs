//! fairway's discrete-event core.
//!
//! A [`Simulation`] replays a [`Workload`] (jobs sorted by submit time) on a [`Cluster`] under a
//! [`Policy`] (which jobs run) and a [`Placement`] (where their pods go). Time is integer
//! milliseconds; events are ordered by (time, insertion sequence); at each instant every event is
//! applied, then the policy runs one scheduling pass. Every decision is checked before it is
//! applied. The [`Outcome`] holds per-job records and exact piecewise-constant time series.
//!
//! # Example
//!
//! A first-come-first-served policy and a placement that fills the lowest-numbered nodes first,
//! replaying two one-GPU jobs of ten minutes, both submitted at 0, on one node with one GPU: the
//! second starts when the first ends, after waiting exactly the first's run time.
//!
//! ```
//! use fairway_engine::{
//!     Allowed, Cluster, ClusterSpec, Cycle, EngineOptions, JobSpec, Placement, PodRequest, PodSlot,
//!     Policy, PoolSpec, SimDuration, SimTime, Simulation, WorkloadBuilder,
//! };
//!
//! /// Starts pending jobs in submit order; none overtakes the first that does not fit.
//! struct Fifo;
//!
//! impl Policy for Fifo {
//!     fn label(&self) -> String {
//!         "fifo".into()
//!     }
//!
//!     fn schedule(&mut self, cx: &mut Cycle<'_>) {
//!         for &job in cx.pending() {
//!             // The queue may still list jobs that left it during this instant.
//!             if cx.is_pending(job) && !cx.try_start(job) {
//!                 break;
//!             }
//!         }
//!     }
//! }
//!
//! /// Puts pods on the lowest-numbered nodes that have room for them.
//! struct Lowest;
//!
//! impl Placement for Lowest {
//!     fn label(&self) -> String {
//!         "lowest".into()
//!     }
//!
//!     fn place(
//!         &mut self,
//!         cluster: &Cluster,
//!         pod: &PodRequest,
//!         pods: u32,
//!         allowed: &Allowed<'_>,
//!         out: &mut Vec<PodSlot>,
//!     ) -> bool {
//!         let mut left = pods;
//!         for node in cluster.node_ids() {
//!             if left == 0 {
//!                 break;
//!             }
//!             if cluster.eligible(node, allowed) {
//!                 let here = cluster.pods_that_fit(node, pod).min(left);
//!                 if here > 0 && cluster.pick_slots(node, pod, here, out) {
//!                     left -= here;
//!                 }
//!             }
//!         }
//!         if left > 0 {
//!             out.clear();
//!         }
//!         left == 0
//!     }
//! }
//!
//! let mut jobs = WorkloadBuilder::new("example");
//! let team = jobs.team("ml").unwrap();
//! let one_gpu = PodRequest { gpu_milli: 1000, cpu_milli: 4000, mem_mib: 16 * 1024 };
//! for name in ["first", "second"] {
//!     let spec = JobSpec::new(SimTime::ZERO, SimDuration::from_secs(600), 1, one_gpu, team);
//!     jobs.push(name, 0, spec).unwrap();
//! }
//! let workload = jobs.finish();
//! let cluster = Cluster::new(&ClusterSpec {
//!     pools: vec![PoolSpec::new("a100", Some("A100"), 1, 1, 8, 64)],
//! })
//! .unwrap();
//!
//! let sim = Simulation::new(
//!     &workload,
//!     cluster,
//!     Box::new(Fifo),
//!     Box::new(Lowest),
//!     EngineOptions::default(),
//! )
//! .unwrap();
//! let outcome = sim.run().unwrap();
//!
//! let (first, second) = (&outcome.jobs[0], &outcome.jobs[1]);
//! assert_eq!(first.end(), Some(SimTime::from_secs(600)));
//! assert_eq!(second.first_start(), Some(SimTime::from_secs(600)));
//! assert_eq!(second.pending_ms, 600_000);
//! assert_eq!(outcome.end, SimTime::from_secs(1200));
//! ```

pub mod cluster;
pub mod cycle;
pub mod error;
pub mod event;
mod frag;
pub mod ids;
pub mod inflation;
pub mod input;
pub mod job;
pub mod names;
pub mod options;
pub mod outcome;
mod pending;
pub mod policy;
pub mod recorder;
pub mod resources;
mod room;
pub mod sim;
mod state;
pub mod stats;
pub mod time;

/// A small seeded generator for the property tests' random sequences: `next(m)` draws below `m`.
#[cfg(test)]
pub(crate) fn test_rng(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut x = seed | 1;
    move |m| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    }
}

pub use cluster::{
    Allowed, Cluster, ClusterError, ClusterSpec, NeverFits, Node, PodSlot, Pool, PoolSpec, TakeError,
};
pub use cycle::Cycle;
pub use error::EngineError;
pub use event::{Event, EventQueue};
pub use ids::{JobId, ModelId, ModelSet, NodeId, PoolId, TeamId, UserId};
pub use job::{JobKind, JobSpec, Selector, SelectorId, UnknownModel, Workload, WorkloadBuilder};
pub use names::Names;
pub use options::{ClassCost, ClassSpeed, EngineOptions, MAX_IDLE_WAKES, MAX_PREEMPTIONS_PER_JOB};
pub use outcome::{Counters, JobRun, Outcome, Placed, PoolUsage};
pub use policy::{
    Decision, FlavorQuota, JobStatus, Placement, Policy, PolicyError, QueueInfo, QueueReport, Transition,
};
pub use recorder::{Level, PoolClock, Recorder, SeriesPoint, SeriesSink, Usage};
pub use resources::{GPU_MILLI, GpuNeed, PodRequest};
pub use sim::Simulation;
pub use time::{OptDuration, OptTime, SimDuration, SimTime};
