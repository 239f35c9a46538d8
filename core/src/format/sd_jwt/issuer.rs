//! Issuing an SD-JWT VC.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::disclosure::Disclosure;
use super::path::{ClaimPath, Segment};
use super::{NEVER_DISCLOSABLE, SD_ALG, TYP};
use crate::crypto::Jwk;
use crate::error::{Error, Result};
use crate::jose;
use crate::platform::Signer;

/// An SD-JWT VC to issue.
#[derive(Clone, Debug, Default)]
pub struct SdJwtDraft {
    /// `iss`: the issuer's URL or DID.
    pub issuer: String,
    /// `vct`: the credential type.
    pub vct: String,
    /// The claims (may include `sub`); nested objects and arrays allowed.
    pub claims: Map<String, Value>,
    /// Paths of the claims to make selectively disclosable, e.g. `address.locality`,
    /// `nationalities.1`. A path inside another listed path is disclosable separately
    /// (recursive disclosure).
    pub disclosable: Vec<String>,
    /// Decoy digests to add to each `_sd` array (hides how many claims there are).
    pub decoys: usize,
    /// The holder's public key, carried as `cnf.jwk` (key binding).
    pub holder_key: Option<Jwk>,
    /// `exp` (Unix seconds).
    pub expires_at: Option<i64>,
    /// `nbf` (Unix seconds).
    pub not_before: Option<i64>,
    /// `status` claim, e.g. `{"status_list": {"idx": 7, "uri": "…"}}`.
    pub status: Option<Value>,
    /// JWS header `kid`.
    pub kid: Option<String>,
    /// Derive salts and decoys from this seed instead of the system RNG. Only for
    /// reproducible test vectors: a production issuer must leave it `None`, or salts
    /// become guessable and undisclosed claims can be brute-forced.
    pub test_only_salt_seed: Option<[u8; 32]>,
}

impl SdJwtDraft {
    /// A draft for `issuer` and credential type `vct`.
    pub fn new(issuer: &str, vct: &str) -> Self {
        SdJwtDraft {
            issuer: issuer.into(),
            vct: vct.into(),
            ..Default::default()
        }
    }
}

/// Issue `draft` signed by `signer` at `now`: returns `<JWT>~<disclosure>~…~`.
/// `x5c` (base64 DER certificates, leaf first) is put in the header when given.
pub fn issue(
    draft: &SdJwtDraft,
    x5c: Option<&[String]>,
    signer: &dyn Signer,
    now: i64,
) -> Result<String> {
    let mut wanted: BTreeSet<ClaimPath> = BTreeSet::new();
    for p in &draft.disclosable {
        let path = ClaimPath::parse(p)?;
        if let Some(Segment::Key(first)) = path.0.first() {
            if path.0.len() == 1 && NEVER_DISCLOSABLE.contains(&first.as_str()) {
                return Err(Error::claim(
                    p.as_str(),
                    "may not be selectively disclosable in an SD-JWT VC",
                ));
            }
        }
        wanted.insert(path);
    }
    for reserved in ["iss", "vct", "cnf", "_sd", "_sd_alg", "..."] {
        if draft.claims.contains_key(reserved) {
            return Err(Error::claim(
                reserved,
                "is set by the issuer, not given as a claim",
            ));
        }
    }
    let mut disclosures = Vec::new();
    let mut found = BTreeSet::new();
    let mut body = Value::Object(draft.claims.clone());
    let mut salts = Salts {
        seed: draft.test_only_salt_seed,
        counter: 0,
    };
    conceal(
        &mut body,
        &ClaimPath::default(),
        &wanted,
        &mut found,
        draft.decoys,
        &mut salts,
        &mut disclosures,
    )?;
    if let Some(missing) = wanted.difference(&found).next() {
        return Err(Error::claim(
            missing.to_string(),
            "no such claim to make disclosable",
        ));
    }
    let Value::Object(mut payload) = body else {
        return Err(Error::claim("(claims)", "must be a JSON object"));
    };
    payload.insert("iss".into(), draft.issuer.as_str().into());
    payload.insert("vct".into(), draft.vct.as_str().into());
    payload.insert("iat".into(), now.into());
    if let Some(nbf) = draft.not_before {
        payload.insert("nbf".into(), nbf.into());
    }
    if let Some(exp) = draft.expires_at {
        payload.insert("exp".into(), exp.into());
    }
    if let Some(s) = &draft.status {
        payload.insert("status".into(), s.clone());
    }
    if let Some(jwk) = &draft.holder_key {
        let public = crate::crypto::VerifyingKey::from_jwk(jwk)?
            .jwk()
            .to_public();
        payload.insert("cnf".into(), serde_json::json!({ "jwk": public }));
    }
    payload.insert("_sd_alg".into(), SD_ALG.into());

    let mut header = Map::new();
    header.insert("typ".into(), TYP.into());
    if let Some(kid) = &draft.kid {
        header.insert("kid".into(), kid.as_str().into());
    }
    if let Some(chain) = x5c {
        header.insert(
            "x5c".into(),
            chain.iter().map(|c| Value::from(c.as_str())).collect(),
        );
    }
    let body = serde_json::to_vec(&payload)
        .map_err(|e| Error::malformed("SD-JWT payload", e.to_string()))?;
    let mut out = jose::sign_compact(header, &body, signer)?;
    out.push('~');
    for d in &disclosures {
        out.push_str(&d.encoded);
        out.push('~');
    }
    Ok(out)
}

/// Replace the wanted claims below `path` with digests, innermost first, collecting
/// the disclosures.
/// Where salts come from: the system RNG, or a seed (test vectors only).
struct Salts {
    seed: Option<[u8; 32]>,
    counter: u64,
}

impl Salts {
    fn next(&mut self) -> [u8; 16] {
        match self.seed {
            None => rand::random(),
            Some(seed) => {
                self.counter += 1;
                let mut input = seed.to_vec();
                input.extend_from_slice(&self.counter.to_be_bytes());
                let h = crate::crypto::sha256(&input);
                let mut out = [0u8; 16];
                out.copy_from_slice(&h[..16]);
                out
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn conceal(
    value: &mut Value,
    path: &ClaimPath,
    wanted: &BTreeSet<ClaimPath>,
    found: &mut BTreeSet<ClaimPath>,
    decoys: usize,
    salts: &mut Salts,
    out: &mut Vec<Disclosure>,
) -> Result<()> {
    // Nothing wanted below here: leave the subtree as it is.
    if !wanted
        .iter()
        .any(|w| w.0.len() > path.0.len() && w.starts_with(path))
    {
        return Ok(());
    }
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let mut digests = Vec::new();
            for k in keys {
                let child = path.child(Segment::Key(k.clone()));
                if let Some(v) = map.get_mut(&k) {
                    conceal(v, &child, wanted, found, decoys, salts, out)?;
                }
                if wanted.contains(&child) {
                    found.insert(child);
                    if let Some(v) = map.remove(&k) {
                        let d = Disclosure::with_salt(salts.next(), Some(&k), v);
                        digests.push(d.digest.clone());
                        out.push(d);
                    }
                }
            }
            if !digests.is_empty() {
                for _ in 0..decoys {
                    digests.push(super::disclosure::digest(&crate::b64::encode(salts.next())));
                }
                digests.sort();
                map.insert("_sd".into(), digests.into_iter().map(Value::from).collect());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let child = path.child(Segment::Index(i));
                conceal(item, &child, wanted, found, decoys, salts, out)?;
                if wanted.contains(&child) {
                    found.insert(child);
                    let d = Disclosure::with_salt(salts.next(), None, item.take());
                    *item = serde_json::json!({ "...": d.digest });
                    out.push(d);
                }
            }
        }
        _ => {}
    }
    Ok(())
}
