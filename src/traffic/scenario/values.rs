//! Typed readers of a scenario's TOML values: each checks one value and names its key (dotted
//! path) and the value as written in the error. Shared by the file parser and `Scenario::set`.

use std::fmt;

use chrono::NaiveDate;
use toml::Value;

use super::{Reengagement, ScenarioError, Span};
use crate::traffic::countries::{supported_list, Country};

pub(super) type Res<T> = Result<T, ScenarioError>;

pub(super) fn number(key: &str, v: &Value) -> Res<f64> {
    match v {
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Integer(i) => Ok(*i as f64),
        _ => Err(ScenarioError::invalid(key, v, "expected a number")),
    }
}

pub(super) fn probability(key: &str, v: Option<&Value>, default: f64) -> Res<f64> {
    let Some(v) = v else { return Ok(default) };
    let p = number(key, v)?;
    if !(0.0..=1.0).contains(&p) {
        return Err(ScenarioError::invalid(
            key,
            v,
            "a probability or share must be between 0 and 1",
        ));
    }
    Ok(p)
}

pub(super) fn non_negative(key: &str, v: Option<&Value>, default: f64) -> Res<f64> {
    let Some(v) = v else { return Ok(default) };
    let x = number(key, v)?;
    if x < 0.0 {
        return Err(ScenarioError::invalid(key, v, "must not be negative"));
    }
    Ok(x)
}

pub(super) fn count(key: &str, v: &Value, min: i64, max: i64) -> Res<u32> {
    let Value::Integer(i) = v else {
        return Err(ScenarioError::invalid(key, v, "expected a whole number"));
    };
    if *i < 0 {
        return Err(ScenarioError::invalid(
            key,
            v,
            "a count must not be negative",
        ));
    }
    if *i < min || *i > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(*i as u32)
}

/// A span is written `[min, max]` or as one number (fixed value).
pub(super) fn span_f64(
    key: &str,
    v: Option<&Value>,
    default: Span<f64>,
    floor: f64,
    ceil: f64,
) -> Res<Span<f64>> {
    let Some(v) = v else { return Ok(default) };
    let (lo, hi) = span_parts(key, v)?;
    let (min, max) = (number(key, lo)?, number(key, hi)?);
    if min < 0.0 || max < 0.0 {
        return Err(ScenarioError::invalid(key, v, "must not be negative"));
    }
    if min < floor || max > ceil {
        return Err(ScenarioError::invalid(
            key,
            v,
            format!("values must be between {floor} and {ceil}"),
        ));
    }
    if min > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            "the first value (min) is larger than the second (max)",
        ));
    }
    Ok(Span { min, max })
}

pub(super) fn span_u32(
    key: &str,
    v: Option<&Value>,
    default: Span<u32>,
    floor: i64,
    ceil: i64,
) -> Res<Span<u32>> {
    let Some(v) = v else { return Ok(default) };
    let (lo, hi) = span_parts(key, v)?;
    let (min, max) = (count(key, lo, floor, ceil)?, count(key, hi, floor, ceil)?);
    if min > max {
        return Err(ScenarioError::invalid(
            key,
            v,
            "the first value (min) is larger than the second (max)",
        ));
    }
    Ok(Span { min, max })
}

pub(super) fn span_parts<'v>(key: &str, v: &'v Value) -> Res<(&'v Value, &'v Value)> {
    match v {
        Value::Array(a) if a.len() == 2 => Ok((&a[0], &a[1])),
        Value::Array(_) => Err(ScenarioError::invalid(
            key,
            v,
            "expected [min, max] or a single number",
        )),
        _ => Ok((v, v)),
    }
}

pub(super) fn string<'v>(key: &str, v: &'v Value) -> Res<&'v str> {
    v.as_str()
        .ok_or_else(|| ScenarioError::invalid(key, v, "expected a string"))
}

pub(super) fn boolean(key: &str, v: &Value) -> Res<bool> {
    match v {
        Value::Boolean(b) => Ok(*b),
        _ => Err(ScenarioError::invalid(key, v, "expected true or false")),
    }
}

pub(super) fn date(key: &str, v: Option<&Value>) -> Res<NaiveDate> {
    let Some(v) = v else {
        return Err(ScenarioError::Missing { key: key.into() });
    };
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
        _ => return Err(ScenarioError::invalid(key, v, "expected a date YYYY-MM-DD")),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| ScenarioError::invalid(key, v, "expected a date YYYY-MM-DD"))
}

pub(super) fn country(key: &str, code: &str, shown: &dyn fmt::Display) -> Res<Country> {
    Country::from_iso(code).ok_or_else(|| {
        ScenarioError::invalid(
            key,
            shown,
            format!(
                "unknown or unsupported country code {code:?} (supported: {})",
                supported_list()
            ),
        )
    })
}

/// `support.reengagement`: `"utility_template"` or `"wait_for_user"`.
pub(super) fn reengagement(key: &str, v: &Value) -> Res<Reengagement> {
    match string(key, v)? {
        "utility_template" => Ok(Reengagement::UtilityTemplate),
        "wait_for_user" => Ok(Reengagement::WaitForUser),
        _ => Err(ScenarioError::invalid(
            key,
            v,
            "expected \"utility_template\" or \"wait_for_user\"",
        )),
    }
}

/// A rate per user and month: beyond anything real it would only make the generator slow or
/// the log huge.
pub(super) fn plausible_rate(key: &str, x: f64) -> Res<f64> {
    if x > 1000.0 {
        Err(ScenarioError::invalid(
            key,
            x,
            "more than 1000 a month per user is not plausible",
        ))
    } else {
        Ok(x)
    }
}
