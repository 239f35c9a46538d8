//! The console's page handlers and templates.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use govcred::status::Status;
use govcred::{b64, datetime, Clock, SystemClock};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{self, Permission, Role};
use super::{cookie_value, store, Shared, LOCK_SECS, MAX_FAILURES, MAX_PORTRAIT, SESSION_SECS};
use crate::serve::db::DbError;

const SERVICE: &str = "Credential console";

/// Why a request was refused.
#[derive(Debug)]
pub enum Fail {
    /// Not signed in (pages redirect to sign-in).
    SignIn,
    /// Signed in without the role for this page.
    Forbidden,
    /// A form without its CSRF token (or with someone else's).
    Csrf,
    /// Unknown reference, configuration or draft.
    NotFound,
    /// A request the page cannot use.
    BadRequest(String),
    /// Database or file failure (details on standard error, not to the client).
    Internal,
}

impl From<DbError> for Fail {
    fn from(e: DbError) -> Self {
        eprintln!("govcred console: database: {e}");
        Fail::Internal
    }
}

/// The shared page frame.
pub struct Layout {
    pub(super) title: String,
    pub(super) service: &'static str,
    pub(super) home: &'static str,
    pub(super) user: Option<String>,
    pub(super) role: &'static str,
    pub(super) csrf: String,
    pub(super) assets: bool,
    pub(super) has_errors: bool,
    /// Reload the page every so many seconds (a job's progress).
    pub(super) refresh: Option<u32>,
}

impl Layout {
    /// The frame of a public page (`/verify`): no account, home is the page itself.
    pub(super) fn public(c: &Shared, title: &str) -> Self {
        let mut l = Layout::new(c, title, None);
        l.service = "Check a credential";
        l.home = "/verify";
        l
    }

    pub(super) fn new(c: &Shared, title: impl Into<String>, staff: Option<&Staff>) -> Self {
        Layout {
            title: title.into(),
            service: SERVICE,
            home: "/console",
            user: staff.map(|s| s.name.clone()),
            role: staff.map(|s| s.role.as_str()).unwrap_or_default(),
            csrf: staff.map(|s| s.csrf.clone()).unwrap_or_default(),
            assets: c.assets.is_some(),
            has_errors: false,
            refresh: None,
        }
    }
}

/// One entry of an error summary.
pub struct FieldError {
    pub(super) field: String,
    pub(super) message: String,
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    l: Layout,
    message: String,
}

pub(super) fn html(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            eprintln!("govcred console: template: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn message(c: &Shared, status: StatusCode, title: &str, text: &str) -> Response {
    let mut r = html(&MessagePage {
        l: Layout::new(c, title, None),
        message: text.into(),
    });
    *r.status_mut() = status;
    r
}

/// The page for a client that tried to sign in too often.
pub fn too_many(c: &Shared) -> Response {
    message(
        c,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many sign-in attempts",
        "Too many attempts were made from your network. Wait 5 minutes, then try again.",
    )
}

impl Fail {
    pub(super) fn into_page(self, c: &Shared) -> Response {
        match self {
            Fail::SignIn => Redirect::to("/console/sign-in").into_response(),
            Fail::Forbidden => message(
                c,
                StatusCode::FORBIDDEN,
                "You cannot use this page",
                "Your account’s role does not allow this. Ask an administrator if you need it.",
            ),
            Fail::Csrf => message(
                c,
                StatusCode::FORBIDDEN,
                "The form has expired",
                "Go back, reload the page and try again.",
            ),
            Fail::NotFound => message(
                c,
                StatusCode::NOT_FOUND,
                "Page not found",
                "Check the reference and try again.",
            ),
            Fail::BadRequest(m) => message(c, StatusCode::BAD_REQUEST, "There is a problem", &m),
            Fail::Internal => message(
                c,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sorry, there is a problem with the service",
                "Try again later.",
            ),
        }
    }
}

/// The signed-in staff member of a request.
pub struct Staff {
    pub(super) name: String,
    pub(super) role: Role,
    pub(super) csrf: String,
}

pub(super) async fn staff(c: &Shared, headers: &HeaderMap) -> Result<Staff, Fail> {
    let token = cookie_value(headers, c.session_cookie()).ok_or(Fail::SignIn)?;
    let hash = auth::token_hash(&token);
    let now = SystemClock.now();
    let found =
        c.db.call(move |conn| store::session(conn, &hash, now))
            .await?;
    let (user, csrf) = found.ok_or(Fail::SignIn)?;
    let role = Role::parse(&user.role).map_err(|_| Fail::Forbidden)?;
    Ok(Staff {
        name: user.name,
        role,
        csrf,
    })
}

/// The signed-in staff member, if their role has `p`.
pub(super) async fn require(c: &Shared, headers: &HeaderMap, p: Permission) -> Result<Staff, Fail> {
    let s = staff(c, headers).await?;
    if p.allows(s.role) {
        Ok(s)
    } else {
        Err(Fail::Forbidden)
    }
}

pub(super) fn check_csrf(s: &Staff, token: Option<&str>) -> Result<(), Fail> {
    match token {
        Some(t) if auth::ct_eq(t.as_bytes(), s.csrf.as_bytes()) => Ok(()),
        _ => Err(Fail::Csrf),
    }
}

macro_rules! page {
    ($c:expr, $body:expr) => {{
        let r: Result<Response, Fail> = $body;
        match r {
            Ok(r) => r,
            Err(f) => f.into_page(&$c),
        }
    }};
}

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    l: Layout,
    can_issue: bool,
}

pub async fn home(State(c): State<Shared>, headers: HeaderMap) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Read).await?;
            Ok(html(&HomePage {
                can_issue: Permission::Issue.allows(s.role),
                l: Layout::new(&c, "Start", Some(&s)),
            }))
        }
        .await
    )
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    l: Layout,
    errors: Vec<FieldError>,
    user: String,
    proxy: bool,
}

fn sign_in_form(c: &Shared, user: &str, errors: Vec<FieldError>, status: StatusCode) -> Response {
    let token = auth::random_token();
    let mut l = Layout::new(c, "Sign in", None);
    l.csrf = token.clone();
    l.has_errors = !errors.is_empty();
    let mut r = html(&SignInPage {
        l,
        errors,
        user: user.into(),
        proxy: c.proxy_header.is_some(),
    });
    *r.status_mut() = status;
    r.headers_mut().append(
        header::SET_COOKIE,
        c.cookie(c.signin_cookie(), &token, 3600),
    );
    r
}

pub async fn sign_in_page(State(c): State<Shared>) -> Response {
    sign_in_form(&c, "", Vec::new(), StatusCode::OK)
}

#[derive(Deserialize)]
pub struct SignInForm {
    csrf: Option<String>,
    user: Option<String>,
    password: Option<String>,
    code: Option<String>,
}

pub(super) fn err(field: &str, message: &str) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

pub async fn sign_in(
    State(c): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    // Double-submit: the form's token must equal the cookie set with the form.
    let cookie = cookie_value(&headers, c.signin_cookie());
    match (&cookie, &f.csrf) {
        (Some(a), Some(b)) if auth::ct_eq(a.as_bytes(), b.as_bytes()) => {}
        _ => return Fail::Csrf.into_page(&c),
    }
    let name = f.user.unwrap_or_default().trim().to_string();
    let password = f.password.unwrap_or_default();
    let code = f.code.unwrap_or_default();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(err("user", "Enter your account name"));
    }
    if password.is_empty() {
        errors.push(err("password", "Enter your password"));
    }
    if code.trim().is_empty() {
        errors.push(err(
            "code",
            "Enter the security code from your authenticator app",
        ));
    }
    if !errors.is_empty() {
        return sign_in_form(&c, &name, errors, StatusCode::BAD_REQUEST);
    }
    let now = SystemClock.now();
    let lookup = name.clone();
    let user = match c.db.call(move |conn| store::user(conn, &lookup)).await {
        Ok(u) => u,
        Err(e) => return Fail::from(e).into_page(&c),
    };
    let refused = |c: &Shared, name: &str, msg: &str| {
        sign_in_form(c, name, vec![err("user", msg)], StatusCode::UNAUTHORIZED)
    };
    let Some(user) = user else {
        // Same work and answer as a wrong password: names cannot be probed by timing.
        let _ = tokio::task::spawn_blocking(move || {
            auth::check_password(&password, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7bKCUzZZ8Qb3fqZCh/1gQfq0zR2RDEXpsh3krHuhYXc")
        })
        .await;
        c.audit(
            "console_sign_in_failed",
            json!({"user": name, "reason": "unknown account"}),
        )
        .await
        .ok();
        return refused(
            &c,
            &name,
            "The account name, password or security code is wrong",
        );
    };
    if user.locked_until > now {
        c.audit(
            "console_sign_in_refused",
            json!({"user": name, "reason": "locked"}),
        )
        .await
        .ok();
        return refused(
            &c,
            &name,
            "Too many failed attempts: this account is locked for 15 minutes",
        );
    }
    let hash = user.password_hash.clone();
    let password_ok = tokio::task::spawn_blocking(move || auth::check_password(&password, &hash))
        .await
        .unwrap_or(false);
    let step = auth::totp_step(&user.totp_secret, &code, now).filter(|s| *s > user.last_totp_step);
    let accepted = match (password_ok, step) {
        (true, Some(step)) => {
            let n = name.clone();
            matches!(
                c.db.call(move |conn| store::sign_in_succeeded(conn, &n, step))
                    .await,
                Ok(true)
            )
        }
        _ => false,
    };
    if !accepted {
        let n = name.clone();
        let locked =
            c.db.call(move |conn| store::sign_in_failed(conn, &n, now, MAX_FAILURES, LOCK_SECS))
                .await
                .unwrap_or(false);
        c.audit(
            "console_sign_in_failed",
            json!({"user": name, "reason": if password_ok { "code" } else { "password" }, "locked": locked}),
        )
        .await
        .ok();
        return refused(
            &c,
            &name,
            if locked {
                "Too many failed attempts: this account is locked for 15 minutes"
            } else {
                "The account name, password or security code is wrong"
            },
        );
    }
    start_session(&c, &name, &user.role, "password+totp").await
}

/// Open a session for `name` (signed in by `method`), audit it, and go to the start page.
async fn start_session(c: &Shared, name: &str, role: &str, method: &str) -> Response {
    let now = SystemClock.now();
    let token = auth::random_token();
    let csrf = auth::random_token();
    let (hash, n) = (auth::token_hash(&token), name.to_string());
    if let Err(e) =
        c.db.call(move |conn| store::put_session(conn, &hash, &n, &csrf, now + SESSION_SECS))
            .await
    {
        return Fail::from(e).into_page(c);
    }
    if c.audit(
        "console_sign_in",
        json!({"user": name, "role": role, "method": method}),
    )
    .await
    .is_err()
    {
        return Fail::Internal.into_page(c);
    }
    let mut r = Redirect::to("/console").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        c.cookie(c.session_cookie(), &token, SESSION_SECS),
    );
    r.headers_mut()
        .append(header::SET_COOKIE, c.cookie(c.signin_cookie(), "", 0));
    r
}

/// `GET /console/sign-in/proxy`: single sign-on through an authenticating reverse proxy
/// on the same host (e.g. oauth2-proxy in front of GOV.UK One Login or the department's
/// OpenID Connect provider), which names the signed-in person in the header set by
/// `--console-proxy-header`. Honoured only from a loopback peer, and only for a local
/// account (which gives the role).
pub async fn sign_in_proxy(
    State(c): State<Shared>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some(header_name) = &c.proxy_header else {
        return Fail::NotFound.into_page(&c);
    };
    let named = headers
        .get(header_name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let Some(name) = named
        .filter(|_| peer.ip().is_loopback())
        .map(str::to_string)
    else {
        return message(
            &c,
            StatusCode::UNAUTHORIZED,
            "Sign in through your organisation",
            "This sign-in works only through your organisation’s sign-in service.",
        );
    };
    let lookup = name.clone();
    let user = match c.db.call(move |conn| store::user(conn, &lookup)).await {
        Ok(u) => u,
        Err(e) => return Fail::from(e).into_page(&c),
    };
    let Some(user) = user else {
        c.audit(
            "console_sign_in_failed",
            json!({"user": name, "reason": "no local account", "method": "proxy"}),
        )
        .await
        .ok();
        return Fail::Forbidden.into_page(&c);
    };
    start_session(&c, &user.name, &user.role, "proxy").await
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: Option<String>,
}

pub async fn sign_out(
    State(c): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    page!(
        c,
        async {
            let s = staff(&c, &headers).await?;
            check_csrf(&s, f.csrf.as_deref())?;
            if let Some(token) = cookie_value(&headers, c.session_cookie()) {
                let hash = auth::token_hash(&token);
                c.db.call(move |conn| store::delete_session(conn, &hash))
                    .await?;
            }
            c.audit("console_sign_out", json!({"user": s.name})).await?;
            let mut r = Redirect::to("/console/sign-in").into_response();
            r.headers_mut()
                .append(header::SET_COOKIE, c.cookie(c.session_cookie(), "", 0));
            Ok(r)
        }
        .await
    )
}

#[derive(Template)]
#[template(path = "console/issue_choose.html")]
struct ChoosePage {
    l: Layout,
    configurations: Vec<String>,
}

pub async fn issue_choose(State(c): State<Shared>, headers: HeaderMap) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Issue).await?;
            Ok(html(&ChoosePage {
                l: Layout::new(&c, "Issue a credential", Some(&s)),
                configurations: c.configurations.clone(),
            }))
        }
        .await
    )
}

/// One input of the issue form, generated from the configuration's example claims.
pub struct Field {
    id: String,
    label: String,
    hint: Option<String>,
    value: String,
    error: Option<String>,
    file: bool,
    /// Where the value goes: a JSON pointer into the claims (empty for the letter name
    /// and the portrait).
    pointer: String,
    /// The example's value (its type decides how the text is read).
    example: Value,
}

/// The form's fields for configuration `id`: the letter's name, then one per leaf of
/// the example claims (leaves named `type` are fixed labels, kept as in the example),
/// then a portrait upload for mdoc credentials.
fn fields(c: &Shared, id: &str) -> Vec<Field> {
    let mut out = vec![Field {
        id: "holder_name".into(),
        label: "Name on the letter".into(),
        hint: Some("As the holder wants to be addressed".into()),
        value: String::new(),
        error: None,
        file: false,
        pointer: String::new(),
        example: Value::Null,
    }];
    fn walk(v: &Value, pointer: String, label: Vec<String>, out: &mut Vec<Field>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "type" && !x.is_object() && !x.is_array() {
                        continue;
                    }
                    let mut l = label.clone();
                    l.push(humanise(k));
                    walk(
                        x,
                        format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                        l,
                        out,
                    );
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let mut l = label.clone();
                    if a.len() > 1 {
                        l.push(format!("{}", i + 1));
                    }
                    walk(x, format!("{pointer}/{i}"), l, out);
                }
            }
            leaf => {
                let is_date = leaf.as_str().is_some_and(is_full_date);
                out.push(Field {
                    id: format!("f{}", out.len()),
                    label: dedupe(&label).join(" – "),
                    hint: if is_date {
                        Some("For example, 2027-03-31 (year-month-day)".into())
                    } else if leaf.is_number() {
                        Some("A number".into())
                    } else if leaf.is_boolean() {
                        Some("yes or no".into())
                    } else {
                        None
                    },
                    value: String::new(),
                    error: None,
                    file: false,
                    pointer,
                    example: leaf.clone(),
                });
            }
        }
    }
    if let Some(t) = c.templates.get(id) {
        // mdoc claims are {namespace: {element: value}}: label by element only.
        let is_mdoc = c
            .formats
            .get(id)
            .is_some_and(|f| f == govcred::oid4vci::FORMAT_MDOC);
        match (is_mdoc, t) {
            (true, Value::Object(m)) => {
                for (ns, v) in m {
                    walk(v, format!("/{ns}"), Vec::new(), &mut out);
                }
            }
            _ => walk(t, String::new(), Vec::new(), &mut out),
        }
    } else {
        out.push(Field {
            id: "claims_json".into(),
            label: "Claims (JSON object)".into(),
            hint: Some("This configuration has no claims/ID.json beside issuer.toml".into()),
            value: String::new(),
            error: None,
            file: false,
            pointer: String::new(),
            example: Value::Null,
        });
    }
    if c.formats
        .get(id)
        .is_some_and(|f| f == govcred::oid4vci::FORMAT_MDOC)
    {
        out.push(Field {
            id: "portrait".into(),
            label: "Portrait photo (optional)".into(),
            hint: Some(format!(
                "A JPEG or PNG file, at most {} KB",
                MAX_PORTRAIT / 1024
            )),
            value: String::new(),
            error: None,
            file: true,
            pointer: String::new(),
            example: Value::Null,
        });
    }
    out
}

fn dedupe(label: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in label {
        if out.last() != Some(l) {
            out.push(l.clone());
        }
    }
    out
}

fn humanise(key: &str) -> String {
    let mut s = String::new();
    let mut prev_lower = false;
    for ch in key.chars() {
        if ch == '_' || ch == '-' {
            s.push(' ');
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower {
            s.push(' ');
        }
        prev_lower = ch.is_lowercase();
        s.extend(ch.to_lowercase());
    }
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn is_full_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => {
            let days = match m {
                1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
                4 | 6 | 9 | 11 => 30,
                2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
                2 => 28,
                _ => 0,
            };
            y >= 1900 && (1..=days).contains(&d)
        }
        _ => false,
    }
}

#[derive(Template)]
#[template(path = "console/issue_form.html")]
struct IssuePage {
    l: Layout,
    errors: Vec<FieldError>,
    configuration: String,
    fields: Vec<Field>,
}

pub(super) fn known_configuration(c: &Shared, id: &str) -> Result<(), Fail> {
    if c.configurations.iter().any(|x| x == id) {
        Ok(())
    } else {
        Err(Fail::NotFound)
    }
}

pub async fn issue_form(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(configuration): Path<String>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Issue).await?;
            known_configuration(&c, &configuration)?;
            Ok(html(&IssuePage {
                l: Layout::new(&c, "Enter the credential’s details", Some(&s)),
                errors: Vec::new(),
                fields: fields(&c, &configuration),
                configuration,
            }))
        }
        .await
    )
}

/// An uploaded portrait's bytes, if they are a JPEG or PNG image within the limit.
fn check_portrait(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.len() > MAX_PORTRAIT {
        return Err("The portrait must be 100 KB or smaller");
    }
    let jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
    let png = bytes.starts_with(b"\x89PNG\r\n\x1a\n");
    if !jpeg && !png {
        return Err("The portrait must be a JPEG or PNG file");
    }
    Ok(())
}

/// Read a field's text as the example's type.
fn typed(field: &Field, text: &str) -> Result<Value, String> {
    let label = field.label.to_lowercase();
    match &field.example {
        Value::Number(_) => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<f64>().map(Value::from))
            .map_err(|_| format!("Enter {label} as a number")),
        Value::Bool(_) => match text.to_ascii_lowercase().as_str() {
            "yes" | "true" => Ok(Value::Bool(true)),
            "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(format!("Enter yes or no for {label}")),
        },
        Value::String(s) if is_full_date(s) => {
            if is_full_date(text) {
                Ok(Value::String(text.into()))
            } else {
                Err(format!("Enter {label} as a real date, year-month-day"))
            }
        }
        _ => Ok(Value::String(text.into())),
    }
}

pub async fn issue_submit(
    State(c): State<Shared>,
    Path(configuration): Path<String>,
    req: axum::extract::Request,
) -> Response {
    page!(
        c,
        async {
            // Who is asking comes first: the body is read only for an issuer.
            let s = require(&c, req.headers(), Permission::Issue).await?;
            known_configuration(&c, &configuration)?;
            use axum::extract::FromRequest;
            let mut multipart = Multipart::from_request(req, &())
                .await
                .map_err(|_| Fail::BadRequest("The form could not be read.".into()))?;
            let mut texts = std::collections::HashMap::new();
            let mut portrait: Option<Vec<u8>> = None;
            let mut csrf = None;
            while let Some(field) = multipart
                .next_field()
                .await
                .map_err(|_| Fail::BadRequest("The form could not be read.".into()))?
            {
                let name = field.name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|_| {
                    Fail::BadRequest("The upload is too large (100 KB at most).".into())
                })?;
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "portrait" => {
                        if !bytes.is_empty() {
                            portrait = Some(bytes.to_vec())
                        }
                    }
                    _ => {
                        texts.insert(name, String::from_utf8_lossy(&bytes).trim().to_string());
                    }
                }
            }
            check_csrf(&s, csrf.as_deref())?;
            let mut fields = fields(&c, &configuration);
            let mut claims = c
                .templates
                .get(&configuration)
                .cloned()
                .unwrap_or(Value::Null);
            let mut holder_name = String::new();
            let mut errors = Vec::new();
            for f in fields.iter_mut() {
                if f.file {
                    if let Some(p) = &portrait {
                        if let Err(e) = check_portrait(p) {
                            f.error = Some(e.into());
                        }
                    }
                } else {
                    let text = texts.get(&f.id).cloned().unwrap_or_default();
                    f.value = text.clone();
                    if text.is_empty() {
                        f.error = Some(format!("Enter {}", f.label.to_lowercase()));
                    } else if text.chars().count() > 200 && f.id != "claims_json" {
                        f.error = Some(format!("{} must be 200 characters or fewer", f.label));
                    } else if f.id == "holder_name" {
                        holder_name = text;
                    } else if f.id == "claims_json" {
                        match serde_json::from_str::<Value>(&text) {
                            Ok(v) if v.is_object() => claims = v,
                            _ => f.error = Some("Enter the claims as a JSON object".into()),
                        }
                    } else {
                        match typed(f, &text) {
                            Ok(v) => {
                                if let Some(slot) = claims.pointer_mut(&f.pointer) {
                                    *slot = v;
                                }
                            }
                            Err(e) => f.error = Some(e),
                        }
                    }
                }
                if let Some(e) = &f.error {
                    errors.push(err(&f.id, e));
                }
            }
            if !errors.is_empty() {
                let mut l = Layout::new(&c, "Enter the credential’s details", Some(&s));
                l.has_errors = true;
                let mut r = html(&IssuePage {
                    l,
                    errors,
                    configuration,
                    fields,
                });
                *r.status_mut() = StatusCode::BAD_REQUEST;
                return Ok(r);
            }
            if let (Some(p), Value::Object(m)) = (&portrait, &mut claims) {
                if let Some(Value::Object(ns)) = m.values_mut().next() {
                    ns.insert("portrait".into(), Value::String(b64::encode(p)));
                }
            }
            let rows: Vec<(String, String)> = fields
                .iter()
                .map(|f| {
                    let v = if f.file {
                        if portrait.is_some() {
                            "Uploaded".into()
                        } else {
                            "None".into()
                        }
                    } else {
                        f.value.clone()
                    };
                    (f.label.clone(), v)
                })
                .collect();
            let draft = store::Draft {
                id: auth::random_token(),
                user: s.name.clone(),
                configuration_id: configuration.clone(),
                claims,
                holder_name,
                created_at: SystemClock.now(),
            };
            let draft_id = draft.id.clone();
            c.db.call(move |conn| store::put_draft(conn, &draft))
                .await?;
            Ok(html(&PreviewPage {
                l: Layout::new(&c, "Check the details before you issue", Some(&s)),
                configuration,
                rows,
                draft_id,
            }))
        }
        .await
    )
}

#[derive(Template)]
#[template(path = "console/preview.html")]
struct PreviewPage {
    l: Layout,
    configuration: String,
    rows: Vec<(String, String)>,
    draft_id: String,
}

/// A fresh reference: `GC-XXXX-XXXX` in Crockford's base32 (no I, L, O, U).
fn new_reference() -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let r: [u8; 8] = rand::random();
    let s: String = r.iter().map(|b| A[(*b as usize) % 32] as char).collect();
    format!("GC-{}-{}", &s[..4], &s[4..])
}

/// Create the offer for `claims` (the issuer engine stores it for the wallet to redeem),
/// record it under a fresh reference, and audit it. Returns the reference.
pub(super) async fn offer(
    c: &Shared,
    user: &str,
    configuration_id: String,
    claims: Value,
    holder_name: String,
) -> Result<String, Fail> {
    let engine = c.engine.clone();
    let config_id = configuration_id.clone();
    let created =
        tokio::task::spawn_blocking(move || engine.create_offer(&config_id, claims, None))
            .await
            .map_err(|_| Fail::Internal)?
            .map_err(|e| Fail::BadRequest(format!("The credential could not be offered: {e}")))?;
    let cred = store::Credential {
        reference: new_reference(),
        offer_id: created.pending.id.clone(),
        configuration_id: configuration_id.clone(),
        link: created.link.clone(),
        subject: created.pending.subject.clone(),
        holder_name,
        created_by: user.to_string(),
        created_at: SystemClock.now(),
        expires_at: created.pending.expires_at,
        cancelled: false,
    };
    let reference = cred.reference.clone();
    c.db.call(move |conn| store::put_credential(conn, &cred))
        .await?;
    c.audit(
        "console_issue",
        json!({"user": user, "reference": reference, "configuration": configuration_id, "offer": created.pending.id}),
    )
    .await?;
    Ok(reference)
}

pub async fn draft_confirm(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Issue).await?;
            check_csrf(&s, f.csrf.as_deref())?;
            let user = s.name.clone();
            let draft =
                c.db.call(move |conn| store::draft(conn, &id, &user, true))
                    .await?
                    .ok_or(Fail::NotFound)?;
            let reference = offer(
                &c,
                &s.name,
                draft.configuration_id,
                draft.claims,
                draft.holder_name,
            )
            .await?;
            Ok(
                Redirect::to(&format!("/console/credentials/{reference}?done=issued"))
                    .into_response(),
            )
        }
        .await
    )
}

#[derive(Template)]
#[template(path = "console/search.html")]
struct SearchPage {
    l: Layout,
    errors: Vec<FieldError>,
    reference: String,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    reference: Option<String>,
}

fn normalise_reference(r: &str) -> String {
    let r: String = r
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    r
}

fn valid_reference(r: &str) -> bool {
    r.len() == 12
        && r.starts_with("GC-")
        && r.as_bytes()[7] == b'-'
        && r.bytes()
            .enumerate()
            .all(|(i, b)| i == 2 || i == 7 || b.is_ascii_alphanumeric())
}

pub async fn search(
    State(c): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Read).await?;
            let mut errors = Vec::new();
            let reference = q
                .reference
                .as_deref()
                .map(normalise_reference)
                .unwrap_or_default();
            if q.reference.is_some() {
                if !valid_reference(&reference) {
                    errors.push(err("reference", "Enter a reference like GC-7KQ2-M9XD"));
                } else {
                    let r = reference.clone();
                    if c.db
                        .call(move |conn| store::credential(conn, &r))
                        .await?
                        .is_some()
                    {
                        return Ok(Redirect::to(&format!("/console/credentials/{reference}"))
                            .into_response());
                    }
                    errors.push(err("reference", "No credential has this reference"));
                }
            }
            let mut l = Layout::new(&c, "Find a credential", Some(&s));
            l.has_errors = !errors.is_empty();
            let mut r = html(&SearchPage {
                l,
                errors,
                reference,
            });
            if q.reference.is_some() {
                *r.status_mut() = StatusCode::NOT_FOUND;
            }
            Ok(r)
        }
        .await
    )
}

/// A status change offered on a credential's page: (form value, label).
type Action = (&'static str, &'static str);

/// Where a credential stands.
pub(super) enum Standing {
    Withdrawn,
    Pending,
    Expired,
    Issued {
        at: i64,
        list: Option<(String, usize)>,
        status: Option<Status>,
    },
}

pub(super) async fn standing(c: &Shared, cred: &store::Credential) -> Result<Standing, Fail> {
    if cred.cancelled {
        return Ok(Standing::Withdrawn);
    }
    let state = c.state.clone();
    let offer = cred.offer_id.clone();
    let issued = tokio::task::spawn_blocking(move || -> govcred::Result<_> {
        Ok((
            state.issued_for_offer(&offer)?,
            state.offer_pending(&offer)?,
        ))
    })
    .await
    .map_err(|_| Fail::Internal)?
    .map_err(|e| {
        eprintln!("govcred console: issuer database: {e}");
        Fail::Internal
    })?;
    Ok(match issued {
        (Some(i), _) => {
            let status = match (&i.status, &c.status_store) {
                (Some((uri, idx)), Some(store)) => {
                    let (store, uri, idx) = (store.clone(), uri.clone(), *idx);
                    tokio::task::spawn_blocking(move || crate::status::status_at(&store, &uri, idx))
                        .await
                        .map_err(|_| Fail::Internal)?
                        .ok()
                }
                _ => None,
            };
            Standing::Issued {
                at: i.issued_at,
                list: i.status,
                status,
            }
        }
        (None, true) if cred.expires_at > SystemClock.now() => Standing::Pending,
        _ => Standing::Expired,
    })
}

#[derive(Template)]
#[template(path = "console/credential.html")]
struct CredentialPage {
    l: Layout,
    errors: Vec<FieldError>,
    notice: Option<String>,
    c: store::Credential,
    status: String,
    created: String,
    list: Option<String>,
    index: usize,
    collected: Option<String>,
    can_print: bool,
    events: Vec<(String, String, String, String)>,
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn credential_page(
    c: &Shared,
    s: &Staff,
    reference: String,
    notice: Option<String>,
    errors: Vec<FieldError>,
) -> Result<Response, Fail> {
    let r = reference.clone();
    let cred =
        c.db.call(move |conn| store::credential(conn, &r))
            .await?
            .ok_or(Fail::NotFound)?;
    let r = reference.clone();
    let events = c.db.call(move |conn| store::events(conn, &r)).await?;
    let standing = standing(c, &cred).await?;
    let mut collected = None;
    let (status, list, actions): (String, Option<(String, usize)>, Vec<Action>) = match standing {
        Standing::Withdrawn => ("Offer withdrawn".into(), None, vec![]),
        Standing::Expired => ("Offer expired".into(), None, vec![]),
        Standing::Pending => (
            "Waiting to be collected".into(),
            None,
            vec![("withdraw", "Withdraw the offer")],
        ),
        Standing::Issued { at, list, status } => {
            collected = Some(datetime::format(at));
            let (label, actions) = match status {
                Some(Status::Valid) => (
                    "Valid",
                    vec![("revoke", "Revoke (permanent)"), ("suspend", "Suspend")],
                ),
                Some(Status::Suspended) => (
                    "Suspended",
                    vec![("reinstate", "Reinstate"), ("revoke", "Revoke (permanent)")],
                ),
                Some(Status::Invalid) => ("Revoked", vec![]),
                Some(Status::Other(_)) => ("Unknown status", vec![]),
                None if list.is_none() => ("Issued (no status list)", vec![]),
                None => ("Status cannot be read", vec![]),
            };
            (label.into(), list, actions)
        }
    };
    let actions = if Permission::ChangeStatus.allows(s.role) {
        actions
    } else {
        vec![]
    };
    let mut l = Layout::new(c, format!("Credential {reference}"), Some(s));
    l.has_errors = !errors.is_empty();
    let page = CredentialPage {
        l,
        errors,
        notice,
        status,
        created: datetime::format(cred.created_at),
        index: list.as_ref().map(|x| x.1).unwrap_or_default(),
        list: list.map(|x| x.0),
        collected,
        can_print: Permission::Issue.allows(s.role) && !cred.cancelled,
        events: events
            .into_iter()
            .map(|e| (datetime::format(e.at), e.user, e.action, e.reason))
            .collect(),
        actions,
        c: cred,
    };
    Ok(html(&page))
}

pub async fn credential(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Read).await?;
            let notice = match q.done.as_deref() {
                Some("issued") => {
                    Some("The offer was created: print the letter for the holder".to_string())
                }
                Some("revoke") => Some("The credential was revoked".to_string()),
                Some("suspend") => Some("The credential was suspended".to_string()),
                Some("reinstate") => Some("The credential was reinstated".to_string()),
                Some("withdraw") => Some("The offer was withdrawn".to_string()),
                _ => None,
            };
            credential_page(&c, &s, reference, notice, Vec::new()).await
        }
        .await
    )
}

#[derive(Deserialize)]
pub struct StatusForm {
    csrf: Option<String>,
    action: Option<String>,
    reason: Option<String>,
}

/// Check a status change request: the problems, per field.
pub(super) fn check_status_request(action: &str, reason: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if !["revoke", "suspend", "reinstate", "withdraw"].contains(&action) {
        errors.push(err("action-revoke", "Choose what you want to do"));
    }
    if reason.is_empty() {
        errors.push(err("reason", "Enter the reason"));
    } else if reason.chars().count() > 500 {
        errors.push(err("reason", "The reason must be 500 characters or fewer"));
    }
    errors
}

/// Apply `action` (`revoke`, `suspend`, `reinstate`, `withdraw`) to credential
/// `reference` for staff member `user`, recording the event and auditing it. The inner
/// `Err` says why the change is not possible now (a conflict, not a failure).
pub(super) async fn apply_status(
    c: &Shared,
    user: &str,
    reference: &str,
    action: &str,
    reason: &str,
) -> Result<Result<(), String>, Fail> {
    let r = reference.to_string();
    let cred =
        c.db.call(move |conn| store::credential(conn, &r))
            .await?
            .ok_or(Fail::NotFound)?;
    let standing = standing(c, &cred).await?;
    match (action, standing) {
        ("withdraw", Standing::Pending) => {
            let (offer, subject, r) = (
                cred.offer_id.clone(),
                cred.subject.clone(),
                reference.to_string(),
            );
            // One transaction: the offer goes and the console's record says withdrawn.
            let withdrawn =
                c.db.call(move |tx| {
                    let gone = crate::serve::issuer_db::withdraw_offer(tx, &offer, &subject)?;
                    if gone {
                        store::cancel(tx, &r)?;
                    }
                    Ok(gone)
                })
                .await?;
            if !withdrawn {
                return Ok(Err(
                    "The offer was collected meanwhile: reload the page".into()
                ));
            }
        }
        (
            a @ ("revoke" | "suspend" | "reinstate"),
            Standing::Issued {
                list: Some((uri, idx)),
                ..
            },
        ) => {
            let store = c.status_store.clone().ok_or(Fail::Internal)?;
            let value = match a {
                "revoke" => Status::Invalid,
                "suspend" => Status::Suspended,
                _ => Status::Valid,
            };
            let log = c.audit_log.clone();
            let changed = tokio::task::spawn_blocking(move || {
                crate::status::change_status(&store, &uri, idx, value, Some(&log))
            })
            .await
            .map_err(|_| Fail::Internal)?;
            if let Err(e) = changed {
                return Ok(Err(format!("The status was not changed: {}", e.message)));
            }
        }
        _ => {
            return Ok(Err(
                "That change is not possible for this credential now".into()
            ))
        }
    }
    let event = store::Event {
        at: SystemClock.now(),
        user: user.to_string(),
        action: match action {
            "revoke" => "revoked",
            "suspend" => "suspended",
            "reinstate" => "reinstated",
            _ => "offer withdrawn",
        }
        .into(),
        reason: reason.to_string(),
    };
    let r = reference.to_string();
    c.db.call(move |conn| store::add_event(conn, &r, &event))
        .await?;
    c.audit(
        "console_status_change",
        json!({"user": user, "reference": reference, "action": action, "reason": reason}),
    )
    .await?;
    Ok(Ok(()))
}

pub async fn change_status(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::ChangeStatus).await?;
            check_csrf(&s, f.csrf.as_deref())?;
            let reason = f.reason.unwrap_or_default().trim().to_string();
            let action = f.action.unwrap_or_default();
            let errors = check_status_request(&action, &reason);
            if !errors.is_empty() {
                let mut r = credential_page(&c, &s, reference, None, errors).await?;
                *r.status_mut() = StatusCode::BAD_REQUEST;
                return Ok(r);
            }
            if let Err(problem) = apply_status(&c, &s.name, &reference, &action, &reason).await? {
                let mut r = credential_page(
                    &c,
                    &s,
                    reference,
                    None,
                    vec![err("action-revoke", &problem)],
                )
                .await?;
                *r.status_mut() = StatusCode::CONFLICT;
                return Ok(r);
            }
            Ok(
                Redirect::to(&format!("/console/credentials/{reference}?done={action}"))
                    .into_response(),
            )
        }
        .await
    )
}

/// The letter's words, in English and Welsh.
pub struct LetterText {
    lang: &'static str,
    title: &'static str,
    back: &'static str,
    dear: &'static str,
    intro: &'static str,
    how: &'static str,
    step1: &'static str,
    step2: &'static str,
    step3: &'static str,
    qr_alt: &'static str,
    link: &'static str,
    expires: &'static str,
    reference: &'static str,
    help: &'static str,
}

const ENGLISH: LetterText = LetterText {
    lang: "en",
    title: "Add your credential to your phone",
    back: "Back to the credential",
    dear: "Dear",
    intro: "Your credential can now be kept in the GOV.UK Wallet app on your phone, as well as on paper.",
    how: "How to add it",
    step1: "Open the GOV.UK Wallet app on your phone. If you do not have it, install it from your phone’s app store.",
    step2: "Scan the QR code on this letter with the app, or open the link below on your phone.",
    step3: "Follow the instructions in the app. It takes about 2 minutes.",
    qr_alt: "QR code: scan it with the GOV.UK Wallet app to add your credential",
    link: "If you cannot scan the code, open this link on your phone:",
    expires: "The code and the link work once, until",
    reference: "Your reference:",
    help: "If you did not ask for this credential, or need help, contact the office that gave you this letter and quote your reference.",
};

const WELSH: LetterText = LetterText {
    lang: "cy",
    title: "Ychwanegu eich credyd at eich ffôn",
    back: "Yn ôl i’r credyd",
    dear: "Annwyl",
    intro: "Gallwch nawr gadw eich credyd yn ap GOV.UK Wallet ar eich ffôn, yn ogystal ag ar bapur.",
    how: "Sut i’w ychwanegu",
    step1: "Agorwch ap GOV.UK Wallet ar eich ffôn. Os nad yw gennych, gosodwch ef o siop apiau eich ffôn.",
    step2: "Sganiwch y cod QR ar y llythyr hwn gyda’r ap, neu agorwch y ddolen isod ar eich ffôn.",
    step3: "Dilynwch y cyfarwyddiadau yn yr ap. Mae’n cymryd tua 2 funud.",
    qr_alt: "Cod QR: sganiwch ef gydag ap GOV.UK Wallet i ychwanegu eich credyd",
    link: "Os na allwch sganio’r cod, agorwch y ddolen hon ar eich ffôn:",
    expires: "Mae’r cod a’r ddolen yn gweithio unwaith, tan",
    reference: "Eich cyfeirnod:",
    help: "Os na wnaethoch ofyn am y credyd hwn, neu os oes angen help arnoch, cysylltwch â’r swyddfa a roddodd y llythyr hwn i chi a dyfynnwch eich cyfeirnod.",
};

#[derive(Template)]
#[template(path = "console/letter.html")]
struct LetterPage {
    t: &'static LetterText,
    assets: bool,
    reference: String,
    holder: String,
    link: String,
    qr_png: String,
    expires: String,
}

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub async fn letter(
    State(c): State<Shared>,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    page!(
        c,
        async {
            let s = require(&c, &headers, Permission::Issue).await?;
            let r = reference.clone();
            let cred =
                c.db.call(move |conn| store::credential(conn, &r))
                    .await?
                    .ok_or(Fail::NotFound)?;
            if cred.cancelled {
                return Err(Fail::NotFound);
            }
            let (png, _) = crate::offer::qr(&cred.link).map_err(|_| Fail::Internal)?;
            let t = if q.lang.as_deref() == Some("cy") {
                &WELSH
            } else {
                &ENGLISH
            };
            c.audit(
                "console_letter",
                json!({"user": s.name, "reference": reference, "lang": t.lang}),
            )
            .await?;
            Ok(html(&LetterPage {
                t,
                assets: c.assets.is_some(),
                reference,
                holder: cred.holder_name,
                link: cred.link,
                qr_png: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, png),
                expires: datetime::format(cred.expires_at),
            }))
        }
        .await
    )
}

/// The letter's print style: A4, margins, no navigation.
pub async fn letter_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        "@page { size: A4; margin: 20mm; }\n\
         .letter .qr img { width: 66mm; height: 66mm; image-rendering: pixelated; }\n\
         .letter .deep-link { word-break: break-all; font-size: 0.8em; }\n\
         @media print { .no-print { display: none; } body { margin: 0; } }\n",
    )
        .into_response()
}
