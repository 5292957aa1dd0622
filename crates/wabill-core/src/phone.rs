//! MKT-1's validity check: whether a user's number is a valid number of its calling code by the
//! `phonenumber` library's metadata, and if not, why (too short, too long, outside every number
//! range). wabill still bills such a number in the market MKT-1 gives (Meta delivered the
//! message, and the metadata can lag behind new ranges) and reports it (`invalid-number`).
//!
//! The metadata's patterns are compiled here once per region, on first use, into plain `regex`
//! values: the library's own check goes through one regex cache behind a mutex (about 15 µs a
//! number, serialised across threads), which a replay resolving every distinct number in
//! parallel cannot afford. The test compares both on sample numbers.

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use phonenumber::Type;
use regex::Regex;

/// A descriptor's lengths and its pattern, anchored at both ends.
struct Pattern {
    lengths: Vec<u16>,
    re: Regex,
}

impl Pattern {
    fn of(d: &Descriptor) -> Option<Pattern> {
        let re = regex::RegexBuilder::new(&format!("^(?:{})$", d.national_number().as_str()))
            .ignore_whitespace(true)
            .build()
            .ok()?;
        Some(Pattern {
            lengths: d.possible_length().to_vec(),
            re,
        })
    }

    fn matches(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(nsn.len() as u16)))
            && self.re.is_match(nsn)
    }
}

/// The number types a valid number belongs to (libphonenumber's `getNumberType` ≠ UNKNOWN):
/// the common ones first.
const TYPES: [Type; 10] = [
    Type::Mobile,
    Type::FixedLine,
    Type::TollFree,
    Type::PremiumRate,
    Type::SharedCost,
    Type::Voip,
    Type::PersonalNumber,
    Type::Pager,
    Type::Uan,
    Type::Voicemail,
];

/// One region's patterns: the general one, then one per number type.
struct Region {
    general: Option<Pattern>,
    types: Vec<Pattern>,
}

impl Region {
    fn of(meta: &Metadata) -> Region {
        let d = meta.descriptors();
        Region {
            general: Pattern::of(d.general()),
            types: TYPES
                .iter()
                .filter_map(|&t| d.get(t))
                .filter_map(Pattern::of)
                .collect(),
        }
    }

    fn valid(&self, nsn: &str) -> bool {
        self.general.as_ref().is_some_and(|g| g.matches(nsn))
            && self.types.iter().any(|p| p.matches(nsn))
    }
}

/// Every region of the metadata, compiled on first use.
fn regions() -> &'static HashMap<String, OnceLock<Region>> {
    static REGIONS: OnceLock<HashMap<String, OnceLock<Region>>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        DATABASE
            .iter()
            .map(|m| (m.id().to_string(), OnceLock::new()))
            .collect()
    })
}

fn region(meta: &Metadata) -> Option<&'static Region> {
    regions()
        .get(meta.id())
        .map(|r| r.get_or_init(|| Region::of(meta)))
}

/// Why `digits` (country code and national number, no `+`) is not a valid number of its
/// calling code, by the library's metadata; `None` when it is valid in one of the code's
/// regions (`first`, the region MKT-1 found, is tried first). An unknown calling code is not
/// this check's business (MKT-1 rejects the row).
pub fn invalid_reason(digits: &str, first: Option<&str>) -> Option<String> {
    let db = &*DATABASE;
    let (code, nsn) = (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        db.region(&code).map(|_| (code, &digits[len..]))
    })?;
    let mut metas = db.by_code(&code)?;
    if let Some(f) = first {
        metas.sort_by_key(|m| m.id() != f);
    }
    if metas
        .iter()
        .any(|m| region(m).is_some_and(|r| r.valid(nsn)))
    {
        return None;
    }
    let main = metas.first()?;
    let d = main.descriptors();
    // The general lengths, or (the metadata often leaves them out) those of the number types.
    let mut lengths: Vec<u16> = d.general().possible_length().to_vec();
    if lengths.is_empty() {
        lengths = TYPES
            .iter()
            .filter_map(|&t| d.get(t))
            .flat_map(|t| t.possible_length().iter().copied())
            .collect();
        lengths.sort_unstable();
        lengths.dedup();
    }
    let n = nsn.len() as u16;
    let id = main.id();
    let why = if !lengths.is_empty() && !lengths.contains(&n) {
        let mut have: Vec<String> = lengths.iter().map(u16::to_string).collect();
        let last = have.pop().unwrap_or_default();
        let have = if have.is_empty() {
            last
        } else {
            format!("{} or {last}", have.join(", "))
        };
        format!("{n} digits after +{code}, where {id} numbers have {have}")
    } else {
        format!("outside every {id} number range")
    };
    Some(format!("not a valid +{code} number: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mkt1_validity_agrees_with_the_library() {
        for n in [
            "919876543210",
            "918899514848",
            "9800000001",
            "15550100",
            "12025550104",
            "14155552671",
            "447700900105",
            "447911123456",
            "5511987650002",
            "6281234567803",
            "77012345678",
            "79161234567",
            "18095550123",
            "441481256789",
            "4930123456",
            "8613800138000",
            "2348031234567",
            "971501234567",
        ] {
            let lib = phonenumber::parse(None, format!("+{n}"))
                .map(|p| p.is_valid())
                .unwrap_or(false);
            assert_eq!(invalid_reason(n, None).is_none(), lib, "+{n}");
        }
    }

    #[test]
    fn mkt1_reasons_say_what_is_wrong() {
        assert_eq!(
            invalid_reason("9800000001", None).unwrap(),
            "not a valid +98 number: 8 digits after +98, where IR numbers have 4, 5, 6, 7 or 10"
        );
        assert_eq!(
            invalid_reason("15550100", None).unwrap(),
            "not a valid +1 number: 7 digits after +1, where US numbers have 10"
        );
        assert_eq!(
            invalid_reason("11234567890", Some("US")).unwrap(),
            "not a valid +1 number: outside every US number range"
        );
        assert_eq!(invalid_reason("919876543210", Some("IN")), None);
    }
}
