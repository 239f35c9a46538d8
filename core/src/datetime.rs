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
/// Values outside years 0001–9999 are clamped to those bounds.
pub fn format(unix: i64) -> String {
    // Civil-from-days (proleptic Gregorian), as in H. Hinnant's date algorithms: a few
    // integer operations, since reports format several times per verification.
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let t = unix.clamp(MIN, MAX);
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Written digit by digit: `format!` costs more than the date arithmetic.
    let mut out = [0u8; 20];
    let put = |out: &mut [u8; 20], at: usize, width: usize, mut v: i64| {
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(&mut out, 0, 4, year);
    put(&mut out, 5, 2, month);
    put(&mut out, 8, 2, day);
    put(&mut out, 11, 2, secs / 3600);
    put(&mut out, 14, 2, secs % 3600 / 60);
    put(&mut out, 17, 2, secs % 60);
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'Z'),
    ] {
        out[i] = c;
    }
    out.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_format() {
        assert_eq!(parse("2023-02-26T01:02:58.447Z", "t").unwrap(), 1677373378);
        assert_eq!(
            parse("2023-02-25T19:10:39-06:00", "t").unwrap(),
            parse("2023-02-26T01:10:39Z", "t").unwrap()
        );
        assert_eq!(format(1677373378), "2023-02-26T01:02:58Z");
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format(-1), "1969-12-31T23:59:59Z");
        assert_eq!(format(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(format(i64::MIN), "0001-01-01T00:00:00Z");
        // Agrees with the parser everywhere it is defined.
        for t in (-62_135_596_800i64..253_402_300_799).step_by(7_777_777_777) {
            assert_eq!(parse(&format(t), "t").unwrap(), t, "{t}");
        }
        for bad in [
            "2023-02-26",
            "2023-02-26T01:02:58",
            "yesterday",
            "2023-13-01T00:00:00Z",
        ] {
            assert_eq!(
                parse(bad, "t").unwrap_err().code(),
                crate::ErrorCode::InvalidDateTime
            );
        }
    }
}
