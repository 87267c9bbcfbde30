//! A policy written outside fairway's crates, registered by name, and run on a scenario:
//! `cargo run --release -p fairway-example-custom-policy -- scenarios/catalog/quickstart.toml`
//! replays the scenario's trace on its cluster under `largest-first` and prints the summary.

use fairway_engine::{Cycle, JobSpec, Policy};
use fairway_policies::registry::{Args, ParamDecl, PolicyEntry, Registry, RegistryError, each_run};
use fairway_scenarios::Scenario;
use fairway_scenarios::study::{self, Executor};

/// Largest job first: each pass starts the pending jobs that fit, biggest first (ties: submit
/// order), skipping those that do not fit now.
struct LargestFirst {
    by_gpu_hours: bool,
}

impl LargestFirst {
    /// A job's size: GPUs over all its pods, or those GPUs times its run time.
    fn size(&self, job: &JobSpec) -> u128 {
        let gpus = u128::from(job.gpu_milli());
        if self.by_gpu_hours {
            gpus * u128::from(job.work.millis())
        } else {
            gpus
        }
    }
}

impl Policy for LargestFirst {
    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        let mut order: Vec<_> = cx
            .pending()
            .iter()
            .copied()
            .filter(|&j| cx.is_pending(j))
            .collect();
        // Stable: equal sizes keep the queue's submit order.
        order.sort_by_key(|&j| std::cmp::Reverse(self.size(cx.job(j))));
        for job in order {
            cx.try_start(job);
        }
    }
}

/// The entry: its name, its one parameter (declared once: parsing, `fairway list` text and the
/// label all come from here), and how each run's instance is built.
const LARGEST_FIRST: PolicyEntry = PolicyEntry {
    name: "largest-first",
    summary: "the biggest pending jobs first, skipping those that do not fit",
    params: &[ParamDecl::choice(
        "by",
        &["gpus", "gpu-hours"],
        "gpus",
        "GPUs asked, or GPUs x run time",
    )],
    resolve: largest_first,
};

fn largest_first(
    args: &Args,
    _: &fairway_policies::Setup,
) -> Result<fairway_policies::registry::MakePolicy, RegistryError> {
    let by_gpu_hours = args.choice("by")? == "gpu-hours";
    Ok(each_run(move |_seed| LargestFirst { by_gpu_hours }))
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: fairway-example-custom-policy SCENARIO.toml"))?;
    let mut registry = Registry::builtin();
    registry.add_policy(LARGEST_FIRST)?;

    // The scenario's trace and cluster, under the new policy.
    let mut scenario = Scenario::load(path.as_ref())?;
    scenario.policy.name = "largest-first".into();
    scenario.policy.params.clear();
    scenario.policy.manifests = None;
    let resolved = study::run::prepare(&scenario, &registry)?;
    let opts = study::run::RunOptions {
        out: std::path::Path::new("runs").join(format!("{}-largest-first", scenario.name)),
        render: None,
        force: false,
    };
    let report = study::run::run(&resolved, &opts, &Executor::default())?;
    print!("{}", report.render());
    eprintln!("\nwrote {}", opts.out.display());
    Ok(())
}
