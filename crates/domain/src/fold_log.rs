//! A call's fold log: what the allocation fold and the duplicate checks read from the
//! call's ledger entries, in a compact binary form.
//!
//! Rebuilding a call of a million applications from the ledger's JSON payloads took the
//! sequencer seconds after a restart; the same facts in this form decode in a fraction of
//! that. It is derived data, never the proof: every run of it is written from the ledger,
//! names the hash of the entry it ends on, and `bandi verify` encodes the ledger again and
//! compares.
//!
//! One entry: its ledger number (u64), a kind (u8) and the kind's fields, little-endian:
//! a submission carries its number (u64), its request in cents (i64), the content's
//! SHA-256 (32 bytes) and the entity's code (u16 length, UTF-8); the other events their
//! number (u64) or amount (i64).

use crate::allocation::Event;
use crate::ledger::Record;
use crate::money::Money;

/// What one ledger entry gives a call's fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldEntry {
    pub ledger_seq: u64,
    pub fact: Fact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// Application `seq` of `entity`, its content's SHA-256 and its request.
    Submitted {
        seq: u64,
        requested: Money,
        entity: String,
        content_sha256: [u8; 32],
    },
    /// Any other allocation event (never [`Event::Submitted`]).
    Event(Event),
}

impl Fact {
    pub fn event(&self) -> Event {
        match self {
            Fact::Submitted { seq, requested, .. } => Event::Submitted {
                seq: *seq,
                requested: *requested,
            },
            Fact::Event(e) => e.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldLogError {
    #[error("fold log cut short at byte {0}")]
    Truncated(usize),
    #[error("fold log: unknown kind {kind} at byte {at}")]
    UnknownKind { kind: u8, at: usize },
    #[error("fold log: an entity code that is not UTF-8 at byte {0}")]
    NotUtf8(usize),
    #[error("ledger entry {0}: content_sha256 is not 64 hex digits")]
    BadDigest(u64),
    #[error("ledger entry {0}: an entity code longer than 65,535 bytes")]
    LongEntity(u64),
    #[error("ledger entry {0}: a submission without its entity and content")]
    SubmissionWithoutEntity(u64),
}

impl FoldEntry {
    /// The fold's part of ledger entry `ledger_seq`, if it has one.
    pub fn of(ledger_seq: u64, record: &Record) -> Result<Option<FoldEntry>, FoldLogError> {
        let fact = match record {
            Record::ApplicationSubmitted {
                seq,
                entity,
                content_sha256,
                requested_cents,
                ..
            } => {
                let mut digest = [0u8; 32];
                hex::decode_to_slice(content_sha256, &mut digest)
                    .map_err(|_| FoldLogError::BadDigest(ledger_seq))?;
                Fact::Submitted {
                    seq: *seq,
                    requested: *requested_cents,
                    entity: entity.clone(),
                    content_sha256: digest,
                }
            }
            other => match other.allocation_event() {
                Some(e) => Fact::Event(e),
                None => return Ok(None),
            },
        };
        Ok(Some(FoldEntry { ledger_seq, fact }))
    }
}

const SUBMITTED: u8 = 0;
const WITHDRAWN: u8 = 1;
const REJECTED: u8 = 2;
const REDUCED: u8 = 3;
const REVOKED: u8 = 4;
const BUDGET_CHANGED: u8 = 5;

/// Appends `entry` to `out`.
pub fn encode(entry: &FoldEntry, out: &mut Vec<u8>) -> Result<(), FoldLogError> {
    out.extend_from_slice(&entry.ledger_seq.to_le_bytes());
    let (kind, number, amount) = match &entry.fact {
        Fact::Submitted {
            seq,
            requested,
            entity,
            content_sha256,
        } => {
            let len = u16::try_from(entity.len())
                .map_err(|_| FoldLogError::LongEntity(entry.ledger_seq))?;
            out.push(SUBMITTED);
            out.extend_from_slice(&seq.to_le_bytes());
            out.extend_from_slice(&requested.cents().to_le_bytes());
            out.extend_from_slice(content_sha256);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(entity.as_bytes());
            return Ok(());
        }
        // A submission without its entity and content would read back as another fact.
        Fact::Event(Event::Submitted { .. }) => {
            return Err(FoldLogError::SubmissionWithoutEntity(entry.ledger_seq));
        }
        Fact::Event(Event::Withdrawn { seq }) => (WITHDRAWN, Some(*seq), None),
        Fact::Event(Event::Rejected { seq }) => (REJECTED, Some(*seq), None),
        Fact::Event(Event::Reduced { seq, requested }) => (REDUCED, Some(*seq), Some(*requested)),
        Fact::Event(Event::Revoked { seq }) => (REVOKED, Some(*seq), None),
        Fact::Event(Event::BudgetChanged { budget }) => (BUDGET_CHANGED, None, Some(*budget)),
    };
    out.push(kind);
    if let Some(n) = number {
        out.extend_from_slice(&n.to_le_bytes());
    }
    if let Some(m) = amount {
        out.extend_from_slice(&m.cents().to_le_bytes());
    }
    Ok(())
}

/// Every entry of `bytes`, in order; anything malformed is an error, never a panic.
pub fn decode(bytes: &[u8]) -> Result<Vec<FoldEntry>, FoldLogError> {
    let mut r = Reader { bytes, at: 0 };
    let mut entries = Vec::new();
    while r.at < bytes.len() {
        let ledger_seq = r.u64()?;
        let at = r.at;
        let kind = r.take::<1>()?[0];
        let fact = match kind {
            SUBMITTED => {
                let seq = r.u64()?;
                let requested = Money::from_cents(r.i64()?);
                let content_sha256 = r.take::<32>()?;
                let len = u16::from_le_bytes(r.take::<2>()?) as usize;
                let start = r.at;
                let raw = r.slice(len)?;
                let entity = std::str::from_utf8(raw)
                    .map_err(|_| FoldLogError::NotUtf8(start))?
                    .to_string();
                Fact::Submitted {
                    seq,
                    requested,
                    entity,
                    content_sha256,
                }
            }
            WITHDRAWN => Fact::Event(Event::Withdrawn { seq: r.u64()? }),
            REJECTED => Fact::Event(Event::Rejected { seq: r.u64()? }),
            REDUCED => Fact::Event(Event::Reduced {
                seq: r.u64()?,
                requested: Money::from_cents(r.i64()?),
            }),
            REVOKED => Fact::Event(Event::Revoked { seq: r.u64()? }),
            BUDGET_CHANGED => Fact::Event(Event::BudgetChanged {
                budget: Money::from_cents(r.i64()?),
            }),
            kind => return Err(FoldLogError::UnknownKind { kind, at }),
        };
        entries.push(FoldEntry { ledger_seq, fact });
    }
    Ok(entries)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn slice(&mut self, len: usize) -> Result<&[u8], FoldLogError> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(FoldLogError::Truncated(self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], FoldLogError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.slice(N)?);
        Ok(a)
    }

    fn u64(&mut self) -> Result<u64, FoldLogError> {
        Ok(u64::from_le_bytes(self.take::<8>()?))
    }

    fn i64(&mut self) -> Result<i64, FoldLogError> {
        Ok(i64::from_le_bytes(self.take::<8>()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitted(ledger_seq: u64, seq: u64, entity: &str) -> FoldEntry {
        FoldEntry {
            ledger_seq,
            fact: Fact::Submitted {
                seq,
                requested: Money::from_cents(1_234_567 + seq as i64),
                entity: entity.into(),
                content_sha256: [seq as u8; 32],
            },
        }
    }

    fn every_kind() -> Vec<FoldEntry> {
        let event = |ledger_seq, e| FoldEntry {
            ledger_seq,
            fact: Fact::Event(e),
        };
        vec![
            submitted(2, 1, "037006"),
            submitted(3, 2, "Unione dei Comuni àèì"),
            event(4, Event::Withdrawn { seq: 1 }),
            event(5, Event::Rejected { seq: 2 }),
            event(
                6,
                Event::Reduced {
                    seq: 3,
                    requested: Money::from_cents(-5),
                },
            ),
            event(7, Event::Revoked { seq: 4 }),
            event(
                u64::MAX,
                Event::BudgetChanged {
                    budget: Money::from_cents(i64::MAX),
                },
            ),
            submitted(9, u64::MAX, ""),
        ]
    }

    fn encoded(entries: &[FoldEntry]) -> Vec<u8> {
        let mut out = Vec::new();
        for e in entries {
            encode(e, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let entries = every_kind();
        assert_eq!(decode(&encoded(&entries)).unwrap(), entries);
        assert_eq!(decode(&[]).unwrap(), vec![]);
    }

    /// Every cut of a log but those on an entry's end is an error, and no cut panics.
    #[test]
    fn a_log_cut_anywhere_is_an_error() {
        let entries = every_kind();
        let mut ends = Vec::new();
        let mut bytes = Vec::new();
        for e in &entries {
            encode(e, &mut bytes).unwrap();
            ends.push(bytes.len());
        }
        for cut in 1..bytes.len() {
            let got = decode(&bytes[..cut]);
            match ends.iter().position(|&end| end == cut) {
                Some(i) => assert_eq!(got.unwrap(), entries[..=i], "cut at {cut}"),
                None => assert!(
                    matches!(got, Err(FoldLogError::Truncated(_))),
                    "cut at {cut}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn unknown_kinds_and_broken_text_are_errors() {
        let mut bytes = encoded(&[submitted(2, 1, "ab")]);
        bytes[8] = 9;
        assert_eq!(
            decode(&bytes),
            Err(FoldLogError::UnknownKind { kind: 9, at: 8 })
        );
        let mut bytes = encoded(&[submitted(2, 1, "ab")]);
        let last = bytes.len() - 1;
        bytes[last] = 0xff;
        assert_eq!(decode(&bytes), Err(FoldLogError::NotUtf8(last - 1)));
        // A length that runs past the end.
        let mut bytes = encoded(&[submitted(2, 1, "ab")]);
        let len_at = bytes.len() - 4;
        bytes[len_at..len_at + 2].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(matches!(decode(&bytes), Err(FoldLogError::Truncated(_))));
    }

    #[test]
    fn records_give_their_fold_part_or_nothing() {
        let record = Record::ApplicationSubmitted {
            call: "c".into(),
            seq: 7,
            protocol: "P-7".into(),
            entity: "037006".into(),
            admitted_at: "2020-04-20T08:00:00Z".into(),
            received_at: "2020-04-20T08:00:00Z".into(),
            content_sha256: "ab".repeat(32),
            requested_cents: Money::from_cents(700),
        };
        let entry = FoldEntry::of(11, &record).unwrap().unwrap();
        assert_eq!(entry.ledger_seq, 11);
        assert_eq!(
            entry.fact,
            Fact::Submitted {
                seq: 7,
                requested: Money::from_cents(700),
                entity: "037006".into(),
                content_sha256: [0xab; 32],
            }
        );
        assert_eq!(entry.fact.event(), record.allocation_event().unwrap());
        let mut bad = record.clone();
        if let Record::ApplicationSubmitted { content_sha256, .. } = &mut bad {
            *content_sha256 = "xyz".into();
        }
        assert_eq!(FoldEntry::of(11, &bad), Err(FoldLogError::BadDigest(11)));
        let long = "x".repeat(70_000);
        let entry = submitted(1, 1, &long);
        assert_eq!(
            encode(&entry, &mut Vec::new()),
            Err(FoldLogError::LongEntity(1))
        );
        let bare = FoldEntry {
            ledger_seq: 3,
            fact: Fact::Event(Event::Submitted {
                seq: 1,
                requested: Money::from_cents(1),
            }),
        };
        assert_eq!(
            encode(&bare, &mut Vec::new()),
            Err(FoldLogError::SubmissionWithoutEntity(3))
        );
    }
}
