//! The live preview of the application form's amounts, against the real router: the
//! domain's figures for good input, a JSON error for every bad input, nothing stored.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::{App, Browser, CODE, PASSWORD, form_path, hidden, start};
use crate::pages::encode;

fn body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Posts `raw` to the preview of `entity`'s form; the status and the JSON answer.
async fn ask(
    b: &Browser,
    entity: &str,
    content_type: &str,
    raw: String,
    lang: &str,
) -> (StatusCode, Value) {
    let res = b
        .client
        .post(format!("{}{}/anteprima", b.base, form_path(entity)))
        // The language the person chose on the page, kept in its cookie.
        .header(
            "cookie",
            format!("{}; bandi_lang={lang}", b.cookie_header()),
        )
        .header(CONTENT_TYPE, content_type)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "always JSON, also for {status}"
    );
    (status, res.json().await.unwrap())
}

const FORM: &str = "application/x-www-form-urlencoded";

async fn signed_in(app: &App) -> (Browser, String) {
    let mut b = Browser::new(app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let csrf = b.csrf().await;
    (b, csrf)
}

on_both_backends! {
    async fn the_preview_computes_what_the_submission_would(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(10)).await;
    let (b, csrf) = signed_in(&app).await;
    // Not complete (no title, no indicators), an empty row between two lines, devices
    // above their 20% share: the amounts are there all the same.
    let fields = [
        ("csrf", csrf.as_str()),
        ("line-0-category", "technology"),
        ("line-0-amount", "80.000"),
        ("line-2-category", "devices"),
        ("line-2-amount", "30.000,00"),
        ("att-project_plan", "ignored"),
    ];
    let (status, a) = ask(&b, "039007", FORM, body(&fields), "it").await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["total"], "110.000,00 €");
    assert_eq!(a["eligible"], "100.000,00 €");
    assert_eq!(a["requested"], "70.000,00 €");
    assert_eq!(a["requested_cents"], 7_000_000);
    assert_eq!(a["counted"], true);
    let notices = a["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0]["code"], "share_cap_exceeded");
    assert!(notices[0]["text"].as_str().unwrap().contains("10.000,00 €"));
    // In English, English amounts.
    let (_, en) = ask(&b, "039007", FORM, body(&fields), "en").await;
    assert_eq!(en["requested"], "€70,000.00");
    assert!(
        en["notices"][0]["text"]
            .as_str()
            .unwrap()
            .contains("€10,000.00")
    );
    // Amounts that cannot be read count for nothing, and do not break anything.
    let (status, a) = ask(
        &b,
        "039007",
        FORM,
        body(&[
            ("csrf", &csrf),
            ("line-0-category", "training"),
            ("line-0-amount", "tanti"),
        ]),
        "it",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["total"], "0,00 €");
    assert_eq!(a["counted"], false);
    // A preview stores nothing.
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
}
}

on_both_backends! {
    async fn bad_requests_to_the_preview_get_json_errors(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(10)).await;
    let (b, csrf) = signed_in(&app).await;
    let good = body(&[("csrf", &csrf), ("line-0-amount", "10")]);

    let (status, e) = ask(&b, "039007", FORM, body(&[("csrf", "wrong")]), "it").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(e["error"]["code"], "csrf");

    let (status, e) = ask(&b, "039007", "application/json", "{}".into(), "it").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(e["error"]["code"], "unsupported_media_type");

    // Broken escapes and bytes that are not UTF-8 read as what they are: no amount.
    let raw = format!(
        "csrf={}&line-0-category=training&line-0-amount=%ZZ%C3&line-%FF-amount=1",
        encode(&csrf)
    );
    let (status, a) = ask(&b, "039007", FORM, raw, "en").await;
    assert_eq!(status, StatusCode::OK, "{a}");
    assert_eq!(a["total"], "€0.00");

    let huge = format!("{good}&summary={}", "x".repeat(600 * 1024));
    let (status, _) = ask(&b, "039007", FORM, huge, "it").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // Another entity's form, and a call that does not exist: the same 404.
    let (status, other) = ask(&b, "ucdc", FORM, good.clone(), "it").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = b
        .client
        .post(format!(
            "{}/area-riservata/domanda/039007/nessun-bando/anteprima",
            b.base
        ))
        .header("cookie", b.cookie_header())
        .header(CONTENT_TYPE, FORM)
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let missing: Value = res.json().await.unwrap();
    assert_eq!(other, missing);

    // Signed out: 401, not the sign-in page.
    let anonymous = Browser::new(&app);
    let (status, e) = ask(&anonymous, "039007", FORM, good.clone(), "it").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(e["error"]["message"].as_str().unwrap().contains("Sessione"));

    // An official has no form.
    let mut official = Browser::new(&app);
    official.sign_in("ufficio@example.it", PASSWORD).await;
    let csrf = hidden_csrf(&mut official).await;
    let (status, _) = ask(&official, "039007", FORM, body(&[("csrf", &csrf)]), "it").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // GET is not the preview.
    let res = b
        .client
        .get(format!("{}{}/anteprima", b.base, form_path("039007")))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(app.store.draft("039007", CODE).await.unwrap().is_none());
}
}

/// An official's CSRF token, from the page they land on.
async fn hidden_csrf(b: &mut Browser) -> String {
    let page = b.get("/amministrazione").await;
    super::hidden(&page.body, "csrf")
}

on_both_backends! {
    async fn without_javascript_the_save_shows_the_same_amounts(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(10)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let csrf = hidden(&page.body, "csrf");
    // No title yet: the draft is not complete, its amounts are known all the same.
    let r = b
        .post(
            &form_path("039007"),
            &[
                ("csrf", &csrf),
                ("action", "save"),
                ("line-0-category", "technology"),
                ("line-0-amount", "80.000"),
                ("line-1-category", "devices"),
                ("line-1-amount", "30.000,00"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("<dd id=\"total-cost\">110.000,00 €</dd>"));
    assert!(
        r.body
            .contains("<dd id=\"eligible-cost\">100.000,00 €</dd>")
    );
    assert!(r.body.contains("id=\"requested-grant\">70.000,00 €</dd>"));
    assert!(
        r.body
            .contains("<li class=\"notice\">La categoria «Acquisto di dispositivi e licenze»")
    );
    assert!(r.body.contains("aria-live=\"polite\""));
}
}
