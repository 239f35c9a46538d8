//! SD-JWT (RFC 9901) and SD-JWT VC (`dc+sd-jwt`): selective disclosure with key binding.
//!
//! - [`issue`]: the issuer chooses, per claim path (nested objects and array elements
//!   too), what is selectively disclosable; disclosures are salted (128-bit), digested
//!   with SHA-256, and optionally padded with decoy digests.
//! - [`SdJwt`]: the holder parses what it received, lists the disclosable claims with
//!   their paths, and builds a presentation with a chosen subset and a Key Binding JWT
//!   signed through [`crate::Signer`].
//! - [`verify`]: the verifier checks the issuer's signature, every disclosure (each
//!   digest exactly once, no orphans, no collisions), the Key Binding JWT and the
//!   validity window, and fills the common [`crate::VerificationReport`].
//!
//! Claim paths are written dotted, with array indices as numbers: `address.locality`,
//! `nationalities.1`.
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, format::sd_jwt::{self, SdJwt, SdJwtDraft, KeyBinding, VerifyOptions},
//!               trust::TrustStore, Signer};
//! let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
//! let holder = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut draft = SdJwtDraft::new("https://issuer.example.gov.uk", "urn:eudi:pid:1");
//! draft.claims = serde_json::json!({"given_name": "Sarah", "address": {"locality": "Leeds", "country": "GB"}})
//!     .as_object().unwrap().clone();
//! draft.disclosable = vec!["given_name".into(), "address.locality".into()];
//! draft.holder_key = Some(holder.public_jwk());
//! let issued = sd_jwt::issue(&draft, None, &issuer, 1_800_000_000).unwrap();
//!
//! let held = SdJwt::parse(&issued).unwrap();
//! let kb = KeyBinding { audience: "https://verifier.example".into(), nonce: "n-1".into(), issued_at: 1_800_000_100 };
//! let presented = held.present(&["address.locality"], Some((&kb, &holder as &dyn Signer))).unwrap();
//!
//! let mut trust = TrustStore::new();
//! trust.add_jwk(&issuer.public_jwk()).unwrap();
//! let opts = VerifyOptions { audience: Some("https://verifier.example".into()), nonce: Some("n-1".into()), ..Default::default() };
//! let report = sd_jwt::verify(&presented, &trust, 1_800_000_100, 60, &opts);
//! assert!(report.valid, "{}", report.to_json_pretty());
//! assert_eq!(report.claims.to_value()["address"]["locality"], "Leeds");
//! assert!(report.claims.to_value().get("given_name").is_none());
//! ```

mod disclosure;
mod holder;
mod issuer;
mod path;
mod verifier;

pub use disclosure::Disclosure;
pub use holder::{DisclosableClaim, KeyBinding, SdJwt};
pub use issuer::{issue, SdJwtDraft};
pub use path::{ClaimPath, Segment};
pub use verifier::{process, verify, VerifyOptions};

/// `typ` written for SD-JWT VCs.
pub const TYP: &str = "dc+sd-jwt";
/// `typ` values accepted on input (the current one and the legacy `vc+sd-jwt`).
pub const ACCEPTED_TYP: &[&str] = &[
    "dc+sd-jwt",
    "vc+sd-jwt",
    "application/dc+sd-jwt",
    "application/vc+sd-jwt",
];
/// `typ` of a Key Binding JWT.
pub const KB_TYP: &str = "kb+jwt";
/// The only digest algorithm used and accepted.
pub const SD_ALG: &str = "sha-256";
/// Most disclosures accepted in one SD-JWT.
pub const MAX_DISCLOSURES: usize = 1024;
/// Deepest nesting of objects/arrays walked when reconstructing claims.
pub const MAX_DEPTH: usize = 64;
/// Claims an SD-JWT VC never makes selectively disclosable (SD-JWT VC §3.2.2).
pub const NEVER_DISCLOSABLE: &[&str] = &[
    "iss",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "_sd",
    "_sd_alg",
    "...",
];
/// Registered claims left out of the report's `claims` (they are reported elsewhere).
pub const REGISTERED: &[&str] = &[
    "iss",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "vct",
    "vct#integrity",
    "status",
    "_sd_alg",
];
