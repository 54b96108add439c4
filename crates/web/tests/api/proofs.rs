//! What an outsider checks with (issue 13): receipts signed by batch and verifiable with
//! the published key, the same signature on a retry, signed checkpoints of the ledger's
//! head, the head itself, the rules in the ledger, and honest instants.

use bandi_app::proofs::{public_keys_from, verify_receipt_json};
use bandi_domain::proof::{canonical_sha256, checkpoint_text};

use super::*;

async fn get(app: &App, path: &str) -> (StatusCode, Value) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

pub async fn receipts_are_signed_by_batch_and_verify(db: TestDb) {
    let app = start(db, 6, SignedDuration::from_mins(-1)).await;
    // Six at once: they share batches, each with its own path to the batch's root.
    let mut tasks = Vec::new();
    for i in 1..=6 {
        let token = app.token(&format!("08{i:04}")).await;
        let (client, base) = (app.client.clone(), app.base.clone());
        tasks.push(tokio::spawn(async move {
            let res = client
                .post(format!("{base}/calls/{CODE}/applications"))
                .bearer_auth(&token)
                .json(&body(20_000 + i))
                .send()
                .await
                .unwrap();
            (token, res.status(), res.text().await.unwrap())
        }));
    }
    let (status, keys) = get(&app, "/keys").await;
    assert_eq!(status, StatusCode::OK);
    let items = keys["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["algorithm"], "ed25519");
    assert!(items[0]["valid_to"].is_null(), "the key in use has no end");
    let keys = public_keys_from(&keys.to_string()).unwrap();
    let mut answers = Vec::new();
    for t in tasks {
        let (token, status, text) = t.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        let receipt = verify_receipt_json(&text, &keys).expect("a genuine receipt");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["key_id"], Value::from(keys[0].key_id.clone()));
        assert!(v["batch"]["size"].as_u64().unwrap() >= 1);
        assert!(receipt.admitted_at <= receipt.received_at, "{receipt:?}");
        answers.push((token, receipt, text));
    }
    // Admission instants follow the protocol order.
    answers.sort_by_key(|(_, r, _)| r.seq);
    for w in answers.windows(2) {
        assert!(
            w[0].1.admitted_at < w[1].1.admitted_at,
            "{:?}",
            (&w[0].1, &w[1].1)
        );
    }
    // One changed byte anywhere the signature covers: refused.
    let (_, first, text) = &answers[0];
    for (from, to) in [
        (
            format!("\"reserved_cents\":{}", first.reserved_cents.cents()),
            "\"reserved_cents\":1".to_string(),
        ),
        (
            first.ledger_hash.clone(),
            first
                .ledger_hash
                .replacen('a', "b", 1)
                .replacen('0', "1", 1),
        ),
        (
            first.admitted_at.clone(),
            first.admitted_at.replacen('0', "1", 1),
        ),
    ] {
        let forged = text.replacen(&from, &to, 1);
        assert_ne!(&forged, text, "{from}");
        assert!(
            verify_receipt_json(&forged, &keys).is_err(),
            "{from} → {to}"
        );
    }
    // A retry: the same receipt, the same signature.
    let (token, receipt, _) = &answers[2];
    let again = app
        .client
        .post(format!("{}/calls/{CODE}/applications", app.base))
        .bearer_auth(token)
        .json(&body(20_000 + receipt.entity[2..].parse::<i64>().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again = verify_receipt_json(&again.text().await.unwrap(), &keys).unwrap();
    assert_eq!(&again, receipt);
}

pub async fn checkpoints_sign_the_head(db: TestDb) {
    let app = start(db, 2, SignedDuration::from_mins(-1)).await;
    let (_, empty) = get(&app, "/checkpoints").await;
    assert_eq!(empty["items"].as_array().unwrap().len(), 0);
    for e in ["080001", "080002"] {
        let token = app.token(e).await;
        assert_eq!(
            app.submit(&token, &body(30_000)).await.0,
            StatusCode::CREATED
        );
    }
    let c = app.store.checkpoint().await.unwrap().expect("a checkpoint");
    assert!(
        app.store.checkpoint().await.unwrap().is_none(),
        "nothing moved"
    );
    let (status, head) = get(&app, "/ledger/head").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(head["size"], c.size);
    assert_eq!(head["head"], Value::from(c.head.clone()));
    let (_, ledger) = get(&app, &format!("/ledger?after={}&limit=1", c.size - 1)).await;
    assert_eq!(ledger["items"][0]["hash"], head["head"]);
    assert_eq!(ledger["items"][0]["at"], head["at"]);
    let (_, list) = get(&app, "/checkpoints?after=0&limit=10").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(list["next_after"], 1);
    let (_, keys) = get(&app, "/keys").await;
    let keys = public_keys_from(&keys.to_string()).unwrap();
    let cp = &items[0];
    let text = checkpoint_text(
        cp["key_id"].as_str().unwrap(),
        cp["size"].as_u64().unwrap(),
        cp["head"].as_str().unwrap(),
        cp["time"].as_str().unwrap(),
    );
    keys[0]
        .verify(&text, cp["signature"].as_str().unwrap())
        .expect("the checkpoint's signature");
    assert!(
        keys[0]
            .verify(
                &text.replace("size:", "size:1"),
                cp["signature"].as_str().unwrap()
            )
            .is_err()
    );
    for bad in [
        "/checkpoints?limit=0",
        "/checkpoints?after=-1",
        "/checkpoints?limit=x",
    ] {
        let (s, v) = get(&app, bad).await;
        assert_eq!(
            (s, error_code(&v)),
            (StatusCode::BAD_REQUEST, "invalid_parameter"),
            "{bad}"
        );
    }
}

pub async fn the_ledger_holds_the_rules(db: TestDb) {
    let app = start(db, 1, SignedDuration::from_mins(-1)).await;
    let (_, ledger) = get(&app, "/ledger?after=0&limit=1").await;
    let first = &ledger["items"][0];
    assert_eq!(first["kind"], "call_published");
    let rules = &first["data"]["rules"];
    assert_eq!(rules["when_not_fits"], "waitlist");
    assert_eq!(rules["time_zone"], "Europe/Rome");
    let (text, sha) = canonical_sha256(rules);
    assert_eq!(first["data"]["rules_sha256"], Value::from(sha));
    // The canonical text is what a reader re-serialising with sorted keys gets.
    assert!(first["payload"].as_str().unwrap().contains(&text));
}
