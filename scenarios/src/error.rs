//! Why a scenario cannot be loaded, resolved or run.

use fairway_engine::{ClusterError, EngineError, UnknownModel};
use fairway_policies::RegistryError;
use fairway_traces::TraceError;

/// Why a scenario cannot be loaded, resolved or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or not a scenario; the message names file, line and column.
    #[error("{message}")]
    Parse { file: String, message: String },
    #[error("{file}: {key}: {message}")]
    Invalid {
        file: String,
        key: String,
        message: String,
    },
    #[error("{file}: {key}: {source}")]
    WhatIf {
        file: String,
        key: String,
        #[source]
        source: Box<crate::whatif::WhatIfError>,
    },
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error("{file}: cluster: {source}")]
    Cluster {
        file: String,
        #[source]
        source: ClusterError,
    },
    #[error("{file}: {source}")]
    Registry {
        file: String,
        #[source]
        source: Box<RegistryError>,
    },
    #[error(transparent)]
    UnknownModel(#[from] UnknownModel),
    #[error(transparent)]
    Engine(#[from] EngineError),
}
