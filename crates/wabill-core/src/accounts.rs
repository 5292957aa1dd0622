//! The accounts file (formats.md §2): the portfolio, its WABAs with time zone and currency, and
//! optionally the provider's fees (`[provider]`, see [`super::provider`]).
//!
//! Parsing TOML text is pure, so it lives in the core; reading the file happens in `io`.

use std::collections::BTreeMap;

use chrono::DateTime;
use chrono_tz::Tz;
use serde::Deserialize;

use rust_decimal::Decimal;

use super::money::Money;
use super::provider::Provider;
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
}

#[derive(Debug, Clone)]
pub struct Accounts {
    pub portfolio: Portfolio,
    pub wabas: Vec<Waba>,
    /// `[provider]`: fees on top of Meta's charges; `None` = Meta's bill only.
    pub provider: Option<Provider>,
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
    #[serde(default)]
    provider: Option<RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    #[serde(default)]
    name: String,
    per_message_sent: Option<toml::Value>,
    per_message_received: Option<toml::Value>,
    per_failed_message: Option<toml::Value>,
    #[serde(default)]
    markup: BTreeMap<String, toml::Value>,
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

/// An exact, non-negative decimal from a TOML string (`"0.0015"`) or number (`0.0015`). A TOML
/// float is read back through its shortest round-trip text, which is the literal as written for
/// anything up to 15 significant digits; write a string to be sure beyond that.
fn exact_decimal(key: &str, v: &toml::Value) -> Result<Decimal, AccountsError> {
    let bad = |shown: String, message: &str| AccountsError::Value {
        key: key.into(),
        value: shown,
        message: message.into(),
    };
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) if f.is_finite() => f.to_string(),
        other => return Err(bad(other.to_string(), "expected a decimal number")),
    };
    let d: Decimal = text
        .parse()
        .map_err(|_| bad(text.clone(), "expected a decimal number"))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(bad(text, "must not be negative"));
    }
    Ok(d.normalize())
}

fn fee(key: &str, v: &Option<toml::Value>) -> Result<Option<Money>, AccountsError> {
    let Some(v) = v else { return Ok(None) };
    let d = exact_decimal(key, v)?;
    Money::from_decimal(d)
        .map(Some)
        .map_err(|e| AccountsError::Value {
            key: key.into(),
            value: d.to_string(),
            message: e.to_string(),
        })
}

fn provider(p: RawProvider) -> Result<Provider, AccountsError> {
    let mut markup = Vec::new();
    for (cat, v) in &p.markup {
        let key = format!("provider.markup.{cat}");
        let col = RateColumn::from_id(cat.trim()).ok_or_else(|| AccountsError::Value {
            key: key.clone(),
            value: v.to_string(),
            message: format!(
                "unknown category `{cat}` (expected one of {})",
                RateColumn::ALL.map(|c| c.id()).join(", ")
            ),
        })?;
        markup.push((col, exact_decimal(&key, v)?));
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
            provider: None,
        }
    }

    pub fn parse(text: &str) -> Result<Accounts, AccountsError> {
        let raw: RawAccounts =
            toml::from_str(text).map_err(|e| AccountsError::Toml(e.to_string().trim().into()))?;
        let provider = raw.provider.map(provider).transpose()?;
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
        let acc = Accounts {
            portfolio,
            wabas,
            provider,
        };
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
    fn provider_fees_are_exact_decimals() {
        let a = Accounts::parse(
            r#"
[[waba]]
id = "a"
[provider]
name = "Acme BSP"
per_message_sent = 0.001
per_message_received = "0.0005"
per_failed_message = 0
markup = { marketing = 0.06, authentication_international = "0.125" }
"#,
        )
        .unwrap();
        let p = a.provider.unwrap();
        assert_eq!(p.name, "Acme BSP");
        assert_eq!(p.per_message_sent, Some(Money(1_000)));
        assert_eq!(p.per_message_received, Some(Money(500)));
        assert_eq!(p.per_failed_message, Some(Money::ZERO));
        assert_eq!(
            p.markup,
            vec![
                (RateColumn::Marketing, "0.06".parse().unwrap()),
                (
                    RateColumn::AuthenticationInternational,
                    "0.125".parse().unwrap()
                ),
            ]
        );
        assert!(Accounts::parse("[[waba]]\nid='a'\n")
            .unwrap()
            .provider
            .is_none());
    }

    #[test]
    fn bad_provider_values_name_key_and_value() {
        let e = |body: &str| {
            Accounts::parse(&format!("[[waba]]\nid='a'\n[provider]\n{body}\n"))
                .unwrap_err()
                .to_string()
        };
        let m = e("per_message_sent = 0.0000001");
        assert!(
            m.contains("provider.per_message_sent") && m.contains("6 decimal"),
            "{m}"
        );
        let m = e("per_message_sent = -1");
        assert!(
            m.contains("provider.per_message_sent") && m.contains("negative"),
            "{m}"
        );
        let m = e("markup = { marketting = 0.06 }");
        assert!(
            m.contains("provider.markup.marketting") && m.contains("unknown category"),
            "{m}"
        );
        let m = e("per_message_sent = \"abc\"");
        assert!(m.contains("`abc`"), "{m}");
        let m = e("monthly = 3");
        assert!(m.contains("monthly"), "{m}");
    }

    #[test]
    fn bad_timezone_names_key_and_value() {
        let e = Accounts::parse("[[waba]]\nid='a'\ntimezone='Mars/Base'\n").unwrap_err();
        assert!(e.to_string().contains("waba[0].timezone"));
        assert!(e.to_string().contains("Mars/Base"));
    }
}
