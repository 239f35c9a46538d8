//! A whole ISO 18013-5 proximity session in memory with a real mdoc (issue
//! "presenting and verifying offline"): QR engagement → encrypted DeviceRequest →
//! consent → DeviceResponse from the held mdoc, device-signed over the session's own
//! transcript → decrypted by the reader → verified offline to a report. And the
//! attacks on the session: another reader's keys, a replayed message, an altered one.

use std::sync::Arc;

use govcred::proximity::{
    BleOptions, HeldMdoc, Holder, HolderEvent, ItemsRequest, MdocResponder, Reader, ReaderEvent,
};
use govcred::{ErrorCode, FixedClock, Verifier};
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01
const NS: &str = "org.iso.18013.5.1";
const MDL: &str = "org.iso.18013.5.1.mDL";

mod common;
use common::MdlHolder;

fn wallet() -> MdlHolder {
    common::mdl_holder(
        NOW,
        json!({"family_name": "Edwards", "given_name": "Sarah",
            "birth_date": "1985-10-18", "age_over_18": true, "document_number": "EDWAR851018S99AB"}),
    )
}

fn age_request() -> ItemsRequest {
    ItemsRequest::new(MDL)
        .element(NS, "age_over_18", false)
        .element(NS, "family_name", true)
        .element(NS, "not_in_this_licence", false)
}

#[test]
fn full_session_discloses_only_what_was_asked_and_verifies_offline() {
    let w = wallet();
    let mut holder = Holder::new(BleOptions::peripheral_server([7; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(vec![age_request()], None, NOW)
        .unwrap();
    let msg = reader.send_request(&request).unwrap();

    // Holder: decrypt, show the consent screen, answer with the held mdoc.
    let HolderEvent::Request(received) = holder.receive(&msg, &[], NOW, 60).unwrap() else {
        panic!("expected a request")
    };
    assert_eq!(received.request.doc_requests[0].items_request.doc_type, MDL);
    assert!(received.readers[0].is_none(), "the request was not signed");
    let responder = MdocResponder::new(vec![HeldMdoc {
        issuer_signed: &w.issuer_signed,
        device_key: &w.device,
    }]);
    let reply = holder.respond(&responder).unwrap();

    // Reader: decrypt and verify against its synced IACAs and this session's transcript.
    let ReaderEvent::Response(device_response) = reader.receive(&reply).unwrap() else {
        panic!("expected a response")
    };
    let transcript = reader.session_transcript().clone();
    let report = Verifier::new(w.trust.clone())
        .with_clock(Arc::new(FixedClock::new(NOW + 60)))
        .with_session_transcript(transcript)
        .verify(&device_response);
    assert!(report.valid, "{}", report.to_json_pretty());
    assert_eq!(
        report.claims.to_value(),
        json!({NS: {"age_over_18": true, "family_name": "Edwards"}}),
        "only the requested elements the licence has"
    );

    // The same response checked against another session's transcript fails device auth.
    let other = Reader::from_qr(
        &Holder::new(BleOptions::peripheral_server([8; 16]))
            .unwrap()
            .qr_uri(),
    )
    .unwrap();
    let replayed = Verifier::new(w.trust)
        .with_clock(Arc::new(FixedClock::new(NOW + 60)))
        .with_session_transcript(other.session_transcript().clone())
        .verify(&device_response);
    assert!(!replayed.valid);
    assert_eq!(
        replayed.errors[0].code,
        ErrorCode::SignatureInvalid,
        "{}",
        replayed.to_json_pretty()
    );
}

#[test]
fn session_messages_cannot_be_replayed_altered_or_read_by_another_reader() {
    let w = wallet();
    let mut holder = Holder::new(BleOptions::peripheral_server([7; 16])).unwrap();
    let qr = holder.qr_uri();
    let mut reader = Reader::from_qr(&qr).unwrap();
    let request = reader
        .build_request(vec![age_request()], None, NOW)
        .unwrap();
    let msg = reader.send_request(&request).unwrap();
    assert!(matches!(
        holder.receive(&msg, &[], NOW, 60),
        Ok(HolderEvent::Request(_))
    ));
    let responder = MdocResponder::new(vec![HeldMdoc {
        issuer_signed: &w.issuer_signed,
        device_key: &w.device,
    }]);
    let reply = holder.respond(&responder).unwrap();

    // Altered ciphertext: one byte flipped near the end (inside the GCM tag or data).
    let mut altered = reply.clone();
    let n = altered.len();
    altered[n - 3] ^= 0x01;
    let e = reader.receive(&altered).unwrap_err();
    assert_eq!(e.code().as_str(), "session_decryption_failed", "{e}");
    // The genuine message still decrypts: a failed message does not move the counters.
    assert!(matches!(
        reader.receive(&reply),
        Ok(ReaderEvent::Response(_))
    ));
    // Replayed: the same message again is refused (nothing is outstanding, and the
    // counter has moved on); so is the reader's request replayed to the holder.
    let e = reader.receive(&reply).unwrap_err();
    assert!(
        matches!(
            e.code().as_str(),
            "session_state" | "session_decryption_failed"
        ),
        "{e}"
    );
    assert!(
        holder.receive(&msg, &[], NOW, 60).is_err(),
        "replayed request accepted"
    );

    // Another reader that saw the same QR code has other session keys.
    let mut eavesdropper = Reader::from_qr(&qr).unwrap();
    let _ = eavesdropper.send_request(&request).unwrap();
    let e = eavesdropper.receive(&reply).unwrap_err();
    assert_eq!(e.code().as_str(), "session_decryption_failed", "{e}");
}

#[test]
fn a_request_for_another_doctype_gets_a_typed_error() {
    let w = wallet();
    let mut holder = Holder::new(BleOptions::peripheral_server([7; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(
            vec![ItemsRequest::new("org.example.other").element("x", "y", false)],
            None,
            NOW,
        )
        .unwrap();
    let msg = reader.send_request(&request).unwrap();
    holder.receive(&msg, &[], NOW, 60).unwrap();
    let responder = MdocResponder::new(vec![HeldMdoc {
        issuer_signed: &w.issuer_signed,
        device_key: &w.device,
    }]);
    let e = holder.respond(&responder).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim, "{e}");
}
