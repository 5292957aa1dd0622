//! The message log's schema (formats.md §1): its columns, the validation of one row (pure, so the
//! readers run it in parallel), and what a read reports when something cannot be read: a
//! [`Reject`] per row, a [`LogError`] for a file that cannot be read at all.

use std::path::Path;

use chrono::NaiveDate;

use crate::billing::accounts::Accounts;
use crate::billing::calendar::local_midnight;
use crate::billing::engine::{Extra, MAX_TOKENS};
use crate::billing::markets::number_digits;
use crate::billing::money::Money;
use crate::billing::types::{
    bsuid_country, looks_like_bsuid, Bot, Country, Kind, Rulebook, Status, TemplateCategory,
    LOG_COLUMNS,
};

use super::timestamp::{parse_timestamp, MAX_INSTANT, MIN_INSTANT};

/// The message log's columns the readers know (formats.md §1), in this order: the core's
/// vocabulary (which the test generators also write), then `user_id` (MKT-4: the user's BSUID
/// on a row whose `user` is the number) and the columns of §4b's charges: `group` (GRP-1),
/// `duration` (CALL-3), `tokens` (MBA-1) and `price` (MAXP-1).
pub const COLUMNS: [&str; NCOL] = [
    LOG_COLUMNS[0],
    LOG_COLUMNS[1],
    LOG_COLUMNS[2],
    LOG_COLUMNS[3],
    LOG_COLUMNS[4],
    LOG_COLUMNS[5],
    LOG_COLUMNS[6],
    LOG_COLUMNS[7],
    LOG_COLUMNS[8],
    LOG_COLUMNS[9],
    LOG_COLUMNS[10],
    "user_id",
    "group",
    "duration",
    "tokens",
    "price",
];
/// How many columns the readers know.
pub(crate) const NCOL: usize = LOG_COLUMNS.len() + 5;
pub(crate) const C_TS: usize = 0;
pub(crate) const C_DIR: usize = 1;
pub(crate) const C_USER: usize = 2;
pub(crate) const C_TYPE: usize = 3;
pub(crate) const C_CAT: usize = 4;
pub(crate) const C_STATUS: usize = 5;
pub(crate) const C_EP: usize = 6;
pub(crate) const C_WABA: usize = 7;
pub(crate) const C_NUMBER: usize = 8;
pub(crate) const C_COUNTRY: usize = 9;
pub(crate) const C_ID: usize = 10;
pub(crate) const C_USER_ID: usize = 11;
pub(crate) const C_GROUP: usize = 12;
pub(crate) const C_DURATION: usize = 13;
pub(crate) const C_TOKENS: usize = 14;
pub(crate) const C_PRICE: usize = 15;

/// One row's fields, in [`COLUMNS`] order (`None`: the column is absent).
pub(crate) type Fields<'r> = [Option<&'r str>; NCOL];

/// Where each of [`COLUMNS`] is in a file's header (`None`: the file has no such column).
pub(crate) type HeaderMap = [Option<usize>; NCOL];

/// A row that is not billed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub message: String,
    /// The row as read (CSV fields re-joined, or the JSON line).
    pub record: String,
}

impl Reject {
    /// A repeated message id: the row is not billed twice.
    pub(crate) fn duplicate_id(row: u32, id: &str, first_row: u32) -> Reject {
        Reject {
            row: row as u64,
            column: "id".into(),
            value: id.to_string(),
            message: format!(
                "duplicate message id (first seen on row {first_row}); not billed twice"
            ),
            record: String::new(),
        }
    }

    /// A row without an explicit country whose user number has none (MKT-1); `resolved` is
    /// the number's resolution (its error says why).
    pub(crate) fn without_country(
        row: u32,
        user: u64,
        resolved: &Option<Result<crate::billing::markets::Resolved, String>>,
    ) -> Reject {
        Reject {
            row: row as u64,
            column: "user".into(),
            value: format!("+{user}"),
            message: resolved.clone().and_then(Result::err).unwrap_or_default(),
            record: String::new(),
        }
    }

    /// The rejection of field `col` of a row.
    pub(crate) fn of_field(
        row: u64,
        col: usize,
        message: String,
        f: &Fields,
        record: &dyn Fn() -> String,
    ) -> Reject {
        Reject {
            row,
            column: COLUMNS[col].to_string(),
            value: f[col].map(str::trim).unwrap_or("").to_string(),
            message,
            record: record(),
        }
    }

    /// A row that could not even be split into fields.
    pub(crate) fn unreadable(row: u64, message: String, record: String) -> Reject {
        Reject {
            row,
            column: String::new(),
            value: String::new(),
            message,
            record,
        }
    }
}

/// One line of a line-per-record file (JSON Lines, webhooks) as text, trimmed: a byte-order
/// mark before the first line (`first`) is not part of it. `Err`: the line is not UTF-8, with the
/// 1-based byte where it stops being so and the line rendered lossily, for the reject.
pub(crate) fn line_text(bytes: &[u8], first: bool) -> Result<&str, (usize, String)> {
    let bytes = if first {
        bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes)
    } else {
        bytes
    };
    std::str::from_utf8(bytes).map(str::trim).map_err(|e| {
        (
            e.valid_up_to() + 1,
            String::from_utf8_lossy(bytes).trim().to_string(),
        )
    })
}

/// A log that cannot be read at all (missing, empty, no header…).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {message}")]
    Fatal { path: String, message: String },
}

/// Opens a log for reading: a `.gz` file (gzip, several members allowed, as `zcat` reads them)
/// decompressed as it is read, anything else as it is.
pub fn open_input(path: &Path) -> Result<Box<dyn std::io::Read + Send>, LogError> {
    let file = std::fs::File::open(path).map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    if is_gzip(path) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, file),
        )))
    } else {
        Ok(Box::new(file))
    }
}

/// Read a whole small file to a string (decompressed when `.gz`), with a clear error.
pub fn read_text(path: &Path) -> Result<String, LogError> {
    use std::io::Read;
    let mut s = String::new();
    open_input(path)?
        .read_to_string(&mut s)
        .map_err(|e| fatal(path, format!("cannot read: {e}")))?;
    Ok(s)
}

/// Whether a path names a gzip file (`.gz`).
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

pub(crate) fn fatal(path: &Path, message: impl Into<String>) -> LogError {
    LogError::Fatal {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// The columns of a header row (names matched trimmed, case-insensitively, a byte-order mark
/// ignored; unknown columns ignored). A header error (the file cannot be read, exit 2): a
/// column of [`COLUMNS`] named twice (which one would count?), or a required column missing:
/// `timestamp`, `direction`, `user`, and `type` (required on every outbound row, formats.md §1:
/// without the column every business message would be rejected one by one).
pub(crate) fn header_map(path: &Path, names: &[String]) -> Result<HeaderMap, LogError> {
    let mut map: HeaderMap = [None; NCOL];
    for (i, h) in names.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
        if let Some(c) = COLUMNS.iter().position(|c| *c == h) {
            if let Some(first) = map[c] {
                return Err(fatal(
                    path,
                    format!(
                        "the header names column `{h}` twice (columns {} and {}); a column may appear once",
                        first + 1,
                        i + 1
                    ),
                ));
            }
            map[c] = Some(i);
        }
    }
    for (c, req) in [
        (C_TS, "timestamp"),
        (C_DIR, "direction"),
        (C_USER, "user"),
        (C_TYPE, "type"),
    ] {
        if map[c].is_none() {
            return Err(fatal(
                path,
                format!(
                    "the header has no `{req}` column (found: {}); required: timestamp, direction, user, type",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(map)
}

/// One row, validated, before interning: what every reader produces (in parallel for CSV).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parsed<'r> {
    pub(crate) ts: i64,
    pub(crate) kind: Kind,
    /// The user's number as an integer (E.164 has at most 15 digits, never a leading 0); 0 when
    /// the row gives only the user's BSUID (MKT-4).
    pub(crate) user: u64,
    /// MKT-4: the user's BSUID (`user` written as one, or `user_id`), `""` when none.
    pub(crate) bsuid: &'r str,
    pub(crate) waba: u16,
    pub(crate) number: &'r str,
    pub(crate) ty: &'r str,
    pub(crate) country: Option<Country>,
    pub(crate) id: &'r str,
    /// GRP-1: the group of a group row (`""` for a 1:1 row).
    pub(crate) group: &'r str,
    /// CALL-3, MBA-1, MAXP-1: the row's duration, tokens and price.
    pub(crate) extra: Extra,
}

/// What [`parse_row`] needs to know.
#[derive(Clone)]
pub(crate) struct RowRules<'a> {
    accounts: &'a Accounts,
    auto_rulebook: bool,
    /// Per WABA: the UTC instant of 2022-02-01 00:00 local, before which no rulebook applies.
    first_rulebook: Vec<i64>,
}

impl<'a> RowRules<'a> {
    pub(crate) fn new(accounts: &'a Accounts, auto_rulebook: bool) -> RowRules<'a> {
        let (y, m, d) = Rulebook::Cbp2022.start();
        RowRules {
            accounts,
            auto_rulebook,
            first_rulebook: accounts
                .wabas
                .iter()
                .map(|w| local_midnight(w.tz, NaiveDate::from_ymd_opt(y, m, d).expect("date")))
                .collect(),
        }
    }

    /// The accounts file the `waba` column is checked against.
    pub(crate) fn accounts(&self) -> &'a Accounts {
        self.accounts
    }
}

/// `str::trim`, without its Unicode scan for the common field that starts and ends with a
/// visible ASCII byte (every whitespace character is ASCII ≤ 0x20 or starts/ends with a byte ≥
/// 0x80).
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(&a), Some(&z)) if (0x21..0x80).contains(&a) && (0x21..0x80).contains(&z) => s,
        _ => s.trim(),
    }
}

/// A row's verdict on one field: `Err((column, message))`, the value being the column's field.
type FieldResult<T> = Result<T, (usize, String)>;

fn bad<T>(column: usize, message: &str) -> FieldResult<T> {
    Err((column, message.to_string()))
}

/// Validate one row's fields; pure, so readers can run it in parallel. The fields are checked in
/// a fixed order (timestamp, direction, user, WABA, the kind's columns, country): the first bad
/// one names the rejection.
pub(crate) fn parse_row<'r>(f: &Fields<'r>, r: &RowRules) -> FieldResult<Parsed<'r>> {
    let get = |c: usize| field(f, c);
    let ts = instant(get(C_TS))?;
    let inbound = inbound(get(C_DIR))?;
    let (user, bsuid, prefix) = user(get(C_USER), get(C_USER_ID))?;
    let waba = waba(get(C_WABA), r.accounts)?;
    let group = match f[C_GROUP] {
        None => "",
        Some(g) => trim(g),
    };
    let is_call = f[C_TYPE].is_some_and(|t| t.len() >= 4 && trim(t).eq_ignore_ascii_case("call"));
    if is_call && !group.is_empty() {
        return bad(
            C_GROUP,
            "a call is between the business and one user (CALL-1), not a group",
        );
    }
    let kind = if is_call {
        call(inbound, get(C_STATUS))?
    } else if inbound {
        Kind::In {
            entry_point: entry_point(get(C_EP))?,
        }
    } else {
        outbound(f, ts, waba, r)?
    };
    let extra = extra(f, &kind)?;
    // MKT-4: a row without a number takes its BSUID's country unless it names one (MKT-3).
    let country = country(get(C_COUNTRY))?.or(prefix);
    Ok(Parsed {
        group,
        extra,
        ts,
        kind,
        user,
        bsuid,
        waba,
        number: get(C_NUMBER),
        ty: if inbound && !is_call { "" } else { get(C_TYPE) },
        country,
        id: get(C_ID),
    })
}

/// Field `c`, trimmed (`""` when absent).
fn field<'r>(f: &Fields<'r>, c: usize) -> &'r str {
    f[c].map(trim).unwrap_or("")
}

fn instant(s: &str) -> FieldResult<i64> {
    match parse_timestamp(s) {
        Some(t) if (MIN_INSTANT..=MAX_INSTANT).contains(&t) => Ok(t),
        Some(_) => bad(C_TS, "instant out of range (years 0001 to 9999 UTC)"),
        None if s.is_empty() => bad(C_TS, "missing timestamp"),
        None => bad(
            C_TS,
            "not an RFC 3339 instant with offset (2025-07-03T10:00:00Z) or integer Unix seconds",
        ),
    }
}

/// `true` for an inbound row.
fn inbound(dir: &str) -> FieldResult<bool> {
    if dir.eq_ignore_ascii_case("in") || dir.eq_ignore_ascii_case("inbound") {
        Ok(true)
    } else if dir.eq_ignore_ascii_case("out") || dir.eq_ignore_ascii_case("outbound") {
        Ok(false)
    } else if dir.is_empty() {
        bad(C_DIR, "missing direction")
    } else {
        bad(
            C_DIR,
            "unknown direction (expected in, out, inbound or outbound)",
        )
    }
}

/// The row's user (MKT-4): its number (0 when none), its BSUID (`""` when none) and, for a row
/// that gives only the BSUID, the BSUID's country. `user` is the number or a BSUID; `user_id`,
/// on a row whose `user` is the number, the BSUID it links to; a BSUID `user` with a `user_id`
/// naming another BSUID is a reject.
fn user<'r>(user: &'r str, user_id: &'r str) -> FieldResult<(u64, &'r str, Option<Country>)> {
    const NOT_A_BSUID: &str = "not a BSUID (MKT-4: an assigned ISO 3166 alpha-2 country in capitals, a dot, then letters, digits and dots)";
    if looks_like_bsuid(user) {
        let Some(c) = bsuid_country(user) else {
            return bad(C_USER, NOT_A_BSUID);
        };
        if !user_id.is_empty() && user_id != user {
            return bad(
                C_USER_ID,
                "names another BSUID than the row's `user` (MKT-4: user_id links a number to a BSUID)",
            );
        }
        return Ok((0, user, Some(c)));
    }
    let n = number(user)?;
    if user_id.is_empty() {
        Ok((n, "", None))
    } else if bsuid_country(user_id).is_some() {
        Ok((n, user_id, None))
    } else {
        bad(C_USER_ID, NOT_A_BSUID)
    }
}

fn number(s: &str) -> FieldResult<u64> {
    match number_digits(s) {
        Some(u) => Ok(u),
        None if s.is_empty() => bad(C_USER, "missing user (a number or a BSUID, MKT-4)"),
        None => bad(
            C_USER,
            "unparseable number (E.164: 4 to 15 digits; `+`, spaces and dashes tolerated)",
        ),
    }
}

fn waba(s: &str, accounts: &Accounts) -> FieldResult<u16> {
    match accounts.waba_index(s) {
        Some(w) => Ok(w as u16),
        None => Err((
            C_WABA,
            format!(
                "unknown WABA (the accounts file defines: {})",
                accounts
                    .wabas
                    .iter()
                    .map(|w| w.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// An inbound row's entry point (formats.md §1): `ctwa` or `page_cta`, or none.
fn entry_point(ep: &str) -> FieldResult<bool> {
    if ep.is_empty() {
        Ok(false)
    } else if ep.eq_ignore_ascii_case("ctwa") || ep.eq_ignore_ascii_case("page_cta") {
        Ok(true)
    } else {
        bad(
            C_EP,
            "unknown entry point (expected ctwa, page_cta or empty)",
        )
    }
}

/// An outbound row: its type, template category and status; under the date's rulebook, not
/// before the first one (§1).
fn outbound(f: &Fields, ts: i64, waba: u16, r: &RowRules) -> FieldResult<Kind> {
    let get = |c: usize| field(f, c);
    let ty = get(C_TYPE);
    if ty.is_empty() {
        return bad(C_TYPE, "missing message type on an outbound row");
    }
    let template = if ty.eq_ignore_ascii_case("template") {
        match TemplateCategory::parse(get(C_CAT)) {
            Some(c) => Some(c),
            None if get(C_CAT).is_empty() => return bad(C_CAT, "template without category"),
            None => {
                return bad(
                    C_CAT,
                    "unknown template category (expected marketing, utility or authentication)",
                )
            }
        }
    } else {
        None
    };
    // MBA-1, AIP-1: a non-template message may name a category of its own.
    let bot = match (template, get(C_CAT)) {
        (None, c) if !c.is_empty() => Bot::parse(c),
        _ => None,
    };
    let Some(status) = Status::parse(get(C_STATUS)) else {
        return bad(
            C_STATUS,
            "unknown status (expected delivered, read, sent or failed)",
        );
    };
    if r.auto_rulebook && ts < r.first_rulebook[waba as usize] {
        return bad(
            C_TS,
            "business message before 2022-02-01, when no rulebook applies (§1); use --rulebook to price it anyway",
        );
    }
    Ok(match bot {
        Some(bot) => Kind::Bot { bot, status },
        None => Kind::Out { template, status },
    })
}

/// A call row (CALL-1…3): `in` = the user called (any status); `out` = the business called,
/// `accepted`, `missed` or `rejected`.
fn call(inbound: bool, status: &str) -> FieldResult<Kind> {
    if inbound {
        return Ok(Kind::Call {
            by_user: true,
            accepted: true,
        });
    }
    let accepted = if status.eq_ignore_ascii_case("accepted") {
        true
    } else if status.eq_ignore_ascii_case("missed") || status.eq_ignore_ascii_case("rejected") {
        false
    } else if status.is_empty() {
        return bad(
            C_STATUS,
            "business call without status (expected accepted, missed or rejected, CALL-3)",
        );
    } else {
        return bad(
            C_STATUS,
            "unknown call status (expected accepted, missed or rejected, CALL-3)",
        );
    };
    Ok(Kind::Call {
        by_user: false,
        accepted,
    })
}

/// A row's `duration`, `tokens` and `price`, each only where its rule uses it: the duration of
/// a call (required on an accepted business call, CALL-3), the tokens of a Meta Business Agent
/// message (MBA-1), the price of a marketing template sent with a max price (MAXP-1).
#[inline]
fn extra(f: &Fields, kind: &Kind) -> FieldResult<Extra> {
    // Most logs have none of these columns: nothing to read.
    if f[C_DURATION].is_none() && f[C_TOKENS].is_none() && f[C_PRICE].is_none() {
        return call3_needs_duration(kind).map(|()| Extra::default());
    }
    extra_fields(f, kind)
}

/// CALL-3: an accepted business call must give its duration.
fn call3_needs_duration(kind: &Kind) -> FieldResult<()> {
    match kind {
        Kind::Call {
            by_user: false,
            accepted: true,
        } => bad(
            C_DURATION,
            "accepted business call without duration (seconds, CALL-3)",
        ),
        _ => Ok(()),
    }
}

/// [`extra`] for a file that has one of the columns.
#[inline(never)]
fn extra_fields(f: &Fields, kind: &Kind) -> FieldResult<Extra> {
    let (d, t, p) = (field(f, C_DURATION), field(f, C_TOKENS), field(f, C_PRICE));
    let mut e = Extra::default();
    if !d.is_empty() {
        if !matches!(kind, Kind::Call { .. }) {
            return bad(
                C_DURATION,
                "a duration is only for call rows (type `call`, CALL-3)",
            );
        }
        let secs = d
            .parse::<u32>()
            .ok()
            .filter(|&s| s < u32::MAX)
            .ok_or((C_DURATION, "not a whole number of seconds".to_string()))?;
        e = e.with_duration(secs);
    } else {
        call3_needs_duration(kind)?;
    }
    if !t.is_empty() {
        if !matches!(
            kind,
            Kind::Bot {
                bot: Bot::MetaAgent,
                ..
            }
        ) {
            return bad(
                C_TOKENS,
                "tokens are only for meta_business_agent messages (MBA-1)",
            );
        }
        let n = t.parse::<u64>().ok().filter(|&n| n <= MAX_TOKENS).ok_or((
            C_TOKENS,
            "not a whole number of tokens (at most 4,294,967,294)".to_string(),
        ))?;
        e = e.with_tokens(n);
    }
    if !p.is_empty() {
        if !matches!(
            kind,
            Kind::Out {
                template: Some(TemplateCategory::Marketing),
                ..
            }
        ) {
            return bad(
                C_PRICE,
                "a price is only for a marketing template sent with a max price (MAXP-1)",
            );
        }
        match Money::parse_rate(p) {
            Ok(m) if m.micros() >= 0 => e = e.with_price(m),
            _ => {
                return bad(
                    C_PRICE,
                    "not an amount of at most 6 decimal places (the price Meta charged, MAXP-1)",
                )
            }
        }
    }
    Ok(e)
}

/// MKT-3: an explicit country (ISO 3166 alpha-2) overrides the user's number; a code that is
/// not an assigned country (`ZZ`, `UK`) would send the row to the fallback market, so it is a
/// reject rather than an override.
fn country(s: &str) -> FieldResult<Option<Country>> {
    if s.is_empty() {
        return Ok(None);
    }
    match Country::parse(s) {
        Some(c) if c.is_assigned() => Ok(Some(c)),
        Some(_) => bad(
            C_COUNTRY,
            "not an assigned ISO 3166 country code (it would override the number's country)",
        ),
        None => bad(C_COUNTRY, "not an ISO 3166 alpha-2 country code"),
    }
}
