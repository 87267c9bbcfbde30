//! `trace import` and `cluster import`: a trace or cluster in another tool's format, written
//! in fairway's own (the canonical CSV, a `[[pool]]` cluster file), with the importer's account
//! of what it left out and assumed.

use super::StudyError;
use crate::schema::PrometheusSource;
use fairway_traces::import::{self, ImportFormat, Mapping, Options};
use std::path::{Path, PathBuf};

/// What an import was asked.
pub struct ImportArgs<'a> {
    pub files: &'a [PathBuf],
    pub out: &'a Path,
    /// A TOML file of mapping rules (`[[rules]]` tables, as `[trace.mapping]` holds them).
    pub mapping: Option<&'a Path>,
    /// Resource names counted as GPUs; the defaults when empty.
    pub gpu_resources: &'a [String],
    /// Replace `out` if it exists.
    pub force: bool,
    /// For `prometheus`: query this Prometheus instead of reading `files`.
    pub prometheus: Option<&'a PrometheusSource>,
}

impl ImportArgs<'_> {
    fn options(&self) -> Result<Options, StudyError> {
        let mut opts = Options::default();
        if let Some(p) = self.mapping {
            let m: Mapping = fairway_traces::tomlfile::read(p).map_err(|e| StudyError::Scenario(e.into()))?;
            m.check()
                .map_err(|e| StudyError::Unsuited(format!("{}: {e}", p.display())))?;
            opts.mapping = m;
        }
        if !self.gpu_resources.is_empty() {
            opts.gpu_resources = self.gpu_resources.to_vec();
        }
        Ok(opts)
    }

    /// An existing output is replaced only when asked: it may be the user's own file.
    fn check_out(&self) -> Result<(), StudyError> {
        if !self.force && self.out.exists() {
            return Err(StudyError::Unsuited(format!(
                "{} exists: give another --out, or --force to replace it",
                self.out.display()
            )));
        }
        Ok(())
    }
}

/// Imports a trace and writes it as canonical CSV. Returns the importer's report.
pub fn trace(format: &str, args: &ImportArgs<'_>) -> Result<import::Report, StudyError> {
    let f = ImportFormat::parse(format).ok_or_else(|| StudyError::Argument {
        what: "--from",
        expected: format!("one of {}", ImportFormat::NAMES.join(", ")),
        got: format.to_string(),
    })?;
    args.check_out()?;
    let opts = args.options()?;
    let imported = match args.prometheus {
        Some(p) if f != ImportFormat::Prometheus => {
            return Err(StudyError::Unsuited(format!(
                "--url {} is for --from prometheus, not {format}",
                p.url
            )));
        }
        Some(p) => {
            let src = p.source().map_err(|(key, message)| {
                StudyError::Unsuited(format!("--{}: {message}", key.rsplit('.').next().unwrap_or(&key)))
            })?;
            import::prometheus::read_url(&src, &opts)
        }
        None => import::read(args.files, f, &opts),
    }
    .map_err(|e| StudyError::Scenario(e.into()))?;
    fairway_reports::write_atomic(args.out, |w| {
        fairway_traces::write::canonical(&imported.loaded.workload, w).map_err(std::io::Error::other)
    })?;
    Ok(imported.report)
}

/// Imports a cluster and writes it as a `[[pool]]` TOML file. Returns the importer's report.
pub fn cluster(format: &str, args: &ImportArgs<'_>) -> Result<import::Report, StudyError> {
    if format != "kubernetes-nodes" {
        return Err(StudyError::Argument {
            what: "--from",
            expected: "kubernetes-nodes".into(),
            got: format.to_string(),
        });
    }
    args.check_out()?;
    let c = import::nodes::read(args.files, &args.options()?).map_err(|e| StudyError::Scenario(e.into()))?;
    let text = import::nodes::to_toml(&c);
    fairway_reports::write_atomic(args.out, |w| w.write_all(text.as_bytes()))?;
    Ok(c.report)
}
