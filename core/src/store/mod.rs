//! The encrypted wallet store: a person's credentials on the phone, safe at rest,
//! surviving a crash at any instant, fast with thousands of records.
//!
//! # Storage
//! One SQLite database (bundled SQLite, WAL journal) with a schema version and forward
//! migrations ([`schema`]). One row per credential. Every write is one transaction.
//!
//! **Durability.** `synchronous=FULL`: a transaction is on stable storage when
//! [`Store::add`] returns. In WAL mode `NORMAL` already survives a crash of the app
//! (SIGKILL, OOM kill), but may roll back the last commits on power loss or an OS
//! crash; a credential whose issuer was told "accepted" cannot be fetched again, so
//! the extra fsync per commit is worth it (see `govcred bench` for its cost; use
//! [`Store::add_all`] to store many in one transaction). `secure_delete=ON`
//! overwrites deleted rows, so deleted records do not linger in free pages.
//!
//! # Encryption
//! A random data key (AES-256-GCM, plus an HMAC-SHA-256 key for the duplicate index)
//! is generated when the store is created and kept only in wrapped form, wrapped by
//! the app's [`KeyProtector`] (Keychain / Secure Enclave, Android Keystore). A
//! protector that does not open it gives [`Error::WrongKey`] and nothing is written.
//!
//! Columns of `credentials`:
//!
//! | column | stored | why |
//! |---|---|---|
//! | `raw` (the credential) | **AES-256-GCM** | holds every claim |
//! | `private` (display data: title, holder's name; status index) | **AES-256-GCM** | names the person; the status index is a per-credential correlation handle |
//! | `id` | clear | random 128-bit identifier, chosen by the store |
//! | `format`, `issuer`, `types` (VC types / `vct` / mdoc `docType`) | clear | list filters in SQL; they say which kinds of credential the holder has (as the app's card list does) but not who the holder is |
//! | `valid_from`, `valid_until`, `expected_update` | clear | lifecycle state and validity filters without decrypting |
//! | `status_uri` | clear | which status lists to sync; the list is shared by many credentials |
//! | `status_state`, `status_checked_at`, `update_flagged` | clear | lifecycle state |
//! | `received_at`, `updated_at`, `version` | clear | ordering, history |
//! | `digest` | clear, **keyed** (HMAC) | makes `add` idempotent without revealing the credential |
//!
//! Each sealed value's associated data binds the column, the row id and the record
//! version: ciphertext altered or moved to another row is reported as
//! [`Error::Corrupt`] and skipped by [`Store::list`] (which lists the others and
//! names the corrupt ids). [`Store::wipe`] deletes every row, the wrapped key, the
//! protector's key and the database files.
//!
//! # Lifecycle
//! [`State`] is computed at listing time with the injected [`Clock`]: revoked,
//! suspended or not-valid status (recorded with [`Store::set_status`] after a status
//! check), expired, not yet valid, update expected (`expectedUpdate` reached, within
//! [`StoreOptions::refresh_window_secs`] of the end of validity, or flagged), valid.
//! Each summary says whether the app shows the card as invalid and whether it offers
//! a refresh.
//!
//! The store parses a credential to read its metadata but does not verify it: verify
//! with [`crate::Verifier`] before [`Store::add`].
//!
//! ```
//! use std::sync::Arc;
//! use govcred::{crypto::{Alg, SoftwareKey, SoftwareKeyProtector}, format::jwt_vc::{self, CredentialDraft},
//!               store::{ListFilter, State, Store}, FixedClock};
//!
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let mut draft = CredentialDraft::new("https://issuer.example.gov.uk", "DigitalVeteranCard");
//! draft.subject.insert("serviceNumber".into(), "25057386".into());
//! draft.valid_until = Some(1_800_000_000);
//! let token = jwt_vc::issue(&draft, "did:web:issuer.example.gov.uk#k1", &key, 1_700_000_000).unwrap();
//!
//! let dir = std::env::temp_dir().join(format!("govcred-doc-store-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let clock = Arc::new(FixedClock::new(1_700_000_100));
//! let store = Store::open(dir.join("wallet.db"), Arc::new(SoftwareKeyProtector::generate().unwrap()),
//!                         clock.clone()).unwrap();
//! let id = store.add(token.as_bytes()).unwrap();
//! assert_eq!(store.add(token.as_bytes()).unwrap(), id); // idempotent
//! assert_eq!(store.get(&id).unwrap().claims["serviceNumber"], "25057386");
//!
//! clock.set(1_800_000_001);
//! let listing = store.list(&ListFilter::default()).unwrap();
//! assert_eq!(listing.credentials[0].state, State::Expired);
//! assert!(listing.credentials[0].show_as_invalid && listing.credentials[0].offer_refresh);
//! store.wipe().unwrap();
//! assert!(!dir.join("wallet.db").exists());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod extract;
pub mod schema;
mod seal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::platform::{Clock, KeyProtector};
use crate::report::Format;
use crate::status::Status;
use extract::Extracted;
use seal::{aad, DataKeys};

fn storage(e: rusqlite::Error) -> Error {
    Error::Storage(e.to_string())
}

/// Display data shown on the card (kept encrypted).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// The card's title: the credential's `name`, else its most specific type.
    pub title: String,
    /// The holder's name, if the credential carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
}

/// The encrypted per-record metadata (`private` column).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Private {
    display: Display,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_index: Option<usize>,
}

/// Where a credential's status is, and what the last check said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// The status list's URI.
    pub list_uri: String,
    /// The credential's index in it (`None` if its record could not be decrypted).
    pub index: Option<usize>,
    /// The last recorded result (`valid`, `invalid`, `suspended`,
    /// `application_specific`), if a check was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// When it was recorded, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<i64>,
}

/// A credential's lifecycle state, computed with the store's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Usable.
    Valid,
    /// Usable, but the issuer expects an update (`expectedUpdate` reached, validity
    /// ending soon, or flagged): offer a refresh.
    UpdateExpected,
    /// Before its validity window.
    NotYetValid,
    /// Past its validity window.
    Expired,
    /// The issuer suspended it (status SUSPENDED).
    Suspended,
    /// The status list gives a non-VALID application-specific value.
    StatusNotValid,
    /// The issuer revoked it (status INVALID).
    Revoked,
}

impl State {
    /// The string form (`valid`, `update_expected`, `expired`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::UpdateExpected => "update_expected",
            State::NotYetValid => "not_yet_valid",
            State::Expired => "expired",
            State::Suspended => "suspended",
            State::StatusNotValid => "status_not_valid",
            State::Revoked => "revoked",
        }
    }

    /// The app shows the card as invalid (greyed out).
    pub fn show_as_invalid(self) -> bool {
        !matches!(self, State::Valid | State::UpdateExpected)
    }

    /// The app offers a refresh: expired, revoked, or an update expected (GOV.UK).
    pub fn offer_refresh(self) -> bool {
        matches!(
            self,
            State::Expired | State::Revoked | State::UpdateExpected
        )
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for State {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        serde_json::from_value(Value::String(s.to_string())).map_err(|_| {
            Error::malformed(
                "state",
                format!("{s:?}: use valid, update_expected, not_yet_valid, expired, suspended, status_not_valid or revoked"),
            )
        })
    }
}

/// What listing shows of a credential: clear metadata, decrypted display data and
/// the lifecycle state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialSummary {
    /// The store's id of the credential.
    pub id: String,
    /// Its format.
    pub format: Format,
    /// The issuer (VC `issuer`, SD-JWT `iss`, mdoc Document Signer subject).
    pub issuer: String,
    /// VC types, the SD-JWT `vct` or the mdoc `docType`.
    pub types: Vec<String>,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity, Unix seconds.
    pub valid_until: Option<i64>,
    /// When the issuer expects an update (`expectedUpdate`), Unix seconds.
    pub expected_update: Option<i64>,
    /// The status reference and the last recorded status.
    pub status: Option<StatusInfo>,
    /// When the credential was first stored, Unix seconds.
    pub received_at: i64,
    /// When this version was stored, Unix seconds.
    pub updated_at: i64,
    /// Record version: 1, then +1 for each [`Store::update`].
    pub version: i64,
    /// A previous version is kept until [`Store::accept_update`].
    pub update_pending: bool,
    /// Display data.
    pub display: Display,
    /// Lifecycle state now.
    pub state: State,
    /// Show the card as invalid.
    pub show_as_invalid: bool,
    /// Offer a refresh.
    pub offer_refresh: bool,
}

/// A credential read back in full.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredCredential {
    /// Its metadata and state.
    #[serde(flatten)]
    pub summary: CredentialSummary,
    /// The credential exactly as stored (compact JWT / SD-JWT text, mdoc bytes…).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// The claims about the subject, as JSON.
    pub claims: Value,
}

impl StoredCredential {
    /// The credential as text, if it is text (everything but CBOR mdocs).
    pub fn raw_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.raw).ok()
    }
}

/// A record that failed its integrity check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorruptRecord {
    /// Its id.
    pub id: String,
    /// What failed.
    pub error: String,
}

/// The result of [`Store::list`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Listing {
    /// The credentials that match, oldest first.
    pub credentials: Vec<CredentialSummary>,
    /// Records that could not be read (not returned above).
    pub corrupt: Vec<CorruptRecord>,
}

/// Which credentials to list. Empty fields match everything.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only this format.
    pub format: Option<Format>,
    /// Only this issuer.
    pub issuer: Option<String>,
    /// Only credentials with this type (VC type, `vct` or `docType`).
    pub credential_type: Option<String>,
    /// Only these lifecycle states.
    pub states: Vec<State>,
    /// Only credentials the app can use now (not shown as invalid).
    pub usable_only: bool,
}

/// Tuning of the store.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// A credential whose validity ends within this many seconds is "update expected".
    /// Default 7 days.
    pub refresh_window_secs: i64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            refresh_window_secs: 7 * 24 * 3600,
        }
    }
}

/// The encrypted wallet store. See the [module documentation](self).
pub struct Store {
    conn: Mutex<Connection>,
    keys: DataKeys,
    protector: Arc<dyn KeyProtector>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    options: StoreOptions,
    schema_version: u32,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("schema_version", &self.schema_version)
            .finish_non_exhaustive()
    }
}

const SUMMARY_COLUMNS: &str = "c.id, c.format, c.issuer, c.types, c.valid_from, c.valid_until, \
     c.expected_update, c.status_uri, c.status_state, c.status_checked_at, c.received_at, \
     c.updated_at, c.version, c.update_flagged, c.private, \
     EXISTS (SELECT 1 FROM credential_history h WHERE h.id = c.id)";

/// One row of `credentials` as read (before decryption).
struct RowData {
    id: String,
    format: String,
    issuer: String,
    types: String,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
    expected_update: Option<i64>,
    status_uri: Option<String>,
    status_state: Option<String>,
    status_checked_at: Option<i64>,
    received_at: i64,
    updated_at: i64,
    version: i64,
    update_flagged: bool,
    private: Vec<u8>,
    update_pending: bool,
}

impl RowData {
    fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RowData {
            id: r.get(0)?,
            format: r.get(1)?,
            issuer: r.get(2)?,
            types: r.get(3)?,
            valid_from: r.get(4)?,
            valid_until: r.get(5)?,
            expected_update: r.get(6)?,
            status_uri: r.get(7)?,
            status_state: r.get(8)?,
            status_checked_at: r.get(9)?,
            received_at: r.get(10)?,
            updated_at: r.get(11)?,
            version: r.get(12)?,
            update_flagged: r.get(13)?,
            private: r.get(14)?,
            update_pending: r.get(15)?,
        })
    }
}

fn format_from_str(s: &str) -> Option<Format> {
    serde_json::from_value::<Format>(Value::String(s.to_string())).ok()
}

fn corrupt(id: &str, what: &str) -> Error {
    Error::Corrupt {
        id: id.to_string(),
        what: what.to_string(),
    }
}

fn new_id() -> Result<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| Error::CryptoBackend("system random generator failed".into()))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

impl Store {
    /// Open the store at `path`, creating it (and its data key, wrapped by
    /// `protector`) if the file does not exist, and migrating an older schema.
    ///
    /// Errors: [`Error::WrongKey`] if `protector` does not open the data key (nothing
    /// is written), [`Error::Storage`] for I/O failures or a schema newer than this
    /// code.
    pub fn open(
        path: impl AsRef<Path>,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        Self::open_at(path.as_ref(), protector, clock, schema::CURRENT)
    }

    /// Like [`Store::open`], but creating a new database at schema `version` and
    /// migrating an existing one no further than `version`: for testing migrations
    /// from older schemas. A store below the current version supports `add`, `get`,
    /// `list` and `delete` only.
    #[doc(hidden)]
    pub fn open_at_schema_version(
        path: impl AsRef<Path>,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
        version: u32,
    ) -> Result<Self> {
        Self::open_at(
            path.as_ref(),
            protector,
            clock,
            version.clamp(1, schema::CURRENT),
        )
    }

    fn open_at(
        path: &Path,
        protector: Arc<dyn KeyProtector>,
        clock: Arc<dyn Clock>,
        target: u32,
    ) -> Result<Self> {
        let mut conn = Connection::open(path).map_err(storage)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(storage)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(storage)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "{}: the database could not be switched to WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;")
            .map_err(storage)?;

        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let found = schema::version(&tx)?;
        if found > schema::CURRENT {
            return Err(Error::Storage(format!(
                "{}: schema version {found} is newer than this release supports ({}); update the app",
                path.display(),
                schema::CURRENT
            )));
        }
        let keys = if found == 0 {
            let material = DataKeys::generate_material()?;
            let keys = DataKeys::from_material(&material)?;
            let wrapped = protector.wrap(&material)?;
            tx.execute_batch(schema::V1).map_err(storage)?;
            tx.execute(
                "INSERT INTO store_key (id, wrapped, created_at) VALUES (1, ?1, ?2)",
                params![wrapped, clock.now()],
            )
            .map_err(storage)?;
            schema::migrate(&tx, 1, target, &keys)?;
            keys
        } else {
            let wrapped: Option<Vec<u8>> = tx
                .query_row("SELECT wrapped FROM store_key WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(storage)?;
            let wrapped = wrapped.ok_or_else(|| {
                Error::Storage(format!(
                    "{}: the store has no data key (it was wiped): delete the file",
                    path.display()
                ))
            })?;
            let keys = DataKeys::from_material(&protector.unwrap(&wrapped)?)?;
            schema::migrate(&tx, found, target.max(found), &keys)?;
            keys
        };
        let schema_version = schema::version(&tx)?;
        tx.commit().map_err(storage)?;
        Ok(Store {
            conn: Mutex::new(conn),
            keys,
            protector,
            clock,
            path: path.to_path_buf(),
            options: StoreOptions::default(),
            schema_version,
        })
    }

    /// Use other options.
    pub fn with_options(mut self, options: StoreOptions) -> Self {
        self.options = options;
        self
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Storage("store lock poisoned by a panic".into()))
    }

    /// Store a credential (any supported format, issued form) and return its id.
    /// Adding the same bytes again returns the same id and writes nothing.
    pub fn add(&self, credential: &[u8]) -> Result<String> {
        Ok(self.add_all(&[credential])?.remove(0))
    }

    /// Store several credentials in one transaction (all or none); ids in order.
    pub fn add_all(&self, credentials: &[&[u8]]) -> Result<Vec<String>> {
        let extracted = credentials
            .iter()
            .map(|c| extract::extract(c))
            .collect::<Result<Vec<_>>>()?;
        let now = self.clock.now();
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let mut ids = Vec::with_capacity(credentials.len());
        for (bytes, x) in credentials.iter().zip(&extracted) {
            let digest = self.keys.digest(bytes);
            let existing: Option<String> = tx
                .query_row(
                    "SELECT id FROM credentials WHERE digest = ?1",
                    [&digest],
                    |r| r.get(0),
                )
                .optional()
                .map_err(storage)?;
            if let Some(id) = existing {
                ids.push(id);
                continue;
            }
            let id = new_id()?;
            let (private, raw) = self.seal_record(&id, 1, x, bytes)?;
            let types =
                serde_json::to_string(&x.types).map_err(|e| Error::Storage(e.to_string()))?;
            let status_uri = x.status.as_ref().map(|s| s.0.as_str());
            if self.schema_version == 1 {
                tx.execute(
                    "INSERT INTO credentials (id, format, issuer, types, valid_from, valid_until, \
                     status_uri, received_at, updated_at, digest, private, raw) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)",
                    params![
                        id,
                        x.format.as_str(),
                        x.issuer,
                        types,
                        x.valid_from,
                        x.valid_until,
                        status_uri,
                        now,
                        digest,
                        private,
                        raw
                    ],
                )
            } else {
                tx.execute(
                    "INSERT INTO credentials (id, format, issuer, types, valid_from, valid_until, \
                     expected_update, status_uri, received_at, updated_at, digest, private, raw, version) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, 1)",
                    params![
                        id,
                        x.format.as_str(),
                        x.issuer,
                        types,
                        x.valid_from,
                        x.valid_until,
                        x.expected_update,
                        status_uri,
                        now,
                        digest,
                        private,
                        raw
                    ],
                )
            }
            .map_err(storage)?;
            ids.push(id);
        }
        tx.commit().map_err(storage)?;
        Ok(ids)
    }

    fn seal_record(
        &self,
        id: &str,
        version: i64,
        x: &Extracted,
        bytes: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let private = Private {
            display: x.display.clone(),
            status_index: x.status.as_ref().map(|s| s.1),
        };
        let private = zeroize::Zeroizing::new(
            serde_json::to_vec(&private).map_err(|e| Error::Storage(e.to_string()))?,
        );
        Ok((
            self.keys.seal(&aad("private", id, version), &private)?,
            self.keys.seal(&aad("raw", id, version), bytes)?,
        ))
    }

    fn summarize(&self, row: RowData, now: i64) -> Result<CredentialSummary> {
        let private = self
            .keys
            .open(&aad("private", &row.id, row.version), &row.private)
            .ok_or_else(|| corrupt(&row.id, "private"))?;
        let private: Private =
            serde_json::from_slice(&private).map_err(|_| corrupt(&row.id, "private"))?;
        let format = format_from_str(&row.format).ok_or_else(|| corrupt(&row.id, "format"))?;
        let types: Vec<String> =
            serde_json::from_str(&row.types).map_err(|_| corrupt(&row.id, "types"))?;
        let state = self.state_of(&row, now);
        Ok(CredentialSummary {
            format,
            issuer: row.issuer,
            types,
            valid_from: row.valid_from,
            valid_until: row.valid_until,
            expected_update: row.expected_update,
            status: row.status_uri.map(|uri| StatusInfo {
                list_uri: uri,
                index: private.status_index,
                state: row.status_state,
                checked_at: row.status_checked_at,
            }),
            received_at: row.received_at,
            updated_at: row.updated_at,
            version: row.version,
            update_pending: row.update_pending,
            display: private.display,
            show_as_invalid: state.show_as_invalid(),
            offer_refresh: state.offer_refresh(),
            state,
            id: row.id,
        })
    }

    fn state_of(&self, row: &RowData, now: i64) -> State {
        match row.status_state.as_deref() {
            Some("invalid") => return State::Revoked,
            Some("application_specific") => return State::StatusNotValid,
            Some("suspended") => return State::Suspended,
            _ => {}
        }
        if row.valid_until.is_some_and(|u| now > u) {
            return State::Expired;
        }
        if row.valid_from.is_some_and(|f| now < f) {
            return State::NotYetValid;
        }
        let near_end = row
            .valid_until
            .is_some_and(|u| u - now <= self.options.refresh_window_secs);
        if row.update_flagged || near_end || row.expected_update.is_some_and(|e| now >= e) {
            return State::UpdateExpected;
        }
        State::Valid
    }

    /// Read one credential in full: decrypted bytes, claims, metadata and state.
    /// [`Error::NotFound`] for an unknown id, [`Error::Corrupt`] for a record that
    /// fails its integrity check.
    pub fn get(&self, id: &str) -> Result<StoredCredential> {
        let (row, raw) = {
            let conn = self.conn()?;
            conn.query_row(
                &format!("SELECT {SUMMARY_COLUMNS}, c.raw FROM credentials c WHERE c.id = ?1"),
                [id],
                |r| Ok((RowData::read(r)?, r.get::<_, Vec<u8>>(16)?)),
            )
            .optional()
            .map_err(storage)?
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?
        };
        self.full_record(row, &raw, self.clock.now())
    }

    /// List credentials matching `filter`, oldest first. Records that fail their
    /// integrity check are left out and named in [`Listing::corrupt`].
    pub fn list(&self, filter: &ListFilter) -> Result<Listing> {
        let now = self.clock.now();
        let rows = {
            let conn = self.conn()?;
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {SUMMARY_COLUMNS} FROM credentials c \
                     WHERE (?1 IS NULL OR c.format = ?1) AND (?2 IS NULL OR c.issuer = ?2) \
                     AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(c.types) WHERE value = ?3)) \
                     ORDER BY c.received_at, c.rowid"
                ))
                .map_err(storage)?;
            let rows = stmt
                .query_map(
                    params![
                        filter.format.map(Format::as_str),
                        filter.issuer,
                        filter.credential_type
                    ],
                    RowData::read,
                )
                .map_err(storage)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(storage)?;
            rows
        };
        let mut listing = Listing::default();
        for row in rows {
            let id = row.id.clone();
            match self.summarize(row, now) {
                Ok(s) => {
                    if (filter.states.is_empty() || filter.states.contains(&s.state))
                        && (!filter.usable_only || !s.show_as_invalid)
                    {
                        listing.credentials.push(s);
                    }
                }
                Err(e) => listing.corrupt.push(CorruptRecord {
                    id,
                    error: e.to_string(),
                }),
            }
        }
        Ok(listing)
    }

    /// The same rows and columns as an unfiltered [`Store::list`], read without
    /// decryption: the baseline of `govcred bench`. Returns the row count.
    #[doc(hidden)]
    pub fn read_rows_without_decryption(&self) -> Result<usize> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {SUMMARY_COLUMNS} FROM credentials c ORDER BY c.received_at, c.rowid"
            ))
            .map_err(storage)?;
        let rows = stmt
            .query_map([], RowData::read)
            .map_err(storage)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(storage)?;
        Ok(std::hint::black_box(rows).len())
    }

    /// Number of stored credentials.
    pub fn len(&self) -> Result<usize> {
        let conn = self.conn()?;
        conn.query_row("SELECT COUNT(*) FROM credentials", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n.max(0) as usize)
        .map_err(storage)
    }

    /// True if nothing is stored.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    fn require_v2(&self) -> Result<()> {
        if self.schema_version < 2 {
            return Err(Error::Storage(
                "this operation needs schema version 2: reopen the store with Store::open to migrate".into(),
            ));
        }
        Ok(())
    }

    /// Replace credential `id` with a refreshed version from the same issuer. The
    /// previous version is kept (see [`Store::previous_versions`]) until
    /// [`Store::accept_update`]; the recorded status and update flag are cleared.
    /// Updating with the bytes already stored changes nothing.
    pub fn update(&self, id: &str, credential: &[u8]) -> Result<()> {
        self.require_v2()?;
        let x = extract::extract(credential)?;
        let now = self.clock.now();
        let digest = self.keys.digest(credential);
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        let current: Option<(i64, String, Vec<u8>)> = tx
            .query_row(
                "SELECT version, issuer, digest FROM credentials WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(storage)?;
        let (version, issuer, old_digest) =
            current.ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        if old_digest == digest {
            return Ok(());
        }
        if issuer != x.issuer {
            return Err(Error::claim(
                "issuer",
                format!("the update is from {:?}, the stored credential from {issuer:?}: add it as a new credential instead", x.issuer),
            ));
        }
        let other: Option<String> = tx
            .query_row(
                "SELECT id FROM credentials WHERE digest = ?1",
                [&digest],
                |r| r.get(0),
            )
            .optional()
            .map_err(storage)?;
        if let Some(other) = other {
            return Err(Error::Storage(format!(
                "this credential is already stored as {other}"
            )));
        }
        tx.execute(
            "INSERT OR REPLACE INTO credential_history (id, version, format, issuer, types, valid_from, \
             valid_until, expected_update, status_uri, received_at, replaced_at, private, raw) \
             SELECT id, version, format, issuer, types, valid_from, valid_until, expected_update, \
             status_uri, updated_at, ?2, private, raw FROM credentials WHERE id = ?1",
            params![id, now],
        )
        .map_err(storage)?;
        let next = version + 1;
        let (private, raw) = self.seal_record(id, next, &x, credential)?;
        let types = serde_json::to_string(&x.types).map_err(|e| Error::Storage(e.to_string()))?;
        tx.execute(
            "UPDATE credentials SET version = ?2, format = ?3, types = ?4, valid_from = ?5, \
             valid_until = ?6, expected_update = ?7, status_uri = ?8, updated_at = ?9, digest = ?10, \
             private = ?11, raw = ?12, status_state = NULL, status_checked_at = NULL, \
             update_flagged = 0 WHERE id = ?1",
            params![
                id,
                next,
                x.format.as_str(),
                types,
                x.valid_from,
                x.valid_until,
                x.expected_update,
                x.status.as_ref().map(|s| s.0.as_str()),
                now,
                digest,
                private,
                raw
            ],
        )
        .map_err(storage)?;
        tx.commit().map_err(storage)
    }

    /// The versions an update replaced and that are still kept, oldest first.
    pub fn previous_versions(&self, id: &str) -> Result<Vec<StoredCredential>> {
        self.require_v2()?;
        let rows = {
            let conn = self.conn()?;
            // The same columns as SUMMARY_COLUMNS (no status or flag: they belonged to
            // the version that replaced it), then the credential.
            let mut stmt = conn
                .prepare(
                    "SELECT id, format, issuer, types, valid_from, valid_until, expected_update, \
                     status_uri, NULL, NULL, received_at, received_at, version, 0, private, 0, raw \
                     FROM credential_history WHERE id = ?1 ORDER BY version",
                )
                .map_err(storage)?;
            let rows = stmt
                .query_map([id], |r| Ok((RowData::read(r)?, r.get::<_, Vec<u8>>(16)?)))
                .map_err(storage)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(storage)?;
            rows
        };
        let now = self.clock.now();
        rows.into_iter()
            .map(|(row, raw)| self.full_record(row, &raw, now))
            .collect()
    }

    /// Decrypt a row's display data and credential.
    fn full_record(&self, row: RowData, raw: &[u8], now: i64) -> Result<StoredCredential> {
        let (id, version) = (row.id.clone(), row.version);
        let summary = self.summarize(row, now)?;
        let raw = self
            .keys
            .open(&aad("raw", &id, version), raw)
            .ok_or_else(|| corrupt(&id, "raw"))?;
        let claims = extract::extract(&raw)
            .map(|x| x.claims)
            .map_err(|_| corrupt(&id, "raw"))?;
        Ok(StoredCredential {
            summary,
            raw: raw.to_vec(),
            claims,
        })
    }

    /// Accept the current version of `id`: the previous versions are deleted.
    pub fn accept_update(&self, id: &str) -> Result<()> {
        self.require_v2()?;
        self.exists_or_not_found(id)?;
        let conn = self.conn()?;
        conn.execute("DELETE FROM credential_history WHERE id = ?1", [id])
            .map_err(storage)?;
        Ok(())
    }

    fn exists_or_not_found(&self, id: &str) -> Result<()> {
        let conn = self.conn()?;
        let found: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM credentials WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )
            .map_err(storage)?;
        if found {
            Ok(())
        } else {
            Err(Error::NotFound { id: id.to_string() })
        }
    }

    fn update_one(&self, id: &str, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        let conn = self.conn()?;
        let n = conn.execute(sql, params).map_err(storage)?;
        if n == 0 {
            return Err(Error::NotFound { id: id.to_string() });
        }
        Ok(())
    }

    /// Record the result of a status check of `id` (from [`crate::status`] or a
    /// verification report): INVALID makes it revoked, SUSPENDED suspended, another
    /// non-VALID value "status not valid", VALID clears those.
    pub fn set_status(&self, id: &str, status: Status) -> Result<()> {
        self.require_v2()?;
        self.update_one(
            id,
            "UPDATE credentials SET status_state = ?2, status_checked_at = ?3 WHERE id = ?1",
            params![id, status.as_str(), self.clock.now()],
        )
    }

    /// Record what a verification of `id` found about its status (valid, revoked,
    /// suspended, application-specific). A report whose status could not be
    /// determined (no list synced, or a stale one) records nothing: "unknown" never
    /// overwrites a known state. Returns whether a status was recorded.
    pub fn record_status(
        &self,
        id: &str,
        report: &crate::report::VerificationReport,
    ) -> Result<bool> {
        let recorded = match report.status.as_ref().map(|s| s.state.as_str()) {
            Some("valid") => Status::Valid,
            Some("invalid") => Status::Invalid,
            Some("suspended") => Status::Suspended,
            Some("application_specific") => Status::Other(3),
            _ => return Ok(false),
        };
        self.set_status(id, recorded)?;
        Ok(true)
    }

    /// Mark (or unmark) `id` as expecting an update, e.g. after the issuer's
    /// notification: it is then listed as [`State::UpdateExpected`].
    pub fn flag_update(&self, id: &str, flagged: bool) -> Result<()> {
        self.require_v2()?;
        self.update_one(
            id,
            "UPDATE credentials SET update_flagged = ?2 WHERE id = ?1",
            params![id, flagged],
        )
    }

    /// Delete credential `id` and its kept versions.
    pub fn delete(&self, id: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(storage)?;
        if self.schema_version >= 2 {
            tx.execute("DELETE FROM credential_history WHERE id = ?1", [id])
                .map_err(storage)?;
        }
        let n = tx
            .execute("DELETE FROM credentials WHERE id = ?1", [id])
            .map_err(storage)?;
        if n == 0 {
            return Err(Error::NotFound { id: id.to_string() });
        }
        tx.commit().map_err(storage)
    }

    /// Sign-out: delete every record and the wrapped data key (overwritten in place),
    /// destroy the protector's key, close the database and remove its files (the
    /// database, `-wal`, `-shm`, `-journal`).
    pub fn wipe(self) -> Result<()> {
        let conn = self
            .conn
            .into_inner()
            .map_err(|_| Error::Storage("store lock poisoned by a panic".into()))?;
        let tables = if self.schema_version >= 2 {
            "DELETE FROM credential_history; DELETE FROM credentials; DELETE FROM store_key;"
        } else {
            "DELETE FROM credentials; DELETE FROM store_key;"
        };
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {tables} COMMIT; PRAGMA wal_checkpoint(TRUNCATE); VACUUM;"
        ))
        .map_err(storage)?;
        conn.close().map_err(|(_, e)| storage(e))?;
        self.protector.destroy()?;
        remove_database_files(&self.path)
    }
}

/// Remove a database file and its companions; missing files are fine.
pub fn remove_database_files(path: &Path) -> Result<()> {
    let name = path.as_os_str().to_os_string();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = name.clone();
        p.push(suffix);
        let p = PathBuf::from(p);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Storage(format!("{}: {e}", p.display()))),
        }
    }
    Ok(())
}
