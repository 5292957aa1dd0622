//! Interruptions: on SIGINT, SIGTERM or SIGHUP the run removes what it had in progress (the
//! spill folder, the `*.tmp` of an output being written, a report's temporary folder: the paths
//! registered with [`crate::io::cleanup`]) and exits with 128 + the signal's number (130, 143,
//! 129), as a shell reports a process killed by it. Outputs already in place stay as they are
//! (every output is renamed into place only when whole). A signal the run was started with
//! ignored (`nohup` ignores SIGHUP, a shell's background job SIGINT) stays ignored.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::io::cleanup;

/// Install the handler: a thread that waits for the first signal, cleans up and exits. Without
/// it (signals cannot be caught) the run goes on with the default behaviour.
pub fn install() {
    let ignored = ignored_at_start();
    let caught: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&s| ignored & (1 << (s - 1)) == 0)
        .collect();
    let Ok(mut signals) = Signals::new(caught) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let name = match sig {
                SIGINT => "SIGINT",
                SIGTERM => "SIGTERM",
                _ => "SIGHUP",
            };
            for path in cleanup::remove_all() {
                eprintln!("wabill: could not remove {}", path.display());
            }
            eprintln!("wabill: interrupted ({name}): temporary files removed");
            // `_exit`: no stdout flush that could wait on a reader that is gone.
            signal_hook::low_level::exit(128 + sig);
        }
    });
}

/// The signals this process was started with ignored, as a mask (bit `n - 1` for signal `n`):
/// the kernel's `SigIgn` line of `/proc/self/status` (none where it cannot be read).
fn ignored_at_start() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let mask = s.lines().find_map(|l| l.strip_prefix("SigIgn:"))?;
            u64::from_str_radix(mask.trim(), 16).ok()
        })
        .unwrap_or(0)
}
