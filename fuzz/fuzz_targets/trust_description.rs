//! Inline trust descriptions (the negative corpus' `trust` member).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = govcred::trust::TrustStore::from_description(&v);
    }
});
