//! The HTTP interface of `bandi`: the JSON API under `/api/v1`, the public pages and the
//! reserved ones of applicants and officials ([`pages`]), with accounts and sessions in
//! [`auth`]. Handlers are thin: they read the request, call the domain and the store,
//! and turn errors into [`ApiError`], which is JSON under `/api/` and a page elsewhere.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bandi_store::Store;
use bandi_store::intake::Intake;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

pub mod accounts;
mod api;
pub mod auth;
pub mod error;
pub mod openapi;
pub mod pages;
#[doc(hidden)]
pub mod testing;

pub use error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

pub struct AppState {
    pub store: Store,
    pub intake: Intake,
}

pub type SharedState = Arc<AppState>;

pub fn router(state: SharedState) -> Router {
    let live = pages::Live::new(state.store.clone());
    router_with(state, live)
}

fn router_with(state: SharedState, live: Arc<pages::Live>) -> Router {
    Router::new()
        .nest("/api/v1", api::routes())
        .merge(pages::routes(state.clone(), live))
        .fallback(|| async { ApiError::not_found() })
        .layer(axum::middleware::from_fn(error::localize))
        .layer(CatchPanicLayer::custom(|_panic| -> Response {
            // A bug must not kill the connection with no answer nor show a trace.
            tracing::error!("a handler panicked");
            ApiError::internal().into_response()
        }))
        // Outermost: errors outside /api/ become pages, whatever raised them.
        .layer(axum::middleware::from_fn(pages::for_people))
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let live = pages::Live::new(state.store.clone());
    let app = router_with(state, live.clone());
    // The peer's address feeds the sign-in throttle (per client address).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live-counter streams never end by themselves: end them, or shutdown waits.
            live.close();
        })
        .await
}

pub(crate) fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Metodo HTTP non consentito su questo indirizzo.",
        "HTTP method not allowed here.",
    )
}
