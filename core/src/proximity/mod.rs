//! ISO/IEC 18013-5 proximity presentation: the session layer, both sides, with no
//! transport of its own.
//!
//! The BLE (or NFC, or in-memory) link belongs to the app. The core turns bytes
//! received into events and returns bytes to send, so the same [`Holder`] and
//! [`Reader`] state machines run over BLE GATT on phones and over a `Vec` in tests:
//!
//! 1. **Engagement** ([`engagement`]): the holder makes an ephemeral P-256 key and shows
//!    `DeviceEngagement` as a QR code (`mdoc:` + base64url).
//! 2. **Session establishment** ([`session`]): the reader makes its own ephemeral key,
//!    builds the `SessionTranscript` `[DeviceEngagementBytes, EReaderKeyBytes, Handover]`,
//!    derives `SKReader`/`SKDevice` (ECDH P-256, HKDF-SHA256 with salt
//!    SHA-256(SessionTranscriptBytes)) and sends `SessionEstablishment` with the
//!    encrypted `DeviceRequest`.
//! 3. **Request** ([`request`]): the holder decrypts and parses the `DeviceRequest`,
//!    checks any `readerAuth` against its reader trust list, and — after the user
//!    consents — answers with a `DeviceResponse` made by a caller-supplied
//!    [`Responder`] (the mdoc DeviceResponse lives in `format::mdoc`), encrypted in
//!    `SessionData`.
//! 4. The reader decrypts the `DeviceResponse` and hands it, with the SessionTranscript,
//!    to a verifier; either side ends the session with `SessionData {status: 20}`.
//!
//! Every `SessionData` is AES-256-GCM with IV = 8-byte identifier (`0…0` reader,
//! `0…1` mdoc) ‖ 4-byte big-endian counter starting at 1, so a replayed, reordered,
//! altered or wrongly keyed message fails with [`Error::SessionDecryptionFailed`]
//! and the session's counters do not move.
//!
//! ```
//! use govcred::proximity::{Holder, Reader, BleOptions, DeviceRequest, ItemsRequest, HolderEvent, ReaderEvent};
//! let mut holder = Holder::new(BleOptions::peripheral_server([7; 16])).unwrap();
//! let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
//! let items = ItemsRequest::new("org.iso.18013.5.1.mDL")
//!     .element("org.iso.18013.5.1", "age_over_18", false);
//! let request = reader.build_request(vec![items], None, 0).unwrap();
//! let msg = reader.send_request(&request).unwrap();
//! let HolderEvent::Request(received) = holder.receive(&msg, &[], 0, 0).unwrap() else { panic!() };
//! assert_eq!(received.request.doc_requests[0].items_request.doc_type, "org.iso.18013.5.1.mDL");
//! let reply = holder.respond(&|_req: &DeviceRequest, _st: &[u8]| Ok(b"DeviceResponse".to_vec())).unwrap();
//! let ReaderEvent::Response(bytes) = reader.receive(&reply).unwrap() else { panic!() };
//! assert_eq!(bytes, b"DeviceResponse");
//! ```

pub mod engagement;
pub mod holder;
mod mdoc_responder;
pub mod reader;
pub mod request;
pub mod session;

pub use engagement::{BleOptions, DeviceEngagement, EcPublicKey, RetrievalMethod};
pub use holder::{Holder, HolderEvent, ReceivedRequest, Responder};
pub use mdoc_responder::{HeldMdoc, MdocResponder};
pub use reader::{Reader, ReaderEvent};
pub use request::{DeviceRequest, DocRequest, ItemsRequest, ReaderIdentity, READER_AUTH_EKU};
pub use session::{
    EphemeralKey, Handover, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys,
    SessionTranscript, STATUS_SESSION_TERMINATION,
};

use ciborium::Value;

use crate::error::{Error, Result};

/// Largest session message accepted: 8 MiB (a DeviceResponse with portraits).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

pub(crate) fn to_vec(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = ciborium::into_writer(v, &mut out);
    out
}

pub(crate) fn from_slice(bytes: &[u8], what: &'static str) -> Result<Value> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::TooLarge {
            what,
            size: bytes.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    let mut cursor = std::io::Cursor::new(bytes);
    let v: Value = ciborium::from_reader(&mut cursor)
        .map_err(|e| Error::malformed(what, format!("not valid CBOR: {e}")))?;
    if cursor.position() as usize != bytes.len() {
        return Err(Error::malformed(what, "trailing bytes after the CBOR item"));
    }
    Ok(v)
}

/// `#6.24(bstr)` around `bytes`.
pub(crate) fn tag24(bytes: Vec<u8>) -> Value {
    Value::Tag(24, Box::new(Value::Bytes(bytes)))
}

/// The bytes inside `#6.24(bstr)`.
pub(crate) fn untag24<'v>(v: &'v Value, what: &'static str) -> Result<&'v [u8]> {
    match v {
        Value::Tag(24, inner) => match inner.as_ref() {
            Value::Bytes(b) => Ok(b),
            _ => Err(Error::malformed(what, "tag 24 must wrap a byte string")),
        },
        _ => Err(Error::malformed(
            what,
            "must be a tag-24 embedded CBOR item",
        )),
    }
}

/// The encoded form of `#6.24(bstr)` around `bytes`, written directly (no re-encoding).
pub(crate) fn tag24_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0xd8, 0x18];
    out.extend(head(2, bytes.len() as u64));
    out.extend_from_slice(bytes);
    out
}

/// A CBOR major-type head.
pub(crate) fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => {
            let mut v = vec![m | 25];
            v.extend((n as u16).to_be_bytes());
            v
        }
        0x1_0000..=0xffff_ffff => {
            let mut v = vec![m | 26];
            v.extend((n as u32).to_be_bytes());
            v
        }
        _ => {
            let mut v = vec![m | 27];
            v.extend(n.to_be_bytes());
            v
        }
    }
}

/// A CBOR byte string.
pub(crate) fn bstr(bytes: &[u8]) -> Vec<u8> {
    let mut out = head(2, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

/// A CBOR text string.
pub(crate) fn tstr(text: &str) -> Vec<u8> {
    let mut out = head(3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
    out
}

pub(crate) fn map_entries<'v>(v: &'v Value, what: &'static str) -> Result<&'v [(Value, Value)]> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(Error::malformed(what, "must be a CBOR map")),
    }
}

pub(crate) fn get_int(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Integer(i) if i128::from(*i) == key as i128))
        .map(|(_, v)| v)
}

pub(crate) fn get_text<'v>(m: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    m.iter()
        .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
        .map(|(_, v)| v)
}

pub(crate) fn as_uint(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => u64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
}
