//! The pre-authorised code (GOV.UK §5.3: a JWT the issuer signs), the token request and
//! response, and the access token (`at+jwt`, GOV.UK §5.4: carries `c_nonce`).
//!
//! ```
//! use govcred::crypto::{Alg, SoftwareKey};
//! use govcred::oid4vci::token::{self, PreAuthorizedCode};
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let code = PreAuthorizedCode {
//!     iss: "https://issuer.gov.uk".into(), aud: "https://token.account.gov.uk".into(),
//!     client_id: "CLIENT".into(), credential_identifiers: vec!["0b1c…".into()],
//!     credential_configuration_ids: vec!["VeteranCard".into()], iat: 1_700_000_000, exp: 1_700_000_900,
//! };
//! let jwt = token::sign_pre_authorized_code(&code, "kid-1", &key).unwrap();
//! let back = token::verify_pre_authorized_code(&jwt, &[key.verifying_key().clone()],
//!     "https://token.account.gov.uk", 1_700_000_100, 60).unwrap();
//! assert_eq!(back, code);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::offer::{parse_form, percent_encode, PRE_AUTHORIZED_CODE_GRANT};
use crate::crypto::VerifyingKey;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;

/// `typ` of an access token (RFC 9068).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// Largest token request body / pre-authorised code accepted.
pub const MAX_TOKEN_REQUEST_LEN: usize = 16 * 1024;

/// The claims of a GOV.UK pre-authorised code — exactly these, nothing else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreAuthorizedCode {
    /// The issuer's URL.
    pub iss: String,
    /// The authorisation server (`https://token.account.gov.uk`).
    pub aud: String,
    /// The issuer's One Login client id (camelCase, as GOV.UK spells it).
    #[serde(rename = "clientId")]
    pub client_id: String,
    /// Exactly one opaque id of the stored offer.
    pub credential_identifiers: Vec<String>,
    /// Exactly one configuration id.
    pub credential_configuration_ids: Vec<String>,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expiry (seconds).
    pub exp: i64,
}

fn signed(
    header_typ: &str,
    kid: &str,
    claims: &impl Serialize,
    signer: &dyn Signer,
) -> Result<String> {
    let mut header = Map::new();
    header.insert("typ".into(), header_typ.into());
    header.insert("kid".into(), kid.into());
    let body =
        serde_json::to_vec(claims).map_err(|e| Error::malformed("JWT payload", e.to_string()))?;
    jose::sign_compact(header, &body, signer)
}

/// Sign a pre-authorised code: header exactly `alg: ES256, typ: JWT, kid`.
pub fn sign_pre_authorized_code(
    code: &PreAuthorizedCode,
    kid: &str,
    signer: &dyn Signer,
) -> Result<String> {
    if code.credential_identifiers.len() != 1 || code.credential_configuration_ids.len() != 1 {
        return Err(Error::claim(
            "credential_identifiers / credential_configuration_ids",
            "a GOV.UK pre-authorised code carries exactly one of each",
        ));
    }
    signed("JWT", kid, code, signer)
}

/// Check one of `keys` signed it, and the claims: `typ` JWT, `aud`, `exp` (with
/// `leeway`), exactly one id of each kind. Every failure is `invalid_grant`.
pub fn verify_pre_authorized_code(
    code: &str,
    keys: &[VerifyingKey],
    expected_aud: &str,
    now: i64,
    leeway: i64,
) -> Result<PreAuthorizedCode> {
    let grant = |r: String| Error::InvalidGrant(r);
    if code.len() > MAX_TOKEN_REQUEST_LEN {
        return Err(grant("the pre-authorised code is too long".into()));
    }
    let jws = Jws::decode(code).map_err(|e| grant(format!("not a signed JWT: {e}")))?;
    if jws.header_str("typ") != Some("JWT") {
        return Err(grant("header typ must be \"JWT\"".into()));
    }
    verify_any(&jws, keys).map_err(|e| grant(format!("signature: {e}")))?;
    let c: PreAuthorizedCode =
        serde_json::from_slice(jws.payload()).map_err(|e| grant(format!("claims: {e}")))?;
    if c.aud != expected_aud {
        return Err(grant(format!(
            "aud {:?} is not this authorisation server",
            c.aud
        )));
    }
    if c.exp + leeway <= now {
        return Err(grant("the pre-authorised code has expired".into()));
    }
    if c.iat > now + leeway {
        return Err(grant(
            "the pre-authorised code is issued in the future".into(),
        ));
    }
    if c.credential_identifiers.len() != 1 || c.credential_configuration_ids.len() != 1 {
        return Err(grant(
            "exactly one credential identifier and configuration id expected".into(),
        ));
    }
    Ok(c)
}

fn verify_any(jws: &Jws<'_>, keys: &[VerifyingKey]) -> Result<()> {
    let kid = jws.kid();
    let candidates: Vec<&VerifyingKey> = keys
        .iter()
        .filter(|k| kid.is_none() || k.jwk().kid.is_none() || k.jwk().kid.as_deref() == kid)
        .collect();
    let mut first = None;
    for k in candidates {
        match jws.verify(k) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first.unwrap_or_else(|| Error::UnknownKey(format!("kid {kid:?}"))))
}

/// A token request (pre-authorised code grant).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// The code from the offer.
    pub pre_authorized_code: String,
    /// A transaction code, if the offer asked for one.
    pub tx_code: Option<String>,
}

impl TokenRequest {
    /// The `application/x-www-form-urlencoded` body.
    pub fn to_form(&self) -> String {
        let mut s = format!(
            "grant_type={}&pre-authorized_code={}",
            percent_encode(PRE_AUTHORIZED_CODE_GRANT),
            percent_encode(&self.pre_authorized_code)
        );
        if let Some(t) = &self.tx_code {
            s.push_str("&tx_code=");
            s.push_str(&percent_encode(t));
        }
        s
    }

    /// Parse a form body. Unknown grant types give `unsupported_grant_type`, missing or
    /// repeated parameters `invalid_request`.
    pub fn from_form(body: &[u8]) -> Result<Self> {
        if body.len() > MAX_TOKEN_REQUEST_LEN {
            return Err(Error::InvalidRequest("token request too large".into()));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| Error::InvalidRequest("token request is not UTF-8".into()))?;
        let pairs =
            parse_form(text, "token request").map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let one = |name: &str| -> Result<Option<String>> {
            let mut it = pairs.iter().filter(|(k, _)| k == name);
            let first = it.next().map(|(_, v)| v.clone());
            if it.next().is_some() {
                return Err(Error::InvalidRequest(format!("{name} is repeated")));
            }
            Ok(first)
        };
        match one("grant_type")?.as_deref() {
            Some(PRE_AUTHORIZED_CODE_GRANT) => {}
            Some(other) => return Err(Error::UnsupportedGrantType(other.into())),
            None => return Err(Error::InvalidRequest("no grant_type".into())),
        }
        let code = one("pre-authorized_code")?
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Error::InvalidRequest("no pre-authorized_code".into()))?;
        Ok(TokenRequest {
            pre_authorized_code: code,
            tx_code: one("tx_code")?,
        })
    }
}

/// A token response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `bearer`.
    pub token_type: String,
    /// Lifetime, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// `c_nonce` (draft 14 style; GOV.UK puts it in the access token instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_nonce: Option<String>,
    /// A refresh token, when in-app refresh is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The access token claims of GOV.UK §5.4.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The wallet subject (`wallet_subject_id`).
    pub sub: String,
    /// The authorisation server.
    pub iss: String,
    /// The credential issuer.
    pub aud: String,
    /// Expiry.
    pub exp: i64,
    /// The offer's id (absent on refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifiers: Option<Vec<String>>,
    /// One configuration id.
    pub credential_configuration_ids: Vec<String>,
    /// The nonce the proof must carry.
    pub c_nonce: String,
    /// Token id (replay detection).
    pub jti: String,
}

/// Sign an access token (`typ: at+jwt`).
pub fn sign_access_token(
    claims: &AccessTokenClaims,
    kid: &str,
    signer: &dyn Signer,
) -> Result<String> {
    signed(ACCESS_TOKEN_TYP, kid, claims, signer)
}

/// The `c_nonce` claim of an access token, read **without** verifying it (the wallet
/// is not the token's audience; the issuer verifies).
pub fn peek_c_nonce(access_token: &str) -> Option<String> {
    let jws = Jws::decode(access_token).ok()?;
    let v: Map<String, Value> = jws.payload_json().ok()?;
    v.get("c_nonce").and_then(Value::as_str).map(str::to_string)
}

/// Verify an access token: signature by one of `keys`, `typ`, `iss`, `aud`, `exp`, one
/// configuration id. Every failure is `invalid_token`.
pub fn verify_access_token(
    token: &str,
    keys: &[VerifyingKey],
    expected_iss: &str,
    expected_aud: &str,
    now: i64,
    leeway: i64,
) -> Result<AccessTokenClaims> {
    let bad = |r: String| Error::InvalidToken(r);
    let jws = Jws::decode(token).map_err(|e| bad(format!("not a signed JWT: {e}")))?;
    if jws.header_str("typ") != Some(ACCESS_TOKEN_TYP) {
        return Err(bad("header typ must be at+jwt".into()));
    }
    verify_any(&jws, keys).map_err(|e| bad(format!("signature: {e}")))?;
    let c: AccessTokenClaims =
        serde_json::from_slice(jws.payload()).map_err(|e| bad(format!("claims: {e}")))?;
    if super::base(&c.iss) != super::base(expected_iss) {
        return Err(bad(format!(
            "iss {:?} is not the authorisation server",
            c.iss
        )));
    }
    if super::base(&c.aud) != super::base(expected_aud) {
        return Err(bad(format!("aud {:?} is not this issuer", c.aud)));
    }
    if c.exp + leeway <= now {
        return Err(bad("the access token has expired".into()));
    }
    if c.credential_configuration_ids.len() != 1 {
        return Err(bad(
            "exactly one credential_configuration_id expected".into()
        ));
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Alg, SoftwareKey};
    use crate::ErrorCode;

    #[test]
    fn form_round_trip_and_errors() {
        let r = TokenRequest {
            pre_authorized_code: "a.b+c/=".into(),
            tx_code: None,
        };
        assert_eq!(TokenRequest::from_form(r.to_form().as_bytes()).unwrap(), r);
        assert_eq!(
            TokenRequest::from_form(b"grant_type=password")
                .unwrap_err()
                .code(),
            ErrorCode::UnsupportedGrantType
        );
        assert_eq!(
            TokenRequest::from_form(b"pre-authorized_code=x")
                .unwrap_err()
                .code(),
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn access_token_checks() {
        let k = SoftwareKey::generate(Alg::ES256).unwrap();
        let c = AccessTokenClaims {
            sub: "s".into(),
            iss: "https://as".into(),
            aud: "https://i".into(),
            exp: 100,
            credential_identifiers: Some(vec!["x".into()]),
            credential_configuration_ids: vec!["C".into()],
            c_nonce: "n".into(),
            jti: "j".into(),
        };
        let t = sign_access_token(&c, "k", &k).unwrap();
        let keys = [k.verifying_key().clone()];
        assert_eq!(
            verify_access_token(&t, &keys, "https://as", "https://i", 50, 0).unwrap(),
            c
        );
        assert_eq!(peek_c_nonce(&t).as_deref(), Some("n"));
        for (iss, aud, now) in [
            ("https://x", "https://i", 50),
            ("https://as", "https://x", 50),
            ("https://as", "https://i", 101),
        ] {
            assert_eq!(
                verify_access_token(&t, &keys, iss, aud, now, 0)
                    .unwrap_err()
                    .code(),
                ErrorCode::InvalidToken
            );
        }
    }
}
