//! The Kubernetes importers on hand-written `kubectl` output: Kueue Workloads (v1beta1 and
//! v1beta2), pods grouped by owner, and nodes into pools. Every expected value is worked out
//! from the fixture's timestamps and requests in the comment beside it.

use fairway_engine::{JobKind, Workload};
use fairway_traces::import::{self, ImportFormat, Mapping, Options};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import/kube")
        .join(name)
}

/// (name, submit s, recorded start s, run s, pods, GPUs per pod, cpu milli, MiB); shared with
/// the Prometheus importer's tests, whose pods become jobs the same way.
pub(crate) type Row = (String, f64, f64, f64, u32, f64, u64, u64);

pub(crate) fn rows(w: &Workload) -> Vec<Row> {
    w.jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            (
                w.names[i].to_string(),
                j.submit.millis() as f64 / 1000.0,
                j.recorded_start.get().expect("recorded").millis() as f64 / 1000.0,
                // Open-ended (still running): no run time.
                if j.open_ended {
                    f64::INFINITY
                } else {
                    j.work.millis() as f64 / 1000.0
                },
                j.pods,
                f64::from(j.pod.gpu_milli) / 1000.0,
                j.pod.cpu_milli,
                j.pod.mem_mib,
            )
        })
        .collect()
}

pub(crate) fn job<'a>(w: &'a Workload, name: &str) -> &'a fairway_engine::JobSpec {
    let i = (0..w.len())
        .find(|&i| &w.names[i] == name)
        .unwrap_or_else(|| panic!("no job {name}"));
    &w.jobs[i]
}

#[test]
fn kueue_workloads_of_both_api_versions_become_jobs() {
    let files = [fixture("workloads.json"), fixture("workloads-v1beta1.yaml")];
    let i = import::read(&files, ImportFormat::KueueWorkloads, &Options::default()).unwrap();
    let w = &i.loaded.workload;
    // Time 0 is the first creation, 2026-03-01T00:00:00Z.
    let want: Vec<Row> = vec![
        // Created 00:00, admitted 00:10 (600 s), finished 04:10: 4 h of run. 2 x (8 GPUs, 8
        // cores, 64 GiB).
        (
            "team-a/job-train-1-3f2a1".into(),
            0.0,
            600.0,
            14_400.0,
            2,
            8.0,
            8000,
            65_536,
        ),
        // Created 00:05 (300 s), admitted 00:05:30 (330 s), finished 01:05:30: 1 h.
        (
            "team-b/pod-notebook-7c1d2".into(),
            300.0,
            330.0,
            3600.0,
            1,
            1.0,
            500,
            2048,
        ),
        // Created 00:20, admitted 00:30, finished (failed) 02:30: 2 h. A launcher of 1 core
        // and 4 workers of (2 GPUs, 4 cores, 16 GiB): 5 pods of the largest requests.
        (
            "team-b/pytorchjob-multi-91ab0".into(),
            1200.0,
            1800.0,
            7200.0,
            5,
            2.0,
            4000,
            16_384,
        ),
        // v1beta1, limits only: created 01:00, admitted 01:00:10, finished 03:00:10.
        (
            "team-a/job-eval-2-aa01".into(),
            3600.0,
            3610.0,
            7200.0,
            1,
            4.0,
            16_000,
            102_400,
        ),
        // Created 03:00, admitted 03:01 and not finished when printed: open-ended, 4 GPUs.
        (
            "team-a/job-running-1".into(),
            10_800.0,
            10_860.0,
            f64::INFINITY,
            1,
            4.0,
            0,
            0,
        ),
    ];
    assert_eq!(rows(w), want);
    assert!(job(w, "team-a/job-running-1").open_ended);
    let train = job(w, "team-a/job-train-1-3f2a1");
    // Its pod template's nodeSelector, but for the GPU product (a GPU model, which every pool
    // carries as gpu_model).
    let sel = train.selector.map(|s| w.selectors[s.index()].to_string());
    assert_eq!(sel.as_deref(), Some("pool=h100"));
    assert_eq!(job(w, "team-a/job-eval-2-aa01").selector, None);
    assert_eq!(w.teams[train.team.index()], "team-a");
    assert_eq!(w.queues[train.queue.unwrap() as usize], "team-a/lq-a");
    assert_eq!(w.classes[train.priority_class.unwrap() as usize], "high");
    // A flavor names a quota, not a model: no model constraint without a mapping rule.
    assert!(train.models.is_any());
    assert_eq!(job(w, "team-b/pod-notebook-7c1d2").priority, 100);
    let eval = job(w, "team-a/job-eval-2-aa01");
    assert_eq!(w.classes[eval.priority_class.unwrap() as usize], "low");

    let r = &i.report;
    assert_eq!((r.read, r.imported), (7, 5));
    let skipped: Vec<(&str, u64)> = r.skipped.iter().map(|(k, v)| (k.as_str(), v.count)).collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    let why = |s: &str| {
        r.skipped
            .iter()
            .find(|(k, _)| k.contains(s))
            .map(|(_, v)| v.examples.clone())
    };
    assert!(r.defaulted.keys().any(|k| k.contains("open-ended")));
    assert!(why("not started").unwrap()[0].contains("team-b/job-pending-1"));
    assert!(why("left the queue").unwrap()[0].contains("team-a/job-deactivated-1"));
    assert_eq!(r.ignored.get("objects of kind LocalQueue"), Some(&1));
    assert!(
        r.defaulted
            .keys()
            .any(|k| k.contains("pod sets of different shapes"))
    );
    assert_eq!(r.time_zero.as_deref(), Some("2026-03-01T00:00:00Z"));
    let text = r.render();
    assert!(
        text.contains("5 job(s) imported, 2 left out, from 7 record(s)"),
        "{text}"
    );
}

#[test]
fn pods_of_one_owner_are_one_gang_job() {
    let i = import::read(
        &[fixture("pods.json")],
        ImportFormat::KubernetesPods,
        &Options::default(),
    )
    .unwrap();
    let w = &i.loaded.workload;
    // Time 0 is the first pod's creation, 2026-05-10T10:00:00Z.
    let want: Vec<Row> = vec![
        // Two pods of Job train-x: started when the second started (10:03:00, 180 s), ended
        // when the last container did (12:03:00): 2 h.
        (
            "research/train-x".into(),
            0.0,
            180.0,
            7200.0,
            2,
            4.0,
            16_000,
            131_072,
        ),
        // An init container of 4 cores outweighs the 1-core container; 10 minutes, then failed.
        ("dev/prep".into(), 600.0, 600.0, 600.0, 1, 0.0, 4000, 4096),
        // A pod on its own: 10:30:05 to 11:30:05.
        ("dev/notebook".into(), 1800.0, 1805.0, 3600.0, 1, 1.0, 2000, 8192),
        // JobSet js1: two pods of different Jobs, grouped by the JobSet label; the second
        // started at 11:00:20 (3620 s), the last ended at 11:30:20: 30 min.
        ("research/js1".into(), 3600.0, 3620.0, 1800.0, 2, 2.0, 4000, 0),
        // PyTorchJob ptj: created 11:50 (6600 s), its pod started 11:51 and still runs:
        // open-ended.
        ("research/ptj".into(), 6600.0, 6660.0, f64::INFINITY, 1, 8.0, 0, 0),
    ];
    assert_eq!(rows(w), want);
    let train = job(w, "research/train-x");
    assert_eq!(w.teams[train.team.index()], "research");
    assert_eq!(w.classes[train.priority_class.unwrap() as usize], "batch-high");
    // The CPU-only pod's nodeSelector keeps it on the nodes labelled pool=cpu.
    let prep = job(w, "dev/prep");
    assert_eq!(
        prep.selector
            .map(|s| w.selectors[s.index()].to_string())
            .as_deref(),
        Some("pool=cpu")
    );
    assert_eq!(train.selector, None);
    let r = &i.report;
    assert_eq!((r.read, r.imported), (5, 5));
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    assert_eq!(r.ignored.get("pods of DaemonSets"), Some(&1));
}

#[test]
fn mapping_rules_set_team_kind_and_priority() {
    let mapping: Mapping = fairway_traces::tomlfile::read(&fixture("mapping.toml")).unwrap();
    mapping.check().unwrap();
    let opts = Options {
        mapping,
        ..Options::default()
    };
    let i = import::read(&[fixture("pods.json")], ImportFormat::KubernetesPods, &opts).unwrap();
    let w = &i.loaded.workload;
    let nb = job(w, "dev/notebook");
    assert_eq!(w.teams[nb.team.index()], "dev-interactive");
    assert_eq!(nb.kind, JobKind::Interactive);
    assert_eq!(w.classes[nb.priority_class.unwrap() as usize], "dev");
    // Rules that do not match leave a job alone.
    let prep = job(w, "dev/prep");
    assert_eq!(w.teams[prep.team.index()], "dev");
    assert_eq!(prep.kind, JobKind::Batch);
}

#[test]
fn a_mapping_rule_turns_the_admitted_flavor_into_a_gpu_model() {
    let mapping: Mapping = fairway_traces::tomlfile::read(&fixture("workloads-mapping.toml")).unwrap();
    mapping.check().unwrap();
    let opts = Options {
        mapping,
        ..Options::default()
    };
    let files = [fixture("workloads.json"), fixture("workloads-v1beta1.yaml")];
    let w = import::read(&files, ImportFormat::KueueWorkloads, &opts)
        .unwrap()
        .loaded
        .workload;
    let models = |name: &str| -> Vec<String> {
        job(&w, name)
            .models
            .iter()
            .map(|m| w.models[m.index()].clone())
            .collect()
    };
    assert_eq!(models("team-a/job-train-1-3f2a1"), ["NVIDIA-H100-80GB-HBM3"]);
    assert_eq!(models("team-b/pod-notebook-7c1d2"), ["NVIDIA-A100-SXM4-40GB"]);
    // No admission recorded: no flavor, no model.
    assert!(models("team-b/pytorchjob-multi-91ab0").is_empty());
}

#[test]
fn nodes_become_pools_of_identical_nodes() {
    let c = import::nodes::read(&[fixture("nodes.json")], &Options::default()).unwrap();
    type Pool<'a> = (&'a str, Option<&'a str>, u32, u32, f64, f64);
    let got: Vec<Pool<'_>> = c
        .pools
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.gpu_model.as_deref(),
                p.nodes,
                p.gpus_per_node,
                p.cpu,
                p.memory_gib,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // Two H100 nodes (the cordoned third left out): 191450m cores, 2000Gi.
            ("p5.48xlarge", Some("NVIDIA-H100-80GB-HBM3"), 2, 8, 191.45, 2000.0),
            ("p4d.24xlarge", Some("NVIDIA-A100-SXM4-40GB"), 1, 8, 95.0, 1100.0),
            ("m6i.8xlarge", None, 3, 0, 31.75, 124.0),
        ]
    );
    // 2 x 8 + 8 = 24 GPUs.
    assert_eq!(c.pools.iter().map(|p| p.nodes * p.gpus_per_node).sum::<u32>(), 24);
    // Labels all nodes of a pool share are kept; the zone (differs) and hostname are not.
    let h100 = &c.pools[0].labels;
    assert_eq!(h100.get("pool").map(String::as_str), Some("h100"));
    assert!(!h100.contains_key("topology.kubernetes.io/zone"));
    assert!(!h100.contains_key("kubernetes.io/hostname"));
    assert_eq!((c.report.read, c.report.imported), (7, 6));
    assert!(c.report.skipped.keys().any(|k| k.contains("cordoned")));
    assert_eq!(
        c.report
            .defaulted
            .get("allocatable 'rdma/ib' not modelled: ignored"),
        Some(&2)
    );
    // The written cluster file reads back as the same pools.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cluster.toml");
    std::fs::write(&out, import::nodes::to_toml(&c)).unwrap();
    let spec = fairway_traces::cluster::read(&out, None).unwrap();
    let direct = fairway_traces::cluster::read(&fixture("nodes.json"), None).unwrap();
    assert_eq!(spec, direct);
    assert_eq!(
        spec.pools.iter().map(|p| p.nodes * p.gpus_per_node).sum::<u32>(),
        24
    );
}

#[test]
fn broken_objects_name_the_file_the_object_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{"kind": "Workload", "metadata": {"name": "w", "namespace": "n", "creationTimestamp": "yesterday"}, "spec": {"podSets": []}}"#,
            "Workload n/w: field 'metadata.creationTimestamp': expected an RFC 3339 time, found 'yesterday'",
        ),
        (
            r#"{"kind": "Workload", "metadata": {"name": "w", "namespace": "n", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"podSets": [{"name": "main", "count": 1, "template": {"spec": {"containers": [{"resources": {"requests": {"cpu": "lots"}}}]}}}]}}"#,
            "field 'spec.podSets[0].template.spec.containers[0].resources.requests.cpu': invalid quantity 'lots'",
        ),
        (
            r#"{"kind": "Workload", "metadata": {"name": "w", "namespace": "n", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"podSets": [{"name": "main", "count": -1, "template": {"spec": {}}}]}}"#,
            "field 'spec.podSets[0].count': expected a whole number >= 0, found -1",
        ),
        (
            r#"{"kind": "Workload", "metadata": {"name": "w", "namespace": "n", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"podSets": [{"name": "main", "count": 1, "template": {"spec": {"containers": [{"resources": {"requests": {"nvidia.com/gpu": "99999999999"}}}]}}}]}}"#,
            "GPUs in one pod is more than fairway holds",
        ),
        ("{not json", "invalid JSON"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("w{i}.json"));
        std::fs::write(&f, text).unwrap();
        let e = import::read(
            std::slice::from_ref(&f),
            ImportFormat::KueueWorkloads,
            &Options::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(want), "case {i}: {e}");
        assert!(e.starts_with(&f.display().to_string()), "case {i}: {e}");
    }
    // A file of nothing importable says what it passed over.
    let f = dir.path().join("empty.json");
    std::fs::write(
        &f,
        r#"{"kind": "List", "items": [{"kind": "LocalQueue", "metadata": {"name": "q"}}]}"#,
    )
    .unwrap();
    let e = import::read(&[f], ImportFormat::KueueWorkloads, &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no job could be imported") && e.contains("LocalQueue"),
        "{e}"
    );
    // A FIFO is refused before it is opened, not waited on.
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo.json");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            let e = import::read(&[fifo], ImportFormat::KueueWorkloads, &Options::default()).unwrap_err();
            assert!(e.to_string().contains("cannot read"), "{e}");
        }
    }
}
