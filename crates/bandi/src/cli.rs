//! The command line: what `bandi` takes, its subcommands and their arguments (clap).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bandi_app::outbox::Mailer;
use bandi_domain::account::Role;
use bandi_web::NetConfig;
use clap::{Parser, Subcommand};

use crate::{awards, decisions, proofs, refused, rehearse};

#[derive(Parser)]
#[command(
    name = "bandi",
    version,
    about = "Calls for funding for local authorities, from publication to the click day"
)]
pub(crate) struct Cli {
    /// `sqlite:PATH` or `postgres://...`
    #[arg(
        long,
        env = "BANDI_DATABASE_URL",
        global = true,
        default_value = "sqlite:bandi-data/bandi.db"
    )]
    pub(crate) database: String,
    /// The deployment's site file (TOML: name, url, fiscal_code, office, pec, email, phone,
    /// address, logo): the header, the footer and the open data name it. The Regione
    /// Emilia-Romagna without one.
    #[arg(long, env = "BANDI_SITE_FILE", global = true)]
    pub(crate) site: Option<PathBuf>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
    /// The services catalogue of the region's in-house provider.
    #[command(subcommand)]
    Services(ServicesCommand),
    /// Serve the API (several processes may serve one PostgreSQL database).
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Submissions that may wait for the sequencer before new ones get 503.
        #[arg(long, default_value_t = 20_000)]
        queue: usize,
        /// How long the oldest queued submission may wait before new ones get 503 with
        /// Retry-After, in milliseconds.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=600_000))]
        max_queue_delay_ms: u64,
        /// Take submissions with the naive intake (one transaction per request that locks
        /// the call) instead of the sequencer: only as the benchmarks' baseline.
        #[arg(long)]
        naive_intake: bool,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        signing: proofs::SigningArgs,
    },
    /// Accounts of the people who sign in to the web pages.
    #[command(subcommand)]
    Users(UsersCommand),
    /// The review of applications after the click day (istruttoria), as an official.
    #[command(subcommand)]
    Review(decisions::ReviewCommand),
    /// Expense reports of funded applications: their verification, as an official.
    #[command(subcommand)]
    Reports(awards::ReportsCommand),
    /// Payments to funded authorities, as an admin.
    #[command(subcommand)]
    Payments(awards::PaymentsCommand),
    /// Awards: revocations and report deadlines, as an admin.
    #[command(subcommand)]
    Awards(awards::AwardsCommand),
    /// The grants as open data, the same files the transparency page links: `transparency`
    /// (JSON, D.Lgs. 33/2013 art. 26-27), `360giving` (a 360Giving data package) or `csv`
    /// (for a spreadsheet set to Italian).
    Export {
        #[arg(value_parser = parse_export_format)]
        format: bandi_web::ExportFormat,
        /// The call; every call without it.
        #[arg(long)]
        call: Option<String>,
        /// Where to write it; the standard output without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check the ledger chain and replay every call's allocation, on the database; or,
    /// with --public, a running deployment from its public endpoints alone.
    Verify {
        /// The deployment's base URL, e.g. https://bandi.regione.example
        #[arg(long)]
        public: Option<String>,
        /// Checkpoints saved earlier (the JSON of /api/v1/checkpoints, or the mirrored
        /// file): each must still agree with the ledger served now.
        #[arg(long, requires = "public")]
        checkpoints: Option<PathBuf>,
        /// Entry hashes saved earlier by --save, to name the first entry that differs.
        #[arg(long, requires = "checkpoints")]
        hashes: Option<PathBuf>,
        /// Keep this look's checkpoints and entry hashes in this directory for the next.
        #[arg(long, requires = "public")]
        save: Option<PathBuf>,
    },
    /// Signing keys.
    #[command(subcommand)]
    Keys(proofs::KeysCommand),
    /// Signed receipts.
    #[command(subcommand)]
    Receipt(proofs::ReceiptCommand),
    /// Rehearse a click day: a rehearsal call, N entities submitting from C concurrent
    /// clients, throughput, latency and every invariant checked.
    Rehearse(rehearse::RehearseArgs),
    /// Seed the Emilia-Romagna 2020 call, opening two minutes from now, and serve.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Minutes from now to the opening of the demo call (rounded up to the minute), on a
        /// new database.
        #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(i64).range(0..=7 * 24 * 60))]
        opens_in: i64,
        /// Start over: delete the embedded database (and its signing key's data stays) first.
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        mail: MailArgs,
        #[command(flatten)]
        signing: proofs::SigningArgs,
    },
}

/// How the server meets the network.
#[derive(clap::Args, Clone)]
pub(crate) struct NetArgs {
    /// A proxy (address or CIDR range) whose X-Forwarded-For and X-Forwarded-Proto are
    /// believed; repeat for several. None by default: behind the Region's reverse proxy,
    /// give its address, or the sign-in throttle and the per-address limits see only it.
    #[arg(long = "trusted-proxy", env = "BANDI_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_net)]
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a client may take to send a request's headers (and to keep an idle
    /// connection open).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(crate) header_timeout_secs: u64,
    /// Open connections at most, and from one address (a trusted proxy has no cap).
    #[arg(long, default_value_t = 16_384)]
    pub(crate) max_connections: usize,
    #[arg(long, default_value_t = 4_096)]
    pub(crate) max_connections_per_address: usize,
}

/// Where the notices go: an SMTP relay (PEC providers are reached through it too).
#[derive(clap::Args, Clone)]
pub(crate) struct MailArgs {
    /// The relay, as smtp://host:port. Without it the notices stay in the outbox (and in
    /// the entities' reserved area); the officials' page shows them.
    #[arg(long = "smtp", env = "BANDI_SMTP_URL")]
    pub(crate) smtp: Option<String>,
    /// The sender's address of the notices.
    #[arg(
        long = "smtp-from",
        env = "BANDI_SMTP_FROM",
        default_value = "bandi@regione.emilia-romagna.it"
    )]
    pub(crate) smtp_from: String,
}

impl MailArgs {
    pub(crate) fn mailer(&self) -> anyhow::Result<Option<Mailer>> {
        match &self.smtp {
            Some(url) => Ok(Some(
                Mailer::from_url(url, &self.smtp_from).map_err(refused)?,
            )),
            None => Ok(None),
        }
    }
}

impl NetArgs {
    pub(crate) fn config(&self) -> NetConfig {
        NetConfig {
            trusted_proxies: self.trusted_proxies.clone(),
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            max_connections: self.max_connections.max(1),
            max_connections_per_address: self.max_connections_per_address.max(1),
            ..NetConfig::default()
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("{s:?} is not a role: admin, reviewer or applicant"))
}

fn parse_export_format(s: &str) -> Result<bandi_web::ExportFormat, String> {
    bandi_web::ExportFormat::parse(s).ok_or_else(|| {
        let names: Vec<_> = bandi_web::ExportFormat::ALL.map(|f| f.as_str()).into();
        format!("one of {}", names.join(", "))
    })
}

/// `10.0.0.1` or `10.0.0.0/8`.
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is neither an address nor a CIDR range (e.g. 10.0.0.0/8)"))
}

#[derive(Subcommand)]
pub(crate) enum EntitiesCommand {
    /// Import the ISTAT list of comuni or a plain CSV (code,name,kind,fiscal_code,province,members).
    Import {
        file: PathBuf,
        /// Keep only (ISTAT file) or assign (plain file) this ISTAT region code.
        #[arg(long)]
        region: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ServicesCommand {
    /// Replace the catalogue with a TOML file (services left out are withdrawn); prints
    /// what changed.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
pub(crate) enum CallsCommand {
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
    /// Add money to a call's budget (negative: take it away, never below what is
    /// reserved), by an act; the waitlist moves in protocol order.
    Budget {
        code: String,
        #[arg(long, allow_hyphen_values = true)]
        add_cents: i64,
        /// The act's number, e.g. "DGR 1234/2020".
        #[arg(long)]
        act: String,
        /// The act's date, YYYY-MM-DD (default: today).
        #[arg(long)]
        act_date: Option<String>,
        #[arg(long = "as")]
        as_email: String,
    },
    /// Publish a frozen version of the call's list, approved by an act.
    PublishList {
        code: String,
        #[arg(long)]
        act: String,
        #[arg(long)]
        act_date: Option<String>,
        /// The act's document (PDF or signed PDF).
        #[arg(long)]
        act_file: Option<PathBuf>,
        #[arg(long = "as")]
        as_email: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum UsersCommand {
    /// Create an account; its password is the first line of standard input; prints its id last.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// `admin` (an official of the region who manages calls and users), `reviewer` (an
        /// official who reviews applications) or `applicant` (staff of local authorities).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// An entity code the account acts for; repeat for several.
        #[arg(long = "entity")]
        entities: Vec<String>,
        /// The person's fiscal code: they sign in with SPID or CIE (through the identity
        /// providers of the site file) as this account.
        #[arg(long)]
        fiscal_code: Option<String>,
        /// Read the password from standard input (never from the command line); required
        /// unless the account has a fiscal code.
        #[arg(long, required_unless_present = "fiscal_code")]
        password_stdin: bool,
    },
    /// Disable an account: it cannot sign in, and its sessions end.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Give an account a new password (its owner forgot theirs): the first line of standard
    /// input; every session of the account ends.
    SetPassword {
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum TokensCommand {
    /// Issue a bearer token for an entity (to submit) or for an official's account (the
    /// review's API); prints the token last.
    Issue {
        #[arg(long, required_unless_present = "user", conflicts_with = "user")]
        entity: Option<String>,
        /// The official's e-mail.
        #[arg(long)]
        user: Option<String>,
    },
}
