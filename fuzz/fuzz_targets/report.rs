#![no_main]
// The report reader: any bytes as a run folder's summary.json next to a manifest that lists
// it, then the folder read as a run (summary, tables) as `fairway report` reads it.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("fairway-fuzz-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let Ok(claim) = fairway_reports::output::claim(&dir, false, "fuzz") else { return };
    if fairway_reports::write_atomic(&dir.join("summary.json"), |f| f.write_all(data)).is_err() {
        return;
    }
    let _ = claim.complete();
    drop(claim);
    let _ = fairway_reports::RunSummary::read(&dir);
    let _ = fairway_reports::render::RunData::load(&dir);
});
