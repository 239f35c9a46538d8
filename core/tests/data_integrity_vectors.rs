//! Data Integrity (eddsa-rdfc-2022, ecdsa-rdfc-2019) against the W3C vc-di-eddsa /
//! vc-di-ecdsa vectors in the shared vectors' `data-integrity/` (read in place, never
//! copied): first the proof layer on its own, then the credential-level wrapper
//! (`format::data_integrity::{issue, verify}`) and the `Verifier`.
#![cfg(feature = "data-integrity")]

mod common;

use std::path::Path;
use std::sync::Arc;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::data_integrity::proof::{
    sign_eddsa_rdfc_2022, verify, DiError, DiOffline, DiSuite,
};
use govcred::format::data_integrity::{self as di, UNDEFINED_TERMS_V2};
use govcred::format::jwt_vc::CredentialDraft;
use govcred::report::CheckOutcome;
use govcred::trust::TrustStore;
use govcred::{
    datetime, did, ErrorCode, FixedClock, Outcome, Signer, VerificationReport, Verifier,
};
use serde_json::{json, Value};

/// 2025-01-01T00:00:00Z, an arbitrary fixed "now" for the proof layer.
const AT: i64 = 1_735_689_600;

const ED_VM: &str = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
const P256_VM: &str = "did:key:zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP#zDnaepBuvsQ8cpsWrVKw8fbpGpvPeNSjVPTWoq6cRqaYzBKVP";

const ALUMNI_EDDSA: &str = "eddsa-rdfc-2022/signedDataInt.json";
const EMPLOY_EDDSA: &str = "eddsa-rdfc-2022/employ/signedDataInt.json";
const ALUMNI_ECDSA: &str = "ecdsa-rdfc-2019-p256/signedECDSAP256.json";
const EMPLOY_ECDSA: &str = "ecdsa-rdfc-2019-p256/employ/signedECDSAP256.json";
/// Every signed rdfc vector: (file, suite name, verification method).
const SIGNED: [(&str, &str, &str); 4] = [
    (ALUMNI_EDDSA, "eddsa-rdfc-2022", ED_VM),
    (EMPLOY_EDDSA, "eddsa-rdfc-2022", ED_VM),
    (ALUMNI_ECDSA, "ecdsa-rdfc-2019", P256_VM),
    (EMPLOY_ECDSA, "ecdsa-rdfc-2019", P256_VM),
];

/// Contexts that ssi 0.16 bundles (the rest of the manifest must be supplied).
const SSI_BUNDLED: &[&str] = &[
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://www.w3.org/2018/credentials/v1",
    "https://www.w3.org/2018/credentials/examples/v1",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://w3id.org/security/suites/jws-2020/v1",
    "https://w3id.org/vc/status-list/2021/v1",
];

const CITIZENSHIP_V4RC1: &str = "https://w3id.org/citizenship/v4rc1";

// --- vector files ------------------------------------------------------------------

fn read_json(dir: &Path, rel: &str) -> Value {
    common::json(dir, &format!("data-integrity/{rel}"))
}

fn read_text(dir: &Path, rel: &str) -> String {
    let p = dir.join("data-integrity").join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// All contexts from contexts/manifest.json (url -> file text).
fn manifest_contexts(dir: &Path) -> Vec<(String, String)> {
    let manifest = read_json(dir, "contexts/manifest.json");
    manifest["contexts"]
        .as_array()
        .expect("contexts array")
        .iter()
        .map(|c| {
            let url = c["url"].as_str().expect("url").to_owned();
            let file = c["file"].as_str().expect("file");
            (url, read_text(dir, &format!("contexts/{file}")))
        })
        .collect()
}

/// The manifest's contexts that ssi does not bundle.
fn non_bundled_contexts(dir: &Path) -> Vec<(String, String)> {
    manifest_contexts(dir)
        .into_iter()
        .filter(|(u, _)| !SSI_BUNDLED.contains(&u.as_str()))
        .collect()
}

fn offline_all(dir: &Path) -> DiOffline {
    DiOffline {
        did_documents: vec![],
        extra_contexts: manifest_contexts(dir),
    }
}

fn offline_non_bundled(dir: &Path) -> DiOffline {
    DiOffline {
        did_documents: vec![],
        extra_contexts: non_bundled_contexts(dir),
    }
}

fn unsigned_alumni(dir: &Path) -> Value {
    read_json(dir, "inputs/unsigned-alumni.json")
}

// --- keys ----------------------------------------------------------------------------

/// The bytes of a base58btc multibase string (`z…`).
fn multibase_bytes(s: &str) -> Vec<u8> {
    let b58 = s.strip_prefix('z').expect("base58btc multibase");
    bs58::decode(b58).into_vec().expect("base58btc")
}

fn ed_key(seed: u8) -> SoftwareKey {
    SoftwareKey::from_secret_bytes(Alg::EdDSA, &[seed; 32]).expect("Ed25519 key")
}

fn public(key: &SoftwareKey) -> [u8; 32] {
    key.verifying_key()
        .compressed_bytes()
        .try_into()
        .expect("32-byte Ed25519 public key")
}

/// (did:key, its verification method) for an Ed25519 key.
fn did_key_for(key: &SoftwareKey) -> (String, String) {
    let mb = did::key::multibase(key.verifying_key());
    (format!("did:key:{mb}"), format!("did:key:{mb}#{mb}"))
}

fn callback(key: &SoftwareKey) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> + '_ {
    move |msg: &[u8]| key.sign(msg).map_err(|e| e.to_string())
}

fn vector_signing_key(dir: &Path) -> SoftwareKey {
    let kp = read_json(dir, "inputs/ed25519-keypair.json");
    let sk = multibase_bytes(kp["privateKeyMultibase"].as_str().unwrap());
    assert_eq!(&sk[..2], &[0x80, 0x26], "ed25519-priv multicodec");
    let seed: [u8; 32] = sk[2..].try_into().expect("32-byte seed");
    let key = SoftwareKey::from_secret_bytes(Alg::EdDSA, &seed).expect("seed");
    let pk = multibase_bytes(kp["publicKeyMultibase"].as_str().unwrap());
    assert_eq!(&pk[..2], &[0xed, 0x01]);
    assert_eq!(pk[2..], public(&key), "private key derives public key");
    key
}

fn web_did_doc(did: &str, vm: &str, key: &SoftwareKey, with_assertion: bool) -> Value {
    let mut doc = json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": vm, "type": "Multikey", "controller": did,
            "publicKeyMultibase": did::key::multibase(key.verifying_key()),
        }],
        "authentication": [vm],
    });
    if with_assertion {
        doc["assertionMethod"] = json!([vm]);
    }
    doc
}

// --- the proof layer on the W3C vectors -----------------------------------------------

fn check_vector(dir: &Path, rel: &str, suite: DiSuite, vm: &str, offline: &DiOffline) {
    let doc = read_json(dir, rel);
    let infos = verify(&doc, offline, AT).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].suite, suite);
    assert_eq!(infos[0].verification_method, vm);
    assert_eq!(infos[0].proof_purpose, "assertionMethod");
    assert_eq!(infos[0].created.as_deref(), Some("2023-02-24T23:36:38Z"));
}

#[test]
fn eddsa_rdfc_2022_vectors_verify() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    check_vector(&dir, ALUMNI_EDDSA, DiSuite::EddsaRdfc2022, ED_VM, &off);
    check_vector(&dir, EMPLOY_EDDSA, DiSuite::EddsaRdfc2022, ED_VM, &off);
}

#[test]
fn ecdsa_rdfc_2019_p256_vectors_verify() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    check_vector(&dir, ALUMNI_ECDSA, DiSuite::EcdsaRdfc2019, P256_VM, &off);
    check_vector(&dir, EMPLOY_ECDSA, DiSuite::EcdsaRdfc2019, P256_VM, &off);
}

#[test]
fn vectors_verify_with_only_non_bundled_contexts_supplied() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_non_bundled(&dir);
    assert!(off
        .extra_contexts
        .iter()
        .any(|(u, _)| u == CITIZENSHIP_V4RC1));
    check_vector(&dir, ALUMNI_EDDSA, DiSuite::EddsaRdfc2022, ED_VM, &off);
    check_vector(&dir, EMPLOY_EDDSA, DiSuite::EddsaRdfc2022, ED_VM, &off);
    check_vector(&dir, EMPLOY_ECDSA, DiSuite::EcdsaRdfc2019, P256_VM, &off);
    // The alumni vector needs nothing beyond ssi's bundled contexts.
    check_vector(
        &dir,
        ALUMNI_EDDSA,
        DiSuite::EddsaRdfc2022,
        ED_VM,
        &DiOffline::default(),
    );
}

#[test]
fn missing_context_is_context_error() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let doc = read_json(&dir, EMPLOY_EDDSA);
    match verify(&doc, &DiOffline::default(), AT) {
        Err(DiError::Context(msg)) => assert!(msg.contains("citizenship/v4rc1"), "{msg}"),
        other => panic!("expected Context, got {other:?}"),
    }
    let doc = read_json(&dir, EMPLOY_ECDSA);
    assert!(matches!(
        verify(&doc, &DiOffline::default(), AT),
        Err(DiError::Context(_))
    ));
}

#[test]
fn tampered_claims_are_signature_invalid() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    for rel in [ALUMNI_EDDSA, ALUMNI_ECDSA] {
        let mut doc = read_json(&dir, rel);
        doc["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
        match verify(&doc, &off, AT) {
            Err(DiError::SignatureInvalid(_)) => {}
            other => panic!("{rel}: expected SignatureInvalid, got {other:?}"),
        }
    }
    for rel in [EMPLOY_EDDSA, EMPLOY_ECDSA] {
        let mut doc = read_json(&dir, rel);
        doc["credentialSubject"]["familyName"] = json!("SMYTHE");
        assert!(
            matches!(verify(&doc, &off, AT), Err(DiError::SignatureInvalid(_))),
            "{rel}"
        );
        // validUntil is a claim too (and is covered by the signature).
        let mut doc = read_json(&dir, rel);
        doc["validUntil"] = json!("2039-12-03T00:00:00Z");
        assert!(
            matches!(verify(&doc, &off, AT), Err(DiError::SignatureInvalid(_))),
            "{rel}"
        );
    }
}

#[test]
fn tampered_proof_is_signature_invalid() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    // Another valid-looking signature (the employ one) on the alumni credential.
    let mut doc = read_json(&dir, ALUMNI_EDDSA);
    let other = read_json(&dir, EMPLOY_EDDSA);
    doc["proof"]["proofValue"] = other["proof"]["proofValue"].clone();
    assert!(matches!(
        verify(&doc, &off, AT),
        Err(DiError::SignatureInvalid(_))
    ));
    // Proof options are signed too.
    let mut doc = read_json(&dir, ALUMNI_EDDSA);
    doc["proof"]["created"] = json!("2023-02-24T23:36:39Z");
    assert!(matches!(
        verify(&doc, &off, AT),
        Err(DiError::SignatureInvalid(_))
    ));
    // Not multibase at all.
    let mut doc = read_json(&dir, ALUMNI_EDDSA);
    doc["proof"]["proofValue"] = json!("not-multibase!");
    let r = verify(&doc, &off, AT);
    assert!(matches!(r, Err(DiError::SignatureInvalid(_))), "{r:?}");
}

#[test]
fn verify_ignores_the_clock_for_validity_dates() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    let doc = read_json(&dir, EMPLOY_EDDSA); // valid 2019-12-03 .. 2029-12-03
    for at in [0, AT, 4_102_444_800 /* 2100 */, i64::MIN, i64::MAX] {
        verify(&doc, &off, at).unwrap_or_else(|e| panic!("at={at}: {e}"));
    }
}

#[test]
fn unsupported_suites_are_rejected() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    for (rel, cs) in [
        ("eddsa-jcs-2022/signedJCS.json", "eddsa-jcs-2022"),
        (
            "ecdsa-jcs-2019-p256/signedJCSECDSAP256.json",
            "ecdsa-jcs-2019",
        ),
    ] {
        match verify(&read_json(&dir, rel), &off, AT) {
            Err(DiError::UnsupportedSuite(s)) => assert_eq!(s, cs),
            other => panic!("{rel}: {other:?}"),
        }
    }
    let mut doc = read_json(&dir, ALUMNI_EDDSA);
    doc["proof"] = json!({"type": "Ed25519Signature2020", "proofValue": "z1"});
    assert!(
        matches!(verify(&doc, &off, AT), Err(DiError::UnsupportedSuite(s)) if s == "Ed25519Signature2020")
    );
}

#[test]
fn malformed_inputs_do_not_panic() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let off = offline_all(&dir);
    let base = read_json(&dir, ALUMNI_EDDSA);
    let mut cases: Vec<Value> = vec![
        json!(null),
        json!(42),
        json!("x"),
        json!([]),
        json!({}),
        json!({"proof": "x"}),
        json!({"proof": []}),
        json!({"proof": [1]}),
    ];
    for (k, v) in [
        ("verificationMethod", json!(7)),
        ("verificationMethod", json!("not a url")),
        ("verificationMethod", json!("did:key:zNotAKey#zNotAKey")),
        ("proofPurpose", json!("nonsense")),
        ("created", json!("yesterday")),
        ("cryptosuite", json!(null)),
        ("proofValue", json!(null)),
    ] {
        let mut d = base.clone();
        d["proof"][k] = v;
        cases.push(d);
    }
    let mut d = base.clone();
    d["@context"] = json!(["https://www.w3.org/ns/credentials/v2", 5]);
    cases.push(d);
    let mut d = base.clone();
    d["type"] = json!({"a": 1});
    cases.push(d);
    let mut d = base.clone();
    d["credentialSubject"]["undefinedTermWithoutVocab"] = json!({"@id": "not an iri"});
    cases.push(d);
    for c in &cases {
        let r = verify(c, &off, AT);
        assert!(r.is_err(), "{c}");
    }
}

// --- signing with the proof layer ------------------------------------------------------

#[test]
fn reproduces_eddsa_rdfc_2022_vector_signatures_byte_for_byte() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let key = vector_signing_key(&dir);
    let cb = callback(&key);
    let off = offline_all(&dir);
    for (unsigned, signed) in [
        ("inputs/unsigned-alumni.json", ALUMNI_EDDSA),
        ("inputs/unsigned-employment-auth.json", EMPLOY_EDDSA),
    ] {
        let expected = read_json(&dir, signed);
        let out = sign_eddsa_rdfc_2022(
            &read_json(&dir, unsigned),
            ED_VM,
            public(&key),
            "2023-02-24T23:36:38Z",
            &cb,
            &off,
        )
        .unwrap_or_else(|e| panic!("{unsigned}: {e}"));
        assert_eq!(
            out["proof"]["proofValue"], expected["proof"]["proofValue"],
            "{signed}"
        );
        assert_eq!(out, expected, "{signed}: whole secured document");
    }
    // The README's sigHex for the alumni vector.
    let sig_hex = read_text(&dir, "eddsa-rdfc-2022/sigHexDataInt.txt");
    let pv = read_json(&dir, ALUMNI_EDDSA)["proof"]["proofValue"]
        .as_str()
        .unwrap()
        .to_owned();
    let sig: String = multibase_bytes(&pv)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sig, sig_hex.trim());
}

#[test]
fn sign_verify_round_trip_did_key() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let key = ed_key(7);
    let (did, vm) = did_key_for(&key);
    let cb = callback(&key);
    let off = DiOffline::default();
    let mut unsigned = unsigned_alumni(&dir);
    unsigned["issuer"] = json!(did);
    let signed = sign_eddsa_rdfc_2022(
        &unsigned,
        &vm,
        public(&key),
        "2025-06-01T12:00:00Z",
        &cb,
        &off,
    )
    .expect("sign");
    assert_eq!(signed["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(signed["proof"]["proofPurpose"], "assertionMethod");
    assert_eq!(signed["proof"]["created"], "2025-06-01T12:00:00Z");
    let infos = verify(&signed, &off, AT).expect("verify");
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].verification_method, vm);
    assert_eq!(infos[0].suite, DiSuite::EddsaRdfc2022);

    let mut tampered = signed.clone();
    tampered["credentialSubject"]["alumniOf"] = json!("Elsewhere");
    assert!(matches!(
        verify(&tampered, &off, AT),
        Err(DiError::SignatureInvalid(_))
    ));

    // Proof set: a second signer's proof is added next to the first; both verify.
    let key2 = ed_key(9);
    let (_, vm2) = did_key_for(&key2);
    let cb2 = callback(&key2);
    let both = sign_eddsa_rdfc_2022(
        &signed,
        &vm2,
        public(&key2),
        "2025-06-02T12:00:00Z",
        &cb2,
        &off,
    )
    .expect("sign 2");
    assert_eq!(both["proof"].as_array().map(|a| a.len()), Some(2));
    let infos = verify(&both, &off, AT).expect("verify proof set");
    assert_eq!(
        infos
            .iter()
            .map(|i| i.verification_method.as_str())
            .collect::<Vec<_>>(),
        vec![vm.as_str(), vm2.as_str()]
    );
}

#[test]
fn signer_failures_are_signer_errors() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let key = ed_key(7);
    let pk = public(&key);
    let (_, vm) = did_key_for(&key);
    let off = DiOffline::default();
    let u = unsigned_alumni(&dir);
    let t = "2025-06-01T12:00:00Z";

    let failing = |_: &[u8]| -> Result<Vec<u8>, String> { Err("secure element locked".into()) };
    match sign_eddsa_rdfc_2022(&u, &vm, pk, t, &failing, &off) {
        Err(DiError::Signer(m)) => assert!(m.contains("locked"), "{m}"),
        other => panic!("{other:?}"),
    }
    let short = |_: &[u8]| -> Result<Vec<u8>, String> { Ok(vec![0; 10]) };
    assert!(matches!(
        sign_eddsa_rdfc_2022(&u, &vm, pk, t, &short, &off),
        Err(DiError::Signer(_))
    ));
    // Callback holding a different key than `public_key`.
    let other = ed_key(8);
    let wrong = callback(&other);
    assert!(matches!(
        sign_eddsa_rdfc_2022(&u, &vm, pk, t, &wrong, &off),
        Err(DiError::Signer(_))
    ));
    // public_key that is not the one the did:key names.
    let r = sign_eddsa_rdfc_2022(&u, &vm, public(&other), t, &wrong, &off);
    assert!(matches!(r, Err(DiError::Signer(_))), "{r:?}");
    // Bad inputs.
    let cb = callback(&key);
    assert!(matches!(
        sign_eddsa_rdfc_2022(&u, &vm, pk, "June 1st", &cb, &off),
        Err(DiError::Malformed(_))
    ));
    assert!(matches!(
        sign_eddsa_rdfc_2022(&u, "not a did", pk, t, &cb, &off),
        Err(DiError::Malformed(_))
    ));
    assert!(matches!(
        sign_eddsa_rdfc_2022(&json!([1]), &vm, pk, t, &cb, &off),
        Err(DiError::Malformed(_))
    ));
    let mut needs_ctx = read_json(&dir, "inputs/unsigned-employment-auth.json");
    needs_ctx["issuer"]["id"] = json!("did:example:x");
    assert!(matches!(
        sign_eddsa_rdfc_2022(&needs_ctx, &vm, pk, t, &cb, &off),
        Err(DiError::Context(_))
    ));
}

#[test]
fn did_web_method_resolved_from_supplied_document() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let key = ed_key(11);
    let did = "did:web:issuer.example.gov";
    let vm = format!("{did}#key-1");
    let cb = callback(&key);
    let with_doc = DiOffline {
        did_documents: vec![(did.to_owned(), web_did_doc(did, &vm, &key, true))],
        extra_contexts: vec![],
    };
    let mut unsigned = unsigned_alumni(&dir);
    unsigned["issuer"] = json!(did);
    // Signing needs no DID document (the public key is given)…
    let signed = sign_eddsa_rdfc_2022(
        &unsigned,
        &vm,
        public(&key),
        "2025-06-01T12:00:00Z",
        &cb,
        &DiOffline::default(),
    )
    .expect("sign");
    // …but verification does.
    let infos = verify(&signed, &with_doc, AT).expect("verify did:web");
    assert_eq!(infos[0].verification_method, vm);

    match verify(&signed, &DiOffline::default(), AT) {
        Err(DiError::UnresolvedMethod(m)) => assert_eq!(m, vm),
        other => panic!("expected UnresolvedMethod, got {other:?}"),
    }
    // Unknown fragment in a known document.
    let mut other_vm = signed.clone();
    other_vm["proof"]["verificationMethod"] = json!(format!("{did}#key-2"));
    assert!(matches!(
        verify(&other_vm, &with_doc, AT),
        Err(DiError::UnresolvedMethod(_))
    ));
    // Document lists the key but not for assertionMethod.
    let no_assert = DiOffline {
        did_documents: vec![(did.to_owned(), web_did_doc(did, &vm, &key, false))],
        extra_contexts: vec![],
    };
    match verify(&signed, &no_assert, AT) {
        Err(DiError::NotAuthorised(m)) => assert!(m.contains("not authorised"), "{m}"),
        other => panic!("expected purpose rejection, got {other:?}"),
    }
    // Document with a different key under the same id.
    let wrong_key = DiOffline {
        did_documents: vec![(did.to_owned(), web_did_doc(did, &vm, &ed_key(12), true))],
        extra_contexts: vec![],
    };
    assert!(matches!(
        verify(&signed, &wrong_key, AT),
        Err(DiError::SignatureInvalid(_))
    ));
}

#[test]
fn verification_method_edge_cases() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let key = ed_key(11);
    let did = "did:web:issuer.example.gov";
    let vm = format!("{did}#key-1");
    let cb = callback(&key);
    let signed = sign_eddsa_rdfc_2022(
        &unsigned_alumni(&dir),
        &vm,
        public(&key),
        "2025-06-01T12:00:00Z",
        &cb,
        &DiOffline::default(),
    )
    .expect("sign");

    // Right key, wrong method type for eddsa-rdfc-2022.
    let mut doc = web_did_doc(did, &vm, &key, true);
    doc["verificationMethod"][0]["type"] = json!("Ed25519VerificationKey2020");
    let off = DiOffline {
        did_documents: vec![(did.to_owned(), doc)],
        extra_contexts: vec![],
    };
    assert!(verify(&signed, &off, AT).is_err());

    // Non-DID verification method.
    let mut https_vm = signed.clone();
    https_vm["proof"]["verificationMethod"] = json!("https://issuer.example.gov/keys/1");
    let r = verify(&https_vm, &DiOffline::default(), AT);
    assert!(matches!(r, Err(DiError::UnresolvedMethod(_))), "{r:?}");

    // Garbage did:key.
    let mut bad_key = signed.clone();
    bad_key["proof"]["verificationMethod"] = json!("did:key:zNotAKey#zNotAKey");
    assert!(verify(&bad_key, &DiOffline::default(), AT).is_err());

    // Supplied DID document that is not a DID document.
    let off = DiOffline {
        did_documents: vec![(did.to_owned(), json!({"hello": 1}))],
        extra_contexts: vec![],
    };
    assert!(verify(&signed, &off, AT).is_err());
    // Invalid extra context text.
    let off = DiOffline {
        did_documents: vec![],
        extra_contexts: vec![("https://x.example/ctx".into(), "{not json".into())],
    };
    assert!(matches!(
        verify(&signed, &off, AT),
        Err(DiError::Context(_))
    ));
}

// --- the credential-level wrapper and the Verifier --------------------------------------

/// A trust store with the manifest's contexts that ssi does not bundle.
fn trust_with_contexts(dir: &Path) -> TrustStore {
    let mut trust = TrustStore::new();
    for (url, text) in non_bundled_contexts(dir) {
        trust.add_context(url, text);
    }
    trust
}

fn to_bytes(doc: &Value) -> Vec<u8> {
    serde_json::to_vec(doc).expect("JSON")
}

fn time_of(doc: &Value, member: &str) -> Option<i64> {
    doc[member]
        .as_str()
        .map(|s| datetime::parse(s, member).expect("RFC 3339"))
}

/// A time inside the vector's validity window: a day after `validFrom`.
fn inside_window(doc: &Value) -> i64 {
    let t = time_of(doc, "validFrom").map_or(AT, |f| f + 86_400);
    assert!(time_of(doc, "validUntil").is_none_or(|u| t < u));
    t
}

fn codes(r: &VerificationReport) -> Vec<ErrorCode> {
    r.errors.iter().map(|e| e.code).collect()
}

fn outcome(r: &VerificationReport, check: &str) -> Option<CheckOutcome> {
    r.check(check).map(|c| c.outcome)
}

#[test]
fn wrapper_checks_every_vector_proof_but_refuses_the_unbound_issuer() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let trust = trust_with_contexts(&dir);
    for (rel, suite, vm) in SIGNED {
        let doc = read_json(&dir, rel);
        let r = di::verify(&to_bytes(&doc), &trust, inside_window(&doc), 60);
        let ctx = format!("{rel}: {}", r.to_json_pretty());
        // Proof, data model and validity are all fine…
        for check in ["format", "data_model", "signature", "validity_period"] {
            assert_eq!(
                outcome(&r, check),
                Some(CheckOutcome::Passed),
                "{check} {ctx}"
            );
        }
        let detail = &r.check("signature").unwrap().detail;
        assert_eq!(detail, &format!("{suite} proof by {vm} verified"), "{ctx}");
        assert_eq!(r.claims.to_value(), doc["credentialSubject"], "{ctx}");
        let issuer = doc["issuer"]
            .as_str()
            .or(doc["issuer"]["id"].as_str())
            .unwrap();
        assert_eq!(r.issuer.as_deref(), Some(issuer), "{ctx}");
        // …but none of the W3C vectors is signed by its issuer (the proofs are by the
        // did:key of the test key pair, the issuers are https://vc.example/… or another
        // did:key), so the issuer binding fails and the credential is not valid.
        assert_eq!(
            outcome(&r, "issuer_binding"),
            Some(CheckOutcome::Failed),
            "{ctx}"
        );
        assert_eq!(codes(&r), [ErrorCode::UntrustedIssuer], "{ctx}");
        let did = vm.split('#').next().unwrap();
        assert_eq!(
            r.errors[0].message,
            format!("untrusted issuer: proof by {did}, but the issuer is {issuer}"),
            "{ctx}"
        );
        assert_eq!(r.outcome, Outcome::Invalid, "{ctx}");
        assert!(!r.valid, "{ctx}");
    }
}

#[test]
fn wrapper_reports_a_changed_claim_as_signature_invalid() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let trust = trust_with_contexts(&dir);
    for (rel, _, vm) in SIGNED {
        let original = read_json(&dir, rel);
        let mut edits: Vec<(&str, Value)> = vec![("validUntil", json!("2039-12-03T00:00:00Z"))];
        if original["credentialSubject"]["alumniOf"].is_string() {
            edits.push(("alumniOf", json!("The School of Forgeries")));
        } else {
            edits.push(("familyName", json!("SMYTHE")));
        }
        for (member, value) in edits {
            let mut doc = original.clone();
            if member == "validUntil" {
                doc[member] = value;
            } else {
                doc["credentialSubject"][member] = value;
            }
            let r = di::verify(&to_bytes(&doc), &trust, inside_window(&original), 60);
            let ctx = format!("{rel} {member}: {}", r.to_json_pretty());
            assert!(r.has_error(ErrorCode::SignatureInvalid), "{ctx}");
            assert_eq!(codes(&r), [ErrorCode::SignatureInvalid], "{ctx}");
            assert!(r.errors[0].message.contains(vm), "{ctx}");
            assert_eq!(
                outcome(&r, "signature"),
                Some(CheckOutcome::Failed),
                "{ctx}"
            );
            // No binding check without a verified proof, and no claims handed out.
            assert_eq!(r.check("issuer_binding"), None, "{ctx}");
            assert!(r.claims.is_empty(), "{ctx}");
            assert_eq!(r.outcome, Outcome::Invalid, "{ctx}");
            assert!(!r.valid, "{ctx}");
        }
    }
}

#[test]
fn wrapper_reports_an_undefined_term_as_malformed_not_as_a_bad_signature() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let trust = trust_with_contexts(&dir);
    // The citizenship context has no @vocab, so a term it does not define fails JSON-LD
    // expansion before any signature is checked.
    for rel in [EMPLOY_EDDSA, EMPLOY_ECDSA] {
        let mut doc = read_json(&dir, rel);
        doc["credentialSubject"]["alumniOf"] = json!("The School of Forgeries");
        let r = di::verify(&to_bytes(&doc), &trust, inside_window(&doc), 60);
        let ctx = format!("{rel}: {}", r.to_json_pretty());
        assert_eq!(codes(&r), [ErrorCode::MalformedInput], "{ctx}");
        assert!(r.errors[0].message.contains(UNDEFINED_TERMS_V2), "{ctx}");
        assert_eq!(
            outcome(&r, "signature"),
            Some(CheckOutcome::Failed),
            "{ctx}"
        );
        assert_eq!(r.outcome, Outcome::Invalid, "{ctx}");
    }
}

#[test]
fn wrapper_reports_a_missing_context_as_could_not_check() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    for rel in [EMPLOY_EDDSA, EMPLOY_ECDSA] {
        let doc = read_json(&dir, rel);
        let r = di::verify(&to_bytes(&doc), &TrustStore::new(), inside_window(&doc), 60);
        let ctx = format!("{rel}: {}", r.to_json_pretty());
        assert_eq!(codes(&r), [ErrorCode::ContextUnavailable], "{ctx}");
        assert_eq!(
            r.errors[0].message,
            format!("JSON-LD context not available offline: {CITIZENSHIP_V4RC1}"),
            "{ctx}"
        );
        assert_eq!(
            outcome(&r, "signature"),
            Some(CheckOutcome::NotChecked),
            "{ctx}"
        );
        assert_eq!(
            outcome(&r, "data_model"),
            Some(CheckOutcome::Passed),
            "{ctx}"
        );
        assert_eq!(
            outcome(&r, "validity_period"),
            Some(CheckOutcome::Passed),
            "{ctx}"
        );
        assert_eq!(r.check("issuer_binding"), None, "{ctx}");
        assert!(r.claims.is_empty(), "{ctx}");
        assert_eq!(r.outcome, Outcome::CouldNotCheck, "{ctx}");
        assert!(!r.valid, "{ctx}");
    }
    // The alumni vectors use only contexts ssi bundles: their proofs verify with nothing added.
    for rel in [ALUMNI_EDDSA, ALUMNI_ECDSA] {
        let doc = read_json(&dir, rel);
        let r = di::verify(&to_bytes(&doc), &TrustStore::new(), inside_window(&doc), 60);
        assert_eq!(
            outcome(&r, "signature"),
            Some(CheckOutcome::Passed),
            "{rel}: {}",
            r.to_json_pretty()
        );
    }
}

#[test]
fn verifier_clock_outside_the_window_is_expired_or_not_yet_valid() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let trust = trust_with_contexts(&dir);
    let at = |t: i64| Verifier::new(trust.clone()).with_clock(Arc::new(FixedClock::new(t)));
    let mut with_end = 0;
    for (rel, _, _) in SIGNED {
        let doc = read_json(&dir, rel);
        let input = to_bytes(&doc);
        let from = time_of(&doc, "validFrom").expect("validFrom");
        match time_of(&doc, "validUntil") {
            Some(until) => {
                with_end += 1;
                let r = at(until + 3600).verify(&input);
                let ctx = format!("{rel}: {}", r.to_json_pretty());
                assert!(r.has_error(ErrorCode::Expired), "{ctx}");
                assert_eq!(
                    outcome(&r, "validity_period"),
                    Some(CheckOutcome::Failed),
                    "{ctx}"
                );
                assert_eq!(
                    outcome(&r, "signature"),
                    Some(CheckOutcome::Passed),
                    "{ctx}"
                );
                assert_eq!(r.outcome, Outcome::Invalid, "{ctx}");
                // Just before the end it is not expired; the default 60 s leeway covers
                // a clock 30 s late, and no leeway does not.
                assert!(
                    !at(until - 3600)
                        .verify(&input)
                        .has_error(ErrorCode::Expired),
                    "{rel}"
                );
                assert!(
                    !at(until + 30).verify(&input).has_error(ErrorCode::Expired),
                    "{rel}"
                );
                assert!(
                    at(until)
                        .with_leeway(0)
                        .verify(&input)
                        .has_error(ErrorCode::Expired),
                    "{rel}"
                );
            }
            None => {
                let r = at(4_102_444_800 /* 2100 */).verify(&input);
                assert_eq!(
                    outcome(&r, "validity_period"),
                    Some(CheckOutcome::Passed),
                    "{rel}: {}",
                    r.to_json_pretty()
                );
            }
        }
        let r = at(from - 3600).verify(&input);
        let ctx = format!("{rel}: {}", r.to_json_pretty());
        assert!(r.has_error(ErrorCode::NotYetValid), "{ctx}");
        assert!(!r.has_error(ErrorCode::Expired), "{ctx}");
    }
    assert_eq!(with_end, 2, "the two employ vectors have a validUntil");
}

fn veteran_draft(issuer: &str) -> CredentialDraft {
    let mut draft = CredentialDraft::new(issuer, "DigitalVeteranCard");
    draft.subject.insert("name".into(), "Sarah Edwards".into());
    draft
        .subject
        .insert("serviceNumber".into(), "25057386".into());
    draft
}

#[test]
fn issue_verify_round_trip_did_key() {
    let now = AT;
    let key = SoftwareKey::generate(Alg::EdDSA).expect("key");
    let issuer = did::key::from_jwk(&key.public_jwk()).expect("did:key");
    let vm = format!("{issuer}#{}", &issuer["did:key:".len()..]);
    let holder = did::key::from_jwk(
        &SoftwareKey::generate(Alg::ES256)
            .expect("holder")
            .public_jwk(),
    )
    .expect("did");
    let mut draft = veteran_draft(&issuer);
    draft.holder = Some(holder.clone());
    draft.valid_until = Some(now + 365 * 86_400);
    let vc = di::issue(&draft, &vm, &key, now, &TrustStore::new()).expect("issue");
    assert_eq!(
        vc["@context"],
        json!(["https://www.w3.org/ns/credentials/v2", UNDEFINED_TERMS_V2])
    );
    assert_eq!(vc["proof"]["type"], "DataIntegrityProof");
    assert_eq!(vc["proof"]["cryptosuite"], "eddsa-rdfc-2022");
    assert_eq!(vc["proof"]["verificationMethod"], vm.as_str());
    assert_eq!(vc["proof"]["created"], datetime::format(now).as_str());

    let at = |t: i64| Verifier::new(TrustStore::new()).with_clock(Arc::new(FixedClock::new(t)));
    let r = at(now + 60).verify(&to_bytes(&vc));
    assert!(r.valid, "{}", r.to_json_pretty());
    assert_eq!(r.outcome, Outcome::Valid);
    assert!(r.errors.is_empty());
    assert_eq!(r.format, govcred::Format::DiVc);
    assert_eq!(r.issuer.as_deref(), Some(issuer.as_str()));
    assert_eq!(r.types, ["VerifiableCredential", "DigitalVeteranCard"]);
    assert_eq!(r.claims.to_value()["serviceNumber"], "25057386");
    assert_eq!(r.claims.to_value()["id"], holder.as_str());
    assert_eq!(outcome(&r, "issuer_binding"), Some(CheckOutcome::Passed));

    let mut tampered = vc.clone();
    tampered["credentialSubject"]["serviceNumber"] = json!("25057387");
    let r = at(now + 60).verify(&to_bytes(&tampered));
    assert_eq!(
        codes(&r),
        [ErrorCode::SignatureInvalid],
        "{}",
        r.to_json_pretty()
    );
    assert!(!r.valid);

    let r = at(now + 366 * 86_400).verify(&to_bytes(&vc));
    assert_eq!(codes(&r), [ErrorCode::Expired], "{}", r.to_json_pretty());
    assert_eq!(r.outcome, Outcome::Invalid);
}

#[test]
fn issue_refuses_a_non_ed25519_key() {
    let key = SoftwareKey::generate(Alg::ES256).expect("key");
    let issuer = did::key::from_jwk(&key.public_jwk()).expect("did:key");
    let vm = format!("{issuer}#{}", &issuer["did:key:".len()..]);
    let err = di::issue(&veteran_draft(&issuer), &vm, &key, AT, &TrustStore::new()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::KeyAlgMismatch, "{err}");
}

#[test]
fn issue_with_an_issuer_context_needs_it_in_the_trust_store() {
    let key = ed_key(21);
    let (issuer, vm) = did_key_for(&key);
    let ctx_url = "https://issuer.example.gov/contexts/veteran/v1";
    let ctx_doc = r#"{"@context": {"@vocab": "https://issuer.example.gov/vocab#"}}"#;
    let mut draft = veteran_draft(&issuer);
    draft.contexts.push(ctx_url.into());

    let err = di::issue(&draft, &vm, &key, AT, &TrustStore::new()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ContextUnavailable, "{err}");

    let mut trust = TrustStore::new();
    trust.add_context(ctx_url, ctx_doc);
    let vc = di::issue(&draft, &vm, &key, AT, &trust).expect("issue");
    assert_eq!(
        vc["@context"],
        json!(["https://www.w3.org/ns/credentials/v2", ctx_url])
    );
    let r = di::verify(&to_bytes(&vc), &trust, AT, 60);
    assert!(r.valid, "{}", r.to_json_pretty());
    let r = di::verify(&to_bytes(&vc), &TrustStore::new(), AT, 60);
    assert_eq!(
        codes(&r),
        [ErrorCode::ContextUnavailable],
        "{}",
        r.to_json_pretty()
    );
    assert_eq!(r.outcome, Outcome::CouldNotCheck);
}

#[test]
fn did_web_issuer_verifies_with_its_document_and_is_unknown_without() {
    let key = ed_key(31);
    let did = "did:web:issuer.example.gov";
    let vm = format!("{did}#key-1");
    let mut trust = TrustStore::new();
    trust
        .add_did_document(&web_did_doc(did, &vm, &key, true))
        .expect("DID document");

    // The issuer may be the DID itself or the HTTPS origin it names (GOV.UK form).
    for issuer in [did, "https://issuer.example.gov"] {
        let vc = di::issue(&veteran_draft(issuer), &vm, &key, AT, &trust).expect("issue");
        let input = to_bytes(&vc);

        let r = di::verify(&input, &trust, AT, 60);
        assert!(r.valid, "{issuer}: {}", r.to_json_pretty());
        assert_eq!(
            r.check("issuer_binding").unwrap().detail,
            format!("{did} is the issuer")
        );

        let r = di::verify(&input, &TrustStore::new(), AT, 60);
        let ctx = format!("{issuer}: {}", r.to_json_pretty());
        assert_eq!(codes(&r), [ErrorCode::UnknownKey], "{ctx}");
        assert!(r.errors[0].message.contains(&vm), "{ctx}");
        assert_eq!(
            outcome(&r, "signature"),
            Some(CheckOutcome::NotChecked),
            "{ctx}"
        );
        assert_eq!(r.check("issuer_binding"), None, "{ctx}");
        assert_eq!(r.outcome, Outcome::CouldNotCheck, "{ctx}");
        assert!(!r.valid, "{ctx}");
    }

    let vc = di::issue(&veteran_draft(did), &vm, &key, AT, &trust).expect("issue");
    let input = to_bytes(&vc);
    // The document lists the key, but not for assertionMethod: the DID document does
    // not authorise it (the same code the JWT path gives).
    let mut no_assert = TrustStore::new();
    no_assert
        .add_did_document(&web_did_doc(did, &vm, &key, false))
        .expect("DID document");
    let r = di::verify(&input, &no_assert, AT, 60);
    assert_eq!(
        codes(&r),
        [ErrorCode::InvalidDidDocument],
        "{}",
        r.to_json_pretty()
    );
    assert!(
        r.errors[0].message.contains("not authorised"),
        "{}",
        r.to_json_pretty()
    );
    assert_eq!(r.outcome, Outcome::Invalid);
    // The document names another key: verification fails, and so does issuing with it.
    let mut other = TrustStore::new();
    other
        .add_did_document(&web_did_doc(did, &vm, &ed_key(32), true))
        .expect("DID document");
    let r = di::verify(&input, &other, AT, 60);
    assert_eq!(
        codes(&r),
        [ErrorCode::SignatureInvalid],
        "{}",
        r.to_json_pretty()
    );
    let err = di::issue(&veteran_draft(did), &vm, &key, AT, &other).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignerFailed, "{err}");
}
