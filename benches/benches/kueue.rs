//! Kueue admission throughput: 50 ClusterQueues in 5 cohorts, 100 k workloads arriving within a
//! few minutes, so that queues hold tens of thousands of pending workloads while quota turns over;
//! and 1,000 ClusterQueues whose quota (4,000 GPUs) is 20 times the cluster's, in cohorts of 10
//! and in one cohort, where costs that grow with the number of queues and with the admitted
//! workloads of a cohort show.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fairway_benches::{kueue, run};
use std::hint::black_box;

fn admission(c: &mut Criterion) {
    let jobs = 100_000;
    let w = kueue::workload(jobs);
    let cl = kueue::cluster();
    let (path, text) = kueue::policy_text(&w, None, kueue::PER_COHORT);
    let mut g = c.benchmark_group("kueue/50-cqs-5-cohorts");
    g.sample_size(10);
    g.throughput(Throughput::Elements(jobs as u64));
    g.bench_function("100k-workloads", |b| {
        b.iter(|| black_box(run(&w, &cl, &text, "best-fit").counters.starts))
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

fn thousand_queues(c: &mut Criterion) {
    let mut g = c.benchmark_group("kueue/1000-cqs");
    g.sample_size(10);
    let cl = kueue::cluster();
    for (name, jobs, per_cohort) in [
        ("100-cohorts-20k-workloads", 20_000, 10),
        ("one-cohort-10k-workloads", 10_000, 1000),
    ] {
        let w = kueue::workload_of_queues(jobs, 1000);
        let (path, text) = kueue::policy_text(&w, None, per_cohort);
        g.throughput(Throughput::Elements(jobs as u64));
        g.bench_function(name, |b| {
            b.iter(|| black_box(run(&w, &cl, &text, "best-fit").counters.starts))
        });
        let _ = std::fs::remove_file(&path);
    }
    g.finish();
}

criterion_group!(benches, admission, thousand_queues);
criterion_main!(benches);
