//! A cluster of many distinct node shapes, timed from its description to the end of a run:
//! `shapes POOLS [JOBS] [PLACEMENT]`, e.g. `cargo run --release -p fairway-benches --example shapes
//! 100000 1000 best-fit`. Every pool is one node of its own CPU and memory.
use fairway_engine::{Cluster, ClusterSpec, PoolSpec};
use std::time::Instant;

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let pools: u32 = arg(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let jobs: usize = arg(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let placement = arg(3).unwrap_or_else(|| "best-fit".into());
    let spec = ClusterSpec {
        pools: (0..pools)
            .map(|i| {
                PoolSpec::new(
                    &format!("p{i}"),
                    Some("A100"),
                    1,
                    8,
                    16 + u64::from(i % 997),
                    64 + u64::from(i / 997),
                )
            })
            .collect(),
    };
    let t = Instant::now();
    let c = Cluster::new(&spec).expect("valid cluster");
    let built = t.elapsed().as_secs_f64();
    let mut w = fairway_benches::workload(jobs, 3600.0, 3);
    w.bind_models(&c).expect("A100");
    let t = Instant::now();
    let o = fairway_benches::run(&w, &c, "fifo", &placement);
    println!(
        "{pools} node shapes: cluster built in {built:.2}s; {jobs} jobs under fifo + {placement} in {:.2}s ({} events)",
        t.elapsed().as_secs_f64(),
        o.counters.events
    );
}
