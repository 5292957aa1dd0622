//! Exports that are not the log format: a provider's CSV or JSON, read through a **mapping**
//! that says which of its fields is each log column (formats.md §1) and how its values translate.
//! The mapped fields then go through the same validation ([`parse_row`]) and sink as a log's,
//! so rejects, the partitioned path and every command work unchanged.
//!
//! A mapping is a small TOML file (the shipped ones are in `data/mappings/`):
//!
//! ```toml
//! name = "twilio-console"
//! source = "csv"                     # csv | jsonl (one JSON document per line) | json (one document)
//! records = "results"                # JSON: the array of records in a document (absent: the document)
//! detect = ["Sid", "Direction"]      # fields that identify the layout (all present)
//! merge = "id"                       # several events per message, merged by message id
//! timestamp_format = "auto"          # auto (RFC 3339 or Unix seconds) | unix_ms | rfc2822 | a chrono format
//! [map]
//! timestamp = "SentDate"             # a field (CSV column, JSON path with dots)
//! user = { in = "From", out = "To" } # by direction
//! type = { value = "text" }          # a constant
//! template = "ContentSid"            # the template's name or id, for --templates
//! [values.direction]                 # value maps, keys any case; "" = absent
//! "outbound-api" = "out"
//! [strip]
//! user = ["whatsapp:"]               # prefixes removed before mapping
//! ```
//!
//! Without a `type`: an inbound row is `text`, a business row `template` when it names a
//! template or a category and `text` otherwise. A template row without a category takes the
//! catalogue's category at the time it was sent (CBP-8, [`Templates`]); one the catalogue does not
//! know is a reject naming it, never a guess.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;
use serde::Deserialize;

use super::schema::{
    fatal, parse_row, Fields, LogError, Reject, COLUMNS, C_CAT, C_DIR, C_ID, C_STATUS, C_TS,
    C_TYPE, C_USER, C_WABA, NCOL,
};
use super::sink::RowSink;
use super::timestamp::parse_timestamp;
use crate::billing::accounts::Accounts;
use crate::io::templates::Templates;

/// Mapped fields: the log's columns, then the template, its language and the message's text
/// (for the catalogue).
const NF: usize = NCOL + 3;
const F_TEMPLATE: usize = NCOL;
const F_LANGUAGE: usize = NCOL + 1;
const F_BODY: usize = NCOL + 2;

/// A value map's target that says a record is not a message (a billing event, a seen report):
/// it is skipped and counted ([`MappedSource::skipped`]).
pub const SKIP: &str = "-";

/// The names a mapping may give: the log's columns, `template`, `language`, `body`.
pub fn mapped_names() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = COLUMNS.to_vec();
    v.extend(["template", "language", "body"]);
    v
}

fn field_index(name: &str) -> Option<usize> {
    mapped_names().iter().position(|n| *n == name)
}

/// How a file holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Csv,
    /// One JSON document per line.
    Jsonl,
    /// One JSON document (Infobip's reports as the API returns them).
    Json,
}

/// How timestamps are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsFormat {
    /// RFC 3339 with offset, or integer Unix seconds (the log's own forms).
    Auto,
    /// Integer Unix milliseconds.
    UnixMs,
    /// RFC 2822 (`Wed, 04 Nov 2026 10:00:00 +0000`).
    Rfc2822,
    /// A chrono format with an offset (`%Y-%m-%dT%H:%M:%S%.3f%z`), or without one (then UTC).
    Chrono(String),
}

/// Where a mapped field comes from. A field is a list of source fields: the first present
/// and not empty counts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Spec {
    Absent,
    Field(Vec<usize>),
    ByDirection {
        inb: Vec<usize>,
        out: Vec<usize>,
    },
    Const(String),
    /// The value of the first source field present: `{ when = { receivedAt = "in" } }`.
    When(Vec<(usize, String)>),
}

/// A checked mapping.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    pub description: String,
    pub source: Source,
    pub records: Option<String>,
    pub detect: Vec<String>,
    pub merge: bool,
    pub timestamp: TsFormat,
    /// Source field names (CSV columns or JSON paths) the specs point into.
    sources: Vec<String>,
    specs: Vec<Spec>,
    /// Per mapped field: lower-case source value → log value.
    values: Vec<HashMap<String, String>>,
    strip: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: Option<String>,
    description: Option<String>,
    source: Option<String>,
    records: Option<String>,
    #[serde(default)]
    detect: Vec<String>,
    merge: Option<String>,
    timestamp_format: Option<String>,
    #[serde(default)]
    map: toml::Table,
    #[serde(default)]
    values: HashMap<String, HashMap<String, String>>,
    #[serde(default)]
    strip: HashMap<String, Vec<String>>,
}

/// The shipped mappings: (name, TOML).
pub const SHIPPED: [(&str, &str); 5] = [
    (
        "twilio-console",
        include_str!("../../../data/mappings/twilio-console.toml"),
    ),
    (
        "twilio-bulkexport",
        include_str!("../../../data/mappings/twilio-bulkexport.toml"),
    ),
    (
        "gupshup-v2",
        include_str!("../../../data/mappings/gupshup-v2.toml"),
    ),
    ("ycloud", include_str!("../../../data/mappings/ycloud.toml")),
    (
        "infobip",
        include_str!("../../../data/mappings/infobip.toml"),
    ),
];

impl Mapping {
    /// A shipped mapping by name.
    pub fn shipped(name: &str) -> Option<Mapping> {
        SHIPPED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| Mapping::parse(t).unwrap_or_else(|e| panic!("shipped mapping {n}: {e}")))
    }

    /// Every shipped mapping.
    pub fn all_shipped() -> Vec<Mapping> {
        SHIPPED
            .iter()
            .filter_map(|(n, _)| Mapping::shipped(n))
            .collect()
    }

    /// A mapping file, or a shipped mapping's name.
    pub fn load(arg: &str) -> Result<Mapping, String> {
        if let Some(m) = Mapping::shipped(arg) {
            return Ok(m);
        }
        let text = std::fs::read_to_string(arg).map_err(|e| {
            format!(
                "--mapping {arg}: cannot read it ({e}); shipped mappings: {}",
                SHIPPED.map(|(n, _)| n).join(", ")
            )
        })?;
        Mapping::parse(&text).map_err(|e| format!("mapping {arg}: {e}"))
    }

    /// An empty mapping of `source` (for `--map` without `--mapping`).
    pub fn empty(source: Source) -> Mapping {
        Mapping {
            name: "command line".into(),
            description: String::new(),
            source,
            records: None,
            detect: Vec::new(),
            merge: false,
            timestamp: TsFormat::Auto,
            sources: Vec::new(),
            specs: vec![Spec::Absent; NF],
            values: vec![HashMap::new(); NF],
            strip: vec![Vec::new(); NF],
        }
    }

    /// Reads a mapping's TOML.
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let raw: RawMapping =
            toml::from_str(text).map_err(|e| crate::toml_text::toml_error(text, &e))?;
        let source = match raw.source.as_deref().unwrap_or("csv") {
            "csv" => Source::Csv,
            "jsonl" => Source::Jsonl,
            "json" => Source::Json,
            o => return Err(format!("source = `{o}`: expected csv, jsonl or json")),
        };
        let mut m = Mapping::empty(source);
        m.name = raw.name.unwrap_or_default();
        m.description = raw.description.unwrap_or_default();
        m.records = raw.records;
        m.detect = raw.detect;
        m.merge = match raw.merge.as_deref() {
            None | Some("none") => false,
            Some("id") => true,
            Some(o) => return Err(format!("merge = `{o}`: expected \"id\" or \"none\"")),
        };
        if let Some(t) = raw.timestamp_format {
            m.timestamp = ts_format(&t);
        }
        for (k, v) in &raw.map {
            let spec = m.spec_of(k, v)?;
            m.set_spec(k, spec)?;
        }
        for (k, vals) in raw.values {
            for (from, to) in vals {
                m.set_value(&k, &from, &to)?;
            }
        }
        for (k, prefixes) in raw.strip {
            let f = known(&k)?;
            m.strip[f] = prefixes;
        }
        m.check()?;
        Ok(m)
    }

    /// One `[map]` entry: a field, a list of fields, `{ in, out }`, `{ value }` or `{ when }`.
    fn spec_of(&mut self, k: &str, v: &toml::Value) -> Result<Spec, String> {
        let fields = |m: &mut Mapping, v: &toml::Value, at: &str| -> Result<Vec<usize>, String> {
            match v {
                toml::Value::String(s) => Ok(vec![m.source_index(s)]),
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(|s| m.source_index(s))
                            .ok_or(format!("{at}: expected field names"))
                    })
                    .collect(),
                _ => Err(format!("{at}: expected a field name or a list of them")),
            }
        };
        let t = match v {
            toml::Value::Table(t) => t,
            other => return Ok(Spec::Field(fields(self, other, &format!("map.{k}"))?)),
        };
        if let Some(extra) = t
            .keys()
            .find(|x| !["in", "out", "value", "when"].contains(&x.as_str()))
        {
            return Err(format!(
                "map.{k}: unknown key `{extra}` (use in, out, value or when)"
            ));
        }
        if let Some(c) = t.get("value") {
            return Ok(Spec::Const(
                c.as_str()
                    .ok_or(format!("map.{k}.value: expected a string"))?
                    .to_string(),
            ));
        }
        if let Some(w) = t.get("when") {
            let bad = || {
                format!("map.{k}.when: expected a list of [field, value] pairs, checked in order")
            };
            let mut v = Vec::new();
            for pair in w.as_array().ok_or_else(bad)? {
                match pair.as_array().map(|p| p.as_slice()) {
                    Some([toml::Value::String(f), toml::Value::String(x)]) => {
                        v.push((self.source_index(f), x.to_string()))
                    }
                    _ => return Err(bad()),
                }
            }
            return Ok(Spec::When(v));
        }
        let side = |m: &mut Mapping, s: &str| -> Result<Vec<usize>, String> {
            t.get(s)
                .map_or(Ok(Vec::new()), |x| fields(m, x, &format!("map.{k}.{s}")))
        };
        Ok(Spec::ByDirection {
            inb: side(self, "in")?,
            out: side(self, "out")?,
        })
    }

    fn source_index(&mut self, name: &str) -> usize {
        match self.sources.iter().position(|s| s == name) {
            Some(i) => i,
            None => {
                self.sources.push(name.to_string());
                self.sources.len() - 1
            }
        }
    }

    fn set_spec(&mut self, key: &str, spec: Spec) -> Result<(), String> {
        let f = known(key)?;
        self.specs[f] = spec;
        Ok(())
    }

    /// `--map KEY=FIELD` (`KEY.in=FIELD`, `KEY.out=FIELD` by direction; `KEY==VALUE` a constant).
    pub fn set_from_arg(&mut self, arg: &str) -> Result<(), String> {
        let (k, v) = arg
            .split_once('=')
            .ok_or(format!("--map {arg}: expected COLUMN=FIELD"))?;
        let (k, side) = match k.split_once('.') {
            Some((k, s)) if s == "in" || s == "out" => (k, Some(s)),
            _ => (k, None),
        };
        let f = known(k)?;
        if let Some(c) = v.strip_prefix('=') {
            self.specs[f] = Spec::Const(c.to_string());
            return Ok(());
        }
        let list: Vec<usize> = v.split(',').map(|x| self.source_index(x.trim())).collect();
        self.specs[f] = match (side, self.specs[f].clone()) {
            (None, _) => Spec::Field(list),
            (Some("in"), Spec::ByDirection { out, .. }) => Spec::ByDirection { inb: list, out },
            (Some(_), Spec::ByDirection { inb, .. }) => Spec::ByDirection { inb, out: list },
            (Some("in"), _) => Spec::ByDirection {
                inb: list,
                out: Vec::new(),
            },
            (Some(_), _) => Spec::ByDirection {
                inb: Vec::new(),
                out: list,
            },
        };
        Ok(())
    }

    /// `--map-value COLUMN:FROM=TO`.
    pub fn set_value_from_arg(&mut self, arg: &str) -> Result<(), String> {
        let (k, rest) = arg
            .split_once(':')
            .ok_or(format!("--map-value {arg}: expected COLUMN:FROM=TO"))?;
        let (from, to) = rest
            .split_once('=')
            .ok_or(format!("--map-value {arg}: expected COLUMN:FROM=TO"))?;
        self.set_value(k, from, to)
    }

    fn set_value(&mut self, key: &str, from: &str, to: &str) -> Result<(), String> {
        let f = known(key)?;
        self.values[f].insert(from.trim().to_ascii_lowercase(), to.to_string());
        Ok(())
    }

    /// `timestamp` and `user` must come from somewhere; `direction` too, unless constant.
    pub fn check(&self) -> Result<(), String> {
        for (f, name) in [(C_TS, "timestamp"), (C_DIR, "direction"), (C_USER, "user")] {
            if self.specs[f] == Spec::Absent {
                return Err(format!("the mapping gives no `{name}` (add `{name} = \"<field>\"` under [map], or --map {name}=FIELD)"));
            }
        }
        Ok(())
    }

    /// What each log column comes from, for `inspect` and errors: (column, description).
    pub fn describe(&self) -> Vec<(String, String)> {
        let names = mapped_names();
        let src = |l: &Vec<usize>| {
            if l.is_empty() {
                "—".to_string()
            } else {
                l.iter()
                    .map(|i| format!("`{}`", self.sources[*i]))
                    .collect::<Vec<_>>()
                    .join(" or ")
            }
        };
        self.specs
            .iter()
            .enumerate()
            .filter_map(|(f, s)| {
                let d = match s {
                    Spec::Absent => return None,
                    Spec::Field(i) => src(i),
                    Spec::Const(c) => format!("always `{c}`"),
                    Spec::ByDirection { inb, out } => {
                        format!("{} (inbound), {} (business)", src(inb), src(out))
                    }
                    Spec::When(w) => w
                        .iter()
                        .map(|(i, v)| format!("`{v}` when `{}` is present", self.sources[*i]))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                let mut d = d;
                if !self.strip[f].is_empty() {
                    let _ = write!(d, ", without {}", self.strip[f].join(" or "));
                }
                if !self.values[f].is_empty() {
                    let mut v: Vec<String> = self.values[f]
                        .iter()
                        .map(|(a, b)| format!("{a}→{}", if b.is_empty() { "(none)" } else { b }))
                        .collect();
                    v.sort();
                    let _ = write!(d, "; values {}", v.join(", "));
                }
                Some((names[f].to_string(), d))
            })
            .collect()
    }

    /// The source fields a mapping names that `present` lacks.
    pub fn missing(&self, present: &dyn Fn(&str) -> bool) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| !present(s))
            .cloned()
            .collect()
    }

    /// Whether a CSV header (or the first JSON record's paths) is this layout's.
    pub fn detects(&self, present: &dyn Fn(&str) -> bool) -> bool {
        !self.detect.is_empty() && self.detect.iter().all(|d| present(d))
    }
}

fn known(key: &str) -> Result<usize, String> {
    field_index(key).ok_or_else(|| {
        format!(
            "`{key}` is not a log column (one of {})",
            mapped_names().join(", ")
        )
    })
}

fn ts_format(s: &str) -> TsFormat {
    match s {
        "auto" | "rfc3339" | "unix" => TsFormat::Auto,
        "unix_ms" => TsFormat::UnixMs,
        "rfc2822" => TsFormat::Rfc2822,
        other => TsFormat::Chrono(other.to_string()),
    }
}

impl TsFormat {
    /// UTC micros of a written timestamp.
    fn micros(&self, s: &str) -> Option<i64> {
        let s = s.trim();
        match self {
            TsFormat::Auto => parse_timestamp(s),
            TsFormat::UnixMs => {
                let ms: i64 = s.parse().ok()?;
                ms.checked_mul(1000)
            }
            TsFormat::Rfc2822 => chrono::DateTime::parse_from_rfc2822(s)
                .ok()
                .map(|d| d.timestamp_micros()),
            TsFormat::Chrono(f) => chrono::DateTime::parse_from_str(s, f)
                .map(|d| d.timestamp_micros())
                .or_else(|_| {
                    chrono::NaiveDateTime::parse_from_str(s, f)
                        .map(|d| d.and_utc().timestamp_micros())
                })
                .ok(),
        }
    }
}

/// Formats UTC micros as the log's RFC 3339 (`2026-11-04T10:00:00.123456Z`).
fn rfc3339(micros: i64, out: &mut String) {
    out.clear();
    if let Some(t) = chrono::DateTime::from_timestamp_micros(micros) {
        let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    }
}

/// A mapping with the template catalogue that completes it: what a reader needs.
#[derive(Debug)]
pub struct MappedSource {
    pub mapping: Mapping,
    pub templates: Option<Templates>,
    /// Records that are not messages (mapped to [`SKIP`]), counted by the last read.
    pub skipped: std::sync::atomic::AtomicU64,
    /// Business messages read as non-template messages because the layout names no type,
    /// category or template and no catalogue recognised them, counted by the last read.
    pub untyped: std::sync::atomic::AtomicU64,
}

impl MappedSource {
    pub fn new(mapping: Mapping, templates: Option<Templates>) -> MappedSource {
        MappedSource {
            mapping,
            templates,
            skipped: Default::default(),
            untyped: Default::default(),
        }
    }
}

/// Two sources are the same when they are the same value (a read is given one).
impl PartialEq for MappedSource {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for MappedSource {}

/// One record's mapped fields (borrowed from the record, the mapping, the catalogue and a
/// scratch string for a converted timestamp), and its instant when it could be read.
struct Mapped<'a> {
    all: [Option<&'a str>; NF],
    micros: Option<i64>,
    skip: bool,
}

/// A mapped row ready for validation, or the reject of its template: (name, reason).
struct Final<'a> {
    f: Fields<'a>,
    template_miss: Option<(String, String)>,
}

impl MappedSource {
    /// Maps one record; `get(i)` is source field `i`; `ts` receives a converted timestamp.
    fn map<'a>(&'a self, get: &dyn Fn(usize) -> Option<&'a str>, ts: &'a mut String) -> Mapped<'a> {
        let m = &self.mapping;
        let mut skip = false;
        let value = |f: usize, raw: Option<&'a str>| -> Option<&'a str> {
            let mut v = raw?.trim();
            for p in &m.strip[f] {
                if let Some(rest) = v.strip_prefix(p.as_str()) {
                    v = rest;
                }
            }
            if !m.values[f].is_empty() {
                if let Some(to) = m.values[f].get(&v.to_ascii_lowercase()) {
                    return (!to.is_empty()).then_some(to.as_str());
                }
            }
            (!v.is_empty()).then_some(v)
        };
        let first = |f: usize, list: &[usize]| list.iter().find_map(|&i| value(f, get(i)));
        let pick = |f: usize, dir: Option<&str>| -> Option<&'a str> {
            match &m.specs[f] {
                Spec::Absent => None,
                Spec::Const(c) => Some(c.as_str()),
                Spec::Field(l) => first(f, l),
                Spec::When(w) => w
                    .iter()
                    .find(|(i, _)| get(*i).is_some())
                    .and_then(|(_, v)| value(f, Some(v.as_str()))),
                Spec::ByDirection { inb, out } => match dir {
                    Some("in") => first(f, inb),
                    Some("out") => first(f, out),
                    _ => None,
                },
            }
        };
        let dir = pick(C_DIR, None);
        let mut all: [Option<&'a str>; NF] = [None; NF];
        for (f, slot) in all.iter_mut().enumerate() {
            *slot = if f == C_DIR { dir } else { pick(f, dir) };
            skip |= *slot == Some(SKIP);
        }
        // The timestamp in the log's form.
        let mut micros = None;
        if let Some(raw) = all[C_TS] {
            micros = m.timestamp.micros(raw);
            if let (Some(t), false) = (micros, m.timestamp == TsFormat::Auto) {
                rfc3339(t, ts);
                let written: &'a String = ts;
                all[C_TS] = Some(written.as_str());
            }
        }
        Mapped { all, micros, skip }
    }

    /// The row's type and category where the export leaves them out: an inbound row is `text`; a
    /// business row naming a template or a category is a `template`, else the catalogue may
    /// recognise its text; a template without a category takes the catalogue's (CBP-8).
    /// A WABA id the accounts do not name, with one WABA in the accounts, is that WABA (as for
    /// Meta's webhooks: exports name the WABA by Meta's id).
    fn finish<'a>(
        &'a self,
        mut all: [Option<&'a str>; NF],
        micros: Option<i64>,
        accounts: &Accounts,
    ) -> Final<'a> {
        if let Some(w) = all[C_WABA] {
            if accounts.waba_index(w).is_none() && accounts.wabas.len() == 1 {
                all[C_WABA] = None;
            }
        }
        let out = all[C_DIR] == Some("out");
        let mut template = all[F_TEMPLATE];
        if out && template.is_none() && all[C_CAT].is_none() && all[C_TYPE].is_none() {
            if let (Some(t), Some(body)) = (&self.templates, all[F_BODY]) {
                template = t.by_body(body);
            }
        }
        if all[C_TYPE].is_none() {
            let is_template = template.is_some() || all[C_CAT].is_some();
            all[C_TYPE] = Some(if out && is_template {
                "template"
            } else {
                "text"
            });
            let m = &self.mapping;
            if out
                && !is_template
                && m.specs[C_TYPE] == Spec::Absent
                && m.specs[C_CAT] == Spec::Absent
            {
                self.untyped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let mut template_miss = None;
        if out && all[C_CAT].is_none() && all[C_TYPE] == Some("template") {
            if let Some(name) = template {
                match (&self.templates, micros) {
                    (Some(t), Some(at)) => match t.category(name, all[F_LANGUAGE].unwrap_or(""), at) {
                        Ok(c) => all[C_CAT] = Some(c.id()),
                        Err(miss) => template_miss = Some((name.to_string(), miss.reason(name))),
                    },
                    (None, _) => {
                        template_miss = Some((
                            name.to_string(),
                            format!("template `{name}`: the export gives no category; give the template catalogue with --templates (Meta's message_templates response, or CSV name,language,category[,from])"),
                        ))
                    }
                    (Some(_), None) => {} // the timestamp's reject says why
                }
            }
        }
        let mut f: Fields<'a> = [None; NCOL];
        f.copy_from_slice(&all[..NCOL]);
        Final { f, template_miss }
    }

    fn count_skip(&self) {
        self.skipped
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Reads a mapped export into `b` in file order (events merged per message when the mapping
/// says so).
pub(crate) fn read_mapped(
    path: &Path,
    src: &MappedSource,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    src.skipped.store(0, std::sync::atomic::Ordering::Relaxed);
    src.untyped.store(0, std::sync::atomic::Ordering::Relaxed);
    match src.mapping.source {
        Source::Csv => read_csv(path, src, b, progress),
        Source::Jsonl | Source::Json => read_json(path, src, b, progress),
    }
}

/// Records per parallel batch.
const BATCH: usize = 1 << 16;

fn header_index(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| {
        h.trim()
            .trim_start_matches('\u{feff}')
            .eq_ignore_ascii_case(name)
    })
}

fn read_csv(
    path: &Path,
    src: &MappedSource,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let m = &src.mapping;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .map_err(|e| fatal(path, format!("cannot open: {e}")))?;
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| fatal(path, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let missing = m.missing(&|s| header_index(&headers, s).is_some());
    let required: Vec<&String> = missing.iter().filter(|s| m.required_source(s)).collect();
    if !required.is_empty() {
        return Err(fatal(
            path,
            format!(
                "the {} mapping needs column(s) {} (found: {})",
                m.name,
                required
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                headers.join(", ")
            ),
        ));
    }
    let index: Vec<Option<usize>> = m
        .sources
        .iter()
        .map(|s| header_index(&headers, s))
        .collect();
    let rules = b.rules();
    let mut batch: Vec<csv::StringRecord> = Vec::with_capacity(BATCH);
    let mut scratch: Vec<String> = Vec::new();
    let mut merger = m.merge.then(Merger::default);
    let mut eof = false;
    let mut records = 0u64;
    while !eof {
        batch.clear();
        while batch.len() < BATCH {
            let mut rec = csv::StringRecord::new();
            match rdr.read_record(&mut rec) {
                Ok(true) => batch.push(rec),
                Ok(false) => {
                    eof = true;
                    break;
                }
                Err(e) => {
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        return Err(fatal(path, format!("read error: {e}")));
                    }
                    // Not UTF-8, say: a reject of that record alone.
                    b.push_unreadable(format!("record cannot be read: {e}"), String::new());
                }
            }
        }
        records += batch.len() as u64;
        scratch.resize(batch.len(), String::new());
        let record = |rec: &csv::StringRecord| rec.iter().collect::<Vec<_>>().join(",");
        let mapped: Vec<Mapped> = batch
            .par_iter()
            .zip(scratch.par_iter_mut())
            .map(|(rec, ts)| {
                let get = |i: usize| {
                    index[i]
                        .and_then(|ix| rec.get(ix))
                        .filter(|v| !v.is_empty())
                };
                src.map(&get, ts)
            })
            .collect();
        if let Some(mg) = merger.as_mut() {
            for (rec, mp) in batch.iter().zip(&mapped) {
                mg.add(src, mp, || record(rec));
            }
            continue;
        }
        let done: Vec<_> = mapped
            .par_iter()
            .map(|mp| {
                let fin = src.finish(mp.all, mp.micros, rules.accounts());
                let p = parse_row(&fin.f, &rules);
                (fin, p)
            })
            .collect();
        for ((rec, mp), (fin, p)) in batch.iter().zip(&mapped).zip(done) {
            if mp.skip {
                src.count_skip();
            } else {
                push_final(b, &fin, p, &|| record(rec));
            }
        }
        progress(b.rows());
        if b.stopped() {
            break;
        }
    }
    if let Some(mg) = merger {
        mg.finish(src, b);
    }
    if records == 0 {
        return Err(fatal(path, "no records after the header"));
    }
    progress(b.rows());
    Ok(())
}

/// One finished record into the sink: its template's reject, or the row's verdict.
fn push_final(
    b: &mut dyn RowSink<'_>,
    fin: &Final,
    parsed: Result<super::schema::Parsed, (usize, String)>,
    record: &dyn Fn() -> String,
) {
    match (&fin.template_miss, parsed) {
        (Some((name, why)), Ok(_)) | (Some((name, why)), Err((C_CAT, _))) => {
            let row = b.next_row();
            b.reject(Reject {
                row,
                column: "template".into(),
                value: name.clone(),
                message: why.clone(),
                record: record(),
            });
        }
        (_, p) => b.absorb(p, &fin.f, record),
    }
}

impl Mapping {
    /// Whether a missing source field stops the read: it alone feeds `timestamp`, `direction`
    /// or `user`.
    fn required_source(&self, name: &str) -> bool {
        let Some(i) = self.sources.iter().position(|s| s == name) else {
            return false;
        };
        [C_TS, C_DIR, C_USER].iter().any(|&f| match &self.specs[f] {
            Spec::Field(x) => x == &[i],
            Spec::ByDirection { inb, out } => inb == &[i] || out == &[i],
            _ => false,
        })
    }
}

/// Events of one message merged into one row (`merge = "id"`): the status that counts is
/// delivered, else read, else failed, else sent (§6: a message is billed once, delivered if any
/// event says so); its instant is that event's; other fields come from the first event that
/// has them. Records without an id or a direction pass as they are; skipped records are
/// counted.
#[derive(Default)]
struct Merger {
    rows: Vec<Owned>,
    by_id: HashMap<(String, String), usize>,
}

struct Owned {
    all: [Option<String>; NF],
    micros: Option<i64>,
    record: String,
}

fn status_rank(s: Option<&str>) -> u8 {
    match s.map(str::trim) {
        Some("delivered") => 0,
        Some("read") => 1,
        Some("failed") => 2,
        Some("sent") => 3,
        None | Some("") => 4,
        Some(_) => 5,
    }
}

impl Merger {
    fn add(&mut self, src: &MappedSource, mp: &Mapped, record: impl FnOnce() -> String) {
        if mp.skip {
            src.count_skip();
            return;
        }
        let key = match (mp.all[C_ID], mp.all[C_DIR]) {
            (Some(id), Some(dir)) => Some((dir.to_string(), id.to_string())),
            _ => None,
        };
        if let Some(&i) = key.as_ref().and_then(|k| self.by_id.get(k)) {
            let row = &mut self.rows[i];
            let (new, old) = (
                status_rank(mp.all[C_STATUS]),
                status_rank(row.all[C_STATUS].as_deref()),
            );
            if new < old {
                row.all[C_STATUS] = mp.all[C_STATUS].map(str::to_string);
                row.all[C_TS] = mp.all[C_TS].map(str::to_string);
                row.micros = mp.micros;
            }
            for c in 0..NF {
                if row.all[c].is_none() {
                    row.all[c] = mp.all[c].map(str::to_string);
                }
            }
            return;
        }
        if let Some(k) = key {
            self.by_id.insert(k, self.rows.len());
        }
        self.rows.push(Owned {
            all: std::array::from_fn(|c| mp.all[c].map(str::to_string)),
            micros: mp.micros,
            record: record(),
        });
    }

    fn finish(self, src: &MappedSource, b: &mut dyn RowSink<'_>) {
        let rules = b.rules();
        for r in &self.rows {
            let all: [Option<&str>; NF] = std::array::from_fn(|c| r.all[c].as_deref());
            let fin = src.finish(all, r.micros, rules.accounts());
            let p = parse_row(&fin.f, &rules);
            push_final(b, &fin, p, &|| r.record.clone());
        }
    }
}

/// A JSON value at a dotted path (`payload.payload.ts`, `results.0.id`); strings as they are,
/// numbers and booleans as their text; objects, arrays and `null` as absent.
fn at_path<'v>(v: &'v serde_json::Value, path: &str) -> Option<std::borrow::Cow<'v, str>> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            serde_json::Value::Object(o) => o.get(seg)?,
            serde_json::Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match cur {
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::String(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
        serde_json::Value::Null | serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            None
        }
        other => Some(std::borrow::Cow::Owned(other.to_string())),
    }
}

fn read_json(
    path: &Path,
    src: &MappedSource,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    let m = &src.mapping;
    let text =
        std::fs::read_to_string(path).map_err(|e| fatal(path, format!("cannot read: {e}")))?;
    let text = text.trim_start_matches('\u{feff}');
    // Documents: the whole file (source = "json"), else one per non-empty line.
    let docs: Vec<(u64, &str)> = if m.source == Source::Json {
        vec![(1, text)]
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i as u64 + 1, l))
            .collect()
    };
    let rules = b.rules();
    let mut merger = m.merge.then(Merger::default);
    let mut records = 0u64;
    for (line, doc) in docs {
        let v: serde_json::Value = match serde_json::from_str(doc) {
            Ok(v) => v,
            Err(e) => {
                records += 1;
                b.push_unreadable(format!("line {line}: not JSON: {e}"), doc.to_string());
                continue;
            }
        };
        let recs: Vec<&serde_json::Value> = match &m.records {
            None => vec![&v],
            Some(p) => match p.split('.').try_fold(&v, |cur, seg| cur.get(seg)) {
                Some(serde_json::Value::Array(a)) => a.iter().collect(),
                _ => {
                    records += 1;
                    b.push_unreadable(
                        format!("line {line}: no `{p}` array of records ({} layout)", m.name),
                        doc.to_string(),
                    );
                    continue;
                }
            },
        };
        for rec in recs {
            records += 1;
            let vals: Vec<Option<std::borrow::Cow<str>>> =
                m.sources.iter().map(|s| at_path(rec, s)).collect();
            let get = |i: usize| vals[i].as_deref();
            let mut ts = String::new();
            let mp = src.map(&get, &mut ts);
            let record = || rec.to_string();
            match merger.as_mut() {
                Some(mg) => mg.add(src, &mp, record),
                None if mp.skip => src.count_skip(),
                None => {
                    let fin = src.finish(mp.all, mp.micros, rules.accounts());
                    let p = parse_row(&fin.f, &rules);
                    push_final(b, &fin, p, &record);
                }
            }
        }
        if b.stopped() {
            break;
        }
    }
    if let Some(mg) = merger {
        mg.finish(src, b);
    }
    if records == 0 {
        return Err(fatal(path, format!("no records ({} layout)", m.name)));
    }
    progress(b.rows());
    Ok(())
}

/// The shipped mapping whose layout a file has (CSV header, or the first JSON record's fields),
/// if exactly one claims it.
pub fn detect(path: &Path) -> Option<Mapping> {
    let mut head = vec![0u8; 64 << 10];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).ok()?;
        f.read(&mut head).ok()?
    };
    head.truncate(n);
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let all = Mapping::all_shipped();
    let found: Vec<Mapping> = if text.starts_with('{') || text.starts_with('[') {
        // The first document: the first line, or the whole file when it is one document.
        let first_line = text.lines().next().unwrap_or("");
        let whole;
        let doc: serde_json::Value = match serde_json::from_str(first_line) {
            Ok(v) => v,
            Err(_) => {
                whole = std::fs::read_to_string(path).ok()?;
                serde_json::from_str(whole.trim_start_matches('\u{feff}')).ok()?
            }
        };
        all.into_iter()
            .filter(|m| {
                let rec = match &m.records {
                    Some(p) => p
                        .split('.')
                        .try_fold(&doc, |c, s| c.get(s))
                        .and_then(|a| a.get(0)),
                    None => Some(&doc),
                };
                rec.is_some_and(|r| m.source != Source::Csv && m.detects(&|p| json_has(r, p)))
            })
            .collect()
    } else {
        let header: Vec<String> = csv::ReaderBuilder::new()
            .from_reader(text.as_bytes())
            .headers()
            .ok()?
            .iter()
            .map(str::to_string)
            .collect();
        all.into_iter()
            .filter(|m| {
                m.source == Source::Csv && m.detects(&|s| header_index(&header, s).is_some())
            })
            .collect()
    };
    (found.len() == 1).then(|| found.into_iter().next().expect("one"))
}

fn json_has(v: &serde_json::Value, path: &str) -> bool {
    let mut cur = v;
    for seg in path.split('.') {
        match cur.get(seg) {
            Some(n) => cur = n,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mappings_parse_and_say_what_they_map() {
        for m in Mapping::all_shipped() {
            assert!(!m.detect.is_empty(), "{}", m.name);
            let d = m.describe();
            assert!(d.iter().any(|(c, _)| c == "timestamp"), "{}", m.name);
        }
    }

    #[test]
    fn command_line_mapping() {
        let mut m = Mapping::empty(Source::Csv);
        m.set_from_arg("timestamp=SentDate").unwrap();
        m.set_from_arg("direction=Direction").unwrap();
        m.set_from_arg("user.in=From").unwrap();
        m.set_from_arg("user.out=To").unwrap();
        m.set_from_arg("waba==acme").unwrap();
        m.set_value_from_arg("direction:outbound-api=out").unwrap();
        m.check().unwrap();
        assert!(m
            .set_from_arg("colour=Red")
            .unwrap_err()
            .contains("not a log column"));
        let d = m.describe();
        assert!(d
            .iter()
            .any(|(c, s)| c == "user" && s.contains("`From` (inbound), `To` (business)")));
        assert!(d.iter().any(|(c, s)| c == "waba" && s == "always `acme`"));
    }

    #[test]
    fn timestamp_formats() {
        assert_eq!(
            TsFormat::UnixMs.micros("1793786400123"),
            Some(1_793_786_400_123_000)
        );
        assert_eq!(
            TsFormat::Rfc2822.micros("Wed, 04 Nov 2026 10:00:00 +0000"),
            parse_timestamp("2026-11-04T10:00:00Z")
        );
        assert_eq!(
            ts_format("%Y-%m-%dT%H:%M:%S%.3f%z").micros("2026-11-04T15:30:00.000+0530"),
            parse_timestamp("2026-11-04T10:00:00Z")
        );
        let mut s = String::new();
        rfc3339(1_793_786_400_123_000, &mut s);
        assert_eq!(s, "2026-11-04T10:00:00.123000Z");
    }
}
