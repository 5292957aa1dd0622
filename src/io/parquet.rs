//! Parquet output through polars: ledgers and synthetic logs, written as string columns. (The
//! Parquet log reader, the other polars user, is `io::log::parquet`.)

use std::path::Path;

use polars::prelude::*;

/// The number of rows a Parquet file declares (from its footer), if it is readable.
pub use crate::io::log::parquet::row_count;

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
            if let Some(cut) = crate::io::log::record_cut(&self.buf).filter(|&c| c > 0) {
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
