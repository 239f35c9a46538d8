//! What the store reads from a credential: format, issuer, types, validity, status
//! reference, claims and display data — through the format parsers, signatures not
//! checked (the caller verifies before storing).

use serde_json::{Map, Value};

use crate::datetime;
use crate::error::{Error, Result};
use crate::format::{self, mdoc, sd_jwt};
use crate::jose::Jws;
use crate::report::Format;
use crate::status::{bitstring, token_status_list};
use crate::vc;

use super::Display;

/// A credential's metadata, read by the format's parser.
#[derive(Clone, Debug)]
pub(crate) struct Extracted {
    pub format: Format,
    pub issuer: String,
    pub types: Vec<String>,
    pub valid_from: Option<i64>,
    pub valid_until: Option<i64>,
    pub expected_update: Option<i64>,
    /// Status list URI and index.
    pub status: Option<(String, usize)>,
    pub claims: Value,
    pub display: Display,
}

/// Read `bytes` with the parser of its format.
pub(crate) fn extract(bytes: &[u8]) -> Result<Extracted> {
    match format::detect(bytes) {
        Format::JwtVc => {
            let text = utf8(bytes)?;
            let payload = Jws::decode(text.trim())?.payload_json()?;
            from_vcdm(Format::JwtVc, &payload)
        }
        Format::DiVc => {
            let doc: Map<String, Value> = serde_json::from_slice(bytes)
                .map_err(|e| Error::malformed("credential", e.to_string()))?;
            from_vcdm(Format::DiVc, &doc)
        }
        Format::SdJwtVc => from_sd_jwt(utf8(bytes)?),
        Format::Mdoc => from_mdoc(bytes),
        Format::Unknown => Err(Error::UnsupportedFormat(
            "the wallet store keeps JWT VCs, SD-JWT VCs, mdocs (IssuerSigned) and Data Integrity VCs"
                .into(),
        )),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| Error::malformed("credential", "not UTF-8 text"))
}

fn numeric(payload: &Map<String, Value>, name: &str) -> Option<i64> {
    payload.get(name).and_then(Value::as_i64)
}

fn rfc3339(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>> {
    match payload.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => datetime::parse(s, name).map(Some),
        Some(_) => Err(Error::claim(name, "must be an RFC 3339 date-time string")),
    }
}

/// The first status reference of a JWT/VC payload: IETF `status.status_list`, else a
/// W3C `credentialStatus` Bitstring entry.
fn status_of(payload: &Map<String, Value>) -> Result<Option<(String, usize)>> {
    if let Some(r) = token_status_list::reference_from_claims(payload)? {
        return Ok(Some((r.uri, r.idx)));
    }
    Ok(bitstring::entries_from_credential(payload)?
        .into_iter()
        .next()
        .map(|e| (e.list_credential, e.index)))
}

fn from_vcdm(format: Format, payload: &Map<String, Value>) -> Result<Extracted> {
    let info = vc::check_credential(payload)?;
    let claims = payload
        .get("credentialSubject")
        .cloned()
        .unwrap_or(Value::Null);
    let title = payload
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| title_from_types(&info.types));
    Ok(Extracted {
        format,
        issuer: info.issuer,
        display: Display {
            title,
            holder_name: holder_name(&claims),
        },
        valid_from: info.valid_from.or_else(|| numeric(payload, "nbf")),
        valid_until: info.valid_until.or_else(|| numeric(payload, "exp")),
        expected_update: rfc3339(payload, "expectedUpdate")?,
        status: status_of(payload)?,
        types: info.types,
        claims,
    })
}

/// SD-JWT VC claims that are about the token, not the person.
const SD_JWT_REGISTERED: &[&str] = &[
    "iss",
    "vct",
    "vct#integrity",
    "iat",
    "nbf",
    "exp",
    "cnf",
    "status",
    "_sd_alg",
];

fn from_sd_jwt(text: &str) -> Result<Extracted> {
    let sd = sd_jwt::SdJwt::parse(text.trim())?;
    if sd.kb_jwt.is_some() {
        return Err(Error::malformed(
            "SD-JWT",
            "this is a presentation (it has a Key Binding JWT): store the SD-JWT as issued",
        ));
    }
    let payload = sd.payload()?;
    let mut claims = sd_jwt::process(&payload, &sd.disclosures)?;
    let issuer = payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::claim("iss", "missing"))?
        .to_string();
    let vct = payload
        .get("vct")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::claim("vct", "missing"))?
        .to_string();
    for name in SD_JWT_REGISTERED {
        claims.remove(*name);
    }
    let claims = Value::Object(claims);
    Ok(Extracted {
        format: Format::SdJwtVc,
        issuer,
        display: Display {
            title: last_segment(&vct),
            holder_name: holder_name(&claims),
        },
        types: vec![vct],
        valid_from: numeric(&payload, "nbf"),
        valid_until: numeric(&payload, "exp"),
        expected_update: None,
        status: token_status_list::reference_from_claims(&payload)?.map(|r| (r.uri, r.idx)),
        claims,
    })
}

fn from_mdoc(bytes: &[u8]) -> Result<Extracted> {
    let signed = mdoc::parse(bytes)?;
    let mso = signed.mobile_security_object()?;
    let claims = signed.claims_json();
    // The issuer of an mdoc is the Document Signer certificate's subject.
    let issuer = signed.issuer_auth.ds_certificate().subject();
    let holder = claims
        .as_object()
        .and_then(|namespaces| namespaces.values().find_map(holder_name));
    Ok(Extracted {
        format: Format::Mdoc,
        issuer,
        display: Display {
            title: last_segment(&mso.doc_type),
            holder_name: holder,
        },
        types: vec![mso.doc_type],
        valid_from: Some(mso.valid_from),
        valid_until: Some(mso.valid_until),
        expected_update: mso.expected_update,
        status: mso.status_list.map(|r| (r.uri, r.index)),
        claims,
    })
}

/// The most specific type: the last one that is not `VerifiableCredential`.
fn title_from_types(types: &[String]) -> String {
    types
        .iter()
        .rev()
        .find(|t| t.as_str() != vc::VC_TYPE)
        .or(types.last())
        .cloned()
        .unwrap_or_default()
}

/// The last `/`- or `.`-separated part of a URL or
/// reverse-domain name (`org.iso.18013.5.1.mDL` → `mDL`); other strings as they are.
fn last_segment(name: &str) -> String {
    let tail = name.rsplit(['/', '.']).next().unwrap_or(name);
    if tail.is_empty() || tail.chars().all(|c| c.is_ascii_digit()) {
        name.to_string()
    } else {
        tail.to_string()
    }
}

/// The holder's name, if the claims carry one: GOV.UK `name[].nameParts[]`,
/// `given_name`/`family_name`, `givenName`/`familyName`, or a plain `name`.
fn holder_name(claims: &Value) -> Option<String> {
    let obj = claims.as_object().or_else(|| {
        claims
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_object)
    })?;
    if let Some(parts) = obj
        .get("name")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|n| n.get("nameParts"))
        .and_then(Value::as_array)
    {
        let words: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("value").and_then(Value::as_str))
            .collect();
        if !words.is_empty() {
            return Some(words.join(" "));
        }
    }
    for (given, family) in [("given_name", "family_name"), ("givenName", "familyName")] {
        let g = obj.get(given).and_then(Value::as_str);
        let f = obj.get(family).and_then(Value::as_str);
        match (g, f) {
            (Some(g), Some(f)) => return Some(format!("{g} {f}")),
            (Some(n), None) | (None, Some(n)) => return Some(n.to_string()),
            (None, None) => {}
        }
    }
    obj.get("name").and_then(Value::as_str).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_titles() {
        let govuk = serde_json::json!({"name": [{"nameParts": [
            {"type": "GivenName", "value": "Sarah"}, {"type": "FamilyName", "value": "Jones"}]}]});
        assert_eq!(holder_name(&govuk).as_deref(), Some("Sarah Jones"));
        let pid = serde_json::json!({"given_name": "Ann", "family_name": "Lee"});
        assert_eq!(holder_name(&pid).as_deref(), Some("Ann Lee"));
        assert_eq!(holder_name(&serde_json::json!({"x": 1})), None);
        assert_eq!(last_segment("org.iso.18013.5.1.mDL"), "mDL");
        assert_eq!(
            last_segment("https://example.gov.uk/vct/veteran"),
            "veteran"
        );
        assert_eq!(last_segment("urn:eudi:pid:1"), "urn:eudi:pid:1");
        assert_eq!(
            title_from_types(&["VerifiableCredential".into(), "DigitalVeteranCard".into()]),
            "DigitalVeteranCard"
        );
    }
}
