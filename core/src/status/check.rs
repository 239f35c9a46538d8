//! Status for verifiers: lists synced while online, looked up offline.
//!
//! A list is checked when it is loaded (its signature by a trusted key, its shape);
//! freshness is judged at each lookup, so a list that has gone stale is reported as
//! stale rather than silently trusted, and "no list" is reported as unknown, never
//! as revoked.

use serde_json::Value;

use super::bitstring::{self, StatusListCredential};
use super::cwt;
use super::token_status_list::{self, StatusListToken, StatusReference};
use super::Status;
use crate::datetime;
use crate::error::{Error, Result};
use crate::jose::Jws;
use crate::report::{StatusReport, VerificationReport};
use crate::trust::TrustStore;

/// A verified status list of either kind.
#[derive(Clone, Debug)]
pub enum LoadedList {
    /// IETF Token Status List (from either the JWT or the CWT form).
    Token(StatusListToken),
    /// W3C Bitstring Status List credential.
    Bitstring(StatusListCredential),
}

impl LoadedList {
    /// The URI the list is published at (`sub` / credential `id`).
    pub fn uri(&self) -> &str {
        match self {
            LoadedList::Token(t) => &t.sub,
            LoadedList::Bitstring(c) => &c.id,
        }
    }

    /// When the list was issued.
    pub fn issued_at(&self) -> Option<i64> {
        match self {
            LoadedList::Token(t) => Some(t.iat),
            LoadedList::Bitstring(c) => c.valid_from,
        }
    }

    /// Until when the list may be relied on: the earlier of `exp` and issue + `ttl`.
    pub fn fresh_until(&self) -> Option<i64> {
        // Token Status List `ttl` is in seconds; W3C Bitstring `ttl` in milliseconds
        // (so GOV.UK's `"3600"` reads as 3.6 s: stale early rather than trusted long).
        let (exp, ttl) = match self {
            LoadedList::Token(t) => (t.exp, t.ttl),
            LoadedList::Bitstring(c) => (c.valid_until, c.ttl.map(|ms| ms / 1000)),
        };
        let by_ttl = match (self.issued_at(), ttl) {
            (Some(i), Some(t)) => Some(i.saturating_add(t)),
            _ => None,
        };
        match (exp, by_ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The status at `index`. Bitstring lists are read by purpose: `revocation` 1 →
    /// INVALID, `suspension` 1 → SUSPENDED, `message` (GOV.UK) by value like a Token
    /// Status List (0 VALID, 1 INVALID, 2 SUSPENDED).
    pub fn status(&self, index: usize) -> Result<Status> {
        match self {
            LoadedList::Token(t) => Ok(Status::from_value(t.list.get(index)?)),
            LoadedList::Bitstring(c) => {
                let v = c.list.get(index)?;
                Ok(match (c.purpose.as_str(), v) {
                    (_, 0) => Status::Valid,
                    ("revocation", _) => Status::Invalid,
                    ("suspension", _) => Status::Suspended,
                    (_, v) => Status::from_value(v),
                })
            }
        }
    }
}

/// Verify and load a status list given as bytes: a `statuslist+cwt` (COSE_Sign1,
/// detected by its first byte), or any text form [`load_list`] accepts.
pub fn load_list_bytes(bytes: &[u8], trust: &TrustStore, leeway: i64) -> Result<LoadedList> {
    if cwt::looks_like_cwt(bytes) {
        // Check the signature (and any x5chain) as of the list's own issue time.
        let iat = cwt::unverified_iat(bytes).unwrap_or(0);
        return cwt::verify_cwt(bytes, trust, iat, leeway).map(LoadedList::Token);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::malformed(
            "status list",
            "neither a statuslist+cwt (COSE_Sign1) nor UTF-8 text (statuslist+jwt / vc+jwt)",
        )
    })?;
    load_list(text, trust, leeway)
}

/// Verify and load a status list: a `statuslist+jwt`, or a Bitstring Status List
/// credential secured as `vc+jwt`. Its signature must verify with a key in `trust`.
/// Expiry is not held against it here: staleness is reported at each lookup.
pub fn load_list(text: &str, trust: &TrustStore, leeway: i64) -> Result<LoadedList> {
    let jws = Jws::decode(text.trim())?;
    let typ = jws.header_str("typ").unwrap_or_default();
    if typ == token_status_list::TYP || typ == "application/statuslist+jwt" {
        // Check the signature as of the list's own issue time.
        let iat = jws
            .payload_json()?
            .get("iat")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        return token_status_list::verify_token(text.trim(), trust, iat, leeway)
            .map(LoadedList::Token);
    }
    let payload = jws.payload_json()?;
    let issued = payload
        .get("validFrom")
        .and_then(Value::as_str)
        .and_then(|s| datetime::parse(s, "validFrom").ok())
        .or_else(|| payload.get("iat").and_then(Value::as_i64))
        .unwrap_or(0);
    let report = crate::format::jwt_vc::verify(text.trim(), trust, issued, leeway);
    if !report.valid {
        let e = report
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        return Err(Error::malformed(
            "status list credential",
            format!("does not verify: {e}"),
        ));
    }
    bitstring::parse_credential(&payload).map(LoadedList::Bitstring)
}

/// Where a credential's status lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The list's URI.
    pub uri: String,
    /// The credential's index.
    pub index: usize,
}

impl From<StatusReference> for Reference {
    fn from(r: StatusReference) -> Self {
        Reference {
            uri: r.uri,
            index: r.idx,
        }
    }
}

/// What one status lookup found: the report's `status` entry and the verdict for
/// the `status` check. Made by [`check_reference`]; [`StatusLookup::record`] puts it
/// in a [`VerificationReport`].
#[derive(Clone, Debug)]
pub struct StatusLookup {
    /// The `status` member of the report.
    pub entry: StatusReport,
    /// The verdict.
    pub verdict: StatusVerdict,
}

/// The verdict of a status lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusVerdict {
    /// VALID in a fresh list (the detail says where and how old the list is).
    Passed(String),
    /// Revoked, suspended, another non-VALID value, or an index outside the list.
    Failed(Error),
    /// No list synced, or a stale list that does not say INVALID: status unknown,
    /// never reported as revoked.
    NotChecked(Error),
}

impl StatusLookup {
    /// Record the lookup as the `status` check of `report` (and set `report.status`).
    pub fn record(self, report: &mut VerificationReport) {
        report.status = Some(self.entry);
        match self.verdict {
            StatusVerdict::Passed(detail) => report.pass("status", detail),
            StatusVerdict::Failed(e) => report.fail("status", &e),
            StatusVerdict::NotChecked(e) => report.not_checked("status", &e),
        }
    }
}

/// Look index `index` of the list at `uri` up in the lists synced into `trust`, at
/// `now`: the entry point for any credential format that carries an `{idx, uri}`
/// reference (JWT/SD-JWT `status.status_list`, an mdoc MSO `status.status_list`, a
/// W3C `credentialStatus`). Works with lists of either kind and either token form
/// (`statuslist+jwt`, `statuslist+cwt`, Bitstring `vc+jwt`).
///
/// ```
/// use govcred::status::{check_reference, StatusVerdict};
/// use govcred::trust::TrustStore;
/// let lookup = check_reference(&TrustStore::new(), "https://crs.example/t/1", 5, 0);
/// assert_eq!(lookup.entry.state, "unknown");
/// assert!(matches!(lookup.verdict, StatusVerdict::NotChecked(_)));
/// ```
pub fn check_reference(trust: &TrustStore, uri: &str, index: usize, now: i64) -> StatusLookup {
    let Some(list) = trust.status_list(uri) else {
        return StatusLookup {
            entry: StatusReport {
                state: "unknown".into(),
                list_uri: uri.to_string(),
                index,
                list_issued_at: None,
                list_age_secs: None,
                stale: false,
            },
            verdict: StatusVerdict::NotChecked(Error::StatusUnknown {
                uri: uri.to_string(),
            }),
        };
    };
    let issued = list.issued_at();
    let fresh_until = list.fresh_until();
    let stale = fresh_until.is_some_and(|u| now > u);
    let status = list.status(index);
    let entry = StatusReport {
        state: status
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        list_uri: uri.to_string(),
        index,
        list_issued_at: issued.map(datetime::format),
        list_age_secs: issued.map(|i| now.saturating_sub(i)),
        stale,
    };
    let uri = uri.to_string();
    let verdict = match status {
        // Revocation is final: a stale list that says INVALID is still believed.
        Ok(Status::Invalid) => StatusVerdict::Failed(Error::StatusRevoked { uri, index }),
        Ok(_) if stale => StatusVerdict::NotChecked(Error::StatusListStale {
            uri,
            issued: issued.map(datetime::format).unwrap_or_default(),
            until: fresh_until.map(datetime::format).unwrap_or_default(),
        }),
        Ok(Status::Valid) => {
            let age = issued
                .map(|i| format!(", list {} s old", now.saturating_sub(i)))
                .unwrap_or_default();
            StatusVerdict::Passed(format!("VALID at index {index} of {uri}{age}"))
        }
        Ok(Status::Suspended) => StatusVerdict::Failed(Error::StatusSuspended { uri, index }),
        Ok(Status::Other(value)) => {
            StatusVerdict::Failed(Error::StatusNotValid { uri, index, value })
        }
        Err(e) => StatusVerdict::Failed(e),
    };
    StatusLookup { entry, verdict }
}

/// Look `reference` up in the lists in `trust` at `now` and record the `status` check
/// (see [`check_reference`]).
pub fn check(report: &mut VerificationReport, trust: &TrustStore, reference: &Reference, now: i64) {
    check_reference(trust, &reference.uri, reference.index, now).record(report);
}

/// Check every status reference in a credential's claims: IETF `status.status_list`
/// and W3C `credentialStatus` entries of type BitstringStatusListEntry. A credential
/// without any records no status check.
pub fn check_claims(
    report: &mut VerificationReport,
    trust: &TrustStore,
    claims: &serde_json::Map<String, Value>,
    now: i64,
) {
    let mut refs = Vec::new();
    match token_status_list::reference_from_claims(claims) {
        Ok(Some(r)) => refs.push(Reference::from(r)),
        Ok(None) => {}
        Err(e) => report.fail("status", &e),
    }
    if claims.contains_key("credentialStatus") {
        match bitstring::entries_from_credential(claims) {
            Ok(entries) => refs.extend(entries.into_iter().map(|e| Reference {
                uri: e.list_credential,
                index: e.index,
            })),
            Err(e) => report.fail("status", &e),
        }
    }
    for r in &refs {
        check(report, trust, r, now);
    }
}
