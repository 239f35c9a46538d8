//! Operating `govcred serve`: liveness and readiness probes, Prometheus metrics after
//! a real issuance, and graceful shutdown finishing a request that is in flight when
//! SIGTERM arrives.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{free_port, govcred, s};
use serde_json::Value;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// `serve --init` then `serve --config`, reading the announce line.
fn issuer(dir: &Path) -> (Server, std::path::PathBuf) {
    let url = format!("http://127.0.0.1:{}", free_port());
    let out = govcred(&["serve", "--init", s(&dir.join("iss")), "--url", &url]);
    assert!(out.status.success());
    let config = dir.join("iss/issuer.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(["serve", "--config", s(&config), "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let announce: Value = serde_json::from_str(&line).unwrap();
    let addr = announce["listening"].as_str().unwrap().to_string();
    (Server { child, addr }, config)
}

fn get(addr: &str, path: &str) -> (u16, String) {
    let r = reqwest::blocking::Client::new()
        .get(format!("http://{addr}{path}"))
        .timeout(Duration::from_secs(30))
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

#[test]
fn probes_metrics_and_graceful_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (server, config) = issuer(dir.path());
    let addr = server.addr.clone();

    let (status, body) = get(&addr, "/healthz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
    let (status, body) = get(&addr, "/readyz");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ready"}"#));

    // One real issuance, one status list fetch, one client error.
    let offer = govcred(&[
        "offer",
        "create",
        "--config",
        s(&config),
        "--config-id",
        "ExamplePid",
        "--claims",
        s(&dir.path().join("iss/claims/ExamplePid.json")),
        "--no-qr",
    ]);
    assert!(
        offer.status.success(),
        "{}",
        String::from_utf8_lossy(&offer.stderr)
    );
    let link = String::from_utf8(offer.stdout).unwrap().trim().to_string();
    let out = govcred(&[
        "wallet",
        "receive",
        &link,
        "--out",
        s(&dir.path().join("wallet")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(get(&addr, "/status/token/1").0, 200);
    let refused = reqwest::blocking::Client::new()
        .post(format!("http://{addr}/credential"))
        .body("{}")
        .send()
        .unwrap();
    assert!(refused.status().is_client_error());

    let (status, metrics) = get(&addr, "/metrics");
    assert_eq!(status, 200);
    for line in [
        "govcred_credentials_issued_total 1",
        "govcred_status_list_fetches_total",
        "govcred_http_errors_total{class=\"client\"}",
        "govcred_http_requests_total{route=\"/token\",method=\"POST\",status=\"200\"} 1",
        "govcred_http_request_duration_seconds_bucket{le=",
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    // The probes themselves are not counted.
    assert!(!metrics.contains("route=\"/metrics\""), "{metrics}");

    // A request in flight when SIGTERM arrives: half its body sent before, half after.
    let body = r#"{"credential_configuration_id":"ExamplePid","proofs":{}}"#;
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /credential HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let mut server = server;
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused once shutdown has begun…
    assert!(
        TcpStream::connect(&addr).is_err()
            || reqwest::blocking::get(format!("http://{addr}/healthz")).is_err()
    );
    // …but the request in flight is answered.
    conn.write_all(tail.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}
