//! OpenID4VP (DCQL, `direct_post`) for SD-JWT VCs: the wallet matches a request
//! against its credentials for the consent screen and builds the response; a small
//! verifier session makes requests and checks responses (tests, tools).
//!
//! First cut: unsigned requests by value from `redirect_uri:` clients and SD-JWT VC
//! answers. Signed request objects (`x509_san_dns:`), mdoc answers and the encrypted
//! `direct_post.jwt` mode are not exposed yet.

use std::sync::Arc;

use govcred::oid4vp::dcql::{self, Candidate, DcqlQuery};
use govcred::oid4vp::request::{AuthorizationRequest, ResponseMode, VerifiedRequest};
use govcred::oid4vp::response::{AuthorizationResponse, VerifierSession};
use govcred::store::ListFilter;
use govcred::Clock;
use serde_json::Value;

use crate::error::{ErrorCode, FfiResult, GovcredError};
use crate::verifier::{VerificationReport, Verifier};
use crate::wallet::Wallet;

/// A field of a `direct_post` form (URL-decoded).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormField {
    /// Field name (`vp_token`, `state`).
    pub name: String,
    /// Field value.
    pub value: String,
}

/// A stored credential that can answer a credential query, and what it would disclose.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Openid4vpCandidate {
    /// The store's id of the credential.
    pub credential_id: String,
    /// The claim paths that would be disclosed (`address.locality`).
    pub disclose: Vec<String>,
}

/// One credential query of the request and the stored credentials that answer it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Openid4vpQuery {
    /// The query id (answer with it in [`Openid4vpChoice`]).
    pub query_id: String,
    /// Whether the request needs it answered.
    pub required: bool,
    /// Matching stored credentials (empty: cannot be answered).
    pub candidates: Vec<Openid4vpCandidate>,
}

/// What a verifier asks for, matched against the wallet: for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Openid4vpMatch {
    /// The verifier's `client_id` (with its prefix).
    pub client_id: String,
    /// Whether the verifier was authenticated (signed request checked against trust).
    pub verifier_authenticated: bool,
    /// A name that authentication checked, if any.
    pub verifier_name: Option<String>,
    /// Where the response goes.
    pub response_uri: Option<String>,
    /// Per credential query.
    pub queries: Vec<Openid4vpQuery>,
    /// What cannot be satisfied, for people (empty when the request can be met).
    pub missing: Vec<String>,
}

/// The holder's choice of credential for one query.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Openid4vpChoice {
    /// The query answered.
    pub query_id: String,
    /// The stored credential chosen (one of the query's candidates).
    pub credential_id: String,
}

/// The response to send: POST `form` (`application/x-www-form-urlencoded`) to
/// `response_uri`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Openid4vpResponse {
    /// Where to POST it.
    pub response_uri: Option<String>,
    /// The form fields (`vp_token`, `state`).
    pub form: Vec<FormField>,
}

fn parse_request(request_json: &str) -> FfiResult<VerifiedRequest> {
    let mut params: serde_json::Map<String, Value> =
        serde_json::from_str(request_json).map_err(|e| {
            GovcredError::new(
                ErrorCode::MalformedInput,
                format!("the authorization request is not a JSON object: {e}"),
            )
        })?;
    // As URL parameters the DCQL query arrives as JSON text; accept an object too.
    if let Some(q) = params.get_mut("dcql_query") {
        if q.is_object() {
            *q = Value::String(q.to_string());
        }
    }
    Ok(AuthorizationRequest::parse_by_value(&params)?)
}

impl Wallet {
    /// Every stored SD-JWT VC with a device key here, as DCQL candidates, with its text.
    fn sd_jwt_candidates(&self) -> FfiResult<Vec<(Candidate, String)>> {
        let state = self.inner.lock()?;
        let store = state.store()?;
        let filter = ListFilter {
            format: Some(govcred::Format::SdJwtVc),
            ..Default::default()
        };
        let mut out = Vec::new();
        for summary in store.list(&filter)?.credentials {
            if !state.aliases.contains_key(&summary.id) {
                continue; // no device key here: cannot make the key binding
            }
            let stored = store.get(&summary.id)?;
            let Some(text) = stored.raw_text() else {
                continue;
            };
            out.push((Candidate::from_sd_jwt(&summary.id, text)?, text.to_string()));
        }
        Ok(out)
    }

    fn matched(
        &self,
        verified: &VerifiedRequest,
    ) -> FfiResult<(dcql::DcqlMatch, Vec<(Candidate, String)>)> {
        let held = self.sd_jwt_candidates()?;
        let candidates: Vec<Candidate> = held.iter().map(|(c, _)| c.clone()).collect();
        Ok((
            dcql::match_query(&verified.request.dcql_query, &candidates)?,
            held,
        ))
    }
}

#[uniffi::export]
impl Wallet {
    /// Read an OpenID4VP request (its parameters as a JSON object: `client_id`,
    /// `response_type`, `response_mode`, `response_uri`, `nonce`, `state`,
    /// `dcql_query`) and match it against the stored SD-JWT VCs: who asks, for what,
    /// and which credentials can answer — the consent screen.
    pub fn openid4vp_match(&self, request_json: String) -> FfiResult<Openid4vpMatch> {
        let verified = parse_request(&request_json)?;
        let (m, _) = self.matched(&verified)?;
        Ok(Openid4vpMatch {
            client_id: verified.verifier.client_id.clone(),
            verifier_authenticated: verified.verifier.authenticated,
            verifier_name: verified.verifier.verified_name.clone(),
            response_uri: verified.request.response_target().map(str::to_string),
            queries: m
                .queries
                .iter()
                .map(|q| Openid4vpQuery {
                    query_id: q.query_id.clone(),
                    required: m.required.contains(&q.query_id),
                    candidates: q
                        .candidates
                        .iter()
                        .map(|c| Openid4vpCandidate {
                            credential_id: c.credential_id.clone(),
                            disclose: c.dotted_paths(),
                        })
                        .collect(),
                })
                .collect(),
            missing: m.missing,
        })
    }

    /// Answer an OpenID4VP request with the credentials the holder chose (one per
    /// query, from [`Wallet::openid4vp_match`]'s candidates): each SD-JWT VC discloses
    /// exactly the matched claims, with a Key Binding JWT for the verifier's
    /// `client_id` and `nonce` signed by its device key. Returns the form to POST.
    pub fn openid4vp_respond(
        &self,
        request_json: String,
        choices: Vec<Openid4vpChoice>,
    ) -> FfiResult<Openid4vpResponse> {
        let verified = parse_request(&request_json)?;
        if verified.request.response_mode == Some(ResponseMode::DirectPostJwt) {
            return Err(GovcredError::new(
                ErrorCode::UnsupportedFormat,
                "response mode direct_post.jwt (JWE encryption is not implemented yet)",
            ));
        }
        let (m, held) = self.matched(&verified)?;
        let mut response = AuthorizationResponse::new(&verified.request);
        let now = govcred::SystemClock.now();
        for choice in &choices {
            let candidate = m
                .query(&choice.query_id)
                .and_then(|q| {
                    q.candidates
                        .iter()
                        .find(|c| c.credential_id == choice.credential_id)
                })
                .ok_or_else(|| {
                    GovcredError::new(
                        ErrorCode::NoMatchingCredential,
                        format!(
                            "credential {:?} does not answer query {:?}: choose one of the match's candidates",
                            choice.credential_id, choice.query_id
                        ),
                    )
                })?;
            let issued = held
                .iter()
                .find(|(c, _)| c.id == choice.credential_id)
                .map(|(_, text)| text.as_str())
                .ok_or_else(|| {
                    GovcredError::new(ErrorCode::NotFound, choice.credential_id.clone())
                })?;
            let signer = {
                let state = self.inner.lock()?;
                self.inner.holder_signer(&state, &choice.credential_id)?
            };
            response.add_sd_jwt(
                &verified.request,
                &choice.query_id,
                issued,
                &candidate.dotted_paths(),
                &signer,
                now,
            )?;
        }
        Ok(Openid4vpResponse {
            response_uri: verified.request.response_target().map(str::to_string),
            form: response
                .to_form()
                .into_iter()
                .map(|(name, value)| FormField { name, value })
                .collect(),
        })
    }
}

/// A verifier's OpenID4VP request (unsigned, `redirect_uri:` client, `direct_post`)
/// and the check of what comes back. For tests and small tools.
#[derive(uniffi::Object)]
pub struct Openid4vpSession {
    session: VerifierSession,
}

#[uniffi::export]
impl Openid4vpSession {
    /// A request from `client_id` (e.g. `redirect_uri:https://rp.example/cb`) for the
    /// DCQL query `dcql_query_json`, answered at `response_uri`, with a fresh nonce
    /// and state.
    #[uniffi::constructor]
    pub fn new(
        client_id: String,
        response_uri: String,
        dcql_query_json: String,
    ) -> FfiResult<Arc<Self>> {
        let q: Value = serde_json::from_str(&dcql_query_json).map_err(|e| {
            GovcredError::new(
                ErrorCode::MalformedInput,
                format!("DCQL query is not JSON: {e}"),
            )
        })?;
        Ok(Arc::new(Openid4vpSession {
            session: VerifierSession::new(&client_id, &response_uri, DcqlQuery::from_json(&q)?)?,
        }))
    }

    /// The request parameters as a JSON object (what the wallet reads).
    pub fn request_json(&self) -> String {
        serde_json::to_string(&self.session.request).unwrap_or_default()
    }

    /// The request's nonce.
    pub fn nonce(&self) -> String {
        self.session.request.nonce.clone()
    }

    /// Check a response (the posted form fields): state, every required query
    /// answered, key binding to this request, requested claims disclosed; then each
    /// credential verified with `verifier`'s trust. One report per presentation.
    pub fn check(
        &self,
        verifier: Arc<Verifier>,
        form: Vec<FormField>,
    ) -> FfiResult<Vec<VerificationReport>> {
        let fields: Vec<(String, String)> = form.into_iter().map(|f| (f.name, f.value)).collect();
        let response = AuthorizationResponse::from_form(&fields)?;
        let results = self.session.check(
            &response,
            verifier.inner.trust(),
            govcred::SystemClock.now(),
            govcred::verifier::DEFAULT_LEEWAY_SECS,
            None,
        )?;
        Ok(results.into_iter().map(|r| r.report.into()).collect())
    }
}
