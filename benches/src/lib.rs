//! Shared set-up for the benchmarks: workloads and clusters of a stated size.

use fairway_engine::{Cluster, ClusterSpec, EngineOptions, Outcome, PoolSpec, Simulation, Workload};
use fairway_traces::SyntheticSpec;
use fairway_traces::synthetic::{Arrivals, generate};
use std::path::Path;

/// A synthetic workload of `jobs` jobs with the generator's default mix (mean 2.66 GPUs per job,
/// median run 30 min), arriving at `per_hour` jobs an hour.
pub fn workload(jobs: usize, per_hour: f64, seed: u64) -> Workload {
    let mut spec = SyntheticSpec::with_jobs(jobs);
    spec.arrivals = Arrivals::Poisson { per_hour };
    generate(&spec, seed, Path::new(".")).expect("valid spec")
}

/// The arrival rate (jobs an hour) at which the generator's default mix offers `load` (0..1) of
/// `gpus` GPUs: measured on a 20,000-job sample of the mix.
pub fn per_hour_for_load(load: f64, gpus: f64) -> f64 {
    let sample = workload(20_000, 1.0, 7);
    let gpu_hours: f64 = (sample.jobs.iter())
        .map(|j| j.gpu_milli() as f64 / 1000.0 * j.work.as_secs_f64() / 3600.0)
        .sum::<f64>()
        / sample.len() as f64;
    load * gpus / gpu_hours
}

/// `nodes` H100 nodes of 8 GPUs, 128 vCPU, 1 TiB.
pub fn cluster(nodes: u32) -> Cluster {
    Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("h100", Some("H100"), nodes, 8, 128, 1024)],
    })
    .expect("valid cluster")
}

/// Runs `policy` with `placement` (registry names) to the end.
pub fn run(w: &Workload, c: &Cluster, policy: &str, placement: &str) -> Outcome {
    let p = fairway_policies::policy(&policy.parse().expect("spec"), 1).expect("policy");
    let pl = fairway_policies::placement(&placement.parse().expect("spec"), 1).expect("placement");
    Simulation::new(w, c.clone(), p, pl, EngineOptions::default())
        .expect("valid")
        .run()
        .expect("runs")
}
