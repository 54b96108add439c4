//! The live statuses of an entity's applications, for its dashboard: a server-sent event
//! stream of what the dashboard's table shows (status and amount reserved of each
//! application), sent again whenever it changes. Only people acting for the entity get it,
//! and it carries nothing of other entities. The dashboard works without it.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use bandi_domain::i18n::Locale;
use bandi_store::{Role, Store};
use serde::Serialize;
use tokio::sync::watch;

use super::{own_entity, status_class};
use crate::ApiError;
use crate::auth::session_token;
use crate::limits::StreamPlace;
use crate::pages::account::{Peer, require, see_other};
use crate::pages::i18n::status_label;
use crate::pages::{Ctx, PageState};

/// How often an open dashboard's statuses are read.
const EVERY: Duration = Duration::from_secs(2);

/// A stream ends after this long; the browser reconnects at once. The session is checked
/// at every poll too: a stream ends with its session (signed out, expired, idle).
const LIFETIME: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Row {
    pub id: String,
    pub protocol: String,
    /// The call's code, and the receipt's page: a form or a call's card learns that its
    /// application was submitted elsewhere.
    pub call: String,
    pub href: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub reserved: String,
}

/// What the dashboard shows of each application of `entity`, newest first.
pub(crate) async fn rows(
    store: &Store,
    entity: &str,
    locale: Locale,
) -> Result<Vec<Row>, ApiError> {
    Ok(store
        .entity_applications(entity)
        .await?
        .into_iter()
        .map(|a| Row {
            status: status_label(a.status, locale),
            status_class: status_class(a.status),
            reserved: a.reserved.in_locale(locale),
            protocol: a.receipt.protocol,
            call: a.receipt.call,
            href: super::receipt_href(&a.receipt.id),
            id: a.receipt.id,
        })
        .collect())
}

pub(crate) fn events_href(entity: &str) -> String {
    format!(
        "/area-riservata/stati?ente={}",
        crate::pages::encode(entity)
    )
}

struct Polling {
    store: Store,
    /// The session's cookie value: the stream ends when the session does.
    token: String,
    _place: StreamPlace,
    entity: String,
    locale: Locale,
    last: Option<Vec<Row>>,
    every: tokio::time::Interval,
    until: tokio::time::Instant,
    closing: watch::Receiver<bool>,
}

/// `GET /area-riservata/stati?ente=CODE`: the entity's statuses at once, then each change.
/// It reads the session without marking it seen: a dashboard left open does not keep a
/// session alive.
pub async fn statuses(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
    Peer(peer): Peer,
) -> Result<Response, ApiError> {
    let token = session_token(&headers);
    let session = match &token {
        Some(t) => s.app.store().peek_session(t).await?,
        None => None,
    };
    let (Some(token), Some(session)) = (token, session) else {
        return Ok(see_other(&format!(
            "/accedi?dopo={}",
            crate::pages::encode(&ctx.path)
        )));
    };
    require(&session, Role::Applicant)?;
    let code = ctx.param("ente").unwrap_or("").to_string();
    own_entity(&s, &session, &code).await?;
    let place = s.app.limits.stream(
        &s.app.net.client_address(&headers, peer),
        Some(&session.csrf_token),
    )?;
    let mut every = tokio::time::interval(EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let polling = Polling {
        store: s.app.store().clone(),
        token,
        _place: place,
        entity: code,
        locale: ctx.locale,
        last: None,
        every,
        until: tokio::time::Instant::now() + LIFETIME,
        closing: s.live.closing(),
    };
    let stream = futures_util::stream::unfold(polling, |mut p| async move {
        loop {
            tokio::select! {
                _ = p.every.tick() => {}
                _ = tokio::time::sleep_until(p.until) => return None,
                _ = p.closing.wait_for(|c| *c) => return None,
            }
            if !p.store.session_exists(&p.token).await.unwrap_or(true) {
                return None;
            }
            let now = match rows(&p.store, &p.entity, p.locale).await {
                Ok(r) => r,
                // A database hiccup: the dashboard keeps what it shows; try again later.
                Err(_) => continue,
            };
            if p.last.as_ref() == Some(&now) {
                continue;
            }
            let data = serde_json::to_string(&now).expect("rows serialise");
            p.last = Some(now);
            return Some((
                Ok::<_, Infallible>(Event::default().event("statuses").data(data)),
                p,
            ));
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
