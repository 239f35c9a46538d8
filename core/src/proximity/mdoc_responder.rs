//! The holder's answer to a proximity request from the mdocs it holds: the glue
//! between the session layer ([`Holder::respond`](super::Holder::respond)) and the
//! mdoc DeviceResponse ([`crate::format::mdoc::present`]).

use super::holder::Responder;
use super::request::DeviceRequest;
use crate::error::{Error, Result};
use crate::format::mdoc::{self, SessionTranscript};
use crate::platform::Signer;

/// One mdoc the holder can present: the IssuerSigned as received and its device key
/// (a [`Signer`], so it can live in the phone's secure element).
pub struct HeldMdoc<'a> {
    /// The IssuerSigned (CBOR or base64url), as stored.
    pub issuer_signed: &'a [u8],
    /// The key the MSO binds the document to.
    pub device_key: &'a dyn Signer,
}

/// Answers a `DeviceRequest` with the first held mdoc of the requested doctype,
/// disclosing exactly the requested elements the document has (elements it lacks are
/// left out, as ISO 18013-5 §8.3.2.1.2.2 allows). The user's consent is given by the
/// caller choosing what to pass: to refuse an element, remove it from the request
/// before responding.
///
/// ```no_run
/// # use govcred::proximity::{HeldMdoc, MdocResponder, Holder};
/// # fn demo(holder: &mut Holder, issuer_signed: &[u8], device_key: &dyn govcred::Signer) -> govcred::Result<()> {
/// let responder = MdocResponder::new(vec![HeldMdoc { issuer_signed, device_key }]);
/// let reply = holder.respond(&responder)?; // bytes to send to the reader
/// # Ok(()) }
/// ```
pub struct MdocResponder<'a> {
    held: Vec<HeldMdoc<'a>>,
}

impl<'a> MdocResponder<'a> {
    /// A responder over these documents.
    pub fn new(held: Vec<HeldMdoc<'a>>) -> Self {
        MdocResponder { held }
    }
}

impl Responder for MdocResponder<'_> {
    fn respond(&self, request: &DeviceRequest, session_transcript: &[u8]) -> Result<Vec<u8>> {
        let transcript = SessionTranscript::from_cbor(session_transcript)?;
        for doc_request in &request.doc_requests {
            let wanted = &doc_request.items_request;
            for held in &self.held {
                let parsed = mdoc::parse(held.issuer_signed)?;
                if parsed.mobile_security_object()?.doc_type != wanted.doc_type {
                    continue;
                }
                let disclose: Vec<(&str, &str)> = wanted
                    .name_spaces
                    .iter()
                    .flat_map(|(ns, elements)| {
                        elements.iter().map(move |(e, _)| (ns.as_str(), e.as_str()))
                    })
                    .filter(|(ns, e)| {
                        parsed.name_spaces.iter().any(|(n, items)| {
                            n == ns && items.iter().any(|i| i.element_identifier == *e)
                        })
                    })
                    .collect();
                if disclose.is_empty() {
                    continue;
                }
                return mdoc::present(held.issuer_signed, &disclose, &transcript, held.device_key);
            }
        }
        Err(Error::claim(
            "DeviceRequest",
            "no held mdoc has the requested doctype and any of the requested elements",
        ))
    }
}
