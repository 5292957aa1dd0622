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
    /// The value paired with the first source field present:
    /// `{ when = [["receivedAt", "in"], ["status.groupName", "out"]] }`.
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
    /// Per mapped field: (source value, log value), matched in any case.
    values: Vec<Vec<(String, String)>>,
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
            values: vec![Vec::new(); NF],
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
        let from = from.trim();
        self.values[f].retain(|(k, _)| !k.eq_ignore_ascii_case(from));
        self.values[f].push((from.to_string(), to.to_string()));
        self.values[f].sort();
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
                    let v: Vec<String> = self.values[f]
                        .iter()
                        .map(|(a, b)| format!("{a}→{}", if b.is_empty() { "(none)" } else { b }))
                        .collect();
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
    /// The mapped fields other than `direction` that the mapping gives, and those whose values
    /// may say "not a message" ([`SKIP`]): the only ones a record's mapping visits.
    active: Vec<usize>,
    skippable: Vec<usize>,
}

impl MappedSource {
    pub fn new(mapping: Mapping, templates: Option<Templates>) -> MappedSource {
        MappedSource {
            templates,
            skipped: Default::default(),
            untyped: Default::default(),
            active: (0..NF)
                .filter(|&f| f != C_DIR && mapping.specs[f] != Spec::Absent)
                .collect(),
            skippable: (0..NF)
                .filter(|&f| {
                    mapping.values[f].iter().any(|(_, to)| to == SKIP)
                        || match &mapping.specs[f] {
                            Spec::When(w) => w.iter().any(|(_, v)| v == SKIP),
                            Spec::Const(c) => c == SKIP,
                            _ => false,
                        }
                })
                .collect(),
            mapping,
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
/// scratch string for a converted timestamp), and whether it is not a message ([`SKIP`]).
struct Mapped<'a> {
    all: [Option<&'a str>; NF],
    skip: bool,
}

/// A mapped row ready for validation, or the reject of its template: (name, reason).
struct Final<'a> {
    f: Fields<'a>,
    template_miss: Option<(String, String)>,
}

impl MappedSource {
    /// Maps one record; `get(i)` is source field `i`; `ts` receives a converted timestamp.
    fn map<'a, G: Fn(usize) -> Option<&'a str>>(
        &'a self,
        get: &G,
        ts: &'a mut String,
    ) -> Mapped<'a> {
        let m = &self.mapping;
        let value = |f: usize, raw: Option<&'a str>| -> Option<&'a str> {
            let mut v = super::schema::trim(raw?);
            for p in &m.strip[f] {
                if let Some(rest) = v.strip_prefix(p.as_str()) {
                    v = rest;
                }
            }
            if let Some((_, to)) = m.values[f].iter().find(|(k, _)| k.eq_ignore_ascii_case(v)) {
                return (!to.is_empty()).then_some(to.as_str());
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
        all[C_DIR] = dir;
        for &f in &self.active {
            all[f] = pick(f, dir);
        }
        let skip = self.skippable.iter().any(|&f| all[f] == Some(SKIP));
        // The timestamp in the log's form (left as written when it cannot be read: the log's
        // check rejects it, naming it).
        if let (Some(raw), false) = (all[C_TS], m.timestamp == TsFormat::Auto) {
            if let Some(t) = m.timestamp.micros(raw) {
                rfc3339(t, ts);
                let written: &'a String = ts;
                all[C_TS] = Some(written.as_str());
            }
        }
        Mapped { all, skip }
    }

    /// The row's type and category where the export leaves them out: an inbound row is `text`; a
    /// business row naming a template or a category is a `template`, else the catalogue may
    /// recognise its text; a template without a category takes the catalogue's (CBP-8).
    /// A WABA id the accounts do not name, with one WABA in the accounts, is that WABA (as for
    /// Meta's webhooks: exports name the WABA by Meta's id).
    fn finish<'a>(&'a self, mut all: [Option<&'a str>; NF], accounts: &Accounts) -> Final<'a> {
        if let Some(w) = all[C_WABA] {
            all[C_WABA] = Some(accounts.meta_waba(w));
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
                match (&self.templates, all[C_TS].and_then(parse_timestamp)) {
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

fn header_index(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| {
        h.trim()
            .trim_start_matches('\u{feff}')
            .eq_ignore_ascii_case(name)
    })
}

/// One record of a block after the parallel pass.
enum Item<'a> {
    /// Not UTF-8: the reason.
    Bad(&'a str),
    /// Not a message ([`SKIP`]).
    Skip,
    /// Mapped, to be merged with the other events of its message.
    Mapped(Mapped<'a>, Rec<'a>),
    /// Mapped, finished and validated: the row, or its reject's (column, value, reason).
    Done(Result<super::schema::Parsed<'a>, Rejected>, Rec<'a>),
}

/// A reject's column, value and reason.
type Rejected = Box<(String, String, String)>;

/// A finished record's verdict, with what its reject needs taken out of the fields (so that
/// only the compact row is kept for the in-order pass).
fn verdict<'a>(
    fin: &Final<'a>,
    parsed: Result<super::schema::Parsed<'a>, (usize, String)>,
) -> Result<super::schema::Parsed<'a>, Rejected> {
    match (&fin.template_miss, parsed) {
        (Some((name, why)), Ok(_)) | (Some((name, why)), Err((C_CAT, _))) => {
            Err(Box::new(("template".into(), name.clone(), why.clone())))
        }
        (_, Ok(p)) => Ok(p),
        (_, Err((col, why))) => Err(Box::new((
            COLUMNS[col].to_string(),
            fin.f[col].map(str::trim).unwrap_or("").to_string(),
            why,
        ))),
    }
}

/// A piece of a block parsed in parallel: about this many bytes, cut at a record boundary.
const PIECE: usize = 1 << 20;

/// Reads a mapped CSV export the way the log's block reader does: 32 MB blocks cut at record
/// boundaries (quote parity: a quoted `Body` may hold commas and line breaks), each block split
/// into pieces that are split into records without copying ([`piece_records`]), mapped and
/// validated in parallel, then absorbed in file order (row numbers as a sequential read gives
/// them).
fn read_csv(
    path: &Path,
    src: &MappedSource,
    b: &mut dyn RowSink<'_>,
    progress: &dyn Fn(u64),
) -> Result<(), LogError> {
    use super::csv::{fill_block, record_cut, BLOCK};
    let m = &src.mapping;
    if let (Ok(meta), false) = (std::fs::metadata(path), super::schema::is_gzip(path)) {
        b.reserve((meta.len() / 160) as usize);
    }
    let mut file = super::schema::open_input(path)?;
    let rules = b.rules();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 20));
    let mut index: Option<Vec<Option<usize>>> = None;
    let mut scratch: Vec<Vec<String>> = Vec::new();
    let mut pool: Vec<PieceRecords> = Vec::new();
    let mut merger = m.merge.then(Merger::default);
    let mut records = 0u64;
    let mut eof = false;
    while !eof {
        eof = fill_block(path, &mut *file, &mut buf)?;
        let cut = if eof {
            buf.len()
        } else {
            match record_cut(&buf) {
                Some(c) => c,
                None => continue, // a record longer than a block: read more
            }
        };
        let mut body_start = 0;
        if index.is_none() {
            let (ix, end) = header(path, m, &buf[..cut])?;
            index = Some(ix);
            body_start = end;
        }
        let index = index.as_ref().expect("header read");
        let pieces = pieces(&buf[body_start..cut]);
        if pool.len() < pieces.len() {
            pool.resize_with(pieces.len(), PieceRecords::new);
        }
        pieces
            .par_iter()
            .zip(pool.par_iter_mut())
            .for_each(|(piece, p)| piece_records(piece, p));
        let parsed = &pool[..pieces.len()];
        if scratch.len() < parsed.len() {
            scratch.resize_with(parsed.len(), Vec::new);
        }
        let merging = merger.is_some();
        // Per piece, in parallel: each record mapped, finished and validated (or, when events
        // are merged, only mapped); absorbed below in file order.
        let items: Vec<Vec<Item>> = parsed
            .par_iter()
            .zip(pieces.par_iter())
            .zip(scratch.par_iter_mut())
            .map(|((p, piece), ts)| {
                if ts.len() < p.recs.len() {
                    ts.resize(p.recs.len(), String::new());
                }
                let mut bad = p.bad.iter().peekable();
                p.recs
                    .iter()
                    .zip(ts.iter_mut())
                    .enumerate()
                    .map(|(i, (&(first, n), ts))| {
                        if let Some((_, why)) = bad.next_if(|(at, _)| *at == i) {
                            return Item::Bad(why.as_str());
                        }
                        let rec = Rec {
                            p,
                            input: piece,
                            first,
                            n,
                        };
                        let get = |i: usize| {
                            index[i]
                                .and_then(|ix| rec.get(ix))
                                .filter(|v| !v.is_empty())
                        };
                        let mp = src.map(&get, ts);
                        if merging {
                            Item::Mapped(mp, rec)
                        } else if mp.skip {
                            Item::Skip
                        } else {
                            let fin = src.finish(mp.all, rules.accounts());
                            let parsed = parse_row(&fin.f, &rules);
                            Item::Done(verdict(&fin, parsed), rec)
                        }
                    })
                    .collect()
            })
            .collect();
        for item in items.into_iter().flatten() {
            records += 1;
            match item {
                Item::Bad(why) => b.push_unreadable(why.to_string(), String::new()),
                Item::Skip => src.count_skip(),
                Item::Mapped(mp, rec) => {
                    if let Some(mg) = merger.as_mut() {
                        mg.add(src, &mp, || rec.text());
                    }
                }
                Item::Done(v, rec) => absorb_verdict(b, v, &|| rec.text()),
            }
        }
        progress(b.rows());
        buf.drain(..cut);
        if b.stopped() {
            break;
        }
    }
    if index.is_none() {
        return Err(fatal(path, "empty file (expected a header row)"));
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

/// The header of a mapped CSV: where each source field is, and where the records start. A
/// field that alone feeds `timestamp`, `direction` or `user` must be there.
fn header(path: &Path, m: &Mapping, block: &[u8]) -> Result<(Vec<Option<usize>>, usize), LogError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(block);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| fatal(path, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let end = rdr.position().byte() as usize;
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
    let index = m
        .sources
        .iter()
        .map(|s| header_index(&headers, s))
        .collect();
    Ok((index, end.min(block.len())))
}

/// A block's body cut into pieces of about [`PIECE`] bytes at record boundaries.
fn pieces(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < body.len() {
        let mut target = (start + PIECE).min(body.len());
        let end = loop {
            if target == body.len() {
                break body.len();
            }
            match super::csv::record_cut(&body[start..target]) {
                Some(c) => break start + c,
                None => target = (target + PIECE).min(body.len()),
            }
        };
        out.push(&body[start..end]);
        start = end;
    }
    out
}

/// The records of one piece, split without copying: a field is a span of the piece (quotes
/// removed), or, for a record with a doubled quote or text after a closing quote, a span of
/// `out`, where csv-core decoded that record. `recs` holds each record's first field and field
/// count; a record that is not UTF-8 is kept as its reason.
struct PieceRecords {
    /// Field spans; a start with [`IN_OUT`] set points into `out`.
    spans: Vec<(u32, u32)>,
    out: Vec<u8>,
    ends: Vec<usize>,
    recs: Vec<(usize, usize)>,
    bad: Vec<(usize, String)>,
}

/// The flag of a span decoded into `out`.
const IN_OUT: u32 = 1 << 31;

/// One record of a [`PieceRecords`].
struct Rec<'p> {
    p: &'p PieceRecords,
    input: &'p [u8],
    first: usize,
    n: usize,
}

impl<'p> Rec<'p> {
    fn get(&self, i: usize) -> Option<&'p str> {
        if i >= self.n {
            return None;
        }
        let (start, end) = self.p.spans[self.first + i];
        let bytes = if start & IN_OUT != 0 {
            &self.p.out[(start & !IN_OUT) as usize..end as usize]
        } else {
            &self.input[start as usize..end as usize]
        };
        // SAFETY: the record's input was checked to be UTF-8 ([`PieceRecords::keep`]), and a
        // field is a run of its bytes between ASCII commas, quotes and line ends (csv-core's
        // decoding only drops quotes), so its bytes are whole characters.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }
    fn text(&self) -> String {
        (0..self.n)
            .filter_map(|i| self.get(i))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl PieceRecords {
    fn new() -> PieceRecords {
        PieceRecords {
            spans: Vec::new(),
            out: Vec::new(),
            ends: Vec::new(),
            recs: Vec::new(),
            bad: Vec::new(),
        }
    }

    /// Keeps the record whose fields are `spans[first..]`; `line` is its input, checked as
    /// UTF-8 (what makes [`Rec::get`] sound).
    fn keep(&mut self, line: &[u8], first: usize) {
        if let Err(e) = std::str::from_utf8(line) {
            self.bad.push((
                self.recs.len(),
                format!("record is not valid UTF-8 (byte {})", e.valid_up_to()),
            ));
        }
        self.recs.push((first, self.spans.len() - first));
    }
}

/// Splits `piece` into `p` (its buffers reused). RFC 4180 as the csv crate reads it: a field
/// that starts with `"` runs to the closing quote (commas and line breaks inside), `\n` or
/// `\r\n` ends a record, empty lines are skipped.
fn piece_records(piece: &[u8], p: &mut PieceRecords) {
    p.spans.clear();
    p.out.clear();
    p.recs.clear();
    p.bad.clear();
    let len = piece.len();
    let mut pos = 0;
    while pos < len {
        // Empty lines are no records.
        if piece[pos] == b'\n' {
            pos += 1;
            continue;
        }
        if piece[pos] == b'\r' && piece.get(pos + 1) == Some(&b'\n') {
            pos += 2;
            continue;
        }
        let first = p.spans.len();
        match split_record(piece, pos, &mut p.spans) {
            Some(next) => {
                p.keep(&piece[pos..next], first);
                pos = next;
            }
            None => {
                p.spans.truncate(first);
                let next = decode_record(piece, pos, p);
                p.keep(&piece[pos..next], first);
                pos = next;
            }
        }
    }
}

/// The fields of the record at `start` as spans of `piece`, and where the next record starts;
/// `None` for a record that needs decoding (a doubled quote, text after a closing quote).
fn split_record(piece: &[u8], start: usize, spans: &mut Vec<(u32, u32)>) -> Option<usize> {
    let len = piece.len();
    let mut i = start;
    loop {
        if i < len && piece[i] == b'"' {
            let close = i + 1 + memchr::memchr(b'"', &piece[i + 1..])?;
            spans.push(((i + 1) as u32, close as u32));
            i = close + 1;
            match piece.get(i) {
                None => return Some(len),
                Some(b',') => i += 1,
                Some(b'\n') => return Some(i + 1),
                Some(b'\r') if piece.get(i + 1) == Some(&b'\n') => return Some(i + 2),
                Some(_) => return None,
            }
        } else {
            let stop = memchr::memchr2(b',', b'\n', &piece[i..]).map_or(len, |k| i + k);
            let mut end = stop;
            if end > i && piece[end - 1] == b'\r' && (stop == len || piece[stop] == b'\n') {
                end -= 1;
            }
            spans.push((i as u32, end as u32));
            match piece.get(stop) {
                None => return Some(len),
                Some(b',') => i = stop + 1,
                _ => return Some(stop + 1),
            }
        }
    }
}

/// Decodes the record at `start` with csv-core into `p.out`, its fields as spans of `out`;
/// returns where the next record starts.
fn decode_record(piece: &[u8], start: usize, p: &mut PieceRecords) -> usize {
    use csv_core::ReadRecordResult as R;
    let mut rdr = csv_core::Reader::new();
    let base = p.out.len();
    let need = piece.len() - start + 1;
    p.out.resize(base + need, 0);
    if p.ends.len() < need + 1 {
        p.ends.resize(need + 1, 0);
    }
    let (mut pos, mut olen, mut elen) = (start, base, 0);
    loop {
        let (res, nin, nout, nend) =
            rdr.read_record(&piece[pos..], &mut p.out[olen..], &mut p.ends[elen..]);
        pos += nin;
        olen += nout;
        elen += nend;
        match res {
            R::InputEmpty if pos < piece.len() => continue,
            R::InputEmpty => {
                let (_, _, nout, nend) =
                    rdr.read_record(&[], &mut p.out[olen..], &mut p.ends[elen..]);
                olen += nout;
                elen += nend;
                break;
            }
            R::OutputFull => {
                let n = p.out.len();
                p.out.resize(n * 2, 0);
            }
            R::OutputEndsFull => {
                let n = p.ends.len();
                p.ends.resize(n * 2, 0);
            }
            R::Record | R::End => break,
        }
    }
    // csv-core's ends are relative to the record's output start.
    let mut prev = base;
    for k in 0..elen {
        let end = base + p.ends[k];
        p.spans.push((prev as u32 | IN_OUT, end as u32));
        prev = end;
    }
    p.out.truncate(olen);
    pos
}

/// One finished record into the sink: the row, or its reject.
fn push_final(
    b: &mut dyn RowSink<'_>,
    fin: &Final,
    parsed: Result<super::schema::Parsed, (usize, String)>,
    record: &dyn Fn() -> String,
) {
    absorb_verdict(b, verdict(fin, parsed), record);
}

/// A record's verdict into the sink, as its next row: kept, or rejected with `record` as read.
fn absorb_verdict(
    b: &mut dyn RowSink<'_>,
    verdict: Result<super::schema::Parsed, Rejected>,
    record: &dyn Fn() -> String,
) {
    let row = b.next_row();
    match verdict {
        Ok(p) => b.keep(&p, row),
        Err(e) => {
            let (column, value, message) = *e;
            b.reject(Reject {
                row,
                column,
                value,
                message,
                record: record(),
            })
        }
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
            record: record(),
        });
    }

    fn finish(self, src: &MappedSource, b: &mut dyn RowSink<'_>) {
        let rules = b.rules();
        for r in &self.rows {
            let all: [Option<&str>; NF] = std::array::from_fn(|c| r.all[c].as_deref());
            let fin = src.finish(all, rules.accounts());
            let p = parse_row(&fin.f, &rules);
            push_final(b, &fin, p, &|| r.record.clone());
        }
    }
}

/// The JSON value at a dotted path (`payload.payload.ts`, `results.0.id`: an object's key or
/// an array's index per segment).
fn json_at<'v>(v: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut cur = v;
    for seg in path.split('.') {
        cur = match cur {
            serde_json::Value::Object(o) => o.get(seg)?,
            serde_json::Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A field at a dotted path ([`json_at`]); strings as they are, numbers and booleans as their
/// text; objects, arrays and `null` as absent.
fn at_path<'v>(v: &'v serde_json::Value, path: &str) -> Option<std::borrow::Cow<'v, str>> {
    match json_at(v, path)? {
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
    let text = super::schema::read_text(path)?;
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
            Some(p) => match json_at(&v, p) {
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
                    let fin = src.finish(mp.all, rules.accounts());
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
    let mut head = Vec::new();
    {
        use std::io::Read;
        super::schema::open_input(path)
            .ok()?
            .take(64 << 10)
            .read_to_end(&mut head)
            .ok()?;
    }
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
                whole = super::schema::read_text(path).ok()?;
                serde_json::from_str(whole.trim_start_matches('\u{feff}')).ok()?
            }
        };
        all.into_iter()
            .filter(|m| {
                let rec = match &m.records {
                    Some(p) => json_at(&doc, p).and_then(|a| a.get(0)),
                    None => Some(&doc),
                };
                rec.is_some_and(|r| {
                    m.source != Source::Csv && m.detects(&|p| json_at(r, p).is_some())
                })
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

#[cfg(test)]
mod piece_tests {
    use super::*;

    fn fields(piece: &[u8]) -> Vec<Result<Vec<String>, String>> {
        let mut p = PieceRecords::new();
        piece_records(piece, &mut p);
        (0..p.recs.len())
            .map(|i| match p.bad.iter().find(|(at, _)| *at == i) {
                Some((_, why)) => Err(why.clone()),
                None => {
                    let (first, n) = p.recs[i];
                    let r = Rec {
                        p: &p,
                        input: piece,
                        first,
                        n,
                    };
                    Ok((0..n).map(|j| r.get(j).unwrap().to_string()).collect())
                }
            })
            .collect()
    }

    #[test]
    fn records_quoted_multiline_not_utf8_and_unterminated() {
        let got = fields(b"a,\"b,\nc\",d\r\n\xff,x\n\"\"\"q\"\"\",e");
        assert_eq!(got[0], Ok(vec!["a".into(), "b,\nc".into(), "d".into()]));
        assert!(got[1].as_ref().unwrap_err().contains("not valid UTF-8"));
        assert_eq!(got[2], Ok(vec!["\"q\"".into(), "e".into()]));
        assert_eq!(got.len(), 3);
        // Cut at record boundaries whatever the quotes.
        let body = b"x,\"1\n2\"\ny,3\n".repeat(100_000);
        let ps = pieces(&body);
        assert!(ps.len() > 1);
        assert!(ps
            .iter()
            .all(|p| p.ends_with(b"\n") && p.starts_with(b"x,")));
    }
}
