//! Trust bundles: everything an offline verifier needs, synced in one signed file.
//!
//! A verifier at a roadside has no network when it checks a credential. While online
//! it syncs one **trust bundle**: the IACA root certificates of mdoc issuers, the
//! did:web documents and JWKS of JWT VC / SD-JWT VC issuers, and the status lists that
//! say which credentials are revoked, with the time the bundle was made (`iat`) and
//! the time after which it must not be used (`exp`).
//!
//! ## Format
//!
//! A bundle is a **compact JWS** (RFC 7515), `typ` `govcred-trust-bundle+jwt`, signed
//! ES256 or EdDSA through a [`Signer`]. A compact JWS was chosen over JSON with a
//! detached signature because the signed bytes are exactly the bytes carried (no JSON
//! canonicalisation question) and the existing strict JOSE code checks it. The payload:
//!
//! ```json
//! { "version": 1, "iat": 1700000000, "exp": 1700604800,
//!   "iacas": ["<base64 DER certificate>", …],
//!   "did_documents": [{ "id": "did:web:…", … }, …],
//!   "jwks": [{ "issuer": "https://…", "keys": [<JWK>, …] }, …],
//!   "status_lists": [{ "uri": "https://…/t/1", "token": "<statuslist+jwt or vc+jwt>" }, …] }
//! ```
//!
//! The verifier **pins** the bundle-signing key(s): [`TrustBundle::load`] refuses a
//! bundle signed by any other key ([`Error::UnknownKey`]), one whose signature does not
//! verify ([`Error::SignatureInvalid`]) and one past its `exp`
//! ([`Error::TrustBundleExpired`]). Status lists inside are still checked against the
//! issuer keys of the bundle (the bundle vouches for their freshness, not their origin).
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, trust_bundle::{TrustBundle, BundleContents}, Signer};
//! let signer = SoftwareKey::generate(Alg::ES256).unwrap();
//! let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut contents = BundleContents::default();
//! contents.add_jwks("https://issuer.example", vec![issuer.public_jwk()]);
//! let text = TrustBundle::build(&contents, 1_700_000_000, 7 * 86_400, &signer).unwrap();
//! let loaded = TrustBundle::load(&text, &[signer.verifying_key().clone()], 1_700_000_100, 60).unwrap();
//! assert_eq!(loaded.info.age_secs(1_700_000_100), 100);
//! assert_eq!(loaded.trust.keys().len(), 1);
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{Jwk, VerifyingKey};
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;
use crate::trust::TrustStore;

/// The JOSE `typ` of a trust bundle.
pub const TRUST_BUNDLE_TYP: &str = "govcred-trust-bundle+jwt";

/// The payload version this code writes and reads.
pub const TRUST_BUNDLE_VERSION: u32 = 1;

/// Largest bundle accepted: 16 MiB (several hundred issuers and status lists).
pub const MAX_TRUST_BUNDLE_LEN: usize = 16 * 1024 * 1024;

/// An issuer's JWKS, with the issuer it is published for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IssuerJwks {
    /// The issuer identifier (`iss`), e.g. `https://example-credential-issuer.gov.uk`.
    pub issuer: String,
    /// Its public keys.
    pub keys: Vec<Jwk>,
}

/// A status list synced for a URI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BundledStatusList {
    /// The URI credentials point to.
    pub uri: String,
    /// The list as published: a `statuslist+jwt` or a Bitstring Status List `vc+jwt`.
    pub token: String,
}

/// What a bundle carries (the payload without `version`/`iat`/`exp`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleContents {
    /// Trusted IACA (and other root) certificates, standard base64 of the DER.
    #[serde(default)]
    pub iacas: Vec<String>,
    /// Issuer DID documents (did:web `did.json`).
    #[serde(default)]
    pub did_documents: Vec<Value>,
    /// Issuer JWKS.
    #[serde(default)]
    pub jwks: Vec<IssuerJwks>,
    /// Status lists.
    #[serde(default)]
    pub status_lists: Vec<BundledStatusList>,
}

impl BundleContents {
    /// Add the root certificates in PEM `text`; returns how many.
    pub fn add_iaca_pem(&mut self, text: &str) -> Result<usize> {
        use base64::Engine;
        let certs = crate::x509::Certificate::from_pem(text)?;
        for c in &certs {
            self.iacas
                .push(base64::engine::general_purpose::STANDARD.encode(c.der()));
        }
        Ok(certs.len())
    }

    /// Add an issuer DID document.
    pub fn add_did_document(&mut self, doc: Value) {
        self.did_documents.push(doc);
    }

    /// Add an issuer's public keys (private members are dropped).
    pub fn add_jwks(&mut self, issuer: impl Into<String>, keys: Vec<Jwk>) {
        self.jwks.push(IssuerJwks {
            issuer: issuer.into(),
            keys: keys.iter().map(Jwk::to_public).collect(),
        });
    }

    /// Add a status list published at `uri`.
    pub fn add_status_list(&mut self, uri: impl Into<String>, token: impl Into<String>) {
        self.status_lists.push(BundledStatusList {
            uri: uri.into(),
            token: token.into(),
        });
    }

    /// A trust store holding this material; status lists are checked against the
    /// bundle's own issuer keys, and must be published at the URI they are listed for.
    pub fn to_trust_store(&self, leeway: i64) -> Result<TrustStore> {
        use base64::Engine;
        let mut trust = TrustStore::new();
        for (i, b64) in self.iacas.iter().enumerate() {
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| Error::InvalidBase64 {
                    what: "trust bundle IACA certificate",
                })?;
            let cert = crate::x509::Certificate::from_der(&der)
                .map_err(|e| Error::malformed("trust bundle", format!("iacas[{i}]: {e}")))?;
            trust.add_root_certificates_pem(&cert.to_pem())?;
        }
        for doc in &self.did_documents {
            trust.add_did_document(doc)?;
        }
        for set in &self.jwks {
            for k in &set.keys {
                trust.add_issuer_jwk(&set.issuer, k)?;
            }
        }
        for s in &self.status_lists {
            let uri = trust.add_status_list(&s.token, leeway)?;
            if uri != s.uri {
                return Err(Error::malformed(
                    "trust bundle",
                    format!("the status list listed for {} is the list of {uri}", s.uri),
                ));
            }
        }
        Ok(trust)
    }
}

/// The payload of a bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrustBundle {
    /// Payload version ([`TRUST_BUNDLE_VERSION`]).
    pub version: u32,
    /// When the bundle was made (Unix seconds).
    pub iat: i64,
    /// When it stops being usable (Unix seconds).
    pub exp: i64,
    /// The trust material.
    #[serde(flatten)]
    pub contents: BundleContents,
}

/// What a verifier can say about the bundle it used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustBundleInfo {
    /// Payload version.
    pub version: u32,
    /// When the bundle was made (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// The thumbprint of the key that signed it.
    pub signer: String,
    /// How many IACA certificates, DID documents, JWKS keys and status lists it holds.
    pub iacas: usize,
    /// DID documents.
    pub did_documents: usize,
    /// Issuer identifiers with JWKS.
    pub jwks_issuers: Vec<String>,
    /// Status list URIs.
    pub status_lists: Vec<String>,
}

impl TrustBundleInfo {
    /// Seconds since the bundle was made, at `now` (never negative).
    pub fn age_secs(&self, now: i64) -> i64 {
        (now - self.issued_at).max(0)
    }

    /// A one-line description for reports: age and expiry.
    pub fn describe(&self, now: i64) -> String {
        format!(
            "trust bundle v{} issued {} ({} old), expires {}, signed by {}",
            self.version,
            crate::datetime::format(self.issued_at),
            human_duration(self.age_secs(now)),
            crate::datetime::format(self.expires_at),
            self.signer
        )
    }
}

/// A verified bundle: the trust store to verify with, and what it was.
#[derive(Clone)]
pub struct LoadedBundle {
    /// The trust material, ready for a [`crate::Verifier`].
    pub trust: TrustStore,
    /// The bundle's metadata (for reports and `govcred trust show`).
    pub info: TrustBundleInfo,
    /// The full payload.
    pub bundle: TrustBundle,
}

impl TrustBundle {
    /// Sign a bundle of `contents` made at `now`, valid for `valid_for` seconds.
    /// The contents are loaded first, so a bundle whose material does not load (a
    /// status list signed by a key that is not in the bundle, a bad certificate) is
    /// never written.
    pub fn build(
        contents: &BundleContents,
        now: i64,
        valid_for: i64,
        signer: &dyn Signer,
    ) -> Result<String> {
        if valid_for <= 0 {
            return Err(Error::claim(
                "exp",
                "a trust bundle must be valid for a positive duration",
            ));
        }
        contents.to_trust_store(i64::MAX / 4)?;
        let bundle = TrustBundle {
            version: TRUST_BUNDLE_VERSION,
            iat: now,
            exp: now.saturating_add(valid_for),
            contents: contents.clone(),
        };
        let payload = serde_json::to_vec(&bundle)
            .map_err(|e| Error::malformed("trust bundle", e.to_string()))?;
        let mut header = Map::new();
        header.insert("typ".into(), TRUST_BUNDLE_TYP.into());
        let jwk = signer.public_jwk();
        header.insert("kid".into(), jwk.thumbprint()?.into());
        jose::sign_compact(header, &payload, signer)
    }

    /// Verify a bundle against the pinned signing keys and load it at time `now`.
    pub fn load(
        text: &str,
        pinned: &[VerifyingKey],
        now: i64,
        leeway: i64,
    ) -> Result<LoadedBundle> {
        let text = text.trim();
        if text.len() > MAX_TRUST_BUNDLE_LEN {
            return Err(Error::TooLarge {
                what: "trust bundle",
                size: text.len(),
                limit: MAX_TRUST_BUNDLE_LEN,
            });
        }
        let jws = Jws::decode(text)?;
        if jws.header_str("typ") != Some(TRUST_BUNDLE_TYP) {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: jws.header_str("typ").unwrap_or("(none)").into(),
                expected: TRUST_BUNDLE_TYP,
            });
        }
        let candidates: Vec<&VerifyingKey> = pinned
            .iter()
            .filter(|k| k.alg() == jws.alg())
            .filter(|k| jws.kid().is_none_or(|kid| k.thumbprint() == kid))
            .collect();
        let Some(signer) = candidates.first() else {
            return Err(Error::UnknownKey(format!(
                "the trust bundle's signer ({} key {}): it is not a pinned bundle-signing key (pass the key the bundle publisher uses)",
                jws.alg(),
                jws.kid().unwrap_or("without kid")
            )));
        };
        jws.verify(signer)?;
        let bundle: TrustBundle = serde_json::from_slice(jws.payload())
            .map_err(|e| Error::malformed("trust bundle", e.to_string()))?;
        if bundle.version != TRUST_BUNDLE_VERSION {
            return Err(Error::malformed(
                "trust bundle",
                format!(
                    "version {} is not supported (this verifier reads version {TRUST_BUNDLE_VERSION})",
                    bundle.version
                ),
            ));
        }
        if bundle.exp <= bundle.iat {
            return Err(Error::claim(
                "exp",
                "the trust bundle expires before it was made",
            ));
        }
        if now > bundle.exp.saturating_add(leeway) {
            return Err(Error::TrustBundleExpired {
                until: crate::datetime::format(bundle.exp),
                at: crate::datetime::format(now),
            });
        }
        if bundle.iat > now.saturating_add(leeway) {
            return Err(Error::NotYetValid {
                from: crate::datetime::format(bundle.iat),
                at: crate::datetime::format(now),
            });
        }
        let trust = bundle.contents.to_trust_store(leeway)?;
        let info = TrustBundleInfo {
            version: bundle.version,
            issued_at: bundle.iat,
            expires_at: bundle.exp,
            signer: signer.thumbprint(),
            iacas: bundle.contents.iacas.len(),
            did_documents: bundle.contents.did_documents.len(),
            jwks_issuers: bundle
                .contents
                .jwks
                .iter()
                .map(|j| j.issuer.clone())
                .collect(),
            status_lists: bundle
                .contents
                .status_lists
                .iter()
                .map(|s| s.uri.clone())
                .collect(),
        };
        Ok(LoadedBundle {
            trust,
            info,
            bundle,
        })
    }
}

/// `3d 4h`, `5h 2m`, `12m`, `40s`.
fn human_duration(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(40), "40s");
        assert_eq!(human_duration(3 * 86_400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(human_duration(7260), "2h 1m");
    }
}
