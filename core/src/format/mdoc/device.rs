//! The holder side of ISO/IEC 18013-5 (building a `DeviceResponse`) and device
//! authentication (checking `deviceSignature` / `deviceMac`).
//!
//! - [`present`] takes the `IssuerSigned` as the wallet stored it and returns a
//!   `DeviceResponse` (version `"1.0"`, one document, status 0) that discloses only the
//!   requested `namespace/element` pairs. The disclosed `IssuerSignedItem`s and the
//!   `issuerAuth` are copied byte for byte (their digests and signature stay valid);
//!   `deviceSigned` carries an empty `DeviceNameSpaces` and a `deviceSignature`: an
//!   ES256 COSE_Sign1 with a detached payload over
//!   `DeviceAuthenticationBytes = #6.24(bstr .cbor ["DeviceAuthentication",
//!   SessionTranscript, DocType, DeviceNameSpacesBytes])`, signed through
//!   [`crate::Signer`] so the device key can stay in a secure element.
//! - The [`SessionTranscript`] is opaque: the proximity (18013-5) or OpenID4VP (18013-7)
//!   engine builds it and hands over its exact CBOR bytes.
//! - Verifying: [`parse_device_response`] / [`parse_document`] read the structures;
//!   [`Document::verify_device_auth`] checks the device signature with the MSO
//!   `deviceKeyInfo` key, or a `deviceMac` (HMAC 256/256) when the caller supplies the
//!   session's `EMacKey` (derived by the proximity engine from the reader's ephemeral key).

use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use super::cbor::{self, get_int, get_text, tag24, write_bytes, write_head, write_text, Item};
use super::{bad, input_bytes, mso, parse_issuer_signed, IssuerSigned, MobileSecurityObject};
use crate::crypto::{Alg, VerifyingKey};
use crate::error::{Error, Result};
use crate::platform::Signer;

const WHAT: &str = "mdoc";

/// COSE algorithm HMAC 256/256.
const COSE_HMAC_256_256: i64 = 5;
/// Protected header `{1: -7}` (ES256) of the device signature.
const PROTECTED_ES256: [u8; 3] = [0xa1, 0x01, 0x26];
/// `DeviceNameSpacesBytes` for no device-signed elements: `#6.24(bstr .cbor {})`.
const EMPTY_DEVICE_NAME_SPACES: [u8; 4] = [0xd8, 0x18, 0x41, 0xa0];

/// A SessionTranscript, kept as the exact CBOR bytes of the array
/// `[DeviceEngagementBytes, EReaderKeyBytes, Handover]` (or whatever the engagement
/// profile, e.g. ISO 18013-7 / OpenID4VP, puts there). It is embedded unchanged in
/// `DeviceAuthentication`.
///
/// ```
/// use govcred::format::mdoc::SessionTranscript;
/// // [null, null, ["example handover"]]
/// let t = SessionTranscript::from_cbor(&[0x83, 0xf6, 0xf6, 0x81, 0x60]).unwrap();
/// assert_eq!(t.as_cbor(), &[0x83, 0xf6, 0xf6, 0x81, 0x60]);
/// // The tag-24 form (SessionTranscriptBytes) is accepted and unwrapped.
/// let wrapped = SessionTranscript::from_cbor(&[0xd8, 0x18, 0x45, 0x83, 0xf6, 0xf6, 0x81, 0x60]).unwrap();
/// assert_eq!(wrapped, t);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTranscript(Vec<u8>);

impl SessionTranscript {
    /// A transcript from its CBOR bytes: one well-formed data item (normally an array
    /// of 3). `SessionTranscriptBytes` (`#6.24(bstr .cbor SessionTranscript)`) is
    /// unwrapped. Malformed CBOR gives [`Error::Malformed`].
    pub fn from_cbor(bytes: &[u8]) -> Result<Self> {
        const WHAT_ST: &str = "mdoc SessionTranscript";
        if bytes.len() > super::MAX_INPUT_BYTES {
            return Err(Error::TooLarge {
                what: "mdoc SessionTranscript",
                size: bytes.len(),
                limit: super::MAX_INPUT_BYTES,
            });
        }
        let item = cbor::decode(bytes, WHAT_ST)?;
        match item.untag(24).and_then(Item::as_bytes) {
            Some(inner) => {
                cbor::decode(inner, WHAT_ST)?;
                Ok(SessionTranscript(inner.to_vec()))
            }
            None => Ok(SessionTranscript(bytes.to_vec())),
        }
    }

    /// The exact CBOR bytes embedded in `DeviceAuthentication`.
    pub fn as_cbor(&self) -> &[u8] {
        &self.0
    }

    /// A transcript this crate encoded itself (proximity, OpenID4VP handovers).
    pub(crate) fn from_encoded_parts(encoded: Vec<u8>) -> Self {
        SessionTranscript(encoded)
    }
}

/// The session's `EMacKey` (32 bytes from HKDF, ISO 18013-5 9.1.3.5), for checking a
/// `deviceMac`. Zeroized on drop; never printed.
#[derive(Clone)]
pub struct MacKey(Zeroizing<Vec<u8>>);

impl MacKey {
    /// The key bytes (must be 32).
    pub fn new(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::InvalidKey(format!(
                "an mdoc EMacKey is 32 bytes (HKDF-SHA256 output), got {}",
                bytes.len()
            )));
        }
        Ok(MacKey(Zeroizing::new(bytes.to_vec())))
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

/// What a verifier knows about the presentation session.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// The SessionTranscript of this session. Without it device authentication is
    /// reported as not checked.
    pub session_transcript: Option<SessionTranscript>,
    /// The session's `EMacKey`, to check a `deviceMac` (proximity sessions). Without it
    /// a `deviceMac` is reported as not checked.
    pub device_mac_key: Option<MacKey>,
}

impl VerifyOptions {
    /// Options with a session transcript.
    pub fn with_transcript(transcript: SessionTranscript) -> Self {
        VerifyOptions {
            session_transcript: Some(transcript),
            device_mac_key: None,
        }
    }
}

/// `DeviceAuthenticationBytes` = `#6.24(bstr .cbor ["DeviceAuthentication",
/// SessionTranscript, DocType, DeviceNameSpacesBytes])`, with the transcript and
/// `DeviceNameSpacesBytes` spliced in exactly as given.
pub fn device_authentication_bytes(
    transcript: &SessionTranscript,
    doc_type: &str,
    device_name_spaces_bytes: &[u8],
) -> Vec<u8> {
    let mut inner = Vec::with_capacity(
        40 + transcript.0.len() + doc_type.len() + device_name_spaces_bytes.len(),
    );
    write_head(&mut inner, 4, 4);
    write_text(&mut inner, "DeviceAuthentication");
    inner.extend_from_slice(&transcript.0);
    write_text(&mut inner, doc_type);
    inner.extend_from_slice(device_name_spaces_bytes);
    tag24(&inner)
}

/// How the device authenticated a document.
#[derive(Clone, Debug)]
pub enum DeviceAuth {
    /// `deviceSignature`: COSE_Sign1 with a detached payload.
    Signature {
        /// Protected header bytes as received.
        protected: Vec<u8>,
        /// Protected `alg`, if an integer.
        alg: Option<i64>,
        /// The signature (`r‖s`).
        signature: Vec<u8>,
    },
    /// `deviceMac`: COSE_Mac0 with a detached payload.
    Mac {
        /// Protected header bytes as received.
        protected: Vec<u8>,
        /// Protected `alg`, if an integer.
        alg: Option<i64>,
        /// The MAC tag.
        tag: Vec<u8>,
    },
}

/// `DeviceSigned`.
#[derive(Clone, Debug)]
pub struct DeviceSigned {
    /// `DeviceNameSpacesBytes`: the whole `#6.24(bstr)` item as received.
    pub name_spaces_bytes: Vec<u8>,
    /// The device-signed elements as JSON `{namespace: {element: value}}`.
    pub name_spaces: serde_json::Value,
    /// `deviceAuth`.
    pub auth: DeviceAuth,
}

/// One `Document` of a `DeviceResponse`.
#[derive(Clone, Debug)]
pub struct Document {
    /// `docType`.
    pub doc_type: String,
    /// `issuerSigned`.
    pub issuer_signed: IssuerSigned,
    /// `deviceSigned`.
    pub device_signed: DeviceSigned,
}

/// A `DeviceResponse`.
#[derive(Clone, Debug)]
pub struct DeviceResponse {
    /// `version` (`"1.0"`).
    pub version: String,
    /// `documents`.
    pub documents: Vec<Document>,
    /// `status` (0 = OK).
    pub status: u64,
}

/// Parse a `DeviceResponse` (CBOR or base64url). Nothing is verified.
pub fn parse_device_response(input: &[u8]) -> Result<DeviceResponse> {
    let bytes = input_bytes(input)?;
    device_response_from(&cbor::decode(&bytes, WHAT)?)
}

/// Parse a single `Document` (CBOR or base64url). Nothing is verified.
pub fn parse_document(input: &[u8]) -> Result<Document> {
    let bytes = input_bytes(input)?;
    document_from(&cbor::decode(&bytes, WHAT)?)
}

pub(crate) fn device_response_from(item: &Item<'_>) -> Result<DeviceResponse> {
    let map = item
        .as_map()
        .ok_or_else(|| bad("DeviceResponse must be a map"))?;
    let version = get_text(map, "version", WHAT)?
        .and_then(Item::as_text)
        .ok_or_else(|| bad("DeviceResponse.version must be text"))?;
    if !super::is_supported_version(version) {
        return Err(bad(format!(
            "DeviceResponse.version is {version:?}, expected \"1.0\""
        )));
    }
    let status = get_text(map, "status", WHAT)?
        .ok_or_else(|| bad("DeviceResponse.status is missing"))?
        .as_uint()
        .ok_or_else(|| bad("DeviceResponse.status must be an unsigned integer"))?;
    let documents = match get_text(map, "documents", WHAT)? {
        None => Vec::new(),
        Some(d) => d
            .as_array()
            .ok_or_else(|| bad("DeviceResponse.documents must be an array"))?
            .iter()
            .enumerate()
            .map(|(i, d)| {
                document_from(d).map_err(|e| match e {
                    Error::Malformed { what, reason } => Error::Malformed {
                        what,
                        reason: format!("documents[{i}]: {reason}"),
                    },
                    other => other,
                })
            })
            .collect::<Result<_>>()?,
    };
    Ok(DeviceResponse {
        version: version.to_string(),
        documents,
        status,
    })
}

pub(crate) fn document_from(item: &Item<'_>) -> Result<Document> {
    let map = item.as_map().ok_or_else(|| bad("Document must be a map"))?;
    let doc_type = get_text(map, "docType", WHAT)?
        .and_then(Item::as_text)
        .ok_or_else(|| bad("Document.docType must be text"))?
        .to_string();
    let issuer_signed = parse_issuer_signed(
        get_text(map, "issuerSigned", WHAT)?
            .ok_or_else(|| bad("Document.issuerSigned is missing"))?,
    )?;
    let ds = get_text(map, "deviceSigned", WHAT)?
        .ok_or_else(|| bad("Document.deviceSigned is missing (ISO 18013-5 requires it)"))?;
    Ok(Document {
        doc_type,
        issuer_signed,
        device_signed: device_signed_from(ds)?,
    })
}

fn device_signed_from(item: &Item<'_>) -> Result<DeviceSigned> {
    let map = item
        .as_map()
        .ok_or_else(|| bad("DeviceSigned must be a map"))?;
    let ns_item = get_text(map, "nameSpaces", WHAT)?
        .ok_or_else(|| bad("DeviceSigned.nameSpaces is missing"))?;
    let inner = ns_item
        .untag(24)
        .and_then(Item::as_bytes)
        .ok_or_else(|| bad("DeviceSigned.nameSpaces must be #6.24(bstr .cbor DeviceNameSpaces)"))?;
    let decoded = cbor::decode(inner, WHAT)?;
    let name_spaces = decoded
        .as_map()
        .ok_or_else(|| bad("DeviceNameSpaces must be a map"))?;
    let mut json = serde_json::Map::new();
    for (ns, elements) in name_spaces {
        let ns = ns
            .as_text()
            .ok_or_else(|| bad("DeviceNameSpaces keys must be text"))?;
        let elements = elements
            .as_map()
            .ok_or_else(|| bad(format!("DeviceNameSpaces[{ns:?}] must be a map")))?;
        let mut out = serde_json::Map::new();
        for (k, v) in elements {
            let k = k
                .as_text()
                .ok_or_else(|| bad(format!("DeviceNameSpaces[{ns:?}] keys must be text")))?;
            out.insert(k.to_string(), super::to_json(v, 0)?);
        }
        json.insert(ns.to_string(), serde_json::Value::Object(out));
    }
    let auth = get_text(map, "deviceAuth", WHAT)?
        .and_then(Item::as_map)
        .ok_or_else(|| bad("DeviceSigned.deviceAuth must be a map"))?;
    let sig = get_text(auth, "deviceSignature", WHAT)?;
    let mac = get_text(auth, "deviceMac", WHAT)?;
    let auth =
        match (sig, mac) {
            (Some(s), None) => {
                let (protected, alg, signature) = cose_detached(s, 18, "deviceSignature")?;
                DeviceAuth::Signature {
                    protected,
                    alg,
                    signature,
                }
            }
            (None, Some(m)) => {
                let (protected, alg, tag) = cose_detached(m, 17, "deviceMac")?;
                DeviceAuth::Mac {
                    protected,
                    alg,
                    tag,
                }
            }
            _ => return Err(bad(
                "DeviceSigned.deviceAuth must hold exactly one of deviceSignature and deviceMac",
            )),
        };
    Ok(DeviceSigned {
        name_spaces_bytes: ns_item.raw.to_vec(),
        name_spaces: serde_json::Value::Object(json),
        auth,
    })
}

/// A COSE_Sign1 / COSE_Mac0 with a detached (null) payload: protected bytes, protected
/// alg, last member (signature or tag).
fn cose_detached(item: &Item<'_>, tag: u64, name: &str) -> Result<(Vec<u8>, Option<i64>, Vec<u8>)> {
    let item = item.untag(tag).unwrap_or(item);
    let parts = item
        .as_array()
        .filter(|a| a.len() == 4)
        .ok_or_else(|| bad(format!("{name} must be a COSE array of 4 members")))?;
    let protected = parts[0]
        .as_bytes()
        .ok_or_else(|| bad(format!("{name} protected header must be a byte string")))?;
    let alg = if protected.is_empty() {
        None
    } else {
        let p = cbor::decode(protected, WHAT)?;
        let p = p
            .as_map()
            .ok_or_else(|| bad(format!("{name} protected header must encode a map")))?;
        if let Some(crit) = get_int(p, 2, WHAT)? {
            return Err(Error::UnsupportedCritical(format!(
                "{name} crit {}",
                crit.kind()
            )));
        }
        match get_int(p, 1, WHAT)? {
            None => None,
            Some(a) => Some(a.as_int().ok_or_else(|| Error::AlgNotAllowed {
                alg: format!("a non-integer COSE alg in {name}"),
            })?),
        }
    };
    parts[1]
        .as_map()
        .ok_or_else(|| bad(format!("{name} unprotected header must be a map")))?;
    if !matches!(parts[2].value, cbor::Value::Null) {
        return Err(bad(format!(
            "{name} payload must be null: DeviceAuthenticationBytes is detached"
        )));
    }
    let last = parts[3]
        .as_bytes()
        .ok_or_else(|| bad(format!("{name} signature/tag must be a byte string")))?;
    Ok((protected.to_vec(), alg, last.to_vec()))
}

impl Document {
    /// Check device authentication against `options`, with the MSO's device key.
    ///
    /// `Err(Error::DeviceAuthUnavailable)` means it could not be checked (no
    /// transcript, or a `deviceMac` without the session's `EMacKey`); any other error
    /// means it was checked and is wrong.
    pub fn verify_device_auth(
        &self,
        mso: &MobileSecurityObject,
        options: &VerifyOptions,
    ) -> Result<String> {
        let transcript = options.session_transcript.as_ref().ok_or_else(|| {
            Error::DeviceAuthUnavailable(
                "no SessionTranscript was supplied, so the holder's device signature cannot be checked (give the session transcript of this presentation)".into(),
            )
        })?;
        let dab = device_authentication_bytes(
            transcript,
            &self.doc_type,
            &self.device_signed.name_spaces_bytes,
        );
        match &self.device_signed.auth {
            DeviceAuth::Signature {
                protected,
                alg,
                signature,
            } => {
                if *alg != Some(super::COSE_ES256) {
                    return Err(Error::AlgNotAllowed {
                        alg: format!(
                            "deviceSignature alg {} (only ES256, -7, is accepted)",
                            alg.map_or("missing".into(), |a| a.to_string())
                        ),
                    });
                }
                verify_device_signature(&mso.device_key, protected, &dab, signature)?;
                Ok("ES256 deviceSignature over DeviceAuthentication (the supplied SessionTranscript) verified with the MSO device key".into())
            }
            DeviceAuth::Mac {
                protected,
                alg,
                tag,
            } => {
                let key = options.device_mac_key.as_ref().ok_or_else(|| {
                    Error::DeviceAuthUnavailable(
                        "the document is authenticated with a deviceMac, which needs the session's EMacKey (from the proximity engine's ECDH with the reader key); none was supplied".into(),
                    )
                })?;
                if *alg != Some(COSE_HMAC_256_256) {
                    return Err(Error::AlgNotAllowed {
                        alg: format!(
                            "deviceMac alg {} (only HMAC 256/256, 5, is accepted)",
                            alg.map_or("missing".into(), |a| a.to_string())
                        ),
                    });
                }
                let mac_structure = coset::mac_structure_data(
                    coset::MacContext::CoseMac0,
                    coset::ProtectedHeader {
                        original_data: Some(protected.clone()),
                        header: coset::Header::default(),
                    },
                    &[],
                    &dab,
                );
                let k = hmac::Key::new(hmac::HMAC_SHA256, &key.0);
                hmac::verify(&k, &mac_structure, tag).map_err(|_| Error::SignatureInvalid {
                    key: "deviceMac (HMAC-SHA256 with the session EMacKey)".into(),
                })?;
                Ok("HMAC 256/256 deviceMac over DeviceAuthentication verified with the session EMacKey".into())
            }
        }
    }
}

fn verify_device_signature(
    key: &VerifyingKey,
    protected: &[u8],
    dab: &[u8],
    signature: &[u8],
) -> Result<()> {
    let tbs = coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        coset::ProtectedHeader {
            original_data: Some(protected.to_vec()),
            header: coset::Header::default(),
        },
        None,
        &[],
        dab,
    );
    key.verify(Alg::ES256, &tbs, signature)
        .map_err(|e| match e {
            Error::SignatureInvalid { .. } => Error::SignatureInvalid {
                key: "the mdoc device key (MSO deviceKeyInfo): the deviceSignature is not over this SessionTranscript, docType and DeviceNameSpaces".into(),
            },
            other => other,
        })
}

/// Split `"namespace/element"` at the last `/`.
///
/// ```
/// assert_eq!(govcred::format::mdoc::element_path("org.iso.18013.5.1/family_name").unwrap(),
///            ("org.iso.18013.5.1", "family_name"));
/// ```
pub fn element_path(path: &str) -> Result<(&str, &str)> {
    path.rsplit_once('/')
        .filter(|(ns, el)| !ns.is_empty() && !el.is_empty())
        .ok_or_else(|| {
            Error::claim(
                path,
                "name an mdoc element as NAMESPACE/ELEMENT, e.g. org.iso.18013.5.1/family_name",
            )
        })
}

/// Build a `DeviceResponse` from a stored `IssuerSigned` (CBOR or base64url), disclosing
/// only the `(namespace, element)` pairs in `disclose`, device-signed by `device` over
/// `transcript`. Returns the DeviceResponse CBOR bytes.
///
/// Errors: [`Error::InvalidClaim`] naming a requested element the document lacks (or
/// an empty request); [`Error::InvalidKey`] when `device` is not the key bound in the
/// MSO; [`Error::KeyAlgMismatch`] when it is not ES256; [`Error::SignerFailed`] from
/// the signer; parse errors of a malformed `IssuerSigned`.
///
/// ```
/// use govcred::crypto::{Alg, SoftwareKey};
/// use govcred::format::mdoc::{self, MdocDraft, SessionTranscript, VerifyOptions};
/// use govcred::{pki, trust::TrustStore};
/// let now = 1_767_225_600;
/// let (iaca, iaca_key) = pki::create_iaca("GB", "Example IACA", None, now - 60, now + 86_400 * 365).unwrap();
/// let (ds, ds_key) = pki::issue_document_signer(&iaca, &iaca_key, "GB", "Example DS", now - 60, now + 86_400 * 90).unwrap();
/// let device = SoftwareKey::generate(Alg::ES256).unwrap();
/// let claims = serde_json::json!({"org.iso.18013.5.1": {"family_name": "Edwards", "age_over_18": true}});
/// let draft = MdocDraft { doctype: "org.iso.18013.5.1.mDL".into(), claims: claims.as_object().unwrap().clone(),
///     device_key: device.verifying_key().clone(), valid_from: now, valid_until: now + 86_400,
///     expected_update: None, status: None, test_only_salt_seed: None };
/// let issuer_signed = mdoc::issue(&draft, &ds, &ds_key, now).unwrap();
///
/// let transcript = SessionTranscript::from_cbor(&[0x83, 0xf6, 0xf6, 0x81, 0x60]).unwrap();
/// let response = mdoc::present(&issuer_signed, &[("org.iso.18013.5.1", "age_over_18")], &transcript, &device).unwrap();
///
/// let mut trust = TrustStore::new();
/// trust.add_root_certificates_pem(&iaca.to_pem()).unwrap();
/// let report = mdoc::verify_with(&response, &trust, now + 10, 60, &VerifyOptions::with_transcript(transcript));
/// assert!(report.valid, "{}", report.to_json_pretty());
/// assert_eq!(report.claims.to_value(), serde_json::json!({"org.iso.18013.5.1": {"age_over_18": true}}));
/// ```
pub fn present(
    issuer_signed: &[u8],
    disclose: &[(&str, &str)],
    transcript: &SessionTranscript,
    device: &dyn Signer,
) -> Result<Vec<u8>> {
    let bytes = input_bytes(issuer_signed)?;
    let top = cbor::decode(&bytes, WHAT)?;
    let top_map = top
        .as_map()
        .ok_or_else(|| bad("IssuerSigned must be a map"))?;
    let parsed = parse_issuer_signed(&top)?;
    let mso = mso::parse(&parsed.issuer_auth.payload)?;
    if device.alg() != Alg::ES256 {
        return Err(Error::KeyAlgMismatch {
            key: "mdoc device key".into(),
            alg: "ES256 (P-256)".into(),
        });
    }
    if VerifyingKey::from_jwk(&device.public_jwk())? != mso.device_key {
        return Err(Error::InvalidKey(
            "the holder key is not the device key this mdoc is bound to (MSO deviceKeyInfo.deviceKey)".into(),
        ));
    }
    if disclose.is_empty() {
        return Err(Error::claim(
            "disclose",
            "name at least one NAMESPACE/ELEMENT to disclose",
        ));
    }
    // Check every request first, so the error names the missing element.
    for (ns, el) in disclose {
        let items = parsed
            .name_spaces
            .iter()
            .find(|(n, _)| n == ns)
            .map(|(_, items)| items)
            .ok_or_else(|| {
                Error::claim(
                    format!("{ns}/{el}"),
                    format!(
                        "the mdoc has no namespace {ns:?} (it has: {})",
                        parsed
                            .name_spaces
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        if !items.iter().any(|i| i.element_identifier == *el) {
            return Err(Error::claim(
                format!("{ns}/{el}"),
                format!("the mdoc has no element {el:?} in namespace {ns:?}"),
            ));
        }
    }
    // The received items, in the received order, with their exact bytes.
    let raw_ns = cbor::get_text(top_map, "nameSpaces", WHAT)?
        .and_then(Item::as_map)
        .ok_or_else(|| bad("IssuerSigned.nameSpaces must be a map"))?;
    let mut name_spaces = Vec::new();
    let mut n_ns = 0u64;
    for ((ns, items), (_, raw_items)) in parsed.name_spaces.iter().zip(raw_ns) {
        let raw_items = raw_items.as_array().unwrap_or_default();
        let chosen: Vec<&[u8]> = items
            .iter()
            .zip(raw_items)
            .filter(|(i, _)| {
                disclose
                    .iter()
                    .any(|(n, e)| n == ns && *e == i.element_identifier)
            })
            .map(|(_, raw)| raw.raw)
            .collect();
        if chosen.is_empty() {
            continue;
        }
        n_ns += 1;
        write_text(&mut name_spaces, ns);
        write_head(&mut name_spaces, 4, chosen.len() as u64);
        for raw in chosen {
            name_spaces.extend_from_slice(raw);
        }
    }
    let issuer_auth = cbor::get_text(top_map, "issuerAuth", WHAT)?
        .ok_or_else(|| bad("IssuerSigned.issuerAuth is missing"))?
        .raw;

    let dab = device_authentication_bytes(transcript, &mso.doc_type, &EMPTY_DEVICE_NAME_SPACES);
    let tbs = coset::sig_structure_data(
        coset::SignatureContext::CoseSign1,
        coset::ProtectedHeader {
            original_data: Some(PROTECTED_ES256.to_vec()),
            header: coset::Header::default(),
        },
        None,
        &[],
        &dab,
    );
    let signature = device.sign(&tbs)?;
    if signature.len() != 64 {
        return Err(Error::SignerFailed(format!(
            "an ES256 COSE signature is r‖s, 64 bytes; the signer returned {}",
            signature.len()
        )));
    }

    // Deterministic encoding: map keys in bytewise order of their encodings.
    let mut out = Vec::with_capacity(bytes.len() + 256);
    write_head(&mut out, 5, 3);
    write_text(&mut out, "status");
    write_head(&mut out, 0, 0);
    write_text(&mut out, "version");
    write_text(&mut out, "1.0");
    write_text(&mut out, "documents");
    write_head(&mut out, 4, 1);
    // Document
    write_head(&mut out, 5, 3);
    write_text(&mut out, "docType");
    write_text(&mut out, &mso.doc_type);
    write_text(&mut out, "deviceSigned");
    write_head(&mut out, 5, 2);
    write_text(&mut out, "deviceAuth");
    write_head(&mut out, 5, 1);
    write_text(&mut out, "deviceSignature");
    write_head(&mut out, 4, 4);
    write_bytes(&mut out, &PROTECTED_ES256);
    write_head(&mut out, 5, 0);
    out.push(0xf6); // null: detached payload
    write_bytes(&mut out, &signature);
    write_text(&mut out, "nameSpaces");
    out.extend_from_slice(&EMPTY_DEVICE_NAME_SPACES);
    write_text(&mut out, "issuerSigned");
    write_head(&mut out, 5, 2);
    write_text(&mut out, "issuerAuth");
    out.extend_from_slice(issuer_auth);
    write_text(&mut out, "nameSpaces");
    write_head(&mut out, 5, n_ns);
    out.extend_from_slice(&name_spaces);
    Ok(out)
}
