//! The OpenID Connect relying party behind "Entra con SPID" and "Entra con CIE": the
//! authorization code flow with PKCE, a `state` bound to the browser that asked and a
//! `nonce` bound to the flow, and the ID token checked against the provider's published
//! keys (signature, issuer, audience, expiry, nonce) by the `openidconnect` crate. What
//! comes out is the fiscal code the provider vouches for; the use case
//! ([`bandi_app::App::sign_in_with_fiscal_code`]) decides whom it lets in.
//!
//! The provider's discovery document and keys are kept for a few minutes; its HTTP calls
//! follow no redirect (no server-side request forgery through a provider's answer), time
//! out, and read at most [`MAX_RESPONSE_BYTES`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bandi_app::AppError;
use bandi_domain::i18n::Text;
use bandi_store::SignInFlow;
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
};

use crate::site::{IdentityKind, IdentityProvider};

/// How long a provider's discovery document and keys are trusted before they are read
/// again (a provider that rotates its keys is followed within this time).
const METADATA_TTL: Duration = Duration::from_secs(300);
/// The most a provider's answer may weigh.
const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// What the provider sent back to the redirect URI.
pub struct Answer<'a> {
    pub state: &'a str,
    pub code: &'a str,
    /// RFC 9207's `iss`, when the provider sends it.
    pub iss: Option<&'a str>,
}

/// The configured providers and what was learnt of them.
pub struct IdentityProviders {
    providers: Vec<IdentityProvider>,
    http: Http,
    metadata: Mutex<HashMap<IdentityKind, (Instant, CoreProviderMetadata)>>,
}

impl std::fmt::Debug for IdentityProviders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProviders")
            .field("providers", &self.kinds())
            .finish()
    }
}

/// A failed call to the provider, as `openidconnect` wants its HTTP client's errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl IdentityProviders {
    pub fn new(providers: Vec<IdentityProvider>) -> IdentityProviders {
        let http = Http(https_client());
        IdentityProviders {
            providers,
            http,
            metadata: Mutex::new(HashMap::new()),
        }
    }

    /// The kinds offered on the sign-in page, in the file's order.
    pub fn kinds(&self) -> Vec<IdentityKind> {
        self.providers.iter().map(|p| p.kind).collect()
    }

    pub fn get(&self, kind: IdentityKind) -> Option<&IdentityProvider> {
        self.providers.iter().find(|p| p.kind == kind)
    }

    /// The provider's discovery document and keys, read again after [`METADATA_TTL`].
    async fn provider_metadata(
        &self,
        p: &IdentityProvider,
    ) -> Result<CoreProviderMetadata, AppError> {
        if let Some((at, m)) = self.metadata.lock().expect("not poisoned").get(&p.kind)
            && at.elapsed() < METADATA_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|e| unreachable(p, &e))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| unreachable(p, &e))?;
        self.metadata
            .lock()
            .expect("not poisoned")
            .insert(p.kind, (Instant::now(), m.clone()));
        Ok(m)
    }

    async fn client(
        &self,
        p: &IdentityProvider,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        AppError,
    > {
        let metadata = self.provider_metadata(p).await?;
        let redirect = RedirectUrl::new(p.redirect_uri.clone()).map_err(|e| unreachable(p, &e))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(p.client_id.clone()),
            p.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the person to sign in with `kind`, and the flow to keep until the
    /// provider sends them back.
    pub async fn start(
        &self,
        kind: IdentityKind,
        next_path: &str,
    ) -> Result<(String, SignInFlow), AppError> {
        let p = self.get(kind).ok_or(AppError::NotFound)?;
        let client = self.client(p).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in &p.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        let flow = SignInFlow {
            provider: kind.as_str().to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next_path: next_path.to_string(),
        };
        Ok((url.to_string(), flow))
    }

    /// Checks the provider's answer against the flow this browser started, exchanges the
    /// code (with the PKCE verifier) and checks the ID token; returns the fiscal code it
    /// carries, as the provider wrote it.
    pub async fn finish(
        &self,
        kind: IdentityKind,
        flow: &SignInFlow,
        answer: &Answer<'_>,
    ) -> Result<String, AppError> {
        let p = self.get(kind).ok_or(AppError::NotFound)?;
        let code = answer.code;
        // RFC 9207: a provider that names itself must be the one asked (no mix-up).
        if answer
            .iss
            .is_some_and(|iss| iss.trim_end_matches('/') != p.issuer.trim_end_matches('/'))
        {
            return Err(refused(
                "la risposta proviene da un gestore dell'identità diverso da quello scelto.",
                "the answer comes from another identity provider than the one chosen.",
            ));
        }
        if flow.provider != kind.as_str() || !crate::auth::tokens_match(&flow.state, answer.state) {
            return Err(refused(
                "la risposta del gestore dell'identità non corrisponde alla richiesta partita da questo browser.",
                "the identity provider's answer does not match the request this browser made.",
            ));
        }
        if code.is_empty() || code.len() > 2048 {
            return Err(code_refused());
        }
        let client = self.client(p).await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| unreachable(p, &e))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(_) => code_refused(),
                other => unreachable(p, &other),
            })?;
        let id_token = openidconnect::TokenResponse::id_token(&tokens).ok_or_else(|| {
            refused(
                "il gestore dell'identità non ha restituito un'identità (ID token).",
                "the identity provider returned no identity (ID token).",
            )
        })?;
        let verifier = client.id_token_verifier();
        id_token
            .claims(&verifier, &Nonce::new(flow.nonce.clone()))
            .map_err(|e| token_refused(&e))?;
        // The signature was checked on these very bytes: the claim the standard types do
        // not carry is read from the same payload.
        fiscal_code_claim(&id_token.to_string(), &p.fiscal_code_claim).ok_or_else(|| {
            refused(
                "l'identità ricevuta non contiene il codice fiscale.",
                "the identity received carries no fiscal code.",
            )
        })
    }
}

type HyperClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Full<bytes::Bytes>,
>;

/// An HTTPS (and plain HTTP, for a gateway on the same host) client whose TLS uses the ring
/// provider given here and the system's certificates; without readable system
/// certificates, no HTTPS provider is trusted (and says so when asked).
fn https_client() -> HyperClient {
    // ring, deprecated for lacking post-quantum key exchange, builds in a fraction of
    // aws-lc's time; what it carries (a code, an ID token) lives minutes.
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = hyper_rustls::HttpsConnectorBuilder::new();
    let connector = match builder.with_provider_and_native_roots(provider.clone()) {
        Ok(b) => b.https_or_http().enable_http1().build(),
        Err(e) => {
            tracing::warn!(error = %e, "no system certificates: HTTPS identity providers will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http()
                .enable_http1()
                .build()
        }
    };
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector)
}

/// The relying party's HTTP client, as `openidconnect` calls it: no redirect followed, a
/// time limit, a size limit.
struct Http(HyperClient);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<openidconnect::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            tokio::time::timeout(Duration::from_secs(10), send(&self.0, request))
                .await
                .map_err(|_| HttpError("the provider did not answer within 10 s".into()))?
        })
    }
}

async fn send(
    client: &HyperClient,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let request =
        axum::http::Request::from_parts(parts, http_body_util::Full::new(bytes::Bytes::from(body)));
    let response = client
        .request(request)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let (parts, body) = response.into_parts();
    let body = http_body_util::Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map_err(|e| HttpError(format!("the provider's answer: {e}")))?
        .to_bytes();
    Ok(axum::http::Response::from_parts(parts, body.to_vec()))
}

/// The string claim `name` of a (verified) JWT's payload.
fn fiscal_code_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get(name)?.as_str().map(str::to_string)
}

fn refused(it: &str, en: &str) -> AppError {
    AppError::IdentityRefused(Box::new(Text::new(it, en)))
}

fn code_refused() -> AppError {
    refused(
        "il codice di autorizzazione non è stato accettato dal gestore dell'identità (già usato, scaduto o non di questa richiesta).",
        "the identity provider did not accept the authorization code (used already, expired, or not of this request).",
    )
}

fn token_refused(e: &ClaimsVerificationError) -> AppError {
    tracing::warn!(error = %e, "ID token refused");
    match e {
        ClaimsVerificationError::Expired(_) => refused(
            "l'identità ricevuta è scaduta.",
            "the identity received has expired.",
        ),
        ClaimsVerificationError::InvalidNonce(_) => refused(
            "l'identità ricevuta non appartiene a questa richiesta di accesso.",
            "the identity received does not belong to this sign-in request.",
        ),
        ClaimsVerificationError::SignatureVerification(_) => refused(
            "la firma dell'identità ricevuta non è verificabile con le chiavi pubblicate dal gestore.",
            "the signature of the identity received cannot be verified with the provider's published keys.",
        ),
        _ => refused(
            "l'identità ricevuta non è valida per questo servizio.",
            "the identity received is not valid for this service.",
        ),
    }
}

/// The provider cannot be reached or answers nonsense: the person may retry later or use
/// e-mail and password.
fn unreachable(p: &IdentityProvider, e: &dyn std::fmt::Display) -> AppError {
    tracing::warn!(provider = p.kind.as_str(), issuer = %p.issuer, error = %e, "identity provider unreachable");
    AppError::IdentityUnavailable(p.kind.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fiscal_code_is_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"x","fiscal_number":"TINIT-RSSMRA80A01H501U","n":1}"#);
        let jwt = format!("e30.{payload}.c2ln");
        assert_eq!(
            fiscal_code_claim(&jwt, "fiscal_number").as_deref(),
            Some("TINIT-RSSMRA80A01H501U")
        );
        assert_eq!(fiscal_code_claim(&jwt, "n"), None);
        assert_eq!(fiscal_code_claim(&jwt, "missing"), None);
        assert_eq!(fiscal_code_claim("no-dots", "sub"), None);
        assert_eq!(fiscal_code_claim("a.!!!.c", "sub"), None);
    }
}
