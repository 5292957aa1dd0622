//! The spill folder and its buffered files: where a partitioned replay keeps what does not fit
//! in memory.
//!
//! The folder is `wabill-spill-<pid>-<random>` in the spill parent (`--spill-dir`, else the
//! system's temp folder). It is removed when the replay ends, also on errors, and by the signal
//! handler when the run is interrupted (it is registered with [`crate::io::cleanup`]); what a
//! killed run (SIGKILL, a crash) leaves is swept by the next partitioned run: [`sweep_stale`]
//! removes the spill folders whose process no longer exists.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::io::cleanup::{self, Registered};

/// Bytes buffered per spill file before they are written.
const SPILL_BUF: usize = 16 << 10;

/// The spill folders' names: this, the owner's process id, `-` and random characters.
const PREFIX: &str = "wabill-spill-";

/// A temporary folder for the spill files, removed when dropped. (Fields drop in order: the
/// folder is removed before it leaves the cleanup list.)
pub(super) struct SpillDir {
    dir: tempfile::TempDir,
    _registered: Registered,
}

impl SpillDir {
    pub(super) fn new(parent: &Path) -> std::io::Result<SpillDir> {
        std::fs::create_dir_all(parent)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir_in(parent)?;
        let _registered = cleanup::register(dir.path());
        Ok(SpillDir { dir, _registered })
    }
    pub(super) fn path(&self) -> &Path {
        self.dir.path()
    }
    pub(super) fn file(&self, kind: &str, p: usize) -> PathBuf {
        self.path().join(format!("{kind}-{p:04}.bin"))
    }
}

/// Buffered appends to one spill file.
pub(super) struct SpillFile {
    file: File,
    pub(super) buf: Vec<u8>,
}

impl SpillFile {
    pub(super) fn create(path: &Path) -> std::io::Result<SpillFile> {
        Ok(SpillFile {
            file: File::create(path)?,
            buf: Vec::with_capacity(SPILL_BUF + 1024),
        })
    }
    pub(super) fn spill_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= SPILL_BUF {
            self.file.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.file.flush()
    }
}

/// Remove the spill folders in `parent` left by runs that ended without cleaning up (killed,
/// crashed): folders named `wabill-spill-<pid>-…` whose process no longer exists. Returns each
/// removed folder with its process id. Only where process ids can be checked (`/proc`); a
/// folder of a live process, or of another user's process, is left alone.
pub fn sweep_stale(parent: &Path) -> Vec<(PathBuf, u32)> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (pid, _) = name.strip_prefix(PREFIX)?.split_once('-')?;
            let pid: u32 = pid.parse().ok()?;
            let stale = pid != std::process::id() && !alive(pid);
            if !stale || !e.file_type().ok()?.is_dir() {
                return None;
            }
            std::fs::remove_dir_all(e.path()).ok()?;
            Some((e.path(), pid))
        })
        .collect()
}

/// Whether process `pid` exists (`true` when it cannot be told).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}
