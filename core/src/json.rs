//! Strict JSON: objects with a member name twice are refused.
//!
//! RFC 8259 leaves duplicate member names to the parser, and parsers disagree: one
//! keeps the first `exp`, another the last. A signed token read differently by the
//! issuer's tooling, a wallet and a verifier is an attack (RFC 7515 §5.2 and RFC 7519
//! §4 allow a JWT parser to reject duplicates — we do). [`check_unique_keys`] walks
//! the JSON once, at every depth, without building a value; the normal typed parse
//! follows it.
//!
//! ```
//! use govcred::{json, ErrorCode};
//! assert!(json::check_unique_keys(br#"{"a":1,"b":{"a":2}}"#, "example").is_ok());
//! let err = json::check_unique_keys(br#"{"exp":1,"exp":9999999999}"#, "example").unwrap_err();
//! assert_eq!(err.code(), ErrorCode::DuplicateKey);
//! ```

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Error, Result};

/// Objects with more members than this are checked with a hash set rather than by
/// scanning the names seen so far.
const LINEAR_SCAN_MAX: usize = 16;

/// Refuse JSON text that is malformed or has an object with a repeated member name.
///
/// `what` names the input in the error (`"JWT payload"`, `"disclosure"`…).
pub fn check_unique_keys(bytes: &[u8], what: &'static str) -> Result<()> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let outcome = Walk.deserialize(&mut de).and_then(|()| de.end());
    match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            match text.strip_prefix(DUPLICATE_PREFIX) {
                Some(rest) => Err(Error::DuplicateKey {
                    what,
                    key: rest.split(" at line").next().unwrap_or(rest).to_owned(),
                }),
                None => Err(Error::malformed(what, format!("not valid JSON: {text}"))),
            }
        }
    }
}

const DUPLICATE_PREFIX: &str = "duplicate member ";

/// Walks any JSON value, failing on a repeated member name in any object.
struct Walk;

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while seq.next_element_seed(Walk)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let mut names: Vec<Cow<'de, str>> = Vec::new();
        let mut set: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
            let repeated = match &mut set {
                Some(set) => !set.insert(name.clone()),
                None if names.len() >= LINEAR_SCAN_MAX => {
                    let mut all: HashSet<_> = names.drain(..).collect();
                    let repeated = !all.insert(name.clone());
                    set = Some(all);
                    repeated
                }
                None => {
                    let repeated = names.contains(&name);
                    names.push(name.clone());
                    repeated
                }
            };
            if repeated {
                return Err(de::Error::custom(format!("{DUPLICATE_PREFIX}{name:?}")));
            }
            map.next_value_seed(Walk)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn nested_and_escaped_duplicates_are_found() {
        for bad in [
            &br#"{"a":1,"a":2}"#[..],
            br#"{"x":[{"k":1,"k":1}]}"#,
            br#"{"\u0065xp":1,"exp":2}"#,
        ] {
            let err = check_unique_keys(bad, "test").unwrap_err();
            assert_eq!(err.code(), ErrorCode::DuplicateKey, "{}", err);
        }
        let many: String = format!(
            "{{{}, \"k7\": 0}}",
            (0..40)
                .map(|i| format!("\"k{i}\": {i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            check_unique_keys(many.as_bytes(), "test")
                .unwrap_err()
                .code(),
            ErrorCode::DuplicateKey
        );
    }

    #[test]
    fn valid_and_malformed_json() {
        check_unique_keys(br#"{"a":[1,2.5,"s",null,true,{"a":{}}],"b":-3}"#, "t").unwrap();
        for bad in [&b"{"[..], b"{\"a\":1} x", b"", b"[1,]"] {
            assert_eq!(
                check_unique_keys(bad, "t").unwrap_err().code(),
                ErrorCode::MalformedInput
            );
        }
    }
}
