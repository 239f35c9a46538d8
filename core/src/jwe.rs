//! Compact JWE (RFC 7516) with `ECDH-ES` on P-256 and `A128GCM` / `A256GCM` — what
//! OpenID4VP 1.0 §8.3 (`direct_post.jwt`) needs, and nothing more.
//!
//! No maintained pure-Rust JWE crate runs on aws-lc (josekit needs OpenSSL, which the
//! project bans), so this module composes existing aws-lc-rs primitives:
//!
//! - key agreement: ECDH P-256 (`aws_lc_rs::agreement`) between a fresh ephemeral key
//!   (sent as the `epk` header, a public JWK) and the recipient's key; aws-lc checks
//!   that the peer point is on the curve;
//! - key derivation: the Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A §5.8.1) with
//!   SHA-256 — `AlgorithmID` is the `enc` value (direct key agreement), `PartyUInfo` /
//!   `PartyVInfo` the decoded `apu` / `apv`, `SuppPubInfo` the key length in bits;
//! - content encryption: AES-GCM (`aws_lc_rs::aead`) with a random 96-bit IV and
//!   AAD = ASCII(BASE64URL(UTF8(protected header))) (RFC 7516 §5.1 step 14).
//!
//! Decryption refuses any other `alg` or `enc`, `zip` (no decompression bombs), any
//! `crit`, an encrypted key (direct agreement has none), an `epk` that is not a public
//! P-256 point, wrong IV/tag lengths and oversized input; a wrong key or altered token
//! fails the GCM tag with [`Error::JweDecryptionFailed`]. The CEK and the ECDH shared
//! secret are wiped after use.
//!
//! ```
//! use govcred::jwe::{self, DecryptionKey, Enc, EncryptOptions};
//! let verifier = DecryptionKey::generate().unwrap();
//! let opts = EncryptOptions { enc: Enc::A256Gcm, apv: Some(b"nonce-123".to_vec()), ..Default::default() };
//! let token = jwe::encrypt(br#"{"vp_token":{}}"#, &verifier.public_jwk(), &opts).unwrap();
//! let opened = verifier.decrypt(&token, &[Enc::A128Gcm, Enc::A256Gcm]).unwrap();
//! assert_eq!(&opened.plaintext[..], br#"{"vp_token":{}}"#);
//! assert_eq!(opened.enc, Enc::A256Gcm);
//! assert_eq!(opened.apv.as_deref(), Some(&b"nonce-123"[..]));
//! ```

use aws_lc_rs::{aead, agreement, digest};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::b64;
use crate::crypto::Jwk;
use crate::error::{Error, Result};
use crate::json;

/// The only key management algorithm accepted: direct key agreement.
pub const ALG_ECDH_ES: &str = "ECDH-ES";

/// Largest compact JWE accepted: 4 MiB, as for a compact JWS.
pub const MAX_COMPACT_JWE_LEN: usize = 4 * 1024 * 1024;

/// Largest `apu` / `apv` accepted (decoded), so a header cannot make the KDF hash
/// megabytes.
const MAX_PARTY_INFO_LEN: usize = 1024;

/// AES-GCM IV length (96 bits, RFC 7518 §5.3).
const IV_LEN: usize = 12;
/// AES-GCM tag length (128 bits).
const TAG_LEN: usize = 16;

/// Content encryption algorithm (`enc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Enc {
    /// `A128GCM` — the OpenID4VP default.
    #[default]
    A128Gcm,
    /// `A256GCM`.
    A256Gcm,
}

impl Enc {
    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// Parse a JOSE `enc` name; anything but `A128GCM` / `A256GCM` is refused.
    pub fn from_jose(enc: &str) -> Result<Self> {
        match enc {
            "A128GCM" => Ok(Enc::A128Gcm),
            "A256GCM" => Ok(Enc::A256Gcm),
            other => Err(Error::JweAlgNotAllowed {
                param: "enc",
                value: other.into(),
            }),
        }
    }

    /// The content encryption key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A256Gcm => 32,
        }
    }

    fn aead(self) -> &'static aead::Algorithm {
        match self {
            Enc::A128Gcm => &aead::AES_128_GCM,
            Enc::A256Gcm => &aead::AES_256_GCM,
        }
    }
}

/// Options for [`encrypt`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncryptOptions {
    /// Content encryption (default `A128GCM`).
    pub enc: Enc,
    /// `apu` (Agreement PartyUInfo), raw bytes; sent base64url-encoded and fed to the KDF.
    pub apu: Option<Vec<u8>>,
    /// `apv` (Agreement PartyVInfo), raw bytes; sent base64url-encoded and fed to the KDF.
    pub apv: Option<Vec<u8>>,
}

/// Concat KDF (RFC 7518 §4.6.2, NIST SP 800-56A §5.8.1) with SHA-256 for direct
/// ECDH-ES: `key_len` bytes from the shared secret `z`, `alg_id` (the `enc` value),
/// `apu` and `apv`. `key_len` is at most 32 here, so one round is enough, but the
/// construction is followed as written.
pub fn concat_kdf(
    z: &[u8],
    alg_id: &str,
    apu: &[u8],
    apv: &[u8],
    key_len: usize,
) -> Zeroizing<Vec<u8>> {
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(key_len + 32));
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(&counter.to_be_bytes());
        ctx.update(z);
        ctx.update(&len32(alg_id.len()));
        ctx.update(alg_id.as_bytes());
        ctx.update(&len32(apu.len()));
        ctx.update(apu);
        ctx.update(&len32(apv.len()));
        ctx.update(apv);
        ctx.update(&len32(key_len.saturating_mul(8)));
        out.extend_from_slice(ctx.finish().as_ref());
        counter = counter.wrapping_add(1);
    }
    out.truncate(key_len);
    out
}

/// The uncompressed SEC1 point of a public P-256 JWK (`kty` EC, `crv` P-256, 32-byte
/// `x` and `y`). The point itself is validated by aws-lc when it is used.
fn p256_point(jwk: &Jwk, what: &str) -> Result<Vec<u8>> {
    if jwk.kty != "EC" || jwk.crv.as_deref() != Some("P-256") {
        return Err(Error::InvalidKey(format!(
            "{what} must be an EC P-256 key (found kty {:?}, crv {:?})",
            jwk.kty, jwk.crv
        )));
    }
    let coord = |v: &Option<String>, name: &str| -> Result<Vec<u8>> {
        let text = v
            .as_deref()
            .ok_or_else(|| Error::InvalidKey(format!("{what} has no `{name}`")))?;
        let bytes = b64::decode(text, "EC JWK coordinate")?;
        if bytes.len() != 32 {
            return Err(Error::InvalidKey(format!(
                "{what} `{name}` is {} bytes, expected 32",
                bytes.len()
            )));
        }
        Ok(bytes)
    };
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend(coord(&jwk.x, "x")?);
    point.extend(coord(&jwk.y, "y")?);
    Ok(point)
}

fn public_jwk_from_sec1(point: &[u8]) -> Result<Jwk> {
    if point.len() != 65 || point[0] != 0x04 {
        return Err(Error::CryptoBackend(
            "unexpected P-256 public key encoding".into(),
        ));
    }
    Ok(Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: Some(b64::encode(&point[1..33])),
        y: Some(b64::encode(&point[33..])),
        ..Default::default()
    })
}

/// ECDH between `private` and the P-256 point `peer`, then the Concat KDF.
fn agree_and_derive(
    private: &agreement::PrivateKey,
    peer: &[u8],
    enc: Enc,
    apu: &[u8],
    apv: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer);
    agreement::agree(
        private,
        peer,
        Error::InvalidKey("the JWE key agreement peer is not a valid P-256 point".into()),
        |z| {
            // `z` is aws-lc's buffer, wiped by aws-lc; the derived key is ours to wipe.
            Ok(concat_kdf(z, enc.as_str(), apu, apv, enc.key_len()))
        },
    )
}

fn aead_key(enc: Enc, cek: &[u8]) -> Result<aead::LessSafeKey> {
    aead::UnboundKey::new(enc.aead(), cek)
        .map(aead::LessSafeKey::new)
        .map_err(|_| Error::CryptoBackend("cannot set up AES-GCM".into()))
}

/// Encrypt `plaintext` to the P-256 public key `recipient` as a compact JWE
/// (`alg` ECDH-ES, `enc` from `opts`). A `kid` on the key is copied to the header
/// (OpenID4VP §8.3). The key must not be marked for another use or algorithm.
pub fn encrypt(plaintext: &[u8], recipient: &Jwk, opts: &EncryptOptions) -> Result<String> {
    if let Some(u) = recipient.use_.as_deref().filter(|u| *u != "enc") {
        return Err(Error::InvalidKey(format!(
            "the recipient key is for use {u:?}, not \"enc\""
        )));
    }
    if let Some(alg) = recipient.alg.as_deref().filter(|a| *a != ALG_ECDH_ES) {
        return Err(Error::JweAlgNotAllowed {
            param: "alg",
            value: alg.into(),
        });
    }
    if plaintext.len() > MAX_COMPACT_JWE_LEN / 2 {
        return Err(Error::TooLarge {
            what: "JWE plaintext",
            size: plaintext.len(),
            limit: MAX_COMPACT_JWE_LEN / 2,
        });
    }
    for (name, v) in [("apu", &opts.apu), ("apv", &opts.apv)] {
        if v.as_ref().is_some_and(|v| v.len() > MAX_PARTY_INFO_LEN) {
            return Err(Error::TooLarge {
                what: if name == "apu" { "JWE apu" } else { "JWE apv" },
                size: v.as_ref().map_or(0, Vec::len),
                limit: MAX_PARTY_INFO_LEN,
            });
        }
    }
    let peer = p256_point(recipient, "the recipient key")?;
    let ephemeral = agreement::PrivateKey::generate(&agreement::ECDH_P256)
        .map_err(|_| Error::CryptoBackend("cannot generate an ephemeral P-256 key".into()))?;
    let epk_point = ephemeral
        .compute_public_key()
        .map_err(|_| Error::CryptoBackend("cannot compute a P-256 public key".into()))?;
    let epk = public_jwk_from_sec1(epk_point.as_ref())?;
    let apu = opts.apu.as_deref().unwrap_or_default();
    let apv = opts.apv.as_deref().unwrap_or_default();
    let cek = agree_and_derive(&ephemeral, &peer, opts.enc, apu, apv)?;

    let mut header = Map::new();
    header.insert("alg".into(), ALG_ECDH_ES.into());
    header.insert("enc".into(), opts.enc.as_str().into());
    header.insert(
        "epk".into(),
        serde_json::to_value(&epk).map_err(|e| Error::CryptoBackend(e.to_string()))?,
    );
    if let Some(kid) = &recipient.kid {
        header.insert("kid".into(), kid.clone().into());
    }
    if let Some(apu) = &opts.apu {
        header.insert("apu".into(), b64::encode(apu).into());
    }
    if let Some(apv) = &opts.apv {
        header.insert("apv".into(), b64::encode(apv).into());
    }
    let protected = b64::encode(Value::Object(header).to_string());

    let mut iv = [0u8; IV_LEN];
    aws_lc_rs::rand::fill(&mut iv)
        .map_err(|_| Error::CryptoBackend("random source failed".into()))?;
    let key = aead_key(opts.enc, &cek)?;
    let mut data = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            aead::Nonce::assume_unique_for_key(iv),
            aead::Aad::from(protected.as_bytes()),
            &mut data,
        )
        .map_err(|_| Error::CryptoBackend("AES-GCM encryption failed".into()))?;
    Ok(format!(
        "{protected}..{}.{}.{}",
        b64::encode(iv),
        b64::encode(&data),
        b64::encode(tag.as_ref())
    ))
}

/// A decrypted JWE.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext, wiped on drop.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The content encryption used.
    pub enc: Enc,
    /// The decoded `apu`, if sent.
    pub apu: Option<Vec<u8>>,
    /// The decoded `apv`, if sent.
    pub apv: Option<Vec<u8>>,
    /// The whole protected header.
    pub header: Map<String, Value>,
}

/// A P-256 key pair that JWEs are encrypted to (a verifier's response encryption
/// key). The private key lives in aws-lc, which wipes it when the key is dropped.
pub struct DecryptionKey {
    key: agreement::PrivateKey,
    public: Jwk,
}

impl std::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl PartialEq for DecryptionKey {
    /// Two keys are equal when their public keys are (the private key follows).
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl DecryptionKey {
    /// A fresh key from the system's secure random source.
    pub fn generate() -> Result<Self> {
        let key = agreement::PrivateKey::generate(&agreement::ECDH_P256)
            .map_err(|_| Error::CryptoBackend("cannot generate a P-256 key".into()))?;
        Self::wrap(key)
    }

    /// A key from a known private scalar — for reproducing test vectors (RFC 7518
    /// Appendix C) or a key kept by the caller's own key storage.
    pub fn from_scalar(d: &[u8; 32]) -> Result<Self> {
        let key = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, d)
            .map_err(|e| Error::InvalidKey(format!("P-256 private scalar: {e}")))?;
        Self::wrap(key)
    }

    fn wrap(key: agreement::PrivateKey) -> Result<Self> {
        let point = key
            .compute_public_key()
            .map_err(|_| Error::CryptoBackend("cannot compute a P-256 public key".into()))?;
        let mut public = public_jwk_from_sec1(point.as_ref())?;
        public.use_ = Some("enc".into());
        public.alg = Some(ALG_ECDH_ES.into());
        Ok(DecryptionKey { key, public })
    }

    /// The same key with a `kid` on its public JWK (copied into JWE headers).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.public.kid = Some(kid.into());
        self
    }

    /// The public JWK to publish (`use` = `enc`, `alg` = `ECDH-ES`, and `kid` if set).
    pub fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }

    /// The SHA-256 JWK thumbprint (RFC 7638) of the public key, as raw bytes — what the
    /// OpenID4VP mdoc SessionTranscript carries for encrypted responses.
    pub fn thumbprint(&self) -> Result<[u8; 32]> {
        Ok(crate::crypto::sha256(
            self.public.thumbprint_input()?.as_bytes(),
        ))
    }

    /// The content encryption key a sender with ephemeral key `epk` derived (ECDH +
    /// Concat KDF). Exposed so the RFC 7518 Appendix C derivation can be reproduced.
    pub fn derive_key(
        &self,
        epk: &Jwk,
        enc: Enc,
        apu: &[u8],
        apv: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        if epk.d.is_some() {
            return Err(Error::InvalidKey(
                "the JWE `epk` carries a private key".into(),
            ));
        }
        let peer = p256_point(epk, "the JWE `epk`")?;
        agree_and_derive(&self.key, &peer, enc, apu, apv)
    }

    /// Decrypt a compact JWE made to this key, accepting only the `enc` values in
    /// `allowed_enc`. The header is checked before any key agreement; a wrong key or
    /// any altered part fails with [`Error::JweDecryptionFailed`].
    pub fn decrypt(&self, token: &str, allowed_enc: &[Enc]) -> Result<Decrypted> {
        if token.len() > MAX_COMPACT_JWE_LEN {
            return Err(Error::TooLarge {
                what: "compact JWE",
                size: token.len(),
                limit: MAX_COMPACT_JWE_LEN,
            });
        }
        let parts: Vec<&str> = token.split('.').collect();
        let [h, ek, iv, ct, tag] = parts[..] else {
            return Err(Error::malformed(
                "JWE",
                format!(
                    "a compact JWE has 5 dot-separated parts, found {}",
                    parts.len()
                ),
            ));
        };
        let header_bytes = b64::decode(h, "JWE protected header")?;
        json::check_unique_keys(&header_bytes, "JWE protected header")?;
        let header: Map<String, Value> = serde_json::from_slice(&header_bytes).map_err(|e| {
            Error::malformed("JWE protected header", format!("not a JSON object: {e}"))
        })?;
        let text = |name: &str| header.get(name).and_then(Value::as_str);
        match text("alg") {
            Some(ALG_ECDH_ES) => {}
            other => {
                return Err(Error::JweAlgNotAllowed {
                    param: "alg",
                    value: other.unwrap_or("(missing)").into(),
                })
            }
        }
        let enc = Enc::from_jose(text("enc").unwrap_or("(missing)"))?;
        if !allowed_enc.contains(&enc) {
            return Err(Error::JweAlgNotAllowed {
                param: "enc",
                value: enc.as_str().into(),
            });
        }
        if let Some(zip) = header.get("zip") {
            return Err(Error::JweAlgNotAllowed {
                param: "zip",
                value: zip.to_string(),
            });
        }
        if let Some(crit) = header.get("crit") {
            return Err(Error::UnsupportedCritical(crit.to_string()));
        }
        if let (Some(kid), Some(mine)) = (text("kid"), self.public.kid.as_deref()) {
            if kid != mine {
                return Err(Error::UnknownKey(format!(
                    "JWE kid {kid:?} (this key is {mine:?})"
                )));
            }
        }
        if !ek.is_empty() {
            return Err(Error::malformed(
                "JWE",
                "ECDH-ES (direct key agreement) has an empty encrypted key part",
            ));
        }
        let epk: Jwk = header
            .get("epk")
            .cloned()
            .ok_or_else(|| Error::malformed("JWE protected header", "no `epk`"))
            .and_then(|v| {
                serde_json::from_value(v)
                    .map_err(|e| Error::malformed("JWE protected header", format!("`epk`: {e}")))
            })?;
        let party = |name: &'static str| -> Result<Option<Vec<u8>>> {
            match header.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => {
                    let v = b64::decode(s, "JWE apu/apv")?;
                    if v.len() > MAX_PARTY_INFO_LEN {
                        return Err(Error::TooLarge {
                            what: "JWE apu/apv",
                            size: v.len(),
                            limit: MAX_PARTY_INFO_LEN,
                        });
                    }
                    Ok(Some(v))
                }
                Some(_) => Err(Error::malformed(
                    "JWE protected header",
                    format!("`{name}` must be a base64url string"),
                )),
            }
        };
        let (apu, apv) = (party("apu")?, party("apv")?);
        let iv: [u8; IV_LEN] = b64::decode(iv, "JWE IV")?
            .try_into()
            .map_err(|_| Error::malformed("JWE", "the IV must be 96 bits"))?;
        let tag = b64::decode(tag, "JWE authentication tag")?;
        if tag.len() != TAG_LEN {
            return Err(Error::malformed(
                "JWE",
                "the authentication tag must be 128 bits",
            ));
        }
        let mut data = Zeroizing::new(b64::decode(ct, "JWE ciphertext")?);
        data.extend_from_slice(&tag);

        let cek = self.derive_key(
            &epk,
            enc,
            apu.as_deref().unwrap_or_default(),
            apv.as_deref().unwrap_or_default(),
        )?;
        let key = aead_key(enc, &cek)?;
        let n = key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(iv),
                aead::Aad::from(h.as_bytes()),
                &mut data,
            )
            .map_err(|_| Error::JweDecryptionFailed)?
            .len();
        data.truncate(n);
        Ok(Decrypted {
            plaintext: data,
            enc,
            apu,
            apv,
            header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_encs_with_kid() {
        let k = DecryptionKey::generate().unwrap().with_kid("enc-1");
        for enc in [Enc::A128Gcm, Enc::A256Gcm] {
            let opts = EncryptOptions {
                enc,
                apu: Some(b"u".to_vec()),
                apv: None,
            };
            let t = encrypt(b"hello", &k.public_jwk(), &opts).unwrap();
            let d = k.decrypt(&t, &[enc]).unwrap();
            assert_eq!(&d.plaintext[..], b"hello");
            assert_eq!(d.header["kid"], "enc-1");
            assert_eq!(d.apu.as_deref(), Some(&b"u"[..]));
            assert!(d.apv.is_none());
        }
    }

    #[test]
    fn refuses_signing_key_and_other_alg() {
        let k = DecryptionKey::generate().unwrap();
        let mut jwk = k.public_jwk();
        jwk.use_ = Some("sig".into());
        let e = encrypt(b"x", &jwk, &EncryptOptions::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::InvalidKey);
        let mut jwk = k.public_jwk();
        jwk.alg = Some("ECDH-ES+A128KW".into());
        let e = encrypt(b"x", &jwk, &EncryptOptions::default()).unwrap_err();
        assert_eq!(e.code(), crate::ErrorCode::AlgNotAllowed);
    }
}
