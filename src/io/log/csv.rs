//! CSV logs (formats.md §1), by one of two readers ([`CsvReader`]):
//!
//! - **block**: the file is read in 32 MB blocks cut at record boundaries (quote parity); each
//!   block is split into pieces validated in parallel ([`parse_row`] is pure), then absorbed in
//!   file order, so interning and row numbers are exactly those of a sequential read. A piece
//!   with quotes (or not UTF-8) goes through the csv crate, in order, during the merge.
//! - **plain**: every block through the csv crate, one record at a time: the reference.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::options::{CsvReader, ReadOptions};
use super::schema::{
    fatal, header_map, parse_row, Fields, HeaderMap, LogError, Parsed, RowRules, COLUMNS,
};
use super::sink::RowSink;

/// Bytes read per block: the file is never held in memory whole.
const BLOCK: usize = 32 << 20;

/// End of the last complete record in `buf` that is outside any quoted field (even number of
/// `"` before it), or `None` if there is none.
pub(crate) fn record_cut(buf: &[u8]) -> Option<usize> {
    let mut quotes = memchr::memchr_iter(b'"', buf).count();
    let mut end = buf.len();
    while let Some(nl) = memchr::memrchr(b'\n', &buf[..end]) {
        // Quotes after this newline belong to the incomplete tail.
        quotes -= memchr::memchr_iter(b'"', &buf[nl + 1..end]).count();
        if quotes.is_multiple_of(2) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// Read a CSV log into `b`, reporting the rows read after each block.
pub(crate) fn read_csv(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    read: &ReadOptions,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let mut file = File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    if let Ok(m) = file.metadata() {
        // About 90 bytes a row in typical logs.
        b.reserve((m.len() / 90) as usize);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 20));
    let mut map: Option<HeaderMap> = None;
    let mut eof = false;
    let rules = b.rules();
    while !eof {
        eof = fill_block(path, &mut file, &mut buf)?;
        let cut = if eof {
            buf.len()
        } else {
            match record_cut(&buf) {
                Some(c) => c,
                None => continue, // a record longer than a block: read more
            }
        };
        let mut body_start = 0;
        if map.is_none() {
            let (m, hend) = read_header(path, &buf[..cut])?;
            map = Some(m);
            body_start = hend;
        }
        let map = map.expect("header read");
        let body = &buf[body_start..cut];
        let tp = std::time::Instant::now();
        let pieces = pieces(body, &map, &rules, read.reader);
        let tp = tp.elapsed().as_secs_f64();
        let tm = std::time::Instant::now();
        merge(pieces, &map, b);
        if read.trace {
            eprintln!(
                "wabill: block: parse {tp:.3} s, merge {:.3} s",
                tm.elapsed().as_secs_f64()
            );
        }
        progress(b.rows());
        buf.drain(..cut);
        if b.stopped() {
            break;
        }
    }
    if map.is_none() {
        return Err(fatal(
            path,
            "empty file (expected a header row and messages)",
        ));
    }
    Ok(())
}

/// Append up to one block of the file to `buf`; `true` at the end of the file.
fn fill_block(path: &Path, file: &mut File, buf: &mut Vec<u8>) -> Result<bool, LogError> {
    let start = buf.len();
    buf.resize(start + BLOCK, 0);
    let mut filled = start;
    let mut eof = false;
    while filled < buf.len() {
        let n = file
            .read(&mut buf[filled..])
            .map_err(|e| fatal(path, format!("read error: {e}")))?;
        if n == 0 {
            eof = true;
            break;
        }
        filled += n;
    }
    buf.truncate(filled);
    Ok(eof)
}

/// The header, the first record of `block` (complete records only): its column map and where
/// the data rows start.
fn read_header(path: &Path, block: &[u8]) -> Result<(HeaderMap, usize), LogError> {
    let cut = block.len();
    let hcut = record_cut(block).unwrap_or(cut);
    let first_nl =
        (0..hcut).find(|&i| block[i] == b'\n' && record_cut(&block[..=i]) == Some(i + 1));
    let hend = first_nl.map(|i| i + 1).unwrap_or(cut);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&block[..hend]);
    let mut rec = csv::StringRecord::new();
    let ok = rdr
        .read_record(&mut rec)
        .map_err(|e| fatal(path, format!("cannot read the header: {e}")))?;
    if !ok {
        return Err(fatal(
            path,
            "empty file (expected a header row and messages)",
        ));
    }
    let names: Vec<String> = rec.iter().map(|s| s.to_string()).collect();
    Ok((header_map(path, &names)?, hend))
}

/// A row of a fast piece: its verdict (see [`parse_row`]) and its line.
type Checked<'r> = (Result<Parsed<'r>, (usize, String)>, &'r str);

/// A piece of a block parsed in parallel: rows in file order, borrowing the block's bytes.
enum Piece<'r> {
    /// No quotes: split on newlines and commas directly.
    Fast(Vec<Checked<'r>>),
    /// Has quotes (or is not UTF-8): the csv crate, in order, during the merge.
    Slow(&'r [u8]),
}

/// The pieces of a block's body: with the block reader, about four per thread validated in
/// parallel; with the plain reader, the whole body for the csv crate.
fn pieces<'r>(
    body: &'r [u8],
    map: &HeaderMap,
    rules: &RowRules,
    reader: CsvReader,
) -> Vec<Piece<'r>> {
    match reader {
        CsvReader::Plain => vec![Piece::Slow(body)],
        CsvReader::Block => split_records(body, rayon::current_num_threads() * 4)
            .into_par_iter()
            .map(|p| match parse_fast(p, map, rules) {
                Some(rows) => Piece::Fast(rows),
                None => Piece::Slow(p),
            })
            .collect(),
    }
}

/// Absorb the pieces' rows into `b`, in file order.
fn merge(pieces: Vec<Piece>, map: &HeaderMap, b: &mut dyn RowSink<'_>) {
    for piece in pieces {
        if b.stopped() {
            return;
        }
        match piece {
            Piece::Fast(rows) => {
                for (parsed, line) in rows {
                    let fields: Fields = {
                        // Only needed to name a rejected value.
                        let cells: Vec<&str> = if parsed.is_err() {
                            line.split(',').collect()
                        } else {
                            Vec::new()
                        };
                        std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()))
                    };
                    b.absorb(parsed, &fields, &|| line.to_string());
                }
            }
            Piece::Slow(bytes) => read_csv_records(bytes, map, b),
        }
    }
}

/// Split `body` into about `parts` pieces at record boundaries.
fn split_records(body: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(parts);
    let mut rest = body;
    let target = (body.len() / parts.max(1)).max(1 << 16);
    while rest.len() > target {
        match record_cut(&rest[..target]).filter(|&c| c > 0) {
            Some(c) => {
                out.push(&rest[..c]);
                rest = &rest[c..];
            }
            None => break,
        }
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Validate a piece without quotes, line by line (`None` if it has quotes or is not UTF-8).
fn parse_fast<'r>(piece: &'r [u8], map: &HeaderMap, rules: &RowRules) -> Option<Vec<Checked<'r>>> {
    if memchr::memchr(b'"', piece).is_some() {
        return None;
    }
    let text = std::str::from_utf8(piece).ok()?;
    let mut out = Vec::with_capacity(piece.len() / 80);
    let mut cells: Vec<&str> = Vec::with_capacity(16);
    // Byte searches (`,` and `\n` are ASCII, so every cut is a char boundary): str::split with
    // a char pattern is several times slower here.
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', piece).chain(std::iter::once(piece.len())) {
        let line = &text[start..nl];
        start = nl + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        cells.clear();
        let mut cell = 0;
        for comma in memchr::memchr_iter(b',', line.as_bytes()) {
            cells.push(&line[cell..comma]);
            cell = comma + 1;
        }
        cells.push(&line[cell..]);
        let fields: Fields = std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()));
        out.push((parse_row(&fields, rules), line));
    }
    Some(out)
}

/// The csv crate's reader over a slice of records (quoted fields, odd encodings).
fn read_csv_records(bytes: &[u8], map: &HeaderMap, b: &mut dyn RowSink<'_>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let mut fields: Fields = [None; 11];
                let mut utf8_err = None;
                for (c, ix) in map.iter().enumerate() {
                    if let Some(ix) = ix {
                        match rec.get(*ix).map(std::str::from_utf8) {
                            Some(Ok(s)) => fields[c] = Some(s),
                            Some(Err(_)) => utf8_err = Some(c),
                            None => {}
                        }
                    }
                }
                let render = || {
                    rec.iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                if let Some(c) = utf8_err {
                    b.push_unreadable(
                        format!("column `{}` is not valid UTF-8", COLUMNS[c]),
                        render(),
                    );
                } else {
                    b.push(&fields, &render);
                }
            }
            Err(e) => b.push_unreadable(format!("unreadable CSV record: {e}"), String::new()),
        }
    }
}
