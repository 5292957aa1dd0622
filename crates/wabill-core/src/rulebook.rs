//! The rulebooks (billing-rules.md §1): which set of rules applies on a WABA-local date, and the
//! other dates on which what applies changes.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

/// Which set of rules applies (billing-rules.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rulebook {
    Cbp2022,
    Cbp2023,
    Cbp2024,
    Pmp2025,
    Pmp2026,
}

impl Rulebook {
    pub const ALL: [Rulebook; 5] = [
        Rulebook::Cbp2022,
        Rulebook::Cbp2023,
        Rulebook::Cbp2024,
        Rulebook::Pmp2025,
        Rulebook::Pmp2026,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rulebook::Cbp2022 => "cbp-2022",
            Rulebook::Cbp2023 => "cbp-2023",
            Rulebook::Cbp2024 => "cbp-2024",
            Rulebook::Pmp2025 => "pmp-2025",
            Rulebook::Pmp2026 => "pmp-2026",
        }
    }

    /// First day (00:00 in the WABA's time zone) on which the rulebook applies by default.
    pub fn start(self) -> (i32, u32, u32) {
        match self {
            Rulebook::Cbp2022 => (2022, 2, 1),
            Rulebook::Cbp2023 => (2023, 6, 1),
            Rulebook::Cbp2024 => (2024, 11, 1),
            Rulebook::Pmp2025 => (2025, 7, 1),
            Rulebook::Pmp2026 => (2026, 10, 1),
        }
    }

    pub fn is_cbp(self) -> bool {
        matches!(
            self,
            Rulebook::Cbp2022 | Rulebook::Cbp2023 | Rulebook::Cbp2024
        )
    }

    pub fn description(self) -> &'static str {
        match self {
            Rulebook::Cbp2022 => "conversation-based: user-initiated / business-initiated conversations, 1,000 free per month",
            Rulebook::Cbp2023 => "conversation-based: marketing / utility / authentication / service conversations, 1,000 free service conversations per month",
            Rulebook::Cbp2024 => "conversation-based as cbp-2023, service conversations free",
            Rulebook::Pmp2025 => "per-message: delivered templates charged; non-template and in-window utility free",
            Rulebook::Pmp2026 => "per-message (reported): service messages charged after 1,000 free per number and month; utility charged inside the window too (the charged reading of PMP-5)",
        }
    }
}

impl fmt::Display for Rulebook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Rulebook {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Rulebook::ALL
            .into_iter()
            .find(|r| r.id().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown rulebook `{s}` (expected one of cbp-2022, cbp-2023, cbp-2024, pmp-2025, pmp-2026)"
                )
            })
    }
}

/// PMP-7: no marketing to US numbers from this (WABA-local) date.
pub const US_MARKETING_PAUSE: (i32, u32, u32) = (2025, 4, 1);

/// A `(year, month, day)` of the tables above as a date.
pub fn ymd(t: (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(t.0, t.1, t.2).expect("valid date")
}

/// §1: the rulebook in force on a WABA-local date.
pub fn rulebook_on(date: NaiveDate) -> Option<Rulebook> {
    Rulebook::ALL
        .into_iter()
        .rev()
        .find(|r| ymd(r.start()) <= date)
}

/// The dates on which the rules change by themselves: every rulebook's start and the PMP-7 pause
/// (rate cards and the market table add their own).
pub fn switch_dates() -> Vec<NaiveDate> {
    let mut d: Vec<NaiveDate> = Rulebook::ALL.iter().map(|r| ymd(r.start())).collect();
    d.push(ymd(US_MARKETING_PAUSE));
    d
}
