//! What an outsider checks the platform with: the public keys, the signed checkpoints of
//! the ledger, and its head.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use super::ledger::number;
use crate::{ApiError, SharedState};

/// `GET /keys`: every key that ever signed, with its validity.
pub async fn keys(State(state): State<SharedState>) -> Result<Json<Value>, ApiError> {
    let items = state.app.published_keys().await?;
    Ok(Json(json!({ "items": items })))
}

/// `GET /checkpoints?after=N&limit=M`, oldest first.
pub async fn checkpoints(
    State(state): State<SharedState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let after = number(&params, "after", 0, 0, i64::MAX as u64)?;
    let limit = number(&params, "limit", 100, 1, 1000)? as u32;
    let items = state.app.checkpoints(after, limit).await?;
    let next_after = items.last().map(|c| c.seq).unwrap_or(after);
    Ok(Json(json!({ "items": items, "next_after": next_after })))
}

/// `GET /ledger/head`: how many entries, and the last one's hash and instant.
pub async fn head(State(state): State<SharedState>) -> Result<Json<Value>, ApiError> {
    let (size, head) = state.store().ledger_head().await?;
    let at = match state.store().ledger_entry(size).await? {
        Some(e) => Value::from(e.at),
        None => Value::Null,
    };
    Ok(Json(json!({ "size": size, "head": head, "at": at })))
}
