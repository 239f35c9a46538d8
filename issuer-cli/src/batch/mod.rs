//! `govcred issue-batch`: issue one credential (or one OpenID4VCI offer) per input
//! row, at department scale.
//!
//! Pipeline (memory stays flat whatever the input size):
//!
//! ```text
//! reader thread ──bounded──▶ N worker threads ──bounded──▶ this thread
//! (rows, lazily; shard      (map columns → claims, take   (append the prepared lines:
//!  filter; skip rows in      a status index, sign, write   ledger, credentials.jsonl,
//!  the ledger)               the file; serialise the       audit chain step; errors;
//!                            ledger line and the audit     progress; group commit)
//!                            details)
//! ```
//!
//! Everything per row that can run in parallel runs on the workers; the one thread
//! that owns the ledger and the audit chain only appends prepared text and hashes
//! one audit entry per row, so it is not the bottleneck. Rows travel between the
//! threads in chunks of 64 (one channel operation per chunk).
//!
//! Crash safety: a status index is allocated durably (the registry is synced, in
//! chunks reserved ahead by a background thread so no worker waits for the fsync)
//! before any credential carrying it is signed; the credential is written before its
//! ledger line; the ledger, audit log and `credentials.jsonl` are written as a
//! **group commit** — buffered, and flushed together every 256 rows or 50 ms (audit
//! first, then credentials, then ledger), synced at the end. `--resume` skips the
//! rows the ledger names. A crash can so waste indices (never reuse one) and can
//! leave a credential with no ledger line — at most the last group's — which the
//! resumed run issues again (overwriting the file; dropping the line from
//! `credentials.jsonl`): the ledger is the record of what was issued.
//!
//! With `output = "offer"` a row gets, instead of a credential, a pre-authorised offer
//! made by the `govcred serve` issuer engine of `[offer] config` (stored in that
//! server's database, its pre-authorised code signed with that server's key: the
//! server redeems it like any `govcred offer create` offer), its deep link in
//! `offers.jsonl`, a QR code (PNG, SVG) and optionally a letter page (see [`letter`]).

pub mod input;
pub mod letter;
pub mod template;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use clap::Args;
use govcred::audit::Details;
use govcred::crypto::{sha256, Jwk, VerifyingKey};
use govcred::format::{jwt_vc, mdoc, sd_jwt};
use govcred::{b64, did, Clock, Signer, SystemClock};
use serde_json::{json, Map, Value};

use crate::audit::AuditLog;
use crate::ledger::{self, Entry};
use crate::pkcs11::Pkcs11Args;
use crate::status::{self, Kind};
use crate::{files, CliError, CliResult};
use template::{Format, OfferSpec, Output, Template};

/// Exit code when some rows failed (the others were issued).
pub const EXIT_PARTIAL: u8 = 3;

#[derive(Args)]
pub struct BatchArgs {
    /// Input rows: `.csv` (with a header row) or `.jsonl` (one JSON object per line).
    #[arg(long)]
    input: PathBuf,
    /// The batch template (TOML): format, issuer, key, claims from columns, status list.
    #[arg(long)]
    template: PathBuf,
    /// Output directory: `credentials/`, `ledger.jsonl`, `errors.jsonl`, `audit.jsonl`.
    #[arg(long)]
    out: PathBuf,
    /// Continue an interrupted run: skip the rows already in OUT/ledger.jsonl.
    #[arg(long)]
    resume: bool,
    /// Do shard I of N (0-based), e.g. `--shard 2/8`: the rows whose id hashes to I,
    /// with status indices from the I-th of N equal parts of the list.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Signing key, overriding the template's `key`: a JWK file or a `pkcs11:` URI.
    #[arg(long)]
    key: Option<String>,
    /// Audit log (default OUT/audit.jsonl).
    #[arg(long)]
    audit_log: Option<PathBuf>,
    /// Status registry directory, overriding the template's `[status] store`: a shard's
    /// own copy of the department's registry (merged back with `govcred status merge`).
    #[arg(long)]
    status_store: Option<PathBuf>,
    /// Write all credentials to OUT/credentials.jsonl (`{row, credential_id, credential}`
    /// per line) instead of one file each: much faster on filesystems where creating
    /// files is slow. The ledger is authoritative; `--resume` drops unledgered lines.
    #[arg(long)]
    single_file: bool,
    #[command(flatten)]
    pkcs11: Pkcs11Args,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?}: expected I/N, e.g. 0/4"))?;
    let i: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: I is not a number"))?;
    let n: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: N is not a number"))?;
    if n == 0 || i >= n {
        return Err(format!("{s:?}: need 0 <= I < N"));
    }
    Ok((i, n))
}

/// What a batch did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub issued: u64,
    pub failed: u64,
    /// Rows skipped because the ledger already has them (`--resume`).
    pub already_issued: u64,
    /// Rows belonging to other shards.
    pub other_shards: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub peak_rss_bytes: Option<u64>,
    pub jobs: usize,
    /// CPU time of the whole process (all threads), where /proc has it.
    pub cpu_seconds: Option<f64>,
    /// The signing key's own rate on one thread in this run: signatures made per
    /// second spent inside the signer (0 when nothing was signed here).
    pub sign_per_second: f64,
    /// `per_second` / (`jobs` × `sign_per_second`): the share of the raw signing
    /// capacity of the workers that the batch achieved (the benchmark's target: 0.75).
    pub ratio_to_raw_sign: f64,
}

impl Summary {
    /// The one-line human summary.
    pub fn line(&self) -> String {
        let ratio = if self.sign_per_second > 0.0 {
            format!(
                " = {:.1} % of {} × the key's raw sign rate ({:.0}/s per thread)",
                100.0 * self.ratio_to_raw_sign,
                self.jobs,
                self.sign_per_second
            )
        } else {
            String::new()
        };
        format!(
            "issued {}, failed {}, already in ledger {}, other shards {}; {:.1}/s{ratio} over {:.1} s with {} jobs; peak RSS {}",
            self.issued,
            self.failed,
            self.already_issued,
            self.other_shards,
            self.per_second,
            self.seconds,
            self.jobs,
            self.peak_rss_bytes
                .map(|b| format!("{:.1} MB", b as f64 / 1e6))
                .unwrap_or_else(|| "unknown".into())
        )
    }
}

/// Peak resident set size of this process (`VmHWM`), where /proc has it.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time of this process, all threads (`/proc/self/stat` utime + stime, at the
/// kernel's usual 100 ticks per second).
pub fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The batch's signer, timed: how long the signatures themselves take in this run
/// gives the raw rate the summary compares the batch's rate with.
struct TimedSigner {
    inner: Arc<dyn Signer>,
    nanos: std::sync::atomic::AtomicU64,
    count: std::sync::atomic::AtomicU64,
}

impl Signer for TimedSigner {
    fn alg(&self) -> govcred::crypto::Alg {
        self.inner.alg()
    }
    fn public_jwk(&self) -> Jwk {
        self.inner.public_jwk()
    }
    fn sign(&self, bytes: &[u8]) -> govcred::Result<Vec<u8>> {
        use std::sync::atomic::Ordering::Relaxed;
        let t = Instant::now();
        let r = self.inner.sign(bytes);
        self.nanos.fetch_add(t.elapsed().as_nanos() as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
        r
    }
}

impl TimedSigner {
    /// Signatures per second of time spent signing (one thread's raw rate).
    fn rate(&self) -> f64 {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.nanos.load(Relaxed);
        if n == 0 {
            return 0.0;
        }
        self.count.load(Relaxed) as f64 / (n as f64 / 1e9)
    }
}

/// The signing side of a batch, shared by the workers.
struct Plan {
    t: Template,
    /// The credential signer (`None` for offers: the issuer server signs).
    signer: Option<Arc<TimedSigner>>,
    issuer: String,
    kid: String,
    valid_until: Option<i64>,
    ds: Option<govcred::x509::Certificate>,
    status: Option<(status::ListRecord, Mutex<Allocator>)>,
    offers: Option<OfferPlan>,
}

/// `output = "offer"`: the issuer server's engine that makes and stores the offers.
struct OfferPlan {
    spec: OfferSpec,
    engine: Arc<govcred::oid4vci::issuer::Issuer>,
    /// OUT/offers: QR codes and letters.
    dir: PathBuf,
}

/// Largest chunk of status indices reserved at once (a crash wastes at most two).
const MAX_CHUNK: usize = 4096;

/// Hands out status indices from durably reserved chunks. The next chunk is
/// reserved by a background thread while the current one is used, so workers do not
/// wait for the registry's fsync; reservations stop growing past the rows expected
/// (`budget`), so a finished run wastes few indices.
struct Allocator {
    store: PathBuf,
    uri: String,
    range: std::ops::Range<usize>,
    pool: Vec<usize>,
    next_chunk: usize,
    /// Indices still expected to be needed (input rows not yet reserved for).
    budget: u64,
    ahead: Option<std::thread::JoinHandle<Result<Vec<usize>, String>>>,
}

impl Allocator {
    fn reserve_ahead(&mut self) {
        // Chunks grow (16 … MAX_CHUNK) so a small run wastes few indices.
        let n = self
            .next_chunk
            .min(usize::try_from(self.budget).unwrap_or(usize::MAX))
            .max(16);
        self.next_chunk = (self.next_chunk * 2).min(MAX_CHUNK);
        self.budget = self.budget.saturating_sub(n as u64);
        let (store, uri, range) = (self.store.clone(), self.uri.clone(), self.range.clone());
        self.ahead = Some(std::thread::spawn(move || {
            status::allocate_in(&store, &uri, n, Some(range)).map_err(|e| e.message)
        }));
    }

    /// Wait for the reservation in flight, if any.
    fn finish(&mut self) -> Result<Vec<usize>, String> {
        match self.ahead.take() {
            Some(h) => h
                .join()
                .map_err(|_| "status index reservation failed".to_string())?,
            None => Ok(Vec::new()),
        }
    }

    fn take(&mut self) -> Result<usize, String> {
        if self.pool.is_empty() {
            if self.ahead.is_none() {
                self.reserve_ahead();
            }
            self.pool = self.finish()?;
        }
        let idx = self.pool.pop().ok_or("no status index")?;
        if self.ahead.is_none() && self.pool.len() <= self.next_chunk / 2 && self.budget > 0 {
            self.reserve_ahead();
        }
        Ok(idx)
    }
}

/// Options of one run (the CLI's, or the benchmark's).
pub struct Options {
    pub input: PathBuf,
    pub template: PathBuf,
    pub out: PathBuf,
    pub resume: bool,
    pub shard: Option<(u32, u32)>,
    pub jobs: usize,
    pub key: Option<String>,
    pub audit_log: Option<PathBuf>,
    pub status_store: Option<PathBuf>,
    pub single_file: bool,
    pub pkcs11: Pkcs11Args,
    pub progress: bool,
}

pub fn run(a: BatchArgs) -> CliResult {
    let opts = Options {
        jobs: a
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
            .max(1),
        input: a.input,
        template: a.template,
        out: a.out,
        resume: a.resume,
        shard: a.shard,
        key: a.key,
        audit_log: a.audit_log,
        status_store: a.status_store,
        single_file: a.single_file,
        pkcs11: a.pkcs11,
        progress: std::io::stderr().is_terminal(),
    };
    let s = issue_batch(&opts)?;
    eprintln!("govcred issue-batch: {}", s.line());
    files::print_json(&s);
    Ok(if s.failed > 0 {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// The configuration format (`issuer.toml`) a batch format corresponds to.
fn oid4vci_format(f: Format) -> &'static str {
    match f {
        Format::JwtVc => govcred::oid4vci::FORMAT_JWT_VC,
        Format::SdJwtVc => govcred::oid4vci::FORMAT_SD_JWT_VC,
        Format::Mdoc => govcred::oid4vci::FORMAT_MDOC,
    }
}

fn prepare_offers(o: &Options, t: Template, spec: OfferSpec) -> Result<Plan, CliError> {
    if t.holder_column.is_some() {
        return Err(CliError::input(
            "output = \"offer\" takes no holder_column: the wallet proves its key when it redeems the offer",
        ));
    }
    let (cfg, engine, _) = crate::serve::issuer::load(&spec.config, None)?;
    let conf = cfg
        .configurations
        .get(&spec.configuration_id)
        .ok_or_else(|| {
            CliError::input(format!(
                "{}: no configuration {:?} (have: {})",
                spec.config.display(),
                spec.configuration_id,
                cfg.configurations
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    if conf.format != oid4vci_format(t.format) {
        return Err(CliError::input(format!(
            "configuration {} is {}, the template's format {} is {}",
            spec.configuration_id,
            conf.format,
            t.format.as_str(),
            oid4vci_format(t.format)
        )));
    }
    let (_, dir) = crate::serve::issuer::read_config(&spec.config)?;
    let key = files::read_signing_key(&dir.join(&cfg.issuer_key))?;
    let offers_dir = o.out.join("offers");
    std::fs::create_dir_all(&offers_dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", offers_dir.display())))?;
    Ok(Plan {
        kid: did::web::key_id(key.verifying_key()),
        issuer: cfg.credential_issuer.clone(),
        valid_until: None,
        signer: None,
        ds: None,
        status: None,
        offers: Some(OfferPlan {
            spec,
            engine,
            dir: offers_dir,
        }),
        t,
    })
}

/// `total`: the input's row count, if known (sizes the status index reservations).
fn prepare(o: &Options, total: Option<u64>) -> Result<Plan, CliError> {
    let mut t = Template::load(&o.template)?;
    match (&mut t.status, &o.status_store) {
        (Some(s), Some(dir)) => s.store = dir.clone(),
        (None, Some(_)) => {
            return Err(CliError::input(
                "--status-store: the template has no [status] list",
            ))
        }
        _ => {}
    }
    if t.output == Output::Offer {
        let spec = t
            .offer
            .clone()
            .ok_or_else(|| CliError::input("output = \"offer\" needs an [offer] section"))?;
        return prepare_offers(o, t, spec);
    }
    let key_spec = o.key.clone().or_else(|| t.key.clone()).or_else(|| {
        t.ds.as_ref()
            .map(|d| d.join("ds.key").to_string_lossy().into_owned())
    });
    let key_spec = key_spec.ok_or_else(|| {
        CliError::input("no signing key: set `key` in the template or pass --key")
    })?;
    let signer = crate::pkcs11::load_signer(&key_spec, &o.pkcs11)?;
    let public = VerifyingKey::from_jwk(&signer.public_jwk())?;
    let ds = match &t.ds {
        Some(dir) if t.format == Format::Mdoc => {
            let p = dir.join("ds.pem");
            Some(
                govcred::x509::Certificate::from_pem(&files::read_text(&p)?)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| CliError::input(format!("{}: no certificate", p.display())))?,
            )
        }
        _ => None,
    };
    let issuer = match &t.issuer {
        Some(i) => i.clone(),
        None => did::key::from_jwk(&signer.public_jwk())?,
    };
    let kid = match (&t.kid, t.format) {
        (Some(k), _) => k.clone(),
        (None, Format::Mdoc) => public.thumbprint(),
        (None, _) => crate::issue::default_kid(&issuer, &public)?,
    };
    let now = SystemClock.now();
    let valid_until = match (&t.valid_until, t.valid_for_days) {
        (Some(u), _) => Some(govcred::datetime::parse(u, "valid_until")?),
        (None, Some(d)) => Some(now + d * 86_400),
        (None, None) if t.format == Format::Mdoc => Some(now + 365 * 86_400),
        (None, None) => None,
    };
    let status = match &t.status {
        None => None,
        Some(s) => {
            let rec = status::load(&s.store, &s.uri)?;
            let want = if t.format == Format::JwtVc {
                Kind::Bitstring
            } else {
                Kind::Token
            };
            if rec.kind != want {
                return Err(CliError::input(format!(
                    "status list {} is {:?}; format {} needs a {:?} list",
                    s.uri,
                    rec.kind,
                    t.format.as_str(),
                    want
                )));
            }
            let range = match o.shard {
                Some((i, n)) => {
                    let (i, n) = (i as usize, n as usize);
                    (i * rec.size / n)..((i + 1) * rec.size / n)
                }
                None => 0..rec.size,
            };
            // Rows expected: the input's (this shard's share), plus slack for an
            // uneven split; past it, chunks are reserved only as needed.
            let rows = total.unwrap_or(u64::MAX / 2);
            let share = o
                .shard
                .map_or(rows, |(_, n)| rows / n as u64 + rows / (8 * n as u64));
            let alloc = Allocator {
                store: s.store.clone(),
                uri: s.uri.clone(),
                range,
                pool: Vec::new(),
                next_chunk: 16,
                budget: share + 16,
                ahead: None,
            };
            Some((rec, Mutex::new(alloc)))
        }
    };
    Ok(Plan {
        t,
        signer: Some(Arc::new(TimedSigner {
            inner: signer,
            nanos: 0.into(),
            count: 0.into(),
        })),
        issuer,
        kid,
        valid_until,
        ds,
        status,
        offers: None,
    })
}

/// A row ready to sign: its claims and holder binding, checked.
struct Mapped {
    claims: Map<String, Value>,
    holder: Option<Value>,
}

fn map_row(p: &Plan, fields: &Map<String, Value>) -> Result<Mapped, String> {
    let claims = template::map_claims(&p.t, fields, p.t.format == Format::Mdoc)?;
    let holder = match &p.t.holder_column {
        None => None,
        Some(col) => {
            let v = template::field(fields, col);
            match (p.t.format, v) {
                (_, Value::Null) => {
                    return Err(format!("column {col:?} (holder) is empty or missing"))
                }
                (_, Value::String(s)) if s.trim().is_empty() => {
                    return Err(format!("column {col:?} (holder) is empty"))
                }
                (Format::JwtVc, Value::String(s)) => {
                    if !s.starts_with("did:") {
                        return Err(format!(
                            "column {col:?}: the holder must be a DID, got {s:?}"
                        ));
                    }
                    Some(Value::from(s.trim()))
                }
                (Format::JwtVc, other) => {
                    return Err(format!(
                        "column {col:?}: the holder must be a DID, got {other}"
                    ))
                }
                (_, v) => {
                    let jwk = match v {
                        Value::String(s) => Jwk::from_json(s),
                        other => Jwk::from_json(&other.to_string()),
                    }
                    .map_err(|e| format!("column {col:?}: holder key: {e}"))?
                    .to_public();
                    VerifyingKey::from_jwk(&jwk)
                        .map_err(|e| format!("column {col:?}: holder key: {e}"))?;
                    Some(serde_json::to_value(&jwk).unwrap_or_default())
                }
            }
        }
    };
    Ok(Mapped { claims, holder })
}

/// The one issuance path per format (the same builders as `govcred issue`).
fn sign_row(
    p: &Plan,
    m: Mapped,
    credential_id: &str,
    idx: Option<usize>,
    now: i64,
) -> Result<String, govcred::Error> {
    let status = p.status.as_ref().zip(idx);
    let signer = p
        .signer
        .as_deref()
        .ok_or_else(|| govcred::Error::InvalidKey("no credential signer".into()))?;
    match p.t.format {
        Format::JwtVc => {
            let draft = jwt_vc::CredentialDraft {
                issuer: p.issuer.clone(),
                types: p.t.credential_type.iter().cloned().collect(),
                contexts: p.t.contexts.clone(),
                holder: m.holder.and_then(|h| h.as_str().map(str::to_string)),
                subject: m.claims,
                valid_from: None,
                valid_until: p.valid_until,
                expected_update: None,
                id: Some(credential_id.to_string()),
                name: p.t.name.clone(),
                description: p.t.description.clone(),
                credential_status: status.map(|((rec, _), i)| status::bitstring_entry_at(rec, i)),
            };
            jwt_vc::issue(&draft, &p.kid, signer, now)
        }
        Format::SdJwtVc => {
            let mut draft =
                sd_jwt::SdJwtDraft::new(&p.issuer, p.t.vct.as_deref().unwrap_or_default());
            draft.claims = m.claims;
            draft.disclosable = p.t.disclose.clone();
            draft.expires_at = p.valid_until;
            draft.holder_key = m
                .holder
                .map(serde_json::from_value::<Jwk>)
                .transpose()
                .map_err(|e| govcred::Error::InvalidKey(e.to_string()))?;
            draft.status = status.map(|((rec, _), i)| status::token_reference_at(&rec.uri, i));
            draft.kid = Some(p.kid.clone());
            sd_jwt::issue(&draft, None, signer, now)
        }
        Format::Mdoc => {
            let ds = p.ds.as_ref().ok_or_else(|| {
                govcred::Error::InvalidKey("mdoc batch without a Document Signer".into())
            })?;
            let jwk: Jwk = serde_json::from_value(m.holder.unwrap_or_default())
                .map_err(|e| govcred::Error::InvalidKey(e.to_string()))?;
            let mut claims = Map::new();
            claims.insert(
                p.t.namespace
                    .clone()
                    .unwrap_or_else(|| "org.iso.18013.5.1".into()),
                Value::Object(m.claims),
            );
            let draft = mdoc::MdocDraft {
                test_only_salt_seed: None,
                doctype: p.t.doctype.clone().unwrap_or_default(),
                claims,
                device_key: VerifyingKey::from_jwk(&jwk)?,
                valid_from: now,
                valid_until: p.valid_until.unwrap_or(now + 365 * 86_400),
                expected_update: None,
                status: status.map(|((rec, _), i)| (i, rec.uri.clone())),
            };
            Ok(b64::encode(mdoc::issue(&draft, ds, signer, now)?))
        }
    }
}

/// A file name for a row id: `[A-Za-z0-9._-]` kept, other bytes `%XX` (injective).
fn file_stem(row: &str) -> String {
    let mut out = String::with_capacity(row.len());
    for b in row.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || (b == b'.' && !out.is_empty()) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > 120 {
        // Too long for a file name: its hash instead.
        return b64::encode(&sha256(row.as_bytes())[..18]);
    }
    out
}

fn id_hash(row: &str) -> u128 {
    let h = sha256(row.as_bytes());
    u128::from_be_bytes(h[..16].try_into().unwrap_or_default())
}

fn row_id(t: &Template, row: &input::Row) -> Result<String, String> {
    match &t.id_column {
        None => Ok(format!("line-{}", row.line)),
        Some(col) => match template::field(&row.fields, col) {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(format!("column {col:?} (row id) is empty or missing")),
        },
    }
}

enum Work {
    Row(input::Row, String),
    Bad {
        line: u64,
        row: Option<String>,
        reason: String,
    },
}

enum Done {
    /// Prepared on the worker: the ledger line, the line for `credentials.jsonl` or
    /// `offers.jsonl` (if any), and the audit entry's details.
    Issued {
        ledger: String,
        side: Option<String>,
        details: Details,
    },
    Failed {
        line: u64,
        row: Option<String>,
        reason: String,
    },
}

/// Run a batch.
pub fn issue_batch(o: &Options) -> Result<Summary, CliError> {
    let started = Instant::now();
    let total = input::count_rows(&o.input);
    let plan = Arc::new(prepare(o, total)?);
    let offers = plan.offers.is_some();
    let creds_dir = o.out.join("credentials");
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", d.display())))
    };
    mkdir(&o.out)?;
    if !offers && !o.single_file {
        mkdir(&creds_dir)?;
    }
    let ledger_path = o.out.join("ledger.jsonl");
    let ledger_has_entries = std::fs::metadata(&ledger_path).is_ok_and(|m| m.len() > 0);
    if ledger_has_entries && !o.resume {
        return Err(CliError::input(format!(
            "{} already has a ledger: pass --resume to continue it, or use another --out",
            o.out.display()
        )));
    }
    let mut done_rows: HashSet<u128> = HashSet::new();
    if o.resume {
        ledger::for_each(&ledger_path, |e| {
            done_rows.insert(id_hash(&e.row));
            Ok(())
        })?;
    }
    let open_append = |p: &Path, truncate: bool| -> Result<File, CliError> {
        let mut opts = OpenOptions::new();
        if truncate {
            opts.write(true).create(true).truncate(true);
        } else {
            opts.append(true).create(true);
        }
        opts.open(p)
            .map_err(|e| CliError::input(format!("cannot open {}: {e}", p.display())))
    };
    let mut ledger_file = open_append(&ledger_path, false)?;
    repair_torn_tail(&ledger_path, &mut ledger_file)?;
    // Group commit: buffered, flushed every 256 entries or 50 ms (audit first, then
    // the side file, then ledger): a kill loses at most the unflushed ledger lines,
    // whose rows a resumed run issues again (their files are overwritten; their status
    // indices are wasted, never reused; their offers stay unredeemable in the server's
    // database until they expire).
    let mut ledger_file = std::io::BufWriter::with_capacity(256 * 1024, ledger_file);
    let creds_path = o.out.join(if offers {
        "offers.jsonl"
    } else {
        "credentials.jsonl"
    });
    let mut creds_out = if o.single_file || offers {
        if o.resume {
            compact_single_file(&creds_path, &done_rows)?;
        }
        Some(std::io::BufWriter::with_capacity(
            256 * 1024,
            open_append(&creds_path, false)?,
        ))
    } else {
        None
    };
    let mut last_flush = Instant::now();
    let mut unflushed = 0u32;
    let errors_path = o.out.join("errors.jsonl");
    let mut errors_file = open_append(&errors_path, true)?;
    let audit_path = o
        .audit_log
        .clone()
        .unwrap_or_else(|| o.out.join("audit.jsonl"));
    let mut audit = AuditLog::open(&audit_path)?;
    let shard_label = o.shard.map(|(i, n)| format!("{i}/{n}"));
    audit.append(
        "batch_start",
        json!({"input": o.input, "template": o.template, "format": plan.t.format.as_str(),
               "kid": plan.kid, "shard": shard_label, "resume": o.resume}),
    )?;

    let rows = input::open(&o.input)?;
    let bar = if o.progress {
        let b = indicatif::ProgressBar::new(total.unwrap_or(0));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows {per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };

    // Rows travel in chunks (one channel operation and at most one wake-up per
    // CHUNK rows, not per row); bounded, so memory stays flat.
    const CHUNK: usize = 64;
    let (work_tx, work_rx) = crossbeam_channel::bounded::<Vec<Work>>(o.jobs * 4);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Vec<Done>>(o.jobs * 4);
    let skipped = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let other = Arc::new(std::sync::atomic::AtomicU64::new(0));

    let reader = {
        let t = plan.t.clone();
        let shard = o.shard;
        let (skipped, other) = (skipped.clone(), other.clone());
        let bar = bar.clone();
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering::Relaxed;
            let mut seen: HashSet<u128> = HashSet::new();
            let mine = |h: u64| shard.is_none_or(|(i, n)| h % n as u64 == i as u64);
            let mut chunk = Vec::with_capacity(CHUNK);
            for r in rows {
                let work = match r {
                    Err(bad) => {
                        if !mine(bad.line) {
                            other.fetch_add(1, Relaxed);
                            bar.inc(1);
                            continue;
                        }
                        Work::Bad {
                            line: bad.line,
                            row: None,
                            reason: bad.reason,
                        }
                    }
                    Ok(row) => match row_id(&t, &row) {
                        Err(reason) => {
                            if !mine(row.line) {
                                other.fetch_add(1, Relaxed);
                                bar.inc(1);
                                continue;
                            }
                            Work::Bad {
                                line: row.line,
                                row: None,
                                reason,
                            }
                        }
                        Ok(id) => {
                            let h = id_hash(&id);
                            if !mine(h as u64) {
                                other.fetch_add(1, Relaxed);
                                bar.inc(1);
                                continue;
                            }
                            if done_rows.contains(&h) {
                                skipped.fetch_add(1, Relaxed);
                                bar.inc(1);
                                continue;
                            }
                            if !seen.insert(h) {
                                Work::Bad {
                                    line: row.line,
                                    row: Some(id),
                                    reason: "row id appears more than once in the input".into(),
                                }
                            } else {
                                Work::Row(row, id)
                            }
                        }
                    },
                };
                chunk.push(work);
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if work_tx.send(full).is_err() {
                        return;
                    }
                }
            }
            if !chunk.is_empty() {
                work_tx.send(chunk).ok();
            }
        })
    };

    let mut workers = Vec::new();
    for _ in 0..o.jobs {
        let (rx, tx, plan) = (work_rx.clone(), done_tx.clone(), plan.clone());
        let dir = (!o.single_file && !offers).then(|| creds_dir.clone());
        let shard = shard_label.clone();
        workers.push(std::thread::spawn(move || {
            for ws in rx {
                let mut out = Vec::with_capacity(ws.len());
                for w in ws {
                    let done = match w {
                        Work::Bad { line, row, reason } => Done::Failed { line, row, reason },
                        Work::Row(row, id) => {
                            match issue_one(&plan, &row, &id, dir.as_deref(), shard.clone()) {
                                Ok(done) => done,
                                Err(reason) => Done::Failed {
                                    line: row.line,
                                    row: Some(id),
                                    reason,
                                },
                            }
                        }
                    };
                    out.push(done);
                }
                if tx.send(out).is_err() {
                    return;
                }
            }
        }));
    }
    drop(done_tx);
    drop(work_rx);

    let (mut issued, mut failed) = (0u64, 0u64);
    let werr =
        |p: &Path, e: std::io::Error| CliError::input(format!("cannot write {}: {e}", p.display()));
    for d in done_rx.into_iter().flatten() {
        match d {
            Done::Issued {
                ledger,
                side,
                details,
            } => {
                if let (Some(w), Some(l)) = (creds_out.as_mut(), side) {
                    w.write_all(l.as_bytes())
                        .map_err(|x| werr(&creds_path, x))?;
                }
                ledger_file
                    .write_all(ledger.as_bytes())
                    .map_err(|x| werr(&ledger_path, x))?;
                audit.append_details("issue", &details)?;
                issued += 1;
                unflushed += 1;
                if unflushed >= 256 || last_flush.elapsed().as_millis() >= 50 {
                    if let Some(w) = creds_out.as_mut() {
                        w.flush().map_err(|x| werr(&creds_path, x))?;
                    }
                    audit.flush()?;
                    ledger_file.flush().map_err(|x| werr(&ledger_path, x))?;
                    unflushed = 0;
                    last_flush = Instant::now();
                }
            }
            Done::Failed { line, row, reason } => {
                failed += 1;
                let msg = match &row {
                    Some(r) => format!("line {line} (row {r}): {reason}"),
                    None => format!("line {line}: {reason}"),
                };
                bar.suspend(|| eprintln!("govcred issue-batch: {msg}"));
                let mut l = json!({"line": line, "row": row, "reason": reason}).to_string();
                l.push('\n');
                errors_file
                    .write_all(l.as_bytes())
                    .map_err(|x| werr(&errors_path, x))?;
            }
        }
        bar.inc(1);
    }
    reader.join().ok();
    for w in workers {
        w.join().ok();
    }
    bar.finish_and_clear();
    if let Some((_, alloc)) = &plan.status {
        // A reservation still in flight is finished (its indices stay unused).
        if let Ok(mut a) = alloc.lock() {
            a.finish().map_err(CliError::input)?;
        }
    }
    if let Some(w) = creds_out.as_mut() {
        w.flush().map_err(|x| werr(&creds_path, x))?;
        w.get_ref().sync_data().map_err(|x| werr(&creds_path, x))?;
    }
    audit.sync()?;
    ledger_file.flush().map_err(|x| werr(&ledger_path, x))?;
    ledger_file
        .get_ref()
        .sync_data()
        .map_err(|x| werr(&ledger_path, x))?;
    let seconds = started.elapsed().as_secs_f64();
    let sign_rate = plan.signer.as_ref().map_or(0.0, |s| s.rate());
    let summary = Summary {
        issued,
        failed,
        already_issued: skipped.load(std::sync::atomic::Ordering::Relaxed),
        other_shards: other.load(std::sync::atomic::Ordering::Relaxed),
        seconds,
        per_second: issued as f64 / seconds.max(1e-9),
        peak_rss_bytes: peak_rss(),
        jobs: o.jobs,
        cpu_seconds: cpu_seconds(),
        sign_per_second: sign_rate,
        ratio_to_raw_sign: if sign_rate > 0.0 {
            issued as f64 / seconds.max(1e-9) / (o.jobs as f64 * sign_rate)
        } else {
            0.0
        },
    };
    audit.append(
        "batch_end",
        serde_json::to_value(&summary).unwrap_or_default(),
    )?;
    audit.sync()?;
    Ok(summary)
}

/// Drop a torn last line (a run killed mid-write) so appends start on a fresh line.
/// Reads only the file's tail.
fn repair_torn_tail(path: &Path, file: &mut File) -> Result<(), CliError> {
    use std::io::{Read, Seek, SeekFrom};
    let err = |e: std::io::Error| CliError::input(format!("cannot repair {}: {e}", path.display()));
    let mut f = File::open(path).map_err(err)?;
    let len = f.seek(SeekFrom::End(0)).map_err(err)?;
    let start = len.saturating_sub(1 << 20);
    f.seek(SeekFrom::Start(start)).map_err(err)?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).map_err(err)?;
    if tail.is_empty() || tail.ends_with(b"\n") {
        return Ok(());
    }
    let keep = match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => start + i as u64 + 1,
        None if start == 0 => 0,
        None => {
            return Err(CliError::input(format!(
                "{}: last line is over 1 MiB and unterminated: not a ledger",
                path.display()
            )))
        }
    };
    file.set_len(keep).map_err(err)
}

/// `--resume --single-file`: keep only the lines of credentials in the ledger (a
/// killed run can leave lines whose ledger entries were never written).
fn compact_single_file(path: &Path, done: &HashSet<u128>) -> Result<(), CliError> {
    use std::io::BufRead;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(CliError::input(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let tmp = path.with_extension("jsonl.tmp");
    let err = |e: std::io::Error| CliError::input(format!("cannot write {}: {e}", tmp.display()));
    let mut out = std::io::BufWriter::new(File::create(&tmp).map_err(err)?);
    let mut kept: HashSet<u128> = HashSet::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let line = line.map_err(err)?;
        let Ok(v) = serde_json::from_slice::<Value>(&line) else {
            continue; // torn
        };
        let Some(row) = v["row"].as_str() else {
            continue;
        };
        let h = id_hash(row);
        if done.contains(&h) && kept.insert(h) {
            out.write_all(&line).map_err(err)?;
            out.write_all(b"\n").map_err(err)?;
        }
    }
    out.flush().map_err(err)?;
    out.get_ref().sync_data().map_err(err)?;
    drop(out);
    std::fs::rename(&tmp, path).map_err(err)
}

/// A fresh `urn:uuid:` (v4) from the thread's RNG (no system call per row).
fn new_credential_id() -> String {
    let u = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    format!("urn:uuid:{u}")
}

/// A line of `credentials.jsonl` / `offers.jsonl`.
#[derive(serde::Serialize)]
struct SideLine<'a> {
    row: &'a str,
    credential_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

fn json_line(v: &impl serde::Serialize) -> String {
    let mut l = serde_json::to_string(v).unwrap_or_default();
    l.push('\n');
    l
}

/// Everything the writer thread appends for one issued row.
fn prepared(entry: &Entry, side: Option<String>) -> Done {
    let details = Details::new(
        &json!({"row": entry.row, "credential_id": entry.credential_id,
        "format": entry.format, "status_uri": entry.status_uri, "status_index": entry.status_index,
        "sha256": entry.sha256, "kid": entry.kid, "offer": entry.offer}),
    );
    Done::Issued {
        ledger: json_line(entry),
        side,
        details,
    }
}

fn issue_one(
    p: &Plan,
    row: &input::Row,
    id: &str,
    dir: Option<&Path>,
    shard: Option<String>,
) -> Result<Done, String> {
    let mapped = map_row(p, &row.fields)?;
    if let Some(offers) = &p.offers {
        return offer_one(p, offers, row, id, mapped, shard);
    }
    let idx = match &p.status {
        Some((_, alloc)) => Some(
            alloc
                .lock()
                .map_err(|_| "status allocator poisoned".to_string())?
                .take()?,
        ),
        None => None,
    };
    let now = SystemClock.now();
    let credential_id = new_credential_id();
    let bytes =
        sign_row(p, mapped, &credential_id, idx, now).map_err(|e| format!("{e} ({})", e.code()))?;
    let sha = b64::encode(sha256(bytes.as_bytes()));
    let (file, side) = match dir {
        Some(dir) => {
            let name = format!("{}.{}", file_stem(id), p.t.format.extension());
            let path = dir.join(&name);
            // Written in place: a file without a ledger line is not issued, and a
            // resumed run overwrites it.
            std::fs::write(&path, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            (format!("credentials/{name}"), None)
        }
        None => {
            let line = json_line(&SideLine {
                row: id,
                credential_id: &credential_id,
                credential: Some(&bytes),
                link: None,
                expires_at: None,
            });
            ("credentials.jsonl".to_string(), Some(line))
        }
    };
    let entry = Entry {
        row: id.to_string(),
        line: row.line,
        credential_id,
        format: p.t.format.as_str().into(),
        status_uri: p.status.as_ref().map(|(r, _)| r.uri.clone()),
        status_index: idx,
        sha256: sha,
        file,
        kid: p.kid.clone(),
        issued_at: now,
        expires_at: p.valid_until,
        shard,
        offer: None,
    };
    Ok(prepared(&entry, side))
}

/// `output = "offer"`: store an offer at the issuer server, write its QR code (and
/// letter); the ledger's `credential_id` is the offer's credential identifier.
fn offer_one(
    p: &Plan,
    offers: &OfferPlan,
    row: &input::Row,
    id: &str,
    mapped: Mapped,
    shard: Option<String>,
) -> Result<Done, String> {
    let claims = match p.t.format {
        Format::Mdoc => {
            let mut ns = Map::new();
            ns.insert(
                p.t.namespace
                    .clone()
                    .or_else(|| p.t.doctype.clone())
                    .unwrap_or_else(|| "org.iso.18013.5.1".into()),
                Value::Object(mapped.claims),
            );
            ns
        }
        _ => mapped.claims,
    };
    let spec = &offers.spec;
    let created = offers
        .engine
        .create_offer(&spec.configuration_id, Value::Object(claims), None)
        .map_err(|e| format!("offer: {e} ({})", e.code()))?;
    let (png, svg) = crate::offer::qr(&created.link).map_err(|e| e.message)?;
    let stem = file_stem(id);
    let write = |name: String, bytes: &[u8]| -> Result<String, String> {
        let path = offers.dir.join(&name);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(format!("offers/{name}"))
    };
    let png_file = write(format!("{stem}.png"), &png)?;
    write(format!("{stem}.svg"), svg.as_bytes())?;
    if spec.letter {
        let name = match &spec.name_column {
            Some(col) => match template::field(&row.fields, col) {
                Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                _ => return Err(format!("column {col:?} (letter name) is empty or missing")),
            },
            None => None,
        };
        let html = letter::html(&letter::Letter {
            credential: spec
                .credential_name
                .as_deref()
                .unwrap_or(&spec.configuration_id),
            name: name.as_deref(),
            link: &created.link,
            qr_svg: &svg,
            expires_at: created.pending.expires_at,
            welsh: spec.welsh,
        });
        write(format!("{stem}.html"), html.as_bytes())?;
    }
    let side = json_line(&SideLine {
        row: id,
        credential_id: &created.pending.id,
        credential: None,
        link: Some(&created.link),
        expires_at: Some(created.pending.expires_at),
    });
    let entry = Entry {
        row: id.to_string(),
        line: row.line,
        credential_id: created.pending.id.clone(),
        format: p.t.format.as_str().into(),
        status_uri: None,
        status_index: None,
        sha256: b64::encode(sha256(created.link.as_bytes())),
        file: png_file,
        kid: p.kid.clone(),
        issued_at: SystemClock.now(),
        expires_at: Some(created.pending.expires_at),
        shard,
        offer: Some(spec.configuration_id.clone()),
    };
    Ok(prepared(&entry, Some(side)))
}
