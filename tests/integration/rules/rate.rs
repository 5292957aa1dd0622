//! §5 of the spec: rate cards (RATE-1 … RATE-4); here, that only charged units need a rate.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;

#[test]
fn rate4_charged_units_need_a_rate_free_ones_do_not() {
    // RATE-4
    let t = at("2025-08-04T00:00:00Z");
    let mut log = Log::new();
    log.user("+999000000001", "AQ", "Nowhere");
    log.inbound(t);
    log.text(t + hours(1)); // free: no rate needed
    let result = run(&log, &utc_waba(), &Rates::standard());
    assert_eq!(result.total, Decimal::ZERO);

    log.template(t + hours(2), "marketing");
    let error = both(&log.events, &utc_waba(), &Rates::standard(), None).unwrap_err();
    assert_eq!(
        error,
        MissingRate {
            market: "Nowhere".into(),
            column: "marketing".into(),
            date: NaiveDate::from_ymd_opt(2025, 8, 4).unwrap(),
        }
    );
}
