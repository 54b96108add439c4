//! The public ledger, page by page.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::{ApiError, SharedState};

pub async fn page(
    State(state): State<SharedState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    // Ledger numbers are stored as signed 64-bit integers: past that there is nothing.
    let after = number(&params, "after", 0, 0, i64::MAX as u64)?;
    let limit = number(&params, "limit", 100, 1, 1000)? as u32;
    let entries = state.store().ledger_page(after, limit).await?;
    let next_after = entries.last().map(|e| e.seq).unwrap_or(after);
    let items: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "kind": e.kind,
                "at": e.at,
                // Exactly the bytes that were hashed, and the same read as an object.
                "payload": e.payload,
                "data": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_after": next_after})))
}

pub(crate) fn number(
    params: &HashMap<String, String>,
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let Some(raw) = params.get(name) else {
        return Ok(default);
    };
    raw.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_parameter",
                &format!("Parametro «{name}» non valido: un intero tra {min} e {max}."),
                &format!("Invalid parameter «{name}»: an integer from {min} to {max}."),
            )
            .field(name)
        })
}
