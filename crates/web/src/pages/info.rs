//! The accessibility statement and the privacy notice.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Crumb, Ctx, Layout, Nav, render};
use crate::ApiError;

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage {
    l: Layout,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage {
    l: Layout,
}

pub async fn accessibility(ctx: Ctx) -> Result<Response, ApiError> {
    let ui = ctx.ui();
    let page = AccessibilityPage {
        l: ctx.layout(ui.accessibility, vec![Crumb::new(ui.home, "/")], Nav::None),
    };
    render(StatusCode::OK, &page)
}

/// `/sito/logo`: the deployment's logo, when its site file names one.
pub async fn logo(
    axum::extract::State(s): axum::extract::State<super::PageState>,
) -> Result<Response, ApiError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let Some((bytes, kind)) = &s.app.site.logo_file else {
        return Err(ApiError::not_found());
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        bytes.clone(),
    )
        .into_response())
}

pub async fn privacy(ctx: Ctx) -> Result<Response, ApiError> {
    let ui = ctx.ui();
    let page = PrivacyPage {
        l: ctx.layout(ui.privacy, vec![Crumb::new(ui.home, "/")], Nav::None),
    };
    render(StatusCode::OK, &page)
}
