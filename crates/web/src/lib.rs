//! The HTTP interface of `bandi`: the JSON API under `/api/v1`, the public pages and the
//! reserved ones of applicants and officials ([`pages`]), with sessions in [`auth`].
//! Handlers are thin: they read the request, call a use case of `bandi_app` (or read what
//! a page shows), and turn errors into [`ApiError`], which is JSON under `/api/` and a
//! page elsewhere. [`net`] is the server's side of the network: who the client is, and the
//! accept loop with its timeouts and caps.

// The OpenAPI document is one `json!` literal, deeper than the macro's default limit.
#![recursion_limit = "256"]

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
use tower_http::timeout::{DeadlineBody, TimeoutBody};

mod api;
pub mod auth;
pub mod error;
pub mod identity;
pub mod limits;
pub mod net;
pub mod openapi;
// The grants as the law asks them published and as open data (issue 12).
mod opendata;
pub use opendata::export::{Export, Format as ExportFormat, export};
pub mod pages;
pub mod site;
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
    /// Who runs the deployment: its header, footer and open data name it.
    pub site: Arc<site::Site>,
    /// SPID and CIE as the site file configures them.
    pub identity: Arc<identity::IdentityProviders>,
    /// What the impact page reads of every call, kept briefly and loaded once at a time.
    pub(crate) impact: Arc<pages::ImpactMemo>,
}

impl AppState {
    pub fn new(app: App, net: NetConfig) -> AppState {
        AppState {
            limits: limits::Limits::new(&net),
            app,
            net,
            site: Arc::new(site::Site::default()),
            identity: Arc::new(identity::IdentityProviders::new(Vec::new())),
            impact: Arc::default(),
        }
    }

    /// The same with the deployment's own site file.
    pub fn with_site(mut self, site: site::Site) -> AppState {
        self.identity = Arc::new(identity::IdentityProviders::new(
            site.identity_providers.clone(),
        ));
        self.site = Arc::new(site);
        self
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
        .layer(axum::middleware::from_fn_with_state(state.clone(), edge))
        // Outermost: errors outside /api/ become pages, whatever raised them.
        .layer(axum::middleware::from_fn(pages::for_people))
        // The site, for every page and the error pages made around them.
        .layer(axum::Extension(state.site.clone()))
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

/// What every request meets at the edge, in one layer (each layer costs every request,
/// the health check's too):
///
/// - requests too large to answer are answered at once, in the error shape of the rest
///   (JSON under `/api/`, a page elsewhere): hyper's own limits are set above these and
///   answer without a body;
/// - a body that stalls ([`NetConfig::body_idle_timeout`] between two pieces) or takes too
///   long in all ends the request with 408; requests without a body arm no timer;
/// - every API answer carries `nosniff`, and `no-store` where it is private (asked with
///   credentials, or the answer to a write); an error raised before a handler (an
///   extractor's rejection) gets the JSON error shape with a stable code;
/// - behind a trusted proxy that received the request over TLS, HSTS.
async fn edge(
    axum::extract::State(state): axum::extract::State<SharedState>,
    req: Request,
    next: Next,
) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::from_status(StatusCode::URI_TOO_LONG).into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > MAX_HEADER_BYTES || req.headers().len() > 100 {
        return ApiError::from_status(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).into_response();
    }
    let api = is_api(req.uri().path());
    let private = req.headers().contains_key(header::AUTHORIZATION)
        || !matches!(
            *req.method(),
            axum::http::Method::GET | axum::http::Method::HEAD
        );
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let secure = state.net.is_secure(req.headers(), peer);
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let req = if has_body {
        let (idle, deadline) = (state.net.body_idle_timeout, state.net.body_deadline);
        req.map(|b| axum::body::Body::new(DeadlineBody::new(deadline, TimeoutBody::new(idle, b))))
    } else {
        req
    };
    let mut res = next.run(req).await;
    if api {
        let status = res.status();
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if (status.is_client_error() || status.is_server_error()) && !is_json {
            res = ApiError::from_status(status).into_response();
        }
        res.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        if private {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    if secure {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}
