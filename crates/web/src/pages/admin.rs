//! The officials' pages (`/amministrazione`, role admin): import and publish a call from
//! its TOML file, edit it until it opens or has applications, see its applications in
//! protocol order (exports in [`super::export`]), and manage the accounts.

use askama::Template;
use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::allocation::Status;
use bandi_domain::call::{Call, CallState};
use bandi_domain::i18n::Locale;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::{ImportedCall, Role, Session, StoreError, StoredApplication};
use jiff::Timestamp;
use serde::Deserialize;

use super::account::{PageResult, Signed, check_csrf, csrf_refused, require, see_other};
use super::applicant::status_class;
use super::calls::{CallView, precise_local};
use super::i18n::{state_label, status_label};
use super::{Crumb, Ctx, Layout, Nav, PageState, encode, render};
use crate::auth::tokens_match;
use crate::{ApiError, accounts};

fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

fn crumbs(ctx: &Ctx) -> Vec<Crumb> {
    vec![
        Crumb::new(ctx.ui().home, "/"),
        Crumb::new(
            ctx.t("Amministrazione", "Administration"),
            "/amministrazione",
        ),
    ]
}

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
        .store
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
    require(&session, Role::Admin)?;
    Ok(calls_page(&s, &ctx, &session, StatusCode::OK, String::new(), None).await?)
}

/// Imports a call from the text area or the uploaded file (which wins when given).
pub async fn import(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    mut multipart: Multipart,
) -> PageResult {
    require(&session, Role::Admin)?;
    let mut csrf = String::new();
    let mut typed = String::new();
    let mut file: Option<Vec<u8>> = None;
    let bad_form = || {
        ApiError::bad_request(
            "invalid_form",
            "Il modulo inviato non è leggibile.",
            "The form sent cannot be read.",
        )
    };
    for _ in 0..10 {
        let Some(field) = multipart.next_field().await.map_err(|_| bad_form())? else {
            break;
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|_| bad_form())?,
            "toml" => typed = field.text().await.map_err(|_| bad_form())?,
            "file" => {
                let bytes = field.bytes().await.map_err(|_| bad_form())?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    if !tokens_match(&session.csrf_token, &csrf) {
        return Err(csrf_refused().into());
    }
    let text = match file {
        Some(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                let problem = ImportProblem {
                    place: None,
                    message: ctx
                        .t(
                            "Il file non è testo UTF-8: salvarlo come testo (TOML, UTF-8) e riprovare.",
                            "The file is not UTF-8 text: save it as text (TOML, UTF-8) and try again.",
                        )
                        .to_string(),
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
        },
        None => typed,
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
                message: e.message,
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
    let refuse = |message: String| ImportProblem {
        place: None,
        message,
    };
    if let Some(existing) = s.app.store.call(call.code.as_str()).await?
        && existing.call != call
        && existing.call.state_at(now()) != CallState::Upcoming
    {
        let problem = refuse(if en {
            format!(
                "The call {} has opened: its rules can no longer change.",
                call.code
            )
        } else {
            format!(
                "Il bando {} è già aperto: le sue regole non possono più cambiare.",
                call.code
            )
        });
        return Ok(calls_page(
            &s,
            &ctx,
            &session,
            StatusCode::CONFLICT,
            text,
            Some(problem),
        )
        .await?);
    }
    match s.app.store.import_call(&call).await {
        Ok(outcome) => {
            let what = match outcome {
                ImportedCall::Created => "pubblicato",
                ImportedCall::Replaced => "modificato",
                ImportedCall::Unchanged => "invariato",
            };
            tracing::info!(call = %call.code, user = %session.user.id, outcome = ?outcome, "call imported from the web");
            Ok(see_other(&format!(
                "/amministrazione/bandi/{}?esito={what}",
                encode(call.code.as_str())
            )))
        }
        Err(StoreError::Conflict(_)) => {
            let problem = refuse(if en {
                format!(
                    "The call {} already has applications: its rules can no longer change.",
                    call.code
                )
            } else {
                format!(
                    "Il bando {} ha già domande: le sue regole non possono più cambiare.",
                    call.code
                )
            });
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
        Err(e) => Err(e.into()),
    }
}

pub(crate) struct AdminApplicationRow {
    pub seq: u64,
    pub protocol: String,
    pub entity: String,
    pub entity_code: String,
    pub received: String,
    pub title: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

pub(crate) struct FilterOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "admin_call.html")]
struct CallPage {
    l: Layout,
    c: CallView,
    csrf: String,
    rows: Vec<AdminApplicationRow>,
    filters: Vec<FilterOption>,
    filtered: bool,
    outcome: Option<&'static str>,
    editable: bool,
    csv_href: String,
    xlsx_href: String,
}

const STATUSES: [Status; 6] = [
    Status::Reserved,
    Status::Partial,
    Status::Waitlisted,
    Status::Withdrawn,
    Status::Rejected,
    Status::Revoked,
];

/// The status filter of the list and of the exports (`?stato=`), if any.
pub(crate) fn status_filter(ctx: &Ctx) -> Option<Status> {
    ctx.param("stato").and_then(Status::parse)
}

/// A call's applications in protocol order, each with its entity's name.
pub(crate) async fn applications(
    s: &PageState,
    code: &str,
    filter: Option<Status>,
) -> Result<Vec<(StoredApplication, String)>, ApiError> {
    let names: std::collections::HashMap<u64, String> = s
        .app
        .store
        .ranking(code)
        .await?
        .into_iter()
        .map(|r| (r.seq, r.entity_name))
        .collect();
    Ok(s.app
        .store
        .call_applications(code)
        .await?
        .into_iter()
        .filter(|a| filter.is_none_or(|f| a.status == f))
        .map(|a| {
            let name = names
                .get(&a.receipt.seq)
                .cloned()
                .unwrap_or_else(|| a.receipt.entity.clone());
            (a, name)
        })
        .collect())
}

/// The call in the path, for officials: a missing one is «no such call».
pub(crate) async fn load_call(
    s: &PageState,
    code: Result<Path<String>, PathRejection>,
) -> Result<bandi_store::StoredCall, ApiError> {
    let Ok(Path(code)) = code else {
        return Err(ApiError::call_not_found());
    };
    if bandi_domain::call::CallCode::parse(&code).is_err() {
        return Err(ApiError::call_not_found());
    }
    s.app
        .store
        .call(&code)
        .await?
        .ok_or_else(ApiError::call_not_found)
}

fn outcome_text(v: &str, locale: Locale) -> Option<&'static str> {
    let it = locale == Locale::It;
    Some(match v {
        "pubblicato" if it => "Bando pubblicato.",
        "pubblicato" => "Call published.",
        "modificato" if it => "Bando modificato: la nuova versione è pubblicata nel registro.",
        "modificato" => "Call changed: the new version is published in the ledger.",
        "invariato" if it => "Il file è identico al bando pubblicato: nessuna modifica.",
        "invariato" => "The file is the same as the published call: nothing changed.",
        _ => return None,
    })
}

pub async fn call(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    code: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Admin)?;
    let stored = load_call(&s, code).await?;
    let locale = ctx.locale;
    let filter = status_filter(&ctx);
    let call = &stored.call;
    let code = call.code.to_string();
    let rows = applications(&s, &code, filter)
        .await?
        .into_iter()
        .map(|(a, entity)| {
            let r = &a.receipt;
            AdminApplicationRow {
                seq: r.seq,
                protocol: r.protocol.clone(),
                entity,
                entity_code: r.entity.clone(),
                received: precise_local(call, &r.received_at, locale),
                title: a.content.title.clone(),
                requested: r.requested_cents.to_string(),
                reserved: a.reserved.to_string(),
                status: status_label(a.status.as_str(), locale),
                status_class: status_class(a.status.as_str()),
            }
        })
        .collect();
    let query = match filter {
        Some(f) => format!("?stato={}", f.as_str()),
        None => String::new(),
    };
    let view = CallView::of(&stored, now(), locale);
    let page = CallPage {
        l: ctx
            .layout(view.title.clone(), crumbs(&ctx), Nav::Admin)
            .signed(&session),
        csrf: session.csrf_token.clone(),
        rows,
        filters: STATUSES
            .iter()
            .map(|st| FilterOption {
                value: st.as_str(),
                label: status_label(st.as_str(), locale),
                selected: filter == Some(*st),
            })
            .collect(),
        filtered: filter.is_some(),
        outcome: ctx.param("esito").and_then(|v| outcome_text(v, locale)),
        editable: call.state_at(now()) == CallState::Upcoming && stored.applications == 0,
        csv_href: format!(
            "/amministrazione/bandi/{}/domande.csv{query}",
            encode(&code)
        ),
        xlsx_href: format!(
            "/amministrazione/bandi/{}/domande.xlsx{query}",
            encode(&code)
        ),
        c: view,
    };
    Ok(render(StatusCode::OK, &page)?)
}

pub(crate) struct UserRow {
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub entities: Vec<String>,
    pub bind_action: String,
    pub bind_id: String,
}

/// The form that creates an account, as typed, with its problems.
#[derive(Default)]
pub(crate) struct NewUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub entities: String,
    pub email_error: Option<String>,
    pub name_error: Option<String>,
    pub role_error: Option<String>,
    pub password_error: Option<String>,
    pub entities_error: Option<String>,
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
}

pub(crate) fn role_label(role: Role, locale: Locale) -> &'static str {
    match (role, locale) {
        (Role::Admin, Locale::It) => "Ufficio regionale",
        (Role::Admin, Locale::En) => "Regional office",
        (Role::Applicant, Locale::It) => "Ente locale",
        (Role::Applicant, Locale::En) => "Local authority",
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
    for u in s.app.store.users().await? {
        let mut entities = Vec::new();
        for code in &u.entities {
            let name = s.app.store.entity(code).await?.map(|e| e.name);
            entities.push(match name {
                Some(n) => format!("{n} ({code})"),
                None => code.clone(),
            });
        }
        users.push(UserRow {
            bind_action: format!("/amministrazione/utenti/{}/enti", encode(&u.id)),
            bind_id: format!("bind-{}", u.id),
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
}

pub async fn create_user(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    Form(f): Form<NewUserForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let codes = accounts::entity_codes(&f.entities);
    let created = accounts::create(
        &s.app.store,
        &f.email,
        &f.name,
        &f.role,
        &f.password,
        &codes,
    )
    .await?;
    let user = match created {
        Ok(user) => user,
        Err(p) => {
            let text =
                |t: Option<bandi_domain::i18n::Text>| t.map(|t| t.get(ctx.locale).to_string());
            let new = NewUser {
                email: f.email.trim().to_string(),
                name: f.name.trim().to_string(),
                role: f.role.clone(),
                entities: f.entities.clone(),
                email_error: text(p.email),
                name_error: text(p.name),
                role_error: text(p.role),
                password_error: text(p.password),
                entities_error: text(p.entities),
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
    };
    tracing::info!(user = %user.id, by = %session.user.id, role = user.role.as_str(), "account created");
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
    let user = s
        .app
        .store
        .user(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let code = f.entity.trim();
    if code.is_empty() || code.len() > 40 || s.app.store.entity(code).await?.is_none() {
        let problem = if ctx.en() {
            format!("No body with code «{code}»: nothing changed.")
        } else {
            format!("Nessun ente con codice «{code}»: nulla è cambiato.")
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
    s.app.store.bind_entity(&user.id, code).await?;
    tracing::info!(user = %user.id, by = %session.user.id, entity = code, "entity bound");
    Ok(see_other(&format!(
        "/amministrazione/utenti?associato={}",
        encode(code)
    )))
}
