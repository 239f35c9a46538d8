//! The verifier role: detect the format of an input, check it offline against the
//! trust store with an injectable clock, and return one [`VerificationReport`].
//!
//! ```
//! use std::sync::Arc;
//! use govcred::{FixedClock, Verifier, trust::TrustStore};
//! let verifier = Verifier::new(TrustStore::new()).with_clock(Arc::new(FixedClock::new(1_700_000_000)));
//! let report = verifier.verify(b"not a credential");
//! assert!(!report.valid);
//! assert_eq!(report.errors[0].code, govcred::ErrorCode::UnsupportedFormat);
//! ```

use std::sync::Arc;

use crate::error::Error;
use crate::format;
use crate::platform::{Clock, SystemClock};
use crate::report::{Format, VerificationReport};
use crate::trust::TrustStore;

/// Default allowance for clock skew between issuer, holder and verifier: 60 seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;

/// Verifies credentials of any supported format, offline.
#[derive(Clone)]
pub struct Verifier {
    trust: TrustStore,
    clock: Arc<dyn Clock>,
    leeway: i64,
    presentation: format::sd_jwt::VerifyOptions,
    mdoc: format::mdoc::VerifyOptions,
    bundle: Option<crate::trust_bundle::TrustBundleInfo>,
}

impl Verifier {
    /// A verifier trusting `trust`, on the system clock, with the default leeway.
    pub fn new(trust: TrustStore) -> Self {
        Verifier {
            trust,
            clock: Arc::new(SystemClock),
            leeway: DEFAULT_LEEWAY_SECS,
            presentation: Default::default(),
            mdoc: Default::default(),
            bundle: None,
        }
    }

    /// A verifier trusting what a verified trust bundle carries; every report then
    /// says which bundle was used and how old it was.
    pub fn from_bundle(bundle: crate::trust_bundle::LoadedBundle) -> Self {
        let mut v = Verifier::new(bundle.trust);
        v.bundle = Some(bundle.info);
        v
    }

    /// Use another clock (tests, checking at a past time).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Allow `secs` of clock skew on validity windows.
    pub fn with_leeway(mut self, secs: i64) -> Self {
        self.leeway = secs.max(0);
        self
    }

    /// Expect presentations to be bound to this verifier: a Key Binding JWT with this
    /// `aud` and `nonce` is then required.
    pub fn with_key_binding(
        mut self,
        audience: impl Into<String>,
        nonce: impl Into<String>,
    ) -> Self {
        self.presentation.audience = Some(audience.into());
        self.presentation.nonce = Some(nonce.into());
        self
    }

    /// Set the presentation expectations in full.
    pub fn with_presentation_options(mut self, options: format::sd_jwt::VerifyOptions) -> Self {
        self.presentation = options;
        self
    }

    /// Check mdoc presentations (`DeviceResponse`, `Document`) against this session:
    /// the device signature must be over DeviceAuthentication built with `transcript`.
    pub fn with_session_transcript(mut self, transcript: format::mdoc::SessionTranscript) -> Self {
        self.mdoc.session_transcript = Some(transcript);
        self
    }

    /// Set the mdoc session expectations in full (transcript, `deviceMac` key).
    pub fn with_mdoc_options(mut self, options: format::mdoc::VerifyOptions) -> Self {
        self.mdoc = options;
        self
    }

    /// The trust material.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// Detect the format of `input` and verify it.
    pub fn verify(&self, input: &[u8]) -> VerificationReport {
        let report = self.verify_format(input);
        match &self.bundle {
            Some(info) => report.with_trust_bundle(info),
            None => report,
        }
    }

    fn verify_format(&self, input: &[u8]) -> VerificationReport {
        let now = self.clock.now();
        match format::detect(input) {
            Format::JwtVc => self.verify_jwt_vc(std::str::from_utf8(input).unwrap_or_default()),
            Format::DiVc => self.verify_di_vc(input),
            Format::Mdoc => {
                format::mdoc::verify_with(input, &self.trust, now, self.leeway, &self.mdoc)
            }
            Format::SdJwtVc => {
                self.verify_sd_jwt_vc(std::str::from_utf8(input).unwrap_or_default())
            }
            Format::Unknown => {
                let mut r = VerificationReport::new(Format::Unknown, now);
                r.fail(
                    "format",
                    &Error::UnsupportedFormat(
                        "expected a compact JWT VC (three base64url parts), an SD-JWT VC (parts separated by `~`), an mdoc IssuerSigned, Document or DeviceResponse (CBOR or base64url) or a JSON credential with a Data Integrity `proof`".into(),
                    ),
                );
                r.finish()
            }
        }
    }

    /// Verify a `vc+jwt`.
    pub fn verify_jwt_vc(&self, token: &str) -> VerificationReport {
        format::jwt_vc::verify(token, &self.trust, self.clock.now(), self.leeway)
    }

    /// Verify an SD-JWT VC (issued form or presentation).
    pub fn verify_sd_jwt_vc(&self, input: &str) -> VerificationReport {
        format::sd_jwt::verify(
            input,
            &self.trust,
            self.clock.now(),
            self.leeway,
            &self.presentation,
        )
    }

    /// Verify a credential with a Data Integrity proof (JSON bytes).
    pub fn verify_di_vc(&self, input: &[u8]) -> VerificationReport {
        #[cfg(feature = "data-integrity")]
        {
            format::data_integrity::verify(input, &self.trust, self.clock.now(), self.leeway)
        }
        #[cfg(not(feature = "data-integrity"))]
        {
            let _ = input;
            let mut r = VerificationReport::new(Format::DiVc, self.clock.now());
            r.fail(
                "format",
                &Error::UnsupportedFormat(
                    "Data Integrity support was not compiled in (feature `data-integrity`)".into(),
                ),
            );
            r.finish()
        }
    }
}
