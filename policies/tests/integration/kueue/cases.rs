//! Further hand-computed cases: queueing strategies, lending and borrowing limits, hierarchical
//! cohorts, flavor fungibility, waitForPodsReady, in-queue preemption, borrowWithinCohort.

use super::*;

/// CQ q (no cohort) has 8 GPUs. j0 holds 4 from 0 to 100; big (8) arrives at 1, small (2) at 2.
/// StrictFIFO: big heads the queue and blocks it; it is admitted when j0 ends (100, quota is
/// freed at once) and small only after big ends (150): waits 99 and 148.
/// BestEffortFIFO: big is parked; small fits beside j0 at 2. j0 ends at 100 and the flush that
/// brings big back comes at 101: waits 100 and 0.
#[test]
fn strict_fifo_blocks_behind_its_head_and_best_effort_does_not() {
    let jobs = [
        ("j0", J("q", 0, 100, 4, 1, 0, 0)),
        ("big", J("q", 1, 50, 8, 1, 0, 0)),
        ("small", J("q", 2, 10, 2, 1, 0, 0)),
    ];
    let strict = run_named(
        &format!("{H100}{}", cq("q", None, 8, "  queueingStrategy: StrictFIFO\n")),
        nodes(2),
        &jobs,
        "",
    );
    assert_eq!(
        (strict.start("big"), strict.start("small")),
        (Some(100), Some(150))
    );
    // small sits behind the head, untried, from 2 to 100; then it heads the queue and waits for
    // quota until 150. big waited for quota from 1 to 100.
    assert_eq!(strict.pending_s("q", "HeadOfLineBlocked"), 98);
    assert_eq!(strict.pending_s("q", "WaitingForQuota"), 99 + 50);
    let best = run_named(&format!("{H100}{}", cq("q", None, 8, "")), nodes(2), &jobs, "");
    assert_eq!((best.start("big"), best.start("small")), (Some(101), Some(2)));
}

/// Cohort of a (nominal 10, lendingLimit 4: 6 private) and b (nominal 2): b can reach 2 + 4 = 6.
/// b1 (6) fits at 0; b2 (1) must wait although a is idle; a1 (6) still gets a's private 6 at 2;
/// b3 (7) exceeds b's maximum and can never be admitted (ExceedsMaxQuota). b2 starts after b1
/// ends at 100 and the flush at 101.
#[test]
fn lending_limit_keeps_quota_private() {
    let a = cq("a", Some("c"), 10, "").replace(
        "        nominalQuota: 10\n",
        "        nominalQuota: 10\n        lendingLimit: 4\n",
    );
    let yaml = format!("{H100}{a}{}", cq("b", Some("c"), 2, ""));
    let jobs = [
        ("b1", J("b", 0, 100, 6, 1, 0, 0)),
        ("b2", J("b", 1, 10, 1, 1, 0, 0)),
        ("a1", J("a", 2, 10, 6, 1, 0, 0)),
        ("b3", J("b", 3, 10, 7, 1, 0, 0)),
    ];
    let r = run_named(&yaml, nodes(2), &jobs, "");
    assert_eq!(
        (r.start("b1"), r.start("a1"), r.start("b2")),
        (Some(0), Some(2), Some(101))
    );
    assert_eq!(r.job("b3").status, JobStatus::Pending);
    assert_eq!(r.job("b3").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// Cohort of a (nominal 4, borrowingLimit 2) and b (nominal 8). a can reach 6: a1 (7) exceeds
/// that; a2 (6) fits at 1; b1 (8) then finds only 12 - 6 = 6 and waits for a2 (ends 51, flush 52).
#[test]
fn borrowing_limit_caps_what_a_queue_takes() {
    let a = cq("a", Some("c"), 4, "").replace(
        "        nominalQuota: 4\n",
        "        nominalQuota: 4\n        borrowingLimit: 2\n",
    );
    let yaml = format!("{H100}{a}{}", cq("b", Some("c"), 8, ""));
    let jobs = [
        ("a1", J("a", 0, 10, 7, 1, 0, 0)),
        ("a2", J("a", 1, 50, 6, 1, 0, 0)),
        ("b1", J("b", 2, 10, 8, 1, 0, 0)),
    ];
    let r = run_named(&yaml, nodes(2), &jobs, "");
    assert_eq!(r.job("a1").reason.as_deref(), Some("ExceedsMaxQuota"));
    assert_eq!((r.start("a2"), r.start("b1")), (Some(1), Some(52)));
}

/// Cohort `org` has 4 GPUs of its own; x (nominal 0) and yq (nominal 2) are its children, so the
/// tree holds 6. x1 (4) fits by borrowing the cohort's quota; y1 (2) fits; x2 (1) would make 7.
#[test]
fn a_hierarchical_cohort_lends_its_own_quota() {
    let org = "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: org\nspec:\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 4\n";
    let yaml = format!(
        "{H100}{org}{}{}",
        cq("x", Some("org"), 0, ""),
        cq("yq", Some("org"), 2, "")
    );
    let jobs = [
        ("x1", J("x", 0, 100, 4, 1, 0, 0)),
        ("y1", J("yq", 1, 100, 2, 1, 0, 0)),
        ("x2", J("x", 2, 10, 1, 1, 0, 0)),
    ];
    let r = run_named(&yaml, nodes(2), &jobs, "");
    assert_eq!((r.start("x1"), r.start("y1")), (Some(0), Some(1)));
    // x1 and y1 end at 100 and 101; the flush after the first brings x2 back at 101.
    assert_eq!(r.start("x2"), Some(101));
}

/// Flavors spot (nodes labelled tier=spot, half speed) and ondemand (tier=ondemand). Queue q has
/// spot 0 / ondemand 8; lender l has spot 8. A 100 s job of q:
/// - by default (whenCanBorrow: MayStopSearch) spot fits by borrowing and is taken: 200 s;
/// - with whenCanBorrow: TryNextFlavor, ondemand fits without borrowing and wins: 100 s.
#[test]
fn flavor_fungibility_decides_between_borrowing_and_the_next_flavor() {
    let flavors = "apiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: spot\nspec:\n  nodeLabels:\n    tier: spot\n---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: ondemand\nspec:\n  nodeLabels:\n    tier: ondemand\n";
    let two = |name: &str, spot: i64, od: i64, extra: &str| {
        format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n  cohortName: c\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: spot\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: {spot}\n    - name: ondemand\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: {od}\n{extra}"
        )
    };
    let mut spot = PoolSpec::new("spot", Some("H100"), 1, 8, 64, 512);
    spot.labels.insert("tier".into(), "spot".into());
    spot.speed_permille = 500;
    let mut od = PoolSpec::new("ondemand", Some("H100"), 1, 8, 64, 512);
    od.labels.insert("tier".into(), "ondemand".into());
    let jobs = [("j", J("q", 0, 100, 2, 1, 0, 0))];
    let default = run_named(
        &format!("{flavors}{}{}", two("q", 0, 8, ""), two("l", 8, 0, "")),
        vec![spot.clone(), od.clone()],
        &jobs,
        "",
    );
    assert_eq!(default.job("j").end(), Some(SimTime::from_secs(200)));
    let next = format!(
        "{flavors}{}{}",
        two(
            "q",
            0,
            8,
            "  flavorFungibility:\n    whenCanBorrow: TryNextFlavor\n"
        ),
        two("l", 8, 0, "")
    );
    let r = run_named(&next, vec![spot, od], &jobs, "");
    assert_eq!(r.job("j").end(), Some(SimTime::from_secs(100)));
}

/// waitForPodsReady (timeout 60 s, backoff base 10 s): q has 16 GPUs of quota but the cluster has
/// one 8-GPU node. A (8) runs 0-200; B (8) is admitted at 1 but finds no node.
/// 1-61 waits for nodes; evicted at 61, backs off 10 s (61-71); readmitted at 71, evicted at 131,
/// backs off 20 s (131-151); readmitted at 151 and starts when A ends at 200.
/// Waiting for nodes: 60 + 60 + 49 = 169 s; backing off: 30 s.
#[test]
fn wait_for_pods_ready_evicts_and_backs_off() {
    let config = "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nwaitForPodsReady:\n  timeout: 1m\n  requeuingStrategy:\n    backoffBaseSeconds: 10\n";
    let yaml = format!("{H100}{}{config}", cq("q", None, 16, ""));
    let jobs = [
        ("a", J("q", 0, 200, 8, 1, 0, 0)),
        ("b", J("q", 1, 50, 8, 1, 0, 0)),
    ];
    let r = run_named(&yaml, nodes(1), &jobs, "");
    assert_eq!(r.start("b"), Some(200));
    assert_eq!(r.pending_s("q", "WaitingForNodes"), 169);
    assert_eq!(r.pending_s("q", "BackoffAfterEviction"), 30);
    assert_eq!(r.job("b").admitted_wait_ms, 169_000);
    assert_eq!(r.job("b").first_admitted(), Some(SimTime::from_secs(1)));
}

/// waitForPodsReady without a backoffLimitCount, and a workload whose pods can never find a node
/// on the flavor its quota fits: ClusterQueue q covers flavor a100 (4-GPU A100 nodes) and then
/// h100, 16 GPUs each; big asks for one pod of 8 GPUs. Kueue admits it on a100 (the first flavor
/// with room), evicts it when its pods are not ready in time, and admits it on a100 again, for
/// ever. The run is stopped with a livelock error naming the workload, not left to loop.
#[test]
fn admitting_for_ever_a_workload_whose_pods_never_fit_is_a_livelock() {
    let flavors = "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: a100\nspec:\n  nodeLabels:\n    gpu_model: A100\n".to_string()
        + "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: h100\nspec:\n  nodeLabels:\n    gpu_model: H100\n";
    let q = "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: q\nspec:\n  namespaceSelector: {}\n  resourceGroups:\n  - coveredResources: [\"nvidia.com/gpu\"]\n    flavors:\n    - name: a100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 16\n    - name: h100\n      resources:\n      - name: nvidia.com/gpu\n        nominalQuota: 16\n";
    let config = "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nwaitForPodsReady:\n  timeout: 1m\n  requeuingStrategy:\n    backoffBaseSeconds: 10\n";
    let pools = vec![
        PoolSpec::new("a100", Some("A100"), 2, 4, 64, 512),
        PoolSpec::new("h100", Some("H100"), 1, 8, 128, 1024),
    ];
    let jobs = [("big", J("q", 0, 50, 1, 8, 0, 0))];
    let e = match try_run_workload(
        &format!("{flavors}{q}{config}"),
        pools,
        named_workload(&jobs),
        "",
        None,
    ) {
        Ok(r) => panic!("the run ended: big started at {:?}", r.start("big")),
        Err(e) => e,
    };
    assert!(matches!(e, EngineError::Livelock { .. }), "{e}");
    assert!(e.to_string().contains("the last job it acted on: 'big'"), "{e}");
}

/// Admitted workloads wait for nodes and start once pods end. q has 16 GPUs of quota, the
/// cluster one 8-GPU node. a (8) runs 0-100; b (8) is admitted at 1 and finds no node; c (8)
/// arrives at 50 and finds no quota (a pass at which nothing was freed, so b is not placed
/// either). a ends at 100: b starts then, and c is admitted with the requeue a second later,
/// waits for b to end and starts at 150.
#[test]
fn admitted_workloads_start_when_pods_end() {
    let jobs = [
        ("a", J("q", 0, 100, 1, 8, 0, 0)),
        ("b", J("q", 1, 50, 1, 8, 0, 0)),
        ("c", J("q", 50, 10, 1, 8, 0, 0)),
    ];
    let r = run_named(&format!("{H100}{}", cq("q", None, 16, "")), nodes(1), &jobs, "");
    assert_eq!(
        (r.start("a"), r.start("b"), r.start("c")),
        (Some(0), Some(100), Some(150))
    );
    assert_eq!(r.job("b").first_admitted(), Some(SimTime::from_secs(1)));
    assert_eq!(r.job("c").first_admitted(), Some(SimTime::from_secs(101)));
}

/// Queue q (8 GPUs, withinClusterQueue: LowerPriority). low (8, prio 0) runs from 0; high (8,
/// prio 10) arrives at 10 and preempts it (InClusterQueue); high runs 10-60; low is parked and
/// comes back with the flush after high ends: 61. With withinClusterQueue: Never, high waits for
/// low (ends 100) and the flush: 101.
#[test]
fn within_cluster_queue_preemption_by_priority() {
    let jobs = [
        ("low", J("q", 0, 100, 8, 1, 0, 0)),
        ("high", J("q", 10, 50, 8, 1, 0, 10)),
    ];
    let yaml = format!(
        "{H100}{}",
        cq(
            "q",
            None,
            8,
            "  preemption:\n    withinClusterQueue: LowerPriority\n"
        )
    );
    let r = run_named(&yaml, nodes(1), &jobs, "");
    assert_eq!(
        r.preemptions(),
        vec![(
            "low".to_string(),
            "InClusterQueue".to_string(),
            Some("high".to_string())
        )]
    );
    assert_eq!(
        (
            r.start("high"),
            r.job("low").last_start().map(|t| t.millis() / 1000)
        ),
        (Some(10), Some(61))
    );
    let never = run_named(&format!("{H100}{}", cq("q", None, 8, "")), nodes(1), &jobs, "");
    assert!(never.preemptions().is_empty());
    assert_eq!(never.start("high"), Some(101));
}

/// Cohort of a (nominal 0; reclaimWithinCohort LowerPriority; borrowWithinCohort LowerPriority,
/// maxPriorityThreshold 5), b (nominal 4) and c (nominal 4, idle). b borrows c's 4: b1 (4, prio 3)
/// and b2 (4, prio 7). a1 (4, prio 10) must borrow: b2 is above the threshold (usable only if a
/// ended up not borrowing, which it cannot), b1 is not: victim {b1}, InCohortReclaimWhileBorrowing.
#[test]
fn borrow_within_cohort_respects_the_priority_threshold() {
    let a_extra = "  preemption:\n    reclaimWithinCohort: LowerPriority\n    borrowWithinCohort:\n      policy: LowerPriority\n      maxPriorityThreshold: 5\n";
    let yaml = format!(
        "{H100}{}{}{}",
        cq("a", Some("c"), 0, a_extra),
        cq("b", Some("c"), 4, ""),
        cq("cc", Some("c"), 4, "")
    );
    let jobs = [
        ("b1", J("b", 0, 100, 4, 1, 0, 3)),
        ("b2", J("b", 0, 100, 4, 1, 0, 7)),
        ("a1", J("a", 10, 10, 4, 1, 0, 10)),
    ];
    let r = run_named(&yaml, nodes(1), &jobs, "");
    assert_eq!(
        r.preemptions(),
        vec![(
            "b1".to_string(),
            "InCohortReclaimWhileBorrowing".to_string(),
            Some("a1".to_string())
        )]
    );
    assert_eq!(r.start("a1"), Some(10));
}

/// A victim keeps its quota and its pods for the eviction latency: with 30 s, high (see above)
/// starts at 40, and low is preempted then.
#[test]
fn eviction_latency_delays_the_preemptor() {
    let jobs = [
        ("low", J("q", 0, 100, 8, 1, 0, 0)),
        ("high", J("q", 10, 50, 8, 1, 0, 10)),
    ];
    let yaml = format!(
        "{H100}{}",
        cq(
            "q",
            None,
            8,
            "  preemption:\n    withinClusterQueue: LowerPriority\n"
        )
    );
    let r = run_named(&yaml, nodes(1), &jobs, "eviction_latency_s=30");
    assert_eq!(r.preempted_at(40), vec!["low"]);
    assert_eq!(r.start("high"), Some(40));
    assert_eq!(r.pending_s("q", "WaitingForPreemptedWorkloads"), 30);
}

/// A manifest the loader refuses, and a what-if quota that is not a quantity fairway can hold,
/// fail resolving the policy, naming the file, the object and the field.
#[test]
fn manifest_and_edit_errors_reach_the_registry() {
    use fairway_policies::{Registry, RegistryError, Setup};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kueue.yaml");
    let spec = format!("kueue[manifests={}]", path.display()).parse().unwrap();
    let resolve = |yaml: &str, setup: &Setup| {
        std::fs::write(&path, yaml).unwrap();
        Registry::builtin().resolve_policy(&spec, setup).err().unwrap()
    };
    let wrap = "170141183460469231731687303715884105.999";
    let e = resolve(
        &format!(
            "{H100}{}",
            cq("a", None, 8, "").replace("nominalQuota: 8", &format!("nominalQuota: \"{wrap}\""))
        ),
        &Setup::default(),
    );
    assert!(matches!(e, RegistryError::Setup(_)));
    assert_eq!(
        e.to_string(),
        format!(
            "{}: ClusterQueue 'a': spec.resourceGroups[0].flavors[0].resources[0].nominalQuota: invalid quantity '{wrap}': too large, fairway holds at most 1152921504606846974",
            path.display()
        )
    );
    let cycle = format!(
        "{H100}{}---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: c\nspec:\n  parentName: c\n",
        cq("a", Some("c"), 8, "")
    );
    assert_eq!(
        resolve(&cycle, &Setup::default()).to_string(),
        format!(
            "{}: Cohort 'c': spec.parentName: a Cohort cannot be its own parent",
            path.display()
        )
    );
    let setup = Setup::with_kueue_edits(vec![fairway_policies::kueue::edit::Edit::Quota {
        cluster_queue: "a".into(),
        flavor: "h100".into(),
        resource: "nvidia.com/gpu".into(),
        nominal: Some(wrap.into()),
        borrowing_limit: None,
        lending_limit: None,
    }]);
    let e = resolve(&format!("{H100}{}", cq("a", None, 8, "")), &setup);
    assert!(matches!(e, RegistryError::KueueEdit(_)));
    assert_eq!(
        e.to_string(),
        format!(
            "whatif: nominal of ClusterQueue 'a' (flavor h100, resource nvidia.com/gpu): invalid quantity '{wrap}': too large, fairway holds at most 1152921504606846974"
        )
    );
}
