//! What the rules need besides the log itself: the accounts, the rate cards, the market table and
//! the command line's two overrides.

use chrono::NaiveDate;

use super::accounts::Accounts;
use super::markets::MarketTable;
use super::rates::RateBook;
use super::rulebook::Rulebook;

/// Everything the rules need besides the log itself.
pub struct Context<'a> {
    pub accounts: &'a Accounts,
    pub rates: &'a RateBook,
    pub markets: &'a MarketTable,
    /// `--rulebook`: force one rulebook for the whole replay (§1); `None` = by date.
    pub forced: Option<Rulebook>,
    /// `--rates-at`: price every message with the rate card and market table in force on this
    /// date ("last year's traffic at today's rates"); `None` = each message's own date (RATE-1).
    pub rates_at: Option<NaiveDate>,
}

/// The currency of a replay (CONV-6: one per replay).
pub fn replay_currency(ctx: &Context) -> String {
    ctx.accounts
        .currency()
        .unwrap_or_else(|_| ctx.accounts.wabas[0].currency.clone())
}
