//! Issue 19, rate data: damaged rate cards, a second folder for one date, tier tables that do not
//! add up, imports in the wrong currency, over an existing card or interrupted, absurd rates.
//! Each is answered with an error naming file, line and value (or a refusal), never a bill.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::common::{root, stderr, wabill};

/// A copy of the shipped rates directory to damage.
fn rates_copy() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("temp dir");
    let to = d.path().join("rates");
    copy_dir(&root().join("rates"), &to);
    (d, to)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A rates directory with the shipped market table and no card.
fn empty_rates() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("temp dir");
    let to = d.path().join("rates");
    fs::create_dir_all(&to).unwrap();
    fs::copy(
        root().join("rates/market_map.csv"),
        to.join("market_map.csv"),
    )
    .unwrap();
    (d, to)
}

fn append(path: &Path, text: &str) {
    let mut s = fs::read_to_string(path).unwrap();
    s.push_str(text);
    fs::write(path, s).unwrap();
}

fn replay_sample(rates: &Path) -> Output {
    wabill(&[
        "replay",
        "data/sample.csv",
        "--accounts",
        "data/accounts.toml",
        "--rates",
        rates.to_str().unwrap(),
    ])
}

fn check(rates: &Path) -> Output {
    wabill(&["rates", "check", "--rates", rates.to_str().unwrap()])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Exit 2 and every `needle` on stderr.
fn refused(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in:\n{err}");
    }
}

fn meta(name: &str) -> String {
    root()
        .join("tests/fixtures/meta-layout")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn import(rates: &Path, files: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["rates", "import"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--rates", rates.to_str().unwrap()]);
    args.extend_from_slice(extra);
    wabill(&args)
}

const TIERS_HEADER: &str = "market,category,tier,volume_from,volume_to,rate,source\n";

#[test]
fn repeated_market_row_in_a_card_is_an_error_naming_file_line_and_value() {
    let (_d, rates) = rates_copy();
    // Today the last row wins: the sample's total went from 25.0978 to 35.2228.
    append(
        &rates.join("USD/2025-07-01/rates.csv"),
        "India,USD,0.5000,0.5000,0.5000,0.5000,typo\n",
    );
    let o = replay_sample(&rates);
    refused(
        &o,
        &[
            "USD/2025-07-01/rates.csv: line 34, column `market`, value `India`",
            "appears twice in this card (first on line 9)",
        ],
    );
    assert!(stdout(&o).is_empty(), "no bill: {}", stdout(&o));
}

#[test]
fn second_folder_for_one_date_is_an_error() {
    let (_d, rates) = rates_copy();
    copy_dir(&rates.join("USD/2025-07-01"), &rates.join("USD/2025-7-1"));
    copy_dir(&rates.join("USD/2025-10-01"), &rates.join("USD/2025-10-1x"));
    let o = replay_sample(&rates);
    refused(
        &o,
        &[
            "USD: value `2025-7-1`: a second folder for 2025-07-01",
            "USD: value `2025-10-1x`: not a card folder name",
        ],
    );
}

#[test]
fn tier_table_for_a_misspelled_market_is_an_error() {
    let (_d, rates) = rates_copy();
    append(
        &rates.join("USD/2026-07-01/tiers.csv"),
        "2026-07-01,Egpyt,utility,USD,list,0,100000,0.0036,0%,typo\n",
    );
    let o = check(&rates);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "USD/2026-07-01/tiers.csv: line 38, column `market`, value `Egpyt`: tier table for a \
             market that is not on this card's rates.csv (misspelled?)"
        ),
        "{}",
        stdout(&o)
    );
}

#[test]
fn overlapping_or_duplicated_bands_are_errors() {
    let (_d, rates) = rates_copy();
    append(
        &rates.join("USD/2026-10-01/tiers.csv"),
        "2026-10-01,Rest of Africa,utility,USD,1,100001,1000000,0.0038,-5%,again\n\
         2026-10-01,Rest of Africa,utility,USD,9,900000,2000000,0.0001,,overlap\n",
    );
    let o = check(&rates);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(
        out.contains(
            "tiers.csv: line 10, column `volume_from`, value `100001`: Rest of Africa utility: \
             duplicate band: 100001..1000000 is already the band on line 3"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "tiers.csv: line 11, column `volume_from`, value `900000`: Rest of Africa utility: \
             overlapping bands"
        ),
        "{out}"
    );
}

#[test]
fn gap_in_the_middle_of_a_tier_table_is_reported_as_a_gap() {
    let (_d, rates) = empty_rates();
    let card = rates.join("USD/2026-10-01");
    fs::create_dir_all(&card).unwrap();
    fs::write(
        card.join("rates.csv"),
        "market,currency,utility,source\nIndia,USD,0.0014,x\n",
    )
    .unwrap();
    fs::write(
        card.join("tiers.csv"),
        format!("{TIERS_HEADER}India,utility,list,0,100,0.0014,x\nIndia,utility,2,201,,0.0010,x\n"),
    )
    .unwrap();
    // Today: billed until message 101, then "beyond the last volume band".
    let o = wabill(&[
        "estimate",
        "--volume",
        "2026-10,India,utility,300",
        "--rates",
        rates.to_str().unwrap(),
    ]);
    refused(
        &o,
        &[
            "tiers.csv: line 3, column `volume_from`, value `201`: India utility: gap in the tier \
             table: messages 101 to 200 of the month are in no band (the band on line 2 ends at \
             100, this one starts at 201)",
        ],
    );
    assert!(!stderr(&o).contains("beyond"), "{}", stderr(&o));
}

#[test]
fn truncated_card_file_is_an_error_naming_the_cut_line() {
    let (_d, rates) = rates_copy();
    let path = rates.join("USD/2025-07-01/rates.csv");
    let text = fs::read_to_string(&path).unwrap();
    // Cut inside the last line: no line break, fewer cells than the header.
    let cut = &text[..text.trim_end().rfind(',').unwrap() - 12];
    fs::write(&path, cut).unwrap();
    let o = replay_sample(&rates);
    refused(
        &o,
        &[
            "USD/2025-07-01/rates.csv: line 33: the last line has",
            "no line break after it: the file looks cut short (truncated)",
        ],
    );
    // A file ending in a rate column cannot tell a cut cell from a whole one without its line
    // break.
    let (_d2, rates) = empty_rates();
    let card = rates.join("USD/2026-10-01");
    fs::create_dir_all(&card).unwrap();
    fs::write(
        card.join("rates.csv"),
        "market,currency,utility\nIndia,USD,0.0014\nBrazil,USD,0.00",
    )
    .unwrap();
    refused(&check(&rates), &[]);
    assert!(stdout(&check(&rates)).contains(
        "rates.csv: line 3: no line break after the last line, whose last cell is `utility`"
    ));
}

#[test]
fn truncated_pricing_csv_is_refused_at_import() {
    let (_d, rates) = empty_rates();
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(Path::new(&meta("USD-2026-10-01")).join("Pricing.csv")).unwrap();
    let cut = &text[..text.trim_end().len() - 20];
    let file = d.path().join("Pricing.csv");
    fs::write(&file, cut).unwrap();
    let o = import(
        &rates,
        &[file.to_str().unwrap()],
        &["--currency", "USD", "--effective", "2026-10-01"],
    );
    refused(
        &o,
        &["Pricing.csv: line 54: the last line has", "(truncated)"],
    );
    assert!(!rates.join("USD").exists(), "nothing written");
}

#[test]
fn eur_pricing_imported_with_currency_usd_is_refused_unless_confirmed() {
    let (_d, rates) = empty_rates();
    let eur = format!("{}/Pricing.csv", meta("EUR-2026-07-01"));
    let args = ["--currency", "USD", "--effective", "2026-07-01"];
    let o = import(&rates, &[&eur], &args);
    refused(
        &o,
        &[
            "Pricing.csv: line 1, column `title`, value `EUR`: the file is in EUR, not USD",
            "Pricing.csv: line 8, column `Currency`, value `€`: the file is in EUR (38 times), not USD",
            "--currency-mismatch-ok",
        ],
    );
    assert!(!rates.join("USD").exists(), "nothing written");
    // Confirmed: imported, with a notice.
    let o = import(
        &rates,
        &[&eur],
        &[&args[..], &["--currency-mismatch-ok"]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("imported as USD (--currency-mismatch-ok)"));
    // The right currency needs no flag.
    let o = import(
        &rates,
        &[&eur],
        &["--currency", "EUR", "--effective", "2026-07-01"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn import_never_replaces_a_card_without_replace() {
    let (_d, rates) = empty_rates();
    let dir = meta("USD-2026-10-01");
    let (p, t) = (
        format!("{dir}/Pricing.csv"),
        format!("{dir}/Tier Pricing.csv"),
    );
    let args = ["--currency", "USD", "--effective", "2026-10-01"];
    assert_eq!(import(&rates, &[&p, &t], &args).status.code(), Some(0));
    let card = rates.join("USD/2026-10-01");
    let before = fs::read(card.join("rates.csv")).unwrap();
    refused(
        &import(&rates, &[&p, &t], &args),
        &["a card of that currency and date is already there: pass --replace"],
    );
    refused(
        &import(&rates, &[&t], &args),
        &["the card already has a tier table (tiers.csv): pass --replace"],
    );
    assert_eq!(fs::read(card.join("rates.csv")).unwrap(), before);
    // The folder is replaced whole: a file wabill did not write stops it.
    fs::write(card.join("notes.txt"), "mine").unwrap();
    refused(
        &import(&rates, &[&p, &t], &[&args[..], &["--replace"]].concat()),
        &["holds files that are not a card's (notes.txt)"],
    );
    fs::remove_file(card.join("notes.txt")).unwrap();
    let o = import(&rates, &[&p, &t], &[&args[..], &["--replace"]].concat());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("replaced the existing card"));
}

#[test]
fn replace_from_pricing_alone_refuses_to_drop_the_tier_table() {
    let (_d, rates) = empty_rates();
    let dir = meta("USD-2026-10-01");
    let (p, t) = (
        format!("{dir}/Pricing.csv"),
        format!("{dir}/Tier Pricing.csv"),
    );
    let args = ["--currency", "USD", "--effective", "2026-10-01"];
    assert_eq!(import(&rates, &[&p, &t], &args).status.code(), Some(0));
    let o = import(&rates, &[&p], &[&args[..], &["--replace"]].concat());
    refused(
        &o,
        &["replacing the card from a Pricing.csv alone would drop its tier table (tiers.csv)"],
    );
    assert!(rates.join("USD/2026-10-01/tiers.csv").exists());
    // A Tier Pricing.csv alone adds a tier table to a card that has none.
    let (_d2, rates) = empty_rates();
    assert_eq!(import(&rates, &[&p], &args).status.code(), Some(0));
    let o = import(&rates, &[&t], &args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("added a tier table to the existing card"));
    assert!(stdout(&check(&rates)).contains("0 problem(s)"));
}

#[test]
fn import_refuses_a_tier_table_for_a_market_not_on_the_card() {
    let (_d, rates) = empty_rates();
    let d = tempfile::tempdir().unwrap();
    let dir = meta("USD-2026-10-01");
    let tiers = fs::read_to_string(format!("{dir}/Tier Pricing.csv"))
        .unwrap()
        .replace("Rest of Africa", "Rest of Afrika");
    let t = d.path().join("Tier Pricing.csv");
    fs::write(&t, tiers).unwrap();
    let o = import(
        &rates,
        &[&format!("{dir}/Pricing.csv"), t.to_str().unwrap()],
        &["--currency", "USD", "--effective", "2026-10-01"],
    );
    refused(
        &o,
        &["Tier Pricing.csv: line 7, column `Market (per rate card)`, value `Rest of Afrika`: tier table for a market that is not on the card"],
    );
    assert!(!rates.join("USD").exists());
}

#[test]
fn absurd_card_rate_is_refused_at_load_not_a_panic() {
    let (_d, rates) = rates_copy();
    let path = rates.join("USD/2025-07-01/rates.csv");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("India,USD,0.0107,", "India,USD,9223372036854,");
    fs::write(&path, text).unwrap();
    let o = replay_sample(&rates);
    refused(
        &o,
        &["rates.csv: line 9, column `marketing`, value `9223372036854`: rate out of range (at most 1000000.0000 per message)"],
    );
}

#[test]
fn absurd_tier_rate_times_a_volume_is_an_error_not_a_panic() {
    let (_d, rates) = empty_rates();
    let card = rates.join("USD/2026-10-01");
    fs::create_dir_all(&card).unwrap();
    fs::write(
        card.join("rates.csv"),
        "market,currency,utility,source\nIndia,USD,1000000,x\n",
    )
    .unwrap();
    fs::write(
        card.join("tiers.csv"),
        format!("{TIERS_HEADER}India,utility,list,0,,1000000,x\n"),
    )
    .unwrap();
    let o = wabill(&[
        "estimate",
        "--volume",
        "2026-10,India,utility,10000000",
        "--rates",
        rates.to_str().unwrap(),
    ]);
    refused(&o, &["--volume #1", "exceeds the largest amount"]);
}

#[test]
fn leftover_empty_or_temp_card_folder_does_not_break_replays() {
    let (_d, rates) = rates_copy();
    // What an import that failed half-way used to leave, and what an interrupted one leaves now.
    fs::create_dir_all(rates.join("USD/2027-01-01")).unwrap();
    let tmp = rates.join("USD/.wabill-import-2027-02-01-4242");
    fs::create_dir_all(&tmp).unwrap();
    fs::write(tmp.join("rates.csv"), "market,cur").unwrap();
    let o = replay_sample(&rates);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("total USD 25.0978"), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("USD/2027-01-01: an empty card folder"),
        "{err}"
    );
    assert!(
        err.contains(
            ".wabill-import-2027-02-01-4242: left by an interrupted `rates import`, ignored"
        ),
        "{err}"
    );
    // A card moved aside for a swap that never finished is named, with the way back.
    fs::rename(
        rates.join("USD/2025-07-01"),
        rates.join("USD/.wabill-replaced-2025-07-01-4242"),
    )
    .unwrap();
    refused(
        &replay_sample(&rates),
        &[
            "an interrupted `rates import` left the previous card of 2025-07-01 here",
            "rename this folder to",
        ],
    );
}

#[test]
fn import_killed_by_a_full_disk_leaves_no_folder_that_breaks_replays() {
    let (_d, rates) = rates_copy();
    let dir = meta("USD-2026-10-01");
    // A file-size limit of 1 KB: the write of rates.csv hits it (SIGXFSZ, as a full disk or a
    // crash would stop the process half-way).
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 2; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_wabill"))
        .args([
            "rates",
            "import",
            &format!("{dir}/Pricing.csv"),
            &format!("{dir}/Tier Pricing.csv"),
        ])
        .args(["--currency", "USD", "--effective", "2027-01-01", "--rates"])
        .arg(&rates)
        .current_dir(root())
        .output()
        .unwrap();
    assert_ne!(
        o.status.code(),
        Some(0),
        "the import must have been stopped"
    );
    assert!(
        !rates.join("USD/2027-01-01").exists(),
        "no half card in place"
    );
    let o = replay_sample(&rates);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("total USD 25.0978"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("left by an interrupted `rates import`, ignored"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn refused_import_leaves_the_rates_directory_as_it_was() {
    // An import that fails (here a gap in the Tier Pricing.csv; a full disk fails the same way,
    // while staging: see `unit.rs`) leaves the card as it was and no folder behind.
    let (_d, rates) = empty_rates();
    let dir = meta("USD-2026-10-01");
    let p = format!("{dir}/Pricing.csv");
    let args = ["--currency", "USD", "--effective", "2026-10-01"];
    assert_eq!(import(&rates, &[&p], &args).status.code(), Some(0));
    let card = rates.join("USD/2026-10-01");
    let before = fs::read(card.join("rates.csv")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join("Tier Pricing.csv");
    let text = fs::read_to_string(format!("{dir}/Tier Pricing.csv")).unwrap();
    fs::write(&t, text.replace("\"80,000,001\",--", "\"80,000,002\",--")).unwrap();
    let o = import(&rates, &[t.to_str().unwrap()], &args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(fs::read(card.join("rates.csv")).unwrap(), before);
    assert!(!card.join("tiers.csv").exists());
    let names: Vec<String> = fs::read_dir(rates.join("USD"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["2026-10-01"], "no leftovers");
}

#[test]
fn rates_check_lists_every_problem_and_exits_2() {
    let shipped = wabill(&["rates", "check", "--rates", "rates"]);
    assert_eq!(shipped.status.code(), Some(0), "{}", stdout(&shipped));
    assert!(stdout(&shipped).contains("0 problem(s)"));
    let (_d, rates) = rates_copy();
    append(
        &rates.join("USD/2025-07-01/rates.csv"),
        "India,USD,0.1,0.1,0.1,0.1,x\n",
    );
    append(
        &rates.join("USD/2026-07-01/rates.csv"),
        "Peru,EUR,0.1,0.1,0.1,abc,2.00,x\n",
    );
    fs::write(rates.join("USD/2026-10-01/tier.csv"), "").unwrap();
    fs::create_dir_all(rates.join("usd")).unwrap();
    let o = check(&rates);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    for needle in [
        "2025-07-01/rates.csv: line 34, column `market`, value `India`: market appears twice",
        "2026-07-01/rates.csv: line 40, column `currency`, value `EUR`: the cell says EUR, but the card is in the folder of USD",
        "2026-07-01/rates.csv: line 40, column `market`, value `Peru`: market appears twice",
        "2026-07-01/rates.csv: line 40, column `authentication_international`, value `abc`: not a rate",
        "2026-10-01: value `tier.csv`: not a file of a card folder",
        "rates/usd: value `usd`: a currency folder is an ISO code in capitals",
        "6 problem(s)",
    ] {
        assert!(out.contains(needle), "`{needle}` not in:\n{out}");
    }
    let help = stdout(&wabill(&["rates", "check", "--help"]));
    assert!(
        help.contains("Exit code 0: no problem; 2: problems"),
        "{help}"
    );
}

/// Issue 13: a file that is not a rate card (a pasted code comment, markets named
/// `//   Indonesia`) is refused at import, naming the line and value; nothing is written.
#[test]
fn import_refuses_a_file_whose_markets_are_not_markets() {
    let (_d, rates) = empty_rates();
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("Pricing.csv");
    fs::write(
        &file,
        "title\nMarket,Currency,Marketing,Utility,Authentication,\"Authentication-\nInternational\",Service\n\
         //   Indonesia,$US,0.1,0.1,0.1,,0.1\n",
    )
    .unwrap();
    let o = import(
        &rates,
        &[file.to_str().unwrap()],
        &["--currency", "USD", "--effective", "2026-11-01"],
    );
    refused(
        &o,
        &[
            "Pricing.csv: line 4",
            "`//   Indonesia`",
            "not a market name",
        ],
    );
    assert!(!rates.join("USD").exists(), "nothing written");
}

/// Issue 13: rates written with thousands separators (`"1,940.13"`, as in Meta's IDR files)
/// are read exactly; a misplaced separator is an error naming the cell.
#[test]
fn import_reads_rates_with_thousands_separators() {
    let (_d, rates) = empty_rates();
    let d = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(Path::new(&meta("USD-2026-10-01")).join("Pricing.csv")).unwrap();
    let line = text.lines().find(|l| l.starts_with("Indonesia,")).unwrap();
    let idr = text.replace(line, "Indonesia,$US,\"1,940.13\",250.00,250.00,,250.00");
    let file = d.path().join("Pricing.csv");
    fs::write(&file, &idr).unwrap();
    let o = import(
        &rates,
        &[file.to_str().unwrap()],
        &["--currency", "USD", "--effective", "2026-10-01"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let card = fs::read_to_string(rates.join("USD/2026-10-01/rates.csv")).unwrap();
    assert!(card.contains("1940.13"), "{card}");
    fs::write(&file, idr.replace("\"1,940.13\"", "\"19,40.13\"")).unwrap();
    let o = import(
        &rates,
        &[file.to_str().unwrap()],
        &["--currency", "USD", "--effective", "2026-11-01"],
    );
    refused(
        &o,
        &["misplaced thousands separator in a rate", "`19,40.13`"],
    );
}
