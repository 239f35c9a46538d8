//! Operating `govcred serve` behind a load balancer: health and readiness probes,
//! Prometheus metrics, request logs.
//!
//! - `GET /healthz`: liveness, `200 {"status":"ok"}` while the process serves requests.
//! - `GET /readyz`: readiness, `200 {"status":"ready"}` when the service's database
//!   answers a query, else `503 {"status":"unavailable", "reason"}` (take the instance
//!   out of the pool; do not restart it for that).
//! - `GET /metrics`: Prometheus / OpenMetrics text. Requests by route, method and
//!   status; latency histograms by route; credentials issued (`POST /credential`),
//!   status entries allocated (`POST /issue`), revocations (`POST /revoke`), status
//!   list fetches (what verifiers ask for); client and server errors; publications.
//!
//! Every request is logged as one `tracing` event (target `govcred::http`: method,
//! route, path, status, latency); `--log-format json` makes every log line a JSON
//! object for a log pipeline. The level comes from `GOVCRED_LOG` (tracing's
//! `EnvFilter` syntax, default `info`).
//!
//! Metrics use `prometheus-client`, the Prometheus project's own Rust client: it only
//! encodes, and the text is served here by the service's own router (no second HTTP
//! server, no global recorder).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::CliError;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields).
    Json,
}

/// Environment variable with the log filter (`info`, `govcred=debug,tower=warn`, …).
pub const LOG_ENV: &str = "GOVCRED_LOG";

/// Install the global `tracing` subscriber writing to standard error (standard output
/// carries the one announce line).
pub fn init_logging(format: LogFormat) -> Result<(), CliError> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_new("info"))
        .map_err(|e| CliError::input(format!("{LOG_ENV}: {e}")))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let done = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    done.map_err(|e| CliError::input(format!("cannot start logging: {e}")))
}

/// The readiness check: resolves to `Err(reason)` when the service cannot serve.
pub type ReadyCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    errors: Family<ErrorLabels, Counter>,
    issued: Counter,
    status_entries: Counter,
    revocations: Counter,
    list_fetches: Counter,
    publications: Family<OutcomeLabels, Counter>,
    last_publication: Gauge,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to ~16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("govcred");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route",
            latency.clone(),
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "http_errors",
            "Error responses: client (4xx) and server (5xx)",
            errors.clone(),
        );
        let issued = Counter::default();
        registry.register(
            "credentials_issued",
            "Credentials issued (POST /credential answered 200)",
            issued.clone(),
        );
        let status_entries = Counter::default();
        registry.register(
            "status_entries_issued",
            "Status list entries allocated (POST /issue answered 200)",
            status_entries.clone(),
        );
        let revocations = Counter::default();
        registry.register(
            "revocations",
            "Revocation requests accepted (POST /revoke answered 202)",
            revocations.clone(),
        );
        let list_fetches = Counter::default();
        registry.register(
            "status_list_fetches",
            "Status lists served to verifiers",
            list_fetches.clone(),
        );
        let publications = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "publications",
            "Publication runs (--publish) by outcome",
            publications.clone(),
        );
        let last_publication = Gauge::default();
        registry.register(
            "last_publication_timestamp_seconds",
            "When the last successful publication finished (Unix time)",
            last_publication.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            errors,
            issued,
            status_entries,
            revocations,
            list_fetches,
            publications,
            last_publication,
        }
    }

    /// Count one answered request.
    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(seconds);
        match status {
            400..=499 => {
                self.errors
                    .get_or_create(&ErrorLabels { class: "client" })
                    .inc();
            }
            500..=599 => {
                self.errors
                    .get_or_create(&ErrorLabels { class: "server" })
                    .inc();
            }
            _ => {}
        }
        let get = method == "GET";
        match (route, status) {
            ("/credential", 200) => {
                self.issued.inc();
            }
            ("/issue", 200) => {
                self.status_entries.inc();
            }
            ("/revoke", 202) => {
                self.revocations.inc();
            }
            // The issuer answers its status lists' paths from its fallback: the only
            // successful GETs that reach it.
            ("/t/{id}" | "/b/{id}" | FALLBACK, 200) if get => {
                self.list_fetches.inc();
            }
            _ => {}
        }
    }

    /// Record the outcome of a publication run finishing at `now` (Unix seconds).
    pub fn published(&self, ok: bool, now: i64) {
        let outcome = if ok { "ok" } else { "error" };
        self.publications
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        if ok {
            self.last_publication.set(now);
        }
    }

    /// The OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        prometheus_client::encoding::text::encode(&mut out, &self.registry).ok();
        out
    }
}

/// The route label of requests no route matched.
const FALLBACK: &str = "fallback";

/// State of the operability routes.
#[derive(Clone)]
struct Ops {
    metrics: Arc<Metrics>,
    ready: ReadyCheck,
}

/// Add `/healthz`, `/readyz` and `/metrics` to `service`, and the request metrics and
/// logs around every route.
pub fn wrap(service: Router, metrics: Arc<Metrics>, ready: ReadyCheck) -> Router {
    let ops = Ops {
        metrics: metrics.clone(),
        ready,
    };
    let probes = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(ops);
    service
        .merge(probes)
        .layer(axum::middleware::from_fn_with_state(metrics, track))
}

async fn healthz() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({"status": "ok"})),
    )
        .into_response()
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let (status, body) = match (ops.ready)().await {
        Ok(()) => (StatusCode::OK, json!({"status": "ready"})),
        Err(reason) => {
            tracing::warn!(target: "govcred::ready", %reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"status": "unavailable", "reason": reason}),
            )
        }
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn metrics_text(State(ops): State<Ops>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        ops.metrics.encode(),
    )
        .into_response()
}

/// Time, count and log one request.
async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| FALLBACK.to_string());
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    if !matches!(route.as_str(), "/metrics" | "/healthz" | "/readyz") {
        metrics.observe(&route, &method, status, elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(target: "govcred::http", %method, %route, %path, status, latency_ms, "request");
    } else {
        tracing::info!(target: "govcred::http", %method, %route, %path, status, latency_ms, "request");
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_reports_the_check_and_probes_are_not_counted() {
        use axum::body::Body;
        use tower::ServiceExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let metrics = Arc::new(Metrics::new());
        let down: ReadyCheck =
            Arc::new(|| Box::pin(async { Err("database is locked".to_string()) }));
        let app = wrap(Router::new(), metrics.clone(), down);
        let call = |path: &str| {
            let req = axum::http::Request::get(path).body(Body::empty()).unwrap();
            rt.block_on(async {
                let resp = app.clone().oneshot(req).await.unwrap();
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
                    .await
                    .unwrap();
                (status, String::from_utf8(body.to_vec()).unwrap())
            })
        };
        let (status, body) = call("/readyz");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            r#"{"reason":"database is locked","status":"unavailable"}"#
        );
        assert_eq!(call("/healthz").0, StatusCode::OK);
        assert_eq!(call("/nowhere").0, StatusCode::NOT_FOUND);
        let text = call("/metrics").1;
        assert!(
            text.contains("route=\"fallback\",method=\"GET\",status=\"404\"} 1"),
            "{text}"
        );
        assert!(!text.contains("/readyz"), "{text}");
    }

    #[test]
    fn requests_count_by_route_and_kind() {
        let m = Metrics::new();
        m.observe("/credential", "POST", 200, 0.01);
        m.observe("/credential", "POST", 400, 0.002);
        m.observe("/issue", "POST", 200, 0.003);
        m.observe("/revoke", "POST", 202, 0.003);
        m.observe("/t/{id}", "GET", 200, 0.004);
        m.observe(FALLBACK, "GET", 200, 0.004);
        m.observe(FALLBACK, "POST", 500, 0.004);
        m.published(true, 1_700_000_000);
        let text = m.encode();
        for line in [
            "govcred_credentials_issued_total 1",
            "govcred_status_entries_issued_total 1",
            "govcred_revocations_total 1",
            "govcred_status_list_fetches_total 2",
            "govcred_http_errors_total{class=\"client\"} 1",
            "govcred_http_errors_total{class=\"server\"} 1",
            "govcred_http_requests_total{route=\"/credential\",method=\"POST\",status=\"200\"} 1",
            "govcred_http_request_duration_seconds_count{route=\"/credential\"} 2",
            "govcred_publications_total{outcome=\"ok\"} 1",
            "govcred_last_publication_timestamp_seconds 1700000000",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
    }
}
