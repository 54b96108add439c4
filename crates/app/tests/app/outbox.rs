//! The outbox's sender against a real SMTP server (aiosmtpd, started by each test, writing
//! what it receives into a Maildir): a receipt reaches both addresses of the entity, a crash
//! between the commit and the send loses nothing and sends nothing twice, a relay that is
//! down puts the delivery off, and without a relay the messages wait in the outbox.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bandi_app::intake::{Content, Submit};
use bandi_app::outbox::{Mailer, SendReport, run_sender, send_due};
use bandi_app::{Actor, App};
use bandi_domain::notice::NoticeKind;
use bandi_store::intake::Accepted;
use bandi_store::testing::TestDb;
use jiff::SignedDuration;

use crate::support::*;

const FROM: &str = "Bandi Regione <bandi@regione.example>";
const EMAIL: &str = "ufficio@comune.example";
const PEC: &str = "protocollo@pec.comune.example";

/// An aiosmtpd process on a port of its own, killed when dropped.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        SmtpServer::start_on(free_port()).await
    }

    async fn start_on(port: u16) -> SmtpServer {
        let available = Command::new("python3")
            .args(["-m", "aiosmtpd", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            available,
            "the outbox tests need a real SMTP server: pip install aiosmtpd"
        );
        let maildir = std::env::temp_dir().join(format!(
            "bandi-smtp-{}-{port}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let mut server = SmtpServer {
            child,
            port,
            maildir,
        };
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("aiosmtpd on port {port} exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not listen on port {port} within 10 s");
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What arrived so far, by recipient.
    fn messages(&self) -> Vec<Mail> {
        let mut mails: Vec<Mail> = match std::fs::read_dir(self.maildir.join("new")) {
            Ok(dir) => dir
                .map(|f| Mail::read(&f.expect("maildir entry").path()))
                .collect(),
            Err(_) => Vec::new(),
        };
        mails.sort_by(|a, b| a.to.cmp(&b.to));
        mails
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// A port nobody listens on (until a test starts a server there).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A message as the Maildir holds it, its headers and body decoded.
#[derive(Debug)]
struct Mail {
    from: String,
    to: String,
    /// The envelope's recipient, as aiosmtpd records it.
    rcpt_to: String,
    subject: String,
    message_id: String,
    content_type: String,
    body: String,
}

impl Mail {
    fn read(path: &Path) -> Mail {
        let raw = std::fs::read_to_string(path).expect("a message in the maildir");
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").expect("headers, then the body");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            match headers.last_mut() {
                Some((_, value)) if line.starts_with([' ', '\t']) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                _ => {
                    let (name, value) = line.split_once(':').expect("a header");
                    headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
        }
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let body = match header("content-transfer-encoding")
            .to_ascii_lowercase()
            .as_str()
        {
            "quoted-printable" => quoted_printable(body),
            "base64" => String::from_utf8(base64(body)).expect("a UTF-8 body"),
            _ => body.to_string(),
        };
        Mail {
            from: header("from"),
            to: header("to"),
            rcpt_to: header("x-rcptto"),
            subject: encoded_words(&header("subject")),
            message_id: header("message-id"),
            content_type: header("content-type"),
            body,
        }
    }
}

/// RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) in a header's value.
fn encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut previous_was_word = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut parts = t.splitn(3, '?');
                Some((parts.next()?, parts.next()?, parts.next()?))
            });
        match word {
            Some((_charset, encoding, text)) => {
                let bytes = if encoding.eq_ignore_ascii_case("b") {
                    base64(text)
                } else {
                    quoted_printable(&text.replace('_', " ")).into_bytes()
                };
                if !previous_was_word && !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&String::from_utf8(bytes).expect("UTF-8 in an encoded word"));
                previous_was_word = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(token);
                previous_was_word = false;
            }
        }
    }
    out
}

fn base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut bits, mut n) = (0u32, 0);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .expect("a base64 character") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

fn quoted_printable(text: &str) -> String {
    let text = text.replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("a UTF-8 body")
}

async fn submit(app: &App, e: &str) -> String {
    match app
        .submit(
            &Actor::Entity(e.into()),
            Submit {
                call: code(),
                entity: entity(e),
                idempotency_key: None,
                content: Content::Json(body(75_000)),
            },
        )
        .await
    {
        Ok(Accepted::Created(r)) => r.protocol,
        other => panic!("{other:?}"),
    }
}

/// The deliveries of an entity's receipt: `(address, state, attempts, last error)`.
async fn receipt_deliveries(app: &App, e: &str) -> Vec<(String, String, i64, Option<String>)> {
    let notices = app.store().entity_notices(e).await.unwrap();
    let receipts: Vec<_> = notices
        .into_iter()
        .filter(|n| n.kind == NoticeKind::Received)
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt notice for {e}");
    let mut deliveries = receipts[0].deliveries.clone();
    deliveries.sort();
    deliveries
}

fn report(dispatched: usize, sent: usize, retried: usize, failed: usize) -> SendReport {
    SendReport {
        reminded: 0,
        dispatched,
        sent,
        retried,
        failed,
    }
}

pub async fn a_notice_reaches_the_entity_by_smtp(db: TestDb) {
    let smtp = SmtpServer::start().await;
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    app.set_contacts(&Actor::Operator, "080001", EMAIL, PEC)
        .await
        .unwrap();
    let protocol = submit(&app, "080001").await;

    let mailer = Mailer::from_url(&smtp.url(), FROM).unwrap();
    assert_eq!(
        send_due(&app, Some(&mailer)).await.unwrap(),
        report(1, 2, 0, 0)
    );

    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let recipients: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(recipients, [PEC, EMAIL]);
    for m in &mails {
        assert_eq!(m.rcpt_to, m.to, "the envelope goes where the header says");
        assert!(m.from.contains("bandi@regione.example"), "{m:#?}");
        assert!(m.subject.contains(&protocol), "{m:#?}");
        assert!(m.body.contains(&format!("protocollo {protocol}")), "{m:#?}");
        assert!(m.body.contains("Spettabile Comune 080001"), "{m:#?}");
        assert!(
            m.content_type.starts_with("text/plain") && m.content_type.contains("utf-8"),
            "{m:#?}"
        );
        assert!(
            m.message_id.starts_with("<d") && m.message_id.ends_with("@bandi.invalid>"),
            "{m:#?}"
        );
    }
    assert_ne!(mails[0].message_id, mails[1].message_id);

    let deliveries = receipt_deliveries(&app, "080001").await;
    assert_eq!(
        deliveries,
        [
            (PEC.to_string(), "sent".to_string(), 1, None),
            (EMAIL.to_string(), "sent".to_string(), 1, None),
        ]
    );
    assert_eq!(app.store().pending_deliveries().await.unwrap(), 0);
}

pub async fn a_crash_between_commit_and_send_loses_nothing_and_sends_once(db: TestDb) {
    let smtp = SmtpServer::start().await;
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    app.set_contacts(&Actor::Operator, "080001", EMAIL, PEC)
        .await
        .unwrap();

    // The submission commits its receipt notice and no sender runs: the process "crashed"
    // before anything was sent. The notice waits, undispatched.
    let protocol = submit(&app, "080001").await;
    assert!(receipt_deliveries(&app, "080001").await.is_empty());
    assert!(smtp.messages().is_empty());

    // After the restart, a new mailer: each address gets its message once, however many
    // rounds follow.
    let mailer = Mailer::from_url(&smtp.url(), FROM).unwrap();
    assert_eq!(
        send_due(&app, Some(&mailer)).await.unwrap(),
        report(1, 2, 0, 0)
    );
    for _ in 0..3 {
        assert_eq!(
            send_due(&app, Some(&mailer)).await.unwrap(),
            SendReport::default()
        );
    }
    let mails = smtp.messages();
    assert_eq!(
        mails.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(),
        [PEC, EMAIL]
    );
    assert!(mails.iter().all(|m| m.subject.contains(&protocol)));

    // The relay is down: the delivery is put off, with its error, to a time to come.
    let port = free_port();
    let down = Mailer::from_url(&format!("smtp://127.0.0.1:{port}"), FROM).unwrap();
    app.set_contacts(&Actor::Operator, "080002", "ragioneria@comune2.example", "")
        .await
        .unwrap();
    let second = submit(&app, "080002").await;
    assert_eq!(
        send_due(&app, Some(&down)).await.unwrap(),
        report(1, 0, 1, 0)
    );
    let deliveries = receipt_deliveries(&app, "080002").await;
    assert_eq!(deliveries.len(), 1);
    let (address, state, attempts, error) = &deliveries[0];
    assert_eq!(
        (address.as_str(), state.as_str(), *attempts),
        ("ragioneria@comune2.example", "pending", 1)
    );
    assert!(
        error.as_deref().is_some_and(|e| e.contains("smtp")),
        "{error:?}"
    );
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let (next_attempt_us,): (i64,) =
        sqlx::query_as("SELECT next_attempt_us FROM deliveries WHERE state = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let now_us = jiff::Timestamp::now().as_microsecond();
    assert!(
        next_attempt_us > now_us + 20_000_000 && next_attempt_us <= now_us + 31_000_000,
        "the first retry comes about 30 s later: {next_attempt_us} (now {now_us})"
    );
    // Not due yet: an immediate round does not try it.
    assert_eq!(
        send_due(&app, Some(&down)).await.unwrap(),
        SendReport::default()
    );
    assert_eq!(receipt_deliveries(&app, "080002").await[0].2, 1);

    // The relay comes back and the time comes: delivered, once.
    let relay = SmtpServer::start_on(port).await;
    sqlx::query("UPDATE deliveries SET next_attempt_us = 0 WHERE state = 'pending'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        send_due(&app, Some(&down)).await.unwrap(),
        report(0, 1, 0, 0)
    );
    assert_eq!(
        send_due(&app, Some(&down)).await.unwrap(),
        SendReport::default()
    );
    let mails = relay.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].to, "ragioneria@comune2.example");
    assert!(mails[0].subject.contains(&second));
    assert_eq!(
        receipt_deliveries(&app, "080002").await,
        [(
            "ragioneria@comune2.example".to_string(),
            "sent".to_string(),
            2,
            None
        )]
    );
    // The first relay got nothing more.
    assert_eq!(smtp.messages().len(), 2);
    pool.close().await;
}

pub async fn without_smtp_messages_stay_in_the_outbox(db: TestDb) {
    let app = app(&db, SignedDuration::from_mins(-1)).await;
    app.set_contacts(&Actor::Operator, "080001", EMAIL, PEC)
        .await
        .unwrap();
    submit(&app, "080001").await;
    assert_eq!(send_due(&app, None).await.unwrap(), report(1, 0, 0, 0));
    assert_eq!(send_due(&app, None).await.unwrap(), SendReport::default());
    assert_eq!(
        receipt_deliveries(&app, "080001").await,
        [
            (PEC.to_string(), "pending".to_string(), 0, None),
            (EMAIL.to_string(), "pending".to_string(), 0, None),
        ]
    );
    assert_eq!(app.store().pending_deliveries().await.unwrap(), 2);

    // The sender's loop does the same rounds, and stops when told.
    app.set_contacts(&Actor::Operator, "080002", "ragioneria@comune2.example", "")
        .await
        .unwrap();
    submit(&app, "080002").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sender = tokio::spawn(run_sender(
        app.clone(),
        None,
        Duration::from_millis(20),
        stopped,
    ));
    for _ in 0..250 {
        if app.store().pending_deliveries().await.unwrap() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.store().pending_deliveries().await.unwrap(), 3);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), sender)
        .await
        .expect("the sender stops when told")
        .expect("the sender does not panic");
}

/// A forgotten password: the link reaches the person's own address by SMTP, sets a new
/// password once, ends every session, and the outbox keeps no copy of it once sent. An
/// unknown address gets the same answer and no mail; a flood of requests sends at most
/// three links.
pub async fn a_password_reset_link_reaches_its_person_by_smtp(db: TestDb) {
    use bandi_app::AppError;
    use bandi_domain::account::Role;
    let smtp = SmtpServer::start().await;
    let app = app(&db, SignedDuration::from_mins(60)).await;
    let Actor::User(anna) = person(&app, "anna@comune.example", Role::Applicant, &["080001"]).await
    else {
        unreachable!()
    };
    let (old_session, _) = app
        .store()
        .create_session(&anna.id, SignedDuration::from_hours(1))
        .await
        .unwrap();
    let base = "https://bandi.regione.example";
    app.request_password_reset("nobody@comune.example", "10.0.0.1", base)
        .await
        .unwrap();
    app.request_password_reset(" Anna@Comune.example ", "10.0.0.1", base)
        .await
        .unwrap();
    let mailer = Mailer::from_url(&smtp.url(), FROM).unwrap();
    assert_eq!(send_due(&app, Some(&mailer)).await.unwrap().sent, 1);
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].to, "anna@comune.example");
    assert!(mails[0].subject.contains("reimpostazione della password"));
    let link = mails[0]
        .body
        .lines()
        .find(|l| l.starts_with(base))
        .expect("the link in the body")
        .trim()
        .to_string();
    let token = link.split("token=").nth(1).unwrap().to_string();
    assert_eq!(token.len(), 64);
    // The outbox keeps no copy of the link once the relay took it.
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let bodies: Vec<(String,)> = sqlx::query_as("SELECT body FROM account_mails")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(bodies, vec![(String::new(),)]);

    assert!(app.password_reset_is_live(&token).await.unwrap());
    // A short password is refused and leaves the link usable.
    assert!(matches!(
        app.reset_password_with_link(&token, "short").await,
        Err(AppError::InvalidAccount(_))
    ));
    let new_password = "una nuova password lunga";
    let user = app
        .reset_password_with_link(&token, new_password)
        .await
        .unwrap();
    assert_eq!(user.id, anna.id);
    assert!(app.store().session(&old_session).await.unwrap().is_none());
    app.sign_in("anna@comune.example", new_password, "10.0.0.1")
        .await
        .unwrap();
    // Once only; a made-up token neither.
    for t in [token.as_str(), &"0".repeat(64), "not-a-token"] {
        assert!(!app.password_reset_is_live(t).await.unwrap());
        assert!(matches!(
            app.reset_password_with_link(t, "yet another long password")
                .await,
            Err(AppError::IdentityRefused(_))
        ));
    }
    // A flood of requests for one address: at most three links in the window.
    for _ in 0..10 {
        app.request_password_reset("anna@comune.example", "10.0.0.2", base)
            .await
            .unwrap();
    }
    assert_eq!(send_due(&app, Some(&mailer)).await.unwrap().sent, 2);
}
