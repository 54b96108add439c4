//! The outbox's sender: it turns the notices the store wrote (in the same transaction as
//! the events they tell of) into deliveries, one per address of the entity, and sends them
//! by SMTP. A delivery is marked sent only after the relay accepted it, so a crash loses
//! nothing; a crash between the relay's answer and the mark sends it again, under the same
//! `Message-ID`, which lets the receiver tell the resend.

use std::time::Duration;

use bandi_store::Delivery;
use jiff::{SignedDuration, Timestamp};
use lettre::message::{Mailbox, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::watch;

use crate::{App, AppError};

/// How long one SMTP command may take before the attempt counts as failed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the sender holds a delivery it took: another sender may take it after.
const LEASE: Duration = Duration::from_secs(60);
/// A whole send (connection and every command) ends before the lease does, so that no
/// other sender takes the delivery while this one may still be sending it.
const SEND_TIMEOUT: Duration = Duration::from_secs(45);
/// Integration deadlines this close get their reminder.
const REMIND_WITHIN: SignedDuration = SignedDuration::from_hours(48);
/// After this many attempts a delivery is given up.
const MAX_ATTEMPTS: i64 = 10;
const FIRST_BACKOFF: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(3_600);

/// Sends the outbox's messages through one SMTP relay.
///
/// Only plain SMTP to a relay is spoken (`smtp://host:port`: no TLS, no authentication):
/// the Region's internal relay, which the platform reaches over its own network. PEC
/// mailboxes and providers that require TLS are reached through that relay, which holds
/// their credentials and certificates; none of them lives in this process.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for the relay at `url` (`smtp://host:port`, the port always written) that
    /// sends as `from`. Anything else (another scheme, credentials, a path, no port) is
    /// refused rather than guessed.
    pub fn from_url(url: &str, from: &str) -> Result<Mailer, AppError> {
        let (host, port) = relay_address(url).ok_or_else(|| AppError::InvalidSmtp(redact(url)))?;
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|_| AppError::InvalidSmtp(from.to_string()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(COMMAND_TIMEOUT))
            .build();
        Ok(Mailer { transport, from })
    }

    /// The message of one delivery. `Err` when it cannot be written (an address that is
    /// not one): no later attempt would do better.
    fn message(&self, d: &Delivery) -> Result<Message, String> {
        let to: Mailbox = d
            .address
            .trim()
            .parse()
            .map_err(|e| format!("address {:?}: {e}", d.address))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(d.subject.clone())
            .message_id(Some(message_id(d)))
            .singlepart(SinglePart::plain(d.body.clone()))
            .map_err(|e| format!("message: {e}"))
    }
}

/// `host` and `port` of `smtp://host:port`, optionally with a trailing `/`; `None` for
/// anything else.
fn relay_address(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    if !scheme.eq_ignore_ascii_case("smtp") {
        return None;
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) if !v6.is_empty() && v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') => v6,
        Some(_) => return None,
        None if !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') =>
        {
            host
        }
        None => return None,
    };
    Some((host.to_string(), port))
}

/// The URL as an error may show it: without whatever precedes an `@` (a password).
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rsplit_once('@')) {
        (Some((scheme, _)), Some((_, host))) => format!("{scheme}://…@{host}"),
        _ => url.to_string(),
    }
}

/// The same for every attempt of a delivery, so that a receiver can tell a resend.
fn message_id(d: &Delivery) -> String {
    let notice: String = d
        .notice_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("<d{}.{notice}@bandi.invalid>", d.id)
}

/// When a delivery that failed at its `attempts`-th attempt is tried again: 30 s, doubling,
/// at most an hour.
fn backoff(attempts: i64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 16) as u32;
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

/// What one round of the sender did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Reminder notices written for integration deadlines coming soon.
    pub reminded: usize,
    /// Notices given their deliveries.
    pub dispatched: usize,
    pub sent: usize,
    /// Deliveries put off after a failure that may pass.
    pub retried: usize,
    /// Deliveries given up.
    pub failed: usize,
}

impl SendReport {
    fn is_empty(&self) -> bool {
        *self == SendReport::default()
    }
}

/// What became of one attempt.
enum Outcome {
    Sent,
    Retry(String),
    GiveUp(String),
}

/// The intake counts as busy for this long after its last batch.
const INTAKE_BUSY_WINDOW: Duration = Duration::from_millis(500);

/// One round of the sender: reminders of deadlines coming soon, the new notices' deliveries,
/// then every delivery that is due sent through `mailer`. Without a mailer the deliveries
/// stay pending, where the officials' page shows them.
pub async fn send_due(app: &App, mailer: Option<&Mailer>) -> Result<SendReport, AppError> {
    let store = app.store();
    let mut report = SendReport {
        reminded: store
            .remind_deadlines(REMIND_WITHIN.as_micros() as i64)
            .await?,
        ..SendReport::default()
    };
    // The store dispatches a batch at a time; a click day writes thousands of receipts.
    // While the intake is taking submissions, one batch a round: every batch takes the
    // database's one writer (SQLite) that each answer waits for; the notices, which tell
    // what the receipts already said, catch up once the rush is over.
    loop {
        let n = store.dispatch_notices().await?;
        report.dispatched += n;
        if n == 0 || app.intake().busy_within(INTAKE_BUSY_WINDOW) {
            break;
        }
    }
    let Some(mailer) = mailer else {
        return Ok(report);
    };
    // A delivery that fails is put off past this round, one sent is done: each is taken
    // at most once a round, and the loop ends.
    while let Some(d) = store.take_delivery(LEASE.as_micros() as i64).await? {
        match attempt(mailer, &d).await {
            Outcome::Sent => {
                store.delivery_sent(d.id).await?;
                report.sent += 1;
            }
            Outcome::Retry(error) if d.attempts < MAX_ATTEMPTS => {
                let at = Timestamp::now()
                    .checked_add(backoff(d.attempts))
                    .map_err(|e| AppError::Internal(format!("retry time: {e}")))?;
                tracing::warn!(delivery = d.id, attempts = d.attempts, %error, retry_at = %at, "delivery put off");
                store.delivery_failed(d.id, &error, Some(at)).await?;
                report.retried += 1;
            }
            Outcome::Retry(error) | Outcome::GiveUp(error) => {
                tracing::error!(delivery = d.id, attempts = d.attempts, %error, "delivery given up");
                store.delivery_failed(d.id, &error, None).await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

async fn attempt(mailer: &Mailer, d: &Delivery) -> Outcome {
    let message = match mailer.message(d) {
        Ok(m) => m,
        Err(e) => return Outcome::GiveUp(e),
    };
    match tokio::time::timeout(SEND_TIMEOUT, mailer.transport.send(message)).await {
        Ok(Ok(_)) => Outcome::Sent,
        Ok(Err(e)) if e.is_permanent() => Outcome::GiveUp(format!("smtp: {e}")),
        // Transient answers, refused connections, timeouts: the relay may come back.
        Ok(Err(e)) => Outcome::Retry(format!("smtp: {e}")),
        Err(_) => Outcome::Retry(format!(
            "smtp: no answer within {} s",
            SEND_TIMEOUT.as_secs()
        )),
    }
}

/// The sender: a round of [`send_due`] every `every` until `shutdown` turns true (or its
/// sender goes away). A round that fails is logged and the next one tries again. A round
/// under way when shutdown comes is dropped: the delivery it held stays leased and is sent
/// again after the lease, under the same `Message-ID`.
pub async fn run_sender(
    app: App,
    mailer: Option<Mailer>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    if mailer.is_none() {
        tracing::info!("no SMTP relay configured: notices stay in the outbox");
    }
    // A starting node rebuilds its calls first: a round under way then took a core and
    // the database's writer from the first submission after a restart (BENCHMARKS.md).
    tokio::select! {
        _ = app.intake().calls_loaded() => {}
        _ = shutdown.wait_for(|stop| *stop) => {
            tracing::info!("outbox sender stopped");
            return;
        }
    }
    loop {
        tokio::select! {
            round = send_due(&app, mailer.as_ref()) => match round {
                Ok(report) if report.is_empty() => {}
                Ok(report) => tracing::info!(?report, "outbox round"),
                Err(e) => tracing::error!(error = %e, "outbox round failed"),
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    tracing::info!("outbox sender stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_smtp_with_a_port_is_accepted() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://relay.regione.example:25",
            "SMTP://relay-1.example:25/",
            "smtp://[::1]:25",
        ] {
            assert!(
                Mailer::from_url(url, "bandi@regione.example").is_ok(),
                "{url}"
            );
        }
        for url in [
            "",
            "garbage",
            "relay.example:25",
            "smtps://relay.example:465",
            "http://relay.example:25",
            "smtp://relay.example",
            "smtp://relay.example:",
            "smtp://relay.example:0",
            "smtp://relay.example:port",
            "smtp://relay.example:70000",
            "smtp://:25",
            "smtp://relay.example:25/path",
            "smtp://relay.example:25?tls=required",
            "smtp://relay example:25",
            "smtp://[nope]:25",
        ] {
            match Mailer::from_url(url, "bandi@regione.example") {
                Err(e @ AppError::InvalidSmtp(_)) => {
                    assert_eq!(e.code(), "invalid_smtp");
                    assert_eq!(e.kind(), crate::Kind::Invalid);
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn credentials_are_refused_and_not_shown() {
        match Mailer::from_url(
            "smtp://user:secret@relay.example:25",
            "bandi@regione.example",
        ) {
            Err(AppError::InvalidSmtp(shown)) => {
                assert!(!shown.contains("secret"), "{shown}");
                assert!(shown.contains("relay.example:25"), "{shown}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_sender_must_be_an_address() {
        for from in ["", "bandi", "bandi@", "@regione.example"] {
            assert!(
                matches!(
                    Mailer::from_url("smtp://127.0.0.1:25", from),
                    Err(AppError::InvalidSmtp(_))
                ),
                "{from:?}"
            );
        }
        let named = Mailer::from_url(
            "smtp://127.0.0.1:25",
            "Bandi Regione <bandi@regione.example>",
        )
        .unwrap();
        assert_eq!(named.from.email.to_string(), "bandi@regione.example");
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let secs: Vec<u64> = [1, 2, 3, 4, 7, 8, 9, 100, 0, -3]
            .into_iter()
            .map(|a| backoff(a).as_secs())
            .collect();
        assert_eq!(secs, [30, 60, 120, 240, 1_920, 3_600, 3_600, 3_600, 30, 30]);
    }

    #[test]
    fn the_message_id_is_the_same_at_every_attempt() {
        let d = |attempts| Delivery {
            id: 7,
            notice_id: "ab12".into(),
            address: "ufficio@comune.example".into(),
            subject: "Ricevuta della domanda ER-SW-2020/0000001".into(),
            body: "Spettabile Comune, la domanda è stata ricevuta.".into(),
            attempts,
        };
        assert_eq!(message_id(&d(1)), "<d7.ab12@bandi.invalid>");
        assert_eq!(message_id(&d(1)), message_id(&d(5)));
        let mailer = Mailer::from_url("smtp://127.0.0.1:25", "bandi@regione.example").unwrap();
        let raw = String::from_utf8(mailer.message(&d(1)).unwrap().formatted()).unwrap();
        assert!(raw.contains("Message-ID: <d7.ab12@bandi.invalid>"), "{raw}");
        assert!(raw.contains("To: ufficio@comune.example"), "{raw}");
        assert!(raw.contains("charset=utf-8"), "{raw}");
        let bad = Delivery {
            address: "not an address".into(),
            ..d(1)
        };
        assert!(mailer.message(&bad).is_err());
    }
}
