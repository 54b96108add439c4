//! `bandi demo`: the Emilia-Romagna 2020 call on an embedded database, ready to try.

use std::net::SocketAddr;

use anyhow::Context;
use bandi_app::{Actor, App};
use bandi_domain::account::Role;
use bandi_domain::call::Call;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::registry::parse_registry;
use bandi_domain::service::Catalogue;
use jiff::Timestamp;

const CALL: &str = include_str!("../../../calls/er-2020-smart-working.toml");
const COMUNI: &str = include_str!("../../../data/istat-comuni.csv");
const UNIONI: &str = include_str!("../../../data/er-unioni.csv");
const PRACTICES: &str = include_str!("../../../data/demo-practices.toml");
const SERVICES: &str = include_str!("../../../data/demo-services.toml");

/// The example practices' file.
#[derive(serde::Deserialize)]
struct DemoPractices {
    practice: Vec<DemoPractice>,
}

#[derive(serde::Deserialize)]
struct DemoPractice {
    entity: String,
    #[serde(flatten)]
    content: bandi_domain::practice::PracticeContent,
}

/// The example practices, published at once and marked as examples on their pages: their
/// numbers and authorities.
async fn seed_practices(app: &App) -> anyhow::Result<Vec<(i64, String)>> {
    let file: DemoPractices = toml::from_str(PRACTICES).context("the demo practices")?;
    let mut seeded = Vec::new();
    for p in &file.practice {
        let n = app
            .propose_practice(&Actor::Operator, &p.entity, p.content.clone(), true)
            .await
            .map_err(crate::refused)?;
        seeded.push((n, p.entity.clone()));
    }
    Ok(seeded)
}

/// Who gets a demo token: Cervia, Bologna, the Distretto Ceramico and the Circondario Imolese.
const DEMO_ENTITIES: [&str; 4] = ["039007", "037006", "ucdc", "circondario_imolese"];

/// The demo's accounts: an official of the Region, staff acting for Cervia, the Unione
/// dei Comuni del Distretto Ceramico and Bologna, and staff of the Circondario Imolese.
/// Addresses under `.example` (RFC 2606): they reach nobody.
const DEMO_ACCOUNTS: [(&str, &str, Role, &[&str]); 4] = [
    (
        "regione@bandi.example",
        "Ufficio bandi della Regione (demo)",
        Role::Admin,
        &[],
    ),
    (
        "istruttore@bandi.example",
        "Istruttore della Regione (demo)",
        Role::Reviewer,
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

/// The second demo call: the same rules, opened two days ago, with the applications of a
/// click day already in (the 2020 shape: the funds reached about thirty projects, the rest
/// wait), ready for the review, a top-up of 1.45 M€ and a published list.
const REVIEW_CODE: &str = "er-2020-smart-working-istruttoria";

/// The first applications in protocol order (the press's figures for 2020), then comuni of
/// the region with projects of these sizes in turn.
const FIRST: [(&str, i64); 5] = [
    ("ucdc", 150_000),
    ("circondario_imolese", 140_000),
    ("urf", 150_000),
    ("ubr", 150_000),
    ("039007", 75_000),
];
const SIZES: [i64; 6] = [60_000, 85_000, 100_000, 70_000, 120_000, 90_000];
const REVIEW_APPLICATIONS: usize = 55;
/// Bologna's place: among the waiting ones, so that the demo's applicant sees the waitlist
/// move.
const BOLOGNA_AT: usize = 34;

/// The body of an application for a project of `euros`: start-up 20%, training 30%,
/// technology 50%, of which `desktops` virtual desktops for a year from the catalogue, and
/// the practices it cites.
fn project(
    name: &str,
    euros: i64,
    catalogue: &Catalogue,
    desktops: u32,
    practices: &[i64],
) -> anyhow::Result<serde_json::Value> {
    let cents = euros * 100;
    let planning = cents / 5;
    let training = cents * 3 / 10;
    let vdi = catalogue
        .service("LEP-VDI")
        .context("the demo catalogue has LEP-VDI")?;
    let months = desktops * 12;
    let vdi_cents = vdi.price_of(months).context("a year of desktops")?.cents();
    Ok(serde_json::json!({
        "title": format!("Smart working: {name}"),
        "summary": "Avvio e gestione del cambiamento; piano di formazione per dipendenti e dirigenti; roadmap tecnologica con servizi cloud nei datacenter Lepida.",
        "lines": [
            {"category": "planning", "description": "Progettazione e avvio", "amount_cents": planning},
            {"category": "training", "description": "Formazione di dipendenti e dirigenti", "amount_cents": training},
            {"category": "technology", "description": vdi.line_description(months, bandi_domain::i18n::Locale::It), "amount_cents": vdi_cents,
             "service": {"code": vdi.code, "quantity": months, "unit_price_cents": vdi.unit_price.cents()}},
            {"category": "technology", "description": "Cloud Lepida e strumenti di collaborazione", "amount_cents": cents - planning - training - vdi_cents},
        ],
        "indicators": {"staff_total": 40 + euros / 1000, "agile_workers_before": 2, "agile_workers_target": 20 + euros / 5000, "people_to_train": 10 + euros / 3000},
        "practices": practices,
    }))
}

/// The review's demo call and its applications, once.
async fn seed_review_call(
    app: &App,
    entities: &[bandi_domain::entity::Entity],
    catalogue: &Catalogue,
    practices: &[(i64, String)],
) -> anyhow::Result<()> {
    let operator = Actor::Operator;
    let mut call = Call::from_toml(CALL).context("the shipped call file")?;
    call.code = bandi_domain::call::CallCode::parse(REVIEW_CODE).map_err(anyhow::Error::msg)?;
    call.protocol_prefix = "ER-IS".into();
    call.title.it = format!("Istruttoria (dati di prova): {}", call.title.it);
    call.title.en = format!("Review (sample data): {}", call.title.en);
    let opens = truncate_to_micros(Timestamp::now()) - crate::minutes(2 * 24 * 60);
    call.reschedule(opens, None).map_err(anyhow::Error::msg)?;
    app.import_call(&operator, &call)
        .await
        .map_err(crate::refused)?;
    let comuni: Vec<&bandi_domain::entity::Entity> = entities
        .iter()
        .filter(|e| e.kind == bandi_domain::entity::EntityKind::Comune)
        .filter(|e| !["039007", "037006"].contains(&e.code.as_str()))
        .collect();
    let mut order: Vec<(String, String, i64)> = FIRST
        .iter()
        .map(|(code, euros)| {
            let name = entities
                .iter()
                .find(|e| e.code.as_str() == *code)
                .map(|e| e.name.clone())
                .unwrap_or_else(|| code.to_string());
            (code.to_string(), name, *euros)
        })
        .collect();
    for (i, e) in comuni.iter().enumerate() {
        if order.len() >= REVIEW_APPLICATIONS {
            break;
        }
        if order.len() == BOLOGNA_AT {
            order.push(("037006".into(), "Comune di Bologna".into(), 150_000));
        }
        order.push((e.code.to_string(), e.name.clone(), SIZES[i % SIZES.len()]));
    }
    for (i, (code, name, euros)) in order.iter().enumerate() {
        let entity = bandi_domain::entity::EntityCode::parse(code).map_err(anyhow::Error::msg)?;
        // One in three reuses an example practice of another authority, and cites it.
        let mut cited = Vec::new();
        if i % 3 == 0
            && let Some((n, _)) = practices
                .iter()
                .cycle()
                .skip(i / 3)
                .take(practices.len())
                .find(|(_, owner)| owner != code)
        {
            app.reuse_practice(&Actor::Operator, *n, code)
                .await
                .map_err(crate::refused)?;
            cited.push(*n);
        }
        let desktops = 5 + (*euros / 10_000) as u32;
        app.submit(
            &Actor::Entity(code.clone()),
            bandi_app::intake::Submit {
                call: call.code.clone(),
                entity,
                idempotency_key: None,
                content: bandi_app::intake::Content::Json(project(
                    name, *euros, catalogue, desktops, &cited,
                )?),
            },
        )
        .await
        .map_err(crate::refused)?;
    }
    println!(
        "Seeded a second call, ready for the review: {} applications already in, the funds reaching about thirty.",
        order.len()
    );
    Ok(())
}

/// After the review, in the second call: the Distretto Ceramico's project verified and paid
/// (on the transparency page), Cervia's admitted with its CUP and its expense report
/// submitted, waiting for the reviewer's verification.
async fn seed_awards(app: &App) -> anyhow::Result<()> {
    use bandi_app::review::Which;
    use bandi_domain::report::verification::{ExpenseOutcome, PaymentKind};
    use bandi_domain::review::Action;
    let user = |email: &'static str| async move {
        let (u, _) = app
            .store()
            .user_by_email(email)
            .await?
            .with_context(|| format!("the demo account {email}"))?;
        anyhow::Ok(Actor::User(u))
    };
    let reviewer = user("istruttore@bandi.example").await?;
    let admin = user("regione@bandi.example").await?;
    let staff = user("enti@bandi.example").await?;
    let code = bandi_domain::call::CallCode::parse(REVIEW_CODE).map_err(anyhow::Error::msg)?;
    let today = Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date()
        .to_string();
    const PDF: &[u8] = b"%PDF-1.7\n% demo\n1 0 obj << >> endobj\n%%EOF\n";
    for (seq, cup) in [(1u64, "E41B20000150001"), (5, "E41B20000150005")] {
        let which = Which::Seq(code.clone(), seq);
        app.review(&reviewer, &which, Action::Take { takeover: false })
            .await
            .map_err(crate::refused)?;
        for item in [
            "eligible_body",
            "three_parts",
            "costs_eligible",
            "approving_act",
        ] {
            app.review(
                &reviewer,
                &which,
                Action::Check {
                    item: item.into(),
                    passed: true,
                    note: String::new(),
                },
            )
            .await
            .map_err(crate::refused)?;
        }
        app.review(
            &reviewer,
            &which,
            Action::Admit {
                reason: "Progetto conforme al bando: avvio, piano formativo e roadmap tecnologica presenti.".into(),
            },
        )
        .await
        .map_err(crate::refused)?;
        app.record_cup(&staff, &which, cup)
            .await
            .map_err(crate::refused)?;
        let view = app
            .report_view(&staff, &which)
            .await
            .map_err(crate::refused)?;
        let lines = view.app.admitted_content().lines;
        let expenses: Vec<bandi_domain::report::Expense> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| bandi_domain::report::Expense {
                supplier: if i == 2 {
                    "Lepida ScpA".into()
                } else {
                    format!("Fornitore {}", i + 1)
                },
                supplier_tax_id: "02770891204".into(),
                invoice_number: format!("FT-2020/{}", 100 + i),
                invoice_date: today.clone(),
                category: l.category.clone(),
                description: l.description.clone(),
                amount_cents: l.amount_cents,
                paid_on: today.clone(),
                documents: vec![],
            })
            .collect();
        let uploads = (0..expenses.len())
            .flat_map(|i| ["invoice", "payment"].map(|c| format!("expense-{i}-{c}")))
            .map(|code| {
                bandi_app::drafts::Upload::from_bytes(&code, &format!("{code}.pdf"), PDF.to_vec())
            })
            .collect();
        let content = bandi_domain::report::ReportContent {
            expenses,
            indicators: [(
                "agile_workers_target".to_string(),
                bandi_domain::application::IndicatorValue::Integer(35),
            )]
            .into_iter()
            .collect(),
            notes: "Progetto concluso nei tempi.".into(),
        };
        app.save_report(&staff, &which, content, uploads)
            .await
            .map_err(crate::refused)?;
        app.submit_report(&staff, &which)
            .await
            .map_err(crate::refused)?;
    }
    // The Distretto Ceramico: verified (one expense in part), closed, paid.
    let which = Which::Seq(code.clone(), 1);
    let n = app
        .report_view(&reviewer, &which)
        .await
        .map_err(crate::refused)?
        .report
        .map(|r| r.content.expenses.len())
        .unwrap_or(0);
    for line in 0..n {
        let (outcome, partial, reason) = if line == n - 1 {
            (
                ExpenseOutcome::Partial,
                Some(bandi_domain::money::Money::from_euros(60_000)),
                "Canone cloud oltre la durata del progetto.",
            )
        } else {
            (ExpenseOutcome::Accepted, None, "")
        };
        app.check_report_expense(&reviewer, &which, line, outcome, partial, reason)
            .await
            .map_err(crate::refused)?;
    }
    app.close_verification(&reviewer, &which)
        .await
        .map_err(crate::refused)?;
    let grant = app
        .report_view(&admin, &which)
        .await
        .map_err(crate::refused)?
        .report
        .and_then(|r| r.final_grant)
        .context("the final grant")?;
    app.record_payment(
        &admin,
        &which,
        PaymentKind::Balance,
        grant,
        &today,
        bandi_domain::review::act("DD 21450/2020", &today, None)
            .map_err(|e| anyhow::anyhow!("{}", e.text().en))?,
    )
    .await
    .map_err(crate::refused)?;
    println!(
        "After the review: the Distretto Ceramico's report verified and paid; Cervia's submitted, to verify."
    );
    Ok(())
}

/// `bandi demo --reset`: deletes the embedded database and the checkpoints mirrored from
/// its ledger, so that the demo starts over; the signing key stays (the deployment's
/// identity). Refused on PostgreSQL: dropping a server's database is not the demo's to do.
pub fn reset(database: &str) -> anyhow::Result<()> {
    let Some(path) = database.strip_prefix("sqlite:") else {
        anyhow::bail!(
            "--reset deletes only the embedded SQLite database; on PostgreSQL create a new database and give it with --database"
        );
    };
    let file = std::path::PathBuf::from(
        path.trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or(""),
    );
    let mut removed = Vec::new();
    let mut targets: Vec<std::path::PathBuf> = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            name.into()
        })
        .collect();
    if let Some(dir) = file.parent() {
        targets.push(dir.join("checkpoints.jsonl"));
    }
    for target in targets {
        match std::fs::remove_file(&target) {
            Ok(()) => removed.push(target.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot delete {}", target.display())),
        }
    }
    if removed.is_empty() {
        println!("Nothing to reset: {} does not exist yet.", file.display());
    } else {
        println!("Started over: deleted {}.", removed.join(", "));
    }
    Ok(())
}

/// The demo call's opening `minutes` from now, on a whole minute, and its closing on the
/// day as far from the opening as in the call file, at the file's closing time of day (18:00):
/// round times, as a real call has.
fn demo_schedule(call: &Call, minutes: i64) -> anyhow::Result<(Timestamp, Timestamp)> {
    let tz = call.tz();
    let soon = Timestamp::now() + crate::minutes(minutes);
    let opens = Timestamp::from_second((soon.as_second() / 60 + 1) * 60)?;
    let was_open = call.opens_at.to_zoned_datetime(tz.clone());
    let was_closed = call.closes_at.to_zoned_datetime(tz.clone());
    let days = was_closed.date().since(was_open.date())?;
    let close_day = opens
        .to_zoned_datetime(tz.clone())
        .date()
        .checked_add(days)?;
    let closes = close_day
        .to_datetime(was_closed.time())
        .to_zoned_datetime(tz)?
        .timestamp();
    Ok((opens, closes))
}

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
    let fresh = existing.is_none();
    if fresh {
        let mut entities = parse_registry(COMUNI, Some("08")).map_err(anyhow::Error::msg)?;
        entities.extend(parse_registry(UNIONI, Some("08")).map_err(anyhow::Error::msg)?);
        app.import_entities(&operator, &entities)
            .await
            .map_err(crate::refused)?;
        let (opens, closes) = demo_schedule(&call, opens_in_minutes)?;
        call.reschedule(opens, Some(closes))
            .map_err(anyhow::Error::msg)?;
        app.import_call(&operator, &call)
            .await
            .map_err(crate::refused)?;
        // Before the review call's applications: its intake's writer and checkpointer then
        // keep SQLite busy for a moment, and nothing needs to wait on them here.
        let practices = seed_practices(app).await?;
        let (catalogue, _) = app
            .import_catalogue_file(&operator, SERVICES)
            .await
            .map_err(crate::refused)?;
        seed_review_call(app, &entities, &catalogue, &practices).await?;
        println!(
            "Seeded {} example practices (written for the demo) at /pratiche, and a services catalogue of {} services (example prices) at /servizi.",
            practices.len(),
            catalogue.services.len()
        );
        println!(
            "Seeded {} entities of Emilia-Romagna and the 2020 smart-working call.",
            entities.len()
        );
    } else {
        println!(
            "The demo database already holds the call: serving it as it is, --opens-in does not move it."
        );
        println!("  To start over with a new click day: bandi demo --reset [--opens-in MINUTES]");
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
    if fresh {
        println!(
            "  it opens in {opens_in_minutes} minutes: time to prepare an application; another delay with --opens-in MINUTES"
        );
    }
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
    if fresh {
        seed_awards(app).await?;
    }
    println!();
    println!("The walk after the click day (the second call, {REVIEW_CODE}):");
    println!(
        "  1. as istruttore@: Amministrazione → the call → a protocol number → «Prendi in carico»,"
    );
    println!(
        "     tick the checklist, «Ammetti» or «Non ammettere» (the funds freed go to the next waiting"
    );
    println!("     application at once: see http://{listen}/bandi/{REVIEW_CODE}/graduatoria);");
    println!(
        "  2. ask Bologna (ER-IS-…/0000035, waiting) for an integration; as enti@ answer it from the receipt;"
    );
    println!(
        "  3. as regione@: on the call's page add 1450000 € by an act (Bologna is funded), then publish"
    );
    println!("     the list: http://{listen}/bandi/{REVIEW_CODE}/elenco;");
    println!(
        "  4. as istruttore@: verify Cervia's expense report (…/domande/5/rendiconto) and close it; as"
    );
    println!(
        "     regione@ pay the final grant; see it at http://{listen}/bandi/{REVIEW_CODE}/trasparenza;"
    );
    println!("  5. `bandi verify` replays every event and checks it against the stored state.");
    println!();
    Ok(())
}
