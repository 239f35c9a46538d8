//! SD-JWT VC rejections, each asserting its error code.

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::sd_jwt::{self, Disclosure, KeyBinding, SdJwt, SdJwtDraft, VerifyOptions};
use govcred::trust::TrustStore;
use govcred::{b64, ErrorCode, Signer, VerificationReport};
use proptest::prelude::*;
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const AUD: &str = "https://verifier.example.gov.uk";
const NONCE: &str = "nonce-4f1c";

struct F {
    issuer: SoftwareKey,
    holder: SoftwareKey,
    issued: String,
    trust: TrustStore,
}

fn fixture(alg: Alg) -> F {
    let issuer = SoftwareKey::generate(alg).unwrap();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut d = SdJwtDraft::new("https://issuer.example.gov.uk", "urn:example:pid");
    d.claims = json!({"given_name": "Sarah", "family_name": "Edwards", "birthdate": "1985-10-18",
                      "address": {"locality": "Leeds", "country": "GB"}, "nationalities": ["GB", "IE"]})
        .as_object().unwrap().clone();
    d.disclosable = [
        "given_name",
        "family_name",
        "birthdate",
        "address",
        "address.locality",
        "nationalities.0",
        "nationalities.1",
    ]
    .map(String::from)
    .to_vec();
    d.decoys = 2;
    d.holder_key = Some(holder.public_jwk());
    d.expires_at = Some(NOW + 86_400);
    let issued = sd_jwt::issue(&d, None, &issuer, NOW - 100).unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&issuer.public_jwk()).unwrap();
    F {
        issuer,
        holder,
        issued,
        trust,
    }
}

impl F {
    fn present(&self, paths: &[&str]) -> String {
        let kb = KeyBinding {
            audience: AUD.into(),
            nonce: NONCE.into(),
            issued_at: NOW,
        };
        SdJwt::parse(&self.issued)
            .unwrap()
            .present(paths, Some((&kb, &self.holder as &dyn Signer)))
            .unwrap()
    }
    fn verify(&self, p: &str) -> VerificationReport {
        let opts = VerifyOptions {
            audience: Some(AUD.into()),
            nonce: Some(NONCE.into()),
            ..Default::default()
        };
        sd_jwt::verify(p, &self.trust, NOW, 60, &opts)
    }
}

fn rejected(r: &VerificationReport, code: ErrorCode) {
    assert!(!r.valid, "must be rejected: {}", r.to_json_pretty());
    assert!(r.has_error(code), "expected {code}: {}", r.to_json_pretty());
}

/// Re-sign a KB-JWT over `payload` with `key`, appended to `base` (ending in `~`).
fn with_kb(base: &str, payload: serde_json::Value, key: &SoftwareKey) -> String {
    let mut h = serde_json::Map::new();
    h.insert("typ".into(), "kb+jwt".into());
    format!(
        "{base}{}",
        govcred::jose::sign_compact(h, payload.to_string().as_bytes(), key).unwrap()
    )
}

fn base_of(p: &str) -> String {
    format!("{}~", p.rsplit_once('~').unwrap().0)
}

#[test]
fn valid_presentation_both_issuer_algs() {
    for alg in [Alg::ES256, Alg::EdDSA] {
        let f = fixture(alg);
        let r = f.verify(&f.present(&["given_name", "address.locality", "nationalities.1"]));
        assert!(r.valid, "{}", r.to_json_pretty());
        let c = r.claims.to_value();
        assert_eq!(c["given_name"], "Sarah");
        assert_eq!(c["address"], json!({"locality": "Leeds", "country": "GB"}));
        assert_eq!(c["nationalities"], json!(["IE"]));
        assert!(c.get("family_name").is_none() && c.get("birthdate").is_none());
        assert_eq!(r.types, ["urn:example:pid"]);
    }
}

#[test]
fn altered_disclosure_is_orphan() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let parts: Vec<&str> = p.split('~').collect();
    let d = Disclosure::parse(parts[1]).unwrap();
    let forged = b64::encode(json!([d.salt, d.name, "Mallory"]).to_string());
    let p2 = p.replacen(parts[1], &forged, 1);
    let r = f.verify(&p2);
    rejected(&r, ErrorCode::MalformedInput);
    assert!(
        r.errors.iter().any(|e| e.message.contains("no digest")),
        "{}",
        r.to_json_pretty()
    );
}

#[test]
fn dropped_or_tampered_issuer_signature() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let (jwt, rest) = p.split_once('~').unwrap();
    let unsigned = format!("{}.~{rest}", jwt.rsplit_once('.').unwrap().0);
    rejected(&f.verify(&unsigned), ErrorCode::MalformedInput);
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    let forged_sig = b64::encode(
        other
            .sign(jwt.rsplit_once('.').unwrap().0.as_bytes())
            .unwrap(),
    );
    let forged = format!("{}.{forged_sig}~{rest}", jwt.rsplit_once('.').unwrap().0);
    rejected(&f.verify(&forged), ErrorCode::SignatureInvalid);
}

#[test]
fn disclosure_for_absent_digest_and_repeated_disclosure() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let base = base_of(&p);
    let stray = Disclosure::new(Some("admin"), json!(true));
    let with_stray = format!("{base}{}~", stray.encoded);
    let kb = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": govcred::b64::encode(govcred::crypto::sha256(with_stray.as_bytes()))});
    rejected(
        &f.verify(&with_kb(&with_stray, kb, &f.holder)),
        ErrorCode::MalformedInput,
    );
    let d = base.split('~').nth(1).unwrap();
    let repeated = format!("{base}{d}~");
    let kb = json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": govcred::b64::encode(govcred::crypto::sha256(repeated.as_bytes()))});
    let r = f.verify(&with_kb(&repeated, kb, &f.holder));
    rejected(&r, ErrorCode::MalformedInput);
    assert!(
        r.errors[0].message.contains("twice"),
        "{}",
        r.to_json_pretty()
    );
}

#[test]
fn key_binding_rejections() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let base = base_of(&p);
    let hash = govcred::b64::encode(govcred::crypto::sha256(base.as_bytes()));
    // wrong sd_hash
    let r = f.verify(&with_kb(
        &base,
        json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": "AAAA"}),
        &f.holder,
    ));
    rejected(&r, ErrorCode::InvalidClaim);
    // a disclosure removed after signing the KB-JWT: sd_hash no longer matches
    let two = f.present(&["given_name", "family_name"]);
    let (b2, kb2) = two.rsplit_once('~').unwrap();
    let mut parts: Vec<&str> = b2.split('~').collect();
    parts.pop();
    rejected(
        &f.verify(&format!("{}~{kb2}", parts.join("~"))),
        ErrorCode::InvalidClaim,
    );
    // wrong nonce, wrong aud
    rejected(
        &f.verify(&with_kb(
            &base,
            json!({"iat": NOW, "aud": AUD, "nonce": "replayed", "sd_hash": hash}),
            &f.holder,
        )),
        ErrorCode::NonceMismatch,
    );
    rejected(
        &f.verify(&with_kb(
            &base,
            json!({"iat": NOW, "aud": "https://other", "nonce": NONCE, "sd_hash": hash}),
            &f.holder,
        )),
        ErrorCode::InvalidClaim,
    );
    // wrong key (not the cnf key)
    let stranger = SoftwareKey::generate(Alg::ES256).unwrap();
    rejected(
        &f.verify(&with_kb(
            &base,
            json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": hash}),
            &stranger,
        )),
        ErrorCode::SignatureInvalid,
    );
    // stale and future iat
    rejected(
        &f.verify(&with_kb(
            &base,
            json!({"iat": NOW - 3600, "aud": AUD, "nonce": NONCE, "sd_hash": hash}),
            &f.holder,
        )),
        ErrorCode::Expired,
    );
    rejected(
        &f.verify(&with_kb(
            &base,
            json!({"iat": NOW + 3600, "aud": AUD, "nonce": NONCE, "sd_hash": hash}),
            &f.holder,
        )),
        ErrorCode::NotYetValid,
    );
    // missing KB-JWT when the verifier requires one
    rejected(&f.verify(&base), ErrorCode::InvalidClaim);
    // wrong typ on the KB-JWT
    let mut h = serde_json::Map::new();
    h.insert("typ".into(), "JWT".into());
    let kb = govcred::jose::sign_compact(
        h,
        json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": hash})
            .to_string()
            .as_bytes(),
        &f.holder,
    )
    .unwrap();
    rejected(&f.verify(&format!("{base}{kb}")), ErrorCode::TypeMismatch);
}

#[test]
fn alg_none_anywhere() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let (jwt, rest) = p.split_once('~').unwrap();
    let mut segs: Vec<String> = jwt.split('.').map(String::from).collect();
    segs[0] = b64::encode(json!({"alg": "none", "typ": "dc+sd-jwt"}).to_string());
    segs[2] = String::new();
    rejected(
        &f.verify(&format!("{}~{rest}", segs.join("."))),
        ErrorCode::AlgNotAllowed,
    );
    let base = base_of(&p);
    let hash = govcred::b64::encode(govcred::crypto::sha256(base.as_bytes()));
    let kb_none = format!(
        "{}.{}.",
        b64::encode(json!({"alg": "none", "typ": "kb+jwt"}).to_string()),
        b64::encode(json!({"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": hash}).to_string())
    );
    rejected(
        &f.verify(&format!("{base}{kb_none}")),
        ErrorCode::AlgNotAllowed,
    );
}

#[test]
fn expired_credential_and_issuer_policy() {
    let f = fixture(Alg::ES256);
    let p = f.present(&["given_name"]);
    let opts = VerifyOptions::default();
    let late = sd_jwt::verify(&base_of(&p), &f.trust, NOW + 2 * 86_400, 60, &opts);
    rejected(&late, ErrorCode::Expired);
    // No trusted key: could not check, never "valid".
    let r = sd_jwt::verify(&base_of(&p), &TrustStore::new(), NOW, 60, &opts);
    assert!(!r.valid && r.has_error(ErrorCode::UnknownKey));
    assert!(r.claims.is_empty());
    let _ = &f.issuer;
}

#[test]
fn issuer_refuses_bad_drafts() {
    let k = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut d = SdJwtDraft::new("https://i.example", "urn:t");
    d.claims = json!({"a": 1}).as_object().unwrap().clone();
    d.disclosable = vec!["b".into()];
    assert_eq!(
        sd_jwt::issue(&d, None, &k, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
    d.disclosable = vec!["vct".into()];
    assert_eq!(
        sd_jwt::issue(&d, None, &k, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
    d.disclosable = vec!["a..b".into()];
    assert_eq!(
        sd_jwt::issue(&d, None, &k, NOW).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
}

#[test]
fn malformed_inputs() {
    let f = fixture(Alg::ES256);
    for bad in ["", "~", "~~", "a.b.c~~", "not-a-jwt~", "e30.e30.e30~%%%~"] {
        let r = f.verify(bad);
        assert!(!r.valid, "{bad}");
        assert!(!r.errors.is_empty(), "{bad}");
    }
    let p = f.present(&["given_name"]);
    let base = base_of(&p);
    for cut in [5, base.len() / 2, base.len() - 5] {
        assert!(!f.verify(&base[..cut]).valid);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn single_byte_mutations_of_a_presentation_are_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        static P: std::sync::OnceLock<(F, String)> = std::sync::OnceLock::new();
        let (f, p) = P.get_or_init(|| { let f = fixture(Alg::EdDSA); let p = f.present(&["given_name", "address.locality"]); (f, p) });
        let mut bytes = p.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let text = String::from_utf8_lossy(&bytes).to_string();
        prop_assert!(!f.verify(&text).valid, "mutation at {} accepted", i);
    }
}

#[test]
fn trusted_key_may_not_vouch_for_another_did() {
    let f = fixture(Alg::ES256);
    let mut d = SdJwtDraft::new("https://issuer.example.gov.uk", "urn:example:pid");
    d.claims = json!({"a": 1}).as_object().unwrap().clone();
    d.kid = Some(format!(
        "did:web:other.example.gov.uk#{}",
        f.issuer.verifying_key().thumbprint()
    ));
    let t = sd_jwt::issue(&d, None, &f.issuer, NOW).unwrap();
    let r = sd_jwt::verify(&t, &f.trust, NOW, 60, &VerifyOptions::default());
    rejected(&r, ErrorCode::UntrustedIssuer);
    d.kid = Some(format!(
        "did:web:issuer.example.gov.uk#{}",
        f.issuer.verifying_key().thumbprint()
    ));
    let t = sd_jwt::issue(&d, None, &f.issuer, NOW).unwrap();
    assert!(sd_jwt::verify(&t, &f.trust, NOW, 60, &VerifyOptions::default()).valid);
}
