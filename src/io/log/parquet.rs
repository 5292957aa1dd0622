//! Parquet logs (formats.md §1), through polars: string columns as they are; a timestamp column
//! may be a string, integer Unix seconds, or a Parquet timestamp. The file is read in slices of
//! whole row groups, so memory is bounded by a slice and not by the file. (The Parquet writers,
//! the other polars user, are in `io::parquet`.)

use std::fs::File;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::options::ReadOptions;
use super::schema::{fatal, header_map, parse_row, Fields, HeaderMap, LogError, RowRules, NCOL};
use super::sink::RowSink;

/// The number of rows a Parquet file declares (from its footer), if it is readable.
pub fn row_count(path: &Path) -> Option<u64> {
    let mut reader = ParquetReader::new(File::open(path).ok()?);
    reader.num_rows().ok().map(|n| n as u64)
}

/// Rows read per slice: whole row groups, at least this many rows.
const SLICE_ROWS: usize = 1 << 20;

/// The log's columns of one slice, in [`super::schema::COLUMNS`] order (`None`: absent).
type Columns = Vec<Option<StringChunked>>;

/// Read a Parquet log into `b`, slice by slice, reporting the rows read as it goes.
pub(crate) fn read_parquet(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    read: &ReadOptions,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let open = || File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")));
    let unreadable = |e: PolarsError| fatal(path, format!("not a readable Parquet file: {e}"));
    let groups: Vec<usize> = ParquetReader::new(open()?)
        .get_metadata()
        .map_err(unreadable)?
        .row_groups
        .iter()
        .map(|g| g.num_rows())
        .collect();
    let slices = slices(&groups);
    let rules = b.rules();
    let trace = read.trace;
    // A reader thread decodes the next slice (polars, its own threads) while this one
    // validates and absorbs the current one; at most one slice waits in between.
    let read_slice =
        |(offset, len): (usize, usize), map: &mut Option<HeaderMap>| -> Result<Columns, LogError> {
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
            if trace {
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
            if b.stopped() {
                break;
            }
        }
        Ok(())
    })?;
    progress(b.rows());
    Ok(())
}

/// The (offset, length) of each slice: whole row groups of `groups` (their row counts), each
/// slice at least [`SLICE_ROWS`] rows but the last; one empty slice for a file without rows.
fn slices(groups: &[usize]) -> Vec<(usize, usize)> {
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
    slices
}

/// Validate one slice's rows in parallel and absorb them in file order.
fn absorb_slice(cols: Columns, rules: &RowRules, b: &mut dyn RowSink<'_>, progress: &dyn Fn(u64)) {
    // Validate rows in parallel, absorb them in file order, chunk by chunk: random access
    // through the chunked columns is slow, the chunks' arrays answer directly.
    let cols = aligned(cols);
    let chunk_lens = |c: &StringChunked| c.chunks().iter().map(|a| a.len()).collect::<Vec<usize>>();
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
        while start < len && !b.stopped() {
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
                    [None; NCOL]
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

/// The columns with chunks of the same lengths: as they are when every column's chunks line up
/// with the first one's, else all rechunked.
fn aligned(cols: Columns) -> Columns {
    let chunk_lens = |c: &StringChunked| c.chunks().iter().map(|a| a.len()).collect::<Vec<usize>>();
    let first: Vec<usize> = cols
        .iter()
        .flatten()
        .next()
        .map(chunk_lens)
        .unwrap_or_default();
    if cols.iter().flatten().all(|c| chunk_lens(c) == first) {
        cols
    } else {
        cols.into_iter()
            .map(|c| c.map(|c| c.rechunk().into_owned()))
            .collect()
    }
}

/// The log's columns of one slice as strings, in [`super::schema::COLUMNS`] order.
fn string_columns(
    path: &Path,
    df: &DataFrame,
    map: &HeaderMap,
    names: &[String],
) -> Result<Columns, LogError> {
    let mut cols: Columns = Vec::with_capacity(NCOL);
    for (c, ix) in map.iter().enumerate() {
        let Some(ix) = ix else {
            cols.push(None);
            continue;
        };
        let col = &df.columns()[*ix];
        let s = match col.dtype() {
            DataType::Datetime(unit, _) if c == 0 => timestamp_strings(path, col, *unit)?,
            _ => {
                let name = if c == 0 {
                    "timestamp"
                } else {
                    names[*ix].as_str()
                };
                col.cast(&DataType::String)
                    .map_err(|e| fatal(path, format!("column {name}: {e}")))?
                    .str()
                    .map_err(|e| fatal(path, format!("column {name}: {e}")))?
                    .clone()
            }
        };
        cols.push(Some(s));
    }
    Ok(cols)
}

/// A Parquet timestamp column rendered as RFC 3339 UTC, so the one row parser handles every
/// format.
fn timestamp_strings(path: &Path, col: &Column, unit: TimeUnit) -> Result<StringChunked, LogError> {
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
    Ok(StringChunked::from_iter_options(
        "timestamp".into(),
        v.into_iter(),
    ))
}
