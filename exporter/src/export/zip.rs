//! A minimal ZIP writer (PKWARE APPNOTE 6.3): deflated entries, one timestamp for every entry,
//! fixed permissions, entries in the order given. Same entries and [`Stamp`] → same bytes, on
//! every platform (the deflate stream comes from `miniz_oxide`, pure Rust, no
//! platform-dependent state).
//!
//! Why not the `zip` crate (named in the design card): the archive must be a pure function of
//! its entries and stamp, and this writer states every byte of it (date, permissions, flags,
//! entry order, store-vs-deflate rule). With the crate, the same bytes depend on defaults we
//! do not pin (its `FileOptions` timestamp defaults to the current time when its `time`
//! feature is on, a feature any other crate in the build can turn on; the deflate backend and
//! default level depend on which features are enabled), and a crate update could change the
//! output that `tests/export.rs` compares. It would also add its reader, ZIP64, encryption and
//! backend-selection code to the playground's wasm module, which only ever writes one small
//! archive; here writing is ~150 lines over `miniz_oxide`, which deflate needs anyway.
//!
//! Why a real timestamp, not 1980: `unzip` gives extracted files the entry's time, and cargo
//! decides what to rebuild by comparing file times with its last build. A project unzipped over
//! an earlier export with 1980 times looked older than that build, so `cargo build` kept the
//! old model's firmware. The export time (or `SOURCE_DATE_EPOCH`, for reproducible archives)
//! makes the new files newer than any earlier build.

/// When the entries were written: the seconds since 1970 (UTC) that the extended-timestamp
/// field carries (what Info-ZIP `unzip` and libarchive restore), and the same instant as local
/// wall-clock time in the DOS date/time fields (what other tools restore).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    unix: u32,
    dos_date: u16,
    dos_time: u16,
}

/// Unix seconds of 1980-01-01 00:00:00 UTC, the earliest DOS date.
const DOS_EPOCH: i64 = 315_532_800;
/// Unix seconds of 2107-12-31 23:59:58 UTC, the latest DOS date (the u32 time field ends
/// in 2106, earlier; [`Stamp::new`] clamps to both).
const DOS_END: i64 = 4_354_819_198;

impl Stamp {
    /// 1980-01-01 00:00:00 UTC: for tests and archives that must not depend on the clock.
    pub const FIXED: Stamp = Stamp {
        unix: DOS_EPOCH as u32,
        dos_date: (1 << 5) | 1,
        dos_time: 0,
    };

    /// `unix` seconds since 1970 (UTC), shown in the DOS fields at `utc_offset_s` seconds east
    /// of UTC (the local zone; 0 for UTC). Clamped to 1980..=2106, the range both fields hold.
    pub fn new(unix: i64, utc_offset_s: i32) -> Stamp {
        let unix = unix.clamp(DOS_EPOCH, i64::from(u32::MAX));
        let local = (unix + i64::from(utc_offset_s)).clamp(DOS_EPOCH, DOS_END);
        let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        // Clamped above: 1980 <= y <= 2107, so y - 1980 fits DOS's 7 bits; secs < 86,400.
        let dos_date = (((y - 1980) as u16) << 9) | ((m as u16) << 5) | d as u16;
        let dos_time = (((secs / 3600) as u16) << 11)
            | (((secs / 60 % 60) as u16) << 5)
            | (secs % 60 / 2) as u16;
        Stamp {
            unix: unix as u32,
            dos_date,
            dos_time,
        }
    }

    /// Seconds since 1970 (UTC).
    pub fn unix(self) -> u32 {
        self.unix
    }
}

/// (year, month 1..=12, day 1..=31) of `days` since 1970-01-01 in the proleptic Gregorian
/// calendar (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Extended timestamp extra field (Info-ZIP "UT", 0x5455): flags = mtime present, then mtime.
const EXTRA_UT: u16 = 0x5455;
const EXTRA_UT_LEN: u16 = 5;
/// "Version made by": 3 = UNIX (so the external attributes carry permissions), spec 2.0.
const MADE_BY: u16 = (3 << 8) | 20;
/// Version needed to extract: 2.0 (deflate).
const NEEDED: u16 = 20;
/// General purpose flag bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORE: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
/// Deflate level: 9 (best); the stream is a pure function of the input at a given level.
const LEVEL: u8 = 9;

/// One file to store.
pub struct Entry<'a> {
    /// Path inside the archive, `/`-separated, no leading `/`.
    pub name: &'a str,
    /// Contents.
    pub data: &'a [u8],
    /// Unix mode bits (0o644 or 0o755).
    pub mode: u32,
}

/// Why a ZIP could not be written (the classic format's 32-bit limits).
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

/// Writes a complete archive of `entries` (in this order), every entry dated `stamp`.
pub fn write(entries: &[Entry<'_>], stamp: Stamp) -> Result<Vec<u8>, TooLarge> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let count = u16::try_from(entries.len()).map_err(|_| TooLarge)?;
    for e in entries {
        let crc = crc32(e.data);
        let deflated = miniz_oxide::deflate::compress_to_vec(e.data, LEVEL);
        // Store instead when deflate does not help (tiny or incompressible files).
        let (method, body) = if deflated.len() < e.data.len() {
            (METHOD_DEFLATE, &deflated[..])
        } else {
            (METHOD_STORE, e.data)
        };
        let name = e.name.as_bytes();
        let name_len = u16::try_from(name.len()).map_err(|_| TooLarge)?;
        let size = u32::try_from(e.data.len()).map_err(|_| TooLarge)?;
        let csize = u32::try_from(body.len()).map_err(|_| TooLarge)?;
        let offset = u32::try_from(out.len()).map_err(|_| TooLarge)?;

        // Local file header.
        put32(&mut out, 0x0403_4b50);
        put_entry_fields(&mut out, method, crc, [csize, size], name_len, stamp);
        out.extend_from_slice(name);
        put_ut(&mut out, stamp);
        out.extend_from_slice(body);

        // Central directory record.
        put32(&mut central, 0x0201_4b50);
        put16(&mut central, MADE_BY);
        put_entry_fields(&mut central, method, crc, [csize, size], name_len, stamp);
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk number start
        put16(&mut central, 0); // internal attributes
                                // External attributes: Unix mode (regular file) in the high 16 bits.
        put32(&mut central, (0o100_000 | (e.mode & 0o777)) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name);
        put_ut(&mut central, stamp);
    }
    let cd_offset = u32::try_from(out.len()).map_err(|_| TooLarge)?;
    let cd_size = u32::try_from(central.len()).map_err(|_| TooLarge)?;
    out.extend_from_slice(&central);
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk with the central directory
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0); // comment length
    Ok(out)
}

/// The run both an entry's local header and its central directory record carry (APPNOTE
/// 4.3.7 / 4.3.12, from "version needed to extract" through "extra field length"): the fixed
/// version and flags, the stamp's DOS time and date, then the entry's method, CRC, compressed
/// and uncompressed `sizes`, name length; the extra field is the stamp's ([`put_ut`]).
fn put_entry_fields(
    v: &mut Vec<u8>,
    method: u16,
    crc: u32,
    sizes: [u32; 2],
    name_len: u16,
    stamp: Stamp,
) {
    put16(v, NEEDED);
    put16(v, FLAG_UTF8);
    put16(v, method);
    put16(v, stamp.dos_time);
    put16(v, stamp.dos_date);
    put32(v, crc);
    put32(v, sizes[0]);
    put32(v, sizes[1]);
    put16(v, name_len);
    put16(v, 4 + EXTRA_UT_LEN);
}

/// The extended timestamp field: the same 9 bytes in the local header and the central record
/// (the central copy may carry only the mtime, which is all there is).
fn put_ut(v: &mut Vec<u8>, stamp: Stamp) {
    put16(v, EXTRA_UT);
    put16(v, EXTRA_UT_LEN);
    v.push(1); // flags: modification time present
    put32(v, stamp.unix);
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as ZIP requires: the engine's, which
/// the model slot's header uses too.
pub use mote_engine::slot::crc32;

/// Reads back the (name, contents) of every entry of an archive this module wrote: for tests
/// and for the exporter's own self-check. `None` on anything it did not write.
pub fn read(zip: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let le16 = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes(zip.get(at..at + 2)?.try_into().ok()?))
    };
    let le32 = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(zip.get(at..at + 4)?.try_into().ok()?))
    };
    let eocd = zip.len().checked_sub(22)?;
    if le32(eocd)? != 0x0605_4b50 {
        return None;
    }
    let count = usize::from(le16(eocd + 10)?);
    let mut at = usize::try_from(le32(eocd + 16)?).ok()?;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        if le32(at)? != 0x0201_4b50 {
            return None;
        }
        let method = le16(at + 10)?;
        let crc = le32(at + 16)?;
        let csize = usize::try_from(le32(at + 20)?).ok()?;
        let size = usize::try_from(le32(at + 24)?).ok()?;
        let name_len = usize::from(le16(at + 28)?);
        let extra = usize::from(le16(at + 30)?);
        let comment = usize::from(le16(at + 32)?);
        let local = usize::try_from(le32(at + 42)?).ok()?;
        let name = String::from_utf8(zip.get(at + 46..at + 46 + name_len)?.to_vec()).ok()?;
        let local_name = usize::from(le16(local + 26)?);
        let local_extra = usize::from(le16(local + 28)?);
        let start = local + 30 + local_name + local_extra;
        let body = zip.get(start..start + csize)?;
        let data = match method {
            METHOD_STORE => body.to_vec(),
            METHOD_DEFLATE => miniz_oxide::inflate::decompress_to_vec(body).ok()?,
            _ => return None,
        };
        if data.len() != size || crc32(&data) != crc {
            return None;
        }
        files.push((name, data));
        at += 46 + name_len + extra + comment;
    }
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_determinism() {
        let big = b"abcabcabc".repeat(100);
        let entries = [
            Entry {
                name: "a/b.txt",
                data: &big,
                mode: 0o644,
            },
            Entry {
                name: "x",
                data: b"\x00\x01",
                mode: 0o755,
            },
            Entry {
                name: "empty",
                data: b"",
                mode: 0o644,
            },
        ];
        let z = write(&entries, Stamp::FIXED).unwrap();
        assert_eq!(z, write(&entries, Stamp::FIXED).unwrap());
        let back = read(&z).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0], ("a/b.txt".to_string(), big.clone()));
        assert_eq!(back[1], ("x".to_string(), vec![0, 1]));
        assert_eq!(back[2], ("empty".to_string(), vec![]));
        assert!(z.len() < big.len());
    }

    /// DOS fields: (date, time) of a few instants, checked against Python's
    /// `zipfile.ZipInfo(date_time=...)` packing (year-1980 << 9 | month << 5 | day;
    /// hour << 11 | minute << 5 | second / 2).
    #[test]
    fn stamps_pack_dos_fields() {
        let dos = |s: Stamp| (s.dos_date, s.dos_time);
        assert_eq!(Stamp::new(DOS_EPOCH, 0), Stamp::FIXED);
        // 2026-12-08 00:41:21 UTC.
        let t = 1_796_690_481;
        assert_eq!(
            dos(Stamp::new(t, 0)),
            ((46 << 9) | (12 << 5) | 8, (41 << 5) | 10)
        );
        // The same instant at UTC-5 is 19:41:21 the day before; the UT field is unchanged.
        let west = Stamp::new(t, -5 * 3600);
        assert_eq!(
            dos(west),
            ((46 << 9) | (12 << 5) | 7, (19 << 11) | (41 << 5) | 10)
        );
        assert_eq!(west.unix(), 1_796_690_481);
        // 2000-02-29 (a leap day) 23:59:59.
        assert_eq!(
            dos(Stamp::new(951_868_799, 0)),
            ((20 << 9) | (2 << 5) | 29, (23 << 11) | (59 << 5) | 29)
        );
        // Before 1980 and past 2106: clamped, never wrapped.
        assert_eq!(Stamp::new(-1, 0), Stamp::FIXED);
        assert_eq!(Stamp::new(i64::MAX, 0).unix(), u32::MAX);
        assert_eq!(Stamp::new(0, i32::MIN), Stamp::FIXED);
    }

    #[test]
    fn every_entry_carries_the_stamp() {
        let stamp = Stamp::new(1_796_690_481, 3600);
        let z = write(
            &[
                Entry {
                    name: "a",
                    data: b"1",
                    mode: 0o644,
                },
                Entry {
                    name: "b",
                    data: b"2",
                    mode: 0o644,
                },
            ],
            stamp,
        )
        .unwrap();
        let ut = [0x55, 0x54, 5, 0, 1, 0x31, 0x52, 0x17, 0x6b];
        assert_eq!(
            u32::from_le_bytes([ut[5], ut[6], ut[7], ut[8]]),
            stamp.unix()
        );
        // Two local headers and two central records.
        assert_eq!(z.windows(ut.len()).filter(|w| *w == ut).count(), 4);
        assert_eq!(read(&z).unwrap().len(), 2);
    }
}
