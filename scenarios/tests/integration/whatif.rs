//! What-ifs on whole scenarios: the edits reach the run, and adding capacity never makes a FIFO
//! queue of single-GPU jobs wait longer (a FIFO multi-server queue: more servers, no job starts
//! later).

use fairway_scenarios::Scenario;
use proptest::prelude::*;

fn scenario(seed: u64, per_hour: u32, nodes: u32, whatif: &str) -> Scenario {
    let text = format!(
        "name = \"w\"\nseed = {seed}\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 300\n\
         arrivals = {{ process = \"poisson\", per_hour = {per_hour} }}\n\
         duration = {{ dist = \"lognormal\", median_s = 3600, sigma = 1.0 }}\n\
         shapes = [{{ gpus = 1, weight = 1 }}]\n\
         [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = {nodes}\ngpus_per_node = 4\ncpu = 64\nmemory_gib = 512\n\
         [policy]\nname = \"fifo\"\nplacement = \"first-fit\"\n{whatif}"
    );
    Scenario::parse(&text, "w.toml").unwrap()
}

fn mean_wait(s: &Scenario) -> f64 {
    let r = s.resolve().unwrap();
    let o = r.run().unwrap();
    let waits: Vec<f64> = o
        .jobs
        .iter()
        .zip(&r.workload.jobs)
        .map(|(j, spec)| j.first_start().unwrap().since(spec.submit).as_secs_f64())
        .collect();
    waits.iter().sum::<f64>() / waits.len() as f64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn adding_capacity_never_increases_mean_wait(seed in 0u64..1000, per_hour in 5u32..40, nodes in 1u32..4, add in 1i64..4) {
        let base = mean_wait(&scenario(seed, per_hour, nodes, ""));
        let more = mean_wait(&scenario(seed, per_hour, nodes, &format!("[[whatif]]\nadd_nodes = {{ pool = \"g\", nodes = {add} }}\n")));
        prop_assert!(more <= base + 1e-9, "{} -> {}", base, more);
    }
}

/// The edits reach the resolved scenario: nodes, load, policy parameters.
#[test]
fn edits_reach_the_run() {
    let s = scenario(
        1,
        10,
        2,
        "[[whatif]]\nadd_nodes = { pool = \"g\", nodes = 3 }\n[[whatif]]\nscale_load = 2.0\n\
         [[whatif]]\npolicy_param = { key = \"mode\", value = \"best-effort\" }\n",
    );
    let r = s.resolve().unwrap();
    assert_eq!(r.cluster.node_count(), 5);
    // 40 one-GPU jobs an hour (mean 1.65 h each: 66 GPUs of load) queue up on 4 GPUs; 16 more
    // GPUs shorten the queue a lot.
    let busy = mean_wait(&scenario(1, 40, 1, ""));
    let more = mean_wait(&scenario(
        1,
        40,
        1,
        "[[whatif]]\nadd_nodes = { pool = \"g\", nodes = 4 }\n",
    ));
    assert!(busy > 3600.0 && more < busy / 2.0, "{busy} -> {more}");
    assert_eq!(r.policies.policy.label(), "fifo[mode=best-effort]");
    let plain = scenario(1, 10, 2, "").resolve().unwrap();
    let last = |w: &fairway_engine::Workload| w.jobs.last().unwrap().submit.millis();
    assert_eq!(
        last(&r.workload),
        (last(&plain.workload) as f64 / 2.0).round() as u64
    );
    let bad = Scenario::parse(
        &format!("{}[[whatif]]\nscale_load = -1.0\n", "name = \"w\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 3\n[cluster]\n[[cluster.pool]]\nname = \"g\"\nnodes = 1\ncpu = 1\nmemory_gib = 1\n[policy]\nname = \"fifo\"\n"),
        "w.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        bad.contains("whatif[0]: scale_load must be a number > 0"),
        "{bad}"
    );
}

/// Kueue edits by ClusterQueue name reach the run: taking away all of LS's nominal GPU quota
/// (and forbidding it to borrow) leaves LS's GPU pods no way in, so fewer LS jobs start; an unknown
/// ClusterQueue is an error that lists the real ones.
#[test]
fn kueue_edits_reach_the_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog");
    let base = std::fs::read_to_string(root.join("kueue-reclaim.toml")).unwrap();
    let run = |extra: &str| {
        let dir = tempfile::tempdir().unwrap();
        let text = base
            .replace("../../traces", &root.join("../../traces").display().to_string())
            .replace(
                "kueue/reclaim.yaml",
                &root.join("kueue/reclaim.yaml").display().to_string(),
            );
        let p = dir.path().join("s.toml");
        std::fs::write(&p, format!("{text}\n{extra}")).unwrap();
        let s = Scenario::load(&p).unwrap();
        s.resolve().and_then(|r| {
            let o = r.run()?;
            let ls = r.workload.teams.iter().position(|t| t == "LS").unwrap();
            let started = o
                .jobs
                .iter()
                .zip(&r.workload.jobs)
                .filter(|(x, j)| j.team.index() == ls && x.first_start().is_some())
                .count();
            Ok(started)
        })
    };
    let plain = run("").unwrap();
    let starved = run(
        "[[whatif]]\nkueue_quota = { cluster_queue = \"ls\", flavor = \"default\", resource = \"fairway.dev/gpu-milli\", nominal = 0, borrowing_limit = 0 }\n",
    )
    .unwrap();
    assert!(starved < plain, "{plain} -> {starved}");
    let err = run("[[whatif]]\nkueue_weight = { cluster_queue = \"research\", weight = 2.0 }\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no ClusterQueue 'research' in the manifests (ClusterQueues: ls,"),
        "{err}"
    );
}
