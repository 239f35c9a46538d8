//! DID documents: the verification methods and which purposes each may serve.

use std::sync::Arc;

use serde_json::Value;

use crate::crypto::{Jwk, VerifyingKey};
use crate::error::{Error, Result};

/// A verification relationship (DID Core §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Relationship {
    /// `authentication`: proving control of the DID (e.g. key binding).
    Authentication,
    /// `assertionMethod`: issuing credentials.
    AssertionMethod,
    /// `keyAgreement`.
    KeyAgreement,
    /// `capabilityInvocation`.
    CapabilityInvocation,
    /// `capabilityDelegation`.
    CapabilityDelegation,
}

impl Relationship {
    /// Every relationship, in DID Core order.
    pub const ALL: [Relationship; 5] = [
        Relationship::Authentication,
        Relationship::AssertionMethod,
        Relationship::KeyAgreement,
        Relationship::CapabilityInvocation,
        Relationship::CapabilityDelegation,
    ];

    /// The DID document member name.
    pub fn member(self) -> &'static str {
        match self {
            Relationship::Authentication => "authentication",
            Relationship::AssertionMethod => "assertionMethod",
            Relationship::KeyAgreement => "keyAgreement",
            Relationship::CapabilityInvocation => "capabilityInvocation",
            Relationship::CapabilityDelegation => "capabilityDelegation",
        }
    }
}

/// A verification method whose key govcred can use.
#[derive(Clone, Debug)]
pub struct VerificationMethod {
    /// Absolute DID URL of the method.
    pub id: String,
    /// Its controller DID.
    pub controller: String,
    /// The parsed key.
    pub key: VerifyingKey,
}

/// A parsed DID document. Methods with key types govcred cannot use (X25519,
/// secp256k1, blockchain accounts…) are kept out, with the reason in [`DidDocument::skipped`].
#[derive(Clone, Debug)]
pub struct DidDocument {
    /// The DID.
    pub id: String,
    methods: Vec<(VerificationMethod, Arc<VerifyingKey>)>,
    relationships: Vec<(Relationship, String)>,
    skipped: Vec<(String, String)>,
}

fn absolute(doc_id: &str, id: &str) -> String {
    if id.starts_with('#') {
        format!("{doc_id}{id}")
    } else {
        id.to_string()
    }
}

impl DidDocument {
    pub(crate) fn single_key(did: &str, vm: VerificationMethod, signing: bool) -> Self {
        let relationships = Relationship::ALL
            .iter()
            .filter(|r| signing != (**r == Relationship::KeyAgreement))
            .map(|r| (*r, vm.id.clone()))
            .collect();
        let key = Arc::new(vm.key.clone());
        DidDocument {
            id: did.to_string(),
            methods: vec![(vm, key)],
            relationships,
            skipped: Vec::new(),
        }
    }

    /// Parse a DID document (JSON).
    pub fn from_json(json: &Value) -> Result<Self> {
        let obj = json.as_object().ok_or_else(|| Error::InvalidDidDocument {
            did: "(unknown)".into(),
            reason: "not a JSON object".into(),
        })?;
        let id =
            obj.get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::InvalidDidDocument {
                    did: "(unknown)".into(),
                    reason: "no `id`".into(),
                })?;
        crate::did::DidUrl::parse(id)?;
        let bad = |reason: String| Error::InvalidDidDocument {
            did: id.into(),
            reason,
        };
        let mut doc = DidDocument {
            id: id.to_string(),
            methods: Vec::new(),
            relationships: Vec::new(),
            skipped: Vec::new(),
        };
        if let Some(vms) = obj.get("verificationMethod") {
            let vms = vms
                .as_array()
                .ok_or_else(|| bad("`verificationMethod` must be an array".into()))?;
            for vm in vms {
                doc.add_method(vm)?;
            }
        }
        for rel in Relationship::ALL {
            let Some(entries) = obj.get(rel.member()) else {
                continue;
            };
            let entries = entries
                .as_array()
                .ok_or_else(|| bad(format!("`{}` must be an array", rel.member())))?;
            for entry in entries {
                let vm_id = match entry {
                    Value::String(s) => absolute(id, s),
                    Value::Object(_) => doc.add_method(entry)?,
                    _ => {
                        return Err(bad(format!(
                            "`{}` entries must be strings or objects",
                            rel.member()
                        )))
                    }
                };
                doc.relationships.push((rel, vm_id));
            }
        }
        Ok(doc)
    }

    /// Parse one verification method and add it; returns its absolute id.
    fn add_method(&mut self, vm: &Value) -> Result<String> {
        let bad = |reason: String| Error::InvalidDidDocument {
            did: self.id.clone(),
            reason,
        };
        let vm_id = vm
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("a verification method has no `id`".into()))?;
        let vm_id = absolute(&self.id, vm_id);
        let controller = vm
            .get("controller")
            .and_then(Value::as_str)
            .map(|c| c.to_string())
            .unwrap_or_else(|| self.id.clone());
        let key = if let Some(jwk) = vm.get("publicKeyJwk") {
            serde_json::from_value::<Jwk>(jwk.clone())
                .map_err(|e| Error::InvalidKey(e.to_string()))
                .and_then(|j| {
                    if j.is_private() {
                        Err(Error::InvalidKey(
                            "private key material in a DID document".into(),
                        ))
                    } else {
                        VerifyingKey::from_jwk(&j)
                    }
                })
        } else if let Some(mb) = vm.get("publicKeyMultibase").and_then(Value::as_str) {
            crate::did::key::from_multibase(mb)
        } else if let Some(b58) = vm.get("publicKeyBase58").and_then(Value::as_str) {
            match vm.get("type").and_then(Value::as_str) {
                Some("Ed25519VerificationKey2018") => bs58::decode(b58)
                    .into_vec()
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| Error::InvalidKey("bad publicKeyBase58".into()))
                    .and_then(|b| VerifyingKey::from_ed25519(&b)),
                other => Err(Error::InvalidKey(format!(
                    "publicKeyBase58 of type {other:?}"
                ))),
            }
        } else {
            Err(Error::InvalidKey(
                "no publicKeyJwk or publicKeyMultibase".into(),
            ))
        };
        match key {
            Ok(key) => {
                let arc = Arc::new(key.clone());
                self.methods.push((
                    VerificationMethod {
                        id: vm_id.clone(),
                        controller,
                        key,
                    },
                    arc,
                ));
            }
            Err(e) => self.skipped.push((vm_id.clone(), e.to_string())),
        }
        Ok(vm_id)
    }

    /// The usable verification methods.
    pub fn methods(&self) -> impl Iterator<Item = &VerificationMethod> {
        self.methods.iter().map(|(m, _)| m)
    }

    /// Methods left out, with why.
    pub fn skipped(&self) -> &[(String, String)] {
        &self.skipped
    }

    /// Whether method `vm_id` is listed under `relationship`.
    pub fn authorises(&self, vm_id: &str, relationship: Relationship) -> bool {
        self.relationships
            .iter()
            .any(|(r, id)| *r == relationship && id == vm_id)
    }

    /// The key of method `vm_id`, if it is authorised for `relationship`.
    pub fn key_for(&self, vm_id: &str, relationship: Relationship) -> Result<Arc<VerifyingKey>> {
        let vm_id_abs = absolute(&self.id, vm_id);
        let Some((_, key)) = self.methods.iter().find(|(m, _)| m.id == vm_id_abs) else {
            if let Some((_, why)) = self.skipped.iter().find(|(id, _)| *id == vm_id_abs) {
                return Err(Error::InvalidKey(format!("{vm_id_abs}: {why}")));
            }
            return Err(Error::UnknownKey(format!(
                "{vm_id_abs} (not a verification method of {})",
                self.id
            )));
        };
        if !self.authorises(&vm_id_abs, relationship) {
            return Err(Error::InvalidDidDocument {
                did: self.id.clone(),
                reason: format!("{vm_id_abs} is not listed in `{}`", relationship.member()),
            });
        }
        Ok(key.clone())
    }
}
