//! The issuer engine: HTTP requests in, HTTP responses out, no I/O of its own.
//!
//! [`Issuer`] serves the whole pre-authorised code flow of the GOV.UK profile — it is
//! its own authorisation server (`/token`) unless configured otherwise — plus the
//! documents a wallet fetches (metadata, `did.json`, `jwks.json`, `/iacas`, status
//! lists). Persistence goes through [`IssuerState`] (pending offers, single use of codes
//! and access tokens, nonces, issued records, notifications; [`MemoryState`] for tests,
//! SQLite in `govcred serve`), status indices through [`StatusLists`]. Credentials are
//! built by the format modules ([`crate::format::jwt_vc`], [`crate::format::sd_jwt`],
//! [`crate::format::mdoc`]).
//!
//! ```
//! use std::{collections::BTreeMap, sync::Arc};
//! use govcred::crypto::{Alg, SoftwareKey};
//! use govcred::oid4vci::issuer::*;
//! use govcred::platform::HttpRequest;
//! let config = IssuerConfig::new("https://issuer.example.gov.uk", "CLIENT_ID");
//! let mut configurations = BTreeMap::new();
//! configurations.insert("VeteranCard".to_string(), CredentialSpec::new(CredentialTemplate::JwtVc {
//!     credential_type: "DigitalVeteranCard".into(), name: None, description: None }));
//! let keys = IssuerKeys::new(Arc::new(SoftwareKey::generate(Alg::ES256).unwrap())).unwrap();
//! let issuer = Issuer::new(config, configurations, keys, Arc::new(MemoryState::default())).unwrap();
//! let offer = issuer.create_offer("VeteranCard", serde_json::json!({"name": "Sam"}), None).unwrap();
//! assert!(offer.link.contains("credential_offer="));
//! let metadata = issuer.handle(&HttpRequest::get("/.well-known/openid-credential-issuer", 0));
//! assert_eq!(metadata.status, 200);
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::credential::{
    CredentialRequest, CredentialResponse, ErrorBody, IssuedCredential, NotificationRequest,
};
use super::metadata::{
    AuthorizationServerMetadata, CredentialConfiguration, CredentialIssuerMetadata,
};
use super::offer::{CredentialOffer, GOVUK_WALLET_ENTRY, PRE_AUTHORIZED_CODE_GRANT};
use super::proof::{self, ProofPolicy};
use super::token::{self, AccessTokenClaims, PreAuthorizedCode, TokenRequest, TokenResponse};
use super::{base, random_uuid, FORMAT_JWT_VC, FORMAT_MDOC, FORMAT_SD_JWT_VC};
use crate::crypto::{ct_eq, VerifyingKey};
use crate::error::{Error, Result};
use crate::format::{jwt_vc, mdoc, sd_jwt};
use crate::platform::{Clock, HttpRequest, HttpResponse, Signer, SystemClock};
use crate::x509::Certificate;

/// A pending offer, stored when the offer is made.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingOffer {
    /// The opaque id (the code's `credential_identifiers[0]`).
    pub id: String,
    /// The configuration offered.
    pub configuration_id: String,
    /// The claims to issue (shape per format: subject claims, SD-JWT claims, or
    /// `{namespace: {element: value}}` for mdoc).
    pub claims: Value,
    /// The wallet subject (`wallet_subject_id`), carried as the access token's `sub`.
    pub subject: String,
    /// When the pre-authorised code expires (seconds).
    pub expires_at: i64,
}

/// A credential that was issued.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedRecord {
    /// The id the wallet notifies with.
    pub notification_id: String,
    /// The offer it came from.
    pub offer_id: String,
    /// Its configuration.
    pub configuration_id: String,
    /// The holder's did:key.
    pub holder: String,
    /// Status list and index, if any.
    pub status: Option<(String, usize)>,
    /// When (seconds).
    pub issued_at: i64,
}

/// Persistence of an issuer. Every method is atomic: two concurrent calls never both
/// succeed where only one may (single use).
pub trait IssuerState: Send + Sync {
    /// Store a new offer.
    fn put_offer(&self, offer: &PendingOffer) -> Result<()>;
    /// Mark offer `id`'s code redeemed and return the offer — only the first time, and
    /// only while `now < expires_at`.
    fn redeem_offer(&self, id: &str, now: i64) -> Result<Option<PendingOffer>>;
    /// The stored offer `id` — only when its wallet subject is `subject` (a token for
    /// someone else must not see the offer). Nothing is changed.
    fn pending_offer(&self, id: &str, subject: &str) -> Result<Option<PendingOffer>>;
    /// Store a fresh nonce handed out for the access token `jti`.
    fn put_nonce(&self, nonce: &str, jti: &str, expires_at: i64) -> Result<()>;
    /// Consume `nonce` if it was handed out for `jti` and is unexpired.
    fn take_nonce(&self, nonce: &str, jti: &str, now: i64) -> Result<bool>;
    /// Complete an issuance, all or nothing: record the access token `jti` as used
    /// (until `jti_expires_at`), remove the offer `record.offer_id` (only when its
    /// wallet subject is `subject`) and record the issued credential. `false` when the
    /// token was used before or the offer is gone (another request won): then no
    /// credential is recorded and the caller must not hand its credential out.
    ///
    /// The credential is signed before this call, so a crash at any instant leaves either
    /// the offer pending (the wallet can retry) or the credential recorded — never an
    /// offer consumed with nothing issued. A signed-but-unrecorded credential only wastes
    /// its status index, which is never reused.
    fn complete_issuance(
        &self,
        jti: &str,
        jti_expires_at: i64,
        subject: &str,
        record: &IssuedRecord,
    ) -> Result<bool>;
    /// Record a notification for a credential issued from `offer_id`; `false` when no
    /// such notification id exists for that offer. Repeats are accepted (idempotent).
    fn record_notification(
        &self,
        notification_id: &str,
        offer_id: &str,
        event: &str,
        description: Option<&str>,
        now: i64,
    ) -> Result<bool>;
}

/// Status lists the issuer allocates from and publishes.
pub trait StatusLists: Send + Sync {
    /// A fresh, never-reused index on list `uri` (persisted before it is returned).
    fn allocate(&self, uri: &str) -> Result<usize>;
    /// The current signed list at `uri` (`statuslist+jwt` or Bitstring `vc+jwt`), if
    /// this issuer publishes it.
    fn published(&self, uri: &str, now: i64) -> Result<Option<String>>;
}

/// In-memory [`IssuerState`] for tests and examples.
#[derive(Default)]
pub struct MemoryState {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    offers: HashMap<String, (PendingOffer, bool)>,
    used: HashSet<String>,
    nonces: HashMap<String, (String, i64)>,
    issued: HashMap<String, IssuedRecord>,
    notifications: Vec<(String, String)>,
}

impl MemoryState {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, MemoryInner>> {
        self.inner
            .lock()
            .map_err(|_| Error::Storage("state lock poisoned".into()))
    }

    /// Issued records so far.
    pub fn issued(&self) -> Vec<IssuedRecord> {
        self.lock()
            .map(|g| g.issued.values().cloned().collect())
            .unwrap_or_default()
    }

    /// `(notification_id, event)` pairs recorded so far.
    pub fn notifications(&self) -> Vec<(String, String)> {
        self.lock()
            .map(|g| g.notifications.clone())
            .unwrap_or_default()
    }
}

impl IssuerState for MemoryState {
    fn put_offer(&self, offer: &PendingOffer) -> Result<()> {
        self.lock()?
            .offers
            .insert(offer.id.clone(), (offer.clone(), false));
        Ok(())
    }
    fn redeem_offer(&self, id: &str, now: i64) -> Result<Option<PendingOffer>> {
        let mut g = self.lock()?;
        Ok(match g.offers.get_mut(id) {
            Some((o, redeemed)) if !*redeemed && now < o.expires_at => {
                *redeemed = true;
                Some(o.clone())
            }
            _ => None,
        })
    }
    fn pending_offer(&self, id: &str, subject: &str) -> Result<Option<PendingOffer>> {
        Ok(self
            .lock()?
            .offers
            .get(id)
            .filter(|(o, _)| o.subject == subject)
            .map(|(o, _)| o.clone()))
    }
    fn put_nonce(&self, nonce: &str, jti: &str, expires_at: i64) -> Result<()> {
        self.lock()?
            .nonces
            .insert(nonce.to_string(), (jti.to_string(), expires_at));
        Ok(())
    }
    fn take_nonce(&self, nonce: &str, jti: &str, now: i64) -> Result<bool> {
        let mut g = self.lock()?;
        match g.nonces.get(nonce) {
            Some((j, exp)) if j == jti && now < *exp => {
                g.nonces.remove(nonce);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn complete_issuance(
        &self,
        jti: &str,
        _jti_expires_at: i64,
        subject: &str,
        record: &IssuedRecord,
    ) -> Result<bool> {
        let mut g = self.lock()?;
        let offer_ok = g
            .offers
            .get(&record.offer_id)
            .is_some_and(|(o, _)| o.subject == subject);
        if !offer_ok || g.used.contains(jti) {
            return Ok(false);
        }
        g.used.insert(jti.to_string());
        g.offers.remove(&record.offer_id);
        g.issued
            .insert(record.notification_id.clone(), record.clone());
        Ok(true)
    }
    fn record_notification(
        &self,
        notification_id: &str,
        offer_id: &str,
        event: &str,
        _description: Option<&str>,
        _now: i64,
    ) -> Result<bool> {
        let mut g = self.lock()?;
        if g.issued
            .get(notification_id)
            .is_none_or(|r| r.offer_id != offer_id)
        {
            return Ok(false);
        }
        g.notifications
            .push((notification_id.to_string(), event.to_string()));
        Ok(true)
    }
}

/// What to build for a configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum CredentialTemplate {
    /// W3C VC 2.0 JWT (`jwt_vc_json`), bound to the holder's did:key (`sub`).
    JwtVc {
        /// The type after `VerifiableCredential`.
        credential_type: String,
        /// `name`.
        name: Option<String>,
        /// `description`.
        description: Option<String>,
    },
    /// SD-JWT VC (`dc+sd-jwt`), bound by `cnf.jwk`; every top-level claim is
    /// selectively disclosable.
    SdJwtVc {
        /// `vct`.
        vct: String,
    },
    /// ISO 18013-5 mdoc (`mso_mdoc`), bound by `deviceKey`.
    Mdoc {
        /// The doctype.
        doctype: String,
    },
}

/// How a status list is written into credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusListKind {
    /// IETF Token Status List (SD-JWT VC, mdoc).
    Token,
    /// W3C Bitstring Status List (JWT VC).
    Bitstring,
}

/// The status list a configuration allocates from.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusListSpec {
    /// Where it is published.
    pub uri: String,
    /// Its kind.
    pub kind: StatusListKind,
    /// Bits per entry.
    pub bits: u8,
}

/// One credential configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct CredentialSpec {
    /// What to build.
    pub template: CredentialTemplate,
    /// `credential_validity_period_max_days` and the validity given to credentials.
    pub validity_days: u32,
    /// GOV.UK `credential_refresh_web_journey_url`.
    pub refresh_url: Option<String>,
    /// Status list, if credentials carry status.
    pub status_list: Option<StatusListSpec>,
    /// Display entries for the metadata.
    pub display: Vec<Value>,
}

impl CredentialSpec {
    /// A configuration with defaults: one year, no refresh URL, no status.
    pub fn new(template: CredentialTemplate) -> Self {
        CredentialSpec {
            template,
            validity_days: 365,
            refresh_url: None,
            status_list: None,
            display: Vec::new(),
        }
    }

    fn format(&self) -> &'static str {
        match self.template {
            CredentialTemplate::JwtVc { .. } => FORMAT_JWT_VC,
            CredentialTemplate::SdJwtVc { .. } => FORMAT_SD_JWT_VC,
            CredentialTemplate::Mdoc { .. } => FORMAT_MDOC,
        }
    }

    fn metadata(&self) -> CredentialConfiguration {
        let es256 = vec!["ES256".to_string()];
        let mut c = CredentialConfiguration {
            format: self.format().into(),
            credential_signing_alg_values_supported: es256.clone(),
            proof_types_supported: Some(
                json!({"jwt": {"proof_signing_alg_values_supported": es256}}),
            ),
            credential_refresh_web_journey_url: self.refresh_url.clone(),
            credential_validity_period_max_days: Some(self.validity_days),
            ..Default::default()
        };
        match &self.template {
            CredentialTemplate::JwtVc {
                credential_type, ..
            } => {
                c.credential_definition =
                    Some(json!({"type": ["VerifiableCredential", credential_type]}));
                c.cryptographic_binding_methods_supported = vec!["did:key".into()];
            }
            CredentialTemplate::SdJwtVc { vct } => {
                c.vct = Some(vct.clone());
                c.cryptographic_binding_methods_supported = vec!["jwk".into()];
            }
            CredentialTemplate::Mdoc { doctype } => {
                c.doctype = Some(doctype.clone());
                c.cryptographic_binding_methods_supported = vec!["cose_key".into()];
            }
        }
        if !self.display.is_empty() {
            c.credential_metadata = Some(json!({"display": self.display}));
        }
        c
    }
}

/// Issuer settings.
#[derive(Clone, Debug)]
pub struct IssuerConfig {
    /// The credential issuer URL (https; loopback http for tests).
    pub credential_issuer: String,
    /// The authorisation server; `None`: the issuer is its own (serves `/token`).
    pub authorization_server: Option<String>,
    /// The issuer's One Login client id (`clientId` of the pre-authorised code).
    pub client_id: String,
    /// The wallet's offer entry point.
    pub wallet_entry: String,
    /// Life of a pre-authorised code, seconds (default 900; GOV.UK allows 300–3600).
    pub code_ttl: i64,
    /// Life of an access token, seconds (default 180).
    pub access_token_ttl: i64,
    /// Life of a fresh nonce handed out with `invalid_nonce`, seconds (default 300).
    pub nonce_ttl: i64,
    /// Oldest proof `iat` accepted, seconds (default 300).
    pub proof_max_age: i64,
    /// Clock skew tolerated on token expiry and proof `iat`, seconds (default 60).
    pub leeway: i64,
    /// Issuer display entries (`en`/`cy` names).
    pub display: Vec<Value>,
}

impl IssuerConfig {
    /// Defaults for `credential_issuer`.
    pub fn new(credential_issuer: &str, client_id: &str) -> Self {
        IssuerConfig {
            credential_issuer: base(credential_issuer).to_string(),
            authorization_server: None,
            client_id: client_id.into(),
            wallet_entry: GOVUK_WALLET_ENTRY.into(),
            code_ttl: 900,
            access_token_ttl: 180,
            nonce_ttl: 300,
            proof_max_age: 300,
            leeway: 60,
            display: Vec::new(),
        }
    }

    fn authorization_server(&self) -> &str {
        self.authorization_server
            .as_deref()
            .unwrap_or(&self.credential_issuer)
    }
}

/// The issuer's keys.
#[derive(Clone)]
pub struct IssuerKeys {
    /// Signs pre-authorised codes, access tokens, JWT VCs and SD-JWT VCs.
    pub signer: Arc<dyn Signer>,
    /// Its public key.
    pub public: VerifyingKey,
    /// Its key id (in `jwks.json` and `did.json`).
    pub kid: String,
    /// Keys accepted on access tokens (default: `public`; add the STS's when it signs them).
    pub access_token_keys: Vec<VerifyingKey>,
    /// Document Signer certificate and key, for mdoc.
    pub document_signer: Option<(Certificate, Arc<dyn Signer>)>,
    /// IACA roots published at `/iacas`.
    pub iacas: Vec<Certificate>,
}

impl IssuerKeys {
    /// Keys from one signer (its JWK `kid`, else its thumbprint, is the key id).
    pub fn new(signer: Arc<dyn Signer>) -> Result<Self> {
        let public = VerifyingKey::from_jwk(&signer.public_jwk())?;
        let kid = crate::did::web::key_id(&public);
        Ok(IssuerKeys {
            access_token_keys: vec![public.clone()],
            signer,
            public,
            kid,
            document_signer: None,
            iacas: Vec::new(),
        })
    }

    /// Add the mdoc Document Signer and the IACA roots.
    pub fn with_mdoc(
        mut self,
        ds: Certificate,
        ds_signer: Arc<dyn Signer>,
        iacas: Vec<Certificate>,
    ) -> Self {
        self.document_signer = Some((ds, ds_signer));
        self.iacas = iacas;
        self
    }
}

/// A new offer.
#[derive(Clone, Debug)]
pub struct CreatedOffer {
    /// The stored offer.
    pub pending: PendingOffer,
    /// The offer.
    pub offer: CredentialOffer,
    /// The deep link carrying it.
    pub link: String,
}

/// The issuer engine.
pub struct Issuer {
    config: IssuerConfig,
    configurations: BTreeMap<String, CredentialSpec>,
    keys: IssuerKeys,
    state: Arc<dyn IssuerState>,
    status: Option<Arc<dyn StatusLists>>,
    clock: Arc<dyn Clock>,
    issuer_did: String,
    credential_iss: String,
}

/// Which endpoint an error came from (decides its HTTP form).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    Credential,
    Notification,
}

impl Issuer {
    /// An issuer. Checks the URL and that mdoc configurations have a Document Signer.
    pub fn new(
        config: IssuerConfig,
        configurations: BTreeMap<String, CredentialSpec>,
        keys: IssuerKeys,
        state: Arc<dyn IssuerState>,
    ) -> Result<Self> {
        super::check_url(&config.credential_issuer, "credential_issuer")?;
        for (id, spec) in &configurations {
            if matches!(spec.template, CredentialTemplate::Mdoc { .. })
                && keys.document_signer.is_none()
            {
                return Err(Error::claim(
                    id.as_str(),
                    "an mso_mdoc configuration needs a Document Signer certificate and key",
                ));
            }
        }
        let issuer_did = super::issuer_did(&config.credential_issuer)?;
        let credential_iss = super::credential_iss(&config.credential_issuer)?;
        Ok(Issuer {
            config,
            configurations,
            keys,
            state,
            status: None,
            clock: Arc::new(SystemClock),
            issuer_did,
            credential_iss,
        })
    }

    /// Allocate status indices from, and publish, these lists.
    pub fn with_status_lists(mut self, lists: Arc<dyn StatusLists>) -> Self {
        self.status = Some(lists);
        self
    }

    /// Use `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &IssuerConfig {
        &self.config
    }

    /// Make an offer of `configuration_id` with `claims` for the wallet subject
    /// `subject` (a random pairwise-style id when `None`), store it, and return it
    /// with its link.
    pub fn create_offer(
        &self,
        configuration_id: &str,
        claims: Value,
        subject: Option<String>,
    ) -> Result<CreatedOffer> {
        if !self.configurations.contains_key(configuration_id) {
            return Err(Error::UnknownCredentialConfiguration(
                configuration_id.into(),
            ));
        }
        if !claims.is_object() {
            return Err(Error::claim("claims", "must be a JSON object"));
        }
        let now = self.clock.now();
        let id = random_uuid();
        let pending = PendingOffer {
            id: id.clone(),
            configuration_id: configuration_id.into(),
            claims,
            subject: subject.unwrap_or_else(|| {
                format!(
                    "urn:fdc:wallet.account.gov.uk:2024:{}",
                    crate::b64::encode(rand::random::<[u8; 32]>())
                )
            }),
            expires_at: now + self.config.code_ttl,
        };
        let code = token::sign_pre_authorized_code(
            &PreAuthorizedCode {
                iss: self.config.credential_issuer.clone(),
                aud: self.config.authorization_server().to_string(),
                client_id: self.config.client_id.clone(),
                credential_identifiers: vec![id],
                credential_configuration_ids: vec![configuration_id.into()],
                iat: now,
                exp: pending.expires_at,
            },
            &self.keys.kid,
            self.keys.signer.as_ref(),
        )?;
        self.state.put_offer(&pending)?;
        let offer = CredentialOffer::pre_authorized(
            &self.config.credential_issuer,
            configuration_id,
            &code,
        );
        let link = offer.to_link(&self.config.wallet_entry)?;
        Ok(CreatedOffer {
            pending,
            offer,
            link,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.credential_issuer)
    }

    /// The credential issuer metadata.
    pub fn metadata(&self) -> CredentialIssuerMetadata {
        CredentialIssuerMetadata {
            credential_issuer: self.config.credential_issuer.clone(),
            authorization_servers: vec![self.config.authorization_server().to_string()],
            credential_endpoint: self.url("/credential"),
            notification_endpoint: Some(self.url("/notification")),
            nonce_endpoint: None,
            mdoc_iacas_uri: Some(self.url("/iacas")),
            credential_configurations_supported: self
                .configurations
                .iter()
                .map(|(id, s)| (id.clone(), s.metadata()))
                .collect(),
            display: self.config.display.clone(),
            extra: Default::default(),
        }
    }

    /// The authorisation server metadata (when the issuer is its own AS).
    pub fn authorization_server_metadata(&self) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata {
            issuer: self.config.authorization_server().to_string(),
            token_endpoint: self.url("/token"),
            jwks_uri: Some(self.url("/.well-known/jwks.json")),
            grant_types_supported: vec![PRE_AUTHORIZED_CODE_GRANT.into()],
            pre_authorized_grant_anonymous_access_supported: Some(true),
            extra: Default::default(),
        }
    }

    /// `did.json` (did:web of the issuer host, GOV.UK form).
    pub fn did_document(&self) -> Result<Value> {
        crate::did::web::did_document(&self.issuer_did, &[self.keyed_public()])
    }

    fn keyed_public(&self) -> VerifyingKey {
        let mut jwk = self.keys.public.jwk().to_public();
        jwk.kid = Some(self.keys.kid.clone());
        VerifyingKey::from_jwk(&jwk).unwrap_or_else(|_| self.keys.public.clone())
    }

    /// `jwks.json`.
    pub fn jwks(&self) -> Value {
        crate::did::web::jwks(&[self.keyed_public()])
    }

    /// The IACA list (`/iacas`, GOV.UK §6.3 shape).
    pub fn iacas(&self) -> Value {
        let data: Vec<Value> = self
            .keys
            .iacas
            .iter()
            .map(|c| {
                let subject = c.subject();
                let rdn = |name: &str| {
                    subject
                        .split(", ")
                        .find_map(|p| p.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                        .unwrap_or_default()
                        .to_string()
                };
                let ms = |t: i64| crate::datetime::format(t).replace('Z', ".000Z");
                let fingerprint = c.sha256_fingerprint();
                let mut jwk = c
                    .public_key()
                    .map(|k| serde_json::to_value(k.jwk().to_public()).unwrap_or_default())
                    .unwrap_or_default();
                jwk["alg"] = "ES256".into();
                json!({
                    "id": fingerprint.get(..32).unwrap_or_default(),
                    "active": true,
                    "certificatePem": c.to_pem(),
                    "certificateData": {
                        "notBefore": ms(c.not_before()),
                        "notAfter": ms(c.not_after()),
                        "country": rdn("C"),
                        "commonName": rdn("CN"),
                    },
                    "certificateFingerprint": fingerprint,
                    "publicKeyJwk": jwk,
                })
            })
            .collect();
        json!({ "data": data })
    }

    /// Answer one HTTP request. `request.url` may be a path (`/token?x`) or a full URL.
    pub fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let path = request_path(&request.url);
        let own = |p: &str| path_of(&self.url(p));
        let meta_path = path_of(&CredentialIssuerMetadata::well_known_url(
            &self.config.credential_issuer,
        ));
        let as_path = path_of(&AuthorizationServerMetadata::well_known_url(
            self.config.authorization_server(),
        ));
        let get = request.method.eq_ignore_ascii_case("GET");
        let post = request.method.eq_ignore_ascii_case("POST");
        let json_ok = |v: &Value| json_response(200, v, false);
        match () {
            _ if get && path == meta_path => {
                json_ok(&serde_json::to_value(self.metadata()).unwrap_or_default())
            }
            _ if get && path == as_path && self.config.authorization_server.is_none() => json_ok(
                &serde_json::to_value(self.authorization_server_metadata()).unwrap_or_default(),
            ),
            _ if get && path == own("/.well-known/did.json") => match self.did_document() {
                Ok(d) => json_ok(&d),
                Err(e) => server_error(&e),
            },
            _ if get && path == own("/.well-known/jwks.json") => json_ok(&self.jwks()),
            _ if get && path == own("/iacas") => json_ok(&self.iacas()),
            _ if post && path == own("/token") && self.config.authorization_server.is_none() => {
                match self.token(request) {
                    Ok(r) => json_response(200, &serde_json::to_value(r).unwrap_or_default(), true),
                    Err(e) => error_response(Endpoint::Token, &e, self.config.nonce_ttl),
                }
            }
            _ if post && path == own("/credential") => match self.credential(request) {
                Ok(r) => json_response(200, &serde_json::to_value(r).unwrap_or_default(), true),
                Err(e) => error_response(Endpoint::Credential, &e, self.config.nonce_ttl),
            },
            _ if post && path == own("/notification") => match self.notification(request) {
                Ok(()) => HttpResponse {
                    status: 204,
                    headers: vec![("cache-control".into(), "no-store".into())],
                    body: Vec::new(),
                },
                Err(e) => error_response(Endpoint::Notification, &e, self.config.nonce_ttl),
            },
            _ if get => self.status_list(&path),
            _ => json_response(404, &json!({"error": "not_found"}), false),
        }
    }

    fn status_list(&self, path: &str) -> HttpResponse {
        let not_found = json_response(404, &json!({"error": "not_found"}), false);
        let Some(lists) = &self.status else {
            return not_found;
        };
        for spec in self.configurations.values() {
            let Some(l) = &spec.status_list else { continue };
            if path_of(&l.uri) != path {
                continue;
            }
            return match lists.published(&l.uri, self.clock.now()) {
                Ok(Some(text)) => HttpResponse {
                    status: 200,
                    headers: vec![(
                        "content-type".into(),
                        match l.kind {
                            StatusListKind::Token => "application/statuslist+jwt",
                            StatusListKind::Bitstring => "application/vc+jwt",
                        }
                        .into(),
                    )],
                    body: text.into_bytes(),
                },
                Ok(None) => not_found,
                Err(e) => server_error(&e),
            };
        }
        not_found
    }

    /// The token endpoint.
    fn token(&self, request: &HttpRequest) -> Result<TokenResponse> {
        let now = self.clock.now();
        let req = TokenRequest::from_form(&request.body)?;
        let code = token::verify_pre_authorized_code(
            &req.pre_authorized_code,
            std::slice::from_ref(&self.keys.public),
            self.config.authorization_server(),
            now,
            0,
        )?;
        if code.iss != self.config.credential_issuer || code.client_id != self.config.client_id {
            return Err(Error::InvalidGrant(
                "the code was not issued by this issuer's client".into(),
            ));
        }
        let offer = self
            .state
            .redeem_offer(&code.credential_identifiers[0], now)?
            .ok_or_else(|| {
                Error::InvalidGrant(
                    "the pre-authorised code was already used, has expired or is unknown".into(),
                )
            })?;
        if offer.configuration_id != code.credential_configuration_ids[0] {
            return Err(Error::InvalidGrant(
                "the code's configuration does not match the offer".into(),
            ));
        }
        let claims = AccessTokenClaims {
            sub: offer.subject.clone(),
            iss: self.config.authorization_server().to_string(),
            aud: self.config.credential_issuer.clone(),
            exp: now + self.config.access_token_ttl,
            credential_identifiers: Some(vec![offer.id.clone()]),
            credential_configuration_ids: vec![offer.configuration_id.clone()],
            c_nonce: random_uuid(),
            jti: random_uuid(),
        };
        Ok(TokenResponse {
            access_token: token::sign_access_token(
                &claims,
                &self.keys.kid,
                self.keys.signer.as_ref(),
            )?,
            token_type: "bearer".into(),
            expires_in: Some(self.config.access_token_ttl),
            c_nonce: None,
            refresh_token: None,
        })
    }

    fn bearer(&self, request: &HttpRequest) -> Result<AccessTokenClaims> {
        let auth = request
            .header("authorization")
            .ok_or_else(|| Error::InvalidToken(String::new()))?;
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::InvalidToken("Authorization must be `Bearer <token>`".into()))?;
        token::verify_access_token(
            token,
            &self.keys.access_token_keys,
            self.config.authorization_server(),
            &self.config.credential_issuer,
            self.clock.now(),
            self.config.leeway,
        )
    }

    /// The credential endpoint.
    fn credential(&self, request: &HttpRequest) -> Result<CredentialResponse> {
        let now = self.clock.now();
        let at = self.bearer(request)?;
        let configuration_id = &at.credential_configuration_ids[0];
        let spec = self
            .configurations
            .get(configuration_id)
            .ok_or_else(|| Error::UnknownCredentialConfiguration(configuration_id.clone()))?;
        let req = CredentialRequest::from_json(&request.body)?;
        if let Some(asked) = &req.credential_configuration_id {
            if asked != configuration_id {
                return Err(Error::InvalidRequest(format!(
                    "credential_configuration_id {asked:?} is not the one the access token grants"
                )));
            }
        }
        let mut policy = ProofPolicy::new(&self.config.credential_issuer, now);
        policy.max_age = self.config.proof_max_age;
        policy.max_future = self.config.leeway;
        let proof = proof::verify_proof(req.jwt_proof()?, &policy)?;
        if matches!(spec.template, CredentialTemplate::Mdoc { .. })
            && proof.holder_key.alg() != crate::crypto::Alg::ES256
        {
            return Err(Error::InvalidProof(
                "mdoc device keys must be P-256 (ES256)".into(),
            ));
        }
        let nonce_ok = match &proof.nonce {
            Some(n) if ct_eq(n.as_bytes(), at.c_nonce.as_bytes()) => true,
            Some(n) => self.state.take_nonce(n, &at.jti, now)?,
            None => false,
        };
        if !nonce_ok {
            let fresh = random_uuid();
            self.state
                .put_nonce(&fresh, &at.jti, now + self.config.nonce_ttl)?;
            return Err(Error::InvalidNonce {
                reason: "the proof's nonce is not the current c_nonce: sign a new proof with the fresh c_nonce".into(),
                fresh_nonce: Some(fresh),
            });
        }
        let offer_id = at
            .credential_identifiers
            .as_ref()
            .and_then(|ids| ids.first())
            .ok_or_else(|| {
                Error::InvalidToken(
                    "no credential_identifiers: in-app refresh is not supported by this issuer"
                        .into(),
                )
            })?
            .clone();
        let offer = self
            .state
            .pending_offer(&offer_id, &at.sub)?
            .ok_or_else(already_redeemed)?;
        if offer.configuration_id != *configuration_id {
            return Err(Error::InvalidToken(
                "the access token's configuration is not the stored offer's".into(),
            ));
        }
        let status = match (&spec.status_list, &self.status) {
            (Some(l), Some(lists)) => Some((l.clone(), lists.allocate(&l.uri)?)),
            (Some(l), None) => {
                return Err(Error::Storage(format!(
                    "configuration {configuration_id} uses status list {} but none is attached",
                    l.uri
                )))
            }
            _ => None,
        };
        let credential = self.build(spec, &offer, &proof, status.as_ref(), now)?;
        let notification_id = random_uuid();
        let record = IssuedRecord {
            notification_id: notification_id.clone(),
            offer_id: offer.id.clone(),
            configuration_id: configuration_id.clone(),
            holder: proof.holder_did.clone(),
            status: status.map(|(l, i)| (l.uri, i)),
            issued_at: now,
        };
        let jti = format!("jti:{}", at.jti);
        if !self
            .state
            .complete_issuance(&jti, at.exp + self.config.leeway, &at.sub, &record)?
        {
            return Err(already_redeemed());
        }
        Ok(CredentialResponse {
            credentials: vec![IssuedCredential { credential }],
            notification_id: Some(notification_id),
        })
    }

    fn build(
        &self,
        spec: &CredentialSpec,
        offer: &PendingOffer,
        proof: &proof::VerifiedProof,
        status: Option<&(StatusListSpec, usize)>,
        now: i64,
    ) -> Result<String> {
        let claims = offer
            .claims
            .as_object()
            .cloned()
            .ok_or_else(|| Error::claim("claims", "must be a JSON object"))?;
        let valid_until = now + i64::from(spec.validity_days) * 86_400;
        let kid = format!("{}#{}", self.issuer_did, self.keys.kid);
        let signer = self.keys.signer.as_ref();
        match &spec.template {
            CredentialTemplate::JwtVc {
                credential_type,
                name,
                description,
            } => {
                let credential_status = status.map(|(l, idx)| match l.kind {
                    StatusListKind::Bitstring => {
                        let mut e = json!({
                            "id": format!("{}#{idx}", l.uri),
                            "type": "BitstringStatusListEntry",
                            "statusPurpose": if l.bits == 1 { "revocation" } else { "message" },
                            "statusListIndex": idx.to_string(),
                            "statusListCredential": l.uri,
                        });
                        if l.bits > 1 {
                            e["statusSize"] = l.bits.into();
                        }
                        e
                    }
                    StatusListKind::Token => {
                        json!({"status_list": {"idx": idx, "uri": l.uri}})
                    }
                });
                let draft = jwt_vc::CredentialDraft {
                    issuer: self.credential_iss.clone(),
                    types: vec![credential_type.clone()],
                    holder: Some(proof.holder_did.clone()),
                    subject: claims,
                    valid_from: Some(now),
                    valid_until: Some(valid_until),
                    name: name.clone(),
                    description: description.clone(),
                    credential_status,
                    ..Default::default()
                };
                jwt_vc::issue(&draft, &kid, signer, now)
            }
            CredentialTemplate::SdJwtVc { vct } => {
                let mut draft = sd_jwt::SdJwtDraft::new(&self.credential_iss, vct);
                draft.disclosable = claims
                    .keys()
                    .filter(|k| !sd_jwt::NEVER_DISCLOSABLE.contains(&k.as_str()))
                    .cloned()
                    .collect();
                draft.claims = claims;
                draft.holder_key = Some(proof.holder_key.jwk().to_public());
                draft.expires_at = Some(valid_until);
                draft.status =
                    status.map(|(l, idx)| json!({"status_list": {"idx": idx, "uri": l.uri}}));
                draft.kid = Some(kid);
                sd_jwt::issue(&draft, None, signer, now)
            }
            CredentialTemplate::Mdoc { doctype } => {
                let (ds, ds_signer) = self
                    .keys
                    .document_signer
                    .as_ref()
                    .ok_or_else(|| Error::claim("mdoc", "no Document Signer configured"))?;
                let draft = mdoc::MdocDraft {
                    test_only_salt_seed: None,
                    doctype: doctype.clone(),
                    claims,
                    device_key: proof.holder_key.clone(),
                    valid_from: now,
                    valid_until,
                    expected_update: None,
                    status: status.map(|(l, idx)| (*idx, l.uri.clone())),
                };
                Ok(crate::b64::encode(mdoc::issue(
                    &draft,
                    ds,
                    ds_signer.as_ref(),
                    now,
                )?))
            }
        }
    }

    /// The notification endpoint.
    fn notification(&self, request: &HttpRequest) -> Result<()> {
        let at = self.bearer(request)?;
        let req = NotificationRequest::from_json(&request.body)?;
        let offer_id = at
            .credential_identifiers
            .as_ref()
            .and_then(|i| i.first())
            .ok_or_else(|| Error::InvalidNotificationId("no offer in the access token".into()))?;
        if !self.state.record_notification(
            &req.notification_id,
            offer_id,
            req.event.as_str(),
            req.event_description.as_deref(),
            self.clock.now(),
        )? {
            return Err(Error::InvalidNotificationId(format!(
                "{:?} is not a credential issued with this access token",
                req.notification_id
            )));
        }
        Ok(())
    }
}

fn request_path(url: &str) -> String {
    let p = if url.contains("://") {
        &url[super::origin(url).len()..]
    } else {
        url
    };
    let p = p.split(['?', '#']).next().unwrap_or_default();
    if p.is_empty() {
        "/".into()
    } else {
        p.to_string()
    }
}

fn path_of(url: &str) -> String {
    request_path(url)
}

fn json_response(status: u16, body: &Value, no_store: bool) -> HttpResponse {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if no_store {
        headers.push(("cache-control".into(), "no-store".into()));
    }
    HttpResponse {
        status,
        headers,
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}

fn server_error(e: &Error) -> HttpResponse {
    json_response(
        500,
        &json!({"error": "server_error", "error_description": e.to_string()}),
        true,
    )
}

/// The HTTP form of an error at an endpoint (GOV.UK §5.6: 401 with `WWW-Authenticate`
/// for token problems, 400 with the code for request problems, `no-store` always).
fn error_response(endpoint: Endpoint, e: &Error, nonce_ttl: i64) -> HttpResponse {
    let body = |code: &str| ErrorBody {
        error: code.into(),
        error_description: Some(e.to_string()),
        c_nonce: None,
        c_nonce_expires_in: None,
    };
    let (status, err, www) = match e {
        Error::InvalidToken(reason) if endpoint != Endpoint::Token => {
            if reason.is_empty() {
                // No token at all: a bare challenge, no error parameters.
                return HttpResponse {
                    status: 401,
                    headers: vec![
                        ("www-authenticate".into(), "Bearer".into()),
                        ("cache-control".into(), "no-store".into()),
                    ],
                    body: Vec::new(),
                };
            }
            (
                401,
                body("invalid_token"),
                Some("Bearer error=\"invalid_token\""),
            )
        }
        Error::InvalidGrant(_) => (400, body("invalid_grant"), None),
        Error::UnsupportedGrantType(_) => (400, body("unsupported_grant_type"), None),
        Error::InvalidProof(_) => (400, body("invalid_proof"), None),
        Error::InvalidNonce { fresh_nonce, .. } => {
            let mut b = body("invalid_nonce");
            b.c_nonce = fresh_nonce.clone();
            b.c_nonce_expires_in = fresh_nonce.as_ref().map(|_| nonce_ttl);
            (400, b, None)
        }
        Error::UnknownCredentialConfiguration(_) => {
            (400, body("unknown_credential_configuration"), None)
        }
        Error::InvalidNotificationId(_) => (400, body("invalid_notification_id"), None),
        Error::InvalidNotificationRequest(_) => (400, body("invalid_notification_request"), None),
        Error::InvalidRequest(_) | Error::Malformed { .. } => match endpoint {
            Endpoint::Token => (400, body("invalid_request"), None),
            Endpoint::Credential => (400, body("invalid_credential_request"), None),
            Endpoint::Notification => (400, body("invalid_notification_request"), None),
        },
        _ => return server_error(e),
    };
    let mut r = json_response(status, &serde_json::to_value(err).unwrap_or_default(), true);
    if let Some(w) = www {
        r.headers.push(("www-authenticate".into(), w.into()));
    }
    r
}

/// The refusal when an offer was redeemed already, is unknown, or belongs to another
/// wallet subject (or the access token was used before).
fn already_redeemed() -> Error {
    Error::InvalidToken(
        "the offer was already redeemed, is unknown, or is for another wallet subject".into(),
    )
}
