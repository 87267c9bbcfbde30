//! The `fairway` binary's integration tests, in one test binary: the command line end to end, and
//! the report (charts, the page in a browser, metrics.prom, the comparison view), Prometheus and
//! the Grafana dashboard, and the robustness guarantees.

mod common;

mod cli;
mod constraints;
mod import;
mod prometheus;
mod report;
mod robustness;
