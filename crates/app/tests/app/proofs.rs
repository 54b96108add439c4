//! The signing key and what it signs, through the use cases: key files (made once, never
//! overwritten, refused when inconsistent), a rotation that ends the previous key but keeps
//! it published, checkpoints only when the ledger moved, and the checkpointer that mirrors
//! them to a file and signs a last one when it stops.

use std::time::Duration;

use bandi_app::intake::{Content, Submit};
use bandi_app::proofs::{
    generate_key_file, load_key_file, load_or_create_key, public_keys_from, run_checkpointer,
    verify_receipt_json,
};
use bandi_app::{Actor, App, AppError};
use bandi_domain::proof::SigningKeyPair;
use bandi_store::Store;
use bandi_store::intake::{Accepted, Intake};
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

fn temp_dir() -> std::path::PathBuf {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let dir = std::env::temp_dir().join(format!("bandi-app-keys-{}", hex::encode(bytes)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn submit(app: &App, entity_code: &str) -> bandi_store::Receipt {
    let accepted = app
        .submit(
            &Actor::Entity(entity_code.into()),
            Submit {
                call: code(),
                entity: entity(entity_code),
                idempotency_key: None,
                content: Content::Json(body(30_000)),
            },
        )
        .await
        .unwrap();
    match accepted {
        Accepted::Created(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn key_files_are_made_once_and_checked_when_read() {
    let dir = temp_dir();
    let path = dir.join("k.json");
    let public = generate_key_file(&path).unwrap();
    assert_eq!(load_key_file(&path).unwrap().key_id, public.key_id);
    assert!(matches!(
        generate_key_file(&path),
        Err(AppError::InvalidKeyFile(_))
    ));
    let (again, made) = load_or_create_key(&path).unwrap();
    assert!(!made);
    assert_eq!(again.key_id, public.key_id);
    let (other, made) = load_or_create_key(&dir.join("sub").join("new.json")).unwrap();
    assert!(made);
    assert_ne!(other.key_id, public.key_id);
    // A file whose id does not match its secret is refused.
    let text = std::fs::read_to_string(&path).unwrap();
    let forged = dir.join("forged.json");
    std::fs::write(&forged, text.replace(&public.key_id, &other.key_id)).unwrap();
    assert!(matches!(
        load_key_file(&forged),
        Err(AppError::InvalidKeyFile(_))
    ));
    std::fs::write(&forged, "{}").unwrap();
    assert!(load_key_file(&forged).is_err());
    // Public keys from a key file, from base64, from the keys endpoint's JSON.
    assert_eq!(public_keys_from(&text).unwrap()[0].key_id, public.key_id);
    assert_eq!(
        public_keys_from(&public.to_base64()).unwrap()[0].key_id,
        public.key_id
    );
    let listing = serde_json::json!({"items": [{"public_key": public.to_base64()}]});
    assert_eq!(public_keys_from(&listing.to_string()).unwrap().len(), 1);
    assert!(public_keys_from("not a key").is_err());
    std::fs::remove_dir_all(dir).ok();
}

pub async fn a_rotation_ends_the_old_key_and_keeps_it_published(db: TestDb) {
    let first = app(&db, SignedDuration::from_mins(-1)).await;
    let a = SigningKeyPair::from_secret([1; 32]);
    let a_id = a.key_id.clone();
    first.use_signing_key(a).await.unwrap();
    let receipt = submit(&first, "080001").await;
    let signed_by_a = serde_json::to_string(&receipt).unwrap();
    let c1 = first.checkpoint_now().await.unwrap().expect("moved");
    assert!(
        first.checkpoint_now().await.unwrap().is_none(),
        "nothing moved since"
    );
    assert_eq!(c1.key_id, a_id);

    // The server restarts with another key.
    let store = Store::connect(&db.url).await.unwrap();
    let second = App::new(store.clone(), Intake::start(store, 100));
    let b = SigningKeyPair::from_secret([2; 32]);
    let b_id = b.key_id.clone();
    second.use_signing_key(b).await.unwrap();
    let keys = second.published_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    let old = keys.iter().find(|k| k.key_id == a_id).unwrap();
    let new = keys.iter().find(|k| k.key_id == b_id).unwrap();
    assert!(old.valid_to.is_some(), "the old key ended");
    assert!(new.valid_to.is_none());
    assert!(old.valid_to.as_deref() <= Some(new.valid_from.as_str()));
    // What the old key signed still checks with the keys published.
    let listing = serde_json::json!({ "items": keys }).to_string();
    let all = public_keys_from(&listing).unwrap();
    verify_receipt_json(&signed_by_a, &all).unwrap();
    let receipt = submit(&second, "080002").await;
    assert_eq!(receipt.key_id.as_deref(), Some(b_id.as_str()));
    let c2 = second.checkpoint_now().await.unwrap().expect("moved");
    assert_eq!((c2.seq, c2.key_id.as_str()), (c1.seq + 1, b_id.as_str()));
    assert!(c2.size > c1.size);
}

pub async fn the_checkpointer_mirrors_and_signs_at_shutdown(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    app.use_signing_key(SigningKeyPair::from_secret([3; 32]))
        .await
        .unwrap();
    let dir = temp_dir();
    let file = dir.join("checkpoints.jsonl");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(run_checkpointer(
        app.clone(),
        Duration::from_millis(50),
        Duration::from_millis(20),
        Some(file.clone()),
        stopped,
    ));
    submit(&app, "080001").await;
    let mut lines = 0;
    for _ in 0..200 {
        lines = std::fs::read_to_string(&file)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(lines >= 1, "a checkpoint mirrored");
    // A last change, then the stop: the last checkpoint covers it.
    submit(&app, "080002").await;
    stop.send(true).unwrap();
    task.await.unwrap();
    let (size, head) = app.store().ledger_head().await.unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["size"], size);
    assert_eq!(last["head"], serde_json::Value::from(head));
    let seqs: Vec<u64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "each once, in order"
    );
    std::fs::remove_dir_all(dir).ok();
}
