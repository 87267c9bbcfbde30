//! Bad scenario files and Kueue manifests: each gives one line that names the file and what is
//! wrong with which field; none panics. (The trace and node-list readers have their own
//! catalogue in `traces/tests/integration/bad_input.rs`.)

use fairway_scenarios::Scenario;
use std::path::Path;

const CLUSTER: &str = "[cluster]\n[[cluster.pool]]\nname = \"p\"\ngpu_model = \"H100\"\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n";

/// A scenario of a small synthetic trace; `policy` and `extra` complete it.
fn scenario_text(nodes: &str, policy: &str, extra: &str) -> String {
    format!(
        "name = \"b\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 10\n\
         [policy]\n{policy}\n{CLUSTER}nodes = {nodes}\n{extra}"
    )
}

/// Loads and resolves the scenario file holding `bytes`; the error, which must be one line.
fn error_of(dir: &Path, bytes: &[u8]) -> String {
    let path = dir.join("s.toml");
    std::fs::write(&path, bytes).unwrap();
    let e = match Scenario::load(&path) {
        Err(e) => e.to_string(),
        Ok(s) => match s.resolve() {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted: {}", String::from_utf8_lossy(bytes)),
        },
    };
    assert!(!e.contains('\n'), "one line: {e}");
    assert!(e.contains("s.toml"), "names the file: {e}");
    e
}

#[test]
fn bad_scenario_files_are_refused_precisely() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let fifo = "name = \"fifo\"";
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "missing field `name`"),
        (b"name = \"b\"\n[trace\n".to_vec(), "s.toml:2:"),
        (
            b"name = \"b\xff\"\n".to_vec(),
            "cannot read: stream did not contain valid UTF-8",
        ),
        (
            scenario_text("4", fifo, "")
                .replace("jobs = 10", "jobs = \"many\"")
                .into_bytes(),
            "invalid type: string \"many\"",
        ),
        (
            scenario_text("-3", fifo, "").into_bytes(),
            "invalid value: integer `-3`",
        ),
        (
            scenario_text("1000000000", fifo, "").into_bytes(),
            "more than 16777216 nodes",
        ),
        (
            scenario_text("4", fifo, "")
                .replace("gpus_per_node = 8", "gpus_per_node = 1000000000")
                .into_bytes(),
            "gpus_per_node is at most 64",
        ),
        (
            scenario_text("4", fifo, "[engine]\nhorizon_s = nan\n").into_bytes(),
            "engine.horizon_s: must be a number of seconds >= 0, found NaN",
        ),
        (
            scenario_text("4", fifo, "[engine]\nhorizon_s = inf\n").into_bytes(),
            "engine.horizon_s: must be a number of seconds >= 0, found inf",
        ),
        (
            scenario_text("4", fifo, "[engine]\ncheckpoint_every_s = -5\n").into_bytes(),
            "engine.checkpoint_every_s: must be a number of seconds > 0, found -5",
        ),
        (
            scenario_text("4", "name = \"fifo\"\nparams = { mode = \"sideways\" }", "").into_bytes(),
            "parameter 'mode' must be one of strict, best-effort, not 'sideways'",
        ),
        (scenario_text("4", "name = \"nosuch\"", "").into_bytes(), "nosuch"),
        (
            scenario_text("4", fifo, "[engine]\nsurprise = 1\n").into_bytes(),
            "unknown field `surprise`",
        ),
    ];
    for (bytes, want) in cases {
        let e = error_of(d, &bytes);
        assert!(e.contains(want), "{want:?} not in: {e}");
    }
}

#[test]
fn bad_kueue_manifests_are_refused_precisely() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/kueue/reclaim.yaml"))
            .unwrap();
    let first_quota = good.find("nominalQuota: ").unwrap() + "nominalQuota: ".len();
    let quota_end = first_quota + good[first_quota..].find('\n').unwrap();
    let with_quota = |q: &str| format!("{}{q}{}", &good[..first_quota], &good[quota_end..]).into_bytes();
    let first_cq = good.find("kind: ClusterQueue").unwrap();
    let doc_start = good[..first_cq].rfind("---").unwrap();
    let doc_end = first_cq + good[first_cq..].find("---").unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            [good.as_bytes(), b"\xff\xfe"].concat(),
            "m.yaml: cannot read: stream did not contain valid UTF-8",
        ),
        (Vec::new(), "m.yaml: no ClusterQueue found"),
        // Cut off inside a flow list.
        (
            good.as_bytes()[..good.find("coveredResources: [").unwrap() + 20].to_vec(),
            "m.yaml: ",
        ),
        (with_quota("-4"), "nominalQuota: invalid quantity '-4'"),
        (with_quota(".nan"), "non-finite float"),
        (with_quota("1e300"), "nominalQuota: invalid quantity '1e+300'"),
        (with_quota("lots"), "nominalQuota: invalid quantity 'lots'"),
        (
            good.replacen(
                "withinClusterQueue: LowerPriority",
                "withinClusterQueue: Sideways",
                1,
            )
            .into_bytes(),
            "withinClusterQueue: Unsupported value: \"Sideways\"",
        ),
        (
            format!("{good}\n{}", &good[doc_start..doc_end]).into_bytes(),
            "metadata.name: appears twice",
        ),
    ];
    let scenario = scenario_text("4", "name = \"kueue\"\nmanifests = \"m.yaml\"", "");
    std::fs::write(d.join("s.toml"), &scenario).unwrap();
    for (yaml, want) in cases {
        std::fs::write(d.join("m.yaml"), &yaml).unwrap();
        let e = match Scenario::load(&d.join("s.toml")).unwrap().resolve() {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted (expected {want:?}): {}", String::from_utf8_lossy(&yaml)),
        };
        assert!(!e.contains('\n'), "one line: {e}");
        assert!(e.contains("m.yaml"), "names the manifest file: {e}");
        assert!(e.contains(want), "{want:?} not in: {e}");
    }
}
