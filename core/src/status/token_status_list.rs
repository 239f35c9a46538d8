//! IETF Token Status List (draft-ietf-oauth-status-list): the list, its JSON form,
//! the `statuslist+jwt` Status List Token, and the `status.status_list` reference a
//! credential carries.
//!
//! Index `i` of a list with `bits` bits per entry is in byte `i * bits / 8`, at bit
//! offset `(i * bits) % 8` counted from the least significant bit.
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, trust::TrustStore, Signer};
//! use govcred::status::token_status_list::{self, StatusList, StatusListToken};
//!
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut list = StatusList::new(2, 1000).unwrap();
//! list.set(7, 1).unwrap();
//! let token = StatusListToken {
//!     sub: "https://crs.example.gov.uk/t/ABC".into(),
//!     iss: Some("https://crs.example.gov.uk".into()),
//!     iat: 1_700_000_000,
//!     exp: Some(1_700_086_400),
//!     ttl: Some(43_200),
//!     list,
//!     kid: None,
//! };
//! let jwt = token_status_list::sign_token(&token, &key).unwrap();
//!
//! let mut trust = TrustStore::new();
//! trust.add_jwk(&key.public_jwk()).unwrap();
//! let verified = token_status_list::verify_token(&jwt, &trust, 1_700_000_100, 60).unwrap();
//! assert_eq!(verified.list.get(7).unwrap(), 1);
//! ```

use std::fmt;

use serde_json::{Map, Value};

use super::compress;
use crate::b64;
use crate::datetime;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;
use crate::trust::TrustStore;

/// The `typ` of a Status List Token.
pub const TYP: &str = "statuslist+jwt";
/// `typ` values accepted on input.
pub const ACCEPTED_TYP: &[&str] = &[TYP, "application/statuslist+jwt"];
/// Largest list accepted, in entries (2^27: 16 MiB at 1 bit, 128 MiB at 8 bits).
pub const MAX_ENTRIES: usize = 1 << 27;
/// Largest `lst` text accepted, in characters.
pub const MAX_COMPRESSED_LEN: usize = 4 << 20;

/// Whether `bits` is a permitted entry width (1, 2, 4 or 8).
pub(crate) fn valid_bits(bits: u8) -> bool {
    matches!(bits, 1 | 2 | 4 | 8)
}

fn check_bits(bits: u8) -> Result<()> {
    if valid_bits(bits) {
        Ok(())
    } else {
        Err(Error::claim(
            "bits",
            format!("must be 1, 2, 4 or 8, not {bits}"),
        ))
    }
}

/// Most bytes a list of `bits`-bit entries may decompress to.
fn byte_cap(bits: u8) -> usize {
    MAX_ENTRIES / 8 * usize::from(bits)
}

/// A Token Status List: `bits` bits per entry, packed least significant bit first.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

impl fmt::Debug for StatusList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits)
            .field("entries", &self.len())
            .finish()
    }
}

impl StatusList {
    /// An all-zero (all VALID) list of at least `size` entries: the length is rounded
    /// up to whole bytes. `bits` must be 1, 2, 4 or 8; `size` at most [`MAX_ENTRIES`].
    pub fn new(bits: u8, size: usize) -> Result<Self> {
        check_bits(bits)?;
        if size > MAX_ENTRIES {
            return Err(Error::TooLarge {
                what: "status list (entries)",
                size,
                limit: MAX_ENTRIES,
            });
        }
        let nbytes = (size * usize::from(bits)).div_ceil(8);
        Ok(StatusList {
            bits,
            bytes: vec![0; nbytes],
        })
    }

    /// A list over already-packed `bytes` (at most [`MAX_ENTRIES`] entries).
    pub fn from_bytes(bits: u8, bytes: Vec<u8>) -> Result<Self> {
        check_bits(bits)?;
        if bytes.len() > byte_cap(bits) {
            return Err(Error::TooLarge {
                what: "status list",
                size: bytes.len(),
                limit: byte_cap(bits),
            });
        }
        Ok(StatusList { bits, bytes })
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries (`bytes * 8 / bits`).
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / usize::from(self.bits)
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed bytes (uncompressed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn mask(&self) -> u8 {
        u8::MAX >> (8 - self.bits)
    }

    /// Byte index and shift of entry `idx`.
    fn locate(&self, idx: usize) -> Result<(usize, u32)> {
        if idx >= self.len() {
            return Err(Error::claim(
                "idx",
                format!(
                    "index {idx} is out of range: the list has {} entries",
                    self.len()
                ),
            ));
        }
        // idx < len = bytes * 8 / bits, so idx * bits < bytes * 8: no overflow.
        let bit = idx * usize::from(self.bits);
        Ok((bit / 8, (bit % 8) as u32))
    }

    /// The status value of entry `idx`.
    pub fn get(&self, idx: usize) -> Result<u8> {
        let (byte, shift) = self.locate(idx)?;
        let b = self.bytes.get(byte).copied().unwrap_or(0);
        Ok((b >> shift) & self.mask())
    }

    /// Set entry `idx` to `value`, which must fit in [`StatusList::bits`] bits.
    pub fn set(&mut self, idx: usize, value: u8) -> Result<()> {
        let mask = self.mask();
        if value > mask {
            return Err(Error::claim(
                "status",
                format!("value {value} does not fit in {} bits", self.bits),
            ));
        }
        let (byte, shift) = self.locate(idx)?;
        if let Some(b) = self.bytes.get_mut(byte) {
            *b = (*b & !(mask << shift)) | (value << shift);
        }
        Ok(())
    }

    /// The `lst` member: base64url (no padding) of the zlib-compressed bytes.
    pub fn to_lst(&self) -> String {
        b64::encode(compress::zlib(&self.bytes))
    }

    /// Decode an `lst` member. The compressed text is limited to
    /// [`MAX_COMPRESSED_LEN`] and the decompressed bytes to [`MAX_ENTRIES`] entries;
    /// past either, [`Error::TooLarge`] (decompression stops at the cap).
    pub fn from_lst(bits: u8, lst: &str) -> Result<Self> {
        check_bits(bits)?;
        if lst.len() > MAX_COMPRESSED_LEN {
            return Err(Error::TooLarge {
                what: "status list `lst`",
                size: lst.len(),
                limit: MAX_COMPRESSED_LEN,
            });
        }
        let compressed = b64::decode(lst, "status list `lst`")?;
        let bytes = compress::unzlib(&compressed, byte_cap(bits), "status list `lst`")?;
        Ok(StatusList { bits, bytes })
    }

    /// The JSON form, `{"bits": n, "lst": "..."}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("bits".into(), self.bits.into());
        m.insert("lst".into(), self.to_lst().into());
        Value::Object(m)
    }

    /// Parse the JSON form (other members, such as `aggregation_uri`, are ignored).
    pub fn from_json(v: &Value) -> Result<Self> {
        let obj = v.as_object().ok_or_else(|| {
            Error::claim("status_list", "must be a JSON object with `bits` and `lst`")
        })?;
        let bits = obj
            .get("bits")
            .ok_or_else(|| Error::claim("status_list.bits", "required"))?;
        let bits = bits
            .as_u64()
            .and_then(|b| u8::try_from(b).ok())
            .filter(|b| valid_bits(*b))
            .ok_or_else(|| {
                Error::claim(
                    "status_list.bits",
                    format!("must be 1, 2, 4 or 8, not {bits}"),
                )
            })?;
        let lst = obj
            .get("lst")
            .ok_or_else(|| Error::claim("status_list.lst", "required"))?
            .as_str()
            .ok_or_else(|| Error::claim("status_list.lst", "must be a string"))?;
        Self::from_lst(bits, lst)
    }
}

/// A Status List Token (`statuslist+jwt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListToken {
    /// `sub`: the URI of this list (what referenced tokens put in `uri`).
    pub sub: String,
    /// `iss`, if any.
    pub iss: Option<String>,
    /// `iat`, Unix seconds.
    pub iat: i64,
    /// `exp`, Unix seconds, if any.
    pub exp: Option<i64>,
    /// `ttl`: how long (seconds) the list may be cached before fetching it again.
    pub ttl: Option<i64>,
    /// The list.
    pub list: StatusList,
    /// The header `kid`.
    pub kid: Option<String>,
}

/// Sign a Status List Token: header `{alg, typ: statuslist+jwt, kid?}`, payload
/// `{sub, iss?, iat, exp?, ttl?, status_list: {bits, lst}}`.
pub fn sign_token(token: &StatusListToken, signer: &dyn Signer) -> Result<String> {
    let mut header = Map::new();
    header.insert("typ".into(), TYP.into());
    if let Some(kid) = &token.kid {
        header.insert("kid".into(), kid.as_str().into());
    }
    let mut payload = Map::new();
    payload.insert("sub".into(), token.sub.as_str().into());
    if let Some(iss) = &token.iss {
        payload.insert("iss".into(), iss.as_str().into());
    }
    payload.insert("iat".into(), token.iat.into());
    if let Some(exp) = token.exp {
        payload.insert("exp".into(), exp.into());
    }
    if let Some(ttl) = token.ttl {
        payload.insert("ttl".into(), ttl.into());
    }
    payload.insert("status_list".into(), token.list.to_json());
    let body =
        serde_json::to_vec(&payload).map_err(|e| Error::malformed("JWT payload", e.to_string()))?;
    jose::sign_compact(header, &body, signer)
}

/// Verify a Status List Token at `now` (Unix seconds) with `leeway` seconds of skew:
/// `typ` must be `statuslist+jwt` (or `application/statuslist+jwt`); the signature
/// must verify with one of `trust.issuer_keys(kid, alg)`; `sub` and `iat` are
/// required; a passed `exp` is [`Error::Expired`].
///
/// The caller still checks that `sub` is the `uri` the referenced token named.
pub fn verify_token(
    jwt: &str,
    trust: &TrustStore,
    now: i64,
    leeway: i64,
) -> Result<StatusListToken> {
    let jws = Jws::decode(jwt)?;
    match jws.header().get("typ") {
        Some(Value::String(t)) if ACCEPTED_TYP.contains(&t.as_str()) => {}
        other => {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: other.map_or_else(|| "(absent)".into(), Value::to_string),
                expected: TYP,
            })
        }
    }
    crate::trust::first_verifying_key(&jws, trust.issuer_keys(jws.kid(), jws.alg())?)?;
    let claims = jws.payload_json()?;
    let sub = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(Error::claim("sub", "must be a non-empty string")),
        None => return Err(Error::claim("sub", "required in a Status List Token")),
    };
    let iss = match claims.get("iss") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Error::claim("iss", "must be a string")),
    };
    let iat = numeric_date(&claims, "iat")?
        .ok_or_else(|| Error::claim("iat", "required in a Status List Token"))?;
    let exp = numeric_date(&claims, "exp")?;
    let ttl = numeric_date(&claims, "ttl")?;
    if ttl.is_some_and(|t| t < 0) {
        return Err(Error::claim("ttl", "must be a positive number of seconds"));
    }
    let list = StatusList::from_json(
        claims
            .get("status_list")
            .ok_or_else(|| Error::claim("status_list", "required in a Status List Token"))?,
    )?;
    if let Some(exp) = exp {
        if now > exp.saturating_add(leeway) {
            return Err(Error::Expired {
                until: datetime::format(exp),
                at: datetime::format(now),
            });
        }
    }
    Ok(StatusListToken {
        sub,
        iss,
        iat,
        exp,
        ttl,
        list,
        kid: jws.kid().map(str::to_string),
    })
}

/// A number of seconds (NumericDate): an integer, or a finite number truncated.
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 9.0e18)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| Error::claim(name, "must be a number of seconds")),
        Some(_) => Err(Error::claim(name, "must be a number of seconds")),
    }
}

/// A referenced token's `status.status_list` claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReference {
    /// `idx`: the entry in the list.
    pub idx: usize,
    /// `uri`: where the Status List Token is published (its `sub`).
    pub uri: String,
}

/// Read `status.status_list {idx, uri}` from a JWT / SD-JWT payload.
///
/// `Ok(None)` when there is no `status` claim, or when it names only other status
/// mechanisms; an error when `status` or `status_list` is malformed.
pub fn reference_from_claims(claims: &Map<String, Value>) -> Result<Option<StatusReference>> {
    let Some(status) = claims.get("status") else {
        return Ok(None);
    };
    let status = status
        .as_object()
        .ok_or_else(|| Error::claim("status", "must be a JSON object"))?;
    if status.is_empty() {
        return Err(Error::claim(
            "status",
            "must reference at least one status mechanism",
        ));
    }
    let Some(list) = status.get("status_list") else {
        return Ok(None);
    };
    let list = list
        .as_object()
        .ok_or_else(|| Error::claim("status.status_list", "must be a JSON object"))?;
    let idx = match list.get("idx") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| {
                Error::claim(
                    "status.status_list.idx",
                    format!("must be a non-negative integer, not {n}"),
                )
            })?,
        Some(_) => {
            return Err(Error::claim(
                "status.status_list.idx",
                "must be a non-negative integer",
            ))
        }
        None => return Err(Error::claim("status.status_list.idx", "required")),
    };
    let uri = match list.get("uri") {
        Some(Value::String(u)) if !u.is_empty() => u.clone(),
        Some(_) => {
            return Err(Error::claim(
                "status.status_list.uri",
                "must be a non-empty string",
            ))
        }
        None => return Err(Error::claim("status.status_list.uri", "required")),
    };
    Ok(Some(StatusReference { idx, uri }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Alg, SoftwareKey};
    use crate::ErrorCode;
    use serde_json::json;

    #[test]
    fn spec_examples_pack_lsb_first() {
        // draft-ietf-oauth-status-list, "Compressed Byte Array"
        let mut l = StatusList::new(1, 16).unwrap();
        for (i, v) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
            .into_iter()
            .enumerate()
        {
            l.set(i, v).unwrap();
        }
        assert_eq!(l.as_bytes(), [0xb9, 0xa3]);
        assert_eq!(l.to_lst(), "eNrbuRgAAhcBXQ");
        let mut l = StatusList::new(2, 12).unwrap();
        for (i, v) in [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3].into_iter().enumerate() {
            l.set(i, v).unwrap();
        }
        assert_eq!(l.as_bytes(), [0xc9, 0x44, 0xf9]);
        let back = StatusList::from_lst(2, &l.to_lst()).unwrap();
        assert_eq!(back, l);
    }

    #[test]
    fn sizes_and_bounds() {
        assert_eq!(StatusList::new(1, 0).unwrap().len(), 0);
        assert!(StatusList::new(1, 0).unwrap().is_empty());
        assert_eq!(StatusList::new(1, 9).unwrap().len(), 16);
        assert_eq!(StatusList::new(8, 3).unwrap().len(), 3);
        assert_eq!(StatusList::new(4, 3).unwrap().len(), 4);
        for bits in [0, 3, 5, 16, 255] {
            assert_eq!(
                StatusList::new(bits, 8).unwrap_err().code(),
                ErrorCode::InvalidClaim
            );
        }
        assert_eq!(
            StatusList::new(1, MAX_ENTRIES + 1).unwrap_err().code(),
            ErrorCode::InputTooLarge
        );
        let mut l = StatusList::new(4, 4).unwrap();
        assert_eq!(l.get(4).unwrap_err().code(), ErrorCode::InvalidClaim);
        assert_eq!(
            l.get(usize::MAX).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(l.set(0, 16).unwrap_err().code(), ErrorCode::InvalidClaim);
        l.set(3, 15).unwrap();
        assert_eq!(l.get(3).unwrap(), 15);
        assert_eq!(l.get(2).unwrap(), 0);
        let mut l = StatusList::new(8, 2).unwrap();
        l.set(1, 255).unwrap();
        assert_eq!(l.as_bytes(), [0, 255]);
    }

    #[test]
    fn json_form() {
        let l = StatusList::from_json(&json!({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})).unwrap();
        assert_eq!(l.get(0).unwrap(), 1);
        for bad in [
            json!([]),
            json!({"lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": "1", "lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": 1.5, "lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": 257, "lst": "eNrbuRgAAhcBXQ"}),
            json!({"bits": 1}),
            json!({"bits": 1, "lst": 5}),
        ] {
            assert_eq!(
                StatusList::from_json(&bad).unwrap_err().code(),
                ErrorCode::InvalidClaim,
                "{bad}"
            );
        }
        assert_eq!(
            StatusList::from_json(&json!({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidBase64
        );
    }

    #[test]
    fn token_round_trip_and_rejections() {
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let mut list = StatusList::new(1, 16).unwrap();
        list.set(5, 1).unwrap();
        let token = StatusListToken {
            sub: "https://example.com/statuslists/1".into(),
            iss: None,
            iat: 1000,
            exp: Some(2000),
            ttl: None,
            list,
            kid: Some(key.verifying_key().thumbprint()),
        };
        let jwt = sign_token(&token, &key).unwrap();
        let mut trust = TrustStore::new();
        trust.add_jwk(&key.public_jwk()).unwrap();
        assert_eq!(verify_token(&jwt, &trust, 1500, 0).unwrap(), token);
        assert_eq!(verify_token(&jwt, &trust, 2010, 10).unwrap(), token);
        assert_eq!(
            verify_token(&jwt, &trust, 2011, 10).unwrap_err().code(),
            ErrorCode::Expired
        );
        assert_eq!(
            verify_token(&jwt, &TrustStore::new(), 1500, 0)
                .unwrap_err()
                .code(),
            ErrorCode::UnknownKey
        );
        // sub, iat and status_list are required
        for drop in ["sub", "iat", "status_list"] {
            let mut payload = serde_json::Map::new();
            payload.insert("sub".into(), "https://x".into());
            payload.insert("iat".into(), 1.into());
            payload.insert("status_list".into(), token.list.to_json());
            payload.remove(drop);
            let mut header = Map::new();
            header.insert("typ".into(), TYP.into());
            let t =
                jose::sign_compact(header, &serde_json::to_vec(&payload).unwrap(), &key).unwrap();
            assert_eq!(
                verify_token(&t, &trust, 1500, 0).unwrap_err().code(),
                ErrorCode::InvalidClaim,
                "{drop}"
            );
        }
    }

    #[test]
    fn references() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(reference_from_claims(&claims(json!({}))).unwrap(), None);
        assert_eq!(
            reference_from_claims(&claims(json!({"status": {"other": {}}}))).unwrap(),
            None
        );
        assert_eq!(
            reference_from_claims(&claims(
                json!({"status": {"status_list": {"idx": 5, "uri": "https://x/t/1"}}})
            ))
            .unwrap(),
            Some(StatusReference {
                idx: 5,
                uri: "https://x/t/1".into()
            })
        );
        for bad in [
            json!({"status": 1}),
            json!({"status": {}}),
            json!({"status": {"status_list": []}}),
            json!({"status": {"status_list": {"uri": "https://x"}}}),
            json!({"status": {"status_list": {"idx": -1, "uri": "https://x"}}}),
            json!({"status": {"status_list": {"idx": 1.5, "uri": "https://x"}}}),
            json!({"status": {"status_list": {"idx": "1", "uri": "https://x"}}}),
            json!({"status": {"status_list": {"idx": 1}}}),
            json!({"status": {"status_list": {"idx": 1, "uri": ""}}}),
        ] {
            assert_eq!(
                reference_from_claims(&claims(bad.clone()))
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidClaim,
                "{bad}"
            );
        }
    }
}
