//! `govcred serve`: the HTTP services, on one listener.
//!
//! Each service is a module that contributes an [`axum::Router`]; this module parses
//! the shared flags, composes the routers, binds the listener (loopback by default),
//! prints where it listens as one JSON line on standard output, and shuts down
//! gracefully on Ctrl-C or SIGTERM (in-flight requests finish; every state change is
//! already committed to SQLite before its response is sent).
//!
//! Services:
//! - `--status-service`: the central Status List Service ([`status_service`]).
//! - `--config ISSUER.toml`: reserved for the OpenID4VCI issuer (not yet available).

pub mod db;
pub mod status_service;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::{CliError, CliResult};

#[derive(Args)]
pub struct ServeArgs {
    /// Run the central Status List Service (GOV.UK CRS API: /issue, /revoke, /t/{id}, /b/{id}).
    #[arg(long)]
    status_service: bool,
    /// Issuer configuration (the OpenID4VCI issuer server; not available yet).
    #[arg(long, value_name = "ISSUER.toml")]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// State directory (SQLite database, service signing key).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    #[command(flatten)]
    status: status_service::StatusServiceArgs,
}

pub fn run(a: ServeArgs) -> CliResult {
    if a.config.is_some() {
        return Err(CliError::input(
            "--config (the OpenID4VCI issuer server) is not available yet; use --status-service",
        ));
    }
    if !a.status_service {
        return Err(CliError::input(
            "nothing to serve: pass --status-service (or, later, --config ISSUER.toml)",
        ));
    }
    std::fs::create_dir_all(&a.data)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", a.data.display())))?;
    // Bind and load the services before the runtime starts: loading may fetch
    // registered JWKS URLs with a blocking client.
    let listener = std::net::TcpListener::bind(a.listen)
        .map_err(|e| CliError::input(format!("cannot listen on {}: {e}", a.listen)))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| CliError::input(format!("cannot configure the listener: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::input(format!("cannot read the bound address: {e}")))?;
    let mut router = axum::Router::new();
    let mut announce = json!({"listening": bound.to_string()});
    if a.status_service {
        let service = status_service::StatusService::open(&a.data, &a.status, bound)?;
        announce["status_service"] = json!({
            "public_url": service.public_url(),
            "jwks": format!("{}/.well-known/jwks.json", service.public_url()),
            "clients": service.client_count(),
        });
        router = router.merge(status_service::router(service));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::input(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(serve(listener, router, announce))
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
    axum::serve(listener, router)
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
