//! Flavor assignment (Kueue's flavorassigner): for each resource group, scan the ClusterQueue's
//! flavors in order and take the first that fits, following `flavorFungibility`.

use super::model::Step;
use super::tree::Usage;
use super::{Frs, Kueue, reason};
use fairway_engine::JobId;
use smallvec::SmallVec;

/// How a flavor (or a whole assignment) can be had, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    NoFit,
    /// Preemption would be needed, but finds no victims.
    NoCandidates,
    /// Preemption with some victim in the own ClusterQueue.
    Preempt,
    /// Preemption with every victim in other ClusterQueues.
    Reclaim,
    Fit,
}

/// The result of assigning flavors to a workload.
#[derive(Clone, Debug)]
pub struct Assignment {
    pub mode: Mode,
    /// Quota per fr, over all groups.
    pub frs: Frs,
    /// The chosen flavor of each group the workload uses.
    pub flavors: SmallVec<[usize; 2]>,
    /// How far up the tree the usage reaches (0: within nominal).
    pub level: u32,
    /// For `NoFit`: the most severe reason.
    pub reason: &'static str,
}

impl Assignment {
    /// What `assign` starts from.
    pub fn empty() -> Assignment {
        Assignment {
            mode: Mode::Fit,
            frs: Frs::new(),
            flavors: SmallVec::new(),
            level: 0,
            reason: "",
        }
    }

    /// Makes this assignment `empty` again, keeping its storage.
    pub fn clear(&mut self) {
        self.mode = Mode::Fit;
        self.frs.clear();
        self.flavors.clear();
        self.level = 0;
        self.reason = "";
    }
}

/// One flavor's verdict for one group.
struct Try {
    mode: Mode,
    level: u32,
    frs: Frs,
}

impl Kueue {
    /// Whether a job may use a flavor: Kueue compares only the label keys the flavor defines,
    /// with the job's node selector and its GPU-model constraint (a selector on `gpu_model`).
    fn flavor_matches(&self, job: JobId, flavor: usize) -> bool {
        let models = self.job_models[job.index()];
        let model_ok = match self.flavor_model[flavor] {
            None => true,
            Some(_) if models.is_any() => true,
            Some(Some(m)) => models.contains(m),
            // The flavor names a GPU model the cluster does not have.
            Some(None) => false,
        };
        model_ok
            && self.job_selector[job.index()].is_none_or(|s| {
                self.flavor_selects[flavor]
                    .get(s.index())
                    .copied()
                    .unwrap_or(false)
            })
    }

    /// Whether Kueue would simulate preemption for this fr (else the flavor is a plain NoFit):
    /// the request fits the queue's nominal quota, or a subtree below the root could hold it,
    /// or the queue may preempt while borrowing.
    fn preemption_possible(&self, cq: usize, fr: usize, q: i64, snap: &Usage) -> bool {
        let s = &self.cqs[cq].settings;
        self.tree.quota(cq, fr).nominal >= q
            || self.tree.lowest_fit(snap, cq, fr, q).1
            || s.borrow_within.lower_priority
            || (self.fair.is_some() && s.reclaim != super::model::Reclaim::Never)
    }

    /// Whether `a` beats `b` under the queue's preference.
    fn better(&self, cq: usize, a: &Try, b: &Try) -> bool {
        let viable = |t: &Try| t.mode > Mode::NoCandidates;
        if viable(a) != viable(b) {
            return viable(a);
        }
        if self.cqs[cq].settings.fungibility.preemption_over_borrowing {
            (a.level, Reverse(a.mode)) < (b.level, Reverse(b.mode))
        } else {
            (Reverse(a.mode), a.level) < (Reverse(b.mode), b.level)
        }
    }

    /// How a request of `q` of `fr`, above what is available, can be had by preemption, and
    /// its borrow level as if the victims were gone. Apart from `assign`, so that its rarer,
    /// larger work does not weigh on the loop around it.
    #[inline(never)]
    fn contested(&self, job: JobId, cq: usize, fr: usize, q: i64, snap: &Usage) -> (Mode, u32) {
        let victims = self.targets_for(job, cq, &[(fr, q)], &[fr], snap);
        let m = if victims.is_empty() {
            Mode::NoCandidates
        } else if victims.iter().any(|(v, _)| self.wls[v].cq == cq) {
            Mode::Preempt
        } else {
            Mode::Reclaim
        };
        // The borrow level as if the victims were gone (with none, as things are).
        let level = if victims.is_empty() {
            self.tree.borrow_level(snap, cq, &[(fr, q)])
        } else {
            let mut scratch = snap.clone();
            for (v, _) in &victims {
                self.uncharge_in(&mut scratch, *v);
            }
            self.tree.borrow_level(&scratch, cq, &[(fr, q)])
        };
        (m, level)
    }

    /// Assigns flavors to a workload against usage `snap`, into `out` (which must be `empty`).
    pub(super) fn assign(&self, job: JobId, snap: &Usage, out: &mut Assignment) {
        let w = &self.wls[&job];
        let cq = w.cq;
        let c = &self.cqs[cq];
        for &(r, _) in &w.req {
            if !c.covers[r] {
                out.mode = Mode::NoFit;
                out.reason = reason::NO_MATCHING_FLAVOR;
                return;
            }
        }
        let severity = |r: &str| match r {
            reason::NO_MATCHING_FLAVOR => 3,
            reason::EXCEEDS_MAX_QUOTA => 2,
            reason::WAITING_FOR_QUOTA => 1,
            _ => 0,
        };
        for g in &c.groups {
            let wanted = || w.req.iter().filter(|(r, _)| g.covers[*r]);
            if wanted().next().is_none() {
                continue;
            }
            let mut best: Option<(usize, Try)> = None;
            let mut worst_reason = "";
            for &f in &g.flavors {
                if !self.flavor_matches(job, f) {
                    if severity(reason::NO_MATCHING_FLAVOR) > severity(worst_reason) {
                        worst_reason = reason::NO_MATCHING_FLAVOR;
                    }
                    continue;
                }
                let mut t = Try {
                    mode: Mode::Fit,
                    level: 0,
                    frs: Frs::new(),
                };
                for &(r, q) in wanted() {
                    let fr = self.fr(f, r);
                    t.frs.push((fr, q));
                    if q > self.tree.potential(cq, fr) {
                        t.mode = Mode::NoFit;
                        if severity(reason::EXCEEDS_MAX_QUOTA) > severity(worst_reason) {
                            worst_reason = reason::EXCEEDS_MAX_QUOTA;
                        }
                        break;
                    }
                    let avail = self.tree.available(snap, cq, fr);
                    if q <= avail {
                        t.level = t.level.max(self.tree.borrow_level(snap, cq, &[(fr, q)]));
                        continue;
                    }
                    if self.preemption_possible(cq, fr, q, snap) {
                        let (m, level) = self.contested(job, cq, fr, q, snap);
                        t.level = t.level.max(level);
                        t.mode = t.mode.min(m);
                        if m == Mode::NoCandidates
                            && severity(reason::WAITING_FOR_QUOTA) > severity(worst_reason)
                        {
                            worst_reason = reason::WAITING_FOR_QUOTA;
                        }
                    } else {
                        t.mode = Mode::NoFit;
                        if severity(reason::WAITING_FOR_QUOTA) > severity(worst_reason) {
                            worst_reason = reason::WAITING_FOR_QUOTA;
                        }
                        break;
                    }
                }
                let fung = c.settings.fungibility;
                let try_next = match t.mode {
                    Mode::NoFit | Mode::NoCandidates => true,
                    Mode::Preempt | Mode::Reclaim => fung.when_can_preempt == Step::TryNextFlavor,
                    Mode::Fit => t.level > 0 && fung.when_can_borrow == Step::TryNextFlavor,
                };
                if best.as_ref().is_none_or(|(_, b)| self.better(cq, &t, b)) {
                    best = Some((f, t));
                }
                if !try_next {
                    break;
                }
            }
            match best {
                Some((f, t)) if t.mode > Mode::NoFit => {
                    out.mode = out.mode.min(t.mode);
                    out.level = out.level.max(t.level);
                    if out.frs.is_empty() {
                        // The first group: a move, not a copy element by element.
                        out.frs = t.frs;
                    } else {
                        out.frs.extend(t.frs);
                    }
                    out.flavors.push(f);
                }
                _ => {
                    out.mode = Mode::NoFit;
                    out.reason = if worst_reason.is_empty() {
                        reason::WAITING_FOR_QUOTA
                    } else {
                        worst_reason
                    };
                    return;
                }
            }
        }
        if out.mode == Mode::NoCandidates {
            out.reason = reason::WAITING_FOR_QUOTA;
        }
    }
}

use std::cmp::Reverse;
