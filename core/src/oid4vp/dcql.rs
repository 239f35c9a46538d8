//! DCQL, the Digital Credentials Query Language (OpenID4VP 1.0 §6), and a matcher
//! over the wallet's credentials.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Format identifier of SD-JWT VCs.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// Format identifier of ISO mdocs.
pub const FORMAT_MSO_MDOC: &str = "mso_mdoc";

/// A DCQL query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The credentials requested.
    pub credentials: Vec<CredentialQuery>,
    /// Which combinations of them satisfy the request (absent: all are required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// One Credential Query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Identifier, referenced by `credential_sets` and the `vp_token` keys.
    pub id: String,
    /// `dc+sd-jwt` or `mso_mdoc`.
    pub format: String,
    /// Whether several credentials may be returned for this query.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// Format-specific constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Requested claims (absent: no specific claims).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Acceptable claim combinations, by claim `id`, in order of preference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
}

/// `meta`: `vct_values` for SD-JWT VC, `doctype_value` for mdoc.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Accepted `vct` values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct_values: Option<Vec<String>>,
    /// Required mdoc doctype.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doctype_value: Option<String>,
}

/// One claim query: a path (for mdoc `[namespace, element]`), or for mdoc the
/// earlier `namespace` + `claim_name` form; optional accepted values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Identifier for `claim_sets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Claims path pointer: strings (member), non-negative integers (index), `null`
    /// (every element).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Vec<Value>>,
    /// mdoc namespace (draft form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// mdoc element identifier (draft form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_name: Option<String>,
    /// Accepted values (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
    /// mdoc: whether the verifier intends to retain the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_to_retain: Option<bool>,
}

impl ClaimsQuery {
    /// A query for the claim at `path` (string segments; digits are indices).
    pub fn path(path: &[&str]) -> Self {
        ClaimsQuery {
            id: None,
            path: Some(
                path.iter()
                    .map(|s| match s.parse::<u64>() {
                        Ok(i) => Value::from(i),
                        Err(_) => Value::from(*s),
                    })
                    .collect(),
            ),
            namespace: None,
            claim_name: None,
            values: None,
            intent_to_retain: None,
        }
    }

    /// The path as pointer segments (the draft mdoc form mapped to `[ns, name]`).
    pub fn pointer(&self) -> Result<Vec<Value>> {
        match (&self.path, &self.namespace, &self.claim_name) {
            (Some(p), None, None) if !p.is_empty() => {
                for s in p {
                    if !(s.is_string() || s.is_u64() || s.is_null()) {
                        return Err(Error::malformed(
                            "DCQL claims path",
                            "segments must be strings, non-negative integers or null",
                        ));
                    }
                }
                Ok(p.clone())
            }
            (None, Some(ns), Some(name)) => Ok(vec![ns.clone().into(), name.clone().into()]),
            _ => Err(Error::malformed(
                "DCQL claims query",
                "needs a non-empty `path` (or, for mdoc, `namespace` and `claim_name`)",
            )),
        }
    }

    /// The path written for people: `address.locality`, `org.iso.18013.5.1/age_over_18`.
    pub fn display(&self, format: &str) -> String {
        let p = self.pointer().unwrap_or_default();
        let segs: Vec<String> = p
            .iter()
            .map(|s| match s {
                Value::String(s) => s.clone(),
                Value::Null => "*".into(),
                other => other.to_string(),
            })
            .collect();
        if format == FORMAT_MSO_MDOC {
            segs.join("/")
        } else {
            segs.join(".")
        }
    }
}

/// A credential set: options (lists of credential query ids), any one of which
/// satisfies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// The options.
    pub options: Vec<Vec<String>>,
    /// Whether the set must be satisfied (default true).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// Parse and validate a query.
    pub fn from_json(v: &Value) -> Result<Self> {
        let q: DcqlQuery = serde_json::from_value(v.clone())
            .map_err(|e| Error::malformed("dcql_query", e.to_string()))?;
        q.validate()?;
        Ok(q)
    }

    /// Check the structural rules: ids unique and well-formed, known formats, claim
    /// sets naming claims with ids, credential sets naming known queries.
    pub fn validate(&self) -> Result<()> {
        const W: &str = "dcql_query";
        if self.credentials.is_empty() {
            return Err(Error::malformed(W, "`credentials` is empty"));
        }
        let mut ids = std::collections::HashSet::new();
        for c in &self.credentials {
            if !valid_id(&c.id) || !ids.insert(c.id.as_str()) {
                return Err(Error::malformed(
                    W,
                    format!(
                        "credential id {:?} is empty, not [A-Za-z0-9_-] or repeated",
                        c.id
                    ),
                ));
            }
            if c.format != FORMAT_SD_JWT_VC && c.format != FORMAT_MSO_MDOC {
                return Err(Error::UnsupportedFormat(format!(
                    "DCQL format {:?} (dc+sd-jwt and mso_mdoc are supported)",
                    c.format
                )));
            }
            let claims = c.claims.as_deref().unwrap_or_default();
            if c.claims.as_ref().is_some_and(Vec::is_empty) {
                return Err(Error::malformed(W, format!("{}: `claims` is empty", c.id)));
            }
            let mut claim_ids = std::collections::HashSet::new();
            for cl in claims {
                let p = cl.pointer()?;
                if c.format == FORMAT_MSO_MDOC && (p.len() != 2 || !p.iter().all(Value::is_string))
                {
                    return Err(Error::malformed(
                        W,
                        format!("{}: an mdoc claim path is [namespace, element]", c.id),
                    ));
                }
                if let Some(id) = &cl.id {
                    if !valid_id(id) || !claim_ids.insert(id.as_str()) {
                        return Err(Error::malformed(
                            W,
                            format!("{}: claim id {id:?} invalid or repeated", c.id),
                        ));
                    }
                }
            }
            if let Some(sets) = &c.claim_sets {
                if sets.is_empty() || c.claims.is_none() {
                    return Err(Error::malformed(
                        W,
                        format!("{}: claim_sets needs claims and at least one set", c.id),
                    ));
                }
                for id in sets.iter().flatten() {
                    if !claim_ids.contains(id.as_str()) {
                        return Err(Error::malformed(
                            W,
                            format!("{}: claim_sets names unknown claim {id:?}", c.id),
                        ));
                    }
                }
            }
        }
        for set in self.credential_sets.iter().flatten() {
            if set.options.is_empty() {
                return Err(Error::malformed(W, "a credential set has no options"));
            }
            for id in set.options.iter().flatten() {
                if !ids.contains(id.as_str()) {
                    return Err(Error::malformed(
                        W,
                        format!("credential_sets names unknown query {id:?}"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A credential the wallet holds, described for matching: its format, type (`vct`
/// or doctype) and claims as JSON (SD-JWT VC: every claim the holder could disclose;
/// mdoc: `{namespace: {element: value}}`).
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The wallet's id for it.
    pub id: String,
    /// `dc+sd-jwt` or `mso_mdoc`.
    pub format: String,
    /// `vct` or doctype.
    pub type_id: String,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl Candidate {
    /// Describe an issued SD-JWT VC (every disclosure included) for matching.
    pub fn from_sd_jwt(id: impl Into<String>, issued: &str) -> Result<Self> {
        let sd = crate::format::sd_jwt::SdJwt::parse(issued)?;
        let payload = sd.payload()?;
        let claims = crate::format::sd_jwt::process(&payload, &sd.disclosures)?;
        let vct = claims
            .get("vct")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::claim("vct", "an SD-JWT VC needs a vct"))?
            .to_string();
        Ok(Candidate {
            id: id.into(),
            format: FORMAT_SD_JWT_VC.into(),
            type_id: vct,
            claims,
        })
    }

    /// Describe an mdoc by doctype and its `(namespace, element, value)` items.
    pub fn mdoc(
        id: impl Into<String>,
        doctype: impl Into<String>,
        items: &[(&str, &str, Value)],
    ) -> Self {
        let mut claims = Map::new();
        for (ns, el, v) in items {
            let entry = claims
                .entry(ns.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(el.to_string(), v.clone());
            }
        }
        Candidate {
            id: id.into(),
            format: FORMAT_MSO_MDOC.into(),
            type_id: doctype.into(),
            claims,
        }
    }
}

/// A credential that satisfies a query, and the concrete claims to disclose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandidateMatch {
    /// The wallet's credential id.
    pub credential_id: String,
    /// Concrete claim paths to disclose (segments as text; array indices as numbers).
    pub disclose: Vec<Vec<String>>,
}

impl CandidateMatch {
    /// The paths dotted (`address.locality`), as `SdJwt::present` takes them.
    pub fn dotted_paths(&self) -> Vec<String> {
        self.disclose.iter().map(|p| p.join(".")).collect()
    }
}

/// What matched for one credential query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryMatch {
    /// The query id.
    pub query_id: String,
    /// Every stored credential that satisfies it.
    pub candidates: Vec<CandidateMatch>,
}

/// The matcher's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcqlMatch {
    /// Per credential query.
    pub queries: Vec<QueryMatch>,
    /// Query ids that must be answered (from `credential_sets`, or all).
    pub required: Vec<String>,
    /// What cannot be satisfied, for people (empty when the request can be met).
    pub missing: Vec<String>,
}

impl DcqlMatch {
    /// Whether every required part can be satisfied.
    pub fn satisfiable(&self) -> bool {
        self.missing.is_empty()
    }

    /// `Ok` when satisfiable, else [`Error::NoMatchingCredential`] naming what is missing.
    pub fn require(&self) -> Result<()> {
        if self.missing.is_empty() {
            Ok(())
        } else {
            Err(Error::NoMatchingCredential(self.missing.join("; ")))
        }
    }

    /// The match for `query_id`.
    pub fn query(&self, query_id: &str) -> Option<&QueryMatch> {
        self.queries.iter().find(|q| q.query_id == query_id)
    }
}

/// Concrete paths under `value` for `pointer` (null expands to every element).
fn resolve(
    value: &Value,
    pointer: &[Value],
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Value)>,
) {
    let Some((first, rest)) = pointer.split_first() else {
        out.push((prefix, value.clone()));
        return;
    };
    let step = |v: &Value, seg: String, out: &mut Vec<(Vec<String>, Value)>| {
        let mut p = prefix.clone();
        p.push(seg);
        resolve(v, rest, p, out);
    };
    match (first, value) {
        (Value::String(k), Value::Object(m)) => {
            if let Some(v) = m.get(k) {
                step(v, k.clone(), out)
            }
        }
        (Value::Number(n), Value::Array(a)) => {
            if let Some(v) = n.as_u64().and_then(|i| a.get(i as usize)) {
                step(v, n.to_string(), out)
            }
        }
        (Value::Null, Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                step(v, i.to_string(), out)
            }
        }
        _ => {}
    }
}

/// The concrete paths that satisfy `claim` in `claims`.
fn claim_matches(claims: &Map<String, Value>, claim: &ClaimsQuery) -> Result<Vec<Vec<String>>> {
    let pointer = claim.pointer()?;
    let mut found = Vec::new();
    resolve(
        &Value::Object(claims.clone()),
        &pointer,
        Vec::new(),
        &mut found,
    );
    Ok(found
        .into_iter()
        .filter(|(_, v)| claim.values.as_ref().is_none_or(|vals| vals.contains(v)))
        .map(|(p, _)| p)
        .collect())
}

fn match_candidate(q: &CredentialQuery, c: &Candidate) -> Result<Option<CandidateMatch>> {
    if c.format != q.format {
        return Ok(None);
    }
    if let Some(meta) = &q.meta {
        if let Some(vcts) = &meta.vct_values {
            if !vcts.contains(&c.type_id) {
                return Ok(None);
            }
        }
        if let Some(dt) = &meta.doctype_value {
            if dt != &c.type_id {
                return Ok(None);
            }
        }
    }
    let Some(claims) = &q.claims else {
        return Ok(Some(CandidateMatch {
            credential_id: c.id.clone(),
            disclose: Vec::new(),
        }));
    };
    let per_claim: Vec<Vec<Vec<String>>> = claims
        .iter()
        .map(|cl| claim_matches(&c.claims, cl))
        .collect::<Result<_>>()?;
    let sets: Vec<Vec<usize>> = match &q.claim_sets {
        None => vec![(0..claims.len()).collect()],
        Some(sets) => sets
            .iter()
            .map(|set| {
                set.iter()
                    .filter_map(|id| claims.iter().position(|cl| cl.id.as_deref() == Some(id)))
                    .collect()
            })
            .collect(),
    };
    for set in sets {
        if set.iter().all(|&i| !per_claim[i].is_empty()) {
            let mut disclose: Vec<Vec<String>> =
                set.iter().flat_map(|&i| per_claim[i].clone()).collect();
            disclose.dedup();
            return Ok(Some(CandidateMatch {
                credential_id: c.id.clone(),
                disclose,
            }));
        }
    }
    Ok(None)
}

/// Match `query` against the wallet's `candidates`.
pub fn match_query(query: &DcqlQuery, candidates: &[Candidate]) -> Result<DcqlMatch> {
    query.validate()?;
    let mut queries = Vec::new();
    for q in &query.credentials {
        let mut found = Vec::new();
        for c in candidates {
            if let Some(m) = match_candidate(q, c)? {
                found.push(m);
            }
        }
        queries.push(QueryMatch {
            query_id: q.id.clone(),
            candidates: found,
        });
    }
    let has = |id: &str| {
        queries
            .iter()
            .any(|m: &QueryMatch| m.query_id == id && !m.candidates.is_empty())
    };
    let describe = |id: &str| {
        let q = query.credentials.iter().find(|c| c.id == id);
        match q {
            Some(q) => {
                let ty = q
                    .meta
                    .as_ref()
                    .and_then(|m| {
                        m.vct_values
                            .as_ref()
                            .map(|v| v.join(" or "))
                            .or(m.doctype_value.clone())
                    })
                    .unwrap_or_else(|| q.format.clone());
                let claims: Vec<String> = q
                    .claims
                    .iter()
                    .flatten()
                    .map(|c| c.display(&q.format))
                    .collect();
                format!(
                    "{id} ({ty}{}{})",
                    if claims.is_empty() { "" } else { " with " },
                    claims.join(", ")
                )
            }
            None => id.to_string(),
        }
    };
    let mut required = Vec::new();
    let mut missing = Vec::new();
    match &query.credential_sets {
        None => {
            for q in &query.credentials {
                required.push(q.id.clone());
                if !has(&q.id) {
                    missing.push(describe(&q.id));
                }
            }
        }
        Some(sets) => {
            for set in sets {
                let chosen = set.options.iter().find(|opt| opt.iter().all(|id| has(id)));
                match chosen {
                    Some(opt) if set.required => required.extend(opt.iter().cloned()),
                    Some(_) => {}
                    None if set.required => missing.push(
                        set.options
                            .iter()
                            .map(|o| {
                                o.iter()
                                    .map(|id| describe(id))
                                    .collect::<Vec<_>>()
                                    .join(" + ")
                            })
                            .collect::<Vec<_>>()
                            .join(" or "),
                    ),
                    None => {}
                }
            }
        }
    }
    required.dedup();
    Ok(DcqlMatch {
        queries,
        required,
        missing,
    })
}
