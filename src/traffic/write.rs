//! Writers for the message log format (formats.md §1): CSV and JSON Lines.
//!
//! Both write the same eleven columns, in this order:
//! `timestamp,direction,user,type,category,status,entry_point,waba,number,country,id`,
//! and a twelfth, `user_id`, when the scenario knows users by a business-scoped user id
//! (MKT-4, `[log] bsuid_share`): such a user's `user` is the number with the BSUID in
//! `user_id` on the user's own messages, or the BSUID alone with an empty `country`.
//! Timestamps are RFC 3339 UTC with `Z` and whole seconds; numbers are E.164 with `+`; ids are
//! `wamid.<n>`. Empty values are empty CSV fields and JSON `null`.
//!
//! Rows are formatted by hand into one reused line buffer (no allocation per row, no `format!`)
//! and written through a `BufWriter`: formatting, not randomness, is the cost of a big run.
//! No value needs CSV quoting or JSON escaping: the WABA id is restricted by the scenario check
//! and everything else is digits or fixed words.

use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;

use crate::traffic::generate::{Generated, Progress, Traffic};
use crate::traffic::model::{Direction, Known, Population, Row, GROUP_PREFIX};
use crate::traffic::scenario::Scenario;

/// The message log's columns (formats.md §1), in this order.
pub use crate::billing::types::LOG_COLUMNS as COLUMNS;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, header row, `\n` line ends.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `csv` or `jsonl` (also `json`, `ndjson`), e.g. from a file extension.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Writes rows of one population, one line each.
pub struct RowWriter<'p, W: Write> {
    out: BufWriter<W>,
    pop: &'p Population,
    format: Format,
    line: Vec<u8>,
    day: i64,
    date: [u8; 10],
    numbers: Vec<Vec<u8>>,
    bsuids: bool,
    /// `[agent]`, `[calls]`: the `duration` and `tokens` columns.
    extras: bool,
    /// `[groups]`: the `group` column.
    groups: bool,
}

impl<'p, W: Write> RowWriter<'p, W> {
    /// Starts a log (writes the CSV header).
    pub fn new(format: Format, pop: &'p Population, w: W) -> io::Result<Self> {
        let mut out = BufWriter::with_capacity(1 << 20, w);
        let bsuids = pop.has_bsuids();
        if format == Format::Csv {
            out.write_all(COLUMNS.join(",").as_bytes())?;
            if bsuids {
                out.write_all(b",user_id")?;
            }
            if pop.extras {
                out.write_all(b",duration,tokens")?;
            }
            if !pop.groups.is_empty() {
                out.write_all(b",group")?;
            }
            out.write_all(b"\n")?;
        }
        let numbers = pop.numbers.iter().map(|&n| {
            let mut b = vec![b'+'];
            push_u64(&mut b, n);
            b
        });
        Ok(RowWriter {
            out,
            pop,
            format,
            line: Vec::with_capacity(256),
            day: i64::MIN,
            date: [0; 10],
            numbers: numbers.collect(),
            bsuids,
            extras: pop.extras,
            groups: !pop.groups.is_empty(),
        })
    }

    /// Writes one row.
    pub fn write(&mut self, row: &Row) -> io::Result<()> {
        let user = &self.pop.users[row.user as usize];
        let day = row.ts.div_euclid(86_400);
        if day != self.day {
            self.day = day;
            self.date = date_text(day);
        }
        let sec = row.ts.rem_euclid(86_400) as u32;
        let mut ts = [0u8; 20];
        ts[..10].copy_from_slice(&self.date);
        ts[10] = b'T';
        two(&mut ts[11..13], sec / 3600);
        ts[13] = b':';
        two(&mut ts[14..16], sec / 60 % 60);
        ts[16] = b':';
        two(&mut ts[17..19], sec % 60);
        ts[19] = b'Z';

        let category = row.category_text();
        let status = row.status_text();
        let (duration, tokens) = row.duration_and_tokens();
        let entry = row.entry_point.map_or("", |e| e.as_str());
        let number: &[u8] = &self.numbers[row.number as usize];
        let b = &mut self.line;
        b.clear();
        match self.format {
            Format::Csv => {
                b.extend_from_slice(&ts);
                b.push(b',');
                b.extend_from_slice(row.direction.as_str().as_bytes());
                b.push(b',');
                push_user(b, user);
                b.push(b',');
                b.extend_from_slice(row.kind.as_str().as_bytes());
                b.push(b',');
                b.extend_from_slice(category.as_bytes());
                b.push(b',');
                b.extend_from_slice(status.as_bytes());
                b.push(b',');
                b.extend_from_slice(entry.as_bytes());
                b.push(b',');
                b.extend_from_slice(self.pop.waba.as_bytes());
                b.push(b',');
                b.extend_from_slice(number);
                b.push(b',');
                if !matches!(user.known, Known::Bsuid(_)) {
                    b.extend_from_slice(user.country.iso().as_bytes());
                }
                b.extend_from_slice(b",wamid.");
                push_u64(b, row.id);
                if self.bsuids {
                    b.push(b',');
                    if let (Known::Linked(d), Direction::In) = (user.known, row.direction) {
                        push_bsuid(b, user.country.iso(), d);
                    }
                }
                if self.extras {
                    b.push(b',');
                    if let Some(d) = duration {
                        push_u64(b, u64::from(d));
                    }
                    b.push(b',');
                    if let Some(t) = tokens {
                        push_u64(b, u64::from(t));
                    }
                }
                if self.groups {
                    b.push(b',');
                    if let Some(g) = row.group() {
                        b.extend_from_slice(GROUP_PREFIX.as_bytes());
                        push_u64(b, u64::from(g) + 1);
                    }
                }
                b.push(b'\n');
            }
            Format::Jsonl => {
                b.extend_from_slice(b"{\"timestamp\":\"");
                b.extend_from_slice(&ts);
                b.extend_from_slice(b"\",\"direction\":\"");
                b.extend_from_slice(row.direction.as_str().as_bytes());
                b.extend_from_slice(b"\",\"user\":\"");
                push_user(b, user);
                b.extend_from_slice(b"\",\"type\":\"");
                b.extend_from_slice(row.kind.as_str().as_bytes());
                b.extend_from_slice(b"\",\"category\":");
                json_opt(b, category);
                b.extend_from_slice(b",\"status\":");
                json_opt(b, status);
                b.extend_from_slice(b",\"entry_point\":");
                json_opt(b, entry);
                b.extend_from_slice(b",\"waba\":\"");
                b.extend_from_slice(self.pop.waba.as_bytes());
                b.extend_from_slice(b"\",\"number\":\"");
                b.extend_from_slice(number);
                b.extend_from_slice(b"\",\"country\":");
                if matches!(user.known, Known::Bsuid(_)) {
                    b.extend_from_slice(b"null");
                } else {
                    b.push(b'"');
                    b.extend_from_slice(user.country.iso().as_bytes());
                    b.push(b'"');
                }
                b.extend_from_slice(b",\"id\":\"wamid.");
                push_u64(b, row.id);
                b.push(b'"');
                if self.bsuids {
                    b.extend_from_slice(b",\"user_id\":");
                    if let (Known::Linked(d), Direction::In) = (user.known, row.direction) {
                        b.push(b'"');
                        push_bsuid(b, user.country.iso(), d);
                        b.push(b'"');
                    } else {
                        b.extend_from_slice(b"null");
                    }
                }
                if self.groups {
                    b.extend_from_slice(b",\"group\":");
                    match row.group() {
                        Some(g) => {
                            b.push(b'"');
                            b.extend_from_slice(GROUP_PREFIX.as_bytes());
                            push_u64(b, u64::from(g) + 1);
                            b.push(b'"');
                        }
                        None => b.extend_from_slice(b"null"),
                    }
                }
                if self.extras {
                    for (key, v) in [
                        (&b",\"duration\":"[..], duration),
                        (b",\"tokens\":", tokens),
                    ] {
                        b.extend_from_slice(key);
                        match v {
                            Some(v) => push_u64(b, u64::from(v)),
                            None => b.extend_from_slice(b"null"),
                        }
                    }
                }
                b.extend_from_slice(b"}\n");
            }
        }
        self.out.write_all(b)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// The `user` column: `+<digits>`, or the BSUID of a user known by it alone (MKT-4).
fn push_user(b: &mut Vec<u8>, user: &crate::traffic::model::User) {
    match user.known {
        Known::Bsuid(d) => push_bsuid(b, user.country.iso(), d),
        Known::Number | Known::Linked(_) => {
            b.push(b'+');
            push_u64(b, user.phone);
        }
    }
}

/// `<ISO>.<digits>`.
fn push_bsuid(b: &mut Vec<u8>, iso: &str, digits: u64) {
    b.extend_from_slice(iso.as_bytes());
    b.push(b'.');
    push_u64(b, digits);
}

fn json_opt(b: &mut Vec<u8>, s: &str) {
    if s.is_empty() {
        b.extend_from_slice(b"null");
    } else {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
    }
}

#[inline]
fn two(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + (v / 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

#[inline]
fn push_u64(b: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// `YYYY-MM-DD` of a day number since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`). Years outside 0..=9999 are not produced (the scenario check keeps
/// periods inside 1970..=9999).
fn date_text(days: i64) -> [u8; 10] {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let y = y.clamp(0, 9999) as u32;
    let mut out = *b"0000-00-00";
    two(&mut out[0..2], y / 100);
    two(&mut out[2..4], y % 100);
    two(&mut out[5..7], m as u32);
    two(&mut out[8..10], d as u32);
    out
}

/// Formats a Unix time as the log's timestamp (`2025-07-03T10:00:00Z`).
pub fn format_timestamp(ts: i64) -> String {
    let d = date_text(ts.div_euclid(86_400));
    let s = ts.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        std::str::from_utf8(&d).unwrap(),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Writes `rows` as CSV (with header).
pub fn write_csv<'r, W: Write>(
    pop: &Population,
    rows: impl IntoIterator<Item = &'r Row>,
    w: W,
) -> io::Result<W> {
    write_rows(Format::Csv, pop, rows, w)
}

/// Writes `rows` as JSON Lines.
pub fn write_jsonl<'r, W: Write>(
    pop: &Population,
    rows: impl IntoIterator<Item = &'r Row>,
    w: W,
) -> io::Result<W> {
    write_rows(Format::Jsonl, pop, rows, w)
}

fn write_rows<'r, W: Write>(
    format: Format,
    pop: &Population,
    rows: impl IntoIterator<Item = &'r Row>,
    w: W,
) -> io::Result<W> {
    let mut wr = RowWriter::new(format, pop, w)?;
    for r in rows {
        wr.write(r)?;
    }
    wr.finish()
}

/// Generates and writes in one pass (rows are never all in memory). Stops at the first write
/// error and returns it. `progress` gets the rows written and the share of the period done.
pub fn generate_to<W: Write>(
    scenario: &Scenario,
    seed: u64,
    format: Format,
    w: W,
    progress: &mut impl FnMut(Progress),
) -> io::Result<(Generated, W)> {
    let traffic = Traffic::new(scenario, seed);
    let mut wr = RowWriter::new(format, traffic.population(), w)?;
    let mut err = None;
    let summary = traffic.run(
        &mut |r: &Row| match wr.write(r) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                err = Some(e);
                ControlFlow::Break(())
            }
        },
        progress,
    );
    if let Some(e) = err {
        return Err(e);
    }
    let w = wr.finish()?;
    Ok((
        Generated {
            population: traffic.into_population(),
            summary,
        },
        w,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_751_536_800), "2025-07-03T10:00:00Z");
        assert_eq!(
            format_timestamp(951_782_400 + 86_399),
            "2000-02-29T23:59:59Z"
        );
        // Every day for 60 years against chrono.
        for day in 0..(365 * 60) {
            let ts = day * 86_400 + 12_345;
            let want = chrono::DateTime::from_timestamp(ts, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(format_timestamp(ts), want);
        }
    }

    #[test]
    fn integers() {
        for n in [0u64, 7, 10, 99, 123_456_789, u64::MAX] {
            let mut b = Vec::new();
            push_u64(&mut b, n);
            assert_eq!(String::from_utf8(b).unwrap(), n.to_string());
        }
    }
}
