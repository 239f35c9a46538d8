//! SD-JWT (+KB) parsing and disclosure decoding.
#![no_main]
use govcred::format::sd_jwt::{Disclosure, SdJwt};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SdJwt::parse(text);
        for part in text.split('~') {
            let _ = Disclosure::parse(part);
        }
    }
});
