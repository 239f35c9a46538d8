//! Claim paths: `address.locality`, `nationalities.1`.

use std::fmt;

use crate::error::{Error, Result};

/// One step of a claim path. Written as text (`13`), a member name made of digits and
/// an array index look the same, so segments compare by their text form.
#[derive(Clone, Debug)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

impl Segment {
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Segment::Key(k) => k.as_str().into(),
            Segment::Index(i) => i.to_string().into(),
        }
    }
}

impl PartialEq for Segment {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Segment {}

impl std::hash::Hash for Segment {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text().hash(state)
    }
}

impl PartialOrd for Segment {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Segment {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text().cmp(&other.text())
    }
}

/// A path to a claim inside the (reconstructed) payload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(pub Vec<Segment>);

impl ClaimPath {
    /// Parse a dotted path. Segments made only of digits are array indices.
    pub fn parse(text: &str) -> Result<Self> {
        if text.is_empty() {
            return Err(Error::claim("(path)", "empty claim path"));
        }
        text.split('.')
            .map(|s| {
                if s.is_empty() {
                    Err(Error::claim(text, "empty segment in claim path"))
                } else if s.bytes().all(|b| b.is_ascii_digit()) {
                    s.parse()
                        .map(Segment::Index)
                        .map_err(|_| Error::claim(text, "array index out of range"))
                } else {
                    Ok(Segment::Key(s.to_string()))
                }
            })
            .collect::<Result<Vec<_>>>()
            .map(ClaimPath)
    }

    /// This path extended by one segment.
    pub fn child(&self, seg: Segment) -> ClaimPath {
        let mut v = self.0.clone();
        v.push(seg);
        ClaimPath(v)
    }

    /// Whether `self` is `other` or inside it.
    pub fn starts_with(&self, other: &ClaimPath) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match s {
                Segment::Key(k) => f.write_str(k)?,
                Segment::Index(n) => write!(f, "{n}")?,
            }
        }
        Ok(())
    }
}
