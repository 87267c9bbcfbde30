//! Trace and cluster readers, normalisation into engine jobs, the synthetic generator, and
//! trace statistics.
//!
//! Every reader validates every row; an error names the file, the line, the column and what was
//! expected. Readers never panic on their input.

pub mod canonical;
pub mod cluster;
mod error;
pub mod failures;
pub mod import;
pub mod openb;
pub mod speeds;
pub mod stats;
pub mod synthetic;
mod table;
pub mod tomlfile;
pub mod write;

pub use cluster::{ClusterFormat, PoolRow};
pub use error::TraceError;
pub use synthetic::SyntheticSpec;
pub use table::DEFAULT_MAX_ROWS;

use fairway_engine::Workload;
use std::path::Path;

/// A trace read from a file, with what the reader thinks the user should know.
#[derive(Debug)]
pub struct Loaded {
    pub workload: Workload,
    pub warnings: Vec<String>,
    /// The file gives no times (an openb `multigpu*` pod list): every job is submitted at 0
    /// with a placeholder run time, which only a time-free experiment (`[inflation]`) may use.
    pub timeless: bool,
}

/// The trace file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFormat {
    Canonical,
    Openb,
    /// A format read by an importer (Kubernetes objects, public research traces).
    Import(import::ImportFormat),
}

impl TraceFormat {
    /// Every trace format's name.
    pub fn names() -> Vec<&'static str> {
        let mut v = vec!["canonical", "openb"];
        v.extend(import::ImportFormat::NAMES);
        v
    }

    pub fn parse(name: &str) -> Option<TraceFormat> {
        match name {
            "canonical" => Some(TraceFormat::Canonical),
            "openb" => Some(TraceFormat::Openb),
            other => import::ImportFormat::parse(other).map(TraceFormat::Import),
        }
    }
}

/// Reads a trace file in the given format.
pub fn read(path: &Path, format: TraceFormat) -> Result<Loaded, TraceError> {
    read_with(path, format, table::DEFAULT_MAX_ROWS)
}

/// Reads a trace file, refusing one of more than `max_jobs` jobs.
pub fn read_with(path: &Path, format: TraceFormat, max_jobs: u64) -> Result<Loaded, TraceError> {
    match format {
        TraceFormat::Canonical => canonical::read_with(path, max_jobs),
        TraceFormat::Openb => openb::read_pods_with(path, max_jobs),
        TraceFormat::Import(f) => {
            let opts = import::Options {
                max_jobs,
                ..import::Options::default()
            };
            import::read(&[path.to_path_buf()], f, &opts).map(|i| i.loaded)
        }
    }
}

/// The format of a trace file, from its header: openb pod lists have `qos` and
/// `creation_time` (or, without times, `num_gpu` and `gpu_milli`); everything else is read as
/// canonical.
pub fn sniff_format(path: &Path) -> Result<TraceFormat, TraceError> {
    use std::io::BufRead as _;
    let io = |source| TraceError::Io {
        file: path.display().to_string(),
        source,
    };
    let file = fairway_engine::input::open(path).map_err(io)?;
    let mut first = String::new();
    std::io::BufReader::new(file).read_line(&mut first).map_err(io)?;
    let cols: Vec<&str> = first.trim().split(',').map(str::trim).collect();
    let openb = cols.contains(&"qos")
        && (cols.contains(&"creation_time") || (cols.contains(&"num_gpu") && cols.contains(&"gpu_milli")));
    Ok(if openb {
        TraceFormat::Openb
    } else {
        TraceFormat::Canonical
    })
}
