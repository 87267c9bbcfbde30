//! The worked examples of the Kueue specification (kueue.md section 6), through the engine.

use super::*;

/// 6.2: cohort `pool`; prod (nominal 16, reclaimWithinCohort Any, withinClusterQueue
/// LowerPriority) and research (nominal 8). p1 (prod, 8, prio 100) and r1 8 / r2 4 / r3 4
/// (research, prio 50 / 50 / 10, admitted in that order) fill the 24 GPUs.
/// p2 (8, prio 100): prod stays within nominal (8 + 8 <= 16), so research's workloads are
/// reclaimed whatever their priority; r3 (lowest priority) then r2 (newer than r1) free 8 GPUs;
/// filling back r3 would leave 4 < 8, so both go: victims {r2, r3}, reason InCohortReclamation.
/// p3 (12, prio 100) would make prod borrow; without borrowWithinCohort nothing may be taken:
/// no victims, p3 waits (WaitingForQuota).
fn classical_setup(extra: (&str, J)) -> Run {
    let yaml = format!(
        "{H100}{}{}",
        cq(
            "prod",
            Some("pool"),
            16,
            "  preemption:\n    reclaimWithinCohort: Any\n    withinClusterQueue: LowerPriority\n"
        ),
        cq("research", Some("pool"), 8, "")
    );
    let jobs = [
        ("p1", J("prod", 0, 1000, 8, 1, 0, 100)),
        ("r1", J("research", 1, 1000, 8, 1, 0, 50)),
        ("r2", J("research", 2, 1000, 4, 1, 0, 50)),
        ("r3", J("research", 3, 1000, 4, 1, 0, 10)),
        extra,
    ];
    run_named(&yaml, nodes(3), &jobs, "")
}

#[test]
fn classical_reclaim_takes_the_lowest_priority_newest_first() {
    let r = classical_setup(("p2", J("prod", 10, 100, 8, 1, 0, 100)));
    assert_eq!(r.preempted_at(10), vec!["r2", "r3"]);
    for (_, why, by) in r.preemptions() {
        assert_eq!((why.as_str(), by.as_deref()), ("InCohortReclamation", Some("p2")));
    }
    assert_eq!(r.start("p2"), Some(10));
    // r1 is protected: research is exactly at its nominal 8.
    assert_eq!(r.job("r1").preemptions, 0);
    // r2 and r3 wait for prod to shrink: p2 ends at 110, and parked (inadmissible) workloads
    // return to the queue at the next flush, which Kueue batches over 1 s: 111.
    assert_eq!(r.job("r2").last_start().map(|t| t.millis() / 1000), Some(111));
}

#[test]
fn classical_no_reclaim_while_borrowing() {
    // 12 GPUs as 2 pods of 6.
    let r = classical_setup(("p3", J("prod", 10, 100, 2, 6, 0, 100)));
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    // p1 ends at 1000; the flush that brings p3 back comes 1 s later.
    assert_eq!(r.start("p3"), Some(1001));
    assert_eq!(r.pending_s("prod", "WaitingForQuota"), 991);
}

/// 6.3: flat cohort, A, B, C with nominal 8 each, reclaimWithinCohort Any, fair sharing on.
/// A holds a1 8, a2 4, a3 2 (admitted in that order), B holds b1 6, b2 4: the 24 GPUs are full.
/// c1 (8): C stays within nominal, so it may take from any over-nominal queue: a3, a2 (A is then
/// at nominal), b2; filling back spares a3 (free would be 8): victims {a2, b2}.
/// c1' (10): C would borrow 2; no candidate passes either strategy's test: nothing is preempted.
fn fair_setup(extra: (&str, J)) -> Run {
    let config = "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing: {}\n";
    let any = "  preemption:\n    reclaimWithinCohort: Any\n";
    let yaml = format!(
        "{H100}{}{}{}{config}",
        cq("a", Some("all"), 8, any),
        cq("b", Some("all"), 8, any),
        cq("c", Some("all"), 8, any)
    );
    let jobs = [
        ("a1", J("a", 1, 1000, 8, 1, 0, 0)),
        ("a2", J("a", 2, 1000, 4, 1, 0, 0)),
        ("a3", J("a", 3, 1000, 2, 1, 0, 0)),
        ("b1", J("b", 4, 1000, 6, 1, 0, 0)),
        ("b2", J("b", 5, 1000, 4, 1, 0, 0)),
        extra,
    ];
    run_named(&yaml, nodes(3), &jobs, "")
}

#[test]
fn fair_sharing_within_nominal_reclaims_from_the_highest_shares() {
    let r = fair_setup(("c1", J("c", 10, 100, 8, 1, 0, 0)));
    assert_eq!(r.preempted_at(10), vec!["a2", "b2"]);
    assert!(
        r.preemptions()
            .iter()
            .all(|(_, why, by)| why == "InCohortReclamation" && by.as_deref() == Some("c1"))
    );
    assert_eq!(r.start("c1"), Some(10));
    assert_eq!(r.job("a3").preemptions, 0);
}

#[test]
fn fair_sharing_will_not_let_a_borrower_overtake() {
    let r = fair_setup(("c1x", J("c", 10, 100, 10, 1, 0, 0)));
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    // c1' waits until a1 finishes at 1001, and for the flush 1 s later.
    assert_eq!(r.start("c1x"), Some(1002));
}

/// 6.1: A (8 GPU, 64 CPU, weight 1), B (8, 64, weight 2), C (16, 128, lendingLimit gpu 8), fair
/// sharing on, no preemption. Usage: A 14 GPU / 40 CPU, B 4 / 100, C 4 / 20. Heads wA and wB each
/// ask 4 GPU + 8 CPU; the cohort has 24 - 18 = 6 GPUs free, so only one fits.
/// With its head added, A's share is 1000 x 10 / 24 = 416.7 and B's 1000 x 44 / 256 / 2 = 85.9:
/// wB wins the tournament and is admitted; wA waits.
#[test]
fn the_fair_sharing_tournament_admits_the_lower_share_first() {
    let rg = |g: i64, c: i64, ll: &str| {
        format!(
            "  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\", \"cpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: {g}\n{ll}      - name: cpu\n        nominalQuota: {c}\n"
        )
    };
    let q = |name: &str, weight: &str, body: String| {
        format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n  cohortName: research\n  fairSharing:\n    weight: {weight}\n{body}"
        )
    };
    let yaml = format!(
        "{H100}{}{}{}---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing: {{}}\n",
        q("a", "1", rg(8, 64, "")),
        q("b", "2", rg(8, 64, "")),
        q("c", "1", rg(16, 128, "        lendingLimit: 8\n"))
    );
    let jobs = [
        ("a-gpu", J("a", 0, 1000, 14, 1, 0, 0)),
        ("a-cpu", J("a", 0, 1000, 1, 0, 40, 0)),
        ("b-gpu", J("b", 0, 1000, 4, 1, 0, 0)),
        ("b-cpu", J("b", 0, 1000, 1, 0, 100, 0)),
        ("c-gpu", J("c", 0, 1000, 4, 1, 0, 0)),
        ("c-cpu", J("c", 0, 1000, 1, 0, 20, 0)),
        ("wa", J("a", 10, 50, 1, 4, 8, 0)),
        ("wb", J("b", 10, 50, 1, 4, 8, 0)),
    ];
    let r = run_named(&yaml, nodes(4), &jobs, "");
    assert_eq!(r.start("wb"), Some(10));
    // wA fits once wB is done (its 4 GPUs come back at 60, the flush at 61).
    assert_eq!(r.start("wa"), Some(61));
    assert_eq!(r.pending_s("a", "WaitingForQuota"), 51);
}
