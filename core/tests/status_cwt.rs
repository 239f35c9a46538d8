//! The CWT form of the Token Status List (`application/statuslist+cwt`): round trips
//! for every width, tampering, staleness, x5chain trust, and an mdoc whose MSO status
//! reference is checked against a CWT list.

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::mdoc::{self, MdocDraft};
use govcred::pki::{create_iaca, issue_document_signer};
use govcred::report::{CheckOutcome, VerificationReport};
use govcred::status::{
    check_reference, cwt, load_list_bytes, token_status_list, LoadedList, Status, StatusList,
    StatusListToken, StatusVerdict,
};
use govcred::trust::TrustStore;
use govcred::{ErrorCode, Signer};
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01
const URI: &str = "https://crs.example.gov.uk/t/ABC123";

fn token(bits: u8, statuses: &[(usize, u8)], kid: Option<String>) -> StatusListToken {
    let mut list = StatusList::new(bits, 1024).unwrap();
    for (i, v) in statuses {
        list.set(*i, *v).unwrap();
    }
    StatusListToken {
        sub: URI.into(),
        iss: Some("https://crs.example.gov.uk".into()),
        iat: NOW,
        exp: Some(NOW + 86_400),
        ttl: Some(3600),
        list,
        kid,
    }
}

fn trusting(key: &SoftwareKey) -> TrustStore {
    let mut trust = TrustStore::new();
    trust.add_jwk(&key.public_jwk()).unwrap();
    trust
}

#[test]
fn round_trip_every_width() {
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    for bits in [1u8, 2, 4, 8] {
        let max = u8::MAX >> (8 - bits);
        let statuses: Vec<(usize, u8)> = (0..1024)
            .step_by(7)
            .map(|i| (i, (i as u8).wrapping_mul(31) & max))
            .collect();
        let t = token(bits, &statuses, Some(key.verifying_key().thumbprint()));
        let bytes = cwt::sign_cwt(&t, &key, &[]).unwrap();
        assert_eq!(bytes[0], 0xd2, "tag 18 (COSE_Sign1)");
        let back = cwt::verify_cwt(&bytes, &trusting(&key), NOW + 10, 0).unwrap();
        assert_eq!(back, t, "bits {bits}");
        for (i, v) in &statuses {
            assert_eq!(back.list.get(*i).unwrap(), *v, "bits {bits} index {i}");
        }
        // The same list signed as JWT and as CWT loads to the same statuses.
        let jwt = token_status_list::sign_token(&t, &key).unwrap();
        let from_jwt = load_list_bytes(jwt.as_bytes(), &trusting(&key), 60).unwrap();
        let from_cwt = load_list_bytes(&bytes, &trusting(&key), 60).unwrap();
        let (LoadedList::Token(a), LoadedList::Token(b)) = (from_jwt, from_cwt) else {
            panic!("both are Token Status Lists");
        };
        assert_eq!(a.list, b.list);
    }
}

#[test]
fn ed25519_and_no_kid() {
    let key = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let t = token(1, &[(5, 1)], None);
    let bytes = cwt::sign_cwt(&t, &key, &[]).unwrap();
    assert_eq!(
        cwt::verify_cwt(&bytes, &trusting(&key), NOW, 0)
            .unwrap()
            .list
            .get(5)
            .unwrap(),
        1
    );
}

#[test]
fn tampered_and_foreign_cwts_are_rejected() {
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let trust = trusting(&key);
    let t = token(2, &[(3, 1)], None);
    let bytes = cwt::sign_cwt(&t, &key, &[]).unwrap();
    // Flip one bit in each byte of the payload region in turn: never accepted.
    let mut rejected = 0;
    for pos in (bytes.len() - 120)..(bytes.len() - 70) {
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        match cwt::verify_cwt(&b, &trust, NOW, 0) {
            Ok(back) => panic!("tampered byte {pos} accepted: {back:?}"),
            Err(_) => rejected += 1,
        }
    }
    assert_eq!(rejected, 50);
    // A bit flipped in the signature is a signature failure.
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 0x01;
    assert_eq!(
        cwt::verify_cwt(&b, &trust, NOW, 0).unwrap_err().code(),
        ErrorCode::SignatureInvalid
    );
    // Another key, and no trusted key at all.
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    let forged = cwt::sign_cwt(&t, &other, &[]).unwrap();
    assert_eq!(
        cwt::verify_cwt(&forged, &trust, NOW, 0).unwrap_err().code(),
        ErrorCode::SignatureInvalid
    );
    assert_eq!(
        cwt::verify_cwt(&bytes, &TrustStore::new(), NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownKey
    );
    // Not CBOR / not a COSE_Sign1 / oversized.
    for junk in [&b"\xd2\x84\x01"[..], b"\x84\x40\xa0\x40", b"\xd2"] {
        assert_eq!(
            cwt::verify_cwt(junk, &trust, NOW, 0).unwrap_err().code(),
            ErrorCode::MalformedInput
        );
    }
    let huge = vec![0u8; cwt::MAX_CWT_LEN + 1];
    assert_eq!(
        cwt::verify_cwt(&huge, &trust, NOW, 0).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );
    // A JWT-form token is not a CWT.
    let jwt = token_status_list::sign_token(&t, &key).unwrap();
    assert_eq!(
        cwt::verify_cwt(jwt.as_bytes(), &trust, NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::MalformedInput
    );
}

#[test]
fn stale_cwt_is_reported_not_trusted() {
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut trust = trusting(&key);
    let t = token(2, &[(3, 1), (4, 2)], None);
    let bytes = cwt::sign_cwt(&t, &key, &[]).unwrap();
    assert_eq!(trust.add_status_list_bytes(&bytes, 60).unwrap(), URI);

    // Fresh: VALID passes with the list's age.
    let fresh = check_reference(&trust, URI, 5, NOW + 100);
    assert!(matches!(fresh.verdict, StatusVerdict::Passed(_)));
    assert_eq!(fresh.entry.list_age_secs, Some(100));
    assert!(!fresh.entry.stale);

    // Past iat + ttl (3600): stale, reported as not checked, never as valid.
    let stale = check_reference(&trust, URI, 5, NOW + 3601);
    assert!(stale.entry.stale);
    match &stale.verdict {
        StatusVerdict::NotChecked(e) => assert_eq!(e.code(), ErrorCode::StatusListStale),
        other => panic!("{other:?}"),
    }
    // A stale list that says INVALID is still believed (revocation is final).
    let revoked = check_reference(&trust, URI, 3, NOW + 3601);
    assert!(
        matches!(&revoked.verdict, StatusVerdict::Failed(e) if e.code() == ErrorCode::StatusRevoked)
    );
    let suspended = check_reference(&trust, URI, 4, NOW + 100);
    assert!(
        matches!(&suspended.verdict, StatusVerdict::Failed(e) if e.code() == ErrorCode::StatusSuspended)
    );

    // Recorded into a report.
    let mut report = VerificationReport::new(govcred::report::Format::Mdoc, NOW + 3601);
    stale.record(&mut report);
    assert_eq!(
        report.check("status").map(|c| c.outcome),
        Some(CheckOutcome::NotChecked)
    );
    assert_eq!(report.status.as_ref().map(|s| s.stale), Some(true));

    // Unknown list: status unknown, never revoked.
    let unknown = check_reference(&trust, "https://crs.example.gov.uk/t/OTHER", 3, NOW);
    assert_eq!(unknown.entry.state, "unknown");
    assert!(
        matches!(&unknown.verdict, StatusVerdict::NotChecked(e) if e.code() == ErrorCode::StatusUnknown)
    );

    // Past `exp`: refused when verified at a time after it.
    assert_eq!(
        cwt::verify_cwt(&bytes, &trust, NOW + 86_400 + 61, 60)
            .unwrap_err()
            .code(),
        ErrorCode::Expired
    );
}

#[test]
fn x5chain_must_chain_to_a_trusted_root() {
    let nb = NOW - 86_400;
    let (iaca, iaca_key) = create_iaca("GB", "Status IACA", None, nb, nb + 3000 * 86_400).unwrap();
    let (ds, ds_key) = issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Status signer",
        nb,
        nb + 400 * 86_400,
    )
    .unwrap();
    let t = token(2, &[(9, 1)], None);
    let bytes = cwt::sign_cwt(&t, &ds_key, std::slice::from_ref(&ds)).unwrap();

    let mut trust = TrustStore::new();
    trust.add_root_certificates_pem(&iaca.to_pem()).unwrap();
    let (back, key) = cwt::verify_cwt_with_key(&bytes, &trust, NOW, 0).unwrap();
    assert_eq!(back.list.get(9).unwrap(), 1);
    assert!(matches!(
        key.source,
        govcred::trust::KeySource::Certificate { .. }
    ));
    // The chain with the root appended also verifies.
    let both = cwt::sign_cwt(&t, &ds_key, &[ds.clone(), iaca.clone()]).unwrap();
    cwt::verify_cwt(&both, &trust, NOW, 0).unwrap();

    // No roots configured: unknown key, even if the signer's JWK is trusted.
    let mut only_jwk = TrustStore::new();
    only_jwk.add_jwk(&ds_key.public_jwk()).unwrap();
    assert_eq!(
        cwt::verify_cwt(&bytes, &only_jwk, NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownKey
    );
    // Another root: untrusted.
    let (other, _) = create_iaca("GB", "Other IACA", None, nb, nb + 3000 * 86_400).unwrap();
    let mut wrong = TrustStore::new();
    wrong.add_root_certificates_pem(&other.to_pem()).unwrap();
    assert_eq!(
        cwt::verify_cwt(&bytes, &wrong, NOW, 0).unwrap_err().code(),
        ErrorCode::UntrustedIssuer
    );
    // A certificate that did not make the signature: the chain holds, the signature not.
    let (ds2, _) = issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Other signer",
        nb,
        nb + 400 * 86_400,
    )
    .unwrap();
    let swapped = cwt::sign_cwt(&t, &ds_key, std::slice::from_ref(&ds2)).unwrap();
    assert_eq!(
        cwt::verify_cwt(&swapped, &trust, NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
}

#[test]
fn mdoc_status_reference_checks_against_a_cwt_list() {
    let nb = NOW - 86_400;
    let (iaca, iaca_key) = create_iaca("GB", "IACA", None, nb, nb + 3000 * 86_400).unwrap();
    let (ds, ds_key) =
        issue_document_signer(&iaca, &iaca_key, "GB", "DSC", nb, nb + 400 * 86_400).unwrap();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let draft = |idx: usize| MdocDraft {
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims: json!({"org.iso.18013.5.1": {"family_name": "Edwards", "age_over_18": true}})
            .as_object()
            .unwrap()
            .clone(),
        device_key: device.verifying_key().clone(),
        valid_from: NOW,
        valid_until: NOW + 30 * 86_400,
        expected_update: None,
        status: Some((idx, URI.into())),
        test_only_salt_seed: None,
    };
    let revoked = mdoc::issue(&draft(3), &ds, &ds_key, NOW).unwrap();
    let valid = mdoc::issue(&draft(4), &ds, &ds_key, NOW).unwrap();

    let t = token(2, &[(3, 1)], None);
    let list = cwt::sign_cwt(&t, &ds_key, std::slice::from_ref(&ds)).unwrap();
    let mut trust = TrustStore::new();
    trust.add_root_certificates_pem(&iaca.to_pem()).unwrap();
    trust.add_status_list_bytes(&list, 60).unwrap();

    let r = mdoc::verify(&revoked, &trust, NOW + 60, 60);
    assert!(!r.valid);
    assert!(
        r.has_error(ErrorCode::StatusRevoked),
        "{}",
        r.to_json_pretty()
    );
    assert_eq!(r.status.as_ref().map(|s| s.state.as_str()), Some("invalid"));

    let r = mdoc::verify(&valid, &trust, NOW + 60, 60);
    assert_eq!(
        r.check("status").map(|c| c.outcome),
        Some(CheckOutcome::Passed),
        "{}",
        r.to_json_pretty()
    );
    assert_eq!(Status::from_value(t.list.get(4).unwrap()), Status::Valid);
}
