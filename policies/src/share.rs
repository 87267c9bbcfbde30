//! Team-fair policies: Dominant Resource Fairness, and weighted fair share on decayed usage.
//! Both keep a queue per team and repeatedly serve the team that is furthest behind.

use crate::queue::QueueMode;
use fairway_engine::{Cycle, JobId, JobSpec, Policy, SimTime, TeamId, Transition};
use std::collections::BTreeSet;

/// Per team: pending jobs in submit order, and what the team holds now.
#[derive(Clone, Debug, Default)]
struct Teams {
    pending: Vec<BTreeSet<JobId>>,
    /// (milli-GPU, milli-CPU, MiB) held by running jobs.
    held: Vec<[u64; 3]>,
}

impl Teams {
    fn ensure(&mut self, t: TeamId) {
        if self.pending.len() <= t.index() {
            self.pending.resize(t.index() + 1, BTreeSet::new());
            self.held.resize(t.index() + 1, [0; 3]);
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
        let d = Self::demand(spec);
        match what {
            Transition::Submitted => {
                self.pending[t.index()].insert(job);
            }
            Transition::Started => {
                self.pending[t.index()].remove(&job);
                for (h, x) in self.held[t.index()].iter_mut().zip(d) {
                    *h += x;
                }
            }
            Transition::Preempted => {
                self.pending[t.index()].insert(job);
                for (h, x) in self.held[t.index()].iter_mut().zip(d) {
                    *h -= x;
                }
            }
            Transition::Finished => {
                for (h, x) in self.held[t.index()].iter_mut().zip(d) {
                    *h -= x;
                }
            }
            Transition::Abandoned | Transition::Unschedulable => {
                self.pending[t.index()].remove(&job);
            }
        }
    }

    /// Serves teams lowest score first: each time, the first pending job of the team with the
    /// lowest score (ties to the lower team id) is tried. When it does not fit, strict mode passes
    /// the team over for the rest of the pass (its queue is FIFO); best-effort mode tries the
    /// team's next job. `score` sees what each team holds, counting this pass's starts.
    /// Cost: O(tried jobs x teams) per pass.
    fn pass(&self, cx: &mut Cycle<'_>, mode: QueueMode, score: impl Fn(usize, &[u64; 3]) -> f64) -> u64 {
        let mut held = self.held.clone();
        let mut next: Vec<std::collections::btree_set::Iter<'_, JobId>> =
            self.pending.iter().map(|q| q.iter()).collect();
        let mut head: Vec<Option<JobId>> = next.iter_mut().map(|it| it.next().copied()).collect();
        let mut started = 0;
        loop {
            let pick = (0..head.len())
                .filter(|&t| head[t].is_some())
                .min_by(|&a, &b| score(a, &held[a]).total_cmp(&score(b, &held[b])).then(a.cmp(&b)));
            let Some(t) = pick else { break };
            let job = head[t].expect("picked a team with a head");
            if !cx.is_pending(job) {
                head[t] = next[t].next().copied();
                continue;
            }
            if cx.try_start(job) {
                started += 1;
                for (h, x) in held[t].iter_mut().zip(Self::demand(cx.job(job))) {
                    *h += x;
                }
                head[t] = next[t].next().copied();
            } else if mode == QueueMode::Strict {
                head[t] = None;
            } else {
                head[t] = next[t].next().copied();
            }
        }
        started
    }
}

/// Dominant Resource Fairness (Ghodsi et al., NSDI '11): the team with the smallest dominant
/// share (its largest fraction of the cluster's GPUs, CPUs or memory) goes next.
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
    fn label(&self) -> String {
        format!("drf[mode={}]", self.mode.as_str())
    }

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
/// unit of weight goes next.
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
    fn label(&self) -> String {
        let w: Vec<String> = self.weights.iter().map(|(t, w)| format!("{t}:{w}")).collect();
        let h = self.half_life_ms / 3_600_000.0;
        let mode = self.mode.as_str();
        if w.is_empty() {
            format!("fair-share[half_life_h={h},mode={mode}]")
        } else {
            format!("fair-share[half_life_h={h},mode={mode},weights={}]", w.join(";"))
        }
    }

    fn queues(&self, w: &fairway_engine::Workload) -> Option<fairway_engine::QueueReport> {
        Some(fairway_engine::QueueReport::per_team(
            w,
            &self.team_weight,
            "weights",
        ))
    }

    fn prepare(&mut self, w: &fairway_engine::Workload, _c: &fairway_engine::Cluster) -> Result<(), String> {
        for (name, _) in &self.weights {
            if !w.teams.contains(name) {
                return Err(format!(
                    "weights name team '{name}', which the trace does not have (teams: {})",
                    w.teams.join(", ")
                ));
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
        let scores: Vec<f64> = (0..self.teams.pending.len())
            .map(|t| self.usage_at(t, now) / self.team_weight.get(t).copied().unwrap_or(1.0).max(1e-9))
            .collect();
        self.teams.pass(cx, self.mode, |t, _| scores[t]);
    }
}
