//! The reserved pages against the real router on a real socket, as a browser without
//! JavaScript uses them: cookies kept by hand, forms posted URL-encoded or multipart,
//! redirects not followed so that each answer can be checked. This file is the harness;
//! the cases are by subject: [`sign_in`], [`applicants`], [`documents`], [`preview`] (the
//! form's live amounts, as its script asks for them), [`statuses`] (the dashboard's
//! stream) and [`officials`].

use std::collections::BTreeMap;

use bandi_domain::call::Call;
use bandi_domain::entity::EntityKind;
use bandi_store::testing::TestDb;
use bandi_store::{Role, Store};
use jiff::SignedDuration;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, SET_COOKIE};

use super::encode;
use bandi_app::passwords::hash_blocking as hash_password;

pub(super) use crate::testing::ER_CALL as CODE;
use crate::testing::{ER_CALL_TOML as CALL, TestServer, entity, er_call};
pub(super) const PASSWORD: &str = "una password lunga e sicura";

pub(super) struct App {
    pub base: String,
    pub store: Store,
    pub db: TestDb,
}

/// A server with Cervia and the Unione del Distretto Ceramico, the ER call opening
/// `opens_in` from now, an applicant for each entity and an official.
pub(super) async fn start(db: TestDb, opens_in: SignedDuration) -> App {
    start_with(db, &er_call(opens_in)).await
}

/// The same with `call`.
pub(super) async fn start_with(db: TestDb, call: &Call) -> App {
    start_with_net(db, call, crate::NetConfig::default()).await
}

/// The same, meeting the network as `net` says.
pub(super) async fn start_with_net(db: TestDb, call: &Call, net: crate::NetConfig) -> App {
    let server = TestServer::start_with_net(
        db,
        &[
            entity("039007", "Cervia", EntityKind::Comune, "08"),
            entity(
                "ucdc",
                "Unione dei Comuni del Distretto Ceramico",
                EntityKind::Unione,
                "08",
            ),
        ],
        call,
        100,
        net,
    )
    .await;
    let store = server.store;
    let hash = hash_password(PASSWORD);
    for (email, role, entity) in [
        ("cervia@example.it", Role::Applicant, Some("039007")),
        ("ucdc@example.it", Role::Applicant, Some("ucdc")),
        ("ufficio@example.it", Role::Admin, None),
    ] {
        let u = store.create_user(email, email, &hash, role).await.unwrap();
        if let Some(e) = entity {
            store.bind_entity(&u.id, e).await.unwrap();
        }
    }
    App {
        base: server.origin,
        store,
        db: server.db,
    }
}

pub(super) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
}

/// A browser without JavaScript: keeps cookies, follows no redirect.
pub(super) struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

pub(crate) fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the hidden field `name` in a page.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no field {name}"))
        + needle.len();
    html[start..].split('"').next().unwrap().to_string()
}

impl Browser {
    pub fn new(app: &App) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, req: reqwest::RequestBuilder) -> Answer {
        let res = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for c in headers.get_all(SET_COOKIE) {
            let c = c.to_str().unwrap();
            let (kv, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let body = res.text().await.unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(fields));
        self.send(req).await
    }

    async fn post_multipart(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let boundary = "----bandi-test-boundary";
        let mut body = String::new();
        for (k, v) in fields {
            body.push_str(&format!("--{boundary}\r\n"));
            if *k == "file" {
                body.push_str("Content-Disposition: form-data; name=\"file\"; filename=\"bando.toml\"\r\nContent-Type: text/plain\r\n\r\n");
            } else {
                body.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                ));
            }
            body.push_str(v);
            body.push_str("\r\n");
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.send(req).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let page = self.get("/accedi").await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = hidden(&page.body, "csrf");
        self.post(
            "/accedi",
            &[
                ("email", email),
                ("password", password),
                ("csrf", &csrf),
                ("next", ""),
            ],
        )
        .await
    }

    /// The session's CSRF token, as the reserved pages carry it.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/area-riservata").await;
        hidden(&page.body, "csrf")
    }
}

pub(super) const BOUNDARY: &str = "----bandi-test-boundary";

/// A file of the form: control name, file name, declared type, bytes.
pub(super) type File<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

pub(super) fn multipart(fields: &[(&str, &str)], files: &[File<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (name, file_name, content_type, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(super) async fn post_files(
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    files: &[File<'_>],
) -> Answer {
    let req = b
        .client
        .post(format!("{}{path}", b.base))
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(multipart(fields, files));
    b.send(req).await
}

/// A multipart request with `cookies`, its body built already.
pub(super) fn multipart_request(
    client: &reqwest::Client,
    url: String,
    cookies: &str,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header("cookie", cookies)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
}

pub(super) fn error_code(html: &str) -> &str {
    let start = html.find("id=\"error-code\">").expect("an error page") + 16;
    html[start..].split('<').next().unwrap()
}

pub(super) fn form_path(entity: &str) -> String {
    format!("/area-riservata/domanda/{entity}/{CODE}")
}

/// A complete application: 75,000.00 € of eligible cost, a grant of 52,500.00 €.
pub(super) fn good_fields<'a>(
    csrf: &'a str,
    nonce: &'a str,
    action: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("nonce", nonce),
        ("action", action),
        ("title", "Smart working a Cervia"),
        ("summary", "Avvio, formazione, cloud Lepida"),
        ("line-0-category", "training"),
        ("line-0-description", "Formazione"),
        ("line-0-amount", "25.000,00"),
        ("line-1-category", "technology"),
        ("line-1-description", "Cloud"),
        ("line-1-amount", "50.000,00"),
        ("line-2-category", ""),
        ("line-2-description", ""),
        ("line-2-amount", ""),
        ("ind-staff_total", "180"),
        ("ind-agile_workers_before", "4"),
        ("ind-agile_workers_target", "90"),
    ]
}

mod applicants;
mod attacks;
mod call_form;
mod documents;
mod officials;
mod practices;
mod preview;
mod reports;
mod review;
mod services;
mod sign_in;
// The transparency page, the open data and the statistics (issue 12).
mod statistics;
mod statuses;
mod transparency;
