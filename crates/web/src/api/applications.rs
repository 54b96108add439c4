//! Submitting an application and reading it back.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_app::intake::{Content, Submit};
use bandi_app::{Actor, AppError};
use bandi_domain::entity::EntityCode;
use bandi_domain::json::from_slice_strict;
use bandi_store::intake::Accepted;
use serde_json::{Value, json};

use super::{auth, calls};
use crate::pages::account::Peer;
use crate::{ApiError, MAX_BODY, SharedState};

/// Checks in the order the API promises: size (413), load (503, 429), call (404), token
/// (401), media type (415), JSON (400), eligibility and opening (403), content (422),
/// duplicates (409). Everything after the token is the use case's.
pub async fn submit(
    State(state): State<SharedState>,
    code: Result<Path<String>, PathRejection>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::too_large(MAX_BODY));
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|e| crate::error::body_error(&e, MAX_BODY))?;
    // Before anything else costs CPU: when the sequencer is behind, or this address has too
    // many submissions in progress, the answer is at once (503 or 429, with Retry-After);
    // after reading the body, though, so that the connection can carry the client's retry.
    state.app.intake().admit().map_err(AppError::from)?;
    let _place = state
        .limits
        .submission(&state.net.client_address(&headers, peer))?;
    let call = calls::rules(&state, code).await?;
    let entity = auth::entity_of(&state, &headers).await?;
    if !is_json(&headers) {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let value = from_slice_strict(&bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            &format!("Il corpo della richiesta non è JSON valido: {e}."),
            &format!("The request body is not valid JSON: {e}."),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "Il corpo della richiesta deve essere un oggetto JSON.",
            "The request body must be a JSON object.",
        ));
    }
    let key = idempotency_key(&headers)?;
    let entity_code = EntityCode::parse(&entity).map_err(|_| ApiError::internal())?;
    let accepted = state
        .app
        .submit(
            &Actor::Entity(entity),
            Submit {
                call: call.code.clone(),
                entity: entity_code,
                idempotency_key: key,
                content: Content::Json(value),
            },
        )
        .await?;
    Ok(match accepted {
        Accepted::Created(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Accepted::Replayed(r) => (StatusCode::OK, Json(r)).into_response(),
    })
}

/// `application/json`, with or without parameters (`; charset=utf-8`), any case.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    v.to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .map(|k| Some(k.to_string()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key non valida: da 1 a 255 caratteri ASCII visibili.",
                "Invalid Idempotency-Key: 1 to 255 visible ASCII characters.",
            )
            .field("Idempotency-Key")
        })
}

/// The application and its receipt, only for the entity that owns it. Anyone else gets
/// the same 404 as for an id that does not exist.
pub async fn show(
    State(state): State<SharedState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entity = auth::entity_of(&state, &headers).await?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found());
    };
    if id.len() > 64 {
        return Err(ApiError::not_found());
    }
    let app = state
        .store()
        .application(&id)
        .await?
        .filter(|a| a.receipt.entity == entity)
        .ok_or_else(ApiError::not_found)?;
    let r = &app.receipt;
    Ok(Json(json!({
        "id": r.id,
        "call": r.call,
        "entity": r.entity,
        "protocol": r.protocol,
        "seq": r.seq,
        "received_at": r.received_at,
        "status": app.status.as_str(),
        "requested_cents": r.requested_cents,
        "reserved_cents": app.reserved,
        "content": app.content,
        "receipt": r,
    })))
}
