//! The real openb trace, replayed at its recorded start times on its own cluster, reproduces the
//! facts measured from the file itself (see traces/data/README.md).

use crate::common::data;
use fairway_engine::stats::Summary;
use fairway_engine::{Cluster, EngineOptions, JobStatus, ModelSet, Simulation};
use fairway_traces::{ClusterFormat, TraceFormat, cluster, read};

#[test]
fn recorded_start_replay_reproduces_the_trace() {
    let loaded = read(&data("openb/openb_pod_list_default.csv"), TraceFormat::Openb).unwrap();
    let mut w = loaded.workload;
    assert_eq!(w.len(), 8152);
    let spec = cluster::read(&data("openb/openb_node_list_all_node.csv"), None).unwrap();
    assert_eq!(spec.pools.iter().map(|p| p.nodes).sum::<u32>(), 1523);
    assert_eq!(
        spec.pools.iter().map(|p| p.nodes * p.gpus_per_node).sum::<u32>(),
        6212
    );
    let c = Cluster::new(&spec).unwrap();
    w.bind_models(&c).unwrap();
    let policy = fairway_policies::policy(&"replay".parse().unwrap(), 0).unwrap();
    let place = fairway_policies::placement(&"first-fit".parse().unwrap(), 0).unwrap();
    let o = Simulation::new(&w, c, policy, place, EngineOptions::default())
        .unwrap()
        .run()
        .unwrap();

    // Every scheduled pod started exactly when the trace says; the 897 never-scheduled ones gave up.
    let mut waits = Vec::new();
    for (r, j) in o.jobs.iter().zip(&w.jobs) {
        match j.recorded_start.get() {
            Some(s) => {
                assert_eq!(r.first_start(), Some(s));
                waits.push(s.since(j.submit).as_secs_f64());
            }
            None => assert_eq!(r.status, JobStatus::Abandoned),
        }
    }
    assert_eq!(waits.len(), 7255);
    let s = Summary::of(&mut waits).unwrap();
    assert!((s.mean - 61.3).abs() < 0.05, "mean {}", s.mean);
    assert_eq!((s.p50, s.max), (2.0, 14_330.0));
    assert!(
        (s.p95 - 241.0).abs() < 1.0 && (s.p99 - 890.0).abs() < 1.0,
        "{s:?}"
    );
    // Peak allocation: 65.6 GPUs.
    let peak = o
        .series
        .iter()
        .filter(|p| p.team.is_none())
        .map(|p| p.level.gpu_milli)
        .max()
        .unwrap();
    assert_eq!((peak + 50) / 100, 656, "peak {peak} milli-GPU");
    assert_eq!(o.counters.abandonments, 897);
}

#[test]
fn gpu_spec_constraints_are_sets_and_pod_1639_can_never_run() {
    let loaded = read(&data("openb/openb_pod_list_gpuspec33.csv"), TraceFormat::Openb).unwrap();
    let mut w = loaded.workload;
    let constrained = w.jobs.iter().filter(|j| !j.models.is_any()).count();
    assert_eq!(constrained, 2388);
    let spec = cluster::read(
        &data("openb/openb_node_list_gpu_node.csv"),
        Some(ClusterFormat::OpenbNodes),
    )
    .unwrap();
    let c = Cluster::new(&spec).unwrap();
    w.bind_models(&c).unwrap();
    let i = w.names.iter().position(|n| n == "openb-pod-1639").unwrap();
    let j = &w.jobs[i];
    assert_eq!(
        j.models
            .iter()
            .map(|m| c.models()[m.index()].as_str())
            .collect::<Vec<_>>(),
        vec!["G2"]
    );
    let why = c
        .check_fits_ever(&j.pod, j.pods, &fairway_engine::Allowed::job(j))
        .unwrap_err()
        .to_string();
    assert_eq!(
        why,
        "one pod needs 8 GPU, 120 CPU, 720 GiB; no allowed node offers that (largest: 8 GPU, 96 CPU, 384 GiB (pool g2-8gpu-96cpu-384gib))"
    );
    // A repeated model in a spec counts once: 141 rows say V100M16|V100M32, 22 repeat V100M32.
    let v100 = ["V100M16", "V100M32"]
        .iter()
        .fold(ModelSet::ANY, |s, m| s.with(c.model_id(m).unwrap()));
    let both = w.jobs.iter().filter(|j| j.models == v100).count();
    assert_eq!(both, 163);
}
