//! The community's practices: an authority proposes a good practice or a reusable
//! solution, an official publishes or refuses it, other authorities say they reuse it,
//! and anyone searches them in Italian. Community content, not money: it is kept beside
//! the calls, not in their ledger.

use std::collections::HashSet;

use bandi_domain::document::{DocumentKind, clean_file_name, download_name};
use bandi_domain::i18n::FieldError;
use bandi_domain::money::Money;
use bandi_domain::practice::{PracticeContent, PracticeStatus, problems, search_terms};
use bandi_store::{PracticeFile, PracticeQuery, StoredPractice};

use crate::drafts::check_upload;
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

/// A funded project as the search reads it, its words stemmed once.
pub(crate) struct IndexedProject {
    kind: String,
    province: Option<String>,
    stems: HashSet<String>,
    found: FoundProject,
}

/// Every call's funded projects, stemmed: what [`App::search_projects`] matches, kept in a
/// [`crate::memo::Memo`].
async fn index_projects(store: &bandi_store::Store) -> Result<Vec<IndexedProject>, AppError> {
    let mut index = Vec::new();
    for c in store.calls().await? {
        let code = c.call.code.to_string();
        for g in store.grants(&code).await? {
            if !g.awarded.is_positive() {
                continue;
            }
            index.push(IndexedProject {
                stems: search_terms(&format!("{} {}", g.title, g.summary))
                    .split(' ')
                    .map(str::to_string)
                    .collect(),
                kind: g.entity_kind,
                province: g.province,
                found: FoundProject {
                    call: code.clone(),
                    call_title: c.call.title.it.clone(),
                    protocol: g.protocol,
                    entity_name: g.entity_name,
                    title: g.title,
                    summary: g.summary,
                    awarded: g.awarded,
                },
            });
        }
    }
    Ok(index)
}

/// Whether `text` holds every stem of `query` (as [`search_terms`] makes both).
pub fn holds_every_stem(text: &str, query: &str) -> bool {
    let stems: HashSet<String> = search_terms(text).split(' ').map(str::to_string).collect();
    holds(&stems, query)
}

fn holds(stems: &HashSet<String>, query: &str) -> bool {
    query.split_whitespace().all(|q| stems.contains(q))
}

impl App {
    /// The funded projects (applications admitted, in every call or the one asked) whose
    /// title or summary holds the words of `text`, filtered by kind of body and province as
    /// the practices are: matched in memory against [`ProjectIndex`].
    pub async fn search_projects(
        &self,
        text: &str,
        q: &PracticeQuery,
    ) -> Result<Vec<FoundProject>, AppError> {
        let query = search_terms(&text.chars().take(500).collect::<String>());
        let store = self.store();
        let index = self.inner.projects.get(|| index_projects(store)).await?;
        Ok(index
            .iter()
            .filter(|p| q.call.as_ref().is_none_or(|wanted| *wanted == p.found.call))
            .filter(|p| q.kind.is_none_or(|k| k.as_str() == p.kind))
            .filter(|p| q.province.is_none() || q.province == p.province)
            .filter(|p| holds(&p.stems, &query))
            .take(100)
            .map(|p| p.found.clone())
            .collect())
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
        let mut content = content;
        let mut errors: Vec<FieldError> = problems(&content)
            .into_iter()
            .map(|(field, t)| FieldError::new(field, "invalid", t.it, t.en))
            .collect();
        // The project: one of the authority's own applications; its call is the practice's.
        if let Some(protocol) = content.project.clone() {
            let own = store
                .entity_applications(entity)
                .await?
                .into_iter()
                .find(|a| a.receipt.protocol == protocol);
            match own {
                None => errors.push(FieldError::new(
                    "project",
                    "invalid",
                    "Nessuna domanda dell'ente ha questo protocollo.",
                    "No application of the body has this protocol number.",
                )),
                Some(a) if content.call.as_ref().is_some_and(|c| *c != a.receipt.call) => errors
                    .push(FieldError::new(
                        "project",
                        "invalid",
                        "Il progetto è di un altro bando di quello indicato.",
                        "The project belongs to another call than the one given.",
                    )),
                Some(a) => content.call = Some(a.receipt.call),
            }
        }
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

    /// The authority of practice `n` attaches a file (a regulation, a kit): a PDF, a signed
    /// PDF, PNG or JPEG told by its bytes, at most 10 MiB, at most
    /// [`bandi_store::MAX_PRACTICE_FILES`] per practice. Not to a refused practice.
    pub async fn attach_to_practice(
        &self,
        actor: &Actor,
        n: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<PracticeFile, AppError> {
        let practice = self.store().practice(n).await?.ok_or(AppError::NotFound)?;
        if !actor.may_act_for(&practice.entity) {
            return Err(AppError::NotFound);
        }
        if practice.status == PracticeStatus::Refused {
            return Err(AppError::PracticeDecided(n));
        }
        let head = &bytes[..bytes.len().min(64)];
        let kind = check_upload(head, bytes.len() as u64).map_err(|problem| {
            AppError::InvalidDocument {
                attachment: "file".into(),
                problem,
            }
        })?;
        let file = self
            .store()
            .add_practice_file(
                n,
                &clean_file_name(file_name),
                kind.content_type(),
                bytes,
                &actor.to_string(),
            )
            .await?
            .ok_or(AppError::PracticeFilesFull)?;
        tracing::info!(practice = n, file = %file.id, by = %actor, "practice file attached");
        Ok(file)
    }

    /// The authority of practice `n` takes a file out of it.
    pub async fn remove_practice_file(
        &self,
        actor: &Actor,
        n: i64,
        id: &str,
    ) -> Result<(), AppError> {
        let practice = self.store().practice(n).await?.ok_or(AppError::NotFound)?;
        if !actor.may_act_for(&practice.entity) || !self.store().remove_practice_file(n, id).await?
        {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// A file of a practice with its bytes and the name it downloads under (the uploaded
    /// name made safe, with the extension of the kind its bytes are): anyone's once the
    /// practice is published; before, its authority's and the officials'.
    pub async fn practice_file(
        &self,
        actor: Option<&Actor>,
        n: i64,
        id: &str,
    ) -> Result<(PracticeFile, Vec<u8>, String), AppError> {
        let practice = self.store().practice(n).await?.ok_or(AppError::NotFound)?;
        let may = practice.status == PracticeStatus::Published
            || actor.is_some_and(|a| a.is_official() || a.may_act_for(&practice.entity));
        if !may {
            return Err(AppError::NotFound);
        }
        let (file, bytes) = self
            .store()
            .practice_file(n, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let stem = file
            .file_name
            .rsplit_once('.')
            .map_or(file.file_name.as_str(), |(stem, _)| stem);
        let name = download_name(
            "",
            stem,
            DocumentKind::from_content_type(&file.content_type),
        );
        Ok((file, bytes, name))
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
