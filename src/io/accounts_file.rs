//! The accounts file's TOML syntax (formats.md §2): the text read into the plain values that the
//! core checks ([`Accounts::from_settings`]). Unknown keys are refused here, as TOML errors.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::io::text::toml_error;

use crate::billing::accounts::{
    Accounts, AccountsError, AccountsSettings, DecimalSetting, PortfolioSettings, ProviderSettings,
    WabaSettings,
};

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
    /// AIP-1.
    #[serde(default)]
    ai_provider: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaba {
    id: String,
    timezone: Option<String>,
    currency: Option<String>,
}

/// A decimal written as a TOML string (`"0.0015"`) or number (`0.0015`). A TOML float is read
/// back through its shortest round-trip text, which is the literal as written for anything up
/// to 15 significant digits; write a string to be sure beyond that.
fn decimal(v: toml::Value) -> DecimalSetting {
    let text = match &v {
        toml::Value::String(s) => Some(s.trim().to_string()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) if f.is_finite() => Some(f.to_string()),
        _ => None,
    };
    DecimalSetting {
        text,
        shown: v.to_string(),
    }
}

/// Parse and check an accounts file.
pub fn parse_accounts(text: &str) -> Result<Accounts, AccountsError> {
    let raw: RawAccounts =
        toml::from_str(text).map_err(|e| AccountsError::Toml(toml_error(text, &e)))?;
    Accounts::from_settings(AccountsSettings {
        portfolio: raw.portfolio.map(|p| PortfolioSettings {
            name: p.name,
            primary_country: p.primary_country,
            auth_international_start: p.auth_international_start,
            auth_international_exceptions: p.auth_international_exceptions,
            ai_provider: p.ai_provider,
        }),
        wabas: raw
            .waba
            .into_iter()
            .map(|w| WabaSettings {
                id: w.id,
                timezone: w.timezone,
                currency: w.currency,
            })
            .collect(),
        provider: raw.provider.map(|p| ProviderSettings {
            name: p.name,
            per_message_sent: p.per_message_sent.map(decimal),
            per_message_received: p.per_message_received.map(decimal),
            per_failed_message: p.per_failed_message.map(decimal),
            markup: p.markup.into_iter().map(|(k, v)| (k, decimal(v))).collect(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::billing::money::Money;
    use crate::billing::types::{Country, RateColumn};

    #[test]
    fn parses_the_documented_example() {
        let a = parse_accounts(
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
    fn conv6_mixed_currencies_name_the_wabas() {
        // CUR-1: such a portfolio loads, and is billed one currency at a time.
        let mut a =
            parse_accounts("[[waba]]\nid='a'\ncurrency='USD'\n[[waba]]\nid='b'\ncurrency='EUR'\n")
                .unwrap();
        assert_eq!(
            a.currency().unwrap_err().to_string(),
            "accounts: the WABAs are billed in several currencies (a (USD), b (EUR)); a replay bills one currency at a time (CONV-6): choose one with --currency CODE (CUR-1)"
        );
        a.choose_currency("eur").unwrap();
        assert_eq!(a.currency().unwrap(), "EUR");
        assert!(!a.bills_waba(0) && a.bills_waba(1));
        assert!(a.choose_currency("MXN").is_err());
    }

    #[test]
    fn provider_fees_are_exact_decimals() {
        let a = parse_accounts(
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
        assert!(parse_accounts("[[waba]]\nid='a'\n")
            .unwrap()
            .provider
            .is_none());
    }

    #[test]
    fn bad_provider_values_name_key_and_value() {
        let e = |body: &str| {
            parse_accounts(&format!("[[waba]]\nid='a'\n[provider]\n{body}\n"))
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
        let e = parse_accounts("[[waba]]\nid='a'\ntimezone='Mars/Base'\n").unwrap_err();
        assert!(e.to_string().contains("waba[0].timezone"));
        assert!(e.to_string().contains("Mars/Base"));
    }
}
