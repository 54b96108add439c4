//! The services catalogue of the region's in-house provider: public (`/servizi`), and its
//! import by officials from a file (`/amministrazione/servizi`). How much of a call went to
//! these services is a table of the call's statistics.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::{Actor, AppError};
use bandi_domain::application::BudgetLine;
use bandi_domain::i18n::Locale;
use bandi_domain::service::{Catalogue, ServiceKind};
use bandi_store::{Role, Session};

use super::account::{PageResult, Signed, require};
use super::admin::{not_utf8, read_toml_form};
use super::{Crumb, Ctx, Layout, Nav, PageState, encode, render};
use crate::ApiError;

/// What a catalogue line of an application bought, in words: «Dal catalogo: LEP-VDI,
/// 240 × 22,00 €».
pub(crate) fn bought_words(line: &BudgetLine, locale: Locale) -> Option<String> {
    line.service.as_ref().map(|s| {
        format!(
            "{}: {}, {} × {}",
            match locale {
                Locale::It => "Dal catalogo",
                Locale::En => "From the catalogue",
            },
            s.code,
            s.quantity,
            s.unit_price_cents.in_locale(locale)
        )
    })
}

/// A practice an application cites, as its pages link it.
pub(crate) struct CitedPractice {
    pub n: u64,
    pub title: String,
    pub href: String,
}

/// The practices an application cites, with their titles (a practice no longer found keeps
/// its number).
pub(crate) async fn cited_practices(
    s: &PageState,
    numbers: &[u64],
) -> Result<Vec<CitedPractice>, ApiError> {
    let mut cited = Vec::new();
    for n in numbers {
        let title = match i64::try_from(*n) {
            Ok(i) => s.app.store().practice(i).await?.map(|p| p.content.title),
            Err(_) => None,
        };
        cited.push(CitedPractice {
            n: *n,
            title: title.unwrap_or_else(|| format!("n. {n}")),
            href: format!("/pratiche/{n}"),
        });
    }
    Ok(cited)
}

/// A service as the catalogue page lists it.
pub(crate) struct ServiceRow {
    pub code: String,
    pub name: String,
    pub unit: String,
    pub price: String,
    pub description: String,
}

pub(crate) struct ServiceSection {
    pub id: &'static str,
    pub title: String,
    pub rows: Vec<ServiceRow>,
}

/// A call's statistics, where the share of the call that went to these services is.
pub(crate) struct CallLink {
    pub title: String,
    pub href: String,
}

fn sections(c: &Catalogue, ctx: &Ctx) -> Vec<ServiceSection> {
    let locale = ctx.locale;
    ServiceKind::ALL
        .iter()
        .map(|k| ServiceSection {
            id: k.as_str(),
            title: k.label().get(locale).to_string(),
            rows: c
                .services
                .iter()
                .filter(|s| s.kind == *k)
                .map(|s| ServiceRow {
                    code: s.code.clone(),
                    name: s.name.get(locale).to_string(),
                    unit: s.unit.get(locale).to_string(),
                    price: s.unit_price.in_locale(locale),
                    description: s.description.get(locale).to_string(),
                })
                .collect(),
        })
        .filter(|s| !s.rows.is_empty())
        .collect()
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    l: Layout,
    provider: Option<String>,
    sections: Vec<ServiceSection>,
    calls: Vec<CallLink>,
}

/// `/servizi`: the catalogue, by kind of service.
pub async fn catalogue(State(s): State<PageState>, ctx: Ctx) -> Result<Response, ApiError> {
    let catalogue = s.app.app.catalogue().await?;
    let calls = s
        .app
        .store()
        .calls()
        .await?
        .into_iter()
        .map(|c| CallLink {
            title: c.call.title.get(ctx.locale).to_string(),
            href: format!(
                "/bandi/{}/statistiche#servizi-del-catalogo",
                encode(c.call.code.as_str())
            ),
        })
        .collect();
    let page = ServicesPage {
        l: ctx.layout(
            ctx.t("Catalogo dei servizi", "Services catalogue"),
            vec![Crumb::new(ctx.ui().home, "/")],
            Nav::Practices,
        ),
        provider: catalogue.as_ref().map(|c| c.provider.clone()),
        sections: catalogue
            .as_ref()
            .map(|c| sections(c, &ctx))
            .unwrap_or_default(),
        calls,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "admin_services.html")]
struct AdminServicesPage {
    l: Layout,
    csrf: String,
    provider: Option<String>,
    sections: Vec<ServiceSection>,
    toml: String,
    problems: Vec<String>,
    done: Option<String>,
}

async fn admin_page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    toml: String,
    problems: Vec<String>,
    done: Option<String>,
) -> PageResult {
    let catalogue = s.app.app.catalogue().await?;
    let page = AdminServicesPage {
        l: ctx
            .layout(
                ctx.t("Catalogo dei servizi", "Services catalogue"),
                super::admin::crumbs(ctx),
                Nav::Admin,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        provider: catalogue.as_ref().map(|c| c.provider.clone()),
        sections: catalogue
            .as_ref()
            .map(|c| sections(c, ctx))
            .unwrap_or_default(),
        toml,
        problems,
        done,
    };
    Ok(render(status, &page)?)
}

/// `/amministrazione/servizi`: the catalogue and the form that replaces it.
pub async fn admin(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Admin)?;
    admin_page(
        &s,
        &ctx,
        &session,
        StatusCode::OK,
        String::new(),
        Vec::new(),
        None,
    )
    .await
}

/// Replaces the catalogue with the file uploaded or the text pasted (the file wins).
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
            let problems = vec![not_utf8(&ctx).to_string()];
            return admin_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                problems,
                None,
            )
            .await;
        }
    };
    let actor = Actor::User(session.user.clone());
    match s.app.app.import_catalogue_file(&actor, &text).await {
        Ok((c, o)) => {
            let done = if ctx.en() {
                format!(
                    "Catalogue imported: {} services ({} added, {} changed, {} unchanged, {} withdrawn).",
                    c.services.len(),
                    o.added,
                    o.changed,
                    o.unchanged,
                    o.withdrawn
                )
            } else {
                format!(
                    "Catalogo importato: {} servizi ({} nuovi, {} modificati, {} invariati, {} ritirati).",
                    c.services.len(),
                    o.added,
                    o.changed,
                    o.unchanged,
                    o.withdrawn
                )
            };
            admin_page(
                &s,
                &ctx,
                &session,
                StatusCode::OK,
                String::new(),
                Vec::new(),
                Some(done),
            )
            .await
        }
        Err(AppError::InvalidCatalogue(problems)) => {
            admin_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                text,
                problems,
                None,
            )
            .await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}
