//! What a verifier trusts: issuer keys given directly, DID documents fetched earlier,
//! and (for Data Integrity) JSON-LD contexts. Trust is data supplied by the caller —
//! nothing is built in.

use std::sync::Arc;

use crate::crypto::{Alg, Jwk, VerifyingKey};
use crate::did::{DidResolver, DidUrl, Relationship};
use crate::error::{Error, Result};

/// Where a verification key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A verification method of a DID document (supplied, or derived from did:key/did:jwk).
    Did {
        /// The DID.
        did: String,
        /// The verification method's DID URL.
        method: String,
    },
    /// A JWK the verifier was configured with.
    TrustedJwk {
        /// Its `kid` or thumbprint.
        label: String,
    },
    /// A key from an issuer's JWKS, trusted for that issuer only.
    IssuerJwk {
        /// Its `kid` or thumbprint.
        label: String,
        /// The issuer identifier the JWKS was published for.
        issuer: String,
    },
    /// The leaf of an `x5c` certificate chain that ends at a trusted root.
    Certificate {
        /// The leaf certificate's subject.
        subject: String,
        /// The trusted root's subject.
        root: String,
    },
}

/// A key chosen to check an issuer's signature, and why it was chosen.
#[derive(Clone, Debug)]
pub struct IssuerKey {
    /// The key.
    pub key: Arc<VerifyingKey>,
    /// Where it came from.
    pub source: KeySource,
}

impl IssuerKey {
    /// Whether this key may sign for `issuer`: a DID's key only for that DID (or the
    /// HTTPS origin of its did:web); a directly trusted key not for an issuer other than
    /// the DID its `kid` names; a certificate's key for the issuer it was trusted for.
    pub fn binds(&self, issuer: &str, kid: Option<&str>) -> Result<String> {
        match &self.source {
            KeySource::Did { did, .. } if issuer_controls_did(issuer, did) => {
                Ok(format!("{did} is the issuer {issuer}"))
            }
            KeySource::Did { did, .. } => Err(Error::UntrustedIssuer(format!(
                "signed with a key of {did}, but the credential's issuer is {issuer}"
            ))),
            KeySource::IssuerJwk { label, issuer: for_issuer } if for_issuer == issuer => {
                Ok(format!("key {label} is in the trusted JWKS of {issuer}"))
            }
            KeySource::IssuerJwk { label, issuer: for_issuer } => {
                Err(Error::UntrustedIssuer(format!(
                    "signed with key {label} of {for_issuer}'s JWKS, but the credential's issuer is {issuer}"
                )))
            }
            KeySource::Certificate { subject, .. } => Ok(format!(
                "certificate {subject:?} chains to a trusted root for {issuer}"
            )),
            KeySource::TrustedJwk { label } => match kid.and_then(|k| DidUrl::parse(k).ok()) {
                Some(url) if !issuer_controls_did(issuer, url.did) => {
                    Err(Error::UntrustedIssuer(format!(
                        "kid names {}, but the credential's issuer is {issuer}",
                        url.did
                    )))
                }
                _ => Ok(format!(
                    "key {label} is trusted by the verifier for {issuer}"
                )),
            },
        }
    }

    /// Human description for reports.
    pub fn describe(&self) -> String {
        match &self.source {
            KeySource::Did { method, did } => {
                let how = if did.starts_with("did:web:") {
                    "from the supplied DID document"
                } else {
                    "from the self-certifying DID"
                };
                format!("{} key {method} {how}", self.key.alg())
            }
            KeySource::TrustedJwk { label } => {
                format!(
                    "{} key {label} from the verifier's trusted keys",
                    self.key.alg()
                )
            }
            KeySource::IssuerJwk { label, issuer } => format!(
                "{} key {label} from the trusted JWKS of {issuer}",
                self.key.alg()
            ),
            KeySource::Certificate { subject, root } => format!(
                "{} key of certificate {subject:?}, chained to trusted root {root:?}",
                self.key.alg()
            ),
        }
    }
}

/// The verifier's trust material.
///
/// ```
/// use govcred::{crypto::{Alg, SoftwareKey}, trust::TrustStore, Signer};
/// let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
/// let mut trust = TrustStore::new();
/// trust.add_jwk(&issuer.public_jwk()).unwrap();
/// assert_eq!(trust.keys().len(), 1);
/// ```
#[derive(Clone, Default)]
pub struct TrustStore {
    keys: Vec<Arc<VerifyingKey>>,
    /// Per entry of `keys`: the issuer it is scoped to (`None`: any issuer).
    key_issuers: Vec<Option<String>>,
    dids: DidResolver,
    contexts: Vec<(String, String)>,
    roots: Vec<Arc<crate::x509::Certificate>>,
    status_lists: std::collections::HashMap<String, Arc<crate::status::LoadedList>>,
}

impl TrustStore {
    /// Nothing trusted yet (did:key and did:jwk still resolve).
    pub fn new() -> Self {
        Self::default()
    }

    /// Trust a public key directly. Private members, if present, are dropped.
    pub fn add_jwk(&mut self, jwk: &Jwk) -> Result<()> {
        self.keys
            .push(Arc::new(VerifyingKey::from_jwk(&jwk.to_public())?));
        self.key_issuers.push(None);
        Ok(())
    }

    /// Trust a key of `issuer`'s JWKS for credentials of that issuer only.
    pub fn add_issuer_jwk(&mut self, issuer: &str, jwk: &Jwk) -> Result<()> {
        self.keys
            .push(Arc::new(VerifyingKey::from_jwk(&jwk.to_public())?));
        self.key_issuers.push(Some(issuer.to_string()));
        Ok(())
    }

    /// Add a DID document (a did:web `did.json` fetched while online).
    pub fn add_did_document(&mut self, doc: &serde_json::Value) -> Result<()> {
        self.dids.add_document(doc)
    }

    /// Trust the root certificates (e.g. IACA roots) in PEM `text`; returns how many.
    pub fn add_root_certificates_pem(&mut self, text: &str) -> Result<usize> {
        let certs = crate::x509::Certificate::from_pem(text)?;
        let n = certs.len();
        self.roots.extend(certs.into_iter().map(Arc::new));
        Ok(n)
    }

    /// Build a trust store from an inline JSON description — the form the published
    /// negative vectors and simple configurations use:
    /// `{"did_documents": [..], "jwks": [..], "root_certificates_pem": ["-----BEGIN…"],
    /// "status_lists": ["<statuslist+jwt or status list credential>"]}` (every member
    /// optional). Keys, documents and roots are loaded first; a status list that does
    /// not verify with them is not trusted, and is returned with its error beside the
    /// store rather than failing the whole description.
    ///
    /// ```
    /// use govcred::trust::TrustStore;
    /// let (trust, refused) = TrustStore::from_description(&serde_json::json!({
    ///     "status_lists": ["not.a.list"]
    /// })).unwrap();
    /// assert_eq!(refused.len(), 1);
    /// assert!(trust.keys().is_empty());
    /// ```
    pub fn from_description(v: &serde_json::Value) -> Result<(Self, Vec<Error>)> {
        let mut trust = TrustStore::new();
        let items = |name: &str| v.get(name).and_then(|a| a.as_array()).into_iter().flatten();
        for doc in items("did_documents") {
            trust.add_did_document(doc)?;
        }
        for jwk in items("jwks") {
            let jwk: Jwk = serde_json::from_value(jwk.clone())
                .map_err(|e| Error::InvalidKey(format!("not a JWK: {e}")))?;
            trust.add_jwk(&jwk)?;
        }
        for pem in items("root_certificates_pem") {
            trust.add_root_certificates_pem(pem.as_str().unwrap_or_default())?;
        }
        let mut refused = Vec::new();
        for list in items("status_lists") {
            if let Err(e) = trust.add_status_list(list.as_str().unwrap_or_default(), 0) {
                refused.push(e);
            }
        }
        Ok((trust, refused))
    }

    /// The trusted root certificates.
    pub fn roots(&self) -> &[Arc<crate::x509::Certificate>] {
        &self.roots
    }

    /// Add a status list synced earlier (a `statuslist+jwt`, or a Bitstring Status List
    /// credential as `vc+jwt`); its signature must verify with a key already trusted
    /// here. Returns the list's URI. A newer list for the same URI replaces an older one.
    pub fn add_status_list(&mut self, text: &str, leeway: i64) -> Result<String> {
        let list = crate::status::load_list(text, self, leeway)?;
        Ok(self.insert_status_list(list))
    }

    /// [`TrustStore::add_status_list`] for a list given as bytes: also accepts the CWT
    /// form (`application/statuslist+cwt`, for mdocs), whose signer is a trusted key
    /// or an `x5chain` chaining to a trusted root.
    pub fn add_status_list_bytes(&mut self, bytes: &[u8], leeway: i64) -> Result<String> {
        let list = crate::status::load_list_bytes(bytes, self, leeway)?;
        Ok(self.insert_status_list(list))
    }

    fn insert_status_list(&mut self, list: crate::status::LoadedList) -> String {
        let uri = list.uri().to_string();
        let newer = self
            .status_lists
            .get(&uri)
            .is_none_or(|old| old.issued_at() <= list.issued_at());
        if newer {
            self.status_lists.insert(uri.clone(), Arc::new(list));
        }
        uri
    }

    /// The status list synced for `uri`, if any.
    pub fn status_list(&self, uri: &str) -> Option<Arc<crate::status::LoadedList>> {
        self.status_lists.get(uri).cloned()
    }

    /// Add a JSON-LD context document for offline Data Integrity checks.
    pub fn add_context(&mut self, url: impl Into<String>, document: impl Into<String>) {
        self.contexts.push((url.into(), document.into()));
    }

    /// The directly trusted keys.
    pub fn keys(&self) -> &[Arc<VerifyingKey>] {
        &self.keys
    }

    /// The DID resolver with the supplied documents.
    pub fn dids(&self) -> &DidResolver {
        &self.dids
    }

    /// Extra JSON-LD contexts (URL, document text).
    pub fn contexts(&self) -> &[(String, String)] {
        &self.contexts
    }

    /// The keys that may have made a signature with `alg` and header `kid`:
    /// - a `kid` that is a DID URL resolves through the DID document (the method must
    ///   be in `assertionMethod`);
    /// - otherwise trusted JWKs whose `kid` or thumbprint equals `kid`;
    /// - with no `kid`, every trusted JWK of `alg`'s key type.
    pub fn issuer_keys(&self, kid: Option<&str>, alg: Alg) -> Result<Vec<IssuerKey>> {
        if let Some(kid) = kid.filter(|k| k.starts_with("did:")) {
            let url = DidUrl::parse(kid)?;
            let key = match self.dids.resolve_key(kid, Relationship::AssertionMethod) {
                Ok(key) => key,
                // A did:web the verifier has no document for, but whose key it was
                // given directly (matched by the fragment, the full kid or thumbprint).
                Err(e) if e.code() == crate::ErrorCode::UnknownKey => {
                    let direct = self.trusted_jwks(&[Some(kid), url.fragment], alg);
                    return if direct.is_empty() {
                        Err(e)
                    } else {
                        Ok(direct)
                    };
                }
                Err(e) => return Err(e),
            };
            if key.alg() != alg {
                return Err(Error::KeyAlgMismatch {
                    key: key.alg().key_description().into(),
                    alg: alg.as_str().into(),
                });
            }
            return Ok(vec![IssuerKey {
                key,
                source: KeySource::Did {
                    did: url.did.to_string(),
                    method: kid.to_string(),
                },
            }]);
        }
        let found = self.trusted_jwks(&[kid], alg);
        if found.is_empty() {
            return Err(Error::UnknownKey(match kid {
                Some(kid) => format!("kid {kid:?}"),
                None => format!("an {alg} signature without `kid`"),
            }));
        }
        Ok(found)
    }

    /// Trusted JWKs of `alg`'s type whose `kid` or thumbprint is one of `names`
    /// (`[None]`: every such key).
    fn trusted_jwks(&self, names: &[Option<&str>], alg: Alg) -> Vec<IssuerKey> {
        self.keys
            .iter()
            .zip(self.key_issuers.iter())
            .filter(|(k, _)| k.alg() == alg)
            .filter(|(k, _)| {
                names.iter().any(|n| match n {
                    Some(n) => k.jwk().kid.as_deref() == Some(*n) || k.thumbprint() == *n,
                    None => true,
                })
            })
            .map(|(k, issuer)| IssuerKey {
                key: k.clone(),
                source: match issuer {
                    Some(issuer) => KeySource::IssuerJwk {
                        label: k.label(),
                        issuer: issuer.clone(),
                    },
                    None => KeySource::TrustedJwk { label: k.label() },
                },
            })
            .collect()
    }
}

impl TrustStore {
    /// The leaf key of an `x5c` JOSE header (standard base64 DER, leaf first), which
    /// must chain to a trusted root certificate.
    pub fn x5c_key(&self, x5c: &serde_json::Value, now: i64, leeway: i64) -> Result<IssuerKey> {
        use base64::Engine;
        let entries = x5c.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
            Error::malformed(
                "x5c header",
                "must be a non-empty array of base64 certificates",
            )
        })?;
        let chain = entries
            .iter()
            .map(|e| {
                let text = e
                    .as_str()
                    .ok_or_else(|| Error::malformed("x5c header", "entries must be strings"))?;
                let der = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| Error::InvalidBase64 {
                        what: "x5c certificate",
                    })?;
                crate::x509::Certificate::from_der(&der)
            })
            .collect::<Result<Vec<_>>>()?;
        if self.roots.is_empty() {
            return Err(Error::UnknownKey(
                "an x5c certificate chain: no trusted root certificates are configured (add the issuer's IACA)".into(),
            ));
        }
        let roots: Vec<crate::x509::Certificate> =
            self.roots.iter().map(|r| (**r).clone()).collect();
        let key = crate::x509::verify_chain(&chain, &roots, now, leeway, None)?;
        let root = roots
            .iter()
            .find(|r| {
                chain
                    .last()
                    .is_some_and(|c| c.issuer() == r.subject() || c.der() == r.der())
            })
            .map(|r| r.subject())
            .unwrap_or_default();
        Ok(IssuerKey {
            key: Arc::new(key),
            source: KeySource::Certificate {
                subject: chain[0].subject(),
                root,
            },
        })
    }
}

/// The first of `keys` whose signature on `jws` verifies. When none does, the error
/// of the first candidate (usually `signature_invalid`); with no candidates at all,
/// `unknown_key`.
pub fn first_verifying_key(jws: &crate::jose::Jws<'_>, keys: Vec<IssuerKey>) -> Result<IssuerKey> {
    let mut first_err = None;
    for k in keys {
        match jws.verify(&k.key) {
            Ok(()) => return Ok(k),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err
        .unwrap_or_else(|| Error::UnknownKey(format!("kid {:?}", jws.kid().unwrap_or("(none)")))))
}

/// Whether the issuer identifier `issuer` is the DID `did`, or is the HTTPS origin/URL
/// whose did:web is `did` (the GOV.UK form: `iss` = `https://host`, key `did:web:host#…`).
pub fn issuer_controls_did(issuer: &str, did: &str) -> bool {
    if issuer == did {
        return true;
    }
    let Some(origin) = issuer.strip_prefix("https://") else {
        return false;
    };
    // Fast path for the common case, a bare host: `https://host` ↔ `did:web:host`.
    let host = origin.trim_end_matches('/');
    if !host.contains([':', '/', '%']) {
        return did.strip_prefix("did:web:") == Some(host);
    }
    crate::did::web::from_domain(issuer).is_ok_and(|d| d == did)
}
