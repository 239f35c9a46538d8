//! The batch template (TOML): which format, issuer, key, type, validity, status list
//! and how the input's columns become claims.
//!
//! ```toml
//! format = "jwt-vc"                      # jwt-vc | sd-jwt-vc | mdoc
//! output = "credential"                  # credential | offer (see [offer] below)
//! issuer = "https://issuer.example.gov.uk"
//! key = "issuer.jwk"                     # JWK file (relative to this file) or pkcs11: URI
//! type = "DigitalVeteranCard"            # jwt-vc; sd-jwt-vc: vct = "…"; mdoc: doctype = "…", ds = "dir"
//! id_column = "id"                       # the row id (resume, shards); default: line number
//! holder_column = "holder_did"           # jwt-vc: DID; sd-jwt-vc / mdoc: the holder's public JWK (JSON)
//! valid_for_days = 365                   # or valid_until = "2030-01-01T00:00:00Z"
//! disclose = ["birth_date"]              # sd-jwt-vc: selectively disclosable claims
//!
//! [status]                               # optional: allocate a status index per credential
//! store = "status"                       # registry directory (`govcred status create`)
//! uri = "https://issuer.example.gov.uk/status/1"
//!
//! [claims]                               # claim path = { column, type, optional }
//! "givenName" = { column = "given_name" }
//! "birthDate" = { column = "dob", type = "date" }
//! "address.postalCode" = { column = "postcode", optional = true }
//!
//! [offer]                                # output = "offer": an OpenID4VCI offer per row
//! config = "issuer/issuer.toml"          # the `govcred serve` configuration (its database
//!                                        # gets the pending offers, its key signs the codes)
//! configuration_id = "DigitalVeteranCard"
//! letter = true                          # also a print-ready HTML letter per row
//! welsh = true                           # the letter in Welsh too
//! name_column = "full_name"              # whom the letter addresses (optional)
//! credential_name = "Veteran Card"       # what the letter calls the credential
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::CliError;

/// Credential format of a batch.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    JwtVc,
    SdJwtVc,
    Mdoc,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JwtVc => "jwt-vc",
            Format::SdJwtVc => "sd-jwt-vc",
            Format::Mdoc => "mdoc",
        }
    }
    /// File extension of one credential.
    pub fn extension(self) -> &'static str {
        match self {
            Format::JwtVc => "jwt",
            Format::SdJwtVc => "sd-jwt",
            Format::Mdoc => "mdoc.b64",
        }
    }
}

/// What each row produces.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Output {
    /// A signed credential (`credentials/` or `credentials.jsonl`).
    #[default]
    Credential,
    /// Instead of a credential, a pre-authorised OpenID4VCI offer stored in the
    /// database of the `govcred serve` issuer named by `[offer] config`: its deep
    /// link, QR code (PNG, SVG) and optionally a letter page; the server issues the
    /// credential when the wallet redeems the offer.
    Offer,
}

/// `[offer]`: where offers go and how letters look.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferSpec {
    /// The `govcred serve` configuration (`issuer.toml`).
    pub config: PathBuf,
    /// The credential configuration id in it.
    pub configuration_id: String,
    /// Write `offers/<row>.html`, a print-ready letter.
    #[serde(default)]
    pub letter: bool,
    /// The letter in Welsh too (after the English page).
    #[serde(default)]
    pub welsh: bool,
    /// The column with the name the letter addresses.
    pub name_column: Option<String>,
    /// What the letter calls the credential (default: the configuration id).
    pub credential_name: Option<String>,
}

/// The value type of a claim taken from a column.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimType {
    #[default]
    String,
    Integer,
    Number,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// A JSON value (object, array, …) in the column.
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSpec {
    pub column: String,
    #[serde(default, rename = "type")]
    pub kind: ClaimType,
    /// An empty or missing column leaves the claim out instead of failing the row.
    #[serde(default)]
    pub optional: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusSpec {
    pub store: PathBuf,
    pub uri: String,
}

/// The template as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub format: Format,
    #[serde(default)]
    pub output: Output,
    pub issuer: Option<String>,
    pub key: Option<String>,
    pub kid: Option<String>,
    #[serde(rename = "type")]
    pub credential_type: Option<String>,
    pub vct: Option<String>,
    pub doctype: Option<String>,
    /// mdoc: the namespace of the claims (default `org.iso.18013.5.1`).
    pub namespace: Option<String>,
    /// mdoc: directory with the Document Signer `ds.pem` (and `ds.key` unless `key` is set).
    pub ds: Option<PathBuf>,
    pub id_column: Option<String>,
    pub holder_column: Option<String>,
    pub valid_for_days: Option<i64>,
    pub valid_until: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub contexts: Vec<String>,
    #[serde(default)]
    pub disclose: Vec<String>,
    pub status: Option<StatusSpec>,
    pub offer: Option<OfferSpec>,
    pub claims: BTreeMap<String, ClaimSpec>,
}

impl Template {
    /// Read and check a template; relative paths in it are made relative to its directory.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let text = crate::files::read_text(path)?;
        let mut t: Template = toml::from_str(&text)
            .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                dir.join(p)
            }
        };
        if let Some(s) = &mut t.status {
            s.store = rel(&s.store);
        }
        if let Some(ds) = &t.ds {
            t.ds = Some(rel(ds));
        }
        if let Some(o) = &mut t.offer {
            o.config = rel(&o.config);
        }
        if let Some(k) = &t.key {
            if !k.starts_with("pkcs11:") {
                t.key = Some(rel(Path::new(k)).to_string_lossy().into_owned());
            }
        }
        let need = |missing: bool, what: &str| {
            if missing {
                Err(CliError::input(format!(
                    "{}: format {} needs `{what}`",
                    path.display(),
                    t.format.as_str()
                )))
            } else {
                Ok(())
            }
        };
        match (t.output, &t.offer, &t.status) {
            (Output::Offer, None, _) => {
                return Err(CliError::input(format!(
                    "{}: output = \"offer\" needs an [offer] section",
                    path.display()
                )))
            }
            (Output::Offer, _, Some(_)) => {
                return Err(CliError::input(format!(
                    "{}: output = \"offer\" takes no [status]: the issuer server allocates the index when the offer is redeemed",
                    path.display()
                )))
            }
            (Output::Credential, Some(_), _) => {
                return Err(CliError::input(format!(
                    "{}: [offer] needs output = \"offer\"",
                    path.display()
                )))
            }
            (Output::Offer, Some(_), None) => {
                if t.claims.is_empty() {
                    return Err(CliError::input(format!("{}: no [claims]", path.display())));
                }
                return Ok(t);
            }
            (Output::Credential, None, _) => {}
        }
        match t.format {
            Format::JwtVc => need(t.credential_type.is_none(), "type")?,
            Format::SdJwtVc => need(t.vct.is_none(), "vct")?,
            Format::Mdoc => {
                need(t.doctype.is_none(), "doctype")?;
                need(t.ds.is_none(), "ds")?;
                need(t.holder_column.is_none(), "holder_column (the device key)")?;
            }
        }
        if t.claims.is_empty() {
            return Err(CliError::input(format!("{}: no [claims]", path.display())));
        }
        Ok(t)
    }
}

/// Turn a column's value into a claim value of `kind`; `Ok(None)` = empty.
fn convert(v: &Value, kind: ClaimType) -> Result<Option<Value>, String> {
    let text = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim(),
        other => {
            let ok = match kind {
                ClaimType::String => other.is_number() || other.is_boolean(),
                ClaimType::Integer => other.is_i64() || other.is_u64(),
                ClaimType::Number => other.is_number(),
                ClaimType::Boolean => other.is_boolean(),
                ClaimType::Json => true,
                ClaimType::Date => false,
            };
            if !ok {
                return Err(format!("{other} is not a {kind:?}"));
            }
            return Ok(Some(match kind {
                ClaimType::String => Value::from(other.to_string()),
                _ => other.clone(),
            }));
        }
    };
    let out = match kind {
        ClaimType::String => Value::from(text),
        ClaimType::Integer => Value::from(
            text.parse::<i64>()
                .map_err(|_| format!("{text:?} is not an integer"))?,
        ),
        ClaimType::Number => {
            let n: f64 = text
                .parse()
                .map_err(|_| format!("{text:?} is not a number"))?;
            serde_json::Number::from_f64(n)
                .map(Value::Number)
                .ok_or_else(|| format!("{text:?} is not a finite number"))?
        }
        ClaimType::Boolean => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Value::Bool(true),
            "false" | "no" | "n" | "0" => Value::Bool(false),
            _ => return Err(format!("{text:?} is not a boolean (true/false)")),
        },
        ClaimType::Date => {
            check_date(text)?;
            Value::from(text)
        }
        ClaimType::Json => {
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
        }
    };
    Ok(Some(out))
}

fn check_date(text: &str) -> Result<(), String> {
    let bad = || format!("{text:?} is not a date (YYYY-MM-DD)");
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| text[r].parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

/// A row's value of `column` (missing = null).
pub fn field<'a>(row: &'a Map<String, Value>, column: &str) -> &'a Value {
    row.get(column).unwrap_or(&Value::Null)
}

/// Map a row to claims: dotted claim paths become nested objects (`flat` keeps them
/// as they are, for mdoc element identifiers).
pub fn map_claims(
    t: &Template,
    row: &Map<String, Value>,
    flat: bool,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (path, spec) in &t.claims {
        let value = convert(field(row, &spec.column), spec.kind)
            .map_err(|e| format!("column {:?} (claim {path}): {e}", spec.column))?;
        let Some(value) = value else {
            if spec.optional {
                continue;
            }
            return Err(format!(
                "column {:?} (claim {path}) is empty or missing",
                spec.column
            ));
        };
        if flat {
            out.insert(path.clone(), value);
            continue;
        }
        let mut target = &mut out;
        let segments: Vec<&str> = path.split('.').collect();
        for seg in &segments[..segments.len() - 1] {
            let slot = target
                .entry(seg.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            target = slot
                .as_object_mut()
                .ok_or_else(|| format!("claim {path}: {seg} is both a value and an object"))?;
        }
        target.insert(segments[segments.len() - 1].to_string(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversions() {
        assert_eq!(
            convert(&json!("12"), ClaimType::Integer),
            Ok(Some(json!(12)))
        );
        assert!(convert(&json!("x"), ClaimType::Integer).is_err());
        assert_eq!(
            convert(&json!("yes"), ClaimType::Boolean),
            Ok(Some(json!(true)))
        );
        assert_eq!(convert(&json!(" "), ClaimType::String), Ok(None));
        assert!(convert(&json!("2023-02-29"), ClaimType::Date).is_err());
        assert!(convert(&json!("2024-02-29"), ClaimType::Date).is_ok());
        assert_eq!(convert(&json!(5), ClaimType::String), Ok(Some(json!("5"))));
    }
}
