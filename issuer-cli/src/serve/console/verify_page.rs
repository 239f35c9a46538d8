//! `/verify`: a manual check of a pasted or uploaded credential against this issuer —
//! its keys (`did.json`), its IACA roots and its own status lists, all taken from the
//! running issuer engine, never fetched from URLs in the credential (no request is
//! made on a visitor's behalf). The page shows the outcome (valid, invalid, could not
//! check), why, and the status; it shows no claims, so a check never displays more
//! personal data than the person already holds.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use govcred::platform::HttpRequest;
use govcred::report::{Outcome, VerificationReport};
use govcred::trust::TrustStore;
use serde_json::json;

use super::pages::{err, html, FieldError, Layout};
use super::{auth, cookie_value, Shared};

/// Largest credential accepted.
const MAX_CREDENTIAL: usize = 64 * 1024;

/// What the result panel shows.
pub struct Shown {
    outcome: &'static str,
    title: &'static str,
    summary: String,
    kind: String,
    issuer: String,
    status: String,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/verify.html")]
struct VerifyPage {
    l: Layout,
    errors: Vec<FieldError>,
    result: Option<Shown>,
}

fn cookie_name(c: &Shared) -> &'static str {
    if c.secure_cookies {
        "__Host-govcred-verify"
    } else {
        "govcred-verify"
    }
}

fn form(
    c: &Shared,
    errors: Vec<FieldError>,
    result: Option<Shown>,
    status: StatusCode,
) -> Response {
    let token = auth::random_token();
    let mut l = Layout::public(c, "Check a credential");
    l.csrf = token.clone();
    l.has_errors = !errors.is_empty();
    let mut r = html(&VerifyPage { l, errors, result });
    *r.status_mut() = status;
    r.headers_mut()
        .append(header::SET_COOKIE, c.cookie(cookie_name(c), &token, 3600));
    r
}

/// `GET /verify`.
pub async fn page(State(c): State<Shared>) -> Response {
    form(&c, Vec::new(), None, StatusCode::OK)
}

/// The issuer's own trust: its DID document and IACA roots.
fn own_trust(c: &Shared) -> TrustStore {
    let mut trust = TrustStore::new();
    let did = c
        .engine
        .handle(&HttpRequest::get("/.well-known/did.json", 0));
    if did.status == 200 {
        if let Ok(doc) = serde_json::from_slice(&did.body) {
            let _ = trust.add_did_document(&doc);
        }
    }
    let iacas = c.engine.handle(&HttpRequest::get("/iacas", 0));
    if iacas.status == 200 {
        let _ = govcred::oid4vci::client::add_iacas(&mut trust, &iacas.body);
    }
    trust
}

/// Verify `bytes` against this issuer, with its current status lists.
pub fn check(c: &Shared, bytes: &[u8]) -> VerificationReport {
    let mut trust = own_trust(c);
    let verifier = |t: TrustStore| govcred::Verifier::new(t);
    let mut report = verifier(trust.clone()).verify(bytes);
    let issuer = c
        .engine
        .config()
        .credential_issuer
        .trim_end_matches('/')
        .to_string();
    if let Some(s) = report.status.clone().filter(|s| s.state == "unknown") {
        if let Some(path) = s.list_uri.strip_prefix(&issuer) {
            let list = c.engine.handle(&HttpRequest::get(path, 0));
            if list.status == 200 {
                if let Ok(text) = String::from_utf8(list.body) {
                    if trust
                        .add_status_list(text.trim(), govcred::verifier::DEFAULT_LEEWAY_SECS)
                        .is_ok()
                    {
                        report = verifier(trust).verify(bytes);
                    }
                }
            }
        }
    }
    report
}

fn shown(r: &VerificationReport) -> Shown {
    let (outcome, title, summary) = match r.outcome {
        Outcome::Valid => (
            "valid",
            "Valid",
            "The credential is genuine, in date and not revoked or suspended.",
        ),
        Outcome::Invalid => ("invalid", "Not valid", "Do not accept this credential."),
        Outcome::CouldNotCheck => (
            "could-not-check",
            "Could not check",
            "Nothing is known to be wrong, but an essential check could not be made.",
        ),
    };
    let status = match r.status.as_ref().map(|s| s.state.as_str()) {
        Some("valid") => "Not revoked or suspended".to_string(),
        Some("invalid") => "Revoked".to_string(),
        Some("suspended") => "Suspended".to_string(),
        Some(other) => format!("Unknown ({other})"),
        None => "No status list".to_string(),
    };
    Shown {
        outcome,
        title,
        summary: summary.into(),
        kind: if r.types.is_empty() {
            r.format.as_str().to_string()
        } else {
            format!("{} ({})", r.types.join(", "), r.format.as_str())
        },
        issuer: r.issuer.clone().unwrap_or_else(|| "Unknown".into()),
        status,
        reasons: r.errors.iter().map(|e| e.message.clone()).collect(),
    }
}

/// `POST /verify`: check the pasted text or the uploaded file.
pub async fn submit(State(c): State<Shared>, req: Request) -> Response {
    let cookie = cookie_value(req.headers(), cookie_name(&c));
    let mut multipart = match Multipart::from_request(req, &()).await {
        Ok(m) => m,
        Err(_) => {
            return form(
                &c,
                vec![err("credential", "The form could not be read")],
                None,
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let (mut csrf, mut text, mut file) = (None, Vec::new(), Vec::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                let Ok(bytes) = f.bytes().await else {
                    return form(
                        &c,
                        vec![err("file", "The file must be 64 KB or smaller")],
                        None,
                        StatusCode::BAD_REQUEST,
                    );
                };
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "credential" => text = bytes.to_vec(),
                    "file" => file = bytes.to_vec(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => {
                return form(
                    &c,
                    vec![err("file", "The file must be 64 KB or smaller")],
                    None,
                    StatusCode::BAD_REQUEST,
                )
            }
        }
    }
    match (&cookie, &csrf) {
        (Some(a), Some(b)) if auth::ct_eq(a.as_bytes(), b.as_bytes()) => {}
        _ => {
            return form(
                &c,
                vec![err("credential", "The form has expired: try again")],
                None,
                StatusCode::FORBIDDEN,
            )
        }
    }
    let input = if text.iter().any(|b| !b.is_ascii_whitespace()) {
        text
    } else {
        file
    };
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return form(
            &c,
            vec![err("credential", "Paste a credential or choose its file")],
            None,
            StatusCode::BAD_REQUEST,
        );
    }
    if input.len() > MAX_CREDENTIAL {
        return form(
            &c,
            vec![err("credential", "The credential must be 64 KB or smaller")],
            None,
            StatusCode::BAD_REQUEST,
        );
    }
    let bytes = crate::verify::binary_or_text(input);
    let c2 = c.clone();
    let report = match tokio::task::spawn_blocking(move || check(&c2, &bytes)).await {
        Ok(r) => r,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let outcome = shown(&report);
    let _ = c
        .audit(
            "verify_page_check",
            json!({"outcome": outcome.outcome, "format": report.format.as_str()}),
        )
        .await;
    form(&c, Vec::new(), Some(outcome), StatusCode::OK)
}
