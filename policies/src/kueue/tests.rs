//! The indexed cycle and placement against the plain scans they replace: over random manifests
//! and traces, a Kueue whose cycles look at every ClusterQueue and whose passes try every waiting
//! workload decides exactly as one that looks only at the queues that changed and merges the
//! waiting workloads by group.

use super::{Kueue, Options, Version, manifest};
use crate::testkit;
use fairway_engine::{Policy, SimDuration};
use proptest::prelude::*;

/// A ClusterQueue as the property draws it.
#[derive(Clone, Debug)]
struct Q {
    cohort: u8,
    /// Nominal GPUs of the first flavor and of the second (when there are two).
    gpus: (u32, u32),
    lending: Option<u32>,
    strict: bool,
    within: u8,
    reclaim: u8,
    borrow_within: bool,
}

fn queue() -> impl Strategy<Value = Q> {
    (
        0u8..3,
        (0u32..10, 0u32..10),
        prop::option::weighted(0.2, 0u32..6),
        any::<bool>(),
        0u8..3,
        0u8..3,
        any::<bool>(),
    )
        .prop_map(
            |(cohort, gpus, lending, strict, within, reclaim, borrow_within)| Q {
                cohort,
                gpus,
                lending: lending.map(|l| l.min(gpus.0)),
                strict,
                within,
                reclaim,
                borrow_within,
            },
        )
}

/// Manifests for testkit's teams a, b, c, d (one ClusterQueue each, cohort 2 meaning none):
/// one flavor for every node, or one per GPU model (so admissions differ in the pools they
/// allow); CPU and memory quota to spare.
fn manifests(qs: &[Q; 4], two_flavors: bool, fair: bool, pods_ready: Option<(u32, bool)>) -> String {
    let mut y = String::new();
    let flavors: &[(&str, &str)] = if two_flavors {
        &[
            ("a100", "\nspec:\n  nodeLabels:\n    gpu_model: A100"),
            ("h100", "\nspec:\n  nodeLabels:\n    gpu_model: H100"),
        ]
    } else {
        &[("any", "")]
    };
    for (name, spec) in flavors {
        y.push_str(&format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: {name}{spec}\n"
        ));
    }
    for (q, name) in qs.iter().zip(["a", "b", "c", "d"]) {
        let cohort = match q.cohort {
            2 => String::new(),
            c => format!("  cohortName: c{c}\n"),
        };
        let strategy = if q.strict { "StrictFIFO" } else { "BestEffortFIFO" };
        let within = ["Never", "LowerPriority", "LowerOrNewerEqualPriority"][q.within as usize];
        let reclaim = ["Never", "LowerPriority", "Any"][q.reclaim as usize];
        let borrow = if q.borrow_within && q.reclaim != 0 {
            "    borrowWithinCohort:\n      policy: LowerPriority\n"
        } else {
            ""
        };
        y.push_str(&format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n{cohort}  queueingStrategy: {strategy}\n  preemption:\n    withinClusterQueue: {within}\n    reclaimWithinCohort: {reclaim}\n{borrow}  resourceGroups:\n  - coveredResources: [\"cpu\", \"memory\", \"nvidia.com/gpu\"]\n    flavors:\n"
        ));
        for (i, (flavor, _)) in flavors.iter().enumerate() {
            let gpus = if i == 0 { q.gpus.0 } else { q.gpus.1 };
            // Kueue refuses a lending limit outside a cohort.
            let lending = match (i, q.lending) {
                (0, Some(l)) if q.cohort != 2 => format!("\n        lendingLimit: {l}"),
                _ => String::new(),
            };
            y.push_str(&format!(
                "    - name: {flavor}\n      resources:\n      - name: cpu\n        nominalQuota: 1000\n      - name: memory\n        nominalQuota: 1000Gi\n      - name: nvidia.com/gpu\n        nominalQuota: {gpus}{lending}\n"
            ));
        }
    }
    if fair || pods_ready.is_some() {
        y.push_str("---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\n");
        if fair {
            y.push_str("fairSharing: {}\n");
        }
        if let Some((timeout, block)) = pods_ready {
            y.push_str(&format!(
                "waitForPodsReady:\n  timeout: {timeout}s\n  blockAdmission: {block}\n  requeuingStrategy:\n    backoffBaseSeconds: 5\n"
            ));
        }
    }
    y
}

fn kueue(text: &str, minor: u32, latency_s: u64, by_scan: bool) -> Box<dyn Policy> {
    let cfg = manifest::load_str(text, "m.yaml", "nvidia.com/gpu").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let opts = Options {
        version: Version { minor },
        eviction_latency: SimDuration::from_secs(latency_s),
        reject_unknown_queues: false,
        gpu_milli: false,
    };
    let mut k = Kueue::new(cfg, opts).expect("no name clash");
    k.by_scan = by_scan;
    Box::new(k)
}

/// Everything a run recorded: every job's record, the preemptions, the time pending per reason
/// and the passes; or how it failed (a run that thrashes stops after 50 preemptions of a job).
fn record(o: &Result<fairway_engine::Outcome, fairway_engine::EngineError>) -> String {
    match o {
        Ok(o) => format!(
            "{:?}",
            (
                &o.jobs,
                &o.preemption_log,
                &o.pending_by_reason,
                &o.reasons,
                o.counters.passes
            )
        ),
        Err(e) => e.to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    /// Over random manifests, releases, traces, placements and a node failing for a while, the
    /// indexed cycle and placement decide as the plain scans (and the policy's audit, which
    /// holds every queue left out of the next cycle to having nothing to try, passes after every
    /// pass).
    #[test]
    fn the_indexed_cycle_and_placement_decide_as_the_plain_scans(
        qs in [queue(), queue(), queue(), queue()],
        jobs in testkit::jobs(),
        nodes in 1u32..=3,
        placement in testkit::placements(),
        two_flavors in any::<bool>(),
        fair in any::<bool>(),
        pods_ready in prop::option::weighted(0.3, (20u32..200, any::<bool>())),
        minor in prop_oneof![Just(8u32), Just(12), Just(17), Just(19)],
        latency in prop_oneof![Just(0u64), 1u64..20],
        outage in prop::option::of((0u64..600, 1u64..300)),
    ) {
        let text = manifests(&qs, two_flavors, fair, pods_ready);
        let run = |by_scan| {
            let k = kueue(&text, minor, latency, by_scan);
            testkit::try_run_with_outage(&jobs, nodes, placement, k, outage, Some(50))
        };
        let (indexed, scan) = (run(false), run(true));
        prop_assert_eq!(record(&indexed), record(&scan));
    }
}
