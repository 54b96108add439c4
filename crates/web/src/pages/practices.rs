//! The community's practices: the public catalogue with its Italian search and filters
//! (`/pratiche`), a practice's page with who reuses it (`/pratiche/{n}`), "we reuse it"
//! for a signed-in authority, an authority's own practices and the form that proposes one
//! (`/area-riservata/pratiche`), and the officials' decisions (`/amministrazione/pratiche`).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::{Actor, AppError};
use bandi_domain::entity::EntityKind;
use bandi_domain::i18n::Locale;
use bandi_domain::practice::{Lever, Licence, PracticeContent, PracticeStatus};
use bandi_store::{PracticeQuery, Role, Session, StoredPractice};
use serde::Deserialize;

use super::account::{PageResult, Signed, check_csrf, require, require_official, see_other};
use super::practice_files::FileView;
use super::{Crumb, Ctx, Layout, Nav, PageState, encode, render};
use crate::ApiError;
use crate::auth::MaybeSession;

/// A practice in a list.
pub(crate) struct PracticeCard {
    pub href: String,
    pub title: String,
    pub entity: String,
    pub summary: String,
    pub levers: Vec<String>,
    pub reuses: i64,
    pub example: bool,
    pub status: &'static str,
    pub status_label: &'static str,
    pub n: i64,
    pub body_html: String,
    /// Its files, where the page lists them (filled by the page).
    pub files: Vec<FileView>,
    /// Not refused: its authority may still attach files.
    pub open: bool,
}

/// Cards of `practices` with their files.
async fn cards_with_files(
    s: &PageState,
    practices: &[StoredPractice],
    locale: Locale,
) -> Result<Vec<PracticeCard>, ApiError> {
    let mut cards = Vec::with_capacity(practices.len());
    for p in practices {
        let mut c = card(p, locale);
        c.files = s
            .app
            .store()
            .practice_files(p.n)
            .await?
            .iter()
            .map(|f| FileView::of(f, locale))
            .collect();
        cards.push(c);
    }
    Ok(cards)
}

fn status_label(s: PracticeStatus, locale: Locale) -> &'static str {
    match (s, locale) {
        (PracticeStatus::Proposed, Locale::It) => "In attesa di pubblicazione",
        (PracticeStatus::Proposed, Locale::En) => "Waiting for publication",
        (PracticeStatus::Published, Locale::It) => "Pubblicata",
        (PracticeStatus::Published, Locale::En) => "Published",
        (PracticeStatus::Refused, Locale::It) => "Non pubblicata",
        (PracticeStatus::Refused, Locale::En) => "Not published",
    }
}

fn card(p: &StoredPractice, locale: Locale) -> PracticeCard {
    PracticeCard {
        files: Vec::new(),
        open: p.status != PracticeStatus::Refused,
        href: format!("/pratiche/{}", p.n),
        title: p.content.title.clone(),
        entity: p.entity_name.clone(),
        summary: p.content.summary.clone(),
        levers: p
            .content
            .levers
            .iter()
            .map(|l| l.label().get(locale).to_string())
            .collect(),
        reuses: p.reuses,
        example: p.example,
        status: p.status.as_str(),
        status_label: status_label(p.status, locale),
        n: p.n,
        body_html: super::markdown::to_html(&p.content.body),
    }
}

/// An option of a filter: value, label, chosen.
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

#[derive(Template)]
#[template(path = "practices.html")]
struct CatalogPage {
    l: Layout,
    q: String,
    province: String,
    levers: Vec<Choice>,
    kinds: Vec<Choice>,
    calls: Vec<Choice>,
    searched: bool,
    results: Vec<PracticeCard>,
    /// Funded projects holding the words (none when a lever is chosen: projects have none).
    projects: Vec<ProjectCard>,
}

/// A funded project found with the practices.
pub(crate) struct ProjectCard {
    pub title: String,
    pub entity: String,
    pub call_title: String,
    pub href: String,
    pub protocol: String,
    pub awarded: String,
}

fn choices<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
) -> Vec<Choice> {
    all.iter()
        .map(|&t| Choice {
            value: value(t),
            label: label(t),
            chosen: chosen == Some(t),
        })
        .collect()
}

/// `GET /pratiche?q=…&leva=…&tipo=…&provincia=…&bando=…`
pub async fn catalog(State(s): State<PageState>, ctx: Ctx) -> Result<Response, ApiError> {
    let param = |k: &str| ctx.param(k).map(str::trim).filter(|v| !v.is_empty());
    let lever = param("leva").and_then(Lever::parse);
    let kind = param("tipo").and_then(EntityKind::parse);
    let province = param("provincia")
        .filter(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|p| p.to_ascii_uppercase());
    let call = param("bando").filter(|c| c.len() <= 64).map(str::to_string);
    let text = param("q")
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    let query = PracticeQuery {
        terms: String::new(),
        lever,
        kind,
        province: province.clone(),
        call: call.clone(),
    };
    let projects = match lever {
        Some(_) => Vec::new(),
        None => s.app.app.search_projects(&text, &query).await?,
    };
    let results = s.app.app.search_practices(&text, query).await?;
    let locale = ctx.locale;
    let calls = s.app.store().calls().await?;
    let page = CatalogPage {
        l: ctx.layout(
            ctx.t(
                "Buone pratiche e soluzioni da riusare",
                "Good practices and solutions to reuse",
            ),
            vec![Crumb::new(ctx.ui().home, "/")],
            Nav::Practices,
        ),
        searched: !text.is_empty()
            || lever.is_some()
            || kind.is_some()
            || province.is_some()
            || call.is_some(),
        q: text,
        province: province.unwrap_or_default(),
        levers: choices(
            &Lever::ALL,
            lever,
            |l| l.as_str().into(),
            |l| l.label().get(locale).into(),
        ),
        kinds: choices(
            &EntityKind::ALL,
            kind,
            |k| k.as_str().into(),
            |k| {
                if locale == Locale::En {
                    k.label_en()
                } else {
                    k.label_it()
                }
                .into()
            },
        ),
        calls: calls
            .iter()
            .map(|c| Choice {
                value: c.call.code.to_string(),
                label: c.call.title.get(locale).to_string(),
                chosen: call.as_deref() == Some(c.call.code.as_str()),
            })
            .collect(),
        results: results.iter().map(|p| card(p, locale)).collect(),
        projects: projects
            .into_iter()
            .map(|p| ProjectCard {
                href: format!("/bandi/{}/trasparenza", p.call),
                title: p.title,
                entity: p.entity_name,
                call_title: p.call_title,
                protocol: p.protocol,
                awarded: p.awarded.in_locale(locale),
            })
            .collect(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "practice.html")]
struct PracticePage {
    l: Layout,
    p: PracticeCard,
    licence: &'static str,
    licence_url: &'static str,
    call: Option<(String, String)>,
    /// «ER-SW-2020-000012 — Smart working a Cervia».
    project: Option<String>,
    links: Vec<String>,
    reusers: Vec<String>,
    /// The signed-in authority's bodies that may say they reuse it: (code, name).
    may_reuse: Vec<(String, String)>,
    csrf: String,
    reused: bool,
}

fn practice_number(n: &str) -> Result<i64, ApiError> {
    n.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound.into())
}

/// `GET /pratiche/{n}`
pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    MaybeSession(session): MaybeSession,
    Path(n): Path<String>,
) -> Result<Response, ApiError> {
    let n = practice_number(&n)?;
    let p = s.app.app.published_practice(n).await?;
    let store = s.app.store();
    let reusers = store.practice_reusers(n).await?;
    let mut may_reuse = Vec::new();
    let mut csrf = String::new();
    if let Some(session) = &session
        && session.user.role == Role::Applicant
    {
        csrf = session.csrf_token.clone();
        for code in &session.user.entities {
            if *code != p.entity && !reusers.iter().any(|(c, _)| c == code) {
                let name = store
                    .entity(code)
                    .await?
                    .map(|e| e.name)
                    .unwrap_or_else(|| code.clone());
                may_reuse.push((code.clone(), name));
            }
        }
    }
    let call = match &p.content.call {
        Some(code) => store.call(code).await?.map(|c| {
            (
                format!("/bandi/{code}"),
                c.call.title.get(ctx.locale).to_string(),
            )
        }),
        None => None,
    };
    let project = match &p.content.project {
        Some(protocol) => Some(
            store
                .entity_applications(&p.entity)
                .await?
                .into_iter()
                .find(|a| a.receipt.protocol == *protocol)
                .map(|a| format!("{protocol} — {}", a.content.title))
                .unwrap_or_else(|| protocol.clone()),
        ),
        None => None,
    };
    let mut l = ctx.layout(
        p.content.title.clone(),
        vec![
            Crumb::new(ctx.ui().home, "/"),
            Crumb::new(ctx.t("Buone pratiche", "Good practices"), "/pratiche"),
        ],
        Nav::Practices,
    );
    if let Some(session) = &session {
        l = l.signed(session);
    }
    let page = PracticePage {
        l,
        licence: p.content.licence.as_str(),
        licence_url: p.content.licence.url(),
        call,
        project,
        links: p.content.links.clone(),
        reusers: reusers.into_iter().map(|(_, name)| name).collect(),
        may_reuse,
        csrf,
        reused: ctx.param("riuso").is_some(),
        p: cards_with_files(&s, std::slice::from_ref(&p), ctx.locale)
            .await?
            .remove(0),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct ReuseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ente: String,
}

/// `POST /pratiche/{n}/riuso`: a signed-in authority says it reuses the practice.
pub async fn reuse(
    State(s): State<PageState>,
    Signed(session): Signed,
    Path(n): Path<String>,
    Form(f): Form<ReuseForm>,
) -> PageResult {
    check_csrf(&session, &f.csrf)?;
    let n = practice_number(&n)?;
    s.app
        .app
        .reuse_practice(&Actor::User(session.user.clone()), n, f.ente.trim())
        .await?;
    Ok(see_other(&format!("/pratiche/{n}?riuso=1")))
}

#[derive(Template)]
#[template(path = "practice_form.html")]
struct ProposePage {
    l: Layout,
    csrf: String,
    entity: String,
    entity_name: String,
    f: ProposeForm,
    levers: Vec<Choice>,
    licences: Vec<Choice>,
    calls: Vec<Choice>,
    /// The body's applications, by protocol number.
    projects: Vec<Choice>,
    errors: Vec<(String, String)>,
    mine: Vec<PracticeCard>,
    proposed: bool,
    file_outcome: Option<String>,
}

impl ProposePage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ProposeForm {
    csrf: String,
    title: String,
    summary: String,
    body: String,
    /// Checkboxes: one `leva` per lever chosen.
    #[serde(skip)]
    levers: Vec<String>,
    licence: String,
    links: String,
    call: String,
    project: String,
}

/// The entity the page is about: one the person acts for (the first when none is named).
fn own_entity(session: &Session, ctx: &Ctx) -> Result<String, ApiError> {
    let entities = &session.user.entities;
    match ctx.param("ente") {
        Some(e) if entities.iter().any(|x| x == e) => Ok(e.to_string()),
        Some(_) => Err(AppError::NotFound.into()),
        None => entities
            .first()
            .cloned()
            .ok_or_else(super::account::forbidden),
    }
}

async fn propose_page(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    status: StatusCode,
    entity: String,
    f: ProposeForm,
    errors: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let locale = ctx.locale;
    let store = s.app.store();
    let entity_name = store
        .entity(&entity)
        .await?
        .map(|e| e.name)
        .unwrap_or_else(|| entity.clone());
    let chosen_licence = Licence::parse(&f.licence).unwrap_or(Licence::DOCUMENTS);
    let page = ProposePage {
        l: ctx
            .layout(
                ctx.t("Le pratiche dell'ente", "The body's practices"),
                vec![
                    Crumb::new(ctx.ui().home, "/"),
                    Crumb::new(
                        ctx.t("Area riservata", "Reserved area"),
                        format!("/area-riservata?ente={}", encode(&entity)),
                    ),
                ],
                Nav::Reserved,
            )
            .signed(session),
        csrf: session.csrf_token.clone(),
        levers: Lever::ALL
            .iter()
            .map(|l| Choice {
                value: l.as_str().into(),
                label: l.label().get(locale).into(),
                chosen: f.levers.iter().any(|x| x == l.as_str()),
            })
            .collect(),
        licences: choices(
            &Licence::ALL,
            Some(chosen_licence),
            |l| l.as_str().into(),
            |l| l.as_str().into(),
        ),
        calls: store
            .calls()
            .await?
            .iter()
            .map(|c| Choice {
                value: c.call.code.to_string(),
                label: c.call.title.get(locale).to_string(),
                chosen: f.call == c.call.code.as_str(),
            })
            .collect(),
        projects: store
            .entity_applications(&entity)
            .await?
            .iter()
            .map(|a| Choice {
                value: a.receipt.protocol.clone(),
                label: format!("{} — {}", a.receipt.protocol, a.content.title),
                chosen: f.project == a.receipt.protocol,
            })
            .collect(),
        mine: cards_with_files(s, &store.entity_practices(&entity).await?, locale).await?,
        proposed: ctx.param("proposta").is_some(),
        file_outcome: match (ctx.param("allegato"), ctx.param("tolto")) {
            (Some(_), _) => Some(
                ctx.t(
                    "File allegato alla pratica.",
                    "File attached to the practice.",
                )
                .to_string(),
            ),
            (None, Some(_)) => Some(
                ctx.t(
                    "File tolto dalla pratica.",
                    "File removed from the practice.",
                )
                .to_string(),
            ),
            _ => None,
        },
        entity_name,
        entity,
        f,
        errors,
    };
    render(status, &page)
}

/// `GET /area-riservata/pratiche?ente=CODE`: the body's practices and the form.
pub async fn own(State(s): State<PageState>, ctx: Ctx, Signed(session): Signed) -> PageResult {
    require(&session, Role::Applicant)?;
    let entity = own_entity(&session, &ctx)?;
    let f = ProposeForm {
        licence: Licence::DOCUMENTS.as_str().into(),
        ..ProposeForm::default()
    };
    Ok(propose_page(&s, &ctx, &session, StatusCode::OK, entity, f, Vec::new()).await?)
}

/// `POST /area-riservata/pratiche?ente=CODE`: proposes a practice.
pub async fn propose(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    body: String,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let entity = own_entity(&session, &ctx)?;
    let pairs: Vec<(String, String)> = form_pairs(&body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let f = ProposeForm {
        csrf: get("csrf"),
        title: get("title"),
        summary: get("summary"),
        body: get("body"),
        levers: pairs
            .iter()
            .filter(|(n, _)| n == "leva")
            .map(|(_, v)| v.clone())
            .collect(),
        licence: get("licence"),
        links: get("links"),
        call: get("call"),
        project: get("project"),
    };
    check_csrf(&session, &f.csrf)?;
    let content = PracticeContent {
        title: f.title.trim().to_string(),
        summary: f.summary.trim().to_string(),
        body: f.body.replace("\r\n", "\n"),
        levers: f.levers.iter().filter_map(|l| Lever::parse(l)).collect(),
        licence: Licence::parse(&f.licence).unwrap_or(Licence::DOCUMENTS),
        links: f
            .links
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
        call: Some(f.call.trim().to_string()).filter(|c| !c.is_empty()),
        project: Some(f.project.trim().chars().take(64).collect::<String>())
            .filter(|p| !p.is_empty()),
    };
    match s
        .app
        .app
        .propose_practice(&Actor::User(session.user.clone()), &entity, content, false)
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/area-riservata/pratiche?ente={}&proposta=1",
            encode(&entity)
        ))),
        Err(AppError::InvalidPractice(errors)) => {
            let errors = errors
                .into_iter()
                .map(|e| (e.field.clone(), e.text.get(ctx.locale).to_string()))
                .collect();
            Ok(propose_page(
                &s,
                &ctx,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                entity,
                f,
                errors,
            )
            .await?)
        }
        Err(e) => Err(e.into()),
    }
}

/// A form body's pairs, repeated names kept (the levers' checkboxes).
fn form_pairs(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .take(100)
        .collect()
}

#[derive(Template)]
#[template(path = "admin_practices.html")]
struct DecidePage {
    l: Layout,
    csrf: String,
    waiting: Vec<PracticeCard>,
    outcome: Option<String>,
}

/// `GET /amministrazione/pratiche`: the practices waiting for a decision.
pub async fn to_decide(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
) -> PageResult {
    require_official(&session)?;
    let waiting = s.app.store().practices_to_decide().await?;
    let outcome = match ctx.param("esito") {
        Some("pubblicata") => Some(
            ctx.t("Pratica pubblicata.", "Practice published.")
                .to_string(),
        ),
        Some("respinta") => Some(
            ctx.t("Pratica non pubblicata.", "Practice not published.")
                .to_string(),
        ),
        _ => None,
    };
    let page = DecidePage {
        l: ctx
            .layout(
                ctx.t("Pratiche da pubblicare", "Practices to publish"),
                super::admin::crumbs(&ctx),
                Nav::Admin,
            )
            .signed(&session),
        csrf: session.csrf_token.clone(),
        waiting: cards_with_files(&s, &waiting, ctx.locale).await?,
        outcome,
    };
    Ok(render(StatusCode::OK, &page)?)
}

#[derive(Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    azione: String,
}

/// `POST /amministrazione/pratiche/{n}`: publish or refuse.
pub async fn decide(
    State(s): State<PageState>,
    Signed(session): Signed,
    Path(n): Path<String>,
    Form(f): Form<DecideForm>,
) -> PageResult {
    require_official(&session)?;
    check_csrf(&session, &f.csrf)?;
    let n = practice_number(&n)?;
    let publish = match f.azione.as_str() {
        "pubblica" => true,
        "respingi" => false,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_form",
                "Scegliere «Pubblica» o «Non pubblicare».",
                "Choose «Publish» or «Do not publish».",
            )
            .into());
        }
    };
    s.app
        .app
        .decide_practice(&Actor::User(session.user.clone()), n, publish)
        .await?;
    let what = if publish { "pubblicata" } else { "respinta" };
    Ok(see_other(&format!(
        "/amministrazione/pratiche?esito={what}"
    )))
}
