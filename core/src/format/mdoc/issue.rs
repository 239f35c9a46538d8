//! Issuing an mdoc `IssuerSigned` (the department side).
//!
//! Output follows the GOV.UK profile (§4 of the profile): deterministic CBOR (definite
//! lengths, map keys in bytewise order of their encoding), IssuerSignedItems with
//! 16-byte random salts and non-sequential digest IDs, full-dates as tag 1004,
//! `validityInfo` as tag 0 date-times with whole seconds, an MSO with SHA-256 value
//! digests, the holder's COSE_Key, `keyAuthorizations` for every namespace and an
//! optional status-list reference, signed as a COSE_Sign1 with protected header exactly
//! `{1: -7}` and unprotected header exactly `{33: <DS certificate>}`. Signing goes
//! through [`crate::Signer`] (bytes to sign → signature), so the DS key can live in an HSM.

use ciborium::value::Value as Cbor;
use serde_json::{Map, Value as Json};

use crate::crypto::{sha256, Alg, VerifyingKey};
use crate::datetime;
use crate::error::{Error, Result};
use crate::platform::Signer;
use crate::x509::Certificate;

/// An mdoc to issue.
#[derive(Clone, Debug)]
pub struct MdocDraft {
    /// The doctype, e.g. `org.iso.18013.5.1.mDL`.
    pub doctype: String,
    /// Claims as JSON `{namespace: {element: value}}`. Strings `YYYY-MM-DD` under
    /// element names ending in `date` (`birth_date`, `expiry_date`, …, also inside
    /// `driving_privileges`) become full-dates (tag 1004); `portrait_capture_date` a
    /// tdate (tag 0); `portrait`, `signature_usual_mark` and `biometric_template_*`
    /// strings are base64 or base64url and become byte strings; any value can be forced
    /// with `{"full-date": "YYYY-MM-DD"}`, `{"tdate": "RFC 3339"}` or
    /// `{"bytes": "<base64>"}`; integers, booleans, arrays and other objects map to
    /// their CBOR forms.
    pub claims: Map<String, Json>,
    /// The holder's device key (P-256), bound as `deviceKeyInfo.deviceKey`.
    pub device_key: VerifyingKey,
    /// `validityInfo.validFrom` (Unix seconds).
    pub valid_from: i64,
    /// `validityInfo.validUntil` (Unix seconds).
    pub valid_until: i64,
    /// `validityInfo.expectedUpdate`, if any.
    pub expected_update: Option<i64>,
    /// Status list reference `(idx, uri)`, if any.
    pub status: Option<(usize, String)>,
    /// Derive salts and digest IDs from this seed instead of the system RNG. Only for
    /// reproducible test vectors: a production issuer must leave it `None`, or salts
    /// become guessable and undisclosed elements can be brute-forced from their digests.
    pub test_only_salt_seed: Option<[u8; 32]>,
}

impl MdocDraft {
    /// A draft for `doctype` with `claims` (`{namespace: {element: value}}`), bound to
    /// `device_key`, valid from `valid_from` to `valid_until` (Unix seconds); no
    /// expected update, no status reference, random salts. Set the other fields after.
    pub fn new(
        doctype: impl Into<String>,
        claims: Map<String, Json>,
        device_key: VerifyingKey,
        valid_from: i64,
        valid_until: i64,
    ) -> Self {
        MdocDraft {
            doctype: doctype.into(),
            claims,
            device_key,
            valid_from,
            valid_until,
            expected_update: None,
            status: None,
            test_only_salt_seed: None,
        }
    }
}

/// Salts and digest IDs: the system RNG, or a seed (test vectors only).
struct Randomness {
    seed: Option<[u8; 32]>,
    counter: u64,
}

impl Randomness {
    fn bytes16(&mut self) -> [u8; 16] {
        match self.seed {
            None => rand::random::<[u8; 16]>(),
            Some(seed) => {
                self.counter += 1;
                let mut input = seed.to_vec();
                input.extend_from_slice(&self.counter.to_be_bytes());
                let d = sha256(&input);
                let mut out = [0u8; 16];
                out.copy_from_slice(&d[..16]);
                out
            }
        }
    }

    fn u64(&mut self) -> u64 {
        let b = self.bytes16();
        u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }
}

fn text(s: &str) -> Cbor {
    Cbor::Text(s.to_string())
}

fn encode(v: &Cbor) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out)
        .map_err(|e| Error::malformed("mdoc encoding", e.to_string()))?;
    Ok(out)
}

/// Deterministic CBOR (RFC 8949 §4.2.1): map keys sorted by their encoded bytes.
fn canonical(v: Cbor) -> Result<Cbor> {
    Ok(match v {
        Cbor::Map(entries) => {
            let mut keyed = entries
                .into_iter()
                .map(|(k, v)| Ok((encode(&k)?, canonical(k)?, canonical(v)?)))
                .collect::<Result<Vec<_>>>()?;
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            Cbor::Map(keyed.into_iter().map(|(_, k, v)| (k, v)).collect())
        }
        Cbor::Array(items) => Cbor::Array(items.into_iter().map(canonical).collect::<Result<_>>()?),
        Cbor::Tag(t, inner) => Cbor::Tag(t, Box::new(canonical(*inner)?)),
        other => other,
    })
}

fn is_full_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Base64 (standard or URL-safe alphabet, padded or not) to bytes.
fn any_base64(name: &str, s: &str) -> Result<Vec<u8>> {
    use base64::Engine;
    let trimmed = s.trim().trim_end_matches('=');
    if let Ok(b) = crate::b64::decode(trimmed, "mdoc byte string") {
        return Ok(b);
    }
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|_| Error::claim(name, "must be base64 or base64url text (a byte string)"))
}

/// mDL elements (ISO 18013-5 7.2.1) whose value is a byte string.
fn is_bytes_element(name: &str) -> bool {
    name == "portrait" || name == "signature_usual_mark" || name.starts_with("biometric_template_")
}

/// mDL elements whose value is a `tdate` (date-time).
fn is_tdate_element(name: &str) -> bool {
    name == "portrait_capture_date"
}

/// A value forced to a CBOR type: `{"full-date": "YYYY-MM-DD"}`, `{"tdate": "RFC 3339"}`
/// or `{"bytes": "<base64>"}`.
fn forced(name: &str, m: &Map<String, Json>) -> Result<Option<Cbor>> {
    let (kind, value) = match m.iter().next() {
        Some((k, Json::String(v))) if m.len() == 1 => (k.as_str(), v),
        _ => return Ok(None),
    };
    Ok(Some(match kind {
        "full-date" if is_full_date(value) => Cbor::Tag(1004, Box::new(text(value))),
        "full-date" => return Err(Error::claim(name, "a full-date must be YYYY-MM-DD")),
        "tdate" => tdate(datetime::parse(value, "tdate")?),
        "bytes" => Cbor::Bytes(any_base64(name, value)?),
        _ => return Ok(None),
    }))
}

/// JSON claim value → CBOR: `{"full-date"|"tdate"|"bytes": text}` force a type; for
/// the mDL elements, `*date` strings `YYYY-MM-DD` become full-dates (tag 1004, also
/// inside `driving_privileges`), `portrait_capture_date` a tdate (tag 0),
/// `portrait` / `signature_usual_mark` / `biometric_template_*` (base64 or base64url)
/// byte strings.
fn to_cbor(name: &str, v: &Json) -> Result<Cbor> {
    Ok(match v {
        Json::Null => Cbor::Null,
        Json::Bool(b) => Cbor::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Cbor::Integer(i.into()),
            (_, Some(u), _) => Cbor::Integer(u.into()),
            (_, _, Some(f)) => Cbor::Float(f),
            _ => return Err(Error::claim(name, "number out of range")),
        },
        Json::String(s) if is_bytes_element(name) => Cbor::Bytes(any_base64(name, s)?),
        Json::String(s) if is_tdate_element(name) && !is_full_date(s) => {
            tdate(datetime::parse(s, "portrait_capture_date")?)
        }
        Json::String(s) if name.ends_with("date") && is_full_date(s) => {
            Cbor::Tag(1004, Box::new(text(s)))
        }
        Json::String(s) => text(s),
        Json::Array(items) => Cbor::Array(
            items
                .iter()
                .map(|i| to_cbor(name, i))
                .collect::<Result<_>>()?,
        ),
        Json::Object(m) => match forced(name, m)? {
            Some(v) => v,
            None => Cbor::Map(
                m.iter()
                    .map(|(k, v)| Ok((text(k), to_cbor(k, v)?)))
                    .collect::<Result<_>>()?,
            ),
        },
    })
}

fn tdate(unix: i64) -> Cbor {
    Cbor::Tag(0, Box::new(text(&datetime::format(unix))))
}

/// Issue `draft` as an `IssuerSigned` (CBOR bytes) signed by `signer`, the key of the
/// Document Signer certificate `ds`, at `now`.
pub fn issue(
    draft: &MdocDraft,
    ds: &Certificate,
    signer: &dyn Signer,
    now: i64,
) -> Result<Vec<u8>> {
    if signer.alg() != Alg::ES256 || draft.device_key.alg() != Alg::ES256 {
        return Err(Error::KeyAlgMismatch {
            key: "Document Signer or device key".into(),
            alg: "ES256 (P-256)".into(),
        });
    }
    if ds.public_key()? != VerifyingKey::from_jwk(&signer.public_jwk())? {
        return Err(Error::InvalidKey(
            "the signer's key is not the Document Signer certificate's key".into(),
        ));
    }
    if draft.valid_until <= draft.valid_from {
        return Err(Error::claim(
            "validityInfo",
            "validUntil must be after validFrom",
        ));
    }
    if draft.claims.is_empty() {
        return Err(Error::claim(
            "nameSpaces",
            "an mdoc needs at least one namespace",
        ));
    }
    // Digest IDs: a random start below 2^30 and random steps of 1–98 (not sequential).
    let mut rng = Randomness {
        seed: draft.test_only_salt_seed,
        counter: 0,
    };
    let mut digest_id: u64 = rng.u64() % (1 << 30);
    let mut name_spaces = Vec::new();
    let mut value_digests = Vec::new();
    for (ns, elements) in &draft.claims {
        let elements = elements.as_object().ok_or_else(|| {
            Error::claim(ns.as_str(), "a namespace must be an object of elements")
        })?;
        let mut items = Vec::new();
        let mut digests = Vec::new();
        for (name, value) in elements {
            digest_id += 1 + rng.u64() % 98;
            let item = canonical(Cbor::Map(vec![
                (text("digestID"), Cbor::Integer(digest_id.into())),
                (text("random"), Cbor::Bytes(rng.bytes16().to_vec())),
                (text("elementIdentifier"), text(name)),
                (text("elementValue"), to_cbor(name, value)?),
            ]))?;
            let tagged = Cbor::Tag(24, Box::new(Cbor::Bytes(encode(&item)?)));
            digests.push((
                Cbor::Integer(digest_id.into()),
                Cbor::Bytes(sha256(&encode(&tagged)?).to_vec()),
            ));
            items.push(tagged);
        }
        name_spaces.push((text(ns), Cbor::Array(items)));
        value_digests.push((text(ns), Cbor::Map(digests)));
    }
    let jwk = draft.device_key.jwk();
    let coord = |c: &Option<String>| -> Result<Cbor> {
        Ok(Cbor::Bytes(crate::b64::decode(
            c.as_deref().unwrap_or_default(),
            "device key",
        )?))
    };
    let device_key = Cbor::Map(vec![
        (Cbor::Integer(1.into()), Cbor::Integer(2.into())),
        (Cbor::Integer((-1).into()), Cbor::Integer(1.into())),
        (Cbor::Integer((-2).into()), coord(&jwk.x)?),
        (Cbor::Integer((-3).into()), coord(&jwk.y)?),
    ]);
    let mut validity = vec![
        (text("signed"), tdate(now)),
        (text("validFrom"), tdate(draft.valid_from)),
        (text("validUntil"), tdate(draft.valid_until)),
    ];
    if let Some(e) = draft.expected_update {
        validity.push((text("expectedUpdate"), tdate(e)));
    }
    let mut mso = vec![
        (text("version"), text("1.0")),
        (text("digestAlgorithm"), text("SHA-256")),
        (text("valueDigests"), Cbor::Map(value_digests)),
        (
            text("deviceKeyInfo"),
            Cbor::Map(vec![
                (text("deviceKey"), device_key),
                (
                    text("keyAuthorizations"),
                    Cbor::Map(vec![(
                        text("nameSpaces"),
                        Cbor::Array(draft.claims.keys().map(|k| text(k)).collect()),
                    )]),
                ),
            ]),
        ),
        (text("docType"), text(&draft.doctype)),
        (text("validityInfo"), Cbor::Map(validity)),
    ];
    if let Some((idx, uri)) = &draft.status {
        mso.push((
            text("status"),
            Cbor::Map(vec![(
                text("status_list"),
                Cbor::Map(vec![
                    (text("idx"), Cbor::Integer((*idx as u64).into())),
                    (text("uri"), text(uri)),
                ]),
            )]),
        ));
    }
    let mso = canonical(Cbor::Map(mso))?;
    let payload = encode(&Cbor::Tag(24, Box::new(Cbor::Bytes(encode(&mso)?))))?;
    let protected = encode(&Cbor::Map(vec![(
        Cbor::Integer(1.into()),
        Cbor::Integer((-7).into()),
    )]))?;
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
    let signature = signer.sign(&tbs)?;
    let issuer_auth = Cbor::Array(vec![
        Cbor::Bytes(protected),
        Cbor::Map(vec![(
            Cbor::Integer(33.into()),
            Cbor::Bytes(ds.der().to_vec()),
        )]),
        Cbor::Bytes(payload),
        Cbor::Bytes(signature),
    ]);
    let issuer_signed = canonical(Cbor::Map(vec![
        (text("nameSpaces"), Cbor::Map(name_spaces)),
        (text("issuerAuth"), issuer_auth),
    ]))?;
    encode(&issuer_signed)
}
