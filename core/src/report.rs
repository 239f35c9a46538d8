//! The verification report: one structure for every format.
//!
//! A report never collapses "could not check" into "failed": each [`Check`] has its
//! own [`CheckOutcome`], and the overall [`Outcome`] is `Invalid` only when a check
//! actually failed, `CouldNotCheck` when nothing failed but something essential could
//! not be checked (no key for the issuer, a JSON-LD context not available offline).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, ErrorCode};

/// Credential formats govcred recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// W3C VC 2.0 secured with JOSE (`vc+jwt`).
    #[serde(rename = "jwt-vc")]
    JwtVc,
    /// W3C VC 2.0 secured with a Data Integrity proof.
    #[serde(rename = "di-vc")]
    DiVc,
    /// SD-JWT VC (`dc+sd-jwt`), issued form or presentation.
    #[serde(rename = "sd-jwt-vc")]
    SdJwtVc,
    /// ISO/IEC 18013-5 mdoc: `IssuerSigned`, `Document` or `DeviceResponse`.
    #[serde(rename = "mdoc")]
    Mdoc,
    /// Not recognised.
    #[serde(rename = "unknown")]
    Unknown,
}

impl Format {
    /// The string used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JwtVc => "jwt-vc",
            Format::DiVc => "di-vc",
            Format::SdJwtVc => "sd-jwt-vc",
            Format::Mdoc => "mdoc",
            Format::Unknown => "unknown",
        }
    }
}

/// Overall result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every check passed.
    Valid,
    /// At least one check failed.
    Invalid,
    /// Nothing failed, but an essential check could not be made.
    CouldNotCheck,
}

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Checked and fine.
    Passed,
    /// Checked and wrong.
    Failed,
    /// Could not be checked (missing key, context, list…). Never means "failed".
    NotChecked,
}

/// One check in a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// Stable check name, e.g. `signature`, `validity_period`.
    pub name: String,
    /// `true` only when the check passed.
    pub ok: bool,
    /// Passed, failed, or not checked.
    pub outcome: CheckOutcome,
    /// What was checked or found.
    pub detail: String,
}

/// An error in a report: stable code plus a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportError {
    /// Stable code (see [`ErrorCode`]).
    pub code: ErrorCode,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl From<&Error> for ReportError {
    fn from(e: &Error) -> Self {
        ReportError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// What the status check found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// `valid`, `invalid` (revoked), `suspended`, `application_specific` or `unknown`
    /// (no list available offline: never reported as revoked).
    pub state: String,
    /// The status list the credential points to.
    pub list_uri: String,
    /// The credential's index in it.
    pub index: usize,
    /// When the list used was issued (RFC 3339), if a list was available.
    pub list_issued_at: Option<String>,
    /// How old that list was at the check, in seconds.
    pub list_age_secs: Option<i64>,
    /// Whether the list was past its `exp` or `ttl`.
    pub stale: bool,
}

/// The trust bundle a verification used, and how old it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustBundleReport {
    /// When the bundle was made (RFC 3339).
    pub issued_at: String,
    /// When it expires (RFC 3339).
    pub expires_at: String,
    /// Its age at the check, in seconds.
    pub age_secs: i64,
}

/// A credential subject's claims, kept as the issuer's JSON text: nothing is
/// re-encoded (member order and number forms survive) and a verifier that only shows
/// or forwards them pays no tree-building cost. [`Claims::to_value`] gives a tree.
#[derive(Clone, Debug, Default)]
pub struct Claims(Option<Box<RawValue>>);

impl Claims {
    /// Claims from JSON text already validated by serde_json.
    pub fn from_raw(raw: Box<RawValue>) -> Self {
        Claims(Some(raw))
    }

    /// Claims from a JSON value.
    pub fn from_value(value: &Value) -> Self {
        Claims(serde_json::value::to_raw_value(value).ok())
    }

    /// Whether there are no claims (not verified, or nothing disclosed).
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The JSON text (`null` when empty).
    pub fn json(&self) -> &str {
        self.0.as_deref().map_or("null", RawValue::get)
    }

    /// The claims as a JSON tree (`Value::Null` when empty).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.json()).unwrap_or(Value::Null)
    }
}

impl PartialEq for Claims {
    fn eq(&self, other: &Self) -> bool {
        self.json() == other.json() || self.to_value() == other.to_value()
    }
}

impl Serialize for Claims {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(raw) => raw.serialize(s),
            None => s.serialize_none(),
        }
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(if raw.get() == "null" {
            Claims(None)
        } else {
            Claims(Some(raw))
        })
    }
}

/// The verification report, printed by the CLI and returned through the bindings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// `true` exactly when `outcome` is `valid`.
    pub valid: bool,
    /// Overall outcome.
    pub outcome: Outcome,
    /// The format found.
    pub format: Format,
    /// The issuer's identifier, if the credential could be read.
    pub issuer: Option<String>,
    /// Credential types (or doctype).
    pub types: Vec<String>,
    /// The subject's claims (disclosed claims for selective-disclosure formats); empty
    /// unless the signature verified.
    pub claims: Claims,
    /// Start of validity, RFC 3339.
    pub valid_from: Option<String>,
    /// End of validity, RFC 3339.
    pub valid_until: Option<String>,
    /// When the check was made (the verifier's clock), RFC 3339.
    pub checked_at: String,
    /// Revocation/suspension status, when the credential refers to a status list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusReport>,
    /// The trust bundle the check was made against, when one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_bundle: Option<TrustBundleReport>,
    /// Every check made, in order.
    pub checks: Vec<Check>,
    /// The errors behind failed or unchecked checks.
    pub errors: Vec<ReportError>,
}

impl VerificationReport {
    /// An empty report for `format`; fill it with [`VerificationReport::pass`] and friends,
    /// then call [`VerificationReport::finish`].
    pub fn new(format: Format, checked_at: i64) -> Self {
        VerificationReport {
            valid: false,
            outcome: Outcome::CouldNotCheck,
            format,
            issuer: None,
            types: Vec::new(),
            claims: Claims::default(),
            valid_from: None,
            valid_until: None,
            checked_at: crate::datetime::format(checked_at),
            status: None,
            trust_bundle: None,
            checks: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Record a passed check.
    pub fn pass(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok: true,
            outcome: CheckOutcome::Passed,
            detail: detail.into(),
        });
    }

    /// Record a failed check and its error.
    pub fn fail(&mut self, name: &str, error: &Error) {
        self.push_problem(name, CheckOutcome::Failed, error);
    }

    /// Record a check that could not be made, and why.
    pub fn not_checked(&mut self, name: &str, error: &Error) {
        self.push_problem(name, CheckOutcome::NotChecked, error);
    }

    /// The parsed input, or `None` after recording the parse error as a failed
    /// `format` check (the caller then returns [`VerificationReport::finish`]).
    pub fn parsed<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail("format", &e);
                None
            }
        }
    }

    /// Record a check that could not be made because of a problem already reported
    /// by an earlier check (so the error is not repeated).
    pub fn skipped(&mut self, name: &str, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            ok: false,
            outcome: CheckOutcome::NotChecked,
            detail: detail.into(),
        });
    }

    /// Record `result` as passed (with `detail`) or as the right kind of problem:
    /// missing keys and offline contexts are "not checked"; everything else "failed".
    pub fn record<T>(
        &mut self,
        name: &str,
        result: &Result<T, Error>,
        detail: impl FnOnce(&T) -> String,
    ) {
        match result {
            Ok(v) => self.pass(name, detail(v)),
            Err(e) if is_unverifiable(e) => self.not_checked(name, e),
            Err(e) => self.fail(name, e),
        }
    }

    fn push_problem(&mut self, name: &str, outcome: CheckOutcome, error: &Error) {
        self.checks.push(Check {
            name: name.into(),
            ok: false,
            outcome,
            detail: error.to_string(),
        });
        self.errors.push(error.into());
    }

    /// Compute `outcome` and `valid` from the checks.
    pub fn finish(mut self) -> Self {
        self.outcome = if self
            .checks
            .iter()
            .any(|c| c.outcome == CheckOutcome::Failed)
        {
            Outcome::Invalid
        } else if self.checks.is_empty()
            || self
                .checks
                .iter()
                .any(|c| c.outcome == CheckOutcome::NotChecked)
        {
            Outcome::CouldNotCheck
        } else {
            Outcome::Valid
        };
        self.valid = self.outcome == Outcome::Valid;
        self
    }

    /// Record the trust bundle used (as the passed check `trust_bundle` and the
    /// `trust_bundle` member) and recompute the outcome.
    pub fn with_trust_bundle(mut self, info: &crate::trust_bundle::TrustBundleInfo) -> Self {
        let now = crate::datetime::parse(&self.checked_at, "checked_at").unwrap_or(info.issued_at);
        self.pass("trust_bundle", info.describe(now));
        self.trust_bundle = Some(TrustBundleReport {
            issued_at: crate::datetime::format(info.issued_at),
            expires_at: crate::datetime::format(info.expires_at),
            age_secs: info.age_secs(now),
        });
        self.finish()
    }

    /// The check named `name`, if it was made.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Whether any error has `code`.
    pub fn has_error(&self, code: ErrorCode) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }

    /// The report as pretty JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Errors that mean "could not check" rather than "checked and wrong".
fn is_unverifiable(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::UnknownKey | ErrorCode::ContextUnavailable
    )
}
