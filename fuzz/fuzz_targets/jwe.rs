//! Compact JWE (OpenID4VP direct_post.jwt responses), decrypted with a fixed key.
#![no_main]
use std::sync::OnceLock;

use govcred::jwe::{DecryptionKey, Enc};
use libfuzzer_sys::fuzz_target;

fn key() -> &'static DecryptionKey {
    static K: OnceLock<DecryptionKey> = OnceLock::new();
    K.get_or_init(|| DecryptionKey::from_scalar(&[5u8; 32]).unwrap())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = key().decrypt(text, &[Enc::A128Gcm, Enc::A256Gcm]);
    }
});
