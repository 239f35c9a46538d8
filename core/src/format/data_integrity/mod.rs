//! W3C Data Integrity proofs (eddsa-rdfc-2022, ecdsa-rdfc-2019) on VC 2.0
//! credentials, through `ssi`, fully offline.
//!
//! JSON-LD contexts come from those the caller adds to the [`TrustStore`], then the
//! ones bundled here ([`BUNDLED_CONTEXTS`]), then ssi's bundled set (VC 1.1/2.0, Data
//! Integrity, Multikey, DID…); did:key resolves from the identifier, did:web from
//! documents in the trust store. Nothing is fetched.
//!
//! JSON-LD processing is strict: every term must be defined by a context. VC 2.0's base
//! context defines the data model but not issuer-specific claims (`DigitalVeteranCard`,
//! `serviceNumber`…), so when a draft names no context of its own, [`issue`] adds the
//! W3C "undefined terms" context, which maps them into the issuer-dependent vocabulary.

/// The ssi-backed proof layer: check and create proofs, without the credential-level checks.
pub mod proof;

use serde_json::Value;

use crate::crypto::Alg;
use crate::datetime;
use crate::error::{Error, Result};
use crate::format::jwt_vc::CredentialDraft;
use crate::platform::Signer;
use crate::report::{Claims, Format, VerificationReport};
use crate::trust::{issuer_controls_did, TrustStore};
use crate::vc;

pub use proof::{DiProofInfo, DiSuite};

/// The W3C context that maps terms no other context defines.
pub const UNDEFINED_TERMS_V2: &str = "https://www.w3.org/ns/credentials/undefined-terms/v2";

/// Contexts bundled with govcred beyond ssi's own: (URL, document).
pub const BUNDLED_CONTEXTS: &[(&str, &str)] = &[(
    UNDEFINED_TERMS_V2,
    r#"{"@context": {"@vocab": "https://www.w3.org/ns/credentials/undefined-term#"}}"#,
)];

/// Largest Data Integrity document accepted: 1 MiB.
pub const MAX_DOCUMENT_LEN: usize = 1024 * 1024;

fn offline(trust: &TrustStore) -> Result<proof::DiOffline> {
    let mut did_documents = Vec::new();
    for did in trust.dids().dids() {
        if let Some(doc) = trust.dids().raw_document(did) {
            did_documents.push((did.to_string(), doc.clone()));
        }
    }
    Ok(proof::DiOffline {
        did_documents,
        extra_contexts: trust
            .contexts()
            .iter()
            .cloned()
            .chain(
                BUNDLED_CONTEXTS
                    .iter()
                    .map(|(u, d)| (u.to_string(), d.to_string())),
            )
            .collect(),
    })
}

fn map_err(e: proof::DiError) -> Error {
    use proof::DiError as D;
    match e {
        D::Malformed(m) if m.contains("expansion") => Error::malformed(
            "Data Integrity document",
            format!("{m}: a term or type is not defined by the document's JSON-LD contexts (add a context that defines it, e.g. {UNDEFINED_TERMS_V2})"),
        ),
        D::Malformed(m) => Error::malformed("Data Integrity document", m),
        D::UnsupportedSuite(s) => Error::AlgNotAllowed { alg: s },
        D::UnresolvedMethod(m) => Error::UnknownKey(m),
        D::Context(c) => Error::ContextUnavailable(c),
        D::SignatureInvalid(m) => Error::DataIntegrityProofInvalid(m),
        D::NotAuthorised(m) => Error::InvalidDidDocument {
            did: m.split('#').next().unwrap_or_default().to_string(),
            reason: m,
        },
        D::Signer(m) => Error::SignerFailed(m),
    }
}

/// Issue `draft` with an eddsa-rdfc-2022 proof made by `signer` (an Ed25519 key) for
/// verification method `verification_method` (a DID URL of the issuer), at `now`.
pub fn issue(
    draft: &CredentialDraft,
    verification_method: &str,
    signer: &dyn Signer,
    now: i64,
    trust: &TrustStore,
) -> Result<Value> {
    if signer.alg() != Alg::EdDSA {
        return Err(Error::KeyAlgMismatch {
            key: signer.alg().key_description().into(),
            alg: "eddsa-rdfc-2022 (Ed25519)".into(),
        });
    }
    let credential = if draft.contexts.is_empty() {
        let mut d = draft.clone();
        d.contexts.push(UNDEFINED_TERMS_V2.into());
        d.to_credential(now)?
    } else {
        draft.to_credential(now)?
    };
    let credential = Value::Object(credential);
    let jwk = signer.public_jwk();
    let public = crate::b64::decode(jwk.x.as_deref().unwrap_or_default(), "Ed25519 public key")?;
    let public: [u8; 32] = public
        .try_into()
        .map_err(|_| Error::InvalidKey("Ed25519 public key must be 32 bytes".into()))?;
    let sign = |bytes: &[u8]| signer.sign(bytes).map_err(|e| e.to_string());
    proof::sign_eddsa_rdfc_2022(
        &credential,
        verification_method,
        public,
        &datetime::format(now),
        &sign,
        &offline(trust)?,
    )
    .map_err(map_err)
}

/// Verify a credential secured with Data Integrity, offline, at `now`.
pub fn verify(input: &[u8], trust: &TrustStore, now: i64, leeway: i64) -> VerificationReport {
    let mut report = VerificationReport::new(Format::DiVc, now);
    let parsed: Result<serde_json::Map<String, Value>> = if input.len() > MAX_DOCUMENT_LEN {
        Err(Error::TooLarge {
            what: "Data Integrity document",
            size: input.len(),
            limit: MAX_DOCUMENT_LEN,
        })
    } else {
        serde_json::from_slice(input).map_err(|e| {
            Error::malformed("Data Integrity document", format!("not a JSON object: {e}"))
        })
    };
    let doc = match parsed {
        Ok(d) if d.contains_key("proof") => d,
        Ok(_) => {
            report.fail(
                "format",
                &Error::malformed("Data Integrity document", "no `proof`"),
            );
            return report.finish();
        }
        Err(e) => {
            report.fail("format", &e);
            return report.finish();
        }
    };
    report.pass("format", "JSON credential with a Data Integrity proof");

    let info = vc::check_credential(&doc);
    crate::format::record_data_model(&mut report, &info);

    let value = Value::Object(doc);
    let proofs = offline(trust).and_then(|o| proof::verify(&value, &o, now).map_err(map_err));
    report.record("signature", &proofs, |p| {
        p.iter()
            .map(|p| {
                format!(
                    "{} proof by {} verified",
                    suite_name(&p.suite),
                    p.verification_method
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    });

    if let (Ok(proofs), Ok(info)) = (&proofs, &info) {
        let binding = proofs
            .iter()
            .map(|p| {
                let did = p.verification_method.split('#').next().unwrap_or_default();
                if p.proof_purpose != "assertionMethod" {
                    Err(Error::UntrustedIssuer(format!(
                        "proof purpose is {:?}, not assertionMethod",
                        p.proof_purpose
                    )))
                } else if issuer_controls_did(&info.issuer, did) {
                    Ok(format!("{did} is the issuer"))
                } else {
                    Err(Error::UntrustedIssuer(format!(
                        "proof by {did}, but the issuer is {}",
                        info.issuer
                    )))
                }
            })
            .collect::<Result<Vec<_>>>()
            .map(|v| v.join("; "));
        report.record("issuer_binding", &binding, |d| d.clone());
    }

    if let Ok(info) = &info {
        let window = vc::check_window(info.valid_from, info.valid_until, now, leeway);
        report.record("validity_period", &window, |d| d.clone());
    }
    if proofs.is_ok() {
        if let Some(doc) = value.as_object() {
            crate::status::check_claims(&mut report, trust, doc, now);
        }
    }
    if proofs.is_ok() {
        report.claims = value
            .get("credentialSubject")
            .map(Claims::from_value)
            .unwrap_or_default();
    }
    report.finish()
}

fn suite_name(s: &DiSuite) -> &'static str {
    match s {
        DiSuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
        DiSuite::EcdsaRdfc2019 => "ecdsa-rdfc-2019",
    }
}
