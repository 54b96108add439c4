//! The officials' pages (`/amministrazione`, role admin): import and publish a call from
//! its TOML file, edit it until it opens or has applications, see its applications in
//! protocol order (exports in [`super::export`]), and manage the accounts.

mod applications;
mod calls;
mod users;

pub use applications::call;
pub(crate) use applications::{applications, load_call, status_filter};
pub use calls::{calls, import};
pub use users::{bind, create_user, users};

use bandi_domain::instant::truncate_to_micros;
use jiff::Timestamp;

use crate::pages::{Crumb, Ctx};

fn now() -> Timestamp {
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
