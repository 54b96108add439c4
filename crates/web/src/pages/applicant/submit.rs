//! The submission of a draft: on the click day, one request.

use axum::http::StatusCode;
use bandi_domain::application::AttachedDocument;
use bandi_domain::call::{Call, CallState};
use bandi_domain::instant::format_utc;
use bandi_store::intake::{Accepted, IntakeError, Submission};
use jiff::Timestamp;

use super::drafts::{Alert, FormCtx};
use super::*;
use crate::ApiError;
use crate::pages::account::{PageError, PageResult, see_other};
use crate::pages::form::FormInput;
use crate::pages::{Ctx, PageState};

/// Submits the draft in the form just saved.
pub(super) async fn submit(
    s: &PageState,
    fc: &FormCtx<'_>,
    input: &FormInput,
    nonce: String,
) -> PageResult {
    let ctx = fc.ctx;
    let session = fc.session;
    let entity = fc.entity;
    let call = &fc.stored.call;
    let entity_code = entity.code.as_str().to_string();
    let call_code = call.code.as_str().to_string();
    let en = ctx.en();
    let attached = fc.attached();
    let checked = input.check(call, &attached);
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
    if let Err(why) = call.check_eligible(entity) {
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
        return Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?);
    }
    let key = format!("web-{nonce}");
    let now = now();
    let state = call.state_at(now);
    if state != CallState::Open {
        // A retry of a submission accepted in time still gets its receipt.
        let sha = valid.content.sha256_hex();
        let previous = s
            .app
            .intake
            .previous_receipt(call.code.as_str(), &entity_code, Some(&key), &sha)
            .await
            .map_err(ApiError::from)?;
        if let Some(r) = previous {
            return Ok(see_other(&receipt_href(&r.id)));
        }
        let alert = timing_alert(ctx, call, state, now);
        return Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?);
    }
    let outcome = s
        .app
        .intake
        .submit(Submission {
            call: call.code.to_string(),
            entity: entity_code.clone(),
            idempotency_key: Some(key),
            application: valid,
        })
        .await;
    match outcome {
        Ok(Accepted::Created(r)) => {
            seal(s, &entity_code, &call_code, &r.id, &attached).await;
            s.app.store.delete_draft(&entity_code, &call_code).await?;
            tracing::info!(protocol = %r.protocol, user = %session.user.id, "application submitted from the form");
            Ok(see_other(&format!("{}?nuova=1", receipt_href(&r.id))))
        }
        Ok(Accepted::Replayed(r)) => {
            // A double click: the first request deleted the draft, this one saved it again.
            // Sealing again is harmless, and needed if the first stopped before it.
            seal(s, &entity_code, &call_code, &r.id, &attached).await;
            s.app.store.delete_draft(&entity_code, &call_code).await?;
            Ok(see_other(&receipt_href(&r.id)))
        }
        Err(IntakeError::NotOpenYet { server_time, .. }) => {
            let alert = timing_alert(ctx, call, CallState::Upcoming, server_time);
            Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?)
        }
        Err(IntakeError::Closed { server_time, .. }) => {
            let alert = timing_alert(ctx, call, CallState::Closed, server_time);
            Ok(fc.page(StatusCode::FORBIDDEN, input, true, Some(alert), nonce)?)
        }
        Err(IntakeError::AlreadyApplied { protocol })
        | Err(IntakeError::IdempotencyConflict { protocol }) => {
            let link = s
                .app
                .store
                .entity_applications(&entity_code)
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
        Err(IntakeError::Overloaded) | Err(IntakeError::Unavailable(_)) => {
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
        Err(e) => Err(PageError::Api(e.into())),
    }
}

/// Seals the documents the application named: from now on they are part of it. The
/// application is accepted already and its receipt must reach the person, so a failure
/// here (the database gone for a moment) is logged for the operators, not shown; the
/// documents stay, unsealed, under the entity and the call, and the content hash still
/// names their bytes.
async fn seal(
    s: &PageState,
    entity: &str,
    call: &str,
    application: &str,
    attached: &[AttachedDocument],
) {
    if attached.is_empty() {
        return;
    }
    let named: Vec<(String, String)> = attached
        .iter()
        .map(|a| (a.code.clone(), a.sha256.clone()))
        .collect();
    if let Err(e) = s
        .app
        .store
        .seal_documents(entity, call, application, &named)
        .await
    {
        tracing::error!(application, error = %e, "the documents of an accepted application were not sealed");
    }
}

/// The call is not open: when it opens (or closed) and the server's time, both in the
/// call's time zone and in UTC.
fn timing_alert(ctx: &Ctx, call: &Call, state: CallState, server_time: Timestamp) -> Alert {
    let en = ctx.en();
    let tz = &call.time_zone;
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
