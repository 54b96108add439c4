//! The grants as open data for programs, public: a call's (`/calls/{code}/grants`) and
//! every call's (`/grants`). Read from the store at every request.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::Value;

use crate::opendata::{self, CallGrants};
use crate::{ApiError, SharedState};

/// `GET /calls/{code}/grants`.
pub async fn call(
    State(state): State<SharedState>,
    code: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let stored = super::calls::load(&state, code).await?;
    let grants = CallGrants::load(state.store(), stored).await?;
    Ok(Json(opendata::json::call(&grants, &state.site)))
}

/// `GET /grants`.
pub async fn all(State(state): State<SharedState>) -> Result<Json<Value>, ApiError> {
    let calls = opendata::all(state.store()).await?;
    Ok(Json(opendata::json::all(&calls, &state.site)))
}
