//! Signing in and out with a local account (e-mail and password), and what every reserved
//! page needs: the [`Signed`] extractor (or the way to the sign-in page), role checks and
//! the CSRF check of forms.
//!
//! Every form of a signed-in person carries the session's CSRF token in a hidden field;
//! the sign-in form, before any session, carries a token that must match a short-lived
//! cookie (double submit). Cookies are `SameSite=Lax` and the CSP allows forms to post
//! only to this site: the token is the third lock.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_app::AppError;
use bandi_app::sign_in::NewSession;
use bandi_store::{Role, Session, StoreError};
use serde::Deserialize;

use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;
use crate::auth::{
    MaybeSession, clear_session_cookie, cookie, random_token, session_cookie, session_token,
    tokens_match,
};

/// The cookie that holds the sign-in form's CSRF token until the form is posted.
const LOGIN_COOKIE: &str = "bandi_login";

/// What a reserved page answers instead of itself: an error page.
pub(crate) enum PageError {
    Api(ApiError),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Api(e) => e.into_response(),
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> PageError {
        PageError::Api(e)
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        PageError::Api(e.into())
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        PageError::Api(e.into())
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

/// `303 See Other` to `location`: after a form, the browser asks for the next page with GET.
pub(crate) fn see_other(location: &str) -> Response {
    let value = HeaderValue::from_str(location).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

/// The person signed in. Without a (live) session the request goes to the sign-in page,
/// which brings the person back here afterwards.
pub(crate) struct Signed(pub Session);

impl FromRequestParts<PageState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &PageState) -> Result<Self, Response> {
        match MaybeSession::from_request_parts(parts, state).await {
            Ok(MaybeSession(Some(s))) => Ok(Signed(s)),
            Ok(MaybeSession(None)) => {
                // After a POST the person comes back to the page the form was on.
                let back = match (parts.method == Method::GET, parts.uri.path_and_query()) {
                    (true, Some(pq)) => pq.as_str(),
                    _ => parts.uri.path(),
                };
                Err(see_other(&format!("/accedi?dopo={}", super::encode(back))))
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

pub(crate) fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Questa pagina non è accessibile con il profilo attuale.",
        "This page cannot be reached with the current role.",
    )
}

/// Only people with `role` go on; the others get 403. Checked on the server for every
/// route, whatever the menus show.
pub(crate) fn require(session: &Session, role: Role) -> Result<(), ApiError> {
    if session.user.role == role {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Officials (admins and reviewers) go on; the others get 403.
pub(crate) fn require_official(session: &Session) -> Result<(), ApiError> {
    if session.user.role.is_official() {
        Ok(())
    } else {
        Err(forbidden())
    }
}

pub(crate) fn csrf_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf",
        "Il modulo è scaduto o non proviene da questo sito: ricaricare la pagina e riprovare. Nessun dato è stato modificato.",
        "The form has expired or does not come from this site: reload the page and try again. Nothing was changed.",
    )
}

/// The form's token must be the session's.
pub(crate) fn check_csrf(session: &Session, given: &str) -> Result<(), ApiError> {
    if tokens_match(&session.csrf_token, given) {
        Ok(())
    } else {
        Err(csrf_refused())
    }
}

/// Where a person goes after signing in when no page asked for it.
fn home_of(role: Role) -> &'static str {
    match role {
        Role::Admin | Role::Reviewer => "/amministrazione",
        Role::Applicant => "/area-riservata",
    }
}

/// A page of this site to come back to, never another site's.
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 1000
        && !next.chars().any(|c| c.is_control());
    ok.then_some(next)
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    l: Layout,
    csrf: String,
    email: String,
    next: String,
    problem: Option<String>,
    /// "Entra con SPID" and "Entra con CIE", as configured: (label, path).
    identity: Vec<(&'static str, String)>,
    /// Back from a password reset.
    reset: bool,
}

fn sign_in_page(
    s: &PageState,
    ctx: &Ctx,
    secure: bool,
    status: StatusCode,
    email: &str,
    next: &str,
    problem: Option<String>,
) -> Result<Response, ApiError> {
    let csrf = random_token();
    let page = SignInPage {
        l: ctx.layout(
            ctx.t("Accedi all'area riservata", "Sign in to the reserved area"),
            vec![Crumb::new(ctx.ui().home, "/")],
            Nav::Reserved,
        ),
        csrf: csrf.clone(),
        email: email.to_string(),
        next: next.to_string(),
        reset: ctx.param("reimpostata").is_some() && problem.is_none(),
        problem,
        identity: s
            .app
            .identity
            .kinds()
            .into_iter()
            .map(|k| {
                let path = match next {
                    "" => format!("/accedi/{}", k.as_str()),
                    n => format!("/accedi/{}?dopo={}", k.as_str(), super::encode(n)),
                };
                (k.label(), path)
            })
            .collect(),
    };
    let mut res = render(status, &page)?;
    set_login_csrf(&mut res, &csrf, secure);
    Ok(res)
}

/// The forms before any session (under `/accedi`) carry a token that must match this
/// short-lived cookie (double submit).
pub(crate) fn set_login_csrf(res: &mut Response, csrf: &str, secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=3600{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The token of a form posted before any session matches its cookie.
pub(crate) fn login_csrf_ok(headers: &HeaderMap, given: &str) -> bool {
    let expected = cookie(headers, LOGIN_COOKIE).unwrap_or_default();
    !expected.is_empty() && tokens_match(&expected, given)
}

pub async fn form(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
    MaybeSession(session): MaybeSession,
) -> Result<Response, ApiError> {
    let next = ctx.param("dopo").and_then(local_path).unwrap_or("");
    if let Some(s) = session {
        let to = if next.is_empty() {
            home_of(s.user.role)
        } else {
            next
        };
        return Ok(see_other(to));
    }
    let secure = s.app.net.is_secure(&headers, peer);
    sign_in_page(&s, &ctx, secure, StatusCode::OK, "", next, None)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// The peer address, when the server was started with it (`crate::serve` is).
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

pub async fn sign_in(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
    Form(f): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let next = local_path(&f.next).unwrap_or("").to_string();
    let email = f.email.trim().chars().take(254).collect::<String>();
    let en = ctx.en();
    let secure = s.app.net.is_secure(&headers, peer);
    if !login_csrf_ok(&headers, &f.csrf) {
        let problem = if en {
            "The sign-in form had expired: please sign in again."
        } else {
            "Il modulo di accesso era scaduto: ripetere l'accesso."
        };
        return sign_in_page(
            &s,
            &ctx,
            secure,
            StatusCode::FORBIDDEN,
            &email,
            &next,
            Some(problem.into()),
        );
    }
    let password = f.password.chars().take(1024).collect::<String>();
    let address = s.app.net.client_address(&headers, peer);
    let session = match s.app.app.sign_in(&email, &password, &address).await {
        Ok(session) => session,
        Err(e @ (AppError::WrongCredentials | AppError::Throttled { .. } | AppError::Busy)) => {
            let status = ApiError::from(e.clone()).status;
            let mut res = sign_in_page(
                &s,
                &ctx,
                secure,
                status,
                &email,
                &next,
                Some(e.text().get(ctx.locale).to_string()),
            )?;
            if let Some(after) = e.retry_after() {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(after));
            }
            return Ok(res);
        }
        Err(e) => return Err(e.into()),
    };
    let mut res = session_opened(&s, &headers, &session, &next, secure).await?;
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("bandi_login=; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(res)
}

/// After any way of signing in: the session's cookie, and on to `next` (or the person's
/// home). A new session at every sign-in: a session id planted before cannot be reused.
pub(crate) async fn session_opened(
    s: &PageState,
    headers: &HeaderMap,
    session: &NewSession,
    next: &str,
    secure: bool,
) -> Result<Response, ApiError> {
    if let Some(old) = session_token(headers) {
        s.app.app.sign_out(&old).await?;
    }
    let to = match local_path(next) {
        Some(next) if !next.is_empty() => next,
        _ => home_of(session.user.role),
    };
    let mut res = see_other(to);
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&session.token, secure)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    State(s): State<PageState>,
    headers: HeaderMap,
    Peer(peer): Peer,
    MaybeSession(session): MaybeSession,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if let Some(session) = &session {
        check_csrf(session, &f.csrf)?;
        if let Some(token) = session_token(&headers) {
            s.app.app.sign_out(&token).await?;
        }
    }
    let mut res = see_other("/");
    let secure = s.app.net.is_secure(&headers, peer);
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie(secure)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path("/area-riservata"), Some("/area-riservata"));
        assert_eq!(local_path("//evil.example"), None);
        assert_eq!(local_path("/\\evil.example"), None);
        assert_eq!(local_path("https://evil.example"), None);
        assert_eq!(local_path(""), None);
    }
}
