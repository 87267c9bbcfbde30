#![no_main]
// The canonical trace reader: any bytes give a workload or an error, never a panic.
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch(data, "csv");
    let _ = fairway_traces::read(&path, fairway_traces::TraceFormat::Canonical);
});
