//! The output folder: `summary.json`, the job and time-series tables (CSV and Parquet) and
//! `preemptions.csv`. Each file is written to a temporary name and renamed into place, so a run
//! that dies leaves no half-written file; what may be replaced, and how the folder's files are
//! known to belong together, is [`crate::output`]'s.

use crate::frame::{JobsTable, SeriesShape, SeriesTable, Table};
use crate::metrics::RunSummary;
use fairway_engine::resources::fmt_milli;
use fairway_engine::{Outcome, SeriesPoint, SeriesSink, Workload};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writing an output file failed.
#[derive(Debug, thiserror::Error)]
#[error("{file}: cannot write: {message}")]
pub struct WriteError {
    pub file: String,
    pub message: String,
}

/// Writes `path` through a temporary file in the same folder, then renames it into place.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let (tmp, f) = crate::output::temp(path)?;
    let result = (|| {
        let mut buf = std::io::BufWriter::new(f);
        fill(&mut buf)?;
        let f = buf.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_error(path, e));
    }
    crate::output::commit(&tmp, path)
}

/// Creates `dir` if needed and writes `summary.json` into it, pretty-printed.
pub fn write_summary(dir: &Path, summary: &impl serde::Serialize) -> Result<(), WriteError> {
    std::fs::create_dir_all(dir).map_err(|e| WriteError {
        file: dir.display().to_string(),
        message: e.to_string(),
    })?;
    write_atomic(&dir.join("summary.json"), |f| {
        serde_json::to_writer_pretty(&mut *f, summary).map_err(std::io::Error::other)?;
        writeln!(f)
    })
}

/// Rows per batch when the tables are streamed: each is one Parquet row group.
pub const ROWS_PER_BATCH: usize = 65_536;

/// Writes the tables of a run into `dir` (created if needed): `summary.json`, `jobs.csv`,
/// `jobs.parquet`, `timeseries.csv`, `timeseries.parquet` and `preemptions.csv`. The job table
/// is built and written a batch at a time, so it is never held whole next to the outcome.
///
/// ```
/// use fairway_engine::*;
/// use fairway_reports::{RunInfo, RunSummary, summarize, write_run};
///
/// /// Starts whatever fits, in submit order, on the lowest-numbered nodes with room.
/// struct Greedy;
/// impl Policy for Greedy {
///     fn schedule(&mut self, cx: &mut Cycle<'_>) {
///         for job in cx.pending().to_vec() {
///             cx.try_start(job);
///         }
///     }
/// }
/// struct Lowest;
/// impl Placement for Lowest {
///     fn place(&mut self, c: &Cluster, pod: &PodRequest, pods: u32, allowed: &Allowed<'_>, out: &mut Vec<PodSlot>) -> bool {
///         let mut left = pods;
///         for n in c.node_ids().filter(|&n| c.eligible(n, allowed)) {
///             let k = c.pods_that_fit(n, pod).min(left);
///             if k > 0 && c.pick_slots(n, pod, k, out) {
///                 left -= k;
///             }
///         }
///         left == 0
///     }
/// }
///
/// // Two one-GPU jobs of a minute on one one-GPU node: the second waits a minute.
/// let mut b = WorkloadBuilder::new("two jobs");
/// let team = b.team("ml").unwrap();
/// let pod = PodRequest { gpu_milli: 1000, cpu_milli: 1000, mem_mib: 1024 };
/// for name in ["a", "b"] {
///     b.push(name, 0, JobSpec::new(SimTime::ZERO, SimDuration::from_secs(60), 1, pod, team)).unwrap();
/// }
/// let w = b.finish();
/// let cluster = Cluster::new(&ClusterSpec { pools: vec![PoolSpec::new("p", Some("A100"), 1, 1, 8, 64)] }).unwrap();
/// let o = Simulation::new(&w, cluster, Box::new(Greedy), Box::new(Lowest), EngineOptions::default())
///     .unwrap()
///     .run()
///     .unwrap();
/// let summary = summarize(&w, &o, &RunInfo { scenario: "two".into(), ..RunInfo::default() });
///
/// let dir = tempfile::tempdir().unwrap();
/// write_run(dir.path(), &w, &o, &summary).unwrap();
/// let back = RunSummary::read(dir.path()).unwrap();
/// assert_eq!(back, summary);
/// assert_eq!(back.wait_s.max, Some(60.0));
/// for f in ["jobs.csv", "jobs.parquet", "timeseries.csv", "timeseries.parquet", "preemptions.csv"] {
///     assert!(dir.path().join(f).exists(), "{f}");
/// }
/// ```
pub fn write_run(dir: &Path, w: &Workload, o: &Outcome, summary: &RunSummary) -> Result<(), WriteError> {
    write_outcome(dir, w, o, summary)?;
    let mut series = SeriesFiles::create(dir, SeriesShape::of(w, o.fragmentation_tracked))?;
    series.write(&o.series);
    series.finish()
}

/// Writes what [`write_run`] writes except the time series, for a run that streamed its series
/// through a [`SeriesFiles`] as it went.
pub fn write_outcome(dir: &Path, w: &Workload, o: &Outcome, summary: &RunSummary) -> Result<(), WriteError> {
    write_summary(dir, summary)?;
    write_jobs(dir, w, o, ROWS_PER_BATCH)?;
    write_atomic(&dir.join("preemptions.csv"), |f| preemptions_csv(f, w, o))?;
    Ok(())
}

/// Writes `jobs.csv` and `jobs.parquet`, building and writing `batch` rows at a time.
pub fn write_jobs(dir: &Path, w: &Workload, o: &Outcome, batch: usize) -> Result<(), WriteError> {
    let batch = batch.max(1);
    let mut jobs = TableFiles::create(dir, "jobs")?;
    for start in (0..w.len()).step_by(batch) {
        jobs.append(&JobsTable::build_rows(w, o, start..(start + batch).min(w.len())))?;
    }
    jobs.finish()
}

/// `STEM.csv` and `STEM.parquet` of a table of type `T`, written a batch of rows at a time to
/// temporary names and renamed into place by [`TableFiles::finish`]; dropped unfinished, it
/// removes them.
pub struct TableFiles<T> {
    csv_path: PathBuf,
    parquet_path: PathBuf,
    /// The temporary files, in the order of the paths above.
    tmp: [PathBuf; 2],
    csv: Option<std::io::BufWriter<std::fs::File>>,
    parquet_file: Option<std::fs::File>,
    parquet: Option<polars::prelude::BatchedWriter<std::fs::File>>,
    header_written: bool,
    rows: std::marker::PhantomData<T>,
}

impl<T: Table + Default> TableFiles<T> {
    pub fn create(dir: &Path, stem: &str) -> Result<TableFiles<T>, WriteError> {
        let csv_path = dir.join(format!("{stem}.csv"));
        let parquet_path = dir.join(format!("{stem}.parquet"));
        let (csv_tmp, csv) = crate::output::temp(&csv_path)?;
        let (parquet_tmp, parquet_file) = match crate::output::temp(&parquet_path) {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_file(&csv_tmp);
                return Err(e);
            }
        };
        Ok(TableFiles {
            tmp: [csv_tmp, parquet_tmp],
            csv: Some(std::io::BufWriter::new(csv)),
            parquet_file: Some(parquet_file),
            parquet: None,
            csv_path,
            parquet_path,
            header_written: false,
            rows: std::marker::PhantomData,
        })
    }

    /// Appends the rows of `t` to both files.
    pub fn append(&mut self, t: &T) -> Result<(), WriteError> {
        let (Some(out), Some(file)) = (&mut self.csv, &self.parquet_file) else {
            return Ok(());
        };
        let out: &mut dyn Write = out;
        let mut wr = csv::Writer::from_writer(out);
        if !self.header_written {
            wr.write_record(T::COLUMNS)
                .map_err(|e| io_error(&self.csv_path, e.into()))?;
            self.header_written = true;
        }
        t.write_rows(&mut wr)
            .and_then(|()| wr.flush())
            .map_err(|e| io_error(&self.csv_path, e))?;
        let perr = |e: polars::prelude::PolarsError| io_error(&self.parquet_path, std::io::Error::other(e));
        let df = t.to_frame().map_err(perr)?;
        if self.parquet.is_none() {
            let f = file.try_clone().map_err(|e| io_error(&self.parquet_path, e))?;
            self.parquet = Some(
                crate::frame::parquet_writer(f)
                    .batched(df.schema())
                    .map_err(perr)?,
            );
        }
        // A file with the schema and no row group is a valid empty table.
        if t.rows() > 0 {
            self.parquet
                .as_mut()
                .expect("created above")
                .write_batch(&df)
                .map_err(perr)?;
        }
        Ok(())
    }

    /// Completes both files and renames them into place. With no rows appended, the files
    /// still hold the header and the schema: an empty table.
    pub fn finish(mut self) -> Result<(), WriteError> {
        if !self.header_written {
            self.append(&T::default())?;
        }
        let csv = self.csv.take().expect("finished once");
        let parquet_file = self.parquet_file.take().expect("finished once");
        let f = csv
            .into_inner()
            .map_err(|e| io_error(&self.csv_path, e.into_error()))?;
        f.sync_all().map_err(|e| io_error(&self.csv_path, e))?;
        if let Some(p) = self.parquet.take() {
            p.finish()
                .map_err(|e| io_error(&self.parquet_path, std::io::Error::other(e)))?;
        }
        parquet_file
            .sync_all()
            .map_err(|e| io_error(&self.parquet_path, e))?;
        let [csv_tmp, parquet_tmp] = std::mem::take(&mut self.tmp);
        let csv_done = crate::output::commit(&csv_tmp, &self.csv_path);
        if csv_done.is_err() {
            let _ = std::fs::remove_file(&parquet_tmp);
        }
        csv_done?;
        crate::output::commit(&parquet_tmp, &self.parquet_path)
    }
}

impl<T> Drop for TableFiles<T> {
    fn drop(&mut self) {
        for tmp in &self.tmp {
            if !tmp.as_os_str().is_empty() {
                let _ = std::fs::remove_file(tmp);
            }
        }
    }
}

fn io_error(path: &Path, e: std::io::Error) -> WriteError {
    WriteError {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

/// `timeseries.csv` and `timeseries.parquet`, fed by the engine as the run goes (a
/// [`SeriesSink`]), so a long run never holds its whole series. Points are batched into
/// [`ROWS_PER_BATCH`]-row tables; the first write error is kept and returned by `finish`.
pub struct SeriesFiles {
    files: TableFiles<SeriesTable>,
    shape: SeriesShape,
    held: Vec<SeriesPoint>,
    batch: usize,
    error: Option<WriteError>,
}

impl SeriesFiles {
    pub fn create(dir: &Path, shape: SeriesShape) -> Result<SeriesFiles, WriteError> {
        Ok(SeriesFiles {
            files: TableFiles::create(dir, "timeseries")?,
            shape,
            held: Vec::new(),
            batch: ROWS_PER_BATCH,
            error: None,
        })
    }

    /// Batches of `rows` rows instead of [`ROWS_PER_BATCH`].
    pub fn with_batch(mut self, rows: usize) -> SeriesFiles {
        self.batch = rows.max(1);
        self
    }

    fn flush(&mut self) {
        if self.error.is_none() {
            let t = SeriesTable::from_points(&self.held, &self.shape);
            if let Err(e) = self.files.append(&t) {
                self.error = Some(e);
            }
        }
        self.held.clear();
    }

    /// Writes what is held and completes both files.
    pub fn finish(mut self) -> Result<(), WriteError> {
        if !self.held.is_empty() {
            self.flush();
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => self.files.finish(),
        }
    }
}

impl SeriesSink for SeriesFiles {
    fn write(&mut self, points: &[SeriesPoint]) {
        let mut points = points;
        while !points.is_empty() {
            let room = self.batch - self.held.len();
            let (now, rest) = points.split_at(room.min(points.len()));
            self.held.extend_from_slice(now);
            if self.held.len() == self.batch {
                self.flush();
            }
            points = rest;
        }
    }
}

/// One row per preemption, in order: who lost its run, why, and for whom.
pub fn preemptions_csv(out: &mut dyn Write, w: &Workload, o: &Outcome) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record(["time_s", "job_id", "team", "reason", "by_job_id", "by_team"])?;
    for p in &o.preemption_log {
        let (by, by_team) = match p.by {
            Some(b) => (
                &w.names[b.index()],
                w.teams[w.jobs[b.index()].team.index()].as_str(),
            ),
            None => ("", ""),
        };
        wr.write_record([
            &fmt_milli(p.time.millis()),
            &w.names[p.job.index()],
            w.teams[w.jobs[p.job.index()].team.index()].as_str(),
            o.reasons[p.reason as usize].as_str(),
            by,
            by_team,
        ])?;
    }
    wr.flush()
}
