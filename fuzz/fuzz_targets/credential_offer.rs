//! OpenID4VCI credential offer links (deep links, by value and by reference) and
//! form bodies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = govcred::oid4vci::offer::OfferLink::parse(text);
        let _ = govcred::oid4vci::offer::parse_form(text, "fuzz");
    }
});
