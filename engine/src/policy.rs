//! The two decision points a scheduler plugs into: which jobs run (`Policy`) and where their pods
//! go (`Placement`). Policies act through `Decision`s, which the engine checks before applying.

use crate::cluster::{Allowed, Cluster, PodSlot};
use crate::cycle::Cycle;
use crate::ids::JobId;
use crate::job::{JobSpec, Workload};
use crate::resources::PodRequest;
use crate::time::SimTime;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Not submitted yet.
    Future,
    /// Submitted, waiting to start (or to restart after preemption).
    Pending,
    Running,
    Finished,
    /// Can never run here (too large for every node, or refused by the policy), with a reason.
    Unschedulable,
    /// Left the queue before it started.
    Abandoned,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Future => "future",
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Finished => "finished",
            JobStatus::Unschedulable => "unschedulable",
            JobStatus::Abandoned => "abandoned",
        }
    }
    /// Finished, unschedulable or abandoned: nothing more will happen to the job.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Finished | JobStatus::Unschedulable | JobStatus::Abandoned
        )
    }
}

/// A lifecycle transition, as the engine reports it to the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Submitted,
    Started,
    Finished,
    Preempted,
    Abandoned,
    Unschedulable,
}

/// What a policy can ask the engine to do. Every decision is checked; an invalid one stops the
/// run with an error that names the policy, the job and the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Start a pending job with one slot per pod.
    Start { job: JobId, slots: &'a [PodSlot] },
    /// Stop a running job and put it back in the queue; work since its last checkpoint is lost.
    /// `by` names the job it made room for, if any.
    Preempt {
        job: JobId,
        reason: &'a str,
        by: Option<JobId>,
    },
    /// Refuse a pending job for good.
    Reject { job: JobId, reason: &'a str },
    /// Run a scheduling pass at this (future) time even if nothing else happens then.
    WakeAt(SimTime),
    /// A quota system admitted a pending job: from now until it starts, it waits for nodes, not
    /// for quota. Admitting an admitted job changes nothing.
    Admit { job: JobId },
    /// A quota system took back the admission of a pending job (it waits for quota again).
    Unadmit { job: JobId },
    /// Why a pending job is waiting, in the policy's words (e.g. Kueue's `WaitingForQuota`).
    /// Pending time is integrated per team and reason.
    Reason { job: JobId, reason: &'a str },
}

impl Decision<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Start { .. } => "start",
            Decision::Preempt { .. } => "preempt",
            Decision::Reject { .. } => "reject",
            Decision::WakeAt(_) => "wake",
            Decision::Admit { .. } => "admit",
            Decision::Unadmit { .. } => "unadmit",
            Decision::Reason { .. } => "reason",
        }
    }
}

/// Decides which pending jobs start (and which running jobs stop), once per instant at which
/// something happened. Policies keep their own state; the engine tells them about transitions.
///
/// A policy reads the run and acts on it through the [`Cycle`] it is given (see [`crate::cycle`]
/// for what it sees and how it acts).
///
/// ```
/// # use fairway_engine::*;
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
/// /// Serves one team, smallest jobs (fewest GPUs) first; rejects the jobs of other teams.
/// struct OneTeam {
///     name: String,
///     team: Option<TeamId>,
/// }
///
/// impl Policy for OneTeam {
///     fn label(&self) -> String {
///         format!("one-team[{}]", self.name)
///     }
///
///     fn prepare(&mut self, workload: &Workload, _cluster: &Cluster) -> Result<(), PolicyError> {
///         let Some(i) = workload.teams.iter().position(|t| *t == self.name) else {
///             return Err(PolicyError::new(format!("the trace has no team '{}'", self.name)));
///         };
///         self.team = Some(TeamId(i as u32));
///         Ok(())
///     }
///
///     fn schedule(&mut self, cx: &mut Cycle<'_>) {
///         let pending = cx.pending().iter().copied();
///         let mut queue: Vec<JobId> = pending.filter(|&j| cx.is_pending(j)).collect();
///         queue.sort_by_key(|&j| (cx.job(j).gpu_milli(), j));
///         for job in queue {
///             if Some(cx.job(job).team) == self.team {
///                 cx.try_start(job);
///             } else {
///                 cx.reject(job, "not this policy's team");
///             }
///         }
///     }
/// }
///
/// // On one two-GPU node, all submitted at 0: a 2-GPU and a 1-GPU job of ten minutes for ml,
/// // a 1-GPU job for web.
/// let mut jobs = WorkloadBuilder::new("three jobs");
/// let (ml, web) = (jobs.team("ml").unwrap(), jobs.team("web").unwrap());
/// let gpus = |n: u32| PodRequest { gpu_milli: n * 1000, cpu_milli: 1000, mem_mib: 1024 };
/// let ten_min = SimDuration::from_secs(600);
/// for (name, n, team) in [("big", 2, ml), ("small", 1, ml), ("site", 1, web)] {
///     jobs.push(name, 0, JobSpec::new(SimTime::ZERO, ten_min, 1, gpus(n), team)).unwrap();
/// }
/// let workload = jobs.finish();
/// let cluster = || {
///     Cluster::new(&ClusterSpec {
///         pools: vec![PoolSpec::new("p", Some("A100"), 1, 2, 8, 64)],
///     })
///     .unwrap()
/// };
/// let one_team = |name: &str| Box::new(OneTeam { name: name.into(), team: None });
/// let opts = EngineOptions::default;
///
/// let run = Simulation::new(&workload, cluster(), one_team("ml"), Box::new(Lowest), opts()).unwrap();
/// let outcome = run.run().unwrap();
/// // small goes first; big fits once small has ended.
/// assert_eq!(outcome.jobs[1].first_start(), Some(SimTime::ZERO));
/// assert_eq!(outcome.jobs[0].first_start(), Some(SimTime::from_secs(600)));
/// assert_eq!(outcome.jobs[2].status, JobStatus::Unschedulable);
/// assert_eq!(
///     outcome.jobs[2].reason.as_deref(),
///     Some("rejected by one-team[ml]: not this policy's team")
/// );
///
/// // prepare's error stops the run before it starts.
/// let e = Simulation::new(&workload, cluster(), one_team("db"), Box::new(Lowest), opts()).unwrap_err();
/// assert_eq!(e.to_string(), "policy one-team[db]: the trace has no team 'db'");
/// ```
pub trait Policy: Send {
    /// The label in reports and errors. A registry labels what it builds (`name[key=value,...]`,
    /// from the parameters' declarations), so a policy only overrides this when it is used
    /// without one; the default is the type's name.
    fn label(&self) -> String {
        short_type_name::<Self>()
    }

    /// Called once before the run, with the whole workload and the empty cluster: a policy that
    /// routes jobs or precomputes per-job data does it here. An error stops the run before it
    /// starts, as [`EngineError::PolicySetup`](crate::EngineError::PolicySetup).
    fn prepare(&mut self, _workload: &Workload, _cluster: &Cluster) -> Result<(), PolicyError> {
        Ok(())
    }

    /// Called for every transition of every job, before the pass that follows it.
    fn observe(&mut self, _job: JobId, _spec: &JobSpec, _what: Transition, _now: SimTime) {}

    /// One scheduling pass: read the state through `cx` and act through it.
    fn schedule(&mut self, cx: &mut Cycle<'_>);

    /// Figures the policy wants in the report (e.g. how often runtime estimates were wrong),
    /// read once after the run.
    fn stats(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// The queues the policy sorts jobs into and what each is entitled to, read once after the
    /// run for fairness figures and queue metrics. `None` (the default) means one queue per team,
    /// all entitled to an equal share.
    fn queues(&self, _workload: &Workload) -> Option<QueueReport> {
        None
    }
}

/// Why a policy cannot run a workload on a cluster ([`Policy::prepare`]): a message for the user
/// and, when another error caused it, that error as its [`source`](std::error::Error::source).
/// The message is the whole display: a source is not repeated in it.
///
/// ```
/// use fairway_engine::PolicyError;
/// use std::error::Error;
///
/// let e = PolicyError::new("weights name team 'ml', which the trace does not have");
/// assert_eq!(e.to_string(), "weights name team 'ml', which the trace does not have");
/// assert!(e.source().is_none());
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "quota.csv: not found");
/// let e = PolicyError::with_source("cannot read the quota table", io);
/// assert_eq!(e.to_string(), "cannot read the quota table");
/// assert_eq!(e.source().unwrap().to_string(), "quota.csv: not found");
///
/// // A message alone converts, for `Err(format!(..).into())`.
/// let e: PolicyError = format!("{} teams, no weights", 3).into();
/// assert_eq!(e.message(), "3 teams, no weights");
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PolicyError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl PolicyError {
    /// An error that is only a message.
    pub fn new(message: impl Into<String>) -> PolicyError {
        PolicyError {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and the error that caused it (any `std::error::Error` that is
    /// `Send + Sync`, or one already boxed).
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> PolicyError {
        PolicyError {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The message, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<String> for PolicyError {
    fn from(message: String) -> PolicyError {
        PolicyError::new(message)
    }
}

impl From<&str> for PolicyError {
    fn from(message: &str) -> PolicyError {
        PolicyError::new(message)
    }
}

/// Two errors are equal when they read the same: equal messages, and sources (if any) that
/// display the same, as sources seldom compare.
impl PartialEq for PolicyError {
    fn eq(&self, other: &PolicyError) -> bool {
        self.message == other.message
            && self.source.as_ref().map(|s| s.to_string()) == other.source.as_ref().map(|s| s.to_string())
    }
}

/// How a policy groups jobs into queues, and each queue's entitlement.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueReport {
    /// What entitlements come from: `nominal quota`, `weights` or `equal`.
    pub basis: String,
    pub queues: Vec<QueueInfo>,
    /// The queue of each job (an index into `queues`); `u32::MAX` for a job in none.
    pub job_queue: Vec<u32>,
}

/// One queue (a team, or a Kueue ClusterQueue).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QueueInfo {
    pub name: String,
    /// The cohort it borrows in, if any.
    pub cohort: Option<String>,
    /// Nominal GPU quota, borrowing and lending limits in GPUs (quota systems only; `None` for
    /// a limit means unlimited).
    pub nominal_gpus: Option<f64>,
    pub borrowing_limit_gpus: Option<f64>,
    pub lending_limit_gpus: Option<f64>,
    /// Fair-sharing weight.
    pub weight: f64,
    /// The share of the cluster's GPU time this queue is entitled to (all queues sum to 1).
    pub entitlement: f64,
    /// The quotas as the policy's configuration states them, per flavor and resource (quota
    /// systems only; empty otherwise).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Vec::is_empty"))]
    pub quotas: Vec<FlavorQuota>,
}

/// One quota of a queue: a resource in a flavor, amounts written in the resource's own units
/// as the configuration would (`480` CPUs, `2400Gi`, `24000`); a limit of `None` is unset.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FlavorQuota {
    pub flavor: String,
    pub resource: String,
    pub nominal: String,
    pub borrowing_limit: Option<String>,
    pub lending_limit: Option<String>,
    /// The nominal quota in GPUs, for the resource jobs' GPUs are counted in.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub nominal_gpus: Option<f64>,
}

impl QueueReport {
    /// One queue per team, entitlements proportional to `weights` (all 1: equal shares).
    pub fn per_team(workload: &Workload, weights: &[f64], basis: &str) -> QueueReport {
        let total: f64 = weights.iter().sum();
        QueueReport {
            basis: basis.to_string(),
            queues: workload
                .teams
                .iter()
                .zip(weights)
                .map(|(t, &w)| QueueInfo {
                    name: t.clone(),
                    cohort: None,
                    nominal_gpus: None,
                    borrowing_limit_gpus: None,
                    lending_limit_gpus: None,
                    weight: w,
                    entitlement: if total > 0.0 { w / total } else { 0.0 },
                    quotas: Vec::new(),
                })
                .collect(),
            job_queue: workload.jobs.iter().map(|j| j.team.0).collect(),
        }
    }

    /// The default: one queue per team, equal entitlements.
    pub fn equal(workload: &Workload) -> QueueReport {
        QueueReport::per_team(workload, &vec![1.0; workload.teams.len()], "equal")
    }
}

/// Chooses nodes (and GPUs) for all pods of a job on the current free capacity.
///
/// ```
/// use fairway_engine::{
///     Allowed, Cluster, ClusterSpec, ModelSet, NodeId, Placement, PodRequest, PodSlot, PoolSpec,
/// };
///
/// /// Puts all of a job's pods on the node with the fewest free GPUs that holds them all, to keep
/// /// emptier nodes for larger jobs.
/// struct Fullest;
///
/// impl Placement for Fullest {
///     fn label(&self) -> String {
///         "fullest".into()
///     }
///
///     fn place(
///         &mut self,
///         cluster: &Cluster,
///         pod: &PodRequest,
///         pods: u32,
///         allowed: &Allowed<'_>,
///         out: &mut Vec<PodSlot>,
///     ) -> bool {
///         let free = |n| cluster.gpu_free(n).iter().map(|&f| u32::from(f)).sum::<u32>();
///         let best = (cluster.node_ids())
///             .filter(|&n| cluster.eligible(n, allowed) && cluster.pods_that_fit(n, pod) >= pods)
///             .min_by_key(|&n| free(n));
///         best.is_some_and(|n| cluster.pick_slots(n, pod, pods, out))
///     }
/// }
///
/// // Two nodes of four GPUs; node 1 already runs a pod on its GPUs 0 and 1.
/// let mut cluster = Cluster::new(&ClusterSpec {
///     pools: vec![PoolSpec::new("p", Some("A100"), 2, 4, 32, 256)],
/// })
/// .unwrap();
/// let two = PodRequest { gpu_milli: 2000, cpu_milli: 1000, mem_mib: 1024 };
/// cluster.take(&two, PodSlot { node: NodeId(1), gpus: 0b0011 }, ModelSet::ANY).unwrap();
///
/// let one = PodRequest { gpu_milli: 1000, ..two };
/// let any = Allowed::models(ModelSet::ANY);
/// let mut out = Vec::new();
/// assert!(Fullest.place(&cluster, &one, 1, &any, &mut out));
/// assert_eq!(out, [PodSlot { node: NodeId(1), gpus: 0b0100 }]);
///
/// // Three such pods fit only on node 0; five fit on no single node.
/// out.clear();
/// assert!(Fullest.place(&cluster, &one, 3, &any, &mut out));
/// let on_node_0 = |gpus| PodSlot { node: NodeId(0), gpus };
/// assert_eq!(out, [on_node_0(0b001), on_node_0(0b010), on_node_0(0b100)]);
/// out.clear();
/// assert!(!Fullest.place(&cluster, &one, 5, &any, &mut out));
/// ```
pub trait Placement: Send {
    /// The label in reports; as for [`Policy::label`], a registry labels what it builds.
    fn label(&self) -> String {
        short_type_name::<Self>()
    }

    /// Called for every job as it arrives (before the pass), for placements that learn the
    /// workload's shape (e.g. fragmentation-aware ones).
    fn observe_arrival(&mut self, _job: &JobSpec) {}

    /// Fills `out` (which arrives empty) with one slot per pod and returns true, or returns false if
    /// the pods cannot all be placed now. Only nodes for which `cluster.eligible(node, allowed)`
    /// holds may be used.
    fn place(
        &mut self,
        cluster: &Cluster,
        pod: &PodRequest,
        pods: u32,
        allowed: &Allowed<'_>,
        out: &mut Vec<PodSlot>,
    ) -> bool;
}

/// `fairway_policies::queue::Fifo` -> `Fifo`.
fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base).to_string()
}
