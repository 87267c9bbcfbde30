//! One scenario into its output folder: a replay (tables streamed to disk as the run goes, then
//! the report drawn from them), a bake-off (a folder per policy and `bakeoff.csv`), or the
//! inflation experiment.

use super::{Executor, StudyError, all_or_stopped, run_info};
use crate::{Resolved, Scenario};
use fairway_policies::Registry;
use fairway_reports::RunSummary;
use fairway_reports::inflation::InflationSummary;
use fairway_reports::render::RenderOptions;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The output folder.
    pub out: PathBuf,
    /// Render the report after the run (`None`: the summary and tables only).
    pub render: Option<RenderOptions>,
    /// Write into a folder that is not empty and holds no earlier output.
    pub force: bool,
}

/// What a run produced.
#[derive(Debug)]
pub enum RunReport {
    Replay {
        summary: Box<RunSummary>,
        /// Events the engine applied, and the time the simulation took.
        events: u64,
        elapsed: Duration,
    },
    Bakeoff {
        summaries: Vec<RunSummary>,
    },
    Inflation {
        summary: InflationSummary,
    },
}

impl RunReport {
    /// The tables people read, as the terminal shows them.
    pub fn render(&self) -> String {
        match self {
            RunReport::Replay { summary, .. } => fairway_reports::render(summary),
            RunReport::Bakeoff { summaries } => fairway_reports::bakeoff::render(summaries),
            RunReport::Inflation { summary } => fairway_reports::inflation::render(summary),
        }
    }
}

/// Resolves `scenario` in `registry`, returning its reader warnings before anything runs.
pub fn prepare(scenario: &Scenario, registry: &Registry) -> Result<Resolved, StudyError> {
    Ok(scenario.resolve_using(scenario.policies(registry)?)?)
}

/// Runs a resolved scenario into `opts.out`.
pub fn run(resolved: &Resolved, opts: &RunOptions, exec: &Executor) -> Result<RunReport, StudyError> {
    let scenario = &resolved.scenario;
    let info = run_info(scenario);
    let dir = &opts.out;
    let claim = fairway_reports::output::claim(dir, opts.force, &scenario.digest())?;
    if let Some(cfg) = &scenario.inflation {
        let curves = resolved.inflation()?;
        let summary = fairway_reports::inflation::summarize(&curves, &info, cfg.target);
        fairway_reports::inflation::write_inflation(dir, &resolved.workload, &curves, &summary)?;
        claim.complete()?;
        return Ok(RunReport::Inflation { summary });
    }
    if scenario.bakeoff.is_some() {
        let summaries = bakeoff(resolved, &info, dir, exec)?;
        claim.complete()?;
        return Ok(RunReport::Bakeoff { summaries });
    }
    // The series goes to disk as the run makes it; the job table a batch at a time after.
    let shape =
        fairway_reports::frame::SeriesShape::of(&resolved.workload, resolved.options.track_fragmentation);
    let mut series = fairway_reports::SeriesFiles::create(dir, shape)?;
    let started = Instant::now();
    let outcome = resolved.run_streaming(&mut series, &|done, total| exec.report(done, total))?;
    let elapsed = started.elapsed();
    series.finish()?;
    let summary = fairway_reports::summarize(&resolved.workload, &outcome, &info);
    fairway_reports::write_outcome(dir, &resolved.workload, &outcome, &summary)?;
    write_policy_outputs(dir, &resolved.policies.policy)?;
    let events = outcome.counters.events;
    drop(outcome);
    claim.complete()?;
    if let Some(render) = opts.render {
        fairway_reports::render::render_in(dir, render)?;
    }
    Ok(RunReport::Replay {
        summary: Box::new(summary),
        events,
        elapsed,
    })
}

/// A bake-off's folder for one (policy, placement): numbered in the order listed, named by the
/// labels with every character but letters, digits and '-' as '_'.
fn bakeoff_folder(i: usize, policy: &str, placement: &str) -> String {
    let name: String = format!("{policy}-{placement}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{:02}-{name}", i + 1)
}

/// Runs every (policy, placement) of the bake-off, each writing its folder as it finishes, then
/// `bakeoff.csv` with one row per pair, in the order listed.
fn bakeoff(
    resolved: &Resolved,
    info: &fairway_reports::RunInfo,
    dir: &Path,
    exec: &Executor,
) -> Result<Vec<RunSummary>, StudyError> {
    let pairs: Vec<(usize, _)> = resolved.policies.bakeoff.iter().enumerate().collect();
    let results = exec.map(
        &pairs,
        |(i, (policy, placement))| -> Result<RunSummary, StudyError> {
            let o = resolved.run_with(policy, placement)?;
            let s = fairway_reports::summarize(&resolved.workload, &o, info);
            let folder = bakeoff_folder(*i, &o.policy, &o.placement);
            fairway_reports::write_run(&dir.join(&folder), &resolved.workload, &o, &s)?;
            write_policy_outputs(&dir.join(folder), policy)?;
            Ok(s)
        },
    );
    let kept = format!("; their folders are in {}", dir.display());
    let summaries = all_or_stopped(results, &kept)?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    fairway_reports::write_atomic(&dir.join("bakeoff.csv"), |f| {
        fairway_reports::bakeoff::bakeoff_csv(f, &summaries)
    })?;
    Ok(summaries)
}

/// The files the policy's resolution asked every run to write (the effective Kueue manifests
/// and their diff against the input), into the run's folder.
pub(crate) fn write_policy_outputs(
    dir: &Path,
    policy: &fairway_policies::registry::ResolvedPolicy,
) -> Result<(), StudyError> {
    for (rel, text) in policy.outputs() {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| StudyError::Io {
                file: parent.display().to_string(),
                action: "create",
                source,
            })?;
        }
        fairway_reports::write_atomic(&path, |w| w.write_all(text.as_bytes()))?;
    }
    Ok(())
}
