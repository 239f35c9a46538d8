//! Status lists: the IETF Token Status List and W3C Bitstring Status List vectors in
//! `shared/vectors/status-list`, the GOV.UK documentation examples, rejections
//! (including zip bombs) and encode/decode property tests.

mod common;

use std::time::{Duration, Instant};

use govcred::crypto::{Jwk, SoftwareKey, VerifyingKey};
use govcred::jose::{self, Jws};
use govcred::status::bitstring::{self, BitstringList};
use govcred::status::token_status_list::{self, StatusList, StatusListToken, MAX_COMPRESSED_LEN};
use govcred::status::Status;
use govcred::trust::TrustStore;
use govcred::ErrorCode;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn jwk(v: &Value) -> Jwk {
    serde_json::from_value(v.clone()).unwrap()
}

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object().expect("a JSON object")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn b64(bytes: &[u8]) -> String {
    govcred::b64::encode(bytes)
}

/// Between the example tokens' `iat` (1686920170) and `exp` (2291720170).
const NOW: i64 = 1_900_000_000;

// ---------------------------------------------------------------------------------
// IETF Token Status List
// ---------------------------------------------------------------------------------

#[test]
fn tsl_lists_decode_to_expected_statuses() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "status-list/tsl-status-lists-1bit-2bit.json");
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let bits = case["bits"].as_u64().unwrap() as u8;
        let list = StatusList::from_json(&case["json"]).unwrap();
        assert_eq!(list.bits(), bits, "{name}");
        let n = case["numEntries"].as_u64().unwrap() as usize;
        assert_eq!(list.len(), n, "{name}");

        // Decompressed bytes, and the compressed bytes behind `lst`.
        assert_eq!(
            list.as_bytes().len() as u64,
            case["uncompressedByteLength"].as_u64().unwrap(),
            "{name}"
        );
        if let Some(h) = case["uncompressedByteArrayHex"].as_str() {
            assert_eq!(hex(list.as_bytes()), h, "{name}");
        }
        let lst = case["json"]["lst"].as_str().unwrap();
        assert_eq!(
            hex(&govcred::b64::decode(lst, "lst").unwrap()),
            case["compressedHex"].as_str().unwrap(),
            "{name}"
        );

        // Every index: the listed status, else the default (0 for the 2^20 lists).
        let statuses = obj(&case["statuses"]);
        let default = case["allOtherIndicesAre"].as_u64().map(|d| d as u8);
        let mut nonzero = 0usize;
        for i in 0..list.len() {
            let got = list.get(i).unwrap();
            let want = match statuses.get(&i.to_string()) {
                Some(s) => s.as_u64().unwrap() as u8,
                None => default.unwrap_or_else(|| panic!("{name}: index {i} not listed")),
            };
            assert_eq!(got, want, "{name}: index {i}");
            nonzero += usize::from(got != 0);
        }
        let listed_nonzero = statuses.values().filter(|s| s.as_u64() != Some(0)).count();
        assert_eq!(nonzero, listed_nonzero, "{name}");
        assert_eq!(
            list.get(list.len()).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );

        // Our encoding decodes back to the same list.
        let again = StatusList::from_json(&list.to_json()).unwrap();
        assert_eq!(again, list, "{name}");
        let rebuilt = StatusList::from_bytes(bits, list.as_bytes().to_vec()).unwrap();
        assert_eq!(StatusList::from_lst(bits, &rebuilt.to_lst()).unwrap(), list);
    }
}

#[test]
fn tsl_token_jwt_verifies_and_resolves() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "status-list/tsl-tokens.json");
    let t = &v["statusListTokenJwt"];
    let compact = t["compact"].as_str().unwrap();
    let mut trust = TrustStore::new();
    trust
        .add_jwk(&jwk(&v["statusListSigningKey"]["publicJwk"]))
        .unwrap();

    let token = token_status_list::verify_token(compact, &trust, NOW, 0).unwrap();
    assert_eq!(token.sub, t["expected"]["sub"].as_str().unwrap());
    assert_eq!(token.iss.as_deref(), Some("https://example.com"));
    assert_eq!(token.iat, 1_686_920_170);
    assert_eq!(token.exp, Some(2_291_720_170));
    assert_eq!(token.ttl, Some(43_200));
    assert_eq!(token.kid.as_deref(), Some("12"));
    assert_eq!(token.list.bits(), 1);
    assert_eq!(token.list.get(0).unwrap(), 1);
    assert_eq!(
        Status::from_value(token.list.get(0).unwrap()),
        Status::Invalid
    );
    for (i, s) in obj(&t["expected"]["statusAtIndex"]) {
        assert_eq!(
            u64::from(token.list.get(i.parse().unwrap()).unwrap()),
            s.as_u64().unwrap(),
            "index {i}"
        );
    }
    // Just after iat and at exp (inclusive) also verify; one second later is Expired.
    token_status_list::verify_token(compact, &trust, 1_686_920_171, 0).unwrap();
    token_status_list::verify_token(compact, &trust, 2_291_720_170, 0).unwrap();
    let e = token_status_list::verify_token(compact, &trust, 2_291_720_171, 0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Expired, "{e}");
    token_status_list::verify_token(compact, &trust, 2_291_720_171, 5).unwrap();

    // Without the key: unknown key; with another key for kid 12: signature invalid.
    assert_eq!(
        token_status_list::verify_token(compact, &TrustStore::new(), NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::UnknownKey
    );
    let other = SoftwareKey::generate(govcred::crypto::Alg::ES256)
        .unwrap()
        .with_kid("12");
    let mut wrong = TrustStore::new();
    wrong.add_jwk(&govcred::Signer::public_jwk(&other)).unwrap();
    assert_eq!(
        token_status_list::verify_token(compact, &wrong, NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );

    // Tampered: same header and signature, status of index 0 flipped to VALID.
    let (header, rest) = compact.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let mut payload = t["payload"].clone();
    let mut l = token.list.clone();
    l.set(0, 0).unwrap();
    payload["status_list"] = l.to_json();
    let forged = format!(
        "{header}.{}.{sig}",
        b64(&serde_json::to_vec(&payload).unwrap())
    );
    let e = token_status_list::verify_token(&forged, &trust, NOW, 0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid, "{e}");

    // Signed with the spec's key: the wrong typ is refused before anything else,
    // the long media type is accepted.
    let key = SoftwareKey::from_jwk(&jwk(&v["statusListSigningKey"]["privateJwk"])).unwrap();
    let body = serde_json::to_vec(&t["payload"]).unwrap();
    for (typ, ok) in [
        (Some("JWT"), false),
        (Some("statuslist+cwt"), false),
        (Some("vc+jwt"), false),
        (None, false),
        (Some("application/statuslist+jwt"), true),
        (Some("statuslist+jwt"), true),
    ] {
        let mut h = Map::new();
        h.insert("kid".into(), "12".into());
        if let Some(typ) = typ {
            h.insert("typ".into(), typ.into());
        }
        let jwt = jose::sign_compact(h, &body, &key).unwrap();
        let r = token_status_list::verify_token(&jwt, &trust, NOW, 0);
        if ok {
            assert_eq!(r.unwrap().list, token.list, "{typ:?}");
        } else {
            assert_eq!(r.unwrap_err().code(), ErrorCode::TypeMismatch, "{typ:?}");
        }
    }

    // sign_token with the spec's key gives a token that verifies to the same content.
    let ours = token_status_list::sign_token(&token, &key).unwrap();
    let jws = Jws::decode(&ours).unwrap();
    assert_eq!(jws.header_str("typ"), Some("statuslist+jwt"));
    assert_eq!(jws.kid(), Some("12"));
    assert_eq!(
        token_status_list::verify_token(&ours, &trust, NOW, 0).unwrap(),
        token
    );
}

#[test]
fn tsl_referenced_sd_jwt_points_at_index_0() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "status-list/tsl-tokens.json");
    let r = &v["referencedTokenSdJwt"];
    let issuer_jwt = r["sdJwt"].as_str().unwrap().split('~').next().unwrap();
    let jws = Jws::decode(issuer_jwt).unwrap();
    let sd = common::json(&dir, "sd-jwt/rfc9901-section5-main-example.json");
    jws.verify(&VerifyingKey::from_jwk(&jwk(&sd["keys"]["issuerPublicJwk"])).unwrap())
        .unwrap();
    let claims = jws.payload_json().unwrap();
    assert_eq!(Value::Object(claims.clone()), r["issuerSignedJwtPayload"]);

    let reference = token_status_list::reference_from_claims(&claims)
        .unwrap()
        .unwrap();
    assert_eq!(reference.idx, 0);
    assert_eq!(reference.uri, "https://example.com/statuslists/1");
    assert_eq!(
        reference.idx as u64,
        r["expected"]["statusListIdx"].as_u64().unwrap()
    );

    // Resolve against the Status List Token whose sub is that uri.
    let mut trust = TrustStore::new();
    trust
        .add_jwk(&jwk(&v["statusListSigningKey"]["publicJwk"]))
        .unwrap();
    let token = token_status_list::verify_token(
        v["statusListTokenJwt"]["compact"].as_str().unwrap(),
        &trust,
        NOW,
        0,
    )
    .unwrap();
    assert_eq!(token.sub, reference.uri);
    let status = Status::from_value(token.list.get(reference.idx).unwrap());
    assert_eq!(status, Status::Invalid);
    assert_eq!(
        u64::from(status.value()),
        r["expected"]["resolvedStatus"].as_u64().unwrap()
    );
    assert_eq!(
        status.as_str().to_uppercase(),
        r["expected"]["resolvedStatusName"].as_str().unwrap()
    );

    // A payload without `status` has no reference.
    let mut no_status = claims.clone();
    no_status.remove("status");
    assert_eq!(
        token_status_list::reference_from_claims(&no_status).unwrap(),
        None
    );
}

// ---------------------------------------------------------------------------------
// W3C Bitstring Status List
// ---------------------------------------------------------------------------------

#[test]
fn bitstring_examples() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "status-list/bitstring-status-list-examples.json");
    let ex = &v["examples"];
    let expected = &v["expected"];
    for which in [
        "statusListCredential",
        "statusListCredentialBaseContextOnly",
    ] {
        let cred = bitstring::parse_credential(obj(&ex[which])).unwrap();
        assert_eq!(cred.id, "https://example.com/credentials/status/3");
        assert_eq!(cred.issuer, "did:example:12345");
        assert_eq!(cred.purpose, "revocation");
        assert_eq!(cred.status_size, 1);
        assert_eq!(
            cred.valid_from,
            Some(govcred::datetime::parse("2021-04-05T14:27:40Z", "t").unwrap())
        );
        assert_eq!(cred.valid_until, None);
        assert_eq!(cred.ttl, None);
        assert!(cred.status_messages.is_empty());
        assert_eq!(
            cred.list.len() as u64,
            expected["decodedBitstringLengthBits"].as_u64().unwrap()
        );
        assert_eq!(
            cred.list.as_bytes().len() as u64,
            expected["decodedBitstringLengthBytes"].as_u64().unwrap()
        );
        assert!(cred.list.as_bytes().iter().all(|b| *b == 0));
        assert!((0..cred.list.len()).all(|i| cred.list.get(i).unwrap() == 0));
        assert_eq!(
            cred.list.get(cred.list.len()).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
    }

    let entries = bitstring::entries_from_credential(obj(&ex["revocableCredential"])).unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.purpose, "revocation");
    assert_eq!(e.index, 94_567);
    assert_eq!(e.status_size, 1);
    assert_eq!(
        e.list_credential,
        "https://example.com/credentials/status/3"
    );
    let want = &expected["statusOf_revocableCredential"];
    assert_eq!(e.index as u64, want["statusListIndex"].as_u64().unwrap());
    let list = bitstring::parse_credential(obj(&ex["statusListCredential"])).unwrap();
    assert_eq!(list.id, e.list_credential);
    assert_eq!(list.purpose, e.purpose);
    assert_eq!(
        u64::from(list.list.get(e.index).unwrap()),
        want["bitValue"].as_u64().unwrap()
    );

    let both = bitstring::entries_from_credential(obj(
        &ex["credentialWithRevocationAndSuspensionEntries"]
    ))
    .unwrap();
    let got: Vec<(&str, usize, &str)> = both
        .iter()
        .map(|e| (e.purpose.as_str(), e.index, e.list_credential.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "revocation",
                94_567,
                "https://example.com/credentials/status/3"
            ),
            (
                "suspension",
                23_452,
                "https://example.com/credentials/status/4"
            ),
        ]
    );
    // A status list credential has no credentialStatus of its own.
    assert!(
        bitstring::entries_from_credential(obj(&ex["statusListCredential"]))
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------
// GOV.UK documentation examples
// ---------------------------------------------------------------------------------

#[test]
fn govuk_docs_examples() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let eight = [1u8, 0, 0, 1, 0, 1, 0, 1];

    let p = common::json(&dir, "govuk/status-list/docs.bitstring.payload.json");
    let cred = bitstring::parse_credential(obj(&p)).unwrap();
    assert_eq!(cred.id, "https://crs.account.gov.uk/b/A671FED3E9AD");
    assert_eq!(cred.issuer, "https://crs.account.gov.uk/");
    assert_eq!(cred.purpose, "message");
    assert_eq!(cred.status_size, 2);
    assert_eq!(cred.ttl, Some(3600));
    assert_eq!(
        cred.status_messages,
        [(0, "VALID".to_string()), (1, "INVALID".to_string())]
    );
    assert_eq!(
        cred.valid_from,
        Some(govcred::datetime::parse("2025-10-01T14:00:00Z", "t").unwrap())
    );
    assert_eq!(
        cred.valid_until,
        Some(govcred::datetime::parse("2025-10-08T14:00:00Z", "t").unwrap())
    );
    assert_eq!(cred.list.as_bytes(), [0x41, 0x11]);
    assert_eq!(cred.list.len(), 8);
    let got: Vec<u8> = (0..8).map(|i| cred.list.get(i).unwrap()).collect();
    assert_eq!(got, eight);

    let p = common::json(
        &dir,
        "govuk/status-list/docs.token-status-list.payload.json",
    );
    let list = StatusList::from_json(&p["status_list"]).unwrap();
    assert_eq!(list.bits(), 2);
    assert_eq!(list.as_bytes(), [0x41, 0x44]);
    let got: Vec<u8> = (0..list.len()).map(|i| list.get(i).unwrap()).collect();
    assert_eq!(got, eight);
    let h = common::json(&dir, "govuk/status-list/docs.token-status-list.header.json");
    assert_eq!(h["typ"], token_status_list::TYP);

    // Re-signing the docs bitstring credential in the GOV.UK vc+jwt form round-trips.
    let key = SoftwareKey::generate(govcred::crypto::Alg::ES256).unwrap();
    let jwt = bitstring::sign_credential_jwt(&cred, "12", &key, 0).unwrap();
    let jws = Jws::decode(&jwt).unwrap();
    jws.verify(key.verifying_key()).unwrap();
    let docs_header = common::json(&dir, "govuk/status-list/docs.bitstring.header.json");
    assert_eq!(Value::Object(jws.header().clone()), docs_header);
    let payload = jws.payload_json().unwrap();
    assert_eq!(
        payload["credentialSubject"]["id"],
        format!("{}#list", cred.id)
    );
    assert_eq!(payload["credentialSubject"]["ttl"], 3600);
    assert_eq!(bitstring::parse_credential(&payload).unwrap(), cred);
}

#[test]
fn govuk_quirky_lists_are_refused() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let payload = |file: &str| -> Map<String, Value> {
        let text = std::fs::read_to_string(dir.join("govuk/status-list").join(file)).unwrap();
        Jws::decode(text.trim()).unwrap().payload_json().unwrap()
    };
    // Bitstring lists without the multibase 'u'.
    for f in [
        "crs-backend.mock.b-A671FED3E9AD.jwt",
        "crs-backend.test.b-A671FED3E9AD.jwt",
    ] {
        let e = bitstring::parse_credential(&payload(f)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidClaim, "{f}: {e}");
    }
    // Padded base64 in `lst`.
    let p = payload("crs-backend.mock.t-3B0F3BD087A7.jwt");
    assert_eq!(
        StatusList::from_json(&p["status_list"]).unwrap_err().code(),
        ErrorCode::InvalidBase64
    );
    // The CRS public spec token: typ JWT.
    let text = std::fs::read_to_string(
        dir.join("govuk/status-list/crs-public-spec.token-status-list.jwt"),
    )
    .unwrap();
    assert_eq!(
        token_status_list::verify_token(text.trim(), &TrustStore::new(), NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::TypeMismatch
    );
    // Its list itself is the docs list.
    let p = Jws::decode(text.trim()).unwrap().payload_json().unwrap();
    let l = StatusList::from_json(&p["status_list"]).unwrap();
    assert_eq!(l.as_bytes(), [0x41, 0x44]);
    // The HS256 test token is refused on its algorithm.
    let text =
        std::fs::read_to_string(dir.join("govuk/status-list/crs-backend.test.t-3B0F3BD087A7.jwt"))
            .unwrap();
    assert_eq!(
        token_status_list::verify_token(text.trim(), &TrustStore::new(), NOW, 0)
            .unwrap_err()
            .code(),
        ErrorCode::AlgNotAllowed
    );
}

// ---------------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------------

/// LSB-first bit writer for hand-built DEFLATE streams.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn new() -> Self {
        Bits {
            out: Vec::new(),
            acc: 0,
            n: 0,
        }
    }
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code: written most significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        let mut rev = 0;
        for i in 0..len {
            rev |= ((code >> i) & 1) << (len - 1 - i);
        }
        self.put(rev, len);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A raw DEFLATE stream of `n` zero bytes in one fixed-Huffman block: a literal 0
/// then (length 258, distance 1) matches. About 1,600:1 — a zip bomb.
fn deflate_zeros(n: usize) -> Vec<u8> {
    let mut w = Bits::new();
    w.put(1, 1); // BFINAL
    w.put(1, 2); // BTYPE = fixed Huffman
    let literal_zero = |w: &mut Bits| w.code(0x30, 8);
    literal_zero(&mut w);
    let mut left = n - 1;
    while left >= 258 {
        w.code(0xc5, 8); // length symbol 285 = 258
        w.code(0, 5); // distance code 0 = 1
        left -= 258;
    }
    for _ in 0..left {
        literal_zero(&mut w);
    }
    w.code(0, 7); // end of block (256)
    w.finish()
}

fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut z = vec![0x78, 0xda];
    z.extend(deflate_zeros(n));
    let adler = (((n % 65_521) as u32) << 16) | 1;
    z.extend(adler.to_be_bytes());
    z
}

fn gzip_zeros(n: usize) -> Vec<u8> {
    let mut z = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
    z.extend(deflate_zeros(n));
    let chunk = vec![0u8; 1 << 20];
    let mut crc = flate2::Crc::new();
    let mut left = n;
    while left > 0 {
        let k = left.min(chunk.len());
        crc.update(&chunk[..k]);
        left -= k;
    }
    z.extend(crc.sum().to_le_bytes());
    z.extend((n as u32).to_le_bytes());
    z
}

#[test]
fn hand_built_streams_are_genuine() {
    // The bomb builder makes real streams: small ones decode to the right zeros.
    for n in [1, 2, 258, 259, 1000, 70_000] {
        let l = StatusList::from_lst(8, &b64(&zlib_zeros(n))).unwrap();
        assert_eq!(l.as_bytes(), vec![0u8; n]);
        let b = BitstringList::decode(8, &format!("u{}", b64(&gzip_zeros(n)))).unwrap();
        assert_eq!(b.as_bytes(), vec![0u8; n]);
    }
}

#[test]
fn zip_bombs_fail_fast() {
    const BOMB: usize = 64 << 20; // 64 MiB of zeros
    let z = zlib_zeros(BOMB);
    assert!(z.len() < 512 << 10, "{}", z.len());
    let lst = b64(&z);
    assert!(lst.len() < MAX_COMPRESSED_LEN);
    for bits in [1u8, 2, 4] {
        // caps: 16, 32 and 64 MiB (64 MiB is exactly at the 4-bit cap: accepted)
        let start = Instant::now();
        let r = StatusList::from_lst(bits, &lst);
        let took = start.elapsed();
        if bits == 4 {
            assert_eq!(r.unwrap().len(), BOMB * 2);
            continue;
        }
        let e = r.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InputTooLarge, "bits {bits}: {e}");
        assert!(took < Duration::from_secs(20), "bits {bits}: {took:?}");
        eprintln!("zlib bomb, bits {bits}: refused in {took:?}");
    }
    let json = json!({"bits": 1, "lst": lst});
    assert_eq!(
        StatusList::from_json(&json).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );

    let g = format!("u{}", b64(&gzip_zeros(BOMB)));
    let start = Instant::now();
    let e = BitstringList::decode(1, &g).unwrap_err();
    let took = start.elapsed();
    assert_eq!(e.code(), ErrorCode::InputTooLarge, "{e}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    eprintln!("gzip bomb, statusSize 1: refused in {took:?}");
    let cred = json!({
        "id": "https://x/b/1", "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "https://x",
        "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation",
            "encodedList": g}
    });
    assert_eq!(
        bitstring::parse_credential(obj(&cred)).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );
}

#[test]
fn rejections() {
    let good = StatusList::from_lst(1, "eNrbuRgAAhcBXQ").unwrap();

    // bits 3 (and other widths)
    for bits in [0u8, 3, 5, 6, 7, 9, 16] {
        assert_eq!(
            StatusList::from_lst(bits, "eNrbuRgAAhcBXQ")
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(
            StatusList::from_json(&json!({"bits": bits, "lst": "eNrbuRgAAhcBXQ"}))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim
        );
        assert_eq!(
            StatusList::new(bits, 8).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
    }
    for size in [0u8, 9, 16] {
        assert_eq!(
            BitstringList::new(size, 8).unwrap_err().code(),
            ErrorCode::InvalidClaim
        );
    }

    // index out of range
    assert_eq!(good.get(16).unwrap_err().code(), ErrorCode::InvalidClaim);
    assert_eq!(
        good.get(usize::MAX).unwrap_err().code(),
        ErrorCode::InvalidClaim
    );
    let mut b = BitstringList::new(2, 8).unwrap();
    assert_eq!(b.get(8).unwrap_err().code(), ErrorCode::InvalidClaim);
    assert_eq!(b.set(8, 1).unwrap_err().code(), ErrorCode::InvalidClaim);

    // value too large for the width
    for (bits, v) in [(1u8, 2u8), (2, 4), (4, 16)] {
        let mut l = StatusList::new(bits, 8).unwrap();
        assert_eq!(l.set(0, v).unwrap_err().code(), ErrorCode::InvalidClaim);
        l.set(0, v - 1).unwrap();
        assert_eq!(l.get(0).unwrap(), v - 1);
    }
    assert_eq!(b.set(0, 4).unwrap_err().code(), ErrorCode::InvalidClaim);

    // bad multibase prefix
    let enc = BitstringList::new(1, 64).unwrap().encode();
    for bad in [
        enc[1..].to_string(),
        format!("z{}", &enc[1..]),
        format!("U{}", &enc[1..]),
        format!("m{}", &enc[1..]),
        String::new(),
    ] {
        assert_eq!(
            BitstringList::decode(1, &bad).unwrap_err().code(),
            ErrorCode::InvalidClaim,
            "{bad}"
        );
    }

    // non-canonical base64url: padding, standard alphabet, trailing bits, whitespace
    let z = StatusList::from_bytes(1, vec![0xfb; 64]).unwrap().to_lst();
    assert!(!z.len().is_multiple_of(4));
    let std_alphabet = b64(&[0xfb, 0xff, 0xbf]).replace('-', "+").replace('_', "/");
    for bad in [
        format!("{z}="),
        format!("{z}=="),
        "eNrbuRgAAhcBXR".to_string(), // last char carries non-zero spare bits
        format!(" {z}"),
        format!("{z}\n"),
        std_alphabet.clone(),
    ] {
        assert_eq!(
            StatusList::from_lst(1, &bad).unwrap_err().code(),
            ErrorCode::InvalidBase64,
            "{bad}"
        );
        assert_eq!(
            BitstringList::decode(1, &format!("u{bad}"))
                .unwrap_err()
                .code(),
            ErrorCode::InvalidBase64,
            "u{bad}"
        );
    }

    // truncated / garbage / wrong-container compressed data
    let zl = govcred::b64::decode(&good.to_lst(), "t").unwrap();
    let gz = govcred::b64::decode(&BitstringList::new(1, 64).unwrap().encode()[1..], "t").unwrap();
    for cut in 0..zl.len() {
        assert_eq!(
            StatusList::from_lst(1, &b64(&zl[..cut]))
                .unwrap_err()
                .code(),
            ErrorCode::MalformedInput,
            "zlib cut at {cut}"
        );
    }
    for cut in 0..gz.len() {
        assert_eq!(
            BitstringList::decode(1, &format!("u{}", b64(&gz[..cut])))
                .unwrap_err()
                .code(),
            ErrorCode::MalformedInput,
            "gzip cut at {cut}"
        );
    }
    let mut trailing = zl.clone();
    trailing.extend(b"junk");
    let mut bad_adler = zl.clone();
    *bad_adler.last_mut().unwrap() ^= 1;
    let mut bad_crc = gz.clone();
    let at = bad_crc.len() - 8;
    bad_crc[at] ^= 1;
    let mut bad_isize = gz.clone();
    let at = bad_isize.len() - 4;
    bad_isize[at] ^= 1;
    for (what, bytes) in [
        ("garbage", b"not compressed at all".to_vec()),
        ("trailing data", trailing),
        ("bad adler32", bad_adler),
        ("gzip given as zlib", gz.clone()),
        ("raw deflate given as zlib", deflate_zeros(100)),
        (
            "preset dictionary",
            vec![0x78, 0xbb, 0, 0, 0, 1, 0x03, 0x00],
        ),
    ] {
        assert_eq!(
            StatusList::from_lst(1, &b64(&bytes)).unwrap_err().code(),
            ErrorCode::MalformedInput,
            "{what}"
        );
    }
    for (what, bytes) in [
        ("garbage", b"not compressed at all".to_vec()),
        ("bad crc", bad_crc),
        ("bad isize", bad_isize),
        ("zlib given as gzip", zl.clone()),
    ] {
        assert_eq!(
            BitstringList::decode(1, &format!("u{}", b64(&bytes)))
                .unwrap_err()
                .code(),
            ErrorCode::MalformedInput,
            "{what}"
        );
    }

    // `lst` / encodedList over the text limit, refused before decoding
    let long = "A".repeat(MAX_COMPRESSED_LEN + 1);
    assert_eq!(
        StatusList::from_lst(1, &long).unwrap_err().code(),
        ErrorCode::InputTooLarge
    );
    assert_eq!(
        BitstringList::decode(1, &format!("u{long}"))
            .unwrap_err()
            .code(),
        ErrorCode::InputTooLarge
    );
    assert_eq!(
        StatusList::new(1, token_status_list::MAX_ENTRIES + 1)
            .unwrap_err()
            .code(),
        ErrorCode::InputTooLarge
    );
}

#[test]
fn token_rejections() {
    let key = SoftwareKey::generate(govcred::crypto::Alg::EdDSA).unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&govcred::Signer::public_jwk(&key)).unwrap();
    let mut list = StatusList::new(2, 100).unwrap();
    list.set(42, 2).unwrap();
    let token = StatusListToken {
        sub: "https://crs.example.gov.uk/t/1".into(),
        iss: Some("https://crs.example.gov.uk".into()),
        iat: 1_000,
        exp: Some(2_000),
        ttl: Some(60),
        list,
        kid: None,
    };
    let jwt = token_status_list::sign_token(&token, &key).unwrap();
    let ok = token_status_list::verify_token(&jwt, &trust, 1_500, 0).unwrap();
    assert_eq!(ok, token);
    assert_eq!(
        Status::from_value(ok.list.get(42).unwrap()),
        Status::Suspended
    );

    // expired
    let e = token_status_list::verify_token(&jwt, &trust, 2_001, 0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Expired, "{e}");

    // tampered: signature bytes, and a payload re-encoded with other content
    let (hp, sig) = jwt.rsplit_once('.').unwrap();
    let mut s = govcred::b64::decode(sig, "t").unwrap();
    s[10] ^= 1;
    let bad_sig = format!("{hp}.{}", b64(&s));
    assert_eq!(
        token_status_list::verify_token(&bad_sig, &trust, 1_500, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );
    let (h, _) = hp.split_once('.').unwrap();
    let mut payload = Jws::decode(&jwt).unwrap().payload_json().unwrap();
    payload.insert("exp".into(), 9_999_999_999i64.into());
    let forged = format!("{h}.{}.{sig}", b64(&serde_json::to_vec(&payload).unwrap()));
    assert_eq!(
        token_status_list::verify_token(&forged, &trust, 1_500, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SignatureInvalid
    );

    // wrong typ
    let mut header = Map::new();
    header.insert("typ".into(), "JWT".into());
    let body = Jws::decode(&jwt).unwrap().payload().to_vec();
    let wrong_typ = jose::sign_compact(header, &body, &key).unwrap();
    assert_eq!(
        token_status_list::verify_token(&wrong_typ, &trust, 1_500, 0)
            .unwrap_err()
            .code(),
        ErrorCode::TypeMismatch
    );

    // malformed claims
    for (name, value) in [
        ("sub", json!(5)),
        ("iat", json!("1000")),
        ("exp", json!("soon")),
        ("ttl", json!(-1)),
        ("iss", json!(["a"])),
        ("status_list", json!({"bits": 3, "lst": "eNrbuRgAAhcBXQ"})),
        ("status_list", json!("eNrbuRgAAhcBXQ")),
    ] {
        let mut p = payload.clone();
        p.insert("exp".into(), 2_000.into());
        p.insert(name.into(), value.clone());
        let mut header = Map::new();
        header.insert("typ".into(), token_status_list::TYP.into());
        let t = jose::sign_compact(header, &serde_json::to_vec(&p).unwrap(), &key).unwrap();
        assert_eq!(
            token_status_list::verify_token(&t, &trust, 1_500, 0)
                .unwrap_err()
                .code(),
            ErrorCode::InvalidClaim,
            "{name} = {value}"
        );
    }
    // not a JWS at all
    for junk in ["", "a.b", "a.b.c", "...."] {
        assert!(token_status_list::verify_token(junk, &trust, 1_500, 0).is_err());
    }
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

fn width() -> impl Strategy<Value = u8> {
    prop_oneof![Just(1u8), Just(2), Just(4), Just(8)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tsl_encode_decode_round_trip(
        bits in width(),
        raw in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mask = u8::MAX >> (8 - bits);
        let statuses: Vec<u8> = raw.iter().map(|v| v & mask).collect();
        let mut list = StatusList::new(bits, statuses.len()).unwrap();
        for (i, s) in statuses.iter().enumerate() {
            list.set(i, *s).unwrap();
        }
        let back = StatusList::from_json(&list.to_json()).unwrap();
        prop_assert_eq!(back.bits(), bits);
        prop_assert!(back.len() >= statuses.len());
        prop_assert!(back.len() < statuses.len() + 8);
        for i in 0..back.len() {
            prop_assert_eq!(back.get(i).unwrap(), statuses.get(i).copied().unwrap_or(0));
        }
        prop_assert_eq!(back.get(back.len()).unwrap_err().code(), ErrorCode::InvalidClaim);
    }

    #[test]
    fn bitstring_encode_decode_round_trip(
        size in prop_oneof![width(), 1u8..=8],
        raw in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mask = u8::MAX >> (8 - size);
        let statuses: Vec<u8> = raw.iter().map(|v| v & mask).collect();
        let mut list = BitstringList::new(size, statuses.len()).unwrap();
        for (i, s) in statuses.iter().enumerate() {
            list.set(i, *s).unwrap();
        }
        let back = BitstringList::decode(size, &list.encode()).unwrap();
        prop_assert_eq!(back.status_size(), size);
        prop_assert!(back.len() >= statuses.len());
        for i in 0..back.len() {
            prop_assert_eq!(back.get(i).unwrap(), statuses.get(i).copied().unwrap_or(0));
        }
        prop_assert_eq!(back.get(back.len()).unwrap_err().code(), ErrorCode::InvalidClaim);
    }

    #[test]
    fn arbitrary_input_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        bits in 0u8..=9,
        text in ".{0,40}",
        cut in any::<prop::sample::Index>(),
    ) {
        let _ = StatusList::from_lst(bits, &b64(&bytes));
        let _ = StatusList::from_lst(bits, &text);
        let _ = BitstringList::decode(bits, &format!("u{}", b64(&bytes)));
        let _ = BitstringList::decode(bits, &text);
        // valid streams, cut or with one byte changed
        let mut z = govcred::b64::decode(&StatusList::new(1, 800).unwrap().to_lst(), "t").unwrap();
        let i = cut.index(z.len());
        let _ = StatusList::from_lst(1, &b64(&z[..i]));
        z[i] ^= bytes.first().copied().unwrap_or(1) | 1;
        let _ = StatusList::from_lst(1, &b64(&z));
        let mut g = govcred::b64::decode(&BitstringList::new(1, 800).unwrap().encode()[1..], "t").unwrap();
        let i = cut.index(g.len());
        let _ = BitstringList::decode(1, &format!("u{}", b64(&g[..i])));
        g[i] ^= bytes.first().copied().unwrap_or(1) | 1;
        let _ = BitstringList::decode(1, &format!("u{}", b64(&g)));
        let _ = token_status_list::verify_token(&text, &TrustStore::new(), 0, 0);
        let claims = json!({"status": {"status_list": {"idx": text.len(), "uri": text}}});
        let _ = token_status_list::reference_from_claims(obj(&claims));
    }
}
