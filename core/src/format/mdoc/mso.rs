//! The Mobile Security Object (ISO/IEC 18013-5 9.1.2.4), the payload of `issuerAuth`.

use std::collections::BTreeMap;

use super::cbor::{self, get_int, get_text, Item};
use crate::crypto::VerifyingKey;
use crate::error::{Error, Result};

const WHAT: &str = "mdoc MobileSecurityObject";

/// The members of a Mobile Security Object that verification uses.
#[derive(Clone, Debug)]
pub struct MobileSecurityObject {
    /// `docType`.
    pub doc_type: String,
    /// `valueDigests`: namespace → digestID → SHA-256 digest.
    pub value_digests: BTreeMap<String, BTreeMap<u64, Vec<u8>>>,
    /// `deviceKeyInfo.deviceKey`, the holder's key.
    pub device_key: VerifyingKey,
    /// `validityInfo.signed`, Unix seconds.
    pub signed: i64,
    /// `validityInfo.validFrom`, Unix seconds.
    pub valid_from: i64,
    /// `validityInfo.validUntil`, Unix seconds.
    pub valid_until: i64,
    /// `validityInfo.expectedUpdate`, Unix seconds, if present.
    pub expected_update: Option<i64>,
    /// `status.status_list` (IETF Token Status List reference), if present.
    pub status_list: Option<crate::status::Reference>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::malformed(WHAT, reason)
}

fn required<'m, 'a>(
    map: &'m [(Item<'a>, Item<'a>)],
    key: &str,
    path: &str,
) -> Result<&'m Item<'a>> {
    get_text(map, key, WHAT)?.ok_or_else(|| bad(format!("{path}{key} is missing")))
}

fn map_of<'m, 'a>(item: &'m Item<'a>, path: &str) -> Result<&'m [(Item<'a>, Item<'a>)]> {
    item.as_map()
        .ok_or_else(|| bad(format!("{path} must be a map, found {}", item.kind())))
}

fn text_of<'m>(item: &'m Item<'_>, path: &str) -> Result<&'m str> {
    item.as_text().ok_or_else(|| {
        bad(format!(
            "{path} must be a text string, found {}",
            item.kind()
        ))
    })
}

/// Parse the payload of `issuerAuth`: `#6.24(bstr .cbor MobileSecurityObject)`.
pub(crate) fn parse(payload: &[u8]) -> Result<MobileSecurityObject> {
    let outer = cbor::decode(payload, WHAT)?;
    let inner = outer.untag(24).and_then(Item::as_bytes).ok_or_else(|| {
        bad(format!(
            "the issuerAuth payload must be #6.24(bstr .cbor MobileSecurityObject), found {}",
            outer.kind()
        ))
    })?;
    let item = cbor::decode(inner, WHAT)?;
    let mso = map_of(&item, "the MSO")?;

    let version = text_of(required(mso, "version", "")?, "version")?;
    if version != "1.0" {
        return Err(bad(format!("version is {version:?}, expected \"1.0\"")));
    }
    let digest_alg = text_of(required(mso, "digestAlgorithm", "")?, "digestAlgorithm")?;
    if digest_alg != "SHA-256" {
        return Err(Error::AlgNotAllowed {
            alg: format!("digestAlgorithm {digest_alg} (only SHA-256 is accepted)"),
        });
    }
    let doc_type = text_of(required(mso, "docType", "")?, "docType")?.to_string();

    let mut value_digests = BTreeMap::new();
    for (ns, digests) in map_of(required(mso, "valueDigests", "")?, "valueDigests")? {
        let ns = text_of(ns, "a valueDigests namespace")?.to_string();
        let mut ids = BTreeMap::new();
        for (id, digest) in map_of(digests, &format!("valueDigests[{ns:?}]"))? {
            let id = id.as_uint().ok_or_else(|| {
                bad(format!(
                    "valueDigests[{ns:?}] keys must be unsigned integers (digestID), found {}",
                    id.kind()
                ))
            })?;
            let digest = digest.as_bytes().filter(|d| d.len() == 32).ok_or_else(|| {
                bad(format!(
                    "valueDigests[{ns:?}][{id}] must be a 32-byte SHA-256 digest"
                ))
            })?;
            if ids.insert(id, digest.to_vec()).is_some() {
                return Err(bad(format!("valueDigests[{ns:?}] has digestID {id} twice")));
            }
        }
        if value_digests.insert(ns.clone(), ids).is_some() {
            return Err(bad(format!("valueDigests has namespace {ns:?} twice")));
        }
    }

    let dki = map_of(required(mso, "deviceKeyInfo", "")?, "deviceKeyInfo")?;
    let device_key = cose_key(map_of(
        required(dki, "deviceKey", "deviceKeyInfo.")?,
        "deviceKeyInfo.deviceKey",
    )?)?;

    let vi = map_of(required(mso, "validityInfo", "")?, "validityInfo")?;
    let time = |key: &str| -> Result<Option<i64>> {
        get_text(vi, key, WHAT)?.map(|v| tdate(v, key)).transpose()
    };
    let missing = |key: &str| bad(format!("validityInfo.{key} is missing"));
    let signed = time("signed")?.ok_or_else(|| missing("signed"))?;
    let valid_from = time("validFrom")?.ok_or_else(|| missing("validFrom"))?;
    let valid_until = time("validUntil")?.ok_or_else(|| missing("validUntil"))?;
    let expected_update = time("expectedUpdate")?;
    if valid_until <= valid_from {
        return Err(bad("validityInfo.validUntil is not after validFrom"));
    }

    let status_list = match get_text(mso, "status", WHAT)? {
        None => None,
        Some(status) => {
            let status = map_of(status, "status")?;
            match get_text(status, "status_list", WHAT)? {
                None => None,
                Some(sl) => {
                    let sl = map_of(sl, "status.status_list")?;
                    let idx = required(sl, "idx", "status.status_list.")?
                        .as_uint()
                        .and_then(|i| usize::try_from(i).ok())
                        .ok_or_else(|| bad("status.status_list.idx must be an unsigned integer"))?;
                    let uri = text_of(
                        required(sl, "uri", "status.status_list.")?,
                        "status.status_list.uri",
                    )?;
                    Some(crate::status::Reference {
                        uri: uri.to_string(),
                        index: idx,
                    })
                }
            }
        }
    };

    Ok(MobileSecurityObject {
        doc_type,
        value_digests,
        device_key,
        signed,
        valid_from,
        valid_until,
        expected_update,
        status_list,
    })
}

/// A `tdate`: tag 0 around RFC 3339 text.
fn tdate(item: &Item<'_>, key: &str) -> Result<i64> {
    let text = item.untag(0).and_then(Item::as_text).ok_or_else(|| {
        bad(format!(
            "validityInfo.{key} must be a tdate (tag 0 text), found {}",
            item.kind()
        ))
    })?;
    crate::datetime::parse(text, &format!("MSO validityInfo.{key}"))
}

/// A COSE_Key (RFC 9053): EC2 (kty 2) on P-256 (crv 1) with 32-byte x and y.
fn cose_key(map: &[(Item<'_>, Item<'_>)]) -> Result<VerifyingKey> {
    let int = |label: i64| -> Result<Option<i64>> {
        Ok(get_int(map, label, WHAT)?.and_then(Item::as_int))
    };
    let invalid = |why: &str| Error::InvalidKey(format!("MSO deviceKey: {why}"));
    if int(1)? != Some(2) {
        return Err(invalid("kty (label 1) must be 2 (EC2)"));
    }
    if int(-1)? != Some(1) {
        return Err(invalid("crv (label -1) must be 1 (P-256)"));
    }
    let coord = |label: i64, name: &str| -> Result<Vec<u8>> {
        get_int(map, label, WHAT)?
            .and_then(Item::as_bytes)
            .filter(|b| b.len() == 32)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| invalid(&format!("{name} (label {label}) must be 32 bytes")))
    };
    let mut point = vec![4u8];
    point.extend(coord(-2, "x")?);
    point.extend(coord(-3, "y")?);
    VerifyingKey::from_p256_sec1(&point)
}
