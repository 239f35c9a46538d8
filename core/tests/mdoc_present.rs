//! mdoc holder side and presentation verification: issue → present (subset) → verify
//! round trips, device authentication against the SessionTranscript, every rejection
//! the issue lists (changed value, swapped element, wrong DS chain, expired MSO, other
//! transcript, malformed CBOR), and the Annex D DeviceResponse (deviceMac).

mod common;

use std::sync::Arc;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::mdoc::{self, MacKey, MdocDraft, SessionTranscript, VerifyOptions};
use govcred::report::CheckOutcome;
use govcred::trust::TrustStore;
use govcred::x509::Certificate;
use govcred::{pki, ErrorCode, FixedClock, Outcome, VerificationReport, Verifier};
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01
const NS: &str = "org.iso.18013.5.1";
const MDL: &str = "org.iso.18013.5.1.mDL";

struct Pki {
    iaca: Certificate,
    ds: Certificate,
    ds_key: SoftwareKey,
}

fn pki() -> Pki {
    let (iaca, iaca_key) =
        pki::create_iaca("GB", "Test IACA", None, NOW - 86_400, NOW + 3000 * 86_400).unwrap();
    let (ds, ds_key) = pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Test DS",
        NOW - 86_400,
        NOW + 400 * 86_400,
    )
    .unwrap();
    Pki { iaca, ds, ds_key }
}

fn trust(iaca: &Certificate) -> TrustStore {
    let mut t = TrustStore::new();
    t.add_root_certificates_pem(&iaca.to_pem()).unwrap();
    t
}

fn issue(p: &Pki, device: &SoftwareKey, family_name: &str) -> Vec<u8> {
    let draft = MdocDraft {
        doctype: MDL.into(),
        claims: json!({
            NS: {
                "family_name": family_name, "given_name": "Sarah", "birth_date": "1985-10-18",
                "issuing_country": "GB", "age_over_18": true, "document_number": "EDWAR851018S99AB",
                "driving_privileges": [{"vehicle_category_code": "B", "issue_date": "2010-01-01"}]
            },
            "org.iso.18013.5.1.GB": {"welsh_licence": false}
        })
        .as_object()
        .unwrap()
        .clone(),
        device_key: device.verifying_key().clone(),
        valid_from: NOW,
        valid_until: NOW + 30 * 86_400,
        expected_update: None,
        status: None,
        test_only_salt_seed: None,
    };
    mdoc::issue(&draft, &p.ds, &p.ds_key, NOW).unwrap()
}

/// A stand-in SessionTranscript: [DeviceEngagementBytes, EReaderKeyBytes, Handover].
fn transcript(nonce: u8) -> SessionTranscript {
    SessionTranscript::from_cbor(&[
        0x83, 0xd8, 0x18, 0x41, 0xa0, 0xd8, 0x18, 0x41, 0xa0, 0x81, 0x41, nonce,
    ])
    .unwrap()
}

fn outcome(r: &VerificationReport, name: &str) -> CheckOutcome {
    r.check(name)
        .unwrap_or_else(|| panic!("no check {name}: {}", r.to_json_pretty()))
        .outcome
}

fn splice(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    let mut out = haystack[..at].to_vec();
    out.extend_from_slice(with);
    out.extend_from_slice(&haystack[at + needle.len()..]);
    out
}

struct Setup {
    p: Pki,
    device: SoftwareKey,
    issued: Vec<u8>,
    response: Vec<u8>,
}

fn setup() -> Setup {
    let p = pki();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let issued = issue(&p, &device, "Edwards");
    let response = mdoc::present(
        &issued,
        &[
            (NS, "family_name"),
            (NS, "age_over_18"),
            ("org.iso.18013.5.1.GB", "welsh_licence"),
        ],
        &transcript(1),
        &device,
    )
    .unwrap();
    Setup {
        p,
        device,
        issued,
        response,
    }
}

fn verify(s: &Setup, input: &[u8], t: Option<SessionTranscript>, at: i64) -> VerificationReport {
    let options = VerifyOptions {
        session_transcript: t,
        device_mac_key: None,
    };
    mdoc::verify_with(input, &trust(&s.p.iaca), at, 60, &options)
}

#[test]
fn round_trip_discloses_only_the_requested_elements() {
    let s = setup();
    let r = verify(&s, &s.response, Some(transcript(1)), NOW + 60);
    assert!(r.valid, "{}", r.to_json_pretty());
    for check in [
        "format",
        "issuer_key",
        "signature",
        "data_model",
        "doctype",
        "digests",
        "validity_period",
        "device_auth",
    ] {
        assert_eq!(outcome(&r, check), CheckOutcome::Passed, "{check}");
    }
    assert_eq!(r.types, vec![MDL.to_string()]);
    assert_eq!(
        r.claims.to_value(),
        json!({NS: {"family_name": "Edwards", "age_over_18": true},
               "org.iso.18013.5.1.GB": {"welsh_licence": false}})
    );
    // Undisclosed values are not in the response at all.
    for absent in [&b"Sarah"[..], b"EDWAR851018S99AB", b"driving_privileges"] {
        assert!(!s.response.windows(absent.len()).any(|w| w == absent));
    }
    // The parsed structure.
    let dr = mdoc::parse_device_response(&s.response).unwrap();
    assert_eq!(
        (dr.version.as_str(), dr.status, dr.documents.len()),
        ("1.0", 0, 1)
    );
    assert_eq!(dr.documents[0].doc_type, MDL);
    assert!(matches!(
        dr.documents[0].device_signed.auth,
        mdoc::DeviceAuth::Signature { .. }
    ));
    assert_eq!(
        dr.documents[0].device_signed.name_spaces_bytes,
        [0xd8, 0x18, 0x41, 0xa0]
    );
    // The disclosed items keep the issuer's exact bytes.
    let issued = mdoc::parse(&s.issued).unwrap();
    let item = &dr.documents[0].issuer_signed.name_spaces[0].1[0];
    assert!(issued
        .name_spaces
        .iter()
        .flat_map(|(_, i)| i)
        .any(|i| i.tagged_bytes == item.tagged_bytes));
    // base64url form of the response is accepted too.
    let b64 = govcred::b64::encode(&s.response);
    assert!(verify(&s, b64.as_bytes(), Some(transcript(1)), NOW + 60).valid);
}

#[test]
fn verifier_detects_presentations_and_takes_the_transcript() {
    let s = setup();
    let clock = Arc::new(FixedClock::new(NOW + 60));
    let v = Verifier::new(trust(&s.p.iaca)).with_clock(clock.clone());
    let without = v.verify(&s.response);
    assert_eq!(
        without.outcome,
        Outcome::CouldNotCheck,
        "{}",
        without.to_json_pretty()
    );
    assert_eq!(outcome(&without, "device_auth"), CheckOutcome::NotChecked);
    assert!(without.has_error(ErrorCode::DeviceAuthUnavailable));
    assert_eq!(
        ErrorCode::DeviceAuthUnavailable.as_str(),
        "device_auth_unavailable"
    );

    let with = v
        .clone()
        .with_session_transcript(transcript(1))
        .verify(&s.response);
    assert!(with.valid, "{}", with.to_json_pretty());
    assert_eq!(with.format.as_str(), "mdoc");

    // A bare Document (the one inside the response) verifies the same way.
    let doc_start = 1 + 7 + 1 + 8 + 4 + 10 + 1;
    let doc = &s.response[doc_start..];
    assert_eq!(mdoc::parse_document(doc).unwrap().doc_type, MDL);
    let r = v.clone().with_session_transcript(transcript(1)).verify(doc);
    assert!(r.valid, "{}", r.to_json_pretty());

    // The issued IssuerSigned still verifies without any device check.
    let issued = v.verify(&s.issued);
    assert!(issued.valid, "{}", issued.to_json_pretty());
    assert!(issued.check("device_auth").is_none());

    // The transcript may be given as SessionTranscriptBytes (tag 24).
    let mut wrapped = vec![0xd8, 0x18, 0x4c];
    wrapped.extend_from_slice(transcript(1).as_cbor());
    assert_eq!(
        SessionTranscript::from_cbor(&wrapped).unwrap(),
        transcript(1)
    );
    assert!(SessionTranscript::from_cbor(&[0x83, 0x01]).is_err());
}

#[test]
fn device_signature_over_another_transcript_fails() {
    let s = setup();
    let r = verify(&s, &s.response, Some(transcript(2)), NOW + 60);
    assert_eq!(r.outcome, Outcome::Invalid);
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::SignatureInvalid));
    // Everything issuer-side still checks.
    assert_eq!(outcome(&r, "digests"), CheckOutcome::Passed);

    // A flipped bit in the device signature fails too.
    let dr = mdoc::parse_device_response(&s.response).unwrap();
    let mdoc::DeviceAuth::Signature { signature, .. } = &dr.documents[0].device_signed.auth else {
        panic!("deviceSignature expected")
    };
    let mut bad = signature.clone();
    bad[10] ^= 1;
    let tampered = splice(&s.response, signature, &bad);
    let r = verify(&s, &tampered, Some(transcript(1)), NOW + 60);
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Failed);
}

#[test]
fn holder_errors_are_typed() {
    let s = setup();
    let e = mdoc::present(&s.issued, &[(NS, "height")], &transcript(1), &s.device).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim);
    assert!(e.to_string().contains("org.iso.18013.5.1/height"), "{e}");
    let e = mdoc::present(
        &s.issued,
        &[("org.example.none", "x")],
        &transcript(1),
        &s.device,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no namespace"), "{e}");
    let e = mdoc::present(&s.issued, &[], &transcript(1), &s.device).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim);
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    let e = mdoc::present(&s.issued, &[(NS, "family_name")], &transcript(1), &other).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidKey);
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let e = mdoc::present(&s.issued, &[(NS, "family_name")], &transcript(1), &ed).unwrap_err();
    assert_eq!(e.code(), ErrorCode::KeyAlgMismatch);
    assert_eq!(mdoc::element_path("a.b/c").unwrap(), ("a.b", "c"));
    assert!(mdoc::element_path("nope").is_err());
    // Asking twice for an element discloses it once.
    let r = mdoc::present(
        &s.issued,
        &[(NS, "family_name"), (NS, "family_name")],
        &transcript(1),
        &s.device,
    )
    .unwrap();
    let dr = mdoc::parse_device_response(&r).unwrap();
    assert_eq!(dr.documents[0].issuer_signed.name_spaces[0].1.len(), 1);
}

#[test]
fn changed_value_fails_digests() {
    let s = setup();
    let tampered = splice(&s.response, b"Edwards", b"Edwardz");
    let r = verify(&s, &tampered, Some(transcript(1)), NOW + 60);
    assert_eq!(r.outcome, Outcome::Invalid);
    assert_eq!(outcome(&r, "digests"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::MalformedInput));
    assert!(r.claims.is_empty());
}

#[test]
fn element_swapped_in_from_another_document_fails() {
    let s = setup();
    // Another mdoc for the same holder, same issuer, other name.
    let other = issue(&s.p, &s.device, "Mallory");
    let other_resp =
        mdoc::present(&other, &[(NS, "family_name")], &transcript(1), &s.device).unwrap();
    let mine = mdoc::parse_device_response(&s.response).unwrap();
    let theirs = mdoc::parse_device_response(&other_resp).unwrap();
    let find = |d: &mdoc::DeviceResponse| {
        d.documents[0].issuer_signed.name_spaces[0]
            .1
            .iter()
            .find(|i| i.element_identifier == "family_name")
            .unwrap()
            .tagged_bytes
            .clone()
    };
    let swapped = splice(&s.response, &find(&mine), &find(&theirs));
    let r = verify(&s, &swapped, Some(transcript(1)), NOW + 60);
    assert_eq!(r.outcome, Outcome::Invalid, "{}", r.to_json_pretty());
    assert_eq!(outcome(&r, "digests"), CheckOutcome::Failed);
}

#[test]
fn doctype_must_be_the_signed_one() {
    let s = setup();
    // The Document's docType comes first in the response; the MSO's is inside a bstr.
    let tampered = splice(&s.response, MDL.as_bytes(), b"org.iso.18013.5.1.mDX");
    let r = verify(&s, &tampered, Some(transcript(1)), NOW + 60);
    assert_eq!(outcome(&r, "doctype"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::TypeMismatch));
}

#[test]
fn wrong_ds_chain_fails() {
    let s = setup();
    let other = pki();
    let r = mdoc::verify_with(
        &s.response,
        &trust(&other.iaca),
        NOW + 60,
        60,
        &VerifyOptions::with_transcript(transcript(1)),
    );
    assert_eq!(r.outcome, Outcome::Invalid, "{}", r.to_json_pretty());
    assert_eq!(outcome(&r, "issuer_key"), CheckOutcome::Failed);
    // No IACA at all: could not check, never valid.
    let r = mdoc::verify_with(
        &s.response,
        &TrustStore::new(),
        NOW + 60,
        60,
        &VerifyOptions::with_transcript(transcript(1)),
    );
    assert!(!r.valid);
    assert_eq!(outcome(&r, "issuer_key"), CheckOutcome::NotChecked);
}

#[test]
fn expired_mso_fails() {
    let s = setup();
    let r = verify(&s, &s.response, Some(transcript(1)), NOW + 31 * 86_400);
    assert_eq!(r.outcome, Outcome::Invalid);
    assert_eq!(outcome(&r, "validity_period"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::Expired));
    // The device signature itself is still fine.
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Passed);
}

#[test]
fn malformed_cbor_is_refused_without_panic() {
    let s = setup();
    // Every truncation.
    for len in 0..s.response.len() {
        let r = verify(&s, &s.response[..len], Some(transcript(1)), NOW + 60);
        assert!(!r.valid, "prefix of {len} bytes accepted");
    }
    // Wrong tag on a disclosed item (24 → 25).
    let dr = mdoc::parse_device_response(&s.response).unwrap();
    let item = dr.documents[0].issuer_signed.name_spaces[0].1[0]
        .tagged_bytes
        .clone();
    let mut wrong = item.clone();
    wrong[1] = 25;
    let r = verify(
        &s,
        &splice(&s.response, &item, &wrong),
        Some(transcript(1)),
        NOW + 60,
    );
    assert_eq!(outcome(&r, "format"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::MalformedInput));
    // DeviceNameSpaces without its tag 24.
    let r = verify(
        &s,
        &splice(&s.response, &[0xd8, 0x18, 0x41, 0xa0], &[0x41, 0xa0]),
        Some(transcript(1)),
        NOW + 60,
    );
    assert_eq!(outcome(&r, "format"), CheckOutcome::Failed);
    // A detached payload that is not null.
    let r = verify(
        &s,
        &splice(
            &s.response,
            &[0xa0, 0xf6, 0x58, 0x40],
            &[0xa0, 0x40, 0x58, 0x40],
        ),
        Some(transcript(1)),
        NOW + 60,
    );
    assert_eq!(outcome(&r, "format"), CheckOutcome::Failed);
}

#[test]
fn indefinite_lengths_are_accepted() {
    let s = setup();
    // The unsigned outer map of the DeviceResponse, re-encoded with an indefinite length.
    assert_eq!(s.response[0], 0xa3);
    let mut indefinite = s.response.clone();
    indefinite[0] = 0xbf;
    indefinite.push(0xff);
    let r = verify(&s, &indefinite, Some(transcript(1)), NOW + 60);
    assert!(r.valid, "{}", r.to_json_pretty());
}

#[test]
fn huge_claimed_lengths_fail_fast() {
    let s = setup();
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    // {"documents": h'…'} claiming a 1 GiB byte string.
    let mut one_gb = vec![0xa1, 0x69];
    one_gb.extend_from_slice(b"documents");
    one_gb.extend_from_slice(&[0x5a, 0x40, 0x00, 0x00, 0x00]);
    inputs.push(one_gb.clone());
    // … an array of 2^64-1 members, a map of 2^32-1 pairs, a 1 GiB text.
    let mut big_array = vec![0xa1, 0x69];
    big_array.extend_from_slice(b"documents");
    big_array.extend_from_slice(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    inputs.push(big_array);
    inputs.push(vec![0xba, 0xff, 0xff, 0xff, 0xff, 0x00]);
    let mut text = vec![0xa1, 0x67];
    text.extend_from_slice(b"version");
    text.extend_from_slice(&[0x7a, 0x40, 0x00, 0x00, 0x00, b'1']);
    inputs.push(text);
    // Deep nesting inside a document.
    let mut deep = vec![0xa1, 0x69];
    deep.extend_from_slice(b"documents");
    deep.extend(std::iter::repeat_n(0x81, 10_000));
    deep.push(0x00);
    inputs.push(deep);
    let started = std::time::Instant::now();
    for input in &inputs {
        let r = verify(&s, input, Some(transcript(1)), NOW + 60);
        assert!(!r.valid);
        assert_eq!(
            outcome(&r, "format"),
            CheckOutcome::Failed,
            "{}",
            r.to_json_pretty()
        );
    }
    assert!(mdoc::parse_device_response(&one_gb).is_err());
    assert!(SessionTranscript::from_cbor(&[0x5a, 0x40, 0, 0, 0]).is_err());
    // Generous bound: these are refused before any allocation or deep recursion.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn status_not_ok_and_empty_responses_are_refused() {
    let s = setup();
    // {"status": 10, "version": "1.0"}: an error answer.
    let mut err = vec![0xa2, 0x66];
    err.extend_from_slice(b"status");
    err.push(0x0a);
    err.push(0x67);
    err.extend_from_slice(b"version");
    err.extend_from_slice(&[0x63, b'1', b'.', b'0']);
    let r = verify(&s, &err, None, NOW + 60);
    assert!(!r.valid);
    assert!(
        r.has_error(ErrorCode::InvalidClaim),
        "{}",
        r.to_json_pretty()
    );
    err[8] = 0x00;
    let r = verify(&s, &err, None, NOW + 60);
    assert!(
        r.has_error(ErrorCode::MalformedInput),
        "{}",
        r.to_json_pretty()
    );
}

#[test]
fn annex_d_device_response_with_device_mac() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let session = common::json(&dir, "mdoc/annex-d-session/annex-d-session.json");
    let hex = |v: &serde_json::Value| -> Vec<u8> {
        let s = v.as_str().unwrap();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    };
    let response = hex(&session["deviceResponse"]["deviceResponseHex"]);
    let transcript = SessionTranscript::from_cbor(&hex(
        &session["sessionTranscript"]["sessionTranscriptBytesHex"]
    ))
    .unwrap();
    assert_eq!(
        transcript.as_cbor(),
        hex(&session["sessionTranscript"]["sessionTranscriptHex"]).as_slice()
    );
    let dab = mdoc::device_authentication_bytes(&transcript, MDL, &[0xd8, 0x18, 0x41, 0xa0]);
    assert_eq!(
        dab,
        hex(&session["derived"]["deviceMac"]["deviceAuthenticationBytesHex"])
    );
    let mut trust = TrustStore::new();
    trust
        .add_root_certificates_pem(
            &std::fs::read_to_string(dir.join("mdoc/annex-d-iaca-cert.pem")).unwrap(),
        )
        .unwrap();
    let now = govcred::datetime::parse("2021-01-01T00:00:00Z", "test").unwrap();
    let key = MacKey::new(&hex(&session["derived"]["deviceMac"]["eMacKeyHex"])).unwrap();
    let options = VerifyOptions {
        session_transcript: Some(transcript.clone()),
        device_mac_key: Some(key),
    };
    let r = mdoc::verify_with(&response, &trust, now, 0, &options);
    assert!(r.valid, "{}", r.to_json_pretty());
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Passed);
    assert!(r.check("device_auth").unwrap().detail.contains("deviceMac"));
    let claims = r.claims.to_value();
    assert_eq!(claims[NS]["family_name"], "Doe");

    // Without the EMacKey: could not check, said clearly.
    let r = mdoc::verify_with(
        &response,
        &trust,
        now,
        0,
        &VerifyOptions::with_transcript(transcript.clone()),
    );
    assert_eq!(r.outcome, Outcome::CouldNotCheck);
    assert!(r.has_error(ErrorCode::DeviceAuthUnavailable));
    assert!(r.check("device_auth").unwrap().detail.contains("EMacKey"));

    // A wrong EMacKey, or another transcript: failed.
    let wrong = MacKey::new(&[7u8; 32]).unwrap();
    let r = mdoc::verify_with(
        &response,
        &trust,
        now,
        0,
        &VerifyOptions {
            session_transcript: Some(transcript.clone()),
            device_mac_key: Some(wrong),
        },
    );
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Failed);
    let key = MacKey::new(&hex(&session["derived"]["deviceMac"]["eMacKeyHex"])).unwrap();
    let r = mdoc::verify_with(
        &response,
        &trust,
        now,
        0,
        &VerifyOptions {
            session_transcript: Some(SessionTranscript::from_cbor(&[0x80]).unwrap()),
            device_mac_key: Some(key),
        },
    );
    assert_eq!(outcome(&r, "device_auth"), CheckOutcome::Failed);
    assert!(MacKey::new(&[0u8; 16]).is_err());
    assert_eq!(
        format!("{:?}", MacKey::new(&[1u8; 32]).unwrap()),
        "MacKey(<redacted>)"
    );
}

/// Any one byte of a DeviceResponse or IssuerSigned changed: the result is never
/// valid — unless the byte is provably insignificant to every check (then the report
/// must be exactly the original's), e.g. inside an unprotected header we ignore.
mod mutations {
    use super::*;
    use proptest::prelude::*;

    fn fixture() -> &'static (Setup, VerificationReport, VerificationReport) {
        static F: std::sync::OnceLock<(Setup, VerificationReport, VerificationReport)> =
            std::sync::OnceLock::new();
        F.get_or_init(|| {
            let s = setup();
            let presented = verify(&s, &s.response, Some(transcript(1)), NOW + 60);
            let issued = verify(&s, &s.issued, None, NOW + 60);
            assert!(presented.valid && issued.valid);
            (s, presented, issued)
        })
    }

    fn same_report(a: &VerificationReport, b: &VerificationReport) -> bool {
        let strip = |r: &VerificationReport| {
            let mut v = serde_json::to_value(r).unwrap();
            v.as_object_mut().map(|o| o.remove("checked_at"));
            v
        };
        strip(a) == strip(b)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(384))]
        #[test]
        fn device_response_mutations_are_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let (s, original, _) = fixture();
            let mut bytes = s.response.clone();
            let i = pos.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            let r = verify(s, &bytes, Some(transcript(1)), NOW + 60);
            prop_assert!(!r.valid || same_report(&r, original), "mutation at {} accepted", i);
        }

        #[test]
        fn issuer_signed_mutations_are_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let (s, _, original) = fixture();
            let mut bytes = s.issued.clone();
            let i = pos.index(bytes.len());
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            let r = verify(s, &bytes, None, NOW + 60);
            prop_assert!(!r.valid || same_report(&r, original), "mutation at {} accepted", i);
        }
    }
}

#[test]
fn claim_values_are_typed() {
    let p = pki();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let draft = MdocDraft {
        doctype: MDL.into(),
        claims: json!({NS: {
            "birth_date": "1985-10-18",
            "portrait": "/9j/4AAQ/9k=",
            "portrait_capture_date": "2025-06-01T09:30:00Z",
            "issue_date": {"tdate": "2026-01-01T10:00:00Z"},
            "licence_since": {"full-date": "2001-02-03"},
            "un_distinguishing_sign": {"bytes": "R0I="},
            "note": {"other": "kept as a map"}
        }})
        .as_object()
        .unwrap()
        .clone(),
        device_key: device.verifying_key().clone(),
        valid_from: NOW,
        valid_until: NOW + 86_400,
        expected_update: None,
        status: None,
        test_only_salt_seed: Some([7; 32]),
    };
    let issued = mdoc::issue(&draft, &p.ds, &p.ds_key, NOW).unwrap();
    let parsed = mdoc::parse(&issued).unwrap();
    let item = |name: &str| {
        parsed.name_spaces[0]
            .1
            .iter()
            .find(|i| i.element_identifier == name)
            .unwrap()
            .tagged_bytes
            .clone()
    };
    let has = |name: &str, needle: &[u8]| item(name).windows(needle.len()).any(|w| w == needle);
    let full_date = [0xd9, 0x03, 0xec, 0x6a]; // tag 1004, 10-char text
    assert!(has("birth_date", &full_date));
    assert!(has("licence_since", &full_date));
    assert!(has("issue_date", &[0xc0, 0x74])); // tag 0, 20-char text
    assert!(has("portrait_capture_date", &[0xc0, 0x74]));
    assert!(has(
        "portrait",
        &[0x48, 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]
    ));
    assert!(has("un_distinguishing_sign", &[0x42, b'G', b'B']));
    assert!(has("note", &[0xa1, 0x65, b'o', b't', b'h', b'e', b'r']));
    // Seeded salts reproduce the same items; a bad forced value is refused.
    let again = mdoc::parse(&mdoc::issue(&draft, &p.ds, &p.ds_key, NOW).unwrap()).unwrap();
    assert_eq!(
        again.name_spaces[0].1[0].tagged_bytes,
        parsed.name_spaces[0].1[0].tagged_bytes
    );
    let mut bad = draft.clone();
    bad.claims = json!({NS: {"x": {"full-date": "2001-2-3"}}})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(
        mdoc::issue(&bad, &p.ds, &p.ds_key, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
}

/// Regression (found by the mutation property test in CI): `"1.\0"` was read as a
/// DeviceResponse version. Only `1.<digits>` is accepted; a later minor version reads
/// like 1.0 and gives the same report.
#[test]
fn device_response_version_must_be_one_dot_digits() {
    let s = setup();
    let original = verify(&s, &s.response, Some(transcript(1)), NOW + 60);
    assert!(original.valid);
    let at = s
        .response
        .windows(4)
        .position(|w| w == b"\x631.0")
        .expect("version text");
    let with = |v: &[u8; 3]| {
        let mut b = s.response.clone();
        b[at + 1..at + 4].copy_from_slice(v);
        verify(&s, &b, Some(transcript(1)), NOW + 60)
    };
    for bad in [b"1.\0", b"2.0", b"1.a", b"0.9", b"1..", b"1. "] {
        let r = with(bad);
        assert!(!r.valid, "{:?} accepted", String::from_utf8_lossy(bad));
        assert!(
            r.has_error(ErrorCode::MalformedInput),
            "{}",
            r.to_json_pretty()
        );
    }
    let r = with(b"1.1");
    assert!(r.valid, "{}", r.to_json_pretty());
    assert_eq!(r.checks, original.checks);
}
