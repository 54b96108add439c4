//! The outbox: notices written in the same transaction as their events, their deliveries
//! (one per address of the entity when the sender took them), and what the sender does to
//! them: take one due (a lease, so that two senders never hold the same), mark it sent, or
//! put it off with a backoff. The entities' contact addresses live here too, and acts'
//! documents.

use bandi_domain::instant::from_micros;
use bandi_domain::notice::NoticeKind;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// A notice as the reserved area and the officials' page show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub id: String,
    pub entity: String,
    pub call: Option<String>,
    pub seq: Option<u64>,
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub created_at: Timestamp,
    /// Per address: `(address, state, attempts, last error)`.
    pub deliveries: Vec<(String, String, i64, Option<String>)>,
}

/// A delivery the sender holds: where, what, and how many attempts so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    /// The notice, or the account mail, it carries (its `Message-ID`).
    pub notice_id: String,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// An entity's contact addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contacts {
    pub email: Option<String>,
    pub pec: Option<String>,
}

/// Notices dispatched per transaction: small enough that an intake batch waiting for its
/// turn to write waits about a millisecond.
const DISPATCH_BATCH: i64 = 200;

/// Marks at most `$2` notices not yet dispatched, the oldest first, as dispatched at `$1`,
/// and gives their ids.
fn take_notices_sql(backend: crate::Backend) -> String {
    let (take, guard) = match backend {
        // No guard outside the subquery: with one, SQLite walked the index of notices to
        // dispatch, every one of them, checking each one's id against the 200 (0.7-6 s with
        // a backlog of a million, holding the writer the intake waits for; BENCHMARKS.md,
        // issue 17, fourth sitting). One statement under the write lock needs none.
        crate::Backend::Sqlite => ("", ""),
        // Another node's sender skips the notices this one holds.
        crate::Backend::Postgres => (" FOR UPDATE SKIP LOCKED", " AND dispatched_us IS NULL"),
    };
    format!(
        "UPDATE notices SET dispatched_us = $1 WHERE id IN (SELECT id FROM notices \
         WHERE dispatched_us IS NULL ORDER BY created_us LIMIT $2{take}){guard} RETURNING id"
    )
}

impl Store {
    /// The notices of an entity, newest first. Its receipts' notices are found through its
    /// applications (see migration 0018), the others by the entity's own index.
    pub async fn entity_notices(&self, entity: &str) -> Result<Vec<StoredNotice>> {
        let prefix = crate::intake::RECEIPT_NOTICE_PREFIX;
        let condition = format!(
            "id IN (SELECT id FROM notices WHERE entity_code = $1 AND kind <> 'received' \
             UNION ALL SELECT '{prefix}' || a.id FROM applications a \
             WHERE a.call_code IN (SELECT code FROM calls) AND a.entity_code = $1)"
        );
        self.notices_where(&condition, entity).await
    }

    /// The notices about a call, newest first: the officials' view of the outbox.
    pub async fn call_notices(&self, call: &str) -> Result<Vec<StoredNotice>> {
        self.notices_where("call_code = $1", call).await
    }

    async fn notices_where(&self, condition: &str, value: &str) -> Result<Vec<StoredNotice>> {
        let sql = format!(
            "SELECT id, entity_code, call_code, seq, kind, subject, body, created_us FROM notices \
             WHERE {condition} ORDER BY created_us DESC, id LIMIT 500"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(value)
            .fetch_all(self.pool())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let kind: String = r.try_get("kind")?;
            let at: i64 = r.try_get("created_us")?;
            let deliveries: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
                "SELECT address, state, attempts, last_error FROM deliveries WHERE notice_id = $1 ORDER BY id",
            )
            .bind(&id)
            .fetch_all(self.pool())
            .await?;
            out.push(StoredNotice {
                entity: r.try_get("entity_code")?,
                call: r.try_get("call_code")?,
                seq: r.try_get::<Option<i64>, _>("seq")?.map(|s| s as u64),
                kind: NoticeKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("notice kind {kind:?}")))?,
                subject: r.try_get("subject")?,
                body: r.try_get("body")?,
                created_at: from_micros(at)
                    .ok_or_else(|| StoreError::Corrupt(format!("instant {at}")))?,
                deliveries,
                id,
            });
        }
        Ok(out)
    }

    /// Gives each notice not yet dispatched a delivery per address of its entity (its
    /// contacts' e-mail, and its contacts' PEC, else its PEC of the registry, each once);
    /// a notice with no address stays in the reserved area only. Returns how many notices
    /// were dispatched, at most [`DISPATCH_BATCH`].
    ///
    /// Two statements whatever the batch's size: on a click day the receipts' notices
    /// pile up as fast as the intake commits, and this transaction shares SQLite's one
    /// writer with it (two statements per notice held that lock for tens of milliseconds).
    pub async fn dispatch_notices(&self) -> Result<usize> {
        let now = crate::now_us();
        let ids = match self.backend() {
            crate::Backend::Sqlite => "SELECT value FROM json_each($2)",
            crate::Backend::Postgres => "SELECT jsonb_array_elements_text($2::jsonb)",
        };
        let mut tx = self.begin_write().await?;
        let taken: Vec<(String,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(take_notices_sql(self.backend())))
                .bind(now)
                .bind(DISPATCH_BATCH)
                .fetch_all(&mut *tx)
                .await?;
        if taken.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let taken_json = serde_json::to_string(&taken.iter().map(|(id,)| id).collect::<Vec<_>>())
            .expect("strings serialise");
        // The e-mail first (k = 0), then the PEC unless it is the same address.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO deliveries (notice_id, address, state, attempts, next_attempt_us, lease_until_us) \
             SELECT id, address, 'pending', 0, $1, 0 FROM ( \
               SELECT n.created_us AS t, n.id AS id, 0 AS k, c.email AS address FROM notices n \
               JOIN entities e ON e.code = n.entity_code \
               LEFT JOIN entity_contacts c ON c.entity_code = e.code WHERE n.id IN ({ids}) \
             UNION ALL \
               SELECT n.created_us, n.id, 1, COALESCE(c.pec, e.pec) FROM notices n \
               JOIN entities e ON e.code = n.entity_code \
               LEFT JOIN entity_contacts c ON c.entity_code = e.code WHERE n.id IN ({ids}) \
               AND (c.email IS NULL OR TRIM(c.email) = '' OR c.email <> COALESCE(c.pec, e.pec)) \
             ) AS a WHERE address IS NOT NULL AND TRIM(address) <> '' ORDER BY t, id, k"
        )))
        .bind(now)
        .bind(taken_json)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(taken.len())
    }

    /// Takes the next delivery that is due and not held, for `lease` microseconds: a
    /// sender that stops while holding it lets another take it after that.
    pub async fn take_delivery(&self, lease_us: i64) -> Result<Option<Delivery>> {
        let now = crate::now_us();
        let skip_locked = match self.backend() {
            crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE deliveries SET lease_until_us = $1, attempts = attempts + 1 WHERE id = \
             (SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_us <= $2 \
              AND lease_until_us < $2 ORDER BY next_attempt_us, id LIMIT 1{skip_locked}) \
             RETURNING id, notice_id, mail_id, address, attempts"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now + lease_us)
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let (notice_id, sql) = match row.try_get::<Option<String>, _>("notice_id")? {
            Some(id) => (id, "SELECT subject, body FROM notices WHERE id = $1"),
            None => (
                row.try_get::<Option<String>, _>("mail_id")?
                    .ok_or_else(|| StoreError::Corrupt("a delivery of nothing".into()))?,
                "SELECT subject, body FROM account_mails WHERE id = $1",
            ),
        };
        let (subject, body): (String, String) = sqlx::query_as(sql)
            .bind(&notice_id)
            .fetch_one(self.pool())
            .await?;
        Ok(Some(Delivery {
            id: row.try_get("id")?,
            notice_id,
            address: row.try_get("address")?,
            subject,
            body,
            attempts: row.try_get("attempts")?,
        }))
    }

    /// The delivery went through: it is never sent again.
    pub async fn delivery_sent(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE deliveries SET state = 'sent', sent_us = $1, last_error = NULL WHERE id = $2",
        )
        .bind(crate::now_us())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        // An account mail's link is a secret: once sent, the outbox keeps no copy of it.
        sqlx::query(
            "UPDATE account_mails SET body = '' \
             WHERE id = (SELECT mail_id FROM deliveries WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The delivery failed: tried again at `retry_at`, or given up (`None`).
    pub async fn delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let error: String = error.chars().take(500).collect();
        match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE deliveries SET next_attempt_us = $1, lease_until_us = 0, last_error = $2 WHERE id = $3",
                )
                .bind(at.as_microsecond())
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE deliveries SET state = 'failed', lease_until_us = 0, last_error = $1 WHERE id = $2",
                )
                .bind(error)
                .bind(id)
                .execute(self.pool())
                .await?
            }
        };
        Ok(())
    }

    /// How many deliveries are waiting to be sent.
    pub async fn pending_deliveries(&self) -> Result<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'")
                .fetch_one(self.pool())
                .await?;
        Ok(n)
    }

    pub async fn contacts(&self, entity: &str) -> Result<Contacts> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT email, pec FROM entity_contacts WHERE entity_code = $1")
                .bind(entity)
                .fetch_optional(self.pool())
                .await?;
        Ok(row
            .map(|(email, pec)| Contacts { email, pec })
            .unwrap_or_default())
    }

    pub async fn set_contacts(&self, entity: &str, contacts: &Contacts, by: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO entity_contacts (entity_code, email, pec, updated_us, updated_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (entity_code) DO UPDATE SET email = excluded.email, pec = excluded.pec, \
             updated_us = excluded.updated_us, updated_by = excluded.updated_by",
        )
        .bind(entity)
        .bind(contacts.email.clone())
        .bind(contacts.pec.clone())
        .bind(crate::now_us())
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Keeps an act's document (a resolution's PDF), addressed by its SHA-256; the same
    /// bytes twice are one document.
    pub async fn put_act_document(
        &self,
        call: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
        by: &str,
    ) -> Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        sqlx::query(
            "INSERT INTO act_documents (id, call_code, file_name, content_type, size_bytes, sha256, content, uploaded_us, uploaded_by) \
             VALUES ($1, $2, $3, $4, $5, $1, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&sha)
        .bind(call)
        .bind(file_name)
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(bytes)
        .bind(crate::now_us())
        .bind(by)
        .execute(self.pool())
        .await?;
        Ok(sha)
    }

    /// An act's document: its call, name, type and bytes.
    pub async fn act_document(
        &self,
        id: &str,
    ) -> Result<Option<(String, String, String, Vec<u8>)>> {
        Ok(sqlx::query_as(
            "SELECT call_code, file_name, content_type, content FROM act_documents WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Requests for integration whose deadline comes within `within_us` and that got no
    /// answer nor reminder: each gets its reminder notice, once. Returns how many.
    pub async fn remind_deadlines(&self, within_us: i64) -> Result<usize> {
        let now = crate::now_us();
        let mut tx = self.begin_write().await?;
        let due: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT call_code, seq, request FROM integration_requests WHERE answer_ledger_seq IS NULL \
             AND closed_ledger_seq IS NULL AND reminded_us IS NULL AND deadline_us > $1 AND deadline_us <= $2",
        )
        .bind(now)
        .bind(now + within_us)
        .fetch_all(&mut *tx)
        .await?;
        let mut n = 0;
        for (call, seq, request) in due {
            let done = sqlx::query(
                "UPDATE integration_requests SET reminded_us = $1 WHERE call_code = $2 AND seq = $3 \
                 AND request = $4 AND reminded_us IS NULL",
            )
            .bind(now)
            .bind(&call)
            .bind(seq)
            .bind(request)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            let row = sqlx::query(
                "SELECT a.protocol, a.entity_code, e.name, c.rules, r.deadline_us FROM applications a \
                 JOIN entities e ON e.code = a.entity_code JOIN calls c ON c.code = a.call_code \
                 JOIN integration_requests r ON r.call_code = a.call_code AND r.seq = a.seq AND r.request = $3 \
                 WHERE a.call_code = $1 AND a.seq = $2",
            )
            .bind(&call)
            .bind(seq)
            .bind(request)
            .fetch_one(&mut *tx)
            .await?;
            let rules: String = row.try_get("rules")?;
            let rules: bandi_domain::call::Call = serde_json::from_str(&rules)
                .map_err(|e| StoreError::Corrupt(format!("rules of call {call}: {e}")))?;
            let deadline: i64 = row.try_get("deadline_us")?;
            let deadline = from_micros(deadline)
                .map(|t| rules.local_time(t))
                .unwrap_or_default();
            let protocol: String = row.try_get("protocol")?;
            let entity: String = row.try_get("entity_code")?;
            let name: String = row.try_get("name")?;
            let about = bandi_domain::notice::About {
                call_title: &rules.title.it,
                protocol: &protocol,
                entity_name: &name,
            };
            let notice = bandi_domain::notice::integration_reminder(&about, &deadline);
            crate::review::insert_notice(
                &mut tx,
                &entity,
                &call,
                Some(seq as u64),
                &notice,
                0,
                Timestamp::now(),
            )
            .await?;
            n += 1;
        }
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{migrated_sqlite, sqlite_plan};

    /// The notices taken are found by their ids, never by walking every notice still to
    /// dispatch: with a backlog, that walk held SQLite's one writer for seconds.
    #[tokio::test]
    async fn notices_are_taken_by_their_ids_not_by_a_walk_of_the_backlog() {
        let (_db, store) = migrated_sqlite().await;
        let plan = sqlite_plan(&store, &take_notices_sql(crate::Backend::Sqlite)).await;
        // The first step is the outer statement's, before the subquery's.
        assert!(
            plan[0].starts_with("SEARCH notices USING") && plan[0].ends_with("(id=?)"),
            "{plan:?}"
        );
        assert!(
            !plan[..2].iter().any(|d| d.contains("notices_to_dispatch")),
            "{plan:?}"
        );
        store.close().await;
    }
}
