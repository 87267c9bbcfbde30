//! Metrics and output files from run outcomes.
//!
//! [`summarize`] computes the headline numbers (documented in [`metrics`]); [`write_run`] writes
//! `summary.json`, `jobs.csv` and `timeseries.csv`; [`render`] prints a table for people.

pub mod bakeoff;
pub mod compare;
pub mod files;
pub mod inflation;
pub mod metrics;
pub mod sweep;
pub mod table;

pub use files::{WriteError, write_atomic, write_run};
pub use metrics::{Dist, RunInfo, RunSummary, SUMMARY_SCHEMA, TeamSummary, summarize};
pub use table::{human_secs, render};
