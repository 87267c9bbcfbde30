//! The engine with tiny hand-written policies: lifecycle, preemption accounting, and the checks
//! that stop a buggy policy.

use fairway_engine::*;

/// Whole-GPU pods, 1 CPU, 1 GiB.
fn pod(gpus: u32) -> PodRequest {
    PodRequest {
        gpu_milli: gpus * 1000,
        cpu_milli: 1000,
        mem_mib: 1024,
    }
}

/// One team; jobs as (submit s, duration s, GPUs per pod, pods).
fn workload(jobs: &[(u64, u64, u32, u32)]) -> Workload {
    let mut b = WorkloadBuilder::new("test");
    let team = b.team("t").unwrap();
    for (i, &(submit, dur, gpus, pods)) in jobs.iter().enumerate() {
        let spec = JobSpec::new(
            SimTime::from_secs(submit),
            SimDuration::from_secs(dur),
            pods,
            pod(gpus),
            team,
        );
        b.push(&format!("j{i}"), i as u32 + 2, spec).unwrap();
    }
    b.finish()
}

fn cluster(nodes: u32, gpus: u32) -> Cluster {
    Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("p", Some("H100"), nodes, gpus, 64, 512)],
    })
    .unwrap()
}

/// Lowest node first; enough for these tests.
struct Lowest;
impl Placement for Lowest {
    fn label(&self) -> String {
        "lowest".into()
    }
    fn place(
        &mut self,
        c: &Cluster,
        pod: &PodRequest,
        pods: u32,
        m: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool {
        let mut left = pods;
        for n in c.node_ids() {
            let k = if c.eligible(n, m) {
                c.pods_that_fit(n, pod).min(left)
            } else {
                0
            };
            if k > 0 && c.pick_slots(n, pod, k, out) {
                left -= k;
            }
        }
        if left > 0 {
            out.clear();
        }
        left == 0
    }
}

/// A policy driven by a closure, for one-off behaviours.
struct Scripted<F: FnMut(&mut Cycle<'_>) + Send>(F);
impl<F: FnMut(&mut Cycle<'_>) + Send> Policy for Scripted<F> {
    fn label(&self) -> String {
        "scripted".into()
    }
    fn schedule(&mut self, cx: &mut Cycle<'_>) {
        (self.0)(cx)
    }
}

fn opts() -> EngineOptions {
    EngineOptions {
        audit: true,
        ..EngineOptions::default()
    }
}

/// A simulation that starts whatever fits, lowest node first.
fn greedy(w: &Workload, c: Cluster, o: EngineOptions) -> Simulation<'_> {
    Simulation::new(w, c, Box::new(Scripted(start_all)), Box::new(Lowest), o).unwrap()
}

/// Runs `greedy` to the end.
fn run_all(w: &Workload, c: Cluster, o: EngineOptions) -> Outcome {
    greedy(w, c, o).run().unwrap()
}

fn start_all(cx: &mut Cycle<'_>) {
    for &j in cx.pending() {
        if cx.is_pending(j) {
            cx.try_start(j);
        }
    }
}

#[test]
fn preemption_loses_work_since_the_last_checkpoint_and_pays_the_restart_overhead() {
    // One 100 s job on 1 GPU; preempted at t=35 s; checkpoints every 10 s of work; restart costs 5 s.
    let w = workload(&[(0, 100, 1, 1)]);
    let policy = Scripted(|cx: &mut Cycle<'_>| {
        let j = JobId(0);
        match cx.now().millis() {
            0 => {
                assert!(cx.try_start(j));
                cx.wake_at(SimTime::from_secs(35));
                cx.wake_at(SimTime::from_secs(50));
            }
            35_000 => assert!(cx.preempt(j, "test", None)),
            50_000 => assert!(cx.try_start(j)),
            _ => {}
        }
    });
    let o = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(10)),
        restart_overhead: SimDuration::from_secs(5),
        ..opts()
    };
    let out = Simulation::new(&w, cluster(1, 1), Box::new(policy), Box::new(Lowest), o)
        .unwrap()
        .run()
        .unwrap();
    let r = &out.jobs[0];
    // 30 s of work saved; restart at 50 s runs 5 s overhead + 70 s of work: ends at 125 s.
    assert_eq!(r.status, JobStatus::Finished);
    assert_eq!(r.first_start(), Some(SimTime::from_secs(0)));
    assert_eq!(r.last_start(), Some(SimTime::from_secs(50)));
    assert_eq!(r.end(), Some(SimTime::from_secs(125)));
    assert_eq!(r.preemptions, 1);
    assert_eq!(r.pending_ms, 15_000);
    assert_eq!(r.work_done, 100_000);
    // The stale completion of the first run (at 100 s) was ignored.
    assert_eq!(out.counters.stale, 1);
    // 5 s of the first run were lost (35 s ran, 30 s saved), on 1 GPU.
    assert_eq!(out.total.lost_gpu_milli_ms, 5_000 * 1000);
    assert_eq!(out.total.gpu_milli_ms, (35_000 + 75_000) * 1000);
}

#[test]
fn slow_gpus_take_longer() {
    let w = workload(&[(0, 100, 1, 1)]);
    let mut spec = ClusterSpec {
        pools: vec![PoolSpec::new("slow", Some("T4"), 1, 1, 8, 64)],
    };
    spec.pools[0].speed_permille = 400;
    let c = Cluster::new(&spec).unwrap();
    let out = run_all(&w, c, opts());
    assert_eq!(out.jobs[0].end(), Some(SimTime::from_secs(250)));
}

#[test]
fn a_job_no_node_can_hold_is_unschedulable_with_a_reason_and_the_rest_runs() {
    let w = workload(&[(0, 10, 16, 1), (0, 10, 4, 3), (1, 10, 8, 1)]);
    let out = run_all(&w, cluster(2, 8), opts());
    assert_eq!(out.jobs[0].status, JobStatus::Unschedulable);
    assert_eq!(
        out.jobs[0].reason.as_deref(),
        Some(
            "one pod needs 16 GPU, 1 CPU, 1 GiB; no node offers that (largest: 8 GPU, 64 CPU, 512 GiB (pool p))"
        )
    );
    assert_eq!(out.jobs[1].status, JobStatus::Finished);
    assert_eq!(out.jobs[2].status, JobStatus::Finished);
    assert_eq!(out.jobs[2].first_start(), Some(SimTime::from_secs(10)));
    assert_eq!(out.counters.unschedulable, 1);
}

#[test]
fn impatient_jobs_abandon_the_queue() {
    let mut w = workload(&[(0, 100, 1, 1), (10, 5, 1, 1), (20, 5, 1, 1)]);
    w.jobs[1].patience = SimDuration::from_secs(30).into();
    w.jobs[2].patience = SimDuration::from_secs(500).into();
    let out = run_all(&w, cluster(1, 1), opts());
    assert_eq!(out.jobs[1].status, JobStatus::Abandoned);
    assert_eq!(out.jobs[1].end(), Some(SimTime::from_secs(40)));
    assert_eq!(out.jobs[1].first_start(), None);
    assert_eq!(out.jobs[2].status, JobStatus::Finished);
    assert_eq!(out.jobs[2].first_start(), Some(SimTime::from_secs(100)));
}

#[test]
fn the_horizon_leaves_jobs_pending_or_running() {
    let w = workload(&[(0, 100, 1, 1), (10, 100, 1, 1)]);
    let o = EngineOptions {
        horizon: Some(SimTime::from_secs(50)),
        ..opts()
    };
    let out = run_all(&w, cluster(1, 1), o);
    assert_eq!(out.end, SimTime::from_secs(50));
    assert_eq!(out.jobs[0].status, JobStatus::Running);
    assert_eq!(out.jobs[1].status, JobStatus::Pending);
    assert_eq!(out.jobs[1].pending_ms, 40_000);
    assert_eq!(out.total.gpu_milli_ms, 50_000 * 1000);
}

#[test]
fn a_node_failure_evicts_its_pods() {
    let w = workload(&[(0, 100, 4, 2)]);
    let mut sim = greedy(&w, cluster(3, 4), opts());
    sim.add_outage(NodeId(1), SimTime::from_secs(20), Some(SimTime::from_secs(30)));
    sim.run_until(SimTime::from_secs(20)).unwrap();
    // Evicted at 20 s, restarted at once on nodes 0 and 2.
    assert_eq!(sim.job(JobId(0)).preemptions, 1);
    assert_eq!(sim.job(JobId(0)).status, JobStatus::Running);
    let nodes: Vec<u32> = sim.slots(JobId(0)).iter().map(|s| s.node.0).collect();
    assert_eq!(nodes, vec![0, 2]);
    let out = sim.run().unwrap();
    assert_eq!(out.jobs[0].end(), Some(SimTime::from_secs(120)));
    assert_eq!(out.jobs[0].reason.as_deref(), Some("node failure"));
}

#[test]
fn an_outage_added_in_the_past_of_a_run_under_way_starts_now() {
    // j0 (2 pods of 4 GPUs) runs on nodes 0 and 1 from 0 s; j1 arrives at 30 s.
    let w = workload(&[(0, 100, 4, 2), (30, 10, 4, 1)]);
    let mut sim = greedy(&w, cluster(3, 4), opts());
    sim.run_until(SimTime::from_secs(30)).unwrap();
    assert_eq!(sim.now(), SimTime::from_secs(30));
    // Node 1 "failed at 10 s": taken as failing now, at 30 s, not back in time.
    sim.add_outage(NodeId(1), SimTime::from_secs(10), None);
    assert_eq!(sim.next_time(), Some(SimTime::from_secs(30)));
    sim.step().unwrap();
    assert_eq!(sim.now(), SimTime::from_secs(30));
    assert_eq!(sim.job(JobId(0)).preemptions, 1);
}

#[test]
fn step_and_run_until_advance_one_instant_at_a_time() {
    let w = workload(&[(0, 10, 1, 1), (5, 10, 1, 1)]);
    let mut sim = greedy(&w, cluster(1, 1), opts());
    assert_eq!(sim.next_time(), Some(SimTime::ZERO));
    assert!(sim.step().unwrap());
    assert_eq!(sim.job(JobId(0)).status, JobStatus::Running);
    assert_eq!(sim.next_time(), Some(SimTime::from_secs(5)));
    sim.run_until(SimTime::from_secs(9)).unwrap();
    assert_eq!(sim.job(JobId(1)).status, JobStatus::Pending);
    sim.run_until(SimTime::from_secs(10)).unwrap();
    assert_eq!(sim.job(JobId(1)).status, JobStatus::Running);
    assert_eq!(sim.now(), SimTime::from_secs(10));
}

fn run_err(w: &Workload, f: impl FnMut(&mut Cycle<'_>) + Send + 'static) -> EngineError {
    Simulation::new(w, cluster(1, 4), Box::new(Scripted(f)), Box::new(Lowest), opts())
        .unwrap()
        .run()
        .unwrap_err()
}

#[test]
fn a_buggy_policy_is_stopped_with_a_clear_error() {
    let w = workload(&[(0, 10, 2, 1), (0, 10, 2, 1), (0, 10, 4, 1)]);

    // Starting a job twice.
    let e = run_err(&w, |cx| {
        cx.try_start(JobId(0));
        let slots = [PodSlot {
            node: NodeId(0),
            gpus: 0b1100,
        }];
        cx.decide(Decision::Start {
            job: JobId(0),
            slots: &slots,
        });
    });
    assert_eq!(
        e.to_string(),
        "policy scripted made an invalid decision at t=0s: start job 'j0': the job is running, not pending"
    );

    // Over-committing a GPU.
    let e = run_err(&w, |cx| {
        cx.try_start(JobId(0));
        let slots = [PodSlot {
            node: NodeId(0),
            gpus: 0b0011,
        }];
        cx.decide(Decision::Start {
            job: JobId(1),
            slots: &slots,
        });
    });
    assert_eq!(
        e.to_string(),
        "policy scripted made an invalid decision at t=0s: start job 'j1': pod 0: GPU 0 of node 0 has 0 milli-GPU free; the pod needs 1000"
    );

    // Wrong number of pods, preempting what is not running, waking in the past, unknown job.
    let e = run_err(&w, |cx| {
        cx.decide(Decision::Start {
            job: JobId(2),
            slots: &[],
        });
    });
    assert!(
        e.to_string()
            .ends_with("start job 'j2': the job has 1 pods but 0 slots were given"),
        "{e}"
    );
    let e = run_err(&w, |cx| {
        cx.preempt(JobId(1), "x", None);
    });
    assert!(
        e.to_string()
            .ends_with("preempt job 'j1': the job is pending, not running"),
        "{e}"
    );
    let e = run_err(&w, |cx| {
        cx.wake_at(cx.now());
    });
    assert!(
        e.to_string().contains("wake-up at t=0s is not in the future"),
        "{e}"
    );
    let e = run_err(&w, |cx| {
        cx.reject(JobId(7), "x");
    });
    assert!(e.to_string().ends_with("reject job '#7': no such job"), "{e}");
}

#[test]
fn a_policy_that_only_wakes_itself_is_a_livelock() {
    let w = workload(&[(0, 10, 2, 1)]);
    let e = run_err(&w, |cx| {
        let t = cx.now() + SimDuration(1);
        cx.wake_at(t);
    });
    assert!(matches!(e, EngineError::Livelock { .. }), "{e}");
}

#[test]
fn a_policy_that_admits_and_unadmits_without_starting_is_a_livelock() {
    // Kueue with waitForPodsReady does this with a workload whose pods find no node: admit,
    // evict at the deadline, admit again. Decisions are made, but no job ever starts.
    let w = workload(&[(0, 10, 2, 1)]);
    let mut admitted = false;
    let e = run_err(&w, move |cx| {
        let job = JobId(0);
        cx.decide(if admitted {
            Decision::Unadmit { job }
        } else {
            Decision::Admit { job }
        });
        admitted = !admitted;
        let t = cx.now() + SimDuration::from_secs(60);
        cx.wake_at(t);
    });
    let EngineError::Livelock {
        since, time, wakes, ..
    } = &e
    else {
        panic!("{e}")
    };
    // The arrival at 0 is not idle; the wake-ups from 60 s on are, one a minute.
    assert_eq!(*since, SimTime::from_secs(60));
    assert_eq!(*wakes, fairway_engine::MAX_IDLE_WAKES);
    assert_eq!(*time, SimTime::from_secs(60 * u64::from(*wakes)));
    assert!(e.to_string().contains("(the last job it acted on: 'j0')"), "{e}");
}

#[test]
fn a_policy_that_keeps_preempting_the_same_job_is_stopped() {
    // Two jobs that each want the whole node; the policy always evicts whichever runs and
    // starts the other one second later, so neither ever finishes.
    let w = workload(&[(0, 100, 4, 1), (0, 100, 4, 1)]);
    let policy = Scripted(|cx: &mut Cycle<'_>| {
        if let Some(&r) = cx.running().first() {
            cx.preempt(r, "my turn", None);
        }
        start_all(cx);
        let t = cx.now() + SimDuration(1000);
        cx.wake_at(t);
    });
    let opts = EngineOptions {
        max_preemptions_per_job: Some(30),
        ..opts()
    };
    let e = Simulation::new(&w, cluster(1, 4), Box::new(policy), Box::new(Lowest), opts)
        .unwrap()
        .run()
        .unwrap_err();
    // Each second the running job is evicted and the other starts: j0 runs first and is evicted
    // at 1, 3, 5, ... s, so its 30th eviction is at 59 s.
    match e {
        EngineError::Thrashing {
            job,
            times,
            time,
            last,
            ..
        } => {
            assert_eq!((job.as_str(), times, time), ("j0", 30, SimTime::from_secs(59)));
            assert_eq!(last, "(my turn)");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn rejected_jobs_are_unschedulable_with_the_policy_reason() {
    let w = workload(&[(0, 10, 2, 1)]);
    let out = Simulation::new(
        &w,
        cluster(1, 4),
        Box::new(Scripted(|cx: &mut Cycle<'_>| {
            cx.reject(JobId(0), "over quota");
        })),
        Box::new(Lowest),
        opts(),
    )
    .unwrap()
    .run()
    .unwrap();
    assert_eq!(out.jobs[0].status, JobStatus::Unschedulable);
    assert_eq!(
        out.jobs[0].reason.as_deref(),
        Some("rejected by scripted: over quota")
    );
}

mod random_preemption {
    use super::*;
    use proptest::prelude::*;

    /// Starts pending jobs in queue order and, on a coin toss, preempts one running job first
    /// (at most `budget` times in all, so that every run ends).
    struct Chaos {
        state: u64,
        budget: u32,
        wake: Option<SimTime>,
    }
    impl Chaos {
        fn next(&mut self) -> u64 {
            // xorshift: a fixed stream from the test's seed.
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            self.state
        }
    }
    impl Policy for Chaos {
        fn label(&self) -> String {
            "chaos".into()
        }
        fn schedule(&mut self, cx: &mut Cycle<'_>) {
            let running = cx.running().len() as u64;
            if running > 0 && self.budget > 0 && self.next().is_multiple_of(3) {
                self.budget -= 1;
                let victim = cx.running()[(self.next() % running) as usize];
                assert!(cx.preempt(victim, "chaos", None));
            }
            for &j in cx.pending() {
                if cx.is_pending(j) {
                    cx.try_start(j);
                }
            }
            // Keep passes coming while work remains, so preempted jobs get retried.
            let busy = !cx.running().is_empty() || cx.pending().iter().any(|&j| cx.is_pending(j));
            if busy && self.wake.is_none_or(|w| w <= cx.now()) {
                let t = cx.now() + SimDuration::from_secs(7);
                self.wake = Some(t);
                cx.wake_at(t);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn preempted_jobs_are_requeued_and_finish_with_all_their_work(
            jobs in prop::collection::vec((0u64..300, 1u64..100, 1u32..=4, 1u32..=2), 1..25),
            seed in 1u64..u64::MAX,
            checkpoint in prop::option::of(1u64..50),
        ) {
            let w = workload(&jobs);
            let o = EngineOptions {
                checkpoint_every: checkpoint.map(SimDuration::from_secs),
                restart_overhead: SimDuration::from_secs(2),
                ..opts()
            };
            let out = Simulation::new(&w, cluster(2, 4), Box::new(Chaos { state: seed, budget: 40, wake: None }), Box::new(Lowest), o)
                .unwrap()
                .run()
                .unwrap();
            for (r, j) in out.jobs.iter().zip(&w.jobs) {
                prop_assert_eq!(r.status, JobStatus::Finished);
                prop_assert_eq!(r.work_done, j.work.millis());
                let first = r.first_start().unwrap();
                prop_assert!(first >= j.submit);
                // Time in the system = time pending + time running (at least the work itself).
                let in_system = r.end().unwrap().since(j.submit).millis();
                prop_assert!(in_system >= r.pending_ms + j.work.millis());
                if r.preemptions == 0 {
                    prop_assert_eq!(in_system, r.pending_ms + j.work.millis());
                }
            }
            // Every GPU-millisecond allocated either did useful work or was lost to preemption,
            // or went to restart overheads: never less than the useful work.
            let useful: u128 = w.jobs.iter().map(|j| u128::from(j.gpu_milli()) * u128::from(j.work.millis())).sum();
            prop_assert!(out.total.gpu_milli_ms >= useful + out.total.lost_gpu_milli_ms);
        }
    }
}

#[test]
fn admission_and_pending_reasons_are_accounted_exactly() {
    // j0 runs 0-100 on the only GPU. j1 (submitted at 10) waits for quota until 40, is admitted,
    // then waits for the node until 100. j2 preempts nothing; it is told why it waits.
    let w = workload(&[(0, 100, 1, 1), (10, 10, 1, 1)]);
    let policy = Scripted(|cx: &mut Cycle<'_>| {
        let (j0, j1) = (JobId(0), JobId(1));
        match cx.now().millis() {
            0 => {
                assert!(cx.try_start(j0));
            }
            10_000 => {
                assert!(cx.decide(Decision::Reason {
                    job: j1,
                    reason: "WaitingForQuota"
                }));
                cx.wake_at(SimTime::from_secs(40));
            }
            40_000 => {
                assert!(cx.decide(Decision::Admit { job: j1 }));
                assert!(cx.decide(Decision::Reason {
                    job: j1,
                    reason: "no node"
                }));
                assert!(!cx.try_start(j1));
            }
            100_000 => assert!(cx.try_start(j1)),
            _ => {}
        }
    });
    let out = Simulation::new(&w, cluster(1, 1), Box::new(policy), Box::new(Lowest), opts())
        .unwrap()
        .run()
        .unwrap();
    let r = &out.jobs[1];
    assert_eq!(r.first_admitted(), Some(SimTime::from_secs(40)));
    assert_eq!((r.pending_ms, r.admitted_wait_ms), (90_000, 60_000));
    assert_eq!(out.reasons, vec!["", "WaitingForQuota", "no node"]);
    // Team t: 30 s waiting for quota, 60 s for a node; no pending time without a reason.
    assert_eq!(out.pending_by_reason[0], vec![0, 30_000, 60_000]);
    assert_eq!(out.reasons[r.main_wait_reason() as usize], "no node");
    assert_eq!(out.jobs[0].main_wait_reason(), 0);
}

#[test]
fn preemptions_are_logged_with_reason_and_preemptor() {
    let w = workload(&[(0, 100, 1, 1), (10, 10, 1, 1)]);
    let policy = Scripted(|cx: &mut Cycle<'_>| match cx.now().millis() {
        0 => assert!(cx.try_start(JobId(0))),
        10_000 => {
            assert!(cx.preempt(JobId(0), "InClusterQueue", Some(JobId(1))));
            assert!(cx.try_start(JobId(1)));
        }
        20_000 => assert!(cx.try_start(JobId(0))),
        _ => {}
    });
    let out = Simulation::new(&w, cluster(1, 1), Box::new(policy), Box::new(Lowest), opts())
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(out.preemption_log.len(), 1);
    let p = out.preemption_log[0];
    assert_eq!(
        (p.time, p.job, p.by),
        (SimTime::from_secs(10), JobId(0), Some(JobId(1)))
    );
    assert_eq!(out.reasons[p.reason as usize], "InClusterQueue");
    assert_eq!(out.jobs[0].end(), Some(SimTime::from_secs(120)));
}

/// Collects what a streaming run hands over, and how.
#[derive(Default)]
struct Collect {
    points: Vec<SeriesPoint>,
    calls: usize,
    largest: usize,
}
impl SeriesSink for Collect {
    fn write(&mut self, points: &[SeriesPoint]) {
        self.points.extend_from_slice(points);
        self.calls += 1;
        self.largest = self.largest.max(points.len());
    }
}

#[test]
fn a_streamed_series_is_the_kept_series_in_chunks() {
    // 20,000 one-GPU jobs, one a second, each running 2 s on one 1-GPU node: the queue grows
    // by one every second, so the levels change at most instants (well over
    // two chunks of points).
    let jobs: Vec<_> = (0..20_000).map(|i| (i, 2, 1, 1)).collect();
    let w = workload(&jobs);
    let kept = run_all(&w, cluster(1, 1), EngineOptions::default());
    let mut sink = Collect::default();
    let mut sim = greedy(&w, cluster(1, 1), EngineOptions::default());
    sim.stream_series(&mut sink);
    let streamed = sim.run().unwrap();
    assert!(streamed.series.is_empty());
    assert!(kept.series.len() > 2 * recorder::SERIES_CHUNK);
    assert_eq!(sink.points, kept.series);
    assert!(sink.calls >= 2, "handed over in chunks, not at the end only");
    // A chunk is handed over at the end of the instant that fills it: at most one instant's
    // points (two series here) beyond the chunk size.
    assert!(sink.largest <= recorder::SERIES_CHUNK + 2, "{}", sink.largest);
    assert_eq!(format!("{:?}", streamed.jobs), format!("{:?}", kept.jobs));
}

/// Refuses every workload in `prepare`, with a cause.
struct Refuser;
impl Policy for Refuser {
    fn label(&self) -> String {
        "refuser".into()
    }
    fn prepare(&mut self, _w: &Workload, _c: &Cluster) -> Result<(), PolicyError> {
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "quota.csv: not found");
        Err(PolicyError::with_source("cannot read the quota table", cause))
    }
    fn schedule(&mut self, _cx: &mut Cycle<'_>) {}
}

#[test]
fn a_policy_that_refuses_the_workload_stops_the_run_before_it_starts_and_keeps_the_cause() {
    use std::error::Error;
    let w = workload(&[(0, 10, 1, 1)]);
    let e = Simulation::new(&w, cluster(1, 1), Box::new(Refuser), Box::new(Lowest), opts()).unwrap_err();
    assert_eq!(e.to_string(), "policy refuser: cannot read the quota table");
    let policy = e.source().expect("the policy's error");
    assert_eq!(policy.to_string(), "cannot read the quota table");
    assert_eq!(
        policy.source().expect("its cause").to_string(),
        "quota.csv: not found"
    );
}

/// One team; jobs as (submit ms, work ms), one GPU each.
fn workload_ms(jobs: &[(u64, u64)]) -> Workload {
    let mut b = WorkloadBuilder::new("test");
    let team = b.team("t").unwrap();
    for (i, &(submit, work)) in jobs.iter().enumerate() {
        let spec = JobSpec::new(SimTime(submit), SimDuration(work), 1, pod(1), team);
        b.push(&format!("j{i}"), i as u32 + 2, spec).unwrap();
    }
    b.finish()
}

/// One node of one GPU at `speed_permille`.
fn one_gpu(speed_permille: u32) -> Cluster {
    let mut spec = ClusterSpec {
        pools: vec![PoolSpec::new("p", Some("H100"), 1, 1, 64, 512)],
    };
    spec.pools[0].speed_permille = speed_permille;
    Cluster::new(&spec).unwrap()
}

#[test]
fn times_past_the_engine_bound_are_refused_before_the_run() {
    use fairway_engine::time::MAX_MILLIS;
    let new = |w: &Workload, o: EngineOptions| {
        Simulation::new(
            w,
            one_gpu(1000),
            Box::new(Scripted(start_all)),
            Box::new(Lowest),
            o,
        )
        .map(|_| ())
    };
    let w = workload_ms(&[(0, 1000), (MAX_MILLIS + 1, 1000)]);
    let e = new(&w, opts()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "job 'j1': submit time is 9007199254740.993s, past the longest time the engine accepts (9007199254740.992s)"
    );
    let e = new(&workload_ms(&[(0, u64::MAX)]), opts()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("job 'j0': work is 18446744073709551.615s"),
        "{e}"
    );
    let mut w = workload_ms(&[(0, 1000)]);
    w.jobs[0].patience = SimDuration(u64::MAX - 1).into();
    assert!(matches!(new(&w, opts()), Err(EngineError::TimeOutOfRange { .. })));
    let o = EngineOptions {
        restart_overhead: SimDuration(MAX_MILLIS + 1),
        ..opts()
    };
    let e = new(&workload_ms(&[(0, 1000)]), o).unwrap_err();
    assert!(e.to_string().starts_with("option restart_overhead is"), "{e}");
    // At the bound itself, the run goes ahead.
    assert!(new(&workload_ms(&[(MAX_MILLIS, MAX_MILLIS)]), opts()).is_ok());
}

#[test]
fn a_run_that_would_finish_past_the_end_of_time_stops_with_an_error() {
    use fairway_engine::time::MAX_MILLIS;
    // At 1 per-mille, each job runs 1000 x 2^53 ms = 2^63 ms: the second ends just before
    // 2^64 ms, and the third would end past it.
    let w = workload_ms(&[(0, MAX_MILLIS), (0, MAX_MILLIS - 1), (0, MAX_MILLIS)]);
    let e = greedy(&w, one_gpu(1), opts()).run().unwrap_err();
    match &e {
        EngineError::TimeOverflow { time, what } => {
            assert_eq!(time.millis(), (MAX_MILLIS - 1 + MAX_MILLIS) * 1000);
            assert!(what.starts_with("job 'j2' would run for"), "{e}");
        }
        e => panic!("{e}"),
    }
    // The first two finish within the range.
    let out = greedy(
        &workload_ms(&[(0, MAX_MILLIS), (0, MAX_MILLIS - 1)]),
        one_gpu(1),
        opts(),
    )
    .run()
    .unwrap();
    assert_eq!(out.jobs[1].end(), Some(SimTime((2 * MAX_MILLIS - 1) * 1000)));
}

#[test]
fn an_event_at_the_last_instant_stops_the_run_with_an_error() {
    // The policy holds the job until the last instant, where a start could not be recorded.
    let w = workload_ms(&[(0, 1000)]);
    let policy = Scripted(|cx: &mut Cycle<'_>| {
        if cx.now() == SimTime::MAX {
            start_all(cx);
        } else {
            cx.wake_at(SimTime::MAX);
        }
    });
    let e = Simulation::new(&w, one_gpu(1000), Box::new(policy), Box::new(Lowest), opts())
        .unwrap()
        .run()
        .unwrap_err();
    assert!(
        matches!(
            e,
            EngineError::TimeOverflow {
                time: SimTime::MAX,
                ..
            }
        ),
        "{e}"
    );
    // An outage there, with a job still pending, likewise.
    let w = workload_ms(&[(0, 1000), (0, 1000)]);
    let mut sim = Simulation::new(
        &w,
        one_gpu(1000),
        Box::new(Scripted(|_| {})),
        Box::new(Lowest),
        opts(),
    )
    .unwrap();
    sim.add_outage(NodeId(0), SimTime::MAX, None);
    assert!(matches!(sim.run(), Err(EngineError::TimeOverflow { .. })));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Any workload the constructor accepts, however extreme its times and speeds, runs to an
    /// outcome or an error, never a panic: times at and near the bound, the slowest speed,
    /// preemptions, restarts, patience, wake-ups and outages at any instant.
    #[test]
    fn extreme_times_end_in_an_outcome_or_an_error(
        jobs in proptest::collection::vec((0..4u8, 0..4u8, 0..3u8), 1..6),
        speed in proptest::sample::select(vec![1u32, 7, 1000, 1_000_000]),
        overhead in 0..3u8,
        checkpoint in 0..3u8,
        wake in 0..4u8,
        outage in proptest::option::of((0..4u8, proptest::option::of(0..4u8))),
        preempt_every in 1..4usize,
    ) {
        use fairway_engine::time::MAX_MILLIS;
        let t = |k: u8| [0, 1, MAX_MILLIS / 2, MAX_MILLIS][k as usize];
        let mut b = WorkloadBuilder::new("test");
        let team = b.team("t").unwrap();
        for (i, &(submit, work, patience)) in jobs.iter().enumerate() {
            let mut spec = JobSpec::new(SimTime(t(submit)), SimDuration(t(work)), 1, pod(1), team);
            if patience > 0 {
                spec.patience = SimDuration(t(patience + 1)).into();
            }
            b.push(&format!("j{i}"), 0, spec).unwrap();
        }
        let w = b.finish();
        let o = EngineOptions {
            restart_overhead: SimDuration(t(overhead)),
            checkpoint_every: (checkpoint > 0).then(|| SimDuration(t(checkpoint))),
            ..opts()
        };
        let mut passes = 0usize;
        let policy = Scripted(move |cx: &mut Cycle<'_>| {
            passes += 1;
            if passes.is_multiple_of(preempt_every)
                && let Some(&r) = cx.running().first()
            {
                cx.preempt(r, "test", None);
            }
            start_all(cx);
            let at = [SimTime::MAX, cx.now() + SimDuration(1), SimTime(MAX_MILLIS), SimTime(u64::MAX - 1)]
                [wake as usize];
            if at > cx.now() && passes < 50 {
                cx.wake_at(at);
            }
        });
        let mut sim = Simulation::new(&w, one_gpu(speed), Box::new(policy), Box::new(Lowest), o).unwrap();
        if let Some((down, up)) = outage {
            let at = |k: u8| [SimTime(1), SimTime(MAX_MILLIS), SimTime(u64::MAX - 1), SimTime::MAX][k as usize];
            sim.add_outage(NodeId(0), at(down), up.map(at).filter(|&u| u > at(down)));
        }
        let _ = sim.run();
    }
}

/// One 8-GPU node. j0 (8 GPUs) is open-ended from t=0; j1 (4 GPUs, 60 s) arrives at 10 s and
/// cannot start while j0 holds the node: the run ends at j1's arrival, with j0 running (never
/// finished, 10 s of allocation) and j1 pending, and no livelock.
#[test]
fn an_open_ended_job_runs_to_the_end_of_the_run_and_never_finishes() {
    let mut w = workload(&[(0, 1, 8, 1), (10, 60, 4, 1)]);
    w.jobs[0].set_open_ended();
    let o = run_all(&w, cluster(1, 8), EngineOptions::default());
    assert_eq!(o.jobs[0].status, JobStatus::Running);
    assert_eq!(o.jobs[0].first_start(), Some(SimTime::ZERO));
    assert_eq!(o.jobs[0].end(), None);
    // A job still running at the end has run until the end.
    assert_eq!(o.jobs[0].run_ms, 10_000);
    assert_eq!(o.total.gpu_milli_ms, 8000 * 10_000);
    assert_eq!(o.jobs[1].status, JobStatus::Pending);
    assert_eq!(o.end, SimTime::from_secs(10));
    assert_eq!(o.counters.completions, 0);
    // Beside a job that ends, the run ends with it; the open-ended one is still running.
    let mut w = workload(&[(0, 1, 4, 1), (5, 30, 4, 1)]);
    w.jobs[0].set_open_ended();
    let o = run_all(&w, cluster(1, 8), EngineOptions::default());
    assert_eq!(o.end, SimTime::from_secs(35));
    assert_eq!(o.jobs[0].status, JobStatus::Running);
    assert_eq!(o.jobs[1].status, JobStatus::Finished);
    assert_eq!(o.total.gpu_milli_ms, 4000 * 35_000 + 4000 * 30_000);
}
