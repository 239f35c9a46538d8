//! The wallet's response (`vp_token`) and the verifier's checks (OpenID4VP 1.0 §8).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dcql::{self, Candidate, DcqlQuery, FORMAT_MSO_MDOC, FORMAT_SD_JWT_VC};
use super::request::{AuthorizationRequest, ResponseMode, VerifiedRequest};
use crate::error::{Error, Result};
use crate::format::sd_jwt::{KeyBinding, SdJwt, VerifyOptions};
use crate::platform::Signer;
use crate::proximity::SessionTranscript;
use crate::report::VerificationReport;
use crate::trust::TrustStore;

/// The mdoc SessionTranscript for OpenID4VP (1.0 Appendix B.2.6.1):
/// `[null, null, ["OpenID4VPHandover", SHA-256(cbor([client_id, nonce,
/// jwk_thumbprint or null, response_uri]))]]`. `jwk_thumbprint` is the SHA-256 JWK
/// thumbprint of the verifier's encryption key when the response is encrypted.
pub fn mdoc_session_transcript(
    client_id: &str,
    nonce: &str,
    jwk_thumbprint: Option<&[u8]>,
    response_uri: &str,
) -> SessionTranscript {
    use ciborium::Value as C;
    let info = C::Array(vec![
        C::Text(client_id.into()),
        C::Text(nonce.into()),
        jwk_thumbprint.map_or(C::Null, |t| C::Bytes(t.to_vec())),
        C::Text(response_uri.into()),
    ]);
    let mut info_bytes = Vec::new();
    let _ = ciborium::into_writer(&info, &mut info_bytes);
    let transcript = C::Array(vec![
        C::Null,
        C::Null,
        C::Array(vec![
            C::Text("OpenID4VPHandover".into()),
            C::Bytes(crate::crypto::sha256(&info_bytes).to_vec()),
        ]),
    ]);
    let mut out = Vec::new();
    let _ = ciborium::into_writer(&transcript, &mut out);
    SessionTranscript::from_encoded_parts(out)
}

/// The authorization response: `vp_token` (query id → presentations) and `state`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// `vp_token`.
    pub vp_token: Map<String, Value>,
    /// `state`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl AuthorizationResponse {
    /// An empty response to `request`.
    pub fn new(request: &AuthorizationRequest) -> Self {
        AuthorizationResponse {
            vp_token: Map::new(),
            state: request.state.clone(),
        }
    }

    fn push(&mut self, query_id: &str, presentation: String) {
        let entry = self
            .vp_token
            .entry(query_id.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(Value::String(presentation));
        }
    }

    /// Add an SD-JWT VC presentation for `query_id`: only the claims at `paths`
    /// disclosed, with a Key Binding JWT (`aud` = client_id, `nonce`) signed by the
    /// holder key.
    pub fn add_sd_jwt(
        &mut self,
        request: &AuthorizationRequest,
        query_id: &str,
        issued: &str,
        paths: &[String],
        holder: &dyn Signer,
        now: i64,
    ) -> Result<()> {
        let sd = SdJwt::parse(issued)?;
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let kb = KeyBinding {
            audience: request.client_id.clone(),
            nonce: request.nonce.clone(),
            issued_at: now,
        };
        let presented = sd.present(&refs, Some((&kb, holder)))?;
        self.push(query_id, presented);
        Ok(())
    }

    /// Add an mdoc DeviceResponse (made over [`mdoc_session_transcript`]) for `query_id`.
    pub fn add_mdoc(&mut self, query_id: &str, device_response: &[u8]) {
        self.push(query_id, crate::b64::encode(device_response));
    }

    /// The `direct_post` form fields: `vp_token` (JSON) and `state`.
    pub fn to_form(&self) -> Vec<(String, String)> {
        let mut f = vec![(
            "vp_token".to_string(),
            Value::Object(self.vp_token.clone()).to_string(),
        )];
        if let Some(s) = &self.state {
            f.push(("state".into(), s.clone()));
        }
        f
    }

    /// Read `direct_post` form fields (already URL-decoded).
    pub fn from_form(fields: &[(String, String)]) -> Result<Self> {
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let token =
            get("vp_token").ok_or_else(|| Error::claim("vp_token", "missing from the response"))?;
        let vp_token: Map<String, Value> = serde_json::from_str(token)
            .map_err(|e| Error::malformed("vp_token", format!("not a JSON object: {e}")))?;
        Ok(AuthorizationResponse {
            vp_token,
            state: get("state").map(String::from),
        })
    }

    /// `direct_post.jwt` needs the response encrypted to the verifier as a JWE
    /// (ECDH-ES + A128GCM/A256GCM). No JWE implementation is included yet, so this
    /// refuses rather than send the response in clear.
    pub fn to_direct_post_jwt(&self, _verifier_key: &Value) -> Result<String> {
        Err(Error::UnsupportedFormat(
            "response mode direct_post.jwt (JWE encryption is not implemented yet; use direct_post)".into(),
        ))
    }
}

/// Build the response to a verified request: for each `(query id, credential)`
/// chosen by the user (from the matcher's candidates), the SD-JWT presentation with
/// exactly the matched claims. mdoc answers are added with
/// [`AuthorizationResponse::add_mdoc`].
pub fn respond_sd_jwt(
    verified: &VerifiedRequest,
    chosen: &[(&str, &dcql::CandidateMatch, &str)],
    holder: &dyn Signer,
    now: i64,
) -> Result<AuthorizationResponse> {
    if verified.request.response_mode == Some(ResponseMode::DirectPostJwt) {
        return Err(Error::UnsupportedFormat(
            "response mode direct_post.jwt (JWE encryption is not implemented yet)".into(),
        ));
    }
    let mut resp = AuthorizationResponse::new(&verified.request);
    for (query_id, m, issued) in chosen {
        resp.add_sd_jwt(
            &verified.request,
            query_id,
            issued,
            &m.dotted_paths(),
            holder,
            now,
        )?;
    }
    Ok(resp)
}

/// Verifies an mdoc DeviceResponse (bytes) made over a SessionTranscript; supplied
/// by the caller (the DeviceResponse verifier lives in `format::mdoc`).
pub type MdocVerifier = dyn Fn(&[u8], &SessionTranscript) -> VerificationReport;

/// A verifier's pending request: what it sent, to check what comes back.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifierSession {
    /// The request sent.
    pub request: AuthorizationRequest,
}

/// One verified presentation.
#[derive(Clone, Debug, PartialEq)]
pub struct PresentationResult {
    /// The credential query it answers.
    pub query_id: String,
    /// The credential's verification report.
    pub report: VerificationReport,
}

fn random_token() -> Result<String> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| Error::CryptoBackend("random source failed".into()))?;
    Ok(crate::b64::encode(b))
}

impl VerifierSession {
    /// A `direct_post` request from `client_id` for `query`, answered at
    /// `response_uri`, with a fresh 256-bit nonce and state.
    pub fn new(client_id: &str, response_uri: &str, query: DcqlQuery) -> Result<Self> {
        query.validate()?;
        Ok(VerifierSession {
            request: AuthorizationRequest {
                client_id: client_id.into(),
                response_type: "vp_token".into(),
                response_mode: Some(ResponseMode::DirectPost),
                response_uri: Some(response_uri.into()),
                redirect_uri: None,
                nonce: random_token()?,
                state: Some(random_token()?),
                dcql_query: query,
                client_metadata: None,
            },
        })
    }

    /// The mdoc SessionTranscript for this request (unencrypted response).
    pub fn mdoc_session_transcript(&self) -> SessionTranscript {
        mdoc_session_transcript(
            &self.request.client_id,
            &self.request.nonce,
            None,
            self.request.response_uri.as_deref().unwrap_or_default(),
        )
    }

    /// Check a response: `state`, every required query answered (per
    /// `credential_sets`), each SD-JWT bound to this verifier (`aud` = client_id,
    /// else [`Error::AudienceMismatch`]) and this request (`nonce`, else
    /// [`Error::NonceMismatch`]), and the requested claims disclosed. Each credential
    /// is then verified against `trust`; mdoc DeviceResponses go to `mdoc_verifier`
    /// with the OpenID4VP SessionTranscript.
    pub fn check(
        &self,
        response: &AuthorizationResponse,
        trust: &TrustStore,
        now: i64,
        leeway: i64,
        mdoc_verifier: Option<&MdocVerifier>,
    ) -> Result<Vec<PresentationResult>> {
        let req = &self.request;
        if let Some(expected) = &req.state {
            if response
                .state
                .as_deref()
                .is_none_or(|s| !crate::crypto::ct_eq(s.as_bytes(), expected.as_bytes()))
            {
                return Err(Error::claim("state", "does not match the request's state"));
            }
        }
        let q = &req.dcql_query;
        // Which queries were answered, and are the required ones among them?
        let answered: Vec<&str> = response.vp_token.keys().map(String::as_str).collect();
        for id in &answered {
            if !q.credentials.iter().any(|c| c.id == *id) {
                return Err(Error::malformed(
                    "vp_token",
                    format!("answers unknown query {id:?}"),
                ));
            }
        }
        let missing: Vec<String> = match &q.credential_sets {
            None => q
                .credentials
                .iter()
                .filter(|c| !answered.contains(&c.id.as_str()))
                .map(|c| c.id.clone())
                .collect(),
            Some(sets) => sets
                .iter()
                .filter(|s| {
                    s.required
                        && !s
                            .options
                            .iter()
                            .any(|o| o.iter().all(|id| answered.contains(&id.as_str())))
                })
                .map(|s| format!("{:?}", s.options))
                .collect(),
        };
        if !missing.is_empty() {
            return Err(Error::claim(
                "vp_token",
                format!("no presentation for required query {}", missing.join(", ")),
            ));
        }
        let mut results = Vec::new();
        for (id, presentations) in &response.vp_token {
            let cq = q
                .credentials
                .iter()
                .find(|c| &c.id == id)
                .ok_or_else(|| Error::malformed("vp_token", "unknown query"))?;
            let list = presentations
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| {
                    Error::malformed("vp_token", format!("{id}: must be a non-empty array"))
                })?;
            if list.len() > 1 && !cq.multiple {
                return Err(Error::malformed(
                    "vp_token",
                    format!("{id}: several presentations but `multiple` is false"),
                ));
            }
            for p in list {
                let text = p.as_str().ok_or_else(|| {
                    Error::malformed("vp_token", format!("{id}: presentations must be strings"))
                })?;
                let report = match cq.format.as_str() {
                    FORMAT_SD_JWT_VC => self.check_sd_jwt(cq, text, trust, now, leeway)?,
                    FORMAT_MSO_MDOC => {
                        let bytes = crate::b64::decode(text, "mdoc DeviceResponse")?;
                        let verify = mdoc_verifier.ok_or_else(|| {
                            Error::UnsupportedFormat(
                                "an mdoc answer, but no mdoc DeviceResponse verifier was given"
                                    .into(),
                            )
                        })?;
                        verify(&bytes, &self.mdoc_session_transcript())
                    }
                    other => return Err(Error::UnsupportedFormat(other.to_string())),
                };
                results.push(PresentationResult {
                    query_id: id.clone(),
                    report,
                });
            }
        }
        Ok(results)
    }

    fn check_sd_jwt(
        &self,
        cq: &dcql::CredentialQuery,
        text: &str,
        trust: &TrustStore,
        now: i64,
        leeway: i64,
    ) -> Result<VerificationReport> {
        let req = &self.request;
        let sd = SdJwt::parse(text)?;
        let kb = sd
            .kb_jwt
            .as_deref()
            .ok_or_else(|| Error::claim("kb_jwt", "a presentation must carry a Key Binding JWT"))?;
        let kb_claims = crate::jose::Jws::decode(kb)?.payload_json()?;
        let aud = kb_claims
            .get("aud")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if aud != req.client_id {
            return Err(Error::AudienceMismatch {
                found: aud.into(),
                expected: req.client_id.clone(),
            });
        }
        let nonce = kb_claims
            .get("nonce")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !crate::crypto::ct_eq(nonce.as_bytes(), req.nonce.as_bytes()) {
            return Err(Error::NonceMismatch);
        }
        let opts = VerifyOptions {
            audience: Some(req.client_id.clone()),
            nonce: Some(req.nonce.clone()),
            ..Default::default()
        };
        let report = crate::format::sd_jwt::verify(text, trust, now, leeway, &opts);
        if report.valid {
            // The requested claims must be among the disclosed ones.
            let mut claims = match report.claims.to_value() {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let vct = sd.payload()?.get("vct").cloned().unwrap_or(Value::Null);
            claims.insert("vct".into(), vct.clone());
            let candidate = Candidate {
                id: "presented".into(),
                format: FORMAT_SD_JWT_VC.into(),
                type_id: vct.as_str().unwrap_or_default().into(),
                claims,
            };
            let single = DcqlQuery {
                credentials: vec![cq.clone()],
                credential_sets: None,
            };
            let m = dcql::match_query(&single, &[candidate])?;
            if !m.satisfiable() {
                return Err(Error::claim(
                    cq.id.clone(),
                    format!(
                        "the presentation does not disclose what was requested: {}",
                        m.missing.join("; ")
                    ),
                ));
            }
        }
        Ok(report)
    }
}
