//! The verifier's front door: any bytes, format detected, verified against a trust
//! store holding one key, one DID document and one root. Must never panic.
#![no_main]
use std::sync::{Arc, OnceLock};

use govcred::{trust::TrustStore, FixedClock, Verifier};
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let key = govcred::crypto::SoftwareKey::from_secret_bytes(
            govcred::crypto::Alg::ES256,
            &[7u8; 32],
        )
        .unwrap();
        let mut trust = TrustStore::new();
        trust.add_jwk(&govcred::Signer::public_jwk(&key)).unwrap();
        Verifier::new(trust)
            .with_clock(Arc::new(FixedClock::new(1_767_225_600)))
            .with_key_binding("https://verifier.example", "nonce")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = verifier().verify(data);
});
