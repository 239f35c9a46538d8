//! National scale: three `govcred serve` instances on one PostgreSQL database, parallel
//! clients on loopback, one instance killed mid-load.
//!
//! - Status service: 3 000 index requests and 500 revocations spread over the
//!   instances; no index is handed out twice, every answered request is in the
//!   database, every revocation is in the next list published by any instance.
//! - OpenID4VCI issuer: each pre-authorised code is sent to every instance at once and
//!   each credential request (one nonce) too: exactly one of each is accepted; every
//!   credential answered is recorded, with a distinct status index; every offer is
//!   either still pending or recorded as issued (never consumed with nothing issued).
//!
//! PostgreSQL comes from `GOVCRED_TEST_DATABASE_URL` (`scripts/pg-test-server start`;
//! `scripts/test-all` sets it); without it the test prints SKIPPED (and fails in CI).
//! Sizes: `GOVCRED_SCALE_ISSUES`, `GOVCRED_SCALE_REVOKES`, `GOVCRED_SCALE_OFFERS`.

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{govcred, s, Database};
use govcred::crypto::{Alg, SoftwareKey};
use govcred::oid4vci::offer::OfferLink;
use govcred::oid4vci::token::{self, TokenRequest};
use govcred::status::crs::{self, IssueRequest, RevokeRequest};
use govcred::status::token_status_list::StatusList;
use govcred::{Clock, Signer, SystemClock};
use serde_json::{json, Value};

const INSTANCES: usize = 3;
const THREADS: usize = 12;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running `govcred serve`; killed on drop.
struct Instance {
    child: Child,
    url: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// Start `govcred serve ARGS --listen 127.0.0.1:0` and read the bound address from its
/// announce line.
fn start(args: &[&str]) -> Instance {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
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
    let url = format!("http://{}", announce["listening"].as_str().unwrap());
    Instance { child, url }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .build()
        .unwrap()
}

/// POST to instance `first` and, while the answer is a connection failure or a 5xx,
/// to the next ones in turn (the client side of a load balancer).
fn post_retrying(
    http: &reqwest::blocking::Client,
    urls: &[String],
    first: usize,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let mut last = String::new();
    for attempt in 0..30 {
        let url = &urls[(first + attempt) % urls.len()];
        match http
            .post(format!("{url}{path}"))
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
        {
            Ok(r) if r.status().as_u16() < 500 => {
                let status = r.status().as_u16();
                return (status, r.json().unwrap_or(Value::Null));
            }
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("POST {path}: every instance failed, last: {last}")
}

fn random_jti() -> String {
    crs::jti_from_random(*uuid::Uuid::new_v4().as_bytes())
}

/// Statuses of a published Token Status List (the JWT's `status_list`).
fn statuses(jwt: &str) -> StatusList {
    let part = jwt.split('.').nth(1).unwrap();
    let payload: Value =
        serde_json::from_slice(&govcred::b64::decode(part, "status list").unwrap()).unwrap();
    StatusList::from_json(&payload["status_list"]).unwrap()
}

fn pg_count(url: &str, sql: &str) -> i64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get::<_, i64>(0)
}

#[test]
fn three_instances_on_one_postgres() {
    let Some(db) = Database::postgres("three_instances_on_one_postgres") else {
        return;
    };
    let db_url = db.url().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    status_service_at_scale(tmp.path(), &db_url);
    eprintln!(
        "scale: status service done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    issuer_at_scale(tmp.path(), &db.fresh());
    eprintln!(
        "scale: issuer done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn status_service_at_scale(dir: &Path, db_url: &str) {
    let issues = env_or("GOVCRED_SCALE_ISSUES", 3000);
    let revokes = env_or("GOVCRED_SCALE_REVOKES", 500).min(issues);
    let data = dir.join("status");
    std::fs::create_dir_all(&data).unwrap();
    let key = SoftwareKey::generate(Alg::ES256)
        .unwrap()
        .with_kid("dept-key-1".to_string());
    std::fs::write(
        data.join("dept.jwks.json"),
        json!({"keys": [key.public_jwk()]}).to_string(),
    )
    .unwrap();
    std::fs::write(
        data.join("clients.json"),
        json!({"clients": [{"client_id": "dept", "list_type": "token", "jwks": "dept.jwks.json"}]})
            .to_string(),
    )
    .unwrap();
    // One public URL (the CDN's) for all instances; small lists so that several fill
    // up and new ones are opened while instances race.
    let public = "https://status.example.gov.uk";
    let args = [
        "--status-service",
        "--data",
        s(&data),
        "--database",
        db_url,
        "--public-url",
        public,
        "--list-size",
        "1024",
    ];
    // The first start writes the shared signing key; the others read it.
    let mut instances = vec![start(&args)];
    for _ in 1..INSTANCES {
        instances.push(start(&args));
    }
    let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();

    // Issue from parallel clients; kill the last instance a third of the way through.
    let done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let answers: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::with_capacity(issues));
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (urls, done, next, answers, key) = (&urls, &done, &next, &answers, &key);
            scope.spawn(move || {
                let http = http();
                while next.fetch_add(1, Ordering::Relaxed) < issues {
                    let now = SystemClock.now();
                    let jwt = IssueRequest {
                        iss: "dept".into(),
                        iat: now,
                        jti: random_jti(),
                        status_expiry: now + 365 * 86_400,
                    }
                    .sign(key, "dept-key-1")
                    .unwrap();
                    let n = done.load(Ordering::Relaxed);
                    // Retries re-send the same request: its jti makes it idempotent.
                    let (status, v) =
                        post_retrying(&http, urls, t + n, "/issue", "application/jwt", &jwt);
                    assert_eq!(status, 200, "{v}");
                    let uri = v["uri"].as_str().unwrap().to_string();
                    let idx = v["idx"].as_u64().unwrap() as usize;
                    answers.lock().unwrap().push((uri, idx));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while done.load(Ordering::Relaxed) < issues / 3 {
            std::thread::sleep(Duration::from_millis(10));
        }
        instances.pop();
    });
    let answers = answers.into_inner().unwrap();
    assert_eq!(answers.len(), issues);
    let unique: HashSet<&(String, usize)> = answers.iter().collect();
    assert_eq!(unique.len(), issues, "an index was handed out twice");
    // Nothing answered is missing from the database, and nothing else is in it.
    let mut c = postgres::Client::connect(db_url, postgres::NoTls).unwrap();
    let stored: HashSet<(String, usize)> = c
        .query("SELECT list_id, idx FROM entries", &[])
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!("{public}/t/{}", r.get::<_, String>(0)),
                r.get::<_, i64>(1) as usize,
            )
        })
        .collect();
    assert_eq!(stored.len(), issues);
    assert!(answers.iter().all(|a| stored.contains(a)));
    let lists: HashSet<&String> = answers.iter().map(|(u, _)| u).collect();
    assert!(lists.len() >= issues / 1024, "{} lists", lists.len());

    // Revoke from parallel clients over the surviving instances.
    let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();
    let revoked: Vec<&(String, usize)> = answers
        .iter()
        .step_by((issues / revokes.max(1)).max(1))
        .take(revokes)
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (urls, next, revoked, key) = (&urls, &next, &revoked, &key);
            scope.spawn(move || {
                let http = http();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((uri, idx)) = revoked.get(i) else {
                        break;
                    };
                    let jwt = RevokeRequest {
                        iss: "dept".into(),
                        iat: SystemClock.now(),
                        jti: random_jti(),
                        uri: uri.clone(),
                        idx: *idx,
                    }
                    .sign(key, "dept-key-1")
                    .unwrap();
                    let (status, v) =
                        post_retrying(&http, urls, t + i, "/revoke", "application/jwt", &jwt);
                    assert_eq!(status, 202, "{v}");
                }
            });
        }
    });
    // The next list published (by any instance) shows every revocation and nothing else.
    let revoked: HashSet<&(String, usize)> = revoked.into_iter().collect();
    let http = http();
    for (n, uri) in lists.iter().enumerate() {
        let id = uri.rsplit('/').next().unwrap();
        let url = &urls[n % urls.len()];
        let r = http.get(format!("{url}/t/{id}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let list = statuses(&r.text().unwrap());
        for (u, idx) in answers.iter().filter(|(u, _)| u == *uri) {
            let want = u8::from(revoked.contains(&(u.clone(), *idx)));
            assert_eq!(list.get(*idx).unwrap(), want, "{u} index {idx}");
        }
    }
    assert_eq!(
        pg_count(db_url, "SELECT COUNT(*) FROM entries WHERE status = 1"),
        revoked.len() as i64
    );
}

fn issuer_at_scale(dir: &Path, db: &Database) {
    let offers = env_or("GOVCRED_SCALE_OFFERS", 150);
    let db_url = db.url().unwrap();
    let out = govcred(&[
        "serve",
        "--init",
        s(&dir.join("iss")),
        "--url",
        "https://issuer.example.gov.uk",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("iss/issuer.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "database = \"issuer.db\"",
        &format!("database = \"{db_url}\""),
    );
    std::fs::write(&config, text).unwrap();
    let links = make_offers(&config, "ExamplePid", offers);
    let args = ["--config", s(&config)];
    let mut instances: Vec<Instance> = (0..INSTANCES).map(|_| start(&args)).collect();
    let urls: Vec<String> = instances.iter().map(|i| i.url.clone()).collect();

    let done = AtomicUsize::new(0);
    let next = AtomicUsize::new(0);
    let issued = AtomicUsize::new(0);
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    std::thread::scope(|scope| {
        for _ in 0..THREADS.min(4) {
            let (urls, done, next, issued, links, holder) =
                (&urls, &done, &next, &issued, &links, &holder);
            scope.spawn(move || {
                let http = http();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(link) = links.get(i) else { break };
                    if redeem_racing(&http, urls, link, holder) {
                        issued.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        while done.load(Ordering::Relaxed) < offers / 3 {
            std::thread::sleep(Duration::from_millis(10));
        }
        instances.pop();
    });
    let issued = issued.into_inner();
    // An offer whose winning credential request went to the killed instance may have
    // no credential; every credential answered is recorded.
    assert!(issued >= offers * 9 / 10, "{issued} of {offers} issued");
    let in_db = pg_count(db_url, "SELECT COUNT(*) FROM issued") as usize;
    assert!(in_db >= issued, "{in_db} recorded, {issued} answered");
    assert_eq!(
        pg_count(
            db_url,
            "SELECT COUNT(DISTINCT status_uri || '#' || status_index) FROM issued"
        ) as usize,
        in_db
    );
    // Every code was redeemed (an offer is deleted when its credential is issued).
    assert_eq!(
        pg_count(db_url, "SELECT COUNT(*) FROM offers WHERE redeemed = 0"),
        0
    );
    // Taking an offer and recording its credential are one transaction: whatever
    // instance died when, every offer is either still pending or recorded as issued.
    let left = pg_count(db_url, "SELECT COUNT(*) FROM offers") as usize;
    assert_eq!(left + in_db, offers, "{left} offers left, {in_db} issued");
    eprintln!(
        "scale: issuer: {offers} offers, {issued} credentials answered, {in_db} recorded, {left} left pending"
    );
}

fn make_offers(config: &Path, config_id: &str, count: usize) -> Vec<String> {
    let dir = config.parent().unwrap();
    let claims: PathBuf = dir.join(format!("claims/{config_id}.json"));
    let out = govcred(&[
        "offer",
        "create",
        "--config",
        s(config),
        "--config-id",
        config_id,
        "--claims",
        s(&claims),
        "--qr-dir",
        s(&dir.join("qr")),
        "--count",
        &count.to_string(),
        "--no-qr",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Send the offer's code to every instance at once (exactly one may answer 200), then
/// the credential request with one nonce to every live instance at once (exactly one
/// may answer 200). True when a credential was received.
fn redeem_racing(
    http: &reqwest::blocking::Client,
    urls: &[String],
    link: &str,
    holder: &SoftwareKey,
) -> bool {
    let OfferLink::ByValue(offer) = OfferLink::parse(link).unwrap() else {
        panic!("offer by value expected")
    };
    let form = TokenRequest {
        pre_authorized_code: offer.code().unwrap().into(),
        tx_code: None,
    }
    .to_form();
    let answers = race(urls, |url| {
        http.post(format!("{url}/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.clone())
            .send()
    });
    let ok: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, v)| v)
        .collect();
    assert!(
        ok.len() <= 1,
        "a pre-authorised code was redeemed twice: {answers:?}"
    );
    let Some(tokens) = ok.first() else {
        // The winner may have been the instance being killed (connection reset).
        assert!(
            answers.iter().all(|(s, _)| *s == 400 || *s == 0),
            "{answers:?}"
        );
        return false;
    };
    let access = tokens["access_token"].as_str().unwrap();
    let nonce = tokens["c_nonce"]
        .as_str()
        .map(str::to_string)
        .or_else(|| token::peek_c_nonce(access));
    let jwt = govcred::oid4vci::proof::build_proof(
        holder,
        "https://issuer.example.gov.uk",
        nonce.as_deref(),
        SystemClock.now(),
    )
    .unwrap();
    let body = json!({"proof": {"proof_type": "jwt", "jwt": jwt}}).to_string();
    let answers = race(urls, |url| {
        http.post(format!("{url}/credential"))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {access}"))
            .body(body.clone())
            .send()
    });
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert!(ok <= 1, "a nonce was accepted twice: {answers:?}");
    assert!(
        answers
            .iter()
            .all(|(s, _)| matches!(s, 0 | 200 | 400 | 401)),
        "{answers:?}"
    );
    ok == 1
}

/// The same request to every instance at once: (status, body) each, status 0 for a
/// connection failure.
fn race(
    urls: &[String],
    send: impl Fn(&str) -> reqwest::Result<reqwest::blocking::Response> + Sync,
) -> Vec<(u16, Value)> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .map(|u| {
                let send = &send;
                scope.spawn(move || match send(u) {
                    Ok(r) => (r.status().as_u16(), r.json().unwrap_or(Value::Null)),
                    Err(_) => (0, Value::Null),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
