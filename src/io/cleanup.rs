//! What an interrupted run must not leave behind: every temporary path wabill makes (the
//! partitioned replay's spill folder, the `*.tmp` file of an atomic write, the temporary
//! folder of a report) is registered here while it exists, and the binary's signal handler
//! (SIGINT, SIGTERM, SIGHUP: `cmd::interrupts`) removes whatever is registered before it
//! exits. Dropping a [`Registered`] takes its path off the list (the owner has removed or
//! renamed it by then).
//!
//! Steps that must not be cut in the middle (swapping a report folder for its new version) run
//! in [`critical`]: the handler waits until they are done.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The registered paths, by registration number.
static PATHS: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

fn paths() -> MutexGuard<'static, Vec<(u64, PathBuf)>> {
    // A panic while the list was held leaves it usable (it is only pushed to and filtered).
    PATHS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A path to remove if the run is interrupted, for as long as this value lives.
#[derive(Debug)]
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        paths().retain(|(id, _)| *id != self.0);
    }
}

/// Remove `path` (a file or a folder) if the run is interrupted before the returned value is
/// dropped.
pub fn register(path: &Path) -> Registered {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    paths().push((id, path.to_path_buf()));
    Registered(id)
}

/// Run `f` so that an interruption waits until it is done (`f` must not register a path).
pub fn critical<T>(f: impl FnOnce() -> T) -> T {
    let _held = paths();
    f()
}

/// Remove every registered path (newest first), and keep the list locked so that nothing is
/// registered or swapped any more: called once, by the signal handler, just before it exits.
/// Returns the paths that could not be removed.
pub fn remove_all() -> Vec<PathBuf> {
    let held = paths();
    let mut left = Vec::new();
    for (_, path) in held.iter().rev() {
        if !remove(path) {
            left.push(path.clone());
        }
    }
    std::mem::forget(held);
    left
}

/// Remove a file or a folder; `true` when it is gone. The owner may still be writing into a
/// folder while it is removed, so a folder is tried a few times.
fn remove(path: &Path) -> bool {
    for _ in 0..5 {
        let result = match std::fs::symlink_metadata(path) {
            Err(_) => return true,
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
        };
        if result.is_ok() || std::fs::symlink_metadata(path).is_err() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_registration_leaves_the_list() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.tmp");
        let r = register(&p);
        assert!(paths().iter().any(|(_, q)| *q == p));
        drop(r);
        assert!(!paths().iter().any(|(_, q)| *q == p));
    }

    #[test]
    fn files_and_folders_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.tmp");
        std::fs::write(&f, "x").unwrap();
        let sub = d.path().join("spill");
        std::fs::create_dir_all(sub.join("deep")).unwrap();
        std::fs::write(sub.join("deep/chats-0000.bin"), "x").unwrap();
        assert!(remove(&f) && remove(&sub) && remove(&d.path().join("never")));
        assert!(!f.exists() && !sub.exists());
    }
}
