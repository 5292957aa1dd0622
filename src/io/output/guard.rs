//! The one check that wabill never writes over its own inputs: each command names its inputs
//! (the log, the accounts file, every file of the rates folder, Meta's files, the scenario) and
//! then each output path (ledger, rejects, webhooks, report folder, synth's log) before anything
//! is read or written. An output is refused when it is an input after canonicalisation (`..`,
//! `.` and symbolic links resolved; on Unix also a hard link to it: same device and inode),
//! when it is another output of the same run, and a report folder when an input lies inside it
//! (the folder is replaced as a whole) or it holds the current folder.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Result};

/// A path the run reads or writes, as the user gave it and resolved.
#[derive(Debug, Clone)]
struct Named {
    /// What it is: `the log`, `--ledger`, `the default rejects file`.
    label: String,
    given: PathBuf,
    resolved: PathBuf,
}

impl Named {
    fn new(label: &str, path: &Path) -> Named {
        Named {
            label: label.to_string(),
            given: path.to_path_buf(),
            resolved: resolve(path),
        }
    }
    fn shown(&self) -> String {
        format!("{} {}", self.label, self.given.display())
    }
}

/// The inputs and outputs of one run, checked as outputs are added.
#[derive(Debug, Default)]
pub struct Outputs {
    inputs: Vec<Named>,
    outputs: Vec<Named>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// An input file (`label`: what it is, e.g. `the log`). A path that does not exist is kept
    /// too (its reader reports it; an output there would still be refused).
    pub fn input(&mut self, label: &str, path: &Path) -> &mut Outputs {
        self.inputs.push(Named::new(label, path));
        self
    }

    /// Every file under an input folder (the rates folder: cards, tiers, the market table).
    pub fn input_tree(&mut self, label: &str, dir: &Path) -> &mut Outputs {
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    self.inputs.push(Named::new(label, &p));
                }
            }
        }
        self
    }

    /// An output file: refused when it is an input or another output of this run.
    pub fn file(&mut self, label: &str, path: &Path) -> Result<()> {
        let out = Named::new(label, path);
        if let Some(input) = self
            .inputs
            .iter()
            .find(|i| same_file(&out.resolved, &i.resolved))
        {
            bail!(
                "{}: the same file as {}: wabill never writes over its inputs (choose another path)",
                out.shown(),
                input.shown()
            );
        }
        if let Some(other) = self
            .outputs
            .iter()
            .find(|o| same_file(&out.resolved, &o.resolved))
        {
            bail!(
                "{}: the same file as {}: give each output its own path",
                out.shown(),
                other.shown()
            );
        }
        self.outputs.push(out);
        Ok(())
    }

    /// An output folder written as a unit (a report): refused when an input or another output
    /// is inside it, or it is (or holds) the current folder; whether wabill may replace what
    /// is there already is [`super::folder::check`]'s to say.
    pub fn folder(&mut self, label: &str, dir: &Path) -> Result<()> {
        let out = Named::new(label, dir);
        if let Some(input) = self
            .inputs
            .iter()
            .find(|i| i.resolved.starts_with(&out.resolved))
        {
            bail!(
                "{}: holds {}: the folder is replaced as a whole, and wabill never writes over its inputs (choose another folder)",
                out.shown(),
                input.shown()
            );
        }
        if let Some(other) = self.outputs.iter().find(|o| {
            o.resolved.starts_with(&out.resolved) || out.resolved.starts_with(&o.resolved)
        }) {
            bail!(
                "{}: overlaps {}: give each output its own path",
                out.shown(),
                other.shown()
            );
        }
        if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize()) {
            if cwd.starts_with(&out.resolved) {
                bail!(
                    "{}: is the current folder or holds it: a report folder is replaced as a whole (choose a new folder)",
                    out.shown()
                );
            }
        }
        self.outputs.push(out);
        Ok(())
    }
}

/// Two resolved paths name one file: equal, or (on Unix) both exist with one device and inode.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// `path` made absolute the way the kernel would open it: each existing component with its
/// symbolic links resolved (`canonicalize`), `.` dropped and `..` taking the parent; from the
/// first component that does not exist on, the rest is taken as written (folders wabill would
/// create are plain folders).
pub fn resolve(path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut cur = PathBuf::new();
    let mut exists = true;
    for c in abs.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => cur.push(c.as_os_str()),
            Component::CurDir => {}
            // `cur` has no symbolic link left in it, so its parent is the kernel's `..`.
            Component::ParentDir => {
                cur.pop();
            }
            Component::Normal(name) => {
                let next = cur.join(name);
                cur = match exists.then(|| next.canonicalize()) {
                    Some(Ok(real)) => real,
                    _ => {
                        exists = false;
                        next
                    }
                };
            }
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_sees_through_dots_and_links() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("a")).unwrap();
        std::fs::write(root.join("a/log.csv"), "x").unwrap();
        assert_eq!(
            resolve(&root.join("a/./../a/log.csv")),
            root.join("a/log.csv")
        );
        // Not there yet: taken as written, `..` included.
        assert_eq!(
            resolve(&root.join("new/../a/log.csv")),
            root.join("a/log.csv")
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("a"), root.join("l")).unwrap();
            assert_eq!(resolve(&root.join("l/log.csv")), root.join("a/log.csv"));
            assert_eq!(resolve(&root.join("l/new.csv")), root.join("a/new.csv"));
        }
    }

    #[test]
    fn an_output_over_an_input_or_another_output_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("log.csv");
        std::fs::write(&log, "x").unwrap();
        let mut o = Outputs::new();
        o.input("the log", &log);
        let e = o.file("--ledger", &d.path().join("./log.csv")).unwrap_err();
        assert!(e.to_string().contains("the same file as the log"), "{e}");
        o.file("--ledger", &d.path().join("ledger.csv")).unwrap();
        let e = o
            .file("--rejects", &d.path().join("ledger.csv"))
            .unwrap_err();
        assert!(
            e.to_string().contains("give each output its own path"),
            "{e}"
        );
        let e = o.folder("--report", d.path()).unwrap_err();
        assert!(e.to_string().contains("holds the log"), "{e}");
        #[cfg(unix)]
        {
            let hard = d.path().join("hard.csv");
            std::fs::hard_link(&log, &hard).unwrap();
            assert!(o.file("--emit-webhooks", &hard).is_err());
        }
    }
}
