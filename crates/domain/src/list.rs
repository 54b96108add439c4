//! A call's list of applications in the words of the administration for a first-come call
//! (elenco cronologico): each application's outcome, and the frozen versions officials
//! publish, tied to the act that approves them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::allocation::Status;
use crate::i18n::Text;
use crate::money::Money;
use crate::review::ReviewState;

/// Where an application stands, as the list says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Still being reviewed: money reserved for it or not.
    InReview,
    Funded,
    PartlyFunded,
    /// Admitted, waiting because the money ran out.
    AdmittedNotFunded,
    NotAdmitted,
    Withdrawn,
    Revoked,
}

impl Outcome {
    pub fn of(review: ReviewState, status: Status) -> Outcome {
        match (review, status) {
            (ReviewState::Rejected, _) => Outcome::NotAdmitted,
            (ReviewState::Withdrawn, _) => Outcome::Withdrawn,
            (ReviewState::Revoked, _) => Outcome::Revoked,
            (ReviewState::Admitted, Status::Reserved) => Outcome::Funded,
            (ReviewState::Admitted, Status::Partial) => Outcome::PartlyFunded,
            (ReviewState::Admitted, _) => Outcome::AdmittedNotFunded,
            (ReviewState::ToReview | ReviewState::InReview, _) => Outcome::InReview,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::InReview => "in_review",
            Outcome::Funded => "funded",
            Outcome::PartlyFunded => "partly_funded",
            Outcome::AdmittedNotFunded => "admitted_not_funded",
            Outcome::NotAdmitted => "not_admitted",
            Outcome::Withdrawn => "withdrawn",
            Outcome::Revoked => "revoked",
        }
    }

    pub fn label(self) -> Text {
        match self {
            Outcome::InReview => Text::new("In istruttoria", "Under review"),
            Outcome::Funded => Text::new("Ammessa e finanziata", "Admitted and funded"),
            Outcome::PartlyFunded => Text::new(
                "Ammessa e finanziata in parte",
                "Admitted and partly funded",
            ),
            Outcome::AdmittedNotFunded => Text::new(
                "Ammessa, non finanziata per esaurimento delle risorse",
                "Admitted, not funded: the funds ran out",
            ),
            Outcome::NotAdmitted => Text::new("Non ammessa", "Not admitted"),
            Outcome::Withdrawn => Text::new("Rinuncia", "Withdrawn"),
            Outcome::Revoked => Text::new("Contributo revocato", "Grant revoked"),
        }
    }

    /// The sections of a published list, in order.
    pub const SECTIONS: [Outcome; 7] = [
        Outcome::Funded,
        Outcome::PartlyFunded,
        Outcome::AdmittedNotFunded,
        Outcome::InReview,
        Outcome::NotAdmitted,
        Outcome::Withdrawn,
        Outcome::Revoked,
    ];
}

/// One application in a published list. Entities are public bodies: their names are public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    pub seq: u64,
    pub protocol: String,
    pub entity_code: String,
    pub entity_name: String,
    pub received_at: String,
    pub requested_cents: Money,
    pub granted_cents: Money,
    pub outcome: Outcome,
}

/// A frozen version of a call's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedList {
    pub call: String,
    pub version: u32,
    pub rows: Vec<ListRow>,
}

impl PublishedList {
    /// The canonical JSON (compact, fields in declaration order, rows in protocol order)
    /// and its SHA-256: what the ledger's `list_published` entry names.
    pub fn canonical(&self) -> (String, String) {
        let json = serde_json::to_string(self).expect("a list serialises");
        let sha = hex::encode(Sha256::digest(json.as_bytes()));
        (json, sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_use_the_words_of_a_first_come_call() {
        assert_eq!(
            Outcome::of(ReviewState::Admitted, Status::Waitlisted)
                .label()
                .it,
            "Ammessa, non finanziata per esaurimento delle risorse"
        );
        assert_eq!(
            Outcome::of(ReviewState::Admitted, Status::Reserved),
            Outcome::Funded
        );
        assert_eq!(
            Outcome::of(ReviewState::ToReview, Status::Reserved),
            Outcome::InReview
        );
        assert_eq!(
            Outcome::of(ReviewState::Rejected, Status::Rejected),
            Outcome::NotAdmitted
        );
        let l = PublishedList {
            call: "c".into(),
            version: 1,
            rows: vec![],
        };
        let (json, sha) = l.canonical();
        assert_eq!(json, r#"{"call":"c","version":1,"rows":[]}"#);
        assert_eq!(sha.len(), 64);
    }
}
