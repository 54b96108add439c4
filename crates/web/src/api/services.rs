//! The services catalogue, public: what a budget line's `service` names (code and unit
//! price) for programs that build applications.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiError, SharedState};

/// `GET /services`.
pub async fn catalogue(State(state): State<SharedState>) -> Result<Json<Value>, ApiError> {
    let catalogue = state.app.catalogue().await?;
    let services: Vec<Value> = catalogue
        .as_ref()
        .map(|c| {
            c.services
                .iter()
                .map(|s| {
                    json!({
                        "code": s.code,
                        "kind": s.kind.as_str(),
                        "name": {"it": s.name.it, "en": s.name.en},
                        "unit": {"it": s.unit.it, "en": s.unit.en},
                        "unit_price_cents": s.unit_price.cents(),
                        "description": {"it": s.description.it, "en": s.description.en},
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "provider": catalogue.map(|c| c.provider),
        "services": services,
    })))
}
