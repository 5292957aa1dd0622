//! Helpers shared by the tests that run the real binary.

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `wabill` from the project root.
pub fn wabill(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run wabill")
}

/// Run `wabill`, which must succeed; its stdout.
pub fn wabill_ok(args: &[&str]) -> String {
    let o = wabill(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

/// Run `wabill` with a given rayon thread count.
pub fn wabill_with(args: &[&str], threads: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wabill"))
        .args(args)
        .env("RAYON_NUM_THREADS", threads)
        .current_dir(root())
        .output()
        .expect("run wabill")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
