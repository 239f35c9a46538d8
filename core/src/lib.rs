//! # govcred — verifiable credentials for government wallets
//!
//! A sans-I/O core for issuing, holding and verifying credentials: W3C VC 2.0 as
//! JWT (GOV.UK profile) and with Data Integrity proofs, did:key / did:jwk / did:web,
//! and a single [`report::VerificationReport`] for every format. Time and signing keys
//! come through the traits in [`platform`], so the same code runs on a phone, in a
//! server and in tests.
//!
//! ```
//! use std::sync::Arc;
//! use govcred::{crypto::{Alg, SoftwareKey}, did, format::jwt_vc::{self, CredentialDraft},
//!               trust::TrustStore, FixedClock, Signer, Verifier};
//!
//! // A department's key, published as did:web.
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let issuer_did = did::web::from_domain("issuer.example.gov.uk").unwrap();
//! let did_doc = did::web::did_document(&issuer_did, &[key.verifying_key().clone()]).unwrap();
//! let kid = format!("{issuer_did}#{}", did::web::key_id(key.verifying_key()));
//!
//! // Issue a veteran card.
//! let mut draft = CredentialDraft::new("https://issuer.example.gov.uk", "DigitalVeteranCard");
//! draft.subject.insert("serviceNumber".into(), "25057386".into());
//! draft.valid_until = Some(1_800_000_000);
//! let token = jwt_vc::issue(&draft, &kid, &key, 1_700_000_000).unwrap();
//!
//! // Verify offline with the did.json fetched earlier.
//! let mut trust = TrustStore::new();
//! trust.add_did_document(&did_doc).unwrap();
//! let verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(1_700_000_000)));
//! let report = verifier.verify(token.as_bytes());
//! assert!(report.valid);
//! assert_eq!(report.claims.to_value()["serviceNumber"], "25057386");
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod b64;
pub mod crypto;
pub mod datetime;
pub mod did;
pub mod error;
pub mod format;
pub mod jose;
pub mod json;
pub mod jwe;
pub mod oid4vci;
pub mod oid4vp;
pub mod pki;
pub mod platform;
pub mod proximity;
pub mod report;
pub mod status;
#[cfg(feature = "store")]
pub mod store;
pub mod trust;
pub mod trust_bundle;
pub mod vc;
pub mod verifier;
pub mod x509;

pub use error::{Error, ErrorCode, Result};
pub use platform::{
    Clock, FixedClock, KeyProtector, KeySettings, KeyStore, KeyStoreSigner, Signer, SystemClock,
};
pub use report::{Format, Outcome, VerificationReport};
pub use verifier::Verifier;
