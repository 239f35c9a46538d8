//! X.509 certificates (DER and PEM), as in x5chain / x5c headers.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = govcred::x509::Certificate::from_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = govcred::x509::Certificate::from_pem(text);
    }
});
