//! The console's own tables, in the issuer's SQLite database (one migration,
//! `console-1`, applied through [`Db::migrate`]): staff accounts, sessions, drafts of
//! credentials awaiting confirmation, the credentials issued from the console (by
//! reference) and their status history.
//!
//! Secrets are never stored in the clear where a hash will do: session tokens are
//! kept as SHA-256 digests, passwords as argon2id hashes. The TOTP secret must be
//! kept (the server computes the expected code), like every RFC 6238 server.

use rusqlite::{params, Connection, OptionalExtension};

use crate::serve::db::{Db, DbError};
use crate::CliError;

const MIGRATION: &str = "
CREATE TABLE console_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0,
    last_totp_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE console_drafts (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE console_credentials (
    reference TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL UNIQUE,
    configuration_id TEXT NOT NULL,
    link TEXT NOT NULL,
    subject TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE console_events (
    reference TEXT NOT NULL,
    at INTEGER NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX console_events_ref ON console_events(reference);
";

/// API tokens of case systems (bearer tokens acting as a staff account).
const MIGRATION_2: &str = "
CREATE TABLE console_api_tokens (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
";

/// Apply the console's schema to `db`.
pub fn migrate(db: &Db) -> Result<(), CliError> {
    db.migrate("console-1", MIGRATION)?;
    db.migrate("console-2", MIGRATION_2)
}

/// Store an API token (`token_hash` = hex SHA-256) for `user`; `false` if no such user.
pub fn put_api_token(
    c: &Connection,
    token_hash: &str,
    user: &str,
    now: i64,
) -> Result<bool, DbError> {
    if self::user(c, user)?.is_none() {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO console_api_tokens (token_hash, user, created_at) VALUES (?1, ?2, ?3)",
        params![token_hash, user, now],
    )?;
    Ok(true)
}

/// The user an API token acts as.
pub fn api_token_user(c: &Connection, token_hash: &str) -> Result<Option<User>, DbError> {
    let name: Option<String> = c
        .query_row(
            "SELECT user FROM console_api_tokens WHERE token_hash = ?1",
            [token_hash],
            |r| r.get(0),
        )
        .optional()?;
    match name {
        Some(n) => user(c, &n),
        None => Ok(None),
    }
}

/// A staff account.
#[derive(Clone, Debug)]
pub struct User {
    /// Sign-in name.
    pub name: String,
    /// `issuer`, `revoker`, `auditor` or `admin`.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret.
    pub totp_secret: String,
    /// Locked until (seconds); 0 when not locked.
    pub locked_until: i64,
    /// The last TOTP time step accepted (a code is used once).
    pub last_totp_step: i64,
}

/// A draft credential: validated claims awaiting the issuer's confirmation.
#[derive(Clone, Debug)]
pub struct Draft {
    /// Random id.
    pub id: String,
    /// Who made it (only they can confirm it).
    pub user: String,
    /// The credential configuration.
    pub configuration_id: String,
    /// The claims, as the issuer engine takes them.
    pub claims: serde_json::Value,
    /// The holder's name for the letter.
    pub holder_name: String,
    /// Seconds.
    pub created_at: i64,
}

/// A credential offered from the console.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The reference printed on the letter (no personal data).
    pub reference: String,
    /// The issuer engine's offer id.
    pub offer_id: String,
    /// The credential configuration.
    pub configuration_id: String,
    /// The offer deep link (QR code on the letter).
    pub link: String,
    /// The wallet subject the offer was made for.
    pub subject: String,
    /// The holder's name for the letter.
    pub holder_name: String,
    /// The staff member who issued it.
    pub created_by: String,
    /// Seconds.
    pub created_at: i64,
    /// When the offer expires.
    pub expires_at: i64,
    /// The offer was withdrawn before it was redeemed.
    pub cancelled: bool,
}

/// One status change of a credential.
#[derive(Clone, Debug)]
pub struct Event {
    /// Seconds.
    pub at: i64,
    /// The staff member.
    pub user: String,
    /// `revoked`, `suspended`, `reinstated`, `offer-withdrawn`.
    pub action: String,
    /// The reason given.
    pub reason: String,
}

fn user_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        role: r.get(1)?,
        password_hash: r.get(2)?,
        totp_secret: r.get(3)?,
        locked_until: r.get(4)?,
        last_totp_step: r.get(5)?,
    })
}

const USER_COLS: &str = "name, role, password_hash, totp_secret, locked_until, last_totp_step";

/// Add a user; `false` if the name is taken.
pub fn add_user(c: &Connection, u: &User, now: i64) -> Result<bool, DbError> {
    let n = c.execute(
        "INSERT OR IGNORE INTO console_users (name, role, password_hash, totp_secret, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![u.name, u.role, u.password_hash, u.totp_secret, now],
    )?;
    Ok(n == 1)
}

/// A user by name.
pub fn user(c: &Connection, name: &str) -> Result<Option<User>, DbError> {
    Ok(c.query_row(
        &format!("SELECT {USER_COLS} FROM console_users WHERE name = ?1"),
        [name],
        user_from,
    )
    .optional()?)
}

/// Record a failed sign-in; locks the account for `lock_secs` at `max_failures`.
/// Returns whether the account is now locked.
pub fn sign_in_failed(
    c: &Connection,
    name: &str,
    now: i64,
    max_failures: i64,
    lock_secs: i64,
) -> Result<bool, DbError> {
    let failed: Option<i64> = c
        .query_row(
            "UPDATE console_users SET failed = failed + 1 WHERE name = ?1 RETURNING failed",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    match failed {
        Some(f) if f >= max_failures => {
            c.execute(
                "UPDATE console_users SET locked_until = ?2, failed = 0 WHERE name = ?1",
                params![name, now + lock_secs],
            )?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Record a successful sign-in with TOTP step `step`; `false` if the step was already
/// used (a replayed code).
pub fn sign_in_succeeded(c: &Connection, name: &str, step: i64) -> Result<bool, DbError> {
    let n = c.execute(
        "UPDATE console_users SET failed = 0, locked_until = 0, last_totp_step = ?2
         WHERE name = ?1 AND last_totp_step < ?2",
        params![name, step],
    )?;
    Ok(n == 1)
}

/// Store a session (`token_hash` = hex SHA-256 of the cookie value).
pub fn put_session(
    c: &Connection,
    token_hash: &str,
    user: &str,
    csrf: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_sessions WHERE expires_at < ?1",
        [expires_at - 86_400],
    )?;
    c.execute(
        "INSERT INTO console_sessions (token_hash, user, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user, csrf, expires_at],
    )?;
    Ok(())
}

/// The live session's user and CSRF token.
pub fn session(
    c: &Connection,
    token_hash: &str,
    now: i64,
) -> Result<Option<(User, String)>, DbError> {
    let row: Option<(String, String)> = c
        .query_row(
            "SELECT user, csrf FROM console_sessions WHERE token_hash = ?1 AND expires_at > ?2",
            params![token_hash, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((name, csrf)) = row else {
        return Ok(None);
    };
    Ok(user(c, &name)?.map(|u| (u, csrf)))
}

/// End a session.
pub fn delete_session(c: &Connection, token_hash: &str) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_sessions WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

/// Store a draft.
pub fn put_draft(c: &Connection, d: &Draft) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_drafts WHERE created_at < ?1",
        [d.created_at - 86_400],
    )?;
    c.execute(
        "INSERT INTO console_drafts (id, user, configuration_id, claims, holder_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            d.id,
            d.user,
            d.configuration_id,
            d.claims.to_string(),
            d.holder_name,
            d.created_at
        ],
    )?;
    Ok(())
}

/// A draft of `user`'s (read, or removed with `take`).
pub fn draft(c: &Connection, id: &str, user: &str, take: bool) -> Result<Option<Draft>, DbError> {
    const COLS: &str = "id, user, configuration_id, claims, holder_name, created_at";
    let sql = if take {
        format!("DELETE FROM console_drafts WHERE id = ?1 AND user = ?2 RETURNING {COLS}")
    } else {
        format!("SELECT {COLS} FROM console_drafts WHERE id = ?1 AND user = ?2")
    };
    let row = c
        .query_row(&sql, params![id, user], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .optional()?;
    row.map(
        |(id, user, configuration_id, claims, holder_name, created_at)| {
            Ok(Draft {
                id,
                user,
                configuration_id,
                claims: serde_json::from_str(&claims)
                    .map_err(|e| DbError(format!("stored draft claims: {e}")))?,
                holder_name,
                created_at,
            })
        },
    )
    .transpose()
}

/// Record a credential offered from the console.
pub fn put_credential(c: &Connection, k: &Credential) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO console_credentials (reference, offer_id, configuration_id, link, subject,
             holder_name, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            k.reference,
            k.offer_id,
            k.configuration_id,
            k.link,
            k.subject,
            k.holder_name,
            k.created_by,
            k.created_at,
            k.expires_at
        ],
    )?;
    Ok(())
}

/// A credential by reference.
pub fn credential(c: &Connection, reference: &str) -> Result<Option<Credential>, DbError> {
    Ok(c.query_row(
        "SELECT reference, offer_id, configuration_id, link, subject, holder_name, created_by,
                created_at, expires_at, cancelled
         FROM console_credentials WHERE reference = ?1",
        [reference],
        |r| {
            Ok(Credential {
                reference: r.get(0)?,
                offer_id: r.get(1)?,
                configuration_id: r.get(2)?,
                link: r.get(3)?,
                subject: r.get(4)?,
                holder_name: r.get(5)?,
                created_by: r.get(6)?,
                created_at: r.get(7)?,
                expires_at: r.get(8)?,
                cancelled: r.get::<_, i64>(9)? != 0,
            })
        },
    )
    .optional()?)
}

/// Mark the offer of `reference` withdrawn.
pub fn cancel(c: &Connection, reference: &str) -> Result<(), DbError> {
    c.execute(
        "UPDATE console_credentials SET cancelled = 1 WHERE reference = ?1",
        [reference],
    )?;
    Ok(())
}

/// Append a status change to a credential's history.
pub fn add_event(c: &Connection, reference: &str, e: &Event) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO console_events (reference, at, user, action, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![reference, e.at, e.user, e.action, e.reason],
    )?;
    Ok(())
}

/// A credential's history, oldest first.
pub fn events(c: &Connection, reference: &str) -> Result<Vec<Event>, DbError> {
    let mut st = c.prepare(
        "SELECT at, user, action, reason FROM console_events WHERE reference = ?1 ORDER BY rowid",
    )?;
    let rows = st.query_map([reference], |r| {
        Ok(Event {
            at: r.get(0)?,
            user: r.get(1)?,
            action: r.get(2)?,
            reason: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
