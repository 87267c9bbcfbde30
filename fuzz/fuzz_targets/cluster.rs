#![no_main]
// Cluster files in every format (pools as TOML or CSV, openb, PAI and spot node lists), then
// the cluster built from what they give.
mod common;
use fairway_traces::cluster::ClusterFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (ext, format) in [
        ("toml", Some(ClusterFormat::Toml)),
        ("csv", Some(ClusterFormat::Csv)),
        ("csv", Some(ClusterFormat::PaiMachines)),
        ("csv", Some(ClusterFormat::SpotNodes)),
        ("csv", Some(ClusterFormat::OpenbNodes)),
        ("csv", None),
    ] {
        let path = common::scratch(data, ext);
        if let Ok(spec) = fairway_traces::cluster::read(&path, format) {
            let _ = fairway_engine::Cluster::new(&spec);
        }
    }
});
