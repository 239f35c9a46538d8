//! The CWT form through the CLI: `status create --cwt`, `status publish` writing
//! `<path>.cwt`, `status check` and `verify --status` reading it.

mod common;

use common::{govcred, ok_json, s};
use govcred::crypto::{Alg, SoftwareKey};
use govcred::{Clock, Signer, SystemClock};
use serde_json::{json, Value};

#[test]
fn cwt_lists_publish_check_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("status.jwk");
    let out = ok_json(&["keygen", "--out", s(&key)]);
    let public = d.join("status.pub.jwk");
    std::fs::write(&public, out["public_jwk"].to_string()).unwrap();
    let store = d.join("registry");
    let uri = "https://issuer.example.gov.uk/status/mdl-1";
    ok_json(&[
        "status",
        "create",
        "--uri",
        uri,
        "--key",
        s(&key),
        "--store",
        s(&store),
        "--bits",
        "2",
        "--size",
        "1024",
        "--cwt",
    ]);
    let alloc = ok_json(&[
        "status",
        "allocate",
        "--store",
        s(&store),
        "--uri",
        uri,
        "--count",
        "2",
    ]);
    let idx: Vec<u64> = alloc["indices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let revoked = ok_json(&[
        "status",
        "revoke",
        "--store",
        s(&store),
        "--uri",
        uri,
        "--index",
        &idx[0].to_string(),
    ]);
    assert_eq!(revoked["status"], "invalid");

    let site = d.join("site");
    let published = ok_json(&["status", "publish", "--store", s(&store), "--out", s(&site)]);
    let entry = &published["published"][0];
    let cwt_file = std::path::PathBuf::from(entry["cwt_file"].as_str().unwrap());
    assert_eq!(cwt_file, site.join("status/mdl-1.cwt"));
    let bytes = std::fs::read(&cwt_file).unwrap();
    assert_eq!(bytes[0], 0xd2, "a tagged COSE_Sign1");

    let check = ok_json(&[
        "status",
        "check",
        s(&cwt_file),
        "--index",
        &idx[0].to_string(),
        "--index",
        &idx[1].to_string(),
        "--jwk",
        s(&public),
        "--json",
    ]);
    assert_eq!(check["uri"], uri);
    assert_eq!(check["statuses"][0]["status"], "invalid");
    assert_eq!(check["statuses"][1]["status"], "valid");

    // Signed by a key the verifier does not trust: refused.
    let other = d.join("other.jwk");
    let o = ok_json(&["keygen", "--out", s(&other)]);
    let other_pub = d.join("other.pub.jwk");
    std::fs::write(&other_pub, o["public_jwk"].to_string()).unwrap();
    let out = govcred(&[
        "status",
        "check",
        s(&cwt_file),
        "--index",
        "0",
        "--jwk",
        s(&other_pub),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // Tampered: refused.
    let mut tampered = bytes.clone();
    let n = tampered.len();
    tampered[n - 10] ^= 1;
    let tf = d.join("tampered.cwt");
    std::fs::write(&tf, &tampered).unwrap();
    let out = govcred(&[
        "status",
        "check",
        s(&tf),
        "--index",
        "0",
        "--jwk",
        s(&public),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature_invalid"));

    // `publish --cwt` writes the CWT form for lists not created with --cwt too.
    let uri2 = "https://issuer.example.gov.uk/status/sd-1";
    ok_json(&[
        "status",
        "create",
        "--uri",
        uri2,
        "--key",
        s(&key),
        "--store",
        s(&store),
        "--size",
        "64",
    ]);
    let p = ok_json(&["status", "publish", "--store", s(&store), "--out", s(&site)]);
    assert_eq!(
        p["published"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e.get("cwt_file").is_some())
            .count(),
        1
    );
    let p = ok_json(&[
        "status",
        "publish",
        "--store",
        s(&store),
        "--out",
        s(&site),
        "--cwt",
    ]);
    assert!(p["published"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e.get("cwt_file").is_some()));

    // A credential pointing at the list, verified with the CWT as its status list.
    let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
    let did = govcred::did::key::from_jwk(&issuer.public_jwk()).unwrap();
    let now = SystemClock.now();
    for (i, want_ok, state) in [(idx[0], false, "invalid"), (idx[1], true, "valid")] {
        let mut draft = govcred::format::sd_jwt::SdJwtDraft::new(&did, "urn:example:mdl");
        draft.claims = json!({"given_name": "Sarah"}).as_object().unwrap().clone();
        draft.status = Some(json!({"status_list": {"idx": i, "uri": uri}}));
        draft.kid = Some(format!("{did}#{}", did.trim_start_matches("did:key:")));
        let cred = govcred::format::sd_jwt::issue(&draft, None, &issuer, now).unwrap();
        let f = d.join(format!("cred-{i}.sd-jwt"));
        std::fs::write(&f, cred).unwrap();
        let out = govcred(&[
            "verify",
            s(&f),
            "--status",
            s(&cwt_file),
            "--jwk",
            s(&public),
            "--json",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.success(), want_ok, "{report:#}");
        assert_eq!(report["status"]["state"], state, "{report:#}");
    }

    // --cwt is for token lists only.
    let out = govcred(&[
        "status",
        "create",
        "--uri",
        "https://issuer.example.gov.uk/status/b-1",
        "--key",
        s(&key),
        "--store",
        s(&store),
        "--kind",
        "bitstring",
        "--cwt",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
