//! Sizes a run can hold, checked before any work: `synth` and `compare` refuse a size that
//! cannot fit instead of growing until the kernel kills them.
//!
//! - A hard cap: at most [`MAX_ROWS`] rows (4,294,967,295), because a log's row numbers are
//!   32-bit (a larger log could not be replayed anyway).
//! - Memory: generated traffic is held in memory (`synth`: its users, about
//!   [`SYNTH_BYTES_PER_USER`] bytes each; `compare`: the log and each replay running at once,
//!   about [`COMPARE_BYTES_PER_ROW`] bytes a row each), refused above the memory available
//!   (`MemAvailable` in `/proc/meminfo`, and the cgroup's limit when there is one).
//! - Disk: `synth` streams its log to a temp file beside `--out`, refused when the estimated
//!   size (about [`bytes_per_row`]) is more than the free space there.
//!
//! The figures are measured on the shipped scenarios (debug and release alike) and rounded up,
//! so a refusal errs on the side of a run that would have fit only just. Where a figure cannot
//! be read (no `/proc`), only the cap applies.

use std::path::Path;

use anyhow::{bail, Result};

use crate::report::format::count;

/// Most rows a generated log may have: row numbers are 32-bit.
pub const MAX_ROWS: u64 = u32::MAX as u64;
/// Memory of one user while `synth` generates (measured 80–100 bytes).
pub const SYNTH_BYTES_PER_USER: u64 = 128;
/// Memory of one generated row in `compare`: for the log (events, outcomes' tables; measured
/// about 35 bytes) and again for each replay running at once (about 45 bytes).
pub const COMPARE_BYTES_PER_ROW: u64 = 64;

/// Bytes a row of a generated log takes on disk, by output extension (measured: CSV 92, JSON
/// Lines 232, Parquet 7).
pub fn bytes_per_row(ext: &str) -> u64 {
    match ext {
        "parquet" | "pq" => 16,
        "jsonl" | "ndjson" | "json" => 256,
        _ => 100,
    }
}

/// `--rows` within [`MAX_ROWS`]; `what` says whose rows (`--rows 5000000000`, or
/// `data/x.toml would generate about 5,000,000,000 rows`).
pub fn check_rows(what: &str, rows: u64) -> Result<()> {
    if rows > MAX_ROWS {
        bail!(
            "{what}: more than {} rows, the most a log can have (row numbers are 32-bit)",
            count(MAX_ROWS)
        );
    }
    Ok(())
}

/// `need` bytes of memory within what is available; `what` names the run and `remedy` says
/// what to do instead.
pub fn check_memory(what: &str, need: u64, remedy: &str) -> Result<()> {
    if let Some(free) = available_memory() {
        if need > free {
            bail!(
                "{what}: needs about {} of memory, but {} is available: {remedy}",
                bytes(need),
                bytes(free)
            );
        }
    }
    Ok(())
}

/// `need` bytes of disk free where `path` will be written.
pub fn check_disk(what: &str, path: &Path, need: u64) -> Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The nearest folder that exists: the output's folders are created when it is written.
    let existing = folder.ancestors().find(|p| p.exists()).unwrap_or(folder);
    if let Ok(free) = fs4::available_space(existing) {
        if need > free {
            bail!(
                "{what}: about {} to write, but {} is free in {}",
                bytes(need),
                bytes(free),
                existing.display()
            );
        }
    }
    Ok(())
}

/// Memory this process may still take: `MemAvailable`, and the cgroup's room when it has a
/// limit.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let mut free = kb.saturating_mul(1024);
    let read = |name: &str| -> Option<u64> {
        std::fs::read_to_string(Path::new("/sys/fs/cgroup").join(name))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    if let (Some(max), Some(used)) = (read("memory.max"), read("memory.current")) {
        free = free.min(max.saturating_sub(used));
    }
    Some(free)
}

/// `1.5 GB`, `512 MB`: decimal units, one decimal.
fn bytes(n: u64) -> String {
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} bytes")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(999), "999 bytes");
        assert_eq!(bytes(1_500_000_000), "1.5 GB");
        assert_eq!(bytes(u64::MAX), "18.4 EB");
        assert!(check_rows("--rows", MAX_ROWS).is_ok());
        let e = check_rows("--rows 1000000000000", 1_000_000_000_000).unwrap_err();
        assert!(e.to_string().contains("4,294,967,295"), "{e}");
    }
}
