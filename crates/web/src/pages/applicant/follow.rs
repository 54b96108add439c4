//! The application after the click, as its entity follows it on the receipt page: the
//! review's state, every decision with its reason, the requests for integration and the
//! answer form, the CUP, and the withdrawal (rinuncia). The actions post to the receipt's
//! address and are carried out by `bandi_app::review`.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use bandi_app::Actor;
use bandi_app::review::Which;
use bandi_domain::allocation::Status;
use bandi_domain::call::{Call, CallCode};
use bandi_domain::ledger::Record;
use bandi_domain::review::ReviewState;
use bandi_store::{Session, UnderReview};
use jiff::Timestamp;

use super::documents::DocumentView;
use super::uploads;
use crate::ApiError;
use crate::pages::account::{PageResult, Signed, check_csrf, see_other};
use crate::pages::calls::precise_local;
use crate::pages::i18n::kind_label;
use crate::pages::{Ctx, PageState};

/// One step of the application's history, as its entity sees it: no officials' names.
pub(crate) struct StepView {
    pub href: String,
    pub kind: &'static str,
    pub at: String,
    pub text: Option<String>,
}

pub(crate) struct AskedView {
    pub n: u32,
    pub text: String,
    pub deadline: String,
    pub open: bool,
    pub expired: bool,
    pub answer_text: Option<String>,
    pub answer_documents: Vec<DocumentView>,
}

/// What the receipt page shows of the review, and which forms it offers.
pub(crate) struct FollowView {
    pub state: &'static str,
    pub state_label: String,
    pub eligible: String,
    pub requested: String,
    pub reduced: bool,
    pub steps: Vec<StepView>,
    pub requests: Vec<AskedView>,
    pub can_cup: bool,
    pub can_withdraw: bool,
    pub cup: Option<String>,
    pub outcome: Option<(&'static str, String)>,
    /// The expense report's page, once the application is funded with its CUP.
    pub report_href: Option<String>,
}

impl FollowView {
    pub async fn load(
        s: &PageState,
        ctx: &Ctx,
        call: &Call,
        app: &UnderReview,
        submitted: (bandi_domain::money::Money, bandi_domain::money::Money),
        outcome: Option<(&'static str, String)>,
    ) -> Result<FollowView, ApiError> {
        let store = s.app.store();
        let locale = ctx.locale;
        let now = Timestamp::now();
        let steps = store
            .application_history(call.code.as_str(), app.seq)
            .await?
            .into_iter()
            .filter_map(|h| {
                let record = h.entry.record().ok();
                // The checklist is the officials' working paper; the decisions tell its result.
                let internal = matches!(
                    record,
                    Some(Record::ChecklistChecked { .. } | Record::ApplicationTaken { .. })
                );
                (!internal).then(|| StepView {
                    href: format!("/registro?voce={}", h.entry.seq),
                    kind: kind_label(record.as_ref(), locale),
                    at: precise_local(call, &h.entry.at, locale),
                    text: h.text,
                })
            })
            .collect();
        let mut requests = Vec::new();
        for q in store
            .integration_requests(call.code.as_str(), app.seq)
            .await?
        {
            let answer_documents = match &q.answer {
                Some(_) => store
                    .answer_documents(&app.id, q.request)
                    .await?
                    .iter()
                    .map(|d| DocumentView::new(d, locale))
                    .collect(),
                None => Vec::new(),
            };
            requests.push(AskedView {
                n: q.request,
                text: q.text,
                deadline: call.local_time(q.deadline),
                open: q.answer.is_none() && !q.closed && q.deadline > now,
                expired: q.answer.is_none() && !q.closed && q.deadline <= now,
                answer_text: q.answer.map(|a| a.text),
                answer_documents,
            });
        }
        let review = &app.review;
        let funded = matches!(app.status, Status::Reserved | Status::Partial);
        Ok(FollowView {
            state: review.state.as_str(),
            state_label: review.state.label().get(locale).to_string(),
            eligible: app.eligible.in_locale(locale),
            requested: app.requested.in_locale(locale),
            reduced: (app.eligible, app.requested) != submitted,
            steps,
            requests,
            can_cup: review.state == ReviewState::Admitted && funded && review.cup.is_none(),
            can_withdraw: !review.state.is_final(),
            cup: review.cup.as_ref().map(|c| c.to_string()),
            report_href: (review.state == ReviewState::Admitted && funded && review.cup.is_some())
                .then(|| {
                    format!(
                        "/area-riservata/rendiconto/{}",
                        crate::pages::encode(&app.id)
                    )
                }),
            outcome,
        })
    }
}

/// The message for `?esito=` after an action of the applicant.
pub(crate) fn done_text(v: &str, ctx: &Ctx) -> Option<String> {
    Some(
        match v {
            "risposta" => ctx.t(
                "Risposta inviata e registrata: l'ufficio ne riceve notizia.",
                "Answer sent and recorded: the office is told.",
            ),
            "cup" => ctx.t("CUP registrato.", "CUP recorded."),
            "rinuncia" => ctx.t(
                "Rinuncia registrata: le risorse passano alle domande in attesa.",
                "Withdrawal recorded: the funds go to the waiting applications.",
            ),
            _ => return None,
        }
        .to_string(),
    )
}

/// `POST /area-riservata/ricevuta/{id}`: the entity answers a request for integration
/// (text and files), records its CUP, or withdraws the application.
pub async fn act(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    id: Result<Path<String>, PathRejection>,
    req: Request,
) -> PageResult {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found().into());
    };
    let posted = uploads::read(req).await?;
    let field = |name: &str| uploads::field(&posted.fields, name).to_owned();
    check_csrf(&session, &field("csrf"))?;
    let (app, call) = own(&s, &session, &id).await?;
    let code = CallCode::parse(call.code.as_str()).map_err(|_| ApiError::not_found())?;
    let which = Which::Seq(code, app.seq);
    let actor = Actor::User(session.user.clone());
    let use_cases = &s.app.app;
    let (done, what) = match field("action").as_str() {
        "answer" => (
            use_cases
                .answer_integration(&actor, &which, &field("text"), posted.files)
                .await,
            "risposta",
        ),
        "cup" => (
            use_cases.record_cup(&actor, &which, &field("cup")).await,
            "cup",
        ),
        "withdraw" => (
            use_cases
                .withdraw_own(&actor, &which, &field("reason"))
                .await,
            "rinuncia",
        ),
        _ => {
            return Err(ApiError::bad_request(
                "bad_form",
                "Operazione sconosciuta. Nessun dato è stato modificato.",
                "Unknown operation. Nothing was changed.",
            )
            .into());
        }
    };
    let href = super::receipt_href(&id);
    match done {
        Ok(_) => Ok(see_other(&format!("{href}?esito={what}"))),
        Err(e) if e.is_refusal() => {
            let status = ApiError::from(e.clone()).status;
            let text = e.text().get(ctx.locale).to_string();
            Ok(
                super::receipt::page(&s, &ctx, &session, &id, status, Some(("danger", text)))
                    .await?,
            )
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

/// The application `id` of an entity the person acts for, under review, and its call; 404
/// for anything else.
pub(crate) async fn own(
    s: &PageState,
    session: &Session,
    id: &str,
) -> Result<(UnderReview, Call), ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found());
    }
    let stored = s
        .app
        .store()
        .application(id)
        .await?
        .filter(|a| session.user.acts_for(&a.receipt.entity))
        .ok_or_else(ApiError::not_found)?;
    let r = &stored.receipt;
    let app = s
        .app
        .store()
        .under_review(&r.call, r.seq)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let call = super::load_call(s, &r.call).await?.call;
    Ok((app, call))
}
