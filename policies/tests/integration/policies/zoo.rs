//! The policy zoo, hardware speed, preemption cost and failures on cases worked out by hand (the
//! working is in each comment).

use super::*;

/// A job for these tests: (submit s, duration s, GPUs, team index, runtime estimate s).
type T = (u64, u64, u32, usize, Option<u64>);

/// Teams "a" and "b"; single-pod jobs with 1 CPU and 1 GiB per pod.
fn teams_workload(jobs: &[T]) -> Workload {
    build(
        &["a", "b"],
        jobs.iter()
            .map(|&(submit, dur, gpus, team, est)| (submit, dur, gpus, team, 0, est)),
    )
}

fn audited() -> EngineOptions {
    EngineOptions {
        audit: true,
        ..EngineOptions::default()
    }
}

fn ends(o: &Outcome) -> Vec<u64> {
    o.jobs
        .iter()
        .map(|r| r.end().expect("ended").millis() / 1000)
        .collect()
}

/// (time s, preempted job index, preemptor job index) of every preemption, in order.
fn preemptions(o: &Outcome) -> Vec<(u64, usize, Option<usize>)> {
    o.preemption_log
        .iter()
        .map(|p| (p.time.millis() / 1000, p.job.index(), p.by.map(JobId::index)))
        .collect()
}

fn stat(o: &Outcome, key: &str) -> f64 {
    o.policy_stats
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no stat {key} in {:?}", o.policy_stats))
        .1
}

/// 1 node x 4 GPUs, every job takes the whole node: A (0,100), B (10,50), C (20,20), D (30,20).
/// FIFO: A 0-100, B 100-150, C 150-170, D 170-190: waits 0, 90, 130, 140.
/// SJF oracle: at 100 the queue is C (20), D (20, later), B (50): C 100-120, D 120-140,
///   B 140-190: waits 0, 130, 80, 90.
/// SJF on the trace's estimates B 10, C 60, D 30: B 100-150, D 150-170, C 170-190:
///   waits 0, 90, 150, 120 (the bad estimate of B costs C and D).
/// SJF on the team mean: every job is estimated when it arrives, before any job has finished, at
///   the one-hour default, so the order is FIFO's.
#[test]
fn sjf_orders_by_the_estimate_it_is_given() {
    let jobs = [
        (0, 100, 4, 0, Some(100)),
        (10, 50, 4, 0, Some(10)),
        (20, 20, 4, 0, Some(60)),
        (30, 20, 4, 0, Some(30)),
    ];
    let w = teams_workload(&jobs);
    assert_eq!(
        waits(&w, &run(&w, one_node(4), "fifo", "first-fit")),
        [0, 90, 130, 140]
    );
    assert_eq!(
        waits(&w, &run(&w, one_node(4), "sjf", "first-fit")),
        [0, 130, 80, 90]
    );
    assert_eq!(
        waits(&w, &run(&w, one_node(4), "sjf[estimate=trace]", "first-fit")),
        [0, 90, 150, 120]
    );
    assert_eq!(
        waits(&w, &run(&w, one_node(4), "sjf[estimate=team-mean]", "first-fit")),
        [0, 90, 130, 140]
    );
}

/// 1 node x 4 GPUs: A (0,200), B (50,30), C (60,170), each on all 4 GPUs.
/// No checkpoint cost: at 50 A has 150 s left, B 30: B preempts A (A keeps its 50 s, checkpoint
///   every 1 s). B 50-80. At 80 A (150 left) goes before C (170): A 80-230, C 230-400.
/// Checkpoint every 40 s and a 5 s restart overhead: at 50 A keeps 40 s (loses 50 mod 40 = 10 s
///   of work), so at 80 it has 160 left (< C's 170) and restarts: 80 + 5 + 160 = 245; C 245-415.
///   Lost: 10 s x 4 GPUs; overhead 5 s x 4 GPUs.
#[test]
fn srtf_preempts_a_long_job_for_a_short_one_and_pays_the_checkpoint_cost() {
    let w = teams_workload(&[(0, 200, 4, 0, None), (50, 30, 4, 0, None), (60, 170, 4, 0, None)]);
    let cheap = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(1)),
        ..audited()
    };
    let o = run_with(&w, one_node(4), "srtf", "first-fit", cheap, &[]);
    assert_eq!(preemptions(&o), [(50, 0, Some(1))]);
    assert_eq!(ends(&o), [230, 80, 400]);
    assert_eq!(o.total.lost_gpu_milli_ms, 0);
    assert_eq!(stat(&o, "preemptions_for_shorter_jobs"), 1.0);

    let costly = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(40)),
        restart_overhead: SimDuration::from_secs(5),
        ..audited()
    };
    let o = run_with(&w, one_node(4), "srtf", "first-fit", costly, &[]);
    assert_eq!(preemptions(&o), [(50, 0, Some(1))]);
    assert_eq!(ends(&o), [245, 80, 415]);
    assert_eq!(o.total.lost_gpu_milli_ms, 10 * 4 * 1000 * 1000);
    assert_eq!(o.total.overhead_gpu_milli_ms, 5 * 4 * 1000 * 1000);
    assert_eq!(o.jobs[0].work_done, 200_000);
}

/// Per-class costs replace the defaults: the same SRTF case with A in class "big" (checkpoint
/// every 30 s, 8 s overhead) and the default (checkpoint every 1 s, no overhead) for the rest.
/// At 50 A keeps 30 s (loses 20 s), has 170 left at 80, ties with C (170) and wins on its lower
/// id: 80 + 8 + 170 = 258; C 258-428.
#[test]
fn checkpoint_costs_follow_the_job_class() {
    let mut w = teams_workload(&[(0, 200, 4, 0, None), (50, 30, 4, 0, None), (60, 170, 4, 0, None)]);
    w.job_classes = vec!["big".into()];
    w.jobs[0].class = Some(0);
    let opts = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(1)),
        class_costs: vec![ClassCost {
            class: 0,
            checkpoint_every: Some(SimDuration::from_secs(30)),
            restart_overhead: SimDuration::from_secs(8),
        }],
        ..audited()
    };
    let o = run_with(&w, one_node(4), "srtf", "first-fit", opts, &[]);
    assert_eq!(ends(&o), [258, 80, 428]);
    assert_eq!(o.total.lost_gpu_milli_ms, 20 * 4 * 1000 * 1000);
    assert_eq!(o.total.overhead_gpu_milli_ms, 8 * 4 * 1000 * 1000);
}

/// 1 node x 1 GPU, LAS with queue limits 0.01 and 0.02 GPU-hours (36 and 72 GPU-s), no
/// promotion, checkpoint every 1 s. A (0,100), B (20,100), 1 GPU each.
/// 0-36 A alone in queue 0 (B arrives at 20 but A is also in queue 0 and older). At 36 A reaches
/// 36 GPU-s: queue 1; B (queue 0) preempts it. At 72 B reaches queue 1: A (queue 1, older)
/// preempts B. At 108 A reaches 72 GPU-s: queue 2; B preempts it. At 144 B reaches queue 2; A
/// preempts it and runs its last 28 s: ends 172. B then runs its last 28 s: ends 200.
#[test]
fn las_demotes_at_each_threshold() {
    let w = teams_workload(&[(0, 100, 1, 0, None), (20, 100, 1, 0, None)]);
    let opts = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(1)),
        ..audited()
    };
    let o = run_with(
        &w,
        one_node(1),
        "las[thresholds_gpu_h=0.01:0.02,promote_after=0]",
        "first-fit",
        opts,
        &[],
    );
    assert_eq!(
        preemptions(&o),
        [
            (36, 0, Some(1)),
            (72, 1, Some(0)),
            (108, 0, Some(1)),
            (144, 1, Some(0))
        ]
    );
    assert_eq!(ends(&o), [172, 200]);
    assert_eq!(o.total.lost_gpu_milli_ms, 0);
}

/// 1 node x 4 GPUs, LAS with one limit at 0.01 GPU-h (36 GPU-s), checkpoint every 1 s.
/// A (0,100) on 4 GPUs reaches 36 GPU-s at 9 s; C (20,200) on 1 GPU.
/// Without promotion: C (queue 0) preempts A at 20; C reaches 36 GPU-s at 56 and A (older, same
///   queue) preempts it; A runs its last 80 s: ends 136; C its last 164: ends 300.
/// Promotion after waiting 1x its run time: A waited 20 s for 20 s of run at 40: promoted, its
///   service counted afresh, A (queue 0, older) preempts C. A reaches 36 GPU-s of new service at
///   49 (queue 1); C (queue 0, 20 GPU-s) preempts it. C reaches 36 GPU-s at 65; A (queue 1,
///   older) preempts it; A has done 29 s. C waited 36 s for 36 s of run at 101: promoted,
///   preempts A (which did 65 s by then). C reaches 36 GPU-s of new service at 137; A (queue 1,
///   older) preempts it and runs its last 35 s: ends 172. C has done 72 s: 172 + 128 = 300.
#[test]
fn las_promotes_a_starving_job() {
    let w = teams_workload(&[(0, 100, 4, 0, None), (20, 200, 1, 0, None)]);
    let opts = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(1)),
        ..audited()
    };
    let go = |pol: &str| run_with(&w, one_node(4), pol, "first-fit", opts.clone(), &[]);
    let o = go("las[thresholds_gpu_h=0.01,promote_after=0]");
    assert_eq!(preemptions(&o), [(20, 0, Some(1)), (56, 1, Some(0))]);
    assert_eq!(ends(&o), [136, 300]);
    assert_eq!(stat(&o, "promotions_after_starving"), 0.0);
    let o = go("las[thresholds_gpu_h=0.01,promote_after=1]");
    assert_eq!(
        preemptions(&o),
        [
            (20, 0, Some(1)),
            (40, 1, Some(0)),
            (49, 0, Some(1)),
            (65, 1, Some(0)),
            (101, 0, Some(1)),
            (137, 1, Some(0)),
        ]
    );
    assert_eq!(ends(&o), [172, 300]);
    assert_eq!(stat(&o, "promotions_after_starving"), 2.0);
}

/// 1 node x 4 GPUs, FIFO order. A (0,100, 3 GPUs, est 100), B (10,50, 4 GPUs, est 50),
/// C (20,60, 1 GPU, est 60), D (30,90, 1 GPU, est 90).
/// At 10 B heads the queue and is reserved A's estimated end, 100. At 20 C fits on the free GPU
/// and, by its estimate, ends at 80 <= 100: backfilled. At 30 no GPU is free. At 80 D would end
/// at 170 and hold a GPU B needs at 100: not backfilled. B 100-150, D 150-240.
/// Waits 0, 90, 0, 120 (strict FIFO: 0, 90, 130, 120).
/// If C's estimate is 60 but it runs 90, it holds its GPU to 110: B starts at 110, its
/// reservation missed by 10 s; one estimate too short.
#[test]
fn easy_backfill_starts_short_jobs_without_delaying_the_head() {
    let good = teams_workload(&[
        (0, 100, 3, 0, Some(100)),
        (10, 50, 4, 0, Some(50)),
        (20, 60, 1, 0, Some(60)),
        (30, 90, 1, 0, Some(90)),
    ]);
    assert_eq!(
        waits(&good, &run(&good, one_node(4), "fifo", "first-fit")),
        [0, 90, 130, 120]
    );
    let o = run(&good, one_node(4), "easy-backfill", "first-fit");
    assert_eq!(waits(&good, &o), [0, 90, 0, 120]);
    assert_eq!(stat(&o, "backfilled_jobs"), 1.0);
    assert_eq!(stat(&o, "reservations_missed"), 0.0);
    assert_eq!(stat(&o, "estimates_too_short"), 0.0);

    let wrong = teams_workload(&[
        (0, 100, 3, 0, Some(100)),
        (10, 50, 4, 0, Some(50)),
        (20, 90, 1, 0, Some(60)),
        (30, 90, 1, 0, Some(90)),
    ]);
    let o = run(&wrong, one_node(4), "easy-backfill", "first-fit");
    assert_eq!(waits(&wrong, &o), [0, 100, 0, 130]);
    assert_eq!(stat(&o, "backfilled_jobs"), 1.0);
    assert_eq!(stat(&o, "estimates_too_short"), 1.0);
    assert_eq!(stat(&o, "estimate_mean_abs_error_s"), 30.0 / 4.0);
    assert_eq!(stat(&o, "reservations_missed"), 1.0);
    assert_eq!(stat(&o, "reservation_delay_s"), 10.0);
    // With the true run times (oracle), C is not backfilled: it would end at 110 > 100.
    let o = run(&wrong, one_node(4), "easy-backfill[estimate=oracle]", "first-fit");
    assert_eq!(stat(&o, "backfilled_jobs"), 0.0);
    assert_eq!(stat(&o, "reservations_missed"), 0.0);
}

/// The DRF paper's example (Ghodsi et al., NSDI '11, section 4): 9 CPUs and 18 GiB; team a's
/// tasks need <1 CPU, 4 GiB>, team b's <3 CPU, 1 GiB>; five of each submitted at 0, a's first.
/// DRF: a1 (a: 4/18 = .22), b1 (b: 3/9 = .33), a2 (.44), b2 (.67), a3 (.67); then a (tie, lower
///   id) needs 1 CPU and none is left, b needs 3: done. a gets 3 tasks, b 2; both .67.
/// Best-effort FIFO takes a1-a4 (4 CPU, 16 GiB), then b1 (7 CPU, 17 GiB); nothing else fits.
#[test]
fn drf_serves_the_team_with_the_lowest_dominant_share() {
    let mut b = WorkloadBuilder::new("drf");
    let teams = [b.team("a").unwrap(), b.team("b").unwrap()];
    let shapes = [(1000, 4096), (3000, 1024)];
    for (t, &(cpu_milli, mem_mib)) in shapes.iter().enumerate() {
        for i in 0..5 {
            let pod = PodRequest {
                gpu_milli: 0,
                cpu_milli,
                mem_mib,
            };
            let spec = JobSpec::new(SimTime(0), SimDuration::from_secs(100), 1, pod, teams[t]);
            let id = (t * 5 + i) as u32;
            b.push(&format!("{}{}", ["a", "b"][t], i + 1), id, spec).unwrap();
        }
    }
    let w = b.finish();
    let c = Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("cpu", None, 1, 0, 9, 18)],
    })
    .unwrap();
    let at_zero = |o: &Outcome| -> Vec<&str> {
        (0..w.len())
            .filter(|&i| o.jobs[i].first_start() == Some(SimTime(0)))
            .map(|i| &w.names[i])
            .collect()
    };
    let o = run(&w, c.clone(), "drf", "first-fit");
    assert_eq!(at_zero(&o), ["a1", "a2", "a3", "b1", "b2"]);
    let o = run(&w, c, "fifo[mode=best-effort]", "first-fit");
    assert_eq!(at_zero(&o), ["a1", "a2", "a3", "a4", "b1"]);
}

/// A team's own queue: 1 node x 4 GPUs, team a only: a1 (0,100, 3 GPUs), a2 (1,100, 4 GPUs),
/// a3 (2,100, 1 GPU). Strict: a3 waits behind a2, which waits for a1: a2 100-200, a3 200-300:
/// waits 0, 99, 198. Best effort: a3 takes the free GPU at 2 (ends 102); a2 starts at 102:
/// waits 0, 101, 0.
#[test]
fn team_queues_are_strict_or_best_effort() {
    let w = teams_workload(&[(0, 100, 3, 0, None), (1, 100, 4, 0, None), (2, 100, 1, 0, None)]);
    for pol in ["drf", "fair-share"] {
        let strict = run(&w, one_node(4), &format!("{pol}[mode=strict]"), "first-fit");
        assert_eq!(waits(&w, &strict), [0, 99, 198], "{pol}");
        let be = run(&w, one_node(4), pol, "first-fit");
        assert_eq!(waits(&w, &be), [0, 101, 0], "{pol}");
    }
}

/// 1 node x 1 GPU; a1 (0,100) team a, b1 (0,40) team b, a2 (10,50) a, b2 (20,50) b.
/// At 0 both teams have used nothing: a (lower id) first, a1 0-100. At 100 a has used ~100 GPU-s,
/// b nothing: b1 100-140. At 140 a ~100, b ~40: b2 140-190, then a2 190-240.
/// With weights a:3, at 140 a's usage per weight is ~33 < 40: a2 140-190, b2 190-240.
/// (A 1000-hour half-life makes decay negligible at these times.)
#[test]
fn fair_share_serves_the_team_with_the_least_weighted_usage() {
    let w = teams_workload(&[
        (0, 100, 1, 0, None),
        (0, 40, 1, 1, None),
        (10, 50, 1, 0, None),
        (20, 50, 1, 1, None),
    ]);
    let o = run(&w, one_node(1), "fair-share[half_life_h=1000]", "first-fit");
    assert_eq!(ends(&o), [100, 140, 240, 190]);
    let o = run(
        &w,
        one_node(1),
        "fair-share[half_life_h=1000,weights=a:3]",
        "first-fit",
    );
    assert_eq!(ends(&o), [100, 140, 190, 240]);
    // FIFO: a1, b1 (submitted at 0, lower id after a1), a2, b2.
    assert_eq!(
        ends(&run(&w, one_node(1), "fifo", "first-fit")),
        [100, 140, 190, 240]
    );
}

/// Decayed usage, 1 node x 2 GPUs, half-life h = 100 s: a1 (0,100, 1 GPU) team a, b0 (100,60,
/// 1 GPU) team b; at 200 a2 and b1 (10 s on both GPUs) arrive together.
/// A run of g GPUs from s to e, seen at t, counts g h / ln 2 (2^-((t-e)/h) - 2^-((t-s)/h)).
/// At 200: a = 144.27 x (2^-1 - 2^-2) = 36.07 GPU-s; b = 144.27 x (2^-0.4 - 2^-1) = 37.21.
/// a is behind: a2 200-210, b1 210-220. Without decay (a huge half-life) a has 100 > 60: b1
/// goes first.
#[test]
fn fair_share_usage_decays_with_its_half_life() {
    let w = teams_workload(&[
        (0, 100, 1, 0, None),
        (100, 60, 1, 1, None),
        (200, 10, 2, 0, None),
        (200, 10, 2, 1, None),
    ]);
    let short = run(
        &w,
        one_node(2),
        "fair-share[half_life_h=0.027777777777777776]",
        "first-fit",
    );
    assert_eq!(ends(&short), [100, 160, 210, 220]);
    let long = run(&w, one_node(2), "fair-share[half_life_h=100000]", "first-fit");
    assert_eq!(ends(&long), [100, 160, 220, 210]);
}

/// A job of W reference-seconds on a GPU twice as fast finishes in W / 2; a per-class speed
/// overrides the pool's: class "llm" runs 3x on this model, so 300 s of work takes 100 s.
#[test]
fn speed_factors_scale_run_time() {
    let mut w = teams_workload(&[(0, 100, 1, 0, None), (0, 300, 1, 0, None)]);
    w.job_classes = vec!["llm".into()];
    w.jobs[1].class = Some(0);
    let mut spec = ClusterSpec {
        pools: vec![PoolSpec::new("fast", Some("H100"), 1, 2, 64, 512)],
    };
    spec.pools[0].speed_permille = 2000;
    let c = Cluster::new(&spec).unwrap();
    let model = c.model_id("H100").unwrap();
    let opts = EngineOptions {
        class_speed: vec![ClassSpeed {
            class: 0,
            model,
            speed_permille: 3000,
        }],
        ..audited()
    };
    let o = run_with(&w, c, "fifo", "first-fit", opts, &[]);
    assert_eq!(ends(&o), [50, 100]);
    assert_eq!(o.jobs[0].work_done, 100_000);
    assert_eq!(o.jobs[1].work_done, 300_000);
}

/// 1 node x 4 GPUs; A (0,100) on all 4, checkpoint every 10 s. The node fails at 35 and is back
/// at 60: A keeps 30 s (loses 5 s x 4 GPUs), waits for the node, restarts at 60 and ends at
/// 60 + 70 = 130, once. The down time is 25 s x 4 GPUs.
/// With a second node, A moves there at 35 and ends at 35 + 70 = 105.
#[test]
fn a_node_failure_interrupts_and_requeues_its_job() {
    let w = teams_workload(&[(0, 100, 4, 0, None)]);
    let opts = EngineOptions {
        checkpoint_every: Some(SimDuration::from_secs(10)),
        ..audited()
    };
    let outage = [(NodeId(0), SimTime::from_secs(35), Some(SimTime::from_secs(60)))];
    for pol in ["fifo", "sjf", "srtf", "las", "drf", "fair-share", "easy-backfill"] {
        let o = run_with(&w, one_node(4), pol, "first-fit", opts.clone(), &outage);
        let r = &o.jobs[0];
        assert_eq!(r.status, JobStatus::Finished, "{pol}");
        assert_eq!(
            (r.end(), r.preemptions, r.work_done),
            (Some(SimTime::from_secs(130)), 1, 100_000),
            "{pol}"
        );
        assert_eq!(o.counters.starts, 2, "{pol}");
        assert_eq!(o.counters.node_failures, 1, "{pol}");
        assert_eq!(o.total.lost_gpu_milli_ms, 5 * 4 * 1000 * 1000, "{pol}");
        assert_eq!(o.down_gpu_milli_ms, 25 * 4 * 1000 * 1000, "{pol}");
        assert_eq!(preemptions(&o), [(35, 0, None)], "{pol}");
    }
    let two = Cluster::new(&ClusterSpec {
        pools: vec![PoolSpec::new("n", Some("H100"), 2, 4, 64, 512)],
    })
    .unwrap();
    let o = run_with(&w, two, "fifo", "first-fit", opts, &outage);
    assert_eq!(o.jobs[0].end(), Some(SimTime::from_secs(105)));
}
