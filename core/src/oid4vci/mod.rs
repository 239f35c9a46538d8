//! OpenID for Verifiable Credential Issuance (pre-authorised code flow) in the GOV.UK
//! Wallet profile, sans I/O.
//!
//! - [`offer`]: credential offers and the `…/wallet/add?credential_offer=…` deep link;
//! - [`metadata`]: credential issuer and authorization server metadata (with GOV.UK's
//!   `mdoc_iacas_uri`, `credential_refresh_web_journey_url`, `credential_validity_period_max_days`);
//! - [`token`]: the pre-authorised code as an issuer-signed JWT, the token request and
//!   response, and the `at+jwt` access token carrying `c_nonce`;
//! - [`proof`]: the `openid4vci-proof+jwt` key proof (did:key `kid`, `iat` in seconds or
//!   milliseconds);
//! - [`credential`]: credential and notification requests/responses and error bodies;
//! - [`issuer`]: the issuer engine (HTTP request in, HTTP response out) over an
//!   [`issuer::IssuerState`] persistence trait;
//! - [`client`]: the wallet side, over [`crate::platform::HttpClient`].
//!
//! ```
//! use govcred::oid4vci::offer::{CredentialOffer, OfferLink, GOVUK_WALLET_ENTRY};
//! let offer = CredentialOffer::pre_authorized("https://issuer.example.gov.uk", "VeteranCard", "eyJ…code");
//! let link = offer.to_link(GOVUK_WALLET_ENTRY).unwrap();
//! assert!(link.starts_with("https://mobile.account.gov.uk/wallet/add?credential_offer=%7B"));
//! let OfferLink::ByValue(back) = OfferLink::parse(&link).unwrap() else { unreachable!() };
//! assert_eq!(back, offer);
//! ```

pub mod client;
pub mod credential;
pub mod issuer;
pub mod metadata;
pub mod offer;
pub mod proof;
pub mod token;

use crate::error::{Error, Result};

/// `format` of a JWT VC configuration (W3C VCDM 2.0, JOSE).
pub const FORMAT_JWT_VC: &str = "jwt_vc_json";
/// `format` of an SD-JWT VC configuration (OpenID4VCI 1.0; draft 14 said `vc+sd-jwt`).
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// `format` of an ISO 18013-5 mdoc configuration.
pub const FORMAT_MDOC: &str = "mso_mdoc";
/// The GOV.UK One Login STS, the authorisation server of GOV.UK Wallet issuance.
pub const GOVUK_STS: &str = "https://token.account.gov.uk";

/// A random UUID v4 (opaque identifiers: offers, notifications, nonces, token ids).
pub fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Check that `url` may be contacted: `https://`, or `http://` to a loopback host
/// (`127.0.0.1`, `localhost`, `[::1]`) for tests and local development.
pub fn check_url(url: &str, what: &'static str) -> Result<()> {
    let bad = |reason: &str| Error::InsecureUrl {
        what,
        url: url.chars().take(200).collect(),
        reason: reason.into(),
    };
    if url.len() > 2048 {
        return Err(bad("longer than 2048 characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or control characters"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("not an absolute URL"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("no host, or user information in the URL"));
    }
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback(authority) => Ok(()),
        "http" => Err(bad(
            "must use https (plain http is only allowed to 127.0.0.1, localhost or [::1])",
        )),
        _ => Err(bad("must be an https URL")),
    }
}

fn is_loopback(authority: &str) -> bool {
    let host = if let Some(v6) = authority.strip_prefix('[') {
        return v6.starts_with("::1]") && (v6.len() == 4 || v6[4..].starts_with(':'));
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost")
}

/// `url` without a trailing `/`, for joining paths.
pub(crate) fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// The origin (`scheme://authority`) of an absolute URL.
pub(crate) fn origin(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            &url[..scheme.len() + 3 + end]
        }
        None => url,
    }
}

/// The identifier put in `iss` of the credentials an issuer at `credential_issuer`
/// signs: the URL itself when it is https (GOV.UK: `iss` = `https://host`, key in
/// `did:web:host`), else — loopback http in tests — the did:web of its host, which a
/// verifier can bind to the did.json served there.
pub fn credential_iss(credential_issuer: &str) -> Result<String> {
    if credential_issuer.starts_with("https://") {
        return Ok(base(credential_issuer).to_string());
    }
    let rest = credential_issuer
        .strip_prefix("http://")
        .unwrap_or(credential_issuer);
    crate::did::web::from_domain(base(rest))
}

/// The did:web of an issuer URL (`https://host[:port][/path]`, or loopback http).
pub fn issuer_did(credential_issuer: &str) -> Result<String> {
    let rest = credential_issuer
        .strip_prefix("https://")
        .or_else(|| credential_issuer.strip_prefix("http://"))
        .unwrap_or(credential_issuer);
    crate::did::web::from_domain(base(rest))
}

pub(crate) fn json_error(what: &'static str) -> impl Fn(serde_json::Error) -> Error {
    move |e| Error::malformed(what, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        for ok in [
            "https://issuer.gov.uk",
            "http://127.0.0.1:8080/x",
            "http://localhost",
            "http://[::1]:9000",
        ] {
            check_url(ok, "url").unwrap();
        }
        for bad in [
            "http://issuer.gov.uk",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com/",
            "ftp://x",
            "https://user@host",
            "issuer.gov.uk",
            "http://[::1].evil",
        ] {
            assert_eq!(
                check_url(bad, "url").unwrap_err().code(),
                crate::ErrorCode::InsecureUrl,
                "{bad}"
            );
        }
        assert_eq!(origin("http://127.0.0.1:80/a/b"), "http://127.0.0.1:80");
        assert_eq!(
            credential_iss("http://127.0.0.1:8080").unwrap(),
            "did:web:127.0.0.1%3A8080"
        );
        assert_eq!(
            credential_iss("https://x.gov.uk/").unwrap(),
            "https://x.gov.uk"
        );
        let u = random_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
