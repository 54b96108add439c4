//! The accounts and the entities they act for.

use askama::Template;
use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::i18n::Locale;
use bandi_store::{Role, Session};
use serde::Deserialize;

use super::*;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require, see_other};
use crate::pages::{Ctx, Layout, Nav, PageState, encode, render};
use bandi_app::accounts::NewAccount;
use bandi_app::{Actor, AppError};

pub(crate) struct UserRow {
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub entities: Vec<String>,
    pub bind_action: String,
    pub bind_id: String,
    /// Disabled: it cannot sign in.
    pub disabled: bool,
    pub state_action: String,
    /// The admin looking at the page: their own account cannot be disabled here.
    pub is_me: bool,
    /// Signs in with SPID/CIE as this fiscal code.
    pub fiscal_code: Option<String>,
}

/// The form that creates an account, as typed, with its problems.
#[derive(Default)]
pub(crate) struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub entities: String,
    pub fiscal_code: String,
    pub email_error: Option<String>,
    pub name_error: Option<String>,
    pub role_error: Option<String>,
    pub password_error: Option<String>,
    pub entities_error: Option<String>,
    pub fiscal_code_error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    csrf: String,
    users: Vec<UserRow>,
    new: NewUser,
    message: Option<String>,
    problem: Option<String>,
    /// "Comune di Cervia (039007)" for every entity: the list the entity fields offer, so
    /// that an official picks a body by name.
    entity_options: Vec<String>,
}

pub(crate) fn role_label(role: Role, locale: Locale) -> &'static str {
    match locale {
        Locale::It => role.label_it(),
        Locale::En => role.label_en(),
    }
}

async fn users_page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    new: NewUser,
    problem: Option<String>,
) -> Result<Response, ApiError> {
    let mut users = Vec::new();
    for u in s.app.store().users().await? {
        let mut entities = Vec::new();
        for code in &u.entities {
            let name = s.app.store().entity(code).await?.map(|e| e.name);
            entities.push(match name {
                Some(n) => format!("{n} ({code})"),
                None => code.clone(),
            });
        }
        users.push(UserRow {
            bind_action: format!("/amministrazione/utenti/{}/enti", encode(&u.id)),
            bind_id: format!("bind-{}", u.id),
            disabled: u.disabled,
            state_action: format!("/amministrazione/utenti/{}/stato", encode(&u.id)),
            is_me: u.id == session.user.id,
            fiscal_code: u.fiscal_code.map(|c| c.to_string()),
            email: u.email,
            name: u.name,
            role: role_label(u.role, ctx.locale),
            entities,
        });
    }
    let message = ctx.param("creato").map(|e| {
        if ctx.en() {
            format!("Account {e} created.")
        } else {
            format!("Account {e} creato.")
        }
    });
    let message = message.or_else(|| {
        ctx.param("disattivato").map(|e| {
            if ctx.en() {
                format!("Account {e} disabled: it can no longer sign in.")
            } else {
                format!("Account {e} disattivato: non può più accedere.")
            }
        })
    });
    let message = message.or_else(|| {
        ctx.param("riattivato").map(|e| {
            if ctx.en() {
                format!("Account {e} enabled again.")
            } else {
                format!("Account {e} riattivato.")
            }
        })
    });
    let message = message.or_else(|| {
        ctx.param("associato").map(|e| {
            if ctx.en() {
                format!("Body {e} associated.")
            } else {
                format!("Ente {e} associato.")
            }
        })
    });
    let page = UsersPage {
        l: ctx
            .layout(ctx.t("Utenti", "Users"), crumbs(ctx), Nav::Admin)
            .signed(session),
        csrf: session.csrf_token.clone(),
        users,
        new,
        message,
        problem,
        entity_options: s
            .app
            .store()
            .entity_names()
            .await?
            .into_iter()
            .map(|(code, name)| format!("{name} ({code})"))
            .collect(),
    };
    render(status, &page)
}

pub async fn users(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Admin)?;
    let new = NewUser {
        role: "applicant".into(),
        ..NewUser::default()
    };
    Ok(users_page(&s, &ctx, &session, StatusCode::OK, new, None).await?)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    entities: String,
    #[serde(default)]
    fiscal_code: String,
}

/// The entities typed in the new account's field, separated by commas: each a name, a
/// code or "Name (code)"; what matches nothing is kept as typed, for the use case to name.
async fn entity_codes_by_name(s: &PageState, typed: &str) -> Result<Vec<String>, ApiError> {
    let mut codes = Vec::new();
    // Names hold spaces: only commas, semicolons and lines separate them.
    for piece in typed
        .split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let found = s.app.app.find_entity(piece).await.map_err(ApiError::from)?;
        codes.push(found.unwrap_or_else(|| piece.to_string()));
    }
    Ok(codes)
}

pub async fn create_user(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    Form(f): Form<NewUserForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let new = NewAccount {
        email: f.email.clone(),
        name: f.name.clone(),
        role: Role::parse(f.role.trim()),
        password: f.password.clone(),
        entities: entity_codes_by_name(&s, &f.entities).await?,
        fiscal_code: f.fiscal_code.clone(),
    };
    let user = match s
        .app
        .app
        .create_account(&Actor::User(session.user.clone()), new)
        .await
    {
        Ok(user) => user,
        Err(AppError::InvalidAccount(p)) => {
            let text =
                |t: Option<bandi_domain::i18n::Text>| t.map(|t| t.get(ctx.locale).to_string());
            let new = NewUser {
                email: f.email.trim().to_string(),
                name: f.name.trim().to_string(),
                role: f.role.clone(),
                entities: f.entities.clone(),
                fiscal_code: f.fiscal_code.trim().to_string(),
                email_error: text(p.email),
                name_error: text(p.name),
                role_error: text(p.role),
                password_error: text(p.password),
                entities_error: text(p.entities),
                fiscal_code_error: text(p.fiscal_code),
            };
            return Ok(users_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                new,
                None,
            )
            .await?);
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    Ok(see_other(&format!(
        "/amministrazione/utenti?creato={}",
        encode(&user.email)
    )))
}

#[derive(Deserialize)]
pub struct BindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    entity: String,
}

pub async fn bind(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
    Form(f): Form<BindForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    if id.len() > 64 {
        return Err(ApiError::not_found().into());
    }
    let typed = f.entity.trim();
    let code = s
        .app
        .app
        .find_entity(typed)
        .await
        .map_err(ApiError::from)?
        .unwrap_or_else(|| typed.to_string());
    let code = code.as_str();
    let actor = Actor::User(session.user.clone());
    match s.app.app.bind_entity(&actor, &id, code).await {
        Ok(_) => {}
        Err(AppError::InvalidAccount(_)) => {
            let problem = if ctx.en() {
                format!("No body is «{typed}»: pick it from the list by its name. Nothing changed.")
            } else {
                format!(
                    "Nessun ente corrisponde a «{typed}»: sceglierlo dall'elenco per nome. Nulla è cambiato."
                )
            };
            let new = NewUser {
                role: "applicant".into(),
                ..NewUser::default()
            };
            return Ok(users_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                new,
                Some(problem),
            )
            .await?);
        }
        Err(e) => return Err(ApiError::from(e).into()),
    }
    Ok(see_other(&format!(
        "/amministrazione/utenti?associato={}",
        encode(code)
    )))
}

#[derive(Deserialize)]
pub struct StateForm {
    #[serde(default)]
    csrf: String,
    /// `1` disables, `0` enables.
    #[serde(default)]
    disabled: String,
}

/// Disables an account or enables it again.
pub async fn set_state(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
    Form(f): Form<StateForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    let disabled = match f.disabled.as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(ApiError::bad_request(
                "bad_form",
                "Operazione sconosciuta. Nessun dato è stato modificato.",
                "Unknown operation. Nothing was changed.",
            )
            .into());
        }
    };
    let actor = Actor::User(session.user.clone());
    match s.app.app.set_account_disabled(&actor, &id, disabled).await {
        Ok(user) => Ok(see_other(&format!(
            "/amministrazione/utenti?{}={}",
            if disabled {
                "disattivato"
            } else {
                "riattivato"
            },
            encode(&user.email)
        ))),
        Err(e @ AppError::OwnAccount) => {
            let problem = e.text().get(ctx.locale).to_string();
            let new = NewUser {
                role: "applicant".into(),
                ..NewUser::default()
            };
            Ok(users_page(&s, &ctx, &session, StatusCode::CONFLICT, new, Some(problem)).await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
