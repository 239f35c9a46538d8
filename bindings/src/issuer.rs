//! A small `Issuer` for tests and tools: JWT VC and SD-JWT VC signed by a software key.

use std::sync::Arc;

use govcred::crypto::{Jwk, SoftwareKey};
use govcred::format::{jwt_vc, sd_jwt};
use govcred::Clock;

use crate::error::{ErrorCode, FfiResult, GovcredError};

/// Issues credentials signed by a software key (a private JWK). For tests and small
/// tools; production issuers run `govcred serve`.
///
/// ```python
/// issuer = Issuer(generate_p256_jwk(), "https://issuer.example.gov.uk")
/// vc = issuer.issue_sd_jwt_vc("urn:example:pid", '{"given_name": "Ada"}', ["given_name"], holder_jwk)
/// ```
#[derive(uniffi::Object)]
pub struct Issuer {
    key: SoftwareKey,
    issuer: String,
}

fn claims_object(claims_json: &str) -> FfiResult<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(claims_json) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(GovcredError::new(
            ErrorCode::MalformedInput,
            "claims must be a JSON object",
        )),
        Err(e) => Err(GovcredError::new(
            ErrorCode::MalformedInput,
            format!("claims are not JSON: {e}"),
        )),
    }
}

impl Issuer {
    /// The verification method id: `<did:web of the issuer>#<key id>`.
    fn kid(&self) -> FfiResult<String> {
        let did = if self.issuer.starts_with("did:web:") {
            self.issuer.clone()
        } else {
            govcred::did::web::from_domain(&self.issuer)?
        };
        Ok(format!(
            "{did}#{}",
            govcred::did::web::key_id(self.key.verifying_key())
        ))
    }
}

#[uniffi::export]
impl Issuer {
    /// An issuer signing with `private_jwk` (JSON text, P-256 or Ed25519) as
    /// `issuer_url` (an `https://` origin or a `did:web`).
    #[uniffi::constructor]
    pub fn new(private_jwk: String, issuer_url: String) -> FfiResult<Arc<Self>> {
        let key = SoftwareKey::from_jwk(&Jwk::from_json(&private_jwk)?)?;
        Ok(Arc::new(Issuer {
            key,
            issuer: issuer_url,
        }))
    }

    /// The issuer's public key as a JWK (JSON text), to trust in a `Verifier`.
    pub fn public_jwk(&self) -> String {
        self.key.verifying_key().jwk().to_public().to_json()
    }

    /// Issue a W3C VC (`vc+jwt`) of `credential_type` with subject `claims_json`,
    /// bound to `holder_did` (`credentialSubject.id`) when given, valid until
    /// `valid_until` (Unix seconds) when given.
    pub fn issue_jwt_vc(
        &self,
        credential_type: String,
        claims_json: String,
        holder_did: Option<String>,
        valid_until: Option<i64>,
    ) -> FfiResult<String> {
        let mut draft = jwt_vc::CredentialDraft::new(&self.issuer, &credential_type);
        draft.subject = claims_object(&claims_json)?;
        if let Some(did) = holder_did {
            draft.subject.insert("id".into(), did.into());
        }
        draft.valid_until = valid_until;
        let now = govcred::SystemClock.now();
        Ok(jwt_vc::issue(&draft, &self.kid()?, &self.key, now)?)
    }

    /// Issue an SD-JWT VC of type `vct` with `claims_json`, making the claims at
    /// `disclosable` (paths) selectively disclosable and binding it to `holder_jwk`
    /// (public JWK, JSON text) when given.
    pub fn issue_sd_jwt_vc(
        &self,
        vct: String,
        claims_json: String,
        disclosable: Vec<String>,
        holder_jwk: Option<String>,
    ) -> FfiResult<String> {
        let mut draft = sd_jwt::SdJwtDraft::new(&self.issuer, &vct);
        draft.claims = claims_object(&claims_json)?;
        draft.disclosable = disclosable;
        draft.holder_key = holder_jwk.map(|j| Jwk::from_json(&j)).transpose()?;
        draft.kid = Some(self.kid()?);
        let now = govcred::SystemClock.now();
        Ok(sd_jwt::issue(&draft, None, &self.key, now)?)
    }
}
