#![no_main]
// The sweep expander: any sweep file is loaded, expanded into runs, and each of its first runs
// turned into a scenario whose policies resolve.
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch(data, "toml");
    if let Ok(sweep) = fairway_scenarios::sweep::Sweep::load(&path) {
        let _ = sweep.digest();
        for run in sweep.runs().iter().take(8) {
            if let Ok(s) = sweep.scenario(run) {
                let _ = s.policies(&fairway_policies::Registry::builtin());
            }
        }
    }
});
