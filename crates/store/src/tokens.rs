//! Bearer tokens of the API. A token belongs to one entity and is stored only as its hash.

use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError};

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Issues a new token for an entity and returns it; it is not shown again.
    pub async fn issue_token(&self, entity_code: &str) -> Result<String> {
        if self.entity(entity_code).await?.is_none() {
            return Err(StoreError::NotFound(format!("entity {entity_code}")));
        }
        let token = format!("bnd_{}", crate::random_hex(24));
        sqlx::query(
            "INSERT INTO tokens (token_sha256, entity_code, created_us) VALUES ($1, $2, $3)",
        )
        .bind(token_hash(&token))
        .bind(entity_code)
        .bind(crate::now_us())
        .execute(self.pool())
        .await?;
        Ok(token)
    }

    /// The entity a token belongs to, if the token exists.
    pub async fn token_entity(&self, token: &str) -> Result<Option<String>> {
        let hash = token_hash(token);
        if let Some(entity) = self.caches().token(&hash) {
            return Ok(Some(entity));
        }
        let row: Option<(String,)> =
            sqlx::query_as("SELECT entity_code FROM tokens WHERE token_sha256 = $1")
                .bind(&hash)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(c,)| {
            self.caches().put_token(hash, c.clone());
            c
        }))
    }
}
