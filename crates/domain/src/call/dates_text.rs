//! The call's dates inside its text. A call file writes `{opens_at}`, `{closes_at}`,
//! `{completion_deadline}` and `{reporting_deadline}` where its text names them, so that a
//! call moved to other dates (a rehearsal, the demo) never says the old ones.

use jiff::Timestamp;
use jiff::civil::Date;

use super::Call;
use crate::i18n::Locale;

/// The placeholders a call's text may hold.
pub const PLACEHOLDERS: [&str; 4] = [
    "opens_at",
    "closes_at",
    "completion_deadline",
    "reporting_deadline",
];

const WEEKDAYS_IT: [&str; 7] = [
    "lunedì",
    "martedì",
    "mercoledì",
    "giovedì",
    "venerdì",
    "sabato",
    "domenica",
];
const MONTHS_IT: [&str; 12] = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
];

/// The first `{name}` of `text` that is not a placeholder, if any.
pub fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Some(after.chars().take(30).collect());
        };
        let name = &after[..end];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[end + 1..];
    }
    None
}

/// `3 aprile 2020`, `3 April 2020`.
fn day(d: Date, locale: Locale) -> String {
    match locale {
        Locale::It => format!(
            "{} {} {}",
            d.day(),
            MONTHS_IT[d.month() as usize - 1],
            d.year()
        ),
        Locale::En => d.strftime("%-d %B %Y").to_string(),
    }
}

impl Call {
    /// `9:30 di venerdì 3 aprile 2020`, `09:30 on Friday 3 April 2020`: an instant in the
    /// call's time zone, as its text says it.
    fn instant_in_words(&self, t: Timestamp, locale: Locale) -> String {
        let z = t.to_zoned_datetime(self.tz());
        match locale {
            Locale::It => format!(
                "{}:{:02} di {} {}",
                z.hour(),
                z.minute(),
                WEEKDAYS_IT[z.weekday().to_monday_zero_offset() as usize],
                day(z.date(), locale)
            ),
            Locale::En => format!("{} on {}", z.strftime("%H:%M"), z.strftime("%A %-d %B %Y")),
        }
    }

    /// The call's text in `locale`, its placeholders replaced by its dates.
    pub fn text_in(&self, locale: Locale) -> String {
        let mut text = self.text.get(locale).to_string();
        let dates = [
            (
                "opens_at",
                Some(self.instant_in_words(self.opens_at, locale)),
            ),
            (
                "closes_at",
                Some(self.instant_in_words(self.closes_at, locale)),
            ),
            (
                "completion_deadline",
                self.completion_deadline.map(|d| day(d, locale)),
            ),
            (
                "reporting_deadline",
                self.reporting_deadline.map(|d| day(d, locale)),
            ),
        ];
        for (name, value) in dates {
            let none = match locale {
                Locale::It => "(data non indicata)",
                Locale::En => "(date not given)",
            };
            text = text.replace(&format!("{{{name}}}"), value.as_deref().unwrap_or(none));
        }
        text
    }
}
