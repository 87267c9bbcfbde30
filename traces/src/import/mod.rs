//! Importers: traces and clusters in the formats other tools write (Kubernetes objects as
//! `kubectl` prints them, public research traces), turned into fairway's jobs and pools.
//!
//! Every trace importer reads its files into [`Record`]s, one per job, with times on the
//! format's own clock; [`build`] then applies the mapping rules, decides what each record
//! becomes, moves time zero to the first submission and builds the workload. What could not be
//! imported is never dropped silently: the [`Report`] lists it with the file and object.

pub mod acme;
pub mod gavel;
pub mod helios;
pub mod kube;
pub mod mapping;
pub mod nodes;
pub mod pai;
pub mod philly;
pub mod pods;
pub mod prometheus;
mod research;
pub mod spot;
pub mod tiresias;
pub mod workloads;

pub use mapping::Mapping;

use crate::Loaded;
use crate::error::TraceError;
use fairway_engine::{JobKind, JobSpec, PodRequest, SimDuration, SimTime, WorkloadBuilder};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The trace formats read by an importer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// `kubectl get workloads -A -o json|yaml` (Kueue's Workload objects).
    KueueWorkloads,
    /// `kubectl get pods -A -o json|yaml`, pods of one owner grouped into one job.
    KubernetesPods,
    /// SenseTime Helios `cluster_log.csv` ([`helios`]).
    Helios,
    /// Microsoft Philly `cluster_job_log` JSON ([`philly`]).
    Philly,
    /// Shanghai AI Lab Acme `trace_seren.csv` / `trace_kalos.csv` ([`acme`]).
    Acme,
    /// Alibaba PAI 2020 `pai_job_table.csv` with `pai_task_table.csv` ([`pai`]).
    Pai,
    /// Alibaba spot-GPU 2026 `job_info_df.csv` ([`spot`]).
    AlibabaSpot,
    /// The Tiresias simulator's job CSV ([`tiresias`]).
    Tiresias,
    /// Gavel's tab-separated trace, with the run time column ([`gavel`]).
    Gavel,
    /// Prometheus query answers of kube-state-metrics' pod series and DCGM's utilisation
    /// ([`prometheus`]), from files or a URL.
    Prometheus,
}

impl ImportFormat {
    pub const NAMES: &[&str] = &[
        "kueue-workloads",
        "kubernetes-pods",
        "helios",
        "philly",
        "acme",
        "pai",
        "alibaba-spot",
        "tiresias",
        "gavel",
        "prometheus",
    ];

    pub fn parse(name: &str) -> Option<ImportFormat> {
        match name {
            "kueue-workloads" => Some(ImportFormat::KueueWorkloads),
            "kubernetes-pods" => Some(ImportFormat::KubernetesPods),
            "helios" => Some(ImportFormat::Helios),
            "philly" => Some(ImportFormat::Philly),
            "acme" => Some(ImportFormat::Acme),
            "pai" => Some(ImportFormat::Pai),
            "alibaba-spot" => Some(ImportFormat::AlibabaSpot),
            "tiresias" => Some(ImportFormat::Tiresias),
            "gavel" => Some(ImportFormat::Gavel),
            "prometheus" => Some(ImportFormat::Prometheus),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::KueueWorkloads => "kueue-workloads",
            ImportFormat::KubernetesPods => "kubernetes-pods",
            ImportFormat::Helios => "helios",
            ImportFormat::Philly => "philly",
            ImportFormat::Acme => "acme",
            ImportFormat::Pai => "pai",
            ImportFormat::AlibabaSpot => "alibaba-spot",
            ImportFormat::Tiresias => "tiresias",
            ImportFormat::Gavel => "gavel",
            ImportFormat::Prometheus => "prometheus",
        }
    }
}

/// What every importer is told besides its files.
#[derive(Clone, Debug)]
pub struct Options {
    /// Resource names counted as GPUs in Kubernetes requests (`nvidia.com/gpu` and the like).
    pub gpu_resources: Vec<String>,
    pub mapping: Mapping,
    /// Refuse more jobs than this.
    pub max_jobs: u64,
}

/// The GPU resource names of the common device plugins.
pub const DEFAULT_GPU_RESOURCES: &[&str] = &["nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915"];

impl Default for Options {
    fn default() -> Self {
        Options {
            gpu_resources: DEFAULT_GPU_RESOURCES.iter().map(|s| s.to_string()).collect(),
            mapping: Mapping::default(),
            max_jobs: crate::DEFAULT_MAX_ROWS,
        }
    }
}

/// How a record's job ended, as far as the trace knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Ran from its start to this instant (completed, failed or killed: it held its resources).
    At(i64),
    /// Ran for this many milliseconds (formats that give a duration rather than an end).
    After(i64),
    /// Was still running when the trace was taken.
    StillRunning,
    /// Had not started when the trace was taken.
    NeverStarted,
    /// Left the queue (deleted, cancelled, failed admission) without ever running.
    LeftUnstarted,
}

/// One job as an importer read it, times in milliseconds on the format's own clock.
#[derive(Clone, Debug)]
pub struct Record {
    /// Where it came from, for messages: `file: object` or `file:line`.
    pub origin: String,
    /// The job's id in the output (unique).
    pub name: String,
    pub submit_ms: i64,
    pub start_ms: Option<i64>,
    pub end: End,
    pub pods: u32,
    pub pod: PodRequest,
    pub team: Option<String>,
    pub queue: Option<String>,
    pub user: Option<String>,
    /// A number, or a priority class name.
    pub priority: Option<String>,
    pub kind: Option<JobKind>,
    pub gpu_model: Option<String>,
    pub gpu_util: Option<f32>,
    /// The ResourceFlavor a Kueue Workload's GPUs were admitted on (for mapping rules: a flavor
    /// names a quota, not a GPU model).
    pub flavor: Option<String>,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Node labels the job's pods must run on (Kubernetes' `nodeSelector`).
    pub node_selector: BTreeMap<String, String>,
}

impl Record {
    /// A record with nothing but its origin, name and submission; the rest is unset.
    pub fn new(origin: String, name: String, submit_ms: i64) -> Self {
        Record {
            origin,
            name,
            submit_ms,
            start_ms: None,
            end: End::NeverStarted,
            pods: 1,
            pod: PodRequest {
                gpu_milli: 0,
                cpu_milli: 0,
                mem_mib: 0,
            },
            team: None,
            queue: None,
            user: None,
            priority: None,
            kind: None,
            gpu_model: None,
            gpu_util: None,
            flavor: None,
            namespace: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            node_selector: BTreeMap::new(),
        }
    }
}

/// What an import did: jobs imported, records left out (with where and why), and values it
/// had to assume.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    pub format: String,
    pub files: Vec<String>,
    /// Records read (jobs before grouping is done by the importer; one record a job).
    pub read: u64,
    pub imported: u64,
    /// Per reason, the records left out: how many and the first few origins.
    pub skipped: BTreeMap<String, Skipped>,
    /// Per assumption ("team: no namespace or user, set to 'default'"), how many jobs.
    pub defaulted: BTreeMap<String, u64>,
    /// Objects or rows the importer passed over as not jobs at all (e.g. pods of a DaemonSet).
    pub ignored: BTreeMap<String, u64>,
    /// The instant of the first submission on the format's clock (RFC 3339 for formats with
    /// wall-clock times), which is time 0 of the imported trace.
    pub time_zero: Option<String>,
    /// The records' times are milliseconds since the Unix epoch (set by the importer), so
    /// time 0 is told as a date.
    pub wall_clock: bool,
    /// The records are nodes (a cluster import), not jobs.
    pub nodes: bool,
}

/// Records left out for one reason.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Skipped {
    pub count: u64,
    pub examples: Vec<String>,
}

const EXAMPLES: usize = 5;

impl Report {
    pub fn skip(&mut self, why: impl Into<String>, origin: &str) {
        let s = self.skipped.entry(why.into()).or_default();
        s.count += 1;
        if s.examples.len() < EXAMPLES {
            s.examples.push(origin.to_string());
        }
    }

    pub fn default_(&mut self, what: impl Into<String>) {
        *self.defaulted.entry(what.into()).or_default() += 1;
    }

    pub fn ignore(&mut self, what: impl Into<String>) {
        *self.ignored.entry(what.into()).or_default() += 1;
    }

    fn unit(&self) -> &'static str {
        if self.nodes { "node(s)" } else { "job(s)" }
    }

    /// The summary printed after an import: counts first, then each reason with examples.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let skipped: u64 = self.skipped.values().map(|k| k.count).sum();
        let unit = self.unit();
        let _ = writeln!(
            s,
            "{}: {} {unit} imported, {} left out, from {} record(s) in {}",
            self.format,
            self.imported,
            skipped,
            self.read,
            self.files.join(", ")
        );
        if let Some(t) = &self.time_zero {
            let _ = writeln!(s, "  time 0 is the first submission: {t}");
        }
        for (why, k) in &self.skipped {
            let more = if k.count as usize > k.examples.len() {
                ", ..."
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "  left out {} {unit}: {why} (e.g. {}{more})",
                k.count,
                k.examples.join("; ")
            );
        }
        for (what, n) in &self.defaulted {
            let _ = writeln!(s, "  assumed for {n} {unit}: {what}");
        }
        for (what, n) in &self.ignored {
            let _ = writeln!(
                s,
                "  not {}, passed over: {n} {what}",
                unit.trim_end_matches("(s)").to_string() + "s"
            );
        }
        s
    }

    /// One warning line a run prints when its trace was imported with something left out or
    /// assumed (the full account is [`render`](Report::render)).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (why, k) in &self.skipped {
            out.push(format!(
                "{}: left out {} {}: {why} (e.g. {})",
                self.files.join(", "),
                k.count,
                self.unit(),
                k.examples.first().map_or("", String::as_str)
            ));
        }
        for (what, n) in &self.defaulted {
            out.push(format!(
                "{}: assumed for {n} {}: {what}",
                self.files.join(", "),
                self.unit()
            ));
        }
        out
    }
}

/// A trace read by an importer, with its report.
#[derive(Debug)]
pub struct Imported {
    pub loaded: Loaded,
    pub report: Report,
}

/// Reads `paths` in `format`.
pub fn read(paths: &[PathBuf], format: ImportFormat, opts: &Options) -> Result<Imported, TraceError> {
    if paths.is_empty() {
        return Err(TraceError::config(format.name(), "no files given"));
    }
    let mut report = Report {
        format: format.name().to_string(),
        files: paths.iter().map(|p| p.display().to_string()).collect(),
        ..Report::default()
    };
    report.wall_clock = matches!(
        format,
        ImportFormat::KueueWorkloads | ImportFormat::KubernetesPods | ImportFormat::Prometheus
    );
    let records = match format {
        ImportFormat::KueueWorkloads => workloads::records(paths, opts, &mut report)?,
        ImportFormat::KubernetesPods => pods::records(paths, opts, &mut report)?,
        ImportFormat::Helios => helios::records(paths, opts, &mut report)?,
        ImportFormat::Philly => philly::records(paths, opts, &mut report)?,
        ImportFormat::Acme => acme::records(paths, opts, &mut report)?,
        ImportFormat::Pai => pai::records(paths, opts, &mut report)?,
        ImportFormat::AlibabaSpot => spot::records(paths, opts, &mut report)?,
        ImportFormat::Tiresias => tiresias::records(paths, opts, &mut report)?,
        ImportFormat::Gavel => gavel::records(paths, opts, &mut report)?,
        ImportFormat::Prometheus => prometheus::records(paths, opts, &mut report)?,
    };
    build(records, opts, report)
}

/// Applies the mapping rules to `records`, keeps the ones that can be jobs, and builds the
/// workload with time 0 at the first submission kept.
pub fn build(mut records: Vec<Record>, opts: &Options, mut report: Report) -> Result<Imported, TraceError> {
    // Added to what the importer counted itself (records it left out before building).
    report.read += records.len() as u64;
    let source = report.files.join(", ");
    // Each job with its run time in ms, `None` for one still running (open-ended).
    let mut kept: Vec<(Record, Option<i64>)> = Vec::with_capacity(records.len());
    for mut r in records.drain(..) {
        opts.mapping.apply(&mut r);
        let work = match (r.start_ms, r.end) {
            (Some(s), End::At(e)) if e >= s => Some(e - s),
            (Some(_), End::At(_)) => {
                report.skip("ends before it starts", &r.origin);
                continue;
            }
            (Some(_), End::After(d)) if d >= 0 => Some(d),
            (None, End::After(d)) if d >= 0 => {
                // A duration without a start: started when submitted, as far as the trace says.
                report.default_("start: none recorded, so the run time is the duration given");
                Some(d)
            }
            (_, End::After(_)) => {
                report.skip("negative duration", &r.origin);
                continue;
            }
            (Some(_), End::StillRunning) => {
                report.default_("run time: still running when the trace was taken, so open-ended (it runs to the end of a run)");
                None
            }
            (None, End::StillRunning) => {
                report.skip("running, but with no start recorded", &r.origin);
                continue;
            }
            (None, End::NeverStarted) | (Some(_), End::NeverStarted) => {
                report.skip(
                    "not started when the trace was taken (its run time is unknown)",
                    &r.origin,
                );
                continue;
            }
            (None, End::At(_)) | (_, End::LeftUnstarted) => {
                report.skip("left the queue without running", &r.origin);
                continue;
            }
        };
        if r.team.is_none() {
            r.team = r.namespace.clone().or_else(|| r.user.clone());
            if r.team.is_none() {
                report.default_("team: none given (no namespace, user or mapping rule), set to 'default'");
                r.team = Some("default".to_string());
            }
        }
        kept.push((r, work));
        if kept.len() as u64 > opts.max_jobs {
            return Err(TraceError::file(
                &source,
                format!(
                    "more than {} jobs: larger than the limit (the scenario's [limits] max_jobs; raise it if the trace is meant to be this large)",
                    opts.max_jobs
                ),
            ));
        }
    }
    let Some(t0) = kept.iter().map(|(r, _)| r.submit_ms).min() else {
        return Err(TraceError::file(
            &source,
            format!("no job could be imported\n{}", report.render().trim_end()),
        ));
    };
    kept.sort_by(|a, b| {
        a.0.submit_ms
            .cmp(&b.0.submit_ms)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    let mut b = WorkloadBuilder::new(source.clone());
    let mut seen = std::collections::HashSet::new();
    for (r, work) in kept {
        if !seen.insert(r.name.clone()) {
            report.skip("a second job of the same name", &r.origin);
            continue;
        }
        let spec = spec_of(&r, work, t0, &mut b, &mut report)?;
        // No line: the job came from an object, and messages name it by its name.
        b.push(&r.name, 0, spec)
            .map_err(|e| TraceError::file(&r.origin, e.to_string()))?;
        report.imported += 1;
    }
    if report.time_zero.is_none() {
        report.time_zero = Some(if report.wall_clock {
            kube::rfc3339(t0)
        } else {
            format!(
                "{} s on the trace's clock",
                fairway_engine::resources::fmt_milli(t0.unsigned_abs())
            )
        });
    }
    Ok(Imported {
        loaded: Loaded {
            workload: b.finish(),
            warnings: report.warnings(),
            timeless: false,
        },
        report,
    })
}

fn rel(ms: i64, t0: i64, origin: &str) -> Result<SimTime, TraceError> {
    let d = u64::try_from(ms - t0).map_err(|_| TraceError::file(origin, "time before time 0"))?;
    if d > fairway_engine::time::MAX_MILLIS {
        return Err(TraceError::file(
            origin,
            "more than 285,000 years after the first submission",
        ));
    }
    Ok(SimTime(d))
}

fn spec_of(
    r: &Record,
    work: Option<i64>,
    t0: i64,
    b: &mut WorkloadBuilder,
    report: &mut Report,
) -> Result<JobSpec, TraceError> {
    let err = |m: String| TraceError::file(&r.origin, m);
    let team = b
        .team(r.team.as_deref().expect("set in build"))
        .map_err(|e| err(e.to_string()))?;
    let submit = rel(r.submit_ms, t0, &r.origin)?;
    if work.is_some_and(|w| w as u64 > fairway_engine::time::MAX_MILLIS) {
        return Err(err("runs for more than 285,000 years".into()));
    }
    let mut spec = JobSpec::new(
        submit,
        SimDuration(work.unwrap_or(0) as u64),
        r.pods.max(1),
        r.pod,
        team,
    );
    if work.is_none() {
        spec.set_open_ended();
    }
    if let Some(s) = r.start_ms {
        let start = if s < r.submit_ms {
            report.default_("recorded start: before submission, read as at submission");
            submit
        } else {
            rel(s, t0, &r.origin)?
        };
        spec.recorded_start = start.into();
    }
    if let Some(q) = &r.queue {
        spec.queue = Some(b.queue(q).map_err(|e| err(e.to_string()))?);
    }
    if let Some(u) = &r.user {
        spec.user = Some(b.user(u).map_err(|e| err(e.to_string()))?);
    }
    if let Some(p) = &r.priority {
        match p.parse::<i32>() {
            Ok(v) => spec.priority = v,
            Err(_) => spec.priority_class = Some(b.priority_class(p).map_err(|e| err(e.to_string()))?),
        }
    }
    if let Some(k) = r.kind {
        spec.kind = k;
    }
    if let Some(m) = &r.gpu_model {
        spec.models = crate::canonical::model_set(m, b).map_err(err)?;
    }
    if let Some(u) = r.gpu_util {
        spec.gpu_util = Some(u.clamp(0.0, 1.0));
    }
    if !r.node_selector.is_empty() {
        let sel = fairway_engine::Selector(r.node_selector.clone().into_iter().collect());
        spec.selector = Some(b.selector(sel).map_err(|e| err(e.to_string()))?);
    }
    Ok(spec)
}
