//! HMAC-SHA256 signatures for URLs the server hands out (share links,
//! presigned uploads). The message names its purpose, so a signature made
//! for one kind of URL never passes for another.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn mac(key: &[u8], message: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(message.as_bytes());
    mac
}

/// The URL-safe signature of `message`.
pub fn sign(key: &[u8], message: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(mac(key, message).finalize().into_bytes())
}

/// Whether `signature` signs `message`, compared in constant time.
pub fn verify(key: &[u8], message: &str, signature: &str) -> bool {
    let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    mac(key, message).verify_slice(&tag).is_ok()
}
