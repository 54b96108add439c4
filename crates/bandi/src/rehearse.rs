//! `bandi rehearse`: a click-day rehearsal a region can run before the real day.
//!
//! It prepares a rehearsal call and N synthetic comuni with a token each, starts the real
//! server in-process (or targets one with `--target`), measures GET /health at the chosen
//! concurrency, then fires every entity's submission from C concurrent clients (with a
//! share of retries and of bad inputs), and finally checks through the public API, and on
//! the database, that every rule held. It prints a report for officials and can write every
//! figure as JSON.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bandi_domain::call::{Call, CallCode};
use bandi_domain::entity::{Entity, EntityCode, EntityKind};
use bandi_domain::i18n::Text;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::money::Money;
use bandi_store::intake::Intake;
use bandi_store::{Backend, Store};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};

mod checks;
mod http;
mod load;
mod report;

const CALL: &str = include_str!("../../../calls/er-2020-smart-working.toml");

/// Largest `--entities`: codes run from r000001 to r999999.
const MAX_ENTITIES: usize = 999_999;

#[derive(clap::Args, Debug, Clone)]
#[command(after_long_help = "\
Without --target, the rehearsal runs on a temporary SQLite database that is deleted at the \
end (kept if a check fails), unless --database is given on the command line (for example a \
postgres:// URL, to rehearse on PostgreSQL). BANDI_DATABASE_URL is ignored then, so that a \
rehearsal never writes into the real database by mistake.

With --target URL, the rehearsal sends its traffic to a running `bandi serve` and seeds its \
call, entities (r000001...) and tokens in that server's database, which --database (or \
BANDI_DATABASE_URL) must name. The rehearsal call is named rehearsal-..., opens at once and \
closes 24 hours later.

Examples:
  bandi rehearse
  bandi rehearse --entities 2000 --clients 256 --json rehearsal.json
  bandi --database postgres://postgres@127.0.0.1/rehearsal rehearse
  bandi rehearse --target http://127.0.0.1:8080 --database sqlite:bandi-data/bandi.db

The exit status is 0 only if every check passed.")]
pub struct RehearseArgs {
    /// Base URL of a running server (e.g. http://127.0.0.1:8080); without it, the server
    /// runs inside this command.
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Synthetic comuni of the rehearsal (r000001, r000002, ...), one submission each.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=MAX_ENTITIES as u64))]
    entities: u64,
    /// Concurrent clients sending the submissions (and the GET /health requests). With
    /// --rate, the most submissions in progress at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    clients: u64,
    /// Open loop: start this many submissions per second whatever the answers (to
    /// overload the server on purpose: try ten times the rate a closed-loop run reached),
    /// instead of each client sending its next one when it has the answer.
    #[arg(long, value_name = "PER_S", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    rate: Option<u64>,
    /// Network addresses the submissions come from, named in `X-Forwarded-For` as a proxy
    /// in front of the server would (1: the connection's own, no header). A region's
    /// authorities reach the server from many addresses, and the limit of 512 submissions
    /// in progress per address binds only where they share one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    addresses: u64,
    /// Budget of the rehearsal call in cents [default: the call file's, 2,000,000.00 €].
    #[arg(long, value_name = "CENTS")]
    budget_cents: Option<i64>,
    /// Share of entities that first send a bad input (a fractional amount, broken JSON or
    /// an unknown token), which must be refused.
    #[arg(long, default_value_t = 0.05, value_parser = share)]
    bad_share: f64,
    /// Share of entities that send their application a second time after the answer, which
    /// must return 200 and the same receipt.
    #[arg(long, default_value_t = 0.05, value_parser = share)]
    retry_share: f64,
    /// GET /health requests measured at the same concurrency [default: as many as the
    /// submission requests, at least 1000].
    #[arg(long, value_name = "N")]
    health_requests: Option<usize>,
    /// Write every figure and check as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Use the naive intake (one locking transaction per request) in the in-process server:
    /// the benchmarks' baseline.
    #[arg(long)]
    naive_intake: bool,
    /// Seed of the synthetic bodies and of who retries or errs [default: from the clock].
    #[arg(long)]
    seed: Option<u64>,
    /// Only prepare: seed the call, the entities and their tokens in --database, write one
    /// line per entity (`path TAB token TAB body`) to this file for another load generator
    /// (scripts/wrk-submit.lua), and send nothing.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["target", "naive_intake", "json"])]
    requests_out: Option<PathBuf>,
}

impl RehearseArgs {
    pub fn has_target(&self) -> bool {
        self.target.is_some()
    }
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a share between 0 and 1 (e.g. 0.05)")),
    }
}

/// What the rehearsal ran against, for the report.
pub struct Setup {
    pub target: String,
    pub in_process: bool,
    pub database: String,
    pub temporary: bool,
    pub backend: Backend,
    pub intake: &'static str,
    pub call: String,
    pub budget: Money,
    pub entities: usize,
    pub clients: usize,
    pub addresses: u64,
    pub seed: u64,
    pub started_at: Timestamp,
    pub setup_time: Duration,
}

/// Runs the rehearsal; `database` is the global `--database` when given on the command
/// line. Fails if the rehearsal could not run or if any check failed.
pub async fn run(args: RehearseArgs, database: Option<String>) -> anyhow::Result<()> {
    let started_at = Timestamp::now();
    let t0 = Instant::now();
    let seed = args.seed.unwrap_or_else(|| {
        let t = started_at.as_nanosecond() as u64;
        t ^ (u64::from(std::process::id()) << 32)
    });
    let entities = args.entities as usize;
    let clients = args.clients as usize;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .context("cannot build the HTTP client")?;

    // The database, and whether it is ours to delete.
    let target = match &args.target {
        Some(t) => {
            if args.naive_intake {
                bail!(
                    "with --target the intake is the server's: start it with `bandi serve --naive-intake`"
                );
            }
            let Some(_) = &database else {
                bail!(
                    "with --target, also give --database (or BANDI_DATABASE_URL) with the \
                     database of that server: the rehearsal seeds its call, entities and tokens there"
                );
            };
            let base = t
                .trim_end_matches('/')
                .trim_end_matches("/api/v1")
                .to_string();
            let health = format!("{base}/api/v1/health");
            let ok = client
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                bail!("no server answers 200 at {health}");
            }
            Some(base)
        }
        None => None,
    };
    if args.requests_out.is_some() && database.is_none() {
        bail!("with --requests-out, also give --database: the server's that will take the load");
    }
    let (url, temp_dir) = match database {
        Some(url) => (url, None),
        None => {
            let dir = std::env::temp_dir().join(format!(
                "bandi-rehearsal-{}-{}",
                std::process::id(),
                started_at.as_millisecond()
            ));
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            (
                format!("sqlite:{}", dir.join("rehearsal.db").display()),
                Some(dir),
            )
        }
    };
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    store.migrate().await.context("migrations failed")?;

    // The call, the entities, their tokens.
    let now = truncate_to_micros(Timestamp::now());
    let mut call = Call::from_toml(CALL).context("the shipped call file")?;
    let code = format!(
        "rehearsal-{}-{:04x}",
        now.strftime("%Y%m%d-%H%M%S"),
        seed & 0xffff
    );
    call.code = CallCode::parse(&code).map_err(anyhow::Error::msg)?;
    // Its own prefix: protocol numbers must not repeat across the calls of a database.
    call.protocol_prefix = format!("PROVA-{:04X}", seed & 0xffff);
    call.title = Text::new(
        format!("Prova del click day: {}", call.title.it),
        format!("Click-day rehearsal: {}", call.title.en),
    );
    call.reschedule(now, Some(now + SignedDuration::from_hours(24)))
        .map_err(anyhow::Error::msg)?;
    if let Some(b) = args.budget_cents {
        if b <= 0 || Money::from_cents(b) > Money::MAX_AMOUNT {
            bail!(
                "--budget-cents must be positive and at most {}",
                Money::MAX_AMOUNT.cents()
            );
        }
        call.budget = Money::from_cents(b);
    }
    let mut setup = Setup {
        target: target.clone().unwrap_or_default(),
        in_process: target.is_none(),
        database: redact(&url),
        temporary: temp_dir.is_some(),
        backend: store.backend(),
        intake: match (&target, args.naive_intake) {
            (Some(_), _) => "server",
            (None, true) => "naive",
            (None, false) => "sequencer",
        },
        call: code.clone(),
        budget: call.budget,
        entities,
        clients,
        addresses: args.addresses,
        seed,
        started_at,
        setup_time: Duration::ZERO,
    };
    report::header(&setup);

    let synthetic: Vec<Entity> = (1..=entities)
        .map(|i| Entity {
            code: EntityCode::parse(&format!("r{i:06}")).expect("valid code"),
            name: format!("Comune di prova {i}"),
            kind: EntityKind::Comune,
            fiscal_code: None,
            province: Some("BO".into()),
            region_code: Some("08".into()),
            istat_code: None,
            pec: None,
            members: Vec::new(),
        })
        .collect();
    // The rehearsal's data go in as the command line puts any in: through the use cases.
    let setup_app = bandi_app::App::new(store.clone(), Intake::start_naive(store.clone()));
    let operator = bandi_app::Actor::Operator;
    setup_app
        .import_entities(&operator, &synthetic)
        .await
        .map_err(crate::refused)?;
    setup_app
        .import_call(&operator, &call)
        .await
        .map_err(crate::refused)?;
    let bar = progress(entities as u64, "preparazione (setup): token");
    let tokens = issue_tokens(&setup_app, entities, &bar).await?;
    bar.finish_and_clear();
    if let Some(out) = &args.requests_out {
        let path = format!("/api/v1/calls/{code}/applications");
        let mut rng = load::Rng::new(seed);
        write_requests(out, &path, entities, &tokens, &mut rng)?;
        println!(
            "{entities} requests written to {} (call {code})",
            out.display()
        );
        store.close().await;
        return Ok(());
    }

    // The server.
    let (base, server) = match target {
        Some(base) => (base, None),
        None => {
            // It signs its receipts as a deployment does, with a key of the rehearsal's own.
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret)
                .map_err(|e| anyhow::anyhow!("the OS random source: {e}"))?;
            setup_app
                .use_signing_key(bandi_domain::proof::SigningKeyPair::from_secret(secret))
                .await
                .map_err(crate::refused)?;
            let intake = if args.naive_intake {
                Intake::start_naive(store.clone())
            } else {
                Intake::start(store.clone(), 20_000)
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("cannot listen on 127.0.0.1")?;
            let base = format!("http://{}", listener.local_addr()?);
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            // The load generator stands for the Region's proxy: with --addresses it spreads
            // the entities over addresses in X-Forwarded-For, believed from it alone.
            let net = bandi_web::NetConfig {
                trusted_proxies: vec!["127.0.0.0/8".parse().expect("a CIDR range")],
                ..bandi_web::NetConfig::default()
            };
            let state = crate::app_state(store.clone(), intake, net);
            let task = tokio::spawn(bandi_web::serve(listener, state, async move {
                let _ = stopped.await;
            }));
            setup.target = base.clone();
            (base, Some((stop, task)))
        }
    };
    let api = format!("{base}/api/v1");
    let lean = Arc::new(http::Client::new(&base, Duration::from_secs(60)).await?);
    setup.setup_time = t0.elapsed();

    // The load.
    let mut rng = load::Rng::new(seed);
    let plans = load::plans(
        (1..=entities).map(|i| (i, tokens[&i].clone())).collect(),
        load::Shares {
            bad: args.bad_share,
            retry: args.retry_share,
            addresses: args.addresses,
        },
        &mut rng,
    );
    let posts: u64 = plans.iter().map(load::Plan::requests).sum();
    let health_requests = args.health_requests.unwrap_or((posts as usize).max(1000));
    let health_url = format!("{api}/health");
    // On a real click day the server loads the tokens when it starts, days after they were
    // issued; these were issued just now, so one authenticated request (404: no such
    // application) has the server load them before the measurement, as it would have.
    let _ = client
        .get(format!("{api}/applications/rehearsal-warm-up"))
        .bearer_auth(&tokens[&1])
        .send()
        .await;
    // Opens the clients' connections, so that neither phase pays for them.
    let warm = ProgressBar::hidden();
    load::health(&lean, &health_url, clients * 4, clients, &warm).await;

    let bar = progress(health_requests as u64, "GET /health");
    let cpu = cpu_time();
    let (health_ok, health_other, health_elapsed) =
        load::health(&lean, &health_url, health_requests, clients, &bar).await;
    let health_cpu = cpu_since(cpu);
    bar.finish_and_clear();

    let bar = progress(posts, "domande (submissions)");
    let submit_url = format!("{api}/calls/{code}/applications");
    let cpu = cpu_time();
    let result = load::run(&lean, &submit_url, plans, clients, args.rate, &bar).await;
    let submit_cpu = cpu_since(cpu);
    bar.finish_and_clear();

    // The checks.
    let receipts = result.outcomes.iter().filter(|o| o.receipt.is_ok()).count();
    let bar = progress(receipts as u64, "controlli (checks)");
    let cx = checks::Context {
        client: &client,
        api: &api,
        call: &code,
        tokens: &tokens,
        store: Some(&store),
        clients,
        bar: &bar,
    };
    let checks_started = Instant::now();
    let (checks, standing) = checks::run(&cx, &result).await;
    let checks_time = checks_started.elapsed();
    bar.finish_and_clear();

    let health = report::Health {
        ok: health_ok,
        other: health_other,
        elapsed: health_elapsed,
    };
    let cpu = report::Cpu {
        health: health_cpu,
        submissions: submit_cpu,
    };
    let figures = report::Figures::new(
        &setup,
        &result,
        &health,
        &cpu,
        &checks,
        &standing,
        checks_time,
    );
    figures.print();
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&figures.json)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("Risultati in JSON (results as JSON): {}", path.display());
    }

    if let Some((stop, task)) = server {
        let _ = stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    store.close().await;
    let failed = checks.iter().filter(|c| !c.ok).count();
    if let Some(dir) = temp_dir {
        if failed == 0 {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            println!(
                "Database della prova conservato (rehearsal database kept): {}",
                dir.display()
            );
        }
    }
    if failed > 0 {
        bail!("{failed} check(s) failed: the platform did not hold its rules under this load");
    }
    Ok(())
}

/// One line per entity, in entity order: `path TAB token TAB body` (JSON on one line).
fn write_requests(
    out: &std::path::Path,
    path: &str,
    entities: usize,
    tokens: &HashMap<usize, String>,
    rng: &mut load::Rng,
) -> anyhow::Result<()> {
    use std::io::Write;
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    for i in 1..=entities {
        writeln!(w, "{path}\t{}\t{}", tokens[&i], load::body(i, rng))?;
    }
    w.flush()
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

/// One token per entity, issued through the library in batches (one transaction each).
async fn issue_tokens(
    app: &bandi_app::App,
    entities: usize,
    bar: &ProgressBar,
) -> anyhow::Result<HashMap<usize, String>> {
    let mut tokens = HashMap::with_capacity(entities);
    let numbers: Vec<usize> = (1..=entities).collect();
    for chunk in numbers.chunks(10_000) {
        let codes: Vec<String> = chunk.iter().map(|i| format!("r{i:06}")).collect();
        let issued = app
            .issue_tokens(&bandi_app::Actor::Operator, &codes)
            .await
            .map_err(crate::refused)?;
        tokens.extend(chunk.iter().copied().zip(issued));
        bar.inc(chunk.len() as u64);
    }
    Ok(tokens)
}

/// CPU time (user + system) of this process so far, where /proc tells it.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name in brackets: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn cpu_since(start: Option<Duration>) -> Option<Duration> {
    Some(cpu_time()?.saturating_sub(start?))
}

fn progress(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "  {prefix:<28} [{bar:32}] {pos}/{len} · {rate} · {elapsed_precise} {msg}",
        )
        .expect("a valid template")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            },
        )
        .progress_chars("=> "),
    );
    bar.set_prefix(what);
    bar
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            redact("postgres://bandi:secret@db:5432/x"),
            "postgres://bandi:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
    }

    #[test]
    fn cpu_time_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let start = cpu_time().expect("/proc/self/stat");
            assert!(cpu_since(Some(start)).is_some());
        }
    }

    #[test]
    fn shares_between_zero_and_one() {
        assert_eq!(share("0.05"), Ok(0.05));
        assert!(share("1.5").is_err());
        assert!(share("-0.1").is_err());
        assert!(share("abc").is_err());
    }
}
