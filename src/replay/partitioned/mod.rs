//! Partitioned replay: logs larger than memory, in bounded memory, with the same
//! breakdown as the in-memory replay (byte-identical JSON; a test checks it).
//!
//! 1. **Scan.** The log is read as usual (CSV blocks, Parquet row-group slices, JSON Lines) and
//!    every row validated by the one row parser. Each kept row goes, as a fixed 29-byte record, to
//!    one of P *chat files* chosen by a hash of its chat (WABA, business number, user: CONV-3),
//!    and its message id to one of P *id files* chosen by a hash of the id.
//! 2. **Duplicate ids.** Each id file is sorted on its own: equal ids meet in one file, and the
//!    first of each group in CONV-1 order is kept, as in memory.
//! 3. **Chats.** Partition by partition: the chat file becomes events, its users' countries are
//!    resolved (MKT-1), and pass 1 (windows, entry points: [`crate::billing::engine::pass_one`]) runs in parallel
//!    across its chats. Units that need no cross-chat counter are summed; units the pricing pass
//!    must see (CBP-7 free tier, PMP-4 tiers, PMP-5 allowance, list rates) go, in CONV-1 order,
//!    to the partition's *unit file*.
//! 4. **Pricing.** A k-way merge of the unit files restores the global CONV-1 order, and the one
//!    pricer prices them: tiers and allowances stay exact across partitions.
//!
//! 5. **Ledger** (when asked): each partition is replayed again (pass 1 is deterministic), the
//!    pricing pass's decisions laid over its pending units, and the partitions' ledger records
//!    merged by (instant, row).
//!
//! Memory is one partition's events plus buffers; the calendars are built once, from the
//! instants seen in the scan. Every partition feeds the same [`Tally`] sink as the in-memory
//! replay, so both give one [`Summary`] by the same code. The report and the webhooks need every
//! message's outcome at once and stay in memory.
//!
//! Files: `scan` (step 1), `load` (steps 2–3), `merge` (step 4), `ledger` (step 5), `records`
//! (the binary records of the spill files), `spill` (the folder and its buffered files).

mod ledger;
mod load;
mod merge;
mod records;
mod scan;
mod spill;
mod units;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::billing::accounts::Accounts;
use crate::billing::engine::{
    build_calendars, replay_currency, BillingError, Context, Extras, Totals, WabaCalendar,
};
use crate::io::log::{check_log_file, Interner, Links, LogError, LogFormat, ReadOptions, Reject};
use crate::replay::sink::{Summary, Tally};

use load::{duplicates_in, load_partition, replay_loaded};
pub use spill::sweep_stale;
use spill::{SpillDir, SpillFile};

/// From this many rows `replay` and `compare` partition by themselves: the partitioned replay
/// is then the faster one too (interning and windows run a partition per thread, in cache).
pub const AUTO_FROM_ROWS: u64 = 2_500_000;
/// Rows per partition the automatic choice aims at (measured best on 10M rows: 20–40 partitions).
pub const ROWS_PER_PARTITION: u64 = 400_000;
/// At most this many partitions by default: each is two spill files written at once during the
/// scan, and the fan-out costs more than smaller partitions save beyond it.
pub const MAX_AUTO_PARTITIONS: usize = 128;

/// Progress callbacks: `(phase, done, of)`.
pub type Progress<'p> = &'p (dyn Fn(&str, u64, u64) + Sync);

/// What to replay partitioned, and where: everything but the pricing contexts.
pub struct Request<'a> {
    pub path: &'a Path,
    pub format: LogFormat,
    pub accounts: &'a Accounts,
    /// Partitions (at least 1).
    pub parts: usize,
    /// The folder under which the temporary spill folder is made.
    pub spill: &'a Path,
    /// Write the first context's per-message ledger here (CSV, or Parquet by extension).
    pub ledger: Option<&'a Path>,
    pub progress: Progress<'a>,
    /// How the log is read (`auto_rulebook`: at least one context follows the date, §1:
    /// business rows before 2022-02-01 are then rejected; `trace`: phase timings on stderr).
    pub read: ReadOptions,
}

/// Errors of a partitioned replay.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error("cannot use spill files in {dir} (--spill-dir)")]
    Spill { dir: String, source: std::io::Error },
    /// A spill write failed during the scan, which stopped there.
    #[error("cannot write spill files in {dir} (--spill-dir): the scan stopped at row {row}")]
    SpillScan {
        dir: String,
        row: u64,
        source: std::io::Error,
    },
    #[error("cannot write the ledger")]
    Ledger(#[source] anyhow::Error),
}

/// `--partitions`: `Some(0)` keeps the replay in memory (`None`), `Some(n)` asks for `n`
/// partitions, no option lets [`auto_partitions`] choose.
pub fn partitions(requested: Option<usize>, path: &Path, format: LogFormat) -> Option<usize> {
    match requested {
        Some(0) => None,
        Some(n) => Some(n),
        None => auto_partitions(path, format),
    }
}

/// The automatic partition count for a log, `None` below [`AUTO_FROM_ROWS`] (a Parquet
/// file's row count is in its footer; text logs are estimated at 90 bytes a row): about
/// [`ROWS_PER_PARTITION`] rows each, at most [`MAX_AUTO_PARTITIONS`], a multiple of the thread
/// count (partitions run a wave per thread).
pub fn auto_partitions(path: &Path, format: LogFormat) -> Option<usize> {
    let len = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let rows = match format {
        LogFormat::Parquet => crate::io::parquet::row_count(path).unwrap_or(0),
        // A provider's export has rows of any width: estimated from its first megabyte.
        // gzip: about 6 bytes of log per byte of file (rows of ~90 bytes compress ~6×).
        _ if crate::io::log::is_gzip(path) => len().saturating_mul(6) / 90,
        LogFormat::Mapped(_) => len() / sampled_row_bytes(path).unwrap_or(90),
        _ => len() / 90,
    };
    if rows < AUTO_FROM_ROWS {
        return None;
    }
    let parts = (rows.div_ceil(ROWS_PER_PARTITION) as usize).min(MAX_AUTO_PARTITIONS);
    let threads = rayon::current_num_threads().max(1);
    Some(parts.div_ceil(threads) * threads)
}

/// Bytes per line in the first megabyte of a file (at least 1), if it has a line.
fn sampled_row_bytes(path: &Path) -> Option<u64> {
    use std::io::Read;
    let mut head = vec![0u8; 1 << 20];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let lines = memchr::memchr_iter(b'\n', &head[..n]).count() as u64;
    (lines > 0).then(|| (n as u64 / lines).max(1))
}

/// Replay one log under one context, partitioned (`auto_rulebook` taken from the context).
pub fn replay_partitioned(req: &Request, ctx: &Context) -> Result<Summary, PartitionError> {
    let read = ReadOptions {
        auto_rulebook: ctx.forced.is_none(),
        ..req.read
    };
    let req = Request { read, ..*req };
    let mut all = replay_partitioned_many(&req, std::slice::from_ref(ctx))?;
    Ok(all.pop().expect("one context")?)
}

/// Phase timings on stderr when asked.
struct Lap {
    on: bool,
    clock: std::time::Instant,
}

impl Lap {
    fn done(&mut self, phase: &str) {
        if self.on {
            eprintln!(
                "wabill: {phase}: {:.3} s",
                self.clock.elapsed().as_secs_f64()
            );
            self.clock = std::time::Instant::now();
        }
    }
}

/// One run's spill folder, partition waves and the mapping of its I/O errors.
struct Run<'a> {
    req: &'a Request<'a>,
    dir: SpillDir,
    /// Partitions run a wave at a time, one per thread: memory holds at most that many.
    waves: Vec<Vec<usize>>,
}

impl Run<'_> {
    fn io(&self, source: std::io::Error) -> PartitionError {
        PartitionError::Spill {
            dir: self.dir.path().display().to_string(),
            source,
        }
    }

    fn progress(&self, phase: &str, wave: usize) {
        let done = (wave * self.waves[0].len()).min(self.req.parts);
        (self.req.progress)(phase, done as u64, self.req.parts as u64);
    }

    fn units_file(&self, k: usize, p: usize) -> PathBuf {
        self.dir.file(&format!("units-{k}"), p)
    }

    /// Step 2: rows to drop for a repeated id, and their rejects.
    fn duplicate_ids(
        &self,
        markets: &crate::billing::markets::MarketTable,
        rejects: &mut Vec<Reject>,
    ) -> Result<FxHashSet<u32>, PartitionError> {
        let mut dropped = FxHashSet::default();
        for (k, wave) in self.waves.iter().enumerate() {
            self.progress("checking ids", k);
            let found = wave
                .par_iter()
                .map(|&p| {
                    let bytes = std::fs::read(self.dir.file("ids", p))?;
                    let _ = std::fs::remove_file(self.dir.file("ids", p));
                    Ok(duplicates_in(&bytes, markets))
                })
                .collect::<std::io::Result<Vec<_>>>()
                .map_err(|e| self.io(e))?;
            for (rows, found) in found {
                dropped.extend(rows);
                rejects.extend(found);
            }
        }
        self.progress("checking ids", self.waves.len());
        Ok(dropped)
    }

    /// Step 3: each partition loaded once and replayed (pass 1) under every context; its
    /// pending units go to one unit file per context. Returns per context the totals of the
    /// units that needed no pricing pass and the tally of every partition.
    fn chats(
        &self,
        ctxs: &[Context],
        calendars: &[Vec<WabaCalendar>],
        dropped: &FxHashSet<u32>,
        extras: &Extras,
        rejects: &mut Vec<Reject>,
    ) -> Result<Vec<(Totals, Tally)>, PartitionError> {
        let markets = ctxs[0].markets;
        let provider = self.req.accounts.provider.is_some();
        let mut acc: Vec<(Totals, Tally)> =
            vec![(Totals::default(), Tally::new(provider)); ctxs.len()];
        for (w, wave) in self.waves.iter().enumerate() {
            self.progress("replaying partitions", w);
            let done = wave
                .par_iter()
                .map(|&p| {
                    let bytes = std::fs::read(self.dir.file("chats", p))?;
                    if self.req.ledger.is_none() {
                        let _ = std::fs::remove_file(self.dir.file("chats", p));
                    }
                    let loaded = load_partition(&bytes, dropped, markets);
                    drop(bytes);
                    let outs = ctxs
                        .iter()
                        .enumerate()
                        .map(|(k, ctx)| {
                            let mut units = SpillFile::create(&self.units_file(k, p))?;
                            let out = replay_loaded(
                                &loaded,
                                ctx,
                                &calendars[k],
                                &mut units,
                                provider,
                                extras,
                            )?;
                            units.finish()?;
                            Ok(out)
                        })
                        .collect::<std::io::Result<Vec<(Totals, Tally)>>>()?;
                    Ok((loaded.rejects, outs))
                })
                .collect::<std::io::Result<Vec<_>>>()
                .map_err(|e| self.io(e))?;
            // Merged in partition order; sums commute, lists are sorted at the end.
            for (found, outs) in done {
                rejects.extend(found);
                for ((totals, tally), out) in acc.iter_mut().zip(outs) {
                    totals.merge(out.0);
                    tally.merge(out.1);
                }
            }
        }
        self.progress("replaying partitions", self.waves.len());
        Ok(acc)
    }

    /// Step 4, per context: the units of every partition in CONV-1 order, priced. The first
    /// context keeps its decisions for the ledger when there is one.
    fn price(
        &self,
        ctxs: &[Context],
        calendars: &[Vec<WabaCalendar>],
        totals: Vec<Totals>,
        extras: &Extras,
    ) -> Result<Vec<Result<Totals, BillingError>>, PartitionError> {
        let parts = self.req.parts;
        (self.req.progress)("pricing", 0, 0);
        let priced: Vec<std::io::Result<Result<Totals, BillingError>>> = ctxs
            .par_iter()
            .zip(calendars)
            .zip(totals)
            .enumerate()
            .map(|(k, ((ctx, calendars), totals))| {
                let files: Vec<PathBuf> = (0..parts).map(|p| self.units_file(k, p)).collect();
                let priced: Option<Vec<PathBuf>> = (k == 0 && self.req.ledger.is_some())
                    .then(|| (0..parts).map(|p| self.dir.file("priced", p)).collect());
                // Only the first context reports progress (they run side by side).
                let report = |n: u64| {
                    if k == 0 {
                        (self.req.progress)("pricing", n, 0)
                    }
                };
                merge::price_units(
                    &files,
                    priced.as_deref(),
                    ctx,
                    calendars,
                    extras,
                    totals,
                    &report,
                )
            })
            .collect();
        priced
            .into_iter()
            .collect::<std::io::Result<_>>()
            .map_err(|e| self.io(e))
    }
}

/// Read once, price many: the log scanned, checked and loaded once, each partition replayed
/// under every context (rulebooks, `--rates-at`), one result per context. The request's
/// ledger is the first context's.
pub fn replay_partitioned_many(
    req: &Request,
    ctxs: &[Context],
) -> Result<Vec<Result<Summary, BillingError>>, PartitionError> {
    check_log_file(req.path)?;
    let parts = req.parts.max(1);
    let req = &Request { parts, ..*req };
    let dir = SpillDir::new(req.spill).map_err(|source| PartitionError::Spill {
        dir: req.spill.display().to_string(),
        source,
    })?;
    let threads = rayon::current_num_threads().max(1);
    let waves = (0..parts)
        .collect::<Vec<_>>()
        .chunks(threads)
        .map(|w| w.to_vec())
        .collect();
    let run = Run { req, dir, waves };
    let mut lap = Lap {
        on: req.read.trace,
        clock: std::time::Instant::now(),
    };

    // 1. Scan. MKT-4: when rows link numbers to BSUIDs, the log is scanned again knowing the
    // links, so that a linked number's rows go to its BSUID's partition.
    let markets = ctxs[0].markets;
    let mut scanned = scan::scan(
        req,
        &run.dir,
        markets,
        Links::default(),
        Interner::default(),
    )?;
    if !scanned.links.first.is_empty() {
        let links = std::mem::take(&mut scanned.links);
        let bsuids = std::mem::take(&mut scanned.bsuids);
        scanned = scan::scan(req, &run.dir, markets, links, bsuids)?;
    }
    let mut rejects = scanned.rejects;
    let currency = replay_currency(&ctxs[0]);
    let calendars: Vec<Vec<WabaCalendar>> = ctxs
        .iter()
        .map(|ctx| build_calendars(&scanned.ranges, ctx, &currency))
        .collect();
    lap.done("scan");

    // 2. Duplicate ids.
    let dropped = run.duplicate_ids(ctxs[0].markets, &mut rejects)?;
    lap.done("duplicate ids");

    // 3. Chats, partition by partition, each under every context.
    let (totals, tallies): (Vec<Totals>, Vec<Tally>) = run
        .chats(ctxs, &calendars, &dropped, &scanned.extras, &mut rejects)?
        .into_iter()
        .unzip();
    lap.done("partitions");

    // 4. Pricing.
    let priced = run.price(ctxs, &calendars, totals, &scanned.extras)?;
    lap.done("pricing");

    // 5. The ledger: each partition's rows in CONV-1 order, merged into one.
    if let (Some(out), Some(Ok(_))) = (req.ledger, priced.first()) {
        let job = ledger::Job {
            dir: &run.dir,
            parts,
            waves: &run.waves,
            dropped: &dropped,
            ctx: &ctxs[0],
            calendars: &calendars[0],
            numbers: &scanned.numbers.names,
            bsuids: &scanned.bsuids.names,
            members: &scanned.members,
            extras: &scanned.extras,
            progress: req.progress,
        };
        ledger::write_ledger(&job, out).map_err(|e| match e.downcast::<std::io::Error>() {
            Ok(source) => run.io(source),
            Err(e) => PartitionError::Ledger(e),
        })?;
        lap.done("ledger");
    }

    let rows = scanned.rows;
    let last = ctxs.len() - 1;
    Ok(priced
        .into_iter()
        .zip(tallies)
        .zip(ctxs)
        .enumerate()
        .map(|(k, ((res, tally), ctx))| {
            let lines = res.and_then(|totals| totals.lines(ctx).map_err(BillingError::from));
            // The rejects are the same for every context: the last one takes them.
            let rejects = if k == last {
                std::mem::take(&mut rejects)
            } else {
                rejects.clone()
            };
            lines.map(|lines| {
                let mut s = tally.finish(currency.clone(), rows, rejects, lines);
                s.messages.other_currency = scanned.other_currency;
                s
            })
        })
        .collect())
}
