//! Step 5 of the partitioned replay: the per-message ledger, partition by partition, merged by
//! (instant, row) into the order the in-memory replay writes.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::units::PendingUnit;
use crate::billing::calendar::month_label;
use crate::billing::engine::{self, Context, Extras, WabaCalendar};
use crate::io::log::member_of;
use crate::replay::ledger::{business_row, Entry, UserLabel};

use super::load::load_partition;
use super::spill::{SpillDir, SpillFile};
use super::Progress;

/// A writer whose bytes the caller can take after each flush (one ledger record at a time).
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the ledger step needs of the run.
pub(super) struct Job<'a> {
    pub(super) dir: &'a SpillDir,
    pub(super) parts: usize,
    pub(super) waves: &'a [Vec<usize>],
    /// Rows left out for a repeated id.
    pub(super) dropped: &'a FxHashSet<u32>,
    pub(super) ctx: &'a Context<'a>,
    pub(super) calendars: &'a [WabaCalendar],
    /// Business numbers by index, as interned in the scan.
    pub(super) numbers: &'a [String],
    /// Users' BSUIDs by index, as interned in the scan (MKT-4).
    pub(super) bsuids: &'a [String],
    /// GRP-1: group rows' members, by row.
    pub(super) members: &'a [(u32, String)],
    /// CALL-3, MBA-1, MAXP-1: the rows' durations, tokens and prices.
    pub(super) extras: &'a Extras,
    pub(super) progress: Progress<'a>,
}

/// Step 5: the ledger. Each partition is loaded and replayed again (pass 1 is deterministic),
/// the pricing pass's decisions are laid over its pending units in order, and its business
/// messages become ledger records in CONV-1 order; the partitions' records are then merged by
/// (instant, row) into `out`, as the in-memory replay writes it.
pub(super) fn write_ledger(job: &Job, out: &Path) -> anyhow::Result<()> {
    for (w, wave) in job.waves.iter().enumerate() {
        (job.progress)(
            "writing the ledger",
            (w * job.waves[0].len()) as u64,
            job.parts as u64,
        );
        wave.par_iter()
            .map(|&p| render_partition(job, p))
            .collect::<anyhow::Result<Vec<()>>>()?;
    }
    (job.progress)("merging the ledger", 0, 0);
    merge_records(job, out)
}

/// Read a partition's spill file of `kind`, and remove it.
fn take(job: &Job, kind: &str, p: usize) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(job.dir.file(kind, p))?;
    let _ = std::fs::remove_file(job.dir.file(kind, p));
    Ok(bytes)
}

/// Each chat record's id and type in the partition's text file: (start, length) of both.
fn text_spans(texts: &[u8]) -> anyhow::Result<Vec<[(usize, usize); 2]>> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < texts.len() {
        let mut pair = [(0, 0); 2];
        for t in &mut pair {
            let len = u32::from_le_bytes(texts[i..i + 4].try_into()?) as usize;
            *t = (i + 4, len);
            i += 4 + len;
        }
        spans.push(pair);
    }
    Ok(spans)
}

/// One partition's ledger records, in CONV-1 order, to its `ledger` spill file: each is
/// (instant, row, length) and the CSV record.
fn render_partition(job: &Job, p: usize) -> anyhow::Result<()> {
    let (ctx, calendars) = (job.ctx, job.calendars);
    let loaded = load_partition(&take(job, "chats", p)?, job.dropped, ctx.markets);
    let texts = take(job, "texts", p)?;
    let decisions = take(job, "priced", p)?;
    let spans = text_spans(&texts)?;
    let text = |(start, len): (usize, usize)| std::str::from_utf8(&texts[start..start + len]);
    let engine::PassOne {
        order,
        mut outcomes,
        ..
    } = engine::pass_one(
        &loaded.events,
        &loaded.chats,
        &loaded.countries,
        job.extras,
        ctx,
        calendars,
    );
    let mut decisions = decisions.chunks_exact(PendingUnit::PRICED_BYTES);
    let mut file = SpillFile::create(&job.dir.file("ledger", p))?;
    let record = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut csv = csv::Writer::from_writer(Shared(record.clone()));
    for &ei in &order {
        let o = &mut outcomes[ei as usize];
        if o.is_pending() {
            let d = decisions.next().ok_or_else(|| {
                anyhow::anyhow!("partition {p}: a pending unit without its price")
            })?;
            PendingUnit::apply_priced(o, d);
        }
        let e = &loaded.events[ei as usize];
        let Some((template, status)) = business_row(e.kind) else {
            continue;
        };
        let chat = loaded.chats[e.chat as usize];
        let [id, ty] = spans[loaded.record[ei as usize] as usize];
        let entry = Entry {
            row: e.row,
            id: text(id)?,
            ts: e.ts,
            waba: &ctx.accounts.wabas[chat.waba as usize].id,
            number: &job.numbers[chat.number as usize],
            user: &UserLabel {
                key: loaded.users[chat.user as usize],
                bsuids: job.bsuids,
                member: chat.group.then(|| member_of(job.members, e.row)).flatten(),
            },
            country: loaded.countries[e.country as usize],
            market: ctx.markets.name(o.market),
            month: month_label(calendars[chat.waba as usize].info[o.period as usize].month),
            ty: text(ty)?,
            template,
            status,
            outcome: o,
        };
        csv.write_record(entry.fields())?;
        csv.flush()?;
        let mut record = record.borrow_mut();
        file.buf.extend_from_slice(&e.ts.to_le_bytes());
        file.buf.extend_from_slice(&e.row.to_le_bytes());
        file.buf
            .extend_from_slice(&(record.len() as u32).to_le_bytes());
        file.buf.extend_from_slice(&record);
        record.clear();
        file.spill_if_full()?;
    }
    file.finish()?;
    Ok(())
}

/// The next (instant, row, record) of a partition's ledger file.
fn next_record(r: &mut BufReader<File>) -> std::io::Result<Option<(i64, u32, Vec<u8>)>> {
    let mut head = [0u8; 16];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let ts = i64::from_le_bytes(head[0..8].try_into().expect("8 bytes"));
    let row = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
    let mut record =
        vec![0u8; u32::from_le_bytes(head[12..16].try_into().expect("4 bytes")) as usize];
    r.read_exact(&mut record)?;
    Ok(Some((ts, row, record)))
}

/// The partitions' records, merged by (instant, row), through the one ledger writer.
fn merge_records(job: &Job, out: &Path) -> anyhow::Result<()> {
    let mut readers = (0..job.parts)
        .map(|p| {
            File::open(job.dir.file("ledger", p)).map(|f| BufReader::with_capacity(1 << 16, f))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut heap = BinaryHeap::new();
    for (p, r) in readers.iter_mut().enumerate() {
        if let Some((ts, row, record)) = next_record(r)? {
            heap.push(std::cmp::Reverse((ts, row, p, record)));
        }
    }
    crate::replay::ledger::write_with(out, |w| {
        let mut written = 0u64;
        while let Some(std::cmp::Reverse((_, _, p, record))) = heap.pop() {
            w.write_all(&record)?;
            written += 1;
            if written.is_multiple_of(1 << 20) {
                (job.progress)("merging the ledger", written, 0);
            }
            if let Some((ts, row, record)) = next_record(&mut readers[p])? {
                heap.push(std::cmp::Reverse((ts, row, p, record)));
            }
        }
        Ok(())
    })
}
