//! Parquet input and output through polars (the only place polars is used).

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use rayon::prelude::*;

use super::log::{header_map, parse_row, Fields, LogError, RowRules, RowSink};

fn fatal(path: &Path, message: impl Into<String>) -> LogError {
    LogError::Fatal {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The number of rows a Parquet file declares (from its footer), if it is readable.
pub fn row_count(path: &Path) -> Option<u64> {
    let mut reader = ParquetReader::new(File::open(path).ok()?);
    reader.num_rows().ok().map(|n| n as u64)
}

/// Rows read per slice: whole row groups, at least this many rows, so memory is bounded by a
/// slice and not by the file.
const SLICE_ROWS: usize = 1 << 20;

/// Read a Parquet log: string columns as they are; a timestamp column may be a string, integer
/// Unix seconds, or a Parquet timestamp. The file is read in slices of whole row groups.
pub(crate) fn read_parquet(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let open = || File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")));
    let unreadable = |e: PolarsError| fatal(path, format!("not a readable Parquet file: {e}"));
    let mut reader = ParquetReader::new(open()?);
    let groups: Vec<usize> = reader
        .get_metadata()
        .map_err(unreadable)?
        .row_groups
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let mut slices = Vec::new();
    let (mut offset, mut len) = (0, 0);
    for g in groups {
        len += g;
        if len >= SLICE_ROWS {
            slices.push((offset, len));
            offset += len;
            len = 0;
        }
    }
    if len > 0 || slices.is_empty() {
        slices.push((offset, len));
    }
    let rules = b.rules();
    // A reader thread decodes the next slice (polars, its own threads) while this one
    // validates and absorbs the current one; at most one slice waits in between.
    let read_slice = |(offset, len): (usize, usize),
                      map: &mut Option<[Option<usize>; 11]>|
     -> Result<Vec<Option<StringChunked>>, LogError> {
        let t0 = std::time::Instant::now();
        let df = ParquetReader::new(open()?)
            .with_slice(Some((offset, len)))
            .finish()
            .map_err(unreadable)?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let map = match map {
            Some(m) => *m,
            None => *map.insert(header_map(path, &names)?),
        };
        let cols = string_columns(path, &df, &map, &names)?;
        if std::env::var_os("WABILL_TRACE").is_some() {
            eprintln!(
                "wabill: parquet columns: {:.3} s",
                t0.elapsed().as_secs_f64()
            );
        }
        Ok(cols)
    };
    std::thread::scope(|scope| -> Result<(), LogError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let mut map = None;
            for slice in slices {
                let cols = read_slice(slice, &mut map);
                let failed = cols.is_err();
                if tx.send(cols).is_err() || failed {
                    break;
                }
            }
        });
        for cols in rx {
            absorb_slice(cols?, &rules, b, progress);
        }
        Ok(())
    })?;
    progress(b.rows());
    Ok(())
}

/// Validate one slice's rows in parallel and absorb them in file order.
fn absorb_slice(
    cols: Vec<Option<StringChunked>>,
    rules: &RowRules,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) {
    // Validate rows in parallel, absorb them in file order, chunk by chunk: random access
    // through the chunked columns is slow, the chunks' arrays answer directly. Columns
    // whose chunks do not line up with the first one's are rechunked.
    let chunk_lens = |c: &StringChunked| c.chunks().iter().map(|a| a.len()).collect::<Vec<usize>>();
    let first: Vec<usize> = cols
        .iter()
        .flatten()
        .next()
        .map(chunk_lens)
        .unwrap_or_default();
    let cols: Vec<Option<StringChunked>> = if cols.iter().flatten().all(|c| chunk_lens(c) == first)
    {
        cols
    } else {
        cols.into_iter()
            .map(|c| c.map(|c| c.rechunk().into_owned()))
            .collect()
    };
    let lens: Vec<usize> = cols
        .iter()
        .flatten()
        .next()
        .map(chunk_lens)
        .unwrap_or_default();
    let arrays: Vec<Option<Vec<_>>> = cols
        .iter()
        .map(|c| c.as_ref().map(|c| c.downcast_iter().collect()))
        .collect();
    let step = 1 << 18;
    for (k, &len) in lens.iter().enumerate() {
        let field = |c: usize, i: usize| -> Option<&str> {
            arrays[c].as_ref().and_then(|a: &Vec<_>| a[k].get(i))
        };
        let mut start = 0;
        while start < len {
            let end = (start + step).min(len);
            let parsed: Vec<_> = (start..end)
                .into_par_iter()
                .map(|i| {
                    let fields: Fields = std::array::from_fn(|c| field(c, i));
                    parse_row(&fields, rules)
                })
                .collect();
            for (i, p) in (start..end).zip(parsed) {
                // The fields are only needed to name a rejected value.
                let fields: Fields = if p.is_err() {
                    std::array::from_fn(|c| field(c, i))
                } else {
                    [None; 11]
                };
                let render = || {
                    fields
                        .iter()
                        .map(|f| f.unwrap_or("").to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                b.absorb(p, &fields, &render);
            }
            progress(b.rows());
            start = end;
        }
    }
}

/// The log's columns of one slice as strings, in [`super::log::COLUMNS`] order.
fn string_columns(
    path: &Path,
    df: &DataFrame,
    map: &[Option<usize>; 11],
    names: &[String],
) -> Result<Vec<Option<StringChunked>>, LogError> {
    let mut cols: Vec<Option<StringChunked>> = Vec::with_capacity(11);
    for (c, ix) in map.iter().enumerate() {
        let Some(ix) = ix else {
            cols.push(None);
            continue;
        };
        let col = &df.columns()[*ix];
        let s = if c == 0 {
            match col.dtype() {
                DataType::Datetime(unit, _) => {
                    let per_sec: i64 = match unit {
                        TimeUnit::Nanoseconds => 1_000_000_000,
                        TimeUnit::Microseconds => 1_000_000,
                        TimeUnit::Milliseconds => 1_000,
                    };
                    let ints = col
                        .cast(&DataType::Int64)
                        .map_err(|e| fatal(path, format!("timestamp column: {e}")))?;
                    let ints = ints
                        .i64()
                        .map_err(|e| fatal(path, format!("timestamp column: {e}")))?
                        .clone();
                    // Render as RFC 3339 UTC so the one row parser handles every format.
                    let v: Vec<Option<String>> = ints
                        .iter()
                        .map(|o| {
                            o.map(|x| {
                                let micros = (x as i128 * 1_000_000 / per_sec as i128) as i64;
                                chrono::DateTime::from_timestamp_micros(micros)
                                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                                    .unwrap_or_default()
                            })
                        })
                        .collect();
                    StringChunked::from_iter_options("timestamp".into(), v.into_iter())
                }
                _ => col
                    .cast(&DataType::String)
                    .map_err(|e| fatal(path, format!("column timestamp: {e}")))?
                    .str()
                    .map_err(|e| fatal(path, format!("column timestamp: {e}")))?
                    .clone(),
            }
        } else {
            col.cast(&DataType::String)
                .map_err(|e| fatal(path, format!("column {}: {e}", names[*ix])))?
                .str()
                .map_err(|e| fatal(path, format!("column {}: {e}", names[*ix])))?
                .clone()
        };
        cols.push(Some(s));
    }
    Ok(cols)
}

/// Write string columns as a Parquet file (used for ledgers and synthetic logs).
pub fn write_string_columns(
    path: &Path,
    names: &[&str],
    columns: Vec<Vec<String>>,
) -> anyhow::Result<()> {
    let height = columns.first().map(|c| c.len()).unwrap_or(0);
    let cols: Vec<Column> = names
        .iter()
        .zip(columns)
        .map(|(n, v)| Column::new((*n).into(), v))
        .collect();
    let mut df = DataFrame::new(height, cols)?;
    super::output::write_atomic_with(path, |f| {
        ParquetWriter::new(f).finish(&mut df)?;
        Ok(())
    })
}

/// Bytes of CSV buffered before they become one Parquet row group.
const CSV_BATCH: usize = 64 << 20;

/// An [`std::io::Write`] that takes CSV (header first) and writes it as a
/// Parquet file of string columns, one row group per batch: a generator's CSV stream becomes
/// Parquet in bounded memory. Call [`CsvToParquet::finish`] at the end.
pub struct CsvToParquet<W: std::io::Write> {
    out: Option<W>,
    names: Vec<String>,
    writer: Option<BatchedWriter<W>>,
    buf: Vec<u8>,
}

impl<W: std::io::Write> CsvToParquet<W> {
    pub fn new(out: W) -> Self {
        CsvToParquet {
            out: Some(out),
            names: Vec::new(),
            writer: None,
            buf: Vec::with_capacity(CSV_BATCH + (1 << 20)),
        }
    }

    /// Turn the complete records in `bytes` into a row group.
    fn batch(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(self.names.is_empty())
            .from_reader(bytes);
        if self.names.is_empty() {
            self.names = rdr.headers()?.iter().map(String::from).collect();
        }
        let mut cols: Vec<Vec<&str>> = vec![Vec::new(); self.names.len()];
        let mut rec = csv::StringRecord::new();
        let mut records = Vec::new();
        while rdr.read_record(&mut rec)? {
            records.push(rec.clone());
        }
        for r in &records {
            for (c, v) in cols.iter_mut().zip(r.iter()) {
                c.push(v);
            }
        }
        let height = records.len();
        let columns: Vec<Column> = self
            .names
            .iter()
            .zip(cols)
            .map(|(n, v)| Column::new(n.as_str().into(), v))
            .collect();
        let df = DataFrame::new(height, columns)?;
        if self.writer.is_none() {
            let out = self.out.take().expect("writer not started");
            self.writer = Some(ParquetWriter::new(out).batched(df.schema())?);
        }
        if height > 0 {
            self.writer.as_mut().expect("started").write_batch(&df)?;
        }
        Ok(())
    }

    /// Write the last records and the file footer.
    pub fn finish(mut self) -> anyhow::Result<()> {
        let rest = std::mem::take(&mut self.buf);
        if !rest.is_empty() || self.writer.is_none() {
            self.batch(&rest)?;
        }
        self.writer.expect("started").finish()?;
        Ok(())
    }
}

impl<W: std::io::Write> std::io::Write for CsvToParquet<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CSV_BATCH {
            // Cut after the last complete record (a quoted field may hold a newline).
            if let Some(cut) = super::log::record_cut(&self.buf).filter(|&c| c > 0) {
                let tail = self.buf.split_off(cut);
                let head = std::mem::replace(&mut self.buf, tail);
                self.batch(&head).map_err(std::io::Error::other)?;
            }
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
