#![no_main]
// The speed table and the speed matrix.
mod common;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch(data, "csv");
    let _ = fairway_traces::speeds::read_table(&path);
    let _ = fairway_traces::speeds::read_matrix(&path);
});
