//! Micro-benchmarks of the hot paths (issue 7), without a benchmark framework (no extra
//! dependencies, no second polars build): `cargo bench --bench hot_paths`.
//! Each prints nanoseconds per operation over a fixed, seeded workload.

use std::hint::black_box;
use std::time::Instant;

use wabill::billing::accounts::Accounts;
use wabill::billing::engine::{self, ChatKey, Context, Event};
use wabill::billing::types::{Country, Kind, Status, TemplateCategory};
use wabill::io::rates_dir;

fn time<T>(name: &str, ops: usize, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = black_box(f());
    let ns = t.elapsed().as_nanos() as f64 / ops as f64;
    println!("{name:<40} {ns:>10.1} ns/op   ({ops} ops)");
    out
}

fn main() {
    let rates = rates_dir::load(std::path::Path::new("rates")).expect("run from the project root");
    let numbers: Vec<String> = (0..50_000u64)
        .map(|i| match i % 4 {
            0 => format!("91{}", 9_800_000_000 + i * 7),
            1 => format!("55119{}", 80_000_000 + i),
            2 => format!("1202{}", 5_550_000 + i),
            _ => format!("44{}", 7_700_900_000u64 + i),
        })
        .collect();
    time("market lookup (number → country)", numbers.len(), || {
        numbers
            .iter()
            .filter(|n| rates.markets.country_of_number(n).is_ok())
            .count()
    });
    let ts: Vec<String> = (0..200_000i64)
        .map(|i| {
            chrono::DateTime::from_timestamp(1_751_328_000 + i * 37, 0)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .collect();
    time("timestamp parse (RFC 3339)", ts.len(), || {
        ts.iter()
            .filter_map(|s| wabill::io::log::parse_timestamp(s))
            .sum::<i64>()
    });

    // Rulebook state machine + tier counting: 1M events over 20k chats, pmp-2025 and cbp-2024.
    let n_chats = 20_000u32;
    let chats: Vec<ChatKey> = (0..n_chats)
        .map(|u| ChatKey {
            waba: 0,
            group: false,
            number: 0,
            user: u,
        })
        .collect();
    let countries = vec![Country(*b"IN"), Country(*b"BR"), Country(*b"EG")];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut events = Vec::new();
    for (base, count) in [(1_748_736_000i64, 500_000), (1_782_864_000, 500_000)] {
        for i in 0..count {
            let r = next();
            let kind = match r % 6 {
                0 | 1 => Kind::In {
                    entry_point: r % 50 == 0,
                },
                2 => Kind::Out {
                    template: None,
                    status: Status::Delivered,
                },
                3 => Kind::Out {
                    template: Some(TemplateCategory::Utility),
                    status: Status::Delivered,
                },
                4 => Kind::Out {
                    template: Some(TemplateCategory::Marketing),
                    status: Status::Delivered,
                },
                _ => Kind::Out {
                    template: Some(TemplateCategory::Authentication),
                    status: Status::Delivered,
                },
            };
            events.push(Event {
                ts: (base + (r >> 20) as i64 % (28 * 86_400)) * 1_000_000,
                row: events.len() as u32 + 1,
                chat: (r % n_chats as u64) as u32,
                country: (i % 2) as u16,
                kind,
            });
        }
    }
    let accounts = Accounts::default_single();
    let ctx = Context {
        accounts: &accounts,
        rates: &rates.book,
        markets: &rates.markets,
        forced: None,
        rates_at: None,
    };
    let r = time(
        "replay (state machine + pricing pass)",
        events.len(),
        || engine::replay(&events, &chats, &countries, &Default::default(), &ctx).expect("rates"),
    );
    println!("  total {} {}", r.currency, r.total);
    // Egypt on the 2026-07 card has utility and authentication tier tables: the tier pass.
    let egypt: Vec<Event> = events
        .iter()
        .map(|e| Event {
            country: 2,
            ts: e.ts - 1_782_864_000_000_000 + 1_782_864_000_000_000,
            ..*e
        })
        .filter(|e| e.ts >= 1_782_864_000_000_000)
        .collect();
    let r = time(
        "replay with volume tiers (Egypt, 2026-07)",
        egypt.len(),
        || engine::replay(&egypt, &chats, &countries, &Default::default(), &ctx).expect("rates"),
    );
    println!("  total {} {}", r.currency, r.total);

    // CSV reading (split, validate, intern, countries, duplicate ids): the sample log's rows
    // repeated to 386,200, ids made unique; the parallel reader and the plain csv-crate path.
    let sample = std::fs::read_to_string("data/sample.csv").expect("data/sample.csv");
    let mut lines = sample.lines();
    let header = lines.next().expect("header");
    let body: Vec<&str> = lines.collect();
    let mut csv = format!("{header}\n");
    for copy in 0..100 {
        for line in &body {
            // The id is the last column: make it unique per copy.
            csv.push_str(line);
            csv.push_str(&format!("-{copy}\n"));
        }
    }
    let path = std::path::Path::new("target/bench-sample-x100.csv");
    std::fs::write(path, &csv).expect("write target/bench-sample-x100.csv");
    let sample_accounts =
        wabill::cmd::load_accounts(Some(std::path::Path::new("data/accounts.toml")))
            .expect("data/accounts.toml");
    let rows = body.len() * 100;
    let log = time("CSV read, parallel reader", rows, || {
        wabill::io::log::read_log(
            path,
            wabill::io::log::LogFormat::Csv,
            &sample_accounts,
            &rates.markets,
            &wabill::io::log::ReadOptions::default(),
            &|_| {},
        )
        .expect("read")
    });
    assert!(log.rejects.is_empty(), "{:?}", &log.rejects[..1]);
    time("CSV read, plain csv-crate path", rows, || {
        wabill::io::log::read_log_plain(path, &sample_accounts, &rates.markets, true).expect("read")
    });
}
