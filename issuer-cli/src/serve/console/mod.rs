//! The staff console of `govcred serve --config ISSUER.toml --console`: GOV.UK Design
//! System pages, server-rendered (no JavaScript needed), for issuing one credential at
//! the counter and printing its offer letter, finding a credential by reference and
//! revoking, suspending or reinstating it.
//!
//! - Accounts are local ([`auth`]): argon2id password + TOTP code, made with
//!   `govcred console add-user`. OpenID Connect sign-in is not built in: with
//!   `--console-proxy-header`, an authenticating reverse proxy on the same host (which
//!   speaks OpenID Connect to One Login or the department's provider) names the person
//!   and `/console/sign-in/proxy` opens a session for that local account.
//! - Sessions are random tokens in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure`
//!   unless `--console-insecure-cookies` for plain-HTTP loopback tests), stored hashed.
//!   Every form carries a CSRF token (the session's; before sign-in a double-submit
//!   cookie). Five failed sign-ins lock an account for 15 minutes; one client address
//!   may try 20 sign-ins per 5 minutes.
//! - Every page checks the role ([`auth::Permission`]); every action is appended to the
//!   hash-chained audit log ([`crate::audit`]) with the staff member and the credential
//!   reference, never personal data. URLs carry references only.
//! - `/verify` ([`verify_page`]) is public: a manual check of a pasted or uploaded
//!   credential against this issuer's keys and status lists.
//! - A JSON API for case systems ([`api`], `/console/api/…`, described at
//!   `/openapi.json`): bearer tokens from `govcred console add-token`, or the session.
//! - Templates are askama files under `issuer-cli/templates/console/`, compiled and
//!   escaped at build time. The GOV.UK Frontend CSS and fonts are served from
//!   `--console-assets DIR` (vendored by `scripts/vendor-govuk-frontend`); without
//!   them the pages are plain, still usable HTML.

mod api;
pub mod auth;
mod batch_page;
mod pages;
pub mod store;
mod verify_page;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use clap::{Args, Subcommand};
use govcred::oid4vci::issuer::Issuer;
use govcred::{Clock, SystemClock};
use serde_json::{json, Value};

use super::db::Db;
use super::issuer_db::DbState;
use crate::{files, CliError, CliResult};
use auth::Role;

/// Failed sign-ins before an account is locked.
pub const MAX_FAILURES: i64 = 5;
/// How long a locked account stays locked, seconds.
pub const LOCK_SECS: i64 = 15 * 60;
/// Sign-in attempts one client address may make per [`CLIENT_WINDOW_SECS`].
pub const CLIENT_ATTEMPTS: u32 = 20;
/// The window of [`CLIENT_ATTEMPTS`], seconds.
pub const CLIENT_WINDOW_SECS: i64 = 300;
/// Session lifetime, seconds (a working day).
pub const SESSION_SECS: i64 = 8 * 3600;
/// Largest portrait accepted, bytes.
pub const MAX_PORTRAIT: usize = 100 * 1024;

/// `govcred serve` flags for the console.
#[derive(Args, Clone, Default)]
pub struct ConsoleArgs {
    /// Serve the staff console at /console (with --config).
    #[arg(long, requires = "config")]
    pub console: bool,
    /// The GOV.UK Frontend files (govuk-frontend.min.css, assets/) to serve at /assets.
    #[arg(long, value_name = "DIR", requires = "console")]
    pub console_assets: Option<PathBuf>,
    /// Send session cookies without `Secure` (plain-HTTP loopback testing only).
    #[arg(long, requires = "console")]
    pub console_insecure_cookies: bool,
    /// Single sign-on through an authenticating reverse proxy on the same host: the
    /// header in which it names the signed-in account (honoured from loopback peers
    /// only, at /console/sign-in/proxy; the account must exist locally).
    #[arg(long, value_name = "HEADER", requires = "console")]
    pub console_proxy_header: Option<String>,
    /// The DCQL query the /verify page asks wallets (JSON file). Default: the first SD-JWT
    /// VC configuration's first example claim.
    #[arg(long, value_name = "FILE", requires = "console")]
    pub verify_query: Option<PathBuf>,
    /// The console's audit log (default: console-audit.jsonl beside issuer.toml).
    #[arg(long, value_name = "FILE", requires = "console")]
    pub console_audit_log: Option<PathBuf>,
    /// A signed trust bundle (`govcred trust build`) the /verify page checks against,
    /// offline (its keys, IACA roots and status lists), instead of this issuer's own
    /// trust. Checked at start: an expired or wrongly signed bundle is refused.
    #[arg(long, value_name = "BUNDLE", requires = "console")]
    pub verify_trust: Option<PathBuf>,
    /// The pinned public key (JWK) of the --verify-trust bundle's signer (repeatable).
    #[arg(long, value_name = "PUB.jwk", requires = "verify_trust")]
    pub verify_trust_key: Vec<PathBuf>,
}

/// Everything the console's handlers share.
pub struct Console {
    db: Db,
    engine: Arc<Issuer>,
    state: Arc<DbState>,
    /// Credential configuration ids, sorted.
    configurations: Vec<String>,
    /// Formats by configuration id.
    formats: std::collections::BTreeMap<String, String>,
    /// Example claims by configuration id (`claims/ID.json`): the form's shape.
    templates: std::collections::BTreeMap<String, Value>,
    status_store: Option<PathBuf>,
    assets: Option<PathBuf>,
    secure_cookies: bool,
    audit_log: PathBuf,
    /// The /verify page's DCQL query, if any.
    query: Option<Value>,
    /// Open OpenID4VP requests of the /verify page, by id (in memory: a restart drops
    /// requests in flight, which the person simply starts again).
    vp_sessions: std::sync::Mutex<std::collections::HashMap<String, verify_page::VpSession>>,
    /// The single sign-on proxy's header, if enabled.
    proxy_header: Option<axum::http::HeaderName>,
    /// The trust bundle the /verify page checks against (`--verify-trust`), and its
    /// file name; `None`: this issuer's own trust.
    verify_bundle: Option<(String, govcred::trust_bundle::LoadedBundle)>,
    /// Sign-in attempts per client address: (window start, attempts).
    attempts: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (i64, u32)>>,
    /// What the batch page needs to write a batch template.
    batch: BatchSetup,
    /// The batch page's jobs of this run, by random id.
    batch_jobs: std::sync::Mutex<std::collections::HashMap<String, batch_page::Job>>,
}

/// The issuer's settings a console batch job's template is made from.
struct BatchSetup {
    /// Where jobs go: `console-batches/` beside `issuer.toml`.
    dir: PathBuf,
    issuer: String,
    /// The issuer's signing key file, and its kid under the issuer's did:web.
    key: PathBuf,
    kid: String,
    /// Per configuration: the batch template's `type` or `vct`, and validity in days.
    configurations: std::collections::BTreeMap<String, (String, u32)>,
}

/// Shared console state.
pub type Shared = Arc<Console>;

/// Open the console's database (the issuer's: its `database`, SQLite or PostgreSQL)
/// and apply the console's migrations — for the `govcred console` commands, which run
/// without the server.
fn open_db(config: &Path) -> Result<(super::issuer::IssuerToml, PathBuf, Db), CliError> {
    let (cfg, dir) = super::issuer::read_config(config)?;
    let db = Db::open(&super::issuer::database_location(&cfg, &dir), &[])?;
    store::migrate(&db)?;
    Ok((cfg, dir, db))
}

impl Console {
    /// The console for the issuer configured by `config`, whose engine is `engine`.
    pub fn open(
        config: &Path,
        engine: Arc<Issuer>,
        state: Arc<DbState>,
        args: &ConsoleArgs,
    ) -> Result<Shared, CliError> {
        let (cfg, dir) = super::issuer::read_config(config)?;
        // The issuer's own connection (pool): the console's tables live beside its tables.
        let db = state.db().clone();
        store::migrate(&db)?;
        let mut templates = std::collections::BTreeMap::new();
        for id in cfg.configurations.keys() {
            let p = dir.join(format!("claims/{id}.json"));
            if p.exists() {
                templates.insert(id.clone(), files::read_json(&p)?);
            }
        }
        let assets = args
            .console_assets
            .clone()
            .filter(|d| d.join("govuk-frontend.min.css").is_file());
        if args.console_assets.is_some() && assets.is_none() {
            eprintln!("govcred: --console-assets has no govuk-frontend.min.css: serving plain HTML (run scripts/vendor-govuk-frontend)");
        }
        let query = match &args.verify_query {
            Some(p) => {
                let q = files::read_json(p)?;
                govcred::oid4vp::dcql::DcqlQuery::from_json(&q)
                    .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
                Some(q)
            }
            None => cfg.configurations.iter().find_map(|(id, k)| {
                let vct = k.vct.as_ref().filter(|_| {
                    k.format == govcred::oid4vci::FORMAT_SD_JWT_VC || k.format == "vc+sd-jwt"
                })?;
                let claim = templates.get(id)?.as_object()?.keys().next()?.clone();
                Some(
                    json!({"credentials": [{"id": "credential", "format": k.format,
                    "meta": {"vct_values": [vct]}, "claims": [{"path": [claim]}]}]}),
                )
            }),
        };
        let proxy_header = match &args.console_proxy_header {
            Some(h) => Some(axum::http::HeaderName::try_from(h.as_str()).map_err(|_| {
                CliError::input(format!("--console-proxy-header {h:?} is not a header name"))
            })?),
            None => None,
        };
        let verify_bundle = match &args.verify_trust {
            Some(path) => {
                let loaded = crate::trust::load(
                    path,
                    &args.verify_trust_key,
                    govcred::Clock::now(&govcred::SystemClock),
                    govcred::verifier::DEFAULT_LEEWAY_SECS,
                )
                .map_err(|e| CliError::input(format!("--verify-trust: {}", e.message)))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| path.display().to_string());
                Some((name, loaded))
            }
            None => None,
        };
        let key = if cfg.issuer_key.is_absolute() {
            cfg.issuer_key.clone()
        } else {
            dir.join(&cfg.issuer_key)
        };
        // Signed as the engine signs: under the issuer's did:web, so the credentials check
        // against its published did.json.
        let issuer = govcred::oid4vci::issuer_did(&cfg.credential_issuer)?;
        let kid = format!(
            "{issuer}#{}",
            govcred::did::web::key_id(files::read_signing_key(&key)?.verifying_key())
        );
        let batch = BatchSetup {
            dir: dir.join("console-batches"),
            issuer,
            key,
            kid,
            configurations: cfg
                .configurations
                .iter()
                .map(|(id, k)| {
                    let kind = k.vct.clone().or_else(|| k.credential_type.clone());
                    (
                        id.clone(),
                        (kind.unwrap_or_else(|| id.clone()), k.validity_days),
                    )
                })
                .collect(),
        };
        Ok(Arc::new(Console {
            proxy_header,
            verify_bundle,
            batch,
            batch_jobs: Default::default(),
            query,
            vp_sessions: Default::default(),
            attempts: Default::default(),
            db,
            engine,
            state,
            configurations: cfg.configurations.keys().cloned().collect(),
            formats: cfg
                .configurations
                .iter()
                .map(|(k, v)| (k.clone(), v.format.clone()))
                .collect(),
            templates,
            status_store: cfg.status_store.as_ref().map(|s| dir.join(s)),
            assets,
            secure_cookies: !args.console_insecure_cookies,
            audit_log: args
                .console_audit_log
                .clone()
                .unwrap_or_else(|| dir.join("console-audit.jsonl")),
        }))
    }

    /// Append `action` to the audit log (on the blocking pool: the log is a locked file).
    async fn audit(&self, action: &'static str, details: Value) -> Result<(), pages::Fail> {
        let path = self.audit_log.clone();
        tokio::task::spawn_blocking(move || crate::audit::record(Some(&path), action, details))
            .await
            .map_err(|_| pages::Fail::Internal)?
            .map_err(|e| {
                eprintln!("govcred console: audit log: {}", e.message);
                pages::Fail::Internal
            })
    }

    fn session_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-govcred-session"
        } else {
            "govcred-session"
        }
    }

    fn signin_cookie(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-govcred-signin"
        } else {
            "govcred-signin"
        }
    }

    /// A `Set-Cookie` value.
    fn cookie(&self, name: &str, value: &str, max_age: i64) -> HeaderValue {
        let secure = if self.secure_cookies { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The value of cookie `name` in `headers`.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The console's routes (mounted beside the issuer's).
pub fn router(console: Shared) -> Router {
    use axum::handler::Handler;
    let limited = axum::middleware::from_fn_with_state(console.clone(), limit_sign_in);
    Router::new()
        .route("/console", get(pages::home))
        .route(
            "/console/sign-in",
            get(pages::sign_in_page).post(pages::sign_in.layer(limited)),
        )
        .route("/console/sign-in/proxy", get(pages::sign_in_proxy))
        .route("/console/sign-out", post(pages::sign_out))
        .route("/console/issue", get(pages::issue_choose))
        .route(
            "/console/batch",
            get(batch_page::page).post(batch_page::submit),
        )
        .route("/console/batch/{id}", get(batch_page::job))
        .route(
            "/console/batch/{id}/errors.csv",
            get(batch_page::errors_csv),
        )
        .route(
            "/console/issue/{configuration}",
            get(pages::issue_form).post(pages::issue_submit),
        )
        .route("/console/drafts/{id}", post(pages::draft_confirm))
        .route("/console/credentials", get(pages::search))
        .route("/console/credentials/{reference}", get(pages::credential))
        .route(
            "/console/credentials/{reference}/letter",
            get(pages::letter),
        )
        .route(
            "/console/credentials/{reference}/status",
            post(pages::change_status),
        )
        .route("/console/letter.css", get(pages::letter_css))
        .route("/verify", get(verify_page::page).post(verify_page::submit))
        .route("/verify/request", post(verify_page::start))
        .route("/verify/sessions/{id}", get(verify_page::session))
        .route("/verify/response/{id}", post(verify_page::response))
        .route("/openapi.json", get(api::openapi))
        .route("/console/api/credentials", post(api::issue))
        .route(
            "/console/api/credentials/{reference}",
            get(api::get_credential),
        )
        .route(
            "/console/api/credentials/{reference}/status",
            post(api::change_status),
        )
        .route("/assets/{*path}", get(assets))
        .layer(axum::extract::DefaultBodyLimit::max(
            MAX_PORTRAIT + 64 * 1024,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(console)
}

/// At most [`CLIENT_ATTEMPTS`] sign-in attempts per client address per
/// [`CLIENT_WINDOW_SECS`] (on top of the per-account lockout): a 429 page after that.
async fn limit_sign_in(State(c): State<Shared>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip());
    if let Some(ip) = ip {
        let now = SystemClock.now();
        let over = match c.attempts.lock() {
            Ok(mut all) => {
                if all.len() > 100_000 {
                    all.retain(|_, (start, _)| now - *start < CLIENT_WINDOW_SECS);
                }
                let e = all.entry(ip).or_insert((now, 0));
                if now - e.0 >= CLIENT_WINDOW_SECS {
                    *e = (now, 0);
                }
                e.1 += 1;
                e.1 > CLIENT_ATTEMPTS
            }
            Err(_) => false,
        };
        if over {
            let mut r = pages::too_many(&c);
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(CLIENT_WINDOW_SECS as u64),
            );
            return r;
        }
    }
    next.run(req).await
}

/// Headers on every console response: no caching of pages with personal data, a
/// strict content security policy (no inline script or style), no framing, no referrer.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// GOV.UK Frontend files from `--console-assets` (404 when absent).
async fn assets(
    State(c): State<Shared>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Response {
    let Some(root) = &c.assets else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\\'))
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    let file = root.join(&path);
    let read = tokio::task::spawn_blocking({
        let file = file.clone();
        move || std::fs::read(file)
    });
    let Ok(Ok(bytes)) = read.await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match file.extension().and_then(|e| e.to_str()) {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Subcommand)]
pub enum ConsoleCommand {
    /// Create a staff account; prints its TOTP secret and otpauth:// URI (once).
    AddUser(AddUserArgs),
    /// Make an API bearer token acting as an account (printed once; stored hashed).
    AddToken(AddTokenArgs),
    /// Print the current TOTP code of an account (for testing and recovery by an admin
    /// with access to the server's database).
    Totp(TotpArgs),
}

#[derive(Args)]
pub struct AddUserArgs {
    /// The issuer configuration (`issuer.toml`) whose database holds the accounts.
    #[arg(long)]
    config: PathBuf,
    /// The account name.
    #[arg(long)]
    user: String,
    /// The role.
    #[arg(long, value_parser = ["issuer", "revoker", "auditor", "admin"])]
    role: String,
    /// Read the password (first line, at least 12 characters) from standard input.
    #[arg(long)]
    password_stdin: bool,
    /// The console's audit log (default: console-audit.jsonl beside issuer.toml, as the
    /// server's `--console-audit-log`).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

#[derive(Args)]
pub struct TotpArgs {
    /// The issuer configuration (`issuer.toml`).
    #[arg(long)]
    config: PathBuf,
    /// The account name.
    #[arg(long)]
    user: String,
}

#[derive(Args)]
pub struct AddTokenArgs {
    /// The issuer configuration (`issuer.toml`).
    #[arg(long)]
    config: PathBuf,
    /// The account the token acts as (with its role).
    #[arg(long)]
    user: String,
    /// The console's audit log (default: console-audit.jsonl beside issuer.toml).
    #[arg(long, value_name = "FILE")]
    audit_log: Option<PathBuf>,
}

fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b))
}

pub fn run(cmd: ConsoleCommand) -> CliResult {
    let now = SystemClock.now();
    match cmd {
        ConsoleCommand::AddUser(a) => {
            if !valid_user_name(&a.user) {
                return Err(CliError::input(
                    "--user: 1-64 characters of letters, digits, '.', '_', '-', '@'",
                ));
            }
            let role = Role::parse(&a.role)?;
            if !a.password_stdin {
                return Err(CliError::input(
                    "give the password on standard input with --password-stdin",
                ));
            }
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| CliError::input(format!("cannot read the password: {e}")))?;
            let password = line.trim_end_matches(['\r', '\n']);
            if password.chars().count() < auth::MIN_PASSWORD {
                return Err(CliError::input(format!(
                    "the password must have at least {} characters",
                    auth::MIN_PASSWORD
                )));
            }
            let (_, dir, db) = open_db(&a.config)?;
            let secret = auth::new_totp_secret();
            let user = store::User {
                name: a.user.clone(),
                role: role.as_str().into(),
                password_hash: auth::hash_password(password)?,
                totp_secret: secret.clone(),
                locked_until: 0,
                last_totp_step: 0,
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| CliError::input(format!("cannot start the runtime: {e}")))?;
            let added = rt
                .block_on(db.call(move |c| store::add_user(c, &user, now)))
                .map_err(|e| CliError::input(format!("console database: {e}")))?;
            if !added {
                return Err(CliError::input(format!(
                    "an account named {} exists",
                    a.user
                )));
            }
            crate::audit::record(
                Some(
                    &a.audit_log
                        .unwrap_or_else(|| dir.join("console-audit.jsonl")),
                ),
                "console_user_added",
                json!({"user": a.user, "role": role.as_str()}),
            )?;
            files::print_json(&json!({
                "user": a.user,
                "role": role.as_str(),
                "totp_secret": secret,
                "otpauth_uri": auth::otpauth_uri("govcred console", &a.user, &secret),
            }));
        }
        ConsoleCommand::AddToken(a) => {
            let (_, dir, db) = open_db(&a.config)?;
            let token = auth::random_token();
            let (hash, name) = (auth::token_hash(&token), a.user.clone());
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| CliError::input(format!("cannot start the runtime: {e}")))?;
            let added = rt
                .block_on(db.call(move |c| store::put_api_token(c, &hash, &name, now)))
                .map_err(|e| CliError::input(format!("console database: {e}")))?;
            if !added {
                return Err(CliError::input(format!("no account named {}", a.user)));
            }
            crate::audit::record(
                Some(
                    &a.audit_log
                        .unwrap_or_else(|| dir.join("console-audit.jsonl")),
                ),
                "console_api_token_added",
                json!({"user": a.user}),
            )?;
            files::print_json(&json!({"user": a.user, "token": token}));
        }
        ConsoleCommand::Totp(a) => {
            let (_, _, db) = open_db(&a.config)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| CliError::input(format!("cannot start the runtime: {e}")))?;
            let name = a.user.clone();
            let user = rt
                .block_on(db.call(move |c| store::user(c, &name)))
                .map_err(|e| CliError::input(format!("console database: {e}")))?
                .ok_or_else(|| CliError::input(format!("no account named {}", a.user)))?;
            let code = auth::totp_code(&user.totp_secret, now)
                .ok_or_else(|| CliError::input("the stored TOTP secret is unreadable"))?;
            println!("{code}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
