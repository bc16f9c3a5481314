//! API keys for scripts: random, shown once, stored only as a SHA-256 hash
//! (they are long and random, so a fast hash is enough).

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Every key starts with this, so the server can tell keys from JWTs.
pub const API_KEY_PREFIX: &str = "kf_";

/// A new key: (the key itself, its display prefix, its hash).
pub fn new_api_key() -> (String, String, String) {
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let key = format!(
        "{API_KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    let prefix = key[..API_KEY_PREFIX.len() + 6].to_owned();
    let hash = hash_api_key(&key);
    (key, prefix, hash)
}

pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}
