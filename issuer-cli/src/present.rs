//! `govcred present sd-jwt`: the holder's side of selective disclosure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::format::sd_jwt::{KeyBinding, SdJwt};
use govcred::{Clock, Signer, SystemClock};
use serde_json::json;

use crate::{files, CliResult};

#[derive(Subcommand)]
pub enum PresentCommand {
    /// Present an SD-JWT VC with a chosen subset of claims and a Key Binding JWT.
    SdJwt(SdJwtPresentArgs),
}

#[derive(Args)]
pub struct SdJwtPresentArgs {
    /// The SD-JWT as issued (`-` for standard input).
    file: PathBuf,
    /// A claim path to disclose (`address.locality`, `nationalities.1`); repeatable.
    #[arg(long = "disclose")]
    disclose: Vec<String>,
    /// The holder's private JWK (signs the Key Binding JWT).
    #[arg(long)]
    holder_key: Option<PathBuf>,
    /// The verifier (`aud` of the Key Binding JWT).
    #[arg(long, requires = "holder_key")]
    aud: Option<String>,
    /// The verifier's challenge (`nonce` of the Key Binding JWT).
    #[arg(long, requires = "holder_key")]
    nonce: Option<String>,
    /// Only list the disclosable claims (JSON) and exit.
    #[arg(long)]
    list: bool,
}

pub fn run(cmd: PresentCommand) -> CliResult {
    let PresentCommand::SdJwt(a) = cmd;
    let text = files::read_text(&a.file)?;
    let sd = SdJwt::parse(text.trim())?;
    if a.list {
        let claims: Vec<_> = sd
            .disclosable_claims()?
            .into_iter()
            .map(|c| json!({"path": c.path.to_string(), "value": c.value}))
            .collect();
        files::print_json(&claims);
        return Ok(ExitCode::SUCCESS);
    }
    let paths: Vec<&str> = a.disclose.iter().map(String::as_str).collect();
    let holder = a
        .holder_key
        .as_deref()
        .map(files::read_signing_key)
        .transpose()?;
    let kb = match (&holder, &a.aud, &a.nonce) {
        (Some(_), Some(aud), Some(nonce)) => Some(KeyBinding {
            audience: aud.clone(),
            nonce: nonce.clone(),
            issued_at: SystemClock.now(),
        }),
        (Some(_), _, _) => {
            return Err(crate::CliError::input(
                "--holder-key needs --aud and --nonce for the Key Binding JWT",
            ))
        }
        _ => None,
    };
    let binding = match (&kb, &holder) {
        (Some(kb), Some(h)) => Some((kb, h as &dyn Signer)),
        _ => None,
    };
    println!("{}", sd.present(&paths, binding)?);
    Ok(ExitCode::SUCCESS)
}
