//! Credential offers (OpenID4VCI §4.1) and the links that carry them.
//!
//! GOV.UK sends offers by value in a universal link
//! `https://mobile.account.gov.uk/wallet/add?credential_offer=<percent-encoded JSON>`,
//! with one configuration id and only the pre-authorised code grant. Parsing is
//! tolerant (base64url instead of percent-encoding, the standard
//! `openid-credential-offer://` scheme, `credential_offer_uri` by reference) but
//! refuses non-https issuers (except loopback) and oversized input.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::check_url;
use crate::error::{Error, Result};

/// The pre-authorised code grant type.
pub const PRE_AUTHORIZED_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// GOV.UK Wallet's offer entry point (production).
pub const GOVUK_WALLET_ENTRY: &str = "https://mobile.account.gov.uk/wallet/add";
/// The standard custom scheme of wallets.
pub const STANDARD_ENTRY: &str = "openid-credential-offer://";
/// Largest offer link or offer JSON accepted (a GOV.UK offer is about 1 KiB).
pub const MAX_OFFER_LEN: usize = 16 * 1024;

/// Unreserved characters (RFC 3986) stay; everything else is percent-encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode a URL component / form value.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// Decode a form or query value (`+` is a space).
pub fn form_decode(s: &str, what: &'static str) -> Result<String> {
    percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| Error::malformed(what, "percent-encoding is not UTF-8"))
}

/// Parse `application/x-www-form-urlencoded` (or a query string) into pairs.
pub fn parse_form(body: &str, what: &'static str) -> Result<Vec<(String, String)>> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((form_decode(k, what)?, form_decode(v, what)?))
        })
        .collect()
}

/// The pre-authorised code grant of an offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// The code (GOV.UK: an issuer-signed JWT).
    #[serde(rename = "pre-authorized_code")]
    pub code: String,
    /// Transaction code requirements (not used by GOV.UK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<Value>,
    /// Other members.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `grants` of an offer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Grants {
    /// The pre-authorised code grant.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
    /// Other grants (e.g. `authorization_code`), not used here.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A credential offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The configuration ids offered (GOV.UK: exactly one).
    pub credential_configuration_ids: Vec<String>,
    /// The grants.
    #[serde(default)]
    pub grants: Grants,
    /// The credential issuer's URL.
    pub credential_issuer: String,
}

impl CredentialOffer {
    /// A GOV.UK offer: one configuration, a pre-authorised code.
    pub fn pre_authorized(credential_issuer: &str, configuration_id: &str, code: &str) -> Self {
        CredentialOffer {
            credential_configuration_ids: vec![configuration_id.into()],
            grants: Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    code: code.into(),
                    tx_code: None,
                    extra: Map::new(),
                }),
                other: Map::new(),
            },
            credential_issuer: credential_issuer.into(),
        }
    }

    /// Parse and check offer JSON (also the legacy `credentials` array of ids).
    pub fn from_json(text: &str) -> Result<Self> {
        if text.len() > MAX_OFFER_LEN {
            return Err(Error::TooLarge {
                what: "credential offer",
                size: text.len(),
                limit: MAX_OFFER_LEN,
            });
        }
        let mut v: Map<String, Value> =
            serde_json::from_str(text).map_err(super::json_error("credential offer"))?;
        if !v.contains_key("credential_configuration_ids") {
            if let Some(legacy) = v.remove("credentials") {
                v.insert("credential_configuration_ids".into(), legacy);
            }
        }
        let offer: CredentialOffer = serde_json::from_value(Value::Object(v))
            .map_err(super::json_error("credential offer"))?;
        offer.check()?;
        Ok(offer)
    }

    fn check(&self) -> Result<()> {
        check_url(&self.credential_issuer, "credential_issuer")?;
        if self.credential_configuration_ids.is_empty()
            || self
                .credential_configuration_ids
                .iter()
                .any(String::is_empty)
        {
            return Err(Error::malformed(
                "credential offer",
                "credential_configuration_ids must be a non-empty array of ids",
            ));
        }
        match &self.grants.pre_authorized_code {
            Some(g) if !g.code.is_empty() => Ok(()),
            _ => Err(Error::malformed(
                "credential offer",
                "no pre-authorised code grant: only the pre-authorised code flow is supported",
            )),
        }
    }

    /// The pre-authorised code.
    pub fn code(&self) -> Option<&str> {
        self.grants
            .pre_authorized_code
            .as_ref()
            .map(|g| g.code.as_str())
    }

    /// Compact JSON of the offer.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A link to `entry` (e.g. [`GOVUK_WALLET_ENTRY`], [`STANDARD_ENTRY`]) carrying the
    /// offer by value, percent-encoded.
    pub fn to_link(&self, entry: &str) -> Result<String> {
        self.check()?;
        let sep = if entry.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{entry}{sep}credential_offer={}",
            percent_encode(&self.to_json())
        ))
    }
}

/// What an offer link carries.
#[derive(Clone, Debug, PartialEq)]
pub enum OfferLink {
    /// The offer itself.
    ByValue(CredentialOffer),
    /// `credential_offer_uri`: fetch the offer JSON from this https URL.
    ByReference(String),
}

impl OfferLink {
    /// Parse a deep link (`https://…/wallet/add?credential_offer=…`,
    /// `openid-credential-offer://?credential_offer_uri=…`), or bare offer JSON.
    pub fn parse(link: &str) -> Result<Self> {
        let link = link.trim();
        if link.len() > MAX_OFFER_LEN {
            return Err(Error::TooLarge {
                what: "credential offer link",
                size: link.len(),
                limit: MAX_OFFER_LEN,
            });
        }
        if link.starts_with('{') {
            return CredentialOffer::from_json(link).map(OfferLink::ByValue);
        }
        let query = link
            .split_once('?')
            .map(|(_, q)| q.split('#').next().unwrap_or_default())
            .ok_or_else(|| {
                Error::malformed(
                    "credential offer link",
                    "no query: expected ?credential_offer=… or ?credential_offer_uri=…",
                )
            })?;
        for (k, v) in parse_form(query, "credential offer link")? {
            match k.as_str() {
                "credential_offer" => {
                    let json = if v.trim_start().starts_with('{') {
                        v
                    } else {
                        // Tolerated: base64url (the GOV.UK docs' prose), padded or not.
                        let bytes =
                            crate::b64::decode(v.trim_end_matches('='), "credential_offer")?;
                        String::from_utf8(bytes).map_err(|_| {
                            Error::malformed("credential offer", "base64url content is not UTF-8")
                        })?
                    };
                    return CredentialOffer::from_json(&json).map(OfferLink::ByValue);
                }
                "credential_offer_uri" => {
                    check_url(&v, "credential_offer_uri")?;
                    return Ok(OfferLink::ByReference(v));
                }
                _ => {}
            }
        }
        Err(Error::malformed(
            "credential offer link",
            "no credential_offer or credential_offer_uri parameter",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn round_trip_and_tolerance() {
        let offer = CredentialOffer::pre_authorized("https://i.gov.uk", "X", "a.b.c");
        let link = offer.to_link(STANDARD_ENTRY).unwrap();
        assert_eq!(
            OfferLink::parse(&link).unwrap(),
            OfferLink::ByValue(offer.clone())
        );
        let b64 = format!(
            "{GOVUK_WALLET_ENTRY}?credential_offer={}",
            crate::b64::encode(offer.to_json())
        );
        assert_eq!(
            OfferLink::parse(&b64).unwrap(),
            OfferLink::ByValue(offer.clone())
        );
        let by_ref =
            "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fi.gov.uk%2Fo%2F1";
        assert_eq!(
            OfferLink::parse(by_ref).unwrap(),
            OfferLink::ByReference("https://i.gov.uk/o/1".into())
        );
    }

    #[test]
    fn refusals() {
        let http = CredentialOffer::pre_authorized("http://evil.example", "X", "c");
        assert_eq!(
            OfferLink::parse(&http.to_json()).unwrap_err().code(),
            ErrorCode::InsecureUrl
        );
        let big = format!(
            "{STANDARD_ENTRY}?credential_offer={}",
            "a".repeat(MAX_OFFER_LEN)
        );
        assert_eq!(
            OfferLink::parse(&big).unwrap_err().code(),
            ErrorCode::InputTooLarge
        );
        for bad in [
            "https://x/wallet/add",
            "https://x/wallet/add?foo=1",
            "https://x/wallet/add?credential_offer=%7B",
            "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fevil",
            r#"{"credential_issuer":"https://i","credential_configuration_ids":[],"grants":{}}"#,
        ] {
            assert!(OfferLink::parse(bad).is_err(), "{bad}");
        }
    }
}
