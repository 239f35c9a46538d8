//! W3C Bitstring Status List v1.0: the bitstring, the `BitstringStatusListCredential`
//! that publishes it, and the `BitstringStatusListEntry` a credential carries.
//!
//! Entry `i` of a list with `statusSize` bits per entry occupies bits
//! `[i * size, (i + 1) * size)` of the bitstring, bit 0 being the **most**
//! significant bit of byte 0 (the opposite of the IETF Token Status List). The
//! `encodedList` is `"u"` (multibase base64url, no padding) + base64url(gzip(bytes)).
//!
//! ```
//! use govcred::status::bitstring::BitstringList;
//! let mut list = BitstringList::new(1, 131_072).unwrap();
//! list.set(94_567, 1).unwrap();
//! let encoded = list.encode();
//! assert!(encoded.starts_with('u'));
//! let back = BitstringList::decode(1, &encoded).unwrap();
//! assert_eq!(back.get(94_567).unwrap(), 1);
//! assert_eq!(back.get(0).unwrap(), 0);
//! ```

use std::fmt;

use serde_json::{Map, Value};

use super::compress;
use super::token_status_list::{MAX_COMPRESSED_LEN, MAX_ENTRIES};
use crate::b64;
use crate::datetime;
use crate::error::{Error, Result};
use crate::jose;
use crate::platform::Signer;
use crate::vc;

/// The credential type of a status list credential.
pub const CREDENTIAL_TYPE: &str = "BitstringStatusListCredential";
/// The `credentialSubject.type` of a status list credential.
pub const SUBJECT_TYPE: &str = "BitstringStatusList";
/// The `credentialStatus.type` of an entry.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";

fn check_size(status_size: u8, claim: &str) -> Result<()> {
    if (1..=8).contains(&status_size) {
        Ok(())
    } else {
        Err(Error::claim(
            claim,
            format!("must be from 1 to 8 bits, not {status_size}"),
        ))
    }
}

/// Most bytes a list of `status_size`-bit entries may decompress to.
fn byte_cap(status_size: u8) -> usize {
    MAX_ENTRIES / 8 * usize::from(status_size)
}

/// A bitstring of `status_size`-bit entries, most significant bit first.
#[derive(Clone, PartialEq, Eq)]
pub struct BitstringList {
    status_size: u8,
    bytes: Vec<u8>,
}

impl fmt::Debug for BitstringList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BitstringList")
            .field("status_size", &self.status_size)
            .field("entries", &self.len())
            .finish()
    }
}

impl BitstringList {
    /// An all-zero list of at least `entries` entries of `status_size` (1–8) bits,
    /// rounded up to whole bytes; at most [`MAX_ENTRIES`] entries.
    pub fn new(status_size: u8, entries: usize) -> Result<Self> {
        check_size(status_size, "statusSize")?;
        if entries > MAX_ENTRIES {
            return Err(Error::TooLarge {
                what: "bitstring status list (entries)",
                size: entries,
                limit: MAX_ENTRIES,
            });
        }
        let nbytes = (entries * usize::from(status_size)).div_ceil(8);
        Ok(BitstringList {
            status_size,
            bytes: vec![0; nbytes],
        })
    }

    /// A list over an already-packed bitstring.
    pub fn from_bytes(status_size: u8, bytes: Vec<u8>) -> Result<Self> {
        check_size(status_size, "statusSize")?;
        if bytes.len() > byte_cap(status_size) {
            return Err(Error::TooLarge {
                what: "bitstring status list",
                size: bytes.len(),
                limit: byte_cap(status_size),
            });
        }
        Ok(BitstringList { status_size, bytes })
    }

    /// Bits per entry.
    pub fn status_size(&self) -> u8 {
        self.status_size
    }

    /// Number of whole entries in the bitstring.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.status_size)
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bitstring (uncompressed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn mask(&self) -> u16 {
        (1u16 << self.status_size) - 1
    }

    /// First byte of entry `idx` and the right shift of the entry inside the
    /// big-endian 16-bit window starting at that byte.
    fn locate(&self, idx: usize) -> Result<(usize, u32)> {
        if idx >= self.len() {
            return Err(Error::claim(
                "statusListIndex",
                format!(
                    "index {idx} is out of range: the list has {} entries",
                    self.len()
                ),
            ));
        }
        // idx < len = bytes * 8 / size: idx * size fits.
        let bit = idx * usize::from(self.status_size);
        let within = (bit % 8) as u32;
        // within <= 7 and size <= 8, so the entry lies inside the 16-bit window.
        Ok((bit / 8, 16 - within - u32::from(self.status_size)))
    }

    fn window(&self, byte: usize) -> u16 {
        let hi = self.bytes.get(byte).copied().unwrap_or(0);
        let lo = self.bytes.get(byte + 1).copied().unwrap_or(0);
        u16::from_be_bytes([hi, lo])
    }

    /// The status value of entry `idx`.
    pub fn get(&self, idx: usize) -> Result<u8> {
        let (byte, shift) = self.locate(idx)?;
        Ok(((self.window(byte) >> shift) & self.mask()) as u8)
    }

    /// Set entry `idx` to `value`, which must fit in `status_size` bits.
    pub fn set(&mut self, idx: usize, value: u8) -> Result<()> {
        let mask = self.mask();
        if u16::from(value) > mask {
            return Err(Error::claim(
                "status",
                format!("value {value} does not fit in {} bits", self.status_size),
            ));
        }
        let (byte, shift) = self.locate(idx)?;
        let w = (self.window(byte) & !(mask << shift)) | (u16::from(value) << shift);
        let [hi, lo] = w.to_be_bytes();
        if let Some(b) = self.bytes.get_mut(byte) {
            *b = hi;
        }
        // Only touch the next byte when the entry reaches into it.
        if shift < 8 {
            if let Some(b) = self.bytes.get_mut(byte + 1) {
                *b = lo;
            }
        }
        Ok(())
    }

    /// The `encodedList`: `"u"` + base64url(gzip(bitstring)).
    pub fn encode(&self) -> String {
        let mut s = String::from("u");
        s.push_str(&b64::encode(compress::gzip(&self.bytes)));
        s
    }

    /// Decode an `encodedList` (multibase base64url, prefix `u`). Limits as for
    /// [`super::StatusList::from_lst`]: [`MAX_COMPRESSED_LEN`] characters and
    /// [`MAX_ENTRIES`] entries, decompression stopping at the cap.
    pub fn decode(status_size: u8, encoded: &str) -> Result<Self> {
        check_size(status_size, "statusSize")?;
        if encoded.len() > MAX_COMPRESSED_LEN {
            return Err(Error::TooLarge {
                what: "encodedList",
                size: encoded.len(),
                limit: MAX_COMPRESSED_LEN,
            });
        }
        let Some(text) = encoded.strip_prefix('u') else {
            return Err(Error::claim(
                "encodedList",
                "must be multibase base64url: start with 'u'",
            ));
        };
        let compressed = b64::decode(text, "encodedList")?;
        let bytes = compress::gunzip(&compressed, byte_cap(status_size), "encodedList")?;
        Ok(BitstringList { status_size, bytes })
    }
}

/// A parsed `BitstringStatusListCredential` (or the data to sign one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListCredential {
    /// The credential `id`: the URL entries name in `statusListCredential`.
    pub id: String,
    /// The `issuer` (its `id` when an object).
    pub issuer: String,
    /// `credentialSubject.statusPurpose`: `revocation`, `suspension`, `message`, …
    pub purpose: String,
    /// `credentialSubject.statusSize` (1 when absent).
    pub status_size: u8,
    /// The decoded `encodedList`.
    pub list: BitstringList,
    /// `validFrom`, Unix seconds.
    pub valid_from: Option<i64>,
    /// `validUntil`, Unix seconds.
    pub valid_until: Option<i64>,
    /// `credentialSubject.ttl` as written. The W3C spec defines it in milliseconds;
    /// GOV.UK's example (`"3600"`) reads as seconds.
    pub ttl: Option<i64>,
    /// `credentialSubject.statusMessage`: (value, message) pairs.
    pub status_messages: Vec<(u8, String)>,
}

fn has_type(v: Option<&Value>, wanted: &str) -> bool {
    match v {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Array(a)) => a.iter().any(|t| t.as_str() == Some(wanted)),
        _ => false,
    }
}

fn required_str<'a>(obj: &'a Map<String, Value>, name: &str, claim: &str) -> Result<&'a str> {
    match obj.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(Error::claim(claim, "must be a non-empty string")),
        None => Err(Error::claim(claim, "required")),
    }
}

fn status_size_of(obj: &Map<String, Value>, claim: &str) -> Result<u8> {
    match obj.get("statusSize") {
        None => Ok(1),
        Some(v) => v
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .filter(|n| (1..=8).contains(n))
            .ok_or_else(|| Error::claim(claim, format!("must be from 1 to 8 bits, not {v}"))),
    }
}

/// A non-negative integer written as a JSON number or as a string of ASCII digits.
fn unsigned(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn optional_date(doc: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match doc.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => datetime::parse(s, name).map(Some),
        Some(_) => Err(Error::claim(name, "must be an RFC 3339 date-time string")),
    }
}

/// Parse a `BitstringStatusListCredential` (the JSON credential, e.g. the payload of a
/// `vc+jwt`). The signature is **not** checked here.
///
/// Reads `id`, `issuer`, `validFrom`, `validUntil` and `credentialSubject`
/// (`type` `BitstringStatusList`, `statusPurpose`, `encodedList`, `statusSize`
/// (default 1), `statusMessage`, `ttl` as a number or a string of digits).
pub fn parse_credential(doc: &Map<String, Value>) -> Result<StatusListCredential> {
    if !has_type(doc.get("type"), CREDENTIAL_TYPE) {
        return Err(Error::claim(
            "type",
            format!("must include {CREDENTIAL_TYPE}"),
        ));
    }
    let id = required_str(doc, "id", "id")?.to_string();
    let issuer = match doc.get("issuer") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Object(o)) => required_str(o, "id", "issuer.id")?.to_string(),
        Some(_) => {
            return Err(Error::claim(
                "issuer",
                "must be a URL or an object with an id",
            ))
        }
        None => return Err(Error::claim("issuer", "required")),
    };
    let valid_from = optional_date(doc, "validFrom")?;
    let valid_until = optional_date(doc, "validUntil")?;
    let subject = match doc.get("credentialSubject") {
        Some(Value::Object(o)) => o,
        Some(Value::Array(a)) if a.len() == 1 => a
            .first()
            .and_then(Value::as_object)
            .ok_or_else(|| Error::claim("credentialSubject", "must be an object"))?,
        Some(_) => {
            return Err(Error::claim(
                "credentialSubject",
                "must be one BitstringStatusList object",
            ))
        }
        None => return Err(Error::claim("credentialSubject", "required")),
    };
    if !has_type(subject.get("type"), SUBJECT_TYPE) {
        return Err(Error::claim(
            "credentialSubject.type",
            format!("must be {SUBJECT_TYPE}"),
        ));
    }
    let purpose = match subject.get("statusPurpose") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Array(a)) if a.len() == 1 => a
            .first()
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::claim("credentialSubject.statusPurpose", "must be a string"))?
            .to_string(),
        Some(_) => {
            return Err(Error::claim(
                "credentialSubject.statusPurpose",
                "must be a string",
            ))
        }
        None => return Err(Error::claim("credentialSubject.statusPurpose", "required")),
    };
    let status_size = status_size_of(subject, "credentialSubject.statusSize")?;
    let encoded = required_str(subject, "encodedList", "credentialSubject.encodedList")?;
    let list = BitstringList::decode(status_size, encoded)?;
    let ttl = match subject.get("ttl") {
        None => None,
        Some(v) => Some(
            unsigned(v)
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| {
                    Error::claim(
                        "credentialSubject.ttl",
                        "must be a non-negative integer (number or string of digits)",
                    )
                })?,
        ),
    };
    let status_messages = match subject.get("statusMessage") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| status_message(m, status_size))
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(Error::claim(
                "credentialSubject.statusMessage",
                "must be an array",
            ))
        }
    };
    Ok(StatusListCredential {
        id,
        issuer,
        purpose,
        status_size,
        list,
        valid_from,
        valid_until,
        ttl,
        status_messages,
    })
}

/// One `{status: "0x…", message}` entry.
fn status_message(m: &Value, status_size: u8) -> Result<(u8, String)> {
    const CLAIM: &str = "credentialSubject.statusMessage";
    let obj = m
        .as_object()
        .ok_or_else(|| Error::claim(CLAIM, "entries must be objects"))?;
    let status = required_str(obj, "status", CLAIM)?;
    let value = status
        .strip_prefix("0x")
        .filter(|h| !h.is_empty() && h.len() <= 2 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|h| u8::from_str_radix(h, 16).ok())
        .filter(|v| u16::from(*v) < (1u16 << status_size))
        .ok_or_else(|| {
            Error::claim(
                CLAIM,
                format!(
                    "status {status:?} is not a hex value (0x…) that fits in {status_size} bits"
                ),
            )
        })?;
    let message = match obj.get("message") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(Error::claim(CLAIM, "message must be a string")),
    };
    Ok((value, message))
}

/// A `BitstringStatusListEntry` from a credential's `credentialStatus`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitstringEntry {
    /// `statusPurpose`.
    pub purpose: String,
    /// `statusListIndex`.
    pub index: usize,
    /// `statusListCredential`: the URL of the status list credential.
    pub list_credential: String,
    /// `statusSize` (1 when absent).
    pub status_size: u8,
}

/// Read the `BitstringStatusListEntry` members of a credential's `credentialStatus`
/// (an object or an array); entries of other types are skipped, and no
/// `credentialStatus` gives an empty list. `statusListIndex` is a string of digits
/// (a JSON number is tolerated).
pub fn entries_from_credential(doc: &Map<String, Value>) -> Result<Vec<BitstringEntry>> {
    let items: &[Value] = match doc.get("credentialStatus") {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(v @ Value::Object(_)) => std::slice::from_ref(v),
        Some(_) => {
            return Err(Error::claim(
                "credentialStatus",
                "must be an object or an array of objects",
            ))
        }
    };
    let mut out = Vec::new();
    for item in items {
        let obj = item
            .as_object()
            .ok_or_else(|| Error::claim("credentialStatus", "entries must be objects"))?;
        if !has_type(obj.get("type"), ENTRY_TYPE) {
            continue;
        }
        let purpose = required_str(obj, "statusPurpose", "credentialStatus.statusPurpose")?;
        let index = obj
            .get("statusListIndex")
            .ok_or_else(|| Error::claim("credentialStatus.statusListIndex", "required"))?;
        let index = unsigned(index)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Error::claim(
                    "credentialStatus.statusListIndex",
                    format!("must be a string of digits, not {index}"),
                )
            })?;
        let list_credential = required_str(
            obj,
            "statusListCredential",
            "credentialStatus.statusListCredential",
        )?;
        let status_size = status_size_of(obj, "credentialStatus.statusSize")?;
        out.push(BitstringEntry {
            purpose: purpose.to_string(),
            index,
            list_credential: list_credential.to_string(),
            status_size,
        });
    }
    Ok(out)
}

/// The credential JSON for `cred`, issued at `now` (used when `valid_from` is unset).
pub fn credential_json(cred: &StatusListCredential, now: i64) -> Result<Map<String, Value>> {
    check_size(cred.status_size, "statusSize")?;
    if cred.list.status_size() != cred.status_size {
        return Err(Error::claim(
            "statusSize",
            format!(
                "is {} but the list has {}-bit entries",
                cred.status_size,
                cred.list.status_size()
            ),
        ));
    }
    let mut subject = Map::new();
    subject.insert("id".into(), format!("{}#list", cred.id).into());
    subject.insert("type".into(), SUBJECT_TYPE.into());
    subject.insert("statusPurpose".into(), cred.purpose.as_str().into());
    subject.insert("statusSize".into(), cred.status_size.into());
    if !cred.status_messages.is_empty() {
        let messages: Vec<Value> = cred
            .status_messages
            .iter()
            .map(|(v, m)| {
                let mut o = Map::new();
                o.insert("status".into(), format!("0x{v:x}").into());
                o.insert("message".into(), m.as_str().into());
                Value::Object(o)
            })
            .collect();
        subject.insert("statusMessage".into(), messages.into());
    }
    subject.insert("encodedList".into(), cred.list.encode().into());
    if let Some(ttl) = cred.ttl {
        subject.insert("ttl".into(), ttl.into());
    }
    let mut c = Map::new();
    c.insert("@context".into(), vec![Value::from(vc::CONTEXT_V2)].into());
    c.insert("id".into(), cred.id.as_str().into());
    c.insert(
        "type".into(),
        vec![Value::from(vc::VC_TYPE), Value::from(CREDENTIAL_TYPE)].into(),
    );
    c.insert("issuer".into(), cred.issuer.as_str().into());
    c.insert(
        "validFrom".into(),
        datetime::format(cred.valid_from.unwrap_or(now)).into(),
    );
    if let Some(u) = cred.valid_until {
        c.insert("validUntil".into(), datetime::format(u).into());
    }
    c.insert("credentialSubject".into(), subject.into());
    Ok(c)
}

/// Sign a `BitstringStatusListCredential` as a `vc+jwt` in the GOV.UK form: header
/// `{alg, typ: vc+jwt, kid}`, payload the credential itself (`@context`, `id`,
/// `type`, `issuer`, `validFrom` (`now` when unset), `validUntil`,
/// `credentialSubject {id: <id>#list, type, statusPurpose, statusSize,
/// statusMessage?, encodedList, ttl?}`).
pub fn sign_credential_jwt(
    cred: &StatusListCredential,
    kid: &str,
    signer: &dyn Signer,
    now: i64,
) -> Result<String> {
    let payload = credential_json(cred, now)?;
    let mut header = Map::new();
    header.insert("typ".into(), crate::format::jwt_vc::TYP.into());
    header.insert("kid".into(), kid.into());
    let body =
        serde_json::to_vec(&payload).map_err(|e| Error::malformed("JWT payload", e.to_string()))?;
    jose::sign_compact(header, &body, signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Alg, SoftwareKey};
    use crate::jose::Jws;
    use crate::ErrorCode;
    use serde_json::json;

    #[test]
    fn msb_first_packing() {
        let mut l = BitstringList::new(1, 16).unwrap();
        l.set(0, 1).unwrap();
        l.set(9, 1).unwrap();
        assert_eq!(l.as_bytes(), [0x80, 0x40]);
        // GOV.UK docs: statusSize 2, bytes 41 11 -> 1,0,0,1,0,1,0,1
        let l = BitstringList::from_bytes(2, vec![0x41, 0x11]).unwrap();
        let got: Vec<u8> = (0..l.len()).map(|i| l.get(i).unwrap()).collect();
        assert_eq!(got, [1, 0, 0, 1, 0, 1, 0, 1]);
        // entries straddling bytes
        let mut l = BitstringList::new(3, 8).unwrap();
        assert_eq!(l.as_bytes().len(), 3);
        for i in 0..8 {
            l.set(i, (i % 8) as u8).unwrap();
        }
        assert_eq!(l.as_bytes(), [0b0000_0101, 0b0011_1001, 0b0111_0111]);
        for i in 0..8 {
            assert_eq!(l.get(i).unwrap(), i as u8);
        }
        l.set(2, 0).unwrap();
        assert_eq!(l.get(1).unwrap(), 1);
        assert_eq!(l.get(2).unwrap(), 0);
        assert_eq!(l.get(3).unwrap(), 3);
        assert_eq!(l.get(8).unwrap_err().code(), ErrorCode::InvalidClaim);
        assert_eq!(l.set(0, 8).unwrap_err().code(), ErrorCode::InvalidClaim);
        assert_eq!(
            BitstringList::new(0, 1).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(
            BitstringList::new(9, 1).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
    }

    #[test]
    fn encode_decode() {
        let mut l = BitstringList::new(8, 100).unwrap();
        l.set(99, 200).unwrap();
        let e = l.encode();
        assert_eq!(BitstringList::decode(8, &e).unwrap(), l);
        assert_eq!(
            BitstringList::decode(8, &e[1..]).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(
            BitstringList::decode(8, &format!("z{}", &e[1..]))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(
            BitstringList::decode(8, &format!("{e}="))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidBase64
        );
    }

    #[test]
    fn entries() {
        let doc = json!({"credentialStatus": [
            {"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "42", "statusListCredential": "https://x/1"},
            {"type": "SomethingElse"},
            {"type": ["BitstringStatusListEntry"], "statusPurpose": "message",
             "statusListIndex": 7, "statusListCredential": "https://x/2", "statusSize": 2},
        ]});
        let e = entries_from_credential(doc.as_object().unwrap()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].index, e[0].status_size), (42, 1));
        assert_eq!((e[1].index, e[1].status_size), (7, 2));
        assert!(entries_from_credential(&Map::new()).unwrap().is_empty());
        for idx in [
            json!("-1"),
            json!("+1"),
            json!(" 1"),
            json!(""),
            json!("1e3"),
            json!("99999999999999999999999"),
            json!(-1),
            json!(1.5),
            json!(null),
        ] {
            let doc = json!({"credentialStatus": {"type": "BitstringStatusListEntry",
                "statusPurpose": "revocation", "statusListIndex": idx,
                "statusListCredential": "https://x/1"}});
            assert_eq!(
                entries_from_credential(doc.as_object().unwrap())
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidClaim,
                "{idx}"
            );
        }
        for bad in [
            json!({"credentialStatus": 5}),
            json!({"credentialStatus": [5]}),
        ] {
            assert_eq!(
                entries_from_credential(bad.as_object().unwrap())
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidClaim
            );
        }
    }

    #[test]
    fn sign_and_parse_round_trip() {
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let mut list = BitstringList::new(2, 1024).unwrap();
        list.set(3, 1).unwrap();
        let cred = StatusListCredential {
            id: "https://crs.example.gov.uk/b/ABC".into(),
            issuer: "https://crs.example.gov.uk/".into(),
            purpose: "message".into(),
            status_size: 2,
            list,
            valid_from: Some(1_700_000_000),
            valid_until: Some(1_700_604_800),
            ttl: Some(3600),
            status_messages: vec![(0, "VALID".into()), (1, "INVALID".into())],
        };
        let jwt = sign_credential_jwt(&cred, "did:web:crs.example.gov.uk#k", &key, 0).unwrap();
        let jws = Jws::decode(&jwt).unwrap();
        jws.verify(key.verifying_key()).unwrap();
        assert_eq!(jws.header_str("typ"), Some("vc+jwt"));
        assert_eq!(jws.kid(), Some("did:web:crs.example.gov.uk#k"));
        let payload = jws.payload_json().unwrap();
        assert_eq!(
            payload["credentialSubject"]["id"],
            "https://crs.example.gov.uk/b/ABC#list"
        );
        assert_eq!(parse_credential(&payload).unwrap(), cred);
        // a status size that disagrees with the list
        let mut wrong = cred.clone();
        wrong.status_size = 1;
        assert_eq!(
            sign_credential_jwt(&wrong, "k", &key, 0)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
    }

    #[test]
    fn parse_rejections() {
        let good = json!({
            "id": "https://x/b/1", "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": {"id": "did:example:1"},
            "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation",
                "encodedList": BitstringList::new(1, 16).unwrap().encode()}
        });
        let c = parse_credential(good.as_object().unwrap()).unwrap();
        assert_eq!(
            (c.issuer.as_str(), c.status_size, c.list.len()),
            ("did:example:1", 1, 16)
        );
        let edits: &[(&str, Value)] = &[
            ("/type", json!(["VerifiableCredential"])),
            ("/id", json!(5)),
            ("/issuer", json!(5)),
            ("/credentialSubject/type", json!("StatusList2021")),
            ("/credentialSubject/statusPurpose", json!(1)),
            ("/credentialSubject/statusSize", json!(9)),
            ("/credentialSubject/statusSize", json!(0)),
            ("/credentialSubject/ttl", json!("-5")),
            ("/credentialSubject/ttl", json!("1h")),
            (
                "/credentialSubject/statusMessage",
                json!([{"status": "0x2", "message": "x"}]),
            ),
            (
                "/credentialSubject/statusMessage",
                json!([{"status": "2", "message": "x"}]),
            ),
            (
                "/credentialSubject/statusMessage",
                json!([{"status": "0x0"}]),
            ),
            ("/credentialSubject/statusMessage", json!({})),
            (
                "/credentialSubject/encodedList",
                json!("H4sIAAAAAAAAA3MUBABJTAvCAgAAAA"),
            ),
        ];
        for (path, v) in edits {
            let mut doc = good.clone();
            let (parent, name) = path.rsplit_once('/').unwrap();
            doc.pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert(name.to_string(), v.clone());
            assert_eq!(
                parse_credential(doc.as_object().unwrap())
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidClaim,
                "{path} = {v}"
            );
        }
        let mut doc = good.clone();
        doc["validFrom"] = json!("yesterday");
        assert_eq!(
            parse_credential(doc.as_object().unwrap())
                .unwrap_err()
                .code(),
            ErrorCode::InvalidDateTime
        );
    }
}
