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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An official of the region: calls, users, exports.
    Admin,
    /// Staff of one or more local authorities.
    Applicant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Applicant => "applicant",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "applicant" => Some(Role::Applicant),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Codes of the entities this person may act for.
    pub entities: Vec<String>,
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

fn sha(s: &str) -> String {
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
        let email = normalise_email(email);
        if self.user_by_email(&email).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a user with e-mail {email} exists"
            )));
        }
        let id = crate::random_hex(12);
        sqlx::query(
            "INSERT INTO users (id, email, name, password_hash, role, created_us) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(&email)
        .bind(name.trim())
        .bind(password_hash)
        .bind(role.as_str())
        .bind(crate::now_us())
        .execute(self.pool())
        .await?;
        Ok(User {
            id,
            email,
            name: name.trim().to_string(),
            role,
            entities: Vec::new(),
        })
    }

    /// The user with this e-mail and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>> {
        let row =
            sqlx::query("SELECT id, email, name, role, password_hash FROM users WHERE email = $1")
                .bind(normalise_email(email))
                .fetch_optional(self.pool())
                .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("password_hash")?;
        Ok(Some((self.user_from_row(&row).await?, hash)))
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, name, role FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) => Ok(Some(self.user_from_row(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, email, name, role FROM users ORDER BY email")
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
            "INSERT INTO sessions (id_sha256, user_id, csrf_token, created_us, expires_us) VALUES ($1, $2, $3, $4, $5)",
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

    /// The live session behind a cookie value; an expired one is removed.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT user_id, csrf_token, expires_us FROM sessions WHERE id_sha256 = $1",
        )
        .bind(sha(token))
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_us: i64 = row.try_get("expires_us")?;
        let expires_at = from_micros(expires_us)
            .ok_or_else(|| StoreError::Corrupt(format!("session expiry {expires_us}")))?;
        if expires_at <= Timestamp::now() {
            self.delete_session(token).await?;
            return Ok(None);
        }
        let user_id: String = row.try_get("user_id")?;
        let Some(user) = self.user(&user_id).await? else {
            return Ok(None);
        };
        Ok(Some(Session {
            user,
            csrf_token: row.try_get("csrf_token")?,
            expires_at,
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

    pub async fn delete_draft(&self, entity: &str, call: &str) -> Result<()> {
        sqlx::query("DELETE FROM drafts WHERE entity_code = $1 AND call_code = $2")
            .bind(entity)
            .bind(call)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Every application of an entity, newest first.
    pub async fn entity_applications(&self, entity: &str) -> Result<Vec<StoredApplication>> {
        let rows = sqlx::query(
            "SELECT receipt, content, status, reserved_cents FROM applications WHERE entity_code = $1 \
             ORDER BY received_us DESC",
        )
        .bind(entity)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(application_from_row).collect()
    }

    /// Every application of a call in protocol order, with its content: the officials'
    /// list and exports.
    pub async fn call_applications(&self, call: &str) -> Result<Vec<StoredApplication>> {
        let rows = sqlx::query(
            "SELECT receipt, content, status, reserved_cents FROM applications WHERE call_code = $1 ORDER BY seq",
        )
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
