//! Signing in with a local account, throttled so that guessing is slow and nobody can lock
//! another person out:
//!
//! - per e-mail *from one address*: at most [`PAIR_ATTEMPTS`] attempts in a window. Each
//!   attempt is counted before its password is checked, atomically in the database, so
//!   forty attempts at once are five checks and thirty-five refusals, on any number of
//!   nodes; a successful sign-in clears its own count;
//! - per address: at most [`ADDRESS_FAILURES`] failures in a window, whatever the e-mails
//!   (generous: offices share addresses behind NAT);
//! - per e-mail from anywhere: past [`EMAIL_FAILURES_BEFORE_DELAY`] failures every attempt
//!   waits a little longer, up to [`MAX_DELAY`], before it is checked: the owner, from
//!   their own address, is slowed down, never locked out.
//!
//! The address is the client's as the HTTP layer established it (a forwarded address only
//! from a configured proxy).

use std::time::Duration;

use bandi_domain::account::FiscalCode;
use bandi_domain::i18n::Text;
use bandi_store::{User, normalise_email};
use jiff::SignedDuration;

use crate::{App, AppError};

pub const WINDOW: SignedDuration = SignedDuration::from_mins(15);
pub const PAIR_ATTEMPTS: i64 = 5;
pub const ADDRESS_FAILURES: i64 = 50;
pub const EMAIL_FAILURES_BEFORE_DELAY: i64 = 5;
pub const MAX_DELAY: Duration = Duration::from_secs(4);

/// The wait before checking a password for an e-mail with `failures` recent failures.
pub fn delay_for(failures: i64) -> Duration {
    let over = failures - EMAIL_FAILURES_BEFORE_DELAY;
    if over < 0 {
        return Duration::ZERO;
    }
    let ms = 250u64.saturating_mul(1u64 << over.min(10));
    Duration::from_millis(ms).min(MAX_DELAY)
}

/// A session just opened: the cookie's value and the session's CSRF token.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

impl App {
    /// Checks an e-mail and password from `address`, throttled as the module says, and
    /// opens a session. A wrong password, an unknown e-mail and a disabled account get the
    /// same answer in about the same time.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        address: &str,
    ) -> Result<NewSession, AppError> {
        let store = self.store();
        let email = normalise_email(email);
        let address_key = format!("addr:{address}");
        let pair_key = format!("pair:{email}|{address}");
        let email_key = format!("email:{email}");
        let throttled = || AppError::Throttled {
            retry_after: WINDOW.as_secs() as u32,
        };
        self.purge_attempts_now_and_then().await;
        if store.attempts(&address_key, WINDOW).await? >= ADDRESS_FAILURES {
            return Err(throttled());
        }
        if store.count_attempt(&pair_key, WINDOW).await? > PAIR_ATTEMPTS {
            return Err(throttled());
        }
        let delay = delay_for(store.attempts(&email_key, WINDOW).await?);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let found = store.user_by_email(&email).await?;
        let phc = found.as_ref().map(|(_, h)| h.as_str());
        let matches = self.passwords().verify(password, phc).await?;
        let user = match found {
            Some((user, _)) if matches && !user.disabled => user,
            _ => {
                store.count_attempt(&address_key, WINDOW).await?;
                store.count_attempt(&email_key, WINDOW).await?;
                return Err(AppError::WrongCredentials);
            }
        };
        store.clear_attempts(&pair_key).await?;
        let (token, csrf) = store
            .create_session(&user.id, SignedDuration::from_hours(SESSION_HOURS))
            .await?;
        tracing::info!(user = %user.id, role = user.role.as_str(), "signed in");
        Ok(NewSession { token, csrf, user })
    }

    /// Opens a session for the person an identity provider (SPID, CIE) vouched for, known
    /// by their fiscal code: the account bound to it, if any and not disabled. The
    /// provider's answer has been checked by the caller (the web layer's OpenID Connect
    /// relying party); `provider` names it in the log.
    pub async fn sign_in_with_fiscal_code(
        &self,
        fiscal_code: &str,
        provider: &str,
    ) -> Result<NewSession, AppError> {
        let Some(code) = FiscalCode::parse(fiscal_code) else {
            return Err(AppError::IdentityRefused(Box::new(Text::new(
                "il gestore dell'identità non ha fornito un codice fiscale valido.",
                "the identity provider gave no valid fiscal code.",
            ))));
        };
        let store = self.store();
        let user = match store.user_by_fiscal_code(&code).await? {
            Some(user) if !user.disabled => user,
            _ => {
                tracing::info!(provider, "signed in with no account bound");
                return Err(AppError::NotBound {
                    fiscal_code: code.to_string(),
                });
            }
        };
        let (token, csrf) = store
            .create_session(&user.id, SignedDuration::from_hours(SESSION_HOURS))
            .await?;
        tracing::info!(user = %user.id, role = user.role.as_str(), provider, "signed in");
        Ok(NewSession { token, csrf, user })
    }

    /// Ends a session (signing out).
    pub async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        self.store().delete_session(token).await?;
        Ok(())
    }

    /// Windows that are over go, about once a minute per node: never all at once.
    async fn purge_attempts_now_and_then(&self) {
        if self.inner.purged.should_run() {
            match self.store().purge_attempts(WINDOW).await {
                Ok(n) if n > 0 => tracing::debug!(purged = n, "sign-in windows over"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sign-in windows not purged"),
            }
        }
    }
}

/// How long a session lasts at most, however active.
pub const SESSION_HOURS: i64 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_grows_and_is_capped() {
        assert_eq!(delay_for(0), Duration::ZERO);
        assert_eq!(delay_for(4), Duration::ZERO);
        assert_eq!(delay_for(5), Duration::from_millis(250));
        assert_eq!(delay_for(6), Duration::from_millis(500));
        assert_eq!(delay_for(9), Duration::from_secs(4));
        assert_eq!(delay_for(1_000), MAX_DELAY);
    }
}
