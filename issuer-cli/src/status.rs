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
use govcred::status::token_status_list::{self, StatusList, StatusListToken};
use govcred::status::Status;
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
    /// Mark an index INVALID (permanent).
    Revoke(SetArgs),
    /// Mark an index SUSPENDED (2-bit or wider lists).
    Suspend(SetArgs),
    /// Mark a suspended index VALID again.
    Reinstate(SetArgs),
    /// Sign every list and write it under SITE at its URI's path, ready for static hosting.
    Publish(PublishArgs),
    /// Verify a published list and print the status of indices.
    Check(CheckArgs),
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
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The published list (`statuslist+jwt`, or a Bitstring Status List `vc+jwt`).
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
}

fn record_path(store: &Path, uri: &str) -> PathBuf {
    let h = sha256(uri.as_bytes());
    store.join(format!("list-{}.json", b64::encode(&h[..12])))
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
    let uri = &rec.uri;
    let mut entry = json!({
        "id": format!("{uri}#{idx}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": if rec.bits == 1 { "revocation" } else { "message" },
        "statusListIndex": idx.to_string(),
        "statusListCredential": uri,
    });
    if rec.bits > 1 {
        entry["statusSize"] = rec.bits.into();
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
    let mut rec = load(&a.store, &a.uri)?;
    let used = b64::decode(&rec.allocated, "allocation bitmap")
        .map_err(|e| CliError::input(e.to_string()))?;
    if a.index >= rec.size || used[a.index / 8] & (1 << (a.index % 8)) == 0 {
        return Err(CliError::input(format!(
            "index {} of {} was never allocated",
            a.index, a.uri
        )));
    }
    let mut list = statuses(&rec)?;
    let current = Status::from_value(list.get(a.index)?);
    match (current, value) {
        (Status::Invalid, _) => {
            return Err(CliError::input(format!(
                "index {} is revoked; revocation is permanent",
                a.index
            )))
        }
        (Status::Valid, Status::Valid) => {
            return Err(CliError::input(format!(
                "index {} is not suspended",
                a.index
            )))
        }
        (_, Status::Suspended) if rec.bits < 2 => {
            return Err(CliError::input(format!(
                "{} is a 1-bit list: it cannot express SUSPENDED",
                a.uri
            )))
        }
        _ => {}
    }
    list.set(a.index, value.value())?;
    rec.statuses = list.to_json();
    save(&a.store, &rec)?;
    crate::audit::record(
        None,
        "status_change",
        json!({"uri": a.uri, "index": a.index, "status": value.as_str(), "previous": current.as_str()}),
    )?;
    files::print_json(
        &json!({"uri": a.uri, "index": a.index, "status": value.as_str(), "previous": current.as_str()}),
    );
    Ok(ExitCode::SUCCESS)
}

/// The site-relative path of a URL: `https://host/a/b` → `a/b`.
fn site_path(uri: &str) -> Result<PathBuf, CliError> {
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
        StatusCommand::Revoke(a) => return set_status(&a, Status::Invalid),
        StatusCommand::Suspend(a) => return set_status(&a, Status::Suspended),
        StatusCommand::Reinstate(a) => return set_status(&a, Status::Valid),
        StatusCommand::Publish(a) => {
            let mut written = Vec::new();
            let mut entries: Vec<_> = std::fs::read_dir(&a.store)
                .map_err(|e| CliError::input(format!("cannot read {}: {e}", a.store.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            entries.sort();
            for p in entries {
                let rec: ListRecord =
                    serde_json::from_value(files::read_json(&p)?).map_err(|e| {
                        CliError::input(format!("{}: corrupt registry entry: {e}", p.display()))
                    })?;
                let key = files::read_signing_key(&rec.key)?;
                let list = statuses(&rec)?;
                let text = match rec.kind {
                    Kind::Token => token_status_list::sign_token(
                        &StatusListToken {
                            sub: rec.uri.clone(),
                            iss: Some(rec.issuer.clone()),
                            iat: now,
                            exp: Some(now + 2 * rec.ttl),
                            ttl: Some(rec.ttl),
                            list,
                            kid: rec.kid.clone(),
                        },
                        &key,
                    )?,
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
                let out = a.out.join(site_path(&rec.uri)?);
                files::write(&out, text.as_bytes())?;
                written.push(json!({"uri": rec.uri, "file": out, "ttl": rec.ttl}));
            }
            files::print_json(&json!({"published": written, "at": datetime::format(now)}));
        }
        StatusCommand::Check(a) => {
            let trust = crate::verify::trust_from(&a.jwks, &a.did_docs, &[])?;
            let text = files::read_text(&a.list)?;
            let list = govcred::status::load_list(text.trim(), &trust, 60)?;
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
