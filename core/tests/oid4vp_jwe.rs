//! OpenID4VP `direct_post.jwt` (1.0 §8.3): the compact JWE (ECDH-ES P-256, Concat KDF,
//! A128GCM/A256GCM), an SD-JWT VC round trip through it, and what is refused (altered
//! tokens, the wrong key, other alg/enc, bad `epk`, clear downgrades).

use govcred::b64;
use govcred::crypto::{Alg, Jwk, SoftwareKey};
use govcred::format::sd_jwt::{self, SdJwtDraft};
use govcred::jwe::{self, DecryptionKey, Enc, EncryptOptions};
use govcred::oid4vp::consent::Consent;
use govcred::oid4vp::dcql::{Candidate, DcqlQuery};
use govcred::oid4vp::request::{AuthorizationRequest, ResponseMode, VerifiedRequest};
use govcred::oid4vp::response::{
    self, mdoc_session_transcript, mdoc_session_transcript_for, AuthorizationResponse,
    ResponseEncryption, VerifierSession,
};
use govcred::trust::TrustStore;
use govcred::{ErrorCode, Signer};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;
const VCT: &str = "urn:example:veteran-card";
const CB: &str = "https://rp.example/cb";

struct World {
    holder: SoftwareKey,
    issued: String,
    trust: TrustStore,
}

fn world() -> World {
    let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut draft = SdJwtDraft::new("https://issuer.example.gov.uk", VCT);
    draft.claims = json!({"given_name": "Sarah", "age_over_18": true})
        .as_object()
        .unwrap()
        .clone();
    draft.disclosable = vec!["given_name".into(), "age_over_18".into()];
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

fn query() -> DcqlQuery {
    DcqlQuery::from_json(
        &json!({"credentials": [{"id": "card", "format": "dc+sd-jwt",
        "meta": {"vct_values": [VCT]}, "claims": [{"path": ["age_over_18"]}]}]}),
    )
    .unwrap()
}

fn session() -> VerifierSession {
    VerifierSession::new_encrypted(&format!("redirect_uri:{CB}"), CB, query()).unwrap()
}

/// The wallet receives the request as sent (JSON members as strings, as in a URL).
fn wallet_view(s: &VerifierSession) -> VerifiedRequest {
    let mut params = serde_json::to_value(&s.request).unwrap();
    for k in ["dcql_query", "client_metadata"] {
        params[k] = Value::String(params[k].to_string());
    }
    AuthorizationRequest::parse_by_value(params.as_object().unwrap()).unwrap()
}

/// The wallet's answer: consent, SD-JWT presentation, posted body.
fn answer(w: &World, s: &VerifierSession) -> Vec<(String, String)> {
    let verified = wallet_view(s);
    let consent = Consent::new(
        &verified,
        &[Candidate::from_sd_jwt("card-1", &w.issued).unwrap()],
    )
    .unwrap();
    let m = &consent.queries[0].matches[0];
    let resp =
        response::respond_sd_jwt(&verified, &[("card", m, w.issued.as_str())], &w.holder, NOW)
            .unwrap();
    resp.to_post_body(&verified.request).unwrap()
}

fn header_of(token: &str) -> Map<String, Value> {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(&b64::decode(h, "h").unwrap()).unwrap()
}

/// `token` with its protected header replaced by `header` (other parts kept).
fn with_header(token: &str, header: &Map<String, Value>) -> String {
    let rest = token.split_once('.').unwrap().1;
    format!(
        "{}.{rest}",
        b64::encode(Value::Object(header.clone()).to_string())
    )
}

/// `token` with one character in the middle of part `i` changed.
fn flip(token: &str, i: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(String::from).collect();
    let p = &mut parts[i];
    let mid = p.len() / 2;
    let c = p.as_bytes()[mid];
    let new = if c == b'A' { "B" } else { "A" };
    p.replace_range(mid..mid + 1, new);
    parts.join(".")
}

#[test]
fn rfc7518_appendix_c_ecdh_es_key_agreement() {
    // RFC 7518 Appendix C: Bob's static key, Alice's ephemeral key, enc A128GCM,
    // apu "Alice", apv "Bob" → derived key VqqN6vgjbSBcIijNcacQGg.
    let scalar = |d: &str| -> [u8; 32] { b64::decode(d, "d").unwrap().try_into().unwrap() };
    let bob =
        DecryptionKey::from_scalar(&scalar("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw")).unwrap();
    assert_eq!(
        bob.public_jwk().x.as_deref(),
        Some("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ")
    );
    assert_eq!(
        bob.public_jwk().y.as_deref(),
        Some("e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck")
    );
    let alice_epk = Jwk::from_json(
        r#"{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps"}"#,
    )
    .unwrap();
    let derived = bob
        .derive_key(&alice_epk, Enc::A128Gcm, b"Alice", b"Bob")
        .unwrap();
    assert_eq!(b64::encode(&derived[..]), "VqqN6vgjbSBcIijNcacQGg");
    assert_eq!(
        &derived[..],
        &[86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26]
    );
    // The same from Alice's side (ECDH is symmetric).
    let alice =
        DecryptionKey::from_scalar(&scalar("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo")).unwrap();
    assert_eq!(alice.public_jwk().x, alice_epk.x);
    let again = alice
        .derive_key(
            &bob.public_jwk().to_public(),
            Enc::A128Gcm,
            b"Alice",
            b"Bob",
        )
        .unwrap();
    assert_eq!(&again[..], &derived[..]);
    // The Concat KDF alone, from the RFC's Z.
    let z: [u8; 32] = [
        158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110,
        163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
    ];
    let k = jwe::concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 16);
    assert_eq!(b64::encode(&k[..]), "VqqN6vgjbSBcIijNcacQGg");
}

#[test]
fn sd_jwt_round_trip_over_direct_post_jwt() {
    let w = world();
    let s = session();
    // The request carries the encryption key and the enc values.
    assert_eq!(s.request.response_mode, Some(ResponseMode::DirectPostJwt));
    let meta = s.request.client_metadata.as_ref().unwrap();
    let published = &meta["jwks"]["keys"][0];
    assert_eq!(published["use"], "enc");
    assert_eq!(published["alg"], "ECDH-ES");
    assert!(published.get("d").is_none());
    assert_eq!(
        meta["encrypted_response_enc_values_supported"],
        json!(["A128GCM", "A256GCM"])
    );

    let body = answer(&w, &s);
    assert_eq!(body.len(), 1);
    assert_eq!(body[0].0, "response");
    let token = &body[0].1;
    assert_eq!(token.split('.').count(), 5);
    assert!(!token.contains("age_over_18"));
    let h = header_of(token);
    assert_eq!(h["alg"], "ECDH-ES");
    assert_eq!(h["enc"], "A128GCM");
    assert_eq!(h["epk"]["kty"], "EC");
    assert_eq!(h["apv"], b64::encode(s.request.nonce.as_bytes()));

    let results = s.check_post_body(&body, &w.trust, NOW, 60, None).unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].report.valid, "{:?}", results[0].report);
    assert_eq!(results[0].report.claims.to_value()["age_over_18"], true);
    assert!(results[0]
        .report
        .claims
        .to_value()
        .get("given_name")
        .is_none());
    // The same through check_encrypted, and the decrypted response keeps `state`.
    assert!(
        s.check_encrypted(token, &w.trust, NOW, 60, None).unwrap()[0]
            .report
            .valid
    );
    assert_eq!(s.decrypt_response(token).unwrap().state, s.request.state);
}

#[test]
fn a256gcm_when_the_verifier_lists_only_that() {
    let w = world();
    let mut s = session();
    s.request.client_metadata.as_mut().unwrap()["encrypted_response_enc_values_supported"] =
        json!(["A192GCM", "A256GCM"]);
    let body = answer(&w, &s);
    assert_eq!(header_of(&body[0].1)["enc"], "A256GCM");
    assert!(
        s.check_post_body(&body, &w.trust, NOW, 60, None).unwrap()[0]
            .report
            .valid
    );
    // Nothing this library implements: refused before anything is signed.
    s.request.client_metadata.as_mut().unwrap()["encrypted_response_enc_values_supported"] =
        json!(["A128CBC-HS256"]);
    let verified = wallet_view(&s);
    let consent = Consent::new(
        &verified,
        &[Candidate::from_sd_jwt("card-1", &w.issued).unwrap()],
    )
    .unwrap();
    let m = &consent.queries[0].matches[0];
    let e =
        response::respond_sd_jwt(&verified, &[("card", m, &w.issued)], &w.holder, NOW).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
}

#[test]
fn no_usable_key_in_the_request_is_refused() {
    let mut s = session();
    let jwks = &mut s.request.client_metadata.as_mut().unwrap()["jwks"]["keys"][0];
    jwks["use"] = json!("sig");
    let e = ResponseEncryption::for_request(&s.request).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidRequest);
    let mut s = session();
    s.request.client_metadata = None;
    assert_eq!(
        ResponseEncryption::for_request(&s.request)
            .unwrap_err()
            .code(),
        ErrorCode::InvalidRequest
    );
}

#[test]
fn tampered_jwe_is_refused() {
    let w = world();
    let s = session();
    let token = answer(&w, &s).remove(0).1;
    // IV, ciphertext, tag.
    for part in [2, 3, 4] {
        let e = s.decrypt_response(&flip(&token, part)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::JweDecryptionFailed, "part {part}: {e}");
    }
    // The protected header is the AAD: an added member breaks the tag.
    let mut h = header_of(&token);
    h.insert("x-extra".into(), json!(1));
    let e = s.decrypt_response(&with_header(&token, &h)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::JweDecryptionFailed);
    // A changed apv (fed to the KDF) too.
    let mut h = header_of(&token);
    h.insert("apv".into(), json!(b64::encode("another-nonce")));
    let e = s.decrypt_response(&with_header(&token, &h)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::JweDecryptionFailed);
    // Truncated ciphertext.
    let parts: Vec<&str> = token.split('.').collect();
    let short = format!(
        "{}..{}.{}.{}",
        parts[0],
        parts[2],
        &parts[3][..parts[3].len() - 4],
        parts[4]
    );
    assert_eq!(
        s.decrypt_response(&short).unwrap_err().code(),
        ErrorCode::JweDecryptionFailed
    );
    // Still fine untouched.
    assert!(s.decrypt_response(&token).is_ok());
}

#[test]
fn wrong_key_is_refused() {
    let w = world();
    let s = session();
    let token = answer(&w, &s).remove(0).1;
    // Another session (another key) with the same request data.
    let mut other = session();
    other.request = s.request.clone();
    let e = other.decrypt_response(&token).unwrap_err();
    assert_eq!(e.code(), ErrorCode::JweDecryptionFailed);
    // A session that asked for direct_post has no key at all.
    let plain = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, query()).unwrap();
    assert_eq!(
        plain.decrypt_response(&token).unwrap_err().code(),
        ErrorCode::SessionState
    );
    // A kid that is not this key's.
    let k = DecryptionKey::generate().unwrap().with_kid("verifier-1");
    let mut to = k.public_jwk();
    to.kid = Some("someone-else".into());
    let t = jwe::encrypt(b"{}", &to, &EncryptOptions::default()).unwrap();
    assert_eq!(
        k.decrypt(&t, &[Enc::A128Gcm]).unwrap_err().code(),
        ErrorCode::UnknownKey
    );
}

#[test]
fn alg_enc_zip_crit_not_allowed() {
    let w = world();
    let s = session();
    let token = answer(&w, &s).remove(0).1;
    let cases: [(&str, Value, ErrorCode); 9] = [
        ("alg", json!("RSA-OAEP-256"), ErrorCode::AlgNotAllowed),
        ("alg", json!("ECDH-ES+A128KW"), ErrorCode::AlgNotAllowed),
        ("alg", json!("dir"), ErrorCode::AlgNotAllowed),
        ("alg", json!("none"), ErrorCode::AlgNotAllowed),
        ("enc", json!("A128CBC-HS256"), ErrorCode::AlgNotAllowed),
        ("enc", json!("A192GCM"), ErrorCode::AlgNotAllowed),
        ("enc", json!(7), ErrorCode::AlgNotAllowed),
        ("zip", json!("DEF"), ErrorCode::AlgNotAllowed),
        ("crit", json!(["exp"]), ErrorCode::UnsupportedCritical),
    ];
    for (name, value, code) in cases {
        let mut h = header_of(&token);
        h.insert(name.into(), value.clone());
        let e = s.decrypt_response(&with_header(&token, &h)).unwrap_err();
        assert_eq!(e.code(), code, "{name}={value}: {e}");
    }
    let mut h = header_of(&token);
    h.remove("alg");
    assert_eq!(
        s.decrypt_response(&with_header(&token, &h))
            .unwrap_err()
            .code(),
        ErrorCode::AlgNotAllowed
    );
    // The key's decryptor only accepts the enc values it is told to.
    let k = DecryptionKey::generate().unwrap();
    let opts = EncryptOptions {
        enc: Enc::A256Gcm,
        ..Default::default()
    };
    let t = jwe::encrypt(b"x", &k.public_jwk(), &opts).unwrap();
    assert_eq!(
        k.decrypt(&t, &[Enc::A128Gcm]).unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
    // The sender refuses a key marked for another algorithm.
    let mut to = k.public_jwk();
    to.alg = Some("RSA-OAEP".into());
    assert_eq!(
        jwe::encrypt(b"x", &to, &EncryptOptions::default())
            .unwrap_err()
            .code(),
        ErrorCode::AlgNotAllowed
    );
}

#[test]
fn bad_epk_and_structure_are_refused() {
    let w = world();
    let s = session();
    let token = answer(&w, &s).remove(0).1;
    let epk_case = |epk: Value| {
        let mut h = header_of(&token);
        h.insert("epk".into(), epk);
        s.decrypt_response(&with_header(&token, &h))
            .unwrap_err()
            .code()
    };
    let h = header_of(&token);
    let good = h["epk"].clone();
    // A point not on the curve (y changed).
    let mut off = good.clone();
    off["y"] = json!(b64::encode([1u8; 32]));
    assert_eq!(epk_case(off), ErrorCode::InvalidKey);
    // Another curve, another type, short coordinates, a private member.
    let mut p384 = good.clone();
    p384["crv"] = json!("P-384");
    assert_eq!(epk_case(p384), ErrorCode::InvalidKey);
    assert_eq!(
        epk_case(json!({"kty": "OKP", "crv": "X25519", "x": b64::encode([9u8; 32])})),
        ErrorCode::InvalidKey
    );
    let mut short = good.clone();
    short["x"] = json!(b64::encode([1u8; 31]));
    assert_eq!(epk_case(short), ErrorCode::InvalidKey);
    let mut private = good.clone();
    private["d"] = json!(b64::encode([1u8; 32]));
    assert_eq!(epk_case(private), ErrorCode::InvalidKey);
    let mut h2 = header_of(&token);
    h2.remove("epk");
    assert_eq!(
        s.decrypt_response(&with_header(&token, &h2))
            .unwrap_err()
            .code(),
        ErrorCode::MalformedInput
    );
    // An encrypted key where direct agreement has none; wrong part counts.
    let parts: Vec<&str> = token.split('.').collect();
    let with_ek = format!("{}.AAAA.{}.{}.{}", parts[0], parts[2], parts[3], parts[4]);
    assert_eq!(
        s.decrypt_response(&with_ek).unwrap_err().code(),
        ErrorCode::MalformedInput
    );
    for bad in [parts[..4].join("."), format!("{token}.x"), String::new()] {
        assert_eq!(
            s.decrypt_response(&bad).unwrap_err().code(),
            ErrorCode::MalformedInput
        );
    }
    // IV of the wrong length.
    let bad_iv = format!(
        "{}..{}.{}.{}",
        parts[0],
        b64::encode([0u8; 16]),
        parts[3],
        parts[4]
    );
    assert_eq!(
        s.decrypt_response(&bad_iv).unwrap_err().code(),
        ErrorCode::MalformedInput
    );
    // Duplicate header members.
    let dup = format!(
        "{}.{}",
        b64::encode(r#"{"alg":"ECDH-ES","alg":"dir"}"#),
        token.split_once('.').unwrap().1
    );
    assert_eq!(
        s.decrypt_response(&dup).unwrap_err().code(),
        ErrorCode::DuplicateKey
    );
    // Oversized input.
    let big = "a".repeat(jwe::MAX_COMPACT_JWE_LEN + 1);
    assert_eq!(
        s.decrypt_response(&big).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );
}

#[test]
fn no_downgrade_to_a_clear_response() {
    let w = world();
    let s = session();
    let verified = wallet_view(&s);
    let consent = Consent::new(
        &verified,
        &[Candidate::from_sd_jwt("card-1", &w.issued).unwrap()],
    )
    .unwrap();
    let m = &consent.queries[0].matches[0];
    let resp =
        response::respond_sd_jwt(&verified, &[("card", m, &w.issued)], &w.holder, NOW).unwrap();
    // Posted in clear to a session that asked for direct_post.jwt.
    let e = s
        .check_post_body(&resp.to_form(), &w.trust, NOW, 60, None)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SessionState);
    let e = s.check(&resp, &w.trust, NOW, 60, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SessionState);
    // No `response` field at all.
    let e = s.check_post_body(&[], &w.trust, NOW, 60, None).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClaim);
    // A JWE whose payload is not a response object.
    let k = s.encryption_key.as_ref().unwrap();
    for payload in [&b"[]"[..], b"{\"state\":\"x\"}", b"{\"vp_token\":\"x\"}"] {
        let t = jwe::encrypt(payload, &k.public_jwk(), &EncryptOptions::default()).unwrap();
        assert!(s.decrypt_response(&t).is_err());
    }
}

#[test]
fn mdoc_transcript_carries_the_key_thumbprint() {
    let s = session();
    let verified = wallet_view(&s);
    let r = &verified.request;
    let thumb = s.encryption_key.as_ref().unwrap().thumbprint().unwrap();
    // RFC 7638 thumbprint of the published key.
    let published: Jwk = serde_json::from_value(
        s.request.client_metadata.as_ref().unwrap()["jwks"]["keys"][0].clone(),
    )
    .unwrap();
    assert_eq!(b64::encode(thumb), published.thumbprint().unwrap());
    let expected = mdoc_session_transcript(
        &r.client_id,
        &r.nonce,
        Some(&thumb),
        r.response_uri.as_deref().unwrap(),
    );
    assert_eq!(s.mdoc_session_transcript(), expected);
    assert_eq!(mdoc_session_transcript_for(r).unwrap(), expected);
    let clear = mdoc_session_transcript(&r.client_id, &r.nonce, None, CB);
    assert_ne!(s.mdoc_session_transcript(), clear);
    // An unencrypted session keeps the null thumbprint on both sides.
    let plain = VerifierSession::new(&format!("redirect_uri:{CB}"), CB, query()).unwrap();
    assert_eq!(
        mdoc_session_transcript_for(&plain.request).unwrap(),
        plain.mdoc_session_transcript()
    );
    // The wallet's encryption parameters point at the same key.
    let enc = ResponseEncryption::for_request(r).unwrap();
    assert_eq!(enc.thumbprint().unwrap(), thumb);
    assert_eq!(enc.enc, Enc::A128Gcm);
    // And an AuthorizationResponse built by hand round-trips.
    let mut resp = AuthorizationResponse::new(r);
    resp.add_mdoc("mdl", b"\xa0");
    let t = resp.to_direct_post_jwt(&enc).unwrap();
    assert_eq!(s.decrypt_response(&t).unwrap(), resp);
}
