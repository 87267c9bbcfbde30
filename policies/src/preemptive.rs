//! What the preemptive priority policies (SRTF, LAS) share: a queue of pending jobs kept in key
//! order incrementally, and a pass that starts jobs in that order, preempting running jobs with a
//! worse key when that makes room.

use crate::JobMap;
use crate::placement::take_if;
use crate::queue::{FailedShapes, ShapeQueue};
use fairway_engine::{Cluster, Cycle, JobId, JobSpec, JobStatus};
use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

/// At most this many pending jobs per pass try to make room by preemption (each try costs a
/// copy of the cluster's free capacity); the rest try at the next pass, which every event brings.
pub const MAX_PREEMPTION_TRIES: usize = 16;

/// Each running job with a key its key now is no worse than: SRTF's remaining time at the job's
/// start (it only shrinks as the job runs), or LAS's exact key (refreshed whenever it changes). A
/// job whose ceiling is no worse than a pending job's key cannot be worse than it now, so a pass
/// keys only the running jobs above that key here, not all of them.
#[derive(Debug)]
pub struct Ceilings<K> {
    set: BTreeSet<(K, JobId)>,
    of: JobMap<K>,
}

impl<K> Default for Ceilings<K> {
    fn default() -> Self {
        Ceilings {
            set: BTreeSet::new(),
            of: JobMap::default(),
        }
    }
}

impl<K: Ord + Copy> Ceilings<K> {
    /// `job` runs with a key no worse than `key` from now on.
    pub fn start(&mut self, job: JobId, key: K) {
        self.stop(job);
        self.of.insert(job, key);
        self.set.insert((key, job));
    }

    /// `job` stopped running (finished or preempted).
    pub fn stop(&mut self, job: JobId) {
        if let Some(k) = self.of.remove(&job) {
            self.set.remove(&(k, job));
        }
    }

    /// The jobs whose key at their start was worse than `key`.
    fn above(&self, key: K) -> impl Iterator<Item = JobId> + '_ {
        (self.set.range((Excluded((key, JobId(u32::MAX))), Unbounded))).map(|x| x.1)
    }
}

/// Pending jobs in key order (lower first), grouped by shape (see [`ShapeQueue`]). A job's key is
/// fixed while it waits: jobs that arrive or are requeued are keyed at the next pass, when the
/// policy can read their state.
#[derive(Debug)]
pub struct KeyedQueue<K> {
    keys: Vec<Option<K>>,
    jobs: ShapeQueue<K>,
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
            jobs: ShapeQueue::default(),
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
    pub fn leave(&mut self, job: JobId, spec: &JobSpec) {
        if let Some(k) = self.keys.get_mut(job.index()).and_then(Option::take) {
            self.jobs.remove(spec, k, job);
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
            self.rekey(j, cx.job(j), key(cx, j));
            self.fresh[j.index()] = true;
            self.fresh_list.push(j);
        }
    }

    /// Gives a queued job a new key.
    pub fn rekey(&mut self, job: JobId, spec: &JobSpec, key: K) {
        if let Some(old) = self.keys[job.index()].replace(key) {
            self.jobs.remove(spec, old, job);
        }
        self.jobs.insert(spec, key, job);
    }

    pub fn key(&self, job: JobId) -> Option<K> {
        self.keys.get(job.index()).copied().flatten()
    }

    /// The jobs keyed at this pass (arrived or requeued since the last one).
    pub fn fresh(&self) -> &[JobId] {
        &self.fresh_list
    }

    /// This pass's arrivals, in key order, into `out`.
    fn fresh_in_key_order(&self, out: &mut Vec<(K, JobId)>) {
        out.clear();
        out.extend(
            self.fresh_list
                .iter()
                .filter_map(|&j| self.key(j).map(|k| (k, j))),
        );
        out.sort_unstable();
    }

    fn is_fresh(&self, job: JobId) -> bool {
        self.fresh.get(job.index()).copied().unwrap_or(false)
    }
}

/// What a pass keeps between calls so that it allocates nothing.
#[derive(Debug)]
pub struct Scratch<K> {
    /// The jobs running when the span began with a key worse than `bound`, and their keys,
    /// worst first.
    running: Vec<(K, JobId)>,
    bound: Option<K>,
    /// `could[i]`: milli-GPU the first `i` jobs of `running` hold.
    could: Vec<u64>,
    /// Jobs started in this span (they are not in the rank).
    started: Vec<JobId>,
    /// Jobs started in the last pass.
    started_in_pass: Vec<JobId>,
    fresh: Vec<(K, JobId)>,
    /// Boxed: policies move their scratch out and back around each pass.
    planner: Option<Box<Planner>>,
}

impl<K> Default for Scratch<K> {
    fn default() -> Self {
        Scratch {
            running: Vec::new(),
            bound: None,
            could: Vec::new(),
            started: Vec::new(),
            started_in_pass: Vec::new(),
            fresh: Vec::new(),
            planner: None,
        }
    }
}

impl<K: Ord + Copy> Scratch<K> {
    /// The jobs the last pass started.
    pub fn started_in_pass(&self) -> &[JobId] {
        &self.started_in_pass
    }

    /// A span of the pass begins (at its start, and after each preemption): the running jobs are
    /// keyed afresh when a job first needs them.
    fn new_span(&mut self) {
        self.started.clear();
        self.running.clear();
        self.bound = None;
    }

    /// How many of the jobs that were running when the span began have a key worse than `key`:
    /// they are `running[..worse]`, worst first. Only those are keyed and sorted, once for the
    /// first (best) key a span asks about: the keys asked about after it are worse, so their
    /// running jobs are a prefix of the same list. With `ceilings`, only the running jobs whose
    /// key was worse than `key` when they started (and the jobs this pass started before the
    /// span) are keyed; without, all of them.
    fn worse(
        &mut self,
        cx: &Cycle<'_>,
        key: K,
        key_of_running: &impl Fn(&Cycle<'_>, JobId) -> K,
        ceilings: Option<&Ceilings<K>>,
    ) -> usize {
        if self.bound.is_none_or(|b| key < b) {
            // Jobs started in this span are not in the rank.
            self.started.sort_unstable();
            let started = &self.started;
            let in_rank =
                |r: &JobId| cx.status(*r) == JobStatus::Running && started.binary_search(r).is_err();
            self.running.clear();
            match ceilings {
                Some(c) => self.running.extend(
                    (c.above(key).chain(self.started_in_pass.iter().copied()))
                        .filter(in_rank)
                        .map(|r| (key_of_running(cx, r), r))
                        .filter(|&(k, _)| k > key),
                ),
                None => self.running.extend(
                    (cx.running().iter().copied())
                        .filter(in_rank)
                        .map(|r| (key_of_running(cx, r), r))
                        .filter(|&(k, _)| k > key),
                ),
            }
            self.running.sort_unstable_by(|a, b| b.cmp(a));
            self.could.clear();
            self.could.push(0);
            let mut sum = 0;
            for &(_, r) in &self.running {
                sum += cx.job(r).gpu_milli();
                self.could.push(sum);
            }
            self.bound = Some(key);
        }
        self.running.partition_point(|&(k, _)| k > key)
    }
}

/// Starts the queue's jobs in key order. A job that does not fit may take the place of running
/// jobs whose key is worse than its own, worst first, if giving back their pods makes it fit;
/// only the victims it needs are preempted. `key_of_running` gives the key of a running job;
/// `ceilings`, if the policy keeps them, narrows down the running jobs that can be worse than a
/// pending one. Returns how many jobs were preempted.
///
/// The running jobs are keyed once when a job first fails to start, and again after each
/// preemption; within those spans capacity only shrinks, and a later job (a worse key) has
/// fewer running jobs to preempt. So once a job does not start and cannot preempt either, no
/// later job of its shape can: the queue walks its shape groups merged in key order and drops
/// a group there (the queue policies' pass, [`ShapeQueue::pass`], with preemption on top).
///
/// Cost per pass, with p pending jobs of s shapes and r running: when a job fails to start,
/// O(r) to key the running jobs (with `ceilings`, O(log r + c) for the c whose key at their
/// start was worse than its), and O(w log w) to sort the w of them with a worse key than it;
/// O(s log s) to seed the merge, again after each preemption; and
/// O(log p) plus one placement try per job started and per shape that stops fitting. When
/// nothing was released since the last pass, only this pass's arrivals try to start, and the
/// walk stops at the first job no running job is worse than. At most
/// [`MAX_PREEMPTION_TRIES`] preemption tries of O(nodes + r) each: a copy of the cluster's free
/// capacity into a kept buffer, the job's room on each node (counted once a shape for as long as
/// the cluster does not change, then copied), and the candidates' pods given back on the copy.
pub fn pass<K: Ord + Copy>(
    cx: &mut Cycle<'_>,
    queue: &mut KeyedQueue<K>,
    scratch: &mut Scratch<K>,
    key_of_running: impl Fn(&Cycle<'_>, JobId) -> K,
    ceilings: Option<&Ceilings<K>>,
    reason: &str,
) -> u64 {
    let mut preempted = 0;
    let mut tries = 0;
    let mut stopped = false;
    let mut failed = FailedShapes::default();
    scratch.new_span();
    scratch.started_in_pass.clear();
    queue.fresh_in_key_order(&mut scratch.fresh);
    // Without releases this pass's arrivals come from their own list, in key order, and the
    // groups yield only the jobs that waited already (they can only preempt).
    let mut freed = cx.freed();
    let mut next_fresh = 0;
    queue.jobs.seed(None);
    loop {
        let fresh_head = if freed {
            None
        } else {
            scratch.fresh.get(next_fresh).copied()
        };
        let (at, group) = match (fresh_head, queue.jobs.peek()) {
            (None, None) => break,
            (Some(f), g) if g.is_none_or(|g| f < g) => {
                next_fresh += 1;
                (f, None)
            }
            _ => {
                let (at, g) = queue.jobs.pop().expect("peeked");
                (at, Some(g))
            }
        };
        let (key, job) = at;
        let go_on = |queue: &mut KeyedQueue<K>| {
            if let Some(g) = group {
                queue.jobs.advance(g, at);
            }
        };
        if !cx.is_pending(job) || (!freed && group.is_some() && queue.is_fresh(job)) {
            go_on(queue);
            continue;
        }
        // Without releases since the last pass only this pass's arrivals can fit.
        if (freed || queue.is_fresh(job)) && failed.try_start(cx, job) {
            scratch.started.push(job);
            scratch.started_in_pass.push(job);
            go_on(queue);
            continue;
        }
        // Running jobs with a worse key: a prefix of `running`.
        let worse = scratch.worse(cx, key, &key_of_running, ceilings);
        // From here on a group left out of the merge stays out until the next preemption:
        // nothing later in it can start, and the conditions below only get harder along it.
        if worse == 0 || tries == MAX_PREEMPTION_TRIES {
            if freed {
                continue; // a later job may still fit
            }
            // No later job can preempt; only later arrivals can still fit (below).
            stopped = true;
            break;
        }
        // Not even all of them would free enough GPU.
        if cx.cluster().free_gpu_milli() + scratch.could[worse] < cx.job(job).gpu_milli() {
            continue;
        }
        tries += 1;
        let planner = scratch.planner.get_or_insert_with(Box::default);
        if !victims_for(cx, job, &scratch.running[..worse], planner) {
            go_on(queue);
            continue;
        }
        for &v in &planner.victims {
            if cx.status(v) == JobStatus::Running && cx.preempt(v, reason, Some(job)) {
                preempted += 1;
            }
        }
        failed.clear();
        if cx.try_start(job) {
            scratch.started_in_pass.push(job);
        }
        // Room came back: every group is in play again from here, under a new rank.
        scratch.new_span();
        freed = cx.freed();
        queue.jobs.seed(Some(at));
    }
    if stopped {
        for &(_, j) in &scratch.fresh {
            if cx.is_pending(j) && failed.try_start(cx, j) {
                scratch.started_in_pass.push(j);
            }
        }
    }
    preempted
}

/// The fewest of `candidates` (worst first) whose pods, given back, let `job` fit, into
/// `planner.victims`: take them in order until it fits, then put back those it turns out not to
/// need (best-keyed first). False if even all of them are not enough.
fn victims_for<K: Copy>(
    cx: &mut Cycle<'_>,
    job: JobId,
    candidates: &[(K, JobId)],
    planner: &mut Planner,
) -> bool {
    let mut room = planner.room(cx.cluster(), cx.job(job));
    let what_if = cx.cluster().copy_into(&mut planner.what_if);
    let Some(n) = give_back_until_it_fits(cx, what_if, &mut room, job, candidates) else {
        planner.spare = room.fit;
        return false;
    };
    let victims = &mut planner.victims;
    victims.clear();
    victims.extend(candidates[..n].iter().map(|&(_, v)| v));
    let mut i = n - 1;
    let slots = &mut planner.slots;
    while i > 0 {
        i -= 1;
        let v = victims[i];
        slots.clear();
        slots.extend_from_slice(cx.slots(v));
        let kept = take_if(what_if, cx.job(v), slots, |c| {
            room.update(c, slots);
            room.may_fit() && cx.place_on(c, job).is_some()
        });
        room.update(what_if, slots);
        if kept {
            victims.remove(i);
        }
    }
    planner.spare = room.fit;
    true
}

/// What preemption tries keep between them: the what-if copy of the cluster they plan on
/// (refreshed for each try, without allocating), and each shape's room on the cluster, counted
/// once for as long as the cluster does not change (a pass often tries several jobs of one shape
/// before anything starts).
#[derive(Debug, Default)]
struct Planner {
    what_if: Option<Cluster>,
    /// The cluster's change count `rooms[..counted]` were counted at.
    changes: u64,
    /// Rooms of the shapes tried since (the entries past `counted` are buffers to reuse).
    rooms: Vec<PodRoom>,
    counted: usize,
    /// Buffers: the next try's room, the last try's victims, a victim's slots.
    spare: Vec<u64>,
    victims: Vec<JobId>,
    slots: Vec<fairway_engine::PodSlot>,
}

impl Planner {
    /// The room of `spec`'s pods on `cluster` (the cluster's, not a what-if copy's).
    fn room(&mut self, cluster: &Cluster, spec: &JobSpec) -> PodRoom {
        if self.changes != cluster.changes() {
            self.counted = 0;
            self.changes = cluster.changes();
        }
        let allowed = fairway_engine::Allowed::job(spec);
        let same = |r: &PodRoom| {
            r.pod == spec.pod
                && r.allowed.models == allowed.models
                && r.allowed.kind == allowed.kind
                && r.allowed.selector == allowed.selector
        };
        let i = match self.rooms[..self.counted].iter().position(same) {
            Some(i) => i,
            None => {
                if self.counted == self.rooms.len() {
                    self.rooms.push(PodRoom {
                        pod: spec.pod,
                        allowed,
                        pods: 0,
                        fit: Vec::new(),
                        total: 0,
                    });
                }
                self.rooms[self.counted].count(cluster, spec);
                self.counted += 1;
                self.counted - 1
            }
        };
        let base = &self.rooms[i];
        let mut fit = std::mem::take(&mut self.spare);
        fit.clone_from(&base.fit);
        PodRoom {
            pod: base.pod,
            allowed: base.allowed,
            pods: u64::from(spec.pods),
            fit,
            total: base.total,
        }
    }
}

/// How many pods of a job may go on each node of a what-if cluster, and in all: no placement
/// can place the job unless the total reaches its pod count (it is the room a placement counts
/// before choosing). Kept up to date node by node as pods are given back or taken, so that the
/// placement, which may score every node, is asked only when the job might fit, and answers
/// exactly as before: the bound only skips certain "no"s.
#[derive(Debug)]
struct PodRoom {
    pod: fairway_engine::PodRequest,
    allowed: fairway_engine::Allowed<'static>,
    pods: u64,
    /// Per node.
    fit: Vec<u64>,
    total: u64,
}

impl PodRoom {
    /// Counts `spec`'s room on `cluster` afresh, in this entry's buffer.
    fn count(&mut self, cluster: &Cluster, spec: &JobSpec) {
        self.pod = spec.pod;
        self.allowed = fairway_engine::Allowed::job(spec);
        self.pods = u64::from(spec.pods);
        self.fit.clear();
        let allowed = &self.allowed;
        self.fit.extend(
            cluster
                .node_ids()
                .map(|n| u64::from(cluster.pods_allowed(n, &spec.pod, allowed))),
        );
        self.total = self.fit.iter().sum();
    }

    /// The nodes of `slots` changed on `cluster`.
    fn update(&mut self, cluster: &Cluster, slots: &[fairway_engine::PodSlot]) {
        for s in slots {
            let i = s.node.index();
            let now = u64::from(cluster.pods_allowed(s.node, &self.pod, &self.allowed));
            self.total = self.total - self.fit[i] + now;
            self.fit[i] = now;
        }
    }

    fn may_fit(&self) -> bool {
        self.total >= self.pods
    }
}

/// Gives back the pods of `candidates` (in order) on `what_if`, a copy of the cluster, until
/// `job` fits, keeping the job's `room` on it up to date; returns how many candidates were
/// given back, or `None` if it does not fit even with all of them gone.
fn give_back_until_it_fits<K: Copy>(
    cx: &mut Cycle<'_>,
    what_if: &mut Cluster,
    room: &mut PodRoom,
    job: JobId,
    candidates: &[(K, JobId)],
) -> Option<usize> {
    for (i, &(_, v)) in candidates.iter().enumerate() {
        let spec = cx.job(v);
        for &slot in cx.slots(v) {
            what_if.give_back(&spec.pod, slot);
        }
        room.update(what_if, cx.slots(v));
        // A placement scan only once the nodes the job may use have room for all its pods.
        if room.may_fit() && cx.place_on(what_if, job).is_some() {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;
    use fairway_engine::{Policy, SimTime, Transition};
    use proptest::prelude::*;

    /// `victims_for` as it reads: candidates given back on a copy of the cluster until the job
    /// fits, then each victim it might put back tried on a copy of that, asking the placement
    /// every time.
    fn victims_by_copies<K: Copy>(
        cx: &mut Cycle<'_>,
        job: JobId,
        candidates: &[(K, JobId)],
    ) -> Option<Vec<JobId>> {
        let mut what_if = cx.cluster().clone();
        let mut victims = Vec::new();
        let mut fits = false;
        for &(_, v) in candidates {
            let spec = cx.job(v);
            for &slot in cx.slots(v) {
                what_if.give_back(&spec.pod, slot);
            }
            victims.push(v);
            if cx.place_on(&what_if, job).is_some() {
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
            let ok = (cx.slots(v).iter()).all(|&s| trial.take(&spec.pod, s, spec.models).is_ok());
            if ok && cx.place_on(&trial, job).is_some() {
                what_if = trial;
                victims.remove(i);
            }
        }
        Some(victims)
    }

    /// The pass as a walk over the whole queue in key order, ranking all running jobs first and
    /// planning preemptions on copies of the cluster: what the indexed pass must decide exactly
    /// as.
    fn pass_by_scan<K: Ord + Copy>(
        cx: &mut Cycle<'_>,
        queue: &KeyedQueue<K>,
        key_of_running: impl Fn(&Cycle<'_>, JobId) -> K,
        reason: &str,
    ) -> u64 {
        let mut all: Vec<(K, JobId)> = queue.jobs.jobs().collect();
        all.sort_unstable();
        let rank = |cx: &Cycle<'_>| {
            let mut running: Vec<(K, JobId)> =
                cx.running().iter().map(|&r| (key_of_running(cx, r), r)).collect();
            running.sort_unstable_by(|a, b| b.cmp(a));
            running
        };
        let mut running = rank(cx);
        let (mut preempted, mut tries, mut stopped) = (0, 0, false);
        let mut failed = FailedShapes::default();
        for &(key, job) in &all {
            if !cx.is_pending(job) {
                continue;
            }
            if (cx.freed() || queue.is_fresh(job)) && failed.try_start(cx, job) {
                continue;
            }
            let worse = running.partition_point(|&(k, _)| k > key);
            if worse == 0 || tries == MAX_PREEMPTION_TRIES {
                if cx.freed() {
                    continue;
                }
                stopped = true;
                break;
            }
            let need = cx.job(job).gpu_milli();
            let could: u64 = running[..worse].iter().map(|&(_, v)| cx.job(v).gpu_milli()).sum();
            if cx.cluster().free_gpu_milli() + could < need {
                continue;
            }
            tries += 1;
            let Some(victims) = victims_by_copies(cx, job, &running[..worse]) else {
                continue;
            };
            for &v in &victims {
                if cx.status(v) == JobStatus::Running && cx.preempt(v, reason, Some(job)) {
                    preempted += 1;
                }
            }
            failed.clear();
            cx.try_start(job);
            running = rank(cx);
        }
        if stopped {
            let mut fresh = Vec::new();
            queue.fresh_in_key_order(&mut fresh);
            for &(_, j) in &fresh {
                if cx.is_pending(j) {
                    failed.try_start(cx, j);
                }
            }
        }
        preempted
    }

    /// Shortest remaining time first on the true run time, through the plain scan or the
    /// indexed pass (with or without ceilings).
    #[derive(Default)]
    struct Probe {
        queue: KeyedQueue<u64>,
        scratch: Scratch<u64>,
        ceilings: Option<Ceilings<u64>>,
        by_scan: bool,
    }

    fn remaining(cx: &Cycle<'_>, j: JobId) -> u64 {
        cx.job(j).work.millis() - cx.work_done_now(j)
    }

    impl Policy for Probe {
        fn label(&self) -> String {
            "probe".into()
        }
        fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
            if let (Some(c), Transition::Preempted | Transition::Finished) = (&mut self.ceilings, what) {
                c.stop(job);
            }
            match what {
                Transition::Submitted | Transition::Preempted => self.queue.arrive(job),
                Transition::Started | Transition::Abandoned | Transition::Unschedulable => {
                    self.queue.leave(job, spec)
                }
                Transition::Finished => {}
            }
        }
        fn schedule(&mut self, cx: &mut Cycle<'_>) {
            self.queue.absorb(cx, remaining);
            if self.by_scan {
                pass_by_scan(cx, &self.queue, remaining, "shorter");
                return;
            }
            pass(
                cx,
                &mut self.queue,
                &mut self.scratch,
                remaining,
                self.ceilings.as_ref(),
                "shorter",
            );
            if let Some(c) = &mut self.ceilings {
                for &j in self.scratch.started_in_pass() {
                    if cx.status(j) == JobStatus::Running {
                        c.start(j, remaining(cx, j));
                    }
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over random queues (a few shapes, many jobs of each, bursts of arrivals at one
        /// instant) the indexed pass, with or without ceilings, starts and preempts the same
        /// jobs at the same times as the walk over the whole queue.
        #[test]
        fn the_indexed_pass_decides_as_the_plain_scan(
            jobs in testkit::jobs(),
            nodes in 1u32..=3,
            placement in testkit::placements(),
        ) {
            let run = |by_scan, ceilings: bool| {
                let ceilings = ceilings.then(Ceilings::default);
                testkit::run(&jobs, nodes, placement, Box::new(Probe { by_scan, ceilings, ..Probe::default() }))
            };
            let scan = run(true, false);
            testkit::same_decisions(&run(false, false), &scan)?;
            testkit::same_decisions(&run(false, true), &scan)?;
        }
    }
}
