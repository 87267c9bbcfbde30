//! Jobs as the engine sees them, and the workload (all jobs of a trace plus their names).

use crate::cluster::Cluster;
use crate::ids::{JobId, ModelId, ModelSet, TeamId, UserId};
use crate::names::Names;
use crate::resources::PodRequest;
use crate::time::{OptDuration, OptTime, SimDuration, SimTime};
use std::collections::HashMap;
use std::fmt;

/// Batch training or interactive development work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JobKind {
    #[default]
    Batch,
    Interactive,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Batch => "batch",
            JobKind::Interactive => "interactive",
        }
    }
}

/// One job of the trace: a gang of identical pods that start together.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    pub submit: SimTime,
    /// Run time on reference GPUs; the job finishes when this much work is done.
    pub work: SimDuration,
    /// Pods in the gang (at least 1); all must be placed at once.
    pub pods: u32,
    pub pod: PodRequest,
    pub team: TeamId,
    pub user: Option<UserId>,
    /// The queue the trace names (an index into `Workload::queues`), for quota systems that
    /// route jobs by queue rather than by team.
    pub queue: Option<u32>,
    /// Higher is more important.
    pub priority: i32,
    /// A named priority class (an index into `Workload::classes`), for quota systems that
    /// resolve names to values (Kueue's WorkloadPriorityClass); `priority` is then 0.
    pub priority_class: Option<u32>,
    /// What the user said the job would take, if anything.
    pub estimate: OptDuration,
    /// Allowed GPU models; empty means any.
    pub models: ModelSet,
    pub kind: JobKind,
    /// The job's class (e.g. its model family; an index into `Workload::job_classes`), which the
    /// speed matrix and the preemption cost model key on.
    pub class: Option<u32>,
    /// Measured GPU utilisation (0..1) while running, when the trace has it.
    pub gpu_util: Option<f32>,
    /// The job leaves the queue if it has not started this long after submission.
    pub patience: OptDuration,
    /// The start time the trace recorded, for replays that reproduce the trace exactly.
    pub recorded_start: OptTime,
    /// A node selector (an index into `Workload::selectors`): the job's pods run only on nodes
    /// whose pool carries every label of it.
    pub selector: Option<SelectorId>,
    /// Still running when the trace ended (its run time is unknown): once started it never
    /// finishes, and a run reports it as running. Its `work` is [`MAX_MILLIS`], so that
    /// policies that rank by size take it for the longest job.
    ///
    /// [`MAX_MILLIS`]: crate::time::MAX_MILLIS
    pub open_ended: bool,
}

impl JobSpec {
    /// A batch job with no constraints, estimate, patience or recorded start, priority 0.
    pub fn new(submit: SimTime, work: SimDuration, pods: u32, pod: PodRequest, team: TeamId) -> Self {
        JobSpec {
            submit,
            work,
            pods,
            pod,
            team,
            user: None,
            queue: None,
            priority: 0,
            priority_class: None,
            estimate: OptDuration::NONE,
            models: ModelSet::ANY,
            kind: JobKind::Batch,
            class: None,
            gpu_util: None,
            patience: OptDuration::NONE,
            recorded_start: OptTime::NONE,
            selector: None,
            open_ended: false,
        }
    }

    /// Makes the job open-ended (see [`JobSpec::open_ended`]).
    pub fn set_open_ended(&mut self) {
        self.open_ended = true;
        self.work = SimDuration(crate::time::MAX_MILLIS);
    }

    /// GPUs of the whole gang, in milli-GPU.
    pub fn gpu_milli(&self) -> u64 {
        u64::from(self.pod.gpu_milli) * u64::from(self.pods)
    }
}

/// All jobs of a trace, sorted by submit time, and the names their ids stand for.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    /// Where the jobs came from (a file path, or a description of a generator).
    pub source: String,
    /// Sorted by submit time; a `JobId` indexes this.
    pub jobs: Vec<JobSpec>,
    /// The trace's own id of each job.
    pub names: Names,
    /// The line of the source file each job came from (0 when there is no file).
    pub lines: Vec<u32>,
    pub teams: Vec<String>,
    pub users: Vec<String>,
    /// Queue names that `JobSpec::queue` refers to.
    pub queues: Vec<String>,
    /// Priority class names that `JobSpec::priority_class` refers to.
    pub classes: Vec<String>,
    /// Job class names that `JobSpec::class` refers to.
    pub job_classes: Vec<String>,
    /// GPU model names that `JobSpec::models` refers to.
    pub models: Vec<String>,
    /// Node selectors that `JobSpec::selector` refers to.
    pub selectors: Vec<Selector>,
}

/// A node selector's index into `Workload::selectors` (kept in 4 bytes, `None` included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SelectorId(std::num::NonZeroU32);

impl SelectorId {
    /// The id of `Workload::selectors[i]`; `i` is below [`MAX_SELECTORS`].
    pub fn new(i: u32) -> SelectorId {
        SelectorId(std::num::NonZeroU32::MIN.saturating_add(i))
    }
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// A node selector as Kubernetes writes one: labels a node must carry, each with its value.
/// Kept sorted by key, so that equal selectors compare equal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector(pub Vec<(String, String)>);

impl Selector {
    /// Reads `key=value;key=value` (the canonical CSV's `node_selector`). Keys and values are
    /// label text: no `=`, `;` or whitespace; a key given twice is an error.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(format!(
                    "expected key=value pairs separated by ';', found '{part}'"
                ));
            };
            let (k, v) = (k.trim(), v.trim());
            let bad = |t: &str| t.chars().any(|c| c.is_whitespace() || c.is_control() || c == '=');
            if k.is_empty() || bad(k) || bad(v) {
                return Err(format!("'{part}' is not a label key=value"));
            }
            if pairs.iter().any(|(have, _)| have == k) {
                return Err(format!("label '{k}' is given twice"));
            }
            pairs.push((k.to_string(), v.to_string()));
        }
        if pairs.is_empty() {
            return Err("an empty selector: leave the field empty instead".into());
        }
        pairs.sort();
        Ok(Selector(pairs))
    }

    /// Whether labels carry every pair of the selector.
    pub fn matches(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl Workload {
    pub fn len(&self) -> usize {
        self.jobs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
    pub fn job(&self, id: JobId) -> &JobSpec {
        &self.jobs[id.index()]
    }
    pub fn name(&self, id: JobId) -> &str {
        &self.names[id.index()]
    }
    /// The latest instant the trace itself records: a submission, a recorded start, or the end
    /// of a job that finished with a recorded start. A trace with open-ended jobs was taken
    /// then.
    pub fn recorded_end(&self) -> SimTime {
        (self.jobs.iter())
            .map(|j| match j.recorded_start.get() {
                Some(s) if !j.open_ended => s + j.work,
                Some(s) => s,
                None => j.submit,
            })
            .max()
            .unwrap_or(SimTime::ZERO)
    }

    pub fn team_name(&self, id: TeamId) -> &str {
        &self.teams[id.index()]
    }

    /// A workload of the jobs at `picks` (an index may repeat), sorted by submit time (ties keep
    /// the order of `picks`); the name tables are kept whole.
    pub fn select(&self, picks: &[usize]) -> Workload {
        let mut order: Vec<usize> = picks.to_vec();
        order.sort_by_key(|&i| self.jobs[i].submit);
        Workload {
            jobs: order.iter().map(|&i| self.jobs[i].clone()).collect(),
            names: self.names.reordered(order.iter().copied()),
            lines: order.iter().map(|&i| self.lines[i]).collect(),
            ..self.clone_tables()
        }
    }

    /// Everything but the per-job vectors.
    fn clone_tables(&self) -> Workload {
        Workload {
            source: self.source.clone(),
            jobs: Vec::new(),
            names: Names::new(),
            lines: Vec::new(),
            teams: self.teams.clone(),
            users: self.users.clone(),
            queues: self.queues.clone(),
            classes: self.classes.clone(),
            job_classes: self.job_classes.clone(),
            models: self.models.clone(),
            selectors: self.selectors.clone(),
        }
    }

    /// Re-expresses every GPU-model constraint in the cluster's model table, so that the engine
    /// can compare a job's allowed models with a node's model. Fails on a model the cluster lacks.
    pub fn bind_models(&mut self, cluster: &Cluster) -> Result<(), UnknownModel> {
        if self.models.as_slice() == cluster.models() {
            return Ok(());
        }
        let mut map = [None::<ModelId>; ModelSet::CAPACITY];
        for (i, name) in self.models.iter().enumerate() {
            map[i] = cluster.model_id(name);
        }
        for (j, job) in self.jobs.iter_mut().enumerate() {
            if job.models.is_any() {
                continue;
            }
            let mut bound = ModelSet::ANY;
            for m in job.models.iter() {
                match map[m.index()] {
                    Some(c) => bound = bound.with(c),
                    None => {
                        return Err(UnknownModel {
                            source: self.source.clone(),
                            line: self.lines.get(j).copied().unwrap_or(0),
                            job: self.names[j].to_string(),
                            model: self.models[m.index()].clone(),
                            known: cluster.models().to_vec(),
                        });
                    }
                }
            }
            job.models = bound;
        }
        self.models = cluster.models().to_vec();
        Ok(())
    }
}

/// A job asks for a GPU model that no pool of the cluster has.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownModel {
    pub source: String,
    pub line: u32,
    pub job: String,
    pub model: String,
    pub known: Vec<String>,
}

impl fmt::Display for UnknownModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Line 0: the job came from no line of a file (an importer's object, a generator).
        match self.line {
            0 => write!(f, "{}: job '{}': GPU model", self.source, self.job)?,
            line => write!(
                f,
                "{}:{line}: job '{}': column 'gpu_model': GPU model",
                self.source, self.job
            )?,
        }
        write!(
            f,
            " '{}' is not in the cluster (its models: {})",
            self.model,
            self.known.join(", ")
        )
    }
}

impl std::error::Error for UnknownModel {}

/// Builds a workload row by row, interning team, user and model names.
#[derive(Debug, Default)]
pub struct WorkloadBuilder {
    w: Workload,
    team_ids: HashMap<String, TeamId>,
    user_ids: HashMap<String, UserId>,
    queue_ids: HashMap<String, u32>,
    class_ids: HashMap<String, u32>,
    job_class_ids: HashMap<String, u32>,
    model_ids: HashMap<String, ModelId>,
    selector_ids: HashMap<Selector, SelectorId>,
    sorted: bool,
    /// The jobs' indexes, hashed by name: finds a repeated name without a second copy of every
    /// name (a map of owned names cost about 60 bytes a job on traces of millions).
    by_name: hashbrown::HashTable<u32>,
}

/// A fast hash of a job name (eight bytes a step, multiply-rotate): the index rehashes every name
/// as it grows, and SipHash made that most of the time of building a million-job workload.
/// Names come from the user's own files, so there is no adversary to resist.
fn name_hash(name: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = name.len() as u64;
    let mut chunks = name.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h.rotate_left(5) ^ word).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    // Fold the high bits down: hashbrown takes its group tag from the top 7 bits and its
    // bucket from the low ones.
    h ^ (h >> 29)
}

/// Reorders `v` in place so that `v[i]` becomes the old `v[order[i]]` (`order` is a permutation;
/// it is used up).
fn permute<T>(v: &mut [T], order: &mut [u32]) {
    const DONE: u32 = u32::MAX;
    for i in 0..v.len() {
        let mut j = i;
        while order[j] != DONE {
            let k = order[j] as usize;
            order[j] = DONE;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// The id of `name` in `names`, adding it if new (at most `limit` names).
fn intern<I: Copy>(
    ids: &mut HashMap<String, I>,
    names: &mut Vec<String>,
    name: &str,
    limit: usize,
    what: &'static str,
    make: impl FnOnce(usize) -> I,
) -> Result<I, TooMany> {
    if let Some(&id) = ids.get(name) {
        return Ok(id);
    }
    if names.len() >= limit {
        return Err(TooMany(what));
    }
    let id = make(names.len());
    names.push(name.to_string());
    ids.insert(name.to_string(), id);
    Ok(id)
}

/// The most distinct node selectors a workload may hold: each costs a flag per pool in every
/// run's cluster, and a trace with more pins pods to nodes one by one.
pub const MAX_SELECTORS: usize = 4096;

/// More distinct names than a dense id can hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooMany(pub &'static str);

impl fmt::Display for TooMany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "too many distinct {}", self.0)
    }
}

impl WorkloadBuilder {
    pub fn new(source: impl Into<String>) -> Self {
        WorkloadBuilder {
            w: Workload {
                source: source.into(),
                ..Workload::default()
            },
            sorted: true,
            by_name: hashbrown::HashTable::new(),
            ..Default::default()
        }
    }

    pub fn team(&mut self, name: &str) -> Result<TeamId, TooMany> {
        intern(
            &mut self.team_ids,
            &mut self.w.teams,
            name,
            u32::MAX as usize,
            "teams",
            |i| TeamId(i as u32),
        )
    }

    pub fn user(&mut self, name: &str) -> Result<UserId, TooMany> {
        intern(
            &mut self.user_ids,
            &mut self.w.users,
            name,
            u32::MAX as usize,
            "users",
            |i| UserId(i as u32),
        )
    }

    pub fn queue(&mut self, name: &str) -> Result<u32, TooMany> {
        intern(
            &mut self.queue_ids,
            &mut self.w.queues,
            name,
            u32::MAX as usize,
            "queues",
            |i| i as u32,
        )
    }

    pub fn priority_class(&mut self, name: &str) -> Result<u32, TooMany> {
        intern(
            &mut self.class_ids,
            &mut self.w.classes,
            name,
            u32::MAX as usize,
            "priority classes",
            |i| i as u32,
        )
    }

    pub fn job_class(&mut self, name: &str) -> Result<u32, TooMany> {
        intern(
            &mut self.job_class_ids,
            &mut self.w.job_classes,
            name,
            u32::MAX as usize,
            "job classes",
            |i| i as u32,
        )
    }

    pub fn model(&mut self, name: &str) -> Result<ModelId, TooMany> {
        let (ids, names) = (&mut self.model_ids, &mut self.w.models);
        intern(
            ids,
            names,
            name,
            ModelSet::CAPACITY,
            "GPU models (at most 64)",
            |i| ModelId(i as u8),
        )
    }

    /// The id of a node selector, the same for equal selectors.
    pub fn selector(&mut self, sel: Selector) -> Result<SelectorId, TooMany> {
        if let Some(&i) = self.selector_ids.get(&sel) {
            return Ok(i);
        }
        if self.w.selectors.len() >= MAX_SELECTORS {
            return Err(TooMany("node selectors (at most 4096)"));
        }
        let i = SelectorId::new(self.w.selectors.len() as u32);
        self.selector_ids.insert(sel.clone(), i);
        self.w.selectors.push(sel);
        Ok(i)
    }

    /// The source line of the job already named `name`, if any: readers check this before
    /// `push`, since they know which column and line to blame.
    pub fn line_of(&self, name: &str) -> Option<u32> {
        let names = &self.w.names;
        self.by_name
            .find(name_hash(name), |&i| &names[i as usize] == name)
            .map(|&i| self.w.lines[i as usize])
    }

    /// Adds a job.
    pub fn push(&mut self, name: &str, line: u32, job: JobSpec) -> Result<(), TooMany> {
        if self.w.jobs.len() >= u32::MAX as usize {
            return Err(TooMany("jobs"));
        }
        let names = &self.w.names;
        self.by_name
            .insert_unique(name_hash(name), self.w.jobs.len() as u32, |&i| {
                name_hash(&names[i as usize])
            });
        if let Some(last) = self.w.jobs.last()
            && last.submit > job.submit
        {
            self.sorted = false;
        }
        self.w.jobs.push(job);
        self.w.names.push(name);
        self.w.lines.push(line);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.w.jobs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.w.jobs.is_empty()
    }

    /// The workload, sorted by submit time (ties keep their input order).
    pub fn finish(mut self) -> Workload {
        if !self.sorted {
            // Sorted in place: a copy of a trace of millions would double its memory.
            let mut order: Vec<u32> = (0..self.w.jobs.len() as u32).collect();
            order.sort_by_key(|&i| self.w.jobs[i as usize].submit);
            permute(&mut self.w.jobs, &mut order.clone());
            self.w.names = self.w.names.reordered(order.iter().map(|&i| i as usize));
            permute(&mut self.w.lines, &mut order);
        }
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_read_as_kubernetes_writes_them_and_match_every_pair() {
        let s = Selector::parse(" zone=b ; node-type=cpu").unwrap();
        assert_eq!(s.to_string(), "node-type=cpu;zone=b");
        assert_eq!(Selector::parse("zone=b;node-type=cpu").unwrap(), s);
        let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(s.matches(&labels(&[("zone", "b"), ("node-type", "cpu"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("zone", "b")])));
        assert!(!s.matches(&labels(&[("zone", "a"), ("node-type", "cpu")])));
        assert!(Selector::parse("a=").unwrap().matches(&labels(&[("a", "")])));
        for bad in ["", ";", "zone", "=b", "a=b=c", "a=1;a=2", "a b=c"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
        let mut b = WorkloadBuilder::new("t");
        let (x, y) = (
            b.selector(s.clone()).unwrap(),
            b.selector(Selector::parse("zone=a").unwrap()).unwrap(),
        );
        assert_eq!((x.index(), y.index(), b.selector(s).unwrap()), (0, 1, x));
    }

    #[test]
    fn permute_applies_any_permutation_in_place() {
        let orders: [&[u32]; 5] = [&[], &[0], &[1, 0], &[2, 0, 1], &[3, 4, 0, 1, 2, 5]];
        for order in orders {
            let mut v: Vec<u32> = (0..order.len() as u32).map(|i| i * 10).collect();
            let want: Vec<u32> = order.iter().map(|&i| i * 10).collect();
            permute(&mut v, &mut order.to_vec());
            assert_eq!(v, want, "{order:?}");
        }
    }

    #[test]
    fn an_unsorted_trace_is_sorted_stably_and_names_are_found() {
        let mut b = WorkloadBuilder::new("t");
        let team = b.team("a").unwrap();
        let pod = PodRequest {
            gpu_milli: 1000,
            cpu_milli: 0,
            mem_mib: 0,
        };
        for (name, line, submit) in [("c", 2, 30), ("a", 3, 10), ("b", 4, 30), ("d", 5, 0)] {
            assert_eq!(b.line_of(name), None);
            let spec = JobSpec::new(
                SimTime::from_secs(submit),
                SimDuration::from_secs(1),
                1,
                pod,
                team,
            );
            b.push(name, line, spec).unwrap();
        }
        assert_eq!(b.line_of("b"), Some(4));
        assert_eq!(b.line_of("e"), None);
        let w = b.finish();
        // By submit time; "c" and "b" tie at 30 and keep their input order.
        assert_eq!(w.names, ["d", "a", "c", "b"]);
        assert_eq!(w.lines, [5, 3, 2, 4]);
        let submits: Vec<u64> = w.jobs.iter().map(|j| j.submit.millis() / 1000).collect();
        assert_eq!(submits, [0, 10, 30, 30]);
    }
}
