//! ISO/IEC 18013-5 proximity session: Annex D values reproduced byte for byte, and
//! full in-memory sessions between our holder and reader.

mod common;

use govcred::proximity::*;
use govcred::x509::Certificate;
use govcred::ErrorCode;
use serde_json::Value;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(v: &Value) -> Vec<u8> {
    hex(v.as_str().unwrap())
}

fn scalar(v: &Value) -> [u8; 32] {
    h(v).try_into().unwrap()
}

fn annex_d() -> Option<Value> {
    let dir = common::shared_vectors()?;
    Some(common::json(
        &dir,
        "mdoc/annex-d-session/annex-d-session.json",
    ))
}

/// 2021-01-01T00:00:00Z, inside every validity window of the vectors.
const ANNEX_D_NOW: i64 = 1_609_459_200;

fn annex_d_handover(d: &Value) -> Handover {
    let ho = &d["sessionTranscript"]["handover"];
    Handover::Nfc {
        select: h(&ho["handoverSelectHex"]),
        request: Some(h(&ho["handoverRequestHex"])),
    }
}

#[test]
fn annex_d_engagement_transcript_keys_and_messages() {
    let Some(d) = annex_d() else { return };
    // Device engagement: the QR form parses and our encoder reproduces it.
    let qr = DeviceEngagement::parse(&h(&d["deviceEngagement"]["qrDeviceEngagementHex"])).unwrap();
    let device_key =
        EphemeralKey::from_scalar(&scalar(&d["keys"]["ephemeralDeviceKey"]["dHex"])).unwrap();
    assert_eq!(&qr.e_device_key, device_key.public());
    let RetrievalMethod::Ble(ble) = &qr.retrieval_methods[0] else {
        panic!()
    };
    assert!(ble.central_client && !ble.peripheral_server);
    let ours = DeviceEngagement::new(device_key.public().clone(), ble.clone());
    assert_eq!(
        ours.bytes(),
        qr.bytes(),
        "DeviceEngagement re-encodes byte for byte"
    );
    assert_eq!(
        DeviceEngagement::from_qr_uri(&ours.to_qr_uri()).unwrap(),
        ours
    );
    assert_eq!(
        [
            &[0xd8, 0x18, 0x58, 0x4b][..],
            &device_key.public().to_cose_key()
        ]
        .concat(),
        h(&d["keys"]["ephemeralDeviceKey"]["eDeviceKeyBytesHex"])
    );

    // The session used the NFC engagement and NFC handover.
    let nfc =
        DeviceEngagement::parse(&h(&d["deviceEngagement"]["nfcDeviceEngagementHex"])).unwrap();
    let reader_key =
        EphemeralKey::from_scalar(&scalar(&d["keys"]["ephemeralReaderKey"]["dHex"])).unwrap();
    let mut reader = Reader::new(nfc.clone(), reader_key, &annex_d_handover(&d)).unwrap();
    let st = reader.session_transcript();
    assert_eq!(
        st.as_cbor(),
        h(&d["sessionTranscript"]["sessionTranscriptHex"])
    );
    assert_eq!(
        st.tagged_bytes(),
        h(&d["sessionTranscript"]["sessionTranscriptBytesHex"])
    );
    let keys = reader.session_keys().unwrap();
    assert_eq!(
        keys.sk_reader().to_vec(),
        h(&d["derived"]["sessionKeys"]["skReaderHex"])
    );
    assert_eq!(
        keys.sk_device().to_vec(),
        h(&d["derived"]["sessionKeys"]["skDeviceHex"])
    );

    // The reader's DeviceRequest (re-sent as received) encrypts to SessionEstablishment.
    let device_request_bytes = h(&d["deviceRequest"]["deviceRequestHex"]);
    let request = DeviceRequest::parse(&device_request_bytes).unwrap();
    assert_eq!(
        request.to_bytes().unwrap(),
        device_request_bytes,
        "DeviceRequest re-encodes"
    );
    let items = &request.doc_requests[0].items_request;
    assert_eq!(items.doc_type, "org.iso.18013.5.1.mDL");
    assert_eq!(items.name_spaces[0].1.len(), 6);
    assert!(items.name_spaces[0].1.contains(&("portrait".into(), false)));
    assert_eq!(
        request.doc_requests[0].items_request_bytes(),
        h(&d["deviceRequest"]["itemsRequestHex"])
    );
    let est = reader.send_request(&request).unwrap();
    assert_eq!(est, h(&d["messages"]["sessionEstablishmentHex"]));

    // The holder, with the Annex D device key, decrypts it and checks readerAuth.
    let device_key =
        EphemeralKey::from_scalar(&scalar(&d["keys"]["ephemeralDeviceKey"]["dHex"])).unwrap();
    let mut holder = Holder::with_engagement(device_key, nfc);
    let reader_cert =
        Certificate::from_der(&h(&d["deviceRequest"]["readerCertificateDerHex"])).unwrap();
    let HolderEvent::Request(received) = holder
        .receive_with_handover(&est, &annex_d_handover(&d), &[], ANNEX_D_NOW, 0)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(received.request, request);
    // No reader roots configured: authentication cannot succeed, and says why.
    assert_eq!(
        received.readers[0]
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap_err()
            .code,
        ErrorCode::UnknownKey
    );
    let doc = &received.request.doc_requests[0];
    let transcript = holder.session_transcript().unwrap().clone();
    doc.verify_reader_signature(&transcript, &reader_cert.public_key().unwrap())
        .unwrap();
    assert_eq!(doc.reader_chain().unwrap()[0], reader_cert);
    assert_eq!(
        reader_cert.extended_key_usages(),
        vec![READER_AUTH_EKU.to_string()]
    );
    assert_eq!(
        govcred::proximity::request::reader_authentication_bytes(
            &transcript,
            doc.items_request_bytes()
        ),
        h(&d["derived"]["readerAuthentication"]["readerAuthenticationBytesHex"])
    );

    // The holder's DeviceResponse encrypts to the Annex D SessionData.
    let device_response = h(&d["deviceResponse"]["deviceResponseHex"]);
    let expected_st = transcript.as_cbor().to_vec();
    let dr = device_response.clone();
    let reply = holder
        .respond(&move |_r: &DeviceRequest, st: &[u8]| {
            assert_eq!(st, expected_st.as_slice());
            Ok(dr.clone())
        })
        .unwrap();
    assert_eq!(reply, h(&d["messages"]["sessionDataHex"]));
    assert_eq!(
        reader.receive(&reply).unwrap(),
        ReaderEvent::Response(device_response)
    );

    // Termination.
    assert_eq!(
        reader.terminate(),
        h(&d["messages"]["sessionTerminationHex"])
    );
}

#[test]
fn annex_d_wrong_counters_keys_and_bits_fail() {
    let Some(d) = annex_d() else { return };
    let nfc =
        DeviceEngagement::parse(&h(&d["deviceEngagement"]["nfcDeviceEngagementHex"])).unwrap();
    let est = h(&d["messages"]["sessionEstablishmentHex"]);
    let device =
        || EphemeralKey::from_scalar(&scalar(&d["keys"]["ephemeralDeviceKey"]["dHex"])).unwrap();

    // Altered ciphertext.
    let mut parsed = SessionEstablishment::parse(&est).unwrap();
    let last = parsed.data.len() - 1;
    parsed.data[last] ^= 1;
    let mut holder = Holder::with_engagement(device(), nfc.clone());
    let e = holder
        .receive_with_handover(
            &parsed.to_bytes(),
            &annex_d_handover(&d),
            &[],
            ANNEX_D_NOW,
            0,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SessionDecryptionFailed);

    // Salt over a QR (null) handover instead of the NFC one: different keys.
    let mut holder = Holder::with_engagement(device(), nfc);
    let e = holder.receive(&est, &[], ANNEX_D_NOW, 0).unwrap_err();
    assert_eq!(e.code(), ErrorCode::SessionDecryptionFailed);
}

/// An rcgen key pair for a govcred P-256 key (test helper).
fn rcgen_pair(key: &govcred::crypto::SoftwareKey) -> rcgen::KeyPair {
    use p256::pkcs8::EncodePrivateKey;
    let jwk = key.to_private_jwk().unwrap();
    let d = govcred::b64::decode(jwk.d.as_ref().unwrap().expose(), "d").unwrap();
    let pkcs8 = p256::SecretKey::from_slice(&d)
        .unwrap()
        .to_pkcs8_der()
        .unwrap();
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &pkcs8.as_bytes().into(),
        &rcgen::PKCS_ECDSA_P256_SHA256,
    )
    .unwrap()
}

/// A reader PKI: a root CA and a reader certificate with the mdlReaderAuth EKU
/// (critical), as GOV.UK profile §6.5 describes (P-256 here).
fn reader_pki(
    now: i64,
    root_name: &str,
) -> (govcred::crypto::SoftwareKey, Vec<Certificate>, Certificate) {
    use govcred::crypto::{Alg, SoftwareKey};
    use rcgen::{BasicConstraints, CertificateParams, CustomExtension, IsCa, KeyUsagePurpose};
    let nb = time::OffsetDateTime::from_unix_timestamp(now - 3600).unwrap();
    let na = time::OffsetDateTime::from_unix_timestamp(now + 86_400).unwrap();
    let root_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut rp = CertificateParams::new(Vec::<String>::new()).unwrap();
    rp.distinguished_name
        .push(rcgen::DnType::CommonName, root_name);
    rp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    rp.not_before = nb;
    rp.not_after = na;
    let root = rp.self_signed(&rcgen_pair(&root_key)).unwrap();
    let issuer = rcgen::Issuer::new(rp, rcgen_pair(&root_key));

    let leaf_key = SoftwareKey::generate(Alg::ES256).unwrap();
    let mut lp = CertificateParams::new(Vec::<String>::new()).unwrap();
    lp.distinguished_name
        .push(rcgen::DnType::CommonName, "Gov Checker test");
    lp.is_ca = IsCa::ExplicitNoCa;
    lp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // SEQUENCE { OID 1.0.18013.5.1.6 }: 1.0 → 0x28; 18013 → 0x81 0x8c 0x5d; 5; 1; 6.
    let oid = [0x28, 0x81, 0x8c, 0x5d, 0x05, 0x01, 0x06];
    let mut eku = vec![0x30, (oid.len() + 2) as u8, 0x06, oid.len() as u8];
    eku.extend_from_slice(&oid);
    let mut ext = CustomExtension::from_oid_content(&[2, 5, 29, 37], eku);
    ext.set_criticality(true);
    lp.custom_extensions = vec![ext];
    lp.not_before = nb;
    lp.not_after = na;
    let leaf = lp.signed_by(&rcgen_pair(&leaf_key), &issuer).unwrap();
    let root_cert = Certificate::from_der(root.der()).unwrap();
    let leaf_cert = Certificate::from_der(leaf.der()).unwrap();
    assert_eq!(
        leaf_cert.extended_key_usages(),
        vec![READER_AUTH_EKU.to_string()]
    );
    (leaf_key, vec![leaf_cert], root_cert)
}

fn mdl_request() -> ItemsRequest {
    ItemsRequest::new("org.iso.18013.5.1.mDL")
        .element("org.iso.18013.5.1", "family_name", false)
        .element("org.iso.18013.5.1", "age_over_18", false)
}

#[test]
fn in_memory_session_with_reader_auth_replay_and_tamper() {
    let now = 1_800_000_000;
    let (reader_signer, chain, root) = reader_pki(now, "Test reader root");
    let mut holder = Holder::new(BleOptions::peripheral_server([9; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(vec![mdl_request()], Some((&reader_signer, &chain)), now)
        .unwrap();
    let est = reader.send_request(&request).unwrap();

    // Wrong session key: a holder with another ephemeral key cannot read it.
    let mut stranger = Holder::new(BleOptions::peripheral_server([9; 16])).unwrap();
    assert_eq!(
        stranger
            .receive(&est, std::slice::from_ref(&root), now, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SessionDecryptionFailed
    );

    let HolderEvent::Request(got) = holder
        .receive(&est, std::slice::from_ref(&root), now, 0)
        .unwrap()
    else {
        panic!()
    };
    let who = got.readers[0].clone().unwrap().unwrap();
    assert!(who.subject.contains("Gov Checker test"), "{who:?}");
    assert!(who.root.contains("Test reader root"));

    let reply = holder
        .respond(&|r: &DeviceRequest, st: &[u8]| {
            assert_eq!(r.doc_requests.len(), 1);
            Ok([b"response for ".as_slice(), &st[..4]].concat())
        })
        .unwrap();
    // Altered ciphertext refused; the counter does not move, so the real one still works.
    let mut altered = SessionData::parse(&reply).unwrap();
    altered.data.as_mut().unwrap()[0] ^= 0x80;
    assert_eq!(
        reader.receive(&altered.to_bytes()).unwrap_err().code(),
        ErrorCode::SessionDecryptionFailed
    );
    let ReaderEvent::Response(resp) = reader.receive(&reply).unwrap() else {
        panic!()
    };
    assert!(resp.starts_with(b"response for "));

    // A second request in the same session; replaying the first reply is refused.
    let second = reader
        .build_request(vec![mdl_request()], None, now)
        .unwrap();
    let msg2 = reader.send_request(&second).unwrap();
    assert_eq!(
        reader.receive(&reply).unwrap_err().code(),
        ErrorCode::SessionDecryptionFailed
    );
    // Replaying the reader's first message to the holder is refused too.
    assert_eq!(
        holder
            .receive(&est, std::slice::from_ref(&root), now, 0)
            .unwrap_err()
            .code(),
        ErrorCode::SessionDecryptionFailed,
        "a replayed SessionEstablishment"
    );
    let HolderEvent::Request(got2) = holder
        .receive(&msg2, std::slice::from_ref(&root), now, 0)
        .unwrap()
    else {
        panic!()
    };
    assert!(got2.readers[0].is_none());
    let reply2 = holder
        .respond(&|_: &DeviceRequest, _: &[u8]| Ok(b"second".to_vec()))
        .unwrap();
    assert_eq!(
        reader.receive(&reply2).unwrap(),
        ReaderEvent::Response(b"second".to_vec())
    );

    // Termination.
    let end = holder.terminate();
    assert_eq!(reader.receive(&end).unwrap(), ReaderEvent::Terminated(None));
    assert_eq!(
        reader.send_request(&second).unwrap_err().code(),
        ErrorCode::SessionState
    );
}

#[test]
fn reader_auth_from_untrusted_root_or_tampered_request_is_reported() {
    let now = 1_800_000_000;
    let (reader_signer, chain, _root) = reader_pki(now, "Test reader root");
    let (_, _, other_root) = reader_pki(now, "Another reader root");
    let mut holder = Holder::new(BleOptions::peripheral_server([1; 16])).unwrap();
    let mut reader = Reader::from_qr(&holder.qr_uri()).unwrap();
    let request = reader
        .build_request(vec![mdl_request()], Some((&reader_signer, &chain)), now)
        .unwrap();
    let est = reader.send_request(&request).unwrap();
    let HolderEvent::Request(got) = holder.receive(&est, &[other_root], now, 0).unwrap() else {
        panic!()
    };
    assert_eq!(
        got.readers[0].clone().unwrap().unwrap_err().code,
        ErrorCode::UntrustedIssuer
    );

    // A signature made for another session does not verify in this one.
    let holder2 = Holder::new(BleOptions::peripheral_server([1; 16])).unwrap();
    let reader2 = Reader::from_qr(&holder2.qr_uri()).unwrap();
    let e = request.doc_requests[0]
        .verify_reader_signature(
            reader2.session_transcript(),
            &chain[0].public_key().unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::SignatureInvalid);
}
