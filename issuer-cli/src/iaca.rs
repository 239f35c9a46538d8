//! `govcred iaca create` and `govcred iaca issue-ds`: an ISO 18013-5 IACA root and the
//! Document Signer certificates it issues, as PEM certificates and private JWKs (0600).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::crypto::SoftwareKey;
use govcred::x509::Certificate;
use govcred::{datetime, pki, Clock, SystemClock};
use serde_json::json;

use crate::{files, CliError, CliResult};

const DAY: i64 = 86_400;

#[derive(Subcommand)]
pub enum IacaCommand {
    /// Create a self-signed IACA root: writes DIR/iaca.pem and DIR/iaca.key (mode 0600).
    Create(CreateArgs),
    /// Issue a Document Signer certificate under an IACA: writes DIR/ds.pem and DIR/ds.key.
    IssueDs(IssueDsArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// ISO 3166-1 alpha-2 country code of the issuing authority (e.g. GB).
    #[arg(long)]
    country: String,
    /// Subject common name, e.g. "mDL Example IACA Root - BUILD environment".
    #[arg(long)]
    common_name: String,
    /// Output directory (must not already hold iaca.pem or iaca.key).
    #[arg(long)]
    out: PathBuf,
    /// Validity in days from now (GOV.UK: 3288, about 9 years).
    #[arg(long, default_value_t = 3288)]
    days: u32,
    /// URI for the IssuerAltName extension (copied into every DS certificate).
    #[arg(long)]
    issuer_alt_uri: Option<String>,
}

#[derive(Args)]
pub struct IssueDsArgs {
    /// Directory holding the IACA's iaca.pem and iaca.key.
    #[arg(long)]
    iaca: PathBuf,
    /// Subject common name, e.g. "Example Issuer DSC (BUILD)".
    #[arg(long)]
    common_name: String,
    /// Output directory (must not already hold ds.pem or ds.key).
    #[arg(long)]
    out: PathBuf,
    /// Validity in days from now (GOV.UK: 458).
    #[arg(long, default_value_t = 458)]
    days: u32,
    /// Country code of the DS subject (default: the IACA's).
    #[arg(long)]
    country: Option<String>,
}

pub fn run(c: IacaCommand) -> CliResult {
    match c {
        IacaCommand::Create(a) => create(a),
        IacaCommand::IssueDs(a) => issue_ds(a),
    }
}

fn create(a: CreateArgs) -> CliResult {
    let (pem_path, key_path) = (a.out.join("iaca.pem"), a.out.join("iaca.key"));
    refuse_existing(&[&pem_path, &key_path])?;
    let now = SystemClock.now();
    let (cert, key) = pki::create_iaca(
        &a.country,
        &a.common_name,
        a.issuer_alt_uri.as_deref(),
        now,
        now + i64::from(a.days) * DAY,
    )?;
    write_pair(&cert, &key, &pem_path, &key_path)?;
    files::print_json(&summary(&cert, &pem_path, &key_path));
    Ok(ExitCode::SUCCESS)
}

fn issue_ds(a: IssueDsArgs) -> CliResult {
    let (pem_path, key_path) = (a.out.join("ds.pem"), a.out.join("ds.key"));
    refuse_existing(&[&pem_path, &key_path])?;
    let iaca_pem = a.iaca.join("iaca.pem");
    let iaca = match Certificate::from_pem(&files::read_text(&iaca_pem)?)
        .map_err(|e| CliError::input(format!("{}: {e}", iaca_pem.display())))?
        .as_slice()
    {
        [one] => one.clone(),
        certs => {
            return Err(CliError::input(format!(
                "{} holds {} certificates: expected exactly one (the IACA root)",
                iaca_pem.display(),
                certs.len()
            )))
        }
    };
    let iaca_key = files::read_signing_key(&a.iaca.join("iaca.key"))?;
    let country = match a.country {
        Some(c) => c,
        None => subject_country(&iaca.subject()).ok_or_else(|| {
            CliError::input(format!(
                "the IACA subject \"{}\" has no country (C=): give --country",
                iaca.subject()
            ))
        })?,
    };
    let now = SystemClock.now();
    let (cert, key) = pki::issue_document_signer(
        &iaca,
        &iaca_key,
        &country,
        &a.common_name,
        now,
        now + i64::from(a.days) * DAY,
    )?;
    write_pair(&cert, &key, &pem_path, &key_path)?;
    let mut out = summary(&cert, &pem_path, &key_path);
    out["issuer"] = json!(cert.issuer());
    out["iaca_sha256_fingerprint"] = json!(iaca.sha256_fingerprint());
    files::print_json(&out);
    Ok(ExitCode::SUCCESS)
}

fn refuse_existing(paths: &[&Path]) -> Result<(), CliError> {
    for p in paths {
        if p.exists() {
            return Err(CliError::input(format!(
                "{} exists: refusing to overwrite a certificate or key (choose another --out)",
                p.display()
            )));
        }
    }
    Ok(())
}

/// Write the private key (0600, never over an existing file) and then the certificate.
fn write_pair(
    cert: &Certificate,
    key: &SoftwareKey,
    pem_path: &Path,
    key_path: &Path,
) -> Result<(), CliError> {
    let mut jwk = key.to_private_jwk()?;
    jwk.kid = Some(key.verifying_key().thumbprint());
    let mut text = jwk.to_json();
    text.push('\n');
    files::write_secret(key_path, text.as_bytes(), false)?;
    files::write(pem_path, cert.to_pem().as_bytes())
}

fn summary(cert: &Certificate, pem_path: &Path, key_path: &Path) -> serde_json::Value {
    json!({
        "subject": cert.subject(),
        "sha256_fingerprint": cert.sha256_fingerprint(),
        "not_before": datetime::format(cert.not_before()),
        "not_after": datetime::format(cert.not_after()),
        "certificate": pem_path,
        "private_key": key_path,
    })
}

/// The `C=` value of an RFC 4514 subject (commas escaped with `\` do not split).
fn subject_country(subject: &str) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    for ch in subject.chars() {
        match ch {
            _ if escaped => {
                current.push(ch);
                escaped = false;
            }
            '\\' => {
                current.push(ch);
                escaped = true;
            }
            ',' | '+' => parts.push(std::mem::take(&mut current)),
            _ => current.push(ch),
        }
    }
    parts.push(current);
    parts
        .iter()
        .rev()
        .find_map(|p| p.strip_prefix("C=").map(str::to_owned))
}
