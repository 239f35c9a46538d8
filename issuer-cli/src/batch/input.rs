//! Reading input rows lazily from CSV (header row) or JSONL (one object per line).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use crate::CliError;

/// One input row.
pub struct Row {
    /// 1-based line number in the input file.
    pub line: u64,
    pub fields: Map<String, Value>,
}

/// A row that could not be read.
pub struct BadRow {
    pub line: u64,
    pub reason: String,
}

/// A lazy iterator over the rows of a file.
pub type Rows = Box<dyn Iterator<Item = Result<Row, BadRow>> + Send>;

/// Open `path` (CSV, or JSONL for `.jsonl`/`.ndjson`).
pub fn open(path: &Path) -> Result<Rows, CliError> {
    let file = File::open(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" => Ok(Box::new(jsonl(reader))),
        "csv" => csv_rows(reader, path),
        _ => Err(CliError::input(format!(
            "{}: input must be .csv or .jsonl",
            path.display()
        ))),
    }
}

/// Count the rows of a file cheaply (for the progress bar's length).
pub fn count_rows(path: &Path) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    let csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    Some(if csv { lines.saturating_sub(1) } else { lines })
}

fn jsonl(
    mut reader: impl BufRead + Send + 'static,
) -> impl Iterator<Item = Result<Row, BadRow>> + Send {
    let mut line = 0u64;
    let mut buf = Vec::new();
    std::iter::from_fn(move || loop {
        buf.clear();
        line += 1;
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                return Some(Err(BadRow {
                    line,
                    reason: format!("cannot read: {e}"),
                }))
            }
        }
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim(),
            Err(_) => {
                return Some(Err(BadRow {
                    line,
                    reason: "not UTF-8".into(),
                }))
            }
        };
        if text.is_empty() {
            continue;
        }
        return Some(match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(fields)) => Ok(Row { line, fields }),
            Ok(_) => Err(BadRow {
                line,
                reason: "not a JSON object".into(),
            }),
            Err(e) => Err(BadRow {
                line,
                reason: format!("not valid JSON: {e}"),
            }),
        });
    })
}

fn csv_rows(reader: impl Read + Send + 'static, path: &Path) -> Result<Rows, CliError> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::Headers)
        .from_reader(reader);
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| CliError::input(format!("{}: header row: {e}", path.display())))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut records = r.into_records();
    Ok(Box::new(std::iter::from_fn(move || {
        let next = records.next()?;
        Some(match next {
            Ok(rec) => {
                let line = rec.position().map(|p| p.line()).unwrap_or_default();
                let fields = headers
                    .iter()
                    .cloned()
                    .zip(rec.iter().map(Value::from))
                    .collect();
                Ok(Row { line, fields })
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or_default();
                let reason = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields where the header has {expected_len}"),
                    csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
                    _ => e.to_string(),
                };
                Err(BadRow { line, reason })
            }
        })
    })))
}
