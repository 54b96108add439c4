//! The review through the API, for officials (a `bnu_` token of their account): an
//! application's review, an action on it, a change of a call's budget, a published list.
//! And the published lists, public: their versions, and each version's canonical JSON,
//! byte for byte what the ledger's `list_published` entry hashes.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bandi_app::review::{Which, changes_json};
use bandi_app::{Actor, AppError};
use bandi_domain::call::CallCode;
use bandi_domain::instant::format_utc;
use bandi_domain::money::Money;
use bandi_domain::review::{self, Action, Cup, Cuts};
use bandi_store::UnderReview;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth;
use crate::{ApiError, SharedState};

/// The call and number in the path; 404 for anything that cannot name one.
fn target(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(CallCode, u64), ApiError> {
    let Ok(Path((code, seq))) = path else {
        return Err(ApiError::not_found());
    };
    let code = CallCode::parse(&code).map_err(|_| ApiError::call_not_found())?;
    let seq = seq.parse().map_err(|_| ApiError::not_found())?;
    Ok((code, seq))
}

fn call_code(path: Result<Path<String>, PathRejection>) -> Result<CallCode, ApiError> {
    match path {
        Ok(Path(code)) => CallCode::parse(&code).map_err(|_| ApiError::call_not_found()),
        Err(_) => Err(ApiError::call_not_found()),
    }
}

/// An official's account behind the token; 403 for an entity's token.
async fn official(state: &SharedState, headers: &HeaderMap) -> Result<Actor, ApiError> {
    let actor = auth::actor_of(state, headers).await?;
    if actor.is_official() {
        Ok(actor)
    } else {
        Err(AppError::Forbidden.into())
    }
}

/// A JSON body read strictly (duplicate keys refused) into `T`; 415 and 400 otherwise.
fn body<T: for<'de> Deserialize<'de>>(headers: &HeaderMap, bytes: &[u8]) -> Result<T, ApiError> {
    if !super::applications::is_json(headers) {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let invalid = |e: String| {
        ApiError::bad_request(
            "invalid_json",
            &format!("Il corpo della richiesta non è valido: {e}."),
            &format!("The request body is not valid: {e}."),
        )
    };
    let value = bandi_domain::json::from_slice_strict(bytes).map_err(|e| invalid(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

fn review_json(app: &UnderReview) -> Value {
    let r = &app.review;
    json!({
        "seq": app.seq,
        "protocol": app.protocol,
        "entity": app.entity,
        "review_state": r.state.as_str(),
        "holder": r.holder,
        "checklist": r.checklist,
        "open_request": r.open_request.map(|o| json!({"request": o.request, "deadline": format_utc(o.deadline)})),
        "cup": r.cup.as_ref().map(|c| c.to_string()),
        "eligible_cents": app.eligible,
        "requested_cents": app.requested,
        "status": app.status.as_str(),
        "reserved_cents": app.reserved,
    })
}

async fn under_review(
    state: &SharedState,
    call: &CallCode,
    seq: u64,
) -> Result<UnderReview, ApiError> {
    state
        .store()
        .under_review(call.as_str(), seq)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /calls/{code}/applications/{seq}/review`.
pub async fn show(
    State(state): State<SharedState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    official(&state, &headers).await?;
    let (call, seq) = target(path)?;
    Ok(Json(review_json(&under_review(&state, &call, seq).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineCut {
    line: usize,
    admitted_cents: i64,
}

/// The actions, as JSON: `{"action": "reject", "reason": "…"}`.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum ActionBody {
    Take {
        #[serde(default)]
        takeover: bool,
    },
    Check {
        item: String,
        passed: bool,
        #[serde(default)]
        note: String,
    },
    RequestIntegration {
        text: String,
        /// RFC 3339, e.g. `2020-06-10T16:00:00Z`.
        deadline: String,
    },
    Admit {
        reason: String,
    },
    Reduce {
        #[serde(default)]
        eligible_cents: Option<i64>,
        #[serde(default)]
        lines: Vec<LineCut>,
        reason: String,
    },
    Reject {
        reason: String,
    },
    Withdraw {
        reason: String,
    },
    RecordCup {
        cup: String,
    },
}

impl ActionBody {
    fn into_action(self) -> Result<Action, ApiError> {
        Ok(match self {
            ActionBody::Take { takeover } => Action::Take { takeover },
            ActionBody::Check { item, passed, note } => Action::Check { item, passed, note },
            ActionBody::RequestIntegration { text, deadline } => Action::RequestIntegration {
                text,
                deadline: deadline.parse::<Timestamp>().map_err(|_| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_deadline",
                        "Scadenza non valida: indicarla in RFC 3339, per esempio 2020-06-10T16:00:00Z.",
                        "Invalid deadline: give it in RFC 3339, e.g. 2020-06-10T16:00:00Z.",
                    )
                })?,
            },
            ActionBody::Admit { reason } => Action::Admit { reason },
            ActionBody::Reduce {
                eligible_cents,
                lines,
                reason,
            } => Action::Reduce {
                cuts: match eligible_cents {
                    Some(c) => Cuts::Total(Money::from_cents(c)),
                    None => Cuts::Lines(
                        lines
                            .into_iter()
                            .map(|l| (l.line, Money::from_cents(l.admitted_cents)))
                            .collect(),
                    ),
                },
                reason,
            },
            ActionBody::Reject { reason } => Action::Reject { reason },
            ActionBody::Withdraw { reason } => Action::Withdraw { reason },
            ActionBody::RecordCup { cup } => Action::RecordCup {
                cup: Cup::parse(&cup).map_err(|e| ApiError::from(AppError::Review(e)))?,
            },
        })
    }
}

/// `POST /calls/{code}/applications/{seq}/review`: one action; the answer is the review
/// after it and what it changed. A refusal is 409 (the state does not allow it) or 422.
pub async fn act(
    State(state): State<SharedState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = official(&state, &headers).await?;
    let (call, seq) = target(path)?;
    let action = body::<ActionBody>(&headers, &bytes)?.into_action()?;
    let name = action.name();
    let which = Which::Seq(call.clone(), seq);
    let applied = match action {
        Action::RecordCup { cup } => state.app.record_cup(&actor, &which, cup.as_str()).await?,
        action => state.app.review(&actor, &which, action).await?,
    };
    let mut answer = json!({"ok": true, "action": name});
    answer["application"] = review_json(&under_review(&state, &call, seq).await?);
    if let (Some(obj), Some(changes)) = (answer.as_object_mut(), changes_json(&applied).as_object())
    {
        obj.extend(changes.clone());
    }
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActBody {
    number: String,
    /// `YYYY-MM-DD`.
    date: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetBody {
    add_cents: i64,
    act: ActBody,
}

/// `POST /calls/{code}/budget`: `{"add_cents": 145000000, "act": {"number": "DGR 1234/2020",
/// "date": "2020-07-20"}}`. Admins only.
pub async fn budget(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let actor = official(&state, &headers).await?;
    let call = call_code(path)?;
    let b: BudgetBody = body(&headers, &bytes)?;
    let act = review::act(&b.act.number, &b.act.date, None).map_err(AppError::Review)?;
    let applied = state
        .app
        .change_budget(&actor, &call, Money::from_cents(b.add_cents), act)
        .await?;
    let stored = state
        .store()
        .call(call.as_str())
        .await?
        .ok_or_else(ApiError::call_not_found)?;
    let mut answer = json!({
        "ok": true,
        "action": "budget",
        "budget_cents": stored.budget,
        "reserved_cents": stored.reserved,
        "remaining_cents": stored.remaining(),
    });
    if let (Some(obj), Some(changes)) = (answer.as_object_mut(), changes_json(&applied).as_object())
    {
        obj.extend(changes.clone());
    }
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    act: ActBody,
}

/// `POST /calls/{code}/lists`: the list as it stands, frozen with the act that approves
/// it (the act's PDF goes through the officials' page). Admins only.
pub async fn publish(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let actor = official(&state, &headers).await?;
    let call = call_code(path)?;
    let b: PublishBody = body(&headers, &bytes)?;
    let (applied, version) = state
        .app
        .publish_list(&actor, &call, &b.act.number, &b.act.date, None)
        .await?;
    let mut answer = json!({
        "ok": true,
        "action": "publish_list",
        "version": version,
        "href": format!("/api/v1/calls/{}/lists/{version}", call.as_str()),
    });
    if let (Some(obj), Some(changes)) = (answer.as_object_mut(), changes_json(&applied).as_object())
    {
        obj.extend(changes.clone());
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /calls/{code}/lists`: every published version, newest first.
pub async fn lists(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let stored = super::calls::load(&state, path).await?;
    let code = stored.call.code.as_str();
    let versions: Vec<Value> = state
        .store()
        .published_lists(code)
        .await?
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version,
                "act": {"number": v.act_number, "date": v.act_date, "document_sha256": v.act_document_id},
                "published_at": format_utc(v.published_at),
                "list_sha256": v.list_sha256,
                "ledger_seq": v.ledger_seq,
                "href": format!("/api/v1/calls/{code}/lists/{}", v.version),
            })
        })
        .collect();
    Ok(Json(json!({ "versions": versions })))
}

/// `GET /calls/{code}/lists/{version}`: the version's canonical JSON as stored; its
/// SHA-256 is the `list_sha256` of the ledger's entry.
pub async fn list(
    State(state): State<SharedState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let (call, version) = target(path)?;
    let json = state
        .store()
        .published_list_json(call.as_str(), version)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut res = json.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}
