//! [`TestLog`]'s `Debug` form: readable in proptest's failure output, a shrunk case reads like a
//! log (accounts, the cards of the markets used, then the rows in CONV-1 order).

use std::fmt;

use chrono::{DateTime, Utc};

use wabill_core::engine::Event;
use wabill_core::markets::MarketId;
use wabill_core::rates::{Cell, RateCard};
use wabill_core::types::*;

use super::{rfc3339, TestLog};

/// Readable in proptest's failure output: accounts, cards (the markets of the rows only), then
/// one line per row in CONV-1 order with the WABA-local time.
impl fmt::Debug for TestLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "TestLog {{")?;
        self.write_accounts(f)?;
        let used = self.markets_used();
        for card in &self.rates.cards {
            write_card(self, card, &used, f)?;
        }
        for i in self.conv1_order() {
            self.write_row(&self.events[i], f)?;
        }
        write!(f, "}}")
    }
}

impl TestLog {
    /// The market of each row, on its WABA-local date.
    fn markets_used(&self) -> Vec<MarketId> {
        self.events
            .iter()
            .map(|e| {
                let tz = self.accounts.wabas[self.waba_of(e) as usize].tz;
                let date = wabill_core::calendar::local_date(tz, e.ts);
                self.markets
                    .market_of(self.countries[e.country as usize], date)
            })
            .collect()
    }

    /// The WABAs, and the authentication-international eligibility (PMP-6) if any.
    fn write_accounts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.accounts.portfolio;
        for w in &self.accounts.wabas {
            writeln!(f, "  waba {} {} {}", w.id, w.tz, w.currency)?;
        }
        if let (Some(c), Some(s)) = (p.primary_country, p.auth_international_start) {
            write!(f, "  auth-international: primary {c}, from {}", rfc3339(s))?;
            for (c, s) in &p.auth_international_exceptions {
                write!(f, ", {c} from {}", rfc3339(*s))?;
            }
            writeln!(f)?;
        }
        Ok(())
    }

    /// One row: instant, WABA-local time, WABA, number, user (country), what it is.
    fn write_row(&self, e: &Event, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chat = self.chats[e.chat as usize];
        let tz = self.accounts.wabas[chat.waba as usize].tz;
        let local = DateTime::<Utc>::from_timestamp_micros(e.ts)
            .map(|d| d.with_timezone(&tz).format("%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        let what = match e.kind {
            Kind::In { entry_point: false } => "in".to_string(),
            Kind::In { entry_point: true } => "in entry-point".to_string(),
            Kind::Out { template, status } => format!(
                "out {} {}",
                template.map(|c| c.id()).unwrap_or("text"),
                status.id()
            ),
            Kind::Bot { bot, status } => format!("out {} {}", bot.id(), status.id()),
            Kind::Call { by_user: true, .. } => "in call".to_string(),
            Kind::Call { accepted, .. } => format!(
                "out call {}",
                if accepted { "accepted" } else { "not answered" }
            ),
        };
        writeln!(
            f,
            "  row {:>2} {} (local {}) {} {} user {} ({}) {}",
            e.row,
            rfc3339(e.ts),
            local,
            self.accounts.wabas[chat.waba as usize].id,
            self.numbers
                .get(chat.number as usize)
                .map(String::as_str)
                .unwrap_or("?"),
            chat.user,
            self.countries[e.country as usize],
            what
        )
    }
}

/// One card: its list rates per market of `used` (micro-units, `n/a`, `?` for unknown), then its
/// tier tables for those markets.
fn write_card(
    log: &TestLog,
    card: &RateCard,
    used: &[MarketId],
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "  card {} {}:", card.currency, card.effective)?;
    let mut markets: Vec<_> = card.markets().filter(|(m, _)| used.contains(m)).collect();
    markets.sort_by_key(|(m, _)| **m);
    for (m, cells) in markets {
        write!(f, " {}[", log.markets.name(*m))?;
        for col in RateColumn::ALL {
            match cells[col.index()] {
                Cell::Rate(r) => write!(f, "{}", r.0)?,
                Cell::NotOffered => write!(f, "n/a")?,
                Cell::Unknown => write!(f, "?")?,
            }
            if col != RateColumn::UserInitiated {
                write!(f, " ")?;
            }
        }
        write!(f, "]")?;
    }
    writeln!(f)?;
    let mut tables: Vec<_> = card
        .tier_tables()
        .filter(|((m, _), _)| used.contains(m))
        .collect();
    tables.sort_by_key(|((m, col), _)| (*m, *col));
    for ((m, col), bands) in tables {
        write!(f, "    tiers {} {}:", log.markets.name(*m), col.id())?;
        for b in bands {
            let to = b.to.map(|t| t.to_string()).unwrap_or_else(|| "--".into());
            write!(f, " {}..{}@{}", b.from, to, b.rate.0)?;
        }
        writeln!(f)?;
    }
    Ok(())
}
