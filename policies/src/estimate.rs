//! Runtime estimates for size-based policies and backfilling: the truth (oracle), the trace's
//! own `runtime_estimate`, or the mean of the team's finished jobs.

use fairway_engine::{JobSpec, SimDuration, TeamId};

/// Where estimates come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EstimateMode {
    /// The true run time (on the reference GPU).
    Oracle,
    /// The trace's `runtime_estimate`; jobs without one get their team's mean.
    Trace,
    /// The mean run time of the team's jobs finished so far.
    TeamMean,
}

impl EstimateMode {
    pub fn as_str(self) -> &'static str {
        match self {
            EstimateMode::Oracle => "oracle",
            EstimateMode::Trace => "trace",
            EstimateMode::TeamMean => "team-mean",
        }
    }
}

/// Makes estimates and learns from finished jobs.
#[derive(Clone, Debug)]
pub struct Estimator {
    pub mode: EstimateMode,
    /// Per team: (sum of run times in ms, count).
    history: Vec<(u128, u64)>,
    /// Used before a team has any finished job.
    default: SimDuration,
}

/// A team with no history yet is assumed to run one-hour jobs.
pub const DEFAULT_ESTIMATE: SimDuration = SimDuration(3_600_000);

impl Estimator {
    pub fn new(mode: EstimateMode) -> Self {
        Estimator {
            mode,
            history: Vec::new(),
            default: DEFAULT_ESTIMATE,
        }
    }

    fn team_mean(&self, team: TeamId) -> SimDuration {
        match self.history.get(team.index()) {
            Some(&(sum, n)) if n > 0 => SimDuration((sum / u128::from(n)) as u64),
            _ => self.default,
        }
    }

    /// The estimated run time of a job (reference-GPU time).
    pub fn estimate(&self, job: &JobSpec) -> SimDuration {
        match self.mode {
            EstimateMode::Oracle => job.work,
            EstimateMode::Trace => job.estimate.get().unwrap_or_else(|| self.team_mean(job.team)),
            EstimateMode::TeamMean => self.team_mean(job.team),
        }
    }

    /// Learns a finished job's true run time.
    pub fn learn(&mut self, job: &JobSpec) {
        let t = job.team.index();
        if self.history.len() <= t {
            self.history.resize(t + 1, (0, 0));
        }
        self.history[t].0 += u128::from(job.work.millis());
        self.history[t].1 += 1;
    }
}
