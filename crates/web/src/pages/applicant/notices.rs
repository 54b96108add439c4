//! An entity's notices (`/area-riservata/comunicazioni?ente=`), every one the outbox
//! holds for it, sent by e-mail or not; and its contact addresses
//! (`/area-riservata/contatti?ente=`), which its staff keep.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::Actor;
use bandi_store::{Contacts, Role, Session, StoredNotice};

use super::*;
use crate::pages::account::{PageResult, Signed, check_csrf, require, see_other};
use crate::pages::{Crumb, Ctx, Layout, Nav, render};

pub(crate) struct NoticeView {
    pub subject: String,
    pub body: String,
    pub created: String,
    pub sent_to: Vec<String>,
}

impl NoticeView {
    pub fn of(n: StoredNotice) -> NoticeView {
        NoticeView {
            created: n
                .created_at
                .to_zoned_datetime(rome())
                .strftime("%d/%m/%Y %H:%M")
                .to_string(),
            sent_to: n
                .deliveries
                .into_iter()
                .filter(|d| d.1 == "sent")
                .map(|d| d.0)
                .collect(),
            subject: n.subject,
            body: n.body,
        }
    }
}

/// The notices are written in Italian, for Italian offices: their times are Italy's.
fn rome() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC)
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    l: Layout,
    notices: Vec<NoticeView>,
    contacts_href: String,
}

/// The entity of `?ente=` (or the person's first), which the person must act for.
async fn chosen_entity(s: &PageState, ctx: &Ctx, session: &Session) -> Result<Entity, ApiError> {
    let first = session.user.entities.first().cloned().unwrap_or_default();
    let code = ctx.param("ente").map(str::to_string).unwrap_or(first);
    own_entity(s, session, &code).await
}

fn crumbs(ctx: &Ctx, entity: &str) -> Vec<Crumb> {
    vec![
        Crumb::new(ctx.ui().home, "/"),
        Crumb::new(
            ctx.t("Area riservata", "Reserved area"),
            format!("/area-riservata?ente={}", encode(entity)),
        ),
    ]
}

pub async fn notices(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Applicant)?;
    let entity = chosen_entity(&s, &ctx, &session).await?;
    let code = entity.code.to_string();
    let notices = s
        .app
        .store()
        .entity_notices(&code)
        .await?
        .into_iter()
        .map(NoticeView::of)
        .collect();
    let page = NoticesPage {
        l: ctx
            .layout(
                format!("{}: {}", ctx.t("Comunicazioni", "Notices"), entity.name),
                crumbs(&ctx, &code),
                Nav::Reserved,
            )
            .signed(&session),
        contacts_href: contacts_href(&code),
        notices,
    };
    Ok(render(StatusCode::OK, &page)?)
}

pub(crate) fn notices_href(entity: &str) -> String {
    format!("/area-riservata/comunicazioni?ente={}", encode(entity))
}

pub(crate) fn contacts_href(entity: &str) -> String {
    format!("/area-riservata/contatti?ente={}", encode(entity))
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    l: Layout,
    csrf: String,
    action: String,
    registry_pec: Option<String>,
    email: String,
    pec: String,
    outcome: Option<(&'static str, String)>,
}

async fn contacts_page(
    ctx: &Ctx,
    session: &Session,
    entity: &Entity,
    typed: &Contacts,
    status: StatusCode,
    outcome: Option<(&'static str, String)>,
) -> Result<Response, ApiError> {
    let code = entity.code.to_string();
    let page = ContactsPage {
        l: ctx
            .layout(
                format!("{}: {}", ctx.t("Recapiti", "Contacts"), entity.name),
                crumbs(ctx, &code),
                Nav::Reserved,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        action: contacts_href(&code),
        registry_pec: entity.pec.clone(),
        email: typed.email.clone().unwrap_or_default(),
        pec: typed.pec.clone().unwrap_or_default(),
        outcome,
    };
    render(status, &page)
}

pub async fn contacts(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Applicant)?;
    let entity = chosen_entity(&s, &ctx, &session).await?;
    let stored = s.app.store().contacts(entity.code.as_str()).await?;
    let outcome = ctx.param("esito").map(|_| {
        (
            "success",
            ctx.t("Recapiti salvati.", "Contacts saved.").to_string(),
        )
    });
    Ok(contacts_page(&ctx, &session, &entity, &stored, StatusCode::OK, outcome).await?)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ContactsForm {
    csrf: String,
    email: String,
    pec: String,
}

pub async fn save_contacts(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    Form(f): Form<ContactsForm>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    check_csrf(&session, &f.csrf)?;
    let entity = chosen_entity(&s, &ctx, &session).await?;
    let code = entity.code.to_string();
    let actor = Actor::User(session.user.clone());
    match s
        .app
        .app
        .set_contacts(&actor, &code, &f.email, &f.pec)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "{}&esito=salvati",
            contacts_href(&code)
        ))),
        Err(e) if e.is_refusal() => {
            let typed = Contacts {
                email: Some(f.email),
                pec: Some(f.pec),
            };
            let status = ApiError::from(e.clone()).status;
            let outcome = Some(("danger", e.text().get(ctx.locale).to_string()));
            Ok(contacts_page(&ctx, &session, &entity, &typed, status, outcome).await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
