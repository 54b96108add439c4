//! A forgotten password, reset by e-mail: a link sent through the outbox to the account's
//! address, valid for [`RESET_TTL`] and once. The request answers the same whether the
//! address has an account or not (nothing tells an attacker which addresses exist), sends
//! at most [`MAILS_PER_WINDOW`] links per address in a window (no mail bombing through the
//! form), and a reset ends every session of the account. Accounts without a password
//! (SPID/CIE only) and disabled ones get no link.

use bandi_domain::i18n::Text;
use bandi_store::{AccountMail, User, normalise_email};
use jiff::SignedDuration;

use crate::accounts::{AccountProblems, password_problem};
use crate::sign_in::WINDOW;
use crate::{App, AppError};

pub const RESET_TTL: SignedDuration = SignedDuration::from_mins(30);
pub const MAILS_PER_WINDOW: i64 = 3;
/// Requests from one client address in a window, whatever the e-mails.
pub const REQUESTS_PER_ADDRESS: i64 = 20;

/// A reset link's token as it travels: 64 hexadecimal digits.
fn token_shape(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

fn new_token() -> String {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn link_refused() -> AppError {
    AppError::IdentityRefused(Box::new(Text::new(
        "il collegamento per reimpostare la password è scaduto o è già stato usato: chiederne uno nuovo.",
        "the password reset link has expired or was used already: ask for a new one.",
    )))
}

impl App {
    /// Sends a reset link to `email` if it is an account's that may have one; `link_base`
    /// is this platform's public address (never the request's `Host`, which a client
    /// chooses), `address` the client's, for the throttle.
    pub async fn request_password_reset(
        &self,
        email: &str,
        address: &str,
        link_base: &str,
    ) -> Result<(), AppError> {
        let store = self.store();
        let email = normalise_email(email);
        if store
            .count_attempt(&format!("reset-addr:{address}"), WINDOW)
            .await?
            > REQUESTS_PER_ADDRESS
        {
            return Err(AppError::Throttled {
                retry_after: WINDOW.as_secs() as u32,
            });
        }
        if email.len() > 254
            || store
                .count_attempt(&format!("reset:{email}"), WINDOW)
                .await?
                > MAILS_PER_WINDOW
        {
            return Ok(());
        }
        let Some((user, hash)) = store.user_by_email(&email).await? else {
            return Ok(());
        };
        if user.disabled || hash.is_empty() {
            tracing::info!(user = %user.id, "password reset asked for an account without one");
            return Ok(());
        }
        let token = new_token();
        let link = format!(
            "{}/accedi/nuova-password?token={token}",
            link_base.trim_end_matches('/')
        );
        let minutes = RESET_TTL.as_mins();
        let mail = AccountMail {
            address: user.email.clone(),
            subject: "Bandi per gli enti locali: reimpostazione della password".into(),
            body: format!(
                "Buongiorno {name},\n\n\
                 è stata chiesta la reimpostazione della password dell'account {email}.\n\
                 Per sceglierne una nuova, aprire entro {minutes} minuti questo collegamento, \
                 che vale una sola volta:\n\n{link}\n\n\
                 Se non è stato lei a chiederla, ignori questo messaggio: la password resta \
                 quella di prima.\n\n\
                 --\n\
                 A password reset was asked for the account {email}. Open the link above \
                 within {minutes} minutes to choose a new password, or ignore this message.\n",
                name = user.name,
                email = user.email,
            ),
        };
        store
            .create_password_reset(&user.id, &token, RESET_TTL, &mail)
            .await?;
        tracing::info!(user = %user.id, "password reset link queued");
        Ok(())
    }

    /// Whether a reset link can still be used (to show its form, or say it cannot).
    pub async fn password_reset_is_live(&self, token: &str) -> Result<bool, AppError> {
        Ok(token_shape(token) && self.store().password_reset_user(token).await?.is_some())
    }

    /// Sets a new password through a reset link: the rule of every password first (a bad
    /// one leaves the link usable), then the link, used once; every session ends.
    pub async fn reset_password_with_link(&self, token: &str, new: &str) -> Result<User, AppError> {
        if !token_shape(token) {
            return Err(link_refused());
        }
        if let Some(problem) = password_problem(new) {
            return Err(AppError::InvalidAccount(Box::new(AccountProblems {
                password: Some(problem),
                ..AccountProblems::default()
            })));
        }
        let store = self.store();
        let user_id = store
            .take_password_reset(token)
            .await?
            .ok_or_else(link_refused)?;
        let user = store.user(&user_id).await?.ok_or_else(link_refused)?;
        let ended = self.replace_password(&user.id, new, None).await?;
        tracing::info!(user = %user.id, sessions_ended = ended, "password reset by link");
        Ok(user)
    }
}
