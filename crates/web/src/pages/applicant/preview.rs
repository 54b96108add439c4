//! The amounts of the application form as the person types: the form's script posts the
//! fields here and shows what comes back. The server computes them with the domain's
//! rules, the very ones of the submission, so the browser holds no copy of those rules.
//! Nothing is stored. Every answer, errors included, is JSON.

use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bandi_domain::i18n::Locale;
use bandi_store::{Role, Session};
use serde_json::json;

use super::{load_call, own_entity};
use crate::ApiError;
use crate::auth::MaybeSession;
use crate::pages::account::{check_csrf, require};
use crate::pages::form::{FormInput, notice_text};
use crate::pages::{Ctx, MAX_FORM, PageState};

/// Whether a path is the preview's: its errors stay JSON, for the script that asked.
pub(crate) fn is_preview(path: &str) -> bool {
    path.starts_with("/area-riservata/domanda/") && path.ends_with("/anteprima")
}

pub async fn preview(
    State(s): State<PageState>,
    ctx: Ctx,
    MaybeSession(session): MaybeSession,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Response {
    let locale = ctx.locale;
    match compute(&s, locale, session, path, req).await {
        Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
        Err(e) => e.locale(locale).into_response(),
    }
}

async fn compute(
    s: &PageState,
    locale: Locale,
    session: Option<Session>,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> Result<serde_json::Value, ApiError> {
    let Some(session) = session else {
        return Err(ApiError::unauthorized(
            "Sessione scaduta: accedere di nuovo.",
            "Session expired: sign in again.",
        ));
    };
    require(&session, Role::Applicant)?;
    let Ok(Path((entity_code, call_code))) = path else {
        return Err(ApiError::not_found());
    };
    own_entity(s, &session, &entity_code).await?;
    let stored = load_call(s, &call_code).await?;
    let fields = match axum::Form::<Vec<(String, String)>>::from_request(req, &()).await {
        Ok(axum::Form(fields)) => fields,
        Err(FormRejection::InvalidFormContentType(_)) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "I campi vanno inviati come application/x-www-form-urlencoded.",
                "Send the fields as application/x-www-form-urlencoded.",
            ));
        }
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::too_large(MAX_FORM));
        }
        Err(_) => {
            return Err(ApiError::bad_request(
                "bad_form",
                "I campi inviati non sono leggibili.",
                "The fields sent cannot be read.",
            ));
        }
    };
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    check_csrf(&session, csrf)?;
    let call = &stored.call;
    let input = FormInput::from_fields(&fields, call);
    // The catalogue is read only for a form with catalogue rows.
    let catalogue = match input.lines.iter().any(|l| !l.service.is_empty()) {
        true => s.app.app.catalogue().await?,
        false => None,
    };
    let checked = input.check(call, &[], catalogue.as_ref());
    let e = &checked.estimate;
    let notices: Vec<serde_json::Value> = e
        .notices
        .iter()
        .map(|n| json!({"field": n.field, "code": n.code, "text": notice_text(n, locale)}))
        .collect();
    Ok(json!({
        "total": checked.total.in_locale(locale),
        "total_cents": checked.total.cents(),
        "eligible": e.eligible_cost.in_locale(locale),
        "eligible_cents": e.eligible_cost.cents(),
        "requested": e.requested.in_locale(locale),
        "requested_cents": e.requested.cents(),
        "counted": e.total_cost.is_positive(),
        "notices": notices,
    }))
}
