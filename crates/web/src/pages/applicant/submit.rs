//! The submission of a draft: on the click day, one request.

use axum::http::StatusCode;
use bandi_app::intake::{Content, Submit};
use bandi_app::{Actor, AppError};
use bandi_domain::call::{Call, CallState, OutsideWindow};
use bandi_domain::instant::format_utc;
use bandi_store::intake::Accepted;
use jiff::Timestamp;

use super::drafts::{Alert, FormCtx};
use super::*;
use crate::pages::account::{PageError, PageResult, see_other};
use crate::pages::form::FormInput;
use crate::pages::i18n::zone_name;
use crate::pages::{Ctx, PageState};

/// Submits the draft in the form just saved.
pub(super) async fn submit(
    s: &PageState,
    mut fc: FormCtx<'_>,
    input: &FormInput,
    nonce: String,
) -> PageResult {
    let ctx = fc.ctx;
    let session = fc.session;
    let entity = fc.entity;
    let call = &fc.stored.call;
    let entity_code = entity.code.as_str().to_string();
    let en = ctx.en();
    let attached = fc.attached();
    let checked = input.check(call, &attached, fc.catalogue.as_ref());
    let Some(valid) = checked.valid else {
        let n = checked.errors.len();
        let alert = Alert {
            kind: "danger",
            title: if en {
                format!("The application was not submitted: {n} problem(s) to fix")
            } else if n == 1 {
                "La domanda non è stata presentata: un errore da correggere".to_string()
            } else {
                format!("La domanda non è stata presentata: {n} errori da correggere")
            },
            lines: vec![
                ctx.t(
                    "Ogni errore è indicato accanto al suo campo. La bozza è salvata.",
                    "Each problem is shown next to its field. The draft is saved.",
                )
                .to_string(),
            ],
            link: None,
        };
        return Ok(fc.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            input,
            true,
            Some(alert),
            nonce,
        )?);
    };
    let key = format!("web-{nonce}");
    let actor = Actor::User(session.user.clone());
    let outcome = s
        .app
        .app
        .submit(
            &actor,
            Submit {
                call: call.code.clone(),
                entity: entity.code.clone(),
                idempotency_key: Some(key),
                content: Content::Form(valid.content),
            },
        )
        .await;
    match outcome {
        Ok(Accepted::Created(r)) => {
            tracing::info!(protocol = %r.protocol, user = %session.user.id, "application submitted from the form");
            Ok(see_other(&format!("{}?nuova=1", receipt_href(&r.id))))
        }
        // A double click, or a submission the closing found accepted already.
        Ok(Accepted::Replayed(r)) => Ok(see_other(&receipt_href(&r.id))),
        Err(AppError::OutsideWindow(w)) => {
            let (state, server_time) = match w {
                OutsideWindow::NotOpenYet { server_time, .. } => (CallState::Upcoming, server_time),
                OutsideWindow::Closed { server_time, .. } => (CallState::Closed, server_time),
            };
            let alert = timing_alert(ctx, call, state, server_time);
            Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?)
        }
        Err(AppError::NotEligible(why)) => {
            let alert = Alert {
                kind: "danger",
                title: ctx
                    .t(
                        "Ente non ammesso a questo bando",
                        "Body not eligible for this call",
                    )
                    .to_string(),
                lines: vec![why.text().get(ctx.locale).to_string()],
                link: None,
            };
            Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?)
        }
        Err(AppError::AlreadyApplied { protocol })
        | Err(AppError::IdempotencyConflict { protocol }) => {
            let link = s
                .app
                .app
                .applications_of(&entity_code, call.code.as_str())
                .await?
                .into_iter()
                .find(|a| a.receipt.protocol == protocol)
                .map(|a| {
                    (
                        receipt_href(&a.receipt.id),
                        ctx.t("Vedi la ricevuta", "See the receipt").to_string(),
                    )
                });
            let alert = Alert {
                kind: "warning",
                title: ctx
                    .t(
                        "L'ente ha già presentato una domanda a questo bando",
                        "This body already applied to this call",
                    )
                    .to_string(),
                lines: vec![format!("{}: {protocol}", ctx.t("Protocollo", "Protocol"))],
                link,
            };
            Ok(fc.page(StatusCode::CONFLICT, input, true, Some(alert), nonce)?)
        }
        Err(e @ AppError::DocumentMissing { .. }) => {
            let alert = Alert {
                kind: "warning",
                title: ctx
                    .t(
                        "La domanda non è stata presentata",
                        "The application was not submitted",
                    )
                    .to_string(),
                lines: vec![e.text().get(ctx.locale).to_string()],
                link: None,
            };
            Ok(fc.page(StatusCode::CONFLICT, input, true, Some(alert), nonce)?)
        }
        Err(AppError::Overloaded | AppError::Unavailable(_) | AppError::TooManyInFlight) => {
            let alert = Alert {
                kind: "warning",
                title: ctx
                    .t(
                        "Servizio momentaneamente non disponibile",
                        "Service temporarily unavailable",
                    )
                    .to_string(),
                lines: vec![
                    ctx.t(
                        "La domanda non è stata registrata; la bozza è salvata. Premere di nuovo «Presenta la domanda» tra qualche secondo: non si rischia di presentarla due volte.",
                        "The application was not recorded; the draft is saved. Press «Submit the application» again in a few seconds: it cannot be submitted twice.",
                    )
                    .to_string(),
                ],
                link: None,
            };
            let mut res = fc.page(
                StatusCode::SERVICE_UNAVAILABLE,
                input,
                true,
                Some(alert),
                nonce,
            )?;
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("2"),
            );
            Ok(res)
        }
        // What the form cannot see: a service that left the catalogue or changed price
        // since the page was made, a practice cited that is not published.
        Err(AppError::InvalidApplication(problems)) => {
            fc.upload_errors.extend(problems);
            let alert = Alert {
                kind: "danger",
                title: ctx
                    .t(
                        "La domanda non è stata presentata",
                        "The application was not submitted",
                    )
                    .to_string(),
                lines: vec![
                    ctx.t(
                        "Ogni errore è indicato accanto al suo campo. La bozza è salvata.",
                        "Each problem is shown next to its field. The draft is saved.",
                    )
                    .to_string(),
                ],
                link: None,
            };
            Ok(fc.page(
                StatusCode::UNPROCESSABLE_ENTITY,
                input,
                true,
                Some(alert),
                nonce,
            )?)
        }
        Err(e) => Err(PageError::Api(e.into())),
    }
}

/// The call is not open: when it opens (or closed) and the server's time, both in the
/// call's time zone and in UTC.
fn timing_alert(ctx: &Ctx, call: &Call, state: CallState, server_time: Timestamp) -> Alert {
    let en = ctx.en();
    let tz = zone_name(&call.time_zone, ctx.locale);
    let server = format!(
        "{}: {} ({tz}) · {} UTC",
        ctx.t("Ora del server", "Server time"),
        local_seconds(call, server_time),
        format_utc(server_time)
    );
    let keep = ctx
        .t(
            "La domanda non è stata presentata; la bozza è salvata.",
            "The application was not submitted; the draft is saved.",
        )
        .to_string();
    match state {
        CallState::Upcoming => Alert {
            kind: "warning",
            title: ctx
                .t("Il bando non è ancora aperto", "The call is not open yet")
                .to_string(),
            lines: vec![
                if en {
                    format!("It opens at {} ({tz}).", local_seconds(call, call.opens_at))
                } else {
                    format!("Apre il {} ({tz}).", local_seconds(call, call.opens_at))
                },
                server,
                keep,
            ],
            link: None,
        },
        _ => Alert {
            kind: "danger",
            title: ctx.t("Il bando è chiuso", "The call is closed").to_string(),
            lines: vec![
                if en {
                    format!(
                        "It closed at {} ({tz}).",
                        local_seconds(call, call.closes_at)
                    )
                } else {
                    format!(
                        "È chiuso dal {} ({tz}).",
                        local_seconds(call, call.closes_at)
                    )
                },
                server,
                keep,
            ],
            link: None,
        },
    }
}
