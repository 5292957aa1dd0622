//! Rate cards (billing-rules.md §5): exact rates per market and column, optional volume-tier
//! tables, effective from 00:00 WABA time on their date until the next card of the same currency.
//! Reading a tier table (PMP-4, [`RateCard::tier_rate`]) is `pricing::tiers`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::markets::MarketId;
use super::money::Money;
use super::types::{RateColumn, RATE_COLUMNS};

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

/// Why one band of a tier table cannot stand ([`check_bands`]). Indices name bands of the
/// slice checked; the caller says where each one is written (a file and line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandProblem {
    /// `to` is below `from`.
    EndsBeforeStart,
    /// The lowest band starts above 1: the month's first messages are in no band.
    StartsLate,
    /// The same range as band `of`.
    Duplicate { of: usize },
    /// Shares messages with band `with` (or follows `with`, which is open-ended).
    Overlap { with: usize },
    /// Messages between band `after` and this one are in no band.
    Gap { after: usize },
}

/// One problem of a tier table: the band (an index into the bands checked) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandIssue {
    pub band: usize,
    pub problem: BandProblem,
}

impl BandIssue {
    /// The issue in words; `at(i)` names where band `i` is written (e.g. `line 4`).
    pub fn explain(&self, bands: &[Band], at: impl Fn(usize) -> String) -> String {
        let b = bands[self.band];
        let range = |b: &Band| match b.to {
            Some(t) => format!("{}..{t}", b.from),
            None => format!("{}.. (open-ended)", b.from),
        };
        match self.problem {
            BandProblem::EndsBeforeStart => {
                format!("band ends before it starts ({})", range(&b))
            }
            BandProblem::StartsLate => format!(
                "the first band starts at {}: messages 1 to {} of the month are in no band \
                 (the first band starts at 0 or 1)",
                b.from,
                b.from - 1
            ),
            BandProblem::Duplicate { of } => format!(
                "duplicate band: {} is already the band on {}",
                range(&b),
                at(of)
            ),
            BandProblem::Overlap { with } => format!(
                "overlapping bands: {} shares messages with {} on {}",
                range(&b),
                range(&bands[with]),
                at(with)
            ),
            BandProblem::Gap { after } => {
                let end = bands[after].to.unwrap_or(u64::MAX);
                format!(
                    "gap in the tier table: messages {} to {} of the month are in no band \
                     (the band on {} ends at {end}, this one starts at {})",
                    end.saturating_add(1),
                    b.from - 1,
                    at(after),
                    b.from
                )
            }
        }
    }
}

/// PMP-4: a tier table must cover the month's messages from the first on, without gaps or
/// overlaps: the lowest band starts at 0 or 1, each next at the previous end + 1, nothing after
/// an open end. The bands may be given in any order; every problem is returned, each once, in
/// the order of the bands' starts. (A table may end with a closed band: a partial table, whose
/// end is a missing rate, RATE-4.)
pub fn check_bands(bands: &[Band]) -> Vec<BandIssue> {
    let mut issues = Vec::new();
    let mut order: Vec<usize> = Vec::with_capacity(bands.len());
    for (i, b) in bands.iter().enumerate() {
        if b.to.is_some_and(|t| t < b.from) {
            issues.push(BandIssue {
                band: i,
                problem: BandProblem::EndsBeforeStart,
            });
        } else {
            order.push(i);
        }
    }
    order.sort_by_key(|&i| (bands[i].from, bands[i].to.unwrap_or(u64::MAX), i));
    // The band reaching furthest so far: (index, last message covered; `None` = open end).
    let mut reach: Option<(usize, Option<u64>)> = None;
    for &i in &order {
        let b = bands[i];
        let problem = match reach {
            None if b.from > 1 => Some(BandProblem::StartsLate),
            None => None,
            Some((j, _)) if bands[j].from == b.from && bands[j].to == b.to => {
                Some(BandProblem::Duplicate { of: j })
            }
            Some((j, None)) => Some(BandProblem::Overlap { with: j }),
            Some((j, Some(end))) if b.from <= end => Some(BandProblem::Overlap { with: j }),
            Some((j, Some(end))) if b.from > end + 1 => Some(BandProblem::Gap { after: j }),
            Some(_) => None,
        };
        if let Some(problem) = problem {
            issues.push(BandIssue { band: i, problem });
        }
        let further = match (reach, b.to) {
            (None, _) | (Some((_, Some(_))), None) => true,
            (Some((_, Some(end))), Some(t)) => t > end,
            (Some((_, None)), _) => false,
        };
        if further {
            reach = Some((i, b.to));
        }
    }
    issues
}

#[derive(Debug, Clone)]
pub struct RateCard {
    pub currency: String,
    pub effective: NaiveDate,
    /// Where the card came from (a path relative to the rates directory), for reports.
    pub source: String,
    /// Which columns the card has at all (cbp-2022 cards have business/user-initiated only).
    pub columns: [bool; RATE_COLUMNS],
    cells: HashMap<MarketId, [Cell; RATE_COLUMNS]>,
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
            columns: [false; RATE_COLUMNS],
            cells: HashMap::new(),
            tiers: HashMap::new(),
        }
    }

    pub fn set(&mut self, market: MarketId, col: RateColumn, cell: Cell) {
        self.columns[col.index()] = true;
        self.cells
            .entry(market)
            .or_insert([Cell::Unknown; RATE_COLUMNS])[col.index()] = cell;
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

    pub fn markets(&self) -> impl Iterator<Item = (&MarketId, &[Cell; RATE_COLUMNS])> {
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

    fn band(from: u64, to: Option<u64>) -> Band {
        Band {
            from,
            to,
            rate: Money(1),
        }
    }

    #[test]
    fn pmp4_tier_tables_are_contiguous_from_the_first_message() {
        let ok = [band(101, None), band(0, Some(100))];
        assert!(check_bands(&ok).is_empty());
        assert!(check_bands(&[band(1, Some(10))]).is_empty());
        let gap = [band(0, Some(100)), band(200, None)];
        let issues = check_bands(&gap);
        assert_eq!(
            issues,
            vec![BandIssue {
                band: 1,
                problem: BandProblem::Gap { after: 0 }
            }]
        );
        let at = |i: usize| format!("line {}", i + 2);
        assert_eq!(
            issues[0].explain(&gap, at),
            "gap in the tier table: messages 101 to 199 of the month are in no band \
             (the band on line 2 ends at 100, this one starts at 200)"
        );
        let dup = [band(0, Some(100)), band(0, Some(100)), band(101, None)];
        assert_eq!(
            check_bands(&dup)[0].problem,
            BandProblem::Duplicate { of: 0 }
        );
        let overlap = [band(0, Some(100)), band(50, Some(200))];
        assert_eq!(
            check_bands(&overlap)[0].problem,
            BandProblem::Overlap { with: 0 }
        );
        let after_open = [band(0, None), band(100, Some(200))];
        assert_eq!(
            check_bands(&after_open)[0].problem,
            BandProblem::Overlap { with: 0 }
        );
        assert_eq!(
            check_bands(&[band(5, Some(10))])[0].problem,
            BandProblem::StartsLate
        );
        assert_eq!(
            check_bands(&[band(0, Some(10)), band(11, Some(3))])[0].problem,
            BandProblem::EndsBeforeStart
        );
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
