//! Writing outputs. Every file wabill writes goes through [`write_atomic_with`]: a temp file in
//! the same folder, synced, then renamed over the target, so a reader never sees half a file, a
//! failed run leaves the previous output intact, and an interrupted run leaves no `*.tmp`
//! behind (the temp file is registered with [`crate::io::cleanup`] while it exists). A folder
//! (a report) is written as a unit by [`folder::replace`]. Before anything is written, every
//! command checks its outputs against its inputs with one guard, [`Outputs`].

pub mod folder;
mod guard;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use guard::{resolve, Outputs};

/// `.<name>.<pid>.tmp` beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Write `bytes` to `path` atomically, creating parent folders.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| {
        f.write_all(bytes)?;
        Ok(())
    })
}

/// Write through a buffered writer to a temp file, then rename it over `path`.
pub fn write_atomic_with(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create folder {}", parent.display()))?;
    }
    let tmp = temp_path(path);
    let _registered = crate::io::cleanup::register(&tmp);
    let result = (|| -> Result<()> {
        let f = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        body(&mut w)?;
        w.flush()?;
        w.into_inner()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .sync_all()?;
        fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} to {}", tmp.display(), path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}
