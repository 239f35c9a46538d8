//! mdoc DeviceResponse and Document CBOR, and SessionTranscripts.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = govcred::format::mdoc::parse_device_response(data);
    let _ = govcred::format::mdoc::parse_document(data);
    let _ = govcred::format::mdoc::SessionTranscript::from_cbor(data);
});
