//! Everything drawn from a run's tables: `teams.csv`, `rightsizing.csv`, the charts,
//! `report.html` and `metrics.prom`. The run calls [`render_dir`] after writing its tables, and
//! `fairway report DIR` calls it again on the same files, so both give the same bytes.

use crate::chart::{Binned, Binner, Chart};
use crate::fold::{JobFacts, JobFold, SeriesFacts, SeriesFold};
use crate::frame::{Interner, JobsTable, SeriesTable, TableError, Text, fmt_f64, read_batches};
use crate::metrics::{RightSize, RunSummary};
use crate::{WriteError, write_atomic};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Rendering failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{0}")]
    Table(#[from] TableError),
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error("{file}: {message}")]
    Read { file: String, message: String },
    #[error(transparent)]
    Summary(#[from] crate::metrics::SummaryError),
    /// What was asked cannot be rendered (e.g. a comparison of one run).
    #[error("{0}")]
    Usage(String),
    #[error("chart {0}")]
    Chart(#[from] crate::chart::ChartError),
}

/// What to render besides the defaults.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    /// Also write each chart as PNG.
    pub png: bool,
    /// Queues `metrics.prom` writes by name, the rest summed into one (`None`: all); see
    /// [`crate::prom`].
    pub prom_queues: Option<usize>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            png: false,
            prom_queues: Some(crate::prom::DEFAULT_QUEUES),
        }
    }
}

/// A row of `preemptions.csv`, read in place. The teams are not used, but a file without
/// them is not one fairway wrote.
#[derive(serde::Deserialize)]
struct PreemptionRow<'a> {
    time_s: f64,
    job_id: &'a str,
    #[serde(rename = "team")]
    _team: &'a str,
    reason: &'a str,
    by_job_id: &'a str,
    #[serde(rename = "by_team")]
    _by_team: &'a str,
}

/// A preemption as `preemptions.csv` holds it, with its jobs as indices into
/// [`Preemptions::ids`]: a row costs 40 bytes, whatever its names.
#[derive(Clone, Debug, PartialEq)]
pub struct Preemption {
    pub time_s: f64,
    pub job: u32,
    /// The job it made room for, if the file names one.
    pub by: Option<u32>,
    pub reason: Text,
}

/// The preemptions of a run, in file order, and each job id they name, once.
#[derive(Clone, Debug, Default)]
pub struct Preemptions {
    /// Job id to index, for every job the file names.
    pub ids: HashMap<Box<str>, u32>,
    pub rows: Vec<Preemption>,
}

impl Preemptions {
    /// Reads `path`, a row at a time.
    fn read(path: &Path) -> Result<Preemptions, String> {
        let mut p = Preemptions::default();
        let mut reasons = Interner::default();
        let f = fairway_engine::input::open(path).map_err(|e| e.to_string())?;
        let mut rdr = csv::Reader::from_reader(f);
        let headers = rdr.headers().map_err(|e| e.to_string())?.clone();
        let mut record = csv::StringRecord::new();
        while rdr.read_record(&mut record).map_err(|e| e.to_string())? {
            let row: PreemptionRow<'_> = record.deserialize(Some(&headers)).map_err(|e| e.to_string())?;
            let job = p.id(row.job_id);
            let by = (!row.by_job_id.is_empty()).then(|| p.id(row.by_job_id));
            p.rows.push(Preemption {
                time_s: row.time_s,
                job,
                by,
                reason: reasons.get(row.reason),
            });
        }
        Ok(p)
    }

    fn id(&mut self, job_id: &str) -> u32 {
        if let Some(&i) = self.ids.get(job_id) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.insert(job_id.into(), i);
        i
    }
}

/// A run as read back from its output folder: its summary and preemptions, and what the
/// renders read of its tables (folded as they are read, never held whole).
#[derive(Clone, Debug)]
pub struct RunData {
    pub dir: PathBuf,
    pub summary: RunSummary,
    pub jobs: JobFacts,
    pub series: SeriesFacts,
    pub preemptions: Preemptions,
}

impl RunData {
    /// Reads `summary.json`, `preemptions.csv` and the Parquet tables of `dir`.
    pub fn load(dir: &Path) -> Result<RunData, RenderError> {
        let read_err = |file: &Path, m: String| RenderError::Read {
            file: file.display().to_string(),
            message: m,
        };
        let pp = dir.join("preemptions.csv");
        let mut files = vec!["summary.json", "jobs.parquet", "timeseries.parquet"];
        if pp.exists() {
            files.push("preemptions.csv");
        }
        crate::output::verify(dir, &files)?;
        let summary = RunSummary::read(dir)?;
        let preemptions = if pp.exists() {
            Preemptions::read(&pp).map_err(|m| read_err(&pp, m))?
        } else {
            Preemptions::default()
        };
        let mut jobs = JobFold::new(&preemptions.ids);
        let mut rows = 0;
        read_batches(
            &dir.join("jobs.parquet"),
            JobsTable::from_frame,
            |t, first_row| {
                t.check_times(first_row)?;
                rows += t.submit_ms.len();
                jobs.add(&t);
                Ok(())
            },
        )?;
        if rows != summary.counts.jobs_total {
            return Err(read_err(
                &dir.join("jobs.parquet"),
                format!(
                    "has {rows} jobs, but summary.json counts {}: they are not of one run",
                    summary.counts.jobs_total
                ),
            ));
        }
        let jobs = jobs.finish();
        let order = teams_by_usage(&summary);
        let times = crate::prom::sample_times(summary.span_s);
        let team_queue =
            (summary.per_team.iter()).filter_map(|(t, x)| x.queue.as_deref().map(|q| (t.as_str(), q)));
        let bins = (end_h(&summary), crate::chart::BINS);
        let mut series = SeriesFold::new(
            jobs.t0_ms,
            summary.capacity_gpus,
            bins,
            &times,
            &order,
            team_queue,
        );
        read_batches(
            &dir.join("timeseries.parquet"),
            SeriesTable::from_frame,
            |t, _| series.add(&t),
        )?;
        let series = series.finish();
        Ok(RunData {
            dir: dir.to_path_buf(),
            summary,
            jobs,
            series,
            preemptions,
        })
    }

    /// The first submission, ms (the origin of every chart and of `metrics.prom`).
    pub fn t0_ms(&self) -> u64 {
        self.jobs.t0_ms
    }

    /// Hours from the first submission to the end of the run.
    pub fn end_h(&self) -> f64 {
        end_h(&self.summary)
    }

    /// Teams, largest allocated GPU-hours first (name order among equals).
    pub fn teams_by_usage(&self) -> Vec<String> {
        teams_by_usage(&self.summary)
    }

    /// The page's colours: each team by its rank in `order` ([`RunData::teams_by_usage`]), and
    /// each queue as the busiest of its teams, so a team and its ClusterQueue look alike on
    /// every chart.
    pub fn colors(&self, order: &[String]) -> crate::chart::Colors {
        let mut p = crate::chart::Colors::of(order.iter().cloned());
        for (k, t) in order.iter().enumerate() {
            if let Some(q) = self.summary.per_team.get(t).and_then(|t| t.queue.clone()) {
                p.0.entry(q).or_insert(k);
            }
        }
        p
    }

    /// Bin averages of the cluster's GPUs allocated, over `[0, end_h)` for each `(end_h, bins)`
    /// asked, from one read of the series. It is read again, as the spans (that of the longest
    /// of several runs, or the window all of them cover) are known only now.
    pub fn allocated_binned(&self, over: &[(f64, usize)]) -> Result<Vec<Vec<(f64, f64)>>, RenderError> {
        let t0 = self.t0_ms();
        let mut binners: Vec<Binner> = over.iter().map(|&(end_h, n)| Binner::new(end_h, n)).collect();
        let path = self.dir.join("timeseries.parquet");
        read_batches(&path, SeriesTable::from_frame, |t, _| {
            for i in (0..t.len()).filter(|&i| t.team[i].is_none()) {
                let h = (t.time_ms[i].saturating_sub(t0)) as f64 / 3_600_000.0;
                let gpus = t.gpu_milli[i] as f64 / 1000.0;
                binners.iter_mut().for_each(|b| b.push(h, gpus));
            }
            Ok(())
        })?;
        Ok(binners.into_iter().map(Binner::finish).collect())
    }

    /// Sorted waits in hours of every job that started.
    pub fn waits_h(&self) -> Vec<f64> {
        let mut all: Vec<f64> = (self.jobs.waits_ms.values().flatten())
            .map(|&w| w as f64 / 3_600_000.0)
            .collect();
        all.sort_by(f64::total_cmp);
        all
    }

    /// Sorted waits in hours per team (jobs that started).
    pub fn team_waits_h(&self) -> BTreeMap<String, Vec<f64>> {
        (self.jobs.waits_ms.iter())
            .map(|(t, w)| {
                let mut v: Vec<f64> = w.iter().map(|&w| w as f64 / 3_600_000.0).collect();
                v.sort_by(f64::total_cmp);
                (t.clone(), v)
            })
            .collect()
    }

    /// Pending job-hours by reason over all teams, largest first.
    pub fn pending_reasons_h(&self) -> Vec<(String, f64)> {
        let mut by: BTreeMap<&str, f64> = BTreeMap::new();
        for t in self.summary.per_team.values() {
            for (r, s) in &t.pending_s_by_reason {
                *by.entry(r).or_default() += s / 3600.0;
            }
        }
        let mut v: Vec<(String, f64)> = by.into_iter().map(|(r, h)| (r.to_string(), h)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// Hours from the first submission to the end of the run of `s`.
fn end_h(s: &RunSummary) -> f64 {
    s.span_s / 3600.0
}

/// The teams of `s`, largest allocated GPU-hours first (name order among equals).
fn teams_by_usage(s: &RunSummary) -> Vec<String> {
    let mut t: Vec<(&String, f64)> = (s.per_team.iter()).map(|(n, s)| (n, s.gpu_hours)).collect();
    t.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    t.into_iter().map(|x| x.0.clone()).collect()
}

/// The charts of a run, in the order the report shows them.
pub fn charts(run: &RunData) -> Vec<Chart> {
    let order = run.teams_by_usage();
    let end_h = run.end_h();
    let colors = run.colors(&order);
    let mut charts = vec![
        Chart::Stacked {
            stem: "utilisation",
            title: "GPUs allocated, by team".into(),
            y_desc: "GPUs".into(),
            series: run.series.allocated.clone(),
            end_h,
            capacity: Some(run.summary.capacity_gpus),
            colors: colors.clone(),
        },
        Chart::Lines {
            stem: "queue",
            title: "Jobs pending, by team".into(),
            y_desc: "jobs pending".into(),
            series: run.series.pending.clone(),
            end_h,
            colors: colors.clone(),
        },
    ];
    charts.extend(crate::queues::charts(run, &colors));
    if let Some(c) = &run.series.cluster_use {
        charts.push(Chart::Lines {
            stem: "gpu_use",
            title: "GPUs allocated and used (allocation x gpu_util)".into(),
            y_desc: "GPUs".into(),
            series: vec![
                Binned {
                    name: "allocated".into(),
                    points: c.allocated.clone(),
                },
                Binned {
                    name: "used".into(),
                    points: c.used.clone(),
                },
            ],
            end_h,
            colors: crate::chart::Colors::default(),
        });
    }
    // Charts with a line or bar per team draw the busiest ones and say so.
    let teams = order.len();
    let top = |what: &str| {
        if teams > crate::chart::MAX_TEAMS {
            format!(
                "{what}: top {} of {teams} teams by GPU-hours",
                crate::chart::MAX_TEAMS
            )
        } else {
            what.to_string()
        }
    };
    let mut waits = run.team_waits_h();
    let mut cdf: Vec<(String, Vec<f64>)> = order
        .iter()
        .take(crate::chart::MAX_TEAMS)
        .filter_map(|t| waits.remove(t).map(|w| (t.clone(), w)))
        .collect();
    cdf.insert(0, (crate::chart::ALL_JOBS.into(), run.waits_h()));
    charts.push(Chart::Cdf {
        stem: "wait_cdf",
        title: top("Wait (first start - submit), by team"),
        x_desc: "wait (log scale; waits under 1m drawn at 1m)".into(),
        series: cdf,
        colors: colors.clone(),
    });
    charts.push(Chart::Bars {
        stem: "share",
        title: top(&format!(
            "Share of GPU time vs entitlement ({})",
            run.summary.fairness.basis
        )),
        y_desc: "share of allocated GPU time".into(),
        bar_name: "share".into(),
        outline_name: "entitlement".into(),
        rows: order
            .iter()
            .take(crate::chart::MAX_TEAMS)
            .map(|t| {
                let s = &run.summary.per_team[t];
                (
                    t.clone(),
                    s.gpu_share,
                    (s.entitlement > 0.0).then_some(s.entitlement),
                )
            })
            .collect(),
        horizontal: false,
        percent: true,
    });
    let reasons = run.pending_reasons_h();
    if !reasons.is_empty() {
        charts.push(Chart::Bars {
            stem: "pending_reasons",
            title: "Pending time by reason".into(),
            y_desc: "job-hours pending".into(),
            bar_name: "job-hours".into(),
            outline_name: String::new(),
            rows: reasons.into_iter().take(10).map(|(r, h)| (r, h, None)).collect(),
            horizontal: true,
            percent: false,
        });
    }
    if let Some(rs) = &run.summary.right_sizing {
        // The busiest teams with advice, in name order as all of them are when few.
        let shown: std::collections::BTreeSet<&String> = if rs.per_team.len() <= crate::chart::MAX_TEAMS {
            rs.per_team.keys().collect()
        } else {
            (order.iter())
                .filter(|t| rs.per_team.contains_key(*t))
                .take(crate::chart::MAX_TEAMS)
                .collect()
        };
        let title = format!(
            "GPUs per job: median asked vs recommended (p{} of use)",
            rs.percentile
        );
        charts.push(Chart::Bars {
            stem: "rightsizing",
            title: if rs.per_team.len() > shown.len() {
                format!(
                    "{title}: top {} of {} teams by GPU-hours",
                    shown.len(),
                    rs.per_team.len()
                )
            } else {
                title
            },
            y_desc: "GPUs per job".into(),
            bar_name: "asked (median)".into(),
            outline_name: "recommended".into(),
            rows: rs
                .per_team
                .iter()
                .filter(|(t, _)| shown.contains(t))
                .map(|(t, r)| (t.clone(), r.requested_gpus_p50, Some(r.recommended_gpus)))
                .collect(),
            horizontal: false,
            percent: false,
        });
    }
    charts
}

/// `teams.csv`: one row per team with its headline numbers.
pub fn teams_csv(out: &mut dyn std::io::Write, s: &RunSummary) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record([
        "team",
        "queue",
        "jobs",
        "finished",
        "unschedulable",
        "gpu_hours",
        "gpu_share",
        "entitlement",
        "share_ratio",
        "gpu_utilisation",
        "preemptions",
        "wait_mean_s",
        "wait_p50_s",
        "wait_p95_s",
        "wait_p99_s",
        "wait_max_s",
        "pending_mean_s",
        "jct_p50_s",
        "jct_p95_s",
        "slowdown_mean",
        "bounded_slowdown_mean",
        "quota_wait_s",
        "node_wait_s",
    ])?;
    let o = |v: Option<f64>| v.map(fmt_f64).unwrap_or_default();
    for (name, t) in &s.per_team {
        wr.write_record([
            name.clone(),
            t.queue.clone().unwrap_or_default(),
            t.counts.jobs_total.to_string(),
            t.counts.jobs_finished.to_string(),
            t.counts.jobs_unschedulable.to_string(),
            fmt_f64(t.gpu_hours),
            fmt_f64(t.gpu_share),
            fmt_f64(t.entitlement),
            o(t.share_ratio),
            o(t.gpu_utilisation),
            t.preemptions.to_string(),
            o(t.wait_s.mean),
            o(t.wait_s.p50),
            o(t.wait_s.p95),
            o(t.wait_s.p99),
            o(t.wait_s.max),
            o(t.pending_s.mean),
            o(t.jct_s.p50),
            o(t.jct_s.p95),
            o(t.slowdown.mean),
            o(t.bounded_slowdown.mean),
            fmt_f64(t.quota_wait_s),
            fmt_f64(t.node_wait_s),
        ])?;
    }
    wr.flush()
}

/// `rightsizing.csv`: advice per team, then per user.
pub fn rightsizing_csv(out: &mut dyn std::io::Write, run: &RunData) -> std::io::Result<()> {
    let mut wr = csv::Writer::from_writer(out);
    wr.write_record([
        "scope",
        "name",
        "team",
        "jobs",
        "requested_gpus_p50",
        "used_gpus_p50",
        "used_gpus_p90",
        "recommended_gpus",
        "requested_gpu_hours",
        "used_gpu_hours",
        "freed_gpu_hours",
    ])?;
    let row = |scope: &str, name: &str, team: &str, r: &RightSize| {
        vec![
            scope.to_string(),
            name.to_string(),
            team.to_string(),
            r.jobs.to_string(),
            fmt_f64(r.requested_gpus_p50),
            fmt_f64(r.used_gpus_p50),
            fmt_f64(r.used_gpus_p90),
            fmt_f64(r.recommended_gpus),
            fmt_f64(r.requested_gpu_hours),
            fmt_f64(r.used_gpu_hours),
            fmt_f64(r.freed_gpu_hours),
        ]
    };
    if let Some(rs) = &run.summary.right_sizing {
        for (t, r) in &rs.per_team {
            wr.write_record(row("team", t, t, r))?;
        }
    }
    for (u, (team, r)) in &run.jobs.user_right_sizing {
        wr.write_record(row("user", u, team, r))?;
    }
    wr.flush()
}

/// Renders every derived file of the run in `dir` from its tables.
pub fn render_dir(dir: &Path, opts: RenderOptions) -> Result<RunData, RenderError> {
    let _claim = crate::output::reopen(dir)?;
    render_in(dir, opts)
}

/// [`render_dir`] in a folder the caller has claimed (the run that just wrote its tables).
pub fn render_in(dir: &Path, opts: RenderOptions) -> Result<RunData, RenderError> {
    let run = RunData::load(dir)?;
    write_atomic(&dir.join("teams.csv"), |f| teams_csv(f, &run.summary))?;
    write_atomic(&dir.join("rightsizing.csv"), |f| rightsizing_csv(f, &run))?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| WriteError {
        file: charts_dir.display().to_string(),
        message: e.to_string(),
    })?;
    let charts = charts(&run);
    let mut svgs = Vec::with_capacity(charts.len());
    for c in &charts {
        let svg = c.svg()?;
        write_atomic(&charts_dir.join(format!("{}.svg", c.stem())), |f| {
            f.write_all(svg.as_bytes())
        })?;
        if opts.png {
            c.png(&charts_dir.join(format!("{}.png", c.stem())))?;
        }
        svgs.push((c.title().to_string(), svg));
    }
    let html = crate::html::report(&run, &svgs);
    write_atomic(&dir.join("report.html"), |f| f.write_all(html.as_bytes()))?;
    write_atomic(&dir.join("metrics.prom"), |f| {
        crate::prom::write(f, &run, opts.prom_queues)
    })?;
    Ok(run)
}
