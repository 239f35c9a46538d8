//! Signed trust bundles, loaded against a pinned key.
#![no_main]
use std::sync::OnceLock;

use govcred::crypto::{Alg, SoftwareKey, VerifyingKey};
use govcred::trust_bundle::TrustBundle;
use libfuzzer_sys::fuzz_target;

fn pinned() -> &'static VerifyingKey {
    static K: OnceLock<VerifyingKey> = OnceLock::new();
    K.get_or_init(|| {
        SoftwareKey::from_secret_bytes(Alg::ES256, &[9u8; 32])
            .unwrap()
            .verifying_key()
            .clone()
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = TrustBundle::load(text, std::slice::from_ref(pinned()), 1_767_225_600, 60);
    }
});
