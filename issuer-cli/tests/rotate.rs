//! `govcred keys rotate|retire`: old credentials keep verifying after rotation, and
//! stop once their key is retired.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{govcred, ok_json, s};
use govcred::trust::TrustStore;
use govcred::{FixedClock, Verifier};

fn template(dir: &Path, key: &str, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(
        &p,
        format!(
            "format = \"jwt-vc\"\nissuer = \"https://issuer.example.gov.uk\"\nkey = \"{key}\"\ntype = \"DigitalVeteranCard\"\nid_column = \"id\"\nvalid_for_days = 30\n\n[claims]\ngivenName = {{ column = \"name\" }}\n"
        ),
    )
    .unwrap();
    p
}

fn verifies(site: &Path, credential: &Path) -> bool {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join(".well-known/did.json")).unwrap())
            .unwrap();
    let mut trust = TrustStore::new();
    trust.add_did_document(&doc).unwrap();
    let now = govcred::Clock::now(&govcred::SystemClock);
    let v = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(now)));
    v.verify(std::fs::read(credential).unwrap().as_slice())
        .valid
}

#[test]
fn rotated_keys_verify_old_credentials_until_retired() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let site = dir.join("site");
    let old = ok_json(&["keygen", "--out", s(&dir.join("old.jwk"))]);
    let new = ok_json(&["keygen", "--out", s(&dir.join("new.jwk"))]);
    let (old_kid, new_kid) = (
        old["thumbprint"].as_str().unwrap(),
        new["thumbprint"].as_str().unwrap(),
    );
    ok_json(&[
        "did-web",
        "--domain",
        "issuer.example.gov.uk",
        "--key",
        s(&dir.join("old.jwk")),
        "--out",
        s(&site),
    ]);

    std::fs::write(dir.join("in.csv"), "id,name\na,Alice\n").unwrap();
    let t_old = template(dir, "old.jwk", "old.toml");
    let r = govcred(&[
        "issue-batch",
        "--input",
        s(&dir.join("in.csv")),
        "--template",
        s(&t_old),
        "--out",
        s(&dir.join("b1")),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let old_cred = dir.join("b1/credentials/a.jwt");
    assert!(verifies(&site, &old_cred));

    // Publish the new key ahead of use: both keys in did.json and jwks.json.
    let rot = ok_json(&[
        "keys",
        "rotate",
        "--site",
        s(&site),
        "--key",
        s(&dir.join("new.jwk")),
    ]);
    let roles: Vec<(String, String)> = rot["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().into(),
                k["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            (old_kid.into(), "active".into()),
            (new_kid.into(), "next".into())
        ]
    );
    let jwks: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join(".well-known/jwks.json")).unwrap())
            .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    // A second next key is refused until the first is activated.
    ok_json(&["keygen", "--out", s(&dir.join("third.jwk"))]);
    assert!(!govcred(&[
        "keys",
        "rotate",
        "--site",
        s(&site),
        "--key",
        s(&dir.join("third.jwk"))
    ])
    .status
    .success());

    // Switch signing; the old key stays published and its credential verifies.
    let act = ok_json(&["keys", "rotate", "--site", s(&site), "--activate"]);
    assert_eq!(act["keys"][0]["role"], "previous");
    assert_eq!(act["keys"][1]["role"], "active");
    let t_new = template(dir, "new.jwk", "new.toml");
    std::fs::write(dir.join("in2.csv"), "id,name\nb,Bob\n").unwrap();
    let r = govcred(&[
        "issue-batch",
        "--input",
        s(&dir.join("in2.csv")),
        "--template",
        s(&t_new),
        "--out",
        s(&dir.join("b2")),
    ]);
    assert!(r.status.success());
    let new_cred = dir.join("b2/credentials/b.jwt");
    assert!(verifies(&site, &old_cred), "old credential after rotation");
    assert!(verifies(&site, &new_cred));

    // The active key cannot be retired; the old one not while its credential is unexpired.
    let r = govcred(&[
        "keys",
        "retire",
        "--site",
        s(&site),
        &format!("--kid={new_kid}"),
        "--ledger",
        s(&dir.join("b2/ledger.jsonl")),
    ]);
    assert!(!r.status.success());
    let r = govcred(&[
        "keys",
        "retire",
        "--site",
        s(&site),
        &format!("--kid={old_kid}"),
        "--ledger",
        s(&dir.join("b1/ledger.jsonl")),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("1 unexpired credential"),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(verifies(&site, &old_cred));

    // Forced retirement removes it: the old credential no longer verifies, the new one does.
    let ret = ok_json(&[
        "keys",
        "retire",
        "--site",
        s(&site),
        &format!("--kid={old_kid}"),
        "--ledger",
        s(&dir.join("b1/ledger.jsonl")),
        "--force",
    ]);
    assert_eq!(ret["retired"], old_kid);
    assert_eq!(ret["unexpired_orphaned"], 1);
    assert!(!verifies(&site, &old_cred), "retired key still verifies");
    assert!(verifies(&site, &new_cred));
}
