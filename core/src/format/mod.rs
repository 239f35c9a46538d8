//! Credential formats. Each module issues and verifies one securing mechanism and
//! fills the common [`crate::report::VerificationReport`].

#[cfg(feature = "data-integrity")]
pub mod data_integrity;
pub mod jwt_vc;
pub mod sd_jwt;

use crate::report::Format;

/// Guess the format of `input` from its shape (no signature is checked).
pub fn detect(input: &[u8]) -> Format {
    let text = match std::str::from_utf8(input) {
        Ok(t) => t.trim(),
        Err(_) => return Format::Unknown,
    };
    // `~` never occurs in base64url or compact JWS: it separates SD-JWT parts.
    if text.contains('~') {
        return Format::SdJwtVc;
    }
    if text.starts_with('{') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) if v.get("proof").is_some() => Format::DiVc,
            _ => Format::Unknown,
        };
    }
    // Two dots: a compact JWS, well-formed or not; the JOSE layer then says precisely
    // what is wrong with it. (One vectorisable pass: this runs on every verification.)
    if text.bytes().filter(|&b| b == b'.').count() == 2 {
        return Format::JwtVc;
    }
    Format::Unknown
}
