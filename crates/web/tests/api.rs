//! HTTP contract of `/api/v1`, against the real router on a real socket, on SQLite and on
//! PostgreSQL (when `BANDI_TEST_POSTGRES_URL` is set; `scripts/test.sh` always sets it).

use std::sync::Arc;

use bandi_domain::call::Call;
use bandi_domain::entity::{Entity, EntityKind};
use bandi_store::Store;
use bandi_store::testing::TestDb;
use bandi_web::testing::{ER_CALL as CODE, ER_CALL_TOML as CALL, TestServer, entity};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[path = "api/holes.rs"]
mod holes;
use holes::*;

#[path = "api/review.rs"]
mod review;
use review::*;
#[path = "api/proofs.rs"]
mod proofs;
use proofs::*;

struct App {
    base: String,
    client: reqwest::Client,
    store: Store,
    _db: TestDb,
}

fn comune(code: &str, region: &str) -> Entity {
    let mut e = entity(code, &format!("Comune {code}"), EntityKind::Comune, region);
    e.istat_code = Some(code.into());
    e
}

/// A server with the ER call opened `opens_in` from now and `n` comuni of the region.
async fn start(db: TestDb, n: usize, opens_in: SignedDuration) -> App {
    start_with_net(db, n, opens_in, bandi_web::NetConfig::default()).await
}

async fn start_with_net(
    db: TestDb,
    n: usize,
    opens_in: SignedDuration,
    net: bandi_web::NetConfig,
) -> App {
    let mut entities: Vec<Entity> = (1..=n)
        .map(|i| comune(&format!("08{i:04}"), "08"))
        .collect();
    entities.push(comune("090001", "09"));
    let mut unione = comune("ucdc", "08");
    unione.kind = EntityKind::Unione;
    entities.push(unione);
    let mut regione = comune("regione_er", "08");
    regione.kind = EntityKind::Regione;
    entities.push(regione);
    let call = bandi_web::testing::er_call(opens_in);
    let server = TestServer::start_with_net(db, &entities, &call, 10_000, net).await;
    App {
        base: format!("{}/api/v1", server.origin),
        client: reqwest::Client::new(),
        store: server.store,
        _db: server.db,
    }
}

async fn open_app(db: TestDb, n: usize) -> App {
    start(db, n, SignedDuration::from_mins(-1)).await
}

fn body(euros: i64) -> Value {
    json!({
        "title": "Smart working",
        "summary": "Avvio, formazione, cloud",
        "lines": [{"category": "training", "description": "Formazione", "amount_cents": euros * 100}],
        "indicators": {"staff_total": 50, "agile_workers_before": 2, "agile_workers_target": 30}
    })
}

impl App {
    async fn token(&self, entity: &str) -> String {
        self.store.issue_token(entity).await.unwrap()
    }

    fn submit_req(&self, token: Option<&str>) -> reqwest::RequestBuilder {
        let r = self
            .client
            .post(format!("{}/calls/{CODE}/applications", self.base));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    async fn submit(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let res = self
            .submit_req(Some(token))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    /// What a refused request must leave unchanged.
    async fn footprint(&self) -> (usize, usize) {
        let ledger = self.store.ledger_page(0, 1000).await.unwrap().len();
        let ranking = self.store.ranking(CODE).await.unwrap().len();
        (ledger, ranking)
    }
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

async fn health_and_openapi(db: TestDb) {
    let app = open_app(db, 1).await;
    let (s, v) = app.get("/health").await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
    let (s, doc) = app.get("/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/health",
        "/openapi.json",
        "/calls/{code}",
        "/calls/{code}/ranking",
        "/calls/{code}/applications",
        "/applications/{id}",
        "/ledger",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    // Every documented route exists in the router: another method gets 405, not 404.
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{code}", CODE).replace("{id}", "x")
        );
        assert!(methods.is_object(), "{path}");
        let r = app.client.delete(&url).send().await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{path} is not routed"
        );
    }
    let (s, v) = app.get("/no/such/thing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&v), "not_found");
    let res = app
        .client
        .delete(format!("{}/calls/{CODE}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&res.json().await.unwrap()), "method_not_allowed");
}

async fn call_view(db: TestDb) {
    let app = open_app(db, 1).await;
    let (s, v) = app.get(&format!("/calls/{CODE}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "open");
    assert_eq!(v["budget_cents"], 200_000_000);
    assert_eq!(v["remaining_cents"], 200_000_000);
    assert_eq!(v["applications"], 0);
    for key in ["opens_at", "closes_at", "server_time"] {
        let t = v[key].as_str().unwrap();
        assert!(
            t.ends_with('Z') && t.len() == 27,
            "{key}: {t} is RFC 3339 UTC with microseconds"
        );
    }
    let (s, v) = app.get("/calls/nope").await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::NOT_FOUND, "call_not_found")
    );
    let (s, _) = app.get("/calls/%FF%FE").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn three_hundred_at_once(db: TestDb) {
    let app = Arc::new(open_app(db, 300).await);
    let mut tokens = Vec::new();
    for i in 1..=300 {
        tokens.push(app.token(&format!("08{i:04}")).await);
    }
    let mut set = tokio::task::JoinSet::new();
    for t in tokens {
        let app = app.clone();
        set.spawn(async move { app.submit(&t, &body(75_000)).await });
    }
    let mut receipts = Vec::new();
    while let Some(r) = set.join_next().await {
        let (s, v) = r.unwrap();
        assert_eq!(s, StatusCode::CREATED, "{v}");
        receipts.push(v);
    }
    receipts.sort_by_key(|r| r["seq"].as_u64().unwrap());
    let seqs: Vec<u64> = receipts
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=300).collect::<Vec<_>>(),
        "gap-free, no duplicate"
    );
    for w in receipts.windows(2) {
        assert!(w[0]["received_at"].as_str() <= w[1]["received_at"].as_str());
    }
    let year = &receipts[0]["received_at"].as_str().unwrap()[..4];
    assert_eq!(receipts[41]["protocol"], format!("ER-SW-{year}/0000042"));
    // 52,500 € each: 38 fit in 2 M€ (1,995,000), the rest waits in order.
    let reserved: i64 = receipts
        .iter()
        .map(|r| r["reserved_cents"].as_i64().unwrap())
        .sum();
    assert_eq!(reserved, 38 * 5_250_000);
    assert!(receipts[..38].iter().all(|r| r["status"] == "reserved"));
    assert!(receipts[38..].iter().all(|r| r["status"] == "waitlisted"));
    let (_, call) = app.get(&format!("/calls/{CODE}")).await;
    assert_eq!(call["reserved_cents"], reserved);
    assert_eq!(call["applications"], 300);
    assert_eq!(call["waitlisted"], 262);
    let (_, ranking) = app.get(&format!("/calls/{CODE}/ranking")).await;
    assert_eq!(ranking["items"].as_array().unwrap().len(), 300);
    assert_eq!(ranking["items"][0]["seq"], 1);
    let report = app.store.verify().await.unwrap();
    assert_eq!(report.applications, 300);
}

async fn retries_return_the_first_receipt(db: TestDb) {
    let app = open_app(db, 3).await;
    let t1 = app.token("080001").await;
    let (s, first) = app.submit(&t1, &body(75_000)).await;
    assert_eq!(s, StatusCode::CREATED);
    let before = app.footprint().await;
    // The same content again, from the same entity: 200 and the very same receipt.
    let (s, again) = app.submit(&t1, &body(75_000)).await;
    assert_eq!((s, &again), (StatusCode::OK, &first));
    // Different content from an entity that already applied: 409 naming the protocol.
    let (s, v) = app.submit(&t1, &body(80_000)).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::CONFLICT, "already_applied")
    );
    assert_eq!(v["error"]["protocol"], first["protocol"]);
    assert_eq!(app.footprint().await, before);

    let t2 = app.token("080002").await;
    let send = |key: &'static str, b: Value| {
        app.submit_req(Some(&t2))
            .header("Idempotency-Key", key)
            .json(&b)
            .send()
    };
    let r = send("k-1", body(10_000)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let keyed: Value = r.json().await.unwrap();
    let before = app.footprint().await;
    let r = send("k-1", body(10_000)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), keyed);
    let r = send("k-1", body(20_000)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(error_code(&v), "idempotency_conflict");
    assert_eq!(v["error"]["protocol"], keyed["protocol"]);
    assert_eq!(app.footprint().await, before);
    // Concurrent retries of one request create one application.
    let t3 = app.token("080003").await;
    let attempts = futures_join(&app, &t3).await;
    let created = attempts
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|(_, v)| v["protocol"] == attempts[0].1["protocol"])
    );
}

/// Eight copies of one request in flight at once.
async fn futures_join(app: &App, token: &str) -> Vec<(StatusCode, Value)> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app.submit_req(Some(token)).json(&body(30_000));
        set.spawn(async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

async fn refusals_store_nothing(db: TestDb) {
    let app = open_app(db, 2).await;
    let token = app.token("080001").await;
    let outsider = app.token("090001").await;
    let regione = app.token("regione_er").await;
    let before = app.footprint().await;

    // 413 before anything else, even with no token.
    let huge = json!({"title": "x".repeat(70 * 1024), "lines": []});
    // Its own client: the server closes that connection without reading the body.
    let r = reqwest::Client::new()
        .post(format!("{}/calls/{CODE}/applications", app.base))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["connection"], "close");
    assert_eq!(error_code(&r.json().await.unwrap()), "body_too_large");
    // 404 for an unknown call, before the token is looked at.
    let r = app
        .client
        .post(format!("{}/calls/nope/applications", app.base))
        .json(&body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // 401: missing, unknown, not Bearer.
    for auth in [
        None,
        Some("Bearer nope"),
        Some("Basic Zm9vOmJhcg=="),
        Some("Bearer "),
    ] {
        let mut req = app.submit_req(None).json(&body(1));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(error_code(&r.json().await.unwrap()), "unauthorized");
    }
    // 400: not JSON, not an object.
    for raw in ["{not json", "[1,2]", "\"text\"", ""] {
        let r = app
            .submit_req(Some(&token))
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{raw}");
        assert_eq!(error_code(&r.json().await.unwrap()), "invalid_json");
    }
    // 403: not eligible (another region, a kind the call excludes).
    for t in [&outsider, &regione] {
        let (s, v) = app.submit(t, &body(75_000)).await;
        assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "not_eligible"));
    }
    // 422: every problem listed.
    let bad = json!({
        "title": "x".repeat(301),
        "summary": "a\u{0}b",
        "colour": "red",
        "lines": [
            {"category": "training", "description": "d", "amount_cents": 12.5},
            {"category": "training", "description": "d", "amount_cents": "500"},
            {"category": "catering", "description": "d", "amount_cents": 100},
            {"category": "training", "description": "d", "amount_cents": 0},
        ],
        "indicators": {"staff_total": 1, "agile_workers_before": 1, "agile_workers_target": 1}
    });
    let (s, v) = app.submit(&token, &bad).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_application")
    );
    let details: Vec<(String, String)> = v["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().into(),
                d["code"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (field, code) in [
        ("title", "too_long"),
        ("summary", "control_characters"),
        ("colour", "unknown_field"),
        ("lines[0].amount_cents", "wrong_type"),
        ("lines[1].amount_cents", "wrong_type"),
        ("lines[2].category", "unknown_category"),
        ("lines[3].amount_cents", "amount_not_positive"),
    ] {
        assert!(
            details.contains(&(field.into(), code.into())),
            "{field} {code} in {details:?}"
        );
    }
    let max = bandi_domain::money::Money::MAX_AMOUNT.cents();
    let overflow = json!({"title": "t", "lines": [
        {"category": "training", "amount_cents": max}, {"category": "training", "amount_cents": max}],
        "indicators": {"staff_total": 1, "agile_workers_before": 1, "agile_workers_target": 1}});
    let (s, v) = app.submit(&token, &overflow).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["details"][0]["code"], "sum_overflow");
    let devices = json!({"title": "t", "lines": [{"category": "devices", "amount_cents": 100_000}],
        "indicators": {"staff_total": 1, "agile_workers_before": 1, "agile_workers_target": 1}});
    let (s, v) = app.submit(&token, &devices).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["details"][0]["code"], "no_eligible_cost");
    // A bad Idempotency-Key.
    let r = app
        .submit_req(Some(&token))
        .header("Idempotency-Key", "x".repeat(300))
        .json(&body(75_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    assert_eq!(
        app.footprint().await,
        before,
        "a refused request stored something"
    );
}

async fn not_open_and_closed(db: TestDb) {
    let app = start(db, 1, SignedDuration::from_hours(1)).await;
    let token = app.token("080001").await;
    let before = app.footprint().await;
    let (s, v) = app.submit(&token, &body(75_000)).await;
    assert_eq!(
        (s, error_code(&v)),
        (StatusCode::FORBIDDEN, "call_not_open")
    );
    let server_time: Timestamp = v["error"]["server_time"].as_str().unwrap().parse().unwrap();
    assert!(Timestamp::now().duration_since(server_time).as_secs().abs() < 60);
    assert!(v["error"]["opens_at"].is_string());
    // Closed: reschedule the call to have closed a minute ago (no application yet).
    let mut call = Call::from_toml(CALL).unwrap();
    let now = Timestamp::now();
    call.reschedule(
        now - SignedDuration::from_hours(2),
        Some(now - SignedDuration::from_mins(1)),
    )
    .unwrap();
    app.store.import_call(&call).await.unwrap();
    let before_closed = app.footprint().await;
    assert_eq!(before_closed.1, before.1);
    let (s, v) = app.submit(&token, &body(75_000)).await;
    assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "call_closed"));
    assert!(v["error"]["server_time"].is_string());
    assert_eq!(app.footprint().await, before_closed);
}

async fn a_retry_after_closing_gets_its_receipt(db: TestDb) {
    let app = open_app(db, 2).await;
    let token = app.token("080001").await;
    let (s, receipt) = app.submit(&token, &body(75_000)).await;
    assert_eq!(s, StatusCode::CREATED);
    // Close the call by moving the clock of the rules: replace is refused once there are
    // applications, so close it in the database as an official's edit would.
    let pool = sqlx_pool(&app).await;
    let rules: (String,) = sqlx::query_as("SELECT rules FROM calls WHERE code = $1")
        .bind(CODE)
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut call: Call = serde_json::from_str(&rules.0).unwrap();
    call.closes_at = Timestamp::now() - SignedDuration::from_secs(1);
    // A new rules hash, as an import gives, so that the sequencer reads them again.
    sqlx::query("UPDATE calls SET rules = $1, rules_sha256 = 'edited' WHERE code = $2")
        .bind(serde_json::to_string(&call).unwrap())
        .bind(CODE)
        .execute(&pool)
        .await
        .unwrap();
    let (s, again) = app.submit(&token, &body(75_000)).await;
    assert_eq!((s, &again), (StatusCode::OK, &receipt));
    let other = app.token("080002").await;
    let (s, v) = app.submit(&other, &body(75_000)).await;
    assert_eq!((s, error_code(&v)), (StatusCode::FORBIDDEN, "call_closed"));
}

async fn sqlx_pool(app: &App) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = app._db.url.clone();
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rw")
    } else {
        url
    };
    sqlx::AnyPool::connect(&url).await.unwrap()
}

async fn only_the_owner_sees_an_application(db: TestDb) {
    let app = open_app(db, 2).await;
    let owner = app.token("080001").await;
    let other = app.token("080002").await;
    let (_, receipt) = app.submit(&owner, &body(75_000)).await;
    let id = receipt["id"].as_str().unwrap();
    let get = |token: Option<String>, id: String| {
        let mut r = app.client.get(format!("{}/applications/{id}", app.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let r = get(Some(owner.clone()), id.into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["receipt"], receipt);
    assert_eq!(v["status"], "reserved");
    assert_eq!(v["content"]["title"], "Smart working");
    let r = get(Some(other), id.into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let leaked = r.text().await.unwrap();
    assert!(!leaked.contains("Smart working") && !leaked.contains("080001"));
    let r = get(Some(owner), "0".repeat(32)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = get(None, id.into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

async fn ledger_pages_and_chain(db: TestDb) {
    let app = open_app(db, 5).await;
    for i in 1..=5 {
        let t = app.token(&format!("08{i:04}")).await;
        let (s, _) = app.submit(&t, &body(10_000)).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, page) = app.get("/ledger?after=0&limit=4").await;
    assert_eq!(s, StatusCode::OK);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(page["next_after"], 4);
    assert_eq!(items[0]["kind"], "call_published");
    assert_eq!(items[1]["prev_hash"], items[0]["hash"]);
    let (_, rest) = app.get("/ledger?after=4").await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["items"][0]["prev_hash"], items[3]["hash"]);
    assert_eq!(rest["next_after"], 6);
    // Anyone can recompute a hash from the public fields.
    let e = &items[2];
    let recomputed = bandi_domain::ledger::entry_hash(
        e["seq"].as_u64().unwrap(),
        e["prev_hash"].as_str().unwrap(),
        e["kind"].as_str().unwrap(),
        e["at"].as_str().unwrap(),
        e["payload"].as_str().unwrap(),
    );
    assert_eq!(e["hash"], recomputed);
    for bad in ["limit=1001", "limit=abc", "after=-1"] {
        let (s, v) = app.get(&format!("/ledger?{bad}")).await;
        assert_eq!(
            (s, error_code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}"
        );
    }
}

async fn errors_speak_english_on_request(db: TestDb) {
    let app = open_app(db, 1).await;
    let r = app
        .client
        .get(format!("{}/calls/nope", app.base))
        .header("Accept-Language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "No such call.");
    let (_, v) = app.get("/calls/nope").await;
    assert_eq!(v["error"]["message"], "Bando inesistente.");
}

/// The document and the error bodies as clients see them, snapshot-tested: a change to a
/// route, a field or an error's code shows up in review (`INSTA_UPDATE=always` accepts).
#[test]
fn the_openapi_document_and_the_error_bodies_are_as_published() {
    insta::assert_json_snapshot!("openapi", bandi_web::openapi::document());
    let t: Timestamp = "2020-04-03T07:30:00Z".parse().unwrap();
    let errors: Vec<(u16, Value)> = [
        bandi_app::AppError::CallNotFound,
        bandi_app::AppError::OutsideWindow(bandi_domain::call::OutsideWindow::NotOpenYet {
            opens_at: t,
            server_time: t,
        }),
        bandi_app::AppError::OutsideWindow(bandi_domain::call::OutsideWindow::Closed {
            closes_at: t,
            server_time: t,
        }),
        bandi_app::AppError::AlreadyApplied {
            protocol: "ER-SW-2020/0000001".into(),
        },
        bandi_app::AppError::IdempotencyConflict {
            protocol: "ER-SW-2020/0000001".into(),
        },
        bandi_app::AppError::InvalidApplication(vec![bandi_domain::i18n::FieldError::new(
            "lines[0].amount_cents",
            "amount_not_positive",
            "L'importo deve essere maggiore di zero.",
            "The amount must be greater than zero.",
        )]),
        bandi_app::AppError::TooManyInFlight,
        bandi_app::AppError::Overloaded,
        bandi_app::AppError::Throttled { retry_after: 900 },
    ]
    .into_iter()
    .map(|e| {
        let e = bandi_web::ApiError::from(e);
        (e.status.as_u16(), e.to_json())
    })
    .chain([415u16, 414, 431, 408].into_iter().map(|s| {
        let e = bandi_web::ApiError::from_status(StatusCode::from_u16(s).unwrap());
        (s, e.to_json())
    }))
    .collect();
    insta::assert_json_snapshot!("error_bodies", errors);
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(bandi_store::testing::TestDb::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    match bandi_store::testing::TestDb::postgres().await {
                        Some(db) => super::$case(db).await,
                        None => eprintln!("BANDI_TEST_POSTGRES_URL not set: PostgreSQL case skipped"),
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    health_and_openapi,
    call_view,
    three_hundred_at_once,
    retries_return_the_first_receipt,
    refusals_store_nothing,
    not_open_and_closed,
    a_retry_after_closing_gets_its_receipt,
    only_the_owner_sees_an_application,
    ledger_pages_and_chain,
    errors_speak_english_on_request,
    ledger_paging_out_of_range,
    http_details,
    same_content_with_a_new_key_is_a_retry,
    slow_clients_are_cut_off,
    format_characters_are_stripped,
    review_needs_an_officials_token,
    review_refuses_bad_bodies_and_paths,
    review_moves_the_waitlist,
    review_holds_and_takeovers,
    review_admits_reduces_and_records_the_cup,
    review_changes_the_budget,
    review_publishes_lists,
    review_take_race_has_one_winner,
    review_refuses_unknown_fields,
    review_refuses_a_second_cup,
    review_a_decision_closes_the_open_request,
    review_line_cuts_accumulate,
    receipts_are_signed_by_batch_and_verify,
    checkpoints_sign_the_head,
    the_ledger_holds_the_rules,
);
