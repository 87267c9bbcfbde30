//! Helpers more than one module uses.

use std::path::PathBuf;

/// A file of the shipped data, `traces/data/<rel>`.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}
