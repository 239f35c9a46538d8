//! uniffi surface of the govcred wallet core (Kotlin, Swift, Python).
//!
//! This first cut exposes offline verification and key generation; the Wallet object,
//! platform traits and async operations come with the bindings work. Errors carry the
//! core's stable codes.

use std::sync::Arc;

uniffi::setup_scaffolding!();

/// Stable error codes (the same strings as the core's `ErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorCode {
    /// `malformed_input`
    MalformedInput,
    /// `duplicate_key`
    DuplicateKey,
    /// `invalid_base64`
    InvalidBase64,
    /// `input_too_large`
    InputTooLarge,
    /// `alg_not_allowed`
    AlgNotAllowed,
    /// `key_alg_mismatch`
    KeyAlgMismatch,
    /// `unsupported_critical`
    UnsupportedCritical,
    /// `signature_invalid`
    SignatureInvalid,
    /// `invalid_key`
    InvalidKey,
    /// `unknown_key`
    UnknownKey,
    /// `untrusted_issuer`
    UntrustedIssuer,
    /// `invalid_did`
    InvalidDid,
    /// `invalid_did_document`
    InvalidDidDocument,
    /// `type_mismatch`
    TypeMismatch,
    /// `expired`
    Expired,
    /// `not_yet_valid`
    NotYetValid,
    /// `invalid_claim`
    InvalidClaim,
    /// `invalid_date_time`
    InvalidDateTime,
    /// `unsupported_format`
    UnsupportedFormat,
    /// `context_unavailable`
    ContextUnavailable,
    /// `nonce_mismatch`
    NonceMismatch,
    /// `status_revoked`
    StatusRevoked,
    /// `status_suspended`
    StatusSuspended,
    /// `status_not_valid`
    StatusNotValid,
    /// `status_unknown`
    StatusUnknown,
    /// `status_list_stale`
    StatusListStale,
    /// `signer_failed`
    SignerFailed,
    /// `crypto_backend`
    CryptoBackend,
    /// `corrupt`
    Corrupt,
    /// `wrong_key`
    WrongKey,
    /// `key_invalidated`
    KeyInvalidated,
    /// `key_not_found`
    KeyNotFound,
    /// `not_found`
    NotFound,
    /// `storage`
    Storage,
    /// `device_auth_unavailable`
    DeviceAuthUnavailable,
    /// `trust_bundle_expired`
    TrustBundleExpired,
    /// `session_decryption_failed`
    SessionDecryptionFailed,
    /// `session_state`
    SessionState,
    /// `audience_mismatch`
    AudienceMismatch,
    /// `no_matching_credential`
    NoMatchingCredential,
    /// `invalid_grant`
    InvalidGrant,
    /// `invalid_token`
    InvalidToken,
    /// `invalid_proof`
    InvalidProof,
    /// `invalid_nonce`
    InvalidNonce,
    /// `invalid_request`
    InvalidRequest,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `unknown_credential_configuration`
    UnknownCredentialConfiguration,
    /// `invalid_notification_id`
    InvalidNotificationId,
    /// `invalid_notification_request`
    InvalidNotificationRequest,
    /// `insecure_url`
    InsecureUrl,
    /// `http_failed`
    HttpFailed,
    /// `jwe_decryption_failed`
    JweDecryptionFailed,
}

impl From<govcred::ErrorCode> for ErrorCode {
    fn from(c: govcred::ErrorCode) -> Self {
        use govcred::ErrorCode as C;
        match c {
            C::MalformedInput => ErrorCode::MalformedInput,
            C::DuplicateKey => ErrorCode::DuplicateKey,
            C::InvalidBase64 => ErrorCode::InvalidBase64,
            C::InputTooLarge => ErrorCode::InputTooLarge,
            C::AlgNotAllowed => ErrorCode::AlgNotAllowed,
            C::KeyAlgMismatch => ErrorCode::KeyAlgMismatch,
            C::UnsupportedCritical => ErrorCode::UnsupportedCritical,
            C::SignatureInvalid => ErrorCode::SignatureInvalid,
            C::InvalidKey => ErrorCode::InvalidKey,
            C::UnknownKey => ErrorCode::UnknownKey,
            C::UntrustedIssuer => ErrorCode::UntrustedIssuer,
            C::InvalidDid => ErrorCode::InvalidDid,
            C::InvalidDidDocument => ErrorCode::InvalidDidDocument,
            C::TypeMismatch => ErrorCode::TypeMismatch,
            C::Expired => ErrorCode::Expired,
            C::NotYetValid => ErrorCode::NotYetValid,
            C::InvalidClaim => ErrorCode::InvalidClaim,
            C::InvalidDateTime => ErrorCode::InvalidDateTime,
            C::UnsupportedFormat => ErrorCode::UnsupportedFormat,
            C::ContextUnavailable => ErrorCode::ContextUnavailable,
            C::NonceMismatch => ErrorCode::NonceMismatch,
            C::StatusRevoked => ErrorCode::StatusRevoked,
            C::StatusSuspended => ErrorCode::StatusSuspended,
            C::StatusNotValid => ErrorCode::StatusNotValid,
            C::StatusUnknown => ErrorCode::StatusUnknown,
            C::StatusListStale => ErrorCode::StatusListStale,
            C::SignerFailed => ErrorCode::SignerFailed,
            C::CryptoBackend => ErrorCode::CryptoBackend,
            C::Corrupt => ErrorCode::Corrupt,
            C::WrongKey => ErrorCode::WrongKey,
            C::KeyInvalidated => ErrorCode::KeyInvalidated,
            C::KeyNotFound => ErrorCode::KeyNotFound,
            C::NotFound => ErrorCode::NotFound,
            C::Storage => ErrorCode::Storage,
            C::DeviceAuthUnavailable => ErrorCode::DeviceAuthUnavailable,
            C::TrustBundleExpired => ErrorCode::TrustBundleExpired,
            C::SessionDecryptionFailed => ErrorCode::SessionDecryptionFailed,
            C::SessionState => ErrorCode::SessionState,
            C::AudienceMismatch => ErrorCode::AudienceMismatch,
            C::NoMatchingCredential => ErrorCode::NoMatchingCredential,
            C::InvalidGrant => ErrorCode::InvalidGrant,
            C::InvalidToken => ErrorCode::InvalidToken,
            C::InvalidProof => ErrorCode::InvalidProof,
            C::InvalidNonce => ErrorCode::InvalidNonce,
            C::InvalidRequest => ErrorCode::InvalidRequest,
            C::UnsupportedGrantType => ErrorCode::UnsupportedGrantType,
            C::UnknownCredentialConfiguration => ErrorCode::UnknownCredentialConfiguration,
            C::InvalidNotificationId => ErrorCode::InvalidNotificationId,
            C::InvalidNotificationRequest => ErrorCode::InvalidNotificationRequest,
            C::InsecureUrl => ErrorCode::InsecureUrl,
            C::HttpFailed => ErrorCode::HttpFailed,
            C::JweDecryptionFailed => ErrorCode::JweDecryptionFailed,
        }
    }
}

/// An error from govcred: a stable code and a message a person can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum GovcredError {
    /// The operation failed; `code` says why.
    #[error("{detail}")]
    Failed {
        /// Stable code.
        code: ErrorCode,
        /// What went wrong and how to fix it. (Not `message`: Kotlin exceptions
        /// already have one, and a field of that name does not compile there.)
        detail: String,
    },
}

impl From<govcred::Error> for GovcredError {
    fn from(e: govcred::Error) -> Self {
        GovcredError::Failed {
            code: e.code().into(),
            detail: e.to_string(),
        }
    }
}

/// One check of a verification.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Check {
    /// Stable check name.
    pub name: String,
    /// `passed`, `failed` or `not_checked`.
    pub outcome: String,
    /// What was found.
    pub detail: String,
}

/// A problem found by a verification.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Problem {
    /// Stable code.
    pub code: ErrorCode,
    /// Message for people.
    pub message: String,
}

/// The verification report.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VerificationReport {
    /// True only when every check passed.
    pub valid: bool,
    /// `valid`, `invalid` or `could_not_check`.
    pub outcome: String,
    /// `jwt-vc`, `di-vc`, …
    pub format: String,
    /// Issuer identifier.
    pub issuer: Option<String>,
    /// Credential types.
    pub types: Vec<String>,
    /// Subject claims as JSON text.
    pub claims_json: String,
    /// Start of validity (RFC 3339).
    pub valid_from: Option<String>,
    /// End of validity (RFC 3339).
    pub valid_until: Option<String>,
    /// Time of the check (RFC 3339).
    pub checked_at: String,
    /// Every check made.
    pub checks: Vec<Check>,
    /// Problems behind failed or unchecked checks.
    pub errors: Vec<Problem>,
}

fn to_json_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl From<govcred::VerificationReport> for VerificationReport {
    fn from(r: govcred::VerificationReport) -> Self {
        VerificationReport {
            valid: r.valid,
            outcome: to_json_str(&r.outcome),
            format: r.format.as_str().to_string(),
            issuer: r.issuer,
            types: r.types,
            claims_json: r.claims.json().to_string(),
            valid_from: r.valid_from,
            valid_until: r.valid_until,
            checked_at: r.checked_at,
            checks: r
                .checks
                .into_iter()
                .map(|c| Check {
                    name: c.name,
                    outcome: to_json_str(&c.outcome),
                    detail: c.detail,
                })
                .collect(),
            errors: r
                .errors
                .into_iter()
                .map(|e| Problem {
                    code: e.code.into(),
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// Verifies credentials offline against trust material loaded once.
#[derive(uniffi::Object)]
pub struct Verifier {
    inner: govcred::Verifier,
}

#[uniffi::export]
impl Verifier {
    /// A verifier trusting the given DID documents (e.g. did:web `did.json`) and JWKs,
    /// each as JSON text.
    #[uniffi::constructor]
    pub fn new(did_documents: Vec<String>, jwks: Vec<String>) -> Result<Arc<Self>, GovcredError> {
        let mut trust = govcred::trust::TrustStore::new();
        for d in did_documents {
            let v: serde_json::Value =
                serde_json::from_str(&d).map_err(|e| GovcredError::Failed {
                    code: ErrorCode::MalformedInput,
                    detail: format!("DID document is not JSON: {e}"),
                })?;
            trust.add_did_document(&v)?;
        }
        for j in jwks {
            trust.add_jwk(&govcred::crypto::Jwk::from_json(&j)?)?;
        }
        Ok(Arc::new(Verifier {
            inner: govcred::Verifier::new(trust),
        }))
    }

    /// Verify a credential (any supported format) now.
    pub fn verify(&self, credential: String) -> VerificationReport {
        self.inner.verify(credential.as_bytes()).into()
    }

    /// Verify a credential as of `unix_seconds`.
    pub fn verify_at(&self, credential: String, unix_seconds: i64) -> VerificationReport {
        self.inner
            .clone()
            .with_clock(Arc::new(govcred::FixedClock::new(unix_seconds)))
            .verify(credential.as_bytes())
            .into()
    }
}

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
