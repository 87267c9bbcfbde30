//! What the preemptive priority policies (SRTF, LAS) share: a queue of pending jobs kept in key
//! order incrementally, and a pass that starts jobs in that order, preempting running jobs with a
//! worse key when that makes room.

use crate::queue::FailedShapes;
use fairway_engine::{Cycle, JobId, JobStatus};
use std::collections::BTreeSet;

/// At most this many pending jobs per pass try to make room by preemption (each try costs a
/// copy of the cluster's free capacity); the rest try at the next pass, which every event brings.
pub const MAX_PREEMPTION_TRIES: usize = 16;

/// Pending jobs in key order (lower first). A job's key is fixed while it waits: jobs that arrive
/// or are requeued are keyed at the next pass, when the policy can read their state.
#[derive(Clone, Debug)]
pub struct KeyedQueue<K> {
    keys: Vec<Option<K>>,
    set: BTreeSet<(K, JobId)>,
    incoming: Vec<JobId>,
    /// Jobs keyed at this pass (arrived or requeued): the only ones that can fit when nothing
    /// was released since the last pass.
    fresh: Vec<bool>,
    fresh_list: Vec<JobId>,
}

impl<K> Default for KeyedQueue<K> {
    fn default() -> Self {
        KeyedQueue {
            keys: Vec::new(),
            set: BTreeSet::new(),
            incoming: Vec::new(),
            fresh: Vec::new(),
            fresh_list: Vec::new(),
        }
    }
}

impl<K: Ord + Copy> KeyedQueue<K> {
    /// A job joined the queue (submitted or preempted).
    pub fn arrive(&mut self, job: JobId) {
        self.incoming.push(job);
    }

    /// A job left the queue (started, gave up, or was found unschedulable).
    pub fn leave(&mut self, job: JobId) {
        if let Some(k) = self.keys.get_mut(job.index()).and_then(Option::take) {
            self.set.remove(&(k, job));
        }
    }

    /// Keys the jobs that joined since the last pass. Call at the start of every pass.
    pub fn absorb(&mut self, cx: &Cycle<'_>, key: impl Fn(&Cycle<'_>, JobId) -> K) {
        for j in self.fresh_list.drain(..) {
            self.fresh[j.index()] = false;
        }
        for j in std::mem::take(&mut self.incoming) {
            if !cx.is_pending(j) {
                continue;
            }
            if self.keys.len() <= j.index() {
                self.keys.resize(j.index() + 1, None);
                self.fresh.resize(j.index() + 1, false);
            }
            self.rekey(j, key(cx, j));
            self.fresh[j.index()] = true;
            self.fresh_list.push(j);
        }
    }

    /// Gives a queued job a new key.
    pub fn rekey(&mut self, job: JobId, key: K) {
        if let Some(old) = self.keys[job.index()].replace(key) {
            self.set.remove(&(old, job));
        }
        self.set.insert((key, job));
    }

    pub fn key(&self, job: JobId) -> Option<K> {
        self.keys.get(job.index()).copied().flatten()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(K, JobId)> {
        self.set.iter()
    }

    /// The jobs keyed at this pass (arrived or requeued since the last one).
    pub fn fresh(&self) -> &[JobId] {
        &self.fresh_list
    }

    /// This pass's arrivals, in key order.
    fn fresh_in_key_order(&self) -> Vec<JobId> {
        let mut v: Vec<(K, JobId)> = self
            .fresh_list
            .iter()
            .filter_map(|&j| self.key(j).map(|k| (k, j)))
            .collect();
        v.sort_unstable();
        v.into_iter().map(|x| x.1).collect()
    }

    fn is_fresh(&self, job: JobId) -> bool {
        self.fresh.get(job.index()).copied().unwrap_or(false)
    }
}

/// Starts the queue's jobs in key order. A job that does not fit may take the place of running
/// jobs whose key is worse than its own, worst first, if giving back their pods makes it fit;
/// only the victims it needs are preempted. `key_of_running` gives the key of a running job;
/// `running` is the caller's scratch for the running jobs ranked by it (kept between passes so a
/// pass allocates nothing). Returns how many jobs were preempted.
///
/// Cost per pass: O(r log r) to key the r running jobs; a placement try per queued job when
/// resources were released since the last pass (else only for this pass's arrivals, as nothing
/// else can fit); and at most [`MAX_PREEMPTION_TRIES`] preemption tries of O(nodes + r) each.
/// The scan stops at the first job no running job is worse than.
pub fn pass<K: Ord + Copy>(
    cx: &mut Cycle<'_>,
    queue: &KeyedQueue<K>,
    running: &mut Vec<(K, JobId)>,
    key_of_running: impl Fn(&Cycle<'_>, JobId) -> K,
    reason: &str,
) -> u64 {
    let rank = |cx: &Cycle<'_>, running: &mut Vec<(K, JobId)>| {
        running.clear();
        running.extend(cx.running().iter().map(|&r| (key_of_running(cx, r), r)));
        // Worst first.
        running.sort_unstable_by(|a, b| b.cmp(a));
    };
    rank(cx, running);
    let mut preempted = 0;
    let mut tries = 0;
    let mut stopped = false;
    let mut failed = FailedShapes::default();
    for &(key, job) in queue.iter() {
        if !cx.is_pending(job) {
            continue;
        }
        // Without releases since the last pass only this pass's arrivals can fit.
        if (cx.freed() || queue.is_fresh(job)) && failed.try_start(cx, job) {
            continue;
        }
        // Running jobs with a worse key: a prefix of `running`.
        let worse = running.partition_point(|&(k, _)| k > key);
        if worse == 0 || tries == MAX_PREEMPTION_TRIES {
            if cx.freed() {
                continue; // a later job may still fit
            }
            // No later job can preempt; only later arrivals can still fit (below).
            stopped = true;
            break;
        }
        // Not even all of them would free enough GPU.
        let need = cx.job(job).gpu_milli();
        let could: u64 = running[..worse].iter().map(|&(_, v)| cx.job(v).gpu_milli()).sum();
        if cx.cluster().free_gpu_milli() + could < need {
            continue;
        }
        tries += 1;
        let Some(victims) = victims_for(cx, job, &running[..worse]) else {
            continue;
        };
        for &v in &victims {
            if cx.status(v) == JobStatus::Running && cx.preempt(v, reason, Some(job)) {
                preempted += 1;
            }
        }
        failed.clear();
        cx.try_start(job);
        rank(cx, running);
    }
    if stopped {
        for &j in queue.fresh_in_key_order().iter() {
            if cx.is_pending(j) {
                failed.try_start(cx, j);
            }
        }
    }
    preempted
}

/// The fewest of `candidates` (worst first) whose pods, given back, let `job` fit: take them in
/// order until it fits, then put back those it turns out not to need (best-keyed first).
fn victims_for<K: Copy>(cx: &mut Cycle<'_>, job: JobId, candidates: &[(K, JobId)]) -> Option<Vec<JobId>> {
    let mut what_if = cx.cluster().clone();
    let mut victims = Vec::new();
    let mut fits = false;
    let need = cx.job(job).gpu_milli();
    for &(_, v) in candidates {
        let spec = cx.job(v);
        for &slot in cx.slots(v) {
            what_if.give_back(&spec.pod, slot);
        }
        victims.push(v);
        // A placement scan only once enough GPU is free in total.
        if what_if.free_gpu_milli() >= need && cx.place_on(&what_if, job).is_some() {
            fits = true;
            break;
        }
    }
    if !fits {
        return None;
    }
    let mut i = victims.len() - 1;
    while i > 0 {
        i -= 1;
        let v = victims[i];
        let mut trial = what_if.clone();
        let spec = cx.job(v);
        let ok = cx
            .slots(v)
            .iter()
            .all(|&s| trial.take(&spec.pod, s, spec.models).is_ok());
        if ok && cx.place_on(&trial, job).is_some() {
            what_if = trial;
            victims.remove(i);
        }
    }
    Some(victims)
}
