//! `govcred status`: an issuer's status lists, kept in a registry directory.
//!
//! Each list is one JSON file in `--store DIR`. Indices are allocated at random (not
//! sequentially, so an index says nothing about when or to whom a credential was
//! issued) and every allocation is written to disk — atomically, and synced — before
//! the index is handed out: a crash can waste an index, never reuse one.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::crypto::sha256;
use govcred::status::bitstring::{BitstringList, StatusListCredential};
use govcred::status::crs::{self, IssueRequest, RevokeRequest};
use govcred::status::token_status_list::{self, StatusList, StatusListToken};
use govcred::status::Status;
use govcred::x509::Certificate;
use govcred::{b64, datetime, Clock, SystemClock};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{files, CliError, CliResult};

#[derive(Subcommand)]
pub enum StatusCommand {
    /// Create a status list in the registry.
    Create(CreateArgs),
    /// Reserve random, never-reused indices on a list (prints them as JSON).
    Allocate(AllocateArgs),
    /// Mark an index INVALID (permanent): in a local registry (--store), or at a
    /// central Status List Service (--service).
    Revoke(RevokeArgs),
    /// Ask a central Status List Service (--service) for an index; prints {idx, uri}.
    Request(RequestArgs),
    /// Mark an index SUSPENDED (2-bit or wider lists).
    Suspend(SetArgs),
    /// Mark a suspended index VALID again.
    Reinstate(SetArgs),
    /// Sign every list and write it under SITE at its URI's path, ready for static hosting.
    Publish(PublishArgs),
    /// Verify a published list and print the status of indices.
    Check(CheckArgs),
    /// Fold the registries of batch shards (each a copy of STORE's list that allocated
    /// from its own range) back into STORE, so one list covers every shard; refuses an
    /// index allocated by two shards (nothing written, exit 1).
    Merge(MergeArgs),
}

#[derive(Args)]
pub struct MergeArgs {
    /// The department's registry: the base the shards' copies were taken from, and
    /// where the merged list is written.
    #[arg(long)]
    store: PathBuf,
    /// The list to merge.
    #[arg(long)]
    uri: String,
    /// The shards' registry directories (e.g. `shard-*/status`).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Ledgers of the shards (or the merged ledger): each of their indices on this list
    /// must be allocated in the merged list.
    #[arg(long = "ledger")]
    ledgers: Vec<PathBuf>,
}

/// How a department signs its requests to a central Status List Service.
#[derive(Args)]
pub struct ServiceArgs {
    /// The Status List Service's issuer API base URL (POST URL/issue, URL/revoke).
    #[arg(long, value_name = "URL")]
    service: String,
    /// The department's signing key (private P-256 JWK), registered in its JWKS.
    #[arg(long)]
    key: PathBuf,
    /// The clientId the service registered for the department (the request `iss`).
    #[arg(long)]
    client_id: String,
    /// The request header `kid` (default: the key's `kid`, else its thumbprint).
    #[arg(long)]
    kid: Option<String>,
}

#[derive(Args)]
pub struct RequestArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// When the credential expires (RFC 3339); at most a year ahead. Default: a year
    /// from now, less a day.
    #[arg(long)]
    expires: Option<String>,
}

#[derive(Args)]
pub struct RevokeArgs {
    /// The local registry directory (revoke in your own lists).
    #[arg(long, conflicts_with_all = ["service", "key", "client_id", "kid"], required_unless_present = "service")]
    store: Option<PathBuf>,
    /// A central Status List Service's issuer API base URL.
    #[arg(long, value_name = "URL", requires_all = ["key", "client_id"])]
    service: Option<String>,
    /// With --service: the department's signing key (private P-256 JWK).
    #[arg(long)]
    key: Option<PathBuf>,
    /// With --service: the department's clientId.
    #[arg(long)]
    client_id: Option<String>,
    /// With --service: the request header `kid` (default: the key's kid or thumbprint).
    #[arg(long)]
    kid: Option<String>,
    /// The list URI (as allocated / as the service returned it).
    #[arg(long)]
    uri: String,
    /// The index.
    #[arg(long)]
    index: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// IETF Token Status List (`statuslist+jwt`): SD-JWT VCs and mdocs.
    Token,
    /// W3C Bitstring Status List credential (`vc+jwt`): W3C VCs.
    Bitstring,
}

#[derive(Args)]
pub struct CreateArgs {
    /// Bits per entry: 1 (valid/invalid), 2 (adds suspended), 4 or 8.
    #[arg(long, default_value_t = 2)]
    bits: u8,
    /// Number of entries.
    #[arg(long, default_value_t = 131_072)]
    size: usize,
    /// The URL the list will be published at (credentials point here).
    #[arg(long)]
    uri: String,
    /// The signing key (private JWK); its path is recorded, not its contents.
    #[arg(long)]
    key: PathBuf,
    /// The list's issuer (`iss`), default the key's did:key.
    #[arg(long)]
    issuer: Option<String>,
    /// Header `kid` for the signed list.
    #[arg(long)]
    kid: Option<String>,
    /// How long verifiers may cache the list, seconds (`ttl`); also sets `exp` = iat + 2·ttl.
    #[arg(long, default_value_t = 43_200)]
    ttl: i64,
    /// List format.
    #[arg(long, value_enum, default_value = "token")]
    kind: Kind,
    /// Also publish the list as a CWT (`application/statuslist+cwt`, for mdocs); token lists only.
    #[arg(long)]
    cwt: bool,
    /// With --cwt: certificate chain (PEM, signer first) put in the CWT's x5chain,
    /// e.g. a certificate issued by the IACA that mdoc verifiers trust.
    #[arg(long, requires = "cwt")]
    x5chain: Option<PathBuf>,
    /// The registry directory.
    #[arg(long)]
    store: PathBuf,
}

#[derive(Args)]
pub struct AllocateArgs {
    #[arg(long)]
    store: PathBuf,
    #[arg(long)]
    uri: String,
    /// How many indices.
    #[arg(long, default_value_t = 1)]
    count: usize,
}

#[derive(Args)]
pub struct SetArgs {
    #[arg(long)]
    store: PathBuf,
    #[arg(long)]
    uri: String,
    /// The index (as allocated).
    #[arg(long)]
    index: usize,
}

#[derive(Args)]
pub struct PublishArgs {
    #[arg(long)]
    store: PathBuf,
    /// Site root: a list for `https://host/a/b` is written to `SITE/a/b`.
    #[arg(
        long,
        value_name = "SITE",
        required_unless_present = "publish",
        conflicts_with = "publish"
    )]
    out: Option<PathBuf>,
    /// Publish to a directory or to object storage, `s3://BUCKET/PREFIX` (a list for
    /// `https://host/a/b` becomes `PREFIX/a/b`, with `Cache-Control: max-age=TTL`;
    /// endpoint, region and credentials from the AWS_* environment variables).
    #[arg(long, value_name = "TARGET")]
    publish: Option<String>,
    /// Also write every Token Status List as a CWT (`SITE/a/b.cwt`), not only those
    /// created with --cwt.
    #[arg(long)]
    cwt: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The published list (`statuslist+jwt`, `statuslist+cwt`, or a Bitstring Status List `vc+jwt`).
    list: PathBuf,
    /// Indices to look up.
    #[arg(long = "index", required = true, num_args = 1..)]
    indices: Vec<usize>,
    /// Trust this key as the list's signer (repeatable).
    #[arg(long = "jwk")]
    jwks: Vec<PathBuf>,
    /// A DID document for the list's signer (repeatable).
    #[arg(long = "did-doc")]
    did_docs: Vec<PathBuf>,
    /// Trusted root certificates (PEM) for a CWT list signed with an x5chain (repeatable).
    #[arg(long = "iaca")]
    iacas: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One list in the registry.
#[derive(Serialize, Deserialize)]
pub struct ListRecord {
    pub uri: String,
    pub kind: Kind,
    pub bits: u8,
    pub size: usize,
    pub key: PathBuf,
    pub issuer: String,
    pub kid: Option<String>,
    pub ttl: i64,
    /// Current statuses (`bits`/`lst` JSON of a Token Status List, LSB-first).
    pub statuses: serde_json::Value,
    /// Allocated indices, 1 bit each, base64url.
    pub allocated: String,
    pub allocated_count: usize,
    /// Publish as a CWT too (lists for mdocs).
    #[serde(default)]
    pub cwt: bool,
    /// Certificate chain (PEM file) for the CWT's x5chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5chain: Option<PathBuf>,
}

fn record_path(store: &Path, uri: &str) -> PathBuf {
    let h = sha256(uri.as_bytes());
    store.join(format!("list-{}.json", b64::encode(&h[..12])))
}

/// Hold the registry record of `uri` for a read-modify-write: an exclusive lock on
/// `list-….lock` beside it (released when the returned file is dropped), so a
/// server allocating indices, a batch and a `status revoke` from the shell never
/// overwrite each other's change.
fn lock_record(store: &Path, uri: &str) -> Result<std::fs::File, CliError> {
    std::fs::create_dir_all(store)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", store.display())))?;
    let p = record_path(store, uri).with_extension("lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| CliError::input(format!("cannot open {}: {e}", p.display())))?;
    f.lock()
        .map_err(|e| CliError::input(format!("cannot lock {}: {e}", p.display())))?;
    Ok(f)
}

/// Load the record of `uri`.
pub fn load(store: &Path, uri: &str) -> Result<ListRecord, CliError> {
    let p = record_path(store, uri);
    if !p.exists() {
        return Err(CliError::input(format!(
            "no status list {uri} in {} (create it first)",
            store.display()
        )));
    }
    serde_json::from_value(files::read_json(&p)?)
        .map_err(|e| CliError::input(format!("{}: corrupt registry entry: {e}", p.display())))
}

/// Write the record durably: temp file, fsync, rename over, fsync the directory.
pub fn save(store: &Path, rec: &ListRecord) -> Result<(), CliError> {
    use std::io::Write;
    std::fs::create_dir_all(store)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", store.display())))?;
    let p = record_path(store, &rec.uri);
    let tmp = p.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(rec).unwrap_or_default();
    let io = |e: std::io::Error| CliError::input(format!("cannot write {}: {e}", p.display()));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(&text).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, &p).map_err(io)?;
    if let Ok(dir) = std::fs::File::open(store) {
        dir.sync_all().ok();
    }
    Ok(())
}

fn statuses(rec: &ListRecord) -> Result<StatusList, CliError> {
    Ok(StatusList::from_json(&rec.statuses)?)
}

/// Allocate `count` random unallocated indices and persist before returning them.
pub fn allocate(store: &Path, uri: &str, count: usize) -> Result<Vec<usize>, CliError> {
    allocate_in(store, uri, count, None)
}

/// [`allocate`] restricted to `range` of the list's indices (a batch shard's share,
/// so shards allocate from disjoint ranges without coordinating); `None` = the whole list.
pub fn allocate_in(
    store: &Path,
    uri: &str,
    count: usize,
    range: Option<std::ops::Range<usize>>,
) -> Result<Vec<usize>, CliError> {
    let _held = lock_record(store, uri)?;
    let mut rec = load(store, uri)?;
    let mut used = b64::decode(&rec.allocated, "allocation bitmap")
        .map_err(|e| CliError::input(e.to_string()))?;
    let range = range.unwrap_or(0..rec.size);
    if range.is_empty() || range.end > rec.size {
        return Err(CliError::input(format!(
            "index range {range:?} is outside status list {uri} (size {})",
            rec.size
        )));
    }
    if rec.allocated_count + count > rec.size {
        return Err(CliError::input(format!(
            "status list {uri} has {} of {} indices left: create another list",
            rec.size - rec.allocated_count,
            rec.size
        )));
    }
    let width = range.end - range.start;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let start = (rand::random::<u64>() % width as u64) as usize;
        let idx = (0..width)
            .map(|o| range.start + (start + o) % width)
            .find(|&i| used[i / 8] & (1 << (i % 8)) == 0)
            .ok_or_else(|| {
                CliError::input(format!(
                    "status list {uri} has no free index left in {range:?}: create another list"
                ))
            })?;
        used[idx / 8] |= 1 << (idx % 8);
        out.push(idx);
    }
    rec.allocated = b64::encode(&used);
    rec.allocated_count += count;
    save(store, &rec)?;
    Ok(out)
}

/// Allocate an index on a Bitstring list and return the `credentialStatus` entry.
pub fn bitstring_entry(store: &Path, uri: &str) -> Result<serde_json::Value, CliError> {
    let rec = load(store, uri)?;
    if rec.kind != Kind::Bitstring {
        return Err(CliError::input(format!("{uri} is a Token Status List: W3C credentials need a list created with --kind bitstring")));
    }
    let idx = allocate(store, uri, 1)?[0];
    Ok(bitstring_entry_at(&rec, idx))
}

/// The `credentialStatus` entry for an already allocated index of a Bitstring list.
pub fn bitstring_entry_at(rec: &ListRecord, idx: usize) -> serde_json::Value {
    bitstring_entry_for(&rec.uri, rec.bits, idx)
}

/// The `credentialStatus` entry for index `idx` of the Bitstring list at `uri` with
/// `bits` per entry (1: revocation; more: messages, as GOV.UK's 2-bit lists).
pub fn bitstring_entry_for(uri: &str, bits: u8, idx: usize) -> serde_json::Value {
    let mut entry = json!({
        "id": format!("{uri}#{idx}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": if bits == 1 { "revocation" } else { "message" },
        "statusListIndex": idx.to_string(),
        "statusListCredential": uri,
    });
    if bits > 1 {
        entry["statusSize"] = bits.into();
    }
    entry
}

/// Allocate an index on a Token Status List and return the `status` claim.
pub fn token_reference(store: &Path, uri: &str) -> Result<serde_json::Value, CliError> {
    let rec = load(store, uri)?;
    if rec.kind != Kind::Token {
        return Err(CliError::input(format!(
            "{uri} is a Bitstring list: SD-JWT VCs need a list created with --kind token"
        )));
    }
    let idx = allocate(store, uri, 1)?[0];
    Ok(token_reference_at(uri, idx))
}

/// The `status` claim for an already allocated index of a Token Status List.
pub fn token_reference_at(uri: &str, idx: usize) -> serde_json::Value {
    json!({"status_list": {"idx": idx, "uri": uri}})
}

fn set_status(a: &SetArgs, value: Status) -> CliResult {
    set_status_in(&a.store, &a.uri, a.index, value)
}

fn set_status_in(store: &Path, uri: &str, index: usize, value: Status) -> CliResult {
    let previous = change_status(store, uri, index, value, None)?;
    files::print_json(
        &json!({"uri": uri, "index": index, "status": value.as_str(), "previous": previous.as_str()}),
    );
    Ok(ExitCode::SUCCESS)
}

/// The current status of `index` on list `uri` in registry `store`.
pub fn status_at(store: &Path, uri: &str, index: usize) -> Result<Status, CliError> {
    let rec = load(store, uri)?;
    Ok(Status::from_value(statuses(&rec)?.get(index)?))
}

/// Set `index` on list `uri` in registry `store` to `value` (revoke, suspend,
/// reinstate), with the registry's rules: only allocated indices, revocation is
/// permanent, SUSPENDED needs 2 bits. Appends `status_change` to the audit log
/// (`audit_log`, else `GOVCRED_AUDIT_LOG`). Returns the previous status.
pub fn change_status(
    store: &Path,
    uri: &str,
    index: usize,
    value: Status,
    audit_log: Option<&Path>,
) -> Result<Status, CliError> {
    let _held = lock_record(store, uri)?;
    let mut rec = load(store, uri)?;
    let used = b64::decode(&rec.allocated, "allocation bitmap")
        .map_err(|e| CliError::input(e.to_string()))?;
    if index >= rec.size || used[index / 8] & (1 << (index % 8)) == 0 {
        return Err(CliError::input(format!(
            "index {index} of {uri} was never allocated"
        )));
    }
    let mut list = statuses(&rec)?;
    let current = Status::from_value(list.get(index)?);
    match (current, value) {
        (Status::Invalid, _) => {
            return Err(CliError::input(format!(
                "index {index} is revoked; revocation is permanent"
            )))
        }
        (Status::Valid, Status::Valid) => {
            return Err(CliError::input(format!("index {index} is not suspended")))
        }
        (_, Status::Suspended) if rec.bits < 2 => {
            return Err(CliError::input(format!(
                "{uri} is a 1-bit list: it cannot express SUSPENDED"
            )))
        }
        _ => {}
    }
    list.set(index, value.value())?;
    rec.statuses = list.to_json();
    save(store, &rec)?;
    crate::audit::record(
        audit_log,
        "status_change",
        json!({"uri": uri, "index": index, "status": value.as_str(), "previous": current.as_str()}),
    )?;
    Ok(current)
}

/// The site-relative path of a URL: `https://host/a/b` → `a/b`.
pub fn site_path(uri: &str) -> Result<PathBuf, CliError> {
    let rest = uri
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| CliError::input(format!("{uri} is not a URL")))?;
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or_default();
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(CliError::input(format!(
            "{uri}: cannot map to a file path (needs a non-empty, plain path)"
        )));
    }
    Ok(PathBuf::from(path))
}

/// Sign the current state of list `rec` at `now` (what `status publish` writes and
/// `govcred serve` answers).
/// The Token Status List a registry record publishes at `now` (valid for two `ttl`s).
fn token_of(rec: &ListRecord, list: StatusList, now: i64) -> StatusListToken {
    StatusListToken {
        sub: rec.uri.clone(),
        iss: Some(rec.issuer.clone()),
        iat: now,
        exp: Some(now + 2 * rec.ttl),
        ttl: Some(rec.ttl),
        list,
        kid: rec.kid.clone(),
    }
}

pub fn sign_list(rec: &ListRecord, now: i64) -> Result<String, CliError> {
    let key = files::read_signing_key(&rec.key)?;
    let list = statuses(rec)?;
    let text = match rec.kind {
        Kind::Token => token_status_list::sign_token(&token_of(rec, list, now), &key)?,
        Kind::Bitstring => {
            let mut bits = BitstringList::new(rec.bits, rec.size)?;
            for i in 0..rec.size {
                let v = list.get(i)?;
                if v != 0 {
                    bits.set(i, v)?;
                }
            }
            let kid = match &rec.kid {
                Some(k) => k.clone(),
                None => crate::issue::default_kid(&rec.issuer, key.verifying_key())?,
            };
            govcred::status::bitstring::sign_credential_jwt(
                &StatusListCredential {
                    id: rec.uri.clone(),
                    issuer: rec.issuer.clone(),
                    purpose: if rec.bits == 1 {
                        "revocation".into()
                    } else {
                        "message".into()
                    },
                    status_size: rec.bits,
                    list: bits,
                    valid_from: Some(now),
                    valid_until: Some(now + 2 * rec.ttl),
                    ttl: Some(rec.ttl.saturating_mul(1000)), // W3C: milliseconds
                    status_messages: vec![
                        (0, "VALID".into()),
                        (1, "INVALID".into()),
                        (2, "SUSPENDED".into()),
                    ]
                    .into_iter()
                    .filter(|(v, _)| rec.bits > 1 || *v < 2)
                    .collect(),
                },
                &kid,
                &key,
                now,
            )?
        }
    };
    Ok(text)
}

pub fn run(cmd: StatusCommand) -> CliResult {
    let now = SystemClock.now();
    match cmd {
        StatusCommand::Create(a) => {
            let list = StatusList::new(a.bits, a.size)?;
            let key = files::read_signing_key(&a.key)?;
            let issuer = match a.issuer {
                Some(i) => i,
                None => govcred::did::key::from_jwk(&govcred::Signer::public_jwk(&key))?,
            };
            if a.kind == Kind::Bitstring && !matches!(a.bits, 1 | 2 | 4 | 8) {
                return Err(CliError::input("--bits must be 1, 2, 4 or 8"));
            }
            if a.cwt && a.kind != Kind::Token {
                return Err(CliError::input(
                    "--cwt is for Token Status Lists (--kind token): the CWT form has no Bitstring counterpart",
                ));
            }
            if let Some(p) = &a.x5chain {
                Certificate::from_pem(&files::read_text(p)?)
                    .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            }
            site_path(&a.uri)?;
            if record_path(&a.store, &a.uri).exists() {
                return Err(CliError::input(format!(
                    "status list {} already exists in {}",
                    a.uri,
                    a.store.display()
                )));
            }
            let rec = ListRecord {
                uri: a.uri.clone(),
                kind: a.kind,
                bits: a.bits,
                size: list.len(),
                key: std::fs::canonicalize(&a.key).unwrap_or(a.key),
                issuer,
                kid: a.kid,
                ttl: a.ttl,
                statuses: list.to_json(),
                allocated: b64::encode(vec![0u8; list.len().div_ceil(8)]),
                allocated_count: 0,
                cwt: a.cwt,
                x5chain: a.x5chain.map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
            };
            save(&a.store, &rec)?;
            files::print_json(
                &json!({"uri": rec.uri, "kind": rec.kind, "bits": rec.bits, "size": rec.size, "registry": record_path(&a.store, &rec.uri)}),
            );
        }
        StatusCommand::Allocate(a) => {
            let idx = allocate(&a.store, &a.uri, a.count)?;
            files::print_json(&json!({"uri": a.uri, "indices": idx}));
        }
        StatusCommand::Revoke(a) => {
            return match (&a.store, &a.service) {
                (Some(store), None) => set_status_in(store, &a.uri, a.index, Status::Invalid),
                (None, Some(service)) => service_revoke(&a, service, now),
                _ => Err(CliError::input("give either --store DIR or --service URL")),
            }
        }
        StatusCommand::Request(a) => return service_request(&a, now),
        StatusCommand::Suspend(a) => return set_status(&a, Status::Suspended),
        StatusCommand::Reinstate(a) => return set_status(&a, Status::Valid),
        StatusCommand::Publish(a) => {
            let target = match (&a.out, &a.publish) {
                (Some(dir), None) => {
                    Box::new(crate::publish::DirPublisher::new(dir.clone())) as Box<_>
                }
                (None, Some(t)) => crate::publish::target(t)?,
                _ => {
                    return Err(CliError::input(
                        "give either --out SITE or --publish TARGET",
                    ))
                }
            };
            let written = publish_registry(&a.store, target.as_ref(), a.cwt, now)?;
            files::print_json(&json!({
                "published": written,
                "target": target.describe(),
                "at": datetime::format(now),
            }));
        }
        StatusCommand::Merge(a) => return merge(&a),
        StatusCommand::Check(a) => {
            let mut trust = crate::verify::trust_from(&a.jwks, &a.did_docs, &[])?;
            for p in &a.iacas {
                trust
                    .add_root_certificates_pem(&files::read_text(p)?)
                    .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
            }
            let bytes = files::read(&a.list)?;
            let list = govcred::status::load_list_bytes(&bytes, &trust, 60)?;
            let mut out = Vec::new();
            for i in &a.indices {
                let s = list.status(*i)?;
                out.push(json!({"index": i, "status": s.as_str(), "value": s.value()}));
            }
            let stale = list.fresh_until().is_some_and(|u| now > u);
            let summary = json!({
                "uri": list.uri(),
                "issued_at": list.issued_at().map(datetime::format),
                "fresh_until": list.fresh_until().map(datetime::format),
                "stale": stale,
                "statuses": out,
            });
            if a.json {
                files::print_json(&summary);
            } else {
                for o in &out {
                    println!(
                        "{} {}",
                        o["index"],
                        o["status"].as_str().unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sign every list of the registry `store` at `now` and hand it to `target` at its
/// URI's path, with `Cache-Control: max-age` from the list's `ttl`; Token Status Lists
/// created with `--cwt` (all of them with `all_cwt`) also as a CWT at `PATH.cwt`.
/// Returns one `{uri, file, ttl[, cwt_file]}` entry per list.
pub fn publish_registry(
    store: &Path,
    target: &dyn crate::publish::Publisher,
    all_cwt: bool,
    now: i64,
) -> Result<Vec<serde_json::Value>, CliError> {
    use crate::publish::Document;
    let mut written = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(store)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", store.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for p in entries {
        let rec: ListRecord = serde_json::from_value(files::read_json(&p)?).map_err(|e| {
            CliError::input(format!("{}: corrupt registry entry: {e}", p.display()))
        })?;
        let path = site_path(&rec.uri)?;
        let path = path
            .to_str()
            .ok_or_else(|| CliError::input(format!("{}: not a UTF-8 path", rec.uri)))?;
        let mut cwt_file = None;
        if matches!(rec.kind, Kind::Token) && (rec.cwt || all_cwt) {
            let key = files::read_signing_key(&rec.key)?;
            let token = token_of(&rec, statuses(&rec)?, now);
            let chain = match &rec.x5chain {
                Some(p) => Certificate::from_pem(&files::read_text(p)?)
                    .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?,
                None => Vec::new(),
            };
            let bytes = govcred::status::cwt::sign_cwt(&token, &key, &chain)?;
            cwt_file = Some(target.put(&Document {
                path: &format!("{path}.cwt"),
                body: &bytes,
                content_type: "application/statuslist+cwt",
                max_age: Some(rec.ttl),
            })?);
        }
        let text = sign_list(&rec, now)?;
        let file = target.put(&Document {
            path,
            body: text.as_bytes(),
            content_type: match rec.kind {
                Kind::Token => "application/statuslist+jwt",
                Kind::Bitstring => "application/vc+jwt",
            },
            max_age: Some(rec.ttl),
        })?;
        let mut entry = json!({"uri": rec.uri, "file": file, "ttl": rec.ttl});
        if let Some(c) = cwt_file {
            entry["cwt_file"] = json!(c);
        }
        written.push(entry);
    }
    Ok(written)
}

fn bit(map: &[u8], i: usize) -> bool {
    map[i / 8] & (1 << (i % 8)) != 0
}

/// `status merge`: three-way merge of shard copies into the base record. An index a
/// shard allocated (set in its copy, not in the base) must be new in exactly one
/// shard; a status a shard changed must not be changed differently by another.
/// Indices the base allocated after the copies were taken cannot be told apart from
/// a shard's: do not allocate from the base list while its shards run.
fn merge(a: &MergeArgs) -> CliResult {
    let _held = lock_record(&a.store, &a.uri)?;
    let mut base = load(&a.store, &a.uri)?;
    let base_map = b64::decode(&base.allocated, "allocation bitmap")?;
    let base_list = statuses(&base)?;
    let mut merged_map = base_map.clone();
    let mut merged_list = base_list.clone();
    // Which shard allocated / changed each index first (for the conflict report).
    let mut owner: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut changed: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut conflicts = Vec::new();
    let mut per_shard = Vec::new();
    for (s, dir) in a.shards.iter().enumerate() {
        let rec = load(dir, &a.uri)?;
        if (rec.kind, rec.bits, rec.size) != (base.kind, base.bits, base.size)
            || rec.issuer != base.issuer
        {
            return Err(CliError::input(format!(
                "{}: list {} differs from the base's (kind, bits, size or issuer): not a copy of it",
                dir.display(),
                a.uri
            )));
        }
        let map = b64::decode(&rec.allocated, "allocation bitmap")?;
        let list = statuses(&rec)?;
        if map.len() != base_map.len() || list.len() != base_list.len() {
            return Err(CliError::input(format!(
                "{}: corrupt registry entry for {}",
                dir.display(),
                a.uri
            )));
        }
        if let Some(i) = (0..base.size).find(|&i| bit(&base_map, i) && !bit(&map, i)) {
            return Err(CliError::input(format!(
                "{}: index {i} is allocated in the base but not in this copy: it was not copied from the base's current state",
                dir.display()
            )));
        }
        let mut new = 0usize;
        for (byte, (&m, &b)) in map.iter().zip(&base_map).enumerate() {
            let fresh = m & !b;
            if fresh == 0 {
                continue;
            }
            for k in 0..8 {
                if fresh & (1 << k) == 0 {
                    continue;
                }
                let i = byte * 8 + k;
                new += 1;
                match owner.insert(i, s) {
                    Some(first) => conflicts.push(json!({"kind": "status_index", "index": i,
                        "shards": [a.shards[first], dir]})),
                    None => merged_map[byte] |= 1 << k,
                }
            }
        }
        let mut statuses_changed = 0usize;
        for i in 0..base.size {
            let v = list.get(i)?;
            if v == base_list.get(i)? {
                continue;
            }
            statuses_changed += 1;
            match changed.insert(i, s) {
                Some(first) if merged_list.get(i)? != v => conflicts.push(json!({"kind": "status",
                    "index": i, "shards": [a.shards[first], dir]})),
                _ => merged_list.set(i, v)?,
            }
        }
        per_shard
            .push(json!({"store": dir, "allocated": new, "statuses_changed": statuses_changed}));
    }
    let mut ledger_entries = 0u64;
    for p in &a.ledgers {
        if !p.exists() {
            return Err(CliError::input(format!("{}: no such ledger", p.display())));
        }
        crate::ledger::for_each(p, |e| {
            if let (Some(uri), Some(i)) = (&e.status_uri, e.status_index) {
                if *uri == a.uri {
                    ledger_entries += 1;
                    if i >= base.size || !bit(&merged_map, i) {
                        conflicts.push(json!({"kind": "unallocated_index", "index": i,
                            "row": e.row, "ledger": p}));
                    }
                }
            }
            Ok(())
        })?;
    }
    if !conflicts.is_empty() {
        files::print_json(&json!({"merged": false, "conflicts": conflicts}));
        eprintln!(
            "govcred: {} conflict(s) merging {}: nothing written",
            conflicts.len(),
            a.uri
        );
        return Ok(ExitCode::from(1));
    }
    let added = owner.len();
    base.allocated_count += added;
    base.allocated = b64::encode(&merged_map);
    base.statuses = merged_list.to_json();
    save(&a.store, &base)?;
    files::print_json(&json!({"merged": true, "uri": a.uri, "added": added,
        "allocated_count": base.allocated_count, "shards": per_shard,
        "ledger_indices_checked": ledger_entries}));
    Ok(ExitCode::SUCCESS)
}

/// The signing key and `kid` for service requests.
fn request_signer(
    key: &Path,
    kid: Option<&str>,
) -> Result<(govcred::crypto::SoftwareKey, String), CliError> {
    let key = files::read_signing_key(key)?;
    let kid = match kid {
        Some(k) => k.to_string(),
        None => govcred::Signer::public_jwk(&key)
            .kid
            .unwrap_or_else(|| key.verifying_key().thumbprint()),
    };
    Ok((key, kid))
}

/// POST a request JWT to `URL/endpoint`; the JSON answer on success, else the
/// service's `{error, error_description}` as the error message.
fn post_request(service: &str, endpoint: &str, jwt: String) -> Result<serde_json::Value, CliError> {
    let url = format!("{}/{endpoint}", service.trim_end_matches('/'));
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| CliError::input(format!("cannot start the HTTP client: {e}")))?;
    let resp = client
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/jwt")
        .body(jwt)
        .send()
        .map_err(|e| CliError::input(format!("POST {url}: {e}")))?;
    let status = resp.status();
    let text = resp
        .text()
        .map_err(|e| CliError::input(format!("POST {url}: reading the answer: {e}")))?;
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let detail = match (body.get("error"), body.get("error_description")) {
            (Some(e), Some(d)) => format!(
                "{}: {}",
                e.as_str().unwrap_or_default(),
                d.as_str().unwrap_or_default()
            ),
            _ => text.chars().take(500).collect(),
        };
        return Err(CliError::input(format!(
            "POST {url}: HTTP {}: {detail}",
            status.as_u16()
        )));
    }
    if body.is_null() {
        return Err(CliError::input(format!(
            "POST {url}: the answer is not JSON"
        )));
    }
    Ok(body)
}

fn new_jti() -> String {
    crs::jti_from_random(rand::random())
}

fn service_request(a: &RequestArgs, now: i64) -> CliResult {
    let (key, kid) = request_signer(&a.service.key, a.service.kid.as_deref())?;
    let status_expiry = match &a.expires {
        Some(t) => datetime::parse(t, "--expires").map_err(|e| CliError::input(e.to_string()))?,
        None => now + 364 * 86_400,
    };
    let jwt = IssueRequest {
        iss: a.service.client_id.clone(),
        iat: now,
        jti: new_jti(),
        status_expiry,
    }
    .sign(&key, &kid)?;
    let answer = post_request(&a.service.service, "issue", jwt)?;
    if answer
        .get("idx")
        .and_then(serde_json::Value::as_u64)
        .is_none()
        || answer
            .get("uri")
            .and_then(serde_json::Value::as_str)
            .is_none()
    {
        return Err(CliError::input(format!(
            "the service answered without idx and uri: {answer}"
        )));
    }
    files::print_json(&json!({"idx": answer["idx"], "uri": answer["uri"]}));
    Ok(ExitCode::SUCCESS)
}

fn service_revoke(a: &RevokeArgs, service: &str, now: i64) -> CliResult {
    let (Some(key), Some(client_id)) = (&a.key, &a.client_id) else {
        return Err(CliError::input("--service needs --key and --client-id"));
    };
    let (key, kid) = request_signer(key, a.kid.as_deref())?;
    let jwt = RevokeRequest {
        iss: client_id.clone(),
        iat: now,
        jti: new_jti(),
        uri: a.uri.clone(),
        idx: a.index,
    }
    .sign(&key, &kid)?;
    let answer = post_request(service, "revoke", jwt)?;
    files::print_json(&json!({
        "uri": a.uri,
        "index": a.index,
        "message": answer.get("message"),
        "revokedAt": answer.get("revokedAt"),
    }));
    Ok(ExitCode::SUCCESS)
}
