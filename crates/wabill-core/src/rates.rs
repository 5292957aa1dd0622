//! Rate cards (billing-rules.md §5): exact rates per market and column, optional volume-tier
//! tables, effective from 00:00 WABA time on their date until the next card of the same currency.
//! Reading a tier table (PMP-4, [`RateCard::tier_rate`]) is `pricing::tiers`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::markets::MarketId;
use super::money::Money;
use super::types::RateColumn;

/// One cell of a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Rate(Money),
    /// `n/a`: the market has no such rate (Meta's marker).
    NotOffered,
    /// Blank: no source was found. Unknown, never zero (RATE-4).
    Unknown,
}

/// One band of a graduated tier table (PMP-4): messages `from..=to` of the month pay `rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub from: u64,
    pub to: Option<u64>,
    pub rate: Money,
}

#[derive(Debug, Clone)]
pub struct RateCard {
    pub currency: String,
    pub effective: NaiveDate,
    /// Where the card came from (a path relative to the rates directory), for reports.
    pub source: String,
    /// Which columns the card has at all (cbp-2022 cards have business/user-initiated only).
    pub columns: [bool; 7],
    cells: HashMap<MarketId, [Cell; 7]>,
    tiers: HashMap<(MarketId, RateColumn), Vec<Band>>,
}

/// The outcome of a tier lookup ([`RateCard::tier_rate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierRate {
    /// The market has no tier table for the column: pay the list rate.
    NoTable,
    Rate(Money),
    /// The count is beyond the last band of a partial table (RATE-4).
    BeyondTable,
}

impl RateCard {
    pub fn new(currency: &str, effective: NaiveDate, source: &str) -> RateCard {
        RateCard {
            currency: currency.to_ascii_uppercase(),
            effective,
            source: source.into(),
            columns: [false; 7],
            cells: HashMap::new(),
            tiers: HashMap::new(),
        }
    }

    pub fn set(&mut self, market: MarketId, col: RateColumn, cell: Cell) {
        self.columns[col.index()] = true;
        self.cells.entry(market).or_insert([Cell::Unknown; 7])[col.index()] = cell;
    }

    pub fn set_tiers(&mut self, market: MarketId, col: RateColumn, mut bands: Vec<Band>) {
        bands.sort_by_key(|b| b.from);
        self.tiers.insert((market, col), bands);
    }

    /// The cell for a market and column; a market or column the card lacks is `Unknown`,
    /// except a column the whole card lacks, which is `NotOffered`.
    pub fn cell(&self, market: MarketId, col: RateColumn) -> Cell {
        if !self.columns[col.index()] {
            return Cell::NotOffered;
        }
        self.cells
            .get(&market)
            .map(|c| c[col.index()])
            .unwrap_or(Cell::Unknown)
    }

    pub fn rate(&self, market: MarketId, col: RateColumn) -> Option<Money> {
        match self.cell(market, col) {
            Cell::Rate(m) => Some(m),
            _ => None,
        }
    }

    pub fn markets(&self) -> impl Iterator<Item = (&MarketId, &[Cell; 7])> {
        self.cells.iter()
    }

    pub fn tier_tables(&self) -> impl Iterator<Item = (&(MarketId, RateColumn), &Vec<Band>)> {
        self.tiers.iter()
    }

    pub fn tiers(&self, market: MarketId, col: RateColumn) -> Option<&[Band]> {
        self.tiers.get(&(market, col)).map(|v| v.as_slice())
    }
}

/// All cards known to a replay, sorted by currency and date.
#[derive(Debug, Clone, Default)]
pub struct RateBook {
    pub cards: Vec<RateCard>,
}

impl RateBook {
    pub fn new(mut cards: Vec<RateCard>) -> RateBook {
        cards.sort_by(|a, b| (&a.currency, a.effective).cmp(&(&b.currency, b.effective)));
        RateBook { cards }
    }

    /// RATE-1: the card of `currency` in force on the WABA-local `date`.
    pub fn card_at(&self, currency: &str, date: NaiveDate) -> Option<usize> {
        self.cards
            .iter()
            .enumerate()
            .filter(|(_, c)| c.currency == currency && c.effective <= date)
            .map(|(i, _)| i)
            .next_back()
    }

    pub fn dates(&self, currency: &str) -> Vec<NaiveDate> {
        self.cards
            .iter()
            .filter(|c| c.currency == currency)
            .map(|c| c.effective)
            .collect()
    }

    pub fn currencies(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cards.iter().map(|c| c.currency.clone()).collect();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn rate1_card_in_force_by_date_and_currency() {
        let book = RateBook::new(vec![
            RateCard::new("USD", d("2025-10-01"), "b"),
            RateCard::new("USD", d("2025-07-01"), "a"),
            RateCard::new("EUR", d("2026-07-01"), "e"),
        ]);
        assert_eq!(book.card_at("USD", d("2025-06-30")), None);
        assert_eq!(
            book.cards[book.card_at("USD", d("2025-07-01")).unwrap()].source,
            "a"
        );
        assert_eq!(
            book.cards[book.card_at("USD", d("2025-09-30")).unwrap()].source,
            "a"
        );
        assert_eq!(
            book.cards[book.card_at("USD", d("2025-10-01")).unwrap()].source,
            "b"
        );
        assert_eq!(
            book.cards[book.card_at("EUR", d("2027-01-01")).unwrap()].source,
            "e"
        );
    }
}
