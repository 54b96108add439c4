//! Password resets by e-mail: the link's token (kept as its SHA-256), and the message that
//! carries it, written with its delivery in one transaction so that the outbox sends it
//! exactly as the notices are sent.

use jiff::SignedDuration;
use sqlx::Row;

use crate::accounts::sha;
use crate::{Result, Store};

/// A message to one person's own address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMail {
    pub address: String,
    pub subject: String,
    pub body: String,
}

impl Store {
    /// Keeps a reset token for `user_id` valid for `ttl` (the account's earlier ones end)
    /// and queues `mail` for the outbox.
    pub async fn create_password_reset(
        &self,
        user_id: &str,
        token: &str,
        ttl: SignedDuration,
        mail: &AccountMail,
    ) -> Result<()> {
        let now = crate::now_us();
        let mail_id = crate::random_hex(12);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1 OR expires_us < $2")
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_sha256, user_id, created_us, expires_us) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(sha(token))
        .bind(user_id)
        .bind(now)
        .bind(now + ttl.as_micros() as i64)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO account_mails (id, user_id, subject, body, created_us) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&mail_id)
        .bind(user_id)
        .bind(&mail.subject)
        .bind(&mail.body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO deliveries (mail_id, address, state, attempts, next_attempt_us, lease_until_us) \
             VALUES ($1, $2, 'pending', 0, $3, 0)",
        )
        .bind(&mail_id)
        .bind(&mail.address)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a live reset token is for, leaving it usable.
    pub async fn password_reset_user(&self, token: &str) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM password_resets WHERE token_sha256 = $1 AND expires_us >= $2",
        )
        .bind(sha(token))
        .bind(crate::now_us())
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(u,)| u))
    }

    /// Uses a reset token: removed in the same statement, so that it serves once however
    /// many requests race for it. The account it was for, if it was live.
    pub async fn take_password_reset(&self, token: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "DELETE FROM password_resets WHERE token_sha256 = $1 RETURNING user_id, expires_us",
        )
        .bind(sha(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let expires_us: i64 = r.try_get("expires_us")?;
        Ok((expires_us >= crate::now_us())
            .then(|| r.try_get("user_id"))
            .transpose()?)
    }
}
