//! The state of the `govcred serve` services: one interface over two engines.
//!
//! - **SQLite** (the default, embedded): one file per service, WAL mode with
//!   `synchronous=FULL` (a committed change survives a crash or power loss) and a busy
//!   timeout; one connection behind a mutex serialises writers, which is what SQLite
//!   does anyway, and every transaction is `BEGIN IMMEDIATE`.
//! - **PostgreSQL** (`postgres://…`): for several instances behind a load balancer on
//!   one database. Correctness under concurrency comes from the database alone:
//!   transactions, row locks (`SELECT … FOR UPDATE`, [`Tx::for_update`]),
//!   `UPDATE/DELETE … RETURNING` and unique constraints; a transaction that loses a
//!   race (serialisation failure, deadlock, unique violation) is run again from the
//!   start, so it sees the winner's row.
//!
//! The services write their SQL once, in PostgreSQL's dialect with `$1`-style
//! parameters that SQLite also accepts (as `?1`), against [`Tx`]; both engines apply the
//! same versioned migrations from `issuer-cli/migrations/` ([`STATUS_SERVICE`],
//! [`ISSUER`]), recorded in `schema_migrations`.
//!
//! Driver: the blocking `postgres` client (rust-postgres; `tokio-postgres` underneath,
//! on the tokio the server already uses). The issuer engine's state trait
//! ([`govcred::oid4vci::issuer::IssuerState`]) is synchronous and runs on blocking
//! threads, and `govcred offer create` writes offers outside any runtime, so a blocking
//! client fits both; `sqlx` is async-only, much larger, and its SQLite half would link a
//! second SQLite beside `rusqlite`'s. TLS is rustls (aws-lc-rs, certificates checked
//! against the platform's roots, as reqwest does here), chosen by the URL's `sslmode`:
//! `prefer` (the default: TLS when the server offers it), `require`, or `disable`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, TransactionBehavior};

use crate::CliError;

/// The issuer's migrations (name, SQL), in order.
pub const ISSUER: &[(&str, &str)] = &[(
    "issuer_v1",
    include_str!("../../migrations/0002_issuer.sql"),
)];

/// The status service's migrations (name, SQL), in order.
pub const STATUS_SERVICE: &[(&str, &str)] = &[(
    "status_service_v1",
    include_str!("../../migrations/0001_status_service.sql"),
)];

/// Times a PostgreSQL transaction that lost a race is run again.
const RETRIES: usize = 8;
/// PostgreSQL connections per process (each instance); more callers wait for one.
const MAX_CONNECTIONS: usize = 16;

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

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(d) => DbError(format!("{} ({})", d.message(), d.code().code())),
            None => DbError(with_causes(&e)),
        }
    }
}

/// An error and its causes (the client's errors say what failed, their sources why).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// A parameter or a column value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An integer (`BIGINT`; booleans read as 0/1).
    Int(i64),
    /// Text.
    Text(String),
    /// NULL (a text NULL as a parameter).
    Null,
    /// An integer NULL (parameters only: PostgreSQL checks a parameter's type).
    NullInt,
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::NullInt, Value::Int)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Value::Null, Value::from)
    }
}

/// One result row.
#[derive(Debug)]
pub struct Row(Vec<Value>);

impl Row {
    fn get(&self, i: usize) -> Result<&Value, DbError> {
        self.0
            .get(i)
            .ok_or_else(|| DbError(format!("no column {i} in the result")))
    }

    /// Column `i` as an integer.
    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        match self.get(i)? {
            Value::Int(v) => Ok(*v),
            v => Err(DbError(format!(
                "column {i}: expected an integer, got {v:?}"
            ))),
        }
    }

    /// Column `i` as an integer or NULL.
    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.get(i)? {
            Value::Null | Value::NullInt => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// Column `i` as text, or `None` when it is NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.get(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as text.
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.get(i)? {
            Value::Text(v) => Ok(v.clone()),
            v => Err(DbError(format!("column {i}: expected text, got {v:?}"))),
        }
    }
}

/// Which engine a [`Tx`] runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A transaction, on either engine. SQL uses `$1`-style parameters.
pub trait Tx {
    /// Run a statement; the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Run a query; its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Run several `;`-separated statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// The engine.
    fn engine(&self) -> Engine;

    /// The first row of a query, if any.
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The clause that locks the selected rows until commit (` FOR UPDATE` on
    /// PostgreSQL; nothing on SQLite, where `BEGIN IMMEDIATE` already holds the write lock).
    fn for_update(&self) -> &'static str {
        match self.engine() {
            Engine::Sqlite => "",
            Engine::Postgres => " FOR UPDATE",
        }
    }
}

/// Where the state lives: a `postgres://` / `postgresql://` URL, else a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// The shared database handle (cheap to clone).
#[derive(Clone)]
pub enum Db {
    /// SQLite: one connection.
    Sqlite(Arc<Mutex<Connection>>),
    /// PostgreSQL: a pool of connections.
    Postgres(Arc<PgPool>),
}

impl Db {
    /// Open `location` (a PostgreSQL URL, or a SQLite file created if needed) and
    /// apply `migrations`.
    pub fn open(location: &str, migrations: &[(&str, &str)]) -> Result<Self, CliError> {
        let db = if is_postgres_url(location) {
            Db::Postgres(Arc::new(PgPool::connect(location)?))
        } else {
            Db::Sqlite(Arc::new(Mutex::new(open_sqlite(Path::new(location))?)))
        };
        db.migrate(migrations)?;
        Ok(db)
    }

    /// Apply the migrations not yet recorded, each once, in a transaction. On
    /// PostgreSQL an advisory lock makes instances starting together take turns.
    pub fn migrate(&self, migrations: &[(&str, &str)]) -> Result<(), CliError> {
        let now = govcred::Clock::now(&govcred::SystemClock);
        let r = self.transaction(|tx| {
            if tx.engine() == Engine::Postgres {
                tx.query("SELECT pg_advisory_xact_lock(7236021741)", &[])?;
            }
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                &[],
            )?;
            for (name, sql) in migrations {
                let done = tx
                    .query_opt(
                        "SELECT name FROM schema_migrations WHERE name = $1",
                        &[(*name).into()],
                    )?
                    .is_some();
                if !done {
                    tx.batch(sql)
                        .map_err(|e| DbError(format!("migration {name}: {e}")))?;
                    tx.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)",
                        &[(*name).into(), now.into()],
                    )?;
                }
            }
            Ok(())
        });
        r.map_err(|e| CliError::input(format!("database migrations: {e}")))
    }

    /// Run `f` in a transaction and commit (also when `f`'s own answer is a refusal:
    /// refusals are decided before anything is written). On PostgreSQL a transaction
    /// that lost a race is run again.
    pub fn transaction<T>(
        &self,
        mut f: impl FnMut(&mut dyn Tx) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        match self {
            Db::Sqlite(conn) => {
                let mut conn = conn
                    .lock()
                    .map_err(|_| DbError("database lock poisoned".into()))?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let mut tx = SqliteTx(tx);
                let out = f(&mut tx)?;
                tx.0.commit()?;
                Ok(out)
            }
            Db::Postgres(pool) => {
                let mut attempt = 0;
                loop {
                    let mut client = pool.get()?;
                    let r = (|| {
                        let tx = client.transaction()?;
                        let mut tx = PgTx(tx, None);
                        let out = match f(&mut tx) {
                            Ok(out) => out,
                            Err(e) => return Err(tx.1.take().unwrap_or(PgFailure::Other(e))),
                        };
                        tx.0.commit()?;
                        Ok(out)
                    })();
                    pool.put(client);
                    match r {
                        Ok(out) => return Ok(out),
                        Err(PgFailure::Race(e)) if attempt < RETRIES => {
                            attempt += 1;
                            // Spread the retries out a little.
                            std::thread::sleep(std::time::Duration::from_millis(
                                rand::random::<u64>() % (5 * attempt as u64) + 1,
                            ));
                            drop(e);
                        }
                        Err(PgFailure::Race(e) | PgFailure::Other(e)) => return Err(e),
                    }
                }
            }
        }
    }

    /// Readiness: the database answers a trivial query (on the blocking pool).
    pub async fn ping(&self) -> Result<(), String> {
        self.call(|tx| tx.query("SELECT 1", &[]).map(|_| ()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Run [`Db::transaction`] on tokio's blocking pool, so it never stalls the async
    /// workers.
    pub async fn call<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.transaction(f))
            .await
            .map_err(|e| DbError(format!("database task failed: {e}")))?
    }
}

fn open_sqlite(path: &Path) -> Result<Connection, CliError> {
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
    Ok(conn)
}

struct SqliteTx<'a>(rusqlite::Transaction<'a>);

/// `$1` → `?1` (SQLite's numbered parameters); the services' SQL has no `$` in literals.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Null | Value::NullInt => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        Ok(stmt.execute(rusqlite::params_from_iter(params))? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql))?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(match r.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    other => {
                        return Err(DbError(format!(
                            "column {i}: unexpected {:?}",
                            other.data_type()
                        )))
                    }
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.0.execute_batch(sql)?)
    }

    fn engine(&self) -> Engine {
        Engine::Sqlite
    }
}

/// Why a PostgreSQL transaction failed: a lost race (run it again) or anything else.
enum PgFailure {
    Race(DbError),
    Other(DbError),
}

impl From<postgres::Error> for PgFailure {
    fn from(e: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let race = e.code().is_some_and(|c| {
            [
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::UNIQUE_VIOLATION,
            ]
            .contains(c)
        });
        if race {
            PgFailure::Race(e.into())
        } else {
            PgFailure::Other(e.into())
        }
    }
}

/// A PostgreSQL transaction; remembers the first failure's kind for the retry loop.
struct PgTx<'a>(postgres::Transaction<'a>, Option<PgFailure>);

impl PgTx<'_> {
    fn fail(&mut self, e: postgres::Error) -> DbError {
        let f = PgFailure::from(e);
        let msg = match &f {
            PgFailure::Race(e) | PgFailure::Other(e) => DbError(e.0.clone()),
        };
        self.1.get_or_insert(f);
        msg
    }
}

fn pg_params(params: &[Value]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Value::Int(i) => Box::new(*i),
                Value::Text(t) => Box::new(t.clone()),
                Value::Null => Box::new(None::<String>),
                Value::NullInt => Box::new(None::<i64>),
            }
        })
        .collect()
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, postgres::Error> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    Ok(if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into()))
    } else if ty == Type::VOID {
        Value::Null
    } else {
        row.try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text)
    })
}

impl Tx for PgTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let p = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            p.iter().map(|b| b.as_ref()).collect();
        self.0.execute(sql, &refs).map_err(|e| self.fail(e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let p = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            p.iter().map(|b| b.as_ref()).collect();
        let rows = self.0.query(sql, &refs).map_err(|e| self.fail(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let row = (0..r.len())
                .map(|i| pg_value(r, i))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.fail(e))?;
            out.push(Row(row));
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.0.batch_execute(sql).map_err(|e| self.fail(e))
    }

    fn engine(&self) -> Engine {
        Engine::Postgres
    }
}

/// A small pool of PostgreSQL connections: idle ones are reused, broken ones dropped,
/// new ones opened on demand up to [`MAX_CONNECTIONS`] per process (then callers wait).
pub struct PgPool {
    config: postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    state: Mutex<PoolState>,
    freed: std::sync::Condvar,
}

struct PoolState {
    idle: Vec<postgres::Client>,
    /// Connections open (idle or in use).
    open: usize,
}

impl PgPool {
    /// Check the URL and open a first connection (so a wrong URL fails at start).
    fn connect(url: &str) -> Result<Self, CliError> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e| CliError::input(format!("bad PostgreSQL URL: {}", with_causes(&e))))?;
        let tls = tls_connector()?;
        let first = config.connect(tls.clone()).map_err(|e| {
            CliError::input(format!(
                "cannot connect to PostgreSQL: {}",
                DbError::from(e)
            ))
        })?;
        Ok(PgPool {
            config,
            tls,
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: std::sync::Condvar::new(),
        })
    }

    fn open(&self) -> Result<postgres::Client, DbError> {
        Ok(self.config.connect(self.tls.clone())?)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, PoolState>, DbError> {
        self.state
            .lock()
            .map_err(|_| DbError("connection pool lock poisoned".into()))
    }

    /// An idle connection, a new one, or (at the limit) the next one given back.
    fn get(&self) -> Result<postgres::Client, DbError> {
        let mut st = self.lock()?;
        loop {
            while let Some(c) = st.idle.pop() {
                if !c.is_closed() {
                    return Ok(c);
                }
                st.open -= 1;
            }
            if st.open < MAX_CONNECTIONS {
                st.open += 1;
                drop(st);
                return self.open().inspect_err(|_| {
                    if let Ok(mut st) = self.lock() {
                        st.open -= 1;
                    }
                    self.freed.notify_one();
                });
            }
            st = self
                .freed
                .wait(st)
                .map_err(|_| DbError("connection pool lock poisoned".into()))?;
        }
    }

    /// Give a connection back (dropped if broken).
    fn put(&self, client: postgres::Client) {
        if let Ok(mut st) = self.lock() {
            if client.is_closed() {
                st.open -= 1;
            } else {
                st.idle.push(client);
            }
        }
        self.freed.notify_one();
    }
}

/// rustls with aws-lc-rs and the platform's certificate verifier.
fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect, CliError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let err = |e: rustls::Error| CliError::input(format!("cannot set up TLS for PostgreSQL: {e}"));
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(err)?
    .with_platform_verifier()
    .map_err(err)?
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Drop for PgPool {
    /// Close the idle connections on a plain thread: the blocking client runs its own
    /// small runtime to close, which may not start on an async worker (the pool is
    /// dropped when the server stops, inside the server's runtime).
    fn drop(&mut self) {
        let idle = match self.state.get_mut() {
            Ok(st) => std::mem::take(&mut st.idle),
            Err(_) => return,
        };
        if !idle.is_empty() {
            std::thread::spawn(move || drop(idle)).join().ok();
        }
    }
}
