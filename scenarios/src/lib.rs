//! Scenario files: what to replay, on what hardware, under which policy.
//!
//! A scenario is a TOML file (`deny_unknown_fields` everywhere, so a typo is an error, never a
//! silent default). Paths inside it are relative to the file. [`Scenario::load`] parses and checks
//! what needs no other file; [`Scenario::policies`] resolves the policies and placements it names
//! (reading Kueue's manifests once), [`Scenario::resolve`] reads the trace and the cluster, so
//! that every error surfaces before a run starts; [`Resolved::run`] runs it.

mod check;
mod error;
pub mod inflation;
mod resolve;
mod schema;
pub mod study;
pub mod sweep;
pub mod whatif;

pub use error::ScenarioError;
pub use resolve::{Policies, Resolved, sample_one_in};
pub use schema::{
    BakeoffSection, ClassCostRow, ClusterSection, EngineSection, FailureSection, InflationSection,
    InteractiveSection, LimitsSection, OutageRow, PolicySection, ReserveRow, Scenario, TraceSection,
};
