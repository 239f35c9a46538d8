//! `govcred serve --status-service` end to end on loopback: departments request and
//! revoke indices with `govcred status request|revoke --service`, verifiers fetch
//! `/t/{id}` and `/b/{id}` and check credentials against them; refusals carry the
//! GOV.UK error bodies; a restart loses nothing and never reuses an index. Every test
//! runs on SQLite and on PostgreSQL (`name::sqlite`, `name::postgres`).

mod common;
#[path = "../../core/tests/common/mod.rs"]
mod vectors;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{govcred, ok_json, s, Database};
use govcred::crypto::{Alg, SoftwareKey};
use govcred::status::crs::{self, IssueRequest, RevokeRequest};
use govcred::{Clock, Signer, SystemClock};
use serde_json::{json, Value};

/// A running service; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path, db: &Database) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
            .args([
                "serve",
                "--status-service",
                "--listen",
                "127.0.0.1:0",
                "--data",
                s(data),
                "--list-size",
                "64",
            ])
            .args(db.args())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start govcred serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let announce: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("announce line {line:?}: {e}"));
        let url = announce["status_service"]["public_url"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        Server { child, url }
    }

    /// Stop with SIGTERM (graceful shutdown) and wait.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            self.child.kill().ok();
        }
        let status = self.child.wait().unwrap();
        if ok {
            assert!(status.success(), "graceful shutdown exit status {status}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

struct Dept {
    key: SoftwareKey,
    key_file: PathBuf,
    id: &'static str,
}

/// Two departments (token and bitstring) registered in `data/clients.json`.
fn setup(dir: &Path) -> (PathBuf, Dept, Dept) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut clients = Vec::new();
    let mut depts = Vec::new();
    for (id, kind) in [("dept-mdl", "token"), ("dept-veterans", "bitstring")] {
        let key = SoftwareKey::generate(Alg::ES256)
            .unwrap()
            .with_kid(format!("{id}-key-1"));
        let key_file = dir.join(format!("{id}.jwk"));
        std::fs::write(&key_file, key.to_private_jwk().unwrap().to_json()).unwrap();
        let jwks = json!({"keys": [key.public_jwk()]});
        std::fs::write(data.join(format!("{id}.jwks.json")), jwks.to_string()).unwrap();
        clients
            .push(json!({"client_id": id, "list_type": kind, "jwks": format!("{id}.jwks.json")}));
        depts.push(Dept { key, key_file, id });
    }
    std::fs::write(
        data.join("clients.json"),
        json!({ "clients": clients }).to_string(),
    )
    .unwrap();
    let b = depts.pop().unwrap();
    let a = depts.pop().unwrap();
    (data, a, b)
}

fn request(server: &Server, d: &Dept) -> (u64, String) {
    let v = ok_json(&[
        "status",
        "request",
        "--service",
        &server.url,
        "--key",
        s(&d.key_file),
        "--client-id",
        d.id,
    ]);
    (
        v["idx"].as_u64().unwrap(),
        v["uri"].as_str().unwrap().to_string(),
    )
}

fn revoke(server: &Server, d: &Dept, uri: &str, idx: u64) -> Value {
    ok_json(&[
        "status",
        "revoke",
        "--service",
        &server.url,
        "--key",
        s(&d.key_file),
        "--client-id",
        d.id,
        "--uri",
        uri,
        "--index",
        &idx.to_string(),
    ])
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn post(server: &Server, endpoint: &str, content_type: &str, body: String) -> (u16, Value) {
    let r = http()
        .post(format!("{}/{endpoint}", server.url))
        .header("content-type", content_type)
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn fetch(url: &str, expected_type: &str) -> String {
    let r = http().get(url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "GET {url}");
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        expected_type,
        "GET {url}"
    );
    r.text().unwrap()
}

fn decode_part(jwt: &str, i: usize) -> Value {
    let part = jwt.split('.').nth(i).unwrap();
    serde_json::from_slice(&govcred::b64::decode(part, "test").unwrap()).unwrap()
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn service_jwk(server: &Server, dir: &Path) -> PathBuf {
    let jwks: Value = http()
        .get(format!("{}/.well-known/jwks.json", server.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["use"], "sig");
    assert!(key.get("d").is_none(), "private key published");
    let p = dir.join("service.jwk");
    std::fs::write(&p, key.to_string()).unwrap();
    p
}

fn request_revoke_publish_and_verify(db: &Database) {
    let dir = tempfile::tempdir().unwrap();
    let (data, mdl, vet) = setup(dir.path());
    let server = Server::start(&data, db);
    let svc_jwk = service_jwk(&server, dir.path());

    // Token list for the mdl department, Bitstring list for the veterans department.
    let issued: Vec<(u64, String)> = (0..6).map(|_| request(&server, &mdl)).collect();
    let uri_t = issued[0].1.clone();
    assert!(uri_t.starts_with(&format!("{}/t/", server.url)), "{uri_t}");
    let distinct: HashSet<u64> = issued.iter().map(|(i, _)| *i).collect();
    assert_eq!(distinct.len(), 6, "indices are never handed out twice");
    assert!(issued.iter().all(|(i, u)| *i < 64 && *u == uri_t));
    let (idx_b, uri_b) = request(&server, &vet);
    assert!(uri_b.starts_with(&format!("{}/b/", server.url)), "{uri_b}");

    // Revoke one of each; a second revoke says so.
    let (revoked_t, kept_t) = (issued[0].0, issued[1].0);
    let r = revoke(&server, &mdl, &uri_t, revoked_t);
    assert_eq!(r["message"], "Request processed for revocation");
    let again = revoke(&server, &mdl, &uri_t, revoked_t);
    assert_eq!(again["message"], "Credential already revoked");
    assert_eq!(again["revokedAt"], r["revokedAt"]);
    revoke(&server, &vet, &uri_b, idx_b);

    // The published Token Status List.
    let t = fetch(&uri_t, "application/statuslist+jwt");
    let t_file = dir.path().join("t.jwt");
    std::fs::write(&t_file, &t).unwrap();
    let check = ok_json(&[
        "status",
        "check",
        s(&t_file),
        "--index",
        &revoked_t.to_string(),
        "--index",
        &kept_t.to_string(),
        "--jwk",
        s(&svc_jwk),
        "--json",
    ]);
    assert_eq!(check["uri"], uri_t.as_str());
    assert_eq!(check["statuses"][0]["status"], "invalid");
    assert_eq!(check["statuses"][1]["status"], "valid");
    assert_eq!(check["stale"], false);

    // The published Bitstring Status List credential.
    let b = fetch(&uri_b, "application/vc+jwt");
    let b_file = dir.path().join("b.jwt");
    std::fs::write(&b_file, &b).unwrap();
    let check = ok_json(&[
        "status",
        "check",
        s(&b_file),
        "--index",
        &idx_b.to_string(),
        "--jwk",
        s(&svc_jwk),
        "--json",
    ]);
    assert_eq!(check["statuses"][0]["status"], "invalid");

    // The same shape as GOV.UK's published examples.
    let (th, tp) = (decode_part(&t, 0), decode_part(&t, 1));
    assert_eq!(th["typ"], "statuslist+jwt");
    assert_eq!(th["alg"], "ES256");
    assert_eq!(tp["status_list"]["bits"], 2);
    assert_eq!(tp["sub"], uri_t.as_str());
    assert_eq!(tp["iss"], server.url.as_str());
    let (bh, bp) = (decode_part(&b, 0), decode_part(&b, 1));
    assert_eq!(bh["typ"], "vc+jwt");
    assert_eq!(bp["id"], uri_b.as_str());
    assert_eq!(bp["credentialSubject"]["statusPurpose"], "message");
    assert_eq!(bp["credentialSubject"]["statusSize"], 2);
    assert_eq!(
        bp["credentialSubject"]["statusMessage"],
        json!([{"status": "0x0", "message": "VALID"}, {"status": "0x1", "message": "INVALID"}])
    );
    assert_eq!(bp["issuer"], format!("{}/", server.url));
    if let Some(v) = vectors::shared_vectors() {
        let read = |f: &str| -> Value {
            serde_json::from_str(
                &std::fs::read_to_string(v.join("govuk/status-list").join(f)).unwrap(),
            )
            .unwrap()
        };
        assert_eq!(
            keys_of(&th),
            keys_of(&read("docs.token-status-list.header.json"))
        );
        assert_eq!(
            keys_of(&tp),
            keys_of(&read("docs.token-status-list.payload.json"))
        );
        assert_eq!(keys_of(&bh), keys_of(&read("docs.bitstring.header.json")));
        let docs_b = read("docs.bitstring.payload.json");
        // The docs add the examples context; the members are the same.
        assert_eq!(keys_of(&bp), keys_of(&docs_b));
        assert_eq!(
            keys_of(&bp["credentialSubject"]),
            keys_of(&docs_b["credentialSubject"])
        );
        assert_eq!(bp["type"], docs_b["type"]);
        let jwks = read("docs.status-service-jwks.json");
        let served = std::fs::read_to_string(&svc_jwk).unwrap();
        let served: Value = serde_json::from_str(&served).unwrap();
        assert_eq!(keys_of(&served), keys_of(&jwks["keys"][0]));
    }

    // Credentials carrying those indices, checked with `govcred verify --status`.
    let issuer = SoftwareKey::generate(Alg::ES256).unwrap();
    let did = govcred::did::key::from_jwk(&issuer.public_jwk()).unwrap();
    let kid = format!("{did}#{}", did.trim_start_matches("did:key:"));
    let now = SystemClock.now();
    let sd_jwt = |idx: u64| {
        let mut d = govcred::format::sd_jwt::SdJwtDraft::new(&did, "urn:example:mdl");
        d.claims = json!({"given_name": "Sarah"}).as_object().unwrap().clone();
        d.status = Some(json!({"status_list": {"idx": idx, "uri": uri_t}}));
        d.kid = Some(kid.clone());
        govcred::format::sd_jwt::issue(&d, None, &issuer, now).unwrap()
    };
    let verify = |cred: &str, list: &Path, name: &str| -> (bool, Value) {
        let f = dir.path().join(name);
        std::fs::write(&f, cred).unwrap();
        let out = govcred(&[
            "verify",
            s(&f),
            "--status",
            s(list),
            "--jwk",
            s(&svc_jwk),
            "--json",
        ]);
        let report: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.success(), report)
    };
    let (ok, report) = verify(&sd_jwt(revoked_t), &t_file, "revoked.sd-jwt");
    assert!(!ok);
    assert_eq!(report["status"]["state"], "invalid", "{report:#}");
    assert!(report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["code"] == "status_revoked"));
    let (ok, report) = verify(&sd_jwt(kept_t), &t_file, "kept.sd-jwt");
    assert!(ok, "{report:#}");
    assert_eq!(report["status"]["state"], "valid");

    // The same from the shell: `govcred issue … --status-uri --status-index` carries an
    // index the service handed out.
    let key_file = dir.path().join("issuer.jwk");
    std::fs::write(&key_file, issuer.to_private_jwk().unwrap().to_json()).unwrap();
    let claims_file = dir.path().join("claims.json");
    std::fs::write(&claims_file, r#"{"given_name": "Sarah"}"#).unwrap();
    let issued = govcred(&[
        "issue",
        "sd-jwt-vc",
        "--key",
        s(&key_file),
        "--issuer",
        &did,
        "--kid",
        &kid,
        "--vct",
        "urn:example:mdl",
        "--claims",
        s(&claims_file),
        "--status-uri",
        &uri_t,
        "--status-index",
        &revoked_t.to_string(),
    ]);
    assert!(
        issued.status.success(),
        "{}",
        String::from_utf8_lossy(&issued.stderr)
    );
    let (ok, report) = verify(
        String::from_utf8_lossy(&issued.stdout).trim(),
        &t_file,
        "cli-revoked.sd-jwt",
    );
    assert!(!ok);
    assert_eq!(report["status"]["state"], "invalid", "{report:#}");

    let mut draft = govcred::format::jwt_vc::CredentialDraft::new(&did, "VeteranCard");
    draft.subject = json!({"name": "Pat"}).as_object().unwrap().clone();
    draft.credential_status = Some(json!({
        "id": format!("{uri_b}#{idx_b}"),
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusSize": 2,
        "statusListIndex": idx_b.to_string(),
        "statusListCredential": uri_b,
    }));
    let vc = govcred::format::jwt_vc::issue(&draft, &kid, &issuer, now).unwrap();
    let (ok, report) = verify(&vc, &b_file, "vet.jwt");
    assert!(!ok);
    assert_eq!(report["status"]["state"], "invalid", "{report:#}");

    server.stop();
}

fn refusals_carry_the_govuk_error_bodies(db: &Database) {
    let dir = tempfile::tempdir().unwrap();
    let (data, mdl, vet) = setup(dir.path());
    let server = Server::start(&data, db);
    let now = SystemClock.now();
    let issue_req = |iss: &str, jti: String, expiry: i64| IssueRequest {
        iss: iss.into(),
        iat: now,
        jti,
        status_expiry: expiry,
    };
    let expect = |(status, body): (u16, Value), want: u16, error: &str, what: &str| {
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(body["error"], error, "{what}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{what}: {body}"
        );
    };
    let jwt = "application/jwt";
    let good = issue_req(mdl.id, crs::jti_from_random(rand_bytes()), now + 86_400);
    let good_jwt = good.sign(&mdl.key, "dept-mdl-key-1").unwrap();

    // Content type.
    expect(
        post(&server, "issue", "application/json", good_jwt.clone()),
        400,
        "BAD_REQUEST",
        "content type",
    );
    // Not a JWT.
    expect(
        post(&server, "issue", jwt, "not a jwt".into()),
        400,
        "BAD_REQUEST",
        "garbage",
    );
    // Unknown client.
    let stranger = issue_req(
        "dept-unknown",
        crs::jti_from_random(rand_bytes()),
        now + 86_400,
    )
    .sign(&mdl.key, "dept-mdl-key-1")
    .unwrap();
    expect(
        post(&server, "issue", jwt, stranger),
        401,
        "UNAUTHORIZED",
        "unknown client",
    );
    // Bad signature: signed by another key under the registered kid.
    let impostor = SoftwareKey::generate(Alg::ES256).unwrap();
    let forged = issue_req(mdl.id, crs::jti_from_random(rand_bytes()), now + 86_400)
        .sign(&impostor, "dept-mdl-key-1")
        .unwrap();
    expect(
        post(&server, "issue", jwt, forged),
        401,
        "UNAUTHORIZED",
        "bad signature",
    );
    // Wrong key: another department's key (its kid is not in this client's JWKS).
    let wrong = issue_req(mdl.id, crs::jti_from_random(rand_bytes()), now + 86_400)
        .sign(&vet.key, "dept-veterans-key-1")
        .unwrap();
    expect(
        post(&server, "issue", jwt, wrong),
        401,
        "UNAUTHORIZED",
        "wrong key",
    );
    // Expired iat.
    let old = IssueRequest {
        iat: now - 3600,
        ..issue_req(mdl.id, crs::jti_from_random(rand_bytes()), now + 86_400)
    }
    .sign(&mdl.key, "dept-mdl-key-1")
    .unwrap();
    expect(
        post(&server, "issue", jwt, old),
        401,
        "UNAUTHORIZED",
        "old iat",
    );
    // statusExpiry more than a year ahead.
    let far = issue_req(
        mdl.id,
        crs::jti_from_random(rand_bytes()),
        now + 400 * 86_400,
    )
    .sign(&mdl.key, "dept-mdl-key-1")
    .unwrap();
    expect(
        post(&server, "issue", jwt, far),
        400,
        "BAD_REQUEST",
        "statusExpiry",
    );

    // Idempotency: the same request again gets the same answer; the same jti with
    // another statusExpiry is refused.
    let (st, first) = post(&server, "issue", jwt, good_jwt.clone());
    assert_eq!(st, 200, "{first}");
    let (st, second) = post(&server, "issue", jwt, good_jwt);
    assert_eq!((st, &second), (200, &first));
    let changed = issue_req(mdl.id, good.jti.clone(), now + 2 * 86_400)
        .sign(&mdl.key, "dept-mdl-key-1")
        .unwrap();
    expect(
        post(&server, "issue", jwt, changed),
        400,
        "BAD_REQUEST",
        "changed jti",
    );

    // Revocation: not your entry (403), never issued (404), not this service (404).
    let uri = first["uri"].as_str().unwrap().to_string();
    let idx = first["idx"].as_u64().unwrap() as usize;
    let revoke_req = |iss: &str, uri: &str, idx: usize| RevokeRequest {
        iss: iss.into(),
        iat: now,
        jti: crs::jti_from_random(rand_bytes()),
        uri: uri.into(),
        idx,
    };
    let theirs = revoke_req(vet.id, &uri, idx)
        .sign(&vet.key, "dept-veterans-key-1")
        .unwrap();
    expect(
        post(&server, "revoke", jwt, theirs),
        403,
        "FORBIDDEN",
        "another client's entry",
    );
    let unissued = (0..64).find(|i| *i != idx).unwrap();
    let none = revoke_req(mdl.id, &uri, unissued)
        .sign(&mdl.key, "dept-mdl-key-1")
        .unwrap();
    expect(
        post(&server, "revoke", jwt, none),
        404,
        "NOT_FOUND",
        "never issued",
    );
    let elsewhere = revoke_req(mdl.id, "https://crs.account.gov.uk/t/3B0F3BD087A7", idx)
        .sign(&mdl.key, "dept-mdl-key-1")
        .unwrap();
    expect(
        post(&server, "revoke", jwt, elsewhere),
        404,
        "NOT_FOUND",
        "other service",
    );
    // The right department can.
    let mine = revoke_req(mdl.id, &uri, idx)
        .sign(&mdl.key, "dept-mdl-key-1")
        .unwrap();
    let (st, body) = post(&server, "revoke", jwt, mine);
    assert_eq!(st, 202, "{body}");
    assert_eq!(body["message"], "Request processed for revocation");

    // Unknown lists and endpoints.
    let r = http()
        .get(format!("{}/t/FFFFFFFFFFFF", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "NOT_FOUND");
    // A token list is not served as a bitstring list.
    let b = uri.replace("/t/", "/b/");
    assert_eq!(http().get(&b).send().unwrap().status().as_u16(), 404);

    // The CLI client reports the refusal and exits non-zero.
    let out = govcred(&[
        "status",
        "request",
        "--service",
        &server.url,
        "--key",
        s(&vet.key_file),
        "--client-id",
        mdl.id,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("HTTP 401") && err.contains("UNAUTHORIZED"),
        "{err}"
    );
}

fn rand_bytes() -> [u8; 16] {
    // Unique per call without a direct rand dependency in the test.
    let k = SoftwareKey::generate(Alg::EdDSA).unwrap();
    let pk = k.public_jwk().x.unwrap();
    let b = govcred::b64::decode(&pk, "x").unwrap();
    b[..16].try_into().unwrap()
}

fn restart_keeps_state_and_never_reuses_an_index(db: &Database) {
    let dir = tempfile::tempdir().unwrap();
    let (data, mdl, _) = setup(dir.path());
    let mut seen: HashSet<(String, u64)> = HashSet::new();

    let server = Server::start(&data, db);
    let key_before = service_jwk(&server, dir.path());
    let key_before = std::fs::read_to_string(key_before).unwrap();
    let mut first = Vec::new();
    for _ in 0..20 {
        let (i, u) = request(&server, &mdl);
        assert!(
            seen.insert((u.clone(), i)),
            "index {i} of {u} handed out twice"
        );
        first.push((i, u));
    }
    revoke(&server, &mdl, &first[0].1, first[0].0);
    server.stop();

    // Restart on the same data and port (list URIs derive from the public URL).
    let server = Server::start_with_url(&data, &first[0].1, db);
    let key_after = std::fs::read_to_string(service_jwk(&server, dir.path())).unwrap();
    assert_eq!(key_before, key_after, "the service key survives a restart");
    for _ in 0..10 {
        let (i, u) = request(&server, &mdl);
        assert!(
            seen.insert((u.clone(), i)),
            "index {i} of {u} reused after restart"
        );
    }
    // Hard kill (SIGKILL, no graceful shutdown): committed allocations survive too.
    drop(server);

    let server = Server::start_with_url(&data, &first[0].1, db);
    // 64-entry lists: 80 indices fill the first list and spill onto a second.
    for _ in 0..50 {
        let (i, u) = request(&server, &mdl);
        assert!(
            seen.insert((u.clone(), i)),
            "index {i} of {u} reused after restart"
        );
    }
    let lists: HashSet<&String> = seen.iter().map(|(u, _)| u).collect();
    assert_eq!(lists.len(), 2, "a full list is followed by a new one");
    assert_eq!(seen.len(), 80);

    // The revocation made before the restarts is still published.
    let t = fetch(&first[0].1, "application/statuslist+jwt");
    let f = dir.path().join("t.jwt");
    std::fs::write(&f, t).unwrap();
    let svc = service_jwk(&server, dir.path());
    let check = ok_json(&[
        "status",
        "check",
        s(&f),
        "--index",
        &first[0].0.to_string(),
        "--index",
        &first[1].0.to_string(),
        "--jwk",
        s(&svc),
        "--json",
    ]);
    assert_eq!(check["statuses"][0]["status"], "invalid");
    assert_eq!(check["statuses"][1]["status"], "valid");
    server.stop();
}

impl Server {
    /// Start with `--public-url` set to the origin of `list_uri` (list URIs stay valid
    /// across restarts on other ports).
    fn start_with_url(data: &Path, list_uri: &str, db: &Database) -> Server {
        let origin = list_uri.split("/t/").next().unwrap().to_string();
        let port = origin.rsplit(':').next().unwrap().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
            .args([
                "serve",
                "--status-service",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data",
                s(data),
                "--list-size",
                "64",
            ])
            .args(db.args())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start govcred serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let announce: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("announce line {line:?}: {e}"));
        assert_eq!(announce["status_service"]["public_url"], origin.as_str());
        Server { child, url: origin }
    }
}

fn clients_registered_by_jwks_url(db: &Database) {
    // Service A's own JWKS URL stands in for a department's: its signing key (in A's
    // data directory) then signs the department's requests to service B.
    let dir = tempfile::tempdir().unwrap();
    let (data_a, _, _) = setup(&dir.path().join("a"));
    let a = Server::start(&data_a, db);
    let data_b = dir.path().join("b");
    std::fs::create_dir_all(&data_b).unwrap();
    std::fs::write(
        data_b.join("clients.json"),
        json!({"clients": [{
            "client_id": "dept-by-url",
            "list_type": "token",
            "jwks": format!("{}/.well-known/jwks.json", a.url),
        }]})
        .to_string(),
    )
    .unwrap();
    let b = Server::start(&data_b, &db.fresh());
    let dept = Dept {
        key: SoftwareKey::generate(Alg::ES256).unwrap(),
        key_file: data_a.join("status-service-key.jwk"),
        id: "dept-by-url",
    };
    let (_, uri) = request(&b, &dept);
    assert!(uri.starts_with(&format!("{}/t/", b.url)));
    // A JWKS URL that is plain http to a non-loopback host is refused at start.
    let data_c = dir.path().join("c");
    std::fs::create_dir_all(&data_c).unwrap();
    std::fs::write(
        data_c.join("clients.json"),
        json!({"clients": [{"client_id": "x", "list_type": "token", "jwks": "http://dept.example/jwks.json"}]})
            .to_string(),
    )
    .unwrap();
    let out = govcred(&[
        "serve",
        "--status-service",
        "--listen",
        "127.0.0.1:0",
        "--data",
        s(&data_c),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be https"));
}

/// A database that cannot be used is a clear error at start (exit 2), not a panic.
#[test]
fn unusable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _, _) = setup(dir.path());
    for (url, want) in [
        (
            "postgres://govcred@127.0.0.1:1/nothing",
            "cannot connect to PostgreSQL",
        ),
        (
            "postgres://govcred@127.0.0.1/db?sslmode=sometimes",
            "bad PostgreSQL URL",
        ),
    ] {
        let out = govcred(&[
            "serve",
            "--status-service",
            "--listen",
            "127.0.0.1:0",
            "--data",
            s(&data),
            "--database",
            url,
        ]);
        assert_eq!(out.status.code(), Some(2), "{url}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{url}: {err}");
    }
}

/// `--database` over TLS (`sslmode=require`): the server's certificate is checked against
/// the trusted roots (here the test server's CA, through `SSL_CERT_FILE`); without them
/// the service refuses to start with a clear error.
#[test]
fn postgres_over_tls() {
    let Some(db) = Database::postgres("postgres_over_tls") else {
        return;
    };
    let Some(ca) = std::env::var_os("GOVCRED_TEST_DATABASE_CA") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the TLS test: set GOVCRED_TEST_DATABASE_CA (scripts/pg-test-server ca)"
        );
        eprintln!("SKIPPED postgres_over_tls: GOVCRED_TEST_DATABASE_CA is not set");
        return;
    };
    let url = db
        .url()
        .unwrap()
        .replace("sslmode=disable", "sslmode=require");
    assert!(url.contains("sslmode=require"), "{url}");
    let dir = tempfile::tempdir().unwrap();
    let (data, mdl, _) = setup(dir.path());
    let args = [
        "serve",
        "--status-service",
        "--listen",
        "127.0.0.1:0",
        "--data",
        s(&data),
        "--database",
        &url,
    ];
    // An unknown CA: refused at start.
    let out = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(args)
        .env("SSL_CERT_FILE", dir.path().join("no-such-ca.pem"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to PostgreSQL") && err.contains("certificate"),
        "{err}"
    );
    // The test server's CA: TLS, and the service works.
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(args)
        .env("SSL_CERT_FILE", &ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announce: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
    let server = Server {
        child,
        url: announce["status_service"]["public_url"]
            .as_str()
            .unwrap()
            .to_string(),
    };
    let (_, uri) = request(&server, &mdl);
    assert!(uri.starts_with(&server.url));
    server.stop();
}

crate::on_both_databases!(
    request_revoke_publish_and_verify,
    refusals_carry_the_govuk_error_bodies,
    restart_keeps_state_and_never_reuses_an_index,
    clients_registered_by_jwks_url,
);
