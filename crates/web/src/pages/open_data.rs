//! "API e dati aperti" (`/dati-aperti`): for people, what data the platform publishes, the
//! files to download for every call, and the JSON API's endpoints in words, read from the
//! OpenAPI document itself so that the page cannot drift from it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bandi_domain::i18n::Locale;

use super::{Crumb, Ctx, Layout, Nav, PageState, encode, render};
use crate::ApiError;

pub(crate) struct CallLinks {
    pub title: String,
    pub code: String,
    pub href: String,
}

pub(crate) struct Endpoint {
    pub method: &'static str,
    pub path: String,
    pub summary: String,
    /// Needs a token (an entity's or an official's).
    pub private: bool,
    /// A public GET without parameters: linked directly.
    pub href: Option<String>,
}

#[derive(Template)]
#[template(path = "open_data.html")]
struct OpenDataPage {
    l: Layout,
    calls: Vec<CallLinks>,
    endpoints: Vec<Endpoint>,
}

/// The operations of the OpenAPI document, in its order, with the summary in `locale`.
pub(crate) fn endpoints(locale: Locale) -> Vec<Endpoint> {
    let doc = crate::openapi::document();
    let mut out = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, ops) in paths {
        for method in ["get", "post"] {
            let Some(op) = ops.get(method) else { continue };
            let summary = match locale {
                Locale::It => op["x-summary-it"].as_str(),
                Locale::En => op["summary"].as_str(),
            }
            .unwrap_or_default()
            .to_string();
            let private = op.get("security").is_some();
            let method = if method == "get" { "GET" } else { "POST" };
            out.push(Endpoint {
                method,
                href: (method == "GET" && !private && !path.contains('{'))
                    .then(|| format!("/api/v1{path}")),
                path: format!("/api/v1{path}"),
                summary,
                private,
            });
        }
    }
    out
}

pub async fn show(State(s): State<PageState>, ctx: Ctx) -> Result<Response, ApiError> {
    let calls = s
        .app
        .store()
        .calls()
        .await?
        .into_iter()
        .map(|c| CallLinks {
            title: c.call.title.get(ctx.locale).to_string(),
            href: format!("/bandi/{}", encode(c.call.code.as_str())),
            code: encode(c.call.code.as_str()),
        })
        .collect();
    let ui = ctx.ui();
    let page = OpenDataPage {
        l: ctx.layout(ui.api, vec![Crumb::new(ui.home, "/")], Nav::None),
        calls,
        endpoints: endpoints(ctx.locale),
    };
    render(StatusCode::OK, &page)
}
