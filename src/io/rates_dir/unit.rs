//! A card is written as a unit: its files go into a temporary folder beside the card's
//! (`<CUR>/.wabill-import-<date>-<pid>`), which is checked and then renamed into place. A
//! failure (a full disk, a card that does not load) removes the temporary folder and leaves the
//! directory as it was. Replacing a card moves the old folder aside
//! (`.wabill-replaced-<date>-<pid>`) for the instant of the swap; should the process die right
//! then, the loader names that folder and says how to put it back.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::folders::REPLACED;
use super::TEMP_PREFIX;

/// Write `files` (name, bytes) as the card folder `dir`, replacing the folder there if any.
/// `check` looks at the complete temporary folder before it is moved into place.
pub(super) fn write_card(
    dir: &Path,
    files: &[(&str, Vec<u8>)],
    check: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let parent = dir
        .parent()
        .context("a card folder has a currency folder")?;
    let date = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs::create_dir_all(parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    let pid = std::process::id();
    let tmp = parent.join(format!("{TEMP_PREFIX}import-{date}-{pid}"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp)
            .with_context(|| format!("cannot remove the stale {}", tmp.display()))?;
    }
    let staged = stage(&tmp, files).and_then(|()| check(&tmp));
    if let Err(e) = staged {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e.context(format!(
            "the card {} was not written; the rates directory is unchanged",
            dir.display()
        )));
    }
    if dir.exists() {
        let old = parent.join(format!("{TEMP_PREFIX}{REPLACED}{date}-{pid}"));
        fs::rename(dir, &old)
            .with_context(|| format!("cannot move {} aside", dir.display()))
            .inspect_err(|_| {
                let _ = fs::remove_dir_all(&tmp);
            })?;
        if let Err(e) = fs::rename(&tmp, dir) {
            let _ = fs::rename(&old, dir);
            let _ = fs::remove_dir_all(&tmp);
            return Err(e)
                .with_context(|| format!("cannot move the new card to {}", dir.display()));
        }
        // The new card is in place; the old one is only a leftover now (noted if it stays).
        let _ = fs::remove_dir_all(&old);
    } else {
        fs::rename(&tmp, dir)
            .with_context(|| format!("cannot move the new card to {}", dir.display()))
            .inspect_err(|_| {
                let _ = fs::remove_dir_all(&tmp);
            })?;
    }
    // Make the renames durable (best effort: not every file system lets a folder be synced).
    let _ = File::open(parent).and_then(|d| d.sync_all());
    Ok(())
}

/// The files into a new folder `tmp`, each synced to disk.
fn stage(tmp: &Path, files: &[(&str, Vec<u8>)]) -> Result<()> {
    fs::create_dir(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    for (name, bytes) in files {
        let path = tmp.join(name);
        let mut file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_card_is_written_whole_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let card = d.path().join("USD/2026-10-01");
        let files = |r: &str| vec![("rates.csv", r.as_bytes().to_vec())];
        write_card(&card, &files("old\n"), |_| Ok(())).unwrap();
        // A write that fails while staging (a file that cannot be created, as on a full disk).
        let bad = vec![
            ("rates.csv", b"new\n".to_vec()),
            ("no/such/tiers.csv", b"x".to_vec()),
        ];
        assert!(write_card(&card, &bad, |_| Ok(())).is_err());
        // A staged card that does not pass its check.
        let e = write_card(&card, &files("new\n"), |_| anyhow::bail!("a gap")).unwrap_err();
        assert!(
            format!("{e:#}").contains("the rates directory is unchanged"),
            "{e:#}"
        );
        assert_eq!(fs::read_to_string(card.join("rates.csv")).unwrap(), "old\n");
        assert_eq!(names(&d.path().join("USD")), vec!["2026-10-01"]);
        // A replacement swaps the whole folder: no file of the old card survives.
        fs::write(card.join("tiers.csv"), "old tiers\n").unwrap();
        write_card(&card, &files("new\n"), |_| Ok(())).unwrap();
        assert_eq!(names(&card), vec!["rates.csv"]);
        assert_eq!(fs::read_to_string(card.join("rates.csv")).unwrap(), "new\n");
        assert_eq!(names(&d.path().join("USD")), vec!["2026-10-01"]);
    }
}
