//! The services catalogue of the region's in-house provider: imported by officials from a
//! file, read by the form, and the check of what an application names outside itself (the
//! services its lines buy, the practices it cites) against the store.

use bandi_domain::account::Role;
use bandi_domain::application::{ApplicationContent, check_references};
use bandi_domain::i18n::FieldError;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::service::Catalogue;
use bandi_store::CatalogueImport;
use jiff::Timestamp;

use crate::{Actor, App, AppError};

impl App {
    /// Reads a catalogue file and replaces the catalogue with it (officials).
    pub async fn import_catalogue_file(
        &self,
        actor: &Actor,
        text: &str,
    ) -> Result<(Catalogue, CatalogueImport), AppError> {
        actor.require(Role::Admin)?;
        let catalogue = Catalogue::from_toml(text).map_err(AppError::InvalidCatalogue)?;
        let now = truncate_to_micros(Timestamp::now());
        let outcome = self.store().import_catalogue(&catalogue, now).await?;
        tracing::info!(by = %actor, ?outcome, "services catalogue imported");
        Ok((catalogue, outcome))
    }

    /// The catalogue as last imported; `None` before any import.
    pub async fn catalogue(&self) -> Result<Option<Catalogue>, AppError> {
        Ok(self.store().catalogue().await?)
    }

    /// The problems of what `content` names outside itself; reads the store only for what
    /// it names (a content without catalogue lines or practices costs nothing).
    pub async fn reference_problems(
        &self,
        content: &ApplicationContent,
    ) -> Result<Vec<FieldError>, AppError> {
        let catalogue = match content.lines.iter().any(|l| l.service.is_some()) {
            true => self.catalogue().await?,
            false => None,
        };
        let published = self.store().published_among(&content.practices).await?;
        Ok(check_references(content, catalogue.as_ref(), &published))
    }
}
