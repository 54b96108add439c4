//! Signing in and out with a local account (e-mail and password), and what every reserved
//! page needs: the [`Signed`] extractor (or the way to the sign-in page), role checks and
//! the CSRF check of forms.
//!
//! Every form of a signed-in person carries the session's CSRF token in a hidden field;
//! the sign-in form, before any session, carries a token that must match a short-lived
//! cookie (double submit). Cookies are `SameSite=Lax` and the CSP allows forms to post
//! only to this site: the token is the third lock.

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_store::{Role, Session, StoreError, normalise_email};
use serde::Deserialize;

use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;
use crate::auth::{
    MaybeSession, PasswordProvider, clear_session_cookie, cookie, is_secure, random_token,
    session_token, start_session, tokens_match,
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
        Role::Admin => "/amministrazione",
        Role::Applicant => "/area-riservata",
    }
}

/// A page of this site to come back to, never another site's.
fn local_path(next: &str) -> Option<&str> {
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
}

fn sign_in_page(
    ctx: &Ctx,
    headers: &HeaderMap,
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
        problem,
    };
    let mut res = render(status, &page)?;
    let secure = if is_secure(headers) { "; Secure" } else { "" };
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=3600{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

pub async fn form(
    ctx: Ctx,
    headers: HeaderMap,
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
    sign_in_page(&ctx, &headers, StatusCode::OK, "", next, None)
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

/// The client's address: the last hop a proxy added, else the peer. Only the looser
/// per-address limit depends on it; the per-e-mail limit holds whatever it says.
pub(crate) fn client_address(parts_headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
    let forwarded = parts_headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    match (forwarded, peer) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(p)) => p.ip().to_string(),
        (None, None) => "unknown".into(),
    }
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
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !tokens_match(&expected, &f.csrf) {
        let problem = if en {
            "The sign-in form had expired: please sign in again."
        } else {
            "Il modulo di accesso era scaduto: ripetere l'accesso."
        };
        return sign_in_page(
            &ctx,
            &headers,
            StatusCode::FORBIDDEN,
            &email,
            &next,
            Some(problem.into()),
        );
    }
    let email_key = format!("email:{}", normalise_email(&email));
    let address_key = format!("addr:{}", client_address(&headers, peer));
    if !s.sign_in.per_email.allows(&email_key) || !s.sign_in.per_address.allows(&address_key) {
        let problem = if en {
            "Too many failed attempts: wait 15 minutes before trying again."
        } else {
            "Troppi tentativi non riusciti: attendere 15 minuti prima di riprovare."
        };
        let mut res = sign_in_page(
            &ctx,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &email,
            &next,
            Some(problem.into()),
        )?;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        return Ok(res);
    }
    let password = f.password.chars().take(1024).collect::<String>();
    let user = PasswordProvider
        .authenticate(&s.app.store, &email, &password)
        .await?;
    let Some(user) = user else {
        s.sign_in.per_email.record_failure(&email_key);
        s.sign_in.per_address.record_failure(&address_key);
        let problem = if en {
            "E-mail address or password not correct."
        } else {
            "Indirizzo e-mail o password non corretti."
        };
        return sign_in_page(
            &ctx,
            &headers,
            StatusCode::UNAUTHORIZED,
            &email,
            &next,
            Some(problem.into()),
        );
    };
    s.sign_in.per_email.reset(&email_key);
    // A new session at every sign-in: a session id planted before cannot be reused.
    if let Some(old) = session_token(&headers) {
        s.app.store.delete_session(&old).await?;
    }
    let secure = is_secure(&headers);
    let set_cookie = start_session(&s.app.store, &user, secure).await?;
    let to = if next.is_empty() {
        home_of(user.role).to_string()
    } else {
        next
    };
    let mut res = see_other(&to);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&set_cookie) {
        h.append(header::SET_COOKIE, v);
    }
    h.append(
        header::SET_COOKIE,
        HeaderValue::from_static("bandi_login=; Path=/accedi; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    tracing::info!(user = %user.id, role = user.role.as_str(), "signed in");
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
    MaybeSession(session): MaybeSession,
    Form(f): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    if let Some(session) = &session {
        check_csrf(session, &f.csrf)?;
        if let Some(token) = session_token(&headers) {
            s.app.store.delete_session(&token).await?;
        }
    }
    let mut res = see_other("/");
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie(is_secure(&headers))) {
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

    #[test]
    fn the_client_address_prefers_the_proxy_hop() {
        let mut h = HeaderMap::new();
        let peer: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        assert_eq!(client_address(&h, Some(peer)), "10.0.0.1");
        h.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        assert_eq!(client_address(&h, Some(peer)), "5.6.7.8");
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(client_address(&h, None), "unknown");
    }
}
