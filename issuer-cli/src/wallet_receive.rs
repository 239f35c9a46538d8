//! `govcred wallet receive`: the reference wallet for departments testing their
//! issuer — runs the core OpenID4VCI client, then stores the credential in the
//! encrypted wallet store (`--store DIR`, holder key in the store's key directory)
//! and/or saves it with its report as files (`--out DIR`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use govcred::crypto::{Alg, SoftwareKey, SoftwareKeyStore};
use govcred::oid4vci::client::WalletClient;
use govcred::oid4vci::credential::NotificationEvent;
use govcred::platform::{KeySettings, KeyStore, KeyStoreSigner};
use govcred::Signer;
use serde_json::json;

use crate::{files, CliError, CliResult};

#[derive(Args)]
pub struct ReceiveArgs {
    /// The offer link (`https://…/wallet/add?credential_offer=…` or `openid-credential-offer://…`).
    offer: String,
    /// The wallet store to put the credential in (its holder key is created in
    /// DIR/keys, never exported); `govcred wallet list --store DIR` then shows it.
    #[arg(long = "store", value_name = "DIR", required_unless_present = "out")]
    store: Option<PathBuf>,
    /// Directory to save the credential, report and holder key in, as files.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Holder key (private JWK, P-256) to bind the credential to; default: a new one
    /// in the store's key directory, or saved as OUT/holder.jwk.
    #[arg(long)]
    holder_key: Option<PathBuf>,
}

pub fn run(a: ReceiveArgs) -> CliResult {
    let holder: Box<dyn Signer> = match (&a.holder_key, &a.store, &a.out) {
        (Some(p), _, _) => Box::new(files::read_signing_key(p)?),
        (None, Some(dir), _) => {
            // A device-binding key made in (and never leaving) the wallet's key store.
            let keys: Arc<dyn KeyStore> =
                Arc::new(SoftwareKeyStore::in_directory(&dir.join("keys"))?);
            let alias = format!(
                "holder-{}",
                govcred::b64::encode(rand::random::<[u8; 12]>())
            );
            keys.create_key(&alias, &KeySettings::default())?;
            Box::new(KeyStoreSigner::new(keys, &alias)?)
        }
        (None, None, Some(out)) => {
            let k = SoftwareKey::generate(Alg::ES256)?;
            files::write_secret(
                &out.join("holder.jwk"),
                k.to_private_jwk()?.to_json().as_bytes(),
                true,
            )?;
            Box::new(k)
        }
        (None, None, None) => return Err(CliError::input("--store DIR or --out DIR is required")),
    };
    let client = WalletClient::new(Arc::new(crate::http::ReqwestHttp::new()?));
    let got = client.receive(&a.offer, holder.as_ref())?;
    let name = format!("credential-{}", got.configuration_id);
    let mut stored_id = None;
    if let Some(dir) = &a.store {
        if got.report.valid {
            let store = crate::wallet::open_dir(dir)?;
            stored_id = Some(store.add(got.credential.as_bytes())?);
        }
    }
    if let Some(out) = &a.out {
        files::write(&out.join(format!("{name}.txt")), got.credential.as_bytes())?;
        files::write(
            &out.join(format!("{name}.report.json")),
            got.report.to_json_pretty().as_bytes(),
        )?;
    }
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
        "stored_id": stored_id,
        "saved": a.out.as_ref().map(|o| o.join(format!("{name}.txt"))),
    }));
    notified?;
    Ok(if got.report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
