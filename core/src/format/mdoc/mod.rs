//! ISO/IEC 18013-5 mdoc: issuing ([`issue`]), presenting ([`present`], see the `device`
//! module documentation on [`DeviceResponse`]) and verifying ([`verify_with`]) an
//! `IssuerSigned`, a `Document` or a `DeviceResponse`.
//!
//! What GOV.UK issuers return in `credentials[0].credential` is an `IssuerSigned`
//! structure, `{nameSpaces: {ns: [#6.24(bstr .cbor IssuerSignedItem)]}, issuerAuth:
//! COSE_Sign1}`, as CBOR bytes or as unpadded base64url text; [`verify`] takes either.
//!
//! - CBOR is read with definite **and** indefinite lengths (the GOV.UK Java issuer emits
//!   indefinite-length maps and arrays), with bounded nesting and size; every item is
//!   hashed over its tag-24 bytes exactly as received, never re-encoded.
//! - `issuerAuth`: COSE_Sign1 (untagged or tag 18), protected `alg` ES256 (-7) only,
//!   `x5chain` (label 33) with the Document Signer (DS) certificate first; the
//!   `Sig_structure` is built by `coset` and verified with the DS key by aws-lc-rs.
//! - The DS certificate must chain to a trusted IACA root (`TrustStore` roots) and carry
//!   the mDL DS extended key usage. A DS certificate that is itself in the trust store is
//!   accepted as pinned (its validity and EKU are still checked; no chain is built).
//! - Mobile Security Object: version `1.0`, `SHA-256` digests, `deviceKey` (EC2 P-256),
//!   `docType`, `validityInfo` (tag 0 dates), optional `status.status_list`.
//!
//! - Presentations (`Document`, `DeviceResponse`) add `doctype` (the Document's docType
//!   is the one the MSO signs) and `device_auth`: the ES256 `deviceSignature` is
//!   verified with the MSO `deviceKeyInfo` key over `DeviceAuthenticationBytes` built
//!   from the caller's [`SessionTranscript`]; without a transcript it is reported as not
//!   checked (`device_auth_unavailable`), never as passed. A `deviceMac` is checked when
//!   [`VerifyOptions::device_mac_key`] holds the session's EMacKey, else not checked.
//!
//! Claims are reported as JSON `{namespace: {element: value}}`: full-dates (tag 1004)
//! and tdates (tag 0) as strings, byte strings (the portrait) as base64url.

mod cbor;
mod device;
mod issue;
mod mso;

use std::borrow::Cow;

use cbor::{get_int, get_text, Item, Value};
pub use device::{
    device_authentication_bytes, element_path, parse_device_response, parse_document, present,
    DeviceAuth, DeviceResponse, DeviceSigned, Document, MacKey, SessionTranscript, VerifyOptions,
};
pub use issue::{issue, MdocDraft};
pub use mso::MobileSecurityObject;

use crate::crypto::{sha256, Alg};
use crate::error::{Error, Result};
use crate::report::{Format, VerificationReport};
use crate::trust::TrustStore;
use crate::x509::{self, Certificate, EKU_MDL_DS};

/// Largest input accepted (CBOR bytes or base64url text), in bytes.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

const WHAT: &str = "mdoc";

/// COSE header label of `alg`.
const COSE_ALG: i64 = 1;
/// COSE header label of `crit`.
const COSE_CRIT: i64 = 2;
/// COSE header label of `x5chain` (RFC 9360).
const COSE_X5CHAIN: i64 = 33;
/// COSE algorithm ES256.
const COSE_ES256: i64 = -7;
/// COSE algorithm ES384 (issuerAuth by a P-384 Document Signer; verification only).
const COSE_ES384: i64 = -35;

/// One `IssuerSignedItem`, with the exact bytes that are hashed.
#[derive(Clone, Debug)]
pub struct IssuerSignedItem {
    /// `digestID`.
    pub digest_id: u64,
    /// `elementIdentifier`.
    pub element_identifier: String,
    /// `elementValue` as JSON (dates as strings, byte strings as base64url).
    pub element_value: serde_json::Value,
    /// The whole `#6.24(bstr)` item, exactly as received: the digest input.
    pub tagged_bytes: Vec<u8>,
}

/// The issuer's COSE_Sign1 (`issuerAuth`), taken apart.
#[derive(Clone, Debug)]
pub struct IssuerAuth {
    /// The protected header, the bytes of the `bstr` as received.
    pub protected: Vec<u8>,
    /// The protected `alg`, if it is an integer.
    pub alg: Option<i64>,
    /// Labels of the protected `crit` member, if present.
    pub crit: Option<Vec<String>>,
    /// `x5chain`, Document Signer certificate first.
    pub x5chain: Vec<Certificate>,
    /// The payload (`MobileSecurityObjectBytes`).
    pub payload: Vec<u8>,
    /// The signature (`r‖s`).
    pub signature: Vec<u8>,
}

/// A parsed `IssuerSigned` structure (nothing verified yet).
#[derive(Clone, Debug)]
pub struct IssuerSigned {
    /// Namespaces in the order received, each with its items.
    pub name_spaces: Vec<(String, Vec<IssuerSignedItem>)>,
    /// `issuerAuth`.
    pub issuer_auth: IssuerAuth,
}

impl IssuerSigned {
    /// The claims as JSON: `{namespace: {elementIdentifier: elementValue}}`.
    pub fn claims_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for (ns, items) in &self.name_spaces {
            let mut elements = serde_json::Map::new();
            for item in items {
                elements.insert(item.element_identifier.clone(), item.element_value.clone());
            }
            out.insert(ns.clone(), serde_json::Value::Object(elements));
        }
        serde_json::Value::Object(out)
    }

    /// The Mobile Security Object carried by `issuerAuth`, parsed (signature not
    /// checked): docType, validity, `expectedUpdate`, device key, status reference.
    pub fn mobile_security_object(&self) -> Result<MobileSecurityObject> {
        mso::parse(&self.issuer_auth.payload)
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::malformed(WHAT, reason)
}

/// The CBOR bytes of `input`: CBOR itself (starts with a map) or base64url text.
fn input_bytes(input: &[u8]) -> Result<Cow<'_, [u8]>> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(Error::TooLarge {
            what: "mdoc (IssuerSigned, Document or DeviceResponse)",
            size: input.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    match input.first() {
        None => return Err(bad("the input is empty")),
        Some(0xa0..=0xbb | 0xbf) => return Ok(Cow::Borrowed(input)),
        Some(_) => {}
    }
    let text = std::str::from_utf8(input)
        .ok()
        .map(str::trim)
        .filter(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .ok_or_else(|| {
            bad("input is neither CBOR (an IssuerSigned, Document or DeviceResponse map) nor unpadded base64url text")
        })?;
    let bytes = crate::b64::decode(text, "mdoc")?;
    if !matches!(bytes.first(), Some(0xa0..=0xbb | 0xbf)) {
        return Err(bad(
            "the base64url text does not decode to a CBOR map (IssuerSigned, Document or DeviceResponse)",
        ));
    }
    Ok(Cow::Owned(bytes))
}

/// Whether `version` is one this library reads: ISO 18013-5 structures carry
/// `"1.0"`; later minor versions (`"1.1"`…) stay compatible by the standard's rule,
/// so any `1.<digits>` is accepted and anything else (another major version, stray
/// bytes) is refused.
pub(crate) fn is_supported_version(version: &str) -> bool {
    version
        .strip_prefix("1.")
        .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
}

/// Parse an `IssuerSigned` structure (CBOR bytes or unpadded base64url text). Nothing
/// is verified; malformed input gives [`Error::Malformed`], [`Error::InvalidBase64`] or
/// [`Error::TooLarge`].
pub fn parse(input: &[u8]) -> Result<IssuerSigned> {
    let bytes = input_bytes(input)?;
    parse_issuer_signed(&cbor::decode(&bytes, WHAT)?)
}

pub(crate) fn parse_issuer_signed(top: &Item<'_>) -> Result<IssuerSigned> {
    let top = top
        .as_map()
        .ok_or_else(|| bad("IssuerSigned must be a map"))?;
    let name_spaces = get_text(top, "nameSpaces", WHAT)?
        .ok_or_else(|| bad("IssuerSigned.nameSpaces is missing"))?;
    let issuer_auth = get_text(top, "issuerAuth", WHAT)?
        .ok_or_else(|| bad("IssuerSigned.issuerAuth is missing"))?;
    Ok(IssuerSigned {
        name_spaces: parse_name_spaces(name_spaces)?,
        issuer_auth: parse_issuer_auth(issuer_auth)?,
    })
}

fn parse_name_spaces(item: &Item<'_>) -> Result<Vec<(String, Vec<IssuerSignedItem>)>> {
    let map = item
        .as_map()
        .ok_or_else(|| bad("nameSpaces must be a map"))?;
    let mut out: Vec<(String, Vec<IssuerSignedItem>)> = Vec::with_capacity(map.len());
    for (ns, items) in map {
        let ns = ns
            .as_text()
            .ok_or_else(|| bad("nameSpaces keys must be text (namespace names)"))?;
        if out.iter().any(|(n, _)| n == ns) {
            return Err(bad(format!("nameSpaces has namespace {ns:?} twice")));
        }
        let items = items
            .as_array()
            .ok_or_else(|| bad(format!("nameSpaces[{ns:?}] must be an array")))?;
        let mut parsed: Vec<IssuerSignedItem> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let it = parse_item(item).map_err(|e| match e {
                Error::Malformed { what, reason } => Error::Malformed {
                    what,
                    reason: format!("nameSpaces[{ns:?}][{i}]: {reason}"),
                },
                other => other,
            })?;
            if parsed.iter().any(|p| p.digest_id == it.digest_id) {
                return Err(bad(format!(
                    "nameSpaces[{ns:?}] has digestID {} twice",
                    it.digest_id
                )));
            }
            parsed.push(it);
        }
        out.push((ns.to_string(), parsed));
    }
    Ok(out)
}

fn parse_item(item: &Item<'_>) -> Result<IssuerSignedItem> {
    let inner = item.untag(24).and_then(Item::as_bytes).ok_or_else(|| {
        bad(format!(
            "must be #6.24(bstr .cbor IssuerSignedItem), found {}",
            item.kind()
        ))
    })?;
    let decoded = cbor::decode(inner, WHAT)?;
    let map = decoded
        .as_map()
        .ok_or_else(|| bad("IssuerSignedItem must be a map"))?;
    let field = |name: &str| -> Result<&Item<'_>> {
        get_text(map, name, WHAT)?.ok_or_else(|| bad(format!("IssuerSignedItem.{name} is missing")))
    };
    let digest_id = field("digestID")?
        .as_uint()
        .ok_or_else(|| bad("IssuerSignedItem.digestID must be an unsigned integer"))?;
    field("random")?
        .as_bytes()
        .ok_or_else(|| bad("IssuerSignedItem.random must be a byte string"))?;
    let element_identifier = field("elementIdentifier")?
        .as_text()
        .ok_or_else(|| bad("IssuerSignedItem.elementIdentifier must be text"))?
        .to_string();
    let element_value = to_json(field("elementValue")?, 0)?;
    Ok(IssuerSignedItem {
        digest_id,
        element_identifier,
        element_value,
        tagged_bytes: item.raw.to_vec(),
    })
}

/// An element value as JSON.
fn to_json(item: &Item<'_>, depth: usize) -> Result<serde_json::Value> {
    use serde_json::Value as J;
    if depth > cbor::MAX_DEPTH {
        return Err(bad("element value nested too deeply"));
    }
    Ok(match &item.value {
        Value::Uint(n) => J::from(*n),
        Value::Nint(n) => match i64::try_from(*n) {
            Ok(n) => J::from(-1 - n),
            // Below i64::MIN: keep the exact value as text.
            Err(_) => J::String(format!("-{}", u128::from(*n) + 1)),
        },
        Value::Bytes(b) => J::String(crate::b64::encode(b)),
        Value::Text(t) => J::String(t.to_string()),
        Value::Array(a) => J::Array(
            a.iter()
                .map(|i| to_json(i, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Value::Map(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match &k.value {
                    Value::Text(t) => t.to_string(),
                    Value::Uint(n) => n.to_string(),
                    Value::Nint(n) => format!("-{}", u128::from(*n) + 1),
                    _ => {
                        return Err(bad(format!(
                            "element value has a map key that is {}",
                            k.kind()
                        )))
                    }
                };
                if out.insert(key.clone(), to_json(v, depth + 1)?).is_some() {
                    return Err(bad(format!("element value has the map key {key:?} twice")));
                }
            }
            J::Object(out)
        }
        // Epoch-based date-time: as RFC 3339 text, like tag 0.
        Value::Tag(1, inner) => match inner.value {
            Value::Uint(_) | Value::Nint(_) => {
                J::String(crate::datetime::format(inner.as_int().unwrap_or_default()))
            }
            Value::Float(f) if f.is_finite() => {
                #[allow(clippy::cast_possible_truncation)]
                let secs = f.floor() as i64;
                J::String(crate::datetime::format(secs))
            }
            _ => to_json(inner, depth + 1)?,
        },
        // Embedded CBOR: decoded.
        Value::Tag(24, inner) => match inner.as_bytes() {
            Some(b) => to_json(&cbor::decode(b, WHAT)?, depth + 1)?,
            None => to_json(inner, depth + 1)?,
        },
        // tdate (0), full-date (1004, 100) and any other tag: the content.
        Value::Tag(_, inner) => to_json(inner, depth + 1)?,
        Value::Bool(b) => J::Bool(*b),
        Value::Null | Value::Undefined => J::Null,
        Value::Simple(s) => J::from(*s),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
    })
}

fn parse_issuer_auth(item: &Item<'_>) -> Result<IssuerAuth> {
    let item = item.untag(18).unwrap_or(item);
    let parts = item
        .as_array()
        .filter(|a| a.len() == 4)
        .ok_or_else(|| bad("issuerAuth must be a COSE_Sign1 array of 4 members"))?;
    let protected = parts[0]
        .as_bytes()
        .ok_or_else(|| bad("issuerAuth protected header must be a byte string"))?;
    let protected_item;
    let protected_map: &[(Item<'_>, Item<'_>)] = if protected.is_empty() {
        &[]
    } else {
        protected_item = cbor::decode(protected, WHAT)?;
        protected_item
            .as_map()
            .ok_or_else(|| bad("issuerAuth protected header must encode a map"))?
    };
    let unprotected = parts[1]
        .as_map()
        .ok_or_else(|| bad("issuerAuth unprotected header must be a map"))?;
    let alg_item = get_int(protected_map, COSE_ALG, WHAT)?;
    let alg = alg_item.and_then(Item::as_int);
    let crit = get_int(protected_map, COSE_CRIT, WHAT)?.map(|c| {
        c.as_array()
            .unwrap_or_default()
            .iter()
            .map(|l| {
                l.as_int()
                    .map(|n| n.to_string())
                    .or_else(|| l.as_text().map(str::to_string))
                    .unwrap_or_else(|| l.kind())
            })
            .collect()
    });
    if alg_item.is_some() && alg.is_none() {
        return Err(Error::AlgNotAllowed {
            alg: "a non-integer COSE alg (only ES256, -7, and ES384, -35, are accepted)".into(),
        });
    }
    let x5chain = match get_int(unprotected, COSE_X5CHAIN, WHAT)? {
        Some(x) => x,
        None => get_int(protected_map, COSE_X5CHAIN, WHAT)?
            .ok_or_else(|| bad("issuerAuth has no x5chain (label 33) with the DS certificate"))?,
    };
    let ders: Vec<&[u8]> = match &x5chain.value {
        Value::Bytes(b) => vec![b.as_ref()],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|c| {
                c.as_bytes()
                    .ok_or_else(|| bad("x5chain entries must be byte strings"))
            })
            .collect::<Result<_>>()?,
        _ => {
            return Err(bad(
                "x5chain must be a byte string or a non-empty array of byte strings",
            ))
        }
    };
    if ders.len() > x509::MAX_CHAIN_CERTIFICATES {
        return Err(Error::TooLarge {
            what: "mdoc x5chain (counted in certificates)",
            size: ders.len(),
            limit: x509::MAX_CHAIN_CERTIFICATES,
        });
    }
    let x5chain = ders
        .into_iter()
        .map(Certificate::from_der)
        .collect::<Result<Vec<_>>>()?;
    let payload = parts[2].as_bytes().ok_or_else(|| {
        bad("issuerAuth payload must be a byte string (detached payloads are not supported)")
    })?;
    let signature = parts[3]
        .as_bytes()
        .ok_or_else(|| bad("issuerAuth signature must be a byte string"))?;
    Ok(IssuerAuth {
        protected: protected.to_vec(),
        alg,
        crit,
        x5chain,
        payload: payload.to_vec(),
        signature: signature.to_vec(),
    })
}

impl IssuerAuth {
    /// The Document Signer certificate (first in `x5chain`).
    pub fn ds_certificate(&self) -> &Certificate {
        // `parse` refuses an empty x5chain.
        &self.x5chain[0]
    }

    /// Check `alg` (ES256, -7, with a P-256 DS key; or ES384, -35, with a P-384 DS
    /// key) and `crit`, then verify the signature over
    /// `Sig_structure = ["Signature1", protected, h'', payload]` with the DS key. An alg
    /// that does not match the DS key's curve gives [`Error::KeyAlgMismatch`].
    pub fn verify_signature(&self) -> Result<()> {
        let alg = match self.alg {
            Some(COSE_ES256) => Alg::ES256,
            Some(COSE_ES384) => Alg::ES384,
            Some(other) => {
                return Err(Error::AlgNotAllowed {
                    alg: format!(
                        "COSE alg {other} (only ES256, -7, and ES384, -35, are accepted)"
                    ),
                })
            }
            None => {
                return Err(Error::AlgNotAllowed {
                    alg: "none: the protected header has no alg (only ES256, -7, and ES384, -35, are accepted)"
                        .into(),
                })
            }
        };
        if let Some(first) = self.crit.as_ref().and_then(|c| c.first()) {
            return Err(Error::UnsupportedCritical(first.clone()));
        }
        let ds = self.ds_certificate();
        let key = ds.public_key_ref()?;
        let tbs = coset::sig_structure_data(
            coset::SignatureContext::CoseSign1,
            coset::ProtectedHeader {
                original_data: Some(self.protected.clone()),
                header: coset::Header::default(),
            },
            None,
            &[],
            &self.payload,
        );
        key.verify(alg, &tbs, &self.signature).map_err(|e| match e {
            Error::SignatureInvalid { .. } => Error::SignatureInvalid {
                key: format!("Document Signer certificate \"{}\"", ds.subject()),
            },
            other => other,
        })
    }
}

/// Whether the DS certificate is trusted: chained to a root of `trust` with the mDL DS
/// EKU, or itself in the trust store (pinned). Returns a description.
fn check_ds_trust(
    chain: &[Certificate],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
) -> Result<String> {
    let leaf = &chain[0];
    if trust.roots().is_empty() {
        return Err(Error::UnknownKey(format!(
            "the mdoc Document Signer \"{}\": no trusted IACA root certificates are configured (add the issuer's IACA)",
            leaf.subject()
        )));
    }
    let roots = trust.roots();
    let lacks_eku = !leaf.extended_key_usages().iter().any(|e| e == EKU_MDL_DS);
    if roots.iter().any(|r| **r == *leaf) {
        if lacks_eku {
            return Err(Error::UntrustedIssuer(format!(
                "Document Signer \"{}\" is pinned in the trust store but lacks the mDL document-signer extended key usage {EKU_MDL_DS}",
                leaf.subject()
            )));
        }
        let leeway = leeway.max(0);
        if now.saturating_add(leeway) < leaf.not_before() {
            return Err(Error::NotYetValid {
                from: crate::datetime::format(leaf.not_before()),
                at: crate::datetime::format(now),
            });
        }
        if now.saturating_sub(leeway) > leaf.not_after() {
            return Err(Error::Expired {
                until: crate::datetime::format(leaf.not_after()),
                at: crate::datetime::format(now),
            });
        }
        return Ok(format!(
            "Document Signer \"{}\" is itself trusted (pinned certificate; no IACA chain built)",
            leaf.subject()
        ));
    }
    let top_issuer = chain.last().map(Certificate::issuer).unwrap_or_default();
    match x509::verify_chain_in(chain, roots, now, leeway, Some(EKU_MDL_DS)) {
        Ok(_) => Ok(format!(
            "Document Signer \"{}\" chains to trusted IACA \"{top_issuer}\", with the mDL DS extended key usage",
            leaf.subject()
        )),
        // Say precisely when only the EKU is missing (e.g. the GOV.UK LOCAL test DSC).
        Err(e) if lacks_eku => match x509::verify_chain_in(chain, roots, now, leeway, None) {
            Ok(_) => Err(Error::UntrustedIssuer(format!(
                "Document Signer \"{}\" chains to trusted root \"{top_issuer}\", but lacks the mDL document-signer extended key usage {EKU_MDL_DS} that ISO 18013-5 requires",
                leaf.subject()
            ))),
            Err(other) => Err(if other.code() == e.code() { e } else { other }),
        },
        Err(e) => Err(e),
    }
}

/// Check every item's digest against the MSO.
fn check_digests(doc: &IssuerSigned, mso: &MobileSecurityObject) -> Result<usize> {
    let mut n = 0;
    for (ns, items) in &doc.name_spaces {
        let digests = mso.value_digests.get(ns).ok_or_else(|| {
            bad(format!(
                "namespace {ns:?} has no valueDigests in the Mobile Security Object"
            ))
        })?;
        for item in items {
            let expected = digests.get(&item.digest_id).ok_or_else(|| {
                bad(format!(
                    "{ns}/{}: digestID {} is not in the MSO valueDigests",
                    item.element_identifier, item.digest_id
                ))
            })?;
            if !crate::crypto::ct_eq(&sha256(&item.tagged_bytes), expected) {
                return Err(bad(format!(
                    "{ns}/{}: digest of the item (digestID {}) does not match the MSO valueDigests: the element was altered",
                    item.element_identifier, item.digest_id
                )));
            }
            n += 1;
        }
    }
    Ok(n)
}

/// Verify an mdoc `IssuerSigned` (CBOR bytes or unpadded base64url text) at `now`
/// (Unix seconds) with `leeway` seconds of clock skew. Same as [`verify_with`] without
/// session information (a `Document` or `DeviceResponse` then reports its device
/// authentication as not checked).
pub fn verify(input: &[u8], trust: &TrustStore, now: i64, leeway: i64) -> VerificationReport {
    verify_with(input, trust, now, leeway, &VerifyOptions::default())
}

/// What an input turned out to be.
enum Parsed {
    IssuerSigned(IssuerSigned),
    Documents(Vec<Document>),
}

fn parse_any(input: &[u8]) -> Result<(Parsed, String)> {
    let bytes = input_bytes(input)?;
    let top = cbor::decode(&bytes, WHAT)?;
    let map = top
        .as_map()
        .ok_or_else(|| bad("an mdoc must be a CBOR map"))?;
    if get_text(map, "documents", WHAT)?.is_some() || get_text(map, "version", WHAT)?.is_some() {
        let response = device::device_response_from(&top)?;
        if response.status != 0 {
            return Err(Error::claim(
                "DeviceResponse.status",
                format!(
                    "the holder answered with status {} ({}) instead of documents",
                    response.status,
                    match response.status {
                        10 => "general error",
                        11 => "CBOR decoding error",
                        12 => "CBOR validation error",
                        _ => "unknown status",
                    }
                ),
            ));
        }
        if response.documents.is_empty() {
            return Err(bad("the DeviceResponse has no documents"));
        }
        let n = response.documents.len();
        return Ok((
            Parsed::Documents(response.documents),
            format!("ISO 18013-5 DeviceResponse: {n} document(s)"),
        ));
    }
    if get_text(map, "docType", WHAT)?.is_some() {
        return Ok((
            Parsed::Documents(vec![device::document_from(&top)?]),
            "ISO 18013-5 Document".into(),
        ));
    }
    Ok((
        Parsed::IssuerSigned(parse_issuer_signed(&top)?),
        String::new(),
    ))
}

/// Verify an mdoc at `now` (Unix seconds) with `leeway` seconds of clock skew: an
/// `IssuerSigned` (as issued), a `Document` or a `DeviceResponse` (presentations), as
/// CBOR bytes or unpadded base64url text.
///
/// Checks, in order: `format`, `issuer_key` (DS certificate trusted, see the module
/// documentation), `signature` (issuerAuth), `data_model` (the MSO), for presentations
/// `doctype` (Document docType = MSO docType), `digests`, `validity_period` (MSO
/// `validityInfo`), for presentations `device_auth` (deviceSignature with the MSO
/// device key over DeviceAuthentication built from `options.session_transcript`;
/// not checked without a transcript; a deviceMac needs `options.device_mac_key`) and,
/// when the MSO has a status list reference, `status`. Claims (the disclosed
/// issuer-signed elements, by namespace) are filled only when the signature and all
/// digests verify. A DeviceResponse with several documents is reported on its first
/// one, with a not-checked `documents` check; use [`verify_documents`] for all.
pub fn verify_with(
    input: &[u8],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
    options: &VerifyOptions,
) -> VerificationReport {
    let mut reports = verify_all(input, trust, now, leeway, options);
    let first = reports.remove(0);
    if reports.is_empty() {
        return first;
    }
    let mut first = first;
    first.skipped(
        "documents",
        format!(
            "the DeviceResponse holds {} more document(s) that this report does not cover (use verify_documents)",
            reports.len()
        ),
    );
    first.finish()
}

/// Verify every document of a `DeviceResponse` (or the one `Document` /
/// `IssuerSigned`): one report per document, as [`verify_with`] makes them.
pub fn verify_documents(
    input: &[u8],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
    options: &VerifyOptions,
) -> Vec<VerificationReport> {
    verify_all(input, trust, now, leeway, options)
}

fn verify_all(
    input: &[u8],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
    options: &VerifyOptions,
) -> Vec<VerificationReport> {
    let mut report = VerificationReport::new(Format::Mdoc, now);
    let Some((parsed, what)) = report.parsed(parse_any(input)) else {
        return vec![report.finish()];
    };
    match parsed {
        Parsed::IssuerSigned(doc) => {
            vec![verify_one(
                report,
                &doc,
                None,
                trust,
                now,
                leeway,
                options,
                "ISO 18013-5 IssuerSigned",
            )]
        }
        Parsed::Documents(docs) => docs
            .iter()
            .map(|d| {
                verify_one(
                    VerificationReport::new(Format::Mdoc, now),
                    &d.issuer_signed,
                    Some(d),
                    trust,
                    now,
                    leeway,
                    options,
                    &what,
                )
            })
            .collect(),
    }
}

#[allow(clippy::too_many_arguments)]
fn verify_one(
    mut report: VerificationReport,
    doc: &IssuerSigned,
    document: Option<&Document>,
    trust: &TrustStore,
    now: i64,
    leeway: i64,
    options: &VerifyOptions,
    what: &str,
) -> VerificationReport {
    report.pass(
        "format",
        format!(
            "{what}: {} namespace(s), {} issuer-signed item(s)",
            doc.name_spaces.len(),
            doc.name_spaces.iter().map(|(_, i)| i.len()).sum::<usize>()
        ),
    );
    let presentation_checks: &[&str] = if document.is_some() {
        &["doctype", "digests", "validity_period", "device_auth"]
    } else {
        &["digests", "validity_period"]
    };
    let auth = &doc.issuer_auth;
    let ds = auth.ds_certificate();
    report.issuer = Some(ds.subject());
    if let Some(d) = document {
        report.types = vec![d.doc_type.clone()];
    }

    let trusted = check_ds_trust(&auth.x5chain, trust, now, leeway);
    report.record("issuer_key", &trusted, Clone::clone);

    let signature = auth.verify_signature();
    report.record("signature", &signature, |()| {
        format!(
            "ES256 issuerAuth verified with Document Signer \"{}\"",
            ds.subject()
        )
    });
    if signature.is_err() {
        report.skipped("data_model", "the issuerAuth signature did not verify");
        for name in presentation_checks {
            report.skipped(name, "the issuerAuth signature did not verify");
        }
        return report.finish();
    }

    let mso = mso::parse(&auth.payload);
    report.record("data_model", &mso, |m| {
        format!("Mobile Security Object 1.0 for docType {}", m.doc_type)
    });
    let Ok(mso) = mso else {
        for name in presentation_checks {
            report.skipped(name, "the Mobile Security Object could not be read");
        }
        return report.finish();
    };
    report.types = vec![mso.doc_type.clone()];
    report.valid_from = Some(crate::datetime::format(mso.valid_from));
    report.valid_until = Some(crate::datetime::format(mso.valid_until));

    if let Some(d) = document {
        if d.doc_type == mso.doc_type {
            report.pass(
                "doctype",
                format!("Document docType {} is the one the MSO signs", d.doc_type),
            );
        } else {
            report.fail(
                "doctype",
                &Error::TypeMismatch {
                    header: "Document docType",
                    found: format!("{:?} (the MSO signs {:?})", d.doc_type, mso.doc_type),
                    expected: "the docType signed in the Mobile Security Object",
                },
            );
        }
    }

    let digests = check_digests(doc, &mso);
    report.record("digests", &digests, |n| {
        format!("all {n} item digest(s) match the MSO (SHA-256)")
    });

    let window =
        crate::vc::check_window([mso.signed, mso.valid_from], [mso.valid_until], now, leeway);
    report.record("validity_period", &window, Clone::clone);

    if let Some(d) = document {
        match d.verify_device_auth(&mso, options) {
            Ok(detail) => report.pass("device_auth", detail),
            Err(e @ Error::DeviceAuthUnavailable(_)) => report.not_checked("device_auth", &e),
            Err(e) => report.fail("device_auth", &e),
        }
    }

    if digests.is_ok() {
        report.claims = crate::report::Claims::from_value(&doc.claims_json());
    }
    if let Some(reference) = &mso.status_list {
        crate::status::check(&mut report, trust, reference, now);
    }
    report.finish()
}
