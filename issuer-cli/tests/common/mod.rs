//! Running the `govcred` binary from the CLI tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Run `govcred` with `args`.
pub fn govcred(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args(args)
        .output()
        .expect("run govcred")
}

/// Run `govcred`, require success, and parse its JSON output.
pub fn ok_json(args: &[&str]) -> Value {
    let out = govcred(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
