//! What a trace can say of its jobs beyond their size, worked out by hand: a node selector that
//! keeps CPU-only pods on CPU nodes (and one that no pool satisfies), jobs of duration 0, a job
//! still running when the trace ended, and the nodes each job ran on in `jobs.csv`.

use crate::common::{ok, read};
use std::path::{Path, PathBuf};

/// A ResourceFlavor manifest, with these node labels.
fn flavor(name: &str, labels: &[(&str, &str)]) -> String {
    let mut doc =
        format!("apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: {name}\n");
    if !labels.is_empty() {
        doc += "spec:\n  nodeLabels:\n";
        for (k, v) in labels {
            doc += &format!("    {k}: {v}\n");
        }
    }
    doc
}

/// A ClusterQueue manifest covering `resource`, with a nominal quota in each flavor, in order.
fn cluster_queue(name: &str, resource: &str, flavors: &[(&str, u32)]) -> String {
    let mut doc = format!(
        "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n  resourceGroups:\n  - coveredResources: [\"{resource}\"]\n    flavors:\n"
    );
    for (f, quota) in flavors {
        doc += &format!(
            "    - name: {f}\n      resources:\n      - name: {resource}\n        nominalQuota: {quota}\n"
        );
    }
    doc
}

/// Writes `dir/s.toml`: the trace `trace` (the lines of its table) on one node of 8 A100s, 64
/// cores and 512 GiB, under `policy` (the lines of `[policy]`, and any tables after it).
fn one_node(dir: &Path, trace: &str, policy: &str) -> PathBuf {
    let p = dir.join("s.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"s\"\n[trace]\n{trace}\n\
             [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
             [policy]\n{policy}"
        ),
    )
    .unwrap();
    p
}

/// One 8-GPU node with 64 cores listed first, then one CPU node of 64 cores labelled
/// `node-type=cpu`; best-effort FIFO, first-fit. At t=0: c1 and c2 (64 cores, no GPU, an hour each)
/// select the CPU node, g1 (1 GPU, 8 cores, an hour) selects nothing.
/// - c1 takes the CPU node at 0; c2 waits for it until c1 ends at 3600 s;
/// - g1 starts at 0 on the GPU node (without the selector, first-fit would have put c2 there at
///   0 and g1 would have waited an hour behind it);
/// - tpu selects a label no pool has: unschedulable, with the reason;
/// - z (duration 0) starts and ends at 10 s on the GPU node;
/// - o (open-ended) starts at 20 s on the GPU node and is still running when the run ends with
///   c2 at 7200 s.
#[test]
fn a_selector_keeps_cpu_pods_on_cpu_nodes_and_jobs_csv_says_where_each_ran() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "job_id,submit_time,duration,gpus,team,cpu,node_selector\n\
         c1,0,3600,0,a,64,node-type=cpu\n\
         c2,0,3600,0,a,64,node-type=cpu\n\
         g1,0,3600,1,b,8,\n\
         tpu,0,60,0,b,1,node-type=tpu\n\
         z,10,0,1,b,1,\n\
         o,20,open,1,b,1,\n",
    )
    .unwrap();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"sel\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n\
         [cluster]\n\
         [[cluster.pool]]\nname = \"gpu\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
         [[cluster.pool]]\nname = \"cpu\"\nnodes = 1\ngpus_per_node = 0\ncpu = 64\nmemory_gib = 512\nlabels = { \"node-type\" = \"cpu\" }\n\
         [policy]\nname = \"fifo\"\nparams = { mode = \"best-effort\" }\nplacement = \"first-fit\"\n",
    )
    .unwrap();
    let out = tmp.path().join("run");
    ok(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let jobs = read(&out.join("jobs.csv"));
    let mut lines = jobs.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (start, end, status, reason, nodes) = (
        col("start_time"),
        col("end_time"),
        col("status"),
        col("reason"),
        col("nodes"),
    );
    let rows: std::collections::BTreeMap<String, Vec<String>> = lines
        .map(|l| {
            let f: Vec<String> = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes())
                .records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect();
            (f[0].clone(), f)
        })
        .collect();
    let got = |id: &str| {
        let r = &rows[id];
        (r[start].as_str(), r[end].as_str(), r[nodes].as_str())
    };
    assert_eq!(got("c1"), ("0", "3600", "cpu-0"), "{jobs}");
    assert_eq!(got("c2"), ("3600", "7200", "cpu-0"), "{jobs}");
    assert_eq!(got("g1"), ("0", "3600", "gpu-0"), "{jobs}");
    assert_eq!(got("z"), ("10", "10", "gpu-0"), "{jobs}");
    assert_eq!(got("o"), ("20", "", "gpu-0"), "{jobs}");
    assert_eq!(rows["o"][status], "running", "{jobs}");
    assert_eq!(rows["o"][col("run_s")], "7180", "{jobs}");
    assert_eq!(rows["tpu"][status], "unschedulable", "{jobs}");
    assert_eq!(
        rows["tpu"][reason], "no pool carries the labels of its node selector",
        "{jobs}"
    );
}

/// A selector that is not `key=value` pairs is an error naming the file, line and column.
#[test]
fn a_malformed_selector_is_named_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("t.csv");
    std::fs::write(
        &trace,
        "job_id,submit_time,duration,gpus,team,node_selector\na,0,1,1,t,zone=a;zone=b\n",
    )
    .unwrap();
    let e = crate::common::fails(&["trace", "stats", trace.to_str().unwrap()]);
    assert!(
        e.contains("t.csv:2: column 'node_selector': label 'zone' is given twice"),
        "{e}"
    );
}

/// Kueue beside a job that never ends: one 8-GPU node, quota for 16. o (8 GPUs, open-ended)
/// holds the node; a (8 GPUs) is admitted by quota but finds no node, and waitForPodsReady
/// evicts and requeues it for ever. The run cannot end by itself: the error says so and asks
/// for a horizon; with `horizon_s = 3600` it stops there with o running and a pending.
#[test]
fn kueue_beside_an_open_ended_job_needs_a_horizon_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("m.yaml"),
        [
            flavor("default", &[]),
            cluster_queue("cq", "nvidia.com/gpu", &[("default", 16)]),
        ]
        .join("---\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "job_id,submit_time,duration,gpus,team\no,0,open,8,cq\na,10,60,8,cq\n",
    )
    .unwrap();
    let scenario = |extra: &str| {
        one_node(
            tmp.path(),
            "format = \"canonical\"\npath = \"t.csv\"",
            &format!("name = \"kueue\"\nmanifests = \"m.yaml\"\n{extra}"),
        )
    };
    let s = scenario("");
    let out = tmp.path().join("out");
    let e = crate::common::fails(&[
        "run",
        s.to_str().unwrap(),
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        e.contains("engine.horizon_s:")
            && e.contains("1 job(s) of the trace never end (open-ended)")
            && e.contains("the trace's own end is 10 s"),
        "{e}"
    );
    let s = scenario("[engine]\nhorizon_s = 3600\n");
    ok(&[
        "run",
        s.to_str().unwrap(),
        "--no-report",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    assert_eq!(
        (
            summary["jobs_running"].as_u64(),
            summary["jobs_pending"].as_u64(),
            summary["span_s"].as_f64()
        ),
        (Some(1), Some(1), Some(3600.0)),
        "{summary}"
    );
}

/// An openb pod list without time columns (the `multigpu*` lists) is inflated, not replayed:
/// three 1-GPU pods, reshuffled as they run out, arrive on one 8-GPU node until the demand that
/// arrived is the node's 8 GPUs: 8 arrivals, every one placed, whatever the order. A plain run
/// of the same list is an error that says why.
#[test]
fn a_pod_list_without_times_is_inflated_but_not_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("pods.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase\n\
         a,1000,1024,1,1000,,LS,Running\nb,1000,1024,1,1000,,BE,Running\nc,1000,1024,1,1000,,LS,Pending\n",
    )
    .unwrap();
    let scenario = |extra: &str| {
        one_node(
            tmp.path(),
            "format = \"openb\"\npath = \"pods.csv\"",
            &format!("name = \"fifo\"\n{extra}"),
        )
    };
    let s = scenario("");
    let e = crate::common::fails(&["validate", s.to_str().unwrap()]);
    assert!(
        e.contains("trace.path:") && e.contains("has no time columns") && e.contains("[inflation]"),
        "{e}"
    );
    let s = scenario("[inflation]\ntarget = 1.0\nplacements = [\"first-fit\"]\n");
    let out = tmp.path().join("out");
    ok(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = read(&out.join("inflation.csv"));
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 8, "{text}");
    assert!(rows.iter().all(|r| r.split(',').nth(4) == Some("true")), "{text}");
    assert!(rows[7].ends_with(",1.000000,1.000000"), "{text}");
}

/// A team across two queues: team a's three CPU jobs go to ClusterQueue cpu-a (no GPU quota),
/// its GPU job to gpu-a (8 of the 16 nominal GPUs); team b's GPU job to gpu-b (the other 8).
/// Entitlements are nominal-GPU shares: gpu-a 0.5, gpu-b 0.5, cpu-a 0. Team a is shown under
/// cpu-a, where most of its jobs went, but is entitled to 0.5 (not 0) through gpu-a; each GPU
/// job holds 1 GPU for an hour, so each team and each GPU queue has half the GPU time: ratio 1.
#[test]
fn a_team_across_queues_is_entitled_through_each_of_them() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("m.yaml"),
        [
            flavor("default", &[]),
            cluster_queue("cpu-a", "cpu", &[("default", 64)]),
            cluster_queue("gpu-a", "nvidia.com/gpu", &[("default", 8)]),
            cluster_queue("gpu-b", "nvidia.com/gpu", &[("default", 8)]),
        ]
        .join("---\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "job_id,submit_time,duration,gpus,team,cpu,queue\n\
         c1,0,600,0,a,1,cpu-a\nc2,0,600,0,a,1,cpu-a\nc3,0,600,0,a,1,cpu-a\n\
         g1,0,3600,1,a,,gpu-a\ng2,0,3600,1,b,,gpu-b\n",
    )
    .unwrap();
    let s = one_node(
        tmp.path(),
        "format = \"canonical\"\npath = \"t.csv\"",
        "name = \"kueue\"\nmanifests = \"m.yaml\"\n",
    );
    let out = tmp.path().join("out");
    ok(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&read(&out.join("summary.json"))).unwrap();
    let a = &v["per_team"]["a"];
    assert_eq!(a["queue"], "cpu-a", "{a}");
    assert_eq!(a["queues"], serde_json::json!(["cpu-a", "gpu-a"]), "{a}");
    assert_eq!(
        (a["entitlement"].as_f64(), a["share_ratio"].as_f64()),
        (Some(0.5), Some(1.0)),
        "{a}"
    );
    let b = &v["per_team"]["b"];
    assert_eq!(b.get("queues"), None, "{b}");
    assert_eq!(
        (b["entitlement"].as_f64(), b["share_ratio"].as_f64()),
        (Some(0.5), Some(1.0)),
        "{b}"
    );
    let q = &v["per_queue"];
    assert_eq!(q["cpu-a"]["teams"], serde_json::json!(["a"]), "{q}");
    assert_eq!(
        (
            q["cpu-a"]["gpu_share"].as_f64(),
            q["cpu-a"]["share_ratio"].as_f64()
        ),
        (Some(0.0), None),
        "{q}"
    );
    for g in ["gpu-a", "gpu-b"] {
        assert_eq!(
            (
                q[g]["gpu_share"].as_f64(),
                q[g]["entitlement"].as_f64(),
                q[g]["share_ratio"].as_f64()
            ),
            (Some(0.5), Some(0.5), Some(1.0)),
            "{q}"
        );
    }
}

/// Kueue assigns a flavor whose node labels agree with a job's node selector: flavors za
/// (nodeLabels zone=a, first) and zb (zone=b), 8 GPUs of quota each, over pools pa (zone=a) and
/// pb (zone=b) of one 8-GPU node each. j1 selects zone=b: za disagrees, so it is admitted on zb
/// and starts at once on pb (admitted on za it would wait for a node for ever); j2 selects
/// nothing and takes za, on pa.
#[test]
fn kueue_assigns_the_flavor_a_node_selector_agrees_with() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("m.yaml"),
        [
            flavor("za", &[("zone", "a")]),
            flavor("zb", &[("zone", "b")]),
            cluster_queue("cq", "nvidia.com/gpu", &[("za", 8), ("zb", 8)]),
        ]
        .join("---\n"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("t.csv"),
        "job_id,submit_time,duration,gpus,team,queue,node_selector\nj1,0,60,8,t,cq,zone=b\nj2,0,60,8,t,cq,\n",
    )
    .unwrap();
    let s = tmp.path().join("s.toml");
    let pool = |name: &str, zone: &str| {
        format!(
            "[[cluster.pool]]\nname = \"{name}\"\ngpu_model = \"A100\"\nnodes = 1\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\nlabels = {{ zone = \"{zone}\" }}\n"
        )
    };
    std::fs::write(
        &s,
        format!(
            "name = \"zones\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n[cluster]\n{}{}[policy]\nname = \"kueue\"\nmanifests = \"m.yaml\"\n",
            pool("pa", "a"),
            pool("pb", "b")
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    ok(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    let jobs = read(&out.join("jobs.csv"));
    let row = |id: &str| {
        jobs.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap()
            .to_string()
    };
    for (id, node) in [("j1", "pb-0"), ("j2", "pa-0")] {
        let r = row(id);
        let f: Vec<&str> = r.split(',').collect();
        assert_eq!(
            (f[2], f[4], *f.last().unwrap()),
            ("finished", "0", node),
            "{jobs}"
        );
    }
}
