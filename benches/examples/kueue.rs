//! One timed run of the Kueue contention set-up, for profiling outside criterion:
//! `cargo run --release -p fairway-benches --example kueue -- [JOBS [VERSION [NODES [QUEUES [PER_COHORT]]]]]`
//! (default 100 000 workloads, the newest Kueue release the model follows (`newest`), the bench's
//! 25 nodes (`-` keeps them), and 50 ClusterQueues in cohorts of 10; each queue has 4 GPUs of
//! quota, so fewer nodes or more queues make quota exceed what the cluster holds, and larger
//! cohorts give each preemption search more candidates).

use fairway_benches::{kueue, run};
use std::hash::{Hash, Hasher};
use std::time::Instant;

fn main() {
    let jobs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let queues: usize = std::env::args()
        .nth(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or(kueue::QUEUES);
    let w = kueue::workload_of_queues(jobs, queues);
    let version = std::env::args().nth(2).filter(|v| v != "newest");
    let cl = match std::env::args().nth(3).and_then(|s| s.parse().ok()) {
        Some(nodes) => fairway_benches::cluster(nodes),
        None => kueue::cluster(),
    };
    let per_cohort: usize = std::env::args()
        .nth(5)
        .and_then(|s| s.parse().ok())
        .unwrap_or(kueue::PER_COHORT)
        .max(1);
    let (path, text) = kueue::policy_text(&w, version.as_deref(), per_cohort);
    let t = Instant::now();
    let o = run(&w, &cl, &text, "best-fit");
    let secs = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    // A digest of every job's record: equal digests mean equal decisions.
    let mut h = std::hash::DefaultHasher::new();
    for r in &o.jobs {
        format!("{r:?}").hash(&mut h);
    }
    println!(
        "{jobs} workloads, {queues} ClusterQueues in {} cohorts: {} events, {} passes, {} preemptions in {secs:.2}s = {:.0} events/s, {:.0} jobs/s; outcome digest {:016x}",
        queues.div_ceil(per_cohort),
        o.counters.events,
        o.counters.passes,
        o.counters.preemptions,
        o.counters.events as f64 / secs,
        jobs as f64 / secs,
        h.finish()
    );
}
