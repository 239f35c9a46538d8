//! `govcred wallet`: add (verified or `--unverified`), list, show, delete, wipe, from
//! the shell, on a software-protected store.

mod common;

use std::path::Path;

use common::{govcred, ok_json, s};

fn issue_jwt(
    dir: &Path,
    key: &Path,
    name: &str,
    service_number: &str,
    valid_until: &str,
) -> std::path::PathBuf {
    let claims = dir.join(format!("{name}.claims.json"));
    std::fs::write(
        &claims,
        format!(r#"{{"serviceNumber":"{service_number}","name":[{{"nameParts":[{{"type":"GivenName","value":"Sarah"}},{{"type":"FamilyName","value":"Edwards"}}]}}]}}"#),
    )
    .unwrap();
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
        "--valid-until",
        valid_until,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.join(format!("{name}.jwt"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn add_list_show_delete_wipe() {
    let dir = tempfile::tempdir().unwrap();
    let (key, other) = (dir.path().join("k.jwk"), dir.path().join("other.jwk"));
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&key)]);
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&other)]);
    let store = dir.path().join("wallet");
    let card = issue_jwt(dir.path(), &key, "card", "25057386", "2099-01-01T00:00:00Z");
    let short = issue_jwt(
        dir.path(),
        &key,
        "short",
        "11112222",
        "2030-01-01T00:00:00Z",
    );

    // Without the issuer's key it does not verify: refused (exit 1), nothing stored.
    let out = govcred(&["wallet", "add", s(&card), "--store", s(&store)]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--unverified"));
    assert_eq!(
        govcred(&["wallet", "list", "--store", s(&store)])
            .status
            .code(),
        Some(2)
    );

    // With it: stored; adding again gives the same id.
    let added = ok_json(&[
        "wallet",
        "add",
        s(&card),
        "--store",
        s(&store),
        "--jwk",
        s(&key),
        "--json",
    ]);
    let id = added["id"].as_str().unwrap().to_string();
    assert_eq!(added["verified"], true);
    assert_eq!(added["state"], "valid");
    let again = ok_json(&[
        "wallet",
        "add",
        s(&card),
        "--store",
        s(&store),
        "--jwk",
        s(&key),
        "--json",
    ]);
    assert_eq!(again["id"], id.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.join("store.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "key protector file");
    }

    // Signed by another key than the one trusted: stored only with --unverified.
    let forged = issue_jwt(
        dir.path(),
        &other,
        "forged",
        "99990000",
        "2099-01-01T00:00:00Z",
    );
    let out = govcred(&[
        "wallet",
        "add",
        s(&forged),
        "--store",
        s(&store),
        "--jwk",
        s(&key),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let forged_id = ok_json(&[
        "wallet",
        "add",
        s(&forged),
        "--store",
        s(&store),
        "--unverified",
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let short_id = ok_json(&[
        "wallet",
        "add",
        s(&short),
        "--store",
        s(&store),
        "--jwk",
        s(&key),
        "--json",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();

    let listing = ok_json(&["wallet", "list", "--store", s(&store), "--json"]);
    let creds = listing["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 3);
    assert!(listing["corrupt"].as_array().unwrap().is_empty());
    assert_eq!(creds[0]["id"], id.as_str());
    assert_eq!(creds[0]["display"]["holder_name"], "Sarah Edwards");
    assert_eq!(creds[0]["types"][1], "DigitalVeteranCard");

    // Lifecycle at another time: the short one has expired and offers a refresh.
    let later = ok_json(&[
        "wallet",
        "list",
        "--store",
        s(&store),
        "--json",
        "--at",
        "2031-01-01T00:00:00Z",
        "--state",
        "expired",
    ]);
    let expired = later["credentials"].as_array().unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0]["id"], short_id.as_str());
    assert_eq!(expired[0]["show_as_invalid"], true);
    assert_eq!(expired[0]["offer_refresh"], true);
    let typed = ok_json(&[
        "wallet",
        "list",
        "--store",
        s(&store),
        "--json",
        "--type",
        "Nothing",
    ]);
    assert!(typed["credentials"].as_array().unwrap().is_empty());
    let human = govcred(&["wallet", "list", "--store", s(&store)]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("Sarah Edwards"));

    let shown = ok_json(&[
        "wallet",
        "show",
        &id,
        "--store",
        s(&store),
        "--json",
        "--raw",
    ]);
    assert_eq!(shown["claims"]["serviceNumber"], "25057386");
    assert_eq!(
        shown["raw"].as_str().unwrap(),
        std::fs::read_to_string(&card).unwrap().trim()
    );
    let human = govcred(&["wallet", "show", &id, "--store", s(&store)]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("25057386"));

    // No claim value in clear in the store's files.
    for f in std::fs::read_dir(&store).unwrap() {
        let bytes = std::fs::read(f.unwrap().path()).unwrap();
        assert!(!bytes.windows(8).any(|w| w == b"25057386"));
        assert!(!bytes.windows(7).any(|w| w == b"Edwards"));
    }

    let deleted = ok_json(&[
        "wallet",
        "delete",
        &forged_id,
        "--store",
        s(&store),
        "--json",
    ]);
    assert_eq!(deleted["deleted"], forged_id.as_str());
    let out = govcred(&["wallet", "show", &forged_id, "--store", s(&store)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not_found"));
    assert_eq!(
        ok_json(&["wallet", "list", "--store", s(&store), "--json"])["credentials"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    ok_json(&["wallet", "wipe", "--store", s(&store), "--json"]);
    let left: Vec<_> = std::fs::read_dir(&store).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        govcred(&["wallet", "list", "--store", s(&store)])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_store_opened_with_another_key_file_reports_wrong_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.jwk");
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&key)]);
    let store = dir.path().join("w");
    let card = issue_jwt(dir.path(), &key, "card", "123", "2099-01-01T00:00:00Z");
    ok_json(&[
        "wallet",
        "add",
        s(&card),
        "--store",
        s(&store),
        "--unverified",
        "--json",
    ]);
    let before = std::fs::read(store.join("wallet.db")).unwrap();

    // Without its key file the store is not opened (and no new key is made).
    let key_file = store.join("store.key");
    let original = std::fs::read(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let out = govcred(&["wallet", "list", "--store", s(&store)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.key"));
    assert!(!key_file.exists());

    // Another key in its place (as after restoring a backup elsewhere): wrong_key.
    let mut other = original.clone();
    other[0] ^= 1;
    std::fs::write(&key_file, &other).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = govcred(&["wallet", "list", "--store", s(&store)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong_key"));
    assert_eq!(
        std::fs::read(store.join("wallet.db")).unwrap(),
        before,
        "data untouched"
    );

    std::fs::write(&key_file, &original).unwrap();
    let listing = ok_json(&["wallet", "list", "--store", s(&store), "--json"]);
    assert_eq!(listing["credentials"].as_array().unwrap().len(), 1);

    // Sign-out works even when the key is gone.
    std::fs::remove_file(&key_file).unwrap();
    ok_json(&["wallet", "wipe", "--store", s(&store), "--json"]);
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0);
}

#[test]
fn bench_measures_the_store() {
    // Smoke test only: speed is measured by `govcred bench` in release, never by tests.
    let out = ok_json(&[
        "bench",
        "--json",
        "--millis",
        "5",
        "--rounds",
        "1",
        "--format",
        "store",
        "--store-count",
        "50",
    ]);
    let rows = out["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["format"], "store");
    assert!(rows[0]["ratio"].as_f64().unwrap() > 0.0);
    let names: Vec<&str> = out["other"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("store: add")));
    assert!(names.iter().any(|n| n.starts_with("store: open")));
    assert!(names.iter().any(|n| n.starts_with("store: read one")));
}

#[test]
fn a_real_govuk_mdl_is_verified_against_its_ds_certificate_and_stored() {
    let dir = std::env::var_os("GOVCRED_SHARED_VECTORS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    let mdl = dir.join("govuk/mdoc/dvla-dev-mdl-jane-doe.issuer-signed.cbor");
    if !mdl.exists() {
        eprintln!("SKIPPED: shared vectors not found at {}", dir.display());
        return;
    }
    let ds = dir.join("govuk/mdoc/dvla-dev-mdl-jane-doe.ds-cert.pem");
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("w");
    let at = "2026-12-01T00:00:00Z";
    // Without the DS certificate it is not stored.
    let out = govcred(&["wallet", "add", s(&mdl), "--store", s(&store), "--at", at]);
    assert_eq!(out.status.code(), Some(1));
    let added = ok_json(&[
        "wallet",
        "add",
        s(&mdl),
        "--store",
        s(&store),
        "--iaca",
        s(&ds),
        "--at",
        at,
        "--json",
    ]);
    assert_eq!(added["verified"], true);
    let id = added["id"].as_str().unwrap();
    let shown = ok_json(&[
        "wallet",
        "show",
        id,
        "--store",
        s(&store),
        "--json",
        "--at",
        at,
    ]);
    assert_eq!(shown["format"], "mdoc");
    assert_eq!(shown["types"][0], "org.iso.18013.5.1.mDL");
    assert!(shown["claims"]["org.iso.18013.5.1"].is_object());
}

#[test]
fn the_status_seen_at_add_is_recorded_on_the_credential() {
    let dir = tempfile::tempdir().unwrap();
    let (ik, reg, site, store) = (
        dir.path().join("i.jwk"),
        dir.path().join("reg"),
        dir.path().join("site"),
        dir.path().join("w"),
    );
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&ik)]);
    let uri = "https://issuer.example.gov.uk/t/1";
    ok_json(&[
        "status",
        "create",
        "--bits",
        "2",
        "--size",
        "1024",
        "--uri",
        uri,
        "--key",
        s(&ik),
        "--store",
        s(&reg),
    ]);
    let claims = dir.path().join("c.json");
    std::fs::write(&claims, r#"{"given_name":"Sarah"}"#).unwrap();
    let out = govcred(&[
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
        s(&reg),
        "--status-uri",
        uri,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cred = dir.path().join("c.sdjwt");
    std::fs::write(&cred, &out.stdout).unwrap();
    let payload = govcred::jose::Jws::decode(
        std::str::from_utf8(&out.stdout)
            .unwrap()
            .split('~')
            .next()
            .unwrap(),
    )
    .unwrap()
    .payload_json()
    .unwrap();
    let idx = payload["status"]["status_list"]["idx"]
        .as_u64()
        .unwrap()
        .to_string();
    ok_json(&["status", "publish", "--store", s(&reg), "--out", s(&site)]);
    let list = site.join("t/1");

    let added = ok_json(&[
        "wallet",
        "add",
        s(&cred),
        "--store",
        s(&store),
        "--jwk",
        s(&ik),
        "--status",
        s(&list),
        "--json",
    ]);
    let id = added["id"].as_str().unwrap().to_string();
    let shown = ok_json(&["wallet", "show", &id, "--store", s(&store), "--json"]);
    assert_eq!(shown["status"]["state"], "valid");
    assert_eq!(shown["status"]["list_uri"], uri);
    assert_eq!(shown["status"]["index"].as_u64().unwrap().to_string(), idx);

    // Suspended at the issuer: the wallet refuses it as new, and records it when told.
    ok_json(&[
        "status",
        "suspend",
        "--store",
        s(&reg),
        "--uri",
        uri,
        "--index",
        &idx,
    ]);
    ok_json(&["status", "publish", "--store", s(&reg), "--out", s(&site)]);
    let args = [
        "wallet",
        "add",
        s(&cred),
        "--store",
        s(&store),
        "--jwk",
        s(&ik),
        "--status",
        s(&list),
    ];
    assert_eq!(govcred(&args).status.code(), Some(1));
    let mut unverified = args.to_vec();
    unverified.extend(["--unverified", "--json"]);
    assert_eq!(
        ok_json(&unverified)["id"],
        id.as_str(),
        "same credential, same id"
    );
    let listing = ok_json(&[
        "wallet",
        "list",
        "--store",
        s(&store),
        "--json",
        "--state",
        "suspended",
    ]);
    let creds = listing["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0]["show_as_invalid"], true);
}
