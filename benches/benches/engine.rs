//! Engine throughput: whole runs of synthetic traces, in events per second.
//!
//! The workload offers about 80 % of the cluster's GPUs on average (50 jobs/h x 2.66 GPUs x
//! ~1.5 h mean run on 256 GPUs), so queues form and drain as in a busy production cluster.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fairway_benches::{cluster, run, workload};
use std::hint::black_box;

fn whole_runs(c: &mut Criterion) {
    let cl = cluster(32);
    for (jobs, samples) in [(100_000usize, 10usize), (1_000_000, 10)] {
        let w = workload(jobs, 50.0, 42);
        let events = run(&w, &cl, "fifo", "first-fit").counters.events;
        let mut g = c.benchmark_group(format!("engine/{jobs}-jobs"));
        g.sample_size(samples);
        g.throughput(Throughput::Elements(events));
        for (policy, placement) in [
            ("fifo", "first-fit"),
            ("fifo[mode=best-effort]", "best-fit"),
            ("priority", "best-fit"),
        ] {
            g.bench_function(format!("{policy}+{placement}"), |b| {
                b.iter(|| black_box(run(&w, &cl, policy, placement)).counters.events)
            });
        }
        g.finish();
    }
}

criterion_group!(benches, whole_runs);
criterion_main!(benches);
