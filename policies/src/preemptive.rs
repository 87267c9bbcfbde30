//! The pass shared by preemptive priority policies (SRTF, LAS): start pending jobs in order of a
//! key (lower is better), preempting running jobs with a worse key when that makes room.

use fairway_engine::{Cycle, JobId, JobStatus};

/// Starts the jobs of `order` (pending jobs, best first) in turn. A job that does not fit may
/// take the place of running jobs whose key is worse than its own, worst first, if giving back
/// their pods makes it fit; only the victims it needs are preempted. `key_of_running` gives the
/// key of a running job. Returns how many jobs were preempted.
pub fn pass<K: Ord + Copy>(
    cx: &mut Cycle<'_>,
    order: &[(K, JobId)],
    key_of_running: impl Fn(&Cycle<'_>, JobId) -> K,
    reason: &str,
) -> u64 {
    let mut preempted = 0;
    for &(key, job) in order {
        if !cx.is_pending(job) || cx.try_start(job) {
            continue;
        }
        // Running jobs with a worse key, worst first.
        let mut worse: Vec<(K, JobId)> = cx
            .running()
            .iter()
            .map(|&r| (key_of_running(cx, r), r))
            .filter(|&(k, _)| k > key)
            .collect();
        if worse.is_empty() {
            continue;
        }
        worse.sort_unstable_by(|a, b| b.cmp(a));
        let mut what_if = cx.cluster().clone();
        let mut victims = Vec::new();
        let mut fits = false;
        for &(_, v) in &worse {
            let spec = cx.job(v);
            for &slot in cx.run(v).slots() {
                what_if.give_back(&spec.pod, slot);
            }
            victims.push(v);
            if cx.place_on(&what_if, job).is_some() {
                fits = true;
                break;
            }
        }
        if !fits {
            continue;
        }
        // Keep the victims it turns out not to need (the best-keyed ones first).
        let mut i = victims.len() - 1;
        while i > 0 {
            i -= 1;
            let v = victims[i];
            let mut trial = what_if.clone();
            let spec = cx.job(v);
            let ok = cx
                .run(v)
                .slots()
                .iter()
                .all(|&s| trial.take(&spec.pod, s, spec.models).is_ok());
            if ok && cx.place_on(&trial, job).is_some() {
                what_if = trial;
                victims.remove(i);
            }
        }
        for &v in &victims {
            if cx.status(v) == JobStatus::Running && cx.preempt(v, reason, Some(job)) {
                preempted += 1;
            }
        }
        cx.try_start(job);
    }
    preempted
}
