//! `[agent]` (MBA-1) and `[calls]` (CALL-1…3): Meta's agent answers a share of the contacts,
//! and a share of the contacts begin with a call. Without them the traffic is generated exactly
//! as before; with `[agent]` only who writes the replies changes.

use super::*;
use crate::traffic::model::{Direction, MessageType};

fn with(extra: &str) -> Scenario {
    scenario(&format!("{SUPPORT_2026}\n{extra}\n"))
}

#[test]
fn mba1_the_agent_answers_a_share_of_contacts_and_changes_no_other_row() {
    let plain = scenario(SUPPORT_2026);
    let s = with("[agent]\nshare = 0.5\ntokens_per_reply = [100, 300]");
    let (rows, g) = generate_vec(&s, 5);
    let (plain_rows, _) = generate_vec(&plain, 5);
    assert_eq!(rows.len(), plain_rows.len());
    let mut agent = 0;
    for (r, p) in rows.iter().zip(&plain_rows) {
        // The same messages at the same instants; only the writer of some replies differs.
        assert_eq!(
            (r.ts, r.user, r.direction, r.status),
            (p.ts, p.user, p.direction, p.status)
        );
        if r.kind == MessageType::Agent {
            agent += 1;
            assert!(
                p.category.is_none(),
                "the agent replaces non-template replies only"
            );
            assert!((100..=300).contains(&r.amount), "{}", r.amount);
            assert_eq!(r.category_text(), "meta_business_agent");
        } else {
            assert_eq!(r, p);
        }
    }
    // Replies after the period's end are not written.
    assert!(agent <= g.summary.agent_replies && agent * 100 > g.summary.agent_replies * 95);
    let share = g.summary.contacts_agent as f64 / g.summary.contacts as f64;
    assert!((0.45..0.55).contains(&share), "agent share {share}");
    // The written log gains the `duration` and `tokens` columns only when it needs them.
    let csv = String::from_utf8(csv_bytes(&s, 5)).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",duration,tokens"));
    assert!(csv.contains(",text,meta_business_agent,delivered,"));
    let plain_csv = String::from_utf8(csv_bytes(&plain, 5)).unwrap();
    assert!(!plain_csv.lines().next().unwrap().contains("tokens"));
}

#[test]
fn call1_contacts_that_call_and_the_businesss_call_backs() {
    let s = with("[calls]\nshare = 0.4\ncallback_share = 0.5\nduration_seconds = [30, 300]");
    let (rows, g) = generate_vec(&s, 7);
    let calls: Vec<&Row> = rows
        .iter()
        .filter(|r| r.kind == MessageType::Call)
        .collect();
    let from_users = calls
        .iter()
        .filter(|r| r.direction == Direction::In)
        .count() as u64;
    let callbacks = calls
        .iter()
        .filter(|r| r.direction == Direction::Out)
        .count() as u64;
    // Rows past the period's end are not written, so a few counted calls may be missing.
    assert!(
        from_users <= g.summary.calls_from_users && from_users + 20 > g.summary.calls_from_users
    );
    assert!(callbacks <= g.summary.callbacks && callbacks + 20 > g.summary.callbacks);
    let share = g.summary.calls_from_users as f64 / g.summary.contacts as f64;
    assert!((0.35..0.45).contains(&share), "call share {share}");
    let back = g.summary.callbacks as f64 / g.summary.calls_from_users as f64;
    assert!((0.45..0.55).contains(&back), "call-back share {back}");
    for c in &calls {
        assert!((30..=300).contains(&c.amount), "{}", c.amount);
        assert_eq!(
            c.status_text(),
            if c.direction == Direction::Out {
                "accepted"
            } else {
                ""
            }
        );
    }
    // A call opens the window: every non-template reply is still inside one (checked with
    // calls counting as the user's messages, CALL-1).
    super::generation::check_rows(&s, &rows, &g.population);
}

#[test]
fn charges_sections_are_checked() {
    assert!(err(&minimal("[agent]\nshare = 1.5")).contains("agent.share"));
    assert!(err(&minimal("[calls]\nduration_seconds = [10, 5]")).contains("calls.duration_seconds"));
    assert!(err(&minimal("[agent]\nmood = 1")).contains("mood"));
    let mut s = scenario(SUPPORT_2026);
    s.set("agent.share", "0.3").unwrap();
    assert_eq!(s.agent.share, 0.3);
    s.set("calls.callback_share", "1").unwrap();
    assert_eq!(s.calls.callback_share, 1.0);
    assert!(s.set("calls.share", "2").is_err());
}

#[test]
fn grp1_group_broadcasts_deliver_to_every_member_and_change_no_other_row() {
    let plain = scenario(SUPPORT_2026);
    let s =
        with("[groups]\ngroups = 10\nmembers = [3, 5]\nbroadcasts_per_month = 3\nreply_share = 1");
    let (rows, g) = generate_vec(&s, 3);
    let (plain_rows, _) = generate_vec(&plain, 3);
    let one_to_one: Vec<Row> = rows
        .iter()
        .filter(|r| r.group().is_none())
        .copied()
        .collect();
    assert_eq!(
        one_to_one.len(),
        plain_rows.len(),
        "[groups] adds rows, changes none"
    );
    for (r, p) in one_to_one.iter().zip(&plain_rows) {
        assert_eq!(
            (r.ts, r.user, r.kind, r.category, r.status),
            (p.ts, p.user, p.kind, p.category, p.status)
        );
    }
    let pop = &g.population;
    assert_eq!(pop.groups.len(), 10);
    for members in &pop.groups {
        assert!((3..=5).contains(&members.len()));
    }
    // Every broadcast is one template row per member, at one instant; every reply is followed
    // by one text per member.
    let templates = rows
        .iter()
        .filter(|r| r.group().is_some() && r.kind == MessageType::Template)
        .count() as u64;
    let members: u64 = pop.groups.iter().map(|m| m.len() as u64).sum();
    assert!(templates > 0 && g.summary.group_broadcasts > 0);
    assert!(templates <= g.summary.group_broadcasts * 5);
    assert!(
        templates >= g.summary.group_broadcasts * 3 - members * 2,
        "a few after the end"
    );
    let csv = String::from_utf8(csv_bytes(&s, 3)).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",group"));
    assert!(csv.contains(",template,marketing,") && csv.contains(",group-"));
    assert!(err(&minimal("[groups]\ngroups = 2\nmembers = [3, 9]")).contains("groups.members"));
}
