//! Live counters of a call over server-sent events (`/bandi/{code}/eventi`).
//!
//! One poller per call reads the call's counters every [`TICK`] while at least one stream
//! listens, and publishes them through a `watch` channel only when they change; each
//! stream is a receiver of that channel. So 5,000 people watching the click day cost one
//! query per tick, not 5,000, and nobody watching costs nothing.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use bandi_domain::call::CallCode;
use bandi_domain::i18n::Locale;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::{Store, StoredCall};
use futures_util::Stream;
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::watch;

use super::PageState;
use super::account::Peer;
use crate::ApiError;

/// How often a watched call's counters are read.
pub const TICK: Duration = Duration::from_millis(500);

/// What the page shows live. Amounts are already formatted, in Italian (`52.500,00 €`)
/// and in English (`€52,500.00`): one stream serves the pages of both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub state: &'static str,
    pub budget: String,
    pub reserved: String,
    pub remaining: String,
    pub budget_en: String,
    pub reserved_en: String,
    pub remaining_en: String,
    pub budget_cents: i64,
    pub reserved_cents: i64,
    pub applications: i64,
    pub waitlisted: i64,
}

impl Counters {
    pub fn of(c: &StoredCall, now: Timestamp) -> Counters {
        Counters {
            state: c.call.state_at(now).as_str(),
            budget: c.budget.to_string(),
            reserved: c.reserved.to_string(),
            remaining: c.remaining().to_string(),
            budget_en: c.budget.in_locale(Locale::En),
            reserved_en: c.reserved.in_locale(Locale::En),
            remaining_en: c.remaining().in_locale(Locale::En),
            budget_cents: c.budget.cents(),
            reserved_cents: c.reserved.cents(),
            applications: c.applications,
            waitlisted: c.waitlisted,
        }
    }
}

type Latest = Option<Arc<Counters>>;

/// The pollers of the calls being watched.
pub struct Live {
    store: Store,
    tick: Duration,
    calls: Mutex<HashMap<String, watch::Sender<Latest>>>,
    closing: watch::Sender<bool>,
}

impl Live {
    pub fn new(store: Store) -> Arc<Live> {
        Live::with_tick(store, TICK)
    }

    pub fn with_tick(store: Store, tick: Duration) -> Arc<Live> {
        Arc::new(Live {
            store,
            tick,
            calls: Mutex::new(HashMap::new()),
            closing: watch::Sender::new(false),
        })
    }

    /// Ends every stream and poller: the server is shutting down and waits for requests in
    /// flight, which these would otherwise never finish.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Becomes `true` when the server shuts down: long-lived streams end then.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// How many calls have a poller running.
    pub fn pollers(&self) -> usize {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// A receiver of `code`'s counters, starting its poller if nobody watched it.
    pub fn subscribe(self: &Arc<Self>, code: &str) -> watch::Receiver<Latest> {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = calls.get(code) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(None);
        calls.insert(code.to_string(), tx.clone());
        tokio::spawn(self.clone().poll(code.to_string(), tx));
        rx
    }

    async fn poll(self: Arc<Self>, code: String, tx: watch::Sender<Latest>) {
        let mut every = tokio::time::interval(self.tick);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            {
                // Decided under the lock that `subscribe` takes: a new subscriber either
                // finds this poller still registered or starts a new one.
                let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
                if tx.receiver_count() == 0 || *self.closing.borrow() {
                    calls.remove(&code);
                    return;
                }
            }
            match self.store.call(&code).await {
                Ok(Some(c)) => {
                    let now = Counters::of(&c, truncate_to_micros(Timestamp::now()));
                    tx.send_if_modified(|latest| {
                        if latest.as_deref() == Some(&now) {
                            false
                        } else {
                            *latest = Some(Arc::new(now));
                            true
                        }
                    });
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(call = %code, error = %e, "live counters: cannot read the call")
                }
            }
        }
    }
}

fn event(c: &Counters) -> Event {
    Event::default()
        .event("counters")
        .data(serde_json::to_string(c).expect("counters serialise"))
}

/// The stream of a call's counters: the latest at once, then every change.
pub async fn events(
    State(s): State<PageState>,
    code: Result<Path<String>, PathRejection>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Ok(Path(code)) = code else {
        return Err(ApiError::call_not_found());
    };
    if CallCode::parse(&code).is_err() || s.app.store().call(&code).await?.is_none() {
        return Err(ApiError::call_not_found());
    }
    // Held as long as the stream: one address cannot keep every stream open.
    let place = s
        .app
        .limits
        .stream(&s.app.net.client_address(&headers, peer), None)?;
    let rx = s.live.subscribe(&code);
    let closing = s.live.closing.subscribe();
    let stream = futures_util::stream::unfold(
        (rx, closing, true, place),
        |(mut rx, mut closing, first, place)| async move {
            if first {
                let latest = rx.borrow_and_update().clone();
                if let Some(c) = latest {
                    return Some((Ok(event(&c)), (rx, closing, false, place)));
                }
            }
            loop {
                let changed = tokio::select! {
                    changed = rx.changed() => changed.is_ok(),
                    _ = closing.wait_for(|c| *c) => false,
                };
                if !changed {
                    return None;
                }
                let latest = rx.borrow_and_update().clone();
                if let Some(c) = latest {
                    return Some((Ok(event(&c)), (rx, closing, false, place)));
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
