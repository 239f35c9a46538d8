//! ES256 signing with a key inside a PKCS#11 token (SoftHSM2), through the binary.
//!
//! Needs SoftHSM2 (`scripts/install-test-deps` installs it). Without it the tests
//! skip with a note, except in CI (`CI` set), where its absence fails them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use common::s;
use govcred::crypto::Jwk;
use govcred::trust::TrustStore;
use govcred::{FixedClock, Verifier};
use serde_json::Value;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

fn softhsm_available() -> bool {
    let present = Path::new(MODULE).exists()
        && Command::new("softhsm2-util")
            .arg("--version")
            .output()
            .is_ok();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "SoftHSM2 is missing in CI: run scripts/install-test-deps"
        );
        eprintln!(
            "note: SoftHSM2 not installed (scripts/install-test-deps): PKCS#11 tests skipped"
        );
    }
    present
}

/// A fresh token in a temp dir: (its SOFTHSM2_CONF, the dir).
fn token(dir: &Path, label: &str) -> PathBuf {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            "1234",
            "--so-pin",
            "5678",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    conf
}

fn run(conf: &Path, pin: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcred"))
        .env("SOFTHSM2_CONF", conf)
        .env("PKCS11_PIN", pin)
        .env("PKCS11_MODULE", MODULE)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn hsm_key_signs_a_jwt_vc_that_verifies_and_never_leaves_the_token() {
    if !softhsm_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let conf = token(dir, "govcred-test");
    let uri = "pkcs11:token=govcred-test;object=issuer-2026";

    let out = run(&conf, "1234", &["keygen", "--pkcs11", uri]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kg: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        kg["extractable"], false,
        "the private key must not be extractable"
    );
    assert!(kg["public_jwk"].get("d").is_none());
    // A second key with the same label is refused.
    assert!(!run(&conf, "1234", &["keygen", "--pkcs11", uri])
        .status
        .success());

    // Issue a small batch signed in the token.
    std::fs::write(
        dir.join("t.toml"),
        "format = \"jwt-vc\"\ntype = \"DigitalVeteranCard\"\nid_column = \"id\"\n\n[claims]\ngivenName = { column = \"name\" }\n",
    )
    .unwrap();
    std::fs::write(dir.join("in.csv"), "id,name\na,Alice\nb,Bob\nc,Carol\n").unwrap();
    let out = run(
        &conf,
        "1234",
        &[
            "issue-batch",
            "--input",
            s(&dir.join("in.csv")),
            "--template",
            s(&dir.join("t.toml")),
            "--out",
            s(&dir.join("out")),
            "--key",
            uri,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Verified with the public key alone.
    let jwk = Jwk::from_json(&kg["public_jwk"].to_string()).unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&jwk).unwrap();
    let now = govcred::Clock::now(&govcred::SystemClock);
    let verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(now)));
    for row in ["a", "b", "c"] {
        let text = std::fs::read_to_string(dir.join(format!("out/credentials/{row}.jwt"))).unwrap();
        let report = verifier.verify(text.as_bytes());
        assert!(report.valid, "{row}: {report:?}");
    }

    // A wrong PIN is a clear error, not a panic.
    let out = run(
        &conf,
        "0000",
        &[
            "issue-batch",
            "--input",
            s(&dir.join("in.csv")),
            "--template",
            s(&dir.join("t.toml")),
            "--out",
            s(&dir.join("out2")),
            "--key",
            uri,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("login"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
