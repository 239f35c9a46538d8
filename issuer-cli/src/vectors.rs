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
    seeded_in("test vector", label, alg)
}

/// A key from a public seed `"govcred {set} key: {label}"`, its kid the thumbprint.
pub(crate) fn seeded_in(set: &str, label: &str, alg: Alg) -> Result<SoftwareKey, CliError> {
    let seed = sha256(format!("govcred {set} key: {label}").as_bytes());
    let key = SoftwareKey::from_secret_bytes(alg, &seed)?;
    let kid = key.verifying_key().thumbprint();
    Ok(key.with_kid(kid))
}

pub(crate) fn write_json(path: &Path, v: &Value) -> Result<(), CliError> {
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
    let cases: Vec<Case> = cases
        .into_iter()
        .map(|(name, token, at, description)| Case {
            name,
            token,
            at,
            description,
            expect_kb: None,
        })
        .collect();
    write_cases(
        &dir,
        &cases,
        &trust,
        json!({"trusted_did_documents": ["did.json"]}),
    )?;
    sd_jwt_vectors(&a.out.join("sd-jwt-vc"), &holder)?;
    crate::negative::write(&a.out.join("negative"))?;
    mdoc_vectors(&a.out.join("mdoc"))?;
    println!("wrote the vectors to {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// One published case: a credential, when to check it, and (for presentations) the
/// audience and nonce the verifier expects.
struct Case {
    name: &'static str,
    token: String,
    at: i64,
    description: &'static str,
    expect_kb: Option<(&'static str, &'static str)>,
}

/// Write each case's credential and expected report, and the manifest.
fn write_cases(
    dir: &Path,
    cases: &[Case],
    trust: &TrustStore,
    trust_files: Value,
) -> Result<(), CliError> {
    let mut manifest = Vec::new();
    for c in cases {
        let ext = if c.token.contains('~') {
            "sdjwt"
        } else {
            "jwt"
        };
        files::write(&dir.join(format!("{}.{ext}", c.name)), c.token.as_bytes())?;
        let mut verifier = Verifier::new(trust.clone()).with_clock(Arc::new(FixedClock::new(c.at)));
        if let Some((aud, nonce)) = c.expect_kb {
            verifier = verifier.with_key_binding(aud, nonce);
        }
        let report = verifier.verify(c.token.as_bytes());
        write_json(
            &dir.join(format!("expected/{}.report.json", c.name)),
            &serde_json::to_value(&report).unwrap_or_default(),
        )?;
        let mut entry = json!({
            "name": c.name,
            "description": c.description,
            "credential": format!("{}.{ext}", c.name),
            "verify_at": datetime::format(c.at),
            "expected_valid": report.valid,
            "expected_outcome": report.outcome,
            "expected_error_codes": report.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
            "expected_report": format!("expected/{}.report.json", c.name),
            "reproducible": header_alg(&c.token).as_deref() != Some("ES256"),
        });
        if let (Some(obj), Some(t)) = (entry.as_object_mut(), trust_files.as_object()) {
            obj.extend(t.clone());
            if let Some((aud, nonce)) = c.expect_kb {
                obj.insert("expected_audience".into(), aud.into());
                obj.insert("expected_nonce".into(), nonce.into());
            }
        }
        manifest.push(entry);
    }
    write_json(
        &dir.join("manifest.json"),
        &json!({
            "generator": "govcred vectors --out test-vectors",
            "issued_at": datetime::format(ISSUED_AT),
            "cases": manifest,
        }),
    )
}

/// `test-vectors/sd-jwt-vc/`: SD-JWT VCs and presentations with fixed keys and
/// seeded salts (EdDSA throughout, so everything but the ES256 case is reproducible).
fn sd_jwt_vectors(dir: &Path, holder_es: &SoftwareKey) -> Result<(), CliError> {
    use govcred::format::sd_jwt::{self, KeyBinding, SdJwt, SdJwtDraft};
    let issuer = seeded("sd-jwt issuer EdDSA", Alg::EdDSA)?;
    let issuer_es = seeded("sd-jwt issuer ES256", Alg::ES256)?;
    let holder = seeded("sd-jwt holder EdDSA", Alg::EdDSA)?;
    let _ = holder_es;
    for (name, k) in [
        ("issuer-eddsa", &issuer),
        ("issuer-es256", &issuer_es),
        ("holder-eddsa", &holder),
    ] {
        write_json(
            &dir.join(format!("keys/{name}.private.jwk.json")),
            &serde_json::to_value(k.to_private_jwk()?).unwrap_or_default(),
        )?;
    }
    let mut draft = SdJwtDraft::new(VECTOR_ISSUER, "urn:example:govcred:pid:1");
    draft.claims = json!({
        "given_name": "Sarah", "family_name": "Edwards", "birthdate": "1985-10-18",
        "address": {"street_address": "1 High Street", "locality": "Leeds", "country": "GB"},
        "nationalities": ["GB", "IE"], "age_over_18": true
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    draft.disclosable = [
        "given_name",
        "family_name",
        "birthdate",
        "address",
        "address.street_address",
        "address.locality",
        "nationalities.0",
        "nationalities.1",
        "age_over_18",
    ]
    .map(String::from)
    .to_vec();
    draft.decoys = 2;
    draft.holder_key = Some(holder.public_jwk());
    draft.expires_at = Some(ISSUED_AT + 365 * DAY);
    draft.test_only_salt_seed = Some(sha256(b"govcred test vector salts"));
    let issued = sd_jwt::issue(&draft, None, &issuer, ISSUED_AT)?;
    let issued_es = sd_jwt::issue(&draft, None, &issuer_es, ISSUED_AT)?;
    let (aud, nonce) = ("https://verifier.vectors.govcred.example", "vector-nonce-1");
    let kb = KeyBinding {
        audience: aud.into(),
        nonce: nonce.into(),
        issued_at: ISSUED_AT + DAY,
    };
    let held = SdJwt::parse(&issued)?;
    let pres = held.present(
        &["given_name", "address.locality", "nationalities.1"],
        Some((&kb, &holder as &dyn Signer)),
    )?;
    let all: Vec<&str> = draft.disclosable.iter().map(String::as_str).collect();
    let pres_all = held.present(&all, Some((&kb, &holder as &dyn Signer)))?;
    // A disclosure whose value was changed after issuance: its digest is nowhere.
    let first = held.disclosures[0].clone();
    let forged = govcred::b64::encode(json!([first.salt, first.name, "Mallory"]).to_string());
    let tampered = pres.replacen(
        &held
            .disclosures
            .iter()
            .find(|d| pres.contains(&d.encoded))
            .map(|d| d.encoded.clone())
            .unwrap_or_default(),
        &forged,
        1,
    );
    let at = ISSUED_AT + DAY;
    let cases = vec![
        Case {
            name: "issued",
            token: issued.clone(),
            at,
            description: "SD-JWT VC as issued (every disclosure, no key binding)",
            expect_kb: None,
        },
        Case {
            name: "issued-es256",
            token: issued_es,
            at,
            description: "the same with an ES256 issuer key",
            expect_kb: None,
        },
        Case {
            name: "presentation",
            token: pres.clone(),
            at,
            description:
                "given_name, address.locality and nationalities.1 disclosed, with a KB-JWT",
            expect_kb: Some((aud, nonce)),
        },
        Case {
            name: "presentation-all",
            token: pres_all,
            at,
            description: "every claim disclosed, with a KB-JWT",
            expect_kb: Some((aud, nonce)),
        },
        Case {
            name: "presentation-replayed",
            token: pres.clone(),
            at,
            description: "the presentation checked by a verifier that issued another nonce",
            expect_kb: Some((aud, "vector-nonce-2")),
        },
        Case {
            name: "presentation-stale",
            token: pres.clone(),
            at: at + 3600,
            description: "the presentation an hour after its KB-JWT was made",
            expect_kb: Some((aud, nonce)),
        },
        Case {
            name: "presentation-tampered-disclosure",
            token: tampered,
            at,
            description: "a disclosed value changed after issuance",
            expect_kb: Some((aud, nonce)),
        },
        Case {
            name: "key-binding-missing",
            token: issued.clone(),
            at,
            description: "no KB-JWT where the verifier requires one",
            expect_kb: Some((aud, nonce)),
        },
        Case {
            name: "expired",
            token: issued,
            at: ISSUED_AT + 366 * DAY,
            description: "checked after exp",
            expect_kb: None,
        },
    ];
    let mut trust = TrustStore::new();
    trust.add_jwk(&issuer.public_jwk())?;
    trust.add_jwk(&issuer_es.public_jwk())?;
    for (name, k) in [("issuer-eddsa", &issuer), ("issuer-es256", &issuer_es)] {
        write_json(
            &dir.join(format!("keys/{name}.public.jwk.json")),
            &serde_json::to_value(k.public_jwk()).unwrap_or_default(),
        )?;
    }
    write_cases(
        dir,
        &cases,
        &trust,
        json!({"trusted_jwks": ["keys/issuer-eddsa.public.jwk.json", "keys/issuer-es256.public.jwk.json"]}),
    )
}

/// `COSE_Key` (EC2, P-256) CBOR for a P-256 key.
fn cose_key(key: &SoftwareKey) -> Result<Vec<u8>, CliError> {
    let jwk = key.public_jwk();
    let coord = |c: &Option<String>| b64::decode(c.as_deref().unwrap_or_default(), "coordinate");
    let mut out = vec![0xa4, 0x01, 0x02, 0x20, 0x01, 0x21, 0x58, 0x20];
    out.extend(coord(&jwk.x)?);
    out.extend([0x22, 0x58, 0x20]);
    out.extend(coord(&jwk.y)?);
    Ok(out)
}

/// `#6.24(bstr .cbor item)` for an item shorter than 65 536 bytes.
fn tag24(item: &[u8]) -> Vec<u8> {
    let mut out = vec![0xd8, 0x18];
    match item.len() {
        n @ 0..=23 => out.push(0x40 | n as u8),
        n @ 24..=255 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(item);
    out
}

/// An ISO 18013-5 QR-engagement SessionTranscript `[DeviceEngagementBytes,
/// EReaderKeyBytes, null]` with the given ephemeral keys.
fn session_transcript(e_device: &SoftwareKey, e_reader: &SoftwareKey) -> Result<Vec<u8>, CliError> {
    // DeviceEngagement {0: "1.0", 1: [1, EDeviceKeyBytes]}
    let mut engagement = vec![0xa2, 0x00, 0x63, b'1', b'.', b'0', 0x01, 0x82, 0x01];
    engagement.extend(tag24(&cose_key(e_device)?));
    let mut t = vec![0x83];
    t.extend(tag24(&engagement));
    t.extend(tag24(&cose_key(e_reader)?));
    t.push(0xf6);
    Ok(t)
}

/// One published mdoc case.
struct MdocCase {
    name: &'static str,
    file: &'static str,
    at: i64,
    iaca: &'static str,
    transcript: Option<&'static str>,
    description: &'static str,
}

/// `test-vectors/mdoc/`: an ISO 18013-5 mDL with fixed keys, seeded salts and fixed
/// times: IACA and DS certificates, the IssuerSigned as GOV.UK delivers it (base64url),
/// a SessionTranscript, a DeviceResponse disclosing three elements, and rejection cases.
/// ECDSA signatures (certificates, issuerAuth, deviceSignature) differ between runs;
/// everything else is reproduced byte for byte.
fn mdoc_vectors(dir: &Path) -> Result<(), CliError> {
    use govcred::format::mdoc::{self, MdocDraft, SessionTranscript};
    use govcred::pki;
    let iaca_key = seeded("mdoc IACA", Alg::ES256)?;
    let ds_key = seeded("mdoc DS", Alg::ES256)?;
    let rogue_key = seeded("mdoc rogue IACA", Alg::ES256)?;
    let holder = seeded("mdoc holder device key", Alg::ES256)?;
    let e_device = seeded("mdoc ephemeral device key", Alg::ES256)?;
    let e_reader = seeded("mdoc ephemeral reader key", Alg::ES256)?;
    for (name, k) in [
        ("iaca", &iaca_key),
        ("ds", &ds_key),
        ("rogue-iaca", &rogue_key),
        ("holder", &holder),
        ("ephemeral-device", &e_device),
        ("ephemeral-reader", &e_reader),
    ] {
        write_json(
            &dir.join(format!("keys/{name}.private.jwk.json")),
            &serde_json::to_value(k.to_private_jwk()?).unwrap_or_default(),
        )?;
    }
    let iaca = pki::create_iaca_with_key(
        &iaca_key,
        "GB",
        "govcred test vectors IACA",
        Some("https://vectors.govcred.example"),
        ISSUED_AT - 30 * DAY,
        ISSUED_AT + 3000 * DAY,
    )?;
    let rogue = pki::create_iaca_with_key(
        &rogue_key,
        "GB",
        "govcred test vectors IACA",
        None,
        ISSUED_AT - 30 * DAY,
        ISSUED_AT + 3000 * DAY,
    )?;
    let ds = pki::issue_document_signer_with_key(
        &iaca,
        &iaca_key,
        &ds_key,
        "GB",
        "govcred test vectors DS",
        ISSUED_AT - DAY,
        ISSUED_AT + 400 * DAY,
    )?;
    files::write(&dir.join("iaca.pem"), iaca.to_pem().as_bytes())?;
    files::write(&dir.join("rogue-iaca.pem"), rogue.to_pem().as_bytes())?;
    files::write(&dir.join("ds.pem"), ds.to_pem().as_bytes())?;

    let claims = json!({
        "org.iso.18013.5.1": {
            "family_name": "Edwards", "given_name": "Sarah", "birth_date": "1985-10-18",
            "issue_date": "2026-01-01", "expiry_date": "2036-01-01",
            "issuing_country": "GB", "issuing_authority": "DVLA",
            "document_number": "EDWAR851018S99AB", "age_over_18": true, "age_over_21": true,
            "portrait": b64::encode([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xff, 0xd9]),
            "un_distinguishing_sign": "UK",
            "driving_privileges": [
                {"vehicle_category_code": "B", "issue_date": "2010-01-01", "expiry_date": "2036-01-01"}
            ]
        },
        "org.iso.18013.5.1.GB": {"welsh_licence": false}
    });
    write_json(&dir.join("claims.json"), &claims)?;
    let draft = MdocDraft {
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims: claims.as_object().cloned().unwrap_or_default(),
        device_key: holder.verifying_key().clone(),
        valid_from: ISSUED_AT,
        valid_until: ISSUED_AT + 365 * DAY,
        expected_update: Some(ISSUED_AT + 330 * DAY),
        status: None,
        test_only_salt_seed: Some(sha256(b"govcred mdoc test vector salts")),
    };
    let issued = mdoc::issue(&draft, &ds, &ds_key, ISSUED_AT)?;
    files::write(
        &dir.join("issuer-signed.b64"),
        b64::encode(&issued).as_bytes(),
    )?;

    let transcript_bytes = session_transcript(&e_device, &e_reader)?;
    files::write(&dir.join("session-transcript.cbor"), &transcript_bytes)?;
    let other = session_transcript(&e_device, &holder)?;
    files::write(&dir.join("session-transcript-other.cbor"), &other)?;
    let transcript = SessionTranscript::from_cbor(&transcript_bytes)?;
    let disclose = [
        ("org.iso.18013.5.1", "family_name"),
        ("org.iso.18013.5.1", "age_over_18"),
        ("org.iso.18013.5.1", "driving_privileges"),
    ];
    let response = mdoc::present(&issued, &disclose, &transcript, &holder)?;
    files::write(&dir.join("device-response.cbor"), &response)?;
    // "Edwards" → "Edwardz" inside the disclosed IssuerSignedItem.
    let at = response
        .windows(7)
        .position(|w| w == b"Edwards")
        .ok_or_else(|| CliError::input("vector: family_name not found"))?;
    let mut tampered = response.clone();
    tampered[at + 6] = b'z';
    files::write(&dir.join("device-response-tampered-value.cbor"), &tampered)?;

    let at = ISSUED_AT + DAY;
    let cases = [
        MdocCase { name: "issuer-signed", file: "issuer-signed.b64", at, iaca: "iaca.pem", transcript: None,
            description: "the IssuerSigned as issued (base64url, GOV.UK's form), every element" },
        MdocCase { name: "device-response", file: "device-response.cbor", at, iaca: "iaca.pem",
            transcript: Some("session-transcript.cbor"),
            description: "DeviceResponse disclosing family_name, age_over_18 and driving_privileges, deviceSignature over session-transcript.cbor" },
        MdocCase { name: "device-response-no-transcript", file: "device-response.cbor", at, iaca: "iaca.pem",
            transcript: None, description: "the DeviceResponse without a SessionTranscript: device authentication not checked" },
        MdocCase { name: "device-response-other-transcript", file: "device-response.cbor", at, iaca: "iaca.pem",
            transcript: Some("session-transcript-other.cbor"),
            description: "the DeviceResponse checked against another session's transcript" },
        MdocCase { name: "device-response-expired", file: "device-response.cbor", at: ISSUED_AT + 366 * DAY,
            iaca: "iaca.pem", transcript: Some("session-transcript.cbor"), description: "checked a day after the MSO validUntil" },
        MdocCase { name: "device-response-tampered-value", file: "device-response-tampered-value.cbor", at,
            iaca: "iaca.pem", transcript: Some("session-transcript.cbor"),
            description: "family_name changed after issuance (digest mismatch)" },
        MdocCase { name: "device-response-wrong-iaca", file: "device-response.cbor", at, iaca: "rogue-iaca.pem",
            transcript: Some("session-transcript.cbor"),
            description: "verified against another IACA with the same name (DS chain does not verify)" },
    ];
    let mut manifest = Vec::new();
    for c in &cases {
        let mut trust = TrustStore::new();
        trust.add_root_certificates_pem(&files::read_text(&dir.join(c.iaca))?)?;
        let mut verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(c.at)));
        if let Some(t) = c.transcript {
            verifier = verifier.with_session_transcript(SessionTranscript::from_cbor(
                &files::read(&dir.join(t))?,
            )?);
        }
        let report = verifier.verify(&files::read(&dir.join(c.file))?);
        write_json(
            &dir.join(format!("expected/{}.report.json", c.name)),
            &serde_json::to_value(&report).unwrap_or_default(),
        )?;
        manifest.push(json!({
            "name": c.name,
            "description": c.description,
            "credential": c.file,
            "verify_at": datetime::format(c.at),
            "trusted_iacas": [c.iaca],
            "session_transcript": c.transcript,
            "expected_valid": report.valid,
            "expected_outcome": report.outcome,
            "expected_error_codes": report.errors.iter().map(|e| e.code).collect::<Vec<_>>(),
            "expected_report": format!("expected/{}.report.json", c.name),
            "reproducible": false,
        }));
    }
    write_json(
        &dir.join("manifest.json"),
        &json!({
            "generator": "govcred vectors --out test-vectors",
            "issued_at": datetime::format(ISSUED_AT),
            "doctype": "org.iso.18013.5.1.mDL",
            "disclosed": disclose.iter().map(|(ns, e)| format!("{ns}/{e}")).collect::<Vec<_>>(),
            "holder_key": "keys/holder.private.jwk.json",
            "cases": manifest,
        }),
    )
}
