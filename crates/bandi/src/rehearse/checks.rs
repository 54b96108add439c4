//! The invariants a rehearsal checks once the load is over, through the public API (as
//! anyone could) and, where the database is at hand, with `bandi verify`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bandi_domain::allocation::{Allocation, Event};
use bandi_domain::call::FitMode;
use bandi_domain::ledger::{ChainVerifier, Entry};
use bandi_domain::money::Money;
use bandi_store::Store;
use indicatif::ProgressBar;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::load::LoadResult;

/// One invariant and whether it held.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: &'static str,
    /// Italian, then English in brackets.
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

impl Check {
    fn new(
        id: &'static str,
        name: &'static str,
        problems: Vec<String>,
        ok_detail: String,
    ) -> Check {
        let ok = problems.is_empty();
        let detail = if ok {
            ok_detail
        } else {
            let n = problems.len();
            let mut shown: Vec<String> = problems.into_iter().take(3).collect();
            if n > 3 {
                shown.push(format!("… {} more", n - 3));
            }
            shown.join("; ")
        };
        Check {
            id,
            name,
            ok,
            detail,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "ok": self.ok, "detail": self.detail})
    }
}

/// What the checks read from the server, for the report.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    pub budget: i64,
    pub reserved: i64,
    pub remaining: i64,
    pub applications: i64,
    pub funded: usize,
    pub partial: usize,
    pub waitlisted: usize,
    pub ledger_entries: u64,
    pub verify: Option<String>,
}

pub struct Context<'a> {
    pub client: &'a reqwest::Client,
    pub api: &'a str,
    pub call: &'a str,
    pub tokens: &'a HashMap<usize, String>,
    pub store: Option<&'a Store>,
    pub clients: usize,
    pub bar: &'a ProgressBar,
}

async fn get_json(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> Result<Value, String> {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let status = res.status();
    let v: Value = res
        .json()
        .await
        .map_err(|e| format!("GET {url}: not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status}: {v}"));
    }
    Ok(v)
}

fn i64_at(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or(i64::MIN)
}

pub async fn run(cx: &Context<'_>, load: &LoadResult) -> (Vec<Check>, Standing) {
    let mut checks = Vec::new();
    let mut standing = Standing::default();
    let receipts: Vec<(usize, &Value, bool)> = load
        .outcomes
        .iter()
        .filter_map(|o| o.receipt.as_ref().ok().map(|r| (o.entity, r, o.created)))
        .collect();

    // 0. Every refusal for load said when to come back.
    let shed: Vec<_> = load
        .answers
        .iter()
        .filter(|a| matches!(a.status, 429 | 503))
        .collect();
    let problems: Vec<String> = shed
        .iter()
        .filter(|a| a.retry_after.is_none())
        .map(|a| {
            format!(
                "{} {} without Retry-After",
                a.status,
                a.code.as_deref().unwrap_or("")
            )
        })
        .collect();
    checks.push(Check::new(
        "load_refusals_say_when",
        "ogni rifiuto per carico indica quando riprovare (every refusal for load carries Retry-After)",
        problems,
        format!("{} refused for load, each with Retry-After", shed.len()),
    ));

    // 1. Every valid submission got a receipt, each with 201 (or 200 after a lost answer).
    let mut problems = Vec::new();
    for o in &load.outcomes {
        if let Err((status, code)) = &o.receipt {
            problems.push(format!(
                "r{:06}: {} {}",
                o.entity,
                status,
                code.as_deref().unwrap_or("")
            ));
        }
    }
    let created = receipts.iter().filter(|r| r.2).count();
    checks.push(Check::new(
        "every_submission_accepted",
        "ogni domanda valida ha avuto la sua ricevuta (every valid submission got its receipt)",
        problems,
        format!(
            "{} of {} ({created} with 201)",
            receipts.len(),
            load.outcomes.len()
        ),
    ));

    // 2. Bad inputs were refused with the right status, and nothing else was unexpected.
    let mut problems = Vec::new();
    let mut bad_sent = 0;
    for o in &load.outcomes {
        if let Some((bad, status, code)) = &o.bad {
            bad_sent += 1;
            let (want_status, want_code) = bad.expected();
            if *status != want_status || code.as_deref() != Some(want_code) {
                problems.push(format!(
                    "r{:06} {}: {} {} instead of {want_status} {want_code}",
                    o.entity,
                    bad.as_str(),
                    status,
                    code.as_deref().unwrap_or("")
                ));
            }
        }
    }
    checks.push(Check::new(
        "bad_inputs_refused",
        "input errati rifiutati con l'errore giusto (bad inputs refused with the right error)",
        problems,
        format!("{bad_sent} of {bad_sent}"),
    ));

    // 3. A retry got 200 and the very receipt of the first answer.
    let mut problems = Vec::new();
    let mut retries = 0;
    for o in &load.outcomes {
        if let (Some((status, body)), Ok(first)) = (&o.retry, &o.receipt) {
            retries += 1;
            if *status != 200 {
                problems.push(format!("r{:06}: {status}", o.entity));
            } else if body != first {
                problems.push(format!("r{:06}: a different receipt", o.entity));
            }
        }
    }
    checks.push(Check::new(
        "retries_same_receipt",
        "ripetizioni: 200 e la stessa ricevuta (retries: 200 and the same receipt)",
        problems,
        format!("{retries} of {retries}"),
    ));

    // 4. Protocols gap-free in acceptance order, receipt instants non-decreasing.
    let ranking_url = format!("{}/calls/{}/ranking", cx.api, cx.call);
    let call_url = format!("{}/calls/{}", cx.api, cx.call);
    let (ranking, call) = match (
        get_json(cx.client, &ranking_url, None).await,
        get_json(cx.client, &call_url, None).await,
    ) {
        (Ok(r), Ok(c)) => (r["items"].as_array().cloned().unwrap_or_default(), c),
        (Err(e), _) | (_, Err(e)) => {
            checks.push(Check::new(
                "public_views",
                "classifica e stato del bando leggibili (ranking and call readable)",
                vec![e],
                String::new(),
            ));
            (Vec::new(), Value::Null)
        }
    };
    let mut problems = Vec::new();
    let by_protocol: HashMap<&str, &Value> = receipts
        .iter()
        .filter_map(|(_, r, _)| r["protocol"].as_str().map(|p| (p, *r)))
        .collect();
    if ranking.len() != receipts.len() {
        problems.push(format!(
            "{} in the ranking, {} receipts given",
            ranking.len(),
            receipts.len()
        ));
    }
    let mut last_at: Option<Timestamp> = None;
    let mut protocols = HashSet::new();
    for (k, row) in ranking.iter().enumerate() {
        let seq = row["seq"].as_u64().unwrap_or(0);
        let protocol = row["protocol"].as_str().unwrap_or("");
        if seq != k as u64 + 1 {
            problems.push(format!("position {} holds number {seq}", k + 1));
        }
        if !protocols.insert(protocol.to_string()) {
            problems.push(format!("protocol {protocol} twice"));
        }
        match by_protocol.get(protocol) {
            Some(r) if r["seq"].as_u64() == Some(seq) => {}
            Some(_) => problems.push(format!("{protocol}: receipt with another number")),
            None => problems.push(format!("{protocol}: no receipt was given for it")),
        }
        match row["received_at"]
            .as_str()
            .and_then(|s| s.parse::<Timestamp>().ok())
        {
            Some(at) => {
                if last_at.is_some_and(|l| at < l) {
                    problems.push(format!("{protocol}: received before the one above it"));
                }
                last_at = Some(at);
            }
            None => problems.push(format!("{protocol}: unreadable received_at")),
        }
    }
    checks.push(Check::new(
        "protocols_gap_free",
        "protocolli senza buchi, nell'ordine di arrivo (gap-free protocols in arrival order)",
        problems,
        format!("1..={}", ranking.len()),
    ));

    // 5. No over-allocation: the counters add up, to the cent, with the ranking.
    let mut problems = Vec::new();
    standing.budget = i64_at(&call, "budget_cents");
    standing.reserved = i64_at(&call, "reserved_cents");
    standing.remaining = i64_at(&call, "remaining_cents");
    standing.applications = i64_at(&call, "applications");
    let sum: i64 = ranking
        .iter()
        .map(|r| r["reserved_cents"].as_i64().unwrap_or(0))
        .sum();
    for row in &ranking {
        match row["status"].as_str() {
            Some("reserved") => standing.funded += 1,
            Some("partial") => standing.partial += 1,
            Some("waitlisted") => standing.waitlisted += 1,
            _ => {}
        }
    }
    if standing.reserved > standing.budget {
        problems.push(format!(
            "reserved {} above the budget {}",
            Money::from_cents(standing.reserved),
            Money::from_cents(standing.budget)
        ));
    }
    if standing.reserved.checked_add(standing.remaining) != Some(standing.budget) {
        problems.push("reserved + remaining ≠ budget".into());
    }
    if sum != standing.reserved {
        problems.push(format!(
            "the ranking reserves {}, the call says {}",
            Money::from_cents(sum),
            Money::from_cents(standing.reserved)
        ));
    }
    if standing.applications != ranking.len() as i64 {
        problems.push(format!(
            "the call counts {} applications, the ranking lists {}",
            standing.applications,
            ranking.len()
        ));
    }
    checks.push(Check::new(
        "no_over_allocation",
        "nessuna sovrallocazione: riservato ≤ budget, al centesimo (no over-allocation, to the cent)",
        problems,
        format!(
            "{} of {}",
            Money::from_cents(standing.reserved),
            Money::from_cents(standing.budget)
        ),
    ));

    // 6. The ranking is what the call's rule gives for that order (nobody jumped the queue).
    let mut problems = Vec::new();
    let mode: Option<FitMode> = serde_json::from_value(call["when_not_fits"].clone()).ok();
    match (mode, standing.budget > 0) {
        (Some(mode), true) => {
            let mut a = Allocation::new(mode, Money::from_cents(standing.budget));
            for row in &ranking {
                let seq = row["seq"].as_u64().unwrap_or(0);
                let requested = Money::from_cents(row["requested_cents"].as_i64().unwrap_or(0));
                if let Err(e) = a.apply(&Event::Submitted { seq, requested }) {
                    problems.push(format!("{seq}: {e}"));
                    break;
                }
            }
            for row in &ranking {
                let seq = row["seq"].as_u64().unwrap_or(0);
                let Some(want) = a.get(seq) else { continue };
                let reserved = row["reserved_cents"].as_i64().unwrap_or(-1);
                if row["status"].as_str() != Some(want.status.as_str())
                    || reserved != want.reserved.cents()
                {
                    problems.push(format!(
                        "number {seq}: {} {} instead of {} {}",
                        row["status"].as_str().unwrap_or("?"),
                        Money::from_cents(reserved),
                        want.status.as_str(),
                        want.reserved
                    ));
                }
            }
        }
        _ => problems.push("the call's rule or budget is unreadable".into()),
    }
    checks.push(Check::new(
        "allocation_in_order",
        "fondi assegnati in ordine di arrivo secondo la regola del bando (funds allocated in arrival order by the call's rule)",
        problems,
        format!(
            "{} funded, {} waiting",
            standing.funded + standing.partial,
            standing.waitlisted
        ),
    ));

    // 7. Every receipt is found by its owner, as it was given.
    let problems = receipts_present(cx, &receipts).await;
    checks.push(Check::new(
        "every_receipt_present",
        "ogni ricevuta ritrovata dal suo ente (every receipt found by its owner)",
        problems,
        format!("{} of {}", receipts.len(), receipts.len()),
    ));

    // 8. The public ledger chains from the first entry, and names every receipt.
    let (problems, entries) = ledger(cx, &receipts).await;
    standing.ledger_entries = entries;
    checks.push(Check::new(
        "ledger_chain",
        "registro pubblico integro, ogni ricevuta vi è registrata (public ledger chains and records every receipt)",
        problems,
        format!("{entries} entries"),
    ));

    // 9. `bandi verify` on the database.
    if let Some(store) = cx.store {
        cx.bar.set_message("bandi verify");
        let (problems, detail) = match store.verify().await {
            Ok(r) => {
                let d = format!(
                    "{} entries, {} calls, {} applications replayed",
                    r.entries, r.calls, r.applications
                );
                standing.verify = Some(d.clone());
                (Vec::new(), d)
            }
            Err(e) => (vec![e.to_string()], String::new()),
        };
        checks.push(Check::new(
            "verify",
            "bandi verify: catena e allocazioni ricalcolate sul database (chain and allocations replayed on the database)",
            problems,
            detail,
        ));
    }
    (checks, standing)
}

async fn receipts_present(cx: &Context<'_>, receipts: &[(usize, &Value, bool)]) -> Vec<String> {
    cx.bar.set_message("ricevute (receipts)");
    let work: Arc<Vec<(usize, Value)>> = Arc::new(
        receipts
            .iter()
            .map(|(e, r, _)| (*e, (*r).clone()))
            .collect(),
    );
    let tokens = Arc::new(cx.tokens.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..cx.clients.min(64) {
        let (work, tokens, next) = (work.clone(), tokens.clone(), next.clone());
        let (client, api, bar) = (cx.client.clone(), cx.api.to_string(), cx.bar.clone());
        tasks.push(tokio::spawn(async move {
            let mut problems = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((entity, receipt)) = work.get(i) else {
                    break;
                };
                let id = receipt["id"].as_str().unwrap_or("");
                let token = tokens.get(entity).map(String::as_str);
                match get_json(&client, &format!("{api}/applications/{id}"), token).await {
                    Ok(v) if v["receipt"] == *receipt => {}
                    Ok(_) => problems.push(format!("r{entity:06}: the stored receipt differs")),
                    Err(e) => problems.push(format!("r{entity:06}: {e}")),
                }
                bar.inc(1);
            }
            problems
        }));
    }
    let mut problems = Vec::new();
    for t in tasks {
        problems.extend(t.await.expect("a receipt task panicked"));
    }
    problems
}

async fn ledger(cx: &Context<'_>, receipts: &[(usize, &Value, bool)]) -> (Vec<String>, u64) {
    cx.bar.set_message("registro (ledger)");
    let mut want: HashMap<u64, &str> = HashMap::new();
    for (_, r, _) in receipts {
        if let (Some(seq), Some(hash)) = (r["ledger_seq"].as_u64(), r["ledger_hash"].as_str()) {
            want.insert(seq, hash);
        }
    }
    let mut problems = Vec::new();
    let mut chain = ChainVerifier::new();
    loop {
        let after = chain.last().0;
        let url = format!("{}/ledger?after={after}&limit=1000", cx.api);
        let page = match get_json(cx.client, &url, None).await {
            Ok(p) => p,
            Err(e) => {
                problems.push(e);
                break;
            }
        };
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        for item in items {
            let entry: Entry = match serde_json::from_value(json!({
                "seq": item["seq"], "prev_hash": item["prev_hash"], "hash": item["hash"],
                "kind": item["kind"], "at": item["at"], "payload": item["payload"],
            })) {
                Ok(e) => e,
                Err(e) => {
                    problems.push(format!("unreadable ledger entry after {after}: {e}"));
                    return (problems, chain.last().0);
                }
            };
            if let Err(e) = chain.check(&entry) {
                problems.push(e.to_string());
                return (problems, chain.last().0);
            }
            if let Some(hash) = want.remove(&entry.seq)
                && hash != entry.hash
            {
                problems.push(format!(
                    "entry {}: the receipt names another hash",
                    entry.seq
                ));
            }
        }
    }
    for seq in want.keys() {
        problems.push(format!("entry {seq} named by a receipt is missing"));
    }
    (problems, chain.last().0)
}
