//! The wallet's response (`vp_token`) and the verifier's checks (OpenID4VP 1.0 §8).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dcql::{self, Candidate, DcqlQuery, FORMAT_MSO_MDOC, FORMAT_SD_JWT_VC};
use super::request::{AuthorizationRequest, ResponseMode, VerifiedRequest};
use std::sync::Arc;

use crate::crypto::Jwk;
use crate::error::{Error, Result};
use crate::format::sd_jwt::{KeyBinding, SdJwt, VerifyOptions};
use crate::jwe::{self, DecryptionKey, Enc, EncryptOptions};
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

/// The wallet's side of the SessionTranscript for an mdoc answer to `request`: with
/// the thumbprint of the verifier's encryption key when the response mode is
/// `direct_post.jwt`, else without (1.0 Appendix B.2.6.1).
pub fn mdoc_session_transcript_for(request: &AuthorizationRequest) -> Result<SessionTranscript> {
    let thumbprint = match request.response_mode {
        Some(ResponseMode::DirectPostJwt) => {
            Some(ResponseEncryption::for_request(request)?.thumbprint()?)
        }
        _ => None,
    };
    Ok(mdoc_session_transcript(
        &request.client_id,
        &request.nonce,
        thumbprint.as_ref().map(|t| &t[..]),
        request.response_uri.as_deref().unwrap_or_default(),
    ))
}

/// How a `direct_post.jwt` response is encrypted (OpenID4VP 1.0 §8.3): to the
/// verifier's key from `client_metadata.jwks` (EC P-256, `use` absent or `enc`, `alg`
/// absent or `ECDH-ES`), with the first `enc` of
/// `encrypted_response_enc_values_supported` this library implements (`A128GCM` when
/// the verifier lists none). `apv` carries the request's `nonce`, binding the key
/// derivation to this request.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseEncryption {
    /// The verifier's public encryption key.
    pub key: Jwk,
    /// The content encryption.
    pub enc: Enc,
    /// `apv` (the request nonce, UTF-8).
    pub apv: Option<Vec<u8>>,
}

impl ResponseEncryption {
    /// The encryption the verifier asked for in `request`; an error
    /// ([`Error::InvalidRequest`]) if it gave no usable key or no supported `enc`.
    pub fn for_request(request: &AuthorizationRequest) -> Result<Self> {
        let meta = request.client_metadata.as_ref();
        let keys = meta
            .and_then(|m| m.pointer("/jwks/keys"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let key = keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .find(|k| {
                k.kty == "EC"
                    && k.crv.as_deref() == Some("P-256")
                    && k.d.is_none()
                    && k.use_.as_deref().is_none_or(|u| u == "enc")
                    && k.alg.as_deref().is_none_or(|a| a == jwe::ALG_ECDH_ES)
            })
            .ok_or_else(|| {
                Error::InvalidRequest(
                    "direct_post.jwt needs an EC P-256 ECDH-ES key in client_metadata.jwks".into(),
                )
            })?;
        let enc = match meta.and_then(|m| m.get("encrypted_response_enc_values_supported")) {
            None => Enc::A128Gcm,
            Some(v) => v
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find_map(|e| Enc::from_jose(e).ok())
                .ok_or_else(|| {
                    Error::InvalidRequest(format!(
                        "encrypted_response_enc_values_supported {v} lists neither A128GCM nor A256GCM"
                    ))
                })?,
        };
        Ok(ResponseEncryption {
            key,
            enc,
            apv: Some(request.nonce.as_bytes().to_vec()),
        })
    }

    /// The SHA-256 JWK thumbprint (RFC 7638) of the verifier's key, raw bytes, for
    /// [`mdoc_session_transcript`].
    pub fn thumbprint(&self) -> Result<[u8; 32]> {
        Ok(crate::crypto::sha256(
            self.key.thumbprint_input()?.as_bytes(),
        ))
    }
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

    /// The `direct_post.jwt` `response` value: `{vp_token, state}` as a compact JWE
    /// (ECDH-ES, `enc` and key as chosen in `encryption`, usually
    /// [`ResponseEncryption::for_request`]).
    pub fn to_direct_post_jwt(&self, encryption: &ResponseEncryption) -> Result<String> {
        let body = serde_json::to_vec(self)
            .map_err(|e| Error::malformed("authorization response", e.to_string()))?;
        jwe::encrypt(
            &body,
            &encryption.key,
            &EncryptOptions {
                enc: encryption.enc,
                apu: None,
                apv: encryption.apv.clone(),
            },
        )
    }

    /// The form fields to POST to `request`'s `response_uri`, in its response mode:
    /// `vp_token` and `state` for `direct_post`, `response` (the JWE) for
    /// `direct_post.jwt`. Other modes are refused.
    pub fn to_post_body(&self, request: &AuthorizationRequest) -> Result<Vec<(String, String)>> {
        match request.response_mode {
            Some(ResponseMode::DirectPost) => Ok(self.to_form()),
            Some(ResponseMode::DirectPostJwt) => {
                let enc = ResponseEncryption::for_request(request)?;
                Ok(vec![("response".into(), self.to_direct_post_jwt(&enc)?)])
            }
            other => Err(Error::UnsupportedFormat(format!(
                "response mode {} (only direct_post and direct_post.jwt are posted)",
                other.map_or("(none)", ResponseMode::as_str)
            ))),
        }
    }

    /// The decrypted `direct_post.jwt` payload: a JSON object with `vp_token` and
    /// optionally `state` (other members are ignored).
    fn from_json_bytes(bytes: &[u8]) -> Result<Self> {
        crate::json::check_unique_keys(bytes, "authorization response")?;
        let v: Map<String, Value> = serde_json::from_slice(bytes).map_err(|e| {
            Error::malformed("authorization response", format!("not a JSON object: {e}"))
        })?;
        let vp_token = match v.get("vp_token") {
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(Error::malformed("vp_token", "not a JSON object")),
            None => return Err(Error::claim("vp_token", "missing from the response")),
        };
        let state = match v.get("state") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::malformed("state", "not a string")),
        };
        Ok(AuthorizationResponse { vp_token, state })
    }
}

/// Build the response to a verified request: for each `(query id, credential)`
/// chosen by the user (from the matcher's candidates), the SD-JWT presentation with
/// exactly the matched claims. mdoc answers are added with
/// [`AuthorizationResponse::add_mdoc`]. Send it with
/// [`AuthorizationResponse::to_post_body`], which encrypts it for `direct_post.jwt`
/// (a `direct_post.jwt` request without a usable encryption key is refused here,
/// before anything is signed).
pub fn respond_sd_jwt(
    verified: &VerifiedRequest,
    chosen: &[(&str, &dcql::CandidateMatch, &str)],
    holder: &dyn Signer,
    now: i64,
) -> Result<AuthorizationResponse> {
    if verified.request.response_mode == Some(ResponseMode::DirectPostJwt) {
        ResponseEncryption::for_request(&verified.request)?;
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
    /// The response encryption key for `direct_post.jwt` sessions
    /// ([`VerifierSession::new_encrypted`]); its public half is in
    /// `request.client_metadata.jwks`.
    pub encryption_key: Option<Arc<DecryptionKey>>,
}

/// The `enc` values a [`VerifierSession::new_encrypted`] session offers and accepts.
pub const RESPONSE_ENC_VALUES: [Enc; 2] = [Enc::A128Gcm, Enc::A256Gcm];

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
            encryption_key: None,
        })
    }

    /// A `direct_post.jwt` request (OpenID4VP 1.0 §8.3): as [`VerifierSession::new`],
    /// plus a fresh P-256 response encryption key whose public JWK (`use` enc, `alg`
    /// ECDH-ES) goes in `client_metadata.jwks`, with
    /// `encrypted_response_enc_values_supported` = A128GCM, A256GCM. Check answers
    /// with [`VerifierSession::check_encrypted`] or [`VerifierSession::check_post_body`].
    ///
    /// ```
    /// use govcred::oid4vp::{dcql::DcqlQuery, response::{AuthorizationResponse, ResponseEncryption, VerifierSession}};
    /// let query = DcqlQuery::from_json(&serde_json::json!({"credentials": [{"id": "pid",
    ///     "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:example:pid"]}}]})).unwrap();
    /// let session = VerifierSession::new_encrypted("redirect_uri:https://rp.example/cb",
    ///     "https://rp.example/cb", query).unwrap();
    /// // The wallet encrypts to the key in the request...
    /// let mut resp = AuthorizationResponse::new(&session.request);
    /// resp.vp_token.insert("pid".into(), serde_json::json!(["<presentation>"]));
    /// let body = resp.to_post_body(&session.request).unwrap();
    /// assert_eq!(body[0].0, "response");
    /// // ... and only this session opens it.
    /// assert_eq!(session.decrypt_response(&body[0].1).unwrap(), resp);
    /// ```
    pub fn new_encrypted(client_id: &str, response_uri: &str, query: DcqlQuery) -> Result<Self> {
        let mut s = Self::new(client_id, response_uri, query)?;
        let key = DecryptionKey::generate()?;
        let encs: Vec<&str> = RESPONSE_ENC_VALUES.iter().map(|e| e.as_str()).collect();
        s.request.response_mode = Some(ResponseMode::DirectPostJwt);
        s.request.client_metadata = Some(serde_json::json!({
            "jwks": {"keys": [key.public_jwk()]},
            "encrypted_response_enc_values_supported": encs,
        }));
        s.encryption_key = Some(Arc::new(key));
        Ok(s)
    }

    /// The mdoc SessionTranscript for this request: with the encryption key's JWK
    /// thumbprint for a `direct_post.jwt` session, else without.
    pub fn mdoc_session_transcript(&self) -> SessionTranscript {
        // The thumbprint of a P-256 key made here always exists.
        let thumbprint = self
            .encryption_key
            .as_ref()
            .and_then(|k| k.thumbprint().ok());
        mdoc_session_transcript(
            &self.request.client_id,
            &self.request.nonce,
            thumbprint.as_ref().map(|t| &t[..]),
            self.request.response_uri.as_deref().unwrap_or_default(),
        )
    }

    /// Decrypt a `direct_post.jwt` `response` (a compact JWE) with this session's key:
    /// only ECDH-ES with A128GCM/A256GCM; a JWE for another key or altered fails with
    /// [`Error::JweDecryptionFailed`]. A session without an encryption key refuses
    /// ([`Error::SessionState`]).
    pub fn decrypt_response(&self, jwe_compact: &str) -> Result<AuthorizationResponse> {
        let key = self.encryption_key.as_ref().ok_or_else(|| {
            Error::SessionState(
                "an encrypted response, but this session asked for direct_post (no encryption key)"
                    .into(),
            )
        })?;
        let opened = key.decrypt(jwe_compact, &RESPONSE_ENC_VALUES)?;
        AuthorizationResponse::from_json_bytes(&opened.plaintext)
    }

    /// Decrypt a `direct_post.jwt` response and [`check`](Self::check) what is inside.
    pub fn check_encrypted(
        &self,
        jwe_compact: &str,
        trust: &TrustStore,
        now: i64,
        leeway: i64,
        mdoc_verifier: Option<&MdocVerifier>,
    ) -> Result<Vec<PresentationResult>> {
        let response = self.decrypt_response(jwe_compact)?;
        self.check_response(&response, trust, now, leeway, mdoc_verifier)
    }

    /// Check the posted form fields (already URL-decoded) in this session's response
    /// mode: `response` (JWE) for `direct_post.jwt` — a clear `vp_token` is then
    /// refused, so a response cannot be downgraded — or `vp_token`/`state`.
    pub fn check_post_body(
        &self,
        fields: &[(String, String)],
        trust: &TrustStore,
        now: i64,
        leeway: i64,
        mdoc_verifier: Option<&MdocVerifier>,
    ) -> Result<Vec<PresentationResult>> {
        if self.encryption_key.is_none() {
            let response = AuthorizationResponse::from_form(fields)?;
            return self.check(&response, trust, now, leeway, mdoc_verifier);
        }
        if fields.iter().any(|(n, _)| n == "vp_token") {
            return Err(Error::SessionState(
                "a clear vp_token, but this session asked for direct_post.jwt".into(),
            ));
        }
        let jwe_compact = fields
            .iter()
            .find(|(n, _)| n == "response")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Error::claim("response", "missing from the direct_post.jwt body"))?;
        self.check_encrypted(jwe_compact, trust, now, leeway, mdoc_verifier)
    }

    /// Check a response: `state`, every required query answered (per
    /// `credential_sets`), each SD-JWT bound to this verifier (`aud` = client_id,
    /// else [`Error::AudienceMismatch`]) and this request (`nonce`, else
    /// [`Error::NonceMismatch`]), and the requested claims disclosed. Each credential
    /// is then verified against `trust`; mdoc DeviceResponses go to `mdoc_verifier`
    /// with the OpenID4VP SessionTranscript.
    ///
    /// A `direct_post.jwt` session refuses a response given here in clear
    /// ([`Error::SessionState`]): use [`VerifierSession::check_encrypted`].
    pub fn check(
        &self,
        response: &AuthorizationResponse,
        trust: &TrustStore,
        now: i64,
        leeway: i64,
        mdoc_verifier: Option<&MdocVerifier>,
    ) -> Result<Vec<PresentationResult>> {
        if self.encryption_key.is_some() {
            return Err(Error::SessionState(
                "this session asked for direct_post.jwt: check the encrypted response with check_encrypted".into(),
            ));
        }
        self.check_response(response, trust, now, leeway, mdoc_verifier)
    }

    fn check_response(
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
