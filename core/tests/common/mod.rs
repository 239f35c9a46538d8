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
