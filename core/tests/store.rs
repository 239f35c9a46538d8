//! The encrypted wallet store: round trips of every format, lifecycle, updates,
//! integrity (moved/altered ciphertext), wrong key, plaintext scan and wipe,
//! migration from schema v1, platform keys, and crash safety under SIGKILL.
#![cfg(feature = "store")]

mod common;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use govcred::crypto::{
    sha256, Alg, SoftwareKey, SoftwareKeyProtector, SoftwareKeyStore, VerifyingKey,
};
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::format::mdoc::{self, MdocDraft};
use govcred::format::sd_jwt::{self, SdJwtDraft};
use govcred::status::Status;
use govcred::store::{ListFilter, State, Store};
use govcred::{
    pki, ErrorCode, FixedClock, Format, KeyProtector, KeySettings, KeyStore, KeyStoreSigner, Signer,
};
use rand::Rng;
use serde_json::json;

const NOW: i64 = 1_772_323_200; // 2026-03-01
const DAY: i64 = 86_400;
const ISSUER: &str = "https://veterans.example.gov.uk";
/// Claim values that must never appear in the database files in clear.
const SECRET_NUMBER: &str = "SN-QX-99173524";
const SECRET_FAMILY: &str = "Quixotebridge";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn veteran_card(
    key: &SoftwareKey,
    serial: &str,
    valid_until: i64,
    expected_update: Option<i64>,
) -> String {
    let mut d = CredentialDraft::new(ISSUER, "DigitalVeteranCard");
    d.name = Some("HM Armed Forces Veteran Card".into());
    d.subject = json!({
        "name": [{"nameParts": [{"type": "GivenName", "value": "Sarah"},
                                 {"type": "FamilyName", "value": SECRET_FAMILY}]}],
        "serviceNumber": serial,
    })
    .as_object()
    .unwrap()
    .clone();
    d.valid_from = Some(NOW - DAY);
    d.valid_until = Some(valid_until);
    d.expected_update = expected_update;
    d.credential_status = None;
    jwt_vc::issue(&d, "did:web:veterans.example.gov.uk#k1", key, NOW - DAY).unwrap()
}

fn pid(key: &SoftwareKey) -> String {
    let mut d = SdJwtDraft::new("https://pid.example.gov.uk", "urn:eudi:pid:1");
    d.claims =
        json!({"given_name": "Ann", "family_name": SECRET_FAMILY, "birthdate": "1980-02-03"})
            .as_object()
            .unwrap()
            .clone();
    d.disclosable = vec![
        "given_name".into(),
        "family_name".into(),
        "birthdate".into(),
    ];
    d.expires_at = Some(NOW + 365 * DAY);
    d.status =
        Some(json!({"status_list": {"idx": 42, "uri": "https://pid.example.gov.uk/status/1"}}));
    sd_jwt::issue(&d, None, key, NOW - DAY).unwrap()
}

fn mdl(expected_update: Option<i64>) -> Vec<u8> {
    let (iaca, iaca_key) =
        pki::create_iaca("GB", "Test IACA", None, NOW - 10 * DAY, NOW + 3000 * DAY).unwrap();
    let (ds, ds_key) = pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Test DSC",
        NOW - 10 * DAY,
        NOW + 400 * DAY,
    )
    .unwrap();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let draft = MdocDraft {
        doctype: "org.iso.18013.5.1.mDL".into(),
        claims: json!({"org.iso.18013.5.1": {
            "family_name": SECRET_FAMILY, "given_name": "Sarah", "document_number": SECRET_NUMBER}})
        .as_object()
        .unwrap()
        .clone(),
        device_key: device.verifying_key().clone(),
        valid_from: NOW - DAY,
        valid_until: NOW + 90 * DAY,
        expected_update,
        status: Some((7, "https://dvla.example.gov.uk/t/1".into())),
        test_only_salt_seed: None,
    };
    mdoc::issue(&draft, &ds, &ds_key, NOW - DAY).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    protector: Arc<SoftwareKeyProtector>,
    clock: Arc<FixedClock>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.db");
        let protector =
            Arc::new(SoftwareKeyProtector::open_or_create(&dir.path().join("store.key")).unwrap());
        Fixture {
            _dir: dir,
            path,
            protector,
            clock: Arc::new(FixedClock::new(NOW)),
        }
    }
    fn open(&self) -> Store {
        Store::open(&self.path, self.protector.clone(), self.clock.clone()).unwrap()
    }
    fn dir(&self) -> &Path {
        self.path.parent().unwrap()
    }
}

#[test]
fn every_format_round_trips_and_add_is_idempotent() {
    let f = Fixture::new();
    let store = f.open();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let jwt = veteran_card(&key, SECRET_NUMBER, NOW + 365 * DAY, None);
    let sd = pid(&key);
    let md = mdl(None);

    let a = store.add(jwt.as_bytes()).unwrap();
    let b = store.add(sd.as_bytes()).unwrap();
    let c = store.add(&md).unwrap();
    assert_eq!(store.add(jwt.as_bytes()).unwrap(), a, "same bytes, same id");
    assert_eq!(store.add(&md).unwrap(), c);
    assert_eq!(store.len().unwrap(), 3);

    let got = store.get(&a).unwrap();
    assert_eq!(got.raw, jwt.as_bytes());
    assert_eq!(got.summary.format, Format::JwtVc);
    assert_eq!(got.summary.issuer, ISSUER);
    assert_eq!(
        got.summary.types,
        ["VerifiableCredential", "DigitalVeteranCard"]
    );
    assert_eq!(got.summary.display.title, "HM Armed Forces Veteran Card");
    assert_eq!(
        got.summary.display.holder_name.as_deref(),
        Some(&*format!("Sarah {SECRET_FAMILY}"))
    );
    assert_eq!(got.claims["serviceNumber"], SECRET_NUMBER);
    assert_eq!(got.summary.state, State::Valid);

    let got = store.get(&b).unwrap();
    assert_eq!(got.summary.format, Format::SdJwtVc);
    assert_eq!(got.summary.types, ["urn:eudi:pid:1"]);
    assert_eq!(got.claims["birthdate"], "1980-02-03");
    assert!(got.claims.get("iss").is_none());
    let status = got.summary.status.unwrap();
    assert_eq!(
        (status.list_uri.as_str(), status.index),
        ("https://pid.example.gov.uk/status/1", Some(42))
    );

    let got = store.get(&c).unwrap();
    assert_eq!(got.raw, md);
    assert_eq!(got.summary.format, Format::Mdoc);
    assert_eq!(got.summary.types, ["org.iso.18013.5.1.mDL"]);
    assert_eq!(got.summary.display.title, "mDL");
    assert_eq!(
        got.claims["org.iso.18013.5.1"]["document_number"],
        SECRET_NUMBER
    );
    assert_eq!(got.summary.valid_until, Some(NOW + 90 * DAY));

    // Reopening gives the same records.
    drop(store);
    let store = f.open();
    assert_eq!(store.get(&a).unwrap().raw, jwt.as_bytes());
    assert_eq!(
        store
            .list(&ListFilter::default())
            .unwrap()
            .credentials
            .len(),
        3
    );

    // Not a credential, or a presentation: refused with typed errors, nothing stored.
    assert_eq!(
        store.add(b"hello").unwrap_err().code(),
        ErrorCode::UnsupportedFormat
    );
    assert_eq!(store.get("nope").unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(store.len().unwrap(), 3);
}

#[test]
fn list_filters_by_type_issuer_format_and_state() {
    let f = Fixture::new();
    let store = f.open();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let ok = store
        .add(veteran_card(&key, "1", NOW + 365 * DAY, None).as_bytes())
        .unwrap();
    let expired = store
        .add(veteran_card(&key, "2", NOW - 60, None).as_bytes())
        .unwrap();
    let sd = store.add(pid(&key).as_bytes()).unwrap();
    let md = store.add(&mdl(None)).unwrap();

    let ids = |filter: ListFilter| -> Vec<String> {
        store
            .list(&filter)
            .unwrap()
            .credentials
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(
        ids(ListFilter::default()),
        [ok.clone(), expired.clone(), sd.clone(), md.clone()]
    );
    assert_eq!(
        ids(ListFilter {
            credential_type: Some("DigitalVeteranCard".into()),
            ..Default::default()
        }),
        [ok.clone(), expired.clone()]
    );
    assert_eq!(
        ids(ListFilter {
            credential_type: Some("org.iso.18013.5.1.mDL".into()),
            ..Default::default()
        }),
        [md.as_str()]
    );
    assert_eq!(
        ids(ListFilter {
            issuer: Some("https://pid.example.gov.uk".into()),
            ..Default::default()
        }),
        [sd.as_str()]
    );
    assert_eq!(
        ids(ListFilter {
            format: Some(Format::Mdoc),
            ..Default::default()
        }),
        [md.as_str()]
    );
    assert_eq!(
        ids(ListFilter {
            states: vec![State::Expired],
            ..Default::default()
        }),
        [expired.as_str()]
    );
    assert_eq!(
        ids(ListFilter {
            usable_only: true,
            ..Default::default()
        }),
        [ok, sd, md]
    );
    assert!(ids(ListFilter {
        credential_type: Some("Nothing".into()),
        ..Default::default()
    })
    .is_empty());
}

#[test]
fn lifecycle_states_follow_the_clock_and_recorded_status() {
    let f = Fixture::new();
    let store = f.open();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let until = NOW + 100 * DAY;
    let id = store
        .add(veteran_card(&key, "7", until, Some(NOW + 60 * DAY)).as_bytes())
        .unwrap();
    let md = store.add(&mdl(Some(NOW + 30 * DAY))).unwrap();
    let state = |id: &str| store.get(id).unwrap().summary;

    let s = state(&id);
    assert_eq!(
        (s.state, s.show_as_invalid, s.offer_refresh),
        (State::Valid, false, false)
    );
    assert_eq!(s.expected_update, Some(NOW + 60 * DAY));

    f.clock.set(NOW - 2 * DAY);
    assert_eq!(state(&id).state, State::NotYetValid);
    assert!(state(&id).show_as_invalid);

    f.clock.set(NOW + 30 * DAY);
    assert_eq!(
        state(&md).state,
        State::UpdateExpected,
        "mdoc expectedUpdate reached"
    );
    assert_eq!(state(&id).state, State::Valid);

    f.clock.set(NOW + 60 * DAY);
    let s = state(&id);
    assert_eq!(
        (s.state, s.show_as_invalid, s.offer_refresh),
        (State::UpdateExpected, false, true)
    );

    f.clock.set(NOW + 10 * DAY);
    store.flag_update(&id, true).unwrap();
    assert_eq!(state(&id).state, State::UpdateExpected, "flagged");
    store.flag_update(&id, false).unwrap();
    assert_eq!(state(&id).state, State::Valid);

    f.clock.set(until - DAY);
    assert_eq!(
        state(&id).state,
        State::UpdateExpected,
        "within the refresh window of the end"
    );

    f.clock.set(until + 1);
    let s = state(&id);
    assert_eq!(
        (s.state, s.show_as_invalid, s.offer_refresh),
        (State::Expired, true, true)
    );

    f.clock.set(NOW);
    store.set_status(&id, Status::Suspended).unwrap();
    let s = state(&id);
    assert_eq!(
        (s.state, s.show_as_invalid, s.offer_refresh),
        (State::Suspended, true, false)
    );
    assert_eq!(s.status, None, "a JWT without a status reference");
    store.set_status(&md, Status::Invalid).unwrap();
    let s = state(&md);
    assert_eq!(
        (s.state, s.show_as_invalid, s.offer_refresh),
        (State::Revoked, true, true)
    );
    assert_eq!(s.status.unwrap().state.as_deref(), Some("invalid"));
    store.set_status(&md, Status::Other(3)).unwrap();
    assert_eq!(state(&md).state, State::StatusNotValid);
    store.set_status(&md, Status::Valid).unwrap();
    assert_eq!(state(&md).state, State::Valid);
    assert_eq!(
        store
            .set_status("missing", Status::Valid)
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}

#[test]
fn update_keeps_the_previous_version_until_accepted() {
    let f = Fixture::new();
    let store = f.open();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let v1 = veteran_card(&key, "100", NOW + 10 * DAY, None);
    let v2 = veteran_card(&key, "100", NOW + 400 * DAY, None);
    let id = store.add(v1.as_bytes()).unwrap();
    store.set_status(&id, Status::Suspended).unwrap();

    f.clock.set(NOW + 5);
    store.update(&id, v2.as_bytes()).unwrap();
    let now = store.get(&id).unwrap();
    assert_eq!(now.raw, v2.as_bytes());
    assert_eq!(now.summary.version, 2);
    assert_eq!(now.summary.valid_until, Some(NOW + 400 * DAY));
    assert_eq!(
        now.summary.state,
        State::Valid,
        "the old status does not carry over"
    );
    assert!(now.summary.update_pending);
    let previous = store.previous_versions(&id).unwrap();
    assert_eq!(previous.len(), 1);
    assert_eq!(previous[0].raw, v1.as_bytes());
    assert_eq!(previous[0].summary.version, 1);

    // Updating with the same bytes changes nothing; the old bytes are still the same
    // credential id (history is not a second credential).
    store.update(&id, v2.as_bytes()).unwrap();
    assert_eq!(store.get(&id).unwrap().summary.version, 2);

    store.accept_update(&id).unwrap();
    assert!(store.previous_versions(&id).unwrap().is_empty());
    assert!(!store.get(&id).unwrap().summary.update_pending);

    // An update from another issuer is refused.
    let err = store.update(&id, pid(&key).as_bytes()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidClaim);
    assert_eq!(
        store.update("missing", v1.as_bytes()).unwrap_err().code(),
        ErrorCode::NotFound
    );

    store.delete(&id).unwrap();
    assert_eq!(store.get(&id).unwrap_err().code(), ErrorCode::NotFound);
    assert_eq!(store.delete(&id).unwrap_err().code(), ErrorCode::NotFound);
}

#[test]
fn moved_or_altered_ciphertext_is_corrupt_and_skipped() {
    let f = Fixture::new();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let (a, b, c) = {
        let store = f.open();
        (
            store
                .add(veteran_card(&key, "A", NOW + DAY * 9, None).as_bytes())
                .unwrap(),
            store
                .add(veteran_card(&key, "B", NOW + DAY * 9, None).as_bytes())
                .unwrap(),
            store
                .add(veteran_card(&key, "C", NOW + DAY * 9, None).as_bytes())
                .unwrap(),
        )
    };
    {
        let db = rusqlite::Connection::open(&f.path).unwrap();
        // Move A's sealed raw credential into B's row, and flip a bit of C's display data.
        db.execute(
            "UPDATE credentials SET raw = (SELECT raw FROM credentials WHERE id = ?1) WHERE id = ?2",
            [&a, &b],
        )
        .unwrap();
        let mut private: Vec<u8> = db
            .query_row("SELECT private FROM credentials WHERE id = ?1", [&c], |r| {
                r.get(0)
            })
            .unwrap();
        let n = private.len();
        private[n / 2] ^= 0x40;
        db.execute(
            "UPDATE credentials SET private = ?1 WHERE id = ?2",
            rusqlite::params![private, c],
        )
        .unwrap();
    }
    let store = f.open();
    assert_eq!(store.get(&a).unwrap().claims["serviceNumber"], "A");
    let err = store.get(&b).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Corrupt, "{err}");
    assert_eq!(store.get(&c).unwrap_err().code(), ErrorCode::Corrupt);
    let listing = store.list(&ListFilter::default()).unwrap();
    // B's clear metadata and display data are intact, so it lists; reading it fails.
    let listed: Vec<&str> = listing.credentials.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(listed, [a.as_str(), b.as_str()]);
    assert_eq!(listing.corrupt.len(), 1);
    assert_eq!(listing.corrupt[0].id, c);

    // Moving display data between rows is caught by listing too.
    drop(store);
    {
        let db = rusqlite::Connection::open(&f.path).unwrap();
        db.execute(
            "UPDATE credentials SET private = (SELECT private FROM credentials WHERE id = ?1) WHERE id = ?2",
            [&a, &b],
        )
        .unwrap();
    }
    let listing = f.open().list(&ListFilter::default()).unwrap();
    assert_eq!(listing.credentials.len(), 1);
    let mut corrupt: Vec<&str> = listing.corrupt.iter().map(|c| c.id.as_str()).collect();
    corrupt.sort();
    let mut expected = vec![b.as_str(), c.as_str()];
    expected.sort();
    assert_eq!(corrupt, expected);
}

fn file_digest(path: &Path) -> [u8; 32] {
    sha256(&std::fs::read(path).unwrap())
}

#[test]
fn wrong_key_is_a_clear_error_and_leaves_the_data_untouched() {
    let f = Fixture::new();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let id = f
        .open()
        .add(veteran_card(&key, "1", NOW + DAY * 9, None).as_bytes())
        .unwrap();
    let before = file_digest(&f.path);

    let other = Arc::new(SoftwareKeyProtector::generate().unwrap());
    let err = Store::open(&f.path, other, f.clock.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongKey, "{err}");
    assert!(err.to_string().contains("untouched"));
    assert_eq!(file_digest(&f.path), before);

    assert_eq!(f.open().get(&id).unwrap().claims["serviceNumber"], "1");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn database_files(path: &Path) -> Vec<PathBuf> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", path.display())))
        .filter(|p| p.exists())
        .collect()
}

#[test]
fn no_claim_value_is_in_the_files_and_wipe_removes_everything() {
    let f = Fixture::new();
    let store = f.open();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let jwt = veteran_card(&key, SECRET_NUMBER, NOW + 365 * DAY, None);
    let sd = pid(&key);
    store.add(jwt.as_bytes()).unwrap();
    store.add(sd.as_bytes()).unwrap();
    store.add(&mdl(None)).unwrap();
    // Delete one and update another: old versions must not linger in clear either.
    let gone = store
        .add(veteran_card(&key, "SN-DELETED-4471", NOW + DAY * 9, None).as_bytes())
        .unwrap();
    store.delete(&gone).unwrap();

    let files = database_files(&f.path);
    assert!(files.len() >= 2, "database and WAL: {files:?}");
    let jwt_payload = jwt.split('.').nth(1).unwrap();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for needle in [
            SECRET_NUMBER,
            SECRET_FAMILY,
            "Sarah",
            "1980-02-03",
            "SN-DELETED-4471",
            &jwt_payload[..40],
        ] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle:?} in clear in {}",
                file.display()
            );
        }
    }

    let key_file = f.dir().join("store.key");
    assert!(key_file.exists());
    store.wipe().unwrap();
    assert!(
        database_files(&f.path).is_empty(),
        "{:?}",
        database_files(&f.path)
    );
    assert!(!key_file.exists(), "the protector's key is destroyed");
    // Nothing can be opened with the destroyed protector.
    assert_eq!(
        f.protector.wrap(b"x").unwrap_err().code(),
        ErrorCode::KeyInvalidated
    );
}

#[test]
fn a_version_1_database_migrates_keeping_every_credential() {
    let f = Fixture::new();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let jwt = veteran_card(&key, "V1-A", NOW + 200 * DAY, Some(NOW + 100 * DAY));
    let sd = pid(&key);
    let md = mdl(Some(NOW + 50 * DAY));
    let ids = {
        let v1 = Store::open_at_schema_version(&f.path, f.protector.clone(), f.clock.clone(), 1)
            .unwrap();
        assert_eq!(v1.schema_version(), 1);
        let ids = v1.add_all(&[jwt.as_bytes(), sd.as_bytes(), &md]).unwrap();
        assert_eq!(v1.add(jwt.as_bytes()).unwrap(), ids[0]);
        ids
    };
    {
        let db = rusqlite::Connection::open(&f.path).unwrap();
        let v: u32 = db
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, 1);
        let has_history: bool = db
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'credential_history')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_history);
    }

    let store = f.open();
    assert_eq!(store.schema_version(), govcred::store::schema::CURRENT);
    let listing = store.list(&ListFilter::default()).unwrap();
    assert!(listing.corrupt.is_empty());
    assert_eq!(
        listing
            .credentials
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(store.get(&ids[0]).unwrap().raw, jwt.as_bytes());
    assert_eq!(store.get(&ids[1]).unwrap().raw, sd.as_bytes());
    assert_eq!(store.get(&ids[2]).unwrap().raw, md);
    // The v2 column was backfilled from the stored credentials.
    assert_eq!(
        store.get(&ids[0]).unwrap().summary.expected_update,
        Some(NOW + 100 * DAY)
    );
    assert_eq!(
        store.get(&ids[2]).unwrap().summary.expected_update,
        Some(NOW + 50 * DAY)
    );
    // And v2 operations work on migrated rows.
    store
        .update(
            &ids[0],
            veteran_card(&key, "V1-A", NOW + 300 * DAY, None).as_bytes(),
        )
        .unwrap();
    assert_eq!(
        store.previous_versions(&ids[0]).unwrap()[0].raw,
        jwt.as_bytes()
    );
    assert_eq!(
        store.add(sd.as_bytes()).unwrap(),
        ids[1],
        "idempotent across the migration"
    );
}

#[test]
fn a_database_from_a_newer_release_is_refused_not_downgraded() {
    let f = Fixture::new();
    drop(f.open());
    rusqlite::Connection::open(&f.path)
        .unwrap()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    let err = Store::open(&f.path, f.protector.clone(), f.clock.clone()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Storage);
    assert!(err.to_string().contains("newer"), "{err}");
}

#[test]
fn software_key_store_signs_agrees_and_reports_invalidated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let ks = SoftwareKeyStore::in_directory(dir.path()).unwrap();
    let jwk = ks.create_key("device-1", &KeySettings::default()).unwrap();
    assert!(jwk.d.is_none());
    assert_eq!(
        ks.create_key("device-1", &KeySettings::default())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKey
    );
    assert_eq!(
        ks.create_key("../x", &KeySettings::default())
            .unwrap_err()
            .code(),
        ErrorCode::InvalidKey
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("device-1.p256"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // Reloaded from the directory, the same key signs through the Signer trait.
    let ks: Arc<dyn KeyStore> = Arc::new(SoftwareKeyStore::in_directory(dir.path()).unwrap());
    assert_eq!(ks.aliases().unwrap(), ["device-1"]);
    let signer = KeyStoreSigner::new(ks.clone(), "device-1").unwrap();
    assert_eq!(signer.public_jwk(), jwk);
    let sig = signer.sign(b"message").unwrap();
    VerifyingKey::from_jwk(&jwk)
        .unwrap()
        .verify(Alg::ES256, b"message", &sig)
        .unwrap();

    let peer = SoftwareKeyStore::in_memory();
    let peer_jwk = peer
        .create_key(
            "p",
            &KeySettings {
                key_agreement: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        *ks.key_agreement("device-1", &peer_jwk).unwrap(),
        *peer.key_agreement("p", &jwk).unwrap()
    );
    let ed = SoftwareKey::generate(Alg::EdDSA).unwrap().public_jwk();
    assert_eq!(
        ks.key_agreement("device-1", &ed).unwrap_err().code(),
        ErrorCode::KeyAlgMismatch
    );

    peer.invalidate("p").unwrap();
    assert_eq!(
        peer.sign("p", b"x").unwrap_err().code(),
        ErrorCode::KeyInvalidated
    );
    ks.delete_key("device-1").unwrap();
    assert!(!dir.path().join("device-1.p256").exists());
    assert_eq!(
        signer.sign(b"x").unwrap_err().code(),
        ErrorCode::KeyNotFound
    );
}

#[test]
fn key_files_readable_by_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    SoftwareKeyProtector::open_or_create(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            SoftwareKeyProtector::open_or_create(&path)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidKey
        );
    }
}

// ---- Crash safety ---------------------------------------------------------------

const CHILD_ENV: &str = "GOVCRED_STORE_CRASH_CHILD";

/// The child side of `survives_sigkill_at_random_moments`: with `CHILD_ENV` set to a
/// store directory it adds credentials forever, printing `ADDED <id> <sha256>` after
/// each `add` returns. Without it (a normal test run) it does nothing.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let protector = Arc::new(SoftwareKeyProtector::open_or_create(&dir.join("store.key")).unwrap());
    let store = Store::open(
        dir.join("wallet.db"),
        protector,
        Arc::new(govcred::SystemClock),
    )
    .unwrap();
    let key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let token = veteran_card(
            &key,
            &format!("{}-{i}", std::process::id()),
            NOW + 365 * DAY,
            None,
        );
        let id = store.add(token.as_bytes()).unwrap();
        writeln!(out, "ADDED {id} {}", hex(&sha256(token.as_bytes()))).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn survives_sigkill_at_random_moments() {
    const ROUNDS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let protector =
        Arc::new(SoftwareKeyProtector::open_or_create(&dir.path().join("store.key")).unwrap());
    let db = dir.path().join("wallet.db");
    drop(Store::open(&db, protector.clone(), Arc::new(govcred::SystemClock)).unwrap());

    let started = Instant::now();
    let mut rng = rand::thread_rng();
    let mut reported: Vec<(String, String)> = Vec::new();
    for round in 0..ROUNDS {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let lines = lines.clone();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            })
        };
        // Wait until the child is in its loop, then kill it at a random moment.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("ADDED "))
        {
            assert!(
                Instant::now() < deadline,
                "round {round}: the child never added anything"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..40_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        for line in lines.lock().unwrap().iter() {
            let parts: Vec<&str> = line.split(' ').collect();
            // A line cut by the kill is not a report.
            if parts.len() == 3
                && parts[0] == "ADDED"
                && parts[1].len() == 32
                && parts[2].len() == 64
            {
                reported.push((parts[1].to_string(), parts[2].to_string()));
            }
        }

        // The database opens; every reported credential is there, whole.
        let store = Store::open(&db, protector.clone(), Arc::new(govcred::SystemClock)).unwrap();
        for (id, digest) in &reported {
            let got = store
                .get(id)
                .unwrap_or_else(|e| panic!("round {round}: {id}: {e}"));
            assert_eq!(
                &hex(&sha256(&got.raw)),
                digest,
                "round {round}: {id} half-written"
            );
        }
        let listing = store.list(&ListFilter::default()).unwrap();
        assert!(
            listing.corrupt.is_empty(),
            "round {round}: {:?}",
            listing.corrupt
        );
        assert!(listing.credentials.len() >= reported.len());
    }
    eprintln!(
        "{ROUNDS} SIGKILLs, {} credentials reported and found intact, {:.1} s",
        reported.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(reported.len() >= ROUNDS);
}

#[test]
fn real_govuk_mdocs_are_stored_with_their_metadata() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let f = Fixture::new();
    let store = f.open();
    for name in ["dev-simplemdoc", "dvla-dev-mdl-jane-doe"] {
        for ext in ["cbor", "b64url"] {
            let bytes =
                std::fs::read(dir.join(format!("govuk/mdoc/{name}.issuer-signed.{ext}"))).unwrap();
            let mso = mdoc::parse(&bytes)
                .unwrap()
                .mobile_security_object()
                .unwrap();
            let id = store.add(&bytes).unwrap();
            let got = store.get(&id).unwrap();
            assert_eq!(got.raw, bytes);
            assert_eq!(got.summary.format, Format::Mdoc);
            assert_eq!(got.summary.types, [mso.doc_type.as_str()]);
            assert_eq!(got.summary.valid_until, Some(mso.valid_until));
            assert_eq!(got.summary.expected_update, mso.expected_update);
            assert!(
                got.claims.as_object().is_some_and(|m| !m.is_empty()),
                "{name}"
            );
        }
    }
    let listing = store.list(&ListFilter::default()).unwrap();
    assert_eq!(listing.credentials.len(), 4);
    assert!(listing.corrupt.is_empty());
}
