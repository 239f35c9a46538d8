//! `govcred verify`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use govcred::report::{CheckOutcome, VerificationReport};
use govcred::trust::TrustStore;
use govcred::{datetime, FixedClock, Verifier};

use crate::{files, CliError, CliResult};

#[derive(Args)]
pub struct VerifyArgs {
    /// The credential file (`-` for standard input).
    file: PathBuf,
    /// Trust this public JWK as an issuer key (repeatable).
    #[arg(long = "jwk")]
    jwks: Vec<PathBuf>,
    /// A DID document fetched earlier, e.g. a did:web `did.json` (repeatable).
    #[arg(long = "did-doc")]
    did_docs: Vec<PathBuf>,
    /// A status list synced earlier (`statuslist+jwt`, `statuslist+cwt`, or Bitstring
    /// `vc+jwt`); its signer must be trusted through --jwk/--did-doc/--iaca (repeatable).
    #[arg(long = "status")]
    status_lists: Vec<PathBuf>,
    /// Trusted root certificates (PEM, e.g. an issuer's IACA) for `x5c` chains (repeatable).
    #[arg(long = "iaca")]
    iacas: Vec<PathBuf>,
    /// A JSON-LD context for Data Integrity, as URL=FILE (repeatable).
    #[arg(long = "context", value_name = "URL=FILE")]
    contexts: Vec<String>,
    /// Expected audience of an SD-JWT presentation's Key Binding JWT (requires key binding).
    #[arg(long)]
    aud: Option<String>,
    /// Expected nonce of an SD-JWT presentation's Key Binding JWT (requires key binding).
    #[arg(long)]
    nonce: Option<String>,
    /// The SessionTranscript of an mdoc presentation (CBOR, or hex text): the
    /// DeviceResponse's device signature must be over it.
    #[arg(long)]
    session_transcript: Option<PathBuf>,
    /// Check validity at this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Allowed clock skew in seconds.
    #[arg(long, default_value_t = govcred::verifier::DEFAULT_LEEWAY_SECS)]
    leeway: i64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// A signed trust bundle (`govcred trust build`) to verify against, offline; the
    /// other trust flags add to it.
    #[arg(long = "trust", value_name = "BUNDLE")]
    trust_bundle: Option<PathBuf>,
    /// The pinned public key (JWK) of the trust bundle's signer (repeatable).
    #[arg(long = "trust-key", value_name = "PUB.jwk")]
    trust_keys: Vec<PathBuf>,
}

/// Build a trust store from command-line files.
pub fn trust_from(
    jwks: &[PathBuf],
    did_docs: &[PathBuf],
    contexts: &[String],
) -> Result<TrustStore, CliError> {
    let mut trust = TrustStore::new();
    extend_trust(&mut trust, jwks, did_docs, contexts)?;
    Ok(trust)
}

/// Add command-line trust files to `trust`.
fn extend_trust(
    trust: &mut TrustStore,
    jwks: &[PathBuf],
    did_docs: &[PathBuf],
    contexts: &[String],
) -> Result<(), CliError> {
    for p in jwks {
        let jwk = files::read_jwk(p)?;
        trust
            .add_jwk(&jwk)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    }
    for p in did_docs {
        let doc = files::read_json(p)?;
        trust
            .add_did_document(&doc)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    }
    for c in contexts {
        let (url, file) = c
            .split_once('=')
            .ok_or_else(|| CliError::input(format!("--context {c:?}: expected URL=FILE")))?;
        trust.add_context(url, files::read_text(std::path::Path::new(file))?);
    }
    Ok(())
}

/// Hex text (an mdoc or a SessionTranscript written as hex) decoded to bytes; anything
/// else unchanged (binary CBOR, base64url, JWTs, JSON).
pub fn binary_or_text(input: Vec<u8>) -> Vec<u8> {
    let decoded = std::str::from_utf8(&input).ok().and_then(|t| {
        let t = t.trim();
        if t.is_empty() || t.len() % 2 != 0 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (0..t.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()
    });
    match decoded {
        // Only CBOR arrays, maps and tags (0x80–0xdb) are taken as hex: base64url text made of hex
        // digits alone would otherwise be misread.
        Some(b) if matches!(b.first(), Some(0x80..=0xdb)) => b,
        _ => input,
    }
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Add trusted roots (PEM) and synced status lists to `trust` (after the keys that
/// sign the lists).
pub fn add_roots_and_status_lists(
    trust: &mut TrustStore,
    iacas: &[PathBuf],
    status_lists: &[PathBuf],
    leeway: i64,
) -> Result<(), CliError> {
    for p in iacas {
        trust
            .add_root_certificates_pem(&files::read_text(p)?)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    }
    for p in status_lists {
        trust
            .add_status_list_bytes(&files::read(p)?, leeway)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
    }
    Ok(())
}

pub fn run(a: VerifyArgs) -> CliResult {
    let input = binary_or_text(files::read(&a.file)?);
    let at = match &a.at {
        Some(at) => Some(datetime::parse(at, "--at").map_err(|e| CliError::input(e.to_string()))?),
        None => None,
    };
    let mut bundle = match &a.trust_bundle {
        Some(path) => Some(crate::trust::load(
            path,
            &a.trust_keys,
            at.unwrap_or_else(|| govcred::Clock::now(&govcred::SystemClock)),
            a.leeway,
        )?),
        None => None,
    };
    // A bundle's trust, extended by the trust flags.
    let mut trust = bundle
        .as_mut()
        .map(|b| std::mem::take(&mut b.trust))
        .unwrap_or_default();
    extend_trust(&mut trust, &a.jwks, &a.did_docs, &a.contexts)?;
    add_roots_and_status_lists(&mut trust, &a.iacas, &a.status_lists, a.leeway)?;
    let base = match bundle {
        Some(mut b) => {
            b.trust = trust;
            Verifier::from_bundle(b)
        }
        None => Verifier::new(trust),
    };
    let mut verifier = base.with_leeway(a.leeway).with_presentation_options(
        govcred::format::sd_jwt::VerifyOptions {
            audience: a.aud.clone(),
            nonce: a.nonce.clone(),
            ..Default::default()
        },
    );
    if let Some(p) = &a.session_transcript {
        let t =
            govcred::format::mdoc::SessionTranscript::from_cbor(&binary_or_text(files::read(p)?))
                .map_err(|e| CliError::input(format!("{}: {e}", p.display())))?;
        verifier = verifier.with_session_transcript(t);
    }
    if let Some(t) = at {
        verifier = verifier.with_clock(Arc::new(FixedClock::new(t)));
    }
    let report = verifier.verify(&input);
    if a.json {
        files::print_json(&report);
    } else {
        print_human(&report);
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Print a report for people.
pub fn print_human(r: &VerificationReport) {
    let verdict = match r.outcome {
        govcred::Outcome::Valid => "VALID",
        govcred::Outcome::Invalid => "INVALID",
        govcred::Outcome::CouldNotCheck => "COULD NOT CHECK",
    };
    println!("{verdict} — {} credential", r.format.as_str());
    if let Some(i) = &r.issuer {
        println!("  issuer:      {i}");
    }
    if !r.types.is_empty() {
        println!("  types:       {}", r.types.join(", "));
    }
    if r.valid_from.is_some() || r.valid_until.is_some() {
        println!(
            "  valid:       {} → {}",
            r.valid_from.as_deref().unwrap_or("(any time)"),
            r.valid_until.as_deref().unwrap_or("(no end)")
        );
    }
    println!("  checked at:  {}", r.checked_at);
    for c in &r.checks {
        let mark = match c.outcome {
            CheckOutcome::Passed => "✔",
            CheckOutcome::Failed => "✘",
            CheckOutcome::NotChecked => "?",
        };
        println!("  {mark} {:<16} {}", c.name, c.detail);
    }
    for e in &r.errors {
        println!("  error {}: {}", e.code, e.message);
    }
    if !r.claims.is_empty() {
        println!("  claims:");
        let mut lines = Vec::new();
        flatten("", &r.claims.to_value(), &mut lines);
        for (path, value) in lines {
            println!("    {path} = {value}");
        }
    }
}

/// `a.b[0].c = value` lines for a JSON value (long strings such as photos shortened).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) if s.chars().count() > 80 => {
            let head: String = s.chars().take(40).collect();
            out.push((
                prefix.to_string(),
                format!("{head:?}… ({} chars)", s.chars().count()),
            ));
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
