//! The load phases' HTTP/1.1 client: keep-alive connections to one server, each request
//! built from bytes prepared before the clock starts, each answer kept as bytes (parsed
//! after the phase). The load generator shares the machine's cores with the server it
//! measures, so every microsecond it spends is one the server does not get: a general
//! client (reqwest: its pool, URL handling and middleware) cost about 50 µs of CPU per
//! submission, more than half of what the server spends on it.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What came back: status (0: no HTTP answer), body and Retry-After in seconds.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    pub retry_after: Option<u64>,
}

impl Answer {
    fn none() -> Answer {
        Answer {
            status: 0,
            body: Bytes::new(),
            retry_after: None,
        }
    }
}

/// Connections to one `http://host:port`, reused as a pool: a request takes an idle one
/// or opens a new one, and gives it back once its answer has been read.
pub struct Client {
    addr: SocketAddr,
    host: HeaderValue,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
    timeout: Duration,
}

impl Client {
    /// `base`: `http://host:port` (no TLS: a rehearsal runs next to its server).
    pub async fn new(base: &str, timeout: Duration) -> anyhow::Result<Client> {
        let Some(authority) = base.strip_prefix("http://") else {
            bail!("the rehearsal speaks plain HTTP: {base} does not start with http://");
        };
        let authority = authority.split('/').next().unwrap_or_default();
        let addr = tokio::net::lookup_host(authority)
            .await
            .with_context(|| format!("cannot resolve {authority}"))?
            .next()
            .with_context(|| format!("{authority} has no address"))?;
        Ok(Client {
            addr,
            host: HeaderValue::from_str(authority).context("the host of the target")?,
            idle: Mutex::new(Vec::new()),
            timeout,
        })
    }

    /// `path` with its query; `bearer`: the `Authorization` header's value, if any;
    /// `forwarded_for`: the `X-Forwarded-For` a proxy would add, if any.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&HeaderValue>,
        forwarded_for: Option<&HeaderValue>,
        body: Option<Bytes>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        if let Some(b) = bearer {
            req = req.header(AUTHORIZATION, b.clone());
        }
        if let Some(a) = forwarded_for {
            req = req.header("x-forwarded-for", a.clone());
        }
        if body.is_some() {
            req = req.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let Ok(req) = req.body(Full::new(body.unwrap_or_default())) else {
            return Answer::none();
        };
        match tokio::time::timeout(self.timeout, self.exchange(req)).await {
            Ok(Some(answer)) => answer,
            _ => Answer::none(),
        }
    }

    async fn exchange(&self, req: Request<Full<Bytes>>) -> Option<Answer> {
        let mut sender = self.connection().await?;
        let res = sender.send_request(req).await.ok()?;
        let status = res.status().as_u16();
        let retry_after = res
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        // A copy: the collected bytes are a slice of the connection's read buffer, which
        // they would keep alive (8 KiB or more each) for as long as the answer is kept.
        let body = Bytes::copy_from_slice(&res.into_body().collect().await.ok()?.to_bytes());
        self.idle.lock().expect("never poisoned").push(sender);
        Some(Answer {
            status,
            body,
            retry_after,
        })
    }

    /// An idle connection ready for a request, or a new one.
    async fn connection(&self) -> Option<SendRequest<Full<Bytes>>> {
        loop {
            let Some(mut sender) = self.idle.lock().expect("never poisoned").pop() else {
                break;
            };
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
        let stream = TcpStream::connect(self.addr).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await.ok()?;
        tokio::spawn(conn);
        sender.ready().await.ok()?;
        Some(sender)
    }
}

/// `Bearer <token>` as a header value, built once per plan.
pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("tokens are ASCII")
}

/// The path and query of `url` (`http://host:port/path?q` → `/path?q`).
pub fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.find('/').map_or("/", |i| &rest[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_query() {
        assert_eq!(
            path_of("http://127.0.0.1:8080/api/v1/health"),
            "/api/v1/health"
        );
        assert_eq!(path_of("http://h:1/a/b?c=d"), "/a/b?c=d");
        assert_eq!(path_of("http://h:1"), "/");
    }

    #[tokio::test]
    async fn only_plain_http_targets() {
        let err = Client::new("https://127.0.0.1:8443", Duration::from_secs(1))
            .await
            .err()
            .expect("TLS is refused");
        assert!(err.to_string().contains("plain HTTP"), "{err}");
        let c = Client::new("http://127.0.0.1:8080/api/v1", Duration::from_secs(1))
            .await
            .expect("a plain target");
        assert_eq!(c.host, "127.0.0.1:8080");
    }

    #[tokio::test]
    async fn no_server_is_status_zero_not_a_panic() {
        // A port nobody listens on (bound, then released).
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let c = Client::new(&format!("http://{addr}"), Duration::from_secs(2))
            .await
            .unwrap();
        let a = c
            .request(Method::GET, "/api/v1/health", None, None, None)
            .await;
        assert_eq!(a.status, 0);
        assert!(a.body.is_empty());
    }
}
