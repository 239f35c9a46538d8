//! Third-party vectors: JOSE (RFC 7515, 8037, 7638), did:key / did:web / did:jwk,
//! VC 2.0 valid documents, and GOV.UK JWT VC examples.

mod common;

use govcred::crypto::{Jwk, SoftwareKey, VerifyingKey};
use govcred::did::{self, DidDocument, DidResolver, Relationship};
use govcred::jose::Jws;
use govcred::trust::TrustStore;
use govcred::{b64, vc, ErrorCode, Signer};
use serde_json::Value;

fn jwk(v: &Value) -> Jwk {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn rfc7515_appendix_a() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let doc = common::json(&dir, "jose/rfc7515-appendix-a.json");
    let mut seen = 0;
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let Some(compact) = case["compact"].as_str() else {
            continue;
        };
        seen += 1;
        match case["alg"].as_str().unwrap() {
            "ES256" => {
                let jws = Jws::decode(compact).unwrap();
                assert_eq!(jws.signing_input(), case["signingInput"].as_str().unwrap());
                let key = VerifyingKey::from_jwk(&jwk(&case["key"])).unwrap();
                jws.verify(&key).unwrap();
                // The private key derives the public point and signs verifiably.
                let sk = SoftwareKey::from_jwk(&jwk(&case["key"])).unwrap();
                let sig = sk.sign(b"round trip").unwrap();
                key.verify(govcred::crypto::Alg::ES256, b"round trip", &sig)
                    .unwrap();
                // A flipped signature bit fails.
                let mut bad = b64::decode(case["signatureB64u"].as_str().unwrap(), "sig").unwrap();
                bad[10] ^= 1;
                let forged = format!("{}.{}", jws.signing_input(), b64::encode(&bad));
                assert_eq!(
                    Jws::decode(&forged)
                        .unwrap()
                        .verify(&key)
                        .unwrap_err()
                        .code(),
                    ErrorCode::SignatureInvalid
                );
            }
            // HS256, RS256, ES512 and `none` are all refused before any key is used.
            other => {
                let err = Jws::decode(compact).unwrap_err();
                assert_eq!(err.code(), ErrorCode::AlgNotAllowed, "{name} ({other})");
            }
        }
    }
    assert_eq!(seen, 5, "A.1-A.5 have compact forms");
}

#[test]
fn rfc8037_ed25519() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "jose/rfc8037-ed25519.json");
    let sk = SoftwareKey::from_jwk(&jwk(&v["privateKeyJwk"])).unwrap();
    assert_eq!(sk.public_jwk().x, jwk(&v["publicKeyJwk"]).x);
    assert_eq!(
        jwk(&v["publicKeyJwk"]).thumbprint_input().unwrap(),
        v["thumbprint"]["hashInput"].as_str().unwrap()
    );
    assert_eq!(
        sk.verifying_key().thumbprint(),
        v["thumbprint"]["expectedB64u"].as_str().unwrap()
    );
    let jws_case = &v["jws"];
    let compact = jws_case["compact"].as_str().unwrap();
    let jws = Jws::decode(compact).unwrap();
    jws.verify(sk.verifying_key()).unwrap();
    // Deterministic: re-signing reproduces the RFC's signature byte for byte.
    let sig = sk.sign(jws.signing_input().as_bytes()).unwrap();
    assert_eq!(b64::encode(sig), compact.rsplit('.').next().unwrap());
}

#[test]
fn rfc7638_thumbprint() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "jose/rfc7638-thumbprint.json");
    let key = jwk(&v["jwk"]);
    assert_eq!(
        key.thumbprint_input().unwrap(),
        v["hashInput"].as_str().unwrap()
    );
    assert_eq!(
        key.thumbprint().unwrap(),
        v["expectedThumbprintB64u"].as_str().unwrap()
    );
    // RSA parses for thumbprints but is not usable for signatures here.
    assert_eq!(
        VerifyingKey::from_jwk(&key).unwrap_err().code(),
        ErrorCode::InvalidKey
    );
}

#[test]
fn did_key_ed25519_vectors() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-key/ed25519-x25519.json");
    let resolver = DidResolver::new();
    for (did_str, case) in v.as_object().unwrap() {
        let doc = resolver.resolve(did_str).unwrap();
        let vm = doc.methods().next().unwrap();
        let fragment = &did_str["did:key:".len()..];
        assert_eq!(vm.id, format!("{did_str}#{fragment}"));
        let expected: Vec<u8> = match case["verificationKeyPair"].get("publicKeyBase58") {
            Some(b58) => bs58::decode(b58.as_str().unwrap()).into_vec().unwrap(),
            None => b64::decode(
                case["verificationKeyPair"]["publicKeyJwk"]["x"]
                    .as_str()
                    .unwrap(),
                "x",
            )
            .unwrap(),
        };
        assert_eq!(vm.key.compressed_bytes(), expected, "{did_str}");
        // The seed derives the same DID.
        let seed: [u8; 32] = hex(case["seed"].as_str().unwrap()).try_into().unwrap();
        let sk = SoftwareKey::from_secret_bytes(govcred::crypto::Alg::EdDSA, &seed).unwrap();
        assert_eq!(&did::key::from_jwk(&sk.public_jwk()).unwrap(), did_str);
        for rel in [Relationship::AssertionMethod, Relationship::Authentication] {
            resolver.resolve_key(&vm.id, rel).unwrap();
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn did_key_nist_vectors() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-key/nist-curves.json");
    let mut p256 = 0;
    for (did_str, case) in v.as_object().unwrap() {
        let vm_jwk = &case["verificationMethod"]["publicKeyJwk"];
        let crv = vm_jwk["crv"]
            .as_str()
            .or_else(|| case["verificationMethod"]["type"].as_str())
            .unwrap_or("");
        if did_str.starts_with("did:key:zDn") {
            p256 += 1;
            let key = did::key::to_key(did_str).unwrap();
            if crv == "P-256" {
                assert_eq!(
                    key.jwk().x,
                    vm_jwk["x"].as_str().map(str::to_string),
                    "{did_str}"
                );
                assert_eq!(
                    key.jwk().y,
                    vm_jwk["y"].as_str().map(str::to_string),
                    "{did_str}"
                );
                assert_eq!(&did::key::from_jwk(&jwk(vm_jwk)).unwrap(), did_str);
                let sk = SoftwareKey::from_jwk(&jwk(&case["verificationMethod"]["privateKeyJwk"]))
                    .unwrap();
                assert_eq!(sk.verifying_key(), &key);
            }
        } else {
            // P-384 / P-521 are not signature algorithms govcred accepts.
            assert_eq!(
                did::key::to_key(did_str).unwrap_err().code(),
                ErrorCode::InvalidDid,
                "{did_str}"
            );
        }
    }
    assert!(p256 >= 1);
}

#[test]
fn did_key_spec_example() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-key/spec-example-ed25519-2020.json");
    let did_str = v["input"]["did"].as_str().unwrap();
    let doc = DidResolver::new().resolve(did_str).unwrap();
    let expected_doc = v
        .get("expected")
        .or_else(|| v.get("didDocument"))
        .cloned()
        .unwrap_or(Value::Null);
    let text = expected_doc.to_string();
    let vm = doc.methods().next().unwrap();
    assert!(text.contains(&vm.id), "expected document names {}", vm.id);
    // The spec's document, parsed as a DID document, gives the same key.
    if expected_doc.get("id").is_some() {
        let parsed =
            DidDocument::from_json(expected_doc.get("didDocument").unwrap_or(&expected_doc))
                .unwrap();
        let key = parsed
            .key_for(&vm.id, Relationship::AssertionMethod)
            .unwrap();
        assert_eq!(*key, vm.key);
    }
}

#[test]
fn did_web_url_mapping() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-web/url-mapping.json");
    for case in v["cases"].as_array().unwrap() {
        let d = case["did"].as_str().unwrap();
        assert_eq!(
            did::web::to_url(d).unwrap(),
            case["url"].as_str().unwrap(),
            "{d}"
        );
    }
}

#[test]
fn did_web_example_documents() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-web/example-did-documents.json");
    let mut usable = 0;
    for ex in v["examples"].as_array().unwrap() {
        let doc_json = ex
            .get("document")
            .or_else(|| ex.get("didDocument"))
            .unwrap_or(ex);
        let doc = DidDocument::from_json(doc_json).unwrap();
        usable += doc.methods().count();
        // Keys govcred cannot use (X25519, Ethereum) are skipped, not fatal.
        for (id, why) in doc.skipped() {
            assert!(!why.is_empty(), "{id}");
        }
    }
    assert!(usable >= 2, "the P-256 and Ed25519 keys are usable");
}

#[test]
fn did_jwk_examples() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "did/did-jwk/examples.json");
    for ex in v["examples"].as_array().unwrap() {
        let d = ex["did"].as_str().unwrap();
        let decoded = did::jwk::to_jwk(d).unwrap();
        let expected = ex
            .get("jwk")
            .or_else(|| ex.get("decodedJwk"))
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(x) = expected.get("x") {
            assert_eq!(decoded.x.as_deref(), x.as_str());
        }
        if decoded.kty == "EC" {
            let doc = DidResolver::new().resolve(d).unwrap();
            let vm = doc.methods().next().unwrap();
            assert_eq!(vm.id, format!("{d}#0"));
            assert_eq!(vm.key.jwk().x, decoded.x);
            DidResolver::new()
                .resolve_key(&format!("{d}#0"), Relationship::AssertionMethod)
                .unwrap();
        }
    }
}

#[test]
fn vcdm2_valid_documents() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let manifest = common::json(&dir, "vcdm2/manifest.json");
    let mut credentials = 0;
    let mut presentations = 0;
    for f in manifest["files"].as_array().unwrap() {
        let rel = f["file"].as_str().unwrap();
        let mut doc = common::json(&dir, &format!("vcdm2/{rel}"));
        if rel.contains("templates") {
            continue;
        }
        if f["issuerInjectedByHarness"].as_bool() == Some(true) {
            match doc.get_mut("issuer") {
                Some(Value::Object(o)) => {
                    o.entry("id").or_insert("did:example:issuer".into());
                }
                _ => {
                    doc["issuer"] = "did:example:issuer".into();
                }
            }
        }
        let obj = doc.as_object().unwrap();
        match f["kind"].as_str().unwrap() {
            "credential" => {
                vc::check_credential(obj).unwrap_or_else(|e| panic!("{rel}: {e}"));
                credentials += 1;
            }
            "presentation" => {
                vc::check_presentation(obj).unwrap_or_else(|e| panic!("{rel}: {e}"));
                presentations += 1;
            }
            _ => {}
        }
    }
    assert!(
        credentials >= 40 && presentations >= 5,
        "{credentials} credentials, {presentations} presentations"
    );
}

#[test]
fn govuk_veteran_card_template_shape() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let header_t = common::json(&dir, "govuk/jwt-vc/veteran-card.header.template.json");
    let payload_t = common::json(&dir, "govuk/jwt-vc/veteran-card.payload.template.json");
    let key = SoftwareKey::generate(govcred::crypto::Alg::ES256).unwrap();
    let issuer = payload_t["iss"].as_str().unwrap();
    let kid = format!(
        "{}#{}",
        did::web::from_domain(issuer).unwrap(),
        did::web::key_id(key.verifying_key())
    );
    let mut draft = govcred::format::jwt_vc::CredentialDraft::new(issuer, "DigitalVeteranCard");
    draft.holder = payload_t["sub"].as_str().map(str::to_string);
    draft.subject = payload_t["credentialSubject"].as_object().unwrap().clone();
    draft.name = payload_t["name"].as_str().map(str::to_string);
    draft.description = payload_t["description"].as_str().map(str::to_string);
    draft.valid_from =
        Some(govcred::datetime::parse(payload_t["validFrom"].as_str().unwrap(), "").unwrap());
    draft.valid_until =
        Some(govcred::datetime::parse(payload_t["validUntil"].as_str().unwrap(), "").unwrap());
    draft.expected_update =
        Some(govcred::datetime::parse(payload_t["expectedUpdate"].as_str().unwrap(), "").unwrap());
    let token =
        govcred::format::jwt_vc::issue(&draft, &kid, &key, payload_t["iat"].as_i64().unwrap())
            .unwrap();
    let jws = Jws::decode(&token).unwrap();
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    // Exactly the header members GOV.UK requires, with the same values but kid.
    assert_eq!(keys(&Value::Object(jws.header().clone())), keys(&header_t));
    for m in ["alg", "typ", "cty"] {
        assert_eq!(jws.header()[m], header_t[m]);
    }
    // Exactly the payload members of the reference layout, with identical values
    // (the template's times are consistent, so even nbf/exp match).
    let payload: Value = serde_json::from_slice(jws.payload()).unwrap();
    assert_eq!(keys(&payload), keys(&payload_t));
    for m in [
        "iss",
        "sub",
        "iat",
        "nbf",
        "exp",
        "@context",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
    ] {
        assert_eq!(payload[m], payload_t[m], "{m}");
    }
}

#[test]
fn govuk_docs_jwt_vc_reads_but_does_not_verify() {
    // The docs' example credential is illustrative: its signature does not verify with
    // the published did.json (vectors README). It must be read (string NumericDates
    // included) and refused with signature_invalid, never accepted or crashed on.
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let resp = common::json(&dir, "govuk/issuance/credential-response.jwt-vc.json");
    let token = resp["credentials"][0]["credential"].as_str().unwrap();
    let mut trust = TrustStore::new();
    trust
        .add_did_document(&common::json(&dir, "govuk/issuance/did.json"))
        .unwrap();
    let jws = Jws::decode(token).unwrap();
    let payload = jws.payload_json().unwrap();
    let at = payload["nbf"].as_str().unwrap().parse::<i64>().unwrap() + 60;
    let report = govcred::format::jwt_vc::verify(token, &trust, at, 60);
    assert!(!report.valid);
    assert!(
        report.has_error(ErrorCode::SignatureInvalid),
        "{}",
        report.to_json_pretty()
    );
    assert_eq!(
        report.check("issuer_key").unwrap().outcome,
        govcred::report::CheckOutcome::Passed
    );
    assert_eq!(
        report.issuer.as_deref(),
        Some("https://example-credential-issuer.gov.uk")
    );
    // And the did.json's key equals the JWKS key.
    let jwks = common::json(&dir, "govuk/issuance/jwks.json");
    let from_jwks = VerifyingKey::from_jwk(&jwk(&jwks["keys"][0])).unwrap();
    let vm = trust
        .dids()
        .resolve_key(jws.kid().unwrap(), Relationship::AssertionMethod)
        .unwrap();
    assert_eq!(*vm, from_jwks);
}
