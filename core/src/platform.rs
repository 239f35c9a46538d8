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
