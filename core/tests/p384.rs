//! P-384 / ES384 verification (GOV.UK profile §6.3, §6.5): P-384 IACAs and Document
//! Signers for mdoc issuerAuth (COSE alg -35), P-384 "Gov Checker" reader certificates
//! (ecdsa-with-SHA384) for ISO 18013-5 readerAuth, and the JOSE policy that still
//! refuses ES384.
//!
//! govcred signs only ES256/EdDSA, so the P-384 keys here are aws-lc-rs key pairs
//! wrapped in a test [`Signer`] (as a reader app's platform key would be), and the
//! certificates are made with rcgen (`PKCS_ECDSA_P384_SHA384`).

mod common;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P384_SHA384_FIXED_SIGNING};
use ciborium::Value;
use govcred::crypto::{Alg, EcdsaHash, Jwk, SoftwareKey, VerifyingKey};
use govcred::format::mdoc::{self, MdocDraft};
use govcred::proximity::*;
use govcred::report::Outcome;
use govcred::trust::TrustStore;
use govcred::x509::{self, Certificate, EKU_MDL_DS};
use govcred::{ErrorCode, Signer};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
};
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01

/// A P-384 key held outside govcred (a platform key), usable as a govcred `Signer`
/// (ES384, raw 96-byte `R‖S`) and as an rcgen key pair.
struct P384Key {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    public: VerifyingKey,
}

impl P384Key {
    fn generate() -> Self {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, doc.as_ref()).unwrap();
        let public = VerifyingKey::from_p384_sec1(pair.public_key().as_ref()).unwrap();
        P384Key {
            pair,
            pkcs8: doc.as_ref().to_vec(),
            public,
        }
    }

    fn rcgen(&self) -> rcgen::KeyPair {
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &self.pkcs8.as_slice().into(),
            &PKCS_ECDSA_P384_SHA384,
        )
        .unwrap()
    }
}

impl Signer for P384Key {
    fn alg(&self) -> Alg {
        Alg::ES384
    }
    fn public_jwk(&self) -> Jwk {
        self.public.jwk().clone()
    }
    fn sign(&self, bytes: &[u8]) -> govcred::Result<Vec<u8>> {
        Ok(self
            .pair
            .sign(&SystemRandom::new(), bytes)
            .unwrap()
            .as_ref()
            .to_vec())
    }
}

/// An rcgen key pair for a govcred P-256 key.
fn rcgen_p256(key: &SoftwareKey) -> rcgen::KeyPair {
    use p256::pkcs8::EncodePrivateKey;
    let jwk = key.to_private_jwk().unwrap();
    let d = govcred::b64::decode(jwk.d.as_ref().unwrap().expose(), "d").unwrap();
    let pkcs8 = p256::SecretKey::from_slice(&d)
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_bytes().into(), &PKCS_ECDSA_P256_SHA256)
        .unwrap()
}

fn time(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap()
}

/// `SEQUENCE { OID }` for an ISO 18013-5 EKU `1.0.18013.5.1.<last>`, critical.
fn eku(last: u8) -> CustomExtension {
    // 1.0 → 0x28; 18013 → 0x81 0x8c 0x5d; 5; 1; last.
    let oid = [0x28, 0x81, 0x8c, 0x5d, 0x05, 0x01, last];
    let mut der = vec![0x30, (oid.len() + 2) as u8, 0x06, oid.len() as u8];
    der.extend_from_slice(&oid);
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], der);
    ext.set_criticality(true);
    ext
}

/// The GOV.UK reader subject/issuer attributes (profile §6.5) with `cn`.
fn govuk_name(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, "GB");
    dn.push(DnType::StateOrProvinceName, "London");
    dn.push(DnType::LocalityName, "London");
    dn.push(DnType::OrganizationName, "Government Digital Service");
    dn.push(DnType::CommonName, cn);
    dn
}

/// A self-signed P-384 CA (ecdsa-with-SHA384) named `name`; returns the certificate
/// and an rcgen issuer for it.
fn p384_ca(
    name: rcgen::DistinguishedName,
    key: &P384Key,
) -> (Certificate, rcgen::Issuer<'static, rcgen::KeyPair>) {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = time(NOW - 86_400);
    p.not_after = time(NOW + 3288 * 86_400);
    let cert = p.self_signed(&key.rcgen()).unwrap();
    let cert = Certificate::from_der(cert.der()).unwrap();
    (cert, rcgen::Issuer::new(p, key.rcgen()))
}

/// A leaf (not a CA, digitalSignature, the given EKU) for `key`, valid 24 h around NOW.
fn leaf(
    name: rcgen::DistinguishedName,
    key: &impl rcgen::PublicKeyData,
    issuer: &rcgen::Issuer<'static, rcgen::KeyPair>,
    eku_last: u8,
) -> Certificate {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.custom_extensions = vec![eku(eku_last)];
    p.not_before = time(NOW - 3600);
    p.not_after = time(NOW + 20 * 3600);
    let cert = p.signed_by(key, issuer).unwrap();
    Certificate::from_der(cert.der()).unwrap()
}

fn simple_name(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, "GB");
    dn.push(DnType::CommonName, cn);
    dn
}

fn draft(device: &SoftwareKey) -> MdocDraft {
    MdocDraft {
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims: json!({
            "org.iso.18013.5.1": {"family_name": "Edwards", "age_over_18": true}
        })
        .as_object()
        .unwrap()
        .clone(),
        device_key: device.verifying_key().clone(),
        valid_from: NOW - 60,
        valid_until: NOW + 30 * 86_400,
        expected_update: None,
        status: None,
        test_only_salt_seed: None,
    }
}

fn trust(root: &Certificate) -> TrustStore {
    let mut t = TrustStore::new();
    t.add_root_certificates_pem(&root.to_pem()).unwrap();
    t
}

#[test]
fn p384_iaca_with_p256_ds_issued_mdoc_verifies() {
    let iaca_key = P384Key::generate();
    let (iaca, issuer) = p384_ca(simple_name("mDL Example IACA Root P-384"), &iaca_key);
    assert_eq!(iaca.public_key().unwrap().alg(), Alg::ES384);
    let ds_key = SoftwareKey::generate(Alg::ES256).unwrap();
    // P-256 DS key, signed ecdsa-with-SHA384 by the P-384 IACA.
    let ds = leaf(simple_name("Example DSC"), &rcgen_p256(&ds_key), &issuer, 2);
    ds.verify_issued_by(&iaca).unwrap();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let bytes = mdoc::issue(&draft(&device), &ds, &ds_key, NOW).unwrap();
    let r = mdoc::verify(&bytes, &trust(&iaca), NOW, 60);
    assert_eq!(r.outcome, Outcome::Valid, "{}", r.to_json_pretty());

    // Another P-384 IACA with the same name but another key: refused.
    let (rogue, _) = p384_ca(
        simple_name("mDL Example IACA Root P-384"),
        &P384Key::generate(),
    );
    let r = mdoc::verify(&bytes, &trust(&rogue), NOW, 60);
    assert_eq!(r.outcome, Outcome::Invalid);
    assert!(
        r.has_error(ErrorCode::SignatureInvalid),
        "{}",
        r.to_json_pretty()
    );
}

/// `bytes` (an IssuerSigned) with its issuerAuth replaced by a COSE_Sign1 over the same
/// payload, with protected header `{1: alg}`, x5chain `ds`, signed by `signer`.
fn resign(bytes: &[u8], alg: i64, ds: &Certificate, signer: &dyn Signer) -> Vec<u8> {
    let mut v: Value = ciborium::from_reader(bytes).unwrap();
    let Value::Map(entries) = &mut v else {
        panic!("IssuerSigned is a map")
    };
    let (_, auth) = entries
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some("issuerAuth"))
        .unwrap();
    let payload = auth.as_array().unwrap()[2].as_bytes().unwrap().clone();
    let mut protected = Vec::new();
    ciborium::into_writer(
        &Value::Map(vec![(Value::from(1), Value::from(alg))]),
        &mut protected,
    )
    .unwrap();
    let tbs = coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        coset::ProtectedHeader {
            original_data: Some(protected.clone()),
            header: coset::Header::default(),
        },
        None,
        &[],
        &payload,
    );
    let sig = signer.sign(&tbs).unwrap();
    *auth = Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![(Value::from(33), Value::Bytes(ds.der().to_vec()))]),
        Value::Bytes(payload),
        Value::Bytes(sig),
    ]);
    let mut out = Vec::new();
    ciborium::into_writer(&v, &mut out).unwrap();
    out
}

#[test]
fn p384_ds_es384_issuer_auth_verifies() {
    let iaca_key = P384Key::generate();
    let (iaca, issuer) = p384_ca(simple_name("IACA P-384"), &iaca_key);
    let ds_key = P384Key::generate();
    let ds = leaf(simple_name("DSC P-384"), &ds_key.rcgen(), &issuer, 2);
    assert_eq!(
        x509::verify_chain(
            std::slice::from_ref(&ds),
            std::slice::from_ref(&iaca),
            NOW,
            0,
            Some(EKU_MDL_DS)
        )
        .unwrap(),
        ds_key.public
    );
    // govcred issues ES256 only: issue with a P-256 DS, then re-sign issuerAuth with
    // the P-384 DS (COSE alg -35) over the same MSO.
    let p256_ds_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let p256_ds = leaf(
        simple_name("DSC P-256"),
        &rcgen_p256(&p256_ds_key),
        &issuer,
        2,
    );
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let issued = mdoc::issue(&draft(&device), &p256_ds, &p256_ds_key, NOW).unwrap();
    let t = trust(&iaca);

    let es384 = resign(&issued, -35, &ds, &ds_key);
    let r = mdoc::verify(&es384, &t, NOW, 60);
    assert_eq!(r.outcome, Outcome::Valid, "{}", r.to_json_pretty());

    // -7 (ES256) claimed with a P-384 DS key: the alg does not fit the key.
    let r = mdoc::verify(&resign(&issued, -7, &ds, &ds_key), &t, NOW, 60);
    assert!(
        r.has_error(ErrorCode::KeyAlgMismatch),
        "{}",
        r.to_json_pretty()
    );
    // -35 claimed with a P-256 DS key.
    let r = mdoc::verify(&resign(&issued, -35, &p256_ds, &p256_ds_key), &t, NOW, 60);
    assert!(
        r.has_error(ErrorCode::KeyAlgMismatch),
        "{}",
        r.to_json_pretty()
    );
    // ES512 (-36) stays refused.
    let r = mdoc::verify(&resign(&issued, -36, &ds, &ds_key), &t, NOW, 60);
    assert!(
        r.has_error(ErrorCode::AlgNotAllowed),
        "{}",
        r.to_json_pretty()
    );
    // A signature by another P-384 key.
    let r = mdoc::verify(
        &resign(&issued, -35, &ds, &P384Key::generate()),
        &t,
        NOW,
        60,
    );
    assert!(
        r.has_error(ErrorCode::SignatureInvalid),
        "{}",
        r.to_json_pretty()
    );
    // A different IACA: untrusted.
    let (other, _) = p384_ca(simple_name("Other IACA P-384"), &P384Key::generate());
    let r = mdoc::verify(&es384, &trust(&other), NOW, 60);
    assert!(
        r.has_error(ErrorCode::UntrustedIssuer),
        "{}",
        r.to_json_pretty()
    );
}

/// A GOV.UK-shaped reader PKI (profile §6.5): `CN=GOVUK Mobile Wallet GovVerifier CA`
/// root and a P-384 reader leaf signed ecdsa-with-SHA384 with the mdlReaderAuth EKU.
fn reader_pki(root_cn: &str) -> (P384Key, Certificate, Certificate) {
    let root_key = P384Key::generate();
    let (root, issuer) = p384_ca(govuk_name(root_cn), &root_key);
    let reader_key = P384Key::generate();
    let cert = leaf(
        govuk_name("Gov Checker test"),
        &reader_key.rcgen(),
        &issuer,
        6,
    );
    assert_eq!(
        cert.extended_key_usages(),
        vec![READER_AUTH_EKU.to_string()]
    );
    (reader_key, cert, root)
}

fn mdl_request() -> ItemsRequest {
    ItemsRequest::new("org.iso.18013.5.1.mDL").element("org.iso.18013.5.1", "age_over_18", false)
}

/// The reader identity the holder reports for a request signed by `signer` with
/// `chain`, checked against `roots`.
fn reader_seen(
    signer: &dyn Signer,
    chain: &[Certificate],
    roots: &[Certificate],
) -> Result<ReaderIdentity, govcred::report::ReportError> {
    let mut holder = Holder::new(BleOptions::peripheral_server([4; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(vec![mdl_request()], Some((signer, chain)), NOW)
        .unwrap();
    let est = reader.send_request(&request).unwrap();
    let HolderEvent::Request(got) = holder.receive(&est, roots, NOW, 0).unwrap() else {
        panic!("a request")
    };
    got.readers[0].clone().unwrap()
}

#[test]
fn proximity_reader_auth_with_p384_reader_certificate() {
    let (reader_key, cert, root) = reader_pki("GOVUK Mobile Wallet GovVerifier CA");
    let chain = [cert];
    let who = reader_seen(&reader_key, &chain, std::slice::from_ref(&root)).unwrap();
    assert!(who.subject.contains("CN=Gov Checker test"), "{who:?}");
    assert!(
        who.subject.contains("O=Government Digital Service"),
        "{who:?}"
    );
    assert!(
        who.root.contains("GOVUK Mobile Wallet GovVerifier CA"),
        "{who:?}"
    );
    // The chain may carry the root too.
    let with_root = [chain[0].clone(), root.clone()];
    reader_seen(&reader_key, &with_root, std::slice::from_ref(&root)).unwrap();

    // A root with another name: untrusted.
    let (_, _, other) = reader_pki("Some other reader CA");
    let e = reader_seen(&reader_key, &chain, std::slice::from_ref(&other)).unwrap_err();
    assert_eq!(e.code, ErrorCode::UntrustedIssuer);
    // A root with the same name and another key: the chain's signature fails.
    let (_, _, impostor) = reader_pki("GOVUK Mobile Wallet GovVerifier CA");
    let e = reader_seen(&reader_key, &chain, std::slice::from_ref(&impostor)).unwrap_err();
    assert_eq!(e.code, ErrorCode::SignatureInvalid);
    // No roots at all.
    let e = reader_seen(&reader_key, &chain, &[]).unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownKey);

    // Signed by another P-384 key than the certificate's.
    let e = reader_seen(&P384Key::generate(), &chain, std::slice::from_ref(&root)).unwrap_err();
    assert_eq!(e.code, ErrorCode::SignatureInvalid);
    // Signed ES256 (COSE -7) but the certificate's key is P-384.
    let p256 = SoftwareKey::generate(Alg::ES256).unwrap();
    let e = reader_seen(&p256, &chain, std::slice::from_ref(&root)).unwrap_err();
    assert_eq!(e.code, ErrorCode::KeyAlgMismatch);
}

#[test]
fn readerauth_signature_is_bound_to_the_session() {
    let (reader_key, cert, _) = reader_pki("GOVUK Mobile Wallet GovVerifier CA");
    let holder = Holder::new(BleOptions::peripheral_server([5; 16])).unwrap();
    let reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(
            vec![mdl_request()],
            Some((&reader_key, std::slice::from_ref(&cert))),
            NOW,
        )
        .unwrap();
    let key = cert.public_key().unwrap();
    request.doc_requests[0]
        .verify_reader_signature(reader.session_transcript(), &key)
        .unwrap();
    let holder2 = Holder::new(BleOptions::peripheral_server([5; 16])).unwrap();
    let reader2 = Reader::from_qr(&holder2.qr_uri()).unwrap();
    let e = request.doc_requests[0]
        .verify_reader_signature(reader2.session_transcript(), &key)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
}

#[test]
fn p384_keys_verify_but_do_not_sign_and_jose_still_refuses_es384() {
    let key = P384Key::generate();
    let vk = &key.public;
    assert_eq!(vk.alg(), Alg::ES384);
    assert_eq!(Alg::ES384.cose_label(), -35);

    // Raw R‖S (COSE) signatures.
    let sig = key.sign(b"msg").unwrap();
    assert_eq!(sig.len(), 96);
    vk.verify(Alg::ES384, b"msg", &sig).unwrap();
    assert_eq!(
        vk.verify(Alg::ES384, b"msh", &sig).unwrap_err().code(),
        ErrorCode::SignatureInvalid
    );
    assert_eq!(
        vk.verify(Alg::ES256, b"msg", &sig).unwrap_err().code(),
        ErrorCode::KeyAlgMismatch
    );
    assert_eq!(
        vk.verify(Alg::ES384, b"msg", &sig[..64])
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );

    // JWK round trip (crv P-384), with and without `alg`.
    let jwk = vk.jwk().clone();
    assert_eq!(jwk.crv.as_deref(), Some("P-384"));
    assert_eq!(&VerifyingKey::from_jwk(&jwk).unwrap(), vk);
    let with_alg = Jwk {
        alg: Some("ES384".into()),
        ..jwk.clone()
    };
    assert_eq!(&VerifyingKey::from_jwk(&with_alg).unwrap(), vk);
    let wrong_alg = Jwk {
        alg: Some("ES256".into()),
        ..jwk.clone()
    };
    assert_eq!(
        VerifyingKey::from_jwk(&wrong_alg).unwrap_err().code(),
        ErrorCode::KeyAlgMismatch
    );
    let short = Jwk {
        x: Some(govcred::b64::encode([1u8; 32])),
        ..jwk.clone()
    };
    assert_eq!(
        VerifyingKey::from_jwk(&short).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
    // Off the curve, compressed, wrong length: InvalidKey, no panic.
    let mut off = [0u8; 97];
    off[0] = 4;
    off[1] = 1;
    for bad in [
        &off[..],
        &vk.compressed_bytes()[..],
        &[4u8; 65][..],
        &[][..],
    ] {
        assert_eq!(
            VerifyingKey::from_p384_sec1(bad).unwrap_err().code(),
            ErrorCode::InvalidKey
        );
    }
    assert_eq!(vk.compressed_bytes().len(), 49);

    // Signing stays ES256/EdDSA.
    assert_eq!(
        SoftwareKey::generate(Alg::ES384).unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
    assert_eq!(
        SoftwareKey::from_secret_bytes(Alg::ES384, &[7; 32])
            .unwrap_err()
            .code(),
        ErrorCode::AlgNotAllowed
    );
    let private = Jwk {
        d: Some(govcred::crypto::SecretString::new(govcred::b64::encode(
            [7u8; 48],
        ))),
        ..jwk.clone()
    };
    assert_eq!(
        SoftwareKey::from_jwk(&private).unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
    // did:key is for Ed25519 / P-256 only.
    assert_eq!(
        govcred::did::key::from_jwk(&jwk).unwrap_err().code(),
        ErrorCode::InvalidKey
    );

    // JOSE: ES384 is not an accepted JWS alg (GOV.UK signs every JWT with ES256).
    assert_eq!(
        Alg::from_jose("ES384").unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
    let header = govcred::b64::encode(br#"{"alg":"ES384","typ":"JWT"}"#);
    let payload = govcred::b64::encode(br#"{"iss":"x"}"#);
    let token = format!("{header}.{payload}.{}", govcred::b64::encode(&sig));
    assert_eq!(
        govcred::jose::Jws::decode(&token).unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
    // A JWS signer that claims ES384 produces 96 bytes, which JOSE signing refuses.
    assert!(govcred::jose::sign_compact(serde_json::Map::new(), b"{}", &key).is_err());
}

#[test]
fn x509_sha384_and_sha256_with_either_curve() {
    // P-256 key signing ecdsa-with-SHA384 and P-384 key signing ecdsa-with-SHA256 are
    // both fine in X.509 (covered by rcgen chains above and x509_vectors); here the
    // primitive directly, and the refusal of ecdsa-with-SHA512.
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
    assert_eq!(
        ed.verifying_key()
            .verify_asn1(EcdsaHash::Sha384, b"tbs", &[0x30, 0])
            .unwrap_err()
            .code(),
        ErrorCode::KeyAlgMismatch
    );
    let root_key = P384Key::generate();
    let (root, _) = p384_ca(simple_name("Root P-384"), &root_key);
    root.verify_issued_by(&root).unwrap();
    // Same certificate relabelled ecdsa-with-SHA512 (inner and outer): refused by name.
    let sha384 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
    let mut der = root.der().to_vec();
    let mut n = 0;
    let mut i = 0;
    while i + sha384.len() <= der.len() {
        if der[i..i + sha384.len()] == sha384 {
            der[i + sha384.len() - 1] = 0x04;
            n += 1;
        }
        i += 1;
    }
    assert_eq!(n, 2);
    let relabelled = Certificate::from_der(&der).unwrap();
    let e = relabelled.verify_issued_by(&relabelled).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlgNotAllowed);
    assert!(e.to_string().contains("ecdsa-with-SHA512"), "{e}");
}

#[test]
fn govuk_shared_certificates_still_chain() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    // The shared GOV.UK vectors hold only P-256 certificates (no published P-384
    // reader or IACA certificate): they must keep parsing and chaining as before.
    let read = |f: &str| std::fs::read_to_string(dir.join("govuk/mdoc").join(f)).unwrap();
    let iaca = Certificate::from_pem(&read("local-iaca-root.pem")).unwrap();
    let dsc = Certificate::from_pem(&read("local-dsc.pem")).unwrap();
    assert_eq!(iaca[0].public_key().unwrap().alg(), Alg::ES256);
    dsc[0].verify_issued_by(&iaca[0]).unwrap();
    let iacas = common::json(&dir, "govuk/issuance/iacas.example.json");
    for entry in iacas["data"].as_array().unwrap() {
        let pem = entry["certificatePem"].as_str().unwrap();
        let cert = Certificate::from_pem(pem).unwrap().remove(0);
        cert.verify_issued_by(&cert).unwrap();
        let jwk = Jwk::from_json(&entry["publicKeyJwk"].to_string()).unwrap();
        assert_eq!(
            &VerifyingKey::from_jwk(&jwk).unwrap(),
            cert.public_key_ref().unwrap()
        );
    }
}
