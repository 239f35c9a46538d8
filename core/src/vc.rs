//! The W3C Verifiable Credentials Data Model 2.0: the checks every securing
//! mechanism (JOSE, Data Integrity) shares.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::datetime;
use crate::error::{Error, Result};

/// The base context every VCDM 2.0 document must name first.
pub const CONTEXT_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// The base type of every credential.
pub const VC_TYPE: &str = "VerifiableCredential";
/// The base type of every presentation.
pub const VP_TYPE: &str = "VerifiablePresentation";

/// What the data model says about a credential, once its shape is checked.
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialInfo {
    /// The issuer's identifier (`issuer` or `issuer.id`).
    pub issuer: String,
    /// `type`, in document order.
    pub types: Vec<String>,
    /// `validFrom`, Unix seconds.
    pub valid_from: Option<i64>,
    /// `validUntil`, Unix seconds.
    pub valid_until: Option<i64>,
    /// `credentialSubject.id` of the first subject, if any.
    pub subject_id: Option<String>,
}

fn strings(value: &Value, member: &str) -> Result<Vec<String>> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| Error::claim(member, "must contain only strings"))
            })
            .collect(),
        _ => Err(Error::claim(
            member,
            "must be a string or an array of strings",
        )),
    }
}

fn is_url(s: &str) -> bool {
    // An absolute URL: scheme ":" rest (RFC 3986), which covers https:, did:, urn:, data:.
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Check `@context`: present, first entry the VCDM 2.0 context.
pub fn check_context(doc: &Map<String, Value>) -> Result<()> {
    let ctx = doc
        .get("@context")
        .ok_or_else(|| Error::claim("@context", "missing"))?;
    let first = match ctx {
        Value::Array(items) => items.first(),
        Value::String(_) => Some(ctx),
        _ => None,
    };
    match first.and_then(Value::as_str) {
        Some(CONTEXT_V2) => Ok(()),
        _ => Err(Error::claim(
            "@context",
            format!("first entry must be {CONTEXT_V2:?}"),
        )),
    }
}

/// Check a credential's shape (VCDM 2.0 §4) and read its issuer, types and validity.
pub fn check_credential(doc: &Map<String, Value>) -> Result<CredentialInfo> {
    check_credential_with(doc, || subject_id(doc.get("credentialSubject")))
}

/// The first subject's `id` of a `credentialSubject` value, checking its shape: an
/// object, or a non-empty array of objects.
fn subject_id(subject: Option<&Value>) -> Result<Option<String>> {
    let first = match subject {
        Some(Value::Object(_)) => subject,
        Some(Value::Array(items)) if !items.is_empty() && items.iter().all(Value::is_object) => {
            items.first()
        }
        Some(_) => return Err(subject_shape_error()),
        None => return Err(Error::claim("credentialSubject", "missing")),
    };
    Ok(first
        .and_then(|s| s.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string))
}

fn subject_shape_error() -> Error {
    Error::claim(
        "credentialSubject",
        "must be an object or a non-empty array of objects",
    )
}

/// The first subject's `id` of a `credentialSubject` kept as raw JSON, checking its
/// shape without building a tree of the claims.
pub fn raw_subject_id(subject: Option<&RawValue>) -> Result<Option<String>> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        #[serde(default)]
        id: Option<Value>,
    }
    let raw = subject.ok_or_else(|| Error::claim("credentialSubject", "missing"))?;
    let text = raw.get();
    let id = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_string));
    match text.as_bytes().first() {
        Some(b'{') => serde_json::from_str::<IdOnly>(text)
            .map(|s| id(s.id))
            .map_err(|_| subject_shape_error()),
        Some(b'[') => match serde_json::from_str::<Vec<IdOnly>>(text) {
            Ok(items) if !items.is_empty() => Ok(id(items.into_iter().next().and_then(|s| s.id))),
            _ => Err(subject_shape_error()),
        },
        _ => Err(subject_shape_error()),
    }
}

/// [`check_credential`] with the subject checked by `subject` (which returns the first
/// subject's `id`), so a caller holding the subject as raw JSON need not parse it.
pub fn check_credential_with(
    doc: &Map<String, Value>,
    subject: impl FnOnce() -> Result<Option<String>>,
) -> Result<CredentialInfo> {
    check_context(doc)?;
    let types = strings(
        doc.get("type")
            .ok_or_else(|| Error::claim("type", "missing"))?,
        "type",
    )?;
    if !types.iter().any(|t| t == VC_TYPE) {
        return Err(Error::claim("type", format!("must include {VC_TYPE:?}")));
    }
    if let Some(id) = doc.get("id") {
        if !id.as_str().is_some_and(is_url) {
            return Err(Error::claim("id", "must be a URL"));
        }
    }
    let issuer = match doc.get("issuer") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => o
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::claim("issuer.id", "missing"))?
            .to_string(),
        Some(_) => {
            return Err(Error::claim(
                "issuer",
                "must be a URL or an object with `id`",
            ))
        }
        None => return Err(Error::claim("issuer", "missing")),
    };
    if !is_url(&issuer) {
        return Err(Error::claim("issuer", format!("{issuer:?} is not a URL")));
    }
    let subject_id = subject()?;
    let time = |member: &str| -> Result<Option<i64>> {
        match doc.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => datetime::parse(s, member).map(Some),
            Some(_) => Err(Error::claim(member, "must be a date-time string")),
        }
    };
    let valid_from = time("validFrom")?;
    let valid_until = time("validUntil")?;
    if let (Some(f), Some(u)) = (valid_from, valid_until) {
        if u < f {
            return Err(Error::claim("validUntil", "is before validFrom"));
        }
    }
    for member in [
        "credentialStatus",
        "credentialSchema",
        "refreshService",
        "termsOfUse",
        "evidence",
    ] {
        if let Some(v) = doc.get(member) {
            let entries: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for e in entries {
                if e.get("type").is_none() {
                    return Err(Error::claim(member, "each entry needs a `type`"));
                }
            }
        }
    }
    Ok(CredentialInfo {
        issuer,
        types,
        valid_from,
        valid_until,
        subject_id,
    })
}

/// Check a presentation's shape (VCDM 2.0 §4.13) and every embedded credential.
pub fn check_presentation(doc: &Map<String, Value>) -> Result<Vec<CredentialInfo>> {
    check_context(doc)?;
    let types = strings(
        doc.get("type")
            .ok_or_else(|| Error::claim("type", "missing"))?,
        "type",
    )?;
    if !types.iter().any(|t| t == VP_TYPE) {
        return Err(Error::claim("type", format!("must include {VP_TYPE:?}")));
    }
    let creds = match doc.get("verifiableCredential") {
        None => return Ok(Vec::new()),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(other) => vec![other],
    };
    let mut out = Vec::new();
    for c in creds {
        let c = c
            .as_object()
            .ok_or_else(|| Error::claim("verifiableCredential", "entries must be objects"))?;
        let types = c
            .get("type")
            .map(|t| strings(t, "type"))
            .transpose()?
            .unwrap_or_default();
        if types.iter().any(|t| t == "EnvelopedVerifiableCredential") {
            check_context(c)?;
            continue;
        }
        out.push(check_credential(c)?);
    }
    Ok(out)
}

/// Check a validity window at `now` with `leeway` seconds of skew allowed: every start
/// (`nbf`, `validFrom`) must have passed and no end (`exp`, `validUntil`) been reached.
pub fn check_window(
    starts: impl IntoIterator<Item = i64>,
    ends: impl IntoIterator<Item = i64>,
    now: i64,
    leeway: i64,
) -> Result<String> {
    let at = || datetime::format(now);
    for from in starts {
        if now.saturating_add(leeway) < from {
            return Err(Error::NotYetValid {
                from: datetime::format(from),
                at: at(),
            });
        }
    }
    let mut bounded = false;
    for until in ends {
        if now.saturating_sub(leeway) >= until {
            return Err(Error::Expired {
                until: datetime::format(until),
                at: at(),
            });
        }
        bounded = true;
    }
    // The dates themselves are in the report (`valid_from`, `valid_until`, `checked_at`).
    Ok(if bounded {
        "within the validity window".into()
    } else {
        "started, with no end of validity".into()
    })
}
