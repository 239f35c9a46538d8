//! `govcred serve --publish TARGET`: the service's public documents, published for
//! static hosting or a CDN through [`crate::publish`].
//!
//! What a wallet or verifier fetches without authentication is a static document:
//! the issuer's metadata, `did.json`, `jwks.json`, `/iacas` and its status lists; the
//! status service's `jwks.json` and every list (`/t/{id}`, `/b/{id}`). Each is rendered
//! by the service's own router, in-process — the published bytes are exactly what the
//! service answers — and put at its public URL's path. Status lists carry
//! `Cache-Control: max-age` from their `ttl`; the other documents `--publish-max-age`.
//!
//! The issuer's lists come from its `govcred status` registry, published as `govcred
//! status publish` does ([`crate::status::publish_registry`], CWT forms included).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use govcred::oid4vci::metadata::{AuthorizationServerMetadata, CredentialIssuerMetadata};
use govcred::{Clock, SystemClock};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::status_service::StatusService;
use crate::publish::{Document, Publisher};
use crate::CliError;

/// Largest document read back from the router.
const MAX_DOCUMENT: usize = 64 * 1024 * 1024;

/// What a service publishes.
pub enum Source {
    /// The OpenID4VCI issuer: fixed documents and its status registry.
    Issuer {
        /// Public URLs of the documents the router answers.
        urls: Vec<String>,
        /// The `govcred status` registry, if the issuer has status lists.
        status_store: Option<PathBuf>,
    },
    /// The central status service: its JWKS and every list it has created so far.
    StatusService(StatusService),
}

impl Source {
    /// The issuer's documents at `credential_issuer`: metadata, its own authorisation
    /// server's metadata (unless `external_as`), did.json, jwks.json, /iacas.
    pub fn issuer(
        credential_issuer: &str,
        external_as: bool,
        status_store: Option<PathBuf>,
    ) -> Self {
        let base = credential_issuer.trim_end_matches('/');
        let mut urls = vec![CredentialIssuerMetadata::well_known_url(base)];
        if !external_as {
            urls.push(AuthorizationServerMetadata::well_known_url(base));
        }
        for p in ["/.well-known/did.json", "/.well-known/jwks.json", "/iacas"] {
            urls.push(format!("{base}{p}"));
        }
        Source::Issuer { urls, status_store }
    }
}

/// Publishes a service's documents to a target.
pub struct Publishing {
    router: Router,
    source: Source,
    target: Arc<dyn Publisher>,
    max_age: i64,
}

/// The path of a URL with its query: `https://host/a/b?x` → `/a/b?x`.
fn request_path(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".into(),
    }
}

/// `max-age=N` of a `Cache-Control` value.
fn max_age_of(cache_control: &str) -> Option<i64> {
    cache_control
        .split(',')
        .filter_map(|d| d.trim().strip_prefix("max-age="))
        .find_map(|v| v.parse().ok())
}

impl Publishing {
    /// Publish the documents of `source`, rendered by `router` (the service's routes,
    /// without the operability layer), to `target`; `max_age` for documents whose
    /// response sets no `max-age`.
    pub fn new(router: Router, source: Source, target: Arc<dyn Publisher>, max_age: i64) -> Self {
        Publishing {
            router,
            source,
            target,
            max_age,
        }
    }

    /// Where documents go (for messages).
    pub fn target(&self) -> String {
        self.target.describe()
    }

    /// The public URLs to publish now, with the path the router answers each at.
    async fn documents(&self) -> Result<Vec<(String, String)>, CliError> {
        Ok(match &self.source {
            Source::Issuer { urls, .. } => {
                urls.iter().map(|u| (request_path(u), u.clone())).collect()
            }
            Source::StatusService(s) => s.public_documents().await?,
        })
    }

    /// Render one document with the router: (body, content type, max-age).
    async fn render(&self, path: &str) -> Result<(Vec<u8>, String, i64), CliError> {
        let req = Request::get(path)
            .body(Body::empty())
            .map_err(|e| CliError::input(format!("GET {path}: {e}")))?;
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .map_err(|e| CliError::input(format!("GET {path}: {e}")))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), MAX_DOCUMENT)
            .await
            .map_err(|e| CliError::input(format!("GET {path}: {e}")))?;
        if status != StatusCode::OK {
            return Err(CliError::input(format!(
                "GET {path}: HTTP {}: {}",
                status.as_u16(),
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            )));
        }
        let text = |h| headers.get(h).and_then(|v| v.to_str().ok());
        let content_type = text(header::CONTENT_TYPE)
            .unwrap_or("application/octet-stream")
            .to_string();
        let max_age = text(header::CACHE_CONTROL)
            .and_then(max_age_of)
            .unwrap_or(self.max_age);
        Ok((body.to_vec(), content_type, max_age))
    }

    /// Publish everything once; a summary `{target, published: [{url, location, max_age}]}`.
    pub async fn run_once(&self) -> Result<Value, CliError> {
        let mut rendered = Vec::new();
        for (path, url) in self.documents().await? {
            let (body, content_type, max_age) = self.render(&path).await?;
            let site = crate::status::site_path(&url)?;
            let site = site
                .to_str()
                .ok_or_else(|| CliError::input(format!("{url}: not a UTF-8 path")))?
                .to_string();
            rendered.push((url, site, body, content_type, max_age));
        }
        let target = self.target.clone();
        let store = match &self.source {
            Source::Issuer { status_store, .. } => status_store.clone(),
            Source::StatusService(_) => None,
        };
        // The publisher blocks (files, HTTP): off the async workers.
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for (url, path, body, content_type, max_age) in &rendered {
                let location = target.put(&Document {
                    path,
                    body,
                    content_type,
                    max_age: Some(*max_age),
                })?;
                out.push(json!({"url": url, "location": location, "max_age": max_age}));
            }
            if let Some(store) = store {
                let now = SystemClock.now();
                for e in crate::status::publish_registry(&store, target.as_ref(), false, now)? {
                    out.push(json!({"url": e["uri"], "location": e["file"], "max_age": e["ttl"]}));
                }
            }
            Ok(json!({"target": target.describe(), "published": out}))
        })
        .await
        .map_err(|e| CliError::input(format!("publication task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_cache_control() {
        assert_eq!(request_path("https://h/a/b?x=1"), "/a/b?x=1");
        assert_eq!(request_path("https://h"), "/");
        assert_eq!(max_age_of("public, max-age=3600"), Some(3600));
        assert_eq!(max_age_of("no-store"), None);
        let Source::Issuer { urls, .. } = Source::issuer("https://h/dept", false, None) else {
            unreachable!()
        };
        assert_eq!(
            urls,
            [
                "https://h/.well-known/openid-credential-issuer/dept",
                "https://h/.well-known/oauth-authorization-server/dept",
                "https://h/dept/.well-known/did.json",
                "https://h/dept/.well-known/jwks.json",
                "https://h/dept/iacas",
            ]
        );
    }
}
