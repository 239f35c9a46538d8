//! The database schema and its forward migrations.
//!
//! The version lives in the one-row table `schema_version`. A database is created at
//! version 1 and migrated step by step to [`CURRENT`], each step in the same
//! transaction as the version bump, so a crash leaves either the old or the new
//! schema. A database from a newer release is refused, never downgraded.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::seal::{aad, DataKeys};
use crate::error::Result;

use super::{extract, storage};

/// The schema this code writes.
pub const CURRENT: u32 = 2;

/// Version 1: credentials with clear listing metadata and two sealed columns.
pub(crate) const V1: &str = "
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE store_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE credentials (
    id TEXT PRIMARY KEY NOT NULL,
    format TEXT NOT NULL,
    issuer TEXT NOT NULL,
    types TEXT NOT NULL,
    valid_from INTEGER,
    valid_until INTEGER,
    status_uri TEXT,
    received_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    digest BLOB NOT NULL UNIQUE,
    private BLOB NOT NULL,
    raw BLOB NOT NULL
);
INSERT INTO schema_version (version) VALUES (1);
";

/// Version 2: record versions with a history kept until the update is accepted,
/// `expectedUpdate`, the recorded status and the "update flagged" mark.
const V2: &str = "
ALTER TABLE credentials ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE credentials ADD COLUMN expected_update INTEGER;
ALTER TABLE credentials ADD COLUMN status_state TEXT;
ALTER TABLE credentials ADD COLUMN status_checked_at INTEGER;
ALTER TABLE credentials ADD COLUMN update_flagged INTEGER NOT NULL DEFAULT 0;
CREATE TABLE credential_history (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    format TEXT NOT NULL,
    issuer TEXT NOT NULL,
    types TEXT NOT NULL,
    valid_from INTEGER,
    valid_until INTEGER,
    expected_update INTEGER,
    status_uri TEXT,
    received_at INTEGER NOT NULL,
    replaced_at INTEGER NOT NULL,
    private BLOB NOT NULL,
    raw BLOB NOT NULL,
    PRIMARY KEY (id, version)
);
CREATE INDEX credentials_issuer ON credentials (issuer);
UPDATE schema_version SET version = 2;
";

/// The schema version of an open database; 0 for an empty one.
pub(crate) fn version(conn: &Connection) -> Result<u32> {
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')",
            [],
            |r| r.get(0),
        )
        .map_err(storage)?;
    if !has_table {
        return Ok(0);
    }
    let v: Option<u32> = conn
        .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
        .optional()
        .map_err(storage)?;
    Ok(v.unwrap_or(0))
}

/// Run the migrations from `from` up to `to` inside `tx`. Steps that need the
/// decrypted records (backfilling a column from the credential) use `keys`.
pub(crate) fn migrate(tx: &Transaction<'_>, from: u32, to: u32, keys: &DataKeys) -> Result<()> {
    for step in from + 1..=to {
        // One arm per version; a step without a Rust part only runs its SQL.
        if step == 2 {
            tx.execute_batch(V2).map_err(storage)?;
            backfill_expected_update(tx, keys)?;
        }
    }
    Ok(())
}

/// v2 step: read `expectedUpdate` from each stored credential. A record that does not
/// decrypt is left as it is (listing reports it as corrupt).
fn backfill_expected_update(tx: &Transaction<'_>, keys: &DataKeys) -> Result<()> {
    let rows: Vec<(String, Vec<u8>)> = {
        let mut stmt = tx
            .prepare("SELECT id, raw FROM credentials")
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(storage)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(storage)?;
        rows
    };
    for (id, blob) in rows {
        let Some(raw) = keys.open(&aad("raw", &id, 1), &blob) else {
            continue;
        };
        if let Ok(Some(e)) = extract::extract(&raw).map(|x| x.expected_update) {
            tx.execute(
                "UPDATE credentials SET expected_update = ?1 WHERE id = ?2",
                params![e, id],
            )
            .map_err(storage)?;
        }
    }
    Ok(())
}
