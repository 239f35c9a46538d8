//! The console's JSON API for case systems, described by the hand-written OpenAPI 3.1
//! document [`OPENAPI`] served at `/openapi.json` (kept next to the routes it
//! describes; a unit test checks every route is in it).
//!
//! Authentication: `Authorization: Bearer TOKEN` (made by `govcred console add-token`,
//! acting with the account's role), or the console session cookie with the session's
//! CSRF token in `X-CSRF-Token` on every POST. The same permissions, the same audit.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use govcred::datetime;
use govcred::status::Status;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self, Permission, Role};
use super::pages::{self, Fail, Staff, Standing};
use super::{store, Shared};

/// The OpenAPI document of the routes below.
pub const OPENAPI: &str = include_str!("openapi.json");

fn problem(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn fail(f: Fail) -> Response {
    match f {
        Fail::SignIn => {
            let mut r = problem(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token or a console session is required",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            r
        }
        Fail::Forbidden => problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the account's role does not allow this",
        ),
        Fail::Csrf => problem(
            StatusCode::FORBIDDEN,
            "csrf",
            "a session's POST needs its CSRF token in X-CSRF-Token",
        ),
        Fail::NotFound => problem(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such credential or configuration",
        ),
        Fail::BadRequest(m) => problem(StatusCode::BAD_REQUEST, "invalid_request", &m),
        Fail::Internal => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "try again later",
        ),
    }
}

/// The caller, if their role has `p`; a session's POST must carry its CSRF token.
async fn caller(c: &Shared, headers: &HeaderMap, p: Permission, post: bool) -> Result<Staff, Fail> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let s = if let Some(token) = bearer {
        let hash = auth::token_hash(token.trim());
        let user =
            c.db.call(move |conn| store::api_token_user(conn, &hash))
                .await?
                .ok_or(Fail::SignIn)?;
        Staff {
            role: Role::parse(&user.role).map_err(|_| Fail::Forbidden)?,
            name: user.name,
            csrf: String::new(),
        }
    } else {
        let s = pages::staff(c, headers).await?;
        if post {
            let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
            match sent {
                Some(t) if auth::ct_eq(t.as_bytes(), s.csrf.as_bytes()) => {}
                _ => return Err(Fail::Csrf),
            }
        }
        s
    };
    if p.allows(s.role) {
        Ok(s)
    } else {
        Err(Fail::Forbidden)
    }
}

/// `GET /openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn describe(c: &Shared, reference: &str) -> Result<Value, Fail> {
    let r = reference.to_string();
    let cred =
        c.db.call(move |conn| store::credential(conn, &r))
            .await?
            .ok_or(Fail::NotFound)?;
    let r = reference.to_string();
    let events = c.db.call(move |conn| store::events(conn, &r)).await?;
    let (state, list, collected) = match pages::standing(c, &cred).await? {
        Standing::Withdrawn => ("withdrawn", None, None),
        Standing::Pending => ("offered", None, None),
        Standing::Expired => ("expired", None, None),
        Standing::Issued { at, list, status } => (
            match status {
                Some(Status::Valid) => "valid",
                Some(Status::Invalid) => "revoked",
                Some(Status::Suspended) => "suspended",
                Some(Status::Other(_)) => "unknown",
                None if list.is_none() => "issued",
                None => "unknown",
            },
            list,
            Some(datetime::format(at)),
        ),
    };
    Ok(json!({
        "reference": cred.reference,
        "configuration_id": cred.configuration_id,
        "state": state,
        "status_list": list.map(|(uri, idx)| json!({"uri": uri, "index": idx})),
        "created_at": datetime::format(cred.created_at),
        "created_by": cred.created_by,
        "offer_expires_at": datetime::format(cred.expires_at),
        "collected_at": collected,
        "history": events.iter().map(|e| json!({"at": datetime::format(e.at), "user": e.user, "action": e.action, "reason": e.reason})).collect::<Vec<_>>(),
    }))
}

/// `GET /console/api/credentials/{reference}`.
pub async fn get_credential(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> Response {
    let r = async {
        caller(&c, &headers, Permission::Read, false).await?;
        describe(&c, &reference).await
    }
    .await;
    match r {
        Ok(v) => Json(v).into_response(),
        Err(f) => fail(f),
    }
}

/// The body of `POST /console/api/credentials`.
#[derive(Deserialize)]
pub struct IssueBody {
    configuration_id: String,
    claims: Value,
    holder_name: String,
}

/// `POST /console/api/credentials`: create an offer; answers the reference and the
/// offer link (for the case system's own letter).
pub async fn issue(
    State(c): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let r = async {
        let s = caller(&c, &headers, Permission::Issue, true).await?;
        let b: IssueBody = serde_json::from_slice(&body).map_err(|e| {
            Fail::BadRequest(format!(
                "the body must be {{configuration_id, claims, holder_name}}: {e}"
            ))
        })?;
        pages::known_configuration(&c, &b.configuration_id)?;
        if !b.claims.is_object() {
            return Err(Fail::BadRequest("claims must be a JSON object".into()));
        }
        if b.holder_name.trim().is_empty() || b.holder_name.chars().count() > 200 {
            return Err(Fail::BadRequest(
                "holder_name must have 1 to 200 characters".into(),
            ));
        }
        let reference =
            pages::offer(&c, &s.name, b.configuration_id, b.claims, b.holder_name).await?;
        let r = reference.clone();
        let cred =
            c.db.call(move |conn| store::credential(conn, &r))
                .await?
                .ok_or(Fail::Internal)?;
        Ok(json!({
            "reference": reference,
            "offer_link": cred.link,
            "offer_expires_at": datetime::format(cred.expires_at),
            "letter": format!("/console/credentials/{reference}/letter"),
        }))
    }
    .await;
    match r {
        Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
        Err(f) => fail(f),
    }
}

/// The body of `POST /console/api/credentials/{reference}/status`.
#[derive(Deserialize)]
pub struct StatusBody {
    action: String,
    reason: String,
}

/// `POST /console/api/credentials/{reference}/status`.
pub async fn change_status(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let r = async {
        let s = caller(&c, &headers, Permission::ChangeStatus, true).await?;
        let b: StatusBody = serde_json::from_slice(&body)
            .map_err(|e| Fail::BadRequest(format!("the body must be {{action, reason}}: {e}")))?;
        let reason = b.reason.trim();
        if let Some(e) = pages::check_status_request(&b.action, reason).first() {
            return Err(Fail::BadRequest(e.message.clone()));
        }
        match pages::apply_status(&c, &s.name, &reference, &b.action, reason).await? {
            Ok(()) => Ok(Ok(describe(&c, &reference).await?)),
            Err(conflict) => Ok(Err(conflict)),
        }
    }
    .await;
    match r {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(conflict)) => problem(StatusCode::CONFLICT, "conflict", &conflict),
        Err(f) => fail(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every API route (as `console::router` mounts it) is in the OpenAPI document.
    #[test]
    fn openapi_describes_every_route() {
        let doc: Value = serde_json::from_str(OPENAPI).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        for (method, path) in [
            ("get", "/console/api/credentials/{reference}"),
            ("post", "/console/api/credentials"),
            ("post", "/console/api/credentials/{reference}/status"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        assert_eq!(doc["paths"].as_object().unwrap().len(), 3);
    }
}
