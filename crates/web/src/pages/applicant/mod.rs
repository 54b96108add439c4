//! The applicants' reserved area: a dashboard per entity, the application form with its
//! draft, the one-click submission on the click day, and the receipt.
//!
//! Ownership is checked on every request: an entity the person does not act for, and
//! anything of it (draft, application), answers the same 404 as something that does not
//! exist.

mod dashboard;
mod documents;
mod drafts;
mod follow;
mod notices;
mod preview;
mod receipt;
mod report;
mod report_form;
mod statuses;
mod submit;
pub(crate) mod uploads;

pub use dashboard::dashboard;
pub use documents::download;
pub(crate) use documents::{DocumentView, document_href, file_response, human_size};
pub use drafts::{form, save};
pub use follow::act;
pub(crate) use notices::{NoticeView, contacts_href, notices_href};
pub use notices::{contacts, notices, save_contacts};
pub(crate) use preview::is_preview;
pub use preview::preview;
pub use receipt::{receipt, signed as signed_receipt};
pub use report::{act as report_act, show as report};
pub use statuses::statuses;
pub(crate) use uploads::MAX_UPLOAD_BODY;
use uploads::field;

use bandi_domain::allocation::Status;
use bandi_domain::call::Call;
use bandi_domain::entity::Entity;
use bandi_domain::instant::truncate_to_micros;
use bandi_store::{Session, StoredCall};
use jiff::Timestamp;

use crate::ApiError;
use crate::pages::{PageState, encode};

fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

pub(crate) fn status_class(status: Status) -> &'static str {
    match status {
        Status::Reserved => "status-reserved",
        Status::Partial => "status-partial",
        Status::Waitlisted => "status-waitlisted",
        Status::Withdrawn | Status::Rejected | Status::Revoked => "status-other",
    }
}

/// `03/04/2020 09:30:00` in the call's time zone.
fn local_seconds(call: &Call, t: Timestamp) -> String {
    t.to_zoned_datetime(call.tz())
        .strftime("%d/%m/%Y %H:%M:%S")
        .to_string()
}

/// The entity the person acts for, or 404 for any other, existing or not.
async fn own_entity(s: &PageState, session: &Session, code: &str) -> Result<Entity, ApiError> {
    if !session.user.acts_for(code) {
        return Err(ApiError::not_found());
    }
    s.app
        .store()
        .entity(code)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn load_call(s: &PageState, code: &str) -> Result<StoredCall, ApiError> {
    if bandi_domain::call::CallCode::parse(code).is_err() {
        return Err(ApiError::not_found());
    }
    s.app
        .store()
        .call(code)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn form_href(entity: &str, call: &str) -> String {
    format!(
        "/area-riservata/domanda/{}/{}",
        encode(entity),
        encode(call)
    )
}

fn receipt_href(id: &str) -> String {
    format!("/area-riservata/ricevuta/{}", encode(id))
}
