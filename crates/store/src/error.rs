//! Errors of the storage layer, each with a stable machine code. Conflicts are named, so
//! that the layers above say what happened (a protocol prefix taken is not "the call has
//! applications"), never a string to parse.

use bandi_domain::allocation::AllocationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or failed: the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(#[from] sqlx::Error),
    #[error("configuration: {0}")]
    Config(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error(
        "the protocol prefix {prefix} is used by call {call}: protocol numbers must not repeat"
    )]
    ProtocolPrefixTaken { prefix: String, call: String },
    #[error("call {call} already has {applications} applications: its rules can no longer change")]
    CallHasApplications { call: String, applications: i64 },
    #[error("an account with e-mail {email} exists")]
    EmailTaken { email: String },
    #[error("an account bound to fiscal code {fiscal_code} exists")]
    FiscalCodeTaken { fiscal_code: String },
    #[error("document too large")]
    DocumentTooLarge,
    #[error("refused: {0}")]
    Refused(#[from] AllocationError),
    /// Stored data that does not read back as it was written: a bug or tampering.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Unavailable(_) => "storage_unavailable",
            StoreError::Config(_) => "configuration",
            StoreError::NotFound(_) => "not_found",
            StoreError::ProtocolPrefixTaken { .. } => "protocol_prefix_taken",
            StoreError::CallHasApplications { .. } => "call_has_applications",
            StoreError::EmailTaken { .. } => "email_taken",
            StoreError::FiscalCodeTaken { .. } => "fiscal_code_taken",
            StoreError::DocumentTooLarge => "document_too_large",
            StoreError::Refused(_) => "refused",
            StoreError::Corrupt(_) => "corrupt_data",
        }
    }
}

/// A fold log that does not read, or a ledger record that cannot be put in one, is data
/// that is not what it should be.
impl From<bandi_domain::fold_log::FoldLogError> for StoreError {
    fn from(e: bandi_domain::fold_log::FoldLogError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
