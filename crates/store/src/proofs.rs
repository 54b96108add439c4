//! The public keys and the signed checkpoints of the ledger (`bandi_domain::proof`).

use bandi_domain::instant::{format_utc, from_micros, truncate_to_micros};
use bandi_domain::proof::checkpoint_text;
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// A public key as published, with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedKey {
    pub key_id: String,
    pub algorithm: &'static str,
    /// Base64 of the 32 raw bytes.
    pub public_key: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
}

/// A signed checkpoint: the ledger had `size` entries, the last one hashed `head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub size: u64,
    pub head: String,
    pub time: String,
    pub key_id: String,
    pub signature: String,
}

fn instant(us: i64) -> Result<String> {
    from_micros(us)
        .map(format_utc)
        .ok_or_else(|| StoreError::Corrupt(format!("instant {us}")))
}

fn checkpoint_from_row(r: &sqlx::any::AnyRow) -> Result<Checkpoint> {
    Ok(Checkpoint {
        seq: r.try_get::<i64, _>("seq")? as u64,
        size: r.try_get::<i64, _>("size")? as u64,
        head: r.try_get("head")?,
        time: instant(r.try_get("time_us")?)?,
        key_id: r.try_get("key_id")?,
        signature: r.try_get("signature")?,
    })
}

impl Store {
    /// Publishes the public key of the store's signer; a key registered before it ends
    /// now (a rotation), and stays published. Nothing changes when it is the key in use.
    pub async fn register_signing_key(
        &self,
        key: &bandi_domain::proof::SigningKeyPair,
    ) -> Result<()> {
        let public = key.public();
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        let current: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT valid_to_us FROM signing_keys WHERE key_id = $1")
                .bind(&public.key_id)
                .fetch_optional(&mut *tx)
                .await?;
        match current {
            Some((None,)) => {}
            // Its validity would then cover the time another key was in use.
            Some((Some(_),)) => {
                return Err(StoreError::Config(format!(
                    "key {} was rotated out and cannot sign again: make a new one (bandi keys generate)",
                    public.key_id
                )));
            }
            None => {
                sqlx::query(
                    // Another node of the deployment may register the same key at once.
                    "INSERT INTO signing_keys (key_id, public_key, valid_from_us) VALUES ($1, $2, $3) \
                     ON CONFLICT (key_id) DO NOTHING",
                )
                .bind(&public.key_id)
                .bind(public.to_base64())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        sqlx::query(
            "UPDATE signing_keys SET valid_to_us = $1 WHERE key_id <> $2 AND valid_to_us IS NULL",
        )
        .bind(now)
        .bind(&public.key_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every key that ever signed, oldest first.
    pub async fn published_keys(&self) -> Result<Vec<PublishedKey>> {
        let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT key_id, public_key, valid_from_us, valid_to_us FROM signing_keys ORDER BY valid_from_us, key_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(key_id, public_key, from, to)| {
                Ok(PublishedKey {
                    key_id,
                    algorithm: "ed25519",
                    public_key,
                    valid_from: instant(from)?,
                    valid_to: to.map(instant).transpose()?,
                })
            })
            .collect()
    }

    /// The ledger's size and head hash.
    pub async fn ledger_head(&self) -> Result<(u64, String)> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM ledger_head WHERE id = 1")
                .fetch_one(self.pool())
                .await?;
        Ok((seq as u64, hash))
    }

    /// Signs a checkpoint of the ledger as it stands, unless the last one has this size
    /// already (or the store has no key, or the ledger is empty). Another node checkpointing
    /// the same size at once keeps its own: this one then returns `None`.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>> {
        let Some(key) = self.signer() else {
            return Ok(None);
        };
        let (size, head) = self.ledger_head().await?;
        if size == 0 {
            return Ok(None);
        }
        if let Some(last) = self.latest_checkpoint().await?
            && last.size >= size
        {
            return Ok(None);
        }
        let now = truncate_to_micros(Timestamp::now());
        let time = format_utc(now);
        let signature = key.sign(&checkpoint_text(&key.key_id, size, &head, &time));
        let (next,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) + 1 FROM checkpoints")
            .fetch_one(self.pool())
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO checkpoints (seq, size, head, time_us, key_id, signature) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(next)
        .bind(size as i64)
        .bind(&head)
        .bind(now.as_microsecond())
        .bind(&key.key_id)
        .bind(&signature)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok((inserted == 1).then(|| Checkpoint {
            seq: next as u64,
            size,
            head,
            time,
            key_id: key.key_id.clone(),
            signature,
        }))
    }

    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let row = sqlx::query(
            "SELECT seq, size, head, time_us, key_id, signature FROM checkpoints ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(checkpoint_from_row).transpose()
    }

    /// Checkpoints after number `after`, at most `limit`, oldest first.
    pub async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<Checkpoint>> {
        let rows = sqlx::query(
            "SELECT seq, size, head, time_us, key_id, signature FROM checkpoints WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after as i64)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(checkpoint_from_row).collect()
    }

    /// Whether something the checkpoints mark happened after ledger entry `after`: a list
    /// published, or a call's opening or closing passed since `since`.
    pub async fn milestone_since(&self, after: u64, since: Timestamp) -> Result<bool> {
        let (lists,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM ledger WHERE seq > $1 AND kind = 'list_published'",
        )
        .bind(after as i64)
        .fetch_one(self.pool())
        .await?;
        if lists > 0 {
            return Ok(true);
        }
        let now = Timestamp::now();
        Ok(self.calls().await?.iter().any(|c| {
            let passed = |t: Timestamp| since < t && t <= now;
            passed(c.call.opens_at) || passed(c.call.closes_at)
        }))
    }
}
