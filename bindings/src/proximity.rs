//! ISO 18013-5 proximity presentation: the holder side (`ProximityPresentation`, from
//! `Wallet.startProximity`) and the reader side (`ProximityReader`). The app carries
//! the bytes over BLE / NFC; these objects run the session (engagement, encryption,
//! request, response, termination).

use std::sync::{Arc, Mutex, MutexGuard};

use govcred::proximity::{
    BleOptions, DeviceRequest, HeldMdoc, Holder, HolderEvent, ItemsRequest, MdocResponder, Reader,
    ReaderEvent, Responder,
};
use govcred::store::ListFilter;
use govcred::Clock;

use crate::error::{ErrorCode, FfiResult, GovcredError};
use crate::verifier::{VerificationReport, Verifier};
use crate::wallet::Inner;

/// One requested data element.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedElement {
    /// Namespace, e.g. `org.iso.18013.5.1`.
    pub namespace: String,
    /// Element identifier, e.g. `age_over_18`.
    pub element: String,
    /// Whether the reader says it will keep the value.
    pub intent_to_retain: bool,
}

/// One document a reader asks for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RequestedDocument {
    /// The docType asked for.
    pub doctype: String,
    /// The elements asked for.
    pub elements: Vec<RequestedElement>,
    /// The authenticated reader (its certificate subject), when the request was signed
    /// by a reader the wallet trusts.
    pub reader_name: Option<String>,
    /// Why reader authentication failed, when the request was signed but could not
    /// be authenticated (show the reader as unverified).
    pub reader_problem: Option<String>,
}

/// What a reader's message was: a request to show on the consent screen, or the end
/// of the session.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProximityRequest {
    /// The reader ended the session (no documents then).
    pub terminated: bool,
    /// The documents asked for.
    pub documents: Vec<RequestedDocument>,
}

fn session_error(what: &str) -> GovcredError {
    GovcredError::new(
        ErrorCode::SessionState,
        format!("session lock poisoned ({what})"),
    )
}

/// The holder's side of one proximity session over the wallet's mdocs.
///
/// ```kotlin
/// val session = wallet.startProximity()
/// showQr(session.qrUri())
/// val request = session.receive(bleIncoming())   // consent screen from request.documents
/// bleSend(session.respond())
/// ```
#[derive(uniffi::Object)]
pub struct ProximityPresentation {
    wallet: Arc<Inner>,
    holder: Mutex<Holder>,
}

impl ProximityPresentation {
    pub(crate) fn start(wallet: Arc<Inner>) -> FfiResult<Arc<Self>> {
        let uuid = rand::random::<[u8; 16]>();
        let holder = Holder::new(BleOptions::peripheral_server(uuid))?;
        Ok(Arc::new(ProximityPresentation {
            wallet,
            holder: Mutex::new(holder),
        }))
    }

    fn holder(&self) -> FfiResult<MutexGuard<'_, Holder>> {
        self.holder.lock().map_err(|_| session_error("holder"))
    }
}

#[uniffi::export]
impl ProximityPresentation {
    /// The `mdoc:` URI to show as a QR code (device engagement, BLE peripheral server).
    pub fn qr_uri(&self) -> FfiResult<String> {
        Ok(self.holder()?.qr_uri())
    }

    /// Handle a message from the reader (the SessionEstablishment, then SessionData):
    /// returns the request to show for consent, or `terminated`.
    pub fn receive(&self, message: Vec<u8>) -> FfiResult<ProximityRequest> {
        let now = govcred::SystemClock.now();
        let event =
            self.holder()?
                .receive(&message, &[], now, govcred::verifier::DEFAULT_LEEWAY_SECS)?;
        Ok(match event {
            HolderEvent::Terminated => ProximityRequest {
                terminated: true,
                documents: vec![],
            },
            HolderEvent::Request(r) => ProximityRequest {
                terminated: false,
                documents: r
                    .request
                    .doc_requests
                    .iter()
                    .zip(r.readers.iter())
                    .map(|(d, reader)| RequestedDocument {
                        doctype: d.items_request.doc_type.clone(),
                        elements: elements_of(&d.items_request),
                        reader_name: reader
                            .as_ref()
                            .and_then(|r| r.as_ref().ok())
                            .map(|id| id.subject.clone()),
                        reader_problem: reader
                            .as_ref()
                            .and_then(|r| r.as_ref().err())
                            .map(|e| e.message.clone()),
                    })
                    .collect(),
            },
        })
    }

    /// Answer the pending request (after the holder consented to all of it) with the
    /// stored mdocs of the requested docTypes, disclosing exactly the requested elements
    /// they have, signed by each mdoc's device key in the key store. Returns the bytes
    /// to send.
    pub fn respond(&self) -> FfiResult<Vec<u8>> {
        self.answer(None)
    }

    /// Answer the pending request disclosing only the `approved` elements (what the
    /// holder left switched on in the consent screen); requested elements not in
    /// `approved` are withheld. Returns the bytes to send.
    pub fn respond_with_consent(&self, approved: Vec<RequestedElement>) -> FfiResult<Vec<u8>> {
        self.answer(Some(approved))
    }

    /// End the session: returns the termination message to send.
    pub fn terminate(&self) -> FfiResult<Vec<u8>> {
        Ok(self.holder()?.terminate())
    }
}

impl ProximityPresentation {
    fn answer(&self, approved: Option<Vec<RequestedElement>>) -> FfiResult<Vec<u8>> {
        let mut held = Vec::new();
        {
            let state = self.wallet.lock()?;
            let store = state.store()?;
            let filter = ListFilter {
                format: Some(govcred::Format::Mdoc),
                ..Default::default()
            };
            for summary in store.list(&filter)?.credentials {
                let Ok(signer) = self.wallet.holder_signer(&state, &summary.id) else {
                    continue; // an mdoc without a device key here cannot be presented
                };
                held.push((store.get(&summary.id)?.raw, signer));
            }
        }
        let responder = MdocResponder::new(
            held.iter()
                .map(|(raw, signer)| HeldMdoc {
                    issuer_signed: raw,
                    device_key: signer,
                })
                .collect(),
        );
        let consented = |request: &DeviceRequest, transcript: &[u8]| {
            let mut request = request.clone();
            if let Some(approved) = &approved {
                for doc in &mut request.doc_requests {
                    for (ns, elements) in &mut doc.items_request.name_spaces {
                        elements.retain(|(e, _)| {
                            approved
                                .iter()
                                .any(|a| &a.namespace == ns && &a.element == e)
                        });
                    }
                }
            }
            responder.respond(&request, transcript)
        };
        Ok(self.holder()?.respond(&consented)?)
    }
}

fn elements_of(items: &ItemsRequest) -> Vec<RequestedElement> {
    items
        .name_spaces
        .iter()
        .flat_map(|(ns, elements)| {
            elements.iter().map(move |(e, retain)| RequestedElement {
                namespace: ns.clone(),
                element: e.clone(),
                intent_to_retain: *retain,
            })
        })
        .collect()
}

/// The reader's side of a proximity session: scan the holder's QR code, send a
/// request, verify the response against the verifier's trust (IACAs) with this
/// session's transcript.
///
/// ```kotlin
/// val reader = ProximityReader.fromQr(verifier, scannedUri)
/// bleSend(reader.request("org.iso.18013.5.1.mDL", listOf(RequestedElement("org.iso.18013.5.1", "age_over_18", false))))
/// val report = reader.receive(bleIncoming())
/// ```
#[derive(uniffi::Object)]
pub struct ProximityReader {
    verifier: govcred::Verifier,
    reader: Mutex<Reader>,
}

impl ProximityReader {
    fn reader(&self) -> FfiResult<MutexGuard<'_, Reader>> {
        self.reader.lock().map_err(|_| session_error("reader"))
    }
}

#[uniffi::export]
impl ProximityReader {
    /// Start a session from the holder's `mdoc:` QR code, verifying with `verifier`.
    #[uniffi::constructor]
    pub fn from_qr(verifier: Arc<Verifier>, qr_uri: String) -> FfiResult<Arc<Self>> {
        Ok(Arc::new(ProximityReader {
            verifier: verifier.inner.clone(),
            reader: Mutex::new(Reader::from_qr(&qr_uri)?),
        }))
    }

    /// Ask for `elements` of a document of `doctype`: returns the message to send
    /// (the SessionEstablishment the first time).
    pub fn request(&self, doctype: String, elements: Vec<RequestedElement>) -> FfiResult<Vec<u8>> {
        let mut items = ItemsRequest::new(doctype);
        for e in &elements {
            items = items.element(&e.namespace, &e.element, e.intent_to_retain);
        }
        let mut reader = self.reader()?;
        let now = govcred::SystemClock.now();
        let request = reader.build_request(vec![items], None, now)?;
        Ok(reader.send_request(&request)?)
    }

    /// Handle the holder's answer: the DeviceResponse, verified against the trust
    /// material and bound to this session (device signature over this transcript).
    pub fn receive(&self, message: Vec<u8>) -> FfiResult<VerificationReport> {
        let mut reader = self.reader()?;
        let response = match reader.receive(&message)? {
            ReaderEvent::Response(r) | ReaderEvent::Terminated(Some(r)) => r,
            ReaderEvent::Terminated(None) => {
                return Err(GovcredError::new(
                    ErrorCode::SessionState,
                    "the holder ended the session without a response",
                ))
            }
        };
        let transcript = reader.session_transcript().clone();
        Ok(self
            .verifier
            .clone()
            .with_session_transcript(transcript)
            .verify(&response)
            .into())
    }

    /// End the session: returns the termination message to send.
    pub fn terminate(&self) -> FfiResult<Vec<u8>> {
        Ok(self.reader()?.terminate())
    }
}
