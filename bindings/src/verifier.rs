//! Offline verification: reports, the `Verifier` object.

use std::sync::Arc;

use crate::error::{ErrorCode, FfiResult, GovcredError};

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

/// A credential's entry in a status list, as checked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CredentialStatus {
    /// `valid`, `invalid` (revoked), `suspended`, `application_specific` or `unknown`
    /// (no list was available: never reported as revoked).
    pub state: String,
    /// The status list the credential points to (fetch it and pass it to
    /// `Verifier.fromTrust` to check it offline).
    pub list_uri: String,
    /// The credential's index in it.
    pub index: u64,
}

/// The trust bundle a report was checked against.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TrustBundleUsed {
    /// When the bundle was made (RFC 3339).
    pub issued_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// Its age at the check, in seconds.
    pub age_secs: i64,
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
    /// The credential's status entry and what its list says, when it has one.
    pub status: Option<CredentialStatus>,
    /// The trust bundle the check was made against (issued and expiry times, age).
    pub trust_bundle: Option<TrustBundleUsed>,
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
            status: r.status.map(|s| CredentialStatus {
                state: s.state,
                list_uri: s.list_uri,
                index: s.index as u64,
            }),
            trust_bundle: r.trust_bundle.map(|b| TrustBundleUsed {
                issued_at: b.issued_at,
                expires_at: b.expires_at,
                age_secs: b.age_secs,
            }),
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

/// Verifies credentials offline against trust material loaded once: issuer DID
/// documents and keys, IACA certificates for mdocs, status lists — given directly or
/// as a signed trust bundle.
///
/// ```kotlin
/// val verifier = Verifier.fromTrustBundle(bundleJws, listOf(pinnedSignerJwk))
/// val report = verifier.verify(credential)
/// if (report.valid) show(report.claimsJson)
/// ```
#[derive(uniffi::Object)]
pub struct Verifier {
    pub(crate) inner: govcred::Verifier,
}

fn json_value(text: &str, what: &str) -> FfiResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        GovcredError::new(
            ErrorCode::MalformedInput,
            format!("{what} is not JSON: {e}"),
        )
    })
}

fn now() -> i64 {
    use govcred::Clock;
    govcred::SystemClock.now()
}

#[uniffi::export]
impl Verifier {
    /// A verifier trusting the given DID documents (e.g. did:web `did.json`) and JWKs,
    /// each as JSON text.
    #[uniffi::constructor]
    pub fn new(did_documents: Vec<String>, jwks: Vec<String>) -> FfiResult<Arc<Self>> {
        Self::from_trust(did_documents, jwks, vec![], vec![])
    }

    /// A verifier trusting DID documents and JWKs (JSON text), IACA root certificates
    /// (PEM text, for mdocs) and holding status lists (compact JWT or CWT as text) to
    /// check revocation offline.
    #[uniffi::constructor]
    pub fn from_trust(
        did_documents: Vec<String>,
        jwks: Vec<String>,
        iaca_certificates_pem: Vec<String>,
        status_lists: Vec<String>,
    ) -> FfiResult<Arc<Self>> {
        let mut trust = govcred::trust::TrustStore::new();
        for d in did_documents {
            trust.add_did_document(&json_value(&d, "DID document")?)?;
        }
        for j in jwks {
            trust.add_jwk(&govcred::crypto::Jwk::from_json(&j)?)?;
        }
        for pem in iaca_certificates_pem {
            trust.add_root_certificates_pem(&pem)?;
        }
        for list in status_lists {
            trust.add_status_list(list.trim(), govcred::verifier::DEFAULT_LEEWAY_SECS)?;
        }
        Ok(Arc::new(Verifier {
            inner: govcred::Verifier::new(trust),
        }))
    }

    /// A verifier trusting what a signed trust bundle carries (`govcred trust build`),
    /// after checking its signature against one of the pinned bundle-signing keys
    /// (public JWKs, JSON text) and its expiry. Reports then name the bundle and its age.
    #[uniffi::constructor]
    pub fn from_trust_bundle(
        bundle_jws: String,
        pinned_signer_jwks: Vec<String>,
    ) -> FfiResult<Arc<Self>> {
        let pinned = pinned_signer_jwks
            .iter()
            .map(|j| govcred::crypto::VerifyingKey::from_jwk(&govcred::crypto::Jwk::from_json(j)?))
            .collect::<govcred::Result<Vec<_>>>()?;
        let loaded = govcred::trust_bundle::TrustBundle::load(
            &bundle_jws,
            &pinned,
            now(),
            govcred::verifier::DEFAULT_LEEWAY_SECS,
        )?;
        Ok(Arc::new(Verifier {
            inner: govcred::Verifier::from_bundle(loaded),
        }))
    }

    /// Verify a credential given as text (compact JWT VC, SD-JWT VC, base64url mdoc,
    /// Data Integrity JSON) now. The format is detected.
    pub fn verify(&self, credential: String) -> VerificationReport {
        self.inner.verify(credential.as_bytes()).into()
    }

    /// Verify a credential given as bytes (an mdoc `IssuerSigned`, `Document` or
    /// `DeviceResponse` in CBOR, or any text format as UTF-8) now.
    pub fn verify_bytes(&self, credential: Vec<u8>) -> VerificationReport {
        self.inner.verify(&credential).into()
    }

    /// Verify a credential as of `unix_seconds`.
    pub fn verify_at(&self, credential: String, unix_seconds: i64) -> VerificationReport {
        self.inner
            .clone()
            .with_clock(Arc::new(govcred::FixedClock::new(unix_seconds)))
            .verify(credential.as_bytes())
            .into()
    }

    /// Verify an SD-JWT VC presentation made for this verifier: a Key Binding JWT
    /// signed by the credential's holder key with this `audience` and `nonce` is
    /// required. The report's claims are the disclosed ones only.
    pub fn verify_presentation(
        &self,
        presentation: String,
        audience: String,
        nonce: String,
    ) -> VerificationReport {
        self.inner
            .clone()
            .with_key_binding(audience, nonce)
            .verify(presentation.as_bytes())
            .into()
    }
}
