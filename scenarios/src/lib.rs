//! Scenario files: what to replay, on what hardware, under which policy.
//!
//! A scenario is a TOML file (`deny_unknown_fields` everywhere, so a typo is an error, never a
//! silent default). Paths inside it are relative to the file. [`Scenario::load`] parses and checks
//! what needs no other file; [`Scenario::policies`] resolves the policies and placements it names
//! (reading Kueue's manifests once), [`Scenario::resolve`] reads the trace and the cluster, so
//! that every error surfaces before a run starts; [`Resolved::run`] runs it.
//!
//! ```
//! use fairway_policies::Registry;
//! use fairway_scenarios::Scenario;
//! use fairway_scenarios::study::{Executor, seeds::replicate};
//!
//! let text = r#"
//! name = "two-teams"
//! [trace]
//! format = "synthetic"
//! [trace.synthetic]
//! jobs = 200
//! [cluster]
//! [[cluster.pool]]
//! name = "a100"
//! gpu_model = "A100"
//! nodes = 4
//! gpus_per_node = 8
//! cpu = 128
//! memory_gib = 1024
//! [policy]
//! name = "fifo"
//! params = { mode = "best-effort" }
//! "#;
//! let scenario = Scenario::parse(text, "two-teams.toml").unwrap();
//! let resolved = scenario.resolve().unwrap();
//! assert_eq!(resolved.policies.policy.label(), "fifo[mode=best-effort]");
//! let outcome = resolved.run().unwrap();
//! assert_eq!(outcome.jobs.len(), 200);
//!
//! // The same scenario over three seeds, its policies resolved once.
//! let policies = scenario.policies(&Registry::builtin()).unwrap();
//! let runs = replicate(&scenario, &policies, &[], 3, &Executor::new(Some(2))).unwrap();
//! assert_eq!(runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [1, 2, 3]);
//!
//! // A name the registry does not know is an error that lists the known ones.
//! let typo = text.replace(r#"name = "fifo""#, r#"name = "fofo""#);
//! let e = Scenario::parse(&typo, "typo.toml").unwrap().resolve().unwrap_err();
//! assert!(e.to_string().contains("unknown policy 'fofo'; known: fifo"), "{e}");
//! ```

mod check;
mod error;
pub mod inflation;
mod names;
mod resolve;
mod schema;
pub mod study;
pub mod sweep;
pub mod whatif;

pub use error::ScenarioError;
pub use names::TeamNames;
pub use resolve::{Policies, Resolved, sample_one_in};
pub use schema::{
    BakeoffSection, ClassCostRow, ClusterSection, EngineSection, FailureSection, InflationSection,
    InteractiveSection, LimitsSection, OutageRow, PolicySection, PrometheusSource, ReserveRow, Scenario,
    TraceSection,
};
