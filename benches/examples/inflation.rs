//! The workload-inflation run on a large cluster, timed: `inflation NODES TARGET [PLACEMENT]`,
//! e.g. `cargo run --release -p fairway-benches --example inflation 60000 100 best-fit` (60,000
//! nodes of 8 GPUs, arrivals until 100 times their capacity). Arrivals cycle through a 20,000-job
//! sample of the generator's mix.
use std::time::Instant;

fn main() {
    let arg = |i: usize| std::env::args().nth(i);
    let nodes: u32 = arg(1).and_then(|s| s.parse().ok()).unwrap_or(60_000);
    let target: f64 = arg(2).and_then(|s| s.parse().ok()).unwrap_or(100.0);
    let placement = arg(3).unwrap_or_else(|| "best-fit".into());
    let w = fairway_benches::workload(20_000, 3600.0, 3);
    let c = fairway_benches::cluster(nodes);
    let goal = (target * c.capacity_gpu_milli() as f64) as u64;
    let mut order = Vec::new();
    let mut arrived = 0u64;
    'fill: loop {
        for (j, spec) in w.jobs.iter().enumerate() {
            if arrived >= goal {
                break 'fill;
            }
            arrived += spec.gpu_milli();
            order.push(j);
        }
    }
    let mut p = fairway_policies::placement(&placement.parse().expect("spec"), 1).expect("placement");
    let t = Instant::now();
    let curve = fairway_engine::inflation::run(&w, &c, p.as_mut(), &order).expect("runs");
    println!(
        "{nodes} nodes, {} GPUs, target {target}: {} arrivals under {placement} in {:.2}s; allocation {:.3}",
        nodes * 8,
        order.len(),
        t.elapsed().as_secs_f64(),
        curve.final_ratio()
    );
}
