//! The contracts the outside world implements.
//!
//! The core does no I/O of its own: time and signing keys reach it through these
//! small traits, so the same code runs on a phone (Secure Enclave / StrongBox keys,
//! platform clock), in the CLI (software keys) and in tests (fixed clock).
//! Later parts add key storage, HTTP and proximity transport here.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::crypto::{Alg, Jwk};
use crate::error::Result;

/// Source of the current time, in whole seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// Seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> i64;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// A clock that says what it is told: for tests and for checking old vectors.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock stopped at `unix_seconds`.
    pub fn new(unix_seconds: i64) -> Self {
        FixedClock(AtomicI64::new(unix_seconds))
    }
    /// Move the clock.
    pub fn set(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::Relaxed)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Something that signs "bytes to sign" and returns the signature — a software key,
/// a phone's secure element, an HSM or a remote signing service.
///
/// The signature is in the JOSE form for its algorithm: 64-byte `R‖S` for ES256
/// (not DER), 64 bytes for EdDSA. A signer backed by hardware that returns DER must
/// convert it to `R‖S` first.
///
/// ```
/// use govcred::{crypto::{Alg, SoftwareKey}, Signer};
/// let key = SoftwareKey::generate(Alg::EdDSA).unwrap();
/// let sig = key.sign(b"bytes to sign").unwrap();
/// assert_eq!(sig.len(), 64);
/// assert!(key.public_jwk().d.is_none());
/// ```
pub trait Signer: Send + Sync {
    /// The JOSE algorithm this signer produces.
    fn alg(&self) -> Alg;
    /// The public key, as a JWK without private members.
    fn public_jwk(&self) -> Jwk;
    /// Sign `bytes` (the whole message; the signer hashes as its algorithm requires).
    fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>>;
}
