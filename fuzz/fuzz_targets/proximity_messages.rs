//! ISO 18013-5 session messages: DeviceEngagement (bytes and `mdoc:` QR text),
//! SessionEstablishment, SessionData, DeviceRequest, ItemsRequest.
#![no_main]
use govcred::proximity::{session, DeviceEngagement, DeviceRequest, ItemsRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = DeviceEngagement::parse(data);
    let _ = session::SessionEstablishment::parse(data);
    let _ = session::SessionData::parse(data);
    let _ = DeviceRequest::parse(data);
    let _ = ItemsRequest::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = DeviceEngagement::from_qr_uri(text);
        let _ = govcred::proximity::Reader::from_qr(text);
    }
});
