//! `[log]`: users known by a business-scoped user id (MKT-4) and logs cut at a date or without
//! the users' messages (CONV-4). What is written changes; what is generated does not.

use super::*;
use crate::billing::types::looks_like_bsuid;

fn with_log(extra: &str) -> Scenario {
    scenario(&format!("{SUPPORT_2026}\n[log]\n{extra}\n"))
}

#[test]
fn mkt4_bsuid_users_change_no_row() {
    let plain = scenario(SUPPORT_2026);
    let s = with_log("bsuid_share = 0.5\nbsuid_only = 0.4");
    let (rows, g) = generate_vec(&s, 5);
    let (plain_rows, pg) = generate_vec(&plain, 5);
    assert_eq!(
        rows, plain_rows,
        "[log] bsuid_* must not change the traffic"
    );
    assert_eq!(g.population.users.len(), pg.population.users.len());
    let (mut linked, mut only) = (0, 0);
    for (u, p) in g.population.users.iter().zip(&pg.population.users) {
        assert_eq!(
            (u.phone, u.country, u.number),
            (p.phone, p.country, p.number)
        );
        match u.known {
            Known::Number => {}
            Known::Linked(_) => linked += 1,
            Known::Bsuid(_) => only += 1,
        }
    }
    let n = g.population.users.len() as f64;
    let share = (linked + only) as f64 / n;
    assert!((0.4..0.6).contains(&share), "BSUID share {share}");
    let only_share = only as f64 / (linked + only) as f64;
    assert!(
        (0.3..0.5).contains(&only_share),
        "BSUID-only share {only_share}"
    );
    assert_eq!(g.summary.bsuid_users, (linked + only) as u64);
    assert_eq!(g.summary.bsuid_only_users, only as u64);
}

#[test]
fn mkt4_writers_name_bsuid_users() {
    let s = with_log("bsuid_share = 0.5\nbsuid_only = 0.5");
    let (rows, g) = generate_vec(&s, 5);
    let csv = String::from_utf8(write_csv(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "timestamp,direction,user,type,category,status,entry_point,waba,number,country,id,user_id"
    );
    let jsonl = String::from_utf8(write_jsonl(&g.population, &rows, Vec::new()).unwrap()).unwrap();
    let (mut by_bsuid, mut with_link) = (0, 0);
    for ((line, json), r) in lines.zip(jsonl.lines()).zip(&rows) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 12, "{line}");
        let j: serde_json::Value = serde_json::from_str(json).unwrap();
        let u = g.population.users[r.user as usize];
        let bsuid = g.population.bsuid(r.user);
        match u.known {
            Known::Number => {
                assert!(f[2].starts_with('+') && f[9] == u.country.iso() && f[11].is_empty());
                assert!(j["user_id"].is_null());
            }
            Known::Bsuid(_) => {
                by_bsuid += 1;
                let b = bsuid.unwrap();
                assert!(looks_like_bsuid(&b) && b.starts_with(&format!("{}.", u.country.iso())));
                assert_eq!((f[2], f[9], f[11]), (b.as_str(), "", ""), "{line}");
                assert_eq!(j["user"], b.as_str());
                assert!(j["country"].is_null() && j["user_id"].is_null());
            }
            Known::Linked(_) => {
                assert_eq!(f[2], format!("+{}", u.phone));
                let want = if r.direction == Direction::In {
                    with_link += 1;
                    bsuid.unwrap()
                } else {
                    String::new()
                };
                assert_eq!(f[11], want, "{line}");
                assert_eq!(j["user_id"].as_str().unwrap_or(""), want);
            }
        }
    }
    assert!(by_bsuid > 100 && with_link > 100, "{by_bsuid} {with_link}");
}

#[test]
fn conv4_cut_log_is_the_full_log_from_the_cut() {
    let full = scenario(SUPPORT_2026);
    let (all, fg) = generate_vec(&full, 9);
    for (extra, inbound) in [
        ("from = 2026-11-01", true),
        ("from = 2026-11-16\ninbound = false", false),
        ("inbound = false", false),
    ] {
        let s = with_log(extra);
        let start = s.log_start();
        let (rows, g) = generate_vec(&s, 9);
        let want: Vec<Row> = all
            .iter()
            .filter(|r| r.ts >= start && (inbound || r.direction == Direction::Out))
            .enumerate()
            .map(|(i, r)| Row {
                id: i as u64 + 1,
                ..*r
            })
            .collect();
        assert_eq!(rows, want, "{extra}");
        let sm = &g.summary;
        assert_eq!(
            sm.rows + sm.rows_before_log_start + sm.inbound_left_out,
            fg.summary.rows,
            "{extra}"
        );
        assert!(sm.rows < fg.summary.rows);
        assert_eq!(sm.inbound == 0, !inbound);
    }
}

#[test]
fn log_section_errors() {
    for (extra, want) in [
        ("[log]\nfrom = 2025-04-30", "log.from"),
        ("[log]\nfrom = 2025-06-01", "inside the period"),
        ("[log]\ninbound = \"no\"", "expected true or false"),
        ("[log]\nbsuid_share = 1.5", "log.bsuid_share"),
        ("[log]\nbsuid = 0.5", "bsuid"),
    ] {
        let e = err(&minimal(extra));
        assert!(e.contains(want), "{extra}: {e}");
    }
    let mut s = scenario(&minimal(""));
    s.set("log.inbound", "false").unwrap();
    s.set("log.bsuid_share", "0.25").unwrap();
    assert_eq!((s.log.inbound, s.log.bsuid_share), (false, 0.25));
    assert!(s.set("log.inbound", "0.5").is_err());
}
