//! CSV logs (formats.md §1), by one of two readers ([`CsvReader`]):
//!
//! - **block**: the file is read in 32 MB blocks cut at record boundaries (quote parity); each
//!   block is split into pieces validated in parallel ([`parse_row`] is pure), then absorbed in
//!   file order, so interning and row numbers are exactly those of a sequential read. A piece
//!   with quotes (or not UTF-8) goes through the csv crate, in order, during the merge.
//! - **plain**: every block through the csv crate, one record at a time: the reference.
//!
//! A log record is one line (formats.md §1 logs carry no multi-line field): a quoted field that
//! does not close on its line is a reject of that line alone ("unterminated quote"), and
//! reading goes on at the next line. So one stray `"` can never swallow the rows after it:
//! rows in = rows kept + rows rejected, in both readers.
//!
//! Every row must have as many fields as the header (RFC 4180): a row with more or fewer (a
//! stray comma, a last line cut short) is a reject, never billed with its fields shifted or
//! missing.

use std::io::Read;
use std::path::Path;

use rayon::prelude::*;

use super::options::{CsvReader, ReadOptions};
use super::schema::{
    fatal, header_map, parse_row, Fields, HeaderMap, LogError, Parsed, RowRules, COLUMNS, NCOL,
};
use super::sink::RowSink;

/// Bytes read per block: the file is never held in memory whole.
pub(crate) const BLOCK: usize = 32 << 20;

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

/// End of the last complete line of `buf` (a log record is one line), or `None` if there is
/// none.
fn line_cut(buf: &[u8]) -> Option<usize> {
    memchr::memrchr(b'\n', buf).map(|nl| nl + 1)
}

/// Read a CSV log into `b`, reporting the rows read after each block.
pub(crate) fn read_csv(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    read: &ReadOptions,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    if let (Ok(m), false) = (std::fs::metadata(path), super::schema::is_gzip(path)) {
        // About 90 bytes a row in typical logs.
        b.reserve((m.len() / 90) as usize);
    }
    let mut file = super::schema::open_input(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 20));
    let mut map: Option<Header> = None;
    let mut eof = false;
    let rules = b.rules();
    while !eof {
        eof = fill_block(path, &mut *file, &mut buf)?;
        let cut = if eof {
            buf.len()
        } else {
            match line_cut(&buf) {
                Some(c) => c,
                None => continue, // a line longer than a block: read more
            }
        };
        let mut body_start = 0;
        if map.is_none() {
            let (m, hend) = read_header(path, &buf[..cut])?;
            map = Some(m);
            body_start = hend;
        }
        let map = map.as_ref().expect("header read");
        let body = &buf[body_start..cut];
        let tp = std::time::Instant::now();
        let pieces = pieces(body, map, &rules, read.reader);
        let tp = tp.elapsed().as_secs_f64();
        let tm = std::time::Instant::now();
        merge(pieces, map, b);
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
pub(crate) fn fill_block(
    path: &Path,
    file: &mut dyn Read,
    buf: &mut Vec<u8>,
) -> Result<bool, LogError> {
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

/// A file's header: where each column is, and how many fields every row must have.
struct Header {
    map: HeaderMap,
    width: usize,
}

/// Reject a line whose field count (`fields`) is not the header's.
fn reject_field_count(b: &mut dyn RowSink<'_>, fields: usize, header: &Header, line: String) {
    b.reject_line(
        String::new(),
        fields.to_string(),
        format!(
            "the row has {fields} field(s), the header {}: a field is missing or extra (a stray comma, or a line cut short)",
            header.width
        ),
        line,
    );
}

/// The header, the first record of `block` (complete records only): its columns and where the
/// data rows start.
fn read_header(path: &Path, block: &[u8]) -> Result<(Header, usize), LogError> {
    let hend = memchr::memchr(b'\n', block).map_or(block.len(), |i| i + 1);
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
    let header = Header {
        map: header_map(path, &names)?,
        width: names.len(),
    };
    Ok((header, hend))
}

/// The fields handed to [`RowSink::absorb`] with a valid row (they only name a rejected value).
const NO_FIELDS: Fields = [None; NCOL];

/// What the fast path found on a line: the row's verdict (see [`parse_row`]), or a field count
/// that is not the header's.
enum Verdict<'r> {
    Row(Result<Parsed<'r>, (usize, String)>),
    FieldCount(usize),
}

/// A row of a fast piece: its verdict and its line.
type Checked<'r> = (Verdict<'r>, &'r str);

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
    header: &Header,
    rules: &RowRules,
    reader: CsvReader,
) -> Vec<Piece<'r>> {
    match reader {
        CsvReader::Plain => vec![Piece::Slow(body)],
        CsvReader::Block => split_records(body, rayon::current_num_threads() * 4)
            .into_par_iter()
            .map(|p| match parse_fast(p, header, rules) {
                Some(rows) => Piece::Fast(rows),
                None => Piece::Slow(p),
            })
            .collect(),
    }
}

/// Absorb the pieces' rows into `b`, in file order.
fn merge(pieces: Vec<Piece>, header: &Header, b: &mut dyn RowSink<'_>) {
    let map = &header.map;
    for piece in pieces {
        if b.stopped() {
            return;
        }
        match piece {
            Piece::Fast(rows) => {
                for (verdict, line) in rows {
                    let parsed = match verdict {
                        Verdict::Row(parsed) => parsed,
                        Verdict::FieldCount(n) => {
                            reject_field_count(b, n, header, line.to_string());
                            continue;
                        }
                    };
                    if parsed.is_ok() {
                        // The fields are only needed to name a rejected value.
                        b.absorb(parsed, &NO_FIELDS, &|| line.to_string());
                        continue;
                    }
                    let cells: Vec<&str> = line.split(',').collect();
                    let fields: Fields =
                        std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()));
                    b.absorb(parsed, &fields, &|| line.to_string());
                }
            }
            Piece::Slow(bytes) => read_csv_records(bytes, header, b),
        }
    }
}

/// Split `body` into about `parts` pieces at record boundaries.
fn split_records(body: &[u8], parts: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(parts);
    let mut rest = body;
    let target = (body.len() / parts.max(1)).max(1 << 16);
    while rest.len() > target {
        match line_cut(&rest[..target]).filter(|&c| c > 0) {
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
fn parse_fast<'r>(piece: &'r [u8], header: &Header, rules: &RowRules) -> Option<Vec<Checked<'r>>> {
    let map = &header.map;
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
        if cells.len() != header.width {
            out.push((Verdict::FieldCount(cells.len()), line));
            continue;
        }
        let fields: Fields = std::array::from_fn(|c| map[c].and_then(|i| cells.get(i).copied()));
        out.push((Verdict::Row(parse_row(&fields, rules)), line));
    }
    Some(out)
}

/// The CSV parser (csv-core, under the csv crate) over a slice of whole lines (quoted fields,
/// odd encodings), one record a line: each line is parsed alone, so a quote that does not
/// close on its line is a reject of that line ("unterminated quote") and reading goes on at the
/// next; a `\r` inside a line is data, as in the fast path, so both see the same rows.
fn read_csv_records(bytes: &[u8], header: &Header, b: &mut dyn RowSink<'_>) {
    let mut line_parser = LineParser::new();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        if start > bytes.len() || b.stopped() {
            break;
        }
        let line = &bytes[start..nl];
        start = nl + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if open_quote(line).is_some() {
            unterminated_quote(line, &header.map, b);
            continue;
        }
        let text = || String::from_utf8_lossy(line).into_owned();
        let fields = line_parser.fields(line);
        if fields.len() != header.width {
            reject_field_count(b, fields.len(), header, text());
        } else {
            push_record(&fields, &header.map, b, &text);
        }
    }
}

/// Splits one line into its unquoted fields with csv-core, reusing its buffers.
struct LineParser {
    rdr: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

/// A line's fields: `out[ends[i-1]..ends[i]]`.
struct LineFields<'p> {
    out: &'p [u8],
    ends: &'p [usize],
}

impl LineFields<'_> {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.out[start..end])
    }
}

impl LineParser {
    fn new() -> LineParser {
        LineParser {
            // Only `\n` ends a record, and lines come without it.
            rdr: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            out: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// The fields of `line` (a line without its end, whose quotes all close).
    fn fields(&mut self, line: &[u8]) -> LineFields<'_> {
        use csv_core::ReadRecordResult as R;
        // A line of n bytes has at most n + 1 fields and n bytes of field text: neither buffer
        // can fill, so one pass reads the line.
        if self.out.len() <= line.len() {
            self.out.resize(line.len() + 1, 0);
            self.ends.resize(line.len() + 1, 0);
        }
        self.rdr.reset();
        // The first byte alone first: csv-core would strip a byte-order mark at the start of its
        // input, which on a data line is data (the fast path keeps it too). Then the rest, then
        // no input: the end of the line.
        let (first, rest) = line.split_at(1.min(line.len()));
        let (mut nout, mut nend) = (0, 0);
        for input in [first, rest, &[]] {
            let (res, _, o, e) =
                self.rdr
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
            nout += o;
            nend += e;
            if matches!(res, R::Record | R::End) {
                break;
            }
            debug_assert!(matches!(res, R::InputEmpty), "buffers sized for the line");
        }
        LineFields {
            out: &self.out[..nout],
            ends: &self.ends[..nend],
        }
    }
}

/// Where a quoted field opens and does not close on `line`, if one does (RFC 4180: a quote
/// opens a field only at its start; `""` inside is an escaped quote).
fn open_quote(line: &[u8]) -> Option<usize> {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        /// A quote inside a quoted field: the field's end, or the first of an escaped `""`.
        QuoteInQuoted,
    }
    let (mut state, mut opened) = (State::FieldStart, 0);
    for (i, &c) in line.iter().enumerate() {
        state = match (state, c) {
            (State::FieldStart, b'"') => {
                opened = i;
                State::Quoted
            }
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b',') => State::FieldStart,
            _ => State::Unquoted,
        };
    }
    (state == State::Quoted).then_some(opened)
}

/// A line whose quoted field does not close: a reject naming the field's column and value.
fn unterminated_quote(line: &[u8], map: &HeaderMap, b: &mut dyn RowSink<'_>) {
    let text = String::from_utf8_lossy(line).into_owned();
    let at = open_quote(line).unwrap_or(0);
    let field = memchr::memchr_iter(b',', &line[..at]).count();
    let column = map.iter().position(|ix| *ix == Some(field)).map_or_else(
        || format!("column {}", field + 1),
        |c| COLUMNS[c].to_string(),
    );
    let value = String::from_utf8_lossy(&line[at..]).into_owned();
    b.reject_line(
        column,
        value,
        "unterminated quote: a quoted field must close on its line (a log record is one line); the next line is read on its own".into(),
        text,
    );
}

/// One record read by csv-core, as a row; `line` renders its line as read (quotes kept) for the
/// rejects file.
fn push_record(
    rec: &LineFields,
    map: &HeaderMap,
    b: &mut dyn RowSink<'_>,
    line: &dyn Fn() -> String,
) {
    let mut fields: Fields = [None; NCOL];
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
    if let Some(c) = utf8_err {
        b.push_unreadable(
            format!("column `{}` is not valid UTF-8", COLUMNS[c]),
            line(),
        );
    } else {
        b.push(&fields, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_quote_finds_a_quoted_field_that_does_not_close() {
        assert_eq!(open_quote(b"a,\"b,c"), Some(2));
        assert_eq!(open_quote(b"a,\"b\"\"c"), Some(2));
        assert_eq!(open_quote(b"a,\"b\",c"), None);
        assert_eq!(open_quote(b"a,\"b\"\"c\",d"), None);
        // A quote inside an unquoted field is a literal character (as the csv crate reads it).
        assert_eq!(open_quote(b"a,ab\"c,d"), None);
        assert_eq!(open_quote(b""), None);
    }

    #[test]
    fn line_cut_is_the_last_line_end_whatever_the_quotes() {
        assert_eq!(line_cut(b"a,\"b\nc\nd"), Some(7));
        assert_eq!(line_cut(b"no newline"), None);
    }
}
