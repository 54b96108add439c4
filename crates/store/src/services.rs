//! The services catalogue of the region's in-house provider: imported whole from a file,
//! read by the form, the use cases and the statistics.

use bandi_domain::service::{Catalogue, Service};
use jiff::Timestamp;

use crate::{Result, Store, StoreError};

/// What an import changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatalogueImport {
    pub added: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// In the store before and not in the file: kept, marked withdrawn.
    pub withdrawn: usize,
}

fn decode(code: &str, content: &str) -> Result<Service> {
    serde_json::from_str(content).map_err(|e| StoreError::Corrupt(format!("service {code}: {e}")))
}

impl Store {
    /// Replaces the catalogue with `catalogue`: services new or changed are written, those
    /// missing from it are withdrawn (an application that bought one still names it).
    pub async fn import_catalogue(
        &self,
        catalogue: &Catalogue,
        now: Timestamp,
    ) -> Result<CatalogueImport> {
        let now_us = now.as_microsecond();
        let mut tx = self.begin_write().await?;
        let before: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT code, position, content, withdrawn FROM services")
                .fetch_all(&mut *tx)
                .await?;
        let mut outcome = CatalogueImport::default();
        for (position, service) in catalogue.services.iter().enumerate() {
            let content = serde_json::to_string(service).expect("a service serialises");
            let position = position as i64;
            match before.iter().find(|b| b.0 == service.code) {
                Some((_, p, c, w)) if *p == position && *c == content && *w == 0 => {
                    outcome.unchanged += 1;
                    continue;
                }
                Some((_, _, c, w)) if *c == content && *w == 0 => outcome.unchanged += 1,
                Some(_) => outcome.changed += 1,
                None => outcome.added += 1,
            }
            sqlx::query(
                "INSERT INTO services (code, position, content, withdrawn, updated_us) \
                 VALUES ($1, $2, $3, 0, $4) \
                 ON CONFLICT (code) DO UPDATE SET position = excluded.position, \
                 content = excluded.content, withdrawn = 0, updated_us = excluded.updated_us",
            )
            .bind(&service.code)
            .bind(position)
            .bind(&content)
            .bind(now_us)
            .execute(&mut *tx)
            .await?;
        }
        for (code, _, _, withdrawn) in &before {
            if *withdrawn == 0 && catalogue.service(code).is_none() {
                sqlx::query("UPDATE services SET withdrawn = 1, updated_us = $2 WHERE code = $1")
                    .bind(code)
                    .bind(now_us)
                    .execute(&mut *tx)
                    .await?;
                outcome.withdrawn += 1;
            }
        }
        sqlx::query(
            "INSERT INTO service_catalogue (id, provider, imported_us) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, \
             imported_us = excluded.imported_us",
        )
        .bind(&catalogue.provider)
        .bind(now_us)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// The catalogue as last imported, its services in the file's order; `None` before any
    /// import.
    pub async fn catalogue(&self) -> Result<Option<Catalogue>> {
        let provider: Option<String> =
            sqlx::query_scalar("SELECT provider FROM service_catalogue WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        let Some(provider) = provider else {
            return Ok(None);
        };
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT code, content FROM services WHERE withdrawn = 0 ORDER BY position, code",
        )
        .fetch_all(self.pool())
        .await?;
        let services = rows
            .iter()
            .map(|(code, content)| decode(code, content))
            .collect::<Result<_>>()?;
        Ok(Some(Catalogue { provider, services }))
    }

    /// Every service ever imported, withdrawn ones too, by code: what the statistics name
    /// the lines of applications sent before a service was withdrawn by.
    pub async fn services_ever(&self) -> Result<Vec<Service>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT code, content FROM services ORDER BY position, code")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|(code, content)| decode(code, content))
            .collect()
    }
}
