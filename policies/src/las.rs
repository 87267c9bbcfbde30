//! Tiresias-style discretised two-dimensional least-attained-service (2D-LAS, Gu et al.,
//! NSDI '19): a job's attained service is GPUs x time it has run; thresholds split jobs into
//! queues, lower queues first, submit order within a queue; preemptive; a job that waited long
//! relative to its service is promoted to the first queue (starvation guard), and its service is
//! counted afresh from there, so it is not demoted (and preempted) again the moment it restarts.
//!
//! A waiting job's queue changes only by promotion, so waiting jobs are kept in order
//! incrementally, with their promotion times in a second ordered set; a running job's service
//! grows at a fixed rate, so the instants running jobs cross thresholds are kept in a third, and
//! the running jobs' keys, which change only then, in a fourth.
//! Cost per pass, with p pending jobs of s shapes and r running: O(log p) per arrival and per
//! promotion; O(log r) per job started or stopped and per threshold crossed; plus the shared
//! pass ([`preemptive::pass`]): O(s log s) plus O(log p) per job started, and once a job does
//! not start, O(log r + w log w) for the w running jobs it could preempt.

use crate::JobMap;
use crate::preemptive::{self, KeyedQueue};
use fairway_engine::{
    Cluster, Cycle, JobId, JobSpec, JobStatus, Policy, PolicyError, SimDuration, SimTime, Transition,
    Workload,
};
use std::collections::BTreeSet;

type Key = (usize, SimTime, JobId);

#[derive(Debug)]
pub struct Las {
    /// Queue thresholds in milli-GPU x ms, ascending.
    thresholds: Vec<u128>,
    /// A pending job that has waited `promote_after` times its run time goes to the first queue
    /// (0: never).
    promote_after: f64,
    queue: KeyedQueue<Key>,
    scratch: preemptive::Scratch<Key>,
    /// (due, job) of waiting jobs that promotion will move to the first queue.
    due: BTreeSet<(SimTime, JobId)>,
    due_of: Vec<Option<SimTime>>,
    /// (instant, job) at which each running job next crosses a threshold, and the instant by
    /// job. A running job's service grows at a fixed rate, so the instant stays put while it runs.
    crossings: BTreeSet<(SimTime, JobId)>,
    /// Running jobs only, so not one entry per job of the trace.
    crossing_of: JobMap<SimTime>,
    /// Each running job's key as of its start or its last threshold crossing: exact during a
    /// pass, as the crossings up to now are taken first.
    keys: preemptive::Ceilings<Key>,
    /// Attained service at each job's last promotion (milli-GPU x ms), by job index.
    base: Vec<u128>,
    preempted: u64,
    promoted: u64,
    wake: Option<SimTime>,
    /// Find the next change by walking the running jobs, and key all running jobs in a pass
    /// (the reference the tests hold the crossings and `keys` to).
    #[cfg(test)]
    by_scan: bool,
}

impl Las {
    /// `thresholds_gpu_h`: queue limits in GPU-hours of attained service.
    pub fn new(thresholds_gpu_h: &[f64], promote_after: f64) -> Self {
        Las {
            thresholds: thresholds_gpu_h
                .iter()
                .map(|h| (h * 3_600_000.0 * 1000.0) as u128)
                .collect(),
            promote_after,
            queue: KeyedQueue::default(),
            scratch: preemptive::Scratch::default(),
            due: BTreeSet::new(),
            due_of: Vec::new(),
            crossings: BTreeSet::new(),
            crossing_of: JobMap::default(),
            keys: preemptive::Ceilings::default(),
            base: Vec::new(),
            preempted: 0,
            promoted: 0,
            wake: None,
            #[cfg(test)]
            by_scan: false,
        }
    }

    /// Service since the last promotion.
    fn attained(&self, cx: &Cycle<'_>, j: JobId) -> u128 {
        let all = u128::from(cx.job(j).gpu_milli()) * u128::from(cx.run_ms_now(j));
        all - self.base.get(j.index()).copied().unwrap_or(0)
    }

    fn level(&self, cx: &Cycle<'_>, j: JobId) -> usize {
        let a = self.attained(cx, j);
        self.thresholds.iter().take_while(|&&t| a >= t).count()
    }

    fn key(&self, cx: &Cycle<'_>, j: JobId) -> Key {
        (self.level(cx, j), cx.job(j).submit, j)
    }

    /// When waiting job `j` is due for promotion, if it can be.
    fn promotion_due(&self, cx: &Cycle<'_>, j: JobId) -> Option<SimTime> {
        if self.promote_after <= 0.0 || self.level(cx, j) == 0 {
            return None;
        }
        let wait = (self.promote_after * cx.run_ms_now(j) as f64).ceil() as u64;
        cx.pending_since(j).map(|since| since + SimDuration(wait))
    }

    fn forget_due(&mut self, j: JobId) {
        if let Some(t) = self.due_of.get_mut(j.index()).and_then(Option::take) {
            self.due.remove(&(t, j));
        }
    }

    /// When running job `j` next crosses a threshold (after now), if it will.
    fn next_crossing(&self, cx: &Cycle<'_>, j: JobId) -> Option<SimTime> {
        let g = u128::from(cx.job(j).gpu_milli());
        if g == 0 {
            return None;
        }
        let a = self.attained(cx, j);
        let t = self.thresholds.iter().find(|&&t| t > a)?;
        Some(cx.now() + SimDuration(((t - a).div_ceil(g)) as u64))
    }

    fn set_crossing(&mut self, j: JobId, at: Option<SimTime>) {
        if let Some(old) = self.crossing_of.remove(&j) {
            self.crossings.remove(&(old, j));
        }
        if let Some(t) = at {
            self.crossing_of.insert(j, t);
            self.crossings.insert((t, j));
        }
    }

    /// The running jobs that crossed a threshold by now move to their next queue (and get their
    /// next crossing). Before each pass, so that `keys` are the running jobs' keys now.
    fn cross(&mut self, cx: &Cycle<'_>) {
        while let Some(&(t, j)) = self.crossings.first() {
            if t > cx.now() {
                break;
            }
            let next = self.next_crossing(cx, j);
            self.set_crossing(j, next);
            self.keys.start(j, self.key(cx, j));
        }
    }

    /// The next instant a queue changes: a running job crossing a threshold, or a waiting one
    /// due for promotion (jobs preempted in this pass are not queued yet: checked directly).
    /// Brings the crossings up to date first: the jobs this pass preempted leave them, and the
    /// jobs it started join them (and `keys`).
    fn next_change(&mut self, cx: &Cycle<'_>, started: &[JobId]) -> Option<SimTime> {
        let now = cx.now();
        for &p in cx.requeued() {
            self.set_crossing(p, None);
            self.keys.stop(p);
        }
        for &j in started {
            if cx.status(j) == JobStatus::Running {
                let next = self.next_crossing(cx, j);
                self.set_crossing(j, next);
                self.keys.start(j, self.key(cx, j));
            }
        }
        let mut next: Option<SimTime> = self.due.first().map(|d| d.0).filter(|&t| t > now);
        let mut consider = |t: SimTime| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        if let Some(&(t, _)) = self.crossings.first() {
            consider(t);
        }
        for &p in cx.requeued() {
            if let Some(due) = self.promotion_due(cx, p) {
                consider(due);
            }
        }
        next
    }
}

impl Policy for Las {
    fn prepare(&mut self, workload: &Workload, _cluster: &Cluster) -> Result<(), PolicyError> {
        self.base = vec![0; workload.len()];
        self.due_of = vec![None; workload.len()];
        Ok(())
    }

    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        match what {
            Transition::Submitted => self.queue.arrive(job),
            Transition::Preempted => {
                self.set_crossing(job, None);
                self.keys.stop(job);
                self.queue.arrive(job);
            }
            Transition::Started | Transition::Abandoned | Transition::Unschedulable => {
                self.queue.leave(job, spec);
                self.forget_due(job);
            }
            Transition::Finished => {
                self.set_crossing(job, None);
                self.keys.stop(job);
            }
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        // Queue the newcomers, and note when each may be promoted.
        let mut queue = std::mem::take(&mut self.queue);
        let me = &*self;
        queue.absorb(cx, |cx, j| me.key(cx, j));
        for &j in queue.fresh() {
            if let Some(t) = self.promotion_due(cx, j) {
                self.due_of[j.index()] = Some(t);
                self.due.insert((t, j));
            }
        }
        // Promote the jobs whose time has come.
        while let Some(&(t, j)) = self.due.first() {
            if t > cx.now() {
                break;
            }
            self.due.pop_first();
            self.due_of[j.index()] = None;
            if cx.is_pending(j) {
                self.base[j.index()] = u128::from(cx.job(j).gpu_milli()) * u128::from(cx.run_ms_now(j));
                self.promoted += 1;
                queue.rekey(j, cx.job(j), (0, cx.job(j).submit, j));
            }
        }
        self.cross(cx);
        let mut scratch = std::mem::take(&mut self.scratch);
        let me = &*self;
        #[cfg(not(test))]
        let keys = Some(&me.keys);
        #[cfg(test)]
        let keys = (!me.by_scan).then_some(&me.keys);
        let n = preemptive::pass(
            cx,
            &mut queue,
            &mut scratch,
            |cx, r| me.key(cx, r),
            keys,
            "las: more attained service",
        );
        self.queue = queue;
        self.preempted += n;
        let next = self.next_change(cx, scratch.started_in_pass());
        #[cfg(test)]
        let next = if self.by_scan {
            tests::next_change_by_scan(self, cx)
        } else {
            next
        };
        self.scratch = scratch;
        if let Some(t) = next
            && self.wake.is_none_or(|w| w <= cx.now() || w > t)
        {
            self.wake = Some(t);
            cx.wake_at(t);
        }
    }

    fn stats(&self) -> Vec<(String, f64)> {
        vec![
            (
                "preemptions_for_less_attained_service".into(),
                self.preempted as f64,
            ),
            ("promotions_after_starving".into(), self.promoted as f64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;
    use proptest::prelude::*;

    /// The next change found by walking every running job.
    pub(super) fn next_change_by_scan(las: &Las, cx: &Cycle<'_>) -> Option<SimTime> {
        let now = cx.now();
        let mut next: Option<SimTime> = las.due.first().map(|d| d.0).filter(|&t| t > now);
        let mut consider = |t: SimTime| {
            if t > now && next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for &r in cx.running() {
            let g = u128::from(cx.job(r).gpu_milli());
            if g == 0 {
                continue;
            }
            let a = las.attained(cx, r);
            if let Some(&t) = las.thresholds.iter().find(|&&t| t > a) {
                consider(now + SimDuration(((t - a).div_ceil(g)) as u64));
            }
        }
        for &p in cx.requeued() {
            if let Some(due) = las.promotion_due(cx, p) {
                consider(due);
            }
        }
        next
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over random queues, with thresholds the jobs cross while they run, LAS wakes and
        /// decides as when every pass walks the running jobs for the next crossing and keys
        /// them all.
        #[test]
        fn the_crossings_and_kept_keys_decide_as_the_walk_over_running_jobs(
            jobs in testkit::jobs(),
            nodes in 1u32..=3,
            placement in testkit::placements(),
            promote_after in prop_oneof![Just(0.0), Just(2.0)],
        ) {
            let las = |by_scan| {
                let mut p = Las::new(&[0.01, 0.05, 0.1], promote_after);
                p.by_scan = by_scan;
                Box::new(p)
            };
            let a = testkit::run(&jobs, nodes, placement, las(false));
            let b = testkit::run(&jobs, nodes, placement, las(true));
            testkit::same_decisions(&a, &b)?;
            prop_assert_eq!(a.counters.wakes, b.counters.wakes);
        }
    }
}
