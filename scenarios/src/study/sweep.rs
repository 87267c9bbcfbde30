//! Running a sweep: a folder per run (`run-00001`, ...), each marked complete when its files are
//! all written, so that an interrupted sweep resumes where it stopped; then `sweep.csv`,
//! `sweep.parquet` and the sweep chart. A shard (`I/N`) runs the runs whose number is I modulo
//! N; `fairway_reports::sweep::merge` combines the shards' tables.

use super::{Executor, StudyError, run_info};
use crate::sweep::{Run, Sweep, show};
use fairway_policies::Registry;
use fairway_reports::RunSummary;
use fairway_reports::output::{Manifest, State};
use fairway_reports::sweep::{ChartChoice, SweepRow, sweep_csv, write_tables};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How a sweep runs.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub out: PathBuf,
    /// Run only shard `(i, n)`: the runs whose number is i modulo n.
    pub shard: Option<(usize, usize)>,
    /// Keep the runs whose folder is complete.
    pub resume: bool,
    /// Write into a folder that is not empty and holds no earlier output.
    pub force: bool,
    pub chart: ChartChoice,
}

/// What a sweep produced.
#[derive(Debug)]
pub struct SweepReport {
    /// Runs of this shard, all finished.
    pub runs: usize,
    /// Of those, runs a resume found complete for the same scenario and kept.
    pub reused: usize,
    /// Runs a resume found complete but for another scenario (the sweep changed), run again.
    pub stale: usize,
    pub csv: PathBuf,
    /// Why there is no chart, when there is none and the user did not ask for one.
    pub no_chart: Option<String>,
    /// Teams without `team:` columns in `sweep.csv` (past the busiest 100).
    pub teams_left_out: usize,
    /// The results per point, as a terminal table.
    pub results: String,
}

/// `I/N`, as `--shard` takes it: 0 <= I < N.
pub fn parse_shard(text: &str) -> Result<(usize, usize), StudyError> {
    let bad = || StudyError::Argument {
        what: "--shard",
        expected: "I/N with 0 <= I < N".into(),
        got: text.into(),
    };
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Runs the sweep (or its shard) into `opts.out`.
pub fn run_sweep(
    sweep: &Sweep,
    registry: &Registry,
    opts: &SweepOptions,
    exec: &Executor,
) -> Result<SweepReport, StudyError> {
    opts.chart.check()?;
    let (i, n) = opts.shard.unwrap_or((0, 1));
    let runs: Vec<Run> = sweep.runs().into_iter().filter(|r| r.run % n == i).collect();
    // Every point's policies before any run: a wrong one fails now, and manifests are read once.
    let policies = sweep.policies(registry)?;
    let dir = &opts.out;
    let claim = fairway_reports::output::claim(dir, opts.force, &sweep.digest())?;
    let reused = AtomicUsize::new(0);
    let stale = AtomicUsize::new(0);
    let run_one = |r: &Run| -> Result<RunSummary, StudyError> {
        let rd = dir.join(format!("run-{:05}", r.run + 1));
        let sc = sweep.scenario(r)?;
        let digest = sc.digest();
        if opts.resume
            && let Some(m) = Manifest::read(&rd)?
        {
            // Kept only if it finished, for exactly this scenario.
            if m.state == State::Complete && m.run == digest {
                reused.fetch_add(1, Ordering::Relaxed);
                return Ok(RunSummary::read(&rd)?);
            }
            if m.state == State::Complete {
                stale.fetch_add(1, Ordering::Relaxed);
            }
        }
        let p = policies
            .get(&sc.policies_key()?)
            .cloned()
            .map_or_else(|| sc.policies(registry), Ok)?;
        let resolved = sc.resolve_using(p)?;
        let o = resolved.run()?;
        let s = fairway_reports::summarize(&resolved.workload, &o, &run_info(&sc));
        let run_claim = fairway_reports::output::claim(&rd, false, &digest)?;
        fairway_reports::write_run(&rd, &resolved.workload, &o, &s)?;
        super::run::write_policy_outputs(&rd, &resolved.policies.policy)?;
        run_claim.complete()?;
        Ok(s)
    };
    let results = exec.map(&runs, run_one);
    let total = results.len();
    let finished = results.iter().filter(|r| matches!(r, Some(Ok(_)))).count();
    if results.iter().any(Option::is_none) {
        return Err(StudyError::Interrupted {
            finished,
            total,
            kept: format!(
                " and kept in {}; run the same command with --resume to finish",
                dir.display()
            ),
        });
    }
    let mut summaries = Vec::with_capacity(total);
    for (r, res) in runs.iter().zip(results.into_iter().flatten()) {
        summaries.push(res.map_err(|e| StudyError::SweepRun {
            run: r.run + 1,
            source: Box::new(e),
        })?);
    }
    let keys: Vec<String> = sweep.axes.iter().flat_map(|a| a.keys.iter().cloned()).collect();
    let mut rows: Vec<SweepRow<'_>> = runs
        .iter()
        .zip(&summaries)
        .map(|(r, s)| SweepRow {
            run: r.run,
            point: r.point,
            seed: r.seed,
            set: r.set.iter().map(|(_, v)| show(v)).collect(),
            summary: s,
        })
        .collect();
    let (bytes, teams_left_out) = sweep_csv(&keys, &mut rows)?;
    let no_chart = write_tables(dir, &bytes, &opts.chart)?;
    let results = fairway_reports::sweep::results_table(&bytes)?;
    claim.complete()?;
    Ok(SweepReport {
        reused: reused.into_inner(),
        stale: stale.into_inner(),
        runs: rows.len(),
        csv: dir.join("sweep.csv"),
        no_chart,
        teams_left_out,
        results,
    })
}

/// Combines the `sweep.csv` of shards' folders into `out`, with its Parquet table and chart, as
/// one run of the whole sweep writes them. Every shard must have finished, and all must be
/// shards of one sweep.
pub fn merge(dirs: &[PathBuf], out: &Path, chart: &ChartChoice) -> Result<Option<String>, StudyError> {
    let mut sweep: Option<(String, &PathBuf)> = None;
    for d in dirs {
        fairway_reports::output::verify(d, &["sweep.csv"])?;
        let m = Manifest::read(d)?
            .ok_or_else(|| StudyError::Unsuited(format!("{}: not a sweep's folder", d.display())))?;
        match &sweep {
            None => sweep = Some((m.run, d)),
            Some((first, first_dir)) if *first != m.run => {
                return Err(StudyError::Unsuited(format!(
                    "{} and {} hold shards of different sweeps (the sweep files differ); merge shards of one sweep",
                    first_dir.display(),
                    d.display()
                )));
            }
            Some(_) => {}
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        let f = d.join("sweep.csv");
        // A sweep.csv holds a row of about 40 numbers per run: 1 GiB is millions of runs.
        let text = fairway_engine::input::read_text(&f, 1 << 30).map_err(|source| StudyError::Io {
            file: f.display().to_string(),
            action: "read",
            source,
        })?;
        files.push((f.display().to_string(), text));
    }
    let bytes = fairway_reports::sweep::merge(&files)?;
    let claim = fairway_reports::output::claim(out, false, &sweep.map(|s| s.0).unwrap_or_default())?;
    let no_chart = write_tables(out, &bytes, chart)?;
    claim.complete()?;
    Ok(no_chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_i_of_n() {
        assert_eq!(parse_shard("1/3").unwrap(), (1, 3));
        assert_eq!(parse_shard(" 0 / 1 ").unwrap(), (0, 1));
        for bad in ["3/3", "1/0", "1", "a/2", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }
}
