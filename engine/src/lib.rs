//! fairway's discrete-event core.
//!
//! A [`Simulation`] replays a [`Workload`] (jobs sorted by submit time) on a [`Cluster`] under a
//! [`Policy`] (which jobs run) and a [`Placement`] (where their pods go). Time is integer
//! milliseconds; events are ordered by (time, insertion sequence); at each instant every event is
//! applied, then the policy runs one scheduling pass. Every decision is checked before it is
//! applied. The [`Outcome`] holds per-job records and exact piecewise-constant time series.

pub mod cluster;
pub mod cycle;
pub mod error;
pub mod event;
mod frag;
pub mod ids;
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
pub use job::{JobKind, JobSpec, UnknownModel, Workload, WorkloadBuilder};
pub use names::Names;
pub use options::{ClassCost, ClassSpeed, EngineOptions, MAX_PREEMPTIONS_PER_JOB};
pub use outcome::{Counters, JobRun, Outcome, PoolUsage};
pub use policy::{Decision, JobStatus, Placement, Policy, PolicyError, QueueInfo, QueueReport, Transition};
pub use recorder::{Level, PoolClock, Recorder, SeriesPoint, SeriesSink, Usage};
pub use resources::{GPU_MILLI, GpuNeed, PodRequest};
pub use sim::Simulation;
pub use time::{OptDuration, OptTime, SimDuration, SimTime};
