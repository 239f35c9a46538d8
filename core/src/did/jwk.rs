//! did:jwk: `did:jwk:` + base64url of the public JWK's JSON; the method is `#0`.

use crate::b64;
use crate::crypto::{Jwk, VerifyingKey};
use crate::did::document::{DidDocument, VerificationMethod};
use crate::error::{Error, Result};

/// The did:jwk of a public key. The JWK's members are serialised in lexicographic
/// order (as RFC 7638 does), so the same key always gives the same DID.
pub fn from_jwk(jwk: &Jwk) -> Result<String> {
    let public = VerifyingKey::from_jwk(jwk)?;
    let mut m = std::collections::BTreeMap::new();
    let j = public.jwk();
    m.insert("kty", j.kty.clone());
    for (k, v) in [("crv", &j.crv), ("x", &j.x), ("y", &j.y)] {
        if let Some(v) = v {
            m.insert(k, v.clone());
        }
    }
    let json = serde_json::to_string(&m).map_err(|e| Error::InvalidKey(e.to_string()))?;
    Ok(format!("did:jwk:{}", b64::encode(json)))
}

/// The JWK inside a did:jwk. Private members are refused.
pub fn to_jwk(did: &str) -> Result<Jwk> {
    let bad = |reason: String| Error::InvalidDid {
        did: did.into(),
        reason,
    };
    let id = did
        .strip_prefix("did:jwk:")
        .ok_or_else(|| bad("not a did:jwk".into()))?;
    let json = b64::decode(id, "did:jwk identifier").map_err(|e| bad(e.to_string()))?;
    let jwk: Jwk = serde_json::from_slice(&json).map_err(|e| bad(format!("not a JWK: {e}")))?;
    if jwk.is_private() {
        return Err(bad("a did:jwk must not contain private key material".into()));
    }
    Ok(jwk)
}

/// The DID document of a did:jwk. A key with `use: enc` gets no signing relationships.
pub fn document(did: &str) -> Result<DidDocument> {
    let jwk = to_jwk(did)?;
    let signing = jwk.use_.as_deref() != Some("enc");
    let key = VerifyingKey::from_jwk(&jwk).map_err(|e| Error::InvalidDid {
        did: did.into(),
        reason: e.to_string(),
    })?;
    Ok(DidDocument::single_key(
        did,
        VerificationMethod {
            id: format!("{did}#0"),
            controller: did.to_string(),
            key,
        },
        signing,
    ))
}
