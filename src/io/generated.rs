//! Generated traffic straight into the engine: the generator's rows become a [`Log`] through the
//! same [`LogBuilder`] a log file goes through (same validation, same market resolution), with
//! no file and no CSV in between.
//!
//! Rows are handed over as field strings, exactly as a CSV reader would: the timestamp as
//! integer Unix seconds (a form the log accepts, and the cheapest to parse), the user and
//! business numbers as E.164, the country column from the generator, and the user and `user_id`
//! columns as the writer spells them for users known by a BSUID (MKT-4). The `id` column is left
//! out: the generator's ids are unique by construction, so the duplicate check has nothing to find.

use crate::billing::accounts::Accounts;
use crate::billing::markets::MarketTable;
use crate::io::log::{Log, LogBuilder, ReadOptions, RowSink};
use crate::traffic::{Direction, Generated, Known, Progress, Row, Scenario, Traffic};

/// Generates `scenario` with `seed` and reads the rows into a [`Log`] named `name`, with the
/// options of a file (`read.auto_rulebook`: business messages before 2022-02-01 are rejected
/// when the rulebook follows the date; `read.trace`: timings on stderr; no CSV reader is used).
pub fn log_from_scenario(
    scenario: &Scenario,
    seed: u64,
    name: &str,
    accounts: &Accounts,
    markets: &MarketTable,
    read: &ReadOptions,
    progress: &mut impl FnMut(Progress),
) -> (Log, Generated) {
    let traffic = Traffic::new(scenario, seed);
    let pop = traffic.population();
    let numbers: Vec<String> = (0..pop.numbers.len())
        .map(|n| pop.number_e164(n as u16))
        .collect();
    let bsuids: Vec<Option<String>> = if pop.has_bsuids() {
        (0..pop.users.len() as u32).map(|u| pop.bsuid(u)).collect()
    } else {
        Vec::new()
    };
    let mut b = LogBuilder::new(accounts, markets, read);
    let (mut ts, mut user) = (String::new(), String::new());
    let summary = traffic.run(
        &mut |r: &Row| {
            use std::fmt::Write;
            ts.clear();
            let _ = write!(ts, "{}", r.ts);
            let u = &pop.users[r.user as usize];
            let bsuid = bsuids.get(r.user as usize).and_then(|b| b.as_deref());
            user.clear();
            let (country, user_id) = match u.known {
                Known::Bsuid(_) => {
                    user.push_str(bsuid.unwrap_or_default());
                    (None, None)
                }
                Known::Linked(_) => {
                    let _ = write!(user, "+{}", u.phone);
                    let linked = bsuid.filter(|_| r.direction == Direction::In);
                    (Some(u.country.iso()), linked)
                }
                Known::Number => {
                    let _ = write!(user, "+{}", u.phone);
                    (Some(u.country.iso()), None)
                }
            };
            let (duration, tokens) = r.duration_and_tokens();
            let (duration, tokens) = (
                duration.map(|d| d.to_string()),
                tokens.map(|t| t.to_string()),
            );
            let (category, status) = (r.category_text(), r.status_text());
            let group = r.group().map(crate::traffic::model::Population::group_id);
            let fields: crate::io::log::Fields = [
                Some(&ts),
                Some(r.direction.as_str()),
                Some(&user),
                Some(r.kind.as_str()),
                (!category.is_empty()).then_some(category),
                (!status.is_empty()).then_some(status),
                r.entry_point.map(|e| e.as_str()),
                Some(&pop.waba),
                Some(&numbers[r.number as usize]),
                country,
                None,
                user_id,
                group.as_deref(),
                duration.as_deref(),
                tokens.as_deref(),
                None,
            ];
            b.push(&fields, &|| {
                fields
                    .iter()
                    .map(|f| f.unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join(",")
            });
            std::ops::ControlFlow::Continue(())
        },
        progress,
    );
    let log = b.finish(name);
    (
        log,
        Generated {
            population: traffic.into_population(),
            summary,
        },
    )
}
