//! SD-JWT: the RFC 9901 Section 5 example and the sd-jwt-python example specifications.

mod common;

use govcred::crypto::{Jwk, SoftwareKey};
use govcred::format::sd_jwt::{self, KeyBinding, SdJwt, SdJwtDraft, VerifyOptions};
use govcred::jose::Jws;
use govcred::trust::TrustStore;
use govcred::{ErrorCode, Signer};
use serde_json::{json, Map, Value};
use serde_norway::Value as Yaml;

fn jwk(v: &Value) -> Jwk {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn rfc9901_main_example() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let v = common::json(&dir, "sd-jwt/rfc9901-section5-main-example.json");
    let issuer_key =
        govcred::crypto::VerifyingKey::from_jwk(&jwk(&v["keys"]["issuerPublicJwk"])).unwrap();

    // Issuance: signature, every disclosure digest, and full reconstruction.
    let sd = SdJwt::parse(v["issuance"]["sdJwt"].as_str().unwrap()).unwrap();
    assert!(sd.kb_jwt.is_none());
    Jws::decode(&sd.issuer_jwt)
        .unwrap()
        .verify(&issuer_key)
        .unwrap();
    assert_eq!(
        sd.disclosures.len(),
        v["issuance"]["disclosures"].as_array().unwrap().len()
    );
    for (d, expected) in sd
        .disclosures
        .iter()
        .zip(v["issuance"]["disclosures"].as_array().unwrap())
    {
        let digest = expected
            .get("digest")
            .or_else(|| expected.get("sha256"))
            .and_then(Value::as_str);
        if let Some(digest) = digest {
            assert_eq!(d.digest, digest);
        }
    }
    let all = sd_jwt::process(&sd.payload().unwrap(), &sd.disclosures).unwrap();
    let mut input = v["issuance"]["inputClaims"].as_object().unwrap().clone();
    for (k, val) in &all {
        if !input.contains_key(k) {
            assert!(
                ["iss", "iat", "exp", "cnf"].contains(&k.as_str()),
                "unexpected {k}"
            );
            input.insert(k.clone(), val.clone());
        }
    }
    assert_eq!(
        Value::Object(all),
        Value::Object(input),
        "all disclosures reconstruct the input claims"
    );
    // The holder sees ten disclosable claims, with paths.
    let paths: Vec<String> = sd
        .disclosable_claims()
        .unwrap()
        .iter()
        .map(|c| c.path.to_string())
        .collect();
    assert!(
        paths.contains(&"address".to_string()) && paths.contains(&"nationalities.1".to_string()),
        "{paths:?}"
    );

    // Presentation with key binding: verifies and yields exactly the processed payload.
    let pres = v["presentation"]["sdJwtKb"].as_str().unwrap();
    let p = SdJwt::parse(pres).unwrap();
    assert_eq!(
        sd_jwt::process(&p.payload().unwrap(), &p.disclosures).unwrap(),
        *v["presentation"]["processedPayload"].as_object().unwrap()
    );
    let mut trust = TrustStore::new();
    trust.add_jwk(&jwk(&v["keys"]["issuerPublicJwk"])).unwrap();
    let kb_iat = v["presentation"]["kbJwtPayload"]["iat"].as_i64().unwrap();
    let opts = VerifyOptions {
        audience: Some("https://verifier.example.org".into()),
        nonce: Some("1234567890".into()),
        plain_sd_jwt: true,
        ..Default::default()
    };
    let report = sd_jwt::verify(pres, &trust, kb_iat + 5, 60, &opts);
    assert!(report.valid, "{}", report.to_json_pretty());
    let claims = report.claims.to_value();
    assert_eq!(claims["family_name"], "Doe");
    assert_eq!(claims["nationalities"], json!(["US"]));
    assert_eq!(claims["given_name"], "John");
    assert!(claims.get("email").is_none() && claims.get("birthdate").is_none());

    // The same presentation checked by a verifier expecting another nonce or audience.
    let r = sd_jwt::verify(
        pres,
        &trust,
        kb_iat + 5,
        60,
        &VerifyOptions {
            nonce: Some("other".into()),
            ..opts.clone()
        },
    );
    assert!(
        r.has_error(ErrorCode::NonceMismatch),
        "{}",
        r.to_json_pretty()
    );
    let r = sd_jwt::verify(
        pres,
        &trust,
        kb_iat + 5,
        60,
        &VerifyOptions {
            audience: Some("https://evil.example".into()),
            ..opts.clone()
        },
    );
    assert!(r.has_error(ErrorCode::InvalidClaim) && !r.valid);
    // Stale key binding (an hour later).
    let r = sd_jwt::verify(pres, &trust, kb_iat + 3600, 60, &opts);
    assert!(r.has_error(ErrorCode::Expired) && !r.valid);
    // Without the plain-SD-JWT allowance, the example's `typ` is not an SD-JWT VC.
    let r = sd_jwt::verify(
        pres,
        &trust,
        kb_iat + 5,
        60,
        &VerifyOptions {
            plain_sd_jwt: false,
            ..opts.clone()
        },
    );
    assert!(r.has_error(ErrorCode::TypeMismatch));

    // We can also issue and bind with the RFC's keys.
    let issuer = SoftwareKey::from_jwk(&jwk(&v["keys"]["issuerPrivateJwk"])).unwrap();
    let holder = SoftwareKey::from_jwk(&jwk(&v["keys"]["holderPrivateJwk"])).unwrap();
    assert_eq!(holder.public_jwk().x, jwk(&v["keys"]["holderPublicJwk"]).x);
    let mut draft = SdJwtDraft::new("https://issuer.example.com", "urn:example:rfc9901");
    draft.claims = v["issuance"]["inputClaims"].as_object().unwrap().clone();
    draft.disclosable = [
        "given_name",
        "family_name",
        "email",
        "phone_number",
        "phone_number_verified",
        "address",
        "birthdate",
        "updated_at",
        "nationalities.0",
        "nationalities.1",
    ]
    .map(String::from)
    .to_vec();
    draft.holder_key = Some(holder.public_jwk());
    draft.expires_at = Some(1_883_000_000);
    let issued = sd_jwt::issue(&draft, None, &issuer, 1_683_000_000).unwrap();
    let kb = KeyBinding {
        audience: "https://verifier.example.org".into(),
        nonce: "1234567890".into(),
        issued_at: 1_683_000_100,
    };
    let pres = SdJwt::parse(&issued)
        .unwrap()
        .present(
            &["family_name", "address", "given_name", "nationalities.0"],
            Some((&kb, &holder as &dyn Signer)),
        )
        .unwrap();
    let r = sd_jwt::verify(
        &pres,
        &trust,
        1_683_000_100,
        60,
        &VerifyOptions {
            plain_sd_jwt: false,
            ..opts
        },
    );
    assert!(r.valid, "{}", r.to_json_pretty());
    let c = r.claims.to_value();
    assert_eq!(c["nationalities"], json!(["US"]));
    assert_eq!(c["address"]["locality"], "Anytown");
}

/// YAML `user_claims` with `!sd` tags → (claims, disclosable paths).
fn untag(y: &Yaml, path: &str, sd: &mut Vec<String>) -> Value {
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}.{k}")
        }
    };
    match y {
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let (key, tagged) = match k {
                    Yaml::Tagged(t) => (t.value.as_str().unwrap().to_string(), t.tag == "sd"),
                    other => (yaml_key(other), false),
                };
                let p = join(path, &key);
                if tagged {
                    sd.push(p.clone());
                }
                out.insert(key, untag(v, &p, sd));
            }
            Value::Object(out)
        }
        Yaml::Sequence(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let p = join(path, &i.to_string());
                    match v {
                        Yaml::Tagged(t) if t.tag == "sd" => {
                            sd.push(p.clone());
                            untag(&t.value, &p, sd)
                        }
                        other => untag(other, &p, sd),
                    }
                })
                .collect(),
        ),
        Yaml::Tagged(t) => untag(&t.value, path, sd),
        other => serde_json::to_value(other).unwrap(),
    }
}

fn yaml_key(k: &Yaml) -> String {
    match k {
        Yaml::String(s) => s.clone(),
        other => serde_norway::to_string(other).unwrap().trim().to_string(),
    }
}

/// The claims a holder reveals per `holder_disclosed_claims`, and the paths to request.
fn revealed(
    claims: &Value,
    hdc: Option<&Yaml>,
    path: &str,
    sd: &[String],
    paths: &mut Vec<String>,
) -> Option<Value> {
    let join = |p: &str, k: &str| {
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}.{k}")
        }
    };
    let wanted = |h: Option<&Yaml>| match h {
        None => false,
        Some(Yaml::Bool(b)) => *b,
        Some(Yaml::String(s)) => !matches!(s.as_str(), "no" | "false"),
        Some(_) => true,
    };
    match claims {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let p = join(path, k);
                let h = hdc.and_then(|h| h.get(k.as_str()));
                if sd.contains(&p) {
                    if !wanted(h) {
                        continue;
                    }
                    paths.push(p.clone());
                }
                if let Some(rv) = revealed(v, h, &p, sd, paths) {
                    out.insert(k.clone(), rv);
                }
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                let p = join(path, &i.to_string());
                let h = hdc.and_then(|h| h.as_sequence()).and_then(|s| s.get(i));
                if sd.contains(&p) {
                    if !wanted(h) {
                        continue;
                    }
                    paths.push(p.clone());
                }
                if let Some(rv) = revealed(v, h, &p, sd, paths) {
                    out.push(rv);
                }
            }
            Some(Value::Array(out))
        }
        other => Some(other.clone()),
    }
}

#[test]
fn sd_jwt_python_example_specifications() {
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let root = dir.join("sd-jwt/sd-jwt-python-examples");
    let settings: Yaml =
        serde_norway::from_str(&std::fs::read_to_string(root.join("settings.yml")).unwrap())
            .unwrap();
    let to_jwk =
        |y: &Yaml| -> Jwk { serde_json::from_value(serde_json::to_value(y).unwrap()).unwrap() };
    let issuer =
        SoftwareKey::from_jwk(&to_jwk(&settings["key_settings"]["issuer_keys"][0])).unwrap();
    let holder = SoftwareKey::from_jwk(&to_jwk(&settings["key_settings"]["holder_key"])).unwrap();
    let iat = settings["iat"].as_i64().unwrap();
    let exp = settings["exp"].as_i64().unwrap();
    let nonce = settings["key_binding_nonce"].as_str().unwrap();
    let verifier_id = settings["identifiers"]["verifier"].as_str().unwrap();
    let mut trust = TrustStore::new();
    trust.add_jwk(&issuer.public_jwk()).unwrap();
    let mut ran = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let spec_path = entry.unwrap().path().join("specification.yml");
        if !spec_path.is_file() {
            continue;
        }
        let name = spec_path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let spec: Yaml =
            serde_norway::from_str(&std::fs::read_to_string(&spec_path).unwrap()).unwrap();
        let mut sd = Vec::new();
        let mut claims = untag(&spec["user_claims"], "", &mut sd);
        if let Some(non_sd) = spec.get("non_sd_claims") {
            // The reverse form: everything not listed is disclosable (top level).
            let keep: Vec<String> = non_sd
                .as_sequence()
                .map(|s| {
                    s.iter()
                        .filter_map(|k| k.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            sd = claims
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| !keep.contains(k))
                .cloned()
                .collect();
        }
        let obj = claims.as_object_mut().unwrap();
        let issuer_id = obj
            .remove("iss")
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_else(|| {
                settings["identifiers"]["issuer"]
                    .as_str()
                    .unwrap()
                    .to_string()
            });
        // iat/exp come from the settings; the slide-deck spec's `cnf` is a truncated RSA
        // placeholder: govcred binds the holder's key itself (`holder_key`).
        for reserved in ["iat", "exp", "cnf"] {
            obj.remove(reserved);
        }
        sd.retain(|p| p != "iss" && p != "iat" && p != "exp");
        let key_binding = spec
            .get("key_binding")
            .and_then(Yaml::as_bool)
            .unwrap_or(false);
        let mut draft = SdJwtDraft::new(&issuer_id, &format!("urn:example:{name}"));
        draft.claims = obj.clone();
        draft.disclosable = sd.clone();
        draft.decoys = if spec
            .get("add_decoy_claims")
            .and_then(Yaml::as_bool)
            .unwrap_or(false)
        {
            3
        } else {
            0
        };
        draft.expires_at = Some(exp);
        if key_binding {
            draft.holder_key = Some(holder.public_jwk());
        }
        let issued =
            sd_jwt::issue(&draft, None, &issuer, iat).unwrap_or_else(|e| panic!("{name}: {e}"));
        let held = SdJwt::parse(&issued).unwrap();
        assert_eq!(held.disclosures.len(), sd.len(), "{name}");

        // Reveal everything: the verifier sees the user claims.
        let all: Vec<&str> = sd.iter().map(String::as_str).collect();
        let opts = VerifyOptions::default();
        let r = sd_jwt::verify(
            &held.present(&all, None).unwrap(),
            &trust,
            iat + 10,
            60,
            &opts,
        );
        assert!(r.valid, "{name}: {}", r.to_json_pretty());
        // The report lists registered claims (nbf, exp…) in its own fields, not in `claims`.
        let mut user_claims = claims.clone();
        for r in sd_jwt::REGISTERED {
            user_claims.as_object_mut().unwrap().remove(*r);
        }
        assert_eq!(
            r.claims.to_value(),
            user_claims,
            "{name}: revealing everything gives the user claims"
        );

        // Reveal per holder_disclosed_claims, with key binding where the spec asks.
        let mut paths = Vec::new();
        let expected = revealed(
            &user_claims,
            spec.get("holder_disclosed_claims"),
            "",
            &sd,
            &mut paths,
        )
        .unwrap();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let kb = KeyBinding {
            audience: verifier_id.into(),
            nonce: nonce.into(),
            issued_at: iat + 5,
        };
        let pres = held
            .present(&refs, key_binding.then_some((&kb, &holder as &dyn Signer)))
            .unwrap();
        let opts = if key_binding {
            VerifyOptions {
                audience: Some(verifier_id.into()),
                nonce: Some(nonce.into()),
                ..Default::default()
            }
        } else {
            VerifyOptions::default()
        };
        let r = sd_jwt::verify(&pres, &trust, iat + 10, 60, &opts);
        assert!(r.valid, "{name}: {}", r.to_json_pretty());
        assert_eq!(
            r.claims.to_value(),
            expected,
            "{name}: the verifier sees exactly what the holder revealed"
        );
        ran += 1;
    }
    assert!(ran >= 12, "ran {ran} specifications");
}

#[test]
fn x5c_issuer_key_chains_to_a_trusted_iaca() {
    // GOV.UK's LOCAL test PKI: a DSC (with its published test key) under a LOCAL IACA.
    let Some(dir) = common::shared_vectors() else {
        return;
    };
    let read = |f: &str| std::fs::read_to_string(dir.join("govuk/mdoc").join(f)).unwrap();
    let pem_body = |pem: &str| -> Vec<u8> {
        use base64::Engine;
        let b: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::engine::general_purpose::STANDARD.decode(b).unwrap()
    };
    // SEC1 ECPrivateKey: 30 77 02 01 01 04 20 <32-byte scalar> …
    let sec1 = pem_body(&read("local-dsc.TEST-KEY-ONLY.pem"));
    assert_eq!(&sec1[5..7], &[0x04, 0x20]);
    let scalar: [u8; 32] = sec1[7..39].try_into().unwrap();
    let dsc_key = SoftwareKey::from_secret_bytes(govcred::crypto::Alg::ES256, &scalar).unwrap();
    let dsc_der = pem_body(&read("local-dsc.pem"));
    let x5c = vec![{
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&dsc_der)
    }];
    let at = govcred::datetime::parse("2026-03-01T00:00:00Z", "t").unwrap();
    let mut d = SdJwtDraft::new("https://issuer.example.gov.uk", "urn:example:x5c");
    d.claims = json!({"given_name": "Sarah"}).as_object().unwrap().clone();
    d.disclosable = vec!["given_name".into()];
    let issued = sd_jwt::issue(&d, Some(&x5c), &dsc_key, at).unwrap();

    let mut trust = TrustStore::new();
    trust
        .add_root_certificates_pem(&read("local-iaca-root.pem"))
        .unwrap();
    let opts = VerifyOptions::default();
    let r = sd_jwt::verify(&issued, &trust, at, 60, &opts);
    assert!(r.valid, "{}", r.to_json_pretty());
    assert!(
        r.check("issuer_key").unwrap().detail.contains("LOCAL"),
        "{}",
        r.to_json_pretty()
    );
    // No trusted root: could not check. After the DSC expired: expired.
    let r = sd_jwt::verify(&issued, &TrustStore::new(), at, 60, &opts);
    assert!(!r.valid && r.has_error(ErrorCode::UnknownKey));
    let late = govcred::datetime::parse("2026-10-01T00:00:00Z", "t").unwrap();
    let r = sd_jwt::verify(&issued, &trust, late, 60, &opts);
    assert!(
        !r.valid && r.has_error(ErrorCode::Expired),
        "{}",
        r.to_json_pretty()
    );
    // A chain to another root is untrusted.
    let other_root =
        std::fs::read_to_string(dir.join("govuk/issuance/iacas.example.json")).unwrap();
    let other: Value = serde_json::from_str(&other_root).unwrap();
    let mut wrong = TrustStore::new();
    wrong
        .add_root_certificates_pem(other["data"][0]["certificatePem"].as_str().unwrap())
        .unwrap();
    let r = sd_jwt::verify(&issued, &wrong, at, 60, &opts);
    assert!(
        !r.valid && r.has_error(ErrorCode::UntrustedIssuer),
        "{}",
        r.to_json_pretty()
    );
}
