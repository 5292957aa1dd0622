//! A folder written as a unit (a report folder): the new files go to a temporary folder beside
//! it, and only when all are written is the old folder swapped for the new one, so a failed or
//! interrupted run leaves the previous folder whole and never a mix of old and new files.
//!
//! wabill deletes only what it wrote. A folder it writes carries a marker file listing the
//! files it wrote there; on the next run those are replaced, and any other file in the folder
//! (notes the user added) is moved into the new folder. A folder that exists, is not empty and
//! has no marker is refused, unless its files are exactly those an earlier version of wabill
//! wrote ([`Kind::legacy`]). A folder given as a symbolic link is refused (the link would be
//! replaced, not the folder).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::guard::resolve;
use crate::io::cleanup;

/// A kind of folder wabill writes as a unit.
pub struct Kind {
    /// The marker file's name, e.g. `.wabill-report`.
    pub marker: &'static str,
    /// What the folder is, for messages: `report folder`.
    pub what: &'static str,
    /// Whether a folder without a marker holding exactly these files (relative paths) was
    /// written by an earlier version of wabill.
    pub legacy: fn(&BTreeSet<PathBuf>) -> bool,
}

/// What is at a folder's path before it is written.
enum Found {
    Missing,
    Empty,
    /// A folder wabill wrote, with the files it wrote there (relative paths).
    Ours(BTreeSet<PathBuf>),
}

/// Whether wabill may write `dir` (before any work is done): a new or empty folder, or one it
/// wrote before.
pub fn check(dir: &Path, kind: &Kind) -> Result<()> {
    found(dir, kind).map(|_| ())
}

fn found(dir: &Path, kind: &Kind) -> Result<Found> {
    let meta = match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => bail!("{}: cannot read: {e}", dir.display()),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        bail!(
            "{}: is a symbolic link: give the folder itself (a {} is replaced as a whole)",
            dir.display(),
            kind.what
        );
    }
    if !meta.is_dir() {
        bail!("{}: is a file, not a folder", dir.display());
    }
    if fs::read_dir(dir)?.next().is_none() {
        return Ok(Found::Empty);
    }
    match fs::read_to_string(dir.join(kind.marker)) {
        Ok(text) => Ok(Found::Ours(listed(&text))),
        Err(_) => {
            let files = files_under(dir)?;
            if (kind.legacy)(&files) {
                return Ok(Found::Ours(files));
            }
            bail!(
                "{}: a folder that is not empty and that wabill did not write (it has no {} file): a {} is replaced as a whole, so wabill writes one only into a new or empty folder or over one it wrote (choose another folder)",
                dir.display(),
                kind.marker,
                kind.what
            )
        }
    }
}

/// The files a marker lists: relative paths, one a line (`#` starts a comment). Anything else
/// (absolute paths, `..`) is ignored, so a marker can never make wabill touch files elsewhere.
fn listed(text: &str) -> BTreeSet<PathBuf> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PathBuf::from)
        .filter(|p| p.components().all(|c| matches!(c, Component::Normal(_))))
        .collect()
}

/// Every file (not folder) under `dir`, as relative paths; links are not followed.
fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut out = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(dir.join(&rel))? {
            let e = e?;
            let r = rel.join(e.file_name());
            if e.file_type()?.is_dir() {
                stack.push(r);
            } else {
                out.insert(r);
            }
        }
    }
    Ok(out)
}

/// Write `files` (relative path, bytes) as the folder `dir`, replacing what wabill wrote there
/// before as a unit (see the module's documentation).
pub fn replace(dir: &Path, kind: &Kind, files: &[(PathBuf, &[u8])]) -> Result<()> {
    let found = found(dir, kind)?;
    if let Found::Ours(ours) = &found {
        refuse_clashes(dir, ours, files)?;
    }
    let target = resolve(dir);
    let (parent, name) = match (target.parent(), target.file_name()) {
        (Some(p), Some(n)) => (p.to_path_buf(), n.to_string_lossy().into_owned()),
        _ => bail!("{}: not a folder wabill can replace", dir.display()),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create folder {}", parent.display()))?;
    let new = fresh(&parent, &name, "new");
    let registered = cleanup::register(&new);
    write_all(&new, kind, files).inspect_err(|_| {
        let _ = fs::remove_dir_all(&new);
    })?;
    let old = fresh(&parent, &name, "old");
    let moved = cleanup::critical(|| swap(&found, &target, &new, &old, kind));
    drop(registered);
    let left = moved.inspect_err(|_| {
        let _ = fs::remove_dir_all(&new);
    })?;
    if !matches!(found, Found::Ours(_)) {
        return Ok(());
    }
    if left.is_empty() {
        // Only wabill's own files are left in the old folder.
        let _registered = cleanup::register(&old);
        let _ = fs::remove_dir_all(&old);
        return Ok(());
    }
    Err(anyhow!(
        "{}: written, but {} file(s) of yours could not be moved into it (first: {}); they are in {}",
        dir.display(),
        left.len(),
        left[0].display(),
        old.display()
    ))
}

/// `.<name>.<pid>.<tag>` beside the folder, or with a number after it if that exists.
fn fresh(parent: &Path, name: &str, tag: &str) -> PathBuf {
    let pid = std::process::id();
    (0..)
        .map(|n| match n {
            0 => parent.join(format!(".{name}.{pid}.{tag}")),
            n => parent.join(format!(".{name}.{pid}.{tag}{n}")),
        })
        .find(|p| fs::symlink_metadata(p).is_err())
        .expect("a free name")
}

/// A file of the user's where a new file would go: refused before anything is written.
fn refuse_clashes(dir: &Path, ours: &BTreeSet<PathBuf>, files: &[(PathBuf, &[u8])]) -> Result<()> {
    for (rel, _) in files {
        let mut prefix = PathBuf::new();
        for c in rel.components() {
            prefix.push(c);
            let Ok(m) = fs::symlink_metadata(dir.join(&prefix)) else {
                break;
            };
            // A folder on the way is fine; a file on the way, or anything where the file goes,
            // only if wabill wrote it (a file it listed).
            let ours_file = !m.is_dir() && ours.contains(&prefix);
            let in_the_way = !m.is_dir() || prefix == *rel;
            if in_the_way && !ours_file {
                bail!(
                    "{}: not written by wabill, and wabill would write {} there: move it away first",
                    dir.join(&prefix).display(),
                    rel.display()
                );
            }
        }
    }
    Ok(())
}

/// Every file into the temporary folder `new`, synced, the marker (listing them) last.
fn write_all(new: &Path, kind: &Kind, files: &[(PathBuf, &[u8])]) -> Result<()> {
    let mut marker = format!(
        "# A {} written by wabill. On its next run wabill replaces the files listed below\n# and keeps any other file you add here.\n",
        kind.what
    );
    for (rel, bytes) in files {
        let path = new.join(rel);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p)?;
        }
        let mut f =
            fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("writing {}", path.display()))?;
        marker.push_str(&rel.to_string_lossy());
        marker.push('\n');
    }
    let path = new.join(kind.marker);
    let mut f = fs::File::create(&path)?;
    f.write_all(marker.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// Put `new` in the place of `target` (moving the old folder to `old` and the user's files in
/// it into the new one). Returns the user's files that could not be moved.
fn swap(found: &Found, target: &Path, new: &Path, old: &Path, kind: &Kind) -> Result<Vec<PathBuf>> {
    let rename = |from: &Path, to: &Path| {
        fs::rename(from, to)
            .with_context(|| format!("cannot move {} to {}", from.display(), to.display()))
    };
    match found {
        Found::Missing => rename(new, target).map(|_| Vec::new()),
        Found::Empty => {
            fs::remove_dir(target)
                .with_context(|| format!("cannot replace {}", target.display()))?;
            rename(new, target).map(|_| Vec::new())
        }
        Found::Ours(ours) => {
            rename(target, old)?;
            if let Err(e) = rename(new, target) {
                let _ = fs::rename(old, target);
                return Err(e);
            }
            let mut left = Vec::new();
            carry_over(old, target, Path::new(""), ours, kind.marker, &mut left);
            Ok(left)
        }
    }
}

/// Move every entry of `old/rel` that wabill did not write to the same place under `new`.
fn carry_over(
    old: &Path,
    new: &Path,
    rel: &Path,
    ours: &BTreeSet<PathBuf>,
    marker: &str,
    left: &mut Vec<PathBuf>,
) {
    let Ok(entries) = fs::read_dir(old.join(rel)) else {
        left.push(rel.to_path_buf());
        return;
    };
    for e in entries.flatten() {
        let r = rel.join(e.file_name());
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir && (ours.contains(&r) || r == Path::new(marker)) {
            continue;
        }
        let (src, dst) = (old.join(&r), new.join(&r));
        match fs::symlink_metadata(&dst) {
            Ok(m) if m.is_dir() && is_dir => carry_over(old, new, &r, ours, marker, left),
            Ok(_) => left.push(r),
            Err(_) => {
                let moved = dst
                    .parent()
                    .map_or(Ok(()), fs::create_dir_all)
                    .and_then(|_| fs::rename(&src, &dst));
                if moved.is_err() {
                    left.push(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: Kind = Kind {
        marker: ".wabill-test",
        what: "test folder",
        legacy: |files| files.iter().all(|f| f == Path::new("index.html")),
    };

    fn files<'a>(names: &[&str], bytes: &'a [u8]) -> Vec<(PathBuf, &'a [u8])> {
        names.iter().map(|n| (PathBuf::from(n), bytes)).collect()
    }

    #[test]
    fn a_rewrite_replaces_wabills_files_and_keeps_the_users() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("r");
        replace(&dir, &KIND, &files(&["index.html", "charts/a.svg"], b"1")).unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        fs::write(dir.join("charts/mine.svg"), "mine").unwrap();
        replace(&dir, &KIND, &files(&["index.html", "charts/b.svg"], b"2")).unwrap();
        assert_eq!(fs::read(dir.join("index.html")).unwrap(), b"2");
        assert!(!dir.join("charts/a.svg").exists(), "the old chart is gone");
        assert_eq!(fs::read(dir.join("notes.txt")).unwrap(), b"mine");
        assert_eq!(fs::read(dir.join("charts/mine.svg")).unwrap(), b"mine");
        let names: Vec<_> = fs::read_dir(d.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary folder left: {names:?}");
    }

    #[test]
    fn a_folder_wabill_did_not_write_is_refused_and_untouched() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("thesis.tex"), "x").unwrap();
        let e = replace(d.path(), &KIND, &files(&["index.html"], b"1")).unwrap_err();
        assert!(e.to_string().contains("did not write"), "{e}");
        assert!(d.path().join("thesis.tex").exists() && !d.path().join("index.html").exists());
        // A user's file where wabill would write, in a folder wabill wrote: refused.
        let dir = d.path().join("r");
        replace(&dir, &KIND, &files(&["index.html"], b"1")).unwrap();
        fs::write(dir.join("data.json"), "mine").unwrap();
        let e = replace(&dir, &KIND, &files(&["index.html", "data.json"], b"2")).unwrap_err();
        assert!(e.to_string().contains("move it away"), "{e}");
        assert_eq!(fs::read(dir.join("index.html")).unwrap(), b"1");
    }

    #[test]
    fn a_marker_cannot_point_outside_its_folder() {
        let set = listed("# c\nindex.html\n../../etc/passwd\n/etc/hosts\ncharts/a.svg\n");
        let want: BTreeSet<PathBuf> = ["index.html", "charts/a.svg"].map(PathBuf::from).into();
        assert_eq!(set, want);
    }
}
