//! "Entra con SPID" and "Entra con CIE": the way out to the identity provider and the way
//! back. The relying party's checks are in [`crate::identity`]; whom the fiscal code lets
//! in is the use case's ([`bandi_app::App::sign_in_with_fiscal_code`]). The flow's cookie
//! lives only under `/accedi`, for ten minutes, and is cleared by the way back whatever
//! its outcome.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bandi_app::AppError;
use bandi_domain::i18n::Text;

use super::account::{Peer, local_path, see_other, session_opened};
use super::{Ctx, PageState};
use crate::ApiError;
use crate::auth::{cookie, random_token};
use crate::identity::Answer;
use crate::site::IdentityKind;

/// The browser's side of a sign-in in progress.
const FLOW_COOKIE: &str = "bandi_identita";

fn flow_cookie(value: &str, max_age: u64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{FLOW_COOKIE}={value}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// The provider named in the path, if this deployment has it.
fn configured(s: &PageState, kind: &str) -> Result<IdentityKind, ApiError> {
    IdentityKind::parse(kind)
        .filter(|k| s.app.identity.get(*k).is_some())
        .ok_or_else(|| AppError::NotFound.into())
}

/// `GET /accedi/{spid|cie}`: a new flow, kept against a fresh cookie, and on to the
/// provider.
pub async fn start(
    State(s): State<PageState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Result<Response, ApiError> {
    let kind = configured(&s, &kind)?;
    let next = ctx.param("dopo").and_then(local_path).unwrap_or("");
    let (url, flow) = s.app.identity.start(kind, next).await?;
    let value = random_token();
    s.app.store().create_sign_in_flow(&value, &flow).await?;
    let secure = s.app.net.is_secure(&headers, peer);
    let mut res = see_other(&url);
    let max_age = bandi_store::SIGN_IN_FLOW_TTL.as_secs() as u64;
    if let Some(v) = flow_cookie(&value, max_age, secure) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// `GET /accedi/{spid|cie}/ritorno?code=…&state=…` (or `?error=…`): the provider's answer.
pub async fn back(
    State(s): State<PageState>,
    ctx: Ctx,
    Path(kind): Path<String>,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Response {
    let secure = s.app.net.is_secure(&headers, peer);
    let mut res = match finish(&s, &ctx, &kind, &headers, secure).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    };
    if let Some(v) = flow_cookie("", 0, secure) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn finish(
    s: &PageState,
    ctx: &Ctx,
    kind: &str,
    headers: &HeaderMap,
    secure: bool,
) -> Result<Response, ApiError> {
    let kind = configured(s, kind)?;
    let refused = |it: &str, en: &str| -> ApiError {
        AppError::IdentityRefused(Box::new(Text::new(it, en))).into()
    };
    // Taken (and so removed) first: whatever happens next, this answer is not accepted twice.
    let flow = match cookie(headers, FLOW_COOKIE).filter(|c| c.len() <= 64) {
        Some(c) => s.app.store().take_sign_in_flow(&c).await?,
        None => None,
    };
    let Some(flow) = flow else {
        return Err(refused(
            "la richiesta di accesso è scaduta o non è partita da questo browser.",
            "the sign-in request has expired or did not start in this browser.",
        ));
    };
    if let Some(error) = ctx.param("error") {
        tracing::info!(
            provider = kind.as_str(),
            error,
            "the identity provider refused"
        );
        return Err(refused(
            "il gestore dell'identità ha annullato o rifiutato l'accesso.",
            "the identity provider cancelled or refused the sign-in.",
        ));
    }
    let state = ctx.param("state").unwrap_or("");
    let code = ctx.param("code").unwrap_or("");
    let answer = Answer {
        state,
        code,
        iss: ctx.param("iss"),
    };
    let fiscal_code = s.app.identity.finish(kind, &flow, &answer).await?;
    let session = s
        .app
        .app
        .sign_in_with_fiscal_code(&fiscal_code, kind.label())
        .await?;
    session_opened(s, headers, &session, &flow.next_path, secure).await
}
