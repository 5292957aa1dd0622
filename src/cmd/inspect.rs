//! `wabill inspect FILE`: what wabill sees in a file before a replay — the format (detected or
//! chosen), how the export's fields map to the log's columns, rows, the date range, users,
//! business numbers, messages by kind, and the share of rows that would be rejected with the
//! most common reasons.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::input::InputArgs;
use super::{load_inputs, read_options};
use crate::billing::types::{Kind, Status};
use crate::io::log::LogFormat;

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// The file: a log, Meta's webhooks (`--input-format webhooks`) or a provider's export.
    pub file: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    /// Accounts file (TOML): the WABAs rows are checked against.
    #[arg(long)]
    pub accounts: Option<PathBuf>,
    /// Rates directory (for the market table that gives numbers their country).
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// Reasons of rejection to list.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

pub fn run(args: InspectArgs) -> Result<i32> {
    let format = args.input.resolve(&args.file)?;
    let inputs = load_inputs(
        args.accounts.as_deref(),
        args.rates.as_deref(),
        args.input.currency.as_deref(),
    )?;
    let log = inputs.read(&args.file, format, &read_options(), &|_| {})?;
    super::input::mapped_notices(format);
    let mut out = String::new();
    let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("{k:<14} {v}\n"));
    line(&mut out, "file", args.file.display().to_string());
    match format {
        LogFormat::Mapped(src) => {
            let m = &src.mapping;
            line(
                &mut out,
                "format",
                format!("{} ({})", m.name, m.description),
            );
            for (col, from) in m.describe() {
                line(&mut out, &format!("  {col}"), from);
            }
            if let Some(t) = &src.templates {
                line(
                    &mut out,
                    "templates",
                    format!("{} names and ids in the catalogue", t.len()),
                );
            }
        }
        f => line(&mut out, "format", format!("{f:?}").to_ascii_lowercase()),
    }
    let rejected = log.rejects.len() as u64;
    line(
        &mut out,
        "rows",
        format!(
            "{} read, {} kept, {} rejected ({:.1}%)",
            log.rows,
            log.rows - rejected,
            rejected,
            100.0 * rejected as f64 / (log.rows.max(1)) as f64
        ),
    );
    if let (Some(first), Some(last)) = (
        log.events.iter().map(|e| e.ts).min(),
        log.events.iter().map(|e| e.ts).max(),
    ) {
        let t = |us: i64| {
            chrono::DateTime::from_timestamp_micros(us)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        line(
            &mut out,
            "instants",
            format!("{} to {} (UTC)", t(first), t(last)),
        );
    }
    line(&mut out, "users", log.users.len().to_string());
    line(&mut out, "numbers", log.numbers.len().to_string());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for e in &log.events {
        let k = match e.kind {
            Kind::In { entry_point: true } => "inbound from an ad or Page button".to_string(),
            Kind::In { .. } => "inbound".to_string(),
            Kind::Call { by_user: true, .. } => "call from the user".to_string(),
            Kind::Call { accepted: true, .. } => "business call, accepted".to_string(),
            Kind::Call { .. } => "business call, not answered".to_string(),
            Kind::Bot { bot, status } => format!(
                "business {}{}",
                bot.id(),
                if matches!(status, Status::Failed | Status::Sent) {
                    format!(", {}", status.id())
                } else {
                    String::new()
                }
            ),
            Kind::Out { template, status } => format!(
                "business {}{}",
                template.map_or("non-template", |c| c.id()),
                if matches!(status, Status::Failed | Status::Sent) {
                    format!(", {}", status.id())
                } else {
                    String::new()
                }
            ),
        };
        *kinds.entry(k).or_default() += 1;
    }
    for (k, n) in &kinds {
        line(&mut out, "  messages", format!("{n:>9}  {k}"));
    }
    if rejected > 0 {
        let mut reasons: BTreeMap<(String, String), (u64, u64, String)> = BTreeMap::new();
        for r in &log.rejects {
            let e = reasons
                .entry((r.column.clone(), r.message.clone()))
                .or_insert((0, r.row, r.value.clone()));
            e.0 += 1;
        }
        let mut v: Vec<_> = reasons.into_iter().collect();
        v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        for ((col, msg), (n, row, value)) in v.into_iter().take(args.top) {
            let col = if col.is_empty() { "-".to_string() } else { col };
            line(
                &mut out,
                "  rejected",
                format!("{n:>9}  {col}: {msg} (first: row {row}, `{value}`)"),
            );
        }
    }
    for l in out.lines() {
        println!("{}", crate::io::text::terminal(l));
    }
    Ok(0)
}
