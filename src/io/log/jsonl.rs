//! JSON Lines logs (formats.md §1): one JSON object per line, keys named as the CSV columns;
//! strings as they are, other values as their JSON text, `null` or a missing key as an absent
//! column.

use std::io::{BufRead, BufReader};
use std::path::Path;

use super::schema::{fatal, line_text, Fields, LogError, COLUMNS, C_TS};
use super::sink::RowSink;

/// Read a JSON Lines log into `b`, reporting the rows read every million and at the end.
pub(crate) fn read_jsonl(
    path: &Path,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let file = super::schema::open_input(path)?;
    let mut rdr = BufReader::with_capacity(1 << 20, file);
    let mut line: Vec<u8> = Vec::new();
    let (mut n, mut lines) = (0u64, 0u64);
    let mut owned: [Option<String>; super::schema::NCOL] = Default::default();
    loop {
        line.clear();
        let read = rdr
            .read_until(b'\n', &mut line)
            .map_err(|e| fatal(path, format!("read error: {e}")))?;
        if read == 0 || b.stopped() {
            break;
        }
        lines += 1;
        // A line that is not UTF-8 is a reject of that line alone; reading goes on.
        let text = match line_text(&line, lines == 1) {
            Ok(t) => t,
            Err((byte, lossy)) => {
                n += 1;
                b.push_unreadable(
                    format!("line {lines} is not valid UTF-8 (byte {byte})"),
                    lossy,
                );
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        n += 1;
        if n.is_multiple_of(1_000_000) {
            progress(n);
        }
        let obj: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(o) => o,
            Err(e) => {
                b.push_unreadable(format!("not a JSON object: {e}"), text.to_string());
                continue;
            }
        };
        for (c, name) in COLUMNS.iter().enumerate() {
            owned[c] = match obj.get(*name) {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(v) => Some(v.to_string()),
            };
        }
        if n == 1 && owned[C_TS].is_none() {
            return Err(fatal(path, "the first record has no `timestamp` field"));
        }
        let fields: Fields = std::array::from_fn(|c| owned[c].as_deref());
        b.push(&fields, &|| text.to_string());
    }
    if n == 0 {
        return Err(fatal(path, "no JSON records"));
    }
    progress(n);
    Ok(())
}
