//! Properties over random manifests and traces: the engine's audit and the policy's own books
//! (quota never above what the tree allows, usage equal to the admitted workloads, every victim a
//! valid candidate) hold after every pass; nothing is dropped; runs are deterministic.

use super::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Q {
    cohort: u8,
    nominal: i64,
    borrowing: Option<i64>,
    lending: Option<i64>,
    strict: bool,
    within: u8,
    reclaim: u8,
    borrow_within: Option<Option<i32>>,
    weight: u8,
}

fn queue() -> impl Strategy<Value = Q> {
    (
        0u8..2,
        0i64..12,
        prop::option::of(0i64..6),
        prop::option::of(0i64..12),
        any::<bool>(),
        0u8..3,
        0u8..3,
        prop::option::weighted(0.3, prop::option::of(-1i32..3)),
        0u8..3,
    )
        .prop_map(
            |(cohort, nominal, borrowing, lending, strict, within, reclaim, borrow_within, weight)| Q {
                cohort,
                nominal,
                borrowing,
                lending: lending.map(|l| l.min(nominal)),
                strict,
                within,
                reclaim,
                borrow_within,
                weight,
            },
        )
}

fn yaml(qs: &[Q], fair: bool, hierarchical: bool) -> String {
    let mut out = H100.to_string();
    if hierarchical {
        out.push_str("---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: c1\nspec:\n  parentName: c0\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 2\n");
    }
    for (i, q) in qs.iter().enumerate() {
        let mut extra = String::new();
        let limits = format!(
            "{}{}",
            q.borrowing
                .map(|b| format!("        borrowingLimit: {b}\n"))
                .unwrap_or_default(),
            q.lending
                .map(|l| format!("        lendingLimit: {l}\n"))
                .unwrap_or_default()
        );
        if q.strict {
            extra.push_str("  queueingStrategy: StrictFIFO\n");
        }
        let within = ["Never", "LowerPriority", "LowerOrNewerEqualPriority"][q.within as usize];
        let reclaim = ["Never", "LowerPriority", "Any"][q.reclaim as usize];
        extra.push_str(&format!(
            "  preemption:\n    withinClusterQueue: {within}\n    reclaimWithinCohort: {reclaim}\n"
        ));
        if let (Some(t), false) = (q.borrow_within, q.reclaim == 0) {
            extra.push_str("    borrowWithinCohort:\n      policy: LowerPriority\n");
            if let Some(t) = t {
                extra.push_str(&format!("      maxPriorityThreshold: {t}\n"));
            }
        }
        extra.push_str(&format!(
            "  fairSharing:\n    weight: {}\n",
            ["1", "2", "0.5"][q.weight as usize]
        ));
        let text = cq(
            &format!("q{i}"),
            Some(&format!("c{}", q.cohort)),
            q.nominal,
            &extra,
        );
        out.push_str(&text.replace(
            &format!("        nominalQuota: {}\n", q.nominal),
            &format!("        nominalQuota: {}\n{limits}", q.nominal),
        ));
    }
    if fair {
        out.push_str(
            "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing: {}\n",
        );
    }
    out
}

type Raw = (usize, u64, u64, u32, u32, i32);

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn books_balance_and_nothing_is_dropped(
        qs in prop::collection::vec(queue(), 1..5),
        jobs in prop::collection::vec((0usize..4, 0u64..300, 1u64..200, 1u32..4, 1u32..4, -2i32..3), 1..30),
        fair in any::<bool>(),
        hierarchical in any::<bool>(),
        latency in prop::option::of(1u64..20),
    ) {
        books_balance(&qs, &jobs, fair, hierarchical, latency)?;
    }
}

fn books_balance(
    qs: &[Q],
    jobs: &[Raw],
    fair: bool,
    hierarchical: bool,
    latency: Option<u64>,
) -> Result<(), TestCaseError> {
    {
        let text = yaml(qs, fair, hierarchical);
        let names: Vec<String> = (0..qs.len()).map(|i| format!("q{i}")).collect();
        let named: Vec<(String, J)> = jobs
            .iter()
            .enumerate()
            .map(|(i, &(q, submit, dur, pods, gpus, prio))| {
                let queue: &'static str = Box::leak(names[q % names.len()].clone().into_boxed_str());
                (format!("j{i}"), J(queue, submit, dur, pods, gpus, 0, prio))
            })
            .collect();
        let refs: Vec<(&str, J)> = named.iter().map(|(n, j)| (n.as_str(), *j)).collect();
        let params = latency
            .map(|l| format!("eviction_latency_s={l}"))
            .unwrap_or_default();
        // The engine's audit and the policy's (debug) audit run after every pass.
        let a = run_named(&text, nodes(2), &refs, &params);
        for r in &a.o.jobs {
            prop_assert!(
                matches!(
                    r.status,
                    JobStatus::Finished | JobStatus::Pending | JobStatus::Unschedulable
                ),
                "{:?}",
                r.status
            );
            if r.status == JobStatus::Pending {
                prop_assert!(r.reason.is_some(), "a job left waiting says why");
            }
        }
        let b = run_named(&text, nodes(2), &refs, &params);
        // Same outcome (the label differs: each run has its own temporary manifest path).
        let view = |r: &Run| {
            format!(
                "{:?}",
                (
                    &r.o.jobs,
                    &r.o.series,
                    &r.o.preemption_log,
                    &r.o.pending_by_reason,
                    r.o.end
                )
            )
        };
        prop_assert_eq!(view(&a), view(&b));
    }
    Ok(())
}
