//! Step 1 of the partitioned replay: read the log once, validate every row with the one row
//! parser, and route kept rows to the chat and id files of their partitions.

use crate::billing::engine::{Extras, WabaRanges};
use crate::billing::markets::{MarketTable, Resolved};
use crate::billing::types::Country;
use crate::io::log::{
    fatal, member_label, read_rows, CsvReader, Interner, Links, LogFormat, Parsed, ReadOptions,
    Reject, RowRules, RowSink, BSUID_KEY, GROUP_KEY,
};
use rustc_hash::FxHashMap;

use super::records::{ChatRecord, IdRecord};
use super::spill::{SpillDir, SpillFile};
use super::{PartitionError, Request};

/// The scan's sink: routes rows to the spill files.
pub(super) struct Scan<'a> {
    rules: RowRules<'a>,
    chat_files: Vec<SpillFile>,
    id_files: Vec<SpillFile>,
    /// For a ledger: each kept row's id and type, in its chat file's order.
    text_files: Option<Vec<SpillFile>>,
    pub(super) numbers: Interner,
    /// MKT-4: users' BSUIDs, in order of first sight.
    pub(super) bsuids: Interner,
    /// MKT-4: the links of numbers to BSUIDs this scan found.
    pub(super) links: Links,
    /// MKT-4: the links known before this scan (from an earlier scan of the same log).
    known: Links,
    markets: &'a MarketTable,
    /// Numbers' countries (MKT-1) for the rows that become a BSUID's.
    memo: FxHashMap<u64, Result<Resolved, String>>,
    pub(super) rows: u64,
    pub(super) rejects: Vec<Reject>,
    pub(super) ranges: WabaRanges,
    /// The first failed spill write: nothing more is spilled and the readers stop.
    error: Option<std::io::Error>,
    /// GRP-2: the groups, in order of first sight.
    groups: Interner,
    /// GRP-1: group rows' members, by row.
    pub(super) members: Vec<(u32, String)>,
    /// CALL-3, MBA-1, MAXP-1: the rows' durations, tokens and prices.
    pub(super) extras: Extras,
    /// CUR-1: rows of WABAs billed in another currency, left out.
    pub(super) other_currency: u64,
}

pub(super) fn fx_hash<T: std::hash::Hash + ?Sized>(v: &T) -> u64 {
    std::hash::BuildHasher::hash_one(&rustc_hash::FxBuildHasher, v)
}

/// Partition of a hash: the high bits, multiplied down (FxHash's low bits are weak).
pub(super) fn part_of(hash: u64, parts: usize) -> usize {
    ((hash.rotate_left(26) as u128 * parts as u128) >> 64) as usize
}

impl Scan<'_> {
    /// MKT-4: a row's user key and country. A row that gives a BSUID, or a number linked to
    /// one, is the BSUID's, with its country settled here (explicit, else the number's, else the
    /// BSUID's: the loader resolves numbers only); `Err`: its number has no country.
    fn user(&mut self, p: &Parsed, row: u64) -> Result<(u64, Option<Country>), Reject> {
        if !p.group.is_empty() {
            return self.group_member(p, row);
        }
        let b = if p.bsuid.is_empty() {
            match self.known.of(p.user) {
                Some(b) => b,
                None => return Ok((p.user, p.country)),
            }
        } else {
            let b = self.bsuids.id(p.bsuid);
            if p.user != 0 {
                self.links.add(p.user, p.ts, row as u32, b);
            }
            b
        };
        let country = self.row_country(p, row)?;
        Ok((BSUID_KEY | u64::from(b), Some(country)))
    }

    /// A row's country settled at the scan: the explicit one (MKT-3, or a BSUID's), else its
    /// number's (MKT-1, once per number); `Err`: the number has none.
    fn row_country(&mut self, p: &Parsed, row: u64) -> Result<Country, Reject> {
        if let Some(c) = p.country {
            return Ok(c);
        }
        let markets = self.markets;
        let found = self
            .memo
            .entry(p.user)
            .or_insert_with(|| markets.resolve_number(&p.user.to_string()));
        match found {
            Ok(r) => Ok(r.country),
            Err(_) => {
                let found = Some(found.clone());
                Err(Reject::without_country(row as u32, p.user, &found))
            }
        }
    }

    /// GRP-1: a group row is the group's (its key), at its member's country (explicit, the
    /// BSUID's, else the member number's); `Err`: the number has none.
    fn group_member(&mut self, p: &Parsed, row: u64) -> Result<(u64, Option<Country>), Reject> {
        let country = self.row_country(p, row)?;
        self.members.push((row as u32, member_label(p)));
        let g = self.groups.id(p.group);
        Ok((GROUP_KEY | u64::from(g), Some(country)))
    }

    /// Route a kept row to its chat file, and its id to its id file.
    fn spill(&mut self, p: &Parsed, row: u64) -> std::io::Result<()> {
        if !self.rules.accounts().bills_waba(p.waba as usize) {
            self.other_currency += 1;
            return Ok(());
        }
        let (user, country) = match self.user(p, row) {
            Ok(u) => u,
            Err(reject) => {
                self.rejects.push(reject);
                return Ok(());
            }
        };
        let number = self.numbers.id(p.number);
        self.ranges.add(p.waba, p.ts);
        self.extras.push(row as u32, p.extra);
        let parts = self.chat_files.len();
        let rec = ChatRecord {
            ts: p.ts,
            row: row as u32,
            user,
            waba: p.waba,
            number,
            country,
            kind: p.kind,
            group: !p.group.is_empty(),
        };
        let part = part_of(fx_hash(&(p.waba, number, user)), parts);
        let f = &mut self.chat_files[part];
        rec.encode(&mut f.buf);
        f.spill_if_full()?;
        if let Some(texts) = &mut self.text_files {
            let f = &mut texts[part];
            for text in [p.id, p.ty] {
                f.buf.extend_from_slice(&(text.len() as u32).to_le_bytes());
                f.buf.extend_from_slice(text.as_bytes());
            }
            f.spill_if_full()?;
        }
        if !p.id.is_empty() {
            let hash = fx_hash(p.id.as_bytes());
            let f = &mut self.id_files[part_of(hash, parts)];
            IdRecord::encode(
                &mut f.buf,
                hash,
                p.ts,
                row as u32,
                country.is_some(),
                user,
                p.id,
            );
            f.spill_if_full()?;
        }
        Ok(())
    }
}

impl<'a> RowSink<'a> for Scan<'a> {
    fn rules(&self) -> RowRules<'a> {
        self.rules.clone()
    }
    fn next_row(&mut self) -> u64 {
        self.rows += 1;
        self.rows
    }
    fn rows(&self) -> u64 {
        self.rows
    }
    fn keep(&mut self, p: &Parsed, row: u64) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.spill(p, row) {
            self.error = Some(e);
        }
    }
    /// A spill write failed (a full disk): the readers stop at their next block.
    fn stopped(&self) -> bool {
        self.error.is_some()
    }
    fn reject(&mut self, r: Reject) {
        self.rejects.push(r);
    }
}

/// Step 1: read the log, validate every row, and route kept rows to the chat and id files of
/// `dir`. Returns the sink with its row count, rejects and instants seen.
/// `known`: links of numbers to BSUIDs found by an earlier scan of the log, with the BSUIDs it
/// interned (`bsuids`, so their indices stay).
pub(super) fn scan<'a>(
    req: &Request<'a>,
    dir: &SpillDir,
    markets: &'a MarketTable,
    known: Links,
    bsuids: Interner,
) -> Result<Scan<'a>, PartitionError> {
    let (path, format, accounts, parts) = (req.path, req.format, req.accounts, req.parts);
    let texts = req.ledger.is_some();
    let progress = req.progress;
    let io = |source: std::io::Error| PartitionError::Spill {
        dir: dir.path().display().to_string(),
        source,
    };
    let create = |kind: &str| -> std::io::Result<Vec<SpillFile>> {
        (0..parts)
            .map(|p| SpillFile::create(&dir.file(kind, p)))
            .collect()
    };
    let mut scan = Scan {
        rules: RowRules::new(accounts, req.read.auto_rulebook),
        chat_files: create("chats").map_err(io)?,
        id_files: create("ids").map_err(io)?,
        text_files: if texts {
            Some(create("texts").map_err(io)?)
        } else {
            None
        },
        numbers: Interner::default(),
        bsuids,
        links: Links::default(),
        known,
        markets,
        memo: FxHashMap::default(),
        rows: 0,
        rejects: Vec::new(),
        ranges: WabaRanges::new(accounts.wabas.len()),
        error: None,
        groups: Interner::default(),
        members: Vec::new(),
        extras: Extras::default(),
        other_currency: 0,
    };
    let report = |n: u64| progress("scanning", n, 0);
    // The scan reads CSV with the block reader whatever `read.reader` says (the plain reader
    // is the in-memory replay's reference).
    let read = ReadOptions {
        reader: CsvReader::Block,
        ..req.read
    };
    match format {
        _ if format != LogFormat::Webhooks => read_rows(path, format, &mut scan, &read, &report)?,
        _ => {
            return Err(fatal(
                path,
                "webhook input is not supported by the partitioned replay (drop --partitions)",
            )
            .into())
        }
    }
    if let Some(source) = scan.error.take() {
        return Err(PartitionError::SpillScan {
            dir: dir.path().display().to_string(),
            row: scan.rows,
            source,
        });
    }
    if scan.rows == 0 {
        return Err(fatal(path, "no messages (only a header)").into());
    }
    scan.extras.seal();
    scan.members.sort_by_key(|m| m.0);
    let texts = scan.text_files.take().unwrap_or_default();
    for f in scan
        .chat_files
        .drain(..)
        .chain(scan.id_files.drain(..))
        .chain(texts)
    {
        f.finish().map_err(io)?;
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_spread_hashes() {
        let mut seen = [0u32; 7];
        for u in 0..7000u64 {
            seen[part_of(fx_hash(&(0u16, 0u32, 5_511_000_000_000 + u)), 7)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 500), "{seen:?}");
    }
}
