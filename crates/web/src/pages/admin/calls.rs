//! The list of calls and the import of a call file.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::{Actor, AppError};
use bandi_domain::call::Call;
use bandi_store::{ImportedCall, Role, Session};

use super::*;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, require, require_official, see_other};
use crate::pages::i18n::state_label;
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct AdminCallRow {
    pub title: String,
    pub code: String,
    pub href: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub opens: String,
    pub applications: i64,
}

/// What is wrong with an imported call file: where, and what.
pub(crate) struct ImportProblem {
    pub place: Option<String>,
    pub message: String,
}

#[derive(Template)]
#[template(path = "admin_calls.html")]
struct CallsPage {
    l: Layout,
    csrf: String,
    calls: Vec<AdminCallRow>,
    toml: String,
    problem: Option<ImportProblem>,
}

async fn calls_page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    toml: String,
    problem: Option<ImportProblem>,
) -> Result<Response, ApiError> {
    let now = now();
    let calls = s
        .app
        .store()
        .calls()
        .await?
        .into_iter()
        .map(|c| {
            let state = c.call.state_at(now);
            AdminCallRow {
                title: c.call.title.get(ctx.locale).to_string(),
                href: format!("/amministrazione/bandi/{}", encode(c.call.code.as_str())),
                code: c.call.code.to_string(),
                state: state.as_str(),
                state_label: state_label(state, ctx.locale),
                opens: c.call.local_time(c.call.opens_at),
                applications: c.applications,
            }
        })
        .collect();
    let page = CallsPage {
        l: ctx
            .layout(
                ctx.t("Amministrazione dei bandi", "Administration of the calls"),
                vec![Crumb::new(ctx.ui().home, "/")],
                Nav::Admin,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        calls,
        toml,
        problem,
    };
    render(status, &page)
}

pub async fn calls(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require_official(&session)?;
    Ok(calls_page(&s, &ctx, &session, StatusCode::OK, String::new(), None).await?)
}

/// Imports a call from the text area or the uploaded file (which wins when given).
pub async fn import(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    multipart: Multipart,
) -> PageResult {
    require(&session, Role::Admin)?;
    let text = match read_toml_form(&session, multipart).await? {
        Ok(text) => text,
        Err(typed) => {
            let problem = ImportProblem {
                place: None,
                message: not_utf8(&ctx).to_string(),
            };
            return Ok(calls_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                Some(problem),
            )
            .await?);
        }
    };
    let en = ctx.en();
    let call = match Call::from_toml(&text) {
        Ok(c) => c,
        Err(e) => {
            let place = match (e.line, &e.key) {
                (Some(l), Some(k)) if en => Some(format!("line {l}, key «{k}»")),
                (Some(l), Some(k)) => Some(format!("riga {l}, chiave «{k}»")),
                (Some(l), None) if en => Some(format!("line {l}")),
                (Some(l), None) => Some(format!("riga {l}")),
                (None, Some(k)) if en => Some(format!("key «{k}»")),
                (None, Some(k)) => Some(format!("chiave «{k}»")),
                (None, None) => None,
            };
            let problem = ImportProblem {
                place,
                message: if en {
                    e.message.clone()
                } else {
                    e.message_it().to_string()
                },
            };
            return Ok(calls_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                text,
                Some(problem),
            )
            .await?);
        }
    };
    match publish(&s, &ctx, &session, &call).await? {
        Ok(done) => Ok(done),
        Err(refusal) => {
            let problem = ImportProblem {
                place: None,
                message: refusal,
            };
            Ok(calls_page(
                &s,
                &ctx,
                &session,
                StatusCode::CONFLICT,
                text,
                Some(problem),
            )
            .await?)
        }
    }
}

/// Publishes (or changes) `call` through the import's use case, from the file or the
/// form: on to the call's page with the outcome, or the refusal to show beside what was
/// sent (the call opened, has applications, or another holds its protocol prefix).
pub(crate) async fn publish(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    call: &Call,
) -> Result<Result<Response, String>, ApiError> {
    let actor = Actor::User(session.user.clone());
    match s.app.app.import_call(&actor, call).await {
        Ok(outcome) => {
            let what = match outcome {
                ImportedCall::Created => "pubblicato",
                ImportedCall::Replaced => "modificato",
                ImportedCall::Unchanged => "invariato",
            };
            Ok(Ok(see_other(&format!(
                "/amministrazione/bandi/{}?esito={what}",
                encode(call.code.as_str())
            ))))
        }
        Err(
            e @ (AppError::CallOpened { .. }
            | AppError::CallHasApplications { .. }
            | AppError::ProtocolPrefixTaken { .. }),
        ) => Ok(Err(e.text().get(ctx.locale).to_string())),
        Err(e) => Err(e.into()),
    }
}
