//! JSON Web Keys (RFC 7517) and thumbprints (RFC 7638).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::b64;
use crate::crypto::sha256;
use crate::error::{Error, Result};

/// A secret string (a JWK's `d`): zeroized when dropped, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    /// Wrap a secret.
    pub fn new(s: String) -> Self {
        SecretString(Zeroizing::new(s))
    }
    /// The secret text. Keep the borrow short.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SecretString::new(String::deserialize(d)?))
    }
}

/// A JSON Web Key. Members govcred does not use are ignored on input.
///
/// Public keys of type `EC` (P-256) and `OKP` (Ed25519) can be used; `RSA` and `oct`
/// keys parse (so their thumbprints can be computed) but cannot sign or verify here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC`, `OKP` (or `RSA`, `oct`, unusable here).
    pub kty: String,
    /// Curve: `P-256` or `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public x coordinate / Ed25519 public key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Public y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Private key, base64url. Zeroized on drop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<SecretString>,
    /// RSA modulus (thumbprints only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA exponent (thumbprints only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`, `enc`).
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// Parse a JWK from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| Error::InvalidKey(format!("not a JWK: {e}")))
    }

    /// Compact JSON text of this key (private members included if present).
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The same key without private members.
    pub fn to_public(&self) -> Jwk {
        Jwk {
            d: None,
            ..self.clone()
        }
    }

    /// Whether the key carries private material.
    pub fn is_private(&self) -> bool {
        self.d.is_some()
    }

    /// RFC 7638 thumbprint input: the required members in lexicographic order.
    pub fn thumbprint_input(&self) -> Result<String> {
        let req = |name: &str, v: &Option<String>| {
            v.clone()
                .ok_or_else(|| Error::InvalidKey(format!("{} JWK without `{name}`", self.kty)))
        };
        let mut m = BTreeMap::new();
        m.insert("kty", self.kty.clone());
        match self.kty.as_str() {
            "EC" => {
                m.insert("crv", req("crv", &self.crv)?);
                m.insert("x", req("x", &self.x)?);
                m.insert("y", req("y", &self.y)?);
            }
            "OKP" => {
                m.insert("crv", req("crv", &self.crv)?);
                m.insert("x", req("x", &self.x)?);
            }
            "RSA" => {
                m.insert("e", req("e", &self.e)?);
                m.insert("n", req("n", &self.n)?);
            }
            other => {
                return Err(Error::InvalidKey(format!(
                    "no thumbprint rule for key type {other:?}"
                )))
            }
        }
        serde_json::to_string(&m).map_err(|e| Error::InvalidKey(e.to_string()))
    }

    /// RFC 7638 SHA-256 thumbprint, base64url.
    pub fn thumbprint(&self) -> Result<String> {
        Ok(b64::encode(sha256(self.thumbprint_input()?.as_bytes())))
    }
}
