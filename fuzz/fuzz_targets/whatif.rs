#![no_main]
// The what-if appliers: a scenario with an inline cluster and a small generated trace, plus any
// `[[whatif]]` edits, resolved (edits applied to the cluster and the workload).
use libfuzzer_sys::fuzz_target;

const BASE: &str = "name = \"w\"\n[trace]\nformat = \"synthetic\"\n[trace.synthetic]\njobs = 50\n\
    [cluster]\n[[cluster.pool]]\nname = \"g\"\ngpu_model = \"A100\"\nnodes = 2\ngpus_per_node = 8\ncpu = 64\nmemory_gib = 512\n\
    [policy]\nname = \"fifo\"\n";

fuzz_target!(|data: &[u8]| {
    if let Ok(edits) = std::str::from_utf8(data)
        && let Ok(s) = fairway_scenarios::Scenario::parse(&format!("{BASE}{edits}"), "w.toml")
    {
        let _ = s.resolve();
    }
});
