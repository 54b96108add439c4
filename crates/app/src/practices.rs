//! The community's practices: an authority proposes a good practice or a reusable
//! solution, an official publishes or refuses it, other authorities say they reuse it,
//! and anyone searches them in Italian. Community content, not money: it is kept beside
//! the calls, not in their ledger.

use bandi_domain::i18n::FieldError;
use bandi_domain::money::Money;
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

/// A funded project whose title or summary holds every word searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundProject {
    pub call: String,
    pub call_title: String,
    pub protocol: String,
    pub entity_name: String,
    pub title: String,
    pub summary: String,
    pub awarded: Money,
}

/// Whether `text` holds every stem of `query` (as [`search_terms`] makes both).
pub fn holds_every_stem(text: &str, query: &str) -> bool {
    let stems: std::collections::HashSet<String> =
        search_terms(text).split(' ').map(str::to_string).collect();
    query.split_whitespace().all(|q| stems.contains(q))
}

impl App {
    /// The funded projects (applications admitted, in every call or the one asked) whose
    /// title or summary holds the words of `text`, filtered by kind of body and province as
    /// the practices are. Few per call: read and matched here, with the practices' stems.
    pub async fn search_projects(
        &self,
        text: &str,
        q: &PracticeQuery,
    ) -> Result<Vec<FoundProject>, AppError> {
        let query = search_terms(&text.chars().take(500).collect::<String>());
        let store = self.store();
        let mut found = Vec::new();
        for c in store.calls().await? {
            let code = c.call.code.to_string();
            if q.call.as_ref().is_some_and(|wanted| *wanted != code) {
                continue;
            }
            for g in store.grants(&code).await? {
                let kind_ok = q.kind.is_none_or(|k| k.as_str() == g.entity_kind);
                let province_ok = q.province.is_none() || q.province == g.province;
                if g.awarded.is_positive()
                    && kind_ok
                    && province_ok
                    && holds_every_stem(&format!("{} {}", g.title, g.summary), &query)
                {
                    found.push(FoundProject {
                        call: code.clone(),
                        call_title: c.call.title.it.clone(),
                        protocol: g.protocol,
                        entity_name: g.entity_name,
                        title: g.title,
                        summary: g.summary,
                        awarded: g.awarded,
                    });
                }
            }
        }
        found.truncate(100);
        Ok(found)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_is_found_by_any_form_of_its_words() {
        let text = "Smart working a Cervia: piano formativo, cloud Lepida";
        assert!(holds_every_stem(text, &search_terms("formazione")));
        assert!(holds_every_stem(
            text,
            &search_terms("la formazione nel cloud")
        ));
        assert!(!holds_every_stem(
            text,
            &search_terms("formazione postazioni")
        ));
        assert!(holds_every_stem(text, ""), "no words: every project");
    }
}
