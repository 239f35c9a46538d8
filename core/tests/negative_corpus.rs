//! The hostile-input corpus `test-vectors/negative/` (issue "hardening"): every file
//! is an attack with the error a correct verifier reports. Each must be refused with
//! exactly that code among its errors, never accepted, never panicking.

use std::path::PathBuf;
use std::sync::Arc;

use govcred::trust::TrustStore;
use govcred::{datetime, FixedClock, Verifier};
use serde_json::Value;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-vectors/negative")
}

#[test]
fn every_attack_is_refused_with_its_code() {
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(corpus())
        .expect("test-vectors/negative exists (regenerate with `govcred vectors`)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    entries.sort();
    for path in entries {
        let case: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = case["attack"].as_str().unwrap();
        let (trust, _refused) = TrustStore::from_description(&case["trust"]).unwrap();
        let at = datetime::parse(case["verify_at"].as_str().unwrap(), "verify_at").unwrap();
        let input = case["input"].as_str().unwrap();
        let report = Verifier::new(trust)
            .with_clock(Arc::new(FixedClock::new(at)))
            .verify(input.as_bytes());
        let codes: Vec<Value> = report
            .errors
            .iter()
            .map(|e| serde_json::to_value(e.code).unwrap())
            .collect();
        assert!(!report.valid, "{name}: accepted");
        assert!(
            codes.contains(&case["expected_error"]),
            "{name}: expected {} among {codes:?}",
            case["expected_error"]
        );
        seen += 1;
    }
    assert!(seen >= 15, "only {seen} attacks in the corpus");
}
