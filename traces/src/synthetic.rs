//! A seeded synthetic workload: arrivals, durations, GPU shapes and teams drawn from stated
//! distributions. The same spec and seed always give the same trace.

use crate::error::TraceError;
use crate::table::Table;
use fairway_engine::time::MAX_MILLIS;
use fairway_engine::{
    GPU_MILLI, JobKind, JobSpec, PodRequest, SimDuration, SimTime, Workload, WorkloadBuilder,
};
use rand::distr::weighted::WeightedIndex;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp, LogNormal};
use rand_pcg::Pcg64Mcg;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What to generate. Every field but `jobs` has a default.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyntheticSpec {
    /// Number of jobs.
    pub jobs: usize,
    /// Overrides the scenario's seed for the trace only.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub arrivals: Arrivals,
    #[serde(default)]
    pub duration: Durations,
    /// Job shapes and how often each occurs.
    #[serde(default = "default_shapes")]
    pub shapes: Vec<Shape>,
    #[serde(default = "default_teams")]
    pub teams: Vec<TeamShare>,
    /// vCPUs per pod, per GPU of the pod (at least 1 vCPU per pod).
    #[serde(default = "default_cpu_per_gpu")]
    pub cpu_per_gpu: f64,
    /// Memory per pod, per GPU of the pod (at least 1 GiB per pod).
    #[serde(default = "default_mem_per_gpu")]
    pub memory_gib_per_gpu: f64,
    /// Share of jobs that are interactive (development pods) rather than batch.
    #[serde(default)]
    pub interactive_fraction: f64,
    /// A second stream of interactive sessions on a working-hours cycle, besides the `jobs`
    /// batch jobs, over the same span.
    #[serde(default)]
    pub interactive: Option<InteractiveSpec>,
}

/// Interactive sessions (development pods): a Poisson stream that runs only in working hours
/// (time 0 is a Monday, 00:00), with log-normal session lengths and low GPU utilisation.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InteractiveSpec {
    /// Mean sessions started per working hour.
    pub per_hour: f64,
    /// Working hours, [start, end) in hours of the day.
    #[serde(default = "default_work_start")]
    pub start_hour: f64,
    #[serde(default = "default_work_end")]
    pub end_hour: f64,
    /// Only Monday to Friday.
    #[serde(default = "default_true")]
    pub weekdays_only: bool,
    /// GPUs per session (a share below 1 is a shared GPU).
    #[serde(default = "default_one")]
    pub gpus: f64,
    /// Session length: median and log-normal shape.
    #[serde(default = "default_session_median")]
    pub median_s: f64,
    #[serde(default = "default_session_sigma")]
    pub sigma: f64,
    /// The `gpu_util` sessions report (fraction of the GPU they keep busy).
    #[serde(default = "default_session_util")]
    pub gpu_util: f64,
    #[serde(default)]
    pub priority: i32,
}

fn default_work_start() -> f64 {
    9.0
}
fn default_work_end() -> f64 {
    18.0
}
fn default_true() -> bool {
    true
}
fn default_one() -> f64 {
    1.0
}
fn default_session_median() -> f64 {
    7200.0
}
fn default_session_sigma() -> f64 {
    0.7
}
fn default_session_util() -> f64 {
    0.15
}

/// How jobs arrive.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "process", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Arrivals {
    /// A Poisson process: exponential gaps with mean 1/rate.
    Poisson { per_hour: f64 },
    /// A Poisson process whose rate follows a daily cosine: `per_hour` on average, with the
    /// busiest hour `peak_to_trough` times as busy as the quietest, peaking at `peak_hour`.
    Daily {
        per_hour: f64,
        peak_to_trough: f64,
        #[serde(default = "default_peak_hour")]
        peak_hour: f64,
    },
}

impl Default for Arrivals {
    fn default() -> Self {
        Arrivals::Poisson { per_hour: 60.0 }
    }
}

/// How long jobs run (on the reference GPU).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "dist", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Durations {
    /// Log-normal with the given median and shape (sigma of the underlying normal).
    Lognormal {
        median_s: f64,
        sigma: f64,
        #[serde(default)]
        max_s: Option<f64>,
    },
    /// Drawn with replacement from a file of run times in seconds (one per line, optional
    /// header), such as the shipped `philly_runtime.csv`. `path` is relative to the scenario.
    Resample {
        path: PathBuf,
        #[serde(default = "default_scale")]
        scale: f64,
    },
}

impl Default for Durations {
    fn default() -> Self {
        Durations::Lognormal {
            median_s: 1800.0,
            sigma: 1.5,
            max_s: Some(7.0 * 86400.0),
        }
    }
}

/// A job shape: GPUs per pod (whole, or a share below 1) and pods per job.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub gpus: f64,
    #[serde(default = "default_pods")]
    pub pods: u32,
    pub weight: f64,
}

/// A team and its share of the jobs.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TeamShare {
    pub name: String,
    pub weight: f64,
    #[serde(default)]
    pub priority: i32,
}

fn default_shapes() -> Vec<Shape> {
    [
        (1.0, 1, 60.0),
        (2.0, 1, 15.0),
        (4.0, 1, 12.0),
        (8.0, 1, 10.0),
        (8.0, 2, 3.0),
    ]
    .into_iter()
    .map(|(gpus, pods, weight)| Shape { gpus, pods, weight })
    .collect()
}
fn default_teams() -> Vec<TeamShare> {
    ["team-a", "team-b"]
        .iter()
        .map(|n| TeamShare {
            name: n.to_string(),
            weight: 1.0,
            priority: 0,
        })
        .collect()
}
fn default_cpu_per_gpu() -> f64 {
    8.0
}
fn default_mem_per_gpu() -> f64 {
    64.0
}
fn default_peak_hour() -> f64 {
    14.0
}
fn default_scale() -> f64 {
    1.0
}
fn default_pods() -> u32 {
    1
}

/// Most jobs one generated trace may have (about 10 GB of memory at 200 bytes a job).
pub const MAX_JOBS: usize = 50_000_000;

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: f64 = 24.0 * HOUR_MS;

impl SyntheticSpec {
    /// A spec with every default and `jobs` jobs.
    pub fn with_jobs(jobs: usize) -> Self {
        toml::from_str(&format!("jobs = {jobs}")).expect("defaults are valid")
    }

    /// Checks every parameter; the message names the offending key.
    pub fn validate(&self) -> Result<(), TraceError> {
        let bad = |key: &str, m: String| Err(TraceError::config(&format!("synthetic trace: {key}"), m));
        if self.jobs == 0 {
            return bad("jobs", "must be at least 1".into());
        }
        if self.jobs > MAX_JOBS {
            return bad("jobs", format!("at most {MAX_JOBS}, found {}", self.jobs));
        }
        let (rate, ratio, peak) = match self.arrivals {
            Arrivals::Poisson { per_hour } => (per_hour, 1.0, 0.0),
            Arrivals::Daily {
                per_hour,
                peak_to_trough,
                peak_hour,
            } => (per_hour, peak_to_trough, peak_hour),
        };
        if !(rate.is_finite() && rate > 0.0) {
            return bad("arrivals.per_hour", format!("must be > 0, found {rate}"));
        }
        if !(ratio.is_finite() && ratio >= 1.0) {
            return bad("arrivals.peak_to_trough", format!("must be >= 1, found {ratio}"));
        }
        if !(0.0..24.0).contains(&peak) {
            return bad("arrivals.peak_hour", format!("must be in [0, 24), found {peak}"));
        }
        match &self.duration {
            Durations::Lognormal {
                median_s,
                sigma,
                max_s,
            } => {
                if !(median_s.is_finite() && *median_s >= 0.001) {
                    return bad("duration.median_s", format!("must be >= 0.001, found {median_s}"));
                }
                if *median_s > max_secs() {
                    return bad("duration.median_s", past_limit(*median_s));
                }
                if !(sigma.is_finite() && *sigma >= 0.0) {
                    return bad("duration.sigma", format!("must be >= 0, found {sigma}"));
                }
                if let Some(m) = max_s
                    && !(m.is_finite() && *m >= 1.0)
                {
                    return bad("duration.max_s", format!("must be >= 1, found {m}"));
                }
                if let Some(m) = max_s
                    && *m > max_secs()
                {
                    return bad("duration.max_s", past_limit(*m));
                }
            }
            Durations::Resample { scale, .. } => {
                if !(scale.is_finite() && *scale > 0.0) {
                    return bad("duration.scale", format!("must be > 0, found {scale}"));
                }
            }
        }
        if self.shapes.is_empty() {
            return bad("shapes", "needs at least one shape".into());
        }
        for (i, s) in self.shapes.iter().enumerate() {
            let milli = s.gpus * f64::from(GPU_MILLI);
            if !(s.gpus.is_finite() && s.gpus >= 0.0 && milli <= f64::from(64 * GPU_MILLI))
                || (milli - milli.round()).abs() > 1e-6
                || PodRequest::validate_gpu(milli.round() as u32).is_err()
            {
                return bad(
                    &format!("shapes[{i}].gpus"),
                    format!(
                        "must be a whole number up to 64 or a share in (0, 1) to the milli-GPU, found {}",
                        s.gpus
                    ),
                );
            }
            if s.pods == 0 {
                return bad(&format!("shapes[{i}].pods"), "must be at least 1".into());
            }
            if !(s.weight.is_finite() && s.weight >= 0.0) {
                return bad(
                    &format!("shapes[{i}].weight"),
                    format!("must be >= 0, found {}", s.weight),
                );
            }
        }
        if self.shapes.iter().all(|s| s.weight == 0.0) {
            return bad("shapes", "at least one weight must be > 0".into());
        }
        if self.teams.is_empty() {
            return bad("teams", "needs at least one team".into());
        }
        for (i, t) in self.teams.iter().enumerate() {
            if t.name.trim().is_empty() {
                return bad(&format!("teams[{i}].name"), "must not be empty".into());
            }
            if t.name.trim() != t.name {
                // A trace reader trims its fields: the name would not read back.
                return bad(
                    &format!("teams[{i}].name"),
                    format!("must not start or end with spaces, found '{}'", t.name),
                );
            }
            if !(t.weight.is_finite() && t.weight >= 0.0) {
                return bad(
                    &format!("teams[{i}].weight"),
                    format!("must be >= 0, found {}", t.weight),
                );
            }
        }
        if self.teams.iter().all(|t| t.weight == 0.0) {
            return bad("teams", "at least one weight must be > 0".into());
        }
        for (key, v) in [
            ("cpu_per_gpu", self.cpu_per_gpu),
            ("memory_gib_per_gpu", self.memory_gib_per_gpu),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(key, format!("must be >= 0, found {v}"));
            }
        }
        if !(0.0..=1.0).contains(&self.interactive_fraction) {
            return bad(
                "interactive_fraction",
                format!("must be in [0, 1], found {}", self.interactive_fraction),
            );
        }
        if let Some(i) = &self.interactive {
            if !(i.per_hour.is_finite() && i.per_hour > 0.0) {
                return bad(
                    "interactive.per_hour",
                    format!("must be > 0, found {}", i.per_hour),
                );
            }
            if !(0.0 <= i.start_hour && i.start_hour < i.end_hour && i.end_hour <= 24.0) {
                return bad(
                    "interactive.start_hour",
                    format!(
                        "need 0 <= start_hour < end_hour <= 24, found {} and {}",
                        i.start_hour, i.end_hour
                    ),
                );
            }
            let milli = i.gpus * f64::from(GPU_MILLI);
            if !(i.gpus.is_finite()
                && i.gpus > 0.0
                && (i.gpus < 1.0 || i.gpus.fract() == 0.0)
                && i.gpus <= 64.0)
                || milli.round() < 1.0
                || (milli - milli.round()).abs() > 1e-6
            {
                return bad(
                    "interactive.gpus",
                    format!(
                        "must be a share below 1 to the milli-GPU or a whole number up to 64, found {}",
                        i.gpus
                    ),
                );
            }
            if !(i.median_s.is_finite() && i.median_s >= 1.0 && i.sigma.is_finite() && i.sigma >= 0.0) {
                return bad(
                    "interactive.median_s",
                    "median_s must be >= 1 and sigma >= 0".into(),
                );
            }
            if !(0.0..=1.0).contains(&i.gpu_util) {
                return bad(
                    "interactive.gpu_util",
                    format!("must be in [0, 1], found {}", i.gpu_util),
                );
            }
        }
        // The most GPUs a pod sizes its CPU and memory by.
        let widest = (self.shapes.iter().map(|s| s.gpus))
            .chain(self.interactive.iter().map(|i| i.gpus))
            .fold(1.0, f64::max);
        for (key, v, unit, scale) in [
            ("cpu_per_gpu", self.cpu_per_gpu, "vCPUs", 1000.0),
            ("memory_gib_per_gpu", self.memory_gib_per_gpu, "GiB", 1024.0),
        ] {
            if ((v * widest).max(1.0) * scale).round() >= crate::canonical::MAX_AMOUNT as f64 {
                return bad(
                    key,
                    format!(
                        "{v} makes a pod of {widest} GPUs ask for more {unit} than a trace can hold (below {})",
                        crate::canonical::MAX_AMOUNT as f64 / scale
                    ),
                );
            }
        }
        Ok(())
    }
}

/// The longest time a generated trace may hold, in seconds (what the engine accepts).
fn max_secs() -> f64 {
    MAX_MILLIS as f64 / 1000.0
}

fn past_limit(secs: f64) -> String {
    format!("{secs:e} s is past {}", longest())
}

fn longest() -> String {
    format!(
        "the longest time a trace may hold ({} s, about 285,000 years)",
        fairway_engine::resources::fmt_milli(MAX_MILLIS)
    )
}

/// Generates the workload. `base` is the folder relative paths (resampled run times) start from.
pub fn generate(spec: &SyntheticSpec, seed: u64, base: &Path) -> Result<Workload, TraceError> {
    generate_with(spec, seed, base, MAX_JOBS as u64)
}

/// [`generate`], refusing a trace of more than `max_jobs` jobs in all (batch jobs and
/// interactive sessions). Every time it holds is at most
/// [`MAX_MILLIS`](fairway_engine::time::MAX_MILLIS), or it is refused: what it generates, written
/// in the canonical format, reads back as the same jobs.
pub fn generate_with(
    spec: &SyntheticSpec,
    seed: u64,
    base: &Path,
    max_jobs: u64,
) -> Result<Workload, TraceError> {
    spec.validate()?;
    let bad = |key: &str, m: String| TraceError::config(&format!("synthetic trace: {key}"), m);
    if spec.jobs as u64 > max_jobs {
        return Err(bad(
            "jobs",
            format!("{} is more than the limit of {max_jobs}", spec.jobs),
        ));
    }
    let mut rng = Pcg64Mcg::seed_from_u64(spec.seed.unwrap_or(seed));
    let pool = match &spec.duration {
        Durations::Resample { path, scale } => {
            let p = base.join(path);
            let v = read_runtimes(&p)?;
            Some(v.into_iter().map(|s| s * scale).collect::<Vec<f64>>())
        }
        Durations::Lognormal { .. } => None,
    };
    let lognormal = match &spec.duration {
        Durations::Lognormal { median_s, sigma, .. } => Some(
            LogNormal::new(median_s.ln(), *sigma)
                .map_err(|e| TraceError::config("synthetic trace: duration", e.to_string()))?,
        ),
        Durations::Resample { .. } => None,
    };
    let max_s = match &spec.duration {
        Durations::Lognormal { max_s, .. } => max_s.unwrap_or(f64::MAX),
        Durations::Resample { .. } => f64::MAX,
    };
    let shape_pick = WeightedIndex::new(spec.shapes.iter().map(|s| s.weight))
        .map_err(|e| TraceError::config("synthetic trace: shapes", e.to_string()))?;
    let team_pick = WeightedIndex::new(spec.teams.iter().map(|t| t.weight))
        .map_err(|e| TraceError::config("synthetic trace: teams", e.to_string()))?;
    let (rate_per_ms, amplitude, peak_ms) = match spec.arrivals {
        Arrivals::Poisson { per_hour } => (per_hour / HOUR_MS, 0.0, 0.0),
        Arrivals::Daily {
            per_hour,
            peak_to_trough,
            peak_hour,
        } => (
            per_hour / HOUR_MS,
            (peak_to_trough - 1.0) / (peak_to_trough + 1.0),
            peak_hour * HOUR_MS,
        ),
    };
    // Thinning: candidates at the peak rate, kept with probability rate(t) / peak rate.
    let peak_rate = rate_per_ms * (1.0 + amplitude);
    let gap =
        Exp::new(peak_rate).map_err(|e| TraceError::config("synthetic trace: arrivals", e.to_string()))?;

    let mut b = WorkloadBuilder::new(format!("synthetic (seed {})", spec.seed.unwrap_or(seed)));
    let teams: Vec<_> = spec
        .teams
        .iter()
        .map(|t| b.team(&t.name).expect("few teams"))
        .collect();
    let mut t = 0.0f64;
    for i in 0..spec.jobs {
        loop {
            t += gap.sample(&mut rng);
            if t > MAX_MILLIS as f64 {
                return Err(bad(
                    "arrivals.per_hour",
                    format!(
                        "job {i} would arrive at {:e} s, past {}; raise per_hour or lower jobs",
                        t / 1000.0,
                        longest()
                    ),
                ));
            }
            let phase = 2.0 * std::f64::consts::PI * ((t - peak_ms) % DAY_MS) / DAY_MS;
            let keep = (1.0 + amplitude * phase.cos()) / (1.0 + amplitude);
            if amplitude == 0.0 || rng.random::<f64>() < keep {
                break;
            }
        }
        let shape = &spec.shapes[shape_pick.sample(&mut rng)];
        let ti = team_pick.sample(&mut rng);
        let secs = match (&pool, &lognormal) {
            (Some(p), _) => p[rng.random_range(0..p.len())],
            (None, Some(d)) => d.sample(&mut rng),
            (None, None) => unreachable!("one duration model is set"),
        };
        let Some(work) = fairway_engine::time::round_millis(secs.clamp(1.0, max_s) * 1000.0) else {
            let (key, fix) = if pool.is_some() {
                ("duration.scale", "lower scale")
            } else {
                ("duration.max_s", "set max_s")
            };
            return Err(bad(
                key,
                format!("job {i} would run {secs:e} s, past {}; {fix}", longest()),
            ));
        };
        let gpu_milli = (shape.gpus * f64::from(GPU_MILLI)).round() as u32;
        let gpus_for_size = shape.gpus.max(1.0);
        let pod = PodRequest {
            gpu_milli,
            cpu_milli: ((spec.cpu_per_gpu * gpus_for_size).max(1.0) * 1000.0).round() as u64,
            mem_mib: ((spec.memory_gib_per_gpu * gpus_for_size).max(1.0) * 1024.0).round() as u64,
        };
        let mut job = JobSpec::new(
            SimTime(t.round() as u64),
            SimDuration(work.max(1000)),
            shape.pods,
            pod,
            teams[ti],
        );
        job.priority = spec.teams[ti].priority;
        if spec.interactive_fraction > 0.0 && rng.random::<f64>() < spec.interactive_fraction {
            job.kind = JobKind::Interactive;
        }
        b.push(&format!("syn-{i:07}"), 0, job)
            .map_err(|e| TraceError::config("synthetic trace", e.to_string()))?;
    }
    if let Some(i) = &spec.interactive {
        // Its own random stream: adding sessions leaves the batch jobs as they were.
        let mut rng = Pcg64Mcg::seed_from_u64(spec.seed.unwrap_or(seed) ^ 0x696e_7465_7261_6374);
        let weights = WeightedIndex::new(spec.teams.iter().map(|t| t.weight))
            .map_err(|e| TraceError::config("synthetic trace: teams", e.to_string()))?;
        let room = max_jobs.saturating_sub(spec.jobs as u64);
        let starts = sessions(i, t, &mut rng, room).ok_or_else(|| {
            bad(
                "interactive.per_hour",
                format!(
                    "the sessions and the {} batch jobs would be more than {max_jobs} jobs",
                    spec.jobs
                ),
            )
        })?;
        for (k, start) in starts.into_iter().enumerate() {
            let len = LogNormal::new(i.median_s.ln(), i.sigma)
                .map_err(|e| TraceError::config("synthetic trace: interactive", e.to_string()))?
                .sample(&mut rng)
                .clamp(60.0, 7.0 * 86400.0);
            let gpu_milli = (i.gpus * f64::from(GPU_MILLI)).round() as u32;
            let size = i.gpus.max(1.0);
            let pod = PodRequest {
                gpu_milli,
                cpu_milli: ((spec.cpu_per_gpu * size).max(1.0) * 1000.0).round() as u64,
                mem_mib: ((spec.memory_gib_per_gpu * size).max(1.0) * 1024.0).round() as u64,
            };
            let ti = weights.sample(&mut rng);
            let mut job = JobSpec::new(
                SimTime(start),
                SimDuration((len * 1000.0).round() as u64),
                1,
                pod,
                teams[ti],
            );
            job.kind = JobKind::Interactive;
            job.priority = i.priority;
            job.gpu_util = Some(i.gpu_util as f32);
            b.push(&format!("int-{k:07}"), 0, job)
                .map_err(|e| TraceError::config("synthetic trace", e.to_string()))?;
        }
    }
    Ok(b.finish())
}

/// Start times (ms) of interactive sessions in [0, until_ms): Poisson at `per_hour` inside
/// working hours, none outside. `None` past `most` sessions.
fn sessions(i: &InteractiveSpec, until_ms: f64, rng: &mut Pcg64Mcg, most: u64) -> Option<Vec<u64>> {
    let gap = Exp::new(i.per_hour / HOUR_MS).expect("validated rate");
    let mut out = Vec::new();
    let mut day = 0u64;
    while (day as f64) * DAY_MS < until_ms {
        let weekday = day % 7 < 5;
        if weekday || !i.weekdays_only {
            let (open, close) = (
                day as f64 * DAY_MS + i.start_hour * HOUR_MS,
                day as f64 * DAY_MS + i.end_hour * HOUR_MS,
            );
            let mut t = open;
            loop {
                t += gap.sample(rng);
                if t >= close || t >= until_ms {
                    break;
                }
                if out.len() as u64 == most {
                    return None;
                }
                out.push(t.round() as u64);
            }
        }
        day += 1;
    }
    Some(out)
}

/// Run times in seconds, one per row (a non-numeric first row is a header). Zero run times are
/// kept and become the shortest run modelled (1 s).
pub fn read_runtimes(path: &Path) -> Result<Vec<f64>, TraceError> {
    let mut t = Table::open_with(path, false)?;
    let col = Table::positional(0, "runtime");
    let mut rec = csv::StringRecord::new();
    let mut out = Vec::new();
    let mut first = true;
    while let Some(row) = t.next(&mut rec)? {
        if first && row.str(col).parse::<f64>().is_err() {
            first = false;
            continue;
        }
        first = false;
        let v = row.f64(col)?;
        if v < 0.0 {
            return Err(row.err(col, format!("expected a run time in seconds >= 0, found '{v}'")));
        }
        out.push(v);
    }
    if out.is_empty() {
        return Err(TraceError::file(&t.file, "no run times found"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batch jobs every 6 minutes for four weeks; sessions at 10 per working hour, 9:00-18:00,
    /// Monday to Friday: 4 weeks x 5 days x 9 h x 10 = 1,800 expected. None at night or at the
    /// weekend; the batch jobs are the same with and without sessions.
    #[test]
    fn interactive_sessions_follow_working_hours() {
        let mut spec = SyntheticSpec::with_jobs(4 * 7 * 24 * 10);
        spec.arrivals = Arrivals::Poisson { per_hour: 10.0 };
        let batch = generate(&spec, 3, Path::new(".")).unwrap();
        spec.interactive = Some(toml::from_str("per_hour = 10.0\ngpus = 0.5").unwrap());
        let both = generate(&spec, 3, Path::new(".")).unwrap();
        let sessions: Vec<usize> = (0..both.len())
            .filter(|&i| both.jobs[i].kind == JobKind::Interactive)
            .collect();
        let n = sessions.len() as f64;
        assert!((n - 1800.0).abs() < 4.0 * 1800f64.sqrt(), "{n} sessions");
        for &i in &sessions {
            let j = &both.jobs[i];
            let h = j.submit.as_secs_f64() / 3600.0;
            let (day, hour) = ((h / 24.0).floor() as u64, h % 24.0);
            assert!(
                day % 7 < 5 && (9.0..18.0).contains(&hour),
                "{} at day {day} hour {hour}",
                &both.names[i]
            );
            assert_eq!((j.pod.gpu_milli, j.gpu_util), (500, Some(0.15)));
        }
        let batch_again: Vec<&JobSpec> = both.jobs.iter().filter(|j| j.kind == JobKind::Batch).collect();
        assert_eq!(batch_again.len(), batch.len());
        assert!(batch_again.iter().zip(&batch.jobs).all(|(a, b)| *a == b));
    }

    #[test]
    fn same_seed_same_trace_and_a_different_seed_differs() {
        let spec = SyntheticSpec::with_jobs(500);
        let a = generate(&spec, 1, Path::new(".")).unwrap();
        let b = generate(&spec, 1, Path::new(".")).unwrap();
        let c = generate(&spec, 2, Path::new(".")).unwrap();
        assert_eq!(a.jobs, b.jobs);
        assert_ne!(a.jobs, c.jobs);
    }

    #[test]
    fn poisson_rate_and_lognormal_median_come_out_as_asked() {
        let mut spec = SyntheticSpec::with_jobs(20_000);
        spec.arrivals = Arrivals::Poisson { per_hour: 120.0 };
        spec.duration = Durations::Lognormal {
            median_s: 600.0,
            sigma: 1.0,
            max_s: None,
        };
        let w = generate(&spec, 7, Path::new(".")).unwrap();
        let span_h = w.jobs.last().unwrap().submit.as_secs_f64() / 3600.0;
        let rate = w.len() as f64 / span_h;
        assert!((rate - 120.0).abs() < 3.0, "rate {rate}");
        let mut d: Vec<f64> = w.jobs.iter().map(|j| j.work.as_secs_f64()).collect();
        let med = fairway_engine::stats::Summary::of(&mut d).unwrap().p50;
        assert!((med - 600.0).abs() < 25.0, "median {med}");
        // Shape weights: 60 % of jobs have one whole GPU.
        let ones = w
            .jobs
            .iter()
            .filter(|j| j.pod.gpu_milli == 1000 && j.pods == 1)
            .count() as f64;
        assert!((ones / w.len() as f64 - 0.6).abs() < 0.02);
    }

    #[test]
    fn the_daily_cycle_makes_peak_hours_busier() {
        let mut spec = SyntheticSpec::with_jobs(30_000);
        spec.arrivals = Arrivals::Daily {
            per_hour: 100.0,
            peak_to_trough: 4.0,
            peak_hour: 12.0,
        };
        let w = generate(&spec, 3, Path::new(".")).unwrap();
        let mut by_hour = [0usize; 24];
        for j in &w.jobs {
            by_hour[((j.submit.as_secs_f64() / 3600.0) % 24.0) as usize] += 1;
        }
        // Rate at noon is 4x the rate at midnight (amplitude 0.6: 1.6 vs 0.4).
        let ratio = by_hour[12] as f64 / by_hour[0] as f64;
        assert!((3.0..5.3).contains(&ratio), "ratio {ratio}, {by_hour:?}");
    }

    #[test]
    fn bad_parameters_name_their_key() {
        let mut spec = SyntheticSpec::with_jobs(10);
        spec.shapes[0].gpus = 1.5;
        let e = generate(&spec, 1, Path::new(".")).unwrap_err().to_string();
        assert!(e.starts_with("synthetic trace: shapes[0].gpus: must be"), "{e}");
        let mut spec = SyntheticSpec::with_jobs(10);
        spec.arrivals = Arrivals::Poisson { per_hour: 0.0 };
        let e = generate(&spec, 1, Path::new(".")).unwrap_err().to_string();
        assert_eq!(e, "synthetic trace: arrivals.per_hour: must be > 0, found 0");
    }
}
