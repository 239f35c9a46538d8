//! `govcred wallet`: the encrypted wallet store from the shell — for inspection and
//! shell-driven tests of what the phone does.
//!
//! The store lives in `--store DIR`: `DIR/wallet.db` (SQLite, WAL) and `DIR/store.key`,
//! the software key protector's wrapping key (mode 0600; on a phone the Keychain or
//! Android Keystore holds it instead). `add` verifies the credential with the same
//! trust options as `govcred verify` and refuses what does not verify unless
//! `--unverified`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use govcred::crypto::SoftwareKeyProtector;
use govcred::store::{CredentialSummary, ListFilter, State, Store};
use govcred::{datetime, Clock, FixedClock, Format, SystemClock, Verifier};
use serde::Serialize;

use crate::{files, verify, CliError, CliResult};

/// Database file name inside `--store DIR`.
const DB_FILE: &str = "wallet.db";
/// Key protector file name inside `--store DIR`.
const KEY_FILE: &str = "store.key";

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Receive a credential from an offer link (OpenID4VCI pre-authorised code flow),
    /// verified against the issuer's published keys, into the store.
    Receive(crate::wallet_receive::ReceiveArgs),
    /// Answer a cross-device OpenID4VP request link (a verifier's QR code) with a saved
    /// SD-JWT VC: only the asked claims, bound to the verifier; posted to its response_uri.
    Present(crate::wallet_present::PresentArgs),
    /// Verify a credential and store it (idempotent: the same credential gives the same id).
    Add(AddArgs),
    /// List stored credentials with their lifecycle state.
    List(ListArgs),
    /// Show one credential: metadata, state and claims.
    Show(ShowArgs),
    /// Delete one credential (and its kept previous versions).
    Delete(IdArgs),
    /// Sign-out: delete every credential, the data key, the key file and the database files.
    Wipe(StoreArgs),
}

#[derive(Args)]
pub struct StoreArgs {
    /// The store directory (created on first use).
    #[arg(long = "store", value_name = "DIR")]
    dir: PathBuf,
    /// Evaluate lifecycle (and verification) at this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AddArgs {
    /// The credential file (`-` for standard input).
    file: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
    /// Store it even if it does not verify (the report is still printed).
    #[arg(long)]
    unverified: bool,
    /// Trust this public JWK as an issuer key (repeatable).
    #[arg(long = "jwk")]
    jwks: Vec<PathBuf>,
    /// A DID document fetched earlier, e.g. a did:web `did.json` (repeatable).
    #[arg(long = "did-doc")]
    did_docs: Vec<PathBuf>,
    /// A status list synced earlier; its result is recorded on the credential (repeatable).
    #[arg(long = "status")]
    status_lists: Vec<PathBuf>,
    /// Trusted root certificates (PEM, e.g. an issuer's IACA) for `x5c` chains and mdocs (repeatable).
    #[arg(long = "iaca")]
    iacas: Vec<PathBuf>,
    /// A JSON-LD context for Data Integrity, as URL=FILE (repeatable).
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    /// Allowed clock skew in seconds.
    #[arg(long, default_value_t = govcred::verifier::DEFAULT_LEEWAY_SECS)]
    leeway: i64,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only credentials of this type (VC type, `vct` or mdoc `docType`).
    #[arg(long = "type")]
    credential_type: Option<String>,
    /// Only credentials from this issuer.
    #[arg(long)]
    issuer: Option<String>,
    /// Only this format (jwt-vc, sd-jwt-vc, mdoc, di-vc).
    #[arg(long)]
    format: Option<String>,
    /// Only these states (valid, update_expected, not_yet_valid, expired, suspended,
    /// status_not_valid, revoked; repeatable).
    #[arg(long = "state")]
    states: Vec<String>,
}

#[derive(Args)]
pub struct ShowArgs {
    /// The credential's id (from `list`).
    id: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Print the stored credential itself (text, or base64url for a CBOR mdoc).
    #[arg(long)]
    raw: bool,
}

#[derive(Args)]
pub struct IdArgs {
    /// The credential's id (from `list`).
    id: String,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(c: WalletCommand) -> CliResult {
    match c {
        WalletCommand::Receive(a) => crate::wallet_receive::run(a),
        WalletCommand::Present(a) => crate::wallet_present::run(a),
        WalletCommand::Add(a) => add(a),
        WalletCommand::List(a) => list(a),
        WalletCommand::Show(a) => show(a),
        WalletCommand::Delete(a) => delete(a),
        WalletCommand::Wipe(a) => wipe(a),
    }
}

fn clock(a: &StoreArgs) -> Result<Arc<dyn Clock>, CliError> {
    Ok(match &a.at {
        Some(at) => Arc::new(FixedClock::new(
            datetime::parse(at, "--at").map_err(|e| CliError::input(e.to_string()))?,
        )),
        None => Arc::new(SystemClock),
    })
}

/// Open (or create) the store in `a.dir`, with the software key protector's key file.
fn open(a: &StoreArgs, create: bool) -> Result<Store, CliError> {
    let db = a.dir.join(DB_FILE);
    if !create && !db.exists() {
        return Err(CliError::input(format!(
            "no wallet store in {} (add a credential first)",
            a.dir.display()
        )));
    }
    let key = a.dir.join(KEY_FILE);
    if db.exists() && !key.exists() {
        return Err(CliError::input(format!(
            "{} is missing: the store's data key cannot be unwrapped without it (restore it, or `govcred wallet wipe`)",
            key.display()
        )));
    }
    create_private_dir(&a.dir)?;
    let protector = SoftwareKeyProtector::open_or_create(&key)?;
    Ok(Store::open(db, Arc::new(protector), clock(a)?)?)
}

/// Open (or create) the store in `dir` on the system clock (for other commands that
/// put credentials in it).
pub(crate) fn open_dir(dir: &Path) -> Result<Store, CliError> {
    open(
        &StoreArgs {
            dir: dir.to_path_buf(),
            at: None,
            json: false,
        },
        true,
    )
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))
}

#[derive(Serialize)]
struct Added<'a> {
    id: String,
    verified: bool,
    state: State,
    report: &'a govcred::VerificationReport,
}

fn add(a: AddArgs) -> CliResult {
    let input = files::read(&a.file)?;
    let mut trust = verify::trust_from(&a.jwks, &a.did_docs, &a.contexts)?;
    verify::add_roots_and_status_lists(&mut trust, &a.iacas, &a.status_lists, a.leeway)?;
    let clock = clock(&a.store)?;
    let report = Verifier::new(trust)
        .with_leeway(a.leeway)
        .with_clock(clock)
        .verify(&input);
    if !report.valid && !a.unverified {
        if a.store.json {
            files::print_json(&report);
        } else {
            verify::print_human(&report);
        }
        return Err(CliError {
            code: 1,
            message: "the credential does not verify: not stored (give the issuer's trust material, or --unverified to store it anyway)".into(),
        });
    }
    // Text credentials are stored without the file's surrounding whitespace; CBOR
    // (never valid UTF-8: it starts with a map byte 0xa0–0xbf) as it is.
    let bytes = match std::str::from_utf8(&input) {
        Ok(t) => t.trim().as_bytes().to_vec(),
        Err(_) => input,
    };
    let store = open(&a.store, true)?;
    let id = store.add(&bytes)?;
    // Record what the status check said, when one was made.
    store.record_status(&id, &report)?;
    let summary = store.get(&id)?.summary;
    if a.store.json {
        files::print_json(&Added {
            id,
            verified: report.valid,
            state: summary.state,
            report: &report,
        });
    } else {
        if !report.valid {
            eprintln!("govcred: warning: stored although it does not verify (--unverified)");
        }
        println!("{id}");
    }
    Ok(ExitCode::SUCCESS)
}

fn list(a: ListArgs) -> CliResult {
    let format = match a.format.as_deref() {
        None => None,
        Some(f) => Some(
            serde_json::from_value::<Format>(serde_json::Value::String(f.to_string()))
                .ok()
                .filter(|f| *f != Format::Unknown)
                .ok_or_else(|| {
                    CliError::input(format!(
                        "--format {f:?}: use jwt-vc, sd-jwt-vc, mdoc or di-vc"
                    ))
                })?,
        ),
    };
    let states = a
        .states
        .iter()
        .map(|s| s.parse::<State>())
        .collect::<Result<Vec<_>, _>>()?;
    let store = open(&a.store, false)?;
    let listing = store.list(&ListFilter {
        format,
        issuer: a.issuer,
        credential_type: a.credential_type,
        states,
        usable_only: false,
    })?;
    if a.store.json {
        files::print_json(&listing);
    } else {
        if listing.credentials.is_empty() {
            println!("(no credentials)");
        }
        for c in &listing.credentials {
            print_line(c);
        }
        for c in &listing.corrupt {
            println!("{}  CORRUPT  {}", c.id, c.error);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn date(t: Option<i64>) -> String {
    t.map(datetime::format).unwrap_or_else(|| "-".into())
}

fn print_line(c: &CredentialSummary) {
    let mut flags = String::new();
    if c.show_as_invalid {
        flags.push_str(" [invalid]");
    }
    if c.offer_refresh {
        flags.push_str(" [refresh]");
    }
    println!(
        "{}  {:<16} {:<9} {}{}  until {}{}",
        c.id,
        c.state.as_str(),
        c.format.as_str(),
        c.display.title,
        c.display
            .holder_name
            .as_deref()
            .map(|n| format!(" — {n}"))
            .unwrap_or_default(),
        date(c.valid_until),
        flags
    );
}

#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    credential: &'a govcred::store::StoredCredential,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<String>,
}

fn raw_text(c: &govcred::store::StoredCredential) -> String {
    match (c.summary.format, c.raw_text()) {
        (Format::Mdoc, _) | (_, None) => govcred::b64::encode(&c.raw),
        (_, Some(t)) => t.to_string(),
    }
}

fn show(a: ShowArgs) -> CliResult {
    let store = open(&a.store, false)?;
    let c = store.get(&a.id)?;
    if a.store.json {
        files::print_json(&Shown {
            credential: &c,
            raw: a.raw.then(|| raw_text(&c)),
        });
        return Ok(ExitCode::SUCCESS);
    }
    if a.raw {
        println!("{}", raw_text(&c));
        return Ok(ExitCode::SUCCESS);
    }
    let s = &c.summary;
    println!("{}", s.id);
    println!("  title:       {}", s.display.title);
    if let Some(n) = &s.display.holder_name {
        println!("  holder:      {n}");
    }
    println!("  format:      {}", s.format.as_str());
    println!("  issuer:      {}", s.issuer);
    println!("  types:       {}", s.types.join(", "));
    println!(
        "  valid:       {} → {}",
        date(s.valid_from),
        date(s.valid_until)
    );
    if s.expected_update.is_some() {
        println!("  update due:  {}", date(s.expected_update));
    }
    println!(
        "  state:       {}{}{}",
        s.state,
        if s.show_as_invalid {
            " (show as invalid)"
        } else {
            ""
        },
        if s.offer_refresh {
            " (offer refresh)"
        } else {
            ""
        }
    );
    if let Some(st) = &s.status {
        println!(
            "  status:      {} #{} — {}",
            st.list_uri,
            st.index.map(|i| i.to_string()).unwrap_or_default(),
            st.state.as_deref().unwrap_or("not checked")
        );
    }
    println!(
        "  stored:      {} (version {}, updated {}){}",
        datetime::format(s.received_at),
        s.version,
        datetime::format(s.updated_at),
        if s.update_pending {
            ", previous version kept"
        } else {
            ""
        }
    );
    println!("  claims:");
    for line in serde_json::to_string_pretty(&c.claims)
        .unwrap_or_default()
        .lines()
    {
        println!("    {line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn delete(a: IdArgs) -> CliResult {
    let store = open(&a.store, false)?;
    store.delete(&a.id)?;
    if a.store.json {
        files::print_json(&serde_json::json!({"deleted": a.id}));
    } else {
        println!("deleted {}", a.id);
    }
    Ok(ExitCode::SUCCESS)
}

fn wipe(a: StoreArgs) -> CliResult {
    let db = a.dir.join(DB_FILE);
    let key = a.dir.join(KEY_FILE);
    // Sign-out must always succeed: a store that cannot be opened (key file lost or
    // replaced) is unreadable anyway, and its files are removed all the same.
    let wiped = match db.exists() {
        true => open(&a, false).and_then(|s| s.wipe().map_err(CliError::from)),
        false => Err(CliError::input("no database")),
    };
    if let Err(e) = wiped {
        if db.exists() {
            eprintln!("govcred: {}; removing the files anyway", e.message);
        }
        govcred::store::remove_database_files(&db)?;
        if key.exists() {
            std::fs::remove_file(&key)
                .map_err(|e| CliError::input(format!("cannot remove {}: {e}", key.display())))?;
        }
    }
    if a.json {
        files::print_json(&serde_json::json!({"wiped": a.dir}));
    } else {
        println!("wiped {}", a.dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
