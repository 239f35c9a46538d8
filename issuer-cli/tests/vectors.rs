//! `test-vectors/`: the vectors govcred publishes. They must verify to their recorded
//! reports, and regenerating them must reproduce them (byte for byte, except ECDSA
//! signatures, which are randomised by design: those tokens must keep the same header
//! and payload and still verify to the same report).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use govcred::format::mdoc::{self, SessionTranscript};
use govcred::trust::TrustStore;
use govcred::x509::Certificate;
use govcred::{datetime, FixedClock, Verifier};
use serde_json::Value;

fn published() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

const SETS: [(&str, usize); 3] = [("jwt-vc", 13), ("sd-jwt-vc", 9), ("mdoc", 7)];

fn check_dir(root: &Path) {
    for (set, min_cases) in SETS {
        check_set(&root.join(set), min_cases);
    }
}

fn check_set(dir: &Path, min_cases: usize) {
    let manifest = read_json(&dir.join("manifest.json"));
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= min_cases, "{}", dir.display());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let token = std::fs::read(dir.join(case["credential"].as_str().unwrap())).unwrap();
        let mut trust = TrustStore::new();
        for d in case["trusted_did_documents"]
            .as_array()
            .into_iter()
            .flatten()
        {
            trust
                .add_did_document(&read_json(&dir.join(d.as_str().unwrap())))
                .unwrap();
        }
        for j in case["trusted_jwks"].as_array().into_iter().flatten() {
            trust
                .add_jwk(
                    &serde_json::from_value(read_json(&dir.join(j.as_str().unwrap()))).unwrap(),
                )
                .unwrap();
        }
        for c in case["trusted_iacas"].as_array().into_iter().flatten() {
            trust
                .add_root_certificates_pem(
                    &std::fs::read_to_string(dir.join(c.as_str().unwrap())).unwrap(),
                )
                .unwrap();
        }
        let at = datetime::parse(case["verify_at"].as_str().unwrap(), "verify_at").unwrap();
        let mut verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(at)));
        if let Some(t) = case["session_transcript"].as_str() {
            verifier = verifier.with_session_transcript(
                SessionTranscript::from_cbor(&std::fs::read(dir.join(t)).unwrap()).unwrap(),
            );
        }
        if let (Some(aud), Some(nonce)) = (
            case["expected_audience"].as_str(),
            case["expected_nonce"].as_str(),
        ) {
            verifier = verifier.with_key_binding(aud, nonce);
        }
        let report = verifier.verify(&token);
        let expected = read_json(&dir.join(case["expected_report"].as_str().unwrap()));
        assert_eq!(serde_json::to_value(&report).unwrap(), expected, "{name}");
        assert_eq!(
            report.valid,
            case["expected_valid"].as_bool().unwrap(),
            "{name}"
        );
        let codes: Vec<Value> = report
            .errors
            .iter()
            .map(|e| serde_json::to_value(e.code).unwrap())
            .collect();
        assert_eq!(Value::from(codes), case["expected_error_codes"], "{name}");
    }
}

#[test]
fn published_vectors_verify_to_their_reports() {
    check_dir(&published());
}

#[test]
fn regenerating_reproduces_the_published_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(["vectors", "--out", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_dir(tmp.path());
    for (set, _) in SETS {
        compare_set(&published().join(set), &tmp.path().join(set));
    }
    // The hostile-input corpus is Ed25519 throughout: reproduced byte for byte.
    let negative = published().join("negative");
    let mut n = 0;
    for entry in std::fs::read_dir(&negative).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("negative").join(&name)).unwrap(),
            std::fs::read_to_string(negative.join(&name)).unwrap(),
            "negative/{}",
            name.to_string_lossy()
        );
        n += 1;
    }
    assert_eq!(
        std::fs::read_dir(tmp.path().join("negative"))
            .unwrap()
            .count(),
        n,
        "the regenerated corpus has files the published one lacks"
    );
}

fn compare_set(old: &Path, new: &Path) {
    let manifest = read_json(&old.join("manifest.json"));
    assert_eq!(read_json(&new.join("manifest.json")), manifest, "manifest");
    let mut files = Vec::new();
    if old.join("did.json").exists() {
        files.push("did.json".to_string());
    }
    for entry in std::fs::read_dir(old.join("keys")).unwrap() {
        files.push(format!(
            "keys/{}",
            entry.unwrap().file_name().to_string_lossy()
        ));
    }
    for case in manifest["cases"].as_array().unwrap() {
        files.push(case["expected_report"].as_str().unwrap().to_string());
        let cred = case["credential"].as_str().unwrap();
        if case["reproducible"].as_bool().unwrap() {
            files.push(cred.to_string());
        } else if cred.ends_with(".cbor") || cred.ends_with(".b64") {
            // mdoc: everything but the ECDSA signatures.
            assert_eq!(
                mdoc_without_signatures(&std::fs::read(old.join(cred)).unwrap()),
                mdoc_without_signatures(&std::fs::read(new.join(cred)).unwrap()),
                "{cred}: items, MSO, headers and certificates (to be signed) are stable"
            );
        } else {
            // ECDSA: same header and payload (and, for SD-JWT, disclosures).
            let a = std::fs::read_to_string(old.join(cred)).unwrap();
            let b = std::fs::read_to_string(new.join(cred)).unwrap();
            let strip = |t: &str| -> String {
                let (jwt, rest) = t.split_once('~').unwrap_or((t, ""));
                format!("{}~{rest}", jwt.rsplit_once('.').unwrap().0)
            };
            assert_eq!(
                strip(&a),
                strip(&b),
                "{cred}: header, payload and disclosures are stable"
            );
        }
    }
    for entry in std::fs::read_dir(old).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".pem") {
            assert_eq!(
                pem_tbs(&old.join(&name)),
                pem_tbs(&new.join(&name)),
                "{name}: the to-be-signed certificate is stable"
            );
        } else if name.starts_with("session-transcript") {
            assert_eq!(
                std::fs::read(old.join(&name)).unwrap(),
                std::fs::read(new.join(&name)).unwrap(),
                "{name}"
            );
        } else if name == "claims.json" {
            files.push(name);
        }
    }
    for f in files {
        // Text files: compare as text so a failure shows a readable difference.
        assert_eq!(
            std::fs::read_to_string(old.join(&f)).unwrap(),
            std::fs::read_to_string(new.join(&f)).unwrap(),
            "{f} changed: run `cargo run -p govcred-cli -- vectors` and review the diff"
        );
    }
}

/// A DER certificate's `tbsCertificate` (the signed part).
fn tbs(der: &[u8]) -> Vec<u8> {
    fn header(b: &[u8]) -> (usize, usize) {
        let l = b[1];
        if l < 0x80 {
            (2, usize::from(l))
        } else {
            let n = usize::from(l & 0x7f);
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
            (2 + n, len)
        }
    }
    let (h, _) = header(der);
    let inner = &der[h..];
    let (h2, l2) = header(inner);
    inner[..h2 + l2].to_vec()
}

fn pem_tbs(path: &Path) -> Vec<Vec<u8>> {
    Certificate::from_pem(&std::fs::read_to_string(path).unwrap())
        .unwrap()
        .iter()
        .map(|c| tbs(c.der()))
        .collect()
}

/// The parts of an mdoc (IssuerSigned or DeviceResponse) that are not ECDSA signatures.
fn mdoc_without_signatures(bytes: &[u8]) -> Vec<Vec<u8>> {
    let issuer_parts = |doc: &mdoc::IssuerSigned, out: &mut Vec<Vec<u8>>| {
        for (ns, items) in &doc.name_spaces {
            out.push(ns.as_bytes().to_vec());
            out.extend(items.iter().map(|i| i.tagged_bytes.clone()));
        }
        out.push(doc.issuer_auth.protected.clone());
        out.push(doc.issuer_auth.payload.clone());
        out.extend(doc.issuer_auth.x5chain.iter().map(|c| tbs(c.der())));
    };
    let mut out = Vec::new();
    if let Ok(dr) = mdoc::parse_device_response(bytes) {
        out.push(dr.version.into_bytes());
        for d in &dr.documents {
            out.push(d.doc_type.as_bytes().to_vec());
            out.push(d.device_signed.name_spaces_bytes.clone());
            issuer_parts(&d.issuer_signed, &mut out);
        }
    } else {
        issuer_parts(&mdoc::parse(bytes).unwrap(), &mut out);
    }
    out
}
