//! Verifying an SD-JWT VC presentation (RFC 9901 §7).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::disclosure::{digest, Disclosure};
use super::holder::SdJwt;
use super::path::{ClaimPath, Segment};
use super::{ACCEPTED_TYP, KB_TYP, MAX_DEPTH, REGISTERED, SD_ALG};
use crate::crypto::{ct_eq, Jwk, VerifyingKey};
use crate::datetime;
use crate::error::{Error, Result};
use crate::jose::Jws;
use crate::report::{Claims, Format, VerificationReport};
use crate::trust::TrustStore;
use crate::vc;

/// What the verifier expects of the presentation.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Expected KB-JWT `aud` (setting it, or `nonce`, requires key binding).
    pub audience: Option<String>,
    /// Expected KB-JWT `nonce`.
    pub nonce: Option<String>,
    /// Require a Key Binding JWT even without `audience`/`nonce`.
    pub require_key_binding: bool,
    /// Oldest acceptable KB-JWT `iat`, in seconds before now (default 300).
    pub max_kb_age: Option<i64>,
    /// Accept a plain RFC 9901 SD-JWT: any `typ`, no `vct` required.
    pub plain_sd_jwt: bool,
}

/// One step of reconstruction: which disclosure was used at which path.
pub(crate) struct Used {
    pub index: usize,
    pub path: ClaimPath,
    /// Index of the disclosure this one is nested in, if any.
    pub parent: Option<usize>,
}

/// Reconstruct the claims of a (verified) issuer payload with `disclosures`:
/// every digest may appear once, every disclosure must be used, names may not collide.
/// Returns the processed payload (without `_sd`, `_sd_alg` and undisclosed elements).
pub fn process(
    payload: &Map<String, Value>,
    disclosures: &[Disclosure],
) -> Result<Map<String, Value>> {
    Ok(reconstruct(payload, disclosures, false)?.0)
}

pub(crate) fn reconstruct(
    payload: &Map<String, Value>,
    disclosures: &[Disclosure],
    track: bool,
) -> Result<(Map<String, Value>, Vec<Used>)> {
    match payload.get("_sd_alg") {
        None => {}
        Some(Value::String(a)) if a == SD_ALG => {}
        Some(other) => {
            return Err(Error::claim(
                "_sd_alg",
                format!("{other} is not supported: only sha-256"),
            ))
        }
    }
    let mut by_digest: HashMap<&str, usize> = HashMap::new();
    for (i, d) in disclosures.iter().enumerate() {
        if by_digest.insert(d.digest.as_str(), i).is_some() {
            return Err(Error::malformed(
                "SD-JWT",
                "the same disclosure is included twice",
            ));
        }
    }
    let mut walk = Walk {
        track,
        disclosures,
        by_digest,
        seen: HashSet::new(),
        used: Vec::new(),
    };
    let mut out = walk.object(payload, &ClaimPath::default(), None, 0)?;
    out.remove("_sd_alg");
    if walk.used.len() != disclosures.len() {
        let used: HashSet<usize> = walk.used.iter().map(|u| u.index).collect();
        let orphan = (0..disclosures.len())
            .find(|i| !used.contains(i))
            .unwrap_or(0);
        return Err(Error::malformed(
            "SD-JWT",
            format!(
                "disclosure {} has no digest in the signed payload",
                disclosures[orphan].encoded
            ),
        ));
    }
    Ok((out, walk.used))
}

struct Walk<'a> {
    /// Record claim paths (the holder needs them; the verifier does not).
    track: bool,
    disclosures: &'a [Disclosure],
    by_digest: HashMap<&'a str, usize>,
    seen: HashSet<&'a str>,
    used: Vec<Used>,
}

impl<'a> Walk<'a> {
    fn once(&mut self, digest: &'a str) -> Result<()> {
        if !self.seen.insert(digest) {
            return Err(Error::malformed(
                "SD-JWT",
                format!("digest {digest} appears more than once"),
            ));
        }
        Ok(())
    }

    fn child(&self, path: &ClaimPath, seg: impl FnOnce() -> Segment) -> ClaimPath {
        if self.track {
            path.child(seg())
        } else {
            ClaimPath::default()
        }
    }

    fn object(
        &mut self,
        map: &'a Map<String, Value>,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed(
                "SD-JWT",
                format!("claims nested deeper than {MAX_DEPTH}"),
            ));
        }
        let mut out = Map::new();
        for (k, v) in map {
            if k == "_sd" {
                continue;
            }
            if k == "..." {
                return Err(Error::malformed(
                    "SD-JWT",
                    format!("`...` outside an array element at {path}"),
                ));
            }
            if let Some(pv) = self.value(
                v,
                &self.child(path, || Segment::Key(k.clone())),
                parent,
                depth + 1,
            )? {
                out.insert(k.clone(), pv);
            }
        }
        if let Some(sd) = map.get("_sd") {
            let digests = sd.as_array().ok_or_else(|| {
                Error::malformed("SD-JWT", format!("`_sd` at {path} is not an array"))
            })?;
            for d in digests {
                let d = d.as_str().ok_or_else(|| {
                    Error::malformed("SD-JWT", format!("`_sd` at {path} holds a non-string"))
                })?;
                self.once(d)?;
                let Some(&i) = self.by_digest.get(d) else {
                    continue;
                }; // decoy or withheld
                let disc: &'a Disclosure = &self.disclosures[i];
                let Some(name) = disc.name.clone() else {
                    return Err(Error::malformed(
                        "SD-JWT",
                        "an array-element disclosure is referenced from `_sd`",
                    ));
                };
                if out.contains_key(&name) || map.contains_key(&name) {
                    return Err(Error::malformed(
                        "SD-JWT",
                        format!("disclosed claim {name:?} collides with a claim at {path}"),
                    ));
                }
                let child = self.child(path, || Segment::Key(name.clone()));
                self.used.push(Used {
                    index: i,
                    path: child.clone(),
                    parent,
                });
                if let Some(pv) = self.value(&disc.value, &child, Some(i), depth + 1)? {
                    out.insert(name, pv);
                }
            }
        }
        Ok(out)
    }

    /// The processed form of `v` at `path`; `None` for an undisclosed array element.
    fn value(
        &mut self,
        v: &'a Value,
        path: &ClaimPath,
        parent: Option<usize>,
        depth: usize,
    ) -> Result<Option<Value>> {
        if depth > MAX_DEPTH {
            return Err(Error::malformed(
                "SD-JWT",
                format!("claims nested deeper than {MAX_DEPTH}"),
            ));
        }
        match v {
            Value::Object(map) => self
                .object(map, path, parent, depth)
                .map(|m| Some(Value::Object(m))),
            Value::Array(items) => {
                let mut out = Vec::new();
                for (n, item) in items.iter().enumerate() {
                    let reference = item
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("..."));
                    match reference {
                        Some(d) => {
                            let d = d.as_str().ok_or_else(|| {
                                Error::malformed(
                                    "SD-JWT",
                                    format!("`...` at {path} is not a string"),
                                )
                            })?;
                            self.once(d)?;
                            let Some(&i) = self.by_digest.get(d) else {
                                continue;
                            };
                            let disc: &'a Disclosure = &self.disclosures[i];
                            if disc.name.is_some() {
                                return Err(Error::malformed(
                                    "SD-JWT",
                                    "an object-member disclosure is referenced from an array",
                                ));
                            }
                            let child = self.child(path, || Segment::Index(n));
                            self.used.push(Used {
                                index: i,
                                path: child.clone(),
                                parent,
                            });
                            if let Some(pv) = self.value(&disc.value, &child, Some(i), depth + 1)? {
                                out.push(pv);
                            }
                        }
                        None => {
                            if let Some(pv) = self.value(
                                item,
                                &self.child(path, || Segment::Index(n)),
                                parent,
                                depth + 1,
                            )? {
                                out.push(pv);
                            }
                        }
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            other => Ok(Some(other.clone())),
        }
    }
}

/// Verify an SD-JWT VC (issued form, or a presentation with or without a KB-JWT)
/// offline at `now`. Issuer keys come from `trust`: a DID URL `kid`, a trusted JWK,
/// or an `x5c` chain ending at a trusted root.
pub fn verify(
    input: &str,
    trust: &TrustStore,
    now: i64,
    leeway: i64,
    opts: &VerifyOptions,
) -> VerificationReport {
    let mut report = VerificationReport::new(Format::SdJwtVc, now);
    let Some(sd) = report.parsed(SdJwt::parse(input.trim())) else {
        return report.finish();
    };
    let parsed = Jws::decode(&sd.issuer_jwt).and_then(|jws| {
        let typ = jws.header_str("typ").unwrap_or("(absent)").to_string();
        if !opts.plain_sd_jwt && !ACCEPTED_TYP.contains(&typ.as_str()) {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: typ,
                expected: "dc+sd-jwt",
            });
        }
        let payload = jws.payload_json()?;
        Ok((jws, payload))
    });
    let Some((jws, payload)) = report.parsed(parsed) else {
        return report.finish();
    };
    let (alg, kid, x5c) = (jws.alg(), jws.kid(), jws.header().get("x5c"));
    report.pass(
        "format",
        format!(
            "SD-JWT with {} disclosure(s){}",
            sd.disclosures.len(),
            if sd.kb_jwt.is_some() {
                " and a Key Binding JWT"
            } else {
                ""
            }
        ),
    );

    // Claims of the SD-JWT VC profile, read before trusting them.
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_string);
    let vct = payload
        .get("vct")
        .and_then(Value::as_str)
        .map(str::to_string);
    let shape = match (&iss, &vct) {
        (None, _) => Err(Error::claim("iss", "missing")),
        (_, None) if !opts.plain_sd_jwt => Err(Error::claim("vct", "missing")),
        _ => numeric(&payload, "iat")
            .and(numeric(&payload, "nbf"))
            .and(numeric(&payload, "exp"))
            .map(|_| ()),
    };
    report.record("data_model", &shape, |_| {
        format!("SD-JWT VC of type {}", vct.clone().unwrap_or_default())
    });
    report.issuer = iss.clone();
    report.types = vct.iter().cloned().collect();
    report.valid_from = numeric(&payload, "nbf")
        .ok()
        .flatten()
        .map(datetime::format);
    report.valid_until = numeric(&payload, "exp")
        .ok()
        .flatten()
        .map(datetime::format);

    // Issuer key and signature.
    let keys = match &x5c {
        Some(chain) => trust.x5c_key(chain, now, leeway).map(|k| vec![k]),
        None => trust.issuer_keys(kid, alg),
    };
    let signed_by = crate::format::check_issuer_signature(&mut report, &jws, keys);
    if let (Some(k), Some(iss)) = (&signed_by, &iss) {
        let binding = k.binds(iss, kid);
        report.record("issuer_binding", &binding, |d| d.clone());
    }

    // Disclosures.
    let processed = reconstruct(&payload, &sd.disclosures, false);
    report.record("disclosures", &processed, |(_, used)| {
        format!("{} disclosure(s), each matching one digest", used.len())
    });

    // Key binding.
    let kb_required = opts.require_key_binding || opts.audience.is_some() || opts.nonce.is_some();
    match &sd.kb_jwt {
        Some(kb) => {
            let r = check_key_binding(&sd, kb, &payload, now, leeway, opts);
            report.record("key_binding", &r, |d| d.clone());
        }
        None if kb_required => report.fail(
            "key_binding",
            &Error::claim(
                "kb+jwt",
                "the verifier requires key binding, but the presentation has no Key Binding JWT",
            ),
        ),
        None => {}
    }

    // Validity window.
    if shape.is_ok() {
        let starts = [numeric(&payload, "nbf").ok().flatten()];
        let ends = [numeric(&payload, "exp").ok().flatten()];
        let w = vc::check_window(
            starts.into_iter().flatten(),
            ends.into_iter().flatten(),
            now,
            leeway,
        );
        report.record("validity_period", &w, |d| d.clone());
    }

    // Revocation / suspension, then the claims — only for a verified signature.
    if signed_by.is_some() {
        crate::status::check_claims(&mut report, trust, &payload, now);
        if let Ok((mut claims, _)) = processed {
            for r in REGISTERED {
                claims.remove(*r);
            }
            report.claims = Claims::from_value(&Value::Object(claims));
        }
    }
    report.finish()
}

fn numeric(payload: &Map<String, Value>, claim: &str) -> Result<Option<i64>> {
    match payload.get(claim) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::claim(claim, "must be a NumericDate (integer seconds)")),
    }
}

fn check_key_binding(
    sd: &SdJwt,
    kb: &str,
    payload: &Map<String, Value>,
    now: i64,
    leeway: i64,
    opts: &VerifyOptions,
) -> Result<String> {
    let jws = Jws::decode(kb)?;
    if jws.header_str("typ") != Some(KB_TYP) {
        return Err(Error::TypeMismatch {
            header: "typ",
            found: jws.header_str("typ").unwrap_or("(absent)").into(),
            expected: KB_TYP,
        });
    }
    let cnf = payload
        .get("cnf")
        .and_then(|c| c.get("jwk"))
        .ok_or_else(|| {
            Error::claim(
                "cnf",
                "a Key Binding JWT needs the issuer to have bound a key (`cnf.jwk`)",
            )
        })?;
    let jwk: Jwk = serde_json::from_value(cnf.clone())
        .map_err(|e| Error::InvalidKey(format!("cnf.jwk: {e}")))?;
    let holder = VerifyingKey::from_jwk(&jwk)?;
    jws.verify(&holder)?;
    let claims = jws.payload_json()?;
    let expected_hash = digest(&sd.presentation_without_kb());
    match claims.get("sd_hash").and_then(Value::as_str) {
        Some(h) if ct_eq(h.as_bytes(), expected_hash.as_bytes()) => {}
        Some(_) => {
            return Err(Error::claim(
                "sd_hash",
                "does not match the presented SD-JWT and disclosures",
            ))
        }
        None => return Err(Error::claim("sd_hash", "missing from the Key Binding JWT")),
    }
    let aud = claims
        .get("aud")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::claim("aud", "missing from the Key Binding JWT"))?;
    if let Some(expected) = &opts.audience {
        if aud != expected {
            return Err(Error::claim(
                "aud",
                format!("is {aud:?}, expected {expected:?}"),
            ));
        }
    }
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::claim("nonce", "missing from the Key Binding JWT"))?;
    if let Some(expected) = &opts.nonce {
        if !ct_eq(nonce.as_bytes(), expected.as_bytes()) {
            return Err(Error::NonceMismatch);
        }
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::claim("iat", "missing from the Key Binding JWT"))?;
    let max_age = opts.max_kb_age.unwrap_or(300);
    if iat > now.saturating_add(leeway) {
        return Err(Error::NotYetValid {
            from: datetime::format(iat),
            at: datetime::format(now),
        });
    }
    if iat < now.saturating_sub(max_age + leeway) {
        return Err(Error::Expired {
            until: datetime::format(iat + max_age),
            at: datetime::format(now),
        });
    }
    Ok(format!(
        "{} holder signature over sd_hash, aud {aud:?}, fresh nonce",
        jws.alg()
    ))
}
