//! `govcred vectors`: regenerate `test-vectors/`, the vectors govcred publishes for
//! other implementations. Keys come from fixed seeds and credentials from a fixed
//! time, so everything but ECDSA signatures (randomised by design) is reproduced
//! byte for byte; the tests check exactly that.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use govcred::crypto::{sha256, Alg, SoftwareKey};
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::trust::TrustStore;
use govcred::{b64, datetime, did, FixedClock, Signer, Verifier};
use serde_json::{json, Value};

use crate::demo::veteran_card_subject;
use crate::{files, CliError, CliResult};

/// Issuer of the published vectors.
pub const VECTOR_ISSUER: &str = "https://vectors.govcred.example";
/// Issuance time of every vector: 2026-01-01T00:00:00Z.
pub const ISSUED_AT: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

#[derive(Args)]
pub struct VectorsArgs {
    /// The `test-vectors` directory to (re)write.
    #[arg(long, default_value = "test-vectors")]
    out: PathBuf,
}

fn seeded(label: &str, alg: Alg) -> Result<SoftwareKey, CliError> {
    let seed = sha256(format!("govcred test vector key: {label}").as_bytes());
    let key = SoftwareKey::from_secret_bytes(alg, &seed)?;
    let kid = key.verifying_key().thumbprint();
    Ok(key.with_kid(kid))
}

fn write_json(path: &Path, v: &Value) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    files::write(path, text.as_bytes())
}

/// Replace the payload of `token` with `payload` bytes, keeping header and signature.
fn with_payload(token: &str, payload: &[u8]) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64::encode(payload), parts[2])
}

/// An unsigned or HMAC-"signed" token with `header`, for the rejection vectors.
fn forged(header: &Value, payload: &[u8], hmac_key: Option<&[u8]>) -> String {
    let input = format!(
        "{}.{}",
        b64::encode(header.to_string()),
        b64::encode(payload)
    );
    let sig = match hmac_key {
        Some(k) => {
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, k);
            b64::encode(aws_lc_rs::hmac::sign(&key, input.as_bytes()).as_ref())
        }
        None => String::new(),
    };
    format!("{input}.{sig}")
}

/// The `alg` in a token's header, if it can be read.
pub fn header_alg(token: &str) -> Option<String> {
    let header = b64::decode(token.split('.').next()?, "header").ok()?;
    let v: Value = serde_json::from_slice(&header).ok()?;
    v.get("alg")?.as_str().map(str::to_string)
}

pub fn run(a: VectorsArgs) -> CliResult {
    let dir = a.out.join("jwt-vc");
    let es = seeded("issuer ES256", Alg::ES256)?;
    let ed = seeded("issuer EdDSA", Alg::EdDSA)?;
    let rogue = seeded("rogue ES256", Alg::ES256)?;
    let holder = seeded("holder ES256", Alg::ES256)?;
    let issuer_did = did::web::from_domain(VECTOR_ISSUER)?;
    let doc = did::web::did_document(
        &issuer_did,
        &[es.verifying_key().clone(), ed.verifying_key().clone()],
    )?;
    let kid = |k: &SoftwareKey| format!("{issuer_did}#{}", did::web::key_id(k.verifying_key()));
    let holder_did = did::key::from_jwk(&holder.public_jwk())?;

    for (name, k) in [
        ("issuer-es256", &es),
        ("issuer-eddsa", &ed),
        ("rogue-es256", &rogue),
        ("holder-es256", &holder),
    ] {
        write_json(
            &dir.join(format!("keys/{name}.private.jwk.json")),
            &serde_json::to_value(k.to_private_jwk()?).unwrap_or_default(),
        )?;
    }
    write_json(&dir.join("did.json"), &doc)?;

    let mut draft = CredentialDraft::new(VECTOR_ISSUER, "DigitalVeteranCard");
    draft.holder = Some(holder_did);
    draft.subject = veteran_card_subject();
    draft.name = Some("HM Armed Forces Veteran Card".into());
    draft.description = Some("HM Armed Forces Veteran Card".into());
    draft.valid_until = Some(ISSUED_AT + 365 * DAY);
    draft.expected_update = Some(ISSUED_AT + 330 * DAY);

    let valid_es = jwt_vc::issue(&draft, &kid(&es), &es, ISSUED_AT)?;
    let valid_ed = jwt_vc::issue(&draft, &kid(&ed), &ed, ISSUED_AT)?;
    let payload = govcred::jose::Jws::decode(&valid_ed)?.payload().to_vec();
    let tampered_payload = String::from_utf8_lossy(&payload).replace("25057386", "99999999");
    let mut evil = draft.clone();
    evil.issuer = "https://evil.example".into();
    let header = |alg: &str, extra: Value| {
        let mut h = json!({"alg": alg, "typ": "vc+jwt", "cty": "vc", "kid": kid(&es)});
        if let (Some(h), Some(e)) = (h.as_object_mut(), extra.as_object()) {
            h.extend(e.clone());
        }
        h
    };
    let sign_with_header =
        |extra: serde_json::Map<String, Value>, key: &SoftwareKey| -> Result<String, CliError> {
            Ok(govcred::jose::sign_compact(extra, &payload, key)?)
        };
    let hdr = |v: Value| v.as_object().cloned().unwrap_or_default();
    let public_jwk_bytes = es.public_jwk().to_json();

    // (name, token, verify-at, description)
    let at = ISSUED_AT + DAY;
    let cases: Vec<(&str, String, i64, &str)> = vec![
        (
            "valid-es256",
            valid_es.clone(),
            at,
            "GOV.UK-profile Veteran Card, ES256, did:web kid",
        ),
        (
            "valid-eddsa",
            valid_ed.clone(),
            at,
            "the same credential signed with EdDSA (deterministic: reproducible byte for byte)",
        ),
        (
            "expired",
            valid_ed.clone(),
            ISSUED_AT + 366 * DAY,
            "valid-eddsa checked a day after validUntil",
        ),
        (
            "not-yet-valid",
            valid_ed.clone(),
            ISSUED_AT - DAY,
            "valid-eddsa checked a day before validFrom",
        ),
        (
            "tampered-payload",
            with_payload(&valid_ed, tampered_payload.as_bytes()),
            at,
            "serviceNumber changed after signing",
        ),
        (
            "wrong-key",
            jwt_vc::issue(&draft, &kid(&es), &rogue, ISSUED_AT)?,
            at,
            "signed by a key that is not the one its kid names",
        ),
        (
            "alg-none",
            forged(&header("none", json!({})), &payload, None),
            at,
            "unsecured JWT (alg none, empty signature)",
        ),
        (
            "alg-hs256-public-key",
            forged(
                &header("HS256", json!({})),
                &payload,
                Some(public_jwk_bytes.as_bytes()),
            ),
            at,
            "HMAC with the issuer's public JWK as secret (key confusion)",
        ),
        (
            "unknown-kid",
            sign_with_header(
                hdr(json!({"typ": "vc+jwt", "cty": "vc", "kid": "did:web:unknown.example#k1"})),
                &es,
            )?,
            at,
            "kid names a did:web the verifier has no document for",
        ),
        (
            "crit-unknown",
            sign_with_header(
                hdr(
                    json!({"typ": "vc+jwt", "cty": "vc", "kid": kid(&ed), "crit": ["urn:example:policy"], "urn:example:policy": 1}),
                ),
                &ed,
            )?,
            at,
            "crit names a header parameter the verifier does not understand",
        ),
        (
            "wrong-typ",
            sign_with_header(hdr(json!({"typ": "JWT", "kid": kid(&ed)})), &ed)?,
            at,
            "typ JWT instead of vc+jwt",
        ),
        (
            "issuer-mismatch",
            jwt_vc::issue(&evil, &kid(&ed), &ed, ISSUED_AT)?,
            at,
            "issuer claims another origin than the did:web whose key signed",
        ),
        (
            "truncated",
            valid_ed[..valid_ed.len() - 10].to_string(),
            at,
            "the last 10 characters cut off",
        ),
    ];

    let mut trust = TrustStore::new();
    trust.add_did_document(&doc)?;
    let mut manifest = Vec::new();
    for (name, token, at, description) in &cases {
        files::write(&dir.join(format!("{name}.jwt")), token.as_bytes())?;
        let verifier = Verifier::new(trust.clone()).with_clock(Arc::new(FixedClock::new(*at)));
        let report = verifier.verify(token.as_bytes());
        write_json(
            &dir.join(format!("expected/{name}.report.json")),
            &serde_json::to_value(&report).unwrap_or_default(),
        )?;
        manifest.push(json!({
            "name": name,
            "description": description,
            "credential": format!("{name}.jwt"),
            "verify_at": datetime::format(*at),
            "trusted_did_documents": ["did.json"],
            "expected_valid": report.valid,
            "expected_outcome": report.outcome,
            "expected_error_codes": report.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
            "expected_report": format!("expected/{name}.report.json"),
            "reproducible": header_alg(token).as_deref() != Some("ES256"),
        }));
    }
    write_json(
        &dir.join("manifest.json"),
        &json!({
            "generator": "govcred vectors --out test-vectors",
            "issuer": VECTOR_ISSUER,
            "issued_at": datetime::format(ISSUED_AT),
            "cases": manifest,
        }),
    )?;
    println!("wrote {} cases to {}", cases.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}
