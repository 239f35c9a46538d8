//! OpenID4VP authorization requests: by value (URL parameters as JSON) and as a
//! request object JWT, against an empty verifier trust list.
#![no_main]
use govcred::oid4vp::request::AuthorizationRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(serde_json::Value::Object(params)) = serde_json::from_slice(data) {
        let _ = AuthorizationRequest::parse_by_value(&params);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let trust = govcred::trust::TrustStore::new();
        let _ = AuthorizationRequest::parse_request_object(text, None, &trust, 1_767_225_600, 60);
        let _ = govcred::oid4vp::request::ClientId::parse(text);
    }
});
