//! Errors across the FFI: the core's stable codes and a typed exception.

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

impl GovcredError {
    /// An error with `code` and `detail`.
    pub(crate) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        GovcredError::Failed {
            code,
            detail: detail.into(),
        }
    }

    /// The error as the core's, for an error a callback (the app's key store, key
    /// protector or HTTP client) returned. Codes the core knows how to act on keep their
    /// meaning (`key_not_found`, `key_invalidated`, `wrong_key`, `crypto_backend`);
    /// anything else — including an exception the callback did not declare — becomes
    /// `fallback(detail)`.
    pub(crate) fn into_core(self, fallback: fn(String) -> govcred::Error) -> govcred::Error {
        let GovcredError::Failed { code, detail } = self;
        match code {
            ErrorCode::KeyNotFound => govcred::Error::KeyNotFound { alias: detail },
            ErrorCode::KeyInvalidated => govcred::Error::KeyInvalidated { alias: detail },
            ErrorCode::WrongKey => govcred::Error::WrongKey(detail),
            ErrorCode::CryptoBackend => govcred::Error::CryptoBackend(detail),
            _ => fallback(detail),
        }
    }
}

/// A callback that threw something other than `GovcredError` (any exception in
/// Kotlin, Swift or Python). The adapter that made the call turns it into the fitting
/// code (`signer_failed`, `storage`, `http_failed`); the app never crashes.
impl From<uniffi::UnexpectedUniFFICallbackError> for GovcredError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        GovcredError::Failed {
            code: ErrorCode::SignerFailed,
            detail: format!("the app's callback failed: {}", e.reason),
        }
    }
}

/// Shorthand for results across the FFI.
pub type FfiResult<T> = Result<T, GovcredError>;
