//! What happened: per-team counters and exact piecewise-constant time series.
//!
//! Every change of allocated GPUs, running jobs or pending jobs is integrated at the instant it
//! happens (value x elapsed time), never sampled, and one point per changed series is kept at the
//! end of each instant.

use crate::ids::TeamId;
use crate::time::SimTime;

/// The state of one team (or of the whole cluster) between two changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
///
/// Allocations are 32-bit milli-GPU (`cluster::MAX_GPUS` keeps every cluster within it), so a
/// series point takes 48 bytes: the series is most of a long run's memory.
pub struct Level {
    /// GPUs allocated to running pods, in milli-GPU.
    pub gpu_milli: u32,
    /// GPUs running pods actually use (allocation x the trace's `gpu_util`), in milli-GPU, over
    /// the running jobs whose utilisation is known.
    pub used_gpu_milli: u32,
    /// GPUs allocated to running jobs whose utilisation is known, in milli-GPU.
    pub measured_gpu_milli: u32,
    pub running: u32,
    pub pending: u32,
    /// GPUs the pending jobs ask for (pods x GPUs per pod), in milli-GPU.
    pub pending_gpu_milli: u64,
    /// Idle GPU capacity no pending pod shape can use, milli-GPU (whole cluster only, when the
    /// engine tracks fragmentation; 0 otherwise).
    pub fragmented_gpu_milli: u32,
}

/// An allocation of at most the cluster's capacity, as 32 bits.
fn milli32(gpu_milli: u64) -> u32 {
    u32::try_from(gpu_milli).expect("an allocation within the cluster's capacity (at most MAX_GPUS)")
}

/// Running totals of one team (or of the whole cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub now: Level,
    /// Integral of allocated milli-GPU over time, in milli-GPU x ms.
    pub gpu_milli_ms: u128,
    /// Integral of the pending-job count over time, in job x ms.
    pub pending_ms: u128,
    /// Integrals of `Level::used_gpu_milli` and `Level::measured_gpu_milli`, milli-GPU x ms.
    pub used_gpu_milli_ms: u128,
    pub measured_gpu_milli_ms: u128,
    /// Work thrown away by preemption, in milli-GPU x ms of allocation.
    pub lost_gpu_milli_ms: u128,
    /// Allocation spent on restart overheads after preemptions, in milli-GPU x ms.
    pub overhead_gpu_milli_ms: u128,
    /// Integral of fragmented GPU capacity over time, in milli-GPU x ms.
    pub fragmented_gpu_milli_ms: u128,
    pub since: SimTime,
}

impl Usage {
    fn advance(&mut self, t: SimTime) {
        // Several changes of one instant (a job arriving and starting) integrate nothing new.
        if t == self.since {
            return;
        }
        let dt = u128::from(t.since(self.since).millis());
        self.gpu_milli_ms += u128::from(self.now.gpu_milli) * dt;
        self.pending_ms += u128::from(self.now.pending) * dt;
        self.used_gpu_milli_ms += u128::from(self.now.used_gpu_milli) * dt;
        self.measured_gpu_milli_ms += u128::from(self.now.measured_gpu_milli) * dt;
        self.fragmented_gpu_milli_ms += u128::from(self.now.fragmented_gpu_milli) * dt;
        self.since = t;
    }
    /// GPU time allocated up to `t`, in milli-GPU x ms.
    pub fn gpu_milli_ms_at(&self, t: SimTime) -> u128 {
        self.gpu_milli_ms + u128::from(self.now.gpu_milli) * u128::from(t.since(self.since).millis())
    }
}

/// The level of one series from `time` until the next point of the same series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesPoint {
    pub time: SimTime,
    /// `None` for the whole cluster.
    pub team: Option<TeamId>,
    pub level: Level,
}

/// Where a run's series points go when they are not kept in the outcome: a writer that streams
/// them to disk as the run goes, so a long run never holds its whole series (at about four
/// points a job, the series is otherwise the largest thing a run keeps).
pub trait SeriesSink {
    /// The next points, in order; called with at most [`SERIES_CHUNK`] points at a time.
    /// A sink that fails keeps its error for its owner to collect after the run.
    fn write(&mut self, points: &[SeriesPoint]);
}

/// How many points the recorder holds before it hands them to a sink.
pub const SERIES_CHUNK: usize = 16_384;

/// A preemption, as the policy explained it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreemptionRecord {
    pub time: SimTime,
    pub job: crate::ids::JobId,
    /// The job it made room for, if the policy said.
    pub by: Option<crate::ids::JobId>,
    /// Index into the recorder's reason table.
    pub reason: u16,
}

/// GPUs in use of `gpu_milli` allocated at utilisation `util` (clamped to 0..1), milli-GPU.
pub fn used_milli(gpu_milli: u64, util: f32) -> u64 {
    (gpu_milli as f64 * f64::from(util.clamp(0.0, 1.0))).round() as u64
}

/// Allocation of one pool over time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolClock {
    /// Allocated now, milli-GPU.
    pub gpu_milli: u64,
    /// Integral of the allocation, milli-GPU x ms.
    pub gpu_milli_ms: u128,
    pub since: SimTime,
}

/// Pending time per reason, for one team.
#[derive(Clone, Debug, Default)]
struct ReasonClock {
    count: Vec<u32>,
    ms: Vec<u128>,
    since: SimTime,
}

/// Keeps team counters up to date and emits series points.
#[derive(Debug)]
pub struct Recorder {
    reasons: Vec<String>,
    reason_clocks: Vec<ReasonClock>,
    preemptions: Vec<PreemptionRecord>,
    teams: Vec<Usage>,
    total: Usage,
    pools: Vec<PoolClock>,
    emitted: Vec<Option<Level>>,
    emitted_total: Option<Level>,
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
    total_dirty: bool,
    series: Vec<SeriesPoint>,
}

impl Recorder {
    pub fn new(teams: usize, pools: usize, start: SimTime) -> Self {
        let usage = Usage {
            since: start,
            ..Usage::default()
        };
        Recorder {
            reasons: vec![String::new()],
            reason_clocks: vec![
                ReasonClock {
                    since: start,
                    ..ReasonClock::default()
                };
                teams
            ],
            preemptions: Vec::new(),
            teams: vec![usage; teams],
            total: usage,
            pools: vec![
                PoolClock {
                    since: start,
                    ..PoolClock::default()
                };
                pools
            ],
            emitted: vec![None; teams],
            emitted_total: None,
            dirty: Vec::new(),
            is_dirty: vec![false; teams],
            total_dirty: false,
            series: Vec::new(),
        }
    }

    fn touch(&mut self, team: TeamId, now: SimTime) -> (&mut Usage, &mut Usage) {
        let i = team.index();
        if !self.is_dirty[i] {
            self.is_dirty[i] = true;
            self.dirty.push(team.0);
        }
        self.total_dirty = true;
        self.teams[i].advance(now);
        self.total.advance(now);
        (&mut self.teams[i], &mut self.total)
    }

    /// The cluster's fragmented GPU capacity changed (or was recomputed) at `now`.
    pub fn fragmented(&mut self, now: SimTime, gpu_milli: u64) {
        let gpu_milli = milli32(gpu_milli);
        if self.total.now.fragmented_gpu_milli != gpu_milli {
            self.total.advance(now);
            self.total.now.fragmented_gpu_milli = gpu_milli;
            self.total_dirty = true;
        }
    }

    /// A job asking for `gpu_milli` in all joined (`up`) or left the pending set.
    pub fn pending_changed(&mut self, team: TeamId, now: SimTime, gpu_milli: u64, up: bool) {
        let (t, all) = self.touch(team, now);
        for u in [t, all] {
            if up {
                u.now.pending += 1;
                u.now.pending_gpu_milli += gpu_milli;
            } else {
                u.now.pending -= 1;
                u.now.pending_gpu_milli -= gpu_milli;
            }
        }
    }

    /// A job holding `gpu_milli` started (`up`) or stopped; `util` is its measured utilisation.
    pub fn running_changed(
        &mut self,
        team: TeamId,
        now: SimTime,
        gpu_milli: u64,
        util: Option<f32>,
        up: bool,
    ) {
        let (measured, used) = match util {
            Some(u) => (milli32(gpu_milli), milli32(used_milli(gpu_milli, u))),
            None => (0, 0),
        };
        let gpu_milli = milli32(gpu_milli);
        let (t, all) = self.touch(team, now);
        for u in [t, all] {
            if up {
                u.now.running += 1;
                u.now.gpu_milli += gpu_milli;
                u.now.measured_gpu_milli += measured;
                u.now.used_gpu_milli += used;
            } else {
                u.now.running -= 1;
                u.now.gpu_milli -= gpu_milli;
                u.now.measured_gpu_milli -= measured;
                u.now.used_gpu_milli -= used;
            }
        }
    }

    /// `gpu_milli` more (`up`) or fewer GPUs of `pool` are allocated from `now`.
    pub fn pool_changed(&mut self, pool: usize, now: SimTime, gpu_milli: u64, up: bool) {
        let c = &mut self.pools[pool];
        c.gpu_milli_ms += u128::from(c.gpu_milli) * u128::from(now.since(c.since).millis());
        c.since = now;
        if up {
            c.gpu_milli += gpu_milli;
        } else {
            c.gpu_milli -= gpu_milli;
        }
    }

    pub fn overhead(&mut self, team: TeamId, gpu_milli_ms: u128) {
        self.teams[team.index()].overhead_gpu_milli_ms += gpu_milli_ms;
        self.total.overhead_gpu_milli_ms += gpu_milli_ms;
    }

    pub fn work_lost(&mut self, team: TeamId, gpu_milli_ms: u128) {
        self.teams[team.index()].lost_gpu_milli_ms += gpu_milli_ms;
        self.total.lost_gpu_milli_ms += gpu_milli_ms;
    }

    /// The index of a pending reason (0 is the empty reason: none given).
    pub fn intern_reason(&mut self, reason: &str) -> u16 {
        match self.reasons.iter().position(|r| r == reason) {
            Some(i) => i as u16,
            None => {
                self.reasons.push(reason.to_string());
                (self.reasons.len() - 1) as u16
            }
        }
    }

    /// A pending job of `team` changed reason (`None`: it was not, or is no longer, pending).
    pub fn reason_changed(&mut self, team: TeamId, now: SimTime, from: Option<u16>, to: Option<u16>) {
        let n = self.reasons.len();
        let c = &mut self.reason_clocks[team.index()];
        if c.count.len() < n {
            c.count.resize(n, 0);
            c.ms.resize(n, 0);
        }
        let dt = u128::from(now.since(c.since).millis());
        if dt > 0 {
            for (ms, &k) in c.ms.iter_mut().zip(&c.count) {
                *ms += u128::from(k) * dt;
            }
        }
        c.since = now;
        if let Some(f) = from {
            c.count[f as usize] -= 1;
        }
        if let Some(t) = to {
            c.count[t as usize] += 1;
        }
    }

    pub fn log_preemption(&mut self, record: PreemptionRecord) {
        self.preemptions.push(record);
    }

    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }

    /// Ends an instant: one point for every series whose level changed during it.
    pub fn flush(&mut self, now: SimTime) {
        self.dirty.sort_unstable();
        for &t in &self.dirty {
            let i = t as usize;
            self.is_dirty[i] = false;
            let level = self.teams[i].now;
            if self.emitted[i] != Some(level) {
                self.emitted[i] = Some(level);
                self.series.push(SeriesPoint {
                    time: now,
                    team: Some(TeamId(t)),
                    level,
                });
            }
        }
        self.dirty.clear();
        if self.total_dirty {
            self.total_dirty = false;
            if self.emitted_total != Some(self.total.now) {
                self.emitted_total = Some(self.total.now);
                self.series.push(SeriesPoint {
                    time: now,
                    team: None,
                    level: self.total.now,
                });
            }
        }
    }

    /// Brings every integral up to `t` (the end of the run).
    pub fn close(&mut self, t: SimTime) {
        for u in &mut self.teams {
            u.advance(t);
        }
        self.total.advance(t);
        for pool in 0..self.pools.len() {
            self.pool_changed(pool, t, 0, true);
        }
        for team in 0..self.reason_clocks.len() {
            self.reason_changed(TeamId(team as u32), t, None, None);
        }
    }

    pub fn team(&self, team: TeamId) -> &Usage {
        &self.teams[team.index()]
    }
    pub fn teams(&self) -> &[Usage] {
        &self.teams
    }
    pub fn total(&self) -> &Usage {
        &self.total
    }
    /// The points not yet handed to a sink (all of them when there is none).
    pub fn series(&self) -> &[SeriesPoint] {
        &self.series
    }
    /// Hands the held points to `sink` and forgets them.
    pub fn drain_series(&mut self, sink: &mut dyn SeriesSink) {
        if !self.series.is_empty() {
            sink.write(&self.series);
            self.series.clear();
        }
    }
    pub(crate) fn into_parts(self) -> RecorderParts {
        let n = self.reasons.len();
        RecorderParts {
            teams: self.teams,
            total: self.total,
            pools: self.pools,
            series: self.series,
            pending_by_reason: self
                .reason_clocks
                .into_iter()
                .map(|mut c| {
                    c.ms.resize(n, 0);
                    c.ms
                })
                .collect(),
            reasons: self.reasons,
            preemptions: self.preemptions,
        }
    }
}

/// What the recorder hands to the outcome.
pub(crate) struct RecorderParts {
    pub teams: Vec<Usage>,
    pub total: Usage,
    pub pools: Vec<PoolClock>,
    pub series: Vec<SeriesPoint>,
    pub reasons: Vec<String>,
    pub pending_by_reason: Vec<Vec<u128>>,
    pub preemptions: Vec<PreemptionRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_point_stays_compact() {
        // The series is most of a long run's memory: 48 bytes a point.
        assert_eq!(std::mem::size_of::<SeriesPoint>(), 48);
    }

    #[test]
    fn integrals_are_exact_and_points_coalesce_per_instant() {
        let mut r = Recorder::new(2, 0, SimTime(0));
        let (a, b) = (TeamId(0), TeamId(1));
        r.pending_changed(a, SimTime(0), 4000, true);
        r.pending_changed(a, SimTime(0), 4000, false);
        r.running_changed(a, SimTime(0), 4000, None, true);
        r.flush(SimTime(0));
        r.running_changed(b, SimTime(10), 2000, Some(0.25), true);
        r.flush(SimTime(10));
        r.running_changed(a, SimTime(100), 4000, None, false);
        r.flush(SimTime(100));
        r.close(SimTime(150));
        assert_eq!(r.team(a).gpu_milli_ms, 4000 * 100);
        assert_eq!(r.team(b).gpu_milli_ms, 2000 * 140);
        assert_eq!(r.total().gpu_milli_ms, 4000 * 100 + 2000 * 140);
        // Only b's job has a measured utilisation: a quarter of its 2 GPUs for 140 ms.
        assert_eq!(r.total().used_gpu_milli_ms, 500 * 140);
        assert_eq!(r.total().measured_gpu_milli_ms, 2000 * 140);
        assert_eq!(r.team(a).used_gpu_milli_ms, 0);
        // team a: one point at 0 (pending went up and down within the instant), one at 100.
        let a_points: Vec<_> = r
            .series()
            .iter()
            .filter(|p| p.team == Some(a))
            .map(|p| p.time.0)
            .collect();
        assert_eq!(a_points, vec![0, 100]);
        let totals: Vec<_> = r
            .series()
            .iter()
            .filter(|p| p.team.is_none())
            .map(|p| p.level.gpu_milli)
            .collect();
        assert_eq!(totals, vec![4000, 6000, 2000]);
    }
}
