//! The application form: built from the call file, saved as a draft.

use askama::Template;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use bandi_app::drafts::DraftChange;
use bandi_app::{Actor, AppError};
use bandi_domain::application::AttachedDocument;
use bandi_domain::call::CallState;
use bandi_domain::entity::Entity;
use bandi_domain::i18n::FieldError;
use bandi_domain::service::{Catalogue, ServiceKind};
use bandi_store::{DocumentInfo, Role, Session, StoredCall, StoredPractice};

use super::documents::DocumentView;
use super::*;
use crate::ApiError;
use crate::auth::random_token;
use crate::pages::account::{PageResult, Signed, check_csrf, require, see_other};
use crate::pages::calls::ClockView;
use crate::pages::form::{
    ErrorLink, FieldView, FormInput, FormView, NotAdded, error_links, missing_words, notice_text,
};
use crate::pages::i18n::state_label;
use crate::pages::{Crumb, Ctx, Layout, Nav, PageState, encode, render};

/// A message above the form.
pub(crate) struct Alert {
    /// Bootstrap's alert kind: `success`, `info`, `warning`, `danger`.
    pub kind: &'static str,
    pub title: String,
    pub lines: Vec<String>,
    pub link: Option<(String, String)>,
}

pub(crate) struct CategoryOption {
    pub code: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "application_form.html")]
struct FormPage {
    l: Layout,
    action: String,
    csrf: String,
    nonce: String,
    entity_name: String,
    call_title: String,
    call_href: String,
    state: &'static str,
    state_label: &'static str,
    opens: String,
    closes: String,
    time_zone: String,
    server_time: String,
    categories: Vec<CategoryOption>,
    f: FormView,
    alert: Option<Alert>,
    total: String,
    eligible: Option<String>,
    requested: Option<String>,
    rate: String,
    /// The call's limits on the amounts, in sentences.
    caps: Vec<String>,
    can_submit: bool,
    attachments: Vec<AttachmentView>,
    /// Every notice of the amounts, as the live preview lists them too.
    amount_notices: Vec<String>,
    /// The server's clock and the countdown, in the form's bar.
    clock: ClockView,
    /// What the saved draft still lacks to be submitted; empty when it is complete.
    missing: Vec<ErrorLink>,
    /// The same in a few words ("Mancano 3 elementi").
    missing_words: String,
    /// The entity's live statuses, and the call's applications when the page was made.
    events_href: String,
    call_code: String,
    made: usize,
    /// The catalogue's services, by kind, to add a row from; empty without a catalogue.
    services: Vec<ServiceGroup>,
    provider: String,
    add_service: FieldView,
    add_quantity: FieldView,
    add_category: FieldView,
    /// The practices the entity can cite, ticked when the draft cites them.
    practices: Vec<PracticeOption>,
    practices_error: Option<String>,
}

/// Services of one kind, an `<optgroup>`.
pub(crate) struct ServiceGroup {
    pub label: String,
    pub options: Vec<CategoryOption>,
}

pub(crate) struct PracticeOption {
    pub n: u64,
    pub title: String,
    pub entity: String,
    pub href: String,
    pub checked: bool,
}

/// One of the call's attachments on the form: its file control and the document kept.
pub(crate) struct AttachmentView {
    /// The call's attachment code.
    pub code: String,
    pub id: String,
    pub label: String,
    pub required: bool,
    pub current: Option<DocumentView>,
    pub error: Option<String>,
}

pub(super) struct FormCtx<'a> {
    pub ctx: &'a Ctx,
    pub session: &'a Session,
    pub entity: &'a Entity,
    pub stored: &'a StoredCall,
    /// The draft's documents.
    pub documents: Vec<DocumentInfo>,
    /// Files of this request that were refused, and what the submission found that the
    /// form's check cannot see (the catalogue, the practices), each next to its control.
    pub upload_errors: Vec<FieldError>,
    /// The entity's applications to this call when the page is made: one more, seen on the
    /// live statuses, is a submission from another tab or person.
    pub made: usize,
    /// The services catalogue, to add rows from and price them.
    pub catalogue: Option<Catalogue>,
    /// The published practices the entity said it reuses: those it can cite.
    pub reusable: Vec<StoredPractice>,
    /// Why the last «add from the catalogue» did not add a row, and what was chosen in it.
    pub not_added: Option<Box<NotAdded>>,
}

impl<'a> FormCtx<'a> {
    /// The form's context with the draft's documents as stored.
    pub(super) async fn load(
        s: &PageState,
        ctx: &'a Ctx,
        session: &'a Session,
        entity: &'a Entity,
        stored: &'a StoredCall,
    ) -> Result<FormCtx<'a>, ApiError> {
        let documents = s
            .app
            .store()
            .draft_documents(entity.code.as_str(), stored.call.code.as_str())
            .await?;
        let made = s
            .app
            .store()
            .entity_applications(entity.code.as_str())
            .await?
            .iter()
            .filter(|a| a.receipt.call == stored.call.code.as_str())
            .count();
        Ok(FormCtx {
            ctx,
            session,
            entity,
            stored,
            documents,
            upload_errors: Vec::new(),
            made,
            catalogue: s.app.app.catalogue().await?,
            reusable: s
                .app
                .store()
                .practices_reused_by(entity.code.as_str())
                .await?,
            not_added: None,
        })
    }

    /// The draft's documents as the content of an application names them.
    pub fn attached(&self) -> Vec<AttachedDocument> {
        self.documents
            .iter()
            .map(|d| AttachedDocument {
                code: d.attachment.clone(),
                sha256: d.sha256.clone(),
            })
            .collect()
    }

    /// The form page with `input`; `checked` when the person saved or submitted it, so
    /// that its problems show.
    pub fn page(
        &self,
        status: StatusCode,
        input: &FormInput,
        checked: bool,
        alert: Option<Alert>,
        nonce: String,
    ) -> Result<Response, ApiError> {
        let call = &self.stored.call;
        let locale = self.ctx.locale;
        let result = input.check(call, &self.attached(), self.catalogue.as_ref());
        let mut errors = match (&result.valid, checked) {
            (None, true) => result.errors.clone(),
            _ => Vec::new(),
        };
        // The amounts of the lines that can be counted, complete or not: the same the
        // live preview shows as the person types.
        let notices = &result.estimate.notices;
        let counted = result.estimate.total_cost.is_positive();
        errors.extend(self.upload_errors.iter().cloned());
        let attachments = call
            .attachments
            .iter()
            .map(|a| {
                let field = format!("attachments.{}", a.code);
                let messages: Vec<&str> = errors
                    .iter()
                    .filter(|e| e.field == field)
                    .map(|e| e.message(locale))
                    .collect();
                AttachmentView {
                    code: a.code.clone(),
                    id: format!("att-{}", a.code),
                    label: a.label.get(locale).to_string(),
                    required: a.required,
                    current: self
                        .documents
                        .iter()
                        .find(|d| d.attachment == a.code)
                        .map(|d| DocumentView::new(d, locale)),
                    error: (!messages.is_empty()).then(|| messages.join(" ")),
                }
            })
            .collect();
        let now = now();
        let state = call.state_at(now);
        let code = self.entity.code.as_str();
        let call_title = call.title.get(locale).to_string();
        let ui = self.ctx.ui();
        let page = FormPage {
            l: self
                .ctx
                .layout(
                    format!(
                        "{} – {}",
                        self.ctx.t("Domanda", "Application"),
                        self.entity.name
                    ),
                    vec![
                        Crumb::new(ui.home, "/"),
                        Crumb::new(
                            self.ctx.t("Area riservata", "Reserved area"),
                            format!("/area-riservata?ente={}", encode(code)),
                        ),
                    ],
                    Nav::Reserved,
                )
                .signed(self.session),
            action: form_href(code, call.code.as_str()),
            events_href: super::statuses::events_href(code),
            call_code: call.code.to_string(),
            made: self.made,
            csrf: self.session.csrf_token.clone(),
            nonce,
            entity_name: self.entity.name.clone(),
            call_href: format!("/bandi/{}", call.code),
            call_title,
            state: state.as_str(),
            state_label: state_label(state, locale),
            opens: local_seconds(call, call.opens_at),
            closes: local_seconds(call, call.closes_at),
            time_zone: call.time_zone.clone(),
            server_time: local_seconds(call, now),
            categories: call
                .categories
                .iter()
                .map(|c| CategoryOption {
                    code: c.code.clone(),
                    label: if c.eligible {
                        c.label.get(locale).to_string()
                    } else {
                        format!("{} ({})", c.label.get(locale), ui.not_eligible)
                    },
                })
                .collect(),
            f: FormView::new(
                input,
                call,
                &errors,
                notices,
                self.catalogue.as_ref(),
                locale,
            ),
            alert,
            total: result.total.in_locale(locale),
            eligible: counted.then(|| result.estimate.eligible_cost.in_locale(locale)),
            requested: counted.then(|| result.estimate.requested.in_locale(locale)),
            rate: call.rate.to_string(),
            caps: crate::pages::form::caps_in_words(call, locale),
            can_submit: state != CallState::Closed,
            attachments,
            amount_notices: notices.iter().map(|n| notice_text(n, locale)).collect(),
            clock: ClockView::of(call, now, locale),
            missing: match &result.valid {
                Some(_) => Vec::new(),
                None => error_links(&result.errors, call, locale),
            },
            missing_words: missing_words(result.errors.len(), locale),
            services: self.service_groups(),
            provider: self
                .catalogue
                .as_ref()
                .map(|c| c.provider.clone())
                .unwrap_or_default(),
            add_service: self.add_field("add-service"),
            add_quantity: self.add_field("add-quantity"),
            add_category: self.add_field("add-category"),
            practices: self
                .reusable
                .iter()
                .map(|p| PracticeOption {
                    n: p.n as u64,
                    title: p.content.title.clone(),
                    entity: p.entity_name.clone(),
                    href: format!("/pratiche/{}", p.n),
                    checked: input.practices.contains(&(p.n as u64)),
                })
                .collect(),
            practices_error: {
                let m: Vec<&str> = errors
                    .iter()
                    .filter(|e| e.field.starts_with("practices"))
                    .map(|e| e.message(locale))
                    .collect();
                (!m.is_empty()).then(|| m.join(" "))
            },
        };
        render(status, &page)
    }

    /// The catalogue's services as the «add from the catalogue» list offers them: by kind,
    /// each with its price per unit.
    fn service_groups(&self) -> Vec<ServiceGroup> {
        let locale = self.ctx.locale;
        let Some(c) = &self.catalogue else {
            return Vec::new();
        };
        ServiceKind::ALL
            .iter()
            .map(|k| ServiceGroup {
                label: k.label().get(locale).to_string(),
                options: c
                    .services
                    .iter()
                    .filter(|s| s.kind == *k)
                    .map(|s| CategoryOption {
                        code: s.code.clone(),
                        label: format!(
                            "{} · {} × {}",
                            s.name.get(locale),
                            s.unit_price.in_locale(locale),
                            s.unit.get(locale)
                        ),
                    })
                    .collect(),
            })
            .filter(|g| !g.options.is_empty())
            .collect()
    }

    /// A control of «add from the catalogue», with what was typed when it did not add.
    fn add_field(&self, id: &'static str) -> FieldView {
        let not = self.not_added.as_deref();
        FieldView {
            id: id.to_string(),
            value: not
                .and_then(|n| n.typed.iter().find(|(k, _)| *k == id))
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            error: not
                .filter(|n| n.control == id)
                .map(|n| n.error.message(self.ctx.locale).to_string()),
        }
    }
}

pub async fn form(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path((entity_code, call_code))) = path else {
        return Err(ApiError::not_found().into());
    };
    let entity = own_entity(&s, &session, &entity_code).await?;
    let stored = load_call(&s, &call_code).await?;
    if let Some(done) = s
        .app
        .app
        .limit_reached(&entity_code, &stored.call.code)
        .await?
    {
        return Ok(see_other(&receipt_href(&done.id)));
    }
    let input = match s.app.store().draft(&entity_code, &call_code).await? {
        Some(json) => FormInput::from_draft(&json),
        None => FormInput::default(),
    };
    let fc = FormCtx::load(&s, &ctx, &session, &entity, &stored).await?;
    Ok(fc.page(StatusCode::OK, &input, false, None, random_token())?)
}

/// Saves the draft with the files chosen, and with `action=submit` submits it: the
/// click-day path is this one request, with an Idempotency-Key made of the nonce the form
/// was rendered with, so a double click is one application. A file refused is shown next
/// to its control and the rest is saved; a submission waits until every file is right.
pub async fn save(
    State(s): State<PageState>,
    ctx: Ctx,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
    req: Request,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path((entity_code, call_code))) = path else {
        return Err(ApiError::not_found().into());
    };
    let entity = own_entity(&s, &session, &entity_code).await?;
    let stored = load_call(&s, &call_code).await?;
    // Files in progress are bounded in all and per session, before the body is read.
    let _place = if uploads::is_multipart(&req) {
        Some(s.app.limits.upload(&session.csrf_token)?)
    } else {
        None
    };
    let posted = uploads::read(req).await?;
    let fields = &posted.fields;
    check_csrf(&session, field(fields, "csrf"))?;
    let call = &stored.call;
    let catalogue = s.app.app.catalogue().await?;
    let mut input = FormInput::from_fields(fields, call)
        .priced(catalogue.as_ref())
        .normalised();
    let nonce = field(fields, "nonce");
    let nonce = if nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        nonce.to_string()
    } else {
        random_token()
    };
    let submit = field(fields, "action") == "submit";
    // «Add from the catalogue»: a row priced by the catalogue, then saved with the rest.
    let added = (field(fields, "action") == "catalogue").then(|| {
        input.add_service(
            catalogue.as_ref(),
            field(fields, "add-service"),
            field(fields, "add-quantity"),
            field(fields, "add-category"),
            call,
            ctx.locale,
        )
    });
    let en = ctx.en();
    if let Some(done) = s.app.app.limit_reached(&entity_code, &call.code).await? {
        if !posted.files.is_empty() {
            // The documents of a submitted application are part of what was received.
            return Err(ApiError::from(AppError::AlreadySubmitted).into());
        }
        // Already applied (a repeated click of a submission that went through lands here):
        // the receipt there is.
        return Ok(see_other(&receipt_href(&done.id)));
    }
    // «Remove» ticked for a document of the call.
    let remove: Vec<String> = call
        .attachments
        .iter()
        .map(|a| a.code.clone())
        .filter(|code| field(fields, &format!("remove-{code}")) == "1")
        .collect();
    let actor = Actor::User(session.user.clone());
    let saved = s
        .app
        .app
        .save_draft(
            &actor,
            DraftChange {
                entity: entity.code.clone(),
                call: call.code.clone(),
                draft: input.to_draft(),
                uploads: posted.files,
                remove,
            },
        )
        .await
        .map_err(ApiError::from)?;
    let mut fc = FormCtx::load(&s, &ctx, &session, &entity, &stored).await?;
    fc.documents = saved.documents;
    fc.upload_errors = saved.refused;
    if !fc.upload_errors.is_empty() {
        let alert = Alert {
            kind: "danger",
            title: ctx
                .t("File non accettato", "File not accepted")
                .to_string(),
            lines: vec![
                ctx.t(
                    "Il problema è indicato accanto all'allegato; il resto della bozza è salvato. Scegliere un altro file e salvare di nuovo.",
                    "The problem is shown next to the attachment; the rest of the draft is saved. Choose another file and save again.",
                )
                .to_string(),
            ],
            link: None,
        };
        return Ok(fc.page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &input,
            true,
            Some(alert),
            nonce,
        )?);
    }
    if let Some(added) = added {
        return Ok(match added {
            Ok(row) => {
                let line = &input.lines[row];
                let alert = Alert {
                    kind: "success",
                    title: ctx
                        .t(
                            "Voce aggiunta dal catalogo",
                            "Line added from the catalogue",
                        )
                        .to_string(),
                    lines: vec![format!(
                        "{} {}: {} — {} €. {}",
                        ctx.t("Riga", "Row"),
                        row + 1,
                        line.description,
                        line.amount,
                        ctx.t("La bozza è salvata.", "The draft is saved.")
                    )],
                    link: Some((
                        format!("#line-{row}-quantity"),
                        ctx.t("Vai alla riga", "Go to the row").to_string(),
                    )),
                };
                fc.page(StatusCode::OK, &input, true, Some(alert), nonce)?
            }
            Err(not_added) => {
                fc.not_added = Some(not_added);
                let alert = Alert {
                    kind: "danger",
                    title: ctx
                        .t("Voce non aggiunta", "Line not added")
                        .to_string(),
                    lines: vec![
                        ctx.t(
                            "Il problema è indicato accanto alla scelta dal catalogo; il resto della bozza è salvato.",
                            "The problem is shown next to the choice from the catalogue; the rest of the draft is saved.",
                        )
                        .to_string(),
                    ],
                    link: Some((
                        "#catalogue".into(),
                        ctx.t("Vai al catalogo", "Go to the catalogue").to_string(),
                    )),
                };
                fc.page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &input,
                    true,
                    Some(alert),
                    nonce,
                )?
            }
        });
    }
    if !submit {
        // «Salvata il 03/04/2020 alle 09:30», in the call's time zone (the page says which).
        let saved = now().to_zoned_datetime(call.tz());
        let (day, time) = (saved.strftime("%d/%m/%Y"), saved.strftime("%H:%M"));
        let alert = Alert {
            kind: "success",
            title: ctx.t("Bozza salvata", "Draft saved").to_string(),
            lines: vec![if en {
                format!("Saved on {day} at {time}. The amounts below are those of this draft.")
            } else {
                format!(
                    "Salvata il {day} alle {time}. Gli importi qui sotto sono quelli di questa bozza."
                )
            }],
            link: None,
        };
        return Ok(fc.page(StatusCode::OK, &input, true, Some(alert), nonce)?);
    }

    submit::submit(&s, fc, &input, nonce).await
}
