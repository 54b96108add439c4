//! Bearer tokens: each belongs to one entity.

use axum::http::{HeaderMap, header};

use bandi_app::Actor;

use crate::{ApiError, SharedState};

/// The token of an `Authorization: Bearer <token>` header; the scheme in any case
/// (RFC 7235), one or more spaces after it.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 200)
        .then_some(token)
}

/// Who the request's bearer token speaks for: an entity or an official's account.
pub async fn actor_of(state: &SharedState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let token = token(headers)?;
    state
        .app
        .token_actor(token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Token sconosciuto.", "Unknown token."))
}

/// The entity code the request's bearer token belongs to.
pub async fn entity_of(state: &SharedState, headers: &HeaderMap) -> Result<String, ApiError> {
    let token = token(headers)?;
    state
        .app
        .token_entity(token)
        .await?
        .ok_or_else(|| ApiError::unauthorized("Token sconosciuto.", "Unknown token."))
}

fn token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Autenticazione richiesta: intestazione Authorization: Bearer <token>.",
            "Authentication required: header Authorization: Bearer <token>.",
        ));
    };
    let token = value.to_str().ok().and_then(bearer).ok_or_else(|| {
        ApiError::unauthorized(
            "Intestazione Authorization non valida: atteso «Bearer <token>».",
            "Invalid Authorization header: expected «Bearer <token>».",
        )
    })?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER   abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer(&format!("Bearer {}", "x".repeat(201))), None);
    }
}
