//! `govcred wallet present`: answer a cross-device OpenID4VP request (a by-value
//! `openid4vp://?…` link, as a verifier's QR code carries) with a saved SD-JWT VC —
//! the core's request checks, DCQL matching and response (only the asked claims, a Key
//! Binding JWT bound to the verifier's `client_id` and `nonce`), posted to the
//! verifier's `response_uri` (`direct_post`, or `direct_post.jwt` encrypted to it).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use govcred::oid4vp::dcql::{match_query, Candidate};
use govcred::oid4vp::request::AuthorizationRequest;
use govcred::oid4vp::response::respond_sd_jwt;
use govcred::platform::{HttpClient, HttpRequest};
use govcred::{Clock, SystemClock};
use serde_json::{json, Map, Value};

use crate::{files, CliError, CliResult};

#[derive(Args)]
pub struct PresentArgs {
    /// The request link (`openid4vp://?client_id=…&dcql_query=…`), by value.
    request: String,
    /// The credential to present (an SD-JWT VC, as `wallet receive --out` saves it).
    #[arg(long)]
    credential: PathBuf,
    /// The holder key the credential is bound to (`wallet receive --out` saves holder.jwk).
    #[arg(long)]
    holder_key: PathBuf,
}

fn percent_decode(s: &str) -> Result<String, CliError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| CliError::input("the request link has a bad %-escape"))?;
                out.push(hex);
                i += 3;
            }
            b'%' => return Err(CliError::input("the request link has a bad %-escape")),
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| CliError::input("the request link is not UTF-8"))
}

/// The query parameters of `link` as a JSON map.
fn params(link: &str) -> Result<Map<String, Value>, CliError> {
    let query = link
        .split_once('?')
        .map(|(_, q)| q)
        .ok_or_else(|| CliError::input("the request link has no query parameters"))?;
    let mut m = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.insert(percent_decode(k)?, Value::String(percent_decode(v)?));
    }
    Ok(m)
}

fn form_encode(fields: &[(String, String)]) -> String {
    let e = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", e(k), e(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn run(a: PresentArgs) -> CliResult {
    let verified = AuthorizationRequest::parse_by_value(&params(&a.request)?)?;
    let credential = files::read_text(&a.credential)?;
    let credential = credential.trim();
    let holder = files::read_signing_key(&a.holder_key)?;
    let candidates = [Candidate::from_sd_jwt("credential", credential)?];
    let matched = match_query(&verified.request.dcql_query, &candidates)?;
    if !matched.missing.is_empty() {
        return Err(CliError::input(format!(
            "the credential cannot answer this request: {}",
            matched.missing.join("; ")
        )));
    }
    let mut chosen = Vec::new();
    for q in &matched.queries {
        if let Some(m) = q.candidates.first() {
            chosen.push((q.query_id.as_str(), m, credential));
        }
    }
    let response = respond_sd_jwt(&verified, &chosen, &holder, SystemClock.now())?;
    let body = response.to_post_body(&verified.request)?;
    let target = verified
        .request
        .response_target()
        .ok_or_else(|| CliError::input("the request names no response_uri"))?
        .to_string();
    govcred::oid4vci::check_url(&target, "response_uri")?;
    let http = crate::http::ReqwestHttp::new()?;
    let answer = http.send(&HttpRequest::post(
        target.clone(),
        "application/x-www-form-urlencoded",
        form_encode(&body).into_bytes(),
        64 * 1024,
    ))?;
    let disclosed: Vec<Vec<String>> = chosen.iter().map(|(_, m, _)| m.dotted_paths()).collect();
    files::print_json(&json!({
        "verifier": verified.verifier.client_id,
        "response_uri": target,
        "disclosed": disclosed,
        "verifier_status": answer.status,
    }));
    Ok(if (200..300).contains(&answer.status) {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "govcred: the verifier answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        ExitCode::from(1)
    })
}
