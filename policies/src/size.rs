//! Size-based policies: shortest job first (SJF) and shortest remaining time first (SRTF), with
//! oracle or estimated run times.

use crate::JobMap;
use crate::estimate::{EstimateMode, Estimator};
use crate::preemptive::{self, KeyedQueue};
use crate::queue::{QueueMode, ShapeQueue};
use fairway_engine::{Cycle, JobId, JobSpec, JobStatus, Policy, SimTime, Transition};

/// Shortest job first: pending jobs in order of their estimated run time (fixed at submission),
/// ties in submit order. Not preemptive. Per-decision cost: O(a log a) to order this instant's a
/// arrivals, then as the queue policies' pass (`ShapeQueue::pass`, as for `Fifo`).
#[derive(Debug)]
pub struct Sjf {
    est: Estimator,
    mode: QueueMode,
    queue: ShapeQueue<u64>,
    keys: JobMap<u64>,
    fresh: Vec<(u64, JobId)>,
}

impl Sjf {
    pub fn new(estimate: EstimateMode, mode: QueueMode) -> Self {
        Sjf {
            est: Estimator::new(estimate),
            mode,
            queue: ShapeQueue::filed_by_pass(),
            keys: JobMap::default(),
            fresh: Vec::new(),
        }
    }
}

impl Policy for Sjf {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        if what == Transition::Finished {
            self.keys.remove(&job);
            self.est.learn(spec);
            return;
        }
        // Keyed once, at submission (every job is submitted before anything else happens to
        // it), so the estimate does not move while it waits.
        let k = *self
            .keys
            .entry(job)
            .or_insert_with(|| self.est.estimate(spec).millis());
        crate::queue::file(&mut self.queue, spec, k, job, what);
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        self.fresh.clear();
        self.fresh.extend(
            cx.arrived()
                .iter()
                .filter_map(|j| self.keys.get(j).map(|&k| (k, *j))),
        );
        self.fresh.sort_unstable();
        self.queue.pass(cx, self.mode, &self.fresh);
    }
}

/// Shortest remaining time first: like SJF on the estimated remaining time (estimate minus the
/// work done), and preemptive: a pending job that does not fit takes the place of running jobs
/// with a longer remaining time. A waiting job's remaining time does not change, so the queue is
/// kept in order incrementally. Cost per pass, with p pending jobs of s shapes and r running:
/// O(log p) to file each arrival, then the preemptive pass (`preemptive::pass`): O(s log s) plus
/// O(log p) per job started; once a job does not start, O(log r + c) to key the c running jobs
/// whose remaining time was longer than its when they started (the only ones that can be longer
/// now), and O(w log w) to sort the w of them it could preempt.
#[derive(Debug)]
pub struct Srtf {
    est: Estimator,
    estimates: JobMap<u64>,
    queue: KeyedQueue<u64>,
    scratch: preemptive::Scratch<u64>,
    /// Each running job's remaining time when it started, which it can only be below since.
    ceilings: preemptive::Ceilings<u64>,
    preempted: u64,
}

impl Srtf {
    pub fn new(estimate: EstimateMode) -> Self {
        Srtf {
            est: Estimator::new(estimate),
            estimates: JobMap::default(),
            queue: KeyedQueue::default(),
            scratch: preemptive::Scratch::default(),
            ceilings: preemptive::Ceilings::default(),
            preempted: 0,
        }
    }
}

/// Estimated remaining time of a job, from its estimate and the work it has done.
fn remaining(cx: &Cycle<'_>, estimates: &JobMap<u64>, job: JobId) -> u64 {
    estimates
        .get(&job)
        .copied()
        .unwrap_or(0)
        .saturating_sub(cx.work_done_now(job))
}

impl Policy for Srtf {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        match what {
            Transition::Submitted => {
                let e = self.est.estimate(spec).millis();
                self.estimates.insert(job, e);
                self.queue.arrive(job);
            }
            Transition::Preempted => {
                self.ceilings.stop(job);
                self.queue.arrive(job);
            }
            Transition::Started => self.queue.leave(job, spec),
            Transition::Finished => {
                self.ceilings.stop(job);
                self.estimates.remove(&job);
                self.est.learn(spec);
            }
            Transition::Abandoned | Transition::Unschedulable => {
                self.queue.leave(job, spec);
                self.estimates.remove(&job);
            }
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let est = &self.estimates;
        self.queue.absorb(cx, |cx, j| remaining(cx, est, j));
        self.preempted += preemptive::pass(
            cx,
            &mut self.queue,
            &mut self.scratch,
            |cx, r| remaining(cx, est, r),
            Some(&self.ceilings),
            "srtf: shorter remaining time",
        );
        for &j in self.scratch.started_in_pass() {
            if cx.status(j) == JobStatus::Running {
                self.ceilings.start(j, remaining(cx, est, j));
            }
        }
    }

    fn stats(&self) -> Vec<(String, f64)> {
        vec![("preemptions_for_shorter_jobs".into(), self.preempted as f64)]
    }
}
