//! Public views of a call: its state and counters, and its ranking.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bandi_domain::instant::{format_utc, truncate_to_micros};
use bandi_store::StoredCall;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::{ApiError, SharedState};

/// The call named in the path, or 404 for anything else (including malformed paths).
pub async fn load(
    state: &SharedState,
    code: Result<Path<String>, PathRejection>,
) -> Result<StoredCall, ApiError> {
    let Ok(Path(code)) = code else {
        return Err(ApiError::call_not_found());
    };
    if bandi_domain::call::CallCode::parse(&code).is_err() {
        return Err(ApiError::call_not_found());
    }
    state
        .store
        .call(&code)
        .await?
        .ok_or_else(ApiError::call_not_found)
}

pub async fn show(
    State(state): State<SharedState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let c = load(&state, code).await?;
    let now = truncate_to_micros(Timestamp::now());
    Ok(Json(json!({
        "code": c.call.code,
        "title": c.call.title.it,
        "state": c.call.state_at(now).as_str(),
        "opens_at": format_utc(c.call.opens_at),
        "closes_at": format_utc(c.call.closes_at),
        "server_time": format_utc(now),
        "budget_cents": c.budget,
        "reserved_cents": c.reserved,
        "remaining_cents": c.remaining(),
        "applications": c.applications,
        "waitlisted": c.waitlisted,
        "co_financing_bp": c.call.rate.bp(),
        "max_grant_cents": c.call.max_grant,
        "when_not_fits": c.call.when_not_fits.as_str(),
    })))
}

pub async fn ranking(
    State(state): State<SharedState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let c = load(&state, code).await?;
    let items = state.store.ranking(c.call.code.as_str()).await?;
    Ok(Json(json!({ "items": items })))
}
