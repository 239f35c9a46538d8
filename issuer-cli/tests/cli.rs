//! The `govcred` command line, end to end: keys, did:web, issuing, verifying, exit
//! codes, the demo and the benchmark.

mod common;

use std::path::Path;

use common::{govcred, ok_json, s};
use serde_json::Value;

#[test]
fn keygen_writes_a_private_key_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ["ES256", "EdDSA"] {
        let key = dir.path().join(format!("{alg}.jwk"));
        let out = ok_json(&["keygen", "--alg", alg, "--out", s(&key)]);
        assert!(
            out["public_jwk"].get("d").is_none(),
            "public output carries no private key"
        );
        let did_key = out["did_key"].as_str().unwrap();
        assert!(did_key.starts_with(if alg == "ES256" {
            "did:key:zDn"
        } else {
            "did:key:z6Mk"
        }));
        assert!(out["did_jwk"].as_str().unwrap().starts_with("did:jwk:"));
        let private: Value = serde_json::from_str(&std::fs::read_to_string(&key).unwrap()).unwrap();
        assert!(private.get("d").is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        // Never overwrites a key by accident.
        let again = govcred(&["keygen", "--alg", alg, "--out", s(&key)]);
        assert_eq!(again.status.code(), Some(2));
    }
    assert_eq!(
        govcred(&["keygen", "--alg", "HS256", "--out", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn issue_publish_and_verify_offline() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = dir.path().join("k1.jwk");
    let k2 = dir.path().join("k2.jwk");
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&k1)]);
    ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&k2)]);
    let site = dir.path().join("site");
    let pubd = ok_json(&[
        "did-web",
        "--domain",
        "issuer.example.gov.uk",
        "--key",
        s(&k1),
        "--key",
        s(&k2),
        "--out",
        s(&site),
    ]);
    assert_eq!(pubd["did"], "did:web:issuer.example.gov.uk");
    let did_json = site.join(".well-known/did.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&did_json).unwrap()).unwrap();
    assert_eq!(
        doc["verificationMethod"].as_array().unwrap().len(),
        2,
        "both keys published for rotation"
    );
    assert_eq!(doc["assertionMethod"].as_array().unwrap().len(), 2);
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(site.join(".well-known/jwks.json")).unwrap())
            .unwrap();
    assert_eq!(jwks["keys"][0]["use"], "sig");

    let claims = dir.path().join("claims.json");
    std::fs::write(
        &claims,
        r#"{"serviceNumber":"25057386","serviceBranch":"British Army"}"#,
    )
    .unwrap();
    for key in [&k1, &k2] {
        let out = govcred(&[
            "issue",
            "jwt-vc",
            "--key",
            s(key),
            "--issuer",
            "https://issuer.example.gov.uk",
            "--type",
            "DigitalVeteranCard",
            "--claims",
            s(&claims),
            "--holder",
            "did:key:zDnaeSGfSQMYvnLbLWEubhhGDPoq7pA9MMNvumvbsmMCZovUR",
            "--valid-until",
            "2099-01-01T00:00:00Z",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let cred = dir.path().join("cred.jwt");
        std::fs::write(&cred, &out.stdout).unwrap();

        let report = ok_json(&["verify", s(&cred), "--did-doc", s(&did_json), "--json"]);
        assert_eq!(report["valid"], true, "{report}");
        assert_eq!(report["format"], "jwt-vc");
        assert_eq!(report["issuer"], "https://issuer.example.gov.uk");
        assert_eq!(
            report["types"],
            serde_json::json!(["VerifiableCredential", "DigitalVeteranCard"])
        );
        assert_eq!(report["claims"]["serviceNumber"], "25057386");
        assert!(report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["ok"] == true));

        // Exit 1 for an invalid credential: expired at --at, or no key to check it.
        let late = govcred(&[
            "verify",
            s(&cred),
            "--did-doc",
            s(&did_json),
            "--at",
            "2099-06-01T00:00:00Z",
            "--json",
        ]);
        assert_eq!(late.status.code(), Some(1));
        let r: Value = serde_json::from_slice(&late.stdout).unwrap();
        assert_eq!(r["errors"][0]["code"], "expired");
        let nokey = govcred(&["verify", s(&cred)]);
        assert_eq!(nokey.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&nokey.stdout).contains("COULD NOT CHECK"));
        // Trusting the key directly works too.
        let direct = govcred(&["verify", s(&cred), "--jwk", s(key)]);
        assert_eq!(
            direct.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&direct.stdout)
        );
    }
}

#[test]
fn issue_and_verify_data_integrity() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ed.jwk");
    ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&key)]);
    let claims = dir.path().join("claims.json");
    std::fs::write(&claims, r#"{"serviceNumber":"25057386"}"#).unwrap();
    let out = govcred(&[
        "issue",
        "di-vc",
        "--key",
        s(&key),
        "--type",
        "DigitalVeteranCard",
        "--claims",
        s(&claims),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cred = dir.path().join("cred.json");
    std::fs::write(&cred, &out.stdout).unwrap();
    let report = ok_json(&["verify", s(&cred), "--json"]);
    assert_eq!(report["format"], "di-vc");
    assert_eq!(report["valid"], true, "{report}");
    // eddsa-rdfc-2022 needs an Ed25519 key.
    let es = dir.path().join("es.jwk");
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&es)]);
    let bad = govcred(&[
        "issue",
        "di-vc",
        "--key",
        s(&es),
        "--type",
        "T",
        "--claims",
        s(&claims),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("key_alg_mismatch"));
}

#[test]
fn unreadable_or_unusable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        govcred(&["verify", "/nonexistent/file"]).status.code(),
        Some(2)
    );
    assert_eq!(
        govcred(&["verify", "x", "--at", "yesterday"]).status.code(),
        Some(2)
    );
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{ not json").unwrap();
    assert_eq!(
        govcred(&["verify", "/dev/null", "--did-doc", s(&junk)])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        govcred(&["verify", "/dev/null", "--jwk", s(&junk)])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(govcred(&["no-such-command"]).status.code(), Some(2));
    // Not a credential at all: a verification result (invalid), not a usage error.
    let out = govcred(&["verify", s(&junk), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["errors"][0]["code"], "unsupported_format");
}

#[test]
fn demo_runs_the_main_job() {
    let out = govcred(&["demo"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("VALID — jwt-vc"));
    assert!(text.contains("signature_invalid"));
    assert!(text.contains("expired"));
    assert!(text.contains("VALID — di-vc"));
    assert!(text.contains("VALID — sd-jwt-vc"));
    assert!(text.contains("VALID — mdoc"));
    assert!(text.contains("nonce_mismatch"));
    assert!(text.contains("Demo complete"));
}

#[test]
fn bench_reports_ratios_as_json() {
    // A benchmark smoke test: the numbers are not asserted (speed is measured by
    // `govcred bench --release`, never by tests), only that every row has a ratio.
    let out = ok_json(&[
        "bench", "--json", "--millis", "5", "--rounds", "1", "--format", "jwt-vc",
    ]);
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert!(r["ratio"].as_f64().unwrap() > 0.0);
        assert!(r["raw_per_second"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn sd_jwt_issue_present_verify() {
    let dir = tempfile::tempdir().unwrap();
    let ik = dir.path().join("issuer.jwk");
    let hk = dir.path().join("holder.jwk");
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&ik)]);
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&hk)]);
    let claims = dir.path().join("claims.json");
    std::fs::write(&claims, r#"{"given_name":"Sarah","address":{"locality":"Leeds","country":"GB"},"nationalities":["GB","IE"]}"#).unwrap();
    let out = govcred(&[
        "issue",
        "sd-jwt-vc",
        "--key",
        s(&ik),
        "--issuer",
        "https://issuer.example.gov.uk",
        "--vct",
        "urn:example:pid",
        "--claims",
        s(&claims),
        "--disclose",
        "given_name",
        "--disclose",
        "address.locality",
        "--disclose",
        "nationalities.1",
        "--holder-key",
        s(&hk),
        "--decoys",
        "2",
        "--valid-until",
        "2099-01-01T00:00:00Z",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let issued = dir.path().join("pid.sdjwt");
    std::fs::write(&issued, &out.stdout).unwrap();
    let listed = ok_json(&["present", "sd-jwt", s(&issued), "--list"]);
    let paths: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.contains(&"nationalities.1"));
    let out = govcred(&[
        "present",
        "sd-jwt",
        s(&issued),
        "--disclose",
        "address.locality",
        "--holder-key",
        s(&hk),
        "--aud",
        "https://verifier.example",
        "--nonce",
        "n-123",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pres = dir.path().join("pres.sdjwt");
    std::fs::write(&pres, &out.stdout).unwrap();
    let r = ok_json(&[
        "verify",
        s(&pres),
        "--jwk",
        s(&ik),
        "--aud",
        "https://verifier.example",
        "--nonce",
        "n-123",
        "--json",
    ]);
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["format"], "sd-jwt-vc");
    assert_eq!(r["claims"]["address"]["locality"], "Leeds");
    assert!(r["claims"].get("given_name").is_none());
    // A replayed presentation (another nonce expected) is refused with exit 1.
    let replay = govcred(&[
        "verify",
        s(&pres),
        "--jwk",
        s(&ik),
        "--aud",
        "https://verifier.example",
        "--nonce",
        "n-456",
        "--json",
    ]);
    assert_eq!(replay.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&replay.stdout).unwrap();
    assert_eq!(r["errors"][0]["code"], "nonce_mismatch");
}

#[test]
fn status_lists_issue_revoke_publish_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (ik, hk, store, site) = (
        dir.path().join("i.jwk"),
        dir.path().join("h.jwk"),
        dir.path().join("reg"),
        dir.path().join("site"),
    );
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&ik)]);
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&hk)]);
    let claims = dir.path().join("c.json");
    std::fs::write(
        &claims,
        r#"{"given_name":"Sarah","serviceNumber":"25057386"}"#,
    )
    .unwrap();
    let tsl = "https://issuer.example.gov.uk/t/1";
    let bsl = "https://issuer.example.gov.uk/b/1";
    ok_json(&[
        "status",
        "create",
        "--bits",
        "2",
        "--size",
        "1024",
        "--uri",
        tsl,
        "--key",
        s(&ik),
        "--store",
        s(&store),
    ]);
    ok_json(&[
        "status",
        "create",
        "--bits",
        "2",
        "--size",
        "1024",
        "--uri",
        bsl,
        "--key",
        s(&ik),
        "--kind",
        "bitstring",
        "--issuer",
        "https://issuer.example.gov.uk",
        "--store",
        s(&store),
    ]);
    // Allocation is random and never repeats.
    let a = ok_json(&[
        "status",
        "allocate",
        "--store",
        s(&store),
        "--uri",
        tsl,
        "--count",
        "50",
    ]);
    let mut idx: Vec<u64> = a["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let sorted_in_order = idx.windows(2).all(|w| w[0] < w[1]);
    idx.sort();
    idx.dedup();
    assert_eq!(idx.len(), 50);
    assert!(!sorted_in_order, "indices are not handed out sequentially");

    // One SD-JWT VC on the token list, one JWT VC on the bitstring list.
    let sd = govcred(&[
        "issue",
        "sd-jwt-vc",
        "--key",
        s(&ik),
        "--issuer",
        "https://issuer.example.gov.uk",
        "--vct",
        "urn:t",
        "--claims",
        s(&claims),
        "--disclose",
        "given_name",
        "--status-store",
        s(&store),
        "--status-uri",
        tsl,
    ]);
    assert!(
        sd.status.success(),
        "{}",
        String::from_utf8_lossy(&sd.stderr)
    );
    let jv = govcred(&[
        "issue",
        "jwt-vc",
        "--key",
        s(&ik),
        "--issuer",
        "https://issuer.example.gov.uk",
        "--type",
        "T",
        "--claims",
        s(&claims),
        "--status-store",
        s(&store),
        "--status-uri",
        bsl,
    ]);
    assert!(
        jv.status.success(),
        "{}",
        String::from_utf8_lossy(&jv.stderr)
    );
    let (sd_file, jv_file) = (dir.path().join("c.sdjwt"), dir.path().join("c.jwt"));
    std::fs::write(&sd_file, &sd.stdout).unwrap();
    std::fs::write(&jv_file, &jv.stdout).unwrap();
    let sd_idx = {
        let t = String::from_utf8(sd.stdout.clone()).unwrap();
        let p = govcred::jose::Jws::decode(t.split('~').next().unwrap())
            .unwrap()
            .payload_json()
            .unwrap();
        p["status"]["status_list"]["idx"]
            .as_u64()
            .unwrap()
            .to_string()
    };

    let publish = |expect: usize| {
        let p = ok_json(&["status", "publish", "--store", s(&store), "--out", s(&site)]);
        assert_eq!(p["published"].as_array().unwrap().len(), expect);
    };
    publish(2);
    let (tsl_file, bsl_file) = (site.join("t/1"), site.join("b/1"));
    let verify = |cred: &Path, extra: &[&str]| -> (i32, Value) {
        let mut args = vec![
            "verify",
            s(cred),
            "--jwk",
            s(&ik),
            "--status",
            s(&tsl_file),
            "--status",
            s(&bsl_file),
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = govcred(&args);
        (
            out.status.code().unwrap(),
            serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        )
    };
    for cred in [&sd_file, &jv_file] {
        let (code, r) = verify(cred, &[]);
        assert_eq!(code, 0, "{r}");
        assert_eq!(r["status"]["state"], "valid", "{r}");
        assert!(r["status"]["list_age_secs"].as_i64().unwrap() >= 0);
    }
    // Without the list: status unknown — could not check, never "revoked".
    let out = govcred(&["verify", s(&sd_file), "--jwk", s(&ik), "--json"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["outcome"], "could_not_check");
    assert_eq!(r["status"]["state"], "unknown");
    assert_eq!(r["errors"][0]["code"], "status_unknown");

    // Suspend, then reinstate, then revoke (final).
    ok_json(&[
        "status",
        "suspend",
        "--store",
        s(&store),
        "--uri",
        tsl,
        "--index",
        &sd_idx,
    ]);
    publish(2);
    let (code, r) = verify(&sd_file, &[]);
    assert_eq!(
        (code, r["errors"][0]["code"].as_str()),
        (1, Some("status_suspended")),
        "{r}"
    );
    ok_json(&[
        "status",
        "reinstate",
        "--store",
        s(&store),
        "--uri",
        tsl,
        "--index",
        &sd_idx,
    ]);
    ok_json(&[
        "status",
        "revoke",
        "--store",
        s(&store),
        "--uri",
        tsl,
        "--index",
        &sd_idx,
    ]);
    assert_eq!(
        govcred(&[
            "status",
            "reinstate",
            "--store",
            s(&store),
            "--uri",
            tsl,
            "--index",
            &sd_idx
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        govcred(&[
            "status",
            "revoke",
            "--store",
            s(&store),
            "--uri",
            tsl,
            "--index",
            "99999"
        ])
        .status
        .code(),
        Some(2)
    );
    publish(2);
    let (code, r) = verify(&sd_file, &[]);
    assert_eq!(
        (
            code,
            r["errors"][0]["code"].as_str(),
            r["status"]["state"].as_str()
        ),
        (1, Some("status_revoked"), Some("invalid")),
        "{r}"
    );
    let c = ok_json(&[
        "status",
        "check",
        s(&tsl_file),
        "--index",
        &sd_idx,
        "--jwk",
        s(&ik),
        "--json",
    ]);
    assert_eq!(c["statuses"][0]["status"], "invalid");
    // The JWT VC on the other list is unaffected; long after the lists' exp it is stale.
    assert_eq!(verify(&jv_file, &[]).0, 0);
    let (code, r) = verify(&jv_file, &["--at", "2099-01-01T00:00:00Z"]);
    assert_eq!(code, 1);
    assert!(
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "status_list_stale"),
        "{r}"
    );
    // A list signed by someone else is refused.
    let other = dir.path().join("o.jwk");
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&other)]);
    let out = govcred(&[
        "verify",
        s(&sd_file),
        "--jwk",
        s(&other),
        "--status",
        s(&tsl_file),
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn mdoc_and_x5c_from_a_generated_iaca() {
    let dir = tempfile::tempdir().unwrap();
    let (iaca, ds, dev) = (
        dir.path().join("iaca"),
        dir.path().join("ds"),
        dir.path().join("device.jwk"),
    );
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
    let claims = dir.path().join("mdl.json");
    std::fs::write(
        &claims,
        r#"{"org.iso.18013.5.1": {"family_name": "Edwards", "birth_date": "1985-10-18", "age_over_18": true},
           "org.iso.18013.5.1.GB": {"welsh_licence": false}}"#,
    )
    .unwrap();
    let out = govcred(&[
        "issue",
        "mdoc",
        "--ds",
        s(&ds),
        "--doctype",
        "org.iso.18013.5.1.mDL",
        "--claims",
        s(&claims),
        "--device-key",
        s(&dev),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mdoc = dir.path().join("mdl.b64");
    std::fs::write(&mdoc, &out.stdout).unwrap();
    let iaca_pem = iaca.join("iaca.pem");
    let r = ok_json(&["verify", s(&mdoc), "--iaca", s(&iaca_pem), "--json"]);
    assert_eq!(r["format"], "mdoc");
    assert_eq!(r["valid"], true, "{r}");
    assert_eq!(r["claims"]["org.iso.18013.5.1"]["birth_date"], "1985-10-18");
    // Without the IACA: could not check, exit 1.
    assert_eq!(govcred(&["verify", s(&mdoc)]).status.code(), Some(1));

    // The same DS key signs an SD-JWT VC carrying its certificate as x5c.
    let sd_claims = dir.path().join("c.json");
    std::fs::write(&sd_claims, r#"{"given_name": "Sarah"}"#).unwrap();
    let out = govcred(&[
        "issue",
        "sd-jwt-vc",
        "--key",
        s(&ds.join("ds.key")),
        "--issuer",
        "https://issuer.example.gov.uk",
        "--vct",
        "urn:t",
        "--claims",
        s(&sd_claims),
        "--x5c",
        s(&ds.join("ds.pem")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sd = dir.path().join("c.sdjwt");
    std::fs::write(&sd, &out.stdout).unwrap();
    let r = ok_json(&["verify", s(&sd), "--iaca", s(&iaca_pem), "--json"]);
    assert_eq!(r["valid"], true, "{r}");
    assert!(
        r["checks"][2]["detail"]
            .as_str()
            .unwrap()
            .contains("Test DSC"),
        "{r}"
    );
}
