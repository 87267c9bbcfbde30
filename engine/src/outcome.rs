//! What a run produced: one [`JobRun`] per job, usage per team and pool, the time series, the
//! engine's [`Counters`] and the policy's queues and figures, gathered in an [`Outcome`].

use crate::policy::{JobStatus, QueueReport};
use crate::recorder::{PreemptionRecord, SeriesPoint, Usage};
use crate::time::{OptTime, SimTime};

/// A job's execution record, kept current by the engine and returned in the outcome (96 bytes:
/// what a job needs only while it is pending or running lives in a separate, recycled entry).
#[derive(Clone, Debug)]
pub struct JobRun {
    pub status: JobStatus,
    /// Whether the pending queue holds an entry for the job (possibly a dead one).
    pub(crate) in_queue: bool,
    /// The reason the job spent the most pending time under, fixed when it left the system.
    pub(crate) main_reason: u16,
    pub preemptions: u32,
    pub(crate) first_start: OptTime,
    /// Start of the current (or last) run.
    pub(crate) last_start: OptTime,
    /// When the job finished, was abandoned or was found unschedulable.
    pub(crate) end: OptTime,
    /// When a quota system first admitted the job (see `Decision::Admit`).
    pub(crate) first_admitted: OptTime,
    /// Work done, in reference-GPU milliseconds (saved at checkpoints while running).
    pub work_done: u64,
    /// Total time spent pending, including after preemptions (up to now for a pending job).
    pub pending_ms: u64,
    /// Time spent pending while admitted: waiting for nodes rather than for quota.
    pub admitted_wait_ms: u64,
    /// Time spent running, over all runs so far (during a run, up to the last stop of a running
    /// job; in the outcome, up to the end of the run).
    pub run_ms: u64,
    pub reason: Option<Box<str>>,
    /// Index of the job's live entry (`State::lives`) while it is pending or running.
    pub(crate) live: u32,
}

/// No live entry.
pub(crate) const NO_LIVE: u32 = u32::MAX;

impl JobRun {
    pub(crate) fn new() -> Self {
        JobRun {
            status: JobStatus::Future,
            in_queue: false,
            main_reason: 0,
            preemptions: 0,
            first_start: OptTime::NONE,
            last_start: OptTime::NONE,
            end: OptTime::NONE,
            first_admitted: OptTime::NONE,
            work_done: 0,
            pending_ms: 0,
            admitted_wait_ms: 0,
            run_ms: 0,
            reason: None,
            live: NO_LIVE,
        }
    }
    /// When the job first started.
    pub fn first_start(&self) -> Option<SimTime> {
        self.first_start.get()
    }
    /// Start of the current (or last) run.
    pub fn last_start(&self) -> Option<SimTime> {
        self.last_start.get()
    }
    /// When the job finished, was abandoned or was found unschedulable.
    pub fn end(&self) -> Option<SimTime> {
        self.end.get()
    }
    /// When a quota system first admitted the job (see `Decision::Admit`).
    pub fn first_admitted(&self) -> Option<SimTime> {
        self.first_admitted.get()
    }
    /// The reason the job spent the most pending time under (an index into the outcome's
    /// `reasons`; 0 when the policy gave none). Ties go to the reason given first.
    pub fn main_wait_reason(&self) -> u16 {
        self.main_reason
    }
}

/// How many things the engine did, for throughput figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events applied: arrivals, completions, abandonments, wake-ups, node changes.
    pub events: u64,
    pub arrivals: u64,
    pub completions: u64,
    /// Completions of runs that had been preempted meanwhile, ignored.
    pub stale: u64,
    pub abandonments: u64,
    pub wakes: u64,
    pub node_events: u64,
    /// Nodes that failed.
    pub node_failures: u64,
    /// Scheduling passes (one per instant at which something happened).
    pub passes: u64,
    pub starts: u64,
    pub preemptions: u64,
    pub rejections: u64,
    pub unschedulable: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub policy: String,
    pub placement: String,
    /// One record per job of the workload, indexed by `JobId`.
    pub jobs: Vec<JobRun>,
    pub teams: Vec<Usage>,
    pub total: Usage,
    /// The policy's queues and entitlements (`Policy::queues`).
    pub queues: QueueReport,
    /// Allocation per pool, in the cluster's pool order.
    pub pools: Vec<PoolUsage>,
    pub series: Vec<SeriesPoint>,
    /// The first submit time (the start of the observed span).
    pub start: SimTime,
    /// The instant the run stopped: the last event, or the horizon.
    pub end: SimTime,
    pub capacity_gpu_milli: u64,
    pub counters: Counters,
    /// The policy's own figures (`Policy::stats`).
    pub policy_stats: Vec<(String, f64)>,
    /// Whether the cluster series carries fragmentation (`EngineOptions::track_fragmentation`).
    pub fragmentation_tracked: bool,
    /// GPU capacity lost to failed nodes, integrated over the run (milli-GPU x ms).
    pub down_gpu_milli_ms: u128,
    /// Pending reasons the policy gave; index 0 is the empty reason (none given).
    pub reasons: Vec<String>,
    /// Pending time per team and reason, in job x ms (indexed `[team][reason]`).
    pub pending_by_reason: Vec<Vec<u128>>,
    /// Every preemption, in order, with the policy's reason (an index into `reasons`).
    pub preemption_log: Vec<PreemptionRecord>,
    /// Where each job's pods ran in its last run.
    pub placed: Placed,
}

/// Where each job's pods ran in its last (or current) run: for each pod, its node as its pool
/// (the index into `Outcome::pools`) and the node's place in that pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placed {
    /// Per job, the offset of its last run's pods in `nodes` (`u64::MAX`: never started).
    at: Vec<u64>,
    nodes: Vec<(u32, u32)>,
}

impl Placed {
    pub(crate) fn new(jobs: usize) -> Placed {
        Placed {
            at: vec![u64::MAX; jobs],
            nodes: Vec::new(),
        }
    }

    /// A run of `job` starts on these nodes (pool, index in the pool), one per pod.
    pub(crate) fn record(&mut self, job: usize, nodes: impl Iterator<Item = (u32, u32)>) {
        self.at[job] = self.nodes.len() as u64;
        self.nodes.extend(nodes);
    }

    /// The nodes of the last run of job `job`, which has `pods` pods; empty if it never ran.
    pub fn last(&self, job: usize, pods: u32) -> &[(u32, u32)] {
        match self.at.get(job) {
            Some(&at) if at != u64::MAX => {
                let at = at as usize;
                self.nodes.get(at..at + pods as usize).unwrap_or(&[])
            }
            _ => &[],
        }
    }
}

/// How much of one pool was allocated over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolUsage {
    pub name: String,
    /// The pool's GPU model, if it names one.
    pub model: Option<String>,
    pub capacity_gpu_milli: u64,
    /// Integral of the pool's allocated GPUs, milli-GPU x ms.
    pub gpu_milli_ms: u128,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_job_record_stays_compact() {
        // One record per job of the trace, so it bounds the per-job memory of long replays.
        assert_eq!(std::mem::size_of::<super::JobRun>(), 96);
        // And so does the job as read.
        assert_eq!(std::mem::size_of::<crate::JobSpec>(), 136);
    }
}
