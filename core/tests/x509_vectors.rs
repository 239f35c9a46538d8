//! X.509 chain verification against the shared mdoc vectors (ISO 18013-5 Annex D and
//! the GOV.UK test PKI) and against small synthetic certificates.
//!
//! The synthetic certificates at the end of this file were made once with Python
//! `cryptography` 48 (`CertificateBuilder`, ECDSA P-256/SHA-256 unless the name says
//! otherwise), all valid 2025-01-01 → 2035-01-01: a root, an intermediate
//! (pathLenConstraint 0) and a Document Signer leaf, plus one certificate per rejection
//! rule. Their subjects are in the doc comments (as Python's `rfc4514_string` prints them).

mod common;

use std::path::Path;
use std::slice::from_ref;

use govcred::crypto::{Alg, SoftwareKey};
use govcred::x509::{self, Certificate, EKU_MDL_DS};
use govcred::{datetime, ErrorCode};

fn t(s: &str) -> i64 {
    datetime::parse(s, "test time").unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pem_file(dir: &Path, rel: &str) -> Vec<Certificate> {
    let p = dir.join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Certificate::from_pem(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn one(dir: &Path, rel: &str) -> Certificate {
    let mut certs = pem_file(dir, rel);
    assert_eq!(certs.len(), 1, "{rel}");
    certs.remove(0)
}

fn pem(text: &str) -> Certificate {
    let mut certs = Certificate::from_pem(text).unwrap();
    assert_eq!(certs.len(), 1);
    certs.remove(0)
}

fn code<T: std::fmt::Debug>(r: govcred::Result<T>) -> ErrorCode {
    r.unwrap_err().code()
}

/// Annex D (utopia) DS and IACA, from PEM; checked equal to the DER hex in the JSON.
fn annex_d(dir: &Path) -> (Certificate, Certificate) {
    let ds = one(dir, "mdoc/annex-d-ds-cert.pem");
    let iaca = one(dir, "mdoc/annex-d-iaca-cert.pem");
    (ds, iaca)
}

const ANNEX_D_NOW: &str = "2021-01-01T00:00:00Z";
const GOVUK_NOW: &str = "2026-01-01T00:00:00Z";

// ---------------------------------------------------------------- shared vectors

#[test]
fn annex_d_ds_chains_to_iaca_and_key_verifies_issuer_auth() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let json = common::json(&dir, "mdoc/annex-d-issuer-signed.json");
    let (ds, iaca) = annex_d(&dir);

    // PEM and the JSON's DER hex are the same certificates.
    assert_eq!(
        ds.der(),
        unhex(json["dsCertificateDerHex"].as_str().unwrap())
    );
    assert_eq!(
        iaca.der(),
        unhex(json["iacaCertificateDerHex"].as_str().unwrap())
    );
    assert_eq!(Certificate::from_der(ds.der()).unwrap(), ds);

    // Parsed fields equal the JSON's (Python `cryptography`) view.
    for (cert, info) in [
        (&ds, &json["certificates"]["ds"]),
        (&iaca, &json["certificates"]["iaca"]),
    ] {
        assert_eq!(cert.subject(), info["subject"].as_str().unwrap());
        assert_eq!(cert.issuer(), info["issuer"].as_str().unwrap());
        assert_eq!(cert.not_before(), t(info["notBefore"].as_str().unwrap()));
        assert_eq!(cert.not_after(), t(info["notAfter"].as_str().unwrap()));
    }
    assert!(iaca.is_ca());
    assert!(!ds.is_ca());
    assert_eq!(ds.extended_key_usages(), vec![EKU_MDL_DS.to_string()]);
    assert!(iaca.extended_key_usages().is_empty());
    assert_eq!(ds.sha256_fingerprint().len(), 64);
    assert_ne!(ds.sha256_fingerprint(), iaca.sha256_fingerprint());

    ds.verify_issued_by(&iaca).unwrap();
    iaca.verify_issued_by(&iaca).unwrap(); // self-signed

    let now = t(ANNEX_D_NOW);
    let key = x509::verify_chain(from_ref(&ds), from_ref(&iaca), now, 0, Some(EKU_MDL_DS)).unwrap();
    assert_eq!(key, ds.public_key().unwrap());
    assert_eq!(key.alg(), Alg::ES256);
    // The root may also be sent at the end of the chain.
    let key2 = x509::verify_chain(
        &[ds.clone(), iaca.clone()],
        from_ref(&iaca),
        now,
        0,
        Some(EKU_MDL_DS),
    )
    .unwrap();
    assert_eq!(key2, key);

    // The returned key verifies the COSE_Sign1 issuerAuth (exact Sig_structure in the JSON).
    let auth = &json["issuerAuth"];
    let sig_structure = unhex(auth["sigStructureHex"].as_str().unwrap());
    let signature = unhex(auth["signatureHex"].as_str().unwrap());
    key.verify(Alg::ES256, &sig_structure, &signature).unwrap();
    // And the DS certificate is what the COSE_Sign1 carries in its x5chain.
    let cose = unhex(auth["coseSign1Hex"].as_str().unwrap());
    assert!(cose.windows(ds.der().len()).any(|w| w == ds.der()));
}

#[test]
fn annex_d_validity_windows() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, iaca) = annex_d(&dir);
    let chain = [ds.clone()];
    let roots = [iaca];
    let verify = |now: &str, leeway: i64| {
        x509::verify_chain(&chain, &roots, t(now), leeway, Some(EKU_MDL_DS))
    };
    // notBefore and notAfter are inclusive.
    verify("2020-10-01T00:00:00Z", 0).unwrap();
    verify("2021-10-01T00:00:00Z", 0).unwrap();

    let err = verify("2021-10-01T00:00:01Z", 0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Expired);
    assert_eq!(
        err,
        govcred::Error::Expired {
            until: "2021-10-01T00:00:00Z".into(),
            at: "2021-10-01T00:00:01Z".into()
        }
    );
    verify("2021-10-01T00:00:01Z", 60).unwrap(); // within the leeway
    assert_eq!(code(verify("2021-10-01T00:01:01Z", 60)), ErrorCode::Expired);

    let err = verify("2020-09-30T23:59:59Z", 0).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotYetValid);
    assert!(err.to_string().contains("2020-10-01T00:00:00Z"), "{err}");
    verify("2020-09-30T23:59:59Z", 1).unwrap();

    // With the real clock the Annex D DS is long expired (as its README says).
    assert_eq!(code(verify(GOVUK_NOW, 300)), ErrorCode::Expired);
}

#[test]
fn govuk_local_dsc_chains_to_local_iaca_root() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let checks = common::json(&dir, "govuk/checks.json");
    let pki = &checks["local-pki"];
    let root = one(&dir, "govuk/mdoc/local-iaca-root.pem");
    let dsc = one(&dir, "govuk/mdoc/local-dsc.pem");

    assert_eq!(root.subject(), pki["iaca_subject"].as_str().unwrap());
    assert_eq!(dsc.subject(), pki["dsc_subject"].as_str().unwrap());
    assert_eq!(dsc.issuer(), root.subject());
    assert_eq!(
        root.not_before(),
        t(pki["validity"]["iaca"][0].as_str().unwrap())
    );
    assert_eq!(
        root.not_after(),
        t(pki["validity"]["iaca"][1].as_str().unwrap())
    );
    assert_eq!(
        dsc.not_before(),
        t(pki["validity"]["dsc"][0].as_str().unwrap())
    );
    assert_eq!(
        dsc.not_after(),
        t(pki["validity"]["dsc"][1].as_str().unwrap())
    );
    assert!(root.is_ca());
    assert!(!dsc.is_ca()); // no basicConstraints at all
    assert!(dsc.extended_key_usages().is_empty());

    let now = t(GOVUK_NOW);
    let key = x509::verify_chain(from_ref(&dsc), from_ref(&root), now, 0, None).unwrap();

    // The published test key is the DSC's (SEC1 `EC PRIVATE KEY`, scalar at bytes 7..39).
    let text = std::fs::read_to_string(dir.join("govuk/mdoc/local-dsc.TEST-KEY-ONLY.pem")).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    let sec1 = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(&sec1[..7], &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]);
    let secret: [u8; 32] = sec1[7..39].try_into().unwrap();
    let signer = SoftwareKey::from_secret_bytes(Alg::ES256, &secret).unwrap();
    assert_eq!(signer.verifying_key(), &key);

    // These minimal LOCAL certificates lack the mDL EKU: a DS requirement refuses them.
    let err =
        x509::verify_chain(from_ref(&dsc), from_ref(&root), now, 0, Some(EKU_MDL_DS)).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(
        err.to_string().contains("Example Issuer DSC (LOCAL)"),
        "{err}"
    );
    assert!(err.to_string().contains(EKU_MDL_DS), "{err}");

    // Outside the windows.
    assert_eq!(
        code(x509::verify_chain(
            from_ref(&dsc),
            from_ref(&root),
            t("2026-09-02T10:33:33Z"),
            0,
            None
        )),
        ErrorCode::Expired
    );
    assert_eq!(
        code(x509::verify_chain(
            from_ref(&dsc),
            from_ref(&root),
            t("2025-09-02T10:30:00Z"),
            0,
            None
        )),
        ErrorCode::NotYetValid
    );
}

#[test]
fn govuk_real_ds_certificates_parse_but_have_no_root_here() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let checks = common::json(&dir, "govuk/checks.json");
    let local_root = one(&dir, "govuk/mdoc/local-iaca-root.pem");
    let (_, annex_iaca) = annex_d(&dir);
    for (name, file) in [
        ("dev-simplemdoc", "govuk/mdoc/dev-simplemdoc.ds-cert.pem"),
        (
            "dvla-dev-mdl-jane-doe",
            "govuk/mdoc/dvla-dev-mdl-jane-doe.ds-cert.pem",
        ),
    ] {
        let info = &checks[name];
        let ds = one(&dir, file);
        assert_eq!(
            ds.subject(),
            info["ds_cert_subject"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            ds.issuer(),
            info["ds_cert_issuer"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            ds.not_before(),
            t(info["ds_cert_validity"][0].as_str().unwrap())
        );
        assert_eq!(
            ds.not_after(),
            t(info["ds_cert_validity"][1].as_str().unwrap())
        );
        let eku: Vec<String> = info["ds_cert_eku"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(ds.extended_key_usages(), eku);
        assert!(!ds.is_ca());
        ds.public_key().unwrap();

        // Their IACAs are not in the collection: no path to any root we have.
        let now = (ds.not_before() + ds.not_after()) / 2;
        let roots = [local_root.clone(), annex_iaca.clone()];
        let err = x509::verify_chain(from_ref(&ds), &roots, now, 0, Some(EKU_MDL_DS)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::UntrustedIssuer, "{name}: {err}");
        assert!(err.to_string().contains(&ds.issuer()), "{err}");
        // Trusting the DS certificate itself does not help: it is not a CA.
        assert_eq!(
            code(x509::verify_chain(
                from_ref(&ds),
                from_ref(&ds),
                now,
                0,
                None
            )),
            ErrorCode::UntrustedIssuer
        );
    }
}

#[test]
fn govuk_iacas_endpoint_one_line_pem() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let json = common::json(&dir, "govuk/issuance/iacas.example.json");
    let entry = &json["data"][0];
    // `/iacas` returns the PEM without line breaks.
    let pem_text = entry["certificatePem"].as_str().unwrap();
    assert!(!pem_text.contains('\n'));
    let root = pem(pem_text);
    assert_eq!(
        root.sha256_fingerprint(),
        entry["certificateFingerprint"].as_str().unwrap()
    );
    assert_eq!(
        root.not_before(),
        t(entry["certificateData"]["notBefore"].as_str().unwrap())
    );
    assert_eq!(
        root.not_after(),
        t(entry["certificateData"]["notAfter"].as_str().unwrap())
    );
    assert!(root.is_ca());
    root.verify_issued_by(&root).unwrap();
    let jwk = root.public_key().unwrap().jwk().clone();
    assert_eq!(jwk.x.as_deref(), entry["publicKeyJwk"]["x"].as_str());
    assert_eq!(jwk.y.as_deref(), entry["publicKeyJwk"]["y"].as_str());
    // Its ST value starts with a space, which RFC 4514 escapes.
    assert_eq!(
        root.subject(),
        "CN=mDL Example IACA Root - LOCAL environment,OU=mDL Example IACA Root - LOCAL environment,\
         O=mDL Example IACA Root - DELOCAL environment,ST=\\ London,C=GB"
    );

    // Same common name as local-iaca-root.pem, but a different (longer) name and key:
    // it is not the issuer of local-dsc.pem.
    let dsc = one(&dir, "govuk/mdoc/local-dsc.pem");
    let err =
        x509::verify_chain(from_ref(&dsc), from_ref(&root), t(GOVUK_NOW), 0, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert_eq!(
        code(dsc.verify_issued_by(&root)),
        ErrorCode::UntrustedIssuer
    );
}

#[test]
fn wrong_root_is_untrusted() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, iaca) = annex_d(&dir);
    let local_root = one(&dir, "govuk/mdoc/local-iaca-root.pem");
    let local_dsc = one(&dir, "govuk/mdoc/local-dsc.pem");

    let err = x509::verify_chain(
        from_ref(&ds),
        from_ref(&local_root),
        t(ANNEX_D_NOW),
        0,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    let msg = err.to_string();
    assert!(
        msg.contains("C=US,CN=utopia ds") && msg.contains("C=US,CN=utopia iaca"),
        "{msg}"
    );
    assert!(msg.contains("trust store"), "{msg}");

    assert_eq!(
        code(x509::verify_chain(
            from_ref(&local_dsc),
            from_ref(&iaca),
            t(GOVUK_NOW),
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
    assert_eq!(
        code(x509::verify_chain(
            from_ref(&ds),
            &[],
            t(ANNEX_D_NOW),
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
    // A wrong root sent at the end of the chain does not make it trusted.
    assert_eq!(
        code(x509::verify_chain(
            &[local_dsc, local_root],
            from_ref(&iaca),
            t(GOVUK_NOW),
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
    // Chain in the wrong order.
    assert_eq!(
        code(x509::verify_chain(
            &[iaca.clone(), ds.clone()],
            from_ref(&iaca),
            t(ANNEX_D_NOW),
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
}

#[test]
fn ca_certificate_as_leaf_is_refused() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (_, iaca) = annex_d(&dir);
    let err =
        x509::verify_chain(from_ref(&iaca), from_ref(&iaca), t(ANNEX_D_NOW), 0, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(
        err.to_string().contains("utopia iaca") && err.to_string().contains("CA"),
        "{err}"
    );
    let local_root = one(&dir, "govuk/mdoc/local-iaca-root.pem");
    assert_eq!(
        code(x509::verify_chain(
            from_ref(&local_root),
            from_ref(&local_root),
            t(GOVUK_NOW),
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
}

/// Flip one bit at `at` and re-parse.
fn flipped(der: &[u8], at: usize) -> govcred::Result<Certificate> {
    let mut bytes = der.to_vec();
    bytes[at] ^= 0x01;
    Certificate::from_der(&bytes)
}

#[test]
fn tampered_certificates() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, iaca) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);
    let der = ds.der();
    let roots = [iaca.clone()];

    // Last byte of the signature (inside `s`): still DER, no longer verifies.
    let bad = flipped(der, der.len() - 1).unwrap();
    let err = x509::verify_chain(from_ref(&bad), &roots, now, 0, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SignatureInvalid);
    assert!(
        err.to_string().contains("utopia iaca") && err.to_string().contains("utopia ds"),
        "{err}"
    );
    assert_eq!(
        code(bad.verify_issued_by(&iaca)),
        ErrorCode::SignatureInvalid
    );

    // A byte of the signed part: the subject's common name "utopia ds" → "utopia es".
    let at = der.windows(9).position(|w| w == b"utopia ds").unwrap() + 7;
    let bad = flipped(der, at).unwrap();
    assert_eq!(bad.subject(), "C=US,CN=utopia es");
    assert_eq!(
        code(x509::verify_chain(&[bad], &roots, now, 0, Some(EKU_MDL_DS))),
        ErrorCode::SignatureInvalid
    );

    // A byte of the subject public key: the key changes, the issuer's signature fails.
    let spki = unhex("3059301306072a8648ce3d020106082a8648ce3d030107034200");
    let at = der.windows(spki.len()).position(|w| w == spki).unwrap() + spki.len() + 40;
    let bad = flipped(der, at);
    if let Ok(bad) = bad {
        assert_eq!(
            code(x509::verify_chain(&[bad], &roots, now, 0, None)),
            ErrorCode::SignatureInvalid
        );
    }

    // The outer SEQUENCE tag, or a length: no longer a certificate.
    assert_eq!(code(flipped(der, 0)), ErrorCode::MalformedInput);
    assert_eq!(code(flipped(der, 1)), ErrorCode::MalformedInput);

    // The IACA's subject (its second "utopia iaca") altered: no longer the DS's issuer.
    let iaca_der = iaca.der();
    let find = |from_end: bool| {
        let mut hits = iaca_der
            .windows(11)
            .enumerate()
            .filter(|(_, w)| w == b"utopia iaca");
        let hit = if from_end {
            hits.next_back()
        } else {
            hits.next()
        };
        hit.unwrap().0 + 2
    };
    let bad_root = flipped(iaca_der, find(true)).unwrap();
    assert_eq!(bad_root.subject(), "C=US,CN=utnpia iaca");
    assert_eq!(
        code(x509::verify_chain(from_ref(&ds), &[bad_root], now, 0, None)),
        ErrorCode::UntrustedIssuer
    );
    // A root's own issuer field and self-signature are not checked: a trust anchor is
    // trusted as configured, so only the certificates below it must verify.
    let odd_root = flipped(iaca_der, find(false)).unwrap();
    assert_eq!(odd_root.issuer(), "C=US,CN=utnpia iaca");
    assert_eq!(
        code(odd_root.verify_issued_by(&odd_root)),
        ErrorCode::UntrustedIssuer
    );
    x509::verify_chain(from_ref(&ds), &[odd_root], now, 0, None).unwrap();
}

#[test]
fn every_single_bit_flip_fails() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, iaca) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);
    let roots = [iaca];
    for at in 0..ds.der().len() {
        for mask in [0x01u8, 0x80] {
            let mut bytes = ds.der().to_vec();
            bytes[at] ^= mask;
            if let Ok(cert) = Certificate::from_der(&bytes) {
                let result = x509::verify_chain(&[cert], &roots, now, 0, Some(EKU_MDL_DS));
                assert!(
                    result.is_err(),
                    "flip {mask:#04x} at byte {at} still verifies"
                );
            }
        }
    }
}

#[test]
fn garbage_and_truncated_input_is_malformed() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, _) = annex_d(&dir);
    let der = ds.der();
    for cut in [0, 1, 4, der.len() / 2, der.len() - 1] {
        assert_eq!(
            code(Certificate::from_der(&der[..cut])),
            ErrorCode::MalformedInput,
            "cut {cut}"
        );
    }
    let mut trailing = der.to_vec();
    trailing.push(0);
    assert_eq!(
        code(Certificate::from_der(&trailing)),
        ErrorCode::MalformedInput
    );
    assert_eq!(
        code(Certificate::from_der(b"not a certificate")),
        ErrorCode::MalformedInput
    );
    // PEM text handed to the DER parser.
    let text = std::fs::read(dir.join("mdoc/annex-d-ds-cert.pem")).unwrap();
    assert_eq!(
        code(Certificate::from_der(&text)),
        ErrorCode::MalformedInput
    );

    let text = std::fs::read_to_string(dir.join("mdoc/annex-d-ds-cert.pem")).unwrap();
    let end = text.find("-----END").unwrap();
    // Truncated: no END line; body cut short; body with a bad character.
    assert_eq!(
        code(Certificate::from_pem(&text[..end])),
        ErrorCode::MalformedInput
    );
    let lines: Vec<&str> = text.lines().collect();
    let short = format!("{}\n{}\n{}\n", lines[0], lines[1], lines[lines.len() - 1]);
    assert_eq!(
        code(Certificate::from_pem(&short)),
        ErrorCode::MalformedInput
    );
    let bad_char = text.replacen('M', "*", 1);
    assert_eq!(
        code(Certificate::from_pem(&bad_char)),
        ErrorCode::MalformedInput
    );
    // Not PEM at all; a private key block.
    assert_eq!(
        code(Certificate::from_pem("garbage")),
        ErrorCode::MalformedInput
    );
    assert_eq!(code(Certificate::from_pem("")), ErrorCode::MalformedInput);
    let key = std::fs::read_to_string(dir.join("govuk/mdoc/local-dsc.TEST-KEY-ONLY.pem")).unwrap();
    let err = Certificate::from_pem(&key).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedInput);
    assert!(err.to_string().contains("EC PRIVATE KEY"), "{err}");
    // A good block followed by a bad one fails as a whole.
    assert_eq!(
        code(Certificate::from_pem(&format!("{text}\n{}", &text[..end]))),
        ErrorCode::MalformedInput
    );

    // Two blocks with text around them parse in order.
    let iaca_text = std::fs::read_to_string(dir.join("mdoc/annex-d-iaca-cert.pem")).unwrap();
    let both = Certificate::from_pem(&format!("DS:\n{text}\nIACA:\n{iaca_text}\n")).unwrap();
    assert_eq!(both.len(), 2);
    assert_eq!(both[0], ds);
    assert!(both[1].is_ca());
    // CRLF line endings.
    assert_eq!(pem(&text.replace('\n', "\r\n")), ds);
}

#[test]
fn oversized_input_is_refused() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let (ds, iaca) = annex_d(&dir);
    let huge = vec![0u8; x509::MAX_CERTIFICATE_BYTES + 1];
    assert_eq!(code(Certificate::from_der(&huge)), ErrorCode::InputTooLarge);
    // A certificate-shaped header claiming a huge body.
    let mut claims = vec![0x30, 0x83, 0x01, 0x00, 0x01];
    claims.resize(x509::MAX_CERTIFICATE_BYTES + 5, 0);
    assert_eq!(
        code(Certificate::from_der(&claims)),
        ErrorCode::InputTooLarge
    );

    let long_chain = vec![ds.clone(); x509::MAX_CHAIN_CERTIFICATES + 1];
    assert_eq!(
        code(x509::verify_chain(
            &long_chain,
            from_ref(&iaca),
            t(ANNEX_D_NOW),
            0,
            None
        )),
        ErrorCode::InputTooLarge
    );

    let text = std::fs::read_to_string(dir.join("mdoc/annex-d-ds-cert.pem")).unwrap();
    let bundle = text.repeat(x509::MAX_PEM_BYTES / text.len() + 1);
    assert_eq!(
        code(Certificate::from_pem(&bundle)),
        ErrorCode::InputTooLarge
    );
    // A bundle of many certificates under the byte limit is fine (trust stores).
    assert_eq!(Certificate::from_pem(&text.repeat(50)).unwrap().len(), 50);
}

// ---------------------------------------------------------------- synthetic chains

fn synthetic_now() -> i64 {
    t("2026-01-01T00:00:00Z")
}

#[test]
fn three_level_chain() {
    let (root, inter, leaf) = (pem(ROOT), pem(INTER), pem(LEAF));
    let now = synthetic_now();
    let key = x509::verify_chain(
        &[leaf.clone(), inter.clone()],
        from_ref(&root),
        now,
        0,
        Some(EKU_MDL_DS),
    )
    .unwrap();
    assert_eq!(key, leaf.public_key().unwrap());
    x509::verify_chain(
        &[leaf.clone(), inter.clone(), root.clone()],
        from_ref(&root),
        now,
        0,
        None,
    )
    .unwrap();
    // The intermediate may itself be trusted directly.
    x509::verify_chain(from_ref(&leaf), from_ref(&inter), now, 0, None).unwrap();
    // Missing intermediate: no path.
    let err = x509::verify_chain(from_ref(&leaf), from_ref(&root), now, 0, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("intermediate"), "{err}");
    // Wrong order.
    assert_eq!(
        code(x509::verify_chain(
            &[inter.clone(), leaf.clone()],
            from_ref(&root),
            now,
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );
    // Outside the window of every certificate.
    assert_eq!(
        code(x509::verify_chain(
            &[leaf.clone(), inter.clone()],
            from_ref(&root),
            t("2035-01-01T00:00:01Z"),
            0,
            None
        )),
        ErrorCode::Expired
    );
    assert_eq!(
        code(x509::verify_chain(
            &[leaf, inter],
            &[root],
            t("2024-12-31T23:59:59Z"),
            0,
            None
        )),
        ErrorCode::NotYetValid
    );
}

#[test]
fn ca_rules() {
    let now = synthetic_now();
    let (root, inter, leaf) = (pem(ROOT), pem(INTER), pem(LEAF));

    // pathLenConstraint 0 on the root: no intermediate CA allowed below it.
    let err = x509::verify_chain(
        &[leaf.clone(), pem(INTER_UNDER_PATHLEN0)],
        &[pem(ROOT_PATHLEN0)],
        now,
        0,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("pathLenConstraint"), "{err}");

    // A certificate issued by a leaf (not a CA).
    let err = x509::verify_chain(
        &[pem(UNDER_LEAF), leaf.clone(), inter.clone()],
        from_ref(&root),
        now,
        0,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(
        err.to_string().contains("is not a CA") && err.to_string().contains("CN=Test DS"),
        "{err}"
    );

    // A CA without keyCertSign in its key usage.
    let err = x509::verify_chain(
        &[
            pem(LEAF_UNDER_INTER_NO_KEYCERTSIGN),
            pem(INTER_NO_KEYCERTSIGN),
        ],
        from_ref(&root),
        now,
        0,
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("keyCertSign"), "{err}");

    // A leaf whose key usage does not allow signing.
    let err = x509::verify_chain(&[pem(LEAF_KEY_ENCIPHERMENT)], from_ref(&root), now, 0, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("digitalSignature"), "{err}");

    // An unprocessed critical extension.
    let err = x509::verify_chain(&[pem(LEAF_UNKNOWN_CRITICAL)], from_ref(&root), now, 0, None)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("1.3.6.1.4.1.99999.1"), "{err}");

    // The intermediate used as the leaf.
    assert_eq!(
        code(x509::verify_chain(&[inter], &[root], now, 0, None)),
        ErrorCode::UntrustedIssuer
    );
}

#[test]
fn required_eku() {
    let now = synthetic_now();
    let (root, inter) = (pem(ROOT), pem(INTER));
    let no_eku = pem(LEAF_NO_EKU);
    assert!(no_eku.extended_key_usages().is_empty());
    x509::verify_chain(
        &[no_eku.clone(), inter.clone()],
        from_ref(&root),
        now,
        0,
        None,
    )
    .unwrap();
    let err = x509::verify_chain(
        &[no_eku, inter.clone()],
        from_ref(&root),
        now,
        0,
        Some(EKU_MDL_DS),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("lists: none"), "{err}");
    let err = x509::verify_chain(
        &[pem(LEAF), inter],
        &[root],
        now,
        0,
        Some("1.3.6.1.5.5.7.3.1"),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UntrustedIssuer);
    assert!(err.to_string().contains("1.0.18013.5.1.2"), "{err}");
}

#[test]
fn p384_keys_and_ecdsa_with_sha384_verify() {
    let now = synthetic_now();
    let root = pem(ROOT);

    // A P-384 root signing with ecdsa-with-SHA384 (GOV.UK reader CAs and some IACAs,
    // profile §6.3/§6.5): its key parses as an ES384 (verification only) key.
    let root384 = pem(ROOT_P384);
    let key = root384.public_key().unwrap();
    assert_eq!(key.alg(), govcred::crypto::Alg::ES384);
    assert_eq!(key.jwk().crv.as_deref(), Some("P-384"));
    root384.verify_issued_by(&root384).unwrap();
    // A P-256 leaf under it, signed ecdsa-with-SHA384 by the P-384 key.
    let leaf = pem(LEAF_UNDER_P384);
    let leaf_key = x509::verify_chain(from_ref(&leaf), from_ref(&root384), now, 0, None).unwrap();
    assert_eq!(leaf_key.alg(), govcred::crypto::Alg::ES256);
    // The same leaf against the P-256 root: untrusted, not a crypto error.
    assert_eq!(
        code(x509::verify_chain(
            from_ref(&leaf),
            from_ref(&root),
            now,
            0,
            None
        )),
        ErrorCode::UntrustedIssuer
    );

    // A P-384 leaf key under a P-256 root (ecdsa-with-SHA256): chains, yields a P-384 key.
    let leaf = pem(LEAF_P384_KEY);
    leaf.verify_issued_by(&root).unwrap();
    let key = x509::verify_chain(from_ref(&leaf), from_ref(&root), now, 0, None).unwrap();
    assert_eq!(key.alg(), govcred::crypto::Alg::ES384);
}

#[test]
fn unsupported_keys_and_algorithms_are_typed_errors() {
    let now = synthetic_now();
    let root = pem(ROOT);

    // An RSA leaf key under a P-256 root: the chain is fine, the key is not.
    let leaf = pem(LEAF_RSA_KEY);
    leaf.verify_issued_by(&root).unwrap();
    let err = x509::verify_chain(from_ref(&leaf), from_ref(&root), now, 0, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidKey);
    assert!(
        err.to_string().contains("RSA") && err.to_string().contains(&leaf.subject()),
        "{err}"
    );
}

#[test]
fn rfc4514_names_match_python() {
    let odd = pem(ODD_NAMES);
    assert_eq!(
        odd.subject(),
        "CN=\\#1 a\\,b\\+c,1.2.840.113549.1.9.1=ds@example.gov.uk,ST=\\ London,C=GB"
    );
    assert_eq!(odd.issuer(), "CN=Test Root,C=GB");
    let dbg = format!("{odd:?}");
    assert!(
        dbg.contains("Test Root") && dbg.contains(&odd.sha256_fingerprint()),
        "{dbg}"
    );
}

// ---------------------------------------------------------------- synthetic certificates

/// Subject `CN=Test Root,C=GB`, issuer `CN=Test Root,C=GB`.
const ROOT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBZzCCAQ2gAwIBAgIUZTBs0G0L5Jp47J5akvyT0y9+1HIwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMCExCzAJBgNVBAYTAkdCMRIwEAYDVQQDDAlUZXN0\n\
IFJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATWE8tpodTEJMuMXDRGbpwp\n\
jt3UmWbuzGwmNlCIir5JiBgd5yed9XSFe3uUlWpHtTklrGFqAdud6WZlTAWAhPHT\n\
oyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQD\n\
AgNIADBFAiAQNzQQBNJh3qNt8yqKcHTZfaVq6F/2M8O4lbJGLVcozwIhAOJ1vHUl\n\
KS0Qepn8PUJoBxXspM+AKpBXm+Js1ZHvVtJT\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test Root pathlen 0,C=GB`, issuer `CN=Test Root pathlen 0,C=GB`.
const ROOT_PATHLEN0: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBfTCCASSgAwIBAgIUC6TYnFflg7u2LRsn1KBEIBCceAkwCgYIKoZIzj0EAwIw\n\
KzELMAkGA1UEBhMCR0IxHDAaBgNVBAMME1Rlc3QgUm9vdCBwYXRobGVuIDAwHhcN\n\
MjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjArMQswCQYDVQQGEwJHQjEcMBoG\n\
A1UEAwwTVGVzdCBSb290IHBhdGhsZW4gMDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n\
A0IABLSzBZ5kLCLimfbxtcrxxt8Yz4SooD/6rQhz/ON5fmBRVsfy0G8Q3FtQov4Q\n\
grPQqHTCIRdORchV8PkeeMoERXejJjAkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYD\n\
VR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0cAMEQCIHJt2o4fB7AStAu0x1kDbYoc\n\
ktKGJWhEYcGrapZFtHLyAiBrPjL93shKHnUGoWgf/gYFHFslgj1ve6i9F6E9zNvp\n\
ig==\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test Intermediate,C=GB`, issuer `CN=Test Root,C=GB`.
const INTER: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBcjCCARigAwIBAgIUfshggE8X56xWqIfrH08Wzy/bO0EwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMCkxCzAJBgNVBAYTAkdCMRowGAYDVQQDDBFUZXN0\n\
IEludGVybWVkaWF0ZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABCUgQ/cEq9LH\n\
5TZW59OXjErmkkObcs9nHAWl6fYczD6ooWfrc3J8QejbrX3E7Pb/fXgDNeCZowfy\n\
i7nvc/iJzV6jJjAkMBIGA1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEG\n\
MAoGCCqGSM49BAMCA0gAMEUCIQDFYCc4BH3Dn1IckD2+zL632U7HZPfe7M3XR50r\n\
yHPl8AIgKQpavR4OuqBqyp+4+GZLKlf4i2tT+OVYamv/3cRCjJI=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test Intermediate,C=GB`, issuer `CN=Test Root pathlen 0,C=GB`.
const INTER_UNDER_PATHLEN0: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBfDCCASKgAwIBAgIUc7L9q3qTw1G3EhBsm1ifbBbPOLUwCgYIKoZIzj0EAwIw\n\
KzELMAkGA1UEBhMCR0IxHDAaBgNVBAMME1Rlc3QgUm9vdCBwYXRobGVuIDAwHhcN\n\
MjUwMTAxMDAwMDAwWhcNMzUwMTAxMDAwMDAwWjApMQswCQYDVQQGEwJHQjEaMBgG\n\
A1UEAwwRVGVzdCBJbnRlcm1lZGlhdGUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n\
AAQlIEP3BKvSx+U2VufTl4xK5pJDm3LPZxwFpen2HMw+qKFn63NyfEHo2619xOz2\n\
/314AzXgmaMH8ou573P4ic1eoyYwJDASBgNVHRMBAf8ECDAGAQH/AgEAMA4GA1Ud\n\
DwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiAeoHyboZ6+ZYhPNWloHqMAc9Ps\n\
4YDfK741FYnX0IZQSQIhAL3TFZYbIbRblFaoMJlV0TsyLZ94F4J2uCVucKVZkn7+\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS,C=GB`, issuer `CN=Test Intermediate,C=GB`.
const LEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBgTCCASegAwIBAgIUcdqx+vXZ3Tgnttc4nVf7wHHXUYUwCgYIKoZIzj0EAwIw\n\
KTELMAkGA1UEBhMCR0IxGjAYBgNVBAMMEVRlc3QgSW50ZXJtZWRpYXRlMB4XDTI1\n\
MDEwMTAwMDAwMFoXDTM1MDEwMTAwMDAwMFowHzELMAkGA1UEBhMCR0IxEDAOBgNV\n\
BAMMB1Rlc3QgRFMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARLKTjLK5pJlwcd\n\
MRuKZKnqg0dYEPtJFyPrEkJSLCo3ZKW6arxIvuRtb9rlKoqAYEdG2zcE/6qu5dak\n\
W+zI9QZkozcwNTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAVBgNVHSUB\n\
Af8ECzAJBgcogYxdBQECMAoGCCqGSM49BAMCA0gAMEUCIQDNmpiql7UJGByCEIxE\n\
2HZbdi3rNDni84UEvCAKUbVMiQIgcWw3cjLUoXe4aOyy27OFxG6NhfEByx71wjXx\n\
N4LCQdA=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS no EKU,C=GB`, issuer `CN=Test Intermediate,C=GB`.
const LEAF_NO_EKU: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBYzCCAQmgAwIBAgIUSf3iuyvc8ZVo3o6V5enh23+H9+0wCgYIKoZIzj0EAwIw\n\
KTELMAkGA1UEBhMCR0IxGjAYBgNVBAMMEVRlc3QgSW50ZXJtZWRpYXRlMB4XDTI1\n\
MDEwMTAwMDAwMFoXDTM1MDEwMTAwMDAwMFowJjELMAkGA1UEBhMCR0IxFzAVBgNV\n\
BAMMDlRlc3QgRFMgbm8gRUtVMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEBPSq\n\
r8SbQ7WaiCsowwqzETBoTRV+UbLMR2dpNg2drM1M1aMC2Gp5spCqMLoQNpiavcSG\n\
tpyT4F+AIplp0wyj8aMSMBAwDgYDVR0PAQH/BAQDAgeAMAoGCCqGSM49BAMCA0gA\n\
MEUCIEQCB//D6YO7OQj4WzL7ye49va2CZvC4wPV+PrNPBLmxAiEA7a7ZuY6hVwOU\n\
xun1YmOkhUZxf3VK+fG96+gQD797xHQ=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS keyEncipherment,C=GB`, issuer `CN=Test Root,C=GB`.
const LEAF_KEY_ENCIPHERMENT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBezCCASGgAwIBAgIUSOgZcyQoxxZ+7Z+ncCNJmQPTxHgwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMC8xCzAJBgNVBAYTAkdCMSAwHgYDVQQDDBdUZXN0\n\
IERTIGtleUVuY2lwaGVybWVudDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABDsh\n\
GRCiaxOzwUGWUwOhsXA3TiQwqNk7p+J0oNezEqVTdr6+vyDvbTJOKK2YoSXEL62s\n\
8tZaaj7wQ41PFmpy1zSjKTAnMA4GA1UdDwEB/wQEAwIFIDAVBgNVHSUBAf8ECzAJ\n\
BgcogYxdBQECMAoGCCqGSM49BAMCA0gAMEUCIAYu2lffbg+k04DPG0Rl3soM/kxG\n\
+M3J7qK2pYszFhTgAiEAgVSN5VT0V1uFwz+wLcz4V9vNYQkJ+W62DJG2Fg6Feqs=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS critical,C=GB`, issuer `CN=Test Root,C=GB`.
const LEAF_UNKNOWN_CRITICAL: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBiDCCAS6gAwIBAgIUVnXCXQagT83GS98spuovYCEaiIQwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMCgxCzAJBgNVBAYTAkdCMRkwFwYDVQQDDBBUZXN0\n\
IERTIGNyaXRpY2FsMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENWe4YR7tQjxb\n\
qJ77PpN6LWIfMY2cVLbuClHBIHcO2b2+nhiNPCnj+QXEGj4zRBetOwgZbcufLXFc\n\
qij4AJzAAKM9MDswDgYDVR0PAQH/BAQDAgeAMBUGA1UdJQEB/wQLMAkGByiBjF0F\n\
AQIwEgYJKwYBBAGGjR8BAQH/BAIFADAKBggqhkjOPQQDAgNIADBFAiA8qd/Mi/Ps\n\
S/q0gv3j2gqLuulrE0pl5Oz0sR+EB1D9sQIhAIzdg9NM7tMSrjOeoirpeT+PKPp6\n\
KEyCuSvQ47zWfwIC\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Issued by a leaf,C=GB`, issuer `CN=Test DS,C=GB`.
const UNDER_LEAF: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBcTCCARigAwIBAgIUTVtZ3ryV3Cn4H2DyRKO/jTSBKPMwCgYIKoZIzj0EAwIw\n\
HzELMAkGA1UEBhMCR0IxEDAOBgNVBAMMB1Rlc3QgRFMwHhcNMjUwMTAxMDAwMDAw\n\
WhcNMzUwMTAxMDAwMDAwWjAoMQswCQYDVQQGEwJHQjEZMBcGA1UEAwwQSXNzdWVk\n\
IGJ5IGEgbGVhZjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLbQOuaq1hYL8f3B\n\
lxfbReh/z+OuVhNHdlWw3X8f60i4DY0uYSRVJpFykj5yacd3h2qts2X5Iad4ehm5\n\
+/fJcZKjKTAnMA4GA1UdDwEB/wQEAwIHgDAVBgNVHSUBAf8ECzAJBgcogYxdBQEC\n\
MAoGCCqGSM49BAMCA0cAMEQCIGfqHTZ1yoObg2L3AkYeJOZ2XuGkk9Jd85zXNFsA\n\
FtlUAiBY/3EBGm1q6cMsjDwoo8EEnW1sQTgt5spBdhQrdD+MnA==\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test Intermediate no keyCertSign,C=GB`, issuer `CN=Test Root,C=GB`.
const INTER_NO_KEYCERTSIGN: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBfzCCASSgAwIBAgIUWaLUllsWJ0ts0Q50ydgti3s0YNEwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMDgxCzAJBgNVBAYTAkdCMSkwJwYDVQQDDCBUZXN0\n\
IEludGVybWVkaWF0ZSBubyBrZXlDZXJ0U2lnbjBZMBMGByqGSM49AgEGCCqGSM49\n\
AwEHA0IABDxKDGhvSJOQGm9TyYv6C1rdl5R5kcLj0UNU1DpZkJH8HQ2LSfGKZE7L\n\
9D9k4HV2faFoccS9PhKu3fPHhgCYTLujIzAhMA8GA1UdEwEB/wQFMAMBAf8wDgYD\n\
VR0PAQH/BAQDAgeAMAoGCCqGSM49BAMCA0kAMEYCIQCBeEkNvBR7PIu87KK6KgHf\n\
d6J3hWlFwlZFBHMUdPX0CAIhAK4BKTMCZa+dS2bJk5v/ZrvaKYnUZUipuuJs9VD5\n\
hDOU\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS 2,C=GB`, issuer `CN=Test Intermediate no keyCertSign,C=GB`.
const LEAF_UNDER_INTER_NO_KEYCERTSIGN: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBbDCCAROgAwIBAgIUHK/TZGoIhUZnl4/FLIFJNZ5riTQwCgYIKoZIzj0EAwIw\n\
ODELMAkGA1UEBhMCR0IxKTAnBgNVBAMMIFRlc3QgSW50ZXJtZWRpYXRlIG5vIGtl\n\
eUNlcnRTaWduMB4XDTI1MDEwMTAwMDAwMFoXDTM1MDEwMTAwMDAwMFowITELMAkG\n\
A1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgRFMgMjBZMBMGByqGSM49AgEGCCqGSM49\n\
AwEHA0IABGE4iaMM3Brtlf5ptqx71oCnjACMqNzXQ4Gd6/idPSDXPpSohA+42Hmb\n\
cFzUm/ObY33hVESbLI2HtZHL0gt6kNmjEjAQMA4GA1UdDwEB/wQEAwIHgDAKBggq\n\
hkjOPQQDAgNHADBEAiB3J/BziJHNrauEixCxldM7xKQDk4C5f80tqLG28IQeSAIg\n\
bzggUS7IJGEjYEFPFgyyVPWNKfvVVLfsk3YBIe94KWY=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test Root P-384,C=GB`, issuer `CN=Test Root P-384,C=GB`.
const ROOT_P384: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBsTCCATagAwIBAgIUUpiw694jO/5ZWMpNO93plVzNqDIwCgYIKoZIzj0EAwMw\n\
JzELMAkGA1UEBhMCR0IxGDAWBgNVBAMMD1Rlc3QgUm9vdCBQLTM4NDAeFw0yNTAx\n\
MDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMCcxCzAJBgNVBAYTAkdCMRgwFgYDVQQD\n\
DA9UZXN0IFJvb3QgUC0zODQwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAQ79eUpRHXE\n\
/SmsXBzEucia5WNfyM1fbtGWrv0ossBPwjasX18kyOd4zUa2nXkDbs6HF+PX4COr\n\
4eS6fQhIk+Z+v/xrBpkp2PLgVac9WPiz/cQnkD9bz98dLfcdFN6fq6ijIzAhMA8G\n\
A1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMDA2kAMGYC\n\
MQDX/HOnTu7v049bs1flbF1B1Cm/QvmpfKvYYg/fepbYf05+5AEWobEhCdLYG665\n\
VPoCMQCAg9EmE4HQjkQWiWZjPseT+mqipVOysCuo4JHFU9Mk85azYSZeLJHcVZsa\n\
AS1W7tE=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS under P-384,C=GB`, issuer `CN=Test Root P-384,C=GB`.
const LEAF_UNDER_P384: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBhjCCAQygAwIBAgIUThzmbm//jbu1W1Hj8nSxfJf7HWIwCgYIKoZIzj0EAwMw\n\
JzELMAkGA1UEBhMCR0IxGDAWBgNVBAMMD1Rlc3QgUm9vdCBQLTM4NDAeFw0yNTAx\n\
MDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMCsxCzAJBgNVBAYTAkdCMRwwGgYDVQQD\n\
DBNUZXN0IERTIHVuZGVyIFAtMzg0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n\
wmAqw8TDsjc1cFUSINzu/CbUZem4hGGE/d6FWTMBFBStpcEOiS5zTo4qu6oopzMf\n\
qRccBal0M6vLj4yUNhMmnaMSMBAwDgYDVR0PAQH/BAQDAgeAMAoGCCqGSM49BAMD\n\
A2gAMGUCMFuUysYU3PyJ5FJVJ23qZqvrICaUYbvjQHoWBGzdjSOagN3R/L9QnGcI\n\
65DlyXr4uQIxALsfb7q2WqmlIoykE733yBpRRWp/XYadep8cFO0mtOerKbZ8S1Sm\n\
UItL46GKEK2w4g==\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS P-384 key,C=GB`, issuer `CN=Test Root,C=GB`.
const LEAF_P384_KEY: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBezCCASGgAwIBAgIUIKI2k8z92MoMJ+A3GrYVay0wXvkwCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMCkxCzAJBgNVBAYTAkdCMRowGAYDVQQDDBFUZXN0\n\
IERTIFAtMzg0IGtleTB2MBAGByqGSM49AgEGBSuBBAAiA2IABIhSZrsVq41fCCgf\n\
Bvh21xqiWHshrEV+BNQ9eCxqHCdzXfSV190XyNI6l0KBL7wS6Jaq0gFl6hWnnmgV\n\
KFWMHLIFlBhz6g45VuTRHl8pO0sNp36yDfpb4Q06DKugHwggCqMSMBAwDgYDVR0P\n\
AQH/BAQDAgeAMAoGCCqGSM49BAMCA0gAMEUCIHDwhLrouBxU5wnG59vGsCU8nNNK\n\
JrtO3KaLfTKKRqi1AiEAu89+8NAgidCg3qW4DeM92g6emRx8b1bH5uBWEz92s48=\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=Test DS RSA key,C=GB`, issuer `CN=Test Root,C=GB`.
const LEAF_RSA_KEY: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIICJzCCAc2gAwIBAgIUEagLXaywx+IctJXdOAaRGBWdcr8wCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMCcxCzAJBgNVBAYTAkdCMRgwFgYDVQQDDA9UZXN0\n\
IERTIFJTQSBrZXkwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCsaAh+\n\
LhlKrr6RrTVTKytpxcS1jh8rnHEHuJA/MXTo8zwkT3Zyix3FUgjhY5LgekxKHxFH\n\
oM+8rqnHyX3Wsrw3CZgtgwPtxwAF6u/nl0oNSHAQql9JQz1caDWJtlTAlUvRQv6R\n\
QdBSqunXIQbqjU0J4KyJrWQTTIANi1CITwK2cXcH+qMBlCNuWj+CXWaBfRMUZIPQ\n\
5oSQeBCaFlqZp7nM2+gowENibE5ObCff62VCyBq8SS5i2TR7wSiqYgukMyQ7MkjP\n\
LqJ+HHfj2SVkZubpIjb8Xyxqn68c2B5DaP/SW8OOA7JS5/y2iY9YA7Z3o1qWTfH3\n\
ilLL49WBiR+AmzL9AgMBAAGjEjAQMA4GA1UdDwEB/wQEAwIHgDAKBggqhkjOPQQD\n\
AgNIADBFAiA1uL1oc2TT7Hx2PZTnLQbPiaKTyDmMjgVahUvtfAKL0gIhAOzEJs8R\n\
6PCL8zCPpkxkN97r+0lBOmnBxurZ8nVf+6be\n\
-----END CERTIFICATE-----\n\
";
/// Subject `CN=\#1 a\,b\+c,1.2.840.113549.1.9.1=ds@example.gov.uk,ST=\ London,C=GB`, issuer `CN=Test Root,C=GB`.
const ODD_NAMES: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBiDCCAS+gAwIBAgIUSMD2ulfolWXiXPb6SPQrd9NxGIswCgYIKoZIzj0EAwIw\n\
ITELMAkGA1UEBhMCR0IxEjAQBgNVBAMMCVRlc3QgUm9vdDAeFw0yNTAxMDEwMDAw\n\
MDBaFw0zNTAxMDEwMDAwMDBaMFQxCzAJBgNVBAYTAkdCMRAwDgYDVQQIDAcgTG9u\n\
ZG9uMSAwHgYJKoZIhvcNAQkBFhFkc0BleGFtcGxlLmdvdi51azERMA8GA1UEAwwI\n\
IzEgYSxiK2MwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARRPVcTThCB/ZrnK1Pq\n\
jx1UaE2jnfruMCmoVNNMeLBjs1roeLlu0r1v/mvuA2c/lFy+yAJwWG2vGBNwtFOH\n\
4iRsoxIwEDAOBgNVHQ8BAf8EBAMCB4AwCgYIKoZIzj0EAwIDRwAwRAIgSf1pXCTD\n\
uq17eXO2j0O13AJqcqhtvzhYNofONXsqWSwCIFhBxc/FxSL4JgiAqergJeKlaodL\n\
5BJi+CXdc+s87fAN\n\
-----END CERTIFICATE-----\n\
";
