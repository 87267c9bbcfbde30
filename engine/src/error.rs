//! The error that ends a run: a setup the engine or the policy refuses, an invalid decision, a
//! policy that would never let the run end, or a failed audit.

use crate::policy::PolicyError;
use crate::time::{SimDuration, SimTime};

/// Why a run failed.
#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum EngineError {
    #[error("policy {policy} made an invalid decision at t={time}: {decision} job '{job}': {reason}")]
    InvalidDecision {
        policy: String,
        time: SimTime,
        decision: &'static str,
        job: String,
        reason: String,
    },
    #[error("policy {policy} made an invalid decision at t={time}: {reason}")]
    InvalidWake {
        policy: String,
        time: SimTime,
        reason: String,
    },
    #[error("the workload's GPU models are not bound to the cluster's (call Workload::bind_models first)")]
    ModelsNotBound,
    #[error("the workload has {jobs} jobs but {teams} teams are referenced beyond its team table")]
    BadTeam { jobs: usize, teams: usize },
    /// A job or an option holds a time past [`MAX_MILLIS`](crate::time::MAX_MILLIS), which
    /// bounds every sum a run forms.
    #[error("{what} is {value}, past the longest time the engine accepts ({limit})")]
    TimeOutOfRange {
        what: String,
        value: SimDuration,
        limit: SimDuration,
    },
    /// A per-class speed of zero: the job would never finish.
    #[error("job class '{class}' has speed 0 on GPU model '{model}': a speed is at least 1 per-mille")]
    ZeroSpeed { class: String, model: String },
    /// The run would pass the last instant a `SimTime` holds (a run started there would
    /// finish past it, or an event was scheduled at it).
    #[error("the run would pass the end of simulated time at t={time}: {what}")]
    TimeOverflow { time: SimTime, what: String },
    /// The policy's `prepare` refused the workload or the cluster.
    #[error("policy {policy}: {source}")]
    PolicySetup {
        policy: String,
        #[source]
        source: PolicyError,
    },
    #[error(
        "policy {policy} woke {wakes} times from t={since} to t={time} with nothing running that will end, nothing left to arrive, and no job started, stopped or rejected{}: the run would not end",
        last.as_ref().map(|j| format!(" (the last job it acted on: '{j}')")).unwrap_or_default()
    )]
    Livelock {
        policy: String,
        since: SimTime,
        time: SimTime,
        wakes: u32,
        /// The job the policy last admitted, unadmitted or gave a reason, by name.
        last: Option<String>,
    },
    #[error("engine audit failed at t={time}: {what}")]
    Audit { time: SimTime, what: String },
    #[error(
        "policy {policy} has preempted job '{job}' {times} times by t={time}, the last time {last}: the run is thrashing and would not end (raise [engine] max_preemptions_per_job if this many is intended)"
    )]
    Thrashing {
        policy: String,
        time: SimTime,
        job: String,
        times: u32,
        /// The last preemption, for whom and why: where to look for the cause.
        last: String,
    },
}
