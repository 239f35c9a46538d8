//! Authorization requests (OpenID4VP 1.0 §5): by value or as a signed Request
//! Object (`oauth-authz-req+jwt`), with the `redirect_uri:`, `x509_san_dns:` and
//! `decentralized_identifier:` client identifier prefixes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::dcql::DcqlQuery;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;
use crate::trust::TrustStore;
use crate::x509::Certificate;

/// `typ` of a Request Object.
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// The response modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    /// `direct_post`: form-encoded POST of `vp_token` (and `state`) to `response_uri`.
    #[serde(rename = "direct_post")]
    DirectPost,
    /// `direct_post.jwt`: the same, encrypted as a JWE (`response` form field; see
    /// [`super::response::AuthorizationResponse::to_direct_post_jwt`]).
    #[serde(rename = "direct_post.jwt")]
    DirectPostJwt,
    /// `fragment`: in the redirect URI fragment (same-device).
    #[serde(rename = "fragment")]
    Fragment,
}

impl ResponseMode {
    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseMode::DirectPost => "direct_post",
            ResponseMode::DirectPostJwt => "direct_post.jwt",
            ResponseMode::Fragment => "fragment",
        }
    }
}

/// The client identifier prefix (OpenID4VP 1.0 §5.9).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "prefix", content = "value", rename_all = "snake_case")]
pub enum ClientId {
    /// `redirect_uri:<uri>`: unsigned; the response goes to that URI.
    RedirectUri(String),
    /// `x509_san_dns:<dns name>`: signed with a certificate whose SAN has that name.
    X509SanDns(String),
    /// `decentralized_identifier:<did>`: signed with a key of that DID.
    DecentralizedIdentifier(String),
}

impl ClientId {
    /// Parse a `client_id`.
    pub fn parse(client_id: &str) -> Result<Self> {
        let (prefix, value) = client_id.split_once(':').ok_or_else(|| {
            Error::UnsupportedFormat(format!(
                "client_id {client_id:?} has no prefix (redirect_uri:, x509_san_dns:, decentralized_identifier: are supported)"
            ))
        })?;
        if value.is_empty() {
            return Err(Error::malformed("client_id", "empty after the prefix"));
        }
        match prefix {
            "redirect_uri" => Ok(ClientId::RedirectUri(value.into())),
            "x509_san_dns" => Ok(ClientId::X509SanDns(value.into())),
            "decentralized_identifier" => Ok(ClientId::DecentralizedIdentifier(value.into())),
            other => Err(Error::UnsupportedFormat(format!(
                "client_id prefix {other:?} (redirect_uri, x509_san_dns, decentralized_identifier are supported)"
            ))),
        }
    }
}

/// An authorization request's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// `client_id`, with its prefix.
    pub client_id: String,
    /// `response_type`: `vp_token`.
    pub response_type: String,
    /// `response_mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mode: Option<ResponseMode>,
    /// `response_uri` (direct_post modes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_uri: Option<String>,
    /// `redirect_uri` (fragment mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// `nonce`.
    pub nonce: String,
    /// `state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `dcql_query`.
    pub dcql_query: DcqlQuery,
    /// `client_metadata` (e.g. `vp_formats_supported`, encryption keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<Value>,
}

/// How the verifier was authenticated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierIdentity {
    /// The full `client_id`.
    pub client_id: String,
    /// Its prefix and value.
    pub prefix: ClientId,
    /// Whether the request was signed and the signer checked against trust.
    pub authenticated: bool,
    /// A name checked by that authentication (the certificate subject, the DID), if any.
    pub verified_name: Option<String>,
}

/// A request that passed the checks for its client identifier prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedRequest {
    /// The parameters.
    pub request: AuthorizationRequest,
    /// Who asked.
    pub verifier: VerifierIdentity,
}

impl AuthorizationRequest {
    fn from_map(m: &Map<String, Value>) -> Result<Self> {
        let mut m = m.clone();
        // By value the query arrives as a JSON string parameter.
        for key in ["dcql_query", "client_metadata"] {
            if let Some(Value::String(s)) = m.get(key) {
                let parsed: Value = serde_json::from_str(s).map_err(|e| {
                    Error::malformed("authorization request", format!("{key} is not JSON: {e}"))
                })?;
                m.insert(key.into(), parsed);
            }
        }
        if m.contains_key("presentation_definition") {
            return Err(Error::UnsupportedFormat(
                "presentation_definition (Presentation Exchange): OpenID4VP 1.0 uses dcql_query"
                    .into(),
            ));
        }
        let req: AuthorizationRequest = serde_json::from_value(Value::Object(m))
            .map_err(|e| Error::malformed("authorization request", e.to_string()))?;
        if req.response_type != "vp_token" {
            return Err(Error::malformed(
                "authorization request",
                format!(
                    "response_type {:?} is not supported (vp_token)",
                    req.response_type
                ),
            ));
        }
        if req.nonce.is_empty() {
            return Err(Error::claim("nonce", "required and non-empty"));
        }
        req.dcql_query.validate()?;
        match req.response_mode.unwrap_or(ResponseMode::Fragment) {
            ResponseMode::DirectPost | ResponseMode::DirectPostJwt
                if req.response_uri.is_none() =>
            {
                return Err(Error::claim("response_uri", "required with direct_post"))
            }
            ResponseMode::DirectPost | ResponseMode::DirectPostJwt
                if req.redirect_uri.is_some() =>
            {
                return Err(Error::claim(
                    "redirect_uri",
                    "must not be present with direct_post",
                ))
            }
            _ => {}
        }
        Ok(req)
    }

    /// Where the response goes.
    pub fn response_target(&self) -> Option<&str> {
        self.response_uri
            .as_deref()
            .or(self.redirect_uri.as_deref())
    }

    /// Parse an unsigned request given by value (URL query parameters already
    /// decoded into a map, or JSON). Only `redirect_uri:` clients may send these.
    pub fn parse_by_value(params: &Map<String, Value>) -> Result<VerifiedRequest> {
        if params.contains_key("request") || params.contains_key("request_uri") {
            return Err(Error::malformed(
                "authorization request",
                "has a request object: use parse_request_object",
            ));
        }
        let request = Self::from_map(params)?;
        let prefix = ClientId::parse(&request.client_id)?;
        let ClientId::RedirectUri(uri) = &prefix else {
            return Err(Error::UntrustedIssuer(format!(
                "client_id {} must come in a signed request object",
                request.client_id
            )));
        };
        if request.response_target() != Some(uri.as_str()) {
            return Err(Error::claim(
                "response_uri",
                format!("must be the client_id's URI {uri:?} for a redirect_uri: client"),
            ));
        }
        Ok(VerifiedRequest {
            verifier: VerifierIdentity {
                client_id: request.client_id.clone(),
                prefix,
                authenticated: false,
                verified_name: None,
            },
            request,
        })
    }

    /// Parse and check a Request Object (the JWT passed as `request` or fetched from
    /// `request_uri`). `outer_client_id` is the `client_id` URL parameter, which must
    /// match. `x509_san_dns:` chains are checked against `trust`'s roots (the
    /// verifier trust list) at `now`; `decentralized_identifier:` keys resolve through
    /// `trust`'s DID resolver.
    pub fn parse_request_object(
        jwt: &str,
        outer_client_id: Option<&str>,
        trust: &TrustStore,
        now: i64,
        leeway: i64,
    ) -> Result<VerifiedRequest> {
        let jws = Jws::decode(jwt.trim())?;
        if jws.header_str("typ") != Some(REQUEST_OBJECT_TYP) {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: jws.header_str("typ").unwrap_or("(none)").into(),
                expected: REQUEST_OBJECT_TYP,
            });
        }
        let claims = jws.payload_json()?;
        let client_id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::claim("client_id", "required in the request object"))?;
        if let Some(outer) = outer_client_id {
            if outer != client_id {
                return Err(Error::claim(
                    "client_id",
                    format!("the request object says {client_id:?} but the URL says {outer:?}"),
                ));
            }
        }
        let prefix = ClientId::parse(client_id)?;
        let verified_name = match &prefix {
            ClientId::RedirectUri(_) => {
                return Err(Error::malformed(
                    "request object",
                    "a redirect_uri: client must not sign its request",
                ))
            }
            ClientId::X509SanDns(dns) => {
                let x5c = jws.header().get("x5c").ok_or_else(|| {
                    Error::malformed("request object", "x509_san_dns: needs an x5c header")
                })?;
                let key = trust.x5c_key(x5c, now, leeway)?;
                jws.verify(&key.key)?;
                let leaf = leaf_certificate(x5c)?;
                let names = dns_names(&leaf)?;
                if !names.iter().any(|n| n.eq_ignore_ascii_case(dns)) {
                    return Err(Error::UntrustedIssuer(format!(
                        "the request is signed by a certificate for {names:?}, not for {dns}"
                    )));
                }
                leaf.subject()
            }
            ClientId::DecentralizedIdentifier(did) => {
                let kid = jws.kid().ok_or_else(|| {
                    Error::malformed("request object", "decentralized_identifier: needs a kid")
                })?;
                let url = crate::did::DidUrl::parse(kid)?;
                if url.did != did {
                    return Err(Error::UntrustedIssuer(format!(
                        "kid {kid} is not a key of {did}"
                    )));
                }
                let key = trust
                    .dids()
                    .resolve_key(kid, crate::did::Relationship::Authentication)
                    .or_else(|_| {
                        trust
                            .dids()
                            .resolve_key(kid, crate::did::Relationship::AssertionMethod)
                    })?;
                jws.verify(&key)?;
                did.clone()
            }
        };
        if let Some(exp) = claims.get("exp").and_then(Value::as_i64) {
            if now > exp.saturating_add(leeway) {
                return Err(Error::Expired {
                    until: crate::datetime::format(exp),
                    at: crate::datetime::format(now),
                });
            }
        }
        let mut request = Self::from_map(&claims)?;
        request.client_id = client_id.to_string();
        if let ClientId::X509SanDns(dns) = &prefix {
            if let Some(target) = request.response_target() {
                let host = target
                    .strip_prefix("https://")
                    .and_then(|r| r.split(['/', '?', '#', ':']).next())
                    .unwrap_or_default();
                if !host.eq_ignore_ascii_case(dns) {
                    return Err(Error::claim(
                        "response_uri",
                        format!("{target:?} is not an https URI on {dns}"),
                    ));
                }
            }
        }
        Ok(VerifiedRequest {
            verifier: VerifierIdentity {
                client_id: client_id.to_string(),
                prefix,
                authenticated: true,
                verified_name: Some(verified_name),
            },
            request,
        })
    }

    /// Sign this request as a Request Object (verifier side). For `x509_san_dns:`
    /// give the certificate chain (leaf first) for `x5c`; for
    /// `decentralized_identifier:` give the DID URL of the key as `kid`.
    pub fn sign(
        &self,
        signer: &dyn Signer,
        x5c: Option<&[Certificate]>,
        kid: Option<&str>,
    ) -> Result<String> {
        use base64::Engine;
        let mut header = Map::new();
        header.insert("typ".into(), REQUEST_OBJECT_TYP.into());
        if let Some(chain) = x5c {
            header.insert(
                "x5c".into(),
                chain
                    .iter()
                    .map(|c| Value::from(base64::engine::general_purpose::STANDARD.encode(c.der())))
                    .collect::<Vec<_>>()
                    .into(),
            );
        }
        if let Some(kid) = kid {
            header.insert("kid".into(), kid.into());
        }
        let mut payload = serde_json::to_value(self)
            .map_err(|e| Error::malformed("authorization request", e.to_string()))?;
        if let Value::Object(m) = &mut payload {
            m.insert("aud".into(), "https://self-issued.me/v2".into());
        }
        jose::sign_compact(header, payload.to_string().as_bytes(), signer)
    }
}

fn leaf_certificate(x5c: &Value) -> Result<Certificate> {
    use base64::Engine;
    let first = x5c
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::malformed(
                "x5c header",
                "must be a non-empty array of base64 certificates",
            )
        })?;
    let der = base64::engine::general_purpose::STANDARD
        .decode(first)
        .map_err(|_| Error::InvalidBase64 {
            what: "x5c certificate",
        })?;
    Certificate::from_der(&der)
}

/// The dNSName entries of a certificate's subjectAltName.
pub fn dns_names(cert: &Certificate) -> Result<Vec<String>> {
    use x509_cert::der::Decode;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::SubjectAltName;
    let parsed = x509_cert::Certificate::from_der(cert.der())
        .map_err(|e| Error::malformed("X.509 certificate", e.to_string()))?;
    let mut out = Vec::new();
    for ext in parsed.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id.to_string() == "2.5.29.17" {
            let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|e| Error::malformed("subjectAltName", e.to_string()))?;
            for name in san.0 {
                if let GeneralName::DnsName(d) = name {
                    out.push(d.to_string());
                }
            }
        }
    }
    Ok(out)
}
