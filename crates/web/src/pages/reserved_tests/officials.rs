//! Officials: import and change a call, list and export its applications, manage accounts.

use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::*;

on_both_backends! {
    async fn officials_import_list_export_and_manage_accounts(db: TestDb) {
    let app = start(db, SignedDuration::from_mins(-1)).await;
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
            .starts_with("\u{feff}seq;protocol;received_at_utc"),
        "the UTF-8 mark and ';': a spreadsheet set to Italian opens it right"
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with(&format!("1;{protocol};")), "{row}");
    assert!(
        row.contains(";75000,50;75000,50;52500,35;52500,35;reserved;"),
        "decimal commas: {row}"
    );
    assert!(
        row.contains(";'=Smart working a Cervia;"),
        "no formula: {row}"
    );
    assert!(
        row.ends_with(';'),
        "no documents attached, an empty last column: {row}"
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
                // By name, as an official picks it: no code to know.
                ("entities", "unione dei comuni del distretto ceramico"),
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
    // A name that matches nothing: said, nothing bound.
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/enti", user.id),
            &[("csrf", &csrf), ("entity", "Comune di Atlantide")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Nessun ente corrisponde a «Comune di Atlantide»"));
    assert!(r.body.contains("<option value=\"Cervia (039007)\">"), "the list to pick from");
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/enti", user.id),
            &[("csrf", &csrf), ("entity", "Cervia (039007)")],
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

    // A person changes their own password: the current one first, the rule of new accounts;
    // their other sessions end, this one stays.
    let mut other_device = Browser::new(&app);
    let r = other_device
        .sign_in("faenza@example.it", "una password abbastanza lunga")
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = faenza.get("/profilo/password").await;
    assert_eq!(page.status, StatusCode::OK);
    let fcsrf = hidden(&page.body, "csrf");
    for (current, new, repeat, needle) in [
        ("sbagliata sbagliata", "nuova password lunga", "nuova password lunga", "La password attuale non è corretta"),
        ("una password abbastanza lunga", "corta", "corta", "almeno 12 caratteri"),
        ("una password abbastanza lunga", "nuova password lunga", "un'altra ancora", "non coincidono"),
    ] {
        let r = faenza
            .post(
                "/profilo/password",
                &[("csrf", &fcsrf), ("current", current), ("new", new), ("repeat", repeat)],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{needle}");
        assert!(r.body.contains(needle), "{needle}");
    }
    let r = faenza
        .post(
            "/profilo/password",
            &[
                ("csrf", &fcsrf),
                ("current", "una password abbastanza lunga"),
                ("new", "nuova password lunga"),
                ("repeat", "nuova password lunga"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(faenza.get("/area-riservata").await.status, StatusCode::OK, "this session stays");
    assert_ne!(
        other_device.get("/area-riservata").await.status,
        StatusCode::OK,
        "the other device signs in again"
    );
    let mut again = Browser::new(&app);
    let r = again.sign_in("faenza@example.it", "una password abbastanza lunga").await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "the old password no longer works");
    let r = again.sign_in("faenza@example.it", "nuova password lunga").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // An admin disables the account: its sessions end, it cannot sign in; never their own.
    let page = b.get("/amministrazione/utenti").await;
    assert!(page.body.contains(&format!("/amministrazione/utenti/{}/stato", user.id)));
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/stato", user.id),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = faenza.get("/area-riservata").await;
    assert_ne!(r.status, StatusCode::OK, "the session ended with the account");
    let mut later = Browser::new(&app);
    let r = later.sign_in("faenza@example.it", "nuova password lunga").await;
    assert_ne!(r.status, StatusCode::SEE_OTHER, "a disabled account cannot sign in");
    let page = b.get("/amministrazione/utenti?disattivato=faenza%40example.it").await;
    assert!(page.body.contains("Account faenza@example.it disattivato"));
    let (me, _) = app
        .store
        .user_by_email("ufficio@example.it")
        .await
        .unwrap()
        .unwrap();
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/stato", me.id),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("Non si può disattivare il proprio account"));
    assert!(
        !r.body.contains("/stato?lang="),
        "the language switch of an answer to a form does not lead to the form's POST address"
    );
    assert!(
        !r.body.contains(&format!(
            "action=\"/amministrazione/utenti/{}/stato\"",
            me.id
        )),
        "no button for oneself"
    );
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/stato", user.id),
            &[("csrf", &csrf), ("disabled", "forse")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .post(
            &format!("/amministrazione/utenti/{}/stato", user.id),
            &[("csrf", &csrf), ("disabled", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = later.sign_in("faenza@example.it", "nuova password lunga").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "enabled again");
}
}
