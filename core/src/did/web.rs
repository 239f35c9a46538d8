//! did:web: the DID ↔ HTTPS URL mapping of the did:web method specification, and
//! the `did.json` / `jwks.json` documents an issuer publishes.

use serde_json::{json, Value};

use crate::crypto::VerifyingKey;
use crate::error::{Error, Result};

fn bad(did: &str, reason: impl Into<String>) -> Error {
    Error::InvalidDid {
        did: did.into(),
        reason: reason.into(),
    }
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The HTTPS URL of a did:web's document: `did:web:example.com:user:alice` →
/// `https://example.com/user/alice/did.json`; without a path,
/// `https://example.com/.well-known/did.json`. A port is written `%3A`.
pub fn to_url(did: &str) -> Result<String> {
    let id = did
        .strip_prefix("did:web:")
        .ok_or_else(|| bad(did, "not a did:web"))?;
    let mut segments = id.split(':');
    let authority = segments.next().unwrap_or_default();
    let authority = percent_decode(authority).ok_or_else(|| bad(did, "bad percent-encoding"))?;
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority.as_str(), None),
    };
    if !valid_host(host) {
        return Err(bad(did, format!("{host:?} is not a domain name")));
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(did, format!("bad port {p:?}")));
        }
    }
    let mut url = format!("https://{authority}");
    let mut has_path = false;
    for seg in segments {
        let seg = percent_decode(seg).ok_or_else(|| bad(did, "bad percent-encoding"))?;
        if seg.is_empty() || seg == "." || seg == ".." || seg.contains('/') {
            return Err(bad(did, "empty or unsafe path segment"));
        }
        url.push('/');
        url.push_str(&seg);
        has_path = true;
    }
    url.push_str(if has_path {
        "/did.json"
    } else {
        "/.well-known/did.json"
    });
    Ok(url)
}

/// The did:web for a domain, an origin or a URL with a path: `example.gov.uk`,
/// `https://example.gov.uk`, `localhost:8443/issuer` → `did:web:localhost%3A8443:issuer`.
pub fn from_domain(domain: &str) -> Result<String> {
    let rest = domain
        .strip_prefix("https://")
        .unwrap_or(domain)
        .trim_end_matches('/');
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (rest, None),
    };
    let mut did = format!("did:web:{}", authority.replace(':', "%3A"));
    if let Some(path) = path {
        for seg in path.split('/') {
            did.push(':');
            did.push_str(seg);
        }
    }
    to_url(&did).map_err(|_| {
        bad(
            &did,
            format!("{domain:?} is not a domain, origin or https URL"),
        )
    })?;
    Ok(did)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The key id used in a did:web document for `key`: its `kid`, else its RFC 7638
/// thumbprint.
pub fn key_id(key: &VerifyingKey) -> String {
    key.jwk().kid.clone().unwrap_or_else(|| key.thumbprint())
}

/// The issuer's `did.json` in the GOV.UK form: `JsonWebKey2020` methods
/// `did:web:<host>#<kid>`, each listed in `assertionMethod` (several keys for rotation).
pub fn did_document(did: &str, keys: &[VerifyingKey]) -> Result<Value> {
    to_url(did)?;
    let methods: Vec<Value> = keys
        .iter()
        .map(|k| {
            let kid = key_id(k);
            let mut jwk = serde_json::to_value(k.jwk().to_public()).unwrap_or_default();
            jwk["kid"] = kid.clone().into();
            jwk["alg"] = k.alg().as_str().into();
            json!({
                "id": format!("{did}#{kid}"),
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": jwk,
            })
        })
        .collect();
    let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
    Ok(json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }))
}

/// The issuer's `jwks.json`: `{keys: [{kty, use: sig, crv, kid, x, y, alg}]}`.
pub fn jwks(keys: &[VerifyingKey]) -> Value {
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut jwk = serde_json::to_value(k.jwk().to_public()).unwrap_or_default();
            jwk["kid"] = key_id(k).into();
            jwk["alg"] = k.alg().as_str().into();
            jwk["use"] = "sig".into();
            jwk
        })
        .collect();
    json!({ "keys": keys })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_both_ways() {
        assert_eq!(
            to_url("did:web:example.com").unwrap(),
            "https://example.com/.well-known/did.json"
        );
        assert_eq!(
            to_url("did:web:example.com%3A3000:user:alice").unwrap(),
            "https://example.com:3000/user/alice/did.json"
        );
        assert_eq!(
            from_domain("https://example.gov.uk/").unwrap(),
            "did:web:example.gov.uk"
        );
        assert_eq!(
            from_domain("localhost:8443/issuer").unwrap(),
            "did:web:localhost%3A8443:issuer"
        );
        for bad in [
            "did:web:",
            "did:web:exa mple.com",
            "did:web:example.com:..",
            "did:web:example.com%3Axx",
            "did:web:-a.com",
            "did:web:a%zz",
        ] {
            assert!(to_url(bad).is_err(), "{bad}");
        }
        assert!(from_domain("not a domain").is_err());
    }
}
