//! A tamper-evident audit log: a hash chain of JSON entries, one per line.
//!
//! Every entry carries the hash of the entry before it (`prev`) and its own hash
//! (`hash`): SHA-256 over the entry's canonical JSON without `hash` (object members
//! sorted by name, no whitespace). Editing, deleting, inserting or reordering a line
//! breaks the chain at that line, which [`verify_lines`] reports. The chain proves
//! order and integrity, not authorship: a periodic signature over the latest hash
//! (an entry whose `details` hold it) anchors it to a key.
//!
//! Sans-I/O: the caller reads and appends the lines (the CLI keeps the file locked
//! while appending, so concurrent writers cannot fork the chain).
//!
//! ```
//! use govcred::audit::{Chain, verify_lines};
//! use serde_json::json;
//!
//! let mut chain = Chain::genesis();
//! let a = chain.append(1_700_000_000, "issue", json!({"credential": "urn:uuid:1"})).unwrap();
//! let b = chain.append(1_700_000_001, "revoke", json!({"index": 7})).unwrap();
//! assert!(verify_lines([a.as_str(), b.as_str()]).broken.is_none());
//! // Reordered: detected at the first line.
//! let v = verify_lines([b.as_str(), a.as_str()]);
//! assert_eq!(v.broken.unwrap().line, 1);
//! ```

use serde_json::{Map, Value};

use crate::crypto::sha256;
use crate::error::{Error, Result};

/// `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The state needed to append: the next sequence number and the last entry's hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    next_seq: u64,
    last_hash: String,
}

/// Where a chain first fails to verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong there.
    pub reason: String,
}

/// Result of [`verify_lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Entries that verified (before the first broken one).
    pub entries: u64,
    /// The first broken entry, if any.
    pub broken: Option<Broken>,
    /// The chain state after the verified entries (to append from).
    pub chain: Chain,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Canonical JSON: members sorted by name at every level, no insignificant
/// whitespace, strings and numbers as serde_json writes them.
pub fn canonical_json(v: &Value) -> String {
    let mut out = Vec::with_capacity(256);
    write_canonical(v, &mut out);
    // Only serde_json's output and ASCII punctuation went in: always UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, x)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing a string or a number into a Vec cannot fail.
                serde_json::to_writer(&mut *out, k).ok();
                out.push(b':');
                write_canonical(x, out);
            }
            out.push(b'}');
        }
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(x, out);
            }
            out.push(b']');
        }
        other => {
            serde_json::to_writer(&mut *out, other).ok();
        }
    }
}

/// An entry's `details` already in canonical JSON ([`Details::new`]): made where
/// the work can be spread (a batch's worker threads), so that [`Chain::append_details`]
/// on the one thread that owns the chain is only the hash step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Details(String);

impl Details {
    /// Canonicalise `details`.
    pub fn new(details: &Value) -> Self {
        Details(canonical_json(details))
    }

    /// The canonical JSON.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The hash of an entry: SHA-256 (hex) over its canonical JSON without `hash`.
pub fn entry_hash(entry: &Map<String, Value>) -> String {
    let mut body = entry.clone();
    body.remove("hash");
    hex(&sha256(canonical_json(&Value::Object(body)).as_bytes()))
}

impl Chain {
    /// An empty log.
    pub fn genesis() -> Self {
        Chain {
            next_seq: 0,
            last_hash: GENESIS.into(),
        }
    }

    /// The hash of the last entry (or [`GENESIS`]).
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    /// The sequence number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Continue after `last_line`, the log's last line (checked to be a well-formed
    /// entry whose hash matches).
    pub fn after(last_line: &str) -> Result<Self> {
        let entry = parse_entry(last_line)?;
        let (seq, hash) = check_entry(&entry).map_err(|r| Error::malformed("audit entry", r))?;
        Ok(Chain {
            next_seq: seq + 1,
            last_hash: hash,
        })
    }

    /// Make the next entry (one JSON line, without newline) for `action` at `time`
    /// with free-form `details`, and advance the chain.
    pub fn append(&mut self, time: i64, action: &str, details: Value) -> Result<String> {
        Ok(self.append_details(time, action, &Details::new(&details)))
    }

    /// [`Chain::append`] with details canonicalised beforehand. The entry's members in
    /// canonical (sorted) order are `action`, `details`, `hash`, `prev`, `seq`, `time`;
    /// its hash covers the same text without `hash`.
    pub fn append_details(&mut self, time: i64, action: &str, details: &Details) -> String {
        let action = serde_json::to_string(action).unwrap_or_default();
        let tail = format!(
            r#""prev":"{}","seq":{},"time":{time}}}"#,
            self.last_hash, self.next_seq
        );
        let head = format!(r#"{{"action":{action},"details":{}"#, details.0);
        let mut hashed = String::with_capacity(head.len() + tail.len() + 1);
        hashed.push_str(&head);
        hashed.push(',');
        hashed.push_str(&tail);
        let hash = hex(&sha256(hashed.as_bytes()));
        let mut line = head;
        line.push_str(r#","hash":""#);
        line.push_str(&hash);
        line.push_str("\",");
        line.push_str(&tail);
        self.next_seq += 1;
        self.last_hash = hash;
        line
    }
}

fn parse_entry(line: &str) -> Result<Map<String, Value>> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::malformed("audit entry", "not a JSON object")),
        Err(e) => Err(Error::malformed("audit entry", e.to_string())),
    }
}

/// Check an entry's own hash; returns its `seq` and hash.
fn check_entry(entry: &Map<String, Value>) -> std::result::Result<(u64, String), String> {
    let seq = entry
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or("no seq number")?;
    for field in ["time", "action", "details", "prev"] {
        if !entry.contains_key(field) {
            return Err(format!("no `{field}`"));
        }
    }
    let stated = entry.get("hash").and_then(Value::as_str).ok_or("no hash")?;
    let computed = entry_hash(entry);
    if !crate::crypto::ct_eq(stated.as_bytes(), computed.as_bytes()) {
        return Err("the entry's hash does not match its contents (edited)".into());
    }
    Ok((seq, computed))
}

/// Verify a whole log, line by line; stops at the first broken entry. Empty lines
/// are errors (a deleted entry's trace), except one final empty line.
pub fn verify_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Verification {
    let mut chain = Chain::genesis();
    let mut entries = 0;
    for (i, line) in lines.into_iter().enumerate() {
        let broken = |reason: String| Broken {
            line: i + 1,
            reason,
        };
        let entry = match parse_entry(line) {
            Ok(e) => e,
            Err(e) => {
                return Verification {
                    entries,
                    broken: Some(broken(e.to_string())),
                    chain,
                }
            }
        };
        let fail = match check_entry(&entry) {
            Err(r) => Some(r),
            Ok((seq, _)) if seq != chain.next_seq => Some(format!(
                "sequence number {seq} where {} was expected (entry deleted, inserted or moved)",
                chain.next_seq
            )),
            Ok(_) if entry.get("prev").and_then(Value::as_str) != Some(chain.last_hash()) => Some(
                "`prev` is not the previous entry's hash (entry deleted, inserted or moved)".into(),
            ),
            Ok((seq, hash)) => {
                chain = Chain {
                    next_seq: seq + 1,
                    last_hash: hash,
                };
                None
            }
        };
        if let Some(r) = fail {
            return Verification {
                entries,
                broken: Some(broken(r)),
                chain,
            };
        }
        entries += 1;
    }
    Verification {
        entries,
        broken: None,
        chain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log(n: usize) -> Vec<String> {
        let mut c = Chain::genesis();
        (0..n)
            .map(|i| {
                c.append(100 + i as i64, "issue", json!({"i": i, "b": "x"}))
                    .unwrap()
            })
            .collect()
    }

    fn check(lines: &[String]) -> Option<Broken> {
        verify_lines(lines.iter().map(String::as_str)).broken
    }

    #[test]
    fn intact_chain_verifies_and_resumes() {
        let lines = log(5);
        let v = verify_lines(lines.iter().map(String::as_str));
        assert_eq!(v.entries, 5);
        assert!(v.broken.is_none());
        assert_eq!(Chain::after(&lines[4]).unwrap(), v.chain);
    }

    #[test]
    fn edit_delete_reorder_truncate_head_are_detected() {
        let lines = log(5);
        let mut edited = lines.clone();
        edited[2] = edited[2].replace("\"i\":2", "\"i\":9");
        assert_eq!(check(&edited).unwrap().line, 3);

        let mut deleted = lines.clone();
        deleted.remove(1);
        assert_eq!(check(&deleted).unwrap().line, 2);

        let mut swapped = lines.clone();
        swapped.swap(3, 4);
        assert_eq!(check(&swapped).unwrap().line, 4);

        assert_eq!(check(&lines[1..]).unwrap().line, 1);

        let mut garbage = lines.clone();
        garbage[0] = "not json".into();
        assert_eq!(check(&garbage).unwrap().line, 1);
    }

    #[test]
    fn prepared_details_make_the_same_entry_as_the_map_form() {
        let details = json!({"row": "R1", "z": [1, {"b": "é\n", "a": null}], "n": -3});
        let mut fast = Chain::genesis();
        let line = fast.append(7, "issue \"x\"", details.clone()).unwrap();
        // The entry as a map, hashed by the general canonical form, is the same.
        let mut entry = Map::new();
        entry.insert("seq".into(), 0.into());
        entry.insert("time".into(), 7.into());
        entry.insert("action".into(), "issue \"x\"".into());
        entry.insert("details".into(), details);
        entry.insert("prev".into(), GENESIS.into());
        let hash = entry_hash(&entry);
        entry.insert("hash".into(), hash.clone().into());
        assert_eq!(line, canonical_json(&Value::Object(entry)));
        assert_eq!(fast.last_hash(), hash);
        assert!(verify_lines([line.as_str()]).broken.is_none());
    }

    #[test]
    fn canonical_form_sorts_members() {
        let v = json!({"b": 1, "a": {"d": [1, {"z": 0, "y": "é"}], "c": null}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"d":[1,{"y":"é","z":0}]},"b":1}"#
        );
    }
}
