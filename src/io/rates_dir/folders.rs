//! The folders of a rates directory: `<CUR>/` (an ISO code in capitals) holding one card folder
//! per date, named exactly `YYYY-MM-DD`. Anything else in a currency folder is a problem (a
//! second spelling of a date, a stray file), except hidden entries: the leftovers of an
//! interrupted `rates import` (named [`TEMP_PREFIX`]…) are noted and left aside, others (such
//! as `.DS_Store`) ignored. An empty card folder holds no card: noted and skipped.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::card::CardFolder;
use super::findings::{Findings, Problem};
use super::{RATES_FILE, TEMP_PREFIX, TIERS_FILE};

/// What `rates import` names the previous card while it swaps a new one in.
pub(super) const REPLACED: &str = "replaced-";

/// The entries of a folder, in name order (names that are not UTF-8 kept lossily).
fn entries(dir: &Path, f: &mut Findings) -> Vec<(String, PathBuf, bool)> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) => {
            f.problem(Problem::at(dir, format!("cannot read the folder: {e}")));
            return Vec::new();
        }
    };
    let mut out: Vec<(String, PathBuf, bool)> = read
        .filter_map(|e| e.ok())
        .map(|e| {
            let path = e.path();
            let is_dir = path.is_dir();
            (e.file_name().to_string_lossy().into_owned(), path, is_dir)
        })
        .collect();
    out.sort();
    out
}

/// The card folders under `root`, in currency then date order.
pub(super) fn card_folders(root: &Path, f: &mut Findings) -> Vec<CardFolder> {
    let mut cards = Vec::new();
    for (name, path, is_dir) in entries(root, f) {
        if !is_dir || name.starts_with('.') {
            continue;
        }
        if name.len() != 3 || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
            continue; // not a currency folder (e.g. reference/)
        }
        if !name.bytes().all(|b| b.is_ascii_uppercase()) {
            f.problem(Problem::named(
                &path,
                &name,
                format!(
                    "a currency folder is an ISO code in capitals: rename it {}",
                    name.to_ascii_uppercase()
                ),
            ));
            continue;
        }
        cards.extend(date_folders(&name, &path, f));
    }
    cards
}

/// `YYYY-MM-DD` exactly (a real date).
fn card_date(name: &str) -> Option<NaiveDate> {
    let b = name.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(name, "%Y-%m-%d").ok()
}

/// A name that reads as a date when written loosely (`2025-7-1`, `2025_07_01`).
fn loose_date(name: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = name
        .split(['-', '_', '.', ' '])
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let num = |s: &str| s.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?)
}

/// The card folders of one currency folder.
fn date_folders(currency: &str, dir: &Path, f: &mut Findings) -> Vec<CardFolder> {
    let all = entries(dir, f);
    let dates: Vec<NaiveDate> = all
        .iter()
        .filter(|(_, _, is_dir)| *is_dir)
        .filter_map(|(n, _, _)| card_date(n))
        .collect();
    let mut cards = Vec::new();
    for (name, path, is_dir) in &all {
        if name.starts_with('.') {
            hidden(name, path, dir, &dates, f);
            continue;
        }
        let date = card_date(name).filter(|_| *is_dir);
        let Some(date) = date else {
            f.problem(Problem::named(dir, name, misnamed(name, *is_dir, &dates)));
            continue;
        };
        if let Some(card) = card_folder(currency, date, path, f) {
            cards.push(card);
        }
    }
    cards
}

/// Why an entry of a currency folder is not a card folder.
fn misnamed(name: &str, is_dir: bool, dates: &[NaiveDate]) -> String {
    if !is_dir {
        return "not a card folder: a currency folder holds only folders named YYYY-MM-DD"
            .to_string();
    }
    match loose_date(name) {
        Some(d) if dates.contains(&d) => format!(
            "a second folder for {d}, which has its folder `{d}`: a card folder is named \
             exactly YYYY-MM-DD; remove one of them"
        ),
        Some(d) => format!(
            "not a card folder name: a card folder is named exactly YYYY-MM-DD (rename it {d})"
        ),
        None => "not a card folder name: a card folder is named exactly YYYY-MM-DD \
                 (e.g. 2025-07-01)"
            .to_string(),
    }
}

/// A hidden entry of a currency folder: `rates import`'s leftovers are noted (or, for a
/// previous card whose replacement never arrived, a problem); others are ignored.
fn hidden(name: &str, path: &Path, dir: &Path, dates: &[NaiveDate], f: &mut Findings) {
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return;
    };
    let replaced_date = rest
        .strip_prefix(REPLACED)
        .and_then(|r| r.get(..10))
        .and_then(card_date);
    match replaced_date {
        Some(d) if !dates.contains(&d) => f.problem(Problem::at(
            path,
            format!(
                "an interrupted `rates import` left the previous card of {d} here and no \
                 folder `{d}`: rename this folder to {} (or import the card again)",
                dir.join(d.format("%Y-%m-%d").to_string()).display()
            ),
        )),
        _ => f.note(format!(
            "{}: left by an interrupted `rates import`, ignored (safe to delete)",
            path.display()
        )),
    }
}

/// A card folder holds `rates.csv` and perhaps `tiers.csv`; an empty one is skipped.
fn card_folder(
    currency: &str,
    date: NaiveDate,
    path: &Path,
    f: &mut Findings,
) -> Option<CardFolder> {
    let files = entries(path, f);
    let mut has_rates = false;
    let mut others = 0;
    for (name, file, _) in &files {
        if name == RATES_FILE {
            has_rates = true;
        } else if name.starts_with('.') {
            if name.contains(".tmp") {
                f.note(format!(
                    "{}: a temporary file left by an interrupted write, ignored (safe to delete)",
                    file.display()
                ));
            }
        } else if name != TIERS_FILE {
            f.problem(Problem::named(
                path,
                name,
                format!("not a file of a card folder (it holds {RATES_FILE} and {TIERS_FILE})"),
            ));
        } else {
            others += 1;
        }
    }
    if has_rates {
        return Some(CardFolder {
            currency: currency.to_string(),
            date,
            path: path.to_path_buf(),
        });
    }
    if others == 0 && f.problems.iter().all(|p| p.path != path) {
        f.note(format!(
            "{}: an empty card folder (an interrupted import?), ignored: remove it",
            path.display()
        ));
    } else {
        f.problem(Problem::at(
            path,
            format!(
                "missing {RATES_FILE}: a card folder holds {RATES_FILE} (and perhaps {TIERS_FILE})"
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_folder_names_are_exact_dates() {
        assert!(card_date("2025-07-01").is_some());
        for bad in [
            "2025-7-1",
            "2025-07-1",
            "2025-02-30",
            "2025/07/01",
            " 2025-07-01",
            "20250701",
        ] {
            assert!(card_date(bad).is_none(), "{bad}");
        }
        assert_eq!(loose_date("2025-7-1"), NaiveDate::from_ymd_opt(2025, 7, 1));
        assert_eq!(
            loose_date("2025_07_01"),
            NaiveDate::from_ymd_opt(2025, 7, 1)
        );
        assert_eq!(loose_date("old"), None);
    }
}
