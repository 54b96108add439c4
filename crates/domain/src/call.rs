//! The rules of a call (bando) and the TOML file they are written in.

use std::fmt;

use jiff::{Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};

use crate::entity::{Entity, EntityKind};
use crate::i18n::Text;
use crate::money::{Money, Rate, grant_for};

mod dates_text;
mod file;
mod to_file;

pub use dates_text::PLACEHOLDERS;

pub use file::CallFileError;

/// Lower-case code of a call, used in URLs: `er-2020-smart-working`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallCode(String);

impl CallCode {
    pub fn parse(s: &str) -> Result<CallCode, String> {
        let ok = (3..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-');
        if ok {
            Ok(CallCode(s.to_string()))
        } else {
            Err(format!(
                "invalid call code {s:?}: 3 to 64 characters among a-z, 0-9 and '-', not starting or ending with '-'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CallCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        CallCode::parse(&s)
    }
}

impl From<CallCode> for String {
    fn from(c: CallCode) -> String {
        c.0
    }
}

impl fmt::Display for CallCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What happens when the next application in order does not fit in what is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitMode {
    /// It waits, in order; nothing later jumps it. Freed money goes to the first waiting.
    Waitlist,
    /// It gets what is left, and waits for the rest.
    Partial,
    /// It waits, and later applications that fit are funded.
    Skip,
}

impl FitMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FitMode::Waitlist => "waitlist",
            FitMode::Partial => "partial",
            FitMode::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostCategory {
    pub code: String,
    pub label: Text,
    pub eligible: bool,
    /// Largest share of the application's eligible cost this category may take.
    pub max_share: Option<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub code: String,
    pub label: Text,
    pub required: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// A count (people, processes...): an integer, zero or more.
    Integer,
    Text,
}

impl IndicatorKind {
    /// As the call file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Integer => "integer",
            IndicatorKind::Text => "text",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub code: String,
    pub label: Text,
    pub kind: IndicatorKind,
    pub required: bool,
}

/// An item of the call's admissibility checklist, which reviewers tick for each application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub code: String,
    pub label: Text,
}

/// Where a call is in its life at a given instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Upcoming,
    Open,
    Closed,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Upcoming => "upcoming",
            CallState::Open => "open",
            CallState::Closed => "closed",
        }
    }
}

/// A submission outside the call's window: refused with the server's time, nothing stored
/// (docs/design.md, section 4, rule 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideWindow {
    NotOpenYet {
        opens_at: Timestamp,
        server_time: Timestamp,
    },
    Closed {
        closes_at: Timestamp,
        server_time: Timestamp,
    },
}

/// Why an entity may not apply to a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotEligible {
    Kind(EntityKind),
    Region(Option<String>),
}

impl NotEligible {
    pub fn text(&self) -> Text {
        match self {
            NotEligible::Kind(k) => Text::new(
                format!(
                    "Il bando non è aperto agli enti di tipo «{}».",
                    k.label_it()
                ),
                format!("The call is not open to bodies of kind «{}».", k.label_en()),
            ),
            NotEligible::Region(_) => Text::new(
                "Il bando è riservato agli enti di altre regioni.",
                "The call is reserved to bodies of other regions.",
            ),
        }
    }
}

/// The validated rules of a call. Instants are UTC; `time_zone` is how people see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub code: CallCode,
    /// Protocol numbers read `{prefix}-{year}/{seq:07}`, e.g. `ER-SW-2020/0000042`.
    pub protocol_prefix: String,
    pub title: Text,
    pub text: Text,
    pub time_zone: String,
    pub opens_at: Timestamp,
    pub closes_at: Timestamp,
    pub budget: Money,
    pub rate: Rate,
    pub min_cost: Option<Money>,
    pub max_cost: Option<Money>,
    pub max_grant: Option<Money>,
    /// 0 means unlimited.
    pub applications_per_entity: u32,
    pub eligible_kinds: Vec<EntityKind>,
    /// ISTAT region codes; empty means every region.
    pub eligible_regions: Vec<String>,
    pub categories: Vec<CostCategory>,
    pub when_not_fits: FitMode,
    pub attachments: Vec<Attachment>,
    pub indicators: Vec<Indicator>,
    pub completion_deadline: Option<Date>,
    pub reporting_deadline: Option<Date>,
    /// What reviewers check of every application before admitting it; may be empty.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// The share of the award that may be paid in advance, before the report's
    /// verification; without it the grant is paid once, as a balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<Rate>,
}

impl Call {
    /// Parses and checks a call file; every error names its key and line.
    pub fn from_toml(text: &str) -> Result<Call, CallFileError> {
        file::parse(text)
    }

    pub fn state_at(&self, now: Timestamp) -> CallState {
        if now < self.opens_at {
            CallState::Upcoming
        } else if now < self.closes_at {
            CallState::Open
        } else {
            CallState::Closed
        }
    }

    /// Whether a new submission received at `at` is in the call's window.
    pub fn check_window(&self, at: Timestamp) -> Result<(), OutsideWindow> {
        match self.state_at(at) {
            CallState::Open => Ok(()),
            CallState::Upcoming => Err(OutsideWindow::NotOpenYet {
                opens_at: self.opens_at,
                server_time: at,
            }),
            CallState::Closed => Err(OutsideWindow::Closed {
                closes_at: self.closes_at,
                server_time: at,
            }),
        }
    }

    pub fn category(&self, code: &str) -> Option<&CostCategory> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn check_eligible(&self, entity: &Entity) -> Result<(), NotEligible> {
        if !self.eligible_kinds.contains(&entity.kind) {
            return Err(NotEligible::Kind(entity.kind));
        }
        if !self.eligible_regions.is_empty()
            && !entity
                .region_code
                .as_ref()
                .is_some_and(|r| self.eligible_regions.contains(r))
        {
            return Err(NotEligible::Region(entity.region_code.clone()));
        }
        Ok(())
    }

    /// The grant requested for an eligible cost under this call's rate and cap.
    pub fn grant_for(&self, eligible_cost: Money) -> Money {
        grant_for(eligible_cost, self.rate, self.max_grant)
    }

    /// Moves the call to open at `opens_at`; without `closes_at` the call keeps its length.
    /// The completion and reporting deadlines move by as many days as the opening, so that
    /// a call replayed today keeps its project's calendar. Used by rehearsals and the demo.
    pub fn reschedule(
        &mut self,
        opens_at: Timestamp,
        closes_at: Option<Timestamp>,
    ) -> Result<(), String> {
        let closes_at = match closes_at {
            Some(c) => c,
            None => opens_at
                .checked_add(self.closes_at.duration_since(self.opens_at))
                .map_err(|e| e.to_string())?,
        };
        if closes_at <= opens_at {
            return Err("the closing instant must come after the opening instant".into());
        }
        let day = |t: Timestamp| t.to_zoned_datetime(self.tz()).date();
        let days = day(opens_at)
            .since(day(self.opens_at))
            .map_err(|e| e.to_string())?;
        for d in [&mut self.completion_deadline, &mut self.reporting_deadline]
            .into_iter()
            .flatten()
        {
            *d = d.checked_add(days).map_err(|e| e.to_string())?;
        }
        self.opens_at = opens_at;
        self.closes_at = closes_at;
        Ok(())
    }

    pub fn tz(&self) -> TimeZone {
        // Checked when the file was parsed; UTC only if the tz database lost the zone since.
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    /// `03/04/2020 09:30` in the call's time zone.
    pub fn local_time(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.tz())
            .strftime("%d/%m/%Y %H:%M")
            .to_string()
    }

    /// `ER-SW-2020/0000042`: the year is the year of receipt in the call's time zone.
    pub fn protocol(&self, seq: u64, received_at: Timestamp) -> String {
        let year = received_at.to_zoned_datetime(self.tz()).year();
        crate::protocol::format_protocol(&self.protocol_prefix, year, seq)
    }
}

#[cfg(test)]
mod tests;
