//! The registry of local authorities.

use bandi_domain::entity::{Entity, EntityCode, EntityKind};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError};

/// The columns [`entity_from_row`] reads, each after `$prefix` (a table alias and a dot, or
/// nothing): one list for every query that reads entities.
macro_rules! entity_columns {
    ($prefix:literal) => {
        concat!(
            $prefix,
            "code, ",
            $prefix,
            "name, ",
            $prefix,
            "kind, ",
            $prefix,
            "fiscal_code, ",
            $prefix,
            "province, ",
            $prefix,
            "region_code, ",
            $prefix,
            "istat_code, ",
            $prefix,
            "pec, ",
            $prefix,
            "members"
        )
    };
}

impl Store {
    /// Inserts or updates every entity in one transaction: importing a file twice changes
    /// nothing the second time.
    pub async fn upsert_entities(&self, entities: &[Entity]) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        for e in entities {
            sqlx::query(
                "INSERT INTO entities (code, name, kind, fiscal_code, province, region_code, istat_code, pec, members) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, \
                 fiscal_code = excluded.fiscal_code, province = excluded.province, \
                 region_code = excluded.region_code, istat_code = excluded.istat_code, \
                 pec = excluded.pec, members = excluded.members",
            )
            .bind(e.code.as_str())
            .bind(&e.name)
            .bind(e.kind.as_str())
            .bind(e.fiscal_code.as_deref())
            .bind(e.province.as_deref())
            .bind(e.region_code.as_deref())
            .bind(e.istat_code.as_deref())
            .bind(e.pec.as_deref())
            .bind(e.members.join(";"))
            .execute(&mut *tx)
            .await?;
        }
        let (version,): (i64,) = sqlx::query_as(
            "UPDATE registry_version SET version = version + 1 WHERE id = 1 RETURNING version",
        )
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.caches().registry_at(version);
        self.analyse_after_bulk("entities", entities.len()).await;
        Ok(entities.len())
    }

    /// An entity of the registry: from this node's cache while the registry's version
    /// stands (another process's import is seen within [`crate::cache::REGISTRY_CHECK_EVERY`]).
    pub async fn entity(&self, code: &str) -> Result<Option<Entity>> {
        let version = self.registry_version(false).await?;
        if let Some(e) = self.caches().entity(code) {
            return Ok(Some(Entity::clone(&e)));
        }
        let row = sqlx::query(concat!(
            "SELECT ",
            entity_columns!(""),
            " FROM entities WHERE code = $1"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        let entity = row.map(|r| entity_from_row(&r)).transpose()?;
        if let Some(e) = &entity {
            self.caches().put_entities(version, [e.clone()]);
        }
        Ok(entity)
    }

    /// The registry's version, read again if `now` or once it is due; what the cache
    /// holds is then of that version.
    pub(crate) async fn registry_version(&self, now: bool) -> Result<i64> {
        if now || self.caches().registry_check_due() {
            let (version,): (i64,) =
                sqlx::query_as("SELECT version FROM registry_version WHERE id = 1")
                    .fetch_one(self.pool())
                    .await?;
            self.caches().registry_at(version);
            return Ok(version);
        }
        Ok(self.caches().registry_version())
    }

    /// The code and name of every entity, by name: what an official picks from by name.
    pub async fn entity_names(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, name FROM entities ORDER BY name, code")
                .fetch_all(self.pool())
                .await?;
        Ok(rows)
    }

    pub async fn entity_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM entities")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}

pub(crate) fn entity_from_row(r: &AnyRow) -> Result<Entity> {
    let code: String = r.try_get("code")?;
    let kind: String = r.try_get("kind")?;
    let members: String = r.try_get("members")?;
    Ok(Entity {
        code: EntityCode::parse(&code)
            .map_err(|e| StoreError::Corrupt(format!("entity code {code:?}: {e}")))?,
        name: r.try_get("name")?,
        kind: EntityKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("entity kind {kind:?}")))?,
        fiscal_code: r.try_get("fiscal_code")?,
        province: r.try_get("province")?,
        region_code: r.try_get("region_code")?,
        istat_code: r.try_get("istat_code")?,
        pec: r.try_get("pec")?,
        members: members
            .split(';')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}
