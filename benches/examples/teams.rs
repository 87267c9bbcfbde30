//! A team-fair policy with many teams, timed: `teams JOBS TEAMS [POLICY] [LOAD]`, e.g.
//! `cargo run --release -p fairway-benches --example teams 100000 100000 drf`. A pass costs what
//! the teams with a pending job cost, so many teams with little work each run near FIFO's pace.
use std::time::Instant;

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let jobs: usize = arg(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let teams: usize = arg(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let policy = arg(3).unwrap_or_else(|| "drf".into());
    let load: f64 = arg(4).and_then(|s| s.parse().ok()).unwrap_or(0.9);
    let nodes = 40;
    let per_hour = fairway_benches::per_hour_for_load(load, f64::from(nodes * 8));
    let w = fairway_benches::workload_of_teams(jobs, teams, per_hour, 3);
    let c = fairway_benches::cluster(nodes);
    let t = Instant::now();
    let o = fairway_benches::run(&w, &c, &policy, "first-fit");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{jobs} jobs of {} teams on {} GPUs at {load} offered load, {policy}: {} events in {secs:.2}s = {:.0} jobs/s",
        w.teams.len(),
        nodes * 8,
        o.counters.events,
        jobs as f64 / secs
    );
}
