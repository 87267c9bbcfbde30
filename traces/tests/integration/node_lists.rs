//! The other shipped node lists read into the composition their provenance notes state
//! (traces/data/README.md), and their bad rows are named.

use crate::common::data;
use fairway_traces::{ClusterFormat, cluster};

/// GPUs per model over all pools.
fn by_model(spec: &fairway_engine::ClusterSpec) -> Vec<(String, u32)> {
    let mut m: std::collections::BTreeMap<String, u32> = Default::default();
    for p in &spec.pools {
        let k = p.gpu_model.clone().unwrap_or_else(|| "cpu".into());
        *m.entry(k).or_default() += p.nodes * p.gpus_per_node;
    }
    m.into_iter().collect()
}

/// PAI 2020: 1,897 machines, 6,742 GPUs: MISC 280x8, P100 798x2, T4 497x2, V100 104x8 (45 with
/// 384 GB, 59 with 512 GB), V100M32 135x8, and 83 CPU-only machines.
#[test]
fn the_pai_machine_list() {
    let path = data("alibaba-pai-2020/pai_machine_spec.csv");
    assert_eq!(ClusterFormat::detect(&path).unwrap(), ClusterFormat::PaiMachines);
    let spec = cluster::read(&path, None).unwrap();
    assert_eq!(spec.pools.iter().map(|p| p.nodes).sum::<u32>(), 1897);
    assert_eq!(
        by_model(&spec),
        [
            ("MISC".into(), 2240),
            ("P100".into(), 1596),
            ("T4".into(), 994),
            ("V100".into(), 832),
            ("V100M32".into(), 1080),
            ("cpu".into(), 0)
        ]
    );
    let v100: Vec<(u32, u64)> = spec
        .pools
        .iter()
        .filter(|p| p.gpu_model.as_deref() == Some("V100"))
        .map(|p| (p.nodes, p.mem_mib / 1024))
        .collect();
    // Pools in order of first appearance in the file.
    assert_eq!(v100, [(45, 384), (59, 512)]);
    let cpu_only: u32 = spec
        .pools
        .iter()
        .filter(|p| p.gpus_per_node == 0)
        .map(|p| p.nodes)
        .sum();
    assert_eq!(cpu_only, 83);
}

/// Spot 2026: 4,278 nodes, 10,412 GPUs: A10 2,494x1, A100-SXM4-80GB 432x8, A800 22x8, H800
/// 219x8, GPU-series-1 1,558 GPUs on 989 nodes, GPU-series-2 122x8.
#[test]
fn the_spot_node_list() {
    let path = data("alibaba-spot-2026/node_info_df.csv");
    assert_eq!(ClusterFormat::detect(&path).unwrap(), ClusterFormat::SpotNodes);
    let spec = cluster::read(&path, None).unwrap();
    assert_eq!(spec.pools.iter().map(|p| p.nodes).sum::<u32>(), 4278);
    assert_eq!(
        by_model(&spec),
        [
            ("A10".into(), 2494),
            ("A100-SXM4-80GB".into(), 3456),
            ("A800-SXM4-80GB".into(), 176),
            ("GPU-series-1".into(), 1558),
            ("GPU-series-2".into(), 976),
            ("H800".into(), 1752)
        ]
    );
    assert!(
        spec.pools
            .iter()
            .all(|p| p.mem_mib == cluster::UNSTATED_MEMORY_MIB)
    );
}

#[test]
fn bad_node_rows_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "pai.csv",
            ClusterFormat::PaiMachines,
            "7399a758eb02bae1a3621236,CPU,96,512,0\n75c536d5ba60528b3ef3ae40,CPU,96,512,8\n",
            "pai.csv:2: column 'cap_gpu'",
        ),
        (
            "pai2.csv",
            ClusterFormat::PaiMachines,
            "7399a758eb02bae1a3621236,T4,ninety,512,2\n",
            "pai2.csv:1: column 'cap_cpu'",
        ),
        (
            "spot.csv",
            ClusterFormat::SpotNodes,
            "gpu_model,gpu_capacity_num,cpu_num,node_name\nA10,1,128,0\nA10,-1,128,1\n",
            "spot.csv:3: column 'gpu_capacity_num'",
        ),
        (
            "spot2.csv",
            ClusterFormat::SpotNodes,
            "gpu_model,gpu_capacity_num,cpu_num,node_name\nH800,99,128,0\n",
            "at most 64 GPUs per node",
        ),
        (
            "empty.csv",
            ClusterFormat::SpotNodes,
            "gpu_model,gpu_capacity_num,cpu_num,node_name\n",
            "no nodes",
        ),
    ];
    for (name, format, text, want) in cases {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        let e = cluster::read(&p, Some(format)).unwrap_err().to_string();
        assert!(e.contains(want), "{name}: {e}\nwant {want}");
    }
}
