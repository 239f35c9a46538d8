//! `govcred serve`: the HTTP listener and shutdown. The OpenID4VCI issuer's router
//! lives in [`issuer`] and does not depend on this module.

pub mod issuer;
pub mod issuer_db;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::{CliError, CliResult};

#[derive(Args)]
pub struct ServeArgs {
    /// Write a working configuration with fresh keys into DIR (then exit).
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    init: Option<PathBuf>,
    /// The public URL of the issuer written by --init.
    #[arg(long, default_value = "http://127.0.0.1:8080", requires = "init")]
    url: String,
    /// The issuer configuration (`issuer.toml`).
    #[arg(long, required_unless_present = "init")]
    config: Option<PathBuf>,
    /// Address to listen on (default: the configuration's `listen`, loopback).
    #[arg(long)]
    listen: Option<String>,
}

pub fn run(a: ServeArgs) -> CliResult {
    if let Some(dir) = a.init {
        let path = issuer::init(&dir, &a.url)?;
        println!("{}", path.display());
        eprintln!(
            "govcred: wrote {}; start it with `govcred serve --config {}`",
            path.display(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let config = a
        .config
        .ok_or_else(|| CliError::input("--config or --init is required"))?;
    let (cfg, engine, state) = issuer::load(&config)?;
    let (issued, _, notified) = state.counts()?;
    eprintln!("govcred: {issued} credentials issued so far, {notified} notifications");
    let listen = a.listen.unwrap_or(cfg.listen);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::input(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| CliError::input(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::input(e.to_string()))?;
        eprintln!(
            "govcred: issuer {} listening on http://{addr}",
            engine.config().credential_issuer
        );
        axum::serve(listener, issuer::router(engine))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| CliError::input(format!("server: {e}")))
    })?;
    Ok(ExitCode::SUCCESS)
}
