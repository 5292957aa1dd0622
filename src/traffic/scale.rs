//! Aiming a scenario at a number of rows: a small pilot run measures rows per user, then the
//! audience is scaled to match. Same scenario, seed and target, same audience.

use crate::traffic::generate::generate;
use crate::traffic::scenario::Scenario;

/// Users in the pilot run (fewer if the scenario has fewer).
const PILOT_USERS: f64 = 2000.0;

/// Rows a user of `scenario` makes with `seed`, measured on a pilot run of at most
/// [`PILOT_USERS`] users: times the audience, the size of a run before it starts.
pub fn rows_per_user(scenario: &Scenario, seed: u64) -> f64 {
    let mut pilot = scenario.clone();
    let users = scenario.total_users().max(1) as f64;
    pilot.scale_audience((PILOT_USERS / users).min(1.0));
    let g = generate(&pilot, seed, &mut |_| {});
    g.summary.rows as f64 / g.summary.users.max(1) as f64
}

/// Scale `scenario`'s audience so that generating it with `seed` gives about `rows` rows.
/// Returns the rows per user the pilot measured.
pub fn scale_to_rows(scenario: &mut Scenario, seed: u64, rows: u64) -> f64 {
    let users = scenario.total_users().max(1) as f64;
    let per_user = rows_per_user(scenario, seed);
    if per_user > 0.0 {
        scenario.scale_audience(rows as f64 / per_user / users);
    }
    per_user
}
