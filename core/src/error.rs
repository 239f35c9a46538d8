//! Typed errors with stable string codes.
//!
//! Every failure the library can report is a variant of [`Error`]; each maps to an
//! [`ErrorCode`] whose string form (`signature_invalid`, `alg_not_allowed`, …) is stable
//! across releases and across the FFI, so apps and tests can branch on it. The
//! `Display` text is for people: it says what was wrong and, where possible, how to fix it.

use std::fmt;

/// Stable, machine-readable error codes. The string form never changes once released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Input is not well-formed (bad JSON, wrong structure, wrong segment count…).
    MalformedInput,
    /// A JSON object names a member twice, or a CBOR map has a repeated key: parsers
    /// disagree on which one wins, so such input is refused.
    DuplicateKey,
    /// base64url that is padded, uses the wrong alphabet or has non-zero trailing bits.
    InvalidBase64,
    /// Input larger than the limit for its kind.
    InputTooLarge,
    /// The `alg` is not one we accept (`none`, HS*, RS*, unknown).
    AlgNotAllowed,
    /// The key's type or curve does not match the `alg` in use.
    KeyAlgMismatch,
    /// A `crit` header parameter we do not understand.
    UnsupportedCritical,
    /// The signature does not verify.
    SignatureInvalid,
    /// A key (JWK, multikey, DID) is malformed or of an unsupported type.
    InvalidKey,
    /// No key could be found for the signer (`kid` unknown, DID not supplied).
    UnknownKey,
    /// The signer is not the credential's issuer or is not trusted.
    UntrustedIssuer,
    /// A DID or DID URL is malformed or its method unsupported.
    InvalidDid,
    /// A DID document is malformed or does not authorise the key for this purpose.
    InvalidDidDocument,
    /// The `typ` / `cty` header is not the one the format requires.
    TypeMismatch,
    /// Past the end of the validity window.
    Expired,
    /// Before the start of the validity window.
    NotYetValid,
    /// A claim required by the data model or profile is missing or has the wrong form.
    InvalidClaim,
    /// A date/time value is malformed.
    InvalidDateTime,
    /// The format of the input could not be recognised or is not supported.
    UnsupportedFormat,
    /// A JSON-LD context needed for Data Integrity is not available offline.
    ContextUnavailable,
    /// The challenge nonce in a presentation is not the one the verifier issued.
    NonceMismatch,
    /// The issuer revoked the credential (status INVALID).
    StatusRevoked,
    /// The issuer suspended the credential (status SUSPENDED).
    StatusSuspended,
    /// The status list gives an application-specific, non-VALID value.
    StatusNotValid,
    /// No status list for the credential's reference was available offline.
    StatusUnknown,
    /// The status list used is past its `exp`/`ttl`: its answer may be out of date.
    StatusListStale,
    /// A `Signer` (software key, secure element, HSM) failed to sign.
    SignerFailed,
    /// Key generation or a crypto backend operation failed.
    CryptoBackend,
    /// A stored record failed its integrity check (altered, truncated or moved from
    /// another row): it is not returned.
    Corrupt,
    /// The key protector's key does not open the store's data key (another device,
    /// another user, or a reset key).
    WrongKey,
    /// A platform key was invalidated (biometrics re-enrolled, passcode removed) and
    /// can no longer be used: create a new one.
    KeyInvalidated,
    /// No platform key has this alias.
    KeyNotFound,
    /// No stored credential has this id.
    NotFound,
    /// The database could not be read or written (I/O, disk full, locked, newer schema).
    Storage,
    /// A presentation's holder (device) authentication could not be checked: no
    /// session transcript or session MAC key was supplied.
    DeviceAuthUnavailable,
    /// A trust bundle is past its `exp`: sync a new one.
    TrustBundleExpired,
    /// An ISO 18013-5 SessionData message did not decrypt: wrong session key, altered
    /// ciphertext, or a replayed / out-of-order message (its counter is not the next).
    SessionDecryptionFailed,
    /// A proximity or OpenID4VP session message arrived in a state that does not
    /// accept it (e.g. a request after termination).
    SessionState,
    /// The `aud` of a presentation is not this verifier.
    AudienceMismatch,
    /// No stored credential can satisfy a presentation request (a query asks for a
    /// credential type or claim the wallet does not hold).
    NoMatchingCredential,
    /// OAuth `invalid_grant`: the pre-authorised code is unknown, expired, already used or forged.
    InvalidGrant,
    /// OAuth `invalid_token`: the access token is missing its signature, expired, replayed or not for this issuer.
    InvalidToken,
    /// OpenID4VCI `invalid_proof`: the key proof is missing, malformed, badly signed or out of its window.
    InvalidProof,
    /// OpenID4VCI `invalid_nonce`: the proof's nonce is not the current `c_nonce`.
    InvalidNonce,
    /// OAuth `invalid_request` (`invalid_credential_request` at the credential endpoint).
    InvalidRequest,
    /// OAuth `unsupported_grant_type`.
    UnsupportedGrantType,
    /// OpenID4VCI `unknown_credential_configuration`.
    UnknownCredentialConfiguration,
    /// OpenID4VCI `invalid_notification_id`.
    InvalidNotificationId,
    /// OpenID4VCI `invalid_notification_request`.
    InvalidNotificationRequest,
    /// A URL is not https (and not loopback) or otherwise unusable.
    InsecureUrl,
    /// An HTTP exchange failed (transport error or an unexpected answer).
    HttpFailed,
    /// A JWE did not decrypt: encrypted to another key, or altered (header,
    /// IV, ciphertext or tag) — the AES-GCM tag does not verify.
    JweDecryptionFailed,
}

impl ErrorCode {
    /// The stable string form, e.g. `"signature_invalid"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedInput => "malformed_input",
            ErrorCode::DuplicateKey => "duplicate_key",
            ErrorCode::InvalidBase64 => "invalid_base64",
            ErrorCode::InputTooLarge => "input_too_large",
            ErrorCode::AlgNotAllowed => "alg_not_allowed",
            ErrorCode::KeyAlgMismatch => "key_alg_mismatch",
            ErrorCode::UnsupportedCritical => "unsupported_critical",
            ErrorCode::SignatureInvalid => "signature_invalid",
            ErrorCode::InvalidKey => "invalid_key",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::UntrustedIssuer => "untrusted_issuer",
            ErrorCode::InvalidDid => "invalid_did",
            ErrorCode::InvalidDidDocument => "invalid_did_document",
            ErrorCode::TypeMismatch => "type_mismatch",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::InvalidClaim => "invalid_claim",
            ErrorCode::InvalidDateTime => "invalid_date_time",
            ErrorCode::UnsupportedFormat => "unsupported_format",
            ErrorCode::ContextUnavailable => "context_unavailable",
            ErrorCode::NonceMismatch => "nonce_mismatch",
            ErrorCode::StatusRevoked => "status_revoked",
            ErrorCode::StatusSuspended => "status_suspended",
            ErrorCode::StatusNotValid => "status_not_valid",
            ErrorCode::StatusUnknown => "status_unknown",
            ErrorCode::StatusListStale => "status_list_stale",
            ErrorCode::SignerFailed => "signer_failed",
            ErrorCode::CryptoBackend => "crypto_backend",
            ErrorCode::Corrupt => "corrupt",
            ErrorCode::WrongKey => "wrong_key",
            ErrorCode::KeyInvalidated => "key_invalidated",
            ErrorCode::KeyNotFound => "key_not_found",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Storage => "storage",
            ErrorCode::DeviceAuthUnavailable => "device_auth_unavailable",
            ErrorCode::TrustBundleExpired => "trust_bundle_expired",
            ErrorCode::SessionDecryptionFailed => "session_decryption_failed",
            ErrorCode::SessionState => "session_state",
            ErrorCode::AudienceMismatch => "audience_mismatch",
            ErrorCode::NoMatchingCredential => "no_matching_credential",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidProof => "invalid_proof",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnknownCredentialConfiguration => "unknown_credential_configuration",
            ErrorCode::InvalidNotificationId => "invalid_notification_id",
            ErrorCode::InvalidNotificationRequest => "invalid_notification_request",
            ErrorCode::InsecureUrl => "insecure_url",
            ErrorCode::HttpFailed => "http_failed",
            ErrorCode::JweDecryptionFailed => "jwe_decryption_failed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error govcred reports. Match on [`Error::code`] for the stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input structure is wrong; `what` names the part, `reason` the problem.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The part of the input, e.g. "JWS", "JWT payload".
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Repeated member name / map key.
    #[error("{what} names {key} twice: refused, because parsers disagree on which one counts")]
    DuplicateKey {
        /// The part of the input.
        what: &'static str,
        /// The repeated name, quoted.
        key: String,
    },
    /// Non-canonical or invalid base64url.
    #[error("invalid base64url in {what}: must be unpadded, URL-safe alphabet, canonical")]
    InvalidBase64 {
        /// The part of the input.
        what: &'static str,
    },
    /// Input exceeds a size limit.
    #[error("{what} is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The kind of input.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `alg` refused.
    #[error("algorithm {alg:?} is not allowed: only ES256 and EdDSA are accepted")]
    AlgNotAllowed {
        /// The `alg` as found.
        alg: String,
    },
    /// Key type does not match `alg`.
    #[error("key of type {key} cannot be used with alg {alg}")]
    KeyAlgMismatch {
        /// The key type/curve, e.g. "EC P-256".
        key: String,
        /// The algorithm.
        alg: String,
    },
    /// A `crit` header names something we do not implement.
    #[error("critical header parameter {0:?} is not understood")]
    UnsupportedCritical(String),
    /// Signature did not verify.
    #[error("signature does not verify with the {key} key")]
    SignatureInvalid {
        /// Which key was tried (kid or thumbprint).
        key: String,
    },
    /// A Data Integrity proof did not verify (the detail says which and why).
    #[error("Data Integrity proof does not verify: {0}")]
    DataIntegrityProofInvalid(String),
    /// Malformed or unsupported key.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// No key found.
    #[error("no key found for {0}: supply the issuer's JWK or DID document")]
    UnknownKey(String),
    /// Signer not acceptable as the issuer.
    #[error("untrusted issuer: {0}")]
    UntrustedIssuer(String),
    /// Bad DID.
    #[error("invalid DID {did:?}: {reason}")]
    InvalidDid {
        /// The DID or DID URL.
        did: String,
        /// What is wrong.
        reason: String,
    },
    /// Bad DID document.
    #[error("invalid DID document for {did}: {reason}")]
    InvalidDidDocument {
        /// The DID.
        did: String,
        /// What is wrong.
        reason: String,
    },
    /// Header `typ`/`cty` mismatch.
    #[error("{header} is {found:?}, expected {expected}")]
    TypeMismatch {
        /// Which header member.
        header: &'static str,
        /// What was found.
        found: String,
        /// What is required.
        expected: &'static str,
    },
    /// Expired.
    #[error("expired at {until} (checked at {at})")]
    Expired {
        /// End of validity (RFC 3339).
        until: String,
        /// Time of the check (RFC 3339).
        at: String,
    },
    /// Not yet valid.
    #[error("not valid before {from} (checked at {at})")]
    NotYetValid {
        /// Start of validity (RFC 3339).
        from: String,
        /// Time of the check (RFC 3339).
        at: String,
    },
    /// Missing or wrongly-typed claim.
    #[error("claim {claim}: {reason}")]
    InvalidClaim {
        /// The claim name or path.
        claim: String,
        /// What is wrong.
        reason: String,
    },
    /// Bad date-time.
    #[error("{what} is not a valid RFC 3339 date-time: {value:?}")]
    InvalidDateTime {
        /// Which value.
        what: String,
        /// The text found.
        value: String,
    },
    /// Format not recognised.
    #[error("unsupported or unrecognised credential format: {0}")]
    UnsupportedFormat(String),
    /// JSON-LD context missing offline.
    #[error("JSON-LD context not available offline: {0}")]
    ContextUnavailable(String),
    /// Revoked.
    #[error("revoked: index {index} of status list {uri} is INVALID")]
    StatusRevoked {
        /// The list.
        uri: String,
        /// The entry.
        index: usize,
    },
    /// Suspended.
    #[error("suspended: index {index} of status list {uri} is SUSPENDED")]
    StatusSuspended {
        /// The list.
        uri: String,
        /// The entry.
        index: usize,
    },
    /// Application-specific status value.
    #[error("index {index} of status list {uri} has the application-specific status {value}, which is not VALID")]
    StatusNotValid {
        /// The list.
        uri: String,
        /// The entry.
        index: usize,
        /// The raw status value.
        value: u8,
    },
    /// No list available.
    #[error("status unknown: no status list for {uri} was synced (fetch it while online)")]
    StatusUnknown {
        /// The list the credential points to.
        uri: String,
    },
    /// Stale list.
    #[error("status list {uri} is stale (issued {issued}, valid until {until}): sync it again")]
    StatusListStale {
        /// The list.
        uri: String,
        /// When it was issued.
        issued: String,
        /// When it stopped being fresh.
        until: String,
    },
    /// Nonce mismatch (replayed or foreign presentation).
    #[error("the presentation's nonce is not the one this verifier issued (replayed or meant for another request)")]
    NonceMismatch,
    /// Signer failed.
    #[error("signer failed: {0}")]
    SignerFailed(String),
    /// Crypto backend failure.
    #[error("crypto backend: {0}")]
    CryptoBackend(String),
    /// A stored record does not decrypt under its row's associated data.
    #[error("stored record {id} is corrupt ({what} failed its integrity check): it was altered or moved from another row; delete it and receive the credential again")]
    Corrupt {
        /// The record's id.
        id: String,
        /// Which part failed (column name).
        what: String,
    },
    /// The key protector does not open the data key.
    #[error("the store's data key cannot be unwrapped with this key protector: {0}; the data was left untouched (use the protector that created the store, or wipe it)")]
    WrongKey(String),
    /// A platform key was invalidated.
    #[error("key {alias:?} was invalidated by the platform (e.g. biometrics changed): delete it and create a new one")]
    KeyInvalidated {
        /// The key's alias.
        alias: String,
    },
    /// No platform key with this alias.
    #[error("no key with alias {alias:?}: create it first")]
    KeyNotFound {
        /// The alias asked for.
        alias: String,
    },
    /// No stored credential with this id.
    #[error("no stored credential has id {id:?} (list the store to see the ids)")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// The database failed.
    #[error("storage: {0}")]
    Storage(String),
    /// Device (holder) authentication of a presentation could not be checked.
    #[error("device authentication not checked: {0}")]
    DeviceAuthUnavailable(String),
    /// Trust bundle expired.
    #[error(
        "the trust bundle expired at {until} (checked at {at}): sync a new bundle while online"
    )]
    TrustBundleExpired {
        /// The bundle's `exp` (RFC 3339).
        until: String,
        /// Time of the check (RFC 3339).
        at: String,
    },
    /// SessionData decryption failed.
    #[error("session message {counter} does not decrypt with the {key} session key: wrong key, altered ciphertext, or a replayed or out-of-order message")]
    SessionDecryptionFailed {
        /// Which key (`SKReader` or `SKDevice`).
        key: &'static str,
        /// The message counter expected.
        counter: u32,
    },
    /// Message not acceptable in the current session state.
    #[error("session state: {0}")]
    SessionState(String),
    /// Audience mismatch.
    #[error("the presentation is for {found:?}, not for this verifier ({expected:?})")]
    AudienceMismatch {
        /// The audience found.
        found: String,
        /// The audience expected.
        expected: String,
    },
    /// Nothing in the wallet satisfies a query.
    #[error("no stored credential satisfies {0}")]
    NoMatchingCredential(String),
    /// OAuth `invalid_grant`.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// OAuth `invalid_token`.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// OpenID4VCI `invalid_proof`.
    #[error("invalid_proof: {0}")]
    InvalidProof(String),
    /// OpenID4VCI `invalid_nonce`; `fresh_nonce` is the nonce to use in a new proof, when
    /// the issuer gave one.
    #[error("invalid_nonce: {reason}")]
    InvalidNonce {
        /// What was wrong.
        reason: String,
        /// A fresh `c_nonce` for the retry.
        fresh_nonce: Option<String>,
    },
    /// OAuth `invalid_request` / OpenID4VCI `invalid_credential_request`.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// OAuth `unsupported_grant_type`.
    #[error("unsupported_grant_type: {0:?} (only the pre-authorised code grant is supported)")]
    UnsupportedGrantType(String),
    /// OpenID4VCI `unknown_credential_configuration`.
    #[error("unknown_credential_configuration: {0:?} is not in the issuer's credential_configurations_supported")]
    UnknownCredentialConfiguration(String),
    /// OpenID4VCI `invalid_notification_id`.
    #[error("invalid_notification_id: {0}")]
    InvalidNotificationId(String),
    /// OpenID4VCI `invalid_notification_request`.
    #[error("invalid_notification_request: {0}")]
    InvalidNotificationRequest(String),
    /// Not an https URL (loopback http is allowed for tests) or not a usable URL.
    #[error("{what} {url:?} refused: {reason}")]
    InsecureUrl {
        /// Which URL.
        what: &'static str,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// HTTP transport failure or unexpected answer.
    #[error("HTTP: {0}")]
    Http(String),
    /// A JWE `alg`, `enc` or `zip` refused.
    #[error("JWE {param} {value:?} is not allowed: only alg ECDH-ES (P-256) with enc A128GCM or A256GCM, uncompressed, is accepted")]
    JweAlgNotAllowed {
        /// The header parameter (`alg`, `enc`, `zip`).
        param: &'static str,
        /// Its value as found.
        value: String,
    },
    /// JWE authentication failed.
    #[error("the JWE does not decrypt with this key: it was encrypted to another key or altered (header, IV, ciphertext or tag)")]
    JweDecryptionFailed,
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Malformed { .. } => ErrorCode::MalformedInput,
            Error::DuplicateKey { .. } => ErrorCode::DuplicateKey,
            Error::InvalidBase64 { .. } => ErrorCode::InvalidBase64,
            Error::TooLarge { .. } => ErrorCode::InputTooLarge,
            Error::AlgNotAllowed { .. } => ErrorCode::AlgNotAllowed,
            Error::KeyAlgMismatch { .. } => ErrorCode::KeyAlgMismatch,
            Error::UnsupportedCritical(_) => ErrorCode::UnsupportedCritical,
            Error::SignatureInvalid { .. } | Error::DataIntegrityProofInvalid(_) => {
                ErrorCode::SignatureInvalid
            }
            Error::InvalidKey(_) => ErrorCode::InvalidKey,
            Error::UnknownKey(_) => ErrorCode::UnknownKey,
            Error::UntrustedIssuer(_) => ErrorCode::UntrustedIssuer,
            Error::InvalidDid { .. } => ErrorCode::InvalidDid,
            Error::InvalidDidDocument { .. } => ErrorCode::InvalidDidDocument,
            Error::TypeMismatch { .. } => ErrorCode::TypeMismatch,
            Error::Expired { .. } => ErrorCode::Expired,
            Error::NotYetValid { .. } => ErrorCode::NotYetValid,
            Error::InvalidClaim { .. } => ErrorCode::InvalidClaim,
            Error::InvalidDateTime { .. } => ErrorCode::InvalidDateTime,
            Error::UnsupportedFormat(_) => ErrorCode::UnsupportedFormat,
            Error::ContextUnavailable(_) => ErrorCode::ContextUnavailable,
            Error::NonceMismatch => ErrorCode::NonceMismatch,
            Error::StatusRevoked { .. } => ErrorCode::StatusRevoked,
            Error::StatusSuspended { .. } => ErrorCode::StatusSuspended,
            Error::StatusNotValid { .. } => ErrorCode::StatusNotValid,
            Error::StatusUnknown { .. } => ErrorCode::StatusUnknown,
            Error::StatusListStale { .. } => ErrorCode::StatusListStale,
            Error::SignerFailed(_) => ErrorCode::SignerFailed,
            Error::CryptoBackend(_) => ErrorCode::CryptoBackend,
            Error::Corrupt { .. } => ErrorCode::Corrupt,
            Error::WrongKey(_) => ErrorCode::WrongKey,
            Error::KeyInvalidated { .. } => ErrorCode::KeyInvalidated,
            Error::KeyNotFound { .. } => ErrorCode::KeyNotFound,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Storage(_) => ErrorCode::Storage,
            Error::DeviceAuthUnavailable(_) => ErrorCode::DeviceAuthUnavailable,
            Error::TrustBundleExpired { .. } => ErrorCode::TrustBundleExpired,
            Error::SessionDecryptionFailed { .. } => ErrorCode::SessionDecryptionFailed,
            Error::SessionState(_) => ErrorCode::SessionState,
            Error::AudienceMismatch { .. } => ErrorCode::AudienceMismatch,
            Error::NoMatchingCredential(_) => ErrorCode::NoMatchingCredential,
            Error::InvalidGrant(_) => ErrorCode::InvalidGrant,
            Error::InvalidToken(_) => ErrorCode::InvalidToken,
            Error::InvalidProof(_) => ErrorCode::InvalidProof,
            Error::InvalidNonce { .. } => ErrorCode::InvalidNonce,
            Error::InvalidRequest(_) => ErrorCode::InvalidRequest,
            Error::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            Error::UnknownCredentialConfiguration(_) => ErrorCode::UnknownCredentialConfiguration,
            Error::InvalidNotificationId(_) => ErrorCode::InvalidNotificationId,
            Error::InvalidNotificationRequest(_) => ErrorCode::InvalidNotificationRequest,
            Error::InsecureUrl { .. } => ErrorCode::InsecureUrl,
            Error::Http(_) => ErrorCode::HttpFailed,
            Error::JweAlgNotAllowed { .. } => ErrorCode::AlgNotAllowed,
            Error::JweDecryptionFailed => ErrorCode::JweDecryptionFailed,
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn claim(claim: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidClaim {
            claim: claim.into(),
            reason: reason.into(),
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
