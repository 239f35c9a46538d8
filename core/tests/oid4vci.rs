//! OpenID4VCI end to end without sockets: the wallet client talks to the issuer engine
//! through an in-memory `HttpClient`; every error path gets its spec code; our
//! messages have the shapes of the GOV.UK worked examples.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::jose::Jws;
use govcred::oid4vci::client::{error_of, WalletClient};
use govcred::oid4vci::credential::{CredentialRequest, NotificationEvent, NotificationRequest};
use govcred::oid4vci::issuer::*;
use govcred::oid4vci::offer::{CredentialOffer, OfferLink};
use govcred::oid4vci::proof::{self, ProofPolicy};
use govcred::oid4vci::token::{peek_c_nonce, TokenRequest};
use govcred::platform::{HttpClient, HttpRequest, HttpResponse};
use govcred::{ErrorCode, FixedClock, Result};
use serde_json::{json, Value};

const ISSUER: &str = "https://issuer.example.gov.uk";
const NOW: i64 = 1_767_225_600; // 2026-01-01

struct Loop(Arc<Issuer>);

impl HttpClient for Loop {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        Ok(self.0.handle(request))
    }
}

struct Fixture {
    issuer: Arc<Issuer>,
    state: Arc<MemoryState>,
    clock: Arc<FixedClock>,
}

fn fixture() -> Fixture {
    let clock = Arc::new(FixedClock::new(NOW));
    let state = Arc::new(MemoryState::default());
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let (iaca, iaca_key) =
        govcred::pki::create_iaca("GB", "Test IACA", None, NOW - 86_400, NOW + 3000 * 86_400)
            .unwrap();
    let (ds, ds_key) = govcred::pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Test DSC",
        NOW - 86_400,
        NOW + 400 * 86_400,
    )
    .unwrap();
    let keys = IssuerKeys::new(Arc::new(key))
        .unwrap()
        .with_mdoc(ds, Arc::new(ds_key), vec![iaca]);
    let mut configs = BTreeMap::new();
    configs.insert(
        "VeteranCard".to_string(),
        CredentialSpec::new(CredentialTemplate::JwtVc {
            credential_type: "DigitalVeteranCard".into(),
            name: Some("HM Armed Forces Veteran Card".into()),
            description: None,
        }),
    );
    configs.insert(
        "Pid".to_string(),
        CredentialSpec::new(CredentialTemplate::SdJwtVc {
            vct: "urn:example:pid".into(),
        }),
    );
    configs.insert(
        "FishingLicence".to_string(),
        CredentialSpec::new(CredentialTemplate::Mdoc {
            doctype: "uk.gov.example.fishingLicence.1".into(),
        }),
    );
    for spec in configs.values_mut() {
        spec.refresh_url = Some(format!("{ISSUER}/refresh"));
    }
    let issuer = Issuer::new(
        IssuerConfig::new(ISSUER, "TEST_CLIENT_ID"),
        configs,
        keys,
        state.clone(),
    )
    .unwrap()
    .with_clock(clock.clone());
    Fixture {
        issuer: Arc::new(issuer),
        state,
        clock,
    }
}

fn claims(config: &str) -> Value {
    match config {
        "VeteranCard" => json!({"name": "Sam Smith", "serviceNumber": "25057386"}),
        "Pid" => json!({"given_name": "Sam", "family_name": "Smith"}),
        _ => {
            json!({"uk.gov.example.fishingLicence.1": {"family_name": "Smith", "licence_number": "009878863", "expiry_date": "2028-12-10"}})
        }
    }
}

fn client(f: &Fixture) -> WalletClient {
    WalletClient::new(Arc::new(Loop(f.issuer.clone()))).with_clock(f.clock.clone())
}

#[test]
fn receives_each_format_verifies_and_notifies() {
    let f = fixture();
    for config in ["VeteranCard", "Pid", "FishingLicence"] {
        let offer = f.issuer.create_offer(config, claims(config), None).unwrap();
        let holder = SoftwareKey::generate(Alg::ES256).unwrap();
        let got = client(&f).receive(&offer.link, &holder).unwrap();
        assert!(
            got.report.valid,
            "{config}: {}",
            got.report.to_json_pretty()
        );
        assert_eq!(got.configuration_id, config);
        client(&f)
            .notify(&got, NotificationEvent::CredentialAccepted, Some("stored"))
            .unwrap();
        // Idempotent.
        client(&f)
            .notify(&got, NotificationEvent::CredentialAccepted, Some("stored"))
            .unwrap();
        let id = got.notification_id.clone().unwrap();
        assert!(f
            .state
            .notifications()
            .contains(&(id, "credential_accepted".into())));
    }
    assert_eq!(f.state.issued().len(), 3);
}

// ---- raw protocol steps, for the error paths ----

fn post(f: &Fixture, path: &str, ct: &str, body: Vec<u8>, bearer: Option<&str>) -> HttpResponse {
    let mut r = HttpRequest::post(format!("{ISSUER}{path}"), ct, body, 1 << 20);
    if let Some(b) = bearer {
        r = r.with_header("authorization", format!("Bearer {b}"));
    }
    let resp = f.issuer.handle(&r);
    if resp.status != 200 && resp.status != 204 {
        assert_eq!(resp.header("cache-control"), Some("no-store"), "{path}");
    }
    resp
}

fn code_of(link: &str) -> String {
    match OfferLink::parse(link).unwrap() {
        OfferLink::ByValue(o) => o.code().unwrap().to_string(),
        _ => unreachable!(),
    }
}

fn token(f: &Fixture, code: &str) -> HttpResponse {
    let form = TokenRequest {
        pre_authorized_code: code.into(),
        tx_code: None,
    }
    .to_form();
    post(
        f,
        "/token",
        "application/x-www-form-urlencoded",
        form.into_bytes(),
        None,
    )
}

fn access_token(f: &Fixture, config: &str) -> String {
    let offer = f.issuer.create_offer(config, claims(config), None).unwrap();
    let r = token(f, &code_of(&offer.link));
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

fn credential(f: &Fixture, at: &str, proof_jwt: String) -> HttpResponse {
    let body = serde_json::to_vec(&CredentialRequest::with_jwt_proof(proof_jwt)).unwrap();
    post(f, "/credential", "application/json", body, Some(at))
}

fn err(r: &HttpResponse) -> String {
    let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
    v["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn token_endpoint_errors() {
    let f = fixture();
    let offer = f
        .issuer
        .create_offer("VeteranCard", claims("VeteranCard"), None)
        .unwrap();
    let code = code_of(&offer.link);
    assert_eq!(token(&f, &code).status, 200);
    // Single use.
    let again = token(&f, &code);
    assert_eq!((again.status, err(&again).as_str()), (400, "invalid_grant"));
    // Expired.
    let offer = f
        .issuer
        .create_offer("VeteranCard", claims("VeteranCard"), None)
        .unwrap();
    f.clock.set(NOW + 901);
    let late = token(&f, &code_of(&offer.link));
    assert_eq!((late.status, err(&late).as_str()), (400, "invalid_grant"));
    f.clock.set(NOW);
    // Forged (signed by another key).
    let other = fixture();
    let foreign = other
        .issuer
        .create_offer("VeteranCard", claims("VeteranCard"), None)
        .unwrap();
    let r = token(&f, &code_of(&foreign.link));
    assert_eq!(err(&r), "invalid_grant");
    // Grant type and missing code.
    let r = post(
        &f,
        "/token",
        "application/x-www-form-urlencoded",
        b"grant_type=authorization_code&code=x".to_vec(),
        None,
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (400, "unsupported_grant_type")
    );
    let r = post(
        &f,
        "/token",
        "application/x-www-form-urlencoded",
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code".to_vec(),
        None,
    );
    assert_eq!((r.status, err(&r).as_str()), (400, "invalid_request"));
}

#[test]
fn credential_endpoint_errors() {
    let f = fixture();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let at = access_token(&f, "VeteranCard");
    let nonce = peek_c_nonce(&at).unwrap();
    let good = || proof::build_proof(&holder, ISSUER, Some(&nonce), NOW).unwrap();

    // No token: bare challenge.
    let body = serde_json::to_vec(&CredentialRequest::with_jwt_proof(good())).unwrap();
    let r = post(&f, "/credential", "application/json", body, None);
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    // Bad token.
    let mut tampered = at.clone();
    tampered.replace_range(tampered.len() - 4.., "AAAA");
    let r = credential(&f, &tampered, good());
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(error_of(&r).code(), ErrorCode::InvalidToken);
    // Expired token.
    f.clock.set(NOW + 180 + 61);
    assert_eq!(credential(&f, &at, good()).status, 401);
    f.clock.set(NOW);
    // Bad proofs.
    let wrong_aud =
        proof::build_proof(&holder, "https://elsewhere.gov.uk", Some(&nonce), NOW).unwrap();
    let old = proof::build_proof(&holder, ISSUER, Some(&nonce), NOW - 301).unwrap();
    let future = proof::build_proof(&holder, ISSUER, Some(&nonce), NOW + 120).unwrap();
    for p in [wrong_aud, old, future, "not.a.jwt".to_string()] {
        let r = credential(&f, &at, p);
        assert_eq!((r.status, err(&r).as_str()), (400, "invalid_proof"));
    }
    let r = post(
        &f,
        "/credential",
        "application/json",
        b"{}".to_vec(),
        Some(&at),
    );
    assert_eq!(err(&r), "invalid_proof");
    let r = post(
        &f,
        "/credential",
        "application/json",
        b"[".to_vec(),
        Some(&at),
    );
    assert_eq!(err(&r), "invalid_credential_request");
    // Wrong nonce: invalid_nonce with a fresh one, which then works; iat in milliseconds.
    let r = credential(
        &f,
        &at,
        proof::build_proof(&holder, ISSUER, Some("stale"), NOW).unwrap(),
    );
    assert_eq!((r.status, err(&r).as_str()), (400, "invalid_nonce"));
    let fresh = match error_of(&r) {
        govcred::Error::InvalidNonce {
            fresh_nonce: Some(n),
            ..
        } => n,
        e => panic!("{e}"),
    };
    let ms = proof::build_proof(&holder, ISSUER, Some(&fresh), NOW * 1000 + 5).unwrap();
    let ok = credential(&f, &at, ms);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    let notification_id = serde_json::from_slice::<Value>(&ok.body).unwrap()["notification_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The fresh nonce and the access token are single use.
    let r = credential(
        &f,
        &at,
        proof::build_proof(&holder, ISSUER, Some(&fresh), NOW).unwrap(),
    );
    assert_eq!(err(&r), "invalid_nonce");
    let r = credential(&f, &at, good());
    assert_eq!((r.status, err(&r).as_str()), (401, "invalid_token"));

    // Notifications.
    let note = |id: &str, event: &str| {
        serde_json::to_vec(&json!({"notification_id": id, "event": event, "x-unknown": 1})).unwrap()
    };
    let r = post(
        &f,
        "/notification",
        "application/json",
        note(&notification_id, "credential_accepted"),
        Some(&at),
    );
    assert_eq!(r.status, 204);
    let r = post(
        &f,
        "/notification",
        "application/json",
        note(
            "776aefd4-26c6-4a5f-aa7c-b5e294cd87cd",
            "credential_accepted",
        ),
        Some(&at),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (400, "invalid_notification_id")
    );
    let r = post(
        &f,
        "/notification",
        "application/json",
        note(&notification_id, "credential_eaten"),
        Some(&at),
    );
    assert_eq!(
        (r.status, err(&r).as_str()),
        (400, "invalid_notification_request")
    );
    let r = post(
        &f,
        "/notification",
        "application/json",
        note(&notification_id, "credential_accepted"),
        None,
    );
    assert_eq!(r.status, 401);
    // Another wallet's token cannot notify about this credential.
    let other_at = access_token(&f, "VeteranCard");
    let r = post(
        &f,
        "/notification",
        "application/json",
        note(&notification_id, "credential_deleted"),
        Some(&other_at),
    );
    assert_eq!(err(&r), "invalid_notification_id");
}

#[test]
fn mdoc_needs_a_p256_holder_and_client_maps_errors() {
    let f = fixture();
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let at = access_token(&f, "FishingLicence");
    let nonce = peek_c_nonce(&at).unwrap();
    let r = credential(
        &f,
        &at,
        proof::build_proof(&ed, ISSUER, Some(&nonce), NOW).unwrap(),
    );
    assert_eq!(err(&r), "invalid_proof");
    // The client reports a reused offer as invalid_grant.
    let offer = f.issuer.create_offer("Pid", claims("Pid"), None).unwrap();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    client(&f).receive(&offer.link, &holder).unwrap();
    let e = client(&f).receive(&offer.link, &holder).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidGrant);
    // Unknown configuration at offer time.
    assert_eq!(
        f.issuer
            .create_offer("Nope", json!({}), None)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownCredentialConfiguration
    );
}

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn jwt_parts(token: &str) -> (Value, Value) {
    let jws = Jws::decode(token).unwrap();
    (
        Value::Object(jws.header().clone()),
        serde_json::from_slice(jws.payload()).unwrap(),
    )
}

#[test]
fn messages_have_the_govuk_shapes() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = |rel: &str| common::json(&dir, &format!("govuk/issuance/{rel}"));
    let f = fixture();

    // The GOV.UK offer link parses to the offer JSON.
    let link =
        std::fs::read_to_string(dir.join("govuk/issuance/credential-offer-url.txt")).unwrap();
    let OfferLink::ByValue(parsed) = OfferLink::parse(&link).unwrap() else {
        panic!()
    };
    let expected: CredentialOffer = serde_json::from_value(v("credential-offer.json")).unwrap();
    assert_eq!(parsed, expected);

    // Our offer, code, token, proof and messages have the same members.
    let offer = f
        .issuer
        .create_offer("VeteranCard", claims("VeteranCard"), None)
        .unwrap();
    let ours: Value = serde_json::from_str(&offer.offer.to_json()).unwrap();
    assert_eq!(keys_of(&ours), keys_of(&v("credential-offer.json")));
    assert!(offer
        .link
        .starts_with("https://mobile.account.gov.uk/wallet/add?credential_offer=%7B%22"));
    let (h, p) = jwt_parts(offer.offer.code().unwrap());
    assert_eq!(keys_of(&h), keys_of(&v("pre-authorized-code.header.json")));
    assert_eq!(
        keys_of(&p),
        keys_of(&v("pre-authorized-code.payload.template.json"))
    );
    assert_eq!(p["exp"].as_i64().unwrap() - p["iat"].as_i64().unwrap(), 900);

    let r = token(&f, offer.offer.code().unwrap());
    let t: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(t["token_type"], "bearer");
    let at = t["access_token"].as_str().unwrap();
    let (h, p) = jwt_parts(at);
    assert_eq!(keys_of(&h), keys_of(&v("access-token.header.json")));
    assert_eq!(h["typ"], "at+jwt");
    assert_eq!(
        keys_of(&p),
        keys_of(&v("access-token.payload.first-issuance.json"))
    );

    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let pj =
        proof::build_proof(&holder, ISSUER, Some(p["c_nonce"].as_str().unwrap()), NOW).unwrap();
    let (h, pp) = jwt_parts(&pj);
    assert_eq!(h, {
        let mut e = v("proof-jwt.header.json");
        e["kid"] = h["kid"].clone();
        e
    });
    assert!(h["kid"].as_str().unwrap().starts_with("did:key:zDn"));
    assert_eq!(keys_of(&pp), keys_of(&v("proof-jwt.payload.json")));
    let req = serde_json::to_value(CredentialRequest::with_jwt_proof(pj.clone())).unwrap();
    assert_eq!(keys_of(&req), keys_of(&v("credential-request.json")));
    assert_eq!(
        keys_of(&req["proof"]),
        keys_of(&v("credential-request.json")["proof"])
    );
    let resp = credential(&f, at, pj);
    let resp: Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(
        keys_of(&resp),
        keys_of(&v("credential-response.jwt-vc.json"))
    );
    let (h, _) = jwt_parts(resp["credentials"][0]["credential"].as_str().unwrap());
    assert_eq!(
        keys_of(&h),
        keys_of(&v("jwt-vc.fishing-licence.header.json"))
    );

    // The wallet's example proof (iat in milliseconds) is read as seconds.
    let example = v("credential-request.json")["proof"]["jwt"]
        .as_str()
        .unwrap()
        .to_string();
    match proof::verify_proof(
        &example,
        &ProofPolicy::new("https://example-credential-issuer.gov.uk", 1_745_233_623),
    ) {
        Ok(p) => assert_eq!(p.iat, 1_745_233_623),
        // The docs' examples are not all signed correctly (vectors README).
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidProof),
    }
    // Notification and error bodies.
    NotificationRequest::from_json(&serde_json::to_vec(&v("notification-request.json")).unwrap())
        .unwrap();
    assert_eq!(
        v("credential-error.invalid-proof.json")["error"],
        "invalid_proof"
    );
    assert_eq!(
        v("notification-error.json")["error"],
        "invalid_notification_id"
    );

    // Metadata, did.json, jwks.json.
    let m = serde_json::to_value(f.issuer.metadata()).unwrap();
    let vm = v("issuer-metadata.mdoc.json");
    assert!(keys_of(&vm).is_subset(&keys_of(&m)), "{m:#}");
    let cm = &m["credential_configurations_supported"]["FishingLicence"];
    let vcm = &vm["credential_configurations_supported"]["FishingLicenceCredential"];
    assert!(keys_of(vcm).is_subset(&keys_of(cm)), "{cm:#}");
    let jwt_cfg = &m["credential_configurations_supported"]["VeteranCard"];
    let example_cfg =
        &v("example-cri.credential_configurations_supported.json")["DigitalVeteranCard"];
    for k in keys_of(example_cfg) {
        if k == "credential_validity_period_max_days" {
            assert!(jwt_cfg[&k].is_u64());
            continue;
        }
        assert_eq!(jwt_cfg[&k], example_cfg[&k], "{k}");
    }
    let did = f.issuer.did_document().unwrap();
    assert_eq!(keys_of(&did), keys_of(&v("did.json")));
    assert_eq!(
        keys_of(&did["verificationMethod"][0]),
        keys_of(&v("did.json")["verificationMethod"][0])
    );
    assert_eq!(
        keys_of(&did["verificationMethod"][0]["publicKeyJwk"]),
        keys_of(&v("did.json")["verificationMethod"][0]["publicKeyJwk"])
    );
    let jwks = f.issuer.jwks();
    assert_eq!(
        keys_of(&jwks["keys"][0]),
        keys_of(&v("jwks.json")["keys"][0])
    );
    let iacas = f.issuer.iacas();
    let vi = v("iacas.example.json");
    assert_eq!(keys_of(&iacas["data"][0]), keys_of(&vi["data"][0]));
    assert_eq!(
        keys_of(&iacas["data"][0]["certificateData"]),
        keys_of(&vi["data"][0]["certificateData"])
    );
    // The GOV.UK example IACA list is accepted by the wallet (one-line PEM).
    let mut trust = govcred::trust::TrustStore::new();
    let n =
        govcred::oid4vci::client::add_iacas(&mut trust, &serde_json::to_vec(&vi).unwrap()).unwrap();
    assert_eq!(n, 1);
}

/// Serves one offer by reference and an oversized document, else the issuer.
struct WithExtras(Arc<Issuer>, String);

impl HttpClient for WithExtras {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse> {
        let body = match request.url.as_str() {
            "https://issuer.example.gov.uk/offers/1" => self.1.clone().into_bytes(),
            "https://issuer.example.gov.uk/big" => vec![b' '; request.max_response_bytes + 1],
            _ => return Ok(self.0.handle(request)),
        };
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body,
        })
    }
}

#[test]
fn offer_by_reference_and_response_limits() {
    let f = fixture();
    let offer = f.issuer.create_offer("Pid", claims("Pid"), None).unwrap();
    let c = WalletClient::new(Arc::new(WithExtras(
        f.issuer.clone(),
        offer.offer.to_json(),
    )))
    .with_clock(f.clock.clone());
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let link = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example.gov.uk%2Foffers%2F1";
    let got = c.receive(link, &holder).unwrap();
    assert!(got.report.valid);
    let big =
        "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fissuer.example.gov.uk%2Fbig";
    assert_eq!(
        c.resolve_offer(big).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );
    // Offers naming a plain-http, non-loopback issuer are refused before any request.
    let evil = CredentialOffer::pre_authorized("http://issuer.example.gov.uk", "Pid", "x");
    assert_eq!(
        c.receive(&evil.to_json(), &holder).unwrap_err().code(),
        ErrorCode::InsecureUrl
    );
}

#[test]
fn access_tokens_from_an_external_sts() {
    // GOV.UK topology: One Login's STS redeems the code and signs the access token.
    let sts = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut config = IssuerConfig::new(ISSUER, "TEST_CLIENT_ID");
    config.authorization_server = Some(govcred::oid4vci::GOVUK_STS.into());
    let mut keys = IssuerKeys::new(Arc::new(SoftwareKey::generate(Alg::ES256).unwrap())).unwrap();
    keys.access_token_keys = vec![sts.verifying_key().clone()];
    let mut configs = BTreeMap::new();
    configs.insert(
        "VeteranCard".to_string(),
        CredentialSpec::new(CredentialTemplate::JwtVc {
            credential_type: "DigitalVeteranCard".into(),
            name: None,
            description: None,
        }),
    );
    let clock = Arc::new(FixedClock::new(NOW));
    let issuer = Issuer::new(config, configs, keys, Arc::new(MemoryState::default()))
        .unwrap()
        .with_clock(clock);
    let offer = issuer
        .create_offer("VeteranCard", claims("VeteranCard"), None)
        .unwrap();
    let (_, code) = jwt_parts(offer.offer.code().unwrap());
    assert_eq!(code["aud"], "https://token.account.gov.uk");
    assert_eq!(code["clientId"], "TEST_CLIENT_ID");
    let m = issuer.metadata();
    assert_eq!(
        m.authorization_servers,
        vec!["https://token.account.gov.uk".to_string()]
    );
    let at_claims = govcred::oid4vci::token::AccessTokenClaims {
        sub: offer.pending.subject.clone(),
        iss: "https://token.account.gov.uk".into(),
        aud: ISSUER.into(),
        exp: NOW + 180,
        credential_identifiers: Some(vec![offer.pending.id.clone()]),
        credential_configuration_ids: vec!["VeteranCard".into()],
        c_nonce: "657a09cd-7165-486d-a858-065eb23f7a8d".into(),
        jti: "62b45850-4c5c-4696-983a-af66450301d4".into(),
    };
    let at = govcred::oid4vci::token::sign_access_token(&at_claims, "sts-1", &sts).unwrap();
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let send = |at: &str| {
        let p = proof::build_proof(&holder, ISSUER, Some(&at_claims.c_nonce), NOW).unwrap();
        let body = serde_json::to_vec(&CredentialRequest::with_jwt_proof(p)).unwrap();
        issuer.handle(
            &HttpRequest::post(
                format!("{ISSUER}/credential"),
                "application/json",
                body,
                1 << 20,
            )
            .with_header("authorization", format!("Bearer {at}")),
        )
    };
    // A token whose sub is not the offer's wallet subject is refused.
    let mut wrong = at_claims.clone();
    wrong.sub = "urn:fdc:wallet.account.gov.uk:2024:someone-else".into();
    wrong.jti = "other".into();
    let wrong = govcred::oid4vci::token::sign_access_token(&wrong, "sts-1", &sts).unwrap();
    let r = send(&wrong);
    assert_eq!((r.status, err(&r).as_str()), (401, "invalid_token"));
    // ... and did not consume the offer.
    let ok = send(&at);
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    // This issuer does not serve /token when the STS does.
    let r = issuer.handle(&HttpRequest::post(
        format!("{ISSUER}/token"),
        "application/x-www-form-urlencoded",
        b"x=1".to_vec(),
        1 << 16,
    ));
    assert_eq!(r.status, 404);
}
