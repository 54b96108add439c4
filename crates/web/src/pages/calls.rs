//! The list of calls, a call's page and its ranking.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::call::{Call, CallState};
use bandi_domain::i18n::Locale;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::StoredCall;
use jiff::Timestamp;

use super::admin::load_call;
use super::i18n::{duration, state_label, status_label};
use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;

/// A call as its card in the list and the header of its pages show it.
pub(crate) struct CallView {
    pub code: String,
    pub title: String,
    pub href: String,
    pub ranking_href: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub budget: String,
    pub reserved: String,
    pub remaining: String,
    pub applications: i64,
    pub waitlisted: i64,
    pub opens: String,
    pub closes: String,
    pub time_zone: String,
}

impl CallView {
    pub fn of(c: &StoredCall, now: Timestamp, locale: Locale) -> CallView {
        let call = &c.call;
        let state = call.state_at(now);
        let code = call.code.to_string();
        CallView {
            href: format!("/bandi/{code}"),
            ranking_href: format!("/bandi/{code}/graduatoria"),
            title: call.title.get(locale).to_string(),
            state: state.as_str(),
            state_label: state_label(state, locale),
            budget: c.budget.in_locale(locale),
            reserved: c.reserved.in_locale(locale),
            remaining: c.remaining().in_locale(locale),
            applications: c.applications,
            waitlisted: c.waitlisted,
            opens: call.local_time(call.opens_at),
            closes: call.local_time(call.closes_at),
            time_zone: call.time_zone.clone(),
            code,
        }
    }
}

fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

#[derive(Template)]
#[template(path = "calls.html")]
struct CallsPage {
    l: Layout,
    calls: Vec<CallView>,
}

pub async fn list(State(s): State<PageState>, ctx: Ctx) -> Result<Response, ApiError> {
    let now = now();
    let calls = s
        .app
        .store()
        .calls()
        .await?
        .iter()
        .map(|c| CallView::of(c, now, ctx.locale))
        .collect();
    let ui = ctx.ui();
    let page = CallsPage {
        l: ctx.layout(ui.calls, vec![Crumb::new(ui.home, "/")], Nav::Calls),
        calls,
    };
    render(StatusCode::OK, &page)
}

pub(crate) struct Category {
    pub label: String,
    pub eligible: bool,
    pub max_share: Option<String>,
}

#[derive(Template)]
#[template(path = "call.html")]
struct CallPage {
    l: Layout,
    c: CallView,
    paragraphs: Vec<String>,
    rate: String,
    max_grant: Option<String>,
    cost_range: Option<String>,
    per_entity: String,
    eligible: String,
    categories: Vec<Category>,
    completion_deadline: Option<String>,
    reporting_deadline: Option<String>,
    reserved_cents: i64,
    budget_cents: i64,
    percent_reserved: String,
    /// What the clock and the countdown say when the page is made: the page works without
    /// JavaScript.
    clock: ClockView,
    events_url: String,
}

/// The state names for the script, in the page's language.
pub(crate) struct StateLabels {
    pub upcoming: &'static str,
    pub open: &'static str,
    pub closed: &'static str,
}

/// The server's clock and the countdown of a call, as the page is written; app.js keeps
/// them moving from the server's time (the call page, and the bar of the application form).
pub(crate) struct ClockView {
    pub server_time: String,
    pub server_time_ms: i64,
    pub opens_at_ms: i64,
    pub closes_at_ms: i64,
    pub time_zone: String,
    pub closes_local: String,
    pub countdown_label: &'static str,
    pub countdown: String,
    /// The state's words, for the page's state badge when the clock passes the opening.
    pub labels: StateLabels,
}

impl ClockView {
    pub fn of(call: &Call, now: jiff::Timestamp, locale: Locale) -> ClockView {
        let ui = super::i18n::ui(locale);
        let closes_local = call.local_time(call.closes_at);
        let (countdown_label, countdown) = match call.state_at(now) {
            CallState::Upcoming => (
                ui.opens_in,
                duration(seconds_between(now, call.opens_at), locale),
            ),
            CallState::Open => (
                ui.closes_in,
                duration(seconds_between(now, call.closes_at), locale),
            ),
            CallState::Closed => (ui.closed_since, closes_local.clone()),
        };
        ClockView {
            server_time: now
                .to_zoned_datetime(call.tz())
                .strftime("%d/%m/%Y %H:%M:%S")
                .to_string(),
            server_time_ms: now.as_millisecond(),
            opens_at_ms: call.opens_at.as_millisecond(),
            closes_at_ms: call.closes_at.as_millisecond(),
            time_zone: call.time_zone.clone(),
            closes_local,
            countdown_label,
            countdown,
            labels: StateLabels {
                upcoming: state_label(CallState::Upcoming, locale),
                open: state_label(CallState::Open, locale),
                closed: state_label(CallState::Closed, locale),
            },
        }
    }
}

/// The project's cost range, as the call page and the form's preview say it.
pub(crate) fn cost_range(call: &Call, locale: Locale) -> Option<String> {
    let m = |m: bandi_domain::money::Money| m.in_locale(locale);
    match (call.min_cost, call.max_cost) {
        (Some(a), Some(b)) => Some(format!("{} – {}", m(a), m(b))),
        (Some(a), None) => Some(format!("≥ {}", m(a))),
        (None, Some(b)) => Some(format!("≤ {}", m(b))),
        (None, None) => None,
    }
}

/// The kinds of body the call admits, in words.
pub(crate) fn eligible_kinds(call: &Call, locale: Locale) -> String {
    call.eligible_kinds
        .iter()
        .map(|k| {
            if locale == Locale::En {
                k.label_en()
            } else {
                k.label_it()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn date(d: jiff::civil::Date) -> String {
    d.strftime("%d/%m/%Y").to_string()
}

fn seconds_between(from: Timestamp, to: Timestamp) -> i64 {
    to.as_second() - from.as_second()
}

pub async fn show(
    State(s): State<PageState>,
    ctx: Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stored = load_call(&s, code).await?;
    let now = now();
    let locale = ctx.locale;
    let ui = ctx.ui();
    let call: &Call = &stored.call;
    let view = CallView::of(&stored, now, locale);
    let budget = stored.budget.cents();
    let reserved = stored.reserved.cents();
    let permille = if budget > 0 {
        (i128::from(reserved) * 1000 / i128::from(budget)) as i64
    } else {
        0
    };
    let sep = if ctx.en() { "." } else { "," };
    let page = CallPage {
        l: ctx.layout(
            view.title.clone(),
            vec![Crumb::new(ui.home, "/"), Crumb::new(ui.calls, "/bandi")],
            Nav::Calls,
        ),
        paragraphs: paragraphs(call, locale),
        rate: call.rate.to_string(),
        max_grant: call.max_grant.map(|m| m.in_locale(locale)),
        cost_range: cost_range(call, locale),
        per_entity: match call.applications_per_entity {
            0 => ui.unlimited.to_string(),
            n => n.to_string(),
        },
        eligible: eligible_kinds(call, locale),
        categories: call
            .categories
            .iter()
            .map(|c| Category {
                label: c.label.get(locale).to_string(),
                eligible: c.eligible,
                max_share: c.max_share.map(|r| r.to_string()),
            })
            .collect(),
        completion_deadline: call.completion_deadline.map(date),
        reporting_deadline: call.reporting_deadline.map(date),
        reserved_cents: reserved,
        budget_cents: budget.max(1),
        percent_reserved: format!("{}{sep}{}%", permille / 10, permille % 10),
        clock: ClockView::of(call, now, locale),
        events_url: format!("/bandi/{}/eventi", view.code),
        c: view,
    };
    render(StatusCode::OK, &page)
}

/// The call's text as the public page shows it: its dates spelt out, one paragraph per
/// block separated by an empty line.
pub(crate) fn paragraphs(call: &Call, locale: Locale) -> Vec<String> {
    call.text_in(locale)
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

pub(crate) struct Row {
    pub seq: u64,
    pub protocol: String,
    pub ledger_href: String,
    pub entity: String,
    pub received: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
    pub status_class: &'static str,
}

#[derive(Template)]
#[template(path = "ranking.html")]
struct RankingPage {
    l: Layout,
    c: CallView,
    rows: Vec<Row>,
    /// Why an application can wait while some money remains, in the call's own rule.
    why_waiting: &'static str,
}

/// Why an application waits though the budget is not spent: what the call does with one
/// whose grant does not fit in what remains.
fn why_waiting(mode: bandi_domain::call::FitMode, locale: Locale) -> &'static str {
    use bandi_domain::call::FitMode;
    match (mode, locale) {
        (FitMode::Waitlist, Locale::It) => {
            "Una domanda può restare in attesa anche se rimangono risorse: quando il suo contributo supera quelle ancora disponibili aspetta, per intero, le prossime risorse liberate o aggiunte, e nessuna domanda successiva, anche più piccola, la scavalca."
        }
        (FitMode::Waitlist, Locale::En) => {
            "An application can wait while some funds remain: when its grant is more than what is left it waits, whole, for the next funds freed or added, and no later application, however small, jumps it."
        }
        (FitMode::Partial, Locale::It) => {
            "Quando il contributo di una domanda supera le risorse rimaste, riceve quelle rimaste e attende il resto; le domande successive attendono dopo di lei."
        }
        (FitMode::Partial, Locale::En) => {
            "When an application's grant is more than the funds left it gets what is left and waits for the rest; later applications wait after it."
        }
        (FitMode::Skip, Locale::It) => {
            "Quando il contributo di una domanda supera le risorse rimaste, attende; le domande successive che rientrano nelle risorse rimaste sono finanziate."
        }
        (FitMode::Skip, Locale::En) => {
            "When an application's grant is more than the funds left it waits; later applications that fit in what is left are funded."
        }
    }
}

/// `03/04/2020 09:30:00,123`: the order of arrival needs the milliseconds.
pub(crate) fn precise_local(call: &Call, utc: &str, locale: Locale) -> String {
    match utc.parse::<Timestamp>() {
        Ok(t) => {
            let z = t.to_zoned_datetime(call.tz());
            let sep = if locale == Locale::En { "." } else { "," };
            format!(
                "{}{sep}{:03}",
                z.strftime("%d/%m/%Y %H:%M:%S"),
                z.subsec_nanosecond() / 1_000_000
            )
        }
        Err(_) => utc.to_string(),
    }
}

pub async fn ranking(
    State(s): State<PageState>,
    ctx: Ctx,
    code: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let stored = load_call(&s, code).await?;
    let locale = ctx.locale;
    let ui = ctx.ui();
    let rows = s
        .app
        .store()
        .ranking(stored.call.code.as_str())
        .await?
        .into_iter()
        .map(|r| Row {
            seq: r.seq,
            ledger_href: format!("/registro?protocollo={}", super::encode(&r.protocol)),
            received: precise_local(&stored.call, &r.received_at, locale),
            requested: r.requested_cents.in_locale(locale),
            reserved: r.reserved_cents.in_locale(locale),
            status: status_label(r.status, locale),
            status_class: match r.status.as_str() {
                "reserved" => "status-reserved",
                "partial" => "status-partial",
                "waitlisted" => "status-waitlisted",
                _ => "status-other",
            },
            protocol: r.protocol,
            entity: r.entity_name,
        })
        .collect();
    let view = CallView::of(&stored, now(), locale);
    let page = RankingPage {
        l: ctx.call_layout(format!("{}: {}", ui.ranking, view.title), &view),
        why_waiting: why_waiting(stored.call.when_not_fits, locale),
        c: view,
        rows,
    };
    render(StatusCode::OK, &page)
}
