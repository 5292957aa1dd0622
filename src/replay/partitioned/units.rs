//! Fixed-size binary records of the partitioned replay's spill files: a unit pending pass 2
//! ([`PendingUnit`], 28 bytes) and pass 2's decision for it (11 bytes). An enum value is written
//! as its position in a table below (or in `Rule::ALL` / `Rulebook::ALL`), so the tables fix the
//! format; the files live only for the length of one run, so the format need not be stable
//! across versions.

use crate::billing::engine::{ChatKey, Outcome, Pending, Rule, Unit};
use crate::billing::money::Money;
use crate::billing::types::{Billed, Reason, Rulebook};

const REASONS: [Reason; 11] = Reason::ALL;
const UNITS: [Unit; 4] = [Unit::None, Unit::Free, Unit::Charged, Unit::Unpriced];

const BILLED: [Billed; 14] = [
    Billed::Marketing,
    Billed::Utility,
    Billed::Authentication,
    Billed::AuthenticationInternational,
    Billed::Service,
    Billed::BusinessInitiated,
    Billed::UserInitiated,
    Billed::FreeEntryPoint,
    Billed::GroupMarketing,
    Billed::GroupUtility,
    Billed::GroupService,
    Billed::MetaBusinessAgent,
    Billed::GeneralPurposeAi,
    Billed::Call,
];

const PENDING: [Pending; 7] = [
    Pending::Done,
    Pending::ListRate,
    Pending::CbpFreeTier,
    Pending::Tiered,
    Pending::ServiceAllowance,
    Pending::PerToken,
    Pending::Call,
];

fn code_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).expect("listed") as u8
}

/// A unit waiting for pass 2, with what pricing and the breakdown need, in a fixed-size form
/// (for the partitioned replay, which spills pending units to disk between the passes).
#[derive(Debug, Clone, Copy)]
pub struct PendingUnit {
    pub ts: i64,
    pub row: u32,
    /// `user` is not kept (pricing never needs it).
    pub chat: ChatKey,
    pub outcome: Outcome,
}

impl PendingUnit {
    pub const BYTES: usize = 28;
    pub const PRICED_BYTES: usize = 11;

    /// What pass 2 decided for a priced unit (price, unit, reason, rule), to lay over the same
    /// unit's pass-1 outcome later ([`PendingUnit::apply_priced`]).
    pub fn encode_priced(o: &Outcome, out: &mut Vec<u8>) {
        out.extend_from_slice(&o.price.micros().to_le_bytes());
        out.push(code_of(&UNITS, &o.unit));
        out.push(code_of(
            &REASONS,
            &o.reason.expect("priced units have a reason"),
        ));
        out.push(code_of(
            &Rule::ALL,
            &o.rule.expect("priced units have a rule"),
        ));
    }

    /// Lay a pass-2 decision ([`PendingUnit::encode_priced`]) over a pending outcome.
    pub fn apply_priced(o: &mut Outcome, b: &[u8]) {
        o.price = Money(i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")));
        o.unit = UNITS[b[8] as usize];
        o.reason = Some(REASONS[b[9] as usize]);
        o.rule = Some(Rule::ALL[b[10] as usize]);
        o.pending = Pending::Done;
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let o = &self.outcome;
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.row.to_le_bytes());
        out.extend_from_slice(&self.chat.waba.to_le_bytes());
        out.extend_from_slice(&self.chat.number.to_le_bytes());
        out.extend_from_slice(&o.period.to_le_bytes());
        out.extend_from_slice(&o.market.to_le_bytes());
        out.push(code_of(
            &BILLED,
            &o.billed.expect("pending units have a category"),
        ));
        out.push(code_of(
            &Rulebook::ALL,
            &o.rulebook.expect("pending units have a rulebook"),
        ));
        out.push(code_of(
            &Rule::ALL,
            &o.rule.expect("pending units have a rule"),
        ));
        out.push(code_of(&PENDING, &o.pending));
    }

    pub fn decode(b: &[u8]) -> PendingUnit {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        PendingUnit {
            ts: i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            row: u32_at(8),
            chat: ChatKey {
                waba: u16_at(12),
                group: false,
                number: u32_at(14),
                user: 0,
            },
            outcome: Outcome {
                reason: Some(Reason::Charged),
                rule: Some(Rule::ALL[b[26] as usize]),
                rulebook: Some(Rulebook::ALL[b[25] as usize]),
                billed: Some(BILLED[b[24] as usize]),
                unit: Unit::Charged,
                conv_start: None,
                price: Money::ZERO,
                market: u16_at(22),
                period: u32_at(18),
                pending: PENDING[b[27] as usize],
            },
        }
    }
}
