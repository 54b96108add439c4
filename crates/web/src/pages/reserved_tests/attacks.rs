//! The holes found by attacking a running demo, each as the attacker did it: a second
//! browser tab racing a submission, forged `X-Forwarded-For`, floods of sign-ins, another
//! address trying a competitor's e-mail, parallel uploads, look-alike file names.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bandi_domain::entity::EntityKind;
use bandi_store::Role;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use super::{
    Answer, App, BOUNDARY, Browser, CODE, PASSWORD, form_body, form_path, good_fields, hidden,
    multipart, multipart_request,
};
use crate::testing::{TestServer, entity, er_call};
use bandi_app::passwords::hash_blocking as hash_password;

const PLAN: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

/// `n` comuni `t0001`…, one applicant acting for all of them, and an official.
async fn many_entities(db: TestDb, n: usize) -> App {
    let entities: Vec<_> = (1..=n)
        .map(|i| {
            entity(
                &format!("t{i:04}"),
                &format!("Comune di Prova {i}"),
                EntityKind::Comune,
                "08",
            )
        })
        .collect();
    let server =
        TestServer::start_with(db, &entities, &er_call(SignedDuration::from_mins(-1)), 1000).await;
    let store = server.store;
    let hash = hash_password(PASSWORD);
    let u = store
        .create_user("staff@example.it", "Staff", &hash, Role::Applicant)
        .await
        .unwrap();
    for e in &entities {
        store.bind_entity(&u.id, e.code.as_str()).await.unwrap();
    }
    App {
        base: server.origin,
        store,
        db: server.db,
    }
}

on_both_backends! {
    /// Hole 1: a second tab removes the attachment while the first submits. Whatever wins,
    /// the application must name only documents that are sealed to it, and `verify` passes.
    async fn a_submission_racing_a_removal_keeps_what_it_names(db: TestDb) {
    const N: usize = 24;
    let app = many_entities(db, N).await;
    let mut b = Browser::new(&app);
    b.sign_in("staff@example.it", PASSWORD).await;
    let cookies = b.cookie_header();
    let client = b.client.clone();
    let mut forms = Vec::new();
    for i in 1..=N {
        let entity = format!("t{i:04}");
        let page = b.get(&form_path(&entity)).await;
        let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
        let saved = b
            .send(multipart_request(
                &client,
                format!("{}{}", app.base, form_path(&entity)),
                &cookies,
                multipart(
                    &good_fields(&csrf, &nonce, "save"),
                    &[("att-project_plan", "piano.pdf", "application/pdf", PLAN)],
                ),
            ))
            .await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        forms.push((entity, csrf, nonce));
    }
    // Each entity's pair races; pairs follow one another (a session has two uploads in
    // progress at most).
    for (entity, csrf, nonce) in forms {
        let url = format!("{}{}", app.base, form_path(&entity));
        let submit = multipart_request(
            &client,
            url.clone(),
            &cookies,
            multipart(&good_fields(&csrf, &nonce, "submit"), &[]),
        );
        let mut fields = good_fields(&csrf, &nonce, "save");
        fields.push(("remove-project_plan", "1"));
        let remove = multipart_request(&client, url, &cookies, multipart(&fields, &[]));
        let (submitted, removed) = tokio::join!(submit.send(), remove.send());
        let submitted = submitted.unwrap().status();
        assert!(
            submitted == StatusCode::SEE_OTHER || submitted == StatusCode::CONFLICT,
            "{submitted}"
        );
        let removed = removed.unwrap().status();
        // The removal lands before (saved) or after the submission (too late: 303 to the
        // receipt, or 409 for a change to a submitted application).
        assert!(
            [StatusCode::OK, StatusCode::SEE_OTHER, StatusCode::CONFLICT].contains(&removed),
            "{removed}"
        );
    }
    for a in app.store.call_applications(CODE).await.unwrap() {
        let sealed = app
            .store
            .application_documents(&a.receipt.id)
            .await
            .unwrap();
        for named in &a.content.attachments {
            assert!(
                sealed
                    .iter()
                    .any(|d| d.attachment == named.code && d.sha256 == named.sha256),
                "{} names {} but it is not sealed to it",
                a.receipt.protocol,
                named.code
            );
        }
    }
    app.store.verify().await.expect("the database verifies");
}
}

/// Sign-in attempts with a wrong password, one per e-mail so that no per-e-mail limit
/// applies, each with a forged `X-Forwarded-For`.
async fn wrong_sign_in(app: &App, client: &reqwest::Client, email: &str, xff: &str) -> Answer {
    let mut b = Browser {
        base: app.base.clone(),
        client: client.clone(),
        cookies: Default::default(),
    };
    let page = b.get("/accedi").await;
    let csrf = hidden(&page.body, "csrf");
    let req = b
        .client
        .post(format!("{}/accedi", b.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("x-forwarded-for", xff)
        .body(form_body(&[
            ("email", email),
            ("password", "not the password at all"),
            ("csrf", &csrf),
            ("next", ""),
        ]));
    b.send(req).await
}

on_both_backends! {
    /// Hole 2: `X-Forwarded-For` from a client that is not a configured proxy is not who
    /// the client is: forging a new address at every attempt does not escape the
    /// per-address throttle.
    async fn a_forged_forwarded_for_does_not_escape_the_throttle(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut throttled = 0;
    for i in 0..60 {
        let r = wrong_sign_in(
            &app,
            &client,
            &format!("nobody{i}@example.it"),
            &format!("203.0.113.{i}"),
        )
        .await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
        }
    }
    assert!(
        throttled >= 10,
        "60 failures from one client with forged addresses: {throttled} throttled"
    );
}
}

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::V4(Ipv4Addr::from(ip)))
        .build()
        .unwrap()
}

async fn sign_in_from(
    app: &App,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> StatusCode {
    let mut b = Browser {
        base: app.base.clone(),
        client: client.clone(),
        cookies: Default::default(),
    };
    b.sign_in(email, password).await.status
}

on_both_backends! {
    /// Hole 4: wrong passwords from one address cannot keep the owner out from another.
    async fn wrong_passwords_elsewhere_do_not_lock_the_owner_out(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let attacker = client_from([127, 0, 0, 2]);
    for _ in 0..8 {
        let s = sign_in_from(&app, &attacker, "cervia@example.it", "wrong guess!").await;
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS,
            "{s}"
        );
    }
    assert_eq!(
        sign_in_from(&app, &attacker, "cervia@example.it", PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the attacker's address is throttled for that e-mail"
    );
    let owner = client_from([127, 0, 0, 1]);
    assert_eq!(
        sign_in_from(&app, &owner, "cervia@example.it", PASSWORD).await,
        StatusCode::SEE_OTHER,
        "the owner, from another address, gets in"
    );
}
}

on_both_backends! {
    /// Hole 4: forty wrong passwords in parallel are at most five evaluated.
    async fn parallel_wrong_passwords_are_counted_exactly(db: TestDb) {
    let app = Arc::new(super::super::start(db, SignedDuration::from_mins(-1)).await);
    let client = client_from([127, 0, 0, 3]);
    let mut forms = Vec::new();
    for _ in 0..40 {
        let mut b = Browser {
            base: app.base.clone(),
            client: client.clone(),
            cookies: Default::default(),
        };
        let page = b.get("/accedi").await;
        forms.push((b, hidden(&page.body, "csrf")));
    }
    let mut set = tokio::task::JoinSet::new();
    for (mut b, csrf) in forms {
        set.spawn(async move {
            b.post(
                "/accedi",
                &[
                    ("email", "ucdc@example.it"),
                    ("password", "wrong password, in parallel"),
                    ("csrf", &csrf),
                    ("next", ""),
                ],
            )
            .await
            .status
        });
    }
    let mut evaluated = 0;
    while let Some(s) = set.join_next().await {
        let s = s.unwrap();
        if s == StatusCode::UNAUTHORIZED {
            evaluated += 1;
        } else {
            assert!(
                s == StatusCode::TOO_MANY_REQUESTS || s == StatusCode::SERVICE_UNAVAILABLE,
                "{s}"
            );
        }
    }
    assert!(evaluated <= 5, "{evaluated} of 40 evaluated");
}
}

on_both_backends! {
    /// Hole 3: a flood of sign-ins is answered at once beyond what the hashing pool takes,
    /// and the rest of the server keeps answering meanwhile.
    async fn a_flood_of_sign_ins_is_turned_away_not_queued(db: TestDb) {
    let app = Arc::new(super::super::start(db, SignedDuration::from_mins(-1)).await);
    let mut forms = Vec::new();
    for i in 0..48u8 {
        // Many addresses and e-mails: no throttle applies, only the pool's limit.
        let client = client_from([127, 0, 1, i + 1]);
        let mut b = Browser {
            base: app.base.clone(),
            client,
            cookies: Default::default(),
        };
        let page = b.get("/accedi").await;
        forms.push((b, hidden(&page.body, "csrf"), i));
    }
    let mut set = tokio::task::JoinSet::new();
    for (mut b, csrf, i) in forms {
        set.spawn(async move {
            let r = b
                .post(
                    "/accedi",
                    &[
                        ("email", &format!("flood{i}@example.it")),
                        ("password", "a wrong password of the flood"),
                        ("csrf", &csrf),
                        ("next", ""),
                    ],
                )
                .await;
            (r.status, r.headers.contains_key("retry-after"))
        });
    }
    let health = reqwest::get(format!("{}/api/v1/health", app.base))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let mut turned_away = 0;
    while let Some(r) = set.join_next().await {
        let (s, retry_after) = r.unwrap();
        if s == StatusCode::SERVICE_UNAVAILABLE {
            assert!(retry_after);
            turned_away += 1;
        } else {
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
    }
    assert!(turned_away > 0, "48 sign-ins at once, none turned away");
}
}

/// A multipart request whose body is sent in two parts: the first at once, the rest when
/// `rest` is sent a signal; until then the request is in progress.
fn slow_upload(
    client: &reqwest::Client,
    url: String,
    cookies: &str,
    body: Vec<u8>,
) -> (reqwest::RequestBuilder, tokio::sync::oneshot::Sender<()>) {
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let split = body.len() / 2;
    let (head, tail) = (body[..split].to_vec(), body[split..].to_vec());
    let stream = futures_util::stream::unfold(
        (Some(head), Some(tail), Some(wait)),
        |(head, tail, wait)| async move {
            if let Some(h) = head {
                return Some((Ok::<_, std::io::Error>(h), (None, tail, wait)));
            }
            let tail = tail?;
            let _ = wait?.await;
            Some((Ok(tail), (None, None, None)))
        },
    );
    let req = client
        .post(url)
        .header("cookie", cookies)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(reqwest::Body::wrap_stream(stream));
    (req, go)
}

on_both_backends! {
    /// Hole 6: uploads in flight are bounded per session: with two of a session's uploads in
    /// progress, a third is refused at once (with Retry-After), and another session is not
    /// affected; once they end, the session may upload again.
    async fn parallel_uploads_of_one_session_are_bounded(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let url = format!("{}{}", app.base, form_path("039007"));
    let cookies = b.cookie_header();
    let body = || {
        multipart(
            &good_fields(&csrf, &nonce, "save"),
            &[("att-project_plan", "a.pdf", "application/pdf", PLAN)],
        )
    };
    let mut slow = Vec::new();
    for _ in 0..2 {
        // A client each: a pooled connection would carry them one after the other.
        let client = reqwest::Client::new();
        let (req, go) = slow_upload(&client, url.clone(), &cookies, body());
        slow.push((tokio::spawn(async move { req.send().await }), go));
    }
    // Both are in progress once their first halves have reached the server.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut third = None;
    for _ in 0..100 {
        let r = multipart_request(&b.client, url.clone(), &cookies, body())
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            third = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let third = third.expect("a third upload of the session while two are in progress");
    assert!(third.headers().contains_key("retry-after"));
    // Another person's upload goes through meanwhile.
    let mut other = Browser::new(&app);
    other.sign_in("ucdc@example.it", PASSWORD).await;
    let page = other.get(&form_path("ucdc")).await;
    let (ocsrf, ononce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let r = other
        .send(multipart_request(
            &other.client,
            format!("{}{}", app.base, form_path("ucdc")),
            &other.cookie_header(),
            multipart(
                &good_fields(&ocsrf, &ononce, "save"),
                &[("att-project_plan", "b.pdf", "application/pdf", PLAN)],
            ),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for (task, go) in slow {
        go.send(()).unwrap();
        assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    let r = multipart_request(&b.client, url.clone(), &cookies, body())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "places came back");
}
}

on_both_backends! {
    /// Hole 7: a document is downloaded under a name made of its attachment code and the
    /// extension of its detected type, never the name it was uploaded with; format
    /// characters (bidi overrides, zero-width) are stripped from names and texts.
    async fn look_alike_file_names_are_not_served(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let page = b.get(&form_path("039007")).await;
    let (csrf, nonce) = (hidden(&page.body, "csrf"), hidden(&page.body, "nonce"));
    let mut fields = good_fields(&csrf, &nonce, "save");
    fields.retain(|(k, _)| *k != "title");
    fields.push(("title", "Smart\u{202E}fdp.exe working\u{200B}"));
    let req = multipart_request(
        &b.client,
        format!("{}{}", app.base, form_path("039007")),
        &b.cookie_header(),
        multipart(
            &fields,
            &[
                ("att-project_plan", "atto.pdf.hta", "application/pdf", PLAN),
                ("att-resolution", "delibera\u{202E}fdp.lmth", "application/pdf", PLAN),
            ],
        ),
    );
    let r = b.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let docs = app.store.draft_documents("039007", CODE).await.unwrap();
    assert_eq!(docs.len(), 2);
    for d in &docs {
        assert!(
            !d.file_name.contains('\u{202E}'),
            "{:?} keeps a bidi override",
            d.file_name
        );
        let res = b
            .client
            .get(format!("{}/area-riservata/documenti/{}", b.base, d.id))
            .header("cookie", b.cookie_header())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let disposition = res.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("filename=\"{}.pdf\"", d.attachment)),
            "{disposition}"
        );
        assert!(!disposition.contains("hta") && !disposition.contains("lmth"));
    }
    let draft = app.store.draft("039007", CODE).await.unwrap().unwrap();
    assert!(
        !draft.contains("\\u202e") && !draft.contains('\u{202E}') && !draft.contains('\u{200B}'),
        "{draft}"
    );
}
}

on_both_backends! {
    /// Hole 9: a session idle for longer than the idle limit is over, whatever its absolute
    /// expiry says.
    async fn an_idle_session_expires(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    assert_eq!(b.get("/area-riservata").await.status, StatusCode::OK);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.db.url).await.unwrap();
    let three_hours_ago = jiff::Timestamp::now().as_microsecond() - 3 * 3600 * 1_000_000;
    sqlx::query("UPDATE sessions SET last_seen_us = $1")
        .bind(three_hours_ago)
        .execute(&pool)
        .await
        .unwrap();
    let r = b.get("/area-riservata").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "an idle session is over");
}
}

on_both_backends! {
    /// Hole 9: the dashboard's live stream ends when its session does.
    async fn the_status_stream_ends_with_its_session(db: TestDb) {
    let app = super::super::start(db, SignedDuration::from_mins(-1)).await;
    let mut b = Browser::new(&app);
    b.sign_in("cervia@example.it", PASSWORD).await;
    let csrf = b.csrf().await;
    let mut res = b
        .client
        .get(format!("{}/area-riservata/stati?ente=039007", b.base))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let r = b.post("/esci", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Ok(Some(_)) = res.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its session");
}
}
