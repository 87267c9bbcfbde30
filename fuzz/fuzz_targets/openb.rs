#![no_main]
// The openb pod-list and node-list readers.
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch(data, "csv");
    let _ = fairway_traces::read(&path, fairway_traces::TraceFormat::Openb);
    let _ = fairway_traces::openb::read_nodes(&path);
});
