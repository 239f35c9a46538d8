//! The mdoc reader side of a proximity session.

use super::engagement::DeviceEngagement;
use super::request::{DeviceRequest, DocRequest, ItemsRequest};
use super::session::{
    EphemeralKey, Handover, Role, SessionCipher, SessionData, SessionEstablishment, SessionKeys,
    SessionTranscript, STATUS_SESSION_TERMINATION,
};
use crate::error::{Error, Result};
use crate::platform::Signer;
use crate::x509::Certificate;

/// What a message from the holder was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReaderEvent {
    /// The decrypted DeviceResponse; verify it with the session transcript
    /// ([`Reader::session_transcript`]).
    Response(Vec<u8>),
    /// The holder ended the session (possibly after a last response).
    Terminated(Option<Vec<u8>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Ready,
    Waiting,
    Received,
    Terminated,
}

/// The reader's session state machine.
pub struct Reader {
    engagement: DeviceEngagement,
    e_reader_key_bytes: Vec<u8>,
    transcript: SessionTranscript,
    cipher: Option<SessionCipher>,
    established: bool,
    state: State,
}

impl Reader {
    /// Start from a scanned `mdoc:` QR code, with a fresh ephemeral key.
    pub fn from_qr(uri: &str) -> Result<Self> {
        Self::new(
            DeviceEngagement::from_qr_uri(uri)?,
            EphemeralKey::generate()?,
            &Handover::Qr,
        )
    }

    /// Start from an engagement with a given key and handover (NFC, test vectors).
    pub fn new(
        engagement: DeviceEngagement,
        key: EphemeralKey,
        handover: &Handover,
    ) -> Result<Self> {
        let e_reader_key_bytes = key.public().to_cose_key();
        let transcript = SessionTranscript::new(engagement.bytes(), &e_reader_key_bytes, handover);
        let z = key.agree(&engagement.e_device_key)?;
        let keys = SessionKeys::derive(&z, &transcript)?;
        Ok(Reader {
            engagement,
            e_reader_key_bytes,
            transcript,
            cipher: Some(SessionCipher::new(Role::Reader, keys)),
            established: false,
            state: State::Ready,
        })
    }

    /// The holder's engagement.
    pub fn engagement(&self) -> &DeviceEngagement {
        &self.engagement
    }

    /// The session transcript (give [`SessionTranscript::encoded`] to the
    /// DeviceResponse verifier).
    pub fn session_transcript(&self) -> &SessionTranscript {
        &self.transcript
    }

    /// The session keys (`None` after termination).
    pub fn session_keys(&self) -> Option<&SessionKeys> {
        self.cipher.as_ref().map(SessionCipher::keys)
    }

    /// Build a DeviceRequest for `items`, signed by `reader_auth` (signer and its
    /// certificate chain, leaf first) when given. `_now` is reserved for future
    /// certificate checks of the reader's own chain.
    pub fn build_request(
        &self,
        items: Vec<ItemsRequest>,
        reader_auth: Option<(&dyn Signer, &[Certificate])>,
        _now: i64,
    ) -> Result<DeviceRequest> {
        let docs = items
            .into_iter()
            .map(|i| match reader_auth {
                Some((signer, chain)) => DocRequest::signed(i, &self.transcript, signer, chain),
                None => Ok(DocRequest::new(i)),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DeviceRequest::new(docs))
    }

    /// Encrypt and frame a request: SessionEstablishment the first time, SessionData
    /// after.
    pub fn send_request(&mut self, request: &DeviceRequest) -> Result<Vec<u8>> {
        match self.state {
            State::Ready | State::Received => {}
            State::Waiting => {
                return Err(Error::SessionState(
                    "waiting for the holder's response".into(),
                ))
            }
            State::Terminated => return Err(Error::SessionState("the session has ended".into())),
        }
        let plain = request.to_bytes()?;
        let data = self
            .cipher
            .as_mut()
            .ok_or_else(|| Error::SessionState("the session has ended".into()))?
            .encrypt(&plain)?;
        let msg = if self.established {
            SessionData {
                data: Some(data),
                status: None,
            }
            .to_bytes()
        } else {
            self.established = true;
            SessionEstablishment {
                e_reader_key_bytes: self.e_reader_key_bytes.clone(),
                data,
            }
            .to_bytes()
        };
        self.state = State::Waiting;
        Ok(msg)
    }

    /// Handle a SessionData from the holder.
    pub fn receive(&mut self, message: &[u8]) -> Result<ReaderEvent> {
        if self.state == State::Terminated {
            return Err(Error::SessionState("the session has ended".into()));
        }
        let sd = SessionData::parse(message)?;
        let plain = match &sd.data {
            Some(ct) => {
                if self.state != State::Waiting {
                    return Err(Error::SessionState("no request is outstanding".into()));
                }
                Some(
                    self.cipher
                        .as_mut()
                        .ok_or_else(|| Error::SessionState("the session has ended".into()))?
                        .decrypt(ct)?,
                )
            }
            None => None,
        };
        if sd.status == Some(STATUS_SESSION_TERMINATION) {
            self.end();
            return Ok(ReaderEvent::Terminated(plain));
        }
        match (plain, sd.status) {
            (Some(p), _) => {
                self.state = State::Received;
                Ok(ReaderEvent::Response(p))
            }
            (None, status) => {
                self.end();
                Err(Error::SessionState(format!(
                    "the holder reported session status {status:?} (10: encryption error, 11: decoding error)"
                )))
            }
        }
    }

    /// End the session: returns `{"status": 20}` to send.
    pub fn terminate(&mut self) -> Vec<u8> {
        self.end();
        SessionData::termination().to_bytes()
    }

    fn end(&mut self) {
        self.state = State::Terminated;
        self.cipher = None;
    }
}
