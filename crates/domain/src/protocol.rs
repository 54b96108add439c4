//! Protocol numbers (DPR 445/2000, art. 53): at least seven digits, never reused.

/// `{prefix}-{year}/{seq:07}`: `ER-SW-2020/0000042`. More than seven digits when needed.
pub fn format_protocol(prefix: &str, year: i16, seq: u64) -> String {
    format!("{prefix}-{year}/{seq:07}")
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
}
