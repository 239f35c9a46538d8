//! OpenID for Verifiable Presentations 1.0 with DCQL, both sides.
//!
//! - [`request`]: parse and check authorization requests — by value
//!   (`redirect_uri:` clients) or as a signed Request Object (`oauth-authz-req+jwt`,
//!   `x509_san_dns:` with an `x5c` chain to the wallet's verifier trust list and a
//!   matching SAN dNSName, `decentralized_identifier:` with a DID key).
//! - [`dcql`]: the query model and a matcher over the wallet's credentials (SD-JWT VC
//!   claim paths, mdoc namespace/element).
//! - [`consent`]: what the app shows before anything is released.
//! - [`response`]: the `vp_token` (SD-JWT VC with only the asked claims and a Key
//!   Binding JWT bound to `client_id` and `nonce`; mdoc DeviceResponse over the
//!   OpenID4VP SessionTranscript), `direct_post` form fields or a `direct_post.jwt`
//!   JWE (ECDH-ES P-256 + A128GCM/A256GCM, [`crate::jwe`]) to the verifier's key, and
//!   the verifier's checks ([`response::VerifierSession::new_encrypted`] for
//!   encrypted responses).
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, format::sd_jwt::{self, SdJwtDraft}, Signer, trust::TrustStore};
//! use govcred::oid4vp::{dcql::{Candidate, DcqlQuery}, request::AuthorizationRequest,
//!                       response::{self, AuthorizationResponse, VerifierSession}, consent::Consent};
//! let (issuer, holder) = (SoftwareKey::generate(Alg::ES256).unwrap(), SoftwareKey::generate(Alg::ES256).unwrap());
//! let mut draft = SdJwtDraft::new("https://issuer.example", "urn:example:pid");
//! draft.claims = serde_json::json!({"given_name": "Sarah", "age_over_18": true}).as_object().unwrap().clone();
//! draft.disclosable = vec!["given_name".into(), "age_over_18".into()];
//! draft.holder_key = Some(holder.public_jwk());
//! let issued = sd_jwt::issue(&draft, None, &issuer, 1_800_000_000).unwrap();
//!
//! // Verifier: a request for age_over_18 only.
//! let query = DcqlQuery::from_json(&serde_json::json!({"credentials": [{"id": "pid", "format": "dc+sd-jwt",
//!     "meta": {"vct_values": ["urn:example:pid"]}, "claims": [{"path": ["age_over_18"]}]}]})).unwrap();
//! let session = VerifierSession::new("redirect_uri:https://rp.example/cb", "https://rp.example/cb", query).unwrap();
//! let params = serde_json::to_value(&session.request).unwrap();
//!
//! // Wallet: check, match, show consent, answer.
//! let verified = AuthorizationRequest::parse_by_value(params.as_object().unwrap()).unwrap();
//! let wallet = [Candidate::from_sd_jwt("card-1", &issued).unwrap()];
//! let consent = Consent::new(&verified, &wallet).unwrap();
//! assert!(consent.satisfiable);
//! let m = &consent.queries[0].matches[0];
//! let resp = response::respond_sd_jwt(&verified, &[("pid", m, issued.as_str())], &holder, 1_800_000_100).unwrap();
//!
//! // Verifier: check what came back.
//! let mut trust = TrustStore::new();
//! trust.add_jwk(&issuer.public_jwk()).unwrap();
//! let back = AuthorizationResponse::from_form(&resp.to_form()).unwrap();
//! let results = session.check(&back, &trust, 1_800_000_100, 60, None).unwrap();
//! assert!(results[0].report.valid);
//! assert_eq!(results[0].report.claims.to_value()["age_over_18"], true);
//! assert!(results[0].report.claims.to_value().get("given_name").is_none());
//! ```

pub mod consent;
pub mod dcql;
pub mod request;
pub mod response;
