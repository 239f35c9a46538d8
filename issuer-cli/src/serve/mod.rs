//! `govcred serve`: the HTTP services, on one listener.
//!
//! Each service is a module that contributes an [`axum::Router`]; this module parses
//! the shared flags, composes the routers, binds the listener (loopback by default),
//! prints where it listens as one JSON line on standard output, and shuts down
//! gracefully on Ctrl-C or SIGTERM (in-flight requests finish; every state change is
//! already committed to SQLite before its response is sent).
//!
//! Services (one per process: their well-known paths overlap):
//! - `--config ISSUER.toml`: the OpenID4VCI issuer ([`issuer`]); `--init DIR` writes a
//!   working configuration with fresh keys first.
//! - `--console` (with `--config`): the staff console at `/console` ([`console`]).
//! - `--status-service --data DIR`: the central Status List Service ([`status_service`]).

pub mod console;
pub mod db;
pub mod issuer;
pub mod issuer_db;
pub mod status_service;

use std::path::PathBuf;
use std::process::ExitCode;

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
    #[command(flatten)]
    status: status_service::StatusServiceArgs,
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
    let (listener, router, mut announce) = if let Some(config) = &a.config {
        let (cfg, engine, state) = issuer::load(config)?;
        let (issued, _, notified) = state.counts()?;
        eprintln!("govcred: {issued} credentials issued so far, {notified} notifications");
        let listener = bind(a.listen.as_deref().unwrap_or(&cfg.listen))?;
        let mut announce = json!({"issuer": engine.config().credential_issuer});
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
        (listener, router, announce)
    } else if a.status_service {
        let data = a
            .data
            .as_ref()
            .ok_or_else(|| CliError::input("--data DIR is required"))?;
        std::fs::create_dir_all(data)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", data.display())))?;
        let listener = bind(a.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
        let bound = local_addr(&listener)?;
        let service = status_service::StatusService::open(data, &a.status, bound)?;
        let announce = json!({"status_service": {
            "public_url": service.public_url(),
            "jwks": format!("{}/.well-known/jwks.json", service.public_url()),
            "clients": service.client_count(),
        }});
        (listener, status_service::router(service), announce)
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
    runtime.block_on(serve(listener, router, announce))
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
    eprintln!("govcred serve: stopped");
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
