//! `/profilo/password`: a signed-in person changes their own password, giving the current
//! one (officials and applicants alike).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use bandi_app::AppError;
use serde::Deserialize;

use super::account::{PageResult, Signed, check_csrf, see_other};
use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    l: Layout,
    csrf: String,
    done: bool,
    current_error: Option<String>,
    new_error: Option<String>,
}

fn page(
    ctx: &Ctx,
    session: &bandi_store::Session,
    status: StatusCode,
    current_error: Option<String>,
    new_error: Option<String>,
) -> Result<axum::response::Response, ApiError> {
    let page = PasswordPage {
        l: ctx
            .layout(
                ctx.t("Cambia la password", "Change the password"),
                vec![Crumb::new(ctx.ui().home, "/")],
                Nav::None,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        done: ctx.param("fatto").is_some(),
        current_error,
        new_error,
    };
    render(status, &page)
}

pub async fn password_form(ctx: Ctx, Signed(session): Signed) -> PageResult {
    Ok(page(&ctx, &session, StatusCode::OK, None, None)?)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

pub async fn change_password(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf)?;
    if f.new != f.repeat {
        let e = ctx.t(
            "Le due nuove password non coincidono.",
            "The two new passwords differ.",
        );
        return Ok(page(
            &ctx,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(e.to_string()),
        )?);
    }
    match s
        .app
        .app
        .change_own_password(&session.user, &session.csrf_token, &f.current, &f.new)
        .await
    {
        Ok(()) => Ok(see_other("/profilo/password?fatto=1")),
        Err(AppError::WrongCredentials) => {
            let e = ctx.t(
                "La password attuale non è corretta. Nulla è cambiato.",
                "The current password is not correct. Nothing changed.",
            );
            Ok(page(
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.to_string()),
                None,
            )?)
        }
        Err(AppError::InvalidAccount(p)) => {
            let e = p.password.map(|t| t.get(ctx.locale).to_string());
            Ok(page(
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                e,
            )?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
