//! One error type for the HTTP layer: a status, a stable machine code and a message in
//! the person's language, rendered once as JSON here (and as a page by the web pages).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_domain::i18n::{FieldError, Locale, Text};
use bandi_domain::instant::format_utc;
use bandi_store::StoreError;
use bandi_store::intake::IntakeError;
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
        match e {
            StoreError::NotFound(_) => ApiError::not_found(),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "storage unavailable");
                ApiError::unavailable(2)
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::internal()
            }
        }
    }
}

pub fn time_json(t: Timestamp) -> Value {
    json!(format_utc(t))
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> ApiError {
        match e {
            IntakeError::CallNotFound => ApiError::call_not_found(),
            IntakeError::NotOpenYet {
                opens_at,
                server_time,
            } => call_not_open(opens_at, server_time),
            IntakeError::Closed {
                closes_at,
                server_time,
            } => call_closed(closes_at, server_time),
            IntakeError::AlreadyApplied { protocol } => ApiError::new(
                StatusCode::CONFLICT,
                "already_applied",
                &format!("L'ente ha già presentato una domanda a questo bando: protocollo {protocol}."),
                &format!("This body already applied to this call: protocol {protocol}."),
            )
            .with("protocol", protocol),
            IntakeError::IdempotencyConflict { protocol } => ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                &format!("Questa Idempotency-Key è già stata usata per un contenuto diverso (protocollo {protocol})."),
                &format!("This Idempotency-Key was already used for different content (protocol {protocol})."),
            )
            .with("protocol", protocol),
            IntakeError::TooManyInFlight => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_requests",
                    "Troppe richieste di questo ente in corso: attendere le risposte e riprovare.",
                    "Too many requests of this body in progress: wait for the answers and retry.",
                );
                e.retry_after = Some(1);
                e
            }
            IntakeError::Overloaded => {
                let mut e = ApiError::unavailable(1);
                e.code = "overloaded";
                e
            }
            IntakeError::Unavailable(m) => {
                tracing::warn!(error = %m, "intake unavailable");
                ApiError::unavailable(2)
            }
            IntakeError::Refused(m) => {
                tracing::error!(error = %m, "allocation refused a submission");
                ApiError::internal()
            }
        }
    }
}

pub fn call_not_open(opens_at: Timestamp, server_time: Timestamp) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "call_not_open",
        &format!(
            "Il bando non è ancora aperto: apre il {} (ora del server {}).",
            format_utc(opens_at),
            format_utc(server_time)
        ),
        &format!(
            "The call is not open yet: it opens at {} (server time {}).",
            format_utc(opens_at),
            format_utc(server_time)
        ),
    )
    .with("opens_at", time_json(opens_at))
    .with("server_time", time_json(server_time))
}

pub fn call_closed(closes_at: Timestamp, server_time: Timestamp) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "call_closed",
        &format!(
            "Il bando è chiuso dal {} (ora del server {}).",
            format_utc(closes_at),
            format_utc(server_time)
        ),
        &format!(
            "The call closed at {} (server time {}).",
            format_utc(closes_at),
            format_utc(server_time)
        ),
    )
    .with("closes_at", time_json(closes_at))
    .with("server_time", time_json(server_time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_under_load_tell_when_to_retry() {
        for (e, status, code) in [
            (
                IntakeError::Overloaded,
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
            ),
            (
                IntakeError::TooManyInFlight,
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
            ),
            (
                IntakeError::Unavailable("db".into()),
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
        ] {
            let res = ApiError::from(e).into_response();
            assert_eq!(res.status(), status);
            assert!(res.headers().contains_key(header::RETRY_AFTER), "{code}");
            assert_eq!(res.extensions().get::<ApiError>().unwrap().code, code);
        }
    }
}
