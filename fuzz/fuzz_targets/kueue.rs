#![no_main]
// Kueue manifests (YAML), as text.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = fairway_policies::kueue::manifest::load_str(text, "m.yaml", "nvidia.com/gpu");
    }
});
