//! The console's own tables, in the issuer's database (SQLite or PostgreSQL: portable
//! SQL through [`Tx`], migrations `console-1`, `console-2` applied with
//! [`Db::migrate`]): staff accounts, sessions, drafts of credentials awaiting
//! confirmation, the credentials issued from the console (by reference) and their status
//! history.
//!
//! Secrets are never stored in the clear where a hash will do: session tokens are
//! kept as SHA-256 digests, passwords as argon2id hashes. The TOTP secret must be
//! kept (the server computes the expected code), like every RFC 6238 server.

use crate::serve::db::{Db, DbError, Row, Tx};
use crate::CliError;

const MIGRATION: &str = "
CREATE TABLE console_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    failed BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_totp_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE console_drafts (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    configuration_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE console_credentials (
    reference TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL UNIQUE,
    configuration_id TEXT NOT NULL,
    link TEXT NOT NULL,
    subject TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    cancelled BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE console_events (
    reference TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (reference, seq)
);
";

/// API tokens of case systems (bearer tokens acting as a staff account).
const MIGRATION_2: &str = "
CREATE TABLE console_api_tokens (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES console_users(name) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
";

/// Apply the console's schema to `db`.
pub fn migrate(db: &Db) -> Result<(), CliError> {
    db.migrate(&[("console-1", MIGRATION), ("console-2", MIGRATION_2)])
}

/// Store an API token (`token_hash` = hex SHA-256) for `user`; `false` if no such user.
pub fn put_api_token(
    c: &mut dyn Tx,
    token_hash: &str,
    user: &str,
    now: i64,
) -> Result<bool, DbError> {
    if self::user(c, user)?.is_none() {
        return Ok(false);
    }
    c.execute(
        "INSERT INTO console_api_tokens (token_hash, username, created_at) VALUES ($1, $2, $3)",
        &[token_hash.into(), user.into(), now.into()],
    )?;
    Ok(true)
}

/// The user an API token acts as.
pub fn api_token_user(c: &mut dyn Tx, token_hash: &str) -> Result<Option<User>, DbError> {
    let name = c
        .query_opt(
            "SELECT username FROM console_api_tokens WHERE token_hash = $1",
            &[token_hash.into()],
        )?
        .map(|r| r.text(0))
        .transpose()?;
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

fn user_from(r: &Row) -> Result<User, DbError> {
    Ok(User {
        name: r.text(0)?,
        role: r.text(1)?,
        password_hash: r.text(2)?,
        totp_secret: r.text(3)?,
        locked_until: r.int(4)?,
        last_totp_step: r.int(5)?,
    })
}

const USER_COLS: &str = "name, role, password_hash, totp_secret, locked_until, last_totp_step";

/// Add a user; `false` if the name is taken.
pub fn add_user(c: &mut dyn Tx, u: &User, now: i64) -> Result<bool, DbError> {
    let n = c.execute(
        "INSERT INTO console_users (name, role, password_hash, totp_secret, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        &[
            (&u.name).into(),
            (&u.role).into(),
            (&u.password_hash).into(),
            (&u.totp_secret).into(),
            now.into(),
        ],
    )?;
    Ok(n == 1)
}

/// A user by name.
pub fn user(c: &mut dyn Tx, name: &str) -> Result<Option<User>, DbError> {
    c.query_opt(
        &format!("SELECT {USER_COLS} FROM console_users WHERE name = $1"),
        &[name.into()],
    )?
    .map(|r| user_from(&r))
    .transpose()
}

/// Record a failed sign-in; locks the account for `lock_secs` at `max_failures`.
/// Returns whether the account is now locked.
pub fn sign_in_failed(
    c: &mut dyn Tx,
    name: &str,
    now: i64,
    max_failures: i64,
    lock_secs: i64,
) -> Result<bool, DbError> {
    let failed = c
        .query_opt(
            "UPDATE console_users SET failed = failed + 1 WHERE name = $1 RETURNING failed",
            &[name.into()],
        )?
        .map(|r| r.int(0))
        .transpose()?;
    match failed {
        Some(f) if f >= max_failures => {
            c.execute(
                "UPDATE console_users SET locked_until = $2, failed = 0 WHERE name = $1",
                &[name.into(), (now + lock_secs).into()],
            )?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Record a successful sign-in with TOTP step `step`; `false` if the step was already
/// used (a replayed code).
pub fn sign_in_succeeded(c: &mut dyn Tx, name: &str, step: i64) -> Result<bool, DbError> {
    let n = c.execute(
        "UPDATE console_users SET failed = 0, locked_until = 0, last_totp_step = $2
         WHERE name = $1 AND last_totp_step < $2",
        &[name.into(), step.into()],
    )?;
    Ok(n == 1)
}

/// Store a session (`token_hash` = hex SHA-256 of the cookie value).
pub fn put_session(
    c: &mut dyn Tx,
    token_hash: &str,
    user: &str,
    csrf: &str,
    expires_at: i64,
) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_sessions WHERE expires_at < $1",
        &[(expires_at - 86_400).into()],
    )?;
    c.execute(
        "INSERT INTO console_sessions (token_hash, username, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        &[token_hash.into(), user.into(), csrf.into(), expires_at.into()],
    )?;
    Ok(())
}

/// The live session's user and CSRF token.
pub fn session(
    c: &mut dyn Tx,
    token_hash: &str,
    now: i64,
) -> Result<Option<(User, String)>, DbError> {
    let row = c.query_opt(
        "SELECT username, csrf FROM console_sessions WHERE token_hash = $1 AND expires_at > $2",
        &[token_hash.into(), now.into()],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (name, csrf) = (row.text(0)?, row.text(1)?);
    Ok(user(c, &name)?.map(|u| (u, csrf)))
}

/// End a session.
pub fn delete_session(c: &mut dyn Tx, token_hash: &str) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_sessions WHERE token_hash = $1",
        &[token_hash.into()],
    )?;
    Ok(())
}

/// Store a draft.
pub fn put_draft(c: &mut dyn Tx, d: &Draft) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM console_drafts WHERE created_at < $1",
        &[(d.created_at - 86_400).into()],
    )?;
    c.execute(
        "INSERT INTO console_drafts (id, username, configuration_id, claims, holder_name, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            (&d.id).into(),
            (&d.user).into(),
            (&d.configuration_id).into(),
            d.claims.to_string().into(),
            (&d.holder_name).into(),
            d.created_at.into(),
        ],
    )?;
    Ok(())
}

/// A draft of `user`'s (read, or removed with `take`).
pub fn draft(c: &mut dyn Tx, id: &str, user: &str, take: bool) -> Result<Option<Draft>, DbError> {
    const COLS: &str = "id, username, configuration_id, claims, holder_name, created_at";
    let sql = if take {
        format!("DELETE FROM console_drafts WHERE id = $1 AND username = $2 RETURNING {COLS}")
    } else {
        format!("SELECT {COLS} FROM console_drafts WHERE id = $1 AND username = $2")
    };
    c.query_opt(&sql, &[id.into(), user.into()])?
        .map(|r| {
            Ok(Draft {
                id: r.text(0)?,
                user: r.text(1)?,
                configuration_id: r.text(2)?,
                claims: serde_json::from_str(&r.text(3)?)
                    .map_err(|e| DbError(format!("stored draft claims: {e}")))?,
                holder_name: r.text(4)?,
                created_at: r.int(5)?,
            })
        })
        .transpose()
}

/// Record a credential offered from the console.
pub fn put_credential(c: &mut dyn Tx, k: &Credential) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO console_credentials (reference, offer_id, configuration_id, link, subject,
             holder_name, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            (&k.reference).into(),
            (&k.offer_id).into(),
            (&k.configuration_id).into(),
            (&k.link).into(),
            (&k.subject).into(),
            (&k.holder_name).into(),
            (&k.created_by).into(),
            k.created_at.into(),
            k.expires_at.into(),
        ],
    )?;
    Ok(())
}

/// A credential by reference.
pub fn credential(c: &mut dyn Tx, reference: &str) -> Result<Option<Credential>, DbError> {
    c.query_opt(
        "SELECT reference, offer_id, configuration_id, link, subject, holder_name, created_by,
                created_at, expires_at, cancelled
         FROM console_credentials WHERE reference = $1",
        &[reference.into()],
    )?
    .map(|r| {
        Ok(Credential {
            reference: r.text(0)?,
            offer_id: r.text(1)?,
            configuration_id: r.text(2)?,
            link: r.text(3)?,
            subject: r.text(4)?,
            holder_name: r.text(5)?,
            created_by: r.text(6)?,
            created_at: r.int(7)?,
            expires_at: r.int(8)?,
            cancelled: r.int(9)? != 0,
        })
    })
    .transpose()
}

/// Mark the offer of `reference` withdrawn.
pub fn cancel(c: &mut dyn Tx, reference: &str) -> Result<(), DbError> {
    c.execute(
        "UPDATE console_credentials SET cancelled = 1 WHERE reference = $1",
        &[reference.into()],
    )?;
    Ok(())
}

/// Append a status change to a credential's history (numbered per credential; two
/// racing appends on PostgreSQL collide on the key and the loser's transaction is run
/// again).
pub fn add_event(c: &mut dyn Tx, reference: &str, e: &Event) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO console_events (reference, seq, at, username, action, reason)
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM console_events WHERE reference = $1),
                 $2, $3, $4, $5)",
        &[
            reference.into(),
            e.at.into(),
            (&e.user).into(),
            (&e.action).into(),
            (&e.reason).into(),
        ],
    )?;
    Ok(())
}

/// A credential's history, oldest first.
pub fn events(c: &mut dyn Tx, reference: &str) -> Result<Vec<Event>, DbError> {
    c.query(
        "SELECT at, username, action, reason FROM console_events WHERE reference = $1 ORDER BY seq",
        &[reference.into()],
    )?
    .iter()
    .map(|r| {
        Ok(Event {
            at: r.int(0)?,
            user: r.text(1)?,
            action: r.text(2)?,
            reason: r.text(3)?,
        })
    })
    .collect()
}
