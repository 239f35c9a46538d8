//! OpenID4VP with an mdoc (issue "presenting and verifying offline"): a DCQL query for
//! `mso_mdoc`, matched against a held mDL, answered with a DeviceResponse signed over
//! the OpenID4VP SessionTranscript (1.0 Appendix B.2.6.1), checked by the verifier
//! session with the mdoc verifier — and refused when made for another request.

use govcred::format::mdoc::{self, VerifyOptions};
use govcred::oid4vp::consent::Consent;
use govcred::oid4vp::dcql::{Candidate, DcqlQuery};
use govcred::oid4vp::request::AuthorizationRequest;
use govcred::oid4vp::response::{
    mdoc_session_transcript, AuthorizationResponse, MdocVerifier, VerifierSession,
};
use govcred::trust::TrustStore;
use govcred::ErrorCode;
use serde_json::{json, Value};

const NOW: i64 = 1_772_323_200;
const NS: &str = "org.iso.18013.5.1";
const MDL: &str = "org.iso.18013.5.1.mDL";
const CB: &str = "https://rp.example/cb";

mod common;
use common::MdlHolder;

fn world() -> MdlHolder {
    common::mdl_holder(
        NOW,
        json!({"family_name": "Edwards", "birth_date": "1985-10-18", "age_over_18": true}),
    )
}

fn session() -> VerifierSession {
    let q = DcqlQuery::from_json(&json!({"credentials": [{
        "id": "mdl", "format": "mso_mdoc", "meta": {"doctype_value": MDL},
        "claims": [{"path": [NS, "age_over_18"]}]
    }]}))
    .unwrap();
    VerifierSession::new(&format!("redirect_uri:{CB}"), CB, q).unwrap()
}

/// The wallet side: parse the request, match, build the DeviceResponse over the
/// OpenID4VP transcript of *this* request.
fn answer(w: &MdlHolder, s: &VerifierSession) -> AuthorizationResponse {
    let mut params = serde_json::to_value(&s.request).unwrap();
    params["dcql_query"] = Value::String(params["dcql_query"].to_string());
    let verified = AuthorizationRequest::parse_by_value(params.as_object().unwrap()).unwrap();
    let held = mdoc::parse(&w.issuer_signed).unwrap();
    let items: Vec<(&str, &str, Value)> = held
        .name_spaces
        .iter()
        .flat_map(|(ns, items)| {
            items.iter().map(move |i| {
                (
                    ns.as_str(),
                    i.element_identifier.as_str(),
                    i.element_value.clone(),
                )
            })
        })
        .collect();
    let consent = Consent::new(&verified, &[Candidate::mdoc("mdl-1", MDL, &items)]).unwrap();
    assert!(consent.satisfiable, "{consent:?}");
    let m = &consent.queries[0].matches[0];
    assert_eq!(
        m.disclose,
        vec![vec![NS.to_string(), "age_over_18".to_string()]]
    );
    let disclose: Vec<(&str, &str)> = m
        .disclose
        .iter()
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let r = &verified.request;
    let transcript = mdoc_session_transcript(
        &r.client_id,
        &r.nonce,
        None,
        r.response_uri.as_deref().unwrap(),
    );
    let device_response =
        mdoc::present(&w.issuer_signed, &disclose, &transcript.clone(), &w.device).unwrap();
    let mut resp = AuthorizationResponse::new(r);
    resp.add_mdoc("mdl", &device_response);
    AuthorizationResponse::from_form(&resp.to_form()).unwrap()
}

fn mdoc_verifier(trust: &TrustStore) -> Box<MdocVerifier> {
    let trust = trust.clone();
    Box::new(move |bytes, transcript| {
        let t = transcript.clone();
        mdoc::verify_with(
            bytes,
            &trust,
            NOW + 60,
            60,
            &VerifyOptions::with_transcript(t),
        )
    })
}

#[test]
fn mdoc_round_trip_over_the_openid4vp_transcript() {
    let w = world();
    let s = session();
    let resp = answer(&w, &s);
    let results = s
        .check(
            &resp,
            &w.trust,
            NOW + 60,
            60,
            Some(mdoc_verifier(&w.trust).as_ref()),
        )
        .unwrap();
    let r = &results[0].report;
    assert!(r.valid, "{}", r.to_json_pretty());
    assert_eq!(r.claims.to_value(), json!({NS: {"age_over_18": true}}));
}

#[test]
fn a_device_response_made_for_another_request_is_refused() {
    let w = world();
    let (first, second) = (session(), session());
    let mut resp = answer(&w, &first);
    // Replayed to the second verifier session (other nonce): state differs, and even
    // with the state rewritten the device signature is over the first transcript.
    resp.state = second.request.state.clone();
    let outcome = second.check(
        &resp,
        &w.trust,
        NOW + 60,
        60,
        Some(mdoc_verifier(&w.trust).as_ref()),
    );
    match outcome {
        Err(e) => panic!("expected a report, got {e}"),
        Ok(results) => {
            let r = &results[0].report;
            assert!(!r.valid);
            assert_eq!(
                r.errors[0].code,
                ErrorCode::SignatureInvalid,
                "{}",
                r.to_json_pretty()
            );
        }
    }
}
