//! Disclosures: `base64url(JSON [salt, name, value])` for object members and
//! `base64url(JSON [salt, value])` for array elements; digest = base64url(SHA-256(ASCII)).

use serde_json::Value;

use crate::b64;
use crate::crypto::sha256;
use crate::error::{Error, Result};

/// One decoded disclosure.
#[derive(Clone, Debug, PartialEq)]
pub struct Disclosure {
    /// The disclosure as it appears in the SD-JWT (base64url).
    pub encoded: String,
    /// Its digest: base64url of the SHA-256 of `encoded`.
    pub digest: String,
    /// The salt.
    pub salt: String,
    /// The member name, for an object member; `None` for an array element.
    pub name: Option<String>,
    /// The disclosed value.
    pub value: Value,
}

/// base64url SHA-256 of `text` (a disclosure, or the presentation for `sd_hash`).
pub fn digest(text: &str) -> String {
    b64::encode(sha256(text.as_bytes()))
}

impl Disclosure {
    /// A new disclosure with a fresh 128-bit salt.
    pub fn new(name: Option<&str>, value: Value) -> Self {
        Self::with_salt(rand::random(), name, value)
    }

    /// A new disclosure with the given 128-bit salt.
    pub fn with_salt(salt: [u8; 16], name: Option<&str>, value: Value) -> Self {
        let salt = b64::encode(salt);
        let array = match name {
            Some(n) => Value::Array(vec![salt.clone().into(), n.into(), value.clone()]),
            None => Value::Array(vec![salt.clone().into(), value.clone()]),
        };
        let encoded = b64::encode(array.to_string());
        Disclosure {
            digest: digest(&encoded),
            encoded,
            salt,
            name: name.map(str::to_string),
            value,
        }
    }

    /// Decode one disclosure string.
    pub fn parse(encoded: &str) -> Result<Self> {
        let bad = |reason: &str| Error::malformed("SD-JWT disclosure", reason.to_string());
        let json = b64::decode(encoded, "SD-JWT disclosure")?;
        crate::json::check_unique_keys(&json, "SD-JWT disclosure")?;
        let array: Vec<Value> =
            serde_json::from_slice(&json).map_err(|_| bad("not a JSON array"))?;
        let mut items = array.into_iter();
        let (salt, name, value) = match (items.next(), items.next(), items.next(), items.next()) {
            (Some(Value::String(salt)), Some(Value::String(name)), Some(value), None) => {
                (salt, Some(name), value)
            }
            (Some(Value::String(salt)), Some(value), None, None) => (salt, None, value),
            _ => {
                return Err(bad(
                    "must be [salt, name, value] or [salt, value] with string salt and name",
                ))
            }
        };
        if let Some(n) = &name {
            if n == "_sd" || n == "..." {
                return Err(bad("a disclosed claim may not be named `_sd` or `...`"));
            }
        }
        Ok(Disclosure {
            digest: digest(encoded),
            encoded: encoded.to_string(),
            salt,
            name,
            value,
        })
    }
}
