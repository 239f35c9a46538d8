//! Credential formats. Each module issues and verifies one securing mechanism and
//! fills the common [`crate::report::VerificationReport`].

#[cfg(feature = "data-integrity")]
pub mod data_integrity;
pub mod jwt_vc;
pub mod mdoc;
pub mod sd_jwt;

use crate::error::Result;
use crate::jose::Jws;
use crate::report::{Format, VerificationReport};
use crate::trust::IssuerKey;
use crate::vc::CredentialInfo;

/// Record the VC data-model check and what it read (issuer, types, validity).
pub(crate) fn record_data_model(report: &mut VerificationReport, info: &Result<CredentialInfo>) {
    report.record("data_model", info, |i| {
        format!("VC 2.0 credential of type {}", i.types.join(", "))
    });
    if let Ok(i) = info {
        report.issuer = Some(i.issuer.clone());
        report.types = i.types.clone();
        report.valid_from = i.valid_from.map(crate::datetime::format);
        report.valid_until = i.valid_until.map(crate::datetime::format);
    }
}

/// Record the `issuer_key` and `signature` checks of an issuer-signed JWS: the first
/// candidate key that verifies is returned; with no candidate the signature is "not
/// checked", never "failed".
pub(crate) fn check_issuer_signature(
    report: &mut VerificationReport,
    jws: &Jws<'_>,
    keys: Result<Vec<IssuerKey>>,
) -> Option<IssuerKey> {
    let keys = match keys {
        Ok(keys) => keys,
        Err(e) => {
            report.record::<()>("issuer_key", &Err(e), |_| String::new());
            report.skipped("signature", "no usable key for the issuer (see issuer_key)");
            return None;
        }
    };
    report.pass(
        "issuer_key",
        keys.iter()
            .map(IssuerKey::describe)
            .collect::<Vec<_>>()
            .join("; "),
    );
    let result = crate::trust::first_verifying_key(jws, keys);
    report.record("signature", &result, |_| {
        format!("{} issuer signature verified", jws.alg())
    });
    result.ok()
}

/// Guess the format of `input` from its shape (no signature is checked).
pub fn detect(input: &[u8]) -> Format {
    // A CBOR map (definite 0xa0–0xb7 / 0xb8–0xbb, or indefinite 0xbf): an mdoc.
    if input
        .first()
        .is_some_and(|b| (0xa0..=0xbb).contains(b) || *b == 0xbf)
    {
        return Format::Mdoc;
    }
    let text = match std::str::from_utf8(input) {
        Ok(t) => t.trim(),
        Err(_) => return Format::Unknown,
    };
    if text.starts_with('{') {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) if v.get("proof").is_some() => Format::DiVc,
            _ => Format::Unknown,
        };
    }
    // `~` never occurs in base64url or compact JWS: it separates SD-JWT parts.
    if text.contains('~') {
        return Format::SdJwtVc;
    }
    // Two dots: a compact JWS, well-formed or not; the JOSE layer then says precisely
    // what is wrong with it. (One vectorisable pass: this runs on every verification.)
    if text.bytes().filter(|&b| b == b'.').count() == 2 {
        return Format::JwtVc;
    }
    // One base64url string: GOV.UK's form of an mdoc `IssuerSigned`. A CBOR map starts
    // with 0xa0–0xbf, which base64url-encodes to a leading `o`, `p`, `q` or `r`…`v`.
    if text.len() > 16
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && crate::b64::decode(&text[..16], "mdoc")
            .is_ok_and(|b| (0xa0..=0xbb).contains(&b[0]) || b[0] == 0xbf)
    {
        return Format::Mdoc;
    }
    Format::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_shape() {
        assert_eq!(detect(br#"{"proof": {}, "name": "a~b"}"#), Format::DiVc);
        assert_eq!(detect(br#"{"name": "a~b"}"#), Format::Unknown);
        assert_eq!(detect(b"aaa.bbb.ccc~ddd~"), Format::SdJwtVc);
        assert_eq!(detect(b" aaa.bbb.ccc\n"), Format::JwtVc);
        assert_eq!(detect(b"aaa.bbb"), Format::Unknown);
        assert_eq!(detect(&[0xff, 0xfe]), Format::Unknown);
        assert_eq!(detect(&[0xa2, 0x01]), Format::Mdoc);
        assert_eq!(detect(&[0xbf, 0x01]), Format::Mdoc);
        assert_eq!(
            detect(crate::b64::encode([0xa2u8; 30]).as_bytes()),
            Format::Mdoc
        );
        assert_eq!(detect(b"not-a-credential-at-all"), Format::Unknown);
    }
}
