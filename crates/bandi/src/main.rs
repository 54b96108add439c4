//! The `bandi` command.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use bandi_domain::call::Call;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::money::Money;
use bandi_domain::registry::parse_registry;
use bandi_store::Store;
use bandi_store::intake::Intake;
use bandi_web::AppState;
use clap::{Parser, Subcommand};
use jiff::{SignedDuration, Timestamp};

mod demo;

#[derive(Parser)]
#[command(
    name = "bandi",
    version,
    about = "Calls for funding for local authorities, from publication to the click day"
)]
struct Cli {
    /// `sqlite:PATH` or `postgres://...`
    #[arg(
        long,
        env = "BANDI_DATABASE_URL",
        global = true,
        default_value = "sqlite:bandi-data/bandi.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations.
    Migrate,
    /// The registry of local authorities.
    #[command(subcommand)]
    Entities(EntitiesCommand),
    /// Calls for funding.
    #[command(subcommand)]
    Calls(CallsCommand),
    /// API tokens.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Serve the API (several processes may serve one PostgreSQL database).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Submissions that may wait for the sequencer before new ones get 503.
        #[arg(long, default_value_t = 20_000)]
        queue: usize,
    },
    /// Check the ledger chain and replay every call's allocation.
    Verify,
    /// Seed the Emilia-Romagna 2020 call, opening two minutes from now, and serve.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Minutes from now to the opening of the demo call.
        #[arg(long, default_value_t = 2)]
        opens_in: i64,
    },
}

#[derive(Subcommand)]
enum EntitiesCommand {
    /// Import the ISTAT list of comuni or a plain CSV (code,name,kind,fiscal_code,province,members).
    Import {
        file: PathBuf,
        /// Keep only (ISTAT file) or assign (plain file) this ISTAT region code.
        #[arg(long)]
        region: Option<String>,
    },
}

#[derive(Subcommand)]
enum CallsCommand {
    /// Import (publish) a call from its TOML file; prints the call code last.
    Import {
        file: PathBuf,
        /// RFC 3339 instant or `now`; without --closes-at the call keeps its length.
        #[arg(long)]
        opens_at: Option<String>,
        #[arg(long)]
        closes_at: Option<String>,
        #[arg(long)]
        budget_cents: Option<i64>,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Issue a bearer token for an entity; prints the token last.
    Issue {
        #[arg(long)]
        entity: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let (store, migrated) = open(&cli.database).await?;
    match cli.command {
        Command::Migrate => println!("{migrated} migrations applied"),
        Command::Entities(EntitiesCommand::Import { file, region }) => {
            let n = import_entities(&store, &file, region.as_deref()).await?;
            println!("{n} entities imported from {}", file.display());
        }
        Command::Calls(CallsCommand::Import {
            file,
            opens_at,
            closes_at,
            budget_cents,
        }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let mut call = Call::from_toml(&text).with_context(|| format!("{}", file.display()))?;
            override_call(
                &mut call,
                opens_at.as_deref(),
                closes_at.as_deref(),
                budget_cents,
            )?;
            let outcome = store.import_call(&call).await?;
            eprintln!(
                "{:?}: {} opens {} and closes {} (UTC); budget {}",
                outcome, call.code, call.opens_at, call.closes_at, call.budget
            );
            println!("{}", call.code);
        }
        Command::Tokens(TokensCommand::Issue { entity }) => {
            let token = store.issue_token(&entity).await?;
            println!("{token}");
        }
        Command::Serve { listen, queue } => serve(store, listen, queue).await?,
        Command::Verify => {
            let r = store.verify().await.context("verification failed")?;
            println!(
                "ok: {} ledger entries chained (head {}), {} calls and {} applications replayed and matching",
                r.entries,
                &r.head_hash[..16],
                r.calls,
                r.applications
            );
        }
        Command::Demo { listen, opens_in } => {
            demo::seed(&store, opens_in, listen).await?;
            serve(store, listen, 20_000).await?;
        }
    }
    Ok(())
}

/// The store, migrated; and how many migrations that applied.
async fn open(url: &str) -> anyhow::Result<(Store, usize)> {
    let store = Store::connect(url)
        .await
        .with_context(|| format!("cannot open the database {url}"))?;
    let applied = store.migrate().await.context("migrations failed")?;
    Ok((store, applied))
}

pub(crate) async fn import_entities(
    store: &Store,
    file: &Path,
    region: Option<&str>,
) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let entities = parse_registry(&text, region)
        .map_err(|e| anyhow::anyhow!("{}: nothing imported\n{e}", file.display()))?;
    Ok(store.upsert_entities(&entities).await?)
}

fn parse_instant(s: &str, now: Timestamp) -> anyhow::Result<Timestamp> {
    if s == "now" {
        return Ok(now);
    }
    s.parse::<Timestamp>().with_context(|| {
        format!("{s:?} is not an RFC 3339 instant (e.g. 2026-04-03T07:30:00Z) nor `now`")
    })
}

fn override_call(
    call: &mut Call,
    opens_at: Option<&str>,
    closes_at: Option<&str>,
    budget_cents: Option<i64>,
) -> anyhow::Result<()> {
    let now = truncate_to_micros(Timestamp::now());
    match (opens_at, closes_at) {
        (Some(o), c) => {
            let opens = parse_instant(o, now)?;
            let closes = c.map(|c| parse_instant(c, now)).transpose()?;
            call.reschedule(opens, closes).map_err(anyhow::Error::msg)?;
        }
        (None, Some(c)) => {
            let closes = parse_instant(c, now)?;
            call.reschedule(call.opens_at, Some(closes))
                .map_err(anyhow::Error::msg)?;
        }
        (None, None) => {}
    }
    if let Some(b) = budget_cents {
        if b <= 0 || Money::from_cents(b) > Money::MAX_AMOUNT {
            bail!(
                "--budget-cents must be positive and at most {}",
                Money::MAX_AMOUNT.cents()
            );
        }
        call.budget = Money::from_cents(b);
    }
    Ok(())
}

async fn serve(store: Store, listen: SocketAddr, queue: usize) -> anyhow::Result<()> {
    let intake = Intake::start(store.clone(), queue);
    let state = Arc::new(AppState { store, intake });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    bandi_web::serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Minutes as a signed duration, for the demo's opening.
pub(crate) fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}
