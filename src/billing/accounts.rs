//! The accounts file (formats.md §2): the portfolio, its WABAs with time zone and currency.
//!
//! Parsing TOML text is pure, so it lives in the core; reading the file happens in `io`.

use std::collections::BTreeMap;

use chrono::DateTime;
use chrono_tz::Tz;
use serde::Deserialize;

use super::types::Country;

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
}

#[derive(Debug, Clone)]
pub struct Accounts {
    pub portfolio: Portfolio,
    pub wabas: Vec<Waba>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
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
    #[error("accounts: all WABAs must share one currency (CONV-6), found {0}")]
    MixedCurrency(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccounts {
    #[serde(default)]
    portfolio: Option<RawPortfolio>,
    #[serde(default)]
    waba: Vec<RawWaba>,
    /// Provider fees are read by `report::provider` (issue: scenarios); kept opaque here.
    #[serde(default)]
    provider: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPortfolio {
    #[serde(default)]
    name: String,
    #[serde(default)]
    primary_country: Option<String>,
    #[serde(default)]
    auth_international_start: Option<String>,
    #[serde(default)]
    auth_international_exceptions: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaba {
    id: String,
    #[serde(default = "utc")]
    timezone: String,
    #[serde(default = "usd")]
    currency: String,
}

fn utc() -> String {
    "UTC".into()
}
fn usd() -> String {
    "USD".into()
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

fn country(key: &str, v: &str) -> Result<Country, AccountsError> {
    Country::parse(v).ok_or_else(|| AccountsError::Value {
        key: key.into(),
        value: v.into(),
        message: "not an ISO 3166 alpha-2 country code".into(),
    })
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
        }
    }

    pub fn parse(text: &str) -> Result<Accounts, AccountsError> {
        let raw: RawAccounts =
            toml::from_str(text).map_err(|e| AccountsError::Toml(e.to_string().trim().into()))?;
        let _ = raw.provider;
        let mut portfolio = Portfolio::default();
        if let Some(p) = raw.portfolio {
            portfolio.name = p.name;
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
        }
        if raw.waba.is_empty() {
            return Err(AccountsError::NoWaba);
        }
        let mut wabas = Vec::new();
        for (i, w) in raw.waba.into_iter().enumerate() {
            let tz: Tz = w
                .timezone
                .trim()
                .parse()
                .map_err(|_| AccountsError::Value {
                    key: format!("waba[{i}].timezone"),
                    value: w.timezone.clone(),
                    message: "not an IANA time zone name".into(),
                })?;
            let cur = w.currency.trim().to_ascii_uppercase();
            if cur.len() != 3 || !cur.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(AccountsError::Value {
                    key: format!("waba[{i}].currency"),
                    value: w.currency,
                    message: "not an ISO 4217 currency code".into(),
                });
            }
            if wabas.iter().any(|x: &Waba| x.id == w.id) {
                return Err(AccountsError::Value {
                    key: format!("waba[{i}].id"),
                    value: w.id,
                    message: "duplicate WABA id".into(),
                });
            }
            wabas.push(Waba {
                id: w.id,
                tz,
                currency: cur,
            });
        }
        let acc = Accounts { portfolio, wabas };
        acc.currency()?;
        Ok(acc)
    }

    /// CONV-6: the one currency of the replay, or an error naming every WABA and its currency.
    pub fn currency(&self) -> Result<String, AccountsError> {
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

    #[test]
    fn parses_the_documented_example() {
        let a = Accounts::parse(
            r#"
[portfolio]
name = "Acme Retail"
primary_country = "IN"
auth_international_start = "2024-07-01T00:00:00Z"
auth_international_exceptions = { ID = "2024-08-01T00:00:00Z" }

[[waba]]
id = "acme-in"
timezone = "Asia/Kolkata"
currency = "USD"
"#,
        )
        .unwrap();
        assert_eq!(a.wabas[0].tz, chrono_tz::Asia::Kolkata);
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
        // PMP-6: exception for ID starts later
        assert!(!a.auth_international_applies(Country(*b"ID"), t("2024-07-15T00:00:00Z")));
        assert!(a.auth_international_applies(Country(*b"ID"), t("2024-08-01T00:00:00Z")));
        assert!(a.auth_international_applies(Country(*b"BR"), t("2024-07-01T00:00:00Z")));
        assert!(!a.auth_international_applies(Country(*b"IN"), t("2025-07-01T00:00:00Z")));
        assert_eq!(a.waba_index(""), Some(0));
    }

    #[test]
    fn conv_6_mixed_currencies_name_the_wabas() {
        let e =
            Accounts::parse("[[waba]]\nid='a'\ncurrency='USD'\n[[waba]]\nid='b'\ncurrency='EUR'\n")
                .unwrap_err();
        assert_eq!(
            e.to_string(),
            "accounts: all WABAs must share one currency (CONV-6), found a (USD), b (EUR)"
        );
    }

    #[test]
    fn bad_timezone_names_key_and_value() {
        let e = Accounts::parse("[[waba]]\nid='a'\ntimezone='Mars/Base'\n").unwrap_err();
        assert!(e.to_string().contains("waba[0].timezone"));
        assert!(e.to_string().contains("Mars/Base"));
    }
}
