//! Compact JWS (RFC 7515) for ES256 and EdDSA.
//!
//! Decoding is strict and happens in two steps so that nothing is trusted before the
//! signature is checked: [`Jws::decode`] checks the structure (three canonical
//! base64url segments, a JSON-object header, an accepted `alg`, no `crit` member we do
//! not implement) and [`Jws::verify`] checks the signature with a key the caller chose.
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, jose::{self, Jws}};
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut header = serde_json::Map::new();
//! header.insert("typ".into(), "JWT".into());
//! let token = jose::sign_compact(header, br#"{"hello":"world"}"#, &key).unwrap();
//! let jws = Jws::decode(&token).unwrap();
//! jws.verify(key.verifying_key()).unwrap();
//! assert_eq!(jws.payload(), br#"{"hello":"world"}"#);
//! ```

use serde_json::{Map, Value};

use crate::b64;
use crate::crypto::{Alg, VerifyingKey};
use crate::error::{Error, Result};
use crate::json;
use crate::platform::Signer;

/// Largest compact JWS accepted: 4 MiB, room for a JWT VC carrying a 1 MiB photo
/// (base64 inside base64url).
pub const MAX_COMPACT_JWS_LEN: usize = 4 * 1024 * 1024;

/// Header parameters this implementation understands and may be listed in `crit`.
/// None are defined yet: any `crit` entry is refused.
const UNDERSTOOD_CRITICAL: &[&str] = &[];

/// A decoded, **not yet verified** compact JWS.
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    alg: Alg,
    header: Map<String, Value>,
    payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Parse a compact JWS and apply the algorithm and `crit` policy.
    pub fn decode(token: &'a str) -> Result<Self> {
        if token.len() > MAX_COMPACT_JWS_LEN {
            return Err(Error::TooLarge {
                what: "compact JWS",
                size: token.len(),
                limit: MAX_COMPACT_JWS_LEN,
            });
        }
        let mut parts = token.splitn(4, '.');
        let (h, p, s) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(h), Some(p), Some(s), None) => (h, p, s),
            _ => {
                return Err(Error::malformed(
                    "JWS",
                    "a compact JWS has exactly three '.'-separated parts",
                ))
            }
        };
        let header_bytes = b64::decode(h, "JWS header")?;
        json::check_unique_keys(&header_bytes, "JWS header")?;
        let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
            .map_err(|e| Error::malformed("JWS header", format!("not a JSON object: {e}")))?;
        let alg = match header.get("alg") {
            Some(Value::String(a)) => Alg::from_jose(a)?,
            Some(_) => return Err(Error::malformed("JWS header", "`alg` must be a string")),
            None => return Err(Error::malformed("JWS header", "no `alg` member")),
        };
        check_critical(&header)?;
        if matches!(header.get("b64"), Some(v) if v != &Value::Bool(true)) {
            return Err(Error::UnsupportedCritical("b64".into()));
        }
        let payload = b64::decode(p, "JWS payload")?;
        let signature = b64::decode(s, "JWS signature")?;
        if signature.len() != 64 {
            return Err(Error::malformed(
                "JWS signature",
                format!("{alg} signatures are 64 bytes, got {}", signature.len()),
            ));
        }
        let signing_input = &token[..h.len() + 1 + p.len()];
        Ok(Jws {
            alg,
            header,
            payload,
            signing_input,
            signature,
        })
    }

    /// The (accepted) algorithm from the header.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// A string header member, if present and a string.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// The `kid` header member.
    pub fn kid(&self) -> Option<&str> {
        self.header_str("kid")
    }

    /// The decoded payload bytes (unverified until [`Jws::verify`] succeeds).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload parsed as a JSON object.
    /// A member named twice is refused ([`json::check_unique_keys`]).
    pub fn payload_json(&self) -> Result<Map<String, Value>> {
        json::check_unique_keys(&self.payload, "JWT payload")?;
        serde_json::from_slice(&self.payload)
            .map_err(|e| Error::malformed("JWT payload", format!("not a JSON object: {e}")))
    }

    /// `BASE64URL(header) '.' BASE64URL(payload)`: the bytes that were signed.
    pub fn signing_input(&self) -> &str {
        self.signing_input
    }

    /// Check the signature with `key`. The key's type must match the header `alg`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        key.verify(self.alg, self.signing_input.as_bytes(), &self.signature)
    }
}

fn check_critical(header: &Map<String, Value>) -> Result<()> {
    let Some(crit) = header.get("crit") else {
        return Ok(());
    };
    let names = crit
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Error::malformed("JWS header", "`crit` must be a non-empty array"))?;
    for name in names {
        let name = name
            .as_str()
            .ok_or_else(|| Error::malformed("JWS header", "`crit` entries must be strings"))?;
        if !UNDERSTOOD_CRITICAL.contains(&name) {
            return Err(Error::UnsupportedCritical(name.to_string()));
        }
        if !header.contains_key(name) {
            return Err(Error::malformed(
                "JWS header",
                format!("`crit` names {name:?}, which is not in the header"),
            ));
        }
    }
    Ok(())
}

/// Sign `payload` as a compact JWS. `alg` is set from the signer (any `alg` already
/// in `header` is replaced); other members are kept in the order given.
pub fn sign_compact(
    mut header: Map<String, Value>,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String> {
    let alg = signer.alg();
    let mut ordered = Map::new();
    ordered.insert("alg".into(), alg.as_str().into());
    header.remove("alg");
    ordered.extend(header);
    let header_json =
        serde_json::to_vec(&ordered).map_err(|e| Error::malformed("JWS header", e.to_string()))?;
    let mut token = b64::encode(header_json);
    token.push('.');
    token.push_str(&b64::encode(payload));
    let signature = signer.sign(token.as_bytes())?;
    if signature.len() != 64 {
        return Err(Error::SignerFailed(format!(
            "{alg} signer returned {} bytes; JOSE needs the 64-byte raw form",
            signature.len()
        )));
    }
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SoftwareKey;
    use crate::ErrorCode;

    fn token_with_header(header: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header),
            b64::encode("{}"),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn refuses_none_hmac_rsa_unknown() {
        for alg in [
            "none", "HS256", "HS512", "RS256", "PS256", "ES384", "ES256K", "foo",
        ] {
            let t = token_with_header(&format!(r#"{{"alg":"{alg}"}}"#));
            assert_eq!(
                Jws::decode(&t).unwrap_err().code(),
                ErrorCode::AlgNotAllowed,
                "{alg}"
            );
        }
        // alg:none with an empty signature (the classic attack form)
        let t = format!(
            "{}.{}.",
            b64::encode(r#"{"alg":"none"}"#),
            b64::encode("{}")
        );
        assert_eq!(
            Jws::decode(&t).unwrap_err().code(),
            ErrorCode::AlgNotAllowed
        );
    }

    #[test]
    fn refuses_unknown_crit_and_b64_false() {
        let t = token_with_header(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#);
        assert_eq!(
            Jws::decode(&t).unwrap_err().code(),
            ErrorCode::UnsupportedCritical
        );
        let t = token_with_header(r#"{"alg":"ES256","b64":false,"crit":["b64"]}"#);
        assert_eq!(
            Jws::decode(&t).unwrap_err().code(),
            ErrorCode::UnsupportedCritical
        );
        let t = token_with_header(r#"{"alg":"ES256","crit":[]}"#);
        assert_eq!(
            Jws::decode(&t).unwrap_err().code(),
            ErrorCode::MalformedInput
        );
    }

    #[test]
    fn refuses_malformed_structure() {
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c.d",
            "..",
            "e30.e30.",
            "bm90IGpzb24.e30.AAAA",
        ] {
            let e = Jws::decode(t).unwrap_err();
            assert!(
                matches!(
                    e.code(),
                    ErrorCode::MalformedInput | ErrorCode::InvalidBase64
                ),
                "{t}: {e}"
            );
        }
        let t = token_with_header(r#"["ES256"]"#);
        assert_eq!(
            Jws::decode(&t).unwrap_err().code(),
            ErrorCode::MalformedInput
        );
    }

    #[test]
    fn refuses_non_canonical_base64() {
        let key = SoftwareKey::generate(Alg::EdDSA).unwrap();
        let t = sign_compact(Map::new(), b"{}", &key).unwrap();
        let padded = format!("{t}==");
        assert_eq!(
            Jws::decode(&padded).unwrap_err().code(),
            ErrorCode::InvalidBase64
        );
        let std_alphabet = t.replace('-', "+").replace('_', "/");
        if std_alphabet != t {
            assert_eq!(
                Jws::decode(&std_alphabet).unwrap_err().code(),
                ErrorCode::InvalidBase64
            );
        }
    }

    #[test]
    fn wrong_key_and_tamper_rejected() {
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let other = SoftwareKey::generate(Alg::ES256).unwrap();
        let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
        let t = sign_compact(Map::new(), br#"{"a":1}"#, &key).unwrap();
        let jws = Jws::decode(&t).unwrap();
        jws.verify(key.verifying_key()).unwrap();
        assert_eq!(
            jws.verify(other.verifying_key()).unwrap_err().code(),
            ErrorCode::SignatureInvalid
        );
        assert_eq!(
            jws.verify(ed.verifying_key()).unwrap_err().code(),
            ErrorCode::KeyAlgMismatch
        );
        let (hp, _) = t.rsplit_once('.').unwrap();
        let forged = format!(
            "{}.{}",
            hp.replace(&b64::encode(br#"{"a":1}"#), &b64::encode(br#"{"a":2}"#)),
            t.rsplit_once('.').unwrap().1
        );
        assert_eq!(
            Jws::decode(&forged)
                .unwrap()
                .verify(key.verifying_key())
                .unwrap_err()
                .code(),
            ErrorCode::SignatureInvalid
        );
    }

    #[test]
    fn too_large_rejected_before_decoding() {
        let big = "a".repeat(MAX_COMPACT_JWS_LEN + 1);
        assert_eq!(
            Jws::decode(&big).unwrap_err().code(),
            ErrorCode::InputTooLarge
        );
    }
}
