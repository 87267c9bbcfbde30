//! Random queues for checking an indexed pass against a walk over the whole queue: both run the
//! same workload and must start and preempt the same jobs at the same instants.

use fairway_engine::{
    Cluster, ClusterSpec, EngineOptions, JobSpec, ModelSet, NodeId, Outcome, PodRequest, Policy, PoolSpec,
    SimDuration, SimTime, Simulation, WorkloadBuilder,
};
use proptest::prelude::*;

/// One job: submit (s), run time (s), pods, milli-GPU a pod, allowed model, patience (s),
/// estimate (per cent of the run time), priority, team.
pub(crate) type Raw = (u64, u64, u32, u32, Option<u8>, Option<u64>, u64, i32, u8);

/// Jobs of a few shapes (so that shapes repeat), arriving spread out or in bursts at one instant.
pub(crate) fn jobs() -> impl Strategy<Value = Vec<Raw>> {
    let gpu = prop_oneof![(1u32..=999), (1u32..=4).prop_map(|g| g * 1000), Just(8000)];
    prop::collection::vec(
        (
            prop_oneof![0u64..50, (0u64..20).prop_map(|t| t * 30)],
            1u64..400,
            1u32..=3,
            gpu,
            prop::option::weighted(0.2, 0u8..2),
            prop::option::weighted(0.1, 1u64..300),
            20u64..300,
            0i32..3,
            0u8..4,
        ),
        1..80,
    )
}

pub(crate) fn placements() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("first-fit"), Just("best-fit"), Just("random")]
}

/// Runs `policy` on the jobs on `nodes` 4-GPU nodes plus one 8-GPU node of another model, with
/// checkpoints, restart costs and the engine's audit.
pub(crate) fn run(jobs: &[Raw], nodes: u32, placement: &str, policy: Box<dyn Policy>) -> Outcome {
    run_with_outage(jobs, nodes, placement, policy, None)
}

/// `run`, with node 0 down over `(from, for)` seconds if given (its jobs are preempted and
/// queued again).
pub(crate) fn run_with_outage(
    jobs: &[Raw],
    nodes: u32,
    placement: &str,
    policy: Box<dyn Policy>,
    outage: Option<(u64, u64)>,
) -> Outcome {
    try_run_with_outage(jobs, nodes, placement, policy, outage, None).unwrap()
}

/// `run_with_outage`, returning the engine's error, with at most `max_preemptions_per_job`
/// preemptions of a job (a run that thrashes stops there) if given.
pub(crate) fn try_run_with_outage(
    jobs: &[Raw],
    nodes: u32,
    placement: &str,
    policy: Box<dyn Policy>,
    outage: Option<(u64, u64)>,
    max_preemptions_per_job: Option<u32>,
) -> Result<Outcome, fairway_engine::EngineError> {
    let spec = ClusterSpec {
        pools: vec![
            PoolSpec::new("a", Some("A100"), nodes, 4, 64, 512),
            PoolSpec::new("h", Some("H100"), 1, 8, 64, 512),
        ],
    };
    let cluster = Cluster::new(&spec).unwrap();
    let mut b = WorkloadBuilder::new("random");
    let teams = ["a", "b", "c", "d"].map(|t| b.team(t).unwrap());
    for (i, &(submit, secs, pods, gpu_milli, model, patience, estimate, priority, team)) in
        jobs.iter().enumerate()
    {
        let pod = PodRequest {
            gpu_milli,
            cpu_milli: 1000,
            mem_mib: 1024,
        };
        let mut s = JobSpec::new(
            SimTime::from_secs(submit),
            SimDuration::from_secs(secs),
            pods,
            pod,
            teams[usize::from(team)],
        );
        s.patience = patience.map(SimDuration::from_secs).into();
        s.estimate = SimDuration::from_secs(secs * estimate / 100 + 1).into();
        s.priority = priority;
        if let Some(m) = model {
            s.models = ModelSet::ANY.with(b.model(["A100", "H100"][usize::from(m)]).unwrap());
        }
        b.push(&format!("j{i}"), i as u32, s).unwrap();
    }
    let mut w = b.finish();
    w.bind_models(&cluster).unwrap();
    let pl = crate::placement(&placement.parse().unwrap(), 7).unwrap();
    let opts = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(30)),
        restart_overhead: SimDuration::from_secs(2),
        audit: true,
        max_preemptions_per_job,
        ..EngineOptions::default()
    };
    let mut sim = Simulation::new(&w, cluster, policy, pl, opts).unwrap();
    if let Some((from, len)) = outage {
        let down = SimTime::from_secs(from);
        sim.add_outage(NodeId(0), down, Some(down + SimDuration::from_secs(len)));
    }
    sim.run()
}

/// Both runs started, preempted and ended every job at the same instants, and made the same
/// number of passes.
pub(crate) fn same_decisions(a: &Outcome, b: &Outcome) -> Result<(), TestCaseError> {
    let times = |o: &Outcome| -> Vec<_> {
        (o.jobs.iter())
            .map(|r| (r.status, r.first_start(), r.last_start(), r.end(), r.preemptions))
            .collect()
    };
    prop_assert_eq!(times(a), times(b));
    let log = |o: &Outcome| -> Vec<_> { o.preemption_log.iter().map(|p| (p.time, p.job, p.by)).collect() };
    prop_assert_eq!(log(a), log(b));
    prop_assert_eq!(a.counters.passes, b.counters.passes);
    Ok(())
}
