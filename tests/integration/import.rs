//! `trace import` and `cluster import` end to end, and an imported trace and cluster run as a
//! scenario's `[trace]` and `[cluster]`.

use crate::common::{fails, fairway, ok, read};

const KUBE: &str = "traces/tests/fixtures/import/kube";

#[test]
fn kubectl_output_imports_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let trace = tmp.path().join("trace.csv");
    let cluster = tmp.path().join("cluster.toml");
    let out = fairway(&[
        "trace",
        "import",
        "--from",
        "kueue-workloads",
        &format!("{KUBE}/workloads.json"),
        &format!("{KUBE}/workloads-v1beta1.yaml"),
        "--mapping",
        &format!("{KUBE}/workloads-mapping.toml"),
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("5 job(s) imported, 2 left out"), "{err}");
    assert!(
        err.contains("time 0 is the first submission: 2026-03-01T00:00:00Z"),
        "{err}"
    );
    assert!(
        err.contains("assumed for 1 job(s): run time: still running when the trace was taken, so open-ended"),
        "{err}"
    );
    let csv = read(&trace);
    assert_eq!(csv.lines().count(), 6, "{csv}");
    // The pod template's nodeSelector (but for the GPU product) is the job's node_selector.
    assert!(
        csv.lines()
            .any(|l| l.starts_with("team-a/job-train-1-3f2a1,") && l.ends_with(",pool=h100")),
        "{csv}"
    );
    // Still running when printed: `open` in the duration column.
    assert!(
        csv.contains("\nteam-a/job-running-1,10800,open,4,team-a,"),
        "{csv}"
    );
    assert!(
        csv.contains(
            "team-a/job-train-1-3f2a1,0,14400,8,team-a,2,8,64,NVIDIA-H100-80GB-HBM3,high,,team-a/lq-a"
        ),
        "{csv}"
    );

    // Never over a file fairway was not asked to replace.
    let again = fails(&[
        "trace",
        "import",
        "--from",
        "kueue-workloads",
        &format!("{KUBE}/workloads.json"),
        "--out",
        trace.to_str().unwrap(),
    ]);
    assert!(
        again.contains("exists: give another --out, or --force"),
        "{again}"
    );
    assert_eq!(read(&trace), csv);
    let unknown = fails(&[
        "trace",
        "import",
        "--from",
        "kueue",
        &format!("{KUBE}/workloads.json"),
        "--out",
        "x.csv",
    ]);
    assert!(
        unknown.contains("kueue-workloads") && unknown.contains("kubernetes-pods"),
        "{unknown}"
    );

    ok(&[
        "cluster",
        "import",
        "--from",
        "kubernetes-nodes",
        &format!("{KUBE}/nodes.json"),
        "--out",
        cluster.to_str().unwrap(),
    ]);
    let pools = read(&cluster);
    assert!(
        pools.contains("name = \"p5.48xlarge\"") && pools.contains("24 GPU(s) in 3 pool(s)"),
        "{pools}"
    );

    // The imported files run; so do the originals, read by the importers directly.
    let root = crate::common::root();
    let scenario = tmp.path().join("s.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"imported\"\n[trace]\nformat = \"kueue-workloads\"\npaths = [\"{0}/{KUBE}/workloads.json\", \"{0}/{KUBE}/workloads-v1beta1.yaml\"]\n[trace.mapping]\nrules = [{{ flavor = \"h100\", set = {{ gpu_model = \"NVIDIA-H100-80GB-HBM3\" }} }}]\n[cluster]\npath = \"{0}/{KUBE}/nodes.json\"\n[policy]\nname = \"fifo\"\n",
            root.display()
        ),
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let out = fairway(&[
        "run",
        scenario.to_str().unwrap(),
        "--no-report",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("so open-ended"), "{err}");
    let s: serde_json::Value = serde_json::from_str(&read(&dir.join("summary.json"))).unwrap();
    assert_eq!(s["jobs_total"], 5, "{s}");
    // The job that selects pool=h100 ran on the two nodes that carry it (the p5.48xlarge pool).
    let jobs = read(&dir.join("jobs.csv"));
    let train = jobs
        .lines()
        .find(|l| l.starts_with("team-a/job-train-1-3f2a1,"))
        .unwrap();
    assert!(
        train.contains(",finished,") && train.ends_with(",p5.48xlarge-0;p5.48xlarge-1"),
        "{train}"
    );
    // The open-ended job is running at the end, never finished.
    assert_eq!(
        (s["jobs_running"].as_u64(), s["jobs_finished"].as_u64()),
        (Some(1), Some(4)),
        "{s}"
    );
    assert_eq!(s["capacity_gpus"], 24.0, "{s}");
    let canonical = tmp.path().join("c.toml");
    std::fs::write(
        &canonical,
        format!(
            "name = \"imported\"\n[trace]\nformat = \"canonical\"\npath = \"{}\"\n[cluster]\npath = \"{}\"\n[policy]\nname = \"fifo\"\n",
            trace.display(),
            cluster.display()
        ),
    )
    .unwrap();
    let dir2 = tmp.path().join("run2");
    ok(&[
        "run",
        canonical.to_str().unwrap(),
        "--no-report",
        "--quiet",
        "--out",
        dir2.to_str().unwrap(),
    ]);
    assert_eq!(read(&dir.join("jobs.csv")), read(&dir2.join("jobs.csv")));

    // Settings of importers are checked before anything is read.
    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"b\"\n[trace]\nformat = \"canonical\"\npath = \"t.csv\"\n[trace.mapping]\nrules = []\n[cluster]\npath = \"c.toml\"\n[policy]\nname = \"fifo\"\n",
    )
    .unwrap();
    let e = fails(&["validate", bad.to_str().unwrap()]);
    assert!(
        e.contains("trace.mapping") && e.contains("only for imported formats"),
        "{e}"
    );
}

/// A Kueue run writes the manifests it ran with, what-ifs applied, and the diff against the
/// input: the answer can be reviewed and applied.
#[test]
fn a_kueue_run_writes_its_effective_manifests_and_their_diff() {
    let tmp = tempfile::tempdir().unwrap();
    let root = crate::common::root();
    let scenario = |whatif: &str| {
        format!(
            "name = \"k\"\n[trace]\nformat = \"openb\"\npath = \"{0}/traces/data/openb/openb_pod_list_default.csv\"\n[cluster]\npath = \"{0}/traces/data/openb/openb_node_list_all_node.csv\"\nsample_one_in = 130\n[engine]\nhorizon_s = 86400\n[policy]\nname = \"kueue\"\nmanifests = \"{0}/scenarios/catalog/kueue/borrowing.yaml\"\nparams = {{ gpu_resource = \"fairway.dev/gpu-milli\", gpu_unit = \"milli\" }}\n{whatif}",
            root.display()
        )
    };
    let plain = tmp.path().join("plain.toml");
    std::fs::write(&plain, scenario("")).unwrap();
    let edited = tmp.path().join("edited.toml");
    std::fs::write(
        &edited,
        scenario("[[whatif]]\nkueue_quota = { cluster_queue = \"be\", flavor = \"default\", resource = \"fairway.dev/gpu-milli\", nominal = 20000 }\n"),
    )
    .unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    ok(&[
        "run",
        plain.to_str().unwrap(),
        "--no-report",
        "--quiet",
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&[
        "run",
        edited.to_str().unwrap(),
        "--no-report",
        "--quiet",
        "--out",
        b.to_str().unwrap(),
    ]);
    // Without what-ifs: the manifests as read, and nothing in the diff.
    assert_eq!(read(&a.join("kueue/manifests.diff")), "");
    let yaml = read(&a.join("kueue/manifests.yaml"));
    assert!(
        yaml.contains("name: be") && yaml.contains("cohortName: openb"),
        "{yaml}"
    );
    // With one: the diff changes be's GPU quota from 12000 to 20000, and nothing else.
    let diff = read(&b.join("kueue/manifests.diff"));
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")
        })
        .collect();
    assert_eq!(changed.len(), 2, "{diff}");
    assert!(
        changed[0].starts_with('-') && changed[0].contains("nominalQuota: 12000"),
        "{diff}"
    );
    assert!(
        changed[1].starts_with('+') && changed[1].contains("20000"),
        "{diff}"
    );
    // The written manifests run, and run as the what-if did.
    let applied = tmp.path().join("applied.toml");
    std::fs::write(
        &applied,
        scenario("").replace(
            &format!("{}/scenarios/catalog/kueue/borrowing.yaml", root.display()),
            &b.join("kueue/manifests.yaml").display().to_string(),
        ),
    )
    .unwrap();
    let c = tmp.path().join("c");
    ok(&[
        "run",
        applied.to_str().unwrap(),
        "--no-report",
        "--quiet",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert_eq!(read(&b.join("jobs.csv")), read(&c.join("jobs.csv")));
    assert_eq!(read(&c.join("kueue/manifests.diff")), "");
}
