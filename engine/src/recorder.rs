//! What happened: per-team counters and exact piecewise-constant time series.
//!
//! Every change of allocated GPUs, running jobs or pending jobs is integrated at the instant it
//! happens (value x elapsed time), never sampled, and one point per changed series is kept at the
//! end of each instant.

use crate::ids::TeamId;
use crate::time::SimTime;

/// The state of one team (or of the whole cluster) between two changes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// GPUs allocated to running pods, in milli-GPU.
    pub gpu_milli: u64,
    pub running: u32,
    pub pending: u32,
}

/// Running totals of one team (or of the whole cluster).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub now: Level,
    /// Integral of allocated milli-GPU over time, in milli-GPU x ms.
    pub gpu_milli_ms: u128,
    /// Integral of the pending-job count over time, in job x ms.
    pub pending_ms: u128,
    /// Work thrown away by preemption, in milli-GPU x ms of allocation.
    pub lost_gpu_milli_ms: u128,
    pub since: SimTime,
}

impl Usage {
    fn advance(&mut self, t: SimTime) {
        let dt = u128::from(t.since(self.since).millis());
        self.gpu_milli_ms += u128::from(self.now.gpu_milli) * dt;
        self.pending_ms += u128::from(self.now.pending) * dt;
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

/// Keeps team counters up to date and emits series points.
#[derive(Clone, Debug)]
pub struct Recorder {
    teams: Vec<Usage>,
    total: Usage,
    emitted: Vec<Option<Level>>,
    emitted_total: Option<Level>,
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
    total_dirty: bool,
    series: Vec<SeriesPoint>,
}

impl Recorder {
    pub fn new(teams: usize, start: SimTime) -> Self {
        let usage = Usage {
            since: start,
            ..Usage::default()
        };
        Recorder {
            teams: vec![usage; teams],
            total: usage,
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

    pub fn pending_changed(&mut self, team: TeamId, now: SimTime, up: bool) {
        let (t, all) = self.touch(team, now);
        for u in [t, all] {
            if up {
                u.now.pending += 1;
            } else {
                u.now.pending -= 1;
            }
        }
    }

    pub fn running_changed(&mut self, team: TeamId, now: SimTime, gpu_milli: u64, up: bool) {
        let (t, all) = self.touch(team, now);
        for u in [t, all] {
            if up {
                u.now.running += 1;
                u.now.gpu_milli += gpu_milli;
            } else {
                u.now.running -= 1;
                u.now.gpu_milli -= gpu_milli;
            }
        }
    }

    pub fn work_lost(&mut self, team: TeamId, gpu_milli_ms: u128) {
        self.teams[team.index()].lost_gpu_milli_ms += gpu_milli_ms;
        self.total.lost_gpu_milli_ms += gpu_milli_ms;
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
    pub fn series(&self) -> &[SeriesPoint] {
        &self.series
    }
    pub(crate) fn into_parts(self) -> (Vec<Usage>, Usage, Vec<SeriesPoint>) {
        (self.teams, self.total, self.series)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrals_are_exact_and_points_coalesce_per_instant() {
        let mut r = Recorder::new(2, SimTime(0));
        let (a, b) = (TeamId(0), TeamId(1));
        r.pending_changed(a, SimTime(0), true);
        r.pending_changed(a, SimTime(0), false);
        r.running_changed(a, SimTime(0), 4000, true);
        r.flush(SimTime(0));
        r.running_changed(b, SimTime(10), 2000, true);
        r.flush(SimTime(10));
        r.running_changed(a, SimTime(100), 4000, false);
        r.flush(SimTime(100));
        r.close(SimTime(150));
        assert_eq!(r.team(a).gpu_milli_ms, 4000 * 100);
        assert_eq!(r.team(b).gpu_milli_ms, 2000 * 140);
        assert_eq!(r.total().gpu_milli_ms, 4000 * 100 + 2000 * 140);
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
