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

pub async fn privacy(ctx: Ctx) -> Result<Response, ApiError> {
    let ui = ctx.ui();
    let page = PrivacyPage {
        l: ctx.layout(ui.privacy, vec![Crumb::new(ui.home, "/")], Nav::None),
    };
    render(StatusCode::OK, &page)
}
