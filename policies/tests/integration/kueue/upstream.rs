//! Cases from Kueue's own unit tests (kubernetes-sigs/kueue at ff69552e), re-expressed as runs.
//!
//! Kueue's unit tests start from workloads that already hold quota and call one piece of the
//! scheduler (a preemption target search, a flavor assignment, one scheduling cycle). Here the
//! same state is reached by letting those workloads arrive first (at 0, 1, 2 ... s, long-running)
//! so that Kueue admits them as the case says, then the incoming workload arrives (at 100 s unless
//! said otherwise). Where the case needs a flavor to be full at the moment a workload is admitted,
//! a short-lived "filler" holds it and is gone long before 100 s.
//!
//! Conventions of the comments:
//! - Kueue breaks ties between candidates of equal priority by "most recently admitted first",
//!   then by UID; where a case's UIDs are its names (fair-sharing cases), the workload whose name
//!   sorts first is admitted last, so that it is the newest.
//! - Memory written in bytes in a case is scaled to MiB (quota and requests alike); abstract
//!   resources of a case (`r1`, `compute`) are re-expressed as cpu (`r2` as memory); a single pod
//!   larger than a node (10 GPUs) is split into pods of the same total (quota counts the total).
//! - Fairway evicts at once (eviction_latency_s 0): a preemptor is admitted in the same instant as
//!   its victims are preempted, and victims go back to their queues.
//! - Which flavor a workload got is read from its run length: flavors carry a node label and only
//!   the matching pool (of a known speed) can run the pods.
//! - A case that asserts only one scheduling cycle is checked at the instant it happens; what
//!   later cycles of that instant do (per Kueue's rules) is worked out in the comment when it is
//!   asserted too.

use super::*;

const ICQ: &str = "InClusterQueue";
const RECLAIM: &str = "InCohortReclamation";
const WHILE_BORROWING: &str = "InCohortReclaimWhileBorrowing";
const FAIR_SHARING: &str = "InCohortFairSharing";

/// A workload: name, ClusterQueue, submit time, run length, priority, pods and per-pod requests.
#[derive(Clone)]
struct W {
    name: String,
    cq: String,
    at_ms: u64,
    dur_s: u64,
    prio: i32,
    pods: u32,
    cpu_m: u64,
    mem_mib: u64,
    gpu: u32,
}

/// One pod, no requests, running 1000 s from `at` seconds.
fn w(name: &str, cq: &str, at: u64, prio: i32) -> W {
    W {
        name: name.into(),
        cq: cq.into(),
        at_ms: at * 1000,
        dur_s: 1000,
        prio,
        pods: 1,
        cpu_m: 0,
        mem_mib: 0,
        gpu: 0,
    }
}

impl W {
    /// Whole CPUs per pod.
    fn cpu(self, cores: u64) -> W {
        self.cpu_m(cores * 1000)
    }
    fn cpu_m(mut self, milli: u64) -> W {
        self.cpu_m = milli;
        self
    }
    fn mem(mut self, mib: u64) -> W {
        self.mem_mib = mib;
        self
    }
    fn gpu(mut self, n: u32) -> W {
        self.gpu = n;
        self
    }
    fn pods(mut self, n: u32) -> W {
        self.pods = n;
        self
    }
    fn dur(mut self, s: u64) -> W {
        self.dur_s = s;
        self
    }
    fn at_ms(mut self, ms: u64) -> W {
        self.at_ms = ms;
        self
    }
}

/// Unit-cpu workloads (1000 s) of one queue whose names come in UID order: the first name is
/// admitted last (the newest), as Kueue orders equal candidates by UID.
fn newest_first(cq: &str, names: &[&str], from: u64) -> Vec<W> {
    names
        .iter()
        .rev()
        .enumerate()
        .map(|(i, n)| w(n, cq, from + i as u64, 0).cpu(1))
        .collect()
}

fn run(yaml: &str, pools: Vec<PoolSpec>, ws: &[W], params: &str) -> Run {
    let mut b = WorkloadBuilder::new("upstream");
    for x in ws {
        let team = b.team(&x.cq).unwrap();
        let pod = PodRequest {
            gpu_milli: x.gpu * 1000,
            cpu_milli: x.cpu_m,
            mem_mib: x.mem_mib,
        };
        let mut s = JobSpec::new(
            SimTime(x.at_ms),
            SimDuration::from_secs(x.dur_s),
            x.pods,
            pod,
            team,
        );
        s.priority = x.prio;
        b.push(&x.name, 0, s).unwrap();
    }
    run_workload(yaml, pools, b.finish(), params)
}

/// Unlabelled flavors (they match every node): the plain `nodes(8)` cluster serves them.
fn run_plain(yaml: &str, ws: &[W]) -> Run {
    run(yaml, nodes(8), ws, "")
}

/// ResourceFlavors; `labelled` gives each a node label `flavor: <name>`.
fn flavors(names: &[&str], labelled: bool) -> String {
    names
        .iter()
        .map(|n| {
            let spec = if labelled {
                format!("spec:\n  nodeLabels:\n    flavor: {n}\n")
            } else {
                String::new()
            };
            format!("---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: {n}\n{spec}")
        })
        .collect()
}

/// One pool per labelled flavor (4 nodes of 8 GPUs, 128 CPUs, 1 TiB), with the given speed in
/// permille: a 100 s workload runs 100 s at 1000, 200 s at 500.
fn flavor_pools(list: &[(&str, u32)]) -> Vec<PoolSpec> {
    list.iter()
        .map(|&(f, speed)| {
            let mut p = PoolSpec::new(f, Some("H100"), 4, 8, 128, 1024);
            p.labels.insert("flavor".into(), f.into());
            p.speed_permille = speed;
            p
        })
        .collect()
}

/// `resourceGroups` from a compact form: groups split by `|`, flavors by `;`, each flavor
/// `name: res nominal [bl X] [ll Y], res nominal ...`.
fn groups(spec: &str) -> String {
    if spec.trim().is_empty() {
        return String::new();
    }
    let mut y = String::from("  resourceGroups:\n");
    for g in spec.split('|') {
        let fl: Vec<(&str, Vec<Vec<&str>>)> = g
            .split(';')
            .map(|f| {
                let (name, rest) = f.split_once(':').expect("flavor: resources");
                (
                    name.trim(),
                    rest.split(',').map(|r| r.split_whitespace().collect()).collect(),
                )
            })
            .collect();
        let covered: Vec<String> = fl[0].1.iter().map(|r| format!("\"{}\"", r[0])).collect();
        y += &format!("  - coveredResources: [{}]\n    flavors:\n", covered.join(", "));
        for (name, res) in &fl {
            y += &format!("    - name: {name}\n      resources:\n");
            for r in res {
                y += &format!("      - name: {}\n        nominalQuota: \"{}\"\n", r[0], r[1]);
                for kv in r[2..].chunks(2) {
                    let key = match kv[0] {
                        "bl" => "borrowingLimit",
                        "ll" => "lendingLimit",
                        k => panic!("unknown limit {k}"),
                    };
                    y += &format!("        {key}: \"{}\"\n", kv[1]);
                }
            }
        }
    }
    y
}

/// A ClusterQueue (`cohort` empty: none); `extra` lines go under `spec`.
fn queue(name: &str, cohort: &str, spec: &str, extra: &str) -> String {
    let cohort = if cohort.is_empty() {
        String::new()
    } else {
        format!("  cohortName: {cohort}\n")
    };
    format!(
        "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ClusterQueue\nmetadata:\n  name: {name}\nspec:\n  namespaceSelector: {{}}\n{cohort}{}{extra}",
        groups(spec)
    )
}

/// A Cohort (`parent` empty: a root).
fn cohort(name: &str, parent: &str, spec: &str, extra: &str) -> String {
    let parent = if parent.is_empty() {
        String::new()
    } else {
        format!("  parentName: {parent}\n")
    };
    let body = format!("{parent}{}{extra}", groups(spec));
    let body = if body.is_empty() {
        " {}\n".to_string()
    } else {
        format!("\n{body}")
    };
    format!("---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: Cohort\nmetadata:\n  name: {name}\nspec:{body}")
}

/// `preemption` with the given policies (empty: not written, i.e. Never).
fn pre(within: &str, reclaim: &str) -> String {
    pre_bwc(within, reclaim, None)
}

/// `preemption` with `borrowWithinCohort: LowerPriority` when `bwc` is given (its inner value is
/// the maxPriorityThreshold, if any).
fn pre_bwc(within: &str, reclaim: &str, bwc: Option<Option<i32>>) -> String {
    let mut y = String::from("  preemption:\n");
    if !within.is_empty() {
        y += &format!("    withinClusterQueue: {within}\n");
    }
    if !reclaim.is_empty() {
        y += &format!("    reclaimWithinCohort: {reclaim}\n");
    }
    if let Some(t) = bwc {
        y += "    borrowWithinCohort:\n      policy: LowerPriority\n";
        if let Some(t) = t {
            y += &format!("      maxPriorityThreshold: {t}\n");
        }
    }
    y
}

/// `flavorFungibility`; `preference` empty: not written.
fn fung(borrow: &str, preempt: &str, preference: &str) -> String {
    let mut y = format!("  flavorFungibility:\n    whenCanBorrow: {borrow}\n    whenCanPreempt: {preempt}\n");
    if !preference.is_empty() {
        y += &format!("    preference: {preference}\n");
    }
    y
}

fn weight(w: &str) -> String {
    format!("  fairSharing:\n    weight: \"{w}\"\n")
}

const STRICT: &str = "  queueingStrategy: StrictFIFO\n";
const FAIR: &str = "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing: {}\n";

fn fair_with(strategy: &str) -> String {
    format!(
        "---\napiVersion: config.kueue.x-k8s.io/v1beta2\nkind: Configuration\nfairSharing:\n  preemptionStrategies: [{strategy}]\n"
    )
}

/// (victim, reason) of every preemption made for `by`, sorted.
fn victims(r: &Run, by: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = r
        .preemptions()
        .into_iter()
        .filter(|p| p.2.as_deref() == Some(by))
        .map(|p| (p.0, p.1))
        .collect();
    v.sort();
    v
}

fn want(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list.iter().map(|&(a, b)| (a.into(), b.into())).collect();
    v.sort();
    v
}

/// Seconds the named workload's last run took (its flavor's pool speed shows in it).
fn ran_s(r: &Run, name: &str) -> u64 {
    let j = r.job(name);
    (j.end().expect("ended").millis() - j.last_start().expect("started").millis()) / 1000
}

// ---------------------------------------------------------------------------------------------
// preemption_test.go, TestPreemption: classical target selection (fair sharing off).
// ---------------------------------------------------------------------------------------------

/// The `standalone` ClusterQueue of the shared setup: RG1 default{cpu 6}, RG2 alpha{memory 3Gi},
/// beta{memory 3Gi}; withinClusterQueue LowerPriority; no cohort.
fn standalone() -> String {
    flavors(&["default", "alpha", "beta"], false)
        + &queue(
            "standalone",
            "",
            "default: cpu 6 | alpha: memory 3Gi; beta: memory 3Gi",
            &pre("LowerPriority", ""),
        )
}

/// The `cohort` pair: c1 and c2 each default{cpu 6 BL 6, memory 3Gi BL 3Gi}; c1 within
/// LowerPriority / reclaim LowerPriority, c2 within Never / reclaim Any.
fn cohort_c1_c2() -> String {
    let q = "default: cpu 6 bl 6, memory 3Gi bl 3Gi";
    flavors(&["default"], false)
        + &queue("c1", "cohort", q, &pre("LowerPriority", "LowerPriority"))
        + &queue("c2", "cohort", q, &pre("Never", "Any"))
}

/// P-01 "preempt lowest priority". standalone holds low (p-1), mid (p0), high (p1), 2 cpu each:
/// 6/6. `in` (p1, cpu 2) needs 2 more; candidates in its own queue with lower priority are low
/// and mid, lowest priority first: removing low frees 2, enough. Victims {low: InClusterQueue};
/// `in` is admitted at once.
#[test]
fn p01_preempt_lowest_priority() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(2),
        w("mid", "standalone", 1, 0).cpu(2),
        w("high", "standalone", 2, 1).cpu(2),
        w("in", "standalone", 100, 1).cpu(2).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("low", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-02 "preempt multiple". Same queue state; `in` (p1) asks cpu 3. low frees 2 (not enough),
/// then mid: 4 free. Filling back low would leave 2 < 3, so both stay victims:
/// {low, mid: InClusterQueue}.
#[test]
fn p02_preempt_multiple() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(2),
        w("mid", "standalone", 1, 0).cpu(2),
        w("high", "standalone", 2, 1).cpu(2),
        w("in", "standalone", 100, 1).cpu(3).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("low", ICQ), ("mid", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-03 "no preemption for low priority". low (p-1, 3) and mid (p0, 3) fill standalone; `in`
/// (p-1, cpu 1) has no strictly lower-priority candidate: nothing preempted, `in` waits (it is
/// parked). low ends at 1000; the flush 1 s later admits `in` at 1001.
#[test]
fn p03_no_preemption_for_low_priority() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(3),
        w("mid", "standalone", 1, 0).cpu(3),
        w("in", "standalone", 100, -1).cpu(1).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(1001));
}

/// P-04 "not enough low priority workloads". low (p-1, 3), mid (p0, 3); `in` (p0, cpu 4): only low
/// is eligible and frees 3 < 4, so no partial set is issued: nothing preempted, `in` not admitted
/// at 100.
#[test]
fn p04_not_enough_low_priority_workloads() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(3),
        w("mid", "standalone", 1, 0).cpu(3).dur(2000),
        w("in", "standalone", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("in") > Some(100));
}

/// P-05 "some free quota, preempt low priority". low (p-1, 1), mid (p0, 1), high (p1, 3): 5/6.
/// `in` (p1, cpu 2) needs 1 more: removing low (lowest priority) suffices: {low: InClusterQueue}.
#[test]
fn p05_some_free_quota_preempt_low_priority() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(1),
        w("mid", "standalone", 1, 0).cpu(1),
        w("high", "standalone", 2, 1).cpu(3),
        w("in", "standalone", 100, 1).cpu(2).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("low", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-06 "minimal set excludes low priority". low (p-1, 1), mid (p0, 2), high (p1, 3): full.
/// `in` (p1, cpu 2): low frees 1 (not enough), mid brings 3 free; filling back low leaves 2,
/// still enough, so low is spared: {mid: InClusterQueue}.
#[test]
fn p06_minimal_set_excludes_low_priority() {
    let ws = [
        w("low", "standalone", 0, -1).cpu(1),
        w("mid", "standalone", 1, 0).cpu(2),
        w("high", "standalone", 2, 1).cpu(3),
        w("in", "standalone", 100, 1).cpu(2).dur(100),
    ];
    let r = run_plain(&standalone(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("mid", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-08 "reclaim quota from borrower". c1 holds c1-low (p-1, 3); c2 holds c2-mid (p0, 3) and
/// c2-high (p1, 6): c2 at 9 borrows 3, the cohort's 12 are full. `in` (p1, cpu 3) in c1 stays
/// within c1's nominal (3 + 3 = 6), so c2's usage above its nominal can be reclaimed; c1's
/// reclaim policy LowerPriority admits c2-mid (p0) but not c2-high (p1). Other queues' candidates
/// come before the own queue's and c2-mid alone frees 3: {c2-mid: InCohortReclamation}.
#[test]
fn p08_reclaim_quota_from_borrower() {
    let ws = [
        w("c1-low", "c1", 0, -1).cpu(3),
        w("c2-mid", "c2", 1, 0).cpu(3),
        w("c2-high", "c2", 2, 1).cpu(6),
        w("in", "c1", 100, 1).cpu(3).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c2-mid", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-09 "reclaim quota if workload requests 0 resources for a resource at nominal quota". As
/// P-08, but c1-low also holds memory 3Gi (c1 at its memory nominal) and `in` asks memory "0".
/// A zero request is no request: `in` neither borrows memory nor is blocked by it, and the
/// outcome is P-08's: {c2-mid: InCohortReclamation}.
#[test]
fn p09_zero_request_does_not_count_as_borrowing() {
    let ws = [
        w("c1-low", "c1", 0, -1).cpu(3).mem(3 * 1024),
        w("c2-mid", "c2", 1, 0).cpu(3),
        w("c2-high", "c2", 2, 1).cpu(6),
        w("in", "c1", 100, 1).cpu(3).mem(0).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c2-mid", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-11 "not enough workloads borrowing". c1-high (c1, p1, 4); c2-low-1 and c2-low-2 (c2, p-1,
/// 4 each): c2 at 8 borrows 2, cohort 12/12. `in` (p1, cpu 4) would put c1 at 8 > 6 (borrowing),
/// and c1 has no borrowWithinCohort, so it may only reclaim to end up within nominal, which it
/// cannot; removing one of c2's brings c2 to 4 <= 6, the other is then no longer reclaimable;
/// c1-high is not lower priority. Nothing preempted.
#[test]
fn p11_not_enough_workloads_borrowing() {
    let ws = [
        w("c1-high", "c1", 0, 1).cpu(4),
        w("c2-low-1", "c2", 1, -1).cpu(4),
        w("c2-low-2", "c2", 2, -1).cpu(4),
        w("in", "c1", 100, 1).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert!(victims(&r, "in").is_empty(), "{:?}", r.preemptions());
    assert!(r.preempted_at(100).is_empty());
    assert!(r.start("in") > Some(100));
}

/// P-12 "preempting locally and borrowing other resources in cohort, without cohort candidates".
/// c1-low (c1, p-1, 4); c2-low-1 (c2, p-1, 4); c2-high-2 (c2, p1, 4): cpu 12/12, c2 borrowing 2.
/// `in` (p1, cpu 4 + memory 5Gi) in c1 borrows memory (5Gi > 3Gi) whatever is preempted, and c1
/// has no borrowWithinCohort: reclaiming from c2 is not allowed while borrowing. In its own queue
/// c1-low (p-1) frees 4 cpu: {c1-low: InClusterQueue}.
#[test]
fn p12_preempt_locally_while_borrowing_another_resource() {
    let ws = [
        w("c1-low", "c1", 0, -1).cpu(4),
        w("c2-low-1", "c2", 1, -1).cpu(4),
        w("c2-high-2", "c2", 2, 1).cpu(4),
        w("in", "c1", 100, 1).cpu(4).mem(5 * 1024).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c1-low", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-13 "... with cohort candidates". c1-med (c1, p0, 4); c2-low-1 (5), c2-low-2 (1), c2-low-3
/// (1) in c2 (p-1): cpu 11/12, c2 borrowing 1. `in` (p1, cpu 2 + memory 5Gi) borrows memory, so
/// as in P-12 c2's cpu cannot be reclaimed although c2 borrows cpu; in its own queue c1-med (p0)
/// is the candidate: {c1-med: InClusterQueue}.
#[test]
fn p13_preempt_locally_even_with_cohort_candidates() {
    let ws = [
        w("c1-med", "c1", 0, 0).cpu(4),
        w("c2-low-1", "c2", 1, -1).cpu(5),
        w("c2-low-2", "c2", 2, -1).cpu(1),
        w("c2-low-3", "c2", 3, -1).cpu(1),
        w("in", "c1", 100, 1).cpu(2).mem(5 * 1024).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c1-med", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-14 "preempting locally and borrowing same resource in cohort". c1-med (p0, 4) and c1-low
/// (p-1, 4) in c1 (borrowing 2), c2-low-1 (c2, p-1, 4): 12/12. `in` (p1, cpu 4) in c1: c2 is
/// within its nominal, so not a reclaim source; in c1 the lowest priority goes first: removing
/// c1-low frees 4: {c1-low: InClusterQueue}.
#[test]
fn p14_preempt_locally_when_cohort_is_within_nominal() {
    let ws = [
        w("c1-med", "c1", 0, 0).cpu(4),
        w("c1-low", "c1", 1, -1).cpu(4),
        w("c2-low-1", "c2", 2, -1).cpu(4),
        w("in", "c1", 100, 1).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c1-low", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-15 "preempting locally and not borrowing same resource in 1-queue cohort". l1 alone in cohort
/// legion: default{cpu 6 BL 12, memory 3Gi BL 6Gi} (nobody to borrow from). l1-med (p0, 4),
/// l1-low (p-1, 2): full. `in` (p1, cpu 4): l1-low frees 2 (not enough), l1-med brings 6; filling
/// back l1-low leaves 4, enough: {l1-med: InClusterQueue}.
#[test]
fn p15_one_queue_cohort_fill_back() {
    let yaml = flavors(&["default"], false)
        + &queue(
            "l1",
            "legion",
            "default: cpu 6 bl 12, memory 3Gi bl 6Gi",
            &pre("LowerPriority", "LowerPriority"),
        );
    let ws = [
        w("l1-med", "l1", 0, 0).cpu(4),
        w("l1-low", "l1", 1, -1).cpu(2),
        w("in", "l1", 100, 1).cpu(4).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("l1-med", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-16 "do not reclaim borrowed quota from same priority for withinCohort=ReclaimFromLowerPriority".
/// c1-wl (c1, p0, 2); c2-1 and c2-2 (c2, p0, 4 each): c2 borrows 2, 10/12. `in` (p0, cpu 4) in c1
/// would stay within nominal (6) but c1 reclaims only from lower priorities, and c1-wl is not
/// lower either: nothing preempted.
#[test]
fn p16_no_reclaim_from_same_priority() {
    let ws = [
        w("c1-wl", "c1", 0, 0).cpu(2),
        w("c2-1", "c2", 1, 0).cpu(4),
        w("c2-2", "c2", 2, 0).cpu(4),
        w("in", "c1", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert!(victims(&r, "in").is_empty(), "{:?}", r.preemptions());
    assert!(r.preempted_at(100).is_empty());
    assert!(r.start("in") > Some(100));
}

/// P-17 "reclaim borrowed quota from same priority for withinCohort=ReclaimFromAny". c1-1 (p0, 4)
/// and c1-2 (p1, 4) in c1 (borrowing 2); c2-wl (c2, p0, 2): 10/12. `in` (p0, cpu 4) in c2 stays
/// within c2's nominal; c2 reclaims from Any priority; lowest priority first: c1-1 (p0) frees 4:
/// {c1-1: InCohortReclamation}, c1-2 survives.
#[test]
fn p17_reclaim_from_same_priority_with_any() {
    let ws = [
        w("c1-1", "c1", 0, 0).cpu(4),
        w("c1-2", "c1", 1, 1).cpu(4),
        w("c2-wl", "c2", 2, 0).cpu(2),
        w("in", "c2", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c1-1", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-18 "preempt from all ClusterQueues in cohort". c1-low (c1, p-1, 3), c1-mid (c1, p0, 2),
/// c2-low (c2, p-1, 3), c2-mid (c2, p0, 4): c2 borrows 1, 12/12. `in` (p0, cpu 4) in c1: c1 is
/// at 5 < 6, so it first tries to end within nominal: c2-low (other queue, lower priority, c2
/// borrowing) frees 3 but c1 would be at 9; c1-low (own queue) brings c1 to 2 + 4 = 6 within
/// nominal and 6 free. Filling back c2-low would leave 3 free: both stay.
/// {c2-low: InCohortReclamation, c1-low: InClusterQueue}.
#[test]
fn p18_preempt_from_all_queues_in_cohort() {
    let ws = [
        w("c1-low", "c1", 0, -1).cpu(3),
        w("c1-mid", "c1", 1, 0).cpu(2),
        w("c2-low", "c2", 2, -1).cpu(3),
        w("c2-mid", "c2", 3, 0).cpu(4),
        w("in", "c1", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_c1_c2(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("c1-low", ICQ), ("c2-low", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-21 "preempt newer workloads with the same priority". Queue preventStarvation: default{cpu 6},
/// within LowerOrNewerEqualPriority. The case has wl1 (p2), wl2 and wl3 (p1) holding 2 cpu each,
/// wl2 reserved after wl3, and an incoming p1 workload created before both.
/// To create `in` first and have it wait: blocker (p5, 4 cpu, 10 s) and wl1 (p2, 2) fill the
/// queue at 0; `in` (p1, 2 cpu as 2 pods of 1, so that it is not of wl2's and wl3's
/// equivalence class, which Kueue would park with it) arrives at 1 and finds nothing of lower
/// priority: it is parked.
/// blocker ends at 10 (flush due at 11); wl3 arrives at 10.2 s and wl2 at 10.5 s, both fit. At
/// the flush (11) `in` returns, the queue is full: wl2 and wl3 have its priority but were
/// created later, so both are candidates; the most recently admitted goes first: wl2 frees 2.
/// {wl2: InClusterQueue}, `in` admitted at 11.
#[test]
fn p21_preempt_newer_workloads_with_same_priority() {
    let yaml = flavors(&["default"], false)
        + &queue(
            "preventStarvation",
            "",
            "default: cpu 6",
            &pre("LowerOrNewerEqualPriority", ""),
        );
    let ws = [
        w("blocker", "preventStarvation", 0, 5).cpu(4).dur(10),
        w("wl1", "preventStarvation", 0, 2).cpu(2),
        w("in", "preventStarvation", 1, 1).pods(2).cpu(1).dur(100),
        w("wl3", "preventStarvation", 0, 1).cpu(2).at_ms(10_200),
        w("wl2", "preventStarvation", 0, 1).cpu(2).at_ms(10_500),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("wl2", ICQ)]));
    assert_eq!(r.preempted_at(11), vec!["wl2"]);
    assert_eq!(r.start("in"), Some(11));
}

/// The `with_shared_cq` cohort: a_standard, b_standard, a_best_effort {cpu 1 BL 12},
/// b_best_effort {cpu 0 BL 13}, shared {cpu 10}: 13 cpu. borrowWithinCohort LowerPriority with
/// maxPriorityThreshold 0 everywhere but shared; within/reclaim as in the shared setup.
fn with_shared_cq() -> String {
    let bwc = Some(Some(0));
    flavors(&["default"], false)
        + &queue(
            "a_standard",
            "with_shared_cq",
            "default: cpu 1 bl 12",
            &pre_bwc("Never", "LowerPriority", bwc),
        )
        + &queue(
            "b_standard",
            "with_shared_cq",
            "default: cpu 1 bl 12",
            &pre_bwc("LowerPriority", "Any", bwc),
        )
        + &queue(
            "a_best_effort",
            "with_shared_cq",
            "default: cpu 1 bl 12",
            &pre_bwc("Never", "LowerPriority", bwc),
        )
        + &queue(
            "b_best_effort",
            "with_shared_cq",
            "default: cpu 0 bl 13",
            &pre_bwc("Never", "LowerPriority", bwc),
        )
        + &queue("shared", "with_shared_cq", "default: cpu 10", "")
}

/// P-22 "use BorrowWithinCohort; allow preempting a lower-priority workload from another
/// ClusterQueue while borrowing". a_best_effort_low (a_best_effort, p-1, 10), b_best_effort_low
/// (b_best_effort, p-1, 1): 11/13. `in` (p0, cpu 10) in a_standard borrows 9 whatever happens;
/// both candidates are below the threshold 0 and below `in`, both queues borrow. Newest first:
/// b_best_effort_low frees 1 (3 free), a_best_effort_low 10 more; filling back
/// b_best_effort_low leaves 12 >= 10. {a_best_effort_low: InCohortReclaimWhileBorrowing}.
#[test]
fn p22_borrow_within_cohort_preempts_below_threshold() {
    let ws = [
        w("a_best_effort_low", "a_best_effort", 0, -1).cpu(10),
        w("b_best_effort_low", "b_best_effort", 1, -1).cpu(1),
        w("in", "a_standard", 100, 0).cpu(10).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("a_best_effort_low", WHILE_BORROWING)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-23 "... don't allow preempting a lower-priority workload with priority above
/// MaxPriorityThreshold, if borrowing is required even after the preemption". b_standard (p1, 10).
/// `in` (p2, cpu 10) in a_standard would still borrow after any preemption, and the only
/// candidate's priority 1 is above the threshold 0: nothing preempted. b_standard ends at 1000,
/// `in` is admitted at the flush, 1001.
#[test]
fn p23_borrow_within_cohort_respects_threshold() {
    let ws = [
        w("b_standard", "b_standard", 0, 1).cpu(10),
        w("in", "a_standard", 100, 2).cpu(10).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(1001));
}

/// P-24 "... allow preempting a lower-priority workload with priority above
/// MaxPriorityThreshold, if borrowing is not required after the preemption". b_standard (p1, 13)
/// holds the whole cohort. `in` (p2, cpu 1) fits a_standard's nominal 1: a plain reclamation of
/// lower priority, the threshold does not apply. {b_standard: InCohortReclamation}.
#[test]
fn p24_reclaim_above_threshold_when_not_borrowing() {
    let ws = [
        w("b_standard", "b_standard", 0, 1).cpu(13),
        w("in", "a_standard", 100, 2).cpu(1).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("b_standard", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-25 "... don't allow for preemption of lower-priority workload from the same ClusterQueue".
/// a_standard (a_standard, p1, 13). `in` (p2, cpu 1) in a_standard: within Never, and no other
/// queue holds anything: nothing preempted; a_standard ends at 1000, `in` starts at 1001.
#[test]
fn p25_borrow_within_cohort_not_in_own_queue() {
    let ws = [
        w("a_standard", "a_standard", 0, 1).cpu(13),
        w("in", "a_standard", 100, 2).cpu(1).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(1001));
}

/// P-26 "... only preempt from CQ if no workloads below threshold and already above nominal".
/// a_standard_1 (10) and a_standard_2 (1) in a_standard (p1); b_standard_1 (p1, 1) and
/// b_standard_2 (p2, 1) in b_standard: 13/13. `in` (p3, cpu 1) in b_standard (already at 2 > 1)
/// will borrow: a_standard's p1 workloads are above the threshold, hence protected; in its own
/// queue the lowest priority goes: {b_standard_1: InClusterQueue}.
#[test]
fn p26_borrow_within_cohort_falls_back_to_own_queue() {
    let ws = [
        w("a_standard_1", "a_standard", 0, 1).cpu(10),
        w("a_standard_2", "a_standard", 1, 1).cpu(1),
        w("b_standard_1", "b_standard", 2, 1).cpu(1),
        w("b_standard_2", "b_standard", 3, 2).cpu(1),
        w("in", "b_standard", 100, 3).cpu(1).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("b_standard_1", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-27 "... preempt from CQ and from other CQs with workloads below threshold".
/// b_standard_high (p2, 10) and b_standard_mid (p1, 1) in b_standard; a_best_effort_low (p-1, 1)
/// and a_best_effort_lower (p-2, 1) in a_best_effort: 13/13. `in` (p2, cpu 2) in b_standard
/// borrows. Other queues first: a_best_effort_lower (p-2, below threshold) frees 1; a_best_effort
/// is then at its nominal 1, so a_best_effort_low is no longer reclaimable; own queue:
/// b_standard_mid frees the second. {a_best_effort_lower: InCohortReclaimWhileBorrowing,
/// b_standard_mid: InClusterQueue}.
#[test]
fn p27_borrow_within_cohort_mixes_cohort_and_own_queue() {
    let ws = [
        w("b_standard_high", "b_standard", 0, 2).cpu(10),
        w("b_standard_mid", "b_standard", 1, 1).cpu(1),
        w("a_best_effort_low", "a_best_effort", 2, -1).cpu(1),
        w("a_best_effort_lower", "a_best_effort", 3, -2).cpu(1),
        w("in", "b_standard", 100, 2).cpu(2).dur(100),
    ];
    let r = run_plain(&with_shared_cq(), &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[("a_best_effort_lower", WHILE_BORROWING), ("b_standard_mid", ICQ)])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// The `cohort-lend` pair: lend1 default{cpu 6 LL 4}, lend2 default{cpu 6 LL 2}; both within and
/// reclaim LowerPriority. lend1 keeps 2 to itself, lend2 keeps 4; the cohort pools 4 + 2 = 6.
fn cohort_lend() -> String {
    flavors(&["default"], false)
        + &queue(
            "lend1",
            "cohort-lend",
            "default: cpu 6 ll 4",
            &pre("LowerPriority", "LowerPriority"),
        )
        + &queue(
            "lend2",
            "cohort-lend",
            "default: cpu 6 ll 2",
            &pre("LowerPriority", "LowerPriority"),
        )
}

/// P-28 "reclaim quota from lender". lend1-low (lend1, p-1, 3); lend2-mid (p0, 3) and lend2-high
/// (p1, 4) in lend2 (at 7 > 6). `in` (p1, cpu 3) in lend1 ends within lend1's nominal (6): lend2's
/// excess is reclaimable, lower priority only: lend2-mid frees 3 (lend2 back to 4, the cohort has
/// 5 free for lend1). {lend2-mid: InCohortReclamation}.
#[test]
fn p28_reclaim_quota_from_lender() {
    let ws = [
        w("lend1-low", "lend1", 0, -1).cpu(3),
        w("lend2-mid", "lend2", 1, 0).cpu(3),
        w("lend2-high", "lend2", 2, 1).cpu(4),
        w("in", "lend1", 100, 1).cpu(3).dur(100),
    ];
    let r = run_plain(&cohort_lend(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("lend2-mid", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-29 "preempt from all ClusterQueues in cohort-lend". lend1-low (p-1, 3), lend1-mid (p0, 2)
/// in lend1; lend2-low (p-1, 3), lend2-mid (p0, 4) in lend2. `in` (p0, cpu 4) in lend1 (at 5):
/// lend2-low (other queue) then lend1-low (own) make room with lend1 within nominal (2 + 4);
/// filling back lend2-low leaves only 3. {lend1-low: InClusterQueue, lend2-low:
/// InCohortReclamation}.
#[test]
fn p29_preempt_from_all_queues_in_cohort_lend() {
    let ws = [
        w("lend1-low", "lend1", 0, -1).cpu(3),
        w("lend1-mid", "lend1", 1, 0).cpu(2),
        w("lend2-low", "lend2", 2, -1).cpu(3),
        w("lend2-mid", "lend2", 3, 0).cpu(4),
        w("in", "lend1", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&cohort_lend(), &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[("lend1-low", ICQ), ("lend2-low", RECLAIM)])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// P-30 "cannot preempt from other ClusterQueues if exceeds requestable quota including lending
/// limit". lend2-low (lend2, p-1, 10). `in` (p0, cpu 9) in lend1, which can reach at most its 6 +
/// lend2's lendable 2 = 8 < 9: it never fits (ExceedsMaxQuota), nothing is preempted.
#[test]
fn p30_cannot_exceed_lending_limits() {
    let ws = [
        w("lend2-low", "lend2", 0, -1).cpu(10),
        w("in", "lend1", 100, 0).cpu(9).dur(100),
    ];
    let r = run_plain(&cohort_lend(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.job("in").status, JobStatus::Pending);
    assert_eq!(r.job("in").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// `cohort-three`: a, b, c with default{cpu 2, memory 2} (memory scaled to MiB); a within
/// LowerPriority, reclaim Any; b and c no preemption.
fn cohort_three() -> String {
    flavors(&["default"], false)
        + &queue(
            "a",
            "cohort-three",
            "default: cpu 2, memory 2Mi",
            &pre("LowerPriority", "Any"),
        )
        + &queue("b", "cohort-three", "default: cpu 2, memory 2Mi", "")
        + &queue("c", "cohort-three", "default: cpu 2, memory 2Mi", "")
}

/// a1 (p-2), a2 (p-2), a3 (p-1) in a; b1..b3 (p0) in b; each cpu 1 (and `mem` MiB).
fn three_state(mem: u64) -> Vec<W> {
    vec![
        w("a1", "a", 0, -2).cpu(1).mem(mem),
        w("a2", "a", 1, -2).cpu(1).mem(mem),
        w("a3", "a", 2, -1).cpu(1).mem(mem),
        w("b1", "b", 3, 0).cpu(1).mem(mem),
        w("b2", "b", 4, 0).cpu(1).mem(mem),
        w("b3", "b", 5, 0).cpu(1).mem(mem),
    ]
}

/// P-31 "preemptions from cq when target queue is exhausted for the single requested resource".
/// a holds 3 (borrowing 1), b holds 3 (borrowing 1): 6/6. `in` (p0, cpu 2) in a: a is already
/// above its nominal, so it cannot end within nominal and has no borrowWithinCohort: b's
/// workloads are out of reach. In a: a1 and a2 (p-2) free 2. {a1, a2: InClusterQueue}.
#[test]
fn p31_exhausted_queue_preempts_in_itself() {
    let mut ws = three_state(0);
    ws.push(w("in", "a", 100, 0).cpu(2).dur(100));
    let r = run_plain(&cohort_three(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("a2", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-32 "... exhausted for two requested resources". As P-31 with every workload also holding
/// memory 1 (MiB here) and `in` asking cpu 2 + memory 2: a is above nominal on both, same
/// reasoning: {a1, a2: InClusterQueue}.
#[test]
fn p32_exhausted_on_two_resources() {
    let mut ws = three_state(1);
    ws.push(w("in", "a", 100, 0).cpu(2).mem(2).dur(100));
    let r = run_plain(&cohort_three(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("a2", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-33 "... exhausted for one requested resource, but not the other". P-31's state (cpu only);
/// `in` asks cpu 2 + memory 2: memory is free, cpu is exhausted in a as in P-31:
/// {a1, a2: InClusterQueue}.
#[test]
fn p33_exhausted_on_one_of_two_resources() {
    let mut ws = three_state(0);
    ws.push(w("in", "a", 100, 0).cpu(2).mem(2).dur(100));
    let r = run_plain(&cohort_three(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("a2", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-34 "allow preemption from other cluster queues if target cq is not exhausted for the
/// requested resource". a1 (a, p-1, 1); b1..b4 (p0) and b5 (p-1) in b, 1 each: b at 5 borrows 3.
/// `in` (p0, cpu 2) in a (at 1 < 2) tries to end within nominal: other queues first, lowest
/// priority then newest: b5, b4, b3 (b is then at 2, no longer above nominal), then a1 (own):
/// a at 0 + 2 fits. Filling back: b3 and b4 can return (free stays >= 2), b5 cannot.
/// {a1: InClusterQueue, b5: InCohortReclamation}.
#[test]
fn p34_not_exhausted_queue_reclaims_from_others() {
    let ws = [
        w("a1", "a", 0, -1).cpu(1),
        w("b1", "b", 1, 0).cpu(1),
        w("b2", "b", 2, 0).cpu(1),
        w("b3", "b", 3, 0).cpu(1),
        w("b4", "b", 4, 0).cpu(1),
        w("b5", "b", 5, -1).cpu(1),
        w("in", "a", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&cohort_three(), &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("b5", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// P-35 "long range preemption". Cohorts cohort-left and cohort-right under an implicit root;
/// cq-left (cohort-left, default{cpu 10}, reclaim Any), cq-right (cohort-right, default{cpu 0}).
/// to-be-preempted (cq-right, p0, 5) borrows cq-left's quota through the root. `in` (p0, cpu 8)
/// in cq-left fits its own nominal: reclaim across the tree. {to-be-preempted:
/// InCohortReclamation}.
#[test]
fn p35_long_range_preemption() {
    let yaml = flavors(&["default"], false)
        + &cohort("cohort-left", "root", "", "")
        + &cohort("cohort-right", "root", "", "")
        + &queue("cq-left", "cohort-left", "default: cpu 10", &pre("", "Any"))
        + &queue("cq-right", "cohort-right", "default: cpu 0", "");
    let ws = [
        w("to-be-preempted", "cq-right", 0, 0).cpu(5),
        w("in", "cq-left", 100, 0).cpu(8).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("to-be-preempted", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

// ---------------------------------------------------------------------------------------------
// preemption_hierarchical_test.go, TestHierarchicalPreemptions: classical preemption with Cohort
// objects. Single flavor `default`; unless stated every queue has within LowerPriority, reclaim
// Any; "q(0)" is a queue with a zero quota.
// ---------------------------------------------------------------------------------------------

fn lp_any() -> String {
    pre("LowerPriority", "Any")
}

/// Root `r` (no quota), `c` under it with `c_quota`, q(0) in c, q_borrowing(0) in r, and the
/// extra YAML.
fn r_c(c_quota: &str, extra: &str) -> String {
    flavors(&["default"], false)
        + &cohort("r", "", "", "")
        + &cohort("c", "r", c_quota, "")
        + &queue("q_borrowing", "r", "default: cpu 0", &lp_any())
        + extra
}

/// H-01 "preempt with hierarchical advantage". c (under r) has cpu 2; q(0) in c, q_borrowing(0)
/// in r. admitted2 (q_borrowing, p0, 2) borrows c's 2 through r. `in` (p0, cpu 2) in q fits
/// within c's subtree, which q_borrowing is not part of: reclaim (Any, so equal priority is
/// fine). {admitted2: InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h01_preempt_with_hierarchical_advantage() {
    let yaml = r_c("default: cpu 2", &queue("q", "c", "default: cpu 0", &lp_any()));
    let ws = [
        w("admitted2", "q_borrowing", 0, 0).cpu(2),
        w("in", "q", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted2", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-02 "avoid queues within nominal quota". As H-01 plus q_nominal (in r, cpu 2) holding
/// admitted1 (p-10, 2) and admitted2 (q_borrowing, p0, 2): 4/4. `in` (p0, cpu 2) in q: q_nominal
/// is within its nominal, so admitted1 is untouched despite p-10. {admitted2:
/// InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h02_avoid_queues_within_nominal() {
    let yaml = r_c(
        "default: cpu 2",
        &(queue("q", "c", "default: cpu 0", &lp_any())
            + &queue("q_nominal", "r", "default: cpu 2", &lp_any())),
    );
    let ws = [
        w("admitted1", "q_nominal", 0, -10).cpu(2),
        w("admitted2", "q_borrowing", 1, 0).cpu(2),
        w("in", "q", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted2", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-03 "preempt multiple with hierarchical advantage". admitted1 (p1, 1) and admitted2 (p2, 1)
/// in q_borrowing use c's 2. `in` (p0, cpu 2) in q needs both (reclaim Any ignores that they
/// have higher priority). {admitted1, admitted2: InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h03_preempt_multiple_with_hierarchical_advantage() {
    let yaml = r_c("default: cpu 2", &queue("q", "c", "default: cpu 0", &lp_any()));
    let ws = [
        w("admitted1", "q_borrowing", 0, 1).cpu(1),
        w("admitted2", "q_borrowing", 1, 2).cpu(1),
        w("in", "q", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[("admitted1", RECLAIM), ("admitted2", RECLAIM)])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// H-05 "prefer to preempt hierarchical candidate". admitted_borrowing (q_borrowing, p1, 1),
/// admitted_same_queue (q, p-2, 1): c's 2 full. `in` (p0, cpu 1) in q: hierarchical candidates
/// come before the own queue's, so the higher-priority borrower goes and the p-2 workload stays.
/// {admitted_borrowing: InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h05_prefer_hierarchical_candidate() {
    let yaml = r_c("default: cpu 2", &queue("q", "c", "default: cpu 0", &lp_any()));
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, 1).cpu(1),
        w("admitted_same_queue", "q", 1, -2).cpu(1),
        w("in", "q", 100, 0).cpu(1).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted_borrowing", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-06 "forced to preempt priority candidate". c (cpu 2) holds q(0) (borrowWithinCohort
/// LowerPriority, threshold 0) and q_same_cohort(0); q_nominal (cpu 2) in r.
/// admitted_nominal (q_nominal, p-10, 2), admitted_same_cohort (q_same_cohort, p-1, 2): 4/4.
/// `in` (p0, cpu 2) in q cannot fit within c (c already full by its own child): it borrows;
/// admitted_nominal is within nominal (protected); admitted_same_cohort is below the threshold
/// and below `in`. {admitted_same_cohort: InCohortReclaimWhileBorrowing}.
#[test]
fn h06_forced_to_preempt_priority_candidate() {
    let yaml = r_c(
        "default: cpu 2",
        &(queue(
            "q",
            "c",
            "default: cpu 0",
            &pre_bwc("LowerPriority", "Any", Some(Some(0))),
        ) + &queue("q_nominal", "r", "default: cpu 2", &lp_any())
            + &queue("q_same_cohort", "c", "default: cpu 0", &lp_any())),
    );
    let ws = [
        w("admitted_nominal", "q_nominal", 0, -10).cpu(2),
        w("admitted_same_cohort", "q_same_cohort", 1, -1).cpu(2),
        w("in", "q", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[("admitted_same_cohort", WHILE_BORROWING)])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// H-07 "incoming workload fits in CQ nominal quota". c (cpu 2) holds q (cpu 4) and
/// q_same_cohort(0); q_borrowing(0) in r: 6 in all. admitted_borrowing (q_borrowing, p10, 3),
/// admitted_same_cohort (q_same_cohort, p10, 3): full. `in` (p0, cpu 4) fits q's own nominal, so
/// both borrowers are reclaimable whatever their priority (Any); the newest first
/// (admitted_same_cohort) frees 3, admitted_borrowing 3 more; filling back either leaves 3 < 4.
/// {both: InCohortReclamation}.
#[test]
fn h07_incoming_fits_in_cq_nominal() {
    let yaml = r_c(
        "default: cpu 2",
        &(queue("q", "c", "default: cpu 4", &lp_any())
            + &queue("q_same_cohort", "c", "default: cpu 0", &lp_any())),
    );
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, 10).cpu(3),
        w("admitted_same_cohort", "q_same_cohort", 1, 10).cpu(3),
        w("in", "q", 100, 0).cpu(4).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[("admitted_borrowing", RECLAIM), ("admitted_same_cohort", RECLAIM)])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// H-08/H-09's tree: r (cpu 1) over c (cpu 4); q(0) in c with within LowerPriority, reclaim
/// LowerPriority, borrowWithinCohort LowerPriority threshold 0; q_borrowing(0) in r;
/// q_same_cohort(0) in c. 5 cpu in all.
fn h08_tree() -> String {
    flavors(&["default"], false)
        + &cohort("r", "", "default: cpu 1", "")
        + &cohort("c", "r", "default: cpu 4", "")
        + &queue(
            "q",
            "c",
            "default: cpu 0",
            &pre_bwc("LowerPriority", "LowerPriority", Some(Some(0))),
        )
        + &queue("q_borrowing", "r", "default: cpu 0", &lp_any())
        + &queue("q_same_cohort", "c", "default: cpu 0", &lp_any())
}

/// H-08 "preempt hierarchical and priority candidates". admitted_borrowing (q_borrowing, p-1, 2),
/// admitted_same_cohort_preemptible (q_same_cohort, p-1, 1), admitted_borrowing_not_preemptible
/// (q_borrowing, p1, 2): 5/5. `in` (p0, cpu 3) in q fits within c (1 + 3 = 4): q_borrowing's
/// lower-priority workload is a hierarchical candidate (2 freed, not enough); q_same_cohort is
/// inside c, so taking from it is preemption while borrowing (p-1 <= threshold 0): 3 free. The
/// p1 workload is not lower priority. {admitted_borrowing: InCohortReclamation,
/// admitted_same_cohort_preemptible: InCohortReclaimWhileBorrowing}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. Here `in` gets in, but the requeued
/// admitted_same_cohort_preemptible then reclaims admitted_borrowing_not_preemptible, which wins
/// the next tie on priority, takes the quota back, is reclaimed again: the run never ends.
#[test]
fn h08_preempt_hierarchical_and_priority_candidates() {
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, -1).cpu(2),
        w("admitted_same_cohort_preemptible", "q_same_cohort", 1, -1).cpu(1),
        w("admitted_borrowing_not_preemptible", "q_borrowing", 2, 1).cpu(2),
        w("in", "q", 100, 0).cpu(3).dur(100),
    ];
    let r = run_plain(&h08_tree(), &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[
            ("admitted_borrowing", RECLAIM),
            ("admitted_same_cohort_preemptible", WHILE_BORROWING)
        ])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// H-09 "preempt hierarchical candidates and inside CQ". As H-08 but the p-1 unit is in q itself
/// (admitted_same_queue_preemptible). Hierarchical candidate first (admitted_borrowing, 2), then
/// the own queue's. {admitted_borrowing: InCohortReclamation, admitted_same_queue_preemptible:
/// InClusterQueue}.
#[test]
fn h09_preempt_hierarchical_candidates_and_inside_cq() {
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, -1).cpu(2),
        w("admitted_same_queue_preemptible", "q", 1, -1).cpu(1),
        w("admitted_borrowing_not_preemptible", "q_borrowing", 2, 1).cpu(2),
        w("in", "q", 100, 0).cpu(3).dur(100),
    ];
    let r = run_plain(&h08_tree(), &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[
            ("admitted_borrowing", RECLAIM),
            ("admitted_same_queue_preemptible", ICQ)
        ])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// H-10 "reclaim nominal quota from lowest priority workload, excluding non-borrowing". c (cpu 3)
/// under r; q(0) in c; q_borrowing(0) and q_nominal (cpu 2) in r: 5. q_borrowing holds units
/// admitted_borrowing_prio_8 (p8), _prio_9 (p9) and _prio_10 (p9 as written); admitted_nominal
/// (q_nominal, p-2, 2). `in` (p0, cpu 1) in q: q_nominal is within nominal; among q_borrowing's
/// the lowest priority goes. {admitted_borrowing_prio_8: InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h10_reclaim_from_lowest_priority_excluding_non_borrowing() {
    let yaml = r_c(
        "default: cpu 3",
        &(queue("q", "c", "default: cpu 0", &lp_any())
            + &queue("q_nominal", "r", "default: cpu 2", &lp_any())),
    );
    let ws = [
        w("admitted_nominal", "q_nominal", 0, -2).cpu(2),
        w("admitted_borrowing_prio_8", "q_borrowing", 1, 8).cpu(1),
        w("admitted_borrowing_prio_9", "q_borrowing", 2, 9).cpu(1),
        w("admitted_borrowing_prio_10", "q_borrowing", 3, 9).cpu(1),
        w("in", "q", 100, 0).cpu(1).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted_borrowing_prio_8", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-11 "infeasible preemption all available workloads in pruned subtrees". r over c (cpu 2) and
/// c_other (cpu 2); q_other(0) in c_other; q(0) and q_same_cohort(0) in c.
/// admitted_other_1/_2 (q_other, p-10, 1 each) stay within c_other's quota, so they are not
/// reclaimable; admitted_same_cohort (q_same_cohort, p0, 2) fills c; `in` (p0, cpu 2) in q would
/// borrow beyond c and has no borrowWithinCohort, so q_same_cohort's workload is out of reach as
/// well. Nothing preempted.
#[test]
fn h11_infeasible_preemption_in_pruned_subtrees() {
    let yaml = flavors(&["default"], false)
        + &cohort("r", "", "", "")
        + &cohort("c", "r", "default: cpu 2", "")
        + &cohort("c_other", "r", "default: cpu 2", "")
        + &queue("q_other", "c_other", "default: cpu 0", &lp_any())
        + &queue("q", "c", "default: cpu 0", &lp_any())
        + &queue("q_same_cohort", "c", "default: cpu 0", &lp_any());
    let ws = [
        w("admitted_other_1", "q_other", 0, -10).cpu(1),
        w("admitted_other_2", "q_other", 1, -10).cpu(1),
        w("admitted_same_cohort", "q_same_cohort", 2, 0).cpu(2),
        w("in", "q", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("in") > Some(100));
}

/// H-12 "hiearchical preemption with multiple resources". r has cpu 3 (no memory); c (under r)
/// has cpu 4 and memory 4Gi; q(0) and q_same_cohort(0) in c, q_borrowing(0) in r.
/// admitted_borrowing (q_borrowing, p0, cpu 3 + 1Gi), admitted_same_cohort (q_same_cohort, p-2,
/// cpu 1 + 3Gi): cpu 4/7, memory 4Gi/4Gi. `in` (p-2, cpu 2 + 1Gi) in q: cpu is free, memory is
/// short; within c memory fits (3Gi + 1Gi), and q_borrowing borrows c's memory: reclaimable
/// whatever its priority. admitted_same_cohort is inside c and `in` has no borrowWithinCohort:
/// out of reach. {admitted_borrowing: InCohortReclamation}.
///
/// Fairway (ignored): the victims are the ones Kueue picks, but with immediate eviction they are
/// back in their queues in the same instant and nominated next to the preemptor. tree.rs
/// `borrow_level` counts steps up to the lowest node that holds the usage, so a queue directly
/// under r and q (fitting in c) both get 1; Kueue (`FindHeightOfLowestSubtreeThatFits`) uses the
/// height of that subtree: c 1, r 2. On the tie cycle.rs orders by priority and age, the victim
/// wins, takes the freed quota back, is preempted again: the run never ends.
#[test]
fn h12_hierarchical_preemption_with_multiple_resources() {
    let yaml = flavors(&["default"], false)
        + &cohort("r", "", "default: cpu 3", "")
        + &cohort("c", "r", "default: cpu 4, memory 4Gi", "")
        + &queue("q", "c", "default: cpu 0, memory 0", &lp_any())
        + &queue("q_same_cohort", "c", "default: cpu 0, memory 0", &lp_any())
        + &queue("q_borrowing", "r", "default: cpu 0, memory 0", &lp_any());
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, 0).cpu(3).mem(1024),
        w("admitted_same_cohort", "q_same_cohort", 1, -2)
            .cpu(1)
            .mem(3 * 1024),
        w("in", "q", 100, -2).cpu(2).mem(1024).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted_borrowing", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-14 "respect lending limits". c (cpu 2) under r holds q (cpu 3, lendingLimit 2: 1 kept
/// private); q_borrowing(0) in r. c's subtree lends 2 + 2 = 4; admitted_borrowing (q_borrowing,
/// p0, 4) borrows all of it. `in` (p-2, cpu 5) in q: q's maximum is its private 1 + 4 = 5, so it
/// is not a NoFit; it would need 5 - 1 = 4 from c, which c's subtree quota (4) holds: a subtree
/// below the root fits, so Kueue simulates preemption (mayReclaimInHierarchy), and q_borrowing,
/// borrowing from outside c, is reclaimable (Any). {admitted_borrowing: InCohortReclamation}.
///
/// Fairway (ignored): assign.rs `preemption_possible` compares an ancestor's subtree quota with
/// the whole request (c: 4 < 5) and ignores what q still holds privately; Kueue subtracts q's
/// local available (1) and finds that c holds the remaining 4 (mayReclaimInHierarchy). Fairway
/// calls the flavor NoFit and never looks for victims.
#[test]
fn h14_respect_lending_limits() {
    let yaml = r_c(
        "default: cpu 2",
        &queue("q", "c", "default: cpu 3 ll 2", &lp_any()),
    );
    let ws = [
        w("admitted_borrowing", "q_borrowing", 0, 0).cpu(4),
        w("in", "q", 100, -2).cpu(5).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("admitted_borrowing", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
}

/// H-15 "reclaim in complex hierarchy". Cohorts (cpu): r; c11 (r, 4), c12 (r, 4); c21, c22, c23
/// (c11, 4 each); c31, c32 (c21, 4 each). Zero-quota queues q1 (c12), q2 (c23), q3 (c22),
/// q4 (c32), q5 (c31). Usage 28/28: b1 (q1, p-6, 4), b2 (q1, p-5, 4), b3 (q2, p-9, 4), b4 (q2,
/// p-10, 4), b5 (q3, p-4, 4), b6 (q3, p-3, 3), b7 (q4, p4, 2), b8 (q4, p2, 3).
/// `in` (p-2, cpu 7) in q5 fits within c21 (c21 then holds 7 + q4's 5 = 12 = its subtree quota):
/// every queue borrowing from outside c21 is a hierarchical candidate (q1, q2, q3); q4 is inside
/// c21 (no borrowWithinCohort: out of reach). Lowest priority first: b4 (q2, p-10) frees 4
/// (4 free); b3 would be next but q2's cohort c23 is then within its quota; b1 (q1, p-6) frees
/// 4 more: 8 >= 7. Filling back b4 leaves 4: kept. {admitted_borrowing_1, admitted_borrowing_4:
/// InCohortReclamation}.
#[test]
fn h15_reclaim_in_complex_hierarchy() {
    let mut yaml = flavors(&["default"], false) + &cohort("r", "", "", "");
    for (c, p) in [
        ("c11", "r"),
        ("c12", "r"),
        ("c21", "c11"),
        ("c22", "c11"),
        ("c23", "c11"),
        ("c31", "c21"),
        ("c32", "c21"),
    ] {
        yaml += &cohort(c, p, "default: cpu 4", "");
    }
    for (q, c) in [
        ("q1", "c12"),
        ("q2", "c23"),
        ("q3", "c22"),
        ("q4", "c32"),
        ("q5", "c31"),
    ] {
        yaml += &queue(q, c, "default: cpu 0", &lp_any());
    }
    let ws = [
        w("admitted_borrowing_1", "q1", 0, -6).cpu(4),
        w("admitted_borrowing_2", "q1", 1, -5).cpu(4),
        w("admitted_borrowing_3", "q2", 2, -9).cpu(4),
        w("admitted_borrowing_4", "q2", 3, -10).cpu(4),
        w("admitted_borrowing_5", "q3", 4, -4).cpu(4),
        w("admitted_borrowing_6", "q3", 5, -3).cpu(3),
        w("admitted_borrowing_7", "q4", 6, 4).cpu(2),
        w("admitted_borrowing_8", "q4", 7, 2).cpu(3),
        w("in", "q5", 100, -2).cpu(7).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[
            ("admitted_borrowing_1", RECLAIM),
            ("admitted_borrowing_4", RECLAIM)
        ])
    );
    assert_eq!(r.start("in"), Some(100));
}

// ---------------------------------------------------------------------------------------------
// preemption_fair_test.go, TestFairPreemptions: fair-sharing target selection. Cohort `all`
// (no quota of its own); a, b, c: default{cpu 3}, within LowerPriority, reclaim Any,
// borrowWithinCohort LowerPriority threshold -3; `preemptible`: cpu 0, no preemption; weight 1.
// Shares (DRS) below are borrowed / lendable x 1000 over the 9 cpu, divided by the weight; the
// preemptor's share is taken with its request added. UIDs are the names.
// ---------------------------------------------------------------------------------------------

fn fair_base() -> String {
    let bwc = pre_bwc("LowerPriority", "Any", Some(Some(-3)));
    flavors(&["default"], false)
        + &queue("a", "all", "default: cpu 3", &bwc)
        + &queue("b", "all", "default: cpu 3", &bwc)
        + &queue("c", "all", "default: cpu 3", &bwc)
        + &queue("preemptible", "all", "default: cpu 0", "")
        + FAIR
}

/// Appends the incoming workload at 100 s.
fn with_in(mut ws: Vec<W>, incoming: W) -> Vec<W> {
    ws.push(incoming.dur(100));
    ws
}

/// F-01 "reclaim nominal from user using the most". a1-a3 (a), b1-b5 (b), c1 (c): 9/9.
/// c_incoming (1) keeps c within nominal (2 <= 3): it may reclaim from any queue above nominal,
/// starting with the highest share: only b borrows (share 2/9 = 222). b's first candidate is b1.
/// {b1: InCohortReclamation}.
#[test]
fn f01_reclaim_nominal_from_user_using_the_most() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5"], 10));
    ws.push(w("c1", "c", 20, 0).cpu(1));
    let ws = with_in(ws, w("c_incoming", "c", 100, 0).cpu(1));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(victims(&r, "c_incoming"), want(&[("b1", RECLAIM)]));
    assert_eq!(r.start("c_incoming"), Some(100));
}

/// F-02 "can reclaim from queue using less, if taking the latest workload from user using the
/// most isn't enough". a1 (3), a2 (1): a = 4; b1 (2), b2 (3): b = 5. c_incoming (3) fits c's
/// nominal: reclaim. b has the higher share (222 vs 111): b1 frees 2 (2 free, short of 3); b is
/// then at nominal, a is next: a1 frees 3 (5 free). Filling back b1 leaves 3 >= 3: b1 spared.
/// {a1: InCohortReclamation}.
#[test]
fn f02_reclaim_from_queue_using_less_if_needed() {
    let ws = vec![
        w("a2", "a", 0, 0).cpu(1),
        w("a1", "a", 1, 0).cpu(3),
        w("b2", "b", 2, 0).cpu(3),
        w("b1", "b", 3, 0).cpu(2),
    ];
    let ws = with_in(ws, w("c_incoming", "c", 100, 0).cpu(3));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(victims(&r, "c_incoming"), want(&[("a1", RECLAIM)]));
    assert_eq!(r.start("c_incoming"), Some(100));
}

/// F-03 "reclaim borrowable quota from user using the most". F-01's usage; a_incoming (1) puts a
/// at 4 (share 111): fair-sharing rules. b (share 222) is the target; without b1, b's share is
/// 111 >= a's 111 (rule S2-a: preemptor's share <= target's final share). {b1:
/// InCohortFairSharing}.
#[test]
fn f03_reclaim_borrowable_quota_from_user_using_the_most() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5"], 10));
    ws.push(w("c1", "c", 20, 0).cpu(1));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(1));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b1", FAIR_SHARING)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-04 "preempt one from each CQ borrowing". a1 0.5, a2 0.5, a3 3 (a = 4); b1 0.5, b2 0.5,
/// b3 3 (b = 4): 8/9. c_incoming (2) fits c's nominal: reclaim. a and b share 111 each: the
/// first target's first candidate (a1 or b1, 0.5) leaves 1.5 free; its queue then borrows only
/// 0.5 (55), so the other queue is next: its first 0.5 makes 2. Filling back the first leaves
/// 1.5: kept. {a1, b1: InCohortReclamation}.
#[test]
fn f04_preempt_one_from_each_cq_borrowing() {
    let ws = vec![
        w("a3", "a", 0, 0).cpu(3),
        w("a2", "a", 1, 0).cpu_m(500),
        w("a1", "a", 2, 0).cpu_m(500),
        w("b3", "b", 3, 0).cpu(3),
        w("b2", "b", 4, 0).cpu_m(500),
        w("b1", "b", 5, 0).cpu_m(500),
    ];
    let ws = with_in(ws, w("c_incoming", "c", 100, 0).cpu(2));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(
        victims(&r, "c_incoming"),
        want(&[("a1", RECLAIM), ("b1", RECLAIM)])
    );
    assert_eq!(r.start("c_incoming"), Some(100));
}

/// F-05 "can't preempt when everyone under nominal". a, b, c hold 3 units each; c_incoming (1)
/// would make c borrow, and nobody borrows: nothing preempted.
#[test]
fn f05_no_preemption_when_everyone_under_nominal() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3"], 10));
    ws.extend(newest_first("c", &["c1", "c2", "c3"], 20));
    let ws = with_in(ws, w("c_incoming", "c", 100, 0).cpu(1));
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("c_incoming") > Some(100));
}

/// F-06 "can't preempt when it would switch the imbalance". a1-a3, b1-b5: 8/9. a_incoming (2)
/// puts a at 5 (share 222). b is at 222; without any one unit b drops to 111 < 222 (S2-a fails),
/// and b's share 222 is not above a's 222 (S2-b fails). Nothing preempted.
#[test]
fn f06_no_preemption_that_switches_the_imbalance() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(2));
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-07 "can preempt lower priority workloads from same CQ". a1_low, a2_low (p-1), a3, a4 (a = 4);
/// b1-b5: 9/9. a_incoming (2, p0): with it a is at 6 (333), above b (222): a itself is the
/// target, its lower-priority units go first: a1_low (a at 5, 222 = b's: b tried, but taking a b
/// unit would leave b at 111 < 222, and b is not above a), then a2_low: 2 free.
/// {a1_low, a2_low: InClusterQueue}.
#[test]
fn f07_preempt_lower_priority_in_same_cq() {
    let mut ws = vec![
        w("a4", "a", 0, 0).cpu(1),
        w("a3", "a", 1, 0).cpu(1),
        w("a2_low", "a", 2, -1).cpu(1),
        w("a1_low", "a", 3, -1).cpu(1),
    ];
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(2));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("a1_low", ICQ), ("a2_low", ICQ)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-08 "can preempt a combination of same CQ and highest user". a_low (p-1), a2, a3 (a = 3);
/// b1-b6 (b = 6). a_incoming (2): a with it at 5 (222), b at 333: b is the target; without b1
/// b is at 222 >= 222 (S2-a): b1 goes. Now a and b are both at 222; b's next unit would drop it
/// to 111 (refused); a's own lower-priority a_low goes: 2 free. Filling back b1 leaves 1: kept.
/// {a_low: InClusterQueue, b1: InCohortFairSharing}.
#[test]
fn f08_preempt_combination_of_same_cq_and_highest_user() {
    let mut ws = vec![
        w("a3", "a", 0, 0).cpu(1),
        w("a2", "a", 1, 0).cpu(1),
        w("a_low", "a", 2, -1).cpu(1),
    ];
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5", "b6"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(2));
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("a_low", ICQ), ("b1", FAIR_SHARING)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-09 "preempt huge workload if there is no other option, as long as the target CQ gets a lower
/// share". b1 (9) holds everything. a_incoming (2) stays within a's nominal: reclaim.
/// {b1: InCohortReclamation}.
#[test]
fn f09_preempt_huge_workload_if_no_other_option() {
    let ws = with_in(
        vec![w("b1", "b", 0, 0).cpu(9)],
        w("a_incoming", "a", 100, 0).cpu(2),
    );
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b1", RECLAIM)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-10 "can't preempt huge workload if the incoming is also huge". a1 (2), b1 (7). a_incoming
/// (5): a at 7 (444) vs b at 444: without b1 b drops to 0 < 444 (S2-a fails), and b is not above
/// a (S2-b fails). Nothing preempted.
#[test]
fn f10_no_preemption_of_huge_workload_for_huge_incoming() {
    let ws = with_in(
        vec![w("a1", "a", 0, 0).cpu(2), w("b1", "b", 1, 0).cpu(7)],
        w("a_incoming", "a", 100, 0).cpu(5),
    );
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-11 "can't preempt 2 smaller workloads if the incoming is huge". b1 (2), b2 (2), b3 (3):
/// b = 7 (444). a_incoming (6): a at 6 (333). S2-a: any one of b's leaves b at 222 or 111 < 333.
/// S2-b (b 444 > a 333) allows one victim, b1: 4 free < 6, and then no queue is above a.
/// Not enough: nothing preempted.
#[test]
fn f11_no_preemption_of_two_smaller_for_huge_incoming() {
    let ws = with_in(
        vec![
            w("b3", "b", 0, 0).cpu(3),
            w("b2", "b", 1, 0).cpu(2),
            w("b1", "b", 2, 0).cpu(2),
        ],
        w("a_incoming", "a", 100, 0).cpu(6),
    );
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-12 "preempt from target and others even if over nominal". a1_low (p-1, 2), a2_low (p-1, 1)
/// (a = 3); b1 (3), b2 (3) (b = 6). a_incoming (4): a at 7 (444) above b (333): own lower
/// priority first: a1_low (a at 5, 222 < b's 333). b: without b1 b is at 0 < 222 (S2-a fails
/// for b1 and b2); a2_low goes (3 free, a at 4 = 111). S2-b: b (333) above a (111): b1 goes,
/// 6 free. Filling back: a2_low can return (5 free >= 4), a1_low cannot (3).
/// {a1_low: InClusterQueue, b1: InCohortFairSharing}.
#[test]
fn f12_preempt_from_target_and_others_even_if_over_nominal() {
    let ws = with_in(
        vec![
            w("a2_low", "a", 0, -1).cpu(1),
            w("a1_low", "a", 1, -1).cpu(2),
            w("b2", "b", 2, 0).cpu(3),
            w("b1", "b", 3, 0).cpu(3),
        ],
        w("a_incoming", "a", 100, 0).cpu(4),
    );
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("a1_low", ICQ), ("b1", FAIR_SHARING)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-13 "prefer to preempt workloads that don't make the target CQ have the biggest share".
/// b1 (2), b2 (1), b3 (2) (b = 5); c1 (1). a_incoming (3.5): a at 3.5 (55.6), b at 222. b1
/// would leave b at 0 (S2-a: 55.6 > 0, refused); b2 leaves b at 111 >= 55.6: taken, 4 free.
/// {b2: InCohortFairSharing}.
#[test]
fn f13_prefer_victims_that_keep_target_share_above() {
    let ws = with_in(
        vec![
            w("b3", "b", 0, 0).cpu(2),
            w("b2", "b", 1, 0).cpu(1),
            w("b1", "b", 2, 0).cpu(2),
            w("c1", "c", 3, 0).cpu(1),
        ],
        w("a_incoming", "a", 100, 0).cpu_m(3500),
    );
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b2", FAIR_SHARING)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-14 "preempt from different cluster queues if the end result has a smaller max share".
/// b1 (2), b2 (2.5); c1 (2), c2 (2.5): b and c at 4.5 (167 each). a_incoming (3.5): a at 55.6.
/// Every single victim drops its queue under nominal (share 0 < 55.6): S2-a fails. S2-b: b and c
/// are both above a: one from each, b1 then c1: 4 free >= 3.5. {b1, c1: InCohortFairSharing}.
#[test]
fn f14_preempt_from_different_queues_for_smaller_max_share() {
    let ws = with_in(
        vec![
            w("b2", "b", 0, 0).cpu_m(2500),
            w("b1", "b", 1, 0).cpu(2),
            w("c2", "c", 2, 0).cpu_m(2500),
            w("c1", "c", 3, 0).cpu(2),
        ],
        w("a_incoming", "a", 100, 0).cpu_m(3500),
    );
    let r = run_plain(&fair_base(), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("b1", FAIR_SHARING), ("c1", FAIR_SHARING)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-15 "scenario above does not flap". a1 (3.5), b2 (2.5), c2 (2.5): 8.5/9. b_incoming (2)
/// puts b at 4.5 (167); a borrows 0.5 (55.6): removing a1 drops a to 0 (S2-a fails) and a is
/// not above b (S2-b fails). Nothing preempted.
#[test]
fn f15_scenario_above_does_not_flap() {
    let ws = with_in(
        vec![
            w("a1", "a", 0, 0).cpu_m(3500),
            w("b2", "b", 1, 0).cpu_m(2500),
            w("c2", "c", 2, 0).cpu_m(2500),
        ],
        w("b_incoming", "b", 100, 0).cpu(2),
    );
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("b_incoming") > Some(100));
}

/// F-16 "cannot preempt if it would make the candidate CQ go under nominal after preempting one
/// element". b1 (3), b2 (3) (b = 6, 333); c1 (3). a_incoming (4): a at 111. S2-a: either of b's
/// drops b to 0: refused. S2-b: b above a: b1 goes (6 total, 3 free < 4); no queue is above a
/// any more. Not enough: nothing preempted.
#[test]
fn f16_no_preemption_that_sends_candidate_under_nominal() {
    let ws = with_in(
        vec![
            w("b2", "b", 0, 0).cpu(3),
            w("b1", "b", 1, 0).cpu(3),
            w("c1", "c", 2, 0).cpu(3),
        ],
        w("a_incoming", "a", 100, 0).cpu(4),
    );
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-17 "workloads under priority threshold not capriciously preempted". a1-a3, b1-b3,
/// preemptible1-3 (p-3, borrowed). a_incoming (2): a at 5 (222), preemptible at 333. The
/// borrowWithinCohort threshold plays no part in fair sharing: S2-a takes preemptible1 (333 ->
/// 222 >= 222), then the next would drop it to 111 (refused); S2-b: preemptible (222) not above
/// a (222). Only 1 free < 2: nothing preempted.
#[test]
fn f17_threshold_does_not_apply_to_fair_sharing() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3"], 10));
    ws.extend(
        newest_first(
            "preemptible",
            &["preemptible1", "preemptible2", "preemptible3"],
            20,
        )
        .into_iter()
        .map(|x| W { prio: -3, ..x }),
    );
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(2));
    let r = run_plain(&fair_base(), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-18 "preempt lower priority first, even if big", strategies [LessThanInitialShare]. a1 (3);
/// b_low (p0, 5), b_high (p1, 1): 9/9. a_incoming (1): a at 111, b at 333: b is above a, its
/// first candidate (lowest priority) goes: b_low. {b_low: InCohortFairSharing}.
#[test]
fn f18_preempt_lower_priority_first_even_if_big() {
    let yaml = fair_base().replace(FAIR, &fair_with("LessThanInitialShare"));
    let ws = with_in(
        vec![
            w("a1", "a", 0, 0).cpu(3),
            w("b_low", "b", 1, 0).cpu(5),
            w("b_high", "b", 2, 1).cpu(1),
        ],
        w("a_incoming", "a", 100, 0).cpu(1),
    );
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b_low", FAIR_SHARING)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-19 "preempt workload that doesn't transfer the imbalance, even if high priority",
/// strategies [LessThanOrEqualToFinalShare]. F-18's state: without b_low b would be at 0 < 111
/// (refused); without b_high b is at 222 >= 111: taken. {b_high: InCohortFairSharing}.
#[test]
fn f19_preempt_workload_that_does_not_transfer_imbalance() {
    let yaml = fair_base().replace(FAIR, &fair_with("LessThanOrEqualToFinalShare"));
    let ws = with_in(
        vec![
            w("a1", "a", 0, 0).cpu(3),
            w("b_low", "b", 1, 0).cpu(5),
            w("b_high", "b", 2, 1).cpu(1),
        ],
        w("a_incoming", "a", 100, 0).cpu(1),
    );
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b_high", FAIR_SHARING)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// a, b, c in `all` with cpu 3 each, within LowerPriority, reclaim Any, the given weights.
fn weighted(wa: &str, wb: &str) -> String {
    let p = pre("LowerPriority", "Any");
    flavors(&["default"], false)
        + &queue("a", "all", "default: cpu 3", &(p.clone() + &weight(wa)))
        + &queue("b", "all", "default: cpu 3", &(p.clone() + &weight(wb)))
        + &queue("c", "all", "default: cpu 3", &p)
        + FAIR
}

/// F-20 "CQ with higher weight can preempt more". a weight 2; a1-a3, b1-b6: 9/9. a_incoming (2):
/// a at 5 -> 222 / 2 = 111; b at 333. b1: b -> 222 >= 111, taken; b2: b -> 111 >= 111, taken:
/// 2 free. {b1, b2: InCohortFairSharing}.
#[test]
fn f20_higher_weight_can_preempt_more() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5", "b6"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(2));
    let r = run_plain(&weighted("2", "1"), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("b1", FAIR_SHARING), ("b2", FAIR_SHARING)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-21 "can preempt anything borrowing from CQ with 0 weight". b weight 0; a1-a3, b1-b6.
/// a_incoming (3): a at 6 (333). b borrows with weight 0: its share is infinite while it borrows.
/// b1 and b2 leave b borrowing (infinite >= 333): taken (2 free); b3 would bring b to its
/// nominal (share 0 < 333): refused by S2-a; S2-b: b (infinite) above a: b3 goes: 3 free.
/// {b1, b2, b3: InCohortFairSharing}.
#[test]
fn f21_preempt_anything_borrowing_from_zero_weight() {
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3", "b4", "b5", "b6"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(3));
    let r = run_plain(&weighted("1", "0"), &ws);
    assert_eq!(
        victims(&r, "a_incoming"),
        want(&[("b1", FAIR_SHARING), ("b2", FAIR_SHARING), ("b3", FAIR_SHARING)])
    );
    assert_eq!(r.start("a_incoming"), Some(100));
}

/// F-22 "can't preempt nominal from CQ with 0 weight". a (cpu 3, weight 1), b (cpu 3, weight 0)
/// only. a1-a3, b1-b3: 6/6. a_incoming (1) would borrow; b does not borrow: nothing preempted.
#[test]
fn f22_no_preemption_of_nominal_from_zero_weight() {
    let p = pre("LowerPriority", "Any");
    let yaml = flavors(&["default"], false)
        + &queue("a", "all", "default: cpu 3", &p)
        + &queue("b", "all", "default: cpu 3", &(p.clone() + &weight("0")))
        + FAIR;
    let mut ws = newest_first("a", &["a1", "a2", "a3"], 0);
    ws.extend(newest_first("b", &["b1", "b2", "b3"], 10));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(1));
    let r = run_plain(&yaml, &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert!(r.start("a_incoming") > Some(100));
}

/// F-23 "hierarchical preemption". ROOT (cpu 5) over LEFT (cpu 5, weight 2) and RIGHT (cpu 5);
/// queues of cpu 1: a (LEFT, weight 2, reclaim Any), b (LEFT), c (ROOT), d (RIGHT), e (RIGHT,
/// weight 0.99). Units b1-b5, c1-c5, d1-d5, e1-e5 with priority = index: 20/20. `in` (5) to a.
/// Shares at ROOT (lendable 20): c borrows 4 (200), RIGHT 3 (150), LEFT with `in` 3 (150 / 2 =
/// 75). c first: c1 leaves c at 150 >= 75. Then RIGHT and c tie at 150 (a cohort goes first):
/// in RIGHT, e (4 / 20 / 0.99 = 202) above d (200): e1 leaves RIGHT at 100 >= 75. c (150): c2
/// leaves 100. RIGHT and c at 100: any of their units would leave 50 < 75 (refused). LEFT: b
/// (200) above a (with `in`: 200 / 2 = 100): b1 leaves b at 150 >= 100; b2 leaves 100 >= 100:
/// 5 free. {b1, b2, c1, c2, e1: InCohortFairSharing}.
#[test]
fn f23_hierarchical_preemption() {
    let yaml = flavors(&["default"], false)
        + &cohort("ROOT", "", "default: cpu 5", "")
        + &cohort("LEFT", "ROOT", "default: cpu 5", &weight("2"))
        + &cohort("RIGHT", "ROOT", "default: cpu 5", "")
        + &queue("a", "LEFT", "default: cpu 1", &(pre("", "Any") + &weight("2")))
        + &queue("b", "LEFT", "default: cpu 1", "")
        + &queue("c", "ROOT", "default: cpu 1", "")
        + &queue("d", "RIGHT", "default: cpu 1", "")
        + &queue("e", "RIGHT", "default: cpu 1", &weight("0.99"))
        + FAIR;
    let mut ws = Vec::new();
    for (k, q) in ["b", "c", "d", "e"].iter().enumerate() {
        for i in 1..=5u64 {
            let name = format!("{q}{i}");
            ws.push(w(&name, q, k as u64 * 5 + i, i as i32).cpu(1));
        }
    }
    let ws = with_in(ws, w("in", "a", 100, 0).cpu(5));
    let r = run_plain(&yaml, &ws);
    assert_eq!(
        victims(&r, "in"),
        want(&[
            ("b1", FAIR_SHARING),
            ("b2", FAIR_SHARING),
            ("c1", FAIR_SHARING),
            ("c2", FAIR_SHARING),
            ("e1", FAIR_SHARING)
        ])
    );
    assert_eq!(r.start("in"), Some(100));
}

/// F-24 "borrowing cq in non-borrowing cohort is protected". ROOT (no quota) holds a (cpu 5,
/// weight 10, within LowerPriority, reclaim Any) and RIGHT (cpu 1, weight 0.1) with b (no
/// quota, weight 0.1). a1-a3 (p-1) in a, b1 (p-1) in b: b borrows RIGHT's own unit, RIGHT does
/// not borrow. `in` (p0, 5) to a: RIGHT is not a source; a's own lower-priority units go:
/// {a1, a2, a3: InClusterQueue}.
#[test]
fn f24_borrowing_cq_in_non_borrowing_cohort_is_protected() {
    let yaml = flavors(&["default"], false)
        + &cohort("ROOT", "", "", "")
        + &cohort("RIGHT", "ROOT", "default: cpu 1", &weight("0.1"))
        + &queue(
            "a",
            "ROOT",
            "default: cpu 5",
            &(pre("LowerPriority", "Any") + &weight("10")),
        )
        + &queue("b", "RIGHT", "default: cpu 0", &weight("0.1"))
        + FAIR;
    let ws = with_in(
        vec![
            w("a3", "a", 0, -1).cpu(1),
            w("a2", "a", 1, -1).cpu(1),
            w("a1", "a", 2, -1).cpu(1),
            w("b1", "b", 3, -1).cpu(1),
        ],
        w("in", "a", 100, 0).cpu(5),
    );
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("a2", ICQ), ("a3", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// F-25 "forced to preempt within clusterqueue because borrowing workload too important".
/// RIGHT has cpu 3 (weight 0.1); a (cpu 5, weight 10, within and reclaim LowerPriority); b in
/// RIGHT (no quota). a1-a3 (p-1), b1 (b, p100, 4: RIGHT borrows 1). `in` (p0, 4) to a: RIGHT
/// has the higher share but b1 is not of lower priority; a's own units go: 3 free + 1 = 4.
/// {a1, a2, a3: InClusterQueue}.
#[test]
fn f25_forced_to_preempt_within_cq() {
    let yaml = flavors(&["default"], false)
        + &cohort("ROOT", "", "", "")
        + &cohort("RIGHT", "ROOT", "default: cpu 3", &weight("0.1"))
        + &queue(
            "a",
            "ROOT",
            "default: cpu 5",
            &(pre("LowerPriority", "LowerPriority") + &weight("10")),
        )
        + &queue("b", "RIGHT", "default: cpu 0", &weight("0.1"))
        + FAIR;
    let ws = with_in(
        vec![
            w("a3", "a", 0, -1).cpu(1),
            w("a2", "a", 1, -1).cpu(1),
            w("a1", "a", 2, -1).cpu(1),
            w("b1", "b", 3, 100).cpu(4),
        ],
        w("in", "a", 100, 0).cpu(4),
    );
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "in"), want(&[("a1", ICQ), ("a2", ICQ), ("a3", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
}

/// F-26 "deep preemption". ROOT over A (weight 1.01) > AA > AAA, B (weight 0.99) > BB > BBB, C >
/// CC > CCC > CCCC (cpu 1, the only quota). a (AAA, reclaim Any) and b (BBB), no quota.
/// b1 (1) holds the unit; a1 (1) to a. At ROOT: A with a1 borrows 1/1 (1000 / 1.01 = 990), B
/// 1000 / 0.99 = 1010. Without b1 B's share is 0 < 990 (S2-a refuses); B above A (S2-b):
/// {b1: InCohortFairSharing}.
#[test]
fn f26_deep_preemption() {
    let mut yaml = flavors(&["default"], false) + &cohort("ROOT", "", "", "");
    yaml += &cohort("A", "ROOT", "", &weight("1.01"));
    yaml += &cohort("AA", "A", "", "");
    yaml += &cohort("AAA", "AA", "", "");
    yaml += &cohort("B", "ROOT", "", &weight("0.99"));
    yaml += &cohort("BB", "B", "", "");
    yaml += &cohort("BBB", "BB", "", "");
    yaml += &cohort("C", "ROOT", "", "");
    yaml += &cohort("CC", "C", "", "");
    yaml += &cohort("CCC", "CC", "", "");
    yaml += &cohort("CCCC", "CCC", "default: cpu 1", "");
    yaml += &queue("a", "AAA", "default: cpu 0", &pre("", "Any"));
    yaml += &queue("b", "BBB", "default: cpu 0", "");
    yaml += FAIR;
    let ws = with_in(vec![w("b1", "b", 0, 0).cpu(1)], w("a1", "a", 100, 0).cpu(1));
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a1"), want(&[("b1", FAIR_SHARING)]));
    assert_eq!(r.start("a1"), Some(100));
}

/// F-27 "cq with zero weight can reclaim nominal quota". a (cpu 1, weight 0, reclaim Any), b
/// (cpu 0) in ROOT. b1 (1) borrows a's unit; a1 (1) fits a's nominal: reclaim.
/// {b1: InCohortReclamation}.
#[test]
fn f27_zero_weight_cq_reclaims_nominal() {
    let yaml = flavors(&["default"], false)
        + &queue("a", "ROOT", "default: cpu 1", &(pre("", "Any") + &weight("0")))
        + &queue("b", "ROOT", "default: cpu 0", "")
        + FAIR;
    let ws = with_in(vec![w("b1", "b", 0, 0).cpu(1)], w("a1", "a", 100, 0).cpu(1));
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a1"), want(&[("b1", RECLAIM)]));
    assert_eq!(r.start("a1"), Some(100));
}

/// F-28 "cohort with zero weight can reclaim nominal quota". A (under ROOT, cpu 1, weight 0)
/// holds a (cpu 0, weight 0, reclaim Any); b (cpu 0) in ROOT. b1 borrows A's unit. a1 (1) would
/// borrow in a (nominal 0), so fair-sharing rules apply: with a1, A is within its quota (share
/// 0); without b1 b's share is 0 >= 0 (S2-a). {b1: InCohortFairSharing}.
#[test]
fn f28_zero_weight_cohort_reclaims_nominal() {
    let yaml = flavors(&["default"], false)
        + &cohort("ROOT", "", "", "")
        + &cohort("A", "ROOT", "default: cpu 1", &weight("0"))
        + &queue("a", "A", "default: cpu 0", &(pre("", "Any") + &weight("0")))
        + &queue("b", "ROOT", "default: cpu 0", "")
        + FAIR;
    let ws = with_in(vec![w("b1", "b", 0, 0).cpu(1)], w("a1", "a", 100, 0).cpu(1));
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a1"), want(&[("b1", FAIR_SHARING)]));
    assert_eq!(r.start("a1"), Some(100));
}

/// F-29 "nominal first: workload fitting within nominal can preempt despite high aggregate DRS".
/// Flavors premium, cheap. a: premium{cpu 3}, cheap{cpu 0}, reclaim Any, fungibility
/// MayStopSearch / MayStopSearch; b: premium{cpu 0}, cheap{cpu 6}.
/// The case's state: a_prem1, a_prem2 (a, premium), a_cheap1-5 (a, cheap, borrowed from b),
/// b_prem1 (b, premium, borrowed from a). Built so: a_prem1, a_prem2 and a_tmp (10 s) fill
/// premium at 0-2; a_cheap1-5 (3-7) find premium full with nothing to preempt and go to cheap;
/// a_tmp ends at 10; b_prem1 (20) borrows the freed premium unit.
/// a_incoming (1) on premium: a stays within its premium nominal (2 + 1 <= 3), so it may reclaim
/// from any queue borrowing premium, whatever a's overall share (borrowing 5 cheap):
/// {b_prem1: InCohortReclamation}; a_incoming runs on premium.
#[test]
fn f29_nominal_first_despite_high_drs() {
    let yaml = flavors(&["premium", "cheap"], true)
        + &queue(
            "a",
            "all",
            "premium: cpu 3; cheap: cpu 0",
            &(pre("", "Any") + &fung("MayStopSearch", "MayStopSearch", "")),
        )
        + &queue("b", "all", "premium: cpu 0; cheap: cpu 6", "")
        + FAIR;
    let mut ws = vec![
        w("a_prem1", "a", 0, 0).cpu(1),
        w("a_prem2", "a", 1, 0).cpu(1),
        w("a_tmp", "a", 2, 0).cpu(1).dur(8),
    ];
    for i in 1..=5u64 {
        ws.push(w(&format!("a_cheap{i}"), "a", 2 + i, 0).cpu(1));
    }
    ws.push(w("b_prem1", "b", 20, 0).cpu(1));
    let ws = with_in(ws, w("a_incoming", "a", 100, 0).cpu(1));
    let r = run(&yaml, flavor_pools(&[("premium", 1000), ("cheap", 500)]), &ws, "");
    assert_eq!(ran_s(&r, "a_cheap1"), 2000, "a_cheap1 runs on cheap");
    assert_eq!(victims(&r, "a_incoming"), want(&[("b_prem1", RECLAIM)]));
    assert_eq!(r.start("a_incoming"), Some(100));
    assert_eq!(ran_s(&r, "a_incoming"), 100, "premium");
}

/// F-31 "zero weight borrowing preemptor can preempt from a borrowing CQ which also has zero
/// weight". Cohort `all` has cpu 3 of its own; a (cpu 1, weight 0, reclaim Any), b (cpu 0,
/// weight 0): 4. b1-b3 (b). a_incoming (2): a borrows 1: infinite share, compared with b's
/// (also infinite) by the unweighted ratio: a 1/4, b 3/4. Without b1 b is at 2/4 >= 1/4 (S2-a):
/// {b1: InCohortFairSharing}.
#[test]
fn f31_zero_weight_preemptor_and_zero_weight_target() {
    let yaml = flavors(&["default"], false)
        + &cohort("all", "", "default: cpu 3", "")
        + &queue("a", "all", "default: cpu 1", &(pre("", "Any") + &weight("0")))
        + &queue("b", "all", "default: cpu 0", &weight("0"))
        + FAIR;
    let ws = with_in(
        newest_first("b", &["b1", "b2", "b3"], 0),
        w("a_incoming", "a", 100, 0).cpu(2),
    );
    let r = run_plain(&yaml, &ws);
    assert_eq!(victims(&r, "a_incoming"), want(&[("b1", FAIR_SHARING)]));
    assert_eq!(r.start("a_incoming"), Some(100));
}

// ---------------------------------------------------------------------------------------------
// scheduler_test.go, TestSchedule: one scheduling cycle, classical (fair sharing off). The shared
// base: eng-alpha (cohort eng, StrictFIFO, on-demand{cpu 50 BL 50}, spot{cpu 100 BL 0}), eng-beta
// (eng, StrictFIFO, on-demand{cpu 50 BL 10}, spot{cpu 0 BL 100} | model-a{example.com/gpu 20
// BL 0}, reclaim Any, within LowerPriority), lend-a (lend, default{cpu 3 LL 2}), lend-b (lend,
// default{cpu 2 LL 2}), sales (StrictFIFO, default{cpu 50}). Flavors are labelled: on-demand and
// default run at full speed, spot at half speed (a 100 s workload takes 200 s there).
// Pending workloads of one cycle all arrive at 100 s.
// ---------------------------------------------------------------------------------------------

fn s_flavors() -> String {
    flavors(&["default", "on-demand", "spot", "model-a"], true)
}

fn s_pools() -> Vec<PoolSpec> {
    flavor_pools(&[
        ("default", 1000),
        ("on-demand", 1000),
        ("spot", 500),
        ("model-a", 1000),
    ])
}

/// eng-alpha and eng-beta of the base.
fn eng() -> String {
    queue(
        "eng-alpha",
        "eng",
        "on-demand: cpu 50 bl 50; spot: cpu 100 bl 0",
        STRICT,
    ) + &queue(
        "eng-beta",
        "eng",
        "on-demand: cpu 50 bl 10; spot: cpu 0 bl 100 | model-a: example.com/gpu 20 bl 0",
        &(STRICT.to_string() + &pre("LowerPriority", "Any")),
    )
}

fn run_s(yaml: &str, ws: &[W]) -> Run {
    run(yaml, s_pools(), ws, "gpu_resource=example.com/gpu")
}

/// S-01 "admit in same cohort with no borrowing". new@eng-alpha and new@eng-beta, 40 pods of
/// 1 cpu each: both fit their on-demand nominal (50). Both admitted on on-demand.
#[test]
fn s01_admit_in_same_cohort_without_borrowing() {
    let ws = [
        w("new@eng-alpha", "eng-alpha", 100, 0).pods(40).cpu(1).dur(100),
        w("new@eng-beta", "eng-beta", 100, 0).pods(40).cpu(1).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    for n in ["new@eng-alpha", "new@eng-beta"] {
        assert_eq!(r.start(n), Some(100), "{n}");
        assert_eq!(ran_s(&r, n), 100, "{n} on on-demand");
    }
}

/// S-03 "cannot borrow if cohort was assigned and would result in overadmission". alpha ×45 fits
/// its nominal; beta ×56 was nominated on on-demand borrowing 6. alpha goes first (no
/// borrowing) and takes 45; beta's 56 no longer fits the cohort's 100 - 45 = 55: not admitted in
/// that cycle. In the next cycle on-demand cannot hold 56 (no preemption possible: beyond
/// nominal, flat cohort), so eng-beta's next flavor, spot (BL 100, alpha's 100 unused), is
/// taken: beta runs on spot, never on on-demand.
#[test]
fn s03_no_overadmission_when_borrowing_after_another_admission() {
    let ws = [
        w("alpha-new", "eng-alpha", 100, 0).pods(45).cpu(1).dur(100),
        w("beta-new", "eng-beta", 100, 0).pods(56).cpu(1).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    assert_eq!(r.start("alpha-new"), Some(100));
    assert_eq!(ran_s(&r, "alpha-new"), 100, "on-demand");
    assert_eq!(ran_s(&r, "beta-new"), 200, "not on on-demand: spot");
}

/// S-04 "can borrow if cohort was assigned and will not result in overadmission". As S-03 with
/// beta ×55: 45 + 55 = 100 fits. Both admitted on on-demand.
#[test]
fn s04_borrow_when_cohort_still_fits() {
    let ws = [
        w("alpha-new", "eng-alpha", 100, 0).pods(45).cpu(1).dur(100),
        w("beta-new", "eng-beta", 100, 0).pods(55).cpu(1).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    for n in ["alpha-new", "beta-new"] {
        assert_eq!(r.start(n), Some(100), "{n}");
        assert_eq!(ran_s(&r, n), 100, "{n} on on-demand");
    }
}

/// S-05 "can borrow if needs reclaim from cohort in different flavor". eng-beta holds
/// user-on-demand (50 on-demand) and user-spot (1 on spot; built by letting a 5 s filler of
/// eng-alpha hold the other 50 on-demand when user-spot arrives). Pending can-reclaim (alpha,
/// 100) and needs-to-borrow (beta, 1). can-reclaim cannot have on-demand (beyond alpha's
/// nominal) and would need spot that beta borrows, but eng-alpha cannot preempt: not admitted.
/// needs-to-borrow borrows 1 on-demand from alpha: admitted on on-demand.
#[test]
fn s05_borrow_while_another_needs_reclaim_in_other_flavor() {
    let ws = [
        w("user-on-demand", "eng-beta", 0, 0).cpu(50),
        w("filler", "eng-alpha", 1, 0).cpu(50).dur(5),
        w("user-spot", "eng-beta", 2, 0).cpu(1),
        w("can-reclaim", "eng-alpha", 100, 0).cpu(100).dur(100),
        w("needs-to-borrow", "eng-beta", 100, 0).cpu(1).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    assert_eq!(ran_s(&r, "user-spot"), 2000, "user-spot is on spot");
    assert_eq!(r.start("needs-to-borrow"), Some(100));
    assert_eq!(ran_s(&r, "needs-to-borrow"), 100, "on-demand");
    assert!(r.start("can-reclaim") > Some(100));
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

fn lend() -> String {
    queue("lend-a", "lend", "default: cpu 3 ll 2", "") + &queue("lend-b", "lend", "default: cpu 2 ll 2", "")
}

/// S-06 "workload exceeds lending limit when borrow in cohort". a (lend-b, 2) holds lend-b's
/// nominal; lend-a lends at most 2, so lend-b can reach 4: b (lend-b, 3) does not fit (2 + 3 > 4)
/// and is parked. a ends at 1000; at the flush (1001) b fits.
#[test]
fn s06_exceeds_lending_limit_when_borrowing() {
    let ws = [
        w("a", "lend-b", 0, 0).cpu(2),
        w("b", "lend-b", 100, 0).cpu(3).dur(100),
    ];
    let r = run_s(&(s_flavors() + &lend()), &ws);
    assert!(r.preemptions().is_empty());
    assert_eq!(r.start("b"), Some(1001));
}

/// Cohort `child` under `root`: cq-lender on-demand{cpu 10, LL `ll`}, cq-borrower on-demand{cpu
/// 5, BL 10}.
fn lender_borrower(ll: u32) -> String {
    s_flavors()
        + &cohort("root", "", "", "")
        + &cohort("child", "root", "", "")
        + &queue("cq-lender", "child", &format!("on-demand: cpu 10 ll {ll}"), "")
        + &queue("cq-borrower", "child", "on-demand: cpu 5 bl 10", "")
}

/// S-07 "hierarchical cohort respects lending limit when borrowing". LL 3: wl-existing (5) holds
/// cq-borrower's nominal, only 3 can be borrowed: wl-pending (4) is not admitted (inadmissible).
/// wl-existing ends at 1000, the flush at 1001 admits it.
#[test]
fn s07_hierarchical_cohort_respects_lending_limit() {
    let ws = [
        w("wl-existing", "cq-borrower", 0, 0).cpu(5),
        w("wl-pending", "cq-borrower", 100, 0).cpu(4).dur(100),
    ];
    let r = run_s(&lender_borrower(3), &ws);
    assert!(r.preemptions().is_empty());
    assert_eq!(r.start("wl-pending"), Some(1001));
}

/// S-08 "hierarchical cohort allows borrowing up to lending limit". LL 5: wl-borrowing (5) borrows
/// exactly the lendable 5: admitted on on-demand.
#[test]
fn s08_hierarchical_cohort_borrows_up_to_lending_limit() {
    let ws = [
        w("wl-existing", "cq-borrower", 0, 0).cpu(5),
        w("wl-borrowing", "cq-borrower", 100, 0).cpu(5).dur(100),
    ];
    let r = run_s(&lender_borrower(5), &ws);
    assert_eq!(r.start("wl-borrowing"), Some(100));
    assert_eq!(ran_s(&r, "wl-borrowing"), 100);
}

/// S-09 "preempt workloads in ClusterQueue and cohort". low-1 (beta, p-1, 30) and low-2 (beta,
/// p-2, 10) on on-demand; borrower (alpha, p0, 60) borrows the remaining on-demand; use-all-spot
/// (alpha, 100) then finds on-demand full and takes spot. preemptor (beta, p0, 20): beta is at
/// 40 < 50, so it tries to end within nominal: borrower (other queue, alpha borrowing) frees 60
/// but beta would be at 60 > 50; low-2 (own, lowest priority) brings beta to 30 + 20 = 50.
/// Filling back borrower leaves 10 < 20: kept. {borrower: InCohortReclamation, low-2:
/// InClusterQueue}; preemptor admitted (on on-demand) once they are gone.
#[test]
fn s09_preempt_in_cluster_queue_and_cohort() {
    let ws = [
        w("low-1", "eng-beta", 0, -1).cpu(30),
        w("low-2", "eng-beta", 1, -2).cpu(10),
        w("borrower", "eng-alpha", 2, 0).cpu(60),
        w("use-all-spot", "eng-alpha", 3, 0).cpu(100),
        w("preemptor", "eng-beta", 100, 0).cpu(20).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    assert_eq!(ran_s(&r, "use-all-spot"), 2000, "use-all-spot is on spot");
    assert_eq!(
        victims(&r, "preemptor"),
        want(&[("borrower", RECLAIM), ("low-2", ICQ)])
    );
    assert_eq!(r.start("preemptor"), Some(100));
    assert_eq!(ran_s(&r, "preemptor"), 100, "on-demand");
}

/// S-10 "multiple CQs need preemption". Cohort other: other-alpha on-demand{cpu 50 BL 50} (no
/// preemption), other-beta on-demand{cpu 50 BL 10} (reclaim Any, within LowerPriority). use-all
/// (alpha, 100) holds everything. preemptor (beta, p-1, 1) stays within beta's nominal: reclaim
/// use-all (Any). pending (alpha, p1, 1) needs preemption but alpha cannot preempt: no
/// candidates, inadmissible. {use-all: InCohortReclamation}. Fairway evicts at once: preemptor
/// is admitted at 100; use-all, requeued, no longer fits; pending returns at the flush that the
/// eviction schedules (101) and fits then (99 free).
#[test]
fn s10_multiple_queues_need_preemption() {
    let yaml = s_flavors()
        + &queue("other-alpha", "other", "on-demand: cpu 50 bl 50", "")
        + &queue(
            "other-beta",
            "other",
            "on-demand: cpu 50 bl 10",
            &pre("LowerPriority", "Any"),
        );
    let ws = [
        w("use-all", "other-alpha", 0, 0).cpu(100),
        w("preemptor", "other-beta", 100, -1).cpu(1).dur(100),
        w("pending", "other-alpha", 100, 1).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(victims(&r, "preemptor"), want(&[("use-all", RECLAIM)]));
    assert_eq!(r.preempted_at(100), vec!["use-all"]);
    assert_eq!(r.start("preemptor"), Some(100));
    assert_eq!(r.start("pending"), Some(101));
}

/// S-11 "not enough resources to borrow, fallback to next flavor; WhenCanPreempt: TryNextFlavor".
/// existing (beta, ×45 on on-demand). new (alpha, ×60): on-demand has 55 free and alpha cannot
/// preempt: next flavor, spot (alpha's own 100): admitted on spot.
#[test]
fn s11_fall_back_to_next_flavor() {
    let ws = [
        w("existing", "eng-beta", 0, 0).pods(45).cpu(1),
        w("new", "eng-alpha", 100, 0).pods(60).cpu(1).dur(100),
    ];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    assert_eq!(r.start("new"), Some(100));
    assert_eq!(ran_s(&r, "new"), 200, "spot");
}

/// S-12 "no overadmission while borrowing". eng-gamma (eng, on-demand{cpu 50 BL 10}, spot{cpu 0
/// BL 100}, reclaim Any, within LowerPriority) added: on-demand totals 150. The case's `existing`
/// (eng-gamma, pod sets of 51 on on-demand and 100 on spot) is held here as two workloads of
/// those sizes. Pending: new (beta ×50), new-alpha (alpha ×1), new-gamma (gamma ×50). new and
/// new-alpha fit their nominal: admitted on on-demand. new-gamma would take gamma to 101 > 60
/// (nominal + BL), nothing of lower priority to preempt, spot is full: inadmissible.
/// existing-od ends at 1000; at the flush (1001) new-gamma fits.
#[test]
fn s12_no_overadmission_while_borrowing() {
    let yaml = s_flavors()
        + &eng()
        + &queue(
            "eng-gamma",
            "eng",
            "on-demand: cpu 50 bl 10; spot: cpu 0 bl 100",
            &pre("LowerPriority", "Any"),
        );
    let ws = [
        w("existing-od", "eng-gamma", 0, 0).pods(51).cpu(1),
        w("existing-spot", "eng-gamma", 1, 0).pods(100).cpu(1),
        w("new", "eng-beta", 100, 0).pods(50).cpu(1).dur(100),
        w("new-alpha", "eng-alpha", 100, 0).cpu(1).dur(100),
        w("new-gamma", "eng-gamma", 100, 0).pods(50).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(ran_s(&r, "existing-spot"), 2000, "existing-spot is on spot");
    for n in ["new", "new-alpha"] {
        assert_eq!(r.start(n), Some(100), "{n}");
        assert_eq!(ran_s(&r, n), 100, "{n} on on-demand");
    }
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("new-gamma"), Some(1001));
}

/// Cohort co: cq1, cq2, cq3 with default{r1 10 BL 10, r2 10 BL 10}, reclaim Any, within
/// LowerPriority. r1 is re-expressed as cpu, r2 as memory (Gi).
fn co() -> String {
    let q = "default: cpu 10 bl 10, memory 10Gi bl 10Gi";
    let p = pre("LowerPriority", "Any");
    s_flavors() + &queue("cq1", "co", q, &p) + &queue("cq2", "co", q, &p) + &queue("cq3", "co", q, &p)
}

/// S-13 "two workloads can borrow the same resources from the same flavor in the same cycle if
/// fits in the cohort quota": wl1 (cq1, p-1, r1 16) and wl2 (cq2, p-2, r1 14): 30 = the cohort's
/// r1: both admitted. Sibling "... different resources ...": wl2 asks r2 16 instead: both
/// admitted.
#[test]
fn s13_two_workloads_borrow_in_one_cycle_when_cohort_fits() {
    let same = [
        w("wl1", "cq1", 100, -1).cpu(16).dur(100),
        w("wl2", "cq2", 100, -2).cpu(14).dur(100),
    ];
    let different = [
        w("wl1", "cq1", 100, -1).cpu(16).dur(100),
        w("wl2", "cq2", 100, -2).mem(16 * 1024).dur(100),
    ];
    for ws in [&same[..], &different[..]] {
        let r = run_s(&co(), ws);
        assert_eq!((r.start("wl1"), r.start("wl2")), (Some(100), Some(100)));
    }
}

/// S-14 "only one workload can borrow one resources from the same flavor in the same cycle if
/// cohort quota cannot fit": wl1 (p-1, r1 16) and wl2 (p-2, r1 16): 32 > 30. wl1 (higher
/// priority) is admitted; wl2 is left. wl1 ends at 200; the flush at 201 admits wl2.
#[test]
fn s14_only_one_borrows_when_cohort_cannot_fit() {
    let ws = [
        w("wl1", "cq1", 100, -1).cpu(16).dur(100),
        w("wl2", "cq2", 100, -2).cpu(16).dur(100),
    ];
    let r = run_s(&co(), &ws);
    assert_eq!(r.start("wl1"), Some(100));
    assert_eq!(r.start("wl2"), Some(201));
}

/// S-15 "preemption while borrowing, workload waiting for preemption should not block a borrowing
/// workload in another CQ". Cohort preemption-while-borrowing: cq_shared default{cpu 4 BL 0};
/// cq_a default{cpu 0 BL 3} and cq_b default{cpu 0}, both reclaim LowerPriority and
/// borrowWithinCohort LowerPriority. admitted_a (cq_a, 2). a (cq_a, 3) would exceed cq_a's
/// borrowing limit (2 + 3 > 3) and nothing can be preempted: inadmissible. b (cq_b, 1) borrows:
/// admitted. admitted_a ends at 1000; a is admitted at the flush, 1001.
#[test]
fn s15_waiting_preemptor_does_not_block_other_borrower() {
    let bwc = pre_bwc("", "LowerPriority", Some(None));
    let yaml = s_flavors()
        + &queue(
            "cq_shared",
            "preemption-while-borrowing",
            "default: cpu 4 bl 0",
            "",
        )
        + &queue("cq_a", "preemption-while-borrowing", "default: cpu 0 bl 3", &bwc)
        + &queue("cq_b", "preemption-while-borrowing", "default: cpu 0", &bwc);
    let ws = [
        w("admitted_a", "cq_a", 0, 0).cpu(2),
        w("a", "cq_a", 100, 0).cpu(3).dur(100),
        w("b", "cq_b", 100, 0).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("b"), Some(100));
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("a"), Some(1001));
}

/// S-16 "minimal preemptions when target queue is exhausted". Cohort other: other-alpha
/// on-demand{cpu 2} (reclaim Any, within LowerPriority), other-beta and other-gamma
/// on-demand{cpu 2}. a1, a2 (p-2), a3 (p-1) in alpha; b1-b3 (p0) in beta: 6/6. incoming (alpha,
/// p0, 2): alpha is above its nominal, so it cannot end within it and has no borrowWithinCohort:
/// only its own queue: a1 and a2. {a1, a2: InClusterQueue}.
#[test]
fn s16_minimal_preemptions_when_target_queue_is_exhausted() {
    let yaml = s_flavors()
        + &queue(
            "other-alpha",
            "other",
            "on-demand: cpu 2",
            &pre("LowerPriority", "Any"),
        )
        + &queue("other-beta", "other", "on-demand: cpu 2", "")
        + &queue("other-gamma", "other", "on-demand: cpu 2", "");
    let ws = [
        w("a1", "other-alpha", 0, -2).cpu(1),
        w("a2", "other-alpha", 1, -2).cpu(1),
        w("a3", "other-alpha", 2, -1).cpu(1),
        w("b1", "other-beta", 3, 0).cpu(1),
        w("b2", "other-beta", 4, 0).cpu(1),
        w("b3", "other-beta", 5, 0).cpu(1),
        w("incoming", "other-alpha", 100, 0).cpu(2).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(victims(&r, "incoming"), want(&[("a1", ICQ), ("a2", ICQ)]));
    assert_eq!(r.start("incoming"), Some(100));
}

/// S-17 "A workload is only eligible to do preemptions if it fits fully within nominal quota".
/// other-alpha on-demand{cpu 2} (reclaim Any, within LowerPriority), other-beta on-demand{cpu 2}.
/// a1 (alpha, p-1, 1), b1 (beta, p-1, 1). incoming (alpha, p1, 3) exceeds alpha's nominal and
/// has no borrowWithinCohort: no preemption (NoFit), inadmissible. a1 ends at 1000: at the
/// flush (1001) 3 are free.
#[test]
fn s17_preempt_only_when_fitting_within_nominal() {
    let yaml = s_flavors()
        + &queue(
            "other-alpha",
            "other",
            "on-demand: cpu 2",
            &pre("LowerPriority", "Any"),
        )
        + &queue("other-beta", "other", "on-demand: cpu 2", "");
    let ws = [
        w("a1", "other-alpha", 0, -1).cpu(1),
        w("b1", "other-beta", 1, -1).cpu(1),
        w("incoming", "other-alpha", 100, 1).cpu(3).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("incoming"), Some(1001));
}

/// S-18 "multiple preemptions without borrowing". other-alpha and other-beta default{cpu 2},
/// within LowerPriority. a1 (alpha, p0, 2), b1 (beta, p0, 2). One preemptor per queue (p100, 2):
/// each preempts in its own queue, in the same cycle. {a1, b1: InClusterQueue}.
#[test]
fn s18_multiple_preemptions_without_borrowing() {
    let p = pre("LowerPriority", "");
    let yaml = s_flavors()
        + &queue("other-alpha", "other", "default: cpu 2", &p)
        + &queue("other-beta", "other", "default: cpu 2", &p);
    let ws = [
        w("a1", "other-alpha", 0, 0).cpu(2),
        w("b1", "other-beta", 1, 0).cpu(2),
        w("preemptor-alpha", "other-alpha", 100, 100).cpu(2).dur(100),
        w("preemptor-beta", "other-beta", 100, 100).cpu(2).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(victims(&r, "preemptor-alpha"), want(&[("a1", ICQ)]));
    assert_eq!(victims(&r, "preemptor-beta"), want(&[("b1", ICQ)]));
    assert_eq!(r.preempted_at(100), vec!["a1", "b1"]);
}

/// S-19 "multiple preemptions preemption possible after earlier workload fits". other-alpha
/// default{cpu 1}, other-beta default{cpu 2}, within LowerPriority. b1 (beta, p0, 2). fit (alpha,
/// p100, 1) fits: admitted. preemptor (beta, p99, 2) preempts b1 in its own queue.
/// {b1: InClusterQueue}.
#[test]
fn s19_preemption_after_earlier_workload_fits() {
    let p = pre("LowerPriority", "");
    let yaml = s_flavors()
        + &queue("other-alpha", "other", "default: cpu 1", &p)
        + &queue("other-beta", "other", "default: cpu 2", &p);
    let ws = [
        w("b1", "other-beta", 0, 0).cpu(2),
        w("fit", "other-alpha", 100, 100).cpu(1).dur(100),
        w("preemptor", "other-beta", 100, 99).cpu(2).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("fit"), Some(100));
    assert_eq!(victims(&r, "preemptor"), want(&[("b1", ICQ)]));
    assert_eq!(r.start("preemptor"), Some(100));
}

/// S-20 "multiple preemptions skip preemption when shared limited resource". other-alpha and
/// other-beta default{cpu 2}, within LowerPriority and borrowWithinCohort LowerPriority;
/// resource-bank default{cpu 1}: 5. (The case leaves reclaimWithinCohort unset; Kueue's webhook,
/// like fairway, refuses borrowWithinCohort with reclaim Never, so it is LowerPriority here. No
/// other queue is above its nominal, so no cohort candidate exists either way.) a1 (alpha, p0,
/// 2), b1 (beta, p0, 2). preemptor (alpha, p100, 3) and pretending-preemptor (beta, p99, 3) each
/// need their own 2 plus the bank's 1. preemptor (higher priority) goes first: a1.
/// pretending-preemptor would need the bank's unit too: skipped, b1 untouched in that cycle.
/// {a1: InClusterQueue}.
#[test]
fn s20_skip_preemption_when_shared_resource_is_taken() {
    let p = pre_bwc("LowerPriority", "LowerPriority", Some(None));
    let yaml = s_flavors()
        + &queue("other-alpha", "other", "default: cpu 2", &p)
        + &queue("other-beta", "other", "default: cpu 2", &p)
        + &queue("resource-bank", "other", "default: cpu 1", "");
    let ws = [
        w("a1", "other-alpha", 0, 0).cpu(2),
        w("b1", "other-beta", 1, 0).cpu(2),
        w("preemptor", "other-alpha", 100, 100).cpu(3).dur(100),
        w("pretending-preemptor", "other-beta", 100, 99).cpu(3).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(victims(&r, "preemptor"), want(&[("a1", ICQ)]));
    assert_eq!(r.preempted_at(100), vec!["a1"]);
    assert_eq!(r.start("preemptor"), Some(100));
    assert!(r.start("pretending-preemptor") > Some(100));
}

/// Cohort other with GPUs (resource `gpu`): other-alpha on-demand{gpu 10}, spot{gpu 10}, within
/// and reclaim LowerPriority; other-beta on-demand{gpu 0}, spot{gpu 0} with `beta_pre`.
fn gpu_other(beta_pre: &str) -> String {
    s_flavors()
        + &queue(
            "other-alpha",
            "other",
            "on-demand: gpu 10; spot: gpu 10",
            &pre("LowerPriority", "LowerPriority"),
        )
        + &queue("other-beta", "other", "on-demand: gpu 0; spot: gpu 0", beta_pre)
}

fn run_gpu(yaml: &str, ws: &[W]) -> Run {
    run(yaml, s_pools(), ws, "gpu_resource=gpu")
}

/// S-21 "prefer reclamation over cq priority based preemption". a1 (alpha, p50, 5 on-demand);
/// b1 (beta, p50, 5 on spot; a 5 s filler of alpha holds the rest of on-demand when b1
/// arrives). preemptor (alpha, p100, 6): on on-demand it would preempt a1 in its own queue; on
/// spot it stays within alpha's nominal and reclaims b1 (lower priority) from beta: reclamation
/// is preferred. {b1: InCohortReclamation}; preemptor on spot.
#[test]
fn s21_prefer_reclamation_over_priority_preemption() {
    let ws = [
        w("a1", "other-alpha", 0, 50).gpu(5),
        w("filler", "other-alpha", 1, 50).gpu(5).dur(5),
        w("b1", "other-beta", 2, 50).gpu(5),
        w("preemptor", "other-alpha", 100, 100).gpu(6).dur(100),
    ];
    let r = run_gpu(&gpu_other(&pre("LowerPriority", "LowerPriority")), &ws);
    assert_eq!(victims(&r, "preemptor"), want(&[("b1", RECLAIM)]));
    assert_eq!(r.start("preemptor"), Some(100));
    assert_eq!(ran_s(&r, "preemptor"), 200, "spot");
}

/// S-22 "prefer first preemption flavor when second flavor requires both reclaim and cq priority
/// preemption". other-beta has no preemption. a1 (alpha, p50, 5 on-demand); a2 (alpha, p50, 5 on
/// spot: on-demand was full with a filler, no lower priority to preempt); b1 (beta, p50, 5 on
/// spot). preemptor (alpha, p100, 6): on-demand needs a1 (own queue); spot would need b1 and a2
/// (own queue too). Both are priority preemption: the first flavor wins. {a1: InClusterQueue};
/// preemptor on on-demand.
#[test]
fn s22_prefer_first_flavor_when_second_also_preempts_in_queue() {
    let ws = [
        w("a1", "other-alpha", 0, 50).gpu(5),
        w("filler", "other-alpha", 1, 50).gpu(5).dur(5),
        w("a2", "other-alpha", 2, 50).gpu(5),
        w("b1", "other-beta", 3, 50).gpu(5),
        w("preemptor", "other-alpha", 100, 100).gpu(6).dur(100),
    ];
    let r = run_gpu(&gpu_other(""), &ws);
    assert_eq!(ran_s(&r, "a2"), 2000, "a2 is on spot");
    assert_eq!(victims(&r, "preemptor"), want(&[("a1", ICQ)]));
    assert_eq!(ran_s(&r, "preemptor"), 100, "on-demand");
}

/// S-23 "prefer first preemption flavor when second flavor also requires cq priority preemption".
/// a1 (alpha, p50, 6 on-demand; a 4-GPU filler fills on-demand meanwhile), a2 (alpha, p50, 5 on
/// spot), b1 (beta, p9001, 5 on spot). preemptor (alpha, p100, 5): on-demand needs a1; on spot b1
/// is not of lower priority, so a2 (own queue): both priority preemption, first flavor wins.
/// {a1: InClusterQueue}; preemptor on on-demand.
#[test]
fn s23_prefer_first_flavor_when_both_preempt_in_queue() {
    let ws = [
        w("a1", "other-alpha", 0, 50).gpu(6),
        w("filler", "other-alpha", 1, 50).gpu(4).dur(5),
        w("a2", "other-alpha", 2, 50).gpu(5),
        w("b1", "other-beta", 3, 9001).gpu(5),
        w("preemptor", "other-alpha", 100, 100).gpu(5).dur(100),
    ];
    let r = run_gpu(&gpu_other(""), &ws);
    assert_eq!(ran_s(&r, "a2"), 2000, "a2 is on spot");
    assert_eq!(victims(&r, "preemptor"), want(&[("a1", ICQ)]));
    assert_eq!(ran_s(&r, "preemptor"), 100, "on-demand");
}

/// S-24 "workload requiring reclaimation prioritized over wl in another full cq". Cohort other:
/// CQ1 on-demand{gpu 10}, CQ2 on-demand{gpu 10} (reclaim Any), CQ3 on-demand{gpu 0}.
/// Admitted-Workload-1 (CQ1, 5), Admitted-Workload-2 (CQ3, p0, 5), Admitted-Workload-3 (CQ3, p1,
/// 5): 15/20. WL1 (CQ1, 10, older) would take CQ1 to 15 > 10: it borrows (height 1) and cannot
/// preempt (no candidates). WL2 (CQ2, 10) fits CQ2's nominal after reclaiming from CQ3 (height 0).
/// Entries go by borrowing first: WL2 before the older WL1; WL2 reclaims the lowest priority
/// of CQ3: {Admitted-Workload-2: InCohortReclamation}. WL1 is inadmissible.
///
/// Fairway (ignored): assign.rs leaves a flavor's level at 0 when preemption finds no
/// candidates, while Kueue's SimulatePreemption reports the borrowing height with the current
/// usage (WL1: 1). cycle.rs then sorts WL1 (level 0, older) before WL2; WL1's no-candidates
/// quota hold keeps CQ1's 5 unused nominal (CQ1 cannot always reclaim), WL2 no longer fits after
/// its preemption and is skipped, and nothing changes in that instant to retry it.
#[test]
fn s24_reclaiming_workload_goes_before_borrowing_one() {
    let yaml = s_flavors()
        + &queue("CQ1", "other", "on-demand: gpu 10", "")
        + &queue("CQ2", "other", "on-demand: gpu 10", &pre("", "Any"))
        + &queue("CQ3", "other", "on-demand: gpu 0", "");
    let ws = [
        w("Admitted-Workload-1", "CQ1", 0, 0).gpu(5),
        w("Admitted-Workload-2", "CQ3", 1, 0).gpu(5),
        w("Admitted-Workload-3", "CQ3", 2, 1).gpu(5),
        w("WL1", "CQ1", 100, 0).pods(2).gpu(5).dur(100),
        w("WL2", "CQ2", 100, 0).pods(2).gpu(5).dur(100),
    ];
    let r = run_gpu(&yaml, &ws);
    assert_eq!(victims(&r, "WL2"), want(&[("Admitted-Workload-2", RECLAIM)]));
    assert_eq!(r.preempted_at(100), vec!["Admitted-Workload-2"]);
    assert!(r.start("WL1") > Some(100));
}

/// S-25 "capacity not blocked when lending clusterqueue can reclaim (ReclaimWithinCohort=Any)".
/// ClusterQueueA on-demand{gpu 2} (reclaim Any), ClusterQueueB on-demand{gpu 0}. a1-admitted
/// (A, 1). a2-pending (A, 2) needs preemption with no candidates; since A can always reclaim what
/// it lends, no capacity is held for it: b1-pending (B, 1) borrows the free unit: admitted;
/// a2-pending is inadmissible.
#[test]
fn s25_lender_that_can_reclaim_does_not_block_capacity() {
    let yaml = s_flavors()
        + &queue("ClusterQueueA", "root", "on-demand: gpu 2", &pre("", "Any"))
        + &queue("ClusterQueueB", "root", "on-demand: gpu 0", "");
    let ws = [
        w("a1-admitted", "ClusterQueueA", 0, 0).gpu(1),
        w("a2-pending", "ClusterQueueA", 100, 0).gpu(2).dur(100),
        w("b1-pending", "ClusterQueueB", 100, 0).gpu(1).dur(100),
    ];
    let r = run_gpu(&yaml, &ws);
    assert_eq!(r.start("b1-pending"), Some(100));
    assert!(r.start("a2-pending") > Some(100));
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

/// S-27 "in a hierarchical cohort, workload borrowing less is scheduled first". Cohort root over
/// a cohort with default{cpu 4} (named `guaranteed` in the case; renamed guaranteed-cohort here,
/// as fairway keeps one namespace for queues and cohorts); queue guaranteed (cpu 0) in it,
/// queue best-effort (cpu 0) directly in root. guaranteed-wl (p0, 4) fits within its cohort: the
/// lowest fitting subtree has height 1. best-effort-wl (p3, 4) only fits at the root, whose
/// subtree has height 2. Less borrowing first, priority second: guaranteed-wl is admitted,
/// best-effort-wl is left.
///
/// Fairway (ignored): tree.rs `borrow_level` counts steps up from the queue (1 for both), not the
/// height of the lowest fitting subtree (guaranteed-cohort 1, root 2); on the tie the higher
/// priority best-effort-wl goes first and takes the 4 cpu.
#[test]
fn s27_hierarchical_borrowing_less_goes_first() {
    let yaml = s_flavors()
        + &cohort("root", "", "", "")
        + &cohort("guaranteed-cohort", "root", "default: cpu 4", "")
        + &queue("guaranteed", "guaranteed-cohort", "default: cpu 0", "")
        + &queue("best-effort", "root", "default: cpu 0", "");
    let ws = [
        w("guaranteed-wl", "guaranteed", 100, 0).cpu(4).dur(100),
        w("best-effort-wl", "best-effort", 100, 3).cpu(4).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("guaranteed-wl"), Some(100));
    assert!(r.start("best-effort-wl") > Some(100));
}

/// S-28 "don't assign flavor if there are no candidates for preemption". Cohort cohort: cq1
/// on-demand{cpu 0 BL 1}, spot{cpu 0 BL 1}, within LowerPriority, reclaim Any, borrowWithinCohort
/// LowerPriority, fungibility MayStopSearch / MayStopSearch; cq2 on-demand{cpu 1}, spot{cpu 1}.
/// admitted (cq2, p0, 1 on-demand). new (cq1, p100, 1): on-demand needs preemption but cq2 is
/// within its nominal: no candidates, so the search goes on: spot fits by borrowing. Admitted on
/// spot, nothing preempted.
#[test]
fn s28_no_flavor_without_preemption_candidates() {
    let yaml = s_flavors()
        + &queue(
            "cq1",
            "cohort",
            "on-demand: cpu 0 bl 1; spot: cpu 0 bl 1",
            &(pre_bwc("LowerPriority", "Any", Some(None)) + &fung("MayStopSearch", "MayStopSearch", "")),
        )
        + &queue("cq2", "cohort", "on-demand: cpu 1; spot: cpu 1", "");
    let ws = [
        w("admitted", "cq2", 0, 0).cpu(1),
        w("new", "cq1", 100, 100).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("new"), Some(100));
    assert_eq!(ran_s(&r, "new"), 200, "spot");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

/// S-29 "admit to second flavor when first needs preemption; WhenCanPreempt: TryNextFlavor".
/// preempt-attempts-cq (no cohort): on-demand{cpu 1}, spot{cpu 1}, within LowerPriority,
/// whenCanPreempt TryNextFlavor (whenCanBorrow unset: MayStopSearch). blocker (p50, 1 on-demand).
/// test-wl (p100, 1): on-demand would need preemption, spot fits: spot, no preemption.
#[test]
fn s29_second_flavor_instead_of_preemption() {
    let yaml = s_flavors()
        + &queue(
            "preempt-attempts-cq",
            "",
            "on-demand: cpu 1; spot: cpu 1",
            &(pre("LowerPriority", "") + &fung("MayStopSearch", "TryNextFlavor", "")),
        );
    let ws = [
        w("blocker", "preempt-attempts-cq", 0, 50).cpu(1),
        w("test-wl", "preempt-attempts-cq", 100, 100).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("test-wl"), Some(100));
    assert_eq!(ran_s(&r, "test-wl"), 200, "spot");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

/// S-30 "use second flavor when the first has no preemption candidates; WhenCanPreempt:
/// MayStopSearch". other-alpha (no cohort; the case's borrowing limits are dropped, they are
/// meaningless without a cohort and Kueue's webhook refuses them): on-demand{cpu 50}, spot{cpu
/// 100}, within LowerPriority, whenCanPreempt MayStopSearch. admitted (p0, 50 on-demand). new
/// (p0, 20): on-demand's only candidate has equal priority: no candidates, the search goes on:
/// spot.
#[test]
fn s30_second_flavor_when_first_has_no_candidates() {
    let yaml = s_flavors()
        + &queue(
            "other-alpha",
            "",
            "on-demand: cpu 50; spot: cpu 100",
            &(pre("LowerPriority", "") + &fung("MayStopSearch", "MayStopSearch", "")),
        );
    let ws = [
        w("admitted", "other-alpha", 0, 0).cpu(50),
        w("new", "other-alpha", 100, 0).cpu(20).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("new"), Some(100));
    assert_eq!(ran_s(&r, "new"), 200, "spot");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

/// Cohort `<p>-cohort`: `<p>-cq` on-demand{cpu 5 BL 0}, spot{cpu 0 BL 5}, within LowerPriority,
/// TryNextFlavor / TryNextFlavor with the given preference; `<p>-lender` on-demand{cpu 0},
/// spot{cpu 5}.
fn preference_cohort(p: &str, preference: &str) -> String {
    s_flavors()
        + &queue(
            &format!("{p}-cq"),
            &format!("{p}-cohort"),
            "on-demand: cpu 5 bl 0; spot: cpu 0 bl 5",
            &(pre("LowerPriority", "") + &fung("TryNextFlavor", "TryNextFlavor", preference)),
        )
        + &queue(
            &format!("{p}-lender"),
            &format!("{p}-cohort"),
            "on-demand: cpu 0; spot: cpu 5",
            "",
        )
}

/// S-31 "PreemptionOverBorrowing preference: preempt in first flavor instead of borrowing in
/// second". low-pob (pob-cq, p-1, 5 on-demand). high-pob (p0, 5): on-demand needs preemption of
/// low-pob (no borrowing after it); spot fits by borrowing. Preferring preemption over
/// borrowing: on-demand. {low-pob: InClusterQueue}; high-pob on on-demand.
#[test]
fn s31_preemption_over_borrowing() {
    let ws = [
        w("low-pob", "pob-cq", 0, -1).cpu(5),
        w("high-pob", "pob-cq", 100, 0).cpu(5).dur(100),
    ];
    let r = run_s(&preference_cohort("pob", "PreemptionOverBorrowing"), &ws);
    assert_eq!(victims(&r, "high-pob"), want(&[("low-pob", ICQ)]));
    assert_eq!(r.start("high-pob"), Some(100));
    assert_eq!(ran_s(&r, "high-pob"), 100, "on-demand");
}

/// S-32 "BorrowingOverPreemption preference: borrow in second flavor instead of preempting in
/// first". Same shape (bop-*): high-bop borrows spot; nothing preempted.
#[test]
fn s32_borrowing_over_preemption() {
    let ws = [
        w("low-bop", "bop-cq", 0, -1).cpu(5),
        w("high-bop", "bop-cq", 100, 0).cpu(5).dur(100),
    ];
    let r = run_s(&preference_cohort("bop", "BorrowingOverPreemption"), &ws);
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("high-bop"), Some(100));
    assert_eq!(ran_s(&r, "high-bop"), 200, "spot");
}

/// S-33 "PreemptionOverBorrowing preference: select fitting second flavor over first flavor with
/// no preemption candidates". nopc-root (on-demand{cpu 0}, spot{cpu 5}) over nopc-mid; in nopc-mid
/// nopc-cq (on-demand{cpu 5 BL 0}, spot{cpu 0}, within LowerPriority, TryNextFlavor /
/// TryNextFlavor, PreemptionOverBorrowing) and an idle nopc-sibling (on-demand{cpu 5}, spot{cpu
/// 0}). admitted-nopc (p0, 5 on-demand). pending-nopc (p0, 5): on-demand has no candidate (equal
/// priority), spot fits by borrowing the root's 5: spot.
#[test]
fn s33_fitting_second_flavor_over_first_without_candidates() {
    let yaml = s_flavors()
        + &cohort("nopc-root", "", "on-demand: cpu 0; spot: cpu 5", "")
        + &cohort("nopc-mid", "nopc-root", "", "")
        + &queue(
            "nopc-cq",
            "nopc-mid",
            "on-demand: cpu 5 bl 0; spot: cpu 0",
            &(pre("LowerPriority", "") + &fung("TryNextFlavor", "TryNextFlavor", "PreemptionOverBorrowing")),
        )
        + &queue("nopc-sibling", "nopc-mid", "on-demand: cpu 5; spot: cpu 0", "");
    let ws = [
        w("admitted-nopc", "nopc-cq", 0, 0).cpu(5),
        w("pending-nopc", "nopc-cq", 100, 0).cpu(5).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("pending-nopc"), Some(100));
    assert_eq!(ran_s(&r, "pending-nopc"), 200, "spot");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

fn sales() -> String {
    s_flavors() + &queue("sales", "", "default: cpu 50", STRICT)
}

/// S-34 "single clusterQueue full". sales (StrictFIFO, cpu 50): assigned (×40). new (×11) does
/// not fit (40 + 11 > 50) and nothing can be preempted: left. assigned ends at 1000; new (head
/// of a StrictFIFO queue, retried whenever usage changes) is admitted at 1000.
#[test]
fn s34_single_cluster_queue_full() {
    let ws = [
        w("assigned", "sales", 0, 0).pods(40).cpu(1),
        w("new", "sales", 100, 0).pods(11).cpu(1).dur(100),
    ];
    let r = run_s(&sales(), &ws);
    assert_eq!(r.start("new"), Some(1000));
}

/// S-35 "not enough resources". new (sales, cpu 100) exceeds sales' 50: ExceedsMaxQuota, never
/// admitted.
#[test]
fn s35_not_enough_resources() {
    let ws = [w("new", "sales", 100, 0).cpu(100).dur(100)];
    let r = run_s(&sales(), &ws);
    assert_eq!(r.job("new").status, JobStatus::Pending);
    assert_eq!(r.job("new").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// S-36 "cannot borrow resource not listed in clusterQueue". new (eng-alpha, example.com/gpu 1):
/// no resource group of eng-alpha covers the GPU, so no flavor is ever tried: NoMatchingFlavor,
/// never admitted.
///
/// Fairway (ignored): assign.rs `assign` answers a request for a resource no group covers with
/// ExceedsMaxQuota; Kueue tries no flavor (findFlavorForPodSets) and resolveNoFitReason then
/// reports NoMatchingFlavor.
#[test]
fn s36_resource_not_in_cluster_queue() {
    let ws = [w("new", "eng-alpha", 100, 0).gpu(1).dur(100)];
    let r = run_s(&(s_flavors() + &eng()), &ws);
    assert_eq!(r.job("new").status, JobStatus::Pending);
    assert_eq!(r.job("new").reason.as_deref(), Some("NoMatchingFlavor"));
}

/// S-36's sibling "admit workload with zero-quantity request for resource not in ClusterQueue":
/// sales, cpu 1 + example.com/gpu "0": the zero request is ignored; admitted on default.
#[test]
fn s36b_zero_request_for_uncovered_resource() {
    let ws = [w("new", "sales", 100, 0).cpu(1).gpu(0).dur(100)];
    let r = run_s(&sales(), &ws);
    assert_eq!(r.start("new"), Some(100));
}

// ---------------------------------------------------------------------------------------------
// scheduler_fs_test.go, TestScheduleForFairSharing: one cycle with fair sharing on. The
// tournament at each cohort prefers a child that does not borrow on the requested resources,
// then the lower share with the candidate added, then priority, then age.
// ---------------------------------------------------------------------------------------------

/// FS-01 "with fair sharing: schedule workload with lowest share first". eng-shared (eng,
/// on-demand{cpu 10 BL 0}) added: on-demand 110; the eng cohort lends cpu 110 (on-demand) + 100
/// (spot) = 210. all_nominal (alpha ×50), borrowing (beta ×55, borrows 5). older_new (beta ×1,
/// the older) and new (alpha ×5). Both borrow; shares with the candidate: alpha 5/210 = 23.8,
/// beta 6/210 = 28.6: new wins and is admitted on on-demand (the last 5). older_new is left (no
/// on-demand left). Its next cycle: on-demand has no candidates (alpha's share would not drop
/// below beta's), so eng-beta's next flavor, spot, is taken: older_new never runs on on-demand.
#[test]
fn fs01_lowest_share_first() {
    let yaml = s_flavors() + &eng() + &queue("eng-shared", "eng", "on-demand: cpu 10 bl 0", "") + FAIR;
    let ws = [
        w("all_nominal", "eng-alpha", 0, 0).pods(50).cpu(1),
        w("borrowing", "eng-beta", 1, 0).pods(55).cpu(1),
        w("older_new", "eng-beta", 100, 0).cpu(1).dur(100),
        w("new", "eng-alpha", 100, 0).pods(5).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("new"), Some(100));
    assert_eq!(ran_s(&r, "new"), 100, "on-demand");
    assert_eq!(ran_s(&r, "older_new"), 200, "not on-demand: spot");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
}

/// Cohorts root, Cohort-A (on-demand cpu 10; its queue cq-a sits in `sub` when given, a child of
/// Cohort-A holding the 10 instead), Cohort-B (no quota) with cq-b (cpu 5) and cq-c (cpu 0).
fn fs_nominal_first(sub: bool) -> String {
    let mut y = s_flavors() + &cohort("root", "", "", "");
    if sub {
        y += &cohort("Cohort-A", "root", "", "");
        y += &cohort("SUB-A", "Cohort-A", "on-demand: cpu 10", "");
        y += &queue("cq-a", "SUB-A", "on-demand: cpu 0", "");
    } else {
        y += &cohort("Cohort-A", "root", "on-demand: cpu 10", "");
        y += &queue("cq-a", "Cohort-A", "on-demand: cpu 0", "");
    }
    y + &cohort("Cohort-B", "root", "", "")
        + &queue("cq-b", "Cohort-B", "on-demand: cpu 5", "")
        + &queue("cq-c", "Cohort-B", "on-demand: cpu 0", "")
        + FAIR
}

/// c0 (cq-c, 10) makes Cohort-B borrow 5 of Cohort-A's 10; 5 are free. wl-a (cq-a, 5) and wl-b
/// (cq-b, 5) each fit alone. At the root Cohort-A would stay within its quota (5 <= 10), Cohort-B
/// would borrow (15 > 5): wl-a wins and is admitted; wl-b is left. wl-a ends at 200, wl-b is
/// admitted at the flush, 201.
fn fs_nominal_first_check(sub: bool) {
    let ws = [
        w("c0", "cq-c", 0, 0).cpu(10),
        w("wl-a", "cq-a", 100, 0).cpu(5).dur(100),
        w("wl-b", "cq-b", 100, 0).cpu(5).dur(100),
    ];
    let r = run_s(&fs_nominal_first(sub), &ws);
    assert_eq!(r.start("wl-a"), Some(100));
    assert_eq!(r.start("wl-b"), Some(201));
}

/// FS-03 "with fair sharing: hierarchical nominal-first prefers non-borrowing subtree": see
/// `fs_nominal_first_check`.
#[test]
fn fs03_hierarchical_nominal_first() {
    fs_nominal_first_check(false);
}

/// FS-04 "with fair sharing: hierarchical nominal-first with deeper nesting": the 10 cpu live in
/// SUB-A under Cohort-A; Cohort-A still does not borrow with wl-a. Same outcome as FS-03.
#[test]
fn fs04_hierarchical_nominal_first_deeper() {
    fs_nominal_first_check(true);
}

/// FS-05 "with fair sharing: hierarchical nominal-first with mixed CQ and cohort quotas". root
/// over Cohort-A (cpu 10) with cq-a1 (5) and cq-a2 (3), and Cohort-B (cpu 10) with cq-b (5) and
/// cq-c (3): each subtree 18, 36 in all. a2-admitted (cq-a2, 6), c-admitted (cq-c, 20): Cohort-B
/// borrows 2; 10 free. wl-a1 (7) and wl-b (4) each fit, not both. Cohort-A with wl-a1: 13 <= 18,
/// not borrowing; Cohort-B with wl-b: 24 > 18. wl-a1 admitted, wl-b left; wl-a1 ends at 200, wl-b
/// is admitted at 201.
#[test]
fn fs05_hierarchical_nominal_first_mixed_quotas() {
    let yaml = s_flavors()
        + &cohort("root", "", "", "")
        + &cohort("Cohort-A", "root", "on-demand: cpu 10", "")
        + &cohort("Cohort-B", "root", "on-demand: cpu 10", "")
        + &queue("cq-a1", "Cohort-A", "on-demand: cpu 5", "")
        + &queue("cq-a2", "Cohort-A", "on-demand: cpu 3", "")
        + &queue("cq-b", "Cohort-B", "on-demand: cpu 5", "")
        + &queue("cq-c", "Cohort-B", "on-demand: cpu 3", "")
        + FAIR;
    let ws = [
        w("a2-admitted", "cq-a2", 0, 0).cpu(6),
        w("c-admitted", "cq-c", 1, 0).cpu(20),
        w("wl-a1", "cq-a1", 100, 0).cpu(7).dur(100),
        w("wl-b", "cq-b", 100, 0).cpu(4).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("wl-a1"), Some(100));
    assert_eq!(r.start("wl-b"), Some(201));
}

/// FS-06 "with fair sharing: hierarchical nominal-first per-flavor ignores cross-flavor
/// borrowing". root over Cohort-A (on-demand cpu 10) with cq-a (on-demand 0, spot 0) and Cohort-B
/// (spot cpu 10) with cq-b (on-demand 5, spot 0). spot-admitted (cq-a, 5 on spot: a 5 s filler of
/// cq-b held the free on-demand when it arrived), od-admitted (cq-b, 8 on-demand): 7 on-demand
/// free. wl-a (cq-a, 4) and wl-b (cq-b, 4) both fit on-demand alone. On on-demand Cohort-A stays
/// within its quota (Cohort-A's spot borrowing does not count), Cohort-B borrows: wl-a admitted on
/// on-demand. wl-b is left with 3 on-demand free; in its next cycle on-demand has no candidates
/// and spot (Cohort-B's 10, 5 used) fits: wl-b runs on spot.
#[test]
fn fs06_nominal_first_per_flavor() {
    let yaml = s_flavors()
        + &cohort("root", "", "", "")
        + &cohort("Cohort-A", "root", "on-demand: cpu 10", "")
        + &cohort("Cohort-B", "root", "spot: cpu 10", "")
        + &queue("cq-a", "Cohort-A", "on-demand: cpu 0; spot: cpu 0", "")
        + &queue("cq-b", "Cohort-B", "on-demand: cpu 5; spot: cpu 0", "")
        + FAIR;
    let ws = [
        w("od-admitted", "cq-b", 0, 0).cpu(8),
        w("filler", "cq-b", 1, 0).cpu(7).dur(5),
        w("spot-admitted", "cq-a", 2, 0).cpu(5),
        w("wl-a", "cq-a", 100, 0).cpu(4).dur(100),
        w("wl-b", "cq-b", 100, 0).cpu(4).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(ran_s(&r, "spot-admitted"), 2000, "spot-admitted is on spot");
    assert_eq!(r.start("wl-a"), Some(100));
    assert_eq!(ran_s(&r, "wl-a"), 100, "on-demand");
    assert_eq!(ran_s(&r, "wl-b"), 200, "not on-demand: spot");
}

/// FS-07 "hierarchical fair sharing schedule workload which wins tournament". A (on-demand cpu
/// 200) over B (d, e) and C (f, g), queues with no quota. d0 10, e0 20, g0 100: 70 free. Pending
/// d1 70, e1 61, f1 1, g1 1. In B: d with d1 borrows 80 (80/200 = 400), e with e1 81 (405): d1.
/// In C: f 1 (5), g 101 (505): f1. At A: B with d1 holds 100 (500), C with f1 101 (505): d1
/// wins and takes the 70. e1, f1, g1 are left. d1 ends at 200; at the flush (201) the three fit
/// (63 <= 70).
#[test]
fn fs07_hierarchical_tournament() {
    let yaml = s_flavors()
        + &cohort("A", "", "on-demand: cpu 200", "")
        + &cohort("B", "A", "", "")
        + &cohort("C", "A", "", "")
        + &queue("d", "B", "on-demand: cpu 0", "")
        + &queue("e", "B", "on-demand: cpu 0", "")
        + &queue("f", "C", "on-demand: cpu 0", "")
        + &queue("g", "C", "on-demand: cpu 0", "")
        + FAIR;
    let ws = [
        w("d0", "d", 0, 0).cpu(10),
        w("e0", "e", 1, 0).cpu(20),
        w("g0", "g", 2, 0).cpu(100),
        w("d1", "d", 100, 0).cpu(70).dur(100),
        w("e1", "e", 100, 0).cpu(61).dur(100),
        w("f1", "f", 100, 0).cpu(1).dur(100),
        w("g1", "g", 100, 0).cpu(1).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(r.start("d1"), Some(100));
    for n in ["e1", "f1", "g1"] {
        assert_eq!(r.start(n), Some(201), "{n}");
    }
}

/// Cohort A (on-demand cpu `quota`) with b and c (no quota) and the given extra lines.
fn fs_pair(quota: u32, extra: &str) -> String {
    s_flavors()
        + &cohort("A", "", &format!("on-demand: cpu {quota}"), "")
        + &queue("b", "A", "on-demand: cpu 0", extra)
        + &queue("c", "A", "on-demand: cpu 0", extra)
        + FAIR
}

/// FS-08 "fair sharing schedule workload with lowest drf after admission". A (100); b0 (b, 10).
/// b1 (b, 50): b would hold 60 (600); c1 (c, 75): 750. b1 admitted; c1 left (40 free). b1 ends
/// at 200; c1 fits at the flush, 201.
#[test]
fn fs08_lowest_share_after_admission() {
    let ws = [
        w("b0", "b", 0, 0).cpu(10),
        w("b1", "b", 100, 0).cpu(50).dur(100),
        w("c1", "c", 100, 0).cpu(75).dur(100),
    ];
    let r = run_s(&fs_pair(100, ""), &ws);
    assert_eq!(r.start("b1"), Some(100));
    assert_eq!(r.start("c1"), Some(201));
}

/// FS-09 "fair sharing two queues with weight 0 schedules workload which borrows less". A (8);
/// b and c with weight 0, reclaim Any, within Never. b0 (b, 4). b1 (b, p9001, 4) would take b to
/// 8, c1 (c, p0, 4) c to 4: both shares are infinite (weight 0), compared by the plain ratio:
/// c1 (4/8) beats b1 (8/8) despite priority. c1 admitted, b1 left (nothing preempted: c would
/// drop to its nominal). c1 ends at 200; b1 is admitted at 201. Sibling "... with high weight"
/// (123456789): same order, same outcome.
#[test]
fn fs09_zero_and_huge_weights_prefer_less_borrowing() {
    for wgt in ["0", "123456789"] {
        let extra = pre("Never", "Any") + &weight(wgt);
        let ws = [
            w("b0", "b", 0, 0).cpu(4),
            w("b1", "b", 100, 9001).cpu(4).dur(100),
            w("c1", "c", 100, 0).cpu(4).dur(100),
        ];
        let r = run_s(&fs_pair(8, &extra), &ws);
        assert_eq!(r.start("c1"), Some(100), "weight {wgt}");
        assert!(r.preemptions().is_empty(), "weight {wgt}: {:?}", r.preemptions());
        assert_eq!(r.start("b1"), Some(201), "weight {wgt}");
    }
}

/// FS-10 "fair sharing schedule singleton cqs and cq without cohort". A (10) with a (0); B (no
/// quota) with b (10); c alone (10). a1, b1, c1 (10 each) are in separate trees: all admitted.
#[test]
fn fs10_singletons_and_queue_without_cohort() {
    let yaml = s_flavors()
        + &cohort("A", "", "on-demand: cpu 10", "")
        + &cohort("B", "", "", "")
        + &queue("a", "A", "on-demand: cpu 0", "")
        + &queue("b", "B", "on-demand: cpu 10", "")
        + &queue("c", "", "on-demand: cpu 10", "")
        + FAIR;
    let ws = [
        w("a1", "a", 100, 0).cpu(10).dur(100),
        w("b1", "b", 100, 0).cpu(10).dur(100),
        w("c1", "c", 100, 0).cpu(10).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    for n in ["a1", "b1", "c1"] {
        assert_eq!(r.start(n), Some(100), "{n}");
    }
}

/// FS-11 "fair sharing schedule highest priority first". A (10); b1 (b, p99, 10), c1 (c, p101,
/// 10): equal shares (1000); c1 has the higher priority: admitted; b1 follows at 201.
#[test]
fn fs11_highest_priority_first() {
    let ws = [
        w("b1", "b", 100, 99).cpu(10).dur(100),
        w("c1", "c", 100, 101).cpu(10).dur(100),
    ];
    let r = run_s(&fs_pair(10, ""), &ws);
    assert_eq!(r.start("c1"), Some(100));
    assert_eq!(r.start("b1"), Some(201));
}

/// FS-12 "fair sharing schedule earliest timestamp first". A (10); b1 (b, p101, created after c1)
/// and c1 (c, p101). To give them different creation times yet one cycle: blocker (b, 10) holds
/// A until 50; c1 arrives at 20, b1 at 21, both parked (nothing to preempt); the flush at 51
/// brings both back into one cycle: equal shares and priorities, c1 is older: c1 admitted at 51;
/// b1 after c1 ends (151) and the flush, 152.
#[test]
fn fs12_earliest_timestamp_first() {
    let ws = [
        w("blocker", "b", 0, 0).cpu(10).dur(50),
        w("c1", "c", 20, 101).cpu(10).dur(100),
        w("b1", "b", 21, 101).cpu(10).dur(100),
    ];
    let r = run_s(&fs_pair(10, ""), &ws);
    assert_eq!(r.start("c1"), Some(51));
    assert_eq!(r.start("b1"), Some(152));
}

/// FS-15 "with fair sharing: prefer reclamation over cq priority based preemption; with
/// preemption while borrowing". other-alpha on-demand{gpu 7}, spot{gpu 7}, within and reclaim
/// LowerPriority; other-beta on-demand{gpu 3}, spot{gpu 3}. a1 (alpha, p50, 5 on-demand); b1
/// (beta, p50, 5 on spot; a 5 s filler of alpha held the rest of on-demand). preemptor (alpha,
/// p100, 8 = 2 × 4): on-demand needs a1 (own queue); on spot alpha (8 > 7) borrows 1 (share
/// 1/20 = 50) while beta borrows 2 (100): removing b1 would leave beta at 0 < 50 (S2-a no),
/// beta is above alpha (S2-b yes): b1 goes. Reclamation beats priority preemption: spot.
/// {b1: InCohortFairSharing}.
#[test]
fn fs15_prefer_reclamation_with_fair_sharing() {
    let yaml = s_flavors()
        + &queue(
            "other-alpha",
            "other",
            "on-demand: gpu 7; spot: gpu 7",
            &pre("LowerPriority", "LowerPriority"),
        )
        + &queue("other-beta", "other", "on-demand: gpu 3; spot: gpu 3", "")
        + FAIR;
    let ws = [
        w("a1", "other-alpha", 0, 50).gpu(5),
        w("filler", "other-alpha", 1, 50).gpu(5).dur(5),
        w("b1", "other-beta", 2, 50).gpu(5),
        w("preemptor", "other-alpha", 100, 100).pods(2).gpu(4).dur(100),
    ];
    let r = run_gpu(&yaml, &ws);
    assert_eq!(victims(&r, "preemptor"), want(&[("b1", FAIR_SHARING)]));
    assert_eq!(r.start("preemptor"), Some(100));
    assert_eq!(ran_s(&r, "preemptor"), 200, "spot");
}

/// FS-16 "prefer flavor with most local capacity" (and its sibling with fair sharing off).
/// root-cohort (on-demand gpu 2, spot 0) over child-cohort (on-demand 5, spot 7) with queue1
/// (on-demand 3, spot 3; within LowerPriority, reclaim Any; TryNextFlavor / TryNextFlavor).
/// a1 (8 on-demand: both flavors fit one level up, the first is kept), a2 (3 on spot: on-demand
/// had only 2). a3 (1): on-demand fits only with the root's capacity (queue1 9 > child's 8,
/// height 2); spot fits within child-cohort (4 <= 10, height 1): spot.
#[test]
fn fs16_prefer_flavor_with_most_local_capacity() {
    for fair in [true, false] {
        let yaml = s_flavors()
            + &cohort("root-cohort", "", "on-demand: gpu 2; spot: gpu 0", "")
            + &cohort("child-cohort", "root-cohort", "on-demand: gpu 5; spot: gpu 7", "")
            + &queue(
                "queue1",
                "child-cohort",
                "on-demand: gpu 3; spot: gpu 3",
                &(pre("LowerPriority", "Any") + &fung("TryNextFlavor", "TryNextFlavor", "")),
            )
            + if fair { FAIR } else { "" };
        let ws = [
            w("a1", "queue1", 0, 0).gpu(8),
            w("a2", "queue1", 1, 0).gpu(3),
            w("a3", "queue1", 100, 0).gpu(1).dur(100),
        ];
        let r = run_gpu(&yaml, &ws);
        assert_eq!(ran_s(&r, "a1"), 1000, "a1 on on-demand (fair {fair})");
        assert_eq!(ran_s(&r, "a2"), 2000, "a2 on spot (fair {fair})");
        assert_eq!(r.start("a3"), Some(100), "fair {fair}");
        assert_eq!(ran_s(&r, "a3"), 200, "a3 on spot (fair {fair})");
    }
}

/// FS-17 "fair sharing: in-CQ preemption for CQ without cohort". no-cohort-cq default{cpu 4},
/// within LowerPriority. nc-low (p-1, 4); nc-high (p100, 4) preempts it. {nc-low:
/// InClusterQueue}.
#[test]
fn fs17_in_queue_preemption_without_cohort() {
    let yaml = s_flavors() + &queue("no-cohort-cq", "", "default: cpu 4", &pre("LowerPriority", "")) + FAIR;
    let ws = [
        w("nc-low", "no-cohort-cq", 0, -1).cpu(4),
        w("nc-high", "no-cohort-cq", 100, 100).cpu(4).dur(100),
    ];
    let r = run_s(&yaml, &ws);
    assert_eq!(victims(&r, "nc-high"), want(&[("nc-low", ICQ)]));
    assert_eq!(r.start("nc-high"), Some(100));
}

// ---------------------------------------------------------------------------------------------
// flavorassigner_test.go: flavor selection and fungibility. The unit tests answer "can preempt?"
// with a stub; here the answer comes from real workloads, placed so that preemption behaves as
// the stub says (a lower-priority occupant where the stub says Preempt, a borrower of lower
// priority where it says Reclaim, nothing where it says NoCandidates). The incoming workload has
// priority 0 and runs 100 s; its flavor shows in its run length.
// ---------------------------------------------------------------------------------------------

/// FA-02 "multiple resource groups, fits". CQ: RG1 one{cpu 2}, two{cpu 4}; RG2 b_one{memory
/// 1Gi}, b_two{memory 5Gi}. Request cpu 3 + memory 10Mi: cpu does not fit one (3 > 2), fits two;
/// memory fits b_one. cpu -> two, memory -> b_one. Pools: one pool per (cpu flavor, memory
/// flavor) pair with distinct speeds; (two, b_one) runs at half speed: 200 s.
#[test]
fn fa02_multiple_resource_groups_fit() {
    let fl = |name: &str, key: &str| {
        format!(
            "---\napiVersion: kueue.x-k8s.io/v1beta2\nkind: ResourceFlavor\nmetadata:\n  name: {name}\nspec:\n  nodeLabels:\n    {key}: {name}\n"
        )
    };
    let yaml = fl("one", "cpuf")
        + &fl("two", "cpuf")
        + &fl("b_one", "memf")
        + &fl("b_two", "memf")
        + &queue(
            "test",
            "",
            "one: cpu 2; two: cpu 4 | b_one: memory 1Gi; b_two: memory 5Gi",
            "",
        );
    let mut pools = Vec::new();
    for (c, m, speed) in [
        ("one", "b_one", 1000),
        ("one", "b_two", 800),
        ("two", "b_one", 500),
        ("two", "b_two", 250),
    ] {
        let mut p = PoolSpec::new(&format!("{c}-{m}"), Some("H100"), 2, 8, 128, 1024);
        p.labels.insert("cpuf".into(), c.into());
        p.labels.insert("memf".into(), m.into());
        p.speed_permille = speed;
        pools.push(p);
    }
    let ws = [w("in", "test", 100, 0).cpu(3).mem(10).dur(100)];
    let r = run(&yaml, pools, &ws, "");
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two + b_one");
}

/// FA-03 "multiple resources in a group, doesn't fit". one{cpu 2, memory 1Gi}, two{cpu 4, memory
/// 5Mi}; cpu 3 + memory 10Mi: one fails on cpu, two on memory; a group's resources come from one
/// flavor: NoFit, ExceedsMaxQuota.
#[test]
fn fa03_multiple_resources_in_a_group_do_not_fit() {
    let yaml = flavors(&["one", "two"], false)
        + &queue("test", "", "one: cpu 2, memory 1Gi; two: cpu 4, memory 5Mi", "");
    let ws = [w("in", "test", 100, 0).cpu(3).mem(10).dur(100)];
    let r = run_plain(&yaml, &ws);
    assert_eq!(r.job("in").status, JobStatus::Pending);
    assert_eq!(r.job("in").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// FA-06 "not enough space to borrow". test (cohort test-cohort) one{cpu 1}; secondary one{cpu
/// 10 LL 0} using 9. Request cpu 2: the secondary lends nothing, test's maximum is 1: NoFit,
/// ExceedsMaxQuota.
#[test]
fn fa06_not_enough_space_to_borrow() {
    let yaml = flavors(&["one"], false)
        + &queue("test", "test-cohort", "one: cpu 1", "")
        + &queue("secondary", "test-cohort", "one: cpu 10 ll 0", "");
    let ws = [
        w("used", "secondary", 0, 0).cpu(9),
        w("in", "test", 100, 0).cpu(2).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(r.job("in").status, JobStatus::Pending);
    assert_eq!(r.job("in").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// FA-08 "num pods fit" / "num pods don't fit". default{pods 3, cpu 10}; 3 pods of cpu 1: pods
/// are charged one per pod: 3 <= 3, admitted. With pods quota 2: 3 > 2, ExceedsMaxQuota.
#[test]
fn fa08_pods_are_counted() {
    let ws = [w("in", "test", 100, 0).pods(3).cpu(1).dur(100)];
    let fits = run_plain(
        &(flavors(&["default"], false) + &queue("test", "", "default: pods 3, cpu 10", "")),
        &ws,
    );
    assert_eq!(fits.start("in"), Some(100));
    let no = run_plain(
        &(flavors(&["default"], false) + &queue("test", "", "default: pods 2, cpu 10", "")),
        &ws,
    );
    assert_eq!(no.job("in").status, JobStatus::Pending);
    assert_eq!(no.job("in").reason.as_deref(), Some("ExceedsMaxQuota"));
}

/// test (no cohort): one{pods 10, cpu 10}, two{pods 10, cpu 10}, within LowerPriority (so that
/// the stub's "preemption possible" is real), with the given fungibility; occ (p-1, cpu 2) on
/// one. Flavor one runs at full speed, two at half.
fn fa_preempt_or_next(fungibility: &str) -> Run {
    let yaml = flavors(&["one", "two"], true)
        + &queue(
            "test",
            "",
            "one: pods 10, cpu 10; two: pods 10, cpu 10",
            &(pre("LowerPriority", "") + fungibility),
        );
    let ws = [
        w("occ", "test", 0, -1).cpu(2),
        w("in", "test", 100, 0).cpu(9).dur(100),
    ];
    run(&yaml, flavor_pools(&[("one", 1000), ("two", 500)]), &ws, "")
}

/// FA-09 "preempt before try next flavor". whenCanPreempt MayStopSearch: one has 8 free < 9,
/// preemption is possible there, and the search stops: Preempt on one (occ is the victim).
#[test]
fn fa09_preempt_before_trying_next_flavor() {
    let r = fa_preempt_or_next(&fung("MayStopSearch", "MayStopSearch", ""));
    assert_eq!(victims(&r, "in"), want(&[("occ", ICQ)]));
    assert_eq!(ran_s(&r, "in"), 100, "one");
}

/// FA-10 "preempt try next flavor". Default fungibility (whenCanPreempt TryNextFlavor): two fits
/// without preemption: Fit on two.
#[test]
fn fa10_try_next_flavor_instead_of_preempting() {
    let r = fa_preempt_or_next("");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}

/// test (cohort c): one{pods 10, cpu 10 BL 1}, two{pods 10, cpu `two_cpu`} with `extra`;
/// secondary one{cpu 1}; occ (test, 2 on one). Request cpu 9.
fn fa_borrow(two_cpu: u32, extra: &str) -> Run {
    let yaml = flavors(&["one", "two"], true)
        + &queue(
            "test",
            "c",
            &format!("one: pods 10, cpu 10 bl 1; two: pods 10, cpu {two_cpu}"),
            extra,
        )
        + &queue("secondary", "c", "one: cpu 1", "");
    let ws = [
        w("occ", "test", 0, 0).cpu(2),
        w("in", "test", 100, 0).cpu(9).dur(100),
    ];
    run(&yaml, flavor_pools(&[("one", 1000), ("two", 500)]), &ws, "")
}

/// FA-11 "borrow try next flavor, found the first flavor". TryNextFlavor / TryNextFlavor; two has
/// cpu 1. one fits by borrowing 1 (2 + 9 = 11 <= 10 + 1, the secondary lends 1); two cannot hold
/// 9: the borrowing option on one is the best found. Fit on one.
#[test]
fn fa11_borrow_try_next_finds_first_flavor() {
    let r = fa_borrow(1, &fung("TryNextFlavor", "TryNextFlavor", ""));
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 100, "one");
}

/// FA-12 "borrow try next flavor, found the second flavor". As FA-11 with two{cpu 10}: two fits
/// without borrowing and is preferred: Fit on two.
#[test]
fn fa12_borrow_try_next_finds_second_flavor() {
    let r = fa_borrow(10, &fung("TryNextFlavor", "TryNextFlavor", ""));
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}

/// FA-13 "borrow before try next flavor". As FA-12 with the default fungibility (whenCanBorrow
/// MayStopSearch): the search stops at one, which fits by borrowing. Fit on one.
#[test]
fn fa13_borrow_before_trying_next_flavor() {
    let r = fa_borrow(10, "");
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 100, "one");
}

/// FA-15 "when borrowing while preemption is needed for flavor one; WhenCanBorrow=TryNextFlavor".
/// test (cohort c; reclaim LowerPriority, borrowWithinCohort LowerPriority; whenCanBorrow
/// TryNextFlavor, whenCanPreempt MayStopSearch): one{cpu 0 BL 12}, two{cpu 12}; secondary
/// one{cpu 12}, idle. Request 12: one fits only by borrowing: try next; two fits within nominal.
/// Fit on two.
#[test]
fn fa15_borrowing_flavor_skipped_for_nominal_one() {
    let yaml = flavors(&["one", "two"], true)
        + &queue(
            "test",
            "c",
            "one: cpu 0 bl 12; two: cpu 12",
            &(pre_bwc("", "LowerPriority", Some(None)) + &fung("TryNextFlavor", "MayStopSearch", "")),
        )
        + &queue("secondary", "c", "one: cpu 12; two: cpu 0", "");
    let ws = [w("in", "test", 100, 0).cpu(12).dur(100)];
    let r = run(&yaml, flavor_pools(&[("one", 1000), ("two", 500)]), &ws, "");
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}

/// FA-16 "when borrowing while preemption is needed, but borrowingLimit exceeds the quota
/// available in the cohort". test: one{cpu 0 BL 12} (reclaim LowerPriority, borrowWithinCohort);
/// secondary one{cpu 11} using 10. Request 12 > the cohort's 11: NoFit, ExceedsMaxQuota.
#[test]
fn fa16_borrowing_limit_beyond_cohort_quota() {
    let yaml = flavors(&["one"], false)
        + &queue(
            "test",
            "c",
            "one: cpu 0 bl 12",
            &pre_bwc("", "LowerPriority", Some(None)),
        )
        + &queue("secondary", "c", "one: cpu 11", "");
    let ws = [
        w("used", "secondary", 0, 0).cpu(10),
        w("in", "test", 100, 0).cpu(12).dur(100),
    ];
    let r = run_plain(&yaml, &ws);
    assert_eq!(r.job("in").status, JobStatus::Pending);
    assert_eq!(r.job("in").reason.as_deref(), Some("ExceedsMaxQuota"));
    assert!(r.preemptions().is_empty());
}

/// FA-17 "lend try next flavor, found the second flavor" and its sibling "... found the first
/// flavor". test (cohort c; TryNextFlavor / TryNextFlavor): one{pods 10, cpu 10 LL 1}, two{pods
/// 10, cpu `two` LL 0}; occ (test, 2 on one); secondary one{cpu 1}. Request 9: one fits by
/// borrowing (2 + 9 = 11 > 10); two (cpu 10) fits within nominal: two. With two{cpu 1}: two
/// cannot hold 9; the borrowing option, one, is taken.
#[test]
fn fa17_lend_try_next_flavor() {
    for (two, want_s) in [(10, 200), (1, 100)] {
        let yaml = flavors(&["one", "two"], true)
            + &queue(
                "test",
                "c",
                &format!("one: pods 10, cpu 10 ll 1; two: pods 10, cpu {two} ll 0"),
                &fung("TryNextFlavor", "TryNextFlavor", ""),
            )
            + &queue("secondary", "c", "one: cpu 1", "");
        let ws = [
            w("occ", "test", 0, 0).cpu(2),
            w("in", "test", 100, 0).cpu(9).dur(100),
        ];
        let r = run(&yaml, flavor_pools(&[("one", 1000), ("two", 500)]), &ws, "");
        assert_eq!(r.start("in"), Some(100), "two cpu {two}");
        assert_eq!(ran_s(&r, "in"), want_s, "two cpu {two}");
    }
}

/// FA-18 "cannot preempt in cohort (oracle returns None) for the first flavor, tries the second
/// flavor (which fits)". test (cohort c; MayStopSearch / MayStopSearch; reclaim LowerPriority,
/// borrowWithinCohort LowerPriority): one{cpu 0 BL 2}, two{cpu 0 BL 2}; secondary one{cpu 2},
/// two{cpu 2}, using 2 of one. Request 2: one is full and the secondary is within its nominal: no
/// candidates, so the search goes on; two fits by borrowing. Fit on two, nothing preempted.
#[test]
fn fa18_no_candidates_moves_to_next_flavor() {
    let yaml = flavors(&["one", "two"], true)
        + &queue(
            "test",
            "c",
            "one: cpu 0 bl 2; two: cpu 0 bl 2",
            &(pre_bwc("", "LowerPriority", Some(None)) + &fung("MayStopSearch", "MayStopSearch", "")),
        )
        + &queue("secondary", "c", "one: cpu 2; two: cpu 2", "");
    let ws = [
        w("used", "secondary", 0, 0).cpu(2),
        w("in", "test", 100, 0).cpu(2).dur(100),
    ];
    let r = run(&yaml, flavor_pools(&[("one", 1000), ("two", 500)]), &ws, "");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}

/// FA-19 "zero resource request not in clusterQueue should succeed". default{cpu 4}; cpu 1 +
/// GPU "0": the zero request needs no flavor. Fit.
#[test]
fn fa19_zero_request_outside_cluster_queue() {
    let yaml = flavors(&["default"], false) + &queue("test", "", "default: cpu 4", "");
    let ws = [w("in", "test", 100, 0).cpu(1).gpu(0).dur(100)];
    let r = run_plain(&yaml, &ws);
    assert_eq!(r.start("in"), Some(100));
}

/// TestReclaimBeforePriorityPreemption's queues: flavors uno, due, tre (full, half, quarter
/// speed); test-clusterqueue (cohort `cohort`; within and reclaim LowerPriority; whenCanPreempt
/// `preempt`, whenCanBorrow MayStopSearch) with {compute 10, gpu 10} on each flavor; other (same
/// cohort) with zeros. `compute` is re-expressed as cpu.
fn fa_reclaim_before_priority(preempt: &str) -> String {
    let q = |c: u32| {
        format!(
            "uno: cpu {c}, nvidia.com/gpu {c}; due: cpu {c}, nvidia.com/gpu {c}; tre: cpu {c}, nvidia.com/gpu {c}"
        )
    };
    flavors(&["uno", "due", "tre"], true)
        + &queue(
            "test",
            "cohort",
            &q(10),
            &(pre("LowerPriority", "LowerPriority") + &fung("MayStopSearch", preempt, "")),
        )
        + &queue("other", "cohort", &q(0), "")
}

fn fa_reclaim_pools() -> Vec<PoolSpec> {
    flavor_pools(&[("uno", 1000), ("due", 500), ("tre", 250)])
}

/// 9 GPUs (3 pods of 3) of test, priority -5, gone after 10 s: holds a flavor full while the
/// state is built.
fn filler(name: &str, at: u64) -> W {
    w(name, "test", at, -5).pods(3).gpu(3).dur(10)
}

/// FA-20 "Select first flavor which fits". test uses uno/gpu 1 (t-uno, p0); other uses due/gpu
/// 1 (o-due, p0; uno was full with a filler when it arrived). Request gpu 10 (2 pods of 5): uno
/// and due each have 9 free and nothing preemptible (equal priorities): tre fits. Fit on tre.
#[test]
fn fa20_select_first_flavor_which_fits() {
    let ws = [
        w("t-uno", "test", 0, 0).gpu(1),
        filler("fill", 1),
        w("o-due", "other", 2, 0).gpu(1),
        w("in", "test", 100, 0).pods(2).gpu(5).dur(100),
    ];
    let r = run(
        &fa_reclaim_before_priority("TryNextFlavor"),
        fa_reclaim_pools(),
        &ws,
        "",
    );
    assert_eq!(ran_s(&r, "o-due"), 2000, "o-due is on due");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 400, "tre");
}

/// FA-21/FA-22's state: t-uno (test, p-1, uno/gpu 1), o-due and o-tre (other, p-1, gpu 1 on due
/// and tre; fillers kept uno, then uno and due, full when they arrived).
fn fa21_state() -> Vec<W> {
    vec![
        w("t-uno", "test", 0, -1).gpu(1),
        filler("fill1", 1),
        w("o-due", "other", 2, -1).gpu(1),
        filler("fill2", 3),
        w("o-tre", "other", 4, -1).gpu(1),
        w("in", "test", 100, 0).pods(2).gpu(5).dur(100),
    ]
}

/// FA-21 "Select first flavor where gpu reclamation is possible". Request gpu 10: uno needs
/// preemption in test's own queue (t-uno), due can be had by reclaiming o-due (other borrows due,
/// lower priority), tre too (o-tre). Reclamation beats priority preemption; among reclaiming
/// flavors the first: Preempt on due. {o-due: InCohortReclamation}.
#[test]
fn fa21_first_flavor_where_reclamation_is_possible() {
    let r = run(
        &fa_reclaim_before_priority("TryNextFlavor"),
        fa_reclaim_pools(),
        &fa21_state(),
        "",
    );
    assert_eq!(ran_s(&r, "o-tre"), 4000, "o-tre is on tre");
    assert_eq!(victims(&r, "in"), want(&[("o-due", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "due");
}

/// FA-22 "Select first flavor when flavor fungibility is disabled". Same state, whenCanPreempt
/// MayStopSearch: uno can be had by preemption, and the search stops there: Preempt on uno.
/// {t-uno: InClusterQueue}.
#[test]
fn fa22_first_flavor_when_fungibility_disabled() {
    let r = run(
        &fa_reclaim_before_priority("MayStopSearch"),
        fa_reclaim_pools(),
        &fa21_state(),
        "",
    );
    assert_eq!(victims(&r, "in"), want(&[("t-uno", ICQ)]));
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 100, "uno");
}

/// FA-23 "Select second flavor where gpu reclamation is possible, as compute Fits". test uses
/// uno/gpu 1 + uno/compute 1 (t-uno) and due/compute 1 (t-due); other uses due/gpu 1 and tre/gpu 1
/// (all p-1; fillers as before). Request gpu 10 + compute 10: uno needs priority preemption on
/// both; due reclaims gpu but needs priority preemption for compute (t-due); tre reclaims gpu
/// (o-tre) and compute fits. Preempt on tre. {o-tre: InCohortReclamation}.
#[test]
fn fa23_reclaiming_flavor_where_other_resource_fits() {
    let ws = [
        w("t-uno", "test", 0, -1).gpu(1).cpu(1),
        w("fill1", "test", 1, -5).pods(3).gpu(3).cpu(3).dur(10),
        w("t-due", "test", 2, -1).cpu(1),
        w("o-due", "other", 3, -1).gpu(1),
        filler("fill2", 4),
        w("o-tre", "other", 5, -1).gpu(1),
        w("in", "test", 100, 0).pods(2).gpu(5).cpu(5).dur(100),
    ];
    let r = run(
        &fa_reclaim_before_priority("TryNextFlavor"),
        fa_reclaim_pools(),
        &ws,
        "",
    );
    assert_eq!(ran_s(&r, "t-due"), 2000, "t-due is on due");
    assert_eq!(victims(&r, "in"), want(&[("o-tre", RECLAIM)]));
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 400, "tre");
}

/// TestHierarchical's tree: cohort three (flavor three: cpu 4) over two (flavor two: cpu 4) over
/// one (flavor one: cpu 4); test in cohort one (within and reclaim LowerPriority; `test_flavors`
/// and `extra`), other in cohort two with zero quotas. Flavors one, two, three run at full, half,
/// quarter speed.
fn fa_hierarchical(test_flavors: &str, extra: &str) -> String {
    flavors(&["one", "two", "three"], true)
        + &cohort("three", "", "three: cpu 4", "")
        + &cohort("two", "three", "two: cpu 4", "")
        + &cohort("one", "two", "one: cpu 4", "")
        + &queue(
            "test",
            "one",
            test_flavors,
            &(pre("LowerPriority", "LowerPriority") + extra),
        )
        + &queue("other", "two", "one: cpu 0; two: cpu 0; three: cpu 0", "")
}

fn fa_hierarchical_pools() -> Vec<PoolSpec> {
    flavor_pools(&[("one", 1000), ("two", 500), ("three", 250)])
}

const ZEROS: &str = "one: cpu 0; two: cpu 0; three: cpu 0";

/// FA-24 "Select the top flavor". t1 (test, 4) holds flavor one; o2 (other, 4) holds flavor two
/// (flavor one was full and other cannot preempt). Request 4: one and two are full and their
/// users are not of lower priority: three, borrowed from the root. Fit on three.
#[test]
fn fa24_select_the_top_flavor() {
    let ws = [
        w("t1", "test", 0, 0).cpu(4),
        w("o2", "other", 1, 0).cpu(4),
        w("in", "test", 100, 0).cpu(4).dur(100),
    ];
    let yaml = fa_hierarchical(ZEROS, &fung("MayStopSearch", "TryNextFlavor", ""));
    let r = run(&yaml, fa_hierarchical_pools(), &ws, "");
    assert_eq!(ran_s(&r, "o2"), 2000, "o2 is on two");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 400, "three");
}

/// FA-25 "Select the first flavor which fits". Only t1 (one/cpu 4): flavor two fits. Fit on two.
#[test]
fn fa25_select_the_first_flavor_which_fits() {
    let ws = [
        w("t1", "test", 0, 0).cpu(4),
        w("in", "test", 100, 0).cpu(4).dur(100),
    ];
    let yaml = fa_hierarchical(ZEROS, &fung("MayStopSearch", "TryNextFlavor", ""));
    let r = run(&yaml, fa_hierarchical_pools(), &ws, "");
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}

/// FA-26 "Select deeper-borrowing flavor that fits when shallower-borrowing flavor has no
/// preemption candidates". test: one{cpu 4 BL 0}, two{0}, three{0}; TryNextFlavor / TryNextFlavor,
/// PreemptionOverBorrowing. t1 (test, 4) fills test's own one. Request 4: one has no candidate
/// (equal priority); two fits borrowing from cohort two (height 2), three from cohort three
/// (height 3): the shallower, two.
#[test]
fn fa26_deeper_flavor_when_shallower_has_no_candidates() {
    let ws = [
        w("t1", "test", 0, 0).cpu(4),
        w("in", "test", 100, 0).cpu(4).dur(100),
    ];
    let yaml = fa_hierarchical(
        "one: cpu 4 bl 0; two: cpu 0; three: cpu 0",
        &fung("TryNextFlavor", "TryNextFlavor", "PreemptionOverBorrowing"),
    );
    let r = run(&yaml, fa_hierarchical_pools(), &ws, "");
    assert_eq!(ran_s(&r, "t1"), 1000, "t1 on one");
    assert!(r.preemptions().is_empty(), "{:?}", r.preemptions());
    assert_eq!(r.start("in"), Some(100));
    assert_eq!(ran_s(&r, "in"), 200, "two");
}
