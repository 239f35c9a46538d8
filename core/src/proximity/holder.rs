//! The mdoc (holder) side of a proximity session.

use super::engagement::{BleOptions, DeviceEngagement, EcPublicKey};
use super::request::{DeviceRequest, ReaderIdentity};
use super::session::{
    EphemeralKey, Handover, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys,
    SessionTranscript, STATUS_SESSION_TERMINATION,
};
use crate::error::{Error, Result};
use crate::report::ReportError;
use crate::x509::Certificate;

/// Makes the `DeviceResponse` for a request the user consented to. It receives the
/// request and the encoded `SessionTranscript` (the untagged array, as
/// DeviceAuthentication embeds it) and returns the encoded DeviceResponse.
pub trait Responder {
    /// Build the DeviceResponse.
    fn respond(&self, request: &DeviceRequest, session_transcript: &[u8]) -> Result<Vec<u8>>;
}

impl<F> Responder for F
where
    F: Fn(&DeviceRequest, &[u8]) -> Result<Vec<u8>>,
{
    fn respond(&self, request: &DeviceRequest, session_transcript: &[u8]) -> Result<Vec<u8>> {
        self(request, session_transcript)
    }
}

/// A request received by the holder: what to show on the consent screen.
#[derive(Clone, Debug)]
pub struct ReceivedRequest {
    /// The request.
    pub request: DeviceRequest,
    /// Per DocRequest: the authenticated reader (`Ok`), why its authentication failed
    /// (`Err`), or `None` when the request was not signed.
    pub readers: Vec<Option<std::result::Result<ReaderIdentity, ReportError>>>,
}

/// What a message from the reader was.
#[derive(Clone, Debug)]
pub enum HolderEvent {
    /// A request; answer with [`Holder::respond`] after consent, or end the session.
    Request(ReceivedRequest),
    /// The reader ended the session.
    Terminated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Engaged,
    RequestPending,
    Responded,
    Terminated,
}

/// The holder's session state machine: engagement → request → response → end.
pub struct Holder {
    key: EphemeralKey,
    engagement: DeviceEngagement,
    cipher: Option<SessionCipher>,
    transcript: Option<SessionTranscript>,
    pending: Option<DeviceRequest>,
    state: State,
}

impl Holder {
    /// A new session with a fresh ephemeral key, engaging over BLE with `ble`.
    pub fn new(ble: BleOptions) -> Result<Self> {
        let key = EphemeralKey::generate()?;
        let engagement = DeviceEngagement::new(key.public().clone(), ble);
        Ok(Self::with_engagement(key, engagement))
    }

    /// A session with a given key and engagement (to reproduce test vectors; the
    /// engagement must carry `key`'s public key).
    pub fn with_engagement(key: EphemeralKey, engagement: DeviceEngagement) -> Self {
        Holder {
            key,
            engagement,
            cipher: None,
            transcript: None,
            pending: None,
            state: State::Engaged,
        }
    }

    /// The engagement to show.
    pub fn engagement(&self) -> &DeviceEngagement {
        &self.engagement
    }

    /// The QR code text.
    pub fn qr_uri(&self) -> String {
        self.engagement.to_qr_uri()
    }

    /// The session transcript, once the reader has established the session.
    pub fn session_transcript(&self) -> Option<&SessionTranscript> {
        self.transcript.as_ref()
    }

    /// The session keys, once established.
    pub fn session_keys(&self) -> Option<&SessionKeys> {
        self.cipher.as_ref().map(SessionCipher::keys)
    }

    /// Handle a message from the reader: the SessionEstablishment (first), or
    /// SessionData. Reader authentication is checked against `reader_roots` at `now`.
    pub fn receive(
        &mut self,
        message: &[u8],
        reader_roots: &[Certificate],
        now: i64,
        leeway: i64,
    ) -> Result<HolderEvent> {
        self.receive_with_handover(message, &Handover::Qr, reader_roots, now, leeway)
    }

    /// [`Holder::receive`] for an engagement made through another handover (NFC).
    pub fn receive_with_handover(
        &mut self,
        message: &[u8],
        handover: &Handover,
        reader_roots: &[Certificate],
        now: i64,
        leeway: i64,
    ) -> Result<HolderEvent> {
        let data = match self.state {
            State::Terminated => return Err(Error::SessionState("the session has ended".into())),
            State::RequestPending => {
                return Err(Error::SessionState(
                    "a request is waiting for an answer: respond or terminate first".into(),
                ))
            }
            State::Engaged => {
                let est = SessionEstablishment::parse(message)?;
                let reader_key = EcPublicKey::from_cose_key(&est.e_reader_key_bytes)?;
                let transcript = SessionTranscript::new(
                    self.engagement.bytes(),
                    &est.e_reader_key_bytes,
                    handover,
                );
                let z = self.key.agree(&reader_key)?;
                let keys = SessionKeys::derive(&z, &transcript)?;
                let mut cipher = SessionCipher::new(Role::Holder, keys);
                let plain = cipher.decrypt(&est.data)?;
                self.cipher = Some(cipher);
                self.transcript = Some(transcript);
                plain
            }
            State::Responded => {
                let sd = SessionData::parse(message)?;
                if sd.status == Some(STATUS_SESSION_TERMINATION) && sd.data.is_none() {
                    self.end();
                    return Ok(HolderEvent::Terminated);
                }
                let ct = sd.data.ok_or_else(|| {
                    Error::SessionState(format!(
                        "the reader sent status {:?} without data",
                        sd.status
                    ))
                })?;
                let plain = self.cipher_mut()?.decrypt(&ct)?;
                if sd.status == Some(STATUS_SESSION_TERMINATION) {
                    self.end();
                }
                plain
            }
        };
        let request = DeviceRequest::parse(&data)?;
        let transcript = self
            .transcript
            .as_ref()
            .ok_or_else(|| Error::SessionState("no transcript".into()))?;
        let readers = request
            .doc_requests
            .iter()
            .map(|d| {
                d.has_reader_auth().then(|| {
                    d.verify_reader_auth(transcript, reader_roots, now, leeway)
                        .map_err(|e| ReportError::from(&e))
                })
            })
            .collect();
        if self.state != State::Terminated {
            self.state = State::RequestPending;
        }
        self.pending = Some(request.clone());
        Ok(HolderEvent::Request(ReceivedRequest { request, readers }))
    }

    fn cipher_mut(&mut self) -> Result<&mut SessionCipher> {
        self.cipher
            .as_mut()
            .ok_or_else(|| Error::SessionState("the session is not established".into()))
    }

    /// Answer the pending request with the DeviceResponse `responder` makes; returns
    /// the SessionData to send.
    pub fn respond(&mut self, responder: &dyn Responder) -> Result<Vec<u8>> {
        if self.state != State::RequestPending {
            return Err(Error::SessionState("there is no request to answer".into()));
        }
        let request = self
            .pending
            .take()
            .ok_or_else(|| Error::SessionState("no request".into()))?;
        let transcript = self
            .transcript
            .as_ref()
            .ok_or_else(|| Error::SessionState("no transcript".into()))?
            .as_cbor()
            .to_vec();
        let response = responder.respond(&request, &transcript)?;
        let data = self.cipher_mut()?.encrypt(&response)?;
        self.state = State::Responded;
        Ok(SessionData {
            data: Some(data),
            status: None,
        }
        .to_bytes())
    }

    /// End the session: returns `{"status": 20}` to send.
    pub fn terminate(&mut self) -> Vec<u8> {
        self.end();
        SessionData::termination().to_bytes()
    }

    fn end(&mut self) {
        self.state = State::Terminated;
        self.cipher = None;
        self.pending = None;
    }
}
