//! Persistence of the issuer engine's state (`IssuerState`) in the serve database
//! ([`Db`]: SQLite by default, PostgreSQL for several instances): pending offers,
//! single use of codes and access tokens, nonces, issued records and notifications.
//! Every check-and-change is one statement or one transaction (`UPDATE … RETURNING`,
//! `DELETE … RETURNING`, `INSERT … ON CONFLICT DO NOTHING`, unique constraints), so
//! any instance can redeem an offer another created, and none twice. SQLite runs in WAL
//! mode, so `govcred offer create` can add offers while the server runs; a restart
//! loses nothing.

use govcred::oid4vci::issuer::{IssuedRecord, IssuerState, PendingOffer};
use govcred::{Error, Result};

use super::db::{self, Db, DbError, Row, Tx};
use crate::CliError;

/// The issuer's database.
pub struct DbState {
    db: Db,
}

fn storage(e: DbError) -> Error {
    Error::Storage(format!("issuer database: {e}"))
}

impl DbState {
    /// Open `location` (a SQLite file, created if needed, or a `postgres://` URL) and
    /// apply the issuer's migrations.
    pub fn open(location: &str) -> std::result::Result<Self, CliError> {
        Ok(DbState {
            db: Db::open(location, db::ISSUER)?,
        })
    }

    /// The database, for services that keep their own tables beside the issuer's
    /// (the console).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// `(issued, distinct status indices, notifications)` counts, for checks.
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        self.db
            .transaction(|tx| {
                let mut q = |sql: &str| -> std::result::Result<i64, DbError> {
                    tx.query_opt(sql, &[])?
                        .ok_or_else(|| DbError("no count".into()))?
                        .int(0)
                };
                Ok((
                    q("SELECT COUNT(*) FROM issued")?,
                    q("SELECT COUNT(DISTINCT status_uri || '#' || status_index) FROM issued WHERE status_uri IS NOT NULL")?,
                    q("SELECT COUNT(*) FROM notifications")?,
                ))
            })
            .map_err(storage)
    }
}

impl DbState {
    /// What was issued for offer `offer_id` (the console's view of a reference):
    /// `(status list URI, index)` if the credential has a status entry, and when it was
    /// issued; `None` while the offer is unredeemed.
    pub fn issued_for_offer(&self, offer_id: &str) -> Result<Option<IssuedStatus>> {
        self.db
            .transaction(|tx| {
                tx.query_opt(
                    "SELECT status_uri, status_index, issued_at FROM issued WHERE offer_id = $1",
                    &[offer_id.into()],
                )?
                .map(|r| {
                    let uri = r.opt_text(0)?;
                    let idx = r.opt_int(1)?;
                    Ok(IssuedStatus {
                        status: uri.zip(idx.map(|i| i as usize)),
                        issued_at: r.int(2)?,
                    })
                })
                .transpose()
            })
            .map_err(storage)
    }

    /// Whether offer `offer_id` is stored and not yet redeemed.
    pub fn offer_pending(&self, offer_id: &str) -> Result<bool> {
        self.db
            .transaction(|tx| {
                Ok(tx
                    .query_opt(
                        "SELECT id FROM offers WHERE id = $1 AND redeemed = 0",
                        &[offer_id.into()],
                    )?
                    .is_some())
            })
            .map_err(storage)
    }
}

/// Withdraw the pending offer `id` of wallet subject `subject` inside the caller's
/// transaction `tx` (the console withdraws it and marks its own record in one go);
/// `false` when the offer is gone (collected meanwhile, or withdrawn already).
pub fn withdraw_offer(
    tx: &mut dyn Tx,
    id: &str,
    subject: &str,
) -> std::result::Result<bool, DbError> {
    Ok(tx.execute(
        "DELETE FROM offers WHERE id = $1 AND subject = $2",
        &[id.into(), subject.into()],
    )? == 1)
}

/// A credential issued for an offer: its status entry and when it was issued.
#[derive(Debug, Clone)]
pub struct IssuedStatus {
    /// `(status list URI, index)`, when the configuration has a status list.
    pub status: Option<(String, usize)>,
    /// Seconds since the epoch.
    pub issued_at: i64,
}

const OFFER_COLUMNS: &str = "id, configuration_id, claims, subject, expires_at";

fn to_offer(r: Row) -> std::result::Result<PendingOffer, DbError> {
    Ok(PendingOffer {
        id: r.text(0)?,
        configuration_id: r.text(1)?,
        claims: serde_json::from_str(&r.text(2)?)
            .map_err(|e| DbError(format!("stored claims: {e}")))?,
        subject: r.text(3)?,
        expires_at: r.int(4)?,
    })
}

impl IssuerState for DbState {
    fn put_offer(&self, offer: &PendingOffer) -> Result<()> {
        let claims = offer.claims.to_string();
        self.db
            .transaction(|tx| {
                tx.execute(
                    "INSERT INTO offers (id, configuration_id, claims, subject, expires_at) VALUES ($1, $2, $3, $4, $5)",
                    &[(&offer.id).into(), (&offer.configuration_id).into(), (&claims).into(), (&offer.subject).into(), offer.expires_at.into()],
                )?;
                // Housekeeping: forget what can no longer matter.
                let now = offer.expires_at - 86_400;
                tx.execute("DELETE FROM used_once WHERE expires_at < $1", &[now.into()])?;
                tx.execute("DELETE FROM nonces WHERE expires_at < $1", &[now.into()])?;
                Ok(())
            })
            .map_err(storage)
    }

    fn redeem_offer(&self, id: &str, now: i64) -> Result<Option<PendingOffer>> {
        self.db
            .transaction(|tx| {
                tx.query_opt(
                    &format!("UPDATE offers SET redeemed = 1 WHERE id = $1 AND redeemed = 0 AND expires_at > $2 RETURNING {OFFER_COLUMNS}"),
                    &[id.into(), now.into()],
                )?
                .map(to_offer)
                .transpose()
            })
            .map_err(storage)
    }

    fn pending_offer(&self, id: &str, subject: &str) -> Result<Option<PendingOffer>> {
        self.db
            .transaction(|tx| {
                tx.query_opt(
                    &format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = $1 AND subject = $2"),
                    &[id.into(), subject.into()],
                )?
                .map(to_offer)
                .transpose()
            })
            .map_err(storage)
    }

    fn put_nonce(&self, nonce: &str, jti: &str, expires_at: i64) -> Result<()> {
        self.db
            .transaction(|tx| {
                tx.execute(
                    "INSERT INTO nonces (nonce, jti, expires_at) VALUES ($1, $2, $3)
                     ON CONFLICT (nonce) DO UPDATE SET jti = excluded.jti, expires_at = excluded.expires_at",
                    &[nonce.into(), jti.into(), expires_at.into()],
                )
            })
            .map(drop)
            .map_err(storage)
    }

    fn take_nonce(&self, nonce: &str, jti: &str, now: i64) -> Result<bool> {
        self.db
            .transaction(|tx| {
                tx.execute(
                    "DELETE FROM nonces WHERE nonce = $1 AND jti = $2 AND expires_at > $3",
                    &[nonce.into(), jti.into(), now.into()],
                )
            })
            .map(|n| n == 1)
            .map_err(storage)
    }

    fn complete_issuance(
        &self,
        jti: &str,
        jti_expires_at: i64,
        subject: &str,
        r: &IssuedRecord,
    ) -> Result<bool> {
        let (uri, idx) = match &r.status {
            Some((u, i)) => (Some(u.as_str()), Some(*i as i64)),
            None => (None, None),
        };
        self.db
            .transaction(|tx| {
                // Refusals are decided before anything that matters is written: a token
                // seen before changes nothing; a token whose offer is gone is recorded as
                // used, which is harmless (it can redeem nothing).
                let fresh = tx.execute(
                    "INSERT INTO used_once (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                    &[jti.into(), jti_expires_at.into()],
                )? == 1;
                if !fresh {
                    return Ok(false);
                }
                let taken = tx.execute(
                    "DELETE FROM offers WHERE id = $1 AND subject = $2",
                    &[(&r.offer_id).into(), subject.into()],
                )? == 1;
                if !taken {
                    return Ok(false);
                }
                tx.execute(
                    "INSERT INTO issued (notification_id, offer_id, configuration_id, holder, status_uri, status_index, issued_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    &[(&r.notification_id).into(), (&r.offer_id).into(), (&r.configuration_id).into(), (&r.holder).into(), uri.into(), idx.into(), r.issued_at.into()],
                )?;
                Ok(true)
            })
            .map_err(storage)
    }

    fn record_notification(
        &self,
        notification_id: &str,
        offer_id: &str,
        event: &str,
        description: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        self.db
            .transaction(|tx| {
                let known = tx
                    .query_opt(
                        "SELECT offer_id FROM issued WHERE notification_id = $1",
                        &[notification_id.into()],
                    )?
                    .map(|r| r.text(0))
                    .transpose()?;
                if known.as_deref() != Some(offer_id) {
                    return Ok(false);
                }
                tx.execute(
                    "INSERT INTO notifications (notification_id, event, description, at) VALUES ($1, $2, $3, $4)",
                    &[notification_id.into(), event.into(), description.into(), now.into()],
                )?;
                Ok(true)
            })
            .map_err(storage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn offer(id: &str, expires_at: i64) -> PendingOffer {
        PendingOffer {
            id: id.into(),
            configuration_id: "C".into(),
            claims: serde_json::json!({"a": 1}),
            subject: "s".into(),
            expires_at,
        }
    }

    #[test]
    fn single_use_and_persistence_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        single_use_and_persistence(dir.path().join("i.db").to_str().unwrap());
    }

    /// The same on PostgreSQL, in a fresh database on the server of
    /// `GOVCRED_TEST_DATABASE_URL` (skipped without it, except in CI).
    #[test]
    fn single_use_and_persistence_postgres() {
        let Ok(admin) = std::env::var("GOVCRED_TEST_DATABASE_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI runs the PostgreSQL tests: set GOVCRED_TEST_DATABASE_URL"
            );
            eprintln!("SKIPPED: GOVCRED_TEST_DATABASE_URL is not set");
            return;
        };
        let name = format!("govcred_unit_{}", uuid::Uuid::new_v4().simple());
        postgres::Client::connect(&admin, postgres::NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let (path, query) = match admin.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (admin.as_str(), String::new()),
        };
        let (base, _) = path.rsplit_once('/').unwrap();
        single_use_and_persistence(&format!("{base}/{name}{query}"));
    }

    fn single_use_and_persistence(location: &str) {
        {
            let db = DbState::open(location).unwrap();
            db.put_offer(&offer("a", 100)).unwrap();
            db.put_offer(&offer("old", 10)).unwrap();
        }
        // Reopened: the offers are still there.
        let db = Arc::new(DbState::open(location).unwrap());
        assert!(db.redeem_offer("old", 50).unwrap().is_none());
        let winners: usize = (0..8)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || db.redeem_offer("a", 50).unwrap().is_some() as usize)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .sum();
        assert_eq!(winners, 1);
        assert!(db.pending_offer("a", "someone else").unwrap().is_none());
        assert_eq!(db.pending_offer("a", "s").unwrap().unwrap().claims["a"], 1);
        db.put_nonce("n", "j", 100).unwrap();
        assert!(!db.take_nonce("n", "other", 50).unwrap());
        assert!(db.take_nonce("n", "j", 50).unwrap());
        assert!(!db.take_nonce("n", "j", 50).unwrap());
        let rec = IssuedRecord {
            notification_id: "n1".into(),
            offer_id: "a".into(),
            configuration_id: "C".into(),
            holder: "did:key:z".into(),
            status: Some(("https://s/1".into(), 7)),
            issued_at: 1,
        };
        // Another wallet subject cannot complete the offer: no credential is recorded.
        assert!(!db
            .complete_issuance("jti:x", 100, "someone else", &rec)
            .unwrap());
        assert_eq!(db.counts().unwrap(), (0, 0, 0));
        // Racing completions of one offer (each with its own token): exactly one wins.
        let winners: Vec<usize> = (0..8)
            .map(|i| {
                let (db, rec) = (db.clone(), rec.clone());
                std::thread::spawn(move || {
                    let rec = IssuedRecord {
                        notification_id: format!("n{i}"),
                        status: Some(("https://s/1".into(), 7 + i)),
                        ..rec
                    };
                    db.complete_issuance(&format!("jti:{i}"), 100, "s", &rec)
                        .unwrap()
                        .then_some(i)
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1);
        assert!(db.pending_offer("a", "s").unwrap().is_none());
        // A token used once is refused for any other offer.
        db.put_offer(&offer("b", 100)).unwrap();
        let again = IssuedRecord {
            notification_id: "nb".into(),
            offer_id: "b".into(),
            status: None,
            ..rec.clone()
        };
        let used = format!("jti:{}", winners[0]);
        assert!(!db.complete_issuance(&used, 100, "s", &again).unwrap());
        assert!(db.complete_issuance("jti:fresh", 100, "s", &again).unwrap());
        // The same status index can never be recorded twice (and then nothing is).
        db.put_offer(&offer("c", 100)).unwrap();
        let dup = IssuedRecord {
            notification_id: "nc".into(),
            offer_id: "c".into(),
            status: Some(("https://s/1".into(), 7 + winners[0])),
            ..rec.clone()
        };
        assert!(db.complete_issuance("jti:c", 100, "s", &dup).is_err());
        assert!(db.pending_offer("c", "s").unwrap().is_some());
        let n = format!("n{}", winners[0]);
        assert!(db
            .record_notification(&n, "a", "credential_accepted", None, 2)
            .unwrap());
        assert!(!db
            .record_notification(&n, "b", "credential_accepted", None, 2)
            .unwrap());
        assert!(!db
            .record_notification("zz", "a", "credential_accepted", None, 2)
            .unwrap());
        assert_eq!(db.counts().unwrap(), (2, 1, 1));
    }
}
