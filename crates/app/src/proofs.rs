//! The server's signing key and what it signs: the key file (`bandi keys generate`, or one
//! made in the data directory at the first start), the published keys, the checkpoints
//! and the task that signs them while the ledger moves, mirroring each to a file that a
//! deployment can copy elsewhere; and a receipt's check, offline.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use bandi_domain::instant::format_utc;
use bandi_domain::proof::{PublicKey, ReceiptSignature, SigningKeyPair, verify_receipt};
use bandi_store::{Checkpoint, PublishedKey, Receipt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::{App, AppError};

/// A signing key as kept on disk (mode 0600). The public part and the id travel with it
/// so that a person can tell which key a file holds without tools.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    algorithm: String,
    key_id: String,
    public_key: String,
    secret_key: String,
    created_at: String,
}

fn key_error(path: &Path, problem: impl std::fmt::Display) -> AppError {
    AppError::InvalidKeyFile(format!("{}: {problem}", path.display()))
}

/// Makes a new key and writes it to `path`, which must not exist (a key is never
/// overwritten: what it signed would become uncheckable).
pub fn generate_key_file(path: &Path) -> Result<PublicKey, AppError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| key_error(path, e))?;
    let key = SigningKeyPair::from_secret(secret);
    let file = KeyFile {
        algorithm: "ed25519".into(),
        key_id: key.key_id.clone(),
        public_key: key.public().to_base64(),
        secret_key: key.secret_base64(),
        created_at: format_utc(Timestamp::now()),
    };
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| key_error(path, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(|e| key_error(path, e))?;
    let text = serde_json::to_string_pretty(&file).expect("a key file serialises");
    f.write_all(text.as_bytes())
        .and_then(|_| f.write_all(b"\n"))
        .and_then(|_| f.sync_all())
        .map_err(|e| key_error(path, e))?;
    Ok(key.public())
}

/// Reads a key file; its id and public key must agree with its secret.
pub fn load_key_file(path: &Path) -> Result<SigningKeyPair, AppError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| key_error(path, e))?;
    if file.algorithm != "ed25519" {
        return Err(key_error(path, format!("algorithm {:?}", file.algorithm)));
    }
    let key =
        SigningKeyPair::from_secret_base64(&file.secret_key).map_err(|e| key_error(path, e))?;
    if key.key_id != file.key_id || key.public().to_base64() != file.public_key {
        return Err(key_error(
            path,
            "its id or public key does not match its secret",
        ));
    }
    Ok(key)
}

/// The key at `path`, made there first if there is none: `(key, made now)`.
pub fn load_or_create_key(path: &Path) -> Result<(SigningKeyPair, bool), AppError> {
    if !path.exists() {
        match generate_key_file(path) {
            Ok(_) => return Ok((load_key_file(path)?, true)),
            // Another node of the deployment made it first.
            Err(_) if path.exists() => {}
            Err(e) => return Err(e),
        }
    }
    // A file just created by another process may not be written yet.
    let mut tries = 0;
    loop {
        match load_key_file(path) {
            Ok(key) => return Ok((key, false)),
            Err(_) if tries < 20 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Public keys from what a person may hold: the JSON of `/api/v1/keys`, a key file, or
/// the base64 of one public key.
pub fn public_keys_from(text: &str) -> Result<Vec<PublicKey>, AppError> {
    let invalid = |why: &str| AppError::InvalidKeyFile(why.to_string());
    let text = text.trim();
    if !text.starts_with('{') {
        return PublicKey::from_base64(text)
            .map(|k| vec![k])
            .map_err(|e| invalid(&e.to_string()));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(&e.to_string()))?;
    let one = |v: &serde_json::Value| -> Result<PublicKey, AppError> {
        let b64 = v["public_key"]
            .as_str()
            .ok_or_else(|| invalid("no public_key"))?;
        PublicKey::from_base64(b64).map_err(|e| invalid(&e.to_string()))
    };
    match value["items"].as_array() {
        Some(items) => items.iter().map(one).collect(),
        None => Ok(vec![one(&value)?]),
    }
}

/// A receipt as the server gave it (its JSON), checked against `keys`: `Ok` with the
/// receipt when its signature holds.
pub fn verify_receipt_json(text: &str, keys: &[PublicKey]) -> Result<Receipt, AppError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| AppError::InvalidReceipt(format!("not a receipt: {e}")))?;
    // The API's answer wraps it; the receipt page's download is the receipt itself.
    let value = match value.get("receipt") {
        Some(inner) => inner.clone(),
        None => value,
    };
    let receipt: Receipt = serde_json::from_value(value)
        .map_err(|e| AppError::InvalidReceipt(format!("not a receipt: {e}")))?;
    let signed: ReceiptSignature = receipt
        .signed()
        .ok_or_else(|| AppError::InvalidReceipt("the receipt carries no signature".into()))?;
    verify_receipt(&receipt.signed_fields(), &signed, keys)
        .map_err(|e| AppError::InvalidReceipt(e.to_string()))?;
    Ok(receipt)
}

impl App {
    /// Signs from now on with `key`: receipts of every batch, checkpoints; its public key
    /// is published (and the one before it ends).
    pub async fn use_signing_key(&self, key: SigningKeyPair) -> Result<(), AppError> {
        let id = key.key_id.clone();
        // Published before its first signature: what it signs falls within its validity.
        self.store().register_signing_key(&key).await?;
        if !self.store().set_signer(key) {
            return Err(AppError::Internal("a signing key is set already".into()));
        }
        tracing::info!(key_id = %id, "signing receipts and checkpoints");
        Ok(())
    }

    pub async fn published_keys(&self) -> Result<Vec<PublishedKey>, AppError> {
        Ok(self.store().published_keys().await?)
    }

    pub async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<Checkpoint>, AppError> {
        Ok(self.store().checkpoints(after, limit).await?)
    }

    /// A checkpoint of the ledger now, if it moved since the last one.
    pub async fn checkpoint_now(&self) -> Result<Option<Checkpoint>, AppError> {
        Ok(self.store().checkpoint().await?)
    }
}

/// Mirrors every checkpoint after `after` to `file` (one JSON object per line); returns the
/// number of the last one written.
async fn mirror(app: &App, file: &Path, mut after: u64) -> Result<u64, AppError> {
    loop {
        let page = app.checkpoints(after, 500).await?;
        if page.is_empty() {
            return Ok(after);
        }
        let mut lines = String::new();
        for c in &page {
            lines.push_str(&serde_json::to_string(c).expect("a checkpoint serialises"));
            lines.push('\n');
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .map_err(|e| AppError::Unavailable(format!("{}: {e}", file.display())))?;
        f.write_all(lines.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(|e| AppError::Unavailable(format!("{}: {e}", file.display())))?;
        after = page.last().map(|c| c.seq).unwrap_or(after);
    }
}

/// The last checkpoint number already in `file`.
fn mirrored_until(file: &Path) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|text| {
            text.lines()
                .rev()
                .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        })
        .and_then(|v| v["seq"].as_u64())
        .unwrap_or(0)
}

/// Signs a checkpoint every `every` while the ledger moves, and at once after a list is
/// published or a call opens or closes; checks each `tick`. With `file`, each checkpoint
/// is also appended to it. Stops when `shutdown` turns true.
pub async fn run_checkpointer(
    app: App,
    every: Duration,
    tick: Duration,
    file: Option<std::path::PathBuf>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut mirrored = file.as_deref().map(mirrored_until).unwrap_or(0);
    let mut last_at = Timestamp::now();
    loop {
        let round = async {
            let last = app.store().latest_checkpoint().await?;
            let (size, _) = app.store().ledger_head().await?;
            let after = last.as_ref().map(|c| c.size).unwrap_or(0);
            let due = size > after
                && (Timestamp::now().duration_since(last_at).unsigned_abs() >= every
                    || app.store().milestone_since(after, last_at).await?);
            if due && let Some(c) = app.checkpoint_now().await? {
                tracing::info!(size = c.size, head = %c.head, "checkpoint signed");
                last_at = Timestamp::now();
            }
            if let Some(file) = &file {
                mirrored = mirror(&app, file, mirrored).await?;
            }
            Ok::<_, AppError>(())
        };
        tokio::select! {
            r = round => if let Err(e) = r {
                tracing::warn!(error = %e, "checkpoint round failed");
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.wait_for(|stop| *stop) => break,
        }
    }
    // A last one as the server stops, so that what it wrote is covered.
    match app.checkpoint_now().await {
        Ok(Some(c)) => tracing::info!(size = c.size, "checkpoint signed at shutdown"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "no checkpoint at shutdown"),
    }
    if let Some(file) = &file
        && let Err(e) = mirror(&app, file, mirrored).await
    {
        tracing::warn!(error = %e, "checkpoints not mirrored at shutdown");
    }
}
