//! Errors that say where: file, line, column, and what was expected.

use std::fmt;

/// A trace or cluster file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// One field of one row is wrong.
    #[error("{file}:{line}: column '{column}': {message}")]
    Field {
        file: String,
        line: u64,
        column: String,
        message: String,
    },
    /// A whole row is wrong (wrong number of fields, duplicate id, ...).
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: u64,
        message: String,
    },
    /// One field of one object (a Kubernetes object, a JSON record) is wrong.
    #[error("{file}: {object}: field '{field}': {message}")]
    Object {
        file: String,
        object: String,
        field: String,
        message: String,
    },
    /// The file as a whole is wrong (empty, missing columns, ...).
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// A generator or cluster setting is wrong.
    #[error("{what}: {message}")]
    Config { what: String, message: String },
}

impl TraceError {
    pub fn file(file: &str, message: impl fmt::Display) -> Self {
        TraceError::File {
            file: file.to_string(),
            message: message.to_string(),
        }
    }
    pub fn config(what: &str, message: impl fmt::Display) -> Self {
        TraceError::Config {
            what: what.to_string(),
            message: message.to_string(),
        }
    }
}
