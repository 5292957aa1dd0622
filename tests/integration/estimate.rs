//! `wabill estimate` and provider fees (`[provider]` in the accounts file) across commands.

use super::common::{root, stderr, wabill};
use std::path::Path;

use serde_json::Value;

fn path(rel: &str) -> String {
    root().join(rel).to_string_lossy().into_owned()
}

fn ok_json(args: &[&str]) -> Value {
    let o = wabill(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("one JSON object on stdout")
}

fn write(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_string_lossy().into_owned()
}

fn estimate(volumes: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["estimate", "--format", "json"];
    for v in volumes {
        args.extend(["--volume", v]);
    }
    args.extend_from_slice(extra);
    ok_json(&args)
}

#[test]
fn pmp1_list_rate_without_tier_table() {
    // India has no tier table on the 2026-10-01 card: 250,000 × 0.0014.
    let j = estimate(&["2026-10,India,utility,250000"], &[]);
    assert_eq!(j["total"], "350.0000");
    let l = &j["lines"][0];
    assert_eq!(l["rulebook"], "pmp-2026");
    assert_eq!(l["card"], "2026-10-01");
    assert_eq!(l["rule"], "PMP-1");
    assert_eq!(l["charged"], 250000);
    assert_eq!(l["bands"][0]["rate"], "0.0014");
    assert!(l["bands"][0].get("from").is_none());
}

#[test]
fn pmp4_graduated_bands_from_the_card_in_force() {
    // Rest of Africa, utility, 2026-10-01 card: 1–100,000 at 0.0040, then 0.0038.
    let j = estimate(&["2026-10,Rest of Africa,utility,150000"], &[]);
    assert_eq!(j["total"], "590.0000");
    let b = j["lines"][0]["bands"].as_array().unwrap();
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0]["from"].as_u64(), b[0]["to"].as_u64()),
        (Some(1), Some(100_000))
    );
    assert_eq!(b[0]["amount"], "400.0000");
    assert_eq!(
        (b[1]["from"].as_u64(), b[1]["to"].as_u64()),
        (Some(100_001), Some(150_000))
    );
    assert_eq!(b[1]["rate"], "0.0038");
    assert_eq!(j["lines"][0]["rule"], "PMP-4");
}

#[test]
fn pmp4_authentication_and_international_share_a_counter_in_row_order() {
    // Egypt, 2026-07-01 card. Authentication takes counts 1–200,000 (list 0.0036); the
    // international messages continue at 200,001: 100,000 at the list 0.0650, 100,000 at 0.0618.
    let j = estimate(
        &[
            "2026-07,Egypt,authentication,200000",
            "2026-07,Egypt,authentication_international,200000",
        ],
        &[],
    );
    let cost = |cat: &str| {
        j["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["category"] == cat)
            .unwrap()["cost"]
            .clone()
    };
    assert_eq!(cost("authentication"), "720.0000");
    assert_eq!(cost("authentication_international"), "12680.0000");
    assert_eq!(j["total"], "13400.0000");
    // A different month has its own counter.
    let j = estimate(
        &[
            "2026-07,Egypt,authentication,200000",
            "2026-08,Egypt,authentication_international,200000",
        ],
        &[],
    );
    assert_eq!(j["total"], "13720.0000");
}

#[test]
fn pmp5_pmp2_service_allowance_and_free_service() {
    // pmp-2026: the first 1,000 service messages a month per number are free.
    let j = estimate(&["2026-10,India,service,1500"], &[]);
    assert_eq!(j["lines"][0]["free"], 1000);
    assert_eq!(j["lines"][0]["charged"], 500);
    assert_eq!(j["total"], "0.7000");
    let j = estimate(&["2026-10,India,service,1500"], &["--service-numbers", "2"]);
    assert_eq!(j["total"], "0.0000");
    // pmp-2025: service messages are free.
    let j = estimate(&["2025-10,India,service,1500"], &[]);
    assert_eq!(j["lines"][0]["rule"], "PMP-2");
    assert_eq!(j["total"], "0.0000");
}

#[test]
fn volumes_file_and_table() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "v.toml",
        r#"
[[volume]]
month = "2026-10"
market = "india"
category = "utility"
messages = 250000

[[volume]]
month = "2026-11"
market = "Brazil"
category = "marketing"
messages = 1000
"#,
    );
    let o = wabill(&["estimate", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("month total"), "{t}");
    assert!(t.contains("total USD 412.5000"), "{t}"); // 350 + 1000 × 0.0625
    assert!(t.contains("assumes:"), "{t}");
    let o = wabill(&["estimate", &f, "--format", "csv"]);
    let csv = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "month,waba,market,category,rulebook,messages,charged,free,rule,cost"
    );
    assert!(
        csv.contains("2026-10,default,India,utility,pmp-2026,250000,250000,0,PMP-1,350.0000"),
        "{csv}"
    );
}

#[test]
fn estimate_errors_name_what_is_wrong() {
    let d = tempfile::tempdir().unwrap();
    let cases: [(Vec<&str>, &str); 6] = [
        // RATE-4: Saudi Arabia has no utility rate on the 2025-07-01 card.
        (
            vec!["--volume", "2025-08,Saudi Arabia,utility,10"],
            "no rate for market `Saudi Arabia`, category `utility` on 2025-08-01",
        ),
        (
            vec!["--volume", "2025-03,India,utility,10"],
            "bills conversations, not messages",
        ),
        (
            vec!["--volume", "2026-10,Atlantis,utility,10"],
            "unknown market",
        ),
        (
            vec!["--volume", "2026-10,India,user_initiated,10"],
            "`--volume #1.category` = `user_initiated`",
        ),
        (
            vec!["--volume", "2026-13,India,utility,10"],
            "expected a month YYYY-MM",
        ),
        (vec![], "no volumes"),
    ];
    for (args, want) in cases {
        let mut a = vec!["estimate"];
        a.extend(args.iter().copied());
        let o = wabill(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(want),
            "{args:?}: want `{want}` in {}",
            stderr(&o)
        );
    }
    let f = write(d.path(), "bad.toml", "[[volume]]\nmonth = \"2026-10\"\nmarket = \"India\"\ncategory = \"utility\"\nmessages = -5\n");
    let o = wabill(&["estimate", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`volume[0].messages` = `-5`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("RATE-4") || !stderr(&o).is_empty());
}

const PROVIDER: &str = r#"
[portfolio]
name = "Sample Retail"
primary_country = "IN"
auth_international_start = "2024-07-01T00:00:00Z"

[[waba]]
id = "default"
timezone = "Asia/Kolkata"
currency = "USD"

[provider]
name = "Acme BSP"
per_message_sent = 0.001
per_message_received = "0.0005"
per_failed_message = 0.0002
markup = { marketing = 0.06, utility = "0.1" }
"#;

#[test]
fn provider_fees_in_replay_json_leave_the_contract_keys_unchanged() {
    let d = tempfile::tempdir().unwrap();
    let acc = write(d.path(), "acc.toml", PROVIDER);
    let log = path("data/sample.csv");
    let plain = ok_json(&[
        "replay",
        &log,
        "--accounts",
        &path("data/accounts.toml"),
        "--format",
        "json",
    ]);
    let with = ok_json(&["replay", &log, "--accounts", &acc, "--format", "json"]);
    // Every existing key is the same; two keys are added.
    for (k, v) in plain.as_object().unwrap() {
        assert_eq!(&with[k], v, "{k}");
    }
    assert!(plain.get("provider").is_none() && plain.get("grand_total").is_none());
    let p = &with["provider"];
    assert_eq!(p["name"], "Acme BSP");
    let fees = p["fees"].as_array().unwrap();
    let dec = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap()
    };
    let m = &plain["messages"];
    let count = |fee: &str| -> u64 {
        fees.iter()
            .filter(|f| f["fee"] == fee)
            .map(|f| f["count"].as_u64().unwrap())
            .sum()
    };
    // Per-message fees count every message once, by month.
    assert_eq!(count("per_message_sent"), m["delivered"].as_u64().unwrap());
    assert_eq!(
        count("per_message_received"),
        m["inbound"].as_u64().unwrap()
    );
    assert_eq!(
        count("per_failed_message"),
        m["not_delivered"].as_u64().unwrap()
    );
    for f in fees {
        let exact = dec(&f["basis"]) * dec(&f["rate"]);
        let rounded =
            exact.round_dp_with_strategy(6, rust_decimal::RoundingStrategy::MidpointNearestEven);
        assert_eq!(dec(&f["amount"]), rounded, "{f}");
    }
    // Markups apply to Meta's charge of the category in the month.
    let marketing_charge: rust_decimal::Decimal = plain["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["category"] == "marketing")
        .map(|l| dec(&l["cost"]))
        .sum();
    let marketing_basis: rust_decimal::Decimal = fees
        .iter()
        .filter(|f| f["fee"] == "markup:marketing")
        .map(|f| dec(&f["basis"]))
        .sum();
    assert_eq!(marketing_basis, marketing_charge);
    let fee_sum: rust_decimal::Decimal = fees.iter().map(|f| dec(&f["amount"])).sum();
    assert_eq!(dec(&p["total"]), fee_sum);
    assert_eq!(dec(&with["grand_total"]), dec(&with["total"]) + fee_sum);
    // The table shows both, separately, and the grand total.
    let o = wabill(&["replay", &log, "--accounts", &acc]);
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("provider Acme BSP"), "{t}");
    assert!(t.contains("markup:marketing"), "{t}");
    assert!(
        t.contains(&format!(
            "grand total USD {}",
            with["grand_total"].as_str().unwrap()
        )),
        "{t}"
    );
}

#[test]
fn provider_fees_in_compare_and_estimate() {
    let d = tempfile::tempdir().unwrap();
    let acc = write(d.path(), "acc.toml", PROVIDER);
    let j = ok_json(&[
        "compare",
        "--log",
        &path("data/sample.csv"),
        "--accounts",
        &acc,
        "--rulebook",
        "pmp-2025,pmp-2026",
        "--format",
        "json",
    ]);
    for v in j["variants"].as_array().unwrap() {
        let dec = |v: &Value| {
            v.as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        };
        assert_eq!(
            dec(&v["total"]),
            dec(&v["meta_total"]) + dec(&v["provider"]["total"])
        );
    }
    let o = wabill(&[
        "compare",
        "--log",
        &path("data/sample.csv"),
        "--accounts",
        &acc,
    ]);
    let t = String::from_utf8(o.stdout).unwrap();
    assert!(t.contains("Meta USD") && t.contains("provider"), "{t}");

    // Estimate: 250,000 utility at 0.0014 = 350; markup 10 % = 35; 250,000 sent × 0.001 = 250.
    let j = ok_json(&[
        "estimate",
        "--volume",
        "2026-10,India,utility,250000",
        "--accounts",
        &acc,
        "--format",
        "json",
    ]);
    assert_eq!(j["total"], "350.0000");
    assert_eq!(j["provider"]["total"], "285.0000");
    assert_eq!(j["grand_total"], "635.0000");
    let fees: Vec<&str> = j["provider"]["fees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fee"].as_str().unwrap())
        .collect();
    assert_eq!(fees, ["per_message_sent", "markup:utility"]);
}

#[test]
fn bad_provider_section_is_exit_2_with_key_and_value() {
    let d = tempfile::tempdir().unwrap();
    let acc = write(
        d.path(),
        "acc.toml",
        "[[waba]]\nid = \"default\"\n[provider]\nmarkup = { marketing = \"six percent\" }\n",
    );
    let o = wabill(&["replay", &path("data/sample.csv"), "--accounts", &acc]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("provider.markup.marketing") && e.contains("six percent"),
        "{e}"
    );
}

/// PMP-6 in `estimate` as in `replay`: Indonesian logins of an Indian portfolio that is eligible
/// are authentication-international (USD 2,720 for 20,000, not 500 at the domestic rate);
/// without accounts, or to India, domestic.
#[test]
fn pmp6_estimate_applies_authentication_international_as_replay_does() {
    let acc = path("data/accounts.toml");
    let line = |json: &Value| json["lines"][0].clone();
    let e = estimate(
        &["2026-09,Indonesia,authentication,20000"],
        &["--accounts", &acc],
    );
    assert_eq!(line(&e)["category"], "authentication_international", "{e}");
    assert_eq!(e["total"], "2720.0000", "{e}");
    let e = estimate(&["2026-09,Indonesia,authentication,20000"], &[]);
    assert_eq!(line(&e)["category"], "authentication", "{e}");
    assert_eq!(e["total"], "500.0000", "{e}");
    let e = estimate(
        &["2026-09,India,authentication,20000"],
        &["--accounts", &acc],
    );
    assert_eq!(line(&e)["category"], "authentication", "{e}");
}

/// The estimate of the template volumes a replay counted (per month × market × template
/// category, authentication and authentication-international together) costs what the replay
/// billed for them, under every per-message rulebook: the same PMP-1, PMP-4 and PMP-6.
#[test]
fn pmp6_estimate_of_a_replays_volumes_equals_the_replay() {
    let acc = path("data/accounts.toml");
    let dir = tempfile::tempdir().unwrap();
    for rulebook in ["pmp-2025", "pmp-2026"] {
        let replay = ok_json(&[
            "replay",
            &path("data/sample.csv"),
            "--accounts",
            &acc,
            "--rulebook",
            rulebook,
            "--format",
            "json",
            "--rejects",
            dir.path().join("r.csv").to_str().unwrap(),
        ]);
        let mut volumes: std::collections::BTreeMap<(String, String, String), u64> =
            Default::default();
        let mut billed =
            std::collections::BTreeMap::<(String, String), rust_decimal::Decimal>::new();
        for l in replay["lines"].as_array().unwrap() {
            let cat = l["category"].as_str().unwrap();
            let cat = match cat {
                "authentication_international" => "authentication",
                "marketing" | "utility" | "authentication" => cat,
                _ => continue,
            };
            let (m, market) = (
                l["month"].as_str().unwrap().to_string(),
                l["market"].as_str().unwrap().to_string(),
            );
            *volumes
                .entry((m.clone(), market.clone(), cat.to_string()))
                .or_default() += l["charged"].as_u64().unwrap();
            let cost: rust_decimal::Decimal = l["cost"].as_str().unwrap().parse().unwrap();
            *billed.entry((m, market)).or_default() += cost;
        }
        let flags: Vec<String> = volumes
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|((m, market, c), n)| format!("{m},{market},{c},{n}"))
            .collect();
        assert!(
            flags.iter().any(|f| f.contains(",authentication,")),
            "{flags:?}"
        );
        let mut args = vec![
            "estimate",
            "--accounts",
            &acc,
            "--rulebook",
            rulebook,
            "--format",
            "json",
        ];
        for f in &flags {
            args.extend(["--volume", f]);
        }
        let est = ok_json(&args);
        let mut priced =
            std::collections::BTreeMap::<(String, String), rust_decimal::Decimal>::new();
        for l in est["lines"].as_array().unwrap() {
            let cost: rust_decimal::Decimal = l["cost"].as_str().unwrap().parse().unwrap();
            *priced
                .entry((
                    l["month"].as_str().unwrap().into(),
                    l["market"].as_str().unwrap().into(),
                ))
                .or_default() += cost;
        }
        billed.retain(|k, _| priced.contains_key(k));
        assert_eq!(priced, billed, "{rulebook}");
    }
}

/// Markets as finance types them: Meta's name, an ISO code or a country's English name give the
/// same market (MKT-2 on the month); a thousands separator is named, not read as a WABA; a
/// month after the newest card says which card priced it.
#[test]
fn estimate_markets_by_country_separators_and_the_card_used() {
    let lines = |v: &str| estimate(&[v], &[])["lines"].clone();
    let meta = lines("2026-10,North America,utility,1000");
    assert_eq!(lines("2026-10,US,utility,1000"), meta);
    assert_eq!(lines("2026-10,united states,utility,1000"), meta);
    assert_eq!(
        lines("2026-10,IN,utility,1000"),
        lines("2026-10,India,utility,1000")
    );
    let o = wabill(&["estimate", "--volume", "2026-10,India,utility,300,000"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("thousands separator") && err.contains("300000"),
        "{err}"
    );
    assert!(!err.contains("unknown WABA"), "{err}");
    let o = wabill(&["estimate", "--volume", "2026-10,Atlantis,utility,10"]);
    assert!(
        stderr(&o).contains("ISO code or English name"),
        "{}",
        stderr(&o)
    );
    let o = wabill(&["estimate", "--volume", "2027-03,India,utility,1000"]);
    assert_eq!(o.status.code(), Some(0));
    let err = stderr(&o);
    assert!(
        err.contains("2027-03 is priced with the USD rate card of 2026-10-01")
            && err.contains("newer card"),
        "{err}"
    );
    let o = wabill(&["estimate", "--volume", "2026-10,India,utility,1000"]);
    assert!(!stderr(&o).contains("newer card"), "{}", stderr(&o));
}

/// §4b in an estimate: group deliveries at the 1:1 list rate (GRP-1), tokens for the agent
/// (MBA-1), minutes for calls with their tiers (CALL-3), AI-provider messages (AIP-1) and a
/// marketing volume bounded by its max price (MAXP-1); each figure worked by hand on the
/// illustrative XTS card.
#[test]
fn grp1_mba1_call3_aip1_maxp1_estimate_the_charges_of_2026() {
    let dir = tempfile::tempdir().unwrap();
    let vol = dir.path().join("v.toml");
    std::fs::write(
        &vol,
        "[[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"group_marketing\"\nmessages = 300\n\
         [[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"meta_business_agent\"\ntokens = 1_234_567\n\
         [[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"call\"\nminutes = 15\n\
         [[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"marketing\"\nmessages = 1000\nmax_price = \"0.004\"\n\
         [[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"general_purpose_ai\"\nmessages = 100\n\
         [[volume]]\nmonth = \"2026-07\"\nmarket = \"India\"\ncategory = \"meta_business_agent\"\ntokens = 5000\n",
    )
    .unwrap();
    let args = [
        "estimate",
        vol.to_str().unwrap(),
        "--accounts",
        "tests/fixtures/charges/accounts.toml",
        "--rates",
        "tests/fixtures/charges/rates",
        "--format",
        "json",
    ];
    let o = wabill(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let cost = |cat: &str, month: &str| -> (String, String) {
        let l = j["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["category"] == cat && l["month"] == month)
            .unwrap_or_else(|| panic!("{cat}: {j}"));
        (
            l["cost"].as_str().unwrap().into(),
            l["rule"].as_str().unwrap().into(),
        )
    };
    assert_eq!(
        cost("group_marketing", "2026-11"),
        ("3.0000".into(), "GRP-1".into())
    );
    // 2.00 × 1,234,567 / 1,000,000 = 2.469134.
    assert_eq!(
        cost("meta_business_agent", "2026-11"),
        ("2.469134".into(), "MBA-1".into())
    );
    // Not charged before 2026-08-01.
    assert_eq!(cost("meta_business_agent", "2026-07").0, "0.0000");
    // Minutes 1–10 at 0.0100, 11–15 at 0.0050.
    assert_eq!(cost("call", "2026-11"), ("0.1250".into(), "CALL-3".into()));
    assert_eq!(
        cost("marketing", "2026-11"),
        ("4.0000".into(), "MAXP-1".into())
    );
    assert_eq!(
        cost("general_purpose_ai", "2026-11"),
        ("0.5000".into(), "AIP-1".into())
    );
    let table = wabill(&args[..6]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("meta_business_agent volumes are tokens"),
        "{text}"
    );
    // A max price on anything but marketing is refused.
    std::fs::write(
        &vol,
        "[[volume]]\nmonth = \"2026-11\"\nmarket = \"India\"\ncategory = \"utility\"\nmessages = 1\nmax_price = \"0.1\"\n",
    )
    .unwrap();
    let o = wabill(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("only for marketing volumes (MAXP-1)"),
        "{}",
        stderr(&o)
    );
}
