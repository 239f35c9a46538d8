//! The holder's side: parse, list what can be disclosed, present with key binding.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::disclosure::{digest, Disclosure};
use super::path::ClaimPath;
use super::verifier::reconstruct;
use super::{KB_TYP, MAX_DISCLOSURES};
use crate::error::{Error, Result};
use crate::jose::{self, Jws, MAX_COMPACT_JWS_LEN};
use crate::platform::Signer;

/// A parsed SD-JWT: issuer-signed JWT, disclosures, optional Key Binding JWT.
#[derive(Clone, Debug)]
pub struct SdJwt {
    /// The issuer-signed JWT (compact).
    pub issuer_jwt: String,
    /// The disclosures, in the order given.
    pub disclosures: Vec<Disclosure>,
    /// The Key Binding JWT, if the input was a presentation with one.
    pub kb_jwt: Option<String>,
}

/// A claim the holder may choose to disclose.
#[derive(Clone, Debug, PartialEq)]
pub struct DisclosableClaim {
    /// Where it sits in the reconstructed claims.
    pub path: ClaimPath,
    /// Its value (with everything nested in it disclosed).
    pub value: Value,
}

/// What the verifier asked the Key Binding JWT to carry.
#[derive(Clone, Debug)]
pub struct KeyBinding {
    /// `aud`: the verifier.
    pub audience: String,
    /// `nonce`: the verifier's challenge.
    pub nonce: String,
    /// `iat`: now, Unix seconds.
    pub issued_at: i64,
}

impl SdJwt {
    /// Parse `<JWT>~<D1>~…~<Dn>~[<KB-JWT>]`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.len() > MAX_COMPACT_JWS_LEN {
            return Err(Error::TooLarge {
                what: "SD-JWT",
                size: text.len(),
                limit: MAX_COMPACT_JWS_LEN,
            });
        }
        let mut parts: Vec<&str> = text.split('~').collect();
        if parts.len() < 2 {
            return Err(Error::malformed(
                "SD-JWT",
                "no `~` separator: an SD-JWT is <JWT>~<disclosures>~[<KB-JWT>]",
            ));
        }
        let last = parts.pop().unwrap_or_default();
        let kb_jwt = (!last.is_empty()).then(|| last.to_string());
        let issuer_jwt = parts.remove(0).to_string();
        if parts.len() > MAX_DISCLOSURES {
            return Err(Error::TooLarge {
                what: "SD-JWT disclosure list",
                size: parts.len(),
                limit: MAX_DISCLOSURES,
            });
        }
        let disclosures = parts
            .iter()
            .map(|p| {
                if p.is_empty() {
                    Err(Error::malformed("SD-JWT", "empty disclosure (`~~`)"))
                } else {
                    Disclosure::parse(p)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SdJwt {
            issuer_jwt,
            disclosures,
            kb_jwt,
        })
    }

    /// The SD-JWT without its KB-JWT: `<JWT>~<D1>~…~<Dn>~` (what `sd_hash` covers).
    pub fn presentation_without_kb(&self) -> String {
        let mut s = self.issuer_jwt.clone();
        s.push('~');
        for d in &self.disclosures {
            s.push_str(&d.encoded);
            s.push('~');
        }
        s
    }

    /// The issuer payload (signature not checked: the holder checks it on receipt
    /// with the verifier).
    pub fn payload(&self) -> Result<Map<String, Value>> {
        Jws::decode(&self.issuer_jwt)?.payload_json()
    }

    /// Every claim the holder can choose to disclose, with its path.
    pub fn disclosable_claims(&self) -> Result<Vec<DisclosableClaim>> {
        let (claims, used) = reconstruct(&self.payload()?, &self.disclosures, true)?;
        Ok(used
            .iter()
            .map(|u| DisclosableClaim {
                value: lookup(&claims, &u.path).cloned().unwrap_or(Value::Null),
                path: u.path.clone(),
            })
            .collect())
    }

    /// A presentation disclosing exactly the claims at `paths` (plus the disclosures of
    /// any selectively-disclosable claims they are nested in), with a Key Binding JWT
    /// when `key_binding` is given. Disclosing `address` reveals the address object
    /// with its always-visible members; its own selectively-disclosable members are
    /// revealed only if listed too (`address.locality`). Paths of always-visible claims
    /// are accepted and change nothing; unknown paths are an error.
    pub fn present(
        &self,
        paths: &[&str],
        key_binding: Option<(&KeyBinding, &dyn Signer)>,
    ) -> Result<String> {
        let (claims, used) = reconstruct(&self.payload()?, &self.disclosures, true)?;
        let mut keep = BTreeSet::new();
        for p in paths {
            let path = ClaimPath::parse(p)?;
            if lookup(&claims, &path).is_none() {
                return Err(Error::claim(*p, "no such claim in this credential"));
            }
            // The claim's own disclosure, or else the deepest one it is nested in…
            let mut next = used.iter().position(|u| u.path == path).or_else(|| {
                used.iter()
                    .enumerate()
                    .filter(|(_, u)| path.starts_with(&u.path))
                    .max_by_key(|(_, u)| u.path.0.len())
                    .map(|(i, _)| i)
            });
            // …and every disclosure above it.
            while let Some(i) = next {
                if !keep.insert(i) {
                    break;
                }
                next = used[i]
                    .parent
                    .and_then(|pi| used.iter().position(|u| u.index == pi));
            }
        }
        let mut out = self.issuer_jwt.clone();
        out.push('~');
        for i in keep {
            out.push_str(&self.disclosures[used[i].index].encoded);
            out.push('~');
        }
        if let Some((kb, signer)) = key_binding {
            let mut header = Map::new();
            header.insert("typ".into(), KB_TYP.into());
            let payload = serde_json::json!({
                "iat": kb.issued_at,
                "aud": kb.audience,
                "nonce": kb.nonce,
                "sd_hash": digest(&out),
            });
            out.push_str(&jose::sign_compact(
                header,
                payload.to_string().as_bytes(),
                signer,
            )?);
        }
        Ok(out)
    }
}

/// The value at `path` in `claims`.
pub(crate) fn lookup<'a>(claims: &'a Map<String, Value>, path: &ClaimPath) -> Option<&'a Value> {
    use super::path::Segment;
    let mut segs = path.0.iter();
    let mut cur = match segs.next()? {
        Segment::Key(k) => claims.get(k)?,
        Segment::Index(i) => claims.get(&i.to_string())?,
    };
    for s in segs {
        cur = match (s, cur) {
            (Segment::Key(k), Value::Object(m)) => m.get(k)?,
            (Segment::Index(i), Value::Array(a)) => a.get(*i)?,
            (Segment::Index(i), Value::Object(m)) => m.get(&i.to_string())?,
            _ => return None,
        };
    }
    Some(cur)
}
