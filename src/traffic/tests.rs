//! Tests of the generator as a whole: scenario errors, determinism, statistical shape, number
//! validity, and the rules generated traffic must respect (CONV-2 windows, PMP-7).
//! Kept in the crate (not `tests/`) so they move with the module into the main crate.

use std::collections::HashMap;

use crate::traffic::countries::{make_number, Country};
use crate::traffic::generate::us_marketing_pause;
use crate::traffic::*;

const SUPPORT: &str = include_str!("../../data/scenarios/support.toml");
const SAMPLE: &str = include_str!("../../data/scenarios/sample.toml");
const CAMPAIGN_BRAZIL: &str = include_str!("../../data/scenarios/campaign-brazil.toml");
const SUPPORT_2026: &str = include_str!("../../data/scenarios/support-2026.toml");

fn scenario(text: &str) -> Scenario {
    parse_scenario(text).unwrap_or_else(|e| panic!("{e}"))
}

fn csv_bytes(s: &Scenario, seed: u64) -> Vec<u8> {
    generate_to(s, seed, Format::Csv, Vec::new(), &mut |_| {})
        .unwrap()
        .1
}

/// A small scenario for error tests; `extra` is appended.
fn minimal(extra: &str) -> String {
    format!("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = {{ IN = 10 }}\n{extra}")
}

fn err(text: &str) -> String {
    match parse_scenario(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

// ---- scenario errors name the key and the value -------------------------------------------

#[test]
fn missing_key_is_named() {
    let e = err("[period]\nend = 2025-05-31\n[audience]\nusers = { IN = 10 }\n");
    assert!(e.contains("missing key `period.start`"), "{e}");
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n");
    assert!(e.contains("missing key") && e.contains("audience"), "{e}");
    let e = err(&minimal("[[campaign]]\nshare = 0.5\n"));
    assert!(e.contains("missing key `campaign[0].date`"), "{e}");
}

#[test]
fn probability_out_of_range_is_named() {
    let e = err(&minimal("[support]\nfcr = 1.5\n"));
    assert!(
        e.contains("support.fcr") && e.contains("1.5") && e.contains("between 0 and 1"),
        "{e}"
    );
    let e = err(&minimal("[delivery]\nfailure_rate = -0.1\n"));
    assert!(
        e.contains("delivery.failure_rate") && e.contains("-0.1"),
        "{e}"
    );
    let e = err(&minimal("[[campaign]]\ndate = 2025-05-10\nshare = 2\n"));
    assert!(e.contains("campaign[0].share") && e.contains('2'), "{e}");
}

#[test]
fn unknown_country_is_named() {
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { XX = 10 }\n");
    assert!(
        e.contains("audience.users") && e.contains("\"XX\"") && e.contains("unknown"),
        "{e}"
    );
    let e = err(&minimal(
        "[[campaign]]\ndate = 2025-05-10\ncountries = [\"XX\"]\n",
    ));
    assert!(
        e.contains("campaign[0].countries") && e.contains("XX"),
        "{e}"
    );
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 10\nshares = { XX = 1.0 }\n");
    assert!(e.contains("audience.shares") && e.contains("XX"), "{e}");
}

#[test]
fn end_before_start_is_named() {
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-04-01\n[audience]\nusers = { IN = 10 }\n");
    assert!(
        e.contains("period.end") && e.contains("2025-04-01") && e.contains("before"),
        "{e}"
    );
}

#[test]
fn other_bad_values_are_named() {
    let e = err(&minimal("[account]\ntimezone = \"Mars/Olympus\"\n"));
    assert!(
        e.contains("account.timezone") && e.contains("Mars/Olympus"),
        "{e}"
    );
    let e =
        err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\nusers = { IN = -5 }\n");
    assert!(
        e.contains("audience.users.IN") && e.contains("-5") && e.contains("negative"),
        "{e}"
    );
    let e = err(&minimal("[support]\nfollowup_sessions = [3, 1]\n"));
    assert!(
        e.contains("support.followup_sessions") && e.contains("min"),
        "{e}"
    );
    let e = err(&minimal("[support]\ncontacts_per_user_month = -1\n"));
    assert!(
        e.contains("support.contacts_per_user_month") && e.contains("-1"),
        "{e}"
    );
    let e = err(&minimal("[support]\nreengagement = \"spam\"\n"));
    assert!(
        e.contains("support.reengagement") && e.contains("spam"),
        "{e}"
    );
    let e = err(&minimal("[support]\nfcr = \"high\"\n"));
    assert!(e.contains("support.fcr") && e.contains("high"), "{e}");
    let e = err(&minimal("[[campaign]]\ndate = 2025-06-10\n"));
    assert!(
        e.contains("campaign[0].date") && e.contains("outside"),
        "{e}"
    );
    let e = err("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 10\nshares = { IN = 0.5, BR = 0.2 }\n");
    assert!(e.contains("audience.shares") && e.contains("0.7"), "{e}");
    // serde refuses unknown keys, with the line.
    let e = err(&minimal("[support]\nfrc = 0.5\n"));
    assert!(e.contains("frc") && e.contains("line"), "{e}");
}

#[test]
fn defaults_and_shares() {
    let s = scenario("[period]\nstart = 2025-05-01\nend = 2025-05-31\n[audience]\ntotal = 1001\nshares = { IN = 0.5, BR = 0.25, MX = 0.25 }\n");
    let users: HashMap<&str, u32> = s
        .audience
        .iter()
        .map(|a| (a.country.iso(), a.users))
        .collect();
    assert_eq!(users.values().sum::<u32>(), 1001);
    assert_eq!(users["IN"], 501); // the left-over user goes to the largest remainder (0.5)
    assert_eq!(s.account.timezone, chrono_tz::Tz::UTC);
    assert_eq!(s.account.waba, "default");
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    assert_eq!(s.failure_rate, scenario::DEFAULT_FAILURE_RATE);
    assert_eq!(s.account.number_country.iso(), "IN");
}

#[test]
fn shipped_scenarios_parse() {
    for text in [SUPPORT, SAMPLE, CAMPAIGN_BRAZIL, SUPPORT_2026] {
        scenario(text);
    }
    let s = scenario(SUPPORT);
    assert_eq!(s.support.fcr, 0.7);
    assert_eq!(s.support.ctwa_share, 0.2);
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    assert_eq!(
        (s.period.start.to_string(), s.period.end.to_string()),
        ("2025-05-01".into(), "2025-09-30".into())
    );
}

#[test]
fn set_changes_one_key_with_the_file_checks() {
    let mut s = scenario(SAMPLE);
    let before = s.clone();
    s.set("support.fcr", "0.9").unwrap();
    assert_eq!(s.support.fcr, 0.9);
    s.set("support.reengagement", "wait_for_user").unwrap();
    assert_eq!(s.support.reengagement, Reengagement::WaitForUser);
    s.set("support.reengagement", "\"utility_template\"")
        .unwrap();
    assert_eq!(s.support.reengagement, Reengagement::UtilityTemplate);
    s.set("campaign.share", "0.25").unwrap();
    assert!(s.campaigns.iter().all(|c| c.share == 0.25));
    s.set("campaign[1].reply_rate", "0.5").unwrap();
    assert_eq!(s.campaigns[1].reply_rate, 0.5);
    assert_eq!(s.campaigns[0].reply_rate, before.campaigns[0].reply_rate);
    s.set("delivery.failure_rate", "0").unwrap();
    assert_eq!(s.failure_rate, 0.0);
    s.set("support.contacts_per_user_month", "2").unwrap();
    assert_eq!(s.support.contacts_per_user_month, 2.0);

    let e = |k: &str, v: &str| scenario(SAMPLE).set(k, v).unwrap_err().to_string();
    assert_eq!(
        e("support.fcr", "1.5"),
        "scenario: `support.fcr` = 1.5: a probability or share must be between 0 and 1"
    );
    assert!(e("support.fcr", "high").contains("expected a number"));
    assert!(e("support.ctwa_share", "0.95").contains("must not exceed 1"));
    assert!(e("support.reengagement", "ask_nicely").contains("utility_template"));
    assert!(e("campaign[9].share", "0.5").contains("4 campaign(s)"));
    assert!(e("support.nope", "1").contains("not a key that can be varied"));
    assert!(e("utility.orders_per_user_month", "5000").contains("not plausible"));
}

// ---- determinism ----------------------------------------------------------------------------

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let s = scenario(SAMPLE);
    let a = csv_bytes(&s, 7);
    let b = csv_bytes(&s, 7);
    assert_eq!(a, b);
    let c = csv_bytes(&s, 8);
    assert_ne!(a, c);
    let j1 = generate_to(&s, 7, Format::Jsonl, Vec::new(), &mut |_| {})
        .unwrap()
        .1;
    let j2 = generate_to(&s, 7, Format::Jsonl, Vec::new(), &mut |_| {})
        .unwrap()
        .1;
    assert_eq!(j1, j2);
    // The streaming writer and the in-memory path agree.
    let (rows, g) = generate_vec(&s, 7);
    assert_eq!(write_csv(&g.population, &rows, Vec::new()).unwrap(), a);
}

/// A fingerprint of one fixed run: if this changes, the output for every seed changed (a
/// dependency's algorithm, or the generator). Update it on purpose only.
#[test]
fn output_is_pinned() {
    let s = scenario(SAMPLE);
    let bytes = csv_bytes(&s, 1);
    // FNV-1a, so the check needs no dependency.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
    }
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(
        (lines, format!("{h:016x}")),
        (PINNED_LINES, PINNED_HASH.to_string())
    );
}
const PINNED_LINES: usize = 4259;
const PINNED_HASH: &str = "df7501e98caf30cc";

// ---- statistical shape ----------------------------------------------------------------------

#[test]
fn statistical_shape() {
    let s = scenario(
        r#"
        [period]
        start = 2025-03-01
        end = 2025-05-31
        [audience]
        users = { IN = 2000, BR = 1000, US = 500, MX = 500 }
        [support]
        contacts_per_user_month = 0.5
        fcr = 0.6
        followup_resolution = 0.5
        ctwa_share = 0.25
        [[campaign]]
        date = 2025-04-10
        share = 0.3
        countries = ["BR", "MX"]
        [[campaign]]
        date = 2025-05-02
        share = 0.1
        [utility]
        orders_per_user_month = 0.2
        messages_per_order = 3
        [authentication]
        logins_per_user_month = 0.4
        "#,
    );
    let g = generate(&s, 2024, &mut |_| {});
    let m = &g.summary;
    assert_eq!(m.users, 4000);
    assert!((m.months - 92.0 / 30.436875).abs() < 1e-9);
    let expect = |name: &str, got: f64, want: f64, tol: f64| {
        assert!(
            (got - want).abs() <= tol,
            "{name}: got {got}, want {want} ± {tol}"
        );
    };
    expect(
        "contacts per user-month",
        m.contacts_per_user_month(),
        0.5,
        0.02,
    );
    expect("fcr share", m.fcr_share(), 0.6, 0.02);
    expect("ctwa share", m.ctwa_share(), 0.25, 0.02);
    // Resolved = fcr + (1 - fcr) * 0.5 = 0.8.
    expect(
        "resolved share",
        m.contacts_resolved as f64 / m.contacts as f64,
        0.8,
        0.02,
    );
    expect(
        "orders per user-month",
        m.orders as f64 / (m.users as f64 * m.months),
        0.2,
        0.015,
    );
    expect(
        "logins per user-month",
        m.logins as f64 / (m.users as f64 * m.months),
        0.4,
        0.02,
    );
    // Campaign sizes are exact.
    assert_eq!(m.campaigns[0].eligible, 1500);
    assert_eq!(m.campaigns[0].recipients, 450);
    assert_eq!(m.campaigns[1].recipients, 400);
    assert_eq!(m.campaign_recipients, 850);
    assert_eq!(m.marketing, 850);
    assert_eq!(m.authentication, m.logins);
    // Every contact starts with exactly one entry-point-or-not first message.
    assert_eq!(m.ctwa_messages, m.contacts_ctwa);
    assert_eq!(m.rows, m.inbound + m.outbound);
    assert_eq!(m.outbound, m.delivered + m.failed);
    assert_eq!(
        m.outbound,
        m.non_template + m.marketing + m.utility + m.authentication
    );
    // Failure rate 2% on non-US-paused messages.
    let random_failed = m.failed - m.us_marketing_failed;
    expect(
        "failure rate",
        random_failed as f64 / (m.outbound - m.us_marketing_failed) as f64,
        0.02,
        0.005,
    );
}

// ---- rows are well formed -------------------------------------------------------------------

/// Checks the invariants every generated log must hold.
fn check_rows(s: &Scenario, rows: &[Row], pop: &Population) {
    let (start, end) = s.bounds();
    let pause = us_marketing_pause(s);
    let mut last_in: HashMap<(u16, u32), i64> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        // sorted, ids sequential (so unique), inside the period
        assert_eq!(r.id, i as u64 + 1);
        if i > 0 {
            assert!(rows[i - 1].ts <= r.ts, "not sorted at row {}", i + 1);
        }
        assert!(
            r.ts >= start && r.ts < end,
            "row {} outside the period",
            r.id
        );
        assert_eq!(r.number, pop.users[r.user as usize].number);
        assert_eq!(r.category.is_some(), r.kind == MessageType::Template);
        match r.direction {
            Direction::In => {
                assert!(r.status.is_none() && r.category.is_none());
                last_in.insert((r.number, r.user), r.ts);
            }
            Direction::Out => {
                assert!(r.status.is_some() && r.entry_point.is_none());
                let delivered = r.status == Some(Status::Delivered);
                // CONV-4 / PMP-2: no delivered non-template message outside the window.
                if delivered && r.kind != MessageType::Template {
                    let li = last_in.get(&(r.number, r.user)).copied();
                    assert!(
                        matches!(li, Some(li) if r.ts >= li && r.ts < li + 86_400),
                        "row {}: non-template delivered outside the customer service window (last inbound {:?})",
                        r.id,
                        li
                    );
                }
                // PMP-7
                if r.category == Some(Category::Marketing)
                    && pop.users[r.user as usize].country.iso() == "US"
                    && r.ts >= pause
                {
                    assert_eq!(
                        r.status,
                        Some(Status::Failed),
                        "row {}: US marketing delivered after the pause",
                        r.id
                    );
                }
            }
        }
    }
}

#[test]
fn invariants_on_shipped_scenarios() {
    for (text, seed) in [
        (SAMPLE, 1),
        (SAMPLE, 2),
        (SUPPORT, 3),
        (CAMPAIGN_BRAZIL, 4),
        (SUPPORT_2026, 5),
    ] {
        let mut s = scenario(text);
        if s.total_users() > 1000 {
            s.scale_audience(1000.0 / s.total_users() as f64);
        }
        let (rows, g) = generate_vec(&s, seed);
        assert!(!rows.is_empty());
        check_rows(&s, &rows, &g.population);
    }
}

/// Settings that push sessions past 24 h: slow agents, long gaps, both policies.
#[test]
fn windows_hold_under_stress() {
    for policy in ["utility_template", "wait_for_user"] {
        for seed in 0..4 {
            let s = scenario(&format!(
                r#"
                [period]
                start = 2025-06-01
                end = 2025-06-30
                [account]
                timezone = "Asia/Kolkata"
                numbers = 3
                [audience]
                users = {{ IN = 150, US = 50, PR = 20, CA = 20 }}
                [support]
                contacts_per_user_month = 2
                fcr = 0.3
                followup_sessions = [1, 4]
                followup_gap_hours = [10, 40]
                agent_latency_minutes = [600, 2000]
                turn_gap_seconds = [1, 50000]
                reply_delay_minutes = [0, 3000]
                user_messages = [1, 5]
                agent_messages = [1, 5]
                reengagement = "{policy}"
                ctwa_share = 0.5
                page_cta_share = 0.5
                [[campaign]]
                date = 2025-06-05
                reply_rate = 0.5
                [delivery]
                failure_rate = 0.2
                "#
            ));
            let (rows, g) = generate_vec(&s, seed);
            check_rows(&s, &rows, &g.population);
            let m = &g.summary;
            match s.support.reengagement {
                Reengagement::UtilityTemplate => assert!(m.reengagement_templates > 0),
                Reengagement::WaitForUser => {
                    assert_eq!(m.reengagement_templates, 0);
                    assert!(m.waits_for_user > 0);
                }
            }
            // US marketing in June 2025 all failed, Puerto Rico and Canada not.
            let us_mkt = rows.iter().filter(|r| {
                r.category == Some(Category::Marketing) && g.population.country_iso(r.user) == "US"
            });
            assert!(
                us_mkt.clone().count() == 50
                    && us_mkt.clone().all(|r| r.status == Some(Status::Failed))
            );
            assert!(rows.iter().any(|r| r.category == Some(Category::Marketing)
                && matches!(g.population.country_iso(r.user), "PR" | "CA")
                && r.status == Some(Status::Delivered)));
        }
    }
}

#[test]
fn us_marketing_pause_starts_2025_04_01() {
    let s = scenario(
        "[period]\nstart = 2025-03-25\nend = 2025-04-05\n[audience]\nusers = { US = 300 }\n\
         [[campaign]]\ndate = 2025-03-28\n[[campaign]]\ndate = 2025-04-01\ntime = \"00:00\"\nduration_minutes = 5\n\
         [delivery]\nfailure_rate = 0\n",
    );
    let (rows, g) = generate_vec(&s, 5);
    let pause = chrono::NaiveDate::from_ymd_opt(2025, 4, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp();
    assert_eq!(us_marketing_pause(&s), pause);
    let mkt: Vec<&Row> = rows
        .iter()
        .filter(|r| r.category == Some(Category::Marketing))
        .collect();
    assert_eq!(mkt.len(), 600);
    for r in &mkt {
        let want = if r.ts >= pause {
            Status::Failed
        } else {
            Status::Delivered
        };
        assert_eq!(r.status, Some(want));
    }
    assert_eq!(g.summary.us_marketing_failed, 300);
    check_rows(&s, &rows, &g.population);
}

#[test]
fn period_follows_waba_time_zone() {
    let s = scenario(CAMPAIGN_BRAZIL);
    let (start, end) = s.bounds();
    assert_eq!(format_timestamp(start), "2025-08-01T03:00:00Z"); // 00:00 in São Paulo (UTC-3)
    assert_eq!(format_timestamp(end), "2025-09-01T03:00:00Z");
    let mut s = s;
    s.scale_audience(0.1);
    let (rows, _) = generate_vec(&s, 9);
    let first_campaign = rows
        .iter()
        .find(|r| r.category == Some(Category::Marketing))
        .unwrap();
    assert!(format_timestamp(first_campaign.ts).starts_with("2025-08-05T13:")); // 10:00 local
}

// ---- phone numbers ---------------------------------------------------------------------------

#[test]
fn numbers_are_valid_for_their_country() {
    // Every supported country, through the real generator (users and business numbers).
    let users: Vec<String> = Country::all()
        .map(|c| format!("{} = 25", c.iso()))
        .collect();
    let s = scenario(&format!(
        "[period]\nstart = 2025-05-01\nend = 2025-05-02\n[account]\nnumbers = 3\nnumber_country = \"GB\"\n[audience]\nusers = {{ {} }}\n",
        users.join(", ")
    ));
    let traffic = Traffic::new(&s, 11);
    let pop = traffic.population();
    let check = |digits: u64, iso: &str| {
        let text = format!("+{digits}");
        let pn = phonenumber::parse(None, &text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert!(pn.is_valid(), "{text} is not a valid number");
        let id = pn.country().id().map(|i| i.as_ref().to_string());
        assert_eq!(
            id.as_deref(),
            Some(iso),
            "{text} resolves to {id:?}, not {iso}"
        );
    };
    for u in &pop.users {
        check(u.phone, u.country.iso());
    }
    for n in &pop.numbers {
        check(*n, "GB");
    }
    let mut unique: Vec<u64> = pop
        .users
        .iter()
        .map(|u| u.phone)
        .chain(pop.numbers.iter().copied())
        .collect();
    unique.sort_unstable();
    let before = unique.len();
    unique.dedup();
    assert_eq!(before, unique.len(), "a number was given twice");

    // And every prefix of the table at least a few times.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for c in Country::all() {
        let info = c.info();
        for p in 0..info.prefixes.len() as u64 {
            for _ in 0..4 {
                let mut first = true;
                let n = make_number(c, |m| {
                    if std::mem::take(&mut first) {
                        return p;
                    }
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    (state >> 33) % m
                });
                check(n, info.iso);
            }
        }
    }
}

#[test]
fn north_american_area_codes_are_disjoint() {
    // +1 numbers: the area code decides the country (and PMP-7 applies to US ones only).
    let nanp: Vec<Country> = ["US", "CA", "PR", "DO", "JM"]
        .iter()
        .map(|c| Country::from_iso(c).unwrap())
        .collect();
    for (i, a) in nanp.iter().enumerate() {
        for b in &nanp[i + 1..] {
            for p in a.info().prefixes {
                assert!(
                    !b.info()
                        .prefixes
                        .iter()
                        .any(|q| q.starts_with(&p[..3]) || p.starts_with(&q[..3])),
                    "{} {p} vs {}",
                    a.iso(),
                    b.iso()
                );
            }
        }
    }
}

// ---- writers ---------------------------------------------------------------------------------

#[test]
fn csv_and_jsonl_columns() {
    let s = scenario(SAMPLE);
    let (rows, g) = generate_vec(&s, 3);
    let csv = String::from_utf8(write_csv(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "timestamp,direction,user,type,category,status,entry_point,waba,number,country,id"
    );
    let mut ids = std::collections::HashSet::new();
    let (mut seen_ctwa, mut seen_page, mut cats) =
        (false, false, std::collections::BTreeSet::new());
    for (line, r) in lines.zip(&rows) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 11, "{line}");
        assert_eq!(f[0], format_timestamp(r.ts));
        assert!(f[0].len() == 20 && f[0].ends_with('Z'));
        assert!(f[1] == "in" || f[1] == "out");
        assert!(f[2].starts_with('+') && f[2][1..].bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(f[7], "default");
        assert!(f[8].starts_with('+'));
        assert!(ids.insert(f[10].to_string()) && f[10].starts_with("wamid."));
        seen_ctwa |= f[6] == "ctwa";
        seen_page |= f[6] == "page_cta";
        if !f[4].is_empty() {
            cats.insert(f[4].to_string());
        }
        assert!(!["SA", "CO", "EG", "AE"].contains(&f[9]));
    }
    assert!(seen_ctwa && seen_page);
    assert_eq!(
        cats.into_iter().collect::<Vec<_>>(),
        ["authentication", "marketing", "utility"]
    );
    assert!(
        (2000..10_000).contains(&rows.len()),
        "sample has {} rows",
        rows.len()
    );

    let jsonl = String::from_utf8(write_jsonl(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let first = jsonl.lines().next().unwrap();
    for col in COLUMNS {
        assert!(first.contains(&format!("\"{col}\":")), "{first}");
    }
    assert!(
        first.starts_with("{\"timestamp\":\"2025-04-30T") && first.ends_with("\"id\":\"wamid.1\"}")
    );
    let inbound = jsonl
        .lines()
        .find(|l| l.contains("\"direction\":\"in\""))
        .unwrap();
    assert!(
        inbound.contains("\"status\":null") && inbound.contains("\"category\":null"),
        "{inbound}"
    );
    assert_eq!(jsonl.lines().count(), rows.len());
}

#[test]
fn progress_and_early_stop() {
    let s = scenario(SAMPLE);
    let mut last = Progress {
        rows: 0,
        fraction: 0.0,
    };
    let mut calls = 0;
    let (g, _) = generate_to(&s, 1, Format::Csv, std::io::sink(), &mut |p| {
        assert!(p.rows >= last.rows && p.fraction >= last.fraction);
        last = p;
        calls += 1;
    })
    .unwrap();
    assert!(calls > 10);
    assert_eq!(last.rows, g.summary.rows);
    assert_eq!(last.fraction, 1.0);

    struct Failing(usize);
    impl std::io::Write for Failing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.0 < b.len() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "closed",
                ));
            }
            self.0 -= b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let e = generate_to(&s, 1, Format::Csv, Failing(10), &mut |_| {})
        .err()
        .unwrap();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
}

#[test]
fn policies_share_users_and_contact_times() {
    // compare runs: changing the policy keeps the population and when contacts start.
    let a = scenario(SUPPORT);
    let mut b = a.clone();
    b.support.reengagement = Reengagement::WaitForUser;
    let mut a = a;
    a.scale_audience(0.1);
    b.scale_audience(0.1);
    let (ra, ga) = generate_vec(&a, 5);
    let (rb, gb) = generate_vec(&b, 5);
    assert_eq!(ga.population, gb.population);
    assert_eq!(ga.summary.contacts, gb.summary.contacts);
    assert_eq!(ga.summary.orders, gb.summary.orders);
    let firsts = |rows: &[Row]| {
        rows.iter()
            .filter(|r| r.entry_point.is_some())
            .map(|r| (r.ts, r.user))
            .collect::<Vec<_>>()
    };
    assert_eq!(firsts(&ra), firsts(&rb));
    assert!(gb.summary.reengagement_templates == 0 && ga.summary.reengagement_templates > 0);
}

#[test]
fn country_table_is_sorted_and_consistent() {
    let isos: Vec<&str> = countries::COUNTRIES.iter().map(|c| c.iso).collect();
    let mut sorted = isos.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(isos, sorted);
    for c in countries::COUNTRIES {
        assert!(
            c.prefixes
                .iter()
                .all(|p| p.len() < c.nsn_len as usize && p.bytes().all(|b| b.is_ascii_digit())),
            "{}",
            c.iso
        );
    }
    assert_eq!(Country::from_iso("br").map(|c| c.iso()), Some("BR"));
    assert_eq!(Country::from_iso("XX"), None);
}
