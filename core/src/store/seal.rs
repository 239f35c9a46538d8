//! Record encryption: AES-256-GCM under the store's data key, with associated data
//! that binds each ciphertext to its row id, column and record version.

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Bytes of key material the protector wraps: 32 for AES-256-GCM, 32 for the
/// HMAC-SHA-256 key of the duplicate index.
pub(crate) const KEY_MATERIAL_LEN: usize = 64;

/// Version byte in front of every sealed blob.
const BLOB_VERSION: u8 = 1;
const TAG_LEN: usize = 16;

/// The unwrapped data key, ready to use. aws-lc clears its key copies when dropped.
pub(crate) struct DataKeys {
    aead: RandomizedNonceKey,
    index: hmac::Key,
}

impl DataKeys {
    /// Fresh random key material (to be wrapped and stored).
    pub(crate) fn generate_material() -> Result<Zeroizing<Vec<u8>>> {
        let mut m = Zeroizing::new(vec![0u8; KEY_MATERIAL_LEN]);
        aws_lc_rs::rand::fill(&mut m[..])
            .map_err(|_| Error::CryptoBackend("system random generator failed".into()))?;
        Ok(m)
    }

    pub(crate) fn from_material(material: &[u8]) -> Result<Self> {
        if material.len() != KEY_MATERIAL_LEN {
            return Err(Error::WrongKey(format!(
                "the unwrapped data key is {} bytes, expected {KEY_MATERIAL_LEN}",
                material.len()
            )));
        }
        let aead = RandomizedNonceKey::new(&AES_256_GCM, &material[..32])
            .map_err(|_| Error::CryptoBackend("AES-256-GCM key setup failed".into()))?;
        Ok(DataKeys {
            aead,
            index: hmac::Key::new(hmac::HMAC_SHA256, &material[32..]),
        })
    }

    /// Keyed digest of a credential's bytes: finds duplicates without letting anyone
    /// who reads the file confirm a guess of the credential.
    pub(crate) fn digest(&self, bytes: &[u8]) -> Vec<u8> {
        hmac::sign(&self.index, bytes).as_ref().to_vec()
    }

    /// Encrypt `plaintext`: `version ‖ nonce ‖ ciphertext ‖ tag`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut in_out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        in_out.extend_from_slice(plaintext);
        let nonce = self
            .aead
            .seal_in_place_append_tag(Aad::from(aad), &mut in_out)
            .map_err(|_| Error::CryptoBackend("AES-256-GCM seal failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(BLOB_VERSION);
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypt a blob from [`DataKeys::seal`]; `None` if it is not authentic under
    /// `aad` (altered, truncated, or moved from another row/column/version).
    pub(crate) fn open(&self, aad: &[u8], blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if blob.len() < 1 + NONCE_LEN + TAG_LEN || blob[0] != BLOB_VERSION {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&blob[1..1 + NONCE_LEN]).ok()?;
        let mut in_out = Zeroizing::new(blob[1 + NONCE_LEN..].to_vec());
        let len = self
            .aead
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .ok()?
            .len();
        in_out.truncate(len);
        Some(in_out)
    }
}

/// Associated data of one encrypted column of one record version.
pub(crate) fn aad(column: &str, id: &str, version: i64) -> Vec<u8> {
    format!("govcred/store/v1\0{column}\0{id}\0{version}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_binds_row_column_and_version() {
        let keys = DataKeys::from_material(&DataKeys::generate_material().unwrap()).unwrap();
        let blob = keys.seal(&aad("raw", "a", 1), b"secret").unwrap();
        assert_eq!(
            &keys.open(&aad("raw", "a", 1), &blob).unwrap()[..],
            b"secret"
        );
        assert!(keys.open(&aad("raw", "b", 1), &blob).is_none());
        assert!(keys.open(&aad("private", "a", 1), &blob).is_none());
        assert!(keys.open(&aad("raw", "a", 2), &blob).is_none());
        let mut bad = blob.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(keys.open(&aad("raw", "a", 1), &bad).is_none());
        assert!(keys.open(&aad("raw", "a", 1), &blob[..10]).is_none());
    }
}
