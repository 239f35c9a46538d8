//! Credential issuer metadata (`/.well-known/openid-credential-issuer`, with GOV.UK's
//! custom members) and OAuth authorization server metadata (RFC 8414).
//!
//! ```
//! use govcred::oid4vci::metadata::CredentialIssuerMetadata;
//! let json = br#"{"credential_issuer": "https://issuer.gov.uk",
//!   "authorization_servers": ["https://token.account.gov.uk"],
//!   "credential_endpoint": "https://issuer.gov.uk/credential",
//!   "mdoc_iacas_uri": "https://issuer.gov.uk/iacas",
//!   "credential_configurations_supported": {"FishingLicence": {"format": "mso_mdoc",
//!     "doctype": "uk.gov.fishing.1", "credential_validity_period_max_days": 90}}}"#;
//! let m = CredentialIssuerMetadata::from_json(json, "https://issuer.gov.uk").unwrap();
//! assert_eq!(m.configuration("FishingLicence").unwrap().credential_validity_period_max_days, Some(90));
//! assert!(CredentialIssuerMetadata::from_json(json, "https://other.gov.uk").is_err());
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::check_url;
use crate::error::{Error, Result};

/// Largest metadata document accepted.
pub const MAX_METADATA_LEN: usize = 256 * 1024;

/// One entry of `credential_configurations_supported`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// `jwt_vc_json`, `dc+sd-jwt`, `mso_mdoc`, …
    pub format: String,
    /// mdoc doctype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype: Option<String>,
    /// SD-JWT VC type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// JWT VC `credential_definition` (`type`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_definition: Option<Value>,
    /// `did:key` (JWT VC), `cose_key` (mdoc), `jwk` (SD-JWT VC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptographic_binding_methods_supported: Vec<String>,
    /// `["ES256"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_signing_alg_values_supported: Vec<String>,
    /// `{"jwt": {"proof_signing_alg_values_supported": ["ES256"]}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_types_supported: Option<Value>,
    /// GOV.UK (required): the browser refresh journey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_refresh_web_journey_url: Option<String>,
    /// GOV.UK (required): the longest life of an issued credential, days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_validity_period_max_days: Option<u32>,
    /// Display (the reference issuer puts it in `credential_metadata`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<Value>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Credential issuer metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialIssuerMetadata {
    /// The issuer's URL.
    pub credential_issuer: String,
    /// Authorisation servers (GOV.UK: the One Login STS); absent = the issuer itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// The credential endpoint.
    pub credential_endpoint: String,
    /// The notification endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_endpoint: Option<String>,
    /// The nonce endpoint (OpenID4VCI 1.0; GOV.UK puts `c_nonce` in the access token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// GOV.UK: where the IACA list is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdoc_iacas_uri: Option<String>,
    /// The configurations, by id.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
    /// Issuer display (`en`/`cy` names, logo).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Value>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CredentialIssuerMetadata {
    /// Parse and check metadata fetched for `expected_issuer` (the offer's
    /// `credential_issuer`, which must match exactly, as must every endpoint's scheme).
    pub fn from_json(bytes: &[u8], expected_issuer: &str) -> Result<Self> {
        if bytes.len() > MAX_METADATA_LEN {
            return Err(Error::TooLarge {
                what: "credential issuer metadata",
                size: bytes.len(),
                limit: MAX_METADATA_LEN,
            });
        }
        let m: Self = serde_json::from_slice(bytes)
            .map_err(super::json_error("credential issuer metadata"))?;
        if super::base(&m.credential_issuer) != super::base(expected_issuer) {
            return Err(Error::malformed(
                "credential issuer metadata",
                format!(
                    "credential_issuer is {:?}, but the offer names {expected_issuer:?}",
                    m.credential_issuer
                ),
            ));
        }
        check_url(&m.credential_endpoint, "credential_endpoint")?;
        for u in m
            .authorization_servers
            .iter()
            .chain(&m.notification_endpoint)
            .chain(&m.mdoc_iacas_uri)
            .chain(&m.nonce_endpoint)
        {
            check_url(u, "metadata endpoint")?;
        }
        Ok(m)
    }

    /// The configuration `id`.
    pub fn configuration(&self, id: &str) -> Result<&CredentialConfiguration> {
        self.credential_configurations_supported
            .get(id)
            .ok_or_else(|| Error::UnknownCredentialConfiguration(id.into()))
    }

    /// The metadata URL of an issuer: `https://host/path` →
    /// `https://host/.well-known/openid-credential-issuer/path`.
    pub fn well_known_url(credential_issuer: &str) -> String {
        well_known(credential_issuer, "openid-credential-issuer")
    }
}

pub(crate) fn well_known(url: &str, name: &str) -> String {
    let origin = super::origin(url);
    let path = super::base(&url[origin.len()..]);
    format!("{origin}/.well-known/{name}{path}")
}

/// OAuth 2.0 authorization server metadata (only what the pre-authorised flow needs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The AS identifier.
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The AS's keys (they sign the access tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Grant types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types_supported: Vec<String>,
    /// Whether the pre-authorised code can be redeemed without client authentication.
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AuthorizationServerMetadata {
    /// Parse and check AS metadata.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_METADATA_LEN {
            return Err(Error::TooLarge {
                what: "authorization server metadata",
                size: bytes.len(),
                limit: MAX_METADATA_LEN,
            });
        }
        let m: Self = serde_json::from_slice(bytes)
            .map_err(super::json_error("authorization server metadata"))?;
        check_url(&m.token_endpoint, "token_endpoint")?;
        Ok(m)
    }

    /// `https://as/.well-known/oauth-authorization-server[/path]`.
    pub fn well_known_url(issuer: &str) -> String {
        well_known(issuer, "oauth-authorization-server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls() {
        assert_eq!(
            CredentialIssuerMetadata::well_known_url("https://a.gov.uk/"),
            "https://a.gov.uk/.well-known/openid-credential-issuer"
        );
        assert_eq!(
            AuthorizationServerMetadata::well_known_url("http://127.0.0.1:9/t"),
            "http://127.0.0.1:9/.well-known/oauth-authorization-server/t"
        );
    }
}
