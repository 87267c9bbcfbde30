//! fairway's own CSV trace format: one row per job.
//!
//! Required columns: `job_id`, `submit_time`, `duration`, `gpus`, `team`. Optional: `pods`, `cpu`,
//! `memory_gib`, `gpu_model`, `priority`, `user`, `queue`, `runtime_estimate`, `gpu_util`, `kind`,
//! `class`, `recorded_start`, `patience`, `node_selector`. Times are seconds (decimals allowed,
//! kept to the millisecond); a duration may be 0 (a job that ends as it starts), or `open` for a
//! job still running when the trace ended (it never finishes in a run).

use crate::Loaded;
use crate::error::TraceError;
use crate::table::{Col, Row, Table, unique_id};
use fairway_engine::{
    GPU_MILLI, JobKind, JobSpec, ModelSet, PodRequest, SimDuration, SimTime, WorkloadBuilder,
};
use std::path::Path;

/// Every column the canonical format defines, required ones first.
pub const COLUMNS: &[&str] = &[
    "job_id",
    "submit_time",
    "duration",
    "gpus",
    "team",
    "pods",
    "cpu",
    "memory_gib",
    "gpu_model",
    "priority",
    "user",
    "queue",
    "runtime_estimate",
    "gpu_util",
    "kind",
    "class",
    "recorded_start",
    "patience",
    "node_selector",
];

struct Cols {
    id: Col,
    submit: Col,
    duration: Col,
    gpus: Col,
    team: Col,
    pods: Option<Col>,
    cpu: Option<Col>,
    mem: Option<Col>,
    model: Option<Col>,
    priority: Option<Col>,
    user: Option<Col>,
    queue: Option<Col>,
    estimate: Option<Col>,
    util: Option<Col>,
    kind: Option<Col>,
    class: Option<Col>,
    recorded: Option<Col>,
    patience: Option<Col>,
    selector: Option<Col>,
}

/// Reads a canonical trace. Rows may come in any order; the workload is sorted by submit time.
pub fn read(path: &Path) -> Result<Loaded, TraceError> {
    read_with(path, crate::table::DEFAULT_MAX_ROWS)
}

/// [`read`], refusing more than `max_jobs` rows.
pub fn read_with(path: &Path, max_jobs: u64) -> Result<Loaded, TraceError> {
    let mut t = Table::open(path)?;
    t.limit_rows(max_jobs);
    let c = Cols {
        id: t.required("job_id")?,
        submit: t.required("submit_time")?,
        duration: t.required("duration")?,
        gpus: t.required("gpus")?,
        team: t.required("team")?,
        pods: t.optional("pods"),
        cpu: t.optional("cpu"),
        mem: t.optional("memory_gib"),
        model: t.optional("gpu_model"),
        priority: t.optional("priority"),
        user: t.optional("user"),
        queue: t.optional("queue"),
        estimate: t.optional("runtime_estimate"),
        util: t.optional("gpu_util"),
        kind: t.optional("kind"),
        class: t.optional("class"),
        recorded: t.optional("recorded_start"),
        patience: t.optional("patience"),
        selector: t.optional("node_selector"),
    };
    let mut warnings = Vec::new();
    let unknown = t.unknown_columns(COLUMNS);
    if !unknown.is_empty() {
        warnings.push(format!(
            "{}: ignoring unknown columns: {}",
            t.file,
            unknown.join(", ")
        ));
    }
    let mut b = WorkloadBuilder::new(t.file.clone());
    let mut rec = csv::StringRecord::new();
    while let Some(row) = t.next(&mut rec)? {
        let name = unique_id(&row, c.id, &b)?;
        let spec = parse_row(&row, &c, &mut b)?;
        b.push(name, row.line as u32, spec)
            .map_err(|e| row.row_err(e.to_string()))?;
    }
    if b.is_empty() {
        return Err(TraceError::file(&t.file, "the trace has a header but no jobs"));
    }
    Ok(Loaded {
        workload: b.finish(),
        warnings,
        timeless: false,
    })
}

fn parse_row(row: &Row<'_>, c: &Cols, b: &mut WorkloadBuilder) -> Result<JobSpec, TraceError> {
    let submit = row.secs(c.submit, false)?;
    let open = row.str(c.duration).trim() == "open";
    let work = if open { 0 } else { row.secs(c.duration, false)? };
    let gpu_milli = gpu_milli(row, c.gpus)?;
    let team_name = row.non_empty(c.team)?;
    let team = b.team(team_name).map_err(|e| row.err(c.team, e.to_string()))?;
    let pods = match row.opt_i64(c.pods)? {
        None => 1,
        Some(p) if (1..=i64::from(u32::MAX)).contains(&p) => p as u32,
        Some(p) => {
            return Err(row.err(
                c.pods.expect("present"),
                format!("expected a whole number >= 1, found '{p}'"),
            ));
        }
    };
    let cpu_milli = nonneg(row, c.cpu, 1000.0, "cores")?;
    let mem_mib = nonneg(row, c.mem, 1024.0, "GiB")?;
    let mut spec = JobSpec::new(
        SimTime(submit),
        SimDuration(work),
        pods,
        PodRequest {
            gpu_milli,
            cpu_milli,
            mem_mib,
        },
        team,
    );
    if let Some(text) = row.opt_str(c.model) {
        spec.models = model_set(text, b).map_err(|m| row.err(c.model.expect("present"), m))?;
    }
    if let Some(text) = row.opt_str(c.priority) {
        // A whole number, or the name of a priority class (e.g. a Kueue WorkloadPriorityClass).
        match text.parse::<i64>() {
            Ok(p) => {
                spec.priority = i32::try_from(p).map_err(|_| {
                    row.err(
                        c.priority.expect("present"),
                        format!("priority {p} is out of range"),
                    )
                })?;
            }
            Err(_) if text.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic()) => {
                spec.priority_class = Some(
                    b.priority_class(text)
                        .map_err(|e| row.err(c.priority.expect("present"), e.to_string()))?,
                );
            }
            Err(_) => {
                return Err(row.err(
                    c.priority.expect("present"),
                    format!("expected a whole number or a priority class name, found '{text}'"),
                ));
            }
        }
    }
    if let Some(u) = row.opt_str(c.user) {
        spec.user = Some(
            b.user(u)
                .map_err(|e| row.err(c.user.expect("present"), e.to_string()))?,
        );
    }
    if let Some(q) = row.opt_str(c.queue) {
        spec.queue = Some(
            b.queue(q)
                .map_err(|e| row.err(c.queue.expect("present"), e.to_string()))?,
        );
    }
    spec.estimate = row.opt_secs(c.estimate, true)?.map(SimDuration).into();
    if let Some(u) = row.opt_f64(c.util)? {
        if !(0.0..=1.0).contains(&u) {
            return Err(row.err(
                c.util.expect("present"),
                format!("expected a fraction between 0 and 1, found '{u}'"),
            ));
        }
        spec.gpu_util = Some(u as f32);
    }
    if let Some(k) = row.opt_str(c.kind) {
        spec.kind = match k {
            "batch" => JobKind::Batch,
            "interactive" => JobKind::Interactive,
            other => {
                return Err(row.err(
                    c.kind.expect("present"),
                    format!("expected 'batch' or 'interactive', found '{other}'"),
                ));
            }
        };
    }
    if let Some(cl) = row.opt_str(c.class) {
        spec.class = Some(
            b.job_class(cl)
                .map_err(|e| row.err(c.class.expect("present"), e.to_string()))?,
        );
    }
    if let Some(r) = row.opt_secs(c.recorded, false)? {
        if r < submit {
            return Err(row.err(
                c.recorded.expect("present"),
                "the recorded start is before submit_time",
            ));
        }
        spec.recorded_start = SimTime(r).into();
    }
    spec.patience = row.opt_secs(c.patience, false)?.map(SimDuration).into();
    if open {
        spec.set_open_ended();
    }
    if let Some(text) = row.opt_str(c.selector) {
        let col = c.selector.expect("present");
        let sel = fairway_engine::Selector::parse(text).map_err(|m| row.err(col, m))?;
        spec.selector = Some(b.selector(sel).map_err(|e| row.err(col, e.to_string()))?);
    }
    Ok(spec)
}

/// GPUs per pod: a whole number, or a share of one GPU in (0, 1), to the milli-GPU.
fn gpu_milli(row: &Row<'_>, col: Col) -> Result<u32, TraceError> {
    let v = row.f64(col)?;
    let milli = v * f64::from(GPU_MILLI);
    if v < 0.0 || milli > f64::from(u32::MAX) {
        return Err(row.err(
            col,
            format!("expected a number of GPUs >= 0, found '{}'", row.str(col)),
        ));
    }
    if (milli - milli.round()).abs() > 1e-6 {
        return Err(row.err(
            col,
            format!(
                "GPU shares are counted to the milli-GPU (0.001), found '{}'",
                row.str(col)
            ),
        ));
    }
    let milli = milli.round() as u32;
    PodRequest::validate_gpu(milli).map_err(|e| row.err(col, format!("{e}, found '{}'", row.str(col))))?;
    Ok(milli)
}

/// The most a row may ask for of CPU (in milli-cores) or memory (in MiB), less one: far beyond
/// any node, and exact through an f64.
pub const MAX_AMOUNT: u64 = 1_000_000_000_000_000;

/// A non-negative amount scaled to integer units (cores -> milli, GiB -> MiB); 0 when absent.
fn nonneg(row: &Row<'_>, col: Option<Col>, scale: f64, unit: &str) -> Result<u64, TraceError> {
    match row.opt_f64(col)? {
        None => Ok(0),
        Some(v) if v >= 0.0 && v * scale < MAX_AMOUNT as f64 => Ok((v * scale).round() as u64),
        Some(_) => {
            let col = col.expect("present");
            Err(row.err(
                col,
                format!("expected a number of {unit} >= 0, found '{}'", row.str(col)),
            ))
        }
    }
}

/// `A100|H100` as a set of models (a repeated model counts once).
pub(crate) fn model_set(text: &str, b: &mut WorkloadBuilder) -> Result<ModelSet, String> {
    let mut set = ModelSet::ANY;
    for m in text.split('|').map(str::trim) {
        if m.is_empty() {
            return Err(format!("expected GPU models separated by '|', found '{text}'"));
        }
        set = set.with(b.model(m).map_err(|e| e.to_string())?);
    }
    Ok(set)
}
