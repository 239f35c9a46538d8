//! Software implementations of the key-storage contracts of [`crate::platform`]:
//! [`SoftwareKeyStore`] (P-256 keys by alias) and [`SoftwareKeyProtector`] (wraps the
//! wallet store's data key). For the CLI, servers and tests; a phone app implements
//! the traits with its Secure Enclave / Keychain or Android Keystore instead.
//!
//! Key material is held in [`Zeroizing`] buffers (and aws-lc clears freed keys). On
//! disk it is a raw 32-byte file created with mode 0600; a key file that group or
//! others can read is refused.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, ECDH_P256};
use zeroize::Zeroizing;

use crate::crypto::{Alg, Jwk, SoftwareKey, VerifyingKey};
use crate::error::{Error, Result};
use crate::platform::{KeyProtector, KeySettings, KeyStore, Signer};

/// Fill a fresh zeroized 32-byte buffer from the system RNG.
fn random_32() -> Result<Zeroizing<[u8; 32]>> {
    let mut k = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(&mut k[..])
        .map_err(|_| Error::CryptoBackend("system random generator failed".into()))?;
    Ok(k)
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{}: {e}", path.display()))
}

/// Write `bytes` to a new file at `path` readable only by its owner (mode 0600).
pub(crate) fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(|e| io_error(path, e))?;
    f.write_all(bytes).map_err(|e| io_error(path, e))?;
    f.sync_all().map_err(|e| io_error(path, e))
}

/// Read a 32-byte key file, refusing one that group or others may read.
fn read_key_file(path: &Path) -> Result<Zeroizing<[u8; 32]>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| io_error(path, e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::InvalidKey(format!(
                "{}: key file has mode {:o}; make it readable by its owner only (chmod 600)",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let bytes = Zeroizing::new(fs::read(path).map_err(|e| io_error(path, e))?);
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(Error::InvalidKey(format!(
            "{}: a key file holds exactly 32 bytes, found {}",
            path.display(),
            bytes.len()
        )));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

const WRAP_VERSION: u8 = 1;
const WRAP_AAD: &[u8] = b"govcred/key-protector/v1";

/// A [`KeyProtector`] with a 256-bit AES-GCM wrapping key held in memory, optionally
/// loaded from (or created in) a key file.
///
/// ```
/// use govcred::{crypto::SoftwareKeyProtector, KeyProtector};
/// let dir = std::env::temp_dir().join(format!("govcred-doc-kp-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("store.key");
/// let p = SoftwareKeyProtector::open_or_create(&path).unwrap();
/// let wrapped = p.wrap(b"data key").unwrap();
/// let again = SoftwareKeyProtector::open_or_create(&path).unwrap();
/// assert_eq!(&again.unwrap(&wrapped).unwrap()[..], b"data key");
/// again.destroy().unwrap();
/// assert!(!path.exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct SoftwareKeyProtector {
    key: Mutex<Option<Zeroizing<[u8; 32]>>>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for SoftwareKeyProtector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKeyProtector")
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl SoftwareKeyProtector {
    /// A protector with a fresh random key that lives only in memory.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_key(*random_32()?))
    }

    /// A protector with the given wrapping key (in memory).
    pub fn from_key(key: [u8; 32]) -> Self {
        SoftwareKeyProtector {
            key: Mutex::new(Some(Zeroizing::new(key))),
            file: None,
        }
    }

    /// Load the wrapping key from `path`, or create it there (32 random bytes, mode
    /// 0600) if the file does not exist. [`KeyProtector::destroy`] deletes the file.
    pub fn open_or_create(path: &Path) -> Result<Self> {
        let key = if path.exists() {
            read_key_file(path)?
        } else {
            let key = random_32()?;
            write_private_file(path, &key[..])?;
            key
        };
        Ok(SoftwareKeyProtector {
            key: Mutex::new(Some(key)),
            file: Some(path.to_path_buf()),
        })
    }

    fn aead(&self) -> Result<RandomizedNonceKey> {
        let guard = self
            .key
            .lock()
            .map_err(|_| Error::CryptoBackend("key protector lock poisoned".into()))?;
        let key = guard.as_ref().ok_or_else(|| Error::KeyInvalidated {
            alias: "software key protector".into(),
        })?;
        RandomizedNonceKey::new(&AES_256_GCM, &key[..])
            .map_err(|_| Error::CryptoBackend("AES-256-GCM key setup failed".into()))
    }
}

impl KeyProtector for SoftwareKeyProtector {
    fn wrap(&self, key: &[u8]) -> Result<Vec<u8>> {
        let aead = self.aead()?;
        let mut in_out = key.to_vec();
        let nonce = aead
            .seal_in_place_append_tag(Aad::from(WRAP_AAD), &mut in_out)
            .map_err(|_| Error::CryptoBackend("AES-256-GCM seal failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(WRAP_VERSION);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let aead = self.aead()?;
        if wrapped.len() < 1 + NONCE_LEN + 16 || wrapped[0] != WRAP_VERSION {
            return Err(Error::WrongKey(
                "the wrapped key is not in the software key protector's form".into(),
            ));
        }
        let nonce = Nonce::try_assume_unique_for_key(&wrapped[1..1 + NONCE_LEN])
            .map_err(|_| Error::WrongKey("bad nonce".into()))?;
        let mut in_out = Zeroizing::new(wrapped[1 + NONCE_LEN..].to_vec());
        let len = aead
            .open_in_place(nonce, Aad::from(WRAP_AAD), &mut in_out)
            .map_err(|_| {
                Error::WrongKey("the wrapping key does not authenticate the wrapped key".into())
            })?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }

    fn destroy(&self) -> Result<()> {
        if let Ok(mut guard) = self.key.lock() {
            *guard = None; // Zeroizing clears the bytes on drop.
        }
        if let Some(path) = &self.file {
            if path.exists() {
                // Overwrite before unlinking, so the key is not left in the file's blocks
                // on file systems that write in place.
                let _ = fs::write(path, [0u8; 32]);
                fs::remove_file(path).map_err(|e| io_error(path, e))?;
            }
        }
        Ok(())
    }
}

struct Entry {
    secret: Zeroizing<[u8; 32]>,
    key: SoftwareKey,
    invalidated: bool,
}

/// A [`KeyStore`] of software P-256 keys, in memory or one file per key in a
/// directory (mode 0600). "Non-exportable" here means the API has no export: the
/// keys are only as safe as the process and the directory.
///
/// ```
/// use govcred::{crypto::SoftwareKeyStore, KeySettings, KeyStore};
/// let ks = SoftwareKeyStore::in_memory();
/// let a = ks.create_key("a", &KeySettings::default()).unwrap();
/// let b = ks.create_key("b", &KeySettings::default()).unwrap();
/// // Both sides of an ECDH agree on the same secret.
/// assert_eq!(*ks.key_agreement("a", &b).unwrap(), *ks.key_agreement("b", &a).unwrap());
/// ks.delete_key("a").unwrap();
/// assert_eq!(ks.sign("a", b"x").unwrap_err().code(), govcred::ErrorCode::KeyNotFound);
/// ```
pub struct SoftwareKeyStore {
    dir: Option<PathBuf>,
    keys: Mutex<BTreeMap<String, Entry>>,
}

impl std::fmt::Debug for SoftwareKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKeyStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

const KEY_FILE_EXT: &str = "p256";

fn check_alias(alias: &str) -> Result<()> {
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && !alias.starts_with('.')
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidKey(format!(
            "key alias {alias:?}: use 1–64 characters from A–Z a–z 0–9 - _ . (not starting with .)"
        )))
    }
}

fn entry_from_secret(secret: Zeroizing<[u8; 32]>) -> Result<Entry> {
    let key = SoftwareKey::from_secret_bytes(Alg::ES256, &secret)?;
    Ok(Entry {
        secret,
        key,
        invalidated: false,
    })
}

impl SoftwareKeyStore {
    /// Keys held in memory only.
    pub fn in_memory() -> Self {
        SoftwareKeyStore {
            dir: None,
            keys: Mutex::new(BTreeMap::new()),
        }
    }

    /// Keys kept in `dir` (created if missing), one `<alias>.p256` file each; the
    /// keys already there are loaded.
    pub fn in_directory(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut keys = BTreeMap::new();
        for item in fs::read_dir(dir).map_err(|e| io_error(dir, e))? {
            let path = item.map_err(|e| io_error(dir, e))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some(KEY_FILE_EXT) {
                continue;
            }
            let Some(alias) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if check_alias(alias).is_err() {
                continue;
            }
            keys.insert(alias.to_string(), entry_from_secret(read_key_file(&path)?)?);
        }
        Ok(SoftwareKeyStore {
            dir: Some(dir.to_path_buf()),
            keys: Mutex::new(keys),
        })
    }

    /// Mark `alias` as invalidated, as a platform does when biometrics change: every
    /// later use gives [`Error::KeyInvalidated`] until the key is deleted. For tests
    /// of the app's recovery path.
    pub fn invalidate(&self, alias: &str) -> Result<()> {
        self.with_entry_mut(alias, |e| {
            e.invalidated = true;
            Ok(())
        })
    }

    fn with_entry_mut<R>(&self, alias: &str, f: impl FnOnce(&mut Entry) -> Result<R>) -> Result<R> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| Error::CryptoBackend("key store lock poisoned".into()))?;
        let entry = keys.get_mut(alias).ok_or_else(|| Error::KeyNotFound {
            alias: alias.to_string(),
        })?;
        f(entry)
    }

    fn with_usable<R>(&self, alias: &str, f: impl FnOnce(&Entry) -> Result<R>) -> Result<R> {
        self.with_entry_mut(alias, |e| {
            if e.invalidated {
                return Err(Error::KeyInvalidated {
                    alias: alias.to_string(),
                });
            }
            f(e)
        })
    }

    fn key_path(&self, alias: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(format!("{alias}.{KEY_FILE_EXT}")))
    }
}

impl KeyStore for SoftwareKeyStore {
    fn create_key(&self, alias: &str, _settings: &KeySettings) -> Result<Jwk> {
        check_alias(alias)?;
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| Error::CryptoBackend("key store lock poisoned".into()))?;
        if keys.contains_key(alias) {
            return Err(Error::InvalidKey(format!(
                "a key with alias {alias:?} already exists: delete it first or use another alias"
            )));
        }
        // A random 256-bit string is a valid P-256 scalar except with negligible
        // probability; retry rather than fail in that case.
        let mut attempt = 0;
        let entry = loop {
            match entry_from_secret(random_32()?) {
                Ok(e) => break e,
                Err(e) if attempt >= 3 => return Err(e),
                Err(_) => attempt += 1,
            }
        };
        if let Some(path) = self.key_path(alias) {
            write_private_file(&path, &entry.secret[..])?;
        }
        let jwk = entry.key.public_jwk();
        keys.insert(alias.to_string(), entry);
        Ok(jwk)
    }

    fn public_jwk(&self, alias: &str) -> Result<Jwk> {
        self.with_usable(alias, |e| Ok(e.key.public_jwk()))
    }

    fn sign(&self, alias: &str, bytes: &[u8]) -> Result<Vec<u8>> {
        self.with_usable(alias, |e| e.key.sign(bytes))
    }

    fn key_agreement(&self, alias: &str, peer: &Jwk) -> Result<Zeroizing<Vec<u8>>> {
        let peer = VerifyingKey::from_jwk(peer)?;
        if peer.alg() != Alg::ES256 {
            return Err(Error::KeyAlgMismatch {
                key: peer.alg().key_description().into(),
                alg: "ECDH-P256".into(),
            });
        }
        let jwk = peer.jwk();
        let mut point = Vec::with_capacity(65);
        point.push(4);
        for c in [&jwk.x, &jwk.y] {
            // `from_jwk` checked that both coordinates are present and 32 bytes long.
            point.extend(crate::b64::decode(c.as_deref().unwrap_or_default(), "JWK")?);
        }
        self.with_usable(alias, |e| {
            let private = PrivateKey::from_private_key(&ECDH_P256, &e.secret[..])
                .map_err(|_| Error::CryptoBackend("ECDH private key setup failed".into()))?;
            agreement::agree(
                &private,
                UnparsedPublicKey::new(&ECDH_P256, &point),
                Error::CryptoBackend("ECDH key agreement failed".into()),
                |shared| Ok(Zeroizing::new(shared.to_vec())),
            )
        })
    }

    fn delete_key(&self, alias: &str) -> Result<()> {
        let mut keys = self
            .keys
            .lock()
            .map_err(|_| Error::CryptoBackend("key store lock poisoned".into()))?;
        keys.remove(alias);
        if check_alias(alias).is_ok() {
            if let Some(path) = self.key_path(alias) {
                if path.exists() {
                    let _ = fs::write(&path, [0u8; 32]);
                    fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
                }
            }
        }
        Ok(())
    }

    fn aliases(&self) -> Result<Vec<String>> {
        let keys = self
            .keys
            .lock()
            .map_err(|_| Error::CryptoBackend("key store lock poisoned".into()))?;
        Ok(keys.keys().cloned().collect())
    }
}
