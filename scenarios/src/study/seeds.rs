//! A scenario over several seeds, optionally with nodes added to pools: what `compare --seeds`
//! and every point of a plan run.

use super::{Executor, StudyError, all_or_stopped, run_info};
use crate::{Policies, Scenario};
use fairway_reports::RunSummary;

/// Nodes to add to a pool (negative: to remove).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddNodes {
    pub pool: String,
    pub nodes: i64,
}

/// The summaries of `scenario` with `adds` applied, one per seed (its seed and the next
/// `seeds - 1`), in seed order. The policies are resolved once by the caller and shared.
pub fn replicate(
    scenario: &Scenario,
    policies: &Policies,
    adds: &[AddNodes],
    seeds: u64,
    exec: &Executor,
) -> Result<Vec<RunSummary>, StudyError> {
    let offsets: Vec<u64> = (0..seeds.max(1)).collect();
    let results = exec.map(&offsets, |&i| -> Result<RunSummary, StudyError> {
        let mut sc = scenario.clone();
        sc.seed = scenario.seed.wrapping_add(i);
        for a in adds.iter().filter(|a| a.nodes != 0) {
            sc.whatif.push(crate::whatif::WhatIf::AddNodes {
                pool: a.pool.clone(),
                nodes: a.nodes,
            });
        }
        let r = sc.resolve_using(policies.clone())?;
        let o = r.run()?;
        Ok(fairway_reports::summarize(&r.workload, &o, &run_info(&sc)))
    });
    all_or_stopped(results, "")?.into_iter().collect()
}
