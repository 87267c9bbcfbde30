//! `sweep.csv`: one row per run of a sweep (run, point, seed, every swept key, every metric the
//! CI gate knows), ordered by run; and the merge of shards' files into the one a single machine
//! would have written.

use crate::files::{WriteError, write_atomic};
use crate::metric::METRICS;
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

/// Writes the rows (sorted by run) under a header of `keys` and the metric names.
pub fn sweep_csv(keys: &[String], rows: &mut [SweepRow<'_>]) -> Result<Vec<u8>, SweepTableError> {
    let err = |source| SweepTableError::Csv {
        file: "sweep.csv".into(),
        source,
    };
    rows.sort_by_key(|r| r.run);
    let mut wr = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["run".into(), "point".into(), "seed".into()];
    header.extend(keys.iter().cloned());
    header.extend(METRICS.iter().map(|m| m.name.to_string()));
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
        wr.write_record(&rec).map_err(err)?;
    }
    wr.into_inner().map_err(|e| err(e.into_error().into()))
}

/// Merges shards' `sweep.csv` texts: same header, no run twice, rows by run.
pub fn merge(files: &[(String, String)]) -> Result<Vec<u8>, SweepTableError> {
    let csv_err = |file: &str| {
        let file = file.to_string();
        move |source| SweepTableError::Csv {
            file: file.clone(),
            source,
        }
    };
    let mut header: Option<csv::StringRecord> = None;
    let mut rows: Vec<(u64, csv::StringRecord)> = Vec::new();
    for (name, text) in files {
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let h = rd.headers().map_err(csv_err(name))?.clone();
        match &header {
            None => header = Some(h),
            Some(first) if *first != h => {
                return Err(SweepTableError::NotSameSweep { file: name.clone() });
            }
            _ => {}
        }
        for rec in rd.records() {
            let rec = rec.map_err(csv_err(name))?;
            let run: u64 = rec
                .get(0)
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| SweepTableError::NoRunNumber { file: name.clone() })?;
            rows.push((run, rec));
        }
    }
    let header = header.ok_or(SweepTableError::Nothing)?;
    rows.sort_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(SweepTableError::RunTwice { run: w[0].0 });
    }
    let merged = csv_err("the merged sweep.csv");
    let mut wr = csv::Writer::from_writer(Vec::new());
    wr.write_record(&header).map_err(&merged)?;
    for (_, r) in &rows {
        wr.write_record(r).map_err(&merged)?;
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

/// The swept keys of a `sweep.csv` header.
fn swept_keys(header: &[String]) -> &[String] {
    let end = header.len().saturating_sub(METRICS.len()).max(3);
    &header[3.min(header.len())..end]
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
}
