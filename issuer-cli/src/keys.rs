//! `govcred keygen` and `govcred did-web`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use govcred::crypto::{Alg, SoftwareKey, VerifyingKey};
use govcred::{did, Signer};
use serde_json::json;

use crate::{files, CliError, CliResult};

#[derive(Args)]
pub struct KeygenArgs {
    /// Signature algorithm: ES256 (P-256, the GOV.UK default) or EdDSA (Ed25519).
    #[arg(long, default_value = "ES256")]
    alg: Alg,
    /// Where to write the private JWK.
    #[arg(long, required_unless_present = "pkcs11")]
    out: Option<PathBuf>,
    /// Create the key in an HSM instead (P-256, non-extractable), named by a
    /// `pkcs11:token=…;object=…` URI; prints its public JWK.
    #[arg(long, conflicts_with = "out")]
    pkcs11: Option<String>,
    #[command(flatten)]
    pkcs11_opts: crate::pkcs11::Pkcs11Args,
    /// Key id to put in the JWK (default: its RFC 7638 thumbprint).
    #[arg(long)]
    kid: Option<String>,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

pub fn keygen(a: KeygenArgs) -> CliResult {
    if let Some(uri) = &a.pkcs11 {
        if a.alg != Alg::ES256 {
            return Err(CliError::input("--pkcs11 keys are ES256 (P-256)"));
        }
        let public = crate::pkcs11::generate(uri, &a.pkcs11_opts)?;
        let signer = crate::pkcs11::Pkcs11Signer::open(uri, &a.pkcs11_opts)?;
        let extractable = signer.extractable()?;
        let mut jwk = public.jwk().clone();
        jwk.kid = Some(a.kid.clone().unwrap_or_else(|| public.thumbprint()));
        crate::audit::record(
            None,
            "key_generate",
            json!({"pkcs11": uri, "thumbprint": public.thumbprint()}),
        )?;
        files::print_json(&json!({
            "alg": "ES256",
            "pkcs11": uri,
            "extractable": extractable,
            "public_jwk": jwk,
            "thumbprint": public.thumbprint(),
            "did_key": did::key::from_jwk(&jwk)?,
        }));
        return Ok(ExitCode::SUCCESS);
    }
    let out = a
        .out
        .clone()
        .ok_or_else(|| CliError::input("--out is required (or --pkcs11)"))?;
    let key = SoftwareKey::generate(a.alg)?;
    let kid = a.kid.unwrap_or_else(|| key.verifying_key().thumbprint());
    let key = key.with_kid(kid);
    let private = key.to_private_jwk()?;
    let mut text = private.to_json();
    text.push('\n');
    files::write_secret(&out, text.as_bytes(), a.force)?;
    let public = key.public_jwk();
    crate::audit::record(
        None,
        "key_generate",
        json!({"file": out, "thumbprint": key.verifying_key().thumbprint()}),
    )?;
    files::print_json(&json!({
        "alg": a.alg.as_str(),
        "file": out,
        "public_jwk": public,
        "thumbprint": key.verifying_key().thumbprint(),
        "did_key": did::key::from_jwk(&public)?,
        "did_jwk": did::jwk::from_jwk(&public)?,
    }));
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct DidWebArgs {
    /// The issuer's domain (`issuer.example.gov.uk`, optionally with `:port` or `/path`).
    #[arg(long)]
    domain: String,
    /// A key file (private or public JWK); repeat for rotation (all keys are published).
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// Output directory: writes `.well-known/did.json` and `.well-known/jwks.json` (or
    /// `<path>/did.json` for a domain with a path, as did:web requires).
    #[arg(long)]
    out: PathBuf,
}

pub fn did_web(a: DidWebArgs) -> CliResult {
    let did = did::web::from_domain(&a.domain)?;
    let mut keys = Vec::new();
    for path in &a.keys {
        let jwk = files::read_jwk(path)?;
        keys.push(
            VerifyingKey::from_jwk(&jwk.to_public())
                .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?,
        );
    }
    let (url, did_path, jwks_path) = write_site(&a.out, &did, &keys)?;
    let kids: Vec<String> = keys
        .iter()
        .map(|k| format!("{did}#{}", did::web::key_id(k)))
        .collect();
    files::print_json(&json!({
        "did": did,
        "did_document_url": url,
        "did_json": did_path,
        "jwks_json": jwks_path,
        "verification_methods": kids,
    }));
    Ok(ExitCode::SUCCESS)
}

/// Write `did.json` and `jwks.json` for `keys` under the site root `out`, at the path
/// of the DID's URL (`.well-known/did.json`, or `<path>/did.json`). Returns the URL
/// and both paths.
pub fn write_site(
    out: &std::path::Path,
    did: &str,
    keys: &[VerifyingKey],
) -> Result<(String, PathBuf, PathBuf), CliError> {
    let doc = did::web::did_document(did, keys)?;
    let jwks = did::web::jwks(keys);
    let url = did::web::to_url(did)?;
    let did_path = out.join(site_did_path(&url));
    let jwks_path = did_path.with_file_name("jwks.json");
    files::write(
        &did_path,
        serde_json::to_string_pretty(&doc)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    files::write(
        &jwks_path,
        serde_json::to_string_pretty(&jwks)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    Ok((url, did_path, jwks_path))
}

/// The file's path below the site root is the DID URL's path.
pub fn site_did_path(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, p)| p)
        .unwrap_or(".well-known/did.json")
}
