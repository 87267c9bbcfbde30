#![no_main]
// The scenario loader: parse and check any text, and resolve what passes (files it names are
// relative to a folder with none in it, so only generated traces and inline pools resolve).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(s) = fairway_scenarios::Scenario::parse(text, "s.toml")
    {
        let _ = s.policies(&fairway_policies::Registry::builtin());
    }
});
