//! The template catalogue (`--templates FILE`): a template's category at the time it was sent
//! (CBP-8), for exports that name the template and not its category.
//!
//! Two layouts are read, chosen by the content:
//! - Meta's `GET /{waba-id}/message_templates` response as saved: `{"data": [{"name",
//!   "language", "category", "status", "id", …}], "paging": …}`, or a JSON array of such pages.
//!   A template's `category` is its category now; one that Meta re-categorised also has
//!   `previous_category`, with no date, so the current category is used for every send and
//!   [`Templates::notes`] says so. A template can be named by its `name` or its `id`.
//! - CSV `name,language,category[,from]`: one row per category a template had, `from` the
//!   instant (RFC 3339, or a date: 00:00 UTC) from which it holds; a row without `from` holds
//!   from the beginning. The category history Meta's response does not carry is written here.
//!
//! Categories are Meta's words in any case (`MARKETING`, `utility`, `AUTHENTICATION`).
//! Templates Meta rejected or paused are still looked up (they may have been sent before).

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::billing::types::TemplateCategory;
use crate::io::log::parse_timestamp;

/// Templates by name (and by Meta's id): per language, the categories over time.
#[derive(Debug, Default, Clone)]
pub struct Templates {
    /// Lower-case name or id → (language, from (UTC micros), category), sorted by language
    /// then `from`.
    by_name: rustc_hash::FxHashMap<String, Vec<(String, i64, TemplateCategory)>>,
    /// Templates' body texts cut at their `{{n}}` placeholders: (name, literal pieces), for
    /// exports that give the message's text and not the template (Twilio).
    bodies: Vec<(String, Vec<String>)>,
    /// Per body, what a row's text is matched against (built once: texts are matched per row).
    patterns: Vec<Pattern>,
    /// What the reader noticed (re-categorised templates without a date).
    pub notes: Vec<String>,
}

/// A template body as a matcher: its literal text before the first placeholder, between
/// placeholders and after the last, with the first and last bytes packed for a quick refusal.
#[derive(Debug, Clone)]
struct Pattern {
    first: Vec<u8>,
    mids: Vec<memchr::memmem::Finder<'static>>,
    last: Vec<u8>,
    /// Only one piece: the text must be it.
    whole: bool,
    /// Bytes of literal text (the most specific template wins).
    literal: usize,
    head: u64,
    tail: u64,
}

/// Up to 8 bytes as an integer (their count in the top byte): equal when the bytes are.
fn pack(b: &[u8]) -> u64 {
    let mut v = (b.len() as u64) << 56;
    for (i, x) in b.iter().take(7).enumerate() {
        v |= (*x as u64) << (8 * i);
    }
    v
}

impl Pattern {
    fn new(pieces: &[String]) -> Pattern {
        let whole = pieces.len() == 1;
        let first = if whole {
            pieces[0].trim()
        } else {
            pieces[0].trim_start()
        };
        let first = first.as_bytes().to_vec();
        let last = pieces[pieces.len() - 1].trim_end().as_bytes().to_vec();
        let mids = if pieces.len() > 2 {
            &pieces[1..pieces.len() - 1]
        } else {
            &[][..]
        };
        Pattern {
            head: pack(&first[..first.len().min(7)]),
            tail: pack(&last[last.len().saturating_sub(7)..]),
            mids: mids
                .iter()
                .map(|m| memchr::memmem::Finder::new(m.as_bytes()).into_owned())
                .collect(),
            whole,
            literal: pieces.iter().map(String::len).sum(),
            first,
            last,
        }
    }

    fn fits(&self, body: &[u8]) -> bool {
        let h = self.first.len().min(7);
        let t = self.last.len().min(7);
        if body.len() < h.max(t)
            || pack(&body[..h]) != self.head
            || pack(&body[body.len() - t..]) != self.tail
        {
            return false;
        }
        if self.whole {
            return body == self.first.as_slice();
        }
        let Some(mut rest) = body.strip_prefix(self.first.as_slice()) else {
            return false;
        };
        for f in &self.mids {
            match f.find(rest) {
                Some(i) => rest = &rest[i + f.needle().len()..],
                None => return false,
            }
        }
        rest.len() >= self.last.len() && rest.ends_with(&self.last)
    }
}

/// Why a template row has no category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The catalogue does not know the template.
    Unknown,
    /// It knows the template in other languages only.
    Language(Vec<String>),
    /// The template's first category starts after the send.
    BeforeFirst(i64),
}

impl Templates {
    /// Reads a catalogue file (layout by content: JSON when it starts with `{` or `[`).
    pub fn load(path: &Path) -> Result<Templates> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the template catalogue {}", path.display()))?;
        let t = Templates::parse(&text)
            .with_context(|| format!("template catalogue {}", path.display()))?;
        if t.by_name.is_empty() {
            bail!("template catalogue {}: no templates in it", path.display());
        }
        Ok(t)
    }

    /// Parses a catalogue's text.
    pub fn parse(text: &str) -> Result<Templates> {
        let t = text.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with('{') || t.starts_with('[') {
            Templates::from_meta_json(t)
        } else {
            Templates::from_csv(t)
        }
    }

    fn from_meta_json(text: &str) -> Result<Templates> {
        let v: serde_json::Value = serde_json::from_str(text).context("not valid JSON")?;
        let pages: Vec<&serde_json::Value> = match &v {
            serde_json::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let mut t = Templates::default();
        for (p, page) in pages.iter().enumerate() {
            let Some(data) = page.get("data").and_then(|d| d.as_array()) else {
                bail!(
                    "page {}: no `data` array (expected Meta's message_templates response)",
                    p + 1
                );
            };
            for (i, tpl) in data.iter().enumerate() {
                let field = |k: &str| tpl.get(k).and_then(|x| x.as_str()).unwrap_or("");
                let (name, cat) = (field("name"), field("category"));
                if name.is_empty() {
                    bail!("data[{i}]: a template without `name`");
                }
                let category = category(cat).with_context(|| {
                    format!("template `{name}`: category `{cat}` is not marketing, utility or authentication")
                })?;
                let lang = field("language").to_string();
                t.add(name, &lang, i64::MIN, category);
                if let Some(comps) = tpl.get("components").and_then(|c| c.as_array()) {
                    for c in comps {
                        let kind = c.get("type").and_then(|x| x.as_str()).unwrap_or("");
                        if let (true, Some(text)) = (
                            kind.eq_ignore_ascii_case("body"),
                            c.get("text").and_then(|x| x.as_str()),
                        ) {
                            t.add_body(name, text);
                        }
                    }
                }
                let id = field("id");
                if !id.is_empty() {
                    t.add(id, &lang, i64::MIN, category);
                }
                let prev = field("previous_category");
                if !prev.is_empty() {
                    t.notes.push(format!(
                        "template `{name}` ({lang}) was re-categorised from {prev} to {cat}; Meta's response gives no date, so every send is billed as {cat} (give the history as CSV name,language,category,from to bill earlier sends as {prev})",
                        cat = category.id(),
                        prev = prev.to_ascii_lowercase()
                    ));
                }
            }
        }
        t.sort();
        Ok(t)
    }

    fn from_csv(text: &str) -> Result<Templates> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .context("no header row")?
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let (Some(cn), Some(cc)) = (col("name"), col("category")) else {
            bail!(
                "the header must name `name` and `category` (and may name `language`, `from`); found: {}",
                headers.join(", ")
            );
        };
        let (cl, cf, cb) = (col("language"), col("from"), col("body"));
        let mut t = Templates::default();
        for (i, rec) in rdr.records().enumerate() {
            let row = i + 2;
            let rec = rec.with_context(|| format!("line {row}"))?;
            let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("");
            let name = get(Some(cn));
            if name.is_empty() {
                bail!("line {row}: no template name");
            }
            let cat = get(Some(cc));
            let category = category(cat).with_context(|| {
                format!("line {row}: template `{name}`: category `{cat}` is not marketing, utility or authentication")
            })?;
            let from = match get(cf) {
                "" => i64::MIN,
                s => from_instant(s).with_context(|| {
                    format!("line {row}: `from` = `{s}` is not an RFC 3339 instant or a date")
                })?,
            };
            t.add(name, get(cl), from, category);
            if !get(cb).is_empty() {
                t.add_body(name, get(cb));
            }
        }
        t.sort();
        Ok(t)
    }

    fn add(&mut self, name: &str, language: &str, from: i64, c: TemplateCategory) {
        self.by_name
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push((language.to_string(), from, c));
    }

    fn add_body(&mut self, name: &str, text: &str) {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            pieces.push(rest[..open].to_string());
            rest = match rest[open..].find("}}") {
                Some(close) => &rest[open + close + 2..],
                None => "",
            };
        }
        pieces.push(rest.to_string());
        if !self.bodies.iter().any(|(n, p)| n == name && *p == pieces) {
            self.patterns.push(Pattern::new(&pieces));
            self.bodies.push((name.to_string(), pieces));
        }
    }

    /// The template whose body text `body` is (placeholders matching anything): the most
    /// specific (most literal text) when several match, ties by name.
    pub fn by_body(&self, body: &str) -> Option<&str> {
        let body = body.trim_ascii();
        let bytes = body.as_bytes();
        self.bodies
            .iter()
            .zip(&self.patterns)
            .filter(|(_, p)| p.fits(bytes))
            .max_by(|a, b| a.1.literal.cmp(&b.1.literal).then(b.0 .0.cmp(&a.0 .0)))
            .map(|((n, _), _)| n.as_str())
    }

    fn sort(&mut self) {
        for v in self.by_name.values_mut() {
            v.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
            v.dedup_by(|b, a| a.0 == b.0 && a.1 == b.1);
        }
    }

    /// The category of template `name` (or Meta's id) in `language` (empty: the row does not
    /// say; the template must then have one language) sent at `ts` (UTC micros): the latest
    /// category that starts at or before `ts`.
    pub fn category(&self, name: &str, language: &str, ts: i64) -> Result<TemplateCategory, Miss> {
        // Per row: no allocation unless the name has capitals.
        let name = name.trim();
        let key: std::borrow::Cow<str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            name.to_ascii_lowercase().into()
        } else {
            name.into()
        };
        let Some(all) = self.by_name.get(key.as_ref()) else {
            return Err(Miss::Unknown);
        };
        let lang = language.trim();
        // Meta writes `en_US`, exports often `en-US` or `en_us`.
        let same = |a: &str, b: &str| {
            a.len() == b.len()
                && a.bytes().zip(b.bytes()).all(|(x, y)| {
                    let n = |c: u8| {
                        if c == b'-' {
                            b'_'
                        } else {
                            c.to_ascii_lowercase()
                        }
                    };
                    n(x) == n(y)
                })
        };
        let one_language = all.iter().all(|(l, _, _)| *l == all[0].0);
        let languages = || {
            let mut v: Vec<String> = all.iter().map(|(l, _, _)| l.clone()).collect();
            v.dedup();
            v
        };
        let chosen: &str = if lang.is_empty() {
            if !one_language {
                return Err(Miss::Language(languages()));
            }
            &all[0].0
        } else {
            match all.iter().find(|(l, _, _)| same(l, lang)) {
                Some((l, _, _)) => l,
                None if one_language && all[0].0.is_empty() => "",
                None => return Err(Miss::Language(languages())),
            }
        };
        let mut found = None;
        let mut first = None;
        for (_, from, c) in all.iter().filter(|(l, _, _)| l == chosen) {
            first.get_or_insert(*from);
            if *from <= ts {
                found = Some(*c);
            }
        }
        found.ok_or(Miss::BeforeFirst(first.unwrap_or(i64::MIN)))
    }

    /// How many templates (names and ids) the catalogue knows.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether it knows none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

impl Miss {
    /// The reject's reason for template `name`.
    pub fn reason(&self, name: &str) -> String {
        match self {
            Miss::Unknown => format!(
                "template `{name}` is not in the template catalogue (--templates): its category is unknown, so the message is not billed by guess"
            ),
            Miss::Language(langs) => format!(
                "template `{name}` is in the catalogue in {} but the row's language does not pick one",
                if langs.is_empty() { "no language".to_string() } else { langs.join(", ") }
            ),
            Miss::BeforeFirst(from) => format!(
                "template `{name}` was sent before the first category the catalogue gives it (from {})",
                chrono::DateTime::from_timestamp_micros(*from)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default()
            ),
        }
    }
}

/// Meta's category words, any case.
fn category(s: &str) -> Option<TemplateCategory> {
    TemplateCategory::parse(&s.trim().to_ascii_lowercase())
}

/// RFC 3339, or a date (00:00 UTC).
fn from_instant(s: &str) -> Option<i64> {
    parse_timestamp(s).or_else(|| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| {
                d.and_time(chrono::NaiveTime::MIN)
                    .and_utc()
                    .timestamp_micros()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> i64 {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn cbp8_csv_history_gives_the_category_in_force_when_sent() {
        let c = Templates::parse(
            "name,language,category,from\norder_update,en_US,UTILITY,\norder_update,en_US,MARKETING,2026-11-15T12:00:00Z\n",
        )
        .unwrap();
        let at = |s| c.category("Order_Update", "en-us", t(s));
        assert_eq!(at("2026-11-15T11:59:59Z"), Ok(TemplateCategory::Utility));
        assert_eq!(at("2026-11-15T12:00:00Z"), Ok(TemplateCategory::Marketing));
        assert_eq!(
            c.category("order_update", "", t("2026-11-01T00:00:00Z")),
            Ok(TemplateCategory::Utility)
        );
        assert_eq!(c.category("welcome", "", 0), Err(Miss::Unknown));
        assert!(matches!(
            c.category("order_update", "pt_BR", 0),
            Err(Miss::Language(_))
        ));
        assert!(Miss::Unknown.reason("welcome").contains("`welcome`"));
    }

    #[test]
    fn meta_response_by_name_or_id_and_recategorised_note() {
        let c = Templates::parse(
            r#"{"data":[{"name":"otp","language":"en","category":"AUTHENTICATION","status":"APPROVED","id":"123"},
                        {"name":"promo","language":"pt_BR","category":"MARKETING","previous_category":"UTILITY","status":"APPROVED","id":"456"}],
                "paging":{"cursors":{"before":"a","after":"b"}}}"#,
        )
        .unwrap();
        assert_eq!(
            c.category("123", "", 0),
            Ok(TemplateCategory::Authentication)
        );
        assert_eq!(
            c.category("promo", "pt_BR", 0),
            Ok(TemplateCategory::Marketing)
        );
        assert_eq!(c.notes.len(), 1);
        assert!(c.notes[0].contains("re-categorised from utility to marketing"));
        assert!(Templates::parse(r#"{"data":[{"name":"x","category":"SERVICE"}]}"#).is_err());
    }

    #[test]
    fn a_message_text_finds_its_template() {
        let c = Templates::parse(
            r#"{"data":[{"name":"order_shipped","language":"en","category":"UTILITY",
                 "components":[{"type":"HEADER","text":"Shipped"},{"type":"BODY","text":"Your order {{1}} has shipped. Track it here: {{2}}"}]},
                {"name":"hello","language":"en","category":"MARKETING","components":[{"type":"BODY","text":"Hello {{1}}"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.by_body("Your order #4417 has shipped. Track it here: https://x/1"),
            Some("order_shipped")
        );
        assert_eq!(c.by_body("Hello Priya"), Some("hello"));
        assert_eq!(c.by_body("Sorry about that"), None);
        assert_eq!(c.by_body("Your order #1 has shipped."), None);
    }
}
