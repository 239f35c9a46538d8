//! `govcred wallet receive`: the reference wallet for departments testing their
//! issuer — runs the core OpenID4VCI client, saves the credential and its report.
//! (Saved as files for now; the encrypted wallet store takes over when merged.)

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use govcred::crypto::{Alg, SoftwareKey};
use govcred::oid4vci::client::WalletClient;
use govcred::oid4vci::credential::NotificationEvent;
use serde_json::json;

use crate::{files, CliResult};

#[derive(Subcommand)]
pub enum WalletCommand {
    /// Receive a credential from an offer link (OpenID4VCI pre-authorised code flow).
    Receive(ReceiveArgs),
}

#[derive(Args)]
pub struct ReceiveArgs {
    /// The offer link (`https://…/wallet/add?credential_offer=…` or `openid-credential-offer://…`).
    offer: String,
    /// Directory to save the credential, report and holder key in.
    #[arg(long)]
    out: PathBuf,
    /// Holder key (private JWK, P-256) to bind the credential to; default: a new one
    /// saved as OUT/holder.jwk.
    #[arg(long)]
    holder_key: Option<PathBuf>,
}

pub fn run(cmd: WalletCommand) -> CliResult {
    let WalletCommand::Receive(a) = cmd;
    let holder = match &a.holder_key {
        Some(p) => files::read_signing_key(p)?,
        None => {
            let k = SoftwareKey::generate(Alg::ES256)?;
            files::write_secret(
                &a.out.join("holder.jwk"),
                k.to_private_jwk()?.to_json().as_bytes(),
                true,
            )?;
            k
        }
    };
    let client = WalletClient::new(Arc::new(crate::http::ReqwestHttp::new()?));
    let got = client.receive(&a.offer, &holder)?;
    let name = format!("credential-{}", got.configuration_id);
    files::write(
        &a.out.join(format!("{name}.txt")),
        got.credential.as_bytes(),
    )?;
    files::write(
        &a.out.join(format!("{name}.report.json")),
        got.report.to_json_pretty().as_bytes(),
    )?;
    let event = if got.report.valid {
        NotificationEvent::CredentialAccepted
    } else {
        NotificationEvent::CredentialFailure
    };
    let notified = client.notify(&got, event, None);
    files::print_json(&json!({
        "configuration_id": got.configuration_id,
        "format": got.format,
        "issuer": got.issuer,
        "valid": got.report.valid,
        "outcome": got.report.outcome,
        "status": got.report.status,
        "notification": match &notified { Ok(()) => event.as_str().to_string(), Err(e) => format!("failed: {e}") },
        "saved": a.out.join(format!("{name}.txt")),
    }));
    notified?;
    Ok(if got.report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
