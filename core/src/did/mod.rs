//! Decentralised identifiers: did:key, did:jwk and did:web, resolved **offline**.
//!
//! did:key and did:jwk carry their key in the identifier and need nothing else.
//! did:web documents are fetched by the caller while online (or come from a trust
//! bundle) and added to a [`DidResolver`]; verification then never touches the network.
//!
//! These three methods are implemented here rather than through `ssi` so that the
//! mobile core can resolve them without the `data-integrity` feature (and ssi's HTTP
//! stack); the Data Integrity verifier hands ssi the same documents.
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, did::{self, DidResolver, Relationship}, Signer};
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let did = did::key::from_jwk(&key.public_jwk()).unwrap();
//! assert!(did.starts_with("did:key:zDn"));
//! let vm = format!("{did}#{}", &did["did:key:".len()..]);
//! let resolved = DidResolver::new().resolve_key(&vm, Relationship::AssertionMethod).unwrap();
//! assert_eq!(&*resolved, key.verifying_key());
//! ```

pub mod document;
pub mod jwk;
pub mod key;
pub mod web;

use std::collections::HashMap;
use std::sync::Arc;

pub use document::{DidDocument, Relationship};

use crate::crypto::VerifyingKey;
use crate::error::{Error, Result};

/// A DID URL split into the DID and its fragment (`did:web:example.com#key-1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DidUrl<'a> {
    /// The DID (`did:method:id`).
    pub did: &'a str,
    /// The method name.
    pub method: &'a str,
    /// The method-specific identifier.
    pub id: &'a str,
    /// The fragment after `#`, if any.
    pub fragment: Option<&'a str>,
}

impl<'a> DidUrl<'a> {
    /// Parse `did:<method>:<id>[#fragment]`. Paths and queries are not supported.
    pub fn parse(url: &'a str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidDid {
            did: url.to_string(),
            reason: reason.to_string(),
        };
        let (did, fragment) = match url.split_once('#') {
            Some((d, f)) => (d, Some(f)),
            None => (url, None),
        };
        let rest = did
            .strip_prefix("did:")
            .ok_or_else(|| bad("does not start with `did:`"))?;
        let (method, id) = rest
            .split_once(':')
            .ok_or_else(|| bad("no method-specific identifier"))?;
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(bad("method name must be lower-case letters and digits"));
        }
        if id.is_empty() || id.contains(['?', '/']) {
            return Err(bad("paths and queries in DID URLs are not supported"));
        }
        if fragment.is_some_and(str::is_empty) {
            return Err(bad("empty fragment"));
        }
        Ok(DidUrl {
            did,
            method,
            id,
            fragment,
        })
    }
}

/// Offline DID resolution: did:key and did:jwk from the identifier itself, did:web
/// from documents added beforehand. Keys from added documents are parsed once.
#[derive(Default, Clone)]
pub struct DidResolver {
    documents: HashMap<String, (Arc<DidDocument>, serde_json::Value)>,
}

impl DidResolver {
    /// An empty resolver (did:key and did:jwk still resolve).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a DID document (e.g. a did:web `did.json` fetched earlier). A document with
    /// the same `id` replaces the previous one.
    pub fn add_document(&mut self, json: &serde_json::Value) -> Result<()> {
        let doc = DidDocument::from_json(json)?;
        self.documents
            .insert(doc.id.clone(), (Arc::new(doc), json.clone()));
        Ok(())
    }

    /// The document for `did`: a stored one, or one derived from a did:key / did:jwk.
    pub fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        if let Some((doc, _)) = self.documents.get(did) {
            return Ok(doc.clone());
        }
        let url = DidUrl::parse(did)?;
        match url.method {
            "key" => Ok(Arc::new(key::document(url.did)?)),
            "jwk" => Ok(Arc::new(jwk::document(url.did)?)),
            "web" => {
                web::to_url(url.did)?;
                Err(Error::UnknownKey(format!(
                    "{} (did:web documents must be supplied for offline verification: fetch {} while online)",
                    url.did,
                    web::to_url(url.did)?
                )))
            }
            other => Err(Error::InvalidDid {
                did: did.to_string(),
                reason: format!("method `{other}` is not supported (key, jwk, web are)"),
            }),
        }
    }

    /// The key of verification method `did_url`, which must be authorised for
    /// `relationship` in its DID document.
    pub fn resolve_key(
        &self,
        did_url: &str,
        relationship: Relationship,
    ) -> Result<Arc<VerifyingKey>> {
        let url = DidUrl::parse(did_url)?;
        if url.fragment.is_none() {
            return Err(Error::InvalidDid {
                did: did_url.into(),
                reason: "a verification method needs a `#fragment`".into(),
            });
        }
        self.resolve(url.did)?.key_for(did_url, relationship)
    }

    /// The document added for `did`, as it was supplied.
    pub fn raw_document(&self, did: &str) -> Option<&serde_json::Value> {
        self.documents.get(did).map(|(_, raw)| raw)
    }

    /// The DIDs whose documents were added.
    pub fn dids(&self) -> impl Iterator<Item = &str> {
        self.documents.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_url_parsing() {
        let u = DidUrl::parse("did:web:example.com%3A3000:user#k-1").unwrap();
        assert_eq!(
            (u.did, u.method, u.id, u.fragment),
            (
                "did:web:example.com%3A3000:user",
                "web",
                "example.com%3A3000:user",
                Some("k-1")
            )
        );
        for bad in [
            "",
            "did:",
            "did:web",
            "dud:web:x",
            "did:WEB:x",
            "did:web:x#",
            "did:web:x/path",
            "did:web:x?q=1",
        ] {
            assert_eq!(
                DidUrl::parse(bad).unwrap_err().code(),
                crate::ErrorCode::InvalidDid,
                "{bad}"
            );
        }
    }

    #[test]
    fn unsupplied_did_web_is_unknown_key_with_url() {
        let e = DidResolver::new()
            .resolve_key(
                "did:web:issuer.example.gov.uk#k",
                Relationship::AssertionMethod,
            )
            .unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::UnknownKey);
        assert!(e
            .to_string()
            .contains("https://issuer.example.gov.uk/.well-known/did.json"));
    }
}
