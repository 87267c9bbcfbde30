//! The per-job table and the time series of a run, in one columnar form that the run writes to
//! `jobs.parquet` / `jobs.csv` and `timeseries.parquet` / `timeseries.csv`, and that
//! `fairway report` reads back. Everything the report draws comes from these two tables plus
//! `summary.json`, so a re-render from disk sees exactly what the run saw.
//!
//! Times are kept as integer milliseconds here; files carry seconds (`f64` in Parquet, exact
//! decimal text in CSV).

use fairway_engine::resources::push_milli;
use fairway_engine::{JobStatus, Names, Outcome, SeriesPoint, Workload};
use polars::prelude::*;
use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// A text value of a table column. Most columns repeat a few values (teams, statuses, kinds,
/// queues) over millions of rows, so each distinct value is held once and shared.
pub type Text = Arc<str>;

/// Hands out one shared [`Text`] per distinct value.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Text>);

impl Interner {
    pub fn get(&mut self, s: &str) -> Text {
        if let Some(t) = self.0.get(s) {
            return t.clone();
        }
        let t: Text = s.into();
        self.0.insert(t.clone());
        t
    }
}

/// Version of the Parquet layouts, written into each file's key-value metadata.
pub const TABLES_SCHEMA: &str = "fairway.tables/1";

/// One row per job of the trace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobsTable {
    /// Unique per row, so packed into one buffer rather than shared.
    pub job_id: Names,
    pub team: Vec<Text>,
    pub status: Vec<Text>,
    pub submit_ms: Vec<u64>,
    pub start_ms: Vec<Option<u64>>,
    pub end_ms: Vec<Option<u64>>,
    pub preemptions: Vec<u32>,
    /// GPUs per pod, milli-GPU.
    pub gpu_milli: Vec<u32>,
    pub pods: Vec<u32>,
    pub reason: Vec<Option<Text>>,
    pub admit_ms: Vec<Option<u64>>,
    pub quota_wait_ms: Vec<u64>,
    pub node_wait_ms: Vec<u64>,
    pub wait_reason: Vec<Option<Text>>,
    pub user: Vec<Option<Text>>,
    /// The policy's queue (a Kueue ClusterQueue; the team otherwise).
    pub queue: Vec<Option<Text>>,
    pub priority_class: Vec<Option<Text>>,
    pub kind: Vec<Text>,
    /// Total time pending, including after preemptions.
    pub pending_ms: Vec<u64>,
    /// Total time running, over all runs.
    pub run_ms: Vec<u64>,
    pub gpu_util: Vec<Option<f32>>,
    /// The nodes of the job's last run (`POOL-K`, the K-th node of the pool, with `*N` for N
    /// pods on it), in the order of its pods.
    pub nodes: Vec<Option<Text>>,
}

/// The file columns of the job table, in order.
pub const JOB_COLUMNS: &[&str] = &[
    "job_id",
    "team",
    "status",
    "submit_time",
    "start_time",
    "end_time",
    "wait_s",
    "jct_s",
    "preemptions",
    "gpus",
    "pods",
    "reason",
    "admit_time",
    "quota_wait_s",
    "node_wait_s",
    "wait_reason",
    "user",
    "queue",
    "priority_class",
    "kind",
    "pending_s",
    "run_s",
    "slowdown",
    "bounded_slowdown",
    "gpu_util",
    "gpu_hours",
    "nodes",
];

impl JobsTable {
    pub fn len(&self) -> usize {
        self.job_id.len()
    }
    pub fn is_empty(&self) -> bool {
        self.job_id.is_empty()
    }

    /// The table of a finished run.
    pub fn build(w: &Workload, o: &Outcome) -> JobsTable {
        JobsTable::build_rows(w, o, 0..w.len())
    }

    /// The rows of jobs `rows` (job ids) of a finished run, so that a large run's table can be
    /// written a batch at a time rather than held whole next to the outcome.
    pub fn build_rows(w: &Workload, o: &Outcome, rows: std::ops::Range<usize>) -> JobsTable {
        let n = rows.len();
        let mut t = JobsTable::default();
        let mut text = Interner::default();
        let texts = |names: &[String], text: &mut Interner| -> Vec<Text> {
            names.iter().map(|n| text.get(n)).collect()
        };
        let teams = texts(&w.teams, &mut text);
        let users = texts(&w.users, &mut text);
        let classes = texts(&w.classes, &mut text);
        let reasons = texts(&o.reasons, &mut text);
        let queue_names: Vec<Text> = o.queues.queues.iter().map(|q| text.get(&q.name)).collect();
        for i in rows {
            let (r, j) = (&o.jobs[i], &w.jobs[i]);
            t.job_id.push(&w.names[i]);
            t.team.push(teams[j.team.index()].clone());
            t.status.push(text.get(r.status.as_str()));
            t.submit_ms.push(j.submit.millis());
            t.start_ms.push(r.first_start().map(|s| s.millis()));
            t.end_ms.push(r.end().map(|e| e.millis()));
            t.preemptions.push(r.preemptions);
            t.gpu_milli.push(j.pod.gpu_milli);
            t.pods.push(j.pods);
            t.reason.push(r.reason.as_deref().map(|x| text.get(x)));
            t.admit_ms.push(r.first_admitted().map(|a| a.millis()));
            t.quota_wait_ms.push(r.pending_ms - r.admitted_wait_ms);
            t.node_wait_ms.push(r.admitted_wait_ms);
            t.wait_reason.push(match r.main_wait_reason() {
                0 => None,
                k => Some(reasons[k as usize].clone()),
            });
            t.user.push(j.user.map(|u| users[u.index()].clone()));
            t.queue.push(
                o.queues
                    .job_queue
                    .get(i)
                    .and_then(|&q| queue_names.get(q as usize))
                    .cloned(),
            );
            t.priority_class
                .push(j.priority_class.map(|c| classes[c as usize].clone()));
            t.kind.push(text.get(j.kind.as_str()));
            t.pending_ms.push(r.pending_ms);
            t.run_ms.push(r.run_ms);
            t.gpu_util.push(j.gpu_util);
            t.nodes.push(nodes_text(o, i, j.pods));
        }
        debug_assert_eq!(t.len(), n);
        t
    }

    pub fn wait_ms(&self, i: usize) -> Option<u64> {
        self.start_ms[i].map(|s| s - self.submit_ms[i])
    }
    /// End - submit, for finished jobs.
    pub fn jct_ms(&self, i: usize) -> Option<u64> {
        if *self.status[i] != *JobStatus::Finished.as_str() {
            return None;
        }
        self.end_ms[i].map(|e| e - self.submit_ms[i])
    }
    pub fn slowdown(&self, i: usize) -> Option<f64> {
        crate::metrics::slowdown(self.jct_ms(i)?, self.run_ms[i])
    }
    pub fn bounded_slowdown(&self, i: usize) -> Option<f64> {
        Some(crate::metrics::bounded_slowdown(self.jct_ms(i)?, self.run_ms[i]))
    }
    /// GPUs the whole job holds (pods x GPUs per pod).
    pub fn gpus(&self, i: usize) -> f64 {
        f64::from(self.pods[i]) * f64::from(self.gpu_milli[i]) / 1000.0
    }
    /// GPU-hours allocated to the job over all its runs.
    pub fn gpu_hours(&self, i: usize) -> f64 {
        self.gpus(i) * self.run_ms[i] as f64 / 3_600_000.0
    }
}

impl Table for JobsTable {
    const COLUMNS: &'static [&'static str] = JOB_COLUMNS;

    fn rows(&self) -> usize {
        self.len()
    }

    fn write_rows(&self, wr: &mut csv::Writer<&mut dyn Write>) -> std::io::Result<()> {
        let mut f = Fields::new(wr);
        for i in 0..self.len() {
            f.text(&self.job_id[i])?;
            f.text(&self.team[i])?;
            f.text(&self.status[i])?;
            f.milli(Some(self.submit_ms[i]))?;
            f.milli(self.start_ms[i])?;
            f.milli(self.end_ms[i])?;
            f.milli(self.wait_ms(i))?;
            f.milli(self.jct_ms(i))?;
            f.int(self.preemptions[i])?;
            f.milli(Some(u64::from(self.gpu_milli[i])))?;
            f.int(self.pods[i])?;
            f.opt_text(&self.reason[i])?;
            f.milli(self.admit_ms[i])?;
            f.milli(Some(self.quota_wait_ms[i]))?;
            f.milli(Some(self.node_wait_ms[i]))?;
            f.opt_text(&self.wait_reason[i])?;
            f.opt_text(&self.user[i])?;
            f.opt_text(&self.queue[i])?;
            f.opt_text(&self.priority_class[i])?;
            f.text(&self.kind[i])?;
            f.milli(Some(self.pending_ms[i]))?;
            f.milli(Some(self.run_ms[i]))?;
            f.num(self.slowdown(i))?;
            f.num(self.bounded_slowdown(i))?;
            f.num(self.gpu_util[i].map(f64::from))?;
            f.num(Some(self.gpu_hours(i)))?;
            f.opt_text(&self.nodes[i])?;
            f.end()?;
        }
        Ok(())
    }

    fn to_frame(&self) -> PolarsResult<DataFrame> {
        let n = self.len();
        let secs = |v: &[u64]| v.iter().map(|&m| m as f64 / 1000.0).collect::<Vec<f64>>();
        let osecs = |v: &[Option<u64>]| v.iter().map(|m| m.map(|m| m as f64 / 1000.0)).collect::<Vec<_>>();
        let each = |f: &dyn Fn(usize) -> Option<f64>| (0..n).map(f).collect::<Vec<_>>();
        let cols = vec![
            Column::new("job_id".into(), self.job_id.iter().collect::<Vec<&str>>()),
            Column::new("team".into(), strs(&self.team)),
            Column::new("status".into(), strs(&self.status)),
            Column::new("submit_time".into(), secs(&self.submit_ms)),
            Column::new("start_time".into(), osecs(&self.start_ms)),
            Column::new("end_time".into(), osecs(&self.end_ms)),
            Column::new(
                "wait_s".into(),
                each(&|i| self.wait_ms(i).map(|m| m as f64 / 1000.0)),
            ),
            Column::new(
                "jct_s".into(),
                each(&|i| self.jct_ms(i).map(|m| m as f64 / 1000.0)),
            ),
            Column::new("preemptions".into(), &self.preemptions),
            Column::new(
                "gpus".into(),
                self.gpu_milli
                    .iter()
                    .map(|&g| f64::from(g) / 1000.0)
                    .collect::<Vec<_>>(),
            ),
            Column::new("pods".into(), &self.pods),
            Column::new("reason".into(), opt_strs(&self.reason)),
            Column::new("admit_time".into(), osecs(&self.admit_ms)),
            Column::new("quota_wait_s".into(), secs(&self.quota_wait_ms)),
            Column::new("node_wait_s".into(), secs(&self.node_wait_ms)),
            Column::new("wait_reason".into(), opt_strs(&self.wait_reason)),
            Column::new("user".into(), opt_strs(&self.user)),
            Column::new("queue".into(), opt_strs(&self.queue)),
            Column::new("priority_class".into(), opt_strs(&self.priority_class)),
            Column::new("kind".into(), strs(&self.kind)),
            Column::new("pending_s".into(), secs(&self.pending_ms)),
            Column::new("run_s".into(), secs(&self.run_ms)),
            Column::new("slowdown".into(), each(&|i| self.slowdown(i))),
            Column::new("bounded_slowdown".into(), each(&|i| self.bounded_slowdown(i))),
            Column::new("gpu_util".into(), &self.gpu_util),
            Column::new("gpu_hours".into(), each(&|i| Some(self.gpu_hours(i)))),
            Column::new("nodes".into(), opt_strs(&self.nodes)),
        ];
        DataFrame::new(n, cols)
    }
}

impl JobsTable {
    /// Reads back a frame written by [`JobsTable::to_frame`] (derived columns are recomputed).
    pub fn from_frame(df: &DataFrame) -> PolarsResult<JobsTable> {
        let mut c = Cols(df, Interner::default());
        Ok(JobsTable {
            job_id: c.names("job_id")?,
            team: c.req_texts("team")?,
            status: c.req_texts("status")?,
            submit_ms: c.ms("submit_time")?,
            start_ms: c.opt_ms("start_time")?,
            end_ms: c.opt_ms("end_time")?,
            preemptions: c.u32s("preemptions")?,
            gpu_milli: c.ms("gpus")?.into_iter().map(|g| g as u32).collect(),
            pods: c.u32s("pods")?,
            reason: c.texts("reason")?,
            admit_ms: c.opt_ms("admit_time")?,
            quota_wait_ms: c.ms("quota_wait_s")?,
            node_wait_ms: c.ms("node_wait_s")?,
            wait_reason: c.texts("wait_reason")?,
            user: c.texts("user")?,
            queue: c.texts("queue")?,
            priority_class: c.texts("priority_class")?,
            kind: c.req_texts("kind")?,
            pending_ms: c.ms("pending_s")?,
            run_ms: c.ms("run_s")?,
            gpu_util: df.column("gpu_util")?.f32()?.iter().collect(),
            // Unique per row: not interned.
            nodes: df
                .column("nodes")?
                .str()?
                .iter()
                .map(|s| s.map(Text::from))
                .collect(),
        })
    }

    /// Checks that every time a job has is at or after its submission (waits are differences
    /// from it); `first_row` is the file row of this table's first row, for the message.
    pub fn check_times(&self, first_row: usize) -> Result<(), RowError> {
        for i in 0..self.submit_ms.len() {
            let submit = self.submit_ms[i];
            for (name, t) in [
                ("start_time", self.start_ms[i]),
                ("end_time", self.end_ms[i]),
                ("admit_time", self.admit_ms[i]),
            ] {
                if t.is_some_and(|t| t < submit) {
                    return Err(RowError {
                        row: first_row + i + 1,
                        what: format!("{name} is before submit_time"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The nodes of job `i`'s last run as `jobs.csv` writes them: each node once, in the order of
/// the pods, `*N` after it when N pods of the job ran there.
fn nodes_text(o: &Outcome, i: usize, pods: u32) -> Option<Text> {
    let nodes = o.placed.last(i, pods);
    if nodes.is_empty() {
        return None;
    }
    let mut seen: Vec<((u32, u32), u32)> = Vec::new();
    let mut index: std::collections::HashMap<(u32, u32), usize> = Default::default();
    for &n in nodes {
        let k = *index.entry(n).or_insert_with(|| {
            seen.push((n, 0));
            seen.len() - 1
        });
        seen[k].1 += 1;
    }
    let mut out = String::new();
    for (k, ((pool, node), count)) in seen.into_iter().enumerate() {
        use std::fmt::Write as _;
        if k > 0 {
            out.push(';');
        }
        let name = o.pools.get(pool as usize).map_or("?", |p| p.name.as_str());
        let _ = write!(out, "{name}-{node}");
        if count > 1 {
            let _ = write!(out, "*{count}");
        }
    }
    Some(out.into())
}

/// A text column as polars takes it.
fn strs(v: &[Text]) -> Vec<&str> {
    v.iter().map(|s| &**s).collect()
}

fn opt_strs(v: &[Option<Text>]) -> Vec<Option<&str>> {
    v.iter().map(|s| s.as_deref()).collect()
}

/// Typed column readers over a frame this module wrote; text values are shared through one
/// interner.
struct Cols<'a>(&'a DataFrame, Interner);

impl Cols<'_> {
    fn texts(&mut self, name: &str) -> PolarsResult<Vec<Option<Text>>> {
        let col = self.0.column(name)?.str()?;
        Ok(col.iter().map(|s| s.map(|s| self.1.get(s))).collect())
    }
    fn req_texts(&mut self, name: &str) -> PolarsResult<Vec<Text>> {
        self.texts(name)?
            .into_iter()
            .map(|s| s.ok_or_else(|| missing(name)))
            .collect()
    }
    /// A text column with a distinct value on every row.
    fn names(&self, name: &str) -> PolarsResult<Names> {
        let col = self.0.column(name)?.str()?;
        col.iter().map(|s| s.ok_or_else(|| missing(name))).collect()
    }
    /// Seconds back to milliseconds.
    fn opt_ms(&self, name: &str) -> PolarsResult<Vec<Option<u64>>> {
        self.0
            .column(name)?
            .f64()?
            .iter()
            .map(|s| match s {
                None => Ok(None),
                Some(v) => ms_of(v).map(Some).ok_or_else(|| {
                    PolarsError::ComputeError(
                        format!("column '{name}' holds {v}, which is not a time in seconds").into(),
                    )
                }),
            })
            .collect()
    }
    fn ms(&self, name: &str) -> PolarsResult<Vec<u64>> {
        self.opt_ms(name)?
            .into_iter()
            .map(|s| s.ok_or_else(|| missing(name)))
            .collect()
    }
    fn u32s(&self, name: &str) -> PolarsResult<Vec<u32>> {
        self.0
            .column(name)?
            .u32()?
            .iter()
            .map(|s| s.ok_or_else(|| missing(name)))
            .collect()
    }
}

fn missing(name: &str) -> PolarsError {
    PolarsError::ComputeError(format!("column '{name}' has an empty value").into())
}

/// Seconds back to the integer milliseconds they were written from; `None` for what no run
/// writes (NaN, an infinity, a negative time, or one past the engine's range).
fn ms_of(s: f64) -> Option<u64> {
    let ms = (s * 1000.0).round();
    (ms.is_finite() && (0.0..=u64::MAX as f64 / 2.0).contains(&ms)).then_some(ms as u64)
}

/// A float in the shortest text that reads back to the same value.
pub fn fmt_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// Writes a CSV row one field at a time, formatting numbers into one reused buffer: a row costs
/// no allocation, which matters at tens of millions of rows. An absent value is an empty field.
struct Fields<'a, 'w> {
    wr: &'a mut csv::Writer<&'w mut dyn Write>,
    buf: String,
}

impl<'a, 'w> Fields<'a, 'w> {
    fn new(wr: &'a mut csv::Writer<&'w mut dyn Write>) -> Self {
        Fields {
            wr,
            buf: String::new(),
        }
    }
    fn text(&mut self, s: &str) -> std::io::Result<()> {
        Ok(self.wr.write_field(s)?)
    }
    fn opt_text(&mut self, s: &Option<Text>) -> std::io::Result<()> {
        self.text(s.as_deref().unwrap_or_default())
    }
    /// Thousandths, as [`fairway_engine::resources::fmt_milli`] prints them.
    fn milli(&mut self, v: Option<u64>) -> std::io::Result<()> {
        self.buf.clear();
        if let Some(v) = v {
            push_milli(&mut self.buf, v);
        }
        Ok(self.wr.write_field(&self.buf)?)
    }
    fn int(&mut self, v: u32) -> std::io::Result<()> {
        Ok(self.wr.write_field(itoa::Buffer::new().format(v))?)
    }
    /// A float as [`fmt_f64`] prints it.
    fn num(&mut self, v: Option<f64>) -> std::io::Result<()> {
        use std::fmt::Write as _;
        self.buf.clear();
        if let Some(x) = v.filter(|x| x.is_finite()) {
            let _ = write!(self.buf, "{x}");
        }
        Ok(self.wr.write_field(&self.buf)?)
    }
    /// Ends the row.
    fn end(&mut self) -> std::io::Result<()> {
        Ok(self.wr.write_record(None::<&[u8]>)?)
    }
}

/// A table the run writes as CSV and Parquet, one batch of rows at a time.
pub trait Table {
    /// The file columns, in order (the CSV header).
    const COLUMNS: &'static [&'static str];
    fn rows(&self) -> usize;
    /// Appends the rows (no header) to a CSV writer.
    fn write_rows(&self, wr: &mut csv::Writer<&mut dyn Write>) -> std::io::Result<()>;
    /// The rows as a polars frame, with the documented column names and types.
    fn to_frame(&self) -> PolarsResult<DataFrame>;
}

/// One row per change of the cluster's or a team's level.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesTable {
    pub time_ms: Vec<u64>,
    /// `None` for the whole cluster.
    pub team: Vec<Option<Text>>,
    pub gpu_milli: Vec<u64>,
    pub running: Vec<u32>,
    pub pending: Vec<u32>,
    pub pending_gpu_milli: Vec<u64>,
    /// GPUs used (allocation x utilisation) and allocation of the jobs whose utilisation is
    /// known; `None` throughout when the trace has no utilisation.
    pub used_gpu_milli: Vec<Option<u64>>,
    pub measured_gpu_milli: Vec<Option<u64>>,
    /// `None` unless the run tracked fragmentation (cluster rows only).
    pub fragmented_gpu_milli: Vec<Option<u64>>,
}

/// The file columns of the time series, in order.
pub const SERIES_COLUMNS: &[&str] = &[
    "time_s",
    "scope",
    "team",
    "gpus_allocated",
    "jobs_running",
    "jobs_pending",
    "gpus_fragmented",
    "gpus_pending",
    "gpus_used",
    "gpus_measured",
];

impl SeriesTable {
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }
    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    pub fn build(w: &Workload, o: &Outcome) -> SeriesTable {
        SeriesTable::from_points(&o.series, &SeriesShape::of(w, o.fragmentation_tracked))
    }

    /// The rows of `points`, named and shaped as `shape` says.
    pub fn from_points(points: &[SeriesPoint], shape: &SeriesShape) -> SeriesTable {
        let SeriesShape {
            teams,
            util_known,
            fragmentation_tracked,
        } = shape;
        let (util_known, fragmentation_tracked) = (*util_known, *fragmentation_tracked);
        let mut t = SeriesTable::default();
        for p in points {
            t.time_ms.push(p.time.millis());
            t.team.push(p.team.map(|x| teams[x.index()].clone()));
            t.gpu_milli.push(u64::from(p.level.gpu_milli));
            t.running.push(p.level.running);
            t.pending.push(p.level.pending);
            t.pending_gpu_milli.push(p.level.pending_gpu_milli);
            t.used_gpu_milli
                .push(util_known.then_some(u64::from(p.level.used_gpu_milli)));
            t.measured_gpu_milli
                .push(util_known.then_some(u64::from(p.level.measured_gpu_milli)));
            t.fragmented_gpu_milli.push(
                (fragmentation_tracked && p.team.is_none())
                    .then_some(u64::from(p.level.fragmented_gpu_milli)),
            );
        }
        t
    }

    pub fn from_frame(df: &DataFrame) -> PolarsResult<SeriesTable> {
        let mut c = Cols(df, Interner::default());
        Ok(SeriesTable {
            time_ms: c.ms("time_s")?,
            team: c.texts("team")?,
            gpu_milli: c.ms("gpus_allocated")?,
            running: c.u32s("jobs_running")?,
            pending: c.u32s("jobs_pending")?,
            pending_gpu_milli: c.ms("gpus_pending")?,
            used_gpu_milli: c.opt_ms("gpus_used")?,
            measured_gpu_milli: c.opt_ms("gpus_measured")?,
            fragmented_gpu_milli: c.opt_ms("gpus_fragmented")?,
        })
    }
}

/// What turns series points into rows: the team names, and which optional columns the run has.
#[derive(Clone, Debug)]
pub struct SeriesShape {
    pub teams: Vec<Text>,
    /// Whether any job has a measured utilisation (else the used/measured columns are empty).
    pub util_known: bool,
    /// Whether the run tracked fragmentation (else that column is empty).
    pub fragmentation_tracked: bool,
}

impl SeriesShape {
    pub fn of(w: &Workload, fragmentation_tracked: bool) -> SeriesShape {
        SeriesShape {
            teams: w.teams.iter().map(|t| Text::from(t.as_str())).collect(),
            util_known: w.jobs.iter().any(|j| j.gpu_util.is_some()),
            fragmentation_tracked,
        }
    }
}

impl Table for SeriesTable {
    const COLUMNS: &'static [&'static str] = SERIES_COLUMNS;

    fn rows(&self) -> usize {
        self.len()
    }

    fn write_rows(&self, wr: &mut csv::Writer<&mut dyn Write>) -> std::io::Result<()> {
        let mut f = Fields::new(wr);
        for i in 0..self.len() {
            let (scope, team) = match &self.team[i] {
                None => ("cluster", ""),
                Some(t) => ("team", &**t),
            };
            f.milli(Some(self.time_ms[i]))?;
            f.text(scope)?;
            f.text(team)?;
            f.milli(Some(self.gpu_milli[i]))?;
            f.int(self.running[i])?;
            f.int(self.pending[i])?;
            f.milli(self.fragmented_gpu_milli[i])?;
            f.milli(Some(self.pending_gpu_milli[i]))?;
            f.milli(self.used_gpu_milli[i])?;
            f.milli(self.measured_gpu_milli[i])?;
            f.end()?;
        }
        Ok(())
    }

    fn to_frame(&self) -> PolarsResult<DataFrame> {
        let secs = |v: &[u64]| v.iter().map(|&m| m as f64 / 1000.0).collect::<Vec<f64>>();
        let osecs = |v: &[Option<u64>]| v.iter().map(|m| m.map(|m| m as f64 / 1000.0)).collect::<Vec<_>>();
        let scope: Vec<&str> = (self.team.iter())
            .map(|t| if t.is_some() { "team" } else { "cluster" })
            .collect();
        DataFrame::new(
            self.len(),
            vec![
                Column::new("time_s".into(), secs(&self.time_ms)),
                Column::new("scope".into(), scope),
                Column::new("team".into(), opt_strs(&self.team)),
                Column::new("gpus_allocated".into(), secs(&self.gpu_milli)),
                Column::new("jobs_running".into(), &self.running),
                Column::new("jobs_pending".into(), &self.pending),
                Column::new("gpus_fragmented".into(), osecs(&self.fragmented_gpu_milli)),
                Column::new("gpus_pending".into(), secs(&self.pending_gpu_milli)),
                Column::new("gpus_used".into(), osecs(&self.used_gpu_milli)),
                Column::new("gpus_measured".into(), osecs(&self.measured_gpu_milli)),
            ],
        )
    }
}

/// One row of a table that breaks a rule the tables keep.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}: {what}")]
pub struct RowError {
    /// The file row, from 1.
    pub row: usize,
    pub what: String,
}

/// A Parquet file could not be written or read.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TableError {
    pub file: String,
    pub message: String,
}

/// Writes `df` to `path` atomically, uncompressed-but-dictionary-encoded (zstd), with the
/// layout version in the file's metadata.
pub fn write_parquet(path: &Path, mut df: DataFrame) -> Result<(), crate::WriteError> {
    crate::write_atomic(path, |f| {
        parquet_writer(f)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// fairway's Parquet settings: zstd, with the layout version in the file's metadata.
pub(crate) fn parquet_writer<W: Write>(out: W) -> ParquetWriter<W> {
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
            "fairway.schema".to_string(),
            TABLES_SCHEMA.to_string(),
        )])))
}

/// Reads a Parquet file into a frame.
pub fn read_parquet(path: &Path) -> Result<DataFrame, TableError> {
    let err = |m: String| TableError {
        file: path.display().to_string(),
        message: m,
    };
    let f = fairway_engine::input::open(path).map_err(|e| err(e.to_string()))?;
    ParquetReader::new(f).finish().map_err(|e| err(e.to_string()))
}

/// Reads the table at `path` a row group at a time (the run writes each batch of rows as one),
/// so that a large table is never held whole: `rows` turns each group into rows of type `T`
/// and `each` takes them in order, with the file row (from 0) of their first; its error is
/// reported against the file. A file without row groups still has its columns checked.
pub fn read_batches<T>(
    path: &Path,
    rows: impl Fn(&DataFrame) -> PolarsResult<T>,
    mut each: impl FnMut(T, usize) -> Result<(), RowError>,
) -> Result<(), TableError> {
    let err = |m: String| TableError {
        file: path.display().to_string(),
        message: m,
    };
    let open = || fairway_engine::input::open(path).map_err(|e| err(e.to_string()));
    let metadata = ParquetReader::new(open()?)
        .get_metadata()
        .map_err(|e| err(e.to_string()))?
        .clone();
    let mut groups: Vec<usize> = metadata.row_groups.iter().map(|g| g.num_rows()).collect();
    if groups.is_empty() {
        // Read once, empty, so that the columns are checked all the same.
        groups.push(0);
    }
    let mut offset = 0;
    for rows_in_group in groups {
        let mut reader = ParquetReader::new(open()?).with_slice(Some((offset, rows_in_group)));
        reader.set_metadata(metadata.clone());
        let df = reader.finish().map_err(|e| err(e.to_string()))?;
        let batch = rows(&df).map_err(|e| err(format!("not a fairway table: {e}")))?;
        each(batch, offset).map_err(|e| err(e.to_string()))?;
        offset += rows_in_group;
    }
    Ok(())
}

/// Reads both tables of an output folder.
pub fn read_tables(dir: &Path) -> Result<(JobsTable, SeriesTable), TableError> {
    let jobs_path = dir.join("jobs.parquet");
    let series_path = dir.join("timeseries.parquet");
    let bad = |p: &Path, e: PolarsError| TableError {
        file: p.display().to_string(),
        message: format!("not a fairway table: {e}"),
    };
    let jobs = JobsTable::from_frame(&read_parquet(&jobs_path)?).map_err(|e| bad(&jobs_path, e))?;
    jobs.check_times(0).map_err(|e| TableError {
        file: jobs_path.display().to_string(),
        message: e.to_string(),
    })?;
    let series = SeriesTable::from_frame(&read_parquet(&series_path)?).map_err(|e| bad(&series_path, e))?;
    Ok((jobs, series))
}
