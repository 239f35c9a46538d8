//! Signing keys in an HSM through PKCS#11 (`cryptoki`): ES256 on a P-256 key that
//! never leaves the token.
//!
//! A key is named by an RFC 7512 URI, `pkcs11:token=<label>;object=<label>` (optional
//! `?pin-value=…`, `&module-path=…`). The PKCS#11 module is `module-path`, else
//! `--pkcs11-module`, else `$PKCS11_MODULE`, else SoftHSM2's
//! `/usr/lib/softhsm/libsofthsm2.so`. The user PIN is `pin-value`, else the
//! environment variable named by `--pin-env` (default `PKCS11_PIN`).
//!
//! Signing hashes the JWS input with SHA-256 in software and asks the token for
//! `CKM_ECDSA` over the digest (supported by every P-256 token); PKCS#11 returns the
//! signature as raw `R‖S`, which is JOSE's form already.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;
use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use govcred::crypto::{sha256, Alg, Jwk, VerifyingKey};
use govcred::Signer;

use crate::{files, CliError};

/// SoftHSM2's module, the default.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), for `CKA_EC_PARAMS`.
const P256_PARAMS: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// Options for keys in an HSM.
#[derive(Args, Clone, Debug, Default)]
pub struct Pkcs11Args {
    /// PKCS#11 module (default `$PKCS11_MODULE`, else SoftHSM2's).
    #[arg(long)]
    pub pkcs11_module: Option<PathBuf>,
    /// Environment variable holding the token's user PIN (default `PKCS11_PIN`).
    #[arg(long)]
    pub pin_env: Option<String>,
}

/// A parsed `pkcs11:` URI (the attributes we use).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Uri {
    pub token: Option<String>,
    pub object: Option<String>,
    pub id: Option<Vec<u8>>,
    pub pin_value: Option<String>,
    pub module_path: Option<String>,
}

fn pct_decode(s: &str) -> Result<Vec<u8>, CliError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| CliError::input(format!("pkcs11 URI: bad escape in {s:?}")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl Uri {
    /// Parse `pkcs11:token=…;object=…?pin-value=…`.
    pub fn parse(uri: &str) -> Result<Self, CliError> {
        let rest = uri
            .strip_prefix("pkcs11:")
            .ok_or_else(|| CliError::input(format!("{uri:?} is not a pkcs11: URI")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut u = Uri::default();
        let text = |v: &str| -> Result<String, CliError> {
            String::from_utf8(pct_decode(v)?)
                .map_err(|_| CliError::input(format!("pkcs11 URI: {v:?} is not UTF-8")))
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (k, v) = attr.split_once('=').ok_or_else(|| {
                CliError::input(format!("pkcs11 URI: {attr:?} is not name=value"))
            })?;
            match k {
                "token" => u.token = Some(text(v)?),
                "object" => u.object = Some(text(v)?),
                "id" => u.id = Some(pct_decode(v)?),
                "type" if v == "private" || v == "public" => {}
                // Other path attributes (manufacturer, serial, …) narrow nothing we need.
                _ => {}
            }
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
            match k {
                "pin-value" => u.pin_value = Some(text(v)?),
                "module-path" => u.module_path = Some(text(v)?),
                _ => {}
            }
        }
        if u.token.is_none() {
            return Err(CliError::input(format!("{uri:?}: needs token=<label>")));
        }
        if u.object.is_none() && u.id.is_none() {
            return Err(CliError::input(format!(
                "{uri:?}: needs object=<label> or id=<bytes>"
            )));
        }
        Ok(u)
    }
}

fn p11(what: &str) -> impl Fn(cryptoki::error::Error) -> CliError + '_ {
    move |e| CliError::input(format!("PKCS#11: {what}: {e}"))
}

/// An open, logged-in session on the token named by `uri`.
pub struct TokenSession {
    // Keep the library loaded as long as the session lives.
    _ctx: Pkcs11,
    pub session: Session,
}

/// Open the module, find the token by label, log in.
pub fn open_session(uri: &Uri, args: &Pkcs11Args) -> Result<TokenSession, CliError> {
    let module = uri
        .module_path
        .clone()
        .map(PathBuf::from)
        .or_else(|| args.pkcs11_module.clone())
        .or_else(|| std::env::var_os("PKCS11_MODULE").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODULE));
    let ctx = Pkcs11::new(&module).map_err(|e| {
        CliError::input(format!(
            "PKCS#11 module {}: {e} (install SoftHSM2 with scripts/install-test-deps, or pass --pkcs11-module)",
            module.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::OsThreads) {
        Ok(()) | Err(cryptoki::error::Error::AlreadyInitialized) => {}
        Err(e) => return Err(p11("initialize")(e)),
    }
    let label = uri.token.as_deref().unwrap_or_default();
    let slot = find_slot(&ctx, label)?;
    let session = ctx.open_rw_session(slot).map_err(p11("open session"))?;
    let pin = match &uri.pin_value {
        Some(p) => p.clone(),
        None => {
            let var = args.pin_env.clone().unwrap_or_else(|| "PKCS11_PIN".into());
            std::env::var(&var).map_err(|_| {
                CliError::input(format!(
                    "PKCS#11 token {label:?}: no PIN (set ${var}, or pin-value in the URI)"
                ))
            })?
        }
    };
    match session.login(UserType::User, Some(&AuthPin::new(pin))) {
        Ok(()) => {}
        Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {}
        Err(e) => return Err(p11("login")(e)),
    }
    Ok(TokenSession { _ctx: ctx, session })
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, CliError> {
    for slot in ctx
        .get_slots_with_initialized_token()
        .map_err(p11("list slots"))?
    {
        let info = ctx.get_token_info(slot).map_err(p11("token info"))?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(CliError::input(format!(
        "PKCS#11: no initialised token labelled {label:?}"
    )))
}

fn key_template(uri: &Uri, class: ObjectClass) -> Vec<Attribute> {
    let mut t = vec![Attribute::Class(class), Attribute::KeyType(KeyType::EC)];
    if let Some(o) = &uri.object {
        t.push(Attribute::Label(o.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        t.push(Attribute::Id(id.clone()));
    }
    t
}

fn find_one(s: &Session, uri: &Uri, class: ObjectClass) -> Result<ObjectHandle, CliError> {
    let found = s
        .find_objects(&key_template(uri, class))
        .map_err(p11("find key"))?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(CliError::input(format!(
            "PKCS#11: no {class} EC key {:?} on token {:?} (create it with `govcred keygen --pkcs11 URI`)",
            uri.object.as_deref().unwrap_or("(by id)"),
            uri.token.as_deref().unwrap_or_default()
        ))),
        _ => Err(CliError::input(format!(
            "PKCS#11: several {class} keys match {:?}: add id= to the URI",
            uri.object
        ))),
    }
}

/// The P-256 public key of an EC public key object (`CKA_EC_POINT`, usually DER
/// OCTET STRING around the uncompressed point).
fn public_key(s: &Session, handle: ObjectHandle) -> Result<VerifyingKey, CliError> {
    let attrs = s
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(p11("read public key"))?;
    let point = attrs
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| CliError::input("PKCS#11: public key has no CKA_EC_POINT"))?;
    let raw = match point.as_slice() {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest,
        p => p,
    };
    Ok(VerifyingKey::from_p256_sec1(raw)?)
}

/// An ES256 signer whose private key stays in the token.
pub struct Pkcs11Signer {
    session: Mutex<TokenSession>,
    key: ObjectHandle,
    public: Jwk,
}

impl Pkcs11Signer {
    /// Open the key named by `uri` (an EC P-256 private key with a public key of the
    /// same label/id next to it).
    pub fn open(uri: &str, args: &Pkcs11Args) -> Result<Self, CliError> {
        let u = Uri::parse(uri)?;
        let ts = open_session(&u, args)?;
        let key = find_one(&ts.session, &u, ObjectClass::PRIVATE_KEY)?;
        let pubh = find_one(&ts.session, &u, ObjectClass::PUBLIC_KEY)?;
        let vk = public_key(&ts.session, pubh)?;
        let mut public = vk.jwk().clone();
        public.kid = Some(vk.thumbprint());
        Ok(Pkcs11Signer {
            session: Mutex::new(ts),
            key,
            public,
        })
    }

    /// Whether the token lets the private key out (`CKA_EXTRACTABLE`); must be false.
    pub fn extractable(&self) -> Result<bool, CliError> {
        let ts = self
            .session
            .lock()
            .map_err(|_| CliError::input("PKCS#11 session poisoned"))?;
        let attrs = ts
            .session
            .get_attributes(self.key, &[AttributeType::Extractable])
            .map_err(p11("read CKA_EXTRACTABLE"))?;
        Ok(attrs
            .iter()
            .any(|a| matches!(a, Attribute::Extractable(true))))
    }
}

impl Signer for Pkcs11Signer {
    fn alg(&self) -> Alg {
        Alg::ES256
    }
    fn public_jwk(&self) -> Jwk {
        self.public.clone()
    }
    fn sign(&self, bytes: &[u8]) -> govcred::Result<Vec<u8>> {
        let digest = sha256(bytes);
        let ts = self
            .session
            .lock()
            .map_err(|_| govcred::Error::SignerFailed("PKCS#11 session poisoned".into()))?;
        let sig = ts
            .session
            .sign(&Mechanism::Ecdsa, self.key, &digest)
            .map_err(|e| govcred::Error::SignerFailed(format!("PKCS#11 C_Sign: {e}")))?;
        if sig.len() != 64 {
            return Err(govcred::Error::SignerFailed(format!(
                "PKCS#11 returned a {}-byte ECDSA signature; expected 64 (R‖S)",
                sig.len()
            )));
        }
        Ok(sig)
    }
}

/// Create a P-256 key pair on the token: private key sensitive and not extractable.
/// Returns the public key.
pub fn generate(uri: &str, args: &Pkcs11Args) -> Result<VerifyingKey, CliError> {
    let u = Uri::parse(uri)?;
    let label = u
        .object
        .clone()
        .ok_or_else(|| CliError::input("keygen --pkcs11: the URI needs object=<label>"))?;
    let ts = open_session(&u, args)?;
    if !ts
        .session
        .find_objects(&key_template(&u, ObjectClass::PRIVATE_KEY))
        .map_err(p11("find key"))?
        .is_empty()
    {
        return Err(CliError::input(format!(
            "PKCS#11: token {:?} already has a key {label:?}",
            u.token.as_deref().unwrap_or_default()
        )));
    }
    let id =
        u.id.clone()
            .unwrap_or_else(|| sha256(label.as_bytes())[..8].to_vec());
    let public_t = vec![
        Attribute::Token(true),
        Attribute::Verify(true),
        Attribute::EcParams(P256_PARAMS.to_vec()),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.clone()),
    ];
    let private_t = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id),
    ];
    let (pubh, _) = ts
        .session
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public_t, &private_t)
        .map_err(p11("generate key pair"))?;
    public_key(&ts.session, pubh)
}

/// A signing key from a JWK file or a `pkcs11:` URI.
pub fn load_signer(spec: &str, args: &Pkcs11Args) -> Result<Arc<dyn Signer>, CliError> {
    if spec.starts_with("pkcs11:") {
        Ok(Arc::new(Pkcs11Signer::open(spec, args)?))
    } else {
        Ok(Arc::new(files::read_signing_key(std::path::Path::new(
            spec,
        ))?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc7512_uris() {
        let u = Uri::parse("pkcs11:token=Dept%20A;object=issuer-2026;id=%01%02?pin-value=1234")
            .unwrap();
        assert_eq!(u.token.as_deref(), Some("Dept A"));
        assert_eq!(u.object.as_deref(), Some("issuer-2026"));
        assert_eq!(u.id, Some(vec![1, 2]));
        assert_eq!(u.pin_value.as_deref(), Some("1234"));
        assert!(Uri::parse("pkcs11:object=x").is_err());
        assert!(Uri::parse("pkcs11:token=t").is_err());
        assert!(Uri::parse("file:x").is_err());
    }
}
