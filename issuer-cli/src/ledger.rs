//! The issuance ledger (one JSON line per issued credential) and `govcred ledger merge`.
//!
//! `issue-batch` appends a line after each credential is written; `--resume` skips
//! the rows the ledger names, `keys retire` reads it to know which keys still have
//! unexpired credentials, and `ledger merge` combines the ledgers of shards, refusing
//! a row id or status index used twice.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{files, CliError, CliResult};

/// One issued credential.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    /// The input row's id (its id column, or `line-N`).
    pub row: String,
    /// The row's line number in its input file.
    pub line: u64,
    /// The credential's id (`urn:uuid:…`).
    pub credential_id: String,
    /// The credential's format (`jwt-vc`, `sd-jwt-vc`, `mdoc`).
    pub format: String,
    /// Status list URI and index, when the credential has a status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_index: Option<usize>,
    /// SHA-256 (base64url) of the credential as written (an offer: of its link).
    pub sha256: String,
    /// Where the credential was written (relative to the batch's output directory).
    pub file: String,
    /// The signing key's id (`kid` header / key thumbprint).
    pub kid: String,
    /// Issuance time and expiry (Unix seconds).
    pub issued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `I/N` when issued by a shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// An offer, not a credential (`output = "offer"`): the issuer server's credential
    /// configuration id. `credential_id` is then the offer's credential identifier,
    /// `expires_at` the offer's expiry, `kid` the key that signed its code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
}

/// Read every entry of a ledger, calling `f` on each (streaming; memory flat).
/// A torn last line (the process was killed while writing it) is ignored; any other
/// unreadable line is an error.
pub fn for_each(
    path: &Path,
    mut f: impl FnMut(Entry) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(CliError::input(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let mut lines = BufReader::new(file).lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let line =
            line.map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))?;
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(&line) {
            Ok(e) => f(e)?,
            Err(_) if lines.peek().is_none() => {} // torn final line
            Err(e) => {
                return Err(CliError::input(format!(
                    "{} line {}: not a ledger entry: {e}",
                    path.display(),
                    i + 1
                )))
            }
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Combine shard ledgers into one; fails if a row id or a status index is used twice.
    Merge(MergeArgs),
}

#[derive(Args)]
pub struct MergeArgs {
    /// The ledgers to merge (e.g. `shard-*/ledger.jsonl`).
    #[arg(required = true)]
    ledgers: Vec<PathBuf>,
    /// The merged ledger to write.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(cmd: LedgerCommand) -> CliResult {
    match cmd {
        LedgerCommand::Merge(a) => merge(&a),
    }
}

fn merge(a: &MergeArgs) -> CliResult {
    let mut rows: HashSet<String> = HashSet::new();
    let mut indices: HashSet<(String, usize)> = HashSet::new();
    let mut ids: HashSet<String> = HashSet::new();
    let mut conflicts = Vec::new();
    let tmp = a.out.with_extension("jsonl.tmp");
    if let Some(parent) = a.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", parent.display())))?;
    }
    let werr = |e: std::io::Error| CliError::input(format!("cannot write {}: {e}", tmp.display()));
    let mut out = BufWriter::new(File::create(&tmp).map_err(werr)?);
    let mut count = 0u64;
    for path in &a.ledgers {
        if !path.exists() {
            return Err(CliError::input(format!(
                "{}: no such ledger",
                path.display()
            )));
        }
        for_each(path, |e| {
            let at = format!("{} line {}", path.display(), e.line);
            if !rows.insert(e.row.clone()) {
                conflicts.push(json!({"kind": "row", "row": e.row, "at": at}));
            }
            if !ids.insert(e.credential_id.clone()) {
                conflicts.push(
                    json!({"kind": "credential_id", "credential_id": e.credential_id, "at": at}),
                );
            }
            if let (Some(uri), Some(idx)) = (&e.status_uri, e.status_index) {
                if !indices.insert((uri.clone(), idx)) {
                    conflicts.push(json!({"kind": "status_index", "uri": uri, "index": idx, "row": e.row, "at": at}));
                }
            }
            let mut line = serde_json::to_string(&e).unwrap_or_default();
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(werr)?;
            count += 1;
            Ok(())
        })?;
    }
    out.flush().map_err(werr)?;
    drop(out);
    if !conflicts.is_empty() {
        std::fs::remove_file(&tmp).ok();
        files::print_json(&json!({"merged": false, "conflicts": conflicts}));
        eprintln!(
            "govcred: {} conflict(s): a row or status index appears in more than one entry; nothing written",
            conflicts.len()
        );
        return Ok(ExitCode::from(1));
    }
    std::fs::rename(&tmp, &a.out)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", a.out.display())))?;
    files::print_json(&json!({"merged": true, "entries": count, "out": a.out}));
    Ok(ExitCode::SUCCESS)
}
