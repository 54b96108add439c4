//! The officials' pages (`/amministrazione`, role admin): import and publish a call from
//! its TOML file, edit it until it opens or has applications, see its applications in
//! protocol order (exports in [`super::export`]), and manage the accounts.

mod application;
mod applications;
mod call_form;
mod calls;
mod list;
mod report;
mod users;

pub(crate) use application::href as application_href;
pub use application::{act, show as application};
pub use applications::call;
pub(crate) use applications::{act_href, applications, load_call, public_list_href, status_filter};
pub use call_form::{form as call_form, submit as call_form_submit};
pub use calls::{calls, import};
pub use list::{budget, notices, publish};
pub use report::{act_on as report_act, show as report};
pub use users::{bind, create_user, set_state, users};

use bandi_domain::instant::truncate_to_micros;
use jiff::Timestamp;

use crate::pages::{Crumb, Ctx};

/// A message above a page: what an action did, or why it was refused.
pub(crate) struct Outcome {
    pub kind: &'static str,
    pub text: String,
}

impl Outcome {
    pub fn done(text: impl Into<String>) -> Outcome {
        Outcome {
            kind: "success",
            text: text.into(),
        }
    }

    pub fn refused(text: impl Into<String>) -> Outcome {
        Outcome {
            kind: "danger",
            text: text.into(),
        }
    }
}

/// Reads a form that posts a TOML file (`csrf`, the pasted `toml`, an uploaded `file`) and
/// checks its token: the file's text when one came, else the pasted text; `Err` with the
/// pasted text when the file is not UTF-8.
pub(crate) async fn read_toml_form(
    session: &bandi_store::Session,
    mut multipart: axum::extract::Multipart,
) -> Result<Result<String, String>, crate::pages::account::PageError> {
    let (mut csrf, mut typed, mut file) = (String::new(), String::new(), None::<Vec<u8>>);
    let bad_form = || {
        crate::ApiError::bad_request(
            "invalid_form",
            "Il modulo inviato non è leggibile.",
            "The form sent cannot be read.",
        )
    };
    for _ in 0..10 {
        let Some(field) = multipart.next_field().await.map_err(|_| bad_form())? else {
            break;
        };
        match field.name().unwrap_or("") {
            "csrf" => csrf = field.text().await.map_err(|_| bad_form())?,
            "toml" => typed = field.text().await.map_err(|_| bad_form())?,
            "file" => {
                let bytes = field.bytes().await.map_err(|_| bad_form())?;
                if !bytes.is_empty() {
                    file = Some(bytes.to_vec());
                }
            }
            _ => {}
        }
    }
    if !crate::auth::tokens_match(&session.csrf_token, &csrf) {
        return Err(crate::pages::account::csrf_refused().into());
    }
    Ok(match file.map(String::from_utf8) {
        Some(Ok(text)) => Ok(text),
        Some(Err(_)) => Err(typed),
        None => Ok(typed),
    })
}

/// Why an uploaded TOML file was not read.
pub(crate) fn not_utf8(ctx: &Ctx) -> &'static str {
    ctx.t(
        "Il file non è testo UTF-8: salvarlo come testo (TOML, UTF-8) e riprovare.",
        "The file is not UTF-8 text: save it as text (TOML, UTF-8) and try again.",
    )
}

pub(crate) fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

/// Home › Administration, where every officials' page starts.
pub(crate) fn crumbs(ctx: &Ctx) -> Vec<Crumb> {
    vec![
        Crumb::new(ctx.ui().home, "/"),
        Crumb::new(
            ctx.t("Amministrazione", "Administration"),
            "/amministrazione",
        ),
    ]
}
