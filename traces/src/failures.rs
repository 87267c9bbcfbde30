//! Seeded node failures: exponential times between failures (mean MTBF) and to repair (mean
//! MTTR), per node, independently.

use fairway_engine::{NodeId, SimTime};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;

/// An interval a node is down: from `down` until `up`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outage {
    pub node: NodeId,
    pub down: SimTime,
    pub up: Option<SimTime>,
}

/// Outages of nodes `0..nodes` until `until`, every node failing after an exponential time with
/// mean `mtbf_s` and coming back after an exponential time with mean `mttr_s`. Same seed, same
/// outages. `None` if a mean is not a positive number.
pub fn generate(nodes: u32, mtbf_s: f64, mttr_s: f64, until: SimTime, seed: u64) -> Option<Vec<Outage>> {
    let fail = Exp::new(1.0 / mtbf_s)
        .ok()
        .filter(|_| mtbf_s > 0.0 && mtbf_s.is_finite())?;
    let repair = Exp::new(1.0 / mttr_s)
        .ok()
        .filter(|_| mttr_s > 0.0 && mttr_s.is_finite())?;
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x6661_696c_7572_6573);
    let mut out = Vec::new();
    for n in 0..nodes {
        let mut t = 0.0f64;
        loop {
            t += fail.sample(&mut rng) * 1000.0;
            if t >= until.millis() as f64 {
                break;
            }
            let down = t;
            t += repair.sample(&mut rng) * 1000.0;
            out.push(Outage {
                node: NodeId(n),
                down: SimTime(down as u64),
                up: Some(SimTime(t as u64)),
            });
        }
    }
    out.sort_by_key(|o| (o.down, o.node));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_rate_and_repair_time_come_out_as_asked() {
        // 100 nodes for 1000 h with MTBF 100 h and MTTR 5 h: about 1000 failures, mean repair 5 h.
        let o = generate(100, 360_000.0, 18_000.0, SimTime::from_secs(3_600_000), 7).unwrap();
        let n = o.len() as f64;
        assert!((900.0..1100.0).contains(&n), "{n} failures");
        let mean_repair: f64 = o
            .iter()
            .map(|x| (x.up.unwrap().millis() - x.down.millis()) as f64 / 1000.0)
            .sum::<f64>()
            / n;
        assert!((mean_repair - 18_000.0).abs() < 1500.0, "{mean_repair}");
        assert_eq!(
            o,
            generate(100, 360_000.0, 18_000.0, SimTime::from_secs(3_600_000), 7).unwrap()
        );
        assert!(generate(1, 0.0, 1.0, SimTime(1), 1).is_none());
    }
}
