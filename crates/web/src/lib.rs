//! The HTTP interface of `bandi`: the JSON API under `/api/v1`, the public pages and the
//! reserved ones of applicants and officials ([`pages`]), with sessions in [`auth`].
//! Handlers are thin: they read the request, call a use case of `bandi_app` (or read what
//! a page shows), and turn errors into [`ApiError`], which is JSON under `/api/` and a
//! page elsewhere. [`net`] is the server's side of the network: who the client is, and the
//! accept loop with its timeouts and caps.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bandi_app::App;
use bandi_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::{RequestBodyDeadlineLayer, RequestBodyTimeoutLayer};

mod api;
pub mod auth;
pub mod error;
pub mod limits;
pub mod net;
pub mod openapi;
pub mod pages;
#[doc(hidden)]
pub mod testing;

pub use error::ApiError;
pub use net::NetConfig;

/// Largest request body accepted by the API.
pub const MAX_BODY: usize = 64 * 1024;

/// Longest request target (path and query) answered; longer ones get 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Largest set of request headers answered; larger ones get 431.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub struct AppState {
    pub app: App,
    pub net: NetConfig,
    pub limits: limits::Limits,
}

impl AppState {
    pub fn new(app: App, net: NetConfig) -> AppState {
        AppState {
            limits: limits::Limits::new(&net),
            app,
            net,
        }
    }

    /// The store, for what a handler only reads.
    pub fn store(&self) -> &Store {
        self.app.store()
    }
}

pub type SharedState = Arc<AppState>;

pub fn router(state: SharedState) -> Router {
    let live = pages::Live::new(state.store().clone());
    router_with(state, live)
}

fn router_with(state: SharedState, live: Arc<pages::Live>) -> Router {
    let net = state.net.clone();
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
        // A body that stalls, or takes too long in all, ends the request (408).
        .layer(RequestBodyTimeoutLayer::new(net.body_idle_timeout))
        .layer(RequestBodyDeadlineLayer::new(net.body_deadline))
        .layer(axum::middleware::from_fn(request_limits))
        .layer(axum::middleware::from_fn(api_answers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), hsts))
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
    let live = pages::Live::new(state.store().clone());
    let net = state.net.clone();
    let app = router_with(state, live.clone());
    net::accept_loop(listener, app, &net, async move {
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

pub(crate) fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Behind a trusted proxy that terminates TLS, browsers are told to come back only over
/// HTTPS.
async fn hsts(
    axum::extract::State(state): axum::extract::State<SharedState>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let secure = state.net.is_secure(req.headers(), peer);
    let mut res = next.run(req).await;
    if secure {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

/// Requests too large to answer are answered here, before anything reads them, with the
/// error shape of the rest (JSON under `/api/`, a page elsewhere): hyper's own limits are
/// set above these and answer without a body.
async fn request_limits(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            "L'indirizzo richiesto è troppo lungo.",
            "The requested address is too long.",
        )
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES || req.headers().len() > 100 {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request_header_fields_too_large",
            "Le intestazioni della richiesta sono troppo grandi.",
            "The request's headers are too large.",
        )
        .into_response();
    }
    next.run(req).await
}

/// What every API answer carries: `nosniff`; `no-store` on what is private (anything asked
/// with credentials, any answer to a write); and, for errors raised before a handler (an
/// extractor's rejection, a body that timed out), the JSON error shape with a stable code.
async fn api_answers(req: Request, next: Next) -> Response {
    if !is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let private = req.headers().contains_key(header::AUTHORIZATION)
        || !matches!(
            *req.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        );
    let mut res = next.run(req).await;
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        res = ApiError::from_status(status).into_response();
    }
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if private {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
