//! Studies: everything that runs a scenario more than once, or runs it and writes its folder,
//! as library calls the binary makes one of per subcommand.
//!
//! - [`run::run`]: one scenario (a replay, a bake-off or an inflation experiment) into its folder;
//! - [`seeds::replicate`]: a scenario over several seeds, with nodes added to pools;
//! - [`compare::compare`]: the CI gate between two runs or scenarios;
//! - [`sweep::run_sweep`]: every point of a sweep, resumable and shardable;
//! - [`plan::plan`]: the capacity search;
//! - [`validate::validate`]: what a scenario or sweep file would do, without running it.
//!
//! All of them run simulations on one [`Executor`], which the binary stops on Ctrl-C; policies
//! are resolved once per study (Kueue's manifests read once), and each run builds fresh
//! instances from them.

pub mod compare;
mod exec;
pub mod import;
pub mod plan;
pub mod run;
pub mod seeds;
pub mod sweep;
#[cfg(test)]
mod tests;
pub mod validate;

pub use exec::{Executor, Progress};

use crate::ScenarioError;
use fairway_reports::metric::AmountError;
use fairway_reports::render::RenderError;
use fairway_reports::sweep::SweepTableError;
use fairway_reports::{SummaryError, WriteError};

/// Why a study could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StudyError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Summary(#[from] SummaryError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Amount(#[from] AmountError),
    #[error(transparent)]
    SweepTable(#[from] SweepTableError),
    #[error(transparent)]
    Gate(#[from] fairway_reports::compare::Unevaluable),
    #[error("{file}: cannot {action}: {source}")]
    Io {
        file: String,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// An argument of the study (a range, a price, a shard) that cannot be used.
    #[error("{what} takes {expected}, not '{got}'")]
    Argument {
        what: &'static str,
        expected: String,
        got: String,
    },
    /// A study that cannot be asked of this input.
    #[error("{0}")]
    Unsuited(String),
    /// One run of a sweep failed.
    #[error("run {run} of the sweep")]
    SweepRun {
        run: usize,
        #[source]
        source: Box<StudyError>,
    },
    /// The stop flag was set: runs under way finished; `kept` says where finished ones are.
    #[error("stopped: {finished} of {total} runs finished{kept}")]
    Interrupted {
        finished: usize,
        total: usize,
        kept: String,
    },
}

/// The labels of a run that come from its scenario.
pub fn run_info(sc: &crate::Scenario) -> fairway_reports::RunInfo {
    fairway_reports::RunInfo {
        scenario: sc.name.clone(),
        seed: sc.seed,
        trace: sc
            .trace
            .path
            .as_ref()
            .map_or_else(|| "synthetic".to_string(), |p| p.display().to_string()),
        interactive_target_s: sc.interactive.target_start_s,
    }
}

/// The results of a batch, or [`StudyError::Interrupted`] if the stop flag kept any from
/// starting.
fn all_or_stopped<R>(results: Vec<Option<R>>, kept: &str) -> Result<Vec<R>, StudyError> {
    let total = results.len();
    let finished = results.iter().filter(|r| r.is_some()).count();
    if finished < total {
        return Err(StudyError::Interrupted {
            finished,
            total,
            kept: kept.to_string(),
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// `fairway gen`: a synthetic trace in the canonical CSV format at `out` (written whole or not
/// at all). The generator's settings come from `spec` (a `[trace.synthetic]` table), else 1,000
/// jobs of the defaults; `jobs` and `per_hour` (Poisson arrivals) override them. Returns the
/// number of jobs written.
pub fn generate(
    spec: Option<&std::path::Path>,
    jobs: Option<usize>,
    per_hour: Option<f64>,
    seed: u64,
    out: &std::path::Path,
) -> Result<usize, StudyError> {
    use fairway_traces::SyntheticSpec;
    let trace_err = |e: fairway_traces::TraceError| StudyError::Scenario(e.into());
    let (mut s, base) = match spec {
        Some(p) => {
            let s: SyntheticSpec = fairway_traces::tomlfile::read(p).map_err(trace_err)?;
            (
                s,
                p.parent().map(std::path::Path::to_path_buf).unwrap_or_default(),
            )
        }
        None => (
            SyntheticSpec::with_jobs(jobs.unwrap_or(1000)),
            std::path::PathBuf::new(),
        ),
    };
    if let Some(j) = jobs {
        s.jobs = j;
    }
    if let Some(r) = per_hour {
        s.arrivals = fairway_traces::synthetic::Arrivals::Poisson { per_hour: r };
    }
    let w = fairway_traces::synthetic::generate(&s, seed, &base).map_err(trace_err)?;
    fairway_reports::write_atomic(out, |f| {
        fairway_traces::write::canonical(&w, f).map_err(std::io::Error::other)
    })?;
    Ok(w.len())
}
