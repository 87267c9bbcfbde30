//! Kueue admission throughput: 50 ClusterQueues in 5 cohorts, 100 k workloads arriving within a
//! few minutes, so that queues hold tens of thousands of pending workloads while quota turns over.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fairway_benches::{kueue, run};
use std::hint::black_box;

fn admission(c: &mut Criterion) {
    let jobs = 100_000;
    let w = kueue::workload(jobs);
    let cl = kueue::cluster();
    let (path, text) = kueue::policy_text(&w, None);
    let mut g = c.benchmark_group("kueue/50-cqs-5-cohorts");
    g.sample_size(10);
    g.throughput(Throughput::Elements(jobs as u64));
    g.bench_function("100k-workloads", |b| {
        b.iter(|| black_box(run(&w, &cl, &text, "best-fit").counters.starts))
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, admission);
criterion_main!(benches);
