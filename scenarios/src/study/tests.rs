//! Studies resolve a scenario's policies once: Kueue's manifests are read once per study,
//! whatever the number of runs.

use super::plan::{PlanRequest, Vary, plan};
use super::seeds::{AddNodes, replicate};
use super::sweep::{SweepOptions, run_sweep};
use super::{Executor, compare};
use crate::Scenario;
use crate::sweep::Sweep;
use fairway_policies::Registry;
use fairway_policies::kueue::manifest::reads_of;
use std::path::{Path, PathBuf};

const MANIFESTS: &str = "apiVersion: kueue.x-k8s.io/v1beta1\nkind: ResourceFlavor\nmetadata:\n  name: default\n---\n\
apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: team-a\nspec:\n  cohort: all\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: default\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 8\n---\n\
apiVersion: kueue.x-k8s.io/v1beta1\nkind: ClusterQueue\nmetadata:\n  name: team-b\nspec:\n  cohort: all\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: default\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 8\n";

/// A Kueue scenario on a synthetic trace of two teams (named as the ClusterQueues), in its own
/// folder; returns the scenario file and the manifest file as the scenario names it.
fn kueue_scenario(dir: &Path, extra: &str) -> (PathBuf, PathBuf) {
    std::fs::write(dir.join("kueue.yaml"), MANIFESTS).unwrap();
    let file = dir.join("s.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"k\"\nseed = 3\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 60\n\
             teams = [{{ name = \"team-a\", weight = 1 }}, {{ name = \"team-b\", weight = 1 }}]\n\
             [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 2\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
             [policy]\nname = \"kueue\"\nmanifests = \"kueue.yaml\"\n{extra}"
        ),
    )
    .unwrap();
    (file, dir.join("kueue.yaml"))
}

#[test]
fn seeds_read_the_manifests_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, yaml) = kueue_scenario(tmp.path(), "");
    let sc = Scenario::load(&file).unwrap();
    let policies = sc.policies(&Registry::builtin()).unwrap();
    assert_eq!(reads_of(&yaml), 1);
    let exec = Executor::new(Some(2));
    let runs = replicate(&sc, &policies, &[], 4, &exec).unwrap();
    assert_eq!(runs.len(), 4);
    let more = [AddNodes {
        pool: "g".into(),
        nodes: 1,
    }];
    replicate(&sc, &policies, &more, 2, &exec).unwrap();
    assert_eq!(reads_of(&yaml), 1, "six runs, one read");
    // A scenario side of compare resolves once for all its seeds.
    compare::side(&file, 3, &Registry::builtin(), &exec).unwrap();
    assert_eq!(reads_of(&yaml), 2);
}

#[test]
fn a_plan_reads_the_manifests_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, yaml) = kueue_scenario(tmp.path(), "");
    let sc = Scenario::load(&file).unwrap();
    let req = PlanRequest {
        targets: vec!["p95_wait<=1h".parse().unwrap()],
        vary: vec!["pool.g.nodes=0..4".parse::<Vary>().unwrap()],
        costs: Vec::new(),
        seeds: 2,
    };
    let found = plan(&sc, &Registry::builtin(), &req, &Executor::new(Some(2))).unwrap();
    let super::plan::Plan::OnePool(p) = found else {
        panic!("one pool")
    };
    assert!(p.points.len() >= 3, "{} points", p.points.len());
    assert_eq!(reads_of(&yaml), 1);
}

/// Two node counts x two eviction latencies x two seeds: eight runs, two policy configurations,
/// two reads.
#[test]
fn a_sweep_reads_each_distinct_configuration_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, yaml) = kueue_scenario(
        tmp.path(),
        "params = { eviction_latency_s = 0 }\n[sweep]\nseeds = [1, 2]\n\
         vary = { \"cluster.pool.0.nodes\" = [2, 3], \"policy.params.eviction_latency_s\" = [0, 5] }\n",
    );
    let sweep = Sweep::load(&file).unwrap();
    assert_eq!(reads_of(&yaml), 0, "loading a sweep reads no manifest");
    let opts = SweepOptions {
        out: tmp.path().join("out"),
        shard: None,
        resume: false,
        force: false,
        chart: Default::default(),
    };
    let report = run_sweep(&sweep, &Registry::builtin(), &opts, &Executor::new(Some(2))).unwrap();
    assert_eq!(report.runs, 8);
    assert_eq!(reads_of(&yaml), 2);
}

#[test]
fn a_stopped_study_keeps_what_finished_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, _) = kueue_scenario(tmp.path(), "");
    let sc = Scenario::load(&file).unwrap();
    let policies = sc.policies(&Registry::builtin()).unwrap();
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let exec = Executor::new(Some(1)).stop_on(flag);
    let e = replicate(&sc, &policies, &[], 3, &exec).unwrap_err();
    assert!(
        matches!(
            e,
            super::StudyError::Interrupted {
                finished: 0,
                total: 3,
                ..
            }
        ),
        "{e}"
    );
}

/// What Kueue's manifests say that the model does not read reaches the user as a warning,
/// naming the file, before anything runs.
#[test]
fn manifest_warnings_reach_the_resolved_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (file, yaml) = kueue_scenario(tmp.path(), "");
    let text = std::fs::read_to_string(&yaml).unwrap().replacen(
        "  cohort: all\n",
        "  cohort: all\n  admissionChecks: [prov]\n",
        1,
    );
    std::fs::write(&yaml, text).unwrap();
    let sc = Scenario::load(&file).unwrap();
    let r = sc.resolve().unwrap();
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with(&yaml.display().to_string()) && w.contains("spec.admissionChecks")),
        "{:?}",
        r.warnings
    );
}
