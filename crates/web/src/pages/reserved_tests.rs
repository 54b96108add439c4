//! The reserved pages (sign-in, applicants, officials) against the real router on a real
//! socket, as a browser without JavaScript uses them: cookies kept by hand, forms posted
//! URL-encoded or multipart, redirects not followed so that each answer can be checked.

use std::collections::BTreeMap;
use std::time::Duration;

use bandi_domain::entity::EntityKind;
use bandi_store::testing::TestDb;
use bandi_store::{Role, Store};
use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, SET_COOKIE};

use super::encode;
use crate::auth::hash_password;

pub(super) use crate::testing::ER_CALL as CODE;
use crate::testing::{ER_CALL_TOML as CALL, TestServer, entity};
pub(super) const PASSWORD: &str = "una password lunga e sicura";

pub(super) struct App {
    pub base: String,
    pub store: Store,
    pub db: TestDb,
}

/// A server with Cervia and the Unione del Distretto Ceramico, the ER call opening
/// `opens_in` from now, an applicant for each entity and an official.
pub(super) async fn start(opens_in: SignedDuration) -> App {
    let server = TestServer::start(
        TestDb::sqlite(),
        &[
            entity("039007", "Cervia", EntityKind::Comune, "08"),
            entity(
                "ucdc",
                "Unione dei Comuni del Distretto Ceramico",
                EntityKind::Unione,
                "08",
            ),
        ],
        opens_in,
        100,
    )
    .await;
    let store = server.store;
    let hash = hash_password(PASSWORD);
    for (email, role, entity) in [
        ("cervia@example.it", Role::Applicant, Some("039007")),
        ("ucdc@example.it", Role::Applicant, Some("ucdc")),
        ("ufficio@example.it", Role::Admin, None),
    ] {
        let u = store.create_user(email, email, &hash, role).await.unwrap();
        if let Some(e) = entity {
            store.bind_entity(&u.id, e).await.unwrap();
        }
    }
    App {
        base: server.origin,
        store,
        db: server.db,
    }
}

pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// A browser without JavaScript: keeps cookies, follows no redirect.
pub(super) struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the hidden field `name` in a page.
pub(super) fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name}"))
        + needle.len();
    html[start..].split('"').next().unwrap().to_string()
}

impl Browser {
    pub fn new(app: &App) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let res = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for c in headers.get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let body = res.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(req).await
    }

    async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let boundary = "----bandi-test-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!("--{boundary}\r\n"));
            if *k == "file" {
                body.push_str("Content-Disposition: form-data; name=\"file\"; filename=\"bando.toml\"\r\nContent-Type: text/plain\r\n\r\n");
            } else {
                body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                ));
            }
            body.push_str(v);
            body.push_str("\r\n");
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/accedi").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = hidden(&page.body, "csrf");
        self.post(
            "/accedi",
            &[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", ""),
            ],
        )
        .await
    }

    /// The session's CSRF token, as the reserved pages carry it.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/area-riservata").await;
        hidden(&page.body, "csrf")
    }
}

pub(super) fn error_code(html: &str) -> &str {
    let start = html.find("id=\"error-code\">").expect("an error page") + 16;
    html[start..].split('<').next().unwrap()
}

pub(super) fn form_path(entity: &str) -> String {
    format!("/area-riservata/domanda/{entity}/{CODE}")
}

/// A complete application: 75,000.00 € of eligible cost, a grant of 52,500.00 €.
pub(super) fn good_fields<'a>(
    csrf: &'a str,
    nonce: &'a str,
    action: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("nonce", nonce),
        ("action", action),
        ("title", "Smart working a Cervia"),
        ("summary", "Avvio, formazione, cloud Lepida"),
        ("line-0-category", "training"),
        ("line-0-description", "Formazione"),
        ("line-0-amount", "25.000,00"),
        ("line-1-category", "technology"),
        ("line-1-description", "Cloud"),
        ("line-1-amount", "50.000,00"),
        ("line-2-category", ""),
        ("line-2-description", ""),
        ("line-2-amount", ""),
        ("ind-staff_total", "180"),
        ("ind-agile_workers_before", "4"),
        ("ind-agile_workers_target", "90"),
    ]
}

#[tokio::test]
async fn sign_in_sessions_and_csrf() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    let r = b.get("/area-riservata").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/accedi?dopo=%2Farea-riservata");

    // The sign-in form without its cookie is refused, and no session starts.
    let r = b
        .post(
            "/accedi",
            &[
                ("email", "cervia@example.it"),
                ("password", PASSWORD),
                ("csrf", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(!b.cookies.contains_key("bandi_session"));

    let page = b
        .get("/accedi?dopo=%2Farea-riservata%3Fente%3D039007")
        .await;
    let csrf = hidden(&page.body, "csrf");
    assert_eq!(hidden(&page.body, "next"), "/area-riservata?ente=039007");
    let r = b
        .client
        .post(format!("{}/accedi", b.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https");
    let r = b
        .send(r.body(form_body(&[
            ("email", " Cervia@Example.it "),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", "/area-riservata?ente=039007"),
        ])))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/area-riservata?ente=039007");
    let set = r
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("bandi_session="))
        .unwrap();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Secure"));
    let token = b.cookies["bandi_session"].clone();

    let r = b.get("/area-riservata").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(r.body.contains("Cervia"));
    assert!(
        r.body.contains("cervia@example.it"),
        "the header names who is signed in"
    );
    let csrf = hidden(&r.body, "csrf");

    // A form without the session's token changes nothing.
    let mut fields = good_fields("not-the-token", "", "save");
    let r = b.post(&form_path("039007"), &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("(csrf)"), "{}", r.body);
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
    fields.retain(|(k, _)| *k != "csrf");
    let r = b.post(&form_path("039007"), &fields).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());

    // Signing out needs the token too; then the session is gone from the database.
    let r = b.post("/esci", &[("csrf", "nope")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.session(&token).await.unwrap().is_some());
    let r = b.post("/esci", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("bandi_session"));
    assert!(app.store.session(&token).await.unwrap().is_none());
    let r = b.get("/area-riservata").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_is_throttled() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    for _ in 0..5 {
        let r = b.sign_in("cervia@example.it", "wrong password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("non corretti"));
    }
    // Now even the right password waits, and says why.
    let r = b.sign_in("CERVIA@example.it", PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Troppi tentativi"));
    assert_eq!(r.headers["retry-after"], "900");
    assert!(!b.cookies.contains_key("bandi_session"));
    // Others sign in as usual.
    let mut other = Browser::new(&app);
    let r = other.sign_in("ucdc@example.it", PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/area-riservata");
    // An unknown address is refused like a wrong password.
    let r = Browser::new(&app)
        .sign_in("nobody@example.it", PASSWORD)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn roles_are_checked_on_the_server() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut applicant = Browser::new(&app);
    applicant.sign_in("cervia@example.it", PASSWORD).await;
    let csrf = applicant.csrf().await;
    for path in [
        "/amministrazione".to_string(),
        format!("/amministrazione/bandi/{CODE}"),
        format!("/amministrazione/bandi/{CODE}/domande.csv"),
        format!("/amministrazione/bandi/{CODE}/domande.xlsx"),
        "/amministrazione/utenti".to_string(),
    ] {
        let r = applicant.get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
        assert!(r.body.contains("Accesso non consentito"), "{path}");
    }
    let r = applicant
        .post(
            "/amministrazione/utenti",
            &[
                ("csrf", &csrf),
                ("email", "new@example.it"),
                ("name", "New"),
                ("role", "admin"),
                ("password", "abcdefghijklmnop"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        app.store
            .user_by_email("new@example.it")
            .await
            .unwrap()
            .is_none()
    );
    let r = applicant
        .post_multipart("/amministrazione/bandi", &[("csrf", &csrf), ("toml", CALL)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let mut official = Browser::new(&app);
    let r = official.sign_in("ufficio@example.it", PASSWORD).await;
    assert_eq!(r.location(), "/amministrazione");
    let r = official.get("/amministrazione").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Amministrazione"));
    let r = official.get("/area-riservata").await;
    assert_eq!(r.location(), "/amministrazione");
    let r = official.get(&form_path("039007")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nobody signed in is sent to the sign-in page, whatever the page.
    let mut anonymous = Browser::new(&app);
    let r = anonymous
        .get(&format!("/amministrazione/bandi/{CODE}/domande.csv"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/accedi?dopo="));
}

#[tokio::test]
async fn a_draft_before_the_opening_is_one_click_at_the_opening() {
    let app = start(SignedDuration::from_secs(4)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Di prossima apertura"));
    let csrf = hidden(&page.body, "csrf");
    let nonce = hidden(&page.body, "nonce");
    assert_eq!(nonce.len(), 32);

    // Saved before the opening: the amounts are computed by the server.
    let r = b
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "save"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Bozza salvata"));
    assert!(r.body.contains("75.000,00 €"));
    assert!(r.body.contains("52.500,00 €"));
    assert!(app.store.draft("039007", CODE).await.unwrap().is_some());
    // Back later, the draft is there as typed.
    let page = b.get(&form_path("039007")).await;
    assert!(page.body.contains("value=\"25.000,00\""));
    assert!(page.body.contains("value=\"Smart working a Cervia\""));
    assert!(page.body.contains("<option value=\"technology\" selected>"));
    let dashboard = b.get("/area-riservata").await;
    assert!(dashboard.body.contains("Bozza salvata"));
    assert!(dashboard.body.contains("Continua la domanda"));

    // Submitting before the opening: the opening and the server's time, nothing stored.
    let r = b
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "submit"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Il bando non è ancora aperto"));
    assert!(r.body.contains("Ora del server"));
    assert!(r.body.contains("Apre il"));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());
    assert!(app.store.draft("039007", CODE).await.unwrap().is_some());

    // At the opening, a double click: two requests at once with the same nonce.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let fields = good_fields(&csrf, &nonce, "submit");
    let mut b2 = Browser {
        base: b.base.clone(),
        client: b.client.clone(),
        cookies: b.cookies.clone(),
    };
    let path = form_path("039007");
    let (r1, r2) = tokio::join!(b.post(&path, &fields), b2.post(&path, &fields));
    assert_eq!(r1.status, StatusCode::SEE_OTHER, "{}", r1.body);
    assert_eq!(r2.status, StatusCode::SEE_OTHER, "{}", r2.body);
    let apps = app.store.call_applications(CODE).await.unwrap();
    assert_eq!(apps.len(), 1, "a double click is one application");
    let id = &apps[0].receipt.id;
    for r in [&r1, &r2] {
        assert!(
            r.location()
                .starts_with(&format!("/area-riservata/ricevuta/{id}"))
        );
    }
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());

    let receipt = b
        .get(&format!("/area-riservata/ricevuta/{id}?nuova=1"))
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let r = &apps[0].receipt;
    for needle in [
        "Domanda presentata",
        r.protocol.as_str(),
        r.content_sha256.as_str(),
        r.ledger_hash.as_str(),
        r.received_at.as_str(),
        "Europe/Rome",
        "52.500,00 €",
        "print-receipt",
    ] {
        assert!(receipt.body.contains(needle), "the receipt shows {needle}");
    }
    // A later click with a new form (a new nonce) leads to the same receipt.
    let again = b
        .post(
            &path,
            &good_fields(&csrf, "0123456789abcdef0123456789abcdef", "submit"),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        again
            .location()
            .starts_with(&format!("/area-riservata/ricevuta/{id}"))
    );
    assert_eq!(app.store.call_applications(CODE).await.unwrap().len(), 1);
    let dashboard = b.get("/area-riservata").await;
    assert!(dashboard.body.contains(&r.protocol));
    assert!(dashboard.body.contains("Finanziabile: fondi riservati"));
}

#[tokio::test]
async fn another_entity_gets_404_for_everything_of_cervia() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut cervia = Browser::new(&app);
    cervia.sign_in("cervia@example.it", PASSWORD).await;
    let page = cervia.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = cervia
        .post(&form_path("039007"), &good_fields(&csrf, &nonce, "submit"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let id = app.store.call_applications(CODE).await.unwrap()[0]
        .receipt
        .id
        .clone();

    let mut ucdc = Browser::new(&app);
    ucdc.sign_in("ucdc@example.it", PASSWORD).await;
    let ucdc_csrf = ucdc.csrf().await;
    let missing = ucdc.get("/area-riservata/ricevuta/doesnotexist").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    for path in [
        format!("/area-riservata/ricevuta/{id}"),
        form_path("039007"),
        "/area-riservata?ente=039007".to_string(),
        form_path("999999"),
    ] {
        let r = ucdc.get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            error_code(&r.body),
            error_code(&missing.body),
            "{path}: the same answer as for nothing"
        );
        assert!(!r.body.contains("Smart working a Cervia"));
    }
    // Nor can it write into Cervia's draft.
    let r = ucdc
        .post(
            &form_path("039007"),
            &good_fields(&ucdc_csrf, &nonce, "save"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
    // Its own form works.
    let r = ucdc.get(&form_path("ucdc")).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bad_form_shows_every_problem_next_to_its_field() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = b
        .post(
            &form_path("039007"),
            &[
                ("csrf", &csrf),
                ("nonce", &nonce),
                ("action", "submit"),
                ("title", ""),
                ("line-0-category", "training"),
                ("line-0-description", "Formazione"),
                ("line-0-amount", "venti euro"),
                ("line-1-category", ""),
                ("line-1-amount", "1.000,00"),
                ("ind-staff_total", "molti"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = &r.body;
    assert!(html.contains("value=\"venti euro\""), "kept as typed");
    assert!(html.contains("value=\"molti\""));
    assert!(html.contains("value=\"1.000,00\""));
    for id in [
        "title",
        "line-0-amount",
        "line-1-category",
        "ind-staff_total",
        "ind-agile_workers_before",
    ] {
        assert!(
            html.contains(&format!("aria-describedby=\"{id}-error\"")),
            "{id} is marked"
        );
        assert!(
            html.contains(&format!("id=\"{id}-error\"")),
            "{id} has its message"
        );
        assert!(
            html.contains(&format!("href=\"#{id}\"")),
            "{id} is in the summary"
        );
    }
    assert!(html.contains("«venti euro» non è un importo in euro"));
    assert!(app.store.call_applications(CODE).await.unwrap().is_empty());
}

#[tokio::test]
async fn officials_import_list_export_and_manage_accounts() {
    let app = start(SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("ufficio@example.it", PASSWORD).await;
    let page = b.get("/amministrazione").await;
    let csrf = hidden(&page.body, "csrf");

    // A file with a mistake: the key and the line, and the text kept.
    let bad = CALL.replace("budget = \"2000000.00\"", "budget = \"due milioni\"");
    let r = b
        .post_multipart("/amministrazione/bandi", &[("csrf", &csrf), ("toml", &bad)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let line = bad.lines().position(|l| l.starts_with("budget")).unwrap() + 1;
    assert!(
        r.body.contains(&format!("riga {line}, chiave «budget»")),
        "{}",
        r.body
    );
    assert!(r.body.contains("due milioni"));
    // Without the token nothing is imported.
    let other = CALL
        .replace("code = \"er-2020-smart-working\"", "code = \"er-bis\"")
        .replace(
            "protocol_prefix = \"ER-SW\"",
            "protocol_prefix = \"ER-BIS\"",
        );
    let r = b
        .post_multipart("/amministrazione/bandi", &[("csrf", "x"), ("file", &other)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.call("er-bis").await.unwrap().is_none());
    // An uploaded file publishes a new call.
    let r = b
        .post_multipart(
            "/amministrazione/bandi",
            &[("csrf", &csrf), ("file", &other)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        "/amministrazione/bandi/er-bis?esito=pubblicato"
    );
    assert!(app.store.call("er-bis").await.unwrap().is_some());
    // The open call cannot change any more.
    let changed = CALL.replace("co_financing = \"70%\"", "co_financing = \"80%\"");
    let r = b
        .post_multipart(
            "/amministrazione/bandi",
            &[("csrf", &csrf), ("toml", &changed)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("già aperto"));

    // An application, then the list and the exports.
    let token = app.store.issue_token("039007").await.unwrap();
    let receipt: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/calls/{CODE}/applications", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "title": "=Smart working a Cervia",
            "lines": [{"category": "training", "description": "Formazione", "amount_cents": 7_500_050}],
            "indicators": {"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let protocol = receipt["protocol"].as_str().unwrap();
    let r = b.get(&format!("/amministrazione/bandi/{CODE}")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains(protocol));
    assert!(r.body.contains("Cervia"));
    let r = b
        .get(&format!("/amministrazione/bandi/{CODE}?stato=waitlisted"))
        .await;
    assert!(!r.body.contains(protocol), "filtered out");

    let csv = b
        .get(&format!("/amministrazione/bandi/{CODE}/domande.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("domande-er-2020-smart-working.csv")
    );
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("seq,protocol,received_at_utc")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("1,{protocol},")), "{row}");
    assert!(
        row.contains(",75000.50,75000.50,52500.35,52500.35,reserved,"),
        "{row}"
    );
    assert!(
        row.contains(",'=Smart working a Cervia,"),
        "no formula: {row}"
    );

    let xlsx = b
        .client
        .get(format!(
            "{}/amministrazione/bandi/{CODE}/domande.xlsx",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip file");

    // Accounts: errors next to their fields, then an account that can sign in.
    let r = b
        .post(
            "/amministrazione/utenti",
            &[
                ("csrf", &csrf),
                ("email", "not an address"),
                ("name", ""),
                ("role", "applicant"),
                ("password", "short"),
                ("entities", "039007, nope"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["new-email", "new-name", "new-password", "new-entities"] {
        assert!(r.body.contains(&format!("id=\"{id}-error\"")), "{id}");
    }
    assert!(r.body.contains("Enti inesistenti: nope."));
    let r = b
        .post(
            "/amministrazione/utenti",
            &[
                ("csrf", &csrf),
                ("email", "faenza@example.it"),
                ("name", "Ufficio Faenza"),
                ("role", "applicant"),
                ("password", "una password abbastanza lunga"),
                ("entities", "ucdc"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (user, _) = app
        .store
        .user_by_email("faenza@example.it")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.entities, vec!["ucdc".to_string()]);
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/enti", user.id),
            &[("csrf", &csrf), ("entity", "039007")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let user = app.store.user(&user.id).await.unwrap().unwrap();
    assert_eq!(
        user.entities,
        vec!["039007".to_string(), "ucdc".to_string()]
    );
    let page = b.get("/amministrazione/utenti").await;
    assert!(page.body.contains("faenza@example.it"));
    let mut faenza = Browser::new(&app);
    let r = faenza
        .sign_in("faenza@example.it", "una password abbastanza lunga")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = faenza.get("/area-riservata?ente=ucdc").await;
    assert!(r.body.contains("Distretto Ceramico"));
    assert!(
        r.body.contains("nav-tabs"),
        "several entities: one tab each"
    );
}
