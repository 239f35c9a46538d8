//! X.509 certificates: the ISO 18013-5 mdoc chain (IACA root → Document Signer) and
//! the `x5c` header of SD-JWT / JWS, verified offline against trusted roots.
//!
//! Parsing uses RustCrypto's `x509-cert` 0.2, a strict DER decoder built on the `der`,
//! `spki` and `const-oid` crates that govcred already depends on (through `p256`), so
//! it adds three small crates and no second ASN.1 stack (`x509-parser` would add
//! `nom`, `asn1-rs`, `der-parser` and `oid-registry`).
//!
//! No cryptography is done here: signatures go through
//! [`VerifyingKey::verify_asn1`] (aws-lc-rs) and fingerprints through
//! [`crate::crypto::sha256`]. Supported: `ecdsa-with-SHA256` and `ecdsa-with-SHA384`
//! signatures, by EC P-256 or P-384 keys (GOV.UK reader certificates are P-384 /
//! ecdsa-with-SHA384, profile §6.5, and an IACA may be P-384). Any other signature
//! algorithm gives [`Error::AlgNotAllowed`] and any other key type (P-521, RSA,
//! Ed25519…) gives [`Error::InvalidKey`].
//!
//! What [`verify_chain`] checks: validity windows, issuer/subject names (compared as
//! decoded DER, byte for byte after DER `SET OF` ordering), signatures, `basicConstraints`
//! (`cA` and `pathLenConstraint`), `keyUsage` (`keyCertSign` for issuers,
//! `digitalSignature` for the leaf when present), the required extended key usage, and
//! that no certificate carries a critical extension this module does not process (for
//! example `nameConstraints` or `certificatePolicies`: such a certificate is refused).
//! What it does not check: revocation (CRLs, OCSP), policies, name constraints and the
//! ISO 18013-5 profile details beyond the EKU (IssuerAltName, country match).
//!
//! ```no_run
//! use govcred::x509::{self, Certificate};
//! # fn main() -> govcred::Result<()> {
//! let roots = Certificate::from_pem(&std::fs::read_to_string("iaca.pem").unwrap())?;
//! let ds = Certificate::from_der(&std::fs::read("ds.der").unwrap())?;
//! let now = 1_767_225_600; // from the injected clock
//! let key = x509::verify_chain(&[ds], &roots, now, 60, Some(x509::EKU_MDL_DS))?;
//! # let _ = key; Ok(()) }
//! ```

use std::fmt;
use std::ops::Range;

use base64::Engine as _;
use x509_cert::der::asn1::ObjectIdentifier as Oid;
use x509_cert::der::{Decode, Encode, Header, Reader, SliceReader, Tag, Tagged};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::name::Name;
use x509_cert::time::Time;

use crate::crypto::{EcdsaHash, VerifyingKey};
use crate::datetime;
use crate::error::{Error, Result};

/// The ISO 18013-5 Document Signer extended key usage (`id-mdl-kp-mdlDS`).
pub const EKU_MDL_DS: &str = "1.0.18013.5.1.2";

/// Largest DER certificate accepted, in bytes.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;

/// Most certificates accepted in one chain (leaf and intermediates, and a root if sent).
pub const MAX_CHAIN_CERTIFICATES: usize = 10;

/// Largest PEM text accepted by [`Certificate::from_pem`], in bytes (room for a trust
/// bundle of many IACA roots).
pub const MAX_PEM_BYTES: usize = 1024 * 1024;

const WHAT: &str = "X.509 certificate";

const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ID_EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");

const EXT_BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
const EXT_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// Extensions that may be critical without changing what this module decides:
/// key identifiers, alternative names, CRL distribution points, authority info access.
const EXT_INFORMATIONAL: [Oid; 6] = [
    Oid::new_unwrap("2.5.29.14"),
    Oid::new_unwrap("2.5.29.35"),
    Oid::new_unwrap("2.5.29.17"),
    Oid::new_unwrap("2.5.29.18"),
    Oid::new_unwrap("2.5.29.31"),
    Oid::new_unwrap("1.3.6.1.5.5.7.1.1"),
];

/// Readable names for the algorithm and curve OIDs people are likely to meet.
fn oid_name(oid: &Oid) -> &'static str {
    match oid.to_string().as_str() {
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.113549.1.1.1" => "RSA",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.2.840.10045.2.1" => "EC",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        _ => "unknown algorithm",
    }
}

/// A parsed X.509 certificate: its DER bytes plus the fields govcred needs, decoded once.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    /// Byte range of the signed `tbsCertificate` inside `der`.
    tbs: Range<usize>,
    cert: x509_cert::Certificate,
    not_before: i64,
    not_after: i64,
    basic_constraints: Option<BasicConstraints>,
    key_usage: Option<KeyUsage>,
    eku: Option<Vec<String>>,
    /// Critical extensions this module does not process (dotted OIDs).
    unhandled_critical: Vec<String>,
    /// The subject public key, parsed on first use (trusted roots are checked often).
    key: std::sync::OnceLock<VerifyingKey>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("not_before", &datetime::format(self.not_before))
            .field("not_after", &datetime::format(self.not_after))
            .field("sha256", &self.sha256_fingerprint())
            .finish()
    }
}

/// Two certificates are equal when their DER encodings are.
impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

fn unix_seconds(t: Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Byte range of the first element (the `tbsCertificate`) inside the outer `SEQUENCE`.
fn tbs_range(der: &[u8]) -> x509_cert::der::Result<Range<usize>> {
    let mut reader = SliceReader::new(der)?;
    let outer = Header::decode(&mut reader)?;
    outer.tag.assert_eq(Tag::Sequence)?;
    let start = usize::try_from(reader.position())?;
    let tbs = reader.tlv_bytes()?;
    Ok(start..start + tbs.len())
}

impl Certificate {
    /// Parse one DER-encoded certificate (at most [`MAX_CERTIFICATE_BYTES`]). Strict DER:
    /// trailing bytes, BER length forms and malformed extensions are refused with
    /// [`Error::Malformed`].
    pub fn from_der(der: &[u8]) -> Result<Self> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(Error::TooLarge {
                what: WHAT,
                size: der.len(),
                limit: MAX_CERTIFICATE_BYTES,
            });
        }
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| {
            Error::malformed(WHAT, format!("not a DER-encoded X.509 certificate: {e}"))
        })?;
        let tbs = tbs_range(der).map_err(|e| {
            Error::malformed(
                WHAT,
                format!("cannot locate the signed part (tbsCertificate): {e}"),
            )
        })?;
        let mut parsed = Certificate {
            der: der.to_vec(),
            tbs,
            not_before: unix_seconds(cert.tbs_certificate.validity.not_before),
            not_after: unix_seconds(cert.tbs_certificate.validity.not_after),
            cert,
            basic_constraints: None,
            key_usage: None,
            eku: None,
            unhandled_critical: Vec::new(),
            key: std::sync::OnceLock::new(),
        };
        parsed.read_extensions()?;
        if parsed.cert.tbs_certificate.signature != parsed.cert.signature_algorithm {
            return Err(parsed.malformed(
                "the signature algorithm inside the signed part differs from the outer one",
            ));
        }
        Ok(parsed)
    }

    fn malformed(&self, reason: &str) -> Error {
        Error::malformed(
            WHAT,
            format!("certificate \"{}\": {reason}", self.subject()),
        )
    }

    fn read_extensions(&mut self) -> Result<()> {
        let tbs = &self.cert.tbs_certificate;
        let Some(exts) = tbs.extensions.as_ref() else {
            return Ok(());
        };
        if tbs.version != x509_cert::certificate::Version::V3 {
            return Err(self.malformed("has extensions but is not a version 3 certificate"));
        }
        let mut seen: Vec<Oid> = Vec::with_capacity(exts.len());
        let mut basic_constraints = None;
        let mut key_usage = None;
        let mut eku = None;
        let mut unhandled = Vec::new();
        for ext in exts {
            if seen.contains(&ext.extn_id) {
                return Err(self.malformed(&format!(
                    "extension {} appears more than once (RFC 5280 4.2)",
                    ext.extn_id
                )));
            }
            seen.push(ext.extn_id);
            let value = ext.extn_value.as_bytes();
            let bad = |name: &str, e: x509_cert::der::Error| {
                self.malformed(&format!("{name} extension cannot be decoded: {e}"))
            };
            if ext.extn_id == EXT_BASIC_CONSTRAINTS {
                basic_constraints = Some(
                    BasicConstraints::from_der(value).map_err(|e| bad("basicConstraints", e))?,
                );
            } else if ext.extn_id == EXT_KEY_USAGE {
                key_usage = Some(KeyUsage::from_der(value).map_err(|e| bad("keyUsage", e))?);
            } else if ext.extn_id == EXT_EXTENDED_KEY_USAGE {
                let list = ExtendedKeyUsage::from_der(value).map_err(|e| bad("extKeyUsage", e))?;
                eku = Some(list.0.iter().map(|oid| oid.to_string()).collect());
            } else if ext.critical && !EXT_INFORMATIONAL.contains(&ext.extn_id) {
                unhandled.push(ext.extn_id.to_string());
            }
        }
        self.basic_constraints = basic_constraints;
        self.key_usage = key_usage;
        self.eku = eku;
        self.unhandled_critical = unhandled;
        Ok(())
    }

    /// Parse every certificate in PEM text (one or more `-----BEGIN CERTIFICATE-----`
    /// blocks, in order; text between blocks is ignored). Line breaks inside a block are
    /// optional, so the one-line PEM some APIs return (e.g. GOV.UK `/iacas`) is accepted.
    /// A block of another kind (a private key…) is refused, as is text over
    /// [`MAX_PEM_BYTES`].
    pub fn from_pem(text: &str) -> Result<Vec<Self>> {
        const WHAT_PEM: &str = "X.509 PEM";
        const BEGIN: &str = "-----BEGIN ";
        if text.len() > MAX_PEM_BYTES {
            return Err(Error::TooLarge {
                what: "PEM certificate text",
                size: text.len(),
                limit: MAX_PEM_BYTES,
            });
        }
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find(BEGIN) {
            let n = out.len() + 1;
            let after = &rest[start + BEGIN.len()..];
            let Some(label_end) = after.find("-----") else {
                return Err(Error::malformed(
                    WHAT_PEM,
                    format!("block {n}: the BEGIN line is not closed with \"-----\""),
                ));
            };
            let label = &after[..label_end];
            let tail = &after[label_end + 5..];
            if !matches!(
                label,
                "CERTIFICATE" | "X509 CERTIFICATE" | "X.509 CERTIFICATE"
            ) {
                let shown: String = label.chars().take(40).collect();
                return Err(Error::malformed(
                    WHAT_PEM,
                    format!("block {n} is \"{shown}\", not CERTIFICATE: pass certificates only"),
                ));
            }
            let end_marker = format!("-----END {label}-----");
            let Some(end) = tail.find(&end_marker) else {
                return Err(Error::malformed(
                    WHAT_PEM,
                    format!("block {n} has no \"{end_marker}\" line (truncated?)"),
                ));
            };
            let body: String = tail[..end]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map_err(|e| {
                    Error::malformed(WHAT_PEM, format!("block {n} is not valid base64: {e}"))
                })?;
            let cert = Certificate::from_der(&der).map_err(|e| match e {
                Error::Malformed { what, reason } => Error::Malformed {
                    what,
                    reason: format!("PEM block {n}: {reason}"),
                },
                other => other,
            })?;
            out.push(cert);
            rest = &tail[end + end_marker.len()..];
        }
        if out.is_empty() {
            return Err(Error::malformed(
                WHAT_PEM,
                "no \"-----BEGIN CERTIFICATE-----\" block found: expected PEM text (for DER bytes use Certificate::from_der)",
            ));
        }
        Ok(out)
    }

    /// The DER encoding, exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`, 64-character lines).
    pub fn to_pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for line in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// The subject as an RFC 4514 string, most significant part last, e.g.
    /// `C=US,CN=utopia ds` (types other than CN, L, ST, O, OU, C, STREET, DC and UID are
    /// written as dotted OIDs; string values are shown as text, others as `#` + DER hex).
    pub fn subject(&self) -> String {
        rfc4514(&self.cert.tbs_certificate.subject)
    }

    /// The issuer, in the same form as [`Certificate::subject`].
    pub fn issuer(&self) -> String {
        rfc4514(&self.cert.tbs_certificate.issuer)
    }

    /// Start of the validity window (`notBefore`), Unix seconds.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of the validity window (`notAfter`, inclusive), Unix seconds.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether `basicConstraints` says `cA = true`.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }

    /// The extended key usages as dotted OIDs (empty without the extension).
    pub fn extended_key_usages(&self) -> Vec<String> {
        self.eku.clone().unwrap_or_default()
    }

    /// The subject public key. EC P-256 and P-384 keys are supported (a P-384 key
    /// verifies ES384 only); other key types give [`Error::InvalidKey`].
    pub fn public_key(&self) -> Result<VerifyingKey> {
        self.public_key_ref().cloned()
    }

    /// [`Certificate::public_key`] without a copy: parsed once, then kept.
    pub fn public_key_ref(&self) -> Result<&VerifyingKey> {
        if let Some(k) = self.key.get() {
            return Ok(k);
        }
        let key = self.parse_public_key()?;
        Ok(self.key.get_or_init(|| key))
    }

    fn parse_public_key(&self) -> Result<VerifyingKey> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        let who = || format!("certificate \"{}\"", self.subject());
        if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
            return Err(Error::InvalidKey(format!(
                "{} has a {} key ({}); only EC P-256 and P-384 keys are supported: ask the issuer for a P-256 certificate",
                who(),
                oid_name(&spki.algorithm.oid),
                spki.algorithm.oid
            )));
        }
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<Oid>().ok());
        let p384 = match curve {
            Some(c) if c == SECP256R1 => false,
            Some(c) if c == SECP384R1 => true,
            Some(c) => {
                return Err(Error::InvalidKey(format!(
                    "{} has an EC key on curve {} ({c}); only P-256 and P-384 are supported: ask the issuer for a P-256 certificate",
                    who(),
                    oid_name(&c)
                )))
            }
            None => {
                return Err(Error::InvalidKey(format!(
                    "{} has an EC key without a named curve; only the named curves P-256 and P-384 are supported",
                    who()
                )))
            }
        };
        let point = spki.subject_public_key.as_bytes().ok_or_else(|| {
            Error::InvalidKey(format!("{}: public key BIT STRING has unused bits", who()))
        })?;
        let key = if p384 {
            VerifyingKey::from_p384_sec1(point)
        } else {
            VerifyingKey::from_p256_sec1(point)
        };
        key.map_err(|e| match e {
            Error::InvalidKey(m) => Error::InvalidKey(format!("{}: {m}", who())),
            other => other,
        })
    }

    /// SHA-256 of the DER encoding, lower-case hex (the usual certificate fingerprint).
    pub fn sha256_fingerprint(&self) -> String {
        hex(&crate::crypto::sha256(&self.der))
    }

    /// Check that `issuer` issued this certificate: this certificate's issuer name equals
    /// `issuer`'s subject name, and its `ecdsa-with-SHA256` or `ecdsa-with-SHA384`
    /// signature verifies with `issuer`'s P-256 or P-384 key. Nothing else (validity, CA flags) is checked here; see
    /// [`verify_chain`].
    pub fn verify_issued_by(&self, issuer: &Certificate) -> Result<()> {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject {
            return Err(Error::UntrustedIssuer(format!(
                "certificate \"{}\" names \"{}\" as its issuer, not \"{}\": send the chain leaf first, each certificate followed by its issuer, and trust the right root",
                self.subject(),
                self.issuer(),
                issuer.subject()
            )));
        }
        let alg = &self.cert.signature_algorithm;
        let hash = if alg.oid == ECDSA_WITH_SHA256 {
            EcdsaHash::Sha256
        } else if alg.oid == ECDSA_WITH_SHA384 {
            EcdsaHash::Sha384
        } else {
            return Err(Error::AlgNotAllowed {
                alg: format!(
                    "{} ({}) on certificate \"{}\" (X.509 needs ecdsa-with-SHA256 or ecdsa-with-SHA384)",
                    oid_name(&alg.oid),
                    alg.oid,
                    self.subject()
                ),
            });
        };
        if alg.parameters.is_some() {
            return Err(self.malformed(&format!(
                "{} must have no parameters (RFC 5758)",
                hash.x509_name()
            )));
        }
        let key = issuer.public_key_ref()?;
        let signature = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| self.malformed("signature BIT STRING has unused bits"))?;
        let tbs = self
            .der
            .get(self.tbs.clone())
            .ok_or_else(|| self.malformed("signed part out of range"))?;
        key.verify_asn1(hash, tbs, signature).map_err(|e| match e {
            Error::SignatureInvalid { .. } => Error::SignatureInvalid {
                key: format!(
                    "issuer \"{}\" (certificate \"{}\" was altered, or was not signed by this issuer)",
                    issuer.subject(),
                    self.subject()
                ),
            },
            other => other,
        })
    }

    fn check_critical(&self) -> Result<()> {
        match self.unhandled_critical.first() {
            None => Ok(()),
            Some(oid) => Err(Error::UntrustedIssuer(format!(
                "certificate \"{}\" has critical extension {oid} that govcred does not process, so it cannot be accepted (RFC 5280 4.2)",
                self.subject()
            ))),
        }
    }

    /// May this certificate issue `child`, with `below` CA certificates between it and
    /// the leaf?
    fn check_can_issue(&self, child: &Certificate, below: usize) -> Result<()> {
        let refuse = |why: String| {
            Err(Error::UntrustedIssuer(format!(
                "certificate \"{}\" issued \"{}\" but {why}",
                self.subject(),
                child.subject()
            )))
        };
        let Some(bc) = self.basic_constraints.as_ref().filter(|bc| bc.ca) else {
            return refuse(
                "is not a CA (basicConstraints cA is not true): only a CA/IACA certificate may issue certificates".into(),
            );
        };
        if self
            .key_usage
            .as_ref()
            .is_some_and(|ku| !ku.key_cert_sign())
        {
            return refuse("its keyUsage lacks keyCertSign".into());
        }
        if let Some(max) = bc.path_len_constraint {
            if below > usize::from(max) {
                return refuse(format!(
                    "its pathLenConstraint allows {max} intermediate CA certificate(s) below it, and the chain has {below}"
                ));
            }
        }
        self.check_critical()
    }

    fn check_time(&self, now: i64, leeway: i64) -> Result<()> {
        if now.saturating_add(leeway) < self.not_before {
            return Err(Error::NotYetValid {
                from: datetime::format(self.not_before),
                at: datetime::format(now),
            });
        }
        if now.saturating_sub(leeway) > self.not_after {
            return Err(Error::Expired {
                until: datetime::format(self.not_after),
                at: datetime::format(now),
            });
        }
        Ok(())
    }
}

/// Check `chain` (leaf first; may be just the leaf) up to one of `roots` at time `now`:
/// each certificate (the root too) within its validity (with `leeway` seconds), each
/// signed by the next (or by a root whose subject equals its issuer), every issuer certificate a CA
/// (basicConstraints cA=true, within its pathLenConstraint) with keyCertSign if key
/// usage is present, the leaf NOT a CA (and with digitalSignature if key usage is
/// present), and if `required_eku` is Some, the leaf must list that EKU OID
/// (`anyExtendedKeyUsage` does not count). A root given in `roots` that also appears at
/// the end of `chain` is fine. Critical extensions that are not processed here make the
/// chain fail. Returns the leaf's public key.
///
/// Trust and signatures are checked before dates, so an untrusted or forged chain is
/// reported as such ([`Error::UntrustedIssuer`], [`Error::SignatureInvalid`]) rather than
/// as [`Error::Expired`] / [`Error::NotYetValid`]. More than
/// [`MAX_CHAIN_CERTIFICATES`] certificates give [`Error::TooLarge`] (its `size` and
/// `limit` then count certificates).
pub fn verify_chain(
    chain: &[Certificate],
    roots: &[Certificate],
    now: i64,
    leeway: i64,
    required_eku: Option<&str>,
) -> Result<VerifyingKey> {
    verify_chain_in(chain, roots, now, leeway, required_eku)
}

/// [`verify_chain`] with the roots as any borrow of [`Certificate`] (e.g. the
/// `Arc<Certificate>`s of a trust store), so they need not be copied.
pub fn verify_chain_in<R: std::borrow::Borrow<Certificate>>(
    chain: &[Certificate],
    roots: &[R],
    now: i64,
    leeway: i64,
    required_eku: Option<&str>,
) -> Result<VerifyingKey> {
    let Some(leaf) = chain.first() else {
        return Err(Error::malformed(
            "X.509 certificate chain",
            "the chain is empty: send at least the signing (leaf) certificate",
        ));
    };
    if chain.len() > MAX_CHAIN_CERTIFICATES {
        return Err(Error::TooLarge {
            what: "X.509 certificate chain (counted in certificates)",
            size: chain.len(),
            limit: MAX_CHAIN_CERTIFICATES,
        });
    }
    let leeway = leeway.max(0);

    if leaf.is_ca() {
        return Err(Error::UntrustedIssuer(format!(
            "certificate \"{}\" is a CA certificate (basicConstraints cA=true) and cannot sign credentials: put the Document Signer (leaf) certificate first in the chain",
            leaf.subject()
        )));
    }
    if leaf
        .key_usage
        .as_ref()
        .is_some_and(|ku| !ku.digital_signature())
    {
        return Err(Error::UntrustedIssuer(format!(
            "certificate \"{}\" has a keyUsage without digitalSignature, so its key may not sign credentials",
            leaf.subject()
        )));
    }
    if let Some(eku) = required_eku {
        let listed = leaf.extended_key_usages();
        if !listed.iter().any(|e| e == eku) {
            let found = if listed.is_empty() {
                "none".to_string()
            } else {
                listed.join(", ")
            };
            return Err(Error::UntrustedIssuer(format!(
                "certificate \"{}\" lacks the required extended key usage {eku} (it lists: {found}): the issuer must sign with a certificate made for this purpose",
                leaf.subject()
            )));
        }
    }

    // A trusted root sent at the end of the chain is the anchor itself, not a link.
    let mut path = chain;
    if let [rest @ .., last] = chain {
        if !rest.is_empty() && roots.iter().any(|r| r.borrow() == last) {
            path = rest;
        }
    }
    leaf.check_critical()?;
    for (below, pair) in path.windows(2).enumerate() {
        if let [child, issuer] = pair {
            child.verify_issued_by(issuer)?;
            issuer.check_can_issue(child, below)?;
        }
    }
    let top = path.last().unwrap_or(leaf);
    let below = path.len().saturating_sub(1);
    let mut first_error = None;
    let mut anchor = None;
    for root in roots
        .iter()
        .map(std::borrow::Borrow::borrow)
        .filter(|r: &&Certificate| {
            r.cert.tbs_certificate.subject == top.cert.tbs_certificate.issuer
        })
    {
        match top
            .verify_issued_by(root)
            .and_then(|()| root.check_can_issue(top, below))
        {
            Ok(()) => {
                anchor = Some(root);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let Some(anchor) = anchor else {
        return Err(first_error.unwrap_or_else(|| {
            Error::UntrustedIssuer(format!(
                "certificate \"{}\" is issued by \"{}\", which is not among the {} trusted root(s): add that IACA/root certificate to the trust store, or send the missing intermediate certificates in the chain",
                top.subject(),
                top.issuer(),
                roots.len()
            ))
        }));
    };
    for cert in path.iter().chain(std::iter::once(anchor)) {
        cert.check_time(now, leeway)?;
    }
    leaf.public_key()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// RFC 4514 string of a name: RDNs in reverse order, `,` between them, `+` inside a
/// multi-valued RDN.
fn rfc4514(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name.0.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.0.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.oid.to_string();
            out.push_str(short_attribute_name(&oid).unwrap_or(&oid));
            out.push('=');
            match attribute_text(&atv.value) {
                Some(text) => escape_value(&mut out, &text),
                None => {
                    out.push('#');
                    let der = atv.value.to_der().unwrap_or_default();
                    out.push_str(&hex(&der));
                }
            }
        }
    }
    out
}

/// The RFC 4514 section 3 short names.
fn short_attribute_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

/// The text of a directory string value, or `None` for non-string types.
fn attribute_text(value: &x509_cert::der::Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::VisibleString
        | Tag::NumericString => String::from_utf8(bytes.to_vec()).ok(),
        // T.61 in practice carries Latin-1.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

/// Escape a value as RFC 4514 section 2.4 requires (and control characters as `\hh`).
fn escape_value(out: &mut String, text: &str) {
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                out.push('\\');
                out.push_str(&hex(&[c as u8]));
            }
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_rfc4514() {
        let mut s = String::new();
        escape_value(&mut s, " #a,b+c\"d\\e;f<g>h\u{1}é ");
        assert_eq!(s, "\\ #a\\,b\\+c\\\"d\\\\e\\;f\\<g\\>h\\01é\\ ");
        let mut s = String::new();
        escape_value(&mut s, "#x");
        assert_eq!(s, "\\#x");
        let mut s = String::new();
        escape_value(&mut s, "");
        assert_eq!(s, "");
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn der_limits_and_garbage() {
        let big = vec![0x30u8; MAX_CERTIFICATE_BYTES + 1];
        assert_eq!(
            Certificate::from_der(&big).unwrap_err().code(),
            crate::ErrorCode::InputTooLarge
        );
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x00],
            &[0x04, 0x01, 0x00],
            b"hello",
        ] {
            assert_eq!(
                Certificate::from_der(bad).unwrap_err().code(),
                crate::ErrorCode::MalformedInput
            );
        }
    }

    #[test]
    fn pem_structure_errors() {
        for bad in [
            "",
            "no pem here",
            "-----BEGIN CERTIFICATE",
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
            "-----BEGIN é-----",
        ] {
            let err = Certificate::from_pem(bad).unwrap_err();
            assert_eq!(
                err.code(),
                crate::ErrorCode::MalformedInput,
                "{bad:?}: {err}"
            );
        }
        let big = "A".repeat(MAX_PEM_BYTES + 1);
        assert_eq!(
            Certificate::from_pem(&big).unwrap_err().code(),
            crate::ErrorCode::InputTooLarge
        );
    }

    /// DER `SEQUENCE { r INTEGER, s INTEGER }` from a 64-byte `r‖s` signature.
    fn der_signature(fixed: &[u8]) -> Vec<u8> {
        let int = |v: &[u8]| {
            let v = &v[v.iter().take_while(|&&b| b == 0).count().min(v.len() - 1)..];
            let mut out = vec![0x02];
            let pad = v[0] & 0x80 != 0;
            out.push((v.len() + usize::from(pad)) as u8);
            if pad {
                out.push(0);
            }
            out.extend_from_slice(v);
            out
        };
        let body = [int(&fixed[..32]), int(&fixed[32..])].concat();
        [vec![0x30, body.len() as u8], body].concat()
    }

    #[test]
    fn verifying_key_checks_asn1_signatures() {
        use crate::crypto::{Alg, SoftwareKey};
        use crate::Signer;
        let key = SoftwareKey::generate(Alg::ES256).unwrap();
        let fixed = key.sign(b"tbs").unwrap();
        let der = der_signature(&fixed);
        key.verifying_key()
            .verify_asn1_sha256(b"tbs", &der)
            .unwrap();
        for (msg, sig) in [(&b"tbx"[..], &der[..]), (b"tbs", &fixed[..]), (b"tbs", &[])] {
            assert_eq!(
                key.verifying_key()
                    .verify_asn1_sha256(msg, sig)
                    .unwrap_err()
                    .code(),
                crate::ErrorCode::SignatureInvalid
            );
        }
        let ed = SoftwareKey::generate(Alg::EdDSA).unwrap();
        assert_eq!(
            ed.verifying_key()
                .verify_asn1_sha256(b"tbs", &der)
                .unwrap_err()
                .code(),
            crate::ErrorCode::KeyAlgMismatch
        );
    }

    #[test]
    fn empty_chain_is_malformed() {
        assert_eq!(
            verify_chain(&[], &[], 0, 0, None).unwrap_err().code(),
            crate::ErrorCode::MalformedInput
        );
    }
}
