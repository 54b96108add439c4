//! Bearer tokens of the API. A token belongs to one entity and is stored only as its hash.

use sha2::{Digest, Sha256};

use crate::entities::entity_from_row;
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

    /// The entity a token belongs to, if the token exists. The entity's row comes with it
    /// into the cache: a click-day submission is usually the token's first request, and
    /// would otherwise cost a second query for the entity.
    pub async fn token_entity(&self, token: &str) -> Result<Option<String>> {
        let hash = token_hash(token);
        if let Some(entity) = self.caches().token(&hash) {
            return Ok(Some(entity));
        }
        let row = sqlx::query(
            "SELECT e.code, e.name, e.kind, e.fiscal_code, e.province, e.region_code, \
             e.istat_code, e.pec, e.members FROM tokens t JOIN entities e ON e.code = t.entity_code \
             WHERE t.token_sha256 = $1",
        )
        .bind(&hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let entity = entity_from_row(&row)?;
        let code = entity.code.to_string();
        self.caches().put_token(hash, code.clone());
        self.caches().put_entity(&entity);
        Ok(Some(code))
    }
}
