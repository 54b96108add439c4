//! People who sign in, their sessions, the entities they act for, and their drafts.
//! Passwords arrive here already hashed (argon2, in the web layer); session cookies and
//! tokens are stored only as their SHA-256.

use bandi_domain::instant::from_micros;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::applications::{RANKING_SELECT, StoredApplication, application_from_row, ranking_row};
use crate::{Result, Store, StoreError};

pub use bandi_domain::account::{FiscalCode, Role};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Codes of the entities this person may act for.
    pub entities: Vec<String>,
    /// A disabled account cannot sign in, and its sessions end.
    pub disabled: bool,
    /// The person's fiscal code, when they sign in with SPID or CIE.
    pub fiscal_code: Option<FiscalCode>,
}

impl User {
    pub fn acts_for(&self, entity: &str) -> bool {
        self.entities.iter().any(|e| e == entity)
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// A session ends after this long without a request, whatever its absolute expiry.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_mins(60);

/// How stale a session's last-seen time may get before a request writes it again: one
/// write a minute per session, not one per request.
const TOUCH_EVERY_US: i64 = 60_000_000;

/// The columns every account is read from.
const USER_SELECT: &str = "SELECT id, email, name, role, disabled_us, fiscal_code FROM users";

pub(crate) fn sha(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// E-mail addresses compare without case or surrounding spaces.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Store {
    pub async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        role: Role,
    ) -> Result<User> {
        self.create_user_bound(email, name, password_hash, role, None)
            .await
    }

    /// A new account, known also by `fiscal_code` when its person signs in with SPID or
    /// CIE (an empty `password_hash` then: no password opens it).
    pub async fn create_user_bound(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        role: Role,
        fiscal_code: Option<&FiscalCode>,
    ) -> Result<User> {
        let email = normalise_email(email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(StoreError::EmailTaken { email });
        }
        let id = crate::random_hex(12);
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, role, created_us, fiscal_code) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&email)
        .bind(name.trim())
        .bind(password_hash)
        .bind(role.as_str())
        .bind(crate::now_us())
        .bind(fiscal_code.map(FiscalCode::as_str))
        .execute(self.pool())
        .await;
        if let Err(e) = inserted {
            // Two accounts created at once with one address (or one fiscal code): the
            // second finds it taken.
            return Err(match e.as_database_error() {
                Some(d) if d.is_unique_violation() => match fiscal_code {
                    Some(code) if self.user_by_fiscal_code(code).await?.is_some() => {
                        StoreError::FiscalCodeTaken {
                            fiscal_code: code.to_string(),
                        }
                    }
                    _ => StoreError::EmailTaken { email },
                },
                _ => e.into(),
            });
        }
        Ok(User {
            id,
            email,
            name: name.trim().to_string(),
            role,
            entities: Vec::new(),
            disabled: false,
            fiscal_code: fiscal_code.cloned(),
        })
    }

    /// The account bound to this fiscal code.
    pub async fn user_by_fiscal_code(&self, code: &FiscalCode) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{USER_SELECT} WHERE fiscal_code = $1"
        )))
        .bind(code.as_str())
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    /// The user with this e-mail and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(
            "SELECT id, email, name, role, disabled_us, fiscal_code, password_hash FROM users \
             WHERE email = $1",
        )
        .bind(normalise_email(email))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("password_hash")?;
        Ok(Some((self.user_from_row(&row).await?, hash)))
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{USER_SELECT} ORDER BY email")))
            .fetch_all(self.pool())
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for r in &rows {
            users.push(self.user_from_row(r).await?);
        }
        Ok(users)
    }

    async fn user_from_row(&self, r: &AnyRow) -> Result<User> {
        let id: String = r.try_get("id")?;
        let role: String = r.try_get("role")?;
        let entities: Vec<(String,)> = sqlx::query_as(
            "SELECT entity_code FROM user_entities WHERE user_id = $1 ORDER BY entity_code",
        )
        .bind(&id)
        .fetch_all(self.pool())
        .await?;
        Ok(User {
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            role: Role::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
            entities: entities.into_iter().map(|(e,)| e).collect(),
            disabled: r.try_get::<Option<i64>, _>("disabled_us")?.is_some(),
            fiscal_code: match r.try_get::<Option<String>, _>("fiscal_code")? {
                Some(c) => Some(
                    FiscalCode::parse(&c)
                        .ok_or_else(|| StoreError::Corrupt(format!("fiscal code {c:?}")))?,
                ),
                None => None,
            },
            id,
        })
    }

    /// Lets a user act for an entity; binding twice changes nothing.
    pub async fn bind_entity(&self, user_id: &str, entity_code: &str) -> Result<()> {
        if self.entity(entity_code).await?.is_none() {
            return Err(StoreError::NotFound(format!("entity {entity_code}")));
        }
        sqlx::query(
            "INSERT INTO user_entities (user_id, entity_code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(entity_code)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Disables an account (its sessions end with it) or enables it again.
    pub async fn set_disabled(&self, user_id: &str, disabled: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET disabled_us = $1 WHERE id = $2")
            .bind(disabled.then(crate::now_us))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of `user_id`, but the one whose CSRF token is `keep` (a password
    /// changed: the other devices sign in again).
    pub async fn end_sessions(&self, user_id: &str, keep: Option<&str>) -> Result<u64> {
        let done = match keep {
            Some(csrf) => {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND csrf_token <> $2")
                    .bind(user_id)
                    .bind(csrf)
                    .execute(self.pool())
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(done.rows_affected())
    }

    pub async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Opens a session; returns the cookie value and the session's CSRF token.
    pub async fn create_session(
        &self,
        user_id: &str,
        ttl: SignedDuration,
    ) -> Result<(String, String)> {
        let token = crate::random_hex(32);
        let csrf = crate::random_hex(16);
        let now = Timestamp::now();
        sqlx::query(
            "INSERT INTO sessions (id_sha256, user_id, csrf_token, created_us, expires_us, last_seen_us) \
             VALUES ($1, $2, $3, $4, $5, $4)",
        )
        .bind(sha(&token))
        .bind(user_id)
        .bind(&csrf)
        .bind(now.as_microsecond())
        .bind((now + ttl).as_microsecond())
        .execute(self.pool())
        .await?;
        Ok((token, csrf))
    }

    /// The live session behind a cookie value: not past its expiry, not idle for longer
    /// than [`SESSION_IDLE`], of an account not disabled. One that is over is removed. A
    /// live one is marked as seen (at most once a minute).
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        self.load_session(token, true).await
    }

    /// The same, without marking it seen: for live streams, which reconnect by themselves
    /// and must not keep a session alive that nobody uses.
    pub async fn peek_session(&self, token: &str) -> Result<Option<Session>> {
        self.load_session(token, false).await
    }

    async fn load_session(&self, token: &str, touch: bool) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token, expires_us, last_seen_us FROM sessions WHERE id_sha256 = $1",
        )
        .bind(sha(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_us: i64 = row.try_get("expires_us")?;
        let last_seen_us: i64 = row.try_get("last_seen_us")?;
        let expires_at = from_micros(expires_us)
            .ok_or_else(|| StoreError::Corrupt(format!("session expiry {expires_us}")))?;
        let now = Timestamp::now();
        let now_us = now.as_microsecond();
        let idle = now_us.saturating_sub(last_seen_us) > SESSION_IDLE.as_micros() as i64;
        if expires_at <= now || idle {
            self.delete_session(token).await?;
            return Ok(None);
        }
        let user_id: String = row.try_get("user_id")?;
        let Some(user) = self.user(&user_id).await?.filter(|u| !u.disabled) else {
            self.delete_session(token).await?;
            return Ok(None);
        };
        if touch && now_us - last_seen_us > TOUCH_EVERY_US {
            sqlx::query("UPDATE sessions SET last_seen_us = $1 WHERE id_sha256 = $2")
                .bind(now_us)
                .bind(sha(token))
                .execute(self.pool())
                .await?;
        }
        Ok(Some(Session {
            user,
            csrf_token: row.try_get("csrf_token")?,
            expires_at,
        }))
    }

    /// Whether the session behind a cookie value still exists, without marking it seen:
    /// what a live stream checks as it goes on.
    pub async fn session_exists(&self, token: &str) -> Result<bool> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT expires_us, last_seen_us FROM sessions WHERE id_sha256 = $1")
                .bind(sha(token))
                .fetch_optional(self.pool())
                .await?;
        let now = crate::now_us();
        Ok(row.is_some_and(|(expires, seen)| {
            expires > now && now.saturating_sub(seen) <= SESSION_IDLE.as_micros() as i64
        }))
    }

    pub async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_sha256 = $1")
            .bind(sha(token))
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Keeps the draft (the content JSON as the form produced it) of an entity for a call.
    pub async fn save_draft(&self, entity: &str, call: &str, content_json: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO drafts (entity_code, call_code, content, updated_us) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (entity_code, call_code) DO UPDATE SET content = excluded.content, updated_us = excluded.updated_us",
        )
        .bind(entity)
        .bind(call)
        .bind(content_json)
        .bind(crate::now_us())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn draft(&self, entity: &str, call: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT content FROM drafts WHERE entity_code = $1 AND call_code = $2")
                .bind(entity)
                .bind(call)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(c,)| c))
    }

    /// Deletes the draft of an entity for a call, with its documents not sealed by an
    /// application: what a submission does in its own transaction, again for a draft that a
    /// racing save (a double click) wrote back after it.
    pub async fn delete_draft(&self, entity: &str, call: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM drafts WHERE entity_code = $1 AND call_code = $2")
            .bind(entity)
            .bind(call)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM documents WHERE entity_code = $1 AND call_code = $2 AND application_id IS NULL",
        )
        .bind(entity)
        .bind(call)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every application of an entity, newest first.
    pub async fn entity_applications(&self, entity: &str) -> Result<Vec<StoredApplication>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            ", content, status, reserved_cents FROM ",
            applications_with_receipts!(),
            " WHERE entity_code = $1 ORDER BY received_us DESC"
        ))
        .bind(entity)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(application_from_row).collect()
    }

    /// Every application of a call in protocol order, with its content: the officials'
    /// list and exports.
    pub async fn call_applications(&self, call: &str) -> Result<Vec<StoredApplication>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            receipt_columns!(),
            ", content, status, reserved_cents FROM ",
            applications_with_receipts!(),
            " WHERE call_code = $1 ORDER BY seq"
        ))
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(application_from_row).collect()
    }

    /// The public facts of an application found by its protocol number: its ranking row
    /// and the ledger entry that recorded it.
    pub async fn application_by_protocol(
        &self,
        protocol: &str,
    ) -> Result<Option<(crate::RankingRow, u64)>> {
        let sql = format!("{RANKING_SELECT} WHERE a.protocol = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(protocol)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some((
                ranking_row(&r)?,
                r.try_get::<i64, _>("ledger_seq")? as u64,
            ))),
            None => Ok(None),
        }
    }
}
