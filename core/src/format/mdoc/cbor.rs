//! A small CBOR reader (RFC 8949) that keeps, for every data item, the exact bytes it
//! was read from, so that mdoc digests and signatures are checked over the bytes as
//! received and never over a re-encoding.
//!
//! Definite and indefinite lengths are both accepted (the GOV.UK Java issuer emits
//! indefinite-length maps and arrays). Nesting depth and item counts are bounded by the
//! input, so a hostile input cannot make the reader recurse or allocate without limit.
//!
//! Why not ciborium for reading: its `Value` does not keep the source bytes of each
//! item, and mdoc digests must be computed over the tag-24 bytes exactly as the issuer
//! wrote them (including indefinite-length encodings). ciborium remains the encoder for
//! tests; coset builds the COSE Sig_structure.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Deepest nesting accepted (arrays, maps and tags each count one level).
pub(crate) const MAX_DEPTH: usize = 32;

/// A decoded CBOR value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Nint(u64),
    /// Major type 2 (borrowed from the input; indefinite-length chunks joined).
    Bytes(Cow<'a, [u8]>),
    /// Major type 3 (borrowed from the input; indefinite-length chunks joined).
    Text(Cow<'a, str>),
    /// Major type 4.
    Array(Vec<Item<'a>>),
    /// Major type 5, in the order received.
    Map(Vec<(Item<'a>, Item<'a>)>),
    /// Major type 6.
    Tag(u64, Box<Item<'a>>),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// Other simple values.
    Simple(u8),
    /// Half, single or double float.
    Float(f64),
}

/// A data item and the exact bytes it was decoded from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Item<'a> {
    pub value: Value<'a>,
    pub raw: &'a [u8],
}

impl<'a> Item<'a> {
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_uint(&self) -> Option<u64> {
        match self.value {
            Value::Uint(n) => Some(n),
            _ => None,
        }
    }

    /// The value as a signed integer, when it fits in `i64`.
    pub fn as_int(&self) -> Option<i64> {
        match self.value {
            Value::Uint(n) => i64::try_from(n).ok(),
            Value::Nint(n) => i64::try_from(n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Item<'a>, Item<'a>)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Item<'a>]> {
        match &self.value {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The content of tag `tag`, if this item is that tag.
    pub fn untag(&self, tag: u64) -> Option<&Item<'a>> {
        match &self.value {
            Value::Tag(t, inner) if *t == tag => Some(inner),
            _ => None,
        }
    }

    /// A short description of the item's type, for error messages.
    pub fn kind(&self) -> String {
        match &self.value {
            Value::Uint(_) | Value::Nint(_) => "an integer".into(),
            Value::Bytes(_) => "a byte string".into(),
            Value::Text(_) => "a text string".into(),
            Value::Array(_) => "an array".into(),
            Value::Map(_) => "a map".into(),
            Value::Tag(t, _) => format!("tag {t}"),
            Value::Bool(_) => "a boolean".into(),
            Value::Null => "null".into(),
            Value::Undefined => "undefined".into(),
            Value::Simple(s) => format!("simple value {s}"),
            Value::Float(_) => "a float".into(),
        }
    }
}

/// Decode exactly one data item filling all of `input`; `what` names it in errors.
pub(crate) fn decode<'a>(input: &'a [u8], what: &'static str) -> Result<Item<'a>> {
    let mut r = Reader {
        input,
        pos: 0,
        what,
    };
    let item = r.item(0)?;
    if r.pos != input.len() {
        return Err(Error::malformed(
            what,
            format!(
                "{} unexpected byte(s) after the CBOR data item (at offset {})",
                input.len() - r.pos,
                r.pos
            ),
        ));
    }
    Ok(item)
}

/// Look up the text key `key` in a map; a key that occurs twice is refused.
pub(crate) fn get_text<'m, 'a>(
    map: &'m [(Item<'a>, Item<'a>)],
    key: &str,
    what: &'static str,
) -> Result<Option<&'m Item<'a>>> {
    find(map, what, key, |k| k.as_text() == Some(key))
}

/// Look up the integer key `key` in a map; a key that occurs twice is refused.
pub(crate) fn get_int<'m, 'a>(
    map: &'m [(Item<'a>, Item<'a>)],
    key: i64,
    what: &'static str,
) -> Result<Option<&'m Item<'a>>> {
    find(map, what, &key.to_string(), |k| k.as_int() == Some(key))
}

fn find<'m, 'a>(
    map: &'m [(Item<'a>, Item<'a>)],
    what: &'static str,
    name: &str,
    pred: impl Fn(&Item<'a>) -> bool,
) -> Result<Option<&'m Item<'a>>> {
    let mut found = None;
    for (k, v) in map {
        if pred(k) {
            if found.is_some() {
                return Err(Error::malformed(
                    what,
                    format!("map key {name:?} occurs more than once"),
                ));
            }
            found = Some(v);
        }
    }
    Ok(found)
}

/// Append the head of a data item: major type `major` with argument `n`, in the
/// shortest form (RFC 8949 §4.2.1). Used to splice received items into new structures
/// without re-encoding them.
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if let Ok(b) = u8::try_from(n) {
        out.extend([m | 24, b]);
    } else if let Ok(h) = u16::try_from(n) {
        out.push(m | 25);
        out.extend(h.to_be_bytes());
    } else if let Ok(w) = u32::try_from(n) {
        out.push(m | 26);
        out.extend(w.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend(n.to_be_bytes());
    }
}

/// Append a text string.
pub(crate) fn write_text(out: &mut Vec<u8>, s: &str) {
    write_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Append a byte string.
pub(crate) fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

/// `#6.24(bstr .cbor X)` around the encoded item `inner`.
pub(crate) fn tag24(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len() + 8);
    write_head(&mut out, 6, 24);
    write_bytes(&mut out, inner);
    out
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    what: &'static str,
}

const BREAK: u8 = 0xff;

impl<'a> Reader<'a> {
    fn err(&self, reason: impl std::fmt::Display) -> Error {
        Error::malformed(self.what, format!("{reason} (at offset {})", self.pos))
    }

    fn truncated(&self) -> Error {
        self.err("CBOR data ends in the middle of an item (truncated?)")
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.input.get(self.pos).ok_or_else(|| self.truncated())?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        let n = usize::try_from(n).map_err(|_| self.truncated())?;
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let s = self
            .input
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(s)
    }

    fn peek(&self) -> Result<u8> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.truncated())
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// The argument of an initial byte with additional information `info`; `None`
    /// for indefinite length (31).
    fn argument(&mut self, info: u8) -> Result<Option<u64>> {
        Ok(Some(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(self.fixed()?)),
            26 => u64::from(u32::from_be_bytes(self.fixed()?)),
            27 => u64::from_be_bytes(self.fixed()?),
            31 => return Ok(None),
            _ => return Err(self.err(format!("reserved additional information {info}"))),
        }))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N]> {
        let s = self.take(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }

    /// A length that must fit in what is left of the input (each element, byte or
    /// pair needs at least `min_bytes` bytes), so allocations stay bounded.
    fn length(&self, n: u64, min_bytes: usize) -> Result<usize> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n.saturating_mul(min_bytes) <= self.remaining())
            .ok_or_else(|| self.truncated())
    }

    fn item(&mut self, depth: usize) -> Result<Item<'a>> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("CBOR nesting deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        let value = match major {
            0 | 1 => {
                let n = self
                    .argument(info)?
                    .ok_or_else(|| self.err("indefinite length on an integer"))?;
                if major == 0 {
                    Value::Uint(n)
                } else {
                    Value::Nint(n)
                }
            }
            2 => Value::Bytes(self.string(info, 2)?),
            3 => Value::Text(match self.string(info, 3)? {
                Cow::Borrowed(b) => Cow::Borrowed(
                    std::str::from_utf8(b).map_err(|_| self.err("text string is not UTF-8"))?,
                ),
                Cow::Owned(b) => Cow::Owned(
                    String::from_utf8(b).map_err(|_| self.err("text string is not UTF-8"))?,
                ),
            }),
            4 => {
                let mut items = Vec::new();
                match self.argument(info)? {
                    Some(n) => {
                        let n = self.length(n, 1)?;
                        items.reserve_exact(n);
                        for _ in 0..n {
                            items.push(self.item(depth + 1)?);
                        }
                    }
                    None => {
                        while self.peek()? != BREAK {
                            items.push(self.item(depth + 1)?);
                        }
                        self.pos += 1;
                    }
                }
                Value::Array(items)
            }
            5 => {
                let mut pairs = Vec::new();
                match self.argument(info)? {
                    Some(n) => {
                        let n = self.length(n, 2)?;
                        pairs.reserve_exact(n);
                        for _ in 0..n {
                            let k = self.item(depth + 1)?;
                            let v = self.item(depth + 1)?;
                            pairs.push((k, v));
                        }
                    }
                    None => {
                        while self.peek()? != BREAK {
                            let k = self.item(depth + 1)?;
                            let v = self.item(depth + 1)?;
                            pairs.push((k, v));
                        }
                        self.pos += 1;
                    }
                }
                Value::Map(pairs)
            }
            6 => {
                let tag = self
                    .argument(info)?
                    .ok_or_else(|| self.err("indefinite length on a tag"))?;
                Value::Tag(tag, Box::new(self.item(depth + 1)?))
            }
            _ => match info {
                20 => Value::Bool(false),
                21 => Value::Bool(true),
                22 => Value::Null,
                23 => Value::Undefined,
                0..=19 => Value::Simple(info),
                24 => {
                    let s = self.byte()?;
                    if s < 32 {
                        return Err(self.err("simple value in two-byte form below 32"));
                    }
                    Value::Simple(s)
                }
                25 => Value::Float(half_to_f64(u16::from_be_bytes(self.fixed()?))),
                26 => Value::Float(f64::from(f32::from_be_bytes(self.fixed()?))),
                27 => Value::Float(f64::from_be_bytes(self.fixed()?)),
                31 => return Err(self.err("unexpected \"break\" byte")),
                _ => return Err(self.err(format!("reserved additional information {info}"))),
            },
        };
        Ok(Item {
            value,
            raw: &self.input[start..self.pos],
        })
    }

    /// The content of a byte or text string (major type `major`), joining the chunks
    /// of an indefinite-length string (which must all be definite and of that type).
    fn string(&mut self, info: u8, major: u8) -> Result<Cow<'a, [u8]>> {
        match self.argument(info)? {
            Some(n) => Ok(Cow::Borrowed(self.take(n)?)),
            None => {
                let mut out = Vec::new();
                loop {
                    let b = self.byte()?;
                    if b == BREAK {
                        return Ok(Cow::Owned(out));
                    }
                    if b >> 5 != major {
                        return Err(self.err("indefinite-length string chunk of another type"));
                    }
                    let n = self
                        .argument(b & 0x1f)?
                        .ok_or_else(|| self.err("nested indefinite-length string chunk"))?;
                    out.extend_from_slice(self.take(n)?);
                }
            }
        }
    }
}

/// IEEE 754 half precision to double.
fn half_to_f64(h: u16) -> f64 {
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = f64::from(h & 0x3ff);
    let magnitude = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    };
    if h & 0x8000 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_and_indefinite_with_raw_spans() {
        // {_ "a": [_ 1, h'0102'], "b": -2}
        let bytes = [
            0xbf, 0x61, b'a', 0x9f, 0x01, 0x42, 0x01, 0x02, 0xff, 0x61, b'b', 0x21, 0xff,
        ];
        let item = decode(&bytes, "test").unwrap();
        let map = item.as_map().unwrap();
        let a = get_text(map, "a", "test").unwrap().unwrap();
        assert_eq!(a.raw, &bytes[3..9]);
        assert_eq!(a.as_array().unwrap()[1].as_bytes().unwrap(), &[1, 2]);
        assert_eq!(
            get_text(map, "b", "test").unwrap().unwrap().as_int(),
            Some(-2)
        );
        assert_eq!(item.raw, &bytes[..]);
    }

    #[test]
    fn refuses_bad_input() {
        for bad in [
            &[0x9f, 0x01][..],               // unterminated
            &[0x5a, 0xff, 0xff, 0xff, 0xff], // huge length
            &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0x01, 0x02],       // trailing
            &[0xff],             // lone break
            &[0x62, 0xff, 0xfe], // bad UTF-8
            &[0x1c],             // reserved
        ] {
            assert!(decode(bad, "test").is_err(), "{bad:02x?}");
        }
        let deep = vec![0x81u8; 100];
        assert!(decode(&deep, "test").is_err());
        let map = [0xa2, 0x61, b'k', 0x01, 0x61, b'k', 0x02];
        let item = decode(&map, "test").unwrap();
        assert!(get_text(item.as_map().unwrap(), "k", "test").is_err());
        assert_eq!(half_to_f64(0x3c00), 1.0);
        assert_eq!(half_to_f64(0xc000), -2.0);
    }
}
