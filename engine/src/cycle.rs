//! A policy's whole window onto the run: the [`Cycle`] that [`Policy::schedule`] receives once
//! per instant at which something happened (an arrival, a completion, a wake-up...), after every
//! event of that instant has been applied.
//!
//! # What a policy sees
//!
//! - The clock and the jobs: [`now`](Cycle::now), the [`workload`](Cycle::workload) and each
//!   job's spec ([`job`](Cycle::job)), its [`status`](Cycle::status) and its record so far
//!   ([`run`](Cycle::run)).
//! - The queue: [`pending`](Cycle::pending) lists the jobs queued at the start of the pass, in
//!   submit order; a job may have left it since, so check [`is_pending`](Cycle::is_pending).
//!   [`arrived`](Cycle::arrived) is the part that arrived at this instant, and
//!   [`requeued`](Cycle::requeued) the jobs preempted during this pass, which join the queue
//!   after it.
//! - Progress: [`pending_since`](Cycle::pending_since),
//!   [`remaining_work`](Cycle::remaining_work), [`work_done_now`](Cycle::work_done_now),
//!   [`run_ms_now`](Cycle::run_ms_now) and [`finish_time`](Cycle::finish_time).
//! - The cluster, read-only: [`cluster`](Cycle::cluster) (free capacity per node and per GPU),
//!   the [`running`](Cycle::running) jobs and where their pods are ([`slots`](Cycle::slots)),
//!   each team's [`team_usage`](Cycle::team_usage), and [`freed`](Cycle::freed): whether
//!   anything was released since the last pass (if not, a job that did not fit then does not fit
//!   now).
//!
//! # How a policy acts
//!
//! Only through [`Decision`]s, each checked before it is applied; every call returns whether
//! its decision was applied.
//!
//! - [`try_start`](Cycle::try_start) asks the scenario's [`Placement`] for slots and starts
//!   the job if it fits now ([`try_start_within`](Cycle::try_start_within): only in some
//!   pools). [`find_placement`](Cycle::find_placement) and [`place_on`](Cycle::place_on) ask
//!   without starting.
//! - [`preempt`](Cycle::preempt) stops a running job and puts it back in the queue,
//!   [`reject`](Cycle::reject) refuses a pending job for good, and [`wake_at`](Cycle::wake_at)
//!   asks for a pass at a later time even if nothing happens then.
//! - [`decide`](Cycle::decide) applies any decision: a `Start` on slots the policy chose itself,
//!   or a quota system's `Admit`, `Unadmit` and `Reason`.
//!
//! The first invalid decision (a job that is not pending, slots that do not fit, a wake-up that
//! is not in the future...) is refused, so is every decision after it, and once the pass returns
//! the run ends with [`EngineError::InvalidDecision`] (or `InvalidWake`) naming the policy, the
//! job and the reason. A job's transitions (started, finished, preempted...) reach the policy
//! through [`Policy::observe`], before the pass that follows them.
//!
//! [`Policy::schedule`]: crate::Policy::schedule
//! [`Policy::observe`]: crate::Policy::observe
//! [`EngineError::InvalidDecision`]: crate::EngineError::InvalidDecision

use crate::cluster::{Allowed, Cluster, PodSlot};
use crate::ids::{JobId, TeamId};
use crate::job::{JobSpec, Workload};
use crate::outcome::JobRun;
use crate::policy::{Decision, JobStatus, Placement};
use crate::recorder::Usage;
use crate::state::State;
use crate::time::{SimDuration, SimTime};

/// A scheduling pass's window on the simulation: read the state, make decisions.
pub struct Cycle<'c> {
    pub(crate) w: &'c Workload,
    pub(crate) st: &'c mut State,
    pub(crate) tombstones: &'c mut usize,
    pub(crate) pending: &'c [JobId],
    pub(crate) arrived: &'c [JobId],
    pub(crate) placement: &'c mut dyn Placement,
    pub(crate) scratch: &'c mut Vec<PodSlot>,
}

impl<'c> Cycle<'c> {
    /// The current instant.
    pub fn now(&self) -> SimTime {
        self.st.now
    }
    /// The whole workload, every job's spec indexed by `JobId`.
    pub fn workload(&self) -> &'c Workload {
        self.w
    }
    /// A job's spec: what it asks for and how much work it is.
    pub fn job(&self, id: JobId) -> &'c JobSpec {
        &self.w.jobs[id.index()]
    }
    /// A job's record so far: status, starts, preemptions, saved work, pending and run time.
    pub fn run(&self, id: JobId) -> &JobRun {
        &self.st.runs[id.index()]
    }
    /// Where a job is in its life.
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
    /// Whether a job waits to start (or to restart after a preemption).
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
    /// The running jobs, in no particular order.
    pub fn running(&self) -> &[JobId] {
        &self.st.running
    }
    /// The cluster as it is now, with the pods of every running job taken out of its capacity.
    pub fn cluster(&self) -> &Cluster {
        &self.st.cluster
    }
    /// A team's running totals: what it holds now and the integrals kept so far.
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
            pools,
            ..Allowed::job(spec)
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
    /// Refuses a pending job for good; the reason (not blank) goes into its record.
    pub fn reject(&mut self, id: JobId, reason: &str) -> bool {
        self.decide(Decision::Reject { job: id, reason })
    }
    /// Asks for a scheduling pass at `t`, which must be in the future.
    pub fn wake_at(&mut self, t: SimTime) -> bool {
        self.decide(Decision::WakeAt(t))
    }
}
