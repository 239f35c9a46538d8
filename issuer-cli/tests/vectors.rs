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

fn check_dir(dir: &Path) {
    let manifest = read_json(&dir.join("jwt-vc/manifest.json"));
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() >= 13);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let token = std::fs::read(
            dir.join("jwt-vc")
                .join(case["credential"].as_str().unwrap()),
        )
        .unwrap();
        let mut trust = TrustStore::new();
        for d in case["trusted_did_documents"].as_array().unwrap() {
            trust
                .add_did_document(&read_json(&dir.join("jwt-vc").join(d.as_str().unwrap())))
                .unwrap();
        }
        let at = datetime::parse(case["verify_at"].as_str().unwrap(), "verify_at").unwrap();
        let report = Verifier::new(trust)
            .with_clock(Arc::new(FixedClock::new(at)))
            .verify(&token);
        let expected = read_json(
            &dir.join("jwt-vc")
                .join(case["expected_report"].as_str().unwrap()),
        );
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
    let old = published().join("jwt-vc");
    let new = tmp.path().join("jwt-vc");
    let manifest = read_json(&old.join("manifest.json"));
    assert_eq!(read_json(&new.join("manifest.json")), manifest, "manifest");
    let mut files = vec!["did.json".to_string()];
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
            let a = std::fs::read_to_string(old.join(cred)).unwrap();
            let b = std::fs::read_to_string(new.join(cred)).unwrap();
            let (ah, _) = a.rsplit_once('.').unwrap();
            let (bh, _) = b.rsplit_once('.').unwrap();
            assert_eq!(ah, bh, "{cred}: header and payload are stable");
        }
    }
    for f in files {
        assert_eq!(
            std::fs::read(old.join(&f)).unwrap(),
            std::fs::read(new.join(&f)).unwrap(),
            "{f} changed: run `cargo run -p govcred-cli -- vectors` and review the diff"
        );
    }
}
