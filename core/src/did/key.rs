//! did:key for Ed25519 (`z6Mk…`) and P-256 (`zDn…`, compressed point).
//!
//! `did:key:` + multibase base58btc (`z`) of the multicodec varint of the key type
//! (`0xed 0x01` Ed25519, `0x80 0x24` P-256) followed by the public key bytes.

use crate::crypto::{Jwk, VerifyingKey};
use crate::did::document::{DidDocument, VerificationMethod};
use crate::error::{Error, Result};

const ED25519_PREFIX: [u8; 2] = [0xed, 0x01];
const P256_PREFIX: [u8; 2] = [0x80, 0x24];
/// Multicodec `p384-pub` (0x1201), varint-encoded.
const P384_PREFIX: [u8; 2] = [0x81, 0x24];

/// The multibase (`z…`) form of a public key, as in did:key and `Multikey` methods.
pub fn multibase(key: &VerifyingKey) -> String {
    let prefix = match key.alg() {
        crate::crypto::Alg::EdDSA => ED25519_PREFIX,
        crate::crypto::Alg::ES256 => P256_PREFIX,
        crate::crypto::Alg::ES384 => P384_PREFIX,
    };
    let mut bytes = prefix.to_vec();
    bytes.extend(key.compressed_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decode a multibase `Multikey` (`z6Mk…` / `zDn…`).
pub fn from_multibase(text: &str) -> Result<VerifyingKey> {
    let bad = |reason: &str| Error::InvalidKey(format!("multikey {text:?}: {reason}"));
    let b58 = text
        .strip_prefix('z')
        .ok_or_else(|| bad("must be base58btc (start with `z`)"))?;
    let bytes = bs58::decode(b58)
        .into_vec()
        .map_err(|_| bad("invalid base58btc"))?;
    match bytes.split_at_checked(2) {
        Some((p, k)) if p == ED25519_PREFIX => {
            let k: [u8; 32] = k
                .try_into()
                .map_err(|_| bad("Ed25519 key must be 32 bytes"))?;
            VerifyingKey::from_ed25519(&k)
        }
        Some((p, k)) if p == P256_PREFIX => {
            if k.len() != 33 {
                return Err(bad("P-256 key must be a 33-byte compressed point"));
            }
            VerifyingKey::from_p256_sec1(k)
        }
        _ => Err(bad(
            "unsupported multicodec: only Ed25519 (0xed) and P-256 (0x1200)",
        )),
    }
}

/// The did:key of a public JWK.
pub fn from_jwk(jwk: &Jwk) -> Result<String> {
    let key = VerifyingKey::from_jwk(jwk)?;
    if key.alg() == crate::crypto::Alg::ES384 {
        // P-384 keys are for verifying ISO 18013-5 readers and IACAs, not DIDs.
        return Err(Error::InvalidKey(
            "did:key is made for Ed25519 and P-256 keys only, not P-384".into(),
        ));
    }
    Ok(format!("did:key:{}", multibase(&key)))
}

/// The key inside a did:key (the DID, without fragment).
pub fn to_key(did: &str) -> Result<VerifyingKey> {
    let id = did
        .strip_prefix("did:key:")
        .ok_or_else(|| Error::InvalidDid {
            did: did.into(),
            reason: "not a did:key".into(),
        })?;
    from_multibase(id).map_err(|e| Error::InvalidDid {
        did: did.into(),
        reason: e.to_string(),
    })
}

/// The DID document of a did:key: one method `did#<multibase>`, authorised for
/// authentication, assertion and capability invocation/delegation.
pub fn document(did: &str) -> Result<DidDocument> {
    let key = to_key(did)?;
    let id = &did["did:key:".len()..];
    Ok(DidDocument::single_key(
        did,
        VerificationMethod {
            id: format!("{did}#{id}"),
            controller: did.to_string(),
            key,
        },
        true,
    ))
}
