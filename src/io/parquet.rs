//! Parquet input and output through polars (the only place polars is used).

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use rayon::prelude::*;

use super::log::{header_map, parse_row, Fields, LogBuilder, LogError};

fn fatal(path: &Path, message: impl Into<String>) -> LogError {
    LogError::Fatal {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Read a Parquet log: string columns as they are; a timestamp column may be a string, integer
/// Unix seconds, or a Parquet timestamp.
pub fn read_parquet(
    path: &Path,
    b: &mut LogBuilder,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let t0 = std::time::Instant::now();
    let file = File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| fatal(path, format!("not a readable Parquet file: {e}")))?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let map = header_map(path, &names)?;
    let height = df.height();
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
    // The frame's own columns are no longer needed (the string columns above own their data).
    drop(df);
    if std::env::var_os("WABILL_TRACE").is_some() {
        eprintln!(
            "wabill: parquet columns: {:.3} s",
            t0.elapsed().as_secs_f64()
        );
    }
    // Validate rows in parallel, absorb them in file order.
    let rules = b.rules.clone();
    let step = 1 << 18;
    let mut start = 0;
    while start < height {
        let end = (start + step).min(height);
        let parsed: Vec<_> = (start..end)
            .into_par_iter()
            .map(|i| {
                let fields: Fields =
                    std::array::from_fn(|c| cols[c].as_ref().and_then(|s| s.get(i)));
                parse_row(&fields, &rules)
            })
            .collect();
        for (i, p) in (start..end).zip(parsed) {
            // The fields are only needed to name a rejected value.
            let fields: Fields = if p.is_err() {
                std::array::from_fn(|c| cols[c].as_ref().and_then(|s| s.get(i)))
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
        progress(end as u64);
        start = end;
    }
    progress(height as u64);
    Ok(())
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
