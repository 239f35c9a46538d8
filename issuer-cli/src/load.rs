//! `govcred load`: a load generator for a deployed OpenID4VCI issuer. Parallel
//! wallets (the core's [`WalletClient`], one holder key each) redeem offer links —
//! metadata, token, credential, verification of the credential against the issuer's
//! published keys and status list, and optionally the notification — and the command
//! reports throughput and latency percentiles as JSON.
//!
//! `--instance URL` (repeatable) spreads the wallets over several instances of one
//! issuer without a load balancer: every request for the offer's issuer URL is sent to
//! the wallet's instance instead (wallet `i` uses instance `i mod N`); the URLs the
//! wallet sees, and checks, stay the issuer's. `scripts/load-bench` drives it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use govcred::crypto::{Alg, SoftwareKey};
use govcred::oid4vci::client::WalletClient;
use govcred::oid4vci::credential::NotificationEvent;
use govcred::oid4vci::offer::OfferLink;
use govcred::platform::{HttpClient, HttpRequest, HttpResponse};
use serde_json::json;

use crate::http::ReqwestHttp;
use crate::{files, CliError, CliResult};

#[derive(Args)]
pub struct LoadArgs {
    /// Offer links, one a line (as `govcred offer create --count N` prints them); each
    /// is redeemed once.
    #[arg(long)]
    offers: PathBuf,
    /// Send the issuer's requests to this base URL (repeatable: wallets are spread
    /// over the instances). Default: the issuer URL of the offers.
    #[arg(long = "instance", value_name = "URL")]
    instances: Vec<String>,
    /// Parallel wallets.
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Also send the `credential_accepted` notification after each credential.
    #[arg(long)]
    notify: bool,
}

/// An HTTP client that sends requests for `from` (an origin and path prefix) to `to`.
struct Routed {
    inner: Arc<ReqwestHttp>,
    from: String,
    to: String,
}

impl HttpClient for Routed {
    fn send(&self, request: &HttpRequest) -> govcred::Result<HttpResponse> {
        match request.url.strip_prefix(&self.from) {
            Some(rest) if self.from != self.to => {
                let mut r = request.clone();
                r.url = format!("{}{rest}", self.to);
                self.inner.send(&r)
            }
            _ => self.inner.send(request),
        }
    }
}

/// The issuer URL of an offer link.
fn issuer_of(link: &str) -> Result<String, CliError> {
    match OfferLink::parse(link)? {
        OfferLink::ByValue(o) => Ok(o.credential_issuer.trim_end_matches('/').to_string()),
        OfferLink::ByReference(_) => Err(CliError::input(
            "offers by reference (credential_offer_uri) are not supported: use links with the offer by value",
        )),
    }
}

/// The `p`-th percentile (0–100) of sorted `v`, nearest rank.
fn percentile(v: &[Duration], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1].as_secs_f64() * 1000.0
}

pub fn run(a: LoadArgs) -> CliResult {
    let links: Vec<String> = files::read_text(&a.offers)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let Some(first) = links.first() else {
        return Err(CliError::input(format!(
            "{}: no offer links",
            a.offers.display()
        )));
    };
    if a.threads == 0 {
        return Err(CliError::input("--threads must be at least 1"));
    }
    let issuer = issuer_of(first)?;
    for l in &links {
        if issuer_of(l)? != issuer {
            return Err(CliError::input(
                "the offers name different issuers: one issuer per run",
            ));
        }
    }
    let instances: Vec<String> = if a.instances.is_empty() {
        vec![issuer.clone()]
    } else {
        a.instances
            .iter()
            .map(|u| u.trim_end_matches('/').to_string())
            .collect()
    };
    for u in &instances {
        govcred::oid4vci::check_url(u, "--instance")?;
    }
    let http = Arc::new(ReqwestHttp::new()?);
    let threads = a.threads.min(links.len());
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); threads];
    for (i, l) in links.into_iter().enumerate() {
        shares[i % threads].push(l);
    }
    let started = Instant::now();
    let handles: Vec<_> = shares
        .into_iter()
        .enumerate()
        .map(|(i, share)| {
            let client = WalletClient::new(Arc::new(Routed {
                inner: http.clone(),
                from: issuer.clone(),
                to: instances[i % instances.len()].clone(),
            }));
            let notify = a.notify;
            std::thread::spawn(move || -> Result<(Vec<Duration>, Vec<String>), CliError> {
                let holder = SoftwareKey::generate(Alg::ES256)?;
                let mut latencies = Vec::with_capacity(share.len());
                let mut failures = Vec::new();
                for link in share {
                    let t = Instant::now();
                    let outcome = client.receive(&link, &holder).and_then(|got| {
                        if !got.report.valid {
                            return Err(govcred::Error::Storage(format!(
                                "credential does not verify: {}",
                                got.report.to_json_pretty()
                            )));
                        }
                        if notify {
                            client.notify(&got, NotificationEvent::CredentialAccepted, None)?;
                        }
                        Ok(())
                    });
                    match outcome {
                        Ok(()) => latencies.push(t.elapsed()),
                        Err(e) => failures.push(e.to_string()),
                    }
                }
                Ok((latencies, failures))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    for h in handles {
        let (l, f) = h
            .join()
            .map_err(|_| CliError::input("a load thread panicked"))??;
        latencies.extend(l);
        failures.extend(f);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    files::print_json(&json!({
        "issuer": issuer,
        "instances": instances,
        "threads": threads,
        "issued": latencies.len(),
        "failures": failures.len(),
        "first_failure": failures.first(),
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "per_second": ((latencies.len() as f64 / seconds) * 10.0).round() / 10.0,
        "latency_ms": {
            "p50": (percentile(&latencies, 50.0) * 10.0).round() / 10.0,
            "p90": (percentile(&latencies, 90.0) * 10.0).round() / 10.0,
            "p99": (percentile(&latencies, 99.0) * 10.0).round() / 10.0,
            "max": (percentile(&latencies, 100.0) * 10.0).round() / 10.0,
        },
    }));
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&v[..1], 99.0), 1.0);
    }
}
