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

pub(crate) fn now() -> Timestamp {
    truncate_to_micros(Timestamp::now())
}

fn crumbs(ctx: &Ctx) -> Vec<Crumb> {
    vec![
        Crumb::new(ctx.ui().home, "/"),
        Crumb::new(
            ctx.t("Amministrazione", "Administration"),
            "/amministrazione",
        ),
    ]
}
