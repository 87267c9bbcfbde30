//! The workload-inflation experiment of Weng et al., "Beware of Fragmentation" (USENIX ATC '23),
//! as a scenario mode: pods of the trace arrive one after another in a seeded shuffled order
//! (reshuffled and drawn again when the trace runs out) and never leave, until the GPU demand that
//! arrived reaches a target fraction of the cluster's GPU capacity. Each arrival is placed by the
//! placement under test, or fails if it does not fit. The curve of allocated against arrived GPU
//! capacity shows how much of the cluster a placement can fill before fragmentation stops it.
//!
//! Every placement sees the same arrival order, so curves compare placements and nothing else.

use fairway_engine::{GPU_MILLI, Workload};
use rand::SeedableRng;
use rand::seq::SliceRandom;

pub use fairway_engine::inflation::{Arrival, Curve, InflationError, run};

/// Why the experiment cannot start.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InflationSetupError {
    #[error("the trace has no job that asks for a GPU, so GPU demand can never arrive")]
    NoGpuJobs,
    #[error("the cluster has no GPU")]
    NoGpus,
    #[error("target must be a fraction > 0 of GPU capacity, not {0}")]
    Target(f64),
}

/// The arrival order: indices of the workload's jobs, shuffled, reshuffled each time they run out,
/// until `target` (a fraction of `capacity_gpu_milli`) of GPU demand has arrived.
pub fn arrival_order(
    w: &Workload,
    capacity_gpu_milli: u64,
    target: f64,
    seed: u64,
) -> Result<Vec<usize>, InflationSetupError> {
    let demand: Vec<u64> = w.jobs.iter().map(|j| j.gpu_milli()).collect();
    if demand.iter().all(|&d| d == 0) {
        return Err(InflationSetupError::NoGpuJobs);
    }
    if capacity_gpu_milli == 0 {
        return Err(InflationSetupError::NoGpus);
    }
    if !(target.is_finite() && target > 0.0) {
        return Err(InflationSetupError::Target(target));
    }
    let goal = (target * capacity_gpu_milli as f64).ceil() as u64;
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ 0x696e_666c_6174_6521);
    let mut deck: Vec<usize> = (0..w.len()).collect();
    let mut order = Vec::new();
    let mut arrived = 0u64;
    while arrived < goal {
        deck.shuffle(&mut rng);
        for &j in &deck {
            if arrived >= goal {
                break;
            }
            arrived += demand[j];
            order.push(j);
        }
    }
    Ok(order)
}

/// Whole GPUs in `milli`, for messages.
pub fn gpus(milli: u64) -> f64 {
    milli as f64 / f64::from(GPU_MILLI)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairway_engine::{
        Cluster, ClusterSpec, JobSpec, PodRequest, PoolSpec, SimDuration, SimTime, WorkloadBuilder,
    };

    fn workload(gpu_milli: &[u32]) -> Workload {
        let mut b = WorkloadBuilder::new("t");
        let team = b.team("t").unwrap();
        for (i, &g) in gpu_milli.iter().enumerate() {
            let pod = PodRequest {
                gpu_milli: g,
                cpu_milli: 1000,
                mem_mib: 1024,
            };
            let spec = JobSpec::new(SimTime(0), SimDuration::from_secs(1), 1, pod, team);
            b.push(&format!("p{i}"), i as u32, spec).unwrap();
        }
        b.finish()
    }

    fn two_gpus() -> Cluster {
        Cluster::new(&ClusterSpec {
            pools: vec![PoolSpec::new("n", Some("T4"), 1, 2, 64, 512)],
        })
        .unwrap()
    }

    /// Demand arrives until it reaches the target, drawing the trace again when it runs out.
    #[test]
    fn the_order_reaches_the_target_and_repeats_the_trace() {
        let w = workload(&[1000, 500, 0]);
        // Capacity 2 GPUs, target 1.3: 2600 milli-GPU. One deck brings 1500.
        let order = arrival_order(&w, 2000, 1.3, 7).unwrap();
        let demand: u64 = order.iter().map(|&j| w.jobs[j].gpu_milli()).sum();
        assert!(demand >= 2600);
        // The last arrival is the one that crossed the target.
        let before: u64 = order[..order.len() - 1]
            .iter()
            .map(|&j| w.jobs[j].gpu_milli())
            .sum();
        assert!(before < 2600);
        // The first deck is a permutation of the trace.
        let mut first: Vec<usize> = order[..3].to_vec();
        first.sort_unstable();
        assert_eq!(first, [0, 1, 2]);
        assert_eq!(order, arrival_order(&w, 2000, 1.3, 7).unwrap());
        assert!(arrival_order(&workload(&[0]), 2000, 1.3, 7).is_err());
    }

    /// Two GPUs; arrivals of 0.6, 0.6, 0.6 and 1.0 GPU. No GPU holds two 0.6 pods, so the first
    /// two take one GPU each (0.4 left on each); the third fits nowhere, nor does the whole-GPU
    /// pod. Allocated 1.2 of 2: ratio 0.6, with 2.8 arrived.
    #[test]
    fn the_curve_counts_what_fits() {
        let w = workload(&[600, 600, 600, 1000]);
        let mut p = fairway_policies::placement(&"best-fit".parse().unwrap(), 1).unwrap();
        let curve = run(&w, &two_gpus(), p.as_mut(), &[0, 1, 2, 3]).unwrap();
        let got: Vec<(bool, u64, u64)> = curve
            .arrivals
            .iter()
            .map(|a| (a.placed, a.arrived_gpu_milli, a.allocated_gpu_milli))
            .collect();
        assert_eq!(
            got,
            [
                (true, 600, 600),
                (true, 1200, 1200),
                (false, 1800, 1200),
                (false, 2800, 1200)
            ]
        );
        assert_eq!(curve.final_ratio(), 0.6);
        assert_eq!(curve.ratio_at(0.9), Some(0.6));
        assert_eq!(curve.failed(), 2);
    }

    /// Skipping a shape that found no room changes nothing: for every built-in placement, on
    /// random workloads filled to three times capacity, the curve equals the one of a plain loop
    /// that tries every arrival.
    #[test]
    fn skipping_full_shapes_changes_no_curve() {
        use fairway_engine::{Allowed, PodSlot};
        let mut next = {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            move |m: u64| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % m
            }
        };
        for round in 0..6 {
            let g: Vec<u32> = (0..30)
                .map(|_| [250, 500, 1000, 2000][next(4) as usize])
                .collect();
            let w = workload(&g);
            let c = Cluster::new(&ClusterSpec {
                pools: vec![PoolSpec::new("n", Some("T4"), 3, 4, 64, 512)],
            })
            .unwrap();
            let order = arrival_order(&w, c.capacity_gpu_milli(), 3.0, round).unwrap();
            for name in ["first-fit", "best-fit", "spread", "random", "fgd"] {
                let spec = name.parse().unwrap();
                let mut p = fairway_policies::placement(&spec, round).unwrap();
                let fast = run(&w, &c, p.as_mut(), &order).unwrap();
                // The reference: every arrival tried.
                let mut p = fairway_policies::placement(&spec, round).unwrap();
                let mut cl = c.clone();
                let mut slots: Vec<PodSlot> = Vec::new();
                let placed: Vec<bool> = order
                    .iter()
                    .map(|&j| {
                        let s = &w.jobs[j];
                        p.observe_arrival(s);
                        slots.clear();
                        let ok = p.place(&cl, &s.pod, s.pods, &Allowed::job(s), &mut slots);
                        if ok {
                            for &slot in &slots {
                                cl.take(&s.pod, slot, s.models).unwrap();
                            }
                        }
                        ok
                    })
                    .collect();
                let got: Vec<bool> = fast.arrivals.iter().map(|a| a.placed).collect();
                assert_eq!(got, placed, "{name}, round {round}");
                assert!(got.iter().any(|p| !p), "the cluster filled up");
            }
        }
    }
}
