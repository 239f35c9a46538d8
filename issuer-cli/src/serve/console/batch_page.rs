//! `/console/batch`: an issuer uploads a CSV of rows and the existing batch issuer
//! (`govcred issue-batch`, called through its command-line arguments so its internals
//! stay its own) signs one credential per row into a per-job directory under
//! `console-batches/` beside `issuer.toml`. The job page refreshes itself every 2 s
//! and counts the job's `ledger.jsonl` and `errors.jsonl` lines against the input's
//! rows; the bad rows download as CSV (line, reason). Job ids are random; no personal
//! data appears in URLs. Offers are not made: the batch issuer writes credentials only.

use std::path::{Path, PathBuf};

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use clap::Parser;
use serde_json::{json, Value};

use super::auth::Permission;
use super::pages::{check_csrf, err, html, require, Fail, FieldError, Layout};
use super::Shared;

/// Largest CSV accepted (the console's body limit is a little more).
pub const MAX_CSV: usize = super::MAX_PORTRAIT;

/// A batch job of this server's run (in memory: the files stay after a restart).
pub struct Job {
    dir: PathBuf,
    configuration: String,
    rows: u64,
    /// `None` while running; the summary line or the error once finished.
    finished: Option<Result<String, String>>,
}

#[derive(Template)]
#[template(path = "console/batch.html")]
struct BatchPage {
    l: Layout,
    errors: Vec<FieldError>,
    configurations: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/batch_job.html")]
struct JobPage {
    l: Layout,
    errors: Vec<FieldError>,
    configuration: String,
    rows: u64,
    issued: u64,
    failed: u64,
    done: bool,
    outcome: String,
    report: String,
}

/// The batch template's format for a console configuration (`None`: not batchable here).
fn batch_format(format: &str) -> Option<&'static str> {
    match format {
        govcred::oid4vci::FORMAT_SD_JWT_VC | "vc+sd-jwt" => Some("sd-jwt-vc"),
        "jwt_vc_json" => Some("jwt-vc"),
        _ => None,
    }
}

/// Configurations the batch page offers (JWT VC and SD-JWT VC with example claims).
fn batchable(c: &Shared) -> Vec<String> {
    c.configurations
        .iter()
        .filter(|id| {
            c.formats.get(*id).and_then(|f| batch_format(f)).is_some()
                && c.templates.get(*id).is_some_and(Value::is_object)
        })
        .cloned()
        .collect()
}

fn form(
    c: &Shared,
    s: &super::pages::Staff,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> Response {
    let mut l = Layout::new(c, "Issue credentials from a file", Some(s));
    l.has_errors = !errors.is_empty();
    let mut r = html(&BatchPage {
        l,
        errors,
        configurations: batchable(c),
    });
    *r.status_mut() = status;
    r
}

/// `GET /console/batch`.
pub async fn page(State(c): State<Shared>, headers: HeaderMap) -> Response {
    match require(&c, &headers, Permission::Issue).await {
        Ok(s) => form(&c, &s, Vec::new(), StatusCode::OK),
        Err(f) => f.into_page(&c),
    }
}

/// The batch template (TOML) for `configuration`: each top-level example claim is a
/// required column of the same name.
fn template_for(c: &Shared, configuration: &str) -> Option<String> {
    let format = batch_format(c.formats.get(configuration)?)?;
    let cfg = c.batch.configurations.get(configuration)?;
    let claims = c.templates.get(configuration)?.as_object()?;
    let q = |s: &str| Value::from(s).to_string();
    let mut t = format!(
        "format = {}\nissuer = {}\nkey = {}\nkid = {}\n",
        q(format),
        q(&c.batch.issuer),
        q(&c.batch.key.to_string_lossy()),
        q(&c.batch.kid),
    );
    let (kind, days) = cfg;
    match format {
        "sd-jwt-vc" => t += &format!("vct = {}\n", q(kind)),
        _ => t += &format!("type = {}\n", q(kind)),
    }
    t += &format!("valid_for_days = {days}\n[claims]\n");
    for k in claims.keys() {
        t += &format!("{} = {{ column = {} }}\n", q(k), q(k));
    }
    Some(t)
}

/// `POST /console/batch`: check the upload, start the job, go to its page.
pub async fn submit(State(c): State<Shared>, req: Request) -> Response {
    let s = match require(&c, req.headers(), Permission::Issue).await {
        Ok(s) => s,
        Err(f) => return f.into_page(&c),
    };
    let bad = |m: &str, field: &str| form(&c, &s, vec![err(field, m)], StatusCode::BAD_REQUEST);
    let Ok(mut multipart) = Multipart::from_request(req, &()).await else {
        return bad("The form could not be read", "file");
    };
    let (mut csrf, mut configuration, mut csv, mut file_name) =
        (None, String::new(), Vec::new(), String::new());
    loop {
        match multipart.next_field().await {
            Ok(Some(f)) => {
                let name = f.name().unwrap_or_default().to_string();
                if name == "file" {
                    file_name = f.file_name().unwrap_or_default().to_string();
                }
                let Ok(bytes) = f.bytes().await else {
                    return bad("The file must be 100 KB or smaller", "file");
                };
                match name.as_str() {
                    "csrf" => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
                    "configuration" => configuration = String::from_utf8_lossy(&bytes).into_owned(),
                    "file" => csv = bytes.to_vec(),
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(_) => return bad("The file must be 100 KB or smaller", "file"),
        }
    }
    if let Err(f) = check_csrf(&s, csrf.as_deref()) {
        return f.into_page(&c);
    }
    if !batchable(&c).contains(&configuration) {
        return bad("Select the kind of credential", "configuration");
    }
    if csv.is_empty() {
        return bad("Select a CSV file", "file");
    }
    if csv.len() > MAX_CSV {
        return bad("The file must be 100 KB or smaller", "file");
    }
    if !file_name.to_ascii_lowercase().ends_with(".csv") || std::str::from_utf8(&csv).is_err() {
        return bad("The selected file must be a CSV", "file");
    }
    let Some(template) = template_for(&c, &configuration) else {
        return bad("Select the kind of credential", "configuration");
    };
    let id = super::auth::random_token();
    let dir = c.batch.dir.join(&id);
    let prepared = (|| -> std::io::Result<u64> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("input.csv"), &csv)?;
        std::fs::write(dir.join("template.toml"), &template)?;
        Ok(crate::batch::input::count_rows(&dir.join("input.csv")).unwrap_or(0))
    })();
    let rows = match prepared {
        Ok(n) => n,
        Err(e) => {
            eprintln!("govcred console: batch job directory: {e}");
            return Fail::Internal.into_page(&c);
        }
    };
    if let Ok(mut jobs) = c.batch_jobs.lock() {
        jobs.insert(
            id.clone(),
            Job {
                dir: dir.clone(),
                configuration: configuration.clone(),
                rows,
                finished: None,
            },
        );
    }
    if c.audit(
        "console_batch_upload",
        json!({"by": s.name, "configuration": configuration, "rows": rows, "job": id}),
    )
    .await
    .is_err()
    {
        return Fail::Internal.into_page(&c);
    }
    let (c2, id2) = (c.clone(), id.clone());
    tokio::task::spawn_blocking(move || {
        let out = run_batch(&dir);
        if let Ok(mut jobs) = c2.batch_jobs.lock() {
            if let Some(j) = jobs.get_mut(&id2) {
                j.finished = Some(out);
            }
        }
    });
    Redirect::to(&format!("/console/batch/{id}")).into_response()
}

/// The batch issuer's own arguments, parsed as `govcred issue-batch` would.
#[derive(Parser)]
struct IssueBatch {
    #[command(flatten)]
    args: crate::batch::BatchArgs,
}

/// Run the batch issuer on a job directory (blocking).
fn run_batch(dir: &Path) -> Result<String, String> {
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    let args = IssueBatch::try_parse_from([
        "issue-batch".to_string(),
        "--input".into(),
        p("input.csv"),
        "--template".into(),
        p("template.toml"),
        "--out".into(),
        p("out"),
        "--jobs".into(),
        "1".into(),
    ])
    .map_err(|e| e.to_string())?
    .args;
    match crate::batch::run(args) {
        Ok(_) => Ok("Finished".into()),
        Err(e) => Err(e.message),
    }
}

/// Lines of a JSONL file (0 when missing).
fn lines(path: &Path) -> u64 {
    std::fs::read(path)
        .map(|b| b.split(|&x| x == b'\n').filter(|l| !l.is_empty()).count() as u64)
        .unwrap_or(0)
}

/// `GET /console/batch/{id}`: progress, refreshing every 2 s until done.
pub async fn job(
    State(c): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    let s = match require(&c, &headers, Permission::Issue).await {
        Ok(s) => s,
        Err(f) => return f.into_page(&c),
    };
    let Some((dir, configuration, rows, finished)) = c.batch_jobs.lock().ok().and_then(|j| {
        j.get(&id).map(|j| {
            (
                j.dir.clone(),
                j.configuration.clone(),
                j.rows,
                j.finished.clone(),
            )
        })
    }) else {
        return Fail::NotFound.into_page(&c);
    };
    let issued = lines(&dir.join("out/ledger.jsonl"));
    let failed = lines(&dir.join("out/errors.jsonl"));
    let mut l = Layout::new(&c, "Batch progress", Some(&s));
    let done = finished.is_some();
    if !done {
        l.refresh = Some(2);
    }
    let (outcome, errors) = match finished {
        None => ("Running".to_string(), Vec::new()),
        Some(Ok(m)) => (m, Vec::new()),
        Some(Err(m)) => ("Stopped".to_string(), vec![err("report", m.as_str())]),
    };
    l.has_errors = !errors.is_empty();
    html(&JobPage {
        l,
        errors,
        configuration,
        rows,
        issued,
        failed,
        done,
        outcome,
        report: format!("/console/batch/{id}/errors.csv"),
    })
}

/// A CSV field, quoted when needed.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `GET /console/batch/{id}/errors.csv`: the bad rows (line, reason).
pub async fn errors_csv(
    State(c): State<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Err(f) = require(&c, &headers, Permission::Issue).await {
        return f.into_page(&c);
    }
    let Some(dir) = c
        .batch_jobs
        .lock()
        .ok()
        .and_then(|j| j.get(&id).map(|j| j.dir.clone()))
    else {
        return Fail::NotFound.into_page(&c);
    };
    let text = std::fs::read_to_string(dir.join("out/errors.jsonl")).unwrap_or_default();
    let mut out = String::from("line,reason\r\n");
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l).unwrap_or(Value::Null);
        let line = match &v["line"] {
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let reason = v["reason"].as_str().unwrap_or_default();
        out += &format!("{},{}\r\n", csv_field(&line), csv_field(reason));
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"batch-errors.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}
