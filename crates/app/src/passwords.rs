//! Password hashing off the async workers, in a bounded pool. Argon2id is deliberately
//! slow (tens of milliseconds of CPU each): run on the request's task, a flood of sign-ins
//! took the health check from 2 to 62 ms. Here at most one hash per core runs at a time, a
//! few more wait, and beyond that the answer is "busy" at once.

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::AppError;

/// An argon2id hash in PHC form, with a fresh salt. Blocking: call it through
/// [`Passwords`] on a server, directly from a command or a test.
pub fn hash_blocking(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source is available");
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Whether `password` matches the PHC string `phc`; a malformed hash matches nothing.
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A real hash to check against when the e-mail is unknown, so that the time does not tell.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("not a password anyone has"))
}

/// The pool: `running` hashes at once (one per core), `admitted` in all (running or
/// waiting); one more is refused with [`AppError::Busy`].
#[derive(Clone)]
pub struct Passwords {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Passwords::new(cores, cores * 4)
    }
}

impl Passwords {
    pub fn new(running: usize, admitted: usize) -> Passwords {
        Passwords {
            admitted: Arc::new(Semaphore::new(admitted.max(1))),
            running: Arc::new(Semaphore::new(running.max(1))),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Busy)?;
        let _running = self
            .running
            .acquire()
            .await
            .map_err(|_| AppError::Internal("password pool closed".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
    }

    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_string();
        self.run(move || hash_blocking(&password)).await
    }

    /// Checks `password` against `phc`, or against a dummy hash when there is no account
    /// (`None`): the same work, and so the same time, either way.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool, AppError> {
        let password = password.to_string();
        // An account without a password (SPID/CIE only) is checked like no account at all.
        let phc = phc.filter(|p| !p.is_empty());
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| dummy_hash()).to_string();
        let ok = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let h = hash_blocking("correct horse battery staple");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("correct horse battery staple", &h));
        assert!(!verify_blocking("Correct horse battery staple", &h));
        assert!(!verify_blocking("x", "not a hash"));
        assert_ne!(h, hash_blocking("correct horse battery staple"));
    }

    #[tokio::test]
    async fn beyond_the_admitted_the_answer_is_busy_at_once() {
        let pool = Passwords::new(1, 2);
        let h = hash_blocking("a password");
        assert!(pool.verify("a password", Some(&h)).await.unwrap());
        // Two checks in progress (their places held here): a third is refused at once.
        let held = pool.admitted.clone().try_acquire_many_owned(2).unwrap();
        assert!(matches!(
            pool.verify("a password", Some(&h)).await,
            Err(AppError::Busy)
        ));
        assert!(matches!(pool.hash("x").await, Err(AppError::Busy)));
        drop(held);
        assert!(pool.verify("a password", Some(&h)).await.unwrap());
        // No account, or one without a password: the same work, never a match.
        assert!(!pool.verify("a password", None).await.unwrap());
        assert!(!pool.verify("", Some("")).await.unwrap());
    }
}
