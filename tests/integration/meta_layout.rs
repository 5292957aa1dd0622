//! Meta's rate-card files as published (RATE-2, formats.md): `Pricing.csv` and `Tier Pricing.csv`
//! parsed from real fixtures, in other column orders and encodings, and every error naming its
//! line, column and value.

use std::str::FromStr;

use rust_decimal::Decimal;
use wabill::io::meta_layout::*;

const EUR_2026_07_PRICING: &str =
    include_str!("../fixtures/meta-layout/EUR-2026-07-01/Pricing.csv");
const USD_2026_07_TIERS: &str =
    include_str!("../fixtures/meta-layout/USD-2026-07-01/Tier Pricing.csv");
const USD_2026_10_PRICING: &str =
    include_str!("../fixtures/meta-layout/USD-2026-10-01/Pricing.csv");
const USD_2026_10_TIERS: &str =
    include_str!("../fixtures/meta-layout/USD-2026-10-01/Tier Pricing.csv");

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn rate(s: &str) -> RateCell {
    RateCell::Rate(d(s))
}

fn row<'a>(rows: &'a [PricingRow], market: &str) -> &'a PricingRow {
    rows.iter()
        .find(|r| r.market == market)
        .unwrap_or_else(|| panic!("no row for {market}"))
}

fn bands<'a>(rows: &'a [TierRow], market: &str, column: RateColumn) -> Vec<&'a TierRow> {
    rows.iter()
        .filter(|r| r.market == market && r.column == column)
        .collect()
}

/// (from, to, tier, rate, vs_list) of a band.
type Band = (u64, Option<u64>, String, Decimal, Option<String>);

fn summary(bands: &[&TierRow]) -> Vec<Band> {
    bands
        .iter()
        .map(|b| (b.from, b.to, b.tier.clone(), b.rate, b.vs_list.clone()))
        .collect()
}

fn expect_bands(spec: &[(u64, Option<u64>, &str, &str, &str)]) -> Vec<Band> {
    spec.iter()
        .map(|(f, t, tier, r, vs)| (*f, *t, tier.to_string(), d(r), Some(vs.to_string())))
        .collect()
}

fn cell_error(err: MetaLayoutError) -> (usize, String, String, String) {
    let text = err.to_string();
    match err {
        MetaLayoutError::Cell {
            line,
            column,
            value,
            message,
        } => {
            assert!(text.contains(&format!("line {line}")), "{text}");
            assert!(text.contains(&column), "{text}");
            assert!(text.contains(&format!("`{value}`")), "{text}");
            (line, column, value, message)
        }
        other => panic!("expected a cell error, got {other:?}"),
    }
}

// ------------------------------------------------------------------------------------------
// Pricing.csv fixtures

#[test]
fn eur_2026_07_pricing() {
    let rows = parse_pricing(EUR_2026_07_PRICING).unwrap();
    assert_eq!(rows.len(), 38);
    // The header spans lines 6-7 (quoted line break); the first market is on line 8.
    assert_eq!((rows[0].market.as_str(), rows[0].line), ("Argentina", 8));
    assert_eq!((rows[37].market.as_str(), rows[37].line), ("Other", 45));
    assert!(rows.iter().all(|r| r.currency_cell == "€"));

    let columns: Vec<RateColumn> = rows[0].cells.iter().map(|(c, _)| *c).collect();
    assert_eq!(
        columns,
        [
            RateColumn::Marketing,
            RateColumn::Utility,
            RateColumn::Authentication,
            RateColumn::AuthenticationInternational,
            RateColumn::Service,
        ]
    );

    let india = row(&rows, "India");
    assert_eq!(india.line, 17);
    assert_eq!(india.cell(RateColumn::Marketing), Some(&rate("0.0099")));
    assert_eq!(india.cell(RateColumn::Utility), Some(&rate("0.0012")));
    assert_eq!(
        india.cell(RateColumn::Authentication),
        Some(&rate("0.0012"))
    );
    assert_eq!(
        india.cell(RateColumn::AuthenticationInternational),
        Some(&rate("0.0252"))
    );
    assert_eq!(india.cell(RateColumn::Service), Some(&RateCell::NotOffered));
    assert_eq!(india.cell(RateColumn::BusinessInitiated), None);

    let argentina = row(&rows, "Argentina");
    assert_eq!(
        argentina.cell(RateColumn::AuthenticationInternational),
        Some(&RateCell::NotOffered)
    );
    assert_eq!(argentina.cell(RateColumn::Marketing), Some(&rate("0.0512")));

    let egypt = row(&rows, "Egypt");
    // "0.0030" keeps its written scale but equals 0.003.
    assert_eq!(egypt.cell(RateColumn::Utility), Some(&rate("0.003")));
    assert_eq!(
        row(&rows, "Rest of Central & Eastern Europe").cell(RateColumn::Utility),
        Some(&rate("0.0175"))
    );
}

#[test]
fn usd_2026_10_pricing() {
    let rows = parse_pricing(USD_2026_10_PRICING).unwrap();
    assert_eq!(rows.len(), 47);
    assert!(rows.iter().all(|r| r.currency_cell == "$US"));

    let kazakhstan = row(&rows, "Kazakhstan");
    assert_eq!(
        kazakhstan.cell(RateColumn::AuthenticationInternational),
        Some(&rate("0.16"))
    );
    assert_eq!(kazakhstan.cell(RateColumn::Service), Some(&rate("0.0180")));

    let bangladesh = row(&rows, "Bangladesh");
    assert_eq!(bangladesh.line, 9);
    assert_eq!(
        bangladesh.cell(RateColumn::AuthenticationInternational),
        Some(&RateCell::Unknown)
    );
    assert_eq!(
        bangladesh.cell(RateColumn::Marketing),
        Some(&rate("0.0732"))
    );

    assert_eq!(
        row(&rows, "India").cell(RateColumn::AuthenticationInternational),
        Some(&rate("0.0304"))
    );
    assert_eq!(
        row(&rows, "Argentina").cell(RateColumn::AuthenticationInternational),
        Some(&RateCell::NotOffered)
    );
    assert_eq!(
        row(&rows, "Nigeria").cell(RateColumn::AuthenticationInternational),
        Some(&rate("0.075"))
    );
    assert_eq!(rows.last().unwrap().market, "Other");
}

// ------------------------------------------------------------------------------------------
// Tier Pricing.csv fixtures

#[test]
fn usd_2026_07_tiers() {
    let rows = parse_tier_pricing(USD_2026_07_TIERS).unwrap();
    assert_eq!(rows.len(), 6 * 3 + 6);

    let utility = bands(&rows, "Egypt", RateColumn::Utility);
    assert_eq!(
        summary(&utility),
        expect_bands(&[
            (0, Some(100_000), "list", "0.0036", "0%"),
            (100_001, Some(1_000_000), "1", "0.0034", "-5%"),
            (1_000_001, Some(4_500_000), "2", "0.0032", "-10%"),
            (4_500_001, Some(40_000_000), "3", "0.0031", "-15%"),
            (40_000_001, Some(80_000_000), "4", "0.0029", "-20%"),
            (80_000_001, None, "5", "0.0027", "-25%"),
        ])
    );
    // The header spans lines 5-6; Egypt's bands are on lines 7-12.
    let lines: Vec<usize> = utility.iter().map(|b| b.line).collect();
    assert_eq!(lines, [7, 8, 9, 10, 11, 12]);

    let authentication = bands(&rows, "Egypt", RateColumn::Authentication);
    assert_eq!(
        summary(&authentication),
        expect_bands(&[
            (0, Some(300_000), "list", "0.0036", "0%"),
            (300_001, Some(2_000_000), "1", "0.0034", "-5%"),
            (2_000_001, Some(10_000_000), "2", "0.0032", "-10%"),
            (10_000_001, Some(20_000_000), "3", "0.0031", "-15%"),
            (20_000_001, Some(40_000_000), "4", "0.0029", "-20%"),
            (40_000_001, None, "5", "0.0027", "-25%"),
        ])
    );

    let international = bands(&rows, "Egypt", RateColumn::AuthenticationInternational);
    assert_eq!(
        summary(&international),
        expect_bands(&[
            (0, Some(300_000), "list", "0.0650", "0%"),
            (300_001, Some(2_000_000), "1", "0.0618", "-5%"),
            (2_000_001, Some(10_000_000), "2", "0.0585", "-10%"),
            (10_000_001, Some(20_000_000), "3", "0.0553", "-15%"),
            (20_000_001, Some(40_000_000), "4", "0.0520", "-20%"),
            (40_000_001, None, "5", "0.0488", "-25%"),
        ])
    );

    // The United Arab Emirates have only utility tiers (the other groups are n/a).
    let uae: Vec<&TierRow> = rows
        .iter()
        .filter(|r| r.market == "United Arab Emirates")
        .collect();
    assert_eq!(uae.len(), 6);
    assert!(uae.iter().all(|r| r.column == RateColumn::Utility));
    assert_eq!(
        summary(&uae),
        expect_bands(&[
            (0, Some(100_000), "list", "0.0157", "0%"),
            (100_001, Some(1_000_000), "1", "0.0149", "-5%"),
            (1_000_001, Some(4_500_000), "2", "0.0141", "-10%"),
            (4_500_001, Some(40_000_000), "3", "0.0133", "-15%"),
            (40_000_001, Some(80_000_000), "4", "0.0126", "-20%"),
            (80_000_001, None, "5", "0.0118", "-25%"),
        ])
    );
    assert_eq!(uae[0].line, 13);
}

#[test]
fn usd_2026_10_tiers() {
    let rows = parse_tier_pricing(USD_2026_10_TIERS).unwrap();
    assert_eq!(rows.len(), 6);
    let africa = bands(&rows, "Rest of Africa", RateColumn::Utility);
    assert_eq!(africa.len(), 6);
    assert_eq!(
        summary(&africa),
        expect_bands(&[
            (0, Some(100_000), "list", "0.0040", "0%"),
            (100_001, Some(1_000_000), "1", "0.0038", "-5%"),
            (1_000_001, Some(4_500_000), "2", "0.0036", "-10%"),
            (4_500_001, Some(40_000_000), "3", "0.0034", "-15%"),
            (40_000_001, Some(80_000_000), "4", "0.0032", "-20%"),
            (80_000_001, None, "5", "0.0030", "-25%"),
        ])
    );
    assert_eq!(africa.last().unwrap().to, None);
}

#[test]
fn detects_kind_by_content() {
    assert_eq!(
        detect_kind(EUR_2026_07_PRICING),
        Some(MetaFileKind::Pricing)
    );
    assert_eq!(
        detect_kind(USD_2026_10_PRICING),
        Some(MetaFileKind::Pricing)
    );
    assert_eq!(
        detect_kind(USD_2026_07_TIERS),
        Some(MetaFileKind::TierPricing)
    );
    assert_eq!(
        detect_kind(USD_2026_10_TIERS),
        Some(MetaFileKind::TierPricing)
    );
    assert_eq!(
        detect_kind(
            "\u{feff}Market,Currency,Business-Initiated,User-Initiated\r\nIndia,INR,0.5,0.3\r\n"
        ),
        Some(MetaFileKind::Pricing)
    );
    assert_eq!(detect_kind("timestamp,waba,recipient\n1,2,3\n"), None);
    assert_eq!(detect_kind(""), None);
}

#[test]
fn each_parser_refuses_the_other_layout() {
    assert!(matches!(
        parse_pricing(USD_2026_07_TIERS),
        Err(MetaLayoutError::NoHeader { .. })
    ));
    assert!(matches!(
        parse_tier_pricing(EUR_2026_07_PRICING),
        Err(MetaLayoutError::NoTierHeader { .. })
    ));
}

// ------------------------------------------------------------------------------------------
// Pricing.csv variants

#[test]
fn pricing_columns_in_another_order() {
    let text = "Rates for a test,,,,,\n\
                Service,\"Authentication -\nInternational\",Utility,MARKET,currency,marketing\n\
                n/a,0.0252,0.0012,India,₹,0.0099\n\
                0.02,,n/a,United Kingdom,£,0.0526\n";
    let rows = parse_pricing(text).unwrap();
    assert_eq!(rows.len(), 2);
    let india = &rows[0];
    assert_eq!(
        (
            india.line,
            india.market.as_str(),
            india.currency_cell.as_str()
        ),
        (4, "India", "₹")
    );
    assert_eq!(
        india.cells,
        vec![
            (RateColumn::Service, RateCell::NotOffered),
            (RateColumn::AuthenticationInternational, rate("0.0252")),
            (RateColumn::Utility, rate("0.0012")),
            (RateColumn::Marketing, rate("0.0099")),
        ]
    );
    let uk = &rows[1];
    assert_eq!((uk.line, uk.currency_cell.as_str()), (5, "£"));
    assert_eq!(uk.cell(RateColumn::Service), Some(&rate("0.02")));
    assert_eq!(
        uk.cell(RateColumn::AuthenticationInternational),
        Some(&RateCell::Unknown)
    );
    assert_eq!(uk.cell(RateColumn::Utility), Some(&RateCell::NotOffered));
    assert_eq!(uk.cell(RateColumn::Authentication), None);
}

#[test]
fn pricing_cbp_2022_columns() {
    let text = "Conversation-based pricing,,,\n\
                Effective June 1 2022,,,\n\
                ,,,\n\
                Market,Currency,Business-Initiated,User-Initiated\n\
                Australia,A$,0.0858,0.0515\n\
                India,USD,0.0399,N/A\n\
                ,,,\n";
    let rows = parse_pricing(text).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        PricingRow {
            line: 5,
            market: "Australia".into(),
            currency_cell: "A$".into(),
            cells: vec![
                (RateColumn::BusinessInitiated, rate("0.0858")),
                (RateColumn::UserInitiated, rate("0.0515")),
            ],
        }
    );
    assert_eq!(rows[1].currency_cell, "USD");
    assert_eq!(
        rows[1].cell(RateColumn::UserInitiated),
        Some(&RateCell::NotOffered)
    );
    assert_eq!(rows[1].cell(RateColumn::Marketing), None);
}

#[test]
fn pricing_crlf_and_bom() {
    let text = "\u{feff}\"Cost per message in USD, effective October 1, 2026\",,,,,,\r\n\
                ,,,,,,\r\n\
                Market,Currency,Marketing,Utility,Authentication,\"Authentication-\r\nInternational\",Service\r\n\
                India,$US,0.0118,0.0014,0.0014,0.0304,0.0014\r\n\
                \r\n\
                Bangladesh,$US,0.0732,0.0037,0.0037,,0.0037\r\n";
    let rows = parse_pricing(text).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].market.as_str(), rows[0].line), ("India", 5));
    assert_eq!((rows[1].market.as_str(), rows[1].line), ("Bangladesh", 7));
    assert_eq!(
        rows[0].cell(RateColumn::AuthenticationInternational),
        Some(&rate("0.0304"))
    );
    assert_eq!(
        rows[1].cell(RateColumn::AuthenticationInternational),
        Some(&RateCell::Unknown)
    );
    // The fixtures are CRLF already; with a BOM added they read the same.
    let with_bom = format!("\u{feff}{EUR_2026_07_PRICING}");
    assert_eq!(
        parse_pricing(&with_bom).unwrap(),
        parse_pricing(EUR_2026_07_PRICING).unwrap()
    );
    let tiers_with_bom = format!("\u{feff}{USD_2026_07_TIERS}");
    assert_eq!(
        parse_tier_pricing(&tiers_with_bom).unwrap(),
        parse_tier_pricing(USD_2026_07_TIERS).unwrap()
    );
    assert_eq!(
        detect_kind(&tiers_with_bom),
        Some(MetaFileKind::TierPricing)
    );
}

#[test]
fn pricing_short_rows_and_blank_rows() {
    // A market with nothing known, a short row (trailing cells missing), blank rows.
    let text = "Market,Currency,Marketing,Utility\n\
                ,,,\n\
                Other,$US\n\
                \n\
                Peru,$US,0.0703\n";
    let rows = parse_pricing(text).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 3);
    assert_eq!(
        rows[0].cells,
        vec![
            (RateColumn::Marketing, RateCell::Unknown),
            (RateColumn::Utility, RateCell::Unknown),
        ]
    );
    assert_eq!(rows[1].line, 5);
    assert_eq!(rows[1].cell(RateColumn::Marketing), Some(&rate("0.0703")));
    assert_eq!(rows[1].cell(RateColumn::Utility), Some(&RateCell::Unknown));
}

// ------------------------------------------------------------------------------------------
// Tier Pricing.csv variants

#[test]
fn tier_groups_located_by_the_group_row() {
    // Authentication first, then Utility with its columns in another order and no
    // `vs. List rate`; an extra column between the market and the groups; LF line endings.
    let text = "Volume tiers,,,,,,,,,,,\n\
                https://example.invalid/pricing,,,,,,,,,,,\n\
                ,,,Authentication,,,,,Utility,,,\n\
                ,,,Messages per month,,What we charge,,,,,,\n\
                \"Market\n(per rate card)\",Currency,Note,From,To,Rate type,Rate,vs. List rate,Rate,Rate type,From,To\n\
                India,$US,x,1,\"1,000\",List rate,0.0014,0%,0.0015,List rate,1,--\n\
                ,$US,,\"1,001\",--,Tier 1,0.0013,-5%,n/a,n/a,n/a,n/a\n";
    let rows = parse_tier_pricing(text).unwrap();
    assert_eq!(
        rows,
        vec![
            TierRow {
                line: 7,
                market: "India".into(),
                column: RateColumn::Authentication,
                tier: "list".into(),
                from: 1,
                to: Some(1000),
                rate: d("0.0014"),
                vs_list: Some("0%".into()),
            },
            TierRow {
                line: 7,
                market: "India".into(),
                column: RateColumn::Utility,
                tier: "list".into(),
                from: 1,
                to: None,
                rate: d("0.0015"),
                vs_list: None,
            },
            TierRow {
                line: 8,
                market: "India".into(),
                column: RateColumn::Authentication,
                tier: "1".into(),
                from: 1001,
                to: None,
                rate: d("0.0013"),
                vs_list: Some("-5%".into()),
            },
        ]
    );
}

// ------------------------------------------------------------------------------------------
// Errors

#[test]
fn error_no_header() {
    let err = parse_pricing("Some title,,\nAnother line,,\nFrance,€,0.07\n").unwrap_err();
    assert!(
        matches!(err, MetaLayoutError::NoHeader { line: 3 }),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("line 3: no header row found"),
        "{err}"
    );
    assert!(matches!(
        parse_pricing(""),
        Err(MetaLayoutError::NoHeader { line: 1 })
    ));
    let err = parse_tier_pricing("Title\nhttps://example.invalid\n").unwrap_err();
    assert!(
        matches!(err, MetaLayoutError::NoTierHeader { line: 2 }),
        "{err:?}"
    );
    // A tier header without the row of group names above it.
    let err =
        parse_tier_pricing("Market (per rate card),Currency,From,To,Rate type,Rate\n").unwrap_err();
    assert!(
        matches!(err, MetaLayoutError::NoGroupRow { line: 1 }),
        "{err:?}"
    );
}

#[test]
fn error_missing_or_duplicate_column() {
    let err = parse_pricing("Market,Marketing,Utility\nIndia,0.01,0.001\n").unwrap_err();
    assert!(
        matches!(&err, MetaLayoutError::MissingColumn { line: 1, column } if column == "Currency"),
        "{err:?}"
    );
    let err = parse_pricing("x\nMarket,Currency,Utility,utility\n").unwrap_err();
    assert!(
        matches!(
            &err,
            MetaLayoutError::DuplicateColumn {
                line: 2,
                first: 3,
                second: 4,
                ..
            }
        ),
        "{err:?}"
    );
    let err = parse_tier_pricing(
        ",,Utility,,\nMarket (per rate card),Currency,From,Rate type,Rate\nIndia,$US,0,List rate,0.1\n",
    )
    .unwrap_err();
    assert!(
        matches!(&err, MetaLayoutError::MissingColumn { line: 2, column } if column == "Utility: To"),
        "{err:?}"
    );
    assert!(err.to_string().contains("Utility: To"), "{err}");
}

#[test]
fn error_rate_not_a_number() {
    let mut text = USD_2026_10_PRICING.replacen("Kazakhstan,$US,0.0604", "Kazakhstan,$US,abc", 1);
    let (line, column, value, _) = cell_error(parse_pricing(&text).unwrap_err());
    assert_eq!(
        (line, column.as_str(), value.as_str()),
        (23, "Marketing", "abc")
    );

    text = EUR_2026_07_PRICING.replacen(
        "India,€,0.0099,0.0012,0.0012,0.0252",
        "India,€,0.0099,0.0012,0.0012,-0.0252",
        1,
    );
    let err = parse_pricing(&text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 17, column Authentication-International: negative rate: `-0.0252`"
    );
}

#[test]
fn error_rate_with_seven_decimals() {
    let text = "Market,Currency,Marketing,Utility\nIndia,₹,0.85,0.1150000\n";
    let err = parse_pricing(text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column Utility: rate has 7 decimal places (at most 6 allowed): `0.1150000`"
    );
    // Six places are fine.
    let rows = parse_pricing("Market,Currency,Utility\nIndia,₹,0.115000\n").unwrap();
    assert_eq!(rows[0].cell(RateColumn::Utility), Some(&rate("0.115")));
}

#[test]
fn error_values_without_a_market() {
    let text = "Market,Currency,Marketing\nIndia,₹,0.85\n,₹,0.80\n";
    let (line, column, value, message) = cell_error(parse_pricing(text).unwrap_err());
    assert_eq!((line, column.as_str(), value.as_str()), (3, "Market", ""));
    assert!(message.contains("missing market name"), "{message}");
}

#[test]
fn error_non_contiguous_band() {
    // Egypt's second utility band starts at 100,002 instead of 100,001 (line 8).
    let text = USD_2026_07_TIERS.replacen(
        ",$US,\"100,001\",\"1,000,000\",Tier 1,0.0034",
        ",$US,\"100,002\",\"1,000,000\",Tier 1,0.0034",
        1,
    );
    assert_ne!(text, USD_2026_07_TIERS);
    let err = parse_tier_pricing(&text).unwrap_err();
    let shown = err.to_string();
    let (line, column, value, message) = cell_error(err);
    assert_eq!(
        (line, column.as_str(), value.as_str()),
        (8, "Utility: From", "100,002")
    );
    assert!(
        message.contains("Egypt") && message.contains("line 7"),
        "{shown}"
    );
    assert!(message.contains("expected From 100001"), "{shown}");

    // A band after the open end (UAE's authentication group is n/a; utility gets a 7th band).
    let text = format!(
        "{USD_2026_10_TIERS},$US,\"80,000,001\",--,Tier 6,0.0029,-30%,n/a,n/a,n/a,n/a,n/a,n/a,n/a,n/a,n/a,n/a\r\n"
    );
    let (line, column, _, message) = cell_error(parse_tier_pricing(&text).unwrap_err());
    assert_eq!((line, column.as_str()), (13, "Utility: From"));
    assert!(
        message.contains("open-ended band of Rest of Africa on line 12"),
        "{message}"
    );

    // A first band that starts above 1.
    let text = ",,Utility,,,,\n,,,,,,\nMarket (per rate card),Currency,From,To,Rate type,Rate,vs. List rate\n\
                Chile,$US,5,--,List rate,0.02,0%\n";
    let (line, _, value, message) = cell_error(parse_tier_pricing(text).unwrap_err());
    assert_eq!((line, value.as_str()), (4, "5"));
    assert!(message.contains("must start at 0 or 1"), "{message}");
}

#[test]
fn error_bad_tier_cells() {
    let base =
        ",,Utility,,,,\nMarket (per rate card),Currency,From,To,Rate type,Rate,vs. List rate\n";
    let cases = [
        (
            "Chile,$US,0,\"10,00\",List rate,0.02,0%",
            "Utility: To",
            "10,00",
        ),
        ("Chile,$US,0,--,Gold,0.02,0%", "Utility: Rate type", "Gold"),
        ("Chile,$US,0,--,List rate,abc,0%", "Utility: Rate", "abc"),
        (
            "Chile,$US,0,--,List rate,0.0200001,0%",
            "Utility: Rate",
            "0.0200001",
        ),
        ("Chile,$US,0,--,List rate,,0%", "Utility: Rate", ""),
        (
            "Chile,$US,0,--,List rate,0.02,five",
            "Utility: vs. List rate",
            "five",
        ),
        ("Chile,$US,0,n/a,List rate,0.02,0%", "Utility: To", "n/a"),
        ("Chile,$US,10,5,List rate,0.02,0%", "Utility: To", "5"),
        (",$US,0,--,List rate,0.02,0%", "Market (per rate card)", ""),
    ];
    for (row, want_column, want_value) in cases {
        let text = format!("{base}{row}\n");
        let (line, column, value, _) = cell_error(parse_tier_pricing(&text).unwrap_err());
        assert_eq!(
            (line, column.as_str(), value.as_str()),
            (3, want_column, want_value),
            "{row}"
        );
    }
}

#[test]
fn line_numbers_count_every_physical_line() {
    // Blank lines before and inside the table, a quoted cell with a line break in a data
    // row, and old Mac line endings (a lone CR) all count as lines.
    let text = "\n\nMarket,Currency,Utility\n\n\"Rest of\nAfrica\",$US,0.0040\n\nPeru,$US,0.03\n";
    let rows = parse_pricing(text).unwrap();
    let lines: Vec<(usize, &str)> = rows.iter().map(|r| (r.line, r.market.as_str())).collect();
    assert_eq!(lines, [(5, "Rest of\nAfrica"), (8, "Peru")]);

    let text = "Title\rMarket,Currency,Utility\rIndia,$US,0.0014\rPeru,$US,abc\r";
    let (line, column, value, _) = cell_error(parse_pricing(text).unwrap_err());
    assert_eq!(
        (line, column.as_str(), value.as_str()),
        (4, "Utility", "abc")
    );
}
