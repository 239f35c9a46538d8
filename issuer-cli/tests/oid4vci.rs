//! OpenID4VCI on loopback: `govcred serve` started by the test, offers made with
//! `govcred offer create`, credentials received by `govcred wallet receive` and by the
//! core client; HTTP error forms; restart between offer and redemption; a bounded
//! load test. Every test runs on SQLite and on PostgreSQL (`name::sqlite`,
//! `name::postgres`: the `database` of `issuer.toml` is then a `postgres://` URL).

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{govcred, init_issuer, s, Database};
use govcred::crypto::{Alg, SoftwareKey};
use govcred::oid4vci::client::WalletClient;
use govcred::oid4vci::credential::NotificationEvent;
use govcred::oid4vci::offer::OfferLink;
use govcred::oid4vci::token::TokenRequest;
use govcred::platform::{HttpClient, HttpRequest, HttpResponse};
use serde_json::Value;

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(url: &str, config: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(["serve", "--config", s(config)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    let http = Http::new();
    loop {
        let r = http.send(&HttpRequest::get(
            format!("{url}/.well-known/openid-credential-issuer"),
            1 << 20,
        ));
        if matches!(r, Ok(ref r) if r.status == 200) {
            return server;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn offers(config: &Path, config_id: &str, count: usize) -> Vec<String> {
    let dir = config.parent().unwrap();
    let claims = dir.join(format!("claims/{config_id}.json"));
    let qr = dir.join("qr");
    let n = count.to_string();
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
        s(&qr),
        "--count",
        &n,
        "--no-qr",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(links.len(), count);
    links
}

/// The core's HttpClient over reqwest (as the CLI's, which a test cannot import).
struct Http(reqwest::blocking::Client);

impl Http {
    fn new() -> Self {
        Http(
            reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        )
    }
}

impl HttpClient for Http {
    fn send(&self, r: &HttpRequest) -> govcred::Result<HttpResponse> {
        let mut b = self.0.request(
            reqwest::Method::from_bytes(r.method.as_bytes()).unwrap(),
            &r.url,
        );
        for (k, v) in &r.headers {
            b = b.header(k, v);
        }
        let resp = b
            .body(r.body.clone())
            .send()
            .map_err(|e| govcred::Error::Http(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let mut body = Vec::new();
        resp.take(r.max_response_bytes as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| govcred::Error::Http(e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// A count from the issuer's database (the `database` of `issuer.toml`).
fn count(config: &Path, sql: &str) -> i64 {
    let text = std::fs::read_to_string(config).unwrap();
    let database: String = text
        .lines()
        .find_map(|l| l.strip_prefix("database = "))
        .map(|v| v.trim_matches('"').to_string())
        .expect("issuer.toml has a database");
    if database.starts_with("postgres://") {
        let mut c = postgres::Client::connect(&database, postgres::NoTls).unwrap();
        c.query_one(sql, &[]).unwrap().get::<_, i64>(0)
    } else {
        rusqlite::Connection::open(config.parent().unwrap().join(database))
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }
}

fn wallet_receive_each_format_over_loopback(db: &Database) {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), db);
    let server = start(&url, &config);
    for id in ["DigitalVeteranCard", "ExamplePid", "FishingLicence"] {
        let link = offers(&config, id, 1).remove(0);
        let out_dir = tmp.path().join(format!("wallet-{id}"));
        let out = govcred(&["wallet", "receive", &link, "--out", s(&out_dir)]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["valid"], true, "{v:#}");
        assert_eq!(v["status"]["state"], "valid", "{v:#}");
        assert_eq!(v["notification"], "credential_accepted");
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.join(format!("credential-{id}.report.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(report["outcome"], "valid");
        // The saved credential verifies again with the CLI verifier's detection.
        assert!(out_dir.join(format!("credential-{id}.txt")).is_file());
        // Offer redeemed: a second receive is refused with the spec code.
        let again = govcred(&["wallet", "receive", &link, "--out", s(&out_dir)]);
        assert_eq!(again.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("invalid_grant"),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
    // The reference wallet into its encrypted store: the holder key is made in the
    // store's key store, and `wallet list` shows each credential, valid.
    let store = tmp.path().join("wallet-store");
    for id in ["DigitalVeteranCard", "ExamplePid", "FishingLicence"] {
        let link = offers(&config, id, 1).remove(0);
        let out = govcred(&["wallet", "receive", &link, "--store", s(&store)]);
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["stored_id"].is_string(), "{v:#}");
    }
    let listed = govcred(&["wallet", "list", "--store", s(&store), "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let text = listed.to_string();
    let creds = listed["credentials"]
        .as_array()
        .or(listed.as_array())
        .expect("a list");
    assert_eq!(creds.len(), 3, "{listed:#}");
    assert!(text.contains("DigitalVeteranCard"), "{listed:#}");
    let formats: Vec<&str> = creds.iter().filter_map(|c| c["format"].as_str()).collect();
    assert_eq!(formats.len(), 3, "{listed:#}");
    assert!(creds.iter().all(|c| c["state"] == "valid"), "{listed:#}");
    assert_eq!(count(&config, "SELECT COUNT(*) FROM issued"), 6);
    assert_eq!(
        count(
            &config,
            "SELECT COUNT(*) FROM notifications WHERE event = 'credential_accepted'"
        ),
        6
    );
    // QR codes for a single offer.
    let dir = config.parent().unwrap();
    let out = govcred(&[
        "offer",
        "create",
        "--config",
        s(&config),
        "--config-id",
        "FishingLicence",
        "--claims",
        s(&dir.join("claims/FishingLicence.json")),
        "--qr-dir",
        s(&dir.join("qr")),
    ]);
    assert!(out.status.success());
    let pngs: Vec<_> = std::fs::read_dir(dir.join("qr"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(pngs
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "png")
            && std::fs::read(p).unwrap().starts_with(b"\x89PNG")));
    assert!(pngs
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "svg")));
    drop(server);
}

fn http_error_forms_and_restart_keeps_the_offer(db: &Database) {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), db);
    // Offer made while the server is down, redeemed after a restart.
    let link = offers(&config, "ExamplePid", 1).remove(0);
    let first = start(&url, &config);
    let pending = offers(&config, "DigitalVeteranCard", 1).remove(0);
    drop(first);
    let server = start(&url, &config);
    let http = Arc::new(Http::new());
    let client = WalletClient::new(http.clone());
    let holder = SoftwareKey::generate(Alg::ES256).unwrap();
    let got = client.receive(&pending, &holder).unwrap();
    assert!(got.report.valid, "{}", got.report.to_json_pretty());
    client
        .notify(&got, NotificationEvent::CredentialAccepted, None)
        .unwrap();

    // Token endpoint: a reused code is invalid_grant (400, no-store).
    let OfferLink::ByValue(offer) = OfferLink::parse(&link).unwrap() else {
        panic!()
    };
    let form = TokenRequest {
        pre_authorized_code: offer.code().unwrap().into(),
        tx_code: None,
    }
    .to_form();
    let post_form = |body: &str| {
        http.send(&HttpRequest::post(
            format!("{url}/token"),
            "application/x-www-form-urlencoded",
            body.as_bytes().to_vec(),
            1 << 16,
        ))
        .unwrap()
    };
    assert_eq!(post_form(&form).status, 200);
    let r = post_form(&form);
    assert_eq!(r.status, 400);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).unwrap()["error"],
        "invalid_grant"
    );
    // Credential endpoint: no token → 401 `Bearer`; bad token → 401 invalid_token.
    let cred = |auth: Option<&str>| {
        let mut req = HttpRequest::post(
            format!("{url}/credential"),
            "application/json",
            br#"{"proof":{"proof_type":"jwt","jwt":"x"}}"#.to_vec(),
            1 << 16,
        );
        if let Some(a) = auth {
            req = req.with_header("authorization", a);
        }
        http.send(&req).unwrap()
    };
    let r = cred(None);
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r = cred(Some("Bearer eyJhbGciOiJFUzI1NiJ9.e30.AAAA"));
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    // Unknown path.
    let r = http
        .send(&HttpRequest::get(format!("{url}/nope"), 1 << 16))
        .unwrap();
    assert_eq!(r.status, 404);
    // Published documents.
    for p in [
        "/.well-known/did.json",
        "/.well-known/jwks.json",
        "/iacas",
        "/.well-known/oauth-authorization-server",
        "/status/token/1",
        "/status/bitstring/1",
    ] {
        let r = http
            .send(&HttpRequest::get(format!("{url}{p}"), 1 << 20))
            .unwrap();
        assert_eq!(r.status, 200, "{p}");
    }
    drop(server);
}

/// The load tests of the two databases take turns (each uses the machine fully).
static LOAD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn load_on_loopback_no_5xx_no_duplicate_status_index(db: &Database) {
    let _turn = LOAD.lock().unwrap_or_else(|e| e.into_inner());
    // 2 000 by default (about 40 s for a debug build on a busy 2-core machine).
    let total: usize = std::env::var("GOVCRED_LOAD_TOTAL")
        .ok()
        .and_then(|v| v.parse().ok())
        // On PostgreSQL 500: tests/scale.rs is the multi-instance load test there.
        .unwrap_or(if db.url().is_some() { 500 } else { 2000 });
    const THREADS: usize = 8;
    let total = total.max(THREADS * 2) / (THREADS * 2) * (THREADS * 2);
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), db);
    let mut links = offers(&config, "ExamplePid", total / 2);
    links.extend(offers(&config, "DigitalVeteranCard", total / 2));
    let server = start(&url, &config);
    let rss = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    };
    let pid = server.child.id();
    let rss_before = rss(pid);
    let started = Instant::now();
    let chunks: Vec<Vec<String>> = links.chunks(total / THREADS).map(|c| c.to_vec()).collect();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            std::thread::spawn(move || {
                let client = WalletClient::new(Arc::new(Http::new()));
                let holder = SoftwareKey::generate(Alg::ES256).unwrap();
                let mut failures = Vec::new();
                for link in chunk {
                    match client.receive(&link, &holder) {
                        Ok(got) if got.report.valid => {
                            if let Err(e) =
                                client.notify(&got, NotificationEvent::CredentialAccepted, None)
                            {
                                failures.push(e.to_string());
                            }
                        }
                        Ok(got) => failures.push(got.report.to_json_pretty()),
                        Err(e) => failures.push(e.to_string()),
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    let rss_after = rss(pid);
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(count(&config, "SELECT COUNT(*) FROM issued"), total as i64);
    assert_eq!(
        count(
            &config,
            "SELECT COUNT(DISTINCT status_uri || '#' || status_index) FROM issued"
        ),
        total as i64
    );
    assert_eq!(
        count(&config, "SELECT COUNT(*) FROM notifications"),
        total as i64
    );
    eprintln!(
        "load: {total} issuances from {THREADS} threads in {:.1} s ({:.0}/s); server RSS {} → {} KiB",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        rss_before,
        rss_after
    );
    // No timed assertion (throughput is measured by `govcred bench`): the two
    // databases' runs share a busy machine.
    drop(server);
}

crate::on_both_databases!(
    wallet_receive_each_format_over_loopback,
    http_error_forms_and_restart_keeps_the_offer,
    load_on_loopback_no_5xx_no_duplicate_status_index,
    batch_offer_letters_are_redeemed_by_the_server,
);
/// Decode a QR code PNG (8-bit greyscale, as `offer::qr` writes it) to its text.
fn decode_qr(png_bytes: &[u8]) -> String {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * info.line_size + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

fn batch_offer_letters_are_redeemed_by_the_server(db: &Database) {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), db);
    let dir = tmp.path();
    std::fs::write(
        dir.join("letters.toml"),
        format!(
            r#"format = "sd-jwt-vc"
output = "offer"
id_column = "id"

[offer]
config = "{}"
configuration_id = "ExamplePid"
letter = true
welsh = true
name_column = "name"
credential_name = "example ID"

[claims]
given_name = {{ column = "given" }}
family_name = {{ column = "family" }}
birthdate = {{ column = "dob", type = "date" }}
"#,
            s(&config)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("people.csv"),
        "id,name,given,family,dob\n\
         P1,Sam Smith,Sam,Smith,1970-01-01\n\
         P2,Alex Jones,Alex,Jones,1980-02-30\n\
         P3,Ana Lloyd,Ana,Lloyd,1990-03-03\n\
         P4,Bo Evans,Bo,Evans,2000-04-04\n",
    )
    .unwrap();
    let out = dir.join("run");
    let (input, template) = (dir.join("people.csv"), dir.join("letters.toml"));
    let run = |resume: bool| {
        let mut args = vec![
            "issue-batch",
            "--input",
            s(&input),
            "--template",
            s(&template),
            "--out",
            s(&out),
        ];
        if resume {
            args.push("--resume");
        }
        let r = govcred(&args);
        assert_eq!(
            r.status.code(),
            Some(3),
            "one bad row: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(String::from_utf8_lossy(&r.stderr).contains("line 3 (row P2)"));
        serde_json::from_slice::<Value>(&r.stdout).unwrap()
    };
    let summary = run(false);
    assert_eq!(summary["issued"], 3, "{summary}");
    assert_eq!(count(&config, "SELECT COUNT(*) FROM offers"), 3);

    let ledger: Vec<Value> = std::fs::read_to_string(out.join("ledger.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ledger.len(), 3);
    let offers: Vec<Value> = std::fs::read_to_string(out.join("offers.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(offers.len(), 3);
    let mut links = std::collections::HashMap::new();
    for o in &offers {
        let row = o["row"].as_str().unwrap();
        let link = o["link"].as_str().unwrap();
        let e = ledger.iter().find(|e| e["row"] == row).unwrap();
        assert_eq!(e["offer"], "ExamplePid");
        assert_eq!(e["credential_id"], o["credential_id"]);
        assert_eq!(
            e["sha256"],
            govcred::b64::encode(govcred::crypto::sha256(link.as_bytes())).as_str()
        );
        // The link is a GOV.UK offer for the configuration, with a pre-authorised code.
        let OfferLink::ByValue(offer) = OfferLink::parse(link).unwrap() else {
            panic!("offer by value expected: {link}");
        };
        assert_eq!(offer.credential_configuration_ids, ["ExamplePid"]);
        assert!(offer.code().is_some());
        // The QR code (PNG) decodes to the link; the SVG and the letter exist.
        let png_bytes = std::fs::read(out.join(format!("offers/{row}.png"))).unwrap();
        assert_eq!(decode_qr(&png_bytes), link);
        let svg = std::fs::read_to_string(out.join(format!("offers/{row}.svg"))).unwrap();
        assert!(svg.contains("<svg"));
        let html = std::fs::read_to_string(out.join(format!("offers/{row}.html"))).unwrap();
        assert!(html.contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))));
        assert!(html.contains("<svg"), "QR code inline");
        assert!(html.contains("size: A4"));
        assert!(html.contains("Add your example ID to your GOV.UK Wallet"));
        assert!(html.contains("lang=\"cy\""), "the Welsh page");
        links.insert(row.to_string(), link.to_string());
    }
    assert!(html_has_name(
        &out.join("offers/P1.html"),
        "Dear Sam Smith,"
    ));
    assert!(
        !out.join("offers/P2.png").exists(),
        "the bad row has no offer"
    );

    // Resumed: nothing offered twice.
    let again = run(true);
    assert_eq!(again["issued"], 0, "{again}");
    assert_eq!(again["already_issued"], 3);
    assert_eq!(count(&config, "SELECT COUNT(*) FROM offers"), 3);

    // The server redeems a batch offer like any other.
    let server = start(&url, &config);
    let wallet = dir.join("wallet");
    let r = govcred(&["wallet", "receive", &links["P3"], "--out", s(&wallet)]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["valid"], true, "{v:#}");
    assert!(wallet.join("credential-ExamplePid.txt").is_file());
    assert_eq!(count(&config, "SELECT COUNT(*) FROM issued"), 1);
    drop(server);
}

fn html_has_name(p: &Path, text: &str) -> bool {
    std::fs::read_to_string(p).unwrap().contains(text)
}
