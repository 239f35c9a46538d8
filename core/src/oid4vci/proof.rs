//! The key proof (`openid4vci-proof+jwt`, GOV.UK §5.5): header `kid` = the holder's
//! did:key (P-256 in GOV.UK), payload `iss` `urn:fdc:gov:uk:wallet`, `aud` = issuer URL,
//! `iat`, `nonce` = the access token's `c_nonce`.
//!
//! ```
//! use govcred::crypto::{Alg, SoftwareKey};
//! use govcred::oid4vci::proof::{self, ProofPolicy};
//! let holder = SoftwareKey::generate(Alg::ES256).unwrap();
//! let jwt = proof::build_proof(&holder, "https://issuer.gov.uk", Some("n-1"), 1_700_000_000).unwrap();
//! let policy = ProofPolicy::new("https://issuer.gov.uk", 1_700_000_010);
//! let p = proof::verify_proof(&jwt, &policy).unwrap();
//! assert_eq!(&p.holder_key, holder.verifying_key());
//! assert_eq!(p.nonce.as_deref(), Some("n-1"));
//! ```

use serde_json::{Map, Value};

use crate::crypto::VerifyingKey;
use crate::did;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;

/// `typ` of a key proof.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// The `iss` GOV.UK Wallet puts in its proofs.
pub const GOVUK_WALLET_ISS: &str = "urn:fdc:gov:uk:wallet";
/// Largest proof JWT accepted.
pub const MAX_PROOF_LEN: usize = 8 * 1024;
/// `iat` values above this are milliseconds (GOV.UK Wallet sends 13 digits): the
/// seconds value would be after the year 5000.
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// Build a proof for `audience` (the issuer URL) signed by the holder key, with
/// `iat` in seconds.
pub fn build_proof(
    holder: &dyn Signer,
    audience: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String> {
    let kid = did::key::from_jwk(&holder.public_jwk())?;
    let mut header = Map::new();
    header.insert("typ".into(), PROOF_TYP.into());
    header.insert("kid".into(), kid.into());
    let mut payload = Map::new();
    payload.insert("iss".into(), GOVUK_WALLET_ISS.into());
    payload.insert("aud".into(), audience.into());
    payload.insert("iat".into(), iat.into());
    if let Some(n) = nonce {
        payload.insert("nonce".into(), n.into());
    }
    let body =
        serde_json::to_vec(&payload).map_err(|e| Error::malformed("proof", e.to_string()))?;
    jose::sign_compact(header, &body, holder)
}

/// What a verified proof says.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedProof {
    /// The holder's key (the credential is bound to it).
    pub holder_key: VerifyingKey,
    /// Its did:key.
    pub holder_did: String,
    /// The `nonce` claim (the caller compares it with the `c_nonce` it expects).
    pub nonce: Option<String>,
    /// `iat` in seconds (converted from milliseconds when needed).
    pub iat: i64,
}

/// How proofs are checked.
#[derive(Clone, Debug)]
pub struct ProofPolicy {
    /// The issuer URL the `aud` must equal.
    pub audience: String,
    /// Now (seconds).
    pub now: i64,
    /// Oldest acceptable `iat`, seconds before `now` (default 300).
    pub max_age: i64,
    /// Largest acceptable clock skew into the future (default 60).
    pub max_future: i64,
}

impl ProofPolicy {
    /// Defaults: 5 minutes old at most, 1 minute in the future at most.
    pub fn new(audience: &str, now: i64) -> Self {
        ProofPolicy {
            audience: audience.into(),
            now,
            max_age: 300,
            max_future: 60,
        }
    }
}

/// Verify a proof; every failure is `invalid_proof` (the nonce is for the caller).
pub fn verify_proof(jwt: &str, policy: &ProofPolicy) -> Result<VerifiedProof> {
    let bad = |r: String| Error::InvalidProof(r);
    if jwt.len() > MAX_PROOF_LEN {
        return Err(bad("proof JWT too large".into()));
    }
    let jws = Jws::decode(jwt).map_err(|e| bad(format!("not a signed JWT: {e}")))?;
    if jws.header_str("typ") != Some(PROOF_TYP) {
        return Err(bad(format!("header typ must be {PROOF_TYP}")));
    }
    if jws.header().contains_key("jwk") || jws.header().contains_key("x5c") {
        return Err(bad(
            "header must name the key by kid (did:key) only, no jwk or x5c".into(),
        ));
    }
    let kid = jws
        .kid()
        .ok_or_else(|| bad("no kid: the holder key must be given as a did:key".into()))?;
    let holder_did = kid.split('#').next().unwrap_or(kid).to_string();
    if !holder_did.starts_with("did:key:") {
        return Err(bad("kid must be a did:key".into()));
    }
    let holder_key = did::key::to_key(&holder_did).map_err(|e| bad(format!("kid: {e}")))?;
    jws.verify(&holder_key)
        .map_err(|e| bad(format!("signature: {e}")))?;
    let claims = jws.payload_json().map_err(|e| bad(e.to_string()))?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => super::base(a) == super::base(&policy.audience),
        Some(Value::Array(a)) => a
            .iter()
            .any(|v| v.as_str().map(super::base) == Some(super::base(&policy.audience))),
        _ => false,
    };
    if !aud_ok {
        return Err(bad(format!("aud must be the issuer {}", policy.audience)));
    }
    let raw_iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("no numeric iat".into()))?;
    let iat = if raw_iat > MILLIS_THRESHOLD {
        raw_iat / 1000
    } else {
        raw_iat
    };
    if iat > policy.now + policy.max_future {
        return Err(bad("iat is in the future".into()));
    }
    if iat < policy.now - policy.max_age {
        return Err(bad(format!(
            "iat is more than {} seconds old: build a fresh proof",
            policy.max_age
        )));
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(bad("nonce must be a string".into())),
    };
    Ok(VerifiedProof {
        holder_key,
        holder_did,
        nonce,
        iat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Alg, SoftwareKey};
    use crate::ErrorCode;

    #[test]
    fn windows_and_units() {
        let k = SoftwareKey::generate(Alg::ES256).unwrap();
        let now = 1_700_000_000;
        let p = ProofPolicy::new("https://i", now);
        for (iat, seconds) in [(now, now), (now * 1000 + 123, now), (now - 200, now - 200)] {
            let t = build_proof(&k, "https://i", None, iat).unwrap();
            assert_eq!(verify_proof(&t, &p).unwrap().iat, seconds);
        }
        for (aud, iat) in [
            ("https://other", now),
            ("https://i", now + 100),
            ("https://i", now - 1000),
        ] {
            let t = build_proof(&k, aud, None, iat).unwrap();
            assert_eq!(
                verify_proof(&t, &p).unwrap_err().code(),
                ErrorCode::InvalidProof
            );
        }
    }
}
