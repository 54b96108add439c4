//! Static files, embedded in the binary (`crates/web/static/`): Bootstrap Italia (CSS,
//! icons, fonts; see its README there) and our own CSS and JS. Served under `/static/`
//! with long cache lifetimes: pages link them with `?v=` and the content hash, so a new
//! build is never hidden by an old cache.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

use crate::ApiError;

#[derive(Embed)]
#[folder = "static/"]
struct Files;

/// The addresses of the files every page links.
pub struct Urls {
    pub bi_css: String,
    pub sprites: String,
    pub favicon: String,
    pub fonts_css: String,
    pub app_css: String,
    pub app_js: String,
}

pub fn urls() -> &'static Urls {
    static URLS: OnceLock<Urls> = OnceLock::new();
    URLS.get_or_init(|| Urls {
        bi_css: url("bootstrap-italia/css/bootstrap-italia.min.css"),
        favicon: url("favicon.svg"),
        sprites: url("bootstrap-italia/svg/sprites.svg"),
        fonts_css: url("fonts.css"),
        app_css: url("app.css"),
        app_js: url("app.js"),
    })
}

/// `/static/PATH?v=HASH`.
fn url(path: &str) -> String {
    match Files::get(path) {
        Some(f) => format!(
            "/static/{path}?v={}",
            &etag(&f.metadata.sha256_hash())[..12]
        ),
        None => {
            // A missing file is a build mistake; the tests load every one of these.
            tracing::error!(path, "static file missing");
            format!("/static/{path}")
        }
    }
}

fn etag(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") | None => "text/plain; charset=utf-8",
        Some("md") => "text/markdown; charset=utf-8",
        Some(_) => "application/octet-stream",
    }
}

pub async fn serve(
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(path)) = path else {
        return ApiError::not_found().into_response();
    };
    let Some(file) = Files::get(&path) else {
        return ApiError::not_found().into_response();
    };
    let tag = format!("\"{}\"", etag(&file.metadata.sha256_hash()));
    let cache = HeaderValue::from_static("public, max-age=31536000, immutable");
    let tag_value = HeaderValue::from_str(&tag).expect("hex is a valid header value");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    if fresh {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, tag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            ),
            (header::ETAG, tag_value),
            (header::CACHE_CONTROL, cache),
        ],
        file.data,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_linked_file_is_embedded() {
        for path in [
            "bootstrap-italia/css/bootstrap-italia.min.css",
            "favicon.svg",
            "bootstrap-italia/svg/sprites.svg",
            "bootstrap-italia/LICENSE",
            "fonts.css",
            "app.css",
            "app.js",
        ] {
            assert!(Files::get(path).is_some(), "{path} is not embedded");
        }
        assert!(urls().app_js.starts_with("/static/app.js?v="));
    }

    #[test]
    fn the_fonts_named_by_fonts_css_are_embedded() {
        let css = Files::get("fonts.css").unwrap();
        let css = std::str::from_utf8(&css.data).unwrap();
        let mut n = 0;
        for part in css.split("url(").skip(1) {
            let target = part.split(')').next().unwrap().trim_matches(['"', '\'']);
            let path = target.trim_start_matches("/static/");
            assert!(Files::get(path).is_some(), "{target} is not embedded");
            n += 1;
        }
        assert!(n >= 5);
    }
}
