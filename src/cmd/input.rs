//! How a command reads its log: the log formats, and a provider's export through a mapping
//! (`--input-format twilio-console`, `--mapping FILE`, `--map`, `--map-value`, `--templates`),
//! detected from the header or first record when the file is not the log format.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};

use super::notice;
use crate::io::log::mapped::{detect, MappedSource, Mapping, Source};
use crate::io::log::LogFormat;
use crate::io::templates::Templates;

/// `--input-format`: how to read the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum InputFormat {
    /// By extension: `.parquet`/`.pq` Parquet, `.jsonl`/`.ndjson`/`.json` JSON Lines, else CSV;
    /// a CSV or JSON file that is not the log format is matched against the providers' layouts.
    #[default]
    Auto,
    Csv,
    Jsonl,
    Parquet,
    /// Meta's webhook payloads, one JSON body per line (see `wabill reconcile`).
    Webhooks,
    /// Twilio Console › Monitor › Logs › Messaging › Export CSV.
    TwilioConsole,
    /// Twilio BulkExport day files of the Messages resource (JSON Lines).
    TwilioBulkexport,
    /// Gupshup WhatsApp API v2 callbacks (message and message-event), one per line.
    GupshupV2,
    /// YCloud webhook events (`whatsapp.message.updated`, `whatsapp.inbound_message.received`).
    Ycloud,
    /// Infobip WhatsApp delivery reports and inbound messages (`results[]`).
    Infobip,
}

impl InputFormat {
    /// The shipped mapping of a provider format.
    fn shipped(self) -> Option<&'static str> {
        Some(match self {
            InputFormat::TwilioConsole => "twilio-console",
            InputFormat::TwilioBulkexport => "twilio-bulkexport",
            InputFormat::GupshupV2 => "gupshup-v2",
            InputFormat::Ycloud => "ycloud",
            InputFormat::Infobip => "infobip",
            _ => return None,
        })
    }
}

/// The arguments that choose how a log is read.
#[derive(Debug, Clone, Args, Default)]
pub struct InputArgs {
    /// How to read the log; `auto` goes by the extension and recognises providers' exports.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    pub input_format: InputFormat,
    /// Read a provider's export through a mapping: a shipped one (twilio-console,
    /// twilio-bulkexport, gupshup-v2, ycloud, infobip) or a mapping file (TOML, see
    /// docs/PROVIDERS.md)
    #[arg(long, value_name = "NAME|FILE")]
    pub mapping: Option<String>,
    /// Map a log column to a field of the export: `timestamp=SentDate`, `user.out=To` (by
    /// direction), `waba==acme` (a constant). Repeat; added to --mapping if given
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// Translate a value: `direction:outbound-api=out`, `status:undelivered=failed`. Repeat
    #[arg(long = "map-value", value_name = "COLUMN:FROM=TO")]
    pub map_value: Vec<String>,
    /// Template catalogue: Meta's message_templates response (JSON) or CSV
    /// `name,language,category[,from]`; gives a template row the category it had when sent
    #[arg(long, value_name = "FILE")]
    pub templates: Option<PathBuf>,
    /// Bill only the WABAs billed in this currency (ISO 4217, e.g. MXN): a portfolio whose
    /// WABAs use several currencies is billed one currency at a time; the other WABAs' rows are
    /// left out and counted as `other_currency` (CUR-1)
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
}

impl InputArgs {
    /// The format to read `path` in: a log format, or a mapped export (announced on stderr
    /// when detected).
    pub fn resolve(&self, path: &Path) -> Result<LogFormat> {
        let mapping = self.mapping(path)?;
        let Some(mut m) = mapping else {
            if self.templates.is_some() {
                bail!("--templates completes a provider's export (--input-format, --mapping or --map); a log in wabill's format names each template's category itself");
            }
            return Ok(match self.input_format {
                InputFormat::Csv => LogFormat::Csv,
                InputFormat::Jsonl => LogFormat::Jsonl,
                InputFormat::Parquet => LogFormat::Parquet,
                InputFormat::Webhooks => LogFormat::Webhooks,
                _ => LogFormat::from_path(path),
            });
        };
        for a in &self.map {
            m.set_from_arg(a).map_err(anyhow::Error::msg)?;
        }
        for a in &self.map_value {
            m.set_value_from_arg(a).map_err(anyhow::Error::msg)?;
        }
        m.check().map_err(anyhow::Error::msg)?;
        let templates = match &self.templates {
            Some(p) => {
                let t = Templates::load(p)?;
                for n in &t.notes {
                    notice(n);
                }
                Some(t)
            }
            None => None,
        };
        let src: &'static MappedSource = Box::leak(Box::new(MappedSource::new(m, templates)));
        Ok(LogFormat::Mapped(src))
    }

    /// The mapping chosen or detected, if the file is to be read through one.
    fn mapping(&self, path: &Path) -> Result<Option<Mapping>> {
        if let Some(name) = self.input_format.shipped() {
            if self.mapping.is_some() {
                bail!("--input-format {name} and --mapping both choose a mapping: give one");
            }
            return Ok(Mapping::shipped(name));
        }
        if let Some(arg) = &self.mapping {
            return Mapping::load(arg).map(Some).map_err(anyhow::Error::msg);
        }
        let ext_source = || match LogFormat::from_path(path) {
            LogFormat::Jsonl => Source::Jsonl,
            _ => Source::Csv,
        };
        if !self.map.is_empty() || !self.map_value.is_empty() {
            return Ok(Some(Mapping::empty(ext_source())));
        }
        if self.input_format != InputFormat::Auto
            || LogFormat::from_path(path) == LogFormat::Parquet
            || is_native(path)
        {
            return Ok(None);
        }
        Ok(detect(path).inspect(|m| {
            notice(format_args!(
                "reading {} as {} ({}; detected from its {}; --input-format or --mapping to choose)",
                path.display(),
                m.name,
                m.description,
                if m.source == Source::Csv { "header" } else { "first record" }
            ))
        }))
    }
}

/// Whether a file is in wabill's own format: a CSV header, or the first JSON record, names
/// `timestamp`.
pub fn is_native(path: &Path) -> bool {
    use std::io::{BufRead, BufReader};
    let Ok(f) = crate::io::log::open_input(path) else {
        return true; // the reader reports it
    };
    let mut first = String::new();
    if BufReader::new(f).read_line(&mut first).is_err() {
        return true;
    }
    let first = first.trim_start_matches('\u{feff}').trim();
    if first.starts_with('{') {
        return serde_json::from_str::<serde_json::Value>(first)
            .map(|v| v.get("timestamp").is_some() && v.get("direction").is_some())
            .unwrap_or(true);
    }
    if first.starts_with('[') {
        return false;
    }
    first
        .split(',')
        .any(|h| h.trim().trim_matches('"').eq_ignore_ascii_case("timestamp"))
}

/// What reading a provider's export left aside or could not tell, as notices: records that are
/// not messages, and business messages read as non-template for want of a template.
pub fn mapped_notices(format: LogFormat) {
    use std::sync::atomic::Ordering::Relaxed;
    let LogFormat::Mapped(src) = format else {
        return;
    };
    let name = &src.mapping.name;
    let skipped = src.skipped.load(Relaxed);
    if skipped > 0 {
        notice(format_args!(
            "{skipped} record(s) of the {name} export are not messages (billing events, seen reports…) and were skipped"
        ));
    }
    let untyped = src.untyped.load(Relaxed);
    if untyped > 0 {
        notice(format_args!(
            "{untyped} business message(s) name no template or category (the {name} layout does not carry them{}): read as non-template messages{}",
            if src.templates.is_some() { ", and the catalogue recognised none of their texts" } else { "" },
            if src.templates.is_some() { "" } else { "; give --templates (Meta's message_templates response) to recognise templates by their text" }
        ));
    }
}
