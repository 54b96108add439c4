//! `bandi demo`: the Emilia-Romagna 2020 call on an embedded database, ready to try.

use std::net::SocketAddr;

use anyhow::Context;
use bandi_app::{Actor, App};
use bandi_domain::account::Role;
use bandi_domain::call::Call;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::registry::parse_registry;
use jiff::Timestamp;

const CALL: &str = include_str!("../../../calls/er-2020-smart-working.toml");
const COMUNI: &str = include_str!("../../../data/istat-comuni.csv");
const UNIONI: &str = include_str!("../../../data/er-unioni.csv");

/// Who gets a demo token: Cervia, Bologna, the Distretto Ceramico and the Circondario Imolese.
const DEMO_ENTITIES: [&str; 4] = ["039007", "037006", "ucdc", "circondario_imolese"];

/// The demo's accounts: an official of the Region, staff acting for Cervia, the Unione
/// dei Comuni del Distretto Ceramico and Bologna, and staff of the Circondario Imolese.
/// Addresses under `.example` (RFC 2606): they reach nobody.
const DEMO_ACCOUNTS: [(&str, &str, Role, &[&str]); 3] = [
    (
        "regione@bandi.example",
        "Ufficio bandi della Regione (demo)",
        Role::Admin,
        &[],
    ),
    (
        "enti@bandi.example",
        "Referente smart working (demo)",
        Role::Applicant,
        &["039007", "ucdc", "037006"],
    ),
    (
        "imola@bandi.example",
        "Circondario Imolese (demo)",
        Role::Applicant,
        &["circondario_imolese"],
    ),
];

/// A password for a demo account: 16 hex characters, new at every start.
fn demo_password() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn seed(app: &App, opens_in_minutes: i64, listen: SocketAddr) -> anyhow::Result<()> {
    let store = app.store();
    let operator = Actor::Operator;
    let mut call = Call::from_toml(CALL).context("the shipped call file")?;
    let existing = store.call(call.code.as_str()).await?;
    if existing.is_none() {
        let mut entities = parse_registry(COMUNI, Some("08")).map_err(anyhow::Error::msg)?;
        entities.extend(parse_registry(UNIONI, Some("08")).map_err(anyhow::Error::msg)?);
        app.import_entities(&operator, &entities)
            .await
            .map_err(crate::refused)?;
        let opens = truncate_to_micros(Timestamp::now()) + crate::minutes(opens_in_minutes);
        call.reschedule(opens, None).map_err(anyhow::Error::msg)?;
        app.import_call(&operator, &call)
            .await
            .map_err(crate::refused)?;
        println!(
            "Seeded {} entities of Emilia-Romagna and the 2020 smart-working call.",
            entities.len()
        );
    } else {
        println!("The demo database already holds the call; serving it as it is.");
    }
    let stored = store
        .call(call.code.as_str())
        .await?
        .context("the demo call is missing")?;
    let c = &stored.call;
    println!();
    println!("  {}", c.title.it);
    println!(
        "  budget {} · {} co-financing · at most {} per grant · first come, first served",
        c.budget,
        c.rate,
        c.max_grant
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into())
    );
    println!(
        "  opens {} · closes {} (Europe/Rome)",
        c.local_time(c.opens_at),
        c.local_time(c.closes_at)
    );
    println!(
        "  watch it in a browser: http://{listen}/bandi/{} (countdown by the server's clock, live counters)",
        c.code
    );
    println!();
    println!("Demo tokens (new ones at every start):");
    let mut first_token = None;
    for code in DEMO_ENTITIES {
        let entity = store.entity(code).await?.context("demo entity missing")?;
        let token = app
            .issue_token(&operator, code)
            .await
            .map_err(crate::refused)?;
        println!("  {:<45} {token}", entity.name);
        first_token.get_or_insert(token);
    }
    let base = format!("http://{listen}/api/v1");
    let code = c.code.as_str();
    println!();
    println!("Try it:");
    println!("  curl {base}/calls/{code}");
    let body = r#"{"title":"Smart working a Cervia","summary":"Avvio, formazione, cloud Lepida","lines":[{"category":"planning","description":"Avvio","amount_cents":1500000},{"category":"training","description":"Formazione","amount_cents":2500000},{"category":"technology","description":"Cloud","amount_cents":3500000}],"indicators":{"staff_total":180,"agile_workers_before":4,"agile_workers_target":90}}"#;
    println!(
        "  curl -X POST {base}/calls/{code}/applications -H 'Authorization: Bearer {}' \\\n    -H 'Content-Type: application/json' -d '{body}'",
        first_token.unwrap_or_default(),
    );
    println!("  curl {base}/calls/{code}/ranking");
    println!("  curl '{base}/ledger?after=0&limit=10'");
    println!();
    println!("Demo accounts: FOR THE DEMO ONLY, new passwords at every start:");
    for (email, name, role, entities) in DEMO_ACCOUNTS {
        let password = demo_password();
        app.ensure_account(email, name, role, &password, entities)
            .await
            .map_err(crate::refused)?;
        let what = match role {
            Role::Admin => "official of the Region".to_string(),
            Role::Reviewer => "reviewer of the Region".to_string(),
            Role::Applicant => {
                let mut names = Vec::new();
                for code in entities {
                    names.push(match store.entity(code).await? {
                        Some(e) => e.name,
                        None => code.to_string(),
                    });
                }
                format!("applicant for {}", names.join(", "))
            }
        };
        println!("  {email:<24} password {password}   {what}");
    }
    println!("  sign in at http://{listen}/accedi");
    println!();
    Ok(())
}
