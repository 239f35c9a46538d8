//! Locating the third-party vectors in `../shared/vectors` (override with
//! `GOVCRED_SHARED_VECTORS`). They are never copied into this repository.
#![allow(dead_code)]

use std::path::PathBuf;

/// The shared vectors directory, or `None` (with a note on stderr) when absent.
/// In CI (`CI` set) their absence is a failure, not a skip.
pub fn shared_vectors() -> Option<PathBuf> {
    let dir = std::env::var_os("GOVCRED_SHARED_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    if dir.join("README.md").is_file() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "shared vectors not found at {} (set GOVCRED_SHARED_VECTORS); CI must run them",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: shared vectors not found at {} (set GOVCRED_SHARED_VECTORS)",
        dir.display()
    );
    None
}

/// Read a JSON file below the shared vectors directory.
pub fn json(dir: &std::path::Path, rel: &str) -> serde_json::Value {
    let p = dir.join(rel);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A holder with one mDL: the IACA trusted by verifiers, and the IssuerSigned bound to
/// the holder's device key (valid from `now` for 30 days).
pub struct MdlHolder {
    /// The IssuerSigned as issued.
    pub issuer_signed: Vec<u8>,
    /// The device key the MSO binds.
    pub device: govcred::crypto::SoftwareKey,
    /// A verifier's trust: the IACA root.
    pub trust: govcred::trust::TrustStore,
}

/// An IACA, a Document Signer under it and an mDL with `claims` (under
/// `org.iso.18013.5.1`) issued at `now` to a fresh device key.
pub fn mdl_holder(now: i64, claims: serde_json::Value) -> MdlHolder {
    use govcred::crypto::{Alg, SoftwareKey};
    use govcred::format::mdoc::{self, MdocDraft};
    let (iaca, iaca_key) =
        govcred::pki::create_iaca("GB", "Test IACA", None, now - 86_400, now + 3000 * 86_400)
            .unwrap();
    let (ds, ds_key) = govcred::pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "Test DS",
        now - 86_400,
        now + 400 * 86_400,
    )
    .unwrap();
    let device = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut namespaces = serde_json::Map::new();
    namespaces.insert("org.iso.18013.5.1".into(), claims);
    let draft = MdocDraft::new(
        "org.iso.18013.5.1.mDL",
        namespaces,
        device.verifying_key().clone(),
        now,
        now + 30 * 86_400,
    );
    let issuer_signed = mdoc::issue(&draft, &ds, &ds_key, now).unwrap();
    let mut trust = govcred::trust::TrustStore::new();
    trust.add_root_certificates_pem(&iaca.to_pem()).unwrap();
    MdlHolder {
        issuer_signed,
        device,
        trust,
    }
}
