//! Good practices, their moderation, their reuse, and their Italian full-text search: FTS5
//! on SQLite, a GIN index over `to_tsvector('simple', terms)` on PostgreSQL, both over the
//! stems the domain made ([`bandi_domain::practice::search_terms`]), so that the two
//! backends find the same practices for the same words.

use bandi_domain::entity::EntityKind;
use bandi_domain::instant::from_micros;
use bandi_domain::practice::{Lever, Licence, PracticeContent, PracticeStatus};
use jiff::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Backend, Result, Store, StoreError};

/// A practice as kept, with its authority and how many reuse it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPractice {
    pub n: i64,
    pub entity: String,
    pub entity_name: String,
    pub entity_kind: EntityKind,
    pub province: Option<String>,
    pub content: PracticeContent,
    pub status: PracticeStatus,
    /// Written for the demo, and said so on its page.
    pub example: bool,
    pub created_at: Timestamp,
    pub reuses: i64,
}

/// What a search asks: stems (all must match), and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PracticeQuery {
    /// Space-separated stems, as `search_terms` makes them; empty: every practice.
    pub terms: String,
    pub lever: Option<Lever>,
    pub kind: Option<EntityKind>,
    pub province: Option<String>,
    pub call: Option<String>,
}

const SELECT: &str = "SELECT p.n, p.entity_code, e.name, e.kind, e.province, p.title, p.summary, \
     p.body, p.levers, p.licence, p.links, p.call_code, p.project, p.status, p.example, p.created_us, \
     (SELECT COUNT(*) FROM practice_reuses r WHERE r.practice_n = p.n) AS reuses \
     FROM practices p JOIN entities e ON e.code = p.entity_code";

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("practice {what} {v:?}"))
}

fn practice_from_row(r: &AnyRow) -> Result<StoredPractice> {
    let kind: String = r.try_get("kind")?;
    let levers: String = r.try_get("levers")?;
    let licence: String = r.try_get("licence")?;
    let links: String = r.try_get("links")?;
    let status: String = r.try_get("status")?;
    let created_us: i64 = r.try_get("created_us")?;
    Ok(StoredPractice {
        n: r.try_get("n")?,
        entity: r.try_get("entity_code")?,
        entity_name: r.try_get("name")?,
        entity_kind: EntityKind::parse(&kind).ok_or_else(|| corrupt("entity kind", &kind))?,
        province: r.try_get("province")?,
        content: PracticeContent {
            title: r.try_get("title")?,
            summary: r.try_get("summary")?,
            body: r.try_get("body")?,
            levers: levers
                .split_whitespace()
                .map(|l| Lever::parse(l).ok_or_else(|| corrupt("lever", l)))
                .collect::<Result<_>>()?,
            licence: Licence::parse(&licence).ok_or_else(|| corrupt("licence", &licence))?,
            links: serde_json::from_str(&links).map_err(|_| corrupt("links", &links))?,
            call: r.try_get("call_code")?,
            project: r.try_get("project")?,
        },
        status: PracticeStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        example: r.try_get::<i64, _>("example")? != 0,
        created_at: from_micros(created_us)
            .ok_or_else(|| corrupt("time", &created_us.to_string()))?,
        reuses: r.try_get("reuses")?,
    })
}

/// Stems as each backend's full-text query wants them; only `[a-z0-9]` stems are kept, so
/// nothing of a person's typing reaches the query syntax.
fn match_expression(terms: &str, backend: Backend) -> String {
    let stems: Vec<&str> = terms
        .split_whitespace()
        .filter(|t| {
            t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .take(20)
        .collect();
    match backend {
        Backend::Sqlite => stems
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" "),
        Backend::Postgres => stems.join(" & "),
    }
}

impl Store {
    /// Keeps a practice proposed by `entity` (or published at once, for the demo's
    /// examples); its number.
    pub async fn create_practice(
        &self,
        entity: &str,
        content: &PracticeContent,
        terms: &str,
        status: PracticeStatus,
        example: bool,
    ) -> Result<i64> {
        let levers: Vec<&str> = content.levers.iter().map(|l| l.as_str()).collect();
        let links = serde_json::to_string(&content.links).expect("strings serialise");
        let mut tx = self.begin_write().await?;
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO practices (entity_code, title, summary, body, levers, licence, links, call_code, \
             status, terms, example, created_us, project) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING n",
        )
        .bind(entity)
        .bind(content.title.trim())
        .bind(content.summary.trim())
        .bind(&content.body)
        .bind(levers.join(" "))
        .bind(content.licence.as_str())
        .bind(links)
        .bind(content.call.as_deref())
        .bind(status.as_str())
        .bind(terms)
        .bind(i64::from(example))
        .bind(crate::now_us())
        .bind(content.project.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        if self.backend() == Backend::Sqlite {
            sqlx::query("INSERT INTO practices_fts (rowid, terms) VALUES ($1, $2)")
                .bind(n)
                .bind(terms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    pub async fn practice(&self, n: i64) -> Result<Option<StoredPractice>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE p.n = $1")))
            .bind(n)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(practice_from_row).transpose()
    }

    /// Published practices that match `q`, newest first.
    pub async fn search_practices(
        &self,
        q: &PracticeQuery,
        limit: i64,
    ) -> Result<Vec<StoredPractice>> {
        let expression = match_expression(&q.terms, self.backend());
        // An empty match is an error to FTS5: without words, no text filter at all.
        let text_filter = match (expression.is_empty(), self.backend()) {
            (true, _) => "$1 = ''",
            (false, Backend::Sqlite) => {
                "p.n IN (SELECT rowid FROM practices_fts WHERE practices_fts MATCH $1)"
            }
            (false, Backend::Postgres) => {
                "to_tsvector('simple', p.terms) @@ to_tsquery('simple', $1)"
            }
        };
        let sql = format!(
            "{SELECT} WHERE p.status = 'published' \
             AND {text_filter} \
             AND ($2 = '' OR (' ' || p.levers || ' ') LIKE ('% ' || $2 || ' %')) \
             AND ($3 = '' OR e.kind = $3) \
             AND ($4 = '' OR e.province = $4) \
             AND ($5 = '' OR p.call_code = $5) \
             ORDER BY p.n DESC LIMIT $6"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(expression)
            .bind(q.lever.map(|l| l.as_str()).unwrap_or(""))
            .bind(q.kind.map(|k| k.as_str()).unwrap_or(""))
            .bind(q.province.as_deref().unwrap_or(""))
            .bind(q.call.as_deref().unwrap_or(""))
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// Practices proposed and not yet decided, oldest first.
    pub async fn practices_to_decide(&self) -> Result<Vec<StoredPractice>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE p.status = 'proposed' ORDER BY p.n"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// An entity's own practices, whatever their status, newest first.
    pub async fn entity_practices(&self, entity: &str) -> Result<Vec<StoredPractice>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE p.entity_code = $1 ORDER BY p.n DESC"
        )))
        .bind(entity)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// Publishes or refuses a proposed practice; false when it was not proposed (decided
    /// already, by this official or another at the same moment).
    pub async fn decide_practice(&self, n: i64, status: PracticeStatus, by: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE practices SET status = $1, decided_us = $2, decided_by = $3 \
             WHERE n = $4 AND status = 'proposed'",
        )
        .bind(status.as_str())
        .bind(crate::now_us())
        .bind(by)
        .bind(n)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// `entity` reuses practice `n`; false when it said so already.
    pub async fn mark_reuse(&self, n: i64, entity: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO practice_reuses (practice_n, entity_code, created_us) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(n)
        .bind(entity)
        .bind(crate::now_us())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The published practices that `entity` said it reuses, by number: those its
    /// applications can cite.
    pub async fn practices_reused_by(&self, entity: &str) -> Result<Vec<StoredPractice>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE p.status = 'published' AND p.n IN \
             (SELECT practice_n FROM practice_reuses WHERE entity_code = $1) ORDER BY p.n"
        )))
        .bind(entity)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// Which of `numbers` are published practices.
    pub async fn published_among(&self, numbers: &[u64]) -> Result<Vec<u64>> {
        let numbers: Vec<i64> = numbers
            .iter()
            .filter_map(|n| i64::try_from(*n).ok())
            .take(100)
            .collect();
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=numbers.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT n FROM practices WHERE status = 'published' AND n IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for n in &numbers {
            q = q.bind(*n);
        }
        Ok(q.fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|n| n as u64)
            .collect())
    }

    /// The authorities that reuse practice `n`: `(code, name)`, by name.
    pub async fn practice_reusers(&self, n: i64) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT e.code, e.name FROM practice_reuses r JOIN entities e ON e.code = r.entity_code \
             WHERE r.practice_n = $1 ORDER BY e.name",
        )
        .bind(n)
        .fetch_all(self.pool())
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_match_expression_keeps_only_plain_stems() {
        assert_eq!(
            match_expression("form digital", Backend::Sqlite),
            "\"form\" \"digital\""
        );
        assert_eq!(
            match_expression("form digital", Backend::Postgres),
            "form & digital"
        );
        assert_eq!(
            match_expression("form \"x OR* ", Backend::Sqlite),
            "\"form\""
        );
        assert_eq!(match_expression("", Backend::Postgres), "");
    }
}
