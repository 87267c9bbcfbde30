//! One Kueue scheduling cycle: pop one head per ClusterQueue, nominate every head against one
//! snapshot, order the entries (classical sort or fair-sharing tournament), process them in that
//! order, and requeue what was not admitted.

use super::assign::{Assignment, Mode};
use super::model::Queueing;
use super::tree::Usage;
use super::{Admission, Kueue, WlState, reason};
use fairway_engine::{Cycle, Decision, JobId};
use std::collections::BTreeSet;

/// A head, nominated.
pub(super) struct Entry {
    job: JobId,
    cq: usize,
    a: Assignment,
    targets: Vec<(JobId, &'static str)>,
}

/// Why a head goes back to its queue (Kueue's requeue reasons).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Requeue {
    /// No flavor fits, or preemption finds no victims: parks under BestEffortFIFO.
    NoFit,
    /// Lost to an entry processed earlier, or waiting for its victims: back to the heap.
    Retry,
}

impl Kueue {
    /// A ClusterQueue's sticky preemptor, while it is queued: the head before its queue's own.
    pub(super) fn sticky_head(&self, q: &super::Cq) -> Option<JobId> {
        q.sticky.filter(|sj| {
            self.wls
                .get(sj)
                .is_some_and(|w| w.state == WlState::Queued && q.queue.contains(w.key(*sj), w.hash))
        })
    }

    /// Runs one cycle; false when no ClusterQueue had a head to try.
    pub(super) fn cycle(&mut self, cx: &mut Cycle<'_>) -> bool {
        self.cycle_no += 1;
        let (mut start_gens, mut snap, mut heads) = std::mem::take(&mut self.cycle_bufs);
        heads.clear();
        // The queues that changed, and those of the trees that did, in index order (the order
        // a scan of every queue takes them in).
        let mut looking = std::mem::take(&mut self.looking);
        looking.clear();
        let tree_cqs = &self.tree_cqs;
        self.stale_trees.take(|root| looking.extend(&tree_cqs[root]));
        self.stale_cqs.take(|i| looking.push(i));
        #[cfg(test)]
        if self.by_scan {
            looking.clear();
            looking.extend(0..self.cqs.len());
        }
        looking.sort_unstable();
        looking.dedup();
        for &i in &looking {
            if !self.cqs[i].open {
                continue;
            }
            let head = match self.sticky_head(&self.cqs[i]) {
                Some(sj) => Some(sj),
                None => self.cqs[i].queue.head().map(|k| k.job),
            };
            let q = &mut self.cqs[i];
            let Some(job) = head else { continue };
            if self.wls[&job].tried_gen == self.gens[q.root] {
                continue;
            }
            // Out of the heap; a sticky preemptor stays marked.
            let w = self.wls.get_mut(&job).expect("head");
            w.pop_cycle = self.cycle_no;
            q.queue.take_head(w.key(job), w.hash);
            heads.push(job);
            // Whatever becomes of its head, the next cycle looks at this queue again.
            self.stale_cqs.mark(i);
        }
        self.looking = looking;
        let tried = !heads.is_empty();
        if tried {
            self.stats.cycles += 1;
            // The generations at the start of the cycle: taking heads out changes none.
            start_gens.clone_from(&self.gens);
            snap.0.clone_from(&self.usage.0);
            self.run_cycle(cx, &heads, &mut snap, &start_gens);
        }
        self.cycle_bufs = (start_gens, snap, heads);
        tried
    }

    /// Nominates the heads against `snap` (the usage at the start of the cycle), orders them and
    /// processes them.
    fn run_cycle(&mut self, cx: &mut Cycle<'_>, heads: &[JobId], snap: &mut Usage, start_gens: &[u64]) {
        let (mut entries, mut order) = std::mem::take(&mut self.entry_bufs);
        // Filled in place, over the last cycle's entries where there are some: an entry is
        // large, and copies of it cost more than its fields.
        entries.truncate(heads.len());
        for (i, &job) in heads.iter().enumerate() {
            let cq = self.wls[&job].cq;
            match entries.get_mut(i) {
                Some(e) => {
                    (e.job, e.cq) = (job, cq);
                    e.a.clear();
                    e.targets.clear();
                }
                None => entries.push(Entry {
                    job,
                    cq,
                    a: Assignment::empty(),
                    targets: Vec::new(),
                }),
            }
            self.nominate(&mut entries[i], snap);
        }
        let mut claimed: BTreeSet<JobId> = BTreeSet::new();
        let mut preempted_roots: BTreeSet<usize> = BTreeSet::new();
        if self.fair.is_some() {
            while !entries.is_empty() {
                let i = self.tournament_winner(&entries, snap);
                let mut e = entries.swap_remove(i);
                self.process(cx, &mut e, snap, &mut claimed, &mut preempted_roots, start_gens);
            }
        } else {
            // Lower borrow level first, then higher priority, then earlier timestamp (then id).
            // The entries stay where they are: their order is sorted instead.
            order.clear();
            order.extend(entries.iter().enumerate().map(|(i, e)| {
                let w = &self.wls[&e.job];
                ((e.a.level, std::cmp::Reverse(w.prio), w.ts, e.job), i)
            }));
            order.sort_unstable();
            for &(_, i) in &order {
                let e = &mut entries[i];
                self.process(cx, e, snap, &mut claimed, &mut preempted_roots, start_gens);
            }
        }
        self.entry_bufs = (entries, order);
    }

    /// Nominates the head of an entry that names only its job and queue.
    fn nominate(&self, e: &mut Entry, snap: &Usage) {
        self.assign(e.job, snap, &mut e.a);
        if matches!(e.a.mode, Mode::Preempt | Mode::Reclaim) {
            e.targets = self.targets(e.job, e.cq, &e.a.frs, snap);
            if e.targets.is_empty() {
                e.a.mode = Mode::NoCandidates;
                e.a.reason = reason::WAITING_FOR_QUOTA;
            }
        }
    }

    /// Fair sharing: a tournament from each root; at every cohort, the child that does not borrow
    /// on the requested frs wins, then the lower share with the candidate added, then priority,
    /// then timestamp.
    fn tournament_winner(&self, entries: &[Entry], snap: &Usage) -> usize {
        // Independent trees in index order: the first root with an entry goes first.
        let roots: BTreeSet<usize> = entries.iter().map(|e| self.cqs[e.cq].root).collect();
        let root = *roots.first().expect("entries");
        self.tournament(entries, snap, root)
            .expect("the root has an entry")
    }

    fn tournament(&self, entries: &[Entry], snap: &Usage, n: usize) -> Option<usize> {
        if self.tree.nodes[n].is_cq {
            return entries.iter().position(|e| e.cq == n);
        }
        type Key = (
            bool,
            super::tree::Share,
            std::cmp::Reverse<i32>,
            fairway_engine::SimTime,
            JobId,
        );
        let cmp = |a: &Key, b: &Key| {
            a.0.cmp(&b.0)
                .then(a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
                .then((a.2, a.3, a.4).cmp(&(b.2, b.3, b.4)))
        };
        let mut best: Option<(usize, Key)> = None;
        for &c in &self.tree.nodes[n].children {
            let Some(i) = self.tournament(entries, snap, c) else {
                continue;
            };
            let e = &entries[i];
            let w = &self.wls[&e.job];
            let mut with = snap.clone();
            for &(fr, q) in &e.a.frs {
                self.tree.add(&mut with, e.cq, fr, q);
            }
            let borrows = self.opts.version.fair_sharing_nominal_rules()
                && e.a.frs.iter().any(|&(fr, _)| self.tree.borrowing(&with, c, fr));
            let key: Key = (
                borrows,
                self.tree.drs(&with, c, &self.res_of_fr, self.nres),
                std::cmp::Reverse(w.prio),
                w.ts,
                e.job,
            );
            if best
                .as_ref()
                .is_none_or(|(_, b)| cmp(&key, b) == std::cmp::Ordering::Less)
            {
                best = Some((i, key));
            }
        }
        best.map(|(i, _)| i)
    }

    fn fits_snapshot(&self, snap: &Usage, e: &Entry) -> bool {
        // Last first: requests list GPUs last, and GPUs are what a head that lost its place in
        // the cycle usually lacks.
        e.a.frs
            .iter()
            .rev()
            .all(|&(fr, q)| q <= self.tree.available(snap, e.cq, fr))
    }

    fn process(
        &mut self,
        cx: &mut Cycle<'_>,
        e: &mut Entry,
        snap: &mut Usage,
        claimed: &mut BTreeSet<JobId>,
        preempted_roots: &mut BTreeSet<usize>,
        start_gens: &[u64],
    ) {
        let root = self.cqs[e.cq].root;
        match e.a.mode {
            Mode::NoFit => {
                let r = e.a.reason;
                self.requeue(e.job, Requeue::NoFit, start_gens[root]);
                self.set_reason(e.job, r);
            }
            Mode::NoCandidates => {
                // Without reclaimWithinCohort: Any, Kueue holds the quota this head could get
                // for the rest of the cycle, so that later borrowers cannot take it.
                if self.cqs[e.cq].settings.reclaim != super::model::Reclaim::Any {
                    let borrows = e.a.level > 0;
                    for &(fr, q) in &e.a.frs {
                        let quota = self.tree.quota(e.cq, fr);
                        let used = self.tree.usage(snap, e.cq, fr);
                        let hold = if borrows {
                            match quota.borrowing_limit {
                                Some(bl) => q.min(quota.nominal + bl - used),
                                None => q,
                            }
                        } else {
                            q.min(quota.nominal - used).max(0)
                        };
                        if hold > 0 {
                            self.tree.add(snap, e.cq, fr, hold);
                        }
                    }
                }
                self.requeue(e.job, Requeue::NoFit, start_gens[root]);
                self.set_reason(e.job, reason::WAITING_FOR_QUOTA);
            }
            Mode::Preempt | Mode::Reclaim => {
                let overlap = e.targets.iter().any(|(t, _)| claimed.contains(t));
                let one_per_cohort =
                    !self.opts.version.multiple_preemptions() && preempted_roots.contains(&root);
                let mut scratch = snap.clone();
                for (t, _) in &e.targets {
                    self.uncharge_in(&mut scratch, *t);
                }
                if overlap || one_per_cohort || !self.fits_snapshot(&scratch, e) {
                    self.requeue(e.job, Requeue::Retry, start_gens[root]);
                    self.set_reason(e.job, reason::WAITING_FOR_QUOTA);
                    return;
                }
                for &(fr, q) in &e.a.frs {
                    self.tree.add(snap, e.cq, fr, q);
                }
                preempted_roots.insert(root);
                if cfg!(debug_assertions) {
                    for &(t, _) in &e.targets {
                        let (p, v) = (&self.wls[&e.job], &self.wls[&t]);
                        let allowed = if v.cq == e.cq {
                            self.within_allows(e.cq, p, v)
                        } else {
                            self.reclaim_allows(e.cq, p, v)
                        };
                        assert!(
                            v.adm.is_some() && self.cqs[v.cq].root == root && allowed,
                            "victim {t} of {} is not a valid candidate",
                            e.job
                        );
                    }
                }
                let latency = self.opts.eviction_latency;
                for (t, why) in std::mem::take(&mut e.targets) {
                    claimed.insert(t);
                    let w = self.wls.get_mut(&t).expect("victim");
                    if w.state != WlState::Evicting {
                        w.state = WlState::Evicting;
                        w.victim_of = Some((why, e.job));
                        self.releases.insert((self.now + latency, t));
                        self.stats.preemptions += 1;
                    }
                }
                if self.cqs[e.cq].settings.queueing == Queueing::BestEffortFifo {
                    self.cqs[e.cq].sticky = Some(e.job);
                }
                self.requeue(e.job, Requeue::Retry, start_gens[root]);
                self.set_reason(e.job, reason::WAITING_FOR_PREEMPTED);
            }
            Mode::Fit => {
                if !self.fits_snapshot(snap, e) {
                    self.requeue(e.job, Requeue::Retry, start_gens[root]);
                    self.set_reason(e.job, reason::WAITING_FOR_QUOTA);
                    return;
                }
                if self.pods_ready.as_ref().is_some_and(|p| p.block_admission) && !self.unplaced.is_empty() {
                    self.requeue(e.job, Requeue::Retry, start_gens[root]);
                    self.set_reason(e.job, reason::WAITING_FOR_PODS_READY);
                    return;
                }
                for &(fr, q) in &e.a.frs {
                    self.tree.add(snap, e.cq, fr, q);
                }
                self.admit_entry(cx, e);
            }
        }
    }

    fn admit_entry(&mut self, cx: &mut Cycle<'_>, e: &mut Entry) {
        let now = self.now;
        let npools = self.flavor_pools.first().map_or(0, Vec::len);
        let pools: Vec<bool> = (0..npools)
            .map(|p| e.a.flavors.iter().all(|&f| self.flavor_pools[f][p]))
            .collect();
        self.charge(e.cq, &e.a.frs, 1);
        let c = &mut self.cqs[e.cq];
        c.admitted.insert((self.wls[&e.job].prio, e.job));
        if c.sticky == Some(e.job) {
            c.sticky = None;
        }
        let w = self.wls.get_mut(&e.job).expect("entry");
        w.state = WlState::Admitted;
        w.adm = Some(Admission {
            frs: std::mem::take(&mut e.a.frs),
            pools,
            reserved_at: now,
        });
        self.stats.admissions += 1;
        cx.decide(Decision::Admit { job: e.job });
        let pools = &w.adm.as_ref().expect("admitted").pools;
        self.unplaced.insert((now, e.job), cx.job(e.job), pools);
        if let Some(t) = self.ready_deadline(now) {
            self.ready_deadlines.insert((t, e.job));
        }
    }

    /// Sends a head back as Kueue's requeue table says.
    fn requeue(&mut self, job: JobId, why: Requeue, tried_gen: u64) {
        let w = self.wls.get_mut(&job).expect("head");
        w.tried_gen = tried_gen;
        let (cq, pop_cycle, hash) = (w.cq, w.pop_cycle, w.hash);
        let strict = self.cqs[cq].settings.queueing == Queueing::StrictFifo;
        let root = self.cqs[cq].root;
        if why == Requeue::Retry || strict || self.last_flush_cycle[root] >= pop_cycle {
            let w = self.wls.get_mut(&job).expect("head");
            w.state = WlState::Queued;
            let key = w.key(job);
            self.cqs[cq].queue.push(key, hash);
            return;
        }
        // Parked; with equivalence hashing its whole class is parked with it.
        self.park(job);
    }
}
