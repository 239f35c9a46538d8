//! `DeviceEngagement` (ISO/IEC 18013-5 §8.2.1.1) and its QR form.

use ciborium::Value;

use super::{as_uint, from_slice, get_int, map_entries, tag24, to_vec, untag24};
use crate::error::{Error, Result};

/// The URI scheme of a QR device engagement.
pub const QR_PREFIX: &str = "mdoc:";

/// An uncompressed P-256 public key (`EDeviceKey`, `EReaderKey`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EcPublicKey {
    /// x coordinate, big-endian.
    pub x: [u8; 32],
    /// y coordinate, big-endian.
    pub y: [u8; 32],
}

impl EcPublicKey {
    /// From SEC1 uncompressed form `04 ‖ x ‖ y`.
    pub fn from_sec1(point: &[u8]) -> Result<Self> {
        if point.len() != 65 || point[0] != 4 {
            return Err(Error::InvalidKey(
                "expected an uncompressed P-256 point (65 bytes starting 04)".into(),
            ));
        }
        let mut x = [0; 32];
        let mut y = [0; 32];
        x.copy_from_slice(&point[1..33]);
        y.copy_from_slice(&point[33..]);
        Ok(EcPublicKey { x, y })
    }

    /// SEC1 uncompressed form.
    pub fn to_sec1(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(65);
        v.push(4);
        v.extend_from_slice(&self.x);
        v.extend_from_slice(&self.y);
        v
    }

    /// The COSE_Key `{1: 2, -1: 1, -2: x, -3: y}` (EC2, P-256), encoded.
    pub fn to_cose_key(&self) -> Vec<u8> {
        to_vec(&Value::Map(vec![
            (Value::from(1), Value::from(2)),
            (Value::from(-1), Value::from(1)),
            (Value::from(-2), Value::Bytes(self.x.to_vec())),
            (Value::from(-3), Value::Bytes(self.y.to_vec())),
        ]))
    }

    /// Parse an EC2 P-256 COSE_Key (uncompressed; a compressed `y` is refused).
    pub fn from_cose_key(bytes: &[u8]) -> Result<Self> {
        let v = from_slice(bytes, "COSE_Key")?;
        let m = map_entries(&v, "COSE_Key")?;
        if get_int(m, 1).and_then(as_uint) != Some(2) || get_int(m, -1).and_then(as_uint) != Some(1)
        {
            return Err(Error::InvalidKey(
                "session keys must be COSE_Key kty 2 (EC2), crv 1 (P-256)".into(),
            ));
        }
        let coord = |label| -> Result<[u8; 32]> {
            match get_int(m, label) {
                Some(Value::Bytes(b)) if b.len() == 32 => {
                    let mut a = [0; 32];
                    a.copy_from_slice(b);
                    Ok(a)
                }
                _ => Err(Error::InvalidKey(format!(
                    "COSE_Key label {label} must be a 32-byte coordinate"
                ))),
            }
        };
        let key = EcPublicKey {
            x: coord(-2)?,
            y: coord(-3)?,
        };
        // On the curve?
        crate::crypto::VerifyingKey::from_p256_sec1(&key.to_sec1())?;
        Ok(key)
    }
}

/// BLE options of a device retrieval method (§8.2.2.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BleOptions {
    /// 0: the mdoc can be the GATT server (peripheral) — the GOV.UK mode.
    pub peripheral_server: bool,
    /// 1: the mdoc can be the GATT client (central).
    pub central_client: bool,
    /// 10: service UUID in peripheral server mode.
    pub peripheral_server_uuid: Option<[u8; 16]>,
    /// 11: service UUID in central client mode.
    pub central_client_uuid: Option<[u8; 16]>,
    /// 20: the mdoc's BLE device address in peripheral server mode.
    pub peripheral_server_address: Option<Vec<u8>>,
}

impl BleOptions {
    /// Peripheral server mode only, with this service UUID (GOV.UK profile §9.1).
    pub fn peripheral_server(uuid: [u8; 16]) -> Self {
        BleOptions {
            peripheral_server: true,
            peripheral_server_uuid: Some(uuid),
            ..Default::default()
        }
    }

    fn to_value(&self) -> Value {
        let mut m = vec![
            (Value::from(0), Value::Bool(self.peripheral_server)),
            (Value::from(1), Value::Bool(self.central_client)),
        ];
        if let Some(u) = self.peripheral_server_uuid {
            m.push((Value::from(10), Value::Bytes(u.to_vec())));
        }
        if let Some(u) = self.central_client_uuid {
            m.push((Value::from(11), Value::Bytes(u.to_vec())));
        }
        if let Some(a) = &self.peripheral_server_address {
            m.push((Value::from(20), Value::Bytes(a.clone())));
        }
        Value::Map(m)
    }

    fn from_value(v: &Value) -> Result<Self> {
        let m = map_entries(v, "BLE options")?;
        let flag = |k| match get_int(m, k) {
            Some(Value::Bool(b)) => Ok(*b),
            None => Ok(false),
            _ => Err(Error::malformed(
                "BLE options",
                format!("key {k} must be a boolean"),
            )),
        };
        let uuid = |k| match get_int(m, k) {
            Some(Value::Bytes(b)) if b.len() == 16 => {
                let mut u = [0; 16];
                u.copy_from_slice(b);
                Ok(Some(u))
            }
            None => Ok(None),
            _ => Err(Error::malformed(
                "BLE options",
                format!("key {k} must be a 16-byte UUID"),
            )),
        };
        Ok(BleOptions {
            peripheral_server: flag(0)?,
            central_client: flag(1)?,
            peripheral_server_uuid: uuid(10)?,
            central_client_uuid: uuid(11)?,
            peripheral_server_address: match get_int(m, 20) {
                Some(Value::Bytes(b)) => Some(b.clone()),
                _ => None,
            },
        })
    }
}

/// A device retrieval method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RetrievalMethod {
    /// Type 2, BLE.
    Ble(BleOptions),
    /// Another type (1 NFC, 3 Wi-Fi Aware): kept by type and version only.
    Other {
        /// The method type.
        kind: u64,
        /// Its version.
        version: u64,
    },
}

/// `DeviceEngagement = {0: "1.0", 1: Security, ? 2: DeviceRetrievalMethods, …}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceEngagement {
    /// `"1.0"`.
    pub version: String,
    /// The mdoc's ephemeral key, EDeviceKey.
    pub e_device_key: EcPublicKey,
    /// The retrieval methods offered.
    pub retrieval_methods: Vec<RetrievalMethod>,
    bytes: Vec<u8>,
}

impl DeviceEngagement {
    /// A version 1.0, cipher suite 1 engagement with BLE.
    pub fn new(e_device_key: EcPublicKey, ble: BleOptions) -> Self {
        let v = Value::Map(vec![
            (Value::from(0), Value::Text("1.0".into())),
            (
                Value::from(1),
                Value::Array(vec![Value::from(1), tag24(e_device_key.to_cose_key())]),
            ),
            (
                Value::from(2),
                Value::Array(vec![Value::Array(vec![
                    Value::from(2),
                    Value::from(1),
                    ble.to_value(),
                ])]),
            ),
        ]);
        DeviceEngagement {
            version: "1.0".into(),
            e_device_key,
            retrieval_methods: vec![RetrievalMethod::Ble(ble)],
            bytes: to_vec(&v),
        }
    }

    /// Parse received engagement bytes (kept exactly, for the SessionTranscript).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        const W: &str = "DeviceEngagement";
        let v = from_slice(bytes, W)?;
        let m = map_entries(&v, W)?;
        let version = match get_int(m, 0) {
            Some(Value::Text(t)) if crate::format::mdoc::is_supported_version(t) => t.clone(),
            Some(Value::Text(t)) => {
                return Err(Error::malformed(
                    W,
                    format!("version {t:?} is not supported (1.x)"),
                ))
            }
            _ => return Err(Error::malformed(W, "key 0 (version) must be text")),
        };
        let security = match get_int(m, 1) {
            Some(Value::Array(a)) if a.len() == 2 => a,
            _ => {
                return Err(Error::malformed(
                    W,
                    "key 1 (Security) must be [cipher suite, EDeviceKeyBytes]",
                ))
            }
        };
        if as_uint(&security[0]) != Some(1) {
            return Err(Error::malformed(
                W,
                "only cipher suite 1 (ECDH P-256, AES-256-GCM) is supported",
            ));
        }
        let e_device_key = EcPublicKey::from_cose_key(untag24(&security[1], "EDeviceKeyBytes")?)?;
        let mut retrieval_methods = Vec::new();
        if let Some(methods) = get_int(m, 2) {
            let Value::Array(methods) = methods else {
                return Err(Error::malformed(
                    W,
                    "key 2 (DeviceRetrievalMethods) must be an array",
                ));
            };
            for method in methods {
                let Value::Array(parts) = method else {
                    return Err(Error::malformed(
                        W,
                        "a retrieval method must be [type, version, options]",
                    ));
                };
                let kind = parts.first().and_then(as_uint);
                let ver = parts.get(1).and_then(as_uint);
                match (kind, ver, parts.get(2)) {
                    (Some(2), Some(_), Some(opts)) => {
                        retrieval_methods.push(RetrievalMethod::Ble(BleOptions::from_value(opts)?))
                    }
                    (Some(kind), Some(version), _) => {
                        retrieval_methods.push(RetrievalMethod::Other { kind, version })
                    }
                    _ => {
                        return Err(Error::malformed(
                            W,
                            "a retrieval method must be [type, version, options]",
                        ))
                    }
                }
            }
        }
        Ok(DeviceEngagement {
            version,
            e_device_key,
            retrieval_methods,
            bytes: bytes.to_vec(),
        })
    }

    /// The encoded engagement (the content of DeviceEngagementBytes).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The QR code text: `mdoc:` + base64url (unpadded) of the engagement.
    pub fn to_qr_uri(&self) -> String {
        format!("{QR_PREFIX}{}", crate::b64::encode(&self.bytes))
    }

    /// Parse a scanned `mdoc:` QR text.
    pub fn from_qr_uri(text: &str) -> Result<Self> {
        let b64 = text.trim().strip_prefix(QR_PREFIX).ok_or_else(|| {
            Error::malformed("device engagement QR code", "must start with `mdoc:`")
        })?;
        Self::parse(&crate::b64::decode(b64, "device engagement QR code")?)
    }
}
