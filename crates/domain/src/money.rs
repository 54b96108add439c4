//! Money as integer euro cents and rates as basis points. No floating point anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of euro, in cents. Negative values exist only as differences; amounts that
/// people enter are checked to be positive where they are parsed into domain types.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not an amount of euro: {0:?} (write for example 52500.00 or 52.500,00)")]
    Syntax(String),
    #[error("amount too large: {0:?}")]
    Overflow(String),
}

impl Money {
    pub const ZERO: Money = Money(0);
    /// Far above any public budget, far below i64::MAX: sums of many such amounts still fit.
    pub const MAX_AMOUNT: Money = Money(100_000_000_000_000);

    pub const fn from_cents(cents: i64) -> Self {
        Money(cents)
    }

    pub const fn from_euros(euros: i64) -> Self {
        Money(euros * 100)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// Sum of amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(items: I) -> Option<Money> {
        items
            .into_iter()
            .try_fold(Money::ZERO, |acc, m| acc.checked_add(m))
    }

    /// `self × rate`, rounded down to the cent (the rounding rule for grants).
    pub fn apply_rate_floor(self, rate: Rate) -> Money {
        let product = i128::from(self.0) * i128::from(rate.0) / 10_000;
        // |rate| <= 100% so the product never grows past |self|.
        Money(product as i64)
    }

    /// Parses an amount in euro as people write it: `52500`, `52500.5`, `52500.00`,
    /// `52.500,00`, `52500,00`, `€ 52.500,00`. With a comma, dots group thousands; without
    /// one, a dot followed by one or two digits is the decimal separator and dots
    /// followed by groups of three digits group thousands.
    pub fn parse_euros(input: &str) -> Result<Money, MoneyError> {
        let err = || MoneyError::Syntax(input.to_string());
        let s = input
            .trim()
            .trim_start_matches('€')
            .trim_end_matches('€')
            .trim();
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = if let Some((i, f)) = s.split_once(',') {
            (strip_thousands(i).ok_or_else(err)?, f.to_string())
        } else if let Some(pos) = s.rfind('.') {
            let tail = &s[pos + 1..];
            if tail.is_empty() {
                return Err(err());
            } else if tail.len() == 3 {
                (strip_thousands(s).ok_or_else(err)?, String::new())
            } else {
                (
                    strip_thousands(&s[..pos]).ok_or_else(err)?,
                    tail.to_string(),
                )
            }
        } else {
            (s.to_string(), String::new())
        };
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || frac_part.len() > 2
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let euros: i64 = int_part
            .parse()
            .map_err(|_| MoneyError::Overflow(input.to_string()))?;
        let frac: i64 = match frac_part.len() {
            0 => 0,
            1 => frac_part.parse::<i64>().map_err(|_| err())? * 10,
            _ => frac_part.parse().map_err(|_| err())?,
        };
        let cents = euros
            .checked_mul(100)
            .and_then(|c| c.checked_add(frac))
            .filter(|c| *c <= Money::MAX_AMOUNT.0)
            .ok_or_else(|| MoneyError::Overflow(input.to_string()))?;
        Ok(Money(if negative { -cents } else { cents }))
    }

    /// `52500.00`: the plain form used in files and CSV exports.
    pub fn to_plain(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A whole number as people write it: `180`, `1.200` (Italian thousands, by the same rule
/// as amounts), `-3` (refused later, where negatives are not allowed).
pub fn parse_count(input: &str) -> Option<i64> {
    let s = input.trim();
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let plain = if digits.contains('.') {
        strip_thousands(digits)?
    } else {
        digits.to_string()
    };
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    plain
        .parse::<i64>()
        .ok()
        .map(|n| if negative { -n } else { n })
}

/// Strips thousands separators, checking that every group after the first has three digits.
fn strip_thousands(s: &str) -> Option<String> {
    let mut groups = s.split('.');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 && s.contains('.') {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// Italian formatting: `52.500,00 €`.
impl Money {
    /// The amount as people of `locale` write it: `52.500,00 €` in Italian (the
    /// [`Display`](fmt::Display) form) and `€52,500.00` in English.
    pub fn in_locale(self, locale: crate::i18n::Locale) -> String {
        match locale {
            crate::i18n::Locale::It => self.to_string(),
            crate::i18n::Locale::En => {
                let abs = self.0.unsigned_abs();
                let euros = (abs / 100).to_string();
                let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
                for (i, ch) in euros.chars().enumerate() {
                    if i > 0 && (euros.len() - i).is_multiple_of(3) {
                        grouped.push(',');
                    }
                    grouped.push(ch);
                }
                let sign = if self.0 < 0 { "-" } else { "" };
                format!("{sign}€{grouped}.{:02}", abs % 100)
            }
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        let euros = (abs / 100).to_string();
        let mut grouped = String::with_capacity(euros.len() + euros.len() / 3);
        for (i, ch) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped},{:02} €", abs % 100)
    }
}

/// A rate in basis points: 7000 = 70%. Always within 0..=10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Rate(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    #[error("a rate must be between 0 and 10000 basis points (0% to 100%), got {0}")]
    OutOfRange(i64),
    #[error("not a percentage: {0:?} (write for example 70 or 70% or 12.5%)")]
    Syntax(String),
}

impl Rate {
    pub const FULL: Rate = Rate(10_000);

    pub fn from_bp(bp: i64) -> Result<Rate, RateError> {
        if (0..=10_000).contains(&bp) {
            Ok(Rate(bp as u32))
        } else {
            Err(RateError::OutOfRange(bp))
        }
    }

    pub const fn bp(self) -> u32 {
        self.0
    }

    /// Parses `70`, `70%`, `12.5%`, `12,25 %` into basis points (at most two decimals).
    pub fn parse_percent(input: &str) -> Result<Rate, RateError> {
        let err = || RateError::Syntax(input.to_string());
        let s = input.trim().trim_end_matches('%').trim().replace(',', ".");
        let (int_part, frac) = s.split_once('.').unwrap_or((&s, ""));
        if int_part.is_empty()
            || int_part.len() > 3
            || frac.len() > 2
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let whole: i64 = int_part.parse().map_err(|_| err())?;
        let hundredths: i64 = format!("{frac:0<2}").parse().map_err(|_| err())?;
        Rate::from_bp(whole * 100 + hundredths)
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bp = i64::deserialize(d)?;
        Rate::from_bp(bp).map_err(serde::de::Error::custom)
    }
}

/// `70%`, `12,5%`.
impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => write!(f, "{whole}%"),
            f2 if f2 % 10 == 0 => write!(f, "{whole},{}%", f2 / 10),
            f2 => write!(f, "{whole},{f2:02}%"),
        }
    }
}

/// The grant for an eligible cost: `floor(rate × cost)`, then capped at the maximum grant.
pub fn grant_for(eligible_cost: Money, rate: Rate, max_grant: Option<Money>) -> Money {
    let grant = eligible_cost.apply_rate_floor(rate);
    match max_grant {
        Some(cap) if grant > cap => cap,
        _ => grant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn english_formatting() {
        use crate::i18n::Locale;
        let m = |c| Money::from_cents(c);
        assert_eq!(m(5_250_000).in_locale(Locale::En), "€52,500.00");
        assert_eq!(m(200_000_000).in_locale(Locale::En), "€2,000,000.00");
        assert_eq!(m(5).in_locale(Locale::En), "€0.05");
        assert_eq!(m(-99_999).in_locale(Locale::En), "-€999.99");
        assert_eq!(m(5_250_000).in_locale(Locale::It), "52.500,00 €");
    }

    #[test]
    fn italian_formatting() {
        assert_eq!(Money::from_cents(5_250_000).to_string(), "52.500,00 €");
        assert_eq!(Money::from_cents(200_000_000).to_string(), "2.000.000,00 €");
        assert_eq!(Money::from_cents(5).to_string(), "0,05 €");
        assert_eq!(Money::from_cents(-123_456).to_string(), "-1.234,56 €");
        assert_eq!(Money::from_cents(99_999).to_string(), "999,99 €");
    }

    #[test]
    fn parses_what_people_write() {
        let cases = [
            ("52500", 5_250_000),
            ("52500.00", 5_250_000),
            ("52500.5", 5_250_050),
            ("52.500,00", 5_250_000),
            ("52500,00", 5_250_000),
            ("€ 52.500,00", 5_250_000),
            ("52.500,00 €", 5_250_000),
            ("52.500", 5_250_000),
            ("2.000.000", 200_000_000),
            ("0,05", 5),
            ("-10", -1000),
        ];
        for (text, cents) in cases {
            assert_eq!(
                Money::parse_euros(text),
                Ok(Money::from_cents(cents)),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for text in [
            "",
            "abc",
            "1,234",
            "12.3456",
            "1.23.45",
            "1e5",
            "12,5,0",
            "€",
            "1 000",
            "1.2345,00",
            "0x10",
            "+5",
            "5.",
        ] {
            assert!(
                Money::parse_euros(text).is_err(),
                "{text:?} should be refused"
            );
        }
        assert!(matches!(
            Money::parse_euros("99999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
        assert!(matches!(
            Money::parse_euros("1000000000001"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn counts_as_people_write_them() {
        for (text, n) in [
            ("180", 180),
            ("1.200", 1200),
            ("-3", -3),
            (" 12 ", 12),
            ("1.000.000", 1_000_000),
        ] {
            assert_eq!(parse_count(text), Some(n), "{text}");
        }
        for text in [
            "",
            "1,5",
            "12.34",
            "1234.567",
            "abc",
            "1.2.3",
            "-",
            "99999999999999999999",
        ] {
            assert_eq!(parse_count(text), None, "{text}");
        }
    }

    #[test]
    fn grants_of_the_2020_call() {
        let rate = Rate::from_bp(7000).unwrap();
        let cap = Some(Money::from_euros(105_000));
        assert_eq!(
            grant_for(Money::from_euros(75_000), rate, cap),
            Money::from_euros(52_500)
        );
        assert_eq!(
            grant_for(Money::from_euros(150_000), rate, cap),
            Money::from_euros(105_000)
        );
        assert_eq!(
            grant_for(Money::from_euros(140_000), rate, cap),
            Money::from_euros(98_000)
        );
        assert_eq!(
            grant_for(Money::from_euros(200_000), rate, cap),
            Money::from_euros(105_000)
        );
        // 70% of 0,03 € is 0,021 €: rounded down to 0,02 €.
        assert_eq!(
            grant_for(Money::from_cents(3), rate, None),
            Money::from_cents(2)
        );
    }

    #[test]
    fn rates() {
        assert_eq!(Rate::parse_percent("70"), Ok(Rate(7000)));
        assert_eq!(Rate::parse_percent("70%"), Ok(Rate(7000)));
        assert_eq!(Rate::parse_percent("12,5 %"), Ok(Rate(1250)));
        assert_eq!(Rate::parse_percent("0.25"), Ok(Rate(25)));
        assert_eq!(Rate::parse_percent("100"), Ok(Rate::FULL));
        assert!(Rate::parse_percent("100.01").is_err());
        assert!(Rate::parse_percent("-1").is_err());
        assert!(Rate::parse_percent("1.234").is_err());
        assert!(Rate::from_bp(10_001).is_err());
        assert_eq!(Rate(7000).to_string(), "70%");
        assert_eq!(Rate(1250).to_string(), "12,5%");
        assert_eq!(Rate(1225).to_string(), "12,25%");
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(cents in 0i64..=Money::MAX_AMOUNT.cents()) {
            let m = Money::from_cents(cents);
            let italian = m.to_string();
            prop_assert_eq!(Money::parse_euros(&italian), Ok(m));
            prop_assert_eq!(Money::parse_euros(&m.to_plain()), Ok(m));
        }

        #[test]
        fn grant_is_floor_of_rate_and_never_above_cost_or_cap(
            cents in 0i64..=Money::MAX_AMOUNT.cents(),
            bp in 0i64..=10_000,
            cap in proptest::option::of(0i64..=Money::MAX_AMOUNT.cents()),
        ) {
            let rate = Rate::from_bp(bp).unwrap();
            let g = grant_for(Money::from_cents(cents), rate, cap.map(Money::from_cents));
            prop_assert!(g.cents() <= cents);
            if let Some(c) = cap { prop_assert!(g.cents() <= c); }
            // floor: g*10000 <= cents*bp < (g+1)*10000 unless capped
            let exact = i128::from(cents) * i128::from(bp);
            if cap.is_none_or(|c| exact / 10_000 <= i128::from(c)) {
                prop_assert!(i128::from(g.cents()) * 10_000 <= exact);
                prop_assert!(exact < (i128::from(g.cents()) + 1) * 10_000);
            }
        }
    }
}
