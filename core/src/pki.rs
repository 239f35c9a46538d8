//! ISO 18013-5 mdoc PKI: create an IACA root and issue Document Signer (DS) certificates,
//! following ISO 18013-5 Annex B as the GOV.UK reference issuers do (profile §6.3).
//!
//! Certificates are P-256 / `ecdsa-with-SHA256`, built with `rcgen` and signed through
//! aws-lc-rs. Keys are govcred [`SoftwareKey`]s (generated with
//! [`SoftwareKey::generate`]); their private scalar is handed to rcgen as PKCS#8 only for
//! the time it takes to sign.
//!
//! - IACA: self-signed, `basicConstraints` cA=true pathLen=0 (critical), `keyUsage`
//!   keyCertSign + cRLSign (critical), subject `C=<country>, CN=<name>`, subject key
//!   identifier, optional `IssuerAltName` URI, random positive 16-byte serial.
//! - DS: `basicConstraints` cA=false (critical), `keyUsage` digitalSignature (critical),
//!   extended key usage `1.0.18013.5.1.2` (mdlDS, critical), authority and subject key
//!   identifiers, the IACA's `IssuerAltName` copied if present, issuer = IACA subject.
//!
//! Both check themselves before being returned: the result parses with
//! [`Certificate::from_der`], carries the generated key, and a DS verifies with
//! [`Certificate::verify_issued_by`] against its IACA.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, DnValue, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use x509_cert::der::asn1::{Ia5String, ObjectIdentifier as Oid};
use x509_cert::der::{Decode, Encode, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, IssuerAltName, SubjectKeyIdentifier};
use zeroize::Zeroizing;

use crate::crypto::{Alg, SoftwareKey};
use crate::error::{Error, Result};
use crate::x509::{Certificate, EKU_MDL_DS};
use crate::Signer;

const EXT_SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
const EXT_ISSUER_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.18");
const ISSUER_ALT_NAME_ARCS: &[u64] = &[2, 5, 29, 18];
const EXTENDED_KEY_USAGE_ARCS: &[u64] = &[2, 5, 29, 37];

/// Create a self-signed IACA root certificate and its new P-256 key.
///
/// `country` is the ISO 3166-1 alpha-2 code (two upper-case letters, e.g. `GB`),
/// `common_name` the subject CN, `issuer_alt_uri` an optional URI for the
/// `IssuerAltName` extension (ISO 18013-5 asks for one; GOV.UK uses its onboarding
/// URL), and `not_before` / `not_after` the validity window in Unix seconds
/// (`not_after` must be later). Bad input gives [`Error::InvalidClaim`]; a failure in
/// the crypto backend gives [`Error::CryptoBackend`].
///
/// ```
/// use govcred::pki;
/// let nb = 1_767_225_600; // 2026-01-01
/// let (iaca, key) = pki::create_iaca("GB", "mDL Example IACA Root", Some("https://example.gov.uk"),
///                                    nb, nb + 3288 * 86_400).unwrap();
/// assert!(iaca.is_ca());
/// assert_eq!(iaca.subject(), iaca.issuer());
/// assert_eq!(&iaca.public_key().unwrap(), key.verifying_key());
/// ```
pub fn create_iaca(
    country: &str,
    common_name: &str,
    issuer_alt_uri: Option<&str>,
    not_before: i64,
    not_after: i64,
) -> Result<(Certificate, SoftwareKey)> {
    let key = SoftwareKey::generate(Alg::ES256)?;
    let mut params = base_params(country, common_name, not_before, not_after)?;
    params.serial_number = Some(random_serial()?);
    let cert = iaca_with(params, &key, issuer_alt_uri)?;
    Ok((cert, key))
}

/// [`create_iaca`] for an existing P-256 key (e.g. a fixed test key). The serial number
/// is derived from the key, subject and validity (SHA-256, 16 bytes, positive), so the
/// same inputs give the same to-be-signed certificate; only the ECDSA signature
/// differs between runs. For reproducible test material: production roots should use
/// [`create_iaca`] (fresh key, random serial).
pub fn create_iaca_with_key(
    key: &SoftwareKey,
    country: &str,
    common_name: &str,
    issuer_alt_uri: Option<&str>,
    not_before: i64,
    not_after: i64,
) -> Result<Certificate> {
    let mut params = base_params(country, common_name, not_before, not_after)?;
    params.serial_number = Some(derived_serial(key, "IACA", common_name, not_before));
    iaca_with(params, key, issuer_alt_uri)
}

fn iaca_with(
    mut params: CertificateParams,
    key: &SoftwareKey,
    issuer_alt_uri: Option<&str>,
) -> Result<Certificate> {
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if let Some(uri) = issuer_alt_uri {
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                ISSUER_ALT_NAME_ARCS,
                issuer_alt_name_der(uri)?,
            ));
    }

    let pair = rcgen_key(key)?;
    let generated = params.self_signed(&pair).map_err(backend)?;
    let cert = Certificate::from_der(generated.der())?;
    if &cert.public_key()? != key.verifying_key() {
        return Err(Error::CryptoBackend(
            "the generated IACA certificate does not carry the generated key".into(),
        ));
    }
    cert.verify_issued_by(&cert)?;
    Ok(cert)
}

/// Issue a Document Signer certificate under an IACA, with a new P-256 key.
///
/// `iaca_cert` and `iaca_key` are the IACA root and its private key (they must match,
/// else [`Error::InvalidKey`]; `iaca_cert` must be a CA, else [`Error::InvalidClaim`]).
/// The DS subject is `C=<country>, CN=<common_name>`; its issuer is the IACA subject,
/// byte for byte, and the IACA's `IssuerAltName` is copied. The validity window
/// (`not_before` < `not_after`, Unix seconds) is not clipped to the IACA's.
///
/// ```
/// use govcred::{pki, x509};
/// let nb = 1_767_225_600;
/// let (iaca, iaca_key) = pki::create_iaca("GB", "Example IACA", None, nb, nb + 3288 * 86_400).unwrap();
/// let (ds, ds_key) = pki::issue_document_signer(&iaca, &iaca_key, "GB", "Example DSC",
///                                               nb, nb + 458 * 86_400).unwrap();
/// let key = x509::verify_chain(&[ds], &[iaca], nb + 60, 60, Some(x509::EKU_MDL_DS)).unwrap();
/// assert_eq!(&key, ds_key.verifying_key());
/// ```
pub fn issue_document_signer(
    iaca_cert: &Certificate,
    iaca_key: &SoftwareKey,
    country: &str,
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<(Certificate, SoftwareKey)> {
    let key = SoftwareKey::generate(Alg::ES256)?;
    let mut params = base_params(country, common_name, not_before, not_after)?;
    params.serial_number = Some(random_serial()?);
    let cert = document_signer_with(params, iaca_cert, iaca_key, &key)?;
    Ok((cert, key))
}

/// [`issue_document_signer`] for an existing P-256 DS key (e.g. a fixed test key), with
/// a serial number derived from the key, subject and validity as in
/// [`create_iaca_with_key`]: the same inputs give the same to-be-signed certificate.
pub fn issue_document_signer_with_key(
    iaca_cert: &Certificate,
    iaca_key: &SoftwareKey,
    ds_key: &SoftwareKey,
    country: &str,
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<Certificate> {
    let mut params = base_params(country, common_name, not_before, not_after)?;
    params.serial_number = Some(derived_serial(ds_key, "DS", common_name, not_before));
    document_signer_with(params, iaca_cert, iaca_key, ds_key)
}

fn document_signer_with(
    mut params: CertificateParams,
    iaca_cert: &Certificate,
    iaca_key: &SoftwareKey,
    key: &SoftwareKey,
) -> Result<Certificate> {
    if !iaca_cert.is_ca() {
        return Err(Error::claim(
            "IACA certificate",
            format!(
                "\"{}\" is not a CA certificate (basicConstraints cA=true): give the IACA root",
                iaca_cert.subject()
            ),
        ));
    }
    if &iaca_cert.public_key()? != iaca_key.verifying_key() {
        return Err(Error::InvalidKey(format!(
            "the IACA key does not match the public key of certificate \"{}\"",
            iaca_cert.subject()
        )));
    }
    let iaca = x509_cert::Certificate::from_der(iaca_cert.der())
        .map_err(|e| Error::malformed("X.509 certificate", e.to_string()))?;

    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    // rcgen writes the EKU extension as non-critical; ISO 18013-5 wants it critical.
    let eku_oid = Oid::new(EKU_MDL_DS).map_err(|e| Error::CryptoBackend(e.to_string()))?;
    let mut eku = CustomExtension::from_oid_content(
        EXTENDED_KEY_USAGE_ARCS,
        ExtendedKeyUsage(vec![eku_oid])
            .to_der()
            .map_err(|e| Error::CryptoBackend(e.to_string()))?,
    );
    eku.set_criticality(true);
    params.custom_extensions.push(eku);

    let mut iaca_ski = None;
    for ext in iaca.tbs_certificate.extensions.iter().flatten() {
        if ext.extn_id == EXT_ISSUER_ALT_NAME {
            let mut copy = CustomExtension::from_oid_content(
                ISSUER_ALT_NAME_ARCS,
                ext.extn_value.as_bytes().to_vec(),
            );
            copy.set_criticality(ext.critical);
            params.custom_extensions.push(copy);
        } else if ext.extn_id == EXT_SUBJECT_KEY_IDENTIFIER {
            let ski = SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes())
                .map_err(|e| Error::malformed("X.509 certificate", e.to_string()))?;
            iaca_ski = Some(ski.0.as_bytes().to_vec());
        }
    }

    // The issuer as rcgen sees it: the IACA subject (so the DS issuer name is the same
    // DER) and its key identifier (so AKI = the IACA's SKI).
    let mut issuer_params = CertificateParams::default();
    issuer_params.distinguished_name = rcgen_name(&iaca.tbs_certificate.subject)?;
    if let Some(ski) = iaca_ski {
        issuer_params.key_identifier_method = KeyIdMethod::PreSpecified(ski);
    }
    let issuer = rcgen::Issuer::new(issuer_params, rcgen_key(iaca_key)?);

    let pair = rcgen_key(key)?;
    let generated = params.signed_by(&pair, &issuer).map_err(backend)?;
    let cert = Certificate::from_der(generated.der())?;
    if &cert.public_key()? != key.verifying_key() {
        return Err(Error::CryptoBackend(
            "the generated DS certificate does not carry the generated key".into(),
        ));
    }
    cert.verify_issued_by(iaca_cert)?;
    Ok(cert)
}

/// Subject, validity and serial number, after checking the inputs.
fn base_params(
    country: &str,
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<CertificateParams> {
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::claim(
            "country",
            format!(
                "{country:?} is not an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. GB)"
            ),
        ));
    }
    if common_name.trim().is_empty() {
        return Err(Error::claim("common name", "must not be empty"));
    }
    if not_after <= not_before {
        return Err(Error::claim(
            "validity",
            format!("not_after ({not_after}) must be later than not_before ({not_before})"),
        ));
    }
    let time = |what: &str, t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map_err(|e| Error::claim("validity", format!("{what} {t} is out of range: {e}")))
    };

    let mut params = CertificateParams::default();
    params.not_before = time("not_before", not_before)?;
    params.not_after = time("not_after", not_after)?;
    let mut dn = DistinguishedName::new();
    let printable = country
        .try_into()
        .map_err(|e: rcgen::Error| Error::claim("country", e.to_string()))?;
    dn.push(DnType::CountryName, DnValue::PrintableString(printable));
    dn.push(DnType::CommonName, DnValue::Utf8String(common_name.into()));
    params.distinguished_name = dn;
    Ok(params)
}

/// A positive 16-byte serial number derived from the key, role, name and start of
/// validity (reproducible certificates for test material).
fn derived_serial(
    key: &SoftwareKey,
    role: &str,
    common_name: &str,
    not_before: i64,
) -> SerialNumber {
    let mut input = format!("govcred {role} serial\0{common_name}\0{not_before}\0").into_bytes();
    input.extend_from_slice(&key.verifying_key().compressed_bytes());
    let digest = crate::crypto::sha256(&input);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

/// A random positive 16-byte serial number (RFC 5280: at most 20 bytes, positive;
/// CA/Browser practice: at least 64 random bits).
fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| Error::CryptoBackend("random serial number generation failed".into()))?;
    // Positive, and no leading zero byte so the DER INTEGER keeps all 16 bytes.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

/// The key as an rcgen key pair (PKCS#8 built from the P-256 private scalar).
fn rcgen_key(key: &SoftwareKey) -> Result<KeyPair> {
    use p256::pkcs8::EncodePrivateKey;
    if key.alg() != Alg::ES256 {
        return Err(Error::KeyAlgMismatch {
            key: "Ed25519".into(),
            alg: "ES256 (ISO 18013-5 certificates are P-256)".into(),
        });
    }
    let jwk = key.to_private_jwk()?;
    let d = jwk
        .d
        .as_ref()
        .ok_or_else(|| Error::CryptoBackend("P-256 private key export failed".into()))?;
    let d = Zeroizing::new(crate::b64::decode(d.expose(), "JWK d")?);
    let secret = p256::SecretKey::from_slice(&d)
        .map_err(|_| Error::InvalidKey("not a valid P-256 private scalar".into()))?;
    let pkcs8 = secret
        .to_pkcs8_der()
        .map_err(|e| Error::CryptoBackend(format!("PKCS#8 encoding failed: {e}")))?;
    KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_bytes().into(), &PKCS_ECDSA_P256_SHA256)
        .map_err(backend)
}

/// `IssuerAltName` extension value with one URI.
fn issuer_alt_name_der(uri: &str) -> Result<Vec<u8>> {
    if uri.is_empty() || !uri.contains(':') || uri.chars().any(char::is_whitespace) {
        return Err(Error::claim(
            "issuer alternative name",
            format!("{uri:?} is not an absolute URI (e.g. https://issuer.example.gov.uk)"),
        ));
    }
    let ia5 = Ia5String::new(uri).map_err(|_| {
        Error::claim(
            "issuer alternative name",
            format!("{uri:?} is not ASCII: give the URI in its encoded form"),
        )
    })?;
    IssuerAltName(vec![GeneralName::UniformResourceIdentifier(ia5)])
        .to_der()
        .map_err(|e| Error::CryptoBackend(e.to_string()))
}

/// An X.509 name as an rcgen name that encodes to the same DER: one attribute per RDN,
/// string types kept.
fn rcgen_name(name: &x509_cert::name::Name) -> Result<DistinguishedName> {
    let unsupported = |why: &str| {
        Error::claim(
            "IACA subject",
            format!("cannot be used as the DS issuer name: {why}"),
        )
    };
    let mut dn = DistinguishedName::new();
    for rdn in name.0.iter() {
        let [atv] = rdn.0.as_slice() else {
            return Err(unsupported("multi-valued RDN"));
        };
        let arcs: Vec<u64> = atv.oid.arcs().map(u64::from).collect();
        let text = || {
            std::str::from_utf8(atv.value.value())
                .map(str::to_owned)
                .map_err(|_| unsupported("attribute value is not text"))
        };
        let value = match atv.value.tag() {
            Tag::Utf8String => DnValue::Utf8String(text()?),
            Tag::PrintableString => DnValue::PrintableString(
                text()?
                    .try_into()
                    .map_err(|e: rcgen::Error| unsupported(&e.to_string()))?,
            ),
            Tag::Ia5String => DnValue::Ia5String(
                text()?
                    .try_into()
                    .map_err(|e: rcgen::Error| unsupported(&e.to_string()))?,
            ),
            other => return Err(unsupported(&format!("attribute of type {other}"))),
        };
        dn.push(DnType::from_oid(&arcs), value);
    }
    Ok(dn)
}

fn backend(e: rcgen::Error) -> Error {
    Error::CryptoBackend(format!("certificate generation: {e}"))
}
