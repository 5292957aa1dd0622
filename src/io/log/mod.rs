//! Message log reading (formats.md §1): CSV, JSON Lines, Parquet and Meta's webhooks into
//! columnar events.
//!
//! This file is the one dispatcher: [`read_log`] (and, for the partitioned replay's scan,
//! `read_rows`) picks the reader of a [`LogFormat`]. Each reader, one file per format, hands
//! every row to a `RowSink` (`sink.rs`): the in-memory [`LogBuilder`], or the partitioned
//! replay's spill writer. Every row is validated by the one row parser ([`schema`]); a row that
//! cannot be read is never dropped silently: it becomes a [`Reject`] naming the row, the column
//! and the value, and is written to the rejects file.
//!
//! Dependencies point one way: this file uses the readers (`csv`, `jsonl`, `parquet`,
//! `webhooks`) and `builder`; those use `sink`, `schema`, `options` and `timestamp`, which use
//! nothing here but each other (`sink` → `schema` → `timestamp`). No reader imports this file or
//! another reader. The library reads no environment variable: the binary passes [`ReadOptions`].

pub mod builder;
mod csv;
mod jsonl;
pub mod mapped;
mod options;
pub(crate) mod parquet;
pub mod schema;
pub(crate) mod sink;
pub mod timestamp;
pub mod webhooks;

pub(crate) use self::csv::record_cut;
pub(crate) use builder::{
    any_invalid, invalid_numbers, repeated_ids, resolve_countries, users_needing_country, Interner,
    FROM_USER,
};
pub(crate) use builder::{member_label, Links, BSUID_KEY, GROUP_KEY};
pub use builder::{member_of, InvalidNumber, Log, LogBuilder};
pub use options::{CsvReader, ReadOptions};
pub(crate) use schema::{fatal, Fields, Parsed, RowRules};
pub use schema::{is_gzip, open_input, read_text, LogError, Reject, COLUMNS};
pub(crate) use sink::RowSink;
pub use timestamp::{parse_timestamp, MAX_INSTANT, MIN_INSTANT};

use std::path::Path;

use crate::billing::accounts::Accounts;
use crate::billing::markets::MarketTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Csv,
    Jsonl,
    Parquet,
    /// Meta's webhook payloads, one JSON body per line ([`webhooks`]); never guessed from the
    /// extension, since such files are JSON Lines too.
    Webhooks,
    /// A provider's export read through a mapping ([`mapped`]); the source lives for the
    /// process (a command reads a handful).
    Mapped(&'static mapped::MappedSource),
}

impl LogFormat {
    /// The format of a path by its extension: `.parquet`/`.pq` Parquet, `.jsonl`/`.ndjson`/`.json`
    /// JSON Lines, anything else CSV.
    /// A `.gz` suffix is looked through (`log.jsonl.gz` is JSON Lines, read decompressed).
    pub fn from_path(p: &Path) -> LogFormat {
        let inner;
        let p = if schema::is_gzip(p) {
            inner = p.with_extension("");
            inner.as_path()
        } else {
            p
        };
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref()
        {
            Some("parquet") | Some("pq") => LogFormat::Parquet,
            Some("jsonl") | Some("ndjson") | Some("json") => LogFormat::Jsonl,
            _ => LogFormat::Csv,
        }
    }
}

/// Read a log file in `format` into a [`Log`]; `progress` is called with the rows read so far.
pub fn read_log(
    path: &Path,
    format: LogFormat,
    accounts: &Accounts,
    markets: &MarketTable,
    read: &ReadOptions,
    progress: &dyn Fn(u64),
) -> Result<Log, LogError> {
    check_log_file(path)?;
    let mut b = LogBuilder::new(accounts, markets, read);
    read_rows(path, format, &mut b, read, progress)?;
    let t = std::time::Instant::now();
    let log = b.finish(&path.display().to_string());
    if read.trace {
        eprintln!("wabill: finish: {:.3} s", t.elapsed().as_secs_f64());
    }
    if log.rows == 0 {
        return Err(fatal(path, "no messages (only a header)"));
    }
    Ok(log)
}

/// [`read_log`] of a format chosen by the extension, through the plain CSV reader
/// ([`CsvReader::Plain`]): the csv crate, one record at a time, no parallel parsing. The
/// reference the block reader is tested against (same log, byte for byte).
pub fn read_log_plain(
    path: &Path,
    accounts: &Accounts,
    markets: &MarketTable,
    auto_rulebook: bool,
) -> Result<Log, LogError> {
    let read = ReadOptions {
        auto_rulebook,
        reader: CsvReader::Plain,
        trace: false,
    };
    read_log(
        path,
        LogFormat::from_path(path),
        accounts,
        markets,
        &read,
        &|_| {},
    )
}

/// Read every row of a log file in `format` into `sink`, in file order: the one place a format
/// picks its reader.
pub(crate) fn read_rows(
    path: &Path,
    format: LogFormat,
    sink: &mut dyn RowSink<'_>,
    read: &ReadOptions,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    match format {
        LogFormat::Csv => self::csv::read_csv(path, sink, read, progress),
        LogFormat::Jsonl => jsonl::read_jsonl(path, sink, progress),
        LogFormat::Parquet => parquet::read_parquet(path, sink, read, progress),
        LogFormat::Webhooks => webhooks::read_rows(path, sink, progress),
        LogFormat::Mapped(src) => mapped::read_mapped(path, src, sink, progress),
    }
}

/// A log path must be a non-empty file; returns its size in bytes.
pub(crate) fn check_log_file(path: &Path) -> Result<u64, LogError> {
    let meta = std::fs::metadata(path).map_err(|e| fatal(path, format!("cannot read: {e}")))?;
    if meta.is_dir() {
        return Err(fatal(path, "is a directory, not a log file"));
    }
    if meta.len() == 0 {
        return Err(fatal(
            path,
            "empty file (expected a header row and messages)",
        ));
    }
    Ok(meta.len())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The files of this folder and the siblings each may import: a layered order, so the
    /// imports form a DAG (no reader imports this file, another reader, or the builder).
    const ALLOWED: &[(&str, &[&str])] = &[
        ("timestamp.rs", &[]),
        ("options.rs", &[]),
        ("schema.rs", &["timestamp"]),
        ("sink.rs", &["schema"]),
        ("builder.rs", &["options", "schema", "sink"]),
        ("csv.rs", &["options", "schema", "sink"]),
        ("jsonl.rs", &["schema", "sink"]),
        ("mapped.rs", &["csv", "schema", "sink", "timestamp"]),
        ("parquet.rs", &["options", "schema", "sink"]),
        ("webhooks/mod.rs", &["payloads", "schema", "sink"]),
        ("webhooks/payloads.rs", &["schema", "timestamp"]),
    ];

    /// The sibling modules a file's code names (`super::x`, `crate::io::log::x`), comments and
    /// unit tests left out.
    fn imports(text: &str) -> Vec<String> {
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut out = Vec::new();
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for prefix in ["super::", "crate::io::log::"] {
                for rest in line.split(prefix).skip(1) {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                }
            }
        }
        out
    }

    #[test]
    fn readers_import_only_the_layers_below_them() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/io/log");
        for (file, allowed) in ALLOWED {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            for name in imports(&text) {
                assert!(
                    allowed.contains(&name.as_str()),
                    "{file} imports `{name}` (allowed: {allowed:?})"
                );
            }
        }
        // Every file of the folder is in the table.
        let mut files = Vec::new();
        for entry in walk(&dir) {
            let rel = entry
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel != "mod.rs" {
                files.push(rel);
            }
        }
        for f in &files {
            assert!(ALLOWED.iter().any(|(a, _)| a == f), "{f} is not in ALLOWED");
        }
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }
}
