//! The staff console of `govcred serve --console` over HTTP: every route refuses an
//! anonymous request and a wrong role; forms without the CSRF token are refused;
//! sign-in locks after repeated failures; the whole counter flow (issue from the
//! generated form, preview, letter, `govcred wallet receive`, revoke) works; no
//! personal data appears in URLs, the audit log or the server's output.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{govcred, init_issuer, ok_json, s, Database};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
/// Personal data typed into the form: must never leave the pages that show it.
const SURNAME: &str = "Zyxwvutson";
const GIVEN: &str = "Qwertyna";

struct Server {
    child: Child,
}

impl Server {
    /// Stop the server and return what it wrote to stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn add_user(config: &Path, user: &str, role: &str) {
    // The server's audit log (tmp/audit.jsonl, beside tmp/iss/issuer.toml's directory).
    let audit = config
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("audit.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args([
            "console",
            "add-user",
            "--audit-log",
            s(&audit),
            "--config",
            s(config),
            "--user",
            user,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["role"], role);
    assert!(v["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/"));
}

fn start(url: &str, config: &Path, audit: &Path) -> Server {
    start_with(url, config, audit, &[])
}

/// The `govcred serve --console` command, with `extra` arguments.
fn serve_command(config: &Path, audit: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govcred"));
    cmd.args([
        "serve",
        "--config",
        s(config),
        "--console",
        "--console-insecure-cookies",
        "--console-audit-log",
        s(audit),
        "--console-proxy-header",
        "x-auth-user",
    ])
    .args(extra);
    cmd
}

fn start_with(url: &str, config: &Path, audit: &Path, extra: &[&str]) -> Server {
    let child = serve_command(config, audit, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server = Server { child };
    let deadline = Instant::now() + Duration::from_secs(20);
    let c = client();
    loop {
        if matches!(c.get(format!("{url}/console/sign-in")).send(), Ok(r) if r.status() == 200) {
            return server;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn totp(config: &Path, user: &str) -> String {
    let out = govcred(&["console", "totp", "--config", s(config), "--user", user]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The value of the first `name="csrf"` hidden input.
fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[i..i + html[i..].find('"').unwrap()].to_string()
}

fn set_cookie(r: &reqwest::blocking::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v[name.len() + 1..].split(';').next().unwrap().to_string())
}

/// A signed-in staff member: the session cookie and the CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn sign_in_attempt(
    url: &str,
    user: &str,
    password: &str,
    code: &str,
) -> reqwest::blocking::Response {
    let c = client();
    let page = c.get(format!("{url}/console/sign-in")).send().unwrap();
    let pre = set_cookie(&page, "govcred-signin").expect("the sign-in cookie");
    let csrf = csrf_of(&page.text().unwrap());
    c.post(format!("{url}/console/sign-in"))
        .header("cookie", format!("govcred-signin={pre}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("csrf", csrf.as_str()),
            ("user", user),
            ("password", password),
            ("code", code),
        ]))
        .send()
        .unwrap()
}

fn sign_in(url: &str, config: &Path, user: &str) -> Session {
    // A code is accepted once: wait for the next step if this one was used.
    for _ in 0..3 {
        let r = sign_in_attempt(url, user, PASSWORD, &totp(config, user));
        if r.status() == 303 {
            let v = r.headers()["set-cookie"].to_str().unwrap().to_string();
            assert!(
                v.contains("HttpOnly") && v.contains("SameSite=Strict"),
                "{v}"
            );
            let cookie = set_cookie(&r, "govcred-session").unwrap();
            let home = client()
                .get(format!("{url}/console"))
                .header("cookie", format!("govcred-session={cookie}"))
                .send()
                .unwrap();
            assert_eq!(home.status(), 200);
            let csrf = csrf_of(&home.text().unwrap());
            return Session { cookie, csrf };
        }
        std::thread::sleep(Duration::from_secs(31));
    }
    panic!("{user} could not sign in");
}

impl Session {
    fn get(&self, url: &str) -> reqwest::blocking::Response {
        client()
            .get(url)
            .header("cookie", format!("govcred-session={}", self.cookie))
            .send()
            .unwrap()
    }
    fn post(
        &self,
        url: &str,
        form: &[(&str, &str)],
        with_csrf: bool,
    ) -> reqwest::blocking::Response {
        let mut f: Vec<(&str, &str)> = form.to_vec();
        if with_csrf {
            f.push(("csrf", &self.csrf));
        }
        client()
            .post(url)
            .header("cookie", format!("govcred-session={}", self.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(enc(&f))
            .send()
            .unwrap()
    }
    fn post_multipart(
        &self,
        url: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &[u8])>,
    ) -> reqwest::blocking::Response {
        self.post_file(url, fields, file.map(|(n, b)| (n, "p.bin", b)))
    }
    /// A multipart form with a file field `(name, file name, bytes)`.
    fn post_file(
        &self,
        url: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &[u8])>,
    ) -> reqwest::blocking::Response {
        let boundary = "----govcred-test-boundary";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some((name, file_name, bytes)) = file {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        client()
            .post(url)
            .header("cookie", format!("govcred-session={}", self.cookie))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .unwrap()
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
fn enc(pairs: &[(&str, &str)]) -> String {
    let e = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", e(k), e(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Check `credential` on the public `/verify` page; returns the result page.
fn verify_page(url: &str, credential: &str) -> String {
    let page = client().get(format!("{url}/verify")).send().unwrap();
    assert_eq!(page.status(), 200);
    let token = set_cookie(&page, "govcred-verify").unwrap();
    let csrf = csrf_of(&page.text().unwrap());
    let anon = Session {
        cookie: String::new(),
        csrf: String::new(),
    };
    // Without the form's token: refused.
    assert_eq!(
        anon.post_multipart(
            &format!("{url}/verify"),
            &[("credential", credential)],
            None
        )
        .status(),
        403
    );
    let boundary = "----govcred-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"credential\"\r\n\r\n{credential}\r\n--{boundary}--\r\n"
    );
    let r = client()
        .post(format!("{url}/verify"))
        .header("cookie", format!("govcred-verify={token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().unwrap()
}

/// HTML attribute text back to the string (the escapes askama writes).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').unwrap();
        let entity = &tail[1..end];
        let ch = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            e if e.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap()
            }
            e => char::from_u32(e[1..].parse().unwrap()).unwrap(),
        };
        out.push(ch);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The `href` of the element with `id`.
fn href_of(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" href=\"");
    let i = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {html}"))
        + marker.len();
    unescape(&html[i..i + html[i..].find('"').unwrap()])
}

fn js(r: reqwest::blocking::Response) -> Value {
    serde_json::from_slice(&r.bytes().unwrap()).unwrap()
}

fn location(r: &reqwest::blocking::Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The routes, with a request body for the POSTs. `{ref}` is a real reference.
fn routes(reference: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GET", "/console".into()),
        ("POST", "/console/sign-out".into()),
        ("GET", "/console/issue".into()),
        ("GET", "/console/issue/ExamplePid".into()),
        ("POST", "/console/issue/ExamplePid".into()),
        ("POST", "/console/drafts/abc".into()),
        ("GET", "/console/credentials".into()),
        ("GET", format!("/console/credentials/{reference}")),
        ("GET", format!("/console/credentials/{reference}/letter")),
        ("POST", format!("/console/credentials/{reference}/status")),
    ]
}

/// No link, form target or image address on a page carries the personal data typed in.
fn no_personal_data_in_urls(html: &str) {
    for attr in ["href=\"", "action=\"", "src=\""] {
        for (i, _) in html.match_indices(attr) {
            let start = i + attr.len();
            let url = unescape(&html[start..start + html[start..].find('"').unwrap()]);
            for pd in [SURNAME, GIVEN, "1970-01-01"] {
                assert!(!url.contains(pd), "{pd} in {url}");
            }
        }
    }
}

/// Fill and submit the ExamplePid form; returns the reference.
fn issue_pid(url: &str, clerk: &Session) -> String {
    let form = clerk.get(&format!("{url}/console/issue/ExamplePid"));
    assert_eq!(form.status(), 200);
    let html = form.text().unwrap();
    // Generated from claims/ExamplePid.json: given_name, family_name, birthdate.
    assert!(
        html.contains("Given name") && html.contains("Family name") && html.contains("Birthdate"),
        "{html}"
    );
    // Validation: an impossible date and an empty field, reported in an error summary.
    let bad = clerk.post_multipart(
        &format!("{url}/console/issue/ExamplePid"),
        &[
            ("csrf", &clerk.csrf),
            ("holder_name", "Q Z"),
            ("f1", GIVEN),
            ("f2", ""),
            ("f3", "1970-02-30"),
        ],
        None,
    );
    assert_eq!(bad.status(), 400);
    let bad = bad.text().unwrap();
    assert!(
        bad.contains("govuk-error-summary") && bad.contains("real date"),
        "{bad}"
    );
    // Field order is the example's (serde_json keeps keys sorted): birthdate, family_name, given_name.
    let preview = clerk.post_multipart(
        &format!("{url}/console/issue/ExamplePid"),
        &[
            ("csrf", &clerk.csrf),
            ("holder_name", &format!("{GIVEN} {SURNAME}")),
            ("f1", "1970-01-01"),
            ("f2", SURNAME),
            ("f3", GIVEN),
        ],
        None,
    );
    assert_eq!(preview.status(), 200);
    let preview = preview.text().unwrap();
    no_personal_data_in_urls(&preview);
    assert!(
        preview.contains(SURNAME) && preview.contains("Check the details"),
        "{preview}"
    );
    let i = preview.find("/console/drafts/").unwrap();
    let draft = &preview[i..i + preview[i..].find('"').unwrap()];
    let done = clerk.post(&format!("{url}{draft}"), &[], true);
    assert_eq!(done.status(), 303);
    let loc = location(&done);
    assert!(loc.starts_with("/console/credentials/GC-"), "{loc}");
    loc.trim_start_matches("/console/credentials/")
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

fn console_security_and_counter_flow(db: &Database) {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), db);
    for (u, r) in [
        ("clerk", "issuer"),
        ("rita", "revoker"),
        ("audrey", "auditor"),
        ("ada", "admin"),
        ("lou", "issuer"),
    ] {
        add_user(&config, u, r);
    }
    let audit = tmp.path().join("audit.jsonl");
    let server = start(&url, &config, &audit);

    // Security headers, and the sign-in page works without the GOV.UK assets.
    let page = client()
        .get(format!("{url}/console/sign-in"))
        .send()
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().unwrap();
    assert!(
        html.contains("<label class=\"govuk-label\" for=\"user\">")
            && html.contains("govuk-skip-link")
    );

    // Sign-in without the form's token is refused, even with the right code.
    let noform = client()
        .post(format!("{url}/console/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("user", "clerk"),
            ("password", PASSWORD),
            ("code", &totp(&config, "clerk")),
        ]))
        .send()
        .unwrap();
    assert_eq!(noform.status(), 403);

    let clerk = sign_in(&url, &config, "clerk");
    let rita = sign_in(&url, &config, "rita");
    let audrey = sign_in(&url, &config, "audrey");
    let ada = sign_in(&url, &config, "ada");

    let reference = issue_pid(&url, &clerk);

    // Anonymous: every route sends to sign-in, and does nothing.
    for (method, path) in routes(&reference) {
        let r = match method {
            "GET" => client().get(format!("{url}{path}")).send().unwrap(),
            _ => client()
                .post(format!("{url}{path}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(enc(&[("csrf", "x"), ("action", "revoke"), ("reason", "x")]))
                .send()
                .unwrap(),
        };
        assert_eq!(r.status(), 303, "{method} {path}");
        assert_eq!(location(&r), "/console/sign-in", "{method} {path}");
    }
    // A forged or stale session cookie is anonymous too.
    let forged = client()
        .get(format!("{url}/console"))
        .header("cookie", "govcred-session=forged")
        .send()
        .unwrap();
    assert_eq!(forged.status(), 303);

    // Wrong roles: the auditor and revoker cannot issue or print; the issuer and the
    // auditor cannot change a status.
    for s in [&audrey, &rita] {
        for path in ["/console/issue", "/console/issue/ExamplePid"] {
            assert_eq!(s.get(&format!("{url}{path}")).status(), 403, "{path}");
        }
        assert_eq!(
            s.get(&format!("{url}/console/credentials/{reference}/letter"))
                .status(),
            403
        );
        assert_eq!(
            s.post_multipart(
                &format!("{url}/console/issue/ExamplePid"),
                &[("csrf", &s.csrf)],
                None
            )
            .status(),
            403
        );
        assert_eq!(
            s.post(&format!("{url}/console/drafts/abc"), &[], true)
                .status(),
            403
        );
    }
    for s in [&clerk, &audrey] {
        let r = s.post(
            &format!("{url}/console/credentials/{reference}/status"),
            &[("action", "withdraw"), ("reason", "test")],
            true,
        );
        assert_eq!(r.status(), 403);
    }
    // Everyone signed in can read.
    for s in [&clerk, &rita, &audrey, &ada] {
        assert_eq!(
            s.get(&format!("{url}/console/credentials/{reference}"))
                .status(),
            200
        );
        assert_eq!(s.get(&format!("{url}/console")).status(), 200);
        assert_eq!(s.get(&format!("{url}/console/credentials")).status(), 200);
    }

    // CSRF: a POST without the token, or with another session's, is refused.
    let r = rita.post(
        &format!("{url}/console/credentials/{reference}/status"),
        &[("action", "withdraw"), ("reason", "x")],
        false,
    );
    assert_eq!(r.status(), 403);
    let r = client()
        .post(format!("{url}/console/credentials/{reference}/status"))
        .header("cookie", format!("govcred-session={}", rita.cookie))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("action", "withdraw"),
            ("reason", "x"),
            ("csrf", &clerk.csrf),
        ]))
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        clerk
            .post_multipart(
                &format!("{url}/console/issue/ExamplePid"),
                &[("holder_name", "x")],
                None
            )
            .status(),
        403
    );
    assert_eq!(
        clerk
            .post(&format!("{url}/console/sign-out"), &[], false)
            .status(),
        403
    );

    // Search by reference (case and spaces forgiven); unknown references are not found.
    let r = clerk.get(&format!(
        "{url}/console/credentials?reference={}",
        reference.to_lowercase()
    ));
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/console/credentials/{reference}"));
    assert_eq!(
        clerk
            .get(&format!("{url}/console/credentials?reference=GC-0000-0000"))
            .status(),
        404
    );
    assert_eq!(
        clerk
            .get(&format!("{url}/console/credentials/GC-0000-0000"))
            .status(),
        404
    );

    // The letter: QR code, deep link, Welsh.
    let letter = clerk
        .get(&format!("{url}/console/credentials/{reference}/letter"))
        .text()
        .unwrap();
    assert!(
        letter.contains("data:image/png;base64,") && letter.contains(SURNAME),
        "{letter}"
    );
    let link = href_of(&letter, "offer-link");
    no_personal_data_in_urls(&letter);
    let welsh = clerk
        .get(&format!(
            "{url}/console/credentials/{reference}/letter?lang=cy"
        ))
        .text()
        .unwrap();
    assert!(welsh.contains("lang=\"cy\"") && welsh.contains("Sganiwch"));

    // The holder receives it with the CLI wallet.
    let page = rita
        .get(&format!("{url}/console/credentials/{reference}"))
        .text()
        .unwrap();
    assert!(page.contains("Waiting to be collected"), "{page}");
    let out = govcred(&[
        "wallet",
        "receive",
        &link,
        "--out",
        s(&tmp.path().join("wallet")),
    ]);
    assert!(
        out.status.success(),
        "{link}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"]["state"], "valid", "{v:#}");
    let page = rita
        .get(&format!("{url}/console/credentials/{reference}"))
        .text()
        .unwrap();
    assert!(
        page.contains(">Valid<") && page.contains("/status/token/1"),
        "{page}"
    );
    let credential =
        std::fs::read_to_string(tmp.path().join("wallet/credential-ExamplePid.txt")).unwrap();
    let checked = verify_page(&url, &credential);
    assert!(
        checked.contains("id=\"outcome\">Valid<") && checked.contains("Not revoked"),
        "{checked}"
    );
    assert!(!checked.contains(SURNAME), "the check shows no claims");

    // The verifier page's cross-device request, answered by `govcred wallet present`:
    // the result shows only the requested claim (the birthdate), not the names.
    let page = client().get(format!("{url}/verify")).send().unwrap();
    let token = set_cookie(&page, "govcred-verify").unwrap();
    let csrf = csrf_of(&page.text().unwrap());
    let started = client()
        .post(format!("{url}/verify/request"))
        .header("cookie", format!("govcred-verify={token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(enc(&[("csrf", &csrf)]))
        .send()
        .unwrap();
    assert_eq!(started.status(), 303);
    let session_url = format!("{url}{}", location(&started));
    let waiting = client().get(&session_url).send().unwrap().text().unwrap();
    assert!(
        waiting.contains("Scan with your wallet") && waiting.contains("data:image/png;base64,"),
        "{waiting}"
    );
    let request = href_of(&waiting, "request-link");
    assert!(request.starts_with("openid4vp://?"), "{request}");
    let wallet = tmp.path().join("wallet");
    let presented = common::ok_json(&[
        "wallet",
        "present",
        &request,
        "--credential",
        s(&wallet.join("credential-ExamplePid.txt")),
        "--holder-key",
        s(&wallet.join("holder.jwk")),
    ]);
    assert_eq!(presented["verifier_status"], 200, "{presented:#}");
    let result = client().get(&session_url).send().unwrap().text().unwrap();
    no_personal_data_in_urls(&result);
    assert!(result.contains("id=\"outcome\">Valid<"), "{result}");
    assert!(
        result.contains("birthdate") && result.contains("1970-01-01"),
        "{result}"
    );
    assert!(
        !result.contains(SURNAME) && !result.contains(GIVEN),
        "{result}"
    );
    // A second answer to the same request is refused.
    let again = govcred(&[
        "wallet",
        "present",
        &request,
        "--credential",
        s(&wallet.join("credential-ExamplePid.txt")),
        "--holder-key",
        s(&wallet.join("holder.jwk")),
    ]);
    assert_eq!(again.status.code(), Some(1));

    // Revoke needs a reason; then the published list says revoked.
    let r = rita.post(
        &format!("{url}/console/credentials/{reference}/status"),
        &[("action", "revoke"), ("reason", "")],
        true,
    );
    assert_eq!(r.status(), 400);
    assert!(r.text().unwrap().contains("Enter the reason"));
    let r = rita.post(
        &format!("{url}/console/credentials/{reference}/status"),
        &[
            ("action", "revoke"),
            ("reason", "Licence surrendered at the counter"),
        ],
        true,
    );
    assert_eq!(r.status(), 303);
    let page = rita
        .get(&format!("{url}/console/credentials/{reference}"))
        .text()
        .unwrap();
    assert!(
        page.contains(">Revoked<") && page.contains("Licence surrendered"),
        "{page}"
    );
    let r = rita.post(
        &format!("{url}/console/credentials/{reference}/status"),
        &[("action", "reinstate"), ("reason", "oops")],
        true,
    );
    assert_eq!(r.status(), 409, "revocation is permanent");
    let checked = verify_page(&url, &credential);
    assert!(
        checked.contains("id=\"outcome\">Not valid<") && checked.contains("Revoked"),
        "{checked}"
    );
    let garbage = verify_page(&url, "not a credential");
    assert!(
        garbage.contains("Not valid") || garbage.contains("Could not check"),
        "{garbage}"
    );
    // The status list the issuer publishes says so (checked against its DID document).
    let i = page.find("(entry ").unwrap() + 7;
    let index = &page[i..i + page[i..].find(')').unwrap()];
    let did = client()
        .get(format!("{url}/.well-known/did.json"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let list = client()
        .get(format!("{url}/status/token/1"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    std::fs::write(tmp.path().join("did.json"), &did).unwrap();
    std::fs::write(tmp.path().join("list.jwt"), &list).unwrap();
    let checked = common::ok_json(&[
        "status",
        "check",
        s(&tmp.path().join("list.jwt")),
        "--index",
        index,
        "--did-doc",
        s(&tmp.path().join("did.json")),
        "--json",
    ]);
    assert_eq!(checked["statuses"][0]["status"], "invalid", "{checked:#}");

    // A second credential: withdrawn before it is collected; its link no longer works.
    // An mdoc with a portrait: the upload's type and size are checked.
    let fishing = format!("{url}/console/issue/FishingLicence");
    let form = clerk.get(&fishing).text().unwrap();
    assert!(
        form.contains("type=\"file\"") && form.contains("Licence number"),
        "{form}"
    );
    let fields = [
        ("csrf", clerk.csrf.as_str()),
        ("holder_name", "Q Z"),
        ("f1", "2028-12-10"),
        ("f2", SURNAME),
        ("f3", GIVEN),
        ("f4", "2026-01-01"),
        ("f5", "009878863"),
    ];
    let gif = clerk.post_multipart(
        &fishing,
        &fields,
        Some(("portrait", b"GIF89a not a portrait")),
    );
    assert_eq!(gif.status(), 400);
    assert!(gif.text().unwrap().contains("must be a JPEG or PNG"));
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(150 * 1024, 0);
    let big = clerk.post_multipart(&fishing, &fields, Some(("portrait", &big)));
    assert_eq!(big.status(), 400);
    assert!(big.text().unwrap().contains("100 KB or smaller"));
    let huge = vec![0u8; 400 * 1024];
    assert_eq!(
        clerk
            .post_multipart(&fishing, &fields, Some(("portrait", &huge)))
            .status(),
        400
    );
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[7u8; 64]);
    let preview = clerk.post_multipart(&fishing, &fields, Some(("portrait", &png)));
    assert_eq!(preview.status(), 200);
    let preview = preview.text().unwrap();
    assert!(preview.contains("Uploaded"), "{preview}");
    let i = preview.find("/console/drafts/").unwrap();
    let draft = &preview[i..i + preview[i..].find('"').unwrap()];
    // Only the staff member who made a draft can confirm it.
    assert_eq!(ada.post(&format!("{url}{draft}"), &[], true).status(), 404);
    let done = clerk.post(&format!("{url}{draft}"), &[], true);
    assert_eq!(done.status(), 303);
    let mdoc_ref = location(&done)
        .trim_start_matches("/console/credentials/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let letter = clerk
        .get(&format!("{url}/console/credentials/{mdoc_ref}/letter"))
        .text()
        .unwrap();
    let out = govcred(&[
        "wallet",
        "receive",
        &href_of(&letter, "offer-link"),
        "--out",
        s(&tmp.path().join("wallet-mdoc")),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The draft is used once.
    assert_eq!(
        clerk.post(&format!("{url}{draft}"), &[], true).status(),
        404
    );

    let second = issue_pid(&url, &ada);
    let r = ada.post(
        &format!("{url}/console/credentials/{second}/status"),
        &[("action", "withdraw"), ("reason", "Issued in error")],
        true,
    );
    assert_eq!(r.status(), 303);
    assert!(ada
        .get(&format!("{url}/console/credentials/{second}"))
        .text()
        .unwrap()
        .contains("Offer withdrawn"));

    // The JSON API: anonymous refused (401), bearer tokens act with their account's role,
    // a session's POST needs its CSRF token in X-CSRF-Token.
    let api = format!("{url}/console/api/credentials");
    let doc = js(client().get(format!("{url}/openapi.json")).send().unwrap());
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        client()
            .get(format!("{api}/{reference}"))
            .send()
            .unwrap()
            .status(),
        401
    );
    assert_eq!(client().post(&api).body("{}").send().unwrap().status(), 401);
    assert_eq!(
        client()
            .post(format!("{api}/{reference}/status"))
            .body("{}")
            .send()
            .unwrap()
            .status(),
        401
    );
    let token = |user: &str| {
        common::ok_json(&[
            "console",
            "add-token",
            "--config",
            s(&config),
            "--user",
            user,
            "--audit-log",
            s(&audit),
        ])["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (clerk_token, rita_token) = (token("clerk"), token("rita"));
    let bearer = |t: &str, method: &str, path: &str, body: Value| {
        let r = if method == "GET" {
            client().get(path)
        } else {
            client().post(path).body(body.to_string())
        };
        r.header("authorization", format!("Bearer {t}"))
            .send()
            .unwrap()
    };
    let pid = serde_json::json!({"configuration_id": "ExamplePid", "holder_name": "Q Z", "claims": {"given_name": GIVEN, "family_name": SURNAME, "birthdate": "1970-01-01"}});
    assert_eq!(bearer(&rita_token, "POST", &api, pid.clone()).status(), 403);
    assert_eq!(bearer("forged", "POST", &api, pid.clone()).status(), 401);
    let made = bearer(&clerk_token, "POST", &api, pid);
    assert_eq!(made.status(), 201);
    let made = js(made);
    let third = made["reference"].as_str().unwrap().to_string();
    assert!(made["offer_link"]
        .as_str()
        .unwrap()
        .contains("credential_offer"));
    let got = js(bearer(
        &rita_token,
        "GET",
        &format!("{api}/{third}"),
        Value::Null,
    ));
    assert_eq!(got["state"], "offered", "{got:#}");
    assert!(!got.to_string().contains(SURNAME));
    let withdraw = serde_json::json!({"action": "withdraw", "reason": "Duplicate"});
    assert_eq!(
        bearer(
            &clerk_token,
            "POST",
            &format!("{api}/{third}/status"),
            withdraw.clone()
        )
        .status(),
        403
    );
    let by_session = client()
        .post(format!("{api}/{third}/status"))
        .header("cookie", format!("govcred-session={}", ada.cookie))
        .body(withdraw.to_string())
        .send()
        .unwrap();
    assert_eq!(
        by_session.status(),
        403,
        "a session's POST without X-CSRF-Token"
    );
    let done = bearer(
        &rita_token,
        "POST",
        &format!("{api}/{third}/status"),
        withdraw.clone(),
    );
    assert_eq!(done.status(), 200);
    assert_eq!(js(done)["state"], "withdrawn");
    assert_eq!(
        bearer(
            &rita_token,
            "POST",
            &format!("{api}/{third}/status"),
            withdraw
        )
        .status(),
        409
    );
    let revoked = js(client()
        .get(format!("{api}/{reference}"))
        .header("cookie", format!("govcred-session={}", audrey.cookie))
        .send()
        .unwrap());
    assert_eq!(revoked["state"], "revoked", "{revoked:#}");
    assert_eq!(revoked["history"][0]["action"], "revoked");

    // Lockout: five wrong passwords lock the account; then even the right code fails.
    for _ in 0..5 {
        let r = sign_in_attempt(&url, "lou", "wrong password!", "000000");
        assert_eq!(r.status(), 401);
    }
    let r = sign_in_attempt(&url, "lou", PASSWORD, &totp(&config, "lou"));
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("locked"));

    // One client address is limited to 20 sign-in attempts per 5 minutes (429).
    let mut limited = None;
    for _ in 0..25 {
        let r = sign_in_attempt(&url, "nobody", "wrong password!", "000000");
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), 401);
    }
    let limited = limited.expect("sign-in is rate-limited per client");
    assert_eq!(limited.headers()["retry-after"], "300");

    // Single sign-on through a proxy on the same host: its header names a local account.
    let proxy = |who: Option<&str>| {
        let mut r = client().get(format!("{url}/console/sign-in/proxy"));
        if let Some(w) = who {
            r = r.header("x-auth-user", w);
        }
        r.send().unwrap()
    };
    assert_eq!(proxy(None).status(), 401);
    assert_eq!(proxy(Some("stranger")).status(), 403);
    let sso = proxy(Some("audrey"));
    assert_eq!(sso.status(), 303);
    let cookie = set_cookie(&sso, "govcred-session").unwrap();
    let home = client()
        .get(format!("{url}/console/issue"))
        .header("cookie", format!("govcred-session={cookie}"))
        .send()
        .unwrap();
    assert_eq!(
        home.status(),
        403,
        "the local account's role (auditor) applies"
    );

    // Sign out ends the session.
    assert_eq!(
        audrey
            .post(&format!("{url}/console/sign-out"), &[], true)
            .status(),
        303
    );
    assert_eq!(audrey.get(&format!("{url}/console")).status(), 303);

    // The audit log chains and records the actions, without personal data.
    let log = std::fs::read_to_string(&audit).unwrap();
    for action in [
        "console_user_added",
        "console_api_token_added",
        "console_sign_in",
        "console_issue",
        "console_letter",
        "console_status_change",
        "status_change",
        "console_sign_in_failed",
        "console_sign_out",
    ] {
        assert!(log.contains(&format!("\"{action}\"")), "{action}: {log}");
    }
    assert!(!log.contains(SURNAME) && !log.contains(GIVEN), "{log}");
    let out = govcred(&["audit", "verify", s(&audit)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = server.stop();
    assert!(
        !stderr.contains(SURNAME) && !stderr.contains(GIVEN),
        "{stderr}"
    );
}

crate::on_both_databases!(console_security_and_counter_flow);

/// `serve --console` with `extra` must refuse to start; returns its stderr.
fn refused_start(config: &Path, audit: &Path, extra: &[&str]) -> String {
    let mut child = serve_command(config, audit, extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success());
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with {extra:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--verify-trust`: the /verify page checks against a signed trust bundle (offline),
/// names it on the result, and refuses a wrongly signed or expired bundle at start.
#[test]
fn sqlite_verify_page_trust_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), &Database::Sqlite);
    let p = |n: &str| tmp.path().join(n);
    let audit = p("audit.jsonl");
    let issuer_key = p("iss/keys/issuer.jwk");
    let (bk, other, wrong) = (p("b.jwk"), p("o.jwk"), p("w.jwk"));
    let kg = ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&bk)]);
    let wg = ok_json(&["keygen", "--alg", "EdDSA", "--out", s(&wrong)]);
    ok_json(&["keygen", "--alg", "ES256", "--out", s(&other)]);
    let (bpub, wpub) = (p("b.pub.jwk"), p("w.pub.jwk"));
    std::fs::write(&bpub, kg["public_jwk"].to_string()).unwrap();
    std::fs::write(&wpub, wg["public_jwk"].to_string()).unwrap();
    let claims = p("c.json");
    std::fs::write(&claims, r#"{"given_name":"Sarah"}"#).unwrap();
    let issue = |key: &Path, issuer: &str| {
        // The key's thumbprint as its kid: the bundle's JWKS entry matches on it.
        let jwk: govcred::crypto::Jwk =
            serde_json::from_str(&std::fs::read_to_string(key).unwrap()).unwrap();
        let kid = jwk.thumbprint().unwrap();
        let out = govcred(&[
            "issue",
            "sd-jwt-vc",
            "--key",
            s(key),
            "--issuer",
            issuer,
            "--vct",
            "urn:t",
            "--claims",
            s(&claims),
            "--disclose",
            "given_name",
            // `--kid=…`: a thumbprint may start with '-', which a separate argument
            // would turn into an option.
            &format!("--kid={kid}"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let ours = issue(&issuer_key, &url);
    let theirs = issue(&other, "https://other.example.gov.uk");
    let build = |out: &Path, valid_for: &str| {
        let o = govcred(&[
            "trust",
            "build",
            "--jwks",
            &format!("{url}={}", s(&issuer_key)),
            "--key",
            s(&bk),
            "--valid-for",
            valid_for,
            "--out",
            s(out),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let bundle = p("bundle.json");
    build(&bundle, "7d");

    // Refused at start: the wrong pinned key, no key at all. (An expired bundle is
    // refused by the same `trust::load` as `govcred verify --trust`: tests/trust.rs.)
    let err = refused_start(
        &config,
        &audit,
        &["--verify-trust", s(&bundle), "--verify-trust-key", s(&wpub)],
    );
    assert!(err.contains("--verify-trust"), "{err}");
    let err = refused_start(&config, &audit, &["--verify-trust", s(&bundle)]);
    assert!(err.contains("--trust-key"), "{err}");

    let server = start_with(
        &url,
        &config,
        &audit,
        &["--verify-trust", s(&bundle), "--verify-trust-key", s(&bpub)],
    );
    let checked = verify_page(&url, &ours);
    assert!(checked.contains("id=\"outcome\">Valid<"), "{checked}");
    assert!(
        checked.contains("Trust bundle bundle.json") && checked.contains(" old)"),
        "{checked}"
    );
    let checked = verify_page(&url, &theirs);
    assert!(!checked.contains("id=\"outcome\">Valid<"), "{checked}");
    assert!(checked.contains("Trust bundle bundle.json"), "{checked}");
    server.stop();
}

/// `/console/batch`: an issuer uploads a CSV; the batch issuer runs as a job whose page
/// refreshes until done; the bad rows download as CSV; the upload is audited.
#[test]
fn sqlite_console_batch_upload() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, config) = init_issuer(tmp.path(), &Database::Sqlite);
    add_user(&config, "clerk", "issuer");
    add_user(&config, "audrey", "auditor");
    let audit = tmp.path().join("audit.jsonl");
    let server = start(&url, &config, &audit);
    let clerk = sign_in(&url, &config, "clerk");
    let page = clerk.get(&format!("{url}/console/batch"));
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    assert!(
        page.contains("<label class=\"govuk-label\" for=\"file\">"),
        "{page}"
    );
    assert!(page.contains("value=\"ExamplePid\""), "{page}");
    let auditor = sign_in(&url, &config, "audrey");
    assert_eq!(auditor.get(&format!("{url}/console/batch")).status(), 403);

    let csv = format!(
        "birthdate,family_name,given_name\n1970-01-01,{SURNAME},A\n1971-01-01,{SURNAME},B\n1972-01-01,{SURNAME},\n1973-01-01,{SURNAME},D\n1974-01-01,{SURNAME},E\n"
    );
    let batch = format!("{url}/console/batch");
    let form = [("configuration", "ExamplePid")];
    // No CSRF token, a file that is not a CSV: refused.
    let r = clerk.post_file(&batch, &form, Some(("file", "rows.csv", csv.as_bytes())));
    assert_eq!(r.status(), 403);
    let with_csrf = [
        ("configuration", "ExamplePid"),
        ("csrf", clerk.csrf.as_str()),
    ];
    let r = clerk.post_file(
        &batch,
        &with_csrf,
        Some(("file", "rows.exe", csv.as_bytes())),
    );
    assert_eq!(r.status(), 400);
    let r = r.text().unwrap();
    assert!(
        r.contains("govuk-error-summary") && r.contains("must be a CSV"),
        "{r}"
    );
    let r = clerk.post_file(
        &batch,
        &with_csrf,
        Some(("file", "rows.csv", csv.as_bytes())),
    );
    assert_eq!(r.status(), 303);
    let job = location(&r);
    assert!(job.starts_with("/console/batch/"), "{job}");
    assert!(!job.contains(SURNAME));
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let p = clerk.get(&format!("{url}{job}"));
        assert_eq!(p.status(), 200);
        let p = p.text().unwrap();
        if !p.contains("http-equiv=\"refresh\"") {
            break p;
        }
        assert!(Instant::now() < deadline, "the batch did not finish: {p}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(done.contains("id=\"state\">Finished<"), "{done}");
    assert!(done.contains("id=\"rows\">5<"), "{done}");
    assert!(
        done.contains("value=\"5\""),
        "the progress bar is full: {done}"
    );
    assert!(done.contains("id=\"issued\">4<"), "{done}");
    assert!(done.contains("id=\"failed\">1<"), "{done}");
    let report = clerk.get(&format!("{url}{job}/errors.csv"));
    assert_eq!(report.status(), 200);
    let report = report.text().unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert_eq!(lines[0], "line,reason");
    assert!(lines[1].contains("given_name"), "{report}");
    // A batch credential is this issuer's: the /verify page finds it valid.
    let jobs = tmp.path().join("iss/console-batches");
    let job_dir = std::fs::read_dir(&jobs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let issued: Vec<_> = std::fs::read_dir(job_dir.join("out/credentials"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(issued.len(), 4, "{issued:?}");
    let credential = std::fs::read_to_string(&issued[0]).unwrap();
    let checked = verify_page(&url, credential.trim());
    assert!(checked.contains("id=\"outcome\">Valid<"), "{checked}");
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("\"console_batch_upload\""), "{log}");
    assert!(!log.contains(SURNAME), "{log}");
    server.stop();
}
