//! The central Status List Service, as GDS runs it for all departments (GOV.UK
//! profile §7; `crs-private.openapi.yaml`, `crs-public.openapi.yaml`).
//!
//! Endpoints:
//! - `POST /issue` (`Content-Type: application/jwt`, a department-signed request JWT,
//!   see [`govcred::status::crs`]) → `200 {"idx", "uri"}`: a random, never-reused index
//!   on an open list of the client's registered type; the same `jti` again returns
//!   the same answer, the same `jti` with another `statusExpiry` is `400`.
//! - `POST /revoke` (`{iss, iat, jti, uri, idx}`) → `202 {"message", "revokedAt"}`;
//!   `403` for another client's entry, `404` for an unknown one. Irreversible.
//! - `GET /t/{id}`: the list as a Token Status List (`application/statuslist+jwt`,
//!   2 bits, LSB first, zlib); `GET /b/{id}`: as a Bitstring Status List credential
//!   (`application/vc+jwt`, `statusPurpose: message`, 2 bits, MSB first, gzip).
//! - `GET /.well-known/jwks.json`: the service's signing key.
//!
//! Errors are `{"error": "BAD_REQUEST" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND" |
//! "INTERNAL_SERVER_ERROR", "error_description": …}`.
//!
//! Departments are registered in a JSON file (`--clients`, default `DATA/clients.json`):
//!
//! ```json
//! {"clients": [{"client_id": "dept-a", "list_type": "token", "jwks": "dept-a.jwks.json"}]}
//! ```
//!
//! `jwks` is a file (relative to the clients file), an inline `{"keys": [...]}`, or an
//! `https://` URL fetched once at start (plain `http://` only to loopback, for tests);
//! `list_type` is `token` (mdoc / SD-JWT VC) or `bitstring` (JWT VC). A request's `kid`
//! must name a key of that JWKS and its `iss` must be the `client_id`.
//!
//! State lives in `DATA/status.sqlite3`, or in PostgreSQL with `--database
//! postgres://…` (several instances sharing one database, see [`super::db`]): lists,
//! entries (primary key `(list, idx)`, so an index can never be handed out twice, even
//! across restarts or instances) and the request `jti`s. Allocation locks the open
//! list's row (`SELECT … FOR UPDATE`) for its transaction. The signing key is
//! `DATA/status-service-key.jwk` (ES256, created on first start; instances share it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Args;
use govcred::crypto::{Alg, SoftwareKey};
use govcred::status::bitstring::{self, BitstringList, StatusListCredential};
use govcred::status::crs::{self, RequestPolicy};
use govcred::status::token_status_list::{self, StatusList, StatusListToken};
use govcred::trust::TrustStore;
use govcred::{Clock, ErrorCode, Signer, SystemClock};
use serde_json::{json, Value};

use super::db::{self, Db, DbError, Tx};
use crate::status::Kind;
use crate::{files, CliError};

/// Bits per entry: GOV.UK uses 0 VALID and 1 INVALID, in 2-bit entries.
const BITS: u8 = 2;
/// Largest request body accepted.
const MAX_BODY: usize = 16 * 1024;

#[derive(Args)]
pub struct StatusServiceArgs {
    /// Base URL lists are published under (list URIs are URL/t/{id} and URL/b/{id});
    /// default http://LISTEN-ADDRESS.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The registered departments (JSON); default DATA/clients.json.
    #[arg(long, value_name = "FILE")]
    clients: Option<PathBuf>,
    /// Entries per list (2 bits each); a full list is followed by a new one.
    #[arg(long, default_value_t = 131_072)]
    list_size: usize,
    /// `ttl` of published lists, in seconds (how long verifiers may cache them).
    #[arg(long, default_value_t = 43_200)]
    list_ttl: i64,
    /// Published lists expire (`exp`, `validUntil`) this many seconds after publication.
    #[arg(long, default_value_t = 7 * 86_400)]
    list_validity: i64,
    /// Oldest acceptable request `iat`, in seconds.
    #[arg(long, default_value_t = 300)]
    max_request_age: i64,
}

/// A registered department.
struct Client {
    kind: Kind,
    keys: TrustStore,
}

struct Inner {
    db: Db,
    key: SoftwareKey,
    kid: String,
    public_url: String,
    clients: HashMap<String, Client>,
    list_size: usize,
    ttl: i64,
    validity: i64,
    policy: RequestPolicy,
    clock: Arc<dyn Clock>,
}

/// The service state (cheap to clone).
#[derive(Clone)]
pub struct StatusService(Arc<Inner>);

fn kind_str(k: Kind) -> &'static str {
    match k {
        Kind::Token => "token",
        Kind::Bitstring => "bitstring",
    }
}

fn path_prefix(k: Kind) -> &'static str {
    match k {
        Kind::Token => "t",
        Kind::Bitstring => "b",
    }
}

impl StatusService {
    /// Open the state in `data` (creating the database and the signing key on first
    /// start) and load the registered clients.
    /// `database`: a SQLite file or a `postgres://` URL; default `DATA/status.sqlite3`.
    pub fn open(
        data: &Path,
        database: Option<&str>,
        a: &StatusServiceArgs,
        bound: SocketAddr,
    ) -> Result<Self, CliError> {
        if a.list_size == 0 || a.list_size > token_status_list::MAX_ENTRIES {
            return Err(CliError::input(format!(
                "--list-size must be from 1 to {}",
                token_status_list::MAX_ENTRIES
            )));
        }
        if a.list_ttl <= 0 || a.list_validity <= 0 || a.max_request_age <= 0 {
            return Err(CliError::input(
                "--list-ttl, --list-validity and --max-request-age must be positive",
            ));
        }
        let location = match database {
            Some(d) => d.to_string(),
            None => data.join("status.sqlite3").to_string_lossy().into_owned(),
        };
        let db = Db::open(&location, db::STATUS_SERVICE)?;
        let key_path = data.join("status-service-key.jwk");
        let key = if key_path.exists() {
            files::read_signing_key(&key_path)?
        } else {
            let key = SoftwareKey::generate(Alg::ES256)?;
            let kid = key.verifying_key().thumbprint();
            let key = key.with_kid(kid);
            files::write_secret(&key_path, key.to_private_jwk()?.to_json().as_bytes(), false)?;
            key
        };
        if key.alg() != Alg::ES256 {
            return Err(CliError::input(format!(
                "{}: the status service signs with ES256 (a P-256 key)",
                key_path.display()
            )));
        }
        let kid = key
            .public_jwk()
            .kid
            .unwrap_or_else(|| key.verifying_key().thumbprint());
        let clients_path = a
            .clients
            .clone()
            .unwrap_or_else(|| data.join("clients.json"));
        let clients = load_clients(&clients_path)?;
        let public_url = a
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            return Err(CliError::input("--public-url must be an http(s) URL"));
        }
        Ok(StatusService(Arc::new(Inner {
            db,
            key,
            kid,
            public_url,
            clients,
            list_size: a.list_size,
            ttl: a.list_ttl,
            validity: a.list_validity,
            policy: RequestPolicy {
                max_age: a.max_request_age,
                leeway: 60,
            },
            clock: Arc::new(SystemClock),
        })))
    }

    /// The base URL of the published lists.
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// How many departments are registered.
    pub fn client_count(&self) -> usize {
        self.0.clients.len()
    }

    /// Readiness: the database answers a query.
    pub async fn ready(&self) -> Result<(), String> {
        self.0.db.ping().await
    }

    /// What `--publish` publishes: (path the router answers, public URL) of the JWKS
    /// and of every list created so far.
    pub async fn public_documents(&self) -> Result<Vec<(String, String)>, CliError> {
        let lists = self
            .0
            .db
            .call(|tx| {
                tx.query("SELECT id, kind FROM lists ORDER BY created_at, id", &[])?
                    .iter()
                    .map(|r| Ok((r.text(0)?, r.text(1)?)))
                    .collect::<Result<Vec<_>, DbError>>()
            })
            .await
            .map_err(|e| CliError::input(format!("reading the lists: {e}")))?;
        let jwks = "/.well-known/jwks.json";
        let mut out = vec![(jwks.to_string(), format!("{}{jwks}", self.0.public_url))];
        for (id, kind) in lists {
            let kind = if kind == kind_str(Kind::Token) {
                Kind::Token
            } else {
                Kind::Bitstring
            };
            out.push((
                format!("/{}/{id}", path_prefix(kind)),
                self.list_uri(kind, &id),
            ));
        }
        Ok(out)
    }

    fn list_uri(&self, kind: Kind, id: &str) -> String {
        format!("{}/{}/{id}", self.0.public_url, path_prefix(kind))
    }
}

/// Read the clients file: `{"clients": [{client_id, list_type, jwks}]}`.
fn load_clients(path: &Path) -> Result<HashMap<String, Client>, CliError> {
    if !path.exists() {
        return Err(CliError::input(format!(
            "{}: no clients registered; write {{\"clients\": [{{\"client_id\": \"…\", \"list_type\": \"token\", \"jwks\": \"dept.jwks.json\"}}]}}",
            path.display()
        )));
    }
    let doc = files::read_json(path)?;
    let bad = |m: String| CliError::input(format!("{}: {m}", path.display()));
    let entries = doc
        .get("clients")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("expected {\"clients\": [...]}".into()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = HashMap::new();
    for (i, c) in entries.iter().enumerate() {
        let id = c
            .get("client_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("clients[{i}]: client_id is required")))?;
        let kind = match c.get("list_type").and_then(Value::as_str) {
            Some("token") => Kind::Token,
            Some("bitstring") => Kind::Bitstring,
            _ => {
                return Err(bad(format!(
                    "clients[{i}] ({id}): list_type must be \"token\" or \"bitstring\""
                )))
            }
        };
        let jwks = match c.get("jwks") {
            Some(Value::String(s)) if s.starts_with("https://") || s.starts_with("http://") => {
                fetch_jwks(s).map_err(|e| bad(format!("clients[{i}] ({id}): {e}")))?
            }
            Some(Value::String(s)) => files::read_json(&base.join(s))?,
            Some(v @ Value::Object(_)) => v.clone(),
            _ => {
                return Err(bad(format!(
                    "clients[{i}] ({id}): jwks must be a file name or an inline {{\"keys\": [...]}}"
                )))
            }
        };
        let mut keys = TrustStore::new();
        let list = jwks
            .get("keys")
            .and_then(Value::as_array)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| bad(format!("clients[{i}] ({id}): the JWKS has no keys")))?;
        for k in list {
            let jwk: govcred::crypto::Jwk = serde_json::from_value(k.clone())
                .map_err(|e| bad(format!("clients[{i}] ({id}): bad JWK: {e}")))?;
            keys.add_jwk(&jwk)
                .map_err(|e| bad(format!("clients[{i}] ({id}): {e}")))?;
        }
        if out.insert(id.to_string(), Client { kind, keys }).is_some() {
            return Err(bad(format!("client_id {id} is registered twice")));
        }
    }
    Ok(out)
}

/// Fetch a department's JWKS URL (once, at start: restart the service to pick up a
/// rotated key). HTTPS only, except plain HTTP to a loopback host (for testing).
fn fetch_jwks(url: &str) -> Result<Value, String> {
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|p| {
            url.strip_prefix(p)
                .is_some_and(|r| r.is_empty() || r.starts_with([':', '/']))
        });
    if !url.starts_with("https://") && !loopback {
        return Err(format!("JWKS URL {url} must be https"));
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    let resp = client
        .get(url)
        .send()
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("GET {url}: HTTP {}", resp.status().as_u16()));
    }
    let text = resp.text().map_err(|e| format!("GET {url}: {e}"))?;
    if text.len() > 256 * 1024 {
        return Err(format!("GET {url}: the JWKS is larger than 256 KiB"));
    }
    serde_json::from_str(&text).map_err(|e| format!("GET {url}: not JSON: {e}"))
}

/// The routes of the service.
pub fn router(service: StatusService) -> Router {
    Router::new()
        .route("/issue", post(issue))
        .route("/revoke", post(revoke))
        .route("/t/{id}", get(token_list))
        .route("/b/{id}", get(bitstring_list))
        .route("/.well-known/jwks.json", get(jwks))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(service)
}

/// An error response `{error, error_description}`.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    description: String,
}

impl ApiError {
    fn new(status: StatusCode, description: impl Into<String>) -> Self {
        ApiError {
            status,
            description: description.into(),
        }
    }

    fn bad_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, d)
    }

    fn unauthorized(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, d)
    }

    /// Authentication failures are 401; everything else about the request is 400.
    fn from_request_error(e: &govcred::Error) -> Self {
        match e.code() {
            ErrorCode::TypeMismatch
            | ErrorCode::AlgNotAllowed
            | ErrorCode::KeyAlgMismatch
            | ErrorCode::UnsupportedCritical
            | ErrorCode::UnknownKey
            | ErrorCode::SignatureInvalid
            | ErrorCode::UntrustedIssuer
            | ErrorCode::Expired
            | ErrorCode::NotYetValid => Self::unauthorized(e.to_string()),
            _ => Self::bad_request(e.to_string()),
        }
    }

    fn internal(e: DbError) -> Self {
        tracing::error!(target: "govcred::status_service", error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unable to process the request",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = match self.status {
            StatusCode::BAD_REQUEST => "BAD_REQUEST",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::FORBIDDEN => "FORBIDDEN",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::CONFLICT => "CONFLICT",
            StatusCode::SERVICE_UNAVAILABLE => "TEMPORARILY_UNAVAILABLE",
            _ => "INTERNAL_SERVER_ERROR",
        };
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({"error": code, "error_description": self.description})),
        )
            .into_response()
    }
}

/// Check the content type and find the client of a request JWT.
fn authenticate<'a>(
    s: &'a StatusService,
    headers: &HeaderMap,
    body: &str,
) -> Result<(&'a str, &'a Client), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.split(';').next().map(str::trim) != Some("application/jwt") {
        return Err(ApiError::bad_request(
            "Content-Type header must be application/jwt",
        ));
    }
    let client_id = crs::unverified_client_id(body).map_err(|e| match e.code() {
        ErrorCode::UntrustedIssuer => ApiError::unauthorized(e.to_string()),
        _ => ApiError::bad_request(format!("Error decoding JWT or converting to JSON: {e}")),
    })?;
    s.0.clients
        .get_key_value(client_id.as_str())
        .map(|(id, c)| (id.as_str(), c))
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "JWT has non-matching Client ID: {client_id:?} is not a registered client"
            ))
        })
}

async fn issue(
    State(s): State<StatusService>,
    headers: HeaderMap,
    body: String,
) -> Result<Json<Value>, ApiError> {
    let (client_id, client) = authenticate(&s, &headers, &body)?;
    let now = s.0.clock.now();
    let req = crs::verify_issue_request(&body, client_id, &client.keys, now, &s.0.policy)
        .map_err(|e| ApiError::from_request_error(&e))?;
    let kind = client.kind;
    let size = s.0.list_size;
    let client_id = client_id.to_string();
    let (list_id, idx) =
        s.0.db
            .call(move |tx| allocate(tx, &client_id, kind, &req, size, now))
            .await
            .map_err(ApiError::internal)??;
    Ok(Json(json!({"idx": idx, "uri": s.list_uri(kind, &list_id)})))
}

/// Allocate a random free index in a transaction (see the module docs).
fn allocate(
    tx: &mut dyn Tx,
    client_id: &str,
    kind: Kind,
    req: &crs::IssueRequest,
    size: usize,
    now: i64,
) -> Result<Result<(String, usize), ApiError>, DbError> {
    let fingerprint = format!("issue:{}", req.status_expiry);
    let previous = tx.query_opt(
        "SELECT fingerprint, list_id, idx FROM requests WHERE client_id = $1 AND jti = $2",
        &[client_id.into(), (&req.jti).into()],
    )?;
    if let Some(r) = previous {
        return Ok(if r.text(0)? == fingerprint {
            Ok((r.text(1)?, r.int(2)? as usize))
        } else {
            Err(ApiError::bad_request(
                "Detected invalid changes between idempotent requests, unable to proceed. Please generate a new request.",
            ))
        });
    }
    // The open list's row stays locked until commit: allocations in one list take turns.
    let sql = format!(
        "SELECT id, size FROM lists WHERE kind = $1 AND used < size ORDER BY created_at, id LIMIT 1{}",
        tx.for_update()
    );
    let open = tx.query_opt(&sql, &[kind_str(kind).into()])?;
    let (list_id, list_size) = match open {
        Some(r) => (r.text(0)?, r.int(1)? as usize),
        None => {
            let id = new_list_id();
            tx.execute(
                "INSERT INTO lists (id, kind, bits, size, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    (&id).into(),
                    kind_str(kind).into(),
                    i64::from(BITS).into(),
                    (size as i64).into(),
                    now.into(),
                ],
            )?;
            (id, size)
        }
    };
    let idx = free_index(tx, &list_id, list_size)?.ok_or_else(|| {
        DbError(format!(
            "list {list_id} is marked open but has no free index"
        ))
    })?;
    // The primary key (list_id, idx) makes a second hand-out of an index impossible.
    tx.execute(
        "INSERT INTO entries (list_id, idx, client_id, status_expiry, issued_at) VALUES ($1, $2, $3, $4, $5)",
        &[(&list_id).into(), (idx as i64).into(), client_id.into(), req.status_expiry.into(), now.into()],
    )?;
    tx.execute(
        "UPDATE lists SET used = used + 1 WHERE id = $1",
        &[(&list_id).into()],
    )?;
    tx.execute(
        "INSERT INTO requests (client_id, jti, fingerprint, list_id, idx, at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[client_id.into(), (&req.jti).into(), (&fingerprint).into(), (&list_id).into(), (idx as i64).into(), now.into()],
    )?;
    Ok(Ok((list_id, idx)))
}

/// A random 12-hex-digit list identifier, upper case as GOV.UK's.
fn new_list_id() -> String {
    let b: [u8; 6] = rand::random();
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A uniformly random free index: random probes first (lists are mostly empty), then
/// a scan from a random start over the used set.
fn free_index(tx: &mut dyn Tx, list_id: &str, size: usize) -> Result<Option<usize>, DbError> {
    for _ in 0..32 {
        let i = (rand::random::<u64>() % size as u64) as usize;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM entries WHERE list_id = $1 AND idx = $2",
                &[list_id.into(), (i as i64).into()],
            )?
            .is_some();
        if !taken {
            return Ok(Some(i));
        }
    }
    let mut used = vec![false; size];
    for r in tx.query(
        "SELECT idx FROM entries WHERE list_id = $1",
        &[list_id.into()],
    )? {
        if let Some(u) = usize::try_from(r.int(0)?)
            .ok()
            .and_then(|i| used.get_mut(i))
        {
            *u = true;
        }
    }
    let start = (rand::random::<u64>() % size as u64) as usize;
    Ok((0..size).map(|o| (start + o) % size).find(|&i| !used[i]))
}

async fn revoke(
    State(s): State<StatusService>,
    headers: HeaderMap,
    body: String,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (client_id, client) = authenticate(&s, &headers, &body)?;
    let now = s.0.clock.now();
    let req = crs::verify_revoke_request(&body, client_id, &client.keys, now, &s.0.policy)
        .map_err(|e| ApiError::from_request_error(&e))?;
    let (kind, list_id) = parse_list_uri(&s, &req.uri).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{} is not a status list of this service", req.uri),
        )
    })?;
    let client_id = client_id.to_string();
    let (message, at) =
        s.0.db
            .call(move |tx| mark_revoked(tx, &client_id, kind, &list_id, &req, now))
            .await
            .map_err(ApiError::internal)??;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"message": message, "revokedAt": at})),
    ))
}

/// `URL/t/{id}` or `URL/b/{id}` of this service → (kind, id).
fn parse_list_uri(s: &StatusService, uri: &str) -> Option<(Kind, String)> {
    let rest = uri.strip_prefix(s.public_url())?.strip_prefix('/')?;
    let (prefix, id) = rest.split_once('/')?;
    let kind = match prefix {
        "t" => Kind::Token,
        "b" => Kind::Bitstring,
        _ => return None,
    };
    valid_list_id(id).then(|| (kind, id.to_string()))
}

fn valid_list_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn mark_revoked(
    tx: &mut dyn Tx,
    client_id: &str,
    kind: Kind,
    list_id: &str,
    req: &crs::RevokeRequest,
    now: i64,
) -> Result<Result<(&'static str, i64), ApiError>, DbError> {
    let fingerprint = format!("revoke:{list_id}:{}", req.idx);
    let previous = tx
        .query_opt(
            "SELECT fingerprint FROM requests WHERE client_id = $1 AND jti = $2",
            &[client_id.into(), (&req.jti).into()],
        )?
        .map(|r| r.text(0))
        .transpose()?;
    if previous.as_ref().is_some_and(|fp| *fp != fingerprint) {
        return Ok(Err(ApiError::bad_request(
            "Detected invalid changes between idempotent requests, unable to proceed. Please generate a new request.",
        )));
    }
    // The entry's row stays locked until commit: concurrent revocations take turns.
    let sql = format!(
        "SELECT e.client_id, e.status, e.revoked_at FROM entries e JOIN lists l ON l.id = e.list_id
         WHERE e.list_id = $1 AND e.idx = $2 AND l.kind = $3{}",
        match tx.engine() {
            db::Engine::Postgres => " FOR UPDATE OF e",
            db::Engine::Sqlite => "",
        }
    );
    let entry = tx.query_opt(
        &sql,
        &[
            list_id.into(),
            (req.idx as i64).into(),
            kind_str(kind).into(),
        ],
    )?;
    let Some(entry) = entry else {
        return Ok(Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("index {} of {} was never issued", req.idx, req.uri),
        )));
    };
    let (owner, status, revoked_at) = (entry.text(0)?, entry.int(1)?, entry.opt_int(2)?);
    if owner != client_id {
        return Ok(Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "index {} of {} was issued to another client",
                req.idx, req.uri
            ),
        )));
    }
    if previous.is_none() {
        tx.execute(
            "INSERT INTO requests (client_id, jti, fingerprint, list_id, idx, at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[client_id.into(), (&req.jti).into(), (&fingerprint).into(), list_id.into(), (req.idx as i64).into(), now.into()],
        )?;
    }
    Ok(Ok(if status == 1 {
        ("Credential already revoked", revoked_at.unwrap_or(now))
    } else {
        tx.execute(
            "UPDATE entries SET status = 1, revoked_at = $3 WHERE list_id = $1 AND idx = $2",
            &[list_id.into(), (req.idx as i64).into(), now.into()],
        )?;
        ("Request processed for revocation", now)
    }))
}

/// A list's size and its non-zero entries.
type ListState = (usize, Vec<(usize, u8)>);

async fn load_list(s: &StatusService, kind: Kind, id: String) -> Result<ListState, ApiError> {
    if !valid_list_id(&id) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such status list"));
    }
    let found =
        s.0.db
            .call(move |tx| {
                let size = tx.query_opt(
                    "SELECT size FROM lists WHERE id = $1 AND kind = $2",
                    &[(&id).into(), kind_str(kind).into()],
                )?;
                let Some(size) = size else {
                    return Ok(None);
                };
                let rows = tx
                    .query(
                        "SELECT idx, status FROM entries WHERE list_id = $1 AND status != 0",
                        &[(&id).into()],
                    )?
                    .into_iter()
                    .map(|r| Ok((r.int(0)? as usize, r.int(1)? as u8)))
                    .collect::<Result<Vec<_>, DbError>>()?;
                Ok(Some((size.int(0)? as usize, rows)))
            })
            .await
            .map_err(ApiError::internal)?;
    found.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such status list"))
}

fn published(content_type: &'static str, ttl: i64, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CACHE_CONTROL, format!("max-age={ttl}")),
        ],
        body,
    )
        .into_response()
}

fn signing_failed(e: govcred::Error) -> ApiError {
    ApiError::internal(DbError(format!("cannot sign the status list: {e}")))
}

async fn token_list(
    State(s): State<StatusService>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (size, entries) = load_list(&s, Kind::Token, id.clone()).await?;
    let mut list = StatusList::new(BITS, size).map_err(signing_failed)?;
    for (i, v) in entries {
        list.set(i, v).map_err(signing_failed)?;
    }
    let now = s.0.clock.now();
    let jwt = token_status_list::sign_token(
        &StatusListToken {
            sub: s.list_uri(Kind::Token, &id),
            iss: Some(s.0.public_url.clone()),
            iat: now,
            exp: Some(now + s.0.validity),
            ttl: Some(s.0.ttl),
            list,
            kid: Some(s.0.kid.clone()),
        },
        &s.0.key,
    )
    .map_err(signing_failed)?;
    Ok(published("application/statuslist+jwt", s.0.ttl, jwt))
}

async fn bitstring_list(
    State(s): State<StatusService>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let (size, entries) = load_list(&s, Kind::Bitstring, id.clone()).await?;
    let mut list = BitstringList::new(BITS, size).map_err(signing_failed)?;
    for (i, v) in entries {
        list.set(i, v).map_err(signing_failed)?;
    }
    let now = s.0.clock.now();
    let jwt = bitstring::sign_credential_jwt(
        &StatusListCredential {
            id: s.list_uri(Kind::Bitstring, &id),
            // GOV.UK's docs example: issuer with a trailing slash.
            issuer: format!("{}/", s.0.public_url),
            purpose: "message".into(),
            status_size: BITS,
            list,
            valid_from: Some(now),
            valid_until: Some(now + s.0.validity),
            // W3C: milliseconds.
            ttl: Some(s.0.ttl.saturating_mul(1000)),
            status_messages: vec![(0, "VALID".into()), (1, "INVALID".into())],
        },
        &s.0.kid,
        &s.0.key,
        now,
    )
    .map_err(signing_failed)?;
    Ok(published("application/vc+jwt", s.0.ttl, jwt))
}

async fn jwks(State(s): State<StatusService>) -> Json<Value> {
    let mut jwk = serde_json::to_value(s.0.key.public_jwk()).unwrap_or_default();
    jwk["use"] = "sig".into();
    jwk["kid"] = s.0.kid.clone().into();
    Json(json!({"keys": [jwk]}))
}
