//! What lets anyone check the platform without trusting it (`docs/ledger.md`): signed
//! receipts, signed checkpoints of the ledger, and canonical JSON for derived hashes.
//!
//! - A receipt's **signed text** is a fixed list of `name:value` lines; the receipts of one
//!   committed batch are the leaves of a Merkle tree (RFC 9162 §2.1: leaf `SHA-256(0x00 ‖
//!   text)`, node `SHA-256(0x01 ‖ left ‖ right)`), and the server signs the batch's root
//!   once with Ed25519. Each receipt carries the root, its index, the batch's size and its
//!   inclusion path: a receipt alone, with the public key, proves what was accepted and
//!   when, and signing costs one signature per batch, not one per request.
//! - A **checkpoint** signs the ledger's size and head hash at an instant (in the spirit of
//!   RFC 9162's signed tree heads): a later rewrite of anything before it is provable by
//!   anyone who kept it.
//! - A key is named by its **key id**: the hex of the first 8 bytes of the SHA-256 of its
//!   32-byte public key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// JSON with object keys sorted by byte order and no whitespace (integers only, strings
/// escaped minimally): what `rules_sha256` hashes. `serde_json::Value` keeps keys sorted.
pub fn canonical_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("a value serialises")
}

/// The canonical text of a canonical JSON value, and its SHA-256 in hex.
pub fn canonical_sha256(value: &serde_json::Value) -> (String, String) {
    let text = serde_json::to_string(value).expect("a value serialises");
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    (text, sha)
}

/// The fields of a receipt the server signs, in the order of its signed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptFields<'a> {
    pub call: &'a str,
    pub protocol: &'a str,
    pub seq: u64,
    pub entity: &'a str,
    pub admitted_at: &'a str,
    pub received_at: &'a str,
    pub content_sha256: &'a str,
    pub requested_cents: i64,
    pub status: &'a str,
    pub reserved_cents: i64,
    pub ledger_seq: u64,
    pub ledger_prev_hash: &'a str,
    pub ledger_hash: &'a str,
}

impl ReceiptFields<'_> {
    /// `bandi-receipt-v1\ncall:…\n…ledger_hash:…\n`. No field can hold a newline: codes,
    /// instants, hashes and numbers.
    pub fn signed_text(&self) -> String {
        format!(
            "bandi-receipt-v1\ncall:{}\nprotocol:{}\nseq:{}\nentity:{}\nadmitted_at:{}\n\
             received_at:{}\ncontent_sha256:{}\nrequested_cents:{}\nstatus:{}\n\
             reserved_cents:{}\nledger_seq:{}\nledger_prev_hash:{}\nledger_hash:{}\n",
            self.call,
            self.protocol,
            self.seq,
            self.entity,
            self.admitted_at,
            self.received_at,
            self.content_sha256,
            self.requested_cents,
            self.status,
            self.reserved_cents,
            self.ledger_seq,
            self.ledger_prev_hash,
            self.ledger_hash
        )
    }
}

type Hash = [u8; 32];

pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two smaller than `n` (`n` ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The Merkle tree hash of `leaves` (RFC 9162 §2.1.1); `leaves` is not empty.
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&merkle_root(&leaves[..k]), &merkle_root(&leaves[k..]))
        }
    }
}

/// The inclusion path of leaf `index` (RFC 9162 §2.1.3.1), nearest sibling first.
pub fn inclusion_path(leaves: &[Hash], index: usize) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = inclusion_path(&leaves[..k], index);
        path.push(merkle_root(&leaves[k..]));
        path
    } else {
        let mut path = inclusion_path(&leaves[k..], index - k);
        path.push(merkle_root(&leaves[..k]));
        path
    }
}

/// The root of `leaves` and every leaf's inclusion path at once, in O(n log n): what a
/// batch needs (computing each path on its own would hash the tree again for each leaf).
pub fn root_and_paths(leaves: &[Hash]) -> (Hash, Vec<Vec<Hash>>) {
    fn build(leaves: &[Hash], paths: &mut [Vec<Hash>]) -> Hash {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = split(leaves.len());
        let (lp, rp) = paths.split_at_mut(k);
        let left = build(&leaves[..k], lp);
        let right = build(&leaves[k..], rp);
        for p in lp {
            p.push(right);
        }
        for p in rp {
            p.push(left);
        }
        node_hash(&left, &right)
    }
    if leaves.is_empty() {
        return (merkle_root(leaves), Vec::new());
    }
    let mut paths = vec![Vec::new(); leaves.len()];
    let root = build(leaves, &mut paths);
    (root, paths)
}

/// The root that `leaf` at `index` of a tree of `size` leaves leads to through `path`
/// (RFC 9162 §2.1.3.2), or `None` when the path cannot belong to such a tree.
pub fn root_from_path(leaf: Hash, index: usize, size: usize, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// `bandi-receipt-batch-v1\nkey_id:…\nsize:…\nroot:…\n`: what one signature covers.
pub fn batch_text(key_id: &str, size: usize, root: &Hash) -> String {
    format!(
        "bandi-receipt-batch-v1\nkey_id:{key_id}\nsize:{size}\nroot:{}\n",
        hex::encode(root)
    )
}

/// `bandi-checkpoint-v1\nkey_id:…\nsize:…\nhead:…\ntime:…\n`.
pub fn checkpoint_text(key_id: &str, size: u64, head: &str, time: &str) -> String {
    format!("bandi-checkpoint-v1\nkey_id:{key_id}\nsize:{size}\nhead:{head}\ntime:{time}\n")
}

/// A receipt's place in its signed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProof {
    pub size: usize,
    pub index: usize,
    /// Hex of the batch's Merkle root.
    pub root: String,
    /// Hex of the inclusion path, nearest sibling first.
    pub path: Vec<String>,
}

/// A receipt's signature: the key, the batch signature (base64) and the receipt's place.
/// Its fields sit beside the receipt's own in the receipt's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSignature {
    pub key_id: String,
    pub signature: String,
    pub batch: BatchProof,
}

/// Why a signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the receipt was signed with key {0}, which is not among the keys given")]
    UnknownKey(String),
    #[error("a hash or signature is not well formed: {0}")]
    Malformed(String),
    #[error("the receipt's fields do not lead to the signed batch root (a field was changed)")]
    NotInBatch,
    #[error("the signature does not match: the signed text was changed or another key signed it")]
    BadSignature,
}

fn hash_of(hex_text: &str) -> Result<Hash, ProofError> {
    let bytes = hex::decode(hex_text).map_err(|_| ProofError::Malformed(hex_text.into()))?;
    bytes
        .try_into()
        .map_err(|_| ProofError::Malformed(hex_text.into()))
}

/// A public key as published: its id and its 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    key: VerifyingKey,
}

impl PublicKey {
    /// From the base64 of the 32 raw bytes, as `/api/v1/keys` publishes them.
    pub fn from_base64(text: &str) -> Result<PublicKey, ProofError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| ProofError::Malformed(text.into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ProofError::Malformed(text.into()))?;
        let key =
            VerifyingKey::from_bytes(&bytes).map_err(|_| ProofError::Malformed(text.into()))?;
        Ok(PublicKey {
            key_id: key_id(&bytes),
            key,
        })
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.key.as_bytes())
    }

    /// Whether `signature` (base64) is this key's over `text`.
    pub fn verify(&self, text: &str, signature: &str) -> Result<(), ProofError> {
        let bytes = BASE64
            .decode(signature.trim())
            .map_err(|_| ProofError::Malformed(signature.into()))?;
        let sig = ed25519_dalek::Signature::from_slice(&bytes)
            .map_err(|_| ProofError::Malformed(signature.into()))?;
        self.key
            .verify(text.as_bytes(), &sig)
            .map_err(|_| ProofError::BadSignature)
    }
}

/// The id of a public key: hex of the first 8 bytes of its SHA-256.
pub fn key_id(public_key: &[u8; 32]) -> String {
    hex::encode(&Sha256::digest(public_key)[..8])
}

/// The server's signing key.
pub struct SigningKeyPair {
    key: SigningKey,
    pub key_id: String,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(f, "SigningKeyPair({})", self.key_id)
    }
}

impl SigningKeyPair {
    /// From 32 secret bytes (a seed from the OS's random source, or a key file).
    pub fn from_secret(secret: [u8; 32]) -> SigningKeyPair {
        let key = SigningKey::from_bytes(&secret);
        let key_id = key_id(key.verifying_key().as_bytes());
        SigningKeyPair { key, key_id }
    }

    pub fn from_secret_base64(text: &str) -> Result<SigningKeyPair, ProofError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| ProofError::Malformed("secret key".into()))?;
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ProofError::Malformed("secret key".into()))?;
        Ok(SigningKeyPair::from_secret(secret))
    }

    pub fn secret_base64(&self) -> String {
        BASE64.encode(self.key.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// The base64 signature of `text`.
    pub fn sign(&self, text: &str) -> String {
        BASE64.encode(self.key.sign(text.as_bytes()).to_bytes())
    }

    /// Signs a batch of receipts' signed texts at once: each one's signature, in order.
    pub fn sign_batch(&self, texts: &[String]) -> Vec<ReceiptSignature> {
        let leaves: Vec<Hash> = texts.iter().map(|t| leaf_hash(t.as_bytes())).collect();
        let (root, paths) = root_and_paths(&leaves);
        let signature = self.sign(&batch_text(&self.key_id, leaves.len(), &root));
        let root_hex = hex::encode(root);
        paths
            .into_iter()
            .enumerate()
            .map(|(i, path)| ReceiptSignature {
                key_id: self.key_id.clone(),
                signature: signature.clone(),
                batch: BatchProof {
                    size: leaves.len(),
                    index: i,
                    root: root_hex.clone(),
                    path: path.iter().map(hex::encode).collect(),
                },
            })
            .collect()
    }
}

/// Checks a receipt's signature: its fields lead to the batch's root, and the root is
/// signed by the key it names (one of `keys`).
pub fn verify_receipt(
    fields: &ReceiptFields<'_>,
    signature: &ReceiptSignature,
    keys: &[PublicKey],
) -> Result<(), ProofError> {
    let key = keys
        .iter()
        .find(|k| k.key_id == signature.key_id)
        .ok_or_else(|| ProofError::UnknownKey(signature.key_id.clone()))?;
    let b = &signature.batch;
    let path = b
        .path
        .iter()
        .map(|p| hash_of(p))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = leaf_hash(fields.signed_text().as_bytes());
    let root = root_from_path(leaf, b.index, b.size, &path).ok_or(ProofError::NotInBatch)?;
    if root != hash_of(&b.root)? {
        return Err(ProofError::NotInBatch);
    }
    key.verify(
        &batch_text(&signature.key_id, b.size, &root),
        &signature.signature,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(n: u8) -> SigningKeyPair {
        SigningKeyPair::from_secret([n; 32])
    }

    fn fields(seq: u64) -> (String, String) {
        (format!("ER-SW-2020/{seq:07}"), format!("{seq:064x}"))
    }

    fn receipt<'a>(seq: u64, protocol: &'a str, hash: &'a str) -> ReceiptFields<'a> {
        ReceiptFields {
            call: "er-2020-smart-working",
            protocol,
            seq,
            entity: "039007",
            admitted_at: "2020-04-03T07:30:00.000120Z",
            received_at: "2020-04-03T07:30:00.004000Z",
            content_sha256: hash,
            requested_cents: 5_250_000,
            status: "reserved",
            reserved_cents: 5_250_000,
            ledger_seq: seq + 1,
            ledger_prev_hash: hash,
            ledger_hash: hash,
        }
    }

    #[test]
    fn every_receipt_of_every_batch_size_verifies_and_a_changed_field_does_not() {
        let key = pair(7);
        for size in 1..=17u64 {
            let owned: Vec<_> = (1..=size).map(fields).collect();
            let texts: Vec<String> = owned
                .iter()
                .enumerate()
                .map(|(i, (p, h))| receipt(i as u64 + 1, p, h).signed_text())
                .collect();
            let signed = key.sign_batch(&texts);
            for (i, (p, h)) in owned.iter().enumerate() {
                let r = receipt(i as u64 + 1, p, h);
                assert_eq!(
                    verify_receipt(&r, &signed[i], &[key.public()]),
                    Ok(()),
                    "{size}/{i}"
                );
                let mut changed = r.clone();
                changed.reserved_cents += 1;
                assert_eq!(
                    verify_receipt(&changed, &signed[i], &[key.public()]),
                    Err(ProofError::NotInBatch)
                );
                if size > 1 {
                    // Another receipt's place does not fit.
                    let other = &signed[(i + 1) % size as usize];
                    assert!(verify_receipt(&r, other, &[key.public()]).is_err());
                }
            }
        }
    }

    #[test]
    fn another_key_or_a_forged_root_is_refused() {
        let (key, other) = (pair(1), pair(2));
        let (p, h) = fields(1);
        let r = receipt(1, &p, &h);
        let signed = key.sign_batch(&[r.signed_text()]);
        assert!(matches!(
            verify_receipt(&r, &signed[0], &[other.public()]),
            Err(ProofError::UnknownKey(_))
        ));
        let mut forged = signed[0].clone();
        forged.key_id = other.key_id.clone();
        assert_eq!(
            verify_receipt(&r, &forged, &[other.public()]),
            Err(ProofError::BadSignature)
        );
        let mut bad = signed[0].clone();
        bad.batch.size = 2;
        assert!(verify_receipt(&r, &bad, &[key.public()]).is_err());
    }

    /// RFC 9162's shape: 7 leaves split 4 + 3, and the path of leaf 6 has 2 hashes.
    #[test]
    fn the_tree_splits_at_the_largest_power_of_two() {
        let leaves: Vec<Hash> = (0..7u8).map(|i| leaf_hash(&[i])).collect();
        let left = merkle_root(&leaves[..4]);
        let right = node_hash(&node_hash(&leaves[4], &leaves[5]), &leaves[6]);
        assert_eq!(merkle_root(&leaves), node_hash(&left, &right));
        assert_eq!(inclusion_path(&leaves, 6).len(), 2);
        assert_eq!(inclusion_path(&leaves, 0).len(), 3);
        for i in 0..7 {
            let path = inclusion_path(&leaves, i);
            assert_eq!(
                root_from_path(leaves[i], i, 7, &path),
                Some(merkle_root(&leaves))
            );
        }
        assert_eq!(root_from_path(leaves[0], 7, 7, &[]), None);
        // The batch's way gives the same root and paths as the definitions, at every size.
        for n in 1..40u8 {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&[i])).collect();
            let (root, paths) = root_and_paths(&leaves);
            assert_eq!(root, merkle_root(&leaves), "{n}");
            for (i, p) in paths.iter().enumerate() {
                assert_eq!(*p, inclusion_path(&leaves, i), "{n}/{i}");
            }
        }
    }

    #[test]
    fn keys_round_trip_through_base64_and_ids_are_stable() {
        let key = pair(3);
        let again = SigningKeyPair::from_secret_base64(&key.secret_base64()).unwrap();
        assert_eq!(again.key_id, key.key_id);
        let public = PublicKey::from_base64(&key.public().to_base64()).unwrap();
        assert_eq!(public.key_id, key.key_id);
        assert_eq!(key.key_id.len(), 16);
        let sig = key.sign(&checkpoint_text(&key.key_id, 3, "ab", "t"));
        assert_eq!(
            public.verify(&checkpoint_text(&key.key_id, 3, "ab", "t"), &sig),
            Ok(())
        );
        assert_eq!(
            public.verify(&checkpoint_text(&key.key_id, 4, "ab", "t"), &sig),
            Err(ProofError::BadSignature)
        );
        assert!(format!("{key:?}").contains(&key.key_id));
        assert!(!format!("{key:?}").contains(&key.secret_base64()));
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v = serde_json::json!({"b": 1, "a": {"d": "x\n", "c": [2, 1]}});
        let (text, sha) = canonical_sha256(&canonical_json(&v));
        assert_eq!(text, r#"{"a":{"c":[2,1],"d":"x\n"},"b":1}"#);
        assert_eq!(sha, hex::encode(Sha256::digest(text.as_bytes())));
    }
}
