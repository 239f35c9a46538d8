//! Console sign-in: argon2id password hashes, RFC 6238 TOTP codes (each accepted once),
//! session cookies and CSRF tokens, roles.
//!
//! `argon2` (RustCrypto) hashes with the crate's defaults (argon2id, 19 MiB, 2 passes:
//! the OWASP minimum); `totp-rs` computes the codes (SHA-1, 6 digits, 30 s, one step of
//! clock skew: what authenticator apps expect).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use govcred::b64;
use totp_rs::{Algorithm, Secret, TOTP};

use crate::CliError;

/// Staff roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Issues credentials and prints letters.
    Issuer,
    /// Revokes, suspends and reinstates.
    Revoker,
    /// Reads credentials and their history.
    Auditor,
    /// Everything.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Issuer, Role::Revoker, Role::Auditor, Role::Admin];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Issuer => "issuer",
            Role::Revoker => "revoker",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    /// Parse a stored or typed name.
    pub fn parse(s: &str) -> Result<Role, CliError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                CliError::input(format!(
                    "unknown role {s:?}: use issuer, revoker, auditor or admin"
                ))
            })
    }
}

/// Who may do what: issue (issuer, admin), change status (revoker, admin), read
/// credentials (everyone signed in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Create drafts, offers and letters.
    Issue,
    /// Revoke, suspend, reinstate, withdraw offers.
    ChangeStatus,
    /// See credentials and their history.
    Read,
}

impl Permission {
    /// Whether `role` has this permission.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Permission::Issue => matches!(role, Role::Issuer | Role::Admin),
            Permission::ChangeStatus => matches!(role, Role::Revoker | Role::Admin),
            Permission::Read => true,
        }
    }
}

/// Smallest password accepted by `console add-user`.
pub const MIN_PASSWORD: usize = 12;

/// The argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, CliError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CliError::input(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn check_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// TOTP period, seconds.
pub const TOTP_STEP: u64 = 30;

/// A fresh TOTP secret (20 random bytes, as RFC 4226 recommends), base32.
pub fn new_totp_secret() -> String {
    Secret::Raw(rand::random::<[u8; 20]>().to_vec())
        .to_encoded()
        .to_string()
}

fn totp(secret: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, TOTP_STEP, bytes).ok()
}

/// The `otpauth://` URI authenticator apps scan.
pub fn otpauth_uri(issuer: &str, user: &str, secret: &str) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={TOTP_STEP}",
        enc(issuer),
        enc(user),
        enc(issuer)
    )
}

/// The time step at which `code` is valid for `secret` around `now` (one step either
/// side), if any.
pub fn totp_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let t = totp(secret)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now).ok()?;
    let current = now / TOTP_STEP;
    (current.saturating_sub(1)..=current + 1)
        .find(|s| ct_eq(t.generate(s * TOTP_STEP).as_bytes(), code.as_bytes()))
        .map(|s| s as i64)
}

/// The code for `secret` at `now` (for `console totp`, tests).
pub fn totp_code(secret: &str, now: i64) -> Option<String> {
    Some(totp(secret)?.generate(u64::try_from(now).ok()?))
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random token (32 bytes, base64url): session cookies, CSRF tokens, draft ids.
pub fn random_token() -> String {
    b64::encode(rand::random::<[u8; 32]>())
}

/// How a session token is stored: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    govcred::crypto::sha256(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_codes() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(check_password("correct horse battery", &h));
        assert!(!check_password("wrong", &h));
        assert!(!check_password("x", "not a hash"));
        let s = new_totp_secret();
        let now = 1_800_000_000;
        let code = totp_code(&s, now).unwrap();
        assert_eq!(totp_step(&s, &code, now), Some(now / 30));
        assert_eq!(totp_step(&s, &code, now + 30), Some(now / 30));
        assert_eq!(totp_step(&s, &code, now + 300), None);
        assert_eq!(totp_step(&s, "12345", now), None);
        assert!(otpauth_uri("govcred console", "a b", &s)
            .starts_with("otpauth://totp/govcred%20console:a%20b?secret="));
    }

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits: 287082.
        let s = Secret::Raw(b"12345678901234567890".to_vec())
            .to_encoded()
            .to_string();
        assert_eq!(totp_code(&s, 59).unwrap(), "287082");
    }

    #[test]
    fn permissions() {
        assert!(Permission::Issue.allows(Role::Issuer));
        assert!(!Permission::Issue.allows(Role::Revoker));
        assert!(!Permission::ChangeStatus.allows(Role::Issuer));
        assert!(!Permission::ChangeStatus.allows(Role::Auditor));
        assert!(Permission::ChangeStatus.allows(Role::Admin));
        assert!(Role::parse("boss").is_err());
    }
}
