//! Policies on the engine: textbook cases computed by hand, and invariants over random traces.

mod invariants;
mod textbook;
mod zoo;

use fairway_engine::*;
use fairway_policies::{placement, policy};

/// A job for the tests: (submit s, duration s, GPUs per pod, priority).
pub type J = (u64, u64, u32, i32);

/// One team, single-pod whole-GPU jobs.
pub fn workload(jobs: &[J]) -> Workload {
    build(
        &["t"],
        jobs.iter()
            .map(|&(submit, dur, gpus, prio)| (submit, dur, gpus, 0, prio, None)),
    )
}

/// Single-pod whole-GPU jobs with 1 CPU and 1 GiB per pod, named j1, j2, ...:
/// (submit s, duration s, GPUs, team index into `teams`, priority, runtime estimate s).
pub fn build(
    teams: &[&str],
    jobs: impl Iterator<Item = (u64, u64, u32, usize, i32, Option<u64>)>,
) -> Workload {
    let mut b = WorkloadBuilder::new("test");
    let ids: Vec<TeamId> = teams.iter().map(|t| b.team(t).unwrap()).collect();
    for (i, (submit, dur, gpus, team, prio, est)) in jobs.enumerate() {
        let pod = PodRequest {
            gpu_milli: gpus * 1000,
            cpu_milli: 1000,
            mem_mib: 1024,
        };
        let mut spec = JobSpec::new(
            SimTime::from_secs(submit),
            SimDuration::from_secs(dur),
            1,
            pod,
            ids[team],
        );
        spec.priority = prio;
        spec.estimate = est.map(SimDuration::from_secs).into();
        b.push(&format!("j{}", i + 1), i as u32 + 2, spec).unwrap();
    }
    b.finish()
}

pub fn one_node(gpus: u32) -> Cluster {
    Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("n", Some("H100"), 1, gpus, 64, 512)],
    })
    .unwrap()
}

/// Runs with the engine's audit on.
pub fn run(w: &Workload, c: Cluster, pol: &str, place: &str) -> Outcome {
    let opts = EngineOptions {
        audit: true,
        ..EngineOptions::default()
    };
    run_with(w, c, pol, place, opts, &[])
}

/// Runs with these options and node outages (node, down, up).
pub fn run_with(
    w: &Workload,
    c: Cluster,
    pol: &str,
    place: &str,
    opts: EngineOptions,
    outages: &[(NodeId, SimTime, Option<SimTime>)],
) -> Outcome {
    let p = policy(&pol.parse().unwrap(), 1).unwrap_or_else(|e| panic!("{pol}: {e}"));
    let pl = placement(&place.parse().unwrap(), 1).unwrap();
    let mut sim = Simulation::new(w, c, p, pl, opts).unwrap();
    for &(n, down, up) in outages {
        sim.add_outage(n, down, up);
    }
    sim.run().unwrap_or_else(|e| panic!("{pol} + {place}: {e}"))
}

/// Wait of each job in seconds (first start - submit).
pub fn waits(w: &Workload, o: &Outcome) -> Vec<u64> {
    o.jobs
        .iter()
        .zip(&w.jobs)
        .map(|(r, j)| r.first_start().expect("started").since(j.submit).millis() / 1000)
        .collect()
}
