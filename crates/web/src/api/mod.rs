//! Routes of the JSON API, by resource.

use axum::Router;
use axum::routing::get;

use crate::SharedState;

mod applications;
mod auth;
pub(crate) mod calls;
// The grants as open data (issue 12).
mod grants;
mod ledger;
mod proofs;
mod review;
mod services;

pub fn routes() -> Router<SharedState> {
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
        )
        .route(
            "/openapi.json",
            get(|| async { axum::Json(crate::openapi::document()) }),
        )
        .route("/calls/{code}", get(calls::show))
        .route("/calls/{code}/ranking", get(calls::ranking))
        .route(
            "/calls/{code}/applications",
            axum::routing::post(applications::submit),
        )
        .route(
            "/calls/{code}/applications/{seq}/review",
            get(review::show).post(review::act),
        )
        .route("/calls/{code}/budget", axum::routing::post(review::budget))
        .route(
            "/calls/{code}/lists",
            get(review::lists).post(review::publish),
        )
        .route("/calls/{code}/lists/{version}", get(review::list))
        // The grants as open data (issue 12).
        .route("/calls/{code}/grants", get(grants::call))
        .route("/grants", get(grants::all))
        .route("/services", get(services::catalogue))
        .route("/applications/{id}", get(applications::show))
        .route("/ledger", get(ledger::page))
        .route("/ledger/head", get(proofs::head))
        .route("/keys", get(proofs::keys))
        .route("/checkpoints", get(proofs::checkpoints))
        .method_not_allowed_fallback(|| async { crate::method_not_allowed() })
}
