//! The one error of the use cases: a stable machine code, a kind (what the HTTP layer
//! turns into a status), a text in both languages and the facts a client may need (the
//! server's time, the protocol of the first application). The web renders it once as JSON
//! and once as a page; the command line prints its text.

use bandi_domain::allocation::AllocationError;
use bandi_domain::call::{CallFileError, NotEligible, OutsideWindow};
use bandi_domain::document::DocumentProblem;
use bandi_domain::i18n::{FieldError, Locale, Text};
use bandi_domain::instant::format_utc;
use bandi_domain::report::verification::ReportError;
use bandi_domain::review::ReviewError;
use bandi_store::StoreError;
use bandi_store::intake::IntakeError;
use serde_json::Value;

use crate::accounts::AccountProblems;

/// What kind of refusal an error is: the HTTP status follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 400: the request cannot be read.
    BadRequest,
    /// 401: who is asking is not known.
    Unauthorized,
    /// 403: not allowed, or not now.
    Forbidden,
    /// 404.
    NotFound,
    /// 409: the state of things does not allow it.
    Conflict,
    /// 422: read, but wrong.
    Invalid,
    /// 429: too many from this client.
    TooMany,
    /// 503: the platform is busy; retry.
    Unavailable,
    /// 500.
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("no such call")]
    CallNotFound,
    /// An application, a document, an entity or an account that does not exist, or that
    /// the person may not see (the same answer, so that nothing leaks).
    #[error("not found")]
    NotFound,
    /// An entity named by an official or the command line (who may know it does not exist).
    #[error("entity {0} not found")]
    EntityNotFound(String),
    #[error("not allowed for this role")]
    Forbidden,
    #[error("e-mail or password not correct")]
    WrongCredentials,
    #[error("too many attempts: retry in {retry_after} s")]
    Throttled { retry_after: u32 },
    #[error("not eligible: {0:?}")]
    NotEligible(NotEligible),
    #[error("outside the call's window")]
    OutsideWindow(OutsideWindow),
    #[error("invalid application ({} problems)", .0.len())]
    InvalidApplication(Vec<FieldError>),
    #[error("invalid call file: {0}")]
    InvalidCallFile(Box<CallFileError>),
    /// A services catalogue file, with every problem found in it (in Italian).
    #[error("the practice holds the most files already")]
    PracticeFilesFull,
    #[error("invalid services catalogue: {}", .0.join(" "))]
    InvalidCatalogue(Vec<String>),
    #[error("invalid account: {0}")]
    InvalidAccount(Box<AccountProblems>),
    #[error("attachment {attachment} refused: {problem:?}")]
    InvalidDocument {
        attachment: String,
        problem: DocumentProblem,
    },
    #[error("attachment {0} is not one the call asks for")]
    UnknownAttachment(String),
    #[error("this entity already applied: {protocol}")]
    AlreadyApplied { protocol: String },
    #[error("this Idempotency-Key was used for different content: {protocol}")]
    IdempotencyConflict { protocol: String },
    #[error("the application was submitted: its attachments can no longer change")]
    AlreadySubmitted,
    #[error("attachment {attachment} left the draft while it was submitted")]
    DocumentMissing { attachment: String },
    #[error("call {call} has opened: its rules can no longer change")]
    CallOpened { call: String },
    #[error("call {call} has {applications} applications: its rules can no longer change")]
    CallHasApplications { call: String, applications: i64 },
    #[error("the protocol prefix {prefix} is used by call {call}")]
    ProtocolPrefixTaken { prefix: String, call: String },
    #[error("an account with e-mail {email} exists")]
    EmailTaken { email: String },
    /// What the review's state does not allow, or a review input that is wrong.
    #[error("review: {0}")]
    Review(ReviewError),
    /// What the allocation does not allow (a budget below what is reserved).
    #[error("allocation: {0}")]
    Allocation(AllocationError),
    #[error("not an e-mail address: {0}")]
    InvalidContact(String),
    /// A report's action the report's state (or its input) does not allow.
    #[error("report: {0}")]
    Report(ReportError),
    /// A report with problems, field by field.
    #[error("the report has {} problems", .0.len())]
    InvalidReport(Vec<FieldError>),
    /// A practice with problems, field by field.
    #[error("the practice has {} problems", .0.len())]
    InvalidPractice(Vec<FieldError>),
    /// A practice that is not (or no longer) waiting for an official's decision.
    #[error("practice {0} is not waiting for a decision")]
    PracticeDecided(i64),
    /// An authority cannot say it reuses its own practice.
    #[error("an authority does not reuse its own practice")]
    OwnPractice,
    #[error("invalid date {0:?}")]
    InvalidDate(String),
    /// A budget changed by an act before the call opened: its file is changed instead.
    #[error("call {call} has not opened: change its file instead")]
    CallNotOpenForBudget { call: String },
    /// A signing key file that cannot be used (or written).
    #[error("key file: {0}")]
    InvalidKeyFile(String),
    /// A receipt whose signature does not hold, or that is not a receipt.
    #[error("receipt: {0}")]
    InvalidReceipt(String),
    /// An amount in euro that cannot be read.
    #[error("invalid amount {0:?}")]
    InvalidAmount(String),
    /// The outbox's SMTP setting (the relay's URL, the sender's address) cannot be used.
    #[error("invalid SMTP setting: {0}")]
    InvalidSmtp(String),
    #[error("too many requests of this client in progress")]
    TooManyInFlight,
    #[error("the intake is overloaded")]
    Overloaded,
    #[error("the server is busy")]
    Busy,
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// An admin may not disable their own account: the Region would lose its last way in.
    #[error("cannot disable one's own account")]
    OwnAccount,
    /// Signed in with SPID or CIE, but no account is bound to this fiscal code (or the one
    /// bound is disabled).
    #[error("no account bound to fiscal code {fiscal_code}")]
    NotBound { fiscal_code: String },
    /// The identity provider's answer was refused (its state, code, token or signature):
    /// what went wrong, for the person.
    #[error("identity refused: {}", .0.en)]
    IdentityRefused(Box<Text>),
    /// The identity provider (named: "SPID", "CIE") cannot be reached or answers nonsense.
    #[error("identity provider {0} unavailable")]
    IdentityUnavailable(&'static str),
}

impl AppError {
    pub fn code(&self) -> &'static str {
        match self {
            AppError::CallNotFound => "call_not_found",
            AppError::NotFound => "not_found",
            AppError::EntityNotFound(_) => "entity_not_found",
            AppError::Forbidden => "forbidden",
            AppError::WrongCredentials => "wrong_credentials",
            AppError::OwnAccount => "own_account",
            AppError::NotBound { .. } => "fiscal_code_not_bound",
            AppError::IdentityRefused(_) => "identity_refused",
            AppError::IdentityUnavailable(_) => "identity_provider_unavailable",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::NotEligible(_) => "not_eligible",
            AppError::OutsideWindow(OutsideWindow::NotOpenYet { .. }) => "call_not_open",
            AppError::OutsideWindow(OutsideWindow::Closed { .. }) => "call_closed",
            AppError::InvalidApplication(_) => "invalid_application",
            AppError::InvalidCallFile(_) => "invalid_call_file",
            AppError::InvalidCatalogue(_) => "invalid_catalogue",
            AppError::PracticeFilesFull => "too_many_files",
            AppError::InvalidAccount(_) => "invalid_account",
            AppError::InvalidDocument { problem, .. } => problem.code(),
            AppError::UnknownAttachment(_) => "unknown_attachment",
            AppError::AlreadyApplied { .. } => "already_applied",
            AppError::IdempotencyConflict { .. } => "idempotency_conflict",
            AppError::AlreadySubmitted => "already_submitted",
            AppError::DocumentMissing { .. } => "document_missing",
            AppError::CallOpened { .. } => "call_opened",
            AppError::CallHasApplications { .. } => "call_has_applications",
            AppError::ProtocolPrefixTaken { .. } => "protocol_prefix_taken",
            AppError::EmailTaken { .. } => "email_taken",
            AppError::Review(e) => e.code(),
            AppError::Allocation(AllocationError::BudgetBelowReserved { .. }) => {
                "budget_below_reserved"
            }
            AppError::Allocation(_) => "refused_by_allocation",
            AppError::InvalidContact(_) => "invalid_contact",
            AppError::InvalidAmount(_) => "invalid_amount",
            AppError::InvalidKeyFile(_) => "invalid_key_file",
            AppError::Report(e) => e.code(),
            AppError::InvalidReport(_) => "invalid_report",
            AppError::InvalidPractice(_) => "invalid_practice",
            AppError::PracticeDecided(_) => "practice_decided",
            AppError::OwnPractice => "own_practice",
            AppError::InvalidDate(_) => "invalid_date",
            AppError::CallNotOpenForBudget { .. } => "call_not_open",
            AppError::InvalidReceipt(_) => "invalid_receipt",
            AppError::InvalidSmtp(_) => "invalid_smtp",
            AppError::TooManyInFlight => "too_many_requests",
            AppError::Overloaded => "overloaded",
            AppError::Busy => "busy",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            AppError::CallNotFound | AppError::NotFound | AppError::EntityNotFound(_) => {
                Kind::NotFound
            }
            AppError::Forbidden | AppError::NotEligible(_) | AppError::OutsideWindow(_) => {
                Kind::Forbidden
            }
            AppError::WrongCredentials | AppError::IdentityRefused(_) => Kind::Unauthorized,
            AppError::NotBound { .. } => Kind::Forbidden,
            AppError::OwnAccount => Kind::Conflict,
            AppError::Throttled { .. } | AppError::TooManyInFlight => Kind::TooMany,
            AppError::InvalidApplication(_)
            | AppError::InvalidCallFile(_)
            | AppError::InvalidCatalogue(_)
            | AppError::InvalidAccount(_)
            | AppError::InvalidDocument { .. } => Kind::Invalid,
            AppError::UnknownAttachment(_) => Kind::BadRequest,
            AppError::Review(e) if e.is_conflict() => Kind::Conflict,
            AppError::Review(ReviewError::TakeoverNotAllowed) => Kind::Forbidden,
            AppError::Report(e) if e.is_conflict() => Kind::Conflict,
            AppError::Report(_)
            | AppError::InvalidReport(_)
            | AppError::InvalidPractice(_)
            | AppError::InvalidDate(_) => Kind::Invalid,
            AppError::PracticeDecided(_) | AppError::OwnPractice | AppError::PracticeFilesFull => {
                Kind::Conflict
            }
            AppError::Review(_)
            | AppError::InvalidContact(_)
            | AppError::InvalidAmount(_)
            | AppError::InvalidKeyFile(_)
            | AppError::InvalidReceipt(_)
            | AppError::InvalidSmtp(_) => Kind::Invalid,
            AppError::Allocation(_) => Kind::Conflict,
            AppError::AlreadyApplied { .. }
            | AppError::IdempotencyConflict { .. }
            | AppError::AlreadySubmitted
            | AppError::DocumentMissing { .. }
            | AppError::CallOpened { .. }
            | AppError::CallHasApplications { .. }
            | AppError::ProtocolPrefixTaken { .. }
            | AppError::CallNotOpenForBudget { .. }
            | AppError::EmailTaken { .. } => Kind::Conflict,
            AppError::Overloaded
            | AppError::Busy
            | AppError::Unavailable(_)
            | AppError::IdentityUnavailable(_) => Kind::Unavailable,
            AppError::Internal(_) => Kind::Internal,
        }
    }

    /// A refusal the person can fix or must accept (wrong input, a state that does not
    /// allow it): a page shows it next to the form instead of an error page.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self.kind(),
            Kind::Invalid | Kind::Conflict | Kind::BadRequest | Kind::Forbidden
        )
    }

    /// Seconds after which a retry makes sense, for the refusals that call for one.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::Throttled { retry_after } => Some(*retry_after),
            AppError::TooManyInFlight | AppError::Overloaded | AppError::Busy => Some(1),
            AppError::Unavailable(_) => Some(2),
            _ => None,
        }
    }

    /// The problems field by field, for the errors that have them.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::InvalidApplication(d)
            | AppError::InvalidReport(d)
            | AppError::InvalidPractice(d) => d.clone(),
            AppError::InvalidAccount(p) => p.field_errors(),
            AppError::InvalidDocument {
                attachment,
                problem,
            } => {
                let t = problem.text();
                vec![FieldError::new(
                    format!("attachments.{attachment}"),
                    problem.code(),
                    t.it,
                    t.en,
                )]
            }
            _ => Vec::new(),
        }
    }

    /// The facts a client may act on, as extra members of the error object.
    pub fn facts(&self) -> Vec<(&'static str, Value)> {
        match self {
            AppError::OutsideWindow(OutsideWindow::NotOpenYet {
                opens_at,
                server_time,
            }) => vec![
                ("opens_at", Value::from(format_utc(*opens_at))),
                ("server_time", Value::from(format_utc(*server_time))),
            ],
            AppError::OutsideWindow(OutsideWindow::Closed {
                closes_at,
                server_time,
            }) => vec![
                ("closes_at", Value::from(format_utc(*closes_at))),
                ("server_time", Value::from(format_utc(*server_time))),
            ],
            AppError::AlreadyApplied { protocol } | AppError::IdempotencyConflict { protocol } => {
                vec![("protocol", Value::from(protocol.clone()))]
            }
            AppError::InvalidCallFile(e) => {
                let mut v = Vec::new();
                if let Some(l) = e.line {
                    v.push(("line", Value::from(l)));
                }
                if let Some(k) = &e.key {
                    v.push(("key", Value::from(k.clone())));
                }
                v
            }
            _ => Vec::new(),
        }
    }

    /// What happened, for people, in both languages.
    pub fn text(&self) -> Text {
        match self {
            AppError::CallNotFound => Text::new("Bando inesistente.", "No such call."),
            AppError::NotFound => Text::new("Risorsa non trovata.", "Not found."),
            AppError::EntityNotFound(code) => Text::new(
                format!("Ente «{code}» inesistente."),
                format!("Entity «{code}» not found."),
            ),
            AppError::Forbidden => Text::new(
                "Operazione non consentita con il profilo attuale.",
                "This operation is not allowed with the current role.",
            ),
            AppError::WrongCredentials => Text::new(
                "Indirizzo e-mail o password non corretti.",
                "E-mail address or password not correct.",
            ),
            AppError::NotBound { fiscal_code } => Text::new(
                format!(
                    "L'identità è stata verificata, ma il codice fiscale {fiscal_code} non è abilitato ad agire per alcun ente su questa piattaforma. Chiedere all'ufficio della Regione che gestisce i bandi (i contatti sono in fondo alla pagina) di associarlo al proprio ente, o all'ente di farne richiesta."
                ),
                format!(
                    "Your identity was verified, but the fiscal code {fiscal_code} may not act for any body on this platform. Ask the Region's office that runs the calls (contacts at the foot of the page) to bind it to your body, or ask your body to request it."
                ),
            ),
            AppError::IdentityRefused(why) => Text::new(
                format!(
                    "Accesso non riuscito: {} Nessun accesso è stato concesso; ripartire da «Accedi».",
                    why.it
                ),
                format!(
                    "Signing in failed: {} No access was granted; start again from «Sign in».",
                    why.en
                ),
            ),
            AppError::IdentityUnavailable(label) => Text::new(
                format!(
                    "Il servizio di accesso con {label} non risponde: riprovare tra qualche minuto, o accedere con e-mail e password se si ha un account locale."
                ),
                format!(
                    "The {label} sign-in service does not answer: try again in a few minutes, or sign in with e-mail and password if you have a local account."
                ),
            ),
            AppError::OwnAccount => Text::new(
                "Non si può disattivare il proprio account: lo faccia un altro amministratore.",
                "One cannot disable one's own account: another admin must do it.",
            ),
            AppError::Throttled { retry_after } => {
                let minutes = retry_after.div_ceil(60);
                Text::new(
                    format!(
                        "Troppi tentativi non riusciti da questo indirizzo: riprovare tra {minutes} minuti."
                    ),
                    format!(
                        "Too many failed attempts from this address: try again in {minutes} minutes."
                    ),
                )
            }
            AppError::NotEligible(why) => why.text(),
            AppError::OutsideWindow(OutsideWindow::NotOpenYet {
                opens_at,
                server_time,
            }) => Text::new(
                format!(
                    "Il bando non è ancora aperto: apre il {} (ora del server {}).",
                    format_utc(*opens_at),
                    format_utc(*server_time)
                ),
                format!(
                    "The call is not open yet: it opens at {} (server time {}).",
                    format_utc(*opens_at),
                    format_utc(*server_time)
                ),
            ),
            AppError::OutsideWindow(OutsideWindow::Closed {
                closes_at,
                server_time,
            }) => Text::new(
                format!(
                    "Il bando è chiuso dal {} (ora del server {}).",
                    format_utc(*closes_at),
                    format_utc(*server_time)
                ),
                format!(
                    "The call closed at {} (server time {}).",
                    format_utc(*closes_at),
                    format_utc(*server_time)
                ),
            ),
            AppError::InvalidApplication(d) if d.len() == 1 => Text::new(
                "La domanda contiene un errore da correggere.",
                "The application has one problem to fix.",
            ),
            AppError::InvalidApplication(d) => Text::new(
                format!("La domanda contiene {} errori da correggere.", d.len()),
                format!("The application has {} problems to fix.", d.len()),
            ),
            AppError::InvalidCallFile(e) => call_file_text(e),
            AppError::InvalidAccount(p) => Text::new(
                p.messages(Locale::It).join(" "),
                p.messages(Locale::En).join(" "),
            ),
            AppError::InvalidDocument { problem, .. } => problem.text(),
            AppError::UnknownAttachment(_) => Text::new(
                "Il modulo contiene un allegato non previsto dal bando. Nessun dato è stato modificato.",
                "The form carries an attachment the call does not ask for. Nothing was changed.",
            ),
            AppError::AlreadyApplied { protocol } => Text::new(
                format!(
                    "L'ente ha già presentato una domanda a questo bando: protocollo {protocol}."
                ),
                format!("This body already applied to this call: protocol {protocol}."),
            ),
            AppError::IdempotencyConflict { protocol } => Text::new(
                format!(
                    "Questa Idempotency-Key è già stata usata per un contenuto diverso (protocollo {protocol})."
                ),
                format!(
                    "This Idempotency-Key was already used for different content (protocol {protocol})."
                ),
            ),
            AppError::AlreadySubmitted => Text::new(
                "La domanda è già stata presentata: i suoi allegati non si possono più sostituire. Nessun dato è stato modificato.",
                "The application has been submitted: its attachments can no longer be replaced. Nothing was changed.",
            ),
            AppError::DocumentMissing { attachment } => Text::new(
                format!(
                    "L'allegato «{attachment}» è stato tolto dalla bozza mentre la domanda veniva presentata: la domanda non è stata registrata. Controllare gli allegati e presentarla di nuovo."
                ),
                format!(
                    "The attachment «{attachment}» was removed from the draft while the application was being submitted: it was not recorded. Check the attachments and submit again."
                ),
            ),
            AppError::CallOpened { call } => Text::new(
                format!("Il bando {call} è già aperto: le sue regole non possono più cambiare."),
                format!("The call {call} has opened: its rules can no longer change."),
            ),
            AppError::CallHasApplications { call, .. } => Text::new(
                format!("Il bando {call} ha già domande: le sue regole non possono più cambiare."),
                format!(
                    "The call {call} already has applications: its rules can no longer change."
                ),
            ),
            AppError::ProtocolPrefixTaken { prefix, call } => Text::new(
                format!(
                    "Il prefisso di protocollo {prefix} è già usato dal bando {call}: i numeri di protocollo non possono ripetersi. Scegliere un altro prefisso (chiave «protocol_prefix»)."
                ),
                format!(
                    "The protocol prefix {prefix} is used by the call {call}: protocol numbers must not repeat. Choose another prefix (key «protocol_prefix»)."
                ),
            ),
            AppError::EmailTaken { .. } => Text::new(
                "Esiste già un account con questo indirizzo.",
                "An account with this address exists.",
            ),
            AppError::Review(e) => e.text(),
            AppError::Allocation(AllocationError::BudgetBelowReserved { budget, reserved }) => {
                Text::new(
                    format!(
                        "La dotazione non può scendere sotto quanto è già riservato alle domande ({reserved}): la nuova dotazione sarebbe {budget}. Nessun dato è stato modificato."
                    ),
                    format!(
                        "The budget cannot go below what is already reserved for the applications ({}): the new budget would be {}. Nothing was changed.",
                        reserved.in_locale(Locale::En),
                        budget.in_locale(Locale::En)
                    ),
                )
            }
            AppError::Allocation(AllocationError::Overflow) => Text::new(
                "Importo fuori dai limiti consentiti. Nessun dato è stato modificato.",
                "Amount out of the allowed range. Nothing was changed.",
            ),
            AppError::CallNotOpenForBudget { call } => Text::new(
                format!(
                    "Il bando {call} non è ancora aperto: prima dell'apertura la dotazione si modifica pubblicando una nuova versione del file del bando."
                ),
                format!(
                    "Call {call} has not opened yet: before the opening the budget is changed by publishing a new version of the call's file."
                ),
            ),
            AppError::Report(e) => e.text(),
            AppError::InvalidReport(d) if d.len() == 1 => Text::new(
                "Il rendiconto contiene un errore da correggere.",
                "The report has one problem to fix.",
            ),
            AppError::InvalidReport(d) => Text::new(
                format!("Il rendiconto contiene {} errori da correggere.", d.len()),
                format!("The report has {} problems to fix.", d.len()),
            ),
            AppError::InvalidPractice(d) => Text::new(
                format!("La pratica contiene {} errori da correggere.", d.len()),
                format!("The practice has {} problems to fix.", d.len()),
            ),
            AppError::PracticeDecided(n) => Text::new(
                format!("La pratica {n} è già stata pubblicata o respinta."),
                format!("Practice {n} was published or refused already."),
            ),
            AppError::OwnPractice => Text::new(
                "Un ente non dichiara il riuso di una propria pratica.",
                "A body does not declare that it reuses its own practice.",
            ),
            AppError::InvalidDate(d) => Text::new(
                format!("«{d}» non è una data valida e futura (AAAA-MM-GG)."),
                format!("«{d}» is not a valid date to come (YYYY-MM-DD)."),
            ),
            AppError::PracticeFilesFull => Text::new(
                format!(
                    "La pratica ha già {} allegati: toglierne uno prima di aggiungerne un altro.",
                    bandi_store::MAX_PRACTICE_FILES
                ),
                format!(
                    "The practice has {} files already: remove one before adding another.",
                    bandi_store::MAX_PRACTICE_FILES
                ),
            ),
            AppError::InvalidCatalogue(problems) => Text::new(
                format!("Catalogo dei servizi non valido: {}", problems.join(" ")),
                format!(
                    "Services catalogue not valid (problems in Italian): {}",
                    problems.join(" ")
                ),
            ),
            AppError::InvalidKeyFile(why) => Text::new(
                format!("File della chiave di firma non utilizzabile: {why}."),
                format!("Signing key file not usable: {why}."),
            ),
            AppError::InvalidReceipt(why) => Text::new(
                format!("Ricevuta non valida: {why}."),
                format!("Receipt not genuine: {why}."),
            ),
            AppError::InvalidAmount(a) => Text::new(
                format!(
                    "«{a}» non è un importo in euro: scrivere per esempio 250.000,00 (con il segno meno per togliere)."
                ),
                format!(
                    "«{a}» is not an amount in euro: write for example 250,000.00 (with a minus sign to take away)."
                ),
            ),
            AppError::Allocation(e) => Text::new(
                format!("Operazione rifiutata dall'allocazione: {e}."),
                format!("Refused by the allocation: {e}."),
            ),
            AppError::InvalidContact(a) => Text::new(
                format!("«{a}» non è un indirizzo e-mail valido."),
                format!("«{a}» is not a valid e-mail address."),
            ),
            AppError::InvalidSmtp(setting) => Text::new(
                format!(
                    "Impostazione SMTP non utilizzabile: «{setting}». Indicare il relay come smtp://host:porta (SMTP semplice verso il relay interno, senza TLS né autenticazione) e un indirizzo mittente valido."
                ),
                format!(
                    "SMTP setting not usable: «{setting}». Give the relay as smtp://host:port (plain SMTP to the internal relay, no TLS nor authentication) and a valid sender address."
                ),
            ),
            AppError::TooManyInFlight => Text::new(
                "Troppe richieste in corso da questo utente o indirizzo: attendere le risposte e riprovare.",
                "Too many requests in progress from this user or address: wait for the answers and retry.",
            ),
            AppError::Overloaded | AppError::Unavailable(_) => Text::new(
                "Servizio momentaneamente non disponibile: riprovare tra qualche secondo. La domanda non è stata registrata.",
                "Service temporarily unavailable: retry in a few seconds. The application was not recorded.",
            ),
            AppError::Busy => Text::new(
                "Il servizio è molto richiesto in questo momento: riprovare tra qualche secondo.",
                "The service is very busy right now: please retry in a few seconds.",
            ),
            AppError::Internal(_) => Text::new(
                "Errore interno. Nessun dato è stato modificato.",
                "Internal error. Nothing was changed.",
            ),
        }
    }
}

/// A call file's problem, where it is and what it is, in Italian and English.
pub fn call_file_text(e: &CallFileError) -> Text {
    let place_it = match (e.line, &e.key) {
        (Some(l), Some(k)) => format!("riga {l}, chiave «{k}»: "),
        (Some(l), None) => format!("riga {l}: "),
        (None, Some(k)) => format!("chiave «{k}»: "),
        (None, None) => String::new(),
    };
    let place_en = match (e.line, &e.key) {
        (Some(l), Some(k)) => format!("line {l}, key «{k}»: "),
        (Some(l), None) => format!("line {l}: "),
        (None, Some(k)) => format!("key «{k}»: "),
        (None, None) => String::new(),
    };
    Text::new(
        format!("{place_it}{}", e.message_it()),
        format!("{place_en}{}", e.message),
    )
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound(_) => AppError::NotFound,
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "storage unavailable");
                AppError::Unavailable(e.to_string())
            }
            StoreError::ProtocolPrefixTaken { prefix, call } => {
                AppError::ProtocolPrefixTaken { prefix, call }
            }
            StoreError::CallHasApplications { call, applications } => {
                AppError::CallHasApplications { call, applications }
            }
            StoreError::EmailTaken { email } => AppError::EmailTaken { email },
            StoreError::DocumentTooLarge => AppError::InvalidDocument {
                attachment: String::new(),
                problem: DocumentProblem::TooLarge,
            },
            other => {
                tracing::error!(error = %other, "store error");
                AppError::Internal(other.to_string())
            }
        }
    }
}

impl From<IntakeError> for AppError {
    fn from(e: IntakeError) -> AppError {
        match e {
            IntakeError::CallNotFound => AppError::CallNotFound,
            IntakeError::OutsideWindow(w) => AppError::OutsideWindow(w),
            IntakeError::DocumentMissing { attachment } => AppError::DocumentMissing { attachment },
            IntakeError::AlreadyApplied { protocol } => AppError::AlreadyApplied { protocol },
            IntakeError::IdempotencyConflict { protocol } => {
                AppError::IdempotencyConflict { protocol }
            }
            IntakeError::Overloaded => AppError::Overloaded,
            IntakeError::TooManyInFlight => AppError::TooManyInFlight,
            IntakeError::Unavailable(m) => {
                tracing::warn!(error = %m, "intake unavailable");
                AppError::Unavailable(m)
            }
            IntakeError::Refused(m) => {
                tracing::error!(error = %m, "allocation refused a submission");
                AppError::Internal(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_kinds_follow() {
        let t = jiff::Timestamp::UNIX_EPOCH;
        let cases = [
            (
                AppError::OutsideWindow(OutsideWindow::NotOpenYet {
                    opens_at: t,
                    server_time: t,
                }),
                "call_not_open",
                Kind::Forbidden,
            ),
            (
                AppError::AlreadyApplied {
                    protocol: "P".into(),
                },
                "already_applied",
                Kind::Conflict,
            ),
            (
                AppError::ProtocolPrefixTaken {
                    prefix: "ER".into(),
                    call: "c".into(),
                },
                "protocol_prefix_taken",
                Kind::Conflict,
            ),
            (
                AppError::Throttled { retry_after: 900 },
                "too_many_attempts",
                Kind::TooMany,
            ),
            (AppError::Busy, "busy", Kind::Unavailable),
            (
                AppError::InvalidSmtp("smtps://relay".into()),
                "invalid_smtp",
                Kind::Invalid,
            ),
            (
                AppError::InvalidReceipt("changed".into()),
                "invalid_receipt",
                Kind::Invalid,
            ),
            (
                AppError::PracticeFilesFull,
                "too_many_files",
                Kind::Conflict,
            ),
            (
                AppError::InvalidCatalogue(vec!["Manca il fornitore.".into()]),
                "invalid_catalogue",
                Kind::Invalid,
            ),
            (
                AppError::InvalidKeyFile("k.json".into()),
                "invalid_key_file",
                Kind::Invalid,
            ),
            (
                AppError::Review(ReviewError::TakeoverNotAllowed),
                "takeover_not_allowed",
                Kind::Forbidden,
            ),
        ];
        for (e, code, kind) in cases {
            assert_eq!(e.code(), code);
            assert_eq!(e.kind(), kind);
            assert!(!e.text().it.is_empty() && !e.text().en.is_empty());
        }
        assert_eq!(
            AppError::Throttled { retry_after: 900 }.retry_after(),
            Some(900)
        );
        let closed = AppError::OutsideWindow(OutsideWindow::Closed {
            closes_at: t,
            server_time: t,
        });
        let facts: Vec<&str> = closed.facts().iter().map(|(k, _)| *k).collect();
        assert_eq!(facts, ["closes_at", "server_time"]);
    }
}
