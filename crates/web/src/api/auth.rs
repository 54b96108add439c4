//! Bearer tokens: each belongs to one entity.

use axum::http::{HeaderMap, header};

use crate::{ApiError, SharedState};

/// The entity code the request's bearer token belongs to.
pub async fn entity_of(state: &SharedState, headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Autenticazione richiesta: intestazione Authorization: Bearer <token>.",
            "Authentication required: header Authorization: Bearer <token>.",
        ));
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(|| {
            ApiError::unauthorized(
                "Intestazione Authorization non valida: atteso «Bearer <token>».",
                "Invalid Authorization header: expected «Bearer <token>».",
            )
        })?;
    state
        .store
        .token_entity(token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Token sconosciuto.", "Unknown token."))
}
