//! The dashboard: one tab per entity the person acts for, its applications and the calls it may apply to.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use bandi_domain::application::AttachedDocument;
use bandi_domain::call::CallState;
use bandi_domain::review::ReviewState;
use bandi_store::Role;

use super::*;
use crate::pages::account::{PageResult, Signed, require, see_other};
use crate::pages::calls::precise_local;
use crate::pages::form::{FormInput, missing_words};
use crate::pages::i18n::{state_label, status_label};
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

pub(crate) struct EntityTab {
    pub name: String,
    pub href: String,
    pub current: bool,
}

pub(crate) struct ApplicationRow {
    pub id: String,
    pub protocol: String,
    pub href: String,
    pub call_title: String,
    pub received: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

/// Something the entity has to do: answer a request, record a CUP.
pub(crate) struct Todo {
    pub text: String,
    pub href: String,
}

pub(crate) struct CallOption {
    pub title: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub opens: String,
    pub closes: String,
    pub time_zone: String,
    pub href: String,
    /// The saved draft, if any.
    pub draft: Option<DraftState>,
    /// The call's code, the entity's applications to it, and how many it may make (0:
    /// no limit): the card follows the live statuses.
    pub code: String,
    pub made: usize,
    pub limit: usize,
}

/// A saved draft on the dashboard: what it lacks to be submitted.
pub(crate) struct DraftState {
    pub complete: bool,
    /// "Mancano 2 elementi", when not complete.
    pub missing: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    l: Layout,
    tabs: Vec<EntityTab>,
    /// The ISTAT code of a comune; bodies without one (unions) show none: their code in
    /// this platform is internal.
    istat_code: Option<String>,
    /// The stream of the applications' statuses, for the script that keeps them current.
    events_href: String,
    /// This page, to reload it when applications appear.
    self_href: String,
    applications: Vec<ApplicationRow>,
    calls: Vec<CallOption>,
    no_entity: bool,
    todos: Vec<Todo>,
    notices: Vec<NoticeView>,
    notices_href: String,
    contacts_href: String,
    practices_href: String,
}

pub async fn dashboard(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
) -> PageResult {
    if session.user.role.is_official() {
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
            istat_code: None,
            events_href: String::new(),
            self_href: String::new(),
            applications: Vec::new(),
            calls: Vec::new(),
            no_entity: true,
            todos: Vec::new(),
            notices: Vec::new(),
            notices_href: String::new(),
            contacts_href: String::new(),
            practices_href: String::new(),
        };
        return Ok(render(StatusCode::OK, &page)?);
    };
    let code = ctx.param("ente").unwrap_or(first).to_string();
    let entity = own_entity(&s, &session, &code).await?;
    let mut tabs = Vec::new();
    if user.entities.len() > 1 {
        for e in &user.entities {
            let name = match s.app.store().entity(e).await? {
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
    let calls = s.app.store().calls().await?;
    let title_of = |call_code: &str| {
        calls
            .iter()
            .find(|c| c.call.code.as_str() == call_code)
            .map(|c| c.call.title.get(locale).to_string())
            .unwrap_or_else(|| call_code.to_string())
    };
    let applications = s.app.store().entity_applications(&code).await?;
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
                id: r.id.clone(),
                protocol: r.protocol.clone(),
                href: receipt_href(&r.id),
                call_title: title_of(&r.call),
                received,
                requested: r.requested_cents.in_locale(locale),
                reserved: a.reserved.in_locale(locale),
                status: status_label(a.status, locale),
                status_class: status_class(a.status),
            }
        })
        .collect();
    let mut todos = Vec::new();
    for a in &applications {
        let r = &a.receipt;
        let Some(review) = s.app.store().under_review(&r.call, r.seq).await? else {
            continue;
        };
        let Some(call) = calls.iter().find(|c| c.call.code.as_str() == r.call) else {
            continue;
        };
        if let Some(open) = review.review.open_request.filter(|o| o.deadline > now) {
            let deadline = call.call.local_time(open.deadline);
            todos.push(Todo {
                text: if ctx.en() {
                    format!("Answer the request for integration on application {} by {deadline}.", r.protocol)
                } else {
                    format!("Rispondere alla richiesta di integrazione sulla domanda {} entro il {deadline}.", r.protocol)
                },
                href: receipt_href(&r.id),
            });
        }
        let funded = matches!(a.status, Status::Reserved | Status::Partial);
        if review.review.state == ReviewState::Admitted && funded && review.review.cup.is_some() {
            let report = s.app.store().report(&r.call, r.seq).await?;
            if report.as_ref().is_none_or(|rep| rep.state.editable()) {
                let by = report
                    .as_ref()
                    .and_then(|rep| rep.deadline.clone())
                    .or_else(|| call.call.reporting_deadline.map(|d| d.to_string()))
                    .and_then(|d| d.parse::<jiff::civil::Date>().ok())
                    .map(|d| d.strftime("%d/%m/%Y").to_string());
                todos.push(Todo {
                    text: match (ctx.en(), by) {
                        (true, Some(d)) => format!(
                            "Submit the expense report of application {} by {d}.",
                            r.protocol
                        ),
                        (true, None) => {
                            format!("Submit the expense report of application {}.", r.protocol)
                        }
                        (false, Some(d)) => format!(
                            "Presentare il rendiconto delle spese della domanda {} entro il {d}.",
                            r.protocol
                        ),
                        (false, None) => format!(
                            "Presentare il rendiconto delle spese della domanda {}.",
                            r.protocol
                        ),
                    },
                    href: format!("/area-riservata/rendiconto/{}", encode(&r.id)),
                });
            }
        }
        if review.review.state == ReviewState::Admitted && funded && review.review.cup.is_none() {
            todos.push(Todo {
                text: if ctx.en() {
                    format!("Record the CUP of application {}, funded.", r.protocol)
                } else {
                    format!(
                        "Registrare il CUP della domanda {}, finanziata.",
                        r.protocol
                    )
                },
                href: receipt_href(&r.id),
            });
        }
    }
    let notices = s
        .app
        .store()
        .entity_notices(&code)
        .await?
        .into_iter()
        .take(3)
        .map(NoticeView::of)
        .collect();
    let mut options = Vec::new();
    let catalogue = s.app.app.catalogue().await?;
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
        let draft = s
            .app
            .store()
            .draft(&code, call.code.as_str())
            .await?
            .map(|json| FormInput::from_draft(&json));
        let documents = match draft {
            Some(_) => {
                s.app
                    .store()
                    .draft_documents(&code, call.code.as_str())
                    .await?
            }
            None => Vec::new(),
        };
        options.push(CallOption {
            title: call.title.get(locale).to_string(),
            state: state.as_str(),
            state_label: state_label(state, locale),
            opens: call.local_time(call.opens_at),
            closes: call.local_time(call.closes_at),
            time_zone: call.time_zone.clone(),
            href: form_href(&code, call.code.as_str()),
            code: call.code.to_string(),
            made,
            limit,
            draft: draft.map(|input| {
                let attached: Vec<AttachedDocument> = documents
                    .iter()
                    .map(|d| AttachedDocument {
                        code: d.attachment.clone(),
                        sha256: d.sha256.clone(),
                    })
                    .collect();
                let checked = input.check(call, &attached, catalogue.as_ref());
                DraftState {
                    complete: checked.valid.is_some(),
                    missing: missing_words(checked.errors.len(), locale),
                }
            }),
        });
    }
    let page = DashboardPage {
        l: ctx
            .layout(format!("{title}: {}", entity.name), crumbs, Nav::Reserved)
            .signed(&session),
        tabs,
        events_href: super::statuses::events_href(&code),
        self_href: format!("/area-riservata?ente={}", encode(&code)),
        notices_href: notices_href(&code),
        contacts_href: contacts_href(&code),
        practices_href: format!("/area-riservata/pratiche?ente={}", encode(&code)),
        istat_code: entity.istat_code.clone(),
        applications: rows,
        calls: options,
        no_entity: false,
        todos,
        notices,
    };
    Ok(render(StatusCode::OK, &page)?)
}
