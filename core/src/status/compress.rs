//! zlib and gzip for status lists, with a hard cap on the decompressed size.
//!
//! Decompression drives [`flate2::Decompress`] directly rather than through a
//! `Read` adapter so that every case is decided here: the output never grows past
//! the cap (a zip bomb fails with [`Error::TooLarge`] after at most `cap` bytes), a
//! truncated stream is an error rather than a short read, and bytes after the end of
//! the stream are refused.

use std::io::Write;

use flate2::{Compression, Crc, Decompress, FlushDecompress, Status as FlateStatus};

use crate::error::{Error, Result};

/// First allocation for the output; it then doubles up to the cap.
const INITIAL_OUTPUT: usize = 4096;

/// `base64url`-free zlib (RFC 1950) compression at the best level.
pub(crate) fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), Compression::best());
    // Writing into a Vec cannot fail, and neither can compressing in-memory data.
    enc.write_all(bytes)
        .expect("zlib compression into memory cannot fail");
    enc.finish()
        .expect("zlib compression into memory cannot fail")
}

/// gzip (RFC 1952) compression at the best level, no file name, mtime 0.
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), Compression::best());
    enc.write_all(bytes)
        .expect("gzip compression into memory cannot fail");
    enc.finish()
        .expect("gzip compression into memory cannot fail")
}

/// Decompress one complete zlib stream, refusing trailing bytes and output over `cap`.
pub(crate) fn unzlib(input: &[u8], cap: usize, what: &'static str) -> Result<Vec<u8>> {
    let (out, used) = inflate(input, true, cap, what)?;
    if used != input.len() {
        return Err(Error::malformed(
            what,
            format!(
                "{} bytes after the end of the zlib stream",
                input.len().saturating_sub(used)
            ),
        ));
    }
    Ok(out)
}

/// Decompress one gzip member (header, DEFLATE data, CRC-32 and length trailer),
/// refusing trailing bytes and output over `cap`.
pub(crate) fn gunzip(input: &[u8], cap: usize, what: &'static str) -> Result<Vec<u8>> {
    let truncated = || Error::malformed(what, "the gzip data is truncated");
    let header = input.get(..10).ok_or_else(truncated)?;
    if header[..3] != [0x1f, 0x8b, 8] {
        return Err(Error::malformed(
            what,
            "not gzip data (expected 1f 8b 08: gzip with DEFLATE)",
        ));
    }
    let flags = header[3];
    if flags & 0xe0 != 0 {
        return Err(Error::malformed(what, "gzip header has reserved flags set"));
    }
    let mut pos = 10usize;
    if flags & 0x04 != 0 {
        // FEXTRA: two-byte little-endian length, then that many bytes.
        let len = input.get(pos..pos + 2).ok_or_else(truncated)?;
        let xlen = usize::from(u16::from_le_bytes([len[0], len[1]]));
        pos = pos
            .checked_add(2 + xlen)
            .filter(|p| *p <= input.len())
            .ok_or_else(truncated)?;
    }
    for flag in [0x08u8, 0x10] {
        // FNAME, FCOMMENT: zero-terminated.
        if flags & flag != 0 {
            let rest = input.get(pos..).ok_or_else(truncated)?;
            let nul = rest.iter().position(|b| *b == 0).ok_or_else(truncated)?;
            pos += nul + 1;
        }
    }
    if flags & 0x02 != 0 {
        // FHCRC: the low 16 bits of the CRC-32 of the header so far.
        let stored = input.get(pos..pos + 2).ok_or_else(truncated)?;
        let mut crc = Crc::new();
        crc.update(input.get(..pos).ok_or_else(truncated)?);
        if (crc.sum() & 0xffff) as u16 != u16::from_le_bytes([stored[0], stored[1]]) {
            return Err(Error::malformed(what, "gzip header CRC does not match"));
        }
        pos += 2;
    }
    let body = input.get(pos..).ok_or_else(truncated)?;
    let (out, used) = inflate(body, false, cap, what)?;
    let trailer = body.get(used..).ok_or_else(truncated)?;
    if trailer.len() < 8 {
        return Err(truncated());
    }
    if trailer.len() > 8 {
        return Err(Error::malformed(
            what,
            format!(
                "{} bytes after the end of the gzip member",
                trailer.len() - 8
            ),
        ));
    }
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let mut crc = Crc::new();
    crc.update(&out);
    if crc.sum() != stored_crc {
        return Err(Error::malformed(
            what,
            "gzip CRC-32 does not match the data",
        ));
    }
    // ISIZE is the length modulo 2^32.
    if (out.len() as u64 & 0xffff_ffff) != u64::from(stored_len) {
        return Err(Error::malformed(
            what,
            "gzip length field does not match the data",
        ));
    }
    Ok(out)
}

/// Inflate a zlib (`zlib_header`) or raw DEFLATE stream from the start of `input`.
/// Returns the output and how many input bytes the stream used.
fn inflate(
    input: &[u8],
    zlib_header: bool,
    cap: usize,
    what: &'static str,
) -> Result<(Vec<u8>, usize)> {
    let corrupt = |e: flate2::DecompressError| {
        Error::malformed(
            what,
            format!(
                "corrupt {} data: {e}",
                if zlib_header { "zlib" } else { "DEFLATE" }
            ),
        )
    };
    let truncated = || {
        Error::malformed(
            what,
            format!(
                "the {} stream is truncated",
                if zlib_header { "zlib" } else { "DEFLATE" }
            ),
        )
    };
    let mut d = Decompress::new(zlib_header);
    let mut out: Vec<u8> = Vec::with_capacity(INITIAL_OUTPUT.min(cap));
    loop {
        // total_in never exceeds what was passed in, so this is in range.
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        let rest = input.get(consumed..).unwrap_or(&[]);
        let (in_before, out_before) = (d.total_in(), d.total_out());
        if out.len() == out.capacity() {
            if out.len() >= cap {
                // At the cap: one more byte of output means the data is too large.
                let mut probe = [0u8; 1];
                let status = d
                    .decompress(rest, &mut probe, FlushDecompress::None)
                    .map_err(corrupt)?;
                if d.total_out() > out_before {
                    return Err(Error::TooLarge {
                        what,
                        size: cap.saturating_add(1),
                        limit: cap,
                    });
                }
                if status == FlateStatus::StreamEnd {
                    break;
                }
                if d.total_in() == in_before {
                    return Err(truncated());
                }
                continue;
            }
            let target = out
                .capacity()
                .saturating_mul(2)
                .max(INITIAL_OUTPUT)
                .min(cap);
            out.reserve_exact(target - out.len());
        }
        let status = d
            .decompress_vec(rest, &mut out, FlushDecompress::None)
            .map_err(corrupt)?;
        if status == FlateStatus::StreamEnd {
            break;
        }
        let progressed = d.total_in() != in_before || d.total_out() != out_before;
        if !progressed && out.len() < out.capacity() {
            // Room for output, yet nothing consumed or produced: the input ran out.
            return Err(truncated());
        }
    }
    let used = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
    Ok((out, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn round_trips() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        assert_eq!(unzlib(&zlib(&data), 1 << 20, "t").unwrap(), data);
        assert_eq!(gunzip(&gzip(&data), 1 << 20, "t").unwrap(), data);
        assert_eq!(unzlib(&zlib(&[]), 16, "t").unwrap(), Vec::<u8>::new());
        assert_eq!(gunzip(&gzip(&[]), 16, "t").unwrap(), Vec::<u8>::new());
        // exactly at the cap is fine
        assert_eq!(unzlib(&zlib(&data), data.len(), "t").unwrap(), data);
        assert_eq!(gunzip(&gzip(&data), data.len(), "t").unwrap(), data);
    }

    #[test]
    fn cap_truncation_trailing_and_garbage() {
        let data = vec![0u8; 100_000];
        for z in [zlib(&data), gzip(&data)] {
            let f = if z[0] == 0x1f { gunzip } else { unzlib };
            assert_eq!(
                f(&z, data.len() - 1, "t").unwrap_err().code(),
                ErrorCode::InputTooLarge
            );
            for cut in [0, 1, 5, 10, z.len() / 2, z.len() - 4, z.len() - 1] {
                assert_eq!(
                    f(&z[..cut], 1 << 20, "t").unwrap_err().code(),
                    ErrorCode::MalformedInput,
                    "cut at {cut}"
                );
            }
            let mut extra = z.clone();
            extra.push(0);
            assert_eq!(
                f(&extra, 1 << 20, "t").unwrap_err().code(),
                ErrorCode::MalformedInput
            );
            let mut flipped = z.clone();
            let last = flipped.len() - 5;
            flipped[last] ^= 0x55;
            assert!(f(&flipped, 1 << 20, "t").is_err());
        }
        for garbage in [&b"hello world"[..], &[0x78, 0x9c, 0xff, 0xff, 0xff][..]] {
            assert_eq!(
                unzlib(garbage, 1 << 20, "t").unwrap_err().code(),
                ErrorCode::MalformedInput
            );
            assert_eq!(
                gunzip(garbage, 1 << 20, "t").unwrap_err().code(),
                ErrorCode::MalformedInput
            );
        }
    }

    #[test]
    fn gzip_optional_header_fields() {
        let data = b"status".to_vec();
        let z = flate2::GzBuilder::new()
            .filename("list.bin")
            .comment("c")
            .extra(vec![1, 2, 3])
            .buf_read(&data[..], Compression::fast());
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut { z }, &mut bytes).unwrap();
        assert_eq!(gunzip(&bytes, 64, "t").unwrap(), data);
    }
}
