//! Protocol numbers (DPR 445/2000, art. 53): at least seven digits, never reused.
//!
//! A call's numbers read `{prefix}-{year}/{seq:07}`, `ER-SW-2020/0000042`; the year is
//! the year of receipt in the call's time zone. Numbering does not restart at New Year:
//! the sequence is the call's, and a call open across New Year goes on from
//! `ER-SW-2020/0000041` to `ER-SW-2021/0000042`, so that a number is never given twice
//! and the order of the numbers stays the order of arrival.

use std::fmt;

/// A protocol number, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolNumber {
    prefix: String,
    year: i16,
    seq: u64,
}

impl ProtocolNumber {
    pub fn new(prefix: &str, year: i16, seq: u64) -> ProtocolNumber {
        ProtocolNumber {
            prefix: prefix.to_string(),
            year,
            seq,
        }
    }

    /// The exact form: `ER-SW-2020/0000042`.
    pub fn parse(s: &str) -> Option<ProtocolNumber> {
        let (prefix, year, seq) = parse_protocol(s)?;
        Some(ProtocolNumber::new(prefix, year, seq))
    }

    /// As people type it: any case, fewer digits, spaces around: `er-sw-2020/42`.
    pub fn parse_lenient(s: &str) -> Option<ProtocolNumber> {
        let s = s.trim();
        let (head, seq) = s.rsplit_once('/')?;
        let (prefix, year) = head.rsplit_once('-')?;
        let prefix = prefix.trim().to_ascii_uppercase();
        let ok_prefix = (2..=16).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        let seq = seq.trim();
        if !ok_prefix
            || year.len() != 4
            || seq.is_empty()
            || seq.len() > 19
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(ProtocolNumber::new(
            &prefix,
            year.parse().ok()?,
            seq.parse().ok().filter(|n| *n > 0)?,
        ))
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn year(&self) -> i16 {
        self.year
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }
}

impl fmt::Display for ProtocolNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}/{:07}", self.prefix, self.year, self.seq)
    }
}

/// `{prefix}-{year}/{seq:07}`: `ER-SW-2020/0000042`. More than seven digits when needed.
pub fn format_protocol(prefix: &str, year: i16, seq: u64) -> String {
    ProtocolNumber::new(prefix, year, seq).to_string()
}

/// The prefix, year and sequence number of a protocol string, if it is one.
pub fn parse_protocol(s: &str) -> Option<(&str, i16, u64)> {
    let (head, seq) = s.rsplit_once('/')?;
    let (prefix, year) = head.rsplit_once('-')?;
    if seq.len() < 7 || !seq.bytes().all(|b| b.is_ascii_digit()) || year.len() != 4 {
        return None;
    }
    Some((prefix, year.parse().ok()?, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_digits_at_least() {
        assert_eq!(format_protocol("ER-SW", 2020, 42), "ER-SW-2020/0000042");
        assert_eq!(
            format_protocol("ER-SW", 2020, 12_345_678),
            "ER-SW-2020/12345678"
        );
        assert_eq!(
            parse_protocol("ER-SW-2020/0000042"),
            Some(("ER-SW", 2020, 42))
        );
        assert_eq!(parse_protocol("ER-SW-2020/42"), None);
        assert_eq!(parse_protocol("garbage"), None);
    }

    #[test]
    fn people_may_type_it_loosely() {
        let p = ProtocolNumber::parse_lenient(" er-sw-2026/2 ").unwrap();
        assert_eq!(p.to_string(), "ER-SW-2026/0000002");
        assert_eq!(ProtocolNumber::parse(&p.to_string()), Some(p));
        for bad in [
            "er-sw-2026/",
            "er-sw-26/2",
            "x-2026/1",
            "ER-SW-2026/0",
            "ER SW-2026/1",
            "/1",
        ] {
            assert_eq!(ProtocolNumber::parse_lenient(bad), None, "{bad}");
        }
    }
}
