//! Bearer tokens of the API. A token belongs to one entity and is stored only as its hash.

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use futures_util::TryStreamExt;

use crate::cache::TokenDigest;
use crate::entities::entity_from_row;
use crate::{Result, Store, StoreError};

/// Tokens with their entity's code, where the condition holds.
macro_rules! tokens_where {
    ($condition:literal) => {
        concat!(
            "SELECT token_sha256, entity_code, created_us FROM tokens WHERE ",
            $condition
        )
    };
}

fn token_digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

fn token_hash(token: &str) -> String {
    hex::encode(token_digest(token))
}

/// A row of [`tokens_where`]: the token's digest and its entity's code.
fn token_row(row: &AnyRow) -> Result<(TokenDigest, Box<str>)> {
    let hex: &str = row.try_get("token_sha256")?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex, &mut digest)
        .map_err(|e| StoreError::Corrupt(format!("token hash {hex:?}: {e}")))?;
    let entity: &str = row.try_get("entity_code")?;
    Ok((digest, entity.into()))
}

impl Store {
    /// Issues a new token for an entity and returns it; it is not shown again.
    pub async fn issue_token(&self, entity_code: &str) -> Result<String> {
        if self.entity(entity_code).await?.is_none() {
            return Err(StoreError::NotFound(format!("entity {entity_code}")));
        }
        let mut issued = self.issue_tokens(&[entity_code.to_string()]).await?;
        Ok(issued.pop().expect("one token per entity"))
    }

    /// Issues one new token for each of these entities in one transaction, returned in the
    /// same order: for rehearsals of many thousands of entities, where one transaction (one
    /// fsync) per token would take longer than the click day. Nothing is issued if any
    /// entity is unknown (the foreign key refuses the whole batch).
    pub async fn issue_tokens(&self, entity_codes: &[String]) -> Result<Vec<String>> {
        let tokens: Vec<String> = entity_codes
            .iter()
            .map(|_| format!("bnd_{}", crate::random_hex(24)))
            .collect();
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        for (codes, chunk) in entity_codes.chunks(500).zip(tokens.chunks(500)) {
            let sql = crate::ledger::multi_row_insert(
                "INSERT INTO tokens (token_sha256, entity_code, created_us) VALUES ",
                3,
                codes.len(),
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (code, token) in codes.iter().zip(chunk) {
                q = q.bind(token_hash(token)).bind(code.as_str()).bind(now);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.analyse_after_bulk("tokens", tokens.len()).await;
        Ok(tokens)
    }

    /// The entity a token belongs to, if the token exists. A token not in the cache makes
    /// this node load, in one query, every token issued since its last load (and each
    /// one's entity), unless such a load is already running: then the token is looked up
    /// on its own. A token still missing after the load (unknown, or issued by another
    /// process whose clock or commit lagged behind the last load) is looked up on its own
    /// before the answer is no: an unknown token costs two indexed queries that find
    /// nothing.
    pub async fn token_entity(&self, token: &str) -> Result<Option<String>> {
        let digest = token_digest(token);
        if let Some(entity) = self.caches().token(&digest) {
            return Ok(Some(entity));
        }
        // While a load is running (at start, a million tokens take seconds) a request does
        // not wait for it: it looks its own token up.
        let Ok(loaded_until) = self.caches().tokens_loaded_until.try_lock() else {
            return self.token_entity_alone(&digest).await;
        };
        if let Some(entity) = self.caches().token(&digest) {
            return Ok(Some(entity));
        }
        self.load_tokens_since(loaded_until).await?;
        if let Some(entity) = self.caches().token(&digest) {
            return Ok(Some(entity));
        }
        self.token_entity_alone(&digest).await
    }

    /// Loads every token issued since the last load, with its entity, into the caches:
    /// `serve` calls it before taking requests, so that the click day's first requests find
    /// their tokens already there. Returns how many were loaded.
    pub async fn load_tokens(&self) -> Result<usize> {
        self.load_tokens_once(std::future::ready(())).await
    }

    /// [`Store::load_tokens`] once `ready` is: meanwhile a request's token that is not
    /// cached is looked up on its own, as during the load, rather than starting the load.
    pub async fn load_tokens_once(
        &self,
        ready: impl std::future::Future<Output = ()>,
    ) -> Result<usize> {
        let loaded_until = self.caches().tokens_loaded_until.lock().await;
        ready.await;
        self.load_tokens_since(loaded_until).await
    }

    async fn load_tokens_since(
        &self,
        mut loaded_until: tokio::sync::MutexGuard<'_, i64>,
    ) -> Result<usize> {
        // Streamed: a million rows held at once as rows took more memory than all that
        // is kept of them. Each row spends a unit of tokio's budget: PostgreSQL's rows come
        // faster than they are decoded, so the stream never waits and, without it, held its
        // worker for a second while the first submission after a restart waited behind it.
        let mut until = *loaded_until;
        let mut tokens = Vec::new();
        let mut rows = sqlx::query(tokens_where!("created_us > $1"))
            .bind(*loaded_until)
            .fetch(self.pool());
        while let Some(row) = rows.try_next().await? {
            tokio::task::consume_budget().await;
            tokens.push(token_row(&row)?);
            until = until.max(row.try_get::<i64, _>("created_us")?);
        }
        drop(rows);
        // Their entities too, read after the registry's version (see `Store::entity`); not
        // when nothing was issued since, so that an unknown token costs no more than the
        // two lookups that find nothing.
        if !tokens.is_empty() {
            let version = self.registry_version(true).await?;
            let mut entities = Vec::new();
            let mut rows = sqlx::query(concat!(
                "SELECT ",
                entity_columns!(""),
                " FROM entities WHERE code IN (SELECT entity_code FROM tokens WHERE created_us > $1)"
            ))
            .bind(*loaded_until)
            .fetch(self.pool());
            while let Some(row) = rows.try_next().await? {
                tokio::task::consume_budget().await;
                entities.push(entity_from_row(&row)?);
            }
            drop(rows);
            self.caches().put_entities(version, entities);
        }
        let loaded = tokens.len();
        self.caches().put_tokens(tokens);
        *loaded_until = until;
        Ok(loaded)
    }

    async fn token_entity_alone(&self, digest: &TokenDigest) -> Result<Option<String>> {
        let row = sqlx::query(tokens_where!("token_sha256 = $1"))
            .bind(hex::encode(digest))
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let (digest, entity) = token_row(&row)?;
        let code = entity.to_string();
        self.caches().put_tokens([(digest, entity)]);
        Ok(Some(code))
    }

    /// Issues a token for an official's account (prefix `bnu_`, never cached: officials
    /// are few, and a disabled account must stop at once).
    pub async fn issue_user_token(&self, user_id: &str) -> Result<String> {
        let token = format!("bnu_{}", crate::random_hex(24));
        sqlx::query(
            "INSERT INTO user_tokens (token_sha256, user_id, created_us) VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(crate::now_us())
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// The account a user token belongs to, if the token exists.
    pub async fn token_user(&self, token: &str) -> Result<Option<crate::User>> {
        let id: Option<(String,)> =
            sqlx::query_as("SELECT user_id FROM user_tokens WHERE token_sha256 = $1")
                .bind(token_hash(token))
                .fetch_optional(self.pool())
                .await?;
        match id {
            Some((id,)) => self.user(&id).await,
            None => Ok(None),
        }
    }
}
