//! EASY backfilling (Lifka, 1995; Mu'alem & Feitelson, 2001): jobs start in queue order; when
//! the head does not fit, it gets a reservation at the earliest time the running jobs' estimated
//! ends free enough room, and later jobs may start now if they do not delay that reservation
//! (they end before it by their estimate, or use only room the head will not need).
//!
//! Pending jobs are kept grouped by shape in queue order ([`ShapeQueue`]): starting jobs only
//! takes capacity away, so once a job finds no room now, no later job of its shape will in this
//! pass. Running jobs are kept in order of their estimated end. Cost per pass, with p pending
//! jobs of s shapes on n nodes, r running: O(s log s) to seed the merge of the groups; O(log p)
//! and a placement try per job started, per shape that stops fitting, and per job that fits now
//! but runs past the reservation (plus O(pods log n) to check the head still fits beside it);
//! and, when the head does not fit, O(n) to copy the cluster, O(log r) per running job that
//! passed its estimate since the last pass, and O(log r) plus a placement try per running job
//! the head waits for.

use crate::JobMap;
use crate::estimate::{EstimateMode, Estimator};
use crate::placement::take_if;
use crate::queue::ShapeQueue;
use fairway_engine::{Cluster, Cycle, Decision, JobId, JobSpec, Policy, SimDuration, SimTime, Transition};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// The queue order EASY works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillOrder {
    Fifo,
    Priority,
}

#[derive(Debug)]
pub struct EasyBackfill {
    order: BackfillOrder,
    est: Estimator,
    queue: ShapeQueue<(Reverse<i32>, SimTime)>,
    /// Estimate of each job at submission.
    estimates: JobMap<u64>,
    /// First reservation each head got.
    reserved: BTreeMap<JobId, SimTime>,
    /// (start + estimate, job) of the running jobs, and that instant by job; jobs found past it
    /// (by the last reservation) move to `overdue`.
    ends: BTreeSet<(SimTime, JobId)>,
    overdue: BTreeSet<JobId>,
    end_of: JobMap<SimTime>,
    /// Scratch: the jobs a pass started in queue order, before the head, and their ends.
    started: Vec<JobId>,
    started_ends: Vec<(SimTime, JobId)>,
    /// The cluster as the head's reservation finds it (a copy kept between passes, refreshed
    /// by each reservation without allocating).
    at_shadow: Option<Cluster>,
    stats: BackfillStats,
}

#[derive(Clone, Copy, Debug, Default)]
struct BackfillStats {
    backfilled: u64,
    finished: u64,
    under: u64,
    over: u64,
    abs_error_ms: u128,
    reservations: u64,
    delayed: u64,
    delay_ms: u128,
}

impl EasyBackfill {
    pub fn new(order: BackfillOrder, estimate: EstimateMode) -> Self {
        EasyBackfill {
            order,
            est: Estimator::new(estimate),
            queue: ShapeQueue::default(),
            estimates: JobMap::default(),
            reserved: BTreeMap::new(),
            ends: BTreeSet::new(),
            overdue: BTreeSet::new(),
            end_of: JobMap::default(),
            started: Vec::new(),
            started_ends: Vec::new(),
            at_shadow: None,
            stats: BackfillStats::default(),
        }
    }

    /// Queue order: the key, then the job id.
    fn key(&self, spec: &JobSpec) -> (Reverse<i32>, SimTime) {
        let prio = if self.order == BackfillOrder::Priority {
            spec.priority
        } else {
            0
        };
        (Reverse(prio), spec.submit)
    }

    /// When `head` could start if running jobs end at their estimated ends: the reservation time
    /// and the cluster as it would be then (with the head's pods not yet placed).
    ///
    /// Running jobs are taken in order of their estimated end, a job past its estimate counting
    /// as ending at once (ties in job order). So those past it come first, in job order, then
    /// this pass's starts (not in `ends` yet) and the rest of `ends` merged in order, as far as
    /// the head needs.
    fn reservation(&mut self, cx: &mut Cycle<'_>, head: JobId) -> Option<SimTime> {
        let now = cx.now();
        let soon = now + SimDuration(1);
        while let Some(&(t, r)) = self.ends.first()
            && t <= soon
        {
            self.ends.pop_first();
            self.overdue.insert(r);
        }
        let estimates = &self.estimates;
        self.started_ends.clear();
        self.started_ends.extend(self.started.iter().map(|&r| {
            let e = estimates.get(&r).copied().unwrap_or(0);
            ((now + SimDuration(e)).max(soon), r)
        }));
        self.started_ends.sort_unstable();
        let mut first = (self.overdue.iter().map(|&r| (soon, r)))
            .chain(self.started_ends.iter().copied())
            .peekable();
        let mut later = self.ends.iter().copied().peekable();
        let c = cx.cluster().copy_into(&mut self.at_shadow);
        loop {
            let (end, r) = match (first.peek(), later.peek()) {
                (Some(a), Some(b)) if b < a => later.next(),
                (Some(_), _) => first.next(),
                (None, _) => later.next(),
            }?;
            let spec = cx.job(r);
            for &s in cx.slots(r) {
                c.give_back(&spec.pod, s);
            }
            if cx.place_on(c, head).is_some() {
                // Jobs ending at the same instant are all gone by then.
                return Some(end);
            }
        }
    }

    /// A job started or stopped running: its estimated end joins or leaves `ends`.
    fn set_end(&mut self, job: JobId, end: Option<SimTime>) {
        if let Some(old) = self.end_of.remove(&job)
            && !self.ends.remove(&(old, job))
        {
            self.overdue.remove(&job);
        }
        if let Some(t) = end {
            self.end_of.insert(job, t);
            self.ends.insert((t, job));
        }
    }
}

impl Policy for EasyBackfill {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, now: SimTime) {
        let key = self.key(spec);
        match what {
            Transition::Submitted => {
                self.estimates.insert(job, self.est.estimate(spec).millis());
                self.queue.insert(spec, key, job);
            }
            Transition::Preempted => {
                self.set_end(job, None);
                self.queue.insert(spec, key, job);
            }
            Transition::Started => {
                let e = self.estimates.get(&job).copied().unwrap_or(0);
                self.set_end(job, Some(now + SimDuration(e)));
                self.queue.remove(spec, key, job);
                if let Some(t) = self.reserved.remove(&job) {
                    self.stats.reservations += 1;
                    if now > t {
                        self.stats.delayed += 1;
                        self.stats.delay_ms += u128::from(now.since(t).millis());
                    }
                }
            }
            Transition::Abandoned | Transition::Unschedulable => {
                self.queue.remove(spec, key, job);
                self.estimates.remove(&job);
                self.reserved.remove(&job);
            }
            Transition::Finished => {
                self.set_end(job, None);
                if let Some(e) = self.estimates.remove(&job) {
                    let actual = spec.work.millis();
                    self.stats.finished += 1;
                    if actual > e {
                        self.stats.under += 1;
                    } else if actual < e {
                        self.stats.over += 1;
                    }
                    self.stats.abs_error_ms += u128::from(actual.abs_diff(e));
                }
                self.est.learn(spec);
            }
        }
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        // Queue order while jobs fit.
        self.queue.seed(None);
        self.started.clear();
        let head = loop {
            let Some((at, g)) = self.queue.pop() else { return };
            self.queue.advance(g, at);
            if cx.is_pending(at.1) {
                if !cx.try_start(at.1) {
                    break at.1;
                }
                self.started.push(at.1);
            }
        };
        let Some(shadow) = self.reservation(cx, head) else {
            return;
        };
        let mut at_shadow = self.at_shadow.take().expect("a reservation leaves its cluster");
        self.reserved.entry(head).or_insert(shadow);
        let now = cx.now();
        // The jobs after the head, in queue order; a group leaves the merge at its first job
        // that finds no room.
        while let Some((at, g)) = self.queue.pop() {
            let j = at.1;
            if !cx.is_pending(j) {
                self.queue.advance(g, at);
                continue;
            }
            let Some(slots) = cx.find_placement(j).map(<[_]>::to_vec) else {
                continue;
            };
            self.queue.advance(g, at);
            let ends = now + SimDuration(self.estimates.get(&j).copied().unwrap_or(0));
            let ok = if ends <= shadow {
                true
            } else {
                // Still running at the reservation: the head must fit beside it then.
                take_if(&mut at_shadow, cx.job(j), &slots, |c| {
                    cx.place_on(c, head).is_some()
                })
            };
            if ok
                && cx.decide(Decision::Start {
                    job: j,
                    slots: &slots,
                })
            {
                self.stats.backfilled += 1;
            }
        }
        self.at_shadow = Some(at_shadow);
    }

    fn stats(&self) -> Vec<(String, f64)> {
        let s = &self.stats;
        vec![
            ("backfilled_jobs".into(), s.backfilled as f64),
            ("estimates_too_short".into(), s.under as f64),
            ("estimates_too_long".into(), s.over as f64),
            (
                "estimate_mean_abs_error_s".into(),
                if s.finished > 0 {
                    s.abs_error_ms as f64 / s.finished as f64 / 1000.0
                } else {
                    0.0
                },
            ),
            ("reservations_kept".into(), (s.reservations - s.delayed) as f64),
            ("reservations_missed".into(), s.delayed as f64),
            ("reservation_delay_s".into(), s.delay_ms as f64 / 1000.0),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;
    use proptest::prelude::*;

    /// The reservation from every running job's estimated end, sorted.
    fn reservation_by_scan(me: &EasyBackfill, cx: &mut Cycle<'_>, head: JobId) -> Option<(SimTime, Cluster)> {
        let now = cx.now();
        let mut ends: Vec<(SimTime, JobId)> = (cx.running().iter())
            .map(|&r| {
                let start = cx.run(r).last_start().unwrap_or(now);
                let e = me.estimates.get(&r).copied().unwrap_or(0);
                ((start + SimDuration(e)).max(now + SimDuration(1)), r)
            })
            .collect();
        ends.sort_unstable();
        let mut c = cx.cluster().clone();
        for (end, r) in ends {
            let spec = cx.job(r);
            for &s in cx.slots(r) {
                c.give_back(&spec.pod, s);
            }
            if cx.place_on(&c, head).is_some() {
                return Some((end, c));
            }
        }
        None
    }

    /// EASY with the pass as a walk over the whole queue in order, and the reservation from all
    /// running jobs sorted by estimated end: what the indexed pass must decide exactly as.
    struct Scan(EasyBackfill);

    impl Policy for Scan {
        fn label(&self) -> String {
            self.0.label()
        }
        fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, now: SimTime) {
            self.0.observe(job, spec, what, now);
        }
        fn schedule(&mut self, cx: &mut Cycle<'_>) {
            let me = &mut self.0;
            let mut order: Vec<_> = me.queue.jobs().collect();
            order.sort_unstable();
            let mut i = 0;
            let head = loop {
                let Some(&(_, j)) = order.get(i) else { return };
                i += 1;
                if cx.is_pending(j) && !cx.try_start(j) {
                    break j;
                }
            };
            let Some((shadow, mut at_shadow)) = reservation_by_scan(me, cx, head) else {
                return;
            };
            me.reserved.entry(head).or_insert(shadow);
            let now = cx.now();
            for &(_, j) in &order[i..] {
                if !cx.is_pending(j) {
                    continue;
                }
                let Some(slots) = cx.find_placement(j).map(<[_]>::to_vec) else {
                    continue;
                };
                let ends = now + SimDuration(me.estimates.get(&j).copied().unwrap_or(0));
                let ok = ends <= shadow || {
                    let spec = cx.job(j);
                    let mut trial = at_shadow.clone();
                    let fits = slots
                        .iter()
                        .all(|&s| trial.take(&spec.pod, s, spec.models).is_ok())
                        && cx.place_on(&trial, head).is_some();
                    if fits {
                        at_shadow = trial;
                    }
                    fits
                };
                if ok
                    && cx.decide(Decision::Start {
                        job: j,
                        slots: &slots,
                    })
                {
                    me.stats.backfilled += 1;
                }
            }
        }
        fn stats(&self) -> Vec<(String, f64)> {
            self.0.stats()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over random queues the pass over shape groups starts the same jobs at the same
        /// instants, with the same reservations, as the walk over the whole queue.
        #[test]
        fn the_indexed_pass_decides_as_the_plain_scan(
            jobs in testkit::jobs(),
            nodes in 1u32..=3,
            placement in testkit::placements(),
            priority in any::<bool>(),
        ) {
            let order = if priority { BackfillOrder::Priority } else { BackfillOrder::Fifo };
            let easy = || EasyBackfill::new(order, EstimateMode::Trace);
            let a = testkit::run(&jobs, nodes, placement, Box::new(easy()));
            let b = testkit::run(&jobs, nodes, placement, Box::new(Scan(easy())));
            testkit::same_decisions(&a, &b)?;
            prop_assert_eq!(a.policy_stats, b.policy_stats);
        }
    }
}
