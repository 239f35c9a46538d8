//! W3C Data Integrity proofs (eddsa-rdfc-2022, ecdsa-rdfc-2019) on top of `ssi` 0.16,
//! fully offline.
//!
//! * JSON-LD contexts come from the caller (`DiOffline::extra_contexts`, checked
//!   first) and then from ssi's bundled static contexts. Nothing is fetched.
//! * DIDs: `did:key` is resolved locally; every other DID must be supplied in
//!   `DiOffline::did_documents`. Nothing is fetched.
//! * Only proofs are checked here. Credential validity dates are never looked at
//!   (ssi's claim validation, which would read the wall clock, is bypassed); the
//!   caller checks `validFrom`/`validUntil` with its own clock. A proof-level
//!   `expires` is compared with the `at_unix` argument.
//! * Besides the signature, each proof's verification method must be
//!   authorised for the proof's `proofPurpose` by its DID document (ssi 0.16
//!   does not check this on its own).
//! * Signing never hands a private key to ssi: bytes to sign go to a callback.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use ssi::claims::chrono::{DateTime, Utc};
use ssi::claims::data_integrity::suites::EdDsaRdfc2022;
use ssi::claims::data_integrity::{
    AnyDataIntegrity, CryptographicSuite, DataIntegrityDocument, ProofOptions,
};
use ssi::claims::{
    InvalidProof, MessageSignatureError, ProofValidationError, SignatureEnvironment,
    SignatureError, ValidateProof, VerificationParameters,
};
use ssi::crypto::algorithm::EdDSA;
use ssi::dids::resolution::{Error as DidResolutionError, Options as DidOptions, Output};
use ssi::dids::{
    DIDBuf, DIDKey, DIDMethodResolver, DIDResolver, StaticDIDResolver,
    VerificationMethodDIDResolver, DID, DIDURL,
};
use ssi::json_ld::{ContextLoader, Iri, IriBuf, LoadError, Loader, RemoteDocument};
use ssi::verification_methods::ed25519_dalek::{Signature as EdSignature, Verifier, VerifyingKey};
use ssi::verification_methods::{
    AnyMethod, ControllerProvider, MessageSigner, Multikey, ProofPurpose, ReferenceOrOwned,
    ReferenceOrOwnedRef, ResolutionOptions, Signer, VerificationMethodResolutionError,
    VerificationMethodResolver,
};

/// Which cryptosuite a proof used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiSuite {
    /// `eddsa-rdfc-2022` (Ed25519, RDF canonicalisation).
    EddsaRdfc2022,
    /// `ecdsa-rdfc-2019` (P-256, RDF canonicalisation).
    EcdsaRdfc2019,
}

/// What a successful proof check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiProofInfo {
    /// The cryptosuite.
    pub suite: DiSuite,
    /// The verification method (DID URL) that made the proof.
    pub verification_method: String,
    /// The proof's `proofPurpose`.
    pub proof_purpose: String,
    /// The proof's `created`, if any.
    pub created: Option<String>,
}

/// Why a proof could not be checked or made.
#[derive(Debug, thiserror::Error)]
pub enum DiError {
    /// The document or proof is not well-formed.
    #[error("malformed Data Integrity document: {0}")]
    Malformed(String),
    /// A cryptosuite other than eddsa-rdfc-2022 / ecdsa-rdfc-2019.
    #[error("unsupported cryptosuite {0:?}: expected eddsa-rdfc-2022 or ecdsa-rdfc-2019")]
    UnsupportedSuite(String),
    /// The verification method's DID document was not supplied.
    #[error("cannot resolve verification method {0}: supply its DID document")]
    UnresolvedMethod(String),
    /// The DID document does not list the method under the proof's purpose.
    #[error("{0}")]
    NotAuthorised(String),
    /// A JSON-LD context is not available offline.
    #[error("JSON-LD context not available offline: {0}")]
    Context(String),
    /// The proof does not verify.
    #[error("Data Integrity proof signature does not verify: {0}")]
    SignatureInvalid(String),
    /// The signing callback failed or returned a bad signature.
    #[error("signer failed: {0}")]
    Signer(String),
}

/// Offline inputs: DID documents for did:web (did:key must resolve with nothing
/// supplied), and extra JSON-LD contexts (url -> document text) beyond ssi's
/// bundled ones.
#[derive(Debug, Clone, Default)]
pub struct DiOffline {
    /// DID documents by DID (did:web and other non-self-certifying methods).
    pub did_documents: Vec<(String, serde_json::Value)>,
    /// Extra JSON-LD contexts: (URL, document text); these win over bundled ones.
    pub extra_contexts: Vec<(String, String)>,
}

// ---------------------------------------------------------------------------
// Offline JSON-LD loader: caller contexts first, then ssi's bundled contexts.
// Records every URL it could not serve so failures can be reported as
// `DiError::Context`.
// ---------------------------------------------------------------------------

struct OfflineLoader {
    extra: ContextLoader,
    bundled: ContextLoader,
    misses: RefCell<Vec<String>>,
}

impl OfflineLoader {
    fn new(offline: &DiOffline) -> Result<Self, DiError> {
        let mut map = HashMap::new();
        for (url, text) in &offline.extra_contexts {
            map.insert(url.clone(), text.clone());
        }
        let extra = ContextLoader::empty()
            .with_context_map_from(map)
            .map_err(|e| DiError::Context(format!("invalid extra context: {e}")))?;
        Ok(Self {
            extra,
            bundled: ContextLoader::empty().with_static_loader(),
            misses: RefCell::new(Vec::new()),
        })
    }

    fn take_misses(&self) -> Vec<String> {
        std::mem::take(&mut *self.misses.borrow_mut())
    }
}

impl Loader for OfflineLoader {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        if let Ok(doc) = self.extra.load(url).await {
            return Ok(doc);
        }
        match self.bundled.load(url).await {
            Ok(doc) => Ok(doc),
            Err(e) => {
                self.misses.borrow_mut().push(url.to_string());
                Err(e)
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Offline DID resolver: did:key computed locally, everything else from the
// supplied documents. Records every DID it could not resolve.
// ---------------------------------------------------------------------------

struct OfflineDids {
    docs: StaticDIDResolver,
    misses: RefCell<Vec<String>>,
}

impl OfflineDids {
    fn new(offline: &DiOffline) -> Result<Self, DiError> {
        let mut docs = StaticDIDResolver::new();
        for (did, document) in &offline.did_documents {
            let did_buf = DIDBuf::from_string(did.clone())
                .map_err(|_| DiError::Malformed(format!("supplied DID {did:?} is not a DID")))?;
            let bytes = serde_json::to_vec(document)
                .map_err(|e| DiError::Malformed(format!("supplied DID document for {did}: {e}")))?;
            docs.insert(
                did_buf,
                Output::from_content(bytes, Some("application/did+json".to_owned())),
            );
        }
        Ok(Self {
            docs,
            misses: RefCell::new(Vec::new()),
        })
    }

    fn take_misses(&self) -> Vec<String> {
        std::mem::take(&mut *self.misses.borrow_mut())
    }
}

impl DIDResolver for OfflineDids {
    async fn resolve_representation<'a>(
        &'a self,
        did: &'a DID,
        options: DidOptions,
    ) -> Result<Output<Vec<u8>>, DidResolutionError> {
        // did:key is always derived from the key itself; a supplied document
        // cannot override it.
        let result = if did.method_name() == "key" {
            DIDKey
                .resolve_method_representation(did.method_specific_id(), options)
                .await
        } else {
            self.docs.resolve_representation(did, options).await
        };
        if result.is_err() {
            self.misses.borrow_mut().push(did.to_string());
        }
        result
    }
}

/// Wraps ssi's DID-based verification-method resolver and remembers why a
/// resolution failed, because ssi flattens that into an opaque string.
struct RecordingVmResolver {
    inner: VerificationMethodDIDResolver<OfflineDids, AnyMethod>,
    failure: RefCell<Option<DiError>>,
}

impl RecordingVmResolver {
    fn take_failure(&self) -> Option<DiError> {
        self.failure.borrow_mut().take()
    }
}

impl VerificationMethodResolver for RecordingVmResolver {
    type Method = AnyMethod;

    async fn resolve_verification_method_with(
        &'_ self,
        issuer: Option<&Iri>,
        method: Option<ReferenceOrOwnedRef<'_, AnyMethod>>,
        options: ResolutionOptions,
    ) -> Result<Cow<'_, AnyMethod>, VerificationMethodResolutionError> {
        let id = method
            .as_ref()
            .map(|m| m.id().to_string())
            .unwrap_or_default();
        let result = self
            .inner
            .resolve_verification_method_with(issuer, method, options)
            .await;
        if let Err(e) = &result {
            use VerificationMethodResolutionError as E;
            let err = match e {
                // DID not resolvable offline, fragment not in the document, not a DID URL.
                E::InternalError(_)
                | E::NotAVerificationMethod(_)
                | E::UnknownKey
                | E::UnsupportedKeyId(_) => DiError::UnresolvedMethod(id),
                other => DiError::Malformed(format!("verification method {id}: {other}")),
            };
            *self.failure.borrow_mut() = Some(err);
        }
        result
    }
}

// ---------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------

fn malformed(msg: impl Into<String>) -> DiError {
    DiError::Malformed(msg.into())
}

/// Checks the JSON shape of one proof and extracts what we report.
fn precheck_proof(p: &serde_json::Value) -> Result<DiProofInfo, DiError> {
    let obj = p
        .as_object()
        .ok_or_else(|| malformed("proof is not a JSON object"))?;
    let ty = obj
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| malformed("proof has no string `type`"))?;
    if ty != "DataIntegrityProof" {
        return Err(DiError::UnsupportedSuite(ty.to_owned()));
    }
    let suite = match obj.get("cryptosuite").and_then(|c| c.as_str()) {
        Some("eddsa-rdfc-2022") => DiSuite::EddsaRdfc2022,
        Some("ecdsa-rdfc-2019") => DiSuite::EcdsaRdfc2019,
        Some(other) => return Err(DiError::UnsupportedSuite(other.to_owned())),
        None => return Err(malformed("DataIntegrityProof has no string `cryptosuite`")),
    };
    let verification_method = obj
        .get("verificationMethod")
        .and_then(|v| v.as_str())
        .ok_or_else(|| malformed("proof has no string `verificationMethod`"))?
        .to_owned();
    let proof_purpose = obj
        .get("proofPurpose")
        .and_then(|v| v.as_str())
        .ok_or_else(|| malformed("proof has no string `proofPurpose`"))?
        .to_owned();
    if !obj.get("proofValue").is_some_and(|v| v.is_string()) {
        return Err(malformed("proof has no string `proofValue`"));
    }
    let created = match obj.get("created") {
        None => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("proof `created` is not a string")),
    };
    Ok(DiProofInfo {
        suite,
        verification_method,
        proof_purpose,
        created,
    })
}

/// Unix seconds of an xsd:dateTimeStamp without any panicking conversion.
fn stamp_unix(ts: &ssi::xsd::DateTimeStamp) -> i64 {
    ts.date_time
        .and_utc()
        .timestamp()
        .saturating_sub(i64::from(ts.offset.local_minus_utc()))
}

fn classify_failure(
    e: ProofValidationError,
    vm: &str,
    vm_failure: Option<DiError>,
    did_misses: Vec<String>,
    ctx_misses: Vec<String>,
) -> DiError {
    if let Some(f) = vm_failure {
        return f;
    }
    if !did_misses.is_empty() {
        return DiError::UnresolvedMethod(vm.to_owned());
    }
    if !ctx_misses.is_empty() {
        return DiError::Context(ctx_misses.join(", "));
    }
    match e {
        // e.g. a proofValue that is not valid multibase.
        ProofValidationError::InvalidSignature | ProofValidationError::MissingSignature => {
            DiError::SignatureInvalid(e.to_string())
        }
        other => DiError::Malformed(format!("proof with verification method {vm}: {other}")),
    }
}

/// Verify every proof on `doc` (a JSON VC with `proof`), offline. Must NOT
/// consult the wall clock for credential validFrom/validUntil (the caller checks
/// those itself with an injected clock); if ssi insists on a date, use the `at`
/// value (unix seconds) passed in.
pub fn verify(
    doc: &serde_json::Value,
    offline: &DiOffline,
    at_unix: i64,
) -> Result<Vec<DiProofInfo>, DiError> {
    let obj = doc
        .as_object()
        .ok_or_else(|| malformed("document is not a JSON object"))?;
    let raw_proofs: Vec<&serde_json::Value> = match obj.get("proof") {
        None => return Err(malformed("document has no `proof`")),
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(p @ serde_json::Value::Object(_)) => vec![p],
        Some(_) => return Err(malformed("`proof` is neither an object nor an array")),
    };
    if raw_proofs.is_empty() {
        return Err(malformed("`proof` is an empty array"));
    }
    let infos = raw_proofs
        .into_iter()
        .map(precheck_proof)
        .collect::<Result<Vec<_>, _>>()?;

    let loader = OfflineLoader::new(offline)?;
    let resolver = RecordingVmResolver {
        inner: VerificationMethodDIDResolver::new(OfflineDids::new(offline)?),
        failure: RefCell::new(None),
    };

    let secured: AnyDataIntegrity = serde_json::from_value(doc.clone())
        .map_err(|e| malformed(format!("cannot decode secured document: {e}")))?;
    if secured.proofs.len() != infos.len() {
        return Err(malformed("proof count mismatch after decoding"));
    }

    // ssi only reads this date for claim validation, which we never run; it is
    // set so that nothing can fall back to `Utc::now()`.
    let at = DateTime::<Utc>::from_timestamp(at_unix, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let params = VerificationParameters::from_resolver(&resolver)
        .with_json_ld_loader(&loader)
        .with_date_time(at);

    for (proof, info) in secured.proofs.iter().zip(infos.iter()) {
        let vm = info.verification_method.as_str();

        if let Some(expires) = &proof.expires {
            if stamp_unix(expires) < at_unix {
                return Err(DiError::SignatureInvalid(format!(
                    "proof by {vm} expired at {expires}"
                )));
            }
        }

        loader.take_misses();
        resolver.take_failure();
        resolver.inner.resolver().take_misses();
        // Proof-only validation: `VerifiableClaims::verify` would also run claim
        // validation (validFrom/validUntil against a clock); we deliberately don't.
        let outcome = pollster::block_on(proof.validate_proof(&params, &secured.claims));
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(invalid)) => {
                let msg = match invalid {
                    InvalidProof::Signature => format!("invalid signature by {vm}"),
                    other => format!("{other} ({vm})"),
                };
                return Err(DiError::SignatureInvalid(msg));
            }
            Err(e) => {
                return Err(classify_failure(
                    e,
                    vm,
                    resolver.take_failure(),
                    resolver.inner.resolver().take_misses(),
                    loader.take_misses(),
                ))
            }
        }

        // The signature is good; now the key must be authorised for this
        // purpose by its controller (the DID document of the method's DID).
        let method_iri = proof.verification_method.id();
        let did_url = DIDURL::new(method_iri.as_bytes())
            .map_err(|_| malformed(format!("verification method {vm} is not a DID URL")))?;
        let controller: &Iri = did_url.did().as_iri();
        let purpose: ProofPurpose = proof.proof_purpose;
        match pollster::block_on(
            resolver
                .inner
                .ensure_allows_verification_method(controller, method_iri, purpose),
        ) {
            Ok(()) => {}
            Err(ProofValidationError::InvalidKeyUse) => {
                return Err(DiError::NotAuthorised(format!(
                    "{vm} is not authorised for proofPurpose {} by its DID document",
                    info.proof_purpose
                )))
            }
            Err(_) => return Err(DiError::UnresolvedMethod(vm.to_owned())),
        }
    }
    Ok(infos)
}

// ---------------------------------------------------------------------------
// Signing through a callback
// ---------------------------------------------------------------------------

type SignFn<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + 'a;

#[derive(Clone)]
struct CallbackSigner<'a> {
    method_id: IriBuf,
    public_key: VerifyingKey,
    sign: &'a SignFn<'a>,
    failure: &'a RefCell<Option<String>>,
}

impl CallbackSigner<'_> {
    fn fail(&self, msg: String) -> MessageSignatureError {
        *self.failure.borrow_mut() = Some(msg.clone());
        MessageSignatureError::SignatureFailed(msg)
    }
}

impl<'a> Signer<Multikey> for CallbackSigner<'a> {
    type MessageSigner = CallbackSigner<'a>;

    async fn for_method(
        &self,
        method: Cow<'_, Multikey>,
    ) -> Result<Option<Self::MessageSigner>, SignatureError> {
        if method.id == self.method_id {
            Ok(Some(self.clone()))
        } else {
            Ok(None)
        }
    }
}

impl MessageSigner<EdDSA> for CallbackSigner<'_> {
    async fn sign(
        self,
        _algorithm: EdDSA,
        message: &[u8],
    ) -> Result<Vec<u8>, MessageSignatureError> {
        let sig = (self.sign)(message).map_err(|e| self.fail(e))?;
        let sig_arr: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
            self.fail(format!(
                "callback returned {} bytes, expected a 64-byte Ed25519 signature",
                sig.len()
            ))
        })?;
        // Catch a signer holding the wrong key before the proof leaves here.
        self.public_key
            .verify(message, &EdSignature::from_bytes(&sig_arr))
            .map_err(|_| {
                self.fail(
                    "signature returned by the callback does not verify under public_key".into(),
                )
            })?;
        Ok(sig)
    }
}

/// Add an eddsa-rdfc-2022 proof (proofPurpose assertionMethod) to an unsigned
/// credential. The private key is NOT given to ssi as a key: signing goes
/// through the callback (bytes to sign -> 64-byte Ed25519 signature), so an HSM
/// or phone secure element could sign. `public_key` is the 32-byte Ed25519
/// public key; `verification_method` a DID URL such as did:key:z6Mk...#z6Mk... ;
/// `created` an RFC 3339 string.
#[allow(clippy::type_complexity)]
pub fn sign_eddsa_rdfc_2022(
    unsigned: &serde_json::Value,
    verification_method: &str,
    public_key: [u8; 32],
    created: &str,
    sign: &dyn Fn(&[u8]) -> Result<Vec<u8>, String>,
    offline: &DiOffline,
) -> Result<serde_json::Value, DiError> {
    let mut obj = unsigned
        .as_object()
        .ok_or_else(|| malformed("credential is not a JSON object"))?
        .clone();
    // Proof sets: existing proofs are not covered by the new one (DI §4.2).
    let existing_proofs = obj.remove("proof");

    let did_url = DIDURL::new(verification_method.as_bytes()).map_err(|_| {
        malformed(format!(
            "verification method {verification_method:?} is not a DID URL"
        ))
    })?;
    let did = did_url.did().to_owned();
    let method_id = IriBuf::new(verification_method.to_owned()).map_err(|_| {
        malformed(format!(
            "verification method {verification_method:?} is not an IRI"
        ))
    })?;
    let verifying_key = VerifyingKey::from_bytes(&public_key)
        .map_err(|_| DiError::Signer("public_key is not a valid Ed25519 point".into()))?;

    let controller = ssi::json_ld::iref::UriBuf::new(did.as_str().as_bytes().to_vec())
        .map_err(|_| malformed(format!("DID {did} is not a URI")))?;
    let method = Multikey::from_public_key(method_id.clone(), controller, &verifying_key);

    // If the DID can be resolved offline, the key it names must be ours.
    {
        let vm_resolver: VerificationMethodDIDResolver<OfflineDids, Multikey> =
            VerificationMethodDIDResolver::new(OfflineDids::new(offline)?);
        if let Ok(resolved) = pollster::block_on(vm_resolver.resolve_verification_method(
            None,
            Some(ReferenceOrOwnedRef::Reference(method_id.as_iri())),
        )) {
            if resolved.public_key_jwk() != method.public_key_jwk() {
                return Err(DiError::Signer(format!(
                    "public_key does not match the key published for {verification_method}"
                )));
            }
        }
    }

    let created_lex: ssi::Lexical<ssi::xsd::DateTimeStamp> = created.parse().map_err(|_| {
        malformed(format!(
            "created {created:?} is not an RFC 3339 date-time with offset"
        ))
    })?;

    let document: DataIntegrityDocument = serde_json::from_value(serde_json::Value::Object(obj))
        .map_err(|e| malformed(format!("cannot decode credential: {e}")))?;

    let loader = OfflineLoader::new(offline)?;
    let mut methods: HashMap<IriBuf, Multikey> = HashMap::new();
    methods.insert(method_id.clone(), method);
    let failure = RefCell::new(None);
    let signer = CallbackSigner {
        method_id: method_id.clone(),
        public_key: verifying_key,
        sign,
        failure: &failure,
    };
    let options = ProofOptions::new(
        created_lex,
        ReferenceOrOwned::Reference(method_id),
        ProofPurpose::Assertion,
        (),
    );
    let env = SignatureEnvironment {
        json_ld_loader: &loader,
        eip712_loader: (),
    };

    let signed = pollster::block_on(EdDsaRdfc2022.sign_with(
        env,
        document,
        &methods,
        signer,
        options,
        (), // eddsa-rdfc-2022 has no signature options
    ))
    .map_err(|e| {
        if let Some(msg) = failure.borrow_mut().take() {
            return DiError::Signer(msg);
        }
        let misses = loader.take_misses();
        if !misses.is_empty() {
            return DiError::Context(misses.join(", "));
        }
        DiError::Malformed(format!("signing failed: {e}"))
    })?;

    let mut out = serde_json::to_value(&signed)
        .map_err(|e| malformed(format!("cannot serialise signed credential: {e}")))?;
    if let Some(prev) = existing_proofs {
        let new_proof = out
            .as_object_mut()
            .and_then(|o| o.remove("proof"))
            .ok_or_else(|| malformed("signed credential has no proof"))?;
        let mut all = match prev {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        match new_proof {
            serde_json::Value::Array(a) => all.extend(a),
            other => all.push(other),
        }
        if let Some(o) = out.as_object_mut() {
            o.insert("proof".into(), serde_json::Value::Array(all));
        }
    }
    Ok(out)
}
