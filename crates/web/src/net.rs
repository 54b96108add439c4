//! The network side of the server: who the client is (a forwarded address counts only
//! from a configured proxy), and the accept loop that keeps slow and greedy clients from
//! taking the server down: a header-read timeout, a cap on connections in all and per
//! address, graceful shutdown.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderMap;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// How the server meets the network, set once at start (`bandi serve` flags).
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed. None by
    /// default: a client that writes those headers itself is not believed.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a client may take to send a request's headers (also the idle time of a
    /// kept-alive connection).
    pub header_timeout: Duration,
    /// How long a request's body may pause between two pieces, and take in all.
    pub body_idle_timeout: Duration,
    pub body_deadline: Duration,
    /// Open connections at once, in all and from one address (a trusted proxy has no
    /// per-address cap: everyone behind it shares its address).
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    /// Live streams (server-sent events) at once from one address and of one session.
    pub max_streams_per_address: usize,
    pub max_streams_per_session: usize,
    /// Form saves with files in progress at once, in all and of one session.
    pub max_uploads: usize,
    pub max_uploads_per_session: usize,
    /// Submissions in progress from one address. Generous on purpose: the bodies of a
    /// region often reach the internet through one regional network (Lepida, in
    /// Emilia-Romagna), so one address may stand for hundreds of them.
    pub max_submissions_per_address: usize,
}

impl Default for NetConfig {
    fn default() -> NetConfig {
        NetConfig {
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(20),
            body_deadline: Duration::from_secs(300),
            max_connections: 16_384,
            // Behind a regional NAT without a proxy, a whole region's town halls may share
            // one address on the click day: the cap stops one client from taking every
            // descriptor, not a region.
            max_connections_per_address: 4_096,
            max_streams_per_address: 32,
            max_streams_per_session: 4,
            max_uploads: 16,
            max_uploads_per_session: 2,
            max_submissions_per_address: 512,
        }
    }
}

impl NetConfig {
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not itself a trusted proxy (the one the first
    /// trusted hop saw).
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> String {
        let Some(peer) = peer else {
            return "unknown".into();
        };
        let peer_ip = peer.ip().to_canonical();
        if !self.is_trusted(peer_ip) {
            return peer_ip.to_string();
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .map(|a| a.to_canonical())
            .collect();
        forwarded
            .iter()
            .rev()
            .find(|a| !self.is_trusted(**a))
            .unwrap_or(&peer_ip)
            .to_string()
    }

    /// Whether the request reached the proxy over TLS: only a trusted proxy says so.
    pub fn is_secure(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
        peer.is_some_and(|p| self.is_trusted(p.ip()))
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
    }
}

/// Open connections per address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

struct AddressGuard {
    map: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn try_take(self: &Arc<Self>, ip: IpAddr, limit: usize) -> Option<AddressGuard> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(AddressGuard {
            map: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressGuard {
    fn drop(&mut self) {
        let mut map = self.map.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// The soft limit of open files of this process, where the system tells it.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish (at most 30 s), and returns.
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    config: &NetConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Never more connections than file descriptors (less a margin for the database and
    // files): past that, accept fails and nobody is answered, the health check included.
    let max = match open_files_limit() {
        Some(limit) => config
            .max_connections
            .min(limit.saturating_sub(512).max(64)),
        None => config.max_connections,
    };
    let total = Arc::new(Semaphore::new(max));
    let per_address = Arc::new(PerAddress::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_timeout)
        .keep_alive(true)
        // Above the limits the middleware enforces and answers itself (431 in JSON or a
        // page): hyper's own 431 has no body.
        .max_headers(256)
        .max_buf_size(256 * 1024);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                // Out of file descriptors, or a connection reset before it was accepted:
                // wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.as_mut() => break,
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection refused: too many open");
            continue;
        };
        let ip = peer.ip().to_canonical();
        let guard = if config.is_trusted(ip) {
            None
        } else {
            match per_address.try_take(ip, config.max_connections_per_address) {
                Some(g) => Some(g),
                None => {
                    tracing::debug!(%peer, "connection refused: too many from this address");
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = app.clone().map_request(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let watched = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = watched.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(guard);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            tracing::warn!("shutdown: requests still in flight after 30 s were dropped");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(proxies: &[&str]) -> NetConfig {
        NetConfig {
            trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(),
            ..NetConfig::default()
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "1.2.3.4, 5.6.7.8".parse().unwrap());
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        let client: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        // Nobody trusted: the peer, whatever the headers say.
        let none = config(&[]);
        assert_eq!(none.client_address(&h, Some(client)), "203.0.113.9");
        assert!(!none.is_secure(&h, Some(client)));
        // Behind the Region's proxy: the hop the proxy added.
        let one = config(&["10.0.0.0/8"]);
        assert_eq!(one.client_address(&h, Some(proxy)), "5.6.7.8");
        assert!(one.is_secure(&h, Some(proxy)));
        assert_eq!(one.client_address(&h, Some(client)), "203.0.113.9");
        // Two proxies in a row: the first address not a proxy, from the right.
        h.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8, 10.9.9.9".parse().unwrap(),
        );
        assert_eq!(one.client_address(&h, Some(proxy)), "5.6.7.8");
        // A proxy that forwards garbage: the proxy itself.
        h.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(one.client_address(&h, Some(proxy)), "10.0.0.1");
        assert_eq!(one.client_address(&h, None), "unknown");
        // IPv4 seen as IPv4-mapped IPv6 is the same address.
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:5000".parse().unwrap();
        assert!(one.is_trusted(mapped.ip()));
    }

    #[test]
    fn the_open_files_limit_is_read() {
        if std::path::Path::new("/proc/self/limits").exists() {
            assert!(open_files_limit().is_some_and(|n| n > 0));
        }
    }

    #[test]
    fn addresses_are_capped_and_given_back() {
        let p = Arc::new(PerAddress::default());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = p.try_take(ip, 2).unwrap();
        let _b = p.try_take(ip, 2).unwrap();
        assert!(p.try_take(ip, 2).is_none());
        assert!(p.try_take("127.0.0.2".parse().unwrap(), 2).is_some());
        drop(a);
        assert!(p.try_take(ip, 2).is_some());
    }
}
