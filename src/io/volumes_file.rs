//! The estimate file's TOML syntax: volumes read into [`Volumes`] (the pricing is
//! `billing::estimate`).
//!
//! ```toml
//! service_numbers = 2          # optional, default 1
//! [[volume]]
//! month = "2026-10"
//! market = "India"
//! category = "utility"
//! messages = 250000
//! waba = "acme-in"             # optional
//! ```

use serde::Deserialize;

use crate::billing::estimate::{EstimateError, Volume, Volumes};
use crate::billing::money::Money;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    service_numbers: Option<toml::Value>,
    #[serde(default)]
    volume: Vec<RawVolume>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVolume {
    month: Option<toml::Value>,
    market: Option<toml::Value>,
    category: Option<toml::Value>,
    messages: Option<toml::Value>,
    /// MBA-1: `meta_business_agent` volumes are tokens.
    tokens: Option<toml::Value>,
    /// CALL-3: `call` volumes are minutes.
    minutes: Option<toml::Value>,
    /// MAXP-1: a marketing volume sent with a max price.
    max_price: Option<toml::Value>,
    waba: Option<toml::Value>,
}

fn value_err(key: &str, value: &toml::Value, message: &str) -> EstimateError {
    EstimateError::Value {
        key: key.to_string(),
        value: value.to_string(),
        message: message.into(),
    }
}

fn text(key: &str, v: &Option<toml::Value>, required: bool) -> Result<String, EstimateError> {
    match v {
        None if required => Err(EstimateError::Syntax(format!("missing key `{key}`"))),
        None => Ok(String::new()),
        Some(toml::Value::String(s)) => Ok(s.trim().to_string()),
        Some(other) => Err(value_err(key, other, "expected a string")),
    }
}

/// A whole number: a TOML integer, or a string that may group digits with `_` or `,`.
fn whole(key: &str, v: &toml::Value) -> Result<u64, EstimateError> {
    match v {
        toml::Value::Integer(i) if *i >= 0 => Ok(*i as u64),
        toml::Value::Integer(_) => Err(value_err(key, v, "must not be negative")),
        toml::Value::String(s) => s
            .trim()
            .replace(['_', ','], "")
            .parse()
            .map_err(|_| value_err(key, v, "expected a whole number of messages")),
        _ => Err(value_err(key, v, "expected a whole number of messages")),
    }
}

/// Parse an estimate file.
pub fn parse_volumes(text_: &str) -> Result<Volumes, EstimateError> {
    let raw: RawFile = toml::from_str(text_)
        .map_err(|e| EstimateError::Syntax(crate::io::text::toml_error(text_, &e)))?;
    let mut out = Volumes::default();
    if let Some(v) = &raw.service_numbers {
        let n = whole("service_numbers", v)?;
        out.set_service_numbers(n, &v.to_string())?;
    }
    for (i, r) in raw.volume.iter().enumerate() {
        let k = |f: &str| format!("volume[{i}].{f}");
        // The units the category is priced in: messages, tokens (MBA-1) or minutes (CALL-3).
        let units = [
            ("messages", &r.messages),
            ("tokens", &r.tokens),
            ("minutes", &r.minutes),
        ];
        let given: Vec<_> = units.iter().filter(|(_, v)| v.is_some()).collect();
        let messages = match given.as_slice() {
            [] => {
                return Err(EstimateError::Syntax(format!(
                    "missing key `{}`",
                    k("messages")
                )))
            }
            [(name, Some(v))] => whole(&k(name), v)?,
            _ => {
                return Err(EstimateError::Syntax(format!(
                    "`{}`: give one of messages, tokens or minutes",
                    k("messages")
                )))
            }
        };
        let max_price = match &r.max_price {
            None => None,
            Some(v) => {
                let text = match v {
                    toml::Value::String(s) => s.trim().to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Integer(i) => i.to_string(),
                    _ => String::new(),
                };
                Some(Money::parse_rate(&text).map_err(|_| {
                    value_err(
                        &k("max_price"),
                        v,
                        "expected an amount of at most 6 decimal places (MAXP-1)",
                    )
                })?)
            }
        };
        out.volumes.push(Volume {
            origin: format!("volume[{i}]"),
            month: text(&k("month"), &r.month, true)?,
            market: text(&k("market"), &r.market, true)?,
            category: text(&k("category"), &r.category, true)?,
            messages,
            max_price,
            waba: text(&k("waba"), &r.waba, false)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_file_errors_name_the_key() {
        let e = parse_volumes(
            "[[volume]]\nmonth = \"2026-10\"\nmarket = \"India\"\ncategory = \"utility\"\n",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "volumes: missing key `volume[0].messages`");
        let e = parse_volumes("[[volume]]\nmonth = 2026\nmessages = 1\n").unwrap_err();
        assert!(e.to_string().contains("volume[0].month"), "{e}");
        let e = parse_volumes("[[volume]]\nmonths = 1\n").unwrap_err();
        assert!(e.to_string().contains("months"), "{e}");
        let e = parse_volumes("service_numbers = 0\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "volumes: `service_numbers` = `0`: expected between 1 and 100000"
        );
        let v = parse_volumes(
            "service_numbers = 3\n[[volume]]\nmonth = \"2026-10\"\nmarket = \"India\"\ncategory = \"utility\"\nmessages = \"250,000\"\n",
        )
        .unwrap();
        assert_eq!(v.service_numbers, 3);
        assert_eq!(v.volumes[0].messages, 250_000);
    }
}
