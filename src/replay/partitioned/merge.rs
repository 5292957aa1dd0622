//! Step 4 of the partitioned replay: the partitions' pending units, k-way merged into one
//! CONV-1 order and priced by the one pricer, so cross-chat counters stay exact.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use super::units::PendingUnit;
use crate::billing::engine::{BillingError, Context, Extras, Pricer, Totals, WabaCalendar};

use super::spill::SpillFile;

/// The head of one unit file in the k-way merge (ordered so the heap's top is the earliest).
struct Head {
    ts: i64,
    row: u32,
    part: usize,
    unit: PendingUnit,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        (self.ts, self.row) == (o.ts, o.row)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap.
        (o.ts, o.row).cmp(&(self.ts, self.row))
    }
}

fn next_unit(r: &mut impl Read, part: usize) -> std::io::Result<Option<Head>> {
    let mut b = [0u8; PendingUnit::BYTES];
    match r.read_exact(&mut b) {
        Ok(()) => {
            let unit = PendingUnit::decode(&b);
            Ok(Some(Head {
                ts: unit.ts,
                row: unit.row,
                part,
                unit,
            }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// Step 4: the pending units of every partition's unit file, merged into one CONV-1 order
/// (each file is in that order) and priced by the one [`Pricer`], added to `totals`.
/// With `priced` (one path per unit file), each unit's decision is also written there, in its
/// unit file's order, for the ledger.
pub(super) fn price_units(
    files: &[PathBuf],
    priced_files: Option<&[PathBuf]>,
    ctx: &Context,
    calendars: &[WabaCalendar],
    extras: &Extras,
    mut totals: Totals,
    progress: &dyn Fn(u64),
) -> std::io::Result<Result<Totals, BillingError>> {
    let mut decisions = match priced_files {
        Some(paths) => Some(
            paths
                .iter()
                .map(|p| SpillFile::create(p))
                .collect::<std::io::Result<Vec<_>>>()?,
        ),
        None => None,
    };
    let mut readers = files
        .iter()
        .map(|f| File::open(f).map(|f| BufReader::with_capacity(1 << 20, f)))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut heap = BinaryHeap::with_capacity(files.len());
    for (p, r) in readers.iter_mut().enumerate() {
        if let Some(h) = next_unit(r, p)? {
            heap.push(h);
        }
    }
    let mut pricer = Pricer::new(ctx, calendars, extras);
    let mut priced = 0u64;
    while let Some(mut h) = heap.pop() {
        pricer.apply(h.ts, h.unit.row, h.unit.chat, &mut h.unit.outcome);
        totals.add(h.unit.chat.waba, calendars, &h.unit.outcome);
        if let Some(d) = &mut decisions {
            let f = &mut d[h.part];
            PendingUnit::encode_priced(&h.unit.outcome, &mut f.buf);
            f.spill_if_full()?;
        }
        priced += 1;
        if priced.is_multiple_of(1 << 20) {
            progress(priced);
        }
        if let Some(next) = next_unit(&mut readers[h.part], h.part)? {
            heap.push(next);
        }
    }
    for f in decisions.into_iter().flatten() {
        f.finish()?;
    }
    Ok(pricer.finish().map(|()| totals))
}
