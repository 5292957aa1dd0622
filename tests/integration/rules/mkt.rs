//! §4 of the spec: markets (MKT-1, MKT-2; MKT-3 is tested from the command line in `cli.rs`).
//! The user's market comes from the number (calling code, and the area code for +1 and +7)
//! through the project's country → market table, on the WABA-local date (the table is
//! effective-dated). These tests run the real engine on `FlowBuilder` logs, whose users get their
//! country from the number as a log row does.

use wabill_testing::{hours, FlowBuilder, TestLog};

/// The market each business message of `log` was priced in, in row order.
fn markets(log: &TestLog) -> Vec<String> {
    let bill = log.bill_of(None).expect("flat rates cover every market");
    bill.messages
        .into_iter()
        .filter(|m| m.reason.is_some())
        .map(|m| m.market)
        .collect()
}

/// One utility template (outside any CSW: charged) per number, an hour apart, from `start`.
fn one_template_each(start: &str, numbers: &[&str]) -> TestLog {
    let mut flow = FlowBuilder::new().start(start);
    for (i, number) in numbers.iter().enumerate() {
        flow = flow.user(number).template(hours(i as i64), "utility");
    }
    flow.build()
}

#[test]
fn mkt1_shared_calling_codes_split_by_area_code() {
    // MKT-1: +1 is North America for the US and Canada, Rest of Latin America for the Dominican
    // Republic, Jamaica and Puerto Rico, Other for other +1 countries; +7 is Russia, except
    // Kazakhstan (Other until 2026-09-30); a sub-region number counts as its main region.
    let log = one_template_each(
        "2025-08-04T00:00:00Z",
        &[
            "+1 202 555 0123",   // US
            "+1 416 555 0123",   // Canada
            "+1 809 555 0123",   // Dominican Republic
            "+1 876 555 0123",   // Jamaica
            "+1 787 555 0123",   // Puerto Rico
            "+1 242 357 0123",   // Bahamas: a +1 country not listed
            "+7 916 123 4567",   // Russia
            "+7 701 234 5678",   // Kazakhstan
            "+44 1481 256789",   // Guernsey, in the United Kingdom's market
            "+91 98000 00001",   // India
            "+55 11 90000 0001", // Brazil
        ],
    );
    assert_eq!(
        markets(&log),
        [
            "North America",
            "North America",
            "Rest of Latin America",
            "Rest of Latin America",
            "Rest of Latin America",
            "Other",
            "Russia",
            "Other",
            "United Kingdom",
            "India",
            "Brazil",
        ]
    );
}

#[test]
fn mkt2_countries_change_market_at_00_00_waba_time_on_the_table_date() {
    // MKT-2: Zimbabwe joins Rest of Africa on 2025-10-01, Singapore becomes a market on
    // 2026-07-01, Kazakhstan on 2026-10-01; the date is the WABA's (Tokyo, UTC+9).
    let zw = "+263 77 123 4567";
    let sg = "+65 8123 4567";
    let kz = "+7 701 234 5678";
    let log = FlowBuilder::new()
        .waba("tokyo", "Asia/Tokyo")
        .start("2025-09-30T14:59:59Z") // 23:59:59 in Tokyo
        .user(zw)
        .template(hours(0), "utility")
        .template(hours(1), "marketing") // 2025-10-01 00:59:59 in Tokyo
        .start("2026-06-30T14:59:59Z")
        .user(sg)
        .template(hours(0), "utility")
        .template(hours(1), "marketing")
        .start("2026-09-30T14:59:59Z")
        .user(kz)
        .template(hours(0), "utility")
        .template(hours(1), "marketing")
        .build();
    assert_eq!(
        markets(&log),
        [
            "Other",
            "Rest of Africa",
            "Rest of Asia Pacific",
            "Singapore",
            "Other",
            "Kazakhstan",
        ]
    );
}

/// MKT-1: the generators' market table (wabill-testing reads the shipped file on its own, over
/// the core only) is the table `io::market_map` reads from the same file.
#[test]
fn mkt1_generators_use_the_shipped_market_table_as_io_reads_it() {
    let text = std::fs::read_to_string(crate::common::root().join("rates/market_map.csv")).unwrap();
    let io = wabill::io::market_map::parse_market_map(&text).unwrap();
    let gen = wabill_testing::market_table();
    for date in ["2022-02-01", "2025-01-01", "2025-07-01", "2026-10-01"] {
        let date: chrono::NaiveDate = date.parse().unwrap();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let c = wabill::billing::types::Country([a, b]);
                assert_eq!(
                    gen.name(gen.market_of(c, date)),
                    io.name(io.market_of(c, date))
                );
            }
        }
    }
    for number in [
        "918920477880",
        "18095550123",
        "77012345678",
        "5511987654321",
        "447700900123",
    ] {
        assert_eq!(
            gen.country_of_number(number).ok(),
            io.country_of_number(number).ok()
        );
    }
}
