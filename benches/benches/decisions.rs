//! The parts on their own: the event queue, one placement on a 10,000-node cluster, and each
//! policy's decision with 1 k and 100 k jobs pending.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use fairway_benches::cluster;
use fairway_engine::{
    Allowed, EngineOptions, Event, EventQueue, JobId, JobSpec, ModelSet, PodRequest, SimDuration, SimTime,
    Simulation, WorkloadBuilder,
};
use std::hint::black_box;

fn pod(gpu_milli: u32, cpu_milli: u64, mem_mib: u64) -> PodRequest {
    PodRequest {
        gpu_milli,
        cpu_milli,
        mem_mib,
    }
}

/// Pushes and pops 100 k events in time order with a spread of times.
fn event_queue(c: &mut Criterion) {
    let mut g = c.benchmark_group("event-queue");
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("push-pop-100k", |b| {
        b.iter(|| {
            let mut q = EventQueue::default();
            for i in 0..100_000u64 {
                // A scrambled but deterministic time for each event.
                let t = SimTime((i * 2_654_435_761) % 10_000_000);
                q.push(
                    t,
                    Event::Finish {
                        job: JobId(i as u32),
                        live: 0,
                        epoch: 0,
                    },
                );
            }
            let mut n = 0;
            while let Some(t) = q.peek_time() {
                while q.pop_at(t).is_some() {
                    n += 1;
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

/// One 4-GPU pod placed on a 10,000-node cluster whose first half is full (first-fit must pass
/// over it; the others score every node).
fn placement(c: &mut Criterion) {
    let mut cl = cluster(10_000);
    let full = pod(8000, 1000, 1024);
    let mut slots = Vec::new();
    let everything = Allowed::models(ModelSet::ANY);
    for node in cl.node_ids().take(5_000).collect::<Vec<_>>() {
        slots.clear();
        assert!(cl.pick_slots(node, &full, 1, &mut slots));
        cl.take(&full, slots[0], ModelSet::ANY).expect("fits");
    }
    let pod = pod(4000, 16_000, 64 * 1024);
    let mut g = c.benchmark_group("placement/10k-nodes-half-full");
    for name in ["first-fit", "best-fit", "spread", "random", "fgd"] {
        let mut p = fairway_policies::placement(&name.parse().expect("spec"), 1).expect("placement");
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1);
                black_box(p.place(&cl, &pod, 1, &everything, &mut out))
            })
        });
    }
    g.finish();
}

/// `pending` one-node jobs all submitted at 0 on a one-node cluster: each finish frees the node
/// and the policy picks the next from the whole queue. 100 such decisions (after the arrival of
/// the queue, also counted).
fn decisions(c: &mut Criterion) {
    let cl = cluster(1);
    let mut g = c.benchmark_group("policy-decision");
    g.sample_size(10);
    for pending in [1_000u32, 100_000] {
        let mut b = WorkloadBuilder::new("bench");
        let teams = ["a", "b", "c", "d"];
        for i in 0..pending {
            let team = b.team(teams[(i % 4) as usize]).expect("few teams");
            let mut j = JobSpec::new(
                SimTime::ZERO,
                SimDuration::from_secs(60 + u64::from(i % 97)),
                1,
                pod(8000, 1000, 1024),
                team,
            );
            j.estimate = j.work.into();
            b.push(&format!("j{i}"), 0, j).expect("valid job");
        }
        let w = b.finish();
        g.throughput(Throughput::Elements(100));
        for policy in [
            "fifo",
            "priority",
            "sjf",
            "srtf",
            "las",
            "drf",
            "fair-share",
            "easy-backfill",
        ] {
            g.bench_with_input(BenchmarkId::new(policy, pending), &pending, |bch, _| {
                bch.iter(|| {
                    let p = fairway_policies::policy(&policy.parse().expect("spec"), 1).expect("policy");
                    let pl = fairway_policies::placement(&"first-fit".parse().expect("spec"), 1).expect("pl");
                    let opts = EngineOptions {
                        horizon: Some(SimTime::from_secs(100 * 60)),
                        ..EngineOptions::default()
                    };
                    let o = Simulation::new(&w, cl.clone(), p, pl, opts)
                        .expect("valid")
                        .run()
                        .expect("runs");
                    black_box(o.counters.passes)
                })
            });
        }
    }
    g.finish();
}

/// Team-fair policies with a team per job: a pass costs what the teams with work cost, so 100,000
/// teams run near FIFO's pace (they once cost a scan of every team per pass).
fn many_teams(c: &mut Criterion) {
    let cl = fairway_benches::cluster(40);
    let per_hour = fairway_benches::per_hour_for_load(0.9, 320.0);
    let mut g = c.benchmark_group("many-teams");
    g.sample_size(10);
    for teams in [1_000usize, 100_000] {
        let w = fairway_benches::workload_of_teams(100_000, teams, per_hour, 3);
        g.throughput(Throughput::Elements(w.len() as u64));
        for policy in ["fifo", "drf", "fair-share"] {
            g.bench_with_input(BenchmarkId::new(policy, teams), &teams, |bch, _| {
                bch.iter(|| black_box(fairway_benches::run(&w, &cl, policy, "first-fit").counters.passes))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, event_queue, placement, decisions, many_teams);
criterion_main!(benches);
