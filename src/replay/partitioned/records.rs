//! The fixed binary records of the spill files: kept rows by chat (chat files) and message ids
//! (id files). Little endian, written and read only within one run.

use crate::billing::types::{Bot, Country, Kind, Status, TemplateCategory};

/// A kept row in a chat file (29 bytes, little endian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ChatRecord {
    pub(super) ts: i64,
    pub(super) row: u32,
    pub(super) user: u64,
    pub(super) waba: u16,
    pub(super) number: u32,
    /// MKT-3: the explicit country, if any.
    pub(super) country: Option<Country>,
    pub(super) kind: Kind,
    /// GRP-2: the row is a group's (`user` is then the group's key).
    pub(super) group: bool,
}

pub(super) const CHAT_RECORD: usize = 29;
const TEMPLATES: [TemplateCategory; 3] = [
    TemplateCategory::Marketing,
    TemplateCategory::Utility,
    TemplateCategory::Authentication,
];
const STATUSES: [Status; 4] = [
    Status::Delivered,
    Status::Read,
    Status::Sent,
    Status::Failed,
];

impl ChatRecord {
    pub(super) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ts.to_le_bytes());
        out.extend_from_slice(&self.row.to_le_bytes());
        out.extend_from_slice(&self.user.to_le_bytes());
        out.extend_from_slice(&self.waba.to_le_bytes());
        out.extend_from_slice(&self.number.to_le_bytes());
        out.extend_from_slice(&self.country.map(|c| c.0).unwrap_or([0, 0]));
        out.push(kind_code(self.kind) | (self.group as u8) << 7);
    }

    pub(super) fn decode(b: &[u8]) -> ChatRecord {
        let k = b[28];
        ChatRecord {
            ts: i64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            row: u32::from_le_bytes(b[8..12].try_into().expect("4 bytes")),
            user: u64::from_le_bytes(b[12..20].try_into().expect("8 bytes")),
            waba: u16::from_le_bytes([b[20], b[21]]),
            number: u32::from_le_bytes(b[22..26].try_into().expect("4 bytes")),
            country: (b[26] != 0).then_some(Country([b[26], b[27]])),
            kind: kind_of(k & 0x7f),
            group: k & 0x80 != 0,
        }
    }
}

/// The kind byte (7 bits): bits 0-2 the variant (0 business message, 1 inbound, 2 Meta
/// Business Agent, 3 AI provider, 4 call from the user, 5 business call accepted, 6 business call
/// not answered); an inbound row's bit 3 is its entry point; a business message's bits 3-4 its
/// template category (0: not a template), bits 5-6 its status.
#[inline]
fn kind_code(kind: Kind) -> u8 {
    let status = |s: Status| (STATUSES.iter().position(|x| *x == s).unwrap_or(0) as u8) << 5;
    match kind {
        Kind::Out {
            template,
            status: s,
        } => {
            let t = template.map_or(0, |t| {
                1 + TEMPLATES.iter().position(|x| *x == t).unwrap_or(0) as u8
            });
            t << 3 | status(s)
        }
        Kind::In { entry_point } => 1 | (entry_point as u8) << 3,
        Kind::Bot { bot, status: s } => {
            (match bot {
                Bot::MetaAgent => 2,
                Bot::AiProvider => 3,
            }) | status(s)
        }
        Kind::Call { by_user: true, .. } => 4,
        Kind::Call { accepted: true, .. } => 5,
        Kind::Call { .. } => 6,
    }
}

#[inline]
fn kind_of(k: u8) -> Kind {
    let status = STATUSES[((k >> 5) & 3) as usize];
    match k & 7 {
        0 => {
            let t = (k >> 3) & 3;
            Kind::Out {
                template: (t > 0).then(|| TEMPLATES[t as usize - 1]),
                status,
            }
        }
        1 => Kind::In {
            entry_point: k & 8 != 0,
        },
        2 => Kind::Bot {
            bot: Bot::MetaAgent,
            status,
        },
        3 => Kind::Bot {
            bot: Bot::AiProvider,
            status,
        },
        4 => Kind::Call {
            by_user: true,
            accepted: true,
        },
        c => Kind::Call {
            by_user: false,
            accepted: c == 5,
        },
    }
}

/// One message id occurrence in an id file.
pub(super) struct IdRecord {
    pub(super) ts: i64,
    pub(super) row: u32,
    pub(super) user: u64,
    pub(super) explicit_country: bool,
    pub(super) start: usize,
    pub(super) len: usize,
}

impl IdRecord {
    /// Hash, instant, row, flags (bit 0: explicit country, bit 1: long id), id length (1 byte,
    /// or 4 for an id over 255 bytes), the user only without an explicit country, the id.
    pub(super) fn encode(
        buf: &mut Vec<u8>,
        hash: u64,
        ts: i64,
        row: u32,
        explicit_country: bool,
        user: u64,
        id: &str,
    ) {
        let long = id.len() > 255;
        buf.extend_from_slice(&hash.to_le_bytes());
        buf.extend_from_slice(&ts.to_le_bytes());
        buf.extend_from_slice(&row.to_le_bytes());
        buf.push(explicit_country as u8 | (long as u8) << 1);
        if long {
            buf.extend_from_slice(&(id.len() as u32).to_le_bytes());
        } else {
            buf.push(id.len() as u8);
        }
        if !explicit_country {
            buf.extend_from_slice(&user.to_le_bytes());
        }
        buf.extend_from_slice(id.as_bytes());
    }

    /// The record at `at`, and the offset of the next one.
    pub(super) fn at(bytes: &[u8], at: usize) -> (u64, IdRecord, usize) {
        let at8 = |k: usize| <[u8; 8]>::try_from(&bytes[at + k..at + k + 8]).expect("8 bytes");
        let at4 = |k: usize| <[u8; 4]>::try_from(&bytes[at + k..at + k + 4]).expect("4 bytes");
        let flags = bytes[at + 20];
        let explicit_country = flags & 1 != 0;
        let (len, mut i) = if flags & 2 != 0 {
            (u32::from_le_bytes(at4(21)) as usize, 25)
        } else {
            (bytes[at + 21] as usize, 22)
        };
        let user = if explicit_country {
            0
        } else {
            i += 8;
            u64::from_le_bytes(at8(i - 8))
        };
        let r = IdRecord {
            ts: i64::from_le_bytes(at8(8)),
            row: u32::from_le_bytes(at4(16)),
            user,
            explicit_country,
            start: at + i,
            len,
        };
        (u64::from_le_bytes(at8(0)), r, at + i + len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_records_round_trip() {
        for kind in [
            Kind::In { entry_point: false },
            Kind::In { entry_point: true },
            Kind::Out {
                template: None,
                status: Status::Failed,
            },
            Kind::Out {
                template: Some(TemplateCategory::Authentication),
                status: Status::Read,
            },
            Kind::Out {
                template: Some(TemplateCategory::Marketing),
                status: Status::Delivered,
            },
            Kind::Bot {
                bot: Bot::MetaAgent,
                status: Status::Sent,
            },
            Kind::Bot {
                bot: Bot::AiProvider,
                status: Status::Delivered,
            },
            Kind::Call {
                by_user: true,
                accepted: true,
            },
            Kind::Call {
                by_user: false,
                accepted: true,
            },
            Kind::Call {
                by_user: false,
                accepted: false,
            },
        ] {
            let r = ChatRecord {
                ts: -62_135_596_800_000_000,
                row: u32::MAX,
                user: 999_999_999_999_999,
                waba: 3,
                number: 7,
                country: Some(Country(*b"BR")),
                kind,
                group: kind == Kind::In { entry_point: false },
            };
            let mut b = Vec::new();
            r.encode(&mut b);
            assert_eq!(b.len(), CHAT_RECORD);
            assert_eq!(ChatRecord::decode(&b), r);
            let r = ChatRecord { country: None, ..r };
            b.clear();
            r.encode(&mut b);
            assert_eq!(ChatRecord::decode(&b), r);
        }
    }

    #[test]
    fn id_records_round_trip() {
        let long = "w".repeat(300);
        let cases = [
            (true, 0u64, "wamid.1"),
            (false, 5_511_999_999_999, "wamid.2"),
            (false, 44_700_000_000, long.as_str()),
            (true, 0, long.as_str()),
        ];
        let mut buf = Vec::new();
        for (k, (explicit, user, id)) in cases.iter().enumerate() {
            IdRecord::encode(&mut buf, k as u64 * 7, -5, k as u32, *explicit, *user, id);
        }
        let mut at = 0;
        for (k, (explicit, user, id)) in cases.iter().enumerate() {
            let (hash, r, next) = IdRecord::at(&buf, at);
            assert_eq!((hash, r.ts, r.row), (k as u64 * 7, -5, k as u32));
            assert_eq!((r.explicit_country, r.user), (*explicit, *user));
            assert_eq!(&buf[r.start..r.start + r.len], id.as_bytes());
            at = next;
        }
        assert_eq!(at, buf.len());
    }
}
