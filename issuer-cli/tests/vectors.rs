//! `test-vectors/`: the vectors govcred publishes. They must verify to their recorded
//! reports, and regenerating them must reproduce them (byte for byte, except ECDSA
//! signatures, which are randomised by design: those tokens must keep the same header
//! and payload and still verify to the same report).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use govcred::trust::TrustStore;
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

const SETS: [(&str, usize); 2] = [("jwt-vc", 13), ("sd-jwt-vc", 9)];

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
        let at = datetime::parse(case["verify_at"].as_str().unwrap(), "verify_at").unwrap();
        let mut verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(at)));
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
    for f in files {
        // Text files: compare as text so a failure shows a readable difference.
        assert_eq!(
            std::fs::read_to_string(old.join(&f)).unwrap(),
            std::fs::read_to_string(new.join(&f)).unwrap(),
            "{f} changed: run `cargo run -p govcred-cli -- vectors` and review the diff"
        );
    }
}
