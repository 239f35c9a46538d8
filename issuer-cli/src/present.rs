//! `govcred present sd-jwt` and `govcred present mdoc`: the holder's side of selective
//! disclosure.

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
    /// Present an ISO 18013-5 mdoc: a device-signed DeviceResponse (CBOR on standard
    /// output) disclosing only the chosen elements.
    Mdoc(MdocPresentArgs),
}

#[derive(Args)]
pub struct MdocPresentArgs {
    /// The IssuerSigned as issued: base64url, hex or CBOR (`-` for standard input).
    file: PathBuf,
    /// The holder's private JWK (the device key the mdoc is bound to).
    #[arg(long)]
    holder_key: PathBuf,
    /// An element to disclose as NAMESPACE/ELEMENT, e.g. `org.iso.18013.5.1/family_name`;
    /// repeatable.
    #[arg(long = "disclose", required = true)]
    disclose: Vec<String>,
    /// The SessionTranscript of this presentation (CBOR, or hex text).
    #[arg(long)]
    session_transcript: PathBuf,
    /// Print the DeviceResponse as hex text instead of binary CBOR.
    #[arg(long)]
    hex: bool,
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
    let a = match cmd {
        PresentCommand::SdJwt(a) => a,
        PresentCommand::Mdoc(a) => return present_mdoc(a),
    };
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

fn present_mdoc(a: MdocPresentArgs) -> CliResult {
    use std::io::Write;
    let issued = crate::verify::binary_or_text(files::read(&a.file)?);
    let transcript = govcred::format::mdoc::SessionTranscript::from_cbor(
        &crate::verify::binary_or_text(files::read(&a.session_transcript)?),
    )?;
    let holder = files::read_signing_key(&a.holder_key)?;
    let disclose = a
        .disclose
        .iter()
        .map(|p| govcred::format::mdoc::element_path(p))
        .collect::<Result<Vec<_>, _>>()?;
    let response = govcred::format::mdoc::present(&issued, &disclose, &transcript, &holder)?;
    let mut out = std::io::stdout().lock();
    let written = if a.hex {
        writeln!(out, "{}", crate::verify::to_hex(&response))
    } else {
        out.write_all(&response)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| crate::CliError::input(format!("writing the DeviceResponse: {e}")))?;
    Ok(ExitCode::SUCCESS)
}
