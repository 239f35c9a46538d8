//! Credential status lists: the codecs, with no I/O.
//!
//! Two list formats are in use for GOV.UK credentials, with opposite bit orders:
//!
//! - [`token_status_list`] — the IETF Token Status List
//!   (draft-ietf-oauth-status-list): a `statuslist+jwt` carrying
//!   `{"bits": n, "lst": base64url(zlib(bytes))}`, entries packed from the **least**
//!   significant bit of each byte. Referenced from SD-JWT VCs and mdocs by
//!   `status.status_list {idx, uri}`. GOV.UK: `https://crs.account.gov.uk/t/{id}`.
//! - [`bitstring`] — the W3C Bitstring Status List v1.0: a
//!   `BitstringStatusListCredential` whose `encodedList` is
//!   `"u" + base64url(gzip(bytes))`, entries packed from the **most** significant bit.
//!   Referenced from VCs by `credentialStatus` entries. GOV.UK:
//!   `https://crs.account.gov.uk/b/{id}`.
//!
//! Decompression is capped (a list of at most [`token_status_list::MAX_ENTRIES`]
//! entries), so a zip bomb fails with [`crate::Error::TooLarge`] without allocating
//! past the cap; truncated or trailing compressed data is refused.
//!
//! ```
//! use govcred::status::{Status, StatusList};
//! let mut list = StatusList::new(2, 12).unwrap();
//! list.set(3, 1).unwrap();
//! let decoded = StatusList::from_json(&list.to_json()).unwrap();
//! assert_eq!(Status::from_value(decoded.get(3).unwrap()), Status::Invalid);
//! assert_eq!(decoded.get(4).unwrap(), 0);
//! ```

pub mod bitstring;
mod check;
mod compress;
pub mod crs;
pub mod cwt;
pub mod token_status_list;

pub use bitstring::{BitstringEntry, BitstringList, StatusListCredential};
pub use check::{
    check, check_claims, check_reference, load_list, load_list_bytes, LoadedList, Reference,
    StatusLookup, StatusVerdict,
};
pub use token_status_list::{StatusList, StatusListToken, StatusReference};

use std::fmt;

/// A status value, as the IETF Token Status List registry names them. GOV.UK uses
/// only `0` (VALID) and `1` (INVALID, permanently revoked); any value other than 0
/// should be treated as "not valid".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// `0x00`: valid.
    Valid,
    /// `0x01`: invalid (revoked); not reversible.
    Invalid,
    /// `0x02`: temporarily invalid.
    Suspended,
    /// Any other value (`0x03` and `0x0B`–`0x0F` are application-specific; the rest
    /// are reserved).
    Other(u8),
}

impl Status {
    /// The status for a raw list value.
    pub fn from_value(value: u8) -> Self {
        match value {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            v => Status::Other(v),
        }
    }

    /// The raw list value.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }

    /// `"valid"`, `"invalid"`, `"suspended"` or `"application_specific"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Suspended => "suspended",
            Status::Other(_) => "application_specific",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_values() {
        for v in 0..=255u8 {
            assert_eq!(Status::from_value(v).value(), v);
        }
        assert_eq!(Status::from_value(0), Status::Valid);
        assert_eq!(Status::from_value(1).as_str(), "invalid");
        assert_eq!(Status::from_value(2).to_string(), "suspended");
        assert_eq!(Status::from_value(3), Status::Other(3));
        assert_eq!(Status::Other(3).as_str(), "application_specific");
    }
}
