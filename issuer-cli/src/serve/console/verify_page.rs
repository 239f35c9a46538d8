//! `/verify`: a manual check of a pasted or uploaded credential against this issuer —
//! its keys (`did.json`), its IACA roots and its own status lists, all taken from the
//! running issuer engine, never fetched from URLs in the credential (no request is
//! made on a visitor's behalf). The page shows the outcome (valid, invalid, could not
//! check), why, and the status; it shows no claims, so a check never displays more
//! personal data than the person already holds.
//!
//! With `--verify-trust` the page checks against a signed trust bundle instead (its
//! keys, roots and status lists, offline: still no request on a visitor's behalf), and
//! the result names the bundle and its age.

use askama::Template;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use govcred::oid4vp::dcql::DcqlQuery;
use govcred::oid4vp::response::VerifierSession;
use govcred::platform::HttpRequest;
use govcred::report::{Outcome, VerificationReport};
use govcred::trust::TrustStore;
use govcred::{Clock, SystemClock};
use serde_json::{json, Value};

use super::pages::{err, html, FieldError, Layout};
use super::{auth, cookie_value, Shared};

/// Largest credential accepted.
const MAX_CREDENTIAL: usize = 64 * 1024;

/// What the result panel shows.
#[derive(Clone)]
pub struct Shown {
    outcome: &'static str,
    title: &'static str,
    summary: String,
    kind: String,
    issuer: String,
    status: String,
    /// What the check trusted: this issuer, or the named trust bundle and its age.
    trusted: String,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/verify.html")]
struct VerifyPage {
    l: Layout,
    errors: Vec<FieldError>,
    result: Option<Shown>,
    /// What checks trust (this service, or the `--verify-trust` bundle).
    trusted: String,
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
    let trusted = trusted(c, SystemClock.now());
    let mut r = html(&VerifyPage {
        l,
        errors,
        result,
        trusted,
    });
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

/// What the page trusts: the `--verify-trust` bundle's material, or this issuer's own.
fn page_trust(c: &Shared) -> TrustStore {
    match &c.verify_bundle {
        Some((_, b)) => b.trust.clone(),
        None => own_trust(c),
    }
}

/// Whether the `--verify-trust` bundle has expired since the server started, at `now`.
fn bundle_expired(c: &Shared, now: i64) -> Option<String> {
    let (name, b) = c.verify_bundle.as_ref()?;
    (now > b.info.expires_at + govcred::verifier::DEFAULT_LEEWAY_SECS).then(|| {
        format!(
            "The trust bundle {name} expired at {}: restart the service with a newer one",
            govcred::datetime::format(b.info.expires_at)
        )
    })
}

/// Verify `bytes` against the `--verify-trust` bundle if given (offline, its status
/// lists), else against this issuer, with its current status lists.
pub fn check(c: &Shared, bytes: &[u8]) -> VerificationReport {
    if let Some((_, b)) = &c.verify_bundle {
        return govcred::Verifier::from_bundle(b.clone()).verify(bytes);
    }
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

fn shown(c: &Shared, r: &VerificationReport) -> Shown {
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
        trusted: trusted(c, SystemClock.now()),
        reasons: r.errors.iter().map(|e| e.message.clone()).collect(),
    }
}

/// The "Checked against" line: this issuer, or the bundle, its age and expiry.
fn trusted(c: &Shared, now: i64) -> String {
    match &c.verify_bundle {
        Some((name, b)) => format!("Trust bundle {name}: {}", b.info.describe(now)),
        None => "This service’s own keys and status lists".into(),
    }
}

/// `shown`, unless the bundle has expired since start: then nothing can be checked.
fn shown_now(c: &Shared, r: &VerificationReport) -> Shown {
    let mut s = shown(c, r);
    if let Some(why) = bundle_expired(c, SystemClock.now()) {
        s.outcome = "could-not-check";
        s.title = "Could not check";
        s.summary =
            "Nothing is known to be wrong, but an essential check could not be made.".into();
        s.reasons.insert(0, why);
    }
    s
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
    let outcome = shown_now(&c, &report);
    let _ = c
        .audit(
            "verify_page_check",
            json!({"outcome": outcome.outcome, "format": report.format.as_str()}),
        )
        .await;
    form(&c, Vec::new(), Some(outcome), StatusCode::OK)
}

/// How long a wallet has to answer a request of the page, seconds.
const VP_TTL: i64 = 600;
/// Most requests open at once (older ones are dropped first).
const VP_MAX: usize = 1000;

/// An OpenID4VP request of the page and, once the wallet answered, the result.
pub struct VpSession {
    session: std::sync::Arc<VerifierSession>,
    created: i64,
    result: Option<(Shown, Vec<(String, String)>)>,
}

#[derive(Template)]
#[template(path = "console/verify_session.html")]
struct SessionPage {
    l: Layout,
    id: String,
    link: String,
    qr_png: String,
    asked: Vec<String>,
    result: Option<Shown>,
    claims: Vec<(String, String)>,
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

/// The claim paths the query asks for, dotted.
fn asked(query: &Value) -> Vec<String> {
    query["credentials"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["claims"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| {
            let path = c["path"].as_array()?;
            Some(
                path.iter()
                    .map(|p| {
                        p.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| p.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join("."),
            )
        })
        .collect()
}

/// `POST /verify/request`: a new cross-device request, then its page.
pub async fn start(
    State(c): State<Shared>,
    headers: axum::http::HeaderMap,
    axum::Form(f): axum::Form<CsrfOnly>,
) -> Response {
    let cookie = cookie_value(&headers, cookie_name(&c));
    match (&cookie, &f.csrf) {
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
    let Some(query) = c.query.clone() else {
        return form(
            &c,
            vec![err(
                "credential",
                "This service has no request configured for wallets",
            )],
            None,
            StatusCode::NOT_FOUND,
        );
    };
    let id = auth::random_token();
    let issuer = c
        .engine
        .config()
        .credential_issuer
        .trim_end_matches('/')
        .to_string();
    let response_uri = format!("{issuer}/verify/response/{id}");
    let session = DcqlQuery::from_json(&query).and_then(|q| {
        VerifierSession::new(&format!("redirect_uri:{response_uri}"), &response_uri, q)
    });
    let Ok(session) = session else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let now = SystemClock.now();
    if let Ok(mut all) = c.vp_sessions.lock() {
        all.retain(|_, s| now - s.created < VP_TTL);
        if all.len() >= VP_MAX {
            if let Some(oldest) = all
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| k.clone())
            {
                all.remove(&oldest);
            }
        }
        all.insert(
            id.clone(),
            VpSession {
                session: std::sync::Arc::new(session),
                created: now,
                result: None,
            },
        );
    }
    axum::response::Redirect::to(&format!("/verify/sessions/{id}")).into_response()
}

/// The by-value request link of `session`.
fn request_link(session: &VerifierSession) -> String {
    let v = serde_json::to_value(&session.request).unwrap_or_default();
    let mut pairs = Vec::new();
    for (k, v) in v.as_object().into_iter().flatten() {
        let text = match v {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        pairs.push(format!("{}={}", enc(k), enc(&text)));
    }
    format!("openid4vp://?{}", pairs.join("&"))
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /verify/sessions/{id}`: the QR code until the wallet answers, then the result.
pub async fn session(
    State(c): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let found = c.vp_sessions.lock().ok().and_then(|all| {
        all.get(&id).map(|s| {
            (
                s.session.clone(),
                s.result.as_ref().map(|(r, cl)| (r.clone(), cl.clone())),
            )
        })
    });
    let Some((session, result)) = found else {
        return form(
            &c,
            vec![err("credential", "That request has expired: start again")],
            None,
            StatusCode::NOT_FOUND,
        );
    };
    let link = request_link(&session);
    let qr_png = match crate::offer::qr(&link) {
        Ok((png, _)) => base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png),
        Err(_) => String::new(),
    };
    let (result, claims) = match result {
        Some((r, cl)) => (Some(r), cl),
        None => (None, Vec::new()),
    };
    html(&SessionPage {
        l: Layout::public(&c, "Check with a wallet"),
        id,
        link,
        qr_png,
        asked: c.query.as_ref().map(asked).unwrap_or_default(),
        result,
        claims,
    })
}

/// Flatten `v` into dotted paths and display values.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out);
            }
        }
        Value::String(s) => out.push((prefix.into(), s.clone())),
        other => out.push((prefix.into(), other.to_string())),
    }
}

/// `POST /verify/response/{id}`: the wallet's `direct_post`.
pub async fn response(
    State(c): State<Shared>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Response {
    let session = c.vp_sessions.lock().ok().and_then(|all| {
        all.get(&id)
            .filter(|s| s.result.is_none())
            .map(|s| s.session.clone())
    });
    let Some(session) = session else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "invalid_request", "error_description": "unknown or answered request"}))).into_response();
    };
    let c2 = c.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let now = SystemClock.now();
        let mut trust = page_trust(&c2);
        let mut results = session.check_post_body(
            &fields,
            &trust,
            now,
            govcred::verifier::DEFAULT_LEEWAY_SECS,
            None,
        )?;
        let issuer = c2
            .engine
            .config()
            .credential_issuer
            .trim_end_matches('/')
            .to_string();
        let unknown = results
            .iter()
            .filter_map(|r| r.report.status.as_ref())
            .find(|s| s.state == "unknown")
            .and_then(|s| s.list_uri.strip_prefix(&issuer).map(str::to_string));
        // A bundle is used offline: its status lists only.
        if let Some(path) = unknown.filter(|_| c2.verify_bundle.is_none()) {
            let list = c2.engine.handle(&HttpRequest::get(path, 0));
            if list.status == 200 {
                if let Ok(text) = String::from_utf8(list.body) {
                    if trust
                        .add_status_list(text.trim(), govcred::verifier::DEFAULT_LEEWAY_SECS)
                        .is_ok()
                    {
                        results = session.check_post_body(
                            &fields,
                            &trust,
                            now,
                            govcred::verifier::DEFAULT_LEEWAY_SECS,
                            None,
                        )?;
                    }
                }
            }
        }
        Ok::<_, govcred::Error>(results)
    })
    .await;
    let asked = c.query.as_ref().map(asked).unwrap_or_default();
    let (result, status) = match checked {
        Ok(Ok(results)) if !results.is_empty() => {
            let r = &match &c.verify_bundle {
                Some((_, b)) => results[0].report.clone().with_trust_bundle(&b.info),
                None => results[0].report.clone(),
            };
            let mut all = Vec::new();
            flatten("", &r.claims.to_value(), &mut all);
            // Only what was asked for, even if the wallet disclosed more.
            let claims = all
                .into_iter()
                .filter(|(p, _)| asked.iter().any(|a| a == p))
                .collect();
            ((shown_now(&c, r), claims), StatusCode::OK)
        }
        Ok(Ok(_)) => (
            (refused(&c, "The wallet sent no credential"), Vec::new()),
            StatusCode::BAD_REQUEST,
        ),
        Ok(Err(e)) => (
            (refused(&c, &e.to_string()), Vec::new()),
            StatusCode::BAD_REQUEST,
        ),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let outcome = result.0.outcome;
    if let Ok(mut all) = c.vp_sessions.lock() {
        if let Some(s) = all.get_mut(&id) {
            s.result = Some(result);
        }
    }
    let _ = c
        .audit("verify_page_presentation", json!({"outcome": outcome}))
        .await;
    if status == StatusCode::OK {
        (status, axum::Json(json!({}))).into_response()
    } else {
        (status, axum::Json(json!({"error": "invalid_request", "error_description": "the presentation was refused"}))).into_response()
    }
}

fn refused(c: &Shared, reason: &str) -> Shown {
    Shown {
        outcome: "invalid",
        title: "Not valid",
        summary: "The wallet’s answer was refused.".into(),
        kind: "Unknown".into(),
        issuer: "Unknown".into(),
        status: "Not checked".into(),
        trusted: trusted(c, SystemClock.now()),
        reasons: vec![reason.to_string()],
    }
}
