//! The issuer's audit log: `govcred audit verify`, and appending entries.
//!
//! Issuance (single and batch), status changes and key operations append an entry
//! to the hash-chained log of [`govcred::audit`]. The log is the file named by
//! `--audit-log` where a command has it, else by the `GOVCRED_AUDIT_LOG` environment
//! variable; with neither, single commands log nothing (a batch always logs, by
//! default to `OUT/audit.jsonl`). The file is locked while it is appended to, so
//! several processes can share one log without forking the chain.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::audit::{verify_lines, Chain};
use govcred::{Clock, SystemClock};
use serde_json::{json, Value};

use crate::{files, CliError, CliResult};

/// Environment variable naming the audit log for commands without `--audit-log`.
pub const ENV: &str = "GOVCRED_AUDIT_LOG";

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check a log's hash chain; reports the first broken entry (exit 1).
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The audit log (JSONL).
    log: PathBuf,
}

/// An open, locked audit log positioned for appending.
pub struct AuditLog {
    file: std::io::BufWriter<File>,
    path: PathBuf,
    chain: Chain,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |e| CliError::input(format!("audit log {}: {e}", path.display()))
}

impl AuditLog {
    /// Open (or create) `path`, lock it, and continue its chain from the last entry.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(path))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io(path))?;
        file.lock().map_err(io(path))?;
        // The last line is within the file's tail: read at most 64 KiB from the end.
        let len = file.seek(SeekFrom::End(0)).map_err(io(path))?;
        let start = len.saturating_sub(64 * 1024);
        file.seek(SeekFrom::Start(start)).map_err(io(path))?;
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).map_err(io(path))?;
        let text = String::from_utf8_lossy(&tail);
        let chain = match text.trim_end_matches('\n').rsplit('\n').next() {
            Some(last) if !last.is_empty() => Chain::after(last).map_err(|e| {
                CliError::input(format!(
                    "audit log {}: last entry unreadable ({e}): run `govcred audit verify`",
                    path.display()
                ))
            })?,
            _ => Chain::genesis(),
        };
        Ok(AuditLog {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            path: path.to_path_buf(),
            chain,
        })
    }

    /// Append one entry (buffered: [`AuditLog::flush`] or [`AuditLog::sync`] writes it).
    pub fn append(&mut self, action: &str, details: Value) -> Result<(), CliError> {
        self.append_details(action, &govcred::audit::Details::new(&details))
    }

    /// [`AuditLog::append`] with details canonicalised beforehand (on another thread).
    pub fn append_details(
        &mut self,
        action: &str,
        details: &govcred::audit::Details,
    ) -> Result<(), CliError> {
        let mut line = self
            .chain
            .append_details(SystemClock.now(), action, details);
        line.push('\n');
        self.file.write_all(line.as_bytes()).map_err(io(&self.path))
    }

    /// Write buffered entries to the file.
    pub fn flush(&mut self) -> Result<(), CliError> {
        self.file.flush().map_err(io(&self.path))
    }

    /// Write buffered entries and flush them to stable storage.
    pub fn sync(&mut self) -> Result<(), CliError> {
        self.flush()?;
        self.file.get_ref().sync_data().map_err(io(&self.path))
    }
}

/// The log named by `explicit`, else by `GOVCRED_AUDIT_LOG`, if any.
pub fn configured(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(ENV).map(PathBuf::from))
}

/// Append one entry to the configured log (no-op when none is configured).
pub fn record(explicit: Option<&Path>, action: &str, details: Value) -> Result<(), CliError> {
    if let Some(path) = configured(explicit) {
        let mut log = AuditLog::open(&path)?;
        log.append(action, details)?;
        log.sync()?;
    }
    Ok(())
}

pub fn run(cmd: AuditCommand) -> CliResult {
    match cmd {
        AuditCommand::Verify(a) => {
            let text = files::read_text(&a.log)?;
            let body = text.strip_suffix('\n').unwrap_or(&text);
            let lines: Vec<&str> = if body.is_empty() {
                Vec::new()
            } else {
                body.split('\n').collect()
            };
            let v = verify_lines(lines.iter().copied());
            files::print_json(&json!({
                "log": a.log,
                "valid": v.broken.is_none(),
                "entries": v.entries,
                "last_hash": v.chain.last_hash(),
                "first_broken": v.broken.as_ref().map(|b| json!({"line": b.line, "reason": b.reason})),
            }));
            if let Some(b) = v.broken {
                eprintln!(
                    "govcred: audit log {} is broken at line {}: {}",
                    a.log.display(),
                    b.line,
                    b.reason
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
