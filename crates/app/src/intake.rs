//! Submitting an application, one path for the API and the form: who may, the call's
//! eligibility and window (a retry of an application accepted in time still gets its
//! receipt after the closing), the content's validation, then the intake's sequencer.

use bandi_domain::application::{ApplicationContent, AttachedDocument, parse_and_validate};
use bandi_domain::call::CallCode;
use bandi_domain::entity::EntityCode;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::intake::{Accepted, Submission};
use bandi_store::{Receipt, StoredApplication};
use jiff::Timestamp;
use serde_json::Value;

use crate::{Actor, App, AppError};

/// What an application's content arrives as.
pub enum Content {
    /// The API's JSON body, as sent: its problems name the body's paths.
    Json(Value),
    /// What the form built; the documents of the entity's draft are attached to it.
    Form(ApplicationContent),
}

pub struct Submit {
    pub call: CallCode,
    pub entity: EntityCode,
    /// Validated by the interface (a header, a form's nonce).
    pub idempotency_key: Option<String>,
    pub content: Content,
}

impl App {
    pub async fn submit(&self, actor: &Actor, s: Submit) -> Result<Accepted, AppError> {
        if !actor.may_act_for(s.entity.as_str()) {
            return Err(AppError::NotFound);
        }
        let store = self.store();
        let call = store
            .call_rules(s.call.as_str())
            .await?
            .ok_or(AppError::CallNotFound)?;
        let entity = store
            .entity(s.entity.as_str())
            .await?
            .ok_or(AppError::NotFound)?;
        call.check_eligible(&entity)
            .map_err(AppError::NotEligible)?;
        let content = match s.content {
            Content::Form(mut c) => {
                c.attachments = self
                    .draft_attachments(s.entity.as_str(), s.call.as_str())
                    .await?;
                Content::Form(c)
            }
            json => json,
        };
        let now = truncate_to_micros(Timestamp::now());
        if let Err(outside) = call.check_window(now) {
            // A retry of a submission accepted in time still gets its receipt.
            let sha = match &content {
                Content::Json(v) => ApplicationContent::from_json(v).0.sha256_hex(),
                Content::Form(c) => {
                    let mut c = c.clone();
                    c.strip_format_chars();
                    c.sha256_hex()
                }
            };
            let previous = self
                .intake()
                .previous_receipt(
                    s.call.as_str(),
                    s.entity.as_str(),
                    s.idempotency_key.as_deref(),
                    &sha,
                )
                .await?;
            return match previous {
                Some(r) => Ok(Accepted::Replayed(r)),
                None => Err(AppError::OutsideWindow(outside)),
            };
        }
        let from_form = matches!(content, Content::Form(_));
        let application = match content {
            Content::Json(v) => parse_and_validate(&v, &call),
            Content::Form(c) => c.validate(&call),
        }
        .map_err(AppError::InvalidApplication)?;
        let problems = self.reference_problems(&application.content).await?;
        if !problems.is_empty() {
            return Err(AppError::InvalidApplication(problems));
        }
        let accepted = self
            .intake()
            .submit(Submission {
                call: s.call.to_string(),
                entity: s.entity.to_string(),
                entity_name: entity.name.clone(),
                idempotency_key: s.idempotency_key,
                application,
            })
            .await?;
        match &accepted {
            Accepted::Created(r) => {
                tracing::debug!(protocol = %r.protocol, by = %actor, "application submitted");
            }
            // A double click: the first request's transaction cleared the draft, and the
            // second one's save may have written it back since. Clear it again.
            Accepted::Replayed(_) if from_form => {
                if self
                    .limit_reached(s.entity.as_str(), &s.call)
                    .await?
                    .is_some()
                {
                    store
                        .delete_draft(s.entity.as_str(), s.call.as_str())
                        .await?;
                }
            }
            Accepted::Replayed(_) => {}
        }
        Ok(accepted)
    }

    /// The documents of an entity's draft, as a content names them.
    pub async fn draft_attachments(
        &self,
        entity: &str,
        call: &str,
    ) -> Result<Vec<AttachedDocument>, AppError> {
        Ok(self
            .store()
            .draft_documents(entity, call)
            .await?
            .into_iter()
            .map(|d| AttachedDocument {
                code: d.attachment,
                sha256: d.sha256,
            })
            .collect())
    }

    /// An entity's applications to a call, oldest first.
    pub async fn applications_of(
        &self,
        entity: &str,
        call: &str,
    ) -> Result<Vec<StoredApplication>, AppError> {
        let mut mine: Vec<StoredApplication> = self
            .store()
            .entity_applications(entity)
            .await?
            .into_iter()
            .filter(|a| a.receipt.call == call)
            .collect();
        mine.sort_by_key(|a| a.receipt.seq);
        Ok(mine)
    }

    /// The receipt an entity was given for a call, when it has made all the applications
    /// the call allows (the form then shows it instead of a form).
    pub async fn limit_reached(
        &self,
        entity: &str,
        call: &CallCode,
    ) -> Result<Option<Receipt>, AppError> {
        let rules = self
            .store()
            .call_rules(call.as_str())
            .await?
            .ok_or(AppError::CallNotFound)?;
        let limit = rules.applications_per_entity as usize;
        if limit == 0 {
            return Ok(None);
        }
        let mine = self.applications_of(entity, call.as_str()).await?;
        Ok((mine.len() >= limit)
            .then(|| mine.into_iter().next().map(|a| a.receipt))
            .flatten())
    }
}
