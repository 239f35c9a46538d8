//! mdoc CBOR: IssuerSigned (and whatever else the mdoc parser accepts).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = govcred::format::mdoc::parse(data);
});
