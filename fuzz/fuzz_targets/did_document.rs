//! DIDs and DID documents: DID URL parsing, did:key / did:jwk decoding, documents.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = govcred::did::DidUrl::parse(text);
        let _ = govcred::did::key::to_key(text);
        let _ = govcred::did::jwk::to_jwk(text);
        let _ = govcred::did::web::to_url(text);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let mut r = govcred::did::DidResolver::new();
        if r.add_document(&v).is_ok() {
            for did in r.dids().map(str::to_owned).collect::<Vec<_>>() {
                let _ = r.resolve(&did);
            }
        }
    }
});
