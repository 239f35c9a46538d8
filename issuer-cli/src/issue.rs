//! `govcred issue jwt-vc` and `govcred issue di-vc`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::crypto::VerifyingKey;
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::{datetime, did, Clock, Signer, SystemClock};

use crate::{files, CliError, CliResult};

// The subcommands are named after the formats (`jwt-vc`, `di-vc`, `sd-jwt-vc`).
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand)]
pub enum IssueCommand {
    /// W3C VC 2.0 as a JWT (`vc+jwt`, GOV.UK profile); prints the JWT.
    JwtVc(CredentialArgs),
    /// W3C VC 2.0 with an eddsa-rdfc-2022 Data Integrity proof (Ed25519 key); prints JSON.
    DiVc(CredentialArgs),
    /// SD-JWT VC (`dc+sd-jwt`) with selectively disclosable claims; prints `<JWT>~<disclosures>~`.
    SdJwtVc(SdJwtArgs),
    /// ISO 18013-5 mdoc `IssuerSigned`; prints it as unpadded base64url (GOV.UK's form).
    Mdoc(MdocArgs),
}

#[derive(Args)]
pub struct MdocArgs {
    /// The Document Signer's private key (JWK, `ds.key` from `govcred iaca issue-ds`).
    #[arg(long, requires = "ds_cert", conflicts_with = "ds")]
    ds_key: Option<PathBuf>,
    /// The Document Signer certificate (PEM, `ds.pem`), carried in `x5chain`.
    #[arg(long, requires = "ds_key", conflicts_with = "ds")]
    ds_cert: Option<PathBuf>,
    /// Shorthand: a directory with `ds.pem` and `ds.key`, as written by `govcred iaca issue-ds`.
    #[arg(long, required_unless_present = "ds_key")]
    ds: Option<PathBuf>,
    /// The doctype, e.g. `org.iso.18013.5.1.mDL`.
    #[arg(long)]
    doctype: String,
    /// JSON `{namespace: {element: value}}`. mDL elements are typed (`*_date`
    /// `YYYY-MM-DD` → full-date, `portrait` base64 → bytes, `driving_privileges` an
    /// array of maps); force any value with `{"full-date": …}`, `{"tdate": …}` or
    /// `{"bytes": "<base64>"}`.
    #[arg(long)]
    claims: PathBuf,
    /// The holder's device key (JWK, P-256; only the public part is used).
    #[arg(long = "holder-key", alias = "device-key")]
    holder_key: PathBuf,
    /// End of validity, RFC 3339 (default: a year from now).
    #[arg(long)]
    valid_until: Option<String>,
    #[command(flatten)]
    status: StatusArgs,
}

#[derive(Args)]
pub struct SdJwtArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    key: PathBuf,
    /// `iss`: HTTPS URL or DID. Default: the key's did:key.
    #[arg(long)]
    issuer: Option<String>,
    /// Header `kid`. Default: derived from the issuer as for jwt-vc.
    #[arg(long)]
    kid: Option<String>,
    /// `vct`: the credential type, e.g. `urn:eudi:pid:1`.
    #[arg(long)]
    vct: String,
    /// JSON file with the claims (an object; nested objects and arrays allowed).
    #[arg(long)]
    claims: PathBuf,
    /// A claim path to make selectively disclosable (`address.locality`, `nationalities.1`); repeatable.
    #[arg(long = "disclose")]
    disclose: Vec<String>,
    /// The holder's public JWK, bound as `cnf.jwk` (key binding).
    #[arg(long)]
    holder_key: Option<PathBuf>,
    /// Decoy digests per `_sd` array.
    #[arg(long, default_value_t = 0)]
    decoys: usize,
    /// `exp`, RFC 3339.
    #[arg(long)]
    valid_until: Option<String>,
    /// The signing key's certificate chain (PEM, leaf first), carried as the `x5c` header.
    #[arg(long)]
    x5c: Option<PathBuf>,
    #[command(flatten)]
    status: StatusArgs,
}

#[derive(Args)]
pub struct CredentialArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    key: PathBuf,
    /// Issuer identifier: HTTPS origin (GOV.UK) or DID. Default: the key's did:key.
    #[arg(long)]
    issuer: Option<String>,
    /// Verification method (DID URL) named as `kid` / in the proof. Default: derived
    /// from the issuer (did:web of an HTTPS origin, `#<kid or thumbprint>`).
    #[arg(long)]
    kid: Option<String>,
    /// Credential type after `VerifiableCredential`, e.g. DigitalVeteranCard.
    #[arg(long = "type")]
    credential_type: String,
    /// JSON file with the subject's claims (an object).
    #[arg(long)]
    claims: PathBuf,
    /// The holder's DID (becomes `sub` and `credentialSubject.id`).
    #[arg(long)]
    holder: Option<String>,
    /// Start of validity, RFC 3339 (default: now).
    #[arg(long)]
    valid_from: Option<String>,
    /// End of validity, RFC 3339.
    #[arg(long)]
    valid_until: Option<String>,
    /// When the wallet should offer a refresh, RFC 3339 (GOV.UK `expectedUpdate`).
    #[arg(long)]
    expected_update: Option<String>,
    /// Credential `name`.
    #[arg(long)]
    name: Option<String>,
    /// Credential `description`.
    #[arg(long)]
    description: Option<String>,
    /// Extra JSON-LD context URL (repeatable).
    #[arg(long = "context")]
    contexts: Vec<String>,
    #[command(flatten)]
    status: StatusArgs,
}

/// Where an issued credential's status lives: an index allocated now from a local
/// registry (`--status-store`), or one allocated elsewhere — by the central status
/// service (`govcred status request`) — and given with `--status-index`.
#[derive(Args)]
pub struct StatusArgs {
    /// Status registry (see `govcred status create`): allocate an index for this credential.
    #[arg(long, requires = "status_uri", conflicts_with = "status_index")]
    status_store: Option<PathBuf>,
    /// The status list the credential points to (Token Status List for SD-JWT VCs and
    /// mdocs, Bitstring Status List for W3C credentials).
    #[arg(long)]
    status_uri: Option<String>,
    /// An index already allocated in `--status-uri` (e.g. `{idx}` from `govcred status request`).
    #[arg(long, requires = "status_uri")]
    status_index: Option<usize>,
    /// Bits per entry of a Bitstring list given with `--status-index` (GOV.UK's service: 2).
    #[arg(long, default_value_t = 2)]
    status_size: u8,
}

impl StatusArgs {
    fn missing_index(uri: &str) -> CliError {
        CliError::input(format!(
            "--status-uri {uri} needs --status-store (allocate now) or --status-index (allocated by the status service)"
        ))
    }

    /// `(index, uri)` in a Token Status List, if the credential has a status.
    fn token(&self) -> Result<Option<(usize, String)>, CliError> {
        match (&self.status_uri, &self.status_store, self.status_index) {
            (None, _, _) => Ok(None),
            (Some(uri), _, Some(idx)) => Ok(Some((idx, uri.clone()))),
            (Some(uri), Some(store), None) => {
                let r = crate::status::token_reference(store, uri)?;
                let idx = r["status_list"]["idx"].as_u64().unwrap_or_default() as usize;
                Ok(Some((idx, uri.clone())))
            }
            (Some(uri), None, None) => Err(Self::missing_index(uri)),
        }
    }

    /// The W3C `credentialStatus` entry, if the credential has a status.
    fn bitstring_entry(&self) -> Result<Option<serde_json::Value>, CliError> {
        match (&self.status_uri, &self.status_store, self.status_index) {
            (None, _, _) => Ok(None),
            (Some(uri), _, Some(idx)) => Ok(Some(crate::status::bitstring_entry_for(
                uri,
                self.status_size,
                idx,
            ))),
            (Some(uri), Some(store), None) => Ok(Some(crate::status::bitstring_entry(store, uri)?)),
            (Some(uri), None, None) => Err(Self::missing_index(uri)),
        }
    }
}

fn time_arg(v: &Option<String>, what: &str) -> Result<Option<i64>, CliError> {
    v.as_deref()
        .map(|s| datetime::parse(s, what).map_err(|e| CliError::input(format!("--{what}: {e}"))))
        .transpose()
}

/// The default verification method for `issuer` signed by `key`.
pub fn default_kid(issuer: &str, key: &VerifyingKey) -> Result<String, CliError> {
    let kid = if let Some(id) = issuer.strip_prefix("did:key:") {
        format!("{issuer}#{id}")
    } else if issuer.starts_with("did:jwk:") {
        format!("{issuer}#0")
    } else if issuer.starts_with("did:web:") {
        format!("{issuer}#{}", did::web::key_id(key))
    } else if issuer.starts_with("https://") {
        format!(
            "{}#{}",
            did::web::from_domain(issuer)?,
            did::web::key_id(key)
        )
    } else {
        return Err(CliError::input(format!(
            "cannot derive a kid for issuer {issuer:?}: pass --kid"
        )));
    };
    Ok(kid)
}

fn draft(
    a: &CredentialArgs,
    key: &dyn Signer,
    claims_path: &Path,
) -> Result<(CredentialDraft, String), CliError> {
    let claims = files::read_json(claims_path)?;
    let subject = claims.as_object().cloned().ok_or_else(|| {
        CliError::input(format!(
            "{}: claims must be a JSON object",
            claims_path.display()
        ))
    })?;
    let issuer = match &a.issuer {
        Some(i) => i.clone(),
        None => did::key::from_jwk(&key.public_jwk())?,
    };
    let public = VerifyingKey::from_jwk(&key.public_jwk())?;
    let kid = match &a.kid {
        Some(k) => k.clone(),
        None => default_kid(&issuer, &public)?,
    };
    let credential_status = a.status.bitstring_entry()?;
    let draft = CredentialDraft {
        credential_status,
        issuer,
        types: vec![a.credential_type.clone()],
        contexts: a.contexts.clone(),
        holder: a.holder.clone(),
        subject,
        valid_from: time_arg(&a.valid_from, "valid-from")?,
        valid_until: time_arg(&a.valid_until, "valid-until")?,
        expected_update: time_arg(&a.expected_update, "expected-update")?,
        name: a.name.clone(),
        description: a.description.clone(),
        ..Default::default()
    };
    Ok((draft, kid))
}

/// Record a single issuance in the audit log (when one is configured).
fn audit_issue(format: &str, kid: &str, credential: &str) -> Result<(), CliError> {
    crate::audit::record(
        None,
        "issue",
        serde_json::json!({
            "format": format,
            "kid": kid,
            "sha256": govcred::b64::encode(govcred::crypto::sha256(credential.as_bytes())),
        }),
    )
}

/// Print an issued credential and audit it.
fn emit(format: &str, kid: &str, credential: String) -> Result<(), CliError> {
    audit_issue(format, kid, &credential)?;
    println!("{credential}");
    Ok(())
}

pub fn run(cmd: IssueCommand) -> CliResult {
    let now = SystemClock.now();
    match cmd {
        IssueCommand::JwtVc(a) => {
            let key = files::read_signing_key(&a.key)?;
            let (draft, kid) = draft(&a, &key, &a.claims)?;
            emit("jwt-vc", &kid, jwt_vc::issue(&draft, &kid, &key, now)?)?;
        }
        IssueCommand::DiVc(a) => {
            let key = files::read_signing_key(&a.key)?;
            let (draft, kid) = draft(&a, &key, &a.claims)?;
            let signed = govcred::format::data_integrity::issue(
                &draft,
                &kid,
                &key,
                now,
                &Default::default(),
            )?;
            audit_issue("di-vc", &kid, &signed.to_string())?;
            files::print_json(&signed);
        }
        IssueCommand::SdJwtVc(a) => {
            let key = files::read_signing_key(&a.key)?;
            let claims = files::read_json(&a.claims)?;
            let issuer = match &a.issuer {
                Some(i) => i.clone(),
                None => did::key::from_jwk(&key.public_jwk())?,
            };
            let mut draft = govcred::format::sd_jwt::SdJwtDraft::new(&issuer, &a.vct);
            draft.claims = claims.as_object().cloned().ok_or_else(|| {
                CliError::input(format!(
                    "{}: claims must be a JSON object",
                    a.claims.display()
                ))
            })?;
            draft.disclosable = a.disclose.clone();
            draft.decoys = a.decoys;
            draft.expires_at = time_arg(&a.valid_until, "valid-until")?;
            draft.holder_key = a
                .holder_key
                .as_deref()
                .map(files::read_jwk)
                .transpose()?
                .map(|j| j.to_public());
            draft.status = a
                .status
                .token()?
                .map(|(idx, uri)| crate::status::token_reference_at(&uri, idx));
            draft.kid = Some(match &a.kid {
                Some(k) => k.clone(),
                None => default_kid(&issuer, key.verifying_key())?,
            });
            let x5c = match &a.x5c {
                Some(p) => Some(
                    govcred::x509::Certificate::from_pem(&files::read_text(p)?)?
                        .iter()
                        .map(|c| {
                            use base64::Engine;
                            base64::engine::general_purpose::STANDARD.encode(c.der())
                        })
                        .collect::<Vec<_>>(),
                ),
                None => None,
            };
            if x5c.is_some() && a.kid.is_none() {
                // The certificate identifies the key: no DID-derived kid.
                draft.kid = None;
            }
            let kid = draft
                .kid
                .clone()
                .unwrap_or_else(|| key.verifying_key().thumbprint());
            emit(
                "sd-jwt-vc",
                &kid,
                govcred::format::sd_jwt::issue(&draft, x5c.as_deref(), &key, now)?,
            )?;
        }
        IssueCommand::Mdoc(a) => {
            let (ds_pem, ds_key) = match (&a.ds, &a.ds_cert, &a.ds_key) {
                (_, Some(cert), Some(key)) => (cert.clone(), key.clone()),
                (Some(dir), _, _) => (dir.join("ds.pem"), dir.join("ds.key")),
                _ => {
                    return Err(CliError::input(
                        "give --ds-key KEY --ds-cert CERT.pem (or --ds DIR)",
                    ))
                }
            };
            let ds = govcred::x509::Certificate::from_pem(&files::read_text(&ds_pem)?)?
                .into_iter()
                .next()
                .ok_or_else(|| CliError::input(format!("{}: no certificate", ds_pem.display())))?;
            let key = files::read_signing_key(&ds_key)?;
            let device = VerifyingKey::from_jwk(&files::read_jwk(&a.holder_key)?.to_public())?;
            let claims = files::read_json(&a.claims)?
                .as_object()
                .cloned()
                .ok_or_else(|| {
                    CliError::input(format!(
                        "{}: claims must be a JSON object",
                        a.claims.display()
                    ))
                })?;
            let status = a.status.token()?;
            let draft = govcred::format::mdoc::MdocDraft {
                doctype: a.doctype.clone(),
                claims,
                device_key: device,
                valid_from: now,
                valid_until: time_arg(&a.valid_until, "valid-until")?.unwrap_or(now + 365 * 86_400),
                expected_update: None,
                status,
                test_only_salt_seed: None,
            };
            emit(
                "mdoc",
                &key.verifying_key().thumbprint(),
                govcred::b64::encode(govcred::format::mdoc::issue(&draft, &ds, &key, now)?),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
