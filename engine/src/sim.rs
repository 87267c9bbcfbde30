//! The run loop: pop every event at the current instant, apply them, admit arrivals, run one
//! scheduling pass, then advance time.

use crate::cluster::{Allowed, Cluster, PodSlot};
use crate::cycle::Cycle;
use crate::error::EngineError;
use crate::event::{Event, EventQueue};
use crate::ids::{JobId, NodeId, TeamId};
use crate::job::{JobSpec, Workload};
use crate::options::{EngineOptions, MAX_IDLE_WAKES};
use crate::outcome::{Counters, JobRun, NO_LIVE, Outcome, PoolUsage};
use crate::pending::PendingQueue;
use crate::policy::{JobStatus, Placement, Policy, Transition};
use crate::recorder::{Recorder, Usage};
use crate::state::{DownClock, State};
use crate::time::{MAX_MILLIS, SimDuration, SimTime};
use std::fmt;

/// The preemption reason of runs interrupted by a node failure.
pub const NODE_FAILURE: &str = "node failure";

/// The simulation of one workload on one cluster under one policy.
///
/// [`run`](Simulation::run) goes to the end and returns the [`Outcome`]. To watch a run as it
/// goes, [`step`](Simulation::step) processes one instant, [`run_until`](Simulation::run_until)
/// stops at a time, and [`finish`](Simulation::finish) closes the run where it stands.
///
/// ```
/// # use fairway_engine::*;
/// # struct Fifo;
/// # impl Policy for Fifo {
/// #     fn label(&self) -> String {
/// #         "fifo".into()
/// #     }
/// #     fn schedule(&mut self, cx: &mut Cycle<'_>) {
/// #         for &job in cx.pending() {
/// #             if cx.is_pending(job) && !cx.try_start(job) {
/// #                 break;
/// #             }
/// #         }
/// #     }
/// # }
/// # struct Lowest;
/// # impl Placement for Lowest {
/// #     fn label(&self) -> String {
/// #         "lowest".into()
/// #     }
/// #     fn place(
/// #         &mut self,
/// #         c: &Cluster,
/// #         pod: &PodRequest,
/// #         pods: u32,
/// #         allowed: &Allowed<'_>,
/// #         out: &mut Vec<PodSlot>,
/// #     ) -> bool {
/// #         let mut left = pods;
/// #         for n in c.node_ids().filter(|&n| c.eligible(n, allowed)) {
/// #             let k = c.pods_that_fit(n, pod).min(left);
/// #             if k > 0 && c.pick_slots(n, pod, k, out) {
/// #                 left -= k;
/// #             }
/// #         }
/// #         left == 0 || { out.clear(); false }
/// #     }
/// # }
// Two one-GPU jobs of ten minutes, submitted at 0 and at one minute, on one one-GPU node.
/// let mut jobs = WorkloadBuilder::new("two jobs");
/// let team = jobs.team("ml").unwrap();
/// let pod = PodRequest { gpu_milli: 1000, cpu_milli: 1000, mem_mib: 1024 };
/// for (name, submit) in [("a", 0), ("b", 60)] {
///     let spec = JobSpec::new(SimTime::from_secs(submit), SimDuration::from_secs(600), 1, pod, team);
///     jobs.push(name, 0, spec).unwrap();
/// }
/// let workload = jobs.finish();
/// let cluster = Cluster::new(&ClusterSpec {
///     pools: vec![PoolSpec::new("p", Some("A100"), 1, 1, 8, 64)],
/// })
/// .unwrap();
/// let (policy, placement) = (Box::new(Fifo), Box::new(Lowest));
/// let opts = EngineOptions::default();
/// let mut sim = Simulation::new(&workload, cluster, policy, placement, opts).unwrap();
///
/// assert!(sim.step().unwrap()); // t=0: a arrives and starts
/// assert_eq!(sim.job(JobId(0)).status, JobStatus::Running);
/// sim.run_until(SimTime::from_secs(599)).unwrap(); // t=60: b arrives and waits
/// assert_eq!(sim.job(JobId(1)).status, JobStatus::Pending);
/// assert_eq!(sim.next_time(), Some(SimTime::from_secs(600))); // a ends
///
/// let outcome = sim.run().unwrap();
/// assert_eq!(outcome.jobs[1].first_start(), Some(SimTime::from_secs(600)));
/// assert_eq!(outcome.jobs[1].pending_ms, 540_000);
/// ```
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
    /// When the current stretch of idle wake-ups began.
    idle_since: SimTime,
    start: SimTime,
    done: bool,
    /// Where series points go as the run makes them (`None`: kept in the outcome).
    series_sink: Option<&'w mut dyn crate::recorder::SeriesSink>,
}

impl<'w> Simulation<'w> {
    /// Prepares a run. The workload's GPU models must be bound to the cluster's, and every time
    /// it and the options hold at most [`MAX_MILLIS`]: within that bound no run panics or
    /// overflows (one that would pass the end of simulated time stops with
    /// [`EngineError::TimeOverflow`]).
    pub fn new(
        workload: &'w Workload,
        mut cluster: Cluster,
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
        check_inputs(workload, &cluster, &opts)?;
        cluster.bind_selectors(&workload.selectors);
        let start = workload.jobs.first().map_or(SimTime::ZERO, |j| j.submit);
        let npools = cluster.pools().len();
        let mut policy = policy;
        let policy_label = policy.label();
        policy
            .prepare(workload, &cluster)
            .map_err(|source| EngineError::PolicySetup {
                policy: policy_label.clone(),
                source,
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
                placed: crate::outcome::Placed::new(workload.len()),
                cluster,
                queue: EventQueue::default(),
                recorder: Recorder::new(workload.teams.len(), npools, start),
                running: Vec::new(),
                running_open: 0,
                running_lives: Vec::new(),
                requeued: Vec::new(),
                transitions: Vec::new(),
                lives: Vec::new(),
                free_lives: Vec::new(),
                freed: false,
                moves: 0,
                last_other: None,
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
            idle_since: SimTime(0),
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
        if now == SimTime::MAX {
            // A record reads that instant as "never": nothing may happen there.
            self.done = true;
            return Err(EngineError::TimeOverflow {
                time: now,
                what: "an event is scheduled at the last instant (a wake-up or an outage)".into(),
            });
        }
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
        let moves_before = self.st.moves;
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
            && self.st.moves == moves_before
            // Open-ended jobs never end: waking beside them alone changes nothing either.
            && self.st.running.len() == self.st.running_open
            && self.next_arrival == w.len();
        if !idle {
            self.idle_wakes = 0;
        } else {
            if self.idle_wakes == 0 {
                self.idle_since = now;
            }
            self.idle_wakes += 1;
            let limit = self.st.opts.max_idle_wakes.unwrap_or(MAX_IDLE_WAKES);
            if self.idle_wakes >= limit {
                self.done = true;
                return Err(EngineError::Livelock {
                    policy: self.st.policy_label.clone(),
                    since: self.idle_since,
                    time: now,
                    wakes: self.idle_wakes,
                    last: self.st.last_other.map(|job| w.name(job).to_string()),
                });
            }
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
            if r.status == JobStatus::Running
                && let Some(s) = r.last_start()
            {
                r.run_ms += end.since(s).millis();
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
            placed: self.st.placed,
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
            .check_fits_ever(&spec.pod, spec.pods, &Allowed::job(spec))
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

/// Refuses times past [`MAX_MILLIS`] (the bound that keeps a run's sums inside `u64`) and
/// per-class speeds of zero (a division by them would panic).
fn check_inputs(w: &Workload, cluster: &Cluster, opts: &EngineOptions) -> Result<(), EngineError> {
    let check = |what: &dyn Fn() -> String, ms: Option<u64>| match ms {
        Some(ms) if ms > MAX_MILLIS => Err(EngineError::TimeOutOfRange {
            what: what(),
            value: SimDuration(ms),
            limit: SimDuration(MAX_MILLIS),
        }),
        _ => Ok(()),
    };
    for (i, j) in w.jobs.iter().enumerate() {
        let job = |field: &str| format!("job '{}': {field}", &w.names[i]);
        check(&|| job("submit time"), Some(j.submit.millis()))?;
        check(&|| job("work"), Some(j.work.millis()))?;
        check(&|| job("estimate"), j.estimate.get().map(SimDuration::millis))?;
        check(&|| job("patience"), j.patience.get().map(SimDuration::millis))?;
        check(
            &|| job("recorded start"),
            j.recorded_start.get().map(SimTime::millis),
        )?;
    }
    check(
        &|| "option restart_overhead".into(),
        Some(opts.restart_overhead.millis()),
    )?;
    for c in &opts.class_costs {
        let class = || {
            w.job_classes
                .get(c.class as usize)
                .map_or("?", String::as_str)
                .to_string()
        };
        check(
            &|| format!("job class '{}': restart overhead", class()),
            Some(c.restart_overhead.millis()),
        )?;
    }
    if let Some(c) = opts.class_speed.iter().find(|c| c.speed_permille == 0) {
        return Err(EngineError::ZeroSpeed {
            class: w.job_classes.get(c.class as usize).cloned().unwrap_or_default(),
            model: cluster.models().get(c.model.index()).cloned().unwrap_or_default(),
        });
    }
    Ok(())
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
