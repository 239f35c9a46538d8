//! Software signing keys and parsed verification keys.

use std::fmt;

use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED,
};
use zeroize::Zeroizing;

use crate::b64;
use crate::crypto::{Alg, Jwk, SecretString};
use crate::error::{Error, Result};
use crate::platform::Signer;

/// A public key ready to verify signatures: parsed and validated once, so each
/// verification is only the signature maths.
#[derive(Clone)]
pub struct VerifyingKey {
    jwk: Jwk,
    inner: VerifyingInner,
}

#[derive(Clone)]
enum VerifyingInner {
    P256(ParsedPublicKey),
    /// Verification only (ES384); holds the 97-byte uncompressed point.
    P384(ParsedPublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// The hash of an ASN.1 (X.509) ECDSA signature: `ecdsa-with-SHA256`
/// (1.2.840.10045.4.3.2) or `ecdsa-with-SHA384` (1.2.840.10045.4.3.3). Either may be
/// used with a P-256 or a P-384 key ([`VerifyingKey::verify_asn1`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EcdsaHash {
    /// SHA-256 (`ecdsa-with-SHA256`).
    Sha256,
    /// SHA-384 (`ecdsa-with-SHA384`).
    Sha384,
}

impl EcdsaHash {
    /// The X.509 name of the signature algorithm.
    pub fn x509_name(self) -> &'static str {
        match self {
            EcdsaHash::Sha256 => "ecdsa-with-SHA256",
            EcdsaHash::Sha384 => "ecdsa-with-SHA384",
        }
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg())
            .field("jwk", &self.jwk)
            .finish()
    }
}

fn fixed<const N: usize>(bytes: &[u8], what: &str) -> Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| Error::InvalidKey(format!("{what} must be {N} bytes, got {}", bytes.len())))
}

fn jwk_member<'a>(jwk: &'a Jwk, v: &'a Option<String>, name: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| Error::InvalidKey(format!("{} JWK has no `{name}`", jwk.kty)))
}

impl VerifyingKey {
    /// Parse a public JWK (EC P-256, EC P-384 or OKP Ed25519). Private members are
    /// ignored. A JWK whose `alg` names another algorithm than its key type allows is
    /// refused. A P-384 key verifies ES384 only (see the [module docs](crate::crypto)).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                let x = b64::decode(jwk_member(jwk, &jwk.x, "x")?, "JWK x")?;
                let y = b64::decode(jwk_member(jwk, &jwk.y, "y")?, "JWK y")?;
                let x: [u8; 32] = fixed(&x, "P-256 x")?;
                let y: [u8; 32] = fixed(&y, "P-256 y")?;
                let mut sec1 = [0u8; 65];
                sec1[0] = 4;
                sec1[1..33].copy_from_slice(&x);
                sec1[33..].copy_from_slice(&y);
                Self::from_p256_sec1(&sec1)?
            }
            ("EC", Some("P-384")) => {
                let x = b64::decode(jwk_member(jwk, &jwk.x, "x")?, "JWK x")?;
                let y = b64::decode(jwk_member(jwk, &jwk.y, "y")?, "JWK y")?;
                let x: [u8; 48] = fixed(&x, "P-384 x")?;
                let y: [u8; 48] = fixed(&y, "P-384 y")?;
                let mut sec1 = [0u8; 97];
                sec1[0] = 4;
                sec1[1..49].copy_from_slice(&x);
                sec1[49..].copy_from_slice(&y);
                Self::from_p384_sec1(&sec1)?
            }
            ("OKP", Some("Ed25519")) => {
                let x = b64::decode(jwk_member(jwk, &jwk.x, "x")?, "JWK x")?;
                Self::from_ed25519(&fixed(&x, "Ed25519 public key")?)?
            }
            (kty, crv) => {
                return Err(Error::InvalidKey(format!(
                    "unsupported key type {kty} {}: use EC P-256, EC P-384 or OKP Ed25519",
                    crv.unwrap_or("(no crv)")
                )))
            }
        };
        if let Some(alg) = jwk.alg.as_deref() {
            // `ES384` names a P-384 key's algorithm; it is not a JOSE algorithm govcred
            // accepts in a JWS header (that check is `Alg::from_jose`).
            let alg = match alg {
                "ES384" => Alg::ES384,
                other => Alg::from_jose(other)?,
            };
            if alg != key.alg() {
                return Err(Error::KeyAlgMismatch {
                    key: key.alg().key_description().into(),
                    alg: alg.as_str().into(),
                });
            }
        }
        Ok(VerifyingKey {
            jwk: Jwk {
                kid: jwk.kid.clone(),
                alg: jwk.alg.clone(),
                use_: jwk.use_.clone(),
                ..key.jwk
            },
            inner: key.inner,
        })
    }

    /// A P-256 key from a SEC1 point, uncompressed (65 bytes) or compressed (33 bytes).
    pub fn from_p256_sec1(point: &[u8]) -> Result<Self> {
        use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
        let encoded = p256::EncodedPoint::from_bytes(point)
            .map_err(|_| Error::InvalidKey("not a SEC1 P-256 point".into()))?;
        let affine: Option<p256::AffinePoint> =
            p256::AffinePoint::from_encoded_point(&encoded).into();
        let affine = affine.ok_or_else(|| Error::InvalidKey("point is not on P-256".into()))?;
        let uncompressed = affine.to_encoded_point(false);
        let (x, y) = match (uncompressed.x(), uncompressed.y()) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(Error::InvalidKey("P-256 point at infinity".into())),
        };
        let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, uncompressed.as_bytes())
            .map_err(|e| Error::InvalidKey(format!("P-256 public key rejected: {e}")))?;
        Ok(VerifyingKey {
            jwk: Jwk {
                kty: "EC".into(),
                crv: Some("P-256".into()),
                x: Some(b64::encode(x)),
                y: Some(b64::encode(y)),
                ..Jwk::default()
            },
            inner: VerifyingInner::P256(parsed),
        })
    }

    /// A P-384 key (verification only, ES384) from its uncompressed SEC1 point
    /// (97 bytes, `04‖X‖Y`), as in X.509 certificates and COSE keys. The point is
    /// checked to be on the curve. Compressed points are refused with
    /// [`Error::InvalidKey`].
    pub fn from_p384_sec1(point: &[u8]) -> Result<Self> {
        let point: [u8; 97] = match point {
            [4, ..] => fixed(point, "uncompressed P-384 point")?,
            [2 | 3, ..] if point.len() == 49 => {
                return Err(Error::InvalidKey(
                    "compressed P-384 points are not supported: send the uncompressed form (97 bytes, starting 04)".into(),
                ))
            }
            _ => return Err(Error::InvalidKey("not a SEC1 P-384 point".into())),
        };
        let parsed = ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point)
            .map_err(|e| Error::InvalidKey(format!("P-384 public key rejected: {e}")))?;
        Ok(VerifyingKey {
            jwk: Jwk {
                kty: "EC".into(),
                crv: Some("P-384".into()),
                x: Some(b64::encode(&point[1..49])),
                y: Some(b64::encode(&point[49..])),
                ..Jwk::default()
            },
            inner: VerifyingInner::P384(parsed),
        })
    }

    /// An Ed25519 key from its 32 bytes.
    pub fn from_ed25519(bytes: &[u8; 32]) -> Result<Self> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| Error::InvalidKey("not a valid Ed25519 public key".into()))?;
        if key.is_weak() {
            return Err(Error::InvalidKey(
                "Ed25519 public key has small order".into(),
            ));
        }
        Ok(VerifyingKey {
            jwk: Jwk {
                kty: "OKP".into(),
                crv: Some("Ed25519".into()),
                x: Some(b64::encode(bytes)),
                ..Jwk::default()
            },
            inner: VerifyingInner::Ed25519(key),
        })
    }

    /// The algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        match self.inner {
            VerifyingInner::P256(_) => Alg::ES256,
            VerifyingInner::P384(_) => Alg::ES384,
            VerifyingInner::Ed25519(_) => Alg::EdDSA,
        }
    }

    /// The public JWK (with `kid`/`alg`/`use` if it was parsed from a JWK that had them).
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// RFC 7638 thumbprint of the public key.
    pub fn thumbprint(&self) -> String {
        // EC and OKP keys built here always have the members the thumbprint needs.
        self.jwk.thumbprint().unwrap_or_default()
    }

    /// A name for this key in messages: its `kid`, else its thumbprint.
    pub fn label(&self) -> String {
        self.jwk.kid.clone().unwrap_or_else(|| self.thumbprint())
    }

    /// The public key in the compressed form did:key and COSE use: SEC1 compressed
    /// point (33 bytes for P-256, 49 for P-384) or the 32 raw bytes (Ed25519).
    pub fn compressed_bytes(&self) -> Vec<u8> {
        match &self.inner {
            VerifyingInner::Ed25519(k) => k.to_bytes().to_vec(),
            VerifyingInner::P256(k) => {
                let raw = k.as_ref();
                // `raw` is the 65-byte uncompressed point we built the key from.
                let mut out = Vec::with_capacity(33);
                out.push(if raw[64] & 1 == 1 { 3 } else { 2 });
                out.extend_from_slice(&raw[1..33]);
                out
            }
            VerifyingInner::P384(k) => {
                // `k` holds the 97-byte uncompressed point we built the key from.
                let raw = k.as_ref();
                let mut out = Vec::with_capacity(49);
                out.push(if raw[96] & 1 == 1 { 3 } else { 2 });
                out.extend_from_slice(&raw[1..49]);
                out
            }
        }
    }

    /// Verify `signature` over `message` with `alg`. The key must be of `alg`'s type.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<()> {
        if alg != self.alg() {
            return Err(Error::KeyAlgMismatch {
                key: self.alg().key_description().into(),
                alg: alg.as_str().into(),
            });
        }
        let ok = match &self.inner {
            VerifyingInner::P256(k) | VerifyingInner::P384(k) => {
                k.verify_sig(message, signature).is_ok()
            }
            VerifyingInner::Ed25519(k) => match ed25519_dalek::Signature::from_slice(signature) {
                Ok(sig) => k.verify_strict(message, &sig).is_ok(),
                Err(_) => false,
            },
        };
        if ok {
            Ok(())
        } else {
            Err(Error::SignatureInvalid { key: self.label() })
        }
    }

    /// Verify an ECDSA P-256 / SHA-256 signature in the ASN.1 DER form
    /// (`SEQUENCE { r INTEGER, s INTEGER }`) that X.509 certificates use
    /// (`ecdsa-with-SHA256`). Same as [`VerifyingKey::verify_asn1`] with
    /// [`EcdsaHash::Sha256`] (a P-384 key works too); an Ed25519 key gives
    /// [`Error::KeyAlgMismatch`].
    pub fn verify_asn1_sha256(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        self.verify_asn1(EcdsaHash::Sha256, message, signature)
    }

    /// Verify an ECDSA signature in the ASN.1 DER form (`SEQUENCE { r INTEGER, s
    /// INTEGER }`) of X.509 certificates, hashing `message` with `hash`
    /// (`ecdsa-with-SHA256` or `ecdsa-with-SHA384`). P-256 and P-384 keys both accept
    /// both hashes (a P-384 IACA may sign with SHA-256 and the other way round); an
    /// Ed25519 key gives [`Error::KeyAlgMismatch`].
    ///
    /// ```
    /// use govcred::crypto::{Alg, EcdsaHash, SoftwareKey};
    /// let key = SoftwareKey::generate(Alg::ES256).unwrap();
    /// // Not a valid DER signature: refused, never a panic.
    /// assert!(key.verifying_key().verify_asn1(EcdsaHash::Sha384, b"tbs", &[0x30, 0]).is_err());
    /// ```
    pub fn verify_asn1(&self, hash: EcdsaHash, message: &[u8], signature: &[u8]) -> Result<()> {
        use aws_lc_rs::signature::{
            EcdsaVerificationAlgorithm, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1,
            ECDSA_P256_SHA384_ASN1, ECDSA_P384_SHA256_ASN1, ECDSA_P384_SHA384_ASN1,
        };
        let (algorithm, point): (&'static EcdsaVerificationAlgorithm, &[u8]) =
            match (&self.inner, hash) {
                (VerifyingInner::P256(k), EcdsaHash::Sha256) => {
                    (&ECDSA_P256_SHA256_ASN1, k.as_ref())
                }
                (VerifyingInner::P256(k), EcdsaHash::Sha384) => {
                    (&ECDSA_P256_SHA384_ASN1, k.as_ref())
                }
                (VerifyingInner::P384(k), EcdsaHash::Sha256) => {
                    (&ECDSA_P384_SHA256_ASN1, k.as_ref())
                }
                (VerifyingInner::P384(k), EcdsaHash::Sha384) => {
                    (&ECDSA_P384_SHA384_ASN1, k.as_ref())
                }
                (VerifyingInner::Ed25519(_), _) => {
                    return Err(Error::KeyAlgMismatch {
                        key: self.alg().key_description().into(),
                        alg: hash.x509_name().into(),
                    })
                }
            };
        // `point` is the uncompressed point we built the key from.
        UnparsedPublicKey::new(algorithm, point)
            .verify(message, signature)
            .map_err(|_| Error::SignatureInvalid { key: self.label() })
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.alg() == other.alg() && self.jwk.x == other.jwk.x && self.jwk.y == other.jwk.y
    }
}

fn es384_cannot_sign() -> Error {
    Error::AlgNotAllowed {
        alg: "ES384 for signing (govcred verifies P-384 signatures but signs with ES256 or EdDSA only)".into(),
    }
}

/// A private key held in memory (for the CLI, servers and tests). Private material
/// is zeroized when the key is dropped: aws-lc clears freed key memory, and
/// ed25519-dalek zeroizes its `SigningKey`.
pub struct SoftwareKey {
    inner: SoftwareInner,
    public: VerifyingKey,
}

enum SoftwareInner {
    P256(EcdsaKeyPair, SystemRandom),
    Ed25519(ed25519_dalek::SigningKey),
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl SoftwareKey {
    /// A fresh random key for `alg` (ES256 or EdDSA; ES384 is verification only and
    /// gives [`Error::AlgNotAllowed`]).
    pub fn generate(alg: Alg) -> Result<Self> {
        match alg {
            Alg::ES384 => Err(es384_cannot_sign()),
            Alg::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| Error::CryptoBackend("P-256 key generation failed".into()))?;
                Self::from_p256_pair(pair)
            }
            Alg::EdDSA => {
                let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
                Self::from_ed25519_signing(key)
            }
        }
    }

    /// A key derived from 32 bytes: the Ed25519 seed, or the P-256 private scalar.
    /// For reproducible test vectors; production keys come from [`SoftwareKey::generate`].
    pub fn from_secret_bytes(alg: Alg, secret: &[u8; 32]) -> Result<Self> {
        match alg {
            Alg::ES384 => Err(es384_cannot_sign()),
            Alg::EdDSA => Self::from_ed25519_signing(ed25519_dalek::SigningKey::from_bytes(secret)),
            Alg::ES256 => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let sk = p256::SecretKey::from_bytes(secret.into())
                    .map_err(|_| Error::InvalidKey("not a valid P-256 private scalar".into()))?;
                let point = sk.public_key().to_encoded_point(false);
                let pair = EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    secret,
                    point.as_bytes(),
                )
                .map_err(|e| Error::InvalidKey(format!("P-256 private key rejected: {e}")))?;
                Self::from_p256_pair(pair)
            }
        }
    }

    /// Import a private JWK (`d` required). The public members must match `d`.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let public = VerifyingKey::from_jwk(jwk)?;
        if public.alg() == Alg::ES384 {
            return Err(es384_cannot_sign());
        }
        let d = jwk
            .d
            .as_ref()
            .ok_or_else(|| Error::InvalidKey("JWK has no private member `d`".into()))?;
        let d = Zeroizing::new(b64::decode(d.expose(), "JWK d")?);
        let d: Zeroizing<[u8; 32]> = Zeroizing::new(fixed(&d, "private key `d`")?);
        let key = Self::from_secret_bytes(public.alg(), &d)?;
        if key.public != public {
            return Err(Error::InvalidKey(
                "private key `d` does not match the public members".into(),
            ));
        }
        Ok(SoftwareKey {
            public: VerifyingKey {
                jwk: public.jwk,
                inner: key.public.inner.clone(),
            },
            inner: key.inner,
        })
    }

    fn from_p256_pair(pair: EcdsaKeyPair) -> Result<Self> {
        let public = VerifyingKey::from_p256_sec1(pair.public_key().as_ref())?;
        Ok(SoftwareKey {
            inner: SoftwareInner::P256(pair, SystemRandom::new()),
            public,
        })
    }

    fn from_ed25519_signing(key: ed25519_dalek::SigningKey) -> Result<Self> {
        let public = VerifyingKey::from_ed25519(key.verifying_key().as_bytes())?;
        Ok(SoftwareKey {
            inner: SoftwareInner::Ed25519(key),
            public,
        })
    }

    /// The public half, ready to verify.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Set the `kid` carried in this key's JWKs.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.public.jwk.kid = Some(kid.into());
        self
    }

    /// Export as a private JWK (with `d`, `alg` and `kid`). Handle with care.
    pub fn to_private_jwk(&self) -> Result<Jwk> {
        let d = match &self.inner {
            SoftwareInner::P256(pair, _) => {
                let bin = pair
                    .private_key()
                    .as_be_bytes()
                    .map_err(|_| Error::CryptoBackend("P-256 private key export failed".into()))?;
                b64::encode(bin.as_ref())
            }
            SoftwareInner::Ed25519(k) => b64::encode(Zeroizing::new(k.to_bytes()).as_ref()),
        };
        Ok(Jwk {
            d: Some(SecretString::new(d)),
            ..self.public_jwk()
        })
    }
}

impl Signer for SoftwareKey {
    fn alg(&self) -> Alg {
        self.public.alg()
    }

    fn public_jwk(&self) -> Jwk {
        Jwk {
            alg: Some(self.alg().as_str().into()),
            ..self.public.jwk.to_public()
        }
    }

    fn sign(&self, bytes: &[u8]) -> Result<Vec<u8>> {
        match &self.inner {
            SoftwareInner::P256(pair, rng) => pair
                .sign(rng, bytes)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SignerFailed("P-256 signing failed".into())),
            SoftwareInner::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(bytes).to_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_sign_verify_both_algs() {
        for alg in [Alg::ES256, Alg::EdDSA] {
            let key = SoftwareKey::generate(alg).unwrap();
            let sig = key.sign(b"msg").unwrap();
            assert_eq!(sig.len(), 64);
            key.verifying_key().verify(alg, b"msg", &sig).unwrap();
            let err = key.verifying_key().verify(alg, b"msh", &sig).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::SignatureInvalid);
            let other = if alg == Alg::ES256 {
                Alg::EdDSA
            } else {
                Alg::ES256
            };
            let err = key.verifying_key().verify(other, b"msg", &sig).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::KeyAlgMismatch);
        }
    }

    #[test]
    fn private_jwk_round_trip() {
        for alg in [Alg::ES256, Alg::EdDSA] {
            let key = SoftwareKey::generate(alg).unwrap().with_kid("k1");
            let jwk = key.to_private_jwk().unwrap();
            assert!(jwk.is_private());
            assert_eq!(jwk.kid.as_deref(), Some("k1"));
            let back = SoftwareKey::from_jwk(&Jwk::from_json(&jwk.to_json()).unwrap()).unwrap();
            assert_eq!(back.verifying_key(), key.verifying_key());
            let sig = back.sign(b"m").unwrap();
            key.verifying_key().verify(alg, b"m", &sig).unwrap();
            assert!(!format!("{jwk:?}").contains(jwk.d.as_ref().unwrap().expose()));
        }
    }

    #[test]
    fn mismatched_private_and_public_rejected() {
        let a = SoftwareKey::generate(Alg::ES256)
            .unwrap()
            .to_private_jwk()
            .unwrap();
        let b = SoftwareKey::generate(Alg::ES256).unwrap().public_jwk();
        let mixed = Jwk {
            d: a.d.clone(),
            ..b
        };
        assert_eq!(
            SoftwareKey::from_jwk(&mixed).unwrap_err().code(),
            crate::ErrorCode::InvalidKey
        );
    }

    #[test]
    fn compressed_point_round_trip() {
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let c = key.verifying_key().compressed_bytes();
        assert_eq!(c.len(), 33);
        assert_eq!(
            &VerifyingKey::from_p256_sec1(&c).unwrap(),
            key.verifying_key()
        );
    }

    #[test]
    fn off_curve_point_rejected() {
        let mut p = [0u8; 65];
        p[0] = 4;
        p[1] = 1;
        assert!(VerifyingKey::from_p256_sec1(&p).is_err());
    }
}
