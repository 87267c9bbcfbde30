//! The run loop: pop every event at the current instant, apply them, admit arrivals, run one
//! scheduling pass, then advance time.

use crate::cluster::{Allowed, Cluster, PodSlot};
use crate::event::{Event, EventQueue};
use crate::ids::{JobId, NodeId, TeamId};
use crate::job::{JobSpec, Workload};
use crate::policy::{Decision, JobStatus, Placement, Policy, Transition};
use crate::recorder::{Recorder, SeriesPoint, Usage};
use crate::time::{OptTime, SimDuration, SimTime};
use smallvec::SmallVec;
use std::fmt;

/// How the engine treats time limits and preemption.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineOptions {
    /// Stop at this instant; jobs still pending or running then are reported as such.
    pub horizon: Option<SimTime>,
    /// A preempted job keeps the work done up to its last checkpoint, taken every this much work
    /// (reference-GPU time). `None`: a preempted job restarts from scratch.
    pub checkpoint_every: Option<SimDuration>,
    /// Extra run time every restart after a preemption costs (loading the checkpoint, warm-up).
    pub restart_overhead: SimDuration,
    /// Per job class, a checkpoint interval and restart overhead that replace the two above.
    pub class_costs: Vec<ClassCost>,
    /// Per job class and GPU model, the speed (per-mille of the reference GPU) that replaces the
    /// pool's speed: the same job runs faster on some models than others.
    pub class_speed: Vec<ClassSpeed>,
    /// Recompute every node's allocation from the running jobs after every pass and fail on any
    /// disagreement. Costs O(nodes + jobs) per pass: for tests.
    pub audit: bool,
    /// Record fragmentation (idle GPU capacity no pending pod shape can use) in the cluster time
    /// series. Costs O(GPUs + shapes) per node touched in a pass, O(nodes) when the set of
    /// pending shapes changes.
    pub track_fragmentation: bool,
    /// Stop the run with [`EngineError::Thrashing`] when one job has been preempted this many
    /// times (`None`: [`MAX_PREEMPTIONS_PER_JOB`]): a policy that keeps evicting the same jobs
    /// never lets the run end.
    pub max_preemptions_per_job: Option<u32>,
}

/// The default of `EngineOptions::max_preemptions_per_job`.
pub const MAX_PREEMPTIONS_PER_JOB: u32 = 10_000;

/// The preemption cost of one job class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassCost {
    /// Index into `Workload::job_classes`.
    pub class: u32,
    pub checkpoint_every: Option<SimDuration>,
    pub restart_overhead: SimDuration,
}

/// How fast one job class runs on one GPU model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassSpeed {
    /// Index into `Workload::job_classes`.
    pub class: u32,
    pub model: crate::ids::ModelId,
    pub speed_permille: u32,
}

impl EngineOptions {
    fn costs(&self, class: Option<u32>) -> (Option<SimDuration>, SimDuration) {
        match class.and_then(|c| self.class_costs.iter().find(|x| x.class == c)) {
            Some(c) => (c.checkpoint_every, c.restart_overhead),
            None => (self.checkpoint_every, self.restart_overhead),
        }
    }
}

/// A job's execution record, kept current by the engine and returned in the outcome (96 bytes:
/// what a job needs only while it is pending or running lives in a [`Live`] entry instead).
#[derive(Clone, Debug)]
pub struct JobRun {
    pub status: JobStatus,
    /// Whether the pending queue holds an entry for the job (possibly a dead one).
    in_queue: bool,
    /// The reason the job spent the most pending time under, fixed when it left the system.
    main_reason: u16,
    pub preemptions: u32,
    first_start: OptTime,
    /// Start of the current (or last) run.
    last_start: OptTime,
    /// When the job finished, was abandoned or was found unschedulable.
    end: OptTime,
    /// When a quota system first admitted the job (see `Decision::Admit`).
    first_admitted: OptTime,
    /// Work done, in reference-GPU milliseconds (saved at checkpoints while running).
    pub work_done: u64,
    /// Total time spent pending, including after preemptions (up to now for a pending job).
    pub pending_ms: u64,
    /// Time spent pending while admitted: waiting for nodes rather than for quota.
    pub admitted_wait_ms: u64,
    /// Time spent running, over all runs so far (up to the last stop for a running job).
    pub run_ms: u64,
    pub reason: Option<Box<str>>,
    /// Index of the job's [`Live`] entry while it is pending or running.
    live: u32,
}

/// No live entry.
const NO_LIVE: u32 = u32::MAX;

impl JobRun {
    fn new() -> Self {
        JobRun {
            status: JobStatus::Future,
            in_queue: false,
            main_reason: 0,
            preemptions: 0,
            first_start: OptTime::NONE,
            last_start: OptTime::NONE,
            end: OptTime::NONE,
            first_admitted: OptTime::NONE,
            work_done: 0,
            pending_ms: 0,
            admitted_wait_ms: 0,
            run_ms: 0,
            reason: None,
            live: NO_LIVE,
        }
    }
    /// When the job first started.
    pub fn first_start(&self) -> Option<SimTime> {
        self.first_start.get()
    }
    /// Start of the current (or last) run.
    pub fn last_start(&self) -> Option<SimTime> {
        self.last_start.get()
    }
    /// When the job finished, was abandoned or was found unschedulable.
    pub fn end(&self) -> Option<SimTime> {
        self.end.get()
    }
    /// When a quota system first admitted the job (see `Decision::Admit`).
    pub fn first_admitted(&self) -> Option<SimTime> {
        self.first_admitted.get()
    }
    /// The reason the job spent the most pending time under (an index into the outcome's
    /// `reasons`; 0 when the policy gave none). Ties go to the reason given first.
    pub fn main_wait_reason(&self) -> u16 {
        self.main_reason
    }
}

/// What a job needs only while it is in the system (pending or running). Entries are recycled,
/// so a run holds as many as jobs are ever in the system at once, not one per job of the trace.
#[derive(Clone, Debug)]
struct Live {
    /// The job holding the entry (`NO_JOB` while the entry is free), so that a completion
    /// event can be checked against its entry without reading the job's record.
    job: u32,
    admitted_since: Option<SimTime>,
    /// The current pending reason: 0 is none.
    pending_reason: u16,
    reason_since: SimTime,
    /// Pending time per reason the policy gave (reason index, ms).
    reason_ms: Vec<(u16, u64)>,
    /// Identifies the current run: a completion event of an older run is stale.
    epoch: u32,
    /// Since when a pending job has been waiting (its submit time, or its last preemption).
    pending_since: SimTime,
    /// Speed of the current run, per-mille of the reference GPU.
    speed_permille: u32,
    overhead_ms: u64,
    /// Position on the engine's running list.
    running_pos: u32,
    /// Where the pods of a running job are: a one-pod job's slot is held in the entry itself,
    /// which saves following a pointer when the job stops.
    slots: SmallVec<[PodSlot; 1]>,
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
    fn end_admitted_wait(&mut self, r: &mut JobRun, now: SimTime) {
        if let Some(a) = self.admitted_since.take() {
            r.admitted_wait_ms += now.since(a).millis();
        }
    }
    /// Adds the time since the last change to the current reason's total.
    fn clock_reason(&mut self, now: SimTime) {
        if self.pending_reason != 0 {
            let ms = now.since(self.reason_since).millis();
            match self.reason_ms.iter_mut().find(|(r, _)| *r == self.pending_reason) {
                Some(e) => e.1 += ms,
                None => self.reason_ms.push((self.pending_reason, ms)),
            }
        }
        self.reason_since = now;
    }
    fn main_reason(&self) -> u16 {
        let mut best = (0u64, 0u16);
        for &(r, ms) in &self.reason_ms {
            if ms > best.0 {
                best = (ms, r);
            }
        }
        best.1
    }
}

/// How many things the engine did, for throughput figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events applied: arrivals, completions, abandonments, wake-ups, node changes.
    pub events: u64,
    pub arrivals: u64,
    pub completions: u64,
    /// Completions of runs that had been preempted meanwhile, ignored.
    pub stale: u64,
    pub abandonments: u64,
    pub wakes: u64,
    pub node_events: u64,
    /// Nodes that failed.
    pub node_failures: u64,
    /// Scheduling passes (one per instant at which something happened).
    pub passes: u64,
    pub starts: u64,
    pub preemptions: u64,
    pub rejections: u64,
    pub unschedulable: u64,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub policy: String,
    pub placement: String,
    /// One record per job of the workload, indexed by `JobId`.
    pub jobs: Vec<JobRun>,
    pub teams: Vec<Usage>,
    pub total: Usage,
    /// The policy's queues and entitlements (`Policy::queues`).
    pub queues: crate::policy::QueueReport,
    /// Allocation per pool, in the cluster's pool order.
    pub pools: Vec<PoolUsage>,
    pub series: Vec<SeriesPoint>,
    /// The first submit time (the start of the observed span).
    pub start: SimTime,
    /// The instant the run stopped: the last event, or the horizon.
    pub end: SimTime,
    pub capacity_gpu_milli: u64,
    pub counters: Counters,
    /// The policy's own figures (`Policy::stats`).
    pub policy_stats: Vec<(String, f64)>,
    /// Whether the cluster series carries fragmentation (`EngineOptions::track_fragmentation`).
    pub fragmentation_tracked: bool,
    /// GPU capacity lost to failed nodes, integrated over the run (milli-GPU x ms).
    pub down_gpu_milli_ms: u128,
    /// Pending reasons the policy gave; index 0 is the empty reason (none given).
    pub reasons: Vec<String>,
    /// Pending time per team and reason, in job x ms (indexed `[team][reason]`).
    pub pending_by_reason: Vec<Vec<u128>>,
    /// Every preemption, in order, with the policy's reason (an index into `reasons`).
    pub preemption_log: Vec<crate::recorder::PreemptionRecord>,
}

/// How much of one pool was allocated over a run.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolUsage {
    pub name: String,
    /// The pool's GPU model, if it names one.
    pub model: Option<String>,
    pub capacity_gpu_milli: u64,
    /// Integral of the pool's allocated GPUs, milli-GPU x ms.
    pub gpu_milli_ms: u128,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error("policy {policy} made an invalid decision at t={time}: {decision} job '{job}': {reason}")]
    InvalidDecision {
        policy: String,
        time: SimTime,
        decision: &'static str,
        job: String,
        reason: String,
    },
    #[error("policy {policy} made an invalid decision at t={time}: {reason}")]
    InvalidWake {
        policy: String,
        time: SimTime,
        reason: String,
    },
    #[error("the workload's GPU models are not bound to the cluster's (call Workload::bind_models first)")]
    ModelsNotBound,
    #[error("the workload has {jobs} jobs but {teams} teams are referenced beyond its team table")]
    BadTeam { jobs: usize, teams: usize },
    #[error("policy {policy}: {reason}")]
    PolicySetup { policy: String, reason: String },
    #[error("policy {policy} keeps waking at t={time} with nothing running and no decision")]
    Livelock { policy: String, time: SimTime },
    #[error("engine audit failed at t={time}: {what}")]
    Audit { time: SimTime, what: String },
    #[error(
        "policy {policy} has preempted job '{job}' {times} times by t={time}, the last time {last}: the run is thrashing and would not end (raise [engine] max_preemptions_per_job if this many is intended)"
    )]
    Thrashing {
        policy: String,
        time: SimTime,
        job: String,
        times: u32,
        /// The last preemption, for whom and why: where to look for the cause.
        last: String,
    },
}

/// Mutable state of a run, apart from the queue of pending jobs.
struct State {
    now: SimTime,
    runs: Vec<JobRun>,
    cluster: Cluster,
    queue: EventQueue,
    recorder: Recorder,
    running: Vec<JobId>,
    /// The live entry of each job on `running`, at the same position: taking a job off the list
    /// updates the moved job's position without reading its record.
    running_lives: Vec<u32>,
    requeued: Vec<JobId>,
    transitions: Vec<(JobId, Transition)>,
    /// Entries of the jobs in the system; `free_lives` lists the unused ones.
    lives: Vec<Live>,
    free_lives: Vec<u32>,
    /// Resources were released since the last pass (completion, preemption, node back).
    freed: bool,
    decisions: u64,
    /// GPU capacity of failed nodes, integrated over time.
    down: DownClock,
    frag: Option<crate::frag::FragTracker>,
    opts: EngineOptions,
    counters: Counters,
    error: Option<EngineError>,
    policy_label: String,
}

impl State {
    fn live(&self, id: JobId) -> &Live {
        &self.lives[self.runs[id.index()].live as usize]
    }

    fn slots(&self, id: JobId) -> &[PodSlot] {
        match self.runs[id.index()].live {
            NO_LIVE => &[],
            i => &self.lives[i as usize].slots,
        }
    }

    /// A job's record and its live entry, together.
    fn both(&mut self, id: JobId) -> (&mut JobRun, &mut Live) {
        let r = &mut self.runs[id.index()];
        let l = &mut self.lives[r.live as usize];
        (r, l)
    }

    /// Gives a job entering the system its live entry.
    fn open_live(&mut self, id: JobId) {
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
    fn close_live(&mut self, id: JobId) {
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
    fn leave_pending(&mut self, id: JobId, spec: &JobSpec, tombstones: &mut usize) {
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

    fn enter_pending(&mut self, id: JobId, spec: &JobSpec, tombstones: &mut usize) {
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

    fn apply(&mut self, w: &Workload, tombstones: &mut usize, d: Decision<'_>) -> bool {
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
        self.decisions += 1;
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
                }
                if let Some(f) = &mut self.frag {
                    for s in slots {
                        f.node_changed(s.node);
                    }
                }
                self.leave_pending(job, spec, tombstones);
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
                if overhead > 0 {
                    self.recorder
                        .overhead(spec.team, u128::from(overhead) * u128::from(spec.gpu_milli()));
                }
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
                let remaining = spec.work.millis() - r.work_done;
                let run = overhead + (remaining * 1000).div_ceil(u64::from(speed));
                self.queue
                    .push(now + SimDuration(run), Event::Finish { job, live, epoch });
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
    fn preempt(&mut self, w: &Workload, job: JobId, reason: &str, by: Option<JobId>, tombstones: &mut usize) {
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
    fn stop_running(&mut self, spec: &JobSpec, job: JobId) {
        let now = self.now;
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

/// The preemption reason of runs interrupted by a node failure.
pub const NODE_FAILURE: &str = "node failure";

/// Integrates the GPU capacity of nodes that are down.
#[derive(Debug, Default)]
struct DownClock {
    gpu_milli: u64,
    since: SimTime,
    gpu_milli_ms: u128,
}

impl DownClock {
    fn change(&mut self, now: SimTime, gpu_milli: u64, down: bool) {
        self.advance(now);
        if down {
            self.gpu_milli += gpu_milli;
        } else {
            self.gpu_milli -= gpu_milli;
        }
    }
    fn advance(&mut self, now: SimTime) {
        self.gpu_milli_ms += u128::from(self.gpu_milli) * u128::from(now.since(self.since).millis());
        self.since = now;
    }
}

/// Jobs waiting to start, in submit order (job id order). Entries of jobs that left the queue are
/// dropped lazily: from the front before each pass, and all at once when half are dead, so that
/// the queue's head is found in constant time however long the queue grows.
#[derive(Debug, Default)]
struct PendingQueue {
    ids: Vec<JobId>,
    /// Entries before `start` are dead and ignored.
    start: usize,
    /// Dead entries at or after `start`.
    tombstones: usize,
}

impl PendingQueue {
    fn live(&self) -> &[JobId] {
        &self.ids[self.start..]
    }

    /// Drops dead entries from the front, and compacts when half the entries are dead.
    fn tidy(&mut self, runs: &mut [JobRun]) {
        while let Some(&id) = self.ids.get(self.start) {
            if runs[id.index()].status == JobStatus::Pending {
                break;
            }
            runs[id.index()].in_queue = false;
            self.start += 1;
            self.tombstones -= 1;
        }
        if self.start * 2 > self.ids.len() || self.tombstones * 2 > self.ids.len() - self.start {
            self.ids.drain(..self.start);
            self.start = 0;
            self.ids.retain(|id| {
                let keep = runs[id.index()].status == JobStatus::Pending;
                runs[id.index()].in_queue = keep;
                keep
            });
            self.tombstones = 0;
        }
    }

    /// Puts a preempted job back at its submit-order position, unless its old entry is still
    /// in the queue (then it is live again already).
    fn requeue(&mut self, job: JobId, r: &mut JobRun) {
        if r.in_queue {
            return;
        }
        let pos = self.start + self.ids[self.start..].partition_point(|&x| x < job);
        if pos == self.start && self.start > 0 {
            // Every entry before `start` is dead: reuse the last one.
            self.start -= 1;
            self.ids[self.start] = job;
        } else {
            self.ids.insert(pos, job);
        }
        r.in_queue = true;
    }
}

/// The simulation of one workload on one cluster under one policy.
pub struct Simulation<'w> {
    workload: &'w Workload,
    st: State,
    pending: PendingQueue,
    arrived: Vec<JobId>,
    next_arrival: usize,
    policy: Box<dyn Policy>,
    placement: Box<dyn Placement>,
    scratch: Vec<PodSlot>,
    idle_wakes: u32,
    start: SimTime,
    done: bool,
    /// Where series points go as the run makes them (`None`: kept in the outcome).
    series_sink: Option<&'w mut dyn crate::recorder::SeriesSink>,
}

/// Consecutive idle wake-ups (nothing running, nothing arriving, no decision) taken as a livelock.
const LIVELOCK_WAKES: u32 = 100_000;

impl<'w> Simulation<'w> {
    /// Prepares a run. The workload's GPU models must be bound to the cluster's.
    pub fn new(
        workload: &'w Workload,
        cluster: Cluster,
        policy: Box<dyn Policy>,
        placement: Box<dyn Placement>,
        opts: EngineOptions,
    ) -> Result<Self, EngineError> {
        if workload.jobs.iter().any(|j| !j.models.is_any()) && workload.models.as_slice() != cluster.models()
        {
            return Err(EngineError::ModelsNotBound);
        }
        if workload
            .jobs
            .iter()
            .any(|j| j.team.index() >= workload.teams.len())
        {
            return Err(EngineError::BadTeam {
                jobs: workload.len(),
                teams: workload.teams.len(),
            });
        }
        let start = workload.jobs.first().map_or(SimTime::ZERO, |j| j.submit);
        let npools = cluster.pools().len();
        let mut policy = policy;
        let policy_label = policy.label();
        policy
            .prepare(workload, &cluster)
            .map_err(|reason| EngineError::PolicySetup {
                policy: policy_label.clone(),
                reason,
            })?;
        let frag = opts
            .track_fragmentation
            .then(|| crate::frag::FragTracker::new(cluster.node_count()));
        Ok(Simulation {
            workload,
            st: State {
                frag,
                now: start,
                runs: vec![JobRun::new(); workload.len()],
                cluster,
                queue: EventQueue::default(),
                recorder: Recorder::new(workload.teams.len(), npools, start),
                running: Vec::new(),
                running_lives: Vec::new(),
                requeued: Vec::new(),
                transitions: Vec::new(),
                lives: Vec::new(),
                free_lives: Vec::new(),
                freed: false,
                decisions: 0,
                down: DownClock {
                    since: start,
                    ..DownClock::default()
                },
                opts,
                counters: Counters::default(),
                error: None,
                policy_label,
            },
            pending: PendingQueue::default(),
            arrived: Vec::new(),
            next_arrival: 0,
            policy,
            placement,
            scratch: Vec::new(),
            idle_wakes: 0,
            start,
            done: false,
            series_sink: None,
        })
    }

    /// Streams the time series to `sink` as the run makes it, in chunks of at most
    /// [`SERIES_CHUNK`](crate::recorder::SERIES_CHUNK) points; the outcome's `series` is then
    /// empty.
    pub fn stream_series(&mut self, sink: &'w mut dyn crate::recorder::SeriesSink) {
        self.series_sink = Some(sink);
    }

    /// Takes `node` down at `down` (its pods are evicted) and, if given, back up at `up`. Meant
    /// for before the run: once it is under way, a time before the current instant is taken as
    /// the current instant (a run never goes back in time).
    pub fn add_outage(&mut self, node: NodeId, down: SimTime, up: Option<SimTime>) {
        let floor = if self.st.counters.passes == 0 {
            SimTime::ZERO
        } else {
            self.st.now
        };
        self.st.queue.push(down.max(floor), Event::NodeDown { node });
        if let Some(up) = up {
            self.st.queue.push(up.max(floor), Event::NodeUp { node });
        }
    }

    pub fn now(&self) -> SimTime {
        self.st.now
    }
    pub fn cluster(&self) -> &Cluster {
        &self.st.cluster
    }
    pub fn job(&self, id: JobId) -> &JobRun {
        &self.st.runs[id.index()]
    }
    /// Where the pods of a running job are (empty for a job that is not running).
    pub fn slots(&self, id: JobId) -> &[PodSlot] {
        self.st.slots(id)
    }
    pub fn counters(&self) -> &Counters {
        &self.st.counters
    }
    pub fn team_usage(&self, team: TeamId) -> &Usage {
        self.st.recorder.team(team)
    }

    /// The next instant at which something happens, if any (and if before the horizon).
    pub fn next_time(&self) -> Option<SimTime> {
        let arrival = self.workload.jobs.get(self.next_arrival).map(|j| j.submit);
        let t = match (arrival, self.st.queue.peek_time()) {
            (Some(a), Some(e)) => a.min(e),
            (a, e) => a.or(e)?,
        };
        match self.st.opts.horizon {
            Some(h) if t > h => None,
            _ => Some(t),
        }
    }

    /// Processes one instant: its events, its arrivals, then one scheduling pass.
    /// Returns false when there is nothing left to do (or the horizon is reached).
    pub fn step(&mut self) -> Result<bool, EngineError> {
        if self.done || self.every_job_ended() {
            // Node events after the last job ends change nothing anyone measures.
            return Ok(false);
        }
        let Some(now) = self.next_time() else {
            return Ok(false);
        };
        self.st.now = now;
        let w = self.workload;
        let mut only_wakes = true;

        while let Some(ev) = self.st.queue.pop_at(now) {
            if !matches!(ev, Event::Wake) {
                only_wakes = false;
            }
            self.apply_event(ev);
        }
        self.arrived.clear();
        while let Some(spec) = w.jobs.get(self.next_arrival).filter(|j| j.submit == now) {
            only_wakes = false;
            let id = JobId(self.next_arrival as u32);
            self.next_arrival += 1;
            self.arrive(id, spec);
        }
        self.deliver_transitions();

        // One scheduling pass.
        self.pending.tidy(&mut self.st.runs);
        let decisions_before = self.st.decisions;
        let mut cx = Cycle {
            w,
            st: &mut self.st,
            tombstones: &mut self.pending.tombstones,
            pending: &self.pending.ids[self.pending.start..],
            arrived: &self.arrived,
            placement: self.placement.as_mut(),
            scratch: &mut self.scratch,
        };
        self.policy.schedule(&mut cx);
        self.st.counters.passes += 1;
        self.st.freed = false;
        if let Some(e) = self.st.error.take() {
            self.done = true;
            return Err(e);
        }
        self.merge_requeued();
        self.deliver_transitions();
        if let Some(f) = &mut self.st.frag {
            let v = f.update(&self.st.cluster);
            self.st.recorder.fragmented(now, v);
        }
        self.st.recorder.flush(now);
        if let Some(sink) = &mut self.series_sink
            && self.st.recorder.series().len() >= crate::recorder::SERIES_CHUNK
        {
            self.st.recorder.drain_series(&mut **sink);
        }
        if self.st.opts.audit {
            self.audit()?;
        }

        let idle = only_wakes
            && self.st.decisions == decisions_before
            && self.st.running.is_empty()
            && self.next_arrival == w.len();
        self.idle_wakes = if idle { self.idle_wakes + 1 } else { 0 };
        if self.idle_wakes >= LIVELOCK_WAKES {
            self.done = true;
            return Err(EngineError::Livelock {
                policy: self.st.policy_label.clone(),
                time: now,
            });
        }
        Ok(true)
    }

    /// Steps until the next instant would be after `t` (or nothing is left).
    pub fn run_until(&mut self, t: SimTime) -> Result<(), EngineError> {
        while self.next_time().is_some_and(|n| n <= t) {
            self.step()?;
        }
        Ok(())
    }

    /// Runs to the end and returns what happened.
    pub fn run(mut self) -> Result<Outcome, EngineError> {
        while self.step()? {}
        Ok(self.finish())
    }

    /// Closes the run at the last instant processed (or at the horizon, if one is set and the run
    /// went that far) and returns the outcome.
    pub fn finish(mut self) -> Outcome {
        let end = match self.st.opts.horizon {
            Some(h) if self.has_future_work() => h.max(self.st.now),
            _ => self.st.now,
        };
        self.st.recorder.close(end);
        self.st.down.advance(end);
        let reasons = self.st.recorder.reasons().to_vec();
        // Jobs still in the system: close their clocks at the end, fix their main reason.
        for r in &mut self.st.runs {
            if r.live == NO_LIVE {
                continue;
            }
            let l = &mut self.st.lives[r.live as usize];
            if r.status == JobStatus::Pending {
                r.pending_ms += end.since(l.pending_since).millis();
                l.pending_since = end;
                l.end_admitted_wait(r, end);
                l.clock_reason(end);
                if l.pending_reason != 0 {
                    r.reason = Some(reasons[l.pending_reason as usize].as_str().into());
                }
            }
            r.main_reason = l.main_reason();
        }
        if let Some(sink) = &mut self.series_sink {
            self.st.recorder.drain_series(&mut **sink);
        }
        let parts = self.st.recorder.into_parts();
        let (teams, total, series) = (parts.teams, parts.total, parts.series);
        let pools = (parts.pools.iter().zip(self.st.cluster.pools()))
            .map(|(c, p)| PoolUsage {
                name: p.name.clone(),
                model: p.model.map(|m| self.st.cluster.models()[m.0 as usize].clone()),
                capacity_gpu_milli: u64::from(p.nodes.end - p.nodes.start)
                    * u64::from(p.gpus_per_node)
                    * u64::from(crate::resources::GPU_MILLI),
                gpu_milli_ms: c.gpu_milli_ms,
            })
            .collect();
        Outcome {
            policy: self.st.policy_label,
            placement: self.placement.label(),
            capacity_gpu_milli: self.st.cluster.capacity_gpu_milli(),
            jobs: self.st.runs,
            teams,
            total,
            pools,
            series,
            start: self.start,
            end,
            counters: self.st.counters,
            policy_stats: self.policy.stats(),
            queues: self
                .policy
                .queues(self.workload)
                .unwrap_or_else(|| crate::policy::QueueReport::equal(self.workload)),
            fragmentation_tracked: self.st.frag.is_some(),
            down_gpu_milli_ms: self.st.down.gpu_milli_ms,
            reasons: parts.reasons,
            pending_by_reason: parts.pending_by_reason,
            preemption_log: parts.preemptions,
        }
    }

    /// Every job has arrived and none is pending or running.
    fn every_job_ended(&self) -> bool {
        self.next_arrival == self.workload.len()
            && self.st.running.is_empty()
            && self.pending.live().len() == self.pending.tombstones
    }

    fn has_future_work(&self) -> bool {
        self.next_arrival < self.workload.len() || !self.st.queue.is_empty()
    }

    fn arrive(&mut self, id: JobId, spec: &JobSpec) {
        self.placement.observe_arrival(spec);
        let st = &mut self.st;
        st.counters.events += 1;
        st.counters.arrivals += 1;
        st.transitions.push((id, Transition::Submitted));
        if let Err(why) = st
            .cluster
            .check_fits_ever(&spec.pod, spec.pods, spec.models, spec.kind)
        {
            let r = &mut st.runs[id.index()];
            r.status = JobStatus::Unschedulable;
            r.end.set(st.now);
            r.reason = Some(why.to_string().into());
            st.counters.unschedulable += 1;
            st.transitions.push((id, Transition::Unschedulable));
            return;
        }
        st.open_live(id);
        st.enter_pending(id, spec, &mut self.pending.tombstones);
        self.pending.ids.push(id);
        st.runs[id.index()].in_queue = true;
        self.arrived.push(id);
        if let Some(p) = spec.patience.get() {
            st.queue.push(spec.submit + p, Event::Abandon { job: id });
        }
    }

    fn apply_event(&mut self, ev: Event) {
        let w = self.workload;
        let st = &mut self.st;
        match ev {
            Event::Finish { job, live, epoch } => {
                // A run's entry holds its job and epoch for as long as it runs: any other
                // pairing means the run was preempted (or the job has left).
                let l = st.lives.get(live as usize);
                if l.is_none_or(|l| l.job != job.0 || l.epoch != epoch) {
                    st.counters.stale += 1;
                    return;
                }
                st.counters.events += 1;
                st.counters.completions += 1;
                let spec = &w.jobs[job.index()];
                st.stop_running(spec, job);
                st.close_live(job);
                let r = &mut st.runs[job.index()];
                r.status = JobStatus::Finished;
                r.work_done = spec.work.millis();
                r.end.set(st.now);
                st.transitions.push((job, Transition::Finished));
            }
            Event::Abandon { job } => {
                let r = &st.runs[job.index()];
                if r.status != JobStatus::Pending || r.first_start().is_some() {
                    return;
                }
                st.counters.events += 1;
                st.counters.abandonments += 1;
                let spec = &w.jobs[job.index()];
                st.leave_pending(job, spec, &mut self.pending.tombstones);
                st.close_live(job);
                let r = &mut st.runs[job.index()];
                r.status = JobStatus::Abandoned;
                r.end.set(st.now);
                r.reason = Some("gave up waiting before it started".into());
                st.transitions.push((job, Transition::Abandoned));
            }
            Event::Wake => {
                st.counters.events += 1;
                st.counters.wakes += 1;
            }
            Event::NodeDown { node } => {
                st.counters.events += 1;
                st.counters.node_events += 1;
                if node.index() >= st.cluster.node_count() || !st.cluster.is_up(node) {
                    return;
                }
                st.cluster.set_up(node, false);
                if let Some(f) = &mut st.frag {
                    f.node_changed(node);
                }
                st.down.change(st.now, st.cluster.node_gpu_milli(node), true);
                st.counters.node_failures += 1;
                let victims: Vec<JobId> = st
                    .running
                    .iter()
                    .copied()
                    .filter(|&j| st.live(j).slots.iter().any(|s| s.node == node))
                    .collect();
                for j in victims {
                    st.preempt(w, j, NODE_FAILURE, None, &mut self.pending.tombstones);
                }
            }
            Event::NodeUp { node } => {
                st.counters.events += 1;
                st.counters.node_events += 1;
                if node.index() < st.cluster.node_count() && !st.cluster.is_up(node) {
                    st.cluster.set_up(node, true);
                    if let Some(f) = &mut st.frag {
                        f.node_changed(node);
                    }
                    st.down.change(st.now, st.cluster.node_gpu_milli(node), false);
                    st.freed = true;
                }
            }
        }
    }

    /// Puts jobs preempted during the pass back into the queue at their submit-order position.
    fn merge_requeued(&mut self) {
        let mut requeued = std::mem::take(&mut self.st.requeued);
        for &job in &requeued {
            let r = &mut self.st.runs[job.index()];
            if r.status == JobStatus::Pending {
                self.pending.requeue(job, r);
            }
        }
        requeued.clear();
        self.st.requeued = requeued;
    }

    fn deliver_transitions(&mut self) {
        let now = self.st.now;
        for &(job, what) in &self.st.transitions {
            self.policy
                .observe(job, &self.workload.jobs[job.index()], what, now);
        }
        self.st.transitions.clear();
    }

    /// Recomputes allocations from the running jobs and compares with the cluster's counters.
    fn audit(&self) -> Result<(), EngineError> {
        let st = &self.st;
        let fail = |what: String| Err(EngineError::Audit { time: st.now, what });
        if let Some(f) = &st.frag {
            let pending: Vec<&JobSpec> = self
                .pending
                .live()
                .iter()
                .filter(|j| st.runs[j.index()].status == JobStatus::Pending)
                .map(|j| &self.workload.jobs[j.index()])
                .collect();
            if let Err(what) = f.check(&st.cluster, &pending) {
                return fail(what);
            }
        }
        let n = st.cluster.node_count();
        let mut alloc = vec![(0u64, 0u64, 0u64); n];
        let mut total_gpu = 0u64;
        for &j in &st.running {
            let spec = &self.workload.jobs[j.index()];
            let r = &st.runs[j.index()];
            if r.status != JobStatus::Running || r.live == NO_LIVE {
                return fail(format!(
                    "job {} is on the running list but {}",
                    j,
                    r.status.as_str()
                ));
            }
            let slots = &st.live(j).slots;
            if slots.len() != spec.pods as usize {
                return fail(format!(
                    "job {} runs {} of its {} pods",
                    j,
                    slots.len(),
                    spec.pods
                ));
            }
            for s in slots {
                let a = &mut alloc[s.node.index()];
                a.0 += spec.pod.cpu_milli;
                a.1 += spec.pod.mem_mib;
                a.2 += u64::from(spec.pod.gpu_milli);
            }
            total_gpu += spec.gpu_milli();
        }
        for node in st.cluster.node_ids() {
            if st.cluster.allocated_per_node(node) != alloc[node.index()] {
                return fail(format!(
                    "node {node}: counters say (cpu, mem, gpu) = {:?} allocated, running jobs hold {:?}",
                    st.cluster.allocated_per_node(node),
                    alloc[node.index()]
                ));
            }
            if !st.cluster.node_counters_consistent(node) {
                return fail(format!("node {node}: free-GPU counter disagrees with its GPUs"));
            }
        }
        if total_gpu != u64::from(st.recorder.total().now.gpu_milli) {
            return fail(format!(
                "recorder says {} milli-GPU allocated, running jobs hold {total_gpu}",
                st.recorder.total().now.gpu_milli
            ));
        }
        let pending = st.runs.iter().filter(|r| r.status == JobStatus::Pending).count();
        if pending != st.recorder.total().now.pending as usize {
            return fail(format!(
                "{pending} jobs pending, recorder counts {}",
                st.recorder.total().now.pending
            ));
        }
        let running_count = st.runs.iter().filter(|r| r.status == JobStatus::Running).count();
        if running_count != st.running.len() {
            return fail(format!(
                "{running_count} jobs running, running list has {}",
                st.running.len()
            ));
        }
        let listed = self
            .pending
            .live()
            .iter()
            .filter(|j| st.runs[j.index()].status == JobStatus::Pending)
            .count();
        if listed != pending {
            return fail(format!(
                "{pending} jobs pending but the queue lists {listed}: {:?} start {} of {:?}",
                self.pending.live(),
                self.pending.start,
                self.pending
                    .ids
                    .iter()
                    .map(|j| (
                        j.0,
                        st.runs[j.index()].status.as_str(),
                        st.runs[j.index()].in_queue
                    ))
                    .collect::<Vec<_>>()
            ));
        }
        Ok(())
    }
}

/// A scheduling pass's window on the simulation: read the state, make decisions.
pub struct Cycle<'c> {
    w: &'c Workload,
    st: &'c mut State,
    tombstones: &'c mut usize,
    pending: &'c [JobId],
    arrived: &'c [JobId],
    placement: &'c mut dyn Placement,
    scratch: &'c mut Vec<PodSlot>,
}

impl<'c> Cycle<'c> {
    pub fn now(&self) -> SimTime {
        self.st.now
    }
    pub fn workload(&self) -> &'c Workload {
        self.w
    }
    pub fn job(&self, id: JobId) -> &'c JobSpec {
        &self.w.jobs[id.index()]
    }
    pub fn run(&self, id: JobId) -> &JobRun {
        &self.st.runs[id.index()]
    }
    pub fn status(&self, id: JobId) -> JobStatus {
        self.st.runs[id.index()].status
    }
    /// Where the pods of a running job are (empty for a job that is not running).
    pub fn slots(&self, id: JobId) -> &[PodSlot] {
        self.st.slots(id)
    }
    /// Since when a pending job has been waiting (its submit time, or its last preemption).
    pub fn pending_since(&self, id: JobId) -> Option<SimTime> {
        (self.st.runs[id.index()].status == JobStatus::Pending).then(|| self.st.live(id).pending_since)
    }
    pub fn is_pending(&self, id: JobId) -> bool {
        self.status(id) == JobStatus::Pending
    }
    /// Jobs in the queue at the start of the pass, in submit order. Some may have left it since,
    /// or never been pending: check `is_pending`. A job preempted during this pass may show up at
    /// its old position, or else joins the queue after the pass.
    pub fn pending(&self) -> &'c [JobId] {
        self.pending
    }
    /// Jobs preempted during this pass so far: they join the queue after it.
    pub fn requeued(&self) -> &[JobId] {
        &self.st.requeued
    }
    /// Jobs that arrived at this instant (a suffix of `pending`).
    pub fn arrived(&self) -> &'c [JobId] {
        self.arrived
    }
    /// Whether any resources were released since the last pass. If not, a job that did not fit
    /// then does not fit now either.
    pub fn freed(&self) -> bool {
        self.st.freed
    }
    pub fn running(&self) -> &[JobId] {
        &self.st.running
    }
    pub fn cluster(&self) -> &Cluster {
        &self.st.cluster
    }
    pub fn team_usage(&self, team: TeamId) -> &Usage {
        self.st.recorder.team(team)
    }
    /// Remaining work of a job, in reference-GPU time (as of its last checkpoint if running).
    pub fn remaining_work(&self, id: JobId) -> SimDuration {
        SimDuration(self.w.jobs[id.index()].work.millis() - self.st.runs[id.index()].work_done)
    }

    /// Work done so far, counting the current run's progress (not only saved checkpoints).
    pub fn work_done_now(&self, id: JobId) -> u64 {
        let r = &self.st.runs[id.index()];
        let work = self.w.jobs[id.index()].work.millis();
        match (r.status, r.last_start()) {
            (JobStatus::Running, Some(s)) => {
                let l = self.st.live(id);
                let ran = self.st.now.since(s).millis().saturating_sub(l.overhead_ms);
                (r.work_done + ran * u64::from(l.speed_permille) / 1000).min(work)
            }
            _ => r.work_done,
        }
    }

    /// Time the job has spent running, over all its runs, up to now.
    pub fn run_ms_now(&self, id: JobId) -> u64 {
        let r = &self.st.runs[id.index()];
        match (r.status, r.last_start()) {
            (JobStatus::Running, Some(s)) => r.run_ms + self.st.now.since(s).millis(),
            _ => r.run_ms,
        }
    }

    /// When a running job will finish if nothing stops it.
    pub fn finish_time(&self, id: JobId) -> Option<SimTime> {
        let r = &self.st.runs[id.index()];
        if r.status != JobStatus::Running {
            return None;
        }
        let start = r.last_start()?;
        let l = self.st.live(id);
        let remaining = self.w.jobs[id.index()].work.millis() - r.work_done;
        Some(start + SimDuration(l.overhead_ms + (remaining * 1000).div_ceil(u64::from(l.speed_permille))))
    }

    /// Applies a decision after checking it. Returns whether it was applied; an invalid decision
    /// ends the run with an error once the pass returns.
    pub fn decide(&mut self, d: Decision<'_>) -> bool {
        self.st.apply(self.w, self.tombstones, d)
    }

    /// Asks the placement where the job's pods would go now, without starting it.
    pub fn find_placement(&mut self, id: JobId) -> Option<&[PodSlot]> {
        self.find_placement_within(id, None)
    }

    /// Like `find_placement`, but only on nodes of the pools marked true (indexed by pool id).
    pub fn find_placement_within(&mut self, id: JobId, pools: Option<&[bool]>) -> Option<&[PodSlot]> {
        let spec = &self.w.jobs[id.index()];
        self.scratch.clear();
        // Cheap early exit: not enough free GPUs anywhere.
        if self.st.cluster.free_gpu_milli() < spec.gpu_milli() {
            return None;
        }
        let allowed = Allowed {
            models: spec.models,
            pools,
            kind: spec.kind,
        };
        if self
            .placement
            .place(&self.st.cluster, &spec.pod, spec.pods, &allowed, self.scratch)
        {
            Some(self.scratch)
        } else {
            None
        }
    }

    /// Where the scenario's placement would put a job's pods on `cluster` (a policy's own,
    /// hypothetical copy, e.g. with some jobs' pods given back): for planning preemptions and
    /// reservations.
    pub fn place_on(&mut self, cluster: &Cluster, id: JobId) -> Option<Vec<PodSlot>> {
        let spec = &self.w.jobs[id.index()];
        let mut out = Vec::new();
        let allowed = Allowed::job(spec);
        self.placement
            .place(cluster, &spec.pod, spec.pods, &allowed, &mut out)
            .then_some(out)
    }

    /// Starts a pending job where the placement puts it, if it fits now.
    pub fn try_start(&mut self, id: JobId) -> bool {
        self.try_start_within(id, None)
    }

    /// Like `try_start`, but only on nodes of the pools marked true (indexed by pool id).
    pub fn try_start_within(&mut self, id: JobId, pools: Option<&[bool]>) -> bool {
        if self.find_placement_within(id, pools).is_none() {
            return false;
        }
        let slots = std::mem::take(self.scratch);
        let ok = self.decide(Decision::Start {
            job: id,
            slots: &slots,
        });
        *self.scratch = slots;
        ok
    }

    /// Preempts a running job; `by` names the job it makes room for, if any.
    pub fn preempt(&mut self, id: JobId, reason: &str, by: Option<JobId>) -> bool {
        self.decide(Decision::Preempt { job: id, reason, by })
    }
    pub fn reject(&mut self, id: JobId, reason: &str) -> bool {
        self.decide(Decision::Reject { job: id, reason })
    }
    pub fn wake_at(&mut self, t: SimTime) -> bool {
        self.decide(Decision::WakeAt(t))
    }
}

impl fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("now", &self.st.now)
            .field("policy", &self.st.policy_label)
            .field("pending", &(self.pending.live().len() - self.pending.tombstones))
            .field("running", &self.st.running.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_job_record_stays_compact() {
        // One record per job of the trace, so it bounds the per-job memory of long replays.
        assert_eq!(std::mem::size_of::<super::JobRun>(), 96);
        // And so does the job as read.
        assert_eq!(std::mem::size_of::<crate::JobSpec>(), 128);
    }
}
