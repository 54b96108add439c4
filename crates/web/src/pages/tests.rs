//! The pages against the real router on a real socket (SQLite: the pages only read through
//! the `Store` API, whose backends the store's own suite checks). The browser tests in
//! `e2e/` check the same pages in Chromium, with axe-core.

use std::time::Duration;

use bandi_domain::entity::EntityKind;
use bandi_store::Store;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::json;

use super::Live;

use crate::testing::{ER_CALL as CODE, TestServer, entity};

struct App {
    base: String,
    client: reqwest::Client,
    store: Store,
    _db: TestDb,
}

async fn start(db: TestDb) -> App {
    let mut cervia = entity("039007", "Cervia", EntityKind::Comune, "08");
    cervia.istat_code = Some("039007".into());
    let server = TestServer::start(db, &[cervia], SignedDuration::from_mins(-1), 100).await;
    App {
        base: server.origin,
        client: reqwest::Client::new(),
        store: server.store,
        _db: server.db,
    }
}

impl App {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ct, res.text().await.unwrap())
    }

    async fn submit_cervia(&self) -> serde_json::Value {
        let token = self.store.issue_token("039007").await.unwrap();
        let res = self
            .client
            .post(format!("{}/api/v1/calls/{CODE}/applications", self.base))
            .bearer_auth(token)
            .json(&json!({
                "title": "Smart working a Cervia",
                "summary": "x",
                "lines": [{"category": "training", "description": "Formazione", "amount_cents": 7_500_000}],
                "indicators": {"staff_total": 180, "agile_workers_before": 4, "agile_workers_target": 90}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }
}

on_both_backends! {
    async fn pages_render_in_italian_and_english(db: TestDb) {
    let app = start(db).await;
    let (s, ct, html) = app.get("/", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(html.contains("<html lang=\"it\">"));
    assert!(html.contains("Bando per il sostegno di progetti di smart working"));
    assert!(html.contains("2.000.000,00 €"));

    // A browser that prefers English still gets Italian: English only when chosen.
    let (_, _, html) = app.get("/", &[("accept-language", "en-GB,en;q=0.9")]).await;
    assert!(html.contains("<html lang=\"it\">"));
    assert!(html.contains("2.000.000,00 €"));
    let (_, _, html) = app.get("/?lang=en", &[("accept-language", "it")]).await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Call for smart-working projects"));
    // Amounts the English way on English pages.
    assert!(html.contains("€2,000,000.00"));
    assert!(!html.contains("2.000.000,00 €"));

    // `?lang=` wins over the header and is remembered in a cookie.
    let res = app
        .client
        .get(format!("{}/bandi/{CODE}?lang=en", app.base))
        .header(ACCEPT_LANGUAGE, "it")
        .send()
        .await
        .unwrap();
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("bandi_lang=en;"), "{cookie}");
    assert!(res.text().await.unwrap().contains("<html lang=\"en\">"));
    let (_, _, html) = app
        .get("/registro", &[(COOKIE.as_str(), "a=b; bandi_lang=en")])
        .await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("Public ledger"));

    for path in [
        format!("/bandi/{CODE}"),
        format!("/bandi/{CODE}/graduatoria"),
        "/registro".into(),
        "/accessibilita".into(),
        "/privacy".into(),
    ] {
        let (s, _, html) = app.get(&path, &[]).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        assert!(html.contains("href=\"/accessibilita\""), "{path}");
        assert!(
            !html.contains("style=\""),
            "{path}: inline styles break the CSP"
        );
        assert!(
            !html.contains("<script>"),
            "{path}: inline scripts break the CSP"
        );
    }
}
}

on_both_backends! {
    async fn errors_are_pages_for_people_and_json_for_the_api(db: TestDb) {
    let app = start(db).await;
    let (s, ct, html) = app.get("/non-esiste", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("text/html"));
    assert!(html.contains("Pagina non trovata"));
    let (s, _, html) = app.get("/bandi/NOPE?lang=en", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("No such call."), "{html}");
    assert!(html.contains("404 (call_not_found)"));

    let (s, ct, body) = app.get("/api/v1/non-esiste", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("application/json"));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"]["code"],
        "not_found"
    );

    let res = app
        .client
        .post(format!("{}/registro", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Operazione non consentita")
    );

    let (s, _, html) = app.get("/registro?protocollo=%3Cscript%3E", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    assert!(!html.contains("<script>"));
    let (s, _, _) = app.get("/registro?voce=abc", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = app.get("/registro?voce=999", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
}

on_both_backends! {
    async fn ranking_and_ledger_show_a_submission(db: TestDb) {
    let app = start(db).await;
    let receipt = app.submit_cervia().await;
    let protocol = receipt["protocol"].as_str().unwrap();
    let (_, _, html) = app.get(&format!("/bandi/{CODE}/graduatoria"), &[]).await;
    assert!(html.contains("Cervia"));
    assert!(html.contains(protocol));
    assert!(html.contains("52.500,00 €"));
    assert!(html.contains("Finanziabile: fondi riservati"));
    // The rule in a sentence, and why one waits while money remains (the call's mode).
    assert!(html.contains("Nessuna domanda può passare davanti a una arrivata prima"));
    assert!(html.contains(
        "id=\"why-waiting\">Una domanda può restare in attesa anche se rimangono risorse"
    ));
    let (_, _, html) = app
        .get(&format!("/bandi/{CODE}/graduatoria?lang=en"), &[])
        .await;
    assert!(html.contains("€52,500.00") && !html.contains("52.500,00 €"));
    let (_, _, html) = app.get(&format!("/bandi/{CODE}?lang=en"), &[]).await;
    assert!(html.contains("€1,947,500.00"), "remaining, in English");
    assert!(
        html.contains("€105,000.00"),
        "the maximum grant, in English"
    );

    let path = format!("/registro?protocollo={}", super::super::encode(protocol));
    let (s, _, html) = app.get(&path, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(receipt["ledger_hash"].as_str().unwrap()));
    assert!(html.contains("Cervia"));
    // In words, and the newest entry links to no entry after it.
    let seq = receipt["ledger_seq"].as_u64().unwrap();
    assert!(html.contains(&format!(
        "id=\"entry-sentence\">La domanda n. 1 (protocollo {protocol}) di Cervia è ricevuta e sigillata; chiede un contributo di 52.500,00 €."
    )), "{html}");
    assert!(!html.contains("id=\"next-entry\""));
    assert!(html.contains("id=\"newest-entry\""));
    let (_, _, older) = app.get(&format!("/registro?voce={}", seq - 1), &[]).await;
    assert!(older.contains("id=\"next-entry\""));
    assert!(older.contains(&format!("href=\"/registro?voce={seq}\" id=\"next-entry\"")));
    // Typed loosely, found as written on the receipt.
    let (prefix, number) = protocol.rsplit_once('/').unwrap();
    let loose = format!("{}/{}", prefix.to_lowercase(), number.trim_start_matches('0'));
    let (s, _, html) = app
        .get(&format!("/registro?protocollo={}", super::super::encode(&format!(" {loose} "))), &[])
        .await;
    assert_eq!(s, StatusCode::OK, "{loose}");
    assert!(html.contains(&format!("id=\"found-protocol\">{protocol}<")));
    let (s, _, html) = app
        .get("/registro?protocollo=ER-SW-2020/0000099", &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("Nessuna domanda"));
}
}

on_both_backends! {
    async fn static_files_have_types_and_long_cache(db: TestDb) {
    let app = start(db).await;
    let res = app
        .client
        .get(format!("{}{}", app.base, super::super::assets::urls().app_css))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let etag = res.headers()["etag"].clone();
    let res = app
        .client
        .get(format!("{}/static/app.css", app.base))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let (s, ct, _) = app.get("/static/../Cargo.toml", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("text/html"));
}
}

/// Reads the stream until an event whose data contains `needle`.
pub(super) async fn next_event_with(
    res: &mut reqwest::Response,
    buf: &mut String,
    needle: &str,
) -> String {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if event.contains(needle) {
                return event;
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

on_both_backends! {
    async fn live_counters_follow_submissions(db: TestDb) {
    let app = start(db).await;
    let mut res = app
        .client
        .get(format!("{}/bandi/{CODE}/eventi", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "text/event-stream");
    let mut buf = String::new();
    let first = next_event_with(&mut res, &mut buf, "\"applications\":0").await;
    assert!(first.starts_with("event: counters\n"), "{first}");
    assert!(first.contains("\"remaining\":\"2.000.000,00 €\""));
    app.submit_cervia().await;
    let next = next_event_with(&mut res, &mut buf, "\"applications\":1").await;
    assert!(next.contains("\"remaining\":\"1.947.500,00 €\""), "{next}");
    assert!(
        next.contains("\"remaining_en\":\"€1,947,500.00\""),
        "{next}"
    );
    let (s, ct, _) = app.get("/bandi/nope/eventi", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(ct.starts_with("text/html"));
}
}

on_both_backends! {
    async fn one_poller_per_call_whatever_the_number_of_streams(db: TestDb) {
    let app = start(db).await;
    let live = Live::with_tick(app.store.clone(), Duration::from_millis(20));
    let mut streams: Vec<_> = (0..500).map(|_| live.subscribe(CODE)).collect();
    assert_eq!(live.pollers(), 1);
    streams[0].changed().await.unwrap();
    for rx in &mut streams {
        let latest = rx.borrow_and_update().clone().expect("counters published");
        assert_eq!(latest.applications, 0);
    }
    // Nobody watching: the poller stops, and a new subscriber starts another.
    drop(streams);
    for _ in 0..100 {
        if live.pollers() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(live.pollers(), 0);
    let mut rx = live.subscribe(CODE);
    rx.changed().await.unwrap();
    assert_eq!(live.pollers(), 1);
    // Closing (the server's shutdown) ends the pollers.
    live.close();
    assert!(
        tokio::time::timeout(Duration::from_secs(5), rx.changed())
            .await
            .unwrap()
            .is_err()
    );
    assert_eq!(live.pollers(), 0);
}
}

on_both_backends! {
    async fn the_open_data_page_speaks_to_people(db: TestDb) {
    let app = start(db).await;
    let (s, _, html) = app.get("/", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<a href=\"/dati-aperti\">API e dati aperti</a>"));
    assert!(!html.contains("href=\"/api/v1/openapi.json\""), "people are not sent to raw JSON");
    let (s, _, html) = app.get("/dati-aperti", &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<h1>API e dati aperti</h1>"));
    assert!(html.contains(&format!("href=\"/bandi/{CODE}/open-data.csv\"")));
    assert!(html.contains(&format!("href=\"/api/v1/calls/{CODE}/grants\"")));
    assert!(html.contains("href=\"/open-data.csv\""));
    // Every operation of the OpenAPI document, in Italian, and the document for programs.
    let doc = crate::openapi::document();
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| ops.as_object().unwrap().len())
        .sum();
    let endpoints = super::super::open_data::endpoints(bandi_domain::i18n::Locale::It);
    assert_eq!(endpoints.len(), operations);
    for e in &endpoints {
        assert!(!e.summary.is_empty(), "{} {} has no Italian summary", e.method, e.path);
    }
    let rows = ["GET", "POST"]
        .map(|m| html.matches(&format!("<td><code>{m}</code></td>")).count())
        .iter()
        .sum::<usize>();
    assert_eq!(rows, operations);
    assert!(html.contains("Presentare una domanda (con il token dell&#39;ente)"));
    assert!(!html.contains("Submit an application"));
    assert!(html.contains("<a href=\"/api/v1/ledger/head\"><code>/api/v1/ledger/head</code></a>"));
    assert!(html.contains("id=\"openapi-link\""));
    let (_, _, en) = app.get("/dati-aperti?lang=en", &[]).await;
    assert!(en.contains("Submit an application"));
}
}

/// A server for Cervia and the open 2020 call, run by the deployment of `site`.
async fn start_for_site(db: TestDb, site: crate::site::Site) -> TestServer {
    TestServer::start_for_site(
        db,
        &[entity("039007", "Cervia", EntityKind::Comune, "08")],
        &crate::testing::er_call(SignedDuration::from_mins(-1)),
        100,
        crate::NetConfig::default(),
        site,
    )
    .await
}

on_both_backends! {
    async fn the_deployment_names_itself_from_its_site_file(db: TestDb) {
    let dir = std::env::temp_dir().join(format!(
        "bandi-site-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let logo = dir.join("logo.svg");
    let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><circle cx=\"5\" cy=\"5\" r=\"4\"/></svg>";
    std::fs::write(&logo, svg).unwrap();
    let site = crate::site::Site::from_toml(&format!(
        "name = \"Regione Toscana\"\nurl = \"https://www.regione.toscana.it\"\nfiscal_code = \"01386030488\"\npec = \"regionetoscana@postacert.toscana.it\"\naddress = \"Piazza Duomo 10, Firenze\"\noffice = \"Settore innovazione\"\nlogo = \"{}\"\n",
        logo.display()
    ))
    .unwrap();
    let server = start_for_site(db, site).await;
    let client = reqwest::Client::new();
    let html = client.get(format!("{}/", server.origin)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<a class=\"navbar-brand\" href=\"https://www.regione.toscana.it\">Regione Toscana</a>"));
    assert!(html.contains("<img class=\"icon site-logo\" src=\"/sito/logo\" alt=\"\">"));
    assert!(html.contains("PEC <a href=\"mailto:regionetoscana@postacert.toscana.it\">"));
    assert!(html.contains("Codice fiscale 01386030488"));
    assert!(html.contains("Piazza Duomo 10, Firenze"));
    assert!(!html.contains("Emilia-Romagna</a>"));
    let res = client.get(format!("{}/sito/logo", server.origin)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[CONTENT_TYPE], "image/svg+xml");
    assert_eq!(res.text().await.unwrap(), svg);
    let grants: serde_json::Value = client
        .get(format!("{}/api/v1/grants", server.origin))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(grants["funder"]["id"], "IT-CF-01386030488");
    assert_eq!(grants["funder"]["name"], "Regione Toscana");
    std::fs::remove_dir_all(&dir).ok();
}
}

on_both_backends! {
    async fn without_a_site_file_the_region_of_2020_and_no_logo(db: TestDb) {
    let app = start(db).await;
    let (_, _, html) = app.get("/", &[]).await;
    assert!(html.contains("Regione Emilia-Romagna"));
    assert!(html.contains("#it-pa"), "the kit's emblem");
    assert!(html.contains("Codice fiscale 80062590379"));
    let (s, _, _) = app.get("/sito/logo", &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
}

#[test]
fn the_language_switch_after_a_form_leads_to_the_page_it_was_on() {
    use axum::http::{HeaderMap, HeaderValue, Method, Uri};
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("bandi.example:8080"));
    headers.insert(
        "referer",
        HeaderValue::from_static("https://bandi.example:8080/amministrazione/utenti?creato=x"),
    );
    let uri: Uri = "/amministrazione/utenti/abc/stato".parse().unwrap();
    let ctx = super::Ctx::new(&uri, &headers, &Method::POST, None);
    let l = ctx.layout("t", vec![], super::Nav::None);
    assert_eq!(l.switch_en, "/amministrazione/utenti?lang=en");
    // Another site's address, or none: the home page.
    headers.insert(
        "referer",
        HeaderValue::from_static("https://evil.example/x"),
    );
    let ctx = super::Ctx::new(&uri, &headers, &Method::POST, None);
    assert_eq!(
        ctx.layout("t", vec![], super::Nav::None).switch_it,
        "/?lang=it"
    );
    headers.insert(
        "referer",
        HeaderValue::from_static("https://bandi.example:8080//evil.example/x"),
    );
    let ctx = super::Ctx::new(&uri, &headers, &Method::POST, None);
    assert_eq!(
        ctx.layout("t", vec![], super::Nav::None).switch_it,
        "/?lang=it"
    );
    // A page asked with GET keeps its own address and parameters.
    let uri: Uri = "/registro?voce=3".parse().unwrap();
    let ctx = super::Ctx::new(&uri, &headers, &Method::GET, None);
    assert_eq!(
        ctx.layout("t", vec![], super::Nav::None).switch_en,
        "/registro?lang=en&voce=3"
    );
}

on_both_backends! {
    async fn spid_and_cie_refuse_what_no_flow_of_this_browser_started(db: TestDb) {
    // A provider that cannot be reached (nothing listens on port 9 here).
    let site = crate::site::Site::from_toml(
        "name = \"Regione Toscana\"\nurl = \"https://www.regione.toscana.it\"\nfiscal_code = \"01386030488\"\noffice = \"Settore innovazione\"\n\
         [[identity_providers]]\nkind = \"spid\"\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"bandi\"\nredirect_uri = \"http://127.0.0.1/accedi/spid/ritorno\"\n",
    )
    .unwrap();
    let server = start_for_site(db, site).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, cookie: Option<&str>| {
        let mut req = client.get(format!("{}{path}", server.origin));
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let html = get("/accedi", None).await.unwrap().text().await.unwrap();
    assert!(html.contains("href=\"/accedi/spid\""), "the SPID button");
    assert!(!html.contains("/accedi/cie"), "no CIE provider, no CIE button");
    for path in ["/accedi/cie", "/accedi/eidas", "/accedi/cie/ritorno?code=a&state=b"] {
        assert_eq!(get(path, None).await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }
    // The provider does not answer: said so, and no flow is started.
    let res = get("/accedi/spid", None).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("set-cookie").is_none());
    assert!(res.text().await.unwrap().contains("Il servizio di accesso con SPID non risponde"));
    // An answer with no flow cookie, or a cookie no flow has: refused, the cookie cleared.
    for cookie in [None, Some("bandi_identita=0123456789abcdef0123456789abcdef")] {
        let res = get("/accedi/spid/ritorno?code=a-code&state=a-state", cookie).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let cleared = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cleared.starts_with("bandi_identita=;") && cleared.contains("Max-Age=0"), "{cleared}");
        let body = res.text().await.unwrap();
        assert!(body.contains("Accesso non riuscito: la richiesta di accesso è scaduta"), "{body}");
    }
    // The API speaks JSON for the same refusal.
    let res = client
        .get(format!("{}/accedi/spid/ritorno?code=a&state=b", server.origin))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
}

on_both_backends! {
    async fn a_forgotten_password_is_reset_by_a_link_to_the_public_address(db: TestDb) {
    let site = crate::site::Site::from_toml(
        "name = \"Regione Toscana\"\nurl = \"https://www.regione.toscana.it\"\nfiscal_code = \"01386030488\"\noffice = \"Settore innovazione\"\npublic_url = \"https://bandi.regione.example\"\n",
    )
    .unwrap();
    let server = start_for_site(db, site).await;
    server
        .store
        .create_user("anna@comune.example", "Anna", "$argon2id$not-checked-here", bandi_store::Role::Applicant)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |p: &str| format!("{}{p}", server.origin);
    let form = client.get(url("/accedi/password-dimenticata")).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let cookie = form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = form.text().await.unwrap();
    let csrf = crate::pages::reserved_tests::hidden(&html, "csrf");
    // Without its cookie the form is refused; with it, the same answer for any address,
    // and the link starts with the public address whatever Host the request claims.
    let res = client
        .post(url("/accedi/password-dimenticata"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(crate::pages::reserved_tests::form_body(&[("csrf", csrf.as_str()), ("email", "anna@comune.example")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for email in ["nobody@comune.example", "anna@comune.example"] {
        let res = client
            .post(url("/accedi/password-dimenticata"))
            .header("cookie", &cookie)
            .header("host", "evil.example")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(crate::pages::reserved_tests::form_body(&[("csrf", csrf.as_str()), ("email", email)]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/accedi/password-dimenticata?inviata=1");
    }
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&server.db.url).await.unwrap();
    let bodies: Vec<(String,)> = sqlx::query_as("SELECT body FROM account_mails").fetch_all(&raw).await.unwrap();
    assert_eq!(bodies.len(), 1, "one mail, for the account that exists");
    let link = bodies[0].0.lines().find(|l| l.contains("/accedi/nuova-password")).unwrap().trim();
    assert!(link.starts_with("https://bandi.regione.example/accedi/nuova-password?token="), "{link}");
    let token = link.rsplit('=').next().unwrap();
    let path = format!("/accedi/nuova-password?token={token}");

    let res = client.get(url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = res.text().await.unwrap();
    let csrf = crate::pages::reserved_tests::hidden(&html, "csrf");
    assert_eq!(crate::pages::reserved_tests::hidden(&html, "token"), token);
    let choose = |new: &'static str, repeat: &'static str| {
        client
            .post(url("/accedi/nuova-password"))
            .header("cookie", &cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(crate::pages::reserved_tests::form_body(&[("csrf", csrf.as_str()), ("token", token), ("new", new), ("repeat", repeat)]))
            .send()
    };
    let res = choose("una password lunga", "un'altra password").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("Le due password non coincidono"));
    let res = choose("corta", "corta").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("almeno 12 caratteri"));
    let res = choose("una password lunga", "una password lunga").await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/accedi?reimpostata=1");
    let html = client.get(url("/accedi?reimpostata=1")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Password reimpostata"));
    // Used once: the same link again is gone.
    let res = client.get(url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(res.text().await.unwrap().contains("scaduto o è già stato usato"));
    let res = choose("una password lunga", "una password lunga").await.unwrap();
    assert_eq!(res.status(), StatusCode::GONE);
}
}

on_both_backends! {
    async fn without_a_public_address_the_reset_page_says_whom_to_ask(db: TestDb) {
    let app = start(db).await;
    let (status, _, html) = app.get("/accedi/password-dimenticata", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"reset-unavailable\""));
    assert!(!html.contains("id=\"reset-ask\""));
    let (status, _, html) = app.get("/accedi", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/accedi/password-dimenticata\""));
}
}
