//! The API's holes found by attacking a running demo: paging past the range, bodies that
//! are not JSON, duplicate keys, the scheme's case, caching headers, errors of the HTTP
//! layer itself, slow clients, a retry with a new key.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

/// Hole 8: out-of-range paging is a 400, never a wrap-around nor a silent clamp.
pub(super) async fn ledger_paging_out_of_range(db: TestDb) {
    let app = open_app(db, 1).await;
    for bad in [
        "after=18446744073709551615",
        "after=9223372036854775808",
        "limit=0",
    ] {
        let (s, v) = app.get(&format!("/ledger?{bad}")).await;
        assert_eq!(
            (s, error_code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}: {v}"
        );
    }
    let (s, v) = app.get("/ledger?after=9223372036854775807").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
}

/// Hole 9: what the API promises at the HTTP level.
pub(super) async fn http_details(db: TestDb) {
    let app = open_app(db, 2).await;
    let token = app.token("080001").await;
    let url = format!("{}/calls/{CODE}/applications", app.base);
    // Not JSON: 415.
    let r = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(body(75_000).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "unsupported_media_type"
    );
    // Duplicate keys: 400, not the last one silently winning.
    let r = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"title":"a","title":"b","lines":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&r.json().await.unwrap()), "invalid_json");
    assert_eq!(app.footprint().await.1, 0, "nothing stored");
    // The scheme in any case (RFC 7235).
    let r = app
        .client
        .post(&url)
        .header("authorization", format!("bearer {token}"))
        .json(&body(75_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let receipt: Value = r.json().await.unwrap();
    // Private answers are stored by no cache; every API answer says nosniff.
    let r = app
        .client
        .get(format!(
            "{}/applications/{}",
            app.base,
            receipt["id"].as_str().unwrap()
        ))
        .header("authorization", format!("BEARER {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let r = app
        .client
        .get(format!("{}/calls/{CODE}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    // Errors of the HTTP layer carry the JSON error shape too.
    let r = app
        .client
        .get(format!("{}/calls/{CODE}", app.base))
        .header("x-big", "x".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(
        error_code(&r.json().await.unwrap()),
        "request_header_fields_too_large"
    );
    let r = app
        .client
        .get(format!(
            "{}/calls/{CODE}?x={}",
            app.base,
            "y".repeat(20 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);
    assert_eq!(error_code(&r.json().await.unwrap()), "uri_too_long");
    let r = app
        .client
        .get(format!("{}/ledger?after=1&after=2&limit=%ZZ", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.is_ok(), "a JSON error");
}

/// Hole 10: the same entity sending the same content again, with a new Idempotency-Key,
/// gets the first receipt with 200 (the intake's contract), on either path.
pub(super) async fn same_content_with_a_new_key_is_a_retry(db: TestDb) {
    let app = open_app(db, 2).await;
    let token = app.token("080001").await;
    let send = |key: &'static str| {
        app.submit_req(Some(&token))
            .header("Idempotency-Key", key)
            .json(&body(75_000))
            .send()
    };
    let r = send("first-key").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let first: Value = r.json().await.unwrap();
    let before = app.footprint().await;
    let r = send("second-key").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), first);
    assert_eq!(app.footprint().await, before);
    // In flight at once, with keys never seen: one application.
    let t2 = app.token("080002").await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..6 {
        let req = app
            .submit_req(Some(&t2))
            .header("Idempotency-Key", format!("k{i}"))
            .json(&body(30_000));
        set.spawn(async move { req.send().await.unwrap().status() });
    }
    let mut created = 0;
    while let Some(s) = set.join_next().await {
        let s = s.unwrap();
        if s == StatusCode::CREATED {
            created += 1;
        } else {
            assert_eq!(s, StatusCode::OK);
        }
    }
    assert_eq!(created, 1);
}

/// Hole 5: a client that never finishes its headers is cut off, and one address cannot
/// hold every connection nor every live stream.
pub(super) async fn slow_clients_are_cut_off(db: TestDb) {
    // Small caps and a short header timeout, so that the test does not need thousands of
    // sockets nor ten seconds; the defaults are the same mechanism.
    let net = bandi_web::NetConfig {
        header_timeout: Duration::from_secs(2),
        body_idle_timeout: Duration::from_secs(1),
        max_connections_per_address: 40,
        max_streams_per_address: 8,
        ..bandi_web::NetConfig::default()
    };
    let app = start_with_net(db, 1, SignedDuration::from_mins(-1), net).await;
    let addr = app
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_string();
    // Headers never finished: closed after the header timeout, not held forever.
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "a half-sent request held its connection");

    // A body that stalls: 408 in the JSON error shape, nothing stored.
    let token = app.token("080001").await;
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST /api/v1/calls/{CODE}/applications HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                 Content-Length: 400\r\n\r\n{{\"title\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert_eq!(app.footprint().await.1, 0);

    // Many idle connections from one address: past the cap they are closed at once.
    let other = std::net::SocketAddr::new("127.0.0.9".parse().unwrap(), 0);
    let mut held = Vec::new();
    for _ in 0..60 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(other).unwrap();
        match socket.connect(addr.parse().unwrap()).await {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    let mut dropped = 0;
    for s in held.iter_mut() {
        let mut one = [0u8; 1];
        if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut one)).await {
            dropped += 1;
        }
    }
    assert!(
        dropped >= 15,
        "60 idle connections from one address, {dropped} closed (cap 40)"
    );
    let (s, _) = app.get("/health").await;
    assert_eq!(s, StatusCode::OK, "another address is still served");
    drop(held);

    // Live streams from one address are capped.
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 10]))
        .build()
        .unwrap();
    let origin = app.base.trim_end_matches("/api/v1");
    let mut streams = Vec::new();
    let mut refused = 0;
    for _ in 0..12 {
        let r = client
            .get(format!("{origin}/bandi/{CODE}/eventi"))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            assert_eq!(r.status(), StatusCode::OK);
            streams.push(r);
        }
    }
    assert_eq!(refused, 4, "12 live streams from one address, cap 8");
}

/// Hole 7 (API): format characters are stripped from the texts of an application.
pub(super) async fn format_characters_are_stripped(db: TestDb) {
    let app = open_app(db, 1).await;
    let token = app.token("080001").await;
    let mut b = body(75_000);
    b["title"] = json!("Smart\u{202E}gnikrow\u{200B} working");
    b["lines"][0]["description"] = json!("Forma\u{2066}zione");
    let (s, receipt) = app.submit(&token, &b).await;
    assert_eq!(s, StatusCode::CREATED, "{receipt}");
    let a = app
        .store
        .application(receipt["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.content.title, "Smartgnikrow working");
    assert_eq!(a.content.lines[0].description, "Formazione");
}
