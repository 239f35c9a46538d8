//! `govcred demo`: the main job end to end on an embedded default, no set-up.
//!
//! Issue → store → present → verify offline: a department creates a key and publishes
//! it as did:web; it issues a GOV.UK Veteran Card as a `vc+jwt` bound to a wallet's
//! did:key; the wallet keeps it in its encrypted store; a verifier that fetched the
//! department's `did.json` earlier checks what the wallet presents, offline; a
//! tampered copy and an expired one are refused. Then a Data Integrity credential, an
//! SD-JWT VC presented with selective disclosure and key binding (and a replay
//! refused), and an mDL from a demo IACA/DS presented over an in-memory ISO 18013-5
//! proximity session and verified against the session transcript.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use govcred::crypto::SoftwareKeyProtector;
use govcred::crypto::{Alg, SoftwareKey};
use govcred::format::jwt_vc::{self, CredentialDraft};
use govcred::proximity::{
    BleOptions, HeldMdoc, Holder, HolderEvent, ItemsRequest, MdocResponder, Reader, ReaderEvent,
};
use govcred::store::Store;
use govcred::trust::TrustStore;
use govcred::{did, Clock, FixedClock, Signer, SystemClock, Verifier};
use serde_json::json;

use crate::{files, verify::print_human, CliResult};

/// The embedded default issuer.
pub const DEMO_ISSUER: &str = "https://issuer.demo.govcred.example";

#[derive(Args)]
pub struct DemoArgs {
    /// Print each report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the artefacts (keys, did.json, credentials) to this directory.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The demo's Veteran Card subject (GOV.UK reference layout).
pub fn veteran_card_subject() -> serde_json::Map<String, serde_json::Value> {
    let v = json!({
        "name": [{"nameParts": [
            {"value": "Sarah", "type": "GivenName"},
            {"value": "Elizabeth", "type": "GivenName"},
            {"value": "Edwards", "type": "FamilyName"}
        ]}],
        "birthDate": [{"value": "1985-10-18"}],
        "veteranCard": [{
            "expiryDate": "2034-04-08",
            "serviceNumber": "25057386",
            "serviceBranch": "British Army"
        }]
    });
    v.as_object().cloned().unwrap_or_default()
}

fn step(n: u32, text: &str) {
    println!("\n[{n}] {text}");
}

pub fn run(a: DemoArgs) -> CliResult {
    let now = SystemClock.now();
    let show = |r: &govcred::VerificationReport| {
        if a.json {
            files::print_json(r)
        } else {
            print_human(r)
        }
    };

    step(
        1,
        "Department: create an ES256 signing key and publish it as did:web",
    );
    let issuer_key = SoftwareKey::generate(Alg::ES256)?;
    let issuer_did = did::web::from_domain(DEMO_ISSUER)?;
    let did_doc = did::web::did_document(&issuer_did, &[issuer_key.verifying_key().clone()])?;
    let kid = format!(
        "{issuer_did}#{}",
        did::web::key_id(issuer_key.verifying_key())
    );
    println!(
        "    issuer {DEMO_ISSUER}\n    DID    {issuer_did}\n    kid    {kid}\n    served at {}",
        did::web::to_url(&issuer_did)?
    );

    step(2, "Wallet: create a device-bound P-256 key (did:key)");
    let holder_key = SoftwareKey::generate(Alg::ES256)?;
    let holder_did = did::key::from_jwk(&holder_key.public_jwk())?;
    println!("    holder {holder_did}");

    step(
        3,
        "Department: issue a Veteran Card (W3C VC 2.0, vc+jwt, GOV.UK profile)",
    );
    let mut draft = CredentialDraft::new(DEMO_ISSUER, "DigitalVeteranCard");
    draft.holder = Some(holder_did.clone());
    draft.subject = veteran_card_subject();
    draft.name = Some("HM Armed Forces Veteran Card".into());
    draft.description = Some("HM Armed Forces Veteran Card".into());
    draft.valid_until = Some(now + 365 * 86_400);
    draft.expected_update = Some(now + 330 * 86_400);
    let token = jwt_vc::issue(&draft, &kid, &issuer_key, now)?;
    println!(
        "    {} bytes: {}…",
        token.len(),
        &token[..60.min(token.len())]
    );

    // The wallet's encrypted store (AES-256-GCM records in SQLite; the data key is
    // wrapped by a key protector — the phone's Keychain/Keystore, here a software one).
    let store_dir = std::env::temp_dir().join(format!("govcred-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&store_dir);
    std::fs::create_dir_all(&store_dir)
        .map_err(|e| crate::CliError::input(format!("{}: {e}", store_dir.display())))?;
    let store = Store::open(
        store_dir.join("wallet.db"),
        Arc::new(SoftwareKeyProtector::generate()?),
        Arc::new(SystemClock),
    )?;
    let card_id = store.add(token.as_bytes())?;
    println!("    wallet: stored encrypted as {card_id}");

    step(
        4,
        "Verifier (offline, with the did.json it synced earlier): verify the card the wallet presents",
    );
    let mut trust = TrustStore::new();
    trust.add_did_document(&did_doc)?;
    let verifier = Verifier::new(trust.clone());
    let presented_card = store.get(&card_id)?.raw;
    let report = verifier.verify(&presented_card);
    show(&report);
    let mut all_ok = report.valid;

    step(5, "Verifier: a copy with one claim changed is refused");
    let tampered = tamper(&token);
    let bad = verifier.verify(tampered.as_bytes());
    show(&bad);
    all_ok &= !bad.valid;

    step(
        6,
        "Verifier: the same card a year and a day later has expired",
    );
    let later = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(now + 366 * 86_400)));
    let expired = later.verify(token.as_bytes());
    show(&expired);
    all_ok &= !expired.valid;

    step(
        7,
        "Data Integrity: issue an eddsa-rdfc-2022 credential (Ed25519 did:key) and verify it",
    );
    let ed_key = SoftwareKey::generate(Alg::EdDSA)?;
    let ed_did = did::key::from_jwk(&ed_key.public_jwk())?;
    let ed_vm = format!("{ed_did}#{}", &ed_did["did:key:".len()..]);
    let mut di_draft = CredentialDraft::new(&ed_did, "DigitalVeteranCard");
    di_draft.holder = Some(holder_did);
    di_draft.subject = veteran_card_subject();
    di_draft.valid_until = Some(now + 365 * 86_400);
    let di = govcred::format::data_integrity::issue(
        &di_draft,
        &ed_vm,
        &ed_key,
        now,
        &TrustStore::new(),
    )?;
    let di_text = serde_json::to_string(&di).unwrap_or_default();
    let di_report = Verifier::new(TrustStore::new()).verify(di_text.as_bytes());
    show(&di_report);
    all_ok &= di_report.valid;

    step(
        8,
        "SD-JWT VC: the holder shows only what a verifier asks for, bound to its device key",
    );
    let mut sd_draft =
        govcred::format::sd_jwt::SdJwtDraft::new(DEMO_ISSUER, "urn:example:govcred:veteran:1");
    sd_draft.claims = veteran_card_subject();
    sd_draft.disclosable = vec!["name".into(), "birthDate".into(), "veteranCard".into()];
    sd_draft.holder_key = Some(holder_key.public_jwk());
    sd_draft.expires_at = Some(now + 365 * 86_400);
    sd_draft.kid = Some(kid.clone());
    let sd = govcred::format::sd_jwt::issue(&sd_draft, None, &issuer_key, now)?;
    let sd_id = store.add(sd.as_bytes())?;
    let stored_sd = store.get(&sd_id)?;
    let held = govcred::format::sd_jwt::SdJwt::parse(stored_sd.raw_text().unwrap_or_default())?;
    let offered: Vec<String> = held
        .disclosable_claims()?
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    println!("    the wallet may disclose: {}", offered.join(", "));
    let kb = govcred::format::sd_jwt::KeyBinding {
        audience: "https://shop.example".into(),
        nonce: "demo-nonce-7f3a".into(),
        issued_at: now,
    };
    let presented = held.present(&["veteranCard"], Some((&kb, &holder_key as &dyn Signer)))?;
    let mut sd_trust = TrustStore::new();
    sd_trust.add_did_document(&did_doc)?;
    let shop = Verifier::new(sd_trust).with_key_binding("https://shop.example", "demo-nonce-7f3a");
    let sd_report = shop.verify(presented.as_bytes());
    show(&sd_report);
    all_ok &= sd_report.valid && sd_report.claims.to_value().get("name").is_none();
    let replay = Verifier::new(shop.trust().clone())
        .with_key_binding("https://shop.example", "another-nonce")
        .verify(presented.as_bytes());
    println!(
        "    replayed to a verifier with another nonce: {}",
        replay
            .errors
            .first()
            .map(|e| e.code.as_str())
            .unwrap_or("accepted!")
    );
    all_ok &= !replay.valid;

    step(
        9,
        "mdoc (ISO 18013-5): an IACA, a Document Signer, an mDL bound to the wallet key",
    );
    let (iaca, iaca_key) = govcred::pki::create_iaca(
        "GB",
        "govcred demo IACA",
        None,
        now - 60,
        now + 9 * 365 * 86_400,
    )?;
    let (ds, ds_key) = govcred::pki::issue_document_signer(
        &iaca,
        &iaca_key,
        "GB",
        "govcred demo DSC",
        now - 60,
        now + 458 * 86_400,
    )?;
    let mdl_claims = serde_json::json!({
        "org.iso.18013.5.1": {
            "family_name": "Edwards", "given_name": "Sarah", "birth_date": "1985-10-18",
            "issuing_country": "GB", "issuing_authority": "DVLA", "age_over_18": true,
            "driving_privileges": [{"vehicle_category_code": "B", "issue_date": "2010-01-01"}]
        },
        "org.iso.18013.5.1.GB": {"welsh_licence": false}
    });
    let mdl = govcred::format::mdoc::issue(
        &govcred::format::mdoc::MdocDraft {
            doctype: "org.iso.18013.5.1.mDL".into(),
            claims: mdl_claims.as_object().cloned().unwrap_or_default(),
            device_key: holder_key.verifying_key().clone(),
            valid_from: now,
            valid_until: now + 365 * 86_400,
            expected_update: None,
            status: None,
            test_only_salt_seed: None,
        },
        &ds,
        &ds_key,
        now,
    )?;
    println!(
        "    IssuerSigned: {} bytes of CBOR, DS {:?}",
        mdl.len(),
        ds.subject()
    );
    let mdl_id = store.add(&mdl)?;
    let listing = store.list(&Default::default())?;
    println!(
        "    wallet now holds {} credentials: {}",
        listing.credentials.len(),
        listing
            .credentials
            .iter()
            .map(|c| format!(
                "{} ({:?})",
                c.types.last().cloned().unwrap_or_default(),
                c.state
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );

    step(
        10,
        "Roadside check (ISO 18013-5 proximity, in memory): QR engagement, encrypted request for age_over_18 and family_name, device-signed answer, verified offline",
    );
    let stored_mdl = store.get(&mdl_id)?.raw;
    let mut phone = Holder::new(BleOptions::peripheral_server(rand::random()))?;
    let mut officer = Reader::from_qr(&phone.qr_uri())?;
    let request = officer.build_request(
        vec![ItemsRequest::new("org.iso.18013.5.1.mDL")
            .element("org.iso.18013.5.1", "age_over_18", false)
            .element("org.iso.18013.5.1", "family_name", false)],
        None,
        now,
    )?;
    let to_phone = officer.send_request(&request)?;
    let HolderEvent::Request(asked) = phone.receive(&to_phone, &[], now, 60)? else {
        return Err(crate::CliError::input(
            "the phone did not receive a request",
        ));
    };
    println!(
        "    phone: the reader asks for {:?} (unauthenticated reader)",
        asked.request.doc_requests[0].items_request.name_spaces
    );
    let reply = phone.respond(&MdocResponder::new(vec![HeldMdoc {
        issuer_signed: &stored_mdl,
        device_key: &holder_key,
    }]))?;
    let ReaderEvent::Response(device_response) = officer.receive(&reply)? else {
        return Err(crate::CliError::input(
            "the reader did not receive a response",
        ));
    };
    let mut road_trust = TrustStore::new();
    road_trust.add_root_certificates_pem(&iaca.to_pem())?;
    let mdl_report = Verifier::new(road_trust.clone())
        .with_session_transcript(officer.session_transcript().clone())
        .verify(&device_response);
    show(&mdl_report);
    all_ok &= mdl_report.valid
        && mdl_report.claims.to_value()["org.iso.18013.5.1"]
            .get("birth_date")
            .is_none();
    // The same answer replayed into another officer's session: the device signature is
    // over this session's transcript only.
    let other =
        Reader::from_qr(&Holder::new(BleOptions::peripheral_server(rand::random()))?.qr_uri())?;
    let replayed = Verifier::new(road_trust)
        .with_session_transcript(other.session_transcript().clone())
        .verify(&device_response);
    println!(
        "    replayed into another session: {:?} ({})",
        replayed.outcome,
        replayed
            .errors
            .first()
            .map(|e| e.code.as_str())
            .unwrap_or("accepted!")
    );
    all_ok &= !replayed.valid;
    store.wipe()?;
    let _ = std::fs::remove_dir_all(&store_dir);

    if let Some(dir) = &a.out {
        files::write_secret(
            &dir.join("issuer.jwk"),
            issuer_key.to_private_jwk()?.to_json().as_bytes(),
            true,
        )?;
        files::write(
            &dir.join(".well-known/did.json"),
            serde_json::to_string_pretty(&did_doc)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        files::write(&dir.join("veteran-card.jwt"), token.as_bytes())?;
        files::write(
            &dir.join("veteran-card.di.json"),
            serde_json::to_string_pretty(&di)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        println!("\nArtefacts written to {}", dir.display());
    }
    println!(
        "\n{}",
        if all_ok {
            "Demo complete: every check behaved as expected."
        } else {
            "Demo FAILED: a check did not behave as expected."
        }
    );
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Change the last character of the payload's claims so the signature no longer matches.
pub fn tamper(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    if let Some(p) = parts.get_mut(1) {
        if let Ok(bytes) = govcred::b64::decode(p, "payload") {
            let text = String::from_utf8_lossy(&bytes).replace("25057386", "99999999");
            *p = govcred::b64::encode(text);
        }
    }
    parts.join(".")
}
