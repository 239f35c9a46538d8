//! `govcred trust build | show`: signed trust bundles for offline verifiers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::crypto::{Jwk, VerifyingKey};
use govcred::trust_bundle::{BundleContents, LoadedBundle, TrustBundle};
use govcred::{Clock, SystemClock};

use crate::{files, CliError, CliResult};

#[derive(Subcommand)]
pub enum TrustCommand {
    /// Build and sign a trust bundle.
    Build(BuildArgs),
    /// Verify a trust bundle and show what it holds.
    Show(ShowArgs),
}

#[derive(Args)]
pub struct BuildArgs {
    /// Trusted IACA root certificates (PEM; repeatable, several per file allowed).
    #[arg(long = "iaca", value_name = "PEM")]
    iacas: Vec<PathBuf>,
    /// An issuer's DID document, e.g. a did:web `did.json` (repeatable).
    #[arg(long = "did-doc", value_name = "FILE")]
    did_docs: Vec<PathBuf>,
    /// An issuer's JWKS (`{"keys": [...]}`) or single JWK, as ISSUER=FILE (repeatable).
    #[arg(long = "jwks", value_name = "ISSUER=FILE")]
    jwks: Vec<String>,
    /// A status list token published at URI, as URI=FILE (repeatable); its signer must
    /// be an issuer key in the bundle.
    #[arg(long = "status", value_name = "URI=FILE")]
    status: Vec<String>,
    /// The bundle-signing key (private JWK).
    #[arg(long, value_name = "KEY.jwk")]
    key: PathBuf,
    /// How long the bundle stays usable: `7d`, `12h`, `30m` or seconds.
    #[arg(long, default_value = "7d")]
    valid_for: String,
    /// Where to write the bundle.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct ShowArgs {
    /// The bundle file.
    file: PathBuf,
    /// The pinned bundle-signing public key (JWK; repeatable). Required: a bundle is
    /// only read after its signature is checked.
    #[arg(long = "trust-key", value_name = "PUB.jwk")]
    trust_keys: Vec<PathBuf>,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(c: TrustCommand) -> CliResult {
    match c {
        TrustCommand::Build(a) => build(a),
        TrustCommand::Show(a) => show(a),
    }
}

/// `7d`, `12h`, `30m`, `45s` or plain seconds.
pub fn parse_duration(text: &str) -> Result<i64, CliError> {
    let bad = || {
        CliError::input(format!(
            "--valid-for {text:?}: expected e.g. 7d, 12h, 30m or seconds"
        ))
    };
    let (num, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: i64 = num.parse().map_err(|_| bad())?;
    let mult = match unit {
        'd' => 86_400,
        'h' => 3600,
        'm' => 60,
        's' => 1,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(bad)
}

fn split_pair<'a>(flag: &str, text: &'a str, what: &str) -> Result<(&'a str, &'a str), CliError> {
    text.split_once('=')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        .ok_or_else(|| CliError::input(format!("{flag} {text:?}: expected {what}")))
}

fn build(a: BuildArgs) -> CliResult {
    let signer = files::read_signing_key(&a.key)?;
    let valid_for = parse_duration(&a.valid_for)?;
    let mut contents = BundleContents::default();
    for p in &a.iacas {
        contents
            .add_iaca_pem(&files::read_text(p)?)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    }
    for p in &a.did_docs {
        contents.add_did_document(files::read_json(p)?);
    }
    for j in &a.jwks {
        let (issuer, file) = split_pair("--jwks", j, "ISSUER=FILE")?;
        let path = PathBuf::from(file);
        let v = files::read_json(&path)?;
        let keys = match v.get("keys") {
            Some(serde_json::Value::Array(keys)) => keys.clone(),
            _ => vec![v],
        };
        let keys = keys
            .into_iter()
            .map(|k| {
                serde_json::from_value::<Jwk>(k)
                    .map_err(|e| CliError::input(format!("{file}: not a JWK: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        contents.add_jwks(issuer, keys);
    }
    for s in &a.status {
        let (uri, file) = split_pair("--status", s, "URI=FILE")?;
        contents.add_status_list(uri, files::read_text(&PathBuf::from(file))?.trim());
    }
    let text = TrustBundle::build(&contents, SystemClock.now(), valid_for, &signer)?;
    files::write(&a.out, text.as_bytes())?;
    eprintln!(
        "wrote {} ({} IACA, {} DID documents, {} JWKS, {} status lists; valid for {})",
        a.out.display(),
        contents.iacas.len(),
        contents.did_documents.len(),
        contents.jwks.len(),
        contents.status_lists.len(),
        a.valid_for
    );
    Ok(ExitCode::SUCCESS)
}

/// Read the pinned bundle-signing public keys.
pub fn pinned_keys(paths: &[PathBuf]) -> Result<Vec<VerifyingKey>, CliError> {
    paths
        .iter()
        .map(|p| {
            VerifyingKey::from_jwk(&files::read_jwk(p)?.to_public())
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))
        })
        .collect()
}

/// Verify and load a bundle file at `now`.
pub fn load(
    path: &std::path::Path,
    pinned: &[PathBuf],
    now: i64,
    leeway: i64,
) -> Result<LoadedBundle, CliError> {
    if pinned.is_empty() {
        return Err(CliError::input(
            "a trust bundle is only used with its pinned signing key: add --trust-key PUB.jwk",
        ));
    }
    let keys = pinned_keys(pinned)?;
    TrustBundle::load(&files::read_text(path)?, &keys, now, leeway)
        .map_err(|e| CliError::input(format!("{}: {e} ({})", path.display(), e.code())))
}

fn show(a: ShowArgs) -> CliResult {
    let now = SystemClock.now();
    let loaded = load(
        &a.file,
        &a.trust_keys,
        now,
        govcred::verifier::DEFAULT_LEEWAY_SECS,
    )?;
    if a.json {
        files::print_json(&serde_json::json!({
            "info": loaded.info,
            "age_secs": loaded.info.age_secs(now),
            "bundle": loaded.bundle,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let info = &loaded.info;
    println!("{}", info.describe(now));
    for c in loaded.trust.roots() {
        println!("  IACA        {}", c.subject());
    }
    for d in &loaded.bundle.contents.did_documents {
        println!(
            "  DID         {}",
            d.get("id").and_then(|v| v.as_str()).unwrap_or("(no id)")
        );
    }
    for j in &loaded.bundle.contents.jwks {
        println!("  JWKS        {} ({} keys)", j.issuer, j.keys.len());
    }
    for uri in &info.status_lists {
        let issued = loaded
            .trust
            .status_list(uri)
            .and_then(|l| l.issued_at())
            .map(govcred::datetime::format)
            .unwrap_or_default();
        println!("  status list {uri} (issued {issued})");
    }
    Ok(ExitCode::SUCCESS)
}
