//! Sign-ins through an identity provider in progress: what was sent to the provider (the
//! `state`, the `nonce`, the PKCE verifier) kept against the SHA-256 of the browser's flow
//! cookie, so that the provider's answer is accepted only once, only in the browser that
//! asked, and only for a few minutes, on any node.

use jiff::SignedDuration;
use sqlx::Row;

use crate::{Result, Store};

/// How long a person has at the identity provider before the flow is forgotten.
pub const SIGN_IN_FLOW_TTL: SignedDuration = SignedDuration::from_mins(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFlow {
    /// The provider's identifier in the site file ("spid", "cie").
    pub provider: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The page of this site to go to after signing in.
    pub next_path: String,
}

impl Store {
    /// Keeps a flow against the browser's cookie value; flows past their time go first, so
    /// that abandoned ones do not pile up.
    pub async fn create_sign_in_flow(&self, cookie: &str, flow: &SignInFlow) -> Result<()> {
        let now = crate::now_us();
        sqlx::query("DELETE FROM sign_in_flows WHERE created_us < $1")
            .bind(now - SIGN_IN_FLOW_TTL.as_micros() as i64)
            .execute(self.pool())
            .await?;
        sqlx::query(
            "INSERT INTO sign_in_flows (id_sha256, provider, state, nonce, pkce_verifier, next_path, created_us) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(crate::accounts::sha(cookie))
        .bind(&flow.provider)
        .bind(&flow.state)
        .bind(&flow.nonce)
        .bind(&flow.pkce_verifier)
        .bind(&flow.next_path)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes the flow of this cookie value: removed in the same statement, so that two
    /// answers racing each other find it once. None when unknown or past its time.
    pub async fn take_sign_in_flow(&self, cookie: &str) -> Result<Option<SignInFlow>> {
        let row = sqlx::query(
            "DELETE FROM sign_in_flows WHERE id_sha256 = $1 \
             RETURNING provider, state, nonce, pkce_verifier, next_path, created_us",
        )
        .bind(crate::accounts::sha(cookie))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let created_us: i64 = r.try_get("created_us")?;
        if crate::now_us() - created_us > SIGN_IN_FLOW_TTL.as_micros() as i64 {
            return Ok(None);
        }
        Ok(Some(SignInFlow {
            provider: r.try_get("provider")?,
            state: r.try_get("state")?,
            nonce: r.try_get("nonce")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            next_path: r.try_get("next_path")?,
        }))
    }
}
