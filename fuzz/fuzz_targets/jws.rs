//! Compact JWS decoding and strict JSON.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = govcred::json::check_unique_keys(data, "fuzz");
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(jws) = govcred::jose::Jws::decode(text) {
            let _ = jws.payload_json();
        }
    }
});
