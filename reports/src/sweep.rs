//! `sweep.csv`: one row per run of a sweep (run, point, seed, every swept key, every metric the
//! CI gate knows, then every team metric as `team:<name>:<metric>`), ordered by run; and the
//! merge of shards' files into the one a single machine would have written.

use crate::files::{WriteError, write_atomic};
use crate::metric::{METRICS, Metric};
use crate::metrics::RunSummary;
use std::path::Path;

/// A sweep's tables that cannot be written, merged or charted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepTableError {
    #[error("{file}: {source}")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
    #[error("{file}: its columns differ from the first file's: not the same sweep")]
    NotSameSweep { file: String },
    #[error("{file}: a row without a run number")]
    NoRunNumber { file: String },
    #[error("run {run} is in two shards")]
    RunTwice { run: u64 },
    #[error("nothing to merge")]
    Nothing,
    #[error("column {column}: {why}")]
    Column { column: String, why: String },
    #[error("sweep.parquet: {0}")]
    Frame(#[from] polars::prelude::PolarsError),
    #[error("--chart-metric: {0}")]
    ChartMetric(#[from] crate::metric::UnknownMetric),
    /// What the chart should plot cannot be plotted.
    #[error("sweep chart: {0}")]
    Chart(String),
    #[error(transparent)]
    Draw(#[from] crate::chart::ChartError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What the sweep chart plots: a metric (by default `p95_wait`) against a swept key (by default
/// the first numeric one).
#[derive(Clone, Debug, Default)]
pub struct ChartChoice {
    pub metric: Option<String>,
    pub x: Option<String>,
}

impl ChartChoice {
    pub fn metric(&self) -> &str {
        self.metric.as_deref().unwrap_or("p95_wait")
    }

    /// Whether the user chose what to plot, so that a chart that cannot be drawn is an error.
    pub fn chosen(&self) -> bool {
        self.metric.is_some() || self.x.is_some()
    }

    /// Fails on a metric nobody knows, before anything runs.
    pub fn check(&self) -> Result<(), SweepTableError> {
        crate::metric::metric(self.metric())?;
        Ok(())
    }
}

/// Writes `sweep.csv`, `sweep.parquet` and `charts/sweep.svg` into `dir` from the CSV bytes (the
/// single source, so merged shards give the same files). Without a chart that the user did not
/// ask for, says why.
pub fn write_tables(
    dir: &Path,
    csv_bytes: &[u8],
    chart: &ChartChoice,
) -> Result<Option<String>, SweepTableError> {
    write_atomic(&dir.join("sweep.csv"), |f| f.write_all(csv_bytes))?;
    let frame = sweep_frame(csv_bytes)?;
    crate::frame::write_parquet(&dir.join("sweep.parquet"), frame)?;
    match sweep_chart(csv_bytes, chart.metric(), chart.x.as_deref()) {
        Ok(c) => {
            let svg = c.svg()?;
            let charts = dir.join("charts");
            std::fs::create_dir_all(&charts).map_err(|e| WriteError {
                file: charts.display().to_string(),
                message: e.to_string(),
            })?;
            write_atomic(&charts.join("sweep.svg"), |f| f.write_all(svg.as_bytes()))?;
            Ok(None)
        }
        Err(e) if chart.chosen() => Err(e),
        Err(SweepTableError::Chart(why)) => Ok(Some(why)),
        Err(e) => Err(e),
    }
}

/// One finished run.
pub struct SweepRow<'a> {
    pub run: usize,
    pub point: usize,
    pub seed: u64,
    /// Swept values, in the order of the header's keys, as TOML writes them.
    pub set: Vec<String>,
    pub summary: &'a RunSummary,
}

/// At most this many teams get `team:` columns in `sweep.csv`: those with the most GPU-hours over
/// the sweep's runs (each adds a column per team metric).
pub const MAX_SWEEP_TEAMS: usize = 100;

/// The teams that get columns: every team of any run, the busiest [`MAX_SWEEP_TEAMS`] if more,
/// in name order; and how many were left out.
fn sweep_teams(rows: &[SweepRow<'_>]) -> (Vec<String>, usize) {
    let mut hours: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
    for r in rows {
        for (t, s) in &r.summary.per_team {
            *hours.entry(t.as_str()).or_default() += s.gpu_hours;
        }
    }
    let mut teams: Vec<(&str, f64)> = hours.into_iter().collect();
    let left_out = teams.len().saturating_sub(MAX_SWEEP_TEAMS);
    if left_out > 0 {
        teams.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        teams.truncate(MAX_SWEEP_TEAMS);
        teams.sort_by(|a, b| a.0.cmp(b.0));
    }
    (teams.into_iter().map(|t| t.0.to_string()).collect(), left_out)
}

/// The per-team column of `metric` for `team`.
pub fn team_column(team: &str, metric: &str) -> String {
    format!("team:{team}:{metric}")
}

/// Writes the rows (sorted by run) under a header of `keys`, the metric names and the team
/// columns; returns the bytes and how many teams were left without columns.
pub fn sweep_csv(keys: &[String], rows: &mut [SweepRow<'_>]) -> Result<(Vec<u8>, usize), SweepTableError> {
    let err = |source| SweepTableError::Csv {
        file: "sweep.csv".into(),
        source,
    };
    rows.sort_by_key(|r| r.run);
    let mut wr = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["run".into(), "point".into(), "seed".into()];
    header.extend(keys.iter().cloned());
    header.extend(METRICS.iter().map(|m| m.name.to_string()));
    let (teams, left_out) = sweep_teams(rows);
    let team_metrics: Vec<_> = METRICS.iter().filter(|m| m.per_team()).collect();
    for t in &teams {
        header.extend(team_metrics.iter().map(|m| team_column(t, m.name)));
    }
    wr.write_record(&header).map_err(err)?;
    for r in rows.iter() {
        let mut rec = vec![
            (r.run + 1).to_string(),
            (r.point + 1).to_string(),
            r.seed.to_string(),
        ];
        rec.extend(r.set.iter().cloned());
        rec.extend(METRICS.iter().map(|m| {
            m.value(r.summary, None)
                .map(|v| v.to_string())
                .unwrap_or_default()
        }));
        for t in &teams {
            rec.extend(team_metrics.iter().map(|m| {
                m.value(r.summary, Some(t))
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }));
        }
        wr.write_record(&rec).map_err(err)?;
    }
    let bytes = wr.into_inner().map_err(|e| err(e.into_error().into()))?;
    Ok((bytes, left_out))
}

/// Where a `sweep.csv` header's team columns begin (its length if it has none).
fn team_start(header: &csv::StringRecord) -> usize {
    header
        .iter()
        .position(|h| h.starts_with("team:"))
        .unwrap_or(header.len())
}

/// Merges shards' `sweep.csv` texts: the same columns up to the team columns, no run twice,
/// rows by run. A shard's runs may have met other teams: the merged file has every shard's team
/// columns, in the order one run of the whole sweep writes them (teams by name, metrics in
/// table order), empty where a shard has none.
pub fn merge(files: &[(String, String)]) -> Result<Vec<u8>, SweepTableError> {
    let csv_err = |file: &str| {
        let file = file.to_string();
        move |source| SweepTableError::Csv {
            file: file.clone(),
            source,
        }
    };
    let mut base: Option<csv::StringRecord> = None;
    let mut team_cols: std::collections::BTreeSet<(String, usize)> = std::collections::BTreeSet::new();
    let order = |col: &str| -> Option<(String, usize)> {
        let rest = col.strip_prefix("team:")?;
        let (team, metric) = rest.rsplit_once(':')?;
        let k = METRICS.iter().position(|m| m.name == metric)?;
        Some((team.to_string(), k))
    };
    let mut rows: Vec<(u64, std::collections::HashMap<String, String>, csv::StringRecord)> = Vec::new();
    for (name, text) in files {
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let h = rd.headers().map_err(csv_err(name))?.clone();
        let split = team_start(&h);
        let head: csv::StringRecord = h.iter().take(split).collect();
        match &base {
            None => base = Some(head),
            Some(first) if *first != head => {
                return Err(SweepTableError::NotSameSweep { file: name.clone() });
            }
            _ => {}
        }
        for col in h.iter().skip(split) {
            team_cols.insert(order(col).ok_or_else(|| SweepTableError::NotSameSweep { file: name.clone() })?);
        }
        for rec in rd.records() {
            let rec = rec.map_err(csv_err(name))?;
            let run: u64 = rec
                .get(0)
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| SweepTableError::NoRunNumber { file: name.clone() })?;
            let teams = (h.iter().zip(rec.iter()))
                .skip(split)
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect();
            let head: csv::StringRecord = rec.iter().take(split).collect();
            rows.push((run, teams, head));
        }
    }
    let base = base.ok_or(SweepTableError::Nothing)?;
    rows.sort_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SweepTableError::RunTwice { run: w[0].0 });
    }
    let team_names: Vec<String> = (team_cols.iter())
        .map(|(t, k)| team_column(t, METRICS[*k].name))
        .collect();
    let merged = csv_err("the merged sweep.csv");
    let mut wr = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = base.iter().chain(team_names.iter().map(String::as_str)).collect();
    wr.write_record(&header).map_err(&merged)?;
    for (_, teams, head) in &rows {
        let rec: Vec<&str> = (head.iter())
            .chain(team_names.iter().map(|c| teams.get(c).map_or("", String::as_str)))
            .collect();
        wr.write_record(&rec).map_err(&merged)?;
    }
    wr.into_inner().map_err(|e| merged(e.into_error().into()))
}

/// The columns of a `sweep.csv`: the swept keys are the ones between `seed` and the metrics.
fn parse(csv_bytes: &[u8]) -> Result<(Vec<String>, Vec<csv::StringRecord>), SweepTableError> {
    let err = |source| SweepTableError::Csv {
        file: "sweep.csv".into(),
        source,
    };
    let mut rd = csv::Reader::from_reader(csv_bytes);
    let header: Vec<String> = rd.headers().map_err(err)?.iter().map(str::to_string).collect();
    let rows = rd.records().collect::<Result<Vec<_>, _>>().map_err(err)?;
    Ok((header, rows))
}

/// The swept keys of a `sweep.csv` header: between `seed` and the first metric.
fn swept_keys(header: &[String]) -> &[String] {
    let start = 3.min(header.len());
    let first_metric = METRICS.first().map_or("", |m| m.name);
    let end = (header.iter().skip(start).position(|h| h == first_metric)).map_or(header.len(), |p| start + p);
    &header[start..end]
}

/// The metrics of a sweep's closing table.
const RESULT_METRICS: [&str; 4] = ["p95_wait", "mean_wait", "gpu_allocation_rate", "jobs_finished"];

/// The table a sweep prints when it ends: one row per point (the swept keys' values), the number
/// of seeds, and for each of [`RESULT_METRICS`] the mean over the seeds in the metric's unit,
/// with the lowest and highest seed's value when seeds differ ("-" where no run has the metric).
pub fn results_table(csv_bytes: &[u8]) -> Result<String, SweepTableError> {
    let (header, rows) = parse(csv_bytes)?;
    let keys = swept_keys(&header);
    let col = |name: &str| header.iter().position(|h| h == name);
    let key_cols: Vec<usize> = keys.iter().filter_map(|k| col(k)).collect();
    let metrics: Vec<(&Metric, usize)> = (RESULT_METRICS.iter())
        .filter_map(|n| Some((crate::metric::metric(n).ok()?, col(n)?)))
        .collect();
    /// A point's swept values, its number of seeds and each metric's values over them.
    type Point = (Vec<String>, usize, Vec<Vec<f64>>);
    let mut points: std::collections::BTreeMap<u64, Point> = Default::default();
    for r in &rows {
        let point = r.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        let e = points.entry(point).or_insert_with(|| {
            let vals = key_cols
                .iter()
                .map(|&c| r.get(c).unwrap_or("").to_string())
                .collect();
            (vals, 0, vec![Vec::new(); metrics.len()])
        });
        e.1 += 1;
        for (k, (_, c)) in metrics.iter().enumerate() {
            if let Some(v) = r.get(*c).and_then(|s| s.parse::<f64>().ok()) {
                e.2[k].push(v);
            }
        }
    }
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut head: Vec<String> = keys.to_vec();
    head.push("seeds".into());
    head.extend(metrics.iter().map(|(m, _)| m.name.to_string()));
    table.push(head);
    for (vals, seeds, values) in points.values() {
        let mut row: Vec<String> = vals
            .iter()
            .map(|v| crate::escape::terminal(v).into_owned())
            .collect();
        row.push(seeds.to_string());
        for ((m, _), vs) in metrics.iter().zip(values) {
            row.push(match vs.len() {
                0 => "-".into(),
                n => {
                    let mean = vs.iter().sum::<f64>() / n as f64;
                    let (lo, hi) = (
                        vs.iter().copied().fold(f64::INFINITY, f64::min),
                        vs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    );
                    if lo == hi {
                        m.show(mean)
                    } else {
                        format!("{} ({}–{})", m.show(mean), m.show(lo), m.show(hi))
                    }
                }
            });
        }
        table.push(row);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| table.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                // Keys left-aligned, figures right-aligned.
                if c < keys.len() {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str("(mean over seeds; lowest–highest seed in brackets where they differ)\n");
    Ok(out)
}

/// `sweep.parquet`: the rows of `sweep.csv` (its bytes are the single source, so merged shards
/// give the same file), with `run`, `point`, `seed` as `UInt64`, metrics as `Float64` (null when
/// a run has none), and a swept key as `Float64` when every value is a number, else `String`.
pub fn sweep_frame(csv_bytes: &[u8]) -> Result<polars::prelude::DataFrame, SweepTableError> {
    use polars::prelude::{Column, DataFrame};
    let (header, rows) = parse(csv_bytes)?;
    let keys = swept_keys(&header).len();
    let mut cols = Vec::with_capacity(header.len());
    for (c, name) in header.iter().enumerate() {
        let cells: Vec<&str> = rows.iter().map(|r| r.get(c).unwrap_or("")).collect();
        let numbers: Option<Vec<Option<f64>>> = cells
            .iter()
            .map(|s| {
                if s.is_empty() {
                    Some(None)
                } else {
                    s.parse::<f64>().ok().map(Some)
                }
            })
            .collect();
        let col = if c < 3 {
            let v: Vec<u64> = cells
                .iter()
                .map(|s| {
                    s.parse().map_err(|_| SweepTableError::Column {
                        column: name.clone(),
                        why: format!("'{s}' is not a whole number"),
                    })
                })
                .collect::<Result<_, _>>()?;
            Column::new(name.as_str().into(), v)
        } else if c < 3 + keys {
            match numbers {
                Some(v) if cells.iter().all(|s| !s.is_empty()) => Column::new(name.as_str().into(), v),
                _ => Column::new(name.as_str().into(), cells),
            }
        } else {
            let v = numbers.ok_or_else(|| SweepTableError::Column {
                column: name.clone(),
                why: "not all numbers".into(),
            })?;
            Column::new(name.as_str().into(), v)
        };
        cols.push(col);
    }
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// The sweep chart: `metric` against the swept key `x` (the first numeric swept key by
/// default), one line per combination of the other swept keys, each point the mean over seeds
/// with the band from the lowest to the highest seed's value.
pub fn sweep_chart(
    csv_bytes: &[u8],
    metric: &str,
    x: Option<&str>,
) -> Result<crate::chart::Chart, SweepTableError> {
    let chart = SweepTableError::Chart;
    use std::collections::BTreeMap;
    let (header, rows) = parse(csv_bytes)?;
    let keys = swept_keys(&header);
    let col = |name: &str| header.iter().position(|h| h == name);
    let m = col(metric).ok_or_else(|| {
        let names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        chart(format!("unknown metric '{metric}'; known: {}", names.join(", ")))
    })?;
    let numeric = |k: &str| {
        let c = col(k).expect("a swept key is a column");
        rows.iter()
            .all(|r| r.get(c).is_some_and(|s| s.parse::<f64>().is_ok()))
    };
    let x = match x {
        Some(k) if keys.iter().any(|h| h == k) => {
            if !numeric(k) {
                return Err(chart(format!(
                    "swept key '{k}' is not numeric, so it cannot be an axis"
                )));
            }
            k.to_string()
        }
        Some(k) => {
            return Err(chart(format!(
                "'{k}' is not a swept key; swept: {}",
                keys.join(", ")
            )));
        }
        None => keys
            .iter()
            .find(|k| numeric(k))
            .cloned()
            .ok_or_else(|| chart("no swept key is numeric: nothing to put on the x axis".into()))?,
    };
    let xc = col(&x).expect("checked");
    let others: Vec<usize> = keys.iter().filter(|k| **k != x).filter_map(|k| col(k)).collect();
    // line label -> x -> values over seeds
    let mut lines: BTreeMap<String, BTreeMap<u64, (f64, Vec<f64>)>> = BTreeMap::new();
    for r in &rows {
        let Some(v) = r.get(m).and_then(|s| s.parse::<f64>().ok()) else {
            continue;
        };
        let xv: f64 = r.get(xc).and_then(|s| s.parse().ok()).expect("numeric");
        let label: Vec<String> = others
            .iter()
            .map(|&c| format!("{}={}", header[c], r.get(c).unwrap_or("")))
            .collect();
        let label = if label.is_empty() {
            metric.to_string()
        } else {
            label.join(", ")
        };
        lines
            .entry(label)
            .or_default()
            .entry(xv.to_bits())
            .or_insert_with(|| (xv, Vec::new()))
            .1
            .push(v);
    }
    let series = lines
        .into_iter()
        .map(|(name, pts)| {
            let mut points: Vec<(f64, f64, f64, f64)> = pts
                .into_values()
                .map(|(xv, vals)| {
                    let mean = vals.iter().sum::<f64>() / vals.len() as f64;
                    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (xv, mean, lo, hi)
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            crate::chart::Band { name, points }
        })
        .collect();
    Ok(crate::chart::Chart::Bands {
        stem: "sweep",
        title: format!("{metric} by {x} (mean over seeds; band: lowest to highest seed)"),
        x_desc: x,
        y_desc: metric.to_string(),
        series,
        y_metric: crate::metric::metric(metric).ok(),
        target: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sweep.csv of 2 node counts x 2 seeds, with every metric column empty but mean_wait.
    fn csv() -> Vec<u8> {
        let mut header = vec!["run", "point", "seed", "nodes", "policy.name"];
        header.extend(METRICS.iter().map(|m| m.name));
        let blank = METRICS.len() - 1;
        let row = |run: u32, point: u32, seed: u32, nodes: u32, wait: f64| {
            format!("{run},{point},{seed},{nodes},fifo,{wait}{}\n", ",".repeat(blank))
        };
        let mut text = header.join(",") + "\n";
        text += &row(1, 1, 1, 4, 10.0);
        text += &row(2, 1, 2, 4, 30.0);
        text += &row(3, 2, 1, 8, 2.0);
        text += &row(4, 2, 2, 8, 4.0);
        text.into_bytes()
    }

    #[test]
    fn the_sweep_chart_takes_means_and_seed_ranges() {
        let c = sweep_chart(&csv(), "mean_wait", None).unwrap();
        let crate::chart::Chart::Bands { x_desc, series, .. } = c else {
            panic!("a band chart")
        };
        assert_eq!(x_desc, "nodes");
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].name, "policy.name=fifo");
        assert_eq!(
            series[0].points,
            vec![(4.0, 20.0, 10.0, 30.0), (8.0, 3.0, 2.0, 4.0)]
        );
        assert!(sweep_chart(&csv(), "mean_wait", Some("policy.name")).is_err());
        assert!(sweep_chart(&csv(), "no_such", None).is_err());
    }

    #[test]
    fn the_sweep_frame_types_columns() {
        use polars::prelude::DataType;
        let df = sweep_frame(&csv()).unwrap();
        assert_eq!(df.height(), 4);
        assert_eq!(df.column("seed").unwrap().dtype(), &DataType::UInt64);
        assert_eq!(df.column("nodes").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("policy.name").unwrap().dtype(), &DataType::String);
        assert_eq!(df.column("mean_wait").unwrap().dtype(), &DataType::Float64);
        assert_eq!(df.column("p95_wait").unwrap().null_count(), 4);
    }

    /// A run whose teams had these p95 waits (and 1 GPU-hour each).
    fn summary(teams: &[(&str, f64)]) -> RunSummary {
        let mut s = RunSummary::default();
        for &(t, p95) in teams {
            let mut ts = crate::metrics::TeamSummary {
                gpu_hours: 1.0,
                ..Default::default()
            };
            ts.wait_s.p95 = Some(p95);
            s.per_team.insert(t.into(), ts);
        }
        s
    }

    fn header(bytes: &[u8]) -> Vec<String> {
        csv::Reader::from_reader(bytes)
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect()
    }

    /// Team columns follow the metrics, teams by name, and shards that met different teams merge
    /// into what one run of the whole sweep writes.
    #[test]
    fn team_columns_and_their_merge() {
        let (s1, s2) = (summary(&[("b", 60.0)]), summary(&[("a", 5.0), ("b", 90.0)]));
        let keys = vec!["nodes".to_string()];
        let row = |run, s| SweepRow {
            run,
            point: run,
            seed: 1,
            set: vec![(run + 4).to_string()],
            summary: s,
        };
        let (whole, left_out) = sweep_csv(&keys, &mut [row(0, &s1), row(1, &s2)]).unwrap();
        assert_eq!(left_out, 0);
        let h = header(&whole);
        let team_metrics = METRICS.iter().filter(|m| m.per_team()).count();
        assert_eq!(h.len(), 4 + METRICS.len() + 2 * team_metrics);
        assert_eq!(h[4 + METRICS.len()], format!("team:a:{}", METRICS[0].name));
        assert_eq!(swept_keys(&h), &keys[..]);
        let text = String::from_utf8(whole.clone()).unwrap();
        let col = h.iter().position(|c| c == "team:b:p95_wait").unwrap();
        let cells: Vec<Vec<String>> = (text.lines().skip(1))
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect();
        assert_eq!((cells[0][col].as_str(), cells[1][col].as_str()), ("60", "90"));
        // Run 1 had no team a: its team a cells are empty.
        let a = h.iter().position(|c| c == "team:a:p95_wait").unwrap();
        assert_eq!((cells[0][a].as_str(), cells[1][a].as_str()), ("", "5"));
        // The same runs as two shards, the first without team a.
        let (one, _) = sweep_csv(&keys, &mut [row(0, &s1)]).unwrap();
        let (two, _) = sweep_csv(&keys, &mut [row(1, &s2)]).unwrap();
        let merged = merge(&[
            ("one".into(), String::from_utf8(one).unwrap()),
            ("two".into(), String::from_utf8(two).unwrap()),
        ])
        .unwrap();
        assert_eq!(String::from_utf8(merged).unwrap(), text);
        // And the Parquet table types team columns as numbers.
        let df = sweep_frame(&whole).unwrap();
        assert_eq!(
            df.column("team:b:p95_wait").unwrap().dtype(),
            &polars::prelude::DataType::Float64
        );
    }

    /// Two points: the first with two seeds that differ (its means and ranges by hand: p95
    /// (1h + 2h) / 2 = 1.5h, allocation (50 % + 70 %) / 2 = 60 %), the second with one seed and
    /// no allocation figure.
    #[test]
    fn the_results_table_has_a_row_per_point_with_means_and_ranges_over_seeds() {
        let csv = "run,point,seed,nodes,mean_wait,p95_wait,gpu_allocation_rate,jobs_finished\n\
                   1,1,1,4,60,3600,0.5,10\n\
                   2,1,2,4,60,7200,0.7,12\n\
                   3,2,1,8,0,0,,10\n";
        let t = results_table(csv.as_bytes()).unwrap();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        let cells = |l: &str| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cells(lines[0]),
            [
                "nodes",
                "seeds",
                "p95_wait",
                "mean_wait",
                "gpu_allocation_rate",
                "jobs_finished"
            ]
        );
        assert_eq!(
            cells(lines[1]),
            [
                "4",
                "2",
                "1.5h (1h–2h)",
                "1m",
                "60.0 % (50.0 %–70.0 %)",
                "11 (10–12)"
            ]
        );
        assert_eq!(cells(lines[2]), ["8", "1", "0s", "0s", "-", "10"]);
    }
}
