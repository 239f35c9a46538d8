//! The CWT form of a Status List Token (`application/statuslist+cwt`,
//! draft-ietf-oauth-status-list §5.2), for mdocs.
//!
//! A `COSE_Sign1` (tag 18 on output; tagged or untagged accepted) with protected header
//! `{1: alg, 16: "application/statuslist+cwt", 4: kid?}`, an optional `x5chain`
//! (label 33) in the unprotected header, and a CWT claims payload
//! `{2: sub, 1: iss?, 6: iat, 4: exp?, 65534: ttl?, 65533: {"bits": n, "lst": bstr}}`
//! where `lst` is the zlib-compressed list bytes (not base64). The list itself is the
//! same [`StatusList`] as in the JWT form, so a verified CWT loads into the same
//! [`StatusListToken`] and status cache.
//!
//! Verification: with an `x5chain`, the leaf certificate must chain to a trusted root
//! of the [`TrustStore`] (as for an mdoc Document Signer, without the DS EKU); without
//! one, the key is found among the trusted keys by `kid` (as for the JWT form).
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, trust::TrustStore, Signer};
//! use govcred::status::{cwt, StatusList, StatusListToken};
//!
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut list = StatusList::new(2, 64).unwrap();
//! list.set(9, 1).unwrap();
//! let token = StatusListToken {
//!     sub: "https://crs.example.gov.uk/t/ABC".into(),
//!     iss: None,
//!     iat: 1_700_000_000,
//!     exp: Some(1_700_086_400),
//!     ttl: Some(43_200),
//!     list,
//!     kid: None,
//! };
//! let bytes = cwt::sign_cwt(&token, &key, &[]).unwrap();
//!
//! let mut trust = TrustStore::new();
//! trust.add_jwk(&key.public_jwk()).unwrap();
//! let verified = cwt::verify_cwt(&bytes, &trust, 1_700_000_100, 60).unwrap();
//! assert_eq!(verified.list.get(9).unwrap(), 1);
//! ```

use std::sync::Arc;

use coset::cbor::value::Value as Cbor;
use coset::{iana, CborSerializable, CoseSign1, Label, TaggedCborSerializable};

use super::compress;
use super::token_status_list::{StatusList, StatusListToken, MAX_COMPRESSED_LEN};
use crate::crypto::Alg;
use crate::datetime;
use crate::error::{Error, Result};
use crate::platform::Signer;
use crate::trust::{IssuerKey, KeySource, TrustStore};
use crate::x509::{self, Certificate};

/// The `typ` (COSE header label 16) of a Status List Token in CWT form.
pub const TYP: &str = "application/statuslist+cwt";
/// COSE header label `typ` (RFC 9596).
pub const LABEL_TYP: i64 = 16;
/// COSE header label `x5chain` (RFC 9360).
pub const LABEL_X5CHAIN: i64 = 33;
/// CWT claim keys.
const CLAIM_ISS: i64 = 1;
const CLAIM_SUB: i64 = 2;
const CLAIM_EXP: i64 = 4;
const CLAIM_IAT: i64 = 6;
const CLAIM_STATUS_LIST: i64 = 65533;
const CLAIM_TTL: i64 = 65534;
/// Largest CWT accepted, in bytes: the largest `lst` plus room for headers and a chain.
pub const MAX_CWT_LEN: usize = MAX_COMPRESSED_LEN + 64 * 1024;

fn bad(reason: impl Into<String>) -> Error {
    Error::malformed("statuslist+cwt", reason)
}

fn cose_alg(alg: Alg) -> iana::Algorithm {
    match alg {
        Alg::ES256 => iana::Algorithm::ES256,
        Alg::EdDSA => iana::Algorithm::EdDSA,
        Alg::ES384 => iana::Algorithm::ES384,
    }
}

/// Sign a Status List Token as a tagged `COSE_Sign1` CWT. `x5chain` (leaf first),
/// when not empty, goes in the unprotected header (one certificate as a byte string,
/// several as an array), so verifiers can chain the signer to a root they trust.
pub fn sign_cwt(
    token: &StatusListToken,
    signer: &dyn Signer,
    x5chain: &[Certificate],
) -> Result<Vec<u8>> {
    sign_with_typ(token, signer, x5chain, Some(TYP))
}

fn sign_with_typ(
    token: &StatusListToken,
    signer: &dyn Signer,
    x5chain: &[Certificate],
    typ: Option<&str>,
) -> Result<Vec<u8>> {
    let mut protected = coset::HeaderBuilder::new().algorithm(cose_alg(signer.alg()));
    if let Some(typ) = typ {
        protected = protected.value(LABEL_TYP, Cbor::Text(typ.into()));
    }
    if let Some(kid) = &token.kid {
        protected = protected.key_id(kid.as_bytes().to_vec());
    }
    let mut unprotected = coset::HeaderBuilder::new();
    match x5chain {
        [] => {}
        [one] => unprotected = unprotected.value(LABEL_X5CHAIN, Cbor::Bytes(one.der().to_vec())),
        many => {
            unprotected = unprotected.value(
                LABEL_X5CHAIN,
                Cbor::Array(many.iter().map(|c| Cbor::Bytes(c.der().to_vec())).collect()),
            )
        }
    }
    let mut claims = vec![(
        Cbor::Integer(CLAIM_SUB.into()),
        Cbor::Text(token.sub.clone()),
    )];
    if let Some(iss) = &token.iss {
        claims.push((Cbor::Integer(CLAIM_ISS.into()), Cbor::Text(iss.clone())));
    }
    claims.push((
        Cbor::Integer(CLAIM_IAT.into()),
        Cbor::Integer(token.iat.into()),
    ));
    if let Some(exp) = token.exp {
        claims.push((Cbor::Integer(CLAIM_EXP.into()), Cbor::Integer(exp.into())));
    }
    if let Some(ttl) = token.ttl {
        claims.push((Cbor::Integer(CLAIM_TTL.into()), Cbor::Integer(ttl.into())));
    }
    claims.push((
        Cbor::Integer(CLAIM_STATUS_LIST.into()),
        Cbor::Map(vec![
            (
                Cbor::Text("bits".into()),
                Cbor::Integer(token.list.bits().into()),
            ),
            (
                Cbor::Text("lst".into()),
                Cbor::Bytes(compress::zlib(token.list.as_bytes())),
            ),
        ]),
    ));
    let mut payload = Vec::new();
    ciborium::ser::into_writer(&Cbor::Map(claims), &mut payload)
        .map_err(|e| bad(format!("cannot encode the claims: {e}")))?;
    let sign1 = coset::CoseSign1Builder::new()
        .protected(protected.build())
        .unprotected(unprotected.build())
        .payload(payload)
        .try_create_signature(&[], |tbs| signer.sign(tbs))?
        .build();
    sign1
        .to_tagged_vec()
        .map_err(|e| bad(format!("cannot encode COSE_Sign1: {e}")))
}

/// Whether `bytes` look like a COSE_Sign1 (tag 18, or an untagged 4-element array),
/// rather than a compact JWS.
pub fn looks_like_cwt(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0xd2 | 0x84))
}

fn parse(bytes: &[u8]) -> Result<CoseSign1> {
    if bytes.len() > MAX_CWT_LEN {
        return Err(Error::TooLarge {
            what: "statuslist+cwt",
            size: bytes.len(),
            limit: MAX_CWT_LEN,
        });
    }
    let parsed = if bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(bytes)
    } else {
        CoseSign1::from_slice(bytes)
    };
    parsed.map_err(|e| bad(format!("not a COSE_Sign1: {e}")))
}

fn header_value(sign1: &CoseSign1, label: i64) -> Option<&Cbor> {
    fn find(h: &coset::Header, label: i64) -> Option<&Cbor> {
        h.rest
            .iter()
            .find(|(l, _)| *l == Label::Int(label))
            .map(|(_, v)| v)
    }
    find(&sign1.protected.header, label).or_else(|| find(&sign1.unprotected, label))
}

fn x5chain(sign1: &CoseSign1) -> Result<Option<Vec<Certificate>>> {
    let ders: Vec<&[u8]> = match header_value(sign1, LABEL_X5CHAIN) {
        None => return Ok(None),
        Some(Cbor::Bytes(b)) => vec![b],
        Some(Cbor::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Cbor::Bytes(b) => Ok(b.as_slice()),
                _ => Err(bad("x5chain entries must be byte strings")),
            })
            .collect::<Result<_>>()?,
        Some(_) => {
            return Err(bad(
                "x5chain (label 33) must be a byte string or a non-empty array of them",
            ))
        }
    };
    if ders.len() > x509::MAX_CHAIN_CERTIFICATES {
        return Err(Error::TooLarge {
            what: "statuslist+cwt x5chain (counted in certificates)",
            size: ders.len(),
            limit: x509::MAX_CHAIN_CERTIFICATES,
        });
    }
    ders.into_iter()
        .map(Certificate::from_der)
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn int_claim(claims: &[(Cbor, Cbor)], key: i64, name: &'static str) -> Result<Option<i64>> {
    match claim(claims, key) {
        None => Ok(None),
        Some(Cbor::Integer(i)) => i64::try_from(*i)
            .map(Some)
            .map_err(|_| Error::claim(name, "out of range")),
        Some(Cbor::Float(f)) if f.is_finite() && f.abs() < 9.0e18 => Ok(Some(*f as i64)),
        Some(_) => Err(Error::claim(name, "must be a number of seconds")),
    }
}

fn claim(claims: &[(Cbor, Cbor)], key: i64) -> Option<&Cbor> {
    claims
        .iter()
        .find(|(k, _)| matches!(k, Cbor::Integer(i) if i128::from(*i) == i128::from(key)))
        .map(|(_, v)| v)
}

fn status_list(v: &Cbor) -> Result<StatusList> {
    let Cbor::Map(m) = v else {
        return Err(Error::claim(
            "status_list",
            "must be a CBOR map with \"bits\" and \"lst\"",
        ));
    };
    let get = |name: &str| {
        m.iter()
            .find(|(k, _)| matches!(k, Cbor::Text(t) if t == name))
            .map(|(_, v)| v)
    };
    let bits = match get("bits") {
        Some(Cbor::Integer(i)) => u8::try_from(*i)
            .ok()
            .filter(|b| super::token_status_list::valid_bits(*b))
            .ok_or_else(|| {
                Error::claim(
                    "status_list.bits",
                    format!("must be 1, 2, 4 or 8, not {}", i128::from(*i)),
                )
            })?,
        Some(_) => return Err(Error::claim("status_list.bits", "must be 1, 2, 4 or 8")),
        None => return Err(Error::claim("status_list.bits", "required")),
    };
    let lst = match get("lst") {
        Some(Cbor::Bytes(b)) => b,
        Some(_) => {
            return Err(Error::claim(
                "status_list.lst",
                "must be a byte string (zlib-compressed list) in the CWT form",
            ))
        }
        None => return Err(Error::claim("status_list.lst", "required")),
    };
    let cap = super::token_status_list::MAX_ENTRIES / 8 * usize::from(bits);
    let bytes = compress::unzlib(lst, cap, "status list `lst`")?;
    StatusList::from_bytes(bits, bytes)
}

/// The key that made the signature: the x5chain leaf chained to a trusted root, or a
/// trusted key matched by `kid`.
fn signing_key(
    sign1: &CoseSign1,
    alg: Alg,
    trust: &TrustStore,
    now: i64,
    leeway: i64,
) -> Result<IssuerKey> {
    let tbs = sign1.tbs_data(&[]);
    if let Some(chain) = x5chain(sign1)? {
        if trust.roots().is_empty() {
            return Err(Error::UnknownKey(
                "the statuslist+cwt x5chain: no trusted root certificates are configured (add the issuer's IACA)".into(),
            ));
        }
        let roots: Vec<Certificate> = trust.roots().iter().map(|r| (**r).clone()).collect();
        let key = x509::verify_chain(&chain, &roots, now, leeway, None)?;
        key.verify(alg, &tbs, &sign1.signature)?;
        let root = chain.last().map(Certificate::issuer).unwrap_or_default();
        return Ok(IssuerKey {
            key: Arc::new(key),
            source: KeySource::Certificate {
                subject: chain[0].subject(),
                root,
            },
        });
    }
    let kid_bytes = if sign1.protected.header.key_id.is_empty() {
        &sign1.unprotected.key_id
    } else {
        &sign1.protected.header.key_id
    };
    let kid = if kid_bytes.is_empty() {
        None
    } else {
        Some(String::from_utf8(kid_bytes.clone()).map_err(|_| {
            Error::UnknownKey("a statuslist+cwt whose kid is not UTF-8 text".into())
        })?)
    };
    let mut first_err = None;
    for k in trust.issuer_keys(kid.as_deref(), alg)? {
        match k.key.verify(alg, &tbs, &sign1.signature) {
            Ok(()) => return Ok(k),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| {
        Error::UnknownKey(format!(
            "statuslist+cwt kid {:?}",
            kid.as_deref().unwrap_or("(none)")
        ))
    }))
}

/// Verify a Status List Token in CWT form at `now` (Unix seconds) with `leeway`
/// seconds of skew: protected `typ` must be `application/statuslist+cwt`, `alg` ES256
/// or EdDSA, no unknown `crit`; the signature must verify (see the module docs for
/// which key); `sub` (2), `iat` (6) and `status_list` (65533) are required; a passed
/// `exp` is [`Error::Expired`].
pub fn verify_cwt(
    bytes: &[u8],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
) -> Result<StatusListToken> {
    let (token, _) = verify_cwt_with_key(bytes, trust, now, leeway)?;
    Ok(token)
}

/// [`verify_cwt`], also returning the key that verified it.
pub fn verify_cwt_with_key(
    bytes: &[u8],
    trust: &TrustStore,
    now: i64,
    leeway: i64,
) -> Result<(StatusListToken, IssuerKey)> {
    let (sign1, claims) = decode_unverified(bytes)?;
    let alg = match &sign1.protected.header.alg {
        Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)) => Alg::ES256,
        Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) => Alg::EdDSA,
        Some(other) => {
            return Err(Error::AlgNotAllowed {
                alg: format!("COSE alg {other:?}"),
            })
        }
        None => {
            return Err(Error::AlgNotAllowed {
                alg: "none: the protected header has no alg".into(),
            })
        }
    };
    if let Some(first) = sign1.protected.header.crit.first() {
        return Err(Error::UnsupportedCritical(format!("{first:?}")));
    }
    match sign1
        .protected
        .header
        .rest
        .iter()
        .find(|(l, _)| *l == Label::Int(LABEL_TYP))
    {
        Some((_, Cbor::Text(t))) if t == TYP => {}
        other => {
            return Err(Error::TypeMismatch {
                header: "typ (COSE label 16)",
                found: other.map_or_else(|| "(absent)".into(), |(_, v)| format!("{v:?}")),
                expected: TYP,
            })
        }
    }
    let key = signing_key(&sign1, alg, trust, now, leeway)?;
    let token = token_from_claims(&claims, kid_text(&sign1))?;
    if let Some(exp) = token.exp {
        if now > exp.saturating_add(leeway) {
            return Err(Error::Expired {
                until: datetime::format(exp),
                at: datetime::format(now),
            });
        }
    }
    Ok((token, key))
}

fn kid_text(sign1: &CoseSign1) -> Option<String> {
    let k = if sign1.protected.header.key_id.is_empty() {
        &sign1.unprotected.key_id
    } else {
        &sign1.protected.header.key_id
    };
    (!k.is_empty()).then(|| String::from_utf8_lossy(k).into_owned())
}

/// Parse without verifying: the COSE_Sign1 and its claims map.
fn decode_unverified(bytes: &[u8]) -> Result<(CoseSign1, Vec<(Cbor, Cbor)>)> {
    let sign1 = parse(bytes)?;
    let payload = sign1
        .payload
        .as_deref()
        .ok_or_else(|| bad("detached payloads are not supported"))?;
    let claims: Cbor = ciborium::de::from_reader(payload)
        .map_err(|e| bad(format!("the payload is not CBOR: {e}")))?;
    let Cbor::Map(claims) = claims else {
        return Err(bad("the payload must be a CBOR map of CWT claims"));
    };
    Ok((sign1, claims))
}

/// The `iat` of a CWT without verifying it (for checking a certificate chain as of the
/// list's issue time).
pub fn unverified_iat(bytes: &[u8]) -> Option<i64> {
    let (_, claims) = decode_unverified(bytes).ok()?;
    int_claim(&claims, CLAIM_IAT, "iat").ok().flatten()
}

fn token_from_claims(claims: &[(Cbor, Cbor)], kid: Option<String>) -> Result<StatusListToken> {
    let sub = match claim(claims, CLAIM_SUB) {
        Some(Cbor::Text(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(Error::claim("sub", "must be a non-empty text string")),
        None => return Err(Error::claim("sub", "required in a Status List Token")),
    };
    let iss = match claim(claims, CLAIM_ISS) {
        None => None,
        Some(Cbor::Text(s)) => Some(s.clone()),
        Some(_) => return Err(Error::claim("iss", "must be a text string")),
    };
    let iat = int_claim(claims, CLAIM_IAT, "iat")?
        .ok_or_else(|| Error::claim("iat", "required in a Status List Token"))?;
    let exp = int_claim(claims, CLAIM_EXP, "exp")?;
    let ttl = int_claim(claims, CLAIM_TTL, "ttl")?;
    if ttl.is_some_and(|t| t < 0) {
        return Err(Error::claim("ttl", "must be a positive number of seconds"));
    }
    let list = status_list(
        claim(claims, CLAIM_STATUS_LIST)
            .ok_or_else(|| Error::claim("status_list", "required in a Status List Token"))?,
    )?;
    Ok(StatusListToken {
        sub,
        iss,
        iat,
        exp,
        ttl,
        list,
        kid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SoftwareKey;
    use crate::ErrorCode;

    fn token(bits: u8, kid: Option<String>) -> StatusListToken {
        let mut list = StatusList::new(bits, 100).unwrap();
        list.set(3, 1).unwrap();
        StatusListToken {
            sub: "https://example.com/t/1".into(),
            iss: Some("https://example.com".into()),
            iat: 1000,
            exp: Some(2000),
            ttl: Some(300),
            list,
            kid,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let other = SoftwareKey::generate(Alg::ES256).unwrap();
        let mut trust = TrustStore::new();
        trust.add_jwk(&key.public_jwk()).unwrap();
        let t = token(2, Some(key.verifying_key().thumbprint()));
        let bytes = sign_cwt(&t, &key, &[]).unwrap();
        assert!(looks_like_cwt(&bytes));
        assert_eq!(verify_cwt(&bytes, &trust, 1500, 0).unwrap(), t);
        assert_eq!(unverified_iat(&bytes), Some(1000));
        assert_eq!(
            verify_cwt(&bytes, &trust, 2001, 0).unwrap_err().code(),
            ErrorCode::Expired
        );
        let forged = sign_cwt(&t, &other, &[]).unwrap();
        assert_eq!(
            verify_cwt(&forged, &trust, 1500, 0).unwrap_err().code(),
            ErrorCode::SignatureInvalid
        );
        assert_eq!(
            verify_cwt(&bytes[..bytes.len() - 3], &trust, 1500, 0)
                .unwrap_err()
                .code(),
            ErrorCode::MalformedInput
        );
        assert_eq!(
            verify_cwt(b"", &trust, 1500, 0).unwrap_err().code(),
            ErrorCode::MalformedInput
        );
        // typ (label 16) must be application/statuslist+cwt, in the protected header.
        for typ in [
            None,
            Some("application/statuslist+jwt"),
            Some("statuslist+cwt"),
        ] {
            let b = sign_with_typ(&t, &key, &[], typ).unwrap();
            assert_eq!(
                verify_cwt(&b, &trust, 1500, 0).unwrap_err().code(),
                ErrorCode::TypeMismatch,
                "{typ:?}"
            );
        }
    }
}
