//! Phone numbers: valid for their country, disjoint North American area codes, and a
//! consistent country table.

use super::*;
use crate::traffic::countries::{make_number, Country};

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
