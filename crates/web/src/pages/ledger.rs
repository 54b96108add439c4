//! The ledger explorer (`/registro`): look up a protocol number or an entry number, see
//! the entry, its hash and how to check it; below, the latest entries.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bandi_domain::call::Call;
use bandi_domain::i18n::Locale;
use bandi_domain::ledger::{Entry, Record};
use bandi_domain::protocol::{ProtocolNumber, parse_protocol};
use bandi_store::{RankingRow, Store};

use super::calls::precise_local;
use super::i18n::{kind_label, status_label, zone_name};
use super::ledger_words::sentence;
use super::{Crumb, Ctx, Layout, Nav, PageState, render};
use crate::ApiError;

/// Entries in the list of the latest ones.
const PAGE: u64 = 20;

pub(crate) struct EntryView {
    pub seq: u64,
    pub href: String,
    pub kind: &'static str,
    /// What it records, in words.
    pub sentence: String,
    pub call_title: String,
    pub at_utc: String,
    pub at_local: String,
    pub prev_hash: String,
    pub hash: String,
    pub short_hash: String,
    pub payload: String,
    pub previous_href: Option<String>,
    /// None on the newest entry: no link to an entry that does not exist yet.
    pub next_href: Option<String>,
    pub verify_command: String,
}

pub(crate) struct ApplicationView {
    pub protocol: String,
    pub call_title: String,
    pub call_href: String,
    pub ranking_href: String,
    pub entity: String,
    pub received: String,
    pub requested: String,
    pub reserved: String,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    l: Layout,
    protocol: String,
    /// A problem with what was searched, shown next to the form.
    problem: Option<String>,
    application: Option<ApplicationView>,
    entry: Option<EntryView>,
    latest: Vec<EntryView>,
    older_href: Option<String>,
    newer_href: Option<String>,
}

struct Calls(HashMap<String, Call>);

impl Calls {
    async fn load(store: &Store) -> Result<(Calls, u64), ApiError> {
        let calls = store.calls().await?;
        // Every entry belongs to a call: the newest entry is the newest of some call.
        let head = calls
            .iter()
            .map(|c| c.last_event_ledger_seq)
            .max()
            .unwrap_or(0);
        Ok((
            Calls(
                calls
                    .into_iter()
                    .map(|c| (c.call.code.to_string(), c.call))
                    .collect(),
            ),
            head,
        ))
    }

    fn of(&self, e: &Entry) -> Option<&Call> {
        let record = e.record().ok()?;
        self.0.get(record.call())
    }
}

/// The names of the bodies the entries name, by code.
async fn entity_names(
    store: &Store,
    entries: &[Entry],
) -> Result<HashMap<String, String>, ApiError> {
    let mut names = HashMap::new();
    for e in entries {
        if let Ok(Record::ApplicationSubmitted { entity, .. }) = e.record()
            && !names.contains_key(&entity)
            && let Some(found) = store.entity(&entity).await?
        {
            names.insert(entity, found.name);
        }
    }
    Ok(names)
}

fn view(
    e: &Entry,
    calls: &Calls,
    names: &HashMap<String, String>,
    head: u64,
    locale: Locale,
    origin: &str,
) -> EntryView {
    let call = calls.of(e);
    let record = e.record().ok();
    let entity = match &record {
        Some(Record::ApplicationSubmitted { entity, .. }) => names.get(entity).map(String::as_str),
        _ => None,
    };
    let at_local = match call {
        Some(c) => format!(
            "{} ({})",
            precise_local(c, &e.at, locale),
            zone_name(&c.time_zone, locale)
        ),
        None => e.at.clone(),
    };
    EntryView {
        seq: e.seq,
        href: format!("/registro?voce={}", e.seq),
        kind: kind_label(record.as_ref(), locale),
        sentence: record
            .as_ref()
            .map(|r| sentence(r, call, entity, locale))
            .unwrap_or_default(),
        call_title: call
            .map(|c| c.title.get(locale).to_string())
            .unwrap_or_default(),
        at_utc: e.at.clone(),
        at_local,
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
        short_hash: e.hash.chars().take(16).collect(),
        payload: e.payload.clone(),
        previous_href: (e.seq > 1).then(|| format!("/registro?voce={}", e.seq - 1)),
        next_href: (e.seq < head).then(|| format!("/registro?voce={}", e.seq + 1)),
        verify_command: format!(
            "curl -s '{origin}/api/v1/ledger?after={}&limit=1' | jq -j '.items[0] | \"bandi-ledger-v1\\n\\(.seq)\\n\\(.prev_hash)\\n\\(.kind)\\n\\(.at)\\n\\(.payload)\"' | sha256sum",
            e.seq - 1
        ),
    }
}

/// `http://127.0.0.1:8080`, as the request named the server.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1:8080");
    let local = host.starts_with("127.") || host.starts_with("localhost") || host.starts_with('[');
    format!("{}://{host}", if local { "http" } else { "https" })
}

/// The application with `protocol`, the call it belongs to and the entry that recorded it.
async fn find_application(
    store: &Store,
    calls: &Calls,
    protocol: &str,
) -> Result<Option<(Call, RankingRow, Entry)>, ApiError> {
    let Some((row, seq)) = store.application_by_protocol(protocol).await? else {
        return Ok(None);
    };
    let Some(entry) = store.ledger_entry(seq).await? else {
        return Ok(None);
    };
    Ok(calls.of(&entry).cloned().map(|call| (call, row, entry)))
}

pub async fn explorer(
    State(s): State<PageState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let store = &s.app.store();
    let locale = ctx.locale;
    let ui = ctx.ui();
    let en = ctx.en();
    let origin = origin(&headers);
    let (calls, head) = Calls::load(store).await?;
    let mut status = StatusCode::OK;
    let mut problem = None;
    let mut application = None;
    let mut entry = None;

    let typed = ctx.param("protocollo").unwrap_or("").trim();
    // Typed loosely (`er-sw-2026/2`), looked up as written on the receipt.
    let protocol = match ProtocolNumber::parse_lenient(typed) {
        Some(p) if typed.len() <= 100 => p.to_string(),
        _ => typed.to_string(),
    };
    let seq = ctx.param("voce").map(str::trim).filter(|v| !v.is_empty());
    if !protocol.is_empty() {
        if protocol.len() > 100 || parse_protocol(&protocol).is_none() {
            status = StatusCode::BAD_REQUEST;
            problem = Some(if en {
                "This is not a protocol number: it reads PREFIX-YEAR/NUMBER, with at least seven digits, for example ER-SW-2020/0000001.".to_string()
            } else {
                "Questo non è un numero di protocollo: si scrive PREFISSO-ANNO/NUMERO, con almeno sette cifre, per esempio ER-SW-2020/0000001.".to_string()
            });
        } else if let Some((call, row, e)) = find_application(store, &calls, &protocol).await? {
            let names = entity_names(store, std::slice::from_ref(&e)).await?;
            entry = Some(view(&e, &calls, &names, head, locale, &origin));
            application = Some(ApplicationView {
                call_title: call.title.get(locale).to_string(),
                call_href: format!("/bandi/{}", call.code),
                ranking_href: format!("/bandi/{}/graduatoria", call.code),
                entity: row.entity_name,
                received: format!(
                    "{} ({})",
                    precise_local(&call, &row.received_at, locale),
                    zone_name(&call.time_zone, locale)
                ),
                requested: row.requested_cents.in_locale(locale),
                reserved: row.reserved_cents.in_locale(locale),
                status: status_label(row.status, locale),
                protocol: row.protocol,
            });
        } else {
            status = StatusCode::NOT_FOUND;
            problem = Some(if en {
                format!("No application has protocol number {protocol}.")
            } else {
                format!("Nessuna domanda ha il numero di protocollo {protocol}.")
            });
        }
    } else if let Some(v) = seq {
        match v
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= 1 && *n < i64::MAX as u64)
        {
            None => {
                status = StatusCode::BAD_REQUEST;
                problem = Some(if en {
                    "An entry number is a whole number from 1.".to_string()
                } else {
                    "Il numero di una voce è un intero da 1 in su.".to_string()
                });
            }
            Some(n) => match store.ledger_entry(n).await? {
                Some(e) => {
                    let names = entity_names(store, std::slice::from_ref(&e)).await?;
                    entry = Some(view(&e, &calls, &names, head, locale, &origin));
                }
                None => {
                    status = StatusCode::NOT_FOUND;
                    problem = Some(if en {
                        format!("The ledger has no entry {n}.")
                    } else {
                        format!("Il registro non ha una voce numero {n}.")
                    });
                }
            },
        }
    }

    // The latest entries, or those before `prima_di`, newest first.
    let before = ctx
        .param("prima_di")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|b| *b >= 1)
        .map(|b| b.min(head + 1));
    let (from, limit) = match before {
        Some(b) => (b.saturating_sub(PAGE + 1), (b - 1).min(PAGE)),
        // Entries newer than the head we know of (a commit in between) are shown too.
        None => (head.saturating_sub(PAGE), PAGE + 50),
    };
    let mut latest: Vec<EntryView> = if limit == 0 {
        Vec::new()
    } else {
        let entries = store.ledger_page(from, limit as u32).await?;
        // The newest PAGE of them are shown: only their bodies' names are looked up.
        let shown = &entries[entries.len().saturating_sub(PAGE as usize)..];
        let names = entity_names(store, shown).await?;
        shown
            .iter()
            .map(|e| view(e, &calls, &names, head, locale, &origin))
            .collect()
    };
    latest.reverse();
    latest.truncate(PAGE as usize);
    let oldest = latest.last().map(|e| e.seq).unwrap_or(1);
    let older_href = (oldest > 1).then(|| format!("/registro?prima_di={oldest}"));
    let newer_href = before.map(|_| "/registro".to_string());

    let mut title = ui.ledger.to_string();
    if let Some(a) = &application {
        title = format!("{}: {}", ui.col_protocol, a.protocol);
    } else if let Some(e) = &entry {
        title = format!("{} {}", ui.entry, e.seq);
    }
    let crumbs = if application.is_some() || entry.is_some() {
        vec![Crumb::new(ui.home, "/"), Crumb::new(ui.ledger, "/registro")]
    } else {
        vec![Crumb::new(ui.home, "/")]
    };
    let page = LedgerPage {
        l: ctx.layout(title, crumbs, Nav::Ledger),
        protocol,
        problem,
        application,
        entry,
        latest,
        older_href,
        newer_href,
    };
    render(status, &page)
}
