//! `DeviceRequest` (ISO/IEC 18013-5 §8.3.2.1.2.1) with optional reader authentication.

use ciborium::Value;

use super::session::SessionTranscript;
use super::{
    bstr, from_slice, get_int, get_text, head, map_entries, tag24, tag24_bytes, to_vec, tstr,
    untag24,
};
use crate::crypto::{Alg, VerifyingKey};
use crate::error::{Error, Result};
use crate::platform::Signer;
use crate::x509::Certificate;

/// The extended key usage of reader authentication certificates, id-mdlReaderAuth
/// (ISO/IEC 18013-5 Annex B; GOV.UK profile §6.5).
pub const READER_AUTH_EKU: &str = "1.0.18013.5.1.6";

/// `ItemsRequest = {"docType": tstr, "nameSpaces": {ns: {element: intentToRetain}}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemsRequest {
    /// The requested document type.
    pub doc_type: String,
    /// Namespaces → (element identifier, intent to retain), in request order.
    pub name_spaces: Vec<(String, Vec<(String, bool)>)>,
}

impl ItemsRequest {
    /// A request for `doc_type` with no elements yet.
    pub fn new(doc_type: impl Into<String>) -> Self {
        ItemsRequest {
            doc_type: doc_type.into(),
            name_spaces: Vec::new(),
        }
    }

    /// Add an element (builder style).
    pub fn element(mut self, name_space: &str, element: &str, intent_to_retain: bool) -> Self {
        match self.name_spaces.iter_mut().find(|(ns, _)| ns == name_space) {
            Some((_, els)) => els.push((element.into(), intent_to_retain)),
            None => self
                .name_spaces
                .push((name_space.into(), vec![(element.into(), intent_to_retain)])),
        }
        self
    }

    /// Encode (the content of ItemsRequestBytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let ns = self
            .name_spaces
            .iter()
            .map(|(ns, els)| {
                (
                    Value::Text(ns.clone()),
                    Value::Map(
                        els.iter()
                            .map(|(e, r)| (Value::Text(e.clone()), Value::Bool(*r)))
                            .collect(),
                    ),
                )
            })
            .collect();
        to_vec(&Value::Map(vec![
            (
                Value::Text("docType".into()),
                Value::Text(self.doc_type.clone()),
            ),
            (Value::Text("nameSpaces".into()), Value::Map(ns)),
        ]))
    }

    /// Parse ItemsRequest bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        const W: &str = "ItemsRequest";
        let v = from_slice(bytes, W)?;
        let m = map_entries(&v, W)?;
        let doc_type = match get_text(m, "docType") {
            Some(Value::Text(t)) => t.clone(),
            _ => return Err(Error::malformed(W, "docType must be text")),
        };
        let mut name_spaces = Vec::new();
        for (ns, els) in map_entries(
            get_text(m, "nameSpaces").ok_or_else(|| Error::malformed(W, "no nameSpaces"))?,
            W,
        )? {
            let Value::Text(ns) = ns else {
                return Err(Error::malformed(W, "namespace names must be text"));
            };
            let mut list = Vec::new();
            for (e, r) in map_entries(els, W)? {
                match (e, r) {
                    (Value::Text(e), Value::Bool(r)) => list.push((e.clone(), *r)),
                    _ => {
                        return Err(Error::malformed(
                            W,
                            "each element must map its identifier to intentToRetain (bool)",
                        ))
                    }
                }
            }
            name_spaces.push((ns.clone(), list));
        }
        Ok(ItemsRequest {
            doc_type,
            name_spaces,
        })
    }
}

/// Who a reader authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderIdentity {
    /// The reader certificate's subject.
    pub subject: String,
    /// The trusted root it chains to.
    pub root: String,
}

/// One `DocRequest`: the ItemsRequest exactly as received, and any `readerAuth`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocRequest {
    /// The parsed request.
    pub items_request: ItemsRequest,
    items_request_bytes: Vec<u8>,
    reader_auth: Option<Vec<u8>>,
}

impl DocRequest {
    /// A request without reader authentication.
    pub fn new(items_request: ItemsRequest) -> Self {
        DocRequest {
            items_request_bytes: items_request.to_bytes(),
            items_request,
            reader_auth: None,
        }
    }

    /// A request signed by the reader (`readerAuth`, COSE_Sign1 over
    /// ReaderAuthenticationBytes, with the reader's certificate chain in `x5chain`).
    /// The signer is ES256 (COSE alg -7) or ES384 (-35, the P-384 key of a GOV.UK
    /// reader certificate, profile §6.5, held by a platform [`Signer`]); EdDSA is refused.
    pub fn signed(
        items_request: ItemsRequest,
        transcript: &SessionTranscript,
        signer: &dyn Signer,
        chain: &[Certificate],
    ) -> Result<Self> {
        let (protected, sig_len) = match signer.alg() {
            Alg::ES256 => (vec![0xa1, 0x01, 0x26], 64), // {1: -7}
            Alg::ES384 => (vec![0xa1, 0x01, 0x38, 0x22], 96), // {1: -35}
            other => {
                return Err(Error::AlgNotAllowed {
                    alg: format!("{other} for readerAuth (use ES256 or ES384)"),
                })
            }
        };
        let mut req = DocRequest::new(items_request);
        let payload = reader_authentication_bytes(transcript, &req.items_request_bytes);
        let sig = signer.sign(&sig_structure(&protected, &payload))?;
        if sig.len() != sig_len {
            return Err(Error::SignerFailed(format!(
                "{} signer returned {} bytes; COSE needs the {sig_len}-byte raw R||S form",
                signer.alg(),
                sig.len()
            )));
        }
        let x5chain = match chain {
            [one] => Value::Bytes(one.der().to_vec()),
            many => Value::Array(
                many.iter()
                    .map(|c| Value::Bytes(c.der().to_vec()))
                    .collect(),
            ),
        };
        req.reader_auth = Some(to_vec(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![(Value::from(33), x5chain)]),
            Value::Null,
            Value::Bytes(sig),
        ])));
        Ok(req)
    }

    /// The ItemsRequest bytes as received.
    pub fn items_request_bytes(&self) -> &[u8] {
        &self.items_request_bytes
    }

    /// Whether the reader signed this request.
    pub fn has_reader_auth(&self) -> bool {
        self.reader_auth.is_some()
    }

    /// The reader certificate chain in `readerAuth` (leaf first).
    pub fn reader_chain(&self) -> Result<Vec<Certificate>> {
        let (_, _, _, chain) = self.reader_auth_parts()?;
        Ok(chain)
    }

    /// The `readerAuth` parts: signature algorithm (ES256 for COSE -7, ES384 for -35;
    /// anything else is refused), protected header bytes, signature, x5chain.
    #[allow(clippy::type_complexity)]
    fn reader_auth_parts(&self) -> Result<(Alg, Vec<u8>, Vec<u8>, Vec<Certificate>)> {
        const W: &str = "readerAuth";
        let raw = self
            .reader_auth
            .as_deref()
            .ok_or_else(|| Error::malformed(W, "the request is not signed by the reader"))?;
        let v = from_slice(raw, W)?;
        let v = match v {
            Value::Tag(18, inner) => *inner,
            v => v,
        };
        let Value::Array(parts) = v else {
            return Err(Error::malformed(W, "must be a COSE_Sign1 array"));
        };
        let [Value::Bytes(protected), unprotected, payload, Value::Bytes(sig)] = parts.as_slice()
        else {
            return Err(Error::malformed(
                W,
                "must be [protected, unprotected, payload, signature]",
            ));
        };
        if !matches!(payload, Value::Null) {
            return Err(Error::malformed(W, "the payload must be detached (null)"));
        }
        let prot = from_slice(protected, W)?;
        let prot_map = map_entries(&prot, W)?;
        let alg = match get_int(prot_map, 1) {
            Some(Value::Integer(i)) if i128::from(*i) == -7 => Alg::ES256,
            Some(Value::Integer(i)) if i128::from(*i) == -35 => Alg::ES384,
            Some(other) => {
                return Err(Error::AlgNotAllowed {
                    alg: format!("COSE {other:?} (readerAuth accepts ES256, -7, and ES384, -35)"),
                })
            }
            None => return Err(Error::malformed(W, "protected header has no alg")),
        };
        let x5 = get_int(prot_map, 33)
            .or_else(|| {
                map_entries(unprotected, W)
                    .ok()
                    .and_then(|m| get_int(m, 33))
            })
            .ok_or_else(|| Error::malformed(W, "no x5chain (label 33)"))?;
        let ders: Vec<&[u8]> = match x5 {
            Value::Bytes(b) => vec![b],
            Value::Array(a) => a
                .iter()
                .map(|c| match c {
                    Value::Bytes(b) => Ok(b.as_slice()),
                    _ => Err(Error::malformed(W, "x5chain entries must be byte strings")),
                })
                .collect::<Result<_>>()?,
            _ => {
                return Err(Error::malformed(
                    W,
                    "x5chain must be a byte string or an array",
                ))
            }
        };
        let chain = ders
            .into_iter()
            .map(Certificate::from_der)
            .collect::<Result<Vec<_>>>()?;
        Ok((alg, protected.clone(), sig.clone(), chain))
    }

    /// Check `readerAuth` with `key` only (no chain): the signature over
    /// ReaderAuthenticationBytes for this transcript. The COSE alg must match the key
    /// (-7 with a P-256 key, -35 with a P-384 key), else [`Error::KeyAlgMismatch`].
    pub fn verify_reader_signature(
        &self,
        transcript: &SessionTranscript,
        key: &VerifyingKey,
    ) -> Result<()> {
        let (alg, protected, sig, _) = self.reader_auth_parts()?;
        let payload = reader_authentication_bytes(transcript, &self.items_request_bytes);
        key.verify(alg, &sig_structure(&protected, &payload), &sig)
    }

    /// Check `readerAuth`: the x5chain must chain to one of `roots` at `now` with the
    /// mdlReaderAuth EKU, and its leaf key must have signed this request for this
    /// session. Returns who the reader is.
    pub fn verify_reader_auth(
        &self,
        transcript: &SessionTranscript,
        roots: &[Certificate],
        now: i64,
        leeway: i64,
    ) -> Result<ReaderIdentity> {
        let (_, _, _, chain) = self.reader_auth_parts()?;
        if roots.is_empty() {
            return Err(Error::UnknownKey(
                "the reader's certificate: no trusted reader roots are configured".into(),
            ));
        }
        let key = crate::x509::verify_chain(&chain, roots, now, leeway, Some(READER_AUTH_EKU))?;
        self.verify_reader_signature(transcript, &key)?;
        let root = roots
            .iter()
            .find(|r| {
                chain
                    .last()
                    .is_some_and(|c| c.issuer() == r.subject() || c.der() == r.der())
            })
            .map(|r| r.subject())
            .unwrap_or_default();
        Ok(ReaderIdentity {
            subject: chain[0].subject(),
            root,
        })
    }

    fn to_value(&self) -> Result<Value> {
        let mut m = vec![(
            Value::Text("itemsRequest".into()),
            tag24(self.items_request_bytes.clone()),
        )];
        if let Some(ra) = &self.reader_auth {
            m.push((
                Value::Text("readerAuth".into()),
                from_slice(ra, "readerAuth")?,
            ));
        }
        Ok(Value::Map(m))
    }
}

/// `ReaderAuthenticationBytes = #6.24(bstr .cbor ["ReaderAuthentication",
/// SessionTranscript, ItemsRequestBytes])`, built from the exact encodings.
pub fn reader_authentication_bytes(
    transcript: &SessionTranscript,
    items_request: &[u8],
) -> Vec<u8> {
    let mut inner = head(4, 3);
    inner.extend(tstr("ReaderAuthentication"));
    inner.extend_from_slice(transcript.as_cbor());
    inner.extend(tag24_bytes(items_request));
    tag24_bytes(&inner)
}

/// `Sig_structure = ["Signature1", protected, h'', payload]`.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut s = head(4, 4);
    s.extend(tstr("Signature1"));
    s.extend(bstr(protected));
    s.extend(bstr(&[]));
    s.extend(bstr(payload));
    s
}

/// `DeviceRequest = {"version": "1.0", "docRequests": [+ DocRequest]}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRequest {
    /// `"1.0"`.
    pub version: String,
    /// The requests, one per document.
    pub doc_requests: Vec<DocRequest>,
}

impl DeviceRequest {
    /// A version 1.0 request.
    pub fn new(doc_requests: Vec<DocRequest>) -> Self {
        DeviceRequest {
            version: "1.0".into(),
            doc_requests,
        }
    }

    /// Encode.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let docs = self
            .doc_requests
            .iter()
            .map(DocRequest::to_value)
            .collect::<Result<Vec<_>>>()?;
        Ok(to_vec(&Value::Map(vec![
            (
                Value::Text("version".into()),
                Value::Text(self.version.clone()),
            ),
            (Value::Text("docRequests".into()), Value::Array(docs)),
        ])))
    }

    /// Parse a decrypted DeviceRequest.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        const W: &str = "DeviceRequest";
        let v = from_slice(bytes, W)?;
        let m = map_entries(&v, W)?;
        let version = match get_text(m, "version") {
            Some(Value::Text(t)) if crate::format::mdoc::is_supported_version(t) => t.clone(),
            _ => return Err(Error::malformed(W, "version must be \"1.x\"")),
        };
        let Some(Value::Array(docs)) = get_text(m, "docRequests") else {
            return Err(Error::malformed(W, "docRequests must be an array"));
        };
        if docs.is_empty() {
            return Err(Error::malformed(W, "docRequests is empty"));
        }
        let mut doc_requests = Vec::new();
        for d in docs {
            let dm = map_entries(d, "DocRequest")?;
            let items = untag24(
                get_text(dm, "itemsRequest")
                    .ok_or_else(|| Error::malformed("DocRequest", "no itemsRequest"))?,
                "ItemsRequestBytes",
            )?;
            doc_requests.push(DocRequest {
                items_request: ItemsRequest::parse(items)?,
                items_request_bytes: items.to_vec(),
                reader_auth: get_text(dm, "readerAuth").map(to_vec),
            });
        }
        Ok(DeviceRequest {
            version,
            doc_requests,
        })
    }
}
