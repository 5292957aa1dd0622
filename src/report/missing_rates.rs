//! The one wording of "the rates directory lacks rates this run needs" (a rate no source gives
//! is unknown, never zero: the run stops instead of guessing). Each missing rate itself is
//! `billing::engine::MissingRate`'s `Display`; this is the line that ends the command.

use std::fmt;

/// Besides adding the rates, what the user can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// `wabill replay`: the log.
    FixTheLog,
    /// `wabill estimate`: the volumes.
    ChangeTheVolumes,
    /// `wabill replay` under a forced rulebook: the log, or the card it prices with.
    FixTheLogOrRatesAt,
}

impl Remedy {
    fn words(self) -> &'static str {
        match self {
            Remedy::FixTheLog => "fix the log",
            Remedy::ChangeTheVolumes => "change the volumes",
            Remedy::FixTheLogOrRatesAt => {
                "fix the log, or (the rulebook is forced) price every message with a card that has the forced rulebook's rates: `--rates-at DATE`"
            }
        }
    }
}

/// How to get the rates.
const ADD_THEM: &str = "add them to the rates directory (`wabill rates import`)";

/// Why a run stopped for missing rates, as the final error line.
#[derive(Debug, Clone, Copy)]
pub enum MissingRates<'a> {
    /// `count` rates are missing: `3 missing rate(s); add them … or fix the log`.
    Rates { count: usize, remedy: Remedy },
    /// `wabill compare`: these variants (labels) lack rates.
    Variants(&'a [String]),
}

impl fmt::Display for MissingRates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissingRates::Rates { count, remedy } => {
                write!(f, "{count} missing rate(s); {ADD_THEM} or {}", remedy.words())
            }
            MissingRates::Variants(labels) => write!(
                f,
                "{} variant(s) have missing rates: {}; {ADD_THEM}, pick other rulebooks or change the traffic",
                labels.len(),
                labels.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_wording_for_every_command() {
        let rates = MissingRates::Rates {
            count: 2,
            remedy: Remedy::FixTheLog,
        };
        assert_eq!(
            rates.to_string(),
            "2 missing rate(s); add them to the rates directory (`wabill rates import`) or fix the log"
        );
        let labels = [
            "#1 (a.toml under auto)".to_string(),
            "#3 (b.toml under pmp-2026)".into(),
        ];
        assert_eq!(
            MissingRates::Variants(&labels).to_string(),
            "2 variant(s) have missing rates: #1 (a.toml under auto), #3 (b.toml under pmp-2026); \
             add them to the rates directory (`wabill rates import`), pick other rulebooks or change the traffic"
        );
    }
}
