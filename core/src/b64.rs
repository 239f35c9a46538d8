//! Strict base64url (RFC 4648 §5, no padding), as JOSE, SD-JWT and did:jwk require.
//!
//! Decoding rejects padding, the standard alphabet, whitespace and non-zero trailing
//! bits, so every accepted string has exactly one byte sequence and vice versa: a
//! signature cannot be re-encoded into a second "valid" token.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, Result};

/// Encode bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decode canonical unpadded base64url; `what` names the input in the error.
pub fn decode(text: &str, what: &'static str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| Error::InvalidBase64 { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(encode(b"hi?"), "aGk_");
        assert_eq!(decode("aGk_", "t").unwrap(), b"hi?");
        // padding, standard alphabet, whitespace
        for bad in ["aGk=", "aGk/", "aG k", "aGk_\n"] {
            assert_eq!(
                decode(bad, "t").unwrap_err().code(),
                crate::ErrorCode::InvalidBase64
            );
        }
        // non-zero trailing bits: "QQ" is canonical for "A"; "QR" decodes to the same byte
        assert_eq!(decode("QQ", "t").unwrap(), b"A");
        assert!(decode("QR", "t").is_err());
    }
}
