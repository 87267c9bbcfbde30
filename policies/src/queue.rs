//! Queue-order policies: FIFO and priority, each strict (the head blocks) or best effort.

use fairway_engine::{Cycle, JobId, JobKind, JobSpec, ModelSet, PodRequest, Policy, SimTime, Transition};
use std::cmp::Reverse;
use std::collections::BTreeSet;

/// What happens when the job at the head of the queue does not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueMode {
    /// Nothing behind it starts: no overtaking, no starvation of large jobs.
    Strict,
    /// Later jobs that fit start now (like Kueue's BestEffortFIFO).
    BestEffort,
}

impl QueueMode {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueMode::Strict => "strict",
            QueueMode::BestEffort => "best-effort",
        }
    }
}

/// Job shapes (pod, pod count, allowed models, kind) that did not fit during this pass. Starting
/// jobs only takes capacity away, so until something is freed a job of the same shape cannot fit
/// either: a long queue of a few shapes costs a placement scan per shape, not per job.
#[derive(Debug, Default)]
pub(crate) struct FailedShapes(Vec<(PodRequest, u32, ModelSet, JobKind)>);

impl FailedShapes {
    /// Remembering more shapes than this costs more than it saves.
    const CAP: usize = 64;

    fn key(spec: &JobSpec) -> (PodRequest, u32, ModelSet, JobKind) {
        (spec.pod, spec.pods, spec.models, spec.kind)
    }

    /// Starts `job` where the placement puts it, unless a job of its shape already failed.
    pub(crate) fn try_start(&mut self, cx: &mut Cycle<'_>, job: JobId) -> bool {
        let k = Self::key(cx.job(job));
        if self.0.contains(&k) {
            return false;
        }
        let ok = cx.try_start(job);
        if !ok && self.0.len() < Self::CAP {
            self.0.push(k);
        }
        ok
    }

    /// Something was freed: every shape may fit again.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// Runs `order` front to back, starting what fits, as `mode` says.
///
/// In best-effort mode, when nothing was released since the last pass, jobs that did not fit then
/// cannot fit now, so only this instant's arrivals are tried: that keeps long queues cheap.
///
/// Cost per pass, with p pending jobs and s distinct job shapes among them: strict, one
/// placement try per job started plus one for the head that does not fit; best effort with
/// nothing released, one try per arrival; best effort after a release, a look at each of the p
/// jobs (O(p)) but a placement scan only for the first job of each shape that fails (O(s) scans,
/// at most 64 shapes remembered). That O(p) walk after every release is the one per-event rescan
/// left in these policies.
pub(crate) fn pass(
    cx: &mut Cycle<'_>,
    mode: QueueMode,
    order: impl Iterator<Item = JobId>,
    fresh: impl Iterator<Item = JobId>,
) {
    match mode {
        QueueMode::Strict => {
            for j in order {
                if cx.is_pending(j) && !cx.try_start(j) {
                    break;
                }
            }
        }
        QueueMode::BestEffort if cx.freed() => {
            let mut failed = FailedShapes::default();
            for j in order {
                if cx.is_pending(j) {
                    failed.try_start(cx, j);
                }
            }
        }
        QueueMode::BestEffort => {
            let mut failed = FailedShapes::default();
            for j in fresh {
                if cx.is_pending(j) {
                    failed.try_start(cx, j);
                }
            }
        }
    }
}

/// First come, first served, in submit order (ties in trace order). Per-decision cost: see
/// the queue pass (`queue::pass`); the queue is the engine's pending list, already in order.
#[derive(Debug)]
pub struct Fifo {
    mode: QueueMode,
}

impl Fifo {
    pub fn new(mode: QueueMode) -> Self {
        Fifo { mode }
    }
}

impl Policy for Fifo {
    fn label(&self) -> String {
        format!("fifo[mode={}]", self.mode.as_str())
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let (pending, arrived) = (cx.pending(), cx.arrived());
        pass(cx, self.mode, pending.iter().copied(), arrived.iter().copied());
    }
}

/// Highest priority first; equal priorities in submit order. Per-decision cost: O(log p) to
/// file each arrival in the ordered queue, then as the queue pass
/// (`queue::pass`).
#[derive(Debug)]
pub struct PriorityQueue {
    mode: QueueMode,
    queue: BTreeSet<(Reverse<i32>, JobId)>,
    fresh: Vec<(Reverse<i32>, JobId)>,
}

impl PriorityQueue {
    pub fn new(mode: QueueMode) -> Self {
        PriorityQueue {
            mode,
            queue: BTreeSet::new(),
            fresh: Vec::new(),
        }
    }
}

impl Policy for PriorityQueue {
    fn label(&self) -> String {
        format!("priority[mode={}]", self.mode.as_str())
    }

    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        let key = (Reverse(spec.priority), job);
        match what {
            Transition::Submitted | Transition::Preempted => {
                self.queue.insert(key);
            }
            Transition::Started | Transition::Abandoned | Transition::Unschedulable => {
                self.queue.remove(&key);
            }
            Transition::Finished => {}
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        self.fresh.clear();
        self.fresh
            .extend(cx.arrived().iter().map(|&j| (Reverse(cx.job(j).priority), j)));
        self.fresh.sort_unstable();
        pass(
            cx,
            self.mode,
            self.queue.iter().map(|k| k.1),
            self.fresh.iter().map(|k| k.1),
        );
    }
}
