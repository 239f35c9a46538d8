//! Session establishment, SessionTranscript, key derivation and SessionData encryption
//! (ISO/IEC 18013-5 §9.1.1).

use aws_lc_rs::{aead, agreement, hkdf};
use ciborium::Value;
use zeroize::Zeroizing;

use super::engagement::EcPublicKey;
use super::{
    as_uint, from_slice, get_text, head, map_entries, tag24, tag24_bytes, to_vec, untag24,
};
use crate::error::{Error, Result};

/// `SessionData.status` 10: session encryption error.
pub const STATUS_ENCRYPTION_ERROR: u64 = 10;
/// `SessionData.status` 11: CBOR decoding error.
pub const STATUS_DECODING_ERROR: u64 = 11;
/// `SessionData.status` 20: session termination.
pub const STATUS_SESSION_TERMINATION: u64 = 20;

/// An ephemeral P-256 key for one session (EDeviceKey or EReaderKey). The private
/// key lives in aws-lc, which wipes it when the key is dropped.
pub struct EphemeralKey {
    key: agreement::PrivateKey,
    public: EcPublicKey,
}

impl std::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl EphemeralKey {
    /// A fresh key from the system's secure random source.
    pub fn generate() -> Result<Self> {
        let key = agreement::PrivateKey::generate(&agreement::ECDH_P256)
            .map_err(|_| Error::CryptoBackend("cannot generate an ephemeral P-256 key".into()))?;
        Self::wrap(key)
    }

    /// A key from a known private scalar — **for reproducing test vectors only**
    /// (ISO 18013-5 Annex D); a real session always uses [`EphemeralKey::generate`].
    pub fn from_scalar(d: &[u8; 32]) -> Result<Self> {
        let key = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, d)
            .map_err(|e| Error::InvalidKey(format!("P-256 private scalar: {e}")))?;
        Self::wrap(key)
    }

    fn wrap(key: agreement::PrivateKey) -> Result<Self> {
        let public = key
            .compute_public_key()
            .map_err(|_| Error::CryptoBackend("cannot compute a P-256 public key".into()))?;
        Ok(EphemeralKey {
            public: EcPublicKey::from_sec1(public.as_ref())?,
            key,
        })
    }

    /// The public key.
    pub fn public(&self) -> &EcPublicKey {
        &self.public
    }

    /// ECDH with `peer`: the 32-byte shared x coordinate.
    pub fn agree(&self, peer: &EcPublicKey) -> Result<Zeroizing<[u8; 32]>> {
        let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, peer.to_sec1());
        agreement::agree(
            &self.key,
            peer,
            Error::InvalidKey("peer session key is not a valid P-256 point".into()),
            |z| {
                let mut out = Zeroizing::new([0u8; 32]);
                out.copy_from_slice(z);
                Ok(out)
            },
        )
    }
}

/// The `Handover` element of the SessionTranscript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handover {
    /// QR engagement: `null`.
    Qr,
    /// NFC negotiated handover: `[HandoverSelect, HandoverRequest or null]` (raw NDEF).
    Nfc {
        /// The Handover Select message.
        select: Vec<u8>,
        /// The Handover Request message (absent for static handover).
        request: Option<Vec<u8>>,
    },
    /// Another handover (e.g. OpenID4VP), as its encoded CBOR item.
    Encoded(Vec<u8>),
}

impl Handover {
    fn encode(&self) -> Vec<u8> {
        match self {
            Handover::Qr => vec![0xf6],
            Handover::Nfc { select, request } => to_vec(&Value::Array(vec![
                Value::Bytes(select.clone()),
                request.clone().map_or(Value::Null, Value::Bytes),
            ])),
            Handover::Encoded(b) => b.clone(),
        }
    }
}

/// `SessionTranscript = [DeviceEngagementBytes, EReaderKeyBytes, Handover]`: the one
/// type shared with the mdoc DeviceResponse ([`crate::format::mdoc::SessionTranscript`]),
/// built here from the engagement as received.
pub use crate::format::mdoc::SessionTranscript;

impl SessionTranscript {
    /// Build from the engagement bytes as received, the encoded EReaderKey COSE_Key and
    /// the handover.
    pub fn new(device_engagement: &[u8], e_reader_key: &[u8], handover: &Handover) -> Self {
        let mut inner = head(4, 3);
        inner.extend(tag24_bytes(device_engagement));
        inner.extend(tag24_bytes(e_reader_key));
        inner.extend(handover.encode());
        SessionTranscript::from_encoded_parts(inner)
    }

    /// `SessionTranscriptBytes = #6.24(bstr .cbor SessionTranscript)`: what the HKDF
    /// salt is computed over.
    pub fn tagged_bytes(&self) -> Vec<u8> {
        tag24_bytes(self.as_cbor())
    }
}

/// Which side of the session this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The mdoc (holder): encrypts with SKDevice, IV identifier `0…1`.
    Holder,
    /// The mdoc reader: encrypts with SKReader, IV identifier `0…0`.
    Reader,
}

/// SKReader and SKDevice.
pub struct SessionKeys {
    sk_reader: Zeroizing<[u8; 32]>,
    sk_device: Zeroizing<[u8; 32]>,
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    prk.expand(&[info], Len32)
        .and_then(|okm| okm.fill(out.as_mut()))
        .map_err(|_| Error::CryptoBackend("HKDF-SHA256 failed".into()))?;
    Ok(out)
}

impl SessionKeys {
    /// HKDF-SHA256(ikm = ECDH shared secret, salt = SHA-256(SessionTranscriptBytes),
    /// info = "SKReader" / "SKDevice", 32 bytes).
    pub fn derive(shared_secret: &[u8; 32], transcript: &SessionTranscript) -> Result<Self> {
        let salt = crate::crypto::sha256(&transcript.tagged_bytes());
        Ok(SessionKeys {
            sk_reader: hkdf_sha256(shared_secret, &salt, b"SKReader")?,
            sk_device: hkdf_sha256(shared_secret, &salt, b"SKDevice")?,
        })
    }

    /// `EMacKey` for mdoc MAC authentication (`deviceMac`): HKDF-SHA256(ikm =
    /// ECDH(static DeviceKey, EReaderKey), same salt, info "EMacKey", 32 bytes). The
    /// GOV.UK profile authenticates with a device signature instead; this is here so a
    /// reader can check MAC-authenticated responses from other wallets.
    pub fn e_mac_key(
        device_key_agreement: &[u8; 32],
        transcript: &SessionTranscript,
    ) -> Result<Zeroizing<[u8; 32]>> {
        let salt = crate::crypto::sha256(&transcript.tagged_bytes());
        hkdf_sha256(device_key_agreement, &salt, b"EMacKey")
    }

    /// SKReader (exposed for test vectors).
    pub fn sk_reader(&self) -> &[u8; 32] {
        &self.sk_reader
    }

    /// SKDevice (exposed for test vectors).
    pub fn sk_device(&self) -> &[u8; 32] {
        &self.sk_device
    }
}

/// Encrypts what this side sends and decrypts what the other side sends, counting
/// messages in each direction from 1.
pub struct SessionCipher {
    role: Role,
    keys: SessionKeys,
    sent: u32,
    received: u32,
}

fn iv(identifier: u64, counter: u32) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[..8].copy_from_slice(&identifier.to_be_bytes());
    iv[8..].copy_from_slice(&counter.to_be_bytes());
    iv
}

fn aead_key(key: &[u8; 32]) -> Result<aead::LessSafeKey> {
    aead::UnboundKey::new(&aead::AES_256_GCM, key)
        .map(aead::LessSafeKey::new)
        .map_err(|_| Error::CryptoBackend("AES-256-GCM key".into()))
}

impl SessionCipher {
    /// A cipher for `role` with the derived keys.
    pub fn new(role: Role, keys: SessionKeys) -> Self {
        SessionCipher {
            role,
            keys,
            sent: 0,
            received: 0,
        }
    }

    /// The keys.
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// Encrypt the next outgoing message.
    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let counter = self.sent.checked_add(1).ok_or_else(|| {
            Error::SessionState("message counter exhausted: start a new session".into())
        })?;
        let (key, id) = match self.role {
            Role::Reader => (&self.keys.sk_reader, 0),
            Role::Holder => (&self.keys.sk_device, 1),
        };
        let mut buf = plaintext.to_vec();
        aead_key(key)?
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(iv(id, counter)),
                aead::Aad::empty(),
                &mut buf,
            )
            .map_err(|_| Error::CryptoBackend("AES-256-GCM encryption failed".into()))?;
        self.sent = counter;
        Ok(buf)
    }

    /// Decrypt the next incoming message. A failure (wrong key, altered, replayed or
    /// out-of-order message) leaves the counter where it was.
    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let counter = self.received.checked_add(1).ok_or_else(|| {
            Error::SessionState("message counter exhausted: start a new session".into())
        })?;
        let (key, id, name) = match self.role {
            Role::Reader => (&self.keys.sk_device, 1, "SKDevice"),
            Role::Holder => (&self.keys.sk_reader, 0, "SKReader"),
        };
        let fail = Error::SessionDecryptionFailed { key: name, counter };
        if ciphertext.len() < aead::AES_256_GCM.tag_len() {
            return Err(fail);
        }
        let mut buf = ciphertext.to_vec();
        let len = aead_key(key)?
            .open_in_place(
                aead::Nonce::assume_unique_for_key(iv(id, counter)),
                aead::Aad::empty(),
                &mut buf,
            )
            .map_err(|_| fail)?
            .len();
        buf.truncate(len);
        self.received = counter;
        Ok(buf)
    }
}

/// `SessionEstablishment = {"eReaderKey": EReaderKeyBytes, "data": bstr}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEstablishment {
    /// The encoded EReaderKey COSE_Key (inside the tag 24).
    pub e_reader_key_bytes: Vec<u8>,
    /// The encrypted DeviceRequest.
    pub data: Vec<u8>,
}

impl SessionEstablishment {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_vec(&Value::Map(vec![
            (
                Value::Text("eReaderKey".into()),
                tag24(self.e_reader_key_bytes.clone()),
            ),
            (Value::Text("data".into()), Value::Bytes(self.data.clone())),
        ]))
    }

    /// Parse.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        const W: &str = "SessionEstablishment";
        let v = from_slice(bytes, W)?;
        let m = map_entries(&v, W)?;
        let key = get_text(m, "eReaderKey").ok_or_else(|| Error::malformed(W, "no eReaderKey"))?;
        let data = match get_text(m, "data") {
            Some(Value::Bytes(b)) => b.clone(),
            _ => return Err(Error::malformed(W, "data must be a byte string")),
        };
        Ok(SessionEstablishment {
            e_reader_key_bytes: untag24(key, "EReaderKeyBytes")?.to_vec(),
            data,
        })
    }
}

/// `SessionData = {? "data": bstr, ? "status": uint}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionData {
    /// Encrypted payload.
    pub data: Option<Vec<u8>>,
    /// Status (10, 11, 20).
    pub status: Option<u64>,
}

impl SessionData {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut m = Vec::new();
        if let Some(d) = &self.data {
            m.push((Value::Text("data".into()), Value::Bytes(d.clone())));
        }
        if let Some(s) = self.status {
            m.push((Value::Text("status".into()), Value::from(s)));
        }
        to_vec(&Value::Map(m))
    }

    /// `{"status": 20}`.
    pub fn termination() -> Self {
        SessionData {
            data: None,
            status: Some(STATUS_SESSION_TERMINATION),
        }
    }

    /// Parse.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        const W: &str = "SessionData";
        let v = from_slice(bytes, W)?;
        let m = map_entries(&v, W)?;
        let data = match get_text(m, "data") {
            Some(Value::Bytes(b)) => Some(b.clone()),
            None => None,
            _ => return Err(Error::malformed(W, "data must be a byte string")),
        };
        let status = match get_text(m, "status") {
            Some(s) => Some(
                as_uint(s)
                    .ok_or_else(|| Error::malformed(W, "status must be an unsigned integer"))?,
            ),
            None => None,
        };
        if data.is_none() && status.is_none() {
            return Err(Error::malformed(W, "has neither data nor status"));
        }
        Ok(SessionData { data, status })
    }
}
