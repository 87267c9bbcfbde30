//! What the report reads of a run's two tables, gathered a row group at a time: a table of tens
//! of millions of rows is never held whole, only what the charts, `rightsizing.csv` and
//! `metrics.prom` draw from it. Sums and bin averages are taken in the order a whole-table
//! computation would take them, so every float comes out bit for bit the same.

use crate::chart::{Binned, Binner, MAX_TEAMS};
use crate::frame::{Interner, JobsTable, SeriesTable, Text};
use crate::metrics::{RightSize, UseSample, right_size};
use std::collections::{BTreeMap, HashMap};

/// The sum of several step functions (each member's value holds from its step until its next),
/// fed every member's steps in time order. A time at which several members change gets one
/// point; their changes are added in member order, then in the order they came.
#[derive(Clone, Debug)]
pub struct StepSum<T> {
    last: Vec<f64>,
    /// The time being gathered, and the (member, change) pairs at it.
    at: Option<T>,
    changes: Vec<(usize, f64)>,
    level: f64,
}

impl<T: Copy + PartialEq> StepSum<T> {
    pub fn new(members: usize) -> Self {
        StepSum {
            last: vec![0.0; members],
            at: None,
            changes: Vec::new(),
            level: 0.0,
        }
    }

    /// Member `k` steps to `v` at `t`. Gives the sum at the previous time once `t` is past it.
    pub fn push(&mut self, t: T, k: usize, v: f64) -> Option<(T, f64)> {
        let done = if self.at.is_some_and(|a| a != t) {
            self.flush()
        } else {
            None
        };
        self.at = Some(t);
        self.changes.push((k, v - self.last[k]));
        self.last[k] = v;
        done
    }

    /// The sum at the last time pushed, if not given yet.
    pub fn flush(&mut self) -> Option<(T, f64)> {
        let t = self.at.take()?;
        // Stable, so a member's changes at one time keep their order.
        self.changes.sort_by_key(|c| c.0);
        for (_, d) in self.changes.drain(..) {
            self.level += d;
        }
        Some((t, self.level))
    }
}

/// The values of a step function (0 before its first step) at increasing instants, fed its
/// steps in time order.
#[derive(Clone, Debug, Default)]
pub struct Sampler {
    level: f64,
    values: Vec<f64>,
}

impl Sampler {
    /// The function steps to `v` at `t`: every instant before `t` still reads the old level.
    pub fn push(&mut self, times: &[u64], t: u64, v: f64) {
        while let Some(&at) = times.get(self.values.len())
            && at < t
        {
            self.values.push(self.level);
        }
        self.level = v;
    }

    /// The value at each of `times`.
    pub fn finish(mut self, times: &[u64]) -> Vec<f64> {
        self.values.resize(times.len(), self.level);
        self.values
    }
}

/// What the report reads of the job table.
#[derive(Clone, Debug, Default)]
pub struct JobFacts {
    /// The first submission, ms: the origin of every chart and of `metrics.prom`.
    pub t0_ms: u64,
    /// Waits (first start - submit, ms) of the jobs that started, per team, in job order.
    pub waits_ms: BTreeMap<String, Vec<u64>>,
    /// Right-sizing advice per user (users with evidence only), with the user's team.
    pub user_right_sizing: BTreeMap<String, (String, RightSize)>,
    /// The jobs of each policy queue.
    pub queues: BTreeMap<String, QueueJobs>,
    /// Queue and priority class ("" for none) of the jobs `preemptions.csv` names, by their
    /// index there (`None`: not a job of a queue, or not in the job table).
    pub preempted: Vec<Option<(Text, Text)>>,
}

/// A queue's first admissions and finishes, in time order (job order among equal times).
#[derive(Clone, Debug, Default)]
pub struct QueueJobs {
    /// (seconds since the first submission, priority class, wait in seconds).
    pub admissions: Vec<(u64, Text, f64)>,
    /// (seconds since the first submission, priority class).
    pub finishes: Vec<(u64, Text)>,
}

/// Gathers [`JobFacts`] from the job table, a batch of rows at a time.
pub struct JobFold<'a> {
    facts: JobFacts,
    /// Job ids `preemptions.csv` names, with their indices there.
    wanted: &'a HashMap<Box<str>, u32>,
    text: Interner,
    samples: BTreeMap<(Text, Text), Vec<UseSample>>,
}

impl<'a> JobFold<'a> {
    pub fn new(wanted: &'a HashMap<Box<str>, u32>) -> Self {
        JobFold {
            facts: JobFacts {
                t0_ms: u64::MAX,
                preempted: vec![None; wanted.len()],
                ..JobFacts::default()
            },
            wanted,
            text: Interner::default(),
            samples: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, jobs: &JobsTable) {
        let f = &mut self.facts;
        let no_class = self.text.get("");
        for i in 0..jobs.len() {
            f.t0_ms = f.t0_ms.min(jobs.submit_ms[i]);
            if let Some(w) = jobs.wait_ms(i) {
                // Teams are few: a key is allocated once per team, not per job.
                if let Some(v) = f.waits_ms.get_mut(&*jobs.team[i]) {
                    v.push(w);
                } else {
                    f.waits_ms.insert(jobs.team[i].to_string(), vec![w]);
                }
            }
            if let (Some(u), Some(util)) = (&jobs.user[i], jobs.gpu_util[i])
                && jobs.run_ms[i] > 0
            {
                let key = (self.text.get(u), self.text.get(&jobs.team[i]));
                self.samples.entry(key).or_default().push(UseSample {
                    gpus: jobs.gpus(i),
                    util: f64::from(util),
                    run_h: jobs.run_ms[i] as f64 / 3_600_000.0,
                });
            }
            let Some(q) = jobs.queue[i].as_deref() else {
                continue;
            };
            let class = match &jobs.priority_class[i] {
                Some(c) => self.text.get(c),
                None => no_class.clone(),
            };
            if let Some(&k) = self.wanted.get(&jobs.job_id[i]) {
                f.preempted[k as usize] = Some((self.text.get(q), class.clone()));
            }
            if !f.queues.contains_key(q) {
                f.queues.insert(q.to_string(), QueueJobs::default());
            }
            let qj = f.queues.get_mut(q).expect("inserted above");
            // Times stay absolute until the first submission is known.
            if let Some(a) = jobs.admit_ms[i].or(jobs.start_ms[i]) {
                let wait = (a - jobs.submit_ms[i]) as f64 / 1000.0;
                qj.admissions.push((a, class.clone(), wait));
            }
            if *jobs.status[i] == *"finished"
                && let Some(e) = jobs.end_ms[i]
            {
                qj.finishes.push((e, class));
            }
        }
    }

    pub fn finish(self) -> JobFacts {
        let mut f = self.facts;
        if f.t0_ms == u64::MAX {
            f.t0_ms = 0;
        }
        let t0 = f.t0_ms;
        let rel = |ms: &mut u64| *ms = ms.saturating_sub(t0) / 1000;
        for qj in f.queues.values_mut() {
            qj.admissions.iter_mut().for_each(|a| rel(&mut a.0));
            qj.finishes.iter_mut().for_each(|a| rel(&mut a.0));
            qj.admissions.sort_by_key(|a| a.0);
            qj.finishes.sort_by_key(|a| a.0);
        }
        for ((user, team), samples) in self.samples {
            if let Some(r) = right_size(&samples) {
                // A user in several teams is advised per team.
                let key = if f.user_right_sizing.contains_key(&*user) {
                    format!("{user} ({team})")
                } else {
                    user.to_string()
                };
                f.user_right_sizing.insert(key, (team.to_string(), r));
            }
        }
        f
    }
}

/// What the report reads of the time series.
#[derive(Clone, Debug, Default)]
pub struct SeriesFacts {
    /// GPUs allocated per team as the utilisation chart stacks them: bin averages of the first
    /// [`MAX_TEAMS`] teams by usage, then of the rest summed as "other".
    pub allocated: Vec<Binned>,
    /// Jobs pending per team, shown the same way.
    pub pending: Vec<Binned>,
    /// `None` when the trace has no utilisation.
    pub cluster_use: Option<ClusterUse>,
    /// For each queue with a team in the series: jobs pending, jobs running, GPUs allocated and
    /// GPUs pending, summed over its teams, at each sample instant of `metrics.prom`.
    pub queue_levels: BTreeMap<String, [Vec<f64>; 4]>,
    pub backlog: Backlog,
}

/// GPU-hours that requests spent pending, split by what the cluster had free at the time. At
/// each instant the GPUs requested by pending jobs are matched against the idle GPUs (capacity
/// less allocation): as many as stood idle count as `idle_gpu_h` (GPUs were free, so the policy,
/// a quota or fragmentation held the work back), the rest as `full_gpu_h` (no GPU was free for
/// them: more capacity would have let them start). Also how long some request waited, and the
/// share of the GPUs allocated over that time: the cluster's use while work waited, which a run
/// with long quiet stretches hides in its allocation over the whole span.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Backlog {
    pub full_gpu_h: f64,
    pub idle_gpu_h: f64,
    /// Hours during which some request was pending.
    pub waiting_h: f64,
    /// GPUs allocated over capacity, averaged over those hours (0 when there were none).
    pub allocated_while_waiting: f64,
}

/// Integrates [`Backlog`] over the rows, in milli-GPU-milliseconds.
#[derive(Clone, Debug)]
struct BacklogFold {
    capacity_milli: u64,
    allocated_milli: u64,
    /// GPUs pending, per team (by its index of first appearance) and in all.
    team_pending: Vec<u64>,
    pending_milli: u64,
    since_ms: u64,
    full: f64,
    idle: f64,
    /// Milliseconds with a request pending, and the allocation integrated over them.
    waiting_ms: f64,
    allocated_waiting: f64,
}

impl BacklogFold {
    fn new(capacity_milli: u64, t0_ms: u64) -> Self {
        BacklogFold {
            capacity_milli,
            allocated_milli: 0,
            team_pending: Vec::new(),
            pending_milli: 0,
            since_ms: t0_ms,
            full: 0.0,
            idle: 0.0,
            waiting_ms: 0.0,
            allocated_waiting: 0.0,
        }
    }

    /// The state held from the last change until `ms`.
    fn advance(&mut self, ms: u64) {
        let dt = ms.saturating_sub(self.since_ms) as f64;
        if dt > 0.0 && self.pending_milli > 0 {
            let free = self.capacity_milli.saturating_sub(self.allocated_milli);
            let covered = self.pending_milli.min(free);
            self.idle += covered as f64 * dt;
            self.full += (self.pending_milli - covered) as f64 * dt;
            self.waiting_ms += dt;
            self.allocated_waiting += self.allocated_milli as f64 * dt;
        }
        self.since_ms = self.since_ms.max(ms);
    }

    fn set_team(&mut self, team: usize, milli: u64) {
        if team >= self.team_pending.len() {
            self.team_pending.resize(team + 1, 0);
        }
        self.pending_milli = self.pending_milli - self.team_pending[team] + milli;
        self.team_pending[team] = milli;
    }

    fn finish(mut self, end_ms: u64) -> Backlog {
        self.advance(end_ms);
        let gpu_h = |x: f64| x / 1000.0 / 3_600_000.0;
        let capacity_ms = self.capacity_milli as f64 * self.waiting_ms;
        Backlog {
            full_gpu_h: gpu_h(self.full),
            idle_gpu_h: gpu_h(self.idle),
            waiting_h: self.waiting_ms / 3_600_000.0,
            allocated_while_waiting: if capacity_ms > 0.0 {
                self.allocated_waiting / capacity_ms
            } else {
                0.0
            },
        }
    }
}

/// Bin averages of the cluster's GPUs allocated and GPUs used.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterUse {
    pub allocated: Vec<(f64, f64)>,
    pub used: Vec<(f64, f64)>,
}

/// Where a team's rows go.
#[derive(Clone, Copy, Debug)]
struct TeamSlot {
    /// Drawn as its own series (its position by usage), or within "other" (its rank there).
    chart: Option<Slot>,
    /// Its queue (index) and its rank among that queue's teams (name order).
    queue: Option<(usize, usize)>,
    /// Its index in order of first appearance.
    index: usize,
}

#[derive(Clone, Copy, Debug)]
enum Slot {
    Own(usize),
    Other(usize),
}

/// One per-team chart: each of the first teams binned alone, the rest summed, then binned.
#[derive(Clone, Debug)]
struct TeamChart {
    own: Vec<Binner>,
    other: StepSum<f64>,
    other_bins: Binner,
}

impl TeamChart {
    fn new(order: &[String], end_h: f64, bins: usize) -> Self {
        let shown = order.len().min(MAX_TEAMS);
        TeamChart {
            own: vec![Binner::new(end_h, bins); shown],
            other: StepSum::new(order.len() - shown),
            other_bins: Binner::new(end_h, bins),
        }
    }

    fn push(&mut self, slot: Slot, h: f64, v: f64) {
        match slot {
            Slot::Own(k) => self.own[k].push(h, v),
            Slot::Other(k) => {
                if let Some((t, level)) = self.other.push(h, k, v) {
                    self.other_bins.push(t, level);
                }
            }
        }
    }

    fn finish(mut self, order: &[String], seen: &[bool], others: usize) -> Vec<Binned> {
        let mut out: Vec<Binned> = (self.own.into_iter().zip(order).zip(seen))
            .filter(|(_, seen)| **seen)
            .map(|((b, name), _)| Binned {
                name: name.clone(),
                points: b.finish(),
            })
            .collect();
        if others > 0 {
            if let Some((t, level)) = self.other.flush() {
                self.other_bins.push(t, level);
            }
            out.push(Binned {
                name: format!("other ({others} teams)"),
                points: self.other_bins.finish(),
            });
        }
        out
    }
}

/// A queue's four levels, summed over its teams and sampled.
#[derive(Clone, Debug)]
struct QueueFold {
    sums: [StepSum<u64>; 4],
    samplers: [Sampler; 4],
    present: bool,
}

/// Gathers [`SeriesFacts`] from the time series, a batch of rows at a time. Rows must be in
/// time order, as the run writes them.
pub struct SeriesFold<'a> {
    t0_ms: u64,
    /// Sample instants of `metrics.prom`, seconds since the first submission.
    times: &'a [u64],
    /// Teams by usage, largest first.
    order: &'a [String],
    /// Queue index and rank in it of each team with a queue.
    team_queue: HashMap<&'a str, (usize, usize)>,
    queue_names: Vec<&'a str>,
    teams: HashMap<String, TeamSlot>,
    /// Which of the first teams by usage, and how many of the rest, have rows.
    seen: Vec<bool>,
    others: usize,
    allocated: TeamChart,
    pending: TeamChart,
    cluster: [Binner; 2],
    util_known: bool,
    queues: Vec<QueueFold>,
    backlog: BacklogFold,
    end_ms: u64,
    rows: usize,
    last_ms: u64,
}

impl<'a> SeriesFold<'a> {
    /// `order`: teams by usage; `team_queue`: each team's queue (teams in name order);
    /// `end_h` and `bins`: the span of the charts and their bins; `times`: the sample instants;
    /// `capacity_gpus`: the cluster's GPUs.
    pub fn new(
        t0_ms: u64,
        capacity_gpus: f64,
        (end_h, bins): (f64, usize),
        times: &'a [u64],
        order: &'a [String],
        team_queue: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut queue_names: Vec<&str> = Vec::new();
        let mut members: Vec<usize> = Vec::new();
        let mut teams_of = HashMap::new();
        for (team, q) in team_queue {
            let qi = queue_names.iter().position(|n| *n == q).unwrap_or_else(|| {
                queue_names.push(q);
                members.push(0);
                queue_names.len() - 1
            });
            teams_of.insert(team, (qi, members[qi]));
            members[qi] += 1;
        }
        let queues = (members.iter())
            .map(|&n| QueueFold {
                sums: std::array::from_fn(|_| StepSum::new(n)),
                samplers: Default::default(),
                present: false,
            })
            .collect();
        SeriesFold {
            t0_ms,
            times,
            order,
            team_queue: teams_of,
            queue_names,
            teams: HashMap::new(),
            seen: vec![false; order.len().min(MAX_TEAMS)],
            others: 0,
            allocated: TeamChart::new(order, end_h, bins),
            pending: TeamChart::new(order, end_h, bins),
            cluster: [Binner::new(end_h, bins), Binner::new(end_h, bins)],
            util_known: false,
            queues,
            backlog: BacklogFold::new((capacity_gpus * 1000.0).round() as u64, t0_ms),
            end_ms: t0_ms + (end_h * 3_600_000.0).round() as u64,
            rows: 0,
            last_ms: 0,
        }
    }

    fn slot(&mut self, team: &str) -> TeamSlot {
        if let Some(s) = self.teams.get(team) {
            return *s;
        }
        let chart = self.order.iter().position(|t| t == team).map(|k| {
            if k < MAX_TEAMS {
                self.seen[k] = true;
                Slot::Own(k)
            } else {
                self.others += 1;
                Slot::Other(k - MAX_TEAMS)
            }
        });
        let queue = self.team_queue.get(team).copied();
        if let Some((q, _)) = queue {
            self.queues[q].present = true;
        }
        let s = TeamSlot {
            chart,
            queue,
            index: self.teams.len(),
        };
        self.teams.insert(team.to_string(), s);
        s
    }

    /// Adds a batch of rows; an error names the first row out of time order.
    pub fn add(&mut self, series: &SeriesTable) -> Result<(), crate::frame::RowError> {
        for i in 0..series.len() {
            let ms = series.time_ms[i];
            if ms < self.last_ms {
                return Err(crate::frame::RowError {
                    row: self.rows + i + 1,
                    what: "time_s goes back; the rows must be in time order".into(),
                });
            }
            self.last_ms = ms;
            self.backlog.advance(ms);
            let rel = ms.saturating_sub(self.t0_ms);
            let h = rel as f64 / 3_600_000.0;
            let gpus = series.gpu_milli[i] as f64 / 1000.0;
            self.util_known |= series.used_gpu_milli[i].is_some();
            let Some(team) = &series.team[i] else {
                self.backlog.allocated_milli = series.gpu_milli[i];
                let used = series.used_gpu_milli[i].unwrap_or(0) as f64 / 1000.0;
                self.cluster[0].push(h, gpus);
                self.cluster[1].push(h, used);
                continue;
            };
            let slot = self.slot(team);
            self.backlog.set_team(slot.index, series.pending_gpu_milli[i]);
            let pending = f64::from(series.pending[i]);
            if let Some(c) = slot.chart {
                self.allocated.push(c, h, gpus);
                self.pending.push(c, h, pending);
            }
            if let Some((q, k)) = slot.queue {
                let levels = [
                    pending,
                    f64::from(series.running[i]),
                    gpus,
                    series.pending_gpu_milli[i] as f64 / 1000.0,
                ];
                let qf = &mut self.queues[q];
                for (j, v) in levels.into_iter().enumerate() {
                    if let Some((t, level)) = qf.sums[j].push(rel / 1000, k, v) {
                        qf.samplers[j].push(self.times, t, level);
                    }
                }
            }
        }
        self.rows += series.len();
        Ok(())
    }

    pub fn finish(self) -> SeriesFacts {
        let [alloc, used] = self.cluster;
        let times = self.times;
        let queue_levels = (self.queues.into_iter().zip(self.queue_names))
            .filter(|(qf, _)| qf.present)
            .map(|(qf, name)| {
                let QueueFold {
                    mut sums, samplers, ..
                } = qf;
                let mut j = 0;
                let levels = samplers.map(|mut s| {
                    if let Some((t, level)) = sums[j].flush() {
                        s.push(times, t, level);
                    }
                    j += 1;
                    s.finish(times)
                });
                (name.to_string(), levels)
            })
            .collect();
        SeriesFacts {
            allocated: self.allocated.finish(self.order, &self.seen, self.others),
            pending: self.pending.finish(self.order, &self.seen, self.others),
            cluster_use: self.util_known.then(|| ClusterUse {
                allocated: alloc.finish(),
                used: used.finish(),
            }),
            queue_levels,
            backlog: self.backlog.finish(self.end_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_of_steps_adds_levels_at_each_change() {
        // a: 2 from 0, 0 from 2; b: 3 from 1, 1 from 2.
        let mut s = StepSum::new(2);
        let mut out = Vec::new();
        for (t, k, v) in [(0, 0, 2.0), (1, 1, 3.0), (2, 1, 1.0), (2, 0, 0.0)] {
            out.extend(s.push(t, k, v));
        }
        out.extend(s.flush());
        assert_eq!(out, vec![(0, 2.0), (1, 5.0), (2, 1.0)]);
    }

    #[test]
    fn changes_at_one_time_are_added_in_member_order() {
        // Float addition is not associative: member 0's change must come first, as when each
        // member's steps are listed in turn and sorted stably by time.
        let mut s = StepSum::new(2);
        s.push(0, 1, 0.1);
        s.push(0, 0, 1e16);
        s.push(1, 0, 0.0);
        assert_eq!(s.flush(), Some((1, (1e16 + 0.1) - 1e16)));
    }

    #[test]
    fn samples_read_the_level_at_each_instant() {
        let times = [0, 60, 120, 180];
        let mut s = Sampler::default();
        for (t, v) in [(30, 1.0), (60, 2.0), (90, 3.0)] {
            s.push(&times, t, v);
        }
        assert_eq!(s.finish(&times), vec![0.0, 2.0, 3.0, 3.0]);
    }

    fn series(rows: &[(u64, Option<&str>, u64, u32)]) -> SeriesTable {
        let mut t = SeriesTable::default();
        for &(ms, team, gpu_milli, pending) in rows {
            t.time_ms.push(ms);
            t.team.push(team.map(Text::from));
            t.gpu_milli.push(gpu_milli);
            t.running.push(0);
            t.pending.push(pending);
            t.pending_gpu_milli.push(0);
            t.used_gpu_milli.push(None);
            t.measured_gpu_milli.push(None);
            t.fragmented_gpu_milli.push(None);
        }
        t
    }

    #[test]
    fn teams_are_binned_alone_or_summed_as_other() {
        // Teams a..n by usage: a to l drawn alone, m and n as "other"; two 1-hour bins.
        let order: Vec<String> = ('a'..='n').map(String::from).collect();
        let queues = [("a", "qa"), ("m", "qa")];
        let times = [0, 3600, 7200];
        let mut f = SeriesFold::new(1000, 100.0, (2.0, 2), &times, &order, queues);
        let h = |x: f64| 1000 + (x * 3_600_000.0) as u64;
        f.add(&series(&[
            (h(0.0), Some("a"), 4000, 1),
            (h(0.0), Some("m"), 2000, 0),
            (h(0.5), Some("n"), 1000, 3),
            (h(0.5), None, 7000, 4),
            (h(1.5), Some("m"), 0, 0),
            (h(1.5), Some("a"), 2000, 0),
        ]))
        .unwrap();
        let s = f.finish();
        let names: Vec<&str> = s.allocated.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a", "other (2 teams)"]);
        // a: 4 GPUs until 1.5 h, then 2: bins average 4 and 3.
        assert_eq!(s.allocated[0].points, vec![(0.5, 4.0), (1.5, 3.0)]);
        // m + n: 2 until 0.5 h, 3 until 1.5 h, then 1: 2.5 and 2.
        assert_eq!(s.allocated[1].points, vec![(0.5, 2.5), (1.5, 2.0)]);
        assert_eq!(s.pending[1].points, vec![(0.5, 1.5), (1.5, 3.0)]);
        assert_eq!(s.cluster_use, None);
        // Queue qa = a + m, read at 0 s, 1 h and 2 h: 6, 6, then 2 GPUs; 1, 1, then 0 pending.
        let qa = &s.queue_levels["qa"];
        assert_eq!(qa[2], vec![6.0, 6.0, 2.0]);
        assert_eq!(qa[0], vec![1.0, 1.0, 0.0]);
    }

    #[test]
    fn rows_out_of_time_order_are_an_error() {
        let order = vec!["a".to_string()];
        let mut f = SeriesFold::new(0, 1.0, (1.0, 2), &[], &order, []);
        let err = f
            .add(&series(&[(5, Some("a"), 0, 0), (4, None, 0, 0)]))
            .unwrap_err();
        assert_eq!(err.row, 2, "{err}");
    }

    /// 8 GPUs over 2 h. Until 1 h all 8 are allocated while team a waits for 4: 4 GPU-hours
    /// with no GPU free. From 1 h 2 are free: until 1.5 h, 2 of a's 4 could have run there (1
    /// GPU-hour idle, 1 full); from 1.5 h team b waits for 2 more, 6 in all against the same 2
    /// free (1 idle, 2 full). Full 4 + 1 + 2 = 7, idle 1 + 1 = 2.
    #[test]
    fn waiting_splits_by_whether_gpus_stood_idle() {
        let order = vec!["a".to_string(), "b".to_string()];
        let mut f = SeriesFold::new(0, 8.0, (2.0, 2), &[], &order, []);
        let h = |x: f64| (x * 3_600_000.0) as u64;
        let mut t = series(&[
            (h(0.0), None, 8000, 0),
            (h(0.0), Some("a"), 0, 1),
            (h(1.0), None, 6000, 0),
            (h(1.5), Some("b"), 0, 1),
        ]);
        t.pending_gpu_milli = vec![0, 4000, 0, 2000];
        f.add(&t).unwrap();
        assert_eq!(
            f.finish().backlog,
            Backlog {
                full_gpu_h: 7.0,
                idle_gpu_h: 2.0,
                // Something waits all 2 h: 8 of 8 GPUs allocated for 1 h, 6 of 8 for 1 h.
                waiting_h: 2.0,
                allocated_while_waiting: 0.875,
            }
        );
    }
}
