//! Queue-order policies: FIFO and priority, each strict (the head blocks) or best effort.

use fairway_engine::{Cycle, JobId, JobKind, JobSpec, ModelSet, PodRequest, Policy, SimTime, Transition};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::ops::Bound::{Excluded, Unbounded};

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

/// Job shapes (pod, pod count, allowed models, kind, node selector) that did not fit during this pass. Starting
/// jobs only takes capacity away, so until something is freed a job of the same shape cannot fit
/// either: a long queue of a few shapes costs a placement scan per shape, not per job.
#[derive(Debug, Default)]
pub(crate) struct FailedShapes(Vec<Shape>);

/// What decides whether a job fits where another did not: its pod, pod count, allowed models,
/// kind and node selector.
type Shape = (
    PodRequest,
    u32,
    ModelSet,
    JobKind,
    Option<fairway_engine::SelectorId>,
);

fn shape(spec: &JobSpec) -> Shape {
    (spec.pod, spec.pods, spec.models, spec.kind, spec.selector)
}

impl FailedShapes {
    /// Remembering more shapes than this costs more than it saves.
    const CAP: usize = 64;

    /// Starts `job` where the placement puts it, unless a job of its shape already failed.
    pub(crate) fn try_start(&mut self, cx: &mut Cycle<'_>, job: JobId) -> bool {
        let k = shape(cx.job(job));
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

/// Pending jobs in queue order (a policy's key, then job id), grouped by shape (pod, pod count,
/// allowed models, kind). A pass merges the groups in queue order; since starting jobs only takes
/// capacity away, the first job of a shape that does not fit rules out its whole group for the
/// rest of the pass. So a pass costs O(s log s) to look at the s shapes plus O(log p) per job it
/// starts, never a walk over the p pending jobs.
///
/// The queue policies (FIFO, priority, SJF: [`ShapeQueue::filed_by_pass`]) leave filing their
/// arrivals to the pass (`ShapeQueue::pass`): its shortcuts file only the arrivals they leave
/// pending, so on a cluster with room most jobs start as they arrive and never touch the groups.
#[derive(Debug)]
pub(crate) struct ShapeQueue<K> {
    /// Looked up twice per job (filed, started): a fast fixed-seed hash, not SipHash.
    index: HashMap<Shape, usize, foldhash::fast::FixedState>,
    groups: Vec<BTreeSet<(K, JobId)>>,
    len: usize,
    /// Where the pass files arrivals: which jobs are filed, a bit per job id, so that a job that
    /// started on arrival is not looked up. `None` where every arrival is filed.
    filed: Option<Vec<u64>>,
    /// Scratch for the merge: the next job of each group still in play.
    heads: BinaryHeap<Reverse<((K, JobId), usize)>>,
}

impl<K> Default for ShapeQueue<K> {
    fn default() -> Self {
        ShapeQueue {
            index: HashMap::default(),
            groups: Vec::new(),
            len: 0,
            filed: None,
            heads: BinaryHeap::new(),
        }
    }
}

/// A job's word and bit in a bitset by job id.
fn bit_of(job: JobId) -> (usize, u64) {
    (job.index() / 64, 1 << (job.index() % 64))
}

impl<K: Ord + Copy> ShapeQueue<K> {
    /// A queue whose pass files its arrivals (see `pass`).
    pub(crate) fn filed_by_pass() -> Self {
        ShapeQueue {
            filed: Some(Vec::new()),
            ..ShapeQueue::default()
        }
    }

    pub(crate) fn insert(&mut self, spec: &JobSpec, key: K, job: JobId) {
        if let Some(filed) = &mut self.filed {
            let (word, bit) = bit_of(job);
            if word >= filed.len() {
                filed.resize(word + 1, 0);
            }
            if filed[word] & bit != 0 {
                return;
            }
            filed[word] |= bit;
        }
        let n = self.groups.len();
        let g = *self.index.entry(shape(spec)).or_insert(n);
        if g == n {
            self.groups.push(BTreeSet::new());
        }
        if self.groups[g].insert((key, job)) {
            self.len += 1;
        }
    }

    pub(crate) fn remove(&mut self, spec: &JobSpec, key: K, job: JobId) {
        if let Some(filed) = &mut self.filed {
            let (word, bit) = bit_of(job);
            if filed.get(word).is_none_or(|w| w & bit == 0) {
                return;
            }
            filed[word] &= !bit;
        }
        if let Some(&g) = self.index.get(&shape(spec))
            && self.groups[g].remove(&(key, job))
        {
            self.len -= 1;
        }
    }

    /// Files those of `jobs` still pending.
    fn file_pending(&mut self, cx: &Cycle<'_>, jobs: &[(K, JobId)]) {
        for &(key, job) in jobs {
            if cx.is_pending(job) {
                self.insert(cx.job(job), key, job);
            }
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// One pass over the queue, starting what fits, as `mode` says; `fresh` are this instant's
    /// arrivals, with their keys, in queue order, which the pass files (a queue made by
    /// `filed_by_pass`). The two shortcuts, best effort with nothing released and strict with
    /// nothing but the arrivals pending, file only the arrivals they leave pending; otherwise
    /// every arrival is filed before the merge, and taken out again as it starts.
    ///
    /// Cost per pass, with p pending jobs of s distinct shapes: strict or best effort after a
    /// release, O(s log s) to seed the merge plus O(log p) and one placement try per job
    /// started and per shape that stops fitting; best effort with nothing released since the
    /// last pass (jobs that did not fit then cannot fit now), one try per arrival; strict with
    /// nothing pending but the arrivals, one try per arrival up to the first that does not fit.
    /// Then O(log p) to file each arrival left pending.
    pub(crate) fn pass(&mut self, cx: &mut Cycle<'_>, mode: QueueMode, fresh: &[(K, JobId)]) {
        if mode == QueueMode::BestEffort && !cx.freed() {
            let mut failed = FailedShapes::default();
            for &(_, j) in fresh {
                if cx.is_pending(j) {
                    failed.try_start(cx, j);
                }
            }
            self.file_pending(cx, fresh);
            return;
        }
        if mode == QueueMode::Strict && self.is_empty() {
            // The arrivals are the whole queue, and the merge would take them in this order.
            let stop = (fresh.iter())
                .position(|&(_, j)| cx.is_pending(j) && !cx.try_start(j))
                .unwrap_or(fresh.len());
            self.file_pending(cx, &fresh[stop..]);
            return;
        }
        self.file_pending(cx, fresh);
        if self.is_empty() {
            return;
        }
        self.seed(None);
        while let Some((at, g)) = self.pop() {
            let job = at.1;
            if cx.is_pending(job) && !cx.try_start(job) {
                match mode {
                    QueueMode::Strict => break,
                    // Nothing of this shape fits for the rest of the pass.
                    QueueMode::BestEffort => continue,
                }
            }
            self.advance(g, at);
        }
    }

    /// Starts a merge of the groups in queue order, each from its first job after `after` (from
    /// its front if `None`). O(s log s).
    pub(crate) fn seed(&mut self, after: Option<(K, JobId)>) {
        self.heads.clear();
        for (g, group) in self.groups.iter().enumerate() {
            let first = match after {
                None => group.first(),
                Some(at) => group.range((Excluded(at), Unbounded)).next(),
            };
            if let Some(&first) = first {
                self.heads.push(Reverse((first, g)));
            }
        }
    }

    /// The next job of the merge in queue order, without taking it.
    pub(crate) fn peek(&self) -> Option<(K, JobId)> {
        self.heads.peek().map(|h| h.0.0)
    }

    /// Takes the next job of the merge, with its group. The group is out of the merge until
    /// `advance` puts it back: a caller drops a group by not advancing it.
    pub(crate) fn pop(&mut self) -> Option<((K, JobId), usize)> {
        self.heads.pop().map(|h| h.0)
    }

    /// Every queued job, group by group (for checks against a plain scan).
    #[cfg(test)]
    pub(crate) fn jobs(&self) -> impl Iterator<Item = (K, JobId)> + '_ {
        self.groups.iter().flatten().copied()
    }

    /// Puts group `g` back in the merge at its first job after `at`. O(log p).
    pub(crate) fn advance(&mut self, g: usize, at: (K, JobId)) {
        if let Some(&next) = self.groups[g].range((Excluded(at), Unbounded)).next() {
            self.heads.push(Reverse((next, g)));
        }
    }
}

/// First come, first served, in submit order (ties in trace order). Per-decision cost: the
/// queue pass (`ShapeQueue::pass`): with only this instant's a arrivals pending, strict, one
/// placement try per arrival up to the first that does not fit; otherwise O(s log s) for the s
/// job shapes plus O(log p) per start; and O(log p) to file each arrival left pending.
#[derive(Debug)]
pub struct Fifo {
    mode: QueueMode,
    queue: ShapeQueue<()>,
    fresh: Vec<((), JobId)>,
}

impl Fifo {
    pub fn new(mode: QueueMode) -> Self {
        Fifo {
            mode,
            queue: ShapeQueue::filed_by_pass(),
            fresh: Vec::new(),
        }
    }
}

impl Policy for Fifo {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        file(&mut self.queue, spec, (), job, what);
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        self.fresh.clear();
        self.fresh.extend(cx.arrived().iter().map(|&j| ((), j)));
        self.queue.pass(cx, self.mode, &self.fresh);
    }
}

/// Keeps a policy's `ShapeQueue` to the pending jobs as the engine reports transitions. A queue
/// made by `ShapeQueue::filed_by_pass` gets its arrivals from the pass instead.
pub(crate) fn file<K: Ord + Copy>(
    q: &mut ShapeQueue<K>,
    spec: &JobSpec,
    key: K,
    job: JobId,
    what: Transition,
) {
    match what {
        Transition::Submitted if q.filed.is_some() => {}
        Transition::Submitted | Transition::Preempted => q.insert(spec, key, job),
        Transition::Started | Transition::Abandoned | Transition::Unschedulable => q.remove(spec, key, job),
        Transition::Finished => {}
    }
}

/// Highest priority first; equal priorities in submit order. Per-decision cost: O(a log a) to
/// order this instant's a arrivals, then as the queue pass (`ShapeQueue::pass`, as for
/// [`Fifo`]).
#[derive(Debug)]
pub struct PriorityFirst {
    mode: QueueMode,
    queue: ShapeQueue<Reverse<i32>>,
    fresh: Vec<(Reverse<i32>, JobId)>,
}

impl PriorityFirst {
    pub fn new(mode: QueueMode) -> Self {
        PriorityFirst {
            mode,
            queue: ShapeQueue::filed_by_pass(),
            fresh: Vec::new(),
        }
    }
}

impl Policy for PriorityFirst {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        file(&mut self.queue, spec, Reverse(spec.priority), job, what);
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        self.fresh.clear();
        self.fresh
            .extend(cx.arrived().iter().map(|&j| (Reverse(cx.job(j).priority), j)));
        self.fresh.sort_unstable();
        self.queue.pass(cx, self.mode, &self.fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estimate::EstimateMode;
    use crate::size::Sjf;
    use crate::testkit;
    use proptest::prelude::*;

    /// A queue policy as it reads: each pass sorts every pending job by its key and tries them
    /// in turn, and a strict queue stops at the first that does not fit.
    struct ByScan {
        mode: QueueMode,
        key: Key,
    }

    /// A job's place in the queue, lowest first (ties by job id).
    type Key = fn(&JobSpec) -> (i64, u64);

    impl Policy for ByScan {
        fn label(&self) -> String {
            "by-scan".into()
        }
        fn schedule(&mut self, cx: &mut Cycle<'_>) {
            // Jobs preempted at this instant (a node failed) join the engine's pending list
            // after the pass, but are pending in it.
            let mut order: Vec<_> = (cx.pending().iter().chain(cx.requeued()))
                .filter(|&&j| cx.is_pending(j))
                .map(|&j| ((self.key)(cx.job(j)), j))
                .collect();
            order.sort_unstable();
            order.dedup();
            for (_, j) in order {
                if !cx.try_start(j) && self.mode == QueueMode::Strict {
                    break;
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Over random queues, with or without a node failing for a while (its jobs queued
        /// again), FIFO, priority and SJF (with the true run time), strict and best effort,
        /// start the same jobs at the same instants as when every pass walks every pending job
        /// in order.
        #[test]
        fn the_indexed_pass_decides_as_the_plain_scan(
            jobs in testkit::jobs(),
            nodes in 1u32..=3,
            placement in testkit::placements(),
            strict in any::<bool>(),
            which in 0usize..3,
            outage in prop::option::of((0u64..600, 1u64..300)),
        ) {
            let mode = if strict { QueueMode::Strict } else { QueueMode::BestEffort };
            let (indexed, key): (Box<dyn Policy>, Key) = match which {
                0 => (Box::new(Fifo::new(mode)), |_| (0, 0)),
                1 => (Box::new(PriorityFirst::new(mode)), |s| (-i64::from(s.priority), 0)),
                _ => (Box::new(Sjf::new(EstimateMode::Oracle, mode)), |s| (0, s.work.millis())),
            };
            let a = testkit::run_with_outage(&jobs, nodes, placement, indexed, outage);
            let b = testkit::run_with_outage(&jobs, nodes, placement, Box::new(ByScan { mode, key }), outage);
            testkit::same_decisions(&a, &b)?;
        }
    }
}
