//! Team-fair policies: Dominant Resource Fairness, and weighted fair share on decayed usage.
//! Both keep a queue per team and repeatedly serve the team that is furthest behind.

use crate::queue::{FailedShapes, QueueMode, ShapeQueue};
use fairway_engine::{Cycle, JobId, JobSpec, Policy, PolicyError, SimTime, TeamId, Transition};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

const NOT_ACTIVE: u32 = u32::MAX;

/// Per team: pending jobs in submit order (grouped by shape), and what the team holds now.
#[derive(Debug, Default)]
struct Teams {
    pending: Vec<ShapeQueue<()>>,
    /// (milli-GPU, milli-CPU, MiB) held by running jobs.
    held: Vec<[u64; 3]>,
    /// The teams with a pending job, in no particular order, and each team's place there
    /// (`NOT_ACTIVE` if none): a pass costs what the teams with work cost, not all teams.
    active: Vec<usize>,
    place: Vec<u32>,
    /// What each team served in this pass holds, counting the pass's starts.
    held_now: HashMap<usize, [u64; 3], foldhash::fast::FixedState>,
    /// Scratch for a pass: teams by score; this instant's arrivals by team, and per team with
    /// arrivals, (team, next to try, end) in `arrivals`.
    order: BinaryHeap<Reverse<(Score, usize)>>,
    arrivals: Vec<(usize, JobId)>,
    spans: Vec<(usize, usize, usize)>,
    /// Passes walk every team queue instead (the reference the tests hold the pass to).
    #[cfg(test)]
    by_scan: bool,
}

/// A team's score, ordered as `f64::total_cmp` orders it.
#[derive(Clone, Copy, Debug)]
struct Score(f64);

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Teams {
    fn ensure(&mut self, t: TeamId) {
        if self.pending.len() <= t.index() {
            self.pending.resize_with(t.index() + 1, ShapeQueue::default);
            self.held.resize(t.index() + 1, [0; 3]);
            self.place.resize(t.index() + 1, NOT_ACTIVE);
        }
    }

    /// Keeps `active` in step with whether team `t` has a pending job.
    fn sync_active(&mut self, t: usize) {
        let has_work = !self.pending[t].is_empty();
        match (has_work, self.place[t]) {
            (true, NOT_ACTIVE) => {
                self.place[t] = self.active.len() as u32;
                self.active.push(t);
            }
            (false, at) if at != NOT_ACTIVE => {
                let at = at as usize;
                self.active.swap_remove(at);
                if let Some(&moved) = self.active.get(at) {
                    self.place[moved] = at as u32;
                }
                self.place[t] = NOT_ACTIVE;
            }
            _ => {}
        }
    }

    fn demand(spec: &JobSpec) -> [u64; 3] {
        let p = u64::from(spec.pods);
        [
            u64::from(spec.pod.gpu_milli) * p,
            spec.pod.cpu_milli * p,
            spec.pod.mem_mib * p,
        ]
    }

    /// Keeps the queues and holdings in step with the job's transition.
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition) {
        let t = spec.team;
        self.ensure(t);
        crate::queue::file(&mut self.pending[t.index()], spec, (), job, what);
        self.sync_active(t.index());
        let d = Self::demand(spec);
        let held = &mut self.held[t.index()];
        match what {
            Transition::Started => {
                for (h, x) in held.iter_mut().zip(d) {
                    *h += x;
                }
            }
            Transition::Preempted | Transition::Finished => {
                for (h, x) in held.iter_mut().zip(d) {
                    *h -= x;
                }
            }
            Transition::Submitted | Transition::Abandoned | Transition::Unschedulable => {}
        }
    }

    /// Serves teams lowest score first: each time, the first pending job of the team with the
    /// lowest score (ties to the lower team id) is tried. When it does not fit, strict mode passes
    /// the team over for the rest of the pass (its queue is FIFO); best-effort mode tries the
    /// team's next job. `score` sees what each team holds, counting this pass's starts.
    ///
    /// A team's score changes only when it starts a job, so the team served keeps its turn
    /// until it starts one or has nothing that fits: teams wait in a heap by score, and each
    /// team's queue is a merge of its shape groups in submit order, a group leaving at its first
    /// job that does not fit (starting jobs only takes capacity away). Best effort tries every
    /// pending job in a pass, so with nothing released since the last one only this instant's
    /// arrivals can fit, and only they are tried.
    ///
    /// Cost per pass, with T teams with a pending job (teams without one cost nothing), p pending
    /// jobs and s shapes in a team's queue: O(T log T) to order the teams; O(s log s) to seed the
    /// merge of each team served; O(log p + log T) and a placement try per job started and per
    /// team and shape that stops fitting. Best effort with
    /// nothing released: O(a log a) for the a arrivals and a try for each.
    fn pass(&mut self, cx: &mut Cycle<'_>, mode: QueueMode, score: impl Fn(usize, &[u64; 3]) -> f64) -> u64 {
        #[cfg(test)]
        if self.by_scan {
            return tests::pass_by_scan(self, cx, mode, score);
        }
        self.held_now.clear();
        let (base, held) = (&self.held, &mut self.held_now);
        let mut failed = FailedShapes::default();
        let only_arrivals = mode == QueueMode::BestEffort && !cx.freed();
        self.order.clear();
        self.arrivals.clear();
        if only_arrivals {
            self.arrivals
                .extend(cx.arrived().iter().map(|&j| (cx.job(j).team.index(), j)));
            self.arrivals.sort_unstable();
            self.spans.clear();
            for (i, &(t, _)) in self.arrivals.iter().enumerate() {
                match self.spans.last_mut() {
                    Some(span) if span.0 == t => span.2 = i + 1,
                    _ => {
                        self.spans.push((t, i, i + 1));
                        self.order.push(Reverse((Score(score(t, &base[t])), t)));
                    }
                }
            }
        } else {
            for &t in &self.active {
                self.pending[t].seed(None);
                self.order.push(Reverse((Score(score(t, &base[t])), t)));
            }
        }
        let mut started = 0;
        while let Some(Reverse((_, t))) = self.order.pop() {
            let next = if only_arrivals {
                // The team's arrivals not tried yet, in submit order.
                let k = self
                    .spans
                    .binary_search_by_key(&t, |span| span.0)
                    .expect("a team with arrivals");
                let mut found = None;
                while found.is_none() && self.spans[k].1 < self.spans[k].2 {
                    let j = self.arrivals[self.spans[k].1].1;
                    self.spans[k].1 += 1;
                    if cx.is_pending(j) && failed.try_start(cx, j) {
                        found = Some(j);
                    }
                }
                found
            } else {
                Self::next_start(&mut self.pending[t], cx, mode, &mut failed)
            };
            if let Some(job) = next {
                started += 1;
                let h = held.entry(t).or_insert(base[t]);
                for (h, x) in h.iter_mut().zip(Self::demand(cx.job(job))) {
                    *h += x;
                }
                self.order.push(Reverse((Score(score(t, h)), t)));
            }
        }
        started
    }

    /// Starts the next job of a team's queue that fits, if any (strict: only its first job).
    fn next_start(
        q: &mut ShapeQueue<()>,
        cx: &mut Cycle<'_>,
        mode: QueueMode,
        failed: &mut FailedShapes,
    ) -> Option<JobId> {
        while let Some((at, g)) = q.pop() {
            let job = at.1;
            if !cx.is_pending(job) {
                q.advance(g, at);
                continue;
            }
            if failed.try_start(cx, job) {
                q.advance(g, at);
                return Some(job);
            }
            if mode == QueueMode::Strict {
                return None;
            }
            // Nothing of this shape fits for the rest of the pass: the group stays out.
        }
        None
    }
}

/// Dominant Resource Fairness (Ghodsi et al., NSDI '11): the team with the smallest dominant
/// share (its largest fraction of the cluster's GPUs, CPUs or memory) goes next. Cost per pass:
/// as the team pass (`Teams::pass`): O(T log T) for the T teams with a pending job, O(s log s)
/// for the s shapes of each team served, O(log p + log T) per job started.
#[derive(Debug)]
pub struct Drf {
    teams: Teams,
    mode: QueueMode,
}

impl Drf {
    pub fn new(mode: QueueMode) -> Self {
        Drf {
            teams: Teams::default(),
            mode,
        }
    }
}

impl Policy for Drf {
    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, _now: SimTime) {
        self.teams.observe(job, spec, what);
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let c = cx.cluster();
        let cap = [
            c.capacity_gpu_milli().max(1) as f64,
            c.pools()
                .iter()
                .map(|p| p.cpu_milli * p.nodes.len() as u64)
                .sum::<u64>()
                .max(1) as f64,
            c.pools()
                .iter()
                .map(|p| p.mem_mib * p.nodes.len() as u64)
                .sum::<u64>()
                .max(1) as f64,
        ];
        self.teams.pass(cx, self.mode, |_, h| {
            (0..3).map(|r| h[r] as f64 / cap[r]).fold(0.0, f64::max)
        });
    }
}

/// Weighted fair share on decayed usage (as Slurm's fair-share factor, or Kueue's admission fair
/// sharing): each team's GPU usage decays with a half-life; the team with the least usage per
/// unit of weight goes next. Cost per pass: O(T) to bring the usage of the T teams with a pending
/// job to now, then as the team pass (`Teams::pass`): O(T log T), O(s log s) for the s shapes of
/// each team served, O(log p + log T) per job started.
#[derive(Debug)]
pub struct FairShare {
    teams: Teams,
    half_life_ms: f64,
    weights: Vec<(String, f64)>,
    /// Per team: decayed usage (milli-GPU x ms) as of `since`.
    usage: Vec<f64>,
    since: Vec<SimTime>,
    team_weight: Vec<f64>,
    mode: QueueMode,
    /// Scratch: each team's score in the current pass (only teams with work are set).
    scores: Vec<f64>,
}

impl FairShare {
    pub fn new(half_life_h: f64, weights: Vec<(String, f64)>, mode: QueueMode) -> Self {
        FairShare {
            mode,
            teams: Teams::default(),
            half_life_ms: half_life_h * 3_600_000.0,
            weights,
            usage: Vec::new(),
            since: Vec::new(),
            team_weight: Vec::new(),
            scores: Vec::new(),
        }
    }

    /// Decayed usage at `now`: U(t) = U(t0) d + a h / ln 2 (1 - d), d = 2^-(t - t0) / h, with a the
    /// allocation held since t0 (exact between changes).
    fn usage_at(&self, t: usize, now: SimTime) -> f64 {
        let (u, since) = (
            self.usage.get(t).copied().unwrap_or(0.0),
            self.since.get(t).copied().unwrap_or(now),
        );
        let dt = now.since(since).millis() as f64;
        let held = self.teams.held.get(t).map_or(0.0, |h| h[0] as f64);
        if self.half_life_ms <= 0.0 {
            return u + held * dt;
        }
        let d = (-dt / self.half_life_ms).exp2();
        u * d + held * self.half_life_ms / std::f64::consts::LN_2 * (1.0 - d)
    }
}

impl Policy for FairShare {
    fn queues(&self, w: &fairway_engine::Workload) -> Option<fairway_engine::QueueReport> {
        Some(fairway_engine::QueueReport::per_team(
            w,
            &self.team_weight,
            "weights",
        ))
    }

    fn prepare(
        &mut self,
        w: &fairway_engine::Workload,
        _c: &fairway_engine::Cluster,
    ) -> Result<(), PolicyError> {
        for (name, _) in &self.weights {
            if !w.teams.contains(name) {
                return Err(PolicyError::new(format!(
                    "weights name team '{name}', which the trace does not have (teams: {})",
                    w.teams.join(", ")
                )));
            }
        }
        self.team_weight = w
            .teams
            .iter()
            .map(|t| self.weights.iter().find(|(n, _)| n == t).map_or(1.0, |x| x.1))
            .collect();
        Ok(())
    }

    fn observe(&mut self, job: JobId, spec: &JobSpec, what: Transition, now: SimTime) {
        let t = spec.team.index();
        if self.usage.len() <= t {
            self.usage.resize(t + 1, 0.0);
            self.since.resize(t + 1, now);
        }
        // Bring the team's usage to now before its holding changes.
        self.usage[t] = self.usage_at(t, now);
        self.since[t] = now;
        self.teams.observe(job, spec, what);
    }

    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let now = cx.now();
        // Only the teams with work are scored: a pass costs what they cost, not all teams.
        let mut scores = std::mem::take(&mut self.scores);
        scores.resize(self.teams.pending.len(), 0.0);
        for &t in &self.teams.active {
            scores[t] = self.usage_at(t, now) / self.team_weight.get(t).copied().unwrap_or(1.0).max(1e-9);
        }
        self.teams.pass(cx, self.mode, |t, _| scores[t]);
        self.scores = scores;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;
    use proptest::prelude::*;

    /// The pass as it reads: each time, the team with the lowest score among those with a job
    /// left to try tries its next job, over the whole of every team's queue.
    pub(super) fn pass_by_scan(
        teams: &Teams,
        cx: &mut Cycle<'_>,
        mode: QueueMode,
        score: impl Fn(usize, &[u64; 3]) -> f64,
    ) -> u64 {
        let mut held = teams.held.clone();
        let queues: Vec<Vec<JobId>> = (teams.pending.iter())
            .map(|q| {
                let mut v: Vec<JobId> = q.jobs().map(|x| x.1).collect();
                v.sort_unstable();
                v
            })
            .collect();
        let mut next = vec![0; queues.len()];
        let mut started = 0;
        loop {
            let pick = (0..queues.len())
                .filter(|&t| next[t] < queues[t].len())
                .min_by(|&a, &b| score(a, &held[a]).total_cmp(&score(b, &held[b])).then(a.cmp(&b)));
            let Some(t) = pick else { break };
            let job = queues[t][next[t]];
            next[t] += 1;
            if !cx.is_pending(job) {
                continue;
            }
            if cx.try_start(job) {
                started += 1;
                for (h, x) in held[t].iter_mut().zip(Teams::demand(cx.job(job))) {
                    *h += x;
                }
            } else if mode == QueueMode::Strict {
                next[t] = queues[t].len();
            }
        }
        started
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Over random queues of four teams, DRF and fair share start the same jobs at the same
        /// instants as when every pass walks every team's queue.
        #[test]
        fn the_indexed_pass_decides_as_the_plain_scan(
            jobs in testkit::jobs(),
            nodes in 1u32..=3,
            placement in testkit::placements(),
            strict in any::<bool>(),
            drf in any::<bool>(),
        ) {
            let mode = if strict { QueueMode::Strict } else { QueueMode::BestEffort };
            let policy = |by_scan| -> Box<dyn Policy> {
                if drf {
                    let mut p = Drf::new(mode);
                    p.teams.by_scan = by_scan;
                    Box::new(p)
                } else {
                    let mut p = FairShare::new(0.01, vec![("b".into(), 3.0)], mode);
                    p.teams.by_scan = by_scan;
                    Box::new(p)
                }
            };
            let a = testkit::run(&jobs, nodes, placement, policy(false));
            let b = testkit::run(&jobs, nodes, placement, policy(true));
            testkit::same_decisions(&a, &b)?;
        }
    }
}
