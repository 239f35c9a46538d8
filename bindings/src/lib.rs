//! uniffi surface of the govcred wallet core (Kotlin, Swift, Python).
//!
//! - [`wallet::Wallet`]: the encrypted store, receiving over OpenID4VCI, listing,
//!   presenting (SD-JWT VC with key binding, ISO 18013-5 proximity), delete, wipe.
//! - [`verifier::Verifier`]: offline verification of any format against DID documents,
//!   JWKs, IACAs, status lists or a signed trust bundle; [`proximity::ProximityReader`]
//!   for the reader side of a proximity session.
//! - [`oid4vp`]: OpenID4VP (DCQL, `direct_post`) for SD-JWT VCs, wallet and verifier sides.
//! - [`issuer::Issuer`]: JWT VC / SD-JWT VC issuing for tests and small tools.
//! - [`platform`]: the traits the app implements (key store, key protector, HTTP).
//!
//! Errors are [`error::GovcredError`] with the core's stable codes.

uniffi::setup_scaffolding!();

pub mod error;
pub mod issuer;
pub mod oid4vp;
pub mod platform;
pub mod proximity;
pub mod verifier;
pub mod wallet;

pub use error::{ErrorCode, GovcredError};
pub use issuer::Issuer;
pub use oid4vp::{Openid4vpMatch, Openid4vpSession};
pub use platform::{
    HttpHeader, HttpRequest, HttpResponse, PlatformHttp, PlatformKeyProtector, PlatformKeyStore,
};
pub use proximity::{ProximityPresentation, ProximityReader, ProximityRequest, RequestedElement};
pub use verifier::{VerificationReport, Verifier};
pub use wallet::{
    CredentialState, CredentialSummary, ReceivedCredential, StoredCredential, Wallet,
};

/// A fresh P-256 key as a private JWK (JSON). For tests and small tools: on a phone,
/// device keys live in the platform key store.
#[uniffi::export]
pub fn generate_p256_jwk() -> Result<String, GovcredError> {
    let key = govcred::crypto::SoftwareKey::generate(govcred::crypto::Alg::ES256)?;
    Ok(key.to_private_jwk()?.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_reports_through_ffi_types() {
        let v = Verifier::new(vec![], vec![]).unwrap();
        let r = v.verify("a.b.c".into());
        assert!(!r.valid);
        assert_eq!(r.outcome, "invalid");
        assert_eq!(r.errors[0].code, ErrorCode::InvalidBase64);
        let e = Verifier::new(vec!["{".into()], vec![]).err().unwrap();
        assert!(matches!(
            e,
            GovcredError::Failed {
                code: ErrorCode::MalformedInput,
                ..
            }
        ));
        assert!(generate_p256_jwk().unwrap().contains("\"d\""));
    }
}
