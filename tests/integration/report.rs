//! Report folders (`wabill replay --report`): every file present, charts that are valid SVG and
//! PNG and say what they show, an HTML page that needs nothing from the network, and chart data
//! that agrees with the JSON breakdown.

use super::common::root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use quick_xml::events::Event;
use wabill::billing::money::Money;
use wabill::cmd::load_inputs;
use wabill::io::log::LogFormat;
use wabill::replay::service::price;
use wabill::report::breakdown;
use wabill::report::charts::{self, Chart, SIZE};
use wabill::report::site::{self, Report};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Replay a log through the library and build its report in memory.
fn build_report(log: &Path, accounts: Option<&Path>) -> Report {
    let rates = root().join("rates");
    let inputs = load_inputs(accounts, Some(&rates), None).unwrap();
    let log = inputs
        .read(log, LogFormat::from_path(log), &Default::default(), &|_| {})
        .unwrap();
    let r = price(log, inputs, None, None).unwrap();
    let cards = breakdown::rate_cards(&r.rates.book, &r.summary.currency);
    let json = breakdown::json(&r.summary, &r.accounts, None, cards).unwrap();
    site::build(&site::Input {
        log: &r.log,
        replay: &r.replay,
        markets: &r.rates.markets,
        accounts: &r.accounts,
        rates: &r.rates.book,
        report: &json,
        log_name: "test.csv",
        rates_label: "rates/",
    })
    .unwrap()
}

fn small() -> Report {
    build_report(&fixture("small.csv"), Some(&fixture("accounts.toml")))
}

/// Run the binary on the small fixture with `--report DIR --format json`; returns the JSON.
fn run_report(dir: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .arg("replay")
        .arg(fixture("small.csv"))
        .arg("--accounts")
        .arg(fixture("accounts.toml"))
        .arg("--format")
        .arg("json")
        .arg("--report")
        .arg(dir)
        .current_dir(root())
        .output()
        .expect("run wabill");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is still only the JSON object")
}

/// Parse an SVG as XML (well-formed, one root `svg` element) and return the text of its
/// `<text>` elements, with entity references resolved.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut r = quick_xml::Reader::from_str(svg);
    r.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    let mut texts = Vec::new();
    let mut current: Option<String> = None;
    loop {
        let ev = r
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML at {}: {e}", r.buffer_position()));
        match ev {
            Event::Start(e) | Event::Empty(e) if depth == 0 && roots > 0 => {
                panic!("second root element <{:?}>", e.name())
            }
            Event::Start(e) => {
                for a in e.attributes().with_checks(true) {
                    a.expect("well-formed attribute");
                }
                if depth == 0 {
                    assert_eq!(e.name().as_ref(), b"svg", "root element");
                    roots += 1;
                }
                if e.name().as_ref() == b"text" {
                    current = Some(String::new());
                }
                depth += 1;
            }
            Event::Empty(e) => {
                for a in e.attributes().with_checks(true) {
                    a.expect("well-formed attribute");
                }
                assert!(depth > 0, "empty root element");
            }
            Event::End(e) => {
                depth -= 1;
                if e.name().as_ref() == b"text" {
                    texts.push(current.take().unwrap().trim().to_string());
                }
            }
            Event::Text(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t.decode().unwrap());
                }
            }
            Event::GeneralRef(g) => {
                let ch = if g.is_char_ref() {
                    g.resolve_char_ref().unwrap().expect("valid char ref")
                } else {
                    match g.decode().unwrap().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undefined entity &{other};"),
                    }
                };
                if let Some(c) = current.as_mut() {
                    c.push(ch);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
    assert_eq!(roots, 1, "one root element");
    texts
}

/// PNG signature, then decode: 8-bit RGB of the slide size.
fn check_png(png: &[u8], what: &str) {
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{what}: not a PNG signature"
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG image data");
    assert_eq!((info.width, info.height), SIZE, "{what}: size");
    // Not a blank image: some pixels are dark (text, axes).
    assert!(
        buf.chunks(3).any(|p| p.iter().all(|c| *c < 80)),
        "{what}: no dark pixels"
    );
}

/// A chart is valid SVG and PNG, and its SVG shows its title, axis labels and legend entries.
fn check_chart(c: &Chart) {
    let texts = svg_texts(&c.svg);
    let has = |s: &str| texts.iter().any(|t| t == s);
    assert!(
        has(&c.title),
        "{}: title {:?} not in {texts:?}",
        c.name,
        c.title
    );
    assert!(!c.axis_labels.is_empty(), "{}: no axis labels", c.name);
    for a in &c.axis_labels {
        assert!(has(a), "{}: axis label {a:?} not in {texts:?}", c.name);
    }
    assert!(!c.legend.is_empty(), "{}: no legend", c.name);
    for l in &c.legend {
        assert!(has(l), "{}: legend entry {l:?} not in {texts:?}", c.name);
    }
    check_png(&c.png, &c.name);
}

#[test]
fn report_charts_are_valid_svg_and_png_with_title_axes_and_legend() {
    let r = small();
    let names: Vec<&str> = r.charts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["monthly-cost", "market-cost", "daily-spend"]);
    for c in &r.charts {
        check_chart(c);
    }
    // The small log spans the 2025-07-01 switch: both markers are drawn and in the legend.
    let daily = &r.charts[2];
    let texts = svg_texts(&daily.svg);
    assert!(daily.legend.contains(&"rate-card change".to_string()));
    assert!(daily.legend.contains(&"rulebook change".to_string()));
    for label in ["rulebook pmp-2025", "USD card 2025-07-01"] {
        assert!(texts.iter().any(|t| t == label), "{label}: {texts:?}");
    }
    assert!(daily
        .axis_labels
        .contains(&"Spend per day (USD)".to_string()));
}

#[test]
fn report_folder_is_complete_and_its_page_needs_no_network() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("r");
    run_report(&dir);
    for f in ["index.html", "summary.md", "breakdown.csv", "data.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let lib = small();
    for c in &lib.charts {
        // The files are the charts checked above, byte for byte (deterministic drawing).
        let svg = std::fs::read_to_string(dir.join(format!("charts/{}.svg", c.name))).unwrap();
        assert_eq!(svg, c.svg, "{}.svg", c.name);
        let png = std::fs::read(dir.join(format!("charts/{}.png", c.name))).unwrap();
        assert_eq!(png, c.png, "{}.png", c.name);
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "no scripts at all");
    assert!(
        !lower.contains("@import") && !lower.contains("url("),
        "no CSS fetches"
    );
    assert!(!lower.contains("<link"), "no linked resources");
    assert!(!lower.contains("<img"), "charts are inline, not images");
    // Every src/href is a relative path to a file of the report.
    let mut links = 0;
    for attr in ["src=", "href=", "xlink:href="] {
        for (i, _) in lower.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            let q = rest.chars().next().unwrap();
            assert!(q == '"' || q == '\'', "unquoted {attr} at {i}");
            let value = &rest[1..rest[1..].find(q).unwrap() + 1];
            let v = value.to_ascii_lowercase();
            assert!(
                !v.starts_with("http:") && !v.starts_with("https:") && !v.starts_with("//"),
                "external URL {value}"
            );
            assert!(!v.contains(':'), "URL with a scheme: {value}");
            assert!(dir.join(value).is_file(), "{value} does not exist");
            links += 1;
        }
    }
    assert!(links >= 6, "chart file links");
    // Each chart is inline and the page carries the headline figures and provenance.
    assert_eq!(html.matches("<svg ").count(), lib.charts.len());
    for needle in [
        "Total cost",
        "Share of free units",
        "Top market",
        "rates/reference/PROVENANCE.md",
        "USD/2025-07-01",
        "pmp-2025",
        "cbp-2024",
        "No volume-tier chart",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("(charts/monthly-cost.png)"));
    assert!(md.contains("PROVENANCE.md"));
}

fn money(v: &serde_json::Value) -> Money {
    Money::parse(v.as_str().expect("money is a string")).unwrap()
}

#[test]
fn chart_data_matches_the_json_breakdown() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("r");
    let json = run_report(&dir);
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("data.json")).unwrap()).unwrap();
    let lines = json["lines"].as_array().unwrap();
    assert!(!lines.is_empty());

    // Month × category (the monthly chart's segments).
    let mut want: BTreeMap<(String, String), (u64, u64, Money)> = BTreeMap::new();
    let mut by_market: BTreeMap<String, (u64, u64, Money)> = BTreeMap::new();
    let mut by_month: BTreeMap<String, Money> = BTreeMap::new();
    for l in lines {
        let s = |k: &str| l[k].as_str().unwrap().to_string();
        let (c, f, m) = (
            l["charged"].as_u64().unwrap(),
            l["free"].as_u64().unwrap(),
            money(&l["cost"]),
        );
        let e = want.entry((s("month"), s("category"))).or_default();
        *e = (e.0 + c, e.1 + f, e.2 + m);
        let e = by_market.entry(s("market")).or_default();
        *e = (e.0 + c, e.1 + f, e.2 + m);
        *by_month.entry(s("month")).or_default() += m;
    }
    let got: BTreeMap<(String, String), (u64, u64, Money)> = data["month_categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                (
                    x["month"].as_str().unwrap().to_string(),
                    x["category"].as_str().unwrap().to_string(),
                ),
                (
                    x["charged"].as_u64().unwrap(),
                    x["free"].as_u64().unwrap(),
                    money(&x["cost"]),
                ),
            )
        })
        .collect();
    assert_eq!(got, want);
    for m in data["months"].as_array().unwrap() {
        assert_eq!(money(&m["cost"]), by_month[m["month"].as_str().unwrap()]);
    }

    // Markets: the named ones equal their lines; "others" is the sum of what it groups.
    let mut seen = 0;
    for m in data["markets"].as_array().unwrap() {
        let name = m["market"].as_str().unwrap();
        let mut expect = (0, 0, Money::ZERO);
        let names: Vec<String> = if name == "others" {
            m["grouped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap().to_string())
                .collect()
        } else {
            vec![name.to_string()]
        };
        for n in &names {
            let x = by_market[n];
            expect = (expect.0 + x.0, expect.1 + x.1, expect.2 + x.2);
            seen += 1;
        }
        assert_eq!(
            (
                m["charged"].as_u64().unwrap(),
                m["free"].as_u64().unwrap(),
                money(&m["cost"])
            ),
            expect,
            "{name}"
        );
    }
    assert_eq!(seen, by_market.len(), "every market is in the chart once");

    // Days come from the per-message outcomes, not the lines: same total, same units.
    let total = money(&json["total"]);
    assert_eq!(money(&data["cost"]), total);
    let days = data["days"].as_array().unwrap();
    let day_sum: Money = days.iter().map(|x| money(&x["cost"])).sum();
    assert_eq!(day_sum, total);
    let units = |k: &str| -> u64 { lines.iter().map(|l| l[k].as_u64().unwrap()).sum() };
    let day_units = |k: &str| -> u64 { days.iter().map(|l| l[k].as_u64().unwrap()).sum() };
    assert_eq!(day_units("charged"), units("charged"));
    assert_eq!(day_units("free"), units("free"));
    // Dense: one entry per calendar day from first to last.
    let first =
        chrono::NaiveDate::parse_from_str(days[0]["date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let last = chrono::NaiveDate::parse_from_str(
        days.last().unwrap()["date"].as_str().unwrap(),
        "%Y-%m-%d",
    )
    .unwrap();
    assert_eq!(days.len() as i64, (last - first).num_days() + 1);

    // breakdown.csv is the same breakdown.
    let csv = std::fs::read_to_string(dir.join("breakdown.csv")).unwrap();
    assert_eq!(csv.lines().count(), lines.len() + 1);
}

#[test]
fn tier_progress_is_drawn_for_markets_with_tier_tables() {
    // July 2026: the USD card of 2026-07-01 has utility tier tables for Egypt and Saudi Arabia,
    // none for India.
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("tiers.csv");
    let mut body = String::from("timestamp,direction,user,type,category,status\n");
    for (day, n) in [(2, 3), (5, 2), (9, 4)] {
        for i in 0..n {
            body.push_str(&format!(
                "2026-07-{day:02}T10:{i:02}:00Z,out,+2010123456{i:02},template,utility,delivered\n"
            ));
        }
    }
    body.push_str("2026-07-03T10:00:00Z,out,+966501234567,template,utility,delivered\n");
    body.push_str("2026-07-03T11:00:00Z,out,+919812345601,template,utility,delivered\n");
    std::fs::write(&log, body).unwrap();
    let r = build_report(&log, None);
    let tiers = &r.data.tiers;
    let names: Vec<(&str, &str)> = tiers
        .iter()
        .map(|t| (t.market.as_str(), t.category.as_str()))
        .collect();
    assert_eq!(names, [("Egypt", "utility"), ("Saudi Arabia", "utility")]);
    let eg = &tiers[0];
    assert_eq!(eg.month, "2026-07");
    assert_eq!(eg.cumulative, [(2, 3), (5, 5), (9, 9)]);
    assert_eq!(eg.thresholds[0].from, 100_001);
    assert_eq!(eg.reached(), 0);
    assert_eq!(eg.card, "USD/2026-07-01");
    let chart = r
        .charts
        .iter()
        .find(|c| c.name == "tier-progress-2026-07")
        .expect("tier chart");
    check_chart(chart);
    assert!(chart
        .legend
        .contains(&"Egypt utility (units so far)".to_string()));
    assert!(chart.legend.contains(&"tier threshold".to_string()));
    // Egypt and Saudi Arabia share the 100,001 threshold: one line, both rates.
    let texts = svg_texts(&chart.svg);
    assert!(
        texts.iter().any(|t| {
            t
            == "tier 1 from message 100,001: Egypt utility 0.0034, Saudi Arabia utility 0.0102 USD"
        }),
        "{texts:?}"
    );
    // 9 and 1 units are far below 100,001: the count axis is logarithmic.
    assert!(chart
        .axis_labels
        .contains(&"Charged units this month (log scale)".to_string()));
    assert!(!r.html.contains("No volume-tier chart"));
}

#[test]
fn a_log_without_billable_units_still_gives_a_report() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("quiet.csv");
    std::fs::write(
        &log,
        "timestamp,direction,user,type,category,status\n\
         2025-08-01T10:00:00Z,in,+919812345601,,,\n\
         2025-08-01T11:00:00Z,out,+919812345601,template,marketing,failed\n",
    )
    .unwrap();
    let r = build_report(&log, None);
    assert_eq!(r.data.totals.units(), 0);
    for c in &r.charts {
        let texts = svg_texts(&c.svg);
        assert!(
            texts.iter().any(|t| t.starts_with("No billable units")),
            "{}",
            c.name
        );
        check_png(&c.png, &c.name);
    }
}

#[test]
fn variant_bars_stack_categories_per_variant() {
    let m = |s: &str| Money::parse(s).unwrap();
    let variants = vec![
        (
            "today".to_string(),
            vec![
                ("marketing".to_string(), m("120.50")),
                ("utility".to_string(), m("30.25")),
            ],
        ),
        (
            "pmp-2026 & tiers".to_string(),
            vec![
                ("marketing".to_string(), m("120.50")),
                ("utility".to_string(), m("21.10")),
                ("service".to_string(), m("8.00")),
            ],
        ),
    ];
    let c = charts::variant_bars("EUR", &variants).unwrap();
    check_chart(&c);
    // Legends in plain words, not the categories' ids (issue 16).
    assert_eq!(c.legend, ["Marketing", "Utility", "Service"]);
    assert_eq!(
        charts::category_label("authentication_international"),
        "Authentication (international)"
    );
    assert!(c.axis_labels.contains(&"Cost (EUR)".to_string()));
    let texts = svg_texts(&c.svg);
    assert!(texts.iter().any(|t| t == "pmp-2026 & tiers"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "150.75"), "bar total {texts:?}");
}

#[test]
fn sweep_line_plots_cost_per_resolved_issue() {
    let points: Vec<(f64, Money)> = [(0.9, 412_000), (0.5, 980_000), (0.7, 640_000)]
        .into_iter()
        .map(|(x, micros)| (x, Money(micros)))
        .collect();
    let c = charts::sweep_line("USD", "first-contact resolution rate", &points).unwrap();
    check_chart(&c);
    assert_eq!(c.legend, ["cost per resolved issue"]);
    assert_eq!(
        c.axis_labels,
        [
            "first-contact resolution rate",
            "Cost per resolved issue (USD)"
        ]
    );
    // Empty input still draws a chart that says so.
    let empty = charts::sweep_line("USD", "FCR", &[]).unwrap();
    assert!(svg_texts(&empty.svg).iter().any(|t| t == "No points"));
}

#[test]
fn bare_report_flag_writes_to_reports_and_the_log_name() {
    let d = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wabill"))
        .arg("replay")
        .arg(fixture("small.csv"))
        .arg("--accounts")
        .arg(fixture("accounts.toml"))
        .arg("--report")
        .current_dir(d.path())
        .output()
        .expect("run wabill");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = d.path().join("reports/small/index.html");
    assert!(page.is_file());
    assert!(String::from_utf8_lossy(&out.stderr).contains("report written to"));
}

/// The HTML breakdown has a subtotal after each month's lines (issue 16), each the sum of them.
#[test]
fn html_breakdown_has_month_subtotals_that_add_up() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("r");
    run_report(&dir);
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    let table = &html[html.find("<h2>Breakdown</h2>").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let cell = |row: &str, k: usize| -> String {
        row.split("<td")
            .nth(k)
            .unwrap()
            .split('>')
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    let mut sum = rust_decimal::Decimal::ZERO;
    let mut subtotals = 0;
    for row in table.split("<tr").skip(2) {
        if row.contains("class=\"subtotal\"") {
            let shown: rust_decimal::Decimal = cell(row, 5).parse().unwrap();
            assert_eq!(shown, sum, "{row}");
            sum = rust_decimal::Decimal::ZERO;
            subtotals += 1;
        } else if !row.contains("class=\"total\"") {
            sum += cell(row, 8).parse::<rust_decimal::Decimal>().unwrap();
        }
    }
    assert!(subtotals >= 2, "{table}");
}

/// A chart pasted on its own says its period and sources (issue 16): the note in its corner.
#[test]
fn charts_carry_the_period_and_the_rate_cards() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("r");
    run_report(&dir);
    let svg = std::fs::read_to_string(dir.join("charts/monthly-cost.svg")).unwrap();
    let texts = svg_texts(&svg);
    assert!(
        texts
            .iter()
            .any(|t| t.contains(" to ") && t.contains("rate cards USD") && t.ends_with("wabill")),
        "{texts:?}"
    );
}
