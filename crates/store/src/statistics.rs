//! What the public statistics of a call read beyond its grants: the indicators each funded
//! project promised in its application, and those its submitted report says it achieved.

use std::collections::BTreeMap;

use bandi_domain::application::{ApplicationContent, IndicatorValue};
use bandi_domain::report::ReportContent;

use crate::{Result, Store, StoreError};

/// The indicators of one application, by the call's indicator code.
pub type Indicators = BTreeMap<String, IndicatorValue>;

impl Store {
    /// The contents of the applications admitted (or later revoked), in protocol order, as
    /// sent: what the statistics read the catalogue's lines and the promises from.
    pub async fn admitted_contents(&self, call: &str) -> Result<Vec<(u64, ApplicationContent)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, content FROM applications \
             WHERE call_code = $1 AND review_state IN ('admitted', 'revoked') ORDER BY seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, content)| {
                let content: ApplicationContent = serde_json::from_str(&content)
                    .map_err(|e| StoreError::Corrupt(format!("application {call}/{seq}: {e}")))?;
                Ok((seq as u64, content))
            })
            .collect()
    }

    /// The indicators achieved, as the reports submitted (and not given back for an
    /// integration) state them: `(seq, indicators)` in protocol order. A report being
    /// written, or returned and being changed, says nothing yet.
    pub async fn achieved_indicators(&self, call: &str) -> Result<Vec<(u64, Indicators)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, content FROM reports \
             WHERE call_code = $1 AND version > 0 AND state IN ('submitted', 'verified') \
             ORDER BY seq",
        )
        .bind(call)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|(seq, content)| {
                let content: ReportContent = serde_json::from_str(&content)
                    .map_err(|e| StoreError::Corrupt(format!("report {call}/{seq}: {e}")))?;
                Ok((seq as u64, content.indicators))
            })
            .collect()
    }
}
