//! The review of applications (istruttoria) after the click day: who holds an application,
//! its admissibility checklist, requests for integration (soccorso istruttorio), and the
//! decisions (admission, reduction, rejection, withdrawal), each a ledger record. Every
//! rule is here, pure: the store applies [`decide`] under the ledger's lock to the state it
//! reads there, so that two reviewers acting at once cannot both win.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::account::Role;
use crate::allocation::Status;
use crate::application::{ApplicationContent, eligible_cost_of};
use crate::call::Call;
use crate::i18n::Text;
use crate::ledger::{Act, LineAdmitted, Record};
use crate::money::Money;

/// Longest reason, note or request text kept.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Where an application stands in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Submitted, nobody has taken it yet.
    ToReview,
    /// Taken by a reviewer.
    InReview,
    Admitted,
    Rejected,
    Withdrawn,
    Revoked,
}

impl ReviewState {
    pub const ALL: [ReviewState; 6] = [
        ReviewState::ToReview,
        ReviewState::InReview,
        ReviewState::Admitted,
        ReviewState::Rejected,
        ReviewState::Withdrawn,
        ReviewState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::ToReview => "to_review",
            ReviewState::InReview => "in_review",
            ReviewState::Admitted => "admitted",
            ReviewState::Rejected => "rejected",
            ReviewState::Withdrawn => "withdrawn",
            ReviewState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewState> {
        ReviewState::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// No decision can follow (but a revocation of an admitted one).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ReviewState::Rejected | ReviewState::Withdrawn | ReviewState::Revoked
        )
    }

    pub fn label(self) -> Text {
        match self {
            ReviewState::ToReview => Text::new("Da istruire", "To review"),
            ReviewState::InReview => Text::new("In istruttoria", "Under review"),
            ReviewState::Admitted => Text::new("Ammessa", "Admitted"),
            ReviewState::Rejected => Text::new("Non ammessa", "Not admitted"),
            ReviewState::Withdrawn => Text::new("Rinuncia", "Withdrawn"),
            ReviewState::Revoked => Text::new("Contributo revocato", "Grant revoked"),
        }
    }
}

/// A CUP (codice unico di progetto): 15 characters, a letter, two digits, a letter and
/// eleven digits (`E11B20000450002`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cup(String);

impl Cup {
    pub fn parse(s: &str) -> Result<Cup, ReviewError> {
        let s = s.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let ok = b.len() == 15
            && b[0].is_ascii_uppercase()
            && b[1..3].iter().all(u8::is_ascii_digit)
            && b[3].is_ascii_uppercase()
            && b[4..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(Cup(s))
        } else {
            Err(ReviewError::InvalidCup)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cup {
    type Error = ReviewError;
    fn try_from(s: String) -> Result<Cup, ReviewError> {
        Cup::parse(&s)
    }
}

impl From<Cup> for String {
    fn from(c: Cup) -> String {
        c.0
    }
}

impl fmt::Display for Cup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an act as an official types it: a number, and a date.
pub fn act(number: &str, date: &str, document_sha256: Option<String>) -> Result<Act, ReviewError> {
    let number = crate::text::strip_format_chars(number.trim())
        .trim()
        .to_string();
    if number.is_empty() || number.chars().count() > 100 || number.chars().any(char::is_control) {
        return Err(ReviewError::InvalidAct);
    }
    let date: jiff::civil::Date = date.trim().parse().map_err(|_| ReviewError::InvalidAct)?;
    Ok(Act {
        number,
        date: date.to_string(),
        document_sha256,
    })
}

/// The SHA-256 (hex) of a text, as the ledger names it.
pub fn text_sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A text written by a person for the record: trimmed, without format characters, not
/// empty, at most [`MAX_TEXT_CHARS`].
pub fn clean_text(text: &str) -> Result<String, ReviewError> {
    let t = crate::text::strip_format_chars(text.trim())
        .trim()
        .to_string();
    if t.is_empty() {
        return Err(ReviewError::EmptyText);
    }
    let allowed = |c: char| matches!(c, '\n' | '\r' | '\t');
    if t.chars().count() > MAX_TEXT_CHARS || t.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(ReviewError::TextTooLong);
    }
    Ok(t)
}

/// An open request for integration: its number and deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenRequest {
    pub request: u32,
    pub deadline: Timestamp,
}

/// One application's review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub state: ReviewState,
    /// The account that holds it (took it last), while in review.
    pub holder: Option<String>,
    /// The checklist's items ticked so far: passed or not.
    pub checklist: BTreeMap<String, bool>,
    /// How many requests for integration were made.
    pub requests: u32,
    /// The request waiting for an answer, if any.
    pub open_request: Option<OpenRequest>,
    pub cup: Option<Cup>,
}

impl Review {
    pub fn new() -> Review {
        Review {
            state: ReviewState::ToReview,
            holder: None,
            checklist: BTreeMap::new(),
            requests: 0,
            open_request: None,
            cup: None,
        }
    }
}

impl Default for Review {
    fn default() -> Self {
        Review::new()
    }
}

/// What a decision needs of the application besides its review.
#[derive(Debug, Clone)]
pub struct Reviewed<'a> {
    pub call: &'a Call,
    pub seq: u64,
    pub content: &'a ApplicationContent,
    /// The eligible cost and the grant asked now (after any reduction).
    pub eligible: Money,
    pub requested: Money,
    /// Its standing in the allocation.
    pub status: Status,
}

/// Who acts: an official's account and role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Official {
    pub id: String,
    pub role: Role,
}

/// A cut: the eligible amount admitted of each budget line named, or of the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cuts {
    /// `(line, admitted)`: lines counted from 0 in the content's order.
    Lines(Vec<(usize, Money)>),
    Total(Money),
}

/// What an official does to one application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Take the application to decide it; `takeover` takes it from whoever holds it.
    Take {
        takeover: bool,
    },
    Check {
        item: String,
        passed: bool,
        note: String,
    },
    RequestIntegration {
        text: String,
        deadline: Timestamp,
    },
    Admit {
        reason: String,
    },
    Reduce {
        cuts: Cuts,
        reason: String,
    },
    Reject {
        reason: String,
    },
    /// The applicant's renunciation, recorded by an official (or by the applicant).
    Withdraw {
        reason: String,
    },
    RecordCup {
        cup: Cup,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Take { .. } => "take",
            Action::Check { .. } => "check",
            Action::RequestIntegration { .. } => "request_integration",
            Action::Admit { .. } => "admit",
            Action::Reduce { .. } => "reduce",
            Action::Reject { .. } => "reject",
            Action::Withdraw { .. } => "withdraw",
            Action::RecordCup { .. } => "record_cup",
        }
    }
}

/// A decision made: the ledger record, the review after it, and the texts the record names
/// by their SHA-256 (kept beside the entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub record: Record,
    pub review: Review,
    pub text: Option<String>,
    /// For a reduction: the eligible cost and the grant now asked.
    pub amounts: Option<(Money, Money)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the application is held by another reviewer")]
    HeldByAnother { holder: String },
    #[error("take the application before deciding it")]
    NotHeld,
    #[error("only an admin takes over an application held by another reviewer")]
    TakeoverNotAllowed,
    #[error("the application is {state:?}: it cannot be {action}")]
    WrongState {
        state: ReviewState,
        action: &'static str,
    },
    #[error("checklist items not passed: {missing:?}")]
    ChecklistIncomplete {
        /// The items' labels, as the call names them.
        missing: Vec<Text>,
    },
    #[error("the call has no checklist item {0}")]
    UnknownItem(String),
    #[error("a text is needed")]
    EmptyText,
    #[error("the text is too long or has control characters")]
    TextTooLong,
    #[error("the deadline must be in the future")]
    DeadlinePast,
    #[error("a request for integration is open until {deadline}")]
    RequestOpen { deadline: Timestamp },
    #[error("no request for integration is open")]
    NoOpenRequest,
    #[error("the answer's deadline has passed")]
    AnswerTooLate { deadline: Timestamp },
    #[error("budget line {0} does not exist")]
    NoSuchLine(usize),
    #[error("budget line {0} is cut twice")]
    DuplicateLine(usize),
    #[error("a reduction lowers amounts: line {line} asks {asked}, not {admitted}")]
    CutAboveLine {
        line: usize,
        asked: Money,
        admitted: Money,
    },
    #[error("the reduction changes nothing")]
    NotAReduction,
    #[error("after the reduction the eligible cost {eligible} is below the call's minimum {min}")]
    BelowMinimum { eligible: Money, min: Money },
    #[error("nothing would remain eligible: reject the application instead")]
    NothingEligible,
    #[error("only a funded application gets a CUP")]
    NotFunded,
    #[error("the application has its CUP already: {cup}")]
    CupAlreadyRecorded { cup: String },
    #[error("a CUP has 15 characters: a letter, two digits, a letter, eleven digits")]
    InvalidCup,
    #[error("an act needs a number and a date (YYYY-MM-DD)")]
    InvalidAct,
}

impl ReviewError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            ReviewError::HeldByAnother { .. } => "held_by_another",
            ReviewError::NotHeld => "not_held",
            ReviewError::TakeoverNotAllowed => "takeover_not_allowed",
            ReviewError::WrongState { .. } => "wrong_state",
            ReviewError::ChecklistIncomplete { .. } => "checklist_incomplete",
            ReviewError::UnknownItem(_) => "unknown_item",
            ReviewError::EmptyText => "text_required",
            ReviewError::TextTooLong => "text_too_long",
            ReviewError::DeadlinePast => "deadline_past",
            ReviewError::RequestOpen { .. } => "request_open",
            ReviewError::NoOpenRequest => "no_open_request",
            ReviewError::AnswerTooLate { .. } => "answer_too_late",
            ReviewError::NoSuchLine(_) => "no_such_line",
            ReviewError::DuplicateLine(_) => "duplicate_line",
            ReviewError::CutAboveLine { .. } => "cut_above_line",
            ReviewError::NotAReduction => "not_a_reduction",
            ReviewError::BelowMinimum { .. } => "below_min_cost",
            ReviewError::NothingEligible => "nothing_eligible",
            ReviewError::NotFunded => "not_funded",
            ReviewError::CupAlreadyRecorded { .. } => "cup_already_recorded",
            ReviewError::InvalidCup => "invalid_cup",
            ReviewError::InvalidAct => "invalid_act",
        }
    }

    /// Whether the refusal is about the state of things (409) rather than the input (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ReviewError::HeldByAnother { .. }
                | ReviewError::NotHeld
                | ReviewError::WrongState { .. }
                | ReviewError::ChecklistIncomplete { .. }
                | ReviewError::RequestOpen { .. }
                | ReviewError::NoOpenRequest
                | ReviewError::AnswerTooLate { .. }
                | ReviewError::NotFunded
                | ReviewError::CupAlreadyRecorded { .. }
        )
    }

    pub fn text(&self) -> Text {
        match self {
            ReviewError::HeldByAnother { .. } => Text::new(
                "La domanda è in istruttoria presso un altro funzionario: può prenderla in carico solo un amministratore.",
                "Another official is reviewing the application: only an admin can take it over.",
            ),
            ReviewError::NotHeld => Text::new(
                "Prendere in carico la domanda prima di decidere.",
                "Take the application before deciding it.",
            ),
            ReviewError::TakeoverNotAllowed => Text::new(
                "Solo un amministratore può prendere in carico una domanda assegnata a un altro funzionario.",
                "Only an admin can take over an application held by another official.",
            ),
            ReviewError::WrongState { state, action } => {
                let l = state.label();
                Text::new(
                    format!(
                        "La domanda è nello stato «{}»: l'operazione «{}» non è possibile.",
                        l.it,
                        action_it(action)
                    ),
                    format!("The application is «{}»: «{action}» is not possible.", l.en),
                )
            }
            ReviewError::ChecklistIncomplete { missing } => Text::new(
                format!(
                    "Per ammettere la domanda tutte le voci della lista di controllo devono essere verificate con esito positivo; mancano: {}.",
                    missing
                        .iter()
                        .map(|t| format!("«{}»", t.it))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                format!(
                    "To admit the application every checklist item must be checked and passed; missing: {}.",
                    missing
                        .iter()
                        .map(|t| format!("«{}»", t.en))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            ReviewError::UnknownItem(i) => Text::new(
                format!("Il bando non prevede la voce di controllo «{i}»."),
                format!("The call has no checklist item «{i}»."),
            ),
            ReviewError::EmptyText => Text::new(
                "Scrivere la motivazione (o il testo): è comunicata all'ente.",
                "Write the reason (or the text): it is sent to the body.",
            ),
            ReviewError::TextTooLong => Text::new(
                format!(
                    "Testo troppo lungo (al massimo {MAX_TEXT_CHARS} caratteri) o con caratteri di controllo."
                ),
                format!(
                    "Text too long (at most {MAX_TEXT_CHARS} characters) or with control characters."
                ),
            ),
            ReviewError::DeadlinePast => Text::new(
                "La scadenza deve essere nel futuro.",
                "The deadline must be in the future.",
            ),
            ReviewError::RequestOpen { deadline } => Text::new(
                format!(
                    "Una richiesta di integrazione è già aperta, con scadenza {}.",
                    crate::instant::format_utc(*deadline)
                ),
                format!(
                    "A request for integration is open already, until {}.",
                    crate::instant::format_utc(*deadline)
                ),
            ),
            ReviewError::NoOpenRequest => Text::new(
                "Non c'è alcuna richiesta di integrazione aperta.",
                "No request for integration is open.",
            ),
            ReviewError::AnswerTooLate { deadline } => Text::new(
                format!(
                    "La scadenza per rispondere è passata ({}).",
                    crate::instant::format_utc(*deadline)
                ),
                format!(
                    "The deadline to answer has passed ({}).",
                    crate::instant::format_utc(*deadline)
                ),
            ),
            ReviewError::DuplicateLine(l) => Text::new(
                format!("La voce {} compare due volte nella riduzione.", l + 1),
                format!("Line {} appears twice in the reduction.", l + 1),
            ),
            ReviewError::NoSuchLine(l) => Text::new(
                format!("La voce di spesa {} non esiste.", l + 1),
                format!("Budget line {} does not exist.", l + 1),
            ),
            ReviewError::CutAboveLine {
                line,
                asked,
                admitted,
            } => Text::new(
                format!(
                    "La voce di spesa {}: l'importo ammesso ({admitted}) non può superare quello richiesto ({asked}).",
                    line + 1
                ),
                format!(
                    "Budget line {}: the amount admitted ({}) cannot exceed the amount asked ({}).",
                    line + 1,
                    admitted.in_locale(crate::i18n::Locale::En),
                    asked.in_locale(crate::i18n::Locale::En)
                ),
            ),
            ReviewError::NotAReduction => Text::new(
                "La riduzione non cambia nulla: indicare importi ammessi inferiori a quelli richiesti.",
                "The reduction changes nothing: give admitted amounts below those asked.",
            ),
            ReviewError::BelowMinimum { eligible, min } => Text::new(
                format!(
                    "Dopo la riduzione la spesa ammissibile ({eligible}) è inferiore al minimo del bando ({min}): in tal caso la domanda non è ammissibile."
                ),
                format!(
                    "After the reduction the eligible cost ({}) is below the call's minimum ({}): the application is then not admissible.",
                    eligible.in_locale(crate::i18n::Locale::En),
                    min.in_locale(crate::i18n::Locale::En)
                ),
            ),
            ReviewError::NothingEligible => Text::new(
                "Non resterebbe alcuna spesa ammissibile: in tal caso la domanda non è ammessa.",
                "Nothing would remain eligible: the application is then rejected instead.",
            ),
            ReviewError::NotFunded => Text::new(
                "Il CUP si registra solo per una domanda ammessa e finanziata.",
                "A CUP is recorded only for an admitted and funded application.",
            ),
            ReviewError::CupAlreadyRecorded { cup } => Text::new(
                format!("Il CUP della domanda è già registrato: {cup}. Non si sostituisce."),
                format!("The application's CUP is recorded already: {cup}. It is not replaced."),
            ),
            ReviewError::InvalidCup => Text::new(
                "CUP non valido: 15 caratteri, una lettera, due cifre, una lettera e undici cifre (es. E11B20000450002).",
                "Invalid CUP: 15 characters, a letter, two digits, a letter and eleven digits (e.g. E11B20000450002).",
            ),
            ReviewError::InvalidAct => Text::new(
                "Indicare il numero e la data (AAAA-MM-GG) dell'atto.",
                "Give the act's number and date (YYYY-MM-DD).",
            ),
        }
    }
}

fn action_it(action: &str) -> &'static str {
    match action {
        "take" => "presa in carico",
        "check" => "verifica della lista di controllo",
        "request_integration" => "richiesta di integrazione",
        "answer" => "risposta all'integrazione",
        "admit" => "ammissione",
        "reduce" => "riduzione",
        "reject" => "non ammissione",
        "withdraw" => "rinuncia",
        "record_cup" => "registrazione del CUP",
        "revoke" => "revoca",
        _ => "operazione",
    }
}

/// The eligible cost and grant after `cuts`, by the call's own rules (categories, share
/// caps, rate, maximum grant).
pub fn reduction(
    app: &Reviewed<'_>,
    cuts: &Cuts,
) -> Result<(Money, Money, Vec<LineAdmitted>), ReviewError> {
    let call = app.call;
    let (eligible, lines) = match cuts {
        Cuts::Total(total) => {
            if !total.is_positive() {
                return Err(ReviewError::NothingEligible);
            }
            if *total >= app.eligible {
                return Err(ReviewError::NotAReduction);
            }
            (*total, Vec::new())
        }
        Cuts::Lines(cuts) => {
            let mut content = app.content.clone();
            let mut lines = Vec::new();
            for (i, &(line, admitted)) in cuts.iter().enumerate() {
                // One amount per line: two would leave the ledger saying one and doing the other.
                if cuts[..i].iter().any(|(l, _)| *l == line) {
                    return Err(ReviewError::DuplicateLine(line));
                }
                let l = content
                    .lines
                    .get_mut(line)
                    .ok_or(ReviewError::NoSuchLine(line))?;
                if admitted > l.amount_cents || admitted.cents() < 0 {
                    return Err(ReviewError::CutAboveLine {
                        line,
                        asked: l.amount_cents,
                        admitted,
                    });
                }
                l.amount_cents = admitted;
                lines.push(LineAdmitted {
                    line: line as u32,
                    admitted_cents: admitted,
                });
            }
            lines.sort_by_key(|l| l.line);
            lines.dedup_by_key(|l| l.line);
            let (eligible, _) = eligible_cost_of(&content, call);
            if !eligible.is_positive() {
                return Err(ReviewError::NothingEligible);
            }
            if eligible >= app.eligible {
                return Err(ReviewError::NotAReduction);
            }
            (eligible, lines)
        }
    };
    if let Some(min) = call.min_cost
        && eligible < min
    {
        return Err(ReviewError::BelowMinimum { eligible, min });
    }
    let grant = call.grant_for(eligible).min(app.requested);
    Ok((eligible, grant, lines))
}

/// Decides an official's action on an application in review, or says why not. `now` is
/// the server's time (deadlines).
pub fn decide(
    review: &Review,
    app: &Reviewed<'_>,
    who: &Official,
    action: &Action,
    now: Timestamp,
) -> Result<Decision, ReviewError> {
    let call = app.call.code.to_string();
    let seq = app.seq;
    let by = who.role;
    let wrong = |action: &'static str| ReviewError::WrongState {
        state: review.state,
        action,
    };
    // Deciding needs the application in hand: taken by this official.
    let held = || -> Result<(), ReviewError> {
        match (&review.state, &review.holder) {
            (ReviewState::InReview, Some(h)) if *h == who.id => Ok(()),
            (ReviewState::InReview, Some(h)) => {
                Err(ReviewError::HeldByAnother { holder: h.clone() })
            }
            (ReviewState::ToReview, _) => Err(ReviewError::NotHeld),
            _ => Err(wrong(action.name())),
        }
    };
    let mut next = review.clone();
    let decision = |record: Record, review: Review, text: Option<String>| Decision {
        record,
        review,
        text,
        amounts: None,
    };
    Ok(match action {
        Action::Take { takeover } => {
            match review.state {
                ReviewState::ToReview => {}
                ReviewState::InReview => match &review.holder {
                    Some(h) if *h == who.id => {}
                    Some(h) if !takeover => {
                        return Err(ReviewError::HeldByAnother { holder: h.clone() });
                    }
                    _ if who.role != Role::Admin => return Err(ReviewError::TakeoverNotAllowed),
                    _ => {}
                },
                _ => return Err(wrong("take")),
            }
            let takeover = review.holder.as_deref().is_some_and(|h| h != who.id);
            next.state = ReviewState::InReview;
            next.holder = Some(who.id.clone());
            decision(
                Record::ApplicationTaken {
                    call,
                    seq,
                    by,
                    takeover,
                },
                next,
                None,
            )
        }
        Action::Check { item, passed, note } => {
            held()?;
            if !app.call.checklist.iter().any(|i| i.code == *item) {
                return Err(ReviewError::UnknownItem(item.clone()));
            }
            let note = match clean_text(note) {
                Ok(n) => n,
                // A passed item needs no note; a failed one says why.
                Err(ReviewError::EmptyText) if *passed => String::new(),
                Err(e) => return Err(e),
            };
            next.checklist.insert(item.clone(), *passed);
            decision(
                Record::ChecklistChecked {
                    call,
                    seq,
                    item: item.clone(),
                    passed: *passed,
                    note_sha256: text_sha256(&note),
                    by,
                },
                next,
                Some(note),
            )
        }
        Action::RequestIntegration { text, deadline } => {
            held()?;
            if let Some(open) = review.open_request
                && open.deadline > now
            {
                return Err(ReviewError::RequestOpen {
                    deadline: open.deadline,
                });
            }
            if *deadline <= now {
                return Err(ReviewError::DeadlinePast);
            }
            let text = clean_text(text)?;
            let request = review.requests + 1;
            next.requests = request;
            next.open_request = Some(OpenRequest {
                request,
                deadline: *deadline,
            });
            decision(
                Record::IntegrationRequested {
                    call,
                    seq,
                    request,
                    deadline: crate::instant::format_utc(*deadline),
                    text_sha256: text_sha256(&text),
                    by,
                },
                next,
                Some(text),
            )
        }
        Action::Admit { reason } => {
            held()?;
            let missing: Vec<Text> = app
                .call
                .checklist
                .iter()
                .filter(|i| review.checklist.get(&i.code) != Some(&true))
                .map(|i| i.label.clone())
                .collect();
            if !missing.is_empty() {
                return Err(ReviewError::ChecklistIncomplete { missing });
            }
            let reason = clean_text(reason)?;
            next.state = ReviewState::Admitted;
            next.holder = None;
            next.open_request = None;
            decision(
                Record::ApplicationAdmitted {
                    call,
                    seq,
                    reason_sha256: text_sha256(&reason),
                    by,
                },
                next,
                Some(reason),
            )
        }
        Action::Reduce { cuts, reason } => {
            // In review by its holder; once admitted, by an admin.
            match review.state {
                ReviewState::ToReview | ReviewState::InReview => held()?,
                ReviewState::Admitted if who.role == Role::Admin => {}
                ReviewState::Admitted => return Err(ReviewError::TakeoverNotAllowed),
                _ => return Err(wrong("reduce")),
            }
            let reason = clean_text(reason)?;
            let (eligible, grant, lines) = reduction(app, cuts)?;
            Decision {
                record: Record::ApplicationReduced {
                    call,
                    seq,
                    eligible_cost_cents: eligible,
                    requested_before_cents: app.requested,
                    requested_cents: grant,
                    lines,
                    reason_sha256: text_sha256(&reason),
                    by,
                },
                review: next,
                text: Some(reason),
                amounts: Some((eligible, grant)),
            }
        }
        Action::Reject { reason } => {
            held()?;
            let reason = clean_text(reason)?;
            next.state = ReviewState::Rejected;
            next.holder = None;
            next.open_request = None;
            decision(
                Record::ApplicationRejected {
                    call,
                    seq,
                    reason_sha256: text_sha256(&reason),
                    by,
                },
                next,
                Some(reason),
            )
        }
        Action::Withdraw { reason } => {
            if review.state.is_final() {
                return Err(wrong("withdraw"));
            }
            let reason = clean_text(reason)?;
            next.state = ReviewState::Withdrawn;
            next.holder = None;
            next.open_request = None;
            decision(
                Record::ApplicationWithdrawn {
                    call,
                    seq,
                    reason_sha256: text_sha256(&reason),
                    by,
                },
                next,
                Some(reason),
            )
        }
        Action::RecordCup { cup } => {
            if review.state != ReviewState::Admitted {
                return Err(wrong("record_cup"));
            }
            if !matches!(app.status, Status::Reserved | Status::Partial) {
                return Err(ReviewError::NotFunded);
            }
            // A CUP is the project's for its whole life: one, never replaced.
            if let Some(recorded) = &review.cup {
                return Err(ReviewError::CupAlreadyRecorded {
                    cup: recorded.to_string(),
                });
            }
            next.cup = Some(cup.clone());
            decision(
                Record::CupRecorded {
                    call,
                    seq,
                    cup: cup.to_string(),
                    by,
                },
                next,
                None,
            )
        }
    })
}

/// The applicant's answer to the open request for integration: its text and documents,
/// sealed by `content_sha256`, in time.
pub fn answer(
    review: &Review,
    call: &Call,
    seq: u64,
    content_sha256: &str,
    now: Timestamp,
) -> Result<Decision, ReviewError> {
    let open = review.open_request.ok_or(ReviewError::NoOpenRequest)?;
    if now >= open.deadline {
        return Err(ReviewError::AnswerTooLate {
            deadline: open.deadline,
        });
    }
    let mut next = review.clone();
    next.open_request = None;
    Ok(Decision {
        record: Record::IntegrationAnswered {
            call: call.code.to_string(),
            seq,
            request: open.request,
            content_sha256: content_sha256.to_string(),
        },
        review: next,
        text: None,
        amounts: None,
    })
}

/// An application's review as its ledger records tell it: what `bandi verify` compares with
/// what is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    pub state: Option<ReviewState>,
    /// Eligible cost and grant after the last reduction.
    pub reduced: Option<(Money, Money)>,
    pub cup: Option<String>,
    /// Requests for integration made, and answered.
    pub requests: u32,
    pub answered: u32,
    /// The expense report's last version and where it stands.
    pub report: Option<(u32, crate::report::verification::ReportState)>,
    pub final_grant: Option<Money>,
    /// Paid so far.
    pub paid: Money,
}

impl Recorded {
    /// Folds one record about this application.
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::ApplicationSubmitted { .. } => self.state = Some(ReviewState::ToReview),
            Record::ApplicationTaken { .. } => self.state = Some(ReviewState::InReview),
            Record::ApplicationAdmitted { .. } => self.state = Some(ReviewState::Admitted),
            Record::ApplicationRejected { .. } => self.state = Some(ReviewState::Rejected),
            Record::ApplicationWithdrawn { .. } => self.state = Some(ReviewState::Withdrawn),
            Record::AwardRevoked { .. } => self.state = Some(ReviewState::Revoked),
            Record::ApplicationReduced {
                eligible_cost_cents,
                requested_cents,
                ..
            } => self.reduced = Some((*eligible_cost_cents, *requested_cents)),
            Record::CupRecorded { cup, .. } => self.cup = Some(cup.clone()),
            Record::IntegrationRequested { .. } => self.requests += 1,
            Record::IntegrationAnswered { .. } => self.answered += 1,
            Record::ReportSubmitted { version, .. } => {
                self.report = Some((*version, ReportState::Submitted));
            }
            Record::ReportReturned { version, .. } => {
                self.report = Some((*version, ReportState::Returned));
            }
            Record::VerificationClosed {
                version,
                final_grant_cents,
                ..
            } => {
                self.report = Some((*version, ReportState::Verified));
                self.final_grant = Some(*final_grant_cents);
            }
            Record::PaymentRecorded { amount_cents, .. } => {
                self.paid = self
                    .paid
                    .checked_add(*amount_cents)
                    .unwrap_or(Money::MAX_AMOUNT);
            }
            Record::ChecklistChecked { .. }
            | Record::CallPublished { .. }
            | Record::BudgetChanged { .. }
            | Record::ListPublished { .. }
            | Record::ExpenseChecked { .. }
            | Record::ReportDeadlineExtended { .. } => {}
        }
    }
}

use crate::report::verification::ReportState;

#[cfg(test)]
mod tests;
