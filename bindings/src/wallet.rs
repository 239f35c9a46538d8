//! The `Wallet` object: the encrypted store, receiving over OpenID4VCI, presenting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use govcred::format::sd_jwt::{KeyBinding, SdJwt};
use govcred::oid4vci::client::WalletClient;
use govcred::oid4vci::credential::NotificationEvent;
use govcred::platform::{HttpClient, KeySettings, KeyStore, KeyStoreSigner};
use govcred::store::{ListFilter, Store};
use govcred::Clock;

use crate::error::{ErrorCode, FfiResult, GovcredError};
use crate::platform::{
    HttpAdapter, KeyProtectorAdapter, KeyStoreAdapter, PlatformHttp, PlatformKeyProtector,
    PlatformKeyStore,
};
use crate::proximity::ProximityPresentation;
use crate::verifier::VerificationReport;

/// Where a stored credential stands, as the card list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CredentialState {
    /// Usable.
    Valid,
    /// Usable, but the issuer expects an update: offer a refresh.
    UpdateExpected,
    /// Before its validity window.
    NotYetValid,
    /// Past its validity window.
    Expired,
    /// The issuer suspended it.
    Suspended,
    /// The status list gives a non-valid application-specific value.
    StatusNotValid,
    /// The issuer revoked it.
    Revoked,
}

impl From<govcred::store::State> for CredentialState {
    fn from(s: govcred::store::State) -> Self {
        use govcred::store::State as S;
        match s {
            S::Valid => CredentialState::Valid,
            S::UpdateExpected => CredentialState::UpdateExpected,
            S::NotYetValid => CredentialState::NotYetValid,
            S::Expired => CredentialState::Expired,
            S::Suspended => CredentialState::Suspended,
            S::StatusNotValid => CredentialState::StatusNotValid,
            S::Revoked => CredentialState::Revoked,
        }
    }
}

/// A stored credential as the card list shows it (no claims: see [`Wallet::get`]).
#[derive(Debug, Clone, uniffi::Record)]
pub struct CredentialSummary {
    /// The store's id for it.
    pub id: String,
    /// `jwt-vc`, `sd-jwt-vc`, `mdoc`, `di-vc`.
    pub format: String,
    /// Issuer identifier.
    pub issuer: String,
    /// Credential types (VC types, SD-JWT `vct`, mdoc docType).
    pub types: Vec<String>,
    /// Start of validity (RFC 3339).
    pub valid_from: Option<String>,
    /// End of validity (RFC 3339).
    pub valid_until: Option<String>,
    /// Lifecycle state now.
    pub state: CredentialState,
    /// Show the card as invalid (expired, revoked, suspended…).
    pub show_as_invalid: bool,
    /// Offer the holder a refresh.
    pub offer_refresh: bool,
    /// A newer version is waiting for acceptance.
    pub update_pending: bool,
    /// The card's title.
    pub title: String,
    /// The holder's name, when the credential carries one.
    pub holder_name: Option<String>,
    /// When it was received (RFC 3339).
    pub received_at: String,
}

fn rfc3339(t: i64) -> String {
    govcred::datetime::format(t)
}

impl From<govcred::store::CredentialSummary> for CredentialSummary {
    fn from(s: govcred::store::CredentialSummary) -> Self {
        CredentialSummary {
            id: s.id,
            format: s.format.as_str().to_string(),
            issuer: s.issuer,
            types: s.types,
            valid_from: s.valid_from.map(rfc3339),
            valid_until: s.valid_until.map(rfc3339),
            state: s.state.into(),
            show_as_invalid: s.show_as_invalid,
            offer_refresh: s.offer_refresh,
            update_pending: s.update_pending,
            title: s.display.title,
            holder_name: s.display.holder_name,
            received_at: rfc3339(s.received_at),
        }
    }
}

/// A stored credential with its claims.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StoredCredential {
    /// What the card list shows.
    pub summary: CredentialSummary,
    /// Every claim, as JSON text (mdoc: `{namespace: {element: value}}`).
    pub claims_json: String,
    /// The credential as received.
    pub credential: Vec<u8>,
}

/// The outcome of [`Wallet::receive_offer`].
#[derive(Debug, Clone, uniffi::Record)]
pub struct ReceivedCredential {
    /// The store's id, when it was stored (only a valid credential is stored).
    pub id: Option<String>,
    /// The OpenID4VCI format (`dc+sd-jwt`, `mso_mdoc`, `jwt_vc_json`).
    pub format: String,
    /// The credential issuer's URL.
    pub issuer: String,
    /// The credential configuration received.
    pub configuration_id: String,
    /// Verification against the issuer's published keys and status list.
    pub report: VerificationReport,
    /// Whether the issuer acknowledged the notification (accepted / failure).
    pub notified: bool,
}

/// Prefix of the aliases of device-binding keys the wallet creates.
const HOLDER_ALIAS_PREFIX: &str = "govcred-holder-";

/// The store plus the table of holder-key aliases (credential id → alias), kept in a
/// small file next to the database (`<db>.holder-keys.json`). Aliases are not secret:
/// the keys never leave the platform key store.
pub(crate) struct State {
    pub(crate) store: Option<Store>,
    pub(crate) aliases: BTreeMap<String, String>,
    aliases_path: PathBuf,
}

impl State {
    pub(crate) fn store(&self) -> FfiResult<&Store> {
        self.store.as_ref().ok_or_else(|| {
            GovcredError::new(
                ErrorCode::Storage,
                "the wallet was wiped: open a new one with Wallet.open",
            )
        })
    }

    fn save_aliases(&self) -> govcred::Result<()> {
        let text = serde_json::to_vec(&self.aliases)
            .map_err(|e| govcred::Error::Storage(format!("holder key table: {e}")))?;
        let tmp = self.aliases_path.with_extension("json.tmp");
        let io = |e: std::io::Error| {
            govcred::Error::Storage(format!("{}: {e}", self.aliases_path.display()))
        };
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &self.aliases_path).map_err(io)
    }
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) keys: Arc<dyn KeyStore>,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
}

impl Inner {
    pub(crate) fn lock(&self) -> FfiResult<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| GovcredError::new(ErrorCode::Storage, "wallet lock poisoned by a panic"))
    }

    /// The signer of the holder key bound to stored credential `id`.
    pub(crate) fn holder_signer(&self, state: &State, id: &str) -> FfiResult<KeyStoreSigner> {
        let alias = state.aliases.get(id).ok_or_else(|| {
            GovcredError::new(
                ErrorCode::KeyNotFound,
                format!(
                    "credential {id:?} has no holder key in this wallet (it was added without one)"
                ),
            )
        })?;
        Ok(KeyStoreSigner::new(self.keys.clone(), alias)?)
    }

    /// The whole receive, on a worker thread: key, OpenID4VCI, store, notification.
    fn receive(&self, link: &str) -> FfiResult<ReceivedCredential> {
        // Refuse before creating a key when the wallet is wiped.
        self.lock()?.store()?;
        let alias = format!(
            "{HOLDER_ALIAS_PREFIX}{}",
            govcred::b64::encode(rand::random::<[u8; 12]>())
        );
        self.keys.create_key(&alias, &KeySettings::default())?;
        let client = WalletClient::new(self.http.clone()).with_clock(self.clock.clone());
        let got = KeyStoreSigner::new(self.keys.clone(), &alias)
            .and_then(|signer| client.receive(link, &signer));
        let got = match got {
            Ok(g) => g,
            Err(e) => {
                let _ = self.keys.delete_key(&alias);
                return Err(e.into());
            }
        };
        let mut id = None;
        if got.report.valid {
            let mut state = self.lock()?;
            let stored = state.store()?.add(got.credential.as_bytes());
            match stored {
                Ok(new_id) => {
                    state.aliases.insert(new_id.clone(), alias.clone());
                    state.save_aliases()?;
                    id = Some(new_id);
                }
                Err(e) => {
                    drop(state);
                    let _ = self.keys.delete_key(&alias);
                    let _ = client.notify(&got, NotificationEvent::CredentialFailure, None);
                    return Err(e.into());
                }
            }
        } else {
            let _ = self.keys.delete_key(&alias);
        }
        let event = if id.is_some() {
            NotificationEvent::CredentialAccepted
        } else {
            NotificationEvent::CredentialFailure
        };
        let notified = client.notify(&got, event, None).is_ok();
        Ok(ReceivedCredential {
            id,
            format: got.format,
            issuer: got.issuer,
            configuration_id: got.configuration_id,
            report: got.report.into(),
            notified,
        })
    }
}

/// The holder's wallet: the encrypted credential store on the phone, with the
/// platform's key store, key protector and HTTP stack plugged in.
///
/// ```kotlin
/// val wallet = Wallet.open(dbPath, AndroidKeyProtector(), AndroidKeyStore(), OkHttpBridge())
/// val received = wallet.receiveOffer(offerLink)          // suspend
/// wallet.list().forEach { println("${it.title}: ${it.state}") }
/// val vp = wallet.presentSdJwt(received.id!!, listOf("given_name"), verifierId, nonce)
/// ```
#[derive(uniffi::Object)]
pub struct Wallet {
    pub(crate) inner: Arc<Inner>,
}

#[uniffi::export]
impl Wallet {
    /// Open (or create) the encrypted store at `db_path`. Its data key is wrapped by
    /// `key_protector`; device-binding keys are made in `key_store`; `http` reaches
    /// issuers. A protector that does not open an existing store gives `wrong_key`
    /// and leaves it untouched.
    #[uniffi::constructor]
    pub fn open(
        db_path: String,
        key_protector: Arc<dyn PlatformKeyProtector>,
        key_store: Arc<dyn PlatformKeyStore>,
        http: Arc<dyn PlatformHttp>,
    ) -> FfiResult<Arc<Self>> {
        let clock: Arc<dyn Clock> = Arc::new(govcred::SystemClock);
        let store = Store::open(
            Path::new(&db_path),
            Arc::new(KeyProtectorAdapter(key_protector)),
            clock.clone(),
        )?;
        let aliases_path = PathBuf::from(format!("{db_path}.holder-keys.json"));
        let aliases = match std::fs::read(&aliases_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                GovcredError::new(
                    ErrorCode::Corrupt,
                    format!("{}: {e}", aliases_path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => {
                return Err(GovcredError::new(
                    ErrorCode::Storage,
                    format!("{}: {e}", aliases_path.display()),
                ))
            }
        };
        Ok(Arc::new(Wallet {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    store: Some(store),
                    aliases,
                    aliases_path,
                }),
                keys: Arc::new(KeyStoreAdapter(key_store)),
                http: Arc::new(HttpAdapter(http)),
                clock,
            }),
        }))
    }

    /// Receive the credential an OpenID4VCI offer link names (pre-authorised code
    /// flow): a new device-binding key is made in the key store, the credential is
    /// fetched, verified against the issuer's published keys and status list, stored
    /// when valid, and the issuer notified. The work runs on its own thread: cancelling
    /// the call does not cancel it, so the store and key store stay consistent (the
    /// credential is then stored, or not, as if the call had been awaited).
    pub async fn receive_offer(&self, offer_link: String) -> FfiResult<ReceivedCredential> {
        let inner = self.inner.clone();
        let (tx, rx) = futures_channel::oneshot::channel();
        std::thread::Builder::new()
            .name("govcred-receive".into())
            .spawn(move || {
                let _ = tx.send(inner.receive(&offer_link));
            })
            .map_err(|e| GovcredError::new(ErrorCode::Storage, format!("no thread: {e}")))?;
        rx.await
            .map_err(|_| GovcredError::new(ErrorCode::Storage, "the receiving thread stopped"))?
    }

    /// Store a credential received by other means (any format, issued form); returns
    /// its id. It is not verified here: verify it first. Presenting it with key binding
    /// needs a holder key, which such credentials do not have in this wallet.
    pub fn add(&self, credential: Vec<u8>) -> FfiResult<String> {
        Ok(self.inner.lock()?.store()?.add(&credential)?)
    }

    /// Every stored credential, as the card list shows it (empty after `wipe`).
    pub fn list(&self) -> FfiResult<Vec<CredentialSummary>> {
        let state = self.inner.lock()?;
        let Some(store) = state.store.as_ref() else {
            return Ok(vec![]);
        };
        Ok(store
            .list(&ListFilter::default())?
            .credentials
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Re-check every stored credential with `verifier` — typically built from trust
    /// material and status lists synced just now (`Verifier.fromTrust`,
    /// `Verifier.fromTrustBundle`) — and record the status each check finds: a revoked
    /// or suspended credential is then listed as such. A credential whose status could
    /// not be checked keeps its last known state. Returns the updated list.
    pub fn refresh_status(
        &self,
        verifier: Arc<crate::verifier::Verifier>,
    ) -> FfiResult<Vec<CredentialSummary>> {
        {
            let state = self.inner.lock()?;
            let store = state.store()?;
            for summary in store.list(&ListFilter::default())?.credentials {
                let stored = store.get(&summary.id)?;
                let report = verifier.inner.verify(&stored.raw);
                store.record_status(&summary.id, &report)?;
            }
        }
        self.list()
    }

    /// One stored credential with its claims.
    pub fn get(&self, id: String) -> FfiResult<StoredCredential> {
        let c = self.inner.lock()?.store()?.get(&id)?;
        Ok(StoredCredential {
            claims_json: c.claims.to_string(),
            credential: c.raw,
            summary: c.summary.into(),
        })
    }

    /// Delete a credential and its device-binding key.
    pub fn delete(&self, id: String) -> FfiResult<()> {
        let mut state = self.inner.lock()?;
        state.store()?.delete(&id)?;
        if let Some(alias) = state.aliases.remove(&id) {
            state.save_aliases()?;
            self.inner.keys.delete_key(&alias)?;
        }
        Ok(())
    }

    /// Sign-out: delete every credential, the store's data key (the key protector's
    /// `destroyKey` is called), the database files and every device-binding key the wallet
    /// made. Afterwards `list` is empty and other operations fail with `storage`.
    pub fn wipe(&self) -> FfiResult<()> {
        let mut state = self.inner.lock()?;
        let store = state.store.take();
        if let Some(store) = store {
            store.wipe()?;
        }
        let aliases = std::mem::take(&mut state.aliases);
        let mut first_error = None;
        for alias in aliases.values() {
            if let Err(e) = self.inner.keys.delete_key(alias) {
                first_error.get_or_insert(e);
            }
        }
        match std::fs::remove_file(&state.aliases_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                first_error.get_or_insert(govcred::Error::Storage(format!(
                    "{}: {e}",
                    state.aliases_path.display()
                )));
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Present a stored SD-JWT VC to a verifier: disclose the claims at `disclose`
    /// (paths such as `given_name`, `address.locality`; selectively-disclosable
    /// parents are disclosed with them) and add a Key Binding JWT for `audience` and
    /// `nonce`, signed by the credential's device-binding key in the key store.
    pub fn present_sd_jwt(
        &self,
        id: String,
        disclose: Vec<String>,
        audience: String,
        nonce: String,
    ) -> FfiResult<String> {
        let state = self.inner.lock()?;
        let stored = state.store()?.get(&id)?;
        let text = stored.raw_text().ok_or_else(|| {
            GovcredError::new(
                ErrorCode::MalformedInput,
                "the stored credential is not text",
            )
        })?;
        if stored.summary.format != govcred::Format::SdJwtVc {
            return Err(GovcredError::new(
                ErrorCode::UnsupportedFormat,
                format!(
                    "credential {id:?} is a {} credential, not an SD-JWT VC",
                    stored.summary.format.as_str()
                ),
            ));
        }
        let sd_jwt = SdJwt::parse(text)?;
        let signer = self.inner.holder_signer(&state, &id)?;
        drop(state);
        let kb = KeyBinding {
            audience,
            nonce,
            issued_at: self.inner.clock.now(),
        };
        let paths: Vec<&str> = disclose.iter().map(String::as_str).collect();
        Ok(sd_jwt.present(&paths, Some((&kb, &signer)))?)
    }

    /// Start an ISO 18013-5 proximity presentation (QR engagement) of the stored mdocs.
    pub fn start_proximity(&self) -> FfiResult<Arc<ProximityPresentation>> {
        ProximityPresentation::start(self.inner.clone())
    }
}
