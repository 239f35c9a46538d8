//! SQLite persistence of the issuer engine's state (`IssuerState`): pending offers,
//! single use of codes and access tokens, nonces, issued records and notifications.
//! WAL mode, so `govcred offer create` can add offers while the server runs; a restart
//! loses nothing.

use std::path::Path;
use std::sync::Mutex;

use govcred::oid4vci::issuer::{IssuedRecord, IssuerState, PendingOffer};
use govcred::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};

/// The issuer's database.
pub struct SqliteState {
    conn: Mutex<Connection>,
}

fn db(e: rusqlite::Error) -> Error {
    Error::Storage(format!("issuer database: {e}"))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY,
    configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    subject TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    redeemed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS used_once (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, jti TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issued (
    notification_id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    holder TEXT NOT NULL,
    status_uri TEXT,
    status_index INTEGER,
    issued_at INTEGER NOT NULL,
    UNIQUE (status_uri, status_index)
);
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT NOT NULL,
    event TEXT NOT NULL,
    description TEXT,
    at INTEGER NOT NULL
);
";

impl SqliteState {
    /// Open (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(SqliteState {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Storage("issuer database lock poisoned".into()))
    }

    /// `(issued, distinct status indices, notifications)` counts, for checks.
    pub fn counts(&self) -> Result<(i64, i64, i64)> {
        let c = self.conn()?;
        let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).map_err(db);
        Ok((
            q("SELECT COUNT(*) FROM issued")?,
            q("SELECT COUNT(DISTINCT status_uri || '#' || status_index) FROM issued WHERE status_uri IS NOT NULL")?,
            q("SELECT COUNT(*) FROM notifications")?,
        ))
    }
}

impl SqliteState {
    /// What was issued for offer `offer_id` (the console's view of a reference):
    /// `(status list URI, index)` if the credential has a status entry, and when it was
    /// issued; `None` while the offer is unredeemed.
    pub fn issued_for_offer(&self, offer_id: &str) -> Result<Option<IssuedStatus>> {
        self.conn()?
            .query_row(
                "SELECT status_uri, status_index, issued_at FROM issued WHERE offer_id = ?1",
                [offer_id],
                |r| {
                    let uri: Option<String> = r.get(0)?;
                    let idx: Option<i64> = r.get(1)?;
                    Ok(IssuedStatus {
                        status: uri.zip(idx.map(|i| i as usize)),
                        issued_at: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(db)
    }

    /// Whether offer `offer_id` is stored and not yet redeemed.
    pub fn offer_pending(&self, offer_id: &str) -> Result<bool> {
        self.conn()?
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM offers WHERE id = ?1 AND redeemed = 0)",
                [offer_id],
                |r| r.get(0),
            )
            .map_err(db)
    }
}

/// A credential issued for an offer: its status entry and when it was issued.
#[derive(Debug, Clone)]
pub struct IssuedStatus {
    /// `(status list URI, index)`, when the configuration has a status list.
    pub status: Option<(String, usize)>,
    /// Seconds since the epoch.
    pub issued_at: i64,
}

fn offer_from(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String, String, i64)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn to_offer(t: (String, String, String, String, i64)) -> Result<PendingOffer> {
    Ok(PendingOffer {
        id: t.0,
        configuration_id: t.1,
        claims: serde_json::from_str(&t.2)
            .map_err(|e| Error::Storage(format!("stored claims: {e}")))?,
        subject: t.3,
        expires_at: t.4,
    })
}

impl IssuerState for SqliteState {
    fn put_offer(&self, offer: &PendingOffer) -> Result<()> {
        let c = self.conn()?;
        c.execute(
            "INSERT INTO offers (id, configuration_id, claims, subject, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![offer.id, offer.configuration_id, offer.claims.to_string(), offer.subject, offer.expires_at],
        )
        .map_err(db)?;
        // Housekeeping: forget what can no longer matter.
        let now = offer.expires_at - 86_400;
        c.execute("DELETE FROM used_once WHERE expires_at < ?1", [now])
            .map_err(db)?;
        c.execute("DELETE FROM nonces WHERE expires_at < ?1", [now])
            .map_err(db)?;
        Ok(())
    }

    fn redeem_offer(&self, id: &str, now: i64) -> Result<Option<PendingOffer>> {
        let c = self.conn()?;
        let t = c
            .query_row(
                "UPDATE offers SET redeemed = 1 WHERE id = ?1 AND redeemed = 0 AND expires_at > ?2
                 RETURNING id, configuration_id, claims, subject, expires_at",
                params![id, now],
                offer_from,
            )
            .optional()
            .map_err(db)?;
        t.map(to_offer).transpose()
    }

    fn take_offer(&self, id: &str, subject: &str) -> Result<Option<PendingOffer>> {
        let c = self.conn()?;
        let t = c
            .query_row(
                "DELETE FROM offers WHERE id = ?1 AND subject = ?2
                 RETURNING id, configuration_id, claims, subject, expires_at",
                params![id, subject],
                offer_from,
            )
            .optional()
            .map_err(db)?;
        t.map(to_offer).transpose()
    }

    fn use_once(&self, key: &str, expires_at: i64) -> Result<bool> {
        let n = self
            .conn()?
            .execute(
                "INSERT OR IGNORE INTO used_once (key, expires_at) VALUES (?1, ?2)",
                params![key, expires_at],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn put_nonce(&self, nonce: &str, jti: &str, expires_at: i64) -> Result<()> {
        self.conn()?
            .execute(
                "INSERT OR REPLACE INTO nonces (nonce, jti, expires_at) VALUES (?1, ?2, ?3)",
                params![nonce, jti, expires_at],
            )
            .map_err(db)?;
        Ok(())
    }

    fn take_nonce(&self, nonce: &str, jti: &str, now: i64) -> Result<bool> {
        let n = self
            .conn()?
            .execute(
                "DELETE FROM nonces WHERE nonce = ?1 AND jti = ?2 AND expires_at > ?3",
                params![nonce, jti, now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn record_issued(&self, r: &IssuedRecord) -> Result<()> {
        let (uri, idx) = match &r.status {
            Some((u, i)) => (Some(u.as_str()), Some(*i as i64)),
            None => (None, None),
        };
        self.conn()?
            .execute(
                "INSERT INTO issued (notification_id, offer_id, configuration_id, holder, status_uri, status_index, issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![r.notification_id, r.offer_id, r.configuration_id, r.holder, uri, idx, r.issued_at],
            )
            .map_err(db)?;
        Ok(())
    }

    fn record_notification(
        &self,
        notification_id: &str,
        offer_id: &str,
        event: &str,
        description: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        let c = self.conn()?;
        let known: Option<String> = c
            .query_row(
                "SELECT offer_id FROM issued WHERE notification_id = ?1",
                [notification_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if known.as_deref() != Some(offer_id) {
            return Ok(false);
        }
        c.execute(
            "INSERT INTO notifications (notification_id, event, description, at) VALUES (?1, ?2, ?3, ?4)",
            params![notification_id, event, description, now],
        )
        .map_err(db)?;
        Ok(true)
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
    fn single_use_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.db");
        {
            let db = SqliteState::open(&path).unwrap();
            db.put_offer(&offer("a", 100)).unwrap();
            db.put_offer(&offer("old", 10)).unwrap();
        }
        // Reopened: the offers are still there.
        let db = Arc::new(SqliteState::open(&path).unwrap());
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
        assert!(db.take_offer("a", "someone else").unwrap().is_none());
        assert_eq!(db.take_offer("a", "s").unwrap().unwrap().claims["a"], 1);
        assert!(db.take_offer("a", "s").unwrap().is_none());
        assert!(db.use_once("jti:1", 100).unwrap());
        assert!(!db.use_once("jti:1", 100).unwrap());
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
        db.record_issued(&rec).unwrap();
        // The same status index can never be recorded twice.
        let dup = IssuedRecord {
            notification_id: "n2".into(),
            ..rec.clone()
        };
        assert!(db.record_issued(&dup).is_err());
        assert!(db
            .record_notification("n1", "a", "credential_accepted", None, 2)
            .unwrap());
        assert!(!db
            .record_notification("n1", "b", "credential_accepted", None, 2)
            .unwrap());
        assert!(!db
            .record_notification("zz", "a", "credential_accepted", None, 2)
            .unwrap());
        assert_eq!(db.counts().unwrap(), (1, 1, 1));
    }
}
