//! `test-vectors/negative/`: the hostile-input corpus, one self-contained file per
//! attack. Each file carries the input, the trust material a verifier holds (inline),
//! the time to check at and the error code a correct verifier must report; the core's
//! `negative_corpus` test runs every file, and other implementations can too.
//!
//! Keys are Ed25519 from fixed seeds, so every file is reproduced byte for byte.

use std::path::Path;

use govcred::crypto::{sha256, Alg, SoftwareKey};
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::format::sd_jwt::{self, SdJwt, SdJwtDraft};
use govcred::status::token_status_list::{self, StatusList, StatusListToken};
use govcred::trust::TrustStore;
use govcred::{b64, datetime, did, jose, ErrorCode, FixedClock, Signer, Verifier};
use serde_json::{json, Map, Value};

use crate::vectors::{seeded_in, write_json, ISSUED_AT, VECTOR_ISSUER};
use crate::CliError;

const DAY: i64 = 86_400;
const STATUS_URI: &str = "https://vectors.govcred.example/status/1";

/// One attack: its input, what the verifier trusts, and the expected error.
struct Attack {
    name: &'static str,
    description: &'static str,
    input: String,
    at: i64,
    trust: Value,
    expected: ErrorCode,
}

fn seeded(label: &str) -> Result<SoftwareKey, CliError> {
    seeded_in("negative vector", label, Alg::EdDSA)
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A compact JWS over exactly these header and payload bytes, signed by `key`
/// (unlike `jose::sign_compact`, which serialises a map and cannot repeat a member).
fn sign_raw(header: &str, payload: &str, key: &SoftwareKey) -> Result<String, CliError> {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64::encode(sig)))
}

/// Write the corpus to `dir`.
pub fn write(dir: &Path) -> Result<(), CliError> {
    let issuer = seeded("issuer")?;
    let rogue = seeded("rogue")?;
    let holder = seeded("holder")?;
    let issuer_did = did::web::from_domain(VECTOR_ISSUER)?;
    let doc = did::web::did_document(&issuer_did, &[issuer.verifying_key().clone()])?;
    let kid = format!("{issuer_did}#{}", did::web::key_id(issuer.verifying_key()));
    let did_trust = json!({"did_documents": [doc]});
    let jwk_trust = json!({"jwks": [issuer.public_jwk()]});
    let at = ISSUED_AT + DAY;

    let mut draft = CredentialDraft::new(VECTOR_ISSUER, "DigitalVeteranCard");
    draft.holder = Some(did::key::from_jwk(&holder.public_jwk())?);
    draft.subject = obj(json!({"name": "Sarah Edwards", "serviceNumber": "25057386"}));
    draft.valid_until = Some(ISSUED_AT + 365 * DAY);
    let valid = jwt_vc::issue(&draft, &kid, &issuer, ISSUED_AT)?;
    let jws = jose::Jws::decode(&valid)?;
    let payload = String::from_utf8_lossy(jws.payload()).into_owned();
    let header_json = json!({"alg": "EdDSA", "typ": "vc+jwt", "cty": "vc", "kid": kid});
    let header = header_json.to_string();
    let forged = |h: Value, sig: &[u8]| {
        format!(
            "{}.{}.{}",
            b64::encode(h.to_string()),
            b64::encode(&payload),
            b64::encode(sig)
        )
    };
    let with_header = |extra: Value| {
        let mut h = header_json.clone();
        if let (Some(h), Some(e)) = (h.as_object_mut(), extra.as_object()) {
            h.extend(e.clone());
        }
        h
    };
    let hmac = |h: &Value, secret: &[u8]| {
        let input = format!("{}.{}", b64::encode(h.to_string()), b64::encode(&payload));
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
        format!(
            "{input}.{}",
            b64::encode(aws_lc_rs::hmac::sign(&k, input.as_bytes()).as_ref())
        )
    };
    // Payload with `exp` twice: the first (early) one for a parser that keeps the
    // first, a far-future one for a parser that keeps the last.
    let dup_payload = payload.replacen("{", &format!("{{\"exp\":{},", ISSUED_AT + 2 * DAY), 1);
    let dup_payload = dup_payload.replacen('}', ",\"exp\":4102444800}", 1);
    let mut nested = "[".repeat(10_000);
    nested.push_str(&"]".repeat(10_000));

    // SD-JWT VC with its own key, trusted as a JWK.
    let mut sd = SdJwtDraft::new(VECTOR_ISSUER, "urn:example:govcred:pid:1");
    sd.claims = obj(json!({"given_name": "Sarah", "family_name": "Edwards", "age_over_18": true}));
    sd.disclosable = vec![
        "given_name".into(),
        "family_name".into(),
        "age_over_18".into(),
    ];
    sd.expires_at = Some(ISSUED_AT + 365 * DAY);
    sd.test_only_salt_seed = Some(sha256(b"govcred negative vector salts"));
    let issued = sd_jwt::issue(&sd, None, &issuer, ISSUED_AT)?;
    let held = SdJwt::parse(&issued)?;
    let first = held.disclosures[0].encoded.clone();
    let repeated_disclosure =
        issued.replacen(&format!("~{first}~"), &format!("~{first}~{first}~"), 1);
    // An issuer-signed payload whose `_sd` array lists one digest twice.
    let issuer_jwt = issued.split('~').next().unwrap_or_default();
    let sd_payload = jose::Jws::decode(issuer_jwt)?.payload_json()?;
    let mut twice = sd_payload.clone();
    if let Some(Value::Array(digests)) = twice.get_mut("_sd") {
        if let Some(d) = digests.first().cloned() {
            digests.push(d);
        }
    }
    let sd_header = jose::Jws::decode(issuer_jwt)?.header().clone();
    let twice_jwt = jose::sign_compact(
        sd_header,
        &serde_json::to_vec(&twice).unwrap_or_default(),
        &issuer,
    )?;
    let digest_collision = issued.replacen(issuer_jwt, &twice_jwt, 1);

    // Status: a credential pointing at entry 7 of a list; the issuer revoked it in a
    // new list, but the verifier is handed the old, expired list where it was valid.
    let mut with_status = draft.clone();
    with_status.subject = obj(json!({"name": "Sarah Edwards", "serviceNumber": "25057386"}));
    let status_claim = json!({"status_list": {"idx": 7, "uri": STATUS_URI}});
    let status_jwt = {
        let mut t = jose::Jws::decode(&jwt_vc::issue(&with_status, &kid, &issuer, ISSUED_AT)?)?
            .payload_json()?;
        t.insert("status".into(), status_claim);
        jose::sign_compact(
            obj(json!({"typ": "vc+jwt", "cty": "vc", "kid": kid})),
            &serde_json::to_vec(&t).unwrap_or_default(),
            &issuer,
        )?
    };
    let list = |iat: i64, exp: i64, signer: &SoftwareKey, sub: &str| -> Result<String, CliError> {
        let list = StatusList::new(2, 16)?;
        Ok(token_status_list::sign_token(
            &StatusListToken {
                sub: sub.into(),
                iss: None,
                iat,
                exp: Some(exp),
                ttl: Some(DAY),
                list,
                kid: Some(kid.clone()),
            },
            signer,
        )?)
    };
    let old_list = list(ISSUED_AT, ISSUED_AT + DAY / 2, &issuer, STATUS_URI)?;
    let other_list = list(
        at - 60,
        at + DAY,
        &issuer,
        "https://vectors.govcred.example/status/2",
    )?;
    let rogue_list = list(at - 60, at + DAY, &rogue, STATUS_URI)?;
    let list_trust = |l: &str| json!({"did_documents": [doc], "status_lists": [l]});
    let list_as_credential = list(at - 60, at + DAY, &issuer, STATUS_URI)?;

    let attacks = vec![
        Attack {
            name: "alg-none",
            description: "unsecured JWT: alg none and an empty signature",
            input: format!("{}.{}.", b64::encode(with_header(json!({"alg": "none"})).to_string()), b64::encode(&payload)),
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::AlgNotAllowed,
        },
        Attack {
            name: "hs256-public-key-as-secret",
            description: "HMAC-SHA256 keyed with the issuer's public JWK (key confusion)",
            input: hmac(&with_header(json!({"alg": "HS256"})), issuer.public_jwk().to_json().as_bytes()),
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::AlgNotAllowed,
        },
        Attack {
            name: "embedded-jwk-header-trusted",
            description: "signed by an attacker who puts their own key in a `jwk` header beside the issuer's kid",
            input: jose::sign_compact(obj(with_header(json!({"jwk": rogue.public_jwk()}))), payload.as_bytes(), &rogue)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::SignatureInvalid,
        },
        Attack {
            name: "did-web-kid-path-traversal",
            description: "kid is a did:web whose path climbs out of the issuer's directory",
            input: jose::sign_compact(obj(with_header(json!({"kid": "did:web:vectors.govcred.example:..:..:evil#key-1"}))), payload.as_bytes(), &rogue)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::InvalidDid,
        },
        Attack {
            name: "did-web-kid-url-injection",
            description: "kid is a did:web whose host hides a userinfo part (vectors.govcred.example@evil.example)",
            input: jose::sign_compact(obj(with_header(json!({"kid": "did:web:vectors.govcred.example%40evil.example#key-1"}))), payload.as_bytes(), &rogue)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::InvalidDid,
        },
        Attack {
            name: "duplicate-json-keys-payload",
            description: "validly signed payload naming `exp` twice (first early, last far future)",
            input: sign_raw(&header, &dup_payload, &issuer)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::DuplicateKey,
        },
        Attack {
            name: "duplicate-json-keys-header",
            description: "header naming `alg` twice (`none`, then EdDSA)",
            input: sign_raw(&header.replacen('{', "{\"alg\":\"none\",", 1), &payload, &issuer)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::DuplicateKey,
        },
        Attack {
            name: "deeply-nested-json",
            description: "a payload of 10 000 nested arrays (stack exhaustion in recursive parsers)",
            input: sign_raw(&header, &nested, &issuer)?,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::MalformedInput,
        },
        Attack {
            name: "signature-from-other-token",
            description: "a valid credential's signature pasted onto another payload",
            input: forged(header_json.clone(), &b64::decode(valid.rsplit('.').next().unwrap_or_default(), "sig").unwrap_or_default()).replacen(
                &b64::encode(&payload),
                &b64::encode(payload.replace("25057386", "11111111")),
                1,
            ),
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::SignatureInvalid,
        },
        Attack {
            name: "status-list-as-credential",
            description: "a signed status list token presented as a credential (type confusion)",
            input: list_as_credential,
            at,
            trust: did_trust.clone(),
            expected: ErrorCode::TypeMismatch,
        },
        Attack {
            name: "sd-jwt-disclosure-repeated",
            description: "the same disclosure sent twice (RFC 9901 §7.1: each digest is used once)",
            input: repeated_disclosure,
            at,
            trust: jwk_trust.clone(),
            expected: ErrorCode::MalformedInput,
        },
        Attack {
            name: "sd-jwt-digest-collision",
            description: "issuer payload whose `_sd` lists one digest twice",
            input: digest_collision,
            at,
            trust: jwk_trust.clone(),
            expected: ErrorCode::MalformedInput,
        },
        Attack {
            name: "status-list-expired-swap",
            description: "the verifier is handed an older, expired list (where the entry was still valid) instead of the current one",
            input: status_jwt.clone(),
            at,
            trust: list_trust(&old_list),
            expected: ErrorCode::StatusListStale,
        },
        Attack {
            name: "status-list-other-uri",
            description: "a genuine list of the issuer, but for another URI than the credential names",
            input: status_jwt.clone(),
            at,
            trust: list_trust(&other_list),
            expected: ErrorCode::StatusUnknown,
        },
        Attack {
            name: "status-list-wrong-signer",
            description: "a list for the right URI signed by a key the issuer does not control",
            input: status_jwt,
            at,
            trust: list_trust(&rogue_list),
            expected: ErrorCode::StatusUnknown,
        },
    ];

    for a in attacks {
        let (trust, _refused) = TrustStore::from_description(&a.trust)?;
        let report = Verifier::new(trust)
            .with_clock(std::sync::Arc::new(FixedClock::new(a.at)))
            .verify(a.input.as_bytes());
        let codes: Vec<ErrorCode> = report.errors.iter().map(|e| e.code).collect();
        if report.valid || !codes.contains(&a.expected) {
            return Err(CliError::input(format!(
                "negative vector {}: expected {} but the verifier reported valid={} {:?}",
                a.name, a.expected, report.valid, codes
            )));
        }
        write_json(
            &dir.join(format!("{}.json", a.name)),
            &json!({
                "attack": a.name,
                "description": a.description,
                "input": a.input,
                "verify_at": datetime::format(a.at),
                "trust": a.trust,
                "expected_valid": false,
                "expected_error": a.expected,
            }),
        )?;
    }
    Ok(())
}
