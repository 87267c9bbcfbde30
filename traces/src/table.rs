//! Reading a CSV file row by row with typed fields and precise errors.

use crate::error::TraceError;
use csv::StringRecord;
use std::path::Path;

/// A CSV file with a header row, whose columns are looked up by name.
pub struct Table {
    pub file: String,
    reader: csv::Reader<Lines<std::fs::File>>,
    header: Vec<String>,
    rows: u64,
    max_rows: u64,
}

/// The most rows (jobs) a trace may have unless the scenario raises `[limits] max_jobs`: enough
/// for the largest public traces, few enough that a wrong file cannot exhaust memory.
pub const DEFAULT_MAX_ROWS: u64 = 20_000_000;

/// Index of a column in the header.
#[derive(Clone, Copy, Debug)]
pub struct Col {
    idx: usize,
    name: &'static str,
}

impl Table {
    /// Opens a CSV file with a header row. Leading and trailing spaces of fields are ignored.
    pub fn open(path: &Path) -> Result<Table, TraceError> {
        Self::open_with(path, true)
    }

    /// Opens a CSV file; `has_header = false` names the columns by the caller's list instead.
    pub fn open_with(path: &Path, has_header: bool) -> Result<Table, TraceError> {
        let file = path.display().to_string();
        let f = fairway_engine::input::open(path).map_err(|source| TraceError::Io {
            file: file.clone(),
            source,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(has_header)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(Lines::new(f));
        let header = if has_header {
            let h = match reader.headers() {
                Ok(h) => h,
                Err(e) => return Err(csv_error(&file, e, reader.get_mut())),
            };
            h.iter().map(str::to_string).collect::<Vec<_>>()
        } else {
            Vec::new()
        };
        if has_header && (header.is_empty() || header.iter().all(String::is_empty)) {
            return Err(TraceError::file(
                &file,
                "the file is empty: expected a header row",
            ));
        }
        Ok(Table {
            file,
            reader,
            header,
            rows: 0,
            max_rows: DEFAULT_MAX_ROWS,
        })
    }

    /// Refuses files of more than `max` data rows (an error at the first row beyond).
    pub fn limit_rows(&mut self, max: u64) {
        self.max_rows = max;
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// A column that must be present.
    pub fn required(&self, name: &'static str) -> Result<Col, TraceError> {
        self.optional(name).ok_or_else(|| {
            TraceError::file(
                &self.file,
                format!(
                    "missing required column '{name}' (the header has: {})",
                    self.header.join(", ")
                ),
            )
        })
    }

    pub fn optional(&self, name: &'static str) -> Option<Col> {
        self.header
            .iter()
            .position(|h| h == name)
            .map(|idx| Col { idx, name })
    }

    /// A column of a header-less file, by position.
    pub fn positional(idx: usize, name: &'static str) -> Col {
        Col { idx, name }
    }

    /// Header names not in `known`.
    pub fn unknown_columns(&self, known: &[&str]) -> Vec<String> {
        self.header
            .iter()
            .filter(|h| !known.contains(&h.as_str()))
            .cloned()
            .collect()
    }

    /// Reads the next record into `rec`; returns it with its line, or `None` at the end.
    pub fn next<'a>(&'a mut self, rec: &'a mut StringRecord) -> Result<Option<Row<'a>>, TraceError> {
        match self.reader.read_record(rec) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = rec
                    .position()
                    .map_or(0, |p| self.reader.get_mut().line_at(p.byte()));
                self.rows += 1;
                if self.rows > self.max_rows {
                    return Err(TraceError::Row {
                        file: self.file.clone(),
                        line,
                        message: format!(
                            "more than {} rows: larger than the limit (the scenario's [limits] max_jobs; raise it if the trace is meant to be this large)",
                            self.max_rows
                        ),
                    });
                }
                Ok(Some(Row {
                    file: &self.file,
                    line,
                    rec,
                }))
            }
            Err(e) => Err(csv_error(&self.file, e, self.reader.get_mut())),
        }
    }
}

/// The file under the CSV reader, keeping the bytes read since the start of the last record
/// whose line was asked, to count lines exactly. The reader's own count is one short after a
/// CRLF (a record ends at the CR, and the LF is read with the next record) and after the blank
/// lines it skips, and it does not count lone CRs, which also end records.
struct Lines<R> {
    inner: R,
    /// Bytes read from `inner` from offset `base` on, from index `start`.
    kept: Vec<u8>,
    start: usize,
    base: u64,
    /// Line breaks before `base`.
    breaks: u64,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Lines {
            inner,
            kept: Vec::new(),
            start: 0,
            base: 0,
            breaks: 0,
        }
    }

    /// The line (from 1) of a record the CSV reader started reading at byte `from`: the line of
    /// the first byte from there on that is not a line break. Offsets asked must not decrease.
    fn line_at(&mut self, from: u64) -> u64 {
        let kept = &self.kept[self.start..];
        let mut end =
            usize::try_from(from.saturating_sub(self.base)).map_or(kept.len(), |i| i.min(kept.len()));
        while end < kept.len() && matches!(kept[end], b'\r' | b'\n') {
            end += 1;
        }
        // CR LF is one break, and so is a lone CR or LF.
        let lone_cr = |i: usize| kept.get(i + 1) != Some(&b'\n');
        self.breaks += (0..end)
            .filter(|&i| kept[i] == b'\n' || (kept[i] == b'\r' && lone_cr(i)))
            .count() as u64;
        self.base += end as u64;
        self.start += end;
        // Forget what is counted, in large steps: the kept bytes are then about one read ahead.
        if self.start > 1 << 16 && self.start * 2 > self.kept.len() {
            self.kept.drain(..self.start);
            self.start = 0;
        }
        self.breaks + 1
    }
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.kept.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The row's id in `col`: non-empty and not the name of a job `b` already holds (the error
/// names the line of the first one).
pub fn unique_id<'r>(
    row: &Row<'r>,
    col: Col,
    b: &fairway_engine::WorkloadBuilder,
) -> Result<&'r str, TraceError> {
    let id = row.non_empty(col)?;
    match b.line_of(id) {
        Some(first) => Err(row.err(
            col,
            format!("duplicate {} '{id}' (first on line {first})", col.name),
        )),
        None => Ok(id),
    }
}

fn csv_error<R>(file: &str, e: csv::Error, lines: &mut Lines<R>) -> TraceError {
    let line = e.position().map(|p| lines.line_at(p.byte()));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        csv::ErrorKind::Io(io) => format!("cannot read: {io}"),
        _ => e.to_string(),
    };
    match line {
        Some(line) => TraceError::Row {
            file: file.to_string(),
            line,
            message,
        },
        None => TraceError::file(file, message),
    }
}

/// Seconds written as plain decimal digits (`12`, `12.5`, `.5`) in milliseconds, rounded half
/// up, exactly: through an f64, times past about 2^42 s would come out a millisecond off, and a
/// trace written to the millisecond must read back the same. `None` for any other form (a sign,
/// an exponent), which is read through an f64; `u128::MAX` past any time.
fn decimal_millis(s: &str) -> Option<u128> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || int.len() + frac.len() == 0 {
        return None;
    }
    let int = int.trim_start_matches('0');
    if int.len() > 30 {
        return Some(u128::MAX);
    }
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let f = frac.as_bytes();
    let digit = |i: usize| f.get(i).map_or(0, |b| u128::from(b - b'0'));
    let ms = whole * 1000 + digit(0) * 100 + digit(1) * 10 + digit(2);
    Some(ms + u128::from(digit(3) >= 5))
}

/// One record, with the file and line for errors.
pub struct Row<'a> {
    pub file: &'a str,
    pub line: u64,
    pub rec: &'a StringRecord,
}

impl<'a> Row<'a> {
    pub fn err(&self, col: Col, message: impl Into<String>) -> TraceError {
        TraceError::Field {
            file: self.file.to_string(),
            line: self.line,
            column: col.name.to_string(),
            message: message.into(),
        }
    }

    pub fn row_err(&self, message: impl Into<String>) -> TraceError {
        TraceError::Row {
            file: self.file.to_string(),
            line: self.line,
            message: message.into(),
        }
    }

    pub fn str(&self, col: Col) -> &'a str {
        self.rec.get(col.idx).unwrap_or("")
    }

    /// The field's text, or `None` if the column is absent or the field empty.
    pub fn opt_str(&self, col: Option<Col>) -> Option<&'a str> {
        col.map(|c| self.str(c)).filter(|s| !s.is_empty())
    }

    pub fn non_empty(&self, col: Col) -> Result<&'a str, TraceError> {
        let s = self.str(col);
        if s.is_empty() {
            Err(self.err(col, "must not be empty"))
        } else {
            Ok(s)
        }
    }

    /// A finite number.
    pub fn f64(&self, col: Col) -> Result<f64, TraceError> {
        let s = self.str(col);
        if s.is_empty() {
            return Err(self.err(col, "expected a number, found an empty field"));
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.err(col, format!("expected a number, found '{s}'"))),
        }
    }

    pub fn opt_f64(&self, col: Option<Col>) -> Result<Option<f64>, TraceError> {
        match col {
            Some(c) if !self.str(c).is_empty() => self.f64(c).map(Some),
            _ => Ok(None),
        }
    }

    /// A whole number (plain digits, optional sign).
    pub fn i64(&self, col: Col) -> Result<i64, TraceError> {
        let s = self.str(col);
        s.parse::<i64>()
            .map_err(|_| self.err(col, format!("expected a whole number, found '{s}'")))
    }

    /// A whole number >= 0.
    pub fn count(&self, col: Col) -> Result<u64, TraceError> {
        let v = self.i64(col)?;
        u64::try_from(v).map_err(|_| self.err(col, format!("expected a whole number >= 0, found '{v}'")))
    }

    /// A whole number >= 0 that fits in 32 bits.
    pub fn count32(&self, col: Col) -> Result<u32, TraceError> {
        let v = self.count(col)?;
        u32::try_from(v)
            .map_err(|_| self.err(col, format!("expected a whole number below 2^32, found '{v}'")))
    }

    pub fn opt_i64(&self, col: Option<Col>) -> Result<Option<i64>, TraceError> {
        match col {
            Some(c) if !self.str(c).is_empty() => self.i64(c).map(Some),
            _ => Ok(None),
        }
    }

    /// Seconds (>= 0, or > 0 with `positive`) as milliseconds, at most
    /// [`MAX_MILLIS`](fairway_engine::time::MAX_MILLIS).
    pub fn secs(&self, col: Col, positive: bool) -> Result<u64, TraceError> {
        use fairway_engine::time::MAX_MILLIS;
        let v = self.f64(col)?;
        let ms = match decimal_millis(self.str(col)) {
            Some(ms) => u64::try_from(ms).ok().filter(|&ms| ms <= MAX_MILLIS),
            None => fairway_engine::time::secs_to_millis(v),
        };
        match ms {
            Some(ms) if !positive || ms > 0 => Ok(ms),
            None if v > 0.0 => Err(self.err(
                col,
                format!(
                    "expected a number of seconds up to {} (about 285,000 years), found '{}'",
                    fairway_engine::resources::fmt_milli(MAX_MILLIS),
                    self.str(col)
                ),
            )),
            _ if positive => Err(self.err(
                col,
                format!(
                    "expected a number of seconds > 0 (at least 0.001), found '{}'",
                    self.str(col)
                ),
            )),
            _ => Err(self.err(
                col,
                format!("expected a number of seconds >= 0, found '{}'", self.str(col)),
            )),
        }
    }

    pub fn opt_secs(&self, col: Option<Col>, positive: bool) -> Result<Option<u64>, TraceError> {
        match col {
            Some(c) if !self.str(c).is_empty() => self.secs(c, positive).map(Some),
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_seconds_read_to_the_exact_millisecond() {
        assert_eq!(decimal_millis("12"), Some(12_000));
        assert_eq!(decimal_millis("12.5"), Some(12_500));
        assert_eq!(decimal_millis(".5"), Some(500));
        assert_eq!(decimal_millis("3."), Some(3000));
        assert_eq!(decimal_millis("0.0004"), Some(0));
        assert_eq!(decimal_millis("0.0005"), Some(1));
        assert_eq!(decimal_millis("1.99951"), Some(2000));
        // Where an f64 is coarser than a millisecond.
        assert_eq!(decimal_millis("9007199254740.991"), Some(9_007_199_254_740_991));
        assert_eq!(decimal_millis(&"9".repeat(40)), Some(u128::MAX));
        for other in ["", ".", "-1", "+1", "1e3", "inf", "1.2.3", " 1"] {
            assert_eq!(decimal_millis(other), None, "{other:?}");
        }
    }
}
