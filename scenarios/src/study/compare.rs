//! The CI gate: a candidate against a baseline, each a finished run's folder or a scenario to
//! run over seeds.

use super::{Executor, StudyError, seeds::replicate};
use crate::Scenario;
use fairway_policies::Registry;
use fairway_reports::RunSummary;
use fairway_reports::compare::{Check, Outcome, evaluate, junit, markdown};
use std::path::Path;

/// What the gate found.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub outcomes: Vec<Outcome>,
    /// Seeds a side (the larger of the two).
    pub seeds: usize,
    /// The Markdown summary.
    pub markdown: String,
    /// The checks as JUnit XML.
    pub junit: String,
}

impl Verdict {
    /// Every check holds.
    pub fn passed(&self) -> bool {
        self.outcomes.iter().all(|o| o.passed)
    }
}

/// One side: the summary of a finished run (a folder), or of a scenario run with `seeds` seeds.
pub fn side(
    path: &Path,
    seeds: u64,
    registry: &Registry,
    exec: &Executor,
) -> Result<Vec<RunSummary>, StudyError> {
    if path.is_dir() {
        return Ok(vec![RunSummary::read(path)?]);
    }
    let scenario = Scenario::load(path)?;
    if scenario.bakeoff.is_some() || scenario.inflation.is_some() {
        return Err(StudyError::Unsuited(format!(
            "{}: compare takes a plain scenario, not a bake-off or an inflation experiment",
            path.display()
        )));
    }
    let policies = scenario.policies(registry)?;
    replicate(&scenario, &policies, &[], seeds, exec)
}

/// Compares `candidate` with `baseline` on every check (and, with `per_team`, for every team
/// both have).
pub fn compare(
    baseline: &Path,
    candidate: &Path,
    checks: &[Check],
    per_team: bool,
    seeds: u64,
    registry: &Registry,
    exec: &Executor,
) -> Result<Verdict, StudyError> {
    let b = side(baseline, seeds, registry, exec)?;
    let c = side(candidate, seeds, registry, exec)?;
    let outcomes = evaluate(checks, &b, &c, per_team)?;
    let seeds = b.len().max(c.len());
    Ok(Verdict {
        markdown: markdown(
            &outcomes,
            &baseline.display().to_string(),
            &candidate.display().to_string(),
            seeds,
        ),
        junit: junit(&outcomes),
        outcomes,
        seeds,
    })
}
