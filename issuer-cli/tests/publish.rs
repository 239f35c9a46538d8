//! Publishing to object storage and to a directory, against a real S3-compatible
//! server on loopback (moto, installed by `scripts/install-test-deps`): `govcred status
//! publish --publish s3://…` sets `Content-Type` and `Cache-Control: max-age=TTL`,
//! and the published list verifies; `govcred serve --publish … --publish-once`
//! publishes the issuer's did.json, JWKS, IACAs, metadata and status lists, and the
//! status service's JWKS and lists, exactly as the services answer them.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, govcred, ok_json, s};
use serde_json::Value;

const BUCKET: &str = "govcred-test";

/// A moto S3 server on loopback; killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// moto serves every AWS service on one port and routes a request without an
/// `Authorization` header by its path: a presigned S3 request for a key ending in
/// `/.well-known/jwks.json` goes to its Cognito mock. Every request of these tests is
/// for S3, so that path rule is switched off.
const MOTO_S3_ONLY: &str = "
import sys
from moto.moto_server import werkzeug_app as w
w.DomainDispatcherApplication.get_service_from_unsigned_path = staticmethod(lambda path: (None, None))
from moto.server import main
main(['-H', '127.0.0.1', '-p', sys.argv[1]])
";

/// Start moto with an empty bucket; `None` (after printing SKIPPED) when moto is not
/// installed and this is not CI.
fn moto() -> Option<Moto> {
    let installed = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto is not installed: run scripts/install-test-deps"
        );
        eprintln!("SKIPPED: moto (S3-compatible test server) is not installed; run scripts/install-test-deps");
        return None;
    }
    let port = free_port();
    let child = Command::new("python3")
        .args(["-c", MOTO_S3_ONLY, &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = http();
    loop {
        // Creating the bucket is also the readiness probe (moto accepts unsigned requests).
        match client.put(format!("{}/{BUCKET}", moto.endpoint)).send() {
            Ok(r) if r.status().is_success() => return Some(moto),
            Ok(r) => panic!("creating the bucket: HTTP {}", r.status()),
            Err(_) => {
                assert!(Instant::now() < deadline, "moto did not start");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// `govcred ARGS` with the S3 environment of `moto`.
fn govcred_s3(m: &Moto, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_REGION", "eu-west-2")
        .env("AWS_ENDPOINT_URL_S3", &m.endpoint)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("run govcred")
}

fn ok(out: Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// GET an object: (body, content type, cache control).
fn get(m: &Moto, key: &str) -> (Vec<u8>, String, String) {
    use rusty_s3::S3Action;
    let bucket = rusty_s3::Bucket::new(
        m.endpoint.parse().unwrap(),
        rusty_s3::UrlStyle::Path,
        BUCKET,
        "eu-west-2",
    )
    .unwrap();
    let creds = rusty_s3::Credentials::new("AKIDTEST", "test-secret");
    let url = bucket
        .get_object(Some(&creds), key)
        .sign(Duration::from_secs(60));
    let r = http().get(url).send().unwrap();
    assert!(r.status().is_success(), "GET {key}: HTTP {}", r.status());
    let h = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, cc) = (h("content-type"), h("cache-control"));
    (r.bytes().unwrap().to_vec(), ct, cc)
}

/// A registry with a 2-bit Token Status List (CWT too, ttl 600) and one revoked index.
fn registry(d: &Path) -> (std::path::PathBuf, std::path::PathBuf, u64) {
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
        "--size",
        "1024",
        "--ttl",
        "600",
        "--cwt",
    ]);
    let alloc = ok_json(&["status", "allocate", "--store", s(&store), "--uri", uri]);
    let idx = alloc["indices"][0].as_u64().unwrap();
    ok_json(&[
        "status",
        "revoke",
        "--store",
        s(&store),
        "--uri",
        uri,
        "--index",
        &idx.to_string(),
    ]);
    (store, public, idx)
}

#[test]
fn status_publish_to_s3_with_cache_control_and_the_list_verifies() {
    let Some(m) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (store, public, idx) = registry(d);
    let target = format!("s3://{BUCKET}/cdn/root");
    let p = ok(
        govcred_s3(
            &m,
            &[
                "status",
                "publish",
                "--store",
                s(&store),
                "--publish",
                &target,
            ],
        ),
        "status publish",
    );
    assert_eq!(p["target"], target);
    let entry = &p["published"][0];
    assert_eq!(
        entry["file"],
        format!("s3://{BUCKET}/cdn/root/status/mdl-1")
    );
    assert_eq!(
        entry["cwt_file"],
        format!("s3://{BUCKET}/cdn/root/status/mdl-1.cwt")
    );

    let (body, ct, cc) = get(&m, "cdn/root/status/mdl-1");
    assert_eq!(ct, "application/statuslist+jwt");
    assert_eq!(cc, "max-age=600");
    let (cwt, ct, cc) = get(&m, "cdn/root/status/mdl-1.cwt");
    assert_eq!(ct, "application/statuslist+cwt");
    assert_eq!(cc, "max-age=600");
    for (name, bytes) in [("list.jwt", &body), ("list.cwt", &cwt)] {
        let f = d.join(name);
        std::fs::write(&f, bytes).unwrap();
        let check = ok_json(&[
            "status",
            "check",
            s(&f),
            "--index",
            &idx.to_string(),
            "--jwk",
            s(&public),
            "--json",
        ]);
        assert_eq!(check["statuses"][0]["status"], "invalid", "{name}");
    }

    // Publishing again replaces the objects (a new iat), same keys.
    std::thread::sleep(Duration::from_millis(1100));
    ok(
        govcred_s3(
            &m,
            &[
                "status",
                "publish",
                "--store",
                s(&store),
                "--publish",
                &target,
            ],
        ),
        "second publish",
    );
    assert_ne!(get(&m, "cdn/root/status/mdl-1").0, body);
}

#[test]
fn s3_failures_are_clear_errors() {
    let Some(m) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = registry(dir.path());
    // A bucket that does not exist: the server's refusal, named.
    let out = govcred_s3(
        &m,
        &[
            "status",
            "publish",
            "--store",
            s(&store),
            "--publish",
            "s3://no-such-bucket/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("PUT s3://no-such-bucket/x/status/mdl-1") && err.contains("HTTP 404"),
        "{err}"
    );
    // No credentials.
    let out = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args([
            "status",
            "publish",
            "--store",
            s(&store),
            "--publish",
            "s3://b/p",
        ])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_ACCESS_KEY_ID"));
    // Neither target, or both.
    assert_eq!(
        govcred(&["status", "publish", "--store", s(&store)])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn issuer_publishes_its_documents_once_to_s3() {
    let Some(m) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let init = govcred(&["serve", "--init", s(&dir.path().join("iss")), "--url", &url]);
    assert!(init.status.success());
    let config = dir.path().join("iss/issuer.toml");
    let p = ok(
        govcred_s3(
            &m,
            &[
                "serve",
                "--config",
                s(&config),
                "--publish",
                &format!("s3://{BUCKET}/site"),
                "--publish-once",
                "--publish-max-age",
                "120",
            ],
        ),
        "serve --publish-once",
    );
    let published = p["published"].as_array().unwrap();
    // Metadata, AS metadata, did.json, jwks.json, iacas, two status lists.
    assert_eq!(published.len(), 7, "{p}");

    let (did, ct, cc) = get(&m, "site/.well-known/did.json");
    assert!(ct.starts_with("application/json"), "{ct}");
    assert_eq!(cc, "max-age=120");
    let did: Value = serde_json::from_slice(&did).unwrap();
    assert!(did["id"].as_str().unwrap().starts_with("did:web:127.0.0.1"));
    let (jwks, _, _) = get(&m, "site/.well-known/jwks.json");
    let jwks: Value = serde_json::from_slice(&jwks).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    let (iacas, _, _) = get(&m, "site/iacas");
    let iacas: Value = serde_json::from_slice(&iacas).unwrap();
    assert_eq!(iacas["data"].as_array().unwrap().len(), 1);
    let (meta, _, _) = get(&m, "site/.well-known/openid-credential-issuer");
    let meta: Value = serde_json::from_slice(&meta).unwrap();
    assert_eq!(meta["credential_issuer"], url);
    // Status lists: the registry's ttl (3600 for --init's lists).
    let (_, ct, cc) = get(&m, "site/status/token/1");
    assert_eq!(ct, "application/statuslist+jwt");
    assert_eq!(cc, "max-age=3600");
    let (_, ct, _) = get(&m, "site/status/bitstring/1");
    assert_eq!(ct, "application/vc+jwt");
}

#[test]
fn status_service_publishes_to_a_directory_while_serving() {
    use govcred::crypto::{Alg, SoftwareKey};
    use govcred::Signer;
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let key = SoftwareKey::generate(Alg::ES256)
        .unwrap()
        .with_kid("dept-key-1".to_string());
    let key_file = d.join("dept.jwk");
    std::fs::write(&key_file, key.to_private_jwk().unwrap().to_json()).unwrap();
    std::fs::write(
        data.join("clients.json"),
        serde_json::json!({"clients": [{"client_id": "dept", "list_type": "token",
            "jwks": {"keys": [key.public_jwk()]}}]})
        .to_string(),
    )
    .unwrap();
    let site = d.join("site");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args([
            "serve",
            "--status-service",
            "--listen",
            "127.0.0.1:0",
            "--data",
            s(&data),
            "--public-url",
            "https://status.example.gov.uk/crs",
            "--list-size",
            "64",
            "--list-ttl",
            "900",
            "--publish",
            s(&site),
            "--publish-interval",
            "1",
            "--log-format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announce: Value = serde_json::from_str(&line).unwrap();
    let local = format!("http://{}", announce["listening"].as_str().unwrap());
    // A department asks for an index; the next publication has its list.
    let out = govcred(&[
        "status",
        "request",
        "--service",
        &local,
        "--key",
        s(&key_file),
        "--client-id",
        "dept",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = v["uri"].as_str().unwrap();
    let id = uri
        .strip_prefix("https://status.example.gov.uk/crs/t/")
        .unwrap();
    let list = site.join("crs/t").join(id);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !list.exists() {
        assert!(Instant::now() < deadline, "the list was never published");
        std::thread::sleep(Duration::from_millis(100));
    }
    let jwt = std::fs::read_to_string(&list).unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    assert!(site.join("crs/.well-known/jwks.json").exists());
    let metrics = http()
        .get(format!("{local}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("govcred_status_entries_issued_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("govcred_publications_total{outcome=\"ok\"}"),
        "{metrics}"
    );
    // Graceful stop; every log line is JSON.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.lines().count() >= 2, "{logs}");
    for l in logs.lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
    }
    assert!(logs.contains("\"route\":\"/issue\""), "{logs}");
    assert!(logs.contains("published"), "{logs}");
}
