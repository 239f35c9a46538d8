//! The contracts the outside world implements.
//!
//! The core does no I/O of its own: time and signing keys reach it through these
//! small traits, so the same code runs on a phone (Secure Enclave / StrongBox keys,
//! platform clock), in the CLI (software keys) and in tests (fixed clock).
//! Key storage ([`KeyStore`], [`KeyProtector`]) is here too; later parts add HTTP and
//! proximity transport.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::crypto::{Alg, Jwk};
use crate::error::{Error, Result};

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

/// Wraps and unwraps the wallet store's data key with a key the platform protects:
/// the iOS Keychain / Secure Enclave, the Android Keystore / StrongBox, or (CLI,
/// tests) [`crate::crypto::SoftwareKeyProtector`].
///
/// The store keeps only the wrapped form of its data key. `unwrap` must fail (never
/// return other bytes) when the wrapped key was not produced by this protector: an
/// AEAD or the platform's own key wrapping gives that for free. Failures are
/// [`Error::WrongKey`] (the key does not open it), [`Error::KeyInvalidated`] (the
/// platform dropped the key) or [`Error::CryptoBackend`].
///
/// ```
/// use govcred::{crypto::SoftwareKeyProtector, KeyProtector};
/// let protector = SoftwareKeyProtector::generate().unwrap();
/// let wrapped = protector.wrap(&[7u8; 32]).unwrap();
/// assert_eq!(&protector.unwrap(&wrapped).unwrap()[..], &[7u8; 32]);
/// assert_eq!(SoftwareKeyProtector::generate().unwrap().unwrap(&wrapped).unwrap_err().code(),
///            govcred::ErrorCode::WrongKey);
/// ```
pub trait KeyProtector: Send + Sync {
    /// Encrypt (wrap) `key` for storage next to the data it protects.
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>>;
    /// Decrypt (unwrap) what [`KeyProtector::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
    /// Destroy the wrapping key (sign-out / wipe): nothing it wrapped can be opened again.
    fn destroy(&self) -> Result<()>;
}

/// What to ask of a new key in a [`KeyStore`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeySettings {
    /// Require user authentication (biometrics / passcode) for each use, where the
    /// platform supports it. Software stores ignore it.
    pub user_authentication: bool,
    /// Allow ECDH key agreement with this key as well as signing.
    pub key_agreement: bool,
}

/// A secure area holding non-exportable P-256 keys by alias — the Secure Enclave,
/// Android Keystore/StrongBox, a PKCS#11 token, or (CLI, tests)
/// [`crate::crypto::SoftwareKeyStore`]. Modelled on Multipaz's `SecureArea`: create,
/// sign, public key, optional key agreement, delete. Device-binding keys of
/// credentials are made and used through it and never leave it.
///
/// A key the platform invalidated (biometrics re-enrolled…) gives
/// [`Error::KeyInvalidated`]; an unknown alias gives [`Error::KeyNotFound`].
///
/// ```
/// use std::sync::Arc;
/// use govcred::{crypto::SoftwareKeyStore, KeySettings, KeyStore, KeyStoreSigner, Signer};
/// let store: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_memory());
/// let jwk = store.create_key("device", &KeySettings::default()).unwrap();
/// let signer = KeyStoreSigner::new(store.clone(), "device").unwrap();
/// let sig = signer.sign(b"bytes to sign").unwrap();
/// govcred::crypto::VerifyingKey::from_jwk(&jwk).unwrap()
///     .verify(govcred::crypto::Alg::ES256, b"bytes to sign", &sig).unwrap();
/// ```
pub trait KeyStore: Send + Sync {
    /// Create a new P-256 key under `alias` (replacing none: an existing alias is an
    /// error) and return its public JWK.
    fn create_key(&self, alias: &str, settings: &KeySettings) -> Result<Jwk>;
    /// The public key of `alias`, as a JWK without private members.
    fn public_jwk(&self, alias: &str) -> Result<Jwk>;
    /// Sign `bytes` with ES256; the signature is `R‖S` (64 bytes), not DER.
    fn sign(&self, alias: &str, bytes: &[u8]) -> Result<Vec<u8>>;
    /// ECDH with the peer's P-256 public key (a JWK); returns the shared secret
    /// (the x coordinate, 32 bytes). Optional: the default refuses.
    fn key_agreement(&self, alias: &str, peer: &Jwk) -> Result<Zeroizing<Vec<u8>>> {
        let _ = peer;
        Err(Error::CryptoBackend(format!(
            "key {alias:?}: this key store does not support key agreement"
        )))
    }
    /// Delete the key. Deleting an unknown alias is not an error.
    fn delete_key(&self, alias: &str) -> Result<()>;
    /// The aliases of the keys held.
    fn aliases(&self) -> Result<Vec<String>>;
}

/// A [`Signer`] for one key of a [`KeyStore`], so everything that signs through
/// `Signer` (credential issuing, key binding, proofs) can use platform keys.
#[derive(Clone)]
pub struct KeyStoreSigner {
    store: Arc<dyn KeyStore>,
    alias: String,
    jwk: Jwk,
}

impl KeyStoreSigner {
    /// The signer for `alias` (its public key is read once).
    pub fn new(store: Arc<dyn KeyStore>, alias: &str) -> Result<Self> {
        let jwk = store.public_jwk(alias)?;
        Ok(KeyStoreSigner {
            store,
            alias: alias.to_string(),
            jwk,
        })
    }

    /// The key's alias.
    pub fn alias(&self) -> &str {
        &self.alias
    }
}

impl std::fmt::Debug for KeyStoreSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStoreSigner")
            .field("alias", &self.alias)
            .finish()
    }
}

impl Signer for KeyStoreSigner {
    fn alg(&self) -> Alg {
        Alg::ES256
    }
    fn public_jwk(&self) -> Jwk {
        self.jwk.clone()
    }
    fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        self.store.sign(&self.alias, bytes)
    }
}

/// An HTTP request for an [`HttpClient`] (also what the sans-I/O protocol engines take in).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The absolute URL (for a client) or the path with query (for a server engine).
    pub url: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
    /// Largest response body the caller accepts; a client stops reading past it and
    /// fails (the caller checks again).
    pub max_response_bytes: usize,
}

impl HttpRequest {
    /// A `GET` of `url` accepting at most `max_response_bytes`.
    pub fn get(url: impl Into<String>, max_response_bytes: usize) -> Self {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            max_response_bytes,
            ..Default::default()
        }
    }

    /// A `POST` of `body` with `content_type`.
    pub fn post(
        url: impl Into<String>,
        content_type: &str,
        body: Vec<u8>,
        max_response_bytes: usize,
    ) -> Self {
        HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: vec![("content-type".into(), content_type.into())],
            body,
            max_response_bytes,
        }
    }

    /// Add a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// An HTTP response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Sends HTTP requests: the app passes its platform stack (URLSession, OkHttp), the
/// CLI a Rust client. Implementations follow no redirects to other origins, use TLS
/// for `https`, and stop reading a body past [`HttpRequest::max_response_bytes`]
/// (returning [`crate::Error::TooLarge`] or [`crate::Error::Http`]). A non-2xx status
/// is a normal response, not an error.
///
/// ```
/// use govcred::platform::{HttpClient, HttpRequest, HttpResponse};
/// struct Canned;
/// impl HttpClient for Canned {
///     fn send(&self, _req: &HttpRequest) -> govcred::Result<HttpResponse> {
///         Ok(HttpResponse { status: 200, headers: vec![], body: b"{}".to_vec() })
///     }
/// }
/// let r = Canned.send(&HttpRequest::get("https://issuer.example/.well-known/openid-credential-issuer", 1024)).unwrap();
/// assert_eq!(r.status, 200);
/// ```
pub trait HttpClient: Send + Sync {
    /// Send `request` and return the response (any status).
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse>;
}
