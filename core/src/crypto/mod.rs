//! Keys, algorithms and the signature backends.
//!
//! Only two JOSE algorithms exist here, on purpose: **ES256** (ECDSA P-256 with
//! SHA-256, the algorithm of every GOV.UK credential, ISO mdoc and OpenID4VCI) and
//! **EdDSA** (Ed25519). Everything else is refused before any key is touched.
//!
//! **ES384** (ECDSA P-384 with SHA-384) exists for *verification only*: the GOV.UK
//! "Gov Checker" reader certificates are P-384 / ecdsa-with-SHA384 (profile §6.5) and
//! an ISO 18013-5 IACA or Document Signer may be P-384 (COSE alg -35). So a
//! [`VerifyingKey`] can be P-384 and verify raw `R‖S` (96 bytes, COSE) and ASN.1
//! (X.509) signatures, but no govcred key signs ES384 ([`SoftwareKey::generate`] refuses
//! it) and the JOSE policy is unchanged: [`Alg::from_jose`] still refuses `"ES384"`,
//! because the GOV.UK profile signs every JWT with ES256 (§2) — a JWS, SD-JWT or JWT VC
//! with `alg: ES384` gives [`Error::AlgNotAllowed`] exactly as before.
//!
//! Backends (measured on the project machine, one core):
//! - P-256 uses **aws-lc-rs**: about 20k verifies/s and 64k signs/s, against 4.1k/7.1k
//!   for the pure-Rust `p256` crate. It builds for iOS and Android (it is already the
//!   default provider of rustls on those targets), offers a FIPS 140-3 validated mode for
//!   departments that need one, and zeroizes key material when it is freed. Public keys
//!   are parsed once ([`VerifyingKey`]) so each verification is just the curve maths.
//! - Ed25519 uses **ed25519-dalek** (`verify_strict`, which refuses small-order and
//!   non-canonical points): about 34k verifies/s, faster than either C library here.
//! - The pure-Rust `p256` crate is used only for point arithmetic that the backend does
//!   not expose: decompressing the compressed points inside `did:key` identifiers and
//!   deriving a public point from a known scalar.

mod jwk;
mod keys;
mod software_platform;

pub use jwk::{Jwk, SecretString};
pub use keys::{EcdsaHash, SoftwareKey, VerifyingKey};
pub use software_platform::{SoftwareKeyProtector, SoftwareKeyStore};

use crate::error::{Error, Result};

/// A JOSE signature algorithm that govcred accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Alg {
    /// ECDSA with P-256 and SHA-256; signature is 64-byte `R‖S`.
    ES256,
    /// Ed25519 (RFC 8037); signature is 64 bytes.
    EdDSA,
    /// ECDSA with P-384 and SHA-384; signature is 96-byte `R‖S`. **Verification only**
    /// (ISO 18013-5 reader authentication and mdoc issuerAuth, COSE alg -35): never
    /// produced by [`Alg::from_jose`], and no software key signs with it.
    ES384,
}

impl Alg {
    /// The JOSE `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::ES256 => "ES256",
            Alg::EdDSA => "EdDSA",
            Alg::ES384 => "ES384",
        }
    }

    /// The COSE algorithm label (RFC 9053): ES256 -7, EdDSA -8, ES384 -35.
    pub fn cose_label(self) -> i64 {
        match self {
            Alg::ES256 => -7,
            Alg::EdDSA => -8,
            Alg::ES384 => -35,
        }
    }

    /// Parse a JOSE `alg`. `none`, HMAC, RSA and every other value are refused with
    /// [`Error::AlgNotAllowed`]. The fully-specified `Ed25519` (RFC 9864) is read as EdDSA.
    /// `ES384` is refused too: the GOV.UK profile signs JOSE objects with ES256 only, and
    /// ES384 is accepted only where ISO 18013-5 needs it (COSE, X.509).
    pub fn from_jose(alg: &str) -> Result<Self> {
        match alg {
            "ES256" => Ok(Alg::ES256),
            "EdDSA" | "Ed25519" => Ok(Alg::EdDSA),
            other => Err(Error::AlgNotAllowed {
                alg: other.to_string(),
            }),
        }
    }

    /// The key type a key for this algorithm has, as people read it.
    pub fn key_description(self) -> &'static str {
        match self {
            Alg::ES256 => "EC P-256",
            Alg::EdDSA => "OKP Ed25519",
            Alg::ES384 => "EC P-384",
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Alg {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Alg::from_jose(s)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Constant-time equality for secrets (nonces, codes, MACs).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
