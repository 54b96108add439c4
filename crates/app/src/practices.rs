//! The community's practices: an authority proposes a good practice or a reusable
//! solution, an official publishes or refuses it, other authorities say they reuse it,
//! and anyone searches them in Italian. Community content, not money: it is kept beside
//! the calls, not in their ledger.

use bandi_domain::i18n::FieldError;
use bandi_domain::practice::{PracticeContent, PracticeStatus, problems, search_terms};
use bandi_store::{PracticeQuery, StoredPractice};

use crate::{Actor, App, AppError};

/// What a practice is found by: its words and its levers' names.
fn terms_of(content: &PracticeContent) -> String {
    let levers: Vec<String> = content
        .levers
        .iter()
        .map(|l| {
            let t = l.label();
            format!("{} {}", t.it, t.en)
        })
        .collect();
    search_terms(&format!(
        "{} {} {} {}",
        content.title,
        content.summary,
        content.body,
        levers.join(" ")
    ))
}

impl App {
    /// `entity` proposes a practice: its staff (or the operator, for the demo's examples,
    /// published at once when `example`). Officials decide before anyone else sees it.
    pub async fn propose_practice(
        &self,
        actor: &Actor,
        entity: &str,
        content: PracticeContent,
        example: bool,
    ) -> Result<i64, AppError> {
        if !actor.may_act_for(entity) || (example && !matches!(actor, Actor::Operator)) {
            return Err(AppError::Forbidden);
        }
        let store = self.store();
        if store.entity(entity).await?.is_none() {
            return Err(AppError::EntityNotFound(entity.to_string()));
        }
        let mut errors: Vec<FieldError> = problems(&content)
            .into_iter()
            .map(|(field, t)| FieldError::new(field, "invalid", t.it, t.en))
            .collect();
        if let Some(call) = &content.call
            && (call.len() > 64 || store.call(call).await?.is_none())
        {
            errors.push(FieldError::new(
                "call",
                "invalid",
                "Bando inesistente.",
                "No such call.",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::InvalidPractice(errors));
        }
        let status = match example {
            true => PracticeStatus::Published,
            false => PracticeStatus::Proposed,
        };
        let n = store
            .create_practice(entity, &content, &terms_of(&content), status, example)
            .await?;
        tracing::info!(practice = n, entity, by = %actor, "practice proposed");
        Ok(n)
    }

    /// An official publishes (`publish`) or refuses a proposed practice, once.
    pub async fn decide_practice(
        &self,
        actor: &Actor,
        n: i64,
        publish: bool,
    ) -> Result<(), AppError> {
        if !actor.is_official() {
            return Err(AppError::Forbidden);
        }
        let store = self.store();
        store.practice(n).await?.ok_or(AppError::NotFound)?;
        let status = match publish {
            true => PracticeStatus::Published,
            false => PracticeStatus::Refused,
        };
        if !store.decide_practice(n, status, &actor.to_string()).await? {
            return Err(AppError::PracticeDecided(n));
        }
        tracing::info!(practice = n, publish, by = %actor, "practice decided");
        Ok(())
    }

    /// `entity` says it reuses a published practice; false when it had said so already.
    pub async fn reuse_practice(
        &self,
        actor: &Actor,
        n: i64,
        entity: &str,
    ) -> Result<bool, AppError> {
        if !actor.may_act_for(entity) {
            return Err(AppError::Forbidden);
        }
        let store = self.store();
        let practice = self.published_practice(n).await?;
        if practice.entity == entity {
            return Err(AppError::OwnPractice);
        }
        let new = store.mark_reuse(n, entity).await?;
        tracing::info!(practice = n, entity, new, "practice reused");
        Ok(new)
    }

    /// A practice anyone may read: published ones only (the others are "not found").
    pub async fn published_practice(&self, n: i64) -> Result<StoredPractice, AppError> {
        match self.store().practice(n).await? {
            Some(p) if p.status == PracticeStatus::Published => Ok(p),
            _ => Err(AppError::NotFound),
        }
    }

    /// Published practices matching the words `text` (in Italian, any form of a word) and
    /// the filters of `q` (its `terms` are made here).
    pub async fn search_practices(
        &self,
        text: &str,
        mut q: PracticeQuery,
    ) -> Result<Vec<StoredPractice>, AppError> {
        q.terms = search_terms(&text.chars().take(500).collect::<String>());
        Ok(self.store().search_practices(&q, 100).await?)
    }
}
