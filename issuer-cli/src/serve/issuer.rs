//! The OpenID4VCI issuer behind `govcred serve`: `issuer.toml`, the engine built from
//! it (keys, IACA/DS, status lists from the `govcred status` registry, state in SQLite
//! or PostgreSQL), the axum router that hands every request to the engine, and `--init`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use govcred::crypto::{Alg, SoftwareKey};
use govcred::oid4vci::issuer::{
    CredentialSpec, CredentialTemplate, Issuer, IssuerConfig, IssuerKeys, StatusListKind,
    StatusListSpec, StatusLists,
};
use govcred::oid4vci::{FORMAT_JWT_VC, FORMAT_MDOC, FORMAT_SD_JWT_VC};
use govcred::platform::{HttpRequest, HttpResponse};
use govcred::status::token_status_list::StatusList;
use govcred::x509::Certificate;
use govcred::{b64, Clock, SystemClock};
use serde::{Deserialize, Serialize};

use super::db::is_postgres_url;
use super::issuer_db::DbState;
use crate::status::{self, Kind, ListRecord};
use crate::{files, CliError};

/// Largest request body the server reads.
pub const MAX_BODY: usize = 256 * 1024;

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_entry() -> String {
    govcred::oid4vci::offer::GOVUK_WALLET_ENTRY.into()
}
fn default_code_ttl() -> i64 {
    900
}
fn default_validity() -> u32 {
    365
}

/// `issuer.toml`. Relative paths are relative to the file's directory.
#[derive(Serialize, Deserialize)]
pub struct IssuerToml {
    /// The credential issuer URL (https in production; `http://127.0.0.1:PORT` locally).
    pub credential_issuer: String,
    /// Where to listen.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The issuer's One Login client id (`clientId` in pre-authorised codes).
    pub client_id: String,
    /// An external authorisation server (GOV.UK: the One Login STS); absent: this
    /// server issues the access tokens itself at `/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server: Option<String>,
    /// The external authorisation server's JWKS (a `{"keys": [...]}` file) whose keys
    /// sign the access tokens; required with `authorization_server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_server_jwks: Option<PathBuf>,
    /// The wallet's offer entry point.
    #[serde(default = "default_entry")]
    pub wallet_entry: String,
    /// The database of offers and issued credentials: a SQLite file, or a
    /// `postgres://` URL shared by several instances.
    pub database: PathBuf,
    /// The issuer's private JWK (P-256).
    pub issuer_key: PathBuf,
    /// Document Signer certificate (PEM), for mdoc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_signer_certificate: Option<PathBuf>,
    /// Document Signer private JWK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_signer_key: Option<PathBuf>,
    /// IACA root certificates (PEM) published at `/iacas`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iaca_certificates: Vec<PathBuf>,
    /// The `govcred status` registry the status lists live in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_store: Option<PathBuf>,
    /// Life of a pre-authorised code, seconds (GOV.UK: 300–3600).
    #[serde(default = "default_code_ttl")]
    pub code_ttl_secs: i64,
    /// Credential configurations by id.
    pub configurations: BTreeMap<String, ConfigurationToml>,
}

/// One `[configurations.ID]`.
#[derive(Serialize, Deserialize)]
pub struct ConfigurationToml {
    /// `jwt_vc_json`, `dc+sd-jwt` or `mso_mdoc`.
    pub format: String,
    /// JWT VC type after `VerifiableCredential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    /// JWT VC `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// JWT VC `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// SD-JWT VC `vct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// mdoc doctype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype: Option<String>,
    /// Validity of issued credentials (= `credential_validity_period_max_days`).
    #[serde(default = "default_validity")]
    pub validity_days: u32,
    /// GOV.UK `credential_refresh_web_journey_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_url: Option<String>,
    /// URI of a list in `status_store` to allocate status indices from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list: Option<String>,
}

fn input(e: impl std::fmt::Display) -> CliError {
    CliError::input(e.to_string())
}

/// Read `issuer.toml`.
pub fn read_config(path: &Path) -> Result<(IssuerToml, PathBuf), CliError> {
    let text = files::read_text(path)?;
    let cfg: IssuerToml =
        toml::from_str(&text).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((cfg, dir))
}

/// The status lists of a `govcred status` registry: allocation through the registry's
/// durable allocator (serialised here), publication by signing the current list.
pub struct RegistryLists {
    store: PathBuf,
    lock: Mutex<()>,
    /// Signed lists by URI: (digest of the statuses signed, signed at, text). Re-signed
    /// when a status changes or after [`REPUBLISH_SECS`].
    signed: Mutex<std::collections::HashMap<String, SignedList>>,
}

/// A signed list: digest of the statuses, when signed, the text.
type SignedList = ([u8; 32], i64, String);

/// Longest time a signed status list is served before it is signed again.
pub const REPUBLISH_SECS: i64 = 60;

impl StatusLists for RegistryLists {
    fn allocate(&self, uri: &str) -> govcred::Result<usize> {
        let _g = self
            .lock
            .lock()
            .map_err(|_| govcred::Error::Storage("status lock poisoned".into()))?;
        status::allocate(&self.store, uri, 1)
            .map_err(|e| govcred::Error::Storage(e.message))?
            .first()
            .copied()
            .ok_or_else(|| govcred::Error::Storage("no index allocated".into()))
    }

    fn published(&self, uri: &str, now: i64) -> govcred::Result<Option<String>> {
        let rec = match status::load(&self.store, uri) {
            Ok(r) => r,
            Err(_) => return Ok(None),
        };
        let digest = govcred::crypto::sha256(rec.statuses.to_string().as_bytes());
        let mut cache = self
            .signed
            .lock()
            .map_err(|_| govcred::Error::Storage("status cache lock poisoned".into()))?;
        if let Some((d, at, text)) = cache.get(uri) {
            if *d == digest && now - at < REPUBLISH_SECS {
                return Ok(Some(text.clone()));
            }
        }
        let text = status::sign_list(&rec, now).map_err(|e| govcred::Error::Storage(e.message))?;
        cache.insert(uri.to_string(), (digest, now, text.clone()));
        Ok(Some(text))
    }
}

/// The engine and its database, from `issuer.toml`.
///
/// `database` overrides the file's `database` (a SQLite file or a `postgres://` URL).
/// Where the configuration's state lives: its `database` as a `postgres://` URL, or
/// the SQLite file relative to the configuration's directory `dir`.
pub fn database_location(cfg: &IssuerToml, dir: &Path) -> String {
    match cfg.database.to_str() {
        Some(url) if is_postgres_url(url) => url.to_string(),
        _ => dir.join(&cfg.database).to_string_lossy().into_owned(),
    }
}

pub fn load(
    path: &Path,
    database: Option<&str>,
) -> Result<(IssuerToml, Arc<Issuer>, Arc<DbState>), CliError> {
    let (mut cfg, dir) = read_config(path)?;
    if let Some(d) = database {
        cfg.database = d.into();
    }
    let at = |p: &Path| dir.join(p);
    let key = files::read_signing_key(&at(&cfg.issuer_key))?;
    let mut keys = IssuerKeys::new(Arc::new(key))?;
    if let (Some(c), Some(k)) = (&cfg.document_signer_certificate, &cfg.document_signer_key) {
        let ds = Certificate::from_pem(&files::read_text(&at(c))?)?
            .into_iter()
            .next()
            .ok_or_else(|| input(format!("{}: no certificate", c.display())))?;
        let ds_key = files::read_signing_key(&at(k))?;
        let mut iacas = Vec::new();
        for p in &cfg.iaca_certificates {
            iacas.extend(Certificate::from_pem(&files::read_text(&at(p))?)?);
        }
        keys = keys.with_mdoc(ds, Arc::new(ds_key), iacas);
    }
    match (&cfg.authorization_server, &cfg.authorization_server_jwks) {
        (Some(_), Some(p)) => {
            let jwks = files::read_json(&at(p))?;
            let list = jwks["keys"].as_array().cloned().unwrap_or_default();
            keys.access_token_keys = list
                .iter()
                .map(|k| {
                    let jwk = govcred::crypto::Jwk::from_json(&k.to_string())?;
                    govcred::crypto::VerifyingKey::from_jwk(&jwk)
                })
                .collect::<govcred::Result<_>>()?;
            if keys.access_token_keys.is_empty() {
                return Err(input(format!("{}: no keys", p.display())));
            }
        }
        (Some(a), None) => {
            return Err(input(format!(
                "authorization_server {a} needs authorization_server_jwks (its signing keys)"
            )))
        }
        _ => {}
    }
    let store = cfg.status_store.as_ref().map(|s| at(s));
    let mut specs = BTreeMap::new();
    for (id, c) in &cfg.configurations {
        let need = |v: &Option<String>, what: &str| {
            v.clone().ok_or_else(|| {
                input(format!(
                    "configuration {id}: format {} needs `{what}`",
                    c.format
                ))
            })
        };
        let template = match c.format.as_str() {
            FORMAT_JWT_VC => CredentialTemplate::JwtVc {
                credential_type: need(&c.credential_type, "credential_type")?,
                name: c.name.clone(),
                description: c.description.clone(),
            },
            FORMAT_SD_JWT_VC | "vc+sd-jwt" => CredentialTemplate::SdJwtVc {
                vct: need(&c.vct, "vct")?,
            },
            FORMAT_MDOC => CredentialTemplate::Mdoc {
                doctype: need(&c.doctype, "doctype")?,
            },
            other => {
                return Err(input(format!(
                "configuration {id}: unknown format {other:?} (jwt_vc_json, dc+sd-jwt, mso_mdoc)"
            )))
            }
        };
        let mut spec = CredentialSpec::new(template);
        spec.validity_days = c.validity_days;
        spec.refresh_url = c.refresh_url.clone();
        if let Some(uri) = &c.status_list {
            let store = store.as_ref().ok_or_else(|| {
                input(format!(
                    "configuration {id}: status_list needs status_store"
                ))
            })?;
            let rec = status::load(store, uri)?;
            spec.status_list = Some(StatusListSpec {
                uri: uri.clone(),
                kind: match rec.kind {
                    Kind::Token => StatusListKind::Token,
                    Kind::Bitstring => StatusListKind::Bitstring,
                },
                bits: rec.bits,
            });
        }
        specs.insert(id.clone(), spec);
    }
    let mut config = IssuerConfig::new(&cfg.credential_issuer, &cfg.client_id);
    config.authorization_server = cfg.authorization_server.clone();
    config.wallet_entry = cfg.wallet_entry.clone();
    config.code_ttl = cfg.code_ttl_secs;
    let state = Arc::new(DbState::open(&database_location(&cfg, &dir))?);
    let mut issuer = Issuer::new(config, specs, keys, state.clone())?;
    if let Some(store) = store {
        issuer = issuer.with_status_lists(Arc::new(RegistryLists {
            store,
            lock: Mutex::new(()),
            signed: Mutex::default(),
        }));
    }
    Ok((cfg, Arc::new(issuer), state))
}

/// The issuer's routes; every request is answered by the engine (on a blocking thread,
/// since the database clients block). Unknown paths (status lists) go the same way.
///
/// Metadata, `/token`, `/credential`, `/notification`, `/.well-known/did.json`,
/// `/.well-known/jwks.json`, `/iacas`, and the status lists' paths.
pub fn router(engine: Arc<Issuer>) -> Router {
    Router::new()
        .route("/.well-known/openid-credential-issuer", get(handle))
        .route("/.well-known/oauth-authorization-server", get(handle))
        .route("/.well-known/did.json", get(handle))
        .route("/.well-known/jwks.json", get(handle))
        .route("/iacas", get(handle))
        .route("/token", post(handle))
        .route("/credential", post(handle))
        .route("/notification", post(handle))
        .fallback(handle)
        .with_state(engine)
}

async fn handle(State(engine): State<Arc<Issuer>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        url: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
        max_response_bytes: 0,
    };
    match tokio::task::spawn_blocking(move || engine.handle(&request)).await {
        Ok(r) => to_response(r),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn to_response(r: HttpResponse) -> Response {
    let mut resp = Response::new(Body::from(r.body));
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}

/// `govcred serve --init DIR`: fresh keys, IACA + DS, two status lists, one
/// configuration per format, example claims, and `issuer.toml`.
pub fn init(dir: &Path, url: &str) -> Result<PathBuf, CliError> {
    govcred::oid4vci::check_url(url, "--url")?;
    let url = url.trim_end_matches('/');
    let config_path = dir.join("issuer.toml");
    if config_path.exists() {
        return Err(input(format!(
            "{} exists: choose an empty directory",
            config_path.display()
        )));
    }
    let now = SystemClock.now();
    let issuer_key = SoftwareKey::generate(Alg::ES256)?;
    files::write_secret(
        &dir.join("keys/issuer.jwk"),
        issuer_key.to_private_jwk()?.to_json().as_bytes(),
        false,
    )?;
    let (iaca, iaca_key) = govcred::pki::create_iaca(
        "GB",
        "govcred Example IACA Root",
        Some(url),
        now - 3600,
        now + 3288 * 86_400,
    )?;
    let (ds, ds_key) = govcred::pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "govcred Example DSC",
        now - 3600,
        now + 458 * 86_400,
    )?;
    files::write(&dir.join("pki/iaca.pem"), iaca.to_pem().as_bytes())?;
    files::write_secret(
        &dir.join("pki/iaca.key"),
        iaca_key.to_private_jwk()?.to_json().as_bytes(),
        false,
    )?;
    files::write(&dir.join("pki/ds.pem"), ds.to_pem().as_bytes())?;
    files::write_secret(
        &dir.join("pki/ds.key"),
        ds_key.to_private_jwk()?.to_json().as_bytes(),
        false,
    )?;

    // Status lists, signed with the issuer key under its did:web.
    let did = govcred::oid4vci::issuer_did(url)?;
    let kid = format!(
        "{did}#{}",
        govcred::did::web::key_id(issuer_key.verifying_key())
    );
    let key_path = std::fs::canonicalize(dir.join("keys/issuer.jwk"))
        .unwrap_or_else(|_| dir.join("keys/issuer.jwk"));
    let store = dir.join("status");
    let lists = [
        (format!("{url}/status/token/1"), Kind::Token, 2u8),
        (format!("{url}/status/bitstring/1"), Kind::Bitstring, 1u8),
    ];
    for (uri, kind, bits) in &lists {
        let list = StatusList::new(*bits, 65_536)?;
        status::save(
            &store,
            &ListRecord {
                uri: uri.clone(),
                kind: *kind,
                bits: *bits,
                size: list.len(),
                key: key_path.clone(),
                issuer: did.clone(),
                kid: Some(kid.clone()),
                ttl: 3600,
                statuses: list.to_json(),
                allocated: b64::encode(vec![0u8; list.len().div_ceil(8)]),
                allocated_count: 0,
                cwt: false,
                x5chain: None,
            },
        )?;
    }

    let refresh = |p: &str| Some(format!("{url}/refresh/{p}"));
    let mut configurations = BTreeMap::new();
    configurations.insert(
        "DigitalVeteranCard".to_string(),
        ConfigurationToml {
            format: FORMAT_JWT_VC.into(),
            credential_type: Some("DigitalVeteranCard".into()),
            name: Some("HM Armed Forces Veteran Card".into()),
            description: None,
            vct: None,
            doctype: None,
            validity_days: 365,
            refresh_url: refresh("veteran-card"),
            status_list: Some(lists[1].0.clone()),
        },
    );
    configurations.insert(
        "ExamplePid".to_string(),
        ConfigurationToml {
            format: FORMAT_SD_JWT_VC.into(),
            credential_type: None,
            name: None,
            description: None,
            vct: Some("urn:example:govcred:pid:1".into()),
            doctype: None,
            validity_days: 365,
            refresh_url: refresh("pid"),
            status_list: Some(lists[0].0.clone()),
        },
    );
    configurations.insert(
        "FishingLicence".to_string(),
        ConfigurationToml {
            format: FORMAT_MDOC.into(),
            credential_type: None,
            name: None,
            description: None,
            vct: None,
            doctype: Some("uk.gov.example-credential-issuer.fishingLicence.1".into()),
            validity_days: 90,
            refresh_url: refresh("fishing-licence"),
            status_list: Some(lists[0].0.clone()),
        },
    );
    let cfg = IssuerToml {
        credential_issuer: url.into(),
        listen: url
            .split_once("://")
            .map(|(_, r)| r.split('/').next().unwrap_or_default().to_string())
            .filter(|h| h.starts_with("127.0.0.1:") || h.starts_with("localhost:"))
            .unwrap_or_else(default_listen),
        client_id: "govcred-example-client".into(),
        authorization_server: None,
        authorization_server_jwks: None,
        wallet_entry: default_entry(),
        database: "issuer.db".into(),
        issuer_key: "keys/issuer.jwk".into(),
        document_signer_certificate: Some("pki/ds.pem".into()),
        document_signer_key: Some("pki/ds.key".into()),
        iaca_certificates: vec!["pki/iaca.pem".into()],
        status_store: Some("status".into()),
        code_ttl_secs: 900,
        configurations,
    };
    let examples = [
        (
            "DigitalVeteranCard",
            serde_json::json!({"name": [{"nameParts": [{"value": "Sam", "type": "GivenName"}, {"value": "Smith", "type": "FamilyName"}]}], "veteranCard": [{"serviceNumber": "25057386", "serviceBranch": "HM Naval Service", "expiryDate": "2030-01-01"}]}),
        ),
        (
            "ExamplePid",
            serde_json::json!({"given_name": "Sam", "family_name": "Smith", "birthdate": "1970-01-01"}),
        ),
        (
            "FishingLicence",
            serde_json::json!({"uk.gov.example-credential-issuer.fishingLicence.1": {"family_name": "Smith", "given_name": "Sam", "licence_number": "009878863", "issue_date": "2026-01-01", "expiry_date": "2028-12-10"}}),
        ),
    ];
    for (id, claims) in examples {
        files::write(
            &dir.join(format!("claims/{id}.json")),
            serde_json::to_string_pretty(&claims)
                .unwrap_or_default()
                .as_bytes(),
        )?;
    }
    let text = toml::to_string_pretty(&cfg).map_err(input)?;
    files::write(
        &config_path,
        format!("# govcred OpenID4VCI issuer (written by `govcred serve --init`)\n{text}")
            .as_bytes(),
    )?;
    Ok(config_path)
}
