//! The GOV.UK Status List Service ("CRS") issuer API, with no I/O: the signed request
//! JWTs a department sends to `POST /issue` and `POST /revoke`, and their checks on the
//! service side (GOV.UK profile §7; `crs-private.openapi.yaml`).
//!
//! A request is an ES256 JWT with header `{typ: "JWT", alg: "ES256", kid}` (the `kid`
//! names a key in the department's registered JWKS) and payload `{iss: clientId, iat,
//! jti: lower-case UUID, statusExpiry}` (issue) or `{iss, iat, jti, uri, idx}` (revoke).
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, trust::TrustStore, Signer};
//! use govcred::status::crs::{self, IssueRequest, RequestPolicy};
//!
//! let dept = SoftwareKey::generate(Alg::ES256).unwrap().with_kid("dept-key-1");
//! let req = IssueRequest {
//!     iss: "client-abc".into(),
//!     iat: 1_760_000_000,
//!     jti: crs::jti_from_random([7; 16]),
//!     status_expiry: 1_760_000_000 + 86_400 * 90,
//! };
//! let jwt = req.sign(&dept, "dept-key-1").unwrap();
//!
//! // Service side: find the client by the (unverified) iss, then verify with its JWKS.
//! assert_eq!(crs::unverified_client_id(&jwt).unwrap(), "client-abc");
//! let mut jwks = TrustStore::new();
//! jwks.add_jwk(&dept.public_jwk()).unwrap();
//! let back = crs::verify_issue_request(&jwt, "client-abc", &jwks, 1_760_000_010, &RequestPolicy::default()).unwrap();
//! assert_eq!(back, req);
//! ```

use serde_json::{Map, Value};

use crate::crypto::Alg;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;
use crate::trust::TrustStore;

/// The `typ` of a request JWT.
pub const REQUEST_TYP: &str = "JWT";
/// How far ahead `statusExpiry` may be: one year.
pub const MAX_STATUS_EXPIRY_AHEAD: i64 = 366 * 86_400;

/// Freshness rules for request JWTs.
#[derive(Clone, Copy, Debug)]
pub struct RequestPolicy {
    /// Oldest acceptable `iat`, in seconds before now.
    pub max_age: i64,
    /// Allowed clock skew, in seconds (an `iat` this far in the future is accepted).
    pub leeway: i64,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            max_age: 300,
            leeway: 60,
        }
    }
}

/// A `POST /issue` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRequest {
    /// The department's `clientId`.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Lower-case UUID; the idempotency key of the request.
    pub jti: String,
    /// When the credential expires (Unix seconds); the entry is dropped after it.
    pub status_expiry: i64,
}

/// A `POST /revoke` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokeRequest {
    /// The department's `clientId`.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Lower-case UUID.
    pub jti: String,
    /// The list URI, exactly as `/issue` returned it.
    pub uri: String,
    /// The index, exactly as `/issue` returned it.
    pub idx: usize,
}

fn header(kid: &str) -> Map<String, Value> {
    let mut h = Map::new();
    h.insert("typ".into(), REQUEST_TYP.into());
    h.insert("kid".into(), kid.into());
    h
}

fn sign(payload: Map<String, Value>, signer: &dyn Signer, kid: &str) -> Result<String> {
    if signer.alg() != Alg::ES256 {
        return Err(Error::AlgNotAllowed {
            alg: format!(
                "{} (the Status List Service accepts ES256 request JWTs only)",
                signer.alg()
            ),
        });
    }
    let body = serde_json::to_vec(&Value::Object(payload))
        .map_err(|e| Error::malformed("request JWT payload", e.to_string()))?;
    jose::sign_compact(header(kid), &body, signer)
}

impl IssueRequest {
    /// Sign as an ES256 JWT with header `kid` (a key of the department's JWKS).
    pub fn sign(&self, signer: &dyn Signer, kid: &str) -> Result<String> {
        let mut p = Map::new();
        p.insert("iss".into(), self.iss.as_str().into());
        p.insert("iat".into(), self.iat.into());
        p.insert("jti".into(), self.jti.as_str().into());
        p.insert("statusExpiry".into(), self.status_expiry.into());
        sign(p, signer, kid)
    }
}

impl RevokeRequest {
    /// Sign as an ES256 JWT with header `kid` (a key of the department's JWKS).
    pub fn sign(&self, signer: &dyn Signer, kid: &str) -> Result<String> {
        let mut p = Map::new();
        p.insert("iss".into(), self.iss.as_str().into());
        p.insert("iat".into(), self.iat.into());
        p.insert("jti".into(), self.jti.as_str().into());
        p.insert("uri".into(), self.uri.as_str().into());
        p.insert("idx".into(), self.idx.into());
        sign(p, signer, kid)
    }
}

/// A version-4 UUID in lower case, from 16 random bytes (the caller supplies the
/// randomness).
pub fn jti_from_random(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether `s` is a UUID written in lower case (8-4-4-4-12 hex digits).
pub fn is_lowercase_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

/// The `iss` (client id) of a request JWT, read without verifying it: the service
/// uses it to find the department's JWKS, then verifies.
pub fn unverified_client_id(jwt: &str) -> Result<String> {
    let jws = Jws::decode(jwt.trim())?;
    match jws.payload_json()?.get("iss") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(Error::UntrustedIssuer(
            "No Issuer in Payload: the request JWT needs `iss` = your clientId".into(),
        )),
    }
}

/// Header and signature checks common to both requests; returns the payload.
fn verify_common(
    jwt: &str,
    client_id: &str,
    keys: &TrustStore,
    now: i64,
    policy: &RequestPolicy,
) -> Result<(Map<String, Value>, String, i64)> {
    let jws = Jws::decode(jwt.trim())?;
    match jws.header().get("typ") {
        Some(Value::String(t)) if t == REQUEST_TYP => {}
        other => {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: other.map_or_else(|| "(absent)".into(), Value::to_string),
                expected: REQUEST_TYP,
            })
        }
    }
    if jws.alg() != Alg::ES256 {
        return Err(Error::AlgNotAllowed {
            alg: format!("{} (the Status List Service accepts ES256 only)", jws.alg()),
        });
    }
    let kid = jws.kid().ok_or_else(|| {
        Error::UnknownKey("No Key ID in Header: the request JWT needs `kid`".into())
    })?;
    // Only keys whose `kid` (or thumbprint) is the header `kid`.
    let candidates: Vec<_> = keys
        .issuer_keys(Some(kid), Alg::ES256)?
        .into_iter()
        .filter(|k| k.key.jwk().kid.as_deref() == Some(kid) || k.key.thumbprint() == kid)
        .collect();
    if candidates.is_empty() {
        return Err(Error::UnknownKey(format!(
            "Invalid Key ID in Header: kid {kid:?} is not in the JWKS registered for client {client_id:?}"
        )));
    }
    crate::trust::first_verifying_key(&jws, candidates)?;
    let claims = jws.payload_json()?;
    match claims.get("iss") {
        Some(Value::String(s)) if s == client_id => {}
        Some(Value::String(s)) => {
            return Err(Error::UntrustedIssuer(format!(
                "JWT has non-matching Client ID: iss {s:?}, expected {client_id:?}"
            )))
        }
        _ => {
            return Err(Error::UntrustedIssuer(
                "No Issuer in Payload: the request JWT needs `iss` = your clientId".into(),
            ))
        }
    }
    let iat = match claims.get("iat") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| Error::claim("iat", "must be whole Unix seconds"))?,
        Some(_) => return Err(Error::claim("iat", "must be whole Unix seconds")),
        None => return Err(Error::claim("iat", "No iat in Payload")),
    };
    if iat > now.saturating_add(policy.leeway) {
        return Err(Error::NotYetValid {
            from: crate::datetime::format(iat),
            at: crate::datetime::format(now),
        });
    }
    if iat < now.saturating_sub(policy.max_age) {
        return Err(Error::Expired {
            until: crate::datetime::format(iat.saturating_add(policy.max_age)),
            at: crate::datetime::format(now),
        });
    }
    let jti = match claims.get("jti") {
        Some(Value::String(s)) if is_lowercase_uuid(s) => s.clone(),
        Some(_) => return Err(Error::claim("jti", "must be a lower-case UUID")),
        None if claims.contains_key("jit") => return Err(Error::claim(
            "jti",
            "No jti in Payload (`jit` is a misspelling in the GOV.UK docs' examples: send `jti`)",
        )),
        None => return Err(Error::claim("jti", "No jti in Payload")),
    };
    Ok((claims, jti, iat))
}

/// Verify a `POST /issue` request from `client_id` (already looked up with
/// [`unverified_client_id`]) against the keys of its registered JWKS, at `now`.
///
/// Errors: `typ`/`alg`/`kid`/signature/`iss` problems are authentication failures
/// ([`Error::TypeMismatch`], [`Error::AlgNotAllowed`], [`Error::UnknownKey`],
/// [`Error::SignatureInvalid`], [`Error::UntrustedIssuer`]); an `iat` outside the
/// policy window is [`Error::Expired`] / [`Error::NotYetValid`]; payload problems are
/// [`Error::InvalidClaim`].
pub fn verify_issue_request(
    jwt: &str,
    client_id: &str,
    keys: &TrustStore,
    now: i64,
    policy: &RequestPolicy,
) -> Result<IssueRequest> {
    let (claims, jti, iat) = verify_common(jwt, client_id, keys, now, policy)?;
    let status_expiry = match claims.get("statusExpiry") {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| Error::claim("statusExpiry", "must be whole Unix seconds"))?,
        Some(_) => return Err(Error::claim("statusExpiry", "must be whole Unix seconds")),
        None => return Err(Error::claim("statusExpiry", "No Status Expiry in Payload")),
    };
    if status_expiry <= now || status_expiry > now.saturating_add(MAX_STATUS_EXPIRY_AHEAD) {
        return Err(Error::claim(
            "statusExpiry",
            "Status Expiry in Payload must be a non negative number and represent a future expiry date no more than 1 year from now",
        ));
    }
    Ok(IssueRequest {
        iss: client_id.to_string(),
        iat,
        jti,
        status_expiry,
    })
}

/// Verify a `POST /revoke` request (see [`verify_issue_request`] for the errors).
pub fn verify_revoke_request(
    jwt: &str,
    client_id: &str,
    keys: &TrustStore,
    now: i64,
    policy: &RequestPolicy,
) -> Result<RevokeRequest> {
    let (claims, jti, iat) = verify_common(jwt, client_id, keys, now, policy)?;
    let uri = match claims.get("uri") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err(Error::claim("uri", "must be the list URI /issue returned")),
        None => return Err(Error::claim("uri", "No uri in Payload")),
    };
    let idx = match claims.get("idx") {
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(|| Error::claim("idx", "must be a non-negative integer"))?,
        Some(_) => return Err(Error::claim("idx", "must be a non-negative integer")),
        None => return Err(Error::claim("idx", "No idx in Payload")),
    };
    Ok(RevokeRequest {
        iss: client_id.to_string(),
        iat,
        jti,
        uri,
        idx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SoftwareKey;
    use crate::ErrorCode;

    const NOW: i64 = 1_760_000_000;

    fn setup() -> (SoftwareKey, TrustStore) {
        let key = SoftwareKey::generate(Alg::ES256).unwrap().with_kid("k1");
        let mut jwks = TrustStore::new();
        jwks.add_jwk(&key.public_jwk()).unwrap();
        (key, jwks)
    }

    fn issue(expiry: i64) -> IssueRequest {
        IssueRequest {
            iss: "c1".into(),
            iat: NOW,
            jti: jti_from_random([1; 16]),
            status_expiry: expiry,
        }
    }

    #[test]
    fn uuids() {
        let j = jti_from_random([0xab; 16]);
        assert!(is_lowercase_uuid(&j), "{j}");
        assert_eq!(&j[14..15], "4");
        assert!(!is_lowercase_uuid(&j.to_uppercase()));
        assert!(!is_lowercase_uuid("62b45850-4c5c-4696-983a-af66450301d"));
        assert!(is_lowercase_uuid("62b45850-4c5c-4696-983a-af66450301d4"));
    }

    #[test]
    fn issue_and_revoke_round_trip_and_rejections() {
        let (key, jwks) = setup();
        let p = RequestPolicy::default();
        let req = issue(NOW + 86_400);
        let jwt = req.sign(&key, "k1").unwrap();
        assert_eq!(
            verify_issue_request(&jwt, "c1", &jwks, NOW, &p).unwrap(),
            req
        );
        let code = |r: Result<IssueRequest>| r.unwrap_err().code();
        // another client id, unknown kid, wrong key, stale and future iat
        assert_eq!(
            code(verify_issue_request(&jwt, "c2", &jwks, NOW, &p)),
            ErrorCode::UntrustedIssuer
        );
        let other_kid = req.sign(&key, "k2").unwrap();
        assert_eq!(
            code(verify_issue_request(&other_kid, "c1", &jwks, NOW, &p)),
            ErrorCode::UnknownKey
        );
        let impostor = SoftwareKey::generate(Alg::ES256).unwrap();
        let forged = req.sign(&impostor, "k1").unwrap();
        assert_eq!(
            code(verify_issue_request(&forged, "c1", &jwks, NOW, &p)),
            ErrorCode::SignatureInvalid
        );
        assert_eq!(
            code(verify_issue_request(&jwt, "c1", &jwks, NOW + 301, &p)),
            ErrorCode::Expired
        );
        assert_eq!(
            code(verify_issue_request(&jwt, "c1", &jwks, NOW - 61, &p)),
            ErrorCode::NotYetValid
        );
        // statusExpiry in the past or more than a year ahead
        for bad in [NOW - 1, NOW + MAX_STATUS_EXPIRY_AHEAD + 1] {
            let t = issue(bad).sign(&key, "k1").unwrap();
            assert_eq!(
                code(verify_issue_request(&t, "c1", &jwks, NOW, &p)),
                ErrorCode::InvalidClaim
            );
        }
        // EdDSA is not accepted for requests
        let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
        assert_eq!(
            req.sign(&ed, "k1").unwrap_err().code(),
            ErrorCode::AlgNotAllowed
        );

        let rev = RevokeRequest {
            iss: "c1".into(),
            iat: NOW,
            jti: jti_from_random([2; 16]),
            uri: "https://crs.example/t/ABC".into(),
            idx: 5,
        };
        let jwt = rev.sign(&key, "k1").unwrap();
        assert_eq!(unverified_client_id(&jwt).unwrap(), "c1");
        assert_eq!(
            verify_revoke_request(&jwt, "c1", &jwks, NOW, &p).unwrap(),
            rev
        );
        // An issue request is not a revoke request.
        let t = issue(NOW + 10).sign(&key, "k1").unwrap();
        assert_eq!(
            verify_revoke_request(&t, "c1", &jwks, NOW, &p)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
    }

    #[test]
    fn header_and_payload_rules() {
        let (key, jwks) = setup();
        let p = RequestPolicy::default();
        let mk = |header: Map<String, Value>, payload: Value| {
            jose::sign_compact(header, &serde_json::to_vec(&payload).unwrap(), &key).unwrap()
        };
        let good = serde_json::json!({"iss": "c1", "iat": NOW, "jti": jti_from_random([3; 16]), "statusExpiry": NOW + 10});
        let mut no_typ = header("k1");
        no_typ.remove("typ");
        let mut no_kid = header("k1");
        no_kid.remove("kid");
        let mut typ_other = header("k1");
        typ_other.insert("typ".into(), "statuslist+jwt".into());
        for (h, code) in [
            (no_typ, ErrorCode::TypeMismatch),
            (typ_other, ErrorCode::TypeMismatch),
            (no_kid, ErrorCode::UnknownKey),
        ] {
            let t = mk(h, good.clone());
            assert_eq!(
                verify_issue_request(&t, "c1", &jwks, NOW, &p)
                    .unwrap_err()
                    .code(),
                code
            );
        }
        for (drop, rename) in [
            ("jti", Some("jit")),
            ("jti", None),
            ("iat", None),
            ("statusExpiry", None),
        ] {
            let mut body = good.clone();
            let v = body.as_object_mut().unwrap().remove(drop).unwrap();
            if let Some(r) = rename {
                body[r] = v;
            }
            let t = mk(header("k1"), body);
            assert_eq!(
                verify_issue_request(&t, "c1", &jwks, NOW, &p)
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidClaim,
                "{drop}"
            );
        }
        let mut upper = good.clone();
        upper["jti"] = jti_from_random([0xab; 16]).to_uppercase().into();
        let t = mk(header("k1"), upper);
        assert_eq!(
            verify_issue_request(&t, "c1", &jwks, NOW, &p)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
        let mut no_iss = good.clone();
        no_iss.as_object_mut().unwrap().remove("iss");
        let t = mk(header("k1"), no_iss);
        assert_eq!(
            unverified_client_id(&t).unwrap_err().code(),
            ErrorCode::UntrustedIssuer
        );
    }
}
