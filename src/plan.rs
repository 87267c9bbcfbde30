//! `fairway plan`: the smallest capacity addition that meets every target.
//!
//! One pool's node count varies over a range of additions. The search assumes that adding nodes
//! never makes a target harder to meet (more capacity, no longer waits), bisects on that
//! assumption, and checks it on every point it evaluates: if a point meets the targets while a
//! larger one does not, the assumption is broken there and the search falls back to trying every
//! addition in order. A point meets a target when the mean over the seeds, moved by twice its
//! standard error in the unfavourable direction, is within the target.

use fairway_reports::compare::{metric_path, split_amount, value};
use serde_json::Value;

/// `[team:NAME:]METRIC<=VALUE[unit]` or `>=`.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub text: String,
    pub team: Option<String>,
    path: &'static str,
    pub at_most: bool,
    pub bound: f64,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Target, String> {
        let bad = |why: &str| {
            format!("target '{text}': {why}; write e.g. p95_wait<=2h or team:research:mean_wait<=30m")
        };
        let (scope, rest) = match text.strip_prefix("team:") {
            Some(r) => {
                let (team, rest) = r.split_once(':').ok_or_else(|| bad("team:NAME:METRIC..."))?;
                (Some(team.to_string()), rest)
            }
            None => (None, text),
        };
        let (name, at_most, amount) = if let Some((n, a)) = rest.split_once("<=") {
            (n, true, a)
        } else if let Some((n, a)) = rest.split_once(">=") {
            (n, false, a)
        } else {
            return Err(bad("no <= or >="));
        };
        let (_, path) = metric_path(name.trim(), &format!("target '{text}'"))?;
        let (v, unit) = split_amount(amount).ok_or_else(|| bad("the bound is not a number"))?;
        let bound = match unit {
            "" | "s" => v,
            "m" => v * 60.0,
            "h" => v * 3600.0,
            "d" => v * 86400.0,
            "%" => v / 100.0,
            _ => return Err(bad("unknown unit (s, m, h, d, % or none)")),
        };
        Ok(Target {
            text: text.to_string(),
            team: scope,
            path,
            at_most,
            bound,
        })
    }
}

/// A target's mean over seeds and twice its standard error.
pub fn measure(t: &Target, runs: &[Value]) -> Option<(f64, f64)> {
    let xs: Vec<f64> = runs
        .iter()
        .map(|r| value(r, t.path, t.team.as_deref()))
        .collect::<Option<_>>()?;
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some((mean, 2.0 * (var / n).sqrt()))
}

/// Whether the runs meet the target with its margin (a metric no run has fails).
pub fn meets(t: &Target, runs: &[Value]) -> bool {
    match measure(t, runs) {
        Some((m, e)) if t.at_most => m + e <= t.bound,
        Some((m, e)) => m - e >= t.bound,
        None => false,
    }
}

/// What the search found.
#[derive(Debug, PartialEq)]
pub struct Found {
    /// The smallest addition meeting every target, if any in the range does.
    pub answer: Option<i64>,
    /// Every addition evaluated, ascending.
    pub evaluated: Vec<i64>,
    /// The monotonicity assumption broke and every addition was tried.
    pub scanned: bool,
}

/// Finds the smallest x in [lo, hi] with `ok(x)`, assuming ok is monotone (false then true).
/// Bisection alone never sees a violation, so the `grid` points (the marginal-value curve) are
/// evaluated too, and the assumption is checked on everything seen; if it breaks, every x in
/// [lo, hi] is tried in order.
pub fn search(lo: i64, hi: i64, grid: &[i64], mut ok: impl FnMut(i64) -> bool) -> Found {
    let mut seen: std::collections::BTreeMap<i64, bool> = Default::default();
    let mut eval =
        |x: i64, seen: &mut std::collections::BTreeMap<i64, bool>| *seen.entry(x).or_insert_with(|| ok(x));
    let monotone = |seen: &std::collections::BTreeMap<i64, bool>| {
        // Once true, never false again.
        seen.values().skip_while(|v| !**v).all(|v| *v)
    };
    let mut answer = None;
    if eval(hi, &mut seen) {
        let (mut a, mut b) = (lo, hi); // invariant: ok(b)
        if eval(lo, &mut seen) {
            b = lo;
        }
        while a < b {
            let mid = a + (b - a) / 2;
            if eval(mid, &mut seen) {
                b = mid;
            } else {
                a = mid + 1;
            }
        }
        answer = Some(b);
    }
    for &g in grid {
        if (lo..=hi).contains(&g) {
            eval(g, &mut seen);
        }
    }
    if monotone(&seen) {
        return Found {
            answer,
            evaluated: seen.keys().copied().collect(),
            scanned: false,
        };
    }
    for x in lo..=hi {
        if eval(x, &mut seen) {
            return Found {
                answer: Some(x),
                evaluated: seen.keys().copied().collect(),
                scanned: true,
            };
        }
    }
    Found {
        answer: None,
        evaluated: seen.keys().copied().collect(),
        scanned: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_parse() {
        let t: Target = "p95_wait<=2h".parse().unwrap();
        assert_eq!((t.at_most, t.bound, t.team), (true, 7200.0, None));
        let t: Target = "team:research:mean_wait<=30m".parse().unwrap();
        assert_eq!((t.team.as_deref(), t.bound), (Some("research"), 1800.0));
        let t: Target = "gpu_allocation_rate>=60%".parse().unwrap();
        assert_eq!((t.at_most, t.bound), (false, 0.6));
        assert!(
            "p95_wait=2h"
                .parse::<Target>()
                .unwrap_err()
                .contains("no <= or >=")
        );
    }

    /// Seeds 100 and 140: mean 120, 2 SE = 2 sqrt(800 / 2) = 40; at most 150 fails (160), at most
    /// 160 holds.
    #[test]
    fn the_margin_is_twice_the_standard_error() {
        let runs = [
            json!({ "wait_s": { "p95": 100.0 } }),
            json!({ "wait_s": { "p95": 140.0 } }),
        ];
        assert_eq!(
            measure(&"p95_wait<=150".parse().unwrap(), &runs),
            Some((120.0, 40.0))
        );
        assert!(!meets(&"p95_wait<=150".parse().unwrap(), &runs));
        assert!(meets(&"p95_wait<=160".parse().unwrap(), &runs));
    }

    #[test]
    fn search_bisects_and_falls_back_when_monotonicity_breaks() {
        let mut calls = 0;
        let f = search(0, 64, &[], |x| {
            calls += 1;
            x >= 37
        });
        assert_eq!(f.answer, Some(37));
        assert!(!f.scanned && calls <= 9, "{calls} evaluations");
        assert_eq!(search(0, 10, &[], |_| false).answer, None);
        assert_eq!(search(3, 10, &[], |_| true).answer, Some(3));
        // True at 2 and from 8: bisection finds 8 (it sees 10, 0, 5, 8, 7); the grid sees 2 true
        // and 4 false, so the assumption is broken and the scan finds 2.
        let odd = |x: i64| x == 2 || x >= 8;
        assert_eq!(search(0, 10, &[], odd).answer, Some(8));
        let f = search(0, 10, &[0, 2, 4, 6, 8, 10], odd);
        assert!(f.scanned);
        assert_eq!(f.answer, Some(2));
    }
}

/// What the search over several pools found.
#[derive(Debug, PartialEq)]
pub struct FoundCheapest {
    /// The cheapest additions (one per pool) meeting every target, if any.
    pub answer: Option<Vec<i64>>,
    /// Combinations evaluated, in the order they were.
    pub evaluated: Vec<Vec<i64>>,
    /// Monotonicity broke (a combination met the targets while one with at least as many nodes
    /// of every pool did not): every combination was evaluated in cost order.
    pub scanned: bool,
}

/// The cheapest combination of additions (one range per pool, `costs` per node) with `ok`.
/// Combinations are tried in order of cost (ties: fewer nodes first, then in order). Assuming
/// more nodes never hurt, a combination with no more nodes of any pool than one that failed is
/// not evaluated; the assumption is checked on every pair of evaluated combinations.
pub fn search_cheapest(
    ranges: &[(i64, i64)],
    costs: &[f64],
    mut ok: impl FnMut(&[i64]) -> bool,
) -> FoundCheapest {
    let mut all: Vec<Vec<i64>> = vec![Vec::new()];
    for &(lo, hi) in ranges {
        all = all
            .into_iter()
            .flat_map(|c| (lo..=hi).map(move |x| [c.clone(), vec![x]].concat()))
            .collect();
    }
    let cost = |c: &[i64]| c.iter().zip(costs).map(|(&x, &p)| x as f64 * p).sum::<f64>();
    all.sort_by(|a, b| {
        cost(a)
            .total_cmp(&cost(b))
            .then(a.iter().sum::<i64>().cmp(&b.iter().sum::<i64>()))
            .then(a.cmp(b))
    });
    let le = |a: &[i64], b: &[i64]| a.iter().zip(b).all(|(x, y)| x <= y);
    let mut passed: Vec<Vec<i64>> = Vec::new();
    let mut failed: Vec<Vec<i64>> = Vec::new();
    let mut evaluated = Vec::new();
    let mut answer = None;
    for c in &all {
        if failed.iter().any(|f| le(c, f)) {
            continue; // no more of anything than a failure
        }
        evaluated.push(c.clone());
        if ok(c) {
            passed.push(c.clone());
            answer = Some(c.clone());
            break;
        }
        failed.push(c.clone());
    }
    let broken = passed.iter().any(|p| failed.iter().any(|f| le(p, f)));
    if !broken {
        return FoundCheapest {
            answer,
            evaluated,
            scanned: false,
        };
    }
    // Without the assumption: the first combination in cost order that meets the targets.
    for c in &all {
        if !evaluated.contains(c) {
            evaluated.push(c.clone());
            if ok(c) {
                return FoundCheapest {
                    answer: Some(c.clone()),
                    evaluated,
                    scanned: true,
                };
            }
        } else if passed.contains(c) {
            return FoundCheapest {
                answer: Some(c.clone()),
                evaluated,
                scanned: true,
            };
        }
    }
    FoundCheapest {
        answer: None,
        evaluated,
        scanned: true,
    }
}

#[cfg(test)]
mod cheapest_tests {
    use super::*;

    /// Needs 10 GPUs: pool a has 2-GPU nodes at cost 3, pool b 4-GPU nodes at cost 5. Cheapest:
    /// (a, b) = (1, 2): 10 GPUs for 13; (5, 0) costs 15, (3, 1) 14, (0, 3) 15.
    #[test]
    fn the_cheapest_combination_wins() {
        let f = search_cheapest(&[(0, 6), (0, 4)], &[3.0, 5.0], |c| 2 * c[0] + 4 * c[1] >= 10);
        assert_eq!(f.answer, Some(vec![1, 2]));
        assert!(!f.scanned);
        // Pruning: combinations dominated by a failure are not evaluated.
        assert!(f.evaluated.len() < 35, "{}", f.evaluated.len());
        assert_eq!(
            search_cheapest(&[(0, 1), (0, 1)], &[1.0, 1.0], |_| false).answer,
            None
        );
    }
}
