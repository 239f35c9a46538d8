//! `govcred trust build|show` and `govcred verify --trust`.

mod common;

use common::{govcred, ok_json, s};
use serde_json::Value;

#[test]
fn trust_bundle_build_show_verify_offline() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let (ik, bk, other, store, site) = (p("i.jwk"), p("b.jwk"), p("o.jwk"), p("reg"), p("site"));
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&ik)]);
    let kg = ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&bk)]);
    ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&other)]);
    let bpub = p("b.pub.jwk");
    std::fs::write(&bpub, kg["public_jwk"].to_string()).unwrap();
    let claims = p("c.json");
    std::fs::write(&claims, r#"{"given_name":"Sarah"}"#).unwrap();
    let tsl = "https://issuer.example.gov.uk/t/1";
    let issuer = "https://issuer.example.gov.uk";
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
    let sd = govcred(&[
        "issue",
        "sd-jwt-vc",
        "--key",
        s(&ik),
        "--issuer",
        issuer,
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
    let cred = p("c.sdjwt");
    std::fs::write(&cred, &sd.stdout).unwrap();
    let idx = {
        let t = String::from_utf8(sd.stdout.clone()).unwrap();
        let pl = govcred::jose::Jws::decode(t.split('~').next().unwrap())
            .unwrap()
            .payload_json()
            .unwrap();
        pl["status"]["status_list"]["idx"]
            .as_u64()
            .unwrap()
            .to_string()
    };
    ok_json(&["status", "publish", "--store", s(&store), "--out", s(&site)]);

    let build = |out: &std::path::Path, key: &std::path::Path, valid: &str| {
        let o = govcred(&[
            "trust",
            "build",
            "--jwks",
            &format!("{issuer}={}", s(&ik)),
            "--status",
            &format!("{tsl}={}", s(&site.join("t/1"))),
            "--key",
            s(key),
            "--valid-for",
            valid,
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let bundle = p("bundle.json");
    build(&bundle, &bk, "7d");

    let show = ok_json(&[
        "trust",
        "show",
        s(&bundle),
        "--trust-key",
        s(&bpub),
        "--json",
    ]);
    assert_eq!(show["info"]["status_lists"][0], tsl);
    assert_eq!(show["info"]["jwks_issuers"][0], issuer);
    assert!(show["age_secs"].as_i64().unwrap() < 60);

    let verify = |bundle: &std::path::Path, key: &std::path::Path| -> (i32, Value, String) {
        let o = govcred(&[
            "verify",
            s(&cred),
            "--trust",
            s(bundle),
            "--trust-key",
            s(key),
            "--json",
        ]);
        (
            o.status.code().unwrap(),
            serde_json::from_slice(&o.stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, r, err) = verify(&bundle, &bpub);
    assert_eq!(code, 0, "{r} {err}");
    assert_eq!(r["status"]["state"], "valid");
    assert!(r["trust_bundle"]["age_secs"].as_i64().unwrap() >= 0, "{r}");

    // Revoke, publish, rebuild the bundle: the bundle's list says revoked.
    ok_json(&[
        "status",
        "revoke",
        "--store",
        s(&store),
        "--uri",
        tsl,
        "--index",
        &idx,
    ]);
    ok_json(&["status", "publish", "--store", s(&store), "--out", s(&site)]);
    build(&bundle, &bk, "1h");
    let (code, r, _) = verify(&bundle, &bpub);
    assert_eq!(code, 1, "{r}");
    assert_eq!(r["status"]["state"], "invalid");
    assert_eq!(r["errors"][0]["code"], "status_revoked");

    // Signed by a key that is not pinned: refused (exit 2, names the cause).
    let foreign = p("foreign.json");
    build(&foreign, &other, "1h");
    let (code, _, err) = verify(&foreign, &bpub);
    assert_eq!(code, 2);
    assert!(err.contains("unknown_key"), "{err}");

    // Tampered: refused.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let mut parts: Vec<String> = text.split('.').map(String::from).collect();
    let mut payload: Value =
        serde_json::from_slice(&govcred::b64::decode(&parts[1], "p").unwrap()).unwrap();
    payload["exp"] = Value::from(payload["exp"].as_i64().unwrap() + 86_400 * 365);
    parts[1] = govcred::b64::encode(payload.to_string());
    let tampered = p("tampered.json");
    std::fs::write(&tampered, parts.join(".")).unwrap();
    let (code, _, err) = verify(&tampered, &bpub);
    assert_eq!(code, 2);
    assert!(err.contains("signature_invalid"), "{err}");

    // Expired: checked at a time after its exp.
    let o = govcred(&[
        "verify",
        s(&cred),
        "--trust",
        s(&bundle),
        "--trust-key",
        s(&bpub),
        "--at",
        "2099-01-01T00:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("trust_bundle_expired"));

    // A bundle without its pinned key is not used.
    assert_eq!(
        govcred(&["verify", s(&cred), "--trust", s(&bundle)])
            .status
            .code(),
        Some(2)
    );
}
