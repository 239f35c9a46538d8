//! W3C VC 2.0 secured with JOSE (`vc+jwt`), in the GOV.UK profile.
//!
//! Issued tokens have exactly the header GOV.UK requires — `alg`, `typ: vc+jwt`,
//! `cty: vc`, `kid` (a DID URL) — and carry both the JWT registered claims (`iss`,
//! `sub`, `nbf`, `iat`, `exp`, NumericDate seconds) and the VCDM members (`@context`,
//! `type`, `issuer`, `validFrom`, `validUntil`, `credentialSubject`).
//!
//! ```
//! use govcred::{crypto::{Alg, SoftwareKey}, did, format::jwt_vc::{self, CredentialDraft},
//!               trust::TrustStore, Signer};
//! let key = SoftwareKey::generate(Alg::ES256).unwrap();
//! let issuer_did = did::key::from_jwk(&key.public_jwk()).unwrap();
//! let kid = format!("{issuer_did}#{}", &issuer_did[8..]);
//! let mut draft = CredentialDraft::new(&issuer_did, "DigitalVeteranCard");
//! draft.subject.insert("name".into(), "Sarah Edwards".into());
//! draft.valid_until = Some(2_000_000_000);
//! let token = jwt_vc::issue(&draft, &kid, &key, 1_700_000_000).unwrap();
//!
//! let report = jwt_vc::verify(&token, &TrustStore::new(), 1_700_000_100, 60);
//! assert!(report.valid, "{}", report.to_json_pretty());
//! assert_eq!(report.types, ["VerifiableCredential", "DigitalVeteranCard"]);
//! ```

use serde_json::{Map, Value};

use crate::datetime;
use crate::error::{Error, Result};
use crate::jose::{self, Jws};
use crate::platform::Signer;
use crate::report::{Claims, Format, VerificationReport};
use crate::trust::TrustStore;
use crate::vc::{self, CredentialInfo};

/// The `typ` govcred writes.
pub const TYP: &str = "vc+jwt";
/// `typ` values accepted on input: the registered media type in short and long form,
/// and the `vc-ld+jwt` of earlier VC-JOSE-COSE drafts (still emitted by some issuers).
pub const ACCEPTED_TYP: &[&str] = &[
    "vc+jwt",
    "application/vc+jwt",
    "vc-ld+jwt",
    "application/vc-ld+jwt",
];
/// `cty` values accepted on input, when `cty` is present.
pub const ACCEPTED_CTY: &[&str] = &[
    "vc",
    "application/vc",
    "vc+ld+json",
    "application/vc+ld+json",
];

/// A credential to issue.
#[derive(Clone, Debug, Default)]
pub struct CredentialDraft {
    /// Issuer identifier: an HTTPS origin (GOV.UK) or a DID.
    pub issuer: String,
    /// Types after `VerifiableCredential`, e.g. `["DigitalVeteranCard"]`.
    pub types: Vec<String>,
    /// Contexts after the VCDM 2.0 base context.
    pub contexts: Vec<String>,
    /// The holder's DID (`sub` and `credentialSubject.id`).
    pub holder: Option<String>,
    /// Subject claims (without `id`).
    pub subject: Map<String, Value>,
    /// Start of validity (Unix seconds); defaults to the issuance time.
    pub valid_from: Option<i64>,
    /// End of validity (Unix seconds): the technical expiry.
    pub valid_until: Option<i64>,
    /// When the wallet should offer a refresh (GOV.UK `expectedUpdate`).
    pub expected_update: Option<i64>,
    /// Credential `id` (a URL), if any.
    pub id: Option<String>,
    /// `name`, e.g. "HM Armed Forces Veteran Card".
    pub name: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `credentialStatus` entry, if any.
    pub credential_status: Option<Value>,
}

impl CredentialDraft {
    /// A draft for `issuer` with one credential type.
    pub fn new(issuer: &str, credential_type: &str) -> Self {
        CredentialDraft {
            issuer: issuer.to_string(),
            types: vec![credential_type.to_string()],
            ..Default::default()
        }
    }

    /// The VCDM 2.0 credential as JSON (issued at `now`), before any securing.
    pub fn to_credential(&self, now: i64) -> Result<Map<String, Value>> {
        let mut c = Map::new();
        let mut contexts = vec![Value::from(vc::CONTEXT_V2)];
        contexts.extend(self.contexts.iter().map(|s| Value::from(s.as_str())));
        c.insert("@context".into(), contexts.into());
        if let Some(id) = &self.id {
            c.insert("id".into(), id.as_str().into());
        }
        let mut types = vec![Value::from(vc::VC_TYPE)];
        types.extend(
            self.types
                .iter()
                .filter(|t| *t != vc::VC_TYPE)
                .map(|s| Value::from(s.as_str())),
        );
        c.insert("type".into(), types.into());
        c.insert("issuer".into(), self.issuer.as_str().into());
        if let Some(n) = &self.name {
            c.insert("name".into(), n.as_str().into());
        }
        if let Some(d) = &self.description {
            c.insert("description".into(), d.as_str().into());
        }
        c.insert(
            "validFrom".into(),
            datetime::format(self.valid_from.unwrap_or(now)).into(),
        );
        if let Some(u) = self.valid_until {
            c.insert("validUntil".into(), datetime::format(u).into());
        }
        if let Some(e) = self.expected_update {
            c.insert("expectedUpdate".into(), datetime::format(e).into());
        }
        let mut subject = Map::new();
        if let Some(h) = &self.holder {
            subject.insert("id".into(), h.as_str().into());
        }
        for (k, v) in &self.subject {
            if k != "id" {
                subject.insert(k.clone(), v.clone());
            }
        }
        c.insert("credentialSubject".into(), subject.into());
        if let Some(s) = &self.credential_status {
            c.insert("credentialStatus".into(), s.clone());
        }
        vc::check_credential(&c)?;
        Ok(c)
    }
}

/// Issue `draft` as a `vc+jwt` signed by `signer`, with header `kid` = `kid`
/// (a DID URL such as `did:web:issuer.gov.uk#<key-id>`), issued at `now`.
pub fn issue(draft: &CredentialDraft, kid: &str, signer: &dyn Signer, now: i64) -> Result<String> {
    let credential = draft.to_credential(now)?;
    let mut payload = Map::new();
    payload.insert("iss".into(), draft.issuer.as_str().into());
    if let Some(h) = &draft.holder {
        payload.insert("sub".into(), h.as_str().into());
    }
    payload.insert("nbf".into(), draft.valid_from.unwrap_or(now).into());
    payload.insert("iat".into(), now.into());
    if let Some(u) = draft.valid_until {
        payload.insert("exp".into(), u.into());
    }
    payload.extend(credential);
    let mut header = Map::new();
    header.insert("typ".into(), TYP.into());
    header.insert("cty".into(), "vc".into());
    header.insert("kid".into(), kid.into());
    let body =
        serde_json::to_vec(&payload).map_err(|e| Error::malformed("JWT payload", e.to_string()))?;
    jose::sign_compact(header, &body, signer)
}

/// Verify a `vc+jwt` offline against `trust` at time `now` (Unix seconds), allowing
/// `leeway` seconds of clock skew on the validity window.
pub fn verify(token: &str, trust: &TrustStore, now: i64, leeway: i64) -> VerificationReport {
    let mut report = VerificationReport::new(Format::JwtVc, now);
    let token = token.trim();

    // 1. Structure, algorithm policy and media type.
    let parsed = Jws::decode(token).and_then(|jws| {
        check_media_type(&jws)?;
        let payload = Payload::parse(jws.payload())?;
        Ok((jws, payload))
    });
    let Some((jws, payload)) = report.parsed(parsed) else {
        return report.finish();
    };
    report.pass(
        "format",
        format!(
            "compact JWS, alg {}, typ {}",
            jws.alg(),
            jws.header_str("typ").unwrap_or("")
        ),
    );

    // 2. Data model: read what the credential says (not yet trusted).
    let info = vc::check_credential_with(&payload.members, || {
        vc::raw_subject_id(payload.subject.as_deref())
    })
    .and_then(|info| {
        check_jwt_claims(&payload.members, &info)?;
        Ok(info)
    });
    super::record_data_model(&mut report, &info);

    // 3. Key resolution and signature.
    let signed_by =
        super::check_issuer_signature(&mut report, &jws, trust.issuer_keys(jws.kid(), jws.alg()));

    // 4. The key must belong to the issuer the credential names.
    if let (Some(k), Ok(info)) = (&signed_by, &info) {
        let binding = k.binds(&info.issuer, jws.kid());
        report.record("issuer_binding", &binding, |d| d.clone());
    }

    // 5. Validity window.
    if let Ok(info) = &info {
        let window = check_window(&payload.members, info, now, leeway);
        report.record("validity_period", &window, |d| d.clone());
    }

    // 6. Revocation / suspension, from the lists synced earlier.
    if signed_by.is_some() {
        crate::status::check_claims(&mut report, trust, &payload.members, now);
    }

    if signed_by.is_some() {
        if let Some(subject) = payload.subject {
            report.claims = Claims::from_raw(subject);
        }
    }
    report.finish()
}

/// A JWT VC payload: every member parsed, except `credentialSubject`, which is kept
/// as raw JSON (checked for shape, handed to the report verbatim).
struct Payload {
    members: Map<String, Value>,
    subject: Option<Box<serde_json::value::RawValue>>,
}

impl Payload {
    fn parse(bytes: &[u8]) -> Result<Self> {
        crate::json::check_unique_keys(bytes, "JWT payload")?;
        serde_json::from_slice(bytes)
            .map_err(|e| Error::malformed("JWT payload", format!("not a JSON object: {e}")))
    }
}

impl<'de> serde::Deserialize<'de> for Payload {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Payload;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Payload, A::Error> {
                let mut p = Payload {
                    members: Map::new(),
                    subject: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "credentialSubject" {
                        p.subject = Some(map.next_value()?);
                    } else {
                        p.members.insert(key, map.next_value()?);
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V)
    }
}

fn check_media_type(jws: &Jws<'_>) -> Result<()> {
    match jws.header().get("typ") {
        Some(Value::String(t)) if ACCEPTED_TYP.contains(&t.as_str()) => {}
        Some(other) => {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: other.to_string(),
                expected: "vc+jwt",
            })
        }
        None => {
            return Err(Error::TypeMismatch {
                header: "typ",
                found: "(absent)".into(),
                expected: "vc+jwt",
            })
        }
    }
    match jws.header().get("cty") {
        None => Ok(()),
        Some(Value::String(c)) if ACCEPTED_CTY.contains(&c.as_str()) => Ok(()),
        Some(other) => Err(Error::TypeMismatch {
            header: "cty",
            found: other.to_string(),
            expected: "vc",
        }),
    }
}

/// NumericDate claim; GOV.UK's documentation example writes them as strings of digits,
/// which are read too.
fn numeric_date(payload: &Map<String, Value>, claim: &str) -> Result<Option<i64>> {
    match payload.get(claim) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e15)
                    .map(|f| f as i64)
            })
            .map(Some)
            .ok_or_else(|| Error::claim(claim, "must be a NumericDate (seconds)")),
        Some(Value::String(s))
            if !s.is_empty() && s.len() < 16 && s.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(s.parse().ok())
        }
        Some(_) => Err(Error::claim(claim, "must be a NumericDate (seconds)")),
    }
}

fn check_jwt_claims(payload: &Map<String, Value>, info: &CredentialInfo) -> Result<()> {
    if let Some(iss) = payload.get("iss") {
        if iss.as_str() != Some(info.issuer.as_str()) {
            return Err(Error::claim(
                "iss",
                format!("{iss} differs from issuer {:?}", info.issuer),
            ));
        }
    }
    if let (Some(sub), Some(id)) = (payload.get("sub"), &info.subject_id) {
        if sub.as_str() != Some(id.as_str()) {
            return Err(Error::claim(
                "sub",
                format!("{sub} differs from credentialSubject.id {id:?}"),
            ));
        }
    }
    for claim in ["nbf", "iat", "exp"] {
        numeric_date(payload, claim)?;
    }
    Ok(())
}

fn check_window(
    payload: &Map<String, Value>,
    info: &CredentialInfo,
    now: i64,
    leeway: i64,
) -> Result<String> {
    let starts = [numeric_date(payload, "nbf")?, info.valid_from];
    let ends = [numeric_date(payload, "exp")?, info.valid_until];
    vc::check_window(
        starts.into_iter().flatten(),
        ends.into_iter().flatten(),
        now,
        leeway,
    )
}
