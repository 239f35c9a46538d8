//! Reading inputs and writing outputs, with errors that name the file.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;

use govcred::crypto::{Jwk, SoftwareKey};

use crate::CliError;

/// Read a file, or standard input for `-`.
pub fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::input(format!("cannot read standard input: {e}")))?;
        return Ok(buf);
    }
    fs::read(path).map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
}

/// Read a file as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read(path)?)
        .map_err(|_| CliError::input(format!("{} is not UTF-8 text", path.display())))
}

/// Read a JSON file.
pub fn read_json(path: &Path) -> Result<serde_json::Value, CliError> {
    serde_json::from_str(&read_text(path)?)
        .map_err(|e| CliError::input(format!("{} is not valid JSON: {e}", path.display())))
}

/// Read a JWK file.
pub fn read_jwk(path: &Path) -> Result<Jwk, CliError> {
    Jwk::from_json(&read_text(path)?)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))
}

/// Read a private JWK file as a signing key.
pub fn read_signing_key(path: &Path) -> Result<SoftwareKey, CliError> {
    let jwk = read_jwk(path)?;
    let kid = jwk.kid.clone();
    let key = SoftwareKey::from_jwk(&jwk)
        .map_err(|e| CliError::input(format!("{}: {e}", path.display())))?;
    Ok(match kid {
        Some(k) => key.with_kid(k),
        None => key,
    })
}

/// Write a file, creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", parent.display())))?;
    }
    fs::write(path, bytes)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
}

/// Write a secret file readable by its owner only (mode 0600 from creation, never wider).
pub fn write_secret(path: &Path, bytes: &[u8], overwrite: bool) -> Result<(), CliError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut opts = fs::OpenOptions::new();
    opts.write(true);
    if overwrite {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::input(format!(
                "{} exists: refusing to overwrite a key (use --force)",
                path.display()
            ))
        } else {
            CliError::input(format!("cannot create {}: {e}", path.display()))
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))
            .map_err(|e| CliError::input(format!("cannot restrict {}: {e}", path.display())))?;
    }
    f.write_all(bytes)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
}

/// Print JSON to standard output.
pub fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}
