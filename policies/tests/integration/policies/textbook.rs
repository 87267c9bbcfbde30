//! Small cases whose answers were worked out by hand (the working is in each comment).

use super::*;

/// 1 node x 4 GPUs; (submit, duration, GPUs) = (0,100,4), (10,50,2), (20,10,1), (30,10,4).
/// Strict FIFO: j1 runs 0-100. At 100 j2 starts (100-150) and j3 fits beside it (100-110);
/// j4 needs all 4 GPUs, so it waits for j2: 150-160.
/// Waits 0, 90, 80, 120; makespan 160; allocated 400+100+10+40 = 550 GPU-s of 4 x 160 = 640.
#[test]
fn strict_fifo_three_plus_one() {
    let w = workload(&[(0, 100, 4, 0), (10, 50, 2, 0), (20, 10, 1, 0), (30, 10, 4, 0)]);
    for place in ["first-fit", "best-fit"] {
        let o = run(&w, one_node(4), "fifo", place);
        assert_eq!(waits(&w, &o), vec![0, 90, 80, 120]);
        assert_eq!(o.end, SimTime::from_secs(160));
        assert_eq!(o.total.gpu_milli_ms, 550 * 1000 * 1000);
        assert_eq!(
            o.capacity_gpu_milli * (o.end - o.start).millis(),
            640 * 1000 * 1000
        );
    }
}

/// 1 node x 4 GPUs; (0,100,3), (10,50,2), (20,10,1), (30,20,1).
/// Strict: j2 (2 GPUs) does not fit beside j1 (1 free), so j3 and j4 wait behind it until 100,
///   then all three start: waits 0, 90, 80, 70.
/// Best effort: j3 takes the free GPU at 20 (ends 30); at 30 j4 takes it (ends 50); j2 still
///   waits for j1: waits 0, 90, 0, 0; the last job (j2) ends at 150.
#[test]
fn best_effort_fifo_lets_small_jobs_through() {
    let w = workload(&[(0, 100, 3, 0), (10, 50, 2, 0), (20, 10, 1, 0), (30, 20, 1, 0)]);
    let strict = run(&w, one_node(4), "fifo[mode=strict]", "first-fit");
    assert_eq!(waits(&w, &strict), vec![0, 90, 80, 70]);
    let be = run(&w, one_node(4), "fifo[mode=best-effort]", "first-fit");
    assert_eq!(waits(&w, &be), vec![0, 90, 0, 0]);
    assert_eq!(be.end, SimTime::from_secs(150));
    assert_eq!(be.total.gpu_milli_ms, (300 + 100 + 10 + 20) * 1000 * 1000);
}

/// 1 node x 4 GPUs; (submit, duration, GPUs, priority):
/// a (0,100,4,0), b (10,20,4,1), c (20,20,4,5), d (30,10,2,5), e (40,10,1,0).
/// At 100 the queue in priority order is c, d, b, e.
/// Strict: c runs 100-120; d waits behind it (no room); at 120 d starts (2 free), b needs 4 so
///   the queue stops there and e waits too; 130 b starts (130-150); 150 e starts.
///   Waits: a 0, b 120, c 80, d 90, e 110.
/// Best effort: same, except at 120 e takes one of the 2 GPUs d leaves free: wait 80.
#[test]
fn priority_orders_the_queue() {
    let w = workload(&[
        (0, 100, 4, 0),
        (10, 20, 4, 1),
        (20, 20, 4, 5),
        (30, 10, 2, 5),
        (40, 10, 1, 0),
    ]);
    let strict = run(&w, one_node(4), "priority", "best-fit");
    assert_eq!(waits(&w, &strict), vec![0, 120, 80, 90, 110]);
    let be = run(&w, one_node(4), "priority[mode=best-effort]", "best-fit");
    assert_eq!(waits(&w, &be), vec![0, 120, 80, 90, 80]);
    // FIFO ignores priority: b 100-120, c 120-140, then d and e together at 140.
    let fifo = run(&w, one_node(4), "fifo", "best-fit");
    assert_eq!(waits(&w, &fifo), vec![0, 90, 100, 110, 100]);
}

/// The replay policy starts jobs exactly at their recorded times, whatever the queue order.
#[test]
fn replay_reproduces_recorded_starts() {
    let mut w = workload(&[(0, 50, 1, 0), (10, 50, 1, 0), (20, 5, 1, 0)]);
    w.jobs[0].recorded_start = SimTime::from_secs(30).into();
    w.jobs[1].recorded_start = SimTime::from_secs(10).into();
    // j3 never started in the trace; it gives up after 100 s.
    w.jobs[2].patience = SimDuration::from_secs(100).into();
    let o = run(&w, one_node(4), "replay", "first-fit");
    assert_eq!(o.jobs[0].first_start(), Some(SimTime::from_secs(30)));
    assert_eq!(o.jobs[1].first_start(), Some(SimTime::from_secs(10)));
    assert_eq!(o.jobs[2].status, JobStatus::Abandoned);
    assert_eq!(o.jobs[2].end(), Some(SimTime::from_secs(120)));
}
