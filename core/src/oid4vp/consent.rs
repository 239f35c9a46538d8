//! Consent data: what is asked, by whom, and what in the wallet can answer — a
//! structure the app renders on its consent screen before releasing anything. Used
//! for OpenID4VP requests and for ISO 18013-5 proximity requests alike.

use serde::{Deserialize, Serialize};

use super::dcql::{self, Candidate, CandidateMatch, ClaimsQuery, CredentialQuery, DcqlQuery, Meta};
use super::request::VerifiedRequest;
use crate::error::Result;
use crate::proximity::ReceivedRequest;

/// Who is asking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    /// The identifier it gave (OpenID4VP `client_id`; for proximity, the reader
    /// certificate subject or "unauthenticated reader").
    pub id: String,
    /// Whether its identity was checked (signed request / reader authentication).
    pub authenticated: bool,
    /// The name that check established, if any.
    pub verified_name: Option<String>,
    /// Why authentication failed, if it was attempted and failed.
    pub authentication_error: Option<String>,
}

/// One requested credential.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryConsent {
    /// The query id (the doctype for proximity).
    pub query_id: String,
    /// Format.
    pub format: String,
    /// Accepted credential types.
    pub types: Vec<String>,
    /// The claims asked for, for people (`address.locality`, `org.iso.18013.5.1/age_over_18`).
    pub claims: Vec<String>,
    /// Claims the verifier says it will retain (mdoc intent to retain).
    pub retained: Vec<String>,
    /// Whether this credential must be given for the request to succeed.
    pub required: bool,
    /// The stored credentials that can answer, with what each would disclose.
    pub matches: Vec<CandidateMatch>,
}

/// The consent screen's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Who asks.
    pub requester: Requester,
    /// What is asked.
    pub queries: Vec<QueryConsent>,
    /// What the wallet cannot provide.
    pub missing: Vec<String>,
    /// Whether the request can be answered.
    pub satisfiable: bool,
}

fn build(requester: Requester, query: &DcqlQuery, candidates: &[Candidate]) -> Result<Consent> {
    let m = dcql::match_query(query, candidates)?;
    let queries = query
        .credentials
        .iter()
        .map(|q| QueryConsent {
            query_id: q.id.clone(),
            format: q.format.clone(),
            types: q
                .meta
                .as_ref()
                .map(|m| {
                    m.vct_values
                        .clone()
                        .or_else(|| m.doctype_value.clone().map(|d| vec![d]))
                        .unwrap_or_default()
                })
                .unwrap_or_default(),
            claims: q
                .claims
                .iter()
                .flatten()
                .map(|c| c.display(&q.format))
                .collect(),
            retained: q
                .claims
                .iter()
                .flatten()
                .filter(|c| c.intent_to_retain == Some(true))
                .map(|c| c.display(&q.format))
                .collect(),
            required: m.required.contains(&q.id),
            matches: m
                .query(&q.id)
                .map(|x| x.candidates.clone())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Consent {
        requester,
        queries,
        satisfiable: m.satisfiable(),
        missing: m.missing,
    })
}

impl Consent {
    /// Consent data for a checked OpenID4VP request against the wallet's credentials.
    pub fn new(request: &VerifiedRequest, candidates: &[Candidate]) -> Result<Self> {
        let v = &request.verifier;
        build(
            Requester {
                id: v.client_id.clone(),
                authenticated: v.authenticated,
                verified_name: v.verified_name.clone(),
                authentication_error: None,
            },
            &request.request.dcql_query,
            candidates,
        )
    }

    /// Consent data for an ISO 18013-5 DeviceRequest received in a proximity session
    /// (each DocRequest becomes an `mso_mdoc` query for its doctype and elements).
    pub fn for_proximity(received: &ReceivedRequest, candidates: &[Candidate]) -> Result<Self> {
        let mut requester = Requester {
            id: "unauthenticated reader".into(),
            authenticated: false,
            verified_name: None,
            authentication_error: None,
        };
        let mut credentials = Vec::new();
        for (i, doc) in received.request.doc_requests.iter().enumerate() {
            match received.readers.get(i).cloned().flatten() {
                Some(Ok(who)) => {
                    requester.id = who.subject.clone();
                    requester.authenticated = true;
                    requester.verified_name = Some(who.subject);
                }
                Some(Err(e)) => requester.authentication_error = Some(e.message),
                None => {}
            }
            let items = &doc.items_request;
            let claims = items
                .name_spaces
                .iter()
                .flat_map(|(ns, els)| {
                    els.iter().map(move |(el, retain)| ClaimsQuery {
                        id: None,
                        path: Some(vec![ns.clone().into(), el.clone().into()]),
                        namespace: None,
                        claim_name: None,
                        values: None,
                        intent_to_retain: Some(*retain),
                    })
                })
                .collect::<Vec<_>>();
            credentials.push(CredentialQuery {
                id: format!("doc{i}"),
                format: dcql::FORMAT_MSO_MDOC.into(),
                multiple: false,
                meta: Some(Meta {
                    vct_values: None,
                    doctype_value: Some(items.doc_type.clone()),
                }),
                claims: (!claims.is_empty()).then_some(claims),
                claim_sets: None,
            });
        }
        build(
            requester,
            &DcqlQuery {
                credentials,
                credential_sets: None,
            },
            candidates,
        )
    }
}
