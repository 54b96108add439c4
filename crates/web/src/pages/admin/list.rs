//! The admins' actions on a whole call from its page: a top-up (or cut) of the budget by
//! an act, and the publication of the list approved by an act with its PDF; and the
//! officials' view of the notices the call sent.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use bandi_app::{Actor, AppError};
use bandi_domain::call::CallCode;
use bandi_domain::i18n::Locale;
use bandi_domain::money::Money;
use bandi_domain::review::act;
use bandi_store::{Role, Session, StoredCall};

use super::Outcome;
use super::applications::{Typed, call_page, load_call};
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, require, require_official, see_other};
use crate::pages::applicant::uploads;
use crate::pages::calls::CallView;
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

/// The message for `?esito=` after an action of this module.
pub(crate) fn outcome_text(v: &str, locale: Locale) -> Option<&'static str> {
    let it = locale == Locale::It;
    Some(match v {
        "stanziamento" if it => {
            "Dotazione modificata: le domande in attesa ricevono le risorse in ordine di protocollo."
        }
        "stanziamento" => {
            "Budget changed: the waiting applications get the funds in protocol order."
        }
        "elenco" if it => "Elenco pubblicato: gli enti ne ricevono comunicazione.",
        "elenco" => "List published: the bodies are notified.",
        _ => return None,
    })
}

fn code_of(stored: &StoredCall) -> Result<CallCode, AppError> {
    CallCode::parse(stored.call.code.as_str()).map_err(|_| AppError::CallNotFound)
}

/// What an admin's action gave: back to the call's page with its message, or the page
/// again with why it was refused (nothing changed).
async fn answer(
    s: &PageState,
    ctx: &Ctx,
    session: &Session,
    stored: &StoredCall,
    done: Result<&'static str, AppError>,
    typed: Typed,
) -> PageResult {
    let code = stored.call.code.as_str();
    match done {
        Ok(what) => Ok(see_other(&format!(
            "/amministrazione/bandi/{}?esito={what}",
            encode(code)
        ))),
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let outcome = Outcome::refused(e.text().get(ctx.locale));
            let fresh = load_call(s, Ok(Path(code.to_string()))).await?;
            Ok(call_page(s, ctx, session, &fresh, status, Some(outcome), typed).await?)
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct BudgetForm {
    csrf: String,
    amount: String,
    act_number: String,
    act_date: String,
}

/// `POST /amministrazione/bandi/{code}/dotazione`: money added (or, with a minus, taken
/// away) by an act.
pub async fn budget(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<String>, PathRejection>,
    axum::Form(f): axum::Form<BudgetForm>,
) -> PageResult {
    require(&session, Role::Admin)?;
    check_csrf(&session, &f.csrf)?;
    let stored = load_call(&s, path).await?;
    let done = async {
        let add =
            Money::parse_euros(&f.amount).map_err(|_| AppError::InvalidAmount(f.amount.clone()))?;
        let act = act(&f.act_number, &f.act_date, None).map_err(AppError::Review)?;
        let actor = Actor::User(session.user.clone());
        s.app
            .app
            .change_budget(&actor, &code_of(&stored)?, add, act)
            .await
            .map(|_| "stanziamento")
    }
    .await;
    let typed = Typed {
        budget: true,
        amount: f.amount.clone(),
        act_number: f.act_number.clone(),
        act_date: Some(f.act_date.clone()),
    };
    answer(&s, &ctx, &session, &stored, done, typed).await
}

/// `POST /amministrazione/bandi/{code}/elenchi`: the list as it stands, frozen and
/// published with the act that approves it (multipart, the act's PDF optional).
pub async fn publish(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> PageResult {
    require(&session, Role::Admin)?;
    let stored = load_call(&s, path).await?;
    let mut posted = uploads::read(req).await?;
    let field = |name: &str| uploads::field(&posted.fields, name).to_owned();
    check_csrf(&session, &field("csrf"))?;
    let (number, date) = (field("act_number"), field("act_date"));
    let document = posted.files.pop();
    let actor = Actor::User(session.user.clone());
    let done = async {
        s.app
            .app
            .publish_list(&actor, &code_of(&stored)?, &number, &date, document)
            .await
            .map(|_| "elenco")
    }
    .await;
    let typed = Typed {
        budget: false,
        amount: String::new(),
        act_number: number.clone(),
        act_date: Some(date.clone()),
    };
    answer(&s, &ctx, &session, &stored, done, typed).await
}

pub(crate) struct NoticeView {
    pub subject: String,
    pub body: String,
    /// The entity's name and ISTAT code (if any), not its internal code.
    pub entity: String,
    pub entity_istat: Option<String>,
    pub created: String,
    pub application_href: Option<String>,
    /// Per address: the address, its state's words, attempts, last error.
    pub deliveries: Vec<(String, &'static str, i64, Option<String>)>,
}

#[derive(Template)]
#[template(path = "admin_notices.html")]
struct NoticesPage {
    l: Layout,
    call_href: String,
    notices: Vec<NoticeView>,
}

fn delivery_label(state: &str, ctx: &Ctx) -> &'static str {
    match state {
        "sent" => ctx.t("inviata", "sent"),
        "failed" => ctx.t("non recapitabile", "undeliverable"),
        _ => ctx.t("in coda", "queued"),
    }
}

/// `/amministrazione/bandi/{code}/comunicazioni`: the notices about the call, newest
/// first, each with the state of its deliveries.
pub async fn notices(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<String>, PathRejection>,
) -> PageResult {
    require_official(&session)?;
    let stored = load_call(&s, path).await?;
    let call = &stored.call;
    let code = call.code.as_str();
    let call_href = format!("/amministrazione/bandi/{}", encode(code));
    let stored_notices = s.app.store().call_notices(code).await?;
    let labels = super::applications::entity_labels(
        &s,
        stored_notices.iter().map(|n| n.entity.clone()).collect(),
    )
    .await?;
    let notices = stored_notices
        .into_iter()
        .map(|n| NoticeView {
            application_href: n.seq.map(|seq| super::application::href(code, seq)),
            subject: n.subject,
            body: n.body,
            entity_istat: labels.get(&n.entity).and_then(|l| l.1.clone()),
            entity: labels
                .get(&n.entity)
                .map(|l| l.0.clone())
                .unwrap_or(n.entity),
            created: call.local_time(n.created_at),
            deliveries: n
                .deliveries
                .into_iter()
                .map(|(a, st, n, e)| (a, delivery_label(&st, &ctx), n, e))
                .collect(),
        })
        .collect();
    let view = CallView::of(&stored, super::now(), ctx.locale);
    let mut crumbs = super::crumbs(&ctx);
    crumbs.push(Crumb::new(view.title.clone(), call_href.clone()));
    let page = NoticesPage {
        l: ctx
            .layout(
                ctx.t("Comunicazioni agli enti", "Notices to the bodies"),
                crumbs,
                Nav::Admin,
            )
            .signed(&session),
        call_href,
        notices,
    };
    Ok(render(StatusCode::OK, &page)?)
}
