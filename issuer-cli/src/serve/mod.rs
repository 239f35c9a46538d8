//! `govcred serve`: the HTTP services, on one listener.
//!
//! Each service is a module that contributes an [`axum::Router`]; this module parses
//! the shared flags, composes the routers, binds the listener (loopback by default),
//! prints where it listens as one JSON line on standard output, and shuts down
//! gracefully on Ctrl-C or SIGTERM (in-flight requests finish; every state change is
//! already committed to the database before its response is sent).
//!
//! Services (one per process: their well-known paths overlap):
//! - `--config ISSUER.toml`: the OpenID4VCI issuer ([`issuer`]); `--init DIR` writes a
//!   working configuration with fresh keys first.
//! - `--console` (with `--config`): the staff console at `/console` ([`console`]).
//! - `--status-service --data DIR`: the central Status List Service ([`status_service`]).
//!
//! State ([`db`]): SQLite by default; `--database postgres://…` (or a `postgres://`
//! `database` in `issuer.toml`) puts it in PostgreSQL, so several instances can serve
//! behind a load balancer.
//! Every service also answers `/healthz`, `/readyz` and `/metrics` and logs each
//! request ([`ops`]); with `--publish TARGET` it publishes its public documents for
//! static hosting or a CDN ([`publishing`]), at start and every `--publish-interval`.

pub mod console;
pub mod db;
pub mod issuer;
pub mod issuer_db;
pub mod ops;
pub mod publishing;
pub mod status_service;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use serde_json::json;

use crate::{CliError, CliResult};

/// Where a service listens unless told otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Args)]
pub struct ServeArgs {
    /// Write a working issuer configuration with fresh keys into DIR (then exit).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "status_service"])]
    init: Option<PathBuf>,
    /// The public URL of the issuer written by --init.
    #[arg(long, default_value = "http://127.0.0.1:8080", requires = "init")]
    url: String,
    /// Run the OpenID4VCI issuer with this configuration (`issuer.toml`).
    #[arg(long, value_name = "ISSUER.toml", conflicts_with = "status_service")]
    config: Option<PathBuf>,
    /// Run the central Status List Service (GOV.UK CRS API: /issue, /revoke, /t/{id}, /b/{id}).
    #[arg(long, requires = "data")]
    status_service: bool,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    /// Default: the issuer configuration's `listen`, else 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// State directory of the status service (SQLite database, signing key).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Where the service keeps its state: a SQLite file (the default: DATA/status.sqlite3
    /// for the status service, the issuer configuration's `database`), or a
    /// `postgres://user@host/db` URL shared by several instances.
    #[arg(long, value_name = "FILE|URL", conflicts_with = "init")]
    database: Option<String>,
    #[command(flatten)]
    status: status_service::StatusServiceArgs,
    /// Log format on standard error (level from GOVCRED_LOG, default info).
    #[arg(long, value_enum, default_value = "text")]
    log_format: ops::LogFormat,
    /// Publish the service's public documents (metadata, did.json, jwks.json, IACAs,
    /// status lists) to a directory or to `s3://BUCKET/PREFIX` (AWS_* environment),
    /// at start and then every --publish-interval.
    #[arg(long, value_name = "TARGET", conflicts_with = "init")]
    publish: Option<String>,
    /// Seconds between publications while serving.
    #[arg(long, default_value_t = 60, requires = "publish")]
    publish_interval: u64,
    /// Publish once, print what was published, and exit (for a scheduled job).
    #[arg(long, requires = "publish")]
    publish_once: bool,
    /// `Cache-Control: max-age` of published documents other than status lists (those
    /// use their list's `ttl`).
    #[arg(long, default_value_t = 300, requires = "publish")]
    publish_max_age: i64,
    #[command(flatten)]
    console: console::ConsoleArgs,
}

pub fn run(a: ServeArgs) -> CliResult {
    if let Some(dir) = &a.init {
        let path = issuer::init(dir, &a.url)?;
        println!("{}", path.display());
        eprintln!(
            "govcred: wrote {}; start it with `govcred serve --config {}`",
            path.display(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Bind and load the services before the runtime starts: loading may fetch
    // registered JWKS URLs with a blocking client.
    let bind = |listen: &str| -> Result<std::net::TcpListener, CliError> {
        let l = std::net::TcpListener::bind(listen)
            .map_err(|e| CliError::input(format!("cannot listen on {listen}: {e}")))?;
        l.set_nonblocking(true)
            .map_err(|e| CliError::input(format!("cannot configure the listener: {e}")))?;
        Ok(l)
    };
    ops::init_logging(a.log_format)?;
    if a.publish_interval == 0 || a.publish_max_age < 0 {
        return Err(CliError::input(
            "--publish-interval must be positive and --publish-max-age not negative",
        ));
    }
    let (listener, router, mut announce, ready, source) = if let Some(config) = &a.config {
        let (cfg, engine, state) = issuer::load(config, a.database.as_deref())?;
        let (issued, _, notified) = state.counts()?;
        tracing::info!(issued, notified, "credentials issued so far, notifications");
        let listener = bind(a.listen.as_deref().unwrap_or(&cfg.listen))?;
        let mut announce = json!({"issuer": engine.config().credential_issuer});
        let db = state.db().clone();
        let ready: ops::ReadyCheck = Arc::new(move || {
            let db = db.clone();
            Box::pin(async move { db.ping().await })
        });
        let store = cfg
            .status_store
            .as_ref()
            .map(|s| issuer::read_config(config).map(|(_, dir)| dir.join(s)))
            .transpose()?;
        let source = publishing::Source::issuer(
            &engine.config().credential_issuer,
            cfg.authorization_server.is_some(),
            store,
        );
        let mut router = issuer::router(engine.clone());
        if a.console.console {
            let c = console::Console::open(config, engine, state, &a.console)?;
            router = console::router(c).merge(router);
            announce["console"] = format!(
                "{}/console",
                announce["issuer"].as_str().unwrap_or_default()
            )
            .into();
        }
        (listener, router, announce, ready, source)
    } else if a.status_service {
        let data = a
            .data
            .as_ref()
            .ok_or_else(|| CliError::input("--data DIR is required"))?;
        std::fs::create_dir_all(data)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", data.display())))?;
        let listener = bind(a.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
        let bound = local_addr(&listener)?;
        let service =
            status_service::StatusService::open(data, a.database.as_deref(), &a.status, bound)?;
        let announce = json!({"status_service": {
            "public_url": service.public_url(),
            "jwks": format!("{}/.well-known/jwks.json", service.public_url()),
            "clients": service.client_count(),
        }});
        let probe = service.clone();
        let ready: ops::ReadyCheck = Arc::new(move || {
            let s = probe.clone();
            Box::pin(async move { s.ready().await })
        });
        let source = publishing::Source::StatusService(service.clone());
        (
            listener,
            status_service::router(service),
            announce,
            ready,
            source,
        )
    } else {
        return Err(CliError::input(
            "nothing to serve: pass --config ISSUER.toml (OpenID4VCI issuer; --init DIR writes one) or --status-service --data DIR",
        ));
    };
    announce["listening"] = local_addr(&listener)?.to_string().into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::input(format!("cannot start the async runtime: {e}")))?;
    let metrics = Arc::new(ops::Metrics::new());
    let publisher = match &a.publish {
        Some(t) => Some(publishing::Publishing::new(
            router.clone(),
            source,
            Arc::from(crate::publish::target(t)?),
            a.publish_max_age,
        )),
        None => None,
    };
    if a.publish_once {
        let Some(p) = publisher else {
            return Err(CliError::input("--publish-once needs --publish TARGET"));
        };
        let summary = runtime.block_on(p.run_once())?;
        crate::files::print_json(&summary);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(p) = publisher {
        let every = std::time::Duration::from_secs(a.publish_interval);
        runtime.spawn(publish_loop(p, every, metrics.clone()));
    }
    let router = ops::wrap(router, metrics, ready);
    runtime.block_on(serve(listener, router, announce))
}

/// Publish at start and then every `every`; failures are logged and counted, and
/// retried at the next tick.
async fn publish_loop(p: publishing::Publishing, every: std::time::Duration, m: Arc<ops::Metrics>) {
    use govcred::Clock;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = std::time::Instant::now();
        let result = p.run_once().await;
        let now = govcred::SystemClock.now();
        match result {
            Ok(summary) => {
                let documents = summary["published"].as_array().map_or(0, Vec::len);
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(target: "govcred::publish", target_location = %p.target(), documents, ms, "published");
                m.published(true, now);
            }
            Err(e) => {
                tracing::error!(target: "govcred::publish", target_location = %p.target(), error = %e.message, "publication failed");
                m.published(false, now);
            }
        }
    }
}

fn local_addr(l: &std::net::TcpListener) -> Result<std::net::SocketAddr, CliError> {
    l.local_addr()
        .map_err(|e| CliError::input(format!("cannot read the bound address: {e}")))
}

async fn serve(
    listener: std::net::TcpListener,
    router: axum::Router,
    announce: serde_json::Value,
) -> CliResult {
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| CliError::input(format!("cannot use the listener: {e}")))?;
    // One line, flushed: tests and supervisors read the port from it.
    println!("{announce}");
    use std::io::Write;
    std::io::stdout().flush().ok();
    // The peer address is kept for handlers that limit per client (console sign-in).
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| CliError::input(format!("server error: {e}")))?;
    tracing::info!("stopped: in-flight requests finished");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
