//! Admitted workloads whose pods found no nodes yet, by admission time, grouped by what decides
//! whether their pods find nodes.
//!
//! Starting pods only takes capacity away, and a placement that finds no room changes nothing: so
//! within one pass, once a workload of a group finds no nodes, the later ones of its group find
//! none either. A pass after a release merges the groups in admission order and drops a group at
//! its first workload that does not fit, so it costs a try per start and per group, not one per
//! waiting workload (which, with quota well above what the cluster holds, is most of the quota).

use fairway_engine::{JobId, JobKind, JobSpec, ModelSet, PodRequest, SimTime};
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Unbounded};

const NOT_LIVE: u32 = u32::MAX;

/// A waiting workload: its admission time, then its job.
pub(super) type At = (SimTime, JobId);

/// What decides whether a workload's pods find nodes where another's did not: the pod, the pod
/// count, the allowed models and kind, and the pools its flavors allow.
type Shape = (
    PodRequest,
    u32,
    ModelSet,
    JobKind,
    Option<fairway_engine::SelectorId>,
    Vec<bool>,
);

#[derive(Clone, Debug, Default)]
pub(super) struct Waiting {
    all: BTreeSet<At>,
    index: HashMap<Shape, u32>,
    groups: Vec<BTreeSet<At>>,
    /// The groups with a waiting workload, in no order, and each one's place there: a pass
    /// seeds its merge from these, not from every group ever made.
    live: Vec<u32>,
    place: Vec<u32>,
    /// Per job, by number: its group while it waits.
    group_of: Vec<u32>,
    /// Those not tried since they joined: a workload that was tried and found no nodes was told
    /// so (its reason is WaitingForNodes), and a pass need not reach it while its group is full.
    untried: BTreeSet<At>,
}

impl Waiting {
    /// A workload starts waiting, with the pools its pods may use.
    pub fn insert(&mut self, at: At, spec: &JobSpec, pools: &[bool]) {
        let shape = (
            spec.pod,
            spec.pods,
            spec.models,
            spec.kind,
            spec.selector,
            pools.to_vec(),
        );
        let n = self.groups.len() as u32;
        let g = *self.index.entry(shape).or_insert(n);
        if g == n {
            self.groups.push(BTreeSet::new());
            self.place.push(NOT_LIVE);
        }
        let i = at.1.index();
        if i >= self.group_of.len() {
            self.group_of.resize(i + 1, u32::MAX);
        }
        self.group_of[i] = g;
        self.all.insert(at);
        self.groups[g as usize].insert(at);
        self.untried.insert(at);
        if self.place[g as usize] == NOT_LIVE {
            self.place[g as usize] = self.live.len() as u32;
            self.live.push(g);
        }
    }

    /// A workload no longer waits (its pods started, or it left).
    pub fn remove(&mut self, at: At) {
        if self.all.remove(&at) {
            let g = self.group(at.1);
            self.groups[g].remove(&at);
            self.untried.remove(&at);
            if self.groups[g].is_empty() {
                let p = std::mem::replace(&mut self.place[g], NOT_LIVE) as usize;
                self.live.swap_remove(p);
                if let Some(&moved) = self.live.get(p) {
                    self.place[moved as usize] = p as u32;
                }
            }
        }
    }

    pub fn contains(&self, at: &At) -> bool {
        self.all.contains(at)
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The group of a waiting workload.
    pub fn group(&self, job: JobId) -> usize {
        self.group_of[job.index()] as usize
    }

    /// How many groups were ever made (group numbers are below it).
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// The groups with a waiting workload, in no order.
    pub fn live(&self) -> impl Iterator<Item = usize> + '_ {
        self.live.iter().map(|&g| g as usize)
    }

    /// The waiting workloads admitted at `from` or later, in order.
    pub fn since(&self, from: SimTime) -> impl Iterator<Item = At> + '_ {
        self.all.range((from, JobId(0))..).copied()
    }

    /// The first workload of group `g` after `after` (from its front if `None`).
    pub fn next_in(&self, g: usize, after: Option<At>) -> Option<At> {
        next(&self.groups[g], after)
    }

    /// The first untried workload after `after` (from the front if `None`).
    pub fn next_untried(&self, after: Option<At>) -> Option<At> {
        next(&self.untried, after)
    }

    pub fn is_untried(&self, at: &At) -> bool {
        self.untried.contains(at)
    }

    /// A waiting workload was tried (and told why it still waits).
    pub fn tried(&mut self, at: &At) {
        self.untried.remove(at);
    }
}

fn next(set: &BTreeSet<At>, after: Option<At>) -> Option<At> {
    match after {
        None => set.first().copied(),
        Some(a) => set.range((Excluded(a), Unbounded)).next().copied(),
    }
}
