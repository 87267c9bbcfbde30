//! `sweep.csv`: one row per run of a sweep (run, point, seed, every swept key, every metric the
//! CI gate knows), ordered by run; and the merge of shards' files into the one a single machine
//! would have written.

use crate::compare::{METRICS, value};
use serde_json::Value;

/// One finished run.
pub struct SweepRow<'a> {
    pub run: usize,
    pub point: usize,
    pub seed: u64,
    /// Swept values, in the order of the header's keys, as TOML writes them.
    pub set: Vec<String>,
    pub summary: &'a Value,
}

/// Writes the rows (sorted by run) under a header of `keys` and the metric names.
pub fn sweep_csv(keys: &[String], rows: &mut [SweepRow<'_>]) -> Result<Vec<u8>, csv::Error> {
    rows.sort_by_key(|r| r.run);
    let mut wr = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["run".into(), "point".into(), "seed".into()];
    header.extend(keys.iter().cloned());
    header.extend(METRICS.iter().map(|m| m.0.to_string()));
    wr.write_record(&header)?;
    for r in rows.iter() {
        let mut rec = vec![
            (r.run + 1).to_string(),
            (r.point + 1).to_string(),
            r.seed.to_string(),
        ];
        rec.extend(r.set.iter().cloned());
        rec.extend(METRICS.iter().map(|(_, path)| {
            value(r.summary, path, None)
                .map(|v| v.to_string())
                .unwrap_or_default()
        }));
        wr.write_record(&rec)?;
    }
    wr.into_inner().map_err(|e| e.into_error().into())
}

/// Merges shards' `sweep.csv` texts: same header, no run twice, rows by run.
pub fn merge(files: &[(String, String)]) -> Result<Vec<u8>, String> {
    let mut header: Option<csv::StringRecord> = None;
    let mut rows: Vec<(u64, csv::StringRecord)> = Vec::new();
    for (name, text) in files {
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let h = rd.headers().map_err(|e| format!("{name}: {e}"))?.clone();
        match &header {
            None => header = Some(h),
            Some(first) if *first != h => {
                return Err(format!(
                    "{name}: its columns differ from the first file's: not the same sweep"
                ));
            }
            _ => {}
        }
        for rec in rd.records() {
            let rec = rec.map_err(|e| format!("{name}: {e}"))?;
            let run: u64 = rec
                .get(0)
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| format!("{name}: a row without a run number"))?;
            rows.push((run, rec));
        }
    }
    let header = header.ok_or("nothing to merge")?;
    rows.sort_by_key(|r| r.0);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!("run {} is in two shards", w[0].0));
    }
    let mut wr = csv::Writer::from_writer(Vec::new());
    wr.write_record(&header).map_err(|e| e.to_string())?;
    for (_, r) in &rows {
        wr.write_record(r).map_err(|e| e.to_string())?;
    }
    wr.into_inner().map_err(|e| e.to_string())
}
