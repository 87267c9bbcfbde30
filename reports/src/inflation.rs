//! Outputs of the workload-inflation experiment: `inflation.csv` (one row per arrival and
//! placement), `summary.json` (schema `fairway.inflation/1`) and a table.

use crate::files::{WriteError, write_atomic};
use crate::metrics::RunInfo;
use fairway_engine::Workload;
use fairway_engine::inflation::Curve;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// Version of the inflation `summary.json` layout.
pub const INFLATION_SCHEMA: &str = "fairway.inflation/1";

/// The experiment's headline numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InflationSummary {
    pub schema: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub trace: String,
    /// Arrived GPU demand at which arrivals stop, as a fraction of GPU capacity.
    pub target: f64,
    pub capacity_gpus: f64,
    pub placements: Vec<PlacementResult>,
}

/// One placement's result. Ratios are fractions of cluster GPU capacity (milli-GPU summed).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlacementResult {
    pub placement: String,
    pub arrivals: usize,
    pub failed: usize,
    pub arrived_gpu_demand: f64,
    /// Allocated GPU capacity at the end.
    pub gpu_allocation_ratio: f64,
    /// Allocated GPU capacity when arrived demand first reached 100 % of capacity.
    pub gpu_allocation_ratio_at_full_demand: Option<f64>,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

pub fn summarize(curves: &[Curve], info: &RunInfo, target: f64) -> InflationSummary {
    let capacity = curves.first().map_or(0, |c| c.capacity_gpu_milli);
    InflationSummary {
        schema: INFLATION_SCHEMA,
        scenario: info.scenario.clone(),
        seed: info.seed,
        trace: info.trace.clone(),
        target,
        capacity_gpus: capacity as f64 / 1000.0,
        placements: curves
            .iter()
            .map(|c| PlacementResult {
                placement: c.placement.clone(),
                arrivals: c.arrivals.len(),
                failed: c.failed(),
                arrived_gpu_demand: round6(
                    c.arrivals
                        .last()
                        .map_or(0.0, |a| a.arrived_gpu_milli as f64 / capacity as f64),
                ),
                gpu_allocation_ratio: round6(c.final_ratio()),
                gpu_allocation_ratio_at_full_demand: c.ratio_at(1.0).map(round6),
            })
            .collect(),
    }
}

/// One row per arrival and placement: `placement, arrival, job, gpu, placed,
/// arrived_gpu_demand, gpu_allocation_ratio`.
pub fn inflation_csv(out: &mut dyn Write, w: &Workload, curves: &[Curve]) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record([
        "placement",
        "arrival",
        "job",
        "gpu",
        "placed",
        "arrived_gpu_demand",
        "gpu_allocation_ratio",
    ])?;
    for c in curves {
        let cap = c.capacity_gpu_milli as f64;
        for (i, a) in c.arrivals.iter().enumerate() {
            wr.write_record([
                c.placement.as_str(),
                &(i + 1).to_string(),
                &w.names[a.job],
                &fairway_engine::resources::fmt_milli(w.jobs[a.job].gpu_milli()),
                if a.placed { "true" } else { "false" },
                &format!("{:.6}", a.arrived_gpu_milli as f64 / cap),
                &format!("{:.6}", a.allocated_gpu_milli as f64 / cap),
            ])?;
        }
    }
    wr.flush()
}

/// Writes `inflation.csv` and `summary.json` into `dir` (created if needed).
pub fn write_inflation(
    dir: &Path,
    w: &Workload,
    curves: &[Curve],
    summary: &InflationSummary,
) -> Result<(), WriteError> {
    crate::files::write_summary(dir, summary)?;
    write_atomic(&dir.join("inflation.csv"), |f| inflation_csv(f, w, curves))
}

/// The table printed after the experiment.
pub fn render(s: &InflationSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workload inflation: {} (seed {}), {} GPUs, arrivals until demand reaches {:.0} % of capacity",
        crate::escape::terminal(&s.scenario),
        s.seed,
        s.capacity_gpus,
        s.target * 100.0
    );
    let _ = writeln!(
        out,
        "{:<14} {:>9} {:>8} {:>16} {:>18}",
        "placement", "arrivals", "failed", "alloc @ 100 %", "alloc at the end"
    );
    for p in &s.placements {
        let at_full = p
            .gpu_allocation_ratio_at_full_demand
            .map_or_else(|| "-".to_string(), |r| format!("{:.2} %", r * 100.0));
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>8} {:>16} {:>18}",
            crate::escape::terminal(&p.placement),
            p.arrivals,
            p.failed,
            at_full,
            format!("{:.2} %", p.gpu_allocation_ratio * 100.0)
        );
    }
    out
}
