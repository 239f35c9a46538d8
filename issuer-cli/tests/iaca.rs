//! `govcred iaca create` and `govcred iaca issue-ds`, end to end.

mod common;

use std::path::Path;

use common::{govcred, ok_json, s};
use govcred::crypto::{Jwk, SoftwareKey};
use govcred::x509::{verify_chain, Certificate, EKU_MDL_DS};

fn cert(path: &Path) -> Certificate {
    let mut certs = Certificate::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(certs.len(), 1);
    certs.remove(0)
}

fn key(path: &Path) -> SoftwareKey {
    SoftwareKey::from_jwk(&Jwk::from_json(&std::fs::read_to_string(path).unwrap()).unwrap())
        .unwrap()
}

#[cfg(unix)]
fn assert_0600(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
}

#[cfg(not(unix))]
fn assert_0600(_: &Path) {}

#[test]
fn create_and_issue_ds_chain() {
    let dir = tempfile::tempdir().unwrap();
    let iaca_dir = dir.path().join("iaca");
    let ds_dir = dir.path().join("ds");

    let out = ok_json(&[
        "iaca",
        "create",
        "--country",
        "GB",
        "--common-name",
        "mDL Example IACA Root - TEST environment",
        "--out",
        s(&iaca_dir),
        "--issuer-alt-uri",
        "https://wallet-onboarding.example.gov.uk",
    ]);
    assert_eq!(
        out["subject"],
        "CN=mDL Example IACA Root - TEST environment,C=GB"
    );
    assert_0600(&iaca_dir.join("iaca.key"));
    let iaca = cert(&iaca_dir.join("iaca.pem"));
    assert_eq!(out["sha256_fingerprint"], iaca.sha256_fingerprint());
    assert_eq!(iaca.not_after() - iaca.not_before(), 3288 * 86_400);
    assert!(out["not_before"].as_str().unwrap().ends_with('Z'));
    assert!(out["not_after"].is_string());
    assert!(iaca.is_ca());
    let iaca_key = key(&iaca_dir.join("iaca.key"));
    assert_eq!(&iaca.public_key().unwrap(), iaca_key.verifying_key());

    let out = ok_json(&[
        "iaca",
        "issue-ds",
        "--iaca",
        s(&iaca_dir),
        "--common-name",
        "Example DSC (TEST)",
        "--out",
        s(&ds_dir),
    ]);
    assert_eq!(out["subject"], "CN=Example DSC (TEST),C=GB");
    assert_0600(&ds_dir.join("ds.key"));
    let ds = cert(&ds_dir.join("ds.pem"));
    assert_eq!(out["sha256_fingerprint"], ds.sha256_fingerprint());
    assert_eq!(ds.not_after() - ds.not_before(), 458 * 86_400);
    assert_eq!(ds.issuer(), iaca.subject());
    let ds_key = key(&ds_dir.join("ds.key"));
    let now = ds.not_before() + 60;
    let chained = verify_chain(&[ds], &[iaca], now, 60, Some(EKU_MDL_DS)).unwrap();
    assert_eq!(&chained, ds_key.verifying_key());
}

#[test]
fn overwrite_refused_and_bad_input_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let iaca_dir = dir.path().join("iaca");
    let create = |country: &str| {
        govcred(&[
            "iaca",
            "create",
            "--country",
            country,
            "--common-name",
            "IACA",
            "--out",
            s(&iaca_dir),
            "--days",
            "30",
        ])
    };
    assert!(create("GB").status.success());
    let before = std::fs::read(iaca_dir.join("iaca.key")).unwrap();
    let pem_before = std::fs::read(iaca_dir.join("iaca.pem")).unwrap();

    let again = create("GB");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    assert_eq!(std::fs::read(iaca_dir.join("iaca.key")).unwrap(), before);
    assert_eq!(
        std::fs::read(iaca_dir.join("iaca.pem")).unwrap(),
        pem_before
    );

    // issue-ds refuses to overwrite too.
    let ds_dir = dir.path().join("ds");
    let issue = || {
        govcred(&[
            "iaca",
            "issue-ds",
            "--iaca",
            s(&iaca_dir),
            "--common-name",
            "DS",
            "--out",
            s(&ds_dir),
            "--days",
            "10",
        ])
    };
    assert!(issue().status.success());
    assert_eq!(issue().status.code(), Some(2));

    // Bad country, empty name, zero days, missing IACA: exit 2, nothing written.
    let other = dir.path().join("other");
    let out = govcred(&[
        "iaca",
        "create",
        "--country",
        "gb",
        "--common-name",
        "IACA",
        "--out",
        s(&other),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_claim"));
    let out = govcred(&[
        "iaca",
        "create",
        "--country",
        "GB",
        "--common-name",
        "",
        "--out",
        s(&other),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = govcred(&[
        "iaca",
        "create",
        "--country",
        "GB",
        "--common-name",
        "IACA",
        "--out",
        s(&other),
        "--days",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!other.join("iaca.key").exists());
    let out = govcred(&[
        "iaca",
        "issue-ds",
        "--iaca",
        s(&other),
        "--common-name",
        "DS",
        "--out",
        s(&dir.path().join("ds2")),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
