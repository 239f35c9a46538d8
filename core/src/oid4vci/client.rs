//! The wallet side of the pre-authorised code flow, over [`HttpClient`].
//!
//! [`WalletClient::receive`]: offer (by value or reference) → issuer metadata →
//! authorisation server metadata (fallback `{as}/token`) → token → proof signed by the
//! holder key → credential (retrying once with a fresh nonce on `invalid_nonce`) →
//! verification against the issuer's published keys (`did.json`, `jwks.json`, the IACAs
//! at `mdoc_iacas_uri`, and the status list the credential points to) with
//! [`Verifier`]. [`WalletClient::notify`] then sends the notification. Every response
//! is size-limited.
//!
//! ```no_run
//! use std::sync::Arc;
//! use govcred::crypto::{Alg, SoftwareKey};
//! use govcred::oid4vci::client::WalletClient;
//! use govcred::oid4vci::credential::NotificationEvent;
//! # fn http() -> Arc<dyn govcred::platform::HttpClient> { unimplemented!() }
//! let holder = SoftwareKey::generate(Alg::ES256).unwrap();
//! let client = WalletClient::new(http());
//! let received = client.receive("https://mobile.account.gov.uk/wallet/add?credential_offer=…", &holder).unwrap();
//! assert!(received.report.valid);
//! client.notify(&received, NotificationEvent::CredentialAccepted, None).unwrap();
//! ```

use std::sync::Arc;

use serde_json::Value;

use super::credential::{
    CredentialRequest, CredentialResponse, ErrorBody, NotificationEvent, NotificationRequest,
    MAX_CREDENTIAL_RESPONSE_LEN,
};
use super::metadata::{AuthorizationServerMetadata, CredentialIssuerMetadata, MAX_METADATA_LEN};
use super::offer::{CredentialOffer, OfferLink, MAX_OFFER_LEN};
use super::token::{self, TokenRequest, TokenResponse};
use super::{base, check_url, proof, FORMAT_MDOC};
use crate::crypto::SecretString;
use crate::error::{Error, Result};
use crate::platform::{Clock, HttpClient, HttpRequest, HttpResponse, Signer, SystemClock};
use crate::report::VerificationReport;
use crate::trust::TrustStore;
use crate::verifier::Verifier;

/// Largest token response accepted.
pub const MAX_TOKEN_RESPONSE_LEN: usize = 64 * 1024;
/// Largest status list accepted.
pub const MAX_STATUS_LIST_LEN: usize = 4 * 1024 * 1024;

/// A received credential.
#[derive(Debug)]
pub struct Received {
    /// The credential as sent (compact JWT VC, SD-JWT VC, base64url `IssuerSigned`).
    pub credential: String,
    /// The configuration id.
    pub configuration_id: String,
    /// Its `format`.
    pub format: String,
    /// The issuer URL.
    pub issuer: String,
    /// Verification against the issuer's published keys.
    pub report: VerificationReport,
    /// For [`WalletClient::notify`].
    pub notification_id: Option<String>,
    /// The issuer's notification endpoint.
    pub notification_endpoint: Option<String>,
    /// The access token (needed for the notification).
    pub access_token: SecretString,
}

/// The wallet client.
pub struct WalletClient {
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
}

impl WalletClient {
    /// A client over `http` with the system clock.
    pub fn new(http: Arc<dyn HttpClient>) -> Self {
        WalletClient {
            http,
            clock: Arc::new(SystemClock),
        }
    }

    /// Use `clock` (proof `iat`, verification time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn send(&self, req: HttpRequest, what: &'static str) -> Result<HttpResponse> {
        check_url(&req.url, what)?;
        let limit = req.max_response_bytes;
        let r = self.http.send(&req)?;
        if r.body.len() > limit {
            return Err(Error::TooLarge {
                what,
                size: r.body.len(),
                limit,
            });
        }
        Ok(r)
    }

    fn get_ok(&self, url: &str, limit: usize, what: &'static str) -> Result<Vec<u8>> {
        let r = self.send(HttpRequest::get(url, limit), what)?;
        if r.status != 200 {
            return Err(Error::Http(format!(
                "GET {url} ({what}) answered {}",
                r.status
            )));
        }
        Ok(r.body)
    }

    /// The offer a link carries, fetching it when given by reference.
    pub fn resolve_offer(&self, link: &str) -> Result<CredentialOffer> {
        match OfferLink::parse(link)? {
            OfferLink::ByValue(o) => Ok(o),
            OfferLink::ByReference(uri) => {
                let body = self.get_ok(&uri, MAX_OFFER_LEN, "credential_offer_uri")?;
                let text = String::from_utf8(body)
                    .map_err(|_| Error::malformed("credential offer", "not UTF-8"))?;
                CredentialOffer::from_json(&text)
            }
        }
    }

    /// The issuer's metadata.
    pub fn issuer_metadata(&self, credential_issuer: &str) -> Result<CredentialIssuerMetadata> {
        let url = CredentialIssuerMetadata::well_known_url(credential_issuer);
        let body = self.get_ok(&url, MAX_METADATA_LEN, "credential issuer metadata")?;
        CredentialIssuerMetadata::from_json(&body, credential_issuer)
    }

    /// The token endpoint of authorisation server `as_url`: from its metadata, else
    /// `{as}/token`.
    pub fn token_endpoint(&self, as_url: &str) -> Result<String> {
        let url = AuthorizationServerMetadata::well_known_url(as_url);
        match self.send(
            HttpRequest::get(&url, MAX_METADATA_LEN),
            "authorization server metadata",
        ) {
            Ok(r) if r.status == 200 => {
                Ok(AuthorizationServerMetadata::from_json(&r.body)?.token_endpoint)
            }
            Ok(_) => Ok(format!("{}/token", base(as_url))),
            Err(e) if e.code() == crate::ErrorCode::HttpFailed => {
                Ok(format!("{}/token", base(as_url)))
            }
            Err(e) => Err(e),
        }
    }

    /// Run the whole flow for `link` with the holder key `holder` (P-256 for GOV.UK).
    pub fn receive(&self, link: &str, holder: &dyn Signer) -> Result<Received> {
        let offer = self.resolve_offer(link)?;
        let issuer = offer.credential_issuer.clone();
        let configuration_id = offer.credential_configuration_ids[0].clone();
        let metadata = self.issuer_metadata(&issuer)?;
        let format = metadata.configuration(&configuration_id)?.format.clone();
        let as_url = metadata
            .authorization_servers
            .first()
            .cloned()
            .unwrap_or_else(|| issuer.clone());
        let token_endpoint = self.token_endpoint(&as_url)?;
        let code = offer
            .code()
            .ok_or_else(|| Error::malformed("credential offer", "no pre-authorised code"))?;
        let token_req = TokenRequest {
            pre_authorized_code: code.into(),
            tx_code: None,
        };
        let r = self.send(
            HttpRequest::post(
                &token_endpoint,
                "application/x-www-form-urlencoded",
                token_req.to_form().into_bytes(),
                MAX_TOKEN_RESPONSE_LEN,
            ),
            "token endpoint",
        )?;
        if r.status != 200 {
            return Err(error_of(&r));
        }
        let tokens: TokenResponse =
            serde_json::from_slice(&r.body).map_err(super::json_error("token response"))?;
        let access_token = SecretString::new(tokens.access_token.clone());
        let mut nonce = tokens
            .c_nonce
            .clone()
            .or_else(|| token::peek_c_nonce(&tokens.access_token));

        let mut retried = false;
        let response = loop {
            let jwt = proof::build_proof(holder, &issuer, nonce.as_deref(), self.clock.now())?;
            let body = serde_json::to_vec(&CredentialRequest::with_jwt_proof(jwt))
                .map_err(super::json_error("credential request"))?;
            let r = self.send(
                HttpRequest::post(
                    &metadata.credential_endpoint,
                    "application/json",
                    body,
                    MAX_CREDENTIAL_RESPONSE_LEN,
                )
                .with_header("authorization", format!("Bearer {}", access_token.expose())),
                "credential endpoint",
            )?;
            if r.status == 200 {
                break r;
            }
            match error_of(&r) {
                Error::InvalidNonce {
                    fresh_nonce: Some(n),
                    ..
                } if !retried => {
                    retried = true;
                    nonce = Some(n);
                }
                e => return Err(e),
            }
        };
        let parsed: CredentialResponse = serde_json::from_slice(&response.body)
            .map_err(super::json_error("credential response"))?;
        let credential = match parsed.credentials.as_slice() {
            [one] => one.credential.clone(),
            _ => {
                return Err(Error::malformed(
                    "credential response",
                    "exactly one credential expected",
                ))
            }
        };
        let report = self.verify(&credential, &format, &issuer, &metadata, holder)?;
        Ok(Received {
            credential,
            configuration_id,
            format,
            issuer,
            report,
            notification_id: parsed.notification_id,
            notification_endpoint: metadata.notification_endpoint.clone(),
            access_token,
        })
    }

    /// Verify `credential` against what the issuer publishes: `did.json` and
    /// `jwks.json` for JOSE formats, the IACAs for mdoc, then the status list.
    pub fn verify(
        &self,
        credential: &str,
        format: &str,
        issuer: &str,
        metadata: &CredentialIssuerMetadata,
        holder: &dyn Signer,
    ) -> Result<VerificationReport> {
        let mut trust = TrustStore::new();
        if format == FORMAT_MDOC {
            let uri = metadata.mdoc_iacas_uri.as_deref().ok_or_else(|| {
                Error::malformed(
                    "credential issuer metadata",
                    "no mdoc_iacas_uri for an mdoc",
                )
            })?;
            let body = self.get_ok(uri, MAX_METADATA_LEN, "IACA list")?;
            let n = add_iacas(&mut trust, &body)?;
            if n == 0 {
                return Err(Error::UntrustedIssuer(format!(
                    "{uri} lists no active IACA certificate"
                )));
            }
        }
        // did.json: the JWT VC / SD-JWT VC issuer key, and the signer of the issuer's own
        // status lists (optional for mdoc, whose trust is the IACA).
        let did_url = format!("{}/.well-known/did.json", super::origin(issuer));
        match self.get_ok(&did_url, MAX_METADATA_LEN, "did.json") {
            Ok(doc) => {
                let doc: Value =
                    serde_json::from_slice(&doc).map_err(super::json_error("did.json"))?;
                let expected = super::issuer_did(issuer)?;
                if doc.get("id").and_then(Value::as_str) != Some(expected.as_str()) {
                    return Err(Error::InvalidDidDocument {
                        did: expected,
                        reason: format!("{did_url} is the document of another DID"),
                    });
                }
                trust.add_did_document(&doc)?;
            }
            Err(_) if format == FORMAT_MDOC => {}
            Err(e) => return Err(e),
        }
        let verifier = |t: TrustStore| Verifier::new(t).with_clock(self.clock.clone());
        let bytes = credential.as_bytes();
        let mut report = verifier(trust.clone()).verify(bytes);
        if let Some(s) = report.status.clone().filter(|s| s.state == "unknown") {
            check_url(&s.list_uri, "status list")?;
            let list = self.get_ok(&s.list_uri, MAX_STATUS_LIST_LEN, "status list")?;
            let text = String::from_utf8(list)
                .map_err(|_| Error::malformed("status list", "not UTF-8"))?;
            trust.add_status_list(text.trim(), crate::verifier::DEFAULT_LEEWAY_SECS)?;
            report = verifier(trust).verify(bytes);
        }
        if format == super::FORMAT_JWT_VC && report.valid {
            let holder_did = crate::did::key::from_jwk(&holder.public_jwk())?;
            let subject = report.claims.to_value();
            if subject.get("id").and_then(Value::as_str) != Some(holder_did.as_str()) {
                return Err(Error::claim(
                    "credentialSubject.id",
                    "the credential is not bound to the holder key that signed the proof",
                ));
            }
        }
        Ok(report)
    }

    /// Tell the issuer what became of the credential.
    pub fn notify(
        &self,
        received: &Received,
        event: NotificationEvent,
        description: Option<&str>,
    ) -> Result<()> {
        let (Some(endpoint), Some(id)) =
            (&received.notification_endpoint, &received.notification_id)
        else {
            return Ok(());
        };
        let body = serde_json::to_vec(&NotificationRequest {
            notification_id: id.clone(),
            event,
            event_description: description.map(str::to_string),
        })
        .map_err(super::json_error("notification"))?;
        let r = self.send(
            HttpRequest::post(endpoint, "application/json", body, MAX_TOKEN_RESPONSE_LEN)
                .with_header(
                    "authorization",
                    format!("Bearer {}", received.access_token.expose()),
                ),
            "notification endpoint",
        )?;
        match r.status {
            200 | 204 => Ok(()),
            _ => Err(error_of(&r)),
        }
    }
}

/// The error an issuer's answer describes.
pub fn error_of(r: &HttpResponse) -> Error {
    if r.status == 401 {
        let www = r.header("www-authenticate").unwrap_or_default();
        if www.contains("invalid_token") || r.body.is_empty() {
            return Error::InvalidToken(format!("the issuer answered 401 ({www})"));
        }
    }
    match serde_json::from_slice::<ErrorBody>(&r.body) {
        Ok(b) => b.to_error(r.status),
        Err(_) => Error::Http(format!("unexpected answer {}", r.status)),
    }
}

/// Add the active certificates of a GOV.UK IACA list (`{"data": [{certificatePem, active, certificateFingerprint…}]}`)
/// as trusted roots; the fingerprint must match the certificate. Returns how many.
pub fn add_iacas(trust: &mut TrustStore, body: &[u8]) -> Result<usize> {
    let v: Value = serde_json::from_slice(body).map_err(super::json_error("IACA list"))?;
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::malformed("IACA list", "no data array"))?;
    let mut n = 0;
    for entry in data {
        if entry.get("active").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let pem = entry
            .get("certificatePem")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::malformed("IACA list", "entry without certificatePem"))?;
        // GOV.UK's list puts the PEM on one line: take the base64 between the markers.
        let b64: String = pem
            .replace("-----BEGIN CERTIFICATE-----", "")
            .replace("-----END CERTIFICATE-----", "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| Error::malformed("IACA list", "certificatePem is not base64"))?;
        let cert = crate::x509::Certificate::from_der(&der)?;
        if let Some(fp) = entry.get("certificateFingerprint").and_then(Value::as_str) {
            if !fp.eq_ignore_ascii_case(&cert.sha256_fingerprint()) {
                return Err(Error::malformed(
                    "IACA list",
                    "certificateFingerprint does not match the certificate",
                ));
            }
        }
        cert.verify_issued_by(&cert)?;
        n += trust.add_root_certificates_pem(&cert.to_pem())?;
    }
    Ok(n)
}
