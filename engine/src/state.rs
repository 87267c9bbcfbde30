//! The engine's own state during a run: each job's record and live entry, the cluster, the event
//! queue, the recorder, and how a checked decision changes them.

use crate::cluster::{Cluster, PodSlot};
use crate::error::EngineError;
use crate::event::{Event, EventQueue};
use crate::ids::JobId;
use crate::job::{JobSpec, Workload};
use crate::options::{EngineOptions, MAX_PREEMPTIONS_PER_JOB};
use crate::outcome::{Counters, JobRun, NO_LIVE};
use crate::policy::{Decision, JobStatus, Transition};
use crate::recorder::Recorder;
use crate::time::{SimDuration, SimTime};
use smallvec::SmallVec;

/// What a job needs only while it is in the system (pending or running). Entries are recycled,
/// so a run holds as many as jobs are ever in the system at once, not one per job of the trace.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    /// The job holding the entry (`NO_JOB` while the entry is free), so that a completion
    /// event can be checked against its entry without reading the job's record.
    pub(crate) job: u32,
    admitted_since: Option<SimTime>,
    /// The current pending reason: 0 is none.
    pub(crate) pending_reason: u16,
    reason_since: SimTime,
    /// Pending time per reason the policy gave (reason index, ms).
    reason_ms: Vec<(u16, u64)>,
    /// Identifies the current run: a completion event of an older run is stale.
    pub(crate) epoch: u32,
    /// Since when a pending job has been waiting (its submit time, or its last preemption).
    pub(crate) pending_since: SimTime,
    /// Speed of the current run, per-mille of the reference GPU.
    pub(crate) speed_permille: u32,
    pub(crate) overhead_ms: u64,
    /// Position on the engine's running list.
    running_pos: u32,
    /// Where the pods of a running job are: a one-pod job's slot is held in the entry itself,
    /// which saves following a pointer when the job stops.
    pub(crate) slots: SmallVec<[PodSlot; 1]>,
}

/// No job: a free live entry.
const NO_JOB: u32 = u32::MAX;

impl Default for Live {
    fn default() -> Self {
        Live {
            job: NO_JOB,
            admitted_since: None,
            pending_reason: 0,
            reason_since: SimTime::ZERO,
            reason_ms: Vec::new(),
            epoch: 0,
            pending_since: SimTime::ZERO,
            speed_permille: 0,
            overhead_ms: 0,
            running_pos: 0,
            slots: SmallVec::new(),
        }
    }
}

impl Live {
    /// Ends a wait while admitted (if the job was admitted), adding it to the job's total.
    pub(crate) fn end_admitted_wait(&mut self, r: &mut JobRun, now: SimTime) {
        if let Some(a) = self.admitted_since.take() {
            r.admitted_wait_ms += now.since(a).millis();
        }
    }
    /// Adds the time since the last change to the current reason's total.
    pub(crate) fn clock_reason(&mut self, now: SimTime) {
        if self.pending_reason != 0 {
            let ms = now.since(self.reason_since).millis();
            match self.reason_ms.iter_mut().find(|(r, _)| *r == self.pending_reason) {
                Some(e) => e.1 += ms,
                None => self.reason_ms.push((self.pending_reason, ms)),
            }
        }
        self.reason_since = now;
    }
    pub(crate) fn main_reason(&self) -> u16 {
        let mut best = (0u64, 0u16);
        for &(r, ms) in &self.reason_ms {
            if ms > best.0 {
                best = (ms, r);
            }
        }
        best.1
    }
}

/// Mutable state of a run, apart from the queue of pending jobs.
pub(crate) struct State {
    pub(crate) now: SimTime,
    pub(crate) runs: Vec<JobRun>,
    /// Where each job's pods ran last.
    pub(crate) placed: crate::outcome::Placed,
    pub(crate) cluster: Cluster,
    pub(crate) queue: EventQueue,
    pub(crate) recorder: Recorder,
    pub(crate) running: Vec<JobId>,
    /// How many of `running` are open-ended (they never finish on their own).
    pub(crate) running_open: usize,
    /// The live entry of each job on `running`, at the same position: taking a job off the list
    /// updates the moved job's position without reading its record.
    pub(crate) running_lives: Vec<u32>,
    pub(crate) requeued: Vec<JobId>,
    pub(crate) transitions: Vec<(JobId, Transition)>,
    /// Entries of the jobs in the system; `free_lives` lists the unused ones.
    pub(crate) lives: Vec<Live>,
    pub(crate) free_lives: Vec<u32>,
    /// Resources were released since the last pass (completion, preemption, node back).
    pub(crate) freed: bool,
    /// Decisions that started, stopped or rejected a job. Admissions and reasons change no job's
    /// state in the cluster, so a policy that only makes those is not getting anywhere.
    pub(crate) moves: u64,
    /// The job of the last decision that was not a move, for the livelock message.
    pub(crate) last_other: Option<JobId>,
    /// GPU capacity of failed nodes, integrated over time.
    pub(crate) down: DownClock,
    pub(crate) frag: Option<crate::frag::FragTracker>,
    pub(crate) opts: EngineOptions,
    pub(crate) counters: Counters,
    pub(crate) error: Option<EngineError>,
    pub(crate) policy_label: String,
}

impl State {
    pub(crate) fn live(&self, id: JobId) -> &Live {
        &self.lives[self.runs[id.index()].live as usize]
    }

    pub(crate) fn slots(&self, id: JobId) -> &[PodSlot] {
        match self.runs[id.index()].live {
            NO_LIVE => &[],
            i => &self.lives[i as usize].slots,
        }
    }

    /// A job's record and its live entry, together.
    pub(crate) fn both(&mut self, id: JobId) -> (&mut JobRun, &mut Live) {
        let r = &mut self.runs[id.index()];
        let l = &mut self.lives[r.live as usize];
        (r, l)
    }

    /// Gives a job entering the system its live entry.
    pub(crate) fn open_live(&mut self, id: JobId) {
        let i = match self.free_lives.pop() {
            Some(i) => i,
            None => {
                self.lives.push(Live::default());
                (self.lives.len() - 1) as u32
            }
        };
        self.runs[id.index()].live = i;
        self.lives[i as usize].job = id.0;
    }

    /// A job left the system: its main pending reason is fixed and its entry recycled (keeping
    /// its buffers' capacity).
    pub(crate) fn close_live(&mut self, id: JobId) {
        let r = &mut self.runs[id.index()];
        let i = std::mem::replace(&mut r.live, NO_LIVE);
        let l = &mut self.lives[i as usize];
        r.main_reason = l.main_reason();
        let (mut slots, mut reasons) = (std::mem::take(&mut l.slots), std::mem::take(&mut l.reason_ms));
        slots.clear();
        reasons.clear();
        *l = Live {
            slots,
            reason_ms: reasons,
            ..Live::default()
        };
        self.free_lives.push(i);
    }

    fn fail(&mut self, jobs: &Workload, decision: &'static str, job: JobId, reason: String) -> bool {
        if self.error.is_none() {
            let job = if job.index() < jobs.len() {
                jobs.name(job).to_string()
            } else {
                format!("#{job}")
            };
            self.error = Some(EngineError::InvalidDecision {
                policy: self.policy_label.clone(),
                time: self.now,
                decision,
                job,
                reason,
            });
        }
        false
    }

    /// `tombstones` counts queue entries of jobs that are no longer pending.
    pub(crate) fn leave_pending(&mut self, id: JobId, spec: &JobSpec, tombstones: &mut usize) {
        let now = self.now;
        let (r, l) = self.both(id);
        r.pending_ms += now.since(l.pending_since).millis();
        l.end_admitted_wait(r, now);
        if r.in_queue {
            *tombstones += 1;
        }
        l.clock_reason(now);
        let reason = l.pending_reason;
        if let Some(f) = &mut self.frag {
            f.pending_removed(spec);
        }
        self.recorder
            .pending_changed(spec.team, now, spec.gpu_milli(), false);
        self.recorder.reason_changed(spec.team, now, Some(reason), None);
    }

    pub(crate) fn enter_pending(&mut self, id: JobId, spec: &JobSpec, tombstones: &mut usize) {
        let now = self.now;
        let (r, l) = self.both(id);
        if r.in_queue {
            // Its old queue entry is live again.
            *tombstones -= 1;
        }
        r.status = JobStatus::Pending;
        l.pending_since = now;
        l.pending_reason = 0;
        l.reason_since = now;
        if let Some(f) = &mut self.frag {
            f.pending_added(spec);
        }
        self.recorder
            .pending_changed(spec.team, self.now, spec.gpu_milli(), true);
        self.recorder.reason_changed(spec.team, self.now, None, Some(0));
    }

    pub(crate) fn apply(&mut self, w: &Workload, tombstones: &mut usize, d: Decision<'_>) -> bool {
        if self.error.is_some() {
            return false;
        }
        let kind = d.kind();
        let job = match d {
            Decision::WakeAt(t) => {
                if t <= self.now {
                    self.error = Some(EngineError::InvalidWake {
                        policy: self.policy_label.clone(),
                        time: self.now,
                        reason: format!("wake-up at t={t} is not in the future"),
                    });
                    return false;
                }
                self.queue.push(t, Event::Wake);
                return true;
            }
            Decision::Start { job, .. }
            | Decision::Preempt { job, .. }
            | Decision::Reject { job, .. }
            | Decision::Admit { job }
            | Decision::Unadmit { job }
            | Decision::Reason { job, .. } => job,
        };
        if job.index() >= w.len() {
            return self.fail(w, kind, job, "no such job".into());
        }
        let spec = &w.jobs[job.index()];
        let status = self.runs[job.index()].status;
        if matches!(
            d,
            Decision::Start { .. } | Decision::Preempt { .. } | Decision::Reject { .. }
        ) {
            self.moves += 1;
        } else {
            self.last_other = Some(job);
        }
        match d {
            Decision::Start { slots, .. } => {
                if status != JobStatus::Pending {
                    return self.fail(
                        w,
                        kind,
                        job,
                        format!("the job is {}, not pending", status.as_str()),
                    );
                }
                if slots.len() != spec.pods as usize {
                    return self.fail(
                        w,
                        kind,
                        job,
                        format!(
                            "the job has {} pods but {} slots were given",
                            spec.pods,
                            slots.len()
                        ),
                    );
                }
                for (i, &slot) in slots.iter().enumerate() {
                    if let Err(why) = self.cluster.take(&spec.pod, slot, spec.models) {
                        for &s in &slots[..i] {
                            self.cluster.give_back(&spec.pod, s);
                        }
                        return self.fail(w, kind, job, format!("pod {i}: {why}"));
                    }
                    let pool = self.cluster.node(slot.node).pool;
                    if !self.cluster.selects(spec.selector, pool) {
                        for &s in &slots[..=i] {
                            self.cluster.give_back(&spec.pod, s);
                        }
                        let why = format!(
                            "pod {i}: node {} of pool {} does not carry the labels of node selector {}",
                            slot.node.0,
                            self.cluster.pools()[pool.index()].name,
                            spec.selector
                                .and_then(|s| w.selectors.get(s.index()))
                                .map(ToString::to_string)
                                .unwrap_or_default()
                        );
                        return self.fail(w, kind, job, why);
                    }
                }
                let speed = slots
                    .iter()
                    .map(|s| {
                        let pool = self.cluster.node_pool(s.node);
                        spec.class
                            .and_then(|c| {
                                self.opts
                                    .class_speed
                                    .iter()
                                    .find(|x| x.class == c && Some(x.model) == pool.model)
                            })
                            .map_or(pool.speed_permille, |x| x.speed_permille)
                    })
                    .min()
                    .unwrap_or(crate::cluster::REFERENCE_SPEED);
                let now = self.now;
                let overhead = if self.runs[job.index()].preemptions > 0 {
                    self.opts.costs(spec.class).1.millis()
                } else {
                    0
                };
                // Work and overhead are at most MAX_MILLIS and the speed at least 1 per-mille, so
                // the run time fits in u64; only the finish instant can pass the end of time,
                // and the last instant is taken as none by the records.
                let remaining = spec.work.millis() - self.runs[job.index()].work_done;
                let run = overhead + (remaining * 1000).div_ceil(u64::from(speed));
                // An open-ended job never finishes: no completion is scheduled.
                let finish = now.checked_add(SimDuration(run)).filter(|&t| t < SimTime::MAX);
                if finish.is_none() && !spec.open_ended {
                    for &s in slots {
                        self.cluster.give_back(&spec.pod, s);
                    }
                    self.error = Some(EngineError::TimeOverflow {
                        time: now,
                        what: format!(
                            "job '{}' would run for {} and finish past it",
                            w.name(job),
                            SimDuration(run)
                        ),
                    });
                    return false;
                }
                if let Some(f) = &mut self.frag {
                    for s in slots {
                        f.node_changed(s.node);
                    }
                }
                self.leave_pending(job, spec, tombstones);
                if overhead > 0 {
                    self.recorder
                        .overhead(spec.team, u128::from(overhead) * u128::from(spec.gpu_milli()));
                }
                let cluster = &self.cluster;
                self.placed.record(
                    job.index(),
                    slots.iter().map(|s| {
                        let pool = cluster.node(s.node).pool;
                        let first = cluster.pools()[pool.index()].nodes.start;
                        (pool.0, s.node.0 - first)
                    }),
                );
                let running_pos = self.running.len() as u32;
                let live = self.runs[job.index()].live;
                let (r, l) = self.both(job);
                r.status = JobStatus::Running;
                r.first_start.set_once(now);
                r.last_start.set(now);
                l.epoch += 1;
                l.speed_permille = speed;
                l.overhead_ms = overhead;
                l.slots.extend_from_slice(slots);
                l.running_pos = running_pos;
                let epoch = l.epoch;
                if let Some(finish) = finish.filter(|_| !spec.open_ended) {
                    self.queue.push(finish, Event::Finish { job, live, epoch });
                } else {
                    self.running_open += 1;
                }
                self.running.push(job);
                self.running_lives.push(live);
                self.recorder
                    .running_changed(spec.team, now, spec.gpu_milli(), spec.gpu_util, true);
                for s in slots {
                    let pool = self.cluster.node(s.node).pool.index();
                    self.recorder
                        .pool_changed(pool, now, u64::from(spec.pod.gpu_milli), true);
                }
                self.counters.starts += 1;
                self.transitions.push((job, Transition::Started));
                true
            }
            Decision::Preempt { reason, by, .. } => {
                if by.is_some_and(|b| b.index() >= w.len()) {
                    return self.fail(w, kind, job, "the preempting job does not exist".into());
                }
                if status != JobStatus::Running {
                    return self.fail(
                        w,
                        kind,
                        job,
                        format!("the job is {}, not running", status.as_str()),
                    );
                }
                self.preempt(w, job, reason, by, tombstones);
                true
            }
            Decision::Reject { reason, .. } => {
                if status != JobStatus::Pending {
                    return self.fail(
                        w,
                        kind,
                        job,
                        format!("the job is {}, not pending", status.as_str()),
                    );
                }
                if reason.trim().is_empty() {
                    return self.fail(w, kind, job, "a rejection needs a reason".into());
                }
                self.leave_pending(job, spec, tombstones);
                self.close_live(job);
                let r = &mut self.runs[job.index()];
                r.status = JobStatus::Unschedulable;
                r.end.set(self.now);
                r.reason = Some(format!("rejected by {}: {reason}", self.policy_label).into());
                self.counters.rejections += 1;
                self.transitions.push((job, Transition::Unschedulable));
                true
            }
            Decision::Admit { .. } | Decision::Unadmit { .. } | Decision::Reason { .. }
                if status != JobStatus::Pending =>
            {
                self.fail(
                    w,
                    kind,
                    job,
                    format!("the job is {}, not pending", status.as_str()),
                )
            }
            Decision::Admit { .. } => {
                let now = self.now;
                let (r, l) = self.both(job);
                l.admitted_since.get_or_insert(now);
                r.first_admitted.set_once(now);
                true
            }
            Decision::Unadmit { .. } => {
                let now = self.now;
                let (r, l) = self.both(job);
                l.end_admitted_wait(r, now);
                true
            }
            Decision::Reason { reason, .. } => {
                let id = self.recorder.intern_reason(reason);
                let old = self.live(job).pending_reason;
                if id != old {
                    self.recorder
                        .reason_changed(spec.team, self.now, Some(old), Some(id));
                    let now = self.now;
                    let (_, l) = self.both(job);
                    l.clock_reason(now);
                    l.pending_reason = id;
                }
                true
            }
            Decision::WakeAt(_) => unreachable!("handled above"),
        }
    }

    /// Stops a running job: keeps work up to the last checkpoint, frees its pods, requeues it.
    pub(crate) fn preempt(
        &mut self,
        w: &Workload,
        job: JobId,
        reason: &str,
        by: Option<JobId>,
        tombstones: &mut usize,
    ) {
        let spec = &w.jobs[job.index()];
        let now = self.now;
        self.stop_running(spec, job);
        let checkpoint = self.opts.costs(spec.class).0;
        let (r, l) = self.both(job);
        let elapsed = now
            .since(r.last_start().expect("running jobs have started"))
            .millis();
        let effective = elapsed.saturating_sub(l.overhead_ms);
        let progress = effective * u64::from(l.speed_permille) / 1000;
        let remaining = spec.work.millis() - r.work_done;
        let saved = match checkpoint {
            Some(c) if c.millis() > 0 => (progress - progress % c.millis()).min(remaining.saturating_sub(1)),
            _ => 0,
        };
        r.work_done += saved;
        let useful_wall = (saved * 1000).div_ceil(u64::from(l.speed_permille));
        let lost_wall = elapsed.saturating_sub(useful_wall);
        r.preemptions += 1;
        l.epoch += 1;
        let times = r.preemptions;
        r.reason = Some(reason.into());
        let reason = self.recorder.intern_reason(reason);
        self.recorder.log_preemption(crate::recorder::PreemptionRecord {
            time: now,
            job,
            by,
            reason,
        });
        self.recorder
            .work_lost(spec.team, u128::from(lost_wall) * u128::from(spec.gpu_milli()));
        if times
            >= self
                .opts
                .max_preemptions_per_job
                .unwrap_or(MAX_PREEMPTIONS_PER_JOB)
            && self.error.is_none()
        {
            let reason = self.recorder.reasons()[reason as usize].as_str();
            // A policy may name the job itself when no other job asked for the preemption.
            let last = match by {
                Some(b) if b != job => format!("for job '{}' ({reason})", w.name(b)),
                _ => format!("({reason})"),
            };
            self.error = Some(EngineError::Thrashing {
                policy: self.policy_label.clone(),
                time: now,
                job: w.name(job).to_string(),
                times,
                last,
            });
        }
        self.enter_pending(job, spec, tombstones);
        self.requeued.push(job);
        self.counters.preemptions += 1;
        self.transitions.push((job, Transition::Preempted));
    }

    /// Frees a running job's pods and takes it off the running list.
    pub(crate) fn stop_running(&mut self, spec: &JobSpec, job: JobId) {
        let now = self.now;
        if spec.open_ended {
            self.running_open -= 1;
        }
        let (r, l) = self.both(job);
        r.run_ms += now
            .since(r.last_start().expect("running jobs have started"))
            .millis();
        let mut slots = std::mem::take(&mut l.slots);
        for &s in &slots {
            self.cluster.give_back(&spec.pod, s);
            let pool = self.cluster.node(s.node).pool.index();
            self.recorder
                .pool_changed(pool, now, u64::from(spec.pod.gpu_milli), false);
            if let Some(f) = &mut self.frag {
                f.node_changed(s.node);
            }
        }
        slots.clear();
        let (_, l) = self.both(job);
        l.slots = slots;
        let pos = l.running_pos as usize;
        l.running_pos = u32::MAX;
        self.running.swap_remove(pos);
        self.running_lives.swap_remove(pos);
        if let Some(&moved) = self.running_lives.get(pos) {
            self.lives[moved as usize].running_pos = pos as u32;
        }
        self.recorder
            .running_changed(spec.team, self.now, spec.gpu_milli(), spec.gpu_util, false);
        self.freed = true;
    }
}

/// Integrates the GPU capacity of nodes that are down.
#[derive(Debug, Default)]
pub(crate) struct DownClock {
    pub(crate) gpu_milli: u64,
    pub(crate) since: SimTime,
    pub(crate) gpu_milli_ms: u128,
}

impl DownClock {
    pub(crate) fn change(&mut self, now: SimTime, gpu_milli: u64, down: bool) {
        self.advance(now);
        if down {
            self.gpu_milli += gpu_milli;
        } else {
            self.gpu_milli -= gpu_milli;
        }
    }
    pub(crate) fn advance(&mut self, now: SimTime) {
        self.gpu_milli_ms += u128::from(self.gpu_milli) * u128::from(now.since(self.since).millis());
        self.since = now;
    }
}
