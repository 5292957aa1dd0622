//! The front half every command that replays a log shares: accounts and rates checked against
//! each other (CONV-6), the log read, the replay run in memory and summarised.

use std::path::Path;

use anyhow::bail;

use crate::billing::accounts::Accounts;
use crate::billing::engine::{BillingError, Context, Replay};
use crate::billing::types::Rulebook;
use crate::io::log::{read_log_as, Log, LogError, LogFormat};
use crate::io::rates_dir::RatesDir;
use crate::replay::Summary;

/// The accounts and rates of a replay, checked against each other.
pub struct Inputs {
    pub accounts: Accounts,
    pub rates: RatesDir,
}

impl Inputs {
    /// CONV-6: one currency per replay, with a rate card for it, checked before any log is
    /// read.
    pub fn new(accounts: Accounts, rates: RatesDir) -> anyhow::Result<Inputs> {
        let currency = accounts.currency()?;
        if !rates.book.cards.iter().any(|c| c.currency == currency) {
            bail!(
                "no rate card in {} for currency {currency} (have: {})",
                rates.root.display(),
                rates.book.currencies().join(", ")
            );
        }
        Ok(Inputs { accounts, rates })
    }

    /// The pricing context: `forced` rulebook or `auto`, every message priced at the card of
    /// `rates_at` when given.
    pub fn context(&self, forced: Option<Rulebook>, rates_at: Option<chrono::NaiveDate>) -> Context<'_> {
        Context {
            accounts: &self.accounts,
            rates: &self.rates.book,
            markets: &self.rates.markets,
            forced,
            rates_at,
        }
    }

    /// Read a log for these accounts (`auto_rulebook`: business rows before 2022-02-01 are
    /// rejected, §1).
    pub fn read(
        &self,
        path: &Path,
        format: LogFormat,
        auto_rulebook: bool,
        progress: &dyn Fn(u64),
    ) -> Result<Log, LogError> {
        read_log_as(path, format, &self.accounts, &self.rates.markets, auto_rulebook, progress)
    }
}

/// Everything an in-memory replay produced, for `replay`, `reconcile` and reports.
pub struct Replayed {
    pub log: Log,
    pub rates: RatesDir,
    pub accounts: Accounts,
    pub replay: Replay,
    pub summary: Summary,
    pub forced: Option<Rulebook>,
}

impl Replayed {
    /// Webhook payloads for this replay (see [`crate::io::webhooks::webhooks_from_replay`]).
    pub fn webhooks(&self) -> String {
        crate::io::webhooks::webhooks_from_replay(&self.log, &self.replay, &self.accounts)
    }
}

/// Price a read log under `forced` (or `auto`), every message at the card of `rates_at` when
/// given.
pub fn price(
    log: Log,
    inputs: Inputs,
    forced: Option<Rulebook>,
    rates_at: Option<chrono::NaiveDate>,
) -> Result<Replayed, BillingError> {
    let (replay, summary) = crate::replay::memory::replay(&log, &inputs.context(forced, rates_at))?;
    let Inputs { accounts, rates } = inputs;
    Ok(Replayed {
        log,
        rates,
        accounts,
        replay,
        summary,
        forced,
    })
}
