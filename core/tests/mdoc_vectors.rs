//! ISO 18013-5 `IssuerSigned` verification against the shared vectors: the Annex D
//! example (trusted through its IACA) and the two real GOV.UK-ecosystem credentials
//! (indefinite-length CBOR from the Java issuer, definite from the DVLA dev tool), plus
//! tampering, algorithm, truncation and clock cases.
//!
//! The GOV.UK credentials' IACA roots are not published, so those tests pin the DS
//! certificate itself in the trust store (`x509::verify_chain` cannot anchor a leaf
//! that is not issued by a root; `format::mdoc` accepts a DS certificate that is itself
//! a trusted certificate, still checking its validity and EKU).

mod common;

use std::path::{Path, PathBuf};

use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::mdoc;
use govcred::report::CheckOutcome;
use govcred::trust::TrustStore;
use govcred::{ErrorCode, Outcome, Signer, VerificationReport};

fn t(s: &str) -> i64 {
    govcred::datetime::parse(s, "test").unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    let p = dir.join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn text(dir: &Path, rel: &str) -> String {
    String::from_utf8(read(dir, rel)).unwrap()
}

fn trust_pem(dir: &Path, rel: &[&str]) -> TrustStore {
    let mut trust = TrustStore::new();
    for r in rel {
        trust.add_root_certificates_pem(&text(dir, r)).unwrap();
    }
    trust
}

fn outcome(report: &VerificationReport, name: &str) -> CheckOutcome {
    report
        .check(name)
        .unwrap_or_else(|| panic!("no check {name}: {}", report.to_json_pretty()))
        .outcome
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    let mut hits = haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i);
    let first = hits.next().expect("needle not found");
    assert!(hits.next().is_none(), "needle not unique");
    first
}

const ANNEX_D_NOW: &str = "2021-01-01T00:00:00Z";

fn annex_d(dir: &Path) -> (Vec<u8>, TrustStore) {
    let bytes = unhex(&text(dir, "mdoc/annex-d-issuer-signed.cbor.hex"));
    (bytes, trust_pem(dir, &["mdoc/annex-d-iaca-cert.pem"]))
}

fn vectors() -> Option<PathBuf> {
    common::shared_vectors()
}

#[test]
fn annex_d_verifies_with_its_iaca() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let report = mdoc::verify(&bytes, &trust, t(ANNEX_D_NOW), 60);
    assert!(report.valid, "{}", report.to_json_pretty());
    assert_eq!(report.outcome, Outcome::Valid);
    for check in [
        "format",
        "issuer_key",
        "signature",
        "data_model",
        "digests",
        "validity_period",
    ] {
        assert_eq!(outcome(&report, check), CheckOutcome::Passed, "{check}");
    }
    assert!(report.check("status").is_none());
    assert_eq!(report.types, ["org.iso.18013.5.1.mDL"]);
    assert_eq!(report.issuer.as_deref(), Some("C=US,CN=utopia ds"));
    assert_eq!(report.valid_from.as_deref(), Some("2020-10-01T13:30:02Z"));
    assert_eq!(report.valid_until.as_deref(), Some("2021-10-01T13:30:02Z"));
    assert!(report.check("digests").unwrap().detail.contains("all 6"));

    let claims = report.claims.to_value();
    let ns = &claims["org.iso.18013.5.1"];
    assert_eq!(ns["family_name"], "Doe");
    assert_eq!(ns["issue_date"], "2019-10-20");
    assert_eq!(ns["expiry_date"], "2024-10-20");
    assert_eq!(ns["document_number"], "123456789");
    let dp = ns["driving_privileges"].as_array().unwrap();
    assert_eq!(dp.len(), 2);
    assert_eq!(dp[0]["vehicle_category_code"], "A");
    assert_eq!(dp[0]["issue_date"], "2018-08-09");
    assert_eq!(dp[1]["vehicle_category_code"], "B");

    // Element values and the exact item bytes, against the decoded JSON of the vector.
    let expected = common::json(&dir, "mdoc/annex-d-issuer-signed.json");
    let doc = mdoc::parse(&bytes).unwrap();
    let items = &doc.name_spaces[0].1;
    let want = expected["nameSpaces"]["org.iso.18013.5.1"]
        .as_array()
        .unwrap();
    assert_eq!(items.len(), want.len());
    for (got, want) in items.iter().zip(want) {
        assert_eq!(got.element_identifier, want["elementIdentifier"]);
        assert_eq!(
            got.tagged_bytes,
            unhex(want["issuerSignedItemBytesHex"].as_str().unwrap())
        );
        assert_eq!(
            govcred::crypto::sha256(&got.tagged_bytes).to_vec(),
            unhex(want["expectedValueDigestHex"].as_str().unwrap())
        );
        if got.element_identifier == "portrait" {
            let portrait =
                govcred::b64::decode(got.element_value.as_str().unwrap(), "portrait").unwrap();
            assert_eq!(
                portrait,
                unhex(want["elementValue"]["bytesHex"].as_str().unwrap())
            );
            assert_eq!(&portrait[..3], &[0xff, 0xd8, 0xff]);
        }
    }
    // The same document as base64url text.
    let b64 = govcred::b64::encode(&bytes);
    let again = mdoc::verify(b64.as_bytes(), &trust, t(ANNEX_D_NOW), 60);
    assert!(again.valid);
    assert_eq!(again.claims, report.claims);
}

#[test]
fn annex_d_trust_problems() {
    let Some(dir) = vectors() else { return };
    let (bytes, _) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);

    // No roots: the signature is still checked with the x5chain key, trust is unknown.
    let report = mdoc::verify(&bytes, &TrustStore::new(), now, 60);
    assert_eq!(report.outcome, Outcome::CouldNotCheck);
    assert_eq!(outcome(&report, "issuer_key"), CheckOutcome::NotChecked);
    assert!(report.has_error(ErrorCode::UnknownKey));
    assert_eq!(outcome(&report, "signature"), CheckOutcome::Passed);

    // Another issuer's root.
    let wrong = trust_pem(&dir, &["govuk/mdoc/local-iaca-root.pem"]);
    let report = mdoc::verify(&bytes, &wrong, now, 60);
    assert!(!report.valid);
    assert_eq!(outcome(&report, "issuer_key"), CheckOutcome::Failed);
    assert!(report.has_error(ErrorCode::UntrustedIssuer));
}

#[test]
fn annex_d_clock() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let later = mdoc::verify(&bytes, &trust, t("2022-01-01T00:00:00Z"), 60);
    assert!(!later.valid);
    assert!(later.has_error(ErrorCode::Expired));
    assert_eq!(outcome(&later, "validity_period"), CheckOutcome::Failed);
    // Between the DS certificate's end and the MSO's: only the certificate has expired.
    let between = mdoc::verify(&bytes, &trust, t("2021-10-01T12:00:00Z"), 60);
    assert_eq!(outcome(&between, "validity_period"), CheckOutcome::Passed);
    assert_eq!(outcome(&between, "issuer_key"), CheckOutcome::Failed);
    assert!(between.has_error(ErrorCode::Expired));

    let early = mdoc::verify(&bytes, &trust, t("2020-10-01T12:00:00Z"), 60);
    assert!(!early.valid);
    assert!(early.has_error(ErrorCode::NotYetValid));
    assert_eq!(outcome(&early, "validity_period"), CheckOutcome::Failed);
}

#[test]
fn annex_d_tampering() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);

    // An element value ("Doe" → "Dod"): the signature holds, the digest does not.
    let mut item = bytes.clone();
    let at = find(&bytes, b"cDoe");
    item[at + 3] = b'd';
    let report = mdoc::verify(&item, &trust, now, 60);
    assert!(!report.valid);
    assert_eq!(outcome(&report, "signature"), CheckOutcome::Passed);
    assert_eq!(outcome(&report, "digests"), CheckOutcome::Failed);
    assert!(report.has_error(ErrorCode::MalformedInput));
    let detail = &report.check("digests").unwrap().detail;
    assert!(detail.contains("org.iso.18013.5.1/family_name"), "{detail}");
    assert!(report.claims.is_empty());

    // Every byte of the first item's random value.
    let doc = mdoc::parse(&bytes).unwrap();
    let first = &doc.name_spaces[0].1[0].tagged_bytes;
    let start = find(&bytes, first);
    for i in start + 20..start + first.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        let r = mdoc::verify(&b, &trust, now, 60);
        assert!(!r.valid, "flip at {i}");
    }

    // The signature (the last bytes of this definite-length document).
    let mut sig = bytes.clone();
    let last = sig.len() - 1;
    sig[last] ^= 0x01;
    let report = mdoc::verify(&sig, &trust, now, 60);
    assert!(!report.valid);
    assert_eq!(outcome(&report, "signature"), CheckOutcome::Failed);
    assert!(report.has_error(ErrorCode::SignatureInvalid));
    assert!(report.claims.is_empty());

    // A byte of the MSO (inside the payload): signature failure.
    let payload = &doc.issuer_auth.payload;
    let p = find(&bytes, payload);
    let mut mso = bytes.clone();
    mso[p + payload.len() / 2] ^= 0x01;
    let report = mdoc::verify(&mso, &trust, now, 60);
    assert!(report.has_error(ErrorCode::SignatureInvalid));

    // alg ES256 (-7, 0x26) → EdDSA (-8, 0x27) in the protected header.
    let mut alg = bytes.clone();
    let at = find(&bytes, &[0x43, 0xa1, 0x01, 0x26]);
    alg[at + 3] = 0x27;
    let report = mdoc::verify(&alg, &trust, now, 60);
    assert!(!report.valid);
    assert_eq!(outcome(&report, "signature"), CheckOutcome::Failed);
    assert!(report.has_error(ErrorCode::AlgNotAllowed));
    // ... and to a text alg.
    let at = find(&bytes, &[0x43, 0xa1, 0x01, 0x26]);
    let mut text_alg = bytes[..at].to_vec();
    text_alg.extend_from_slice(&[0x44, 0xa1, 0x01, 0x61, b'x']);
    text_alg.extend_from_slice(&bytes[at + 4..]);
    assert_eq!(
        mdoc::parse(&text_alg).unwrap_err().code(),
        ErrorCode::AlgNotAllowed
    );
}

#[test]
fn truncated_and_garbage_input() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);
    for len in 0..bytes.len() {
        let r = mdoc::verify(&bytes[..len], &trust, now, 60);
        assert!(!r.valid);
        assert!(r.has_error(ErrorCode::MalformedInput), "len {len}");
        assert_eq!(outcome(&r, "format"), CheckOutcome::Failed);
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(mdoc::verify(&trailing, &trust, now, 60).has_error(ErrorCode::MalformedInput));

    let mut deep = vec![0xa1, 0x61, b'a'];
    deep.extend(std::iter::repeat_n(0x81, 10_000));
    deep.push(0);
    for garbage in [
        &b""[..],
        b"hello world!",
        b"{\"nameSpaces\": {}}",
        &[0x00, 0x01, 0xff, 0xfe],
        &[0xa0],                   // empty map
        &[0xa1, 0x61, b'x', 0x01], // map without the members
        &[0xbf, 0x61, b'x', 0x01], // unterminated indefinite map
        &[0xbf, 0xff],             // empty indefinite map
        b"oWFhAQ",                 // base64url of a map without the members
        b"AQID",                   // base64url, not a map
        &deep,
    ] {
        let r = mdoc::verify(garbage, &trust, now, 60);
        assert!(r.has_error(ErrorCode::MalformedInput), "{garbage:02x?}");
        assert!(!r.valid);
    }
    let big = vec![b'A'; mdoc::MAX_INPUT_BYTES + 1];
    assert!(mdoc::verify(&big, &trust, now, 60).has_error(ErrorCode::InputTooLarge));
    // Non-canonical base64url (non-zero trailing bits).
    assert!(mdoc::verify(b"oWFhAR", &trust, now, 60).has_error(ErrorCode::InvalidBase64));
}

struct GovUk {
    name: &'static str,
    doc_type: &'static str,
    now: &'static str,
    items: usize,
}

const GOVUK: [GovUk; 2] = [
    GovUk {
        name: "dev-simplemdoc",
        doc_type: "uk.gov.account.mobile.example-credential-issuer.simplemdoc.1",
        now: "2026-01-01T00:00:00Z",
        items: 10,
    },
    GovUk {
        name: "dvla-dev-mdl-jane-doe",
        doc_type: "org.iso.18013.5.1.mDL",
        now: "2026-12-01T00:00:00Z",
        items: 12,
    },
];

fn is_full_date(v: &serde_json::Value) -> bool {
    let s = v.as_str().unwrap_or_default().as_bytes();
    s.len() == 10
        && s.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn govuk_credentials_verify_with_pinned_ds_certificate() {
    let Some(dir) = vectors() else { return };
    let checks = common::json(&dir, "govuk/checks.json");
    for v in GOVUK {
        let cbor = read(&dir, &format!("govuk/mdoc/{}.issuer-signed.cbor", v.name));
        let b64 = read(&dir, &format!("govuk/mdoc/{}.issuer-signed.b64url", v.name));
        let trust = trust_pem(&dir, &[&format!("govuk/mdoc/{}.ds-cert.pem", v.name)]);
        let now = t(v.now);

        let from_cbor = mdoc::verify(&cbor, &trust, now, 60);
        let from_b64 = mdoc::verify(&b64, &trust, now, 60);
        assert_eq!(from_cbor.checks, from_b64.checks, "{}", v.name);
        assert_eq!(from_cbor.claims, from_b64.claims, "{}", v.name);

        let r = from_cbor;
        for check in [
            "format",
            "issuer_key",
            "signature",
            "data_model",
            "digests",
            "validity_period",
        ] {
            assert_eq!(
                outcome(&r, check),
                CheckOutcome::Passed,
                "{} {check}",
                v.name
            );
        }
        assert!(r.check("issuer_key").unwrap().detail.contains("pinned"));
        assert!(r
            .check("digests")
            .unwrap()
            .detail
            .contains(&format!("all {} ", v.items)));
        assert_eq!(r.types, [v.doc_type]);
        let expected = &checks[v.name];
        assert_eq!(r.issuer.as_deref(), expected["ds_cert_subject"].as_str());
        assert_eq!(
            r.valid_until.as_deref().map(t),
            Some(t(expected["validityInfo"]["validUntil"].as_str().unwrap()))
        );

        // Claims: every namespace and element of checks.json, dates as strings.
        let claims = r.claims.to_value();
        for (ns, elements) in expected["namespaces"].as_object().unwrap() {
            for e in elements.as_array().unwrap() {
                let e = e.as_str().unwrap();
                assert!(!claims[ns][e].is_null(), "{} {ns}/{e}", v.name);
            }
        }
        let iso = &claims["org.iso.18013.5.1"];
        for date in ["birth_date", "issue_date", "expiry_date"] {
            assert!(is_full_date(&iso[date]), "{} {date}: {}", v.name, iso[date]);
        }
        let portrait = govcred::b64::decode(iso["portrait"].as_str().unwrap(), "portrait").unwrap();
        assert_eq!(&portrait[..3], &[0xff, 0xd8, 0xff], "{}", v.name);
        assert_eq!(&portrait[portrait.len() - 2..], &[0xff, 0xd9], "{}", v.name);

        match expected["status"]["status_list"].as_object() {
            // No status list synced: "not checked", never "revoked".
            Some(sl) => {
                assert_eq!(outcome(&r, "status"), CheckOutcome::NotChecked);
                assert!(r.has_error(ErrorCode::StatusUnknown));
                let status = r.status.as_ref().unwrap();
                assert_eq!(Some(status.index as u64), sl["idx"].as_u64());
                assert_eq!(Some(status.list_uri.as_str()), sl["uri"].as_str());
                assert_eq!(r.outcome, Outcome::CouldNotCheck);
            }
            None => {
                assert!(r.check("status").is_none());
                assert!(r.valid, "{}", r.to_json_pretty());
            }
        }

        // Expired at a later clock.
        let later = mdoc::verify(&cbor, &trust, t("2028-01-01T00:00:00Z"), 60);
        assert!(later.has_error(ErrorCode::Expired), "{}", v.name);
        assert_eq!(outcome(&later, "validity_period"), CheckOutcome::Failed);

        // No trust: signature still verifies with the x5chain key, trust not checked;
        // with an unrelated root: untrusted.
        let none = mdoc::verify(&cbor, &TrustStore::new(), now, 60);
        assert_eq!(outcome(&none, "signature"), CheckOutcome::Passed);
        assert!(none.has_error(ErrorCode::UnknownKey));
        let other = trust_pem(&dir, &["govuk/mdoc/local-iaca-root.pem"]);
        let untrusted = mdoc::verify(&cbor, &other, now, 60);
        assert!(
            untrusted.has_error(ErrorCode::UntrustedIssuer),
            "{}",
            v.name
        );
        assert!(!untrusted.valid);
    }
}

#[test]
fn govuk_indefinite_lengths_and_tampering() {
    let Some(dir) = vectors() else { return };
    let v = &GOVUK[0];
    let cbor = read(&dir, &format!("govuk/mdoc/{}.issuer-signed.cbor", v.name));
    assert_eq!(cbor[0], 0xbf, "the Java issuer's indefinite-length map");
    let trust = trust_pem(&dir, &[&format!("govuk/mdoc/{}.ds-cert.pem", v.name)]);
    let now = t(v.now);
    let doc = mdoc::parse(&cbor).unwrap();
    assert_eq!(doc.name_spaces.len(), 2);
    assert_eq!(doc.issuer_auth.x5chain.len(), 1);

    // An element: "Coarse fish" → "Coarse dish".
    let mut item = cbor.clone();
    let at = find(&cbor, b"Coarse fish");
    item[at + 7] = b'd';
    let r = mdoc::verify(&item, &trust, now, 60);
    assert_eq!(outcome(&r, "digests"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::MalformedInput));
    assert!(r.check("digests").unwrap().detail.contains("type_of_fish"));

    // The signature (followed by the break bytes here).
    let sig = &doc.issuer_auth.signature;
    let at = find(&cbor, sig);
    let mut bad = cbor.clone();
    bad[at + 10] ^= 0x80;
    let r = mdoc::verify(&bad, &trust, now, 60);
    assert_eq!(outcome(&r, "signature"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::SignatureInvalid));

    // Truncated in the middle and at the final break byte.
    for len in [cbor.len() / 2, cbor.len() - 1] {
        let r = mdoc::verify(&cbor[..len], &trust, now, 60);
        assert!(r.has_error(ErrorCode::MalformedInput), "len {len}");
    }
}

// ---- A credential signed here with the GOV.UK LOCAL test DSC (which has no mDL EKU) ----

fn local_secret(dir: &Path) -> [u8; 32] {
    use base64::Engine;
    let pem = text(dir, "govuk/mdoc/local-dsc.TEST-KEY-ONLY.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    // SEC1 ECPrivateKey: 30 77 02 01 01 04 20 <32-byte scalar> ...
    assert_eq!(&der[..7], &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20]);
    der[7..39].try_into().unwrap()
}

fn cbor_bytes(v: &ciborium::Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(v, &mut out).unwrap();
    out
}

fn tag24(v: &ciborium::Value) -> ciborium::Value {
    ciborium::Value::Tag(24, Box::new(ciborium::Value::Bytes(cbor_bytes(v))))
}

fn text_v(s: &str) -> ciborium::Value {
    ciborium::Value::Text(s.into())
}

/// An IssuerSigned built with ciborium and coset (definite lengths), signed by `key`
/// with COSE alg `alg` and the DS certificate `ds_der` as x5chain.
fn build_issuer_signed(key: &SoftwareKey, alg: i64, ds_der: &[u8]) -> Vec<u8> {
    use ciborium::Value as V;
    let ns = "org.iso.18013.5.1";
    let items: Vec<V> = [
        ("family_name", text_v("Smith")),
        ("birth_date", V::Tag(1004, Box::new(text_v("1990-02-03")))),
        ("age_over_18", V::Bool(true)),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, value))| {
        tag24(&V::Map(vec![
            (text_v("digestID"), V::Integer((i as u64 + 100).into())),
            (text_v("random"), V::Bytes(vec![i as u8; 16])),
            (text_v("elementIdentifier"), text_v(name)),
            (text_v("elementValue"), value),
        ]))
    })
    .collect();
    let digests: Vec<(V, V)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            (
                V::Integer((i as u64 + 100).into()),
                V::Bytes(govcred::crypto::sha256(&cbor_bytes(item)).to_vec()),
            )
        })
        .collect();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let jwk = device.public_jwk();
    let coord =
        |c: &Option<String>| V::Bytes(govcred::b64::decode(c.as_deref().unwrap(), "x").unwrap());
    let tdate = |s: &str| V::Tag(0, Box::new(text_v(s)));
    let mso = V::Map(vec![
        (text_v("version"), text_v("1.0")),
        (text_v("digestAlgorithm"), text_v("SHA-256")),
        (
            text_v("valueDigests"),
            V::Map(vec![(text_v(ns), V::Map(digests))]),
        ),
        (
            text_v("deviceKeyInfo"),
            V::Map(vec![(
                text_v("deviceKey"),
                V::Map(vec![
                    (V::Integer(1.into()), V::Integer(2.into())),
                    (V::Integer((-1).into()), V::Integer(1.into())),
                    (V::Integer((-2).into()), coord(&jwk.x)),
                    (V::Integer((-3).into()), coord(&jwk.y)),
                ]),
            )]),
        ),
        (text_v("docType"), text_v("org.iso.18013.5.1.mDL")),
        (
            text_v("validityInfo"),
            V::Map(vec![
                (text_v("signed"), tdate("2026-01-01T00:00:00Z")),
                (text_v("validFrom"), tdate("2026-01-01T00:00:00Z")),
                (text_v("validUntil"), tdate("2026-02-01T00:00:00Z")),
            ]),
        ),
    ]);
    let protected = coset::HeaderBuilder::new()
        .algorithm(if alg == -7 {
            coset::iana::Algorithm::ES256
        } else {
            coset::iana::Algorithm::ES384
        })
        .build();
    let unprotected = coset::HeaderBuilder::new()
        .value(33, V::Bytes(ds_der.to_vec()))
        .build();
    let sign1 = coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(cbor_bytes(&tag24(&mso)))
        .create_signature(&[], |tbs| key.sign(tbs).unwrap())
        .build();
    use coset::AsCborValue;
    let issuer_auth = sign1.to_cbor_value().unwrap();
    cbor_bytes(&V::Map(vec![
        (
            text_v("nameSpaces"),
            V::Map(vec![(text_v(ns), V::Array(items))]),
        ),
        (text_v("issuerAuth"), issuer_auth),
    ]))
}

#[test]
fn local_dsc_without_eku_is_reported_precisely() {
    let Some(dir) = vectors() else { return };
    let key = SoftwareKey::from_secret_bytes(Alg::ES256, &local_secret(&dir)).unwrap();
    let ds = govcred::x509::Certificate::from_pem(&text(&dir, "govuk/mdoc/local-dsc.pem"))
        .unwrap()
        .remove(0);
    let now = t("2026-01-15T00:00:00Z");
    let bytes = build_issuer_signed(&key, -7, ds.der());
    let trust = trust_pem(&dir, &["govuk/mdoc/local-iaca-root.pem"]);
    let r = mdoc::verify(&bytes, &trust, now, 60);
    for check in [
        "format",
        "signature",
        "data_model",
        "digests",
        "validity_period",
    ] {
        assert_eq!(outcome(&r, check), CheckOutcome::Passed, "{check}");
    }
    assert_eq!(outcome(&r, "issuer_key"), CheckOutcome::Failed);
    assert!(r.has_error(ErrorCode::UntrustedIssuer));
    let detail = &r.check("issuer_key").unwrap().detail;
    assert!(
        detail.contains("chains to trusted root") && detail.contains("1.0.18013.5.1.2"),
        "{detail}"
    );
    assert!(!r.valid);
    let claims = r.claims.to_value();
    assert_eq!(claims["org.iso.18013.5.1"]["birth_date"], "1990-02-03");
    assert_eq!(claims["org.iso.18013.5.1"]["age_over_18"], true);

    // Same key, alg ES384 in the protected header: ES384 is accepted only with a P-384
    // DS key (tests/p384.rs), so this P-256 DS gives a key/alg mismatch.
    let es384 = build_issuer_signed(&key, -35, ds.der());
    let r = mdoc::verify(&es384, &trust, now, 60);
    assert!(r.has_error(ErrorCode::KeyAlgMismatch));
    assert_eq!(outcome(&r, "signature"), CheckOutcome::Failed);
}

#[test]
fn every_single_bit_flip_is_refused_without_panic() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let now = t(ANNEX_D_NOW);
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            let r = mdoc::verify(&b, &trust, now, 60);
            assert!(!r.valid, "flip {bit:#04x} at {i} still verifies");
            assert!(!r.errors.is_empty());
        }
    }
}

#[test]
fn verifier_detects_mdoc_in_both_forms() {
    let Some(dir) = vectors() else { return };
    let (bytes, trust) = annex_d(&dir);
    let v = govcred::Verifier::new(trust).with_clock(std::sync::Arc::new(
        govcred::FixedClock::new(t("2021-01-01T00:00:00Z")),
    ));
    for input in [bytes.clone(), govcred::b64::encode(&bytes).into_bytes()] {
        let r = v.verify(&input);
        assert_eq!(r.format, govcred::Format::Mdoc);
        assert!(r.valid, "{}", r.to_json_pretty());
    }
}
