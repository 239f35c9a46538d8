//! `govcred issue mdoc` (the issue's flags and value typing) → `govcred present mdoc`
//! (DeviceResponse) → `govcred verify --session-transcript`, end to end.

mod common;

use std::path::Path;

use common::{govcred, ok_json, s};

fn setup(dir: &Path) {
    let (iaca, ds, dev) = (dir.join("iaca"), dir.join("ds"), dir.join("holder.jwk"));
    ok_json(&[
        "iaca",
        "create",
        "--country",
        "GB",
        "--common-name",
        "Test IACA",
        "--out",
        s(&iaca),
    ]);
    ok_json(&[
        "iaca",
        "issue-ds",
        "--iaca",
        s(&iaca),
        "--common-name",
        "Test DSC",
        "--out",
        s(&ds),
    ]);
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&dev)]);
    std::fs::write(
        dir.join("mdl.json"),
        r#"{"org.iso.18013.5.1": {"family_name": "Edwards", "given_name": "Sarah",
             "birth_date": "1985-10-18", "age_over_18": true, "portrait": "/9j/4AAQ/9k=",
             "driving_privileges": [{"vehicle_category_code": "B", "issue_date": "2010-01-01"}],
             "issue_date": {"tdate": "2026-01-01T10:00:00Z"},
             "un_distinguishing_sign": {"bytes": "R0I="}},
           "org.iso.18013.5.1.GB": {"licence_since": {"full-date": "2001-02-03"}}}"#,
    )
    .unwrap();
    let out = govcred(&[
        "issue",
        "mdoc",
        "--ds-key",
        s(&ds.join("ds.key")),
        "--ds-cert",
        s(&ds.join("ds.pem")),
        "--doctype",
        "org.iso.18013.5.1.mDL",
        "--claims",
        s(&dir.join("mdl.json")),
        "--holder-key",
        s(&dev),
        "--valid-until",
        "2099-01-01T00:00:00Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("mdl.b64"), &out.stdout).unwrap();
    // [DeviceEngagementBytes, EReaderKeyBytes, Handover] stand-ins.
    std::fs::write(
        dir.join("t1.cbor"),
        [
            0x83, 0xd8, 0x18, 0x41, 0xa0, 0xd8, 0x18, 0x41, 0xa0, 0x81, 0x41, 1,
        ],
    )
    .unwrap();
    std::fs::write(dir.join("t2.cbor"), "83d81841a0d81841a0814102\n").unwrap();
}

fn present(dir: &Path, extra: &[&str]) -> std::process::Output {
    let (file, key, transcript) = (
        dir.join("mdl.b64"),
        dir.join("holder.jwk"),
        dir.join("t1.cbor"),
    );
    let mut args = vec![
        "present",
        "mdoc",
        s(&file),
        "--holder-key",
        s(&key),
        "--session-transcript",
        s(&transcript),
    ];
    args.extend_from_slice(extra);
    govcred(&args)
}

#[test]
fn issue_present_verify_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let iaca = dir.join("iaca/iaca.pem");

    // The issued IssuerSigned verifies, with the typed values.
    let r = ok_json(&[
        "verify",
        s(&dir.join("mdl.b64")),
        "--iaca",
        s(&iaca),
        "--json",
    ]);
    assert_eq!(r["valid"], true, "{r}");
    let ns = &r["claims"]["org.iso.18013.5.1"];
    assert_eq!(ns["portrait"], "_9j_4AAQ_9k");
    assert_eq!(ns["issue_date"], "2026-01-01T10:00:00Z");
    assert_eq!(ns["un_distinguishing_sign"], "R0I");
    assert_eq!(
        r["claims"]["org.iso.18013.5.1.GB"]["licence_since"],
        "2001-02-03"
    );

    let out = present(
        dir,
        &[
            "--disclose",
            "org.iso.18013.5.1/family_name",
            "--disclose",
            "org.iso.18013.5.1/age_over_18",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout[0], 0xa3, "binary CBOR DeviceResponse");
    let resp = dir.join("response.cbor");
    std::fs::write(&resp, &out.stdout).unwrap();

    let r = ok_json(&[
        "verify",
        s(&resp),
        "--iaca",
        s(&iaca),
        "--session-transcript",
        s(&dir.join("t1.cbor")),
        "--json",
    ]);
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["format"], "mdoc");
    assert_eq!(r["types"][0], "org.iso.18013.5.1.mDL");
    assert_eq!(
        r["claims"],
        serde_json::json!({"org.iso.18013.5.1": {"family_name": "Edwards", "age_over_18": true}})
    );
    let device = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "device_auth")
        .unwrap();
    assert_eq!(device["outcome"], "passed");

    // Hex output and hex input.
    let out = present(
        dir,
        &["--disclose", "org.iso.18013.5.1/given_name", "--hex"],
    );
    assert!(out.status.success());
    let hex = dir.join("response.hex");
    std::fs::write(&hex, &out.stdout).unwrap();
    let r = ok_json(&[
        "verify",
        s(&hex),
        "--iaca",
        s(&iaca),
        "--session-transcript",
        s(&dir.join("t1.cbor")),
        "--json",
    ]);
    assert_eq!(r["valid"], true, "{r}");

    // No transcript: could not check (exit 1); another transcript (given as hex): invalid.
    let out = govcred(&["verify", s(&resp), "--iaca", s(&iaca), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "could_not_check");
    assert!(r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "device_auth_unavailable"));
    let out = govcred(&[
        "verify",
        s(&resp),
        "--iaca",
        s(&iaca),
        "--session-transcript",
        s(&dir.join("t2.cbor")),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "invalid");
    // After validUntil: expired.
    let out = govcred(&[
        "verify",
        s(&resp),
        "--iaca",
        s(&iaca),
        "--session-transcript",
        s(&dir.join("t1.cbor")),
        "--at",
        "2099-02-01T00:00:00Z",
        "--json",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "expired"),
        "{r}"
    );
    // Human output mentions the device check.
    let out = govcred(&[
        "verify",
        s(&resp),
        "--iaca",
        s(&iaca),
        "--session-transcript",
        s(&dir.join("t1.cbor")),
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("device_auth"));
}

#[test]
fn present_names_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    setup(dir);
    let out = present(dir, &["--disclose", "org.iso.18013.5.1/height"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("org.iso.18013.5.1/height") && err.contains("invalid_claim"),
        "{err}"
    );
    let out = present(dir, &["--disclose", "family_name"]);
    assert_eq!(out.status.code(), Some(2));
    let out = present(dir, &[]);
    assert_eq!(out.status.code(), Some(2), "--disclose is required");
}
