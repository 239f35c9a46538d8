//! Publishing static documents (status lists, `did.json`, JWKS, IACA lists, issuer
//! metadata) for static hosting or a CDN: one small [`Publisher`] interface with two
//! targets, a directory and an S3-compatible bucket.
//!
//! A target is named by one string ([`target`]): `s3://BUCKET/PREFIX` for object
//! storage, anything else is a directory. Every document carries its media type and,
//! where it has one, how long caches may keep it (`Cache-Control: max-age`, from a
//! status list's `ttl`); a bucket stores both as object metadata, which S3-fronting
//! CDNs pass on. A directory cannot hold headers: configure the web server serving it
//! (files are replaced atomically, so it never serves half a list).
//!
//! S3 settings come from the standard AWS environment variables: `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` (optional), `AWS_REGION` (or
//! `AWS_DEFAULT_REGION`; default `us-east-1`) and `AWS_ENDPOINT_URL_S3` (or
//! `AWS_ENDPOINT_URL`) for an S3-compatible service other than AWS (MinIO, Ceph, a
//! cloud's S3 API), addressed path-style. Requests are signed with SigV4 by
//! `rusty-s3` — a sans-IO signer, chosen because it adds no HTTP stack or crypto of its
//! own (it signs through aws-lc-rs, the project's crypto) — and sent by the blocking
//! HTTP client the CLI already uses ([`crate::http::ReqwestHttp`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use govcred::platform::HttpRequest;

use crate::CliError;

/// One document to publish.
pub struct Document<'a> {
    /// Site-relative path, `/`-separated, no leading slash (`t/0A1B2C`, `.well-known/did.json`).
    pub path: &'a str,
    /// The bytes.
    pub body: &'a [u8],
    /// Its media type (`Content-Type`).
    pub content_type: &'a str,
    /// How long caches may keep it, in seconds (`Cache-Control: max-age`); `None`: no header.
    pub max_age: Option<i64>,
}

impl Document<'_> {
    /// The `Cache-Control` value, if any.
    pub fn cache_control(&self) -> Option<String> {
        self.max_age.map(|s| format!("max-age={}", s.max(0)))
    }
}

/// Where published documents go.
pub trait Publisher: Send + Sync {
    /// Store `doc`, replacing any previous version; returns where it went (a file path
    /// or an `s3://` URL).
    fn put(&self, doc: &Document<'_>) -> Result<String, CliError>;
    /// The target, for messages (`DIR` or `s3://bucket/prefix`).
    fn describe(&self) -> String;
}

/// The publisher named by `spec`: `s3://BUCKET[/PREFIX]` or a directory.
pub fn target(spec: &str) -> Result<Box<dyn Publisher>, CliError> {
    if let Some(rest) = spec.strip_prefix("s3://") {
        return Ok(Box::new(S3Publisher::from_env(rest)?));
    }
    if spec.contains("://") {
        return Err(CliError::input(format!(
            "{spec}: a publish target is a directory or s3://BUCKET/PREFIX"
        )));
    }
    if spec.is_empty() {
        return Err(CliError::input("the publish target is empty"));
    }
    Ok(Box::new(DirPublisher::new(PathBuf::from(spec))))
}

/// Check a site-relative path: non-empty `/`-separated segments, none `.` or `..`.
fn check_path(path: &str) -> Result<(), CliError> {
    if path.is_empty()
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == ".." || s.contains('\\'))
    {
        return Err(CliError::input(format!(
            "{path:?}: cannot publish at this path (needs a non-empty, plain relative path)"
        )));
    }
    Ok(())
}

/// A directory, as the document root of a static web server.
pub struct DirPublisher {
    root: PathBuf,
}

impl DirPublisher {
    /// Publish under `root` (created when needed).
    pub fn new(root: PathBuf) -> Self {
        DirPublisher { root }
    }
}

impl Publisher for DirPublisher {
    fn put(&self, doc: &Document<'_>) -> Result<String, CliError> {
        check_path(doc.path)?;
        let out = self.root.join(doc.path);
        write_atomically(&out, doc.body)?;
        Ok(out.display().to_string())
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// Write `path` by renaming a complete temporary file over it, so a reader sees the
/// old or the new version, never part of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    crate::files::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        std::fs::remove_file(&tmp).ok();
        CliError::input(format!("cannot write {}: {e}", path.display()))
    })
}

/// How long a signed S3 request stays valid.
const SIGNATURE_LIFE: Duration = Duration::from_secs(300);

/// An S3-compatible bucket (see the module docs for the environment it reads).
pub struct S3Publisher {
    bucket: rusty_s3::Bucket,
    credentials: rusty_s3::Credentials,
    prefix: String,
    client: crate::http::ReqwestHttp,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl S3Publisher {
    /// `BUCKET[/PREFIX]` (after `s3://`), with endpoint, region and credentials from
    /// the environment.
    pub fn from_env(location: &str) -> Result<Self, CliError> {
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() {
            return Err(CliError::input(format!(
                "s3://{location}: no bucket name (s3://BUCKET/PREFIX)"
            )));
        }
        if !prefix.is_empty() {
            check_path(prefix)?;
        }
        let (key, secret) = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(k), Some(s)) => (k, s),
            _ => {
                return Err(CliError::input(
                    "publishing to s3:// needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                ))
            }
        };
        let credentials = match env("AWS_SESSION_TOKEN") {
            Some(t) => rusty_s3::Credentials::new_with_token(key, secret, t),
            None => rusty_s3::Credentials::new(key, secret),
        };
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let (endpoint, style) = match env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL"))
        {
            Some(e) => (e, rusty_s3::UrlStyle::Path),
            None => (
                format!("https://s3.{region}.amazonaws.com"),
                rusty_s3::UrlStyle::VirtualHost,
            ),
        };
        let url = endpoint
            .parse()
            .map_err(|e| CliError::input(format!("S3 endpoint {endpoint}: {e}")))?;
        let bucket = rusty_s3::Bucket::new(url, style, bucket.to_string(), region)
            .map_err(|e| CliError::input(format!("s3://{location}: {e}")))?;
        let client = crate::http::ReqwestHttp::new()?;
        Ok(S3Publisher {
            bucket,
            credentials,
            prefix: prefix.to_string(),
            client,
        })
    }

    fn key(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_string()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }
}

impl Publisher for S3Publisher {
    fn put(&self, doc: &Document<'_>) -> Result<String, CliError> {
        use rusty_s3::S3Action;
        check_path(doc.path)?;
        let key = self.key(doc.path);
        let cache_control = doc.cache_control();
        let mut action = self.bucket.put_object(Some(&self.credentials), &key);
        // Signed headers: a proxy cannot change what caches are told.
        action
            .headers_mut()
            .insert("content-type", doc.content_type);
        if let Some(cc) = &cache_control {
            action.headers_mut().insert("cache-control", cc.as_str());
        }
        let url = action.sign(SIGNATURE_LIFE);
        let location = format!("s3://{}/{key}", self.bucket.name());
        let mut headers = vec![
            ("content-type".to_string(), doc.content_type.to_string()),
            ("content-length".to_string(), doc.body.len().to_string()),
        ];
        if let Some(cc) = cache_control {
            headers.push(("cache-control".to_string(), cc));
        }
        let resp = govcred::platform::HttpClient::send(
            &self.client,
            &HttpRequest {
                method: "PUT".into(),
                url: url.to_string(),
                headers,
                body: doc.body.to_vec(),
                max_response_bytes: 64 * 1024,
            },
        )
        .map_err(|e| CliError::input(format!("PUT {location}: {e}")))?;
        if !(200..300).contains(&resp.status) {
            return Err(CliError::input(format!(
                "PUT {location}: HTTP {}: {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(500)
                    .collect::<String>()
            )));
        }
        Ok(location)
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket.name(), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_be_plain_and_relative() {
        for bad in ["", "/a", "a//b", "a/../b", "./a", "a/", "a\\b"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        for good in ["a", "t/0A1B", ".well-known/did.json", "status/token/1.cwt"] {
            assert!(check_path(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn targets_are_directories_or_s3() {
        assert!(target("ftp://x/y").is_err());
        assert!(target("").is_err());
        assert!(target("s3:///prefix").is_err());
        assert_eq!(target("site").unwrap().describe(), "site");
    }

    #[test]
    fn directory_publish_replaces_files_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = DirPublisher::new(dir.path().join("site"));
        for body in [&b"one"[..], b"two"] {
            let doc = Document {
                path: "t/ABC",
                body,
                content_type: "application/statuslist+jwt",
                max_age: Some(60),
            };
            assert_eq!(doc.cache_control().as_deref(), Some("max-age=60"));
            p.put(&doc).unwrap();
        }
        let t = dir.path().join("site/t");
        assert_eq!(std::fs::read(t.join("ABC")).unwrap(), b"two");
        assert_eq!(
            std::fs::read_dir(&t).unwrap().count(),
            1,
            "no temp files left"
        );
        let escape = Document {
            path: "../x",
            body: b"",
            content_type: "text/plain",
            max_age: None,
        };
        assert!(p.put(&escape).is_err());
    }
}
