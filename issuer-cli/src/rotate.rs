//! `govcred keys rotate|retire|list`: key rotation for a did:web issuer site.
//!
//! The life of a key: **next** (published in did.json/jwks.json ahead of use, so
//! verifiers' caches have it before the first credential signed by it arrives) →
//! **active** (the key to sign with) → **previous** (still published: credentials it
//! signed keep verifying) → retired (removed from the published files, once no
//! unexpired credential signed by it remains according to the issuance ledgers).
//!
//! The state is kept beside the published files in `SITE/govcred-keys.json` (public
//! keys and roles only — nothing secret).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use govcred::crypto::{Jwk, VerifyingKey};
use govcred::{did, Clock, SystemClock};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{files, CliError, CliResult};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Publish a new key ahead of use (role next); `--activate` switches signing to it.
    Rotate(RotateArgs),
    /// Remove a key from the published files, once nothing unexpired it signed remains.
    Retire(RetireArgs),
    /// Show the site's keys and their roles.
    List(SiteArgs),
}

#[derive(Args)]
pub struct SiteArgs {
    /// Site root holding `.well-known/did.json` (as written by `govcred did-web`).
    #[arg(long)]
    site: PathBuf,
    /// The issuer's domain, when the site has no did.json yet or has it below a path.
    #[arg(long)]
    domain: Option<String>,
}

#[derive(Args)]
pub struct RotateArgs {
    #[command(flatten)]
    site: SiteArgs,
    /// The new key (private or public JWK), published with role next.
    #[arg(long)]
    key: Option<PathBuf>,
    /// Make the next key the active one (the active one becomes previous).
    #[arg(long)]
    activate: bool,
}

#[derive(Args)]
pub struct RetireArgs {
    #[command(flatten)]
    site: SiteArgs,
    /// The key: its key id (the fragment) or full verification method id.
    #[arg(long)]
    kid: String,
    /// Issuance ledgers to check for unexpired credentials signed by the key (repeatable).
    #[arg(long = "ledger")]
    ledgers: Vec<PathBuf>,
    /// Retire even though unexpired credentials remain (they stop verifying).
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Next,
    Active,
    Previous,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyRecord {
    pub kid: String,
    pub jwk: Jwk,
    pub role: Role,
    pub added: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SiteKeys {
    pub did: String,
    pub keys: Vec<KeyRecord>,
}

fn state_path(site: &Path) -> PathBuf {
    site.join("govcred-keys.json")
}

fn verifying(jwk: &Jwk) -> Result<VerifyingKey, CliError> {
    Ok(VerifyingKey::from_jwk(&jwk.to_public())?)
}

/// Load the site's key state, importing an existing did.json the first time (its
/// first key becomes active, the others previous).
fn load(a: &SiteArgs) -> Result<SiteKeys, CliError> {
    let p = state_path(&a.site);
    if p.exists() {
        return serde_json::from_value(files::read_json(&p)?)
            .map_err(|e| CliError::input(format!("{}: {e}", p.display())));
    }
    let did = match &a.domain {
        Some(d) => did::web::from_domain(d)?,
        None => {
            let doc = files::read_json(&a.site.join(".well-known/did.json"))
                .map_err(|e| CliError::input(format!("{} (or pass --domain)", e.message)))?;
            doc["id"]
                .as_str()
                .ok_or_else(|| CliError::input("did.json has no id"))?
                .to_string()
        }
    };
    let url = did::web::to_url(&did)?;
    let doc_path = a.site.join(crate::keys::site_did_path(&url));
    let now = SystemClock.now();
    let mut keys = Vec::new();
    if doc_path.exists() {
        let doc = files::read_json(&doc_path)?;
        for (i, vm) in doc["verificationMethod"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let jwk = Jwk::from_json(&vm["publicKeyJwk"].to_string())?;
            let vk = verifying(&jwk)?;
            keys.push(KeyRecord {
                kid: did::web::key_id(&vk),
                jwk: jwk.to_public(),
                role: if i == 0 { Role::Active } else { Role::Previous },
                added: now,
                activated: None,
            });
        }
    }
    Ok(SiteKeys { did, keys })
}

/// Save the state and republish did.json / jwks.json with every key still held.
fn publish(site: &Path, s: &SiteKeys) -> Result<(PathBuf, PathBuf), CliError> {
    let keys = s
        .keys
        .iter()
        .map(|k| {
            let mut jwk = k.jwk.clone();
            jwk.kid = Some(k.kid.clone());
            verifying(&jwk)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (_, did_path, jwks_path) = crate::keys::write_site(site, &s.did, &keys)?;
    files::write(
        &state_path(site),
        serde_json::to_string_pretty(s)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    Ok((did_path, jwks_path))
}

fn summary(s: &SiteKeys) -> serde_json::Value {
    json!({
        "did": s.did,
        "keys": s.keys.iter().map(|k| json!({
            "kid": k.kid,
            "verification_method": format!("{}#{}", s.did, k.kid),
            "role": k.role,
        })).collect::<Vec<_>>(),
    })
}

pub fn run(cmd: KeysCommand) -> CliResult {
    let now = SystemClock.now();
    match cmd {
        KeysCommand::List(a) => {
            files::print_json(&summary(&load(&a)?));
        }
        KeysCommand::Rotate(a) => {
            if a.key.is_none() && !a.activate {
                return Err(CliError::input(
                    "nothing to do: pass --key NEW.jwk and/or --activate",
                ));
            }
            let mut s = load(&a.site)?;
            if let Some(path) = &a.key {
                let jwk = files::read_jwk(path)?.to_public();
                let vk = verifying(&jwk)
                    .map_err(|e| CliError::input(format!("{}: {}", path.display(), e.message)))?;
                let kid = did::web::key_id(&vk);
                if s.keys.iter().any(|k| k.kid == kid) {
                    return Err(CliError::input(format!("key {kid} is already published")));
                }
                if s.keys.iter().any(|k| k.role == Role::Next) {
                    return Err(CliError::input(
                        "a next key is already published: --activate it (or retire it) first",
                    ));
                }
                s.keys.push(KeyRecord {
                    kid: kid.clone(),
                    jwk,
                    // The first key of a site is active at once.
                    role: if s.keys.is_empty() {
                        Role::Active
                    } else {
                        Role::Next
                    },
                    added: now,
                    activated: None,
                });
                crate::audit::record(
                    None,
                    "key_rotate",
                    json!({"did": s.did, "kid": kid, "role": "next"}),
                )?;
            }
            if a.activate {
                let next = s
                    .keys
                    .iter()
                    .position(|k| k.role == Role::Next)
                    .ok_or_else(|| {
                        CliError::input("no next key to activate: rotate --key first")
                    })?;
                for k in s.keys.iter_mut().filter(|k| k.role == Role::Active) {
                    k.role = Role::Previous;
                }
                s.keys[next].role = Role::Active;
                s.keys[next].activated = Some(now);
                crate::audit::record(
                    None,
                    "key_activate",
                    json!({"did": s.did, "kid": s.keys[next].kid}),
                )?;
            }
            let (did_json, jwks_json) = publish(&a.site.site, &s)?;
            let mut out = summary(&s);
            out["did_json"] = json!(did_json);
            out["jwks_json"] = json!(jwks_json);
            files::print_json(&out);
        }
        KeysCommand::Retire(a) => {
            let mut s = load(&a.site)?;
            let kid = a
                .kid
                .rsplit_once('#')
                .map(|(_, f)| f)
                .unwrap_or(&a.kid)
                .to_string();
            let pos = s
                .keys
                .iter()
                .position(|k| k.kid == kid)
                .ok_or_else(|| CliError::input(format!("no key {kid} on the site")))?;
            if s.keys[pos].role != Role::Previous {
                return Err(CliError::input(format!(
                    "key {kid} is {:?}: only a previous key can be retired (activate another first)",
                    s.keys[pos].role
                )));
            }
            let thumbprint = verifying(&s.keys[pos].jwk)?.thumbprint();
            let signed_by = |k: &str| {
                k == kid || k == thumbprint || k.rsplit_once('#').is_some_and(|(_, f)| f == kid)
            };
            let mut unexpired = 0u64;
            let mut latest: Option<i64> = None;
            for l in &a.ledgers {
                if !l.exists() {
                    return Err(CliError::input(format!("{}: no such ledger", l.display())));
                }
                crate::ledger::for_each(l, |e| {
                    if signed_by(&e.kid) && e.expires_at.is_none_or(|x| x > now) {
                        unexpired += 1;
                        latest = match (latest, e.expires_at) {
                            (_, None) => Some(i64::MAX),
                            (None, Some(x)) => Some(x),
                            (Some(y), Some(x)) => Some(y.max(x)),
                        };
                    }
                    Ok(())
                })?;
            }
            if unexpired > 0 && !a.force {
                let until = match latest {
                    Some(i64::MAX) | None => "never (some have no expiry)".to_string(),
                    Some(t) => govcred::datetime::format(t),
                };
                return Err(CliError::input(format!(
                    "key {kid} still has {unexpired} unexpired credential(s) in the ledgers (the last expires {until}): retiring it now would make them fail verification; wait, or pass --force"
                )));
            }
            if a.ledgers.is_empty() && !a.force {
                return Err(CliError::input(
                    "pass the issuance ledgers (--ledger) so no unexpired credential is orphaned, or --force",
                ));
            }
            let removed = s.keys.remove(pos);
            crate::audit::record(
                None,
                "key_retire",
                json!({"did": s.did, "kid": removed.kid, "forced": a.force, "unexpired": unexpired}),
            )?;
            publish(&a.site.site, &s)?;
            let mut out = summary(&s);
            out["retired"] = json!(removed.kid);
            out["unexpired_orphaned"] = json!(unexpired);
            files::print_json(&out);
        }
    }
    Ok(ExitCode::SUCCESS)
}
