//! A store with Emilia-Romagna comuni and the 2020 call, and the people who act on it.

use bandi_app::{Actor, App};
use bandi_domain::account::Role;
use bandi_domain::call::{Call, CallCode};
use bandi_domain::entity::{Entity, EntityCode, EntityKind};
use bandi_store::intake::Intake;
use bandi_store::testing::TestDb;
use bandi_store::{Store, User};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

pub const ER_CALL_TOML: &str = include_str!("../../../../calls/er-2020-smart-working.toml");
pub const PASSWORD: &str = "una password lunga e sicura";

pub fn er_call(opens_in: SignedDuration) -> Call {
    let mut call = Call::from_toml(ER_CALL_TOML).expect("the ER call parses");
    call.reschedule(Timestamp::now() + opens_in, None)
        .expect("reschedule");
    call
}

pub fn code() -> CallCode {
    CallCode::parse("er-2020-smart-working").unwrap()
}

pub fn comune(code: &str, region: &str) -> Entity {
    Entity {
        code: EntityCode::parse(code).unwrap(),
        name: format!("Comune {code}"),
        kind: EntityKind::Comune,
        fiscal_code: None,
        province: Some("RA".into()),
        region_code: Some(region.into()),
        istat_code: None,
        pec: None,
        members: vec![],
    }
}

pub fn entity(code: &str) -> EntityCode {
    EntityCode::parse(code).unwrap()
}

/// The use cases over a fresh database: comuni `080001`…`080003` of Emilia-Romagna and
/// `090001` of Tuscany, the ER call opening `opens_in` from now.
pub async fn app(db: &TestDb, opens_in: SignedDuration) -> App {
    let store = Store::connect(&db.url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let app = App::new(
        store.clone(),
        Intake::start(store, 1_000).with_max_queue_delay(std::time::Duration::from_secs(600)),
    );
    let entities = vec![
        comune("080001", "08"),
        comune("080002", "08"),
        comune("080003", "08"),
        comune("090001", "09"),
    ];
    app.import_entities(&Actor::Operator, &entities)
        .await
        .unwrap();
    app.import_call(&Actor::Operator, &er_call(opens_in))
        .await
        .unwrap();
    app
}

/// An account made through the use case, with its role and entities.
pub async fn person(app: &App, email: &str, role: Role, entities: &[&str]) -> Actor {
    let user: User = app
        .create_account(
            &Actor::Operator,
            bandi_app::accounts::NewAccount {
                email: email.into(),
                name: email.into(),
                role: Some(role),
                password: PASSWORD.into(),
                entities: entities.iter().map(|e| e.to_string()).collect(),
                fiscal_code: String::new(),
            },
        )
        .await
        .unwrap();
    Actor::User(user)
}

pub fn body(euros: i64) -> Value {
    json!({
        "title": "Smart working",
        "summary": "Avvio, formazione, cloud",
        "lines": [{"category": "training", "description": "Formazione", "amount_cents": euros * 100}],
        "indicators": {"staff_total": 50, "agile_workers_before": 2, "agile_workers_target": 30}
    })
}

/// What a refusal must leave as it was: the ledger and the applications.
pub async fn footprint(app: &App) -> (usize, usize) {
    let store = app.store();
    (
        store.ledger_page(0, 10_000).await.unwrap().len(),
        store.ranking(code().as_str()).await.unwrap().len(),
    )
}
