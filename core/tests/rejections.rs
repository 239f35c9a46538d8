//! Every rejection DEVELOPERS.md lists, through the public verifier, each asserting its
//! stable error code: tampered signature, wrong `alg` (`none`, HS256 with a public
//! key), wrong key, expired / not yet valid, truncated or malformed JWT/JSON, plus
//! the JOSE and DID policy rejections. And: random single-byte mutations of a valid
//! credential are never accepted.

use std::sync::Arc;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::report::CheckOutcome;
use govcred::trust::TrustStore;
use govcred::{b64, did, ErrorCode, FixedClock, Outcome, Signer, VerificationReport, Verifier};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ISSUER: &str = "https://issuer.example.gov.uk";
const NOW: i64 = 1_767_225_600;

struct Fixture {
    key: SoftwareKey,
    kid: String,
    trust: TrustStore,
    draft: CredentialDraft,
}

fn fixture(alg: Alg) -> Fixture {
    let key = SoftwareKey::generate(alg).unwrap();
    let did = did::web::from_domain(ISSUER).unwrap();
    let kid = format!("{did}#{}", did::web::key_id(key.verifying_key()));
    let mut trust = TrustStore::new();
    trust
        .add_did_document(&did::web::did_document(&did, &[key.verifying_key().clone()]).unwrap())
        .unwrap();
    let mut draft = CredentialDraft::new(ISSUER, "DigitalVeteranCard");
    draft
        .subject
        .insert("serviceNumber".into(), "25057386".into());
    draft.valid_until = Some(NOW + 86_400);
    Fixture {
        key,
        kid,
        trust,
        draft,
    }
}

impl Fixture {
    fn token(&self) -> String {
        jwt_vc::issue(&self.draft, &self.kid, &self.key, NOW).unwrap()
    }
    fn verify_at(&self, token: &str, at: i64) -> VerificationReport {
        Verifier::new(self.trust.clone())
            .with_clock(Arc::new(FixedClock::new(at)))
            .verify(token.as_bytes())
    }
    fn verify(&self, token: &str) -> VerificationReport {
        self.verify_at(token, NOW + 10)
    }
    /// A token with `header` (alg replaced by the signer's) signed over the real payload.
    fn with_header(&self, header: Value) -> String {
        let payload = govcred::jose::Jws::decode(&self.token())
            .unwrap()
            .payload()
            .to_vec();
        let h: Map<String, Value> = header.as_object().unwrap().clone();
        govcred::jose::sign_compact(h, &payload, &self.key).unwrap()
    }
}

fn assert_rejected(r: &VerificationReport, code: ErrorCode) {
    assert!(!r.valid, "must not be valid: {}", r.to_json_pretty());
    assert!(r.has_error(code), "expected {code}: {}", r.to_json_pretty());
    assert!(
        r.claims.is_empty() || r.check("signature").is_some_and(|c| c.ok),
        "claims only from a verified signature"
    );
}

fn parts(t: &str) -> Vec<String> {
    t.split('.').map(str::to_string).collect()
}

#[test]
fn valid_baseline_both_algs() {
    for alg in [Alg::ES256, Alg::EdDSA] {
        let f = fixture(alg);
        let r = f.verify(&f.token());
        assert!(r.valid, "{}", r.to_json_pretty());
        assert_eq!(r.outcome, Outcome::Valid);
        assert_eq!(r.claims.to_value()["serviceNumber"], "25057386");
    }
}

#[test]
fn tampered_payload_is_signature_invalid() {
    let f = fixture(Alg::ES256);
    let mut p = parts(&f.token());
    let payload = String::from_utf8(b64::decode(&p[1], "p").unwrap()).unwrap();
    p[1] = b64::encode(payload.replace("25057386", "25057387"));
    assert_rejected(&f.verify(&p.join(".")), ErrorCode::SignatureInvalid);
}

#[test]
fn tampered_signature_is_signature_invalid() {
    for alg in [Alg::ES256, Alg::EdDSA] {
        let f = fixture(alg);
        let mut p = parts(&f.token());
        let mut sig = b64::decode(&p[2], "s").unwrap();
        sig[31] ^= 0x01;
        p[2] = b64::encode(sig);
        assert_rejected(&f.verify(&p.join(".")), ErrorCode::SignatureInvalid);
    }
}

#[test]
fn alg_none_is_refused() {
    let f = fixture(Alg::ES256);
    let p = parts(&f.token());
    let header = b64::encode(json!({"alg": "none", "typ": "vc+jwt", "kid": f.kid}).to_string());
    for sig in ["", &p[2]] {
        let t = format!("{header}.{}.{sig}", p[1]);
        assert_rejected(&f.verify(&t), ErrorCode::AlgNotAllowed);
    }
}

#[test]
fn hs256_with_the_public_key_as_secret_is_refused() {
    let f = fixture(Alg::ES256);
    let p = parts(&f.token());
    let header = b64::encode(json!({"alg": "HS256", "typ": "vc+jwt", "kid": f.kid}).to_string());
    let input = format!("{header}.{}", p[1]);
    let secret = f.key.public_jwk().to_json();
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let mac = aws_lc_rs::hmac::sign(&k, input.as_bytes());
    let t = format!("{input}.{}", b64::encode(mac.as_ref()));
    assert_rejected(&f.verify(&t), ErrorCode::AlgNotAllowed);
}

#[test]
fn header_alg_not_matching_key_type_is_refused() {
    // An EdDSA signature presented under a kid whose key is P-256.
    let f = fixture(Alg::ES256);
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let payload = govcred::jose::Jws::decode(&f.token())
        .unwrap()
        .payload()
        .to_vec();
    let mut h = Map::new();
    h.insert("typ".into(), "vc+jwt".into());
    h.insert("kid".into(), f.kid.clone().into());
    let t = govcred::jose::sign_compact(h, &payload, &ed).unwrap();
    assert_rejected(&f.verify(&t), ErrorCode::KeyAlgMismatch);
}

#[test]
fn wrong_key_is_signature_invalid() {
    let f = fixture(Alg::ES256);
    let rogue = SoftwareKey::generate(Alg::ES256).unwrap();
    let t = jwt_vc::issue(&f.draft, &f.kid, &rogue, NOW).unwrap();
    assert_rejected(&f.verify(&t), ErrorCode::SignatureInvalid);
}

#[test]
fn key_not_authorised_for_assertion_is_refused() {
    let f = fixture(Alg::ES256);
    let did = did::web::from_domain(ISSUER).unwrap();
    let mut doc = did::web::did_document(&did, &[f.key.verifying_key().clone()]).unwrap();
    doc["authentication"] = doc["assertionMethod"].take();
    doc.as_object_mut().unwrap().remove("assertionMethod");
    let mut trust = TrustStore::new();
    trust.add_did_document(&doc).unwrap();
    let r = Verifier::new(trust)
        .with_clock(Arc::new(FixedClock::new(NOW)))
        .verify(f.token().as_bytes());
    assert_rejected(&r, ErrorCode::InvalidDidDocument);
}

#[test]
fn expired_and_not_yet_valid() {
    let f = fixture(Alg::EdDSA);
    let t = f.token();
    assert_rejected(&f.verify_at(&t, NOW + 86_400 + 61), ErrorCode::Expired);
    assert_rejected(&f.verify_at(&t, NOW - 61), ErrorCode::NotYetValid);
    // Within the 60 s leeway on either side: still valid.
    assert!(f.verify_at(&t, NOW + 86_400 + 59).valid);
    assert!(f.verify_at(&t, NOW - 59).valid);
    // The JWT's own exp is enforced even if validUntil were absent.
    let mut d = f.draft.clone();
    d.valid_until = None;
    let t2 = jwt_vc::issue(&d, &f.kid, &f.key, NOW).unwrap();
    assert!(
        f.verify_at(&t2, NOW + 10 * 365 * 86_400).valid,
        "no end of validity"
    );
}

#[test]
fn truncated_and_malformed_jwts() {
    let f = fixture(Alg::EdDSA);
    let t = f.token();
    for cut in [1, 10, t.len() / 2, t.len() - 3] {
        let r = f.verify(&t[..cut]);
        assert!(!r.valid);
        let code = r.errors[0].code;
        assert!(
            matches!(
                code,
                ErrorCode::MalformedInput
                    | ErrorCode::InvalidBase64
                    | ErrorCode::UnsupportedFormat
                    | ErrorCode::SignatureInvalid
            ),
            "cut {cut}: {code}"
        );
    }
    let p = parts(&t);
    let junk_payload = format!("{}.{}.{}", p[0], b64::encode("{not json"), p[2]);
    assert_rejected(&f.verify(&junk_payload), ErrorCode::MalformedInput);
    let resigned = f.with_header(json!({"typ": "vc+jwt", "kid": f.kid}));
    assert!(f.verify(&resigned).valid);
    let padded = format!("{t}=");
    assert!(!f.verify(&padded).valid);
    // The standard alphabet's '+' and '/' are not base64url.
    assert_rejected(
        &f.verify(&format!("{}.{}.+{}", p[0], p[1], &p[2][1..])),
        ErrorCode::InvalidBase64,
    );
    assert_rejected(
        &f.verify(&format!("{}.{}.{}/", p[0], p[1], &p[2][..p[2].len() - 1])),
        ErrorCode::InvalidBase64,
    );
    let r = Verifier::new(f.trust.clone()).verify(&[0xff, 0xfe, b'.', b'.']);
    assert_rejected(&r, ErrorCode::UnsupportedFormat);
}

#[test]
fn crit_and_typ_policy() {
    let f = fixture(Alg::EdDSA);
    let t = f.with_header(json!({"typ": "vc+jwt", "kid": f.kid, "crit": ["urn:x"], "urn:x": true}));
    assert_rejected(&f.verify(&t), ErrorCode::UnsupportedCritical);
    let t = f.with_header(json!({"typ": "JWT", "kid": f.kid}));
    assert_rejected(&f.verify(&t), ErrorCode::TypeMismatch);
    let t = f.with_header(json!({"kid": f.kid}));
    assert_rejected(&f.verify(&t), ErrorCode::TypeMismatch);
    let t = f.with_header(json!({"typ": "vc+jwt", "cty": "json", "kid": f.kid}));
    assert_rejected(&f.verify(&t), ErrorCode::TypeMismatch);
    // The long media type and the older vc-ld+jwt are accepted.
    for typ in ["application/vc+jwt", "vc-ld+jwt"] {
        assert!(
            f.verify(&f.with_header(json!({"typ": typ, "kid": f.kid})))
                .valid,
            "{typ}"
        );
    }
}

#[test]
fn unknown_issuer_key_is_could_not_check_not_invalid() {
    let f = fixture(Alg::ES256);
    let t = f.token();
    let r = Verifier::new(TrustStore::new())
        .with_clock(Arc::new(FixedClock::new(NOW)))
        .verify(t.as_bytes());
    assert!(!r.valid);
    assert_eq!(r.outcome, Outcome::CouldNotCheck);
    assert!(r.has_error(ErrorCode::UnknownKey));
    assert_eq!(
        r.check("signature").unwrap().outcome,
        CheckOutcome::NotChecked
    );
    assert!(r.claims.is_empty(), "unverified claims are not reported");
}

#[test]
fn issuer_must_control_the_signing_did() {
    let f = fixture(Alg::ES256);
    let mut d = f.draft.clone();
    d.issuer = "https://evil.example".into();
    let t = jwt_vc::issue(&d, &f.kid, &f.key, NOW).unwrap();
    assert_rejected(&f.verify(&t), ErrorCode::UntrustedIssuer);
    // iss and issuer must agree.
    let payload = govcred::jose::Jws::decode(&f.token())
        .unwrap()
        .payload_json()
        .unwrap();
    let mut p = payload.clone();
    p.insert("iss".into(), "https://other.example".into());
    let mut h = Map::new();
    h.insert("typ".into(), "vc+jwt".into());
    h.insert("kid".into(), f.kid.clone().into());
    let t = govcred::jose::sign_compact(h, &serde_json::to_vec(&p).unwrap(), &f.key).unwrap();
    assert_rejected(&f.verify(&t), ErrorCode::InvalidClaim);
}

#[test]
fn data_model_violations() {
    let f = fixture(Alg::EdDSA);
    let payload = govcred::jose::Jws::decode(&f.token())
        .unwrap()
        .payload_json()
        .unwrap();
    let cases: Vec<(&str, Value)> = vec![
        (
            "@context",
            json!(["https://www.w3.org/2018/credentials/v1"]),
        ),
        ("type", json!(["DigitalVeteranCard"])),
        ("credentialSubject", json!("a string")),
        ("validUntil", json!("next tuesday")),
        ("nbf", json!("soon")),
    ];
    for (member, value) in cases {
        let mut p = payload.clone();
        p.insert(member.into(), value);
        let mut h = Map::new();
        h.insert("typ".into(), "vc+jwt".into());
        h.insert("kid".into(), f.kid.clone().into());
        let t = govcred::jose::sign_compact(h, &serde_json::to_vec(&p).unwrap(), &f.key).unwrap();
        let r = f.verify(&t);
        assert!(!r.valid, "{member}");
        assert!(
            r.has_error(ErrorCode::InvalidClaim) || r.has_error(ErrorCode::InvalidDateTime),
            "{member}: {}",
            r.to_json_pretty()
        );
    }
}

#[test]
fn trusted_jwk_without_did() {
    let key = SoftwareKey::generate(Alg::ES256)
        .unwrap()
        .with_kid("k-2026");
    let draft = {
        let mut d = CredentialDraft::new(ISSUER, "DigitalVeteranCard");
        d.subject.insert("a".into(), 1.into());
        d
    };
    let t = jwt_vc::issue(&draft, "k-2026", &key, NOW).unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&key.public_jwk()).unwrap();
    let v = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(NOW)));
    assert!(v.verify(t.as_bytes()).valid);
    let other = SoftwareKey::generate(Alg::ES256)
        .unwrap()
        .with_kid("k-2026");
    let forged = jwt_vc::issue(&draft, "k-2026", &other, NOW).unwrap();
    assert_rejected(&v.verify(forged.as_bytes()), ErrorCode::SignatureInvalid);
    let unknown = jwt_vc::issue(&draft, "k-2027", &key, NOW).unwrap();
    assert!(v
        .verify(unknown.as_bytes())
        .has_error(ErrorCode::UnknownKey));
    // A kid naming a did:web whose document is absent matches a trusted key by fragment,
    // but the key then only vouches for that DID's issuer.
    let t = jwt_vc::issue(&draft, "did:web:issuer.example.gov.uk#k-2026", &key, NOW).unwrap();
    assert!(v.verify(t.as_bytes()).valid);
    let mut other_issuer = draft.clone();
    other_issuer.issuer = "https://other.example.gov.uk".into();
    let t = jwt_vc::issue(
        &other_issuer,
        "did:web:issuer.example.gov.uk#k-2026",
        &key,
        NOW,
    )
    .unwrap();
    assert_rejected(&v.verify(t.as_bytes()), ErrorCode::UntrustedIssuer);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Changing any one byte of a valid credential never leaves it valid.
    #[test]
    fn single_byte_mutations_are_rejected(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        static F: std::sync::OnceLock<(Fixture, String)> = std::sync::OnceLock::new();
        let (f, t) = F.get_or_init(|| { let f = fixture(Alg::EdDSA); let t = f.token(); (f, t) });
        let mut bytes = t.clone().into_bytes();
        let i = pos.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let r = Verifier::new(f.trust.clone()).with_clock(Arc::new(FixedClock::new(NOW))).verify(&bytes);
        prop_assert!(!r.valid, "mutation at {} accepted", i);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Arbitrary bytes, whatever format they look like, are never accepted and never panic.
    #[test]
    fn arbitrary_input_is_never_valid(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let f = fixture_for_fuzz();
        prop_assert!(!f.verify(&bytes).valid);
    }

    /// Inputs shaped like each format (JWT, SD-JWT, base64url mdoc, CBOR map, JSON).
    #[test]
    fn format_shaped_garbage_is_never_valid(
        parts in prop::collection::vec("[A-Za-z0-9_-]{0,40}", 1..6),
        sep in prop::sample::select(vec![".", "~", ""]),
        cbor in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let f = fixture_for_fuzz();
        let text = parts.join(sep);
        prop_assert!(!f.verify(text.as_bytes()).valid);
        let mut map = vec![0xa2u8];
        map.extend(&cbor);
        prop_assert!(!f.verify(&map).valid);
        let mut indefinite = vec![0xbfu8];
        indefinite.extend(&cbor);
        prop_assert!(!f.verify(&indefinite).valid);
        let json = format!("{{\"proof\": {{}}, \"x\": \"{text}\"}}");
        prop_assert!(!f.verify(json.as_bytes()).valid);
    }
}

fn fixture_for_fuzz() -> &'static Verifier {
    static V: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let f = fixture(Alg::ES256);
        Verifier::new(f.trust).with_clock(Arc::new(FixedClock::new(NOW)))
    })
}
