//! Choosing victims: Kueue's classical preemption (priorities, reclaiming lent quota) and its
//! fair-sharing preemption (dominant resource shares).

use super::model::{Reclaim, Strategy, WithinCq};
use super::preemption_reason as why;
use super::tree::{Share, Usage};
use super::{Kueue, Wl, WlState};
use fairway_engine::{JobId, SimTime};
use smallvec::SmallVec;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What kind of victim a candidate is, in classical preemption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    OwnQueue,
    /// The preemptor takes back quota that belongs to it (or to a subtree it is in).
    Hierarchical,
    /// Usable only if the preemptor ends up not borrowing.
    WithoutBorrowing,
    /// Usable while the preemptor borrows (borrowWithinCohort).
    WhileBorrowing,
}

impl Kind {
    fn reason(self) -> &'static str {
        match self {
            Kind::OwnQueue => why::IN_CLUSTER_QUEUE,
            Kind::Hierarchical | Kind::WithoutBorrowing => why::IN_COHORT_RECLAMATION,
            Kind::WhileBorrowing => why::IN_COHORT_RECLAIM_WHILE_BORROWING,
        }
    }
}

/// Items in the order of their keys, sorted only as far as they are read: O(n) to make, then
/// O(log n) for each item read the first time.
struct InOrder<K: Ord, T> {
    sorted: Vec<T>,
    rest: BinaryHeap<Reverse<(K, usize)>>,
    items: Vec<Option<T>>,
}

impl<K: Ord, T> InOrder<K, T> {
    /// Keys must be unique (a tie would leave the order to the heap).
    fn new(keyed: impl Iterator<Item = (K, T)>) -> Self {
        let (mut keys, mut items) = (Vec::new(), Vec::new());
        for (i, (k, t)) in keyed.enumerate() {
            keys.push(Reverse((k, i)));
            items.push(Some(t));
        }
        InOrder {
            sorted: Vec::with_capacity(items.len().min(16)),
            rest: BinaryHeap::from(keys),
            items,
        }
    }

    /// The `i`th item in key order, if there are that many.
    fn get(&mut self, i: usize) -> Option<&T> {
        while self.sorted.len() <= i {
            let Reverse((_, at)) = self.rest.pop()?;
            self.sorted
                .push(self.items[at].take().expect("each item is drawn once"));
        }
        self.sorted.get(i)
    }
}

/// Kueue's candidate order: already evicted first, other queues first, lower priority, most
/// recently admitted, then id.
type Order = (bool, bool, i32, Reverse<SimTime>, JobId);

impl Kueue {
    /// Takes a workload's quota out of `u`.
    pub(super) fn uncharge_in(&self, u: &mut Usage, job: JobId) {
        let w = &self.wls[&job];
        if let Some(a) = &w.adm {
            for &(fr, q) in &a.frs {
                self.tree.add(u, w.cq, fr, -q);
            }
        }
    }

    fn recharge_in(&self, u: &mut Usage, job: JobId) {
        let w = &self.wls[&job];
        if let Some(a) = &w.adm {
            for &(fr, q) in &a.frs {
                self.tree.add(u, w.cq, fr, q);
            }
        }
    }

    fn order_key(&self, job: JobId, own_cq: usize) -> Order {
        let w = &self.wls[&job];
        let reserved = w.adm.as_ref().map_or(SimTime::ZERO, |a| a.reserved_at);
        (
            w.state != WlState::Evicting,
            w.cq == own_cq,
            w.prio,
            Reverse(reserved),
            job,
        )
    }

    fn fits(&self, u: &Usage, cq: usize, frs: &[(usize, i64)], allow_borrow: bool) -> bool {
        frs.iter().all(|&(fr, q)| {
            q <= self.tree.available(u, cq, fr)
                && (allow_borrow || self.tree.usage(u, cq, fr) + q <= self.tree.quota(cq, fr).nominal)
        })
    }

    /// Whether an admitted workload holds one of these frs and may be a victim now. A workload
    /// admitted at this very instant may not: in a cluster every eviction takes time, and without
    /// this rule two workloads could preempt each other endlessly within one simulated instant
    /// (Kueue's LessThanInitialShare allows such a pair).
    fn uses(&self, w: &Wl, frs: &[usize]) -> bool {
        w.adm
            .as_ref()
            .is_some_and(|a| a.reserved_at < self.now && a.frs.iter().any(|(fr, _)| frs.contains(fr)))
    }

    /// Whether a candidate's queue, and every cohort below the common ancestor, is above its quota
    /// on some contested fr (else taking from it would not reclaim anything lent).
    fn still_above(&self, u: &Usage, cand_cq: usize, own_cq: usize, contested: &[usize]) -> bool {
        let Some(lca) = self.tree.lca(cand_cq, own_cq) else {
            return false;
        };
        contested.iter().any(|&fr| {
            self.tree
                .path(cand_cq)
                .take_while(|&n| n != lca)
                .all(|n| self.tree.borrowing(u, n, fr))
        })
    }

    pub(super) fn within_allows(&self, cq: usize, p: &Wl, c: &Wl) -> bool {
        match self.cqs[cq].settings.within {
            WithinCq::Never => false,
            WithinCq::LowerPriority => c.prio < p.prio,
            WithinCq::LowerOrNewerEqualPriority => c.prio < p.prio || (c.prio == p.prio && p.ts < c.ts),
        }
    }

    pub(super) fn reclaim_allows(&self, cq: usize, p: &Wl, c: &Wl) -> bool {
        match self.cqs[cq].settings.reclaim {
            Reclaim::Never => false,
            Reclaim::LowerPriority => c.prio < p.prio,
            Reclaim::Any => true,
        }
    }

    /// Victims that make room for `job` needing `frs` in `cq`, given usage `snap`; empty if none
    /// would do. Each victim comes with Kueue's preemption reason.
    pub(super) fn targets(
        &self,
        job: JobId,
        cq: usize,
        frs: &[(usize, i64)],
        snap: &Usage,
    ) -> Vec<(JobId, &'static str)> {
        let contested: SmallVec<[usize; 4]> = frs
            .iter()
            .filter(|&&(fr, q)| q > self.tree.available(snap, cq, fr))
            .map(|&(fr, _)| fr)
            .collect();
        self.targets_for(job, cq, frs, &contested, snap)
    }

    /// `targets`, given the frs that the request does not get without preemption (`contested`,
    /// as `targets` works them out).
    pub(super) fn targets_for(
        &self,
        job: JobId,
        cq: usize,
        frs: &[(usize, i64)],
        contested: &[usize],
        snap: &Usage,
    ) -> Vec<(JobId, &'static str)> {
        if contested.is_empty() {
            return Vec::new();
        }
        match &self.fair {
            Some(strategies) => self.fair_targets(job, cq, frs, contested, snap, strategies),
            None => self.classical_targets(job, cq, frs, contested, snap),
        }
    }

    fn classical_targets(
        &self,
        job: JobId,
        cq: usize,
        frs: &[(usize, i64)],
        contested: &[usize],
        snap: &Usage,
    ) -> Vec<(JobId, &'static str)> {
        let p = &self.wls[&job];
        let settings = &self.cqs[cq].settings;
        let root = self.cqs[cq].root;
        // Nodes on the preemptor's path where its request would fit within that subtree's quota;
        // needed only once another queue offers candidates.
        let fits_at = std::cell::OnceCell::new();
        let fits_at = || {
            fits_at.get_or_init(|| {
                let mut with = snap.clone();
                for &(fr, q) in frs {
                    self.tree.add(&mut with, cq, fr, q);
                }
                let fits: SmallVec<[usize; 4]> = (self.tree.path(cq))
                    .filter(|&n| {
                        frs.iter()
                            .all(|&(fr, _)| self.tree.usage(&with, n, fr) <= self.tree.subtree_quota(n, fr))
                    })
                    .collect();
                fits
            })
        };
        let under_nominal = contested
            .iter()
            .all(|&fr| self.tree.usage(snap, cq, fr) < self.tree.quota(cq, fr).nominal);
        let never = !settings.borrow_within.lower_priority;
        // Then the one attempt below lets the preemptor borrow, and candidates usable only if it
        // does not borrow are never taken: queues that could offer only those are not searched.
        let only_borrowing = never && !under_nominal;
        let mut cands: Vec<(JobId, Kind)> = Vec::new();
        // Only workloads of lower priority (or equal, under LowerOrNewerEqualPriority) can pass
        // `within_allows`: the others are not read.
        let own = &self.cqs[cq].admitted;
        let below = match settings.within {
            WithinCq::Never => own.range(..(i32::MIN, JobId(0))),
            WithinCq::LowerPriority => own.range(..(p.prio, JobId(0))),
            WithinCq::LowerOrNewerEqualPriority => own.range(..=(p.prio, JobId(u32::MAX))),
        };
        for &(_, v) in below {
            let c = &self.wls[&v];
            // The priority test first: it is the cheaper, and usually decides.
            if v != job && self.within_allows(cq, p, c) && self.uses(c, contested) {
                cands.push((v, Kind::OwnQueue));
            }
        }
        // Another queue gives an advantage only if some node of the preemptor's path below the
        // common ancestor, so below the root, is one where the request fits: when none is, and
        // only advantaged victims count, no other queue is searched. Under a root cohort that
        // node can only be the preemptor's own queue, which needs no copy of the usage.
        let advantage_possible = || {
            if self.tree.nodes[cq].parent == Some(root) {
                frs.iter()
                    .all(|&(fr, q)| self.tree.usage(snap, cq, fr) + q <= self.tree.subtree_quota(cq, fr))
            } else {
                fits_at().iter().any(|&n| n != root)
            }
        };
        let search_others = settings.reclaim != Reclaim::Never && (!only_borrowing || advantage_possible());
        // Only the queues of the preemptor's tree can hold victims.
        let other_queues = if search_others {
            &self.tree_cqs[root][..]
        } else {
            &[]
        };
        for &o in other_queues {
            let oc = &self.cqs[o];
            if o == cq || !self.still_above(snap, o, cq, contested) {
                continue;
            }
            let lca = self.tree.lca(o, cq).expect("same tree");
            let advantage = fits_at()
                .iter()
                .any(|&n| self.tree.path(cq).take_while(|&x| x != lca).any(|x| x == n));
            if only_borrowing && !advantage {
                continue;
            }
            for &(_, v) in &oc.admitted {
                let c = &self.wls[&v];
                if !self.uses(c, contested) || !self.reclaim_allows(cq, p, c) {
                    continue;
                }
                let kind = if advantage {
                    Kind::Hierarchical
                } else if !settings.borrow_within.lower_priority
                    || c.prio >= p.prio
                    || settings
                        .borrow_within
                        .max_priority_threshold
                        .is_some_and(|t| c.prio > t)
                {
                    Kind::WithoutBorrowing
                } else {
                    Kind::WhileBorrowing
                };
                cands.push((v, kind));
            }
        }
        if cands.is_empty() {
            return Vec::new();
        }
        let others = cands.iter().any(|(_, k)| *k != Kind::OwnQueue);
        let hierarchical = cands.iter().any(|(_, k)| *k == Kind::Hierarchical);
        let attempts: &[bool] = if !others || only_borrowing {
            &[true]
        } else if never && !hierarchical {
            &[false, true]
        } else {
            &[true, false]
        };
        // Six groups: evicted before not, then hierarchical, priority (other queues), own queue;
        // Kueue's order within each. A walk usually stops at its first victims, so the order is
        // drawn as the walks need it, not sorted whole: a search costs O(candidates), not
        // O(candidates x log), and the keys (unique, as they end in the job) are made once.
        let keyed = cands.into_iter().map(|c| {
            let evicted = self.wls[&c.0].state == WlState::Evicting;
            let g = match c.1 {
                Kind::Hierarchical => 0,
                Kind::WithoutBorrowing | Kind::WhileBorrowing => 1,
                Kind::OwnQueue => 2,
            };
            (((!evicted, g), self.order_key(c.0, cq)), c)
        });
        let mut order = InOrder::new(keyed);
        for &borrow in attempts {
            let mut u = snap.clone();
            let mut taken: Vec<(JobId, Kind)> = Vec::new();
            let mut i = 0;
            while let Some(&(v, k)) = order.get(i) {
                i += 1;
                if borrow && k == Kind::WithoutBorrowing {
                    continue;
                }
                if k != Kind::OwnQueue && !self.still_above(&u, self.wls[&v].cq, cq, contested) {
                    continue;
                }
                self.uncharge_in(&mut u, v);
                taken.push((v, k));
                if self.fits(&u, cq, frs, borrow) {
                    self.fill_back(&mut u, cq, frs, borrow, &mut taken);
                    return taken.into_iter().map(|(v, k)| (v, k.reason())).collect();
                }
            }
        }
        Vec::new()
    }

    fn drs(&self, u: &Usage, n: usize) -> Share {
        self.tree.drs(u, n, &self.res_of_fr, self.nres)
    }

    /// The child of `ancestor` on the path from `n` up to it.
    fn child_towards(&self, n: usize, ancestor: usize) -> usize {
        self.tree
            .path(n)
            .take_while(|&x| x != ancestor)
            .last()
            .unwrap_or(n)
    }

    fn fair_targets(
        &self,
        job: JobId,
        cq: usize,
        frs: &[(usize, i64)],
        contested: &[usize],
        snap: &Usage,
        strategies: &[Strategy],
    ) -> Vec<(JobId, &'static str)> {
        let p = &self.wls[&job];
        let root = self.cqs[cq].root;
        // Candidates per queue, in Kueue's order.
        let mut per_cq: Vec<Vec<JobId>> = vec![Vec::new(); self.cqs.len()];
        for &o in &self.tree_cqs[root] {
            for &(_, v) in &self.cqs[o].admitted {
                let c = &self.wls[&v];
                if v == job || !self.uses(c, contested) {
                    continue;
                }
                let ok = if o == cq {
                    self.within_allows(cq, p, c)
                } else {
                    contested.iter().any(|&fr| self.tree.borrowing(snap, o, fr))
                        && self.reclaim_allows(cq, p, c)
                };
                if ok {
                    per_cq[o].push(v);
                }
            }
            per_cq[o].sort_by_key(|&v| self.order_key(v, cq));
        }
        let mut u = snap.clone();
        // Shares "with W": the preemptor's usage is simulated in its queue.
        let with_w = |u: &Usage| {
            let mut x = u.clone();
            for &(fr, q) in frs {
                self.tree.add(&mut x, cq, fr, q);
            }
            x
        };
        let within_nominal = self.opts.version.fair_sharing_nominal_rules()
            && contested.iter().all(|&fr| {
                let q = frs.iter().find(|x| x.0 == fr).map_or(0, |x| x.1);
                self.tree.usage(snap, cq, fr) + q <= self.tree.quota(cq, fr).nominal
            });
        let mut taken: Vec<(JobId, &'static str)> = Vec::new();
        let mut retry: Vec<Vec<JobId>> = vec![Vec::new(); self.cqs.len()];
        let mut fits = self.fits(&u, cq, frs, true);
        while !fits {
            let w = with_w(&u);
            let Some(target) = self.next_target(&w, root, cq, &per_cq) else {
                break;
            };
            if target == cq || within_nominal {
                let v = per_cq[target].remove(0);
                self.uncharge_in(&mut u, v);
                taken.push((
                    v,
                    if target == cq {
                        why::IN_CLUSTER_QUEUE
                    } else {
                        why::IN_COHORT_RECLAMATION
                    },
                ));
                fits = self.fits(&u, cq, frs, true);
                continue;
            }
            let lca = self.tree.lca(target, cq).expect("same tree");
            let (ps, ts) = (self.child_towards(cq, lca), self.child_towards(target, lca));
            let preemptor_new = self.drs(&w, ps);
            let allow_final = strategies.contains(&Strategy::LessThanOrEqualToFinalShare);
            let mut preempted = false;
            while !per_cq[target].is_empty() {
                let v = per_cq[target].remove(0);
                if allow_final {
                    let mut without = w.clone();
                    self.uncharge_in(&mut without, v);
                    let target_new = self.drs(&without, ts);
                    if preemptor_new <= target_new {
                        self.uncharge_in(&mut u, v);
                        taken.push((v, why::IN_COHORT_FAIR_SHARING));
                        preempted = true;
                        break;
                    }
                }
                retry[target].push(v);
            }
            if preempted {
                fits = self.fits(&u, cq, frs, true);
            }
        }
        if !fits && strategies.contains(&Strategy::LessThanInitialShare) {
            // S2-b: one candidate from each queue whose share is above the preemptor's.
            while !fits {
                let w = with_w(&u);
                let Some(target) = self.next_target(&w, root, cq, &retry) else {
                    break;
                };
                let lca = self.tree.lca(target, cq).expect("same tree");
                let (ps, ts) = (self.child_towards(cq, lca), self.child_towards(target, lca));
                if self.drs(&w, ps) < self.drs(&w, ts) {
                    let v = retry[target].remove(0);
                    self.uncharge_in(&mut u, v);
                    taken.push((v, why::IN_COHORT_FAIR_SHARING));
                    fits = self.fits(&u, cq, frs, true);
                }
                retry[target].clear();
            }
        }
        if !fits {
            return Vec::new();
        }
        self.fill_back(&mut u, cq, frs, true, &mut taken);
        taken
    }

    /// Kueue's fill-back: once the preemptor fits, re-add each victim but the last (from the
    /// second-to-last down) and keep only those it still needs gone.
    fn fill_back<T>(
        &self,
        u: &mut Usage,
        cq: usize,
        frs: &[(usize, i64)],
        borrow: bool,
        taken: &mut Vec<(JobId, T)>,
    ) {
        let mut i = taken.len().saturating_sub(1);
        while i > 0 {
            i -= 1;
            let x = taken[i].0;
            self.recharge_in(u, x);
            if self.fits(u, cq, frs, borrow) {
                taken.remove(i);
            } else {
                self.uncharge_in(u, x);
            }
        }
    }

    /// The queue to take the next victim from: descend from the root to the child with the
    /// highest share, skipping nodes that do not borrow (but for the preemptor's own path) and
    /// queues with no candidates left.
    fn next_target(&self, w: &Usage, root: usize, own: usize, per_cq: &[Vec<JobId>]) -> Option<usize> {
        let on_own_path: Vec<usize> = self.tree.path(own).collect();
        self.descend(w, root, own, per_cq, &on_own_path)
    }

    fn descend(
        &self,
        w: &Usage,
        n: usize,
        own: usize,
        per_cq: &[Vec<JobId>],
        own_path: &[usize],
    ) -> Option<usize> {
        if self.tree.nodes[n].is_cq {
            return (!per_cq[n].is_empty()).then_some(n);
        }
        // Children in order of preference: highest share; a cohort before a CQ on ties; between
        // queues, the one whose next candidate sorts first.
        let mut kids: Vec<usize> = self.tree.nodes[n]
            .children
            .iter()
            .copied()
            .filter(|&c| own_path.contains(&c) || self.tree.borrowing_any(w, c))
            .collect();
        kids.sort_by(|&a, &b| {
            let (da, db) = (self.drs(w, a), self.drs(w, b));
            db.partial_cmp(&da)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(self.tree.nodes[a].is_cq.cmp(&self.tree.nodes[b].is_cq))
                .then_with(|| {
                    let first = |x: usize| {
                        per_cq
                            .get(x)
                            .and_then(|v| v.first())
                            .map(|&j| self.order_key(j, own))
                    };
                    match (first(a), first(b)) {
                        (Some(x), Some(y)) => x.cmp(&y),
                        (Some(_), None) => std::cmp::Ordering::Less,
                        (None, Some(_)) => std::cmp::Ordering::Greater,
                        (None, None) => a.cmp(&b),
                    }
                })
        });
        kids.into_iter()
            .find_map(|c| self.descend(w, c, own, per_cq, own_path))
    }
}
