//! Issuing mdocs and reading them back with the verifier.

mod common;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::mdoc::{self, MdocDraft};
use govcred::report::CheckOutcome;
use govcred::trust::TrustStore;
use govcred::x509::Certificate;
use govcred::ErrorCode;
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01

fn local_dsc(dir: &std::path::Path) -> (Certificate, SoftwareKey) {
    use base64::Engine;
    let read = |f: &str| std::fs::read_to_string(dir.join("govuk/mdoc").join(f)).unwrap();
    let body = |pem: &str| -> Vec<u8> {
        let b: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(b).unwrap()
    };
    let sec1 = body(&read("local-dsc.TEST-KEY-ONLY.pem"));
    let scalar: [u8; 32] = sec1[7..39].try_into().unwrap();
    let key = SoftwareKey::from_secret_bytes(Alg::ES256, &scalar).unwrap();
    let cert = Certificate::from_pem(&read("local-dsc.pem"))
        .unwrap()
        .remove(0);
    (cert, key)
}

fn draft(device: &SoftwareKey) -> MdocDraft {
    MdocDraft {
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims: json!({
            "org.iso.18013.5.1": {
                "family_name": "Edwards", "given_name": "Sarah", "birth_date": "1985-10-18",
                "issuing_country": "GB", "age_over_18": true,
                "portrait": govcred::b64::encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0xFF, 0xD9]),
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
        status: Some((7, "https://issuer.example.gov.uk/t/1".into())),
        test_only_salt_seed: None,
    }
}

#[test]
fn issued_mdoc_reads_back_exactly() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, ds_key) = local_dsc(&dir);
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let bytes = mdoc::issue(&draft(&device), &ds, &ds_key, NOW).unwrap();
    let parsed = mdoc::parse(&bytes).unwrap();
    assert_eq!(parsed.name_spaces.len(), 2);
    let mut trust = TrustStore::new();
    trust
        .add_root_certificates_pem(
            &std::fs::read_to_string(dir.join("govuk/mdoc/local-dsc.pem")).unwrap(),
        )
        .unwrap();
    let r = mdoc::verify(&bytes, &trust, NOW + 60, 60);
    // The LOCAL DSC has no mDL DS EKU, so trust fails precisely; everything we made checks.
    for check in ["signature", "data_model", "digests", "validity_period"] {
        assert_eq!(
            r.check(check).map(|c| c.outcome),
            Some(CheckOutcome::Passed),
            "{check}: {}",
            r.to_json_pretty()
        );
    }
    assert!(r.has_error(ErrorCode::UntrustedIssuer));
    assert!(
        r.has_error(ErrorCode::StatusUnknown),
        "the status reference is read"
    );
    let c = r.claims.to_value();
    assert_eq!(c["org.iso.18013.5.1"]["birth_date"], "1985-10-18");
    assert_eq!(
        c["org.iso.18013.5.1"]["driving_privileges"][0]["issue_date"],
        "2010-01-01"
    );
    assert_eq!(c["org.iso.18013.5.1.GB"]["welsh_licence"], false);
    // The portrait went out as a byte string and comes back as base64url.
    assert_eq!(
        c["org.iso.18013.5.1"]["portrait"],
        govcred::b64::encode([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0xFF, 0xD9])
    );
    assert_eq!(r.types, ["org.iso.18013.5.1.mDL"]);
}

#[test]
fn issuing_refuses_bad_drafts() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, ds_key) = local_dsc(&dir);
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    assert_eq!(
        mdoc::issue(&draft(&device), &ds, &other, NOW)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKey
    );
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let mut d = draft(&device);
    d.device_key = ed.verifying_key().clone();
    assert_eq!(
        mdoc::issue(&d, &ds, &ds_key, NOW).unwrap_err().code(),
        ErrorCode::KeyAlgMismatch
    );
    let mut d = draft(&device);
    d.valid_until = d.valid_from;
    assert_eq!(
        mdoc::issue(&d, &ds, &ds_key, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
    let mut d = draft(&device);
    d.claims.insert("bad".into(), json!("not an object"));
    assert_eq!(
        mdoc::issue(&d, &ds, &ds_key, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
}
