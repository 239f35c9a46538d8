//! `govcred issue-batch`, `ledger merge` and `audit verify`, end to end through the binary.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{govcred, ok_json, s};
use govcred::crypto::Jwk;
use govcred::trust::TrustStore;
use govcred::{FixedClock, Verifier};
use serde_json::Value;

const LIST: &str = "https://issuer.example.gov.uk/status/batch-1";

/// A key, a Bitstring status list and a jwt-vc template in `dir`.
fn setup(dir: &Path) -> PathBuf {
    ok_json(&[
        "keygen",
        "--alg",
        "ES256",
        "--out",
        s(&dir.join("issuer.jwk")),
    ]);
    ok_json(&[
        "status",
        "create",
        "--kind",
        "bitstring",
        "--bits",
        "1",
        "--size",
        "131072",
        "--uri",
        LIST,
        "--key",
        s(&dir.join("issuer.jwk")),
        "--store",
        s(&dir.join("status")),
    ]);
    let template = dir.join("template.toml");
    std::fs::write(
        &template,
        format!(
            r#"format = "jwt-vc"
key = "issuer.jwk"
type = "DigitalVeteranCard"
id_column = "id"
valid_for_days = 365

[status]
store = "status"
uri = "{LIST}"

[claims]
givenName = {{ column = "given_name" }}
familyName = {{ column = "family_name" }}
birthDate = {{ column = "birth_date", type = "date" }}
serviceNumber = {{ column = "service_number", type = "integer" }}
"address.postalCode" = {{ column = "postcode", optional = true }}
"#
        ),
    )
    .unwrap();
    template
}

/// `n` good rows as CSV (header + rows), ids `R00000…`.
fn csv(n: usize, bad: &HashMap<usize, String>) -> String {
    let mut out = String::from("id,given_name,family_name,birth_date,service_number,postcode\n");
    for i in 0..n {
        match bad.get(&i) {
            Some(line) => out.push_str(line),
            None => write!(
                out,
                "R{i:05},Given{i},Family{i},19{:02}-0{}-1{},{},SW1A {}AA",
                i % 100,
                1 + i % 9,
                i % 10,
                25_000_000 + i,
                i % 10
            )
            .unwrap(),
        }
        out.push('\n');
    }
    out
}

fn read_ledger(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn batch(args: &[&str]) -> std::process::Output {
    let mut all = vec!["issue-batch"];
    all.extend_from_slice(args);
    govcred(&all)
}

/// Ledger rows are unique, indices unique, and each file's hash matches its entry.
fn check_ledger(out: &Path, expect: usize) -> Vec<Value> {
    let ledger = read_ledger(&out.join("ledger.jsonl"));
    assert_eq!(ledger.len(), expect, "ledger entries");
    let rows: HashSet<&str> = ledger.iter().map(|e| e["row"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), expect, "duplicate rows in the ledger");
    let idx: HashSet<u64> = ledger
        .iter()
        .map(|e| e["status_index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx.len(), expect, "a status index used twice");
    // With --single-file: one line per ledger entry in credentials.jsonl.
    let single: HashMap<String, String> = std::fs::read_to_string(out.join("credentials.jsonl"))
        .map(|t| {
            let lines: Vec<Value> = t
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(lines.len(), expect, "credentials.jsonl lines");
            lines
                .into_iter()
                .map(|v| {
                    (
                        v["row"].as_str().unwrap().to_string(),
                        v["credential"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for e in &ledger {
        let bytes = match e["file"].as_str().unwrap() {
            "credentials.jsonl" => single[e["row"].as_str().unwrap()].clone().into_bytes(),
            f => std::fs::read(out.join(f)).unwrap(),
        };
        let h = govcred::b64::encode(govcred::crypto::sha256(&bytes));
        assert_eq!(e["sha256"], h.as_str(), "{}", e["row"]);
    }
    ledger
}

#[test]
fn ten_thousand_rows_with_twenty_bad_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = setup(dir);
    // 20 malformed rows of several kinds, at known positions.
    let mut bad = HashMap::new();
    for k in 0..20usize {
        let i = 37 + k * 487;
        let line = match k % 5 {
            0 => format!("R{i:05},Given,Family,1980-02-30,123,X"), // no such date
            1 => format!("R{i:05},,Family,1980-01-01,123,X"),      // required column empty
            2 => format!("R{i:05},Given,Family,1980-01-01,12x,X"), // not an integer
            3 => format!("R{i:05},Given,Family"),                  // too few fields
            _ => "R00000,Dup,Dup,1980-01-01,1,X".to_string(),      // duplicate row id
        };
        bad.insert(i, line);
    }
    let input = dir.join("records.csv");
    std::fs::write(&input, csv(10_000, &bad)).unwrap();
    let out = dir.join("out");
    let r = batch(&[
        "--input",
        s(&input),
        "--template",
        s(&template),
        "--out",
        s(&out),
        "--jobs",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(
        r.status.code(),
        Some(3),
        "partial failure exit code: {stderr}"
    );
    let summary: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(summary["issued"], 9980);
    assert_eq!(summary["failed"], 20);
    assert!(stderr.contains("issued 9980, failed 20"), "{stderr}");
    assert!(stderr.contains("peak RSS"), "{stderr}");

    // 20 clear errors, with the input's line numbers (row i is on line i + 2).
    let errors: Vec<Value> = std::fs::read_to_string(out.join("errors.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(errors.len(), 20);
    let lines: BTreeSet<u64> = errors.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    let expected: BTreeSet<u64> = bad.keys().map(|i| *i as u64 + 2).collect();
    assert_eq!(lines, expected);
    for e in &errors {
        let reason = e["reason"].as_str().unwrap();
        assert!(
            [
                "not a date",
                "empty or missing",
                "not an integer",
                "fields where the header has",
                "more than once"
            ]
            .iter()
            .any(|w| reason.contains(w)),
            "unclear reason: {reason}"
        );
        assert!(
            stderr.contains(&format!("line {}", e["line"])),
            "not on stderr: {e}"
        );
    }

    let ledger = check_ledger(&out, 9980);

    // Every credential verifies, against the key and the published status list.
    ok_json(&[
        "status",
        "publish",
        "--store",
        s(&dir.join("status")),
        "--out",
        s(&dir.join("site")),
    ]);
    let list = std::fs::read_to_string(dir.join("site/status/batch-1")).unwrap();
    let mut trust = TrustStore::new();
    let jwk = Jwk::from_json(&std::fs::read_to_string(dir.join("issuer.jwk")).unwrap()).unwrap();
    trust.add_jwk(&jwk.to_public()).unwrap();
    trust.add_status_list(list.trim(), 60).unwrap();
    let now = govcred::Clock::now(&govcred::SystemClock);
    let verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(now)));
    for e in &ledger {
        let text = std::fs::read_to_string(out.join(e["file"].as_str().unwrap())).unwrap();
        let report = verifier.verify(text.as_bytes());
        assert!(report.valid, "{}: {:?}", e["row"], report);
    }

    // The audit log has the whole run and verifies.
    let audit = ok_json(&["audit", "verify", s(&out.join("audit.jsonl"))]);
    assert_eq!(audit["valid"], true);
    assert_eq!(audit["entries"], 9980 + 2);

    // A second run without --resume refuses to overwrite.
    let again = batch(&[
        "--input",
        s(&input),
        "--template",
        s(&template),
        "--out",
        s(&out),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
}

#[test]
fn killed_half_way_then_resumed_has_no_duplicates_and_no_gaps() {
    kill_and_resume(false);
}

#[test]
fn killed_and_resumed_with_a_single_output_file() {
    kill_and_resume(true);
}

fn kill_and_resume(single: bool) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = setup(dir);
    let n = 4000;
    let input = dir.join("records.csv");
    std::fs::write(&input, csv(n, &HashMap::new())).unwrap();
    let out = dir.join("out");
    let single_flag: &[&str] = if single { &["--single-file"] } else { &[] };
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .args([
            "issue-batch",
            "--input",
            s(&input),
            "--template",
            s(&template),
            "--out",
            s(&out),
            "--jobs",
            "1",
        ])
        .args(single_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let ledger = out.join("ledger.jsonl");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let lines = std::fs::read_to_string(&ledger)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 300 {
            break;
        }
        assert!(Instant::now() < deadline, "batch made no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL, mid-run
    child.wait().unwrap();
    let partial = std::fs::read_to_string(&ledger).unwrap().lines().count();
    assert!(
        partial < n,
        "the run finished before it was killed ({partial})"
    );

    let mut args = vec![
        "--input",
        s(&input),
        "--template",
        s(&template),
        "--out",
        s(&out),
        "--resume",
    ];
    args.extend_from_slice(single_flag);
    let r = batch(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(summary["failed"], 0);
    let issued = summary["issued"].as_u64().unwrap() as usize;
    let skipped = summary["already_issued"].as_u64().unwrap() as usize;
    assert_eq!(issued + skipped, n);
    let entries = check_ledger(&out, n);
    let rows: BTreeSet<String> = entries
        .iter()
        .map(|e| e["row"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = (0..n).map(|i| format!("R{i:05}")).collect();
    assert_eq!(rows, want, "gaps");
    // The audit chain survived the kill (appends are whole lines).
    let audit = govcred(&["audit", "verify", s(&out.join("audit.jsonl"))]);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
}

/// Copy a (flat) registry directory: a shard's own copy of the department's registry.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn four_shards_merged_equal_one_run_with_disjoint_index_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = setup(dir);
    let n = 2000;
    let input = dir.join("records.csv");
    std::fs::write(&input, csv(n, &HashMap::new())).unwrap();
    // The department's registry as it was before the shards ran (for the overlap check).
    copy_dir(&dir.join("status"), &dir.join("status-before"));
    let mut ledgers = Vec::new();
    let mut total = 0;
    for i in 0..4u64 {
        let out = dir.join(format!("shard-{i}"));
        // Each shard (a pod / array job) has its own copy of the registry.
        copy_dir(&dir.join("status"), &out.join("status"));
        let r = batch(&[
            "--input",
            s(&input),
            "--template",
            s(&template),
            "--out",
            s(&out),
            "--shard",
            &format!("{i}/4"),
            "--status-store",
            s(&out.join("status")),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let entries = read_ledger(&out.join("ledger.jsonl"));
        assert!(!entries.is_empty());
        for e in &entries {
            let idx = e["status_index"].as_u64().unwrap();
            assert!(
                idx >= i * 131_072 / 4 && idx < (i + 1) * 131_072 / 4,
                "shard {i} used index {idx} outside its range"
            );
            assert_eq!(e["shard"], format!("{i}/4"));
        }
        total += entries.len();
        ledgers.push(out.join("ledger.jsonl"));
    }
    assert_eq!(total, n);
    let merged = dir.join("merged.jsonl");
    let mut args = vec!["ledger", "merge"];
    args.extend(ledgers.iter().map(|p| s(p)));
    args.extend(["--out", s(&merged)]);
    let m = ok_json(&args);
    assert_eq!(m["entries"], n);

    // One status list for all shards: a revocation made in shard 1's copy, then the
    // shard registries merged into the department's, checked against the ledger.
    let revoked = read_ledger(&ledgers[1])[0]["status_index"]
        .as_u64()
        .unwrap();
    ok_json(&[
        "status",
        "revoke",
        "--store",
        s(&dir.join("shard-1/status")),
        "--uri",
        LIST,
        "--index",
        &revoked.to_string(),
    ]);
    let shard_stores: Vec<PathBuf> = (0..4)
        .map(|i| dir.join(format!("shard-{i}/status")))
        .collect();
    let base_store = dir.join("status");
    let mut args = vec!["status", "merge", "--store", s(&base_store), "--uri", LIST];
    args.extend(shard_stores.iter().map(|p| s(p)));
    args.extend(["--ledger", s(&merged)]);
    let sm = ok_json(&args);
    // Every issued index, plus the few reserved in chunks and left unused (never reused).
    let added = sm["added"].as_u64().unwrap();
    assert!(added >= n as u64 && added < 2 * n as u64, "{sm}");
    assert_eq!(sm["allocated_count"], added);
    assert_eq!(sm["ledger_indices_checked"], n);
    ok_json(&[
        "status",
        "publish",
        "--store",
        s(&dir.join("status")),
        "--out",
        s(&dir.join("site")),
    ]);
    let other = read_ledger(&ledgers[2])[0]["status_index"]
        .as_u64()
        .unwrap();
    let check = ok_json(&[
        "status",
        "check",
        s(&dir.join("site/status/batch-1")),
        "--jwk",
        s(&dir.join("issuer.jwk")),
        "--json",
        "--index",
        &revoked.to_string(),
        &other.to_string(),
    ]);
    assert_eq!(check["statuses"][0]["status"], "invalid", "{check}");
    assert_eq!(check["statuses"][1]["status"], "valid", "{check}");

    // Two copies that allocated the same indices: refused, the base left as it was.
    copy_dir(&dir.join("shard-0/status"), &dir.join("shard-0-again"));
    let base = dir.join("status-before");
    // The registry records (the merge also leaves its `.lock` file beside them).
    let records = |d: &Path| -> BTreeSet<Vec<u8>> {
        std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    };
    let before = records(&base);
    let r = govcred(&[
        "status",
        "merge",
        "--store",
        s(&base),
        "--uri",
        LIST,
        s(&dir.join("shard-0/status")),
        s(&dir.join("shard-0-again")),
    ]);
    assert_eq!(
        r.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(report["conflicts"][0]["kind"], "status_index", "{report}");
    assert!(
        before == records(&base),
        "a refused merge wrote to the base registry"
    );
    // A ledger naming an index no shard allocated is refused too.
    let r = govcred(&[
        "status",
        "merge",
        "--store",
        s(&base),
        "--uri",
        LIST,
        s(&dir.join("shard-0/status")),
        "--ledger",
        s(&ledgers[1]),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        report["conflicts"][0]["kind"], "unallocated_index",
        "{report}"
    );

    // The same subjects as a single run.
    let single = dir.join("single");
    let r = batch(&[
        "--input",
        s(&input),
        "--template",
        s(&template),
        "--out",
        s(&single),
    ]);
    assert!(r.status.success());
    let rows = |p: &Path| -> BTreeSet<String> {
        read_ledger(p)
            .iter()
            .map(|e| e["row"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows(&merged), rows(&single.join("ledger.jsonl")));

    // A ledger merged with itself: every row and index twice → refused, nothing written.
    let dup = dir.join("dup.jsonl");
    let r = govcred(&[
        "ledger",
        "merge",
        s(&ledgers[0]),
        s(&ledgers[0]),
        "--out",
        s(&dup),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(!dup.exists());
    let report: Value = serde_json::from_slice(&r.stdout).unwrap();
    let kinds: HashSet<&str> = report["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("row") && kinds.contains("status_index"),
        "{report}"
    );
}

#[test]
fn audit_log_tampering_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = setup(dir);
    let input = dir.join("records.csv");
    std::fs::write(&input, csv(5, &HashMap::new())).unwrap();
    let out = dir.join("out");
    let r = batch(&[
        "--input",
        s(&input),
        "--template",
        s(&template),
        "--out",
        s(&out),
    ]);
    assert!(r.status.success());
    let log = out.join("audit.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7);
    assert_eq!(ok_json(&["audit", "verify", s(&log)])["valid"], true);

    let check = |content: String, line: u64| {
        let p = dir.join("tampered.jsonl");
        std::fs::write(&p, content).unwrap();
        let r = govcred(&["audit", "verify", s(&p)]);
        assert_eq!(r.status.code(), Some(1));
        let v: Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(v["first_broken"]["line"], line, "{v}");
    };
    let join = |ls: Vec<&str>| ls.join("\n") + "\n";
    // Edited entry.
    let mut edited = lines.clone();
    let changed = edited[3].replace("\"issue\"", "\"revoke\"");
    edited[3] = &changed;
    check(join(edited), 4);
    // Deleted entry.
    let mut deleted = lines.clone();
    deleted.remove(2);
    check(join(deleted), 3);
    // Reordered entries.
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    check(join(swapped), 5);

    // Single issuance and status changes go to the log named by GOVCRED_AUDIT_LOG.
    let claims = dir.join("claims.json");
    std::fs::write(&claims, r#"{"givenName":"A"}"#).unwrap();
    let shared = dir.join("shared-audit.jsonl");
    let st = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .env("GOVCRED_AUDIT_LOG", &shared)
        .args([
            "issue",
            "jwt-vc",
            "--key",
            s(&dir.join("issuer.jwk")),
            "--type",
            "T",
            "--claims",
            s(&claims),
        ])
        .output()
        .unwrap();
    assert!(st.status.success());
    let idx = read_ledger(&out.join("ledger.jsonl"))[0]["status_index"].to_string();
    let st = Command::new(env!("CARGO_BIN_EXE_govcred"))
        .env("GOVCRED_AUDIT_LOG", &shared)
        .args([
            "status",
            "revoke",
            "--store",
            s(&dir.join("status")),
            "--uri",
            LIST,
            "--index",
            &idx,
        ])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let v = ok_json(&["audit", "verify", s(&shared)]);
    assert_eq!(v["entries"], 2);
    let actions: Vec<String> = std::fs::read_to_string(&shared)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["issue", "status_change"]);
}

#[test]
fn sd_jwt_vc_and_mdoc_batches_verify_with_token_status_list() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let token_list = "https://issuer.example.gov.uk/status/token-1";
    ok_json(&["keygen", "--out", s(&dir.join("issuer.jwk"))]);
    ok_json(&[
        "iaca",
        "create",
        "--country",
        "GB",
        "--common-name",
        "Test IACA",
        "--out",
        s(&dir.join("iaca")),
    ]);
    ok_json(&[
        "iaca",
        "issue-ds",
        "--iaca",
        s(&dir.join("iaca")),
        "--common-name",
        "Test DSC",
        "--out",
        s(&dir.join("ds")),
    ]);
    ok_json(&[
        "status",
        "create",
        "--kind",
        "token",
        "--uri",
        token_list,
        "--size",
        "1024",
        "--key",
        s(&dir.join("issuer.jwk")),
        "--store",
        s(&dir.join("status")),
    ]);
    // Holders' device keys, as public JWKs in a JSONL input.
    let mut input = String::new();
    for i in 0..3 {
        let k = ok_json(&["keygen", "--out", s(&dir.join(format!("dev{i}.jwk")))]);
        input.push_str(
            &serde_json::json!({
                "id": format!("P{i}"), "family": format!("Edwards{i}"), "birth": "1985-10-18",
                "over18": "yes", "device": k["public_jwk"],
            })
            .to_string(),
        );
        input.push('\n');
    }
    input.push_str("{\"id\": \"P9\", \"family\": \"X\", \"birth\": \"1985-13-01\", \"over18\": \"yes\", \"device\": {}}\n");
    input.push_str("not json\n");
    std::fs::write(dir.join("people.jsonl"), input).unwrap();
    let common = format!(
        "id_column = \"id\"\nholder_column = \"device\"\nvalid_for_days = 30\n\n[status]\nstore = \"status\"\nuri = \"{token_list}\"\n\n[claims]\nfamily_name = {{ column = \"family\" }}\nbirth_date = {{ column = \"birth\", type = \"date\" }}\nage_over_18 = {{ column = \"over18\", type = \"boolean\" }}\n"
    );
    std::fs::write(
        dir.join("sd.toml"),
        format!("format = \"sd-jwt-vc\"\nkey = \"issuer.jwk\"\nvct = \"urn:eudi:pid:1\"\ndisclose = [\"birth_date\", \"age_over_18\"]\n{common}"),
    )
    .unwrap();
    std::fs::write(
        dir.join("mdl.toml"),
        format!("format = \"mdoc\"\nds = \"ds\"\ndoctype = \"org.iso.18013.5.1.mDL\"\n{common}"),
    )
    .unwrap();
    for (t, out) in [("sd.toml", "sd"), ("mdl.toml", "mdl")] {
        let r = batch(&[
            "--input",
            s(&dir.join("people.jsonl")),
            "--template",
            s(&dir.join(t)),
            "--out",
            s(&dir.join(out)),
        ]);
        assert_eq!(
            r.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(
            stderr.contains("line 4 (row P9)") && stderr.contains("not a date"),
            "{stderr}"
        );
        assert!(stderr.contains("line 5: not valid JSON"), "{stderr}");
        check_ledger(&dir.join(out), 3);
    }
    ok_json(&[
        "status",
        "publish",
        "--store",
        s(&dir.join("status")),
        "--out",
        s(&dir.join("site")),
    ]);
    let list = std::fs::read_to_string(dir.join("site/status/token-1")).unwrap();
    let mut trust = TrustStore::new();
    let jwk = Jwk::from_json(&std::fs::read_to_string(dir.join("issuer.jwk")).unwrap()).unwrap();
    trust.add_jwk(&jwk.to_public()).unwrap();
    trust
        .add_root_certificates_pem(&std::fs::read_to_string(dir.join("iaca/iaca.pem")).unwrap())
        .unwrap();
    trust.add_status_list(list.trim(), 60).unwrap();
    let now = govcred::Clock::now(&govcred::SystemClock);
    let verifier = Verifier::new(trust).with_clock(Arc::new(FixedClock::new(now)));
    for out in ["sd", "mdl"] {
        for e in read_ledger(&dir.join(out).join("ledger.jsonl")) {
            let text =
                std::fs::read_to_string(dir.join(out).join(e["file"].as_str().unwrap())).unwrap();
            let report = verifier.verify(text.trim().as_bytes());
            assert!(report.valid, "{out} {}: {report:?}", e["row"]);
        }
    }
}
