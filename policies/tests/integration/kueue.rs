//! Kueue's admission model, end to end: manifests in, trace through the engine, decisions out.
//! Every expected number is worked out by hand in the comment above its test.

mod cases;
mod props;
mod upstream;
mod worked;

use fairway_engine::*;
use std::io::Write;

/// A job of a test: queue, submit s, duration s, pods, GPUs per pod, CPUs per pod, priority.
#[derive(Clone, Copy)]
pub struct J(
    pub &'static str,
    pub u64,
    pub u64,
    pub u32,
    pub u32,
    pub u64,
    pub i32,
);

pub const H100: &str = "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: h100\n";

/// One GPU resource group with flavor h100 and the given nominal quota; extra YAML lines go
/// under `spec`.
pub fn cq(name: &str, cohort: Option<&str>, gpus: i64, extra: &str) -> String {
    let cohort = cohort.map(|c| format!("  cohortName: {c}\n")).unwrap_or_default();
    format!(
        "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n{cohort}  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: {gpus}\n{extra}"
    )
}

pub struct Run {
    pub w: Workload,
    pub o: Outcome,
}

impl Run {
    pub fn job(&self, name: &str) -> &JobRun {
        &self.o.jobs[self
            .w
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no job {name}"))]
    }
    pub fn start(&self, name: &str) -> Option<u64> {
        self.job(name).first_start().map(|t| t.millis() / 1000)
    }
    /// (victim, reason, preemptor) of every preemption, in order.
    pub fn preemptions(&self) -> Vec<(String, String, Option<String>)> {
        self.o
            .preemption_log
            .iter()
            .map(|p| {
                (
                    self.w.names[p.job.index()].to_string(),
                    self.o.reasons[p.reason as usize].clone(),
                    p.by.map(|b| self.w.names[b.index()].to_string()),
                )
            })
            .collect()
    }
    pub fn preempted_at(&self, t: u64) -> Vec<String> {
        let mut v: Vec<String> = self
            .o
            .preemption_log
            .iter()
            .filter(|p| p.time.millis() / 1000 == t)
            .map(|p| self.w.names[p.job.index()].to_string())
            .collect();
        v.sort();
        v
    }
    /// Seconds the named team spent pending with this reason.
    pub fn pending_s(&self, team: &str, reason: &str) -> u128 {
        let t = self.w.teams.iter().position(|x| x == team).expect("team");
        let r = self
            .o
            .reasons
            .iter()
            .position(|x| x == reason)
            .unwrap_or(usize::MAX);
        self.o.pending_by_reason[t].get(r).copied().unwrap_or(0) / 1000
    }
}

/// Jobs are named by their position: `<queue><i>` is given explicitly in `names`.
pub fn run_named(yaml: &str, pools: Vec<PoolSpec>, jobs: &[(&str, J)], params: &str) -> Run {
    run_workload(yaml, pools, named_workload(jobs), params)
}

/// The workload of `jobs`, named.
pub fn named_workload(jobs: &[(&str, J)]) -> Workload {
    let mut b = WorkloadBuilder::new("test");
    for (name, j) in jobs {
        let team = b.team(j.0).unwrap();
        let pod = PodRequest {
            gpu_milli: j.4 * 1000,
            cpu_milli: j.5 * 1000,
            mem_mib: 0,
        };
        let mut s = JobSpec::new(
            SimTime::from_secs(j.1),
            SimDuration::from_secs(j.2),
            j.3,
            pod,
            team,
        );
        s.priority = j.6;
        b.push(name, 0, s).unwrap();
    }
    b.finish()
}

/// Runs a workload through the kueue policy with these manifests (engine audit on).
pub fn run_workload(yaml: &str, pools: Vec<PoolSpec>, w: Workload, params: &str) -> Run {
    try_run_workload(yaml, pools, w, params, None).unwrap()
}

/// Like `run_workload`, with the engine's error, and a cap on preemptions per job.
pub fn try_run_workload(
    yaml: &str,
    pools: Vec<PoolSpec>,
    w: Workload,
    params: &str,
    max_preemptions_per_job: Option<u32>,
) -> Result<Run, EngineError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kueue.yaml");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let text = if params.is_empty() {
        format!("kueue[manifests={}]", path.display())
    } else {
        format!("kueue[manifests={},{params}]", path.display())
    };
    let policy = fairway_policies::policy(&text.parse().unwrap(), 1).unwrap_or_else(|e| panic!("{e}"));
    let placement = fairway_policies::placement(&"first-fit".parse().unwrap(), 1).unwrap();
    let cluster = Cluster::new(&ClusterSpec { pools }).unwrap();
    let opts = EngineOptions {
        audit: true,
        max_preemptions_per_job,
        ..EngineOptions::default()
    };
    let o = Simulation::new(&w, cluster, policy, placement, opts)
        .unwrap()
        .run()?;
    Ok(Run { w, o })
}

/// `n` nodes of 8 H100 GPUs and 128 CPUs.
pub fn nodes(n: u32) -> Vec<PoolSpec> {
    vec![PoolSpec::new("h100", Some("H100"), n, 8, 128, 1024)]
}
