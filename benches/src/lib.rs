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

/// Like [`workload`], with the jobs spread over `teams` teams of equal weight (`t0`, `t1`, ...):
/// for the costs that grow with the number of teams.
pub fn workload_of_teams(jobs: usize, teams: usize, per_hour: f64, seed: u64) -> Workload {
    let mut spec = SyntheticSpec::with_jobs(jobs);
    spec.arrivals = Arrivals::Poisson { per_hour };
    spec.teams = (0..teams)
        .map(|i| fairway_traces::synthetic::TeamShare {
            name: format!("t{i}"),
            weight: 1.0,
            priority: 0,
        })
        .collect();
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

/// The Kueue contention set-up: 50 ClusterQueues in 5 cohorts, `jobs` one-GPU workloads arriving
/// within minutes, so queues hold tens of thousands of pending workloads while quota turns over.
pub mod kueue {
    use super::*;
    use fairway_traces::synthetic::{Durations, Shape, TeamShare};
    use std::path::PathBuf;

    /// The number of ClusterQueues (one per team) of the set-up unless told otherwise.
    pub const QUEUES: usize = 50;

    /// The workload: 50 teams `q00`..`q49` with priorities 0, 1, 2 in turn, one-GPU jobs of
    /// 8 CPUs and 64 GiB, lognormal runs of median 10 min, a million arrivals an hour.
    pub fn workload(jobs: usize) -> Workload {
        workload_of_queues(jobs, QUEUES)
    }

    /// [`workload`] spread over `queues` teams (so as many ClusterQueues), named with as many
    /// digits as the largest needs, at least two (`q0000`..`q9999` for 10 000): for the costs
    /// that grow with the number of queues.
    pub fn workload_of_queues(jobs: usize, queues: usize) -> Workload {
        let width = queues.saturating_sub(1).to_string().len().max(2);
        let mut spec = SyntheticSpec::with_jobs(jobs);
        spec.teams = (0..queues)
            .map(|i| TeamShare {
                name: format!("q{i:0width$}"),
                weight: 1.0,
                priority: (i % 3) as i32,
            })
            .collect();
        spec.arrivals = Arrivals::Poisson {
            per_hour: 1_000_000.0,
        };
        spec.shapes = vec![Shape {
            gpus: 1.0,
            pods: 1,
            weight: 1.0,
        }];
        spec.cpu_per_gpu = 8.0;
        spec.memory_gib_per_gpu = 64.0;
        spec.duration = Durations::Lognormal {
            median_s: 600.0,
            sigma: 1.0,
            max_s: None,
        };
        generate(&spec, 3, Path::new(".")).expect("valid spec")
    }

    /// 25 nodes x 8 GPUs: 200 GPUs for 200 GPUs of quota, so quota is what limits admission.
    pub fn cluster() -> Cluster {
        super::cluster(25)
    }

    /// Queues per cohort unless told otherwise.
    pub const PER_COHORT: usize = 10;

    /// Cohorts of `per_cohort` queues in team order (5 of 10 for the default 50); each queue has
    /// 4 GPUs, 64 CPUs and 512 GiB of nominal quota, may borrow within its cohort, and reclaims
    /// and preempts lower priorities.
    pub fn manifests(teams: &[String], per_cohort: usize) -> String {
        let per_cohort = per_cohort.max(1);
        let mut y = String::from(
            "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: h100\n",
        );
        for (i, t) in teams.iter().enumerate() {
            y.push_str(&format!(
                "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {t}\nspec:\n  namespaceSelector: {{}}\n  cohortName: cohort-{}\n  preemption:\n    reclaimWithinCohort: Any\n    withinClusterQueue: LowerPriority\n  resourceGroups:\n  - coveredResources: [\"cpu\", \"memory\", \"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: cpu\n        nominalQuota: 64\n      - name: memory\n        nominalQuota: 512Gi\n      - name: nvidia.com/gpu\n        nominalQuota: 4\n",
                i / per_cohort
            ));
        }
        y
    }

    /// Writes the manifests for `w` (cohorts of `per_cohort` queues) to a file of the temporary
    /// folder named after this process, and returns the policy text that loads them, for Kueue
    /// `version` (the newest if `None`).
    pub fn policy_text(w: &Workload, version: Option<&str>, per_cohort: usize) -> (PathBuf, String) {
        let path = std::env::temp_dir().join(format!("fairway-bench-kueue-{}.yaml", std::process::id()));
        std::fs::write(&path, manifests(&w.teams, per_cohort)).expect("temporary folder is writable");
        let version = version.map(|v| format!(",kueue_version={v}")).unwrap_or_default();
        let text = format!("kueue[manifests={}{version}]", path.display());
        (path, text)
    }
}
