//! Public views of a call: its state and counters, and its ranking.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use bandi_domain::instant::{format_utc, truncate_to_micros};
use std::sync::Arc;

use bandi_domain::call::{Call, CallCode};
use bandi_store::StoredCall;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::{ApiError, SharedState};

/// The code in the path if it can name a call; 404 for anything else.
fn code_of(code: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    match code {
        Ok(Path(code)) if CallCode::parse(&code).is_ok() => Ok(code),
        _ => Err(ApiError::call_not_found()),
    }
}

/// The call named in the path with its counters, or 404.
pub async fn load(
    state: &SharedState,
    code: Result<Path<String>, PathRejection>,
) -> Result<StoredCall, ApiError> {
    let code = code_of(code)?;
    state
        .store()
        .call(&code)
        .await?
        .ok_or_else(ApiError::call_not_found)
}

/// The rules of the call named in the path (cached briefly), or 404.
pub async fn rules(
    state: &SharedState,
    code: Result<Path<String>, PathRejection>,
) -> Result<Arc<Call>, ApiError> {
    let code = code_of(code)?;
    state
        .store()
        .call_rules(&code)
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
    let items = state.store().ranking(c.call.code.as_str()).await?;
    Ok(Json(json!({ "items": items })))
}
