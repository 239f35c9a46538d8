//! RFC 3339 / XML Schema `dateTimeStamp` values, as whole Unix seconds.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Parse an RFC 3339 date-time with a time zone (`Z` or `±hh:mm`); fractions of a
/// second are truncated. `what` names the value in the error.
pub fn parse(text: &str, what: &str) -> Result<i64> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| Error::InvalidDateTime {
            what: what.to_string(),
            value: text.to_string(),
        })
}

/// Format Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (the GOV.UK form: UTC, no fraction).
/// Values outside years 1–9999 are clamped to those bounds.
pub fn format(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix).unwrap_or(if unix < 0 {
        time::macros::datetime!(0001-01-01 0:00 UTC)
    } else {
        time::macros::datetime!(9999-12-31 23:59:59 UTC)
    });
    let d = t.date();
    let tm = t.time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        tm.hour(),
        tm.minute(),
        tm.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        assert_eq!(parse("2023-02-26T01:02:58.447Z", "t").unwrap(), 1677373378);
        assert_eq!(parse("2023-02-25T19:10:39-06:00", "t").unwrap(), parse("2023-02-26T01:10:39Z", "t").unwrap());
        assert_eq!(format(1677373378), "2023-02-26T01:02:58Z");
        for bad in ["2023-02-26", "2023-02-26T01:02:58", "yesterday", "2023-13-01T00:00:00Z"] {
            assert_eq!(parse(bad, "t").unwrap_err().code(), crate::ErrorCode::InvalidDateTime);
        }
    }
}
