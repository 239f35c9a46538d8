//! The traits the app implements — key store, key protector, HTTP — and the adapters
//! that make them the core's [`govcred::KeyStore`], [`govcred::KeyProtector`] and
//! [`govcred::platform::HttpClient`].
//!
//! A callback may fail by throwing `GovcredError.Failed` with a code the core acts on
//! (`key_not_found`, `key_invalidated`, `wrong_key`, `crypto_backend`) or with any
//! other exception: that comes back to the caller as a typed `GovcredError` with
//! `signer_failed` (key store), `storage` (key protector) or `http_failed` (HTTP),
//! never as a crash.

use std::sync::Arc;

use govcred::crypto::Jwk;
use govcred::platform::{HttpClient, KeySettings};
use zeroize::Zeroizing;

use crate::error::{FfiResult, GovcredError};

/// A secure area holding non-exportable P-256 keys by alias: the Secure Enclave, the
/// Android Keystore / StrongBox. Device-binding keys of credentials are made and used
/// through it and never leave it.
///
/// ```kotlin
/// class AndroidKeys : PlatformKeyStore {
///     override fun createKey(alias: String): String { /* KeyPairGenerator "EC", secp256r1 */ }
///     override fun publicKey(alias: String): String { /* {"kty":"EC","crv":"P-256","x":…,"y":…} */ }
///     override fun sign(alias: String, data: ByteArray): ByteArray { /* SHA256withECDSA, DER → R‖S */ }
///     override fun deleteKey(alias: String) { keyStore.deleteEntry(alias) }
/// }
/// ```
#[uniffi::export(with_foreign)]
pub trait PlatformKeyStore: Send + Sync {
    /// Create a new P-256 key under `alias` (an existing alias is an error) and return
    /// its public key as a JWK (JSON text: `kty` `EC`, `crv` `P-256`, `x`, `y`).
    fn create_key(&self, alias: String) -> FfiResult<String>;
    /// The public key of `alias` as a JWK (JSON text). Unknown alias: throw
    /// `GovcredError.Failed` with code `key_not_found`.
    fn public_key(&self, alias: String) -> FfiResult<String>;
    /// Sign `data` (the whole message: hash it with SHA-256) with ECDSA P-256 and
    /// return the raw 64-byte `R‖S` signature (not DER).
    fn sign(&self, alias: String, data: Vec<u8>) -> FfiResult<Vec<u8>>;
    /// Delete the key; an unknown alias is not an error.
    fn delete_key(&self, alias: String) -> FfiResult<()>;
}

/// Wraps and unwraps the wallet store's data key with a key the platform protects
/// (Keychain / Secure Enclave, Android Keystore). `unwrap` must fail — never return
/// other bytes — for anything `wrap` did not produce: use an AEAD (AES-GCM) or the
/// platform's key wrapping. Throw `wrong_key` when the key does not open it,
/// `key_invalidated` when the platform dropped the key.
#[uniffi::export(with_foreign)]
pub trait PlatformKeyProtector: Send + Sync {
    /// Encrypt (wrap) `key` for storage next to the data it protects.
    fn wrap(&self, key: Vec<u8>) -> FfiResult<Vec<u8>>;
    /// Decrypt (unwrap) what `wrap` returned.
    fn unwrap(&self, wrapped: Vec<u8>) -> FfiResult<Vec<u8>>;
    /// Destroy the wrapping key (sign-out): nothing it wrapped can be opened again.
    /// (Not `destroy`: generated Kotlin objects already have a `destroy()`.)
    fn destroy_key(&self) -> FfiResult<()>;
}

/// A header of an HTTP request or response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// An HTTP request the core asks the app to send.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Headers to send, in order.
    pub headers: Vec<HttpHeader>,
    /// The body (empty for `GET`).
    pub body: Vec<u8>,
    /// Largest response body the core accepts: stop reading past it.
    pub max_response_bytes: u64,
}

/// The answer to an [`HttpRequest`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// Status code (any: a 4xx is a response, not an error).
    pub status: u16,
    /// Response headers.
    pub headers: Vec<HttpHeader>,
    /// The body.
    pub body: Vec<u8>,
}

/// The app's HTTP stack (URLSession, OkHttp, `java.net.http`). Follow no redirects to
/// other origins, use TLS for `https`, return non-2xx statuses as responses; throw
/// (any exception) only when no response was received.
#[uniffi::export(with_foreign)]
pub trait PlatformHttp: Send + Sync {
    /// Send `request` and return the response.
    fn send(&self, request: HttpRequest) -> FfiResult<HttpResponse>;
}

fn signer_failed(detail: String) -> govcred::Error {
    govcred::Error::SignerFailed(detail)
}

fn storage(detail: String) -> govcred::Error {
    govcred::Error::Storage(format!("the app's key protector failed: {detail}"))
}

fn http_failed(detail: String) -> govcred::Error {
    govcred::Error::Http(detail)
}

/// The app's key store as the core's [`govcred::KeyStore`].
pub(crate) struct KeyStoreAdapter(pub Arc<dyn PlatformKeyStore>);

fn parse_public_jwk(alias: &str, text: &str) -> govcred::Result<Jwk> {
    let jwk = Jwk::from_json(text)?;
    let key = govcred::crypto::VerifyingKey::from_jwk(&jwk)?;
    if key.alg() != govcred::crypto::Alg::ES256 {
        return Err(govcred::Error::InvalidKey(format!(
            "key {alias:?}: the key store must make P-256 keys"
        )));
    }
    Ok(jwk.to_public())
}

impl govcred::KeyStore for KeyStoreAdapter {
    fn create_key(&self, alias: &str, _settings: &KeySettings) -> govcred::Result<Jwk> {
        let text = self
            .0
            .create_key(alias.to_string())
            .map_err(|e| e.into_core(signer_failed))?;
        parse_public_jwk(alias, &text)
    }

    fn public_jwk(&self, alias: &str) -> govcred::Result<Jwk> {
        let text = self
            .0
            .public_key(alias.to_string())
            .map_err(|e| e.into_core(signer_failed))?;
        parse_public_jwk(alias, &text)
    }

    fn sign(&self, alias: &str, bytes: &[u8]) -> govcred::Result<Vec<u8>> {
        let sig = self
            .0
            .sign(alias.to_string(), bytes.to_vec())
            .map_err(|e| e.into_core(signer_failed))?;
        if sig.len() != 64 {
            return Err(govcred::Error::SignerFailed(format!(
                "key {alias:?}: the key store returned a {}-byte signature; return the raw 64-byte R‖S form (convert DER first)",
                sig.len()
            )));
        }
        Ok(sig)
    }

    fn delete_key(&self, alias: &str) -> govcred::Result<()> {
        self.0
            .delete_key(alias.to_string())
            .map_err(|e| e.into_core(signer_failed))
    }

    fn aliases(&self) -> govcred::Result<Vec<String>> {
        Err(govcred::Error::CryptoBackend(
            "the platform key store does not list its aliases (the wallet keeps the aliases it made)".into(),
        ))
    }
}

/// The app's key protector as the core's [`govcred::KeyProtector`].
pub(crate) struct KeyProtectorAdapter(pub Arc<dyn PlatformKeyProtector>);

impl govcred::KeyProtector for KeyProtectorAdapter {
    fn wrap(&self, key: &[u8]) -> govcred::Result<Vec<u8>> {
        self.0.wrap(key.to_vec()).map_err(|e| e.into_core(storage))
    }

    fn unwrap(&self, wrapped: &[u8]) -> govcred::Result<Zeroizing<Vec<u8>>> {
        self.0
            .unwrap(wrapped.to_vec())
            .map(Zeroizing::new)
            .map_err(|e| e.into_core(storage))
    }

    fn destroy(&self) -> govcred::Result<()> {
        self.0.destroy_key().map_err(|e| e.into_core(storage))
    }
}

/// The app's HTTP stack as the core's [`HttpClient`].
pub(crate) struct HttpAdapter(pub Arc<dyn PlatformHttp>);

fn headers(h: &[(String, String)]) -> Vec<HttpHeader> {
    h.iter()
        .map(|(name, value)| HttpHeader {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

impl HttpClient for HttpAdapter {
    fn send(
        &self,
        request: &govcred::platform::HttpRequest,
    ) -> govcred::Result<govcred::platform::HttpResponse> {
        let r = self
            .0
            .send(HttpRequest {
                method: request.method.clone(),
                url: request.url.clone(),
                headers: headers(&request.headers),
                body: request.body.clone(),
                max_response_bytes: request.max_response_bytes as u64,
            })
            .map_err(|e: GovcredError| e.into_core(http_failed))?;
        Ok(govcred::platform::HttpResponse {
            status: r.status,
            headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            body: r.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use govcred::KeyStore;

    /// A key store answering with canned results.
    struct Canned {
        sign: fn() -> FfiResult<Vec<u8>>,
    }

    impl PlatformKeyStore for Canned {
        fn create_key(&self, _alias: String) -> FfiResult<String> {
            Ok(r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#.into())
        }
        fn public_key(&self, alias: String) -> FfiResult<String> {
            self.create_key(alias)
        }
        fn sign(&self, _alias: String, _data: Vec<u8>) -> FfiResult<Vec<u8>> {
            (self.sign)()
        }
        fn delete_key(&self, _alias: String) -> FfiResult<()> {
            Ok(())
        }
    }

    fn sign_with(sign: fn() -> FfiResult<Vec<u8>>) -> govcred::Error {
        KeyStoreAdapter(Arc::new(Canned { sign }))
            .sign("k", b"data")
            .unwrap_err()
    }

    #[test]
    fn callback_failures_become_typed_core_errors() {
        // An undeclared exception in the app's callback.
        let e = sign_with(|| {
            Err(GovcredError::from(
                uniffi::UnexpectedUniFFICallbackError::new("RuntimeError: boom"),
            ))
        });
        assert_eq!(e.code(), govcred::ErrorCode::SignerFailed);
        assert!(e.to_string().contains("boom"), "{e}");
        // A declared code the core acts on keeps its meaning.
        let e = sign_with(|| {
            Err(GovcredError::new(
                crate::error::ErrorCode::KeyInvalidated,
                "k",
            ))
        });
        assert_eq!(e.code(), govcred::ErrorCode::KeyInvalidated);
        // A DER signature (or any other length) is refused with what to do.
        let e = sign_with(|| Ok(vec![0x30; 71]));
        assert_eq!(e.code(), govcred::ErrorCode::SignerFailed);
        assert!(e.to_string().contains("R‖S"), "{e}");
        let jwk = KeyStoreAdapter(Arc::new(Canned {
            sign: || Ok(vec![]),
        }))
        .create_key("k", &KeySettings::default())
        .unwrap();
        assert_eq!(jwk.crv.as_deref(), Some("P-256"));
    }

    struct BrokenHttp;
    impl PlatformHttp for BrokenHttp {
        fn send(&self, _request: HttpRequest) -> FfiResult<HttpResponse> {
            Err(uniffi::UnexpectedUniFFICallbackError::new("IOException: offline").into())
        }
    }

    struct BrokenProtector;
    impl PlatformKeyProtector for BrokenProtector {
        fn wrap(&self, _key: Vec<u8>) -> FfiResult<Vec<u8>> {
            Err(uniffi::UnexpectedUniFFICallbackError::new("KeyStoreException").into())
        }
        fn unwrap(&self, _wrapped: Vec<u8>) -> FfiResult<Vec<u8>> {
            Err(GovcredError::new(
                crate::error::ErrorCode::WrongKey,
                "other key",
            ))
        }
        fn destroy_key(&self) -> FfiResult<()> {
            Ok(())
        }
    }

    #[test]
    fn http_and_protector_failures_have_their_codes() {
        let e = HttpAdapter(Arc::new(BrokenHttp))
            .send(&govcred::platform::HttpRequest::get(
                "https://example.com",
                10,
            ))
            .unwrap_err();
        assert_eq!(e.code(), govcred::ErrorCode::HttpFailed);
        let p = KeyProtectorAdapter(Arc::new(BrokenProtector));
        use govcred::KeyProtector;
        assert_eq!(
            p.wrap(&[1; 32]).unwrap_err().code(),
            govcred::ErrorCode::Storage
        );
        assert_eq!(
            p.unwrap(&[1; 32]).unwrap_err().code(),
            govcred::ErrorCode::WrongKey
        );
    }
}
