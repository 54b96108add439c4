//! The load of a rehearsal: realistic bodies, the plan of every synthetic entity (a bad
//! input first for some, the submission, a retry for some), the concurrent clients that
//! carry them out, and GET /health at the same concurrency for comparison.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::Method;
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::http::{self, Client};

/// A small deterministic generator (splitmix64): the same `--seed` gives the same bodies.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.range(0, i as u64) as usize;
            items.swap(i, j);
        }
    }
}

/// A bad input a rehearsal sends, and what the server must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BadInput {
    /// An amount with a fraction of a cent: 422.
    FloatAmount,
    /// The body cut in half: 400.
    BrokenJson,
    /// A token nobody issued: 401.
    UnknownToken,
}

impl BadInput {
    const ALL: [BadInput; 3] = [
        BadInput::FloatAmount,
        BadInput::BrokenJson,
        BadInput::UnknownToken,
    ];

    pub fn expected(self) -> (u16, &'static str) {
        match self {
            BadInput::FloatAmount => (422, "invalid_application"),
            BadInput::BrokenJson => (400, "invalid_json"),
            BadInput::UnknownToken => (401, "unauthorized"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BadInput::FloatAmount => "float_amount",
            BadInput::BrokenJson => "broken_json",
            BadInput::UnknownToken => "unknown_token",
        }
    }
}

/// What one request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// The entity's submission (and its resends after a 503 or a network error).
    Submit,
    /// The same body again after the first answer: 200 and the first receipt.
    Retry,
    Bad(BadInput),
}

/// One answer: status 0 is a network error (no HTTP answer).
#[derive(Debug, Clone)]
pub struct Answer {
    pub kind: Kind,
    pub status: u16,
    pub code: Option<String>,
    pub latency: Duration,
    /// Seconds of the Retry-After header, when there was one.
    pub retry_after: Option<u64>,
}

/// What one entity's plan ended with.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub entity: usize,
    /// The receipt of the submission (from its 201, or its 200 if an earlier attempt got
    /// no answer), or the last status and code it got.
    pub receipt: Result<Value, (u16, Option<String>)>,
    /// Whether the receipt came with 201.
    pub created: bool,
    /// The answer to the retry: status and body.
    pub retry: Option<(u16, Value)>,
    /// Bad inputs sent and what came back.
    pub bad: Option<(BadInput, u16, Option<String>)>,
}

/// One synthetic entity's part in the rehearsal, its request ready to send.
#[derive(Debug, Clone)]
pub struct Plan {
    pub entity: usize,
    /// `Bearer <token>`.
    pub bearer: HeaderValue,
    /// The address it comes from, as `X-Forwarded-For` names it (none: the connection's).
    pub forwarded_for: Option<HeaderValue>,
    pub body: Bytes,
    pub bad: Option<BadInput>,
    pub retry: bool,
}

impl Plan {
    pub fn requests(&self) -> u64 {
        1 + self.bad.is_some() as u64 + self.retry as u64
    }
}

/// A realistic application of a smart-working plan: one to four budget lines between
/// 20,000 and 150,000 € and the three indicators the call requires.
pub fn body(entity: usize, rng: &mut Rng) -> Value {
    const LINES: [(&str, &[&str]); 4] = [
        (
            "planning",
            &[
                "Progettazione del lavoro agile e gestione del cambiamento",
                "Regolamento per il lavoro agile e mappatura delle attività",
                "Avvio del progetto e accompagnamento dei dirigenti",
            ],
        ),
        (
            "training",
            &[
                "Formazione di dipendenti e dirigenti al lavoro agile",
                "Corsi sulle competenze digitali e sulla sicurezza informatica",
                "Formazione dei responsabili sulla gestione per obiettivi",
            ],
        ),
        (
            "technology",
            &[
                "Migrazione dei servizi al cloud di Lepida",
                "Virtualizzazione delle postazioni di lavoro",
                "Strumenti di collaborazione e processi interamente digitali",
            ],
        ),
        (
            "devices",
            &[
                "Portatili per il personale in lavoro agile",
                "Licenze software per il lavoro a distanza",
            ],
        ),
    ];
    let mut order = [0usize, 1, 2, 3];
    rng.shuffle(&mut order);
    let n = rng.range(1, 4) as usize;
    let mut chosen = order[..n].to_vec();
    // Devices alone have no eligible cost (they count up to 20% of the rest): not valid.
    if chosen == [3] {
        chosen.push(2);
    }
    chosen.sort_unstable();
    let lines: Vec<Value> = chosen
        .iter()
        .map(|&c| {
            let (category, descriptions) = LINES[c];
            let d = descriptions[rng.range(0, descriptions.len() as u64 - 1) as usize];
            json!({
                "category": category,
                "description": d,
                "amount_cents": rng.range(2_000_000, 15_000_000),
            })
        })
        .collect();
    let staff = rng.range(15, 2_500);
    let before = rng.range(0, staff / 10);
    let target = rng.range(before + 1, staff);
    let mut indicators = json!({
        "staff_total": staff,
        "agile_workers_before": before,
        "agile_workers_target": target,
    });
    if rng.range(0, 1) == 1 {
        indicators["people_to_train"] = json!(rng.range(1, staff));
    }
    json!({
        "title": format!("Lavoro agile nel Comune di prova {entity}"),
        "summary": format!(
            "Piano in tre parti del Comune di prova {entity}: avvio e gestione del cambiamento, \
             piano di formazione per {staff} dipendenti, roadmap tecnologica verso il cloud."
        ),
        "lines": lines,
        "indicators": indicators,
    })
}

/// How a rehearsal's entities behave: the shares that send a bad input first and that send
/// their body twice, and over how many network addresses they are spread.
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    pub bad: f64,
    pub retry: f64,
    pub addresses: u64,
}

/// The plans of `entities` (index, token) pairs: exactly `round(share × N)` of them send a
/// bad input first, and as many (chosen independently) send their body a second time; with
/// more than one address, entity k comes from address k mod `addresses` (10.x.y.z).
pub fn plans(entities: Vec<(usize, String)>, shares: Shares, rng: &mut Rng) -> Vec<Plan> {
    let n = entities.len();
    let count = |share: f64| ((share * n as f64).round() as usize).min(n);
    let mut bad_pick: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut bad_pick);
    let mut bad = vec![None; n];
    for (k, &i) in bad_pick[..count(shares.bad)].iter().enumerate() {
        bad[i] = Some(BadInput::ALL[k % BadInput::ALL.len()]);
    }
    let mut retry_pick: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut retry_pick);
    let mut retry = vec![false; n];
    for &i in &retry_pick[..count(shares.retry)] {
        retry[i] = true;
    }
    entities
        .into_iter()
        .enumerate()
        .map(|(k, (entity, token))| Plan {
            entity,
            body: Bytes::from(body(entity, rng).to_string()),
            bearer: http::bearer(&token),
            forwarded_for: (shares.addresses > 1).then(|| address(k as u64 % shares.addresses)),
            bad: bad[k],
            retry: retry[k],
        })
        .collect()
}

/// The `i`-th synthetic address, in 10.0.0.0/8.
fn address(i: u64) -> HeaderValue {
    let [_, _, _, _, _, a, b, c] = (i + 1).to_be_bytes();
    HeaderValue::from_str(&format!("10.{a}.{b}.{c}")).expect("an IPv4 address is ASCII")
}

/// Everything the submission phase saw.
pub struct LoadResult {
    pub answers: Vec<Answer>,
    pub outcomes: Vec<Outcome>,
    pub elapsed: Duration,
}

/// Resends after a 503 or a network error, as a careful client would.
const MAX_ATTEMPTS: usize = 10;

/// How long a careful client waits before attempt `attempt + 1`: what the server's
/// Retry-After said (seconds), and a little more at each attempt.
fn wait_after_refusal(retry_after: Option<u64>, attempt: usize) -> Duration {
    Duration::from_millis(retry_after.unwrap_or(0) * 1000 + 50 * attempt as u64)
}

/// The first answer of `send` that is not a refusal for load (429, 503), waiting as the
/// server says between attempts; the last one if every attempt was refused. Each answer
/// is recorded as `kind`.
async fn past_refusals<Fut>(answers: &mut Vec<Answer>, kind: Kind, send: impl Fn() -> Fut) -> Posted
where
    Fut: std::future::Future<Output = Posted>,
{
    let mut attempt = 1;
    loop {
        let a = send().await;
        answers.push(a.answer(kind));
        if !matches!(a.status, 429 | 503) || attempt == MAX_ATTEMPTS {
            return a;
        }
        tokio::time::sleep(wait_after_refusal(a.retry_after, attempt)).await;
        attempt += 1;
    }
}

/// Carries out every plan from `clients` concurrent tasks pulling from one queue.
pub async fn run(
    client: &Arc<Client>,
    submit_url: &str,
    plans: Vec<Plan>,
    clients: usize,
    rate: Option<u64>,
    bar: &ProgressBar,
) -> LoadResult {
    let plans = Arc::new(plans);
    let started = Instant::now();
    let tasks = match rate {
        None => closed_loop(client, submit_url, &plans, clients, bar),
        Some(per_s) => open_loop(client, submit_url, &plans, clients, per_s, bar).await,
    };
    let mut answers = Vec::new();
    let mut raw = Vec::new();
    for t in tasks {
        let (a, o) = t.await.expect("a client task panicked");
        answers.extend(a);
        raw.extend(o);
    }
    let elapsed = started.elapsed();
    // Receipts are parsed once the clock has stopped.
    let mut outcomes: Vec<Outcome> = raw.into_iter().map(RawOutcome::parse).collect();
    outcomes.sort_by_key(|o| o.entity);
    LoadResult {
        answers,
        outcomes,
        elapsed,
    }
}

type Task = tokio::task::JoinHandle<(Vec<Answer>, Vec<RawOutcome>)>;

/// An [`Outcome`] with its receipts still as the bytes that came back.
struct RawOutcome {
    entity: usize,
    receipt: Result<Bytes, (u16, Option<String>)>,
    created: bool,
    retry: Option<(u16, Bytes)>,
    bad: Option<(BadInput, u16, Option<String>)>,
}

impl RawOutcome {
    fn parse(self) -> Outcome {
        let json = |b: &Bytes| serde_json::from_slice(b).unwrap_or(Value::Null);
        Outcome {
            entity: self.entity,
            receipt: self.receipt.map(|b| json(&b)),
            created: self.created,
            retry: self.retry.map(|(s, b)| (s, json(&b))),
            bad: self.bad,
        }
    }
}

/// `clients` tasks, each sending its next plan when it has the answer to the last.
fn closed_loop(
    client: &Arc<Client>,
    submit_url: &str,
    plans: &Arc<Vec<Plan>>,
    clients: usize,
    bar: &ProgressBar,
) -> Vec<Task> {
    let next = Arc::new(AtomicUsize::new(0));
    (0..clients)
        .map(|_| {
            let (client, plans, next, bar) =
                (client.clone(), plans.clone(), next.clone(), bar.clone());
            let path = http::path_of(submit_url).to_string();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(plan) = plans.get(i) else { break };
                    outcomes.push(carry_out(&client, &path, plan, &mut answers, &bar).await);
                }
                (answers, outcomes)
            })
        })
        .collect()
}

/// One plan started every 1/`per_s` seconds, whatever the answers, with at most
/// `clients` in progress (the dispatcher waits beyond that, and says so in the report
/// through a lower rate).
async fn open_loop(
    client: &Arc<Client>,
    submit_url: &str,
    plans: &Arc<Vec<Plan>>,
    clients: usize,
    per_s: u64,
    bar: &ProgressBar,
) -> Vec<Task> {
    let permits = Arc::new(tokio::sync::Semaphore::new(clients));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(plans.len());
    for i in 0..plans.len() {
        let at = start + Duration::from_secs_f64(i as f64 / per_s as f64);
        tokio::time::sleep_until(at).await;
        let permit = permits.clone().acquire_owned().await.expect("never closed");
        let (client, plans, bar) = (client.clone(), plans.clone(), bar.clone());
        let path = http::path_of(submit_url).to_string();
        tasks.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let outcome = carry_out(&client, &path, &plans[i], &mut answers, &bar).await;
            drop(permit);
            (answers, vec![outcome])
        }));
    }
    tasks
}

async fn carry_out(
    client: &Client,
    path: &str,
    plan: &Plan,
    answers: &mut Vec<Answer>,
    bar: &ProgressBar,
) -> RawOutcome {
    let mut outcome = RawOutcome {
        entity: plan.entity,
        receipt: Err((0, None)),
        created: false,
        retry: None,
        bad: None,
    };
    if let Some(bad) = plan.bad {
        let text = std::str::from_utf8(&plan.body).expect("our own JSON");
        let (bearer, body) = match bad {
            BadInput::FloatAmount => {
                let mut v: Value = serde_json::from_str(text).expect("our own JSON");
                v["lines"][0]["amount_cents"] = json!(1_500_000.5);
                (plan.bearer.clone(), Bytes::from(v.to_string()))
            }
            BadInput::BrokenJson => (plan.bearer.clone(), plan.body.slice(..plan.body.len() / 2)),
            BadInput::UnknownToken => (
                http::bearer(&format!("bnd_{:048x}", plan.entity as u128 * 0x9E37_79B9)),
                plan.body.clone(),
            ),
        };
        // A refusal for load says nothing of the input: resent, as a valid one is (a
        // rehearsal on a loaded server answered 51 of them 503).
        let from = plan.forwarded_for.as_ref();
        let a = past_refusals(answers, Kind::Bad(bad), || {
            post(client, path, &bearer, from, body.clone())
        })
        .await;
        outcome.bad = Some((bad, a.status, a.code));
        bar.inc(1);
    }

    let mut got_no_answer = false;
    for attempt in 1..=MAX_ATTEMPTS {
        let a = send_plan(client, path, plan).await;
        answers.push(a.answer(Kind::Submit));
        match a.status {
            201 => {
                outcome.receipt = Ok(a.body);
                outcome.created = true;
                break;
            }
            // After an attempt that got no answer, the receipt of the one that did land.
            200 if got_no_answer => {
                outcome.receipt = Ok(a.body);
                break;
            }
            // Refused for load: wait as the server says (Retry-After), then send again.
            0 | 429 | 503 if attempt < MAX_ATTEMPTS => {
                got_no_answer |= a.status == 0;
                tokio::time::sleep(wait_after_refusal(a.retry_after, attempt)).await;
            }
            _ => {
                outcome.receipt = Err((a.status, a.code));
                break;
            }
        }
    }
    bar.inc(1);

    if plan.retry && outcome.receipt.is_ok() {
        let a = past_refusals(answers, Kind::Retry, || send_plan(client, path, plan)).await;
        outcome.retry = Some((a.status, a.body));
    }
    if plan.retry {
        bar.inc(1);
    }
    outcome
}

/// One POST's answer as the load phase keeps it.
struct Posted {
    status: u16,
    body: Bytes,
    /// The error's code, read only from answers that are not a success.
    code: Option<String>,
    latency: Duration,
    retry_after: Option<u64>,
}

impl Posted {
    fn answer(&self, kind: Kind) -> Answer {
        Answer {
            kind,
            status: self.status,
            code: self.code.clone(),
            latency: self.latency,
            retry_after: self.retry_after,
        }
    }
}

/// POSTs the plan's own body, as its entity, from its address.
async fn send_plan(client: &Client, path: &str, plan: &Plan) -> Posted {
    let from = plan.forwarded_for.as_ref();
    post(client, path, &plan.bearer, from, plan.body.clone()).await
}

/// POSTs a body; status 0 when no HTTP answer came.
async fn post(
    client: &Client,
    path: &str,
    bearer: &HeaderValue,
    forwarded_for: Option<&HeaderValue>,
    body: Bytes,
) -> Posted {
    let started = Instant::now();
    let a = client
        .request(Method::POST, path, Some(bearer), forwarded_for, Some(body))
        .await;
    let latency = started.elapsed();
    let code = if (200..300).contains(&a.status) {
        None
    } else {
        serde_json::from_slice(&a.body)
            .ok()
            .and_then(|v: Value| error_code(&v))
    };
    Posted {
        status: a.status,
        body: a.body,
        code,
        latency,
        retry_after: a.retry_after,
    }
}

pub fn error_code(v: &Value) -> Option<String> {
    v.pointer("/error/code")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// GET /health `requests` times from `clients` concurrent tasks: latencies of the 200s,
/// other answers by status, and the wall time.
pub async fn health(
    client: &Arc<Client>,
    url: &str,
    requests: usize,
    clients: usize,
    bar: &ProgressBar,
) -> (Vec<Duration>, BTreeMap<u16, u64>, Duration) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, next, bar) = (client.clone(), next.clone(), bar.clone());
        let path = http::path_of(url).to_string();
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut other: BTreeMap<u16, u64> = BTreeMap::new();
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                let t = Instant::now();
                let status = client
                    .request(Method::GET, &path, None, None, None)
                    .await
                    .status;
                if status == 200 {
                    ok.push(t.elapsed());
                } else {
                    *other.entry(status).or_default() += 1;
                }
                bar.inc(1);
            }
            (ok, other)
        }));
    }
    let mut ok = Vec::with_capacity(requests);
    let mut other = BTreeMap::new();
    for t in tasks {
        let (o, b) = t.await.expect("a health task panicked");
        ok.extend(o);
        for (s, n) in b {
            *other.entry(s).or_default() += n;
        }
    }
    (ok, other, started.elapsed())
}

/// Latency figures in milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(mut samples: Vec<Duration>) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let at = |p: f64| {
            let rank = (p * samples.len() as f64).ceil() as usize;
            ms(samples[rank.clamp(1, samples.len()) - 1])
        };
        Latency {
            count: samples.len(),
            mean: samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64,
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: ms(*samples.last().expect("not empty")),
        }
    }

    pub fn to_json(self) -> Value {
        json!({
            "count": self.count,
            "mean_ms": round3(self.mean),
            "p50_ms": round3(self.p50),
            "p95_ms": round3(self.p95),
            "p99_ms": round3(self.p99),
            "max_ms": round3(self.max),
        })
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_deterministic_and_within_the_ranges() {
        let a = body(7, &mut Rng::new(42));
        let b = body(7, &mut Rng::new(42));
        assert_eq!(a, b);
        let mut rng = Rng::new(1);
        for i in 0..500 {
            let v = body(i, &mut rng);
            let lines = v["lines"].as_array().unwrap();
            assert!((1..=4).contains(&lines.len()));
            for l in lines {
                let c = l["amount_cents"].as_u64().unwrap();
                assert!((2_000_000..=15_000_000).contains(&c));
            }
            let before = v["indicators"]["agile_workers_before"].as_u64().unwrap();
            let target = v["indicators"]["agile_workers_target"].as_u64().unwrap();
            assert!(target > before);
        }
    }

    #[test]
    fn shares_are_exact_counts() {
        let entities: Vec<(usize, String)> = (1..=200).map(|i| (i, format!("t{i}"))).collect();
        let shares = Shares {
            bad: 0.05,
            retry: 0.10,
            addresses: 7,
        };
        let p = plans(entities, shares, &mut Rng::new(3));
        assert_eq!(p.iter().filter(|p| p.bad.is_some()).count(), 10);
        assert_eq!(p.iter().filter(|p| p.retry).count(), 20);
        let kinds: std::collections::HashSet<_> = p.iter().filter_map(|p| p.bad).collect();
        assert_eq!(kinds.len(), 3);
        let addresses: std::collections::HashSet<_> =
            p.iter().map(|p| p.forwarded_for.clone().unwrap()).collect();
        assert_eq!(addresses.len(), 7, "entities spread over the addresses");
        assert_eq!(p[0].forwarded_for.as_ref().unwrap(), "10.0.0.1");
        assert_eq!(address(65_535), "10.1.0.0");
        let one = Shares {
            addresses: 1,
            ..shares
        };
        let single = plans(vec![(1, "t1".into())], one, &mut Rng::new(3));
        assert!(single[0].forwarded_for.is_none(), "one address: no header");
    }

    /// A server that refuses the first `refusals` requests for load (503, Retry-After: 0),
    /// then answers 201 to JSON and 400 `invalid_json` to anything else: HTTP/1.1 by
    /// hand, one request per connection.
    async fn refusing_server(refusals: usize) -> String {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..n]);
                        if let Some(i) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&request[..i]).to_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse().unwrap());
                            break (i + 4, length);
                        }
                    };
                    while request.len() < head_end + length {
                        let n = socket.read(&mut buf).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        request.extend_from_slice(&buf[..n]);
                    }
                    let body = &request[head_end..head_end + length];
                    let (status, extra, json) = if seen.fetch_add(1, Ordering::SeqCst) < refusals {
                        (
                            "503 Service Unavailable",
                            "Retry-After: 0\r\n",
                            r#"{"error":{"code":"overloaded"}}"#,
                        )
                    } else if serde_json::from_slice::<Value>(body).is_ok() {
                        ("201 Created", "", "{}")
                    } else {
                        (
                            "400 Bad Request",
                            "",
                            r#"{"error":{"code":"invalid_json"}}"#,
                        )
                    };
                    let answer = format!(
                        "HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
                        json.len()
                    );
                    let _ = socket.write_all(answer.as_bytes()).await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn a_bad_input_refused_for_load_is_resent_until_it_gets_its_own_answer() {
        let url = refusing_server(2).await;
        let client = Client::new(&url, Duration::from_secs(5)).await.unwrap();
        let plan = Plan {
            entity: 1,
            bearer: http::bearer("bnd_test"),
            forwarded_for: None,
            body: Bytes::from_static(br#"{"lines":[{"amount_cents":100}]}"#),
            bad: Some(BadInput::BrokenJson),
            retry: false,
        };
        let mut answers = Vec::new();
        let outcome = carry_out(
            &client,
            "/submit",
            &plan,
            &mut answers,
            &ProgressBar::hidden(),
        )
        .await;
        let (bad, status, code) = outcome.bad.expect("the bad input's answer");
        assert_eq!(bad, BadInput::BrokenJson);
        assert_eq!((status, code.as_deref()), (400, Some("invalid_json")));
        assert!(
            outcome.receipt.is_ok() && outcome.created,
            "then the valid one"
        );
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        assert_eq!(statuses, [503, 503, 400, 201]);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let l = Latency::of((1..=100).map(Duration::from_millis).collect());
        assert_eq!((l.p50, l.p95, l.p99, l.max), (50.0, 95.0, 99.0, 100.0));
        assert_eq!(Latency::of(vec![]).count, 0);
    }
}
