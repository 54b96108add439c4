//! Instants as the platform stores and shows them: UTC, microsecond precision.

use jiff::Timestamp;

/// Drops anything below the microsecond, so that what is stored is what is returned.
pub fn truncate_to_micros(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
}

/// `2020-04-03T07:30:00.000000Z`: below the microsecond is dropped (never rounded up,
/// which could carry into the next second), as [`truncate_to_micros`] stores it.
pub fn format_utc(t: Timestamp) -> String {
    let t = truncate_to_micros(t);
    format!("{t:.6}")
}

pub fn from_micros(us: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(us).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_survive_the_round_trip() {
        let t: Timestamp = "2020-04-03T07:30:00.123456789Z".parse().unwrap();
        let t = truncate_to_micros(t);
        assert_eq!(format_utc(t), "2020-04-03T07:30:00.123456Z");
        assert_eq!(from_micros(t.as_microsecond()), Some(t));
        assert_eq!(format_utc(t).parse::<Timestamp>().unwrap(), t);
    }
}
