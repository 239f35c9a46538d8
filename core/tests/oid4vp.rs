//! OpenID4VP 1.0 + DCQL: requests (by value, x509_san_dns:, decentralized_identifier:),
//! matching, consent, SD-JWT VC and mdoc round trips, and the verifier's rejections.

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::sd_jwt::{self, SdJwtDraft};
use govcred::oid4vp::consent::Consent;
use govcred::oid4vp::dcql::{Candidate, DcqlQuery};
use govcred::oid4vp::request::{AuthorizationRequest, ClientId};
use govcred::oid4vp::response::{self, AuthorizationResponse, VerifierSession};
use govcred::proximity::SessionTranscript;
use govcred::report::VerificationReport;
use govcred::trust::TrustStore;
use govcred::x509::Certificate;
use govcred::{ErrorCode, Format, Signer};
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;
const VCT: &str = "urn:example:veteran-card";

struct World {
    holder: SoftwareKey,
    issued: String,
    trust: TrustStore,
}

fn world() -> World {
    let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut draft = SdJwtDraft::new("https://issuer.example.gov.uk", VCT);
    draft.claims = json!({"given_name": "Sarah", "family_name": "Edwards", "age_over_18": true,
                          "address": {"locality": "Leeds", "country": "GB"}})
    .as_object()
    .unwrap()
    .clone();
    draft.disclosable = vec![
        "given_name".into(),
        "family_name".into(),
        "age_over_18".into(),
        "address.locality".into(),
    ];
    draft.holder_key = Some(holder.public_jwk());
    let issued = sd_jwt::issue(&draft, None, &issuer, NOW - 100).unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&issuer.public_jwk()).unwrap();
    World {
        holder,
        issued,
        trust,
    }
}

fn query(claims: Value) -> DcqlQuery {
    DcqlQuery::from_json(
        &json!({"credentials": [{"id": "card", "format": "dc+sd-jwt",
        "meta": {"vct_values": [VCT]}, "claims": claims}]}),
    )
    .unwrap()
}

const CB: &str = "https://rp.example/cb";

fn by_value(session: &VerifierSession) -> govcred::oid4vp::request::VerifiedRequest {
    let mut params = serde_json::to_value(&session.request).unwrap();
    // As URL parameters: dcql_query arrives as a JSON string.
    params["dcql_query"] = Value::String(params["dcql_query"].to_string());
    AuthorizationRequest::parse_by_value(params.as_object().unwrap()).unwrap()
}

#[test]
fn sd_jwt_round_trip_discloses_only_what_was_asked() {
    let w = world();
    let q = query(
        json!([{"path": ["age_over_18"], "values": [true]}, {"path": ["address", "locality"]}]),
    );
    let session = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, q).unwrap();
    let verified = by_value(&session);
    assert!(!verified.verifier.authenticated);

    let wallet = [
        Candidate::from_sd_jwt("card-1", &w.issued).unwrap(),
        Candidate::mdoc(
            "mdl-1",
            "org.iso.18013.5.1.mDL",
            &[("org.iso.18013.5.1", "age_over_18", json!(true))],
        ),
    ];
    let consent = Consent::new(&verified, &wallet).unwrap();
    assert!(consent.satisfiable, "{consent:?}");
    assert_eq!(consent.requester.id, format!("redirect_uri:{CB}"));
    assert_eq!(
        consent.queries[0].claims,
        vec!["age_over_18", "address.locality"]
    );
    assert_eq!(consent.queries[0].matches.len(), 1);
    let m = &consent.queries[0].matches[0];
    assert_eq!(m.credential_id, "card-1");
    assert_eq!(m.dotted_paths(), vec!["age_over_18", "address.locality"]);

    let resp =
        response::respond_sd_jwt(&verified, &[("card", m, &w.issued)], &w.holder, NOW).unwrap();
    let back = AuthorizationResponse::from_form(&resp.to_form()).unwrap();
    let results = session.check(&back, &w.trust, NOW, 60, None).unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0].report;
    assert!(r.valid, "{}", r.to_json_pretty());
    let claims = r.claims.to_value();
    assert_eq!(claims["age_over_18"], true);
    assert_eq!(claims["address"]["locality"], "Leeds");
    assert!(claims.get("given_name").is_none() && claims.get("family_name").is_none());
}

#[test]
fn claims_the_wallet_lacks_give_no_matching_credential() {
    let w = world();
    let wallet = [Candidate::from_sd_jwt("card-1", &w.issued).unwrap()];
    for claims in [
        json!([{"path": ["driving_privileges"]}]),
        json!([{"path": ["age_over_18"], "values": [false]}]),
    ] {
        let session =
            VerifierSession::new(&format!("redirect_uri:{CB}"), CB, query(claims)).unwrap();
        let verified = by_value(&session);
        let consent = Consent::new(&verified, &wallet).unwrap();
        assert!(!consent.satisfiable);
        assert!(consent.queries[0].matches.is_empty());
        let m = govcred::oid4vp::dcql::match_query(&verified.request.dcql_query, &wallet).unwrap();
        let e = m.require().unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoMatchingCredential);
        assert!(e.to_string().contains(VCT), "{e}");
    }
    // Another credential type.
    let q = DcqlQuery::from_json(&json!({"credentials": [{"id": "mdl", "format": "mso_mdoc",
        "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
        "claims": [{"path": ["org.iso.18013.5.1", "age_over_18"]}]}]}))
    .unwrap();
    let m = govcred::oid4vp::dcql::match_query(&q, &wallet).unwrap();
    assert_eq!(
        m.require().unwrap_err().code(),
        ErrorCode::NoMatchingCredential
    );
}

#[test]
fn claim_sets_and_credential_sets() {
    let w = world();
    let wallet = [Candidate::from_sd_jwt("card-1", &w.issued).unwrap()];
    let q = DcqlQuery::from_json(&json!({
        "credentials": [
            {"id": "card", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
             "claims": [{"id": "a", "path": ["birthdate"]}, {"id": "b", "path": ["age_over_18"]}],
             "claim_sets": [["a"], ["b"]]},
            {"id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
             "claims": [{"path": ["org.iso.18013.5.1", "age_over_18"]}]}],
        "credential_sets": [{"options": [["mdl"], ["card"]]}]
    }))
    .unwrap();
    let m = govcred::oid4vp::dcql::match_query(&q, &wallet).unwrap();
    assert!(m.satisfiable(), "{m:?}");
    assert_eq!(m.required, vec!["card"]);
    assert_eq!(
        m.query("card").unwrap().candidates[0].dotted_paths(),
        vec!["age_over_18"]
    );
    // Malformed queries are refused.
    for bad in [
        json!({"credentials": []}),
        json!({"credentials": [{"id": "x y", "format": "dc+sd-jwt"}]}),
        json!({"credentials": [{"id": "x", "format": "jwt_vc_json"}]}),
        json!({"credentials": [{"id": "x", "format": "dc+sd-jwt", "claims": [{"path": ["a"]}], "claim_sets": [["nope"]]}]}),
        json!({"credentials": [{"id": "x", "format": "mso_mdoc", "claims": [{"path": ["only-one"]}]}]}),
    ] {
        assert!(DcqlQuery::from_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn nonce_and_audience_mismatch_rejected() {
    let w = world();
    let q = query(json!([{"path": ["age_over_18"]}]));
    let session = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, q.clone()).unwrap();
    let verified = by_value(&session);
    let m = Consent::new(
        &verified,
        &[Candidate::from_sd_jwt("c", &w.issued).unwrap()],
    )
    .unwrap()
    .queries[0]
        .matches[0]
        .clone();

    // A response made for another request (other nonce) is refused.
    let other = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, q.clone()).unwrap();
    let other_verified = by_value(&other);
    let mut resp =
        response::respond_sd_jwt(&other_verified, &[("card", &m, &w.issued)], &w.holder, NOW)
            .unwrap();
    resp.state = session.request.state.clone();
    let e = session.check(&resp, &w.trust, NOW, 60, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NonceMismatch);

    // A response for another verifier (aud) is refused.
    let foreign = VerifierSession::new(
        "redirect_uri:https://evil.example/cb",
        "https://evil.example/cb",
        q,
    )
    .unwrap();
    let mut req = foreign.request.clone();
    req.nonce = session.request.nonce.clone();
    let mut resp = AuthorizationResponse::new(&session.request);
    resp.add_sd_jwt(&req, "card", &w.issued, &m.dotted_paths(), &w.holder, NOW)
        .unwrap();
    let e = session.check(&resp, &w.trust, NOW, 60, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::AudienceMismatch);

    // Wrong state, missing query, undisclosed requested claim.
    let good =
        response::respond_sd_jwt(&verified, &[("card", &m, &w.issued)], &w.holder, NOW).unwrap();
    let mut bad_state = good.clone();
    bad_state.state = Some("other".into());
    assert_eq!(
        session
            .check(&bad_state, &w.trust, NOW, 60, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidClaim
    );
    let empty = AuthorizationResponse::new(&session.request);
    assert_eq!(
        session
            .check(&empty, &w.trust, NOW, 60, None)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidClaim
    );
    let mut under = AuthorizationResponse::new(&session.request);
    under
        .add_sd_jwt(
            &verified.request,
            "card",
            &w.issued,
            &["given_name".into()],
            &w.holder,
            NOW,
        )
        .unwrap();
    let e = session.check(&under, &w.trust, NOW, 60, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim);
    assert!(e.to_string().contains("age_over_18"), "{e}");
    // No encryption key in a direct_post request: nothing to encrypt a
    // direct_post.jwt response to (oid4vp_jwe.rs covers encrypted responses).
    assert_eq!(
        response::ResponseEncryption::for_request(&session.request)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidRequest
    );
}

/// A root CA and a verifier certificate with SAN dNSName `dns`.
fn verifier_pki(dns: &str) -> (SoftwareKey, Vec<Certificate>, Certificate) {
    use p256::pkcs8::EncodePrivateKey;
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyUsagePurpose};
    let pair = |k: &SoftwareKey| {
        let jwk = k.to_private_jwk().unwrap();
        let d = govcred::b64::decode(jwk.d.as_ref().unwrap().expose(), "d").unwrap();
        let pkcs8 = p256::SecretKey::from_slice(&d)
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &pkcs8.as_bytes().into(),
            &rcgen::PKCS_ECDSA_P256_SHA256,
        )
        .unwrap()
    };
    let nb = time::OffsetDateTime::from_unix_timestamp(NOW - 3600).unwrap();
    let na = time::OffsetDateTime::from_unix_timestamp(NOW + 86_400).unwrap();
    let root_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut rp = CertificateParams::new(Vec::<String>::new()).unwrap();
    rp.distinguished_name
        .push(rcgen::DnType::CommonName, "Verifier trust root");
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    rp.not_before = nb;
    rp.not_after = na;
    let root = rp.self_signed(&pair(&root_key)).unwrap();
    let issuer = rcgen::Issuer::new(rp, pair(&root_key));
    let leaf_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut lp = CertificateParams::new(vec![dns.to_string()]).unwrap();
    lp.distinguished_name
        .push(rcgen::DnType::CommonName, "Example Verifier Ltd");
    lp.is_ca = IsCa::ExplicitNoCa;
    lp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    lp.not_before = nb;
    lp.not_after = na;
    let leaf = lp.signed_by(&pair(&leaf_key), &issuer).unwrap();
    (
        leaf_key,
        vec![Certificate::from_der(leaf.der()).unwrap()],
        Certificate::from_der(root.der()).unwrap(),
    )
}

#[test]
fn x509_san_dns_request_object() {
    let (key, chain, root) = verifier_pki("verifier.example");
    let q = query(json!([{"path": ["age_over_18"]}]));
    let session = VerifierSession::new(
        "x509_san_dns:verifier.example",
        "https://verifier.example/response",
        q.clone(),
    )
    .unwrap();
    let jwt = session.request.sign(&key, Some(&chain), None).unwrap();
    let mut wallet_trust = TrustStore::new();
    wallet_trust
        .add_root_certificates_pem(&root.to_pem())
        .unwrap();
    let v = AuthorizationRequest::parse_request_object(
        &jwt,
        Some("x509_san_dns:verifier.example"),
        &wallet_trust,
        NOW,
        60,
    )
    .unwrap();
    assert!(v.verifier.authenticated);
    assert_eq!(
        v.verifier.prefix,
        ClientId::X509SanDns("verifier.example".into())
    );
    assert!(v
        .verifier
        .verified_name
        .as_deref()
        .unwrap()
        .contains("Example Verifier Ltd"));
    assert_eq!(v.request.nonce, session.request.nonce);

    // Untrusted root; SAN of another name; outer client_id mismatch; unsigned by value.
    assert_eq!(
        AuthorizationRequest::parse_request_object(&jwt, None, &TrustStore::new(), NOW, 60)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownKey
    );
    let other = VerifierSession::new(
        "x509_san_dns:other.example",
        "https://other.example/r",
        q.clone(),
    )
    .unwrap();
    let jwt2 = other.request.sign(&key, Some(&chain), None).unwrap();
    assert_eq!(
        AuthorizationRequest::parse_request_object(&jwt2, None, &wallet_trust, NOW, 60)
            .unwrap_err()
            .code(),
        ErrorCode::UntrustedIssuer
    );
    assert_eq!(
        AuthorizationRequest::parse_request_object(
            &jwt,
            Some("x509_san_dns:other.example"),
            &wallet_trust,
            NOW,
            60
        )
        .unwrap_err()
        .code(),
        ErrorCode::InvalidClaim
    );
    let params = serde_json::to_value(&session.request).unwrap();
    assert_eq!(
        AuthorizationRequest::parse_by_value(params.as_object().unwrap())
            .unwrap_err()
            .code(),
        ErrorCode::UntrustedIssuer
    );
    // Tampered request object.
    let mut parts: Vec<String> = jwt.split('.').map(String::from).collect();
    let mut payload: Value =
        serde_json::from_slice(&govcred::b64::decode(&parts[1], "p").unwrap()).unwrap();
    payload["response_uri"] = "https://verifier.example/evil".into();
    parts[1] = govcred::b64::encode(payload.to_string());
    assert_eq!(
        AuthorizationRequest::parse_request_object(&parts.join("."), None, &wallet_trust, NOW, 60)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
}

#[test]
fn decentralized_identifier_request_object() {
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let did = govcred::did::key::from_jwk(&key.public_jwk()).unwrap();
    let kid = format!("{did}#{}", did.trim_start_matches("did:key:"));
    let q = query(json!([{"path": ["age_over_18"]}]));
    let session = VerifierSession::new(&format!("decentralized_identifier:{did}"), CB, q).unwrap();
    let jwt = session.request.sign(&key, None, Some(&kid)).unwrap();
    let v = AuthorizationRequest::parse_request_object(&jwt, None, &TrustStore::new(), NOW, 60)
        .unwrap();
    assert_eq!(v.verifier.verified_name.as_deref(), Some(did.as_str()));
    // Signed by another key under the same kid: refused.
    let other = SoftwareKey::generate(Alg::ES256).unwrap();
    let forged = session.request.sign(&other, None, Some(&kid)).unwrap();
    assert_eq!(
        AuthorizationRequest::parse_request_object(&forged, None, &TrustStore::new(), NOW, 60)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
}

#[test]
fn mdoc_round_trip_through_the_hook() {
    let q = DcqlQuery::from_json(&json!({"credentials": [{"id": "mdl", "format": "mso_mdoc",
        "meta": {"doctype_value": "org.iso.18013.5.1.mDL"},
        "claims": [{"path": ["org.iso.18013.5.1", "age_over_18"]}]}]}))
    .unwrap();
    let session = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, q).unwrap();
    let verified = by_value(&session);
    let wallet = [Candidate::mdoc(
        "mdl-1",
        "org.iso.18013.5.1.mDL",
        &[
            ("org.iso.18013.5.1", "age_over_18", json!(true)),
            ("org.iso.18013.5.1", "family_name", json!("Edwards")),
        ],
    )];
    let consent = Consent::new(&verified, &wallet).unwrap();
    assert_eq!(
        consent.queries[0].matches[0].disclose,
        vec![vec!["org.iso.18013.5.1".to_string(), "age_over_18".into()]]
    );
    // The wallet's DeviceResponse is made over the OpenID4VP transcript.
    let r = &verified.request;
    let st = response::mdoc_session_transcript(
        &r.client_id,
        &r.nonce,
        None,
        r.response_uri.as_deref().unwrap(),
    );
    assert_eq!(st, session.mdoc_session_transcript());
    assert_eq!(&st.as_cbor()[..3], &[0x83, 0xf6, 0xf6]);
    let mut resp = AuthorizationResponse::new(r);
    resp.add_mdoc("mdl", &[b"DR:".as_slice(), st.as_cbor()].concat());
    let verify = |bytes: &[u8], t: &SessionTranscript| -> VerificationReport {
        let mut rep = VerificationReport::new(Format::Mdoc, NOW);
        assert_eq!(&bytes[3..], t.as_cbor());
        rep.pass("device_signature", "stub");
        rep.finish()
    };
    let results = session
        .check(&resp, &TrustStore::new(), NOW, 60, Some(&verify))
        .unwrap();
    assert!(results[0].report.valid);
    // Without an mdoc verifier the answer cannot be checked.
    assert_eq!(
        session
            .check(&resp, &TrustStore::new(), NOW, 60, None)
            .unwrap_err()
            .code(),
        ErrorCode::UnsupportedFormat
    );
}

#[test]
fn proximity_request_consent() {
    use govcred::proximity::{BleOptions, Holder, HolderEvent, ItemsRequest, Reader};
    let mut holder = Holder::new(BleOptions::peripheral_server([3; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let req = reader
        .build_request(
            vec![ItemsRequest::new("org.iso.18013.5.1.mDL")
                .element("org.iso.18013.5.1", "age_over_18", false)
                .element("org.iso.18013.5.1", "portrait", true)],
            None,
            NOW,
        )
        .unwrap();
    let msg = reader.send_request(&req).unwrap();
    let HolderEvent::Request(received) = holder.receive(&msg, &[], NOW, 0).unwrap() else {
        panic!()
    };
    let wallet = [Candidate::mdoc(
        "mdl-1",
        "org.iso.18013.5.1.mDL",
        &[("org.iso.18013.5.1", "age_over_18", json!(true))],
    )];
    let c = Consent::for_proximity(&received, &wallet).unwrap();
    assert!(!c.requester.authenticated);
    assert_eq!(c.queries[0].retained, vec!["org.iso.18013.5.1/portrait"]);
    assert!(!c.satisfiable, "no portrait in the wallet");
    assert!(c.missing[0].contains("portrait"));
}
