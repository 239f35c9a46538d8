//! Running the `govcred` binary from the CLI tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// A free loopback port for a server started later (its URL is fixed before it
/// starts). Chosen at random below the kernel's ephemeral range (32768 and up on
/// Linux), so the outgoing connections of tests running in parallel cannot take it
/// between this check and the server's bind, as they could a port the kernel handed out.
pub fn free_port() -> u16 {
    loop {
        let port = 20_000 + rand::random::<u16>() % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `govcred serve --init DIR/iss` for a server on a free loopback port, its state in
/// `db` (PostgreSQL: the `database` line of issuer.toml, which the server and
/// `govcred offer create` both read). Returns the server URL and issuer.toml's path.
pub fn init_issuer(dir: &Path, db: &Database) -> (String, std::path::PathBuf) {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = govcred(&["serve", "--init", s(&dir.join("iss")), "--url", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("iss/issuer.toml");
    if let Some(db_url) = db.url() {
        let text = std::fs::read_to_string(&config).unwrap();
        let text = text.replace(
            "database = \"issuer.db\"",
            &format!("database = \"{db_url}\""),
        );
        assert!(text.contains(db_url), "issuer.toml has no database line");
        std::fs::write(&config, text).unwrap();
    }
    (url, config)
}

/// Run `govcred` with `args`.
pub fn govcred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(args)
        .output()
        .expect("run govcred")
}

/// Run `govcred`, require success, and parse its JSON output.
pub fn ok_json(args: &[&str]) -> Value {
    let out = govcred(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The database a `govcred serve` under test keeps its state in.
pub enum Database {
    /// The default: SQLite files in the test's directories.
    Sqlite,
    /// A fresh PostgreSQL database (`url`) on the server of `GOVCRED_TEST_DATABASE_URL`
    /// (`admin`).
    Postgres { admin: String, url: String },
}

/// Environment variable with the URL of a PostgreSQL server the tests may create
/// databases on (`scripts/pg-test-server start` prints one; `scripts/test-all` sets it).
pub const DATABASE_URL_ENV: &str = "GOVCRED_TEST_DATABASE_URL";

impl Database {
    /// A fresh PostgreSQL database; `None` (with a printed SKIPPED) when no server is
    /// configured, except in CI, where that fails the test.
    pub fn postgres(test: &str) -> Option<Database> {
        match std::env::var(DATABASE_URL_ENV) {
            Ok(admin) if !admin.is_empty() => Some(Database::create(&admin)),
            _ if std::env::var_os("CI").is_some() => {
                panic!("{DATABASE_URL_ENV} is not set: CI runs the PostgreSQL tests (scripts/pg-test-server start)")
            }
            _ => {
                eprintln!("SKIPPED {test} on PostgreSQL: {DATABASE_URL_ENV} is not set (scripts/pg-test-server start prints one)");
                None
            }
        }
    }

    /// Create a new, empty database on the server of `admin` (a URL ending in `/DBNAME`).
    fn create(admin: &str) -> Database {
        let mut client = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("{DATABASE_URL_ENV}={admin}: {e}"));
        let name = format!(
            "govcred_test_{}",
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..16)
                .unwrap_or("x")
        );
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        Database::Postgres {
            admin: admin.to_string(),
            url: with_database(admin, &name),
        }
    }

    /// Another database of the same kind (a second, independent service).
    pub fn fresh(&self) -> Database {
        match self {
            Database::Sqlite => Database::Sqlite,
            Database::Postgres { admin, .. } => Database::create(admin),
        }
    }

    /// The `--database` arguments of `govcred serve` (none for SQLite: the default).
    pub fn args(&self) -> Vec<String> {
        match self {
            Database::Sqlite => Vec::new(),
            Database::Postgres { url, .. } => vec!["--database".into(), url.clone()],
        }
    }

    /// The PostgreSQL URL, if any.
    pub fn url(&self) -> Option<&str> {
        match self {
            Database::Sqlite => None,
            Database::Postgres { url, .. } => Some(url),
        }
    }
}

/// `url` (`…/DBNAME[?PARAMS]`) naming database `name` instead.
pub fn with_database(url: &str, name: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (url, String::new()),
    };
    let (base, _) = path
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{DATABASE_URL_ENV} must end in /DBNAME: {url}"));
    format!("{base}/{name}{query}")
}

/// Run each named test function (`fn name(db: &Database)`) on both databases, as
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&$crate::common::Database::Sqlite)
                }
                #[test]
                fn postgres() {
                    if let Some(db) = $crate::common::Database::postgres(stringify!($name)) {
                        super::$name(&db)
                    }
                }
            }
        )*
    };
}
