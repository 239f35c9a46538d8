//! SQLite state shared by the `govcred serve` services.
//!
//! One database file per data directory, opened in WAL mode with `synchronous=FULL`
//! (a committed change survives a crash or power loss) and a busy timeout. Each
//! service applies its own schema with [`Db::migrate`]. Queries run on tokio's
//! blocking pool ([`Db::call`]) so they never stall the async workers; one connection
//! behind a mutex serialises writers, which is what SQLite does anyway.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::CliError;

/// A database failure (logged by the caller; clients see a generic 500).
#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

/// The shared database handle (cheap to clone).
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Open (creating if needed) `path` with the durability settings above.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let err = |e: rusqlite::Error| {
            CliError::input(format!("cannot open database {}: {e}", path.display()))
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 name TEXT PRIMARY KEY,
                 applied_at INTEGER NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Apply the migration `name` (SQL `sql`) once, in a transaction.
    pub fn migrate(&self, name: &str, sql: &str) -> Result<(), CliError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| CliError::input("database lock poisoned"))?;
        let err = |e: rusqlite::Error| CliError::input(format!("migration {name}: {e}"));
        let tx = conn.transaction().map_err(err)?;
        let done: bool = tx
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )
            .map_err(err)?;
        if !done {
            tx.execute_batch(sql).map_err(err)?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, strftime('%s','now'))",
                [name],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Run `f` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, DbError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| DbError("database lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| DbError(format!("database task failed: {e}")))?
    }
}
