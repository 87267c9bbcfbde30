//! One timed run, for quick measurements outside criterion:
//! `cargo run --release -p fairway-benches --example throughput -- JOBS NODES POLICY PLACEMENT [LOAD]`.
//! Jobs arrive at the rate that offers LOAD (default 0.8) of the cluster's GPUs.

use fairway_benches::{cluster, per_hour_for_load, workload};
use fairway_engine::{EngineOptions, SeriesPoint, SeriesSink, Simulation};
use std::time::Instant;

/// Counts series points and drops them.
struct Count(u64);
impl SeriesSink for Count {
    fn write(&mut self, points: &[SeriesPoint]) {
        self.0 += points.len() as u64;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let jobs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let nodes: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let policy = args.get(3).map_or("fifo", String::as_str);
    let placement = args.get(4).map_or("first-fit", String::as_str);
    let load: f64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(0.8);
    let per_hour = per_hour_for_load(load, f64::from(nodes) * 8.0);
    let t = Instant::now();
    let w = workload(jobs, per_hour, 42);
    let generated = t.elapsed().as_secs_f64();
    let c = cluster(nodes);
    let t = Instant::now();
    // The time series goes to a sink that only counts it, as `fairway run` streams it to disk:
    // this times the engine, not holding the series.
    let mut series = Count(0);
    let p = fairway_policies::policy(&policy.parse().expect("spec"), 1).expect("policy");
    let pl = fairway_policies::placement(&placement.parse().expect("spec"), 1).expect("placement");
    let mut sim = Simulation::new(&w, c.clone(), p, pl, EngineOptions::default()).expect("valid");
    sim.stream_series(&mut series);
    let o = sim.run().expect("runs");
    let secs = t.elapsed().as_secs_f64();
    let waits: f64 = o
        .jobs
        .iter()
        .zip(&w.jobs)
        .filter_map(|(r, j)| r.first_start().map(|s| s.since(j.submit).as_secs_f64()))
        .sum();
    println!(
        "{jobs} jobs on {} GPUs at {load} offered load ({per_hour:.0} an hour), {policy} + {placement}: generated in {generated:.2}s; {} events, {} passes in {secs:.2}s = {:.0} events/s, {:.0} jobs/s; mean wait {:.0}s; {} series points",
        nodes * 8,
        o.counters.events,
        o.counters.passes,
        o.counters.events as f64 / secs,
        jobs as f64 / secs,
        waits / jobs as f64,
        series.0
    );
}
