//! Meta's analytics responses (billing-rules.md §6) as returned by the Graph API:
//! `pricing_analytics` (per-message pricing) and `conversation_analytics` (conversation-based).
//!
//! ```json
//! {"pricing_analytics": {"data": [{"data_points": [
//!   {"start": 1748761200, "end": 1748847600, "country": "IN", "pricing_type": "REGULAR",
//!    "pricing_category": "MARKETING", "tier": "0:MAX", "volume": 1, "cost": 0.0107}]}]},
//!  "id": "<WABA_ID>"}
//! ```
//!
//! Costs are read exactly from the JSON text with `rust_decimal` (never through a float). A data
//! point that cannot be read is a [`Problem`] naming its JSON path; the others are still read.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::billing::meta::{MetaCategory, PricingType};
use crate::billing::reconcile::{Analytics, AnalyticsKind, DataPoint, Problem};
use crate::billing::types::Country;
use crate::io::log::{read_text, LogError};

#[derive(Deserialize)]
struct Envelope {
    pricing_analytics: Option<Section>,
    conversation_analytics: Option<Section>,
    /// Some responses (and examples) put `data` at the top.
    data: Option<Vec<Chunk>>,
    id: Option<String>,
}

#[derive(Deserialize)]
struct Section {
    #[serde(default)]
    data: Vec<Chunk>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    data_points: Vec<BTreeMap<String, Box<RawValue>>>,
}

/// Read an analytics response file.
pub fn read_analytics(path: &Path) -> Result<(Analytics, Vec<Problem>), LogError> {
    let text = read_text(path)?;
    parse_analytics(&text).map_err(|message| LogError::Fatal {
        path: path.display().to_string(),
        message,
    })
}

/// Parse a pricing_analytics or conversation_analytics response.
pub fn parse_analytics(text: &str) -> Result<(Analytics, Vec<Problem>), String> {
    let env: Envelope =
        serde_json::from_str(text).map_err(|e| format!("not an analytics response (JSON): {e}"))?;
    let (kind, section, chunks) =
        match (env.pricing_analytics, env.conversation_analytics, env.data) {
            (Some(s), None, _) => (Some(AnalyticsKind::Pricing), "pricing_analytics", s.data),
            (None, Some(s), _) => (
                Some(AnalyticsKind::Conversation),
                "conversation_analytics",
                s.data,
            ),
            (None, None, Some(d)) => (None, "", d),
            (Some(_), Some(_), _) => {
                return Err(
                    "both pricing_analytics and conversation_analytics: give one per file".into(),
                )
            }
            (None, None, None) => {
                return Err(
                    "no `pricing_analytics`, `conversation_analytics` or `data` field".into(),
                )
            }
        };
    // A bare `data` array: pricing analytics count `volume`, conversation analytics `conversation`.
    let kind = kind.unwrap_or_else(|| {
        let conv = chunks
            .iter()
            .flat_map(|c| &c.data_points)
            .any(|p| p.contains_key("conversation"));
        if conv {
            AnalyticsKind::Conversation
        } else {
            AnalyticsKind::Pricing
        }
    });
    let prefix = if section.is_empty() {
        String::new()
    } else {
        format!("{section}.")
    };
    let mut problems = Vec::new();
    let mut points = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        for (j, p) in c.data_points.iter().enumerate() {
            let path = format!("{prefix}data[{i}].data_points[{j}]");
            match point(p, kind) {
                Ok(dp) => points.push(dp),
                Err((field, value, message)) => problems.push(Problem {
                    source: "analytics",
                    line: None,
                    path: format!("{path}.{field}"),
                    value,
                    message,
                }),
            }
        }
    }
    Ok((
        Analytics {
            kind,
            id: env.id,
            points,
        },
        problems,
    ))
}

type PointError = (&'static str, String, String);

/// A string field's text, or a number's JSON text.
fn text(raw: &RawValue) -> String {
    serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_string())
}

fn point(
    p: &BTreeMap<String, Box<RawValue>>,
    kind: AnalyticsKind,
) -> Result<DataPoint, PointError> {
    let get = |k: &str| p.get(k).map(|r| text(r)).filter(|s| s != "null");
    let int = |k: &'static str, required: bool| -> Result<Option<i64>, PointError> {
        match get(k) {
            None if required => Err((k, String::new(), format!("missing `{k}`"))),
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| (k, s.clone(), "not an integer".into())),
        }
    };
    let start = int("start", true)?.unwrap_or_default();
    let end = int("end", true)?.unwrap_or_default();
    if end <= start {
        return Err(("end", end.to_string(), "ends before it starts".into()));
    }
    let country = match get("country") {
        None => None,
        Some(s) => Some(Country::parse(&s).ok_or((
            "country",
            s.clone(),
            "not an ISO 3166 alpha-2 code".to_string(),
        ))?),
    };
    let (type_key, cat_key, volume_key) = match kind {
        AnalyticsKind::Pricing => ("pricing_type", "pricing_category", "volume"),
        AnalyticsKind::Conversation => {
            ("conversation_type", "conversation_category", "conversation")
        }
    };
    let kind_v = match get(type_key) {
        None => None,
        Some(s) => Some(PricingType::parse(&s).ok_or((
            type_key,
            s.clone(),
            "unknown pricing type (expected REGULAR, FREE_CUSTOMER_SERVICE, FREE_ENTRY_POINT or FREE_TIER)"
                .to_string(),
        ))?),
    };
    // cbp-2022 conversations have a direction instead of a category.
    let category = match get(cat_key).filter(|s| !s.eq_ignore_ascii_case("unknown")) {
        Some(s) => Some(MetaCategory::parse(&s).ok_or((
            cat_key,
            s.clone(),
            "unknown category (expected MARKETING, MARKETING_LITE, UTILITY, AUTHENTICATION, AUTHENTICATION_INTERNATIONAL, SERVICE or REFERRAL_CONVERSION)"
                .to_string(),
        ))?),
        None => get("conversation_direction").and_then(|d| MetaCategory::parse(&d)),
    };
    let volume = int(volume_key, false)?
        .map(|v| u64::try_from(v).map_err(|_| (volume_key, v.to_string(), "negative".to_string())))
        .transpose()?;
    let cost = match get("cost") {
        None => None,
        Some(s) => {
            let t = s.trim();
            let d = t
                .parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(t))
                .map_err(|_| ("cost", s.clone(), "not a decimal number".to_string()))?;
            Some(d)
        }
    };
    Ok(DataPoint {
        start,
        end,
        country,
        kind: kind_v,
        category,
        volume,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metas_documented_example_exactly() {
        let (a, problems) = parse_analytics(
            r#"{"pricing_analytics": {"data": [{"data_points": [
              {"start": 1749106800, "end": 1749193200, "country": "IN", "tier": "0:750000",
               "pricing_type": "REGULAR", "pricing_category": "AUTHENTICATION_INTERNATIONAL",
               "volume": 2, "cost": 4.6},
              {"start": 1749193200, "end": 1749279600, "country": "IN",
               "pricing_type": "FREE_CUSTOMER_SERVICE", "pricing_category": "SERVICE",
               "volume": 2, "cost": 0},
              {"start": 1749193200, "end": 1749279600, "country": "IN",
               "pricing_type": "REGULAR", "pricing_category": "MARKETING_LITE",
               "volume": 1, "cost": "0.0107"},
              {"start": 1749193200, "end": 1749279600, "pricing_category": "SPAM", "volume": 1}
            ]}]}, "id": "102290129340398"}"#,
        )
        .unwrap();
        assert_eq!(a.kind, AnalyticsKind::Pricing);
        assert_eq!(a.id.as_deref(), Some("102290129340398"));
        assert_eq!(a.points.len(), 3);
        assert_eq!(a.points[0].cost, Some(Decimal::new(46, 1)));
        assert_eq!(a.points[2].cost, Some(Decimal::new(107, 4)));
        assert_eq!(
            a.points[0].category,
            Some(MetaCategory::AuthenticationInternational)
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(
            problems[0].path,
            "pricing_analytics.data[0].data_points[3].pricing_category"
        );
    }

    #[test]
    fn reads_conversation_analytics() {
        let (a, problems) = parse_analytics(
            r#"{"conversation_analytics": {"data": [{"data_points": [
              {"start": 1685602800, "end": 1685689200, "conversation": 3, "country": "US",
               "conversation_type": "FREE_ENTRY", "conversation_category": "SERVICE", "cost": 0.0}]}]}}"#,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(a.kind, AnalyticsKind::Conversation);
        assert_eq!(a.points[0].volume, Some(3));
        assert_eq!(a.points[0].kind, Some(PricingType::FreeEntryPoint));
    }
}
