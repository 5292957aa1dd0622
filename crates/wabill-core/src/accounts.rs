//! The accounts (formats.md §2) as typed values: the portfolio, its WABAs with time zone and
//! currency, and optionally the provider's fees (`[provider]`, see [`crate::provider`]), with the
//! checks each value passes.
//!
//! The file's TOML syntax is read at the edge (`wabill::io::accounts_file`), which hands the values
//! here as they were written ([`AccountsSettings`]); every check and every message about a value
//! is made here, so the core decides what an accounts file means.

use std::collections::BTreeMap;

use chrono::DateTime;
use chrono_tz::Tz;

use rust_decimal::Decimal;

use super::money::Money;
use super::types::{Country, RateColumn};

#[derive(Debug, Clone)]
pub struct Waba {
    pub id: String,
    pub tz: Tz,
    pub currency: String,
}

#[derive(Debug, Clone, Default)]
pub struct Portfolio {
    pub name: String,
    pub primary_country: Option<Country>,
    /// PMP-6 eligibility start (UTC micros); `None` = not eligible.
    pub auth_international_start: Option<i64>,
    /// Per-country exceptions to the start (PMP-6).
    pub auth_international_exceptions: Vec<(Country, i64)>,
    /// AIP-1: the portfolio is an AI provider (`ai_provider = true`).
    pub ai_provider: bool,
}

#[derive(Debug, Clone)]
pub struct Accounts {
    pub portfolio: Portfolio,
    pub wabas: Vec<Waba>,
    /// `[provider]`: fees on top of Meta's charges; `None` = Meta's bill only.
    pub provider: Option<Provider>,
    /// CUR-1: `--currency`: the one currency billed; rows of WABAs in another are left out.
    pub currency_choice: Option<String>,
    /// MAXP-1: `compare --max-price`: marketing to these markets is sent with a max price, and
    /// priced at it (the bound of what Meta charges) unless a row gives what Meta charged.
    pub max_prices: Vec<(crate::markets::MarketId, crate::money::Money)>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    /// The file's syntax, as the reader at the edge reports it.
    #[error("accounts: {0}")]
    Toml(String),
    #[error("accounts: `{key}` = `{value}`: {message}")]
    Value {
        key: String,
        value: String,
        message: String,
    },
    #[error("accounts: no [[waba]] defined")]
    NoWaba,
    /// CONV-6: one currency per replay.
    #[error("accounts: the WABAs are billed in several currencies ({0}); a replay bills one currency at a time (CONV-6): choose one with --currency CODE (CUR-1)")]
    MixedCurrency(String),
    /// CUR-1: `--currency` names a currency no WABA is billed in.
    #[error("--currency {0}: no WABA of the accounts is billed in {0} (they are: {1}) (CUR-1)")]
    NoSuchCurrency(String, String),
}

/// The `[provider]` section of the accounts file: what a Business Solution Provider charges on
/// top of Meta's bill (the fees themselves are computed in [`crate::provider`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provider {
    pub name: String,
    /// Per business message delivered (status `delivered` or `read`).
    pub per_message_sent: Option<Money>,
    /// Per inbound message.
    pub per_message_received: Option<Money>,
    /// Per business message not delivered (status `sent` or `failed`).
    pub per_failed_message: Option<Money>,
    /// Fraction of Meta's charge added per billed category (`0.06` = 6 %), in
    /// [`RateColumn::ALL`] order.
    pub markup: Vec<(RateColumn, Decimal)>,
}

/// A decimal value as the file wrote it: a string (`"0.0015"`) or a number (`0.0015`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalSetting {
    /// What the value says: a string's content (trimmed) or a number's literal; `None` when the
    /// value is neither (a boolean, a table…). A float is given through its shortest round-trip
    /// text, which is the literal as written for anything up to 15 significant digits.
    pub text: Option<String>,
    /// The value as written, for messages.
    pub shown: String,
}

/// `[provider]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderSettings {
    pub name: String,
    pub per_message_sent: Option<DecimalSetting>,
    pub per_message_received: Option<DecimalSetting>,
    pub per_failed_message: Option<DecimalSetting>,
    /// Category → fraction, by category name as written.
    pub markup: BTreeMap<String, DecimalSetting>,
}

/// `[portfolio]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioSettings {
    pub name: String,
    pub primary_country: Option<String>,
    /// RFC 3339 instant.
    pub auth_international_start: Option<String>,
    /// Country → RFC 3339 instant.
    pub auth_international_exceptions: BTreeMap<String, String>,
    /// AIP-1.
    pub ai_provider: bool,
}

/// One `[[waba]]` as written; a missing time zone is UTC, a missing currency USD.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WabaSettings {
    pub id: String,
    pub timezone: Option<String>,
    pub currency: Option<String>,
}

/// A whole accounts file as written, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountsSettings {
    pub portfolio: Option<PortfolioSettings>,
    pub wabas: Vec<WabaSettings>,
    pub provider: Option<ProviderSettings>,
}

fn instant(key: &str, v: &str) -> Result<i64, AccountsError> {
    DateTime::parse_from_rfc3339(v.trim())
        .map(|d| d.timestamp_micros())
        .map_err(|e| AccountsError::Value {
            key: key.into(),
            value: v.into(),
            message: format!("not an RFC 3339 instant ({e})"),
        })
}

/// An exact, non-negative decimal.
fn exact_decimal(key: &str, v: &DecimalSetting) -> Result<Decimal, AccountsError> {
    let bad = |shown: String, message: &str| AccountsError::Value {
        key: key.into(),
        value: shown,
        message: message.into(),
    };
    let Some(text) = &v.text else {
        return Err(bad(v.shown.clone(), "expected a decimal number"));
    };
    let d: Decimal = text
        .parse()
        .map_err(|_| bad(text.clone(), "expected a decimal number"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(bad(text.clone(), "must not be negative"));
    }
    Ok(d.normalize())
}

/// A per-message fee: exact to 6 places, at most [`Money::MAX_RATE`].
fn fee(key: &str, v: &Option<DecimalSetting>) -> Result<Option<Money>, AccountsError> {
    let Some(v) = v else { return Ok(None) };
    let d = exact_decimal(key, v)?;
    let bad = |message: String| AccountsError::Value {
        key: key.into(),
        value: d.to_string(),
        message,
    };
    let m = Money::from_decimal(d).map_err(|e| bad(e.to_string()))?;
    if m > Money::MAX_RATE {
        return Err(bad(format!(
            "above the largest fee per message wabill accepts ({})",
            Money::MAX_RATE
        )));
    }
    Ok(Some(m))
}

/// The largest markup a provider can add: 100 (10,000 % of Meta's charge). Beyond it the value is
/// a mistake, and products with Meta's charges could no longer be held exactly.
pub const MAX_MARKUP: Decimal = Decimal::ONE_HUNDRED;

/// The characters a WABA id cannot have: it is matched with the log's trimmed `waba` cells and
/// printed in tables.
fn check_waba_id(i: usize, id: &str) -> Result<(), AccountsError> {
    let bad = |message: &str| {
        Err(AccountsError::Value {
            key: format!("waba[{i}].id"),
            value: id.to_string(),
            message: message.into(),
        })
    };
    if id.trim().is_empty() {
        bad("empty WABA id: rows name their WABA by id")
    } else if id.trim() != id {
        bad("WABA id with leading or trailing spaces: the log's `waba` cells are trimmed, so no row could name it")
    } else if id.chars().any(char::is_control) {
        bad("WABA id with a control character (a line break, a tab, an escape)")
    } else {
        Ok(())
    }
}

impl Provider {
    /// `[provider]`: every fee an exact, non-negative amount; markups by known category.
    pub fn from_settings(p: ProviderSettings) -> Result<Provider, AccountsError> {
        let mut markup = Vec::new();
        for (cat, v) in &p.markup {
            let key = format!("provider.markup.{cat}");
            let col = RateColumn::from_id(cat.trim()).ok_or_else(|| AccountsError::Value {
                key: key.clone(),
                value: v.shown.clone(),
                message: format!(
                    "unknown category `{cat}` (expected one of {})",
                    RateColumn::ALL.map(|c| c.id()).join(", ")
                ),
            })?;
            let factor = exact_decimal(&key, v)?;
            if factor > MAX_MARKUP {
                return Err(AccountsError::Value {
                    key,
                    value: v.shown.clone(),
                    message: format!(
                        "a markup is a fraction of Meta's charge (0.06 = 6 %), at most {MAX_MARKUP}"
                    ),
                });
            }
            markup.push((col, factor));
        }
        markup.sort_by_key(|(c, _)| *c);
        Ok(Provider {
            name: p.name,
            per_message_sent: fee("provider.per_message_sent", &p.per_message_sent)?,
            per_message_received: fee("provider.per_message_received", &p.per_message_received)?,
            per_failed_message: fee("provider.per_failed_message", &p.per_failed_message)?,
            markup,
        })
    }
}

fn country(key: &str, v: &str) -> Result<Country, AccountsError> {
    Country::parse(v)
        .filter(Country::is_assigned)
        .ok_or_else(|| AccountsError::Value {
            key: key.into(),
            value: v.into(),
            message: "not an assigned ISO 3166 alpha-2 country code".into(),
        })
}

impl Portfolio {
    /// `[portfolio]`: the primary country and the PMP-6 instants.
    pub fn from_settings(p: PortfolioSettings) -> Result<Portfolio, AccountsError> {
        let mut portfolio = Portfolio {
            name: p.name,
            ai_provider: p.ai_provider,
            ..Portfolio::default()
        };
        if let Some(c) = p.primary_country {
            portfolio.primary_country = Some(country("portfolio.primary_country", &c)?);
        }
        if let Some(s) = p.auth_international_start {
            portfolio.auth_international_start =
                Some(instant("portfolio.auth_international_start", &s)?);
        }
        for (c, s) in p.auth_international_exceptions {
            let key = format!("portfolio.auth_international_exceptions.{c}");
            portfolio
                .auth_international_exceptions
                .push((country(&key, &c)?, instant(&key, &s)?));
        }
        Ok(portfolio)
    }
}

impl Waba {
    /// The `i`-th `[[waba]]` (0-based, for messages): an IANA time zone and an ISO 4217 code.
    pub fn from_settings(i: usize, w: WabaSettings) -> Result<Waba, AccountsError> {
        check_waba_id(i, &w.id)?;
        let timezone = w.timezone.unwrap_or_else(|| "UTC".into());
        let currency = w.currency.unwrap_or_else(|| "USD".into());
        let tz: Tz = timezone.trim().parse().map_err(|_| AccountsError::Value {
            key: format!("waba[{i}].timezone"),
            value: timezone.clone(),
            message: "not an IANA time zone name".into(),
        })?;
        let cur = currency.trim().to_ascii_uppercase();
        if cur.len() != 3 || !cur.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(AccountsError::Value {
                key: format!("waba[{i}].currency"),
                value: currency,
                message: "not an ISO 4217 currency code".into(),
            });
        }
        Ok(Waba {
            id: w.id,
            tz,
            currency: cur,
        })
    }
}

impl Accounts {
    /// Without an accounts file: one WABA `default`, UTC, USD, not eligible for PMP-6.
    pub fn default_single() -> Accounts {
        Accounts {
            portfolio: Portfolio::default(),
            wabas: vec![Waba {
                id: "default".into(),
                tz: Tz::UTC,
                currency: "USD".into(),
            }],
            provider: None,
            currency_choice: None,
            max_prices: Vec::new(),
        }
    }

    /// A whole accounts file, checked in the order it reads: `[provider]`, `[portfolio]`, each
    /// `[[waba]]` (at least one, ids unique), then CONV-6 (one currency).
    pub fn from_settings(s: AccountsSettings) -> Result<Accounts, AccountsError> {
        let provider = s.provider.map(Provider::from_settings).transpose()?;
        let portfolio = match s.portfolio {
            Some(p) => Portfolio::from_settings(p)?,
            None => Portfolio::default(),
        };
        if s.wabas.is_empty() {
            return Err(AccountsError::NoWaba);
        }
        let mut wabas: Vec<Waba> = Vec::new();
        for (i, w) in s.wabas.into_iter().enumerate() {
            let w = Waba::from_settings(i, w)?;
            if wabas.iter().any(|x| x.id == w.id) {
                return Err(AccountsError::Value {
                    key: format!("waba[{i}].id"),
                    value: w.id,
                    message: "duplicate WABA id".into(),
                });
            }
            wabas.push(w);
        }
        Ok(Accounts {
            portfolio,
            wabas,
            provider,
            currency_choice: None,
            max_prices: Vec::new(),
        })
    }

    /// CONV-6: the one currency of the replay, or an error naming every WABA and its currency.
    pub fn currency(&self) -> Result<String, AccountsError> {
        if let Some(c) = &self.currency_choice {
            return Ok(c.clone());
        }
        let first = &self.wabas[0].currency;
        if self.wabas.iter().all(|w| &w.currency == first) {
            Ok(first.clone())
        } else {
            Err(AccountsError::MixedCurrency(
                self.wabas
                    .iter()
                    .map(|w| format!("{} ({})", w.id, w.currency))
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
        }
    }

    /// CUR-1: bill only the WABAs of `code` (ISO 4217, any case); an error when none is.
    pub fn choose_currency(&mut self, code: &str) -> Result<(), AccountsError> {
        let code = code.trim().to_ascii_uppercase();
        if !self.wabas.iter().any(|w| w.currency == code) {
            let mut all: Vec<&str> = self.wabas.iter().map(|w| w.currency.as_str()).collect();
            all.sort();
            all.dedup();
            return Err(AccountsError::NoSuchCurrency(code, all.join(", ")));
        }
        self.currency_choice = Some(code);
        Ok(())
    }

    /// MAXP-1: the max price marketing to `market` is sent with, if any.
    pub fn max_price(&self, market: crate::markets::MarketId) -> Option<crate::money::Money> {
        if self.max_prices.is_empty() {
            return None;
        }
        self.max_prices
            .iter()
            .find(|(m, _)| *m == market)
            .map(|(_, p)| *p)
    }

    /// CUR-1: whether WABA `w`'s rows are billed in this replay (all, without `--currency`).
    pub fn bills_waba(&self, w: usize) -> bool {
        self.currency_choice
            .as_ref()
            .is_none_or(|c| &self.wabas[w].currency == c)
    }

    /// Index of the WABA a row names; an empty name means `default`, or the only WABA when the
    /// accounts file defines exactly one.
    pub fn waba_index(&self, name: &str) -> Option<usize> {
        let name = name.trim();
        if name.is_empty() {
            if let Some(i) = self.wabas.iter().position(|w| w.id == "default") {
                return Some(i);
            }
            return (self.wabas.len() == 1).then_some(0);
        }
        self.wabas.iter().position(|w| w.id == name)
    }

    /// The `waba` of a row from a source that names WABAs by Meta's id (webhooks, providers'
    /// exports): the id when the accounts name it; with a single WABA in the accounts, an id they
    /// do not name is that WABA (`""`); otherwise the id as given (an unknown WABA, rejected).
    pub fn meta_waba<'a>(&self, id: &'a str) -> &'a str {
        if self.wabas.len() == 1 && self.waba_index(id).is_none() {
            ""
        } else {
            id
        }
    }

    /// PMP-6: is an authentication message to a user of `country` at `ts` billed as
    /// authentication-international (before checking that the market has such a rate)?
    pub fn auth_international_applies(&self, country: Country, ts: i64) -> bool {
        let p = &self.portfolio;
        let (Some(primary), Some(start)) = (p.primary_country, p.auth_international_start) else {
            return false;
        };
        if primary == country || country == Country::UNKNOWN {
            return false;
        }
        let start = p
            .auth_international_exceptions
            .iter()
            .find(|(c, _)| *c == country)
            .map(|(_, s)| *s)
            .unwrap_or(start);
        ts >= start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    fn waba(id: &str, currency: &str) -> WabaSettings {
        WabaSettings {
            id: id.into(),
            timezone: None,
            currency: Some(currency.into()),
        }
    }

    #[test]
    fn pmp6_exceptions_start_later_and_the_primary_country_is_never_international() {
        let a = Accounts::from_settings(AccountsSettings {
            portfolio: Some(PortfolioSettings {
                name: "Acme Retail".into(),
                primary_country: Some("IN".into()),
                auth_international_start: Some("2024-07-01T00:00:00Z".into()),
                auth_international_exceptions: [("ID".into(), "2024-08-01T00:00:00Z".into())]
                    .into(),
                ai_provider: false,
            }),
            wabas: vec![waba("acme-in", "usd")],
            provider: None,
        })
        .unwrap();
        assert_eq!(a.wabas[0].tz, Tz::UTC);
        assert_eq!(a.wabas[0].currency, "USD");
        assert!(!a.auth_international_applies(Country(*b"ID"), t("2024-07-15T00:00:00Z")));
        assert!(a.auth_international_applies(Country(*b"ID"), t("2024-08-01T00:00:00Z")));
        assert!(a.auth_international_applies(Country(*b"BR"), t("2024-07-01T00:00:00Z")));
        assert!(!a.auth_international_applies(Country(*b"IN"), t("2025-07-01T00:00:00Z")));
        assert_eq!(a.waba_index(""), Some(0));
    }

    #[test]
    fn conv6_one_currency_per_replay() {
        let a = Accounts::from_settings(AccountsSettings {
            wabas: vec![waba("a", "USD"), waba("b", "EUR")],
            ..AccountsSettings::default()
        })
        .unwrap();
        assert!(a
            .currency()
            .unwrap_err()
            .to_string()
            .contains("a (USD), b (EUR)"));
    }

    #[test]
    fn cur1_a_replay_bills_the_wabas_of_the_chosen_currency() {
        let mut a = Accounts::from_settings(AccountsSettings {
            wabas: vec![waba("a", "USD"), waba("b", "EUR"), waba("c", "usd")],
            ..AccountsSettings::default()
        })
        .unwrap();
        a.choose_currency("usd").unwrap();
        assert_eq!(a.currency().unwrap(), "USD");
        assert_eq!(
            (0..3).map(|w| a.bills_waba(w)).collect::<Vec<_>>(),
            [true, false, true]
        );
        assert_eq!(
            a.choose_currency("MXN").unwrap_err().to_string(),
            "--currency MXN: no WABA of the accounts is billed in MXN (they are: EUR, USD) (CUR-1)"
        );
    }

    #[test]
    fn values_are_checked_with_key_and_value_in_the_message() {
        let e = Accounts::from_settings(AccountsSettings {
            wabas: vec![waba("a", "USD"), waba("a", "USD")],
            ..AccountsSettings::default()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "accounts: `waba[1].id` = `a`: duplicate WABA id"
        );
        let e = Accounts::from_settings(AccountsSettings::default()).unwrap_err();
        assert_eq!(e.to_string(), "accounts: no [[waba]] defined");
        let sent = |text: Option<&str>, shown: &str| ProviderSettings {
            per_message_sent: Some(DecimalSetting {
                text: text.map(String::from),
                shown: shown.into(),
            }),
            ..ProviderSettings::default()
        };
        let e = Provider::from_settings(sent(None, "true")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "accounts: `provider.per_message_sent` = `true`: expected a decimal number"
        );
        let e = Provider::from_settings(sent(Some("-1"), "-1")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "accounts: `provider.per_message_sent` = `-1`: must not be negative"
        );
        let p = Provider::from_settings(sent(Some("0.00100"), "0.001")).unwrap();
        assert_eq!(p.per_message_sent, Some(Money(1_000)));
    }

    #[test]
    fn overflow_fees_and_markups_beyond_the_bounds_are_refused() {
        let sent = ProviderSettings {
            per_message_sent: Some(DecimalSetting {
                text: Some("9223372036854".into()),
                shown: "9223372036854".into(),
            }),
            ..ProviderSettings::default()
        };
        assert_eq!(
            Provider::from_settings(sent).unwrap_err().to_string(),
            "accounts: `provider.per_message_sent` = `9223372036854`: above the largest fee per message wabill accepts (1000000.0000)"
        );
        let huge = "79228162514264337593543950335";
        let markup = ProviderSettings {
            markup: [(
                "marketing".to_string(),
                DecimalSetting {
                    text: Some(huge.into()),
                    shown: huge.into(),
                },
            )]
            .into(),
            ..ProviderSettings::default()
        };
        assert_eq!(
            Provider::from_settings(markup).unwrap_err().to_string(),
            format!("accounts: `provider.markup.marketing` = `{huge}`: a markup is a fraction of Meta's charge (0.06 = 6 %), at most 100")
        );
    }

    #[test]
    fn waba_ids_that_no_row_could_name_are_refused() {
        for (id, why) in [
            ("", "empty WABA id"),
            ("  ", "empty WABA id"),
            ("default ", "leading or trailing spaces"),
            (" acme", "leading or trailing spaces"),
            ("a\nb", "control character"),
        ] {
            let e = Accounts::from_settings(AccountsSettings {
                wabas: vec![waba("ok", "USD"), waba(id, "USD")],
                ..AccountsSettings::default()
            })
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with(&format!("accounts: `waba[1].id` = `{id}`: ")),
                "{e}"
            );
            assert!(e.contains(why), "{e}");
        }
    }
}
