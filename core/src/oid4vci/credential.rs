//! Credential and notification messages and error bodies (GOV.UK §5.6–5.7).
//!
//! ```
//! use govcred::oid4vci::credential::{ErrorBody, NotificationEvent, NotificationRequest};
//! let n = NotificationRequest::from_json(br#"{"notification_id": "776aefd4-26c6-4a5f-aa7c-b5e294cd87cd",
//!     "event": "credential_accepted", "extra": true}"#).unwrap();
//! assert_eq!(n.event, NotificationEvent::CredentialAccepted);
//! let e: ErrorBody = serde_json::from_str(r#"{"error": "invalid_nonce", "c_nonce": "n2"}"#).unwrap();
//! assert_eq!(e.to_error(400).code(), govcred::ErrorCode::InvalidNonce);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Largest credential request / notification body accepted by the issuer.
pub const MAX_REQUEST_LEN: usize = 64 * 1024;
/// Largest credential response accepted by the wallet.
pub const MAX_CREDENTIAL_RESPONSE_LEN: usize = 8 * 1024 * 1024;

/// A key proof in a credential request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// `jwt`.
    pub proof_type: String,
    /// The proof JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<String>,
}

/// A credential request (GOV.UK: only `proof`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialRequest {
    /// The key proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
    /// OpenID4VCI 1.0 `credential_configuration_id` (optional here: the access token names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_configuration_id: Option<String>,
    /// Other members (ignored).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CredentialRequest {
    /// A request carrying one JWT proof.
    pub fn with_jwt_proof(jwt: String) -> Self {
        CredentialRequest {
            proof: Some(Proof {
                proof_type: "jwt".into(),
                jwt: Some(jwt),
            }),
            credential_configuration_id: None,
            extra: Map::new(),
        }
    }

    /// Parse a request body; problems are `invalid_request`.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        if body.len() > MAX_REQUEST_LEN {
            return Err(Error::InvalidRequest("credential request too large".into()));
        }
        serde_json::from_slice(body)
            .map_err(|e| Error::InvalidRequest(format!("credential request: {e}")))
    }

    /// The JWT proof; a missing or non-`jwt` proof is `invalid_proof`.
    pub fn jwt_proof(&self) -> Result<&str> {
        match &self.proof {
            Some(Proof {
                proof_type,
                jwt: Some(j),
            }) if proof_type == "jwt" => Ok(j),
            Some(_) => Err(Error::InvalidProof(
                "proof_type must be \"jwt\" with a jwt member".into(),
            )),
            None => Err(Error::InvalidProof(
                "no proof in the credential request".into(),
            )),
        }
    }
}

/// One issued credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The compact JWT VC, SD-JWT VC, or base64url `IssuerSigned`.
    pub credential: String,
}

/// A credential response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// Exactly one credential (GOV.UK).
    pub credentials: Vec<IssuedCredential>,
    /// For the notification endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
}

/// Notification events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationEvent {
    /// Stored.
    CredentialAccepted,
    /// Rejected (failed a check).
    CredentialFailure,
    /// The user declined it.
    CredentialDeleted,
}

impl NotificationEvent {
    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::CredentialAccepted => "credential_accepted",
            NotificationEvent::CredentialFailure => "credential_failure",
            NotificationEvent::CredentialDeleted => "credential_deleted",
        }
    }
}

/// Longest `event_description` accepted (the reference issuer's limit).
pub const MAX_EVENT_DESCRIPTION: usize = 1000;

/// A notification request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRequest {
    /// From the credential response.
    pub notification_id: String,
    /// What happened.
    pub event: NotificationEvent,
    /// Free text (≤ 1000 ASCII characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_description: Option<String>,
}

impl NotificationRequest {
    /// Parse a body; unknown members are ignored, problems are `invalid_notification_request`.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        if body.len() > MAX_REQUEST_LEN {
            return Err(Error::InvalidNotificationRequest("too large".into()));
        }
        let r: NotificationRequest = serde_json::from_slice(body)
            .map_err(|e| Error::InvalidNotificationRequest(e.to_string()))?;
        if let Some(d) = &r.event_description {
            if d.len() > MAX_EVENT_DESCRIPTION || !d.is_ascii() {
                return Err(Error::InvalidNotificationRequest(
                    "event_description must be at most 1000 ASCII characters".into(),
                ));
            }
        }
        Ok(r)
    }
}

/// An OAuth / OpenID4VCI error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The code (`invalid_proof`, …).
    pub error: String,
    /// For people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A fresh nonce (with `invalid_nonce`, as draft 14 has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_nonce: Option<String>,
    /// Its lifetime, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub c_nonce_expires_in: Option<i64>,
}

impl ErrorBody {
    /// The [`Error`] a wallet reports for this body.
    pub fn to_error(&self, status: u16) -> Error {
        let d = self
            .error_description
            .clone()
            .unwrap_or_else(|| format!("the issuer answered {status}"));
        match self.error.as_str() {
            "invalid_grant" => Error::InvalidGrant(d),
            "invalid_token" => Error::InvalidToken(d),
            "invalid_proof" => Error::InvalidProof(d),
            "invalid_nonce" => Error::InvalidNonce {
                reason: d,
                fresh_nonce: self.c_nonce.clone(),
            },
            "invalid_request" | "invalid_credential_request" => Error::InvalidRequest(d),
            "unsupported_grant_type" => Error::UnsupportedGrantType(d),
            "unknown_credential_configuration" | "unsupported_credential_type" => {
                Error::UnknownCredentialConfiguration(d)
            }
            "invalid_notification_id" => Error::InvalidNotificationId(d),
            "invalid_notification_request" => Error::InvalidNotificationRequest(d),
            other => Error::Http(format!("issuer error {other:?} ({status}): {d}")),
        }
    }
}
