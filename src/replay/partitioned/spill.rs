//! The spill folder and its buffered files: where a partitioned replay keeps what does not fit
//! in memory.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bytes buffered per spill file before they are written.
const SPILL_BUF: usize = 16 << 10;

/// A temporary folder for the spill files, removed when dropped.
pub(super) struct SpillDir(tempfile::TempDir);

impl SpillDir {
    pub(super) fn new(parent: &Path) -> std::io::Result<SpillDir> {
        std::fs::create_dir_all(parent)?;
        tempfile::Builder::new()
            .prefix("wabill-spill-")
            .tempdir_in(parent)
            .map(SpillDir)
    }
    pub(super) fn path(&self) -> &Path {
        self.0.path()
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
