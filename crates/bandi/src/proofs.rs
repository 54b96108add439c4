//! `bandi keys generate`, `bandi receipt verify`, and how `serve` finds its signing key
//! and where it mirrors its checkpoints.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use bandi_app::App;
use bandi_app::proofs::{
    generate_key_file, load_key_file, load_or_create_key, public_keys_from, verify_receipt_json,
};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make a new Ed25519 signing key in FILE (never overwritten); prints its id.
    Generate {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Check a signed receipt offline: exits 0 when genuine, else names why.
    Verify {
        /// The receipt's JSON (the API's answer or the receipt page's download).
        file: PathBuf,
        /// The deployment whose /api/v1/keys holds the key; its ledger entry is compared too.
        #[arg(long, conflicts_with = "key", required_unless_present = "key")]
        key_url: Option<String>,
        /// A file with the public key: the JSON of /api/v1/keys, a key file, or base64.
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

/// Where the server keeps its signing key and its checkpoints.
#[derive(clap::Args, Clone)]
pub struct SigningArgs {
    /// The signing key file. Without it, the key in the data directory (made at the first
    /// start, and said so in the log).
    #[arg(long = "signing-key", env = "BANDI_SIGNING_KEY")]
    signing_key: Option<PathBuf>,
    /// Where the key and the checkpoints' mirror live by default: the SQLite database's
    /// folder, or `bandi-data` for PostgreSQL.
    #[arg(long = "data-dir", env = "BANDI_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Every checkpoint is also appended to this file (one JSON object per line), for a
    /// deployment to copy elsewhere. Default: checkpoints.jsonl in the data directory.
    #[arg(long = "checkpoints-file", env = "BANDI_CHECKPOINTS_FILE")]
    checkpoints_file: Option<PathBuf>,
    /// Seconds between checkpoints while the ledger moves (and at once after a published
    /// list, an opening or a closing).
    #[arg(long, env = "BANDI_CHECKPOINT_EVERY_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    checkpoint_every_secs: u64,
}

impl SigningArgs {
    fn data_dir(&self, database: &str) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        match database.strip_prefix("sqlite:") {
            Some(path) => {
                let file = path
                    .trim_start_matches("//")
                    .split('?')
                    .next()
                    .unwrap_or("");
                Path::new(file)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."))
            }
            None => PathBuf::from("bandi-data"),
        }
    }

    /// Loads (or makes) the key and gives it to the app: what is committed from now on
    /// is signed.
    pub async fn use_key(&self, app: &App, database: &str) -> anyhow::Result<()> {
        let dir = self.data_dir(database);
        let key = match &self.signing_key {
            Some(path) => load_key_file(path).map_err(crate::refused)?,
            None => {
                let path = dir.join("signing-key.json");
                let (key, made) = load_or_create_key(&path).map_err(crate::refused)?;
                if made {
                    tracing::warn!(path = %path.display(), key_id = %key.key_id,
                        "no signing key given: made a new one (keep it, and back it up)");
                }
                key
            }
        };
        app.use_signing_key(key).await.map_err(crate::refused)?;
        Ok(())
    }

    /// The task that signs checkpoints and mirrors them to the file.
    pub fn checkpointer(
        &self,
        app: &App,
        database: &str,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let file = self
            .checkpoints_file
            .clone()
            .unwrap_or_else(|| self.data_dir(database).join("checkpoints.jsonl"));
        tokio::spawn(bandi_app::proofs::run_checkpointer(
            app.clone(),
            Duration::from_secs(self.checkpoint_every_secs),
            Duration::from_secs(1),
            Some(file),
            shutdown,
        ))
    }
}

pub fn keys(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Generate { out } => {
            let public = generate_key_file(&out).map_err(crate::refused)?;
            eprintln!(
                "signing key written to {} (keep it secret; its public key is published by the server at /api/v1/keys)",
                out.display()
            );
            println!("{}", public.key_id);
        }
    }
    Ok(())
}

pub async fn receipt(command: ReceiptCommand) -> anyhow::Result<()> {
    let ReceiptCommand::Verify { file, key_url, key } = command;
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let keys_text = match (&key_url, &key) {
        (Some(url), _) => {
            let url = format!("{}/api/v1/keys", url.trim_end_matches('/'));
            reqwest::get(&url)
                .await
                .and_then(|r| r.error_for_status())
                .with_context(|| format!("GET {url}"))?
                .text()
                .await?
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => unreachable!("clap requires one"),
    };
    let keys = public_keys_from(&keys_text).map_err(crate::refused)?;
    let receipt = verify_receipt_json(&text, &keys).map_err(crate::refused)?;
    println!(
        "genuine: {} of call {}, entity {}, admitted {}, received {}, ledger entry {} ({})",
        receipt.protocol,
        receipt.call,
        receipt.entity,
        receipt.admitted_at,
        receipt.received_at,
        receipt.ledger_seq,
        receipt.ledger_hash
    );
    // Against the deployment: its ledger must still hold the entry the receipt was given.
    if let Some(url) = key_url {
        let page = format!(
            "{}/api/v1/ledger?after={}&limit=1",
            url.trim_end_matches('/'),
            receipt.ledger_seq - 1
        );
        let v: serde_json::Value = reqwest::get(&page).await?.json().await?;
        let served = v["items"][0]["hash"].as_str().unwrap_or("");
        if served != receipt.ledger_hash {
            anyhow::bail!(
                "the receipt is genuine, but the deployment's ledger entry {} is now {} instead of {}: history was rewritten after the receipt",
                receipt.ledger_seq,
                if served.is_empty() { "missing" } else { served },
                receipt.ledger_hash
            );
        }
        println!(
            "the deployment's ledger still holds entry {}",
            receipt.ledger_seq
        );
    }
    Ok(())
}
