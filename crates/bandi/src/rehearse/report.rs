//! The rehearsal's report: a table for officials (Italian, English in brackets) and every
//! figure as JSON.

use std::collections::BTreeMap;
use std::time::Duration;

use bandi_domain::money::Money;
use bandi_store::Backend;
use serde_json::{Value, json};

use super::Setup;
use super::checks::{Check, Standing};
use super::load::{BadInput, Kind, Latency, LoadResult, round3};

/// CPU time of this process during each phase: the client and, in-process, the server.
pub struct Cpu {
    pub health: Option<Duration>,
    pub submissions: Option<Duration>,
}

pub struct Health {
    pub ok: Vec<Duration>,
    pub other: BTreeMap<u16, u64>,
    pub elapsed: Duration,
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

pub fn header(s: &Setup) {
    println!("Prova del click day (click-day rehearsal)");
    let server = if s.in_process {
        format!("interno a questo comando (in-process), intake {}", s.intake)
    } else {
        format!("{} (esterno, external)", s.target)
    };
    println!("  server:        {server}");
    let temp = if s.temporary {
        " · temporaneo (temporary)"
    } else {
        ""
    };
    println!(
        "  database:      {} · {}{temp}",
        backend_name(s.backend),
        s.database
    );
    println!(
        "  bando (call):  {} · budget {} · apre ora (opens now)",
        s.call, s.budget
    );
    println!(
        "  carico (load): {} enti (entities), {} client concorrenti (concurrent clients), {} indirizzi (addresses), seed {}",
        s.entities, s.clients, s.addresses, s.seed
    );
    println!();
}

/// What a request was answered, for the refusal table.
fn reason(status: u16, code: Option<&str>) -> &'static str {
    match (status, code) {
        (0, _) => "nessuna risposta, errore di rete (no answer, network error)",
        (401, _) => "token sconosciuto o mancante (unknown or missing token)",
        (400, Some("invalid_json")) => "JSON non valido (broken JSON)",
        (422, _) => "domanda con errori (invalid application)",
        (409, Some("already_applied")) => "ente che ha già presentato (already applied)",
        (409, _) => "conflitto (conflict)",
        (403, Some("not_eligible")) => "ente non ammesso (not eligible)",
        (403, _) => "bando non aperto o chiuso (call not open)",
        (503, Some("overloaded")) => "server al limite, riprovata (server at capacity, resent)",
        (429, _) => "troppe in corso, riprovata (too many in progress, resent)",
        (503, _) => "servizio non disponibile, riprovata (unavailable, resent)",
        (413, _) => "richiesta troppo grande (body too large)",
        (500..=599, _) => "errore del server (server error)",
        _ => "altro (other)",
    }
}

pub struct Figures {
    lines: Vec<String>,
    pub json: Value,
}

fn rate(n: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

impl Figures {
    pub fn new(
        setup: &Setup,
        load: &LoadResult,
        health: &Health,
        cpu: &Cpu,
        checks: &[Check],
        standing: &Standing,
        checks_time: Duration,
    ) -> Figures {
        let latencies = |pred: &dyn Fn(Kind, u16) -> bool| {
            Latency::of(
                load.answers
                    .iter()
                    .filter(|a| pred(a.kind, a.status))
                    .map(|a| a.latency)
                    .collect(),
            )
        };
        let created = latencies(&|k, s| k == Kind::Submit && s == 201);
        let retries = latencies(&|k, s| k == Kind::Retry && !matches!(s, 429 | 503));
        let bad = latencies(&|k, s| matches!(k, Kind::Bad(_)) && !matches!(s, 429 | 503));
        let shed = latencies(&|_, s| matches!(s, 429 | 503));
        let all = latencies(&|_, _| true);
        let health_lat = Latency::of(health.ok.clone());

        let submit_rps = rate(created.count, load.elapsed);
        let post_rps = rate(all.count, load.elapsed);
        let health_rps = rate(health_lat.count, health.elapsed);
        let ratio = if health_rps > 0.0 {
            submit_rps / health_rps
        } else {
            0.0
        };

        // Refusals: every answer other than 200 and 201, by status and code.
        let mut refusals: BTreeMap<(u16, String), (u64, u64)> = BTreeMap::new();
        for a in &load.answers {
            if matches!(a.status, 200 | 201) {
                continue;
            }
            // Refusals for load are the server protecting itself, as it should, and resent.
            let expected = (matches!(a.status, 429 | 503) && a.retry_after.is_some())
                || matches!(a.kind, Kind::Bad(b) if b.expected() == (a.status, a.code.as_deref().unwrap_or("")));
            let e = refusals
                .entry((a.status, a.code.clone().unwrap_or_default()))
                .or_default();
            if expected {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        let bad_sent: BTreeMap<&str, usize> = load
            .outcomes
            .iter()
            .filter_map(|o| o.bad.as_ref().map(|(b, _, _)| *b))
            .fold(BTreeMap::new(), |mut m, b: BadInput| {
                *m.entry(b.as_str()).or_default() += 1;
                m
            });
        let all_ok = checks.iter().all(|c| c.ok);

        let mut lines = Vec::new();
        let mut out = |s: String| lines.push(s);
        out("Carico (load)".into());
        out(format!(
            "  {:<48} {:>10} {:>10} {:>7} {:>7} {:>7} {:>7}",
            "", "richieste", "al secondo", "p50 ms", "p95 ms", "p99 ms", "max ms"
        ));
        out(format!(
            "  {:<48} {:>10} {:>10} {:>7} {:>7} {:>7} {:>7}",
            "", "(requests)", "(per s)", "", "", "", ""
        ));
        let row = |label: &str, l: &Latency, per_s: Option<f64>| {
            format!(
                "  {:<48} {:>10} {:>10} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
                label,
                l.count,
                per_s
                    .map(|r| format!("{r:.0}"))
                    .unwrap_or_else(|| "-".into()),
                l.p50,
                l.p95,
                l.p99,
                l.max
            )
        };
        out(row(
            "domande registrate (new applications, 201)",
            &created,
            Some(submit_rps),
        ));
        out(row("ripetizioni (retries, 200)", &retries, None));
        out(row("input errati (bad inputs, 4xx)", &bad, None));
        out(row(
            "rifiutate per carico (refused for load, 429/503)",
            &shed,
            None,
        ));
        out(row("tutte le POST (all POSTs)", &all, Some(post_rps)));
        out(row(
            "GET /api/v1/health (stesso server, same server)",
            &health_lat,
            Some(health_rps),
        ));
        out(format!(
            "  domande/s ÷ health/s (submissions/s ÷ health/s): {ratio:.3}  ·  durata (duration) {:.2} s",
            load.elapsed.as_secs_f64()
        ));
        let per_request = |d: Option<Duration>, n: usize| {
            d.filter(|_| n > 0)
                .map(|d| d.as_secs_f64() * 1000.0 / n as f64)
        };
        let cpu_health = per_request(cpu.health, health_lat.count);
        let cpu_post = per_request(cpu.submissions, all.count);
        if let (Some(h), Some(p)) = (cpu_health, cpu_post) {
            out(format!(
                "  CPU per richiesta (CPU per request) di {}: health {h:.3} ms, POST {p:.3} ms",
                if setup.in_process {
                    "client e server (client and server)"
                } else {
                    "solo client (client only)"
                }
            ));
        }
        if !health.other.is_empty() {
            out(format!(
                "  health non 200 (health not 200): {:?}",
                health.other
            ));
        }
        out(String::new());
        out("Esito del bando (outcome of the call)".into());
        out(format!(
            "  domande (applications) {}  ·  finanziate (funded) {}{}  ·  in attesa (waitlisted) {}",
            standing.applications,
            standing.funded,
            if standing.partial > 0 {
                format!(" + {} in parte (partly)", standing.partial)
            } else {
                String::new()
            },
            standing.waitlisted
        ));
        out(format!(
            "  riservato (reserved) {} di (of) {}  ·  residuo (remaining) {}",
            Money::from_cents(standing.reserved),
            Money::from_cents(standing.budget),
            Money::from_cents(standing.remaining)
        ));
        out(String::new());
        out("Rifiuti per motivo (refusals by reason)".into());
        if refusals.is_empty() {
            out("  nessuno (none)".into());
        }
        for ((status, code), (expected, unexpected)) in &refusals {
            let code_str = if code.is_empty() { "-" } else { code.as_str() };
            let note = match (expected, unexpected) {
                (_, 0) => "atteso (expected)".to_string(),
                (0, _) => "NON atteso (unexpected)".to_string(),
                (e, u) => format!("{e} attesi (expected), {u} NON attesi (unexpected)"),
            };
            out(format!(
                "  {:>5} {:<3} {:<20} {:<58} {note}",
                expected + unexpected,
                if *status == 0 {
                    "---".to_string()
                } else {
                    status.to_string()
                },
                code_str,
                reason(*status, Some(code.as_str()).filter(|c| !c.is_empty())),
            ));
        }
        out(String::new());
        out("Controlli (checks)".into());
        for c in checks {
            out(format!(
                "  {} {}: {}",
                if c.ok { "✔" } else { "✘" },
                c.name,
                c.detail
            ));
        }
        out(String::new());
        out(if all_ok {
            "Esito: tutti i controlli superati (all checks passed).".into()
        } else {
            format!(
                "Esito: {} controlli NON superati (checks FAILED).",
                checks.iter().filter(|c| !c.ok).count()
            )
        });

        let json = json!({
            "ok": all_ok,
            "started_at": setup.started_at.to_string(),
            "target": setup.target,
            "in_process": setup.in_process,
            "backend": match setup.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
            "database": setup.database,
            "intake": setup.intake,
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
            "call": setup.call,
            "entities": setup.entities,
            "clients": setup.clients,
            "addresses": setup.addresses,
            "seed": setup.seed,
            "setup_s": round3(setup.setup_time.as_secs_f64()),
            "checks_s": round3(checks_time.as_secs_f64()),
            "submissions": {
                "duration_s": round3(load.elapsed.as_secs_f64()),
                "durable_per_s": round3(submit_rps),
                "posts_per_s": round3(post_rps),
                "created": created.to_json(),
                "retries": retries.to_json(),
                "bad_inputs": bad.to_json(),
                "refused_for_load": shed.to_json(),
                "all_posts": all.to_json(),
                "bad_inputs_sent": bad_sent,
            },
            "health": {
                "duration_s": round3(health.elapsed.as_secs_f64()),
                "per_s": round3(health_rps),
                "latency": health_lat.to_json(),
                "not_ok": health.other.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>(),
            },
        "cpu": {
                "of": if setup.in_process { "client+server" } else { "client" },
                "health_s": cpu.health.map(|d| round3(d.as_secs_f64())),
                "submissions_s": cpu.submissions.map(|d| round3(d.as_secs_f64())),
                "health_ms_per_request": cpu_health.map(round3),
                "post_ms_per_request": cpu_post.map(round3),
            },
            "ratio_submissions_to_health": (ratio * 10_000.0).round() / 10_000.0,
            "refusals": refusals.iter().map(|((status, code), (e, u))| json!({
                "status": status, "code": code, "expected": e, "unexpected": u,
            })).collect::<Vec<_>>(),
            "outcome": {
                "budget_cents": standing.budget,
                "reserved_cents": standing.reserved,
                "remaining_cents": standing.remaining,
                "applications": standing.applications,
                "funded": standing.funded,
                "partial": standing.partial,
                "waitlisted": standing.waitlisted,
                "ledger_entries": standing.ledger_entries,
            },
            "checks": checks.iter().map(Check::to_json).collect::<Vec<_>>(),
        });
        Figures { lines, json }
    }

    pub fn print(&self) {
        for l in &self.lines {
            println!("{l}");
        }
    }
}
