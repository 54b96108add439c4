//! Errors of the storage layer, each with a stable machine code.

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
    #[error("conflict: {0}")]
    Conflict(String),
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
            StoreError::Conflict(_) => "conflict",
            StoreError::Refused(_) => "refused",
            StoreError::Corrupt(_) => "corrupt_data",
        }
    }
}
