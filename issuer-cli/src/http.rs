//! The core's `HttpClient` over reqwest (rustls): no redirects, a timeout, and bodies
//! read no further than the caller's limit.

use std::io::Read;
use std::time::Duration;

use govcred::platform::{HttpClient, HttpRequest, HttpResponse};
use govcred::Error;

/// A blocking HTTP client for the wallet commands.
pub struct ReqwestHttp {
    client: reqwest::blocking::Client,
}

impl ReqwestHttp {
    /// A client with a 30 s timeout that follows no redirects.
    pub fn new() -> Result<Self, Error> {
        let client = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("govcred/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Http(format!("cannot build the HTTP client: {e}")))?;
        Ok(ReqwestHttp { client })
    }
}

impl HttpClient for ReqwestHttp {
    fn send(&self, request: &HttpRequest) -> govcred::Result<HttpResponse> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Error::Http(format!("bad method {:?}", request.method)))?;
        let mut b = self.client.request(method, &request.url);
        for (k, v) in &request.headers {
            b = b.header(k, v);
        }
        if !request.body.is_empty() {
            b = b.body(request.body.clone());
        }
        let resp = b
            .send()
            .map_err(|e| Error::Http(format!("{} {}: {e}", request.method, request.url)))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut body = Vec::new();
        let limit = request.max_response_bytes as u64;
        resp.take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::Http(format!("reading {}: {e}", request.url)))?;
        if body.len() as u64 > limit {
            return Err(Error::TooLarge {
                what: "HTTP response",
                size: body.len(),
                limit: request.max_response_bytes,
            });
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}
