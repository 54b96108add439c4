//! Publishing and changing calls, the registry of entities, and API tokens.

use bandi_domain::account::Role;
use bandi_domain::call::{Call, CallState};
use bandi_domain::entity::Entity;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::ImportedCall;
use jiff::Timestamp;

use crate::{Actor, App, AppError};

impl App {
    /// Publishes a call, or changes one that has not opened and has no application yet: a
    /// change is a new `call_published` entry in the ledger, never an overwrite. Admins
    /// only (the command line is an admin).
    pub async fn import_call(&self, actor: &Actor, call: &Call) -> Result<ImportedCall, AppError> {
        actor.require(Role::Admin)?;
        let now = truncate_to_micros(Timestamp::now());
        if let Some(existing) = self.store().call(call.code.as_str()).await?
            && existing.call != *call
            && existing.call.state_at(now) != CallState::Upcoming
        {
            return Err(AppError::CallOpened {
                call: call.code.to_string(),
            });
        }
        let outcome = self.store().import_call(call).await?;
        tracing::info!(call = %call.code, by = %actor, outcome = ?outcome, "call imported");
        Ok(outcome)
    }

    /// Parses a call file and imports it.
    pub async fn import_call_file(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<(Call, ImportedCall), AppError> {
        let call = Call::from_toml(text).map_err(|e| AppError::InvalidCallFile(Box::new(e)))?;
        let outcome = self.import_call(actor, &call).await?;
        Ok((call, outcome))
    }

    /// Adds or updates entities of the registry (the command line, the demo).
    pub async fn import_entities(
        &self,
        actor: &Actor,
        entities: &[Entity],
    ) -> Result<usize, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().upsert_entities(entities).await?)
    }

    /// A new API token for an entity; shown once.
    pub async fn issue_token(&self, actor: &Actor, entity: &str) -> Result<String, AppError> {
        actor.require(Role::Admin)?;
        if self.store().entity(entity).await?.is_none() {
            return Err(AppError::EntityNotFound(entity.to_string()));
        }
        Ok(self.store().issue_token(entity).await?)
    }

    /// A new API token for an official's account, named by its e-mail. Operators only.
    pub async fn issue_user_token(&self, actor: &Actor, email: &str) -> Result<String, AppError> {
        if !matches!(actor, Actor::Operator) {
            return Err(AppError::Forbidden);
        }
        let user = self
            .store()
            .user_by_email(email)
            .await?
            .map(|(u, _)| u)
            .ok_or(AppError::NotFound)?;
        if !user.role.is_official() {
            return Err(AppError::Forbidden);
        }
        Ok(self.store().issue_user_token(&user.id).await?)
    }

    /// Who a bearer token speaks for: an official's account (`bnu_` tokens, while the
    /// account is enabled) or an entity.
    pub async fn token_actor(&self, token: &str) -> Result<Option<Actor>, AppError> {
        if token.starts_with("bnu_") {
            return Ok(self
                .store()
                .token_user(token)
                .await?
                .filter(|u| !u.disabled)
                .map(Actor::User));
        }
        Ok(self.store().token_entity(token).await?.map(Actor::Entity))
    }

    /// New API tokens for many entities at once, in one transaction (rehearsals of
    /// thousands of entities).
    pub async fn issue_tokens(
        &self,
        actor: &Actor,
        entities: &[String],
    ) -> Result<Vec<String>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().issue_tokens(entities).await?)
    }

    /// Checks the whole database: the ledger's chain, every call's allocation replayed,
    /// every application and document against what the ledger sealed.
    pub async fn verify(&self) -> Result<bandi_store::VerifyReport, AppError> {
        self.store().verify().await.map_err(|e| match e {
            bandi_store::StoreError::Corrupt(m) => AppError::Internal(m),
            other => other.into(),
        })
    }

    /// The entity an API token belongs to.
    pub async fn token_entity(&self, token: &str) -> Result<Option<String>, AppError> {
        Ok(self.store().token_entity(token).await?)
    }
}
