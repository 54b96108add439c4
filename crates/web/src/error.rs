//! One error type for the HTTP layer: a status, a stable machine code and a message in
//! the person's language, rendered once as JSON here (and as a page by the web pages).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_app::{AppError, Kind};
use bandi_domain::i18n::{FieldError, Locale, Text};
use bandi_domain::instant::format_utc;
use bandi_store::StoreError;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// Boxed: errors travel in `Result`s on every request path, and most of them never happen.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ApiErrorData>);

#[derive(Debug, Clone)]
pub struct ApiErrorData {
    pub status: StatusCode,
    pub code: &'static str,
    pub text: Text,
    pub field: Option<String>,
    pub details: Vec<FieldError>,
    /// Extra members of the error object, such as `server_time` or `protocol`.
    pub extra: Vec<(&'static str, Value)>,
    pub retry_after: Option<u32>,
    pub locale: Locale,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, it: &str, en: &str) -> ApiError {
        ApiError(Box::new(ApiErrorData {
            status,
            code,
            text: Text::new(it, en),
            field: None,
            details: Vec::new(),
            extra: Vec::new(),
            retry_after: None,
            locale: Locale::It,
        }))
    }

    pub fn with(mut self, key: &'static str, value: impl Into<Value>) -> ApiError {
        self.extra.push((key, value.into()));
        self
    }

    pub fn field(mut self, field: &str) -> ApiError {
        self.field = Some(field.to_string());
        self
    }

    pub fn locale(mut self, locale: Locale) -> ApiError {
        self.locale = locale;
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Risorsa non trovata.",
            "Not found.",
        )
    }

    pub fn call_not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "call_not_found",
            "Bando inesistente.",
            "No such call.",
        )
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            &format!("La richiesta supera il limite di {} KiB.", limit / 1024),
            &format!("The request body exceeds {} KiB.", limit / 1024),
        )
    }

    pub fn unauthorized(it: &str, en: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", it, en)
    }

    pub fn bad_request(code: &'static str, it: &str, en: &str) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, it, en)
    }

    pub fn invalid(details: Vec<FieldError>) -> ApiError {
        let n = details.len();
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_application",
            &format!("La domanda contiene {n} errori da correggere."),
            &format!("The application has {n} problems to fix."),
        );
        if n == 1 {
            e.text = Text::new(
                "La domanda contiene un errore da correggere.",
                "The application has one problem to fix.",
            );
        }
        e.field = details.first().map(|d| d.field.clone());
        e.details = details;
        e
    }

    pub fn unavailable(retry_after: u32) -> ApiError {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Servizio momentaneamente non disponibile: riprovare tra qualche secondo. La domanda non è stata registrata.",
            "Service temporarily unavailable: retry in a few seconds. The application was not recorded.",
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Errore interno. Nessun dato è stato modificato.",
            "Internal error. Nothing was changed.",
        )
    }

    pub fn message(&self) -> &str {
        self.text.get(self.locale)
    }

    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("code".into(), json!(self.code));
        obj.insert("message".into(), json!(self.message()));
        if let Some(f) = &self.field {
            obj.insert("field".into(), json!(f));
        }
        if !self.details.is_empty() {
            let details: Vec<Value> = self
                .details
                .iter()
                .map(|d| json!({"field": d.field, "code": d.code, "message": d.message(self.locale)}))
                .collect();
            obj.insert("details".into(), Value::Array(details));
        }
        for (k, v) in &self.extra {
            obj.insert((*k).into(), v.clone());
        }
        json!({ "error": obj })
    }
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorData;
    fn deref(&self) -> &ApiErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorData {
        &mut self.0
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.to_json())).into_response();
        if let Some(s) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body was never read: the connection cannot carry another
            // request, and a client must not reuse it.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        // Kept so that the language middleware can render it again in English.
        res.extensions_mut().insert(self);
        res
    }
}

/// Renders API errors in the language of the request's `Accept-Language` (Italian first).
pub async fn localize(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let locale = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::from_accept_language)
        .unwrap_or_default();
    let res = next.run(req).await;
    if locale == Locale::It {
        return res;
    }
    match res.extensions().get::<ApiError>() {
        Some(e) => e.clone().locale(locale).into_response(),
        None => res,
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        AppError::from(e).into()
    }
}

pub fn time_json(t: Timestamp) -> Value {
    json!(format_utc(t))
}

/// The one mapping of a use case's refusal to HTTP: its kind gives the status, its code
/// and text the body, its facts the extra members.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let status = match e.kind() {
            Kind::BadRequest => StatusCode::BAD_REQUEST,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let AppError::Internal(m) = &e {
            tracing::error!(error = %m, "internal error");
        }
        let text = e.text();
        let mut out = ApiError::new(status, e.code(), &text.it, &text.en);
        out.details = e.field_errors();
        out.field = out.details.first().map(|d| d.field.clone());
        out.extra = e.facts();
        out.retry_after = e.retry_after();
        out
    }
}

/// A request body that could not be read: too slow (the body timeouts: 408) or too large.
pub fn body_error(e: &(dyn std::error::Error + 'static), limit: usize) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return ApiError::from_status(StatusCode::REQUEST_TIMEOUT);
        }
        cause = c.source();
    }
    ApiError::too_large(limit)
}

impl ApiError {
    /// The error for a status that the HTTP layer raised without one of ours (an
    /// extractor's rejection, a body that timed out): the same shape, a stable code.
    pub fn from_status(status: StatusCode) -> ApiError {
        let (code, it, en) = match status.as_u16() {
            400 => (
                "bad_request",
                "Richiesta non leggibile. Nessun dato è stato modificato.",
                "The request cannot be read. Nothing was changed.",
            ),
            404 => ("not_found", "Risorsa non trovata.", "Not found."),
            405 => (
                "method_not_allowed",
                "Metodo HTTP non consentito su questo indirizzo.",
                "HTTP method not allowed here.",
            ),
            408 => (
                "request_timeout",
                "La richiesta è arrivata troppo lentamente e non è stata letta. Nessun dato è stato modificato.",
                "The request arrived too slowly and was not read. Nothing was changed.",
            ),
            413 => (
                "body_too_large",
                "La richiesta supera la dimensione massima accettata.",
                "The request exceeds the largest size accepted.",
            ),
            414 => (
                "uri_too_long",
                "L'indirizzo richiesto è troppo lungo.",
                "The requested address is too long.",
            ),
            415 => (
                "unsupported_media_type",
                "Tipo di contenuto non accettato: inviare application/json.",
                "Content type not accepted: send application/json.",
            ),
            431 => (
                "request_header_fields_too_large",
                "Le intestazioni della richiesta sono troppo grandi.",
                "The request's headers are too large.",
            ),
            _ if status.is_server_error() => (
                "internal",
                "Errore interno. Nessun dato è stato modificato.",
                "Internal error. Nothing was changed.",
            ),
            _ => (
                "request_failed",
                "La richiesta non è andata a buon fine.",
                "The request did not succeed.",
            ),
        };
        ApiError::new(status, code, it, en)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_under_load_tell_when_to_retry() {
        for (e, status, code) in [
            (
                AppError::Overloaded,
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
            ),
            (
                AppError::TooManyInFlight,
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
            ),
            (
                AppError::Unavailable("db".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
            (AppError::Busy, StatusCode::SERVICE_UNAVAILABLE, "busy"),
        ] {
            let res = ApiError::from(e).into_response();
            assert_eq!(res.status(), status);
            assert!(res.headers().contains_key(header::RETRY_AFTER), "{code}");
            assert_eq!(res.extensions().get::<ApiError>().unwrap().code, code);
        }
    }

    #[test]
    fn statuses_of_the_http_layer_get_codes() {
        for (status, code) in [
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            (StatusCode::URI_TOO_LONG, "uri_too_long"),
            (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "request_header_fields_too_large",
            ),
            (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
        ] {
            let e = ApiError::from_status(status);
            assert_eq!((e.status, e.code), (status, code));
            assert_eq!(e.to_json()["error"]["code"], code);
        }
    }
}
