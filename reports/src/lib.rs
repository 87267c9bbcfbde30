//! Metrics and output files from run outcomes.
//!
//! [`summarize`] computes the headline numbers (documented in [`metrics`]); [`write_run`] writes
//! a run's six files (`summary.json`, `jobs.csv`, `jobs.parquet`, `timeseries.csv`,
//! `timeseries.parquet`, `preemptions.csv`); [`render::render_dir`] draws the charts,
//! `report.html` and `metrics.prom` from those files; [`render()`] prints a table for people.

pub mod bakeoff;
pub mod chart;
pub mod compare;
pub mod compare_view;
pub mod escape;
pub mod files;
pub mod fold;
pub mod frame;
pub mod html;
pub mod inflation;
pub mod metric;
pub mod metrics;
pub mod output;
pub mod prom;
pub mod queues;
pub mod render;
pub mod sweep;
pub mod table;

pub use files::{
    ROWS_PER_BATCH, SeriesFiles, TableFiles, WriteError, write_atomic, write_jobs, write_outcome, write_run,
};
pub use metrics::{Dist, RunInfo, RunSummary, SUMMARY_SCHEMA, SummaryError, TeamSummary, summarize};
pub use table::{human_secs, render};
