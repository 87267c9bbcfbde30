//! `fairway validate`: what a scenario or sweep file would do, checked in full but not run.

use super::StudyError;
use crate::Scenario;
use crate::sweep::{Sweep, is_sweep_file};
use fairway_engine::resources::fmt_milli;
use fairway_policies::Registry;
use fairway_reports::escape::terminal;
use std::fmt::Write as _;
use std::path::Path;

/// What validation found.
#[derive(Debug)]
pub struct Validation {
    /// The readers' warnings.
    pub warnings: Vec<String>,
    /// What the file describes, as the terminal shows it, ending with `ok`.
    pub text: String,
}

/// Checks a scenario or sweep file: files, names, parameters, jobs that can never fit. A sweep's
/// every point resolves its policies, and its first point is resolved in full.
pub fn validate(path: &Path, registry: &Registry) -> Result<Validation, StudyError> {
    let mut text = String::new();
    if is_sweep_file(path)? {
        let sw = Sweep::load(path)?;
        let runs = sw.runs();
        let axes: Vec<String> = sw
            .axes
            .iter()
            .map(|a| format!("{} ({} values)", a.keys.join(" + "), a.steps.len()))
            .collect();
        let _ = writeln!(
            text,
            "sweep     {} ({}): {} runs = {} points x {} seeds",
            sw.name,
            path.display(),
            runs.len(),
            runs.len() / sw.seeds.len().max(1),
            sw.seeds.len()
        );
        let _ = writeln!(text, "varies    {}", axes.join(", "));
        let policies = sw.policies(registry)?;
        let first = sw.scenario(&runs[0])?;
        let p = policies[&first.policies_key()?].clone();
        let r = first.resolve_using(p)?;
        text.push_str("ok\n");
        return Ok(Validation {
            warnings: r.warnings,
            text,
        });
    }
    let scenario = Scenario::load(path)?;
    let r = scenario.resolve_using(scenario.policies(registry)?)?;
    let gpus: u64 = r.cluster.capacity_gpu_milli();
    let _ = writeln!(text, "scenario  {} ({})", scenario.name, path.display());
    let _ = writeln!(
        text,
        "trace     {} jobs, {} teams, from {}",
        r.workload.len(),
        r.workload.teams.len(),
        terminal(&r.workload.source)
    );
    let _ = writeln!(
        text,
        "cluster   {} pools, {} nodes, {} GPUs ({})",
        r.cluster.pools().len(),
        r.cluster.node_count(),
        fmt_milli(gpus),
        terminal(&r.cluster.models().join(", "))
    );
    let _ = writeln!(
        text,
        "policy    {}  placement {}",
        terminal(r.policies.policy.label()),
        terminal(r.policies.placement.label())
    );
    let never = r.never_fitting();
    if never.is_empty() {
        text.push_str("every job fits on the cluster\n");
    } else {
        let _ = writeln!(
            text,
            "{} jobs can never fit and will be reported unschedulable, e.g.:",
            never.len()
        );
        for (i, why) in never.iter().take(5) {
            let name = &r.workload.names[*i];
            let _ = writeln!(text, "  {}: {}", terminal(name), terminal(why));
        }
    }
    text.push_str("ok\n");
    Ok(Validation {
        warnings: r.warnings,
        text,
    })
}
