//! The public pages: server-rendered HTML (askama templates compiled into the binary),
//! Italian first and English second, styled with Bootstrap Italia served from the binary.
//!
//! - [`routes`]: the pages, the live counters (server-sent events) and the static files;
//!   the signed-in parts: sign-in ([`account`]), the applicants' reserved area
//!   ([`applicant`], with the application form in [`form`]) and the officials'
//!   administration ([`admin`], with the exports in [`export`]);
//! - [`for_people`]: the middleware around everything outside `/api/`: the language cookie,
//!   the security headers, and any error turned into a page (never a trace, never JSON).

use std::convert::Infallible;
use std::sync::Arc;

use crate::site::Site;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use bandi_domain::i18n::Locale;
use bandi_store::{Role, Session};

use crate::{ApiError, SharedState};

pub(crate) mod account;
mod admin;
mod applicant;
mod assets;
mod calls;
mod export;
mod forgotten;
mod form;
mod i18n;
mod identity;
mod info;
mod ledger;
mod ledger_words;
mod list;
mod live;
mod markdown;
mod open_data;
mod password;
mod practice_files;
mod practices;
mod services;
pub(crate) use statistics::impact::ImpactMemo;
// The transparency page, the open data and the statistics of a call (issue 12).
mod charts;
mod statistics;
mod transparency;

pub use live::Live;

use i18n::Ui;

/// Who publishes the calls, shown in the header and the footer.
// TODO(lead): a `--region-name`/`--region-url` option of `bandi serve` when a second region
// comes; the shipped call and the demo are Emilia-Romagna's.
pub const OWNER: &str = "Regione Emilia-Romagna";
pub const OWNER_URL: &str = "https://www.regione.emilia-romagna.it";

/// The cookie that keeps the language chosen with `?lang=`.
const LANG_COOKIE: &str = "bandi_lang";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors 'none'";

/// Largest form accepted: an application's summary may be 20,000 characters, which
/// URL-encoding can triple; a call file uploaded by an official is far smaller.
pub const MAX_FORM: usize = 512 * 1024;

#[derive(Clone)]
pub(crate) struct PageState {
    pub app: SharedState,
    pub live: Arc<Live>,
}

impl FromRef<PageState> for SharedState {
    fn from_ref(s: &PageState) -> SharedState {
        s.app.clone()
    }
}

/// The pages, to be merged into the application's router.
pub fn routes<S>(app: SharedState, live: Arc<Live>) -> Router<S> {
    Router::new()
        .route("/accedi", get(account::form).post(account::sign_in))
        .route(
            "/accedi/password-dimenticata",
            get(forgotten::ask_form).post(forgotten::ask),
        )
        .route(
            "/accedi/nuova-password",
            get(forgotten::choose_form).post(forgotten::choose),
        )
        .route("/accedi/{kind}", get(identity::start))
        .route("/accedi/{kind}/ritorno", get(identity::back))
        .route("/esci", post(account::sign_out))
        .route("/area-riservata", get(applicant::dashboard))
        .route("/area-riservata/stati", get(applicant::statuses))
        .route("/area-riservata/comunicazioni", get(applicant::notices))
        .route(
            "/area-riservata/contatti",
            get(applicant::contacts).post(applicant::save_contacts),
        )
        .route(
            "/area-riservata/domanda/{entity}/{call}",
            get(applicant::form)
                .post(applicant::save)
                .layer(DefaultBodyLimit::max(applicant::MAX_UPLOAD_BODY)),
        )
        .route(
            "/area-riservata/domanda/{entity}/{call}/anteprima",
            post(applicant::preview),
        )
        .route("/area-riservata/documenti/{id}", get(applicant::download))
        .route(
            "/area-riservata/rendiconto/{id}",
            get(applicant::report)
                .post(applicant::report_act)
                .layer(DefaultBodyLimit::max(applicant::MAX_UPLOAD_BODY)),
        )
        .route(
            "/area-riservata/ricevuta/{id}/firmata",
            get(applicant::signed_receipt),
        )
        .route(
            "/area-riservata/ricevuta/{id}",
            get(applicant::receipt)
                .post(applicant::act)
                .layer(DefaultBodyLimit::max(applicant::MAX_UPLOAD_BODY)),
        )
        .route("/amministrazione", get(admin::calls))
        .route("/amministrazione/bandi", post(admin::import))
        .route(
            "/amministrazione/modulo-bando",
            get(admin::call_form).post(admin::call_form_submit),
        )
        .route("/amministrazione/bandi/{code}", get(admin::call))
        .route(
            "/amministrazione/bandi/{code}/domande/{seq}",
            get(admin::application).post(admin::act),
        )
        .route(
            "/amministrazione/bandi/{code}/domande/{seq}/rendiconto",
            get(admin::report).post(admin::report_act),
        )
        .route(
            "/amministrazione/bandi/{code}/dotazione",
            post(admin::budget),
        )
        .route(
            "/amministrazione/bandi/{code}/elenchi",
            post(admin::publish).layer(DefaultBodyLimit::max(applicant::MAX_UPLOAD_BODY)),
        )
        .route(
            "/amministrazione/bandi/{code}/comunicazioni",
            get(admin::notices),
        )
        .route(
            "/amministrazione/bandi/{code}/domande.csv",
            get(export::csv),
        )
        .route(
            "/amministrazione/bandi/{code}/voci.csv",
            get(export::lines_csv),
        )
        .route(
            "/amministrazione/bandi/{code}/domande.xlsx",
            get(export::xlsx),
        )
        .route(
            "/amministrazione/utenti",
            get(admin::users).post(admin::create_user),
        )
        .route("/amministrazione/utenti/{id}/enti", post(admin::bind))
        .route("/amministrazione/utenti/{id}/stato", post(admin::set_state))
        .route(
            "/profilo/password",
            get(password::password_form).post(password::change_password),
        )
        .route("/", get(calls::list))
        .route("/bandi", get(calls::list))
        .route("/bandi/{code}", get(calls::show))
        .route("/bandi/{code}/graduatoria", get(calls::ranking))
        .route("/bandi/{code}/elenco", get(list::show))
        .route("/bandi/{code}/atti/{id}", get(list::act))
        .route("/bandi/{code}/eventi", get(live::events))
        // Transparency (D.Lgs. 33/2013, artt. 26-27), open data and statistics (issue 12).
        .route("/bandi/{code}/trasparenza", get(transparency::show))
        .route("/bandi/{code}/open-data.csv", get(transparency::call_csv))
        .route("/bandi/{code}/360giving.json", get(transparency::call_360))
        .route("/open-data.csv", get(transparency::all_csv))
        .route("/360giving.json", get(transparency::all_360))
        .route("/bandi/{code}/statistiche", get(statistics::show))
        .route(
            "/bandi/{code}/statistiche/{table}",
            get(statistics::table_csv),
        )
        .route("/registro", get(ledger::explorer))
        .route("/pratiche", get(practices::catalog))
        .route("/pratiche/{n}", get(practices::show))
        .route("/pratiche/{n}/riuso", post(practices::reuse))
        .route("/pratiche/{n}/allegati/{id}", get(practice_files::download))
        .route(
            "/area-riservata/pratiche/{n}/allegati",
            post(practice_files::attach).layer(DefaultBodyLimit::max(applicant::MAX_UPLOAD_BODY)),
        )
        .route(
            "/area-riservata/pratiche/{n}/allegati/{id}/rimuovi",
            post(practice_files::remove),
        )
        .route(
            "/area-riservata/pratiche",
            get(practices::own).post(practices::propose),
        )
        .route("/servizi", get(services::catalogue))
        .route("/impatto", get(statistics::impact::show))
        .route("/impatto/{table}", get(statistics::impact::table_csv))
        .route(
            "/amministrazione/servizi",
            get(services::admin).post(services::import),
        )
        .route("/amministrazione/pratiche", get(practices::to_decide))
        .route("/amministrazione/pratiche/{n}", post(practices::decide))
        .route("/dati-aperti", get(open_data::show))
        .route("/accessibilita", get(info::accessibility))
        .route("/privacy", get(info::privacy))
        .route("/sito/logo", get(info::logo))
        .route("/static/{*path}", get(assets::serve))
        .method_not_allowed_fallback(|| async { crate::method_not_allowed() })
        .layer(DefaultBodyLimit::max(MAX_FORM))
        .with_state(PageState { app, live })
}

/// The language of a request and where it came from, and the address of the page.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub locale: Locale,
    /// Who runs the deployment (the router's extension; the default in a bare router).
    pub site: Arc<Site>,
    /// `?lang=` was given: remember it in a cookie.
    pub chosen: bool,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// The page a posted form was on (from `Referer`, this site's paths only): the
    /// language switch of the answer leads there, as the form's address may answer only
    /// POST.
    posted_from: Option<String>,
}

/// The path of a `Referer` on this site: `/area-riservata` of `https://host/area-riservata?x`.
fn referer_path(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer
        .strip_prefix("https://")
        .or_else(|| referer.strip_prefix("http://"))?
        .strip_prefix(host)?;
    let path = rest.split(['?', '#']).next()?;
    (path.starts_with('/') && !path.starts_with("//") && path.len() <= 512)
        .then(|| path.to_string())
}

impl Ctx {
    pub fn new(
        uri: &Uri,
        headers: &HeaderMap,
        method: &axum::http::Method,
        site: Option<&Arc<Site>>,
    ) -> Ctx {
        let query: Vec<(String, String)> = Query::try_from_uri(uri)
            .map(|Query(q)| q)
            .unwrap_or_default();
        let from_query = query
            .iter()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| parse_locale(v));
        let from_cookie = || {
            headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|c| c.trim().split_once('='))
                .find(|(k, _)| *k == LANG_COOKIE)
                .and_then(|(_, v)| parse_locale(v))
        };
        // Italian unless the person chose English on the page: a public service of an Italian
        // region speaks Italian, whatever the browser's settings say.
        Ctx {
            site: site.cloned().unwrap_or_default(),
            locale: from_query.or_else(from_cookie).unwrap_or(Locale::It),
            chosen: from_query.is_some(),
            path: uri.path().to_string(),
            query,
            posted_from: (method != axum::http::Method::GET && method != axum::http::Method::HEAD)
                .then(|| referer_path(headers).unwrap_or_else(|| "/".to_string())),
        }
    }

    pub fn ui(&self) -> &'static Ui {
        i18n::ui(self.locale)
    }

    pub fn en(&self) -> bool {
        self.locale == Locale::En
    }

    /// The text in the request's language.
    pub fn t<'a>(&self, it: &'a str, en: &'a str) -> &'a str {
        if self.en() { en } else { it }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// This page in `lang`, keeping its other parameters.
    fn switch_url(&self, lang: &str) -> String {
        if let Some(page) = &self.posted_from {
            return format!("{page}?lang={lang}");
        }
        let mut url = self.path.clone();
        url.push_str("?lang=");
        url.push_str(lang);
        for (k, v) in self.query.iter().filter(|(k, _)| k != "lang") {
            url.push('&');
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// The frame of a page under a call's page: home, calls, the call.
    pub fn call_layout(&self, title: impl Into<String>, call: &calls::CallView) -> Layout {
        let ui = self.ui();
        self.layout(
            title,
            vec![
                Crumb::new(ui.home, "/"),
                Crumb::new(ui.calls, "/bandi"),
                Crumb::new(call.title.clone(), call.href.clone()),
            ],
            Nav::Calls,
        )
    }

    /// What every page shows around its content.
    pub fn layout(&self, title: impl Into<String>, crumbs: Vec<Crumb>, nav: Nav) -> Layout {
        Layout {
            ui: self.ui(),
            en: self.en(),
            title: title.into(),
            crumbs,
            nav,
            switch_it: self.switch_url("it"),
            switch_en: self.switch_url("en"),
            a: assets::urls(),
            owner: self.site.name.clone(),
            owner_url: self.site.url.clone(),
            site: self.site.clone(),
            account: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Ctx::new(
            &parts.uri,
            &parts.headers,
            &parts.method,
            parts.extensions.get::<Arc<Site>>(),
        ))
    }
}

fn parse_locale(v: &str) -> Option<Locale> {
    match v.trim() {
        "it" => Some(Locale::It),
        "en" => Some(Locale::En),
        _ => None,
    }
}

/// Percent-encoding for query strings: unreserved characters stay, the rest is escaped.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Which item of the main menu is the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Calls,
    Ledger,
    /// The community's practices.
    Practices,
    /// The applicants' reserved area.
    Reserved,
    Admin,
    None,
}

pub(crate) struct Crumb {
    pub label: String,
    pub href: String,
}

impl Crumb {
    pub fn new(label: impl Into<String>, href: impl Into<String>) -> Crumb {
        Crumb {
            label: label.into(),
            href: href.into(),
        }
    }
}

/// The frame of every page: header, breadcrumbs, footer.
pub(crate) struct Layout {
    pub ui: &'static Ui,
    pub en: bool,
    /// The page's title and `h1`; the last, current, item of the breadcrumbs.
    pub title: String,
    /// The pages above this one, from the home page.
    pub crumbs: Vec<Crumb>,
    pub nav: Nav,
    pub switch_it: String,
    pub switch_en: String,
    pub a: &'static assets::Urls,
    pub owner: String,
    pub owner_url: String,
    /// Its contacts, PEC and logo, for the header and the footer.
    pub site: Arc<Site>,
    /// The person signed in, on the pages that know it (the reserved ones).
    pub account: Option<AccountNav>,
}

/// Who is signed in, as the header shows it, with what the sign-out form needs.
pub(crate) struct AccountNav {
    pub name: String,
    pub official: bool,
    pub admin: bool,
    pub csrf: String,
}

impl Layout {
    /// The layout of a page for the person signed in with `session`.
    pub fn signed(mut self, session: &Session) -> Layout {
        self.account = Some(AccountNav {
            name: session.user.name.clone(),
            official: session.user.role.is_official(),
            admin: session.user.role == Role::Admin,
            csrf: session.csrf_token.clone(),
        });
        self
    }

    /// The text in the page's language: the reserved pages keep both languages side by
    /// side in their templates.
    pub fn t<'a>(&self, it: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { it }
    }

    pub fn reserved_current(&self) -> bool {
        self.nav == Nav::Reserved
    }

    pub fn admin_current(&self) -> bool {
        self.nav == Nav::Admin
    }

    pub fn is_admin(&self) -> bool {
        self.account.as_ref().is_some_and(|a| a.admin)
    }

    pub fn is_official(&self) -> bool {
        self.account.as_ref().is_some_and(|a| a.official)
    }

    pub fn calls_current(&self) -> bool {
        self.nav == Nav::Calls
    }

    pub fn ledger_current(&self) -> bool {
        self.nav == Nav::Ledger
    }

    pub fn practices_current(&self) -> bool {
        self.nav == Nav::Practices
    }
}

/// Renders a page with `status`; a template that fails to render is an internal error.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Result<Response, ApiError> {
    match page.render() {
        Ok(html) => Ok((status, Html(html)).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            Err(ApiError::internal())
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    status: u16,
    message: String,
    code: String,
}

/// The page shown for an error: what happened in the person's language, the status and
/// the stable code, nothing else.
fn error_page(ctx: &Ctx, status: StatusCode, error: Option<&ApiError>) -> Response {
    let (title_it, title_en, text_it, text_en) = match status.as_u16() {
        400 | 422 => (
            "Richiesta non valida",
            "Bad request",
            "La richiesta contiene dati non validi. Nessun dato è stato modificato.",
            "The request contains invalid data. Nothing was changed.",
        ),
        401 | 403 => (
            "Accesso non consentito",
            "Access not allowed",
            "Questa pagina non è accessibile con le credenziali attuali.",
            "This page cannot be reached with the current credentials.",
        ),
        404 => (
            "Pagina non trovata",
            "Page not found",
            "L'indirizzo non corrisponde a nessuna pagina: potrebbe essere scritto in modo errato, oppure la pagina non esiste più.",
            "The address does not match any page: it may be mistyped, or the page no longer exists.",
        ),
        405 => (
            "Operazione non consentita",
            "Operation not allowed",
            "Questo indirizzo non consente l'operazione richiesta.",
            "This address does not allow the requested operation.",
        ),
        413 => (
            "Richiesta troppo grande",
            "Request too large",
            "La richiesta supera la dimensione massima accettata.",
            "The request exceeds the largest size accepted.",
        ),
        503 => (
            "Servizio momentaneamente non disponibile",
            "Service temporarily unavailable",
            "Il servizio è molto richiesto in questo momento: riprovare tra qualche secondo.",
            "The service is very busy right now: please retry in a few seconds.",
        ),
        _ if status.is_server_error() => (
            "Errore interno",
            "Internal error",
            "Si è verificato un errore imprevisto. Nessun dato è stato modificato.",
            "An unexpected error occurred. Nothing was changed.",
        ),
        _ => (
            "Richiesta non riuscita",
            "Request failed",
            "La richiesta non è andata a buon fine.",
            "The request did not succeed.",
        ),
    };
    let en = ctx.en();
    // The error's own message when it says more than the generic text (e.g. «no such call»).
    let message = match error {
        Some(e) if !matches!(e.code, "not_found" | "internal" | "method_not_allowed") => {
            e.text.get(ctx.locale).to_string()
        }
        _ => (if en { text_en } else { text_it }).to_string(),
    };
    let code = match error {
        Some(e) => format!("{} ({})", status.as_u16(), e.code),
        None => status.as_u16().to_string(),
    };
    let title = if en { title_en } else { title_it };
    let ui = ctx.ui();
    let page = ErrorPage {
        l: ctx.layout(title, vec![Crumb::new(ui.home, "/")], Nav::None),
        status: status.as_u16(),
        message,
        code,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the error page failed to render");
            (status, Html(format!("<!doctype html><html lang=\"it\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><main><h1>{0}</h1></main></body></html>", status.as_u16()))).into_response()
        }
    }
}

/// The pages of signed-in people and the sign-in page.
fn is_reserved(path: &str) -> bool {
    [
        "/accedi",
        "/esci",
        "/area-riservata",
        "/amministrazione",
        "/profilo",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Around everything that is not the JSON API: renders errors as pages, remembers the
/// language chosen with `?lang=` and adds the security headers.
pub async fn for_people(req: Request, next: Next) -> Response {
    if crate::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let ctx = Ctx::new(
        req.uri(),
        req.headers(),
        req.method(),
        req.extensions().get::<Arc<Site>>(),
    );
    let mut res = next.run(req).await;
    let status = res.status();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // The form's live preview is asked by a script: its errors stay JSON.
    let for_script = applicant::is_preview(&ctx.path);
    if (status.is_client_error() || status.is_server_error()) && !is_html && !for_script {
        let retry_after = res.headers().get(header::RETRY_AFTER).cloned();
        // A refusal may still clear a cookie (the sign-in flow's): kept on the page.
        let cookies: Vec<HeaderValue> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        let error = res.extensions().get::<ApiError>().cloned();
        res = error_page(&ctx, status, error.as_ref());
        if let Some(v) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        for v in cookies {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let is_page = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_reserved(&ctx.path) {
        // A person's data: kept by no cache, not even the browser's (a shared computer,
        // the back button after signing out).
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::VARY, HeaderValue::from_static("Cookie"));
    } else if is_page {
        // Pages depend on the language chosen (a cookie) and on live figures: never from
        // a stale cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(header::VARY, HeaderValue::from_static("Cookie"));
    }
    if ctx.chosen {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
            ctx.locale.code()
        );
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Declares a page test once and runs it on SQLite and on PostgreSQL (when
/// `BANDI_TEST_POSTGRES_URL` is set; `scripts/test.sh` always sets it): the test
/// `name::sqlite` and the test `name::postgres`.
#[cfg(test)]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($db:ident: TestDb) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use bandi_store::testing::TestDb;

            $(#[$meta])*
            async fn case($db: TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                case(TestDb::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match TestDb::postgres().await {
                    Some(db) => case(db).await,
                    None => eprintln!("BANDI_TEST_POSTGRES_URL not set: PostgreSQL case skipped"),
                }
            }
        }
    };
}

#[cfg(test)]
mod reserved_tests;
#[cfg(test)]
mod tests;
