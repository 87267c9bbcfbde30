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

/// The most outages one set of settings may draw: each is two events of the run, and drawing
/// them all comes before the run starts.
pub const MAX_OUTAGES: u64 = 1_000_000;

/// Why outages cannot be drawn.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FailureError {
    #[error(
        "the mean times between failures and to repair must be numbers > 0, found {mtbf_s:?} s and {mttr_s:?} s"
    )]
    BadMean { mtbf_s: f64, mttr_s: f64 },
    /// The settings would draw more outages than [`MAX_OUTAGES`].
    #[error(
        "{nodes} nodes over {until_s:?} s, failing after {mtbf_s:?} s and repaired after {mttr_s:?} s on average, make about {expected:.0} outages, more than the limit of {limit}"
    )]
    TooMany {
        nodes: u32,
        mtbf_s: f64,
        mttr_s: f64,
        until_s: f64,
        expected: f64,
        limit: u64,
    },
}

/// Outages of nodes `0..nodes` until `until`, every node failing after an exponential time with
/// mean `mtbf_s` and coming back after an exponential time with mean `mttr_s`. Same seed, same
/// outages. Refuses settings that would draw more than [`MAX_OUTAGES`], counted before any is
/// drawn (from the means) and again as they are.
pub fn generate(
    nodes: u32,
    mtbf_s: f64,
    mttr_s: f64,
    until: SimTime,
    seed: u64,
) -> Result<Vec<Outage>, FailureError> {
    let valid = |m: f64| m > 0.0 && m.is_finite();
    let (true, true, Ok(fail), Ok(repair)) = (
        valid(mtbf_s),
        valid(mttr_s),
        Exp::new(1.0 / mtbf_s),
        Exp::new(1.0 / mttr_s),
    ) else {
        return Err(FailureError::BadMean { mtbf_s, mttr_s });
    };
    let until_s = until.as_secs_f64();
    // Four significant digits: the means are often hours times 3600, which an f64 blurs.
    let approx = |x: f64| format!("{x:.3e}").parse().unwrap_or(x);
    let too_many = |expected: f64| FailureError::TooMany {
        nodes,
        mtbf_s: approx(mtbf_s),
        mttr_s: approx(mttr_s),
        until_s,
        expected,
        limit: MAX_OUTAGES,
    };
    // A node fails about once per MTBF + MTTR.
    let expected = f64::from(nodes) * until_s / (mtbf_s + mttr_s);
    if expected > MAX_OUTAGES as f64 {
        return Err(too_many(expected));
    }
    let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x6661_696c_7572_6573);
    let mut out = Vec::new();
    for n in 0..nodes {
        let mut t = 0.0f64;
        loop {
            t += fail.sample(&mut rng) * 1000.0;
            if t >= until.millis() as f64 {
                break;
            }
            if out.len() as u64 == MAX_OUTAGES {
                return Err(too_many(expected));
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
    Ok(out)
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
        assert!(matches!(
            generate(1, 0.0, 1.0, SimTime(1), 1),
            Err(FailureError::BadMean { .. })
        ));
    }

    /// A tiny MTBF would draw billions of outages: refused before drawing any, saying how many
    /// and what the limit is.
    #[test]
    fn settings_that_would_draw_too_many_outages_are_refused() {
        let e = generate(10, 3.6e-6, 3.6e-6, SimTime::from_secs(86_400), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "10 nodes over 86400.0 s, failing after 3.6e-6 s and repaired after 3.6e-6 s on average, make about 120000000000 outages, more than the limit of 1000000"
        );
        // Just under the limit on average: drawn, or refused as the count passes it.
        match generate(1000, 0.5, 0.5, SimTime::from_secs(999), 1) {
            Ok(o) => assert!(o.len() as u64 <= MAX_OUTAGES),
            Err(e) => assert!(matches!(e, FailureError::TooMany { .. }), "{e}"),
        }
    }
}
