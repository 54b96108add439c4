//! Signing in people: password hashes (argon2id), the session cookie, CSRF tokens and
//! login throttling. Passwords are one identity provider among others: SPID and CIE will
//! implement [`IdentityProvider`] too and end in the same session.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use bandi_store::{Session, Store, StoreError, User};
use jiff::SignedDuration;

use crate::SharedState;

pub const SESSION_COOKIE: &str = "bandi_session";
pub const SESSION_HOURS: i64 = 8;

/// An argon2id hash in PHC form, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the OS random source is available");
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .expect("argon2 with default parameters")
        .to_string()
}

/// Whether `password` matches the PHC string `phc`; a malformed hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// Who someone is, as an identity provider vouches. Every provider ends in the same place:
/// a [`User`] of our own (found by the identity the provider asserts), then
/// [`start_session`]. Local passwords are [`PasswordProvider`]; SPID and CIE (SAML/OIDC)
/// will map their asserted fiscal code to a user the same way, with their own routes.
pub trait IdentityProvider {
    fn name(&self) -> &'static str;
}

/// Local accounts: e-mail and password.
pub struct PasswordProvider;

impl IdentityProvider for PasswordProvider {
    fn name(&self) -> &'static str {
        "password"
    }
}

impl PasswordProvider {
    /// The user if the password matches. The same answer, and about the same time, for
    /// an unknown e-mail and a wrong password.
    pub async fn authenticate(
        &self,
        store: &Store,
        email: &str,
        password: &str,
    ) -> Result<Option<User>, bandi_store::StoreError> {
        match store.user_by_email(email).await? {
            Some((user, hash)) if verify_password(password, &hash) => Ok(Some(user)),
            Some(_) => Ok(None),
            None => {
                // Spend the time a check would, so that timing does not tell who exists.
                let _ = verify_password(password, dummy_hash());
                Ok(None)
            }
        }
    }
}

/// A real hash to check against when the e-mail is unknown.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password anyone has"))
}

/// Failed sign-ins per key (e-mail, address): at most `limit` in `window`.
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Throttle {
        Throttle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    pub fn allows(&self, key: &str) -> bool {
        let Ok(mut map) = self.failures.lock() else {
            return false;
        };
        let window = self.window;
        match map.get_mut(key) {
            Some(q) => {
                while q.front().is_some_and(|t| t.elapsed() > window) {
                    q.pop_front();
                }
                q.len() < self.limit
            }
            None => true,
        }
    }

    pub fn record_failure(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            // Bounded: forget everything when too many keys pile up (an attack on the map).
            if map.len() > 100_000 {
                map.clear();
            }
            map.entry(key.to_string())
                .or_default()
                .push_back(Instant::now());
        }
    }

    pub fn reset(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(5, Duration::from_secs(15 * 60))
    }
}

/// Opens a session for `user` (whoever vouched for them) and returns the `Set-Cookie`
/// value that carries it.
pub async fn start_session(store: &Store, user: &User, secure: bool) -> Result<String, StoreError> {
    let (token, _csrf) = store
        .create_session(&user.id, SignedDuration::from_hours(SESSION_HOURS))
        .await?;
    Ok(session_cookie(&token, secure))
}

/// A fresh random token, as hex: CSRF tokens before sign-in, form nonces.
pub fn random_token() -> String {
    let mut buf = [0u8; 16];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session cookie's value, if it has the shape of one.
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Compares two tokens in constant time.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `Set-Cookie` value of a session: `HttpOnly`, `SameSite=Lax`, `Secure` behind TLS.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_HOURS * 3600
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Whether the request came over TLS (directly or through a proxy that says so).
pub fn is_secure(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The signed-in person, if any.
pub struct MaybeSession(pub Option<Session>);

impl<S> FromRequestParts<S> for MaybeSession
where
    S: Send + Sync,
    SharedState: FromRef<S>,
{
    type Rejection = crate::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Some(token) = session_token(&parts.headers) else {
            return Ok(MaybeSession(None));
        };
        let state = SharedState::from_ref(state);
        Ok(MaybeSession(state.store.session(&token).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("correct horse battery staple");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &h));
        assert!(!verify_password("Correct horse battery staple", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery staple"), "salted");
    }

    #[test]
    fn throttle() {
        let t = Throttle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.allows("a@b.it"));
            t.record_failure("a@b.it");
        }
        assert!(!t.allows("a@b.it"));
        assert!(t.allows("c@d.it"));
        t.reset("a@b.it");
        assert!(t.allows("a@b.it"));
        let short = Throttle::new(1, Duration::from_millis(1));
        short.record_failure("k");
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.allows("k"), "failures age out");
    }

    #[test]
    fn cookies_and_tokens() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; bandi_session=abc; lang=en".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "lang").as_deref(), Some("en"));
        assert_eq!(cookie(&h, "nope"), None);
        let c = session_cookie("tok", true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("; Secure"));
        assert!(!session_cookie("tok", false).contains("Secure"));
        assert!(tokens_match("abcd", "abcd"));
        assert!(!tokens_match("abcd", "abce"));
        assert!(!tokens_match("abcd", "abc"));
    }
}
