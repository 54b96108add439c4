//! The `bandi` command.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bandi_app::accounts::NewAccount;
use bandi_app::outbox::Mailer;
use bandi_app::{Actor, App, AppError};
use bandi_domain::call::Call;
use bandi_domain::instant::truncate_to_micros;
use bandi_domain::money::Money;
use bandi_domain::registry::parse_registry;
use bandi_store::Store;
use bandi_store::intake::Intake;
use bandi_web::{AppState, NetConfig};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use jiff::{SignedDuration, Timestamp};

/// mimalloc: the intake allocates and frees many small strings per request (JSON, receipts).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod awards;
mod cli;
mod decisions;
mod demo;
mod proofs;
mod public;
mod rehearse;
mod users;

use cli::{
    CallsCommand, Cli, Command, EntitiesCommand, ServicesCommand, TokensCommand, UsersCommand,
};

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // `rehearse` writes into --database only when it is on the command line (or, with
    // --target, in BANDI_DATABASE_URL): never into the default database by surprise.
    let database_source = matches.value_source("database");
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // A rehearsal prints its own report and progress bars; the server inside it only warns.
    let default_filter = match cli.command {
        Command::Rehearse(_) => "warn,sqlx=warn",
        _ => "info,sqlx=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
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
    match runtime.block_on(run(cli, database_source)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, database_source: Option<ValueSource>) -> anyhow::Result<()> {
    if let Command::Rehearse(args) = cli.command {
        let given = match database_source {
            Some(ValueSource::CommandLine) => true,
            Some(ValueSource::EnvVariable) => args.has_target(),
            _ => false,
        };
        return rehearse::run(args, given.then_some(cli.database)).await;
    }
    // What needs no database.
    match cli.command {
        Command::Keys(command) => return proofs::keys(command),
        Command::Receipt(command) => return proofs::receipt(command).await,
        Command::Verify {
            public: Some(url),
            checkpoints,
            hashes,
            save,
        } => {
            let r = public::verify(
                &url,
                checkpoints.as_deref(),
                hashes.as_deref(),
                save.as_deref(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("verification failed: {e:#}"))?;
            println!(
                "ok: {} ledger entries chained, {} checkpoints signed and matching, {} calls and {} applications replayed from the public ledger and matching what is served{}",
                r.entries,
                r.checkpoints,
                r.calls,
                r.applications,
                if r.saved > 0 {
                    format!("; {} saved checkpoints still hold", r.saved)
                } else {
                    String::new()
                }
            );
            return Ok(());
        }
        _ => {}
    }
    if let Command::Demo { reset: true, .. } = &cli.command {
        demo::reset(&cli.database)?;
    }
    let site = match &cli.site {
        Some(path) => bandi_web::site::Site::load(path).map_err(anyhow::Error::msg)?,
        None => bandi_web::site::Site::default(),
    };
    let (store, migrated) = open(&cli.database).await?;
    // The command line takes no submissions: no sequencer to start for it.
    let app = App::new(store.clone(), Intake::start_naive(store.clone()));
    let operator = Actor::Operator;
    match cli.command {
        Command::Migrate => println!("{migrated} migrations applied"),
        Command::Entities(EntitiesCommand::Import { file, region }) => {
            let n = import_entities(&app, &file, region.as_deref()).await?;
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
            let outcome = app.import_call(&operator, &call).await.map_err(refused)?;
            eprintln!(
                "{:?}: {} opens {} and closes {} (UTC); budget {}",
                outcome, call.code, call.opens_at, call.closes_at, call.budget
            );
            println!("{}", call.code);
        }
        Command::Calls(CallsCommand::Budget {
            code,
            add_cents,
            act,
            act_date,
            as_email,
        }) => {
            let date = act_date.unwrap_or_else(today);
            decisions::budget(&app, &code, add_cents, &act, &date, &as_email).await?
        }
        Command::Calls(CallsCommand::PublishList {
            code,
            act,
            act_date,
            act_file,
            as_email,
        }) => {
            let date = act_date.unwrap_or_else(today);
            decisions::publish_list(&app, &code, &act, &date, act_file.as_deref(), &as_email)
                .await?
        }
        Command::Services(ServicesCommand::Import { file }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let (catalogue, o) = app
                .import_catalogue_file(&operator, &text)
                .await
                .map_err(refused)?;
            println!(
                "{}: {} services ({} added, {} changed, {} unchanged, {} withdrawn)",
                catalogue.provider,
                catalogue.services.len(),
                o.added,
                o.changed,
                o.unchanged,
                o.withdrawn
            );
        }
        Command::Review(command) => decisions::review(&app, command).await?,
        Command::Reports(command) => awards::reports(&app, command).await?,
        Command::Payments(command) => awards::payments(&app, command).await?,
        Command::Awards(command) => awards::awards(&app, command).await?,
        Command::Export { format, call, out } => {
            let file = bandi_web::export(app.store(), &site, format, call.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.text.en, e.code))?;
            match out {
                Some(path) => {
                    std::fs::write(&path, &file.body)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!("{} bytes written to {}", file.body.len(), path.display());
                }
                None => std::io::Write::write_all(&mut std::io::stdout(), &file.body)?,
            }
        }
        Command::Tokens(TokensCommand::Issue { entity, user }) => {
            let token = match (entity, user) {
                (Some(entity), _) => app.issue_token(&operator, &entity).await,
                (None, Some(email)) => app.issue_user_token(&operator, &email).await,
                (None, None) => unreachable!("clap requires one"),
            }
            .map_err(refused)?;
            println!("{token}");
        }
        Command::Serve {
            listen,
            queue,
            max_queue_delay_ms,
            naive_intake,
            net,
            mail,
            signing,
        } => {
            let mailer = mail.mailer()?;
            signing.use_key(&app, &cli.database).await?;
            let intake = if naive_intake {
                tracing::warn!("naive intake: one locking transaction per submission (baseline)");
                Intake::start_naive(store.clone())
            } else {
                Intake::start(store.clone(), queue)
                    .with_max_queue_delay(Duration::from_millis(max_queue_delay_ms))
            };
            let checkpoints = (&signing, cli.database.as_str());
            serve(
                store,
                intake,
                listen,
                (net.config(), site),
                mailer,
                checkpoints,
            )
            .await?
        }
        Command::Users(UsersCommand::Add {
            email,
            name,
            role,
            entities,
            fiscal_code,
            password_stdin,
        }) => {
            let password = match password_stdin {
                true => users::read_password(std::io::stdin().lock())?,
                false => String::new(),
            };
            let new = NewAccount {
                email,
                name,
                role: Some(role),
                password,
                entities,
                fiscal_code: fiscal_code.unwrap_or_default(),
            };
            let user = users::add_user(&app, new).await?;
            println!("{}", user.id);
        }
        Command::Users(UsersCommand::Disable { email }) => {
            users::set_disabled(&app, &email, true).await?
        }
        Command::Users(UsersCommand::Enable { email }) => {
            users::set_disabled(&app, &email, false).await?
        }
        Command::Users(UsersCommand::SetPassword {
            email,
            password_stdin: _,
        }) => {
            let password = users::read_password(std::io::stdin().lock())?;
            users::set_password(&app, &email, &password).await?
        }
        Command::Verify { .. } => {
            let r = app
                .verify()
                .await
                .map_err(|e| anyhow::anyhow!("verification failed: {e}"))?;
            println!(
                "ok: {} ledger entries chained (head {}), {} calls and {} applications replayed and matching, {} runs of fold logs encoded again and matching",
                r.entries,
                &r.head_hash[..16],
                r.calls,
                r.applications,
                r.fold_log_runs
            );
        }
        Command::Demo {
            listen,
            opens_in,
            reset: _,
            mail,
            signing,
        } => {
            let mailer = mail.mailer()?;
            // The demo's applications are signed too.
            signing.use_key(&app, &cli.database).await?;
            demo::seed(&app, opens_in, listen).await?;
            let intake = Intake::start(store.clone(), 20_000);
            let checkpoints = (&signing, cli.database.as_str());
            serve(
                store,
                intake,
                listen,
                (NetConfig::default(), site),
                mailer,
                checkpoints,
            )
            .await?;
        }
        Command::Rehearse(_) | Command::Keys(_) | Command::Receipt(_) => {
            unreachable!("handled above")
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
    app: &App,
    file: &Path,
    region: Option<&str>,
) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let entities = parse_registry(&text, region)
        .map_err(|e| anyhow::anyhow!("{}: nothing imported\n{e}", file.display()))?;
    app.import_entities(&Actor::Operator, &entities)
        .await
        .map_err(refused)
}

/// A refusal of a use case, as the command line says it.
pub(crate) fn refused(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{} ({})", e.text().en, e.code())
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

/// The server's shared state: the one place that builds it, for `serve` and `rehearse`.
pub(crate) fn app_state(store: Store, intake: Intake, net: NetConfig) -> Arc<AppState> {
    Arc::new(AppState::new(App::new(store, intake), net))
}

async fn serve(
    store: Store,
    intake: Intake,
    listen: SocketAddr,
    (net, site): (NetConfig, bandi_web::site::Site),
    mailer: Option<Mailer>,
    (signing, database): (&proofs::SigningArgs, &str),
) -> anyhow::Result<()> {
    // The click day's requests then find their tokens and entities in memory. In the
    // background, so that start-up does not grow with them; a request meanwhile looks its
    // own up. Not fatal: what is not loaded is looked up when presented.
    let loader = store.clone();
    let sequencer = intake.clone();
    tokio::spawn(async move {
        // After the sequencer's load of the open calls, which the first submission waits
        // for: on two cores, loading both at once delayed it.
        match loader.load_tokens_once(sequencer.calls_loaded()).await {
            Ok(n) => tracing::info!(tokens = n, "API tokens and their entities loaded"),
            Err(e) => tracing::warn!(error = %e, "API tokens not loaded in advance"),
        }
    });
    let state = Arc::new(AppState::new(App::new(store, intake), net).with_site(site));
    // The outbox's sender: notices written with their events are delivered (or, without
    // a relay, dispatched to stay in the outbox) while the server runs.
    let (stop_sender, stopped) = tokio::sync::watch::channel(false);
    let sender = tokio::spawn(bandi_app::outbox::run_sender(
        state.app.clone(),
        mailer,
        Duration::from_secs(2),
        stopped.clone(),
    ));
    let checkpointer = signing.checkpointer(&state.app, database, stopped);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    let served = bandi_web::serve(listener, state, shutdown_signal()).await;
    let _ = stop_sender.send(true);
    let _ = sender.await;
    let _ = checkpointer.await;
    served?;
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

/// Today's date in Italy, `YYYY-MM-DD`: the default date of an act.
pub(crate) fn today() -> String {
    Timestamp::now()
        .to_zoned_datetime(
            jiff::tz::TimeZone::get("Europe/Rome").unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .date()
        .to_string()
}

/// Minutes as a signed duration, for the demo's opening.
pub(crate) fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}
