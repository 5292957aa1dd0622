//! An engineer's own property test with `wabill_testing` (README: "Testing your own flows"):
//! a login flow that sends one OTP per login — retried after a failed delivery — costs at most
//! one authentication message per login, whatever the rate card, the rulebook since cbp-2023,
//! the user's market and the timing of the logins.
//!
//! Only the public API of `wabill_testing` is used: a copy of this file works in another crate
//! with `wabill = { …, features = ["testing"] }` in its `[dev-dependencies]`.

use proptest::prelude::*;
use proptest::sample::select;
use wabill::billing::engine::Unit;
use wabill::billing::money::Money;
use wabill::billing::types::{Billed, RateColumn, Rulebook};
use wabill_testing::{arb_rates, minutes, seconds, FlowBuilder, LogSpec, EDGE_ANCHORS};

/// Users in India (the portfolio's primary country), Brazil and Indonesia (authentication-
/// international when eligible, PMP-6).
const USERS: [&str; 3] = ["+91 98000 00001", "+55 11 91234 5678", "+62 812 3456 7890"];

/// One login: minutes after the start, which user, how many OTP deliveries failed before one
/// got through.
#[derive(Debug, Clone)]
struct Login {
    minute: i64,
    user: usize,
    failed_attempts: i64,
}

fn login() -> impl Strategy<Value = Login> {
    (0i64..10 * 24 * 60, 0..USERS.len(), 0i64..3).prop_map(|(minute, user, failed_attempts)| {
        Login {
            minute,
            user,
            failed_attempts,
        }
    })
}

/// The flow under test: every login sends an authentication template; a failed one is resent
/// 30 seconds later.
fn login_flow(start: &str, logins: &[Login], eligible: bool) -> FlowBuilder {
    let mut flow = FlowBuilder::new().start(start);
    if eligible {
        flow = flow.auth_international("IN", "2024-01-01T00:00:00Z");
    }
    for l in logins {
        flow = flow.user(USERS[l.user]);
        for k in 0..l.failed_attempts {
            flow = flow.failed_template(minutes(l.minute) + seconds(30 * k), "authentication");
        }
        flow = flow.template(
            minutes(l.minute) + seconds(30 * l.failed_attempts),
            "authentication",
        );
    }
    flow
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn one_otp_per_login_costs_at_most_one_authentication_message_per_login(
        logins in proptest::collection::vec(login(), 1..25),
        start in select(EDGE_ANCHORS[2..].to_vec()),
        rates in arb_rates(&LogSpec::default()),
        // cbp-2022 had no authentication category (business-initiated conversations instead).
        forced in select(vec![None, Some(Rulebook::Cbp2023), Some(Rulebook::Cbp2024), Some(Rulebook::Pmp2025), Some(Rulebook::Pmp2026)]),
        eligible in any::<bool>(),
    ) {
        let log = login_flow(start, &logins, eligible).rates(rates).build();
        let replay = log.replay(forced).expect("every market has rates");

        // What one authentication message can cost at most on these cards.
        let per_login = log.max_rate(&[
            RateColumn::Authentication,
            RateColumn::AuthenticationInternational,
        ]);
        let bound = Money(per_login.0 * logins.len() as i64);
        prop_assert!(replay.total <= bound, "{} logins cost {} > {}", logins.len(), replay.total, bound);

        // And nothing but authentication is ever charged; failed OTPs are never units.
        for (e, o) in log.events.iter().zip(&replay.outcomes) {
            if o.unit == Unit::Charged {
                prop_assert!(matches!(o.billed, Some(Billed::Authentication | Billed::AuthenticationInternational)), "row {}", e.row);
            }
        }
        let units = replay.outcomes.iter().filter(|o| o.unit != Unit::None).count();
        prop_assert!(units <= logins.len());
    }
}
