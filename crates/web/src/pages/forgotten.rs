//! A forgotten password: `/accedi/password-dimenticata` asks for the address and sends a
//! link (through the use case, which answers the same for any address), `/accedi/nuova-
//! password?token=…` sets the new password. Forms before any session: the sign-in page's
//! double-submit token. The links start with the site file's `public_url`; without one,
//! the page says whom to ask instead.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bandi_app::AppError;
use serde::Deserialize;

use super::account::{Peer, login_csrf_ok, see_other, set_login_csrf};
use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;
use crate::auth::random_token;

pub(crate) enum ResetStep {
    Ask,
    Sent,
    Choose,
    Dead,
}

#[derive(Template)]
#[template(path = "forgotten_password.html")]
struct ResetPage {
    l: Layout,
    csrf: String,
    step: ResetStep,
    available: bool,
    token: String,
    problem: Option<String>,
    new_error: Option<String>,
}

struct Shown<'a> {
    step: ResetStep,
    token: &'a str,
    problem: Option<String>,
    new_error: Option<String>,
}

fn page(
    s: &PageState,
    ctx: &Ctx,
    secure: bool,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, ApiError> {
    let csrf = random_token();
    let title = match shown.step {
        ResetStep::Choose | ResetStep::Dead => ctx.t("Nuova password", "New password"),
        _ => ctx.t("Password dimenticata", "Forgotten password"),
    };
    let page = ResetPage {
        l: ctx.layout(
            title,
            vec![
                Crumb::new(ctx.ui().home, "/"),
                Crumb::new(ctx.t("Accedi", "Sign in"), "/accedi"),
            ],
            Nav::Reserved,
        ),
        csrf: csrf.clone(),
        step: shown.step,
        available: s.app.site.public_url.is_some(),
        token: shown.token.to_string(),
        problem: shown.problem,
        new_error: shown.new_error,
    };
    let mut res = render(status, &page)?;
    set_login_csrf(&mut res, &csrf, secure);
    // The link's token is in this page's address: never kept by a cache.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

fn expired_form(ctx: &Ctx) -> Option<String> {
    Some(
        ctx.t(
            "Il modulo era scaduto: ripetere l'operazione.",
            "The form had expired: please try again.",
        )
        .to_string(),
    )
}

pub async fn ask_form(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Result<Response, ApiError> {
    let secure = s.app.net.is_secure(&headers, peer);
    let step = if ctx.param("inviata").is_some() {
        ResetStep::Sent
    } else {
        ResetStep::Ask
    };
    page(
        &s,
        &ctx,
        secure,
        StatusCode::OK,
        Shown {
            step,
            token: "",
            problem: None,
            new_error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct AskForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn ask(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
    Form(f): Form<AskForm>,
) -> Result<Response, ApiError> {
    let secure = s.app.net.is_secure(&headers, peer);
    let shown = |problem| Shown {
        step: ResetStep::Ask,
        token: "",
        problem,
        new_error: None,
    };
    if !login_csrf_ok(&headers, &f.csrf) {
        return page(
            &s,
            &ctx,
            secure,
            StatusCode::FORBIDDEN,
            shown(expired_form(&ctx)),
        );
    }
    let Some(base) = s.app.site.public_url.clone() else {
        return page(&s, &ctx, secure, StatusCode::OK, shown(None));
    };
    let address = s.app.net.client_address(&headers, peer);
    let email: String = f.email.trim().chars().take(254).collect();
    match s
        .app
        .app
        .request_password_reset(&email, &address, &base)
        .await
    {
        Ok(()) => Ok(see_other("/accedi/password-dimenticata?inviata=1")),
        Err(e @ AppError::Throttled { .. }) => {
            let status = ApiError::from(e.clone()).status;
            page(
                &s,
                &ctx,
                secure,
                status,
                shown(Some(e.text().get(ctx.locale).to_string())),
            )
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn choose_form(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Result<Response, ApiError> {
    let secure = s.app.net.is_secure(&headers, peer);
    let token = ctx.param("token").unwrap_or("").to_string();
    let (status, step) = match s.app.app.password_reset_is_live(&token).await? {
        true => (StatusCode::OK, ResetStep::Choose),
        false => (StatusCode::GONE, ResetStep::Dead),
    };
    page(
        &s,
        &ctx,
        secure,
        status,
        Shown {
            step,
            token: &token,
            problem: None,
            new_error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

pub async fn choose(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
    Form(f): Form<ChooseForm>,
) -> Result<Response, ApiError> {
    let secure = s.app.net.is_secure(&headers, peer);
    let token: String = f.token.chars().take(64).collect();
    let choose = |status, problem, new_error| {
        page(
            &s,
            &ctx,
            secure,
            status,
            Shown {
                step: ResetStep::Choose,
                token: &token,
                problem,
                new_error,
            },
        )
    };
    if !login_csrf_ok(&headers, &f.csrf) {
        return choose(StatusCode::FORBIDDEN, expired_form(&ctx), None);
    }
    if f.new != f.repeat {
        let e = ctx.t(
            "Le due password non coincidono.",
            "The two passwords differ.",
        );
        return choose(StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.to_string()));
    }
    let new: String = f.new.chars().take(1024).collect();
    match s.app.app.reset_password_with_link(&token, &new).await {
        Ok(_) => Ok(see_other("/accedi?reimpostata=1")),
        Err(AppError::InvalidAccount(p)) => {
            let e = p.password.map(|t| t.get(ctx.locale).to_string());
            choose(StatusCode::UNPROCESSABLE_ENTITY, None, e)
        }
        Err(AppError::IdentityRefused(_)) => page(
            &s,
            &ctx,
            secure,
            StatusCode::GONE,
            Shown {
                step: ResetStep::Dead,
                token: "",
                problem: None,
                new_error: None,
            },
        ),
        Err(e) => Err(e.into()),
    }
}
