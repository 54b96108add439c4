//! Signing in and out, sessions, CSRF, throttling, and roles checked on the server.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, SET_COOKIE};

use super::*;

on_both_backends! {
    async fn sign_in_sessions_and_csrf(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
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
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
    assert!(
        !set.contains("Secure"),
        "X-Forwarded-Proto from a client that is not a trusted proxy is not believed"
    );
    assert!(!r.headers.contains_key("strict-transport-security"));
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
}

on_both_backends! {
    async fn sign_in_is_throttled(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
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
}

on_both_backends! {
    async fn roles_are_checked_on_the_server(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
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
}

on_both_backends! {
    /// Behind the Region's proxy (trusted), a request the proxy received over TLS gets a
    /// `Secure` cookie and HSTS.
    async fn behind_a_trusted_proxy_cookies_are_secure(db: TestDb) {
    let net = crate::NetConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
        ..crate::NetConfig::default()
    };
    let app = start_with_net(db, &crate::testing::er_call(SignedDuration::from_mins(-1)), net).await;
    let mut b = Browser::new(&app);
    let page = b.get("/accedi").await;
    let csrf = hidden(&page.body, "csrf");
    let r = b
        .client
        .post(format!("{}/accedi", b.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-proto", "https")
        .header("x-forwarded-for", "198.51.100.7");
    let r = b
        .send(r.body(form_body(&[
            ("email", "cervia@example.it"),
            ("password", PASSWORD),
            ("csrf", &csrf),
            ("next", ""),
        ])))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let set = r
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("bandi_session="))
        .unwrap();
    assert!(set.contains("Secure"), "{set}");
    assert_eq!(r.headers["strict-transport-security"], "max-age=31536000");
}
}
