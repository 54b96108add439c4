//! The applicants' reserved area: a dashboard per entity, the application form with its
//! draft, the one-click submission on the click day, and the receipt.
//!
//! Ownership is checked on every request: an entity the person does not act for, and
//! anything of it (draft, application), answers the same 404 as something that does not
//! exist.

use askama::Template;
use axum::Form;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::application::ApplicationContent;
use bandi_domain::call::{Call, CallState};
use bandi_domain::entity::Entity;
use bandi_domain::instant::{format_utc, truncate_to_micros};
use bandi_store::intake::{Accepted, IntakeError, Submission};
use bandi_store::{Receipt, Role, Session, StoredApplication, StoredCall};
use jiff::Timestamp;

use super::account::{PageError, PageResult, Signed, check_csrf, require, see_other};
use super::calls::precise_local;
use super::form::{FormInput, FormView};
use super::i18n::{state_label, status_label};
use super::{Crumb, Ctx, Layout, Nav, PageState, encode, render};
use crate::ApiError;
use crate::auth::random_token;

fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "reserved" => "status-reserved",
        "partial" => "status-partial",
        "waitlisted" => "status-waitlisted",
        _ => "status-other",
    }
}

/// `03/04/2020 09:30:00` in the call's time zone.
fn local_seconds(call: &Call, t: Timestamp) -> String {
    t.to_zoned_datetime(call.tz())
        .strftime("%d/%m/%Y %H:%M:%S")
        .to_string()
}

/// The entity the person acts for, or 404 for any other, existing or not.
async fn own_entity(s: &PageState, session: &Session, code: &str) -> Result<Entity, ApiError> {
    if !session.user.acts_for(code) {
        return Err(ApiError::not_found());
    }
    s.app
        .store
        .entity(code)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn load_call(s: &PageState, code: &str) -> Result<StoredCall, ApiError> {
    if bandi_domain::call::CallCode::parse(code).is_err() {
        return Err(ApiError::not_found());
    }
    s.app
        .store
        .call(code)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn form_href(entity: &str, call: &str) -> String {
    format!(
        "/area-riservata/domanda/{}/{}",
        encode(entity),
        encode(call)
    )
}

fn receipt_href(id: &str) -> String {
    format!("/area-riservata/ricevuta/{}", encode(id))
}

pub(crate) struct EntityTab {
    pub name: String,
    pub href: String,
    pub current: bool,
}

pub(crate) struct ApplicationRow {
    pub protocol: String,
    pub href: String,
    pub call_title: String,
    pub received: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

pub(crate) struct CallOption {
    pub title: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub opens: String,
    pub closes: String,
    pub time_zone: String,
    pub href: String,
    pub has_draft: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    tabs: Vec<EntityTab>,
    entity_code: String,
    applications: Vec<ApplicationRow>,
    calls: Vec<CallOption>,
    no_entity: bool,
}

pub async fn dashboard(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
) -> PageResult {
    if session.user.role == Role::Admin {
        return Ok(see_other("/amministrazione"));
    }
    require(&session, Role::Applicant)?;
    let user = &session.user;
    let title = ctx.t("Area riservata", "Reserved area");
    let crumbs = vec![Crumb::new(ctx.ui().home, "/")];
    let Some(first) = user.entities.first() else {
        let page = DashboardPage {
            l: ctx.layout(title, crumbs, Nav::Reserved).signed(&session),
            tabs: Vec::new(),
            entity_code: String::new(),
            applications: Vec::new(),
            calls: Vec::new(),
            no_entity: true,
        };
        return Ok(render(StatusCode::OK, &page)?);
    };
    let code = ctx.param("ente").unwrap_or(first).to_string();
    let entity = own_entity(&s, &session, &code).await?;
    let mut tabs = Vec::new();
    if user.entities.len() > 1 {
        for e in &user.entities {
            let name = match s.app.store.entity(e).await? {
                Some(x) => x.name,
                None => e.clone(),
            };
            tabs.push(EntityTab {
                name,
                href: format!("/area-riservata?ente={}", encode(e)),
                current: *e == code,
            });
        }
    }
    let locale = ctx.locale;
    let now = now();
    let calls = s.app.store.calls().await?;
    let title_of = |call_code: &str| {
        calls
            .iter()
            .find(|c| c.call.code.as_str() == call_code)
            .map(|c| c.call.title.get(locale).to_string())
            .unwrap_or_else(|| call_code.to_string())
    };
    let applications = s.app.store.entity_applications(&code).await?;
    let rows = applications
        .iter()
        .map(|a| {
            let r = &a.receipt;
            let received = calls
                .iter()
                .find(|c| c.call.code.as_str() == r.call)
                .map(|c| precise_local(&c.call, &r.received_at, locale))
                .unwrap_or_else(|| r.received_at.clone());
            ApplicationRow {
                protocol: r.protocol.clone(),
                href: receipt_href(&r.id),
                call_title: title_of(&r.call),
                received,
                requested: r.requested_cents.to_string(),
                reserved: a.reserved.to_string(),
                status: status_label(a.status.as_str(), locale),
                status_class: status_class(a.status.as_str()),
            }
        })
        .collect();
    let mut options = Vec::new();
    for c in &calls {
        let call = &c.call;
        let state = call.state_at(now);
        if state == CallState::Closed || call.check_eligible(&entity).is_err() {
            continue;
        }
        let made = applications
            .iter()
            .filter(|a| a.receipt.call == call.code.as_str())
            .count();
        let limit = call.applications_per_entity as usize;
        if limit > 0 && made >= limit {
            continue;
        }
        options.push(CallOption {
            title: call.title.get(locale).to_string(),
            state: state.as_str(),
            state_label: state_label(state, locale),
            opens: call.local_time(call.opens_at),
            closes: call.local_time(call.closes_at),
            time_zone: call.time_zone.clone(),
            href: form_href(&code, call.code.as_str()),
            has_draft: s
                .app
                .store
                .draft(&code, call.code.as_str())
                .await?
                .is_some(),
        });
    }
    let page = DashboardPage {
        l: ctx
            .layout(format!("{title}: {}", entity.name), crumbs, Nav::Reserved)
            .signed(&session),
        tabs,
        entity_code: code,
        applications: rows,
        calls: options,
        no_entity: false,
    };
    Ok(render(StatusCode::OK, &page)?)
}

/// A message above the form.
pub(crate) struct Alert {
    /// Bootstrap's alert kind: `success`, `info`, `warning`, `danger`.
    pub kind: &'static str,
    pub title: String,
    pub lines: Vec<String>,
    pub link: Option<(String, String)>,
}

pub(crate) struct CategoryOption {
    pub code: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "application_form.html")]
struct FormPage {
    l: Layout,
    action: String,
    csrf: String,
    nonce: String,
    entity_name: String,
    call_title: String,
    call_href: String,
    state: &'static str,
    state_label: &'static str,
    opens: String,
    closes: String,
    time_zone: String,
    server_time: String,
    categories: Vec<CategoryOption>,
    f: FormView,
    alert: Option<Alert>,
    total: String,
    eligible: Option<String>,
    requested: Option<String>,
    rate: String,
    max_grant: Option<String>,
    can_submit: bool,
}

struct FormCtx<'a> {
    ctx: &'a Ctx,
    session: &'a Session,
    entity: &'a Entity,
    stored: &'a StoredCall,
}

impl FormCtx<'_> {
    /// The form page with `input`; `checked` when the person saved or submitted it, so
    /// that its problems show.
    fn page(
        &self,
        status: StatusCode,
        input: &FormInput,
        checked: bool,
        alert: Option<Alert>,
        nonce: String,
    ) -> Result<Response, ApiError> {
        let call = &self.stored.call;
        let locale = self.ctx.locale;
        let result = input.check(call);
        let (errors, notices) = match (&result.valid, checked) {
            (Some(v), _) => (Vec::new(), v.notices.clone()),
            (None, true) => (result.errors.clone(), Vec::new()),
            (None, false) => (Vec::new(), Vec::new()),
        };
        let now = now();
        let state = call.state_at(now);
        let code = self.entity.code.as_str();
        let call_title = call.title.get(locale).to_string();
        let ui = self.ctx.ui();
        let page = FormPage {
            l: self
                .ctx
                .layout(
                    format!(
                        "{} – {}",
                        self.ctx.t("Domanda", "Application"),
                        self.entity.name
                    ),
                    vec![
                        Crumb::new(ui.home, "/"),
                        Crumb::new(
                            self.ctx.t("Area riservata", "Reserved area"),
                            format!("/area-riservata?ente={}", encode(code)),
                        ),
                    ],
                    Nav::Reserved,
                )
                .signed(self.session),
            action: form_href(code, call.code.as_str()),
            csrf: self.session.csrf_token.clone(),
            nonce,
            entity_name: self.entity.name.clone(),
            call_href: format!("/bandi/{}", call.code),
            call_title,
            state: state.as_str(),
            state_label: state_label(state, locale),
            opens: local_seconds(call, call.opens_at),
            closes: local_seconds(call, call.closes_at),
            time_zone: call.time_zone.clone(),
            server_time: local_seconds(call, now),
            categories: call
                .categories
                .iter()
                .map(|c| CategoryOption {
                    code: c.code.clone(),
                    label: if c.eligible {
                        c.label.get(locale).to_string()
                    } else {
                        format!("{} ({})", c.label.get(locale), ui.not_eligible)
                    },
                })
                .collect(),
            f: FormView::new(input, call, &errors, &notices, locale),
            alert,
            total: result.total.to_string(),
            eligible: result.valid.as_ref().map(|v| v.eligible_cost.to_string()),
            requested: result.valid.as_ref().map(|v| v.requested.to_string()),
            rate: call.rate.to_string(),
            max_grant: call.max_grant.map(|m| m.to_string()),
            can_submit: state != CallState::Closed,
        };
        render(status, &page)
    }
}

pub async fn form(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path((entity_code, call_code))) = path else {
        return Err(ApiError::not_found().into());
    };
    let entity = own_entity(&s, &session, &entity_code).await?;
    let stored = load_call(&s, &call_code).await?;
    if let Some(done) = limit_reached(&s, &entity_code, &stored.call).await? {
        return Ok(see_other(&receipt_href(&done.receipt.id)));
    }
    let input = match s.app.store.draft(&entity_code, &call_code).await? {
        Some(json) => FormInput::from_draft(&json),
        None => FormInput::default(),
    };
    let fc = FormCtx {
        ctx: &ctx,
        session: &session,
        entity: &entity,
        stored: &stored,
    };
    Ok(fc.page(StatusCode::OK, &input, false, None, random_token())?)
}

/// The entity's latest application to the call, when it may make no other.
async fn limit_reached(
    s: &PageState,
    entity: &str,
    call: &Call,
) -> Result<Option<StoredApplication>, ApiError> {
    let limit = call.applications_per_entity as usize;
    if limit == 0 {
        return Ok(None);
    }
    let mine: Vec<StoredApplication> = s
        .app
        .store
        .entity_applications(entity)
        .await?
        .into_iter()
        .filter(|a| a.receipt.call == call.code.as_str())
        .collect();
    Ok(if mine.len() >= limit {
        mine.into_iter().next()
    } else {
        None
    })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// Saves the draft, and with `action=submit` submits it: the click-day path is this one
/// request, with an Idempotency-Key made of the nonce the form was rendered with, so a
/// double click is one application.
pub async fn save(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path((entity_code, call_code))) = path else {
        return Err(ApiError::not_found().into());
    };
    let entity = own_entity(&s, &session, &entity_code).await?;
    let stored = load_call(&s, &call_code).await?;
    check_csrf(&session, field(&fields, "csrf"))?;
    let call = &stored.call;
    let input = FormInput::from_fields(&fields, call);
    let nonce = field(&fields, "nonce");
    let nonce = if nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        nonce.to_string()
    } else {
        random_token()
    };
    let submit = field(&fields, "action") == "submit";
    let en = ctx.en();
    let fc = FormCtx {
        ctx: &ctx,
        session: &session,
        entity: &entity,
        stored: &stored,
    };
    if let Some(done) = limit_reached(&s, &entity_code, call).await? {
        // Already applied: a repeated click of a submission that went through lands here
        // only if its receipt is not the one this form would get; show the one there is.
        let key = format!("web-{nonce}");
        let sha = input
            .check(call)
            .valid
            .map(|v| v.content.sha256_hex())
            .unwrap_or_default();
        let previous = s
            .app
            .intake
            .previous_receipt(call.code.as_str(), &entity_code, Some(&key), &sha)
            .await
            .map_err(ApiError::from)?;
        let id = previous.map(|r| r.id).unwrap_or(done.receipt.id);
        return Ok(see_other(&receipt_href(&id)));
    }
    s.app
        .store
        .save_draft(&entity_code, &call_code, &input.to_draft())
        .await?;
    let saved_at = local_seconds(call, now());
    if !submit {
        let alert = Alert {
            kind: "success",
            title: ctx.t("Bozza salvata", "Draft saved").to_string(),
            lines: vec![if en {
                format!(
                    "Saved at {saved_at} ({}). The amounts below are those of this draft.",
                    call.time_zone
                )
            } else {
                format!(
                    "Salvata alle {saved_at} ({}). Gli importi qui sotto sono quelli di questa bozza.",
                    call.time_zone
                )
            }],
            link: None,
        };
        return Ok(fc.page(StatusCode::OK, &input, true, Some(alert), nonce)?);
    }

    let checked = input.check(call);
    let Some(valid) = checked.valid else {
        let n = checked.errors.len();
        let alert = Alert {
            kind: "danger",
            title: if en {
                format!("The application was not submitted: {n} problem(s) to fix")
            } else if n == 1 {
                "La domanda non è stata presentata: un errore da correggere".to_string()
            } else {
                format!("La domanda non è stata presentata: {n} errori da correggere")
            },
            lines: vec![
                ctx.t(
                    "Ogni errore è indicato accanto al suo campo. La bozza è salvata.",
                    "Each problem is shown next to its field. The draft is saved.",
                )
                .to_string(),
            ],
            link: None,
        };
        return Ok(fc.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &input,
            true,
            Some(alert),
            nonce,
        )?);
    };
    if let Err(why) = call.check_eligible(&entity) {
        let alert = Alert {
            kind: "danger",
            title: ctx
                .t(
                    "Ente non ammesso a questo bando",
                    "Body not eligible for this call",
                )
                .to_string(),
            lines: vec![why.text().get(ctx.locale).to_string()],
            link: None,
        };
        return Ok(fc.page(StatusCode::FORBIDDEN, &input, true, Some(alert), nonce)?);
    }
    let key = format!("web-{nonce}");
    let now = now();
    let state = call.state_at(now);
    if state != CallState::Open {
        // A retry of a submission accepted in time still gets its receipt.
        let sha = valid.content.sha256_hex();
        let previous = s
            .app
            .intake
            .previous_receipt(call.code.as_str(), &entity_code, Some(&key), &sha)
            .await
            .map_err(ApiError::from)?;
        if let Some(r) = previous {
            return Ok(see_other(&receipt_href(&r.id)));
        }
        let alert = timing_alert(&ctx, call, state, now);
        return Ok(fc.page(StatusCode::FORBIDDEN, &input, true, Some(alert), nonce)?);
    }
    let outcome = s
        .app
        .intake
        .submit(Submission {
            call: call.code.to_string(),
            entity: entity_code.clone(),
            idempotency_key: Some(key),
            application: valid,
        })
        .await;
    match outcome {
        Ok(Accepted::Created(r)) => {
            s.app.store.delete_draft(&entity_code, &call_code).await?;
            tracing::info!(protocol = %r.protocol, user = %session.user.id, "application submitted from the form");
            Ok(see_other(&format!("{}?nuova=1", receipt_href(&r.id))))
        }
        Ok(Accepted::Replayed(r)) => {
            // A double click: the first request deleted the draft, this one saved it again.
            s.app.store.delete_draft(&entity_code, &call_code).await?;
            Ok(see_other(&receipt_href(&r.id)))
        }
        Err(IntakeError::NotOpenYet { server_time, .. }) => {
            let alert = timing_alert(&ctx, call, CallState::Upcoming, server_time);
            Ok(fc.page(StatusCode::FORBIDDEN, &input, true, Some(alert), nonce)?)
        }
        Err(IntakeError::Closed { server_time, .. }) => {
            let alert = timing_alert(&ctx, call, CallState::Closed, server_time);
            Ok(fc.page(StatusCode::FORBIDDEN, &input, true, Some(alert), nonce)?)
        }
        Err(IntakeError::AlreadyApplied { protocol })
        | Err(IntakeError::IdempotencyConflict { protocol }) => {
            let link = s
                .app
                .store
                .entity_applications(&entity_code)
                .await?
                .into_iter()
                .find(|a| a.receipt.protocol == protocol)
                .map(|a| {
                    (
                        receipt_href(&a.receipt.id),
                        ctx.t("Vedi la ricevuta", "See the receipt").to_string(),
                    )
                });
            let alert = Alert {
                kind: "warning",
                title: ctx
                    .t(
                        "L'ente ha già presentato una domanda a questo bando",
                        "This body already applied to this call",
                    )
                    .to_string(),
                lines: vec![format!("{}: {protocol}", ctx.t("Protocollo", "Protocol"))],
                link,
            };
            Ok(fc.page(StatusCode::CONFLICT, &input, true, Some(alert), nonce)?)
        }
        Err(IntakeError::Overloaded) | Err(IntakeError::Unavailable(_)) => {
            let alert = Alert {
                kind: "warning",
                title: ctx
                    .t(
                        "Servizio momentaneamente non disponibile",
                        "Service temporarily unavailable",
                    )
                    .to_string(),
                lines: vec![
                    ctx.t(
                        "La domanda non è stata registrata; la bozza è salvata. Premere di nuovo «Presenta la domanda» tra qualche secondo: non si rischia di presentarla due volte.",
                        "The application was not recorded; the draft is saved. Press «Submit the application» again in a few seconds: it cannot be submitted twice.",
                    )
                    .to_string(),
                ],
                link: None,
            };
            let mut res = fc.page(
                StatusCode::SERVICE_UNAVAILABLE,
                &input,
                true,
                Some(alert),
                nonce,
            )?;
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
            Ok(res)
        }
        Err(e) => Err(PageError::Api(e.into())),
    }
}

/// The call is not open: when it opens (or closed) and the server's time, both in the
/// call's time zone and in UTC.
fn timing_alert(ctx: &Ctx, call: &Call, state: CallState, server_time: Timestamp) -> Alert {
    let en = ctx.en();
    let tz = &call.time_zone;
    let server = format!(
        "{}: {} ({tz}) · {} UTC",
        ctx.t("Ora del server", "Server time"),
        local_seconds(call, server_time),
        format_utc(server_time)
    );
    let keep = ctx
        .t(
            "La domanda non è stata presentata; la bozza è salvata.",
            "The application was not submitted; the draft is saved.",
        )
        .to_string();
    match state {
        CallState::Upcoming => Alert {
            kind: "warning",
            title: ctx
                .t("Il bando non è ancora aperto", "The call is not open yet")
                .to_string(),
            lines: vec![
                if en {
                    format!("It opens at {} ({tz}).", local_seconds(call, call.opens_at))
                } else {
                    format!("Apre il {} ({tz}).", local_seconds(call, call.opens_at))
                },
                server,
                keep,
            ],
            link: None,
        },
        _ => Alert {
            kind: "danger",
            title: ctx.t("Il bando è chiuso", "The call is closed").to_string(),
            lines: vec![
                if en {
                    format!(
                        "It closed at {} ({tz}).",
                        local_seconds(call, call.closes_at)
                    )
                } else {
                    format!(
                        "È chiuso dal {} ({tz}).",
                        local_seconds(call, call.closes_at)
                    )
                },
                server,
                keep,
            ],
            link: None,
        },
    }
}

pub(crate) struct ReceiptLine {
    pub category: String,
    pub description: String,
    pub amount: String,
}

pub(crate) struct ReceiptIndicator {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    l: Layout,
    r: Receipt,
    just_submitted: bool,
    call_title: String,
    call_href: String,
    entity_name: String,
    received_local: String,
    time_zone: String,
    ledger_href: String,
    project_title: String,
    summary: Vec<String>,
    lines: Vec<ReceiptLine>,
    indicators: Vec<ReceiptIndicator>,
    total: String,
    eligible: String,
    requested: String,
    reserved_at_receipt: String,
    status_at_receipt: &'static str,
    status: &'static str,
    status_class: &'static str,
    reserved: String,
    notices: Vec<String>,
    dashboard_href: String,
}

pub async fn receipt(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    if id.len() > 64 {
        return Err(ApiError::not_found().into());
    }
    let app = s
        .app
        .store
        .application(&id)
        .await?
        .filter(|a| session.user.acts_for(&a.receipt.entity))
        .ok_or_else(ApiError::not_found)?;
    let r = app.receipt.clone();
    let stored = load_call(&s, &r.call).await?;
    let call = &stored.call;
    let locale = ctx.locale;
    let entity_name = s
        .app
        .store
        .entity(&r.entity)
        .await?
        .map(|e| e.name)
        .unwrap_or_else(|| r.entity.clone());
    let content: &ApplicationContent = &app.content;
    let lines = content
        .lines
        .iter()
        .map(|l| ReceiptLine {
            category: call
                .category(&l.category)
                .map(|c| c.label.get(locale).to_string())
                .unwrap_or_else(|| l.category.clone()),
            description: l.description.clone(),
            amount: l.amount_cents.to_string(),
        })
        .collect();
    let indicators = call
        .indicators
        .iter()
        .filter_map(|i| {
            content.indicators.get(&i.code).map(|v| ReceiptIndicator {
                label: i.label.get(locale).to_string(),
                value: match v {
                    bandi_domain::application::IndicatorValue::Integer(n) => n.to_string(),
                    bandi_domain::application::IndicatorValue::Text(t) => t.clone(),
                },
            })
        })
        .collect();
    let ui = ctx.ui();
    let page = ReceiptPage {
        l: ctx
            .layout(
                format!(
                    "{} {}",
                    ctx.t("Ricevuta della domanda", "Receipt of application"),
                    r.protocol
                ),
                vec![
                    Crumb::new(ui.home, "/"),
                    Crumb::new(
                        ctx.t("Area riservata", "Reserved area"),
                        format!("/area-riservata?ente={}", encode(&r.entity)),
                    ),
                ],
                Nav::Reserved,
            )
            .signed(&session),
        just_submitted: ctx.param("nuova").is_some(),
        call_title: call.title.get(locale).to_string(),
        call_href: format!("/bandi/{}", call.code),
        entity_name,
        received_local: precise_local(call, &r.received_at, locale),
        time_zone: call.time_zone.clone(),
        ledger_href: format!("/registro?voce={}", r.ledger_seq),
        project_title: content.title.clone(),
        summary: content
            .summary
            .split("\n\n")
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        lines,
        indicators,
        total: r.total_cost_cents.to_string(),
        eligible: r.eligible_cost_cents.to_string(),
        requested: r.requested_cents.to_string(),
        reserved_at_receipt: r.reserved_cents.to_string(),
        status_at_receipt: status_label(&r.status, locale),
        status: status_label(app.status.as_str(), locale),
        status_class: status_class(app.status.as_str()),
        reserved: app.reserved.to_string(),
        notices: r
            .notices
            .iter()
            .map(|n| n.text.get(locale).to_string())
            .collect(),
        dashboard_href: format!("/area-riservata?ente={}", encode(&r.entity)),
        r,
    };
    Ok(render(StatusCode::OK, &page)?)
}
