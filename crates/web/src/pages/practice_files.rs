//! Files of a practice (a regulation, a training kit): its authority attaches them from
//! its reserved area and takes them out; anyone downloads those of a published practice,
//! officials and the authority those of one still to be decided.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use bandi_app::{Actor, AppError};
use bandi_domain::document::MAX_DOCUMENT_BYTES;
use bandi_domain::i18n::Locale;
use bandi_store::{PracticeFile, Role};
use tokio::io::AsyncReadExt;

use super::account::{PageResult, Signed, check_csrf, require, see_other};
use super::applicant::uploads::{self, field};
use super::applicant::{file_response, human_size};
use super::{PageState, encode};
use crate::ApiError;
use crate::auth::MaybeSession;

/// A file as the pages list it.
pub(crate) struct FileView {
    pub id: String,
    pub name: String,
    pub size: String,
    pub sha256: String,
    pub href: String,
}

impl FileView {
    pub fn of(f: &PracticeFile, locale: Locale) -> FileView {
        FileView {
            id: f.id.clone(),
            name: f.file_name.clone(),
            size: human_size(f.size.max(0) as u64, locale),
            sha256: f.sha256.clone(),
            href: format!("/pratiche/{}/allegati/{}", f.practice, encode(&f.id)),
        }
    }
}

fn number(n: &str) -> Result<i64, ApiError> {
    n.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| AppError::NotFound.into())
}

/// Back to the authority's practices, at the practice.
async fn back(s: &PageState, n: i64, outcome: &str) -> PageResult {
    let entity = s
        .app
        .store()
        .practice(n)
        .await?
        .map(|p| p.entity)
        .unwrap_or_default();
    Ok(see_other(&format!(
        "/area-riservata/pratiche?ente={}&{outcome}=1#practice-{n}",
        encode(&entity)
    )))
}

/// `POST /area-riservata/pratiche/{n}/allegati`: multipart, `csrf` and one `file`.
pub async fn attach(
    State(s): State<PageState>,
    Signed(session): Signed,
    path: Result<Path<String>, PathRejection>,
    req: Request,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path(n)) = path else {
        return Err(ApiError::not_found().into());
    };
    let n = number(&n)?;
    let _place = s.app.limits.upload(&session.csrf_token)?;
    let posted = uploads::read(req).await?;
    check_csrf(&session, field(&posted.fields, "csrf"))?;
    let Some(mut upload) = posted.files.into_iter().next() else {
        return Err(ApiError::bad_request(
            "no_file",
            "Scegliere un file da allegare.",
            "Choose a file to attach.",
        )
        .into());
    };
    // The file control is `att-file` (the reader of uploads takes `att-` parts as files).
    // Past the limit the bytes were dropped as they came: the use case refuses by size.
    let mut bytes = Vec::new();
    if upload.size <= MAX_DOCUMENT_BYTES as u64 {
        upload
            .bytes
            .read_to_end(&mut bytes)
            .await
            .map_err(|_| ApiError::unavailable(2))?;
    } else {
        bytes = upload.head.clone();
        bytes.resize(MAX_DOCUMENT_BYTES + 1, 0);
    }
    let actor = Actor::User(session.user.clone());
    s.app
        .app
        .attach_to_practice(&actor, n, &upload.file_name, &bytes)
        .await?;
    back(&s, n, "allegato").await
}

/// `POST /area-riservata/pratiche/{n}/allegati/{id}/rimuovi`.
pub async fn remove(
    State(s): State<PageState>,
    Signed(session): Signed,
    path: Result<Path<(String, String)>, PathRejection>,
    axum::Form(f): axum::Form<Vec<(String, String)>>,
) -> PageResult {
    require(&session, Role::Applicant)?;
    let Ok(Path((n, id))) = path else {
        return Err(ApiError::not_found().into());
    };
    check_csrf(&session, field(&f, "csrf"))?;
    let n = number(&n)?;
    let actor = Actor::User(session.user.clone());
    s.app.app.remove_practice_file(&actor, n, &id).await?;
    back(&s, n, "tolto").await
}

/// `GET /pratiche/{n}/allegati/{id}`.
pub async fn download(
    State(s): State<PageState>,
    MaybeSession(session): MaybeSession,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    let Ok(Path((n, id))) = path else {
        return Err(ApiError::not_found());
    };
    let n = number(&n)?;
    let actor = session.map(|s| Actor::User(s.user));
    let (file, bytes, name) = s.app.app.practice_file(actor.as_ref(), n, &id).await?;
    Ok(file_response(&file.content_type, &name, bytes))
}
