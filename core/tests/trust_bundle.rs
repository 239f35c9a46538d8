//! Trust bundles: signed, pinned, expiring; status lists inside are applied.

use std::sync::Arc;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::sd_jwt::{self, SdJwtDraft};
use govcred::status::token_status_list::{self, StatusList, StatusListToken};
use govcred::trust_bundle::{BundleContents, TrustBundle};
use govcred::{b64, ErrorCode, FixedClock, Signer, Verifier};

const NOW: i64 = 1_800_000_000;
const LIST_URI: &str = "https://crs.account.gov.uk/t/1";
const ISSUER: &str = "https://issuer.example.gov.uk";

struct Fixture {
    bundle_key: SoftwareKey,
    issuer: SoftwareKey,
    contents: BundleContents,
}

fn fixture() -> Fixture {
    let bundle_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let issuer = SoftwareKey::generate(Alg::ES256)
        .unwrap()
        .with_kid("issuer-1");
    let mut list = StatusList::new(2, 16).unwrap();
    list.set(5, 1).unwrap();
    let token = token_status_list::sign_token(
        &StatusListToken {
            sub: LIST_URI.into(),
            iss: Some(ISSUER.into()),
            iat: NOW - 600,
            exp: Some(NOW + 86_400),
            ttl: Some(43_200),
            list,
            kid: Some("issuer-1".into()),
        },
        &issuer,
    )
    .unwrap();
    let mut contents = BundleContents::default();
    let mut jwk = issuer.public_jwk();
    jwk.kid = Some("issuer-1".into());
    contents.add_jwks(ISSUER, vec![jwk]);
    contents.add_status_list(LIST_URI, token);
    Fixture {
        bundle_key,
        issuer,
        contents,
    }
}

fn credential(issuer: &SoftwareKey, idx: usize) -> String {
    let mut draft = SdJwtDraft::new(ISSUER, "urn:example:card");
    draft.claims = serde_json::json!({"given_name": "Sarah"})
        .as_object()
        .unwrap()
        .clone();
    draft.kid = Some("issuer-1".into());
    draft.status = Some(serde_json::json!({"status_list": {"idx": idx, "uri": LIST_URI}}));
    sd_jwt::issue(&draft, None, issuer, NOW - 60).unwrap()
}

#[test]
fn bundle_round_trip_reports_age_and_applies_status() {
    let f = fixture();
    let text = TrustBundle::build(&f.contents, NOW - 3600, 7 * 86_400, &f.bundle_key).unwrap();
    let loaded =
        TrustBundle::load(&text, &[f.bundle_key.verifying_key().clone()], NOW, 60).unwrap();
    assert_eq!(loaded.info.age_secs(NOW), 3600);
    assert_eq!(loaded.info.status_lists, vec![LIST_URI.to_string()]);
    assert_eq!(loaded.info.jwks_issuers, vec![ISSUER.to_string()]);
    let verifier = Verifier::from_bundle(loaded).with_clock(Arc::new(FixedClock::new(NOW)));

    let good = verifier.verify(credential(&f.issuer, 4).as_bytes());
    assert!(good.valid, "{}", good.to_json_pretty());
    assert_eq!(good.status.as_ref().unwrap().state, "valid");
    let tb = good.trust_bundle.as_ref().unwrap();
    assert_eq!(tb.age_secs, 3600);
    assert!(good
        .check("trust_bundle")
        .unwrap()
        .detail
        .contains("1h 0m old"));

    let revoked = verifier.verify(credential(&f.issuer, 5).as_bytes());
    assert!(!revoked.valid);
    assert!(
        revoked.has_error(ErrorCode::StatusRevoked),
        "{}",
        revoked.to_json_pretty()
    );
    assert_eq!(revoked.status.as_ref().unwrap().state, "invalid");
}

#[test]
fn bundled_jwks_are_trusted_for_their_issuer_only() {
    let f = fixture();
    let text = TrustBundle::build(&f.contents, NOW, 86_400, &f.bundle_key).unwrap();
    let loaded =
        TrustBundle::load(&text, &[f.bundle_key.verifying_key().clone()], NOW, 60).unwrap();
    let verifier = Verifier::from_bundle(loaded).with_clock(Arc::new(FixedClock::new(NOW)));
    let mut draft = SdJwtDraft::new("https://other-issuer.example", "urn:example:card");
    draft.kid = Some("issuer-1".into());
    let foreign = sd_jwt::issue(&draft, None, &f.issuer, NOW - 60).unwrap();
    let r = verifier.verify(foreign.as_bytes());
    assert!(!r.valid);
    assert!(
        r.has_error(ErrorCode::UntrustedIssuer),
        "{}",
        r.to_json_pretty()
    );
}

#[test]
fn expired_bundle_refused() {
    let f = fixture();
    let text =
        TrustBundle::build(&f.contents, NOW - 8 * 86_400, 7 * 86_400, &f.bundle_key).unwrap();
    let e = TrustBundle::load(&text, &[f.bundle_key.verifying_key().clone()], NOW, 60)
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::TrustBundleExpired);
    assert_eq!(e.code().as_str(), "trust_bundle_expired");
}

#[test]
fn tampered_bundle_refused() {
    let f = fixture();
    let text = TrustBundle::build(&f.contents, NOW, 86_400, &f.bundle_key).unwrap();
    let parts: Vec<&str> = text.split('.').collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&b64::decode(parts[1], "p").unwrap()).unwrap();
    payload["exp"] = serde_json::json!(NOW + 365 * 86_400);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64::encode(serde_json::to_vec(&payload).unwrap()),
        parts[2]
    );
    let e = TrustBundle::load(&forged, &[f.bundle_key.verifying_key().clone()], NOW, 60)
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
}

#[test]
fn bundle_from_unknown_signer_refused() {
    let f = fixture();
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    let text = TrustBundle::build(&f.contents, NOW, 86_400, &other).unwrap();
    let e = TrustBundle::load(&text, &[f.bundle_key.verifying_key().clone()], NOW, 60)
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
}

#[test]
fn status_list_signed_by_a_key_outside_the_bundle_is_not_bundled() {
    let f = fixture();
    let mut contents = f.contents.clone();
    contents.jwks.clear();
    let e = TrustBundle::build(&contents, NOW, 86_400, &f.bundle_key)
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::UnknownKey);
}

#[test]
fn status_list_under_the_wrong_uri_is_refused() {
    let f = fixture();
    let mut contents = f.contents.clone();
    contents.status_lists[0].uri = "https://crs.account.gov.uk/t/2".into();
    let e = TrustBundle::build(&contents, NOW, 86_400, &f.bundle_key)
        .err()
        .unwrap();
    assert_eq!(e.code(), ErrorCode::MalformedInput);
}
